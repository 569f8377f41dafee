//! The dynamic value type shared by configuration, providers, plans and state.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Number;

use crate::{Path, PathStep};

/// A configuration or state value.
///
/// `Unknown` stands for a value that will only be known after apply (a generated id, an ARN).
/// It propagates: any expression over an unknown value is unknown.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// No value: an optional attribute that is not set.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A JSON number, kept as written so large integers do not lose precision.
    Number(Number),
    /// A string.
    String(String),
    /// An ordered list.
    List(Vec<Value>),
    /// A map or object, with keys in sorted order so that equal values compare equal.
    Map(BTreeMap<String, Value>),
    /// A value only known after apply.
    Unknown,
}

/// The kind of a value, for type errors ("expected string, got list").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// [`Value::Null`].
    Null,
    /// [`Value::Bool`].
    Bool,
    /// [`Value::Number`].
    Number,
    /// [`Value::String`].
    String,
    /// [`Value::List`].
    List,
    /// [`Value::Map`], shown as "object" in messages.
    Map,
    /// [`Value::Unknown`].
    Unknown,
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueKind::Null => "null",
            ValueKind::Bool => "bool",
            ValueKind::Number => "number",
            ValueKind::String => "string",
            ValueKind::List => "list",
            ValueKind::Map => "object",
            ValueKind::Unknown => "unknown",
        })
    }
}

impl Value {
    /// The variant of the value without its contents, for type errors.
    pub fn kind(&self) -> ValueKind {
        match self {
            Value::Null => ValueKind::Null,
            Value::Bool(_) => ValueKind::Bool,
            Value::Number(_) => ValueKind::Number,
            Value::String(_) => ValueKind::String,
            Value::List(_) => ValueKind::List,
            Value::Map(_) => ValueKind::Map,
            Value::Unknown => ValueKind::Unknown,
        }
    }

    /// A string value.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// An integer value.
    pub fn from_i64(n: i64) -> Value {
        Value::Number(Number::from(n))
    }

    /// A number from a float; integral floats become integers so `2.0` prints as `2`.
    /// NaN and infinities, which JSON cannot hold, become null.
    pub fn from_f64(n: f64) -> Value {
        if n.fract() == 0.0 && n.abs() < 9.0e15 {
            #[allow(clippy::cast_possible_truncation)]
            return Value::from_i64(n as i64);
        }
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    }

    /// A map value from key/value pairs; a later duplicate key wins.
    pub fn map<I, K>(entries: I) -> Value
    where
        I: IntoIterator<Item = (K, Value)>,
        K: Into<String>,
    {
        Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// True for [`Value::Null`] only (an unknown value is not null).
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// True when the value itself is unknown; see [`Value::is_wholly_known`] for the parts.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// True when no part of the value is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(entries) => entries.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// The string, if the value is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if the value is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number as a float, if the value is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    /// The number as an integer, if the value is an integral number (`3` or `3.0`) that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| {
                        #[allow(clippy::cast_possible_truncation)]
                        let i = f as i64;
                        i
                    })
            }),
            _ => None,
        }
    }

    /// The entries, if the value is a map.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The elements, if the value is a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The attribute `name` of a map value.
    pub fn attr(&self, name: &str) -> Option<&Value> {
        self.as_map().and_then(|m| m.get(name))
    }

    /// The value at `path`, if every step exists.
    pub fn get(&self, path: &Path) -> Option<&Value> {
        let mut current = self;
        for step in &path.0 {
            current = match (current, step) {
                (Value::Map(m), PathStep::Key(k)) => m.get(k)?,
                (Value::List(l), PathStep::Index(i)) => l.get(*i)?,
                _ => return None,
            };
        }
        Some(current)
    }

    /// Sets the value at `path`, creating maps on the way. Returns false when a step runs
    /// into a value that is not a container of the right kind.
    pub fn set(&mut self, path: &Path, new: Value) -> bool {
        let mut current = self;
        for step in &path.0 {
            if current.is_null() {
                *current = match step {
                    PathStep::Key(_) => Value::Map(BTreeMap::new()),
                    PathStep::Index(_) => Value::List(Vec::new()),
                };
            }
            current = match (current, step) {
                (Value::Map(m), PathStep::Key(k)) => m.entry(k.clone()).or_default(),
                (Value::List(l), PathStep::Index(i)) => {
                    if *i >= l.len() {
                        l.resize(*i + 1, Value::Null);
                    }
                    &mut l[*i]
                }
                _ => return false,
            };
        }
        *current = new;
        true
    }

    /// Removes the value at `path` (a map entry or list element). Returns what was removed.
    pub fn remove(&mut self, path: &Path) -> Option<Value> {
        let (last, parent) = path.0.split_last()?;
        let mut current = self;
        for step in parent {
            current = match (current, step) {
                (Value::Map(m), PathStep::Key(k)) => m.get_mut(k)?,
                (Value::List(l), PathStep::Index(i)) => l.get_mut(*i)?,
                _ => return None,
            };
        }
        match (current, last) {
            (Value::Map(m), PathStep::Key(k)) => m.remove(k),
            (Value::List(l), PathStep::Index(i)) if *i < l.len() => Some(l.remove(*i)),
            _ => None,
        }
    }

    /// Every path at which the value is unknown, outermost first.
    pub fn unknown_paths(&self) -> Vec<Path> {
        let mut out = Vec::new();
        collect_unknown(self, &mut Path::root(), &mut out);
        out
    }

    /// Marks each of `paths` unknown (the inverse of [`Value::unknown_paths`]).
    pub fn with_unknowns(mut self, paths: &[Path]) -> Value {
        for path in paths {
            self.set(path, Value::Unknown);
        }
        self
    }

    /// Converts to JSON. Unknown values become `null`; keep [`Value::unknown_paths`] beside
    /// the JSON when they must survive.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null | Value::Unknown => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::List(l) => serde_json::Value::Array(l.iter().map(Value::to_json).collect()),
            Value::Map(m) => {
                serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    /// Converts from JSON; the result is wholly known (add unknowns back with
    /// [`Value::with_unknowns`]).
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.clone()),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }
}

fn collect_unknown(value: &Value, at: &mut Path, out: &mut Vec<Path>) {
    match value {
        Value::Unknown => out.push(at.clone()),
        Value::List(items) => {
            for (i, item) in items.iter().enumerate() {
                at.0.push(PathStep::Index(i));
                collect_unknown(item, at, out);
                at.0.pop();
            }
        }
        Value::Map(entries) => {
            for (k, item) in entries {
                at.0.push(PathStep::Key(k.clone()));
                collect_unknown(item, at, out);
                at.0.pop();
            }
        }
        _ => {}
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::from_i64(n)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(deserializer).map(|json| Value::from_json(&json))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_paths_round_trip() {
        let mut v = Value::map([("a", Value::from("x")), ("b", Value::Unknown)]);
        v.set(&Path::key("c").child_index(1), Value::Unknown);
        let paths = v.unknown_paths();
        assert_eq!(paths.len(), 2);
        let json = v.to_json();
        let back = Value::from_json(&json).with_unknowns(&paths);
        assert_eq!(back, v);
        assert!(!back.is_wholly_known());
    }

    #[test]
    fn integral_floats_become_integers() {
        assert_eq!(Value::from_f64(2.0).to_json().to_string(), "2");
        assert_eq!(Value::from_f64(2.5).to_json().to_string(), "2.5");
    }

    #[test]
    fn remove_list_element() {
        let mut v = Value::List(vec![Value::from(1), Value::from(2)]);
        assert_eq!(
            v.remove(&Path(vec![PathStep::Index(0)])),
            Some(Value::from(1))
        );
        assert_eq!(v, Value::List(vec![Value::from(2)]));
    }
}
