//! What a release is made of: `braid version`, shell completion (with environment names from
//! braid.hcl), the archive `scripts/release-local.sh` builds (layout, checksums, SBOM) and
//! `scripts/install.sh` installing it from a local HTTP server, refusing a changed archive.

use std::path::{Path, PathBuf};
use std::process::Command;

use braid_testkit::HttpFiles;

use crate::common::{Project, manifest_dir};

const VERSION: &str = env!("CARGO_PKG_VERSION");

#[test]
fn version_reports_the_build_and_the_formats_it_reads() {
    let project = Project::with_main("");
    let run = project.braid(&["version", "--format", "json"]);
    run.success();
    let info = run.json();
    assert_eq!(info["version"], VERSION);
    let commit = info["commit"].as_str().expect("commit");
    assert!(
        commit == "unknown" || commit.chars().all(|c| c.is_ascii_hexdigit()),
        "{info}"
    );
    assert!(
        info["target"].as_str().expect("target").contains('-'),
        "{info}"
    );
    assert_eq!(info["formats"]["state_s3"], 2);
    assert_eq!(info["formats"]["plan"], "1.0");
    assert_eq!(info["terraform_language"], "1.11");
    assert!(
        info["providers"]
            .as_array()
            .expect("providers")
            .contains(&serde_json::json!("kubernetes")),
        "{info}"
    );
    let long = project.braid(&["--version"]);
    long.success();
    assert!(
        long.stdout
            .starts_with(&format!("braid {VERSION} (commit {commit}, built ")),
        "{}",
        long.stdout
    );
    let text = project.braid(&["version"]);
    text.success();
    assert!(
        text.stdout.contains("formats: state sqlite"),
        "{}",
        text.stdout
    );
}

/// Completions for `words` (the last one being completed) from braid's bash script, run by
/// bash in `dir` with this braid first on PATH.
fn bash_complete(dir: &Path, words: &[&str]) -> Vec<String> {
    let braid = PathBuf::from(env!("CARGO_BIN_EXE_braid"));
    let script = Command::new(&braid)
        .args(["completion", "bash"])
        .output()
        .expect("run braid completion bash");
    assert!(script.status.success());
    let script_path = dir.join("braid-completion.bash");
    std::fs::write(&script_path, &script.stdout).expect("write the script");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; _braid_complete \"${{COMP_WORDS[0]}}\" \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script_path.display(),
        quoted.join(" "),
        words.len() - 1
    );
    let path = format!(
        "{}:{}",
        braid.parent().expect("bin dir").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("bash")
        .args(["--norc", "-c", &program])
        .current_dir(dir)
        .env("PATH", path)
        .output()
        .expect("run bash (needed for this test)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completion_offers_subcommands_and_the_projects_environments() {
    let project = Project::with_files(&[(
        "braid.hcl",
        "source \"infra\" { path = \".\" }\nenvironment \"dev\" {}\nenvironment \"prod-eu\" {}\nenvironment \"prod-us\" {}\n",
    )]);
    let subcommands = bash_complete(project.path(), &["braid", "pl"]);
    assert_eq!(subcommands, ["plan"]);
    let all = bash_complete(project.path(), &["braid", ""]);
    for expected in ["apply", "plan", "state", "version", "completion"] {
        assert!(all.iter().any(|c| c == expected), "{expected} in {all:?}");
    }
    assert!(!all.iter().any(|c| c == "__envs"), "hidden: {all:?}");
    let envs = bash_complete(project.path(), &["braid", "plan", "--env", ""]);
    assert_eq!(envs, ["dev", "prod-eu", "prod-us"]);
    let prod = bash_complete(project.path(), &["braid", "apply", "--env", "prod"]);
    assert_eq!(prod, ["prod-eu", "prod-us"]);
    // -C names the project: asked from elsewhere, the same names.
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let dir = project.path().display().to_string();
    let from_c = bash_complete(
        elsewhere.path(),
        &["braid", "-C", &dir, "plan", "--env", ""],
    );
    assert_eq!(from_c, ["dev", "prod-eu", "prod-us"]);
    // No project: no names, and no error.
    assert!(bash_complete(elsewhere.path(), &["braid", "plan", "--env", ""]).is_empty());
}

fn sha256_of(path: &Path) -> String {
    let output = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum (coreutils) is needed by this test");
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Packages this test build of braid (stripped, to keep the archive small) with
/// scripts/release-local.sh into `out`.
fn release_locally(out: &Path) {
    let binary = out.join("braid-stripped");
    std::fs::copy(env!("CARGO_BIN_EXE_braid"), &binary).expect("copy braid");
    let stripped = Command::new("strip")
        .arg(&binary)
        .status()
        .expect("strip (binutils) is needed by this test");
    assert!(stripped.success());
    let run = Command::new("bash")
        .arg(manifest_dir().join("scripts/release-local.sh"))
        .args(["--out"])
        .arg(out.join("dist"))
        .arg("--binary")
        .arg(&binary)
        .output()
        .expect("run scripts/release-local.sh");
    assert!(
        run.status.success(),
        "release-local.sh failed:\n{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::remove_file(&binary).expect("remove the copy");
}

fn host_target() -> String {
    let output = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("rustc -vV");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("a host line")
        .to_string()
}

#[test]
fn the_release_archive_holds_braid_completions_and_man_pages_with_checksums_and_an_sbom() {
    let work = tempfile::tempdir().expect("tempdir");
    release_locally(work.path());
    let dist = work.path().join("dist");
    let target = host_target();
    let archive = dist.join(format!("braid-{target}.tar.gz"));
    let listing = Command::new("tar")
        .arg("-tzf")
        .arg(&archive)
        .output()
        .expect("tar");
    assert!(listing.status.success());
    let listing = String::from_utf8_lossy(&listing.stdout);
    let top = format!("braid-{VERSION}-{target}/");
    for file in [
        "braid",
        "README.md",
        "CHANGELOG.md",
        "LICENSE",
        "completions/braid.bash",
        "completions/_braid",
        "completions/braid.fish",
        "completions/_braid.ps1",
        "man/braid.1",
        "man/braid-plan.1",
        "man/braid-state-pull.1",
    ] {
        assert!(
            listing.lines().any(|l| l == format!("{top}{file}")),
            "{file} in\n{listing}"
        );
    }
    assert!(
        !listing.lines().any(|l| l.contains("braid-help")),
        "{listing}"
    );
    // Checksums: every published file listed, each as computed.
    let sums = std::fs::read_to_string(dist.join("SHA256SUMS")).expect("SHA256SUMS");
    let sbom_name = format!("braid-{VERSION}.cdx.json");
    let mut listed = 0;
    for line in sums.lines() {
        let (sum, name) = line.split_once("  ").expect("sha256sum format");
        assert_eq!(sha256_of(&dist.join(name)), sum, "{name}");
        listed += 1;
    }
    assert_eq!(listed, 2, "{sums}");
    assert!(sums.contains(&format!("  braid-{target}.tar.gz")), "{sums}");
    assert!(sums.contains(&format!("  {sbom_name}")), "{sums}");
    // The SBOM names braid and the crates it is built from.
    let sbom: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dist.join(&sbom_name)).expect("sbom"))
            .expect("the SBOM is JSON");
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    assert_eq!(sbom["metadata"]["component"]["version"], VERSION);
    let components = sbom["components"].as_array().expect("components");
    assert!(
        components
            .iter()
            .any(|c| c["name"] == "tokio" && c["hashes"][0]["alg"] == "SHA-256"),
        "tokio in the SBOM"
    );
    assert!(
        !components.iter().any(|c| c["name"] == "insta"),
        "dev-dependencies are not in the binary"
    );
    let notes = std::fs::read_to_string(dist.join("RELEASE-NOTES.md")).expect("notes");
    assert!(notes.starts_with("## ["), "{notes}");
}

/// Serves `dist` as a release site: `/download/vVERSION/FILE` and `/latest/download/FILE`.
fn serve_release(dist: &Path, install_script: &Path) -> HttpFiles {
    let server = HttpFiles::start();
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dist)
        .expect("dist")
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect();
    files.push((
        "install.sh".to_string(),
        std::fs::read(install_script).expect("install.sh"),
    ));
    for (name, body) in files {
        server.put(&format!("/download/v{VERSION}/{name}"), body.clone());
        server.put(&format!("/latest/download/{name}"), body);
    }
    server
}

fn install(server: &HttpFiles, prefix: &Path, version: &str) -> std::process::Output {
    Command::new("sh")
        .arg(manifest_dir().join("scripts/install.sh"))
        .args(["--version", version, "--base-url", &server.url()])
        .arg("--prefix")
        .arg(prefix)
        .env("HOME", prefix)
        .output()
        .expect("run scripts/install.sh")
}

#[test]
fn install_sh_installs_a_release_from_a_server_and_refuses_a_changed_archive() {
    let work = tempfile::tempdir().expect("tempdir");
    release_locally(work.path());
    let dist = work.path().join("dist");
    let script = manifest_dir().join("scripts/install.sh");
    let server = serve_release(&dist, &script);

    let prefix = work.path().join("prefix");
    let installed = install(&server, &prefix, &format!("v{VERSION}"));
    assert!(
        installed.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&installed.stdout),
        String::from_utf8_lossy(&installed.stderr)
    );
    let braid = prefix.join("bin/braid");
    let version = Command::new(&braid)
        .arg("--version")
        .output()
        .expect("run it");
    assert!(
        String::from_utf8_lossy(&version.stdout).starts_with(&format!("braid {VERSION} ")),
        "{version:?}"
    );
    assert!(prefix.join("share/man/man1/braid-apply.1").is_file());
    assert!(
        prefix
            .join("share/bash-completion/completions/braid")
            .is_file()
    );
    assert!(prefix.join("share/zsh/site-functions/_braid").is_file());
    assert!(
        prefix
            .join("share/fish/vendor_completions.d/braid.fish")
            .is_file()
    );
    // "latest" finds the same release.
    let latest = work.path().join("latest");
    assert!(install(&server, &latest, "latest").status.success());
    assert!(latest.join("bin/braid").is_file());

    // An archive that is not the one SHA256SUMS lists is refused, and nothing installed.
    let target = host_target();
    let archive = format!("/download/v{VERSION}/braid-{target}.tar.gz");
    let mut changed = server.file(&archive).expect("served archive");
    let last = changed.len() - 1;
    changed[last] ^= 0x55;
    server.put(&archive, changed);
    let refused_prefix = work.path().join("refused");
    let refused = install(&server, &refused_prefix, &format!("v{VERSION}"));
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    assert!(stderr.contains("Nothing was installed"), "{stderr}");
    assert!(!refused_prefix.join("bin/braid").exists());
    // A release that does not exist says so.
    let missing = install(&server, &work.path().join("missing"), "v9.9.9");
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("could not download"),
        "{missing:?}"
    );
}
