//! `apply_rule { refs = [...] }`: an environment is applied only from the git refs it
//! allows — prod from release tags, staging from main — whether from git sources or from a
//! plain directory checked out by CI.

use crate::common::Project;
use braid_testkit::GitRepo;

fn infra_repo() -> GitRepo {
    let repo = GitRepo::init();
    repo.write(
        "infra/main.hcl",
        "resource \"local_value\" \"release\" {\n  input = \"v1\"\n}\n",
    );
    repo.commit_all("release one");
    repo.git(&["tag", "v1.0.0"]);
    repo.git(&["tag", "-a", "v1.0.1", "-m", "annotated release"]);
    repo
}

fn project(repo: &GitRepo) -> Project {
    Project::with_files(&[(
        "braid.hcl",
        &format!(
            r#"source "infra" {{
  repo = "{}"
  ref  = "main"
  path = "infra"
}}

environment "staging" {{
  apply_rule {{
    refs = ["refs/heads/main"]
  }}
}}

environment "prod" {{
  apply_rule {{
    refs = ["refs/tags/v*"]
  }}
}}
"#,
            repo.hcl_path()
        ),
    )])
}

#[test]
fn prod_refuses_a_branch_and_accepts_release_tags() {
    let repo = infra_repo();
    let project = project(&repo);
    let refused = project.braid(&["--env", "prod", "apply", "--auto-approve"]);
    refused.failure();
    assert!(
        refused
            .stderr
            .contains("Ref not allowed for this environment"),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains("infra was read from refs/heads/main"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("refs/tags/v*"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("braid.hcl:"),
        "points at the environment block: {}",
        refused.stderr
    );
    assert!(
        project.state_list(&["--env", "prod"]).is_empty(),
        "nothing was applied"
    );

    for tag in ["v1.0.0", "v1.0.1"] {
        let run = project.braid(&[
            "--env",
            "prod",
            "--ref",
            &format!("infra={tag}"),
            "apply",
            "--auto-approve",
        ]);
        run.success();
    }
    assert_eq!(
        project.state_list(&["--env", "prod"]),
        ["local_value.release"]
    );
}

#[test]
fn staging_accepts_main_and_refuses_a_feature_branch_and_a_bare_commit() {
    let repo = infra_repo();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(
        "infra/main.hcl",
        "resource \"local_value\" \"release\" {\n  input = \"v2\"\n}\n",
    );
    let feature_commit = repo.commit_all("feature work");
    repo.git(&["checkout", "-q", "main"]);
    let project = project(&repo);
    project
        .braid(&["--env", "staging", "apply", "--auto-approve"])
        .success();

    let feature = project.braid(&[
        "--env",
        "staging",
        "--ref",
        "infra=feature",
        "apply",
        "--auto-approve",
    ]);
    feature.failure();
    assert!(
        feature
            .stderr
            .contains("infra was read from refs/heads/feature"),
        "{}",
        feature.stderr
    );

    let commit = project.braid(&[
        "--env",
        "staging",
        "--ref",
        &format!("infra={feature_commit}"),
        "apply",
        "--auto-approve",
    ]);
    commit.failure();
    assert!(
        commit.stderr.contains("infra was read from no ref"),
        "{}",
        commit.stderr
    );
    // Planning is never restricted: a pull request may plan any ref.
    project
        .braid(&["--env", "staging", "--ref", "infra=feature", "plan"])
        .success();
}

#[test]
fn a_saved_plan_is_checked_against_the_rule_too() {
    let repo = infra_repo();
    let project = project(&repo);
    project
        .braid(&[
            "--env",
            "prod",
            "--ref",
            "infra=main",
            "plan",
            "--out",
            "p.json",
        ])
        .success();
    let run = project.braid(&["--env", "prod", "apply", "p.json"]);
    run.failure();
    assert!(
        run.stderr.contains("Ref not allowed for this environment"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_plain_directory_uses_its_branch_or_the_ci_ref() {
    let project = Project::with_files(&[
        (
            "braid.hcl",
            "source \"infra\" { path = \".\" }\nenvironment \"prod\" {\n  apply_rule {\n    refs = [\"refs/tags/v*\"]\n  }\n}\n",
        ),
        (
            "main.hcl",
            "resource \"local_value\" \"a\" {\n  input = 1\n}\n",
        ),
    ]);
    let refused = project.braid(&["--env", "prod", "apply", "--auto-approve"]);
    refused.failure();
    assert!(
        refused.stderr.contains("infra was read from no ref"),
        "{}",
        refused.stderr
    );
    project
        .braid_env(
            &["--env", "prod", "apply", "--auto-approve"],
            &[("GITHUB_REF", "refs/tags/v2.0.0")],
        )
        .success();
    let wrong = project.braid_env(
        &["--env", "prod", "apply", "--auto-approve"],
        &[("BRAID_REF", "refs/heads/main")],
    );
    wrong.failure();
}
