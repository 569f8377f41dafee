//! The proposed new state Terraform sends with PlanResourceChange: the configuration, with
//! what the provider decided before kept where the configuration leaves it open.
//!
//! For each attribute of the schema: a computed attribute the configuration does not set
//! (optional and computed, null in configuration; or computed only) keeps its prior value;
//! every other attribute takes the configuration's value, null included. Nested blocks are
//! matched with their prior instances — single and group blocks directly, list blocks by
//! position, map blocks by key, set blocks by equal configuration (their non-computed
//! attributes) — and proposed recursively. To create, the prior object is all nulls, so
//! computed attributes are null and the provider plans them (usually as unknown).

use std::collections::BTreeMap;

use braid_provider::Value;

use crate::schema::{Attribute, Block, NestedBlock, Nesting};

/// The proposed new object for `block` from `prior` (null to create) and `config`.
pub fn proposed_new(block: &Block, prior: &Value, config: &Value) -> Value {
    if config.is_null() {
        return Value::Null;
    }
    if config.is_unknown() {
        return Value::Unknown;
    }
    proposed_object(&block.attributes, &block.blocks, prior, config)
}

/// The attributes and nested blocks of one object.
fn proposed_object(
    attributes: &BTreeMap<String, Attribute>,
    blocks: &BTreeMap<String, NestedBlock>,
    prior: &Value,
    config: &Value,
) -> Value {
    let empty = braid_provider::ValueMap::new();
    let prior = prior.as_map().unwrap_or(&empty);
    let config = config.as_map().unwrap_or(&empty);
    let mut out = BTreeMap::new();
    for (name, attribute) in attributes {
        let prior_value = prior.get(name).unwrap_or(&Value::Null);
        let config_value = config.get(name).unwrap_or(&Value::Null);
        let value = match &attribute.nested {
            // Computed and not set: what the provider decided before.
            _ if attribute.computed && config_value.is_null() => prior_value.clone(),
            // A nested type: its own computed attributes keep their prior values.
            Some(nested) if !config_value.is_null() => proposed_collection(
                nested.nesting,
                prior_value,
                config_value,
                |prior, config| {
                    // An unknown or null element stays so (as `proposed_new` keeps them).
                    if config.is_unknown() || config.is_null() {
                        config.clone()
                    } else {
                        proposed_object(&nested.attributes, &BTreeMap::new(), prior, config)
                    }
                },
                |prior, config| same_attributes(&nested.attributes, prior, config),
            ),
            _ => config_value.clone(),
        };
        out.insert(name.clone(), value);
    }
    for (name, nested) in blocks {
        let prior_value = prior.get(name).unwrap_or(&Value::Null);
        let config_value = config.get(name).unwrap_or(&Value::Null);
        let value = match nested.nesting {
            Nesting::Single | Nesting::Group => {
                proposed_new(&nested.block, prior_value, config_value)
            }
            _ => proposed_collection(
                nested.nesting,
                prior_value,
                config_value,
                |prior, config| proposed_new(&nested.block, prior, config),
                |prior, config| same_configuration(&nested.block, prior, config),
            ),
        };
        out.insert(name.clone(), value);
    }
    Value::Map(out.into())
}

/// The proposed collection of objects (one object, a list, a set or a map), each proposed
/// by `item` from its prior counterpart: list elements by position, map elements by key,
/// set elements by equal configuration (`same`), the single object directly.
fn proposed_collection(
    nesting: Nesting,
    prior: &Value,
    config: &Value,
    item: impl Fn(&Value, &Value) -> Value,
    same: impl Fn(&Value, &Value) -> bool,
) -> Value {
    if config.is_unknown() {
        return Value::Unknown;
    }
    match nesting {
        Nesting::Single | Nesting::Group => item(prior, config),
        Nesting::List => {
            let prior_items = prior.as_list().unwrap_or_default();
            Value::List(
                config
                    .as_list()
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                    .map(|(i, c)| item(prior_items.get(i).unwrap_or(&Value::Null), c))
                    .collect(),
            )
        }
        Nesting::Map => {
            let empty = braid_provider::ValueMap::new();
            let prior_items = prior.as_map().unwrap_or(&empty);
            Value::Map(
                config
                    .as_map()
                    .unwrap_or(&empty)
                    .iter()
                    .map(|(key, c)| {
                        (
                            key.clone(),
                            item(prior_items.get(key).unwrap_or(&Value::Null), c),
                        )
                    })
                    .collect(),
            )
        }
        Nesting::Set => {
            let prior_items = prior.as_list().unwrap_or_default();
            let mut used = vec![false; prior_items.len()];
            Value::List(
                config
                    .as_list()
                    .unwrap_or_default()
                    .iter()
                    .map(|c| {
                        let matching = prior_items
                            .iter()
                            .enumerate()
                            .position(|(i, p)| !used[i] && same(p, c));
                        let prior_item = match matching {
                            Some(i) => {
                                used[i] = true;
                                &prior_items[i]
                            }
                            None => &Value::Null,
                        };
                        item(prior_item, c)
                    })
                    .collect(),
            )
        }
    }
}

/// Whether a prior set element is the one `config` describes: equal in every attribute the
/// configuration decides (not computed-only; optional+computed ones only where set) and in
/// every nested block.
fn same_configuration(block: &Block, prior: &Value, config: &Value) -> bool {
    same_attributes(&block.attributes, prior, config)
        && block.blocks.iter().all(|(name, nested)| {
            let (Some(p), Some(c)) = (prior.as_map(), config.as_map()) else {
                return true;
            };
            let p = p.get(name).unwrap_or(&Value::Null);
            let c = c.get(name).unwrap_or(&Value::Null);
            same_collection(nested.nesting, p, c, |p, c| {
                same_configuration(&nested.block, p, c)
            })
        })
}

/// [`same_configuration`] for attributes, nested types included.
fn same_attributes(
    attributes: &BTreeMap<String, Attribute>,
    prior: &Value,
    config: &Value,
) -> bool {
    let (Some(prior), Some(config)) = (prior.as_map(), config.as_map()) else {
        return prior.is_null() && config.is_null();
    };
    attributes.iter().all(|(name, attribute)| {
        let config_value = config.get(name).unwrap_or(&Value::Null);
        if attribute.computed && config_value.is_null() {
            return true;
        }
        let prior_value = prior.get(name).unwrap_or(&Value::Null);
        match &attribute.nested {
            Some(nested) => same_collection(nested.nesting, prior_value, config_value, |p, c| {
                same_attributes(&nested.attributes, p, c)
            }),
            None => prior_value == config_value,
        }
    })
}

/// Two collections of objects (or two objects) compared element by element as `nesting`
/// collects them.
fn same_collection(
    nesting: Nesting,
    prior: &Value,
    config: &Value,
    same: impl Fn(&Value, &Value) -> bool,
) -> bool {
    match (nesting, prior, config) {
        (Nesting::List | Nesting::Set, Value::List(ps), Value::List(cs)) => {
            ps.len() == cs.len() && ps.iter().zip(cs).all(|(p, c)| same(p, c))
        }
        (Nesting::Map, Value::Map(ps), Value::Map(cs)) => {
            ps.len() == cs.len()
                && ps
                    .iter()
                    .zip(cs)
                    .all(|((pk, p), (ck, c))| pk == ck && same(p, c))
        }
        (Nesting::Single | Nesting::Group, p, c) => same(p, c),
        (_, p, c) => p == c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, NestedBlock};

    fn attribute(optional: bool, computed: bool) -> Attribute {
        Attribute {
            cty_type: r#""string""#.into(),
            required: !optional && !computed,
            optional,
            computed,
            ..Attribute::default()
        }
    }

    fn schema() -> Block {
        let mut rule = Block::default();
        rule.attributes
            .insert("port".into(), attribute(false, false));
        rule.attributes.insert("id".into(), attribute(false, true));
        let mut block = Block::default();
        block
            .attributes
            .insert("name".into(), attribute(false, false));
        block
            .attributes
            .insert("arn".into(), attribute(false, true));
        block
            .attributes
            .insert("tier".into(), attribute(true, true));
        block
            .attributes
            .insert("note".into(), attribute(true, false));
        for (name, nesting) in [("rule", Nesting::Set), ("step", Nesting::List)] {
            block.blocks.insert(
                name.into(),
                NestedBlock {
                    nesting,
                    block: rule.clone(),
                    ..NestedBlock::default()
                },
            );
        }
        block
    }

    fn rule(port: &str, id: Value) -> Value {
        Value::map([("port", Value::from(port)), ("id", id)])
    }

    #[test]
    fn create_proposes_configuration_with_computed_attributes_null() {
        let config = Value::map([
            ("name", Value::from("q")),
            ("rule", Value::List(vec![rule("80", Value::Null)])),
        ]);
        let proposed = proposed_new(&schema(), &Value::Null, &config);
        assert_eq!(proposed.attr("name"), Some(&Value::from("q")));
        assert_eq!(proposed.attr("arn"), Some(&Value::Null));
        assert_eq!(proposed.attr("tier"), Some(&Value::Null));
        assert_eq!(proposed.attr("step"), Some(&Value::List(Vec::new())));
    }

    #[test]
    fn update_keeps_what_the_provider_decided_where_configuration_is_silent() {
        let prior = Value::map([
            ("name", Value::from("q")),
            ("arn", Value::from("arn:q")),
            ("tier", Value::from("standard")),
            ("note", Value::from("old")),
            (
                "rule",
                Value::List(vec![
                    rule("80", Value::from("r1")),
                    rule("443", Value::from("r2")),
                ]),
            ),
            ("step", Value::List(vec![rule("1", Value::from("s1"))])),
        ]);
        let config = Value::map([
            ("name", Value::from("q2")),
            ("tier", Value::Null),
            ("note", Value::Null),
            (
                "rule",
                Value::List(vec![rule("443", Value::Null), rule("22", Value::Null)]),
            ),
            (
                "step",
                Value::List(vec![rule("2", Value::Null), rule("3", Value::Null)]),
            ),
        ]);
        let proposed = proposed_new(&schema(), &prior, &config);
        assert_eq!(proposed.attr("name"), Some(&Value::from("q2")));
        assert_eq!(proposed.attr("arn"), Some(&Value::from("arn:q")));
        assert_eq!(proposed.attr("tier"), Some(&Value::from("standard")));
        // Optional, not computed: configuration's null wins.
        assert_eq!(proposed.attr("note"), Some(&Value::Null));
        // Set blocks match by configuration: 443 keeps its id, 22 is new.
        assert_eq!(
            proposed.attr("rule"),
            Some(&Value::List(vec![
                rule("443", Value::from("r2")),
                rule("22", Value::Null)
            ]))
        );
        // List blocks match by position.
        assert_eq!(
            proposed.attr("step"),
            Some(&Value::List(vec![
                rule("2", Value::from("s1")),
                rule("3", Value::Null)
            ]))
        );
    }

    /// Protocol 6's nested attribute types: computed attributes inside keep their prior
    /// values, matched as nested blocks are; a nested attribute left unset stays null (it is
    /// not an empty collection, as an absent block is); a computed nested attribute left
    /// unset keeps its prior value whole.
    #[test]
    fn nested_attribute_types_keep_what_the_provider_decided() {
        use crate::schema::NestedType;
        let mut element = BTreeMap::new();
        element.insert("path".to_owned(), attribute(false, false));
        element.insert("weight".to_owned(), attribute(true, true));
        let nested = |nesting, optional, computed| Attribute {
            nested: Some(Box::new(NestedType {
                nesting,
                attributes: element.clone(),
            })),
            ..attribute(optional, computed)
        };
        let mut block = Block::default();
        block
            .attributes
            .insert("routes".into(), nested(Nesting::List, true, false));
        block
            .attributes
            .insert("by_name".into(), nested(Nesting::Map, true, false));
        block
            .attributes
            .insert("one".into(), nested(Nesting::Single, true, false));
        block
            .attributes
            .insert("decided".into(), nested(Nesting::Set, true, true));
        let route = |path: &str, weight: Value| {
            Value::map([("path", Value::from(path)), ("weight", weight)])
        };
        let prior = Value::map([
            ("routes", Value::List(vec![route("/", Value::from(100))])),
            ("by_name", Value::map([("a", route("/a", Value::from(5)))])),
            ("one", route("/one", Value::from(1))),
            ("decided", Value::List(vec![route("/d", Value::from(2))])),
        ]);
        let config = Value::map([
            (
                "routes",
                Value::List(vec![route("/", Value::Null), route("/new", Value::Null)]),
            ),
            (
                "by_name",
                Value::map([
                    ("a", route("/a", Value::Null)),
                    ("b", route("/b", Value::Null)),
                ]),
            ),
            ("one", Value::Null),
            ("decided", Value::Null),
        ]);
        let proposed = proposed_new(&block, &prior, &config);
        assert_eq!(
            proposed.attr("routes"),
            Some(&Value::List(vec![
                route("/", Value::from(100)),
                route("/new", Value::Null)
            ]))
        );
        assert_eq!(
            proposed.attr("by_name"),
            Some(&Value::map([
                ("a", route("/a", Value::from(5))),
                ("b", route("/b", Value::Null))
            ]))
        );
        assert_eq!(proposed.attr("one"), Some(&Value::Null));
        assert_eq!(proposed.attr("decided"), prior.attr("decided"));
        // Unknown configuration stays unknown, whole or element by element.
        let config = Value::map([("routes", Value::Unknown)]);
        let proposed = proposed_new(&block, &prior, &config);
        assert_eq!(proposed.attr("routes"), Some(&Value::Unknown));
        let config = Value::map([(
            "routes",
            Value::List(vec![Value::Unknown, route("/b", Value::Null)]),
        )]);
        let proposed = proposed_new(&block, &prior, &config);
        assert_eq!(
            proposed.attr("routes"),
            Some(&Value::List(vec![Value::Unknown, route("/b", Value::Null)]))
        );
    }

    #[test]
    fn unknown_and_null_configuration() {
        assert_eq!(
            proposed_new(&schema(), &Value::Null, &Value::Null),
            Value::Null
        );
        let config = Value::map([("name", Value::Unknown), ("rule", Value::Unknown)]);
        let proposed = proposed_new(&schema(), &Value::Null, &config);
        assert_eq!(proposed.attr("name"), Some(&Value::Unknown));
        assert_eq!(proposed.attr("rule"), Some(&Value::Unknown));
    }
}
