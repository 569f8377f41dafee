//! The Helm conformance corpus (tests/conformance/helm): every case rendered here must give,
//! byte for byte, what Helm v4's own library gave (`expected.yaml`, `expected-notes.txt`,
//! `expected-crds.yaml`), or fail with Helm's message (`expected-error.txt`). Cases that do
//! not match yet are listed, with the reason, in `known-differences.txt`; the list must be
//! exact (a listed case that now matches fails too, so the list only shrinks).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use braid_helm::value::{Map, Value};
use braid_helm::{Capabilities, Chart, Release};

fn corpus() -> PathBuf {
    manifest_dir().join("../../tests/conformance/helm")
}

fn json_to_value(json: &serde_json::Value) -> Value {
    Value::from_json(json)
}

/// The oracle hands user values to Helm through Python's JSON, which reads Go's `-0` as the
/// integer 0: do the same to braid's copy, so the comparison sees what Helm saw.
fn as_oracle_passed(value: &Value) -> Value {
    match value {
        Value::Float(f) if *f == 0.0 => Value::Float(0.0),
        Value::List(items) => Value::list(items.iter().map(as_oracle_passed).collect()),
        Value::Map(m) => Value::map(
            m.borrow()
                .iter()
                .map(|(k, v)| (k.clone(), as_oracle_passed(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// What braid renders for a case: the `helm template` text, notes, CRDs, or the error.
struct Outcome {
    files: BTreeMap<&'static str, String>,
}

fn render_case(dir: &Path) -> Outcome {
    let case: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).expect("case.json"))
            .expect("case.json is JSON");
    let mut files = BTreeMap::new();
    let result = (|| -> Result<braid_helm::Rendered, String> {
        let chart_dir = dir.join(case["chart"].as_str().expect("chart"));
        let chart = Chart::load_dir(&chart_dir).map_err(|e| e.to_string())?;
        let mut values = Map::new();
        for file in case["values"].as_array().cloned().unwrap_or_default() {
            let name = file.as_str().expect("a values file name");
            let text = std::fs::read_to_string(dir.join(name)).expect("values file");
            let parsed = braid_helm::values_file(&text)
                .map_err(|e| format!("failed to parse {name}: {e}"))?;
            braid_helm::merge_maps(&mut values, parsed);
        }
        if let Some(set) = case.get("set")
            && let Value::Map(m) = json_to_value(set)
        {
            let m = m.borrow().clone();
            braid_helm::merge_maps(&mut values, m);
        }
        let Value::Map(values) = as_oracle_passed(&Value::map(values)) else {
            unreachable!("a map")
        };
        let values = values.borrow().clone();
        let mut capabilities = Capabilities::default();
        if let Some(v) = case.get("kubeVersion").and_then(|v| v.as_str()) {
            capabilities.kube_version = v.to_string();
        }
        for extra in case
            .get("apiVersions")
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default()
        {
            capabilities
                .api_versions
                .push(extra.as_str().unwrap_or_default().to_string());
        }
        let release = Release {
            name: case["release"].as_str().expect("release").to_string(),
            namespace: case["namespace"].as_str().expect("namespace").to_string(),
            revision: 1,
            is_upgrade: false,
        };
        braid_helm::render(&chart, &values, &release, &capabilities).map_err(|e| e.to_string())
    })();
    match result {
        Err(message) => {
            files.insert("expected-error.txt", format!("{message}\n"));
        }
        Ok(rendered) => {
            let mut manifest = String::new();
            for m in &rendered.manifests {
                manifest.push_str(&format!("---\n# Source: {}\n{}\n", m.source, m.content));
            }
            let mut text = format!("{}\n", manifest.trim());
            for h in &rendered.hooks {
                text.push_str(&format!(
                    "---\n# Source: {}\n{}\n",
                    h.manifest.source, h.manifest.content
                ));
            }
            files.insert("expected.yaml", text);
            if let Some(notes) = rendered.notes {
                files.insert("expected-notes.txt", notes);
            }
            if !rendered.crds.is_empty() {
                let crds: String = rendered
                    .crds
                    .iter()
                    .map(|(path, text)| format!("---\n# Source: {path}\n{text}\n"))
                    .collect();
                files.insert("expected-crds.yaml", crds);
            }
        }
    }
    Outcome { files }
}

/// The first line where two texts differ, for the report.
fn first_difference(want: &str, got: &str) -> String {
    for (i, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        if w != g {
            return format!("line {}: want {w:?}\n                 got  {g:?}", i + 1);
        }
    }
    format!(
        "lengths differ: want {} lines, got {}",
        want.lines().count(),
        got.lines().count()
    )
}

#[test]
fn every_case_renders_as_helm_renders_it() {
    let root = corpus();
    let known: BTreeMap<String, String> =
        std::fs::read_to_string(root.join("known-differences.txt"))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| match l.split_once(' ') {
                Some((case, why)) => (case.to_string(), why.trim().to_string()),
                None => (l.to_string(), String::new()),
            })
            .collect();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root.join("cases"))
        .expect("the corpus")
        .map(|e| e.expect("entry").path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 60, "the corpus holds {} cases", cases.len());
    let mut report = Vec::new();
    let mut matching = 0;
    for dir in &cases {
        let name = dir
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        let outcome = render_case(dir);
        let mut problems = Vec::new();
        for expected in [
            "expected.yaml",
            "expected-notes.txt",
            "expected-crds.yaml",
            "expected-error.txt",
        ] {
            let want = std::fs::read_to_string(dir.join(expected)).ok();
            let got = outcome.files.get(expected).cloned();
            match (want, got) {
                (None, None) => {}
                (Some(w), Some(g)) if w == g => {}
                (Some(w), Some(g)) => {
                    problems.push(format!("{expected}: {}", first_difference(&w, &g)))
                }
                (Some(_), None) => problems.push(format!(
                    "{expected}: not produced; braid gave {:?}",
                    outcome
                        .files
                        .get("expected-error.txt")
                        .map(|s| s.trim())
                        .unwrap_or("something else")
                )),
                (None, Some(g)) => problems.push(format!(
                    "{expected}: produced but Helm gave none: {}",
                    g.lines().next().unwrap_or("")
                )),
            }
        }
        match (problems.is_empty(), known.contains_key(&name)) {
            (true, false) => matching += 1,
            (true, true) => report.push(format!(
                "{name}: matches now; remove it from known-differences.txt"
            )),
            (false, true) => {}
            (false, false) => report.push(format!("{name}:\n  {}", problems.join("\n  "))),
        }
    }
    for listed in known.keys() {
        if !cases.iter().any(|c| {
            c.file_name()
                .is_some_and(|n| n.to_string_lossy() == *listed)
        }) {
            report.push(format!(
                "{listed}: listed in known-differences.txt but no such case"
            ));
        }
    }
    assert!(
        report.is_empty(),
        "{matching} of {} cases match Helm; these do not:\n{}",
        cases.len(),
        report.join("\n")
    );
}

/// The crate's directory as cargo gives it when it runs the test (not as compiled in: a
/// target directory shared by two checkouts may hold a binary built in the other one).
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
