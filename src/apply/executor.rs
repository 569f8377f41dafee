//! Walks a plan's changes and makes them happen through providers.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use braid_provider::{ApplyRequest, Path, Progress, ReadRequest, Value, WaitRequest};
use braid_state::{
    ApplyId, ApplyOutcome, ChangeAction, ChangeOutcome, ChangeRecord, ChangeSummary, LockPolicy,
    NewApply, ResourceRecord, ResourceWrite, StateError, StateStore, acquire_lock,
};
use chrono::Utc;

use super::consistency::mismatches;
use super::writer::StateWriter;
use super::{ApplyObserver, ApplyReport, ChangeResult};
use crate::config::ResourceDecl;
use crate::diag::{Diagnostic, Diagnostics};
use crate::graph::{Dag, WalkOutcome, walk_ordered};
use crate::plan::planner::{PlannedResource, plan_resource, state_error, variable_digest};
use crate::plan::{Action, DriftKind, EvalScope, Plan, PlanMode, ResourceChange};
use crate::providers::{Providers, from_provider};
use crate::workspace::Workspace;

#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub parallelism: usize,
    /// `apply`, `destroy` or `rollback`, for the audit log and the lock.
    pub operation: String,
    pub rollback_of: Option<ApplyId>,
    /// How long to wait for an object to become ready.
    pub ready_timeout: Duration,
    /// How often the lock's heartbeat is renewed.
    pub heartbeat: Duration,
    /// How to wait for the environment's lock (`--lock-timeout`, `--steal-stale-lock`).
    pub lock: LockPolicy,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 16,
            operation: "apply".to_string(),
            rollback_of: None,
            ready_timeout: Duration::from_secs(300),
            heartbeat: Duration::from_secs(30),
            lock: LockPolicy::default(),
        }
    }
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
    let acquired = acquire_lock(
        store.as_ref(),
        crate::actor::lock_request(&options.operation, &ws.project.dir),
        &options.lock,
    )
    .await
    .map_err(lock_error)?;
    if let Some(old) = &acquired.stolen_from {
        observer.progress(
            "state",
            &format!(
                "took over the stale lock {} of {} ({}), silent since {}",
                old.id,
                old.actor,
                old.operation,
                old.heartbeat_at.format("%Y-%m-%d %H:%M:%S UTC")
            ),
        );
    }
    let lock = acquired.lock;
    let result = locked_apply(ws, providers, &store, plan, options, observer, &lock.id).await;
    if let Err(e) = store.unlock(&lock.id).await {
        let mut diags = match result {
            Ok(_) => Diagnostics::new(),
            Err(d) => d,
        };
        diags.push(Diagnostic::error(
            "Cannot release state lock",
            format!(
                "The apply finished, but its lock could not be released: {e}. Release it with: braid force-unlock {}",
                lock.id
            ),
        ));
        return Err(diags);
    }
    result
}

pub fn lock_error(e: StateError) -> Diagnostics {
    match e {
        StateError::Locked(holder) => Diagnostic::error(
            "State is locked",
            format!(
                "Another operation holds the lock of this environment: {} by {} on {} (pid {}) since {}{}. Wait for it to finish (--lock-timeout waits for it). If it died, remove the lock with: braid force-unlock {}",
                holder.operation,
                holder.actor,
                holder.host,
                holder.pid,
                holder.acquired_at.format("%Y-%m-%d %H:%M:%S UTC"),
                holder.ci_url.as_ref().map(|u| format!(" ({u})")).unwrap_or_default(),
                holder.id
            ),
        )
        .into(),
        StateError::LockStale(holder) => Diagnostic::error(
            "State lock is stale",
            format!(
                "The lock of this environment is held by {} by {} on {} (pid {}) since {}{}, but its heartbeat stopped at {}: that operation probably died. Check that it is not running, then take the lock over with --steal-stale-lock, or remove it with: braid force-unlock {}",
                holder.operation,
                holder.actor,
                holder.host,
                holder.pid,
                holder.acquired_at.format("%Y-%m-%d %H:%M:%S UTC"),
                holder.ci_url.as_ref().map(|u| format!(" ({u})")).unwrap_or_default(),
                holder.heartbeat_at.format("%Y-%m-%d %H:%M:%S UTC"),
                holder.id
            ),
        )
        .into(),
        other => state_error(other),
    }
}

#[allow(clippy::too_many_arguments)]
async fn locked_apply(
    ws: &Workspace,
    providers: &Providers,
    store: &Arc<dyn StateStore>,
    plan: &Plan,
    options: &ApplyOptions,
    observer: &dyn ApplyObserver,
    lock_id: &str,
) -> Result<ApplyReport, Diagnostics> {
    let meta = store.meta().await.map_err(state_error)?;
    check_fresh(ws, plan, &meta)?;
    close_interrupted_applies(store.as_ref()).await?;
    let records: HashMap<String, ResourceRecord> = store
        .resources()
        .await
        .map_err(state_error)?
        .into_iter()
        .map(|r| (r.address.clone(), r))
        .collect();
    let apply_id = store
        .begin_apply(NewApply {
            env: ws.env_name.clone(),
            actor: crate::actor::actor(&ws.project.dir),
            operation: options.operation.clone(),
            sources: plan.sources.clone(),
            rollback_of: options.rollback_of,
            started_at: Utc::now(),
        })
        .await
        .map_err(state_error)?;
    let executor = Executor {
        ws,
        providers,
        plan,
        store: store.as_ref(),
        scope: EvalScope::new(&ws.module, &ws.variables, &ws.env_name),
        writer: StateWriter::start(Arc::clone(store), meta.serial),
        apply_id,
        observer,
        drifted: plan
            .drift
            .iter()
            .filter(|d| d.kind == DriftKind::Changed)
            .map(|d| d.address.as_str())
            .collect(),
        results: Mutex::new(Vec::new()),
        options,
        records,
    };
    let dag = executor.dag();
    let priority = install_order(&plan.changes);
    let outcomes = {
        let walking = walk_ordered(&dag, options.parallelism, &priority, |i| executor.visit(i));
        tokio::pin!(walking);
        let mut heartbeat = tokio::time::interval(options.heartbeat);
        heartbeat.tick().await;
        loop {
            tokio::select! {
                outcomes = &mut walking => break outcomes,
                _ = heartbeat.tick() => {
                    if let Err(e) = store.heartbeat(lock_id).await {
                        observer.progress("state", &format!("lock heartbeat failed: {e}"));
                    }
                }
            }
        }
    };
    executor.record_skipped(&outcomes).await;
    executor.writer.close().await;
    let results = executor.results.into_inner().unwrap_or_default();
    let summary = summarize(&results);
    let outcome = if summary.failed == 0 && summary.skipped == 0 {
        ApplyOutcome::Succeeded
    } else {
        ApplyOutcome::Failed
    };
    store
        .finish_apply(apply_id, summary, outcome)
        .await
        .map_err(state_error)?;
    let mut diags = Diagnostics::new();
    let outputs = if plan.mode == PlanMode::Normal {
        crate::plan::planner::evaluate_outputs(ws, &executor.scope, &mut diags)
    } else {
        Default::default()
    };
    Ok(ApplyReport {
        apply_id,
        summary,
        results,
        outputs,
    })
}

/// Holding the lock means no other apply of this environment runs, so an audit entry still
/// marked running belongs to a process that died: it is closed as failed, with the counts of
/// what it recorded, so history never shows a dead apply as running.
async fn close_interrupted_applies(store: &dyn StateStore) -> Result<(), Diagnostics> {
    for apply in store.applies(50).await.map_err(state_error)? {
        if apply.outcome != ApplyOutcome::Running {
            continue;
        }
        let mut summary = ChangeSummary::default();
        for change in store.changes(apply.id).await.map_err(state_error)? {
            match (change.outcome, change.action.as_str()) {
                (ChangeOutcome::Failed, _) => summary.failed += 1,
                (ChangeOutcome::Skipped, _) => summary.skipped += 1,
                (ChangeOutcome::Applied, "create") => summary.create += 1,
                (ChangeOutcome::Applied, "update") => summary.update += 1,
                (ChangeOutcome::Applied, "replace") => summary.replace += 1,
                (ChangeOutcome::Applied, "delete") => summary.delete += 1,
                (ChangeOutcome::Applied, "import") => summary.import += 1,
                (ChangeOutcome::Applied, _) => {}
            }
        }
        store
            .finish_apply(apply.id, summary, ApplyOutcome::Failed)
            .await
            .map_err(state_error)?;
    }
    Ok(())
}

/// Helm's kind order as the tiebreak among changes that are ready together: infrastructure
/// first, then Kubernetes objects by kind; deletes in the reverse order.
fn install_order(changes: &[ResourceChange]) -> Vec<usize> {
    changes
        .iter()
        .map(|c| match crate::manifests::parse_address(&c.address) {
            None => 0,
            Some((_, kind, _, _)) if c.action == Action::Delete => {
                1000 - crate::manifests::helm_rank(kind)
            }
            Some((_, kind, _, _)) => 1 + crate::manifests::helm_rank(kind),
        })
        .collect()
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
                Action::NoOp | Action::Read => {}
            },
        }
    }
    s
}

/// Refuses a plan made against another state, other sources or other variable values.
fn check_fresh(
    ws: &Workspace,
    plan: &Plan,
    meta: &braid_state::StateMeta,
) -> Result<(), Diagnostics> {
    let stale = |why: String| -> Diagnostics {
        Diagnostic::error(
            "Saved plan is stale",
            format!("{why} Applying it could undo or repeat changes nobody reviewed. Run braid plan again and review the new plan."),
        )
        .into()
    };
    if plan.env != ws.env_name {
        return Err(Diagnostic::error(
            "Plan is for another environment",
            format!(
                "The plan was made for environment \"{}\", but this run is for \"{}\". Pass --env {} or plan again.",
                plan.env, ws.env_name, plan.env
            ),
        )
        .into());
    }
    if meta.lineage != plan.state.lineage {
        return Err(stale(format!(
            "The plan was made against state lineage {}, but this environment's state has lineage {}.",
            plan.state.lineage, meta.lineage
        )));
    }
    if meta.serial != plan.state.serial {
        return Err(stale(format!(
            "State changed since the plan was made (serial {} then, {} now).",
            plan.state.serial, meta.serial
        )));
    }
    for planned in &plan.sources {
        match ws.sources.iter().find(|s| s.name == planned.name) {
            Some(now)
                if now.revision.digest == planned.digest
                    && now.revision.commit == planned.commit => {}
            Some(now) if now.revision.commit != planned.commit => {
                let short = |c: &Option<String>| {
                    c.as_deref()
                        .map_or("none".to_string(), |c| c.chars().take(12).collect())
                };
                return Err(stale(format!(
                    "The source \"{}\" was planned at commit {}, but reads commit {} now.",
                    planned.name,
                    short(&planned.commit),
                    short(&now.revision.commit)
                )));
            }
            Some(_) => {
                return Err(stale(format!(
                    "The files of source \"{}\" changed since the plan was made.",
                    planned.name
                )));
            }
            None => {
                return Err(stale(format!(
                    "The source \"{}\" is no longer configured.",
                    planned.name
                )));
            }
        }
    }
    for (name, planned) in &plan.variables {
        let now = ws.variables.get(name);
        let same = match (now, planned.sensitive) {
            (Some(now), true) => {
                planned.digest.as_deref() == Some(variable_digest(&now.value, &plan.salt).as_str())
            }
            (Some(now), false) => planned.value.as_ref() == Some(&now.value),
            (None, _) => false,
        };
        if !same {
            return Err(stale(format!(
                "The value of variable \"{name}\" is not the one the plan was made with."
            )));
        }
    }
    Ok(())
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
    fn dag(&self) -> Dag {
        let changes = &self.plan.changes;
        let index: HashMap<&str, usize> = changes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.address.as_str(), i))
            .collect();
        let is_delete = |i: usize| changes[i].action == Action::Delete;
        let mut dag = Dag::new(changes.len());
        for (i, change) in changes.iter().enumerate() {
            if change.action == Action::Delete {
                // Whatever needed this resource is deleted first.
                for dep in &change.depends_on {
                    if let Some(&d) = index.get(dep.as_str())
                        && is_delete(d)
                    {
                        dag.add_edge(i, d);
                    }
                }
            } else {
                for dep in &change.depends_on {
                    if let Some(&d) = index.get(dep.as_str())
                        && !is_delete(d)
                    {
                        dag.add_edge(d, i);
                    }
                }
                // A resource that used to need a deleted one stops needing it first.
                if let Some(record) = self.records.get(&change.address) {
                    for dep in &record.dependencies {
                        if let Some(&d) = index.get(dep.as_str())
                            && is_delete(d)
                        {
                            dag.add_edge(i, d);
                        }
                    }
                }
            }
        }
        dag
    }

    async fn visit(&self, i: usize) -> bool {
        let change = &self.plan.changes[i];
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
        if let Ok(mut results) = self.results.lock() {
            results.push(result);
        }
    }

    /// Records every skipped change, naming the failure that caused it.
    async fn record_skipped(&self, outcomes: &[WalkOutcome]) {
        for (i, outcome) in outcomes.iter().enumerate() {
            let WalkOutcome::Skipped { because_of } = outcome else {
                continue;
            };
            let change = &self.plan.changes[i];
            let cause = &self.plan.changes[*because_of].address;
            let message = format!("depends on {cause} which failed");
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
            if let Ok(mut results) = self.results.lock() {
                results.push(result);
            }
        }
    }

    /// An audit entry without a resource write (failures, skips).
    async fn record_change(
        &self,
        change: &ResourceChange,
        outcome: ChangeOutcome,
        message: Option<String>,
    ) {
        let record = self.current_record(&change.address).await;
        let _ = self
            .commit(ResourceWrite {
                address: change.address.clone(),
                record,
                change: Some((self.apply_id, self.change_record(change, outcome, message))),
            })
            .await;
    }

    /// The state record as last committed in this apply (or as loaded).
    async fn current_record(&self, address: &str) -> Option<ResourceRecord> {
        self.store.resource(address).await.ok().flatten()
    }

    fn change_record(
        &self,
        change: &ResourceChange,
        outcome: ChangeOutcome,
        message: Option<String>,
    ) -> ChangeRecord {
        ChangeRecord {
            address: change.address.clone(),
            action: audit_action(change.action),
            outcome,
            message,
            at: Utc::now(),
        }
    }

    /// Writes one resource result and waits until it is durable.
    async fn commit(&self, write: ResourceWrite) -> Result<(), Diagnostic> {
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
        }
    }

    /// A resource without changes: its value feeds dependents; drift found by refresh is
    /// written to state so state matches reality.
    async fn no_op(&self, change: &ResourceChange) -> StepResult {
        let Some(record) = self.records.get(&change.address) else {
            return Ok(());
        };
        let mut value = record.attributes.clone();
        if self.drifted.contains(change.address.as_str())
            && let Some(live) = self.read(record).await?
        {
            value = live;
            let mut refreshed = record.clone();
            refreshed.attributes = value.clone();
            self.commit(ResourceWrite {
                address: change.address.clone(),
                record: Some(refreshed),
                change: None,
            })
            .await
            .map_err(|d| vec![d])?;
        }
        self.scope
            .set_resource(&change.address, value, record.sensitive_paths.clone());
        Ok(())
    }

    async fn read(&self, record: &ResourceRecord) -> Result<Option<Value>, Vec<Diagnostic>> {
        let provider = self.provider(&record.provider, &record.address)?;
        let response = provider
            .read(ReadRequest {
                type_name: record.type_name.clone(),
                address: record.address.clone(),
                current: record.attributes.clone(),
            })
            .await;
        let errors = provider_errors(response.diagnostics, &record.address);
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
            Ok(_) => self
                .commit(ResourceWrite {
                    address: change.address.clone(),
                    record: None,
                    change: Some((
                        self.apply_id,
                        self.change_record(change, ChangeOutcome::Applied, None),
                    )),
                })
                .await
                .map_err(|d| vec![d]),
            Err((_, diags)) => Err(diags),
        }
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
            let existing = planned.existing.clone().ok_or_else(|| {
                vec![Diagnostic::error(
                    "Object to import is gone",
                    format!("{} existed when the plan was made but cannot be found now; plan again.", change.address),
                )
                .for_address(&change.address)]
            })?;
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
                let fresh = self.replan(decl, None).await?;
                if change.create_before_destroy {
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
                    self.create_or_update(change, None, &fresh).await?
                }
            }
            // An import is applied even when nothing changes: adopting an object means
            // taking ownership of the configured fields (a Kubernetes field manager owns
            // fields only once it has applied them), else the next refresh finds none.
            (Action::NoOp, Some(prior)) if prior == planned.planned => prior,
            (_, prior) => self.create_or_update(change, prior, &planned).await?,
        };
        let record = self.record_for(change, new_state.clone(), planned.sensitive.clone());
        self.commit(ResourceWrite {
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
            .set_resource(&change.address, new_state, planned.sensitive);
        Ok(())
    }

    async fn replan(
        &self,
        decl: &ResourceDecl,
        prior: Option<&Value>,
    ) -> Result<PlannedResource, Vec<Diagnostic>> {
        plan_resource(&self.scope, self.providers, decl, prior)
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
        let compatible = action_now == change.action
            || (change.action == Action::Import
                && matches!(action_now, Action::Update | Action::NoOp));
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
            Err((partial, diags)) => {
                if let Some(partial) = partial {
                    let record = self.record_for(change, partial, planned.sensitive.clone());
                    let _ = self
                        .commit(ResourceWrite {
                            address: change.address.clone(),
                            record: Some(record),
                            change: None,
                        })
                        .await;
                }
                return Err(diags);
            }
        };
        let differing = mismatches(&planned.planned, &new_state, &[]);
        if !differing.is_empty() {
            let record = self.record_for(change, new_state.clone(), planned.sensitive.clone());
            let _ = self
                .commit(ResourceWrite {
                    address: change.address.clone(),
                    record: Some(record),
                    change: None,
                })
                .await;
            return Err(vec![provider_bug(
                change,
                &format!(
                    "the result differs from its own plan at {}",
                    differing
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )]);
        }
        let provider = self.provider(&change.provider, &change.address)?;
        let waited = provider
            .wait_ready(
                WaitRequest {
                    type_name: change.type_name.clone(),
                    address: change.address.clone(),
                    state: new_state.clone(),
                    timeout: self.options.ready_timeout,
                },
                &ObserverProgress(self.observer),
            )
            .await;
        let errors = provider_errors(waited.diagnostics, &change.address);
        if !errors.is_empty() {
            let record = self.record_for(
                change,
                waited.state.unwrap_or(new_state),
                planned.sensitive.clone(),
            );
            let _ = self
                .commit(ResourceWrite {
                    address: change.address.clone(),
                    record: Some(record),
                    change: None,
                })
                .await;
            return Err(errors);
        }
        Ok(waited.state.unwrap_or(new_state))
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
        let response = provider
            .apply(ApplyRequest {
                type_name: change.type_name.clone(),
                address: change.address.clone(),
                prior,
                planned,
                config,
            })
            .await;
        let errors = provider_errors(response.diagnostics, &change.address);
        if errors.is_empty() {
            Ok(response.new_state)
        } else {
            Err((response.new_state, errors))
        }
    }
}

/// The audit log's name for a planned action.
fn audit_action(action: Action) -> ChangeAction {
    match action {
        Action::Create => ChangeAction::Create,
        Action::Update => ChangeAction::Update,
        Action::Replace => ChangeAction::Replace,
        Action::Delete => ChangeAction::Delete,
        Action::NoOp => ChangeAction::NoOp,
        Action::Read => ChangeAction::Read,
        Action::Import => ChangeAction::Import,
    }
}

fn provider_errors(
    diagnostics: Vec<braid_provider::ProviderDiagnostic>,
    address: &str,
) -> Vec<Diagnostic> {
    diagnostics
        .into_iter()
        .filter(|d| d.is_error())
        .map(|d| from_provider(d, None, address))
        .collect()
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
