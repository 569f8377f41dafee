//! Strategic merge patches: maps merge recursively, `null` deletes a key, lists of named
//! things (containers, env, volumes, ports...) merge element by element on their merge key,
//! other lists are replaced; `$patch: delete` and `$patch: replace` directives are honoured.
//!
//! Merge keys come from the object's schema when one is known (`schema.rs`: the
//! kustomization's `openapi` file, CRDs among the objects), else from a table of the core
//! Kubernetes list fields (by field name).

use serde_json::{Map, Value};

use super::schema::{ListRule, Node};

const DIRECTIVE: &str = "$patch";

/// What a patch asks for at one level.
#[derive(Debug, PartialEq)]
pub(crate) enum Outcome {
    Keep,
    /// `$patch: delete` on this map: drop it (the whole object at the top level).
    Delete,
}

/// Merges `patch` into `target`.
#[cfg(test)]
pub(crate) fn merge(target: &mut Value, patch: &Value) -> Outcome {
    merge_with(target, patch, None)
}

/// Merges `patch` into `target`, whose schema is `schema` when known.
pub(crate) fn merge_with(target: &mut Value, patch: &Value, schema: Option<Node<'_>>) -> Outcome {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => merge_map(target, patch, schema),
        (target, patch) => {
            *target = clean(patch);
            Outcome::Keep
        }
    }
}

fn merge_map(
    target: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    schema: Option<Node<'_>>,
) -> Outcome {
    match patch.get(DIRECTIVE).and_then(Value::as_str) {
        Some("delete") => return Outcome::Delete,
        Some("replace") => {
            *target = clean_map(patch);
            return Outcome::Keep;
        }
        _ => {}
    }
    for (key, patch_value) in patch {
        // Other directives ($setElementOrder/..., $retainKeys, ...) only steer ordering and
        // pruning in the API server; the merged content does not depend on them.
        if key.starts_with('$') {
            continue;
        }
        if patch_value.is_null() {
            target.shift_remove(key);
            continue;
        }
        let child = schema.and_then(|node| node.property(key));
        match (target.get_mut(key), patch_value) {
            (Some(Value::Object(existing)), Value::Object(patch_map)) => {
                if merge_map(existing, patch_map, child) == Outcome::Delete {
                    target.shift_remove(key);
                }
            }
            (Some(Value::Array(existing)), Value::Array(patch_items)) => {
                let rule = match child {
                    Some(node) => node.list_rule(schema.and_then(|n| n.raw_property(key))),
                    None => ListRule::Unknown,
                };
                merge_list(
                    key,
                    existing,
                    patch_items,
                    rule,
                    child.and_then(Node::items),
                );
            }
            (_, Value::Object(patch_map))
                if patch_map.get(DIRECTIVE).and_then(Value::as_str) == Some("delete") =>
            {
                target.shift_remove(key);
            }
            _ => {
                target.insert(key.clone(), clean(patch_value));
            }
        }
    }
    Outcome::Keep
}

/// The merge key of the list field `field`, given the elements involved.
fn merge_key(field: &str, elements: &[&Value]) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "resourceClaims" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "volumeDevices" => Some("devicePath"),
        "hostAliases" => Some("ip"),
        // Container ports merge on containerPort, Service ports on port.
        "ports"
            if elements
                .iter()
                .any(|element| element.get("containerPort").is_some()) =>
        {
            Some("containerPort")
        }
        "ports" => Some("port"),
        _ => None,
    }
}

fn merge_list(
    field: &str,
    target: &mut Vec<Value>,
    patch: &[Value],
    rule: ListRule,
    items: Option<Node<'_>>,
) {
    let is_replace = |item: &Value| item.get(DIRECTIVE).and_then(Value::as_str) == Some("replace");
    if patch.iter().any(is_replace) {
        *target = patch
            .iter()
            .filter(|item| !is_replace(item))
            .map(clean)
            .collect();
        return;
    }
    let elements: Vec<&Value> = target.iter().chain(patch.iter()).collect();
    let key = match rule {
        ListRule::Merge(key) => Some(key),
        ListRule::Replace => None,
        ListRule::Unknown => merge_key(field, &elements).map(str::to_string),
    }
    .filter(|_| elements.iter().all(|element| element.is_object()));
    let Some(key) = key else {
        *target = patch.iter().map(clean).collect();
        return;
    };
    // Kustomize's order: the patch's elements first, in the patch's order (each merged into
    // the element with its key, when there is one), then the elements the patch does not
    // name, in their order.
    let mut merged = Vec::with_capacity(target.len() + patch.len());
    let mut taken = vec![false; target.len()];
    for item in patch {
        let Some(id) = item.get(&key) else {
            merged.push(clean(item));
            continue;
        };
        let position = target
            .iter()
            .enumerate()
            .position(|(index, existing)| !taken[index] && existing.get(&key) == Some(id));
        let deletes = item.get(DIRECTIVE).and_then(Value::as_str) == Some("delete");
        match position {
            Some(index) if deletes => taken[index] = true,
            Some(index) => {
                taken[index] = true;
                let mut element = target[index].clone();
                if merge_with(&mut element, item, items) != Outcome::Delete {
                    merged.push(element);
                }
            }
            None if deletes => {}
            None => merged.push(clean(item)),
        }
    }
    merged.extend(
        target
            .iter()
            .zip(taken)
            .filter(|(_, taken)| !taken)
            .map(|(element, _)| element.clone()),
    );
    *target = merged;
}

/// `value` without patch directives, as it would be inserted into an object.
fn clean(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(clean_map(map)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .filter(|item| item.get(DIRECTIVE).is_none())
                .map(clean)
                .collect(),
        ),
        other => other.clone(),
    }
}

fn clean_map(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .filter(|(key, _)| !key.starts_with('$'))
        .map(|(key, value)| (key.clone(), clean(value)))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merges_maps_named_lists_and_directives() {
        let mut target = json!({
            "metadata": {"labels": {"a": "1", "b": "2"}},
            "spec": {
                "containers": [
                    {"name": "web", "image": "web:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                     "ports": [{"containerPort": 80, "name": "http"}], "args": ["--old"]},
                    {"name": "sidecar", "image": "proxy:1"},
                ],
                "tolerations": [{"key": "x"}],
                "affinity": {"nodeAffinity": {"x": 1}},
            }
        });
        let patch = json!({
            "metadata": {"labels": {"b": null, "c": "3"}},
            "spec": {
                "containers": [
                    {"name": "web", "image": "web:2", "env": [{"name": "B", "$patch": "delete"}, {"name": "C", "value": "3"}],
                     "ports": [{"containerPort": 80, "protocol": "TCP"}], "args": ["--new"]},
                    {"name": "sidecar", "$patch": "delete"},
                    {"name": "debug", "image": "busybox"},
                ],
                "tolerations": [{"key": "y"}],
                "affinity": {"$patch": "replace", "podAffinity": {"y": 2}},
            }
        });
        assert_eq!(merge(&mut target, &patch), Outcome::Keep);
        assert_eq!(
            target,
            json!({
                "metadata": {"labels": {"a": "1", "c": "3"}},
                "spec": {
                    "containers": [
                        // The patch's elements first (as kubectl kustomize orders them).
                        {"name": "web", "image": "web:2", "env": [{"name": "C", "value": "3"}, {"name": "A", "value": "1"}],
                         "ports": [{"containerPort": 80, "name": "http", "protocol": "TCP"}], "args": ["--new"]},
                        {"name": "debug", "image": "busybox"},
                    ],
                    "tolerations": [{"key": "y"}],
                    "affinity": {"podAffinity": {"y": 2}},
                }
            })
        );
    }

    #[test]
    fn list_replace_and_object_delete() {
        let mut target = json!({"spec": {"volumes": [{"name": "a"}, {"name": "b"}]}});
        let patch = json!({"spec": {"volumes": [{"$patch": "replace"}, {"name": "c"}]}});
        merge(&mut target, &patch);
        assert_eq!(target, json!({"spec": {"volumes": [{"name": "c"}]}}));
        assert_eq!(
            merge(&mut target, &json!({"$patch": "delete", "kind": "X"})),
            Outcome::Delete
        );
    }
}
