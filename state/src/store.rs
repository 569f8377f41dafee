//! The `StateStore` trait every backend implements, and its errors.
//!
//! The contract is the same for every backend, and `state/tests/backends` runs one suite of
//! behaviour tests against all of them.

use async_trait::async_trait;

use crate::documents::{Document, Precondition};
use crate::model::{
    ApplyHistory, ApplyId, ApplyOutcome, ApplyRecord, ChangeRecord, ChangeSummary, LockInfo,
    LockRequest, NewApply, OutputRecord, ResourceIndexEntry, ResourceRecord, ResourceWrite,
    StateDump, StateMeta,
};

/// Why a state operation failed.
///
/// The variants name what the caller can act on: a conflict with another writer
/// ([`SerialMismatch`](StateError::SerialMismatch), [`Locked`](StateError::Locked)), a
/// state that is not the one expected, or a failure of the storage itself.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The store could not be reached or set up: the database file cannot be created, the
    /// server refuses the connection, the bucket does not exist, or a schema migration
    /// failed.
    #[error("cannot open state at {location}")]
    Open {
        /// The store's [`StateStore::location`].
        location: String,
        /// The error of the driver or SDK.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(
        "state at {location} was written by a newer braid (schema version {found}, this braid knows up to {supported})"
    )]
    /// The store's schema is newer than this braid understands. Nothing was changed; the
    /// user needs a newer braid, because writing with an older one could lose data.
    NewerSchema {
        /// The store's [`StateStore::location`].
        location: String,
        /// The schema version the store holds.
        found: i64,
        /// The newest schema version this braid knows.
        supported: i64,
    },
    #[error("state serial is {found}, but {expected} was expected: someone else changed it")]
    /// A compare-and-swap write found another serial than the caller passed: someone else
    /// wrote in between. Nothing was written; the caller must read state again (and usually
    /// plan again) rather than retry blindly.
    SerialMismatch {
        /// The serial the caller last saw.
        expected: u64,
        /// The serial the store holds now.
        found: u64,
    },
    #[error("state is locked by {} ({}) since {}", .0.actor, .0.operation, .0.acquired_at)]
    /// Another holder has the environment's lock, and its heartbeat is recent. Carries the
    /// holder so the message can say who, since when, and for what.
    Locked(Box<LockInfo>),
    #[error(
        "state is locked by {} ({}) since {}, and its heartbeat stopped at {}: the holder probably died",
        .0.actor, .0.operation, .0.acquired_at, .0.heartbeat_at
    )]
    /// Another holder has the lock but stopped renewing its heartbeat, so it probably died.
    /// Returned by [`acquire_lock`](crate::acquire_lock) when stealing was not asked for;
    /// the user can take the lock over with `--steal-stale-lock` or `braid unlock`.
    LockStale(Box<LockInfo>),
    #[error("no lock with id {0}")]
    /// The lock with this id is not the current lock: it was released, or stolen by another
    /// process after its heartbeat stopped. A holder that gets this has lost the lock and
    /// must stop writing.
    LockNotFound(String),
    #[error("no apply with id {0}")]
    /// No apply with this id is in the audit log, so a change or the end of an apply cannot
    /// be recorded against it.
    ApplyNotFound(ApplyId),
    #[error("state lineage is {found}, but {expected} was expected: it is another state")]
    /// A state with another lineage was offered where the store's own lineage was
    /// expected, e.g. pushing a dump of another environment. Nothing was written.
    LineageMismatch {
        /// The lineage of the store.
        expected: String,
        /// The lineage of the offered state.
        found: String,
    },
    #[error("{0}")]
    /// The store refused a whole-state operation that would lose data (pushing an older
    /// dump, migrating into a non-empty store, a concurrent change during a replace). The
    /// message says why, as a lowercase phrase.
    Refused(String),
    #[error("state {operation} failed")]
    /// The storage failed during an operation: an IO or SQL error, a network failure, a
    /// request the server rejected. The write, if any, did not happen (or was rolled back).
    Backend {
        /// The step that failed, as a lowercase phrase (`commit resource`, `take lock`).
        operation: &'static str,
        /// The error of the driver or SDK.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("state was lost: {0}")]
    /// What should hold the state has lost it: a database file of 0 bytes, a state whose
    /// identity (lineage and serial) is gone while its resources remain. Nothing was changed
    /// and nothing new is made up in its place; the state must be restored (`braid state
    /// restore`, a backup) or, knowingly, started again.
    Lost(String),
    #[error(
        "state serial is {found}, but this machine last saw serial {recorded} of the same state: later writes are missing"
    )]
    /// The state went back in time: it has the lineage this machine recorded, but a lower
    /// serial than the last one seen (an old backup put back, a write-ahead log lost in a
    /// crash). Nothing was read on from it or written.
    SerialRegressed {
        /// The serial the store holds.
        found: u64,
        /// The last serial this machine saw.
        recorded: u64,
    },
    #[error(
        "state has lineage {} at serial {}, but this machine last saw lineage {} at serial {}",
        .found.lineage, .found.serial, .recorded.lineage, .recorded.serial
    )]
    /// The store holds another state than the one this machine last saw: a new, empty one
    /// (serial 0) where state was lost, or another lineage altogether. Nothing was read on
    /// from it or written.
    StateReplaced {
        /// What the store holds.
        found: StateMeta,
        /// What this machine last saw.
        recorded: StateMeta,
    },
    #[error("document {0} was changed by someone else")]
    /// A document write or delete whose [`Precondition`] did not hold: the document was
    /// written, created or deleted by someone else since it was read. Nothing was written.
    DocumentChanged(String),
    #[error("{0}")]
    /// Encrypted state cannot be read or written as configured: no key opens it, it is
    /// encrypted but no encryption is configured (or the other way round), a KMS request
    /// failed, or a sealed value was changed. The message names the state and the keys
    /// tried. Nothing was written.
    Encryption(String),
    #[error("state holds data braid cannot read: {0}")]
    /// The store holds something this braid cannot decode (bad JSON, a bad timestamp, an
    /// unknown enum value) or that breaks an invariant. The message names the row or object
    /// and what is wrong with it; a human has to look at the store.
    Corrupt(String),
}

/// A place where one environment's state lives.
///
/// Writes are compare-and-swap on the serial: a writer passes the serial it last saw, and the
/// write fails with [`StateError::SerialMismatch`] when the store has moved on. Each write is
/// atomic: it happens completely or not at all, so a process that dies between writes leaves
/// a consistent state behind.
///
/// The lock is advisory and separate from the serial: writers take it (with
/// [`acquire_lock`](crate::acquire_lock)) so that two applies do not interleave, but the
/// store does not check it on writes; the serial is what protects the data.
///
/// Every method may fail with [`StateError::Backend`] when the storage itself fails, and
/// with [`StateError::Corrupt`] when what it reads cannot be decoded.
#[async_trait]
pub trait StateStore: Send + Sync {
    /// A human description of where the state is (`.braid/state/staging.db`), for
    /// messages.
    fn location(&self) -> String;

    /// Lineage and serial. A new, empty state gets a fresh lineage and serial 0 (which
    /// backends may persist at once, so asking twice gives the same lineage).
    async fn meta(&self) -> Result<StateMeta, StateError>;

    /// All resources, ordered by address.
    async fn resources(&self) -> Result<Vec<ResourceRecord>, StateError>;

    /// Every resource's address, provider and provider metadata, ordered by address: what a
    /// run reads before planning (which providers to start), without decoding attributes.
    async fn resource_index(&self) -> Result<Vec<ResourceIndexEntry>, StateError> {
        Ok(self
            .resources()
            .await?
            .into_iter()
            .map(ResourceIndexEntry::from)
            .collect())
    }

    /// The resource at `address`, or `None` when state does not hold it.
    async fn resource(&self, address: &str) -> Result<Option<ResourceRecord>, StateError>;

    /// Writes one resource result and its audit entry in one transaction and returns the new
    /// serial (`expected_serial + 1`).
    ///
    /// `write.record` replaces the resource at `write.address`, or removes it when `None`.
    /// Fails with [`StateError::SerialMismatch`] when the store is not at `expected_serial`,
    /// and with [`StateError::ApplyNotFound`] when the audit entry names an unknown apply;
    /// either way nothing is written.
    async fn commit_resource(
        &self,
        expected_serial: u64,
        write: ResourceWrite,
    ) -> Result<u64, StateError>;

    /// Writes several resource results in one transaction (group commit): the serial goes
    /// up by one per write, and the new serial is returned. Backends without batching write
    /// them one by one, so on failure a prefix of `writes` may be committed; the error
    /// is the same as [`commit_resource`](StateStore::commit_resource) gives.
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

    /// The outputs of the last successful apply, ordered by name; empty for a new state, a
    /// destroyed one, or one written by a braid that did not store outputs.
    async fn outputs(&self) -> Result<Vec<OutputRecord>, StateError>;

    /// Replaces all outputs by `outputs` in one transaction, if the store is still at
    /// `expected_serial` (otherwise [`StateError::SerialMismatch`], nothing written). The
    /// serial does not change: outputs are derived from the configuration and the resources,
    /// whose writes already moved it.
    async fn replace_outputs(
        &self,
        expected_serial: u64,
        outputs: Vec<OutputRecord>,
    ) -> Result<(), StateError>;

    /// Records the start of an apply in the audit log, with outcome
    /// [`ApplyOutcome::Running`](crate::ApplyOutcome::Running), and returns its new id.
    /// Ids grow: a later apply has a larger id. Does not change the serial.
    async fn begin_apply(&self, apply: NewApply) -> Result<ApplyId, StateError>;

    /// Records the end of an apply: its counts, outcome and finish time. Fails with
    /// [`StateError::ApplyNotFound`] for an unknown id. Does not change the serial.
    async fn finish_apply(
        &self,
        id: ApplyId,
        summary: ChangeSummary,
        outcome: ApplyOutcome,
    ) -> Result<(), StateError>;

    /// The most recent applies, newest first, at most `limit` of them.
    async fn applies(&self, limit: usize) -> Result<Vec<ApplyRecord>, StateError>;

    /// The apply with this id, or `None` when the audit log has none.
    async fn apply_record(&self, id: ApplyId) -> Result<Option<ApplyRecord>, StateError>;

    /// The per-resource changes of one apply, in the order they happened; empty for an
    /// apply that recorded none, or an unknown id.
    async fn changes(&self, id: ApplyId) -> Result<Vec<ChangeRecord>, StateError>;

    /// Takes the environment's lock, or fails at once with [`StateError::Locked`] naming the
    /// holder, whether or not its heartbeat is recent. Use
    /// [`acquire_lock`](crate::acquire_lock) to wait or to take over a stale lock.
    async fn lock(&self, request: LockRequest) -> Result<LockInfo, StateError>;

    /// Renews the heartbeat of a held lock, so other processes do not take it for stale.
    /// Fails with [`StateError::LockNotFound`] when `lock_id` is no longer the current lock.
    async fn heartbeat(&self, lock_id: &str) -> Result<(), StateError>;

    /// Releases a lock this process holds. Fails with [`StateError::LockNotFound`] when
    /// `lock_id` is not the current lock, so a process whose lock was stolen cannot release
    /// the new holder's.
    async fn unlock(&self, lock_id: &str) -> Result<(), StateError>;

    /// The current lock, if any, whoever holds it.
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
    /// `expected_serial`; otherwise fails with [`StateError::SerialMismatch`] and writes
    /// nothing. The lock is left as it is. Callers check lineage and format first (see
    /// [`push`](crate::push) and [`migrate`](crate::migrate)).
    async fn replace_state(&self, expected_serial: u64, dump: &StateDump)
    -> Result<(), StateError>;

    /// The document called `name` (see [`crate::documents`]), or `None`.
    async fn document(&self, name: &str) -> Result<Option<Document>, StateError>;

    /// Every document whose name starts with `prefix`, ordered by name.
    async fn documents(&self, prefix: &str) -> Result<Vec<Document>, StateError>;

    /// The names of every document whose name starts with `prefix`, ordered by name, without
    /// reading the documents.
    async fn document_names(&self, prefix: &str) -> Result<Vec<String>, StateError>;

    /// Writes the document `name` if `precondition` holds, and returns its new version;
    /// otherwise fails with [`StateError::DocumentChanged`] and writes nothing. Names are
    /// checked with [`check_document_name`](crate::check_document_name).
    async fn put_document(
        &self,
        name: &str,
        body: &[u8],
        precondition: Precondition<'_>,
    ) -> Result<String, StateError>;

    /// Deletes the document `name` if `precondition` holds (a missing document satisfies
    /// [`Precondition::Any`] and [`Precondition::Absent`]); otherwise fails with
    /// [`StateError::DocumentChanged`].
    async fn delete_document(
        &self,
        name: &str,
        precondition: Precondition<'_>,
    ) -> Result<(), StateError>;

    /// Makes the storage drop the bytes of rows and objects that were replaced or deleted,
    /// where the backend keeps them (SQLite's free pages and write-ahead log, Postgres's dead
    /// row versions): what `braid state encrypt` and `rekey` run after rewriting everything,
    /// so the plain text they replaced is gone. Backends that keep nothing do nothing.
    async fn compact(&self) -> Result<(), StateError> {
        Ok(())
    }

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
            outputs: self.outputs().await?,
        })
    }
}
