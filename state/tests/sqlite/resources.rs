//! Lineage and serial, and writing and deleting resources.

use braid_provider::{Path, PathStep, Value};
use braid_state::{ChangeAction, ChangeOutcome, ResourceWrite, StateError, StateStore};

use crate::{change, db_path, new_apply, open, record, upsert};

#[tokio::test]
async fn fresh_state_gets_a_lineage_and_serial_zero_that_survive_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    assert!(
        db_path(&dir).exists(),
        "open creates the file and its parents"
    );
    assert_eq!(store.location(), db_path(&dir).display().to_string());

    let meta = store.meta().await.expect("meta");
    assert_eq!(meta.serial, 0);
    assert_eq!(meta.lineage.len(), 36, "a uuid: {}", meta.lineage);
    assert_eq!(store.meta().await.expect("meta again"), meta);
    drop(store);

    let reopened = open(&dir);
    assert_eq!(reopened.meta().await.expect("meta after reopen"), meta);

    let other = tempfile::tempdir().expect("tempdir");
    let other_meta = open(&other).meta().await.expect("other meta");
    assert_ne!(
        other_meta.lineage, meta.lineage,
        "each state has its own lineage"
    );
}

#[tokio::test]
async fn commit_round_trips_nested_attributes_paths_and_dependencies() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let attributes = Value::map([
        ("content", Value::from("hello\n\"quoted\" ünïcode")),
        ("count", Value::from_i64(-3)),
        ("ratio", Value::from_f64(1.5)),
        ("enabled", Value::from(true)),
        ("nothing", Value::Null),
        (
            "spec",
            Value::map([(
                "containers",
                Value::List(vec![Value::map([
                    ("image", Value::from("nginx:1.27")),
                    ("ports", Value::List(vec![Value::from_i64(80)])),
                ])]),
            )]),
        ),
    ]);
    let mut written = record("local_file.config", attributes);
    written.sensitive_paths = vec![
        Path::key("content"),
        Path(vec![
            PathStep::Key("spec".into()),
            PathStep::Key("containers".into()),
            PathStep::Index(0),
            PathStep::Key("image".into()),
        ]),
    ];
    written.dependencies = vec!["local_file.a".into(), "k8s/apps/Deployment/ns/web".into()];
    written.source_file = None;

    let serial = store
        .commit_resource(0, upsert(written.clone()))
        .await
        .expect("commit");
    assert_eq!(serial, 1);

    let reopened = open(&dir);
    assert_eq!(
        reopened.resource("local_file.config").await.expect("read"),
        Some(written.clone())
    );
    assert_eq!(reopened.resources().await.expect("list"), vec![written]);
    assert_eq!(
        reopened.resource("local_file.missing").await.expect("read"),
        None
    );
}

#[tokio::test]
async fn serial_increments_and_a_rewrite_replaces_the_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let lineage = store.meta().await.expect("meta").lineage;

    assert_eq!(
        store
            .commit_resource(0, upsert(record("b.two", Value::from("v1"))))
            .await
            .expect("first"),
        1
    );
    assert_eq!(
        store
            .commit_resource(1, upsert(record("a.one", Value::from("v1"))))
            .await
            .expect("second"),
        2
    );
    let mut updated = record("b.two", Value::from("v2"));
    updated.id = None;
    assert_eq!(
        store
            .commit_resource(2, upsert(updated.clone()))
            .await
            .expect("third"),
        3
    );

    let meta = store.meta().await.expect("meta");
    assert_eq!(meta.serial, 3);
    assert_eq!(meta.lineage, lineage, "writes never change the lineage");
    let addresses: Vec<_> = store
        .resources()
        .await
        .expect("list")
        .into_iter()
        .map(|r| r.address)
        .collect();
    assert_eq!(addresses, ["a.one", "b.two"], "ordered by address");
    assert_eq!(store.resource("b.two").await.expect("read"), Some(updated));
}

#[tokio::test]
async fn a_stale_serial_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let apply = store
        .begin_apply(new_apply("apply", None))
        .await
        .expect("begin");
    store
        .commit_resource(0, upsert(record("a.one", Value::from("v1"))))
        .await
        .expect("first");

    let stale = ResourceWrite {
        change: Some((
            apply,
            change("b.two", ChangeAction::Create, ChangeOutcome::Applied),
        )),
        ..upsert(record("b.two", Value::from("v1")))
    };
    let err = store
        .commit_resource(0, stale)
        .await
        .expect_err("serial 0 is stale");
    assert!(
        matches!(
            err,
            StateError::SerialMismatch {
                expected: 0,
                found: 1
            }
        ),
        "{err:?}"
    );
    assert_eq!(store.resource("b.two").await.expect("read"), None);
    assert!(store.changes(apply).await.expect("changes").is_empty());
    assert_eq!(store.meta().await.expect("meta").serial, 1);

    let ahead = upsert(record("c.three", Value::Null));
    assert!(matches!(
        store.commit_resource(5, ahead).await,
        Err(StateError::SerialMismatch {
            expected: 5,
            found: 1
        })
    ));
}

#[tokio::test]
async fn a_write_without_a_record_deletes_the_resource() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let apply = store
        .begin_apply(new_apply("destroy", None))
        .await
        .expect("begin");
    store
        .commit_resource(0, upsert(record("a.one", Value::from("v1"))))
        .await
        .expect("create");
    store
        .commit_resource(1, upsert(record("b.two", Value::from("v1"))))
        .await
        .expect("create");

    let deleted = change("a.one", ChangeAction::Delete, ChangeOutcome::Applied);
    let serial = store
        .commit_resource(
            2,
            ResourceWrite {
                address: "a.one".into(),
                record: None,
                change: Some((apply, deleted.clone())),
            },
        )
        .await
        .expect("delete");
    assert_eq!(serial, 3);
    assert_eq!(store.resource("a.one").await.expect("read"), None);
    assert!(store.resource("b.two").await.expect("read").is_some());
    assert_eq!(store.changes(apply).await.expect("changes"), vec![deleted]);
}

#[tokio::test]
async fn a_change_for_an_unknown_apply_rolls_back_the_resource_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let write = ResourceWrite {
        change: Some((
            999,
            change("a.one", ChangeAction::Create, ChangeOutcome::Applied),
        )),
        ..upsert(record("a.one", Value::from("v1")))
    };
    let err = store
        .commit_resource(0, write)
        .await
        .expect_err("apply 999 does not exist");
    assert!(matches!(err, StateError::ApplyNotFound(999)), "{err:?}");
    assert_eq!(store.resource("a.one").await.expect("read"), None);
    assert_eq!(store.meta().await.expect("meta").serial, 0);
}
