//! A source held in memory, for callers that have read its files already (tests, fuzzing,
//! conformance suites).

use std::collections::{BTreeMap, BTreeSet};

use super::Files;

/// A source held in memory: '/'-separated path relative to the source root → contents.
#[derive(Debug, Clone, Default)]
pub struct MemoryFiles(pub BTreeMap<String, String>);

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
