//! The environment lock, and two handles on one file contending for it.

use braid_provider::Value;
use braid_state::{StateError, StateStore};

use crate::{lock_request, open, record, upsert};

#[tokio::test]
async fn a_second_lock_is_refused_naming_the_holder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    assert_eq!(store.current_lock().await.expect("no lock"), None);

    let held = store
        .lock(lock_request("alice", "apply"))
        .await
        .expect("lock");
    assert_eq!(held.actor, "alice");
    assert_eq!(held.pid, 4242);
    assert_eq!(held.acquired_at, held.heartbeat_at);
    assert_eq!(
        store.current_lock().await.expect("lock"),
        Some(held.clone())
    );

    let err = store
        .lock(lock_request("bob", "destroy"))
        .await
        .expect_err("already locked");
    let message = err.to_string();
    assert!(
        message.contains("alice") && message.contains("apply"),
        "{message}"
    );
    match err {
        StateError::Locked(holder) => assert_eq!(*holder, held),
        other => panic!("expected Locked, got {other:?}"),
    }
    assert_eq!(
        store.current_lock().await.expect("lock"),
        Some(held),
        "the refused request changed nothing"
    );
}

#[tokio::test]
async fn heartbeat_and_unlock_need_the_holders_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir);
    let held = store
        .lock(lock_request("alice", "apply"))
        .await
        .expect("lock");

    assert!(matches!(
        store.heartbeat("not-the-id").await,
        Err(StateError::LockNotFound(id)) if id == "not-the-id"
    ));
    assert!(matches!(
        store.unlock("not-the-id").await,
        Err(StateError::LockNotFound(_))
    ));
    assert_eq!(
        store.current_lock().await.expect("lock"),
        Some(held.clone()),
        "a wrong id changes nothing"
    );

    std::thread::sleep(std::time::Duration::from_millis(20));
    store.heartbeat(&held.id).await.expect("heartbeat");
    let renewed = store
        .current_lock()
        .await
        .expect("lock")
        .expect("still held");
    assert!(renewed.heartbeat_at > held.heartbeat_at);
    assert_eq!(renewed.acquired_at, held.acquired_at);

    store.unlock(&held.id).await.expect("unlock");
    assert_eq!(store.current_lock().await.expect("lock"), None);
    assert!(matches!(
        store.unlock(&held.id).await,
        Err(StateError::LockNotFound(_))
    ));
    assert!(matches!(
        store.heartbeat(&held.id).await,
        Err(StateError::LockNotFound(_))
    ));

    let next = store
        .lock(lock_request("bob", "destroy"))
        .await
        .expect("lock after unlock");
    assert_ne!(next.id, held.id);
    assert_eq!(next.actor, "bob");
}

#[tokio::test]
async fn two_handles_on_one_file_share_writes_serial_and_lock() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = open(&dir);
    let second = open(&dir);
    assert_eq!(
        first.meta().await.expect("meta"),
        second.meta().await.expect("meta")
    );

    first
        .commit_resource(0, upsert(record("a.one", Value::from("from first"))))
        .await
        .expect("commit");
    assert_eq!(
        second
            .resource("a.one")
            .await
            .expect("read")
            .map(|r| r.attributes),
        Some(Value::from("from first"))
    );
    assert!(matches!(
        second
            .commit_resource(0, upsert(record("b.two", Value::Null)))
            .await,
        Err(StateError::SerialMismatch {
            expected: 0,
            found: 1
        })
    ));

    let held = first
        .lock(lock_request("alice", "apply"))
        .await
        .expect("lock");
    match second.lock(lock_request("bob", "apply")).await {
        Err(StateError::Locked(holder)) => assert_eq!(holder.id, held.id),
        other => panic!("expected Locked, got {other:?}"),
    }
    second.unlock(&held.id).await.expect("force unlock by id");
    assert_eq!(first.current_lock().await.expect("lock"), None);
}
