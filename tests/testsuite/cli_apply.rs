//! `braid apply` and `braid destroy`: files on disk and state agree with the plan, saved plans
//! apply exactly what was reviewed (and stale ones are refused), lifecycle settings hold, and
//! nothing happens without a confirmation.

use crate::common::{self, Project};
use sha2::{Digest, Sha256};

const SECRET: &str = "tok-SECRET-4f9a2c";
const ALL: [&str; 3] = [
    "local_file.config",
    "local_file.motd",
    "local_value.release",
];

fn quickstart() -> Project {
    Project::fixture("quickstart")
}

fn apply(project: &Project, extra: &[&str]) -> common::Run {
    let mut args = vec!["--env", "dev", "apply", "--auto-approve"];
    args.extend_from_slice(extra);
    project.braid(&args)
}

fn state_json(project: &Project) -> serde_json::Value {
    let run = project.braid(&["--env", "dev", "show", "--format", "json"]);
    run.success();
    run.json()
}

fn resource<'a>(state: &'a serde_json::Value, address: &str) -> &'a serde_json::Value {
    state["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["address"] == address)
        .unwrap_or_else(|| panic!("{address} not in state: {state:#}"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Index of the first line of `text` that contains `needle`.
#[track_caller]
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{text}"))
}

#[test]
fn apply_writes_files_and_state_matches_them() {
    let project = quickstart();
    let run = apply(&project, &[]);
    run.success();
    assert!(
        run.stdout
            .contains("Apply complete! Resources: 3 added, 0 changed, 0 replaced, 0 destroyed.")
    );
    assert!(!run.all().contains(SECRET));
    // Dependency order: the release exists before the motd that embeds its id is written,
    // and the motd before the config that names it.
    assert!(
        line_of(&run.stdout, "local_value.release: Creation complete")
            < line_of(&run.stdout, "local_file.motd: Creating...")
    );
    assert!(
        line_of(&run.stdout, "local_file.motd: Creation complete")
            < line_of(&run.stdout, "local_file.config: Creating...")
    );

    assert_eq!(project.state_list(&["--env", "dev"]), ALL);
    let state = state_json(&project);
    assert_eq!(state["env"], "dev");
    assert_eq!(state["serial"], 3);
    let release_id = resource(&state, "local_value.release")["id"]
        .as_str()
        .expect("release id")
        .to_string();
    assert_eq!(release_id.len(), 36, "a uuid: {release_id}");
    assert!(
        run.stdout
            .contains(&format!("release_id = \"{release_id}\""))
    );

    let motd = project.read("out/dev/motd.txt");
    assert_eq!(
        motd,
        format!("HELLO from checkout (release {release_id})\n")
    );
    let motd_state = resource(&state, "local_file.motd");
    assert_eq!(motd_state["attributes"]["content"], motd.as_str());
    assert_eq!(
        motd_state["attributes"]["content_sha256"],
        sha256_hex(motd.as_bytes())
    );
    assert_eq!(
        motd_state["depends_on"],
        serde_json::json!(["local_value.release"])
    );
    assert_eq!(motd_state["source_file"], "main.hcl:30");

    let config_text = project.read("out/dev/config.json");
    let config: serde_json::Value = serde_json::from_str(&config_text).expect("config is JSON");
    assert_eq!(
        config,
        serde_json::json!({"motd": "out/dev/motd.txt", "replicas": 2, "service": "checkout", "token": SECRET})
    );
    let config_state = resource(&state, "local_file.config");
    assert_eq!(config_state["attributes"]["content"], "(sensitive)");
    assert_eq!(
        config_state["attributes"]["content_sha256"],
        sha256_hex(config_text.as_bytes())
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |rel: &str| {
            std::fs::metadata(project.join(rel))
                .expect("metadata")
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("out/dev/config.json"), 0o600);
        assert_eq!(mode("out/dev/motd.txt"), 0o644);
    }

    // Nothing left to do.
    project
        .braid(&["--env", "dev", "plan", "--detailed-exitcode"])
        .expect_code(0);
    let again = apply(&project, &[]);
    again.success();
    assert!(
        again
            .stdout
            .contains("No changes. Environment dev matches the configuration.")
    );
    assert_eq!(
        state_json(&project)["serial"],
        3,
        "a no-op apply writes nothing"
    );
}

#[test]
fn apply_with_parallelism_1_runs_in_dependency_order() {
    let project = quickstart();
    let run = apply(&project, &["--parallelism", "1"]);
    run.success();
    let apply_part = &run.stdout[run
        .stdout
        .find("local_value.release: Creating")
        .expect("apply lines")..];
    common::insta_settings().bind(|| {
        insta::assert_snapshot!("apply_parallelism_1", project.normalize(apply_part));
    });
    assert_eq!(project.state_list(&["--env", "dev"]), ALL);
}

#[test]
fn apply_json_report() {
    let project = quickstart();
    let run = project.braid(&[
        "--env",
        "dev",
        "apply",
        "--auto-approve",
        "--format",
        "json",
    ]);
    run.success();
    let report = run.json();
    assert_eq!(report["succeeded"], true);
    assert_eq!(report["summary"]["create"], 3);
    assert_eq!(report["summary"]["failed"], 0);
    assert_eq!(report["operation"], "apply");
    assert_eq!(report["env"], "dev");
    assert!(report["apply_id"].as_i64().is_some(), "{report:#}");
    let mut applied: Vec<_> = report["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|r| {
            assert_eq!(r["outcome"], "applied", "{r}");
            assert_eq!(r["action"], "create", "{r}");
            r["address"].as_str().expect("address").to_string()
        })
        .collect();
    applied.sort();
    assert_eq!(applied, ALL);
    assert_eq!(report["outputs"]["motd_file"]["value"], "out/dev/motd.txt");

    // Nothing to do: still one complete document, every change a no-op, outputs included.
    let again = project.braid(&[
        "--env",
        "dev",
        "apply",
        "--auto-approve",
        "--format",
        "json",
    ]);
    again.success();
    let report = again.json();
    assert_eq!(report["succeeded"], true);
    assert_eq!(report["apply_id"], serde_json::Value::Null);
    assert_eq!(report["summary"]["create"], 0);
    assert_eq!(report["summary"]["failed"], 0);
    let changes = report["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), ALL.len(), "{report:#}");
    for change in changes {
        assert_eq!(change["action"], "no-op", "{change}");
        assert_eq!(change["outcome"], "no-op", "{change}");
    }
    assert_eq!(report["outputs"]["motd_file"]["value"], "out/dev/motd.txt");
}

#[test]
fn saved_plan_applies_exactly_that_plan() {
    let project = quickstart();
    apply(&project, &[]).success();
    project
        .braid(&[
            "--env",
            "dev",
            "plan",
            "--var",
            "replicas=5",
            "--out",
            "p.json",
        ])
        .success();
    // A saved plan was reviewed already: no --auto-approve and no terminal needed.
    let run = project.braid(&["--env", "dev", "apply", "p.json", "--var", "replicas=5"]);
    run.success();
    assert!(
        run.stdout
            .contains("Apply complete! Resources: 0 added, 2 changed, 0 replaced, 0 destroyed.")
    );
    assert!(
        run.stdout
            .contains("local_value.release: Modifications complete")
    );
    assert!(
        run.stdout
            .contains("local_file.config: Modifications complete")
    );
    assert!(!run.stdout.contains("local_file.motd:"), "motd was a no-op");
    let config: serde_json::Value =
        serde_json::from_str(&project.read("out/dev/config.json")).expect("JSON");
    assert_eq!(config["replicas"], 5);
    project
        .braid(&[
            "--env",
            "dev",
            "plan",
            "--var",
            "replicas=5",
            "--detailed-exitcode",
        ])
        .expect_code(0);
    // Applying it a second time: state moved on, so it is stale now.
    let again = project.braid(&["--env", "dev", "apply", "p.json", "--var", "replicas=5"]);
    again.failure();
    assert!(
        again.stderr.contains("Saved plan is stale"),
        "{}",
        again.stderr
    );
}

#[test]
fn saved_first_plan_creates_everything() {
    let project = quickstart();
    project
        .braid(&["--env", "dev", "plan", "--out", "p.json"])
        .success();
    assert!(!project.exists("out"), "planning wrote files");
    let run = project.braid(&["--env", "dev", "apply", "p.json"]);
    run.success();
    assert_eq!(project.state_list(&["--env", "dev"]), ALL);
    assert!(project.exists("out/dev/motd.txt"));
    assert!(project.exists("out/dev/config.json"));
}

#[test]
fn stale_plan_refused_when_state_changed() {
    let project = quickstart();
    apply(&project, &[]).success();
    project
        .braid(&[
            "--env",
            "dev",
            "plan",
            "--var",
            "replicas=5",
            "--out",
            "a.json",
        ])
        .success();
    // Something else is applied in between.
    apply(&project, &["--var", "replicas=6"]).success();
    let before = project.read("out/dev/config.json");

    let run = project.braid(&["--env", "dev", "apply", "a.json", "--var", "replicas=5"]);
    run.failure();
    assert!(
        run.stderr.contains("error: Saved plan is stale"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("State changed since the plan was made (serial 3 then, 5 now)."),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Run braid plan again"),
        "{}",
        run.stderr
    );
    assert_eq!(
        project.read("out/dev/config.json"),
        before,
        "nothing applied"
    );
    assert_eq!(state_json(&project)["serial"], 5);
}

#[test]
fn stale_plan_refused_when_a_source_file_changed() {
    let project = quickstart();
    project
        .braid(&["--env", "dev", "plan", "--out", "a.json"])
        .success();
    // Even a comment counts: what was reviewed is not what is configured now.
    let main = project.read("main.hcl");
    project.write("main.hcl", &format!("{main}\n# edited after planning\n"));
    let run = project.braid(&["--env", "dev", "apply", "a.json"]);
    run.failure();
    assert!(
        run.stderr.contains("error: Saved plan is stale"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("The files of source \"infra\" changed since the plan was made."),
        "{}",
        run.stderr
    );
    assert!(!project.exists("out"), "nothing applied");
    assert!(project.state_list(&["--env", "dev"]).is_empty());
}

#[test]
fn stale_plan_refused_when_a_variable_differs() {
    let project = quickstart();
    project
        .braid(&[
            "--env",
            "dev",
            "plan",
            "--var",
            "replicas=5",
            "--out",
            "a.json",
        ])
        .success();
    let run = project.braid(&["--env", "dev", "apply", "a.json", "--var", "replicas=6"]);
    run.failure();
    assert!(
        run.stderr
            .contains("The value of variable \"replicas\" is not the one the plan was made with."),
        "{}",
        run.stderr
    );
    // A sensitive variable is compared by digest, and still named without its value.
    let run = project.braid_env(
        &["--env", "dev", "apply", "a.json", "--var", "replicas=5"],
        &[("BRAID_VAR_api_token", "another-token")],
    );
    run.failure();
    assert!(
        run.stderr
            .contains("The value of variable \"api_token\" is not the one the plan was made with."),
        "{}",
        run.stderr
    );
    assert!(!run.all().contains("another-token"));
    assert!(!project.exists("out"));
}

#[test]
fn stale_plan_refused_when_state_was_recreated() {
    let project = quickstart();
    project
        .braid(&["--env", "dev", "plan", "--out", "a.json"])
        .success();
    std::fs::remove_dir_all(project.join(".braid")).expect("remove state");
    let run = project.braid(&["--env", "dev", "apply", "a.json"]);
    run.failure();
    assert!(
        run.stderr.contains("error: Saved plan is stale"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("The plan was made against state lineage"),
        "{}",
        run.stderr
    );
    assert!(!project.exists("out"));
}

#[test]
fn saved_plan_for_another_environment_is_refused() {
    let project = quickstart();
    project
        .braid(&["--env", "dev", "plan", "--out", "a.json"])
        .success();
    let run = project.braid(&["--env", "staging", "apply", "a.json"]);
    run.failure();
    assert!(
        run.stderr
            .contains("error: Plan is for another environment"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Pass --env dev"), "{}", run.stderr);
    assert!(!project.exists("out"));
}

#[test]
fn saved_plan_refused_when_a_file_it_reads_changed() {
    let project = Project::with_files(&[
        ("braid.hcl", common::BRAID_HCL),
        (
            "main.hcl",
            "resource \"local_file\" \"copy\" {\n  filename = \"out/copy.txt\"\n  content  = file(\"data.txt\")\n}\n",
        ),
        ("data.txt", "reviewed\n"),
    ]);
    project.braid(&["plan", "--out", "p.json"]).success();
    project.write("data.txt", "not reviewed\n");
    let run = project.braid(&["apply", "p.json"]);
    run.failure();
    assert!(
        run.all().contains("Plan no longer matches"),
        "stdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    assert!(
        !project.exists("out/copy.txt"),
        "the unreviewed content was written"
    );
}

#[test]
fn damaged_or_foreign_plan_files_are_refused() {
    let project = quickstart();
    project.write("bad.json", "{ not json");
    let run = project.braid(&["--env", "dev", "apply", "bad.json"]);
    run.failure();
    assert!(
        run.stderr.contains("error: Invalid plan file"),
        "{}",
        run.stderr
    );
    project.write("v9.json", "{\"format_version\": \"9.0\"}");
    let run = project.braid(&["--env", "dev", "apply", "v9.json"]);
    run.failure();
    assert!(
        run.stderr.contains("error: Unsupported plan format"),
        "{}",
        run.stderr
    );
    let run = project.braid(&["--env", "dev", "apply", "missing.json"]);
    run.failure();
    assert!(
        run.stderr.contains("error: Cannot read plan file"),
        "{}",
        run.stderr
    );
    assert!(!project.exists("out"));
}

#[test]
fn replace_ends_with_the_new_file_only() {
    let project = quickstart();
    apply(&project, &[]).success();
    project.edit("main.hcl", "motd.txt", "motd-v2.txt");
    let run = apply(&project, &[]);
    run.success();
    assert!(
        run.stdout
            .contains("Apply complete! Resources: 0 added, 1 changed, 1 replaced, 0 destroyed.")
    );
    assert!(!project.exists("out/dev/motd.txt"), "old file left behind");
    assert!(
        project
            .read("out/dev/motd-v2.txt")
            .starts_with("HELLO from checkout")
    );
    let config: serde_json::Value =
        serde_json::from_str(&project.read("out/dev/config.json")).expect("JSON");
    assert_eq!(config["motd"], "out/dev/motd-v2.txt");
    let state = state_json(&project);
    assert_eq!(
        resource(&state, "local_file.motd")["attributes"]["filename"],
        "out/dev/motd-v2.txt"
    );
    project
        .braid(&["--env", "dev", "plan", "--detailed-exitcode"])
        .expect_code(0);
}

const LIFECYCLE_HCL: &str = r#"resource "local_file" "cbd" {
  filename = "out/cbd-v1.txt"
  content  = "made first\n"

  lifecycle {
    create_before_destroy = true
  }
}

resource "local_file" "ignored" {
  filename = "out/ignored.txt"
  content  = "ignored v1\n"

  lifecycle {
    ignore_changes = [content]
  }
}
"#;

#[test]
fn create_before_destroy_replace_ends_with_the_new_file() {
    let project = Project::with_main(LIFECYCLE_HCL);
    project.braid(&["apply", "--auto-approve"]).success();
    project.edit("main.hcl", "cbd-v1.txt", "cbd-v2.txt");
    let plan = project.braid(&["plan"]);
    plan.success();
    assert!(plan.stdout.contains(
        "# local_file.cbd must be replaced (new one created first) (filename forces replacement)"
    ));
    assert!(
        plan.stdout
            .contains("+/- resource \"local_file\" \"cbd\" {")
    );
    let json = {
        let run = project.braid(&["plan", "--format", "json"]);
        run.success();
        run.json()
    };
    let cbd = common::change(&json, "local_file.cbd");
    assert_eq!(cbd["action"], "replace");
    assert_eq!(cbd["create_before_destroy"], true);

    let run = project.braid(&["apply", "--auto-approve"]);
    run.success();
    assert!(run.stdout.contains("local_file.cbd: Replacement complete"));
    assert!(!project.exists("out/cbd-v1.txt"));
    assert_eq!(project.read("out/cbd-v2.txt"), "made first\n");
    assert_eq!(
        project.state_list(&[]),
        ["local_file.cbd", "local_file.ignored"]
    );
    project
        .braid(&["plan", "--detailed-exitcode"])
        .expect_code(0);
}

#[test]
fn ignore_changes_keeps_an_edited_config_from_updating() {
    let project = Project::with_main(LIFECYCLE_HCL);
    project.braid(&["apply", "--auto-approve"]).success();
    project.edit("main.hcl", "ignored v1", "ignored v2");
    let run = project.braid(&["plan", "--detailed-exitcode"]);
    run.expect_code(0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);
    project.braid(&["apply", "--auto-approve"]).success();
    assert_eq!(project.read("out/ignored.txt"), "ignored v1\n");
}

const PREVENT_DESTROY_HCL: &str = r#"resource "local_file" "keep" {
  filename = "out/keep.txt"
  content  = "precious\n"

  lifecycle {
    prevent_destroy = true
  }
}
"#;

#[track_caller]
fn assert_prevent_destroy(run: &common::Run, what: &str) {
    run.failure();
    assert!(
        run.stderr.contains("error: Instance cannot be destroyed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "local_file.keep has lifecycle.prevent_destroy set, but the plan would {what} it."
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--> main.hcl:1:1 (local_file.keep)"),
        "{}",
        run.stderr
    );
}

#[test]
fn prevent_destroy_refuses_destroy_at_plan_time() {
    let project = Project::with_main(PREVENT_DESTROY_HCL);
    project.braid(&["apply", "--auto-approve"]).success();
    assert_prevent_destroy(&project.braid(&["plan", "--destroy"]), "destroy");
    assert_prevent_destroy(&project.braid(&["destroy", "--auto-approve"]), "destroy");
    assert_eq!(project.read("out/keep.txt"), "precious\n");
    assert_eq!(project.state_list(&[]), ["local_file.keep"]);
}

#[test]
fn prevent_destroy_refuses_replace_at_plan_time() {
    let project = Project::with_main(PREVENT_DESTROY_HCL);
    project.braid(&["apply", "--auto-approve"]).success();
    project.edit("main.hcl", "keep.txt", "moved.txt");
    assert_prevent_destroy(&project.braid(&["plan"]), "replace");
    assert_prevent_destroy(&project.braid(&["apply", "--auto-approve"]), "replace");
    assert_eq!(project.read("out/keep.txt"), "precious\n");
    assert!(!project.exists("out/moved.txt"));
}

#[test]
fn prevent_destroy_allows_in_place_updates() {
    let project = Project::with_main(PREVENT_DESTROY_HCL);
    project.braid(&["apply", "--auto-approve"]).success();
    project.edit("main.hcl", "precious", "still precious");
    project.braid(&["apply", "--auto-approve"]).success();
    assert_eq!(project.read("out/keep.txt"), "still precious\n");
}

#[test]
fn destroy_removes_files_and_empties_state() {
    let project = quickstart();
    apply(&project, &[]).success();
    let run = project.braid(&["--env", "dev", "destroy", "--auto-approve"]);
    run.success();
    assert!(!run.all().contains(SECRET));
    assert!(run.stdout.contains("# local_file.config will be destroyed"));
    assert!(
        run.stdout
            .contains("Apply complete! Resources: 0 added, 0 changed, 0 replaced, 3 destroyed.")
    );
    // Reverse dependency order: the config that names the motd goes first.
    assert!(
        line_of(&run.stdout, "local_file.config: Destruction complete")
            < line_of(&run.stdout, "local_file.motd: Destroying...")
    );
    assert!(
        line_of(&run.stdout, "local_file.motd: Destruction complete")
            < line_of(&run.stdout, "local_value.release: Destroying...")
    );
    assert!(!project.exists("out/dev/motd.txt"));
    assert!(!project.exists("out/dev/config.json"));
    assert!(project.state_list(&["--env", "dev"]).is_empty());
    let show = project.braid(&["--env", "dev", "show"]);
    show.success();
    assert_eq!(
        show.stdout,
        "The state of environment \"dev\" is empty. Run braid apply to create resources.\n"
    );
    // Destroying nothing is fine.
    project
        .braid(&["--env", "dev", "destroy", "--auto-approve"])
        .success();
}

#[test]
fn apply_without_a_terminal_needs_auto_approve() {
    let project = quickstart();
    let run = project.braid(&["--env", "dev", "apply"]);
    run.failure();
    assert!(
        run.stderr.contains("error: Confirmation needed"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Pass --auto-approve"), "{}", run.stderr);
    assert!(!project.exists("out"), "apply went ahead without a yes");
    assert!(project.state_list(&["--env", "dev"]).is_empty());
}

#[test]
fn destroy_without_a_terminal_needs_auto_approve() {
    let project = quickstart();
    apply(&project, &[]).success();
    let run = project.braid(&["--env", "dev", "destroy"]);
    run.failure();
    assert!(
        run.stderr.contains("error: Confirmation needed"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Pass --auto-approve"), "{}", run.stderr);
    assert!(project.exists("out/dev/motd.txt"));
    assert_eq!(project.state_list(&["--env", "dev"]), ALL);
}

#[test]
fn apply_without_changes_needs_no_confirmation() {
    let project = quickstart();
    apply(&project, &[]).success();
    let run = project.braid(&["--env", "dev", "apply"]);
    run.success();
    assert!(run.stdout.contains("No changes."));
}

/// A resource that left the configuration and whose object is gone (an apply killed between
/// deleting it and recording that) leaves state at the next apply, as Terraform's refresh
/// would drop it: it must not stay in state for ever.
#[test]
fn an_undeclared_resource_whose_object_is_gone_leaves_state() {
    let project = Project::with_main(
        "resource \"local_file\" \"a\" {\n  filename = \"out/a.txt\"\n  content  = \"a\"\n}\n\nresource \"local_file\" \"b\" {\n  filename = \"out/b.txt\"\n  content  = \"b\"\n}\n",
    );
    project.braid(&["apply", "--auto-approve"]).success();
    project.write(
        "main.hcl",
        "resource \"local_file\" \"a\" {\n  filename = \"out/a.txt\"\n  content  = \"a\"\n}\n",
    );
    std::fs::remove_file(project.join("out/b.txt")).expect("remove b");
    let run = project.braid(&["apply", "--auto-approve"]);
    run.success();
    assert_eq!(project.state_list(&[]), ["local_file.a"], "{}", run.all());
    let run = project.braid(&["plan", "--detailed-exitcode"]);
    run.expect_code(0);
    assert!(!run.stdout.contains("local_file.b"), "{}", run.stdout);
}
