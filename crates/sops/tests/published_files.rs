//! SOPS's own published test files (tests/fixtures/README.md), encrypted by the real sops for
//! its functional-test PGP key, decrypted here through gpg in a GnuPG home of the test's own:
//! the values sops decrypts them to, the MAC accepted (which checks every plaintext value,
//! encrypted or not, byte for byte as sops hashed it), and a changed file or a missing key
//! refused.

#![allow(clippy::unwrap_used)]

mod common;
use common::gnupg_home;

use std::path::{Path, PathBuf};

use braid_sops::{Format, KeySources, SopsError, decrypt};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

fn keys(home: Option<&Path>) -> KeySources {
    KeySources {
        gpg: Some(PathBuf::from("gpg")),
        gnupg_home: home.map(Path::to_path_buf),
        ..KeySources::default()
    }
}

#[tokio::test]
async fn files_made_by_sops_decrypt_to_what_sops_gives() {
    let home = gnupg_home();
    let keys = keys(Some(home.path()));

    let yaml = decrypt(&fixture("format.enc.yaml"), Format::Yaml, &keys)
        .await
        .unwrap();
    assert_eq!(yaml.text, "foo: bar\n");
    assert_eq!(yaml.secrets, ["bar"]);

    let json = decrypt(&fixture("format.enc.json"), Format::Json, &keys)
        .await
        .unwrap();
    let value: serde_json::Value = serde_json::from_str(&json.text).unwrap();
    assert_eq!(value, serde_json::json!({"foo": "bar"}));

    let env = decrypt(&fixture("format.enc.env"), Format::Dotenv, &keys)
        .await
        .unwrap();
    assert_eq!(env.text, "foo = bar\n");

    let comments = decrypt(&fixture("comments.enc.yaml"), Format::Yaml, &keys)
        .await
        .unwrap();
    assert_eq!(comments.text, "lorem: ipsum\ndolor: sit\n");
}

#[tokio::test]
async fn sops_examples_with_every_value_type_and_unencrypted_parts() {
    let home = gnupg_home();
    let keys = keys(Some(home.path()));
    for (name, format) in [
        ("example.yaml", Format::Yaml),
        ("example.json", Format::Json),
    ] {
        let decrypted = decrypt(&fixture(name), format, &keys)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let value: serde_json::Value = match format {
            Format::Json => serde_json::from_str(&decrypted.text).unwrap(),
            _ => serde_yaml_ng::from_str(&decrypted.text).unwrap(),
        };
        // Parts under the _unencrypted suffix stay as they were.
        assert!(
            !decrypted.text.contains("ENC["),
            "{name}: {}",
            decrypted.text
        );
        assert!(value.get("sops").is_none(), "{name}");
        assert!(!decrypted.secrets.is_empty(), "{name}");
    }
}

#[tokio::test]
async fn a_changed_value_or_mac_is_refused() {
    let home = gnupg_home();
    let keys = keys(Some(home.path()));
    let original = fixture("example.yaml");

    // A value moved to another key: its path is its associated data.
    let lines: Vec<&str> = original.lines().collect();
    let user = lines
        .iter()
        .find(|l| l.trim_start().starts_with("user:"))
        .unwrap();
    let password = lines
        .iter()
        .find(|l| l.trim_start().starts_with("password:"))
        .unwrap();
    let swapped = original
        .replace(user, &user.replace("user:", "password:"))
        .replacen(password, &password.replace("password:", "user:"), 1);
    let err = decrypt(&swapped, Format::Yaml, &keys).await.unwrap_err();
    assert!(matches!(err, SopsError::Tampered(_)), "{err}");

    // An unencrypted value changed: only the MAC can tell.
    let changed = original.replace("remain in clear text", "remain in plain text");
    assert_ne!(changed, original);
    let err = decrypt(&changed, Format::Yaml, &keys).await.unwrap_err();
    assert!(
        matches!(&err, SopsError::Tampered(why) if why.contains("MAC")),
        "{err}"
    );
}

#[tokio::test]
async fn without_the_key_the_error_names_each_key_tried() {
    let empty = tempfile::Builder::new()
        .prefix("braid-gnupg-")
        .tempdir()
        .unwrap();
    let err = decrypt(
        &fixture("format.enc.yaml"),
        Format::Yaml,
        &keys(Some(empty.path())),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, SopsError::NoKey(_))
            && text.contains("PGP key FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4")
            && text.contains("ecret key"),
        "{text}"
    );
}
