//! Files braid writes for itself are private (issue 12, item 5): `.braid/` and everything
//! under it is readable by the owner only, whatever the umask, because state, saved plans and
//! the source cache can hold secrets.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::common::{BRAID_HCL, Project};
use braid_testkit::GitRepo;

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

#[track_caller]
fn assert_private(path: &Path) {
    let mode = mode_of(path);
    assert_eq!(
        mode & 0o077,
        0,
        "{} is mode {mode:o}, readable by others",
        path.display()
    );
}

#[test]
fn state_directory_and_database_are_private() {
    let project = Project::with_files(&[
        ("braid.hcl", BRAID_HCL),
        (
            "main.hcl",
            "resource \"local_value\" \"a\" {\n  input = \"secret\"\n}\n",
        ),
    ]);
    project
        .braid(&["--env", "dev", "apply", "--auto-approve"])
        .success();
    assert_eq!(mode_of(&project.join(".braid")), 0o700);
    assert_eq!(mode_of(&project.join(".braid/state")), 0o700);
    assert_eq!(mode_of(&project.join(".braid/state/dev.db")), 0o600);
    for suffix in ["-wal", "-shm"] {
        let path = project.join(&format!(".braid/state/dev.db{suffix}"));
        if path.exists() {
            assert_eq!(mode_of(&path), 0o600, "{}", path.display());
        }
    }
}

#[test]
fn a_state_file_of_an_older_braid_is_made_private() {
    let project = Project::with_files(&[("braid.hcl", BRAID_HCL), ("main.hcl", "")]);
    project.braid(&["--env", "dev", "plan"]).success();
    let db = project.join(".braid/state/dev.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    project.braid(&["--env", "dev", "plan"]).success();
    assert_eq!(mode_of(&db), 0o600);
}

#[test]
fn saved_plan_is_private() {
    let project = Project::with_files(&[
        ("braid.hcl", BRAID_HCL),
        (
            "main.hcl",
            "resource \"local_value\" \"a\" {\n  input = \"secret\"\n}\n",
        ),
    ]);
    project
        .braid(&["--env", "dev", "plan", "--out", "plan.json"])
        .success();
    assert_eq!(mode_of(&project.join("plan.json")), 0o600);
}

#[test]
fn git_cache_is_private() {
    let repo = GitRepo::init();
    repo.write("infra/main.hcl", "locals {\n  a = file(\"x.txt\")\n}\n");
    repo.write("infra/x.txt", "secret");
    repo.commit_all("v1");
    let project = Project::with_files(&[(
        "braid.hcl",
        &format!(
            "source \"infra\" {{\n  repo = \"file://{}\"\n  ref  = \"main\"\n  path = \"infra\"\n}}\n\nenvironment \"dev\" {{}}\n",
            repo.hcl_path()
        ),
    )]);
    project.braid(&["--env", "dev", "plan"]).success();
    assert_eq!(mode_of(&project.join(".braid")), 0o700);
    assert_eq!(mode_of(&project.join(".braid/cache")), 0o700);
    let mut stack = vec![project.join(".braid/cache")];
    let mut files = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read cache") {
            let path = entry.expect("entry").path();
            let meta = std::fs::symlink_metadata(&path).expect("metadata");
            if meta.is_dir() {
                assert_eq!(mode_of(&path), 0o700, "{}", path.display());
                stack.push(path);
            } else if meta.is_file() {
                assert_private(&path);
                files += 1;
            }
        }
    }
    assert!(files > 0, "the cache holds no files");
}
