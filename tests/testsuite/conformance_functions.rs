//! braid's functions against Terraform's: every expression of
//! `tests/conformance/functions/cases.hcl` must plan to the value Terraform 1.11 computed for
//! it (`expected.json`), and every expression of `failing.hcl` must fail, as it does in
//! Terraform. `scripts/conformance-functions.sh` regenerates the expected values with real
//! `terraform`; this test needs none.
//!
//! `known-differences.json` lists the cases where braid deliberately or knowingly differs,
//! with the reason; each is asserted to still differ, so the list stays honest:
//! `"braid": "differs"` cases plan to another value, `"braid": "fails"` cases are refused.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value as Json;

use crate::common::{BRAID_HCL, Project, copy_dir};

fn suite() -> PathBuf {
    crate::common::manifest_dir().join("tests/conformance/functions")
}

fn read(name: &str) -> String {
    let path = suite().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The top-level blocks of a case file, each as written: one line, or several when the
/// first line does not end with `}` (heredocs, variables), up to a line that is `}`.
fn blocks(file: &str) -> Vec<String> {
    let text = read(file);
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut block = line.to_string();
        if !line.ends_with('}') {
            for next in lines.by_ref() {
                block.push('\n');
                block.push_str(next);
                if next == "}" {
                    break;
                }
            }
        }
        blocks.push(block);
    }
    blocks
}

/// The `output "NAME" { ... }` blocks of a case file, by name.
fn outputs(file: &str) -> BTreeMap<String, String> {
    blocks(file)
        .into_iter()
        .filter(|block| block.starts_with("output \""))
        .map(|block| {
            let name = block
                .trim_start_matches("output \"")
                .split('"')
                .next()
                .unwrap_or_default()
                .to_string();
            (name, block)
        })
        .collect()
}

/// A project whose main.hcl holds `cases` after the variables and locals of `cases.hcl`
/// (which every case may read), with the suite's data files next to it.
fn project(cases: &[&String]) -> Project {
    let preamble = blocks("cases.hcl")
        .into_iter()
        .filter(|block| !block.starts_with("output \""));
    let main: String = preamble
        .chain(cases.iter().map(|case| case.to_string()))
        .map(|block| format!("{block}\n"))
        .collect();
    let project = Project::with_files(&[("braid.hcl", BRAID_HCL), ("main.hcl", &main)]);
    copy_dir(&suite().join("files"), &project.join("files"));
    project
}

#[derive(serde::Deserialize)]
struct KnownDifference {
    braid: String,
    reason: String,
}

fn known_differences() -> BTreeMap<String, KnownDifference> {
    serde_json::from_str(&read("known-differences.json")).expect("known-differences.json")
}

/// JSON equality where numbers compare by value (`1` and `1.0` are equal).
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, a)| y.get(k).is_some_and(|b| same(a, b)))
        }
        _ => a == b,
    }
}

#[test]
fn every_function_has_cases() {
    let cases = read("cases.hcl");
    let missing: Vec<&&str> = braid_functions::names()
        .iter()
        .chain(braid_functions::EVALUATOR_FUNCTIONS)
        .filter(|name| !cases.contains(&format!("{name}(")))
        .collect();
    assert!(
        missing.is_empty(),
        "functions without a conformance case: {missing:?}"
    );
}

#[test]
fn values_match_terraform() {
    let cases = outputs("cases.hcl");
    let expected: BTreeMap<String, Json> =
        serde_json::from_str(&read("expected.json")).expect("expected.json");
    let known = known_differences();
    assert_eq!(
        cases.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "cases.hcl and expected.json name different outputs: run scripts/conformance-functions.sh"
    );
    let refused = |name: &String| known.get(name).is_some_and(|k| k.braid == "fails");
    let batch: Vec<&String> = cases
        .iter()
        .filter(|(name, _)| !refused(name))
        .map(|(_, line)| line)
        .collect();
    let run = project(&batch).braid(&["plan", "--format", "json"]);
    run.success();
    let plan = run.json();
    let mut mismatches = Vec::new();
    let mut passing = 0;
    for (name, want) in &expected {
        if refused(name) {
            continue;
        }
        let got = &plan["outputs"][name];
        let matches = if want.get("unknown") == Some(&Json::Bool(true)) {
            got["unknown"] == Json::Bool(true)
        } else {
            got["unknown"] == Json::Bool(false) && same(&got["value"], &want["value"])
        };
        match (known.get(name), matches) {
            (Some(k), true) => mismatches.push(format!(
                "{name} is listed in known-differences.json ({}) but now matches Terraform: \
                 remove it",
                k.reason
            )),
            (None, false) => mismatches.push(format!(
                "{name}: braid planned {got}, Terraform {want}\n  {}",
                cases[name]
            )),
            (None, true) => passing += 1,
            (Some(_), false) => {}
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ from Terraform:\n{}",
        mismatches.len(),
        expected.len(),
        mismatches.join("\n")
    );
    // Every case is accounted for: it matches, or it is a listed difference.
    assert_eq!(passing + known.len(), expected.len());
}

/// Runs each case alone (in parallel), returning the names braid did not reject properly.
fn failures_of(lines: Vec<(String, String)>) -> Vec<String> {
    let chunks: Vec<Vec<(String, String)>> = lines.chunks(8).map(<[_]>::to_vec).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || {
                    let mut wrong = Vec::new();
                    for (name, line) in chunk {
                        let run = project(&[&line]).braid(&["plan", "--format", "json"]);
                        let panicked = run.all().contains("panicked");
                        if run.code != 1 || panicked || !run.stderr.contains("rror") {
                            wrong.push(format!(
                                "{name}: exit code {}, expected 1 with a diagnostic\n{}",
                                run.code,
                                run.all()
                            ));
                        }
                    }
                    wrong
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("case thread"))
            .collect()
    })
}

#[test]
fn failures_match_terraform() {
    let cases: Vec<(String, String)> = outputs("failing.hcl").into_iter().collect();
    let count = cases.len();
    let wrong = failures_of(cases);
    assert!(
        wrong.is_empty(),
        "{} of {count} expressions Terraform rejects were not rejected:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn known_refusals_still_fail() {
    let cases = outputs("cases.hcl");
    let refused: Vec<(String, String)> = known_differences()
        .into_iter()
        .filter(|(_, k)| k.braid == "fails")
        .map(|(name, _)| {
            let line = cases.get(&name).cloned().unwrap_or_else(|| {
                panic!("known-differences.json names {name}, which cases.hcl does not have")
            });
            (name, line)
        })
        .collect();
    let wrong = failures_of(refused);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
