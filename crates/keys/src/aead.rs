//! AES-256-GCM with a 96-bit random nonce per message and a 128-bit tag.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use rand::RngCore;

/// The length of a nonce.
pub const NONCE_LEN: usize = 12;
/// The length of a tag.
pub const TAG_LEN: usize = 16;

/// Encrypts `plaintext` with `key` and a fresh random nonce, binding `aad`. Returns the
/// nonce and the ciphertext with its tag appended.
pub fn seal(key: &[u8; 32], plaintext: &[u8], aad: &[u8]) -> ([u8; NONCE_LEN], Vec<u8>) {
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    (nonce, seal_with_nonce(key, &nonce, plaintext, aad))
}

/// Encrypts `plaintext` with `key` and the given `nonce`, binding `aad`: the ciphertext with
/// its tag appended. A nonce must never be used twice with the same key.
pub fn seal_with_nonce(key: &[u8; 32], nonce: &[u8], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key));
    // Encryption fails only for messages longer than GCM's limit (64 GiB), which braid
    // never seals in one piece.
    cipher
        .encrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .unwrap_or_default()
}

/// Decrypts what [`seal_with_nonce`] produced; `None` when the key, nonce, associated data
/// or ciphertext do not match (a wrong key or damaged data).
pub fn open(key: &[u8; 32], nonce: &[u8], ciphertext: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    if nonce.len() != NONCE_LEN {
        return None;
    }
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key));
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .ok()
}

/// `N` random bytes (IVs of other formats, such as SOPS's 32-byte ones).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// A new random 256-bit key.
pub fn random_key() -> zeroize::Zeroizing<[u8; 32]> {
    let mut key = zeroize::Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(key.as_mut());
    key
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sealed_messages_open_with_the_same_key_and_aad_only() {
        let key = random_key();
        let (nonce, sealed) = seal(&key, b"hunter2", b"ctx");
        assert_eq!(
            open(&key, &nonce, &sealed, b"ctx").as_deref(),
            Some(&b"hunter2"[..])
        );
        assert_eq!(open(&key, &nonce, &sealed, b"other"), None);
        assert_eq!(open(&random_key(), &nonce, &sealed, b"ctx"), None);
        let mut damaged = sealed.clone();
        damaged[0] ^= 1;
        assert_eq!(open(&key, &nonce, &damaged, b"ctx"), None);
        let (nonce2, _) = seal(&key, b"hunter2", b"ctx");
        assert_ne!(nonce, nonce2, "every message gets its own nonce");
    }
}
