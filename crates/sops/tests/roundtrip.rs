//! Files braid writes decrypt to what was encrypted, with every kind of key, in every
//! format; only what the rules say is encrypted; `reencrypt` keeps the keys.

#![allow(clippy::unwrap_used)]

mod common;
use common::gnupg_home;

use std::path::PathBuf;

use braid_keys::AgeIdentities;
use braid_sops::{EncryptOptions, Format, KeySources, decrypt, encrypt, reencrypt};

const NOW: &str = "2026-12-06T12:00:00Z";

const YAML: &str = "db:\n  user: admin\n  password: s3cr3t-pw\n  port: 5432\n  ratio: 0.25\n  tls: true\nhosts:\n  - a.example\n  - b.example\nreplicas_unencrypted: 3\nempty: \"\"\n";

fn age_keys() -> (KeySources, String) {
    let (identity, recipient) = braid_keys::age_keys::generate();
    let mut age = AgeIdentities::default();
    age.add_text(&identity, "test").unwrap();
    (
        KeySources {
            age,
            ..KeySources::default()
        },
        recipient,
    )
}

fn yaml_value(text: &str) -> serde_json::Value {
    serde_yaml_ng::from_str(text).unwrap()
}

#[tokio::test]
async fn age_encrypted_yaml_json_and_dotenv_decrypt_to_the_original() {
    let (keys, recipient) = age_keys();
    let options = EncryptOptions {
        age: vec![recipient.clone()],
        ..EncryptOptions::default()
    };
    let sealed = encrypt(YAML, Format::Yaml, &options, &keys, NOW)
        .await
        .unwrap();
    assert!(
        !sealed.contains("s3cr3t-pw") && !sealed.contains("admin"),
        "{sealed}"
    );
    assert!(sealed.contains("replicas_unencrypted: 3"), "{sealed}");
    assert!(sealed.contains(&recipient) && sealed.contains("BEGIN AGE ENCRYPTED FILE"));
    assert!(
        sealed.contains("type:int")
            && sealed.contains("type:float")
            && sealed.contains("type:bool")
    );
    let opened = decrypt(&sealed, Format::Yaml, &keys).await.unwrap();
    assert_eq!(yaml_value(&opened.text), yaml_value(YAML));
    assert!(opened.secrets.contains(&"s3cr3t-pw".to_string()));

    let json = r#"{"token": "tkn-123", "nested": {"n": 7, "list": ["x", "y"]}}"#;
    let sealed = encrypt(json, Format::Json, &options, &keys, NOW)
        .await
        .unwrap();
    let opened = decrypt(&sealed, Format::Json, &keys).await.unwrap();
    let a: serde_json::Value = serde_json::from_str(&opened.text).unwrap();
    let b: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(a, b);

    let env = "API_KEY=abc123\nMULTI=line1\\nline2\n";
    let sealed = encrypt(env, Format::Dotenv, &options, &keys, NOW)
        .await
        .unwrap();
    assert!(
        sealed.contains("sops_age__list_0__map_recipient="),
        "{sealed}"
    );
    assert!(!sealed.contains("abc123"));
    let opened = decrypt(&sealed, Format::Dotenv, &keys).await.unwrap();
    assert_eq!(opened.text, env);
}

#[tokio::test]
async fn encrypted_regex_leaves_the_rest_in_plain_text_and_the_mac_covers_it() {
    let (keys, recipient) = age_keys();
    let options = EncryptOptions {
        age: vec![recipient],
        encrypted_regex: Some("^(data|stringData)$".to_string()),
        ..EncryptOptions::default()
    };
    let secret =
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2\n";
    let sealed = encrypt(secret, Format::Yaml, &options, &keys, NOW)
        .await
        .unwrap();
    assert!(
        sealed.contains("kind: Secret") && sealed.contains("name: db"),
        "{sealed}"
    );
    assert!(!sealed.contains("hunter2") && sealed.contains("encrypted_regex"));
    let opened = decrypt(&sealed, Format::Yaml, &keys).await.unwrap();
    assert_eq!(yaml_value(&opened.text), yaml_value(secret));
    let renamed = sealed.replace("name: db", "name: other");
    assert!(decrypt(&renamed, Format::Yaml, &keys).await.is_err());
}

#[tokio::test]
async fn reencrypting_keeps_the_data_key_and_master_keys() {
    let (keys, recipient) = age_keys();
    let options = EncryptOptions {
        age: vec![recipient.clone()],
        ..EncryptOptions::default()
    };
    let sealed = encrypt(YAML, Format::Yaml, &options, &keys, NOW)
        .await
        .unwrap();
    let edited = YAML.replace("s3cr3t-pw", "n3w-pw");
    let again = reencrypt(
        &sealed,
        &edited,
        Format::Yaml,
        &keys,
        "2026-12-06T13:00:00Z",
    )
    .await
    .unwrap();
    let enc_of = |text: &str| {
        text.lines()
            .skip_while(|l| !l.contains("BEGIN AGE"))
            .take(3)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        enc_of(&sealed),
        enc_of(&again),
        "the wrapped data key is kept"
    );
    assert!(again.contains("2026-12-06T13:00:00Z"));
    let opened = decrypt(&again, Format::Yaml, &keys).await.unwrap();
    assert_eq!(yaml_value(&opened.text), yaml_value(&edited));
}

#[tokio::test]
async fn pgp_files_through_gpg() {
    let home = gnupg_home();
    let keys = KeySources {
        gpg: Some(PathBuf::from("gpg")),
        gnupg_home: Some(home.path().to_path_buf()),
        ..KeySources::default()
    };
    let options = EncryptOptions {
        pgp: vec![common::TEST_KEY.to_string()],
        ..EncryptOptions::default()
    };
    let sealed = encrypt(YAML, Format::Yaml, &options, &keys, NOW)
        .await
        .unwrap();
    assert!(
        sealed.contains("BEGIN PGP MESSAGE")
            && sealed.contains("fp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4"),
        "{sealed}"
    );
    let opened = decrypt(&sealed, Format::Yaml, &keys).await.unwrap();
    assert_eq!(yaml_value(&opened.text), yaml_value(YAML));
}
