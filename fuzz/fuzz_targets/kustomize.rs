//! The Kustomize renderer must not panic on any kustomization: the input is a small file tree
//! (see common/files.rs) whose first file is the root `kustomization.yaml`; every file is also
//! parsed as plain YAML documents.

#![no_main]

use braid_kustomize::{MemoryFiles, parse_documents, render};
use libfuzzer_sys::fuzz_target;

#[path = "../common/files.rs"]
mod files;

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
