//! Terraform's numbers through braid's whole evaluator: every expression of
//! `tests/conformance/numbers/expected.json` (made by `terraform console`, see that folder's
//! README) is parsed by braid's HCL parser, evaluated by `braid console`'s evaluator and
//! rendered as the console renders it; the text must be Terraform's exactly, and an
//! expression Terraform refuses must fail, with Terraform's message where braid has one.
//!
//! `crates/functions/tests/number_conformance.rs` checks the number type alone on the same
//! table; this test checks that the parser, the operators, the functions and the rendering
//! keep every digit on the way.

use braid::ops::Console;
use braid::view::terraform_value::render;
use braid::workspace::{LoadOptions, Workspace};

use crate::common::BRAID_HCL;

/// A number literal beyond `f64`'s range (`1e400`): braid's HCL parser (hcl-edit) refuses it
/// as a syntax error, where Terraform reads it exactly. A known difference, documented in
/// docs/configuration.md; `tonumber("1e400")` is the way around it. Literals that are only
/// too small for an `f64` (`1e-400`) are read exactly.
fn has_literal_beyond_f64(expression: &str) -> bool {
    let strings = regex::Regex::new(r#""[^"]*""#).expect("a valid regex");
    let literal = regex::Regex::new(r"[0-9.]+[eE][+-]?[0-9]+").expect("a valid regex");
    literal
        .find_iter(&strings.replace_all(expression, "\"\""))
        .any(|m| m.as_str().parse::<f64>().is_ok_and(f64::is_infinite))
}

/// Cases where braid knowingly differs, with the reason; each must still differ.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "pow(599.60554, 0.85)",
        "a fractional power goes through exp(), which is Rust's (the C library's) in braid and Go's amd64 assembly in Terraform: one unit in the last place apart here",
    ),
    (
        "pow(443.64704, -4.5)",
        "as above: exp() of the fractional part, one unit in the last place",
    ),
];

#[test]
fn numbers_evaluate_as_terraform_console_prints_them() {
    let path = crate::common::manifest_dir().join("tests/conformance/numbers/expected.json");
    let table: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("the number table"))
            .expect("the number table is JSON");
    assert!(table.len() >= 400, "the table has {} cases", table.len());

    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("braid.hcl"), BRAID_HCL).expect("write braid.hcl");
    let ws = Workspace::load(&LoadOptions {
        dir: dir.path().to_path_buf(),
        env: Some("dev".to_string()),
        ..LoadOptions::default()
    })
    .expect("an empty project loads");
    let console = Console::new(&ws, Vec::new());

    let mut failures = Vec::new();
    let mut matched = 0;
    let mut beyond_f64 = 0;
    for case in &table {
        let expression = case["expression"].as_str().expect("an expression");
        let got = console
            .evaluate(expression)
            .map(|v| render(&v.value, 0))
            .map_err(|d| format!("{}: {}", d.summary, d.detail));
        if has_literal_beyond_f64(expression) {
            match &got {
                Err(message) if message.starts_with("Invalid expression") => {
                    beyond_f64 += 1;
                    continue;
                }
                _ => failures.push(format!(
                    "{expression}: a literal beyond f64 was not refused by the parser: {got:?}"
                )),
            }
        }
        let known = KNOWN_DIFFERENCES.iter().any(|(e, _)| *e == expression);
        let verdict = match (case.get("output").and_then(|o| o.as_str()), &got) {
            (Some(want), Ok(text)) if text == want => Ok(()),
            (None, Err(message)) => {
                // Terraform's error reads `Error: SUMMARY DETAIL`; where braid has the same
                // message the detail must be there too.
                // braid fails cleanly where Terraform panics.
                let theirs = case["error"].as_str().unwrap_or_default();
                match theirs.split_once("Error during operation: ") {
                    _ if theirs.contains("panic") => Ok(()),
                    Some((_, detail)) if !message.contains(detail.trim_end_matches('.')) => {
                        Err(format!("fails with another message: {message}"))
                    }
                    _ => Ok(()),
                }
            }
            _ => Err(String::new()),
        };
        match verdict {
            Ok(()) if known => failures.push(format!(
                "{expression} now matches: drop it from KNOWN_DIFFERENCES"
            )),
            Ok(()) => matched += 1,
            Err(_) if known => {}
            Err(why) => failures.push(format!(
                "{expression}\n  terraform: {}\n  braid:     {got:?} {why}",
                case.get("output")
                    .and_then(|o| o.as_str())
                    .map_or_else(|| format!("error {}", case["error"]), str::to_string)
            )),
        }
    }
    for (expression, _) in KNOWN_DIFFERENCES {
        assert!(
            table.iter().any(|c| c["expression"] == *expression),
            "known difference {expression} is not in the table"
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from Terraform:\n{}",
        failures.len(),
        table.len(),
        failures.join("\n")
    );
    assert_eq!(matched + beyond_f64 + KNOWN_DIFFERENCES.len(), table.len());
    // Most of the table must be checked, not skipped.
    assert!(
        beyond_f64 * 10 < table.len(),
        "{beyond_f64} literals beyond f64"
    );
}

const EXACT: &str = r#"
locals {
  third = 1 / 3
}

resource "local_value" "numbers" {
  input = {
    third  = local.third
    big    = 123456789012345678901234567890 + 1
    tenth  = 0.1 + 0.2
    parsed = jsondecode("[0.1000000000000000055511151231257827]")[0]
  }
}

output "third" {
  value = local_value.numbers.output.third
}

output "big" {
  value = local_value.numbers.output.big
}
"#;

/// The same digits after apply, in state, in `braid output`, through a saved plan and on
/// the next plan, which must be empty: a number rounded on the way would plan a change for
/// ever.
#[test]
fn numbers_keep_every_digit_through_state_plans_and_outputs() {
    let project = crate::common::Project::with_main(EXACT);
    project
        .braid(&["--env", "dev", "apply", "--auto-approve"])
        .success();
    // 1/3 at 512 bits, as Terraform prints it (155 digits, the last a 5).
    let third = braid_provider::TfNumber::parse("1")
        .and_then(|one| one.div(&braid_provider::TfNumber::parse("3")?))
        .expect("1/3")
        .to_string();
    assert!(third.starts_with("0.3333") && third.len() > 150, "{third}");
    let big = "123456789012345678901234567891";

    let output = project.braid(&["--env", "dev", "output"]);
    output.success();
    assert!(
        output.stdout.contains(&format!("third = {third}\n")),
        "{}",
        output.stdout
    );
    assert!(
        output.stdout.contains(&format!("big = {big}\n")),
        "{}",
        output.stdout
    );
    // JSON documents carry the digits as JSON numbers.
    let json = project.braid(&["--env", "dev", "--format", "json", "output", "third"]);
    assert_eq!(json.success().stdout.trim(), third);
    let console = project.braid_stdin(
        &["--env", "dev", "--format", "json", "console"],
        "local.third\nlocal_value.numbers.output.big\n",
    );
    console.success();
    assert!(
        console.stdout.contains(&format!("\"value\": {third}")),
        "{}",
        console.stdout
    );
    assert!(
        console.stdout.contains(&format!("\"value\": {big}")),
        "{}",
        console.stdout
    );
    let show = project.braid(&["--env", "dev", "--format", "json", "show"]);
    assert!(show.success().stdout.contains(&third), "{}", show.stdout);
    let pull = project.braid(&["--env", "dev", "state", "pull"]);
    for digits in [
        third.as_str(),
        big,
        "0.3",
        "0.1000000000000000055511151231257827",
    ] {
        assert!(pull.stdout.contains(digits), "state pull lacks {digits}");
    }

    let again = project.braid(&["--env", "dev", "plan", "--detailed-exitcode"]);
    again.expect_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.all());

    // A saved plan that changes one number keeps the others exact on apply.
    project.edit("main.hcl", "0.1 + 0.2", "0.1 + 0.3");
    project
        .braid(&["--env", "dev", "plan", "--out", "tenth.plan"])
        .success();
    project
        .braid(&["--env", "dev", "apply", "tenth.plan"])
        .success();
    let pull = project.braid(&["--env", "dev", "state", "pull"]);
    assert!(pull.stdout.contains(&third), "{}", pull.stdout);
    assert!(pull.stdout.contains("0.4"), "{}", pull.stdout);
    project
        .braid(&["--env", "dev", "plan", "--detailed-exitcode"])
        .expect_code(0);
}

/// `1 / 0` is `+Inf`, which JSON cannot hold: refused at plan where it would be stored, with
/// the place; fine where it is only compared.
#[test]
fn infinite_numbers_are_refused_where_they_would_be_stored() {
    let project = crate::common::Project::with_main(
        r#"
locals {
  limit = 1 / 0
}

resource "local_value" "ok" {
  input = 5 < local.limit
}

resource "local_value" "bad" {
  input = { list = [1, local.limit] }
}

output "worse" {
  value = -1 / 0
}
"#,
    );
    let run = project.braid(&["--env", "dev", "plan"]);
    run.expect_code(1);
    run.assert_no_panic();
    let all = run.all();
    assert!(all.contains("Infinite number"), "{all}");
    assert!(all.contains("The value is +Inf at list[1]"), "{all}");
    assert!(
        all.contains("The value is -Inf (a division by zero?)"),
        "{all}"
    );
    assert!(all.contains("main.hcl:11:"), "{all}");
    assert!(!all.contains("local_value.ok"), "{all}");
}
