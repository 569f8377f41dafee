//! An apply that fails halfway: the failure is named, what depends on it is skipped,
//! independent branches are applied, state holds exactly what was applied, and the next
//! apply finishes the rest once the cause is gone.

use crate::common::{self, Project};

const APPLIED_FIRST: [&str; 2] = ["local_file.independent", "local_value.marker"];

fn failed_apply() -> (Project, common::Run) {
    let project = Project::fixture("partial_failure");
    let run = project.braid(&["apply", "--auto-approve"]);
    (project, run)
}

#[test]
fn failure_is_named_and_dependents_are_skipped() {
    let (project, run) = failed_apply();
    run.failure();
    let out = &run.stdout;
    assert!(out.contains("local_file.blocked: failed"), "{out}");
    assert!(out.contains("error: Cannot write file"), "{out}");
    assert!(
        out.contains(&format!(
            "braid cannot write temporary file {}",
            project.join("blocker").display()
        )),
        "the error names the path: {out}"
    );
    assert!(
        out.contains("Not a directory"),
        "the OS error is kept: {out}"
    );
    assert!(
        out.contains("local_file.dependent: skipped (depends on local_file.blocked which failed)"),
        "{out}"
    );
    assert!(
        out.contains("local_file.independent: Creation complete"),
        "{out}"
    );
    assert!(
        out.contains("local_value.marker: Creation complete"),
        "{out}"
    );
    assert!(
        out.contains(
            "Apply failed: 1 failed, 1 skipped. Applied: 2 added, 0 changed, 0 replaced, 0 destroyed."
        ),
        "{out}"
    );
    assert!(
        out.contains("State records everything that was applied"),
        "{out}"
    );
    assert!(!out.contains("local_file.dependent: Creating"), "{out}");
}

#[test]
fn state_holds_exactly_what_was_applied() {
    let (project, run) = failed_apply();
    run.failure();
    assert_eq!(project.state_list(&[]), APPLIED_FIRST);
    assert_eq!(project.read("out/independent.txt"), "independent\n");
    assert!(!project.exists("out/dependent.txt"));
    assert!(
        project.join("blocker").is_file(),
        "the blocker is untouched"
    );

    let show = project.braid(&["show", "--format", "json"]);
    show.success();
    let state = show.json();
    assert_eq!(state["env"], "dev");
    let resources = state["resources"].as_array().expect("resources");
    let addresses: Vec<_> = resources
        .iter()
        .map(|r| r["address"].as_str().expect("address"))
        .collect();
    assert_eq!(addresses, APPLIED_FIRST);
    let independent = &resources[0];
    assert_eq!(independent["type"], "local_file");
    assert_eq!(independent["provider"], "local");
    assert_eq!(independent["source_file"], "main.hcl:13");
    assert_eq!(independent["attributes"]["filename"], "out/independent.txt");
    assert_eq!(independent["attributes"]["content"], "independent\n");
    assert_eq!(
        independent["id"],
        independent["attributes"]["content_sha256"]
    );
    let marker = &resources[1];
    assert_eq!(marker["attributes"]["output"], "ok");
    assert_eq!(marker["id"].as_str().map(str::len), Some(36));

    // The plan now wants only the two that did not happen.
    let plan = project.braid(&["plan", "--format", "json"]);
    plan.success();
    let plan = plan.json();
    assert_eq!(
        common::addresses_with_action(&plan, "create"),
        ["local_file.blocked", "local_file.dependent"]
    );
    assert_eq!(plan["summary"]["no_op"], 2);
}

#[test]
fn json_report_of_a_failed_apply() {
    let project = Project::fixture("partial_failure");
    let run = project.braid(&["apply", "--auto-approve", "--format", "json"]);
    run.failure();
    let report = run.json();
    assert_eq!(report["succeeded"], false);
    assert_eq!(report["summary"]["failed"], 1);
    assert_eq!(report["summary"]["skipped"], 1);
    assert_eq!(report["summary"]["create"], 2);
    let result = |address: &str| {
        report["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .find(|r| r["address"] == address)
            .unwrap_or_else(|| panic!("no result for {address}: {report:#}"))
            .clone()
    };
    let blocked = result("local_file.blocked");
    assert_eq!(blocked["outcome"], "failed");
    assert_eq!(blocked["diagnostics"][0]["summary"], "Cannot write file");
    let dependent = result("local_file.dependent");
    assert_eq!(dependent["outcome"], "skipped");
    assert_eq!(
        dependent["skipped_because"],
        "depends on local_file.blocked which failed"
    );
    assert_eq!(result("local_file.independent")["outcome"], "applied");
    assert_eq!(result("local_value.marker")["outcome"], "applied");
}

#[test]
fn next_apply_finishes_the_rest_once_the_cause_is_gone() {
    let (project, run) = failed_apply();
    run.failure();
    let marker_id = {
        let show = project.braid(&["state", "show", "local_value.marker", "--format", "json"]);
        show.success();
        show.json()["id"].clone()
    };
    std::fs::remove_file(project.join("blocker")).expect("remove blocker");

    let run = project.braid(&["apply", "--auto-approve"]);
    run.success();
    assert!(
        run.stdout
            .contains("Apply complete! Resources: 2 added, 0 changed, 0 replaced, 0 destroyed.")
    );
    assert!(
        !run.stdout.contains("local_file.independent:"),
        "{}",
        run.stdout
    );
    assert_eq!(
        project.state_list(&[]),
        [
            "local_file.blocked",
            "local_file.dependent",
            "local_file.independent",
            "local_value.marker"
        ]
    );
    assert_eq!(project.read("blocker/x.txt"), "behind the blocker\n");
    let blocked_id = {
        let show = project.braid(&["state", "show", "local_file.blocked", "--format", "json"]);
        show.success();
        show.json()["id"].as_str().expect("id").to_string()
    };
    assert_eq!(
        project.read("out/dependent.txt"),
        format!("needs {blocked_id}\n")
    );
    // What was applied the first time was kept, not redone.
    let show = project.braid(&["state", "show", "local_value.marker", "--format", "json"]);
    show.success();
    assert_eq!(show.json()["id"], marker_id);
    project
        .braid(&["plan", "--detailed-exitcode"])
        .expect_code(0);
}

#[test]
fn failed_apply_with_parallelism_1_is_the_same() {
    let project = Project::fixture("partial_failure");
    let run = project.braid(&["apply", "--auto-approve", "--parallelism", "1"]);
    run.failure();
    assert!(
        run.stdout
            .contains("local_file.dependent: skipped (depends on local_file.blocked which failed)")
    );
    assert_eq!(project.state_list(&[]), APPLIED_FIRST);
}
