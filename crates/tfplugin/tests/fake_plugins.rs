//! Plugins that fail to start, as shell scripts: each must end in an error that says what
//! happened and shows the plugin's stderr, and leave no process behind.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use braid_tfplugin::{PluginCommand, ProviderPlugin, StartError};

fn script(dir: &tempfile::TempDir, body: &str) -> PathBuf {
    let path = dir.path().join("terraform-provider-fake");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write the fake plugin");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .expect("make the fake plugin executable");
    path
}

fn read_pid(file: &std::path::Path) -> u32 {
    std::fs::read_to_string(file)
        .expect("the fake plugin wrote its pid")
        .trim()
        .parse()
        .expect("a pid")
}

async fn start(program: PathBuf, timeout: Duration) -> StartError {
    let mut command = PluginCommand::new(program);
    command.handshake_timeout = timeout;
    ProviderPlugin::start(&command)
        .await
        .expect_err("the fake plugin cannot start")
}

#[tokio::test]
async fn plugin_that_exits_at_once_reports_status_and_stderr() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let program = script(
        &dir,
        r#"echo "starting" >&2
echo "fatal: no credentials for this plugin" >&2
exit 3"#,
    );
    let error = start(program, Duration::from_secs(10)).await;
    let message = error.to_string();
    assert!(
        matches!(error, StartError::ExitedBeforeHandshake { .. }),
        "{message}"
    );
    assert!(message.contains("exit status: 3"), "{message}");
    assert!(
        message.contains("stderr ended with:\n  starting\n  fatal: no credentials for this plugin"),
        "{message}"
    );
}

#[tokio::test]
async fn plugin_that_prints_garbage_is_refused_and_killed() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let pid_file = dir.path().join("pid");
    let program = script(
        &dir,
        &format!(
            r#"echo $$ > {}
echo "oops" >&2
echo "this is not a handshake"
exec sleep 60"#,
            pid_file.display()
        ),
    );
    let error = start(program, Duration::from_secs(10)).await;
    let message = error.to_string();
    let StartError::InvalidHandshake { line, .. } = &error else {
        panic!("{message}");
    };
    assert_eq!(line, "this is not a handshake");
    assert!(message.contains("expected 6 fields"), "{message}");
    assert!(message.contains("\n  oops"), "{message}");
    let pid = read_pid(&pid_file);
    assert!(
        !common::process_exists(pid),
        "the fake plugin is still running"
    );
}

#[tokio::test]
async fn plugin_that_never_answers_times_out_and_is_killed() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let pid_file = dir.path().join("pid");
    let program = script(
        &dir,
        &format!(
            r#"echo $$ > {}
echo "waiting for something" >&2
exec sleep 60"#,
            pid_file.display()
        ),
    );
    let error = start(program, Duration::from_millis(500)).await;
    let message = error.to_string();
    assert!(
        matches!(error, StartError::HandshakeTimeout { .. }),
        "{message}"
    );
    assert!(message.contains("waiting for something"), "{message}");
    let pid = read_pid(&pid_file);
    assert!(
        !common::process_exists(pid),
        "the fake plugin is still running"
    );
}

#[tokio::test]
async fn missing_executable_names_the_path() {
    let error = start(
        PathBuf::from("/nonexistent/terraform-provider-nope"),
        Duration::from_secs(1),
    )
    .await;
    assert!(matches!(error, StartError::Spawn { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("/nonexistent/terraform-provider-nope")
    );
}
