//! Writing SOPS files: a fresh data key wrapped for each master key, every value sealed
//! bound to its path, the MAC over the plaintext values — the files the real sops reads.

use std::collections::BTreeMap;
use std::path::Path;

use aes_gcm::aead::consts::U32;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use braid_keys::KmsKey;
use sha2::{Digest, Sha512};

use crate::format::{self, Format, Node};
use crate::keys::{KeySources, data_key};
use crate::{MAC_ONLY_ENCRYPTED_INIT, Metadata, SopsError, hex_upper};

/// The sops version written in the metadata: the one whose file format braid follows (its
/// published test files are what braid is checked against).
pub const SOPS_VERSION: &str = "3.13.1";

/// The keys and rules of a new SOPS file (as a `.sops.yaml` creation rule gives them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EncryptOptions {
    /// age recipients (`age1…`).
    pub age: Vec<String>,
    /// PGP key fingerprints, encrypted to with gpg.
    pub pgp: Vec<String>,
    /// AWS KMS keys (ARNs), with the encryption context of each.
    pub kms: Vec<(String, BTreeMap<String, String>)>,
    /// Keys ending with this stay in plain text (sops's default, `_unencrypted`, when no
    /// rule is given).
    pub unencrypted_suffix: Option<String>,
    /// Only keys ending with this are encrypted.
    pub encrypted_suffix: Option<String>,
    /// Only keys matching this are encrypted.
    pub encrypted_regex: Option<String>,
    /// Keys matching this stay in plain text.
    pub unencrypted_regex: Option<String>,
    /// The MAC covers the encrypted values only.
    pub mac_only_encrypted: bool,
}

impl EncryptOptions {
    fn rules(&self) -> Vec<(&'static str, String)> {
        let mut rules = Vec::new();
        let given = self.encrypted_suffix.is_some()
            || self.encrypted_regex.is_some()
            || self.unencrypted_regex.is_some();
        match &self.unencrypted_suffix {
            Some(suffix) => rules.push(("unencrypted_suffix", suffix.clone())),
            None if !given => rules.push(("unencrypted_suffix", "_unencrypted".to_string())),
            None => {}
        }
        for (name, value) in [
            ("encrypted_suffix", &self.encrypted_suffix),
            ("unencrypted_regex", &self.unencrypted_regex),
            ("encrypted_regex", &self.encrypted_regex),
        ] {
            if let Some(value) = value {
                rules.push((name, value.clone()));
            }
        }
        rules
    }
}

/// Encrypts the plain file `text` (of `format`) for the keys of `options`; `now` is the
/// RFC 3339 time recorded as `lastmodified`.
pub async fn encrypt(
    text: &str,
    format: Format,
    options: &EncryptOptions,
    keys: &KeySources,
    now: &str,
) -> Result<String, SopsError> {
    if options.age.is_empty() && options.pgp.is_empty() && options.kms.is_empty() {
        return Err(SopsError::Metadata(
            "no key to encrypt for: give age recipients, PGP fingerprints or KMS keys (or a .sops.yaml creation rule)".to_string(),
        ));
    }
    let (documents, metadata) = format::parse(text, format)?;
    if metadata.is_some() {
        return Err(SopsError::Metadata(
            "it is already encrypted (it has sops metadata); use braid sops edit to change it"
                .to_string(),
        ));
    }
    let key = braid_keys::aead::random_key();
    let mut entries = Vec::new();
    if !options.kms.is_empty() {
        let mut list = Vec::new();
        for (arn, context) in &options.kms {
            let kms = KmsKey {
                key_id: arn.clone(),
                region: None,
                endpoint: keys.kms_endpoint.clone(),
            };
            let client = kms.client().await;
            let blob = kms
                .encrypt(&client, key.as_ref(), context)
                .await
                .map_err(|e| SopsError::NoKey(e.to_string()))?;
            let mut entry = vec![("arn".to_string(), Node::Str(arn.clone()))];
            if !context.is_empty() {
                entry.push((
                    "context".to_string(),
                    Node::Map(
                        context
                            .iter()
                            .map(|(k, v)| (k.clone(), Node::Str(v.clone())))
                            .collect(),
                    ),
                ));
            }
            entry.extend([
                ("created_at".to_string(), Node::Str(now.to_string())),
                ("enc".to_string(), Node::Str(STANDARD.encode(blob))),
                ("aws_profile".to_string(), Node::Str(String::new())),
            ]);
            list.push(Node::Map(entry));
        }
        entries.push(("kms".to_string(), Node::List(list)));
    }
    if !options.pgp.is_empty() {
        let gpg = keys.gpg.clone().unwrap_or_else(|| "gpg".into());
        let mut list = Vec::new();
        for fingerprint in &options.pgp {
            let enc = gpg_encrypt(&gpg, keys.gnupg_home.as_deref(), fingerprint, key.as_ref())
                .map_err(|why| SopsError::NoKey(format!("PGP key {fingerprint}: {why}")))?;
            list.push(Node::Map(vec![
                ("created_at".to_string(), Node::Str(now.to_string())),
                ("enc".to_string(), Node::Str(enc)),
                ("fp".to_string(), Node::Str(fingerprint.clone())),
            ]));
        }
        entries.push(("pgp".to_string(), Node::List(list)));
    }
    if !options.age.is_empty() {
        let mut list = Vec::new();
        for recipient in &options.age {
            let parsed = braid_keys::age_keys::parse_recipient(recipient)
                .map_err(|e| SopsError::Metadata(e.to_string()))?;
            let file = braid_keys::age_keys::encrypt(&[parsed], key.as_ref(), true)
                .map_err(|e| SopsError::Metadata(e.to_string()))?;
            list.push(Node::Map(vec![
                (
                    "recipient".to_string(),
                    Node::Str(recipient.trim().to_string()),
                ),
                (
                    "enc".to_string(),
                    Node::Str(String::from_utf8_lossy(&file).into_owned()),
                ),
            ]));
        }
        entries.push(("age".to_string(), Node::List(list)));
    }
    let mut rules: Vec<(String, Node)> = options
        .rules()
        .into_iter()
        .map(|(k, v)| (k.to_string(), Node::Str(v)))
        .collect();
    if options.mac_only_encrypted {
        rules.push(("mac_only_encrypted".to_string(), Node::Bool(true)));
    }
    seal(documents, format, &key, entries, rules, now)
}

/// Encrypts the plain `text` again with the data key and master keys of the SOPS file
/// `original` (what `sops edit` does when the file was changed).
pub async fn reencrypt(
    original: &str,
    text: &str,
    format: Format,
    keys: &KeySources,
    now: &str,
) -> Result<String, SopsError> {
    let (_, metadata) = format::parse(original, format)?;
    let metadata = metadata.ok_or_else(|| {
        SopsError::Metadata("there is no sops entry: it is not a SOPS file".to_string())
    })?;
    let key = data_key(&metadata, keys).await?;
    let (documents, plain_metadata) = format::parse(text, format)?;
    if plain_metadata.is_some() {
        return Err(SopsError::Metadata(
            "the edited text holds a sops entry; remove it".to_string(),
        ));
    }
    let Node::Map(items) = metadata else {
        return Err(SopsError::Metadata("it is not a mapping".to_string()));
    };
    let (mut entries, mut rules) = (Vec::new(), Vec::new());
    for (name, value) in items {
        match name.as_str() {
            "lastmodified" | "mac" | "version" => {}
            "kms" | "pgp" | "age" | "gcp_kms" | "azure_kv" | "hc_vault" | "hckms"
            | "key_groups" | "shamir_threshold" => entries.push((name, value)),
            _ => rules.push((name, value)),
        }
    }
    seal(documents, format, &key, entries, rules, now)
}

/// Seals `documents` with `key` under the rules, and appends the metadata.
fn seal(
    mut documents: Vec<Node>,
    format: Format,
    key: &[u8; 32],
    entries: Vec<(String, Node)>,
    rules: Vec<(String, Node)>,
    now: &str,
) -> Result<String, SopsError> {
    let mut metadata: Vec<(String, Node)> = entries;
    metadata.extend(rules.iter().cloned());
    metadata.push(("lastmodified".to_string(), Node::Str(now.to_string())));
    metadata.push(("mac".to_string(), Node::Str(String::new())));
    metadata.push(("version".to_string(), Node::Str(SOPS_VERSION.to_string())));
    let meta = Metadata::read(&Node::Map(metadata.clone()))?;
    let mut hash = Sha512::new();
    if meta.mac_only_encrypted {
        hash.update(MAC_ONLY_ENCRYPTED_INIT);
    }
    for document in &mut documents {
        seal_node(document, &mut Vec::new(), &meta, key, &mut hash)?;
    }
    let mac = hex_upper(&hash.finalize());
    let sealed_mac = seal_text(mac.as_bytes(), "str", key, now)?;
    for (name, value) in &mut metadata {
        if name == "mac" {
            *value = Node::Str(sealed_mac.clone());
        }
    }
    let metadata = Node::Map(metadata);
    if let Some(Node::Map(entries)) = documents.last_mut() {
        entries.push(("sops".to_string(), metadata));
    }
    format::emit_encrypted(&documents, format)
}

fn seal_node(
    node: &mut Node,
    path: &mut Vec<String>,
    meta: &Metadata,
    key: &[u8; 32],
    hash: &mut Sha512,
) -> Result<(), SopsError> {
    match node {
        Node::Map(entries) => {
            for (name, value) in entries {
                path.push(name.clone());
                seal_node(value, path, meta, key, hash)?;
                path.pop();
            }
            Ok(())
        }
        Node::List(items) => items
            .iter_mut()
            .try_for_each(|item| seal_node(item, path, meta, key, hash)),
        Node::Null => Ok(()),
        leaf => {
            let encrypted = meta.encrypted(path);
            let text = leaf.to_text();
            if !meta.mac_only_encrypted || encrypted {
                hash.update(text.as_bytes());
            }
            if encrypted && !matches!(leaf, Node::Str(s) if s.is_empty()) {
                let kind = match leaf {
                    Node::Int(_) => "int",
                    Node::Float(_) => "float",
                    Node::Bool(_) => "bool",
                    _ => "str",
                };
                let aad = format!("{}:", path.join(":"));
                *leaf = Node::Str(seal_text(text.as_bytes(), kind, key, &aad)?);
            }
            Ok(())
        }
    }
}

/// One `ENC[AES256_GCM,…]` value with a fresh 32-byte IV.
fn seal_text(plain: &[u8], kind: &str, key: &[u8; 32], aad: &str) -> Result<String, SopsError> {
    let iv: [u8; 32] = braid_keys::aead::random_bytes();
    let cipher = AesGcm::<Aes256, U32>::new_from_slice(key)
        .map_err(|_| SopsError::Metadata("bad data key".to_string()))?;
    let sealed = cipher
        .encrypt(
            Nonce::<U32>::from_slice(&iv),
            Payload {
                msg: plain,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| SopsError::Metadata("the value is too long to encrypt".to_string()))?;
    let (data, tag) = sealed.split_at(sealed.len() - 16);
    Ok(format!(
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{kind}]",
        STANDARD.encode(data),
        STANDARD.encode(iv),
        STANDARD.encode(tag)
    ))
}

/// Encrypts the data key for a PGP key with gpg, armored, as sops does.
fn gpg_encrypt(
    gpg: &Path,
    home: Option<&Path>,
    fingerprint: &str,
    data_key: &[u8],
) -> Result<String, String> {
    let out = crate::keys::run_gpg(
        gpg,
        home,
        &[
            "--no-default-recipient",
            "--yes",
            "--encrypt",
            "--armor",
            "--trust-model",
            "always",
            "--recipient",
            fingerprint,
            "--no-encrypt-to",
        ],
        data_key,
    )?;
    String::from_utf8(out).map_err(|_| "gpg wrote no text".to_string())
}
