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

use crate::schema::{Block, Nesting};

/// The proposed new object for `block` from `prior` (null to create) and `config`.
pub fn proposed_new(block: &Block, prior: &Value, config: &Value) -> Value {
    if config.is_null() {
        return Value::Null;
    }
    if config.is_unknown() {
        return Value::Unknown;
    }
    let empty = BTreeMap::new();
    let prior = prior.as_map().unwrap_or(&empty);
    let config = config.as_map().unwrap_or(&empty);
    let mut out = BTreeMap::new();
    for (name, attribute) in &block.attributes {
        let prior_value = prior.get(name).cloned().unwrap_or_default();
        let config_value = config.get(name).cloned().unwrap_or_default();
        let value = if attribute.computed && config_value.is_null() {
            prior_value
        } else {
            config_value
        };
        out.insert(name.clone(), value);
    }
    for (name, nested) in &block.blocks {
        let prior_value = prior.get(name).unwrap_or(&Value::Null);
        let config_value = config.get(name).unwrap_or(&Value::Null);
        let value = match nested.nesting {
            Nesting::Single | Nesting::Group => {
                proposed_new(&nested.block, prior_value, config_value)
            }
            _ if config_value.is_unknown() => Value::Unknown,
            Nesting::List => {
                let prior_items = prior_value.as_list().unwrap_or_default();
                Value::List(
                    config_value
                        .as_list()
                        .unwrap_or_default()
                        .iter()
                        .enumerate()
                        .map(|(i, item)| {
                            let prior_item = prior_items.get(i).unwrap_or(&Value::Null);
                            proposed_new(&nested.block, prior_item, item)
                        })
                        .collect(),
                )
            }
            Nesting::Map => {
                let empty = BTreeMap::new();
                let prior_items = prior_value.as_map().unwrap_or(&empty);
                Value::Map(
                    config_value
                        .as_map()
                        .unwrap_or(&empty)
                        .iter()
                        .map(|(key, item)| {
                            let prior_item = prior_items.get(key).unwrap_or(&Value::Null);
                            (key.clone(), proposed_new(&nested.block, prior_item, item))
                        })
                        .collect(),
                )
            }
            Nesting::Set => {
                let prior_items = prior_value.as_list().unwrap_or_default();
                let mut used = vec![false; prior_items.len()];
                Value::List(
                    config_value
                        .as_list()
                        .unwrap_or_default()
                        .iter()
                        .map(|item| {
                            let matching = prior_items.iter().enumerate().position(|(i, p)| {
                                !used[i] && same_configuration(&nested.block, p, item)
                            });
                            let prior_item = match matching {
                                Some(i) => {
                                    used[i] = true;
                                    &prior_items[i]
                                }
                                None => &Value::Null,
                            };
                            proposed_new(&nested.block, prior_item, item)
                        })
                        .collect(),
                )
            }
        };
        out.insert(name.clone(), value);
    }
    Value::Map(out)
}

/// Whether a prior set element is the one `config` describes: equal in every attribute the
/// configuration decides (not computed-only; optional+computed ones only where set) and in
/// every nested block.
fn same_configuration(block: &Block, prior: &Value, config: &Value) -> bool {
    let (Some(prior), Some(config)) = (prior.as_map(), config.as_map()) else {
        return prior.is_null() && config.is_null();
    };
    let attributes = block.attributes.iter().all(|(name, attribute)| {
        let config_value = config.get(name).unwrap_or(&Value::Null);
        if attribute.computed && config_value.is_null() {
            return true;
        }
        prior.get(name).unwrap_or(&Value::Null) == config_value
    });
    attributes
        && block.blocks.iter().all(|(name, nested)| {
            let p = prior.get(name).unwrap_or(&Value::Null);
            let c = config.get(name).unwrap_or(&Value::Null);
            match (p.as_list(), c.as_list()) {
                (Some(ps), Some(cs)) => {
                    ps.len() == cs.len()
                        && ps
                            .iter()
                            .zip(cs)
                            .all(|(p, c)| same_configuration(&nested.block, p, c))
                }
                _ => same_configuration(&nested.block, p, c),
            }
        })
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
