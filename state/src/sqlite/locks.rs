//! The environment lock in SQLite: at most one row in the `lock` table.

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::backend;
use crate::model::{LockInfo, LockRequest};
use crate::rows::{LOCK_COLUMNS, LockRow, timestamp};
use crate::store::StateError;

pub(super) fn read(
    conn: &Connection,
    operation: &'static str,
) -> Result<Option<LockInfo>, StateError> {
    conn.query_row(
        &format!("SELECT {LOCK_COLUMNS} FROM lock WHERE slot = 1"),
        [],
        LockRow::read,
    )
    .optional()
    .map_err(backend(operation))?
    .map(LockRow::decode)
    .transpose()
}

/// Takes the lock when it is free (`expected_id` is `None`), or replaces the lock whose id
/// is `expected_id` (stealing a stale lock). `BEGIN IMMEDIATE` makes the check and the
/// write one step for every process using the file.
pub(super) fn take(
    conn: &mut Connection,
    expected_id: Option<&str>,
    request: LockRequest,
    operation: &'static str,
) -> Result<LockInfo, StateError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend(operation))?;
    match (read(&tx, operation)?, expected_id) {
        (Some(holder), None) => return Err(StateError::Locked(Box::new(holder))),
        (Some(holder), Some(expected)) if holder.id != expected => {
            return Err(StateError::LockNotFound(expected.to_string()));
        }
        (None, Some(expected)) => return Err(StateError::LockNotFound(expected.to_string())),
        (Some(_), Some(_)) | (None, None) => {}
    }
    let info = LockInfo::fresh(request);
    tx.execute("DELETE FROM lock WHERE slot = 1", [])
        .map_err(backend(operation))?;
    tx.execute(
        &format!(
            "INSERT INTO lock (slot, {LOCK_COLUMNS}) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ),
        params![
            info.id,
            info.actor,
            info.host,
            info.pid,
            info.operation,
            info.ci_url,
            timestamp(info.acquired_at),
            timestamp(info.heartbeat_at),
            info.boot_id,
        ],
    )
    .map_err(backend(operation))?;
    tx.commit().map_err(backend(operation))?;
    Ok(info)
}

pub(super) fn heartbeat(
    conn: &Connection,
    lock_id: &str,
    operation: &'static str,
) -> Result<(), StateError> {
    let updated = conn
        .execute(
            "UPDATE lock SET heartbeat_at = ?1 WHERE id = ?2",
            params![timestamp(Utc::now()), lock_id],
        )
        .map_err(backend(operation))?;
    if updated == 0 {
        return Err(StateError::LockNotFound(lock_id.to_string()));
    }
    Ok(())
}

pub(super) fn release(
    conn: &Connection,
    lock_id: &str,
    operation: &'static str,
) -> Result<(), StateError> {
    let deleted = conn
        .execute("DELETE FROM lock WHERE id = ?1", [lock_id])
        .map_err(backend(operation))?;
    if deleted == 0 {
        return Err(StateError::LockNotFound(lock_id.to_string()));
    }
    Ok(())
}
