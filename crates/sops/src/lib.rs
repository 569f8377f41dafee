//! Reading SOPS files: see the README.
//!
//! A SOPS file is the document it encrypts, with each leaf value replaced by
//! `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` (a 32-byte IV; the path of keys to the value,
//! joined and ended by `:`, is the associated data), plus a `sops` entry of metadata: the
//! data key encrypted for each master key, `lastmodified`, and `mac` — a SHA-512 over every
//! plaintext value in document order (or only the encrypted ones with `mac_only_encrypted`),
//! itself encrypted with `lastmodified` as associated data.

use std::path::Path;

use aes_gcm::aead::consts::U32;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha512};

mod encrypt;
mod format;
mod keys;

pub use encrypt::{EncryptOptions, SOPS_VERSION, encrypt, reencrypt};
pub use format::Format;
pub use keys::KeySources;

use format::Node;

/// Why a SOPS file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SopsError {
    /// The file is not valid YAML, JSON or dotenv.
    #[error("{0}")]
    Parse(String),
    /// The `sops` metadata is missing parts or holds something unexpected.
    #[error("its sops metadata is invalid: {0}")]
    Metadata(String),
    /// No key group could give the data key; says what was tried in each.
    #[error("no key can decrypt its data key; tried {0}")]
    NoKey(String),
    /// The file was changed after it was encrypted: a value does not open, or the MAC does
    /// not match the values.
    #[error("it was changed after it was encrypted ({0}); encrypt it again with sops")]
    Tampered(String),
    /// A part of SOPS braid does not read yet.
    #[error("{0}")]
    Unsupported(String),
}

/// A decrypted SOPS file.
#[derive(Debug, Clone, PartialEq)]
pub struct Decrypted {
    /// The document without its `sops` metadata, in the file's format (comments dropped).
    pub text: String,
    /// Every value that was encrypted, as text: what must be masked wherever it shows.
    pub secrets: Vec<String>,
}

/// Whether `text` is a SOPS file of `format`: it has `sops` metadata with a `mac`.
pub fn is_encrypted(text: &str, format: Format) -> bool {
    format::parse(text, format)
        .ok()
        .is_some_and(|(_, metadata)| metadata.is_some())
}

/// Decrypts the SOPS file `text` (of `format`) with the keys of `keys`.
pub async fn decrypt(
    text: &str,
    format: Format,
    keys: &KeySources,
) -> Result<Decrypted, SopsError> {
    let (mut documents, metadata) = format::parse(text, format)?;
    let metadata = metadata.ok_or_else(|| {
        SopsError::Metadata("there is no sops entry: it is not a SOPS file".to_string())
    })?;
    let meta = Metadata::read(&metadata)?;
    let key = keys::data_key(&metadata, keys).await?;
    let mut walk = Walk {
        meta: &meta,
        key: &key,
        hash: Sha512::new(),
        secrets: Vec::new(),
    };
    if meta.mac_only_encrypted {
        walk.hash.update(MAC_ONLY_ENCRYPTED_INIT);
    }
    for document in &mut documents {
        walk.node(document, &mut Vec::new())?;
    }
    let computed = hex_upper(&walk.hash.finalize());
    let stored = open_value(&meta.mac, &key, &meta.lastmodified)
        .map_err(|_| SopsError::Tampered("its MAC does not open".to_string()))?;
    if stored.text != computed {
        return Err(SopsError::Tampered(
            "the MAC does not match the values".to_string(),
        ));
    }
    Ok(Decrypted {
        text: format::emit(&documents, format)?,
        secrets: walk.secrets,
    })
}

/// Decrypts the file at `path`, its format taken from its name.
pub async fn decrypt_file(path: &Path, keys: &KeySources) -> Result<Decrypted, SopsError> {
    let format = Format::from_path(path);
    let text = std::fs::read_to_string(path)
        .map_err(|e| SopsError::Parse(format!("cannot read it: {e}")))?;
    decrypt(&text, format, keys).await
}

/// [`decrypt`] for callers that are not async (reading a source, evaluating an expression):
/// runs on a runtime of its own in a helper thread, with the keys of this process's
/// environment ([`KeySources::from_environment`]), and remembers each file's result for
/// the rest of the process.
pub fn decrypt_blocking(text: &str, format: Format) -> Result<Decrypted, SopsError> {
    use sha2::Sha256;
    static CACHE: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<[u8; 32], Decrypted>>,
    > = std::sync::OnceLock::new();
    static KEYS: std::sync::OnceLock<Result<KeySources, String>> = std::sync::OnceLock::new();
    let digest: [u8; 32] = Sha256::digest(text.as_bytes()).into();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(found) = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&digest)
    {
        return Ok(found.clone());
    }
    let keys = KEYS
        .get_or_init(|| KeySources::from_environment().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| SopsError::NoKey(e.clone()))?;
    let decrypted = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| SopsError::Unsupported(format!("cannot start a runtime: {e}")))?;
                runtime.block_on(decrypt(text, format, keys))
            })
            .join()
            .unwrap_or_else(|_| Err(SopsError::Unsupported("decryption panicked".to_string())))
    })?;
    cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(digest, decrypted.clone());
    Ok(decrypted)
}

/// Whether `text` looks like a SOPS file at all (cheap; [`is_encrypted`] parses).
pub fn looks_encrypted(text: &str) -> bool {
    text.contains("ENC[AES256_GCM,") && (text.contains("sops") && text.contains("mac"))
}

/// What `echo -n sops | sha256sum` gives: starts the MAC of a `mac_only_encrypted` file.
const MAC_ONLY_ENCRYPTED_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// The metadata that decides what is encrypted and checks the MAC.
struct Metadata {
    mac: String,
    lastmodified: String,
    unencrypted_suffix: Option<String>,
    encrypted_suffix: Option<String>,
    unencrypted_regex: Option<regex::Regex>,
    encrypted_regex: Option<regex::Regex>,
    mac_only_encrypted: bool,
}

impl Metadata {
    fn read(metadata: &Node) -> Result<Metadata, SopsError> {
        let text = |name: &str| match metadata.get(name) {
            None | Some(Node::Null) => Ok(None),
            Some(Node::Str(s)) => Ok(Some(s.clone())),
            Some(other) => Ok(Some(other.to_text())),
        };
        let required = |name: &str| {
            text(name)?.ok_or_else(|| SopsError::Metadata(format!("{name} is missing")))
        };
        let version = required("version")?;
        if !version.starts_with("3.") {
            return Err(SopsError::Unsupported(format!(
                "it was written by sops {version}; braid reads the format of sops 3"
            )));
        }
        for unsupported in ["unencrypted_comment_regex", "encrypted_comment_regex"] {
            if text(unsupported)?.is_some() {
                return Err(SopsError::Unsupported(format!(
                    "braid does not read files encrypted with {unsupported} yet"
                )));
            }
        }
        let regex = |name: &str| -> Result<Option<regex::Regex>, SopsError> {
            text(name)?
                .map(|r| {
                    regex::Regex::new(&r)
                        .map_err(|e| SopsError::Metadata(format!("{name} {r:?}: {e}")))
                })
                .transpose()
        };
        Ok(Metadata {
            mac: required("mac")?,
            lastmodified: required("lastmodified")?,
            unencrypted_suffix: text("unencrypted_suffix")?,
            encrypted_suffix: text("encrypted_suffix")?,
            unencrypted_regex: regex("unencrypted_regex")?,
            encrypted_regex: regex("encrypted_regex")?,
            mac_only_encrypted: matches!(
                metadata.get("mac_only_encrypted"),
                Some(Node::Bool(true))
            ) || text("mac_only_encrypted")?.as_deref() == Some("true"),
        })
    }

    /// Whether the value at `path` is encrypted, as SOPS decides it.
    fn encrypted(&self, path: &[String]) -> bool {
        let mut encrypted = true;
        if let Some(suffix) = &self.unencrypted_suffix
            && path.iter().any(|p| p.ends_with(suffix.as_str()))
        {
            encrypted = false;
        }
        if let Some(suffix) = &self.encrypted_suffix {
            encrypted = path.iter().any(|p| p.ends_with(suffix.as_str()));
        }
        if let Some(regex) = &self.unencrypted_regex
            && path.iter().any(|p| regex.is_match(p))
        {
            encrypted = false;
        }
        if let Some(regex) = &self.encrypted_regex {
            encrypted = path.iter().any(|p| regex.is_match(p));
        }
        encrypted
    }
}

struct Walk<'a> {
    meta: &'a Metadata,
    key: &'a [u8; 32],
    hash: Sha512,
    secrets: Vec<String>,
}

impl Walk<'_> {
    fn node(&mut self, node: &mut Node, path: &mut Vec<String>) -> Result<(), SopsError> {
        match node {
            Node::Map(entries) => {
                for (key, value) in entries {
                    path.push(key.clone());
                    self.node(value, path)?;
                    path.pop();
                }
                Ok(())
            }
            // List items share their list's path.
            Node::List(items) => items.iter_mut().try_for_each(|item| self.node(item, path)),
            Node::Null => Ok(()),
            leaf => self.leaf(leaf, path),
        }
    }

    fn leaf(&mut self, leaf: &mut Node, path: &[String]) -> Result<(), SopsError> {
        let encrypted = self.meta.encrypted(path);
        if encrypted {
            let Node::Str(text) = &*leaf else {
                return Err(SopsError::Tampered(format!(
                    "the value at {} is not encrypted",
                    path.join(".")
                )));
            };
            // SOPS leaves empty strings as they are.
            if !text.is_empty() {
                let aad = format!("{}:", path.join(":"));
                let opened = open_value(text, self.key, &aad).map_err(|why| {
                    SopsError::Tampered(format!("the value at {} {why}", path.join(".")))
                })?;
                self.secrets.push(opened.text.clone());
                *leaf = opened.node;
            }
        }
        if !self.meta.mac_only_encrypted || encrypted {
            self.hash.update(leaf.to_text().as_bytes());
        }
        Ok(())
    }
}

struct Opened {
    text: String,
    node: Node,
}

/// Opens one `ENC[AES256_GCM,…]` value bound to `aad`; the error says why not.
fn open_value(value: &str, key: &[u8; 32], aad: &str) -> Result<Opened, String> {
    let inner = value
        .strip_prefix("ENC[AES256_GCM,")
        .and_then(|v| v.strip_suffix(']'))
        .ok_or("is not an ENC[AES256_GCM,…] value")?;
    let mut data = None;
    let mut iv = None;
    let mut tag = None;
    let mut kind = None;
    for part in inner.split(',') {
        let (name, content) = part.split_once(':').ok_or("is malformed")?;
        match name {
            "data" => data = Some(content),
            "iv" => iv = Some(content),
            "tag" => tag = Some(content),
            "type" => kind = Some(content),
            _ => return Err(format!("has an unknown part {name}")),
        }
    }
    let decode = |part: Option<&str>, name: &str| {
        STANDARD
            .decode(part.ok_or(format!("has no {name}"))?)
            .map_err(|_| format!("has a {name} that is not base64"))
    };
    let (mut ciphertext, iv, tag) = (
        decode(data, "data")?,
        decode(iv, "iv")?,
        decode(tag, "tag")?,
    );
    if iv.len() != 32 {
        return Err(format!("has a {}-byte iv, not 32", iv.len()));
    }
    ciphertext.extend_from_slice(&tag);
    let cipher = AesGcm::<Aes256, U32>::new_from_slice(key).map_err(|_| "bad key")?;
    let plain = cipher
        .decrypt(
            Nonce::<U32>::from_slice(&iv),
            Payload {
                msg: &ciphertext,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| "does not decrypt (its data or place changed)".to_string())?;
    let text = String::from_utf8(plain).map_err(|_| "is not UTF-8")?;
    let node = match kind.unwrap_or("str") {
        "str" | "comment" | "time" | "bytes" => Node::Str(text.clone()),
        "int" => Node::Int(text.parse().map_err(|_| "is not an int")?),
        "float" => Node::Float(text.parse().map_err(|_| "is not a float")?),
        "bool" => Node::Bool(matches!(
            text.as_str(),
            "True" | "true" | "TRUE" | "1" | "t" | "T"
        )),
        other => return Err(format!("has an unknown type {other}")),
    };
    Ok(Opened { text, node })
}
