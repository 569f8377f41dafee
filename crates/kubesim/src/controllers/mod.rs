//! Simulated controllers: a background task that watches the store's event stream and,
//! after a delay, moves objects to the status a healthy (or, with the fail annotation,
//! broken) cluster would give them — rollouts become available, Jobs complete, PVCs bind,
//! LoadBalancers get an IP, CRDs become Established, Pods run.
//!
//! Delays come from `Config::ready_delay` or the per-object annotation
//! `kubesim.braid.dev/ready-after-ms`; `kubesim.braid.dev/fail: "true"` makes the object
//! fail instead. Controller writes go through the normal write pipeline as field manager
//! `kube-controller-manager` (status subresource), so they bump resourceVersions, record
//! managedFields and emit watch events like the real controllers' writes.

mod events;
mod statuses;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;

use crate::catalogue::{ResourceKey, ResourceType};
use crate::server::Shared;
use crate::store::{EventType, Store, StoreEvent};
use crate::write::{self, Managed, WriteContext};
use events::{Event, Severity};

/// Field manager of every controller write.
pub const CONTROLLER_MANAGER: &str = "kube-controller-manager";
/// Annotation overriding the readiness delay, in milliseconds.
pub const READY_AFTER_ANNOTATION: &str = "kubesim.braid.dev/ready-after-ms";
/// Annotation that makes an object fail (`"true"`).
pub const FAIL_ANNOTATION: &str = "kubesim.braid.dev/fail";

/// Identity of one object.
#[derive(Debug, Clone)]
struct ObjectRef {
    key: ResourceKey,
    namespace: String,
    name: String,
}

/// Runs the controllers until `shutdown` flips.
pub async fn run(
    shared: Arc<Shared>,
    mut events: broadcast::Receiver<Arc<StoreEvent>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut timers: JoinSet<()> = JoinSet::new();
    loop {
        tokio::select! {
            received = events.recv() => match received {
                Ok(event) => {
                    if event.actor != CONTROLLER_MANAGER && event.event_type != EventType::Deleted {
                        react(&shared, &event.key, &event.object, &mut timers, true);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Missed events: look at everything again (reactions are idempotent).
                    let all = shared.store().all_objects();
                    for (key, object) in all {
                        // No events from a re-scan: they would be written again for every
                        // failing object, and could make the channel lag once more.
                        react(&shared, &key, &object, &mut timers, false);
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            Some(_) = timers.join_next(), if !timers.is_empty() => {}
            _ = shutdown.changed() => {
                timers.abort_all();
                return;
            }
        }
    }
}

fn annotation<'a>(object: &'a Value, name: &str) -> Option<&'a str> {
    object["metadata"]["annotations"][name].as_str()
}

fn failing(object: &Value) -> bool {
    annotation(object, FAIL_ANNOTATION) == Some("true")
}

/// Records an event about `object`.
fn emit(
    store: &mut Store,
    rt: &ResourceType,
    object: &Value,
    severity: Severity,
    reason: &str,
    message: String,
    component: &str,
) {
    events::record(
        store,
        rt,
        object,
        Event {
            severity,
            reason,
            message,
            component,
        },
    );
}

fn name_of(object: &Value) -> &str {
    object["metadata"]["name"].as_str().unwrap_or_default()
}

/// A Pod name suffix as controllers make them (five characters from the object's uid).
fn pod_suffix(object: &Value, salt: i64) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let uid = object["metadata"]["uid"].as_str().unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt.unsigned_abs();
    for b in uid.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (0..5)
        .map(|i| char::from(ALPHABET[((h >> (i * 8)) % ALPHABET.len() as u64) as usize]))
        .collect()
}

/// Events of Pods a workload creates or deletes when its replicas change from `from` to
/// `to` (at most five of each, as a recorder's burst would show).
fn pod_events(store: &mut Store, rt: &ResourceType, object: &Value, from: i64, to: i64) {
    let name = name_of(object).to_string();
    let component = match rt.kind.as_str() {
        "StatefulSet" => "statefulset-controller",
        "DaemonSet" => "daemonset-controller",
        _ => "replicaset-controller",
    };
    for i in (from.max(0)..to).take(5) {
        let message = if rt.kind == "StatefulSet" {
            format!("create Pod {name}-{i} in StatefulSet {name} successful")
        } else {
            format!("Created pod: {name}-{}", pod_suffix(object, i))
        };
        emit(
            store,
            rt,
            object,
            Severity::Normal,
            "SuccessfulCreate",
            message,
            component,
        );
    }
    for i in (to.max(0)..from).rev().take(5) {
        let message = if rt.kind == "StatefulSet" {
            format!("delete Pod {name}-{i} in StatefulSet {name} successful")
        } else {
            format!("Deleted pod: {name}-{}", pod_suffix(object, i))
        };
        emit(
            store,
            rt,
            object,
            Severity::Normal,
            "SuccessfulDelete",
            message,
            component,
        );
    }
}

fn delay_for(shared: &Shared, object: &Value) -> Duration {
    annotation(object, READY_AFTER_ANNOTATION)
        .and_then(|ms| ms.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(shared.ready_delay)
}

fn generation(object: &Value) -> i64 {
    object["metadata"]["generation"].as_i64().unwrap_or(0)
}

/// Decides what a user write to `object` sets in motion.
/// `record` is false when re-scanning after missed store events: nothing is recorded then.
fn react(
    shared: &Arc<Shared>,
    key: &ResourceKey,
    object: &Value,
    timers: &mut JoinSet<()>,
    record: bool,
) {
    let Some(rt) = shared.store().catalogue.find_any_version(key).cloned() else {
        return;
    };
    if !rt.builtin || object["metadata"]["deletionTimestamp"].is_string() {
        return;
    }
    let target = ObjectRef {
        key: key.clone(),
        namespace: object["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        name: object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    };
    let delay = delay_for(shared, object);
    let observed = object["status"]["observedGeneration"].as_i64();
    match rt.kind.as_str() {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => {
            if observed != Some(generation(object)) {
                let mut store = shared.store();
                if rt.kind == "Deployment" {
                    ensure_replica_set(&mut store, &rt, object);
                } else if record && !failing(object) {
                    let from = if rt.kind == "DaemonSet" {
                        object["status"]["desiredNumberScheduled"]
                            .as_i64()
                            .unwrap_or(0)
                    } else {
                        object["status"]["replicas"].as_i64().unwrap_or(0)
                    };
                    let to = if rt.kind == "DaemonSet" {
                        1
                    } else {
                        object["spec"]["replicas"].as_i64().unwrap_or(1)
                    };
                    pod_events(&mut store, &rt, object, from, to);
                }
                let status = statuses::rollout_started(&rt.kind, object);
                set_status(&mut store, &rt, &target, status);
            }
            schedule(
                shared,
                timers,
                target,
                delay,
                Some(generation(object)),
                finish_rollout,
            );
        }
        "Job" => {
            let finished = statuses::job_finished(object);
            let suspended = object["spec"]["suspend"] == true;
            if !finished && !suspended {
                if object["status"]["startTime"].is_null() {
                    let status = statuses::job_started(object);
                    let mut store = shared.store();
                    set_status(&mut store, &rt, &target, status);
                    let message =
                        format!("Created pod: {}-{}", name_of(object), pod_suffix(object, 0));
                    emit(
                        &mut store,
                        &rt,
                        object,
                        Severity::Normal,
                        "SuccessfulCreate",
                        message,
                        "job-controller",
                    );
                }
                schedule(shared, timers, target, delay, None, finish_job);
            }
        }
        "Service"
            if object["spec"]["type"] == "LoadBalancer"
                && object["status"]["loadBalancer"]["ingress"].is_null()
                && !failing(object) =>
        {
            schedule(shared, timers, target, delay, None, assign_load_balancer);
        }
        "Service" if record && object["spec"]["type"] == "LoadBalancer" && failing(object) => {
            emit(
                &mut shared.store(),
                &rt,
                object,
                Severity::Warning,
                "SyncLoadBalancerFailed",
                "Error syncing load balancer: failed to ensure load balancer: simulated failure (kubesim.braid.dev/fail)".into(),
                "service-controller",
            );
        }
        "Ingress" if object["status"]["loadBalancer"]["ingress"].is_null() && !failing(object) => {
            schedule(shared, timers, target, delay, None, assign_load_balancer);
        }
        "PersistentVolumeClaim" if object["status"]["phase"] != "Bound" && !failing(object) => {
            schedule(shared, timers, target, delay, None, bind_claim);
        }
        "PersistentVolumeClaim" if record && object["status"]["phase"] != "Bound" => {
            emit(
                &mut shared.store(),
                &rt,
                object,
                Severity::Warning,
                "ProvisioningFailed",
                "failed to provision volume: simulated failure (kubesim.braid.dev/fail)".into(),
                "persistentvolume-controller",
            );
        }
        "CustomResourceDefinition" if !statuses::crd_established(object) => {
            let status = statuses::crd_status(object);
            set_status(&mut shared.store(), &rt, &target, status);
        }
        "Pod" if object["status"]["phase"] != "Running" && !failing(object) => {
            schedule(shared, timers, target, delay, None, run_pod);
        }
        "Pod" if record && object["status"]["phase"] != "Running" => {
            emit(
                &mut shared.store(),
                &rt,
                object,
                Severity::Warning,
                "BackOff",
                "Back-off restarting failed container".into(),
                "kubelet",
            );
        }
        _ => {}
    }
}

type Step = fn(&mut Store, &ResourceType, &ObjectRef, &Value);

/// Runs `step` on the object after `delay`, if it still exists (and, when `generation` is
/// given, has not moved on to a newer generation meanwhile).
fn schedule(
    shared: &Arc<Shared>,
    timers: &mut JoinSet<()>,
    target: ObjectRef,
    delay: Duration,
    generation_then: Option<i64>,
    step: Step,
) {
    let shared = shared.clone();
    timers.spawn(async move {
        tokio::time::sleep(delay).await;
        let mut store = shared.store();
        let Some(rt) = store.catalogue.find_any_version(&target.key).cloned() else {
            return;
        };
        let Some(current) = store
            .get(&target.key, &target.namespace, &target.name)
            .cloned()
        else {
            return;
        };
        if current["metadata"]["deletionTimestamp"].is_string()
            || generation_then.is_some_and(|g| g != generation(&current))
        {
            return;
        }
        step(&mut store, &rt, &target, &current);
    });
}

fn context(rt: &ResourceType, target: &ObjectRef, subresource: Option<&str>) -> WriteContext {
    WriteContext::internal(rt, &target.namespace, CONTROLLER_MANAGER, subresource)
}

/// Writes `status` through the status subresource (a no-op when unchanged).
fn set_status(store: &mut Store, rt: &ResourceType, target: &ObjectRef, status: Value) {
    let Some(current) = store
        .get(&target.key, &target.namespace, &target.name)
        .cloned()
    else {
        return;
    };
    let mut desired = current.clone();
    desired["status"] = status;
    // A failure here would be a bug in the status builders; the object then keeps its
    // previous status, which a test will notice.
    let _ = write::update(
        store,
        &context(rt, target, Some("status")),
        &current,
        desired,
        Managed::Update,
    );
}

/// Writes main-resource changes made by a controller (annotations, PVC volumeName).
fn set_main(store: &mut Store, rt: &ResourceType, target: &ObjectRef, desired: Value) {
    let Some(current) = store
        .get(&target.key, &target.namespace, &target.name)
        .cloned()
    else {
        return;
    };
    let _ = write::update(
        store,
        &context(rt, target, None),
        &current,
        desired,
        Managed::Update,
    );
}

fn finish_rollout(store: &mut Store, rt: &ResourceType, target: &ObjectRef, current: &Value) {
    let fail = failing(current);
    if rt.kind == "Deployment" && !fail {
        finish_replica_set(store, current);
    }
    let status = statuses::rollout_finished(&rt.kind, current, fail);
    set_status(store, rt, target, status);
    if fail {
        let name = name_of(current);
        let (reason, message, component) = match rt.kind.as_str() {
            "Deployment" => (
                "ProgressDeadlineExceeded",
                format!(
                    "ReplicaSet \"{}\" has timed out progressing.",
                    statuses::replica_set_name(current)
                ),
                "deployment-controller",
            ),
            "StatefulSet" => (
                "FailedCreate",
                format!(
                    "create Pod {name}-0 in StatefulSet {name} failed error: simulated failure (kubesim.braid.dev/fail)"
                ),
                "statefulset-controller",
            ),
            "DaemonSet" => (
                "FailedCreate",
                format!(
                    "Error creating: simulated failure of daemon set {name} (kubesim.braid.dev/fail)"
                ),
                "daemonset-controller",
            ),
            _ => (
                "FailedCreate",
                format!(
                    "Error creating: simulated failure of replica set {name} (kubesim.braid.dev/fail)"
                ),
                "replicaset-controller",
            ),
        };
        emit(
            store,
            rt,
            current,
            Severity::Warning,
            reason,
            message,
            component,
        );
    }
}

fn finish_job(store: &mut Store, rt: &ResourceType, target: &ObjectRef, current: &Value) {
    let fail = failing(current);
    let status = statuses::job_result(current, fail);
    set_status(store, rt, target, status);
    if fail {
        let message = "Job has reached the specified backoff limit".to_string();
        emit(
            store,
            rt,
            current,
            Severity::Warning,
            "BackoffLimitExceeded",
            message,
            "job-controller",
        );
    } else {
        let message = "Job completed".to_string();
        emit(
            store,
            rt,
            current,
            Severity::Normal,
            "Completed",
            message,
            "job-controller",
        );
    }
}

/// Gives a LoadBalancer Service, or an Ingress (as its controller would), an address.
fn assign_load_balancer(store: &mut Store, rt: &ResourceType, target: &ObjectRef, current: &Value) {
    let service = rt.kind == "Service";
    if (service && current["spec"]["type"] != "LoadBalancer") || failing(current) {
        return;
    }
    let ip = store.allocate_lb_ip();
    let mut status = current["status"].clone();
    if !status.is_object() {
        status = json!({});
    }
    status["loadBalancer"] = json!({"ingress": [{"ip": ip, "ipMode": "VIP"}]});
    set_status(store, rt, target, status);
    if !service {
        let message = "Scheduled for sync".to_string();
        emit(
            store,
            rt,
            current,
            Severity::Normal,
            "Sync",
            message,
            "ingress-controller",
        );
        return;
    }
    for (reason, message) in [
        ("EnsuringLoadBalancer", "Ensuring load balancer"),
        ("EnsuredLoadBalancer", "Ensured load balancer"),
    ] {
        emit(
            store,
            rt,
            current,
            Severity::Normal,
            reason,
            message.into(),
            "service-controller",
        );
    }
}

fn bind_claim(store: &mut Store, rt: &ResourceType, target: &ObjectRef, current: &Value) {
    if failing(current) {
        return;
    }
    let uid = current["metadata"]["uid"].as_str().unwrap_or_default();
    if current["spec"]["volumeName"].is_null() {
        let mut desired = current.clone();
        desired["spec"]["volumeName"] = json!(format!("pvc-{uid}"));
        set_main(store, rt, target, desired);
    }
    let status = json!({
        "phase": "Bound",
        "accessModes": current["spec"]["accessModes"],
        "capacity": {"storage": current["spec"]["resources"]["requests"]["storage"]},
    });
    set_status(store, rt, target, status);
    let message = format!("Successfully provisioned volume pvc-{uid}");
    emit(
        store,
        rt,
        current,
        Severity::Normal,
        "ProvisioningSucceeded",
        message,
        "persistentvolume-controller",
    );
}

fn run_pod(store: &mut Store, rt: &ResourceType, target: &ObjectRef, current: &Value) {
    if failing(current) {
        return;
    }
    let status = statuses::pod_running(current, store.current_rv());
    set_status(store, rt, target, status);
    let namespace = current["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default();
    let message = format!(
        "Successfully assigned {namespace}/{} to kubesim-node",
        name_of(current)
    );
    emit(
        store,
        rt,
        current,
        Severity::Normal,
        "Scheduled",
        message,
        "default-scheduler",
    );
    for container in current["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let message = format!(
            "Started container {}",
            container["name"].as_str().unwrap_or_default()
        );
        emit(
            store,
            rt,
            current,
            Severity::Normal,
            "Started",
            message,
            "kubelet",
        );
    }
}

fn replica_set_type(store: &Store) -> Option<ResourceType> {
    store.catalogue.find("apps", "v1", "replicasets").cloned()
}

/// Creates (or scales) the ReplicaSet for a Deployment's current template, scaling older
/// ones to zero, and records the revision annotation on the Deployment.
fn ensure_replica_set(store: &mut Store, deploy_rt: &ResourceType, deployment: &Value) {
    let Some(rs_rt) = replica_set_type(store) else {
        return;
    };
    let namespace = deployment["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default();
    let uid = deployment["metadata"]["uid"].as_str().unwrap_or_default();
    let hash = statuses::template_hash(&deployment["spec"]["template"]);
    let name = statuses::replica_set_name(deployment);
    let replicas = deployment["spec"]["replicas"].as_i64().unwrap_or(1);
    let owned: Vec<Value> = store
        .list(&rs_rt.key(), Some(namespace))
        .into_iter()
        .filter(|rs| {
            rs["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid))
        })
        .cloned()
        .collect();
    let revision = owned
        .iter()
        .filter_map(|rs| {
            rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                .as_str()
                .and_then(|r| r.parse::<i64>().ok())
        })
        .max()
        .unwrap_or(0);
    let rs_target = |n: &str| ObjectRef {
        key: rs_rt.key(),
        namespace: namespace.to_string(),
        name: n.to_string(),
    };
    let current_revision = match owned.iter().find(|rs| rs["metadata"]["name"] == name) {
        Some(existing) => {
            let before = existing["spec"]["replicas"].as_i64().unwrap_or(0);
            if before != replicas {
                scaling_event(store, deploy_rt, deployment, &name, before, replicas);
            }
            let mut desired = existing.clone();
            desired["spec"]["replicas"] = json!(replicas);
            set_main(store, &rs_rt, &rs_target(&name), desired);
            existing["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                .as_str()
                .and_then(|r| r.parse::<i64>().ok())
                .unwrap_or(revision)
        }
        None => {
            let mut template = deployment["spec"]["template"].clone();
            template["metadata"]["labels"]["pod-template-hash"] = json!(hash);
            let mut selector = deployment["spec"]["selector"].clone();
            selector["matchLabels"]["pod-template-hash"] = json!(hash);
            let mut labels = deployment["spec"]["template"]["metadata"]["labels"].clone();
            labels["pod-template-hash"] = json!(hash);
            let rs = json!({
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "labels": labels,
                    "annotations": {
                        "deployment.kubernetes.io/desired-replicas": replicas.to_string(),
                        "deployment.kubernetes.io/max-replicas": replicas.to_string(),
                        "deployment.kubernetes.io/revision": (revision + 1).to_string(),
                    },
                    "ownerReferences": [{
                        "apiVersion": "apps/v1", "kind": "Deployment",
                        "name": deployment["metadata"]["name"], "uid": uid,
                        "controller": true, "blockOwnerDeletion": true,
                    }],
                },
                "spec": {"replicas": replicas, "selector": selector, "template": template},
            });
            let ctx = context(&rs_rt, &rs_target(&name), None);
            let _ = write::create(store, &ctx, rs, Managed::Update);
            scaling_event(store, deploy_rt, deployment, &name, 0, replicas);
            revision + 1
        }
    };
    for old in owned.iter().filter(|rs| rs["metadata"]["name"] != name) {
        let old_name = old["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let before = old["spec"]["replicas"].as_i64().unwrap_or(0);
        if before > 0 {
            scaling_event(store, deploy_rt, deployment, &old_name, before, 0);
        }
        let mut desired = old.clone();
        desired["spec"]["replicas"] = json!(0);
        set_main(store, &rs_rt, &rs_target(&old_name), desired);
        set_status(
            store,
            &rs_rt,
            &rs_target(&old_name),
            json!({"replicas": 0, "observedGeneration": generation(old)}),
        );
    }
    let deploy_target = ObjectRef {
        key: deploy_rt.key(),
        namespace: namespace.to_string(),
        name: deployment["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    };
    if let Some(current) = store
        .get(&deploy_target.key, namespace, &deploy_target.name)
        .cloned()
    {
        let mut desired = current.clone();
        desired["metadata"]["annotations"]["deployment.kubernetes.io/revision"] =
            json!(current_revision.to_string());
        set_main(store, deploy_rt, &deploy_target, desired);
    }
}

/// The deployment controller's `ScalingReplicaSet` event.
fn scaling_event(
    store: &mut Store,
    rt: &ResourceType,
    deployment: &Value,
    rs: &str,
    from: i64,
    to: i64,
) {
    let direction = if to > from { "up" } else { "down" };
    let message = format!("Scaled {direction} replica set {rs} from {from} to {to}");
    emit(
        store,
        rt,
        deployment,
        Severity::Normal,
        "ScalingReplicaSet",
        message,
        "deployment-controller",
    );
}

/// Marks the Deployment's current ReplicaSet fully available.
fn finish_replica_set(store: &mut Store, deployment: &Value) {
    let Some(rs_rt) = replica_set_type(store) else {
        return;
    };
    let namespace = deployment["metadata"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let name = statuses::replica_set_name(deployment);
    let Some(rs) = store.get(&rs_rt.key(), &namespace, &name).cloned() else {
        return;
    };
    let status = statuses::rollout_finished("ReplicaSet", &rs, false);
    let target = ObjectRef {
        key: rs_rt.key(),
        namespace,
        name,
    };
    set_status(store, &rs_rt, &target, status);
}
