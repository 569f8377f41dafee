//! Strategic merge patch (`application/strategic-merge-patch+json`) for built-in kinds.
//!
//! Like JSON merge patch, except lists with a patch merge key (containers, env, ports,
//! volumes, volumeMounts, …; see `schema::patch_merge`) merge item by item, items can be
//! deleted with `$patch: delete`, and `$patch: replace` replaces a map or list wholesale.

use serde_json::{Map, Value};

use crate::schema::{PatchMerge, patch_merge};

/// Applies `patch` to `target` in place.
pub fn strategic_merge(kind: &str, target: &mut Value, patch: &Value) {
    merge_value(kind, target, patch, &mut Vec::new());
}

fn is_directive(key: &str) -> bool {
    key == "$patch"
        || key == "$retainKeys"
        || key.starts_with("$setElementOrder/")
        || key.starts_with("$deleteFromPrimitiveList/")
}

/// A patch value with directives stripped, for inserting where nothing existed.
fn clean(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, v)| !is_directive(k) && !v.is_null())
                .map(|(k, v)| (k.clone(), clean(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .filter(|i| i.get("$patch").is_none())
                .map(clean)
                .collect(),
        ),
        other => other.clone(),
    }
}

fn merge_value(kind: &str, target: &mut Value, patch: &Value, names: &mut Vec<String>) {
    let Some(patch_map) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if patch_map.get("$patch").and_then(Value::as_str) == Some("replace") {
        *target = clean(patch);
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(target_map) = target.as_object_mut() else {
        return;
    };
    for (key, pv) in patch_map {
        if let Some(field) = key.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(items)), Some(remove)) =
                (target_map.get_mut(field), pv.as_array())
            {
                items.retain(|i| !remove.contains(i));
            }
            continue;
        }
        if is_directive(key) {
            continue;
        }
        if pv.is_null() {
            target_map.remove(key);
            continue;
        }
        names.push(key.clone());
        match (target_map.get_mut(key), pv) {
            (Some(tv @ Value::Array(_)), Value::Array(items)) => {
                merge_list(kind, tv, items, names);
            }
            (Some(tv @ Value::Object(_)), Value::Object(_)) => merge_value(kind, tv, pv, names),
            (_, pv) => {
                target_map.insert(key.clone(), clean(pv));
            }
        }
        names.pop();
    }
}

fn merge_list(kind: &str, target: &mut Value, items: &[Value], names: &mut Vec<String>) {
    let replace_all = items
        .iter()
        .any(|i| i.get("$patch").and_then(Value::as_str) == Some("replace"));
    if replace_all {
        *target = clean(&Value::Array(items.to_vec()));
        return;
    }
    let Some(list) = target.as_array_mut() else {
        return;
    };
    match patch_merge(kind, names) {
        PatchMerge::Replace => *list = items.iter().map(clean).collect(),
        PatchMerge::Primitive => {
            for item in items {
                if !list.contains(item) {
                    list.push(item.clone());
                }
            }
        }
        PatchMerge::ByKey(key) => {
            for item in items {
                let Some(key_value) = item.get(key) else {
                    continue;
                };
                let position = list.iter().position(|li| li.get(key) == Some(key_value));
                let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
                match (position, delete) {
                    (Some(i), true) => {
                        list.remove(i);
                    }
                    (None, true) => {}
                    (Some(i), false) => merge_value(kind, &mut list[i], item, names),
                    (None, false) => list.push(clean(item)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_containers_by_name_and_deletes() {
        let mut target = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "a:1", "env": [{"name": "X", "value": "1"}]},
            {"name": "side", "image": "s:1"}]}}}});
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "a:2", "env": [{"name": "Y", "value": "2"}]},
            {"name": "side", "$patch": "delete"}]}}}});
        strategic_merge("Deployment", &mut target, &patch);
        assert_eq!(
            target,
            json!({"spec": {"template": {"spec": {"containers": [
                {"name": "app", "image": "a:2", "env": [
                    {"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]}]}}}})
        );
    }

    #[test]
    fn atomic_lists_are_replaced() {
        let mut target = json!({"spec": {"containers": [{"name": "a", "args": ["x", "y"]}]}});
        strategic_merge(
            "Pod",
            &mut target,
            &json!({"spec": {"containers": [{"name": "a", "args": ["z"]}]}}),
        );
        assert_eq!(target["spec"]["containers"][0]["args"], json!(["z"]));
    }
}
