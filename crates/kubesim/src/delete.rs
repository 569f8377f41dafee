//! Deletion semantics: finalizers (objects stay with a deletionTimestamp until their
//! finalizers are removed), propagation policies with ownerReference garbage collection,
//! namespace termination removing everything inside, and CRD deletion removing its custom
//! resources and its kinds from discovery.
//!
//! The real server does garbage collection and namespace cleanup in controllers a moment
//! later; here it happens within the delete request, in the same order, which keeps tests
//! deterministic.

use serde_json::{Value, json};

use crate::catalogue::{ResourceKey, ResourceType};
use crate::status::{ApiError, Subject};
use crate::store::{EventType, Store};
use crate::write::{WriteContext, now};

/// Options from a DeleteOptions body or query.
#[derive(Debug, Clone, Default)]
pub struct DeleteOptions {
    /// `Foreground`, `Background` or `Orphan`.
    pub propagation: Option<String>,
    /// `preconditions.uid`.
    pub precondition_uid: Option<String>,
    /// `preconditions.resourceVersion`.
    pub precondition_rv: Option<String>,
}

/// What a delete did.
#[derive(Debug, Clone)]
pub enum DeleteOutcome {
    /// The object is gone.
    Deleted(Value),
    /// The object remains, marked for deletion, until its finalizers are removed.
    Pending(Value),
}

fn namespaces_key() -> ResourceKey {
    ResourceKey {
        group: String::new(),
        plural: "namespaces".into(),
    }
}

/// Whether an object marked for deletion has no finalizers left.
pub fn fully_finalized(rt: &ResourceType, object: &Value) -> bool {
    let meta_done = object["metadata"]["finalizers"]
        .as_array()
        .is_none_or(Vec::is_empty);
    let spec_done = rt.kind != "Namespace"
        || object["spec"]["finalizers"]
            .as_array()
            .is_none_or(Vec::is_empty);
    meta_done && spec_done
}

/// Handles a DELETE of one object.
pub fn delete(
    store: &mut Store,
    ctx: &WriteContext,
    name: &str,
    opts: &DeleteOptions,
) -> Result<DeleteOutcome, ApiError> {
    let Some(current) = store.get(&ctx.rt.key(), &ctx.namespace, name).cloned() else {
        return Err(ApiError::not_found(&ctx.rt.group, &ctx.rt.plural, name));
    };
    let subject = Subject {
        group: ctx.rt.group.clone(),
        kind: ctx.rt.plural.clone(),
        name: name.to_string(),
    };
    let precondition = |what: &str, want: &Option<String>, have: &Value| match want {
        Some(want) if have.as_str() != Some(want.as_str()) => Err(ApiError::Conflict {
            message: format!(
                "Operation cannot be fulfilled on {} \"{name}\": Precondition failed: {what} in precondition: {want}, {what} in object meta: {}",
                subject.qualified(),
                have.as_str().unwrap_or_default()
            ),
            subject: subject.clone(),
            causes: Vec::new(),
        }),
        _ => Ok(()),
    };
    precondition("UID", &opts.precondition_uid, &current["metadata"]["uid"])?;
    precondition(
        "ResourceVersion",
        &opts.precondition_rv,
        &current["metadata"]["resourceVersion"],
    )?;
    if ctx.dry_run {
        let pending = !fully_finalized(&ctx.rt, &current) || ctx.rt.kind == "Namespace";
        return Ok(if pending {
            DeleteOutcome::Pending(current)
        } else {
            DeleteOutcome::Deleted(current)
        });
    }
    Ok(delete_object(
        store,
        &ctx.rt,
        &ctx.namespace,
        name,
        opts.propagation.as_deref(),
        &ctx.manager,
    ))
}

/// Deletes one stored object, honouring finalizers and the propagation policy.
pub fn delete_object(
    store: &mut Store,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
    propagation: Option<&str>,
    actor: &str,
) -> DeleteOutcome {
    let key = rt.key();
    let Some(mut object) = store.get(&key, namespace, name).cloned() else {
        return DeleteOutcome::Deleted(Value::Null);
    };
    let uid = object["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    match propagation {
        Some("Orphan") => orphan_dependents(store, &uid, actor),
        Some("Foreground") => collect_dependents(store, &uid, Some("Foreground"), actor),
        _ => {}
    }
    let terminating = object["metadata"]["deletionTimestamp"].is_string();
    if rt.kind == "Namespace" || !fully_finalized(rt, &object) {
        if !terminating {
            if let Some(meta) = object["metadata"].as_object_mut() {
                meta.insert("deletionTimestamp".into(), json!(now()));
                meta.insert("deletionGracePeriodSeconds".into(), json!(0));
                if rt.has_generation {
                    let generation = meta.get("generation").and_then(Value::as_i64).unwrap_or(0);
                    meta.insert("generation".into(), json!(generation + 1));
                }
            }
            if rt.kind == "Namespace"
                && let Some(root) = object.as_object_mut()
            {
                root.insert("status".into(), json!({"phase": "Terminating"}));
            }
            let rv = store.bump_rv();
            object["metadata"]["resourceVersion"] = json!(rv.to_string());
            store.put(
                &key,
                namespace,
                name,
                object.clone(),
                EventType::Modified,
                actor,
            );
        }
        if rt.kind == "Namespace" {
            empty_namespace(store, name, actor);
            finish_namespace(store, name, actor);
            let after = store.get(&key, namespace, name).cloned();
            return DeleteOutcome::Pending(after.unwrap_or(object));
        }
        return DeleteOutcome::Pending(object);
    }
    let rv = store.bump_rv();
    object["metadata"]["resourceVersion"] = json!(rv.to_string());
    remove_object(store, rt, namespace, name, object.clone(), actor);
    DeleteOutcome::Deleted(object)
}

/// Removes an object from the store and runs the follow-up a removal triggers:
/// dependents' garbage collection, a CRD's custom resources, namespace completion.
/// The caller has already assigned `last_state` its final resourceVersion.
pub fn remove_object(
    store: &mut Store,
    rt: &ResourceType,
    namespace: &str,
    name: &str,
    last_state: Value,
    actor: &str,
) {
    let uid = last_state["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    store.remove(&rt.key(), namespace, name, last_state.clone(), actor);
    if rt.builtin && rt.kind == "CustomResourceDefinition" {
        let group = last_state["spec"]["group"].as_str().unwrap_or_default();
        let plural = last_state["spec"]["names"]["plural"]
            .as_str()
            .unwrap_or_default();
        let cr_key = ResourceKey {
            group: group.to_string(),
            plural: plural.to_string(),
        };
        for (key, mut cr) in store.all_objects() {
            if key != cr_key {
                continue;
            }
            let ns = cr["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let n = cr["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let rv = store.bump_rv();
            cr["metadata"]["resourceVersion"] = json!(rv.to_string());
            store.remove(&key, &ns, &n, cr, actor);
        }
        store.catalogue.remove_crd(&last_state);
    }
    collect_dependents(store, &uid, None, actor);
    if rt.namespaced {
        finish_namespace(store, namespace, actor);
    }
}

fn dependents(store: &Store, owner_uid: &str) -> Vec<(ResourceKey, Value)> {
    if owner_uid.is_empty() {
        return Vec::new();
    }
    store
        .all_objects()
        .into_iter()
        .filter(|(_, o)| {
            o["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|refs| refs.iter().any(|r| r["uid"] == owner_uid))
        })
        .collect()
}

/// Garbage-collects objects owned by `owner_uid`.
fn collect_dependents(store: &mut Store, owner_uid: &str, propagation: Option<&str>, actor: &str) {
    for (key, dependent) in dependents(store, owner_uid) {
        let Some(rt) = store.catalogue.find_any_version(&key).cloned() else {
            continue;
        };
        let ns = dependent["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default();
        let name = dependent["metadata"]["name"].as_str().unwrap_or_default();
        delete_object(store, &rt, ns, name, propagation, actor);
    }
}

/// Orphan propagation: dependents lose their ownerReference to the deleted owner.
fn orphan_dependents(store: &mut Store, owner_uid: &str, actor: &str) {
    for (key, mut dependent) in dependents(store, owner_uid) {
        if let Some(refs) = dependent["metadata"]["ownerReferences"].as_array_mut() {
            refs.retain(|r| r["uid"] != owner_uid);
            if refs.is_empty()
                && let Some(meta) = dependent["metadata"].as_object_mut()
            {
                meta.remove("ownerReferences");
            }
        }
        let ns = dependent["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let name = dependent["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let rv = store.bump_rv();
        dependent["metadata"]["resourceVersion"] = json!(rv.to_string());
        store.put(&key, &ns, &name, dependent, EventType::Modified, actor);
    }
}

/// Deletes everything in a terminating namespace.
fn empty_namespace(store: &mut Store, namespace: &str, actor: &str) {
    for (key, object) in store.all_objects() {
        if object["metadata"]["namespace"].as_str() != Some(namespace) {
            continue;
        }
        let Some(rt) = store.catalogue.find_any_version(&key).cloned() else {
            continue;
        };
        if !rt.namespaced {
            continue;
        }
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        delete_object(store, &rt, namespace, name, None, actor);
    }
}

/// Removes a terminating namespace once nothing is left in it.
pub fn finish_namespace(store: &mut Store, namespace: &str, actor: &str) {
    let key = namespaces_key();
    let Some(mut ns) = store.get(&key, "", namespace).cloned() else {
        return;
    };
    if !ns["metadata"]["deletionTimestamp"].is_string() {
        return;
    }
    let occupied = store
        .all_objects()
        .iter()
        .any(|(_, o)| o["metadata"]["namespace"].as_str() == Some(namespace));
    if occupied {
        return;
    }
    // The namespace controller's `kubernetes` finalizer is done once the namespace is empty.
    if let Some(spec) = ns["spec"].as_object_mut() {
        spec.insert("finalizers".into(), json!([]));
    }
    let rv = store.bump_rv();
    ns["metadata"]["resourceVersion"] = json!(rv.to_string());
    let has_meta_finalizers = ns["metadata"]["finalizers"]
        .as_array()
        .is_some_and(|f| !f.is_empty());
    if has_meta_finalizers {
        store.put(&key, "", namespace, ns, EventType::Modified, actor);
    } else {
        store.remove(&key, "", namespace, ns, actor);
    }
}
