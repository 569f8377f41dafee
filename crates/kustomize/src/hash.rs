//! Kustomize's content hash for generated ConfigMaps and Secrets (`api/hasher`): the SHA-256
//! of Go's `json.Marshal` of {kind, name, data, ...}, its first 10 hex digits with
//! 0→g, 1→h, 3→k, a→m, e→t so the suffix never looks like a number or a word.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The 10-character suffix Kustomize appends (after a `-`) to a generated object's name.
///
/// Kustomize v5 looks the name up as one field called `metadata/name`, which no object has,
/// so the name in the hashed document is always empty: the suffix depends only on the kind,
/// the data (and a Secret's type), never on the name, a prefix or an overlay — which is what
/// `kubectl kustomize` prints, and what braid must match.
pub(crate) fn name_hash(object: &Value) -> String {
    let field = |key: &str| match object.get(key) {
        Some(value @ Value::Object(_)) => value.clone(),
        Some(Value::String(text)) => Value::String(text.clone()),
        _ => Value::String(String::new()),
    };
    let name = "";
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut encoded = Map::new();
    encoded.insert("kind".to_string(), Value::String(kind.to_string()));
    encoded.insert("name".to_string(), Value::String(name.to_string()));
    encoded.insert("data".to_string(), field("data"));
    let optional = if kind == "Secret" {
        encoded.insert("type".to_string(), field("type"));
        "stringData"
    } else {
        "binaryData"
    };
    if let Some(value @ Value::Object(_)) = object.get(optional) {
        encoded.insert(optional.to_string(), value.clone());
    }
    let mut json = String::new();
    write_go_json(&Value::Object(encoded), &mut json);
    encode(&hex(&Sha256::digest(json.as_bytes())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Kustomize's `encode`: the first 10 hex digits, with look-alike characters swapped.
fn encode(hex: &str) -> String {
    hex.chars()
        .take(10)
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            other => other,
        })
        .collect()
}

/// JSON as Go's `json.Marshal` writes a `map[string]interface{}`: keys sorted, no spaces, and
/// `<`, `>`, `&`, U+2028, U+2029 escaped as `\u003c`... (the hash depends on these bytes).
fn write_go_json(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (index, key) in keys.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_go_string(key, out);
                out.push(':');
                if let Some(value) = map.get(key) {
                    write_go_json(value, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_go_json(item, out);
            }
            out.push(']');
        }
        Value::String(text) => write_go_string(text, out),
        other => out.push_str(&other.to_string()),
    }
}

fn write_go_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Expected values from kustomize's `api/hasher/hasher_test.go`.
    #[test]
    fn matches_kustomize_hasher_tests() {
        let cases = [
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap"}),
                "6ct58987ht",
            ),
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"one": ""}}),
                "9g67k2htb6",
            ),
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"two": 2, "one": "", "three": 3}}),
                "7757f9kkct",
            ),
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap", "binaryData": {"one": ""}}),
                "6mtk2m274t",
            ),
            (
                json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"one": ""}, "binaryData": {"two": ""}}),
                "698h7c7t9m",
            ),
            (
                json!({"apiVersion": "v1", "kind": "Secret", "type": "my-type"}),
                "5gmgkf8578",
            ),
            (
                json!({"apiVersion": "v1", "kind": "Secret", "type": "my-type", "data": {"one": ""}}),
                "74bd68bm66",
            ),
            (
                json!({"apiVersion": "v1", "kind": "Secret", "type": "my-type", "data": {"one": ""}, "stringData": {"two": 2}}),
                "c4h4264gdb",
            ),
        ];
        for (object, expected) in cases {
            assert_eq!(name_hash(&object), expected, "{object}");
        }
    }

    #[test]
    fn escapes_like_go() {
        let mut out = String::new();
        write_go_json(&json!({"b": "<a & b>\n", "a": 1}), &mut out);
        assert_eq!(out, r#"{"a":1,"b":"\u003ca \u0026 b\u003e\n"}"#);
    }
}
