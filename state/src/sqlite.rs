//! The SQLite state backend: one embedded database file per environment.
//!
//! Every write is one short transaction. Writes that depend on what is already stored
//! (`commit_resource`, `lock`, creating the lineage) use `BEGIN IMMEDIATE`, which takes the
//! database's write lock before the first read, so the check and the write cannot interleave
//! with another braid process on the same file. A second process waits up to
//! [`BUSY_TIMEOUT`] for that lock instead of failing at once.
//!
//! The schema and its migrations live in [`migrations`]; column encoding lives in [`rows`].

mod documents;
mod locks;
mod migrations;
mod private;
mod replace;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};

use crate::codec::check_serial;
use crate::documents::{Document, Precondition};
use crate::model::{
    ApplyId, ApplyOutcome, ApplyRecord, ChangeRecord, ChangeSummary, LockInfo, LockRequest,
    NewApply, OutputRecord, ResourceIndexEntry, ResourceRecord, ResourceWrite, StateDump,
    StateMeta,
};
use crate::rows::{
    APPLY_COLUMNS, ApplyRow, CHANGE_COLUMNS, ChangeRow, INDEX_COLUMNS, IndexRow, OUTPUT_COLUMNS,
    OutputRow, RESOURCE_COLUMNS, ResourceRow, serial_from_sql, serial_to_sql, timestamp, to_json,
};
use crate::store::{StateError, StateStore};

/// How long a statement waits for another connection's write lock before giving up with
/// `SQLITE_BUSY`. Every transaction braid runs is a handful of small statements, so a few
/// seconds is far longer than any legitimate wait.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The schema version this braid migrates files to (and the newest it reads).
pub(crate) fn schema_version() -> i64 {
    migrations::latest_version()
}

/// A [`StateStore`] kept in a SQLite database file.
///
/// Any number of handles, in one process or many, may open the same file; they see each
/// other's commits and contend for the same lock row.
pub struct SqliteStore {
    location: String,
    /// One connection, used by one caller at a time. Every method does its (local, fast) work
    /// while holding the mutex and never awaits, so a blocking mutex is the right tool.
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the state database at `path`, creating it (and its parent directories) if
    /// needed, and brings its schema up to date.
    ///
    /// A new database is made whole under a temporary name (schema, lineage, serial 0) and
    /// only then linked into place, so a file braid is creating is never seen half-made, and
    /// an existing file of 0 bytes is never braid's own: it is refused as
    /// [`StateError::Lost`] instead of being taken for a new, empty state. A file that is not
    /// a SQLite database, or fails SQLite's quick integrity check (a truncated copy, a
    /// damaged page), is [`StateError::Corrupt`]. Neither is changed.
    ///
    /// State holds every managed object's attributes, secrets included, so the directories
    /// it creates are `0700` and the database file is `0600` (an existing one is narrowed to
    /// that; SQLite gives its `-wal` and `-shm` files the database file's mode).
    ///
    /// A database this process cannot write to (the file or its directory is read-only) is
    /// opened for reading only, so that plans and other readers work on it; writes to such a
    /// store fail.
    pub fn open(path: &Path) -> Result<SqliteStore, StateError> {
        let location = path.display().to_string();
        let open_error = |source: Box<dyn std::error::Error + Send + Sync>| StateError::Open {
            location: location.clone(),
            source,
        };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            private::create_dirs(parent).map_err(|err| open_error(Box::new(err)))?;
        }
        match std::fs::metadata(path) {
            Ok(meta) if meta.len() == 0 => {
                return Err(StateError::Lost(format!(
                    "{location} is empty (0 bytes): the state it held is gone"
                )));
            }
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                create_whole(path, &location)?;
            }
            Err(err) => return Err(open_error(Box::new(err))),
        }
        if private::is_read_only(path) {
            return open_read_only(path, &location);
        }
        private::narrow_database_files(path).map_err(|err| open_error(Box::new(err)))?;
        let mut conn = Connection::open(path).map_err(|err| sqlite_error(err, &location))?;
        configure(&conn).map_err(|err| sqlite_error(err, &location))?;
        migrations::migrate(&mut conn, &location)?;
        check_integrity(&conn, &location)?;
        Ok(SqliteStore {
            location,
            conn: Mutex::new(conn),
        })
    }

    /// The connection, for one operation. A poisoned mutex means an earlier caller panicked
    /// mid-operation; any transaction it had open was rolled back when it unwound, but we
    /// report rather than guess that the connection is still sound.
    fn connection(
        &self,
        operation: &'static str,
    ) -> Result<MutexGuard<'_, Connection>, StateError> {
        self.conn.lock().map_err(|_| StateError::Backend {
            operation,
            source: "the state connection was poisoned by an earlier panic".into(),
        })
    }
}

/// A file that is not a database (or a damaged one) is told apart from a file that cannot be
/// opened: the first needs a backup restored, the second a permission fixed.
fn sqlite_error(err: rusqlite::Error, location: &str) -> StateError {
    match err.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StateError::Corrupt(format!(
            "{location} is not a SQLite database, or is damaged ({err})"
        )),
        _ => StateError::Open {
            location: location.to_string(),
            source: Box::new(err),
        },
    }
}

/// Opens a database this process cannot write to, for reading only. Readers of a WAL
/// database need its `-shm` file, which SQLite cannot create in a read-only directory; when
/// there is no `-wal` file either, no writer can be at work (it could not create one), so the
/// file is opened as immutable, which needs neither. With a `-wal` file, SQLite reads it as
/// usual. The schema must be current: it cannot be migrated without writing.
fn open_read_only(path: &Path, location: &str) -> Result<SqliteStore, StateError> {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let mode = if Path::new(&wal).exists() {
        "mode=ro"
    } else {
        "immutable=1"
    };
    // SQLite URIs are percent-encoded; only these characters would change the meaning.
    let encoded = path
        .display()
        .to_string()
        .replace('%', "%25")
        .replace('?', "%3f")
        .replace('#', "%23");
    let conn = Connection::open_with_flags(
        format!("file:{encoded}?{mode}"),
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|err| sqlite_error(err, location))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|err| sqlite_error(err, location))?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|err| sqlite_error(err, location))?;
    let latest = migrations::latest_version();
    if version > latest {
        return Err(StateError::NewerSchema {
            location: location.to_string(),
            found: version,
            supported: latest,
        });
    }
    if version < latest {
        return Err(StateError::Open {
            location: location.to_string(),
            source: format!(
                "the file has schema version {version} and must be upgraded to {latest}, which needs write access to it and its directory; run braid once with that access"
            )
            .into(),
        });
    }
    check_integrity(&conn, location)?;
    Ok(SqliteStore {
        location: location.to_string(),
        conn: Mutex::new(conn),
    })
}

/// Makes a new state database at `path` in one step: built under a temporary name next to
/// it (schema, lineage, serial 0), closed (which folds the write-ahead log into the file),
/// then hard-linked to `path`, which fails rather than replace a file another process put
/// there first. Either way the temporary name is removed.
fn create_whole(path: &Path, location: &str) -> Result<(), StateError> {
    let open_error = |source: Box<dyn std::error::Error + Send + Sync>| StateError::Open {
        location: location.to_string(),
        source,
    };
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".new-{}", uuid::Uuid::new_v4().simple()));
    let temporary = std::path::PathBuf::from(temporary);
    let built = (|| {
        private::create_private_file(&temporary).map_err(|err| open_error(Box::new(err)))?;
        let mut conn = Connection::open(&temporary).map_err(|err| sqlite_error(err, location))?;
        configure(&conn).map_err(|err| sqlite_error(err, location))?;
        migrations::migrate(&mut conn, location)?;
        read_or_create_meta(&conn, "create state")?;
        conn.close()
            .map_err(|(_, err)| sqlite_error(err, location))?;
        match std::fs::hard_link(&temporary, path) {
            Ok(()) => Ok(()),
            // Another process created it first; use theirs.
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            // Filesystems without hard links: rename, which could only replace a file
            // created in the instant since we looked.
            Err(_) if !path.exists() => {
                std::fs::rename(&temporary, path).map_err(|err| open_error(Box::new(err)))
            }
            Err(err) => Err(open_error(Box::new(err))),
        }
    })();
    for suffix in ["", "-wal", "-shm"] {
        let mut leftover = temporary.as_os_str().to_owned();
        leftover.push(suffix);
        // Best effort: a leftover temporary file is harmless, and the result is what matters.
        let _ = std::fs::remove_file(std::path::PathBuf::from(leftover));
    }
    built
}

/// SQLite's quick check (structure and page accounting, not index contents): a file cut short
/// by a failed copy or a full disk opens without complaint and only fails later, mid-way
/// through reading resources.
fn check_integrity(conn: &Connection, location: &str) -> Result<(), StateError> {
    let problems: Vec<String> = conn
        .prepare("PRAGMA quick_check(5)")
        .and_then(|mut statement| {
            statement
                .query_map([], |row| row.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(|err| sqlite_error(err, location))?;
    if problems.iter().all(|p| p == "ok") {
        return Ok(());
    }
    Err(StateError::Corrupt(format!(
        "{location} is damaged ({})",
        problems.join("; ")
    )))
}

/// Per-connection settings. The busy timeout comes first so every later statement waits for
/// other connections instead of failing with `SQLITE_BUSY`.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    enable_wal(conn)?;
    // FULL, not NORMAL: in WAL mode NORMAL can lose the last committed transactions on power
    // loss (not on a process crash). State records what exists in the real world, and a lost
    // commit means braid forgets a resource it created. One fsync per resource write is
    // nothing next to the provider call that preceded it.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Switches the file to write-ahead logging, which lets readers (`braid plan`, `braid state
/// list`) run while an apply writes.
///
/// Switching a new file needs an exclusive lock, and when two connections race for it SQLite
/// returns `SQLITE_BUSY` at once rather than calling the busy handler (waiting could
/// deadlock), so the switch is retried here until [`BUSY_TIMEOUT`]. Once the file is in WAL
/// mode the pragma is a no-op. If the filesystem cannot do WAL, SQLite keeps its rollback
/// journal, which is just as safe, so the mode it reports back is not treated as an error.
fn enable_wal(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
        {
            Ok(_mode) => return Ok(()),
            Err(rusqlite::Error::SqliteFailure(failure, _))
                if failure.code == ErrorCode::DatabaseBusy && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(err) => return Err(err),
        }
    }
}

/// Turns a rusqlite error into a [`StateError::Backend`] naming the step.
fn backend(operation: &'static str) -> impl Fn(rusqlite::Error) -> StateError {
    move |source| StateError::Backend {
        operation,
        source: Box::new(source),
    }
}

fn read_meta(conn: &Connection, operation: &'static str) -> Result<Option<StateMeta>, StateError> {
    let row: Option<(String, i64)> = conn
        .query_row(
            "SELECT lineage, serial FROM meta WHERE singleton = 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(backend(operation))?;
    row.map(|(lineage, serial)| {
        Ok(StateMeta {
            lineage,
            serial: serial_from_sql(serial)?,
        })
    })
    .transpose()
}

/// Reads the meta row, creating it with a fresh lineage and serial 0 if the state is new.
/// Call inside an `IMMEDIATE` transaction; the single-row key makes a racing insert a no-op
/// either way.
///
/// A missing meta row next to resources or history is a state that lost its identity, not a
/// new one: it is refused as [`StateError::Lost`] rather than given a fresh lineage and
/// serial 0, which would let plans and writes go on as if nothing had happened.
fn read_or_create_meta(
    conn: &Connection,
    operation: &'static str,
) -> Result<StateMeta, StateError> {
    if let Some(meta) = read_meta(conn, operation)? {
        return Ok(meta);
    }
    let (resources, applies): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM resources), (SELECT COUNT(*) FROM applies)",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(backend(operation))?;
    if resources > 0 || applies > 0 {
        return Err(StateError::Lost(format!(
            "the meta row (lineage and serial) is missing, but the database holds {resources} resources and {applies} applies"
        )));
    }
    conn.execute(
        "INSERT INTO meta (singleton, lineage, serial) VALUES (1, ?1, 0)
         ON CONFLICT (singleton) DO NOTHING",
        [uuid::Uuid::new_v4().to_string()],
    )
    .map_err(backend(operation))?;
    read_meta(conn, operation)?.ok_or_else(|| {
        StateError::Corrupt("the meta row vanished right after it was written".into())
    })
}

#[async_trait]
impl StateStore for SqliteStore {
    fn location(&self) -> String {
        self.location.clone()
    }

    async fn meta(&self) -> Result<StateMeta, StateError> {
        const OP: &str = "read meta";
        let mut conn = self.connection(OP)?;
        // The common case is a plain read; only a brand-new state needs the write lock.
        if let Some(meta) = read_meta(&conn, OP)? {
            return Ok(meta);
        }
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend(OP))?;
        let meta = read_or_create_meta(&tx, OP)?;
        tx.commit().map_err(backend(OP))?;
        Ok(meta)
    }

    async fn resources(&self) -> Result<Vec<ResourceRecord>, StateError> {
        const OP: &str = "read resources";
        let conn = self.connection(OP)?;
        select_all(
            &conn,
            &format!("SELECT {RESOURCE_COLUMNS} FROM resources ORDER BY address"),
            [],
            ResourceRow::read,
            ResourceRow::decode,
            OP,
        )
    }

    async fn resource_index(&self) -> Result<Vec<ResourceIndexEntry>, StateError> {
        const OP: &str = "read resources";
        let conn = self.connection(OP)?;
        select_all(
            &conn,
            &format!("SELECT {INDEX_COLUMNS} FROM resources ORDER BY address"),
            [],
            IndexRow::read,
            IndexRow::decode,
            OP,
        )
    }

    async fn resource(&self, address: &str) -> Result<Option<ResourceRecord>, StateError> {
        const OP: &str = "read resource";
        let conn = self.connection(OP)?;
        conn.query_row(
            &format!("SELECT {RESOURCE_COLUMNS} FROM resources WHERE address = ?1"),
            [address],
            ResourceRow::read,
        )
        .optional()
        .map_err(backend(OP))?
        .map(ResourceRow::decode)
        .transpose()
    }

    async fn commit_resource(
        &self,
        expected_serial: u64,
        write: ResourceWrite,
    ) -> Result<u64, StateError> {
        self.commit_resources(expected_serial, vec![write]).await
    }

    async fn commit_resources(
        &self,
        expected_serial: u64,
        writes: Vec<ResourceWrite>,
    ) -> Result<u64, StateError> {
        const OP: &str = "commit resource";
        for write in &writes {
            if let Some(record) = &write.record
                && record.address != write.address
            {
                return Err(StateError::Backend {
                    operation: OP,
                    source: format!(
                        "the record for {} carries address {}",
                        write.address, record.address
                    )
                    .into(),
                });
            }
        }
        let count = u64::try_from(writes.len()).unwrap_or(u64::MAX);
        let new_serial = expected_serial.checked_add(count).ok_or_else(|| {
            StateError::Corrupt(format!("serial {expected_serial} cannot be incremented"))
        })?;

        let mut conn = self.connection(OP)?;
        // Dropping `tx` on any early return rolls back, so a refused or failed write leaves
        // nothing behind.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend(OP))?;
        let found = read_or_create_meta(&tx, OP)?.serial;
        check_serial(expected_serial, found)?;
        for write in &writes {
            write_one(&tx, write, OP)?;
        }
        tx.execute(
            "UPDATE meta SET serial = ?1 WHERE singleton = 1",
            [serial_to_sql(new_serial)?],
        )
        .map_err(backend(OP))?;
        tx.commit().map_err(backend(OP))?;
        Ok(new_serial)
    }

    async fn outputs(&self) -> Result<Vec<OutputRecord>, StateError> {
        const OP: &str = "read outputs";
        let conn = self.connection(OP)?;
        select_all(
            &conn,
            &format!("SELECT {OUTPUT_COLUMNS} FROM outputs ORDER BY name"),
            [],
            OutputRow::read,
            OutputRow::decode,
            OP,
        )
    }

    async fn replace_outputs(
        &self,
        expected_serial: u64,
        outputs: Vec<OutputRecord>,
    ) -> Result<(), StateError> {
        const OP: &str = "write outputs";
        let mut conn = self.connection(OP)?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend(OP))?;
        let found = read_or_create_meta(&tx, OP)?.serial;
        check_serial(expected_serial, found)?;
        write_outputs(&tx, &outputs, OP)?;
        tx.commit().map_err(backend(OP))
    }

    async fn begin_apply(&self, apply: NewApply) -> Result<ApplyId, StateError> {
        const OP: &str = "begin apply";
        let conn = self.connection(OP)?;
        conn.execute(
            "INSERT INTO applies
                (env, actor, operation, sources, rollback_of, started_at, summary, outcome, note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                apply.env,
                apply.actor,
                apply.operation,
                to_json(&apply.sources, OP)?,
                apply.rollback_of,
                timestamp(apply.started_at),
                to_json(&ChangeSummary::default(), OP)?,
                ApplyOutcome::Running.as_str(),
                apply.note,
            ],
        )
        .map_err(backend(OP))?;
        Ok(conn.last_insert_rowid())
    }

    async fn finish_apply(
        &self,
        id: ApplyId,
        summary: ChangeSummary,
        outcome: ApplyOutcome,
    ) -> Result<(), StateError> {
        const OP: &str = "finish apply";
        let conn = self.connection(OP)?;
        let updated = conn
            .execute(
                "UPDATE applies SET finished_at = ?1, summary = ?2, outcome = ?3 WHERE id = ?4",
                params![
                    timestamp(Utc::now()),
                    to_json(&summary, OP)?,
                    outcome.as_str(),
                    id
                ],
            )
            .map_err(backend(OP))?;
        if updated == 0 {
            return Err(StateError::ApplyNotFound(id));
        }
        Ok(())
    }

    async fn applies(&self, limit: usize) -> Result<Vec<ApplyRecord>, StateError> {
        const OP: &str = "read applies";
        let conn = self.connection(OP)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        select_all(
            &conn,
            &format!("SELECT {APPLY_COLUMNS} FROM applies ORDER BY id DESC LIMIT ?1"),
            [limit],
            ApplyRow::read,
            ApplyRow::decode,
            OP,
        )
    }

    async fn apply_record(&self, id: ApplyId) -> Result<Option<ApplyRecord>, StateError> {
        const OP: &str = "read apply";
        let conn = self.connection(OP)?;
        conn.query_row(
            &format!("SELECT {APPLY_COLUMNS} FROM applies WHERE id = ?1"),
            [id],
            ApplyRow::read,
        )
        .optional()
        .map_err(backend(OP))?
        .map(ApplyRow::decode)
        .transpose()
    }

    async fn changes(&self, id: ApplyId) -> Result<Vec<ChangeRecord>, StateError> {
        const OP: &str = "read changes";
        let conn = self.connection(OP)?;
        select_all(
            &conn,
            &format!("SELECT {CHANGE_COLUMNS} FROM changes WHERE apply_id = ?1 ORDER BY seq"),
            [id],
            ChangeRow::read,
            ChangeRow::decode,
            OP,
        )
    }

    async fn lock(&self, request: LockRequest) -> Result<LockInfo, StateError> {
        const OP: &str = "take lock";
        let mut conn = self.connection(OP)?;
        locks::take(&mut conn, None, request, OP)
    }

    async fn steal_lock(
        &self,
        expected_id: &str,
        request: LockRequest,
    ) -> Result<LockInfo, StateError> {
        const OP: &str = "steal lock";
        let mut conn = self.connection(OP)?;
        locks::take(&mut conn, Some(expected_id), request, OP)
    }

    async fn heartbeat(&self, lock_id: &str) -> Result<(), StateError> {
        const OP: &str = "renew lock";
        let conn = self.connection(OP)?;
        locks::heartbeat(&conn, lock_id, OP)
    }

    async fn unlock(&self, lock_id: &str) -> Result<(), StateError> {
        const OP: &str = "release lock";
        let conn = self.connection(OP)?;
        locks::release(&conn, lock_id, OP)
    }

    async fn current_lock(&self) -> Result<Option<LockInfo>, StateError> {
        const OP: &str = "read lock";
        let conn = self.connection(OP)?;
        locks::read(&conn, OP)
    }

    async fn document(&self, name: &str) -> Result<Option<Document>, StateError> {
        const OP: &str = "read document";
        let conn = self.connection(OP)?;
        documents::read(&conn, name, OP)
    }

    async fn documents(&self, prefix: &str) -> Result<Vec<Document>, StateError> {
        const OP: &str = "list documents";
        let conn = self.connection(OP)?;
        documents::list(&conn, prefix, OP)
    }

    async fn compact(&self) -> Result<(), StateError> {
        const OP: &str = "compact the database";
        let conn = self.connection(OP)?;
        // VACUUM rewrites the file without its free pages; the truncating checkpoint then
        // empties the write-ahead log, which still holds the pages as they were.
        conn.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")
            .map_err(backend(OP))
    }

    async fn document_names(&self, prefix: &str) -> Result<Vec<String>, StateError> {
        const OP: &str = "list documents";
        let conn = self.connection(OP)?;
        documents::names(&conn, prefix, OP)
    }

    async fn put_document(
        &self,
        name: &str,
        body: &[u8],
        precondition: Precondition<'_>,
    ) -> Result<String, StateError> {
        const OP: &str = "write document";
        let mut conn = self.connection(OP)?;
        let version = documents::change(&mut conn, name, Some(body), precondition, OP)?;
        Ok(version.expect("a write returns its version"))
    }

    async fn delete_document(
        &self,
        name: &str,
        precondition: Precondition<'_>,
    ) -> Result<(), StateError> {
        const OP: &str = "delete document";
        let mut conn = self.connection(OP)?;
        documents::change(&mut conn, name, None, precondition, OP).map(|_| ())
    }

    async fn replace_state(
        &self,
        expected_serial: u64,
        dump: &StateDump,
    ) -> Result<(), StateError> {
        const OP: &str = "replace state";
        let mut conn = self.connection(OP)?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend(OP))?;
        let found = read_or_create_meta(&tx, OP)?.serial;
        check_serial(expected_serial, found)?;
        replace::write_dump(&tx, dump, OP)?;
        tx.commit().map_err(backend(OP))
    }
}

/// Every row `sql` selects, read with `read` and then decoded with `decode`: decoding
/// errors are [`StateError::Corrupt`], which a rusqlite row closure cannot return.
fn select_all<R, T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    read: fn(&rusqlite::Row<'_>) -> rusqlite::Result<R>,
    decode: fn(R) -> Result<T, StateError>,
    op: &'static str,
) -> Result<Vec<T>, StateError> {
    let mut statement = conn.prepare_cached(sql).map_err(backend(op))?;
    let rows = statement
        .query_map(params, read)
        .map_err(backend(op))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend(op))?;
    rows.into_iter().map(decode).collect()
}

/// Replaces every output row by `outputs`, inside the caller's transaction.
fn write_outputs(
    tx: &rusqlite::Transaction<'_>,
    outputs: &[OutputRecord],
    op: &'static str,
) -> Result<(), StateError> {
    tx.execute("DELETE FROM outputs", []).map_err(backend(op))?;
    for output in outputs {
        let value = to_json(&output.value, op)?;
        tx.prepare_cached(&format!(
            "INSERT INTO outputs ({OUTPUT_COLUMNS}) VALUES (?1, ?2, ?3)"
        ))
        .and_then(|mut statement| statement.execute(params![output.name, value, output.sensitive]))
        .map_err(backend(op))?;
    }
    Ok(())
}

/// The resource row and audit row of one write, inside the caller's transaction.
fn write_one(
    tx: &rusqlite::Transaction<'_>,
    write: &ResourceWrite,
    op: &'static str,
) -> Result<(), StateError> {
    match &write.record {
        Some(record) => {
            let attributes = to_json(&record.attributes, op)?;
            let sensitive_paths = to_json(&record.sensitive_paths, op)?;
            let dependencies = to_json(&record.dependencies, op)?;
            let meta = match &record.meta {
                Some(meta) => Some(to_json(meta, op)?),
                None => None,
            };
            tx.prepare_cached(&format!(
                "INSERT INTO resources ({RESOURCE_COLUMNS})
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                         ON CONFLICT (address) DO UPDATE SET
                            provider = excluded.provider,
                            type_name = excluded.type_name,
                            id = excluded.id,
                            attributes = excluded.attributes,
                            sensitive_paths = excluded.sensitive_paths,
                            dependencies = excluded.dependencies,
                            source_file = excluded.source_file,
                            meta = excluded.meta"
            ))
            .and_then(|mut statement| {
                statement.execute(params![
                    record.address,
                    record.provider,
                    record.type_name,
                    record.id,
                    attributes,
                    sensitive_paths,
                    dependencies,
                    record.source_file,
                    meta,
                ])
            })
            .map_err(backend(op))?;
        }
        None => {
            tx.prepare_cached("DELETE FROM resources WHERE address = ?1")
                .and_then(|mut statement| statement.execute([&write.address]))
                .map_err(backend(op))?;
        }
    }

    if let Some((apply_id, change)) = &write.change {
        let known = tx
            .prepare_cached("SELECT 1 FROM applies WHERE id = ?1")
            .and_then(|mut statement| statement.exists([apply_id]))
            .map_err(backend(op))?;
        if !known {
            return Err(StateError::ApplyNotFound(*apply_id));
        }
        // The aggregate yields one row even for an apply with no changes yet (MAX is
        // NULL), so the first change gets seq 1. An unknown apply id fails the foreign
        // key and rolls back the resource write with it.
        tx.prepare_cached(&format!(
            "INSERT INTO changes ({CHANGE_COLUMNS})
                     SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, ?4, ?5, ?6
                     FROM changes WHERE apply_id = ?1"
        ))
        .and_then(|mut statement| {
            statement.execute(params![
                apply_id,
                change.address,
                change.action.as_str(),
                change.outcome.as_str(),
                change.message,
                timestamp(change.at),
            ])
        })
        .map_err(backend(op))?;
    }

    Ok(())
}
