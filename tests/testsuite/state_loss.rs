//! State loss is never silent: an emptied, deleted or rolled-back state is refused with what
//! is missing and how to put it back, snapshots taken before each write are what `braid
//! state restore` puts back, and a new state where one existed needs `--new-state`.

use crate::common::Project;

const ALL: [&str; 3] = [
    "local_file.config",
    "local_file.motd",
    "local_value.release",
];

fn applied_quickstart() -> Project {
    let project = Project::fixture("quickstart");
    project
        .braid(&["--env", "dev", "apply", "--auto-approve"])
        .success();
    project
}

const DB: &str = ".braid/state/dev.db";

/// Removes the state database and its write-ahead log files.
fn remove_state(project: &Project) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(project.join(&format!("{DB}{suffix}")));
    }
}

/// A second apply that changes state, so a snapshot of the first one's state is taken.
fn apply_a_change(project: &Project) {
    project.edit(
        "braid.hcl",
        "greeting = \"hello\"",
        "greeting = \"hello again\"",
    );
    project
        .braid(&["--env", "dev", "apply", "--auto-approve"])
        .success();
}

#[test]
fn an_emptied_state_file_is_refused_with_how_to_restore_it() {
    let project = applied_quickstart();
    remove_state(&project);
    std::fs::write(project.join(DB), b"").expect("empty the state file");
    let run = project.braid(&["--env", "dev", "plan"]);
    run.expect_code(1);
    run.assert_no_panic();
    assert!(run.stderr.contains("0 bytes"), "{}", run.stderr);
    assert!(run.stderr.contains("braid state restore"), "{}", run.stderr);
    assert_eq!(
        std::fs::metadata(project.join(DB))
            .expect("state file")
            .len(),
        0,
        "the file is left as it was"
    );
}

#[test]
fn a_deleted_state_is_not_silently_recreated() {
    let project = applied_quickstart();
    remove_state(&project);
    let run = project.braid(&["--env", "dev", "plan"]);
    run.expect_code(1);
    run.assert_no_panic();
    assert!(run.stderr.contains("State is missing"), "{}", run.stderr);
    assert!(run.stderr.contains("braid state restore"), "{}", run.stderr);
    assert!(run.stderr.contains("--new-state"), "{}", run.stderr);
    assert!(!project.exists(DB), "no new state file was made");
    // Writes are refused the same way.
    project
        .braid(&["--env", "dev", "apply", "--auto-approve"])
        .expect_code(1);
    assert!(!project.exists(DB));

    // Knowingly starting over works, and then needs no flag any more.
    let fresh = project.braid(&["--env", "dev", "--new-state", "plan", "--format", "json"]);
    fresh.success();
    assert_eq!(
        crate::common::addresses_with_action(&fresh.json(), "create").len(),
        ALL.len()
    );
    project
        .braid(&["--env", "dev", "apply", "--auto-approve"])
        .success();
}

/// Without the record of the last serial (`.braid/serials` removed too), the snapshots
/// still say that this environment had a state.
#[test]
fn snapshots_alone_are_enough_to_refuse_a_deleted_state() {
    let project = applied_quickstart();
    apply_a_change(&project);
    remove_state(&project);
    std::fs::remove_dir_all(project.join(".braid/serials")).expect("remove the record");
    let run = project.braid(&["--env", "dev", "plan"]);
    run.expect_code(1);
    assert!(run.stderr.contains("State is missing"), "{}", run.stderr);
    assert!(!project.exists(DB), "no new state file was made");
    project
        .braid(&["--env", "dev", "state", "restore"])
        .success();
    assert_eq!(project.state_list(&["--env", "dev"]), ALL);
}

/// A state file put back from an old copy (or one whose write-ahead log was lost) has a
/// lower serial than this machine last saw.
#[test]
fn a_state_older_than_the_last_seen_serial_is_refused() {
    let project = applied_quickstart();
    let old = std::fs::read(project.join(DB)).expect("copy the state");
    apply_a_change(&project);
    remove_state(&project);
    std::fs::write(project.join(DB), old).expect("put the old copy back");
    for command in [&["plan"][..], &["state", "list"], &["history"]] {
        let run = project.braid(&[&["--env", "dev"][..], command].concat());
        run.expect_code(1);
        run.assert_no_panic();
        assert!(
            run.stderr.contains("State is older than the last one seen"),
            "{command:?}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("braid state restore"), "{}", run.stderr);
        assert!(
            run.stderr.contains("--accept-older-state"),
            "{}",
            run.stderr
        );
    }
    let serials = project.read(".braid/serials/dev.json");
    assert!(serials.contains("\"serial\""), "{serials}");
    project
        .braid(&["--env", "dev", "--accept-older-state", "state", "list"])
        .success();
}

#[test]
fn restore_puts_back_the_newest_snapshot_under_the_lock() {
    let project = applied_quickstart();
    apply_a_change(&project);
    let listed = project.braid(&["--env", "dev", "state", "snapshots", "--format", "json"]);
    listed.success();
    let snapshots = listed.json()["snapshots"]
        .as_array()
        .expect("snapshots")
        .clone();
    assert!(!snapshots.is_empty(), "{}", listed.stdout);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let path = snapshots[0]["path"].as_str().expect("path");
        let mode = std::fs::metadata(path)
            .expect("snapshot")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }

    // The state file is lost; restore sets it aside and puts the newest snapshot back.
    remove_state(&project);
    std::fs::write(project.join(DB), b"").expect("empty the state file");
    let restored = project.braid(&["--env", "dev", "state", "restore"]);
    restored.success();
    assert!(
        restored.stdout.contains("Restored snapshot"),
        "{}",
        restored.stdout
    );
    assert!(restored.stdout.contains("aside"), "{}", restored.stdout);
    assert_eq!(project.state_list(&["--env", "dev"]), ALL);
    let history = project.braid(&["--env", "dev", "history"]);
    history.success();
    assert!(
        history.stdout.contains("state restore"),
        "{}",
        history.stdout
    );
    // The state is the snapshot's (the one before the second apply), at a new serial.
    let newest = snapshots.last().expect("a snapshot");
    let snapshot: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(newest["path"].as_str().expect("path")).expect("snapshot"),
    )
    .expect("snapshot JSON");
    let pulled = project.braid(&["--env", "dev", "state", "pull"]);
    pulled.success();
    let pulled = pulled.json();
    assert_eq!(pulled["resources"], snapshot["resources"]);
    assert_eq!(pulled["lineage"], snapshot["lineage"]);
    assert!(
        pulled["serial"].as_u64() > snapshot["serial"].as_u64(),
        "{} after {}",
        pulled["serial"],
        snapshot["serial"]
    );
    project
        .braid(&["--env", "dev", "apply", "--auto-approve"])
        .success();
    project
        .braid(&["--env", "dev", "plan", "--detailed-exitcode"])
        .success();

    let missing = project.braid(&["--env", "dev", "state", "restore", "--snapshot", "nope"]);
    missing.expect_code(1);
    assert!(
        missing.stderr.contains("No such snapshot"),
        "{}",
        missing.stderr
    );
}

/// The commands that only read state work when the state directory and file cannot be
/// written (a read-only mount, another user's checkout): they neither take a lock nor need
/// to create SQLite's `-wal`/`-shm` files, and leave the file as it was. Runs braid as
/// `nobody` (root ignores permissions), from a copy of the binary `nobody` can execute.
#[cfg(unix)]
#[test]
fn read_only_commands_work_on_a_read_only_state_directory() {
    use std::os::unix::fs::PermissionsExt;
    if !std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
    {
        // Without root, the test cannot switch to another user; permissions on our own
        // files would not stop the owner's braid from narrowing them back.
        return;
    }
    let project = applied_quickstart();
    let bin_dir = tempfile::tempdir().expect("tempdir");
    let braid = bin_dir.path().join("braid");
    std::fs::copy(env!("CARGO_BIN_EXE_braid"), &braid).expect("copy braid");
    let everyone = |path: &std::path::Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod")
    };
    everyone(bin_dir.path(), 0o755);
    everyone(&braid, 0o755);
    // Readable by everyone, writable by root only: for nobody, all of it is read-only.
    let mut stack = vec![project.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        everyone(&dir, 0o755);
        for entry in std::fs::read_dir(&dir).expect("list") {
            let entry = entry.expect("entry");
            if entry.file_type().expect("type").is_dir() {
                stack.push(entry.path());
            } else {
                everyone(&entry.path(), 0o644);
            }
        }
    }
    let before = std::fs::read(project.join(DB)).expect("state");
    let as_nobody = |args: &[&str]| {
        let output = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&braid)
            .args(args)
            .current_dir(project.path())
            .env("NO_COLOR", "1")
            .env("HOME", bin_dir.path())
            .env("BRAID_ACTOR", "test-actor")
            .output()
            .expect("run braid as nobody");
        let text = format!(
            "{args:?}: exit {:?}\n{}{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.status.code().is_some_and(|c| c == 0 || c == 2),
            "{text}"
        );
        text
    };
    as_nobody(&["--env", "dev", "plan", "--detailed-exitcode"]);
    let listed = as_nobody(&["--env", "dev", "state", "list"]);
    assert!(listed.contains("local_value.release"), "{listed}");
    as_nobody(&["--env", "dev", "state", "show", "local_value.release"]);
    as_nobody(&["--env", "dev", "show"]);
    as_nobody(&["--env", "dev", "history"]);
    as_nobody(&["--env", "dev", "drift"]);
    assert_eq!(
        std::fs::read(project.join(DB)).expect("state"),
        before,
        "the state file is unchanged"
    );
}

/// `snapshots = N` in the state block keeps the newest N; a value that is not a count is
/// an error naming the setting.
#[test]
fn the_state_block_sets_how_many_snapshots_are_kept() {
    let project = Project::fixture("quickstart");
    project.edit(
        "braid.hcl",
        "environment \"dev\" {",
        "environment \"dev\" {\n  state {\n    backend   = \"sqlite\"\n    snapshots = 1\n  }",
    );
    for greeting in ["one", "two", "three"] {
        let text = project.read("braid.hcl");
        let start = text.find("greeting = \"").expect("greeting") + "greeting = \"".len();
        let end = start + text[start..].find('"').expect("closing quote");
        project.write(
            "braid.hcl",
            &format!("{}{greeting}{}", &text[..start], &text[end..]),
        );
        project
            .braid(&["--env", "dev", "apply", "--auto-approve"])
            .success();
    }
    let listed = project.braid(&["--env", "dev", "state", "snapshots", "--format", "json"]);
    listed.success();
    assert_eq!(
        listed.json()["snapshots"].as_array().map(Vec::len),
        Some(1),
        "{}",
        listed.stdout
    );

    project.edit("braid.hcl", "snapshots = 1", "snapshots = \"many\"");
    let run = project.braid(&["--env", "dev", "plan"]);
    run.expect_code(1);
    run.assert_no_panic();
    assert!(run.stderr.contains("snapshots must be"), "{}", run.stderr);
}
