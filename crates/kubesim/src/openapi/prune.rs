//! Field validation as the real server does it: fields an object's schema does not declare
//! are dropped (pruned), and reported as the request's `fieldValidation` asks — `Ignore`
//! silently, `Warn` (the default) as `Warning` headers, `Strict` as a 400 error. Duplicate
//! fields in a JSON body are reported the same way.

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::{V2_REF_PREFIX, builtin_definition, custom_definition, custom_schemas, definition};
use crate::catalogue::ResourceType;

/// The `fieldValidation` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FieldValidation {
    /// Drop unknown fields silently.
    Ignore,
    /// Drop them and say so in `Warning` headers (the server's default).
    #[default]
    Warn,
    /// Refuse the request.
    Strict,
}

impl FieldValidation {
    /// Parses the query parameter (absent or empty: `Warn`).
    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        match value {
            None | Some("") | Some("Warn") => Ok(Self::Warn),
            Some("Ignore") => Ok(Self::Ignore),
            Some("Strict") => Ok(Self::Strict),
            Some(other) => Err(format!(
                "fieldValidation: Unsupported value: \"{other}\": supported values: \"Ignore\", \"Strict\", \"Warn\""
            )),
        }
    }
}

/// What field validation found in one request body: unknown fields (dropped) and
/// duplicate fields, as paths such as `spec.template.spec.containers[0].foo`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnknownFields {
    /// Fields no schema declares.
    pub unknown: Vec<String>,
    /// Fields given twice in the same JSON object.
    pub duplicate: Vec<String>,
}

impl UnknownFields {
    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.unknown.is_empty() && self.duplicate.is_empty()
    }

    /// One message per finding, as the server words them (`unknown field "spec.foo"`,
    /// `duplicate field "replicas"`).
    pub fn messages(&self) -> Vec<String> {
        self.duplicate
            .iter()
            .map(|p| format!("duplicate field \"{p}\""))
            .chain(
                self.unknown
                    .iter()
                    .map(|p| format!("unknown field \"{p}\"")),
            )
            .collect()
    }
}

/// Drops the fields `object` has and the schema of `rt` does not declare, returning their
/// paths, sorted. Kinds without a schema (a CRD without `openAPIV3Schema`) keep every field.
pub fn prune(rt: &ResourceType, crds: &[&Value], object: &mut Value) -> Vec<String> {
    let root = if rt.builtin {
        match builtin_definition(&rt.group, &rt.version, &rt.kind) {
            Some(def) => def.clone(),
            None => return Vec::new(),
        }
    } else {
        match custom_schemas(crds)
            .into_iter()
            .find(|c| c.group == rt.group && c.version == rt.version && c.kind == rt.kind)
        {
            Some(custom) if custom.schema.is_object() => custom_definition(&custom),
            _ => return Vec::new(),
        }
    };
    let mut out = Vec::new();
    walk(&root, object, "", &mut out, 0);
    out.sort();
    out
}

/// Follows `$ref` to a built-in definition.
fn resolve(schema: &Value) -> &Value {
    let mut current = schema;
    for _ in 0..8 {
        match current.get("$ref").and_then(Value::as_str) {
            Some(r) => match r.strip_prefix(V2_REF_PREFIX).and_then(definition) {
                Some(def) => current = def,
                None => return current,
            },
            None => return current,
        }
    }
    current
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn walk(schema: &Value, value: &mut Value, path: &str, out: &mut Vec<String>, depth: usize) {
    if depth > 64 {
        return;
    }
    let schema = resolve(schema);
    match value {
        Value::Object(map) => {
            let preserve = schema["x-kubernetes-preserve-unknown-fields"] == true;
            let embedded = schema["x-kubernetes-embedded-resource"] == true;
            let additional = schema.get("additionalProperties");
            match schema.get("properties").and_then(Value::as_object) {
                Some(properties) => {
                    let mut unknown = Vec::new();
                    for (key, v) in map.iter_mut() {
                        if let Some(s) = properties.get(key) {
                            walk(s, v, &child(path, key), out, depth + 1);
                        } else if let Some(s @ Value::Object(_)) = additional {
                            walk(s, v, &child(path, key), out, depth + 1);
                        } else if preserve
                            || additional == Some(&Value::Bool(true))
                            || (embedded
                                && matches!(key.as_str(), "apiVersion" | "kind" | "metadata"))
                        {
                        } else {
                            unknown.push(key.clone());
                        }
                    }
                    for key in unknown {
                        map.remove(&key);
                        out.push(child(path, &key));
                    }
                }
                None => {
                    if let Some(s @ Value::Object(_)) = additional {
                        for (key, v) in map.iter_mut() {
                            walk(s, v, &child(path, key), out, depth + 1);
                        }
                    }
                }
            }
        }
        Value::Array(items) => {
            if let Some(s @ Value::Object(_)) = schema.get("items") {
                for (i, item) in items.iter_mut().enumerate() {
                    walk(s, item, &format!("{path}[{i}]"), out, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// Paths of the fields a JSON body gives more than once in the same object (the last one
/// is what the server keeps). Bodies that are not JSON have none.
pub fn duplicate_fields(body: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(body);
    let _ = DuplicateSeed {
        path: String::new(),
        out: &mut out,
    }
    .deserialize(&mut de);
    out
}

struct DuplicateSeed<'a> {
    path: String,
    out: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for DuplicateSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DuplicateSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while seq
            .next_element_seed(DuplicateSeed {
                path: format!("{}[{i}]", self.path),
                out: &mut *self.out,
            })?
            .is_some()
        {
            i += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = child(&self.path, &key);
            if !seen.insert(key) {
                self.out.push(path.clone());
            }
            map.next_value_seed(DuplicateSeed {
                path,
                out: &mut *self.out,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Catalogue;
    use serde_json::json;

    #[test]
    fn unknown_fields_are_dropped_with_their_paths() {
        let catalogue = Catalogue::builtin();
        let rt = catalogue.find("apps", "v1", "deployments").expect("served");
        let mut object = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "labelz": {}},
            "spec": {"replicas": 2, "replicaz": 3, "template": {"spec": {
                "containers": [{"name": "web", "image": "nginx", "imagePullPolicyy": "Always"}]}}},
        });
        let unknown = prune(rt, &[], &mut object);
        assert_eq!(
            unknown,
            vec![
                "metadata.labelz".to_string(),
                "spec.replicaz".to_string(),
                "spec.template.spec.containers[0].imagePullPolicyy".to_string(),
            ]
        );
        assert_eq!(object["spec"]["replicas"], 2);
        assert!(object["spec"].get("replicaz").is_none());
    }

    #[test]
    fn maps_and_free_form_fields_keep_their_keys() {
        let catalogue = Catalogue::builtin();
        let rt = catalogue.find("", "v1", "configmaps").expect("served");
        let mut object = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "labels": {"any": "x"}}, "data": {"k": "v"}});
        assert!(prune(rt, &[], &mut object).is_empty());
    }

    #[test]
    fn custom_kinds_follow_their_structural_schema() {
        let crd = json!({"spec": {"group": "example.com", "names": {"kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "schema": {"openAPIV3Schema": {
                "type": "object", "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                    "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}}}]}});
        let rt = ResourceType {
            group: "example.com".into(),
            version: "v1".into(),
            kind: "Widget".into(),
            plural: "widgets".into(),
            singular: "widget".into(),
            namespaced: true,
            short_names: vec![],
            categories: vec![],
            verbs: vec![],
            has_status: false,
            has_generation: true,
            builtin: false,
            scale: None,
        };
        let mut object = json!({"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w"}, "spec": {"size": 1, "colour": "red"},
            "extra": {"anything": true}});
        assert_eq!(
            prune(&rt, &[&crd], &mut object),
            vec!["spec.colour".to_string()]
        );
        assert_eq!(object["extra"]["anything"], true);
    }

    #[test]
    fn duplicate_fields_are_found_at_any_depth() {
        let body = br#"{"spec": {"replicas": 1, "replicas": 2, "list": [{"a": 1, "a": 2}]}}"#;
        assert_eq!(
            duplicate_fields(body),
            vec!["spec.replicas".to_string(), "spec.list[0].a".to_string()]
        );
        assert!(duplicate_fields(b"not json").is_empty());
    }
}
