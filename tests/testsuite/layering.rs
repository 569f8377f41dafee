//! The engine's modules are layered (docs/architecture.md): a module imports only from
//! the layers below it. This test reads every source file of `src/` and fails on an import
//! that points up, so the layering cannot erode unnoticed.

use std::path::Path;

/// Lowest first. Modules on the same line may not import each other either.
const LAYERS: &[&[&str]] = &[
    &["diag", "actor", "private_files", "parallel"],
    &["state_guard"],
    &["config"],
    &["source"],
    &["manifests"],
    &["graph", "providers", "eval"],
    &["workspace"],
    &["plan"],
    &["apply"],
    &["ops"],
    &["agent"],
    &["view"],
    &["cli"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_imports_from_a_layer_above_it() {
    let src = crate::common::manifest_dir().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    let mut checked = 0;
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|c| c.trim_end_matches(".rs"))
            .unwrap_or_default();
        let Some(own) = layer(top) else {
            continue; // lib.rs, main.rs, bin/
        };
        checked += 1;
        let text = std::fs::read_to_string(file).expect("read source");
        for (n, line) in text.lines().enumerate() {
            let mut rest = line;
            while let Some(at) = rest.find("crate::") {
                rest = &rest[at + "crate::".len()..];
                let module: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if module.is_empty() {
                    violations.push(format!(
                        "{}:{}: `crate::{{...}}` imports cannot be checked; name one module per use",
                        rel.display(),
                        n + 1
                    ));
                    continue;
                }
                if module == top {
                    continue;
                }
                match layer(&module) {
                    Some(theirs) if theirs < own => {}
                    Some(_) => violations.push(format!(
                        "{}:{}: {top} imports crate::{module}, which is not below it",
                        rel.display(),
                        n + 1
                    )),
                    None => violations.push(format!(
                        "{}:{}: crate::{module} is in no layer; add it to LAYERS in tests/testsuite/layering.rs and docs/architecture.md",
                        rel.display(),
                        n + 1
                    )),
                }
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} files checked: is src/ where it should be?"
    );
    assert!(
        violations.is_empty(),
        "layering violations:\n{}",
        violations.join("\n")
    );
}
