//! Test helpers: an in-memory source and a compact view of rendered documents.

use serde_json::Value;

use super::{MemoryFiles, RenderedDocument};

pub(crate) fn files(entries: &[(&str, &str)]) -> MemoryFiles {
    MemoryFiles(
        entries
            .iter()
            .map(|(path, text)| (path.to_string(), text.to_string()))
            .collect(),
    )
}

/// (origin, line, object) of every rendered document.
pub(crate) fn rendered(documents: &[RenderedDocument]) -> Vec<(String, usize, Value)> {
    documents
        .iter()
        .map(|document| {
            (
                document.origin.clone(),
                document.line,
                document.document.clone(),
            )
        })
        .collect()
}

/// Only the objects.
pub(crate) fn objects(documents: &[RenderedDocument]) -> Vec<Value> {
    documents
        .iter()
        .map(|document| document.document.clone())
        .collect()
}

#[test]
fn memory_files_list_direct_children() {
    use super::Files as _;
    let source = files(&[("a/b.yaml", ""), ("a/c/d.yaml", ""), ("e.yaml", "")]);
    assert_eq!(source.list(""), ["a", "e.yaml"]);
    assert_eq!(source.list("a"), ["a/b.yaml", "a/c"]);
    assert!(source.is_dir("a/c"));
    assert!(!source.is_dir("a/b.yaml"));
}
