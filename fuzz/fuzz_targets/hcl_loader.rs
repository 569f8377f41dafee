//! braid's HCL loaders must not panic on any input: the module loader (`.hcl` files of a
//! source) and the project loader (`braid.hcl`), and rendering their diagnostics (carets
//! under arbitrary spans) must not either.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use braid::config::{load_module, load_project};
use braid::diag::{Diagnostics, SourceText};
use braid::view::{Style, diagnostic};
use libfuzzer_sys::fuzz_target;

/// One project directory per fuzzing process; scripts/fuzz.sh points TMPDIR at a directory it
/// removes afterwards, because libFuzzer exits without running destructors.
fn project_dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary directory can be created"))
}

fn render_all(diags: Diagnostics) {
    for d in diags {
        let _ = diagnostic::render(&d, Style { color: true });
        let _ = diagnostic::to_json(&d);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = SourceText::new("main.hcl", text);
    if let Err(diags) = load_module(&[(file, PathBuf::from("/nonexistent-braid-fuzz"))]) {
        render_all(diags);
    }
    let dir = project_dir().path();
    if std::fs::write(dir.join("braid.hcl"), text).is_ok() {
        if let Err(diags) = load_project(dir) {
            render_all(diags);
        }
    }
});
