//! Sources cannot read outside themselves (issue #12): `file()`, `filebase64()`,
//! `fileexists()` and `templatefile()` refuse absolute paths, `../` chains that climb out of the source and
//! symbolic links that point out of it — for plain directories and git sources alike — and
//! the loader reads only regular files of bounded size, so a FIFO cannot hang it and
//! `/dev/zero` cannot fill memory. Git repositories are made with `git`.

use std::time::{Duration, Instant};

use crate::common::{self, Project, Run};
use braid_testkit::GitRepo;

/// What the file outside every source holds: it must never reach any output.
const SECRET: &str = "outside-SECRET-71c3";

/// A project whose one source is the directory `infra`, with `secret.txt` next to it,
/// outside the source, and `infra/inside.txt` inside.
fn plain_project(main_hcl: &str) -> Project {
    Project::with_files(&[
        (
            "braid.hcl",
            "source \"infra\" {\n  path = \"infra\"\n}\nenvironment \"dev\" {}\n",
        ),
        ("secret.txt", SECRET),
        ("infra/inside.txt", "inside-value"),
        ("infra/main.hcl", main_hcl),
    ])
}

fn local_file(expr: &str) -> String {
    format!(
        "resource \"local_file\" \"a\" {{\n  filename = \"out/a.txt\"\n  content  = {expr}\n}}\n"
    )
}

#[track_caller]
fn assert_refused(run: &Run, location: &str, why: &str) {
    run.expect_code(1);
    let err = &run.stderr;
    assert!(
        err.contains(&format!("--> {location}")),
        "no location {location}:\n{err}"
    );
    assert!(err.contains(why), "expected {why:?} in:\n{err}");
    assert!(
        err.contains("Put the file inside the source"),
        "no fix in:\n{err}"
    );
    assert!(
        !run.all().contains(SECRET),
        "the secret leaked:\n{}",
        run.all()
    );
}

#[test]
fn plain_source_reads_a_file_inside_it() {
    let project = plain_project(&local_file("file(\"inside.txt\")"));
    let run = project.braid(&["plan", "--format", "json"]);
    run.success();
    let plan = run.json();
    assert_eq!(
        common::change(&plan, "local_file.a")["after"]["content"],
        "inside-value"
    );
}

#[test]
fn plain_source_refuses_an_absolute_path() {
    let project = plain_project("");
    let secret = project.join("secret.txt").display().to_string();
    project.write(
        "infra/main.hcl",
        &local_file(&format!("file(\"{secret}\")")),
    );
    let run = project.braid(&["plan"]);
    assert_refused(&run, "infra/main.hcl:3:14", "is an absolute path");
}

#[test]
fn plain_source_refuses_a_parent_escape() {
    for call in [
        "file(\"../secret.txt\")",
        "filebase64(\"sub/../../secret.txt\")",
        "tostring(fileexists(\"../secret.txt\"))",
        "templatefile(\"../secret.txt\", {})",
    ] {
        let project = plain_project(&local_file(call));
        let run = project.braid(&["plan"]);
        assert_refused(&run, "infra/main.hcl:3:", "leads outside the source");
    }
}

#[cfg(unix)]
#[test]
fn plain_source_refuses_a_symlink_that_points_outside() {
    let project = plain_project(&local_file("file(\"link.txt\")"));
    std::os::unix::fs::symlink(project.join("secret.txt"), project.join("infra/link.txt"))
        .expect("symlink");
    let run = project.braid(&["plan"]);
    assert_refused(&run, "infra/main.hcl:3:14", "leads outside the source");
    project.write(
        "infra/main.hcl",
        &local_file("templatefile(\"link.txt\", {})"),
    );
    let run = project.braid(&["plan"]);
    assert_refused(&run, "infra/main.hcl:3:14", "leads outside the source");

    // A symlink that stays inside is fine.
    std::os::unix::fs::symlink("inside.txt", project.join("infra/alias.txt")).expect("symlink");
    project.write("infra/main.hcl", &local_file("file(\"alias.txt\")"));
    project.braid(&["plan"]).success();
}

#[cfg(unix)]
#[test]
fn plain_source_refuses_a_configuration_file_linked_from_outside() {
    let project = plain_project("");
    project.write(
        "outside.hcl",
        "output \"x\" {\n  value = \"outside-SECRET-71c3\"\n}\n",
    );
    std::os::unix::fs::symlink(project.join("outside.hcl"), project.join("infra/extra.hcl"))
        .expect("symlink");
    let run = project.braid(&["validate"]);
    run.expect_code(1);
    assert!(run.stderr.contains("infra/extra.hcl"), "{}", run.stderr);
    assert!(run.stderr.contains("outside the source"), "{}", run.stderr);
    assert!(!run.all().contains(SECRET), "{}", run.all());
}

/// A git repository whose `infra/main.hcl` calls `expr`, with a symbolic link
/// `infra/link.txt` to an absolute path.
fn git_project(expr: &str) -> (GitRepo, Project) {
    let repo = GitRepo::init();
    repo.write("infra/main.hcl", &local_file(expr));
    repo.write("infra/inside.txt", "inside-value");
    repo.commit_all("infra");
    let project = Project::with_files(&[
        (
            "braid.hcl",
            &format!(
                "source \"infra\" {{\n  repo = \"{}\"\n  ref  = \"main\"\n  path = \"infra\"\n}}\nenvironment \"dev\" {{}}\n",
                repo.hcl_path()
            ),
        ),
        ("secret.txt", SECRET),
    ]);
    (repo, project)
}

#[test]
fn git_source_reads_a_file_inside_it() {
    let (_repo, project) = git_project("file(\"inside.txt\")");
    let run = project.braid(&["plan", "--format", "json"]);
    run.success();
    assert_eq!(
        common::change(&run.json(), "local_file.a")["after"]["content"],
        "inside-value"
    );
}

#[test]
fn git_source_refuses_an_absolute_path() {
    let secret_project = Project::with_files(&[("secret.txt", SECRET)]);
    let secret = secret_project.join("secret.txt").display().to_string();
    let (_repo, project) = git_project(&format!("file(\"{secret}\")"));
    let run = project.braid(&["plan"]);
    assert_refused(&run, "infra:infra/main.hcl:3:14", "is an absolute path");
}

#[test]
fn git_source_refuses_a_parent_escape() {
    // The extracted tree is .braid/cache/trees/<id>/: four levels up is the project.
    let (_repo, project) = git_project("file(\"../../../../secret.txt\")");
    let run = project.braid(&["plan"]);
    assert_refused(
        &run,
        "infra:infra/main.hcl:3:14",
        "leads outside the source",
    );
}

#[cfg(unix)]
#[test]
fn git_source_does_not_follow_a_committed_symlink_out() {
    let (repo, project) = git_project("file(\"link.txt\")");
    std::os::unix::fs::symlink(
        project.join("secret.txt"),
        repo.path().join("infra/link.txt"),
    )
    .expect("symlink");
    repo.commit_all("a link out");
    let run = project.braid(&["plan"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("--> infra:infra/main.hcl:3:14"),
        "{}",
        run.stderr
    );
    assert!(
        !run.all().contains(SECRET),
        "the secret leaked:\n{}",
        run.all()
    );
}

/// Runs `braid validate` in `project`, failing the test if it takes longer than 30 s.
fn validate_within_deadline(project: &Project) -> Run {
    within_deadline(project, &["validate"], &[])
}

/// Runs braid with `args` in `project`, failing the test if it takes longer than 30 s.
fn within_deadline(project: &Project, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut child = common::spawn_braid(project.path(), args, env);
    let started = Instant::now();
    while child.try_wait().expect("poll braid").is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("braid {} hangs", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    common::wait_braid(child)
}

fn kustomize_project() -> Project {
    Project::with_files(&[
        (
            "braid.hcl",
            "source \"apps\" {\n  path = \"apps\"\n}\nenvironment \"dev\" {}\n",
        ),
        ("apps/kustomization.yaml", "resources:\n  - cm.yaml\n"),
        (
            "apps/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: default\ndata:\n  k: v\n",
        ),
    ])
}

#[cfg(unix)]
#[test]
fn a_fifo_in_a_source_does_not_hang_validate() {
    let project = kustomize_project();
    let fifo = project.join("apps/pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let run = validate_within_deadline(&project);
    run.assert_no_panic();
    run.success();
}

#[cfg(unix)]
#[test]
fn a_manifest_that_is_not_a_regular_file_is_an_error() {
    // A link to /dev/zero leads outside the source; a FIFO inside is not a regular file.
    let project = kustomize_project();
    std::os::unix::fs::symlink("/dev/zero", project.join("apps/zero.yaml")).expect("symlink");
    let run = validate_within_deadline(&project);
    run.expect_code(1);
    assert!(run.stderr.contains("apps/zero.yaml"), "{}", run.stderr);
    assert!(run.stderr.contains("outside the source"), "{}", run.stderr);

    let project = kustomize_project();
    let made = std::process::Command::new("mkfifo")
        .arg(project.join("apps/pipe.yaml"))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let run = validate_within_deadline(&project);
    run.expect_code(1);
    assert!(run.stderr.contains("apps/pipe.yaml"), "{}", run.stderr);
    assert!(
        run.stderr.contains("not a regular file (it is a FIFO)"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_configuration_file_over_the_size_limit_is_an_error() {
    let project = plain_project(&local_file("\"x\""));
    project.write("infra/big.hcl", &format!("# {}\n", "x".repeat(2000)));
    let run = project.braid_env(&["validate"], &[("BRAID_MAX_FILE_SIZE", "1000")]);
    run.expect_code(1);
    assert!(run.stderr.contains("infra/big.hcl"), "{}", run.stderr);
    assert!(run.stderr.contains("BRAID_MAX_FILE_SIZE"), "{}", run.stderr);
    project.braid(&["validate"]).success();
}

#[test]
fn file_over_the_size_limit_is_an_error() {
    let project = plain_project(&local_file("file(\"inside.txt\")"));
    project.write("infra/inside.txt", &"y".repeat(2000));
    let run = project.braid_env(&["plan"], &[("BRAID_MAX_FILE_SIZE", "1000")]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("--> infra/main.hcl:3:14"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("BRAID_MAX_FILE_SIZE"), "{}", run.stderr);
}

#[test]
fn a_git_configuration_file_over_the_size_limit_is_an_error() {
    let (repo, project) = git_project("\"x\"");
    repo.write("infra/big.hcl", &format!("# {}\n", "x".repeat(2000)));
    repo.commit_all("a big file");
    let run = project.braid_env(&["validate"], &[("BRAID_MAX_FILE_SIZE", "1000")]);
    run.expect_code(1);
    assert!(run.stderr.contains("infra:infra/big.hcl"), "{}", run.stderr);
    assert!(run.stderr.contains("BRAID_MAX_FILE_SIZE"), "{}", run.stderr);
}

#[test]
fn an_invalid_size_limit_is_an_error() {
    let project = plain_project(&local_file("\"x\""));
    let run = project.braid_env(&["validate"], &[("BRAID_MAX_FILE_SIZE", "8MB")]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("BRAID_MAX_FILE_SIZE=8MB is not a number of bytes"),
        "{}",
        run.stderr
    );
}

/// What a `local_file` manages is read back at every plan: a FIFO, a device or a huge file
/// put in its place makes the plan fail with a clear error, never hang or read without end.
#[cfg(unix)]
#[test]
fn a_managed_file_replaced_by_a_fifo_device_or_huge_file_is_an_error() {
    let project = Project::with_main(
        "resource \"local_file\" \"a\" {\n  filename = \"out/a.txt\"\n  content  = \"hello\"\n}\n",
    );
    project.braid(&["apply", "--auto-approve"]).success();
    let target = project.join("out/a.txt");

    std::fs::remove_file(&target).expect("remove");
    let made = std::process::Command::new("mkfifo")
        .arg(&target)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let run = within_deadline(&project, &["plan"], &[]);
    run.assert_no_panic();
    run.failure();
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
    assert!(run.stderr.contains("FIFO"), "{}", run.stderr);

    std::fs::remove_file(&target).expect("remove");
    std::os::unix::fs::symlink("/dev/zero", &target).expect("symlink");
    let run = within_deadline(&project, &["plan"], &[]);
    run.failure();
    assert!(run.stderr.contains("device"), "{}", run.stderr);

    std::fs::remove_file(&target).expect("remove");
    std::fs::write(&target, vec![b'x'; 5000]).expect("write");
    let run = within_deadline(&project, &["plan"], &[("BRAID_MAX_FILE_SIZE", "1000")]);
    run.failure();
    assert!(run.stderr.contains("BRAID_MAX_FILE_SIZE"), "{}", run.stderr);

    // Content that could not be read back is refused at plan time.
    project.write(
        "main.hcl",
        "resource \"local_file\" \"a\" {\n  filename = \"out/a.txt\"\n  content  = join(\"\", [for i in range(300) : \"0123456789\"])\n}\n",
    );
    std::fs::remove_file(&target).expect("remove");
    let run = within_deadline(&project, &["plan"], &[("BRAID_MAX_FILE_SIZE", "1000")]);
    run.failure();
    assert!(
        run.stderr.contains("File content too large"),
        "{}",
        run.stderr
    );
}

/// Repository URLs that would make git run a program are refused before anything is
/// fetched: remote helpers (`ext::`, `fd::`), ssh URLs whose host or user is an option
/// (`-oProxyCommand=…`), and schemes braid does not fetch.
#[test]
fn repository_urls_that_run_programs_are_refused() {
    let marker_dir = tempfile::tempdir().expect("temp dir");
    let marker = marker_dir.path().join("pwned");
    let m = marker.display().to_string();
    for url in [
        format!("ext::sh -c touch% {m}"),
        "fd::3".to_string(),
        format!("ssh://-oProxyCommand=touch% {m}/repo.git"),
        format!("ssh://git@-oProxyCommand=touch%20{m}/repo.git"),
        format!("-oProxyCommand=touch {m}:repo.git"),
        format!("ssh://-oProxyCommand%3Dtouch%20{m}@host/repo.git"),
        "gopher://example.com/repo.git".to_string(),
    ] {
        let project = Project::with_files(&[(
            "braid.hcl",
            &format!(
                "source \"infra\" {{\n  repo = \"{url}\"\n  ref  = \"main\"\n}}\nenvironment \"dev\" {{}}\n"
            ),
        )]);
        let run = within_deadline(&project, &["validate"], &[]);
        run.assert_no_panic();
        run.failure();
        assert!(
            run.stderr.contains("Unsafe repository URL"),
            "{url}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("braid.hcl:"), "{url}: {}", run.stderr);
        assert!(!marker.exists(), "{url} ran a program");
    }
}
