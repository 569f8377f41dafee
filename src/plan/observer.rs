//! Progress of a plan, reported as it happens. The planner never prints: views implement
//! [`PlanObserver`] to show progress, an agent to count it; every method defaults to doing
//! nothing.

use super::{DriftKind, ResourceChange};

/// Receives progress while a plan is made.
pub trait PlanObserver: Send + Sync {
    /// Reading `address` from its provider started (refresh).
    fn refresh_started(&self, _address: &str) {}
    /// `address` was read: `drift` says whether it differs from state or is gone.
    fn refreshed(&self, _address: &str, _drift: Option<DriftKind>) {}
    /// The provider planned `change` (no-ops included).
    fn planned(&self, _change: &ResourceChange) {}
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct SilentObserver;

impl PlanObserver for SilentObserver {}
