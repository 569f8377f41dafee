//! Hashing functions over strings and over files of the source: MD5, SHA-1, SHA-2 and
//! name-based (version 5) UUIDs.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use braid_provider::Value;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::filesystem::read_file;
use super::{Call, FunctionError};

fn hex_digest<D: Digest>(bytes: &[u8]) -> Value {
    Value::String(hex::encode(D::digest(bytes)))
}

fn base64_digest<D: Digest>(bytes: &[u8]) -> Value {
    Value::String(BASE64.encode(D::digest(bytes)))
}

pub(super) fn md5(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(hex_digest::<Md5>(c.string(0)?.as_bytes()))
}

pub(super) fn sha1(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(hex_digest::<Sha1>(c.string(0)?.as_bytes()))
}

pub(super) fn base64sha512(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(base64_digest::<Sha512>(c.string(0)?.as_bytes()))
}

pub(super) fn filemd5(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(hex_digest::<Md5>(&read_file(c)?))
}

pub(super) fn filesha1(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(hex_digest::<Sha1>(&read_file(c)?))
}

pub(super) fn filesha256(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(hex_digest::<Sha256>(&read_file(c)?))
}

pub(super) fn filesha512(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(hex_digest::<Sha512>(&read_file(c)?))
}

pub(super) fn filebase64sha256(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(base64_digest::<Sha256>(&read_file(c)?))
}

pub(super) fn filebase64sha512(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(base64_digest::<Sha512>(&read_file(c)?))
}

/// `uuidv5(namespace, name)`: the namespace is `dns`, `url`, `oid`, `x500` or a UUID.
pub(super) fn uuidv5(c: &Call<'_>) -> Result<Value, FunctionError> {
    let namespace = c.string(0)?;
    let name = c.string(1)?;
    let namespace = match namespace.as_str() {
        "dns" => uuid::Uuid::NAMESPACE_DNS,
        "url" => uuid::Uuid::NAMESPACE_URL,
        "oid" => uuid::Uuid::NAMESPACE_OID,
        "x500" => uuid::Uuid::NAMESPACE_X500,
        other => uuid::Uuid::parse_str(other).map_err(|_| {
            c.arg_error(
                0,
                format!(
                    "uuidv5() doesn't support namespace {other:?}: use \"dns\", \"url\", \
                     \"oid\", \"x500\" or a UUID"
                ),
            )
        })?,
    };
    Ok(Value::String(
        uuid::Uuid::new_v5(&namespace, name.as_bytes()).to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{err, n, ok, s};

    #[test]
    fn digests() {
        assert_eq!(
            ok("md5", vec![s("hello world")]),
            s("5eb63bbbe01eeed093cb22bb8f5acdc3")
        );
        assert_eq!(
            ok("sha1", vec![s("hello world")]),
            s("2aae6c35c94fcfb415dbe95f408b9ce91ee846ed")
        );
        assert_eq!(ok("md5", vec![n(1)]), ok("md5", vec![s("1")]));
        assert!(
            ok("base64sha512", vec![s("hello world")])
                .as_str()
                .is_some_and(|h| h.starts_with("MJ7MSJwS1utMxA9QyQLytNDtd"))
        );
    }

    #[test]
    fn uuidv5_namespaces() {
        assert_eq!(
            ok("uuidv5", vec![s("dns"), s("www.terraform.io")]),
            s("a5008fae-b28c-5ba5-96cd-82b4c53552d6")
        );
        assert_eq!(
            ok(
                "uuidv5",
                vec![
                    s("6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
                    s("www.terraform.io")
                ]
            ),
            s("a5008fae-b28c-5ba5-96cd-82b4c53552d6")
        );
        assert!(
            err("uuidv5", vec![s("nope"), s("x")])
                .to_string()
                .contains("namespace")
        );
    }
}
