//! Files braid writes, read by the reference implementation: Mozilla's original `sops`
//! (1.18, from PyPI), which checks the MAC and every value as the Go `sops` does. It reads
//! PGP keys (through the same gpg), so the files are made for SOPS's functional-test key.
//! scripts/test.sh installs it into `~/.cache/braid-sops-venv` (or set BRAID_PYTHON_SOPS).

#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use braid_sops::{EncryptOptions, Format, KeySources, encrypt};
use common::{TEST_KEY, gnupg_home};

fn reference_sops() -> PathBuf {
    let path = std::env::var_os("BRAID_PYTHON_SOPS").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/braid-sops-venv/bin/sops")
        },
        PathBuf::from,
    );
    assert!(
        path.is_file(),
        "the reference sops is needed by this test and is not at {} — scripts/test.sh installs it (pip install sops==1.18 'ruamel.yaml<0.18' into ~/.cache/braid-sops-venv), or set BRAID_PYTHON_SOPS",
        path.display()
    );
    path
}

#[tokio::test]
async fn the_reference_sops_decrypts_what_braid_writes() {
    let sops = reference_sops();
    let home = gnupg_home();
    let keys = KeySources {
        gpg: Some(PathBuf::from("gpg")),
        gnupg_home: Some(home.path().to_path_buf()),
        ..KeySources::default()
    };
    let options = EncryptOptions {
        pgp: vec![TEST_KEY.to_string()],
        ..EncryptOptions::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "values.yaml",
            Format::Yaml,
            "db:\n  user: admin\n  password: s3cr3t\n  port: 5432\n  ratio: 0.25\n  tls: true\nhosts:\n  - a.example\n  - b.example\nwhen: \"2026-12-06T12:00:00Z\"\nmultiline: |\n  one\n  two\nreplicas_unencrypted: 3\n",
        ),
        (
            "creds.json",
            Format::Json,
            r#"{"token": "abc", "n": 7, "nested": {"list": ["x", 1.5, false]}, "empty": ""}"#,
        ),
    ];
    for (name, format, plain) in cases {
        let sealed = encrypt(plain, format, &options, &keys, "2026-12-06T12:00:00Z")
            .await
            .unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, &sealed).unwrap();
        let out = Command::new(&sops)
            .env("GNUPGHOME", home.path())
            .arg("-d")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the reference sops refuses braid's {name}:\n{}\n{sealed}",
            String::from_utf8_lossy(&out.stderr)
        );
        let decrypted = String::from_utf8(out.stdout).unwrap();
        let (a, b): (serde_json::Value, serde_json::Value) = match format {
            Format::Json => (
                serde_json::from_str(&decrypted).unwrap(),
                serde_json::from_str(plain).unwrap(),
            ),
            _ => (
                serde_yaml_ng::from_str(&decrypted).unwrap(),
                serde_yaml_ng::from_str(plain).unwrap(),
            ),
        };
        assert_eq!(a, b, "{name}: {decrypted}");
        // A changed value: the reference refuses it too (so its check is real).
        let tampered = sealed.replacen("data:", "data:A", 1);
        std::fs::write(&path, &tampered).unwrap();
        let refused = Command::new(&sops)
            .env("GNUPGHOME", home.path())
            .arg("-d")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            !refused.status.success(),
            "{name}: a tampered file decrypted"
        );
    }
}
