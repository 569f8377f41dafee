//! `local_file` against real files in temporary directories.

mod common;

use std::fs;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;

use braid_provider::{Path, Value};
use braid_provider_local::LocalProvider;
use common::{apply, attr, config, import, plan, plan_and_apply, provider_in, read};

const FILE: &str = "local_file";
/// sha256("hello\n")
const HELLO_SHA256: &str = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";

fn hello_config(filename: &str) -> Value {
    config([
        ("filename", Value::from(filename)),
        ("content", Value::from("hello\n")),
    ])
}

#[cfg(unix)]
fn mode_of(path: &std::path::Path) -> u32 {
    fs::metadata(path)
        .expect("file exists")
        .permissions()
        .mode()
        & 0o7777
}

#[tokio::test]
async fn create_writes_file_with_content_and_mode() {
    let dir = tempfile::tempdir().expect("temp dir");
    let provider = provider_in(dir.path()).await;
    let (planned, state) =
        plan_and_apply(&provider, FILE, None, &hello_config("out/nested/motd.txt")).await;

    let path = dir.path().join("out/nested/motd.txt");
    assert_eq!(fs::read_to_string(&path).expect("file written"), "hello\n");
    assert_eq!(attr(&planned.planned, "id"), &Value::from(HELLO_SHA256));
    assert_eq!(attr(&state, "id"), &Value::from(HELLO_SHA256));
    assert_eq!(attr(&state, "content_sha256"), &Value::from(HELLO_SHA256));
    assert_eq!(attr(&state, "file_permission"), &Value::from("0644"));
    assert_eq!(attr(&state, "directory_permission"), &Value::from("0755"));
    assert_eq!(
        attr(&state, "filename"),
        &Value::from("out/nested/motd.txt")
    );
    #[cfg(unix)]
    {
        assert_eq!(mode_of(&path), 0o644);
        assert_eq!(mode_of(&dir.path().join("out")), 0o755);
        assert_eq!(mode_of(&dir.path().join("out/nested")), 0o755);
    }
    // No temporary files are left next to the result.
    let names: Vec<_> = fs::read_dir(dir.path().join("out/nested"))
        .expect("dir exists")
        .map(|entry| entry.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("motd.txt")]);
}

#[cfg(unix)]
#[tokio::test]
async fn explicit_permissions_are_applied_regardless_of_umask() {
    let dir = tempfile::tempdir().expect("temp dir");
    let provider = provider_in(dir.path()).await;
    let cfg = config([
        ("filename", Value::from("shared/notes.txt")),
        ("content", Value::from("team notes")),
        // Group-writable: the usual umask 022 would strip these bits.
        ("file_permission", Value::from("0664")),
        ("directory_permission", Value::from("0775")),
    ]);
    plan_and_apply(&provider, FILE, None, &cfg).await;
    assert_eq!(mode_of(&dir.path().join("shared/notes.txt")), 0o664);
    assert_eq!(mode_of(&dir.path().join("shared")), 0o775);
}

#[tokio::test]
async fn plan_with_unchanged_config_equals_prior() {
    let dir = tempfile::tempdir().expect("temp dir");
    let provider = provider_in(dir.path()).await;
    let cfg = hello_config("motd.txt");
    let (_, state) = plan_and_apply(&provider, FILE, None, &cfg).await;

    let refreshed = read(&provider, FILE, &state).await;
    assert!(
        refreshed.diagnostics.is_empty(),
        "{:?}",
        refreshed.diagnostics
    );
    let refreshed = refreshed.state.expect("file exists");
    assert_eq!(refreshed, state);

    let again = plan(&provider, FILE, Some(&refreshed), &cfg).await;
    assert!(again.diagnostics.is_empty(), "{:?}", again.diagnostics);
    assert_eq!(again.planned, refreshed);
    assert!(again.requires_replace.is_empty());
}

#[tokio::test]
async fn content_change_updates_in_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let provider = provider_in(dir.path()).await;
    let (_, state) = plan_and_apply(&provider, FILE, None, &hello_config("motd.txt")).await;

    let changed = config([
        ("filename", Value::from("motd.txt")),
        ("content", Value::from("goodbye\n")),
    ]);
    let (planned, new_state) = plan_and_apply(&provider, FILE, Some(&state), &changed).await;
    assert!(planned.requires_replace.is_empty());
    assert_ne!(attr(&planned.planned, "id"), attr(&state, "id"));
    assert_eq!(
        fs::read_to_string(dir.path().join("motd.txt")).expect("file exists"),
        "goodbye\n"
    );
    assert_eq!(attr(&new_state, "content"), &Value::from("goodbye\n"));
}

#[cfg(unix)]
#[tokio::test]
async fn permission_change_updates_in_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let provider = provider_in(dir.path()).await;
    let (_, state) = plan_and_apply(&provider, FILE, None, &hello_config("motd.txt")).await;

    let changed = config([
        ("filename", Value::from("motd.txt")),
        ("content", Value::from("hello\n")),
        ("file_permission", Value::from("0640")),
    ]);
    let (planned, _) = plan_and_apply(&provider, FILE, Some(&state), &changed).await;
    assert!(planned.requires_replace.is_empty());
    assert_eq!(mode_of(&dir.path().join("motd.txt")), 0o640);
}

#[tokio::test]
async fn filename_change_requires_replace() {
    let dir = tempfile::tempdir().expect("temp dir");
    let provider = provider_in(dir.path()).await;
    let (_, state) = plan_and_apply(&provider, FILE, None, &hello_config("a.txt")).await;

    let moved = plan(&provider, FILE, Some(&state), &hello_config("b.txt")).await;
    assert!(moved.diagnostics.is_empty(), "{:?}", moved.diagnostics);
    assert_eq!(moved.requires_replace, vec![Path::key("filename")]);

    let unknown_name = config([
        ("filename", Value::Unknown),
        ("content", Value::from("hello\n")),
    ]);
    let maybe_moved = plan(&provider, FILE, Some(&state), &unknown_name).await;
    assert_eq!(maybe_moved.requires_replace, vec![Path::key("filename")]);
}

#[tokio::test]
async fn delete_removes_file_and_tolerates_missing_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let provider = provider_in(dir.path()).await;
    let cfg = hello_config("motd.txt");
    let (_, state) = plan_and_apply(&provider, FILE, None, &cfg).await;
    let path = dir.path().join("motd.txt");
    assert!(path.exists());

    let deleted = apply(&provider, FILE, Some(&state), None, &cfg).await;
    assert!(deleted.diagnostics.is_empty(), "{:?}", deleted.diagnostics);
    assert_eq!(deleted.new_state, None);
    assert!(!path.exists());

    let again = apply(&provider, FILE, Some(&state), None, &cfg).await;
    assert!(again.diagnostics.is_empty(), "{:?}", again.diagnostics);
    assert_eq!(again.new_state, None);
}

#[tokio::test]
async fn read_after_out_of_band_edit_shows_new_content() {
    let dir = tempfile::tempdir().expect("temp dir");
    let provider = provider_in(dir.path()).await;
    let cfg = hello_config("motd.txt");
    let (_, state) = plan_and_apply(&provider, FILE, None, &cfg).await;
    fs::write(dir.path().join("motd.txt"), "edited by hand\n").expect("edit file");

    let refreshed = read(&provider, FILE, &state).await;
    assert!(
        refreshed.diagnostics.is_empty(),
        "{:?}",
        refreshed.diagnostics
    );
    let refreshed = refreshed.state.expect("file still exists");
    assert_eq!(
        attr(&refreshed, "content"),
        &Value::from("edited by hand\n")
    );
    assert_ne!(attr(&refreshed, "id"), attr(&state, "id"));

    // The next plan puts the configured content back, in place.
    let repair = plan(&provider, FILE, Some(&refreshed), &cfg).await;
    assert!(repair.requires_replace.is_empty());
    assert_eq!(attr(&repair.planned, "content"), &Value::from("hello\n"));
    assert_ne!(repair.planned, refreshed);
}

#[tokio::test]
async fn read_of_binary_edit_switches_to_base64() {
    let dir = tempfile::tempdir().expect("temp dir");
    let provider = provider_in(dir.path()).await;
    let (_, state) = plan_and_apply(&provider, FILE, None, &hello_config("motd.txt")).await;
    fs::write(dir.path().join("motd.txt"), [0xff, 0x00, 0xfe]).expect("edit file");

    let refreshed = read(&provider, FILE, &state)
        .await
        .state
        .expect("file still exists");
    assert_eq!(attr(&refreshed, "content"), &Value::Null);
    assert_eq!(attr(&refreshed, "content_base64"), &Value::from("/wD+"));
}

#[cfg(unix)]
#[tokio::test]
async fn read_after_out_of_band_chmod_shows_new_permission() {
    let dir = tempfile::tempdir().expect("temp dir");
    let provider = provider_in(dir.path()).await;
    let (_, state) = plan_and_apply(&provider, FILE, None, &hello_config("motd.txt")).await;
    fs::set_permissions(
        dir.path().join("motd.txt"),
        fs::Permissions::from_mode(0o600),
    )
    .expect("chmod");

    let refreshed = read(&provider, FILE, &state)
        .await
        .state
        .expect("file still exists");
    assert_eq!(attr(&refreshed, "file_permission"), &Value::from("0600"));
}

#[tokio::test]
async fn read_after_out_of_band_delete_returns_none() {
    let dir = tempfile::tempdir().expect("temp dir");
    let provider = provider_in(dir.path()).await;
    let (_, state) = plan_and_apply(&provider, FILE, None, &hello_config("motd.txt")).await;
    fs::remove_file(dir.path().join("motd.txt")).expect("delete file");

    let refreshed = read(&provider, FILE, &state).await;
    assert!(
        refreshed.diagnostics.is_empty(),
        "{:?}",
        refreshed.diagnostics
    );
    assert_eq!(refreshed.state, None);
}

#[tokio::test]
async fn unknown_content_plans_unknown_id() {
    let dir = tempfile::tempdir().expect("temp dir");
    let provider = provider_in(dir.path()).await;
    let cfg = config([
        ("filename", Value::from("motd.txt")),
        ("content", Value::Unknown),
    ]);
    let planned = plan(&provider, FILE, None, &cfg).await;
    assert!(planned.diagnostics.is_empty(), "{:?}", planned.diagnostics);
    assert_eq!(attr(&planned.planned, "content"), &Value::Unknown);
    assert_eq!(attr(&planned.planned, "id"), &Value::Unknown);
    assert_eq!(attr(&planned.planned, "content_sha256"), &Value::Unknown);
    assert_eq!(
        attr(&planned.planned, "file_permission"),
        &Value::from("0644")
    );

    // At apply the engine passes the resolved configuration.
    let resolved = hello_config("motd.txt");
    let applied = apply(&provider, FILE, None, Some(&planned.planned), &resolved).await;
    assert!(applied.diagnostics.is_empty(), "{:?}", applied.diagnostics);
    let state = applied.new_state.expect("created");
    assert_eq!(attr(&state, "id"), &Value::from(HELLO_SHA256));
    assert_eq!(
        fs::read_to_string(dir.path().join("motd.txt")).expect("file written"),
        "hello\n"
    );
}

#[tokio::test]
async fn bad_permission_is_an_error_at_the_attribute() {
    let provider = LocalProvider::new();
    for bad in ["rw-r--r--", "0648", "64", "00644"] {
        let cfg = config([
            ("filename", Value::from("motd.txt")),
            ("content", Value::from("hello\n")),
            ("file_permission", Value::from(bad)),
        ]);
        let planned = plan(&provider, FILE, None, &cfg).await;
        assert_eq!(
            planned.diagnostics.len(),
            1,
            "{bad}: {:?}",
            planned.diagnostics
        );
        let diagnostic = &planned.diagnostics[0];
        assert!(diagnostic.is_error());
        assert_eq!(diagnostic.attribute, Some(Path::key("file_permission")));
        assert!(diagnostic.detail.contains("0644"), "{}", diagnostic.detail);
    }
}

#[tokio::test]
async fn content_and_content_base64_conflict() {
    let provider = LocalProvider::new();
    let cfg = config([
        ("filename", Value::from("motd.txt")),
        ("content", Value::from("hello\n")),
        ("content_base64", Value::from("aGVsbG8K")),
    ]);
    let planned = plan(&provider, FILE, None, &cfg).await;
    assert_eq!(planned.diagnostics.len(), 1, "{:?}", planned.diagnostics);
    assert!(planned.diagnostics[0].is_error());
    assert_eq!(
        planned.diagnostics[0].attribute,
        Some(Path::key("content_base64"))
    );
}

#[tokio::test]
async fn missing_content_and_empty_filename_are_errors() {
    let provider = LocalProvider::new();
    let cfg = config([("filename", Value::from(""))]);
    let planned = plan(&provider, FILE, None, &cfg).await;
    let attributes: Vec<_> = planned
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.attribute.clone())
        .collect();
    assert_eq!(
        attributes,
        vec![Some(Path::key("filename")), Some(Path::key("content"))]
    );
}

#[tokio::test]
async fn content_base64_writes_bytes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let provider = provider_in(dir.path()).await;
    let cfg = config([
        ("filename", Value::from("blob.bin")),
        ("content_base64", Value::from("/wD+")),
    ]);
    let (_, state) = plan_and_apply(&provider, FILE, None, &cfg).await;
    assert_eq!(
        fs::read(dir.path().join("blob.bin")).expect("file written"),
        vec![0xff, 0x00, 0xfe]
    );
    let refreshed = read(&provider, FILE, &state).await.state.expect("exists");
    assert_eq!(refreshed, state);

    let invalid = config([
        ("filename", Value::from("blob.bin")),
        ("content_base64", Value::from("not base64!")),
    ]);
    let planned = plan(&provider, FILE, None, &invalid).await;
    assert_eq!(
        planned.diagnostics[0].attribute,
        Some(Path::key("content_base64"))
    );
}

#[tokio::test]
async fn unwritable_location_reports_error_and_keeps_prior() {
    let dir = tempfile::tempdir().expect("temp dir");
    let provider = provider_in(dir.path()).await;
    fs::write(dir.path().join("blocker"), "a regular file").expect("write blocker");

    // Create under a regular file: nothing existed, nothing exists.
    let cfg = hello_config("blocker/sub/motd.txt");
    let planned = plan(&provider, FILE, None, &cfg).await;
    assert!(planned.diagnostics.is_empty(), "{:?}", planned.diagnostics);
    let created = apply(&provider, FILE, None, Some(&planned.planned), &cfg).await;
    assert_eq!(created.new_state, None);
    assert_eq!(created.diagnostics.len(), 1, "{:?}", created.diagnostics);
    let diagnostic = &created.diagnostics[0];
    assert!(diagnostic.is_error());
    assert_eq!(diagnostic.attribute, Some(Path::key("filename")));
    assert!(
        diagnostic.detail.contains("blocker"),
        "names the path: {}",
        diagnostic.detail
    );
    assert!(
        diagnostic.detail.contains("os error"),
        "names the OS error: {}",
        diagnostic.detail
    );

    // Update of an existing file whose directory became a regular file: prior is kept.
    let (_, state) = plan_and_apply(&provider, FILE, None, &hello_config("d/motd.txt")).await;
    fs::remove_dir_all(dir.path().join("d")).expect("remove dir");
    fs::write(dir.path().join("d"), "now a file").expect("write blocker");
    let changed = config([
        ("filename", Value::from("d/motd.txt")),
        ("content", Value::from("new\n")),
    ]);
    let planned = plan(&provider, FILE, Some(&state), &changed).await;
    let updated = apply(
        &provider,
        FILE,
        Some(&state),
        Some(&planned.planned),
        &changed,
    )
    .await;
    assert!(updated.diagnostics.iter().any(|d| d.is_error()));
    assert_eq!(updated.new_state, Some(state));
}

#[tokio::test]
async fn relative_filenames_resolve_against_base_dir() {
    let dir = tempfile::tempdir().expect("temp dir");
    let other = tempfile::tempdir().expect("temp dir");
    let provider = provider_in(dir.path()).await;

    plan_and_apply(&provider, FILE, None, &hello_config("rel.txt")).await;
    assert!(dir.path().join("rel.txt").exists());

    // Absolute filenames ignore base_dir.
    let absolute = other.path().join("abs.txt");
    let absolute = absolute.to_str().expect("UTF-8 temp path");
    let (_, state) = plan_and_apply(&provider, FILE, None, &hello_config(absolute)).await;
    assert!(other.path().join("abs.txt").exists());
    assert!(!dir.path().join("abs.txt").exists());
    assert_eq!(attr(&state, "filename"), &Value::from(absolute));
}

#[tokio::test]
async fn import_reads_file_by_filename() {
    let dir = tempfile::tempdir().expect("temp dir");
    let provider = provider_in(dir.path()).await;
    fs::write(dir.path().join("existing.txt"), "hello\n").expect("write file");

    let imported = import(&provider, FILE, "existing.txt").await;
    assert!(
        imported.diagnostics.is_empty(),
        "{:?}",
        imported.diagnostics
    );
    let state = imported.state.expect("imported");
    assert_eq!(attr(&state, "filename"), &Value::from("existing.txt"));
    assert_eq!(attr(&state, "content"), &Value::from("hello\n"));
    assert_eq!(attr(&state, "id"), &Value::from(HELLO_SHA256));

    let missing = import(&provider, FILE, "missing.txt").await;
    assert_eq!(missing.state, None);
    assert!(missing.diagnostics.iter().any(|d| d.is_error()));
}

/// A run killed between writing the temporary file and renaming it leaves
/// `.NAME.braid-PID-N.tmp` behind, with the content in it; the next write of that file
/// removes it. A live process's temporary file (a write in flight) is left alone.
#[tokio::test]
async fn leftover_temporary_files_of_a_killed_run_are_removed() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Above the largest pid_max Linux allows (2^22), so no process has this id.
    let dead = dir.path().join(".motd.txt.braid-4194400-0.tmp");
    let live = dir
        .path()
        .join(format!(".motd.txt.braid-{}-999.tmp", std::process::id()));
    let other = dir.path().join(".other.txt.braid-4194400-0.tmp");
    for path in [&dead, &live, &other] {
        fs::write(path, "secret").expect("write leftover");
    }
    let provider = provider_in(dir.path()).await;
    plan_and_apply(&provider, FILE, None, &hello_config("motd.txt")).await;
    assert!(
        !dead.exists(),
        "the killed run's temporary file is still there"
    );
    assert!(live.exists(), "a live writer's temporary file was removed");
    assert!(other.exists(), "another file's temporary file was removed");
}
