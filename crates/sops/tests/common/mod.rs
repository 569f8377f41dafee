//! What the tests of braid-sops share: a GnuPG home holding SOPS's functional-test key.

// Each test file uses part of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// A GnuPG home holding SOPS's functional-test key (`tests/fixtures`); gpg must be
/// installed (scripts/test.sh installs it).
pub fn gnupg_home() -> tempfile::TempDir {
    let home = tempfile::Builder::new()
        .prefix("braid-gnupg-")
        .tempdir()
        .expect("a temporary directory");
    let key =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sops_functional_tests_key.asc");
    let out = Command::new("gpg")
        .env("GNUPGHOME", home.path())
        .args(["--batch", "--quiet", "--import"])
        .arg(&key)
        .output()
        .unwrap_or_else(|e| panic!("gpg is needed by this test (apt-get install gnupg): {e}"));
    assert!(
        out.status.success(),
        "gpg --import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    home
}

/// The fingerprint of SOPS's functional-test key.
pub const TEST_KEY: &str = "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4";
