//! Keys for braid's encryption at rest: AES-256-GCM envelopes whose data keys are wrapped
//! for age recipients and AWS KMS keys.
//!
//! State encryption (`state { encryption { ... } }`) and SOPS files share these pieces:
//! - [`aead`]: AES-256-GCM with a fresh random nonce per message;
//! - [`age_keys`]: age identities from the places SOPS and braid read them, and wrapping a
//!   key for age recipients;
//! - [`kms`]: wrapping a key with AWS KMS `Encrypt` / `Decrypt`;
//! - [`envelope`]: a data key per write, wrapped by every configured key, and the sealed text
//!   form braid stores.

pub mod aead;
pub mod age_keys;
pub mod envelope;
pub mod kms;

pub use age_keys::{AgeIdentities, IdentitySource};
pub use envelope::{DataKey, KeyError, Keyring, is_sealed};
pub use kms::KmsKey;
