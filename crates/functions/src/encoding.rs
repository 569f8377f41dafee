//! Encoding and hashing functions: JSON, base64 and SHA-2 digests, and the Terraform-style JSON
//! writer that `format("%v")` also uses.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use braid_provider::Value;
use sha2::{Digest, Sha256, Sha512};

use super::{Call, FunctionError, number_to_string};

pub(super) fn jsonencode(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::String(json_encode(&c.args[0])))
}

pub(super) fn jsondecode(c: &Call<'_>) -> Result<Value, FunctionError> {
    let text = c.string(0)?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| c.failed(format!("invalid JSON: {e}")))?;
    Ok(Value::from_json(&json))
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
        Value::Number(n) => out.push_str(&number_to_string(n)),
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
    use braid_provider::Value;
    use serde_json::Number;

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
        let float = Value::Number(Number::from_f64(3.0).expect("3.0 is finite"));
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
