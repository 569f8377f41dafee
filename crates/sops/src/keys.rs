//! The data key of a SOPS file, from the first key group one of whose keys is at hand.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use braid_keys::{AgeIdentities, KmsKey};

use crate::SopsError;
use crate::format::Node;

/// Where data keys can come from.
#[derive(Debug, Clone, Default)]
pub struct KeySources {
    /// age identities (see [`AgeIdentities::from_environment`]).
    pub age: AgeIdentities,
    /// The gpg program for PGP keys: `SOPS_GPG_EXEC`, else `gpg` on PATH. It uses the
    /// keyring of `GNUPGHOME` (else `~/.gnupg`), as SOPS does.
    pub gpg: Option<PathBuf>,
    /// The GnuPG home gpg uses (`GNUPGHOME`), when not the process's.
    pub gnupg_home: Option<PathBuf>,
    /// A KMS endpoint for every KMS key (moto, LocalStack); else the AWS SDK's
    /// (`AWS_ENDPOINT_URL_KMS`, `AWS_ENDPOINT_URL`).
    pub kms_endpoint: Option<String>,
}

impl KeySources {
    /// The keys of this process's environment: age identities as SOPS finds them, and gpg.
    pub fn from_environment() -> Result<KeySources, braid_keys::KeyError> {
        Ok(KeySources {
            age: AgeIdentities::from_environment()?,
            gpg: Some(
                std::env::var_os("SOPS_GPG_EXEC")
                    .filter(|v| !v.is_empty())
                    .map_or_else(|| PathBuf::from("gpg"), PathBuf::from),
            ),
            gnupg_home: None,
            kms_endpoint: None,
        })
    }
}

/// The data key of the file whose metadata is `metadata`.
pub(crate) async fn data_key(metadata: &Node, keys: &KeySources) -> Result<[u8; 32], SopsError> {
    let groups: Vec<&Node> = match metadata.get("key_groups") {
        Some(Node::List(groups)) if !groups.is_empty() => groups.iter().collect(),
        _ => vec![metadata],
    };
    let threshold = match metadata.get("shamir_threshold") {
        Some(Node::Int(n)) => *n,
        Some(Node::Str(s)) => s.parse().unwrap_or(0),
        _ => 0,
    };
    if groups.len() > 1 && threshold > 1 {
        return Err(SopsError::Unsupported(format!(
            "its data key is split over {} key groups (shamir_threshold = {threshold}); braid does not read Shamir-split files yet",
            groups.len()
        )));
    }
    let mut tried = Vec::new();
    for (number, group) in groups.iter().enumerate() {
        let mut attempts = Vec::new();
        match try_group(group, keys, &mut attempts).await? {
            Some(key) => return Ok(key),
            None => tried.push(if groups.len() > 1 {
                format!("key group {}: {}", number + 1, attempts.join("; "))
            } else {
                attempts.join("; ")
            }),
        }
    }
    if tried.iter().all(String::is_empty) {
        return Err(SopsError::Metadata("it names no key".to_string()));
    }
    Err(SopsError::NoKey(tried.join(" | ")))
}

fn entries<'a>(group: &'a Node, kind: &str) -> Vec<&'a Node> {
    match group.get(kind) {
        Some(Node::List(items)) => items.iter().collect(),
        _ => Vec::new(),
    }
}

fn text<'a>(entry: &'a Node, name: &str) -> &'a str {
    match entry.get(name) {
        Some(Node::Str(s)) => s,
        _ => "",
    }
}

fn to_key(bytes: &[u8]) -> Option<[u8; 32]> {
    bytes.try_into().ok()
}

async fn try_group(
    group: &Node,
    keys: &KeySources,
    attempts: &mut Vec<String>,
) -> Result<Option<[u8; 32]>, SopsError> {
    for entry in entries(group, "age") {
        let recipient = text(entry, "recipient");
        match keys.age.decrypt(text(entry, "enc").as_bytes()) {
            Ok(Some(plain)) => {
                if let Some(key) = to_key(&plain) {
                    return Ok(Some(key));
                }
                attempts.push(format!("age recipient {recipient}: not a 256-bit key"));
            }
            Ok(None) if keys.age.is_empty() => {
                attempts.push(format!(
                    "age recipient {recipient}: {}",
                    keys.age.describe()
                ));
            }
            Ok(None) => attempts.push(format!(
                "age recipient {recipient}: not one of the {}",
                keys.age.describe()
            )),
            Err(e) => attempts.push(format!("age recipient {recipient}: {e}")),
        }
    }
    for entry in entries(group, "pgp") {
        let fingerprint = text(entry, "fp");
        match &keys.gpg {
            None => attempts.push(format!("PGP key {fingerprint}: gpg is not used here")),
            Some(gpg) => match gpg_decrypt(gpg, keys.gnupg_home.as_deref(), text(entry, "enc")) {
                Ok(plain) => {
                    if let Some(key) = to_key(&plain) {
                        return Ok(Some(key));
                    }
                    attempts.push(format!("PGP key {fingerprint}: not a 256-bit key"));
                }
                Err(why) => attempts.push(format!("PGP key {fingerprint}: {why}")),
            },
        }
    }
    for entry in entries(group, "kms") {
        let arn = text(entry, "arn");
        if !text(entry, "role").is_empty() {
            attempts.push(format!(
                "KMS key {arn}: assuming its role {} is not supported by braid yet",
                text(entry, "role")
            ));
            continue;
        }
        let Ok(blob) = STANDARD.decode(text(entry, "enc")) else {
            attempts.push(format!("KMS key {arn}: its enc is not base64"));
            continue;
        };
        let context: BTreeMap<String, String> = match entry.get("context") {
            Some(Node::Map(pairs)) => pairs
                .iter()
                .map(|(k, v)| (k.clone(), v.to_text()))
                .collect(),
            _ => BTreeMap::new(),
        };
        let key = KmsKey {
            key_id: arn.to_string(),
            region: None,
            endpoint: keys.kms_endpoint.clone(),
        };
        let client = key.client().await;
        match key.decrypt(&client, &blob, &context).await {
            Ok(plain) => {
                if let Some(key) = to_key(&plain) {
                    return Ok(Some(key));
                }
                attempts.push(format!("KMS key {arn}: not a 256-bit key"));
            }
            Err(e) => attempts.push(e.to_string()),
        }
    }
    for other in ["gcp_kms", "azure_kv", "hc_vault", "hckms"] {
        if !entries(group, other).is_empty() {
            attempts.push(format!("{other} keys: not supported by braid"));
        }
    }
    Ok(None)
}

/// Decrypts an armored PGP message with gpg, as SOPS does; the error is gpg's last words.
fn gpg_decrypt(
    gpg: &std::path::Path,
    home: Option<&std::path::Path>,
    message: &str,
) -> Result<Vec<u8>, String> {
    run_gpg(gpg, home, &["--decrypt"], message.as_bytes())
}

/// Runs gpg in batch mode with `args`, `input` on its standard input, in the GnuPG home
/// `home` (else the process's); its output, or its last line of errors.
pub(crate) fn run_gpg(
    gpg: &std::path::Path,
    home: Option<&std::path::Path>,
    args: &[&str],
    input: &[u8],
) -> Result<Vec<u8>, String> {
    let mut command = Command::new(gpg);
    if let Some(home) = home {
        command.env("GNUPGHOME", home);
    }
    let mut child = command
        .args(["--batch", "--no-tty", "--quiet"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", gpg.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input)
            .map_err(|e| format!("cannot write to gpg: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("gpg failed: {e}"))?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    Err(String::from_utf8_lossy(&out.stderr)
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or("gpg failed")
        .trim()
        .to_string())
}
