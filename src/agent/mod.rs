//! `braid agent`: keeps environments converged on git, in one long-running process.
//!
//! Each environment gets a loop of its own. Every `interval` (braid.hcl's per environment,
//! else `--interval`) — or at once when a push webhook arrives — it loads the
//! configuration and fetches the sources at their refs, through the same operations the CLI
//! calls ([`crate::ops`]), in this process. Then:
//!
//! - **new commits** (the sources differ from those of the last successful apply): a plan;
//!   with changes it is applied when the environment says `auto_apply = true` (and its
//!   apply rule allows the refs), else the environment is *out of sync* until someone
//!   applies;
//! - **no new commits**: nothing is planned until the drift interval (`drift { interval }`,
//!   10 minutes by default) has passed; then the live objects are read, and changes made
//!   outside braid are undone when the environment says `drift { heal = true }` (except on
//!   objects annotated `braid.dev/heal: "false"`), else reported as *drifted*.
//!
//! A failed cycle is tried again after a back-off that doubles from 5 seconds up to
//! 5 minutes (never later than the interval would), and is visible in the status. SIGTERM
//! or SIGINT lets a cycle in flight finish (an apply records what it did and releases the
//! lock), then the agent exits 0. The status of every environment is served over HTTP
//! ([`server`]).

pub mod lease;
pub mod notify;
pub mod server;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use braid_state::{ApplyOutcome, ApplyRecord, SourceRevision};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::apply::{CancelToken, SilentObserver};
use crate::config::notify::{NotifyConfig, NotifyEvent};
use crate::diag::{Diagnostic, Diagnostics};
use crate::ops::{self, RunOptions};
use crate::plan::{Plan, PlanMode, PlanOptions};
use crate::providers::ProviderRegistry;
use crate::workspace::LoadOptions;

/// How often an environment's sources are looked at when neither braid.hcl nor the command
/// line says.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
/// How often live objects are read for drift when the sources have not changed and the
/// environment's `drift` block does not say.
pub const DEFAULT_DRIFT_INTERVAL: Duration = Duration::from_secs(600);
/// The first wait after a failed cycle; each further failure doubles it.
pub const BACKOFF_START: Duration = Duration::from_secs(5);
/// The longest wait after failures.
pub const BACKOFF_MAX: Duration = Duration::from_secs(300);
/// How many applies the history of the page and the API shows.
pub const HISTORY_SHOWN: usize = 10;
/// The annotation by which a Kubernetes object opts out of healing (and the tag by which a
/// cloud resource does: `tags = { "braid.dev/heal" = "false" }`).
pub const HEAL_ANNOTATION: &str = "braid.dev/heal";

/// How the agent runs.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// The environments to reconcile.
    pub envs: Vec<String>,
    /// The interval of environments whose braid.hcl block sets none.
    pub interval: Duration,
    /// How the configuration is loaded (directory, variables…); `env` is set per
    /// environment.
    pub load: LoadOptions,
    /// Lock, parallelism and refresh settings of every apply.
    pub run: RunOptions,
    /// `braid serve`: plan every interval to show where environments stand, but never
    /// apply, heal or notify.
    pub read_only: bool,
    /// Share the environments with other replicas through leases in their state backends
    /// ([`lease`]); `None` reconciles every environment without asking (`braid serve`).
    pub lease: Option<LeaseOptions>,
}

/// How this replica takes part in sharing environments.
#[derive(Debug, Clone)]
pub struct LeaseOptions {
    /// This replica's id, unique among the replicas.
    pub replica: String,
    /// The heartbeat period: a lease not renewed for this long is taken over.
    pub heartbeat: Duration,
}

/// Where an environment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// Not reconciled yet.
    Unknown,
    /// Live objects match the configuration at the sources' current commits.
    Synced,
    /// New commits have changes nobody applied yet (`auto_apply` is off).
    OutOfSync,
    /// An apply is running.
    Applying,
    /// The last cycle failed (see `last_error`); it is tried again after a back-off.
    Failed,
    /// Objects were changed outside braid and are left so (`drift { heal = false }`, or
    /// objects that opt out of healing).
    Drifted,
}

impl SyncState {
    /// Every state, for metrics.
    pub const ALL: [SyncState; 6] = [
        SyncState::Unknown,
        SyncState::Synced,
        SyncState::OutOfSync,
        SyncState::Applying,
        SyncState::Failed,
        SyncState::Drifted,
    ];

    /// The name used in JSON and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Unknown => "unknown",
            SyncState::Synced => "synced",
            SyncState::OutOfSync => "out_of_sync",
            SyncState::Applying => "applying",
            SyncState::Failed => "failed",
            SyncState::Drifted => "drifted",
        }
    }
}

/// A source at a commit, as the status shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceCommit {
    /// The source's name in braid.hcl.
    pub name: String,
    /// The repository (path, or URL without its user part) or directory.
    pub repo: String,
    /// The ref asked for, if any.
    pub reference: Option<String>,
    /// The commit, when the source is in git.
    pub commit: Option<String>,
    /// The digest of the files read.
    pub digest: String,
}

impl SourceCommit {
    /// The commit's first 12 characters, or the digest's first 19 (`sha256:` and 12) for a
    /// source outside git.
    pub fn short(&self) -> String {
        match &self.commit {
            Some(c) => c.get(..12).unwrap_or(c).to_string(),
            None => self.digest.get(..19).unwrap_or(&self.digest).to_string(),
        }
    }
}

impl From<&SourceRevision> for SourceCommit {
    fn from(r: &SourceRevision) -> SourceCommit {
        SourceCommit {
            name: r.name.clone(),
            repo: r.repo.clone(),
            reference: r.reference.clone(),
            commit: r.commit.clone(),
            digest: r.digest.clone(),
        }
    }
}

/// The last apply of an environment, from its audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastApply {
    /// Its id in the audit log.
    pub id: i64,
    /// Who ran it.
    pub actor: String,
    /// `apply`, `destroy`, `rollback`.
    pub operation: String,
    /// When it started and finished.
    pub started_at: DateTime<Utc>,
    /// `None` while it runs (or after it died).
    pub finished_at: Option<DateTime<Utc>>,
    /// `succeeded`, `failed`, `running`.
    pub outcome: String,
    /// Resources created, updated, replaced, deleted, imported, failed.
    pub summary: braid_state::ChangeSummary,
    /// Why a rule was set aside for it (`--override-window --reason`), if one was.
    pub note: Option<String>,
}

impl From<&ApplyRecord> for LastApply {
    fn from(a: &ApplyRecord) -> LastApply {
        LastApply {
            id: a.id,
            actor: a.actor.clone(),
            operation: a.operation.clone(),
            started_at: a.started_at,
            finished_at: a.finished_at,
            outcome: a.outcome.as_str().to_string(),
            summary: a.summary,
            note: a.note.clone(),
        }
    }
}

/// What the agent knows of one environment: served as JSON by `/api/environments`.
#[derive(Debug, Clone, Serialize)]
pub struct EnvironmentStatus {
    /// The environment's name.
    pub name: String,
    /// Where it stands.
    pub sync: SyncState,
    /// Whether new commits are applied without a person (`auto_apply`).
    pub auto_apply: bool,
    /// Whether changes made outside braid are undone (`drift { heal }`).
    pub heal: bool,
    /// The sources as the last cycle read them.
    pub sources: Vec<SourceCommit>,
    /// The sources of the last successful apply: what is deployed.
    pub deployed: Vec<SourceCommit>,
    /// The last apply of the audit log, whoever ran it.
    pub last_apply: Option<LastApply>,
    /// Changes planned and not applied (out of sync, drifted): addresses with their
    /// action.
    pub pending: Vec<PendingChange>,
    /// Resources whose live objects differ from state, as the last plan found them.
    pub drifted: Vec<String>,
    /// Cycles run, and applies the agent made (by outcome).
    pub reconciles: u64,
    /// Applies the agent made that succeeded.
    pub applies_succeeded: u64,
    /// Applies the agent made that failed.
    pub applies_failed: u64,
    /// Failed cycles in a row (0 after a good one).
    pub failures: u32,
    /// Why the last cycle failed.
    pub last_error: Option<String>,
    /// When the last cycle ended.
    pub last_reconcile: Option<DateTime<Utc>>,
    /// How long it took, in seconds.
    pub last_duration_seconds: Option<f64>,
    /// When live objects were last read.
    pub last_drift_check: Option<DateTime<Utc>>,
    /// When the next cycle is due.
    pub next_reconcile: Option<DateTime<Utc>>,
    /// Total seconds spent in cycles (for the duration metric).
    pub total_duration_seconds: f64,
    /// Whether this replica reconciles the environment (it holds the lease, or replicas do
    /// not share environments). Another replica's environments show what this one last
    /// saw of them.
    pub owned: bool,
    /// The replica holding the environment's lease, when replicas share environments.
    pub owner: Option<String>,
    /// Why the lease could not be kept, while it cannot.
    pub lease_error: Option<String>,
    /// The release windows' say on the pending changes, for environments with windows.
    pub window: Option<crate::config::window::WindowVerdict>,
    /// Every resource in state with its object's health, as the last plan found them.
    pub resources: Vec<ResourceStatus>,
    /// The newest applies, newest first, each with its changes and diff.
    pub history: Vec<HistoryEntry>,
    /// Whether this replica knows yet whether it reconciles the environment.
    #[serde(skip)]
    pub lease_known: bool,
}

/// A resource in state: its object's health, whether it drifted, and the change pending
/// for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceStatus {
    /// The resource's address.
    pub address: String,
    /// Its type.
    pub type_name: String,
    /// `healthy`, `progressing`, `degraded`, `missing`, `unknown`.
    pub health: braid_provider::HealthStatus,
    /// Why, when not healthy.
    pub message: Option<String>,
    /// The live object differs from state.
    pub drifted: bool,
    /// The change planned and not applied, if any (`update`, `delete`…).
    pub pending: Option<String>,
}

/// One apply of the history, as the page and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    /// The apply and its counts.
    #[serde(flatten)]
    pub apply: LastApply,
    /// The sources it applied.
    pub sources: Vec<SourceCommit>,
    /// What happened to each resource.
    pub changes: Vec<HistoryChange>,
    /// Its changes as the plan showed them (sensitive values masked), when kept.
    pub diff: Option<String>,
}

/// What an apply did to one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryChange {
    /// The resource.
    pub address: String,
    /// `create`, `update`, `replace`, `delete`, `import`.
    pub action: String,
    /// `succeeded`, `failed`, `skipped`.
    pub outcome: String,
    /// Why it failed or was skipped.
    pub message: Option<String>,
}

/// Renders an apply's plan for the history (the CLI gives the terminal's plain rendering).
pub type DiffRenderer = Arc<dyn Fn(&Plan) -> String + Send + Sync>;

/// A change planned and not applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingChange {
    /// The resource.
    pub address: String,
    /// `create`, `update`, `replace`, `delete`, …
    pub action: String,
}

impl EnvironmentStatus {
    fn new(name: &str) -> EnvironmentStatus {
        EnvironmentStatus {
            name: name.to_string(),
            sync: SyncState::Unknown,
            auto_apply: false,
            heal: false,
            sources: Vec::new(),
            deployed: Vec::new(),
            last_apply: None,
            pending: Vec::new(),
            drifted: Vec::new(),
            reconciles: 0,
            applies_succeeded: 0,
            applies_failed: 0,
            failures: 0,
            last_error: None,
            last_reconcile: None,
            last_duration_seconds: None,
            last_drift_check: None,
            next_reconcile: None,
            total_duration_seconds: 0.0,
            owned: false,
            owner: None,
            lease_error: None,
            window: None,
            resources: Vec::new(),
            history: Vec::new(),
            lease_known: false,
        }
    }
}

/// What the environment loops and the HTTP server share.
pub struct Shared {
    /// Every environment's status, by name.
    pub status: Mutex<BTreeMap<String, EnvironmentStatus>>,
    /// Wakes an environment's loop before its interval is over (a push webhook).
    pub wake: BTreeMap<String, Arc<tokio::sync::Notify>>,
    /// Sent each time a status changes (the status page follows it).
    pub changed: tokio::sync::watch::Sender<u64>,
    /// Raised when the agent stops.
    pub cancel: CancelToken,
}

impl Shared {
    /// A snapshot of every environment's status.
    pub fn snapshot(&self) -> Vec<EnvironmentStatus> {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Whether every environment this replica reconciles finished a cycle (good or not), and
    /// it knows which those are: the agent is ready.
    pub fn ready(&self) -> bool {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .all(|s| s.lease_known && (!s.owned || s.last_reconcile.is_some()))
    }

    /// Wakes every environment's loop.
    pub fn wake_all(&self) {
        for notify in self.wake.values() {
            notify.notify_one();
        }
    }

    fn update(&self, env: &str, change: impl FnOnce(&mut EnvironmentStatus)) {
        {
            let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(s) = status.get_mut(env) {
                change(s);
            }
        }
        self.changed.send_modify(|n| *n += 1);
    }
}

/// What an environment's loop and its lease loop share.
#[derive(Default)]
struct LeaseCell {
    /// This replica holds the lease.
    held: std::sync::atomic::AtomicBool,
    /// A cycle is running: the lease is not handed over now.
    busy: std::sync::atomic::AtomicBool,
}

/// The agent: its options, the providers on offer, and the state it shares.
pub struct Agent {
    options: AgentOptions,
    registry: ProviderRegistry,
    shared: Arc<Shared>,
    /// Called with each event (applied, out of sync, failed…), for the log.
    log: Arc<dyn Fn(&AgentEvent) + Send + Sync>,
    /// Sends what braid.hcl's `notify` blocks ask for.
    notifier: notify::Notifier,
    /// Renders the diff of each apply of the history; without it the history has none.
    render_diff: Option<DiffRenderer>,
}

/// Something the agent did or found, for its log.
#[derive(Debug, Clone, Serialize)]
pub struct AgentEvent {
    /// The environment.
    pub env: String,
    /// `applied`, `healed`, `out_of_sync`, `drifted`, `failed`.
    pub kind: &'static str,
    /// One line saying it.
    pub message: String,
}

/// What one cycle found or did.
#[derive(Debug, Clone, PartialEq)]
enum Cycle {
    /// Sources unchanged and no drift check due: nothing planned.
    Unchanged,
    /// Planned, nothing to do.
    Synced,
    /// Changes applied; `healed` when they only undid drift.
    Applied { changes: usize, healed: bool },
    /// Changes from new commits left for a person.
    OutOfSync(Vec<PendingChange>),
    /// Drift left as it is.
    Drifted(Vec<PendingChange>),
}

impl Agent {
    /// An agent for `options`, using the providers of `registry`; `log` receives every
    /// event.
    pub fn new(
        options: AgentOptions,
        registry: ProviderRegistry,
        cancel: CancelToken,
        log: Arc<dyn Fn(&AgentEvent) + Send + Sync>,
    ) -> Agent {
        let failed_log = Arc::clone(&log);
        let notifier = notify::Notifier::new(Arc::new(move |env: &str, message: String| {
            failed_log(&AgentEvent {
                env: env.to_string(),
                kind: "notify_failed",
                message,
            });
        }));
        let status = options
            .envs
            .iter()
            .map(|e| (e.clone(), EnvironmentStatus::new(e)))
            .collect();
        let wake = options
            .envs
            .iter()
            .map(|e| (e.clone(), Arc::new(tokio::sync::Notify::new())))
            .collect();
        Agent {
            options,
            registry,
            shared: Arc::new(Shared {
                status: Mutex::new(status),
                wake,
                changed: tokio::sync::watch::channel(0).0,
                cancel,
            }),
            log,
            notifier,
            render_diff: None,
        }
    }

    /// Renders each apply's diff in the history with `render`.
    pub fn with_diff_renderer(mut self, render: DiffRenderer) -> Agent {
        self.render_diff = Some(render);
        self
    }

    /// Reads the newest applies with their changes and diffs into the status.
    async fn refresh_history(
        &self,
        env: &str,
        prepared: &ops::Prepared,
    ) -> Result<(), Diagnostics> {
        let history = history_entries(prepared, self.render_diff.as_ref()).await?;
        self.shared.update(env, |s| s.history = history);
        Ok(())
    }

    /// Asks every resource's provider how its object is doing, and marks drift and pending
    /// changes from `plan`.
    async fn refresh_resources(
        &self,
        env: &str,
        prepared: &ops::Prepared,
        plan: Option<&Plan>,
    ) -> Result<(), Diagnostics> {
        let resources = resource_statuses(prepared, plan, self.options.run.parallelism).await?;
        self.shared.update(env, |s| s.resources = resources);
        Ok(())
    }

    /// What the loops and the server share.
    pub fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }

    /// Runs every environment's loop until the cancel token is raised; a cycle in flight
    /// then finishes first, and the leases are given up.
    pub async fn run(&self) {
        let loops = self.options.envs.iter().map(|env| async move {
            match &self.options.lease {
                None => {
                    self.shared.update(env, |s| {
                        s.owned = true;
                        s.lease_known = true;
                    });
                    self.env_loop(env, None).await;
                }
                Some(options) => {
                    let cell = LeaseCell::default();
                    futures::future::join(
                        self.env_loop(env, Some(&cell)),
                        self.lease_loop(env, options, &cell),
                    )
                    .await;
                }
            }
        });
        futures::future::join_all(loops).await;
        // Notifications of the last cycles still on their way get a moment.
        self.notifier.flush(Duration::from_secs(10)).await;
    }

    /// Keeps `env`'s lease: takes it when this replica should have it, renews it, hands it
    /// over, and tells the environment's loop. Ends when the agent stops and no cycle runs,
    /// giving the lease up.
    async fn lease_loop(&self, env: &str, options: &LeaseOptions, cell: &LeaseCell) {
        use std::sync::atomic::Ordering::SeqCst;
        let cancel = self.shared.cancel.clone();
        let wake = Arc::clone(&self.shared.wake[env]);
        let every = (options.heartbeat / 3).max(Duration::from_millis(10));
        let mut lease: Option<lease::EnvLease> = None;
        let mut last_error: Option<String> = None;
        let mut reported: Option<String> = None;
        loop {
            if lease.is_none() {
                let mut load = self.options.load.clone();
                load.env = Some(env.to_string());
                match crate::workspace::open_state_only(&load) {
                    Ok((_, store)) => {
                        lease = Some(lease::EnvLease::new(
                            store,
                            env,
                            &options.replica,
                            options.heartbeat,
                        ));
                    }
                    Err(diags) => last_error = Some(first_error(&diags)),
                }
            }
            if let Some(lease) = lease.as_mut() {
                let was_held = cell.held.load(SeqCst);
                let result = lease.tick(cell.busy.load(SeqCst)).await;
                let held = lease.is_held();
                cell.held.store(held, SeqCst);
                match result {
                    Ok(ownership) => {
                        last_error = None;
                        self.shared.update(env, |s| {
                            s.owned = held;
                            s.owner = ownership.holder;
                            s.lease_known = true;
                        });
                    }
                    Err(e) => {
                        let d = crate::diag::state_diagnostic(e);
                        last_error = Some(format!(
                            "cannot keep the lease in the state backend: {}: {}",
                            d.summary, d.detail
                        ));
                        self.shared.update(env, |s| s.owned = held);
                    }
                }
                if held && !was_held {
                    (self.log)(&AgentEvent {
                        env: env.to_string(),
                        kind: "lease_taken",
                        message: format!("replica {} reconciles {env}", options.replica),
                    });
                    wake.notify_one();
                } else if was_held && !held {
                    (self.log)(&AgentEvent {
                        env: env.to_string(),
                        kind: "lease_lost",
                        message: format!(
                            "replica {} no longer reconciles {env} (another replica has it now)",
                            options.replica
                        ),
                    });
                }
            }
            if last_error != reported {
                if let Some(message) = &last_error {
                    (self.log)(&AgentEvent {
                        env: env.to_string(),
                        kind: "lease_failed",
                        message: message.clone(),
                    });
                }
                self.shared
                    .update(env, |s| s.lease_error = last_error.clone());
                reported = last_error.clone();
            }
            if cancel.is_cancelled() && !cell.busy.load(SeqCst) {
                break;
            }
            if cancel.is_cancelled() {
                // The last cycle is finishing: keep the lease renewed until it has.
                let until = std::time::Instant::now() + every;
                while std::time::Instant::now() < until && cell.busy.load(SeqCst) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            } else {
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    () = cancel.cancelled() => {}
                }
            }
        }
        if let Some(mut lease) = lease
            && let Err(e) = lease.release().await
        {
            (self.log)(&AgentEvent {
                env: env.to_string(),
                kind: "lease_failed",
                message: format!(
                    "cannot give the lease up ({e}): another replica takes it over after a heartbeat period"
                ),
            });
        }
    }

    async fn env_loop(&self, env: &str, lease: Option<&LeaseCell>) {
        use std::sync::atomic::Ordering::SeqCst;
        let cancel = self.shared.cancel.clone();
        let wake = Arc::clone(&self.shared.wake[env]);
        let mut last_drift_check: Option<std::time::Instant> = None;
        let mut failures: u32 = 0;
        // When the sources were last looked at, and at which commits: a cycle that comes for
        // a drift check before the interval is over reads them at those commits (no fetch).
        let mut last_poll: Option<std::time::Instant> = None;
        let mut polled: Vec<SourceRevision> = Vec::new();
        let mut woken = false;
        let mut interval_was = self.options.interval;
        loop {
            if cancel.is_cancelled() {
                return;
            }
            if let Some(cell) = lease {
                // Another replica reconciles it: wait until this one takes the lease.
                while !cell.held.load(SeqCst) {
                    tokio::select! {
                        () = wake.notified() => {}
                        () = cancel.cancelled() => return,
                    }
                }
                cell.busy.store(true, SeqCst);
            }
            let started = std::time::Instant::now();
            let drift_interval = std::cell::Cell::new(DEFAULT_DRIFT_INTERVAL);
            let interval = std::cell::Cell::new(self.options.interval);
            let drift_due = |every: Duration| last_drift_check.is_none_or(|t| t.elapsed() >= every);
            let poll = woken || last_poll.is_none_or(|t| t.elapsed() >= interval_was);
            let pins = if poll { None } else { Some(pins_of(&polled)) };
            let read = std::cell::RefCell::new(Vec::new());
            let result = self
                .cycle(env, &drift_due, &interval, &drift_interval, pins, &read)
                .await;
            interval_was = interval.get();
            if poll && !read.borrow().is_empty() {
                last_poll = Some(started);
                polled = read.take();
            }
            if let Some(cell) = lease {
                cell.busy.store(false, SeqCst);
            }
            let elapsed = started.elapsed();
            let now = Utc::now();
            let wait = match &result {
                Ok((_, checked_drift)) => {
                    failures = 0;
                    if *checked_drift {
                        last_drift_check = Some(started);
                    }
                    let until_poll = interval
                        .get()
                        .saturating_sub(last_poll.map_or(Duration::ZERO, |t| t.elapsed()));
                    // Drift checks come between polls when their interval is shorter.
                    let drift = drift_interval.get();
                    if drift.is_zero() || drift >= until_poll {
                        until_poll
                    } else {
                        drift.max(Duration::from_millis(100))
                    }
                }
                Err(_) => {
                    failures = failures.saturating_add(1);
                    backoff(failures).min(interval.get().max(BACKOFF_START))
                }
            };
            match result {
                Ok((cycle, checked_drift)) => self.record(env, cycle, checked_drift, now),
                Err(diags) => {
                    let message = diags
                        .0
                        .iter()
                        .filter(|d| d.is_error())
                        .map(|d| format!("{}: {}", d.summary, d.detail))
                        .collect::<Vec<_>>()
                        .join("; ");
                    (self.log)(&AgentEvent {
                        env: env.to_string(),
                        kind: "failed",
                        message: format!(
                            "cycle failed ({failures} in a row), next try in {}s: {message}",
                            wait.as_secs()
                        ),
                    });
                    self.shared.update(env, |s| {
                        s.sync = SyncState::Failed;
                        s.failures = failures;
                        s.last_error = Some(message);
                    });
                }
            }
            self.shared.update(env, |s| {
                s.reconciles += 1;
                s.last_reconcile = Some(now);
                s.last_duration_seconds = Some(elapsed.as_secs_f64());
                s.total_duration_seconds += elapsed.as_secs_f64();
                s.next_reconcile = chrono::Duration::from_std(wait).ok().map(|w| now + w);
            });
            if cancel.is_cancelled() {
                return;
            }
            woken = tokio::select! {
                () = tokio::time::sleep(wait) => false,
                () = wake.notified() => true,
                () = cancel.cancelled() => return,
            };
        }
    }

    /// Records a good cycle's outcome in the status and the log.
    fn record(&self, env: &str, cycle: Cycle, checked_drift: bool, now: DateTime<Utc>) {
        match &cycle {
            Cycle::Unchanged | Cycle::Synced => {}
            Cycle::Applied { changes, healed } => (self.log)(&AgentEvent {
                env: env.to_string(),
                kind: if *healed { "healed" } else { "applied" },
                message: format!(
                    "{} {changes} change(s)",
                    if *healed { "healed" } else { "applied" }
                ),
            }),
            Cycle::OutOfSync(pending) => (self.log)(&AgentEvent {
                env: env.to_string(),
                kind: "out_of_sync",
                message: format!(
                    "out of sync, {} change(s) wait for an apply (auto_apply is off)",
                    pending.len()
                ),
            }),
            Cycle::Drifted(pending) => (self.log)(&AgentEvent {
                env: env.to_string(),
                kind: "drifted",
                message: format!(
                    "drifted, {} change(s) made outside braid left as they are",
                    pending.len()
                ),
            }),
        }
        self.shared.update(env, |s| {
            s.failures = 0;
            s.last_error = None;
            if checked_drift {
                s.last_drift_check = Some(now);
            }
            match cycle {
                Cycle::Unchanged => {
                    if s.sync == SyncState::Failed || s.sync == SyncState::Unknown {
                        s.sync = SyncState::Synced;
                    }
                }
                Cycle::Synced | Cycle::Applied { .. } => {
                    s.sync = SyncState::Synced;
                    s.pending.clear();
                }
                Cycle::OutOfSync(pending) => {
                    s.sync = SyncState::OutOfSync;
                    s.pending = pending;
                }
                Cycle::Drifted(pending) => {
                    s.sync = SyncState::Drifted;
                    s.pending = pending;
                }
            }
        });
    }

    /// One cycle: load, decide, plan, maybe apply. Returns what happened and whether live
    /// objects were read (a drift check).
    async fn cycle(
        &self,
        env: &str,
        drift_due: &dyn Fn(Duration) -> bool,
        interval: &std::cell::Cell<Duration>,
        drift_interval: &std::cell::Cell<Duration>,
        pins: Option<BTreeMap<String, crate::source::Pin>>,
        read: &std::cell::RefCell<Vec<SourceRevision>>,
    ) -> Result<(Cycle, bool), Diagnostics> {
        let mut load = self.options.load.clone();
        load.env = Some(env.to_string());
        if let Some(pins) = pins {
            load.sources.pins = pins;
        }
        let prepared = ops::prepare(&self.registry, &load).await?;
        *read.borrow_mut() = prepared
            .ws
            .sources
            .iter()
            .map(|s| s.revision.clone())
            .collect();
        if let Some(s) = prepared.ws.environment() {
            interval.set(s.interval.unwrap_or(self.options.interval));
            drift_interval.set(s.drift.interval.unwrap_or(DEFAULT_DRIFT_INTERVAL));
        }
        if self.options.read_only {
            // Every cycle reads the live objects: the status is all it is for.
            drift_interval.set(Duration::ZERO);
        }
        let Deployment {
            auto_apply,
            heal,
            current,
            deployed,
            last_apply,
            new_commits,
        } = deployment(&prepared).await?;
        let before = self.status_of(env);
        if before.history.first().map(|h| h.apply.id) != last_apply.as_ref().map(|a| a.id) {
            self.refresh_history(env, &prepared).await?;
        }
        let (may_apply, may_heal) = if self.options.read_only {
            (false, false)
        } else {
            (auto_apply, heal)
        };
        self.shared.update(env, |s| {
            s.auto_apply = auto_apply;
            s.heal = heal;
            s.sources = current.iter().map(SourceCommit::from).collect();
            s.deployed = deployed;
            s.last_apply = last_apply;
        });
        let drift_check = drift_due(drift_interval.get());
        // Out of sync stays out of sync until the commits change or someone applies:
        // planning again each interval would find the same changes.
        // (Unless a release window held it back: it is looked at again each interval.)
        let unchanged_since_last_plan = before.sync == SyncState::OutOfSync
            && before.window.as_ref().is_none_or(|w| w.allowed)
            && before.sources == current.iter().map(SourceCommit::from).collect::<Vec<_>>();
        // Without new commits there is nothing to plan between drift checks — unless the
        // environment was out of sync and someone else applied since.
        let skip = if new_commits {
            unchanged_since_last_plan
        } else {
            before.sync != SyncState::OutOfSync
        };
        if skip && !drift_check {
            return Ok((Cycle::Unchanged, false));
        }
        let plan = ops::plan(
            &prepared,
            &PlanOptions {
                mode: PlanMode::Normal,
                refresh: true,
                parallelism: self.options.run.parallelism,
                ..PlanOptions::default()
            },
            &crate::plan::SilentObserver,
        )
        .await?;
        self.refresh_resources(env, &prepared, Some(&plan)).await?;
        let drifted: Vec<String> = plan.drift.iter().map(|d| d.address.clone()).collect();
        let notify_to: Vec<NotifyConfig> = if self.options.read_only {
            Vec::new()
        } else {
            notify::targets(&prepared.ws)
        };
        let sources: Vec<SourceCommit> = current.iter().map(SourceCommit::from).collect();
        let tell = |event: NotifyEvent, message: String, changes: &[PendingChange]| {
            self.notifier.send(
                &notify_to,
                &notify::Notification {
                    event,
                    env: env.to_string(),
                    message,
                    sources: sources.clone(),
                    changes: changes.to_vec(),
                    time: Utc::now(),
                    status_url: None,
                },
            );
        };
        if !drifted.is_empty() && drifted != before.drifted {
            let changes: Vec<PendingChange> = plan
                .drift
                .iter()
                .map(|d| PendingChange {
                    address: d.address.clone(),
                    action: match d.kind {
                        crate::plan::DriftKind::Changed => "changed",
                        crate::plan::DriftKind::Deleted => "deleted",
                    }
                    .to_string(),
                })
                .collect();
            tell(
                NotifyEvent::DriftDetected,
                format!("{} object(s) changed outside braid", drifted.len()),
                &changes,
            );
        }
        self.shared.update(env, |s| s.drifted = drifted);
        let pending = pending_changes(&plan);
        if pending.is_empty() {
            return Ok((Cycle::Synced, true));
        }
        if new_commits {
            tell(
                NotifyEvent::PlanChanges,
                format!("{} change(s) planned for new commits", pending.len()),
                &pending,
            );
        }
        let targets = if new_commits {
            if !may_apply {
                tell(
                    NotifyEvent::OutOfSync,
                    format!(
                        "out of sync: {} change(s) wait for an apply (auto_apply is off)",
                        pending.len()
                    ),
                    &pending,
                );
                return Ok((Cycle::OutOfSync(pending), true));
            }
            Vec::new()
        } else {
            if !may_heal {
                return Ok((Cycle::Drifted(pending), true));
            }
            let (heal_these, keep) = split_heal(&plan);
            if heal_these.is_empty() {
                return Ok((Cycle::Drifted(pending), true));
            }
            if keep.is_empty() {
                Vec::new()
            } else {
                heal_these
            }
        };
        // The release windows: the agent waits for one (it is no person: `manual_apply`
        // windows hold it back too).
        let verdict = ops::window_verdict(&prepared.ws, &plan, false)?;
        let blocked = !verdict.allowed;
        self.shared.update(env, |s| {
            s.window = prepared
                .ws
                .environment()
                .filter(|e| !e.windows.is_empty())
                .map(|_| verdict.clone());
        });
        if blocked {
            let windows = prepared
                .ws
                .environment()
                .map(|e| e.windows.clone())
                .unwrap_or_default();
            (self.log)(&AgentEvent {
                env: env.to_string(),
                kind: "window_closed",
                message: format!(
                    "waiting for the release window ({}); it opens {}",
                    verdict.reason,
                    verdict.next_open_text(&windows)
                ),
            });
            return Ok((
                if new_commits {
                    Cycle::OutOfSync(pending)
                } else {
                    Cycle::Drifted(pending)
                },
                true,
            ));
        }
        self.shared.update(env, |s| s.sync = SyncState::Applying);
        tell(
            NotifyEvent::ApplyStarted,
            format!("applying {} change(s)", pending.len()),
            &pending,
        );
        let options = RunOptions {
            targets,
            manual: false,
            ..self.options.run.clone()
        };
        let outcome = ops::apply(
            &prepared,
            &options,
            &mut |plan: &Plan| Ok(plan.has_changes()),
            &SilentObserver,
        )
        .await;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(diags) => {
                self.shared.update(env, |s| s.applies_failed += 1);
                tell(
                    NotifyEvent::ApplyFailed,
                    format!("apply failed: {}", first_error(&diags)),
                    &pending,
                );
                return Err(diags);
            }
        };
        let after = prepared
            .store
            .applies(1)
            .await
            .map_err(crate::diag::state_error)?;
        self.refresh_history(env, &prepared).await?;
        self.refresh_resources(env, &prepared, None).await?;
        let report_errors: Vec<Diagnostic> = outcome
            .report
            .as_ref()
            .map(|r| r.errors.clone())
            .unwrap_or_default();
        let succeeded = outcome.succeeded();
        self.shared.update(env, |s| {
            if succeeded {
                s.applies_succeeded += 1;
            } else {
                s.applies_failed += 1;
            }
            s.last_apply = after.first().map(LastApply::from);
            if succeeded && new_commits {
                s.deployed = s.sources.clone();
            }
        });
        if !succeeded {
            let mut diags = Diagnostics::new();
            diags.push(Diagnostic::error(
                "Apply failed",
                format!(
                    "The agent's apply of {env} did not finish{}.",
                    outcome
                        .report
                        .as_ref()
                        .map(|r| format!(
                            ": {} change(s) failed, {} skipped",
                            r.summary.failed, r.summary.skipped
                        ))
                        .unwrap_or_default()
                ),
            ));
            for d in report_errors {
                diags.push(d);
            }
            tell(
                NotifyEvent::ApplyFailed,
                format!("apply failed: {}", first_error(&diags)),
                &pending,
            );
            return Err(diags);
        }
        let changes = outcome.report.as_ref().map_or(0, |r| r.results.len());
        tell(
            NotifyEvent::ApplySucceeded,
            format!("applied {changes} change(s)"),
            &pending,
        );
        if !new_commits {
            tell(
                NotifyEvent::DriftHealed,
                format!("undid {changes} change(s) made outside braid"),
                &pending,
            );
        }
        Ok((
            Cycle::Applied {
                changes,
                healed: !new_commits,
            },
            true,
        ))
    }

    fn status_of(&self, env: &str) -> EnvironmentStatus {
        self.shared
            .status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(env)
            .cloned()
            .unwrap_or_else(|| EnvironmentStatus::new(env))
    }
}

/// An environment's settings and what is deployed there, against its sources now.
struct Deployment {
    auto_apply: bool,
    heal: bool,
    /// The sources as read now.
    current: Vec<SourceRevision>,
    /// The sources of the last successful apply (not a destroy).
    deployed: Vec<SourceCommit>,
    /// The last apply of the audit log, whoever ran it.
    last_apply: Option<LastApply>,
    /// The sources differ from the deployed ones (or nothing was ever deployed).
    new_commits: bool,
}

async fn deployment(prepared: &ops::Prepared) -> Result<Deployment, Diagnostics> {
    let (auto_apply, heal) = prepared
        .ws
        .environment()
        .map_or((false, false), |s| (s.auto_apply, s.drift.heal));
    let current: Vec<SourceRevision> = prepared
        .ws
        .sources
        .iter()
        .map(|s| s.revision.clone())
        .collect();
    let applies = prepared
        .store
        .applies(50)
        .await
        .map_err(crate::diag::state_error)?;
    let deployed = applies
        .iter()
        .find(|a| a.outcome == ApplyOutcome::Succeeded && a.operation != "destroy");
    Ok(Deployment {
        auto_apply,
        heal,
        new_commits: deployed.is_none_or(|a| !same_sources(&a.sources, &current)),
        deployed: deployed
            .map(|a| a.sources.iter().map(SourceCommit::from).collect())
            .unwrap_or_default(),
        last_apply: applies.first().map(LastApply::from),
        current,
    })
}

/// The status of the environment `load` names, found without an agent: what is deployed
/// (the audit log) and a plan against the live objects — synced, out of sync (changes from
/// new commits) or drifted (changes without new commits). Nothing is written. This is
/// `braid status`.
pub async fn assess(
    registry: &ProviderRegistry,
    load: &LoadOptions,
    parallelism: usize,
    render: Option<&DiffRenderer>,
) -> Result<EnvironmentStatus, Diagnostics> {
    let name = load.env.clone().unwrap_or_else(|| "default".to_string());
    let prepared = ops::prepare(registry, load).await?;
    let deployment = deployment(&prepared).await?;
    let plan = ops::plan(
        &prepared,
        &PlanOptions {
            mode: PlanMode::Normal,
            refresh: true,
            parallelism,
            ..PlanOptions::default()
        },
        &crate::plan::SilentObserver,
    )
    .await?;
    let pending = pending_changes(&plan);
    let mut status = EnvironmentStatus::new(&name);
    status.sync = match (pending.is_empty(), deployment.new_commits) {
        (true, _) => SyncState::Synced,
        (false, true) => SyncState::OutOfSync,
        (false, false) => SyncState::Drifted,
    };
    status.auto_apply = deployment.auto_apply;
    status.heal = deployment.heal;
    status.sources = deployment.current.iter().map(SourceCommit::from).collect();
    status.deployed = deployment.deployed;
    status.last_apply = deployment.last_apply;
    status.pending = pending;
    status.drifted = plan.drift.iter().map(|d| d.address.clone()).collect();
    status.last_drift_check = Some(Utc::now());
    status.resources = resource_statuses(&prepared, Some(&plan), parallelism).await?;
    status.window = plan.window.clone();
    status.history = history_entries(&prepared, render).await?;
    status.owned = true;
    Ok(status)
}

/// The newest [`HISTORY_SHOWN`] applies of the environment, newest first, with their
/// changes and (rendered by `render`) their diffs.
pub async fn history_entries(
    prepared: &ops::Prepared,
    render: Option<&DiffRenderer>,
) -> Result<Vec<HistoryEntry>, Diagnostics> {
    let entries = ops::history::recent(prepared.store.as_ref(), HISTORY_SHOWN).await?;
    Ok(entries
        .into_iter()
        .map(|e| HistoryEntry {
            apply: LastApply::from(&e.apply),
            sources: e.apply.sources.iter().map(SourceCommit::from).collect(),
            changes: e
                .changes
                .iter()
                .map(|c| HistoryChange {
                    address: c.address.clone(),
                    action: c.action.as_str().to_string(),
                    outcome: c.outcome.as_str().to_string(),
                    message: c.message.clone(),
                })
                .collect(),
            diff: match (&e.plan, render) {
                (Some(plan), Some(render)) => Some(render(plan)),
                _ => None,
            },
        })
        .collect())
}

/// Every resource in state with its object's health (asking providers, `parallelism` at a
/// time), drift and pending change as `plan` found them.
pub async fn resource_statuses(
    prepared: &ops::Prepared,
    plan: Option<&Plan>,
    parallelism: usize,
) -> Result<Vec<ResourceStatus>, Diagnostics> {
    let health = ops::history::health(prepared, parallelism).await?;
    Ok(health
        .into_iter()
        .map(|h| {
            let drift = plan.and_then(|p| p.drift.iter().find(|d| d.address == h.address));
            let pending = plan
                .and_then(|p| p.change(&h.address))
                .filter(|c| c.action.is_change())
                .map(|c| c.action.as_str().to_string());
            let deleted = drift.is_some_and(|d| d.kind == crate::plan::DriftKind::Deleted);
            ResourceStatus {
                address: h.address,
                type_name: h.type_name,
                health: if deleted {
                    braid_provider::HealthStatus::Missing
                } else {
                    h.health
                },
                message: h.message,
                drifted: drift.is_some(),
                pending,
            }
        })
        .collect())
}

/// The first error of `diags` as one line.
pub(crate) fn first_error(diags: &Diagnostics) -> String {
    diags
        .0
        .iter()
        .find(|d| d.is_error())
        .map(|d| format!("{}: {}", d.summary, d.detail))
        .unwrap_or_default()
}

/// The commits `sources` were read at, as pins: git sources are read there again without a
/// fetch (plain directories are read from disk anyway).
fn pins_of(sources: &[SourceRevision]) -> BTreeMap<String, crate::source::Pin> {
    sources
        .iter()
        .filter(|s| s.reference.is_some())
        .filter_map(|s| {
            Some((
                s.name.clone(),
                crate::source::Pin {
                    commit: s.commit.clone()?,
                    reference: s.reference.clone(),
                    tag: s.tag.clone(),
                    full_ref: s.full_ref.clone(),
                },
            ))
        })
        .collect()
}

/// The wait after `failures` failed cycles in a row: 5 s, 10 s, 20 s… up to 5 minutes.
pub fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    BACKOFF_START
        .saturating_mul(1u32 << doublings)
        .min(BACKOFF_MAX)
}

/// Whether two lists of sources are the same: same names, commits (a file that only an
/// expression reads, `file("content.txt")`, changes the commit but not the digest of the
/// configuration files) and digests.
fn same_sources(deployed: &[SourceRevision], current: &[SourceRevision]) -> bool {
    deployed.len() == current.len()
        && deployed
            .iter()
            .zip(current)
            .all(|(a, b)| a.name == b.name && a.commit == b.commit && a.digest == b.digest)
}

/// The changes of a plan (no-ops and reads left out).
fn pending_changes(plan: &Plan) -> Vec<PendingChange> {
    plan.changes
        .iter()
        .filter(|c| c.action.is_change())
        .map(|c| PendingChange {
            address: c.address.clone(),
            action: c.action.as_str().to_string(),
        })
        .collect()
}

/// The changed addresses of a drift-only plan split into those to heal and those whose
/// object opts out (annotation `braid.dev/heal: "false"` on the live or planned object, or
/// the tag `braid.dev/heal = "false"` of a cloud resource).
fn split_heal(plan: &Plan) -> (Vec<String>, Vec<String>) {
    // A Kubernetes object by its annotation, a cloud resource by its tag of the same name.
    let opts_out = |value: Option<&braid_provider::Value>| {
        let annotation = value
            .and_then(|v| v.attr("metadata"))
            .and_then(|m| m.attr("annotations"))
            .and_then(|a| a.attr(HEAL_ANNOTATION));
        let tag = value
            .and_then(|v| v.attr("tags"))
            .and_then(|t| t.attr(HEAL_ANNOTATION));
        annotation.or(tag).and_then(braid_provider::Value::as_str) == Some("false")
    };
    let mut heal = Vec::new();
    let mut keep = Vec::new();
    for change in plan.changes.iter().filter(|c| c.action.is_change()) {
        if opts_out(change.after.as_ref()) || opts_out(change.before.as_ref()) {
            keep.push(change.address.clone());
        } else {
            heal.push(change.address.clone());
        }
    }
    (heal, keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_five_seconds_to_five_minutes() {
        let waits: Vec<u64> = (1..=9).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [5, 10, 20, 40, 80, 160, 300, 300, 300]);
        assert_eq!(backoff(u32::MAX), BACKOFF_MAX);
    }
}
