//! `metadata.managedFields`: reading and writing the entries, and the bookkeeping an
//! Update (PUT / non-apply PATCH / create) does on them.
//!
//! Server-side apply's own bookkeeping (conflicts, removals) lives in `apply`; both share
//! the entry type and the rules for which fields are never owned.

use serde_json::{Map, Value, json};

use crate::fieldset::{FieldSet, value_at};

/// One managedFields entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedEntry {
    /// Field manager name.
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// apiVersion the manager used.
    pub api_version: String,
    /// RFC 3339 time of the last change by this manager.
    pub time: String,
    /// `status` for entries written through the status subresource.
    pub subresource: Option<String>,
    /// Owned fields.
    pub fields: FieldSet,
}

impl ManagedEntry {
    /// Whether this entry belongs to `manager` doing `operation` on `subresource`.
    pub fn is(&self, manager: &str, operation: &str, subresource: Option<&str>) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.as_deref() == subresource
    }
}

/// Entries currently recorded on an object.
pub fn read(object: &Value) -> Vec<ManagedEntry> {
    object["metadata"]["managedFields"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| ManagedEntry {
                    manager: e["manager"].as_str().unwrap_or_default().to_string(),
                    operation: e["operation"].as_str().unwrap_or("Update").to_string(),
                    api_version: e["apiVersion"].as_str().unwrap_or_default().to_string(),
                    time: e["time"].as_str().unwrap_or_default().to_string(),
                    subresource: e["subresource"].as_str().map(str::to_string),
                    fields: FieldSet::from_fields_v1(&e["fieldsV1"]),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Writes entries into `metadata.managedFields` (removing the key when there are none).
pub fn write(object: &mut Value, entries: &[ManagedEntry]) {
    let Some(meta) = object
        .as_object_mut()
        .and_then(|o| o.get_mut("metadata"))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(|e| {
            let mut m = Map::new();
            m.insert("manager".into(), json!(e.manager));
            m.insert("operation".into(), json!(e.operation));
            m.insert("apiVersion".into(), json!(e.api_version));
            m.insert("time".into(), json!(e.time));
            m.insert("fieldsType".into(), json!("FieldsV1"));
            m.insert("fieldsV1".into(), e.fields.to_fields_v1());
            if let Some(sub) = &e.subresource {
                m.insert("subresource".into(), json!(sub));
            }
            Value::Object(m)
        })
        .collect();
    if list.is_empty() {
        meta.remove("managedFields");
    } else {
        meta.insert("managedFields".into(), Value::Array(list));
    }
}

/// Which part of an object a write may own.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scope {
    /// Main resource of a kind without a status subresource: everything.
    Whole,
    /// Main resource of a kind with a status subresource: everything but status.
    MainOnly,
    /// The `/status` subresource: only status.
    StatusOnly,
}

/// Metadata fields the server sets itself; nobody owns them.
const SERVER_METADATA: &[&str] = &[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
];

/// Drops fields that are never owned, or lie outside what `scope` may write.
pub fn strip_unowned(set: &mut FieldSet, scope: Scope) {
    set.remove_subtree(&["f:apiVersion".to_string()]);
    set.remove_subtree(&["f:kind".to_string()]);
    for field in SERVER_METADATA {
        set.remove_subtree(&["f:metadata".to_string(), format!("f:{field}")]);
    }
    match scope {
        Scope::Whole => {}
        Scope::MainOnly => set.remove_subtree(&["f:status".to_string()]),
        Scope::StatusOnly => {
            let status = ["f:status".to_string()];
            let mut only = FieldSet::default();
            for p in set.members() {
                if p.starts_with(&status) {
                    only.insert(&p);
                }
            }
            *set = only;
        }
    }
}

/// Drops members whose path no longer exists in `object`.
pub fn prune_absent(set: &mut FieldSet, object: &Value) {
    for p in set.members() {
        if value_at(object, &p).is_none() {
            set.remove(&p);
        }
    }
}

/// Bookkeeping for a non-apply write by `manager`: it takes ownership of the fields it
/// changed (others lose them), and fields that disappeared are dropped everywhere.
pub fn record_update(
    entries: &mut Vec<ManagedEntry>,
    changed: &FieldSet,
    new_object: &Value,
    manager: &str,
    api_version: &str,
    subresource: Option<&str>,
    now: &str,
) {
    for e in entries.iter_mut() {
        e.fields.subtract(changed);
        prune_absent(&mut e.fields, new_object);
    }
    if !changed.is_empty() {
        match entries
            .iter_mut()
            .find(|e| e.is(manager, "Update", subresource))
        {
            Some(e) => {
                e.fields.union_with(changed);
                e.time = now.to_string();
                e.api_version = api_version.to_string();
            }
            None => entries.push(ManagedEntry {
                manager: manager.to_string(),
                operation: "Update".to_string(),
                api_version: api_version.to_string(),
                time: now.to_string(),
                subresource: subresource.map(str::to_string),
                fields: changed.clone(),
            }),
        }
    }
    entries.retain(|e| !e.fields.is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_entries() {
        let mut obj = json!({"metadata": {"name": "x", "managedFields": [{
            "manager": "m", "operation": "Apply", "apiVersion": "v1",
            "time": "2024-01-01T00:00:00Z", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {"f:a": {}}}}]}, "data": {"a": "1"}});
        let entries = read(&obj);
        assert_eq!(entries.len(), 1);
        assert!(entries[0].fields.contains(&["f:data".into(), "f:a".into()]));
        write(&mut obj, &entries);
        assert_eq!(
            obj["metadata"]["managedFields"][0]["fieldsV1"],
            json!({"f:data": {"f:a": {}}})
        );
    }

    #[test]
    fn strip_keeps_only_status_for_status_scope() {
        let mut set = FieldSet::default();
        set.insert(&["f:spec".into(), "f:replicas".into()]);
        set.insert(&["f:status".into(), "f:phase".into()]);
        strip_unowned(&mut set, Scope::StatusOnly);
        assert!(!set.contains(&["f:spec".into(), "f:replicas".into()]));
        assert!(set.contains(&["f:status".into(), "f:phase".into()]));
    }
}
