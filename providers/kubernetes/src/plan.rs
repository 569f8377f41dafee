//! Planning a manifest: a server-side apply dry-run against the live object, projected onto
//! the fields braid would own.

use braid_provider::{Path, PlanRequest, PlanResponse, ProviderDiagnostic, Value};

use crate::cluster::{Cluster, planned_from_manifest};
use crate::desired::Desired;
use crate::error::KubeError;
use crate::hooks;
use crate::object::ObjectRef;
use crate::ssa::{ApplyFailure, conflict_diagnostic, dotted_path, server_side_apply};

pub async fn plan(cluster: &Cluster, request: &PlanRequest) -> PlanResponse {
    let object = match ObjectRef::from_manifest(&request.config) {
        Ok(object) => object,
        Err(e) => return failed(e.to_diagnostic(), &request.config),
    };
    // braid's own annotations are checked now, not after the object was written.
    if let Err(diagnostic) = crate::ready::timeout_of(&request.config)
        .and_then(|_| crate::ready::wait_wanted(&request.config))
    {
        return failed(diagnostic, &request.config);
    }
    let kind = match cluster.kind(&object.gvk()).await {
        Ok(kind) => kind,
        Err(e) => return failed(e.to_diagnostic(), &request.config),
    };
    let Some(kind) = kind else {
        // Not served yet: a custom resource whose CRD is applied earlier in the same run.
        // The server cannot dry-run it, so the manifest is the plan; apply discovers the kind
        // again.
        let desired = Desired::new(&request.config, &object);
        return PlanResponse {
            planned: planned_from_manifest(&object, &desired.value),
            sensitive: sensitive_paths(&object, &desired.value, &request.config),
            ..PlanResponse::default()
        };
    };
    let object = object.scoped(kind.namespaced, &cluster.settings.namespace);
    let desired = Desired::new(&request.config, &object);
    let sensitive = sensitive_paths(&object, &desired.value, &request.config);
    let from_manifest = planned_from_manifest(&object, &desired.value);
    // Whether the object exists: what this run's refresh found, for a recorded object (as
    // Terraform plans from refreshed state), else asked now — with the object itself, which
    // adoption needs when nothing is recorded.
    let refreshed = match request.prior {
        Some(_) => cluster.take_refreshed(&object),
        None => None,
    };
    let (exists, live) = match refreshed {
        Some(exists) => (exists, None),
        None => match cluster.get(&kind, &object).await {
            Ok(live) => (live.is_some(), live),
            Err(e) => return failed(e.to_diagnostic(), &from_manifest),
        },
    };
    if !exists
        && let Some(prior) = &request.prior
        && hooks::deletes_itself(prior)
        && !hooks::token_changed(prior, &request.config)
    {
        // Deleted by its own policy after it ran: nothing to do until its token changes.
        return PlanResponse {
            planned: prior.clone(),
            sensitive,
            ..PlanResponse::default()
        };
    }
    let mut response = PlanResponse {
        planned: from_manifest,
        sensitive,
        ..PlanResponse::default()
    };
    let recreate = request
        .prior
        .as_ref()
        .is_some_and(|prior| hooks::token_changed(prior, &request.config));
    let dry_run = server_side_apply(
        cluster,
        &kind,
        &object,
        &desired,
        request.prior.as_ref(),
        true,
    )
    .await;
    match dry_run {
        Ok(_) if recreate => {
            // Its token changed: replaced, so planned as a new object (its uid unknown).
            response.requires_replace.push(hooks::token_path());
        }
        Ok(result) => {
            response.planned = cluster
                .state_of(&object, &result, exists)
                .with_unknowns(&desired.unknown);
            if request.prior.is_none()
                && let Some(live) = &live
            {
                response.existing = Some(cluster.adoptable_state(&object, live, &result));
            }
        }
        Err(ApplyFailure::Conflicts(conflicts)) => {
            response
                .diagnostics
                .push(conflict_diagnostic(&object, &conflicts));
            if request.prior.is_none()
                && let Some(live) = &live
            {
                // Only what braid already owns: adopting does not settle the conflict.
                response.existing = Some(cluster.state_of(&object, live, true));
            }
        }
        Err(ApplyFailure::Api(error)) => {
            let immutable = immutable_fields(&error);
            if exists && !immutable.is_empty() {
                response.requires_replace = immutable;
            } else if !exists && error.is_not_found() {
                // The namespace does not exist yet (it is created earlier in this run).
            } else if error.is_invalid() && !desired.is_wholly_known() {
                // Leaving unknown values out made the dry-run body invalid; the manifest is
                // checked again at apply, when every value is known.
            } else {
                response.diagnostics.push(invalid_diagnostic(&error));
            }
            if request.prior.is_none()
                && let Some(live) = &live
            {
                response.existing = Some(cluster.state_of(&object, live, true));
            }
        }
    }
    response
}

/// Paths of a Secret's values: masked in every view.
fn sensitive_paths(object: &ObjectRef, planned: &Value, config: &Value) -> Vec<Path> {
    if !(object.group.is_empty() && object.kind == "Secret") {
        return Vec::new();
    }
    let mut paths = Vec::new();
    if planned.attr("data").is_some() || config.attr("data").is_some() {
        paths.push(Path::key("data"));
    }
    if config.attr("stringData").is_some() {
        paths.push(Path::key("stringData"));
    }
    paths
}

/// Fields a 422 answer calls immutable (`spec.selector`).
fn immutable_fields(error: &KubeError) -> Vec<Path> {
    let Some(status) = error.status().filter(|s| s.code == 422) else {
        return Vec::new();
    };
    let causes = status.details.iter().flat_map(|d| d.causes.iter());
    let mut paths: Vec<Path> = causes
        .filter(|c| c.message.contains("immutable"))
        .filter_map(|c| dotted_path(&c.field))
        .collect();
    if paths.is_empty() && status.message.contains("field is immutable") {
        paths.push(Path::root());
    }
    paths.dedup();
    paths
}

/// A rejected dry-run, pointing at the first field the server names.
fn invalid_diagnostic(error: &KubeError) -> ProviderDiagnostic {
    let diagnostic = error.to_diagnostic();
    let field = error
        .status()
        .and_then(|s| s.details.as_ref())
        .and_then(|d| d.causes.first())
        .and_then(|c| dotted_path(&c.field));
    match field {
        Some(path) => diagnostic.at(path),
        None => diagnostic,
    }
}

fn failed(diagnostic: ProviderDiagnostic, planned: &Value) -> PlanResponse {
    PlanResponse {
        planned: planned.clone(),
        diagnostics: vec![diagnostic],
        ..PlanResponse::default()
    }
}
