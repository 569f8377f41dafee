//! The database file itself: concurrent processes, schema versions, modes and damage.

use braid_provider::Value;
use braid_state::{
    ChangeAction, ChangeOutcome, ResourceWrite, SqliteStore, StateError, StateStore,
};

use crate::{change, db_path, new_apply, open, record, upsert};

/// Two writers on their own threads and connections, retrying on a stale serial the way two
/// braid processes would. Every write lands exactly once and the serial counts them all.
#[test]
fn concurrent_writers_serialize_through_the_serial() {
    const WRITES: u64 = 25;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_path(&dir);
    open(&dir);

    let writers: Vec<_> = ["left", "right"]
        .into_iter()
        .map(|name| {
            let path = path.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .expect("runtime");
                runtime.block_on(async {
                    let store = SqliteStore::open(&path).expect("open");
                    for n in 0..WRITES {
                        let address = format!("{name}.r{n}");
                        loop {
                            let serial = store.meta().await.expect("meta").serial;
                            match store
                                .commit_resource(serial, upsert(record(&address, Value::Null)))
                                .await
                            {
                                Ok(_) => break,
                                Err(StateError::SerialMismatch { .. }) => continue,
                                Err(other) => panic!("{name}: {other:?}"),
                            }
                        }
                    }
                });
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("writer thread");
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = open(&dir);
        assert_eq!(store.meta().await.expect("meta").serial, 2 * WRITES);
        assert_eq!(
            store.resources().await.expect("list").len() as u64,
            2 * WRITES
        );
    });
}

#[test]
fn concurrent_opens_of_a_new_file_both_succeed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_path(&dir);
    let openers: Vec<_> = (0..8)
        .map(|_| {
            let path = path.clone();
            std::thread::spawn(move || SqliteStore::open(&path).map(|_| ()))
        })
        .collect();
    for opener in openers {
        opener.join().expect("opener thread").expect("open");
    }
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(open(&dir));
    let conn = rusqlite::Connection::open(db_path(&dir)).expect("raw open");
    conn.pragma_update(None, "user_version", 999)
        .expect("bump version");
    drop(conn);

    match SqliteStore::open(&db_path(&dir)) {
        Err(StateError::NewerSchema {
            location,
            found,
            supported,
        }) => {
            assert_eq!(location, db_path(&dir).display().to_string());
            assert_eq!(found, 999);
            assert!((1..999).contains(&supported));
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
}

#[test]
fn the_database_is_in_wal_mode() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(open(&dir));
    let conn = rusqlite::Connection::open(db_path(&dir)).expect("raw open");
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .expect("journal_mode");
    assert_eq!(mode, "wal");
}

#[test]
fn opening_where_a_directory_cannot_be_made_is_an_open_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "a file").expect("write blocker");
    match SqliteStore::open(&blocker.join("staging.db")) {
        Err(StateError::Open { location, .. }) => assert!(location.ends_with("staging.db")),
        other => panic!("expected Open, got {other:?}"),
    }
}

#[tokio::test]
async fn unreadable_rows_are_reported_as_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    store
        .commit_resource(0, upsert(record("a.one", Value::Null)))
        .await
        .expect("commit");
    let conn = rusqlite::Connection::open(db_path(&dir)).expect("raw open");
    conn.execute(
        "UPDATE resources SET attributes = '{not json' WHERE address = 'a.one'",
        [],
    )
    .expect("corrupt the row");

    match store.resources().await {
        Err(StateError::Corrupt(message)) => {
            assert!(
                message.contains("a.one") && message.contains("attributes"),
                "{message}"
            )
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

/// An action this braid does not know (written by hand, or by a newer braid) must not be
/// guessed at or panic: reading the audit log reports the row as corrupt.
#[tokio::test]
async fn an_unknown_change_action_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let apply = store
        .begin_apply(new_apply("apply", None))
        .await
        .expect("begin");
    let created = ResourceWrite {
        change: Some((
            apply,
            change("a.one", ChangeAction::Create, ChangeOutcome::Applied),
        )),
        ..upsert(record("a.one", Value::Null))
    };
    store.commit_resource(0, created).await.expect("commit");
    let conn = rusqlite::Connection::open(db_path(&dir)).expect("raw open");
    conn.execute("UPDATE changes SET action = 'obliterate'", [])
        .expect("corrupt the row");

    match store.changes(apply).await {
        Err(StateError::Corrupt(message)) => {
            assert!(
                message.contains("action") && message.contains("obliterate"),
                "{message}"
            )
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn a_file_that_is_not_a_database_is_corrupt_not_unopenable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("staging.db");
    std::fs::write(&path, "not a database\n".repeat(40)).expect("write");
    match SqliteStore::open(&path) {
        Err(StateError::Corrupt(message)) => {
            assert!(message.contains("not a SQLite database"), "{message}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[cfg(unix)]
#[test]
fn the_database_and_its_directories_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    drop(open(&dir));
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o7777;
    assert_eq!(mode(&dir.path().join("state")), 0o700);
    assert_eq!(mode(&db_path(&dir)), 0o600);
}

/// A state with a few resources written, its handle closed.
async fn written_state(dir: &tempfile::TempDir) {
    let store = open(dir);
    let mut serial = store.meta().await.expect("meta").serial;
    for n in 0..40 {
        let big = Value::String("x".repeat(2000));
        serial = store
            .commit_resource(serial, upsert(record(&format!("local_file.f{n}"), big)))
            .await
            .expect("commit");
    }
}

/// A file of 0 bytes is never braid's own (a new state is created whole, under another
/// name, and moved into place), so it is a lost state, not a new empty one.
#[test]
fn an_empty_file_is_refused_as_lost_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(db_path(&dir).parent().expect("parent")).expect("mkdir");
    std::fs::write(db_path(&dir), b"").expect("write empty file");
    match SqliteStore::open(&db_path(&dir)) {
        Err(StateError::Lost(message)) => {
            assert!(message.contains("0 bytes"), "{message}");
        }
        other => panic!("expected Lost, got {other:?}"),
    }
    assert_eq!(
        std::fs::metadata(db_path(&dir)).expect("metadata").len(),
        0,
        "the file is left as it was"
    );
}

#[test]
fn a_new_file_is_created_whole_with_its_lineage() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(open(&dir));
    let conn = rusqlite::Connection::open(db_path(&dir)).expect("raw open");
    let rows: i64 = conn
        .query_row("SELECT COUNT(*) FROM meta", [], |row| row.get(0))
        .expect("meta rows");
    assert_eq!(rows, 1, "the meta row is written before the file appears");
    let names: Vec<String> = std::fs::read_dir(dir.path().join("state"))
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with("-wal") && !n.ends_with("-shm"))
        .collect();
    assert_eq!(names, ["staging.db"], "no temporary file is left behind");
}

#[tokio::test]
async fn a_truncated_file_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    written_state(&dir).await;
    let path = db_path(&dir);
    let len = std::fs::metadata(&path).expect("metadata").len();
    assert!(len > 8192, "the test needs a file of several pages ({len})");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open for truncation");
    file.set_len(len / 2).expect("truncate");
    drop(file);
    match SqliteStore::open(&path) {
        Err(StateError::Corrupt(message)) => {
            assert!(message.contains("damaged"), "{message}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_meta_row_is_refused_as_lost_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    written_state(&dir).await;
    let conn = rusqlite::Connection::open(db_path(&dir)).expect("raw open");
    conn.execute("DELETE FROM meta", []).expect("delete meta");
    drop(conn);
    let store = open(&dir);
    match store.meta().await {
        Err(StateError::Lost(message)) => {
            assert!(message.contains("meta"), "{message}");
        }
        other => panic!("expected Lost, got {other:?}"),
    }
    assert!(
        matches!(
            store
                .commit_resource(0, upsert(record("local_file.new", Value::Null)))
                .await,
            Err(StateError::Lost(_))
        ),
        "a write does not make up a new lineage either"
    );
}

/// A file written before outputs were stored (schema version 2, no `outputs` table) keeps
/// its resources, reads as having no outputs, and takes outputs after the migration.
#[tokio::test]
async fn a_file_from_before_outputs_is_migrated_and_has_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let serial = open(&dir)
        .commit_resource(0, upsert(record("a.one", Value::from("1"))))
        .await
        .expect("commit");
    {
        let conn = rusqlite::Connection::open(db_path(&dir)).expect("raw open");
        conn.execute_batch(
            "DROP TABLE outputs; ALTER TABLE resources DROP COLUMN meta; DROP TABLE documents; ALTER TABLE applies DROP COLUMN note; PRAGMA user_version = 2;",
        )
        .expect("make it a version 2 file");
    }
    let store = open(&dir);
    assert!(store.outputs().await.expect("outputs").is_empty());
    assert_eq!(store.resources().await.expect("resources").len(), 1);
    let outputs = vec![braid_state::OutputRecord {
        name: "url".to_string(),
        value: Value::from("https://example.com"),
        sensitive: false,
    }];
    store
        .replace_outputs(serial, outputs.clone())
        .await
        .expect("write outputs");
    assert_eq!(store.outputs().await.expect("outputs"), outputs);
}

/// A file written before providers kept data beside objects (schema version 3, no `meta`
/// column) keeps its resources, which read with no meta, and takes meta after the migration.
#[tokio::test]
async fn a_file_from_before_object_meta_is_migrated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let serial = open(&dir)
        .commit_resource(0, upsert(record("a.one", Value::from("1"))))
        .await
        .expect("commit");
    {
        let conn = rusqlite::Connection::open(db_path(&dir)).expect("raw open");
        conn.execute_batch("ALTER TABLE resources DROP COLUMN meta; DROP TABLE documents; ALTER TABLE applies DROP COLUMN note; PRAGMA user_version = 3;")
            .expect("make it a version 3 file");
    }
    let store = open(&dir);
    let resources = store.resources().await.expect("resources");
    assert_eq!(resources.len(), 1);
    assert_eq!(resources[0].meta, None);
    let mut with_meta = record("a.one", Value::from("1"));
    with_meta.meta = Some(braid_provider::ObjectMeta {
        schema_version: Some(1),
        private: b"null".to_vec(),
    });
    store
        .commit_resource(serial, upsert(with_meta.clone()))
        .await
        .expect("commit with meta");
    assert_eq!(
        store.resource("a.one").await.expect("read"),
        Some(with_meta)
    );
}
