//! Events the simulated controllers record, as the real ones do: rollouts scaling
//! ReplicaSets, Pods and Jobs created, load balancers ensured, claims provisioned, and the
//! warnings of failures. Each event is written to `core/v1` (what `kubectl get events` and
//! `kubectl describe` read) and to `events.k8s.io/v1` with that API's field names. A repeat
//! of the same event on the same object bumps its count, like the client-go recorder.

use serde_json::{Value, json};

use crate::catalogue::ResourceType;
use crate::store::Store;
use crate::write::{self, Managed, WriteContext};

/// Normal or Warning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Severity {
    /// Something went as planned.
    Normal,
    /// Something failed.
    Warning,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Severity::Normal => "Normal",
            Severity::Warning => "Warning",
        }
    }
}

/// One event about `involved` (a stored object of type `rt`).
pub struct Event<'a> {
    /// Normal or Warning.
    pub severity: Severity,
    /// CamelCase reason, e.g. `ScalingReplicaSet`.
    pub reason: &'a str,
    /// Human-readable message.
    pub message: String,
    /// The controller reporting it, e.g. `deployment-controller`.
    pub component: &'a str,
}

/// FNV-1a, for stable event names per (object, reason, message).
fn fnv(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0]) {
            h ^= u64::from(byte);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn micro_time() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// Records `event` about `involved` in both Event APIs.
pub fn record(store: &mut Store, rt: &ResourceType, involved: &Value, event: Event<'_>) {
    let meta = &involved["metadata"];
    let name = meta["name"].as_str().unwrap_or_default();
    let uid = meta["uid"].as_str().unwrap_or_default();
    let namespace = match meta["namespace"].as_str() {
        Some(ns) if !ns.is_empty() => ns.to_string(),
        _ => "default".to_string(),
    };
    let event_name = format!("{name}.{:016x}", fnv(&[uid, event.reason, &event.message]));
    let mut reference = json!({
        "kind": rt.kind,
        "name": name,
        "uid": uid,
        "apiVersion": rt.api_version(),
        "resourceVersion": meta["resourceVersion"],
    });
    if rt.namespaced {
        reference["namespace"] = json!(namespace);
    }
    let now = write::now();
    let (core_rt, events_rt) = (
        store.catalogue.find("", "v1", "events").cloned(),
        store
            .catalogue
            .find("events.k8s.io", "v1", "events")
            .cloned(),
    );
    if let Some(core_rt) = core_rt {
        let existing = store.get(&core_rt.key(), &namespace, &event_name).cloned();
        let count = existing
            .as_ref()
            .and_then(|e| e["count"].as_i64())
            .unwrap_or(0)
            + 1;
        let first = existing
            .as_ref()
            .and_then(|e| e["firstTimestamp"].as_str().map(str::to_string))
            .unwrap_or_else(|| now.clone());
        let object = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": event_name, "namespace": namespace},
            "involvedObject": reference,
            "reason": event.reason,
            "message": event.message,
            "source": {"component": event.component},
            "firstTimestamp": first,
            "lastTimestamp": now,
            "count": count,
            "type": event.severity.as_str(),
            "eventTime": null,
            "reportingComponent": event.component,
            "reportingInstance": "",
        });
        put(store, &core_rt, &namespace, existing.as_ref(), object);
    }
    if let Some(events_rt) = events_rt {
        let existing = store
            .get(&events_rt.key(), &namespace, &event_name)
            .cloned();
        let count = existing
            .as_ref()
            .and_then(|e| e["deprecatedCount"].as_i64())
            .unwrap_or(0)
            + 1;
        let first = existing
            .as_ref()
            .and_then(|e| e["deprecatedFirstTimestamp"].as_str().map(str::to_string))
            .unwrap_or_else(|| now.clone());
        let object = json!({
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {"name": event_name, "namespace": namespace},
            "eventTime": micro_time(),
            "reportingController": event.component,
            "reportingInstance": format!("{}-kubesim", event.component),
            "action": event.reason,
            "reason": event.reason,
            "regarding": reference,
            "note": event.message,
            "type": event.severity.as_str(),
            "deprecatedSource": {"component": event.component},
            "deprecatedFirstTimestamp": first,
            "deprecatedLastTimestamp": now,
            "deprecatedCount": count,
        });
        put(store, &events_rt, &namespace, existing.as_ref(), object);
    }
}

fn put(
    store: &mut Store,
    rt: &ResourceType,
    namespace: &str,
    existing: Option<&Value>,
    mut object: Value,
) {
    let ctx = WriteContext::internal(rt, namespace, super::CONTROLLER_MANAGER, None);
    // A failed event write (its namespace being deleted) loses the event, as on a real
    // cluster; the object's own status is what clients act on.
    let _ = match existing {
        Some(old) => {
            object["metadata"] = old["metadata"].clone();
            write::update(store, &ctx, old, object, Managed::Update)
        }
        None => write::create(store, &ctx, object, Managed::Update),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable_per_object_reason_and_message() {
        assert_eq!(fnv(&["u", "R", "m"]), fnv(&["u", "R", "m"]));
        assert_ne!(fnv(&["u", "R", "m"]), fnv(&["u", "R", "n"]));
        assert_ne!(fnv(&["ab", "c"]), fnv(&["a", "bc"]));
    }
}
