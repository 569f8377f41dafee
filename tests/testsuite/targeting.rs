//! `--target` and `--replace` (also Terraform's `-target=ADDR` spelling) on plan, apply and
//! destroy.

use crate::common::{Project, addresses_with_action, change};

/// `b` depends on `a`; `c` stands alone.
fn chain() -> Project {
    Project::with_main(
        "resource \"local_file\" \"a\" {\n  filename = \"out/a.txt\"\n  content  = \"a\"\n}\n\n\
         resource \"local_file\" \"b\" {\n  filename = \"out/b.txt\"\n  content  = local_file.a.content\n}\n\n\
         resource \"local_file\" \"c\" {\n  filename = \"out/c.txt\"\n  content  = \"c\"\n}\n",
    )
}

fn plan_json(project: &Project, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["plan", "--format", "json"];
    all.extend_from_slice(args);
    let run = project.braid(&all);
    run.success();
    run.json()
}

#[test]
fn target_plans_the_resource_and_what_it_depends_on() {
    let project = chain();
    for flag in [&["--target", "local_file.b"][..], &["-target=local_file.b"]] {
        let plan = plan_json(&project, flag);
        assert_eq!(
            addresses_with_action(&plan, "create"),
            ["local_file.a", "local_file.b"],
            "{flag:?}"
        );
    }
    let run = project.braid(&["plan", "-target", "local_file.b"]);
    run.success();
    assert!(
        run.stderr.contains("Resource targeting is in effect"),
        "{}",
        run.stderr
    );
    // Apply with a target, then the rest is still to do.
    project
        .braid(&["apply", "--auto-approve", "--target", "local_file.b"])
        .success();
    assert!(project.exists("out/b.txt"));
    assert!(!project.exists("out/c.txt"));
    let plan = plan_json(&project, &[]);
    assert_eq!(addresses_with_action(&plan, "create"), ["local_file.c"]);
}

#[test]
fn replace_forces_a_replacement() {
    let project = chain();
    project.braid(&["apply", "--auto-approve"]).success();
    let plan = plan_json(&project, &["--replace", "local_file.c"]);
    assert_eq!(addresses_with_action(&plan, "replace"), ["local_file.c"]);
    assert_eq!(
        change(&plan, "local_file.c")["reason"],
        "replacement requested with --replace"
    );
    let run = project.braid(&["apply", "--auto-approve", "-replace=local_file.c"]);
    run.success();
    assert!(run.stdout.contains("1 replaced"), "{}", run.stdout);
    let plan = plan_json(&project, &[]);
    assert!(addresses_with_action(&plan, "replace").is_empty());
}

#[test]
fn destroy_target_takes_what_depends_on_it_too() {
    let project = chain();
    project.braid(&["apply", "--auto-approve"]).success();
    let run = project.braid(&["destroy", "--auto-approve", "--target", "local_file.a"]);
    run.success();
    assert!(!project.exists("out/a.txt"));
    assert!(!project.exists("out/b.txt"));
    assert!(project.exists("out/c.txt"));
    assert_eq!(project.state_list(&[]), ["local_file.c"]);
}

#[test]
fn unknown_targets_and_targeted_saved_plans_are_refused() {
    let project = chain();
    let run = project.braid(&["plan", "--target", "local_file.bb"]);
    run.failure();
    assert!(run.stderr.contains("No such resource"), "{}", run.stderr);
    assert!(
        run.stderr.contains("Did you mean local_file.b"),
        "{}",
        run.stderr
    );
    let run = project.braid(&["plan", "--replace", "local_file.x"]);
    run.failure();
    project
        .braid(&["plan", "--target", "local_file.a", "--out", "p.json"])
        .success();
    let run = project.braid(&["apply", "p.json", "--target", "local_file.a"]);
    run.failure();
    assert!(
        run.stderr.contains("Targeting a saved plan"),
        "{}",
        run.stderr
    );
    // The saved targeted plan applies just what it holds.
    project.braid(&["apply", "p.json"]).success();
    assert_eq!(project.state_list(&[]), ["local_file.a"]);
}
