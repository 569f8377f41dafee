//! Health after apply, by kstatus rules: rollouts complete, Jobs finished, volumes bound,
//! load balancers addressed, CRDs established, namespaces active.

use std::time::Duration;

use braid_provider::{
    Health, HealthStatus, Progress, ProviderDiagnostic, Value, WaitRequest, WaitResponse,
};
use serde_json::Value as Json;

use crate::cluster::Cluster;
use crate::hooks;
use crate::object::ObjectRef;
use crate::watch::{Verdict, WaitEnd, parse_duration, wait_for};

/// The annotation that overrides the wait timeout of one object (`90s`, `5m`).
pub const TIMEOUT_ANNOTATION: &str = "braid.dev/timeout";

pub async fn wait_ready(
    cluster: &Cluster,
    request: WaitRequest,
    progress: &dyn Progress,
) -> WaitResponse {
    let (after_success, after_failure) = hooks::delete_after(&request.state);
    let address = request.address.clone();
    let recorded = request.state.clone();
    let mut response = wait_for_health(cluster, request, progress).await;
    let failed = !response.diagnostics.is_empty();
    if failed {
        // Run again by the next apply, whether or not the object is kept.
        response.state = Some(hooks::mark_failed(
            response.state.as_ref().unwrap_or(&recorded),
        ));
    }
    if (failed && after_failure) || (!failed && after_success) {
        progress.report(
            &address,
            if failed {
                "failed; deleting it (delete-after: failed)"
            } else {
                "done; deleting it (delete-after: succeeded)"
            },
        );
        if let Err(diagnostic) = delete_object(cluster, &recorded).await {
            response.diagnostics.push(diagnostic);
        }
    }
    response
}

/// Deletes an object whose policy says it goes once it ran.
async fn delete_object(cluster: &Cluster, state: &Value) -> Result<(), ProviderDiagnostic> {
    let object = ObjectRef::from_manifest(state).map_err(|e| e.to_diagnostic())?;
    let Some(kind) = cluster
        .kind(&object.gvk())
        .await
        .map_err(|e| e.to_diagnostic())?
    else {
        return Ok(());
    };
    let object = object.scoped(kind.namespaced, &cluster.settings.namespace);
    cluster
        .delete(&kind, &object)
        .await
        .map(|_| ())
        .map_err(|e| e.to_diagnostic())
}

/// How the object `state` describes is doing now: its kind's readiness rule applied to the
/// live object, once (no waiting).
pub async fn health(cluster: &Cluster, state: &Value) -> Health {
    let unknown = |message: String| Health {
        status: HealthStatus::Unknown,
        message: Some(message),
    };
    let object = match ObjectRef::from_manifest(state) {
        Ok(object) => object,
        Err(e) => return unknown(e.to_diagnostic().detail),
    };
    let kind = match cluster.kind(&object.gvk()).await {
        Ok(Some(kind)) => kind,
        Ok(None) => {
            return Health {
                status: HealthStatus::Missing,
                message: Some(format!(
                    "the cluster does not serve {} {}",
                    object.api_version(),
                    object.kind
                )),
            };
        }
        Err(e) => return unknown(e.to_diagnostic().detail),
    };
    let object = object.scoped(kind.namespaced, &cluster.settings.namespace);
    let live = match cluster.get(&kind, &object).await {
        Ok(Some(live)) => live,
        Ok(None) => {
            return Health {
                status: HealthStatus::Missing,
                message: Some(format!("{object} does not exist")),
            };
        }
        Err(e) => return unknown(e.to_diagnostic().detail),
    };
    if !has_rule(&object) && !kind.has_status {
        return Health {
            status: HealthStatus::Healthy,
            message: None,
        };
    }
    match readiness(&object, Some(&live)) {
        Verdict::Done(_) => Health {
            status: HealthStatus::Healthy,
            message: None,
        },
        Verdict::Wait(message) => Health {
            status: HealthStatus::Progressing,
            message: Some(message),
        },
        Verdict::Fail(message) => Health {
            status: HealthStatus::Degraded,
            message: Some(message),
        },
    }
}

async fn wait_for_health(
    cluster: &Cluster,
    request: WaitRequest,
    progress: &dyn Progress,
) -> WaitResponse {
    let state = request.state;
    let object = match ObjectRef::from_manifest(&state) {
        Ok(object) => object,
        Err(e) => return not_ready(state, e.to_diagnostic()),
    };
    match wait_wanted(&state) {
        Ok(true) => {}
        Ok(false) => return ready_now(state),
        Err(diagnostic) => return not_ready(state, diagnostic),
    }
    let kind = match cluster.kind(&object.gvk()).await {
        Ok(Some(kind)) => kind,
        Ok(None) => {
            let detail = format!(
                "The cluster does not serve {} {} any more, so braid cannot wait for {object}.",
                object.api_version(),
                object.kind
            );
            return not_ready(state, ProviderDiagnostic::error("Kind not served", detail));
        }
        Err(e) => return not_ready(state, e.to_diagnostic()),
    };
    if !has_rule(&object) && !kind.has_status {
        // Nothing reports this kind's health (ConfigMap, Role, …): ready once applied.
        return ready_now(state);
    }
    let timeout = match timeout_of(&state) {
        Ok(annotated) => annotated.unwrap_or(request.timeout),
        Err(diagnostic) => return not_ready(state, diagnostic),
    };
    let api = cluster.watch_api(&kind, &object);
    let address = request.address.clone();
    let waited = wait_for(
        api,
        &object.name,
        timeout,
        |live| readiness(&object, live),
        |message| progress.report(&address, message),
    )
    .await;
    match waited {
        Ok(live) => WaitResponse {
            state: Some(cluster.state_of(&object, &live, true)),
            diagnostics: Vec::new(),
        },
        Err(WaitEnd::Failed(message)) => not_ready(
            state,
            ProviderDiagnostic::error(
                "Kubernetes object failed",
                format!("{object} will not become ready: {message}."),
            ),
        ),
        Err(WaitEnd::TimedOut(last)) => not_ready(
            state,
            ProviderDiagnostic::error(
                "Timed out waiting for readiness",
                format!(
                    "{object} was not ready after {}{}. Check its status and events, or give it \
                     longer with the annotation {TIMEOUT_ANNOTATION} (e.g. \"10m\").",
                    humanize(timeout),
                    last.map(|m| format!(" (last seen: {m})"))
                        .unwrap_or_default()
                ),
            ),
        ),
    }
}

/// The `braid.dev/timeout` annotation, if set.
pub fn timeout_of(state: &Value) -> Result<Option<Duration>, ProviderDiagnostic> {
    match annotation(state, TIMEOUT_ANNOTATION) {
        None => Ok(None),
        Some(text) => parse_duration(text).map(Some).ok_or_else(|| {
            ProviderDiagnostic::error(
                "Invalid timeout annotation",
                format!(
                    "The annotation {TIMEOUT_ANNOTATION} is \"{text}\", which is not a duration. \
                     Use a number with a unit: \"90s\", \"5m\", \"1h\"."
                ),
            )
        }),
    }
}

fn ready_now(state: Value) -> WaitResponse {
    WaitResponse {
        state: Some(state),
        diagnostics: Vec::new(),
    }
}

/// An annotation of the object, when it is a string.
fn annotation<'a>(state: &'a Value, name: &str) -> Option<&'a str> {
    state
        .attr("metadata")
        .and_then(|m| m.attr("annotations"))
        .and_then(|a| a.attr(name))
        .and_then(Value::as_str)
}

fn not_ready(state: Value, diagnostic: ProviderDiagnostic) -> WaitResponse {
    WaitResponse {
        state: Some(state),
        diagnostics: vec![diagnostic],
    }
}

fn humanize(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs >= 60 && secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else if secs > 0 {
        format!("{secs}s")
    } else {
        format!("{}ms", duration.as_millis())
    }
}

/// The annotation that turns the health wait off for one object.
pub const WAIT_ANNOTATION: &str = "braid.dev/wait";

/// Whether braid waits for this object's health: `braid.dev/wait: "false"` says not.
pub fn wait_wanted(state: &Value) -> Result<bool, ProviderDiagnostic> {
    match annotation(state, WAIT_ANNOTATION) {
        None => Ok(true),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(ProviderDiagnostic::error(
            "Invalid wait annotation",
            format!(
                "metadata.annotations[\"{WAIT_ANNOTATION}\"] is \"{other}\"; it takes \"true\" (wait until healthy, the default) or \"false\" (do not wait)."
            ),
        )),
    }
}

fn has_rule(object: &ObjectRef) -> bool {
    // Custom resources follow kstatus' generic rules (conditions, observedGeneration).
    is_custom(object)
        || matches!(
            (object.group.as_str(), object.kind.as_str()),
            (
                "apps",
                "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet"
            ) | ("batch", "Job")
                | (
                    "",
                    "PersistentVolumeClaim" | "Service" | "Namespace" | "Pod"
                )
                | ("apiextensions.k8s.io", "CustomResourceDefinition")
                | ("networking.k8s.io", "Ingress")
        )
}

/// Whether `live` is ready, by the rules of its kind.
pub fn readiness(object: &ObjectRef, live: Option<&Json>) -> Verdict {
    let Some(live) = live else {
        return Verdict::Fail("the object was deleted while braid waited for it".to_string());
    };
    let done = || Verdict::Done(live.clone());
    if let (Some(generation), observed) = (
        int(live, "/metadata/generation"),
        int(live, "/status/observedGeneration"),
    ) && live.pointer("/status/observedGeneration").is_some()
        && observed.unwrap_or(0) < generation
    {
        return Verdict::Wait(format!(
            "waiting for the controller to observe generation {generation}"
        ));
    }
    if is_custom(object) {
        // A custom kind named like a built-in one (`Service`, `Job`) has no built-in rule.
        return generic(live).unwrap_or_else(done);
    }
    match object.kind.as_str() {
        "Deployment" => deployment(live).unwrap_or_else(done),
        "StatefulSet" => replicas(
            live,
            "statefulset rollout",
            "readyReplicas",
            "updatedReplicas",
        )
        .unwrap_or_else(done),
        "ReplicaSet" => {
            replicas(live, "replicas", "readyReplicas", "availableReplicas").unwrap_or_else(done)
        }
        "DaemonSet" => daemon_set(live).unwrap_or_else(done),
        "Job" => job(live).unwrap_or_else(done),
        "PersistentVolumeClaim" => match text(live, "/status/phase") {
            Some("Bound") => done(),
            Some("Lost") => Verdict::Fail("the claim lost its volume".to_string()),
            phase => Verdict::Wait(format!(
                "waiting for the volume to be bound (phase {})",
                phase.unwrap_or("Pending")
            )),
        },
        "Service" => {
            let ingress = live
                .pointer("/status/loadBalancer/ingress")
                .and_then(Json::as_array)
                .is_some_and(|i| !i.is_empty());
            if text(live, "/spec/type") != Some("LoadBalancer") || ingress {
                done()
            } else {
                Verdict::Wait("waiting for the load balancer address".to_string())
            }
        }
        "Ingress" => {
            let address = live
                .pointer("/status/loadBalancer/ingress")
                .and_then(Json::as_array)
                .is_some_and(|i| !i.is_empty());
            if address {
                done()
            } else {
                Verdict::Wait("waiting for the ingress controller to give an address".to_string())
            }
        }
        "Namespace" => match text(live, "/status/phase") {
            Some("Active") | None => done(),
            Some(phase) => Verdict::Wait(format!("waiting for the namespace (phase {phase})")),
        },
        "Pod" => match text(live, "/status/phase") {
            Some("Succeeded") => done(),
            Some("Failed") => Verdict::Fail("the pod failed".to_string()),
            _ if condition(live, "Ready").is_some_and(|c| c["status"] == "True") => done(),
            phase => Verdict::Wait(format!(
                "waiting for the pod (phase {})",
                phase.unwrap_or("Pending")
            )),
        },
        "CustomResourceDefinition" => {
            if condition(live, "Established").is_some_and(|c| c["status"] == "True") {
                done()
            } else if let Some(c) =
                condition(live, "NamesAccepted").filter(|c| c["status"] == "False")
            {
                Verdict::Fail(format!(
                    "names not accepted: {}",
                    c["message"].as_str().unwrap_or("")
                ))
            } else {
                Verdict::Wait("waiting for the CRD to be established".to_string())
            }
        }
        _ => generic(live).unwrap_or_else(done),
    }
}

/// Whether the object's kind is a custom resource (its group is not Kubernetes' own).
fn is_custom(object: &ObjectRef) -> bool {
    const BUILT_IN: &[&str] = &[
        "",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "apps",
        "autoscaling",
        "batch",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "resource.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
    ];
    !BUILT_IN.contains(&object.group.as_str())
}

/// kstatus' rules for a kind without its own: `Stalled=True` has failed, `Reconciling=True`
/// is in progress, a `Ready` condition must be `True`; an object without such conditions
/// (or without status) is ready once its controller observed its generation (checked before).
fn generic(live: &Json) -> Option<Verdict> {
    let is_true = |c: &Json| c["status"] == "True";
    let detail = |c: &Json| {
        let reason = c["reason"].as_str().unwrap_or("");
        let message = c["message"].as_str().unwrap_or("");
        match (reason.is_empty(), message.is_empty()) {
            (false, false) => format!("{reason}: {message}"),
            (false, true) => reason.to_string(),
            (true, false) => message.to_string(),
            (true, true) => "no reason given".to_string(),
        }
    };
    if let Some(c) = condition(live, "Stalled").filter(|c| is_true(c)) {
        return Some(Verdict::Fail(format!("stalled: {}", detail(c))));
    }
    if let Some(c) = condition(live, "Reconciling").filter(|c| is_true(c)) {
        return Some(Verdict::Wait(format!("reconciling: {}", detail(c))));
    }
    match condition(live, "Ready") {
        Some(c) if !is_true(c) => Some(Verdict::Wait(format!("not ready: {}", detail(c)))),
        _ => None,
    }
}

fn deployment(live: &Json) -> Option<Verdict> {
    if let Some(c) = condition(live, "Progressing")
        && c["reason"] == "ProgressDeadlineExceeded"
    {
        return Some(Verdict::Fail(format!(
            "rollout failed: ProgressDeadlineExceeded: {}",
            c["message"]
                .as_str()
                .unwrap_or("the rollout made no progress in time")
        )));
    }
    let desired = int(live, "/spec/replicas").unwrap_or(1);
    let updated = int(live, "/status/updatedReplicas").unwrap_or(0);
    let total = int(live, "/status/replicas").unwrap_or(0);
    let available = int(live, "/status/availableReplicas").unwrap_or(0);
    if updated < desired {
        return Some(Verdict::Wait(format!(
            "waiting for rollout: {updated}/{desired} updated"
        )));
    }
    if total > updated {
        return Some(Verdict::Wait(format!(
            "waiting for rollout: {} old replicas pending termination",
            total - updated
        )));
    }
    (available < desired).then(|| {
        Verdict::Wait(format!(
            "waiting for rollout: {available}/{desired} available"
        ))
    })
}

fn replicas(live: &Json, what: &str, ready_field: &str, updated_field: &str) -> Option<Verdict> {
    let desired = int(live, "/spec/replicas").unwrap_or(1);
    let ready = int(live, &format!("/status/{ready_field}")).unwrap_or(0);
    let updated = int(live, &format!("/status/{updated_field}")).unwrap_or(0);
    let on_delete = text(live, "/spec/updateStrategy/type") == Some("OnDelete");
    if !on_delete && updated < desired {
        return Some(Verdict::Wait(format!(
            "waiting for {what}: {updated}/{desired} updated"
        )));
    }
    (ready < desired).then(|| Verdict::Wait(format!("waiting for {what}: {ready}/{desired} ready")))
}

fn daemon_set(live: &Json) -> Option<Verdict> {
    let desired = int(live, "/status/desiredNumberScheduled").unwrap_or(0);
    let updated = int(live, "/status/updatedNumberScheduled").unwrap_or(0);
    let available = int(live, "/status/numberAvailable").unwrap_or(0);
    if updated < desired {
        return Some(Verdict::Wait(format!(
            "waiting for daemon set rollout: {updated}/{desired} updated"
        )));
    }
    (available < desired).then(|| {
        Verdict::Wait(format!(
            "waiting for daemon set rollout: {available}/{desired} available"
        ))
    })
}

fn job(live: &Json) -> Option<Verdict> {
    if condition(live, "Complete").is_some_and(|c| c["status"] == "True") {
        return None;
    }
    if let Some(c) = condition(live, "Failed").filter(|c| c["status"] == "True") {
        return Some(Verdict::Fail(format!(
            "job failed: {}: {}",
            c["reason"].as_str().unwrap_or("Failed"),
            c["message"].as_str().unwrap_or("")
        )));
    }
    Some(Verdict::Wait(format!(
        "waiting for the job to complete: {} succeeded, {} active",
        int(live, "/status/succeeded").unwrap_or(0),
        int(live, "/status/active").unwrap_or(0)
    )))
}

fn condition<'a>(live: &'a Json, kind: &str) -> Option<&'a Json> {
    live.pointer("/status/conditions")
        .and_then(Json::as_array)?
        .iter()
        .find(|c| c["type"] == kind)
}

fn int(live: &Json, pointer: &str) -> Option<i64> {
    live.pointer(pointer).and_then(Json::as_i64)
}

fn text<'a>(live: &'a Json, pointer: &str) -> Option<&'a str> {
    live.pointer(pointer).and_then(Json::as_str)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn deployment_ref() -> ObjectRef {
        ObjectRef::parse_id("apps/v1/Deployment/shop/web")
            .expect("valid")
            .0
    }

    #[test]
    fn deployment_rollout_progress_and_failure() {
        let object = deployment_ref();
        let rolling = json!({"metadata": {"generation": 2}, "spec": {"replicas": 3},
            "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 1}});
        assert_eq!(
            readiness(&object, Some(&rolling)),
            Verdict::Wait("waiting for rollout: 1/3 available".to_string())
        );
        let stale = json!({"metadata": {"generation": 3}, "status": {"observedGeneration": 2}});
        assert!(matches!(readiness(&object, Some(&stale)), Verdict::Wait(_)));
        let failed = json!({"metadata": {"generation": 1}, "spec": {"replicas": 1},
            "status": {"observedGeneration": 1, "conditions": [
                {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "timed out"}]}});
        assert!(
            matches!(readiness(&object, Some(&failed)), Verdict::Fail(m) if m.contains("ProgressDeadlineExceeded"))
        );
        assert!(matches!(readiness(&object, None), Verdict::Fail(_)));
    }

    #[test]
    fn timeout_annotation_overrides() {
        let state = Value::map([(
            "metadata",
            Value::map([(
                "annotations",
                Value::map([(TIMEOUT_ANNOTATION, Value::from("90s"))]),
            )]),
        )]);
        assert_eq!(
            timeout_of(&state).ok().flatten(),
            Some(Duration::from_secs(90))
        );
    }
}
