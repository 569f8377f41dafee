//! What the plugin tests share: the provider they run (braid-testkit finds it) and a
//! process check.

// Each test binary uses part of this module.
#![allow(dead_code)]

#[allow(unused_imports)]
pub use braid_testkit::terraform_aws_provider as aws_provider;

/// Whether a process with this id still exists (a zombie counts: it has not been reaped).
pub fn process_exists(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}
