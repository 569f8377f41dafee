//! `braid state mv` and `braid state import`: edits of state that keep the audit log and
//! take the environment's lock like every other write.

use braid_provider::{ImportRequest, Path};
use braid_state::{
    ChangeAction, ChangeOutcome, ChangeRecord, ChangeSummary, NewApply, ResourceRecord,
    ResourceWrite, StateStore,
};
use chrono::Utc;

use super::Context;
use super::locking::locked;
use crate::apply::audit;
use crate::diag::from_provider;
use crate::diag::state_error;
use crate::diag::{Diagnostic, Diagnostics};
use crate::workspace::Workspace;

/// Runs `writes` as one audited operation under the lock: an audit entry named after
/// `operation`, the writes in one transaction, and the lock released whatever happens.
pub(super) async fn audited_write(
    cx: &Context,
    ws: &Workspace,
    store: &dyn StateStore,
    operation: &str,
    writes: impl FnOnce(i64) -> Vec<ResourceWrite>,
) -> Result<(), Diagnostics> {
    let apply = NewApply {
        env: ws.env_name.clone(),
        actor: crate::actor::actor(&ws.project.dir),
        operation: operation.to_string(),
        sources: ws.sources.iter().map(|s| s.revision.clone()).collect(),
        rollback_of: None,
        started_at: Utc::now(),
        note: None,
    };
    locked(
        cx,
        store,
        operation,
        audit::audited_write(store, apply, ChangeSummary::default(), writes),
    )
    .await
}

fn change(
    apply_id: i64,
    address: &str,
    action: ChangeAction,
    message: String,
) -> Option<(i64, ChangeRecord)> {
    Some((
        apply_id,
        ChangeRecord {
            address: address.to_string(),
            action,
            outcome: ChangeOutcome::Applied,
            message: Some(message),
            at: Utc::now(),
        },
    ))
}

/// Renames a resource in state (after renaming it in configuration), so braid neither
/// deletes the old address nor creates the new one.
pub async fn move_resource(
    cx: &Context,
    ws: &Workspace,
    store: &dyn StateStore,
    from: &str,
    to: &str,
) -> Result<(), Diagnostics> {
    // A Kubernetes object's address is its identity (kind, namespace, name), not a name.
    if from.starts_with("k8s/") || to.starts_with("k8s/") {
        return Err(Diagnostic::error(
            "Cannot move a Kubernetes object",
            "A Kubernetes object's address is made from its kind, namespace and name, so it cannot be renamed in state. Change the manifest instead: braid deletes the old object and creates the new one.",
        )
        .into());
    }
    let modules = crate::config::is_module_address(from);
    if modules != crate::config::is_module_address(to) {
        return Err(Diagnostic::error(
            "Invalid move",
            format!("Cannot move {from} to {to}: a module moves only to a module (module.a to module.b), and a resource only to a resource."),
        )
        .into());
    }
    // Every record to move, with its new address: one for a resource, all of a module's.
    let moves: Vec<(ResourceRecord, String)> = if modules {
        store
            .resources()
            .await
            .map_err(state_error)?
            .into_iter()
            .filter_map(|r| {
                let rest = r.address.strip_prefix(from)?;
                // An instance moves its resources; a call without key moves every
                // instance to the same key.
                let moves = rest.starts_with('.')
                    || (crate::config::within_module(&r.address, from)
                        && crate::config::split_instance_address(to).1.is_none());
                if !moves {
                    return None;
                }
                let to_address = format!("{to}{rest}");
                Some((r, to_address))
            })
            .collect()
    } else {
        store
            .resource(from)
            .await
            .map_err(state_error)?
            .map(|r| (r, to.to_string()))
            .into_iter()
            .collect()
    };
    if moves.is_empty() {
        return Err(Diagnostic::error(
            "No such resource in state",
            format!("State has no resource {from}. List them with: braid state list"),
        )
        .into());
    }
    for (_, to_address) in &moves {
        if store
            .resource(to_address)
            .await
            .map_err(state_error)?
            .is_some()
        {
            return Err(Diagnostic::error(
                "Destination already in state",
                format!("State already has a resource at {to_address}. Remove it first (braid state rm {to_address}) or choose another address."),
            )
            .into());
        }
    }
    audited_write(cx, ws, store, "state mv", |apply_id| {
        moves
            .into_iter()
            .flat_map(|(record, to_address)| {
                let from_address = record.address.clone();
                [
                    ResourceWrite {
                        address: from_address.clone(),
                        record: None,
                        change: change(
                            apply_id,
                            &from_address,
                            ChangeAction::Move,
                            format!("moved to {to_address} by braid state mv"),
                        ),
                    },
                    ResourceWrite {
                        address: to_address.clone(),
                        change: change(
                            apply_id,
                            &to_address,
                            ChangeAction::Move,
                            format!("moved from {from_address} by braid state mv"),
                        ),
                        record: Some(ResourceRecord {
                            address: to_address.clone(),
                            ..record
                        }),
                    },
                ]
            })
            .collect()
    })
    .await
}

/// Adopts an existing object into state under an address declared in configuration, as
/// `terraform import` does. The next plan shows any difference to the configuration.
pub async fn import_resource(
    cx: &Context,
    ws: &Workspace,
    store: &dyn StateStore,
    address: &str,
    id: &str,
) -> Result<(), Diagnostics> {
    let Some(decl) = ws.module.resources.get(address) else {
        return Err(Diagnostic::error(
            "Resource not in configuration",
            format!("{address} is not declared. Write its resource block (or manifest) first, then import the existing object into it."),
        )
        .into());
    };
    if store
        .resource(address)
        .await
        .map_err(state_error)?
        .is_some()
    {
        return Err(Diagnostic::error(
            "Resource already managed",
            format!("{address} is already in state. Remove it first with braid state rm {address} to import another object."),
        )
        .into());
    }
    let records = store.resources().await.map_err(state_error)?;
    let providers = ws
        .providers_with_plugins(&cx.registry, records.into_iter().map(|r| r.provider))
        .await?;
    ws.configure(&providers).await?;
    let provider = providers.get(&decl.provider).ok_or_else(|| {
        Diagnostic::error(
            "Provider not available",
            format!("No provider \"{}\" is configured.", decl.provider),
        )
    })?;
    let call = provider.import(ImportRequest {
        address: address.to_string(),
        type_name: decl.type_name.clone(),
        id: id.to_string(),
    });
    let response =
        crate::providers::bounded(crate::providers::Call::Apply, &decl.provider, address, call)
            .await?;
    let mut diags = Diagnostics::new();
    for d in response.diagnostics {
        diags.push(from_provider(d, Some(decl.location.clone()), address));
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let Some(state) = response.state else {
        return Err(Diagnostic::error(
            "Object not found",
            format!(
                "The {} provider found no {} with id \"{id}\" to import.",
                decl.provider, decl.type_name
            ),
        )
        .into());
    };
    let sensitive: Vec<Path> = providers
        .type_schema(decl)
        .map(|s| s.sensitive_attributes().map(Path::key).collect())
        .unwrap_or_default();
    let dependencies = ws
        .dependencies()
        .remove(address)
        .map(|d| d.iter().cloned().collect())
        .unwrap_or_default();
    let record = ResourceRecord {
        address: address.to_string(),
        provider: decl.provider.clone(),
        type_name: decl.type_name.clone(),
        id: state
            .attr("id")
            .and_then(braid_provider::Value::as_str)
            .map(str::to_string),
        attributes: state,
        sensitive_paths: sensitive,
        dependencies,
        source_file: Some(decl.source_file()),
        meta: providers.object_meta(&decl.provider, address),
    };
    audited_write(cx, ws, store, "state import", |apply_id| {
        vec![ResourceWrite {
            address: address.to_string(),
            record: Some(record),
            change: change(
                apply_id,
                address,
                ChangeAction::Import,
                format!("imported id {id} by braid state import"),
            ),
        }]
    })
    .await
}
