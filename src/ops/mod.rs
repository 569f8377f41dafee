//! Operations: what braid does, as functions over a loaded workspace that return plain
//! data and report progress through an observer. The CLI parses flags, calls one operation
//! and renders its result; a long-running caller (an agent) calls the same functions again
//! and again in one process. Nothing here prints, reads a terminal or exits.
//!
//! - [`prepare`]: load the configuration, open state, instantiate and configure providers.
//! - [`plan`], [`refresh_only`], [`drift`]: make a plan (a refresh-only one for drift).
//! - [`apply`], [`destroy`], [`rollback`], [`apply_saved`]: the apply rule, a plan, the
//!   caller's approval, and the changes carried out under the environment's lock.
//! - [`Console`]: expressions evaluated against the environment's state (`braid console`).
//! - [`import_terraform`]: a Terraform state file adopted into the environment's state.
//! - [`comment`]: a plan's Markdown posted on its pull request or merge request.

pub mod comment;
mod console;
pub mod history;
pub mod import_terraform;
pub mod policy;
pub mod promote;
pub mod reviewed;

pub use console::{CONSOLE_INPUT, Console};

use std::collections::BTreeMap;
use std::sync::Arc;

use braid_state::{ApplyId, ApplyRecord, StateStore};

use crate::apply::{
    ApplyObserver, ApplyOptions, ApplyReport, CancelToken, LockSettings, apply_plan,
    apply_plan_locked, check_apply_rule, with_lock,
};
use crate::diag::{Diagnostic, Diagnostics, state_error};
use crate::plan::{Plan, PlanMode, PlanObserver, PlanOptions, make_plan};
use crate::providers::{ProviderRegistry, Providers};
use crate::source::Pin;
use crate::workspace::{LoadOptions, Workspace};

/// A workspace with its state store and configured providers: what plan and apply need.
pub struct Prepared {
    /// The loaded configuration and sources.
    pub ws: Workspace,
    /// The providers in use, configured.
    pub providers: Providers,
    /// The environment's state.
    pub store: Arc<dyn StateStore>,
}

/// Loads the configuration, opens state and configures every provider in use (those of
/// the configuration and those state still holds resources of). Warnings found while
/// loading are in `ws.warnings` for the caller to show.
pub async fn prepare(
    registry: &ProviderRegistry,
    options: &LoadOptions,
) -> Result<Prepared, Diagnostics> {
    let started = std::time::Instant::now();
    let ws = Workspace::load(options)?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        rss_mb = crate::diag::resident_mb(),
        "configuration loaded"
    );
    let store = ws.open_state()?;
    let prepared = prepare_with_store(registry, ws, store).await;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        rss_mb = crate::diag::resident_mb(),
        "providers configured"
    );
    prepared
}

/// Like [`prepare`], with a state store the caller opened (tests inject faulty stores).
pub async fn prepare_with_store(
    registry: &ProviderRegistry,
    ws: Workspace,
    store: Arc<dyn StateStore>,
) -> Result<Prepared, Diagnostics> {
    let index = store.resource_index().await.map_err(state_error)?;
    let providers = ws
        .providers_with_plugins(registry, index.iter().map(|r| r.provider.clone()))
        .await?;
    providers.restore_object_meta(&index);
    drop(index);
    ws.configure(&providers).await?;
    Ok(Prepared {
        ws,
        providers,
        store,
    })
}

/// Makes a plan: refresh (unless turned off), then what the mode asks for.
pub async fn plan(
    prepared: &Prepared,
    options: &PlanOptions,
    observer: &dyn PlanObserver,
) -> Result<Plan, Diagnostics> {
    let mut plan = make_plan(
        &prepared.ws,
        &prepared.providers,
        prepared.store.as_ref(),
        options,
        observer,
    )
    .await?;
    if prepared
        .ws
        .environment()
        .is_some_and(|e| !e.windows.is_empty())
        && plan.mode != PlanMode::RefreshOnly
    {
        plan.window = Some(window_verdict(&prepared.ws, &plan, true)?);
    }
    if plan.mode != PlanMode::RefreshOnly {
        plan.policy = policy::evaluate(&prepared.ws, &plan)?;
    }
    Ok(plan)
}

/// `braid plan --refresh-only`: a plan that only compares state with the live objects;
/// applying it (see [`apply_saved`]) accepts the live values into state.
pub async fn refresh_only(
    prepared: &Prepared,
    parallelism: usize,
    observer: &dyn PlanObserver,
) -> Result<Plan, Diagnostics> {
    let options = PlanOptions {
        mode: PlanMode::RefreshOnly,
        refresh: true,
        parallelism,
        ..PlanOptions::default()
    };
    plan(prepared, &options, observer).await
}

/// `braid drift`: what differs between state and the live objects (the refresh-only plan's
/// `drift`); nothing is written. The CLI exits 2 when the list is not empty.
pub async fn drift(
    prepared: &Prepared,
    parallelism: usize,
    observer: &dyn PlanObserver,
) -> Result<Plan, Diagnostics> {
    refresh_only(prepared, parallelism, observer).await
}

/// How a writing operation runs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Read live objects before planning.
    pub refresh: bool,
    /// How many provider calls run at once.
    pub parallelism: usize,
    /// How to take and keep the environment's lock.
    pub lock: LockSettings,
    /// Raised to stop an apply cleanly.
    pub cancel: CancelToken,
    /// `--target`: see [`PlanOptions::targets`].
    pub targets: Vec<String>,
    /// `--replace`: see [`PlanOptions::replace`].
    pub replace: Vec<String>,
    /// A person runs this (not the agent): release windows with `manual_apply` let it
    /// through.
    pub manual: bool,
    /// `--override-window --reason`: apply outside the release windows, with the reason
    /// recorded in the audit log.
    pub window_override: Option<String>,
    /// `--override-policy NAME... --reason`: the overridable policy denials to set aside,
    /// and why.
    pub policy_override: Option<(Vec<String>, String)>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            refresh: true,
            parallelism: 16,
            lock: LockSettings::default(),
            cancel: CancelToken::new(),
            targets: Vec::new(),
            replace: Vec::new(),
            manual: true,
            window_override: None,
            policy_override: None,
        }
    }
}

/// The caller's say on a plan before it is applied: shown to a person, checked by policy,
/// or approved by a flag. `Ok(false)` declines; nothing is applied.
pub trait Approve {
    /// Whether to apply `plan`.
    fn approve(&mut self, plan: &Plan) -> Result<bool, Diagnostics>;
}

impl<F: FnMut(&Plan) -> Result<bool, Diagnostics>> Approve for F {
    fn approve(&mut self, plan: &Plan) -> Result<bool, Diagnostics> {
        self(plan)
    }
}

/// What a writing operation did.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The plan that was (or would have been) applied.
    pub plan: Plan,
    /// What happened to the changes; `None` when there was nothing to do or the plan was
    /// declined.
    pub report: Option<ApplyReport>,
    /// The caller's [`Approve`] said no.
    pub declined: bool,
}

impl RunOutcome {
    /// Nothing failed: every change applied (or none was needed), or the plan was declined.
    pub fn succeeded(&self) -> bool {
        self.report.as_ref().is_none_or(ApplyReport::succeeded)
    }
}

/// The name of a writing operation, for the audit log and the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Converge on the configuration.
    Apply,
    /// Delete everything.
    Destroy,
    /// Return to the configuration of an earlier apply.
    Rollback(ApplyId),
}

impl Operation {
    /// `apply`, `destroy`, `rollback`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "apply",
            Operation::Destroy => "destroy",
            Operation::Rollback(_) => "rollback",
        }
    }
}

/// `braid apply`: checks the apply rule, plans, asks `approve`, applies.
pub async fn apply(
    prepared: &Prepared,
    options: &RunOptions,
    approve: &mut dyn Approve,
    observer: &dyn ApplyObserver,
) -> Result<RunOutcome, Diagnostics> {
    converge(
        prepared,
        PlanMode::Normal,
        Operation::Apply,
        options,
        approve,
        observer,
    )
    .await
}

/// `braid destroy`: deletes everything the environment manages, after `approve`.
pub async fn destroy(
    prepared: &Prepared,
    options: &RunOptions,
    approve: &mut dyn Approve,
    observer: &dyn ApplyObserver,
) -> Result<RunOutcome, Diagnostics> {
    let options = RunOptions {
        refresh: true,
        ..options.clone()
    };
    converge(
        prepared,
        PlanMode::Destroy,
        Operation::Destroy,
        &options,
        approve,
        observer,
    )
    .await
}

/// The one sequence every writing operation follows: the apply rule on the sources (before
/// anything is refreshed or shown), then — holding the environment's lock, as Terraform
/// does, so nobody changes state between the plan and its changes, and a run that waited
/// for the lock (`--lock-timeout`) plans against the state it finds — a plan, approval,
/// and the changes.
async fn converge(
    prepared: &Prepared,
    mode: PlanMode,
    operation: Operation,
    options: &RunOptions,
    approve: &mut dyn Approve,
    observer: &dyn ApplyObserver,
) -> Result<RunOutcome, Diagnostics> {
    let sources: Vec<_> = prepared
        .ws
        .sources
        .iter()
        .map(|s| s.revision.clone())
        .collect();
    check_apply_rule(prepared.ws.environment(), &sources)?;
    let plan_options = PlanOptions {
        mode,
        refresh: options.refresh,
        parallelism: options.parallelism,
        targets: options.targets.clone(),
        replace: options.replace.clone(),
    };
    let request = crate::actor::lock_request(operation.as_str(), &prepared.ws.project.dir);
    let work = async {
        // Planning only reads: an interrupt stops it at once, and the lock is released.
        let plan = tokio::select! {
            plan = plan(prepared, &plan_options, observer) => plan?,
            () = options.cancel.cancelled() => return Err(Diagnostic::error(
                "Interrupted",
                "The run was interrupted while planning; nothing changed.",
            )
            .into()),
        };
        if !approve.approve(&plan)? {
            return Ok(RunOutcome {
                plan,
                report: None,
                declined: true,
            });
        }
        run_changes(prepared, plan, operation, options, observer, true).await
    };
    with_lock(
        prepared.store.as_ref(),
        request,
        &options.lock,
        observer,
        work,
    )
    .await
}

/// Carries out a plan that was approved already (a saved plan), taking the lock for it.
pub async fn execute(
    prepared: &Prepared,
    plan: Plan,
    operation: Operation,
    options: &RunOptions,
    observer: &dyn ApplyObserver,
) -> Result<RunOutcome, Diagnostics> {
    run_changes(prepared, plan, operation, options, observer, false).await
}

async fn run_changes(
    prepared: &Prepared,
    plan: Plan,
    operation: Operation,
    options: &RunOptions,
    observer: &dyn ApplyObserver,
    lock_held: bool,
) -> Result<RunOutcome, Diagnostics> {
    check_apply_rule(prepared.ws.environment(), &plan.sources)?;
    if options.cancel.is_cancelled() {
        return Err(Diagnostic::error(
            "Interrupted",
            "The run was interrupted before anything was applied; nothing changed.",
        )
        .into());
    }
    if !plan.has_changes() && plan.drift.is_empty() {
        if lock_held {
            // A run killed after its last change but before it closed its entry in the
            // audit log leaves nothing to apply: close the entry here, under the lock, as
            // an apply with changes does before it starts.
            crate::apply::audit::close_interrupted(prepared.store.as_ref()).await?;
        }
        // Nothing to apply, but the outputs may be new (an output added to the
        // configuration): keep them as an apply would, under the lock this run holds.
        if lock_held && plan.mode != PlanMode::RefreshOnly && options.targets.is_empty() {
            crate::apply::record_outputs(prepared.store.as_ref(), &plan.outputs).await?;
        }
        return Ok(RunOutcome {
            plan,
            report: None,
            declined: false,
        });
    }
    let window_note = check_windows(prepared, &plan, options)?;
    // The policies as they are now judge the plan being applied (a saved or reviewed plan
    // too).
    let mut plan = plan;
    if plan.mode != PlanMode::RefreshOnly {
        plan.policy = policy::evaluate(&prepared.ws, &plan)?;
    }
    let (names, reason) = match &options.policy_override {
        Some((names, reason)) => (names.as_slice(), Some(reason.as_str())),
        None => (&[][..], None),
    };
    let policy_note = policy::check(&prepared.ws, &mut plan, names, reason)?;
    let note = match (window_note, policy_note) {
        (Some(a), Some(b)) => Some(format!("{a}; {b}")),
        (a, b) => a.or(b),
    };
    let apply_options = ApplyOptions {
        note,
        parallelism: options.parallelism,
        operation: operation.as_str().to_string(),
        rollback_of: match operation {
            Operation::Rollback(id) => Some(id),
            _ => None,
        },
        lock: options.lock.clone(),
        cancel: options.cancel.clone(),
        ..ApplyOptions::default()
    };
    let report = if lock_held {
        apply_plan_locked(
            &prepared.ws,
            &prepared.providers,
            &prepared.store,
            &plan,
            &apply_options,
            observer,
        )
        .await?
    } else {
        apply_plan(
            &prepared.ws,
            &prepared.providers,
            Arc::clone(&prepared.store),
            &plan,
            &apply_options,
            observer,
        )
        .await?
    };
    let mut report = report;
    if let Err(warning) = history::record(prepared.store.as_ref(), report.apply_id, &plan).await {
        report.warnings.push(warning);
    }
    Ok(RunOutcome {
        plan,
        report: Some(report),
        declined: false,
    })
}

/// Whether the environment's release windows let `plan` be applied now; refused with the
/// next opening otherwise, unless `--override-window` says why (then the note for the
/// audit log).
fn check_windows(
    prepared: &Prepared,
    plan: &Plan,
    options: &RunOptions,
) -> Result<Option<String>, Diagnostics> {
    let Some(env) = prepared.ws.environment() else {
        return Ok(None);
    };
    if env.windows.is_empty() {
        return Ok(None);
    }
    let verdict = window_verdict(&prepared.ws, plan, options.manual)?;
    if verdict.allowed {
        return Ok(None);
    }
    let actor = crate::actor::actor(&prepared.ws.project.dir);
    if let Some(reason) = &options.window_override {
        return Ok(Some(format!(
            "release window overridden by {actor}: {reason} (at {}: {})",
            verdict.at.format("%Y-%m-%d %H:%M UTC"),
            verdict.reason
        )));
    }
    Err(Diagnostic::error(
        "Outside the release window",
        format!(
            "Environment \"{}\" takes no changes now ({}): {}. It may be applied from {}. Wait for the window, or apply now with --override-window --reason \"why\" (recorded in the audit log).",
            prepared.ws.env_name,
            verdict.at.format("%Y-%m-%d %H:%M UTC"),
            verdict.reason,
            verdict.next_open_text(&env.windows),
        ),
    )
    .at_opt(env.windows.first().and_then(|w| w.location.clone()))
    .into())
}

/// The release windows' verdict on `plan` at the windows' clock (`BRAID_NOW`, else now).
pub fn window_verdict(
    ws: &Workspace,
    plan: &Plan,
    manual: bool,
) -> Result<crate::config::window::WindowVerdict, Diagnostics> {
    let windows = ws
        .environment()
        .map(|e| e.windows.as_slice())
        .unwrap_or_default();
    let changes: Vec<(&str, Option<&str>)> = plan
        .changes
        .iter()
        .filter(|c| c.action.is_change())
        .map(|c| (c.address.as_str(), c.source.as_deref()))
        .collect();
    let at = crate::config::window::clock()?;
    Ok(crate::config::window::check(windows, &changes, at, manual))
}

/// `braid apply FILE`: applies a saved plan exactly. Its git sources are read at the
/// commits the plan pinned and its recorded variable values are used; sensitive ones (kept
/// only as digests) must be given again and are checked against the plan. A saved plan was
/// reviewed already, so there is no approval step.
pub async fn apply_saved(
    registry: &ProviderRegistry,
    mut load: LoadOptions,
    plan: Plan,
    options: &RunOptions,
    observer: &dyn ApplyObserver,
) -> Result<(Prepared, RunOutcome), Diagnostics> {
    if let Some((name, reference)) = load.sources.refs.iter().next() {
        return Err(Diagnostic::error(
            "Ref given with a saved plan",
            format!(
                "--ref {name}={reference} picks what to plan, but a saved plan already pins the commit of every git source. Drop --ref, or make a new plan with it."
            ),
        )
        .into());
    }
    load.sources.pins = pinned_commits(&plan);
    load.fixed_variables = plan
        .variables
        .iter()
        .filter_map(|(name, v)| v.value.clone().map(|value| (name.clone(), value)))
        .collect();
    let prepared = prepare(registry, &load).await?;
    let operation = match plan.mode {
        PlanMode::Destroy => Operation::Destroy,
        _ => Operation::Apply,
    };
    let outcome = execute(&prepared, plan, operation, options, observer).await?;
    Ok((prepared, outcome))
}

/// The commits a saved plan read its git sources at: applying reads exactly those, even if
/// a branch moved since. Plain directories are not pinned (their digest is checked instead).
fn pinned_commits(plan: &Plan) -> BTreeMap<String, Pin> {
    plan.sources
        .iter()
        .filter(|s| s.reference.is_some())
        .filter_map(|s| {
            let commit = s.commit.clone()?;
            Some((
                s.name.clone(),
                Pin {
                    commit,
                    reference: s.reference.clone(),
                    tag: s.tag.clone(),
                    full_ref: s.full_ref.clone(),
                },
            ))
        })
        .collect()
}

/// `braid rollback --to ID`: applies again the configuration apply `to` deployed — its git
/// sources read at the commits it recorded — as a new apply that says it is a rollback.
/// `approve` sees the target record too, to ask about it.
pub async fn rollback(
    registry: &ProviderRegistry,
    load: LoadOptions,
    to: ApplyId,
    options: &RunOptions,
    approve: &mut dyn FnMut(&ApplyRecord, &Plan) -> Result<bool, Diagnostics>,
    observer: &dyn ApplyObserver,
) -> Result<(Prepared, RunOutcome), Diagnostics> {
    let current = Workspace::load(&load.clone().allowing_missing_variables())?;
    let store = current.open_state()?;
    let Some(target) = store.apply_record(to).await.map_err(state_error)? else {
        return Err(Diagnostic::error(
            "No such apply",
            format!("The audit log of environment \"{}\" has no apply #{to}. List them with: braid history", current.env_name),
        )
        .into());
    };
    if target.operation == "destroy" {
        return Err(Diagnostic::error(
            "Cannot roll back to a destroy",
            format!("Apply #{to} destroyed the environment; use braid destroy instead of rolling back to it."),
        )
        .into());
    }
    let mut pinned = load;
    pinned.sources.pins = rollback_pins(&current, &target)?;
    let prepared = prepare(registry, &pinned).await?;
    let mut ask = |plan: &Plan| approve(&target, plan);
    let outcome = converge(
        &prepared,
        PlanMode::Normal,
        Operation::Rollback(target.id),
        &RunOptions {
            refresh: true,
            ..options.clone()
        },
        &mut ask,
        observer,
    )
    .await?;
    Ok((prepared, outcome))
}

/// The commits to read: every git source at the commit the target apply recorded. A plain
/// directory cannot be read at another commit, so it must still hold what was deployed.
fn rollback_pins(
    current: &Workspace,
    target: &ApplyRecord,
) -> Result<BTreeMap<String, Pin>, Diagnostics> {
    let mut pins = BTreeMap::new();
    let mut diags = Diagnostics::new();
    for recorded in &target.sources {
        let Some(now) = current.sources.iter().find(|s| s.name == recorded.name) else {
            diags.push(Diagnostic::error(
                "Source no longer configured",
                format!(
                    "Apply #{} read source \"{}\", which braid.hcl no longer declares. Restore the source block to roll back.",
                    target.id, recorded.name
                ),
            ));
            continue;
        };
        let is_git = current
            .project
            .sources
            .iter()
            .any(|s| s.name == recorded.name && s.repo.is_some());
        let pin = |commit: &String| Pin {
            commit: commit.clone(),
            reference: recorded.reference.clone(),
            tag: recorded.tag.clone(),
            full_ref: recorded.full_ref.clone(),
        };
        match (&recorded.commit, is_git) {
            (Some(commit), true) => {
                pins.insert(recorded.name.clone(), pin(commit));
            }
            _ if now.revision.digest == recorded.digest => {}
            // A plain directory inside a git work tree: the commit the apply recorded is read
            // from that repository (the directory's files at that commit), when the apply
            // deployed committed files.
            (Some(commit), false) if !recorded.dirty && now.revision.commit.is_some() => {
                pins.insert(recorded.name.clone(), pin(commit));
            }
            (Some(commit), false) if recorded.dirty => diags.push(Diagnostic::error(
                "Cannot roll back a plain directory",
                format!(
                    "Apply #{} deployed source \"{}\" with uncommitted changes on top of commit {commit}: what it deployed is in no commit, so braid cannot read it back. Restore those files by hand and run braid apply.",
                    target.id, recorded.name
                ),
            )),
            _ => diags.push(Diagnostic::error(
                "Cannot roll back a plain directory",
                format!(
                    "Source \"{}\" is a directory, and its files differ from what apply #{} deployed{}. {}",
                    recorded.name,
                    target.id,
                    recorded.commit.as_ref().map(|c| format!(" (commit {c})")).unwrap_or_default(),
                    if recorded.commit.is_some() {
                        "The directory is no longer inside the git work tree that commit came from: run braid rollback from a checkout of that repository."
                    } else {
                        "That apply ran outside any git work tree, so no commit holds its files: restore them by hand and run braid apply, or keep the source in git."
                    }
                ),
            )),
        }
    }
    diags.into_result(pins)
}
