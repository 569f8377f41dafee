//! The audit-log and state-editing commands: history, history show, drift, state mv and
//! state import, each against the quickstart fixture with real files and SQLite state.

use crate::common::{self, Project};

fn applied_quickstart() -> Project {
    let project = Project::fixture("quickstart");
    project
        .braid(&["--env", "dev", "apply", "--auto-approve"])
        .success();
    project
}

#[test]
fn history_lists_every_apply_with_actor_sources_counts_and_outcome() {
    let project = applied_quickstart();
    project
        .braid(&[
            "--env",
            "dev",
            "--var",
            "replicas=4",
            "apply",
            "--auto-approve",
        ])
        .success();
    let run = project.braid(&["--env", "dev", "history"]);
    run.success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "two applies, newest first: {}", run.stdout);
    assert!(lines[0].starts_with("#2 "), "{}", lines[0]);
    assert!(lines[1].starts_with("#1 "), "{}", lines[1]);
    assert!(lines[1].contains("test-actor"));
    assert!(lines[1].contains("infra sha256:"));
    assert!(lines[1].contains("+3 ~0 ±0 -0"), "{}", lines[1]);
    assert!(lines[0].contains("+0 ~"), "{}", lines[0]);
    assert!(lines.iter().all(|l| l.ends_with("succeeded")));

    let json = project.braid(&["--env", "dev", "--format", "json", "history"]);
    json.success();
    let applies = json.json();
    assert_eq!(applies.as_array().map(Vec::len), Some(2));
    assert_eq!(applies[1]["actor"], "test-actor");
    assert_eq!(applies[1]["summary"]["create"], 3);
    assert_eq!(applies[1]["outcome"], "succeeded");
}

#[test]
fn history_show_lists_the_changes_of_one_apply() {
    let project = applied_quickstart();
    let run = project.braid(&["--env", "dev", "history", "show", "1"]);
    run.success();
    for address in [
        "local_value.release",
        "local_file.motd",
        "local_file.config",
    ] {
        let line = run
            .stdout
            .lines()
            .find(|l| l.contains(address))
            .unwrap_or_else(|| panic!("{address} missing from {}", run.stdout));
        assert!(
            line.contains("create") && line.contains("applied"),
            "{line}"
        );
    }
    let missing = project.braid(&["--env", "dev", "history", "show", "42"]);
    missing.failure();
    assert!(
        missing.stderr.contains("No such apply"),
        "{}",
        missing.stderr
    );
}

#[test]
fn drift_exits_2_when_a_managed_file_changed_and_0_otherwise() {
    let project = applied_quickstart();
    project.braid(&["--env", "dev", "drift"]).expect_code(0);
    project.write("out/dev/motd.txt", "edited by hand\n");
    let run = project.braid(&["--env", "dev", "drift"]);
    run.expect_code(2);
    assert!(
        run.stdout
            .contains("local_file.motd was changed outside braid"),
        "{}",
        run.stdout
    );
    let json = project.braid(&["--env", "dev", "--format", "json", "drift"]);
    json.expect_code(2);
    assert_eq!(json.json()["drift"][0]["address"], "local_file.motd");
    // Drift only reports: the file is still edited afterwards.
    assert_eq!(project.read("out/dev/motd.txt"), "edited by hand\n");
}

#[test]
fn state_mv_renames_without_delete_or_create() {
    let project = applied_quickstart();
    let renamed = project
        .read("main.hcl")
        .replace("\"local_value\" \"release\"", "\"local_value\" \"build\"")
        .replace("local_value.release.", "local_value.build.");
    project.write("main.hcl", &renamed);
    project
        .braid(&[
            "--env",
            "dev",
            "state",
            "mv",
            "local_value.release",
            "local_value.build",
        ])
        .success();
    let plan = project.braid(&["--env", "dev", "plan", "--detailed-exitcode"]);
    plan.expect_code(0);
    assert!(plan.stdout.contains("No changes"), "{}", plan.stdout);
    let history = project.braid(&["--env", "dev", "history"]);
    assert!(
        history
            .stdout
            .lines()
            .next()
            .is_some_and(|l| l.contains("state mv")),
        "{}",
        history.stdout
    );
    let clash = project.braid(&[
        "--env",
        "dev",
        "state",
        "mv",
        "local_file.motd",
        "local_file.config",
    ]);
    clash.failure();
    assert!(
        clash.stderr.contains("Destination already in state"),
        "{}",
        clash.stderr
    );
}

#[test]
fn state_import_adopts_an_existing_file() {
    let project = Project::fixture("quickstart");
    project
        .braid(&["--env", "dev", "apply", "--auto-approve"])
        .success();
    project
        .braid(&["--env", "dev", "state", "rm", "local_file.motd"])
        .success();
    let before = project.braid(&["--env", "dev", "--format", "json", "plan"]);
    assert_eq!(
        common::change(&before.json(), "local_file.motd")["action"],
        "create"
    );
    project
        .braid(&[
            "--env",
            "dev",
            "state",
            "import",
            "local_file.motd",
            "out/dev/motd.txt",
        ])
        .success();
    let after = project.braid(&["--env", "dev", "plan", "--detailed-exitcode"]);
    after.expect_code(0);
    let unknown = project.braid(&[
        "--env",
        "dev",
        "state",
        "import",
        "local_file.nope",
        "x.txt",
    ]);
    unknown.failure();
    assert!(
        unknown.stderr.contains("Resource not in configuration"),
        "{}",
        unknown.stderr
    );
}
