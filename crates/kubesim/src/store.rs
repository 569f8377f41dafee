//! The object store: every object by resource/namespace/name, the global resourceVersion
//! counter, the bounded event history watches replay from, and the broadcast channel that
//! live watches and the simulated controllers listen on.
//!
//! The store only keeps and hands out objects; API semantics (defaulting, validation,
//! managedFields) live in `write`. Callers hold the store's mutex for a whole operation, so
//! a write, its resourceVersion and its event are one atomic step.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::broadcast;

use crate::catalogue::{Catalogue, ResourceKey};

/// Watch event types as they appear on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// Object created.
    Added,
    /// Object changed.
    Modified,
    /// Object removed.
    Deleted,
}

impl EventType {
    /// `ADDED` / `MODIFIED` / `DELETED`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One change to one object.
#[derive(Debug, Clone)]
pub struct StoreEvent {
    /// The resourceVersion this change produced.
    pub rv: u64,
    /// Which resource the object belongs to.
    pub key: ResourceKey,
    /// Namespace ("" for cluster-scoped objects).
    pub namespace: String,
    /// What happened.
    pub event_type: EventType,
    /// The object after the change (before removal for DELETED).
    pub object: Value,
    /// Field manager of the writer, so controllers can ignore their own writes.
    pub actor: String,
    /// The object before a MODIFIED change, so filtered watches can tell objects that
    /// stopped matching their selector.
    pub previous: Option<Value>,
}

/// Object identity inside one resource: (namespace, name).
pub type ObjectName = (String, String);

/// Mutable state of the emulated cluster.
#[derive(Debug)]
pub struct Store {
    /// Served resource types (built-in + CRD-defined).
    pub catalogue: Catalogue,
    objects: BTreeMap<ResourceKey, BTreeMap<ObjectName, Value>>,
    rv: u64,
    history: VecDeque<Arc<StoreEvent>>,
    history_limit: usize,
    /// Highest resourceVersion whose event fell out of the history.
    evicted_up_to: u64,
    events: broadcast::Sender<Arc<StoreEvent>>,
    next_cluster_ip: u32,
    next_node_port: u32,
    next_lb_ip: u32,
}

impl Store {
    /// An empty store keeping the last `history_limit` events for watches.
    pub fn new(history_limit: usize) -> Self {
        let (events, _) = broadcast::channel(4096);
        Store {
            catalogue: Catalogue::builtin(),
            objects: BTreeMap::new(),
            rv: 1,
            history: VecDeque::new(),
            history_limit: history_limit.max(1),
            evicted_up_to: 0,
            events,
            next_cluster_ip: 10,
            next_node_port: 30000,
            next_lb_ip: 10,
        }
    }

    /// The current (latest) resourceVersion.
    pub fn current_rv(&self) -> u64 {
        self.rv
    }

    /// Allocates the next resourceVersion.
    pub fn bump_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// One object.
    pub fn get(&self, key: &ResourceKey, namespace: &str, name: &str) -> Option<&Value> {
        self.objects
            .get(key)
            .and_then(|m| m.get(&(namespace.to_string(), name.to_string())))
    }

    /// The CustomResourceDefinitions held.
    pub fn crds(&self) -> Vec<&Value> {
        self.list(
            &ResourceKey {
                group: "apiextensions.k8s.io".to_string(),
                plural: "customresourcedefinitions".to_string(),
            },
            None,
        )
    }

    /// Objects of a resource, in one namespace or (None) everywhere, ordered by
    /// namespace then name.
    pub fn list(&self, key: &ResourceKey, namespace: Option<&str>) -> Vec<&Value> {
        self.objects
            .get(key)
            .map(|m| {
                m.iter()
                    .filter(|((ns, _), _)| namespace.is_none_or(|want| want == ns))
                    .map(|(_, v)| v)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every stored object with its resource key (for GC and namespace cleanup).
    pub fn all_objects(&self) -> Vec<(ResourceKey, Value)> {
        self.objects
            .iter()
            .flat_map(|(k, m)| m.values().map(move |v| (k.clone(), v.clone())))
            .collect()
    }

    /// Stores an object (its resourceVersion already set to `rv`) and records the event.
    pub fn put(
        &mut self,
        key: &ResourceKey,
        namespace: &str,
        name: &str,
        object: Value,
        event_type: EventType,
        actor: &str,
    ) {
        let previous = self
            .objects
            .entry(key.clone())
            .or_default()
            .insert((namespace.to_string(), name.to_string()), object.clone());
        self.record(key, namespace, event_type, object, actor, previous);
    }

    /// Removes an object and records a DELETED event carrying `last_state`.
    pub fn remove(
        &mut self,
        key: &ResourceKey,
        namespace: &str,
        name: &str,
        last_state: Value,
        actor: &str,
    ) {
        if let Some(m) = self.objects.get_mut(key) {
            m.remove(&(namespace.to_string(), name.to_string()));
        }
        self.record(key, namespace, EventType::Deleted, last_state, actor, None);
    }

    fn record(
        &mut self,
        key: &ResourceKey,
        namespace: &str,
        event_type: EventType,
        object: Value,
        actor: &str,
        previous: Option<Value>,
    ) {
        let event = Arc::new(StoreEvent {
            previous,
            rv: self.rv,
            key: key.clone(),
            namespace: namespace.to_string(),
            event_type,
            object,
            actor: actor.to_string(),
        });
        self.history.push_back(event.clone());
        while self.history.len() > self.history_limit {
            if let Some(old) = self.history.pop_front() {
                self.evicted_up_to = old.rv;
            }
        }
        // No receivers is normal (no watch open); nothing to do then.
        let _ = self.events.send(event);
    }

    /// Subscribes to live events. Take this under the same lock as any replay so no event
    /// falls between the replay and the live stream.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<StoreEvent>> {
        self.events.subscribe()
    }

    /// Events after `rv` for `key`, or None when that history is no longer kept (410 Gone).
    pub fn events_since(&self, key: &ResourceKey, rv: u64) -> Option<Vec<Arc<StoreEvent>>> {
        if rv < self.evicted_up_to {
            return None;
        }
        Some(
            self.history
                .iter()
                .filter(|e| e.rv > rv && &e.key == key)
                .cloned()
                .collect(),
        )
    }

    /// Allocates a ClusterIP from 10.96.0.0/16.
    pub fn allocate_cluster_ip(&mut self) -> String {
        let n = self.next_cluster_ip;
        self.next_cluster_ip += 1;
        format!("10.96.{}.{}", (n >> 8) & 0xff, n & 0xff)
    }

    /// Allocates a NodePort from 30000-32767.
    pub fn allocate_node_port(&mut self) -> u32 {
        let p = self.next_node_port;
        self.next_node_port = if p >= 32767 { 30000 } else { p + 1 };
        p
    }

    /// Allocates a LoadBalancer ingress IP from 172.18.255.0/24.
    pub fn allocate_lb_ip(&mut self) -> String {
        let n = self.next_lb_ip;
        self.next_lb_ip = if n >= 250 { 10 } else { n + 1 };
        format!("172.18.255.{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key() -> ResourceKey {
        ResourceKey {
            group: String::new(),
            plural: "configmaps".into(),
        }
    }

    #[test]
    fn history_is_bounded_and_reports_gone() {
        let mut store = Store::new(2);
        for i in 0..4 {
            store.bump_rv();
            store.put(
                &key(),
                "default",
                &format!("c{i}"),
                json!({}),
                EventType::Added,
                "t",
            );
        }
        assert!(store.events_since(&key(), 2).is_none());
        let recent = store.events_since(&key(), 4).expect("kept");
        assert_eq!(recent.len(), 1);
    }
}
