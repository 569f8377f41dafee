//! The executor: carries out a plan on tokio, in dependency order, committing each
//! resource's result to state the moment it is known.
//!
//! Creates, updates, replacements and imports run first, each after the resources it needs.
//! Deletes run after them in reverse dependency order, so nothing is deleted while something
//! that still used it has not been updated. A failure skips what depends on it; independent
//! branches finish.
//!
//! The parts: [`lock`] (the environment's lock and its heartbeat), [`audit`] (the audit
//! log), `freshness` (is the reviewed plan still the one to apply), `order` (the apply
//! graph), `executor` (the per-change state machine), `writer` (group commit of results)
//! and [`CancelToken`] (stopping cleanly).

pub mod audit;
mod cancel;
mod consistency;
mod executor;
mod freshness;
pub mod lock;
mod order;
mod rule;
mod writer;

use std::time::Duration;

use braid_state::{ApplyId, ChangeOutcome, ChangeSummary};

use crate::diag::Diagnostic;
use crate::plan::{Action, OutputValue, PlanObserver, ResourceChange};

pub use cancel::CancelToken;
pub use consistency::mismatches;
pub use executor::{ApplyOptions, apply_plan, apply_plan_locked, record_outputs};
pub use lock::{LockObserver, LockSettings, with_lock};
pub use rule::check_apply_rule;

/// What happened to one change.
#[derive(Debug, Clone)]
pub struct ChangeResult {
    /// The resource's address.
    pub address: String,
    /// What was planned for it.
    pub action: Action,
    /// Applied, failed or skipped.
    pub outcome: ChangeOutcome,
    /// How long the change took (zero for skipped ones).
    pub elapsed: Duration,
    /// Errors for a failed change; why it was skipped for a skipped one.
    pub diagnostics: Vec<Diagnostic>,
    /// For a skipped change, why, as shown to the user: `depends on local_file.a which failed`, or
    /// `not started: the apply was interrupted`. `None` for changes that ran.
    pub skipped_because: Option<String>,
}

/// Receives progress while a plan is made and applied: plan events (refresh, planned
/// changes), lock events, and apply events. Views implement it; the engine never prints.
/// Every method defaults to doing nothing.
pub trait ApplyObserver: PlanObserver + LockObserver {
    /// The apply begins: `changes` changes (no-ops left out) will start or be skipped.
    fn applying(&self, _changes: usize) {}
    /// A change started.
    fn started(&self, _change: &ResourceChange) {}
    /// A change in flight reports progress ("1/3 replicas available").
    fn progress(&self, _address: &str, _message: &str) {}
    /// A change ended: applied, failed, or skipped.
    fn finished(&self, _result: &ChangeResult) {}
    /// Every change ended (or, interrupted, will not start): nothing more is reported.
    fn applied(&self) {}
}

pub use crate::plan::SilentObserver;

impl LockObserver for SilentObserver {}
impl ApplyObserver for SilentObserver {}

/// The end of an apply.
#[derive(Debug, Clone)]
pub struct ApplyReport {
    /// The audit log entry of this apply.
    pub apply_id: ApplyId,
    /// Counts of what was applied, failed and skipped.
    pub summary: ChangeSummary,
    /// Results of every change that was attempted or skipped (no-ops left out).
    pub results: Vec<ChangeResult>,
    /// Output values after the apply (empty for destroys and interrupted applies).
    pub outputs: std::collections::BTreeMap<String, OutputValue>,
    /// Failures of the run itself rather than of one change: an audit record or the
    /// closing of the audit entry that could not be written.
    pub errors: Vec<Diagnostic>,
    /// The apply was interrupted: changes in flight finished, the rest did not start.
    pub cancelled: bool,
    /// Warnings that do not make the apply fail: the providers' (a deprecated argument, …),
    /// then `check` blocks whose assertions are false after the changes.
    pub warnings: Vec<Diagnostic>,
}

impl ApplyReport {
    /// Everything planned was applied and recorded.
    pub fn succeeded(&self) -> bool {
        self.summary.failed == 0
            && self.summary.skipped == 0
            && self.errors.is_empty()
            && !self.cancelled
    }
}
