//! Envelope encryption: each write gets a fresh 256-bit data key, the data is sealed with it
//! (AES-256-GCM), and the data key itself is stored beside the data, wrapped for every
//! configured key (age recipients, a KMS key). Any one of those keys opens it.
//!
//! The sealed text form is
//! `braid-enc:v1:<wrapped key>:<nonce>:<ciphertext and tag>`, each part base64url without
//! padding; the wrapped key is a JSON object `{"age": <age file>, "kms": [{"key_id",
//! "blob"}]}` (binary fields in standard base64). Data sealed in one write shares its wrapped
//! key, so opening a whole state unwraps each key once.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::aead;
use crate::age_keys::{AgeIdentities, encrypt as age_encrypt, parse_recipient};
use crate::kms::KmsKey;

/// What starts every sealed text.
pub const PREFIX: &str = "braid-enc:v1:";

/// Whether `text` is sealed data (starts with [`PREFIX`]).
pub fn is_sealed(text: &str) -> bool {
    text.starts_with(PREFIX)
}

/// Why a key could not be found, used or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// An age identity file or variable could not be read or parsed.
    #[error("{0}")]
    Identity(String),
    /// An age recipient is not valid, or encrypting to it failed.
    #[error("{0}")]
    Recipient(String),
    /// A KMS request failed.
    #[error("AWS KMS {operation} with key {key_id} failed: {message}")]
    Kms {
        /// `Encrypt` or `Decrypt`.
        operation: &'static str,
        /// The key.
        key_id: String,
        /// What AWS answered.
        message: String,
    },
    /// None of the available keys opens the data; says what was tried.
    #[error("no key opens it: tried {tried}")]
    NoKey {
        /// The keys tried, and why each failed.
        tried: String,
    },
    /// The data was changed or damaged since it was sealed (the tag does not match).
    #[error("it was changed or damaged since it was encrypted ({0})")]
    Damaged(String),
    /// Nothing is configured to seal with.
    #[error("no key to encrypt with: configure age_recipients or kms_key_id")]
    NoRecipients,
}

#[derive(Serialize, Deserialize)]
struct Wrapped {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    age: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    kms: Vec<KmsWrapped>,
}

#[derive(Serialize, Deserialize)]
struct KmsWrapped {
    key_id: String,
    blob: String,
}

/// The encryption context of every KMS wrap, so a blob made for braid's data keys cannot be
/// passed off as another application's.
fn kms_context() -> BTreeMap<String, String> {
    BTreeMap::from([("braid".to_string(), "data-key".to_string())])
}

/// A data key for one write, and its wrapped form.
pub struct DataKey {
    key: Zeroizing<[u8; 32]>,
    wrapped: String,
}

impl DataKey {
    /// Seals `plaintext`, binding `aad` (the data's place, so sealed data cannot be moved to
    /// another place unnoticed); the result is text.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> String {
        let (nonce, sealed) = aead::seal(&self.key, plaintext, aad);
        format!(
            "{PREFIX}{}:{}:{}",
            self.wrapped,
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(sealed)
        )
    }
}

/// The keys of one encryption configuration: what new data is wrapped for, and what can
/// unwrap existing data. Keeps the data keys it has unwrapped, so each is unwrapped once.
pub struct Keyring {
    age_recipients: Vec<age::x25519::Recipient>,
    kms: Option<KmsKey>,
    identities: AgeIdentities,
    clients: tokio::sync::Mutex<HashMap<KmsKey, aws_sdk_kms::Client>>,
    opened: Mutex<HashMap<String, Zeroizing<[u8; 32]>>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("age_recipients", &self.age_recipients.len())
            .field("kms", &self.kms)
            .field("identities", &self.identities)
            .finish()
    }
}

impl Keyring {
    /// A keyring wrapping new data keys for `age_recipients` (`age1…`) and the `kms` key,
    /// and opening data with `identities` or any KMS key a blob names.
    pub fn new(
        age_recipients: &[String],
        kms: Option<KmsKey>,
        identities: AgeIdentities,
    ) -> Result<Keyring, KeyError> {
        Ok(Keyring {
            age_recipients: age_recipients
                .iter()
                .map(|r| parse_recipient(r))
                .collect::<Result<_, _>>()?,
            kms,
            identities,
            clients: tokio::sync::Mutex::new(HashMap::new()),
            opened: Mutex::new(HashMap::new()),
        })
    }

    /// Whether new data can be sealed: some recipient or KMS key is configured.
    pub fn can_seal(&self) -> bool {
        !self.age_recipients.is_empty() || self.kms.is_some()
    }

    /// The configured age recipients, as text.
    pub fn age_recipients(&self) -> Vec<String> {
        self.age_recipients
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// The configured KMS key.
    pub fn kms_key(&self) -> Option<&KmsKey> {
        self.kms.as_ref()
    }

    async fn client(&self, key: &KmsKey) -> aws_sdk_kms::Client {
        let mut clients = self.clients.lock().await;
        if let Some(client) = clients.get(key) {
            return client.clone();
        }
        let client = key.client().await;
        clients.insert(key.clone(), client.clone());
        client
    }

    /// A fresh data key, wrapped for every configured key.
    pub async fn data_key(&self) -> Result<DataKey, KeyError> {
        if !self.can_seal() {
            return Err(KeyError::NoRecipients);
        }
        let key = aead::random_key();
        let age = if self.age_recipients.is_empty() {
            None
        } else {
            Some(STANDARD.encode(age_encrypt(&self.age_recipients, key.as_ref(), false)?))
        };
        let mut kms = Vec::new();
        if let Some(kms_key) = &self.kms {
            let client = self.client(kms_key).await;
            let blob = kms_key
                .encrypt(&client, key.as_ref(), &kms_context())
                .await?;
            kms.push(KmsWrapped {
                key_id: kms_key.key_id.clone(),
                blob: STANDARD.encode(blob),
            });
        }
        // Serializing two strings and a list of them cannot fail.
        let json = serde_json::to_vec(&Wrapped { age, kms }).unwrap_or_default();
        let wrapped = URL_SAFE_NO_PAD.encode(json);
        self.opened
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(wrapped.clone(), key.clone());
        Ok(DataKey { key, wrapped })
    }

    /// Opens what [`DataKey::seal`] sealed with the same `aad`.
    pub async fn open(&self, sealed: &str, aad: &[u8]) -> Result<Vec<u8>, KeyError> {
        let damaged = |what: &str| KeyError::Damaged(what.to_string());
        let rest = sealed
            .strip_prefix(PREFIX)
            .ok_or_else(|| damaged("not braid-encrypted data"))?;
        let mut parts = rest.split(':');
        let (Some(wrapped), Some(nonce), Some(ciphertext), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(damaged("its parts are missing"));
        };
        let nonce = URL_SAFE_NO_PAD
            .decode(nonce)
            .map_err(|_| damaged("bad nonce"))?;
        let ciphertext = URL_SAFE_NO_PAD
            .decode(ciphertext)
            .map_err(|_| damaged("bad ciphertext"))?;
        let key = self.unwrap(wrapped).await?;
        aead::open(&key, &nonce, &ciphertext, aad)
            .ok_or_else(|| damaged("the authentication tag does not match"))
    }

    async fn unwrap(&self, wrapped: &str) -> Result<Zeroizing<[u8; 32]>, KeyError> {
        if let Some(key) = self
            .opened
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(wrapped)
        {
            return Ok(key.clone());
        }
        let damaged = |what: &str| KeyError::Damaged(format!("its wrapped key is {what}"));
        let json = URL_SAFE_NO_PAD
            .decode(wrapped)
            .map_err(|_| damaged("not base64"))?;
        let parsed: Wrapped = serde_json::from_slice(&json).map_err(|_| damaged("not JSON"))?;
        let mut tried = Vec::new();
        let mut key = None;
        if let Some(age) = &parsed.age {
            let file = STANDARD.decode(age).map_err(|_| damaged("bad age data"))?;
            match self.identities.decrypt(&file)? {
                Some(plain) => key = Some(plain),
                None if self.identities.is_empty() => tried.push(self.identities.describe()),
                None => tried.push(format!(
                    "{}: none of them is a recipient",
                    self.identities.describe()
                )),
            }
        }
        for entry in &parsed.kms {
            if key.is_some() {
                break;
            }
            let blob = STANDARD
                .decode(&entry.blob)
                .map_err(|_| damaged("bad KMS data"))?;
            // The configured key's endpoint and region apply to its own blobs.
            let kms_key = match &self.kms {
                Some(k) if k.key_id == entry.key_id => k.clone(),
                _ => KmsKey {
                    key_id: entry.key_id.clone(),
                    region: None,
                    endpoint: self.kms.as_ref().and_then(|k| k.endpoint.clone()),
                },
            };
            let client = self.client(&kms_key).await;
            match kms_key.decrypt(&client, &blob, &kms_context()).await {
                Ok(plain) => key = Some(plain),
                Err(e) => tried.push(e.to_string()),
            }
        }
        if parsed.age.is_none() && parsed.kms.is_empty() {
            return Err(damaged("empty"));
        }
        let plain = key.ok_or_else(|| KeyError::NoKey {
            tried: tried.join("; "),
        })?;
        let bytes: [u8; 32] = plain
            .as_slice()
            .try_into()
            .map_err(|_| damaged("not a 256-bit key"))?;
        let bytes = Zeroizing::new(bytes);
        self.opened
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(wrapped.to_string(), bytes.clone());
        Ok(bytes)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use age::secrecy::ExposeSecret;

    fn identities(identity: &age::x25519::Identity) -> AgeIdentities {
        let mut ids = AgeIdentities::default();
        ids.add_text(identity.to_string().expose_secret(), "test key")
            .unwrap();
        ids
    }

    #[tokio::test]
    async fn sealed_data_opens_with_any_recipient_and_fails_clearly_otherwise() {
        let one = age::x25519::Identity::generate();
        let two = age::x25519::Identity::generate();
        let recipients = [one.to_public().to_string(), two.to_public().to_string()];
        let writer = Keyring::new(&recipients, None, AgeIdentities::default()).unwrap();
        let key = writer.data_key().await.unwrap();
        let sealed = key.seal(b"s3cr3t", b"resource a");
        assert!(is_sealed(&sealed) && !sealed.contains("s3cr3t"));
        let second = key.seal(b"s3cr3t", b"resource a");
        assert_ne!(sealed, second, "a fresh nonce per message");

        for identity in [&one, &two] {
            let reader = Keyring::new(&[], None, identities(identity)).unwrap();
            assert_eq!(
                reader.open(&sealed, b"resource a").await.unwrap(),
                b"s3cr3t"
            );
            let moved = reader.open(&sealed, b"resource b").await.unwrap_err();
            assert!(matches!(moved, KeyError::Damaged(_)), "{moved}");
        }

        let stranger =
            Keyring::new(&[], None, identities(&age::x25519::Identity::generate())).unwrap();
        let err = stranger.open(&sealed, b"resource a").await.unwrap_err();
        assert!(
            err.to_string().contains("test key") && err.to_string().contains("none of them"),
            "{err}"
        );
        let nobody = Keyring::new(&[], None, AgeIdentities::default()).unwrap();
        let err = nobody.open(&sealed, b"resource a").await.unwrap_err();
        assert!(err.to_string().contains("SOPS_AGE_KEY_FILE"), "{err}");

        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let reader = Keyring::new(&[], None, identities(&one)).unwrap();
        let err = reader
            .open(std::str::from_utf8(&tampered).unwrap(), b"resource a")
            .await
            .unwrap_err();
        assert!(matches!(err, KeyError::Damaged(_)), "{err}");

        assert!(matches!(
            nobody.data_key().await.err(),
            Some(KeyError::NoRecipients)
        ));
    }

    #[tokio::test]
    async fn every_write_gets_its_own_data_key() {
        let one = age::x25519::Identity::generate();
        let ring = Keyring::new(
            &[one.to_public().to_string()],
            None,
            AgeIdentities::default(),
        )
        .unwrap();
        let a = ring.data_key().await.unwrap();
        let b = ring.data_key().await.unwrap();
        assert_ne!(a.wrapped, b.wrapped);
        assert_ne!(*a.key, *b.key);
    }
}
