//! The audit log side of every write: an apply record opened before the first change and
//! closed with the counts after the last, one change record per resource, and the closing of
//! entries left open by a run that died.

use braid_state::{
    ApplyId, ApplyOutcome, ChangeAction, ChangeOutcome, ChangeRecord, ChangeSummary, NewApply,
    ResourceWrite, StateStore,
};
use chrono::Utc;

use crate::diag::{Diagnostics, state_error};
use crate::plan::Action;

/// Opens the audit entry of an operation.
pub async fn begin(store: &dyn StateStore, apply: NewApply) -> Result<ApplyId, Diagnostics> {
    let id = store.begin_apply(apply).await.map_err(state_error)?;
    tracing::debug!(apply_id = id, "audit entry opened");
    Ok(id)
}

/// Closes the audit entry `id` with its counts and outcome.
pub async fn finish(
    store: &dyn StateStore,
    id: ApplyId,
    summary: ChangeSummary,
    outcome: ApplyOutcome,
) -> Result<(), Diagnostics> {
    store
        .finish_apply(id, summary, outcome)
        .await
        .map_err(state_error)?;
    tracing::debug!(apply_id = id, ?outcome, "audit entry closed");
    Ok(())
}

/// The audit log's name for a planned action.
pub fn audit_action(action: Action) -> ChangeAction {
    match action {
        Action::Create => ChangeAction::Create,
        Action::Update => ChangeAction::Update,
        Action::Replace => ChangeAction::Replace,
        Action::Delete => ChangeAction::Delete,
        Action::NoOp | Action::Read => ChangeAction::NoOp,
        Action::Import => ChangeAction::Import,
        Action::Forget => ChangeAction::Forget,
    }
}

/// The audit record of one change.
pub fn change_record(
    address: &str,
    action: ChangeAction,
    outcome: ChangeOutcome,
    message: Option<String>,
) -> ChangeRecord {
    ChangeRecord {
        address: address.to_string(),
        action,
        outcome,
        message,
        at: Utc::now(),
    }
}

/// Holding the lock means no other writer of this environment runs, so an audit entry still
/// marked running belongs to a process that died: it is closed as failed, with the counts of
/// what it recorded, so history never shows a dead apply as running.
pub async fn close_interrupted(store: &dyn StateStore) -> Result<(), Diagnostics> {
    for apply in store.applies(50).await.map_err(state_error)? {
        if apply.outcome != ApplyOutcome::Running {
            continue;
        }
        let mut summary = ChangeSummary::default();
        for change in store.changes(apply.id).await.map_err(state_error)? {
            match (change.outcome, change.action) {
                (ChangeOutcome::Failed, _) => summary.failed += 1,
                (ChangeOutcome::Skipped, _) => summary.skipped += 1,
                (ChangeOutcome::Applied, ChangeAction::Create) => summary.create += 1,
                (ChangeOutcome::Applied, ChangeAction::Update) => summary.update += 1,
                (ChangeOutcome::Applied, ChangeAction::Replace) => summary.replace += 1,
                (ChangeOutcome::Applied, ChangeAction::Delete) => summary.delete += 1,
                (ChangeOutcome::Applied, ChangeAction::Import) => summary.import += 1,
                (ChangeOutcome::Applied, _) => {}
            }
        }
        tracing::info!(
            apply_id = apply.id,
            "closing the audit entry of an interrupted run"
        );
        finish(store, apply.id, summary, ApplyOutcome::Failed).await?;
    }
    Ok(())
}

/// An edit of state (`state rm`, `mv`, `import`) as one audited operation: an audit entry
/// named after `apply.operation`, the writes in one transaction, the entry closed with the
/// outcome. The caller holds the lock.
pub async fn audited_write(
    store: &dyn StateStore,
    apply: NewApply,
    summary: ChangeSummary,
    writes: impl FnOnce(ApplyId) -> Vec<ResourceWrite>,
) -> Result<(), Diagnostics> {
    let id = begin(store, apply).await?;
    let serial = store.meta().await.map_err(state_error)?.serial;
    let written = store.commit_resources(serial, writes(id)).await;
    let outcome = match &written {
        Ok(_) => ApplyOutcome::Succeeded,
        Err(_) => ApplyOutcome::Failed,
    };
    let finished = finish(store, id, summary, outcome).await;
    written.map_err(state_error)?;
    finished
}
