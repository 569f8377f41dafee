//! Writing a whole [`StateDump`] into a SQLite file (`braid state push` / `migrate`).

use rusqlite::{Transaction, params};

use super::backend;
use super::{write_one, write_outputs};
use crate::model::{ResourceWrite, StateDump};
use crate::rows::{APPLY_COLUMNS, CHANGE_COLUMNS, serial_to_sql, timestamp, to_json};
use crate::store::StateError;

/// Replaces meta, resources, outputs, applies and changes by the dump's, inside the caller's
/// transaction. Apply ids are kept so `rollback_of` and `braid history` read the same.
pub(super) fn write_dump(
    tx: &Transaction<'_>,
    dump: &StateDump,
    op: &'static str,
) -> Result<(), StateError> {
    tx.execute_batch("DELETE FROM changes; DELETE FROM applies; DELETE FROM resources;")
        .map_err(backend(op))?;
    write_outputs(tx, &dump.outputs, op)?;
    tx.execute(
        "UPDATE meta SET lineage = ?1, serial = ?2 WHERE singleton = 1",
        params![dump.lineage, serial_to_sql(dump.serial)?],
    )
    .map_err(backend(op))?;
    for record in &dump.resources {
        write_one(
            tx,
            &ResourceWrite {
                address: record.address.clone(),
                record: Some(record.clone()),
                change: None,
            },
            op,
        )?;
    }
    for entry in &dump.applies {
        let apply = &entry.apply;
        tx.execute(
            &format!("INSERT INTO applies ({APPLY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
            params![
                apply.id,
                apply.env,
                apply.actor,
                apply.operation,
                to_json(&apply.sources, op)?,
                apply.rollback_of,
                timestamp(apply.started_at),
                apply.finished_at.map(timestamp),
                to_json(&apply.summary, op)?,
                apply.outcome.as_str(),
                apply.note,
            ],
        )
        .map_err(backend(op))?;
        for (seq, change) in (1_i64..).zip(&entry.changes) {
            tx.execute(
                &format!(
                    "INSERT INTO changes ({CHANGE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                ),
                params![
                    apply.id,
                    seq,
                    change.address,
                    change.action.as_str(),
                    change.outcome.as_str(),
                    change.message,
                    timestamp(change.at),
                ],
            )
            .map_err(backend(op))?;
        }
    }
    Ok(())
}
