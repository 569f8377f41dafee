//! braid's manifest loader must not panic on any source: YAML files and kustomizations are
//! rendered (overlay `dev`), CRD scopes collected and every document turned into a resource,
//! and the diagnostics rendered. The input is a small file tree (see common/files.rs).

#![no_main]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use braid::diag::{Diagnostics, SourceText};
use braid::manifests::{crd_scopes, manifest_resources, source_documents};
use braid::view::{Style, diagnostic};
use libfuzzer_sys::fuzz_target;

#[path = "../common/files.rs"]
mod files;

fn render_all(diags: Diagnostics) {
    for d in diags {
        let _ = diagnostic::render(&d, Style { color: false });
        let _ = diagnostic::to_json(&d);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let sources: BTreeMap<String, Arc<SourceText>> = files::split_files(text, "objects.yaml")
        .into_iter()
        .map(|(path, body)| {
            let shown = format!("apps:{path}");
            (path, SourceText::new(shown, body))
        })
        .collect();
    let docs = match source_documents("apps", &sources, &BTreeMap::new(), None, Some("dev")) {
        Ok(docs) => docs,
        Err(diags) => return render_all(diags),
    };
    let scopes = crd_scopes(&docs);
    if let Err(diags) = manifest_resources(
        docs,
        &scopes,
        "default",
        Path::new("/nonexistent-braid-fuzz"),
    ) {
        render_all(diags);
    }
});
