//! `braid output`, `braid fmt` and `braid console`: the real binary against real SQLite
//! state, and `braid fmt` against the conformance fixtures `terraform fmt` produced.

use braid_state::{SqliteStore, StateStore};

use crate::common::Project;

const MAIN: &str = r#"
variable "name" {
  default = "shop"
}

variable "password" {
  default   = "hunter2-SECRET"
  sensitive = true
}

locals {
  tags = { team = "core", env = env.name }
}

resource "local_value" "bucket" {
  input = { name = "${var.name}-assets", tags = local.tags }
}

output "bucket_name" {
  value = local_value.bucket.output.name
}

output "tags" {
  value = local.tags
}

output "count" {
  value = 3
}

output "password" {
  value     = var.password
  sensitive = true
}
"#;

fn applied() -> Project {
    let project = Project::with_main(MAIN);
    project
        .braid(&["--env", "dev", "apply", "--auto-approve"])
        .success();
    project
}

async fn stored_outputs(project: &Project) -> Vec<braid_state::OutputRecord> {
    let store = SqliteStore::open(&project.join(".braid/state/dev.db")).expect("open state");
    store.outputs().await.expect("outputs")
}

#[tokio::test]
async fn apply_keeps_outputs_in_state_and_output_lists_them_masked() {
    let project = applied();
    let names: Vec<_> = stored_outputs(&project)
        .await
        .into_iter()
        .map(|o| (o.name, o.sensitive))
        .collect();
    assert_eq!(
        names,
        [
            ("bucket_name".to_string(), false),
            ("count".to_string(), false),
            ("password".to_string(), true),
            ("tags".to_string(), false),
        ]
    );
    let run = project.braid(&["--env", "dev", "output"]);
    run.success();
    assert_eq!(
        run.stdout,
        "bucket_name = \"shop-assets\"\ncount = 3\npassword = <sensitive>\ntags = {\n  \"env\" = \"dev\"\n  \"team\" = \"core\"\n}\n"
    );
    assert!(!run.all().contains("hunter2"), "{}", run.all());
}

#[test]
fn output_name_prints_one_value_and_raw_prints_it_bare() {
    let project = applied();
    let run = project.braid(&["--env", "dev", "output", "bucket_name"]);
    run.success();
    assert_eq!(run.stdout, "\"shop-assets\"\n");
    let raw = project.braid(&["--env", "dev", "output", "--raw", "bucket_name"]);
    raw.success();
    assert_eq!(raw.stdout, "shop-assets");
    let raw_number = project.braid(&["--env", "dev", "output", "--raw", "count"]);
    raw_number.success();
    assert_eq!(raw_number.stdout, "3");
    let raw_map = project.braid(&["--env", "dev", "output", "--raw", "tags"]);
    raw_map.failure();
    assert!(
        raw_map.stderr.contains("Unsupported value for raw output"),
        "{}",
        raw_map.stderr
    );
}

#[test]
fn sensitive_outputs_need_show_sensitive() {
    let project = applied();
    for args in [
        &["--env", "dev", "output", "password"][..],
        &["--env", "dev", "output", "--raw", "password"][..],
    ] {
        let run = project.braid(args);
        run.failure();
        assert!(run.stderr.contains("Output is sensitive"), "{}", run.stderr);
        assert!(run.stderr.contains("--show-sensitive"), "{}", run.stderr);
        assert!(!run.all().contains("hunter2"), "{}", run.all());
    }
    let json = project.braid(&["--env", "dev", "output", "--format", "json"]);
    json.success();
    assert_eq!(json.json()["password"]["value"], "(sensitive)");
    assert!(!json.all().contains("hunter2"));
    let shown = project.braid(&[
        "--env",
        "dev",
        "output",
        "--raw",
        "--show-sensitive",
        "password",
    ]);
    shown.success();
    assert_eq!(shown.stdout, "hunter2-SECRET");
}

#[test]
fn output_json_follows_terraform_output_json() {
    let project = applied();
    let run = project.braid(&["--env", "dev", "output", "--format", "json"]);
    run.success();
    assert_eq!(
        run.json(),
        serde_json::json!({
            "bucket_name": {"sensitive": false, "type": "string", "value": "shop-assets"},
            "count": {"sensitive": false, "type": "number", "value": 3},
            "password": {"sensitive": true, "type": "string", "value": "(sensitive)"},
            "tags": {
                "sensitive": false,
                "type": ["object", {"env": "string", "team": "string"}],
                "value": {"env": "dev", "team": "core"}
            },
        })
    );
    let one = project.braid(&["--env", "dev", "output", "--format", "json", "tags"]);
    one.success();
    assert_eq!(
        one.json(),
        serde_json::json!({"env": "dev", "team": "core"})
    );
}

#[test]
fn an_unknown_output_name_suggests_the_closest() {
    let project = applied();
    let run = project.braid(&["--env", "dev", "output", "bucket_nme"]);
    run.failure();
    assert!(run.stderr.contains("Output not found"), "{}", run.stderr);
    assert!(
        run.stderr.contains("Did you mean \"bucket_name\"?"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn removed_outputs_disappear_and_destroy_clears_them() {
    let project = applied();
    project.edit(
        "main.hcl",
        "output \"count\" {\n  value = 3\n}\n",
        "output \"added\" {\n  value = \"new\"\n}\n",
    );
    // Nothing to change in resources: the outputs are kept all the same.
    project
        .braid(&["--env", "dev", "apply", "--auto-approve"])
        .success();
    let names: Vec<_> = stored_outputs(&project)
        .await
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["added", "bucket_name", "password", "tags"]);
    project
        .braid(&["--env", "dev", "destroy", "--auto-approve"])
        .success();
    assert!(stored_outputs(&project).await.is_empty());
    let run = project.braid(&["--env", "dev", "output"]);
    run.success();
    assert_eq!(run.stdout, "");
    assert!(run.stderr.contains("No outputs found"), "{}", run.stderr);
    let json = project.braid(&["--env", "dev", "output", "--format", "json"]);
    json.success();
    assert_eq!(json.json(), serde_json::json!({}));
}

/// An apply that fails keeps the outputs of the last one that succeeded, and `braid
/// output` reads them from state although the configuration no longer loads.
#[test]
fn a_failed_apply_keeps_the_previous_outputs_readable_with_broken_config() {
    let project = applied();
    project.edit("main.hcl", "value = 3", "value = local_value.nope.id");
    project
        .braid(&["--env", "dev", "apply", "--auto-approve"])
        .failure();
    project.braid(&["--env", "dev", "validate"]).failure();
    let run = project.braid(&["--env", "dev", "output", "count"]);
    run.success();
    assert_eq!(run.stdout, "3\n");
}

#[test]
fn console_evaluates_lines_against_variables_locals_and_state() {
    let project = applied();
    let run = project.braid_stdin(
        &["--env", "dev", "console"],
        "var.name\nlocal.tags\nlocal_value.bucket.output.name\n[1, \"a\"]\n3/2\nvar.password\n\nexit\nvar.name\n",
    );
    run.success();
    assert_eq!(
        run.stdout,
        "\"shop\"\n{\n  \"env\" = \"dev\"\n  \"team\" = \"core\"\n}\n\"shop-assets\"\n[\n  1,\n  \"a\",\n]\n1.5\n(sensitive value)\n"
    );
    assert!(!run.all().contains("hunter2"));
}

#[test]
fn console_reports_errors_and_goes_on_then_exits_1() {
    let project = applied();
    let run = project.braid_stdin(&["--env", "dev", "console"], "var.nope\n1 +\nvar.name\n");
    run.failure();
    assert_eq!(run.stdout, "\"shop\"\n");
    assert!(run.stderr.contains("<console-input>:1:"), "{}", run.stderr);
    assert!(run.stderr.contains("Invalid expression"), "{}", run.stderr);
}

#[test]
fn console_json_is_one_document_of_results() {
    let project = applied();
    let run = project.braid_stdin(
        &["--env", "dev", "--format", "json", "console"],
        "var.name\nvar.password\nvar.nope\n",
    );
    run.failure();
    let doc = run.json();
    assert_eq!(doc["env"], "dev");
    let results = doc["results"].as_array().expect("results");
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["value"], "shop");
    assert_eq!(results[0]["type"], "string");
    assert_eq!(results[1]["value"], "(sensitive)");
    assert_eq!(results[1]["sensitive"], true);
    assert_eq!(results[2]["error"]["severity"], "error");
    assert!(!run.all().contains("hunter2"));
}

/// The fixtures of tests/conformance/fmt: `input/` as written, `expected/` as `terraform
/// fmt` left them (scripts/conformance-fmt.sh).
fn conformance_dir() -> std::path::PathBuf {
    crate::common::manifest_dir().join("tests/conformance/fmt")
}

#[test]
fn fmt_matches_terraform_fmt_on_every_fixture() {
    let inputs = conformance_dir().join("input");
    let mut names: Vec<String> = std::fs::read_dir(&inputs)
        .expect("fixtures")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    let project = Project::with_files(&[]);
    for name in &names {
        let input = std::fs::read_to_string(inputs.join(name)).expect("input");
        project.write(name, &input);
    }
    let run = project.braid(&["fmt"]);
    run.success();
    let mut mismatches = Vec::new();
    for name in &names {
        let expected = std::fs::read_to_string(conformance_dir().join("expected").join(name))
            .expect("expected output; run scripts/conformance-fmt.sh");
        let got = project.read(name);
        if got != expected {
            mismatches.push(format!(
                "{name}:\n{}",
                similar::TextDiff::from_lines(&expected, &got)
                    .unified_diff()
                    .header("terraform fmt", "braid fmt")
            ));
        }
        let unchanged = std::fs::read_to_string(inputs.join(name)).expect("input") == expected;
        assert_eq!(
            run.stdout.lines().any(|l| l == name),
            !unchanged,
            "{name} is listed exactly when it changed:\n{}",
            run.stdout
        );
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // Formatting formatted files changes nothing.
    let again = project.braid(&["fmt", "--check"]);
    again.success();
    assert_eq!(again.stdout, "");
}

#[test]
fn fmt_check_lists_unformatted_files_exits_3_and_writes_nothing() {
    let project = Project::with_files(&[
        ("main.tf", "a=1\n"),
        ("ok.tf", "b = 2\n"),
        ("sub/deep.hcl", "c=3\n"),
        ("notes.txt", "d=4\n"),
    ]);
    let run = project.braid(&["fmt", "--check"]);
    run.expect_code(3);
    assert_eq!(run.stdout, "main.tf\n");
    assert_eq!(project.read("main.tf"), "a=1\n");
    let diff = project.braid(&["fmt", "--check", "--diff", "--recursive"]);
    diff.expect_code(3);
    assert!(diff.stdout.contains("-a=1\n+a = 1\n"), "{}", diff.stdout);
    assert!(diff.stdout.contains("sub/deep.hcl\n"), "{}", diff.stdout);
    assert_eq!(project.read("sub/deep.hcl"), "c=3\n");
    let json = project.braid(&["fmt", "--recursive", "--format", "json"]);
    json.success();
    assert_eq!(
        json.json(),
        serde_json::json!({
            "check": false,
            "checked": ["main.tf", "ok.tf", "sub/deep.hcl"],
            "changed": ["main.tf", "sub/deep.hcl"],
        })
    );
    assert_eq!(project.read("sub/deep.hcl"), "c = 3\n");
    assert_eq!(project.read("notes.txt"), "d=4\n");
}

#[test]
fn fmt_reports_a_syntax_error_at_its_place_and_leaves_the_file() {
    let broken = "variable \"x\" {\n  default = \n}\n";
    let project = Project::with_files(&[("bad.tf", broken), ("good.tf", "a=1\n")]);
    let run = project.braid(&["fmt"]);
    run.failure();
    assert!(run.stderr.contains("Invalid HCL syntax"), "{}", run.stderr);
    assert!(run.stderr.contains("bad.tf:2:13"), "{}", run.stderr);
    assert_eq!(project.read("bad.tf"), broken);
    assert_eq!(
        project.read("good.tf"),
        "a = 1\n",
        "other files are formatted"
    );
    let missing = project.braid(&["fmt", "nope.tf"]);
    missing.failure();
    assert!(
        missing.stderr.contains("nope.tf does not exist"),
        "{}",
        missing.stderr
    );
}
