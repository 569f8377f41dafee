//! The servers and fixtures braid's test suites run against — the real thing, never a mock of
//! braid's own code: `moto_server` for AWS ([`MotoServer`]), a throw-away PostgreSQL cluster
//! ([`Postgres`]), the kubesim Kubernetes API emulator ([`KubeSim`], feature `kubesim`),
//! git repositories made by the `git` command ([`GitRepo`]), and an OCI registry
//! (Distribution's `docker-registry`, [`OciRegistry`]) for Helm charts.
//!
//! A server that cannot be found or started fails the test with a message saying what is
//! missing and how to get it (`scripts/test.sh` installs everything); no test passes without
//! its server.

#![warn(missing_docs)]

mod git;
mod http_files;
#[cfg(feature = "kubesim")]
mod kubernetes;
mod moto;
mod postgres;
mod process;
mod registry;
mod terraform;

pub use git::{GitRepo, git_in};
pub use http_files::HttpFiles;
#[cfg(feature = "kubesim")]
pub use kubernetes::{KubeSim, http_request, kubesim_config};
pub use moto::{MOTO_CREDENTIALS, MotoServer};
pub use postgres::Postgres;
pub use registry::{OciRegistry, REGISTRY_PASSWORD, REGISTRY_USER, TokenFront};
pub use terraform::{
    DEFAULT_MIRROR, braidtest_mirror, braidtest_provider, terraform_aws_provider,
    terraform_plugin_mirror,
};

/// A temporary directory named `braid-test-…`, removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("braid-test-")
        .tempdir()
        .expect("create a temporary directory")
}
