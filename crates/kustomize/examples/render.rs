//! Renders a kustomization directory with braid's renderer and prints the objects as a YAML
//! stream, for comparing with `kubectl kustomize DIR` by hand or in a sweep script:
//!
//! ```sh
//! cargo run -p braid-kustomize --example render -- DIR
//! ```
//!
//! Every file below the current directory is read (so bases outside DIR but below the
//! current directory resolve); DIR is relative to the current directory. On failure the
//! error goes to stderr and the exit code is 1.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line tool: its output is what it prints"
)]

use std::collections::BTreeMap;
use std::path::Path;

use braid_kustomize::MemoryFiles;

fn load(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with('.') && name != "." {
            continue;
        }
        if path.is_dir() {
            load(root, &path, out)?;
        } else if let Ok(bytes) = std::fs::read(&path) {
            let relative = path
                .strip_prefix(root)
                .expect("below the root")
                .to_string_lossy()
                .replace('\\', "/");
            out.insert(relative, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    Ok(())
}

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: render DIR");
        std::process::exit(2);
    };
    let mut files = BTreeMap::new();
    if let Err(e) = load(Path::new("."), Path::new("."), &mut files) {
        eprintln!("reading the files: {e}");
        std::process::exit(1);
    }
    let files: BTreeMap<String, String> = files
        .into_iter()
        .map(|(k, v)| (k.trim_start_matches("./").to_owned(), v))
        .collect();
    let dir = dir.trim_start_matches("./").trim_end_matches('/');
    let dir = if dir == "." { "" } else { dir };
    match braid_kustomize::render(&MemoryFiles(files), dir) {
        Ok(documents) => {
            for d in documents {
                println!("---");
                print!(
                    "{}",
                    serde_yaml_ng::to_string(&d.document).expect("an object prints as YAML")
                );
            }
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
