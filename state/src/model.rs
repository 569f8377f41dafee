//! The plain data kept in state.

use braid_provider::{Path, Value};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Identity of a state and its version. The lineage is fixed when the state is created; the
/// serial goes up by one with every committed write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateMeta {
    pub lineage: String,
    pub serial: u64,
}

/// One managed resource as last applied (or refreshed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceRecord {
    /// `TYPE.NAME` or `k8s/GROUP/KIND/NAMESPACE/NAME`.
    pub address: String,
    pub provider: String,
    pub type_name: String,
    /// The provider's id of the object (file hash, bucket name, object uid...).
    pub id: Option<String>,
    pub attributes: Value,
    /// Paths inside `attributes` that are sensitive.
    pub sensitive_paths: Vec<Path>,
    /// Addresses this resource depended on when applied, so deletes can run in reverse order
    /// after the configuration is gone.
    pub dependencies: Vec<String>,
    /// `source:relative/path.hcl:line` where the resource was declared.
    pub source_file: Option<String>,
}

/// The git commit (or content digest) of one source at plan time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRevision {
    pub name: String,
    /// Repository path or URL, or the directory of a plain source.
    pub repo: String,
    /// The ref asked for (`main`, `v1.4.0`), if any.
    pub reference: Option<String>,
    /// The resolved commit SHA, for git sources and plain sources inside a work tree.
    pub commit: Option<String>,
    /// The tag name, when the ref asked for was a tag (lightweight or annotated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The full name of the ref the commit was read from (`refs/heads/main`,
    /// `refs/tags/v1.4.0`); for a plain directory, its work tree's branch or the CI ref.
    /// Checked against an environment's `apply_rule`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_ref: Option<String>,
    /// A digest of the files read, for every source.
    pub digest: String,
    /// True when a plain source had uncommitted changes.
    pub dirty: bool,
}

pub type ApplyId = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplyOutcome {
    /// Started and not finished: the process died, or is still running.
    Running,
    Succeeded,
    /// Some changes failed or were skipped.
    Failed,
}

impl ApplyOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ApplyOutcome::Running => "running",
            ApplyOutcome::Succeeded => "succeeded",
            ApplyOutcome::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "running" => Some(ApplyOutcome::Running),
            "succeeded" => Some(ApplyOutcome::Succeeded),
            "failed" => Some(ApplyOutcome::Failed),
            _ => None,
        }
    }
}

/// Counts of an apply's changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSummary {
    pub create: u32,
    pub update: u32,
    pub replace: u32,
    pub delete: u32,
    pub import: u32,
    pub failed: u32,
    pub skipped: u32,
}

/// What is known when an apply starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewApply {
    pub env: String,
    pub actor: String,
    /// `apply`, `destroy` or `rollback`.
    pub operation: String,
    pub sources: Vec<SourceRevision>,
    /// The apply this one rolls back to, for rollbacks.
    pub rollback_of: Option<ApplyId>,
    pub started_at: DateTime<Utc>,
}

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplyRecord {
    pub id: ApplyId,
    pub env: String,
    pub actor: String,
    pub operation: String,
    pub sources: Vec<SourceRevision>,
    pub rollback_of: Option<ApplyId>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub summary: ChangeSummary,
    pub outcome: ApplyOutcome,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOutcome {
    Applied,
    Failed,
    Skipped,
}

impl ChangeOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOutcome::Applied => "applied",
            ChangeOutcome::Failed => "failed",
            ChangeOutcome::Skipped => "skipped",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "applied" => Some(ChangeOutcome::Applied),
            "failed" => Some(ChangeOutcome::Failed),
            "skipped" => Some(ChangeOutcome::Skipped),
            _ => None,
        }
    }
}

/// What happened to one resource in one apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeRecord {
    pub address: String,
    /// `create`, `update`, `replace`, `delete`, `import`.
    pub action: String,
    pub outcome: ChangeOutcome,
    /// The error message, or why it was skipped.
    pub message: Option<String>,
    pub at: DateTime<Utc>,
}

/// One resource result, written in its own transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceWrite {
    pub address: String,
    /// The new record, or `None` when the resource is gone.
    pub record: Option<ResourceRecord>,
    /// The audit entry written in the same transaction.
    pub change: Option<(ApplyId, ChangeRecord)>,
}

/// Who asks for the lock, and for what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockRequest {
    pub actor: String,
    pub host: String,
    pub pid: u32,
    /// `apply`, `destroy`, `state rm`...
    pub operation: String,
    /// The CI run URL, when known.
    pub ci_url: Option<String>,
}

/// A held lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub id: String,
    pub actor: String,
    pub host: String,
    pub pid: u32,
    pub operation: String,
    pub ci_url: Option<String>,
    pub acquired_at: DateTime<Utc>,
    pub heartbeat_at: DateTime<Utc>,
}

/// One apply of the audit log with its per-resource changes, as carried by a [`StateDump`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplyHistory {
    pub apply: ApplyRecord,
    pub changes: Vec<ChangeRecord>,
}

/// An environment's whole state: identity, resources and history. `braid state pull` prints
/// it, `braid state push` and `braid state migrate` write it into a store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateDump {
    /// [`StateDump::FORMAT_VERSION`] when written by this braid.
    pub format_version: u32,
    pub lineage: String,
    pub serial: u64,
    /// Ordered by address.
    pub resources: Vec<ResourceRecord>,
    /// Oldest first.
    pub applies: Vec<ApplyHistory>,
}

impl StateDump {
    pub const FORMAT_VERSION: u32 = 1;
}

/// How long a lock stays valid without a heartbeat before it counts as stale.
pub const DEFAULT_LOCK_LEASE: std::time::Duration = std::time::Duration::from_secs(120);

impl LockInfo {
    /// A new lock for `request`, acquired now, with a fresh id.
    pub fn fresh(request: LockRequest) -> LockInfo {
        let now = Utc::now();
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            actor: request.actor,
            host: request.host,
            pid: request.pid,
            operation: request.operation,
            ci_url: request.ci_url,
            acquired_at: now,
            heartbeat_at: now,
        }
    }

    /// True when the holder has not renewed the heartbeat within `lease`: it probably died.
    pub fn is_stale(&self, lease: std::time::Duration, now: DateTime<Utc>) -> bool {
        let lease = chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
        now.signed_duration_since(self.heartbeat_at) > lease
    }
}
