//! The S3 layout itself, on moto: a commit uploads what it changed and not the whole
//! state; a format-1 state moves to the new layout on its first write; a process that dies
//! between any two requests leaves a state that reads back as it was before or after the
//! operation it was in, and that the next writer carries on from.
//!
//! Requests go through a client interceptor that counts them and their bytes, and can make
//! every request from the N-th on fail before it is sent: what the service sees of a process
//! killed after N requests.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use braid_provider::Value;
use braid_state::{
    ApplyOutcome, ChangeAction, ChangeOutcome, ChangeSummary, OutputRecord, ResourceRecord,
    ResourceWrite, S3Store, S3Tuning, StateStore,
};
use braid_testkit::MotoServer;

use crate::{change, new_apply, record, s3_client, s3_location, upsert};

/// Counts requests and the bytes of their bodies; fails every request from `fail_from` on.
#[derive(Debug, Clone)]
pub struct Requests(Arc<Counters>);

#[derive(Debug)]
struct Counters {
    sent: AtomicU64,
    body_bytes: AtomicU64,
    fail_from: AtomicU64,
}

impl Requests {
    pub fn new() -> Requests {
        Requests(Arc::new(Counters {
            sent: AtomicU64::new(0),
            body_bytes: AtomicU64::new(0),
            fail_from: AtomicU64::new(u64::MAX),
        }))
    }

    fn failing_from(n: u64) -> Requests {
        let requests = Requests::new();
        requests.0.fail_from.store(n, Ordering::SeqCst);
        requests
    }

    fn sent(&self) -> u64 {
        self.0.sent.load(Ordering::SeqCst)
    }

    fn body_bytes(&self) -> u64 {
        self.0.body_bytes.load(Ordering::SeqCst)
    }
}

impl aws_sdk_s3::config::Intercept for Requests {
    fn name(&self) -> &'static str {
        "braid-test-requests"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _components: &aws_sdk_s3::config::RuntimeComponents,
        _cfg: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let n = self.0.sent.fetch_add(1, Ordering::SeqCst);
        if n >= self.0.fail_from.load(Ordering::SeqCst) {
            return Err("injected failure: the process died before this request".into());
        }
        if let Some(len) = context.request().body().content_length() {
            self.0.body_bytes.fetch_add(len, Ordering::SeqCst);
        }
        Ok(())
    }
}

fn env_name() -> String {
    format!("layout-{}", uuid::Uuid::new_v4().simple())
}

fn store(name: &str, tuning: S3Tuning, requests: Option<Requests>) -> S3Store {
    S3Store::with_client(s3_location(), name, s3_client(requests)).tuned(tuning)
}

/// Compacting after every second delta, so a short script crosses a compaction.
fn compacting() -> S3Tuning {
    S3Tuning {
        compact_max_deltas: 2,
        compact_min_bytes: 0,
        ..S3Tuning::default()
    }
}

fn key(name: &str, object: &str) -> String {
    format!("tests/{name}/{object}")
}

/// Every key of the environment under `kind/`.
async fn keys(name: &str, kind: &str) -> Vec<String> {
    let listed = s3_client(None)
        .list_objects_v2()
        .bucket(MotoServer::SHARED_BUCKET)
        .prefix(key(name, kind))
        .send()
        .await
        .expect("list");
    listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect()
}

async fn head_json(name: &str) -> serde_json::Value {
    let object = s3_client(None)
        .get_object()
        .bucket(MotoServer::SHARED_BUCKET)
        .key(key(name, "state.json"))
        .send()
        .await
        .expect("get state.json");
    let bytes = object.body.collect().await.expect("body").into_bytes();
    serde_json::from_slice(&bytes).expect("state.json is JSON")
}

fn resource(address: &str, n: i64) -> ResourceRecord {
    record(address, Value::from(n.to_string()))
}

/// A commit of one resource to a state of thousands uploads about what it wrote and a small
/// head, not the state: the bytes sent per commit do not grow with the state. With the old
/// one-document layout the second half of this run would upload three times the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_upload_what_they_change_not_the_whole_state() {
    let name = env_name();
    let requests = Requests::new();
    let store = store(&name, S3Tuning::default(), Some(requests.clone()));
    let mut serial = store.meta().await.expect("meta").serial;
    const COUNT: i64 = 1600;
    let mut halves = Vec::new();
    for half in 0..2 {
        let before = requests.body_bytes();
        for n in half * COUNT / 2..(half + 1) * COUNT / 2 {
            serial = store
                .commit_resource(serial, upsert(resource(&format!("local_file.r{n}"), n)))
                .await
                .expect("commit");
        }
        halves.push(requests.body_bytes() - before);
    }
    let resources = store.resources().await.expect("resources");
    assert_eq!(resources.len(), COUNT as usize);
    let record_bytes = serde_json::to_vec(&resources[0]).expect("json").len() as u64;
    assert!(
        halves[1] < halves[0] * 3 / 2,
        "bytes uploaded by the first and second half: {halves:?}"
    );
    // A delta, a head naming at most 256 deltas, and compactions every 256 commits.
    let per_commit = halves[1] / (COUNT as u64 / 2);
    assert!(
        per_commit < 16 * 1024 + 8 * record_bytes,
        "{per_commit} bytes per commit of a {record_bytes}-byte record"
    );
    let head = head_json(&name).await;
    assert_eq!(head["format_version"], 2);
    assert!(head["snapshot"]["key"].is_string(), "compacted: {head}");
    assert!(
        head["deltas"].as_array().expect("deltas").len() < 256,
        "{head}"
    );
}

/// An object older braid wrote: every resource in `state.json`, format 1.
async fn write_format_1(name: &str) {
    let document = serde_json::json!({
        "format_version": 1,
        "lineage": "f0f0f0f0-0000-4000-8000-000000000001",
        "serial": 7,
        "next_apply_id": 3,
        "resources": {
            "local_file.old": resource("local_file.old", 1),
            "local_file.kept": resource("local_file.kept", 2),
        },
        "open_applies": [{
            "apply": {
                "id": 2, "env": "staging", "actor": "alice", "operation": "apply",
                "sources": [], "rollback_of": null, "started_at": "2026-01-01T00:00:00Z",
                "finished_at": null, "summary": {"create": 0, "update": 0, "replace": 0, "delete": 0, "import": 0, "failed": 0, "skipped": 0},
                "outcome": "running", "note": null
            },
            "changes": [change("local_file.old", ChangeAction::Create, ChangeOutcome::Applied)]
        }],
        "outputs": [{"name": "url", "value": "https://old", "sensitive": false}],
    });
    let history = finished_apply_1("local_file.kept");
    put_objects(
        name,
        [
            ("state.json", document),
            ("applies/00000000000000000001.json", history),
        ],
    )
    .await;
}

/// `applies/…1.json` as braid writes it: apply 1, finished, which created `address`.
fn finished_apply_1(address: &str) -> serde_json::Value {
    serde_json::json!({
        "apply": {
            "id": 1, "env": "staging", "actor": "bob", "operation": "apply",
            "sources": [], "rollback_of": null, "started_at": "2025-12-01T00:00:00Z",
            "finished_at": "2025-12-01T00:01:00Z",
            "summary": {"create": 1, "update": 0, "replace": 0, "delete": 0, "import": 0, "failed": 0, "skipped": 0},
            "outcome": "succeeded", "note": null
        },
        "changes": [change(address, ChangeAction::Create, ChangeOutcome::Applied)]
    })
}

async fn put_objects(name: &str, objects: [(&str, serde_json::Value); 2]) {
    let client = s3_client(None);
    for (object, body) in objects {
        client
            .put_object()
            .bucket(MotoServer::SHARED_BUCKET)
            .key(key(name, object))
            .body(serde_json::to_vec(&body).expect("json").into())
            .send()
            .await
            .unwrap_or_else(|e| panic!("put {object}: {e:?}"));
    }
}

/// A state older braid wrote reads as it is, and moves to the new layout on the first
/// write, keeping everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_format_1_state_is_read_and_migrated_on_the_first_write() {
    let name = env_name();
    write_format_1(&name).await;
    let store = store(&name, S3Tuning::default(), None);
    let before = store.export().await.expect("format 1 reads");
    assert_eq!(before.serial, 7);
    assert_eq!(before.resources.len(), 2);
    assert_eq!(before.applies.len(), 2);
    assert_eq!(before.outputs.len(), 1);
    // Reading wrote nothing.
    assert_eq!(head_json(&name).await["format_version"], 1);

    let serial = store
        .commit_resource(
            7,
            ResourceWrite {
                address: "local_file.new".into(),
                record: Some(resource("local_file.new", 3)),
                change: Some((
                    2,
                    change(
                        "local_file.new",
                        ChangeAction::Create,
                        ChangeOutcome::Applied,
                    ),
                )),
            },
        )
        .await
        .expect("the first write migrates");
    assert_eq!(serial, 8);
    let head = head_json(&name).await;
    assert_eq!(head["format_version"], 2, "{head}");
    assert_eq!(head["resources"], serde_json::json!({}), "{head}");

    let after = store_after(&name).await;
    assert_eq!(after.lineage, before.lineage);
    assert_eq!(after.resources.len(), 3);
    assert_eq!(after.outputs, before.outputs);
    let running = after
        .applies
        .iter()
        .find(|a| a.apply.id == 2)
        .expect("apply 2");
    assert_eq!(running.changes.len(), 2, "the old change and the new one");
    assert_eq!(
        after.applies[0], before.applies[0],
        "finished history untouched"
    );
    let store = self::store(&name, S3Tuning::default(), None);
    store
        .finish_apply(2, ChangeSummary::default(), ApplyOutcome::Succeeded)
        .await
        .expect("finish");
    assert_eq!(
        store.begin_apply(new_apply("apply")).await.expect("begin"),
        3
    );
}

async fn store_after(name: &str) -> braid_state::StateDump {
    store(name, S3Tuning::default(), None)
        .export()
        .await
        .expect("export")
}

/// A snapshot larger than the spool size goes up from a temporary file and reads back whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_larger_than_the_spool_size_is_uploaded_from_a_file() {
    let name = env_name();
    let tuning = S3Tuning {
        spool_size: 1 << 20,
        compact_min_bytes: 0,
        compact_max_deltas: 1,
    };
    let store = store(&name, tuning, None);
    let mut serial = store.meta().await.expect("meta").serial;
    let big = "x".repeat(3 << 20);
    for n in 0..4 {
        serial = store
            .commit_resource(
                serial,
                upsert(record(
                    &format!("local_file.big{n}"),
                    Value::from(big.clone()),
                )),
            )
            .await
            .expect("commit");
    }
    let head = head_json(&name).await;
    assert!(
        head["snapshot"]["bytes"].as_u64().expect("a snapshot") > 10 << 20,
        "{head}"
    );
    let resources = store.resources().await.expect("resources");
    assert_eq!(resources.len(), 4);
    assert!(
        resources
            .iter()
            .all(|r| r.attributes == Value::from(big.clone()))
    );
}

/// What a reader must find after a crash: the state after some number of whole steps.
#[derive(Debug, Clone, PartialEq)]
struct Expected {
    serial: u64,
    resources: BTreeMap<String, ResourceRecord>,
    outputs: Vec<OutputRecord>,
    /// Changes of apply 2 once it began (`None` before).
    changes: Option<usize>,
    finished: bool,
}

/// The script a crashing process runs, step by step, on a state with one finished apply
/// (id 1) and two resources; returns how many steps returned successfully.
async fn script(store: &S3Store, serial: u64) -> usize {
    let mut done = 0;
    let step = |ok: bool| if ok { 1 } else { 0 };
    if store.meta().await.is_err() {
        return done;
    }
    done += 1;
    let Ok(apply) = store.begin_apply(new_apply("apply")).await else {
        return done;
    };
    done += 1;
    let create = ResourceWrite {
        address: "local_file.c".into(),
        record: Some(resource("local_file.c", 3)),
        change: Some((
            apply,
            change("local_file.c", ChangeAction::Create, ChangeOutcome::Applied),
        )),
    };
    if store.commit_resources(serial, vec![create]).await.is_err() {
        return done;
    }
    done += 1;
    let writes = vec![
        ResourceWrite {
            address: "local_file.a".into(),
            record: Some(resource("local_file.a", 10)),
            change: Some((
                apply,
                change("local_file.a", ChangeAction::Update, ChangeOutcome::Applied),
            )),
        },
        ResourceWrite {
            address: "local_file.b".into(),
            record: None,
            change: Some((
                apply,
                change("local_file.b", ChangeAction::Delete, ChangeOutcome::Applied),
            )),
        },
    ];
    if store.commit_resources(serial + 1, writes).await.is_err() {
        return done;
    }
    done += 1;
    let outputs = vec![OutputRecord {
        name: "url".into(),
        value: Value::from("https://new"),
        sensitive: false,
    }];
    done += step(store.replace_outputs(serial + 3, outputs).await.is_ok());
    if done < 5 {
        return done;
    }
    let write = ResourceWrite {
        address: "local_file.d".into(),
        record: Some(resource("local_file.d", 4)),
        change: Some((
            apply,
            change("local_file.d", ChangeAction::Create, ChangeOutcome::Applied),
        )),
    };
    done += step(
        store
            .commit_resources(serial + 3, vec![write])
            .await
            .is_ok(),
    );
    if done < 6 {
        return done;
    }
    done += step(
        store
            .finish_apply(apply, ChangeSummary::default(), ApplyOutcome::Succeeded)
            .await
            .is_ok(),
    );
    done
}

/// The state after each whole step of [`script`], from the state after seeding.
fn expected_steps(seeded: &Expected) -> Vec<Expected> {
    let mut steps = vec![seeded.clone(), seeded.clone()];
    let mut state = seeded.clone();
    state.changes = Some(0);
    steps.push(state.clone()); // begin
    state.serial += 1;
    state.changes = Some(1);
    state
        .resources
        .insert("local_file.c".into(), resource("local_file.c", 3));
    steps.push(state.clone());
    state.serial += 2;
    state.changes = Some(3);
    state
        .resources
        .insert("local_file.a".into(), resource("local_file.a", 10));
    state.resources.remove("local_file.b");
    steps.push(state.clone());
    state.outputs = vec![OutputRecord {
        name: "url".into(),
        value: Value::from("https://new"),
        sensitive: false,
    }];
    steps.push(state.clone());
    state.serial += 1;
    state.changes = Some(4);
    state
        .resources
        .insert("local_file.d".into(), resource("local_file.d", 4));
    steps.push(state.clone());
    state.finished = true;
    steps.push(state);
    steps
}

/// What a healthy reader finds now.
async fn observe(name: &str) -> Expected {
    let store = store(name, S3Tuning::default(), None);
    let dump = store.export().await.expect("the state reads back");
    let second = dump.applies.iter().find(|a| a.apply.id == 2);
    Expected {
        serial: dump.serial,
        resources: dump
            .resources
            .into_iter()
            .map(|r| (r.address.clone(), r))
            .collect(),
        outputs: dump.outputs,
        changes: second.map(|a| a.changes.len()),
        finished: second.is_some_and(|a| a.apply.finished_at.is_some()),
    }
}

/// Seeds an environment: format 2 with a finished apply, or format 1 as an older braid
/// left it. Returns the serial.
async fn seed(name: &str, format_1: bool) -> u64 {
    if format_1 {
        let document = serde_json::json!({
            "format_version": 1,
            "lineage": "f0f0f0f0-0000-4000-8000-000000000002",
            "serial": 2,
            "next_apply_id": 2,
            "resources": {
                "local_file.a": resource("local_file.a", 1),
                "local_file.b": resource("local_file.b", 2),
            },
            "open_applies": [],
        });
        let history = finished_apply_1("local_file.a");
        put_objects(
            name,
            [
                ("state.json", document),
                ("applies/00000000000000000001.json", history),
            ],
        )
        .await;
        return 2;
    }
    let store = store(name, compacting(), None);
    let apply = store.begin_apply(new_apply("apply")).await.expect("begin");
    let writes = ["local_file.a", "local_file.b"]
        .iter()
        .enumerate()
        .map(|(n, address)| ResourceWrite {
            address: address.to_string(),
            record: Some(resource(address, n as i64 + 1)),
            change: Some((
                apply,
                change(address, ChangeAction::Create, ChangeOutcome::Applied),
            )),
        })
        .collect();
    let serial = store.commit_resources(0, writes).await.expect("commit");
    store
        .finish_apply(apply, ChangeSummary::default(), ApplyOutcome::Succeeded)
        .await
        .expect("finish");
    serial
}

/// Kills the script after 0, 1, 2… requests until it runs to the end, and checks after each
/// kill that the state is the one before or after the step it died in, and that a healthy
/// process carries on from it and leaves no object behind that no head names.
async fn die_between_any_two_requests(format_1: bool) {
    let mut n = 0;
    loop {
        let name = env_name();
        let serial = seed(&name, format_1).await;
        let seeded = observe(&name).await;
        let steps = expected_steps(&seeded);
        let requests = Requests::failing_from(n);
        let crashing = store(&name, compacting(), Some(requests.clone()));
        let done = script(&crashing, serial).await;
        drop(crashing);
        let found = observe(&name).await;
        let candidates = &steps[done..(done + 2).min(steps.len())];
        assert!(
            candidates.contains(&found),
            "killed before request {n} in step {done} ({}format 1): found\n{found:#?}\nexpected one of\n{candidates:#?}",
            if format_1 { "" } else { "not " }
        );
        // The next process carries on.
        let healthy = store(&name, compacting(), None);
        let serial = healthy.meta().await.expect("meta").serial;
        assert_eq!(serial, found.serial);
        if found.changes.is_some() && !found.finished {
            healthy
                .finish_apply(2, ChangeSummary::default(), ApplyOutcome::Failed)
                .await
                .expect("finish the apply the crash left running");
        }
        let next = healthy
            .commit_resource(serial, upsert(resource("local_file.after", 9)))
            .await
            .expect("a commit after the crash");
        assert_eq!(next, serial + 1);
        healthy.compact().await.expect("compact");
        let head = head_json(&name).await;
        let named: Vec<String> = head["snapshot"]["key"]
            .as_str()
            .into_iter()
            .chain(
                head["deltas"]
                    .as_array()
                    .expect("deltas")
                    .iter()
                    .filter_map(|d| d["key"].as_str()),
            )
            .map(|k| key(&name, k))
            .collect();
        let mut left = keys(&name, "log/").await;
        left.extend(keys(&name, "snapshots/").await);
        left.sort();
        let mut expected = named.clone();
        expected.sort();
        assert_eq!(
            left, expected,
            "objects after compaction (killed before request {n})"
        );
        assert_eq!(
            observe(&name).await.resources.len(),
            found.resources.len() + 1
        );
        if done == steps.len() - 1 {
            assert!(
                requests.sent() <= n,
                "the whole script ran in {} requests",
                requests.sent()
            );
            break;
        }
        n += 1;
        assert!(n < 200, "the script never finished");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_between_any_two_requests_leaves_a_consistent_state() {
    die_between_any_two_requests(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_while_migrating_a_format_1_state_leaves_a_consistent_state() {
    die_between_any_two_requests(true).await;
}

/// A head written by a newer braid is refused by every read and write, and left as it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_format_is_refused_and_left_alone() {
    let name = env_name();
    let newer = serde_json::json!({
        "format_version": 3,
        "lineage": "f0f0f0f0-0000-4000-8000-000000000003",
        "serial": 1,
        "what_a_newer_braid_keeps": {},
    });
    put_objects(
        &name,
        [
            ("state.json", newer.clone()),
            ("documents/unrelated", serde_json::json!({})),
        ],
    )
    .await;
    let store = store(&name, S3Tuning::default(), None);
    let refused = |result: Result<(), braid_state::StateError>| match result {
        Err(braid_state::StateError::NewerSchema {
            found, supported, ..
        }) => {
            assert_eq!((found, supported), (3, 2));
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    };
    refused(store.meta().await.map(|_| ()));
    refused(store.resources().await.map(|_| ()));
    refused(
        store
            .commit_resource(1, upsert(resource("local_file.x", 1)))
            .await
            .map(|_| ()),
    );
    refused(store.begin_apply(new_apply("apply")).await.map(|_| ()));
    assert_eq!(head_json(&name).await, newer);
}
