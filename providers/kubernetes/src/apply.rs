//! Applying a planned change: server-side apply for creates and updates, foreground
//! deletion (waiting until the object is gone) for deletes.

use std::time::Duration;

use braid_provider::{ApplyRequest, ApplyResponse, ProviderDiagnostic, Value};
use serde_json::Value as Json;

use crate::cluster::Cluster;
use crate::desired::Desired;
use crate::object::ObjectRef;
use crate::ready::timeout_of;
use crate::ssa::{ApplyFailure, conflict_diagnostic, server_side_apply};
use crate::watch::{Verdict, WaitEnd, wait_for};

/// How long a deletion may take (finalizers, dependents) unless `braid.dev/timeout` says.
pub const DELETE_TIMEOUT: Duration = Duration::from_secs(300);

pub async fn apply(cluster: &Cluster, request: ApplyRequest) -> ApplyResponse {
    match &request.planned {
        None => delete(cluster, request.prior).await,
        Some(_) => create_or_update(cluster, &request).await,
    }
}

async fn create_or_update(cluster: &Cluster, request: &ApplyRequest) -> ApplyResponse {
    let fail = |diagnostic: ProviderDiagnostic| ApplyResponse {
        new_state: request.prior.clone(),
        diagnostics: vec![diagnostic],
    };
    let object = match ObjectRef::from_manifest(&request.config) {
        Ok(object) => object,
        Err(e) => return fail(e.to_diagnostic()),
    };
    // A custom resource planned before its CRD existed is found here: only kinds that were
    // found are cached, so discovery asks the server again.
    let kind = match cluster.kind(&object.gvk()).await {
        Ok(Some(kind)) => kind,
        Ok(None) => {
            return fail(ProviderDiagnostic::error(
                "Kind not served by the cluster",
                format!(
                    "The cluster serves no kind {} in {}. If it comes from a \
                     CustomResourceDefinition, apply the CRD first (braid orders a CRD before \
                     its objects when both are in the plan).",
                    object.kind,
                    object.api_version()
                ),
            ));
        }
        Err(e) => return fail(e.to_diagnostic()),
    };
    let object = object.scoped(kind.namespaced, &cluster.settings.namespace);
    let desired = Desired::new(&request.config, &object);
    if !desired.is_wholly_known() {
        let paths: Vec<String> = desired.unknown.iter().map(ToString::to_string).collect();
        return fail(ProviderDiagnostic::error(
            "Value unknown at apply",
            format!(
                "{object} still has values that are only known after apply at {}; braid cannot \
                 send them to the cluster. This is a bug in braid's ordering.",
                paths.join(", ")
            ),
        ));
    }
    let applied = server_side_apply(
        cluster,
        &kind,
        &object,
        &desired,
        request.prior.as_ref(),
        false,
    )
    .await;
    match applied {
        Ok(live) => ApplyResponse {
            new_state: Some(cluster.state_of(&object, &live, true)),
            diagnostics: Vec::new(),
        },
        Err(ApplyFailure::Conflicts(conflicts)) => fail(conflict_diagnostic(&object, &conflicts)),
        Err(ApplyFailure::Api(error)) => fail(error.to_diagnostic()),
    }
}

async fn delete(cluster: &Cluster, prior: Option<Value>) -> ApplyResponse {
    let Some(prior) = prior else {
        return ApplyResponse::default();
    };
    let fail = |prior: Value, diagnostic: ProviderDiagnostic| ApplyResponse {
        new_state: Some(prior),
        diagnostics: vec![diagnostic],
    };
    let object = match ObjectRef::from_manifest(&prior) {
        Ok(object) => object,
        Err(e) => return fail(prior, e.to_diagnostic()),
    };
    let kind = match cluster.kind(&object.gvk()).await {
        Ok(Some(kind)) => kind,
        // The kind went away (its CRD was deleted), and its objects with it.
        Ok(None) => return ApplyResponse::default(),
        Err(e) => return fail(prior, e.to_diagnostic()),
    };
    let timeout = match timeout_of(&prior) {
        Ok(t) => t.unwrap_or(DELETE_TIMEOUT),
        Err(diagnostic) => return fail(prior, diagnostic),
    };
    match cluster.delete(&kind, &object).await {
        Ok(true) => {}
        Ok(false) => return ApplyResponse::default(),
        Err(e) => return fail(prior, e.to_diagnostic()),
    }
    let waited = wait_for(
        cluster.watch_api(&kind, &object),
        &object.name,
        timeout,
        |live| match live {
            None => Verdict::Done(Json::Null),
            Some(live) => Verdict::Wait(terminating_message(live)),
        },
        |_| {},
    )
    .await;
    match waited {
        Ok(_) => ApplyResponse::default(),
        Err(WaitEnd::Failed(message) | WaitEnd::TimedOut(Some(message))) => fail(
            prior,
            ProviderDiagnostic::error(
                "Deletion did not finish",
                format!(
                    "{object} is still there {} after braid deleted it: {message}. Finalizers \
                     or dependents keep it; check what owns them, or allow longer with the \
                     annotation braid.dev/timeout.",
                    humanize(timeout)
                ),
            ),
        ),
        Err(WaitEnd::TimedOut(None)) => fail(
            prior,
            ProviderDiagnostic::error(
                "Deletion did not finish",
                format!("{object} could not be watched until it was gone."),
            ),
        ),
    }
}

fn terminating_message(live: &Json) -> String {
    let finalizers: Vec<&str> = live
        .pointer("/metadata/finalizers")
        .and_then(Json::as_array)
        .map(|f| f.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    if finalizers.is_empty() {
        "waiting for dependents to be deleted".to_string()
    } else {
        format!("waiting for finalizers {}", finalizers.join(", "))
    }
}

fn humanize(duration: Duration) -> String {
    format!("{}s", duration.as_secs())
}
