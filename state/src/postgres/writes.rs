//! Resource writes and whole-state replacement inside a Postgres transaction.

use tokio_postgres::Transaction;

use super::backend;
use crate::codec::{serial_to_sql, timestamp, to_json};
use crate::model::{OutputRecord, ResourceWrite, StateDump};
use crate::rows::{APPLY_COLUMNS, CHANGE_COLUMNS, OUTPUT_COLUMNS, RESOURCE_COLUMNS};
use crate::store::StateError;

/// A write's record must carry the write's address.
pub(super) fn check_addresses(
    writes: &[ResourceWrite],
    op: &'static str,
) -> Result<(), StateError> {
    for write in writes {
        if let Some(record) = &write.record
            && record.address != write.address
        {
            return Err(StateError::Backend {
                operation: op,
                source: format!(
                    "the record for {} carries address {}",
                    write.address, record.address
                )
                .into(),
            });
        }
    }
    Ok(())
}

/// The resource row and audit row of one write.
pub(super) async fn write_one(
    tx: &Transaction<'_>,
    env: &str,
    write: &ResourceWrite,
    op: &'static str,
) -> Result<(), StateError> {
    match &write.record {
        Some(record) => {
            tx.execute(
                &format!(
                    "INSERT INTO braid_resources (env, {RESOURCE_COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                     ON CONFLICT (env, address) DO UPDATE SET
                        provider = excluded.provider,
                        type_name = excluded.type_name,
                        id = excluded.id,
                        attributes = excluded.attributes,
                        sensitive_paths = excluded.sensitive_paths,
                        dependencies = excluded.dependencies,
                        source_file = excluded.source_file,
                        meta = excluded.meta"
                ),
                &[
                    &env,
                    &record.address,
                    &record.provider,
                    &record.type_name,
                    &record.id,
                    &to_json(&record.attributes, op)?,
                    &to_json(&record.sensitive_paths, op)?,
                    &to_json(&record.dependencies, op)?,
                    &record.source_file,
                    &record.meta.as_ref().map(|m| to_json(m, op)).transpose()?,
                ],
            )
            .await
            .map_err(backend(op))?;
        }
        None => {
            tx.execute(
                "DELETE FROM braid_resources WHERE env = $1 AND address = $2",
                &[&env, &write.address],
            )
            .await
            .map_err(backend(op))?;
        }
    }
    if let Some((apply_id, change)) = &write.change {
        let known = tx
            .query_opt(
                "SELECT 1 FROM braid_applies WHERE state_env = $1 AND id = $2",
                &[&env, apply_id],
            )
            .await
            .map_err(backend(op))?
            .is_some();
        if !known {
            return Err(StateError::ApplyNotFound(*apply_id));
        }
        tx.execute(
            &format!(
                "INSERT INTO braid_changes (env, {CHANGE_COLUMNS})
                 SELECT $1, $2, COALESCE(MAX(seq), 0) + 1, $3, $4, $5, $6, $7
                 FROM braid_changes WHERE env = $1 AND apply_id = $2"
            ),
            &[
                &env,
                apply_id,
                &change.address,
                &change.action.as_str(),
                &change.outcome.as_str(),
                &change.message,
                &timestamp(change.at),
            ],
        )
        .await
        .map_err(backend(op))?;
    }
    Ok(())
}

/// Replaces every output of the environment by `outputs`.
pub(super) async fn write_outputs(
    tx: &Transaction<'_>,
    env: &str,
    outputs: &[OutputRecord],
    op: &'static str,
) -> Result<(), StateError> {
    tx.execute("DELETE FROM braid_outputs WHERE env = $1", &[&env])
        .await
        .map_err(backend(op))?;
    for output in outputs {
        tx.execute(
            &format!("INSERT INTO braid_outputs (env, {OUTPUT_COLUMNS}) VALUES ($1, $2, $3, $4)"),
            &[
                &env,
                &output.name,
                &to_json(&output.value, op)?,
                &output.sensitive,
            ],
        )
        .await
        .map_err(backend(op))?;
    }
    Ok(())
}

/// Replaces the environment's meta, resources, outputs and history by the dump's. The caller holds
/// the environment row (`FOR UPDATE`).
pub(super) async fn write_dump(
    tx: &Transaction<'_>,
    env: &str,
    dump: &StateDump,
    op: &'static str,
) -> Result<(), StateError> {
    for (table, key) in [
        ("braid_changes", "env"),
        ("braid_applies", "state_env"),
        ("braid_resources", "env"),
    ] {
        tx.execute(&format!("DELETE FROM {table} WHERE {key} = $1"), &[&env])
            .await
            .map_err(backend(op))?;
    }
    let next_apply_id = dump.applies.iter().map(|a| a.apply.id).max().unwrap_or(0) + 1;
    tx.execute(
        "UPDATE braid_states SET lineage = $2, serial = $3, next_apply_id = $4 WHERE env = $1",
        &[
            &env,
            &dump.lineage,
            &serial_to_sql(dump.serial)?,
            &next_apply_id,
        ],
    )
    .await
    .map_err(backend(op))?;
    write_outputs(tx, env, &dump.outputs, op).await?;
    for record in &dump.resources {
        let write = ResourceWrite {
            address: record.address.clone(),
            record: Some(record.clone()),
            change: None,
        };
        write_one(tx, env, &write, op).await?;
    }
    for entry in &dump.applies {
        let apply = &entry.apply;
        tx.execute(
            &format!(
                "INSERT INTO braid_applies (state_env, {APPLY_COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            ),
            &[
                &env,
                &apply.id,
                &apply.env,
                &apply.actor,
                &apply.operation,
                &to_json(&apply.sources, op)?,
                &apply.rollback_of,
                &timestamp(apply.started_at),
                &apply.finished_at.map(timestamp),
                &to_json(&apply.summary, op)?,
                &apply.outcome.as_str(),
                &apply.note,
            ],
        )
        .await
        .map_err(backend(op))?;
        for (seq, change) in (1_i64..).zip(&entry.changes) {
            tx.execute(
                &format!(
                    "INSERT INTO braid_changes (env, {CHANGE_COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                ),
                &[
                    &env,
                    &apply.id,
                    &seq,
                    &change.address,
                    &change.action.as_str(),
                    &change.outcome.as_str(),
                    &change.message,
                    &timestamp(change.at),
                ],
            )
            .await
            .map_err(backend(op))?;
        }
    }
    Ok(())
}
