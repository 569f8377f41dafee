//! Server-side apply field ownership: projecting an object onto the fields one field manager
//! owns (FieldsV1 in `metadata.managedFields`), and finding conflict paths in a value.

use serde_json::{Map, Value as Json};

/// The union of the FieldsV1 sets `manager` owns through `Apply` operations.
pub fn owned_fields(object: &Json, manager: &str) -> Map<String, Json> {
    let mut union = Map::new();
    let entries = object
        .pointer("/metadata/managedFields")
        .and_then(Json::as_array);
    for entry in entries.into_iter().flatten() {
        if entry["manager"] == manager
            && entry["operation"] == "Apply"
            && let Some(set) = entry["fieldsV1"].as_object()
        {
            merge(&mut union, set);
        }
    }
    union
}

fn merge(into: &mut Map<String, Json>, from: &Map<String, Json>) {
    for (key, value) in from {
        match (into.get_mut(key), value.as_object()) {
            (Some(Json::Object(existing)), Some(more)) => merge(existing, more),
            (None, _) => {
                into.insert(key.clone(), value.clone());
            }
            _ => {}
        }
    }
}

/// The parts of a whole object that `set` covers; nothing when the manager owns nothing.
pub fn project_object(object: &Json, set: &Map<String, Json>) -> Json {
    if set.is_empty() {
        return Json::Object(Map::new());
    }
    project(object, set)
}

/// The parts of `value` the field set `set` covers, with their live values.
///
/// A node whose set has no children is owned whole (a leaf, an atomic list or map); a
/// set with only `.` owns the container but none of its members.
pub fn project(value: &Json, set: &Map<String, Json>) -> Json {
    let has_children = set.keys().any(|k| k != ".");
    if !has_children {
        return if set.contains_key(".") {
            match value {
                Json::Object(_) => Json::Object(Map::new()),
                Json::Array(_) => Json::Array(Vec::new()),
                other => other.clone(),
            }
        } else {
            value.clone()
        };
    }
    match value {
        Json::Object(object) => {
            let mut out = Map::new();
            for (key, sub) in set {
                let Some(name) = key.strip_prefix("f:") else {
                    continue;
                };
                if let (Some(child), Some(sub)) = (object.get(name), sub.as_object()) {
                    out.insert(name.to_string(), project(child, sub));
                }
            }
            Json::Object(out)
        }
        Json::Array(items) => Json::Array(
            items
                .iter()
                .enumerate()
                .filter_map(|(index, item)| {
                    set.iter()
                        .find(|(key, _)| item_matches(key, index, item))
                        .and_then(|(_, sub)| sub.as_object())
                        .map(|sub| project(item, sub))
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

fn item_matches(key: &str, index: usize, item: &Json) -> bool {
    if let Some(keys) = key.strip_prefix("k:") {
        let Ok(Json::Object(keys)) = serde_json::from_str::<Json>(keys) else {
            return false;
        };
        keys.iter().all(|(k, v)| item.get(k) == Some(v))
    } else if let Some(expected) = key.strip_prefix("v:") {
        serde_json::from_str::<Json>(expected).is_ok_and(|v| &v == item)
    } else if let Some(i) = key.strip_prefix("i:") {
        i.parse::<usize>() == Ok(index)
    } else {
        false
    }
}

/// Whether the field a server-side apply conflict names (`.spec.replicas`,
/// `.spec.template.spec.containers[name="app"].image`, `.metadata.labels.app.kubernetes.io/name`)
/// exists in `value`. Map keys are not escaped in these paths, so dotted keys are tried from
/// the longest match down.
pub fn conflict_path_present(value: &Json, path: &str) -> bool {
    match tokenize(path) {
        Some(tokens) => present(value, &tokens),
        None => false,
    }
}

#[derive(Debug, PartialEq)]
enum Token {
    Name(String),
    Selector(String),
}

fn tokenize(path: &str) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            tokens.push(Token::Name(after[..end].to_string()));
            rest = &after[end..];
        } else if rest.starts_with('[') {
            let end = closing_bracket(rest)?;
            tokens.push(Token::Selector(rest[1..end].to_string()));
            rest = &rest[end + 1..];
        } else {
            return None;
        }
    }
    Some(tokens)
}

/// The index of the `]` closing the selector `rest` starts with, skipping quoted strings.
fn closing_bracket(rest: &str) -> Option<usize> {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            ']' if !in_string => return Some(i),
            _ => {}
        }
    }
    None
}

fn present(value: &Json, tokens: &[Token]) -> bool {
    let Some(first) = tokens.first() else {
        return true;
    };
    match (value, first) {
        (Json::Object(map), Token::Name(_)) => {
            let names: Vec<&str> = tokens
                .iter()
                .map_while(|t| match t {
                    Token::Name(n) => Some(n.as_str()),
                    Token::Selector(_) => None,
                })
                .collect();
            (1..=names.len()).rev().any(|n| {
                map.get(&names[..n].join("."))
                    .is_some_and(|child| present(child, &tokens[n..]))
            })
        }
        (Json::Array(items), Token::Selector(selector)) => items
            .iter()
            .enumerate()
            .any(|(i, item)| selector_matches(selector, i, item) && present(item, &tokens[1..])),
        _ => false,
    }
}

/// `name="app"`, `containerPort=80,protocol="TCP"`, `="value"` or `3`.
fn selector_matches(selector: &str, index: usize, item: &Json) -> bool {
    if let Ok(i) = selector.parse::<usize>() {
        return i == index;
    }
    if let Some(value) = selector.strip_prefix('=') {
        return serde_json::from_str::<Json>(value).is_ok_and(|v| &v == item);
    }
    split_top_level(selector).iter().all(|pair| {
        pair.split_once('=').is_some_and(|(key, value)| {
            serde_json::from_str::<Json>(value).is_ok_and(|v| item.get(key) == Some(&v))
        })
    })
}

fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut in_string, mut escaped) = (0, false, false);
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            ',' if !in_string => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn deployment() -> Json {
        json!({
            "metadata": {
                "name": "web",
                "labels": {"app.kubernetes.io/name": "web", "team": "x"},
                "managedFields": [
                    {"manager": "braid", "operation": "Apply", "fieldsV1": {
                        "f:metadata": {"f:labels": {"f:app.kubernetes.io/name": {}}},
                        "f:spec": {"f:template": {"f:spec": {"f:containers": {
                            "k:{\"name\":\"app\"}": {".": {}, "f:name": {}, "f:image": {}}
                        }}}}
                    }},
                    {"manager": "kubectl", "operation": "Update", "fieldsV1": {
                        "f:metadata": {"f:labels": {"f:team": {}}}
                    }}
                ]
            },
            "spec": {"replicas": 2, "template": {"spec": {"containers": [
                {"name": "sidecar", "image": "s:1"},
                {"name": "app", "image": "a:1", "imagePullPolicy": "IfNotPresent"}
            ]}}}
        })
    }

    #[test]
    fn projects_onto_owned_fields_only() {
        let object = deployment();
        let set = owned_fields(&object, "braid");
        let projected = project_object(&object, &set);
        assert_eq!(project_object(&object, &Map::new()), json!({}));
        assert_eq!(
            projected,
            json!({
                "metadata": {"labels": {"app.kubernetes.io/name": "web"}},
                "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:1"}]}}}
            })
        );
    }

    #[test]
    fn conflict_paths_are_found_with_dotted_keys_and_selectors() {
        let object = deployment();
        assert!(conflict_path_present(&object, ".spec.replicas"));
        assert!(conflict_path_present(
            &object,
            ".metadata.labels.app.kubernetes.io/name"
        ));
        assert!(conflict_path_present(
            &object,
            ".spec.template.spec.containers[name=\"app\"].image"
        ));
        assert!(!conflict_path_present(
            &object,
            ".spec.template.spec.containers[name=\"other\"].image"
        ));
        assert!(!conflict_path_present(&object, ".spec.paused"));
    }
}
