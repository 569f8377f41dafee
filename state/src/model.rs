//! The plain data kept in state.

use braid_provider::{Path, Value};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Identity of a state and its version. The lineage is fixed when the state is created; the
/// serial goes up by one with every committed write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateMeta {
    /// A random id given to the state when it is created, so that state of one environment
    /// is never mistaken for another's (a plan made against one cannot apply to another).
    pub lineage: String,
    /// The number of writes committed so far; the version compare-and-swap writes check.
    pub serial: u64,
}

/// One managed resource as last applied (or refreshed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceRecord {
    /// `TYPE.NAME` or `k8s/GROUP/KIND/NAMESPACE/NAME`.
    pub address: String,
    /// The name of the provider that manages it (`local`, `kubernetes`, `aws`).
    pub provider: String,
    /// The provider's resource type (`local_file`, `kubernetes_manifest`).
    pub type_name: String,
    /// The provider's id of the object (file hash, bucket name, object uid...).
    pub id: Option<String>,
    /// The attributes as the provider last returned them; always wholly known.
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
    /// The source's name in braid.hcl.
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

/// The id of one apply in the audit log, given by the store; later applies get larger ids.
pub type ApplyId = i64;

/// How an apply ended, as the audit log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplyOutcome {
    /// Started and not finished: the process died, or is still running.
    Running,
    /// Every change was applied.
    Succeeded,
    /// Some changes failed or were skipped.
    Failed,
}

impl ApplyOutcome {
    /// The text stored in state, the same as the serde form.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplyOutcome::Running => "running",
            ApplyOutcome::Succeeded => "succeeded",
            ApplyOutcome::Failed => "failed",
        }
    }

    /// The outcome [`ApplyOutcome::as_str`] gave this text, or `None` for any other text.
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
    /// Resources created.
    pub create: u32,
    /// Resources updated in place.
    pub update: u32,
    /// Resources replaced (deleted and created again).
    pub replace: u32,
    /// Resources deleted.
    pub delete: u32,
    /// Existing objects adopted into state.
    pub import: u32,
    /// Changes that failed, whatever their action.
    pub failed: u32,
    /// Changes not attempted because something they depend on failed.
    pub skipped: u32,
}

/// What is known when an apply starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewApply {
    /// The environment applied to.
    pub env: String,
    /// Who applied: a user name, or the CI identity.
    pub actor: String,
    /// `apply`, `destroy` or `rollback`.
    pub operation: String,
    /// The revision of every source the plan was made from.
    pub sources: Vec<SourceRevision>,
    /// The apply this one rolls back to, for rollbacks.
    pub rollback_of: Option<ApplyId>,
    /// When the apply started.
    pub started_at: DateTime<Utc>,
}

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplyRecord {
    /// The id the store gave the apply when it began.
    pub id: ApplyId,
    /// As in [`NewApply::env`].
    pub env: String,
    /// As in [`NewApply::actor`].
    pub actor: String,
    /// As in [`NewApply::operation`].
    pub operation: String,
    /// As in [`NewApply::sources`].
    pub sources: Vec<SourceRevision>,
    /// As in [`NewApply::rollback_of`].
    pub rollback_of: Option<ApplyId>,
    /// As in [`NewApply::started_at`].
    pub started_at: DateTime<Utc>,
    /// When the apply finished; `None` while it is running (or after it died).
    pub finished_at: Option<DateTime<Utc>>,
    /// The counts recorded when the apply finished; all zero until then.
    pub summary: ChangeSummary,
    /// How the apply ended.
    pub outcome: ApplyOutcome,
}

/// What became of one resource's change in an apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOutcome {
    /// The change was made.
    Applied,
    /// The provider reported an error; the resource is as the provider left it.
    Failed,
    /// The change was not attempted, because a change it depends on failed.
    Skipped,
}

impl ChangeOutcome {
    /// The text stored in state, the same as the serde form.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOutcome::Applied => "applied",
            ChangeOutcome::Failed => "failed",
            ChangeOutcome::Skipped => "skipped",
        }
    }

    /// The outcome [`ChangeOutcome::as_str`] gave this text, or `None` for any other text.
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
    /// The resource's address.
    pub address: String,
    /// `create`, `update`, `replace`, `delete`, `import`.
    pub action: String,
    /// Whether it happened.
    pub outcome: ChangeOutcome,
    /// The error message, or why it was skipped.
    pub message: Option<String>,
    /// When the change finished (or failed).
    pub at: DateTime<Utc>,
}

/// One resource result, written in its own transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceWrite {
    /// The resource written; must equal the address of `record`, when there is one.
    pub address: String,
    /// The new record, or `None` when the resource is gone.
    pub record: Option<ResourceRecord>,
    /// The audit entry written in the same transaction.
    pub change: Option<(ApplyId, ChangeRecord)>,
}

/// Who asks for the lock, and for what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockRequest {
    /// Who wants the lock: a user name, or the CI identity.
    pub actor: String,
    /// The machine the process runs on.
    pub host: String,
    /// The process id on `host`.
    pub pid: u32,
    /// `apply`, `destroy`, `state rm`...
    pub operation: String,
    /// The CI run URL, when known.
    pub ci_url: Option<String>,
}

/// A held lock: the [`LockRequest`] that took it, with its id and times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// A random id, given when the lock is taken; heartbeats and unlocking name it so that
    /// a process can only renew or release its own lock.
    pub id: String,
    /// As in [`LockRequest::actor`].
    pub actor: String,
    /// As in [`LockRequest::host`].
    pub host: String,
    /// As in [`LockRequest::pid`].
    pub pid: u32,
    /// As in [`LockRequest::operation`].
    pub operation: String,
    /// As in [`LockRequest::ci_url`].
    pub ci_url: Option<String>,
    /// When the lock was taken.
    pub acquired_at: DateTime<Utc>,
    /// When the holder last renewed it; a lock not renewed within its lease is stale.
    pub heartbeat_at: DateTime<Utc>,
}

/// One apply of the audit log with its per-resource changes, as carried by a [`StateDump`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplyHistory {
    /// The apply.
    pub apply: ApplyRecord,
    /// Its per-resource changes, in the order they happened.
    pub changes: Vec<ChangeRecord>,
}

/// An environment's whole state: identity, resources and history. `braid state pull` prints
/// it, `braid state push` and `braid state migrate` write it into a store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateDump {
    /// [`StateDump::FORMAT_VERSION`] when written by this braid.
    pub format_version: u32,
    /// As in [`StateMeta::lineage`].
    pub lineage: String,
    /// As in [`StateMeta::serial`].
    pub serial: u64,
    /// Ordered by address.
    pub resources: Vec<ResourceRecord>,
    /// Oldest first.
    pub applies: Vec<ApplyHistory>,
}

impl StateDump {
    /// The version of the dump format this braid writes, and the newest it reads. It goes up
    /// when a change to the format would make an older braid misread a dump.
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
