//! Terraform's attributes of an object in the shape braid's provider reads them from:
//! the attributes braid's resource type has, with Terraform's single nested blocks (a list
//! of one object) as the maps braid keeps, and the sensitive paths of both.
//!
//! This is only the starting point: the import then reads the object through braid's
//! provider, which fills what Terraform's state lacks or shapes differently from the live
//! object, and keeps what AWS does not report (`force_destroy`) from here.

use braid_provider::{AttributeType, Path, PathStep, ResourceSchema, Value};

/// The attributes of `schema` that Terraform's `attributes` hold, converted.
pub fn current_attributes(
    schema: &ResourceSchema,
    terraform: &serde_json::Map<String, serde_json::Value>,
) -> Value {
    let mut out = std::collections::BTreeMap::new();
    for (name, attribute) in &schema.attributes {
        let Some(json) = terraform.get(name) else {
            continue;
        };
        out.insert(name.clone(), shaped(attribute.r#type, json));
    }
    Value::Map(out.into())
}

/// One value in the shape braid's attribute type has.
fn shaped(expected: AttributeType, json: &serde_json::Value) -> Value {
    match (expected, json) {
        // A single nested block is a list of one object in Terraform's state; none is [].
        (AttributeType::Map, serde_json::Value::Array(items)) => match items.as_slice() {
            [] => Value::Null,
            [one] if one.is_object() => Value::from_json(one),
            _ => Value::from_json(json),
        },
        // braid keeps "no tags" and other empty maps as null.
        (AttributeType::Map, serde_json::Value::Object(map)) if map.is_empty() => Value::Null,
        _ => Value::from_json(json),
    }
}

/// The paths braid marks sensitive: the attributes braid's schema calls sensitive, and
/// those Terraform recorded as sensitive (from sensitive variables or its own schema) that
/// braid's type has.
pub fn sensitive_paths(schema: &ResourceSchema, terraform: &[serde_json::Value]) -> Vec<Path> {
    let mut paths: Vec<Path> = schema.sensitive_attributes().map(Path::key).collect();
    for steps in terraform {
        let Some(path) = terraform_path(steps) else {
            continue;
        };
        if path
            .attribute()
            .is_some_and(|a| schema.attributes.contains_key(a))
            && !paths.iter().any(|p| path.starts_with(p))
        {
            paths.push(path);
        }
    }
    paths.sort();
    paths.dedup();
    paths
}

/// `[{"type": "get_attr", "value": "a"}, {"type": "index", "value": 0}]` → `a[0]`.
fn terraform_path(steps: &serde_json::Value) -> Option<Path> {
    let mut path = Vec::new();
    for step in steps.as_array()? {
        let value = step.get("value")?;
        path.push(match (step.get("type")?.as_str()?, value) {
            ("get_attr", serde_json::Value::String(name)) => PathStep::Key(name.clone()),
            ("index", serde_json::Value::String(key)) => PathStep::Key(key.clone()),
            ("index", serde_json::Value::Number(n)) => {
                PathStep::Index(usize::try_from(n.as_u64()?).ok()?)
            }
            _ => return None,
        });
    }
    (!path.is_empty()).then_some(Path(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use braid_provider::{AttributeSchema, Use};
    use serde_json::json;

    fn schema() -> ResourceSchema {
        ResourceSchema::new("test")
            .attribute(
                "bucket",
                AttributeSchema::new(AttributeType::String, Use::Required, "name"),
            )
            .attribute(
                "versioning",
                AttributeSchema::new(AttributeType::Map, Use::OptionalComputed, "block"),
            )
            .attribute(
                "tags",
                AttributeSchema::new(AttributeType::Map, Use::Optional, "tags"),
            )
            .attribute(
                "secret",
                AttributeSchema::new(AttributeType::String, Use::Optional, "secret").sensitive(),
            )
    }

    #[test]
    fn attributes_braid_has_are_kept_in_braids_shape() {
        let tf = json!({
            "bucket": "b",
            "versioning": [{"enabled": false, "mfa_delete": false}],
            "tags": {},
            "grant": [{"id": "x"}]
        });
        let current = current_attributes(&schema(), tf.as_object().expect("object"));
        assert_eq!(
            current.to_json(),
            json!({
                "bucket": "b",
                "versioning": {"enabled": false, "mfa_delete": false},
                "tags": null
            })
        );
    }

    #[test]
    fn sensitive_paths_join_braids_and_terraforms() {
        let tf = [
            json!([{"type": "get_attr", "value": "tags"}, {"type": "index", "value": "k"}]),
            json!([{"type": "get_attr", "value": "secret"}, {"type": "index", "value": 0}]),
            json!([{"type": "get_attr", "value": "value_wo"}]),
        ];
        let paths: Vec<String> = sensitive_paths(&schema(), &tf)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(paths, ["secret", "tags.k"]);
    }
}
