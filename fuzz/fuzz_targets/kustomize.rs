//! The Kustomize renderer must not panic on any kustomization: the input is a small file tree
//! (see common/files.rs) whose first file is the root `kustomization.yaml`; every file is also
//! parsed as plain YAML documents.

#![no_main]

use std::collections::BTreeMap;

use braid_kustomize::{Files, parse_documents, render};
use libfuzzer_sys::fuzz_target;

#[path = "../common/files.rs"]
mod files;

struct MemoryFiles(BTreeMap<String, String>);

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
        let mut out: Vec<String> = self
            .0
            .keys()
            .filter_map(|path| {
                let rest = path.strip_prefix(&prefix)?;
                let child = rest.split('/').next().unwrap_or(rest);
                Some(format!("{prefix}{child}"))
            })
            .collect();
        out.dedup();
        out
    }

    fn is_dir(&self, path: &str) -> bool {
        let prefix = format!("{path}/");
        self.0.keys().any(|k| k.starts_with(&prefix))
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let files = MemoryFiles(files::split_files(text, "kustomization.yaml"));
    for (path, body) in &files.0 {
        let _ = parse_documents(path, body);
    }
    if let Ok(docs) = render(&files, "") {
        for doc in docs {
            let _ = (doc.origin, doc.line, doc.document.to_string());
        }
    }
});
