//! braid's state: what was deployed, from which commits, by whom.
//!
//! The [`StateStore`] trait is what the engine talks to; [`SqliteStore`] is the default
//! backend (one embedded database file per environment). Every write is a small transaction
//! guarded by the expected serial, so an apply that dies midway loses at most the resource in
//! flight and never leaves state half-written.

mod model;
mod sqlite;
mod store;

pub use model::{
    ApplyId, ApplyOutcome, ApplyRecord, ChangeOutcome, ChangeRecord, ChangeSummary, LockInfo,
    LockRequest, NewApply, ResourceRecord, ResourceWrite, SourceRevision, StateMeta,
};
pub use sqlite::SqliteStore;
pub use store::{StateError, StateStore};
