//! Git sources (issue #4): braid reads repositories at refs from their object databases —
//! branches, tags of both kinds, commit SHAs, bare repositories, file:// URLs fetched into
//! the cache — records what it read in every plan, pins it in saved plans, stores it in the
//! audit log, and explains every way this can go wrong. Repositories are made with `git`.

use crate::common::{self, Project};
use braid_testkit::{GitRepo, git_in};

/// The infra repository: `infra/main.hcl` writes `out/bucket.txt` from a file next to it.
fn infra_repo() -> GitRepo {
    let repo = GitRepo::init();
    repo.write("README.md", "infra\n");
    repo.write(
        "infra/main.hcl",
        r#"resource "local_file" "bucket" {
  filename = "out/bucket.txt"
  content  = file("bucket-name.txt")
}
"#,
    );
    repo.write("infra/bucket-name.txt", "assets-v1");
    repo.commit_all("infra v1");
    repo
}

fn project_with(sources: &str) -> Project {
    Project::with_files(&[(
        "braid.hcl",
        &format!("{sources}\nenvironment \"dev\" {{}}\n"),
    )])
}

fn infra_project(repo: &GitRepo, reference: &str) -> Project {
    project_with(&format!(
        "source \"infra\" {{\n  repo = \"{}\"\n  ref  = \"{reference}\"\n  path = \"infra\"\n}}\n",
        repo.hcl_path()
    ))
}

fn plan_json(project: &Project, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["plan", "--format", "json"];
    args.extend_from_slice(extra);
    let run = project.braid(&args);
    run.success();
    run.json()
}

fn after_content(plan: &serde_json::Value, address: &str) -> String {
    common::change(plan, address)["after"]["content"]
        .as_str()
        .unwrap_or_else(|| panic!("no content for {address}: {plan:#}"))
        .to_string()
}

#[test]
fn plan_reads_a_branch_and_records_the_commit() {
    let repo = infra_repo();
    let main = repo.git(&["rev-parse", "main"]);
    let project = infra_project(&repo, "main");
    let plan = plan_json(&project, &[]);
    let source = &plan["sources"][0];
    assert_eq!(source["name"], "infra");
    assert_eq!(
        source["repo"],
        repo.path()
            .canonicalize()
            .expect("canonical")
            .display()
            .to_string()
    );
    assert_eq!(source["reference"], "main");
    assert_eq!(source["commit"], main.as_str());
    assert!(source.get("tag").is_none(), "{source:#}");
    assert_eq!(after_content(&plan, "local_file.bucket"), "assets-v1");

    let human = project.braid(&["plan"]);
    human.success();
    assert!(
        human.stdout.contains("source infra")
            && human.stdout.contains(&format!("(main @ {})", &main[..12])),
        "{}",
        human.stdout
    );
    // Nothing of the repository's work tree was touched.
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}

#[test]
fn a_feature_branch_plans_differently_from_main() {
    let repo = infra_repo();
    repo.git(&["checkout", "--quiet", "-b", "feature"]);
    repo.write("infra/bucket-name.txt", "assets-v2");
    repo.write(
        "infra/queue.hcl",
        "resource \"local_value\" \"queue\" {\n  input = \"jobs\"\n}\n",
    );
    let feature = repo.commit_all("feature: queue, new bucket");
    repo.git(&["checkout", "--quiet", "main"]);
    let project = infra_project(&repo, "main");

    let on_main = plan_json(&project, &[]);
    let on_feature = plan_json(&project, &["--ref", "infra=feature"]);
    assert_eq!(
        common::addresses_with_action(&on_main, "create"),
        ["local_file.bucket"]
    );
    assert_eq!(
        common::addresses_with_action(&on_feature, "create"),
        ["local_file.bucket", "local_value.queue"]
    );
    assert_eq!(after_content(&on_feature, "local_file.bucket"), "assets-v2");
    assert_eq!(on_feature["sources"][0]["reference"], "feature");
    assert_eq!(on_feature["sources"][0]["commit"], feature.as_str());
    assert_ne!(
        on_main["sources"][0]["digest"],
        on_feature["sources"][0]["digest"]
    );
}

#[test]
fn tags_of_both_kinds_and_commit_shas_resolve_to_the_commit() {
    let repo = infra_repo();
    let v1 = repo.git(&["rev-parse", "HEAD"]);
    repo.git(&["tag", "v1.0.0"]);
    repo.git(&["tag", "-a", "v1.0.1", "-m", "annotated release"]);
    repo.write("infra/bucket-name.txt", "assets-v2");
    repo.commit_all("v2");
    let project = infra_project(&repo, "main");

    for (reference, tag) in [("v1.0.0", Some("v1.0.0")), ("v1.0.1", Some("v1.0.1"))] {
        let plan = plan_json(&project, &["--ref", &format!("infra={reference}")]);
        let source = &plan["sources"][0];
        assert_eq!(source["commit"], v1.as_str(), "{reference}");
        assert_eq!(source["reference"], reference);
        assert_eq!(source["tag"].as_str(), tag);
        assert_eq!(after_content(&plan, "local_file.bucket"), "assets-v1");
    }
    for sha in [&v1[..7], v1.as_str()] {
        let plan = plan_json(&project, &["--ref", &format!("infra={sha}")]);
        assert_eq!(plan["sources"][0]["commit"], v1.as_str());
        assert!(plan["sources"][0].get("tag").is_none());
    }
    let human = project.braid(&["plan", "--ref", "infra=v1.0.1"]);
    human.success();
    assert!(
        human
            .stdout
            .contains(&format!("(tag v1.0.1 @ {})", &v1[..12])),
        "{}",
        human.stdout
    );
}

#[test]
fn remote_branches_resolve() {
    let origin = infra_repo();
    let clone = GitRepo::init();
    clone.git(&["remote", "add", "origin", &origin.hcl_path()]);
    clone.git(&["fetch", "--quiet", "origin"]);
    let project = infra_project(&clone, "origin/main");
    let plan = plan_json(&project, &[]);
    assert_eq!(
        plan["sources"][0]["commit"],
        origin.git(&["rev-parse", "main"]).as_str()
    );
}

#[test]
fn a_bare_repository_is_read_without_a_work_tree() {
    let repo = infra_repo();
    let bare = tempfile::tempdir().expect("tempdir");
    let bare_path = bare.path().join("infra.git");
    git_in(
        bare.path(),
        &["clone", "--quiet", "--bare", &repo.hcl_path(), "infra.git"],
    );
    let project = project_with(&format!(
        "source \"infra\" {{\n  repo = \"{}\"\n  ref = \"main\"\n  path = \"infra\"\n}}\n",
        bare_path.display()
    ));
    let plan = plan_json(&project, &[]);
    assert_eq!(
        plan["sources"][0]["commit"],
        repo.git(&["rev-parse", "main"]).as_str()
    );
    assert_eq!(after_content(&plan, "local_file.bucket"), "assets-v1");
}

#[test]
fn file_function_reads_the_extracted_tree_in_the_cache() {
    let repo = infra_repo();
    let project = infra_project(&repo, "main");
    project.braid(&["apply", "--auto-approve"]).success();
    assert_eq!(project.read("out/bucket.txt"), "assets-v1");
    let tree = repo.git(&["rev-parse", "main:infra"]);
    let cached = project.join(&format!(".braid/cache/trees/{tree}/bucket-name.txt"));
    assert_eq!(
        std::fs::read_to_string(&cached).expect("extracted file"),
        "assets-v1"
    );
    assert!(
        std::fs::metadata(&cached)
            .expect("metadata")
            .permissions()
            .readonly(),
        "cached files are read-only"
    );
}

#[test]
fn a_saved_plan_applies_the_planned_commit_after_the_branch_moved() {
    let repo = infra_repo();
    let commit_a = repo.git(&["rev-parse", "main"]);
    let project = infra_project(&repo, "main");
    project.braid(&["plan", "--out", "plan.json"]).success();

    repo.write("infra/bucket-name.txt", "assets-B");
    let commit_b = repo.commit_all("B");

    let run = project.braid(&["apply", "plan.json"]);
    run.success();
    assert_eq!(
        project.read("out/bucket.txt"),
        "assets-v1",
        "commit A applied"
    );

    let records = applies(&project);
    assert_eq!(records.len(), 1);
    let source = &records[0].sources[0];
    assert_eq!(source.commit.as_deref(), Some(commit_a.as_str()));
    assert_eq!(source.reference.as_deref(), Some("main"));

    // A new plan reads B.
    let plan = plan_json(&project, &[]);
    assert_eq!(plan["sources"][0]["commit"], commit_b.as_str());
    assert_eq!(after_content(&plan, "local_file.bucket"), "assets-B");
    assert_eq!(
        common::addresses_with_action(&plan, "update"),
        ["local_file.bucket"]
    );
}

#[test]
fn a_saved_plan_refuses_a_pinned_commit_that_is_gone() {
    let repo = infra_repo();
    repo.git(&["checkout", "--quiet", "-b", "experiment"]);
    repo.write("infra/bucket-name.txt", "assets-experiment");
    let gone = repo.commit_all("experiment");
    repo.git(&["checkout", "--quiet", "main"]);
    let project = infra_project(&repo, "main");
    project
        .braid(&["plan", "--ref", "infra=experiment", "--out", "plan.json"])
        .success();

    repo.git(&["branch", "--quiet", "-D", "experiment"]);
    repo.git(&["reflog", "expire", "--expire=now", "--all"]);
    repo.git(&["gc", "--quiet", "--prune=now"]);

    let run = project.braid(&["apply", "plan.json"]);
    run.failure();
    assert!(
        run.stderr.contains("Pinned commit not found"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(&gone), "{}", run.stderr);
    assert!(!project.exists("out/bucket.txt"));

    let with_ref = project.braid(&["apply", "plan.json", "--ref", "infra=main"]);
    with_ref.failure();
    assert!(
        with_ref.stderr.contains("Ref given with a saved plan"),
        "{}",
        with_ref.stderr
    );
}

#[test]
fn two_sources_from_two_repositories_feed_one_graph_and_the_audit_log() {
    let infra = infra_repo();
    let apps = GitRepo::init();
    apps.write(
        "k8s/app.hcl",
        r#"resource "local_file" "app" {
  filename = "out/app.txt"
  content  = "app stores files in ${local_file.bucket.content}"
}
"#,
    );
    let apps_commit = apps.commit_all("apps");
    let infra_commit = infra.git(&["rev-parse", "main"]);
    let project = project_with(&format!(
        "source \"infra\" {{\n  repo = \"{}\"\n  ref = \"main\"\n  path = \"infra\"\n}}\n\
         source \"apps\" {{\n  repo = \"{}\"\n  ref = \"main\"\n  path = \"k8s\"\n}}\n",
        infra.hcl_path(),
        apps.hcl_path()
    ));
    let plan = plan_json(&project, &[]);
    assert_eq!(
        common::change(&plan, "local_file.app")["depends_on"],
        serde_json::json!(["local_file.bucket"])
    );
    project.braid(&["apply", "--auto-approve"]).success();
    assert_eq!(project.read("out/app.txt"), "app stores files in assets-v1");
    let records = applies(&project);
    let commits: Vec<(String, Option<String>)> = records[0]
        .sources
        .iter()
        .map(|s| (s.name.clone(), s.commit.clone()))
        .collect();
    assert_eq!(
        commits,
        [
            ("infra".to_string(), Some(infra_commit)),
            ("apps".to_string(), Some(apps_commit)),
        ]
    );
}

#[test]
fn file_urls_are_fetched_into_the_cache_and_offline_reads_it() {
    let origin = infra_repo();
    let url = format!("file://{}", origin.hcl_path());
    let project = project_with(&format!(
        "source \"infra\" {{\n  repo = \"{url}\"\n  ref = \"main\"\n  path = \"infra\"\n}}\n"
    ));
    let offline_first = project.braid(&["plan", "--offline"]);
    offline_first.failure();
    assert!(
        offline_first.stderr.contains("Repository not cached"),
        "{}",
        offline_first.stderr
    );

    let first = plan_json(&project, &[]);
    assert_eq!(first["sources"][0]["repo"], url.as_str());
    assert_eq!(
        first["sources"][0]["commit"],
        origin.git(&["rev-parse", "main"]).as_str()
    );
    assert!(project.exists(".braid/cache/repos"));

    origin.write("infra/bucket-name.txt", "assets-v2");
    let moved = origin.commit_all("v2");
    origin.git(&["tag", "-a", "v2", "-m", "release 2"]);
    let offline = plan_json(&project, &["--offline"]);
    assert_eq!(
        offline["sources"][0]["commit"],
        first["sources"][0]["commit"]
    );

    let refetched = plan_json(&project, &[]);
    assert_eq!(refetched["sources"][0]["commit"], moved.as_str());
    let tagged = plan_json(&project, &["--offline", "--ref", "infra=v2"]);
    assert_eq!(tagged["sources"][0]["commit"], moved.as_str());
    assert_eq!(tagged["sources"][0]["tag"], "v2");
}

#[test]
fn plain_directories_record_their_work_tree_commit_and_dirtiness() {
    let project = Project::with_main("resource \"local_value\" \"v\" {\n  input = 1\n}\n");
    project.write("braid.hcl", common::BRAID_HCL);
    let outside = plan_json(&project, &[]);
    assert!(outside["sources"][0]["commit"].is_null());
    assert_eq!(outside["sources"][0]["dirty"], false);

    git_in(
        project.path(),
        &["init", "--quiet", "--initial-branch=main", "."],
    );
    git_in(project.path(), &["add", "braid.hcl", "main.hcl"]);
    git_in(project.path(), &["commit", "--quiet", "-m", "first"]);
    let head = git_in(project.path(), &["rev-parse", "HEAD"]);
    // braid's own .braid/ directory (state) is not a change.
    project.braid(&["apply", "--auto-approve"]).success();
    let clean = plan_json(&project, &[]);
    assert_eq!(clean["sources"][0]["commit"], head.as_str());
    assert_eq!(clean["sources"][0]["dirty"], false);
    assert!(clean["sources"][0]["reference"].is_null());

    project.edit("main.hcl", "input = 1", "input = 2");
    let dirty = plan_json(&project, &[]);
    assert_eq!(dirty["sources"][0]["dirty"], true);
    let human = project.braid(&["plan"]);
    assert!(human.stdout.contains(", dirty)"), "{}", human.stdout);

    project.edit("main.hcl", "input = 2", "input = 1");
    project.write("extra.hcl", "");
    let untracked = plan_json(&project, &[]);
    assert_eq!(untracked["sources"][0]["dirty"], true);
}

// --- diagnostics ---------------------------------------------------------------------------

/// Runs `braid plan`, expects failure, and returns stderr.
fn plan_error(project: &Project, extra: &[&str]) -> String {
    let mut args = vec!["plan"];
    args.extend_from_slice(extra);
    let run = project.braid(&args);
    run.failure();
    run.stderr
}

#[track_caller]
fn assert_mentions(stderr: &str, needles: &[&str]) {
    for needle in needles {
        assert!(stderr.contains(needle), "no {needle:?} in:\n{stderr}");
    }
}

#[test]
fn missing_repository_and_non_repository_are_reported_at_the_source_block() {
    let project =
        project_with("source \"infra\" {\n  repo = \"../nowhere\"\n  ref = \"main\"\n}\n");
    let stderr = plan_error(&project, &[]);
    assert_mentions(
        &stderr,
        &["Repository not found", "braid.hcl:1:", "../nowhere"],
    );

    let plain = tempfile::tempdir().expect("tempdir");
    let project = project_with(&format!(
        "source \"infra\" {{\n  repo = \"{}\"\n  ref = \"main\"\n}}\n",
        plain.path().display()
    ));
    let stderr = plan_error(&project, &[]);
    assert_mentions(&stderr, &["Not a git repository", "braid.hcl:1:"]);
}

#[test]
fn a_missing_ref_lists_the_closest_names() {
    let repo = infra_repo();
    repo.git(&["branch", "release-1"]);
    repo.git(&["tag", "v1.4.0"]);
    let project = infra_project(&repo, "mian");
    let stderr = plan_error(&project, &[]);
    assert_mentions(
        &stderr,
        &["Git ref not found", "\"mian\"", "main", "braid.hcl:1:"],
    );
    let stderr = plan_error(&project, &["--ref", "infra=v1.4"]);
    assert_mentions(&stderr, &["Git ref not found", "v1.4.0"]);
}

#[test]
fn ref_flags_are_checked() {
    let repo = infra_repo();
    let project = project_with(&format!(
        "source \"infra\" {{\n  repo = \"{}\"\n  path = \"infra\"\n}}\nsource \"local\" {{ path = \".\" }}\n",
        repo.hcl_path()
    ));
    assert_mentions(
        &plan_error(&project, &["--ref", "infar=main"]),
        &["Unknown source", "Did you mean \"infra\"?"],
    );
    assert_mentions(
        &plan_error(&project, &["--ref", "local=main"]),
        &["Ref given for a plain directory"],
    );
    assert_mentions(
        &plan_error(&project, &["--ref", "infra"]),
        &["Invalid --ref"],
    );
    // Without a ref, a git source reads HEAD.
    let plan = plan_json(&project, &[]);
    assert_eq!(plan["sources"][0]["reference"], "HEAD");
}

#[test]
fn an_ambiguous_short_sha_lists_the_candidates() {
    let repo = infra_repo();
    // Many commits in one fast-import stream, until two share their first four hex digits.
    let mut stream = String::new();
    for i in 0..2500 {
        stream.push_str(&format!(
            "commit refs/heads/many\ncommitter T <t@example.com> {} +0000\ndata 4\nc{:03}\n\n",
            1_700_000_000 + i,
            i % 1000
        ));
    }
    let mut child = std::process::Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(repo.path())
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("git fast-import");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stream.as_bytes())
        .expect("write stream");
    assert!(child.wait().expect("fast-import").success());
    let commits = repo.git(&["rev-list", "--all"]);
    let mut seen = std::collections::HashMap::new();
    let prefix = commits
        .lines()
        .find_map(|c| {
            seen.insert(c[..4].to_string(), c)
                .map(|_| c[..4].to_string())
        })
        .expect("2500 commits share a 4-digit prefix");
    let project = infra_project(&repo, &prefix);
    let stderr = plan_error(&project, &[]);
    assert_mentions(
        &stderr,
        &["Ambiguous commit", &prefix, "Give more characters"],
    );
}

#[test]
fn a_path_missing_at_one_commit_is_reported() {
    let repo = GitRepo::init();
    repo.write("README.md", "nothing yet\n");
    let before = repo.commit_all("before infra/");
    repo.write(
        "infra/main.hcl",
        "resource \"local_value\" \"v\" {\n  input = 1\n}\n",
    );
    repo.commit_all("infra/");
    let project = infra_project(&repo, "main");
    plan_json(&project, &[]);
    let stderr = plan_error(&project, &["--ref", &format!("infra={}", &before[..10])]);
    assert_mentions(
        &stderr,
        &[
            "Source path not found in commit",
            "\"infra\"",
            &before,
            "braid.hcl:1:",
        ],
    );
    let file = project_with(&format!(
        "source \"infra\" {{\n  repo = \"{}\"\n  path = \"README.md\"\n}}\n",
        repo.hcl_path()
    ));
    assert_mentions(&plan_error(&file, &[]), &["Source path is not a directory"]);
}

#[test]
fn submodules_are_reported_as_unsupported() {
    let repo = infra_repo();
    let commit = repo.git(&["rev-parse", "HEAD"]);
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{commit},infra/vendor"),
    ]);
    repo.git(&["commit", "--quiet", "-m", "submodule"]);
    let project = infra_project(&repo, "main");
    assert_mentions(
        &plan_error(&project, &[]),
        &["Submodules are not supported", "infra/vendor"],
    );
}

#[test]
fn partial_and_shallow_repositories_missing_objects_are_reported() {
    let origin = infra_repo();
    let first = origin.git(&["rev-parse", "HEAD"]);
    origin.write("infra/bucket-name.txt", "assets-v2");
    origin.commit_all("v2");
    origin.git(&["config", "uploadpack.allowFilter", "true"]);
    let clones = tempfile::tempdir().expect("tempdir");
    let url = format!("file://{}", origin.hcl_path());
    git_in(
        clones.path(),
        &[
            "clone",
            "--quiet",
            "--bare",
            "--filter=blob:none",
            &url,
            "partial.git",
        ],
    );
    git_in(
        clones.path(),
        &[
            "clone",
            "--quiet",
            "--bare",
            "--depth=1",
            &url,
            "shallow.git",
        ],
    );
    let source = |dir: &str, reference: &str| {
        project_with(&format!(
            "source \"infra\" {{\n  repo = \"{}\"\n  ref = \"{reference}\"\n  path = \"infra\"\n}}\n",
            clones.path().join(dir).display()
        ))
    };
    assert_mentions(
        &plan_error(&source("partial.git", "main"), &[]),
        &["Git object missing", "may be partial"],
    );
    assert_mentions(
        &plan_error(&source("shallow.git", &first), &[]),
        &["Git object missing", "The repository is shallow"],
    );
}

#[test]
fn errors_in_git_files_name_the_source_and_the_path_in_the_repository() {
    let repo = infra_repo();
    repo.write(
        "infra/broken.hcl",
        "resource \"local_value\" \"v\" {\n  input = local_file.nope.id\n}\n",
    );
    repo.commit_all("broken");
    let project = infra_project(&repo, "main");
    let stderr = plan_error(&project, &[]);
    assert_mentions(&stderr, &["infra:infra/broken.hcl:2:"]);
}

/// The audit log of environment `dev`, newest first.
fn applies(project: &Project) -> Vec<braid_state::ApplyRecord> {
    use braid_state::StateStore;
    let store =
        braid_state::SqliteStore::open(&project.join(".braid/state/dev.db")).expect("open state");
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(store.applies(10))
        .expect("applies")
}
