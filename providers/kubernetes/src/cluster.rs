//! One configured cluster: the kube client, the settings, cached discovery, and the API
//! calls braid makes (each retried on transient failures).

use std::collections::HashMap;

use braid_provider::Value;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams,
};
use kube::discovery::{ApiCapabilities, Scope};
use serde_json::Value as Json;
use tokio::sync::RwLock;

use crate::error::{KubeError, Step};
use crate::fields;
use crate::object::ObjectRef;
use crate::retry::{Endpoint, retrying};
use crate::settings::Settings;

/// A kind as the server serves it.
#[derive(Debug, Clone)]
pub struct ServedKind {
    pub resource: ApiResource,
    pub namespaced: bool,
    /// Whether the kind has a `/status` subresource: something reports its health.
    pub has_status: bool,
}

/// The cluster the provider was configured for.
pub struct Cluster {
    pub client: kube::Client,
    pub settings: Settings,
    /// The API server, and how long each request may take: named when it cannot be reached.
    endpoint: Endpoint,
    /// Discovery results of this run. Only kinds found are cached, so a kind that is missing
    /// (a CRD applied earlier in the same run) is looked up again.
    kinds: RwLock<HashMap<GroupVersionKind, ServedKind>>,
    /// Whether each object refresh read exists, until its plan takes the answer: the plan
    /// of a recorded object then needs no GET of its own. Only a flag per object is kept.
    refreshed: std::sync::Mutex<HashMap<String, bool>>,
}

impl Cluster {
    pub fn new(client: kube::Client, server: String, settings: Settings) -> Cluster {
        Cluster {
            client,
            endpoint: Endpoint {
                server,
                request_timeout: settings.request_timeout,
            },
            settings,
            kinds: RwLock::new(HashMap::new()),
            refreshed: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Notes what a refresh found about `object`.
    pub fn remember_refreshed(&self, object: &ObjectRef, exists: bool) {
        if let Ok(mut map) = self.refreshed.lock() {
            map.insert(format!("{object:?}"), exists);
        }
    }

    /// What this run's refresh found about `object`, once (the next plan asks the server).
    pub fn take_refreshed(&self, object: &ObjectRef) -> Option<bool> {
        self.refreshed.lock().ok()?.remove(&format!("{object:?}"))
    }

    /// How the server serves `gvk`, or `None` when it does not (yet).
    pub async fn kind(&self, gvk: &GroupVersionKind) -> Result<Option<ServedKind>, KubeError> {
        if let Some(kind) = self.kinds.read().await.get(gvk) {
            return Ok(Some(kind.clone()));
        }
        let found = retrying(Step::Discovery, &self.endpoint, || {
            kube::discovery::pinned_kind(&self.client, gvk)
        })
        .await;
        let served = match found {
            Ok((resource, caps)) => served(resource, &caps),
            Err(e) if not_served(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        self.kinds.write().await.insert(gvk.clone(), served.clone());
        Ok(Some(served))
    }

    /// The preferred version of `group`'s `kind` (for ids without a version).
    pub async fn preferred_version(
        &self,
        group: &str,
        kind: &str,
    ) -> Result<Option<String>, KubeError> {
        let found = retrying(Step::Discovery, &self.endpoint, || {
            kube::discovery::group(&self.client, group)
        })
        .await;
        match found {
            Ok(group) => Ok(group.recommended_kind(kind).map(|(ar, _)| ar.version)),
            Err(e) if not_served(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn api(&self, kind: &ServedKind, object: &ObjectRef) -> Api<DynamicObject> {
        match &object.namespace {
            Some(ns) if kind.namespaced => {
                Api::namespaced_with(self.client.clone(), ns, &kind.resource)
            }
            _ => Api::all_with(self.client.clone(), &kind.resource),
        }
    }

    pub async fn get(
        &self,
        kind: &ServedKind,
        object: &ObjectRef,
    ) -> Result<Option<Json>, KubeError> {
        let api = self.api(kind, object);
        let found = retrying(Step::Get, &self.endpoint, || api.get_opt(&object.name)).await?;
        Ok(found.map(to_json))
    }

    /// Server-side apply of `body` as braid's field manager.
    pub async fn apply(
        &self,
        kind: &ServedKind,
        object: &ObjectRef,
        body: &Json,
        dry_run: bool,
        force: bool,
    ) -> Result<Json, KubeError> {
        let api = self.api(kind, object);
        let mut params = PatchParams::apply(&self.settings.field_manager);
        params.dry_run = dry_run;
        params.force = force;
        let step = if dry_run {
            Step::DryRunApply
        } else {
            Step::Apply
        };
        let patch = Patch::Apply(body);
        let applied = retrying(step, &self.endpoint, || {
            api.patch(&object.name, &params, &patch)
        })
        .await?;
        Ok(to_json(applied))
    }

    /// Starts a foreground deletion; `Ok(false)` when the object was already gone.
    pub async fn delete(&self, kind: &ServedKind, object: &ObjectRef) -> Result<bool, KubeError> {
        let api = self.api(kind, object);
        let params = DeleteParams::foreground();
        match retrying(Step::Delete, &self.endpoint, || {
            api.delete(&object.name, &params)
        })
        .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub fn watch_api(&self, kind: &ServedKind, object: &ObjectRef) -> Api<DynamicObject> {
        self.api(kind, object)
    }

    /// The state value of a live (or dry-run) object: apiVersion, kind, name, namespace and
    /// the fields braid's field manager owns, plus `id` and `braid.uid`.
    pub fn state_of(&self, object: &ObjectRef, live: &Json, uid_known: bool) -> Value {
        let set = fields::owned_fields(live, &self.settings.field_manager);
        let mut projected = Value::from_json(&fields::project_object(live, &set));
        add_identity(&mut projected, object);
        let uid = match live.pointer("/metadata/uid").and_then(Json::as_str) {
            Some(uid) if uid_known => Value::from(uid),
            _ => Value::Unknown,
        };
        add_computed(&mut projected, object, uid);
        projected
    }

    /// Like [`Cluster::state_of`], but keeps the live values of fields the recorded state
    /// has and braid no longer owns: another field manager took them over, and showing
    /// their new values is what makes that drift visible (and lets plan take them back).
    pub fn refreshed_state(&self, object: &ObjectRef, live: &Json, recorded: &Value) -> Value {
        let mut state = self.state_of(object, live, true).to_json();
        keep_recorded_fields(&mut state, &recorded.to_json(), live);
        Value::from_json(&state)
    }

    /// The live values of the fields `field_set_of` would be owned by braid: what an import
    /// adopts. Used when braid does not own anything yet.
    pub fn adoptable_state(&self, object: &ObjectRef, live: &Json, field_set_of: &Json) -> Value {
        let set = fields::owned_fields(field_set_of, &self.settings.field_manager);
        let mut projected = Value::from_json(&fields::project_object(live, &set));
        add_identity(&mut projected, object);
        let uid = live
            .pointer("/metadata/uid")
            .and_then(Json::as_str)
            .map_or(Value::Unknown, Value::from);
        add_computed(&mut projected, object, uid);
        projected
    }
}

const MERGE_KEYS: &[&str] = &["name", "containerPort", "port", "mountPath", "ip", "type"];

/// Adds to `state` the live value of every map entry `recorded` has and `state` lacks —
/// only as much of it as `recorded` has: a map braid no longer owns at all (another manager
/// took its only field) must not bring along entries braid never managed.
fn keep_recorded_fields(state: &mut Json, recorded: &Json, live: &Json) {
    if let (Json::Array(state), Json::Array(recorded), Json::Array(live)) =
        (&mut *state, recorded, live)
    {
        // List items are matched by their usual merge key; braid's list is a subset of the
        // live one, so indexes do not line up.
        for (state_item, recorded_item) in state.iter_mut().zip(recorded) {
            let live_item = MERGE_KEYS.iter().find_map(|key| {
                let value = state_item.get(key)?;
                live.iter().find(|l| l.get(key) == Some(value))
            });
            if let Some(live_item) = live_item {
                keep_recorded_fields(state_item, recorded_item, live_item);
            }
        }
        return;
    }
    let (Json::Object(state), Json::Object(recorded), Json::Object(live)) = (state, recorded, live)
    else {
        return;
    };
    for (key, recorded_child) in recorded {
        let Some(live_child) = live.get(key) else {
            continue;
        };
        match state.get_mut(key) {
            Some(state_child) => keep_recorded_fields(state_child, recorded_child, live_child),
            None => {
                let kept = match (recorded_child, live_child) {
                    (Json::Object(_), Json::Object(_)) => {
                        let mut kept = Json::Object(serde_json::Map::new());
                        keep_recorded_fields(&mut kept, recorded_child, live_child);
                        kept
                    }
                    _ => live_child.clone(),
                };
                state.insert(key.clone(), kept);
            }
        }
    }
}

/// The state planned without asking the server: the desired manifest plus computed values.
pub fn planned_from_manifest(object: &ObjectRef, desired: &Value) -> Value {
    let mut planned = desired.clone();
    add_identity(&mut planned, object);
    add_computed(&mut planned, object, Value::Unknown);
    planned
}

fn add_identity(value: &mut Value, object: &ObjectRef) {
    let mut metadata = vec![("name", Value::from(object.name.as_str()))];
    if let Some(ns) = &object.namespace {
        metadata.push(("namespace", Value::from(ns.as_str())));
    }
    value.set(
        &braid_provider::Path::key("apiVersion"),
        Value::from(object.api_version()),
    );
    value.set(
        &braid_provider::Path::key("kind"),
        Value::from(object.kind.as_str()),
    );
    for (key, v) in metadata {
        value.set(&braid_provider::Path::key("metadata").child_key(key), v);
    }
}

fn add_computed(value: &mut Value, object: &ObjectRef, uid: Value) {
    value.set(&braid_provider::Path::key("id"), Value::from(object.id()));
    value.set(
        &braid_provider::Path::key("braid"),
        Value::map([("uid", uid)]),
    );
}

fn served(resource: ApiResource, caps: &ApiCapabilities) -> ServedKind {
    ServedKind {
        resource,
        namespaced: caps.scope == Scope::Namespaced,
        has_status: caps
            .subresources
            .iter()
            .any(|(sub, _)| sub.plural == "status"),
    }
}

/// Discovery answers meaning "this group/version/kind is not served".
fn not_served(error: &KubeError) -> bool {
    match error {
        KubeError::Api { status, .. } => status.code == 404,
        KubeError::Transport { source, .. } => matches!(source, kube::Error::Discovery(_)),
        KubeError::Unreachable { .. } | KubeError::RetriesExhausted { .. } => false,
    }
}

fn to_json(object: DynamicObject) -> Json {
    serde_json::to_value(object).unwrap_or(Json::Null)
}

#[cfg(test)]
mod tests {
    use super::keep_recorded_fields;
    use serde_json::json;

    #[test]
    fn recorded_fields_taken_over_keep_their_live_values() {
        let mut state = json!({"metadata": {"name": "settings"}});
        let recorded = json!({"metadata": {"name": "settings"}, "data": {"greeting": "hello"}});
        let live = json!({
            "metadata": {"name": "settings"},
            "data": {"greeting": "tampered", "note": "added-by-hand"}
        });
        keep_recorded_fields(&mut state, &recorded, &live);
        assert_eq!(
            state,
            json!({"metadata": {"name": "settings"}, "data": {"greeting": "tampered"}}),
            "entries braid never managed stay out of the state"
        );
    }
}
