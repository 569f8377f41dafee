//! The Postgres schema and how a database is brought up to date.
//!
//! One table set holds every environment; each table is keyed by `env` first. Versions are
//! rows of `braid_schema_version`; `MIGRATIONS[n]` takes the schema from version `n` to
//! `n + 1`. Migrations run under a transaction-scoped advisory lock so that two braid
//! processes connecting to a new database at once apply each step exactly once. That key
//! guards schema changes only; environments never share a lock.

use tokio_postgres::Client;

use crate::store::StateError;

/// The advisory lock key for schema migrations ("braid" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x0062_7261_6964;

const MIGRATIONS: &[&str] = &[
    // 1: the initial schema. Timestamps are RFC 3339 text and structured columns JSON text,
    // exactly as in SQLite, so states copied between backends read back identical.
    r#"
    CREATE TABLE braid_states (
        env           TEXT   PRIMARY KEY,
        lineage       TEXT   NOT NULL,
        serial        BIGINT NOT NULL CHECK (serial >= 0),
        next_apply_id BIGINT NOT NULL DEFAULT 1
    );
    CREATE TABLE braid_resources (
        env             TEXT NOT NULL REFERENCES braid_states (env),
        address         TEXT NOT NULL,
        provider        TEXT NOT NULL,
        type_name       TEXT NOT NULL,
        id              TEXT,
        attributes      TEXT NOT NULL,
        sensitive_paths TEXT NOT NULL,
        dependencies    TEXT NOT NULL,
        source_file     TEXT,
        PRIMARY KEY (env, address)
    );
    -- `state_env` is the key; `env` is the apply record's own field.
    CREATE TABLE braid_applies (
        state_env   TEXT   NOT NULL REFERENCES braid_states (env),
        id          BIGINT NOT NULL,
        env         TEXT   NOT NULL,
        actor       TEXT   NOT NULL,
        operation   TEXT   NOT NULL,
        sources     TEXT   NOT NULL,
        rollback_of BIGINT,
        started_at  TEXT   NOT NULL,
        finished_at TEXT,
        summary     TEXT   NOT NULL,
        outcome     TEXT   NOT NULL,
        PRIMARY KEY (state_env, id)
    );
    CREATE TABLE braid_changes (
        env      TEXT   NOT NULL,
        apply_id BIGINT NOT NULL,
        seq      BIGINT NOT NULL,
        address  TEXT   NOT NULL,
        action   TEXT   NOT NULL,
        outcome  TEXT   NOT NULL,
        message  TEXT,
        at       TEXT   NOT NULL,
        PRIMARY KEY (env, apply_id, seq),
        FOREIGN KEY (env, apply_id) REFERENCES braid_applies (state_env, id)
    );
    -- One row per locked environment: the primary key makes a second insert fail.
    CREATE TABLE braid_locks (
        env          TEXT   PRIMARY KEY,
        id           TEXT   NOT NULL,
        actor        TEXT   NOT NULL,
        host         TEXT   NOT NULL,
        pid          BIGINT NOT NULL,
        operation    TEXT   NOT NULL,
        ci_url       TEXT,
        acquired_at  TEXT   NOT NULL,
        heartbeat_at TEXT   NOT NULL
    );
    "#,
    // 2: which boot of the holder's host its pid belongs to, so a lock left by a process
    // that died on the same machine is known to be stale at once. NULL in older locks.
    "ALTER TABLE braid_locks ADD COLUMN boot_id TEXT;",
    // 3: the outputs of the last successful apply (`braid output`); none for older states
    // until their next apply.
    r#"
    CREATE TABLE braid_outputs (
        env       TEXT    NOT NULL REFERENCES braid_states (env),
        name      TEXT    NOT NULL,
        value     TEXT    NOT NULL,
        sensitive BOOLEAN NOT NULL,
        PRIMARY KEY (env, name)
    );
    "#,
    // 4: what a provider keeps beside an object (a Terraform plugin's private data and
    // schema version), JSON; NULL for older rows and providers that keep nothing.
    "ALTER TABLE braid_resources ADD COLUMN meta TEXT;",
    // 5: documents kept beside the state (the agent's leases, reviewed plans), written
    // with compare-and-swap on `version`. Not tied to braid_states: a lease may be taken
    // before the environment's first write.
    r#"
    CREATE TABLE braid_documents (
        env        TEXT  NOT NULL,
        name       TEXT  NOT NULL,
        body       BYTEA NOT NULL,
        version    TEXT  NOT NULL,
        updated_at TEXT  NOT NULL,
        PRIMARY KEY (env, name)
    );
    "#,
    // 6: why a rule was set aside for an apply (`--override-window --reason`); NULL for
    // the others.
    "ALTER TABLE braid_applies ADD COLUMN note TEXT;",
];

pub(super) fn latest_version() -> i64 {
    i64::try_from(MIGRATIONS.len()).expect("the migration list is tiny because it is a const")
}

/// Applies every migration the database has not seen yet, and refuses a schema written by a
/// newer braid.
pub(super) async fn migrate(client: &mut Client, location: &str) -> Result<(), StateError> {
    let tx = client.transaction().await.map_err(backend)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await
        .map_err(backend)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS braid_schema_version (version BIGINT NOT NULL)")
        .await
        .map_err(backend)?;
    let row = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM braid_schema_version",
            &[],
        )
        .await
        .map_err(backend)?;
    let version: i64 = row.try_get(0).map_err(backend)?;
    let latest = latest_version();
    if version > latest {
        return Err(StateError::NewerSchema {
            location: location.to_string(),
            found: version,
            supported: latest,
        });
    }
    let start = usize::try_from(version)
        .map_err(|_| StateError::Corrupt(format!("schema version {version} is negative")))?;
    for (step, sql) in MIGRATIONS.iter().enumerate().skip(start) {
        tx.batch_execute(sql).await.map_err(backend)?;
        let reached = i64::try_from(step + 1).unwrap_or(i64::MAX);
        tx.execute(
            "INSERT INTO braid_schema_version (version) VALUES ($1)",
            &[&reached],
        )
        .await
        .map_err(backend)?;
    }
    tx.commit().await.map_err(backend)
}

fn backend(source: tokio_postgres::Error) -> StateError {
    StateError::Backend {
        operation: "migrate schema",
        source: Box::new(source),
    }
}
