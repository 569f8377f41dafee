//! Values as the protocol carries them: MessagePack objects (maps with string keys), with
//! cty's unknown as extension 0; and their JSON form in the provider's files.

use rmpv::Value;

/// cty's unknown value.
pub fn unknown() -> Value {
    Value::Ext(0, vec![0])
}

pub fn is_unknown(value: &Value) -> bool {
    matches!(value, Value::Ext(0, _))
}

/// An object's attribute (nil when absent or when `object` is not an object).
pub fn get<'a>(object: &'a Value, name: &str) -> &'a Value {
    static NIL: Value = Value::Nil;
    object
        .as_map()
        .and_then(|entries| entries.iter().find(|(k, _)| k.as_str() == Some(name)))
        .map_or(&NIL, |(_, v)| v)
}

/// Sets an object's attribute (adding it when absent).
pub fn set(object: &mut Value, name: &str, value: Value) {
    if let Value::Map(entries) = object {
        match entries.iter_mut().find(|(k, _)| k.as_str() == Some(name)) {
            Some((_, slot)) => *slot = value,
            None => entries.push((Value::from(name), value)),
        }
    }
}

/// Applies `f` to every element of a list or set, or every value of a map.
pub fn for_each_element(collection: &mut Value, mut f: impl FnMut(Option<&str>, &mut Value)) {
    match collection {
        Value::Array(items) => items.iter_mut().for_each(|item| f(None, item)),
        Value::Map(entries) => {
            for (key, item) in entries.iter_mut() {
                f(key.as_str(), item);
            }
        }
        _ => {}
    }
}

/// A value read from a file, as MessagePack. Integers stay integers.
pub fn from_json(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Boolean(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Value::from(i),
            (None, Some(f)) => Value::F64(f),
            (None, None) => Value::from(n.to_string()),
        },
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(items) => Value::Array(items.iter().map(from_json).collect()),
        serde_json::Value::Object(entries) => Value::Map(
            entries
                .iter()
                .map(|(k, v)| (Value::from(k.as_str()), from_json(v)))
                .collect(),
        ),
    }
}

/// A known value as JSON for the provider's files, object keys sorted.
pub fn to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Boolean(b) => serde_json::Value::Bool(*b),
        Value::Integer(i) => i
            .as_i64()
            .map(serde_json::Value::from)
            .or_else(|| i.as_u64().map(serde_json::Value::from))
            .unwrap_or(serde_json::Value::Null),
        Value::F32(f) => serde_json::Value::from(f64::from(*f)),
        Value::F64(f) => serde_json::Value::from(*f),
        // cty sends numbers it cannot fit in 64 bits as their decimal text.
        Value::String(s) => serde_json::Value::from(s.as_str().unwrap_or_default()),
        Value::Array(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => {
            let mut sorted: Vec<_> = entries
                .iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), to_json(v)))
                .collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(sorted.into_iter().collect())
        }
        Value::Nil | Value::Binary(_) | Value::Ext(..) => serde_json::Value::Null,
    }
}

/// The number a value holds, when it is a known number.
pub fn as_number(value: &Value) -> Option<f64> {
    value.as_f64().or_else(|| value.as_i64().map(|i| i as f64))
}
