//! Server-side apply: merging an applied configuration into the live object, detecting
//! ownership conflicts with other field managers, and removing fields a manager stopped
//! applying when nobody else owns them.
//!
//! Follows structured-merge-diff's rules as far as the emulator's schema knowledge goes
//! (see `schema`): associative lists merge by key, other lists are atomic, maps merge per key.

use serde_json::Value;

use crate::fieldset::{FieldPath, FieldSet, Shape, applied_set, display_path, remove_at, value_at};
use crate::managed_fields::{ManagedEntry, Scope, strip_unowned};
use crate::schema::{ListKind, item_path_element};
use crate::status::Cause;

/// A field another manager owns with a different value.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    /// The other manager.
    pub manager: String,
    /// The apiVersion that manager used.
    pub api_version: String,
    /// The contested field.
    pub path: FieldPath,
    /// Index of the other manager's entry.
    entry: usize,
}

/// What one apply request asks for.
#[derive(Debug, Clone, Copy)]
pub struct ApplyRequest<'a> {
    /// How lists of this kind merge.
    pub shape: Shape<'a>,
    /// The field manager (required for apply).
    pub manager: &'a str,
    /// The request's apiVersion, recorded in the entry.
    pub api_version: &'a str,
    /// `status` when applying to the status subresource.
    pub subresource: Option<&'a str>,
    /// Which part of the object this request may own.
    pub scope: Scope,
    /// `force=true`: take ownership instead of failing on conflicts.
    pub force: bool,
    /// Timestamp for the manager's entry.
    pub now: &'a str,
}

/// The merged object and the managedFields entries to record with it.
#[derive(Debug, Clone)]
pub struct ApplyResult {
    /// Live object with the configuration applied (before defaulting).
    pub object: Value,
    /// New managedFields entries.
    pub entries: Vec<ManagedEntry>,
}

/// Applies `applied` onto `live` (an empty object when creating).
pub fn apply(
    req: ApplyRequest<'_>,
    live: &Value,
    mut entries: Vec<ManagedEntry>,
    applied: &Value,
) -> Result<ApplyResult, Vec<Conflict>> {
    let applied = without_nulls(applied);
    let mut wanted = applied_set(req.shape, &applied);
    strip_unowned(&mut wanted, req.scope);

    let own = |e: &ManagedEntry| e.is(req.manager, "Apply", req.subresource);
    let mut conflicts = Vec::new();
    for (index, e) in entries.iter().enumerate().filter(|(_, e)| !own(e)) {
        for p in wanted.members() {
            if !wanted.is_leaf(&p) || !e.fields.contains(&p) {
                continue;
            }
            let live_value = value_at(live, &p);
            if live_value.is_some() && live_value != value_at(&applied, &p) {
                conflicts.push(Conflict {
                    manager: e.manager.clone(),
                    api_version: e.api_version.clone(),
                    path: p,
                    entry: index,
                });
            }
        }
    }
    if !conflicts.is_empty() {
        if !req.force {
            return Err(conflicts);
        }
        for c in &conflicts {
            if let Some(e) = entries.get_mut(c.entry) {
                e.fields.remove(&c.path);
            }
        }
    }

    let mut object = live.clone();
    merge(req.shape, &mut object, &applied, &mut Vec::new());

    let previous = entries
        .iter()
        .find(|e| own(e))
        .map(|e| e.fields.clone())
        .unwrap_or_default();
    let mut dropped = previous.clone();
    dropped.subtract(&wanted);
    // Parents first: removing a list item takes its fields with it, whereas removing the
    // item's key fields first would leave the item unaddressable.
    for p in dropped.members() {
        let owned_elsewhere = entries.iter().any(|e| !own(e) && e.fields.touches(&p));
        if !owned_elsewhere && !wanted.touches(&p) {
            remove_at(&mut object, &p);
        }
    }

    entries.retain(|e| !own(e));
    let entry = ManagedEntry {
        manager: req.manager.to_string(),
        operation: "Apply".to_string(),
        api_version: req.api_version.to_string(),
        time: req.now.to_string(),
        subresource: req.subresource.map(str::to_string),
        fields: wanted,
    };
    // The real server keeps an existing manager's position in the list.
    match live["metadata"]["managedFields"]
        .as_array()
        .and_then(|old| {
            old.iter().position(|e| {
                e["manager"] == req.manager
                    && e["operation"] == "Apply"
                    && e["subresource"].as_str() == req.subresource
            })
        }) {
        Some(i) if i <= entries.len() => entries.insert(i, entry),
        _ => entries.push(entry),
    }
    entries.retain(|e| !e.fields.is_empty());
    Ok(ApplyResult { object, entries })
}

/// Explicit nulls in an apply configuration mean "not specified".
fn without_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

fn merge(shape: Shape<'_>, live: &mut Value, applied: &Value, names: &mut Vec<String>) {
    match (live, applied) {
        (Value::Object(l), Value::Object(a)) => {
            for (k, av) in a {
                names.push(k.clone());
                match l.get_mut(k) {
                    Some(lv) => merge(shape, lv, av, names),
                    None => {
                        l.insert(k.clone(), av.clone());
                    }
                }
                names.pop();
            }
        }
        (Value::Array(l), Value::Array(a)) => {
            let kind = shape.list_kind_for(names, a);
            let live_keyed = crate::schema::all_items_keyed(&kind, l);
            match kind {
                ListKind::Set if live_keyed => {
                    for item in a {
                        if !l.contains(item) {
                            l.push(item.clone());
                        }
                    }
                }
                ListKind::Keyed(_) if live_keyed => {
                    for item in a {
                        let key = item_path_element(&kind, item);
                        match l.iter_mut().find(|li| item_path_element(&kind, li) == key) {
                            Some(li) => merge(shape, li, item, names),
                            None => l.push(item.clone()),
                        }
                    }
                }
                _ => *l = a.clone(),
            }
        }
        (live, applied) => *live = applied.clone(),
    }
}

/// The 409 message and causes for apply conflicts, in the real server's wording.
pub fn conflict_report(conflicts: &[Conflict]) -> (String, Vec<Cause>) {
    let mut groups: Vec<(&str, &str, Vec<String>)> = Vec::new();
    for c in conflicts {
        let path = display_path(&c.path);
        match groups
            .iter_mut()
            .find(|(m, v, _)| *m == c.manager && *v == c.api_version)
        {
            Some((_, _, paths)) => paths.push(path),
            None => groups.push((&c.manager, &c.api_version, vec![path])),
        }
    }
    let mut parts = Vec::new();
    for (manager, version, paths) in &groups {
        if paths.len() == 1 {
            parts.push(format!(
                "conflict with \"{manager}\" using {version}: {}",
                paths[0]
            ));
        } else {
            let list: Vec<String> = paths.iter().map(|p| format!("- {p}")).collect();
            parts.push(format!(
                "conflicts with \"{manager}\" using {version}:\n{}",
                list.join("\n")
            ));
        }
    }
    let n = conflicts.len();
    let message = format!(
        "Apply failed with {n} conflict{}: {}",
        if n == 1 { "" } else { "s" },
        parts.join("\n")
    );
    let causes = conflicts
        .iter()
        .map(|c| Cause {
            reason: "FieldManagerConflict".into(),
            message: format!("conflict with \"{}\" using {}", c.manager, c.api_version),
            field: display_path(&c.path),
        })
        .collect();
    (message, causes)
}

/// Convenience for tests and callers: the set an entry list gives `manager`.
pub fn fields_of<'a>(entries: &'a [ManagedEntry], manager: &str) -> Option<&'a FieldSet> {
    entries
        .iter()
        .find(|e| e.manager == manager)
        .map(|e| &e.fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req<'a>(manager: &'a str, force: bool) -> ApplyRequest<'a> {
        ApplyRequest {
            shape: Shape {
                kind: "ConfigMap",
                builtin: true,
            },
            manager,
            api_version: "v1",
            subresource: None,
            scope: Scope::Whole,
            force,
            now: "2024-01-01T00:00:00Z",
        }
    }

    #[test]
    fn conflicting_value_fails_unless_forced() {
        let first = apply(
            req("a", false),
            &json!({}),
            vec![],
            &json!({"data": {"k": "1"}}),
        )
        .expect("first apply");
        let second = apply(
            req("b", false),
            &first.object,
            first.entries.clone(),
            &json!({"data": {"k": "2"}}),
        );
        let conflicts = second.expect_err("conflict");
        assert_eq!(conflicts[0].manager, "a");
        let (msg, _) = conflict_report(&conflicts);
        assert_eq!(
            msg,
            "Apply failed with 1 conflict: conflict with \"a\" using v1: .data.k"
        );
        let forced = apply(
            req("b", true),
            &first.object,
            first.entries,
            &json!({"data": {"k": "2"}}),
        )
        .expect("forced");
        assert_eq!(forced.object["data"]["k"], "2");
        assert!(fields_of(&forced.entries, "a").is_none());
    }

    #[test]
    fn dropped_fields_are_removed_when_unshared() {
        let first = apply(
            req("a", false),
            &json!({}),
            vec![],
            &json!({"data": {"k": "1", "j": "2"}}),
        )
        .expect("first");
        let second = apply(
            req("a", false),
            &first.object,
            first.entries,
            &json!({"data": {"k": "1"}}),
        )
        .expect("second");
        assert_eq!(second.object["data"], json!({"k": "1"}));
    }
}
