//! The SQLite backend against real database files in temporary directories.
//!
//! Run with `cargo test -p braid-state --test sqlite`.

mod audit;
mod files;
mod locks;
mod resources;

use std::path::PathBuf;

use braid_provider::Value;
use braid_state::{
    ApplyId, ChangeAction, ChangeOutcome, ChangeRecord, LockRequest, NewApply, ResourceRecord,
    ResourceWrite, SourceRevision, SqliteStore,
};
use chrono::{Duration, TimeZone, Utc};

fn db_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("state").join("staging.db")
}

fn open(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&db_path(dir)).expect("open state")
}

fn record(address: &str, attributes: Value) -> ResourceRecord {
    ResourceRecord {
        address: address.to_string(),
        provider: "local".to_string(),
        type_name: "local_file".to_string(),
        id: Some(format!("id-of-{address}")),
        attributes,
        sensitive_paths: vec![],
        dependencies: vec![],
        source_file: Some("app:main.hcl:3".to_string()),
        meta: None,
    }
}

fn upsert(record: ResourceRecord) -> ResourceWrite {
    ResourceWrite {
        address: record.address.clone(),
        record: Some(record),
        change: None,
    }
}

fn change(address: &str, action: ChangeAction, outcome: ChangeOutcome) -> ChangeRecord {
    ChangeRecord {
        address: address.to_string(),
        action,
        outcome,
        message: None,
        at: Utc::now(),
    }
}

fn new_apply(operation: &str, rollback_of: Option<ApplyId>) -> NewApply {
    NewApply {
        env: "staging".to_string(),
        actor: "alice".to_string(),
        operation: operation.to_string(),
        sources: vec![SourceRevision {
            name: "app".to_string(),
            repo: "https://git.example.com/app.git".to_string(),
            reference: Some("main".to_string()),
            commit: Some("0123456789abcdef0123456789abcdef01234567".to_string()),
            tag: None,
            full_ref: None,
            tree: None,
            digest: "sha256:feed".to_string(),
            dirty: false,
            helm: None,
        }],
        rollback_of,
        note: None,
        started_at: Utc
            .with_ymd_and_hms(2025, 3, 4, 5, 6, 7)
            .single()
            .expect("valid date")
            + Duration::nanoseconds(123_456_789),
    }
}

fn lock_request(actor: &str, operation: &str) -> LockRequest {
    LockRequest {
        actor: actor.to_string(),
        host: "ci-runner-7".to_string(),
        pid: 4242,
        operation: operation.to_string(),
        ci_url: Some("https://ci.example.com/run/9".to_string()),
        boot_id: None,
    }
}
