//! Git repositories made by the real `git` command (as gitoxide's own fixtures are): the
//! reference implementation braid's git sources must agree with.

use std::path::Path;
use std::process::{Command, Stdio};

use tempfile::TempDir;

/// A git repository in a temporary directory, removed when dropped.
pub struct GitRepo {
    dir: TempDir,
}

impl GitRepo {
    /// An empty repository whose first branch is `main`.
    #[track_caller]
    pub fn init() -> GitRepo {
        let repo = GitRepo {
            dir: crate::tempdir(),
        };
        repo.git(&["init", "--quiet", "--initial-branch=main", "."]);
        repo
    }

    /// The work tree.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The path as braid.hcl would write it (forward slashes).
    pub fn hcl_path(&self) -> String {
        self.path().display().to_string().replace('\\', "/")
    }

    /// Runs git in the repository (see [`git_in`]); returns stdout, trimmed.
    #[track_caller]
    pub fn git(&self, args: &[&str]) -> String {
        git_in(self.path(), args)
    }

    /// Writes a file of the work tree, creating its parent directories.
    #[track_caller]
    pub fn write(&self, rel: &str, text: &str) {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create repository directory");
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Stages everything and commits; returns the new commit's SHA.
    #[track_caller]
    pub fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "--all"]);
        self.git(&["commit", "--quiet", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }
}

/// Runs git in `dir` with a fixed identity and no user or system config; returns stdout,
/// trimmed. Panics when git fails.
#[track_caller]
pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.com")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}
