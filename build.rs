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
    // Build again when HEAD moves: a checkout or a new commit.
    if let Some(git_dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={git_dir}/HEAD");
        println!("cargo:rerun-if-changed={git_dir}/packed-refs");
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={git_dir}/{branch}");
        }
    }
}
