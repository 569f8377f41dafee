//! Helm rendering must not panic, overflow its stack or run without end on any chart: the
//! input is a small file tree (see common/files.rs) whose first file is
//! `templates/main.yaml`; a `Chart.yaml` is added when the input has none. The render runs
//! as braid runs it — on a thread with a deep stack — with a lower step budget so every
//! input stays quick; values files and every file as YAML are parsed too.

#![no_main]

use std::collections::BTreeMap;

use braid_helm::{Capabilities, Chart, Release, render, values_file};
use libfuzzer_sys::fuzz_target;

#[path = "../common/files.rs"]
mod files;

const CHART_YAML: &str = "apiVersion: v2\nname: fuzz\nversion: 0.1.0\n";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut tree: BTreeMap<String, Vec<u8>> = files::split_files(text, "templates/main.yaml")
        .into_iter()
        .map(|(path, body)| (path, body.into_bytes()))
        .collect();
    tree.entry("Chart.yaml".to_string())
        .or_insert_with(|| CHART_YAML.as_bytes().to_vec());
    std::thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(move || {
            braid_helm::template::exec::with_step_budget(200_000, || {
                for body in tree.values() {
                    let _ = values_file(&String::from_utf8_lossy(body));
                }
                let Ok(chart) = Chart::load(&tree, "fuzz") else {
                    return;
                };
                let release = Release {
                    name: "fuzz".to_string(),
                    namespace: "default".to_string(),
                    revision: 1,
                    is_upgrade: false,
                };
                if let Ok(rendered) = render(
                    &chart,
                    &braid_helm::value::Map::new(),
                    &release,
                    &Capabilities::default(),
                ) {
                    for manifest in rendered.manifests {
                        let _ = braid_kustomize::parse_documents(&manifest.source, &manifest.content);
                    }
                }
            });
        })
        .expect("start the render thread")
        .join()
        .expect("the render thread panicked");
});
