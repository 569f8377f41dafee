//! Resource writes and whole-state replacement inside a Postgres transaction.

use tokio_postgres::Transaction;

use super::{Statements, backend};
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

/// The resource rows and audit rows of a group commit, in a handful of statements whatever
/// its size: one delete and one multi-row upsert (arrays unnested) for the resources — the
/// last write of an address wins, as written one by one — and one insert for the changes,
/// numbered in order after each apply's last. No round trip per resource.
pub(super) async fn write_batch(
    tx: &Transaction<'_>,
    statements: &Statements,
    env: &str,
    writes: &[ResourceWrite],
    op: &'static str,
) -> Result<(), StateError> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut upserts: BTreeMap<&str, &crate::model::ResourceRecord> = BTreeMap::new();
    let mut deletes: BTreeSet<&str> = BTreeSet::new();
    for write in writes {
        match &write.record {
            Some(record) => {
                deletes.remove(write.address.as_str());
                upserts.insert(&write.address, record);
            }
            None => {
                upserts.remove(write.address.as_str());
                deletes.insert(&write.address);
            }
        }
    }
    if !deletes.is_empty() {
        let addresses: Vec<&str> = deletes.into_iter().collect();
        let delete = statements
            .get(
                tx,
                "DELETE FROM braid_resources WHERE env = $1 AND address = ANY($2::text[])",
                op,
            )
            .await?;
        tx.execute(&delete, &[&env, &addresses])
            .await
            .map_err(backend(op))?;
    }
    if !upserts.is_empty() {
        let n = upserts.len();
        let (mut address, mut provider, mut type_name, mut id) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut attributes, mut sensitive, mut dependencies, mut source_file, mut meta) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for record in upserts.values() {
            address.push(record.address.as_str());
            provider.push(record.provider.as_str());
            type_name.push(record.type_name.as_str());
            id.push(record.id.as_deref());
            attributes.push(to_json(&record.attributes, op)?);
            sensitive.push(to_json(&record.sensitive_paths, op)?);
            dependencies.push(to_json(&record.dependencies, op)?);
            source_file.push(record.source_file.as_deref());
            meta.push(record.meta.as_ref().map(|m| to_json(m, op)).transpose()?);
        }
        let upsert = statements
            .get(
                tx,
                &format!(
                    "INSERT INTO braid_resources (env, {RESOURCE_COLUMNS})
                 SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[],
                     $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
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
                op,
            )
            .await?;
        tx.execute(
            &upsert,
            &[
                &env,
                &address,
                &provider,
                &type_name,
                &id,
                &attributes,
                &sensitive,
                &dependencies,
                &source_file,
                &meta,
            ],
        )
        .await
        .map_err(backend(op))?;
    }
    let changes: Vec<(i64, &crate::model::ChangeRecord)> = writes
        .iter()
        .filter_map(|w| w.change.as_ref().map(|(id, c)| (*id, c)))
        .collect();
    if changes.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = changes
        .iter()
        .map(|(id, _)| *id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // The apply of every change must exist; each one's changes go after its last.
    let last_seq = statements
        .get(
            tx,
            "SELECT a.id, COALESCE((SELECT MAX(c.seq) FROM braid_changes c
                                    WHERE c.env = $1 AND c.apply_id = a.id), 0)
             FROM braid_applies a WHERE a.state_env = $1 AND a.id = ANY($2::bigint[])",
            op,
        )
        .await?;
    let rows = tx
        .query(&last_seq, &[&env, &ids])
        .await
        .map_err(backend(op))?;
    let mut next: BTreeMap<i64, i64> = rows
        .iter()
        .map(|row| (row.get::<_, i64>(0), row.get::<_, i64>(1)))
        .collect();
    if let Some((missing, _)) = changes.iter().find(|(id, _)| !next.contains_key(id)) {
        return Err(StateError::ApplyNotFound(*missing));
    }
    let n = changes.len();
    let (mut apply_id, mut seq, mut address, mut action) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut outcome, mut message, mut at) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (id, change) in &changes {
        let counter = next.entry(*id).or_insert(0);
        *counter += 1;
        apply_id.push(*id);
        seq.push(*counter);
        address.push(change.address.as_str());
        action.push(change.action.as_str());
        outcome.push(change.outcome.as_str());
        message.push(change.message.as_deref());
        at.push(timestamp(change.at));
    }
    let insert = statements
        .get(
            tx,
            &format!(
                "INSERT INTO braid_changes (env, {CHANGE_COLUMNS})
                 SELECT $1, * FROM UNNEST($2::bigint[], $3::bigint[], $4::text[], $5::text[],
                     $6::text[], $7::text[], $8::text[])"
            ),
            op,
        )
        .await?;
    tx.execute(
        &insert,
        &[
            &env, &apply_id, &seq, &address, &action, &outcome, &message, &at,
        ],
    )
    .await
    .map_err(backend(op))?;
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
    let writes: Vec<ResourceWrite> = dump
        .resources
        .iter()
        .map(|record| ResourceWrite {
            address: record.address.clone(),
            record: Some(record.clone()),
            change: None,
        })
        .collect();
    write_batch(tx, &Statements::default(), env, &writes, op).await?;
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
