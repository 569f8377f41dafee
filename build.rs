//! Records what `braid version` reports about the build: the git commit, its date and the
//! target. `BRAID_BUILD_COMMIT` and `BRAID_BUILD_DATE` override what git says (for builds
//! from a source archive, where there is no repository).

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn main() {
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_string());
    println!("cargo:rustc-env=BRAID_BUILD_TARGET={target}");
    println!("cargo:rerun-if-env-changed=BRAID_BUILD_COMMIT");
    println!("cargo:rerun-if-env-changed=BRAID_BUILD_DATE");
    let commit = std::env::var("BRAID_BUILD_COMMIT")
        .ok()
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_string());
    // The commit's date rather than the clock's: the same commit builds the same binary.
    let date = std::env::var("BRAID_BUILD_DATE")
        .ok()
        .or_else(|| git(&["log", "-1", "--format=%cs"]))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=BRAID_BUILD_COMMIT={commit}");
    println!("cargo:rustc-env=BRAID_BUILD_DATE={date}");
    // Build again when HEAD moves: a checkout or a new commit. Only files that exist: cargo
    // runs a build script again every time for one that does not (a repository without
    // packed refs has no packed-refs).
    if let Some(git_dir) = git(&["rev-parse", "--git-dir"]) {
        let git_dir = std::path::Path::new(&git_dir);
        // `refs/heads` as a directory: a commit on a branch that is only packed so far
        // adds its loose file there.
        let watched = [
            git_dir.join("HEAD"),
            git_dir.join("packed-refs"),
            git_dir.join("refs").join("heads"),
        ];
        for path in watched.iter().filter(|p| p.exists()) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    } else {
        // Not in a repository (a source archive): nothing to watch but this script.
        println!("cargo:rerun-if-changed=build.rs");
    }
}
