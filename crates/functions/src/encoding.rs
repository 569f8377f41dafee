//! Encoding and hashing functions: JSON, base64 and SHA-2 digests, and the Terraform-style JSON
//! writer that `format("%v")` also uses.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use braid_provider::{NumberError, Value};
use sha2::{Digest, Sha256, Sha512};

use super::{Call, FunctionError};

/// `base64gzip(text)`: the text gzip-compressed, then base64-encoded.
pub(super) fn base64gzip(c: &Call<'_>) -> Result<Value, FunctionError> {
    use std::io::Write as _;
    let text = c.string(0)?;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(text.as_bytes())
        .and_then(|()| encoder.finish())
        .map(|bytes| Value::String(BASE64.encode(bytes)))
        .map_err(|e| c.failed(format!("failed to compress: {e}")))
}

/// `csvdecode(text)`: a list of objects, one per record, keyed by the header line's fields.
pub(super) fn csvdecode(c: &Call<'_>) -> Result<Value, FunctionError> {
    let text = c.string(0)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(header)) => header,
        Some(Err(e)) => return Err(c.failed(format!("invalid CSV: {e}"))),
        None => return Err(c.failed("missing header line")),
    };
    let mut rows = Vec::new();
    for record in records {
        let record = record.map_err(|e| c.failed(format!("invalid CSV: {e}")))?;
        if record.len() != header.len() {
            let line = record.position().map_or(0, csv::Position::line);
            return Err(c.failed(format!("record on line {line}: wrong number of fields")));
        }
        rows.push(Value::map(
            header
                .iter()
                .zip(record.iter())
                .map(|(k, v)| (k.to_string(), Value::from(v))),
        ));
    }
    Ok(Value::List(rows))
}

/// The character encodings `textencodebase64` and `textdecodebase64` accept.
#[derive(Clone, Copy)]
enum TextEncoding {
    Utf8,
    Utf16Le,
    Utf16Be,
    Latin1,
}

fn text_encoding(c: &Call<'_>, i: usize) -> Result<TextEncoding, FunctionError> {
    let name = c.string(i)?;
    match name.to_ascii_uppercase().as_str() {
        "UTF-8" => Ok(TextEncoding::Utf8),
        "UTF-16LE" => Ok(TextEncoding::Utf16Le),
        "UTF-16BE" => Ok(TextEncoding::Utf16Be),
        "ISO-8859-1" | "ISO_8859-1" | "LATIN1" | "L1" => Ok(TextEncoding::Latin1),
        _ => Err(c.arg_error(
            i,
            format!(
                "{name:?} is not a supported IANA encoding name; braid supports UTF-8, \
                 UTF-16LE, UTF-16BE and ISO-8859-1"
            ),
        )),
    }
}

/// `textencodebase64(text, encoding)`: the text encoded in the named character encoding,
/// then base64-encoded.
pub(super) fn textencodebase64(c: &Call<'_>) -> Result<Value, FunctionError> {
    let text = c.string(0)?;
    let bytes: Vec<u8> = match text_encoding(c, 1)? {
        TextEncoding::Utf8 => text.into_bytes(),
        TextEncoding::Utf16Le => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        TextEncoding::Utf16Be => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
        TextEncoding::Latin1 => text
            .chars()
            .map(|ch| u8::try_from(u32::from(ch)))
            .collect::<Result<_, _>>()
            .map_err(|_| {
                c.arg_error(
                    0,
                    "the given string contains characters that cannot be represented in \
                     ISO-8859-1",
                )
            })?,
    };
    Ok(Value::String(BASE64.encode(bytes)))
}

/// `textdecodebase64(source, encoding)`: base64-decoded bytes read as text in the named
/// encoding; bytes that are not valid in it become U+FFFD.
pub(super) fn textdecodebase64(c: &Call<'_>) -> Result<Value, FunctionError> {
    let source = c.string(0)?;
    let encoding = text_encoding(c, 1)?;
    let bytes = BASE64.decode(source.as_bytes()).map_err(|e| {
        c.arg_error(
            0,
            format!("the given value has an invalid base64 symbol: {e}"),
        )
    })?;
    let utf16 = |pair: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = bytes
            .chunks(2)
            .map(|ch| match ch {
                [a, b] => pair([*a, *b]),
                _ => 0xFFFD,
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    let text = match encoding {
        TextEncoding::Utf8 => String::from_utf8_lossy(&bytes).into_owned(),
        TextEncoding::Utf16Le => utf16(u16::from_le_bytes),
        TextEncoding::Utf16Be => utf16(u16::from_be_bytes),
        TextEncoding::Latin1 => bytes.iter().map(|b| char::from(*b)).collect(),
    };
    Ok(Value::String(text))
}

pub(super) fn jsonencode(c: &Call<'_>) -> Result<Value, FunctionError> {
    if has_infinity(&c.args[0]) {
        return Err(c.failed(NumberError::InfinityInJson.to_string()));
    }
    Ok(Value::String(json_encode(&c.args[0])))
}

fn has_infinity(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.is_infinite(),
        Value::List(items) => items.iter().any(has_infinity),
        Value::Map(entries) => entries.values().any(has_infinity),
        _ => false,
    }
}

/// JSON text to a value; numbers keep every digit (decimal at 512 bits, as Terraform reads
/// them).
pub(super) fn jsondecode(c: &Call<'_>) -> Result<Value, FunctionError> {
    let text = c.string(0)?;
    braid_provider::json::parse(&text).map_err(|e| c.failed(format!("invalid JSON: {e}")))
}

/// Compact JSON as Terraform writes it: integral numbers without `.0`, and `<`, `>`, `&`,
/// U+2028 and U+2029 escaped so the output is safe to embed in HTML and JavaScript.
pub(super) fn json_encode(value: &Value) -> String {
    let mut out = String::new();
    write_json(value, &mut out);
    out
}

fn write_json(value: &Value, out: &mut String) {
    match value {
        Value::Null | Value::Unknown => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_json_string(s, out),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(key, out);
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(ch)));
            }
            ch if u32::from(ch) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(ch))),
            ch => out.push(ch),
        }
    }
    out.push('"');
}

pub(super) fn base64encode(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::String(BASE64.encode(c.string(0)?)))
}

pub(super) fn base64decode(c: &Call<'_>) -> Result<Value, FunctionError> {
    let text = c.string(0)?;
    let bytes = BASE64
        .decode(&text)
        .map_err(|e| c.failed(format!("failed to decode base64 data {text:?}: {e}")))?;
    String::from_utf8(bytes)
        .map(Value::String)
        .map_err(|_| c.failed("the result of decoding the provided string is not valid UTF-8"))
}

pub(super) fn sha256(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::String(hex::encode(Sha256::digest(c.string(0)?))))
}

pub(super) fn sha512(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::String(hex::encode(Sha512::digest(c.string(0)?))))
}

pub(super) fn base64sha256(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::String(BASE64.encode(Sha256::digest(c.string(0)?))))
}

#[cfg(test)]
mod tests {
    use braid_provider::{TfNumber, Value};

    use super::super::FunctionError;
    use super::super::test_support::{err, fl, list, map, message, n, ok, s};

    #[test]
    fn jsonencode_is_compact_and_sorted() {
        let v = map(&[
            ("b", list(vec![Value::Bool(true), Value::Null])),
            ("a", fl(1.0)),
            ("c", fl(2.5)),
        ]);
        assert_eq!(
            ok("jsonencode", vec![v]),
            s(r#"{"a":1,"b":[true,null],"c":2.5}"#)
        );
        assert_eq!(
            ok("jsonencode", vec![s("<a & \"b\">\n")]),
            s(r#""\u003ca \u0026 \"b\"\u003e\n""#)
        );
        // A float stored as 3.0 still prints like an integer.
        let float = Value::Number(TfNumber::from_f64(3.0).expect("3.0 is a number"));
        assert_eq!(ok("jsonencode", vec![float]), s("3"));
    }

    #[test]
    fn jsondecode_parses_and_reports_errors() {
        assert_eq!(
            ok(
                "jsondecode",
                vec![s(r#"{"hello": "world", "n": [1, 2.5, null]}"#)]
            ),
            map(&[
                ("hello", s("world")),
                ("n", list(vec![n(1), fl(2.5), Value::Null])),
            ])
        );
        assert_eq!(ok("jsondecode", vec![s("true")]), Value::Bool(true));
        let e = err("jsondecode", vec![s("{nope")]);
        assert!(matches!(e, FunctionError::Failed { .. }));
        assert!(
            message(&e).starts_with("jsondecode(): invalid JSON: "),
            "{e}"
        );
    }

    #[test]
    fn base64_round_trip_and_errors() {
        assert_eq!(
            ok("base64encode", vec![s("Hello World")]),
            s("SGVsbG8gV29ybGQ=")
        );
        assert_eq!(
            ok("base64decode", vec![s("SGVsbG8gV29ybGQ=")]),
            s("Hello World")
        );
        assert!(message(&err("base64decode", vec![s("not base64!")])).contains("base64"));
        // 0xff 0xfe is valid base64 but not UTF-8.
        assert!(message(&err("base64decode", vec![s("//4=")])).contains("UTF-8"));
    }

    #[test]
    fn hashes_are_lowercase_hex_or_base64() {
        assert_eq!(
            ok("sha256", vec![s("hello world")]),
            s("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
        );
        assert_eq!(
            ok("sha512", vec![s("hello world")]),
            s(
                "309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f\
               989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f"
            )
        );
        assert_eq!(
            ok("base64sha256", vec![s("hello world")]),
            s("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=")
        );
    }
}
