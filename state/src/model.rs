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
    /// What the provider keeps beside the object (a Terraform plugin's private data and
    /// schema version); `None` for providers that keep nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<braid_provider::ObjectMeta>,
}

/// A resource as far as a run needs it before planning: which provider manages it and what
/// that provider keeps beside the object, without the attributes
/// ([`StateStore::resource_index`](crate::StateStore::resource_index)).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceIndexEntry {
    /// The resource's address.
    pub address: String,
    /// The name of the provider that manages it.
    pub provider: String,
    /// What the provider keeps beside the object, as in [`ResourceRecord::meta`].
    pub meta: Option<braid_provider::ObjectMeta>,
}

impl From<ResourceRecord> for ResourceIndexEntry {
    fn from(record: ResourceRecord) -> ResourceIndexEntry {
        ResourceIndexEntry {
            address: record.address,
            provider: record.provider,
            meta: record.meta,
        }
    }
}

/// One output of the configuration as the last successful apply left it (`braid output`).
/// Outputs are derived data: they are replaced as a whole after each apply and never change
/// the serial on their own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputRecord {
    /// The output's name, as in `output "NAME" {}`.
    pub name: String,
    /// Its value; always wholly known (an apply that could not know it does not record it).
    pub value: Value,
    /// Declared `sensitive = true` (or computed from a sensitive value): views mask it
    /// unless asked to show it.
    pub sensitive: bool,
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
    /// The git tree of the source's directory at `commit` (for a plain source: only when its
    /// work tree is clean). Two commits with the same tree hold the same files: a reviewed
    /// plan made at a pull request's head still applies after a merge that did not change
    /// them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tree: Option<String>,
    /// A digest of the files read, for every source.
    pub digest: String,
    /// True when a plain source had uncommitted changes.
    pub dirty: bool,
    /// For a Helm chart source: the chart and the values it was rendered with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm: Option<HelmRelease>,
}

/// A Helm chart as one plan rendered it: which chart, which release, with which values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelmRelease {
    /// The chart's name (Chart.yaml).
    pub chart: String,
    /// The chart's version.
    pub version: String,
    /// The release name.
    pub release: String,
    /// The release namespace.
    pub namespace: String,
    /// The values the templates saw (chart defaults, values files, `set`); inline values
    /// read from the process environment are masked.
    pub values: serde_json::Value,
    /// NOTES.txt as rendered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
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
    /// Why a rule was set aside for this apply, in the person's words (`--override-window
    /// --reason`), with who allowed it.
    pub note: Option<String>,
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
    /// As in [`NewApply::note`]; `None` for applies recorded before notes existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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

/// What was done to one resource, as the audit log records it.
///
/// Stored as text (a SQL column, a JSON string) in the form [`ChangeAction::as_str`] gives,
/// which is also the serde form; those strings must never change, or state written by an
/// earlier braid would no longer load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeAction {
    /// A new object was created.
    Create,
    /// An object was changed in place.
    Update,
    /// An object was deleted and created again (in either order).
    Replace,
    /// An object was deleted.
    Delete,
    /// An existing object was adopted into state, by a plan or by `braid state import`.
    Import,
    /// An object was only read.
    Read,
    /// Nothing needed to change.
    NoOp,
    /// A resource was renamed in state by `braid state mv`; the object was not touched.
    Move,
    /// A resource was removed from state by `braid state rm`; the object was left alone.
    Forget,
}

impl ChangeAction {
    /// Every action, in declaration order.
    pub const ALL: [ChangeAction; 9] = [
        ChangeAction::Create,
        ChangeAction::Update,
        ChangeAction::Replace,
        ChangeAction::Delete,
        ChangeAction::Import,
        ChangeAction::Read,
        ChangeAction::NoOp,
        ChangeAction::Move,
        ChangeAction::Forget,
    ];

    /// The text stored in state and shown in history.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeAction::Create => "create",
            ChangeAction::Update => "update",
            ChangeAction::Replace => "replace",
            ChangeAction::Delete => "delete",
            ChangeAction::Import => "import",
            ChangeAction::Read => "read",
            ChangeAction::NoOp => "no-op",
            ChangeAction::Move => "move",
            ChangeAction::Forget => "forget",
        }
    }
}

impl std::fmt::Display for ChangeAction {
    /// Writes [`ChangeAction::as_str`], honouring width and alignment so that history can
    /// line actions up in a column.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// A text that is not the [`ChangeAction::as_str`] form of any action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown change action {0:?}")]
pub struct UnknownChangeAction(pub String);

impl std::str::FromStr for ChangeAction {
    type Err = UnknownChangeAction;

    /// The action whose [`ChangeAction::as_str`] is `text`, exactly (no other spelling or
    /// case is accepted, so what is read back is what was written).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ChangeAction::ALL
            .into_iter()
            .find(|action| action.as_str() == text)
            .ok_or_else(|| UnknownChangeAction(text.to_string()))
    }
}

// Serde goes through `as_str` and `FromStr` so that the JSON of the S3 backend and of state
// dumps can never drift from the SQL columns.
impl Serialize for ChangeAction {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ChangeAction {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What happened to one resource in one apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeRecord {
    /// The resource's address.
    pub address: String,
    /// What was done (or attempted) to it.
    pub action: ChangeAction,
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
    /// Which boot of `host` (and which process-id namespace) `pid` belongs to, as
    /// [`this_boot`](crate::this_boot) gives it; `None` where the system has no boot id.
    /// With it, a lock whose holder died on this very machine is known to be stale at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
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
    /// As in [`LockRequest::boot_id`]; `None` in locks taken by a braid that did not record
    /// it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
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
    /// The outputs of the last successful apply, ordered by name. Missing in dumps of
    /// braid versions that did not store outputs, which read as none.
    #[serde(default)]
    pub outputs: Vec<OutputRecord>,
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
            boot_id: request.boot_id,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The strings state holds today; changing one would make existing state unreadable.
    #[test]
    fn change_actions_keep_their_stored_strings() {
        let stored: Vec<&str> = ChangeAction::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(
            stored,
            [
                "create", "update", "replace", "delete", "import", "read", "no-op", "move",
                "forget"
            ]
        );
    }

    #[test]
    fn change_actions_round_trip_through_text_and_json() {
        for action in ChangeAction::ALL {
            assert_eq!(action.as_str().parse::<ChangeAction>(), Ok(action));
            let json = serde_json::to_string(&action).expect("serializes");
            assert_eq!(json, format!("\"{}\"", action.as_str()));
            let back: ChangeAction = serde_json::from_str(&json).expect("deserializes");
            assert_eq!(back, action);
        }
    }

    #[test]
    fn unknown_change_actions_are_errors() {
        assert_eq!(
            "Create".parse::<ChangeAction>(),
            Err(UnknownChangeAction("Create".to_string()))
        );
        assert!(serde_json::from_str::<ChangeAction>("\"destroy\"").is_err());
    }

    #[test]
    fn change_actions_pad_like_strings() {
        assert_eq!(format!("[{:8}]", ChangeAction::NoOp), "[no-op   ]");
    }
}
