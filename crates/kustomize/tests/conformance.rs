//! Kustomize conformance: every case of `tests/conformance/kustomize/cases` rendered by braid's
//! renderer and compared with what `kubectl kustomize` (Kustomize v5) made of it
//! (`expected.yaml`, or `expected-error.txt` when Kustomize refuses the case; regenerate with
//! `scripts/regen-kustomize-conformance.sh`). kubectl is not needed to run this test.
//!
//! Objects are compared as a set: Kustomize sorts its output, braid keeps the order objects
//! were listed in (its graph orders them). A case Kustomize refuses must be refused.
//!
//! Cases braid does not match yet are listed in `known-differences.txt` (`case: why`). The
//! test fails when a case outside the list differs, and when a listed case matches — then
//! take it off the list — so the list is always exactly what is left to do.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use braid_kustomize::MemoryFiles;
use serde_json::Value;

fn corpus() -> PathBuf {
    manifest_dir().join("../../tests/conformance/kustomize")
}

/// One case's files, in memory, by '/'-separated path relative to the case directory.
fn load_case(dir: &Path) -> MemoryFiles {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(root, &path, out);
                continue;
            }
            let relative = path
                .strip_prefix(root)
                .expect("below the case")
                .to_string_lossy()
                .replace('\\', "/");
            if matches!(
                relative.as_str(),
                "expected.yaml" | "expected-error.txt" | "BUILD"
            ) {
                continue;
            }
            // Binary files (a generator's `files:`) are read as lossy text.
            let bytes = std::fs::read(&path).expect("read a case file");
            out.insert(relative, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    MemoryFiles(files)
}

/// JSON text with object keys sorted, so equal objects print alike whatever their key order.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical(v)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => {
            format!(
                "[{}]",
                items.iter().map(canonical).collect::<Vec<_>>().join(",")
            )
        }
        other => other.to_string(),
    }
}

/// The objects of a multi-document YAML stream, canonical and sorted.
fn objects_of(yaml: &str) -> Vec<String> {
    let mut out = Vec::new();
    for document in serde_yaml_ng::Deserializer::from_str(yaml) {
        let value = <Value as serde::Deserialize>::deserialize(document)
            .unwrap_or_else(|e| panic!("expected.yaml is not YAML: {e}"));
        if !value.is_null() {
            out.push(canonical(&value));
        }
    }
    out.sort();
    out
}

enum Outcome {
    Match,
    Differs(String),
}

fn run_case(dir: &Path) -> Outcome {
    let files = load_case(dir);
    let build = std::fs::read_to_string(dir.join("BUILD"))
        .map(|b| b.trim().trim_end_matches('/').to_owned())
        .unwrap_or_default();
    let rendered = braid_kustomize::render(&files, &build);
    let expected_error = std::fs::read_to_string(dir.join("expected-error.txt")).ok();
    match (rendered, expected_error) {
        (Err(_), Some(_)) => Outcome::Match,
        (Ok(documents), Some(error)) => Outcome::Differs(format!(
            "kubectl refuses ({}), braid renders {} objects",
            error.lines().next().unwrap_or_default(),
            documents.len()
        )),
        (Err(e), None) => Outcome::Differs(format!("braid refuses: {e}")),
        (Ok(documents), None) => {
            let expected = std::fs::read_to_string(dir.join("expected.yaml"))
                .unwrap_or_else(|e| panic!("{}: no expected.yaml ({e})", dir.display()));
            let expected = objects_of(&expected);
            let mut ours: Vec<String> = documents.iter().map(|d| canonical(&d.document)).collect();
            ours.sort();
            if ours == expected {
                return Outcome::Match;
            }
            let missing: Vec<&String> = expected.iter().filter(|e| !ours.contains(e)).collect();
            let extra: Vec<&String> = ours.iter().filter(|o| !expected.contains(o)).collect();
            Outcome::Differs(format!(
                "kubectl's objects braid lacks: {missing:#?}\nbraid's objects kubectl lacks: {extra:#?}"
            ))
        }
    }
}

#[test]
fn kustomize_cases_render_as_kubectl_kustomize_renders_them() {
    let root = corpus();
    let known: BTreeMap<String, String> =
        std::fs::read_to_string(root.join("known-differences.txt"))
            .unwrap_or_default()
            .lines()
            .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
            .map(|line| {
                let (case, why) = line.split_once(':').unwrap_or((line, ""));
                (case.trim().to_owned(), why.trim().to_owned())
            })
            .collect();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root.join("cases"))
        .expect("tests/conformance/kustomize/cases")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 20, "the corpus has {} cases", cases.len());
    let mut failures = Vec::new();
    let mut matched = 0;
    for case in &cases {
        let name = case
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        match (run_case(case), known.get(&name)) {
            (Outcome::Match, None) => matched += 1,
            (Outcome::Match, Some(_)) => failures.push(format!(
                "{name} now renders as kubectl does: take it off known-differences.txt"
            )),
            (Outcome::Differs(_), Some(_)) => {}
            (Outcome::Differs(why), None) => failures.push(format!("{name}: {why}")),
        }
    }
    for name in known.keys() {
        if !cases.iter().any(|c| c.ends_with(name)) {
            failures.push(format!(
                "known-differences.txt names {name}, which is not a case"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{matched} of {} Kustomize cases render as kubectl kustomize renders them; {} known differences; these do not hold:\n\n{}",
        cases.len(),
        known.len(),
        failures.join("\n\n")
    );
    // Every case is accounted for: matched, or listed as a known difference.
    assert_eq!(matched + known.len(), cases.len());
}

/// The crate's directory as cargo gives it when it runs the test (not as compiled in: a
/// target directory shared by two checkouts may hold a binary built in the other one).
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
