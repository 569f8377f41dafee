//! The write of an import: conflicts with what state holds, then the records in one
//! audited transaction and the outputs merged over those kept. The caller holds the lock.

use std::collections::{BTreeMap, BTreeSet};

use braid_state::{
    ChangeAction, ChangeOutcome, ChangeSummary, NewApply, OutputRecord, ResourceRecord,
    ResourceWrite, StateStore,
};

use super::{OPERATION, TerraformState};
use crate::apply::audit;
use crate::diag::{Diagnostic, Diagnostics, state_error};
use crate::workspace::Workspace;

/// The addresses (and `output.NAME`s) state already holds; an error listing them unless
/// `force`.
pub(super) async fn conflicts(
    store: &dyn StateStore,
    imported: &[ResourceRecord],
    outputs: &[OutputRecord],
    force: bool,
) -> Result<Vec<String>, Diagnostics> {
    let existing: BTreeSet<String> = store
        .resources()
        .await
        .map_err(state_error)?
        .into_iter()
        .map(|r| r.address)
        .collect();
    let existing_outputs: BTreeSet<String> = store
        .outputs()
        .await
        .map_err(state_error)?
        .into_iter()
        .map(|o| o.name)
        .collect();
    let found: Vec<String> = imported
        .iter()
        .filter(|r| existing.contains(&r.address))
        .map(|r| r.address.clone())
        .chain(
            outputs
                .iter()
                .filter(|o| existing_outputs.contains(&o.name))
                .map(|o| format!("output.{}", o.name)),
        )
        .collect();
    if found.is_empty() || force {
        return Ok(found);
    }
    Err(Diagnostic::error(
        "Addresses already in state",
        format!(
            "The environment's state already holds {}, which the Terraform state has too, so nothing was imported. Remove them first (braid state rm ADDRESS) if the Terraform state is right about them, or replace them with --force.",
            found.join(", ")
        ),
    )
    .into())
}

/// The resources as one audited write, then the outputs (merged over those kept); returns
/// the new serial. The caller holds the lock.
pub(super) async fn write(
    ws: &Workspace,
    store: &dyn StateStore,
    state: &TerraformState,
    imported: Vec<ResourceRecord>,
    outputs: Vec<OutputRecord>,
) -> Result<u64, Diagnostics> {
    let apply = NewApply {
        env: ws.env_name.clone(),
        actor: crate::actor::actor(&ws.project.dir),
        operation: OPERATION.to_string(),
        sources: ws.sources.iter().map(|s| s.revision.clone()).collect(),
        rollback_of: None,
        started_at: chrono::Utc::now(),
        note: None,
    };
    let summary = ChangeSummary {
        import: u32::try_from(imported.len()).unwrap_or(u32::MAX),
        ..ChangeSummary::default()
    };
    let message = format!(
        "imported from Terraform state (lineage {}, serial {}) by braid state import-terraform",
        state.lineage, state.serial
    );
    if !imported.is_empty() {
        audit::audited_write(store, apply, summary, |apply_id| {
            imported
                .into_iter()
                .map(|record| {
                    let change = audit::change_record(
                        &record.address,
                        ChangeAction::Import,
                        ChangeOutcome::Applied,
                        Some(message.clone()),
                    );
                    ResourceWrite {
                        address: record.address.clone(),
                        record: Some(record),
                        change: Some((apply_id, change)),
                    }
                })
                .collect()
        })
        .await?;
    }
    let serial = store.meta().await.map_err(state_error)?.serial;
    if !outputs.is_empty() {
        let mut merged: BTreeMap<String, OutputRecord> = store
            .outputs()
            .await
            .map_err(state_error)?
            .into_iter()
            .map(|o| (o.name.clone(), o))
            .collect();
        merged.extend(outputs.into_iter().map(|o| (o.name.clone(), o)));
        store
            .replace_outputs(serial, merged.into_values().collect())
            .await
            .map_err(state_error)?;
    }
    Ok(serial)
}
