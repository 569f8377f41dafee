//! Documents beside the state in SQLite: rows of the `documents` table.

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::backend;
use crate::documents::{Document, Precondition, changed, check_document_name, holds, new_version};
use crate::rows::timestamp;
use crate::store::StateError;

pub(super) fn read(
    conn: &Connection,
    name: &str,
    operation: &'static str,
) -> Result<Option<Document>, StateError> {
    conn.query_row(
        "SELECT name, body, version FROM documents WHERE name = ?1",
        [name],
        row_document,
    )
    .optional()
    .map_err(backend(operation))
}

pub(super) fn list(
    conn: &Connection,
    prefix: &str,
    operation: &'static str,
) -> Result<Vec<Document>, StateError> {
    // `substr` rather than LIKE: a prefix may hold `_`, which LIKE reads as a wildcard.
    let mut statement = conn
        .prepare(
            "SELECT name, body, version FROM documents
             WHERE substr(name, 1, length(?1)) = ?1 ORDER BY name",
        )
        .map_err(backend(operation))?;
    statement
        .query_map([prefix], row_document)
        .map_err(backend(operation))?
        .collect::<Result<_, _>>()
        .map_err(backend(operation))
}

pub(super) fn names(
    conn: &Connection,
    prefix: &str,
    operation: &'static str,
) -> Result<Vec<String>, StateError> {
    let mut statement = conn
        .prepare("SELECT name FROM documents WHERE substr(name, 1, length(?1)) = ?1 ORDER BY name")
        .map_err(backend(operation))?;
    statement
        .query_map([prefix], |row| row.get(0))
        .map_err(backend(operation))?
        .collect::<Result<_, _>>()
        .map_err(backend(operation))
}

fn row_document(row: &rusqlite::Row<'_>) -> rusqlite::Result<Document> {
    Ok(Document {
        name: row.get(0)?,
        body: row.get(1)?,
        version: row.get(2)?,
    })
}

/// Writes (`body` is `Some`) or deletes the document if `precondition` holds, in one
/// `BEGIN IMMEDIATE` transaction; returns the new version of a write.
pub(super) fn change(
    conn: &mut Connection,
    name: &str,
    body: Option<&[u8]>,
    precondition: Precondition<'_>,
    operation: &'static str,
) -> Result<Option<String>, StateError> {
    check_document_name(name)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend(operation))?;
    let current: Option<String> = tx
        .query_row(
            "SELECT version FROM documents WHERE name = ?1",
            [name],
            |row| row.get(0),
        )
        .optional()
        .map_err(backend(operation))?;
    if !holds(precondition, current.as_deref()) {
        return Err(changed(name));
    }
    let version = match body {
        Some(body) => {
            let version = new_version();
            tx.execute(
                "INSERT INTO documents (name, body, version, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET
                     body = excluded.body, version = excluded.version,
                     updated_at = excluded.updated_at",
                params![name, body, version, timestamp(Utc::now())],
            )
            .map_err(backend(operation))?;
            Some(version)
        }
        None => {
            tx.execute("DELETE FROM documents WHERE name = ?1", [name])
                .map_err(backend(operation))?;
            None
        }
    };
    tx.commit().map_err(backend(operation))?;
    Ok(version)
}
