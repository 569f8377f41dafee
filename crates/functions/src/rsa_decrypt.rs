//! `rsadecrypt(ciphertext, privatekey)`: RSA PKCS #1 v1.5 decryption of base64 text, as
//! Terraform's. The key is PEM, in PKCS #1 (`BEGIN RSA PRIVATE KEY`) or PKCS #8
//! (`BEGIN PRIVATE KEY`) form. Errors never quote the key or the text.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use braid_provider::Value;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::{Pkcs1v15Encrypt, PrivateKey};

use super::{Call, FunctionError};

pub(super) fn rsadecrypt(c: &Call<'_>) -> Result<Value, FunctionError> {
    let ciphertext = BASE64
        .decode(c.string(0)?.trim())
        .map_err(|_| c.arg_error(0, "failed to decode input as base64"))?;
    let pem = c.string(1)?;
    let key = PrivateKey::from_pkcs1_pem(&pem)
        .or_else(|_| PrivateKey::from_pkcs8_pem(&pem))
        .map_err(|_| {
            c.arg_error(
                1,
                "failed to parse key: a PEM RSA private key is required (BEGIN RSA PRIVATE KEY or BEGIN PRIVATE KEY)",
            )
        })?;
    let plain = key.decrypt(Pkcs1v15Encrypt, &ciphertext).map_err(|_| {
        c.failed("failed to decrypt: the ciphertext was not made with this key's public key")
    })?;
    String::from_utf8(plain)
        .map(Value::String)
        .map_err(|_| c.failed("the decrypted text is not valid UTF-8"))
}
