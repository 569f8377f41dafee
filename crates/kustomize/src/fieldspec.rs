//! Field specs: Kustomize's way of naming where in which kinds a transformer writes
//! (`spec/template/metadata/labels` in a Deployment, `containers[]` for every list element).

use serde_json::{Map, Value};

/// A place in objects of some kinds: `kinds` empty means every kind.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldSpec {
    pub kinds: &'static [&'static str],
    pub path: &'static str,
    /// Create missing maps along the path (and the final field as an empty map).
    pub create: bool,
}

impl FieldSpec {
    pub const fn new(kinds: &'static [&'static str], path: &'static str, create: bool) -> Self {
        Self {
            kinds,
            path,
            create,
        }
    }

    pub fn applies_to(&self, kind: &str) -> bool {
        self.kinds.is_empty() || self.kinds.contains(&kind)
    }
}

/// Calls `f` on every value at `path` inside `value`. A segment `name[]` visits every element
/// of the list `name`. With `create`, missing maps (never lists) are created as empty maps.
pub(crate) fn visit_path(
    value: &mut Value,
    path: &str,
    create: bool,
    f: &mut dyn FnMut(&mut Value),
) {
    let segments: Vec<&str> = path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .collect();
    visit_segments(value, &segments, create, f);
}

fn visit_segments(
    value: &mut Value,
    segments: &[&str],
    create: bool,
    f: &mut dyn FnMut(&mut Value),
) {
    let Some((segment, rest)) = segments.split_first() else {
        f(value);
        return;
    };
    let Value::Object(object) = value else {
        return;
    };
    if let Some(list_field) = segment.strip_suffix("[]") {
        if let Some(Value::Array(items)) = object.get_mut(list_field) {
            for item in items {
                visit_segments(item, rest, create, f);
            }
        }
        return;
    }
    if !object.contains_key(*segment) || object.get(*segment).is_some_and(Value::is_null) {
        if !create {
            return;
        }
        object.insert((*segment).to_string(), Value::Object(Map::new()));
    }
    if let Some(child) = object.get_mut(*segment) {
        visit_segments(child, rest, create, f);
    }
}

/// Inserts `pairs` into the map `value` (if it is one), overwriting existing keys.
pub(crate) fn insert_pairs(value: &mut Value, pairs: &[(String, String)]) {
    if let Value::Object(object) = value {
        for (key, text) in pairs {
            object.insert(key.clone(), Value::String(text.clone()));
        }
    }
}

/// Calls `f` on every value at a Kustomize field path (`spec/template/spec/containers/args`):
/// lists along the way are walked element by element, as Kustomize walks them (`name[]` is
/// read as `name`). With `create`, missing maps along the path are created.
pub(crate) fn visit_kustomize_path(
    value: &mut Value,
    path: &str,
    create: bool,
    f: &mut dyn FnMut(&mut Value),
) {
    let segments: Vec<&str> = path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| segment.strip_suffix("[]").unwrap_or(segment))
        .collect();
    visit_implicit(value, &segments, create, f);
}

fn visit_implicit(
    value: &mut Value,
    segments: &[&str],
    create: bool,
    f: &mut dyn FnMut(&mut Value),
) {
    let Some((segment, rest)) = segments.split_first() else {
        f(value);
        return;
    };
    match value {
        Value::Array(items) => {
            for item in items {
                visit_implicit(item, segments, create, f);
            }
        }
        Value::Object(object) => {
            if !object.contains_key(*segment) {
                if !create {
                    return;
                }
                object.insert(segment.to_string(), Value::Object(Map::new()));
            }
            if let Some(child) = object.get_mut(*segment) {
                visit_implicit(child, rest, create, f);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn visits_lists_and_creates_maps() {
        let mut value = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        visit_path(&mut value, "spec/containers[]/name", false, &mut |name| {
            *name = json!("x");
        });
        visit_path(
            &mut value,
            "spec/template/metadata/labels",
            true,
            &mut |labels| {
                insert_pairs(labels, &[("app".to_string(), "web".to_string())]);
            },
        );
        visit_path(&mut value, "spec/missing/labels", false, &mut |_| {
            panic!("must not create without `create`")
        });
        assert_eq!(
            value,
            json!({"spec": {
                "containers": [{"name": "x"}, {"name": "x"}],
                "template": {"metadata": {"labels": {"app": "web"}}}
            }})
        );
    }
}
