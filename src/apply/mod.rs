//! The executor: carries out a plan on tokio, in dependency order, committing each
//! resource's result to state the moment it is known.
//!
//! Creates, updates, replacements and imports run first, each after the resources it needs.
//! Deletes run after them in reverse dependency order, so nothing is deleted while something
//! that still used it has not been updated. A failure skips what depends on it; independent
//! branches finish.

mod consistency;
mod executor;
mod rule;
mod writer;

use std::time::Duration;

use braid_state::{ApplyId, ChangeOutcome, ChangeSummary};

use crate::diag::Diagnostic;
use crate::plan::{Action, OutputValue, ResourceChange};

pub use consistency::mismatches;
pub use executor::{ApplyOptions, apply_plan, lock_error as executor_lock_error};
pub use rule::check_apply_rule;

/// What happened to one change.
#[derive(Debug, Clone)]
pub struct ChangeResult {
    pub address: String,
    pub action: Action,
    pub outcome: ChangeOutcome,
    pub elapsed: Duration,
    /// Errors for a failed change; why it was skipped for a skipped one.
    pub diagnostics: Vec<Diagnostic>,
    pub skipped_because: Option<String>,
}

/// Receives progress while a plan is applied. Views implement it; the engine never prints.
pub trait ApplyObserver: Send + Sync {
    fn started(&self, change: &ResourceChange);
    fn progress(&self, address: &str, message: &str);
    fn finished(&self, result: &ChangeResult);
}

/// An observer that ignores everything (for tests and quiet runs).
pub struct SilentObserver;

impl ApplyObserver for SilentObserver {
    fn started(&self, _: &ResourceChange) {}
    fn progress(&self, _: &str, _: &str) {}
    fn finished(&self, _: &ChangeResult) {}
}

/// The end of an apply.
#[derive(Debug, Clone)]
pub struct ApplyReport {
    pub apply_id: ApplyId,
    pub summary: ChangeSummary,
    /// Results of every change that was attempted or skipped (no-ops left out).
    pub results: Vec<ChangeResult>,
    pub outputs: std::collections::BTreeMap<String, OutputValue>,
}

impl ApplyReport {
    pub fn succeeded(&self) -> bool {
        self.summary.failed == 0 && self.summary.skipped == 0
    }
}
