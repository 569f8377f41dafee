//! The Terraform provider plugin tests run: `terraform-provider-aws` in a filesystem mirror.

use std::path::PathBuf;

/// Where the tests look for providers when `BRAID_TF_PLUGIN_DIR` is unset: a Terraform
/// filesystem mirror (the folder that holds `registry.terraform.io`).
pub const DEFAULT_MIRROR: &str = "/opt/tf-plugins";

/// `terraform-provider-aws` 5.100.0 for linux_amd64, in Terraform's filesystem-mirror
/// layout under `BRAID_TF_PLUGIN_DIR` (a mirror root) or [`DEFAULT_MIRROR`]. Panics saying
/// where it looked when it is not there: these tests are never skipped.
#[track_caller]
pub fn terraform_aws_provider() -> PathBuf {
    let (root, from) = mirror_root();
    let binary = root.join(
        "registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64/terraform-provider-aws_v5.100.0_x5",
    );
    if !binary.is_file() {
        panic!(
            "terraform-provider-aws 5.100.0 is needed by this test and was not found at {} \
             ({from}). Install it in Terraform's filesystem-mirror layout \
             (`terraform providers mirror DIR` with a configuration requiring \
             hashicorp/aws 5.100.0), then set BRAID_TF_PLUGIN_DIR to DIR.",
            binary.display()
        );
    }
    binary
}

/// The filesystem mirror holding `terraform-provider-aws` 5.100.0 (the folder above
/// `registry.terraform.io`), checked like [`terraform_aws_provider`].
#[track_caller]
pub fn terraform_plugin_mirror() -> PathBuf {
    terraform_aws_provider();
    mirror_root().0
}

fn mirror_root() -> (PathBuf, &'static str) {
    match std::env::var_os("BRAID_TF_PLUGIN_DIR") {
        Some(dir) => (PathBuf::from(dir), "BRAID_TF_PLUGIN_DIR"),
        None => (PathBuf::from(DEFAULT_MIRROR), "the default mirror"),
    }
}

/// `terraform-provider-braidtest` (crates/tfprovider-test), braid's own protocol-6 test
/// provider, built into the same target directory as the test running. Panics saying how to
/// build it when it is missing (`scripts/test.sh` builds every workspace binary first).
#[track_caller]
pub fn braidtest_provider() -> PathBuf {
    let binary = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("terraform-provider-braidtest")));
    match binary {
        Some(binary) if binary.is_file() => binary,
        other => panic!(
            "terraform-provider-braidtest is needed by this test and was not found at {}; \
             build it with `cargo build -p braid-tfprovider-test` (scripts/test.sh builds \
             the whole workspace first)",
            other.map_or_else(|| "(no path)".to_owned(), |p| p.display().to_string())
        ),
    }
}

/// A Terraform filesystem mirror under `root` holding [`braidtest_provider`] as
/// `braid/braidtest` version 0.1.0 for linux_amd64; returns the mirror root.
#[track_caller]
pub fn braidtest_mirror(root: &std::path::Path) -> PathBuf {
    let dir = root.join("registry.terraform.io/braid/braidtest/0.1.0/linux_amd64");
    std::fs::create_dir_all(&dir).expect("create the mirror's directories");
    std::fs::copy(
        braidtest_provider(),
        dir.join("terraform-provider-braidtest_v0.1.0_x6"),
    )
    .expect("copy terraform-provider-braidtest into the mirror");
    root.to_path_buf()
}
