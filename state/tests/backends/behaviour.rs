//! The behaviours every backend must have. Each function takes a fresh environment.

use std::sync::Arc;
use std::time::Duration;

use braid_provider::Value;
use braid_state::{
    ApplyOutcome, ChangeAction, ChangeOutcome, ChangeSummary, LockPolicy, OutputRecord,
    Precondition, ResourceWrite, StateError, StateStore, acquire_lock,
};

use crate::{Env, change, lock_request, new_apply, record, upsert};

pub async fn a_new_state_has_a_lineage_and_serial_zero(env: Env) {
    let store = env.open();
    let meta = store.meta().await.expect("meta");
    assert_eq!(meta.serial, 0);
    assert!(!meta.lineage.is_empty());
    assert_eq!(
        env.open().meta().await.expect("meta again"),
        meta,
        "the lineage is kept"
    );
    assert!(store.resources().await.expect("resources").is_empty());
    assert!(braid_state::is_empty(store.as_ref()).await.expect("empty"));
}

pub async fn writes_are_compare_and_swap_on_the_serial(env: Env) {
    let store = env.open();
    let serial = store
        .commit_resource(0, upsert(record("b.two", Value::from("2"))))
        .await
        .expect("first write");
    assert_eq!(serial, 1);
    let serial = store
        .commit_resource(1, upsert(record("a.one", Value::from("1"))))
        .await
        .expect("second write");
    assert_eq!(serial, 2);
    let err = store
        .commit_resource(1, upsert(record("c.three", Value::from("3"))))
        .await
        .expect_err("a stale serial is refused");
    assert!(
        matches!(
            err,
            StateError::SerialMismatch {
                expected: 1,
                found: 2
            }
        ),
        "{err:?}"
    );
    let addresses: Vec<_> = store
        .resources()
        .await
        .expect("resources")
        .into_iter()
        .map(|r| r.address)
        .collect();
    assert_eq!(
        addresses,
        ["a.one", "b.two"],
        "ordered by address, the refused write absent"
    );
    assert_eq!(
        store.resource("a.one").await.expect("read"),
        Some(record("a.one", Value::from("1")))
    );
    // The index a run reads before planning: address, provider and metadata, in order.
    let mut plain = record("c.plain", Value::from("3"));
    plain.provider = "kubernetes".to_string();
    plain.meta = None;
    let serial = store
        .commit_resource(2, upsert(plain.clone()))
        .await
        .expect("third write");
    let index = store.resource_index().await.expect("index");
    let expected: Vec<braid_state::ResourceIndexEntry> = [
        record("a.one", Value::Null),
        record("b.two", Value::Null),
        plain,
    ]
    .into_iter()
    .map(Into::into)
    .collect();
    assert_eq!(index, expected);
    assert!(index[0].meta.is_some(), "metadata comes back");
    let serial = store
        .commit_resource(
            serial,
            ResourceWrite {
                address: "c.plain".to_string(),
                record: None,
                change: None,
            },
        )
        .await
        .expect("delete");
    assert_eq!(serial, 4);
    let serial = store
        .commit_resource(
            4,
            ResourceWrite {
                address: "a.one".to_string(),
                record: None,
                change: None,
            },
        )
        .await
        .expect("delete");
    assert_eq!(serial, 5);
    assert_eq!(store.resource("a.one").await.expect("read"), None);
}

pub async fn a_group_commit_is_all_or_nothing(env: Env) {
    let store = env.open();
    let writes: Vec<_> = (0..5)
        .map(|i| upsert(record(&format!("r.n{i}"), Value::from(i64::from(i)))))
        .collect();
    assert_eq!(
        store
            .commit_resources(0, writes.clone())
            .await
            .expect("batch"),
        5
    );
    assert_eq!(store.meta().await.expect("meta").serial, 5);
    let mut bad = writes;
    bad.push(ResourceWrite {
        address: "r.bad".to_string(),
        record: None,
        change: Some((
            9999,
            change("r.bad", ChangeAction::Create, ChangeOutcome::Applied),
        )),
    });
    bad[0] = upsert(record("r.n0", Value::from("changed")));
    store
        .commit_resources(5, bad)
        .await
        .expect_err("unknown apply fails the batch");
    assert_eq!(store.meta().await.expect("meta").serial, 5);
    assert_eq!(
        store.resource("r.n0").await.expect("read"),
        Some(record("r.n0", Value::from(0_i64))),
        "nothing of the failed batch was written"
    );
}

pub async fn racing_writers_never_both_win(env: Env) {
    let env = Arc::new(env);
    let mut tasks = Vec::new();
    for i in 0..4 {
        let store = env.open();
        tasks.push(tokio::spawn(async move {
            store
                .commit_resource(0, upsert(record(&format!("r.w{i}"), Value::from("x"))))
                .await
        }));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.expect("join") {
            Ok(serial) => {
                assert_eq!(serial, 1);
                won += 1;
            }
            Err(StateError::SerialMismatch {
                expected: 0,
                found: 1,
            }) => {}
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(won, 1, "exactly one writer at serial 0 wins");
    assert_eq!(env.open().resources().await.expect("resources").len(), 1);
}

pub async fn the_audit_log_records_applies_and_changes(env: Env) {
    let store = env.open();
    let first = store.begin_apply(new_apply("apply")).await.expect("begin");
    let second = store
        .begin_apply(new_apply("destroy"))
        .await
        .expect("begin");
    assert!(second > first);
    let write = ResourceWrite {
        address: "a.one".to_string(),
        record: Some(record("a.one", Value::from("1"))),
        change: Some((
            first,
            change("a.one", ChangeAction::Create, ChangeOutcome::Applied),
        )),
    };
    store.commit_resource(0, write).await.expect("commit");
    let failed = ResourceWrite {
        address: "b.two".to_string(),
        record: None,
        change: Some((
            first,
            change("b.two", ChangeAction::Create, ChangeOutcome::Failed),
        )),
    };
    store.commit_resource(1, failed).await.expect("commit");
    let running = store
        .apply_record(first)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(running.outcome, ApplyOutcome::Running);
    assert_eq!(running.finished_at, None);
    let summary = ChangeSummary {
        create: 1,
        failed: 1,
        ..ChangeSummary::default()
    };
    store
        .finish_apply(first, summary, ApplyOutcome::Failed)
        .await
        .expect("finish");
    let done = store
        .apply_record(first)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(done.outcome, ApplyOutcome::Failed);
    assert_eq!(done.summary, summary);
    assert!(done.finished_at.is_some());
    let changes = store.changes(first).await.expect("changes");
    let seen: Vec<_> = changes
        .iter()
        .map(|c| (c.address.as_str(), c.outcome))
        .collect();
    assert_eq!(
        seen,
        [
            ("a.one", ChangeOutcome::Applied),
            ("b.two", ChangeOutcome::Failed)
        ]
    );
    let ids: Vec<_> = store
        .applies(10)
        .await
        .expect("applies")
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(ids, [second, first], "newest first");
    assert_eq!(store.applies(1).await.expect("applies").len(), 1);
    let history = store.history().await.expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].changes, changes);
}

pub async fn unknown_applies_are_refused(env: Env) {
    let store = env.open();
    let err = store
        .finish_apply(77, ChangeSummary::default(), ApplyOutcome::Succeeded)
        .await
        .expect_err("no such apply");
    assert!(matches!(err, StateError::ApplyNotFound(77)), "{err:?}");
    let write = ResourceWrite {
        address: "a.one".to_string(),
        record: Some(record("a.one", Value::from("1"))),
        change: Some((
            78,
            change("a.one", ChangeAction::Create, ChangeOutcome::Applied),
        )),
    };
    let err = store
        .commit_resource(0, write)
        .await
        .expect_err("no such apply");
    assert!(matches!(err, StateError::ApplyNotFound(78)), "{err:?}");
    assert_eq!(store.resource("a.one").await.expect("read"), None);
}

pub async fn a_second_lock_is_refused_naming_the_holder(env: Env) {
    let store = env.open();
    assert_eq!(store.current_lock().await.expect("no lock"), None);
    let held = store
        .lock(lock_request("alice", "apply"))
        .await
        .expect("lock");
    assert_eq!(
        (held.actor.as_str(), held.pid, held.host.as_str()),
        ("alice", 4242, "ci-runner-7")
    );
    let other = env.open();
    let err = other
        .lock(lock_request("bob", "destroy"))
        .await
        .expect_err("already locked");
    match err {
        StateError::Locked(holder) => assert_eq!(*holder, held),
        other => panic!("expected Locked, got {other:?}"),
    }
    assert_eq!(other.current_lock().await.expect("lock"), Some(held));
}

pub async fn heartbeat_and_unlock_need_the_holders_id(env: Env) {
    let store = env.open();
    let held = store
        .lock(lock_request("alice", "apply"))
        .await
        .expect("lock");
    assert!(matches!(
        store.heartbeat("not-the-id").await,
        Err(StateError::LockNotFound(_))
    ));
    assert!(matches!(
        store.unlock("not-the-id").await,
        Err(StateError::LockNotFound(_))
    ));
    tokio::time::sleep(Duration::from_millis(20)).await;
    store.heartbeat(&held.id).await.expect("heartbeat");
    let renewed = store.current_lock().await.expect("lock").expect("held");
    assert!(renewed.heartbeat_at > held.heartbeat_at);
    assert_eq!(renewed.acquired_at, held.acquired_at);
    store.unlock(&held.id).await.expect("unlock");
    assert_eq!(store.current_lock().await.expect("lock"), None);
    assert!(matches!(
        store.unlock(&held.id).await,
        Err(StateError::LockNotFound(_))
    ));
}

pub async fn exactly_one_of_many_racing_lockers_wins(env: Env) {
    let mut tasks = Vec::new();
    for i in 0..6 {
        let store = env.open();
        tasks.push(tokio::spawn(async move {
            store
                .lock(lock_request(&format!("worker-{i}"), "apply"))
                .await
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.expect("join") {
            Ok(lock) => winners.push(lock),
            Err(StateError::Locked(_)) => {}
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one locker wins");
    assert_eq!(
        env.open().current_lock().await.expect("lock"),
        Some(winners.remove(0))
    );
}

pub async fn a_stale_lock_is_reported_and_can_be_stolen(env: Env) {
    let store = env.open();
    let dead = store
        .lock(lock_request("alice", "apply"))
        .await
        .expect("lock");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let policy = LockPolicy {
        lease: Duration::from_millis(100),
        ..LockPolicy::default()
    };
    let err = acquire_lock(env.open().as_ref(), lock_request("bob", "apply"), &policy)
        .await
        .expect_err("stale but not stolen");
    match err {
        StateError::LockStale(holder) => assert_eq!(holder.id, dead.id),
        other => panic!("expected LockStale, got {other:?}"),
    }
    // Stealing names the lock it replaces: an outdated id cannot take a newer lock.
    assert!(matches!(
        store
            .steal_lock("some-other-id", lock_request("eve", "apply"))
            .await,
        Err(StateError::LockNotFound(_))
    ));
    let stealing = LockPolicy {
        steal_stale: true,
        ..policy
    };
    let taken = acquire_lock(env.open().as_ref(), lock_request("bob", "apply"), &stealing)
        .await
        .expect("steal");
    assert_eq!(
        taken.stolen_from.as_ref().map(|l| l.id.as_str()),
        Some(dead.id.as_str())
    );
    assert_eq!(taken.lock.actor, "bob");
    assert_eq!(
        store.current_lock().await.expect("lock"),
        Some(taken.lock.clone())
    );
    assert!(
        matches!(
            store.heartbeat(&dead.id).await,
            Err(StateError::LockNotFound(_))
        ),
        "the old holder's heartbeat no longer renews anything"
    );
    // A live lock is never stolen.
    let err = acquire_lock(
        env.open().as_ref(),
        lock_request("carol", "apply"),
        &LockPolicy {
            steal_stale: true,
            ..LockPolicy::default()
        },
    )
    .await
    .expect_err("live lock");
    assert!(matches!(err, StateError::Locked(_)), "{err:?}");
}

/// A pid that no process has any more: a child that has exited and been reaped.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let pid = child.id();
    child.wait().expect("wait for true");
    pid
}

/// A request from this very process, with this machine's boot id.
fn request_from_here(actor: &str, pid: u32) -> braid_state::LockRequest {
    braid_state::LockRequest {
        host: "this-host".to_string(),
        pid,
        boot_id: braid_state::this_boot(),
        ..lock_request(actor, "apply")
    }
}

pub async fn a_lock_of_a_dead_process_on_this_host_is_taken_over_at_once(env: Env) {
    assert!(
        braid_state::this_boot().is_some(),
        "these tests run on Linux, which has a boot id"
    );
    let store = env.open();
    let dead = store
        .lock(request_from_here("alice", dead_pid()))
        .await
        .expect("lock");
    assert_eq!(
        store.current_lock().await.expect("read lock"),
        Some(dead.clone()),
        "the boot id is stored with the lock"
    );
    // The heartbeat is fresh and stealing is not asked for: the dead pid alone decides.
    let taken = acquire_lock(
        env.open().as_ref(),
        request_from_here("bob", std::process::id()),
        &LockPolicy::default(),
    )
    .await
    .expect("a dead holder's lock is taken over");
    assert_eq!(taken.stolen_from.map(|l| l.id), Some(dead.id));
    assert_eq!(taken.lock.actor, "bob");

    // A live holder on this host keeps its lock (its pid is this test process).
    let err = acquire_lock(
        env.open().as_ref(),
        request_from_here("carol", dead_pid()),
        &LockPolicy::default(),
    )
    .await
    .expect_err("live holder");
    assert!(matches!(err, StateError::Locked(_)), "{err:?}");
    store.unlock(&taken.lock.id).await.expect("unlock");

    // A holder from an earlier boot of this host is gone too, whatever its pid.
    let rebooted = store
        .lock(braid_state::LockRequest {
            boot_id: Some("00000000-0000-0000-0000-000000000000/pid:[1]".to_string()),
            ..request_from_here("dave", std::process::id())
        })
        .await
        .expect("lock");
    let taken = acquire_lock(
        env.open().as_ref(),
        request_from_here("erin", std::process::id()),
        &LockPolicy::default(),
    )
    .await
    .expect("a lock from before a reboot is taken over");
    assert_eq!(taken.stolen_from.map(|l| l.id), Some(rebooted.id));
    store.unlock(&taken.lock.id).await.expect("unlock");

    // On another host, or without a boot id, a dead pid proves nothing: the lease decides.
    for holder in [
        braid_state::LockRequest {
            host: "another-host".to_string(),
            ..request_from_here("frank", dead_pid())
        },
        braid_state::LockRequest {
            boot_id: None,
            ..request_from_here("grace", dead_pid())
        },
    ] {
        let held = store.lock(holder).await.expect("lock");
        let err = acquire_lock(
            env.open().as_ref(),
            request_from_here("heidi", std::process::id()),
            &LockPolicy::default(),
        )
        .await
        .expect_err("not provably dead");
        assert!(matches!(err, StateError::Locked(_)), "{err:?}");
        store.unlock(&held.id).await.expect("unlock");
    }
}

pub async fn a_waiting_writer_gets_the_lock_when_it_is_released(env: Env) {
    let store = env.open();
    let held = store
        .lock(lock_request("alice", "apply"))
        .await
        .expect("lock");
    let quick = LockPolicy {
        timeout: Duration::from_millis(300),
        poll: Duration::from_millis(50),
        ..LockPolicy::default()
    };
    let started = std::time::Instant::now();
    let err = acquire_lock(env.open().as_ref(), lock_request("bob", "apply"), &quick)
        .await
        .expect_err("times out");
    assert!(matches!(err, StateError::Locked(_)), "{err:?}");
    assert!(started.elapsed() >= Duration::from_millis(300));
    let waiter = env.open();
    let patient = LockPolicy {
        timeout: Duration::from_secs(20),
        ..quick
    };
    let waiting = tokio::spawn(async move {
        acquire_lock(waiter.as_ref(), lock_request("bob", "apply"), &patient).await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    store.unlock(&held.id).await.expect("unlock");
    let got = waiting.await.expect("join").expect("lock after release");
    assert_eq!(got.lock.actor, "bob");
    assert_eq!(got.stolen_from, None);
}

/// Fills a state with resources and two applies.
async fn populate(store: &dyn StateStore) {
    let apply = store.begin_apply(new_apply("apply")).await.expect("begin");
    let mut serial = store.meta().await.expect("meta").serial;
    for name in ["b.two", "a.one"] {
        serial = store
            .commit_resource(
                serial,
                ResourceWrite {
                    address: name.to_string(),
                    record: Some(record(name, Value::from(name))),
                    change: Some((
                        apply,
                        change(name, ChangeAction::Create, ChangeOutcome::Applied),
                    )),
                },
            )
            .await
            .expect("commit");
    }
    store
        .finish_apply(apply, ChangeSummary::default(), ApplyOutcome::Succeeded)
        .await
        .expect("finish");
    store
        .replace_outputs(serial, outputs())
        .await
        .expect("outputs");
    let running = store
        .begin_apply(new_apply("destroy"))
        .await
        .expect("begin");
    store
        .commit_resource(
            serial,
            ResourceWrite {
                address: "a.one".to_string(),
                record: None,
                change: Some((
                    running,
                    change("a.one", ChangeAction::Delete, ChangeOutcome::Applied),
                )),
            },
        )
        .await
        .expect("commit");
}

fn outputs() -> Vec<OutputRecord> {
    vec![
        OutputRecord {
            name: "a_name".to_string(),
            value: Value::from("bucket-1"),
            sensitive: false,
        },
        OutputRecord {
            name: "b_secret".to_string(),
            value: Value::from("hunter2"),
            sensitive: true,
        },
    ]
}

pub async fn outputs_are_replaced_as_a_whole_on_the_serial(env: Env) {
    let store = env.open();
    assert!(store.outputs().await.expect("outputs").is_empty());
    let serial = store
        .commit_resource(0, upsert(record("a.one", Value::from("1"))))
        .await
        .expect("commit");
    let err = store
        .replace_outputs(serial - 1, outputs())
        .await
        .expect_err("stale serial");
    assert!(matches!(err, StateError::SerialMismatch { .. }), "{err:?}");
    assert!(store.outputs().await.expect("outputs").is_empty());
    store
        .replace_outputs(serial, outputs())
        .await
        .expect("outputs");
    assert_eq!(store.outputs().await.expect("outputs"), outputs());
    assert_eq!(
        store.meta().await.expect("meta").serial,
        serial,
        "outputs do not move the serial"
    );
    let kept = outputs()[1..].to_vec();
    store
        .replace_outputs(serial, kept.clone())
        .await
        .expect("fewer outputs");
    assert_eq!(store.outputs().await.expect("outputs"), kept);
    store
        .replace_outputs(serial, Vec::new())
        .await
        .expect("no outputs");
    assert!(store.outputs().await.expect("outputs").is_empty());
}

pub async fn export_and_replace_round_trip(env: Env) {
    let store = env.open();
    populate(store.as_ref()).await;
    let dump = store.export().await.expect("export");
    assert_eq!(dump.serial, 3);
    assert_eq!(dump.applies.len(), 2);
    assert_eq!(dump.applies[0].changes.len(), 2);
    assert_eq!(dump.applies[1].apply.outcome, ApplyOutcome::Running);
    assert_eq!(dump.outputs, outputs());
    let err = store
        .replace_state(2, &dump)
        .await
        .expect_err("stale serial");
    assert!(matches!(err, StateError::SerialMismatch { .. }), "{err:?}");
    store
        .replace_state(3, &dump)
        .await
        .expect("replace with itself");
    assert_eq!(store.export().await.expect("export"), dump);
    // Ids keep counting after the copied history.
    let next = store.begin_apply(new_apply("apply")).await.expect("begin");
    assert!(next > dump.applies[1].apply.id);
}

pub async fn push_checks_lineage_and_serial(env: Env) {
    let store = env.open();
    populate(store.as_ref()).await;
    let mut dump = store.export().await.expect("export");
    let err = braid_state::push(store.as_ref(), &dump, false)
        .await
        .expect_err("same serial is not newer");
    assert!(matches!(err, StateError::Refused(_)), "{err:?}");
    dump.serial += 1;
    dump.resources.pop();
    braid_state::push(store.as_ref(), &dump, false)
        .await
        .expect("newer serial");
    assert_eq!(store.export().await.expect("export"), dump);
    let mut foreign = dump.clone();
    foreign.lineage = "another-lineage".to_string();
    foreign.serial += 10;
    let err = braid_state::push(store.as_ref(), &foreign, false)
        .await
        .expect_err("other lineage");
    assert!(matches!(err, StateError::LineageMismatch { .. }), "{err:?}");
    braid_state::push(store.as_ref(), &foreign, true)
        .await
        .expect("forced");
    assert_eq!(store.meta().await.expect("meta").lineage, "another-lineage");
}

pub async fn environments_do_not_see_each_other(env: Env) {
    let store = env.open();
    store
        .lock(lock_request("alice", "apply"))
        .await
        .expect("lock");
    store
        .commit_resource(0, upsert(record("a.one", Value::from("1"))))
        .await
        .expect("commit");
    // A second environment on the same backend (same server or directory kind).
    let backend = if store.location().starts_with("s3://") {
        crate::Backend::S3
    } else if store.location().starts_with("postgres://") {
        crate::Backend::Postgres
    } else {
        crate::Backend::Sqlite
    };
    let other = backend.env().open();
    assert_eq!(other.current_lock().await.expect("lock"), None);
    assert!(other.resources().await.expect("resources").is_empty());
    other
        .lock(lock_request("bob", "apply"))
        .await
        .expect("own lock");
}

/// `a` → `b` → `back`: every copy exports identical to the original.
pub async fn migrate_there_and_back(a: Env, b: Env, back: Env) {
    let (a, b, back) = (a.open(), b.open(), back.open());
    populate(a.as_ref()).await;
    let original = a.export().await.expect("export");
    let copied = braid_state::migrate(a.as_ref(), b.as_ref(), false)
        .await
        .expect("migrate there");
    assert_eq!(copied, original);
    assert_eq!(b.export().await.expect("export"), original);
    braid_state::migrate(b.as_ref(), back.as_ref(), false)
        .await
        .expect("migrate back");
    assert_eq!(back.export().await.expect("export"), original);
    let err = braid_state::migrate(a.as_ref(), b.as_ref(), false)
        .await
        .expect_err("destination not empty");
    assert!(matches!(err, StateError::Refused(_)), "{err:?}");
}

pub async fn documents_are_written_with_compare_and_swap(env: Env) {
    let store = env.open();
    assert_eq!(store.document("agent/lease").await.expect("read"), None);
    let v1 = store
        .put_document("agent/lease", b"one", Precondition::Absent)
        .await
        .expect("create");
    // Another handle (another process) sees it, and cannot create it again.
    let other = env.open();
    let found = other
        .document("agent/lease")
        .await
        .expect("read")
        .expect("found");
    assert_eq!(
        (found.body.as_slice(), found.version.as_str()),
        (&b"one"[..], v1.as_str())
    );
    assert!(matches!(
        other.put_document("agent/lease", b"two", Precondition::Absent).await,
        Err(StateError::DocumentChanged(name)) if name == "agent/lease"
    ));
    // A write at the version read wins once; the loser of the race is told.
    let v2 = other
        .put_document("agent/lease", b"two", Precondition::Version(&v1))
        .await
        .expect("write at v1");
    assert_ne!(v1, v2);
    assert!(matches!(
        store
            .put_document("agent/lease", b"three", Precondition::Version(&v1))
            .await,
        Err(StateError::DocumentChanged(_))
    ));
    assert!(matches!(
        store
            .delete_document("agent/lease", Precondition::Version(&v1))
            .await,
        Err(StateError::DocumentChanged(_))
    ));
    assert_eq!(
        store
            .document("agent/lease")
            .await
            .expect("read")
            .expect("found")
            .body,
        b"two"
    );
    // Unconditional writes and deletes; deleting what is gone is fine.
    let v3 = store
        .put_document("agent/lease", b"three", Precondition::Any)
        .await
        .expect("overwrite");
    store
        .delete_document("agent/lease", Precondition::Version(&v3))
        .await
        .expect("delete at v3");
    assert_eq!(store.document("agent/lease").await.expect("read"), None);
    store
        .delete_document("agent/lease", Precondition::Any)
        .await
        .expect("delete of nothing");
    assert!(matches!(
        store
            .put_document("agent/lease", b"x", Precondition::Version(&v3))
            .await,
        Err(StateError::DocumentChanged(_))
    ));
    // Bad names never reach the storage.
    assert!(matches!(
        store
            .put_document("../escape", b"x", Precondition::Any)
            .await,
        Err(StateError::Refused(_))
    ));
    // Documents do not touch the state.
    assert_eq!(store.meta().await.expect("meta").serial, 0);
}

pub async fn documents_are_listed_by_prefix_in_name_order(env: Env) {
    let store = env.open();
    for name in [
        "agent/members/b",
        "agent/members/a",
        "agent/lease",
        "reviewed/c1",
        "agent/members_x",
    ] {
        store
            .put_document(name, name.as_bytes(), Precondition::Any)
            .await
            .expect("write");
    }
    let names =
        |docs: Vec<braid_state::Document>| docs.into_iter().map(|d| d.name).collect::<Vec<_>>();
    assert_eq!(
        names(store.documents("agent/members/").await.expect("list")),
        ["agent/members/a", "agent/members/b"]
    );
    assert_eq!(
        names(store.documents("agent/").await.expect("list")),
        [
            "agent/lease",
            "agent/members/a",
            "agent/members/b",
            "agent/members_x"
        ]
    );
    assert_eq!(
        store.document_names("agent/").await.expect("names"),
        [
            "agent/lease",
            "agent/members/a",
            "agent/members/b",
            "agent/members_x"
        ]
    );
    let all = store.documents("").await.expect("list");
    assert_eq!(all.len(), 5);
    assert!(all.iter().all(|d| d.body == d.name.as_bytes()));
    assert!(store.documents("nothing/").await.expect("list").is_empty());
}

pub async fn exactly_one_of_many_racing_document_writers_wins(env: Env) {
    let store = env.open();
    let start = store
        .put_document("agent/lease", b"start", Precondition::Absent)
        .await
        .expect("create");
    let mut tasks = Vec::new();
    for i in 0..6 {
        let store = env.open();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            store
                .put_document(
                    "agent/lease",
                    format!("worker-{i}").as_bytes(),
                    Precondition::Version(&start),
                )
                .await
        }));
    }
    let mut winners = 0;
    for task in tasks {
        match task.await.expect("join") {
            Ok(_) => winners += 1,
            Err(StateError::DocumentChanged(_)) => {}
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(winners, 1, "exactly one writer wins");
}
