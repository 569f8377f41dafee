//! Reading and building attribute maps: the values resource types exchange with AWS.

use std::collections::BTreeMap;

use braid_provider::Value;

use crate::error::AwsError;

/// A resource's attributes by name.
pub type Attrs = braid_provider::ValueMap;

/// A string attribute; null, unknown and other kinds read as `None`.
pub fn string(attrs: &Attrs, name: &str) -> Option<String> {
    attrs.get(name).and_then(Value::as_str).map(str::to_string)
}

/// A string attribute the operation cannot do without.
pub fn required_string(attrs: &Attrs, name: &str) -> Result<String, AwsError> {
    string(attrs, name).ok_or_else(|| AwsError::invalid(name, format!("\"{name}\" must be set")))
}

pub fn boolean(attrs: &Attrs, name: &str) -> bool {
    attrs.get(name).and_then(Value::as_bool).unwrap_or(false)
}

pub fn integer(attrs: &Attrs, name: &str) -> Option<i64> {
    attrs.get(name).and_then(Value::as_i64)
}

/// An integer attribute as the `i32` most AWS APIs take.
pub fn integer_i32(attrs: &Attrs, name: &str) -> Result<Option<i32>, AwsError> {
    integer(attrs, name)
        .map(|n| {
            i32::try_from(n)
                .map_err(|_| AwsError::invalid(name, format!("\"{name}\" is out of range: {n}")))
        })
        .transpose()
}

/// A string, or null when AWS has none or an empty one.
pub fn opt_string(value: Option<impl Into<String>>) -> Value {
    match value.map(Into::into) {
        Some(s) if !s.is_empty() => Value::String(s),
        _ => Value::Null,
    }
}

/// The `tags` attribute as pairs; null means no tags.
pub fn tags(attrs: &Attrs) -> BTreeMap<String, String> {
    attrs
        .get("tags")
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Tags as an attribute value: null when there are none, so `tags = {}` and no tags agree.
pub fn tags_value<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Value
where
    K: Into<String>,
    V: Into<String>,
{
    let map: BTreeMap<String, Value> = pairs
        .into_iter()
        .map(|(k, v)| (k.into(), Value::String(v.into())))
        .collect();
    if map.is_empty() {
        Value::Null
    } else {
        Value::Map(map.into())
    }
}

/// What to change to go from the prior tags to the desired ones.
pub struct TagChanges {
    pub set: BTreeMap<String, String>,
    pub remove: Vec<String>,
}

impl TagChanges {
    pub fn between(prior: &Attrs, desired: &Attrs) -> TagChanges {
        let before = tags(prior);
        let after = tags(desired);
        TagChanges {
            set: after
                .iter()
                .filter(|(k, v)| before.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            remove: before
                .keys()
                .filter(|k| !after.contains_key(*k))
                .cloned()
                .collect(),
        }
    }
}

/// True when `name` differs between two attribute maps.
pub fn changed(prior: &Attrs, desired: &Attrs, name: &str) -> bool {
    prior.get(name).unwrap_or(&Value::Null) != desired.get(name).unwrap_or(&Value::Null)
}

/// The partition of a region's ARNs.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}
