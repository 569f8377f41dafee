//! Documents beside the state in Postgres: rows of `braid_documents`, keyed by environment
//! and name. Each write is one statement whose `WHERE` (or `ON CONFLICT`) is the
//! precondition, so it holds atomically without a transaction.

use chrono::Utc;
use tokio_postgres::Client;

use super::backend;
use crate::codec::timestamp;
use crate::documents::{Document, Precondition, changed, check_document_name, new_version};
use crate::store::StateError;

pub(super) async fn read(
    client: &Client,
    env: &str,
    name: &str,
) -> Result<Option<Document>, StateError> {
    const OP: &str = "read document";
    let row = client
        .query_opt(
            "SELECT name, body, version FROM braid_documents WHERE env = $1 AND name = $2",
            &[&env, &name],
        )
        .await
        .map_err(backend(OP))?;
    row.map(|row| document(&row).map_err(backend(OP)))
        .transpose()
}

pub(super) async fn list(
    client: &Client,
    env: &str,
    prefix: &str,
) -> Result<Vec<Document>, StateError> {
    const OP: &str = "list documents";
    // `left` rather than LIKE: a prefix may hold `_`, which LIKE reads as a wildcard.
    let rows = client
        .query(
            "SELECT name, body, version FROM braid_documents
             WHERE env = $1 AND left(name, length($2)) = $2 ORDER BY name COLLATE \"C\"",
            &[&env, &prefix],
        )
        .await
        .map_err(backend(OP))?;
    rows.iter()
        .map(|row| document(row).map_err(backend(OP)))
        .collect()
}

pub(super) async fn names(
    client: &Client,
    env: &str,
    prefix: &str,
) -> Result<Vec<String>, StateError> {
    const OP: &str = "list documents";
    let rows = client
        .query(
            "SELECT name FROM braid_documents
             WHERE env = $1 AND left(name, length($2)) = $2 ORDER BY name COLLATE \"C\"",
            &[&env, &prefix],
        )
        .await
        .map_err(backend(OP))?;
    rows.iter()
        .map(|row| row.try_get(0).map_err(backend(OP)))
        .collect()
}

fn document(row: &tokio_postgres::Row) -> Result<Document, tokio_postgres::Error> {
    Ok(Document {
        name: row.try_get(0)?,
        body: row.try_get(1)?,
        version: row.try_get(2)?,
    })
}

pub(super) async fn put(
    client: &Client,
    env: &str,
    name: &str,
    body: &[u8],
    precondition: Precondition<'_>,
) -> Result<String, StateError> {
    const OP: &str = "write document";
    check_document_name(name)?;
    let version = new_version();
    let now = timestamp(Utc::now());
    let written = match precondition {
        Precondition::Any => {
            client
                .execute(
                    "INSERT INTO braid_documents (env, name, body, version, updated_at)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (env, name) DO UPDATE SET
                         body = EXCLUDED.body, version = EXCLUDED.version,
                         updated_at = EXCLUDED.updated_at",
                    &[&env, &name, &body, &version, &now],
                )
                .await
        }
        Precondition::Absent => {
            client
                .execute(
                    "INSERT INTO braid_documents (env, name, body, version, updated_at)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (env, name) DO NOTHING",
                    &[&env, &name, &body, &version, &now],
                )
                .await
        }
        Precondition::Version(expected) => {
            client
                .execute(
                    "UPDATE braid_documents SET body = $3, version = $4, updated_at = $5
                     WHERE env = $1 AND name = $2 AND version = $6",
                    &[&env, &name, &body, &version, &now, &expected],
                )
                .await
        }
    }
    .map_err(backend(OP))?;
    if written == 0 {
        return Err(changed(name));
    }
    Ok(version)
}

pub(super) async fn delete(
    client: &Client,
    env: &str,
    name: &str,
    precondition: Precondition<'_>,
) -> Result<(), StateError> {
    const OP: &str = "delete document";
    check_document_name(name)?;
    match precondition {
        Precondition::Any => {
            client
                .execute(
                    "DELETE FROM braid_documents WHERE env = $1 AND name = $2",
                    &[&env, &name],
                )
                .await
                .map_err(backend(OP))?;
        }
        Precondition::Absent => {
            if read(client, env, name).await?.is_some() {
                return Err(changed(name));
            }
        }
        Precondition::Version(expected) => {
            let deleted = client
                .execute(
                    "DELETE FROM braid_documents WHERE env = $1 AND name = $2 AND version = $3",
                    &[&env, &name, &expected],
                )
                .await
                .map_err(backend(OP))?;
            if deleted == 0 {
                return Err(changed(name));
            }
        }
    }
    Ok(())
}
