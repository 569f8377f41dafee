//! braid's state: what was deployed, from which commits, by whom.
//!
//! The [`StateStore`] trait is what the engine talks to. Three backends behave the same:
//! [`SqliteStore`], the default (one embedded database file per environment),
//! [`PostgresStore`] (one table set shared by many environments) and [`S3Store`] (objects
//! in a bucket, written with conditional requests). Every write is a small transaction
//! guarded by the expected serial, so an apply that dies midway loses at most the resource in
//! flight and never leaves state half-written.

#![warn(missing_docs)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod codec;
mod documents;
mod encrypted;
mod locking;
mod model;
mod postgres;
mod rows;
mod s3;
mod sqlite;
mod store;
mod transfer;

pub use documents::{Document, MAX_DOCUMENT_NAME, Precondition, check_document_name};
pub use encrypted::{EncryptedStore, reseal};
pub use locking::{AcquiredLock, LockPolicy, acquire_lock, holder_is_dead, this_boot};
pub use model::{
    ApplyHistory, ApplyId, ApplyOutcome, ApplyRecord, ChangeAction, ChangeOutcome, ChangeRecord,
    ChangeSummary, DEFAULT_LOCK_LEASE, HelmRelease, LockInfo, LockRequest, NewApply, OutputRecord,
    ResourceIndexEntry, ResourceRecord, ResourceWrite, SourceRevision, StateDump, StateMeta,
};
pub use postgres::PostgresStore;
pub use s3::{S3Location, S3Store, S3Tuning};
pub use sqlite::SqliteStore;
pub use store::{StateError, StateStore};
pub use transfer::{is_empty, migrate, push};

/// The versions of the formats this braid writes (and the newest it reads) for each kind of
/// state storage; older ones are migrated forward, newer ones refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormatVersions {
    /// SQLite files (`PRAGMA user_version`).
    pub sqlite: i64,
    /// The Postgres schema (`braid_schema_version`).
    pub postgres: i64,
    /// The S3 layout (`format_version` of `state.json`).
    pub s3: u32,
    /// State dumps (`braid state pull`).
    pub dump: u32,
}

/// See [`FormatVersions`].
pub fn format_versions() -> FormatVersions {
    FormatVersions {
        sqlite: sqlite::schema_version(),
        postgres: postgres::schema_version(),
        s3: s3::FORMAT_VERSION,
        dump: StateDump::FORMAT_VERSION,
    }
}
