//! Configuration objects as Terraform sends them to a provider: every attribute of the
//! block's schema present (null when the configuration leaves it unset), every nested block
//! type present as its nesting mode's empty value, encoded as MessagePack the way cty does
//! (objects as maps keyed by attribute name, lists and sets as arrays, null as nil).

use std::collections::BTreeMap;

use rmpv::Value;

use crate::schema::{Block, Nesting};

/// Why a configuration object could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// A name that is neither an attribute nor a nested block of the schema.
    #[error("{name:?} is not an attribute or block of this schema")]
    UnknownName {
        /// The name given.
        name: String,
    },
}

/// The object for `block` with the given attributes and nested blocks set and everything
/// else null (attributes) or empty (nested blocks).
///
/// Values of nested blocks are given as their nesting mode wants them: an array of objects
/// for list and set blocks, a map for map blocks, one object for single and group blocks;
/// build those objects with this function too, from the nested block's schema.
pub fn config_object(
    block: &Block,
    values: impl IntoIterator<Item = (String, Value)>,
) -> Result<Value, ConfigError> {
    let mut object: BTreeMap<String, Value> = block
        .attributes
        .keys()
        .map(|name| (name.clone(), Value::Nil))
        .collect();
    for (name, nested) in &block.blocks {
        let absent = match nested.nesting {
            Nesting::Single => Value::Nil,
            // A group block is never null: absent, it is an object of nulls.
            Nesting::Group => config_object(&nested.block, [])?,
            Nesting::List | Nesting::Set => Value::Array(Vec::new()),
            Nesting::Map => Value::Map(Vec::new()),
        };
        object.insert(name.clone(), absent);
    }
    for (name, value) in values {
        match object.get_mut(&name) {
            Some(slot) => *slot = value,
            None => return Err(ConfigError::UnknownName { name }),
        }
    }
    Ok(Value::Map(
        object
            .into_iter()
            .map(|(name, value)| (Value::from(name), value))
            .collect(),
    ))
}

/// The MessagePack encoding of `value`, for a `DynamicValue`.
pub fn encode_msgpack(value: &Value) -> Vec<u8> {
    let mut bytes = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut bytes, value);
    bytes
}

/// Decodes a `DynamicValue`'s MessagePack bytes.
pub fn decode_msgpack(mut bytes: &[u8]) -> Result<Value, rmpv::decode::Error> {
    rmpv::decode::read_value(&mut bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, NestedBlock};

    fn block() -> Block {
        let attribute = Attribute {
            cty_type: "\"string\"".into(),
            optional: true,
            ..Attribute::default()
        };
        let inner = Block {
            attributes: [("s3".to_owned(), attribute.clone())].into(),
            blocks: BTreeMap::new(),
        };
        let nested = |nesting| NestedBlock {
            nesting,
            block: inner.clone(),
            min_items: 0,
            max_items: 0,
        };
        Block {
            attributes: [
                ("region".to_owned(), attribute.clone()),
                ("profile".to_owned(), attribute),
            ]
            .into(),
            blocks: [
                ("endpoints".to_owned(), nested(Nesting::Set)),
                ("assume_role".to_owned(), nested(Nesting::List)),
                ("single".to_owned(), nested(Nesting::Single)),
                ("group".to_owned(), nested(Nesting::Group)),
                ("by_name".to_owned(), nested(Nesting::Map)),
            ]
            .into(),
        }
    }

    #[test]
    fn unset_attributes_are_null_and_blocks_empty() {
        let schema = block();
        let endpoints = config_object(
            &schema.blocks["endpoints"].block,
            [("s3".to_owned(), Value::from("http://moto"))],
        )
        .expect("s3 is an attribute of the block");
        let value = config_object(
            &schema,
            [
                ("region".to_owned(), Value::from("eu-west-1")),
                ("endpoints".to_owned(), Value::Array(vec![endpoints])),
            ],
        )
        .expect("region and endpoints are in the schema");
        let object = |pairs: Vec<(&str, Value)>| {
            Value::Map(
                pairs
                    .into_iter()
                    .map(|(k, v)| (Value::from(k), v))
                    .collect(),
            )
        };
        let expected = object(vec![
            ("assume_role", Value::Array(vec![])),
            ("by_name", Value::Map(vec![])),
            (
                "endpoints",
                Value::Array(vec![object(vec![("s3", Value::from("http://moto"))])]),
            ),
            ("group", object(vec![("s3", Value::Nil)])),
            ("profile", Value::Nil),
            ("region", Value::from("eu-west-1")),
            ("single", Value::Nil),
        ]);
        assert_eq!(value, expected);
        assert_eq!(
            decode_msgpack(&encode_msgpack(&value)).expect("the encoding decodes"),
            expected
        );
    }

    #[test]
    fn unknown_names_are_refused() {
        assert_eq!(
            config_object(&block(), [("regoin".to_owned(), Value::from("x"))]),
            Err(ConfigError::UnknownName {
                name: "regoin".into()
            })
        );
    }
}
