//! The desired object: the manifest braid was given, normalised the way the API server
//! would store it, and the body sent to server-side apply.

use base64::Engine as _;
use braid_provider::{Path, Value};

use crate::object::ObjectRef;

/// Stands in for an unknown list item in a dry-run body, so later items keep their index.
const UNKNOWN_PLACEHOLDER: &str = "braid-unknown-value";

/// Fields the server owns; a manifest exported from a cluster may carry them.
const SERVER_METADATA: &[&str] = &[
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "managedFields",
    "generation",
    "selfLink",
];

/// The manifest prepared for planning and applying.
#[derive(Debug, Clone)]
pub struct Desired {
    /// The manifest as braid plans it (unknown values kept).
    pub value: Value,
    /// Where `value` is unknown.
    pub unknown: Vec<Path>,
}

impl Desired {
    /// Normalises a manifest: drops nulls, `status` and server-owned metadata, sets the
    /// namespace `object` resolved to, and folds a Secret's `stringData` into `data` (the
    /// server does the same, and only `data` can be compared with the live object).
    pub fn new(config: &Value, object: &ObjectRef) -> Desired {
        let mut value = without_nulls(config);
        if let Value::Map(top) = &mut value {
            top.remove("status");
            top.remove("id");
            top.remove("braid");
            let metadata = top
                .entry("metadata".to_string())
                .or_insert_with(|| Value::Map(braid_provider::ValueMap::new()));
            if let Value::Map(metadata) = metadata {
                for field in SERVER_METADATA {
                    metadata.remove(field);
                }
                match &object.namespace {
                    Some(ns) => {
                        metadata.insert("namespace".to_string(), Value::from(ns.as_str()));
                    }
                    None => {
                        metadata.remove("namespace");
                    }
                }
            }
            if object.group.is_empty() && object.kind == "Secret" {
                fold_string_data(top);
            }
        }
        let unknown = value.unknown_paths();
        Desired { value, unknown }
    }

    pub fn is_wholly_known(&self) -> bool {
        self.unknown.is_empty()
    }

    /// The JSON body for server-side apply. Unknown map entries are left out (braid does not
    /// claim them yet); unknown list items become a placeholder string.
    pub fn body(&self) -> serde_json::Value {
        known_json(&self.value)
    }
}

fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Map(m) => Value::Map(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::List(l) => Value::List(l.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

fn fold_string_data(top: &mut braid_provider::ValueMap) {
    let Some(Value::Map(string_data)) = top.remove("stringData") else {
        return;
    };
    let data = top
        .entry("data".to_string())
        .or_insert_with(|| Value::Map(braid_provider::ValueMap::new()));
    if let Value::Map(data) = data {
        for (key, value) in string_data {
            let encoded = match value {
                Value::String(s) => {
                    Value::String(base64::engine::general_purpose::STANDARD.encode(s))
                }
                other => other,
            };
            data.insert(key, encoded);
        }
    }
}

fn known_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Map(m) => serde_json::Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_unknown())
                .map(|(k, v)| (k.clone(), known_json(v)))
                .collect(),
        ),
        Value::List(l) => serde_json::Value::Array(
            l.iter()
                .map(|v| match v {
                    Value::Unknown => serde_json::Value::from(UNKNOWN_PLACEHOLDER),
                    other => known_json(other),
                })
                .collect(),
        ),
        other => other.to_json(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Value {
        Value::map([
            ("apiVersion", Value::from("v1")),
            ("kind", Value::from("Secret")),
            (
                "metadata",
                Value::map([("name", Value::from("s")), ("uid", Value::from("x"))]),
            ),
            (
                "stringData",
                Value::map([("token", Value::from("abc")), ("later", Value::Unknown)]),
            ),
            ("status", Value::map([("phase", Value::from("x"))])),
            ("type", Value::Null),
        ])
    }

    #[test]
    fn secrets_fold_string_data_and_keep_unknowns() {
        let object = ObjectRef::from_manifest(&secret())
            .expect("valid")
            .scoped(true, "default");
        let desired = Desired::new(&secret(), &object);
        let data = desired.value.attr("data").expect("data");
        assert_eq!(data.attr("token"), Some(&Value::from("YWJj")));
        assert_eq!(data.attr("later"), Some(&Value::Unknown));
        assert!(desired.value.attr("stringData").is_none());
        assert!(desired.value.attr("status").is_none());
        assert!(desired.value.attr("type").is_none());
        let metadata = desired.value.attr("metadata").expect("metadata");
        assert_eq!(metadata.attr("namespace"), Some(&Value::from("default")));
        assert!(metadata.attr("uid").is_none());
        assert_eq!(
            desired.unknown,
            vec![Path::parse("data.later").expect("path")]
        );
        let body = desired.body();
        assert!(body["data"].get("later").is_none());
    }

    #[test]
    fn unknown_list_items_keep_their_place() {
        let object = ObjectRef::from_manifest(&secret()).expect("valid");
        let mut config = secret();
        config.set(
            &Path::key("args"),
            Value::List(vec![Value::from("a"), Value::Unknown, Value::from("b")]),
        );
        let body = Desired::new(&config, &object).body();
        assert_eq!(body["args"][1], UNKNOWN_PLACEHOLDER);
        assert_eq!(body["args"][2], "b");
    }
}
