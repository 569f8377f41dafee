//! Who is running braid, for the audit log and the lock: `BRAID_ACTOR`, else the CI
//! system's user, else git's `user.name`/`user.email`, else the login name.

use std::path::Path;
use std::process::Command;

use braid_state::LockRequest;

/// The actor name recorded with applies and locks. git's identity is read in `project_dir`
/// (the `-C` directory), not wherever braid was started.
pub fn actor(project_dir: &Path) -> String {
    if let Some(a) = non_empty_env("BRAID_ACTOR") {
        return a;
    }
    // GitHub Actions, GitLab CI, Buildkite, generic CI.
    for var in [
        "GITHUB_ACTOR",
        "GITLAB_USER_LOGIN",
        "BUILDKITE_BUILD_CREATOR",
        "CI_ACTOR",
    ] {
        if let Some(a) = non_empty_env(var) {
            return format!("{a} (ci)");
        }
    }
    let git = |key: &str| {
        Command::new("git")
            .arg("-C")
            .arg(project_dir)
            .args(["config", "--get", key])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    match (git("user.name"), git("user.email")) {
        (Some(name), Some(email)) => return format!("{name} <{email}>"),
        (Some(name), None) => return name,
        (None, Some(email)) => return email,
        (None, None) => {}
    }
    non_empty_env("USER")
        .or_else(|| non_empty_env("USERNAME"))
        .unwrap_or_else(|| "unknown".to_string())
}

/// The URL of the CI run, when braid runs in a known CI system.
pub fn ci_url() -> Option<String> {
    if let (Some(server), Some(repo), Some(run)) = (
        non_empty_env("GITHUB_SERVER_URL"),
        non_empty_env("GITHUB_REPOSITORY"),
        non_empty_env("GITHUB_RUN_ID"),
    ) {
        return Some(format!("{server}/{repo}/actions/runs/{run}"));
    }
    non_empty_env("CI_JOB_URL").or_else(|| non_empty_env("BUILDKITE_BUILD_URL"))
}

/// The name of the machine braid runs on, recorded in the locks it takes: `HOSTNAME`, else
/// `/etc/hostname`, else `localhost`.
pub fn host() -> String {
    non_empty_env("HOSTNAME")
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// A lock request for `operation` by this process.
pub fn lock_request(operation: &str, project_dir: &Path) -> LockRequest {
    LockRequest {
        actor: actor(project_dir),
        host: host(),
        pid: std::process::id(),
        boot_id: braid_state::this_boot(),
        operation: operation.to_string(),
        ci_url: ci_url(),
    }
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// True when the holder of `old` was a process on this machine that no longer runs (rather
/// than a holder that went silent past its lease), for saying why a lock was taken over.
pub fn holder_died_here(old: &braid_state::LockInfo) -> bool {
    let here = LockRequest {
        actor: String::new(),
        host: host(),
        pid: std::process::id(),
        boot_id: braid_state::this_boot(),
        operation: String::new(),
        ci_url: None,
    };
    braid_state::holder_is_dead(old, &here)
}
