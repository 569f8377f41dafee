//! The SQLite schema and how a database file is brought up to date.
//!
//! The schema version lives in `PRAGMA user_version` (0 for a new file). `MIGRATIONS[n]`
//! takes a database from version `n` to `n + 1`; each runs in its own transaction together
//! with the version bump, so a crash mid-migration leaves the file at the previous version.
//! Migrations are append-only: once released, an entry is never edited.

use rusqlite::{Connection, TransactionBehavior};

use crate::store::StateError;

/// Every schema change, oldest first. Version `n` means the first `n` have been applied.
const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    r#"
    -- One row: the state's identity and version. The CHECK keeps it to one row so the
    -- "create if missing" insert cannot race into two lineages.
    CREATE TABLE meta (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        lineage   TEXT    NOT NULL,
        serial    INTEGER NOT NULL CHECK (serial >= 0)
    );

    CREATE TABLE resources (
        address         TEXT PRIMARY KEY,
        provider        TEXT NOT NULL,
        type_name       TEXT NOT NULL,
        id              TEXT,
        attributes      TEXT NOT NULL,  -- JSON of braid_provider::Value
        sensitive_paths TEXT NOT NULL,  -- JSON array of paths
        dependencies    TEXT NOT NULL,  -- JSON array of addresses
        source_file     TEXT
    );

    CREATE TABLE applies (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        env         TEXT NOT NULL,
        actor       TEXT NOT NULL,
        operation   TEXT NOT NULL,
        sources     TEXT NOT NULL,      -- JSON array of SourceRevision
        rollback_of INTEGER,
        started_at  TEXT NOT NULL,      -- RFC 3339
        finished_at TEXT,               -- RFC 3339, NULL while running
        summary     TEXT NOT NULL,      -- JSON of ChangeSummary
        outcome     TEXT NOT NULL
    );

    CREATE TABLE changes (
        id       INTEGER PRIMARY KEY AUTOINCREMENT,
        apply_id INTEGER NOT NULL REFERENCES applies (id),
        seq      INTEGER NOT NULL,
        address  TEXT NOT NULL,
        action   TEXT NOT NULL,
        outcome  TEXT NOT NULL,
        message  TEXT,
        at       TEXT NOT NULL,         -- RFC 3339
        UNIQUE (apply_id, seq)
    );

    -- At most one row: the environment's lock. The constant key makes a second insert fail
    -- even if two writers somehow got past the "is it held?" check.
    CREATE TABLE lock (
        slot         INTEGER PRIMARY KEY CHECK (slot = 1),
        id           TEXT    NOT NULL,
        actor        TEXT    NOT NULL,
        host         TEXT    NOT NULL,
        pid          INTEGER NOT NULL,
        operation    TEXT    NOT NULL,
        ci_url       TEXT,
        acquired_at  TEXT    NOT NULL,  -- RFC 3339
        heartbeat_at TEXT    NOT NULL   -- RFC 3339
    );
    "#,
    // 2: which boot of the holder's host its pid belongs to, so a lock left by a process
    // that died on the same machine is known to be stale at once. NULL in older locks.
    "ALTER TABLE lock ADD COLUMN boot_id TEXT;",
    // 3: the outputs of the last successful apply (`braid output`). Older files get an
    // empty table: they read as having no outputs until the next apply.
    r#"
    CREATE TABLE outputs (
        name      TEXT    PRIMARY KEY,
        value     TEXT    NOT NULL,     -- JSON of braid_provider::Value
        sensitive INTEGER NOT NULL CHECK (sensitive IN (0, 1))
    );
    "#,
    // 4: what a provider keeps beside an object (a Terraform plugin's private data and
    // schema version), JSON; NULL for older rows and providers that keep nothing.
    "ALTER TABLE resources ADD COLUMN meta TEXT;",
    // 5: documents kept beside the state (the agent's leases, reviewed plans), written
    // with compare-and-swap on `version`.
    r#"
    CREATE TABLE documents (
        name       TEXT PRIMARY KEY,
        body       BLOB NOT NULL,
        version    TEXT NOT NULL,
        updated_at TEXT NOT NULL        -- RFC 3339
    );
    "#,
    // 6: why a rule was set aside for an apply (`--override-window --reason`); NULL for
    // the others.
    "ALTER TABLE applies ADD COLUMN note TEXT;",
];

/// The newest schema version this build knows.
pub(super) fn latest_version() -> i64 {
    i64::try_from(MIGRATIONS.len()).expect("the migration list is tiny because it is a const")
}

/// Applies every migration the database has not seen yet.
///
/// Each step re-reads the version inside an `IMMEDIATE` transaction, so two processes opening
/// a new file at the same moment apply each migration exactly once: the second waits on the
/// write lock (busy timeout) and then finds the work done.
pub(super) fn migrate(conn: &mut Connection, location: &str) -> Result<(), StateError> {
    let latest = latest_version();
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(backend)?;
        if version > latest {
            return Err(StateError::NewerSchema {
                location: location.to_string(),
                found: version,
                supported: latest,
            });
        }
        if version == latest {
            return Ok(());
        }
        if version < 0 {
            return Err(StateError::Corrupt(format!(
                "schema version {version} is negative"
            )));
        }
        let index = usize::try_from(version).expect("version is in 0..latest, checked above");
        tx.execute_batch(MIGRATIONS[index]).map_err(backend)?;
        tx.pragma_update(None, "user_version", version + 1)
            .map_err(backend)?;
        tx.commit().map_err(backend)?;
    }
}

fn backend(source: rusqlite::Error) -> StateError {
    StateError::Backend {
        operation: "migrate schema",
        source: Box::new(source),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrating_twice_is_a_no_op_and_reaches_the_latest_version() {
        let mut conn = Connection::open_in_memory().expect("in-memory db");
        migrate(&mut conn, "memory").expect("first migration");
        migrate(&mut conn, "memory").expect("second migration");
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .expect("user_version");
        assert_eq!(version, latest_version());
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .expect("prepare")
            .query_map([], |row| row.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(
            tables,
            [
                "applies",
                "changes",
                "documents",
                "lock",
                "meta",
                "outputs",
                "resources"
            ]
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().expect("in-memory db");
        conn.pragma_update(None, "user_version", latest_version() + 1)
            .expect("set user_version");
        let err = migrate(&mut conn, "memory").expect_err("newer schema must be refused");
        assert!(
            matches!(err, StateError::NewerSchema { found, supported, .. }
                if found == latest_version() + 1 && supported == latest_version()),
            "{err:?}"
        );
    }
}
