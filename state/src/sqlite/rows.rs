//! How state's plain data maps onto SQLite columns and back.
//!
//! Rows are first read into `*Row` structs of raw column values inside the rusqlite closure,
//! then decoded outside it: decoding errors (bad JSON, bad timestamps) are
//! [`StateError::Corrupt`] naming the row, which a rusqlite closure could not express.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::Row;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::model::{
    ApplyId, ApplyOutcome, ApplyRecord, ChangeOutcome, ChangeRecord, LockInfo, ResourceRecord,
};
use crate::store::StateError;

/// RFC 3339 in UTC with as many fractional digits as needed, so a timestamp reads back equal
/// to what was written.
pub(super) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn parse_timestamp(text: &str, what: &str) -> Result<DateTime<Utc>, StateError> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|err| {
            StateError::Corrupt(format!("{what} is not an RFC 3339 time ({text:?}): {err}"))
        })
}

/// Encodes a value for a JSON column. Our model types always serialize, but the error path is
/// kept rather than asserted because `Value` holds arbitrary provider data.
pub(super) fn to_json<T: Serialize>(
    value: &T,
    operation: &'static str,
) -> Result<String, StateError> {
    serde_json::to_string(value).map_err(|source| StateError::Backend {
        operation,
        source: Box::new(source),
    })
}

fn from_json<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, StateError> {
    serde_json::from_str(text).map_err(|err| StateError::Corrupt(format!("{what}: {err}")))
}

/// Serials are `u64` in the model and `INTEGER` (i64) in SQLite.
pub(super) fn serial_from_sql(serial: i64) -> Result<u64, StateError> {
    u64::try_from(serial).map_err(|_| StateError::Corrupt(format!("serial {serial} is negative")))
}

pub(super) fn serial_to_sql(serial: u64) -> Result<i64, StateError> {
    i64::try_from(serial)
        .map_err(|_| StateError::Corrupt(format!("serial {serial} does not fit in the database")))
}

pub(super) const RESOURCE_COLUMNS: &str =
    "address, provider, type_name, id, attributes, sensitive_paths, dependencies, source_file";

pub(super) struct ResourceRow {
    address: String,
    provider: String,
    type_name: String,
    id: Option<String>,
    attributes: String,
    sensitive_paths: String,
    dependencies: String,
    source_file: Option<String>,
}

impl ResourceRow {
    /// Reads the columns in [`RESOURCE_COLUMNS`] order.
    pub(super) fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(ResourceRow {
            address: row.get(0)?,
            provider: row.get(1)?,
            type_name: row.get(2)?,
            id: row.get(3)?,
            attributes: row.get(4)?,
            sensitive_paths: row.get(5)?,
            dependencies: row.get(6)?,
            source_file: row.get(7)?,
        })
    }

    pub(super) fn decode(self) -> Result<ResourceRecord, StateError> {
        let what = |column: &str| format!("resource {} column {column}", self.address);
        Ok(ResourceRecord {
            attributes: from_json(&self.attributes, &what("attributes"))?,
            sensitive_paths: from_json(&self.sensitive_paths, &what("sensitive_paths"))?,
            dependencies: from_json(&self.dependencies, &what("dependencies"))?,
            address: self.address,
            provider: self.provider,
            type_name: self.type_name,
            id: self.id,
            source_file: self.source_file,
        })
    }
}

pub(super) const APPLY_COLUMNS: &str = "id, env, actor, operation, sources, rollback_of, \
     started_at, finished_at, summary, outcome";

pub(super) struct ApplyRow {
    id: ApplyId,
    env: String,
    actor: String,
    operation: String,
    sources: String,
    rollback_of: Option<ApplyId>,
    started_at: String,
    finished_at: Option<String>,
    summary: String,
    outcome: String,
}

impl ApplyRow {
    /// Reads the columns in [`APPLY_COLUMNS`] order.
    pub(super) fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(ApplyRow {
            id: row.get(0)?,
            env: row.get(1)?,
            actor: row.get(2)?,
            operation: row.get(3)?,
            sources: row.get(4)?,
            rollback_of: row.get(5)?,
            started_at: row.get(6)?,
            finished_at: row.get(7)?,
            summary: row.get(8)?,
            outcome: row.get(9)?,
        })
    }

    pub(super) fn decode(self) -> Result<ApplyRecord, StateError> {
        let what = |column: &str| format!("apply {} column {column}", self.id);
        let outcome = ApplyOutcome::parse(&self.outcome).ok_or_else(|| {
            StateError::Corrupt(format!(
                "{}: unknown outcome {:?}",
                what("outcome"),
                self.outcome
            ))
        })?;
        let finished_at = match &self.finished_at {
            Some(text) => Some(parse_timestamp(text, &what("finished_at"))?),
            None => None,
        };
        Ok(ApplyRecord {
            sources: from_json(&self.sources, &what("sources"))?,
            started_at: parse_timestamp(&self.started_at, &what("started_at"))?,
            finished_at,
            summary: from_json(&self.summary, &what("summary"))?,
            outcome,
            id: self.id,
            env: self.env,
            actor: self.actor,
            operation: self.operation,
            rollback_of: self.rollback_of,
        })
    }
}

pub(super) const CHANGE_COLUMNS: &str = "apply_id, seq, address, action, outcome, message, at";

pub(super) struct ChangeRow {
    apply_id: ApplyId,
    seq: i64,
    address: String,
    action: String,
    outcome: String,
    message: Option<String>,
    at: String,
}

impl ChangeRow {
    /// Reads the columns in [`CHANGE_COLUMNS`] order.
    pub(super) fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(ChangeRow {
            apply_id: row.get(0)?,
            seq: row.get(1)?,
            address: row.get(2)?,
            action: row.get(3)?,
            outcome: row.get(4)?,
            message: row.get(5)?,
            at: row.get(6)?,
        })
    }

    pub(super) fn decode(self) -> Result<ChangeRecord, StateError> {
        let what = |column: &str| format!("change {}#{} column {column}", self.apply_id, self.seq);
        let outcome = ChangeOutcome::parse(&self.outcome).ok_or_else(|| {
            StateError::Corrupt(format!(
                "{}: unknown outcome {:?}",
                what("outcome"),
                self.outcome
            ))
        })?;
        Ok(ChangeRecord {
            at: parse_timestamp(&self.at, &what("at"))?,
            outcome,
            address: self.address,
            action: self.action,
            message: self.message,
        })
    }
}

pub(super) const LOCK_COLUMNS: &str =
    "id, actor, host, pid, operation, ci_url, acquired_at, heartbeat_at";

pub(super) struct LockRow {
    id: String,
    actor: String,
    host: String,
    pid: i64,
    operation: String,
    ci_url: Option<String>,
    acquired_at: String,
    heartbeat_at: String,
}

impl LockRow {
    /// Reads the columns in [`LOCK_COLUMNS`] order.
    pub(super) fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(LockRow {
            id: row.get(0)?,
            actor: row.get(1)?,
            host: row.get(2)?,
            pid: row.get(3)?,
            operation: row.get(4)?,
            ci_url: row.get(5)?,
            acquired_at: row.get(6)?,
            heartbeat_at: row.get(7)?,
        })
    }

    pub(super) fn decode(self) -> Result<LockInfo, StateError> {
        let what = |column: &str| format!("lock {} column {column}", self.id);
        let pid = u32::try_from(self.pid).map_err(|_| {
            StateError::Corrupt(format!("{}: {} is not a process id", what("pid"), self.pid))
        })?;
        Ok(LockInfo {
            acquired_at: parse_timestamp(&self.acquired_at, &what("acquired_at"))?,
            heartbeat_at: parse_timestamp(&self.heartbeat_at, &what("heartbeat_at"))?,
            pid,
            id: self.id,
            actor: self.actor,
            host: self.host,
            operation: self.operation,
            ci_url: self.ci_url,
        })
    }
}
