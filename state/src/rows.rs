//! How state's plain data maps onto SQL columns and back, for SQLite and Postgres alike.
//!
//! Rows are first read into `*Row` structs of raw column values (inside the rusqlite
//! closure, or from a tokio-postgres row), then decoded: decoding errors (bad JSON, bad
//! timestamps) are [`StateError::Corrupt`] naming the row, which a rusqlite closure could
//! not express. Both backends use the same column names and order.

use rusqlite::Row;

use crate::model::{
    ApplyId, ApplyOutcome, ApplyRecord, ChangeAction, ChangeOutcome, ChangeRecord, LockInfo,
    OutputRecord, ResourceIndexEntry, ResourceRecord,
};
use crate::store::StateError;

use crate::codec::{from_json, parse_timestamp};
pub(crate) use crate::codec::{serial_from_sql, serial_to_sql, timestamp, to_json};

pub(crate) const RESOURCE_COLUMNS: &str = "address, provider, type_name, id, attributes, sensitive_paths, dependencies, source_file, meta";

pub(crate) struct ResourceRow {
    pub(crate) address: String,
    pub(crate) provider: String,
    pub(crate) type_name: String,
    pub(crate) id: Option<String>,
    pub(crate) attributes: String,
    pub(crate) sensitive_paths: String,
    pub(crate) dependencies: String,
    pub(crate) source_file: Option<String>,
    pub(crate) meta: Option<String>,
}

impl ResourceRow {
    /// Reads the columns in [`RESOURCE_COLUMNS`] order.
    pub(crate) fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(ResourceRow {
            address: row.get(0)?,
            provider: row.get(1)?,
            type_name: row.get(2)?,
            id: row.get(3)?,
            attributes: row.get(4)?,
            sensitive_paths: row.get(5)?,
            dependencies: row.get(6)?,
            source_file: row.get(7)?,
            meta: row.get(8)?,
        })
    }

    pub(crate) fn decode(self) -> Result<ResourceRecord, StateError> {
        let what = |column: &str| format!("resource {} column {column}", self.address);
        Ok(ResourceRecord {
            attributes: from_json(&self.attributes, &what("attributes"))?,
            sensitive_paths: from_json(&self.sensitive_paths, &what("sensitive_paths"))?,
            dependencies: from_json(&self.dependencies, &what("dependencies"))?,
            meta: match &self.meta {
                Some(text) => Some(from_json(text, &what("meta"))?),
                None => None,
            },
            address: self.address,
            provider: self.provider,
            type_name: self.type_name,
            id: self.id,
            source_file: self.source_file,
        })
    }
}

pub(crate) const INDEX_COLUMNS: &str = "address, provider, meta";

pub(crate) struct IndexRow {
    pub(crate) address: String,
    pub(crate) provider: String,
    pub(crate) meta: Option<String>,
}

impl IndexRow {
    /// Reads the columns in [`INDEX_COLUMNS`] order.
    pub(crate) fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(IndexRow {
            address: row.get(0)?,
            provider: row.get(1)?,
            meta: row.get(2)?,
        })
    }

    pub(crate) fn decode(self) -> Result<ResourceIndexEntry, StateError> {
        Ok(ResourceIndexEntry {
            meta: match &self.meta {
                Some(text) => Some(from_json(
                    text,
                    &format!("resource {} column meta", self.address),
                )?),
                None => None,
            },
            address: self.address,
            provider: self.provider,
        })
    }
}

pub(crate) const OUTPUT_COLUMNS: &str = "name, value, sensitive";

pub(crate) struct OutputRow {
    pub(crate) name: String,
    pub(crate) value: String,
    pub(crate) sensitive: bool,
}

impl OutputRow {
    /// Reads the columns in [`OUTPUT_COLUMNS`] order.
    pub(crate) fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(OutputRow {
            name: row.get(0)?,
            value: row.get(1)?,
            sensitive: row.get(2)?,
        })
    }

    pub(crate) fn decode(self) -> Result<OutputRecord, StateError> {
        Ok(OutputRecord {
            value: from_json(&self.value, &format!("output {} column value", self.name))?,
            name: self.name,
            sensitive: self.sensitive,
        })
    }
}

pub(crate) const APPLY_COLUMNS: &str = "id, env, actor, operation, sources, rollback_of, \
     started_at, finished_at, summary, outcome, note";

pub(crate) struct ApplyRow {
    pub(crate) id: ApplyId,
    pub(crate) env: String,
    pub(crate) actor: String,
    pub(crate) operation: String,
    pub(crate) sources: String,
    pub(crate) rollback_of: Option<ApplyId>,
    pub(crate) started_at: String,
    pub(crate) finished_at: Option<String>,
    pub(crate) summary: String,
    pub(crate) outcome: String,
    pub(crate) note: Option<String>,
}

impl ApplyRow {
    /// Reads the columns in [`APPLY_COLUMNS`] order.
    pub(crate) fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
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
            note: row.get(10)?,
        })
    }

    pub(crate) fn decode(self) -> Result<ApplyRecord, StateError> {
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
            note: self.note,
        })
    }
}

pub(crate) const CHANGE_COLUMNS: &str = "apply_id, seq, address, action, outcome, message, at";

pub(crate) struct ChangeRow {
    pub(crate) apply_id: ApplyId,
    pub(crate) seq: i64,
    pub(crate) address: String,
    pub(crate) action: String,
    pub(crate) outcome: String,
    pub(crate) message: Option<String>,
    pub(crate) at: String,
}

impl ChangeRow {
    /// Reads the columns in [`CHANGE_COLUMNS`] order.
    pub(crate) fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
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

    pub(crate) fn decode(self) -> Result<ChangeRecord, StateError> {
        let what = |column: &str| format!("change {}#{} column {column}", self.apply_id, self.seq);
        let outcome = ChangeOutcome::parse(&self.outcome).ok_or_else(|| {
            StateError::Corrupt(format!(
                "{}: unknown outcome {:?}",
                what("outcome"),
                self.outcome
            ))
        })?;
        let action: ChangeAction = self
            .action
            .parse()
            .map_err(|err| StateError::Corrupt(format!("{}: {err}", what("action"))))?;
        Ok(ChangeRecord {
            at: parse_timestamp(&self.at, &what("at"))?,
            outcome,
            action,
            address: self.address,
            message: self.message,
        })
    }
}

pub(crate) const LOCK_COLUMNS: &str =
    "id, actor, host, pid, operation, ci_url, acquired_at, heartbeat_at, boot_id";

pub(crate) struct LockRow {
    pub(crate) id: String,
    pub(crate) actor: String,
    pub(crate) host: String,
    pub(crate) pid: i64,
    pub(crate) operation: String,
    pub(crate) ci_url: Option<String>,
    pub(crate) acquired_at: String,
    pub(crate) heartbeat_at: String,
    pub(crate) boot_id: Option<String>,
}

impl LockRow {
    /// Reads the columns in [`LOCK_COLUMNS`] order.
    pub(crate) fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(LockRow {
            id: row.get(0)?,
            actor: row.get(1)?,
            host: row.get(2)?,
            pid: row.get(3)?,
            operation: row.get(4)?,
            ci_url: row.get(5)?,
            acquired_at: row.get(6)?,
            heartbeat_at: row.get(7)?,
            boot_id: row.get(8)?,
        })
    }

    pub(crate) fn decode(self) -> Result<LockInfo, StateError> {
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
            boot_id: self.boot_id,
        })
    }
}
