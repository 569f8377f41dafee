//! The Postgres state backend: one table set shared by many environments, every row keyed
//! by environment.
//!
//! Writes that depend on what is stored take the environment's row in `braid_states` with
//! `SELECT … FOR UPDATE` first, so two writers to one environment serialize on that row
//! while other environments are never blocked. The environment lock is a row of
//! `braid_locks` (primary key `env`), taken with `INSERT … ON CONFLICT DO NOTHING`.
//!
//! The connection is opened on first use, so opening a store never blocks; the schema is
//! created or migrated then ([`schema`]).

mod documents;
mod schema;
mod writes;

use async_trait::async_trait;
use tokio::sync::{Mutex, MutexGuard};
use tokio_postgres::{Client, Config, Row, Statement, Transaction};

use crate::codec::{check_serial, serial_from_sql, serial_to_sql, timestamp, to_json};
use crate::documents::{Document, Precondition};
use crate::model::{
    ApplyId, ApplyOutcome, ApplyRecord, ChangeRecord, ChangeSummary, LockInfo, LockRequest,
    NewApply, OutputRecord, ResourceIndexEntry, ResourceRecord, ResourceWrite, StateDump,
    StateMeta,
};
use crate::rows::{
    APPLY_COLUMNS, ApplyRow, CHANGE_COLUMNS, ChangeRow, INDEX_COLUMNS, IndexRow, LOCK_COLUMNS,
    LockRow, OUTPUT_COLUMNS, OutputRow, RESOURCE_COLUMNS, ResourceRow,
};
use crate::store::{StateError, StateStore};

/// The schema version this braid migrates to (and the newest it reads).
pub(crate) fn schema_version() -> i64 {
    schema::latest_version()
}

/// A [`StateStore`] for one environment in a Postgres database.
pub struct PostgresStore {
    config: Config,
    env: String,
    location: String,
    /// Opened on first use; reopened when the server closed it.
    client: Mutex<Option<Client>>,
    /// The commit path's statements, prepared once per connection.
    statements: Statements,
}

/// Statements prepared on the server once per connection (named prepared statements), so
/// that running one again sends only its parameters: a group commit is a few Bind/Execute
/// messages, not a Parse and a Describe per statement. Emptied when the connection is
/// replaced, since prepared statements live in the server's session.
#[derive(Default)]
pub(super) struct Statements(std::sync::Mutex<std::collections::HashMap<String, Statement>>);

impl Statements {
    /// `sql` prepared on `tx`'s connection (the first time), as a statement to execute.
    pub(super) async fn get(
        &self,
        tx: &Transaction<'_>,
        sql: &str,
        op: &'static str,
    ) -> Result<Statement, StateError> {
        if let Some(statement) = self.cached(sql) {
            return Ok(statement);
        }
        let statement = tx.prepare(sql).await.map_err(backend(op))?;
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    fn cached(&self, sql: &str) -> Option<Statement> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(sql)
            .cloned()
    }

    fn clear(&self) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// Turns a tokio-postgres error into a [`StateError::Backend`] naming the step.
fn backend(operation: &'static str) -> impl Fn(tokio_postgres::Error) -> StateError {
    move |source| StateError::Backend {
        operation,
        source: Box::new(source),
    }
}

impl PostgresStore {
    /// A store for environment `env` in the database at `url` (`postgres://user:pw@host/db`
    /// or `host=… dbname=…`). Nothing is connected until the first call.
    pub fn new(url: &str, env: &str) -> Result<PostgresStore, StateError> {
        let config: Config = url.parse().map_err(|err| StateError::Open {
            location: "the Postgres connection string".to_string(),
            source: Box::new(err),
        })?;
        let location = describe(&config, env);
        Ok(PostgresStore {
            config,
            env: env.to_string(),
            location,
            client: Mutex::new(None),
            statements: Statements::default(),
        })
    }

    /// The connected client, connecting (and migrating the schema) when needed.
    async fn client(&self) -> Result<MutexGuard<'_, Option<Client>>, StateError> {
        let mut guard = self.client.lock().await;
        if guard.as_ref().is_none_or(Client::is_closed) {
            let open = |source: Box<dyn std::error::Error + Send + Sync>| StateError::Open {
                location: self.location.clone(),
                source,
            };
            // TLS as libpq does it: `sslmode=prefer` (the default) uses TLS when the server
            // offers it, `sslmode=require` insists, `sslmode=disable` never tries. The
            // system's trust store verifies the server certificate.
            let tls = native_tls::TlsConnector::new().map_err(|err| open(Box::new(err)))?;
            let (mut client, connection) = self
                .config
                .connect(postgres_native_tls::MakeTlsConnector::new(tls))
                .await
                .map_err(|err| open(Box::new(err)))?;
            // The connection future drives the socket; it ends when the client is dropped.
            tokio::spawn(connection);
            schema::migrate(&mut client, &self.location).await?;
            self.statements.clear();
            *guard = Some(client);
        }
        Ok(guard)
    }

    /// Creates the environment's row if missing and locks it for this transaction.
    async fn lock_env_row(
        &self,
        tx: &tokio_postgres::Transaction<'_>,
        op: &'static str,
    ) -> Result<(StateMeta, i64), StateError> {
        let create = self
            .statements
            .get(
                tx,
                "INSERT INTO braid_states (env, lineage, serial) VALUES ($1, $2, 0)
                 ON CONFLICT (env) DO NOTHING",
                op,
            )
            .await?;
        tx.execute(&create, &[&self.env, &uuid::Uuid::new_v4().to_string()])
            .await
            .map_err(backend(op))?;
        let select = self
            .statements
            .get(
                tx,
                "SELECT lineage, serial, next_apply_id FROM braid_states WHERE env = $1 FOR UPDATE",
                op,
            )
            .await?;
        let row = tx
            .query_one(&select, &[&self.env])
            .await
            .map_err(backend(op))?;
        let meta = StateMeta {
            lineage: row.try_get(0).map_err(backend(op))?,
            serial: serial_from_sql(row.try_get(1).map_err(backend(op))?)?,
        };
        Ok((meta, row.try_get(2).map_err(backend(op))?))
    }

    /// Every row `sql` selects with `params`, read with `read` and then decoded: decoding
    /// errors are [`StateError::Corrupt`] naming the row.
    async fn select_all<R, T>(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
        read: fn(&Row) -> Result<R, tokio_postgres::Error>,
        decode: fn(R) -> Result<T, StateError>,
        op: &'static str,
    ) -> Result<Vec<T>, StateError> {
        let mut guard = self.client().await?;
        let rows = connected(&mut guard)?
            .query(sql, params)
            .await
            .map_err(backend(op))?;
        rows.iter()
            .map(|row| decode(read(row).map_err(backend(op))?))
            .collect()
    }

    async fn read_lock(
        &self,
        client: &Client,
        op: &'static str,
    ) -> Result<Option<LockInfo>, StateError> {
        client
            .query_opt(
                &format!("SELECT {LOCK_COLUMNS} FROM braid_locks WHERE env = $1"),
                &[&self.env],
            )
            .await
            .map_err(backend(op))?
            .map(|row| lock_row(&row).map_err(backend(op))?.decode())
            .transpose()
    }

    /// Takes the lock when free (`expected_id` `None`) or replaces the lock with that id.
    async fn take_lock(
        &self,
        expected_id: Option<&str>,
        request: LockRequest,
        op: &'static str,
    ) -> Result<LockInfo, StateError> {
        let mut guard = self.client().await?;
        let client = connected(&mut guard)?;
        let info = LockInfo::fresh(request);
        let pid = i64::from(info.pid);
        let values: [&(dyn tokio_postgres::types::ToSql + Sync); 11] = [
            &self.env,
            &info.id,
            &info.actor,
            &info.host,
            &pid,
            &info.operation,
            &info.ci_url,
            &timestamp(info.acquired_at),
            &timestamp(info.heartbeat_at),
            &info.boot_id,
            &expected_id,
        ];
        let (sql, params) = match expected_id {
            None => (
                format!(
                    "INSERT INTO braid_locks (env, {LOCK_COLUMNS})
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                     ON CONFLICT (env) DO NOTHING"
                ),
                &values[..10],
            ),
            Some(_) => (
                "UPDATE braid_locks SET id = $2, actor = $3, host = $4, pid = $5, operation = $6,
                    ci_url = $7, acquired_at = $8, heartbeat_at = $9, boot_id = $10
                 WHERE env = $1 AND id = $11"
                    .to_string(),
                &values[..],
            ),
        };
        // A lock released between our insert and our read leaves the row free: insert again
        // (a few times: another writer may take it in between, and then it holds it).
        for _ in 0..5 {
            let written = client.execute(&sql, params).await.map_err(backend(op))?;
            if written == 1 {
                return Ok(info);
            }
            match (expected_id, self.read_lock(client, op).await?) {
                (Some(expected), _) => return Err(StateError::LockNotFound(expected.to_string())),
                (None, Some(holder)) => return Err(StateError::Locked(Box::new(holder))),
                (None, None) => continue,
            }
        }
        Err(StateError::Backend {
            operation: op,
            source: "the lock was released and taken again several times while it was being taken; try again".into(),
        })
    }
}

/// `postgres://user@host:port/db (environment staging)`, without the password.
fn describe(config: &Config, env: &str) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".to_string());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgres://{}@{host}:{port}/{} (environment {env})",
        config.get_user().unwrap_or(""),
        config.get_dbname().unwrap_or("")
    )
}

fn connected<'a>(
    guard: &'a mut MutexGuard<'_, Option<Client>>,
) -> Result<&'a mut Client, StateError> {
    guard.as_mut().ok_or_else(|| StateError::Backend {
        operation: "connect",
        source: "the Postgres connection is not open".into(),
    })
}

fn resource_row(row: &Row) -> Result<ResourceRow, tokio_postgres::Error> {
    Ok(ResourceRow {
        address: row.try_get(0)?,
        provider: row.try_get(1)?,
        type_name: row.try_get(2)?,
        id: row.try_get(3)?,
        attributes: row.try_get(4)?,
        sensitive_paths: row.try_get(5)?,
        dependencies: row.try_get(6)?,
        source_file: row.try_get(7)?,
        meta: row.try_get(8)?,
    })
}

fn index_row(row: &Row) -> Result<IndexRow, tokio_postgres::Error> {
    Ok(IndexRow {
        address: row.try_get(0)?,
        provider: row.try_get(1)?,
        meta: row.try_get(2)?,
    })
}

fn output_row(row: &Row) -> Result<OutputRow, tokio_postgres::Error> {
    Ok(OutputRow {
        name: row.try_get(0)?,
        value: row.try_get(1)?,
        sensitive: row.try_get(2)?,
    })
}

fn apply_row(row: &Row) -> Result<ApplyRow, tokio_postgres::Error> {
    Ok(ApplyRow {
        id: row.try_get(0)?,
        env: row.try_get(1)?,
        actor: row.try_get(2)?,
        operation: row.try_get(3)?,
        sources: row.try_get(4)?,
        rollback_of: row.try_get(5)?,
        started_at: row.try_get(6)?,
        finished_at: row.try_get(7)?,
        summary: row.try_get(8)?,
        outcome: row.try_get(9)?,
        note: row.try_get(10)?,
    })
}

fn change_row(row: &Row) -> Result<ChangeRow, tokio_postgres::Error> {
    Ok(ChangeRow {
        apply_id: row.try_get(0)?,
        seq: row.try_get(1)?,
        address: row.try_get(2)?,
        action: row.try_get(3)?,
        outcome: row.try_get(4)?,
        message: row.try_get(5)?,
        at: row.try_get(6)?,
    })
}

fn lock_row(row: &Row) -> Result<LockRow, tokio_postgres::Error> {
    Ok(LockRow {
        id: row.try_get(0)?,
        actor: row.try_get(1)?,
        host: row.try_get(2)?,
        pid: row.try_get(3)?,
        operation: row.try_get(4)?,
        ci_url: row.try_get(5)?,
        acquired_at: row.try_get(6)?,
        heartbeat_at: row.try_get(7)?,
        boot_id: row.try_get(8)?,
    })
}

#[async_trait]
impl StateStore for PostgresStore {
    fn location(&self) -> String {
        self.location.clone()
    }

    async fn meta(&self) -> Result<StateMeta, StateError> {
        const OP: &str = "read meta";
        let mut guard = self.client().await?;
        let client = connected(&mut guard)?;
        let row = client
            .query_opt(
                "SELECT lineage, serial FROM braid_states WHERE env = $1",
                &[&self.env],
            )
            .await
            .map_err(backend(OP))?;
        if let Some(row) = row {
            return Ok(StateMeta {
                lineage: row.try_get(0).map_err(backend(OP))?,
                serial: serial_from_sql(row.try_get(1).map_err(backend(OP))?)?,
            });
        }
        let tx = client.transaction().await.map_err(backend(OP))?;
        let (meta, _) = self.lock_env_row(&tx, OP).await?;
        tx.commit().await.map_err(backend(OP))?;
        Ok(meta)
    }

    async fn resources(&self) -> Result<Vec<ResourceRecord>, StateError> {
        const OP: &str = "read resources";
        self.select_all(
            &format!("SELECT {RESOURCE_COLUMNS} FROM braid_resources WHERE env = $1 ORDER BY address COLLATE \"C\""),
            &[&self.env],
            resource_row,
            ResourceRow::decode,
            OP,
        )
        .await
    }

    async fn resource_index(&self) -> Result<Vec<ResourceIndexEntry>, StateError> {
        const OP: &str = "read resources";
        self.select_all(
            &format!("SELECT {INDEX_COLUMNS} FROM braid_resources WHERE env = $1 ORDER BY address COLLATE \"C\""),
            &[&self.env],
            index_row,
            IndexRow::decode,
            OP,
        )
        .await
    }

    async fn resource(&self, address: &str) -> Result<Option<ResourceRecord>, StateError> {
        const OP: &str = "read resource";
        let mut guard = self.client().await?;
        connected(&mut guard)?
            .query_opt(
                &format!(
                    "SELECT {RESOURCE_COLUMNS} FROM braid_resources WHERE env = $1 AND address = $2"
                ),
                &[&self.env, &address],
            )
            .await
            .map_err(backend(OP))?
            .map(|row| resource_row(&row).map_err(backend(OP))?.decode())
            .transpose()
    }

    async fn commit_resource(
        &self,
        expected_serial: u64,
        write: ResourceWrite,
    ) -> Result<u64, StateError> {
        self.commit_resources(expected_serial, vec![write]).await
    }

    /// All writes in one transaction: the group commit of the apply writer costs one round
    /// of locking and one commit, however many results it carries.
    async fn commit_resources(
        &self,
        expected_serial: u64,
        writes: Vec<ResourceWrite>,
    ) -> Result<u64, StateError> {
        const OP: &str = "commit resource";
        writes::check_addresses(&writes, OP)?;
        let count = u64::try_from(writes.len()).unwrap_or(u64::MAX);
        let new_serial = expected_serial.checked_add(count).ok_or_else(|| {
            StateError::Corrupt(format!("serial {expected_serial} cannot be incremented"))
        })?;
        let mut guard = self.client().await?;
        let tx = connected(&mut guard)?
            .transaction()
            .await
            .map_err(backend(OP))?;
        let (meta, _) = self.lock_env_row(&tx, OP).await?;
        check_serial(expected_serial, meta.serial)?;
        writes::write_batch(&tx, &self.statements, &self.env, &writes, OP).await?;
        let update = self
            .statements
            .get(
                &tx,
                "UPDATE braid_states SET serial = $2 WHERE env = $1",
                OP,
            )
            .await?;
        tx.execute(&update, &[&self.env, &serial_to_sql(new_serial)?])
            .await
            .map_err(backend(OP))?;
        tx.commit().await.map_err(backend(OP))?;
        Ok(new_serial)
    }

    async fn outputs(&self) -> Result<Vec<OutputRecord>, StateError> {
        const OP: &str = "read outputs";
        self.select_all(
            &format!("SELECT {OUTPUT_COLUMNS} FROM braid_outputs WHERE env = $1 ORDER BY name COLLATE \"C\""),
            &[&self.env],
            output_row,
            OutputRow::decode,
            OP,
        )
        .await
    }

    async fn replace_outputs(
        &self,
        expected_serial: u64,
        outputs: Vec<OutputRecord>,
    ) -> Result<(), StateError> {
        const OP: &str = "write outputs";
        let mut guard = self.client().await?;
        let tx = connected(&mut guard)?
            .transaction()
            .await
            .map_err(backend(OP))?;
        let (meta, _) = self.lock_env_row(&tx, OP).await?;
        check_serial(expected_serial, meta.serial)?;
        writes::write_outputs(&tx, &self.env, &outputs, OP).await?;
        tx.commit().await.map_err(backend(OP))
    }

    async fn begin_apply(&self, apply: NewApply) -> Result<ApplyId, StateError> {
        const OP: &str = "begin apply";
        let mut guard = self.client().await?;
        let tx = connected(&mut guard)?
            .transaction()
            .await
            .map_err(backend(OP))?;
        let (_, id) = self.lock_env_row(&tx, OP).await?;
        tx.execute(
            &format!(
                "INSERT INTO braid_applies (state_env, {APPLY_COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9, $10, $11)"
            ),
            &[
                &self.env,
                &id,
                &apply.env,
                &apply.actor,
                &apply.operation,
                &to_json(&apply.sources, OP)?,
                &apply.rollback_of,
                &timestamp(apply.started_at),
                &to_json(&ChangeSummary::default(), OP)?,
                &ApplyOutcome::Running.as_str(),
                &apply.note,
            ],
        )
        .await
        .map_err(backend(OP))?;
        tx.execute(
            "UPDATE braid_states SET next_apply_id = $2 WHERE env = $1",
            &[&self.env, &(id + 1)],
        )
        .await
        .map_err(backend(OP))?;
        tx.commit().await.map_err(backend(OP))?;
        Ok(id)
    }

    async fn finish_apply(
        &self,
        id: ApplyId,
        summary: ChangeSummary,
        outcome: ApplyOutcome,
    ) -> Result<(), StateError> {
        const OP: &str = "finish apply";
        let mut guard = self.client().await?;
        let updated = connected(&mut guard)?
            .execute(
                "UPDATE braid_applies SET finished_at = $3, summary = $4, outcome = $5
                 WHERE state_env = $1 AND id = $2",
                &[
                    &self.env,
                    &id,
                    &timestamp(chrono::Utc::now()),
                    &to_json(&summary, OP)?,
                    &outcome.as_str(),
                ],
            )
            .await
            .map_err(backend(OP))?;
        if updated == 0 {
            return Err(StateError::ApplyNotFound(id));
        }
        Ok(())
    }

    async fn applies(&self, limit: usize) -> Result<Vec<ApplyRecord>, StateError> {
        const OP: &str = "read applies";
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.select_all(
            &format!("SELECT {APPLY_COLUMNS} FROM braid_applies WHERE state_env = $1 ORDER BY id DESC LIMIT $2"),
            &[&self.env, &limit],
            apply_row,
            ApplyRow::decode,
            OP,
        )
        .await
    }

    async fn apply_record(&self, id: ApplyId) -> Result<Option<ApplyRecord>, StateError> {
        const OP: &str = "read apply";
        let mut guard = self.client().await?;
        connected(&mut guard)?
            .query_opt(
                &format!(
                    "SELECT {APPLY_COLUMNS} FROM braid_applies WHERE state_env = $1 AND id = $2"
                ),
                &[&self.env, &id],
            )
            .await
            .map_err(backend(OP))?
            .map(|row| apply_row(&row).map_err(backend(OP))?.decode())
            .transpose()
    }

    async fn changes(&self, id: ApplyId) -> Result<Vec<ChangeRecord>, StateError> {
        const OP: &str = "read changes";
        self.select_all(
            &format!("SELECT {CHANGE_COLUMNS} FROM braid_changes WHERE env = $1 AND apply_id = $2 ORDER BY seq"),
            &[&self.env, &id],
            change_row,
            ChangeRow::decode,
            OP,
        )
        .await
    }

    async fn lock(&self, request: LockRequest) -> Result<LockInfo, StateError> {
        self.take_lock(None, request, "take lock").await
    }

    async fn steal_lock(
        &self,
        expected_id: &str,
        request: LockRequest,
    ) -> Result<LockInfo, StateError> {
        self.take_lock(Some(expected_id), request, "steal lock")
            .await
    }

    async fn heartbeat(&self, lock_id: &str) -> Result<(), StateError> {
        const OP: &str = "renew lock";
        let mut guard = self.client().await?;
        let updated = connected(&mut guard)?
            .execute(
                "UPDATE braid_locks SET heartbeat_at = $3 WHERE env = $1 AND id = $2",
                &[&self.env, &lock_id, &timestamp(chrono::Utc::now())],
            )
            .await
            .map_err(backend(OP))?;
        if updated == 0 {
            return Err(StateError::LockNotFound(lock_id.to_string()));
        }
        Ok(())
    }

    async fn unlock(&self, lock_id: &str) -> Result<(), StateError> {
        const OP: &str = "release lock";
        let mut guard = self.client().await?;
        let deleted = connected(&mut guard)?
            .execute(
                "DELETE FROM braid_locks WHERE env = $1 AND id = $2",
                &[&self.env, &lock_id],
            )
            .await
            .map_err(backend(OP))?;
        if deleted == 0 {
            return Err(StateError::LockNotFound(lock_id.to_string()));
        }
        Ok(())
    }

    async fn current_lock(&self) -> Result<Option<LockInfo>, StateError> {
        let mut guard = self.client().await?;
        let client = connected(&mut guard)?;
        self.read_lock(client, "read lock").await
    }

    async fn document(&self, name: &str) -> Result<Option<Document>, StateError> {
        let mut guard = self.client().await?;
        documents::read(connected(&mut guard)?, &self.env, name).await
    }

    async fn documents(&self, prefix: &str) -> Result<Vec<Document>, StateError> {
        let mut guard = self.client().await?;
        documents::list(connected(&mut guard)?, &self.env, prefix).await
    }

    async fn compact(&self) -> Result<(), StateError> {
        let mut guard = self.client().await?;
        // Dead row versions stay in the table files until a vacuum makes their space
        // reusable; VACUUM cannot run inside a transaction, so it is sent on its own.
        connected(&mut guard)?
            .batch_execute(
                "VACUUM braid_resources, braid_outputs, braid_changes, braid_applies, braid_documents",
            )
            .await
            .map_err(backend("vacuum the tables"))
    }

    async fn document_names(&self, prefix: &str) -> Result<Vec<String>, StateError> {
        let mut guard = self.client().await?;
        documents::names(connected(&mut guard)?, &self.env, prefix).await
    }

    async fn put_document(
        &self,
        name: &str,
        body: &[u8],
        precondition: Precondition<'_>,
    ) -> Result<String, StateError> {
        let mut guard = self.client().await?;
        documents::put(connected(&mut guard)?, &self.env, name, body, precondition).await
    }

    async fn delete_document(
        &self,
        name: &str,
        precondition: Precondition<'_>,
    ) -> Result<(), StateError> {
        let mut guard = self.client().await?;
        documents::delete(connected(&mut guard)?, &self.env, name, precondition).await
    }

    async fn replace_state(
        &self,
        expected_serial: u64,
        dump: &StateDump,
    ) -> Result<(), StateError> {
        const OP: &str = "replace state";
        let mut guard = self.client().await?;
        let tx = connected(&mut guard)?
            .transaction()
            .await
            .map_err(backend(OP))?;
        let (meta, _) = self.lock_env_row(&tx, OP).await?;
        check_serial(expected_serial, meta.serial)?;
        writes::write_dump(&tx, &self.env, dump, OP).await?;
        tx.commit().await.map_err(backend(OP))
    }
}
