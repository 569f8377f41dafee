//! The `StateStore` trait every backend implements, and its errors.

use async_trait::async_trait;

use crate::model::{
    ApplyHistory, ApplyId, ApplyOutcome, ApplyRecord, ChangeRecord, ChangeSummary, LockInfo,
    LockRequest, NewApply, ResourceRecord, ResourceWrite, StateDump, StateMeta,
};

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot open state at {location}")]
    Open {
        location: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(
        "state at {location} was written by a newer braid (schema version {found}, this braid knows up to {supported})"
    )]
    NewerSchema {
        location: String,
        found: i64,
        supported: i64,
    },
    #[error("state serial is {found}, but {expected} was expected: someone else changed it")]
    SerialMismatch { expected: u64, found: u64 },
    #[error("state is locked by {} ({}) since {}", .0.actor, .0.operation, .0.acquired_at)]
    Locked(Box<LockInfo>),
    #[error(
        "state is locked by {} ({}) since {}, and its heartbeat stopped at {}: the holder probably died",
        .0.actor, .0.operation, .0.acquired_at, .0.heartbeat_at
    )]
    LockStale(Box<LockInfo>),
    #[error("no lock with id {0}")]
    LockNotFound(String),
    #[error("no apply with id {0}")]
    ApplyNotFound(ApplyId),
    #[error("state lineage is {found}, but {expected} was expected: it is another state")]
    LineageMismatch { expected: String, found: String },
    #[error("{0}")]
    Refused(String),
    #[error("state {operation} failed")]
    Backend {
        operation: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("state holds data braid cannot read: {0}")]
    Corrupt(String),
}

/// A place where one environment's state lives.
///
/// Writes are compare-and-swap on the serial: a writer passes the serial it last saw, and the
/// write fails with [`StateError::SerialMismatch`] when the store has moved on.
#[async_trait]
pub trait StateStore: Send + Sync {
    /// A human description of where the state is (`.braid/state/staging.db`).
    fn location(&self) -> String;

    /// Lineage and serial. A new, empty state gets a fresh lineage and serial 0.
    async fn meta(&self) -> Result<StateMeta, StateError>;

    /// All resources, ordered by address.
    async fn resources(&self) -> Result<Vec<ResourceRecord>, StateError>;

    async fn resource(&self, address: &str) -> Result<Option<ResourceRecord>, StateError>;

    /// Writes one resource result and its audit entry in one transaction and returns the new
    /// serial (`expected_serial + 1`).
    async fn commit_resource(
        &self,
        expected_serial: u64,
        write: ResourceWrite,
    ) -> Result<u64, StateError>;

    /// Writes several resource results in one transaction (group commit): the serial goes
    /// up by one per write. Backends without batching write them one by one.
    async fn commit_resources(
        &self,
        expected_serial: u64,
        writes: Vec<ResourceWrite>,
    ) -> Result<u64, StateError> {
        let mut serial = expected_serial;
        for write in writes {
            serial = self.commit_resource(serial, write).await?;
        }
        Ok(serial)
    }

    /// Records the start of an apply in the audit log.
    async fn begin_apply(&self, apply: NewApply) -> Result<ApplyId, StateError>;

    /// Records the end of an apply.
    async fn finish_apply(
        &self,
        id: ApplyId,
        summary: ChangeSummary,
        outcome: ApplyOutcome,
    ) -> Result<(), StateError>;

    /// The most recent applies, newest first.
    async fn applies(&self, limit: usize) -> Result<Vec<ApplyRecord>, StateError>;

    async fn apply_record(&self, id: ApplyId) -> Result<Option<ApplyRecord>, StateError>;

    /// The per-resource changes of one apply, in the order they happened.
    async fn changes(&self, id: ApplyId) -> Result<Vec<ChangeRecord>, StateError>;

    /// Takes the environment's lock, or fails with [`StateError::Locked`] naming the holder.
    async fn lock(&self, request: LockRequest) -> Result<LockInfo, StateError>;

    /// Renews the heartbeat of a held lock.
    async fn heartbeat(&self, lock_id: &str) -> Result<(), StateError>;

    /// Releases a lock this process holds.
    async fn unlock(&self, lock_id: &str) -> Result<(), StateError>;

    /// The current lock, if any.
    async fn current_lock(&self) -> Result<Option<LockInfo>, StateError>;

    /// Replaces the lock with id `expected_id` by a new one for `request`, in one atomic
    /// step. Fails with [`StateError::LockNotFound`] when the current lock has another id or
    /// there is none, so two processes stealing the same stale lock cannot both win.
    async fn steal_lock(
        &self,
        expected_id: &str,
        request: LockRequest,
    ) -> Result<LockInfo, StateError>;

    /// Replaces everything the store holds for this environment (lineage, serial, resources
    /// and history, apply ids kept) by `dump`, in one atomic step, if the serial is still
    /// `expected_serial`. The lock is left as it is.
    async fn replace_state(&self, expected_serial: u64, dump: &StateDump)
    -> Result<(), StateError>;

    /// Every apply with its changes, oldest first.
    async fn history(&self) -> Result<Vec<ApplyHistory>, StateError> {
        let mut applies = self.applies(usize::MAX).await?;
        applies.reverse();
        let mut history = Vec::with_capacity(applies.len());
        for apply in applies {
            let changes = self.changes(apply.id).await?;
            history.push(ApplyHistory { apply, changes });
        }
        Ok(history)
    }

    /// The whole state as one document. Take the lock first for a consistent copy: the
    /// parts are read one after the other.
    async fn export(&self) -> Result<StateDump, StateError> {
        let meta = self.meta().await?;
        Ok(StateDump {
            format_version: StateDump::FORMAT_VERSION,
            lineage: meta.lineage,
            serial: meta.serial,
            resources: self.resources().await?,
            applies: self.history().await?,
        })
    }
}
