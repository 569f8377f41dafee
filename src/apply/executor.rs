//! The per-change state machine of an apply: each change is re-planned with known values,
//! checked against what was reviewed, applied, waited for, and committed to state, in the
//! order [`order`](super::order) gives. Locking, the audit log and freshness checks are in
//! their own modules; [`apply_plan`] puts them together.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use braid_provider::{ApplyRequest, Path, Progress, ReadRequest, Value, WaitRequest};
use braid_state::{
    ApplyId, ApplyOutcome, ChangeOutcome, ChangeRecord, ChangeSummary, NewApply, OutputRecord,
    ResourceRecord, ResourceWrite, StateStore,
};
use chrono::Utc;

use super::cancel::CancelToken;
use super::consistency::mismatches;
use super::freshness::check_fresh;
use super::lock::{LockSettings, with_lock};
use super::order::{apply_dag, priorities};
use super::writer::StateWriter;
use super::{ApplyObserver, ApplyReport, ChangeResult, audit};
use crate::config::ResourceDecl;
use crate::diag::{Diagnostic, Diagnostics, state_error};
use crate::graph::{WalkOutcome, walk_with_slots};
use crate::plan::planner::{PlannedResource, import_object, plan_resource, read_data_source};
use crate::plan::sensitivity;
use crate::plan::{Action, DriftKind, EvalScope, OutputValue, Plan, PlanMode, ResourceChange};
use crate::providers::{Call, Providers, bounded};
use crate::workspace::Workspace;

/// How to carry out a plan.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// How many changes run at once.
    pub parallelism: usize,
    /// `apply`, `destroy` or `rollback`, for the audit log and the lock.
    pub operation: String,
    /// The apply a rollback returns to.
    pub rollback_of: Option<ApplyId>,
    /// How long to wait for an object to become ready.
    pub ready_timeout: Duration,
    /// How to take and keep the environment's lock.
    pub lock: LockSettings,
    /// Raised to stop: changes in flight finish and are recorded, nothing new starts.
    pub cancel: CancelToken,
    /// Recorded with the apply in the audit log: why a rule was set aside.
    pub note: Option<String>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 16,
            operation: "apply".to_string(),
            rollback_of: None,
            ready_timeout: Duration::from_secs(300),
            lock: LockSettings::default(),
            cancel: CancelToken::new(),
            note: None,
        }
    }
}

/// A recovering task panicked while holding the results lock.
const POISONED: &str = "an apply task panicked while recording its result";

tokio::task_local! {
    /// The parallelism slot of the change this task applies; taken (given back) by its last
    /// state write.
    static SLOT: std::cell::RefCell<Option<tokio::sync::OwnedSemaphorePermit>>;
}

/// Applies `plan`: takes the environment's lock, checks the plan is not stale, walks the
/// changes, and records everything in the audit log.
pub async fn apply_plan(
    ws: &Workspace,
    providers: &Providers,
    store: Arc<dyn StateStore>,
    plan: &Plan,
    options: &ApplyOptions,
    observer: &dyn ApplyObserver,
) -> Result<ApplyReport, Diagnostics> {
    let request = crate::actor::lock_request(&options.operation, &ws.project.dir);
    with_lock(
        store.as_ref(),
        request,
        &options.lock,
        observer,
        apply_plan_locked(ws, providers, &store, plan, options, observer),
    )
    .await
}

/// [`apply_plan`] for a caller that holds the environment's lock already (an apply that
/// took it before planning, so nobody can change state between its plan and its changes).
pub async fn apply_plan_locked(
    ws: &Workspace,
    providers: &Providers,
    store: &Arc<dyn StateStore>,
    plan: &Plan,
    options: &ApplyOptions,
    observer: &dyn ApplyObserver,
) -> Result<ApplyReport, Diagnostics> {
    let meta = store.meta().await.map_err(state_error)?;
    check_fresh(ws, plan, &meta)?;
    audit::close_interrupted(store.as_ref()).await?;
    let apply_id = audit::begin(
        store.as_ref(),
        NewApply {
            env: ws.env_name.clone(),
            actor: crate::actor::actor(&ws.project.dir),
            operation: options.operation.clone(),
            sources: plan.sources.clone(),
            rollback_of: options.rollback_of,
            started_at: Utc::now(),
            note: options.note.clone(),
        },
    )
    .await?;
    let serial = move_records(ws, store.as_ref(), providers, plan, apply_id, meta.serial).await?;
    let records: HashMap<String, ResourceRecord> = store
        .resources()
        .await
        .map_err(state_error)?
        .into_iter()
        .map(|r| (r.address.clone(), r))
        .collect();
    let executor = Executor {
        ws,
        providers,
        plan,
        store: store.as_ref(),
        scope: EvalScope::new(&ws.module, &ws.variables, &ws.env_name).applying(plan.created_at),
        writer: StateWriter::start(Arc::clone(store), serial),
        apply_id,
        observer,
        drifted: plan
            .drift
            .iter()
            .filter(|d| d.kind == DriftKind::Changed)
            .map(|d| d.address.as_str())
            .collect(),
        results: Mutex::new(Vec::new()),
        errors: Mutex::new(Vec::new()),
        cancelled: Mutex::new(HashSet::new()),
        options,
        records,
    };
    executor.forget_vanished().await;
    let dag = apply_dag(&plan.changes, &executor.records);
    let priority = priorities(&plan.changes, providers);
    observer.applying(
        plan.changes
            .iter()
            .filter(|c| !matches!(c.action, Action::NoOp | Action::Read))
            .count(),
    );
    // `parallelism` bounds the changes working with their providers; a change waiting for
    // its last state write to be durable gives its slot to the next one, so results arrive
    // while a commit is in flight and go into the next one together.
    let slots = Arc::new(tokio::sync::Semaphore::new(options.parallelism.max(1)));
    let walk = walk_with_slots(&dag, slots, &priority, |i, slot| {
        SLOT.scope(std::cell::RefCell::new(Some(slot)), executor.visit(i))
    });
    // On interrupt nothing new starts (visit checks the token); the providers are asked to
    // cut their calls in flight short, as Terraform sends StopProvider, so a long create
    // ends soon with whatever exists recorded.
    let stop = async {
        options.cancel.cancelled().await;
        providers.stop_all().await;
        std::future::pending::<()>().await;
    };
    let outcomes = tokio::select! {
        outcomes = walk => outcomes,
        () = stop => unreachable!("stopping never finishes"),
    };
    executor.record_skipped(&outcomes).await;
    observer.applied();
    let Executor {
        writer,
        results,
        errors,
        scope,
        ..
    } = executor;
    writer.close().await;
    let results = results.into_inner().expect(POISONED);
    let mut errors = errors.into_inner().expect(POISONED);
    let summary = summarize(&results);
    let cancelled = options.cancel.is_cancelled();
    let outcome = if summary.failed == 0 && summary.skipped == 0 && errors.is_empty() {
        ApplyOutcome::Succeeded
    } else {
        ApplyOutcome::Failed
    };
    if let Err(d) = audit::finish(store.as_ref(), apply_id, summary, outcome).await {
        errors.extend(d);
    }
    let mut diags = Diagnostics::new();
    let outputs = if plan.mode == PlanMode::Normal && !cancelled {
        crate::plan::planner::evaluate_outputs(ws, &scope, &mut diags)
    } else {
        Default::default()
    };
    errors.extend(diags.0.into_iter().filter(Diagnostic::is_error));
    let succeeded = outcome == ApplyOutcome::Succeeded && errors.is_empty() && !cancelled;
    if succeeded
        && plan.mode != PlanMode::RefreshOnly
        && let Err(d) = record_outputs(store.as_ref(), &outputs).await
    {
        errors.extend(d);
    }
    let mut warnings = scope.take_warnings();
    warnings.sort_by(|a, b| a.address.cmp(&b.address));
    if plan.mode == PlanMode::Normal && !cancelled {
        warnings.extend(crate::plan::planner::check_warnings(
            &crate::plan::planner::evaluate_checks(ws, &scope),
        ));
    }
    Ok(ApplyReport {
        apply_id,
        summary,
        results,
        outputs,
        errors,
        cancelled,
        warnings,
    })
}

/// Renames the state records the plan moves (`moved` blocks, `count` added or removed), all
/// in one commit before any change, so a resource is never held at both addresses or at
/// none. A record moved to another resource type is written as the plan found it as that
/// type (its provider took it over while planning). Returns the serial after it.
async fn move_records(
    ws: &Workspace,
    store: &dyn StateStore,
    providers: &Providers,
    plan: &Plan,
    apply_id: ApplyId,
    serial: u64,
) -> Result<u64, Diagnostics> {
    let mut writes = Vec::new();
    for change in &plan.changes {
        let Some(from) = &change.moved_from else {
            continue;
        };
        let Some(record) = store.resource(from).await.map_err(state_error)? else {
            continue;
        };
        if store
            .resource(&change.address)
            .await
            .map_err(state_error)?
            .is_some()
        {
            return Err(Diagnostic::error(
                "Cannot move resource",
                format!(
                    "The plan moves {from} to {}, but state already holds a resource there. Plan again.",
                    change.address
                ),
            )
            .into());
        }
        let moved = |address: &str, message: String| {
            Some((
                apply_id,
                audit::change_record(
                    address,
                    braid_state::ChangeAction::Move,
                    ChangeOutcome::Applied,
                    Some(message),
                ),
            ))
        };
        writes.push(ResourceWrite {
            address: from.clone(),
            record: None,
            change: moved(from, format!("moved to {}", change.address)),
        });
        writes.push(ResourceWrite {
            address: change.address.clone(),
            change: moved(&change.address, format!("moved from {from}")),
            record: Some(moved_record(ws, providers, change, record).await?),
        });
    }
    if writes.is_empty() {
        return Ok(serial);
    }
    store
        .commit_resources(serial, writes)
        .await
        .map_err(state_error)
}

/// The record `record` (read from state at its old address) at the change's address. Moved
/// to another resource type, the new type's provider takes it over again here, from state —
/// not from the plan, whose values a saved plan holds masked — so the object and the
/// provider's private data of the move are those of this process.
async fn moved_record(
    ws: &Workspace,
    providers: &Providers,
    change: &ResourceChange,
    record: ResourceRecord,
) -> Result<ResourceRecord, Diagnostics> {
    let record = ResourceRecord {
        address: change.address.clone(),
        ..record
    };
    if record.type_name == change.type_name {
        return Ok(record);
    }
    let schema = providers
        .schema(&change.provider)
        .and_then(|s| s.resources.get(&change.type_name));
    match crate::plan::planner::take_over(
        ws,
        providers,
        &record,
        &change.provider,
        &change.type_name,
        schema,
    )
    .await
    {
        Ok((taken, _)) => Ok(taken),
        Err(found) => {
            let mut diags = Diagnostics::new();
            for d in found {
                diags.push(crate::diag::from_provider(d, None, &change.address));
            }
            Err(diags)
        }
    }
}

/// Keeps the outputs of a successful apply in state for `braid output`: all of them replace
/// the previous ones, so an output removed from the configuration disappears, and a destroy
/// (which evaluates none) clears them. When some output is not known (a targeted apply that
/// left a resource it needs unapplied), the previous outputs stay. Nothing is written when
/// state holds these outputs already.
pub async fn record_outputs(
    store: &dyn StateStore,
    outputs: &BTreeMap<String, OutputValue>,
) -> Result<(), Diagnostics> {
    if outputs.values().any(|output| output.unknown) {
        return Ok(());
    }
    // A null output is not kept, as in Terraform: `braid output NAME` says it is not there.
    let records: Vec<OutputRecord> = outputs
        .iter()
        .filter(|(_, output)| !output.value.is_null())
        .map(|(name, output)| OutputRecord {
            name: name.clone(),
            value: output.value.clone(),
            sensitive: output.sensitive,
        })
        .collect();
    if store.outputs().await.map_err(state_error)? == records {
        return Ok(());
    }
    let serial = store.meta().await.map_err(state_error)?.serial;
    store
        .replace_outputs(serial, records)
        .await
        .map_err(state_error)?;
    Ok(())
}

fn summarize(results: &[ChangeResult]) -> ChangeSummary {
    let mut s = ChangeSummary::default();
    for r in results {
        match r.outcome {
            ChangeOutcome::Failed => s.failed += 1,
            ChangeOutcome::Skipped => s.skipped += 1,
            ChangeOutcome::Applied => match r.action {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Replace => s.replace += 1,
                Action::Delete => s.delete += 1,
                Action::Import => s.import += 1,
                Action::NoOp | Action::Read | Action::Forget => {}
            },
        }
    }
    s
}

struct Executor<'a> {
    ws: &'a Workspace,
    providers: &'a Providers,
    plan: &'a Plan,
    store: &'a dyn StateStore,
    scope: EvalScope<'a>,
    writer: StateWriter,
    apply_id: ApplyId,
    observer: &'a dyn ApplyObserver,
    drifted: HashSet<&'a str>,
    results: Mutex<Vec<ChangeResult>>,
    /// Failures that belong to no single change (an audit record that could not be written).
    errors: Mutex<Vec<Diagnostic>>,
    /// Changes not started because the apply was cancelled.
    cancelled: Mutex<HashSet<usize>>,
    options: &'a ApplyOptions,
    records: HashMap<String, ResourceRecord>,
}

/// Bridges provider progress to the observer.
struct ObserverProgress<'a>(&'a dyn ApplyObserver);

impl Progress for ObserverProgress<'_> {
    fn report(&self, address: &str, message: &str) {
        self.0.progress(address, message);
    }
}

type StepResult = Result<(), Vec<Diagnostic>>;

impl<'a> Executor<'a> {
    async fn visit(&self, i: usize) -> bool {
        // Past the changes: the barrier nodes of `apply_dag`, with nothing to do.
        let Some(change) = self.plan.changes.get(i) else {
            return true;
        };
        if self.options.cancel.is_cancelled() {
            self.cancelled.lock().expect(POISONED).insert(i);
            return false;
        }
        if !change.action.is_change() {
            return match self.no_op(change).await {
                Ok(()) => true,
                Err(diags) => {
                    self.finish(change, Instant::now(), ChangeOutcome::Failed, diags);
                    false
                }
            };
        }
        self.observer.started(change);
        let start = Instant::now();
        let result = match change.action {
            Action::Delete => self.delete(change).await,
            Action::Forget => self.forget(change).await,
            _ => self.converge(change).await,
        };
        match result {
            Ok(()) => {
                self.finish(change, start, ChangeOutcome::Applied, Vec::new());
                true
            }
            Err(diags) => {
                self.record_change(
                    change,
                    ChangeOutcome::Failed,
                    diags.first().map(|d| d.detail.clone()),
                )
                .await;
                self.finish(change, start, ChangeOutcome::Failed, diags);
                false
            }
        }
    }

    fn finish(
        &self,
        change: &ResourceChange,
        start: Instant,
        outcome: ChangeOutcome,
        diagnostics: Vec<Diagnostic>,
    ) {
        let result = ChangeResult {
            address: change.address.clone(),
            action: change.action,
            outcome,
            elapsed: start.elapsed(),
            diagnostics,
            skipped_because: None,
        };
        self.observer.finished(&result);
        self.results.lock().expect(POISONED).push(result);
    }

    /// Records every skipped change, naming the failure that caused it.
    async fn record_skipped(&self, outcomes: &[WalkOutcome]) {
        let cancelled = self.cancelled.lock().expect(POISONED).clone();
        for (i, outcome) in outcomes.iter().enumerate().take(self.plan.changes.len()) {
            let because_of = match outcome {
                WalkOutcome::Skipped { because_of } => Some(*because_of),
                WalkOutcome::Failed if cancelled.contains(&i) => None,
                _ => continue,
            };
            let change = &self.plan.changes[i];
            if !change.action.is_change() && because_of.is_none() {
                continue;
            }
            let message = match because_of {
                Some(cause)
                    if !cancelled.contains(&cause)
                        && change.action == Action::Delete
                        && self.plan.changes[cause].action != Action::Delete =>
                {
                    format!(
                        "not deleted: deletes run only after every create and update succeeded, and {} failed",
                        self.plan.changes[cause].address
                    )
                }
                Some(cause) if !cancelled.contains(&cause) => {
                    format!(
                        "depends on {} which failed",
                        self.plan.changes[cause].address
                    )
                }
                _ => "not started: the apply was interrupted".to_string(),
            };
            self.record_change(change, ChangeOutcome::Skipped, Some(message.clone()))
                .await;
            let result = ChangeResult {
                address: change.address.clone(),
                action: change.action,
                outcome: ChangeOutcome::Skipped,
                elapsed: Duration::ZERO,
                diagnostics: Vec::new(),
                skipped_because: Some(message),
            };
            self.observer.finished(&result);
            self.results.lock().expect(POISONED).push(result);
        }
    }

    /// An audit entry without a resource write (failures, skips).
    async fn record_change(
        &self,
        change: &ResourceChange,
        outcome: ChangeOutcome,
        message: Option<String>,
    ) {
        let written = match self.store.resource(&change.address).await {
            Ok(record) => {
                self.commit_last(ResourceWrite {
                    address: change.address.clone(),
                    record,
                    change: Some((self.apply_id, self.change_record(change, outcome, message))),
                })
                .await
            }
            Err(e) => Err(state_error(e).0.remove(0)),
        };
        if let Err(d) = written {
            self.errors
                .lock()
                .expect(POISONED)
                .push(d.for_address(&change.address));
        }
    }

    fn change_record(
        &self,
        change: &ResourceChange,
        outcome: ChangeOutcome,
        message: Option<String>,
    ) -> ChangeRecord {
        audit::change_record(
            &change.address,
            audit::audit_action(change.action),
            outcome,
            message,
        )
    }

    /// Writes one resource result and waits until it is durable.
    async fn commit(&self, write: ResourceWrite) -> Result<(), Diagnostic> {
        self.writer.commit(write).await
    }

    /// [`commit`](Self::commit) of a change's last write, after which it calls no provider:
    /// its parallelism slot goes to the next change while this one waits.
    async fn commit_last(&self, write: ResourceWrite) -> Result<(), Diagnostic> {
        let slot = SLOT
            .try_with(|slot| slot.borrow_mut().take())
            .ok()
            .flatten();
        drop(slot);
        self.writer.commit(write).await
    }

    fn record_for(
        &self,
        change: &ResourceChange,
        value: Value,
        sensitive: Vec<Path>,
    ) -> ResourceRecord {
        ResourceRecord {
            address: change.address.clone(),
            provider: change.provider.clone(),
            type_name: change.type_name.clone(),
            id: value.attr("id").and_then(Value::as_str).map(str::to_string),
            attributes: value,
            sensitive_paths: sensitive,
            dependencies: change.depends_on.clone(),
            source_file: change.source_file.clone(),
            meta: self
                .providers
                .object_meta(&change.provider, &change.address),
        }
    }

    /// Drops from state the resources the plan found deleted outside braid and no longer
    /// declared (an apply killed between deleting an object and recording it leaves one):
    /// no change of the plan names them, so without this they would stay in state for
    /// ever. Each is read again first, so one that came back since the plan is kept.
    async fn forget_vanished(&self) {
        // A refresh-only plan lists every resource as a no-op: that is no plan for it.
        let planned: HashSet<&str> = self
            .plan
            .changes
            .iter()
            .filter(|c| c.action != Action::NoOp)
            .map(|c| c.address.as_str())
            .collect();
        for drift in &self.plan.drift {
            if drift.kind != DriftKind::Deleted || planned.contains(drift.address.as_str()) {
                continue;
            }
            let Some(record) = self.records.get(&drift.address) else {
                continue;
            };
            let gone = match self.read(record).await {
                Ok(live) => live.is_none(),
                Err(errors) => {
                    self.errors.lock().expect(POISONED).extend(errors);
                    false
                }
            };
            if !gone {
                continue;
            }
            let forgotten = self
                .commit(ResourceWrite {
                    address: drift.address.clone(),
                    record: None,
                    change: None,
                })
                .await;
            match forgotten {
                Ok(()) => {
                    tracing::info!(address = %drift.address, "forgot a resource whose object is gone and that is no longer declared")
                }
                Err(d) => self.errors.lock().expect(POISONED).push(d),
            }
        }
    }

    /// A resource without changes: its value feeds dependents; drift found by refresh is
    /// written to state so state matches reality.
    async fn no_op(&self, change: &ResourceChange) -> StepResult {
        if let Some(decl) = self
            .ws
            .module
            .resources
            .get(&change.address)
            .filter(|d| d.data)
        {
            return self.data_source(change, decl).await;
        }
        let Some(record) = self.records.get(&change.address) else {
            return Ok(());
        };
        let mut value = record.attributes.clone();
        let mut sensitive = record.sensitive_paths.clone();
        // State written before a provider marked a derived value sensitive learns it now.
        let newly_sensitive: Vec<&Path> = change
            .after_sensitive
            .iter()
            .filter(|p| !sensitive.iter().any(|known| p.starts_with(known)))
            .collect();
        let mut rewrite = !newly_sensitive.is_empty();
        sensitive.extend(newly_sensitive.into_iter().cloned());
        sensitive.sort();
        if self.drifted.contains(change.address.as_str())
            && let Some(live) = self.read(record).await?
        {
            value = live;
            rewrite = true;
        }
        if rewrite {
            let mut refreshed = record.clone();
            refreshed.attributes = value.clone();
            refreshed.sensitive_paths = sensitive.clone();
            self.commit_last(ResourceWrite {
                address: change.address.clone(),
                record: Some(refreshed),
                change: None,
            })
            .await
            .map_err(|d| vec![d])?;
        }
        self.scope.set_resource(&change.address, value, sensitive);
        Ok(())
    }

    /// A data source: the value the plan read, or read now when the plan could not.
    async fn data_source(&self, change: &ResourceChange, decl: &ResourceDecl) -> StepResult {
        if change.action == Action::NoOp
            && let Some(value) = &change.after
        {
            self.scope.set_resource(
                &change.address,
                value.clone(),
                change.after_sensitive.clone(),
            );
            return Ok(());
        }
        let (value, _, sensitive) =
            match read_data_source(&self.scope, self.providers, decl, &[]).await {
                Ok(read) => read,
                Err(diags) if decl.check.is_some() => {
                    // A check's own data: its failure is the check's warning.
                    self.scope.record_check_failure(decl, &diags);
                    return Ok(());
                }
                Err(diags) => return Err(diags.0),
            };
        let value = value.ok_or_else(|| {
            vec![
                Diagnostic::error(
                    "Data source arguments still unknown",
                    format!(
                        "{} was to be read during apply, but its arguments are still unknown after the resources it depends on were applied. This is a bug in braid; please report it.",
                        change.address
                    ),
                )
                .for_address(&change.address),
            ]
        })?;
        self.scope.set_resource(&change.address, value, sensitive);
        Ok(())
    }

    /// The errors among a provider's (redacted) diagnostics about `address`; its warnings
    /// are kept for the apply's report.
    fn errors_keeping_warnings(
        &self,
        diagnostics: Vec<braid_provider::ProviderDiagnostic>,
        address: &str,
    ) -> Vec<Diagnostic> {
        let (errors, warnings): (Vec<_>, Vec<_>) = diagnostics
            .into_iter()
            .map(|d| crate::diag::from_provider(d, None, address))
            .partition(Diagnostic::is_error);
        self.scope.keep_warnings(warnings);
        errors
    }

    async fn read(&self, record: &ResourceRecord) -> Result<Option<Value>, Vec<Diagnostic>> {
        let provider = self.provider(&record.provider, &record.address)?;
        let call = provider.read(ReadRequest {
            type_name: record.type_name.clone(),
            address: record.address.clone(),
            current: record.attributes.clone(),
        });
        let response = bounded(Call::Read, &record.provider, &record.address, call)
            .await
            .map_err(|d| vec![d])?;
        let mut response = response;
        sensitivity::redact(
            &mut response.diagnostics,
            &[(&record.attributes, &record.sensitive_paths)],
        );
        let errors = self.errors_keeping_warnings(response.diagnostics, &record.address);
        if errors.is_empty() {
            Ok(response.state)
        } else {
            Err(errors)
        }
    }

    fn provider(
        &self,
        name: &str,
        address: &str,
    ) -> Result<&Arc<dyn braid_provider::Provider>, Vec<Diagnostic>> {
        self.providers.get(name).ok_or_else(|| {
            vec![
                Diagnostic::error(
                    "Provider not available",
                    format!("No provider \"{name}\" is configured."),
                )
                .for_address(address),
            ]
        })
    }

    async fn delete(&self, change: &ResourceChange) -> StepResult {
        let Some(record) = self.records.get(&change.address) else {
            return Ok(());
        };
        let new_state = self
            .call_apply(change, Some(record.attributes.clone()), None, Value::Null)
            .await;
        match new_state {
            Ok(_) => self.forget(change).await,
            Err((_, diags)) => Err(diags),
        }
    }

    /// Removes the resource from state, recording the change as applied: after its object
    /// was deleted, or for a `removed` block that keeps the object.
    async fn forget(&self, change: &ResourceChange) -> StepResult {
        self.commit_last(ResourceWrite {
            address: change.address.clone(),
            record: None,
            change: Some((
                self.apply_id,
                self.change_record(change, ChangeOutcome::Applied, None),
            )),
        })
        .await
        .map_err(|d| vec![d])
    }

    /// Create, update, replace or import: re-plan with known values, check it against what
    /// was reviewed, apply, wait until ready, commit.
    async fn converge(&self, change: &ResourceChange) -> StepResult {
        let decl = self
            .ws
            .module
            .resources
            .get(&change.address)
            .ok_or_else(|| {
                vec![Diagnostic::error(
                    "Resource no longer configured",
                    format!(
                        "{} is in the plan but not in the configuration any more; plan again.",
                        change.address
                    ),
                )]
            })?;
        let record = self.records.get(&change.address);
        let mut prior = match record {
            Some(record) => self.read(record).await?,
            None => None,
        };
        let mut planned = self.replan(decl, prior.as_ref()).await?;
        if change.action == Action::Import {
            let existing = match &change.import_id {
                Some(id) => import_object(self.providers, decl, id)
                    .await
                    .map_err(|d| d.0)?,
                None => planned.existing.clone().ok_or_else(|| {
                    vec![Diagnostic::error(
                        "Object to import is gone",
                        format!("{} existed when the plan was made but cannot be found now; plan again.", change.address),
                    )
                    .for_address(&change.address)]
                })?,
            };
            // Adopt first: from here on state knows the object even if the update fails.
            self.commit(ResourceWrite {
                address: change.address.clone(),
                record: Some(self.record_for(change, existing.clone(), planned.sensitive.clone())),
                change: None,
            })
            .await
            .map_err(|d| vec![d])?;
            prior = Some(existing);
            planned = self.replan(decl, prior.as_ref()).await?;
        }
        self.check_reviewed(change, prior.as_ref(), &planned)?;

        let new_state = match (change.action, prior) {
            (Action::Replace, Some(old)) => {
                if change.create_before_destroy {
                    let fresh = self.replan(decl, None).await?;
                    let created = self.create_or_update(change, None, &fresh).await?;
                    self.call_apply(change, Some(old), None, Value::Null)
                        .await
                        .map_err(|(_, d)| d)?;
                    created
                } else {
                    match self.call_apply(change, Some(old), None, Value::Null).await {
                        Ok(_) => {}
                        Err((_, diags)) => return Err(diags),
                    }
                    // The old object is gone: state must say so even if the create fails.
                    self.commit(ResourceWrite {
                        address: change.address.clone(),
                        record: None,
                        change: None,
                    })
                    .await
                    .map_err(|d| vec![d])?;
                    // Planned once the old object is gone, so the plan is of a new object
                    // (a Kubernetes dry-run would otherwise describe the old one).
                    let fresh = self.replan(decl, None).await?;
                    self.create_or_update(change, None, &fresh).await?
                }
            }
            // An import is applied even when nothing changes: adopting an object means
            // taking ownership of the configured fields (a Kubernetes field manager owns
            // fields only once it has applied them), else the next refresh finds none.
            (Action::NoOp | Action::Update, Some(prior)) if prior == planned.planned => prior,
            (_, prior) => self.create_or_update(change, prior, &planned).await?,
        };
        // What apply learnt (values unknown at plan) may hold a sensitive input too.
        let mut sensitive = planned.sensitive;
        let secrets = sensitivity::sensitive_strings(&planned.config, &sensitive);
        sensitivity::mark_derived(&new_state, &secrets, &mut sensitive);
        let record = self.record_for(change, new_state.clone(), sensitive.clone());
        self.commit_last(ResourceWrite {
            address: change.address.clone(),
            record: Some(record),
            change: Some((
                self.apply_id,
                self.change_record(change, ChangeOutcome::Applied, None),
            )),
        })
        .await
        .map_err(|d| vec![d])?;
        self.scope
            .set_resource(&change.address, new_state, sensitive);
        Ok(())
    }

    async fn replan(
        &self,
        decl: &ResourceDecl,
        prior: Option<&Value>,
    ) -> Result<PlannedResource, Vec<Diagnostic>> {
        plan_resource(&self.scope, self.providers, decl, prior, true)
            .await
            .map_err(|d| d.0)
    }

    /// The plan made now, with every value known, must be the one that was reviewed.
    fn check_reviewed(
        &self,
        change: &ResourceChange,
        prior: Option<&Value>,
        planned: &PlannedResource,
    ) -> StepResult {
        let action_now = match prior {
            None => Action::Create,
            Some(_) if !planned.requires_replace.is_empty() => Action::Replace,
            Some(p) if *p != planned.planned => Action::Update,
            Some(_) => Action::NoOp,
        };
        // A replacement asked for with --replace needs no attribute to force it. An update
        // planned with values known only after apply may turn out to change nothing once
        // they are known, as in Terraform (a policy read again that comes out the same).
        let compatible = action_now == change.action
            || (matches!(change.action, Action::Import | Action::Replace)
                && matches!(action_now, Action::Update | Action::NoOp))
            || (change.action == Action::Update
                && action_now == Action::NoOp
                && !change.after_unknown.is_empty());
        let reviewed = change
            .after
            .clone()
            .unwrap_or_default()
            .with_unknowns(&change.after_unknown);
        let differing = mismatches(&reviewed, &planned.planned, &change.after_sensitive);
        if compatible && differing.is_empty() {
            return Ok(());
        }
        let what = if compatible {
            format!(
                "these attributes would get other values than reviewed: {}",
                differing
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            format!(
                "it would now be a {} instead of a {}",
                action_now.as_str(),
                change.action.as_str()
            )
        };
        Err(vec![
            Diagnostic::error(
                "Plan no longer matches",
                format!(
                    "{} cannot be applied as planned: {what}. Something changed since the plan was made (the live object, or a file the configuration reads); run braid plan again.",
                    change.address
                ),
            )
            .for_address(&change.address),
        ])
    }

    /// Applies one create or update, waits for readiness, and checks the provider kept its
    /// word. On failure whatever the provider reports as existing is kept in state.
    async fn create_or_update(
        &self,
        change: &ResourceChange,
        prior: Option<Value>,
        planned: &PlannedResource,
    ) -> Result<Value, Vec<Diagnostic>> {
        let new_state = match self
            .call_apply(
                change,
                prior,
                Some(planned.planned.clone()),
                planned.config.clone(),
            )
            .await
        {
            Ok(Some(state)) => state,
            Ok(None) => {
                return Err(vec![provider_bug(
                    change,
                    "it reported success but returned no state",
                )]);
            }
            Err((partial, mut diags)) => {
                if let Some(partial) = partial {
                    let record = self.record_for(change, partial, planned.sensitive.clone());
                    diags.extend(self.keep_partial(change, record).await);
                }
                return Err(diags);
            }
        };
        let differing = mismatches(&planned.planned, &new_state, &[]);
        let legacy = !differing.is_empty()
            && self
                .provider(&change.provider, &change.address)
                .is_ok_and(|p| p.legacy_type_system(&change.type_name));
        if legacy {
            // Terraform's legacy SDK returns "" or 0 where it planned null; Terraform takes
            // the result as it is and only logs the difference.
            tracing::debug!(
                address = %change.address,
                paths = %differing.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
                "legacy provider result differs from its plan; accepted"
            );
        }
        if !differing.is_empty() && !legacy {
            let record = self.record_for(change, new_state.clone(), planned.sensitive.clone());
            let kept = self.keep_partial(change, record).await;
            return Err(std::iter::once(provider_bug(
                change,
                &format!(
                    "the result differs from its own plan at {}",
                    differing
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ))
            .chain(kept)
            .collect());
        }
        let provider = self.provider(&change.provider, &change.address)?;
        let progress = ObserverProgress(self.observer);
        let wait = provider.wait_ready(
            WaitRequest {
                type_name: change.type_name.clone(),
                address: change.address.clone(),
                state: new_state.clone(),
                timeout: self.options.ready_timeout,
            },
            &progress,
        );
        // On cancellation the object is applied already: stop waiting for it to become
        // ready and record it, so the run ends soon and state knows the object.
        let waited = tokio::select! {
            waited = wait => waited,
            () = self.options.cancel.cancelled() => {
                self.observer.progress(&change.address, "applied; not waiting for it to become ready (interrupted)");
                braid_provider::WaitResponse { state: None, diagnostics: Vec::new() }
            }
        };
        let mut waited = waited;
        sensitivity::redact(
            &mut waited.diagnostics,
            &[
                (&new_state, &planned.sensitive),
                (&planned.config, &planned.sensitive),
            ],
        );
        let errors = self.errors_keeping_warnings(waited.diagnostics, &change.address);
        if !errors.is_empty() {
            let record = self.record_for(
                change,
                waited.state.unwrap_or(new_state),
                planned.sensitive.clone(),
            );
            let mut errors = errors;
            errors.extend(self.keep_partial(change, record).await);
            return Err(errors);
        }
        Ok(waited.state.unwrap_or(new_state))
    }

    /// Records what a failed change left behind (the provider reports the object exists),
    /// so state never forgets an object; a failure to record it is returned as one more
    /// error of the change.
    async fn keep_partial(
        &self,
        change: &ResourceChange,
        record: ResourceRecord,
    ) -> Option<Diagnostic> {
        self.commit(ResourceWrite {
            address: change.address.clone(),
            record: Some(record),
            change: None,
        })
        .await
        .err()
        .map(|d| d.for_address(&change.address))
    }

    /// One provider apply call. Err carries whatever state the provider reports besides the
    /// errors.
    async fn call_apply(
        &self,
        change: &ResourceChange,
        prior: Option<Value>,
        planned: Option<Value>,
        config: Value,
    ) -> Result<Option<Value>, (Option<Value>, Vec<Diagnostic>)> {
        let provider = self
            .provider(&change.provider, &change.address)
            .map_err(|d| (None, d))?;
        let started = Instant::now();
        // Kept to take sensitive values out of the provider's diagnostics.
        let sent = (!change.after_sensitive.is_empty() || !change.before_sensitive.is_empty())
            .then(|| {
                (
                    config.clone(),
                    planned.clone().unwrap_or_default(),
                    prior.clone().unwrap_or_default(),
                )
            });
        let call = provider.apply(ApplyRequest {
            type_name: change.type_name.clone(),
            address: change.address.clone(),
            prior,
            planned,
            config,
        });
        let response = bounded(Call::Apply, &change.provider, &change.address, call)
            .await
            .map_err(|d| (None, vec![d]))?;
        tracing::debug!(
            provider = %change.provider,
            address = %change.address,
            elapsed_ms = started.elapsed().as_millis() as u64,
            failed = response.diagnostics.iter().any(|d| d.is_error()),
            "provider apply"
        );
        let mut response = response;
        if let Some((config, planned, prior)) = &sent {
            sensitivity::redact(
                &mut response.diagnostics,
                &[
                    (config, &change.after_sensitive),
                    (planned, &change.after_sensitive),
                    (prior, &change.before_sensitive),
                ],
            );
        }
        let errors = self.errors_keeping_warnings(response.diagnostics, &change.address);
        if errors.is_empty() {
            Ok(response.new_state)
        } else {
            Err((response.new_state, errors))
        }
    }
}

fn provider_bug(change: &ResourceChange, what: &str) -> Diagnostic {
    Diagnostic::error(
        "Provider produced an inconsistent result",
        format!(
            "The {} provider applied {}, but {what}. This is a bug in the provider; the object's real state was recorded, and the next plan will show any remaining difference.",
            change.provider, change.address
        ),
    )
    .for_address(&change.address)
}
