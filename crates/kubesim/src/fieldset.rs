//! Field sets in the FieldsV1 format, and how objects map onto them.
//!
//! A set is a tree whose edges are FieldsV1 path elements (`f:spec`, `k:{"name":"app"}`,
//! `v:"x"`, `i:0`). A node is a member when the manager owns that path itself: a member
//! without children serialises as `{}`, a member with children carries `".": {}` — exactly
//! the encoding the real API server writes into `metadata.managedFields[].fieldsV1`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::schema::{ListKind, all_items_keyed, item_path_element, list_kind};

/// A path into an object as FieldsV1 elements.
pub type FieldPath = Vec<String>;

/// A set of field paths.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSet {
    member: bool,
    children: BTreeMap<String, FieldSet>,
}

impl FieldSet {
    /// Parses a `fieldsV1` object.
    pub fn from_fields_v1(value: &Value) -> FieldSet {
        let mut set = FieldSet::default();
        if let Some(map) = value.as_object() {
            for (k, v) in map {
                if k == "." {
                    set.member = true;
                } else {
                    let mut child = FieldSet::from_fields_v1(v);
                    if child.children.is_empty() {
                        child.member = true;
                    }
                    set.children.insert(k.clone(), child);
                }
            }
        }
        set
    }

    /// Renders the `fieldsV1` object.
    pub fn to_fields_v1(&self) -> Value {
        let mut map = Map::new();
        if self.member && self.children.values().any(|c| !c.is_empty()) {
            map.insert(".".into(), Value::Object(Map::new()));
        }
        for (k, child) in self.children.iter().filter(|(_, c)| !c.is_empty()) {
            map.insert(k.clone(), child.to_fields_v1());
        }
        Value::Object(map)
    }

    /// Whether the set has no members.
    pub fn is_empty(&self) -> bool {
        !self.member && self.children.values().all(FieldSet::is_empty)
    }

    /// Adds `path` as a member.
    pub fn insert(&mut self, path: &[String]) {
        let mut node = self;
        for el in path {
            node = node.children.entry(el.clone()).or_default();
        }
        node.member = true;
    }

    /// Whether `path` is a member.
    pub fn contains(&self, path: &[String]) -> bool {
        self.node(path).is_some_and(|n| n.member)
    }

    /// Whether `path` or anything below it is a member.
    pub fn touches(&self, path: &[String]) -> bool {
        self.node(path).is_some_and(|n| !n.is_empty())
    }

    fn node(&self, path: &[String]) -> Option<&FieldSet> {
        let mut node = self;
        for el in path {
            node = node.children.get(el)?;
        }
        Some(node)
    }

    /// Every member path, parents before children.
    pub fn members(&self) -> Vec<FieldPath> {
        let mut out = Vec::new();
        self.collect(&mut Vec::new(), &mut out);
        out
    }

    fn collect(&self, prefix: &mut FieldPath, out: &mut Vec<FieldPath>) {
        if self.member {
            out.push(prefix.clone());
        }
        for (k, child) in &self.children {
            prefix.push(k.clone());
            child.collect(prefix, out);
            prefix.pop();
        }
    }

    /// Whether a member path is a leaf (no members below it).
    pub fn is_leaf(&self, path: &[String]) -> bool {
        self.node(path)
            .is_some_and(|n| n.children.values().all(FieldSet::is_empty))
    }

    /// Removes `path` as a member (children stay).
    pub fn remove(&mut self, path: &[String]) {
        fn go(node: &mut FieldSet, path: &[String]) {
            match path.split_first() {
                None => node.member = false,
                Some((first, rest)) => {
                    if let Some(child) = node.children.get_mut(first) {
                        go(child, rest);
                        if child.is_empty() {
                            node.children.remove(first);
                        }
                    }
                }
            }
        }
        go(self, path);
    }

    /// Removes `path` and everything below it.
    pub fn remove_subtree(&mut self, path: &[String]) {
        match path.split_last() {
            None => *self = FieldSet::default(),
            Some((last, parent)) => {
                let mut node = &mut *self;
                for el in parent {
                    match node.children.get_mut(el) {
                        Some(n) => node = n,
                        None => return,
                    }
                }
                node.children.remove(last);
            }
        }
    }

    /// Adds every member of `other`.
    pub fn union_with(&mut self, other: &FieldSet) {
        for p in other.members() {
            self.insert(&p);
        }
    }

    /// Removes every member of `other`.
    pub fn subtract(&mut self, other: &FieldSet) {
        for p in other.members() {
            self.remove(&p);
        }
    }
}

/// The human form of a path used in conflict messages: `.spec.template.spec.containers[name="app"].image`.
pub fn display_path(path: &[String]) -> String {
    let mut out = String::new();
    for el in path {
        if let Some(f) = el.strip_prefix("f:") {
            out.push('.');
            out.push_str(f);
        } else if let Some(k) = el.strip_prefix("k:") {
            let parts: Vec<String> = serde_json::from_str::<Map<String, Value>>(k)
                .map(|m| m.iter().map(|(k, v)| format!("{k}={v}")).collect())
                .unwrap_or_default();
            out.push_str(&format!("[{}]", parts.join(",")));
        } else if let Some(v) = el.strip_prefix("v:") {
            out.push_str(&format!("[={v}]"));
        } else if let Some(i) = el.strip_prefix("i:") {
            out.push_str(&format!("[{i}]"));
        }
    }
    out
}

/// Context for mapping an object onto field paths: list semantics depend on kind.
#[derive(Debug, Clone, Copy)]
pub struct Shape<'a> {
    /// Object kind.
    pub kind: &'a str,
    /// False for custom resources.
    pub builtin: bool,
}

impl Shape<'_> {
    /// The list kind at `names`, degraded to atomic when some item has no key.
    pub fn list_kind_for(&self, names: &[String], items: &[Value]) -> ListKind {
        let kind = list_kind(self.kind, self.builtin, names);
        if all_items_keyed(&kind, items) {
            kind
        } else {
            ListKind::Atomic
        }
    }
}

/// The set of fields an applied configuration specifies: every leaf plus every list item.
pub fn applied_set(shape: Shape<'_>, object: &Value) -> FieldSet {
    let mut set = FieldSet::default();
    walk_applied(shape, object, &mut Vec::new(), &mut Vec::new(), &mut set);
    set
}

fn walk_applied(
    shape: Shape<'_>,
    value: &Value,
    names: &mut Vec<String>,
    path: &mut FieldPath,
    out: &mut FieldSet,
) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                names.push(k.clone());
                path.push(format!("f:{k}"));
                walk_applied(shape, v, names, path, out);
                path.pop();
                names.pop();
            }
        }
        Value::Array(items) => match shape.list_kind_for(names, items) {
            ListKind::Atomic => out.insert(path),
            kind @ ListKind::Set => {
                for item in items {
                    if let Some(el) = item_path_element(&kind, item) {
                        path.push(el);
                        out.insert(path);
                        path.pop();
                    }
                }
            }
            kind @ ListKind::Keyed(_) => {
                for item in items {
                    if let Some(el) = item_path_element(&kind, item) {
                        path.push(el);
                        out.insert(path);
                        walk_applied(shape, item, names, path, out);
                        path.pop();
                    }
                }
            }
        },
        _ => out.insert(path),
    }
}

/// Struct-typed fields that always exist in their parent, so an Update that creates them
/// does not own the node itself (no `"."`), matching the real server's output.
const PLAIN_STRUCTS: &[&str] = &[
    "metadata",
    "spec",
    "status",
    "template",
    "strategy",
    "updateStrategy",
    "jobTemplate",
];

/// The fields an Update changed between `old` and `new`: added or modified leaves, new
/// list items, and newly created maps.
pub fn changed_set(shape: Shape<'_>, old: &Value, new: &Value) -> FieldSet {
    let mut set = FieldSet::default();
    walk_changed(
        shape,
        Some(old),
        new,
        &mut Vec::new(),
        &mut Vec::new(),
        &mut set,
    );
    set
}

fn walk_changed(
    shape: Shape<'_>,
    old: Option<&Value>,
    new: &Value,
    names: &mut Vec<String>,
    path: &mut FieldPath,
    out: &mut FieldSet,
) {
    match (old, new) {
        (old, Value::Object(map)) if !map.is_empty() => {
            let old_map = old.and_then(Value::as_object);
            if old_map.is_none() && !path.is_empty() {
                let plain = names
                    .last()
                    .is_some_and(|n| PLAIN_STRUCTS.contains(&n.as_str()));
                if !plain {
                    out.insert(path);
                }
            }
            for (k, v) in map {
                names.push(k.clone());
                path.push(format!("f:{k}"));
                walk_changed(shape, old_map.and_then(|m| m.get(k)), v, names, path, out);
                path.pop();
                names.pop();
            }
        }
        (old, Value::Array(items)) => {
            let kind = shape.list_kind_for(names, items);
            let old_items = old.and_then(Value::as_array);
            match kind {
                ListKind::Atomic => {
                    if old != Some(new) {
                        out.insert(path);
                    }
                }
                ListKind::Set | ListKind::Keyed(_) => {
                    for item in items {
                        let Some(el) = item_path_element(&kind, item) else {
                            continue;
                        };
                        let old_item = old_items.and_then(|o| {
                            o.iter()
                                .find(|i| item_path_element(&kind, i).as_deref() == Some(&el))
                        });
                        path.push(el);
                        if old_item.is_none() {
                            out.insert(path);
                        }
                        if matches!(kind, ListKind::Keyed(_)) {
                            walk_changed(shape, old_item, item, names, path, out);
                        }
                        path.pop();
                    }
                }
            }
        }
        (old, new) => {
            if old != Some(new) {
                out.insert(path);
            }
        }
    }
}

/// The value at a FieldsV1 path.
pub fn value_at<'a>(object: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = object;
    for el in path {
        cur = step(cur, el)?;
    }
    Some(cur)
}

fn step<'a>(value: &'a Value, el: &str) -> Option<&'a Value> {
    if let Some(f) = el.strip_prefix("f:") {
        return value.as_object()?.get(f);
    }
    let items = value.as_array()?;
    item_index(items, el).and_then(|i| items.get(i))
}

/// Index of the list item matching a `k:`/`v:`/`i:` element.
fn item_index(items: &[Value], el: &str) -> Option<usize> {
    if let Some(k) = el.strip_prefix("k:") {
        let key: Map<String, Value> = serde_json::from_str(k).ok()?;
        return items.iter().position(|item| {
            key.iter().all(|(f, want)| match item.get(f) {
                Some(v) if !v.is_null() => v == want,
                _ => f == "protocol" && want == "TCP",
            })
        });
    }
    if let Some(v) = el.strip_prefix("v:") {
        let want: Value = serde_json::from_str(v).ok()?;
        return items.iter().position(|item| *item == want);
    }
    if let Some(i) = el.strip_prefix("i:") {
        return i.parse().ok();
    }
    None
}

/// Removes the field or list item at `path`; a missing path is a no-op.
pub fn remove_at(object: &mut Value, path: &[String]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    let mut cur = object;
    for el in parent {
        let next = if let Some(f) = el.strip_prefix("f:") {
            cur.as_object_mut().and_then(|m| m.get_mut(f))
        } else {
            match cur.as_array_mut() {
                Some(items) => match item_index(items, el) {
                    Some(i) => items.get_mut(i),
                    None => None,
                },
                None => None,
            }
        };
        match next {
            Some(n) => cur = n,
            None => return,
        }
    }
    if let Some(f) = last.strip_prefix("f:") {
        if let Some(m) = cur.as_object_mut() {
            m.remove(f);
        }
    } else if let Some(items) = cur.as_array_mut()
        && let Some(i) = item_index(items, last)
    {
        items.remove(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DEPLOY: Shape<'static> = Shape {
        kind: "Deployment",
        builtin: true,
    };

    #[test]
    fn applied_set_uses_real_fields_v1_encoding() {
        let obj = json!({"spec": {"replicas": 2, "template": {"spec": {"containers": [
            {"name": "app", "image": "nginx"}]}}}});
        let set = applied_set(DEPLOY, &obj);
        assert_eq!(
            set.to_fields_v1(),
            json!({"f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
                "k:{\"name\":\"app\"}": {".": {}, "f:image": {}, "f:name": {}}}}}}})
        );
        let parsed = FieldSet::from_fields_v1(&set.to_fields_v1());
        assert_eq!(parsed, set);
    }

    #[test]
    fn changed_set_marks_new_maps_and_changed_leaves() {
        let old = json!({"metadata": {"name": "a"}, "data": {"x": "1"}});
        let new = json!({"metadata": {"name": "a", "labels": {"l": "v"}}, "data": {"x": "2"}});
        let set = changed_set(
            Shape {
                kind: "ConfigMap",
                builtin: true,
            },
            &old,
            &new,
        );
        assert_eq!(
            set.to_fields_v1(),
            json!({"f:data": {"f:x": {}}, "f:metadata": {"f:labels": {".": {}, "f:l": {}}}})
        );
    }

    #[test]
    fn remove_at_removes_keyed_items() {
        let mut obj = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
        remove_at(
            &mut obj,
            &[
                "f:spec".into(),
                "f:containers".into(),
                r#"k:{"name":"a"}"#.into(),
            ],
        );
        assert_eq!(obj, json!({"spec": {"containers": [{"name": "b"}]}}));
        assert_eq!(
            display_path(&[
                "f:spec".into(),
                r#"k:{"name":"b"}"#.into(),
                "f:image".into()
            ]),
            ".spec[name=\"b\"].image"
        );
    }
}
