//! The little schema knowledge the emulator needs without OpenAPI: how lists merge.
//!
//! Server-side apply (FieldsV1 `k:`/`v:` keys) and strategic merge patch both depend on
//! whether a list is associative (merged by key fields), a set, or atomic (replaced whole).
//! The real server reads that from OpenAPI schemas; here it comes from a table of the list
//! fields that matter in practice. Custom resources get atomic lists, like a CRD whose schema
//! declares no `x-kubernetes-list-type`.

use serde_json::{Map, Value};

/// How a list field merges.
#[derive(Debug, Clone, PartialEq)]
pub enum ListKind {
    /// Replaced as a whole and owned as one field.
    Atomic,
    /// A set of scalars (`v:"x"` keys).
    Set,
    /// Associative list keyed by these fields (`k:{"name":"app"}` keys).
    Keyed(Vec<&'static str>),
}

const CONTAINER_LISTS: &[&str] = &["containers", "initContainers", "ephemeralContainers"];

/// List semantics for the list at `field_path` (field names only, list positions skipped)
/// in an object of `kind`. `builtin` is false for custom resources.
pub fn list_kind(kind: &str, builtin: bool, field_path: &[String]) -> ListKind {
    let path: Vec<&str> = field_path.iter().map(String::as_str).collect();
    match path.as_slice() {
        ["metadata", "finalizers"] => return ListKind::Set,
        ["metadata", "ownerReferences"] => return ListKind::Keyed(vec!["uid"]),
        _ => {}
    }
    if !builtin {
        return ListKind::Atomic;
    }
    let Some(last) = path.last() else {
        return ListKind::Atomic;
    };
    let parent = path.len().checked_sub(2).map(|i| path[i]);
    match *last {
        l if CONTAINER_LISTS.contains(&l) => ListKind::Keyed(vec!["name"]),
        "env" | "volumes" | "imagePullSecrets" | "resourceClaims" => ListKind::Keyed(vec!["name"]),
        "volumeMounts" => ListKind::Keyed(vec!["mountPath"]),
        "volumeDevices" => ListKind::Keyed(vec!["devicePath"]),
        "hostAliases" => ListKind::Keyed(vec!["ip"]),
        "conditions" => ListKind::Keyed(vec!["type"]),
        "topologySpreadConstraints" => ListKind::Keyed(vec!["topologyKey", "whenUnsatisfiable"]),
        "ports" if parent.is_some_and(|p| CONTAINER_LISTS.contains(&p)) => {
            ListKind::Keyed(vec!["containerPort", "protocol"])
        }
        "ports" if kind == "Service" && path == ["spec", "ports"] => {
            ListKind::Keyed(vec!["port", "protocol"])
        }
        _ => ListKind::Atomic,
    }
}

/// The value of key field `field` of a list item, applying the schema default for
/// `protocol` (TCP) the way the real server does when it computes keys.
fn key_value(item: &Map<String, Value>, field: &str) -> Option<Value> {
    match item.get(field) {
        Some(v) if !v.is_null() => Some(v.clone()),
        _ if field == "protocol" => Some(Value::String("TCP".into())),
        _ => None,
    }
}

/// The FieldsV1 key of a list item (`k:{"name":"app"}`, `v:"x"`), or None when the item
/// lacks a key field.
pub fn item_path_element(kind: &ListKind, item: &Value) -> Option<String> {
    match kind {
        ListKind::Atomic => None,
        ListKind::Set => Some(format!("v:{}", serde_json::to_string(item).ok()?)),
        ListKind::Keyed(fields) => {
            let obj = item.as_object()?;
            let mut sorted: Vec<&&str> = fields.iter().collect();
            sorted.sort();
            let mut key = Map::new();
            for f in sorted {
                key.insert((*f).to_string(), key_value(obj, f)?);
            }
            Some(format!(
                "k:{}",
                serde_json::to_string(&Value::Object(key)).ok()?
            ))
        }
    }
}

/// Whether every item of a list can be keyed (otherwise it is treated as atomic).
pub fn all_items_keyed(kind: &ListKind, items: &[Value]) -> bool {
    items.iter().all(|i| item_path_element(kind, i).is_some())
}

/// Strategic-merge-patch merge behaviour for a list field.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchMerge {
    /// Replace the list.
    Replace,
    /// Union of scalars (`patchStrategy: merge` on a primitive list).
    Primitive,
    /// Merge items by this key field (`patchMergeKey`).
    ByKey(&'static str),
}

/// SMP merge behaviour for the list at `field_path` (the patch merge keys the real types
/// declare; SMP uses a single key where SSA uses several).
pub fn patch_merge(kind: &str, field_path: &[String]) -> PatchMerge {
    match list_kind(kind, true, field_path) {
        ListKind::Set => PatchMerge::Primitive,
        ListKind::Keyed(fields) => match fields.first() {
            Some(&"containerPort") => PatchMerge::ByKey("containerPort"),
            Some(&"port") => PatchMerge::ByKey("port"),
            Some(first) => PatchMerge::ByKey(first),
            None => PatchMerge::Replace,
        },
        ListKind::Atomic => PatchMerge::Replace,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(str::to_string).collect()
    }

    #[test]
    fn container_port_keys_default_protocol() {
        let kind = list_kind(
            "Deployment",
            true,
            &path("spec.template.spec.containers.ports"),
        );
        let key = item_path_element(&kind, &json!({"containerPort": 80}));
        assert_eq!(
            key.as_deref(),
            Some(r#"k:{"containerPort":80,"protocol":"TCP"}"#)
        );
    }

    #[test]
    fn custom_resources_have_atomic_lists() {
        assert_eq!(
            list_kind("Widget", false, &path("spec.containers")),
            ListKind::Atomic
        );
    }
}
