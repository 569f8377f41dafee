//! `braid rollback --to ID`: the configuration an earlier apply deployed, read from git at the
//! commits it recorded, applied again and recorded as a rollback.

use crate::common::Project;
use braid_testkit::GitRepo;

fn repo_with(input: &str) -> GitRepo {
    let repo = GitRepo::init();
    repo.write("infra/main.hcl", &release(input));
    repo.commit_all("first");
    repo
}

fn release(input: &str) -> String {
    format!(
        "resource \"local_file\" \"release\" {{\n  filename = \"out/release.txt\"\n  content  = \"{input}\"\n}}\n"
    )
}

fn project(repo: &GitRepo) -> Project {
    Project::with_files(&[(
        "braid.hcl",
        &format!(
            "source \"infra\" {{\n  repo = \"{}\"\n  ref  = \"main\"\n  path = \"infra\"\n}}\n\nenvironment \"staging\" {{}}\n",
            repo.hcl_path()
        ),
    )])
}

#[test]
fn rollback_applies_the_recorded_commits_and_says_so_in_history() {
    let repo = repo_with("v1");
    let project = project(&repo);
    project.braid(&["apply", "--auto-approve"]).success();
    assert_eq!(project.read("out/release.txt"), "v1");

    repo.write("infra/main.hcl", &release("v2"));
    repo.commit_all("second");
    project.braid(&["apply", "--auto-approve"]).success();
    assert_eq!(project.read("out/release.txt"), "v2");

    let refused = project.braid(&["rollback", "--to", "1"]);
    refused.failure();
    assert!(
        refused.stderr.contains("--auto-approve"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        project.read("out/release.txt"),
        "v2",
        "nothing changed without confirmation"
    );

    let run = project.braid(&["rollback", "--to", "1", "--auto-approve"]);
    run.success();
    assert!(run.stdout.contains("\"v2\" -> \"v1\""), "{}", run.stdout);
    assert_eq!(project.read("out/release.txt"), "v1");

    let history = project.braid(&["--format", "json", "history"]);
    let applies = history.json();
    assert_eq!(applies[0]["operation"], "rollback");
    assert_eq!(applies[0]["rollback_of"], 1);
    assert_eq!(
        applies[0]["sources"][0]["commit"],
        applies[2]["sources"][0]["commit"]
    );
    let text = project.braid(&["history"]);
    assert!(
        text.stdout
            .lines()
            .next()
            .is_some_and(|l| l.contains("rollback to #1")),
        "{}",
        text.stdout
    );

    // main still says v2: the next normal apply goes forward again.
    let plan = project.braid(&["plan", "--detailed-exitcode"]);
    plan.expect_code(2);
}

#[test]
fn rollback_refuses_unknown_applies_and_changed_plain_directories() {
    let repo = repo_with("v1");
    let project = project(&repo);
    project.braid(&["apply", "--auto-approve"]).success();
    let unknown = project.braid(&["rollback", "--to", "9", "--auto-approve"]);
    unknown.failure();
    assert!(
        unknown.stderr.contains("No such apply"),
        "{}",
        unknown.stderr
    );

    let plain = Project::with_files(&[
        (
            "braid.hcl",
            "source \"infra\" { path = \".\" }\nenvironment \"dev\" {}\n",
        ),
        ("main.hcl", &release("one")),
    ]);
    plain.braid(&["apply", "--auto-approve"]).success();
    plain.write("main.hcl", &release("two"));
    plain.braid(&["apply", "--auto-approve"]).success();
    let run = plain.braid(&["rollback", "--to", "1", "--auto-approve"]);
    run.failure();
    assert!(
        run.stderr.contains("Cannot roll back a plain directory"),
        "{}",
        run.stderr
    );
}

/// Issue #16: a plain-directory source (`path = "."`, the README's layout) in a git work tree
/// rolls back to the commit the earlier apply recorded, read from that repository; an apply
/// made from uncommitted changes cannot be rolled back, and says why.
#[test]
fn rollback_reads_a_plain_directory_from_its_work_tree() {
    let repo = GitRepo::init();
    repo.write(".gitignore", ".braid/\nout/\n");
    repo.write(
        "braid.hcl",
        "source \"infra\" { path = \".\" }\nenvironment \"dev\" {}\n",
    );
    repo.write("main.hcl", &release("one"));
    repo.commit_all("one");
    let run = |args: &[&str]| crate::common::run_braid(repo.path(), args, &[]);
    run(&["apply", "--auto-approve"]).success();
    repo.write("main.hcl", &release("two"));
    repo.commit_all("two");
    run(&["apply", "--auto-approve"]).success();
    let out = || std::fs::read_to_string(repo.path().join("out/release.txt")).expect("out");
    assert_eq!(out(), "two");

    let rolled = run(&["rollback", "--to", "1", "--auto-approve"]);
    rolled.success();
    assert!(
        rolled.stdout.contains("\"two\" -> \"one\""),
        "{}",
        rolled.all()
    );
    assert_eq!(out(), "one");
    // The work tree itself is untouched: it still says two.
    assert!(
        std::fs::read_to_string(repo.path().join("main.hcl"))
            .expect("main.hcl")
            .contains("two")
    );

    // An apply from uncommitted changes is in no commit.
    repo.write("main.hcl", &release("three"));
    run(&["apply", "--auto-approve"]).success();
    repo.write("main.hcl", &release("four"));
    repo.commit_all("four");
    run(&["apply", "--auto-approve"]).success();
    let dirty = run(&["rollback", "--to", "4", "--auto-approve"]);
    dirty.failure();
    assert!(
        dirty.stderr.contains("uncommitted changes"),
        "{}",
        dirty.all()
    );
}
