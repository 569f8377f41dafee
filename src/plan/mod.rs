//! Plans: what braid will change, as plain data.
//!
//! A [`Plan`] is made by [`planner::make_plan`] (refresh, then diff desired against actual),
//! rendered by `view`, saved with [`file`](mod@file), and carried out by `apply`. The JSON form is
//! documented in docs/plan-json.md.

pub mod file;
mod observer;
pub mod planner;
mod refresh;
pub mod sensitivity;

use std::collections::BTreeMap;

use braid_provider::{Path, Value};
use braid_state::SourceRevision;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::eval::EvalScope;
pub use observer::{PlanObserver, SilentObserver};
pub use planner::{PlanOptions, make_plan};

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
    /// Read a data source during apply: its arguments depend on values not known at plan.
    Read,
    /// Drop a resource from state without destroying its object (a `removed` block with
    /// `lifecycle { destroy = false }`).
    Forget,
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
            Action::Read => "read",
            Action::Forget => "forget",
        }
    }

    /// True for actions that change something (reading a data source changes nothing).
    pub fn is_change(self) -> bool {
        !matches!(self, Action::NoOp | Action::Read)
    }
}

/// The state a plan was made against; applying it requires the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateRef {
    /// The state's lineage: a random id given when the state was created, so a plan made against
    /// another environment's (or a recreated) state is refused.
    pub lineage: String,
    /// The state's serial when the plan was made; every commit to state increments it, so a plan
    /// made before another apply is refused as stale.
    pub serial: u64,
}

/// One resource's planned change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    /// The resource's address: `TYPE.NAME` (`local_file.motd`) for HCL resources,
    /// `k8s/GROUP/KIND/NAMESPACE/NAME` (`k8s/apps/Deployment/shop/web`) for Kubernetes objects.
    pub address: String,
    /// Where the resource is declared, as `file:line` (`main.hcl:12`, `apps:k8s/web.yaml:1`);
    /// for deletes, as state recorded it, `None` when state has no location.
    pub source_file: Option<String>,
    /// The source the resource is declared in (`infra`, `apps`); `None` for resources
    /// deleted because they left the configuration.
    #[serde(default)]
    pub source: Option<String>,
    /// The name of the provider that manages the resource (`local`, `kubernetes`, `aws`).
    pub provider: String,
    /// The resource type (`local_file`, `aws_s3_bucket`); serialized as `type`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// What applying does to the resource.
    pub action: Action,
    /// Why, in a few words: "not in configuration", "deleted outside braid", "filename forces replacement".
    pub reason: Option<String>,
    /// The object now: as refreshed from the live API, else as state recorded it; for an
    /// import, the existing object as the provider found it. `None` for creates.
    pub before: Option<Value>,
    /// The object after apply, with unknown parts as null (listed in `after_unknown`). `None` for
    /// deletes.
    pub after: Option<Value>,
    /// Paths of `after` only known after apply.
    pub after_unknown: Vec<Path>,
    /// Paths of `before` that hold sensitive values; masked in every view and saved plan.
    pub before_sensitive: Vec<Path>,
    /// Paths of `after` that hold sensitive values: marked so by the schema, the provider, or
    /// computed from a sensitive variable. Masked in every view and saved plan.
    pub after_sensitive: Vec<Path>,
    /// Attributes whose change forces replacement.
    pub replace_paths: Vec<Path>,
    /// Sensitive paths whose value changes. Masking hides both sides, so this keeps a saved
    /// plan able to say *that* a secret changes (never what it changes to).
    #[serde(default)]
    pub sensitive_changed: Vec<Path>,
    /// Addresses this resource needs (for creates and updates), or needed (for deletes).
    pub depends_on: Vec<String>,
    /// A replacement creates the new object before deleting the old one (`lifecycle {
    /// create_before_destroy = true }`).
    pub create_before_destroy: bool,
    /// The address state holds this resource at now, when the plan moves it (a `moved`
    /// block, or `count` added to or removed from a resource): apply renames the record first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<String>,
    /// The provider id of the object an `import` block adopts into this address; apply
    /// imports it again by this id before changing anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_id: Option<String>,
}

/// What refresh found about a resource whose live object differs from state.
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
    /// The resource's address, as in [`ResourceChange::address`].
    pub address: String,
    /// The name of the provider that read the live object.
    pub provider: String,
    /// The resource type; serialized as `type`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Whether the object changed or disappeared.
    pub kind: DriftKind,
    /// As recorded in state.
    pub before: Value,
    /// As found live (`None` when deleted).
    pub after: Option<Value>,
    /// Paths of `before` and `after` that hold sensitive values, masked when shown.
    pub sensitive: Vec<Path>,
}

/// An output's value as planned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputValue {
    /// The value, with null where a part is not known until apply.
    pub value: Value,
    /// True when some part of `value` is only known after apply.
    pub unknown: bool,
    /// True when the output is declared `sensitive` or computed from a sensitive value; views then
    /// show `(sensitive)`.
    pub sensitive: bool,
}

/// A variable's value as planned. Sensitive values are never written; a salted digest lets
/// apply check they did not change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedVariable {
    /// The value; `None` for sensitive variables, which are never written to a plan.
    pub value: Option<Value>,
    /// True when the variable is declared sensitive (or its value is).
    pub sensitive: bool,
    /// For sensitive variables, `sha256:` and the hex SHA-256 of the plan's salt and the value's
    /// JSON (see [`planner::variable_digest`]); `None` for the others.
    pub digest: Option<String>,
}

/// What a plan aims at: the configuration (`braid plan`), nothing (`plan --destroy`), or only
/// recording drift (`plan --refresh-only`).
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

/// A complete plan for one environment: every change, the drift found, and what it was made against
/// (sources, state serial, variables), so a saved plan can be checked for freshness and applied
/// exactly. The JSON form is in docs/plan-json.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The plan format, [`FORMAT_VERSION`] when made; braid refuses files with another major
    /// version.
    pub format_version: String,
    /// The version of braid that made the plan (`0.1.0`).
    pub braid_version: String,
    /// When the plan was made.
    pub created_at: DateTime<Utc>,
    /// The environment planned (`dev`).
    pub env: String,
    /// What the plan aims at.
    pub mode: PlanMode,
    /// False when made with `--refresh=false`: live objects were not read, so `before` values come
    /// from state and `drift` is empty.
    pub refreshed: bool,
    /// Every source as read, with its commit and digest; applying a saved plan reads git sources at
    /// these commits and refuses when a digest changed.
    pub sources: Vec<SourceRevision>,
    /// The state the plan was made against; applying requires the same lineage and serial.
    pub state: StateRef,
    /// Every variable's value by name; sensitive ones as a digest only.
    pub variables: BTreeMap<String, PlannedVariable>,
    /// One change per resource in configuration or state, no-ops included, sorted by address.
    pub changes: Vec<ResourceChange>,
    /// Resources whose live object differs from state, found by refresh.
    pub drift: Vec<ResourceDrift>,
    /// Each output's planned value, by output name.
    pub outputs: BTreeMap<String, OutputValue>,
    /// Objects whose manifests were removed but that stay (annotation
    /// `braid.dev/prune: "false"`): left alone, still in state.
    #[serde(default)]
    pub kept: Vec<String>,
    /// Random salt for the sensitive variable digests.
    pub salt: String,
    /// The result of every `check` block's assertions (warnings, never errors).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
    /// Every Helm chart source: chart, release, and the values it is rendered with now and
    /// was rendered with at the last successful apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub charts: Vec<ChartChange>,
    /// What providers warned of while planning (a deprecated argument, …), by address.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<PlanWarning>,
    /// Whether the environment's release windows let the changes be applied now (only for
    /// environments with `window` blocks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<crate::config::window::WindowVerdict>,
    /// What the Rego policies (`policy` blocks) said of the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyReport>,
}

/// The Rego policies' verdict on a plan: `deny` results refuse it (unless overridden),
/// `warn` results are shown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyReport {
    /// The policy files evaluated, relative to the project directory.
    pub files: Vec<String>,
    /// What `deny` rules said: the plan may not be applied.
    pub denied: Vec<PolicyFinding>,
    /// What `warn` rules said.
    pub warnings: Vec<PolicyFinding>,
    /// Denials set aside with `--override-policy NAME --reason`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overridden: Vec<PolicyFinding>,
}

/// One result of a `deny` or `warn` rule: a message, or an object `{msg, name,
/// overridable}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyFinding {
    /// What the rule says.
    pub message: String,
    /// The rule's name for overrides (`name` of an object result).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether `--override-policy NAME` may set it aside (`overridable` of an object
    /// result; false for plain messages).
    #[serde(default)]
    pub overridable: bool,
}

/// A provider's warning while planning: shown with the plan, which still applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanWarning {
    /// The resource it is about, when it is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// A short phrase: "Argument is deprecated".
    pub summary: String,
    /// The provider's explanation.
    pub detail: String,
    /// Where in configuration: `main.tf:12:3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

impl From<&crate::diag::Diagnostic> for PlanWarning {
    fn from(d: &crate::diag::Diagnostic) -> PlanWarning {
        PlanWarning {
            address: d.address.clone(),
            summary: d.summary.clone(),
            detail: d.detail.clone(),
            at: d.location.as_ref().map(crate::diag::Location::short),
        }
    }
}

/// A Helm chart in a plan: what it renders now, and what the last successful apply rendered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChartChange {
    /// The source the chart is.
    pub source: String,
    /// The chart's name.
    pub chart: String,
    /// The chart's version now.
    pub version: String,
    /// The chart's version at the last successful apply; `None` when never applied.
    pub previous_version: Option<String>,
    /// The release name.
    pub release: String,
    /// The release namespace.
    pub namespace: String,
    /// The values the chart is rendered with now.
    pub values: serde_json::Value,
    /// The values of the last successful apply; `None` when never applied.
    pub previous_values: Option<serde_json::Value>,
    /// NOTES.txt as rendered now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// What a `check` block found: all assertions true, one false, or not known until apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// `check.NAME`.
    pub address: String,
    /// `pass`, `fail` or `unknown`.
    pub status: String,
    /// The `error_message` of each false assertion.
    #[serde(default)]
    pub messages: Vec<String>,
    /// `file:line` of the check block.
    pub declared_at: String,
}

/// Counts of changes by action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PlanSummary {
    /// Number of creates.
    pub create: usize,
    /// Number of in-place updates.
    pub update: usize,
    /// Number of replacements.
    pub replace: usize,
    /// Number of deletes.
    pub delete: usize,
    /// Number of imports of objects that exist but are not in state.
    pub import: usize,
    /// Number of resources with nothing to do.
    pub no_op: usize,
    /// Number of resources that drifted (not a change action: counted from [`Plan::drift`]).
    pub drift: usize,
    /// Number of resources moved to a new address (with or without another change).
    #[serde(default)]
    pub moved: usize,
    /// Number of resources dropped from state without being destroyed.
    #[serde(default)]
    pub forget: usize,
}

impl PlanSummary {
    /// Counts one change by its action. An import that also updates the object counts as
    /// an import and a change, as in Terraform's summary.
    pub fn count(&mut self, change: &ResourceChange) {
        match change.action {
            Action::Create => self.create += 1,
            Action::Update => self.update += 1,
            Action::Replace => self.replace += 1,
            Action::Delete => self.delete += 1,
            Action::Import => {
                self.import += 1;
                if change.before != change.after {
                    self.update += 1;
                }
            }
            Action::Forget => self.forget += 1,
            Action::NoOp | Action::Read => self.no_op += 1,
        }
    }
}

impl Plan {
    /// Counts the plan's changes by action, and its drift; shown under every plan and saved as
    /// `summary` in the plan JSON.
    pub fn summary(&self) -> PlanSummary {
        let mut s = PlanSummary {
            drift: self.drift.len(),
            ..PlanSummary::default()
        };
        for c in &self.changes {
            if c.moved_from.is_some() {
                s.moved += 1;
            }
            s.count(c);
        }
        s
    }

    /// True when applying would change something.
    pub fn has_changes(&self) -> bool {
        self.changes
            .iter()
            .any(|c| c.action.is_change() || c.moved_from.is_some())
    }

    /// The change planned for the resource at `address`, or `None` when the plan has none.
    pub fn change(&self, address: &str) -> Option<&ResourceChange> {
        self.changes.iter().find(|c| c.address == address)
    }

    /// The plan with its changes only (no-ops and reads left out) and without outputs: what
    /// an apply's history keeps.
    pub fn changes_only(&self) -> Plan {
        Plan {
            format_version: self.format_version.clone(),
            braid_version: self.braid_version.clone(),
            created_at: self.created_at,
            env: self.env.clone(),
            mode: self.mode,
            refreshed: self.refreshed,
            sources: self.sources.clone(),
            state: self.state.clone(),
            variables: self.variables.clone(),
            changes: self
                .changes
                .iter()
                .filter(|c| c.action.is_change())
                .cloned()
                .collect(),
            drift: self.drift.clone(),
            outputs: BTreeMap::new(),
            kept: self.kept.clone(),
            salt: self.salt.clone(),
            checks: Vec::new(),
            charts: self.charts.clone(),
            warnings: self.warnings.clone(),
            window: self.window.clone(),
            policy: self.policy.clone(),
        }
    }

    /// A copy safe to show or write anywhere: every sensitive value replaced by
    /// `"(sensitive)"`.
    pub fn masked(&self) -> Plan {
        self.clone().into_masked()
    }

    /// [`masked`](Self::masked) for a plan the caller no longer needs: masked in place, not
    /// copied (a plan can hold a hundred thousand changes).
    pub fn into_masked(self) -> Plan {
        let mut plan = self;
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
