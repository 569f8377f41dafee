//! Values on the wire: cty types (as the schema's JSON gives them) and braid's [`Value`]s
//! encoded as MessagePack the way Terraform encodes them for a `DynamicValue`.
//!
//! The rules are the published wire format: null is nil; an unknown value is a MessagePack
//! extension (code 0 when braid sends it; any code is unknown when a provider sends it, code
//! 12 carrying refinements braid ignores); strings are strings; numbers are an integer, a
//! float or — when neither holds the number exactly — a string with its decimal text; lists,
//! sets and tuples are arrays; maps and objects are maps keyed by name; `dynamic` is a
//! two-element array of the value's type as JSON and the value itself.
//!
//! braid's values carry no static type, so encoding converts as Terraform converts a
//! configuration value to an attribute's type: a number or bool where a string is wanted is
//! its text, a string where a number or bool is wanted is parsed, a list fills a set or a
//! tuple, and an object fills a map or an object type (attributes it lacks are null).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use braid_provider::{Path, PathStep, TfNumber, Value};
use rmpv::Value as Msgpack;

use crate::schema::{Block, Nesting};

/// A cty type, as a schema's attribute `type` JSON describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CtyType {
    /// `"string"`
    String,
    /// `"number"`
    Number,
    /// `"bool"`
    Bool,
    /// `"dynamic"`: any type, decided by the value.
    Dynamic,
    /// `["list", T]`
    List(Box<CtyType>),
    /// `["set", T]`
    Set(Box<CtyType>),
    /// `["map", T]`
    Map(Box<CtyType>),
    /// `["object", {NAME: T}]`, with the optional attributes of `["object", {...}, [NAMES]]`.
    Object {
        /// Attribute types by name.
        attributes: BTreeMap<String, CtyType>,
        /// Attributes that may be left out (type constraints only).
        optional: BTreeSet<String>,
    },
    /// `["tuple", [T, ...]]`
    Tuple(Vec<CtyType>),
}

/// Why a type or a value could not be read or written, and where in the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", at_path(.path))]
pub struct ValueError {
    /// Where in the value (empty: the value itself).
    pub path: Path,
    /// What is wrong.
    pub message: String,
}

fn at_path(path: &Path) -> String {
    if path.is_root() {
        String::new()
    } else {
        format!("{path}: ")
    }
}

impl ValueError {
    fn new(message: impl Into<String>) -> ValueError {
        ValueError {
            path: Path::root(),
            message: message.into(),
        }
    }

    /// The same error one step further out: `step` is prepended to the path.
    fn within(mut self, step: PathStep) -> ValueError {
        self.path.0.insert(0, step);
        self
    }
}

impl CtyType {
    /// Reads a type from its JSON text (a schema attribute's `type` bytes).
    pub fn from_json_text(text: &str) -> Result<CtyType, ValueError> {
        let json: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| ValueError::new(format!("type {text:?} is not JSON: {e}")))?;
        CtyType::from_json(&json)
    }

    /// Reads a type from its JSON form.
    pub fn from_json(json: &serde_json::Value) -> Result<CtyType, ValueError> {
        use serde_json::Value as J;
        let invalid = || ValueError::new(format!("{json} is not a cty type"));
        match json {
            J::String(name) => match name.as_str() {
                "string" => Ok(CtyType::String),
                "number" => Ok(CtyType::Number),
                "bool" => Ok(CtyType::Bool),
                "dynamic" => Ok(CtyType::Dynamic),
                _ => Err(invalid()),
            },
            J::Array(parts) => {
                let kind = parts.first().and_then(J::as_str).ok_or_else(invalid)?;
                let argument = parts.get(1).ok_or_else(invalid)?;
                let element = || CtyType::from_json(argument).map(Box::new);
                match kind {
                    "list" => Ok(CtyType::List(element()?)),
                    "set" => Ok(CtyType::Set(element()?)),
                    "map" => Ok(CtyType::Map(element()?)),
                    "object" => {
                        let fields = argument.as_object().ok_or_else(invalid)?;
                        let attributes = fields
                            .iter()
                            .map(|(name, ty)| Ok((name.clone(), CtyType::from_json(ty)?)))
                            .collect::<Result<_, ValueError>>()?;
                        let optional = match parts.get(2) {
                            Some(J::Array(names)) => names
                                .iter()
                                .map(|n| n.as_str().map(str::to_owned).ok_or_else(invalid))
                                .collect::<Result<_, _>>()?,
                            Some(_) => return Err(invalid()),
                            None => BTreeSet::new(),
                        };
                        Ok(CtyType::Object {
                            attributes,
                            optional,
                        })
                    }
                    "tuple" => Ok(CtyType::Tuple(
                        argument
                            .as_array()
                            .ok_or_else(invalid)?
                            .iter()
                            .map(CtyType::from_json)
                            .collect::<Result<_, _>>()?,
                    )),
                    _ => Err(invalid()),
                }
            }
            _ => Err(invalid()),
        }
    }

    /// The type's JSON form, as the wire and the schema write it.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            CtyType::String => json!("string"),
            CtyType::Number => json!("number"),
            CtyType::Bool => json!("bool"),
            CtyType::Dynamic => json!("dynamic"),
            CtyType::List(t) => json!(["list", t.to_json()]),
            CtyType::Set(t) => json!(["set", t.to_json()]),
            CtyType::Map(t) => json!(["map", t.to_json()]),
            CtyType::Object {
                attributes,
                optional,
            } => {
                let fields: serde_json::Map<String, serde_json::Value> = attributes
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_json()))
                    .collect();
                if optional.is_empty() {
                    json!(["object", fields])
                } else {
                    json!(["object", fields, optional])
                }
            }
            CtyType::Tuple(types) => {
                json!([
                    "tuple",
                    types.iter().map(CtyType::to_json).collect::<Vec<_>>()
                ])
            }
        }
    }

    /// The concrete type of a known `value`, for a `dynamic` attribute: lists are tuples and
    /// maps are objects, as Terraform types a configuration's `[...]` and `{...}`.
    pub fn of_value(value: &Value) -> CtyType {
        match value {
            Value::Bool(_) => CtyType::Bool,
            Value::Number(_) => CtyType::Number,
            Value::List(items) => CtyType::Tuple(items.iter().map(CtyType::of_value).collect()),
            Value::Map(entries) => CtyType::Object {
                attributes: entries
                    .iter()
                    .map(|(k, v)| (k.clone(), CtyType::of_value(v)))
                    .collect(),
                optional: BTreeSet::new(),
            },
            // Null and unknown have no type of their own; a dynamic null or unknown is sent
            // as such, and a string is the most common guess for anything else.
            Value::String(_) | Value::Null | Value::Unknown => CtyType::String,
        }
    }
}

impl fmt::Display for CtyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CtyType::String => f.write_str("string"),
            CtyType::Number => f.write_str("number"),
            CtyType::Bool => f.write_str("bool"),
            CtyType::Dynamic => f.write_str("any"),
            CtyType::List(t) => write!(f, "list of {t}"),
            CtyType::Set(t) => write!(f, "set of {t}"),
            CtyType::Map(t) => write!(f, "map of {t}"),
            CtyType::Object { .. } => f.write_str("object"),
            CtyType::Tuple(_) => f.write_str("tuple"),
        }
    }
}

impl Block {
    /// The object type of this block's values: its attributes, and each nested block type as
    /// its nesting mode collects it (a list or set of objects, a map of objects, an object).
    pub fn object_type(&self) -> Result<CtyType, ValueError> {
        let mut attributes = BTreeMap::new();
        for (name, attribute) in &self.attributes {
            let ty = CtyType::from_json_text(&attribute.cty_type)
                .map_err(|e| e.within(PathStep::Key(name.clone())))?;
            attributes.insert(name.clone(), ty);
        }
        for (name, nested) in &self.blocks {
            let object = nested
                .block
                .object_type()
                .map_err(|e| e.within(PathStep::Key(name.clone())))?;
            let ty = match nested.nesting {
                Nesting::Single | Nesting::Group => object,
                Nesting::List => CtyType::List(Box::new(object)),
                Nesting::Set => CtyType::Set(Box::new(object)),
                Nesting::Map => CtyType::Map(Box::new(object)),
            };
            attributes.insert(name.clone(), ty);
        }
        Ok(CtyType::Object {
            attributes,
            optional: BTreeSet::new(),
        })
    }
}

/// The unknown value braid sends: extension code 0 (its one payload byte is ignored).
fn unknown() -> Msgpack {
    Msgpack::Ext(0, vec![0])
}

/// `value` as MessagePack of type `ty`, converting as Terraform converts configuration
/// values (see the module documentation).
pub fn encode(value: &Value, ty: &CtyType) -> Result<Msgpack, ValueError> {
    match (value, ty) {
        (Value::Null, _) => Ok(Msgpack::Nil),
        (Value::Unknown, _) => Ok(unknown()),
        (_, CtyType::Dynamic) => {
            let actual = CtyType::of_value(value);
            let type_json = actual.to_json().to_string().into_bytes();
            Ok(Msgpack::Array(vec![
                Msgpack::Binary(type_json),
                encode(value, &actual)?,
            ]))
        }
        (Value::String(s), CtyType::String) => Ok(Msgpack::from(s.as_str())),
        (Value::Number(n), CtyType::String) => Ok(Msgpack::from(n.to_string())),
        (Value::Bool(b), CtyType::String) => Ok(Msgpack::from(b.to_string())),
        (Value::Number(n), CtyType::Number) => encode_number(n),
        (Value::String(s), CtyType::Number) => TfNumber::parse(s)
            .map_err(|_| ValueError::new(format!("a number is required, not the string {s:?}")))
            .and_then(|n| encode_number(&n)),
        (Value::Bool(b), CtyType::Bool) => Ok(Msgpack::Boolean(*b)),
        (Value::String(s), CtyType::Bool) => match s.as_str() {
            "true" => Ok(Msgpack::Boolean(true)),
            "false" => Ok(Msgpack::Boolean(false)),
            _ => Err(ValueError::new(format!(
                "a bool is required, not the string {s:?}"
            ))),
        },
        (Value::List(items), CtyType::List(element) | CtyType::Set(element)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| encode(item, element).map_err(|e| e.within(PathStep::Index(i))))
            .collect::<Result<_, _>>()
            .map(Msgpack::Array),
        (Value::List(items), CtyType::Tuple(types)) => {
            if items.len() != types.len() {
                return Err(ValueError::new(format!(
                    "a tuple of {} elements is required, not {}",
                    types.len(),
                    items.len()
                )));
            }
            items
                .iter()
                .zip(types)
                .enumerate()
                .map(|(i, (item, ty))| encode(item, ty).map_err(|e| e.within(PathStep::Index(i))))
                .collect::<Result<_, _>>()
                .map(Msgpack::Array)
        }
        (Value::Map(entries), CtyType::Map(element)) => entries
            .iter()
            .map(|(k, v)| {
                encode(v, element)
                    .map(|v| (Msgpack::from(k.as_str()), v))
                    .map_err(|e| e.within(PathStep::Key(k.clone())))
            })
            .collect::<Result<_, _>>()
            .map(Msgpack::Map),
        (Value::Map(entries), CtyType::Object { attributes, .. }) => {
            if let Some(extra) = entries.keys().find(|k| !attributes.contains_key(*k)) {
                return Err(ValueError::new(format!(
                    "{extra:?} is not an attribute of this object (it has {})",
                    attributes.keys().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
            attributes
                .iter()
                .map(|(name, ty)| {
                    let v = entries.get(name).unwrap_or(&Value::Null);
                    encode(v, ty)
                        .map(|v| (Msgpack::from(name.as_str()), v))
                        .map_err(|e| e.within(PathStep::Key(name.clone())))
                })
                .collect::<Result<_, _>>()
                .map(Msgpack::Map)
        }
        (other, ty) => Err(ValueError::new(format!(
            "a {ty} is required, not {}",
            other.kind()
        ))),
    }
}

/// An integer when it is one that fits, a float when that is exact, else its decimal text.
fn encode_number(n: &TfNumber) -> Result<Msgpack, ValueError> {
    if n.is_infinite() {
        return Err(ValueError::new(format!(
            "the number is {n}, which a provider cannot be sent"
        )));
    }
    if let Some(i) = n.to_i64() {
        return Ok(Msgpack::from(i));
    }
    if let Some(u) = n.to_u64() {
        return Ok(Msgpack::from(u));
    }
    let float = n.to_f64();
    if TfNumber::from_f64(float).is_some_and(|f| f.cmp_value(n).is_eq()) {
        return Ok(Msgpack::F64(float));
    }
    Ok(Msgpack::from(n.to_string()))
}

/// A value of type `ty` from MessagePack as a provider sends it.
pub fn decode(value: &Msgpack, ty: &CtyType) -> Result<Value, ValueError> {
    match (value, ty) {
        (Msgpack::Nil, _) => Ok(Value::Null),
        (Msgpack::Ext(..), _) => Ok(Value::Unknown),
        (Msgpack::Array(pair), CtyType::Dynamic) if pair.len() == 2 => {
            let type_json = match &pair[0] {
                Msgpack::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
                Msgpack::String(s) => s.as_str().unwrap_or_default().to_owned(),
                _ => return Err(ValueError::new("a dynamic value's type is not JSON text")),
            };
            let actual = CtyType::from_json_text(&type_json)?;
            decode(&pair[1], &actual)
        }
        (Msgpack::String(s), CtyType::String) => s
            .as_str()
            .map(Value::from)
            .ok_or_else(|| ValueError::new("a string is not valid UTF-8")),
        (Msgpack::Integer(i), CtyType::Number) => Ok(Value::Number(if let Some(i) = i.as_i64() {
            TfNumber::from_i64(i)
        } else {
            TfNumber::from_u64(i.as_u64().unwrap_or_default())
        })),
        (Msgpack::F64(f), CtyType::Number) => TfNumber::from_f64(*f)
            .map(Value::Number)
            .ok_or_else(|| ValueError::new("the number is NaN")),
        (Msgpack::F32(f), CtyType::Number) => TfNumber::from_f64(f64::from(*f))
            .map(Value::Number)
            .ok_or_else(|| ValueError::new("the number is NaN")),
        (Msgpack::String(s), CtyType::Number) => s
            .as_str()
            .and_then(|s| TfNumber::parse(s).ok())
            .map(Value::Number)
            .ok_or_else(|| ValueError::new(format!("{s} is not a number"))),
        (Msgpack::Boolean(b), CtyType::Bool) => Ok(Value::Bool(*b)),
        (Msgpack::Array(items), CtyType::List(element) | CtyType::Set(element)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| decode(item, element).map_err(|e| e.within(PathStep::Index(i))))
            .collect::<Result<_, _>>()
            .map(Value::List),
        (Msgpack::Array(items), CtyType::Tuple(types)) if items.len() == types.len() => items
            .iter()
            .zip(types)
            .enumerate()
            .map(|(i, (item, ty))| decode(item, ty).map_err(|e| e.within(PathStep::Index(i))))
            .collect::<Result<_, _>>()
            .map(Value::List),
        (Msgpack::Map(entries), CtyType::Map(element)) => {
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let key = map_key(k)?;
                let v = decode(v, element).map_err(|e| e.within(PathStep::Key(key.clone())))?;
                out.insert(key, v);
            }
            Ok(Value::Map(out.into()))
        }
        (Msgpack::Map(entries), CtyType::Object { attributes, .. }) => {
            let mut out = BTreeMap::new();
            for (k, v) in entries {
                let key = map_key(k)?;
                let Some(ty) = attributes.get(&key) else {
                    return Err(ValueError::new(format!(
                        "the provider sent {key:?}, which is not an attribute of this object"
                    )));
                };
                let v = decode(v, ty).map_err(|e| e.within(PathStep::Key(key.clone())))?;
                out.insert(key, v);
            }
            for name in attributes.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Map(out.into()))
        }
        (other, ty) => Err(ValueError::new(format!(
            "the provider sent {} where a {ty} is required",
            msgpack_kind(other)
        ))),
    }
}

fn map_key(key: &Msgpack) -> Result<String, ValueError> {
    key.as_str()
        .map(str::to_owned)
        .ok_or_else(|| ValueError::new("a map key is not a string"))
}

fn msgpack_kind(value: &Msgpack) -> &'static str {
    match value {
        Msgpack::Nil => "nil",
        Msgpack::Boolean(_) => "a bool",
        Msgpack::Integer(_) | Msgpack::F32(_) | Msgpack::F64(_) => "a number",
        Msgpack::String(_) => "a string",
        Msgpack::Binary(_) => "binary data",
        Msgpack::Array(_) => "an array",
        Msgpack::Map(_) => "a map",
        Msgpack::Ext(..) => "an extension",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(json: &str) -> CtyType {
        CtyType::from_json_text(json).expect("a type")
    }

    fn number(text: &str) -> Value {
        Value::Number(TfNumber::parse(text).expect("a number"))
    }

    #[test]
    fn types_read_and_write_their_json() {
        for json in [
            r#""string""#,
            r#"["list","number"]"#,
            r#"["set",["map","bool"]]"#,
            r#"["object",{"a":"string","b":["tuple",["number","dynamic"]]}]"#,
            r#"["object",{"a":"string"},["a"]]"#,
        ] {
            assert_eq!(ty(json).to_json().to_string(), json);
        }
        for bad in [
            r#""text""#,
            r#"["list"]"#,
            r#"["object",["a"]]"#,
            "7",
            "not json",
        ] {
            assert!(CtyType::from_json_text(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn round_trips_every_kind() {
        let object = ty(
            r#"["object",{"name":"string","size":"number","on":"bool","tags":["map","string"],
               "ports":["set","number"],"pair":["tuple",["string","number"]],"any":"dynamic",
               "later":"string","none":["list","string"]}]"#,
        );
        let value = Value::map([
            ("name", Value::from("web")),
            ("size", number("0.1")),
            ("on", Value::Bool(true)),
            ("tags", Value::map([("team", Value::from("core"))])),
            ("ports", Value::List(vec![number("80"), number("443")])),
            ("pair", Value::List(vec![Value::from("a"), number("1")])),
            ("any", Value::map([("x", Value::List(vec![number("1")]))])),
            ("later", Value::Unknown),
            ("none", Value::Null),
        ]);
        let wire = encode(&value, &object).expect("encodes");
        let Msgpack::Map(entries) = &wire else {
            panic!("{wire:?}")
        };
        let get = |name: &str| {
            entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(name))
                .map(|(_, v)| v.clone())
                .expect(name)
        };
        assert_eq!(get("later"), Msgpack::Ext(0, vec![0]));
        // 0.1 read from text at 512 bits is no float64: it goes as its text.
        assert_eq!(get("size"), Msgpack::from("0.1"));
        assert_eq!(get("ports"), Msgpack::Array(vec![80.into(), 443.into()]));
        let Msgpack::Array(any) = get("any") else {
            panic!("dynamic is a pair")
        };
        assert_eq!(
            any[0],
            Msgpack::Binary(br#"["object",{"x":["tuple",["number"]]}]"#.to_vec())
        );
        let back = decode(&wire, &object).expect("decodes");
        assert_eq!(back, value);
    }

    #[test]
    fn numbers_keep_their_digits() {
        let exact = |text: &str| encode(&number(text), &CtyType::Number).expect(text);
        assert_eq!(exact("42"), Msgpack::from(42));
        assert_eq!(exact("18446744073709551615"), Msgpack::from(u64::MAX));
        assert_eq!(exact("0.5"), Msgpack::F64(0.5));
        // 0.1 at 512 bits is not the float64 0.1: its text goes instead.
        let tenth_plus = TfNumber::parse("0.1")
            .and_then(|t| t.add(&TfNumber::parse("0.2")?))
            .expect("sum");
        assert_eq!(
            encode(&Value::Number(tenth_plus.clone()), &CtyType::Number).expect("0.3"),
            Msgpack::from("0.3")
        );
        assert_eq!(
            exact("123456789012345678901234567890"),
            Msgpack::from("123456789012345678901234567890")
        );
        assert_eq!(
            decode(&Msgpack::from("0.3"), &CtyType::Number).expect("text"),
            Value::Number(tenth_plus)
        );
        assert!(encode(&Value::Number(TfNumber::infinity(false)), &CtyType::Number).is_err());
    }

    #[test]
    fn configuration_values_convert_to_attribute_types() {
        assert_eq!(
            encode(&number("8080"), &CtyType::String).expect("text"),
            Msgpack::from("8080")
        );
        assert_eq!(
            encode(&Value::from("12"), &CtyType::Number).expect("parsed"),
            Msgpack::from(12)
        );
        assert_eq!(
            encode(&Value::from("true"), &CtyType::Bool).expect("parsed"),
            Msgpack::Boolean(true)
        );
        let error = encode(
            &Value::map([("tags", Value::map([("a", Value::List(vec![]))]))]),
            &ty(r#"["object",{"tags":["map","string"]}]"#),
        )
        .expect_err("a list is no string");
        assert_eq!(error.to_string(), "tags.a: a string is required, not list");
        let error = encode(
            &Value::map([("nope", Value::Null)]),
            &ty(r#"["object",{"name":"string"}]"#),
        )
        .expect_err("unknown attribute");
        assert!(
            error.message.contains("\"nope\" is not an attribute"),
            "{error}"
        );
    }

    #[test]
    fn any_extension_code_is_unknown_and_missing_attributes_are_null() {
        let object = ty(r#"["object",{"a":"string","b":"number"}]"#);
        let wire = Msgpack::Map(vec![(Msgpack::from("a"), Msgpack::Ext(12, vec![0x80]))]);
        assert_eq!(
            decode(&wire, &object).expect("decodes"),
            Value::map([("a", Value::Unknown), ("b", Value::Null)])
        );
        let error = decode(
            &Msgpack::Map(vec![(Msgpack::from("b"), Msgpack::from("x"))]),
            &object,
        )
        .expect_err("not a number");
        assert_eq!(error.path.to_string(), "b");
    }

    #[test]
    fn block_types_follow_nesting_modes() {
        use crate::schema::{Attribute, NestedBlock};
        let mut inner = Block::default();
        inner.attributes.insert(
            "port".into(),
            Attribute {
                cty_type: r#""number""#.into(),
                optional: true,
                ..Attribute::default()
            },
        );
        let mut block = Block::default();
        for (name, nesting) in [
            ("one", Nesting::Single),
            ("many", Nesting::List),
            ("bag", Nesting::Set),
            ("named", Nesting::Map),
        ] {
            block.blocks.insert(
                name.into(),
                NestedBlock {
                    nesting,
                    block: inner.clone(),
                    ..NestedBlock::default()
                },
            );
        }
        let object = block.object_type().expect("a type");
        assert_eq!(
            object.to_json().to_string(),
            r#"["object",{"bag":["set",["object",{"port":"number"}]],"many":["list",["object",{"port":"number"}]],"named":["map",["object",{"port":"number"}]],"one":["object",{"port":"number"}]}]"#
        );
    }
}
