//! Plans: what braid will change, as plain data.
//!
//! A [`Plan`] is made by [`planner::make_plan`] (refresh, then diff desired against actual),
//! rendered by `view`, saved with [`file`], and carried out by `apply`. The JSON form is
//! documented in docs/plan-json.md.

pub mod file;
mod observer;
pub mod planner;
mod refresh;
mod scope;

use std::collections::BTreeMap;

use braid_provider::{Path, Value};
use braid_state::SourceRevision;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use observer::{PlanObserver, SilentObserver};
pub use planner::{PlanOptions, make_plan};
pub use scope::EvalScope;

/// The version of the plan JSON format. Bumped on any incompatible change.
pub const FORMAT_VERSION: &str = "1.0";

/// What a change does to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Make a new object.
    Create,
    /// Change an object in place.
    Update,
    /// Delete and create again (or create first with `create_before_destroy`), because an
    /// attribute that cannot change in place changes.
    Replace,
    /// Delete an object that left the configuration (or everything, for destroy).
    Delete,
    /// Nothing to do.
    NoOp,
    /// Adopt an object that exists but is not in state.
    Import,
}

impl Action {
    /// The name used in plan JSON and the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
            Action::NoOp => "no-op",
            Action::Import => "import",
        }
    }

    /// True for actions that change something.
    pub fn is_change(self) -> bool {
        self != Action::NoOp
    }
}

/// The state a plan was made against; applying it requires the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateRef {
    pub lineage: String,
    pub serial: u64,
}

/// One resource's planned change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    pub address: String,
    /// `main.hcl:12`
    pub source_file: Option<String>,
    /// The source the resource is declared in (`infra`, `apps`); `None` for resources
    /// deleted because they left the configuration.
    #[serde(default)]
    pub source: Option<String>,
    pub provider: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub action: Action,
    /// Why, in a few words: "not in configuration", "deleted outside braid", "filename forces replacement".
    pub reason: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    /// Paths of `after` only known after apply.
    pub after_unknown: Vec<Path>,
    pub before_sensitive: Vec<Path>,
    pub after_sensitive: Vec<Path>,
    /// Attributes whose change forces replacement.
    pub replace_paths: Vec<Path>,
    /// Sensitive paths whose value changes. Masking hides both sides, so this keeps a saved
    /// plan able to say *that* a secret changes (never what it changes to).
    #[serde(default)]
    pub sensitive_changed: Vec<Path>,
    /// Addresses this resource needs (for creates and updates), or needed (for deletes).
    pub depends_on: Vec<String>,
    pub create_before_destroy: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// The live object differs from what state recorded.
    Changed,
    /// The live object is gone.
    Deleted,
}

/// A difference between state and the live object, found by refresh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceDrift {
    pub address: String,
    pub provider: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub kind: DriftKind,
    /// As recorded in state.
    pub before: Value,
    /// As found live (`None` when deleted).
    pub after: Option<Value>,
    pub sensitive: Vec<Path>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputValue {
    pub value: Value,
    pub unknown: bool,
    pub sensitive: bool,
}

/// A variable's value as planned. Sensitive values are never written; a salted digest lets
/// apply check they did not change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedVariable {
    pub value: Option<Value>,
    pub sensitive: bool,
    pub digest: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanMode {
    /// Converge on the configuration.
    Normal,
    /// Delete everything in state.
    Destroy,
    /// Only compare state with live objects.
    RefreshOnly,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: String,
    pub braid_version: String,
    pub created_at: DateTime<Utc>,
    pub env: String,
    pub mode: PlanMode,
    pub refreshed: bool,
    pub sources: Vec<SourceRevision>,
    pub state: StateRef,
    pub variables: BTreeMap<String, PlannedVariable>,
    pub changes: Vec<ResourceChange>,
    pub drift: Vec<ResourceDrift>,
    pub outputs: BTreeMap<String, OutputValue>,
    /// Objects whose manifests were removed but that stay (annotation
    /// `braid.dev/prune: "false"`): left alone, still in state.
    #[serde(default)]
    pub kept: Vec<String>,
    /// Random salt for the sensitive variable digests.
    pub salt: String,
}

/// Counts of changes by action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PlanSummary {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    pub import: usize,
    pub no_op: usize,
    pub drift: usize,
}

impl Plan {
    pub fn summary(&self) -> PlanSummary {
        let mut s = PlanSummary {
            drift: self.drift.len(),
            ..PlanSummary::default()
        };
        for c in &self.changes {
            match c.action {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Replace => s.replace += 1,
                Action::Delete => s.delete += 1,
                Action::Import => s.import += 1,
                Action::NoOp => s.no_op += 1,
            }
        }
        s
    }

    /// True when applying would change something.
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action.is_change())
    }

    pub fn change(&self, address: &str) -> Option<&ResourceChange> {
        self.changes.iter().find(|c| c.address == address)
    }

    /// A copy safe to show or write anywhere: every sensitive value replaced by
    /// `"(sensitive)"`.
    pub fn masked(&self) -> Plan {
        let mut plan = self.clone();
        for change in &mut plan.changes {
            if let (Some(before), Some(after)) = (&change.before, &change.after) {
                let mut paths: Vec<&Path> = change
                    .before_sensitive
                    .iter()
                    .chain(&change.after_sensitive)
                    .collect();
                paths.sort();
                paths.dedup();
                change.sensitive_changed = paths
                    .into_iter()
                    .filter(|p| before.get(p) != after.get(p))
                    .cloned()
                    .collect();
            }
            if let Some(before) = &mut change.before {
                mask(before, &change.before_sensitive);
            }
            if let Some(after) = &mut change.after {
                mask(after, &change.after_sensitive);
            }
        }
        for drift in &mut plan.drift {
            mask(&mut drift.before, &drift.sensitive);
            if let Some(after) = &mut drift.after {
                mask(after, &drift.sensitive);
            }
        }
        for output in plan.outputs.values_mut() {
            if output.sensitive {
                output.value = Value::from(SENSITIVE);
            }
        }
        plan
    }
}

/// What every view prints in place of a sensitive value.
pub const SENSITIVE: &str = "(sensitive)";

/// Replaces the values at `paths` by the sensitive marker.
pub fn mask(value: &mut Value, paths: &[Path]) {
    for path in paths {
        if path.is_root() {
            *value = Value::from(SENSITIVE);
        } else if value.get(path).is_some_and(|v| !v.is_null()) {
            value.set(path, Value::from(SENSITIVE));
        }
    }
}
