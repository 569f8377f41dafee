//! The dynamic value type shared by configuration, providers, plans and state.

use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::number::TfNumber;
use crate::{Path, PathStep, ValueMap};

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
    /// A number as Terraform has them: arbitrary precision, exact in JSON (see [`TfNumber`]).
    Number(TfNumber),
    /// A string.
    String(String),
    /// An ordered list.
    List(Vec<Value>),
    /// A map or object, with keys in sorted order so that equal values compare equal.
    Map(ValueMap),
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

    /// An integer value (at 64 bits, as Terraform makes integers that functions return).
    pub fn from_i64(n: i64) -> Value {
        Value::Number(TfNumber::from_i64(n))
    }

    /// A number from a float (at 53 bits; `2.0` prints as `2`). NaN and infinities, which
    /// JSON cannot hold, become null.
    pub fn from_f64(n: f64) -> Value {
        if !n.is_finite() {
            return Value::Null;
        }
        TfNumber::from_f64(n).map_or(Value::Null, Value::Number)
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

    /// The number, if the value is one.
    pub fn as_number(&self) -> Option<&TfNumber> {
        match self {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The number as the nearest float, if the value is a finite number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) if !n.is_infinite() => Some(n.to_f64()),
            _ => None,
        }
    }

    /// The number as an integer, if the value is a whole number (`3` or `3.0`) that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.to_i64(),
            _ => None,
        }
    }

    /// The entries, if the value is a map.
    pub fn as_map(&self) -> Option<&ValueMap> {
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
                    PathStep::Key(_) => Value::Map(ValueMap::new()),
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

    /// The first infinite number in the value (`1 / 0` is `+Inf`) and where it is. JSON has
    /// no infinities, so such a value cannot be stored or sent to a provider.
    pub fn infinite_number(&self) -> Option<(Path, &TfNumber)> {
        match self {
            Value::Number(n) if n.is_infinite() => Some((Path::root(), n)),
            Value::List(items) => items.iter().enumerate().find_map(|(i, item)| {
                let (path, n) = item.infinite_number()?;
                Some((
                    Path(std::iter::once(PathStep::Index(i)).chain(path.0).collect()),
                    n,
                ))
            }),
            Value::Map(entries) => entries.iter().find_map(|(k, item)| {
                let (path, n) = item.infinite_number()?;
                Some((
                    Path(
                        std::iter::once(PathStep::Key(k.clone()))
                            .chain(path.0)
                            .collect(),
                    ),
                    n,
                ))
            }),
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
    /// the JSON when they must survive. A `serde_json` number holds an `i64`, `u64` or `f64`:
    /// numbers beyond those are rounded to the nearest `f64`, and infinities become `null`
    /// (serializing a `Value` with `serde_json` keeps every digit).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null | Value::Unknown => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => n
                .to_json_number()
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
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
            serde_json::Value::Number(n) => Value::Number(TfNumber::from_json_number(n)),
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

impl From<TfNumber> for Value {
    fn from(n: TfNumber) -> Value {
        Value::Number(n)
    }
}

/// As JSON, with unknown values as `null`. A number that is not an `i64` or `u64` is written
/// as its exact decimal text (through `serde_json`'s raw values), so `0.1` stays `0.1` and a
/// 30-digit integer keeps its digits; infinities, which JSON cannot hold, become `null`.
impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null | Value::Unknown => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) => {
                if let Some(i) = n.to_i64() {
                    serializer.serialize_i64(i)
                } else if let Some(u) = n.to_u64() {
                    serializer.serialize_u64(u)
                } else if n.is_infinite() {
                    serializer.serialize_unit()
                } else {
                    serde_json::value::RawValue::from_string(n.to_string())
                        .map_err(serde::ser::Error::custom)?
                        .serialize(serializer)
                }
            }
            Value::String(s) => serializer.serialize_str(s),
            Value::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Map(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// The name under which `serde_json` hands over a value's raw JSON text (what its
/// `RawValue` asks for); other deserializers treat it as any newtype.
const RAW_JSON: &str = "$serde_json::private::RawValue";

/// From JSON. With `serde_json` (text, or a `serde_json::Value`) the value's raw text is parsed
/// by [`crate::json`], which keeps every digit of every number; any other deserializer's
/// numbers arrive as `i64`, `u64` or `f64`.
impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(RAW_JSON, ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(TfNumber::parsed_i64(n)))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(TfNumber::from_json_number(&n.into())))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, |n| {
            Value::Number(TfNumber::from_json_number(&n))
        }))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        let Some(first) = map.next_key::<KeyOrRaw>()? else {
            return Ok(Value::Map(ValueMap::new()));
        };
        let first = match first {
            KeyOrRaw::Raw => return map.next_value_seed(RawText),
            KeyOrRaw::Key(key) => key,
        };
        entries.push((first, map.next_value()?));
        while let Some(key) = map.next_key::<String>()? {
            entries.push((key, map.next_value()?));
        }
        // A repeated key keeps its last value (collecting into a ValueMap keeps the last).
        Ok(Value::Map(entries.into_iter().collect()))
    }
}

/// The first key of a map: `serde_json`'s marker for raw text, or an ordinary key.
enum KeyOrRaw {
    Raw,
    Key(String),
}

impl<'de> Deserialize<'de> for KeyOrRaw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = KeyOrRaw;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_str<E>(self, s: &str) -> Result<KeyOrRaw, E> {
                Ok(if s == RAW_JSON {
                    KeyOrRaw::Raw
                } else {
                    KeyOrRaw::Key(s.to_string())
                })
            }
            fn visit_string<E>(self, s: String) -> Result<KeyOrRaw, E> {
                Ok(if s == RAW_JSON {
                    KeyOrRaw::Raw
                } else {
                    KeyOrRaw::Key(s)
                })
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// The raw JSON text of a value, parsed where it lies (borrowed from the input when it can be).
struct RawText;

impl<'de> de::DeserializeSeed<'de> for RawText {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for RawText {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("raw JSON text")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Value, E> {
        crate::json::parse(text).map_err(E::custom)
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

    fn parsed(text: &str) -> Value {
        Value::Number(TfNumber::parse(text).expect("a number"))
    }

    #[test]
    fn serde_json_round_trips_every_digit() {
        let third = TfNumber::parse("1")
            .and_then(|one| one.div(&TfNumber::parse("3")?))
            .expect("1/3");
        let value = Value::map([
            ("third", Value::Number(third.clone())),
            ("big", parsed("123456789012345678901234567890")),
            ("tenth", parsed("0.1")),
            ("i", Value::from_i64(-42)),
            ("u", parsed("18446744073709551615")),
            ("list", Value::List(vec![parsed("1e-30"), Value::Null])),
            ("unknown", Value::Unknown),
        ]);
        let text = serde_json::to_string(&value).expect("serializes");
        assert!(
            text.contains("\"big\":123456789012345678901234567890"),
            "{text}"
        );
        assert!(text.contains("\"tenth\":0.1,"), "{text}");
        assert!(text.contains("\"u\":18446744073709551615"), "{text}");
        assert!(text.contains("\"unknown\":null"), "{text}");
        let back: Value = serde_json::from_str(&text).expect("deserializes");
        let mut expected = value.clone();
        expected.set(&Path::key("unknown"), Value::Null);
        assert_eq!(back, expected);
        // All of 1/3's digits at 512 bits (the shortest text that reads back to it).
        let text_back = back
            .attr("third")
            .and_then(Value::as_number)
            .map(ToString::to_string);
        assert!(third.to_string().len() > 150);
        assert_eq!(text_back, Some(third.to_string()));

        // Inside other structures, from text and from bytes, and through serde_json::Value.
        #[derive(serde::Deserialize)]
        struct Record {
            attributes: Value,
            other: Option<Value>,
        }
        let record = format!("{{\"attributes\": {text}, \"other\": 0.5}}");
        let from_str: Record = serde_json::from_str(&record).expect("a record");
        assert_eq!(from_str.attributes, back);
        assert_eq!(from_str.other, Some(parsed("0.5")));
        let from_slice: Record = serde_json::from_slice(record.as_bytes()).expect("a record");
        assert_eq!(from_slice.attributes, back);
        let from_reader: Record = serde_json::from_reader(record.as_bytes()).expect("a record");
        assert_eq!(from_reader.attributes, back);
        let json: serde_json::Value = serde_json::from_str(&record).expect("json");
        let via_value: Record = serde_json::from_value(json).expect("a record");
        assert_eq!(via_value.attributes.attr("i"), Some(&Value::from_i64(-42)));
        assert_eq!(via_value.attributes.attr("tenth"), Some(&parsed("0.1")));
    }

    #[test]
    fn infinities_are_found_and_serialize_as_null() {
        let inf = TfNumber::infinity(true);
        let value = Value::map([(
            "a",
            Value::List(vec![Value::from_i64(1), Value::Number(inf.clone())]),
        )]);
        let (path, found) = value.infinite_number().expect("an infinity");
        assert_eq!(path.to_string(), "a[1]");
        assert_eq!(found.to_string(), "-Inf");
        assert_eq!(
            serde_json::to_string(&value).expect("json"),
            r#"{"a":[1,null]}"#
        );
        assert!(Value::from_i64(1).infinite_number().is_none());
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
