//! Test helpers: an in-memory source and a compact view of rendered documents.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{Files, RenderedDocument};

/// A source held in memory: file path → contents.
pub(crate) struct MemoryFiles(BTreeMap<String, String>);

impl Files for MemoryFiles {
    fn read(&self, path: &str) -> Option<&str> {
        self.0.get(path).map(String::as_str)
    }

    fn list(&self, dir: &str) -> Vec<String> {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let children: BTreeSet<String> = self
            .0
            .keys()
            .filter_map(|path| path.strip_prefix(&prefix))
            .map(|rest| {
                let child = rest.split('/').next().unwrap_or(rest);
                format!("{prefix}{child}")
            })
            .collect();
        children.into_iter().collect()
    }

    fn is_dir(&self, path: &str) -> bool {
        path.is_empty()
            || self
                .0
                .keys()
                .any(|file| file.starts_with(&format!("{path}/")))
    }
}

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
    let source = files(&[("a/b.yaml", ""), ("a/c/d.yaml", ""), ("e.yaml", "")]);
    assert_eq!(source.list(""), ["a", "e.yaml"]);
    assert_eq!(source.list("a"), ["a/b.yaml", "a/c"]);
    assert!(source.is_dir("a/c"));
    assert!(!source.is_dir("a/b.yaml"));
}
