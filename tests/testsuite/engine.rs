//! Engine tests: braid used as a library, with a scripted `fake` provider injected through
//! the provider registry and real SQLite state. They cover what the built-in providers
//! cannot be made to do on demand: inconsistent results, plans that change between review
//! and apply, vanished import targets, create-before-destroy ordering, state writes that
//! fail mid-apply, and cancellation.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use braid::apply::{ApplyObserver, CancelToken, ChangeResult, LockObserver, SilentObserver};
use braid::ops::{self, Prepared, RunOptions};
use braid::plan::{Action, Plan, PlanObserver, PlanOptions};
use braid::providers::ProviderRegistry;
use braid::workspace::{LoadOptions, Workspace};
use braid_provider::{
    ApplyRequest, ApplyResponse, AttributeSchema, AttributeType, ImportRequest, ImportResponse,
    Path, PlanRequest, PlanResponse, Provider, ProviderDiagnostic, ProviderSchema, ReadRequest,
    ReadResponse, ResourceSchema, Use, Value,
};
use braid_state::{
    ApplyId, ApplyRecord, ChangeRecord, LockInfo, LockRequest, ResourceRecord, ResourceWrite,
    SqliteStore, StateDump, StateError, StateMeta, StateStore,
};
use tokio::sync::Notify;

/// How the fake provider misbehaves; tests flip these between plan and apply.
#[derive(Default)]
struct Script {
    /// Appended to `value` when planning: changing it between plan and apply makes the
    /// plan at apply time differ from the reviewed one.
    plan_suffix: String,
    /// Apply returns `value` with this appended instead of what was planned.
    apply_suffix: Option<String>,
    /// Addresses whose objects exist live without being in state (an import).
    live_objects: BTreeMap<String, Value>,
    /// Apply of this address waits until `release` is notified.
    block_address: Option<String>,
}

/// A provider of `fake_thing` whose behaviour the test scripts, logging every call.
#[derive(Default)]
struct FakeProvider {
    script: Mutex<Script>,
    calls: Mutex<Vec<String>>,
    release: Notify,
    started: Notify,
    next_id: AtomicUsize,
}

impl FakeProvider {
    fn script(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script.lock().expect("script lock")
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().expect("calls lock").clone()
    }

    fn log(&self, call: String) {
        self.calls.lock().expect("calls lock").push(call);
    }
}

fn thing(value: &str, key: &Value, id: Value) -> Value {
    Value::map([
        ("value", Value::from(value)),
        ("key", key.clone()),
        ("id", id),
    ])
}

#[async_trait]
impl Provider for FakeProvider {
    fn name(&self) -> &str {
        "fake"
    }

    fn schema(&self) -> ProviderSchema {
        let thing = ResourceSchema::new("A scripted thing.")
            .attribute(
                "value",
                AttributeSchema::new(AttributeType::String, Use::Required, "Its value."),
            )
            .attribute(
                "key",
                AttributeSchema::new(AttributeType::String, Use::Optional, "Replaces it.")
                    .force_new(),
            )
            .attribute(
                "id",
                AttributeSchema::new(AttributeType::String, Use::Computed, "Its id."),
            );
        ProviderSchema {
            config: ResourceSchema::new("No settings."),
            resources: [("fake_thing".to_string(), thing)].into_iter().collect(),
            data_sources: Default::default(),
        }
    }

    async fn configure(&self, _config: Value) -> Vec<ProviderDiagnostic> {
        Vec::new()
    }

    async fn read(&self, request: ReadRequest) -> ReadResponse {
        ReadResponse {
            state: Some(request.current),
            diagnostics: Vec::new(),
        }
    }

    async fn plan(&self, request: PlanRequest) -> PlanResponse {
        let script = self.script();
        let value = format!(
            "{}{}",
            request
                .config
                .attr("value")
                .and_then(Value::as_str)
                .unwrap_or(""),
            script.plan_suffix
        );
        let key = request.config.attr("key").cloned().unwrap_or_default();
        let existing = match &request.prior {
            None => script.live_objects.get(&request.address).cloned(),
            Some(_) => None,
        };
        let prior = request.prior.as_ref().or(existing.as_ref());
        let id = prior
            .and_then(|p| p.attr("id").cloned())
            .unwrap_or(Value::Unknown);
        let requires_replace = match prior {
            Some(p) if p.attr("key") != Some(&key) => vec![Path::key("key")],
            _ => Vec::new(),
        };
        let id = if requires_replace.is_empty() {
            id
        } else {
            Value::Unknown
        };
        PlanResponse {
            planned: thing(&value, &key, id),
            requires_replace,
            existing,
            ..PlanResponse::default()
        }
    }

    async fn apply(&self, request: ApplyRequest) -> ApplyResponse {
        let Some(planned) = request.planned else {
            self.log(format!("delete {}", request.address));
            return ApplyResponse::default();
        };
        let block = self.script().block_address.as_deref() == Some(request.address.as_str());
        if block {
            self.started.notify_one();
            self.release.notified().await;
        }
        let verb = if request.prior.is_some() {
            "update"
        } else {
            "create"
        };
        self.log(format!("{verb} {}", request.address));
        let mut state = planned.clone();
        if state.attr("id") == Some(&Value::Unknown) {
            let n = self.next_id.fetch_add(1, Ordering::SeqCst);
            state.set(&Path::key("id"), Value::from(format!("fake-{n}").as_str()));
        }
        if let Some(suffix) = self.script().apply_suffix.clone() {
            let value = planned.attr("value").and_then(Value::as_str).unwrap_or("");
            state.set(
                &Path::key("value"),
                Value::from(format!("{value}{suffix}").as_str()),
            );
        }
        ApplyResponse {
            new_state: Some(state),
            diagnostics: Vec::new(),
        }
    }

    async fn import(&self, _request: ImportRequest) -> ImportResponse {
        ImportResponse::default()
    }
}

/// A project in a temporary directory with `main.hcl`, its fake provider and its state.
struct Fixture {
    dir: tempfile::TempDir,
    provider: Arc<FakeProvider>,
    registry: ProviderRegistry,
}

impl Fixture {
    fn new(main_hcl: &str) -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("braid.hcl"),
            "source \"infra\" { path = \".\" }\nenvironment \"dev\" {}\n",
        )
        .expect("write braid.hcl");
        let fixture = Fixture {
            dir,
            provider: Arc::new(FakeProvider::default()),
            registry: ProviderRegistry::new(),
        };
        fixture.write(main_hcl);
        let mut fixture = fixture;
        fixture
            .registry
            .register_instance("fake", fixture.provider.clone());
        fixture
    }

    fn write(&self, main_hcl: &str) {
        std::fs::write(self.dir.path().join("main.hcl"), main_hcl).expect("write main.hcl");
    }

    fn load_options(&self) -> LoadOptions {
        LoadOptions {
            dir: self.dir.path().to_path_buf(),
            env: Some("dev".to_string()),
            ..LoadOptions::default()
        }
    }

    async fn prepare(&self) -> Prepared {
        ops::prepare(&self.registry, &self.load_options())
            .await
            .unwrap_or_else(|d| panic!("prepare failed: {d:?}"))
    }

    async fn prepare_with_store(&self, store: Arc<dyn StateStore>) -> Prepared {
        let ws = Workspace::load(&self.load_options()).expect("load");
        ops::prepare_with_store(&self.registry, ws, store)
            .await
            .unwrap_or_else(|d| panic!("prepare failed: {d:?}"))
    }

    async fn plan(&self, prepared: &Prepared) -> Plan {
        ops::plan(prepared, &PlanOptions::default(), &SilentObserver)
            .await
            .unwrap_or_else(|d| panic!("plan failed: {d:?}"))
    }

    async fn apply_ok(&self) -> ops::RunOutcome {
        let prepared = self.prepare().await;
        let mut yes = |_: &Plan| Ok(true);
        let outcome = ops::apply(&prepared, &RunOptions::default(), &mut yes, &SilentObserver)
            .await
            .unwrap_or_else(|d| panic!("apply failed: {d:?}"));
        assert!(outcome.succeeded(), "apply did not succeed: {outcome:?}");
        outcome
    }

    fn state_path(&self) -> std::path::PathBuf {
        self.dir.path().join(".braid/state/dev.db")
    }
}

/// Applies `plan` as reviewed earlier (the provider may have changed its mind since).
async fn execute_reviewed(prepared: &Prepared, plan: Plan) -> ops::RunOutcome {
    ops::execute(
        prepared,
        plan,
        ops::Operation::Apply,
        &RunOptions::default(),
        &SilentObserver,
    )
    .await
    .expect("apply runs")
}

fn failure<'a>(outcome: &'a ops::RunOutcome, address: &str) -> &'a ChangeResult {
    let report = outcome.report.as_ref().expect("the plan was applied");
    report
        .results
        .iter()
        .find(|r| r.address == address)
        .unwrap_or_else(|| panic!("no result for {address}: {:?}", report.results))
}

#[tokio::test]
async fn inconsistent_provider_result_fails_the_change_and_keeps_the_real_state() {
    let fx = Fixture::new("resource \"fake_thing\" \"a\" { value = \"one\" }\n");
    let prepared = fx.prepare().await;
    let plan = fx.plan(&prepared).await;
    fx.provider.script().apply_suffix = Some("-surprise".to_string());
    let outcome = execute_reviewed(&prepared, plan).await;
    let result = failure(&outcome, "fake_thing.a");
    assert_eq!(result.outcome, braid_state::ChangeOutcome::Failed);
    let summary = &result.diagnostics[0].summary;
    assert_eq!(summary, "Provider produced an inconsistent result");
    assert!(result.diagnostics[0].detail.contains("value"), "{result:?}");
    // What the provider really made is in state, so nothing is lost.
    let record = prepared
        .store
        .resource("fake_thing.a")
        .await
        .expect("read state")
        .expect("the object the provider made is recorded");
    assert_eq!(
        record.attributes.attr("value"),
        Some(&Value::from("one-surprise"))
    );
    assert!(!outcome.succeeded());
}

#[tokio::test]
async fn plan_that_changed_since_review_is_refused_per_change() {
    let fx = Fixture::new("resource \"fake_thing\" \"a\" { value = \"one\" }\n");
    let prepared = fx.prepare().await;
    let plan = fx.plan(&prepared).await;
    fx.provider.script().plan_suffix = "-changed".to_string();
    let outcome = execute_reviewed(&prepared, plan).await;
    let result = failure(&outcome, "fake_thing.a");
    assert_eq!(result.diagnostics[0].summary, "Plan no longer matches");
    assert!(
        fx.provider.calls().is_empty(),
        "nothing may be applied: {:?}",
        fx.provider.calls()
    );
    assert!(
        prepared
            .store
            .resource("fake_thing.a")
            .await
            .expect("state")
            .is_none()
    );
}

#[tokio::test]
async fn import_target_that_vanished_is_an_error() {
    let fx = Fixture::new("resource \"fake_thing\" \"a\" { value = \"one\" }\n");
    fx.provider.script().live_objects.insert(
        "fake_thing.a".to_string(),
        thing("one", &Value::Null, Value::from("live-1")),
    );
    let prepared = fx.prepare().await;
    let plan = fx.plan(&prepared).await;
    assert_eq!(
        plan.change("fake_thing.a").map(|c| c.action),
        Some(Action::Import)
    );
    fx.provider.script().live_objects.clear();
    let outcome = execute_reviewed(&prepared, plan).await;
    let result = failure(&outcome, "fake_thing.a");
    assert_eq!(result.diagnostics[0].summary, "Object to import is gone");
    assert!(
        prepared
            .store
            .resource("fake_thing.a")
            .await
            .expect("state")
            .is_none()
    );
}

#[tokio::test]
async fn create_before_destroy_creates_the_new_object_first() {
    let fx = Fixture::new(
        "resource \"fake_thing\" \"a\" {\n  value = \"one\"\n  key = \"k1\"\n  lifecycle { create_before_destroy = true }\n}\n",
    );
    fx.apply_ok().await;
    fx.write("resource \"fake_thing\" \"a\" {\n  value = \"one\"\n  key = \"k2\"\n  lifecycle { create_before_destroy = true }\n}\n");
    let before = fx.provider.calls().len();
    let outcome = fx.apply_ok().await;
    assert_eq!(
        outcome.plan.change("fake_thing.a").map(|c| c.action),
        Some(Action::Replace)
    );
    let calls = fx.provider.calls()[before..].to_vec();
    assert_eq!(calls, vec!["create fake_thing.a", "delete fake_thing.a"]);

    // Without it, the old object goes first.
    fx.write("resource \"fake_thing\" \"a\" {\n  value = \"one\"\n  key = \"k3\"\n}\n");
    let before = fx.provider.calls().len();
    fx.apply_ok().await;
    let calls = fx.provider.calls()[before..].to_vec();
    assert_eq!(calls, vec!["delete fake_thing.a", "create fake_thing.a"]);
}

/// SQLite state whose resource commits fail from the `fail_from`-th on.
struct FailingStore {
    inner: SqliteStore,
    commits: AtomicUsize,
    fail_from: usize,
}

#[async_trait]
impl StateStore for FailingStore {
    fn location(&self) -> String {
        self.inner.location()
    }
    async fn meta(&self) -> Result<StateMeta, StateError> {
        self.inner.meta().await
    }
    async fn resources(&self) -> Result<Vec<ResourceRecord>, StateError> {
        self.inner.resources().await
    }
    async fn resource(&self, address: &str) -> Result<Option<ResourceRecord>, StateError> {
        self.inner.resource(address).await
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
        if self.commits.fetch_add(1, Ordering::SeqCst) + 1 >= self.fail_from {
            return Err(StateError::Refused(
                "disk full (injected by the test)".to_string(),
            ));
        }
        self.inner.commit_resources(expected_serial, writes).await
    }
    async fn outputs(&self) -> Result<Vec<braid_state::OutputRecord>, StateError> {
        self.inner.outputs().await
    }
    async fn replace_outputs(
        &self,
        expected_serial: u64,
        outputs: Vec<braid_state::OutputRecord>,
    ) -> Result<(), StateError> {
        self.inner.replace_outputs(expected_serial, outputs).await
    }
    async fn begin_apply(&self, apply: braid_state::NewApply) -> Result<ApplyId, StateError> {
        self.inner.begin_apply(apply).await
    }
    async fn finish_apply(
        &self,
        id: ApplyId,
        summary: braid_state::ChangeSummary,
        outcome: braid_state::ApplyOutcome,
    ) -> Result<(), StateError> {
        self.inner.finish_apply(id, summary, outcome).await
    }
    async fn applies(&self, limit: usize) -> Result<Vec<ApplyRecord>, StateError> {
        self.inner.applies(limit).await
    }
    async fn apply_record(&self, id: ApplyId) -> Result<Option<ApplyRecord>, StateError> {
        self.inner.apply_record(id).await
    }
    async fn changes(&self, id: ApplyId) -> Result<Vec<ChangeRecord>, StateError> {
        self.inner.changes(id).await
    }
    async fn lock(&self, request: LockRequest) -> Result<LockInfo, StateError> {
        self.inner.lock(request).await
    }
    async fn current_lock(&self) -> Result<Option<LockInfo>, StateError> {
        self.inner.current_lock().await
    }
    async fn document(&self, name: &str) -> Result<Option<braid_state::Document>, StateError> {
        self.inner.document(name).await
    }
    async fn documents(&self, prefix: &str) -> Result<Vec<braid_state::Document>, StateError> {
        self.inner.documents(prefix).await
    }
    async fn document_names(&self, prefix: &str) -> Result<Vec<String>, StateError> {
        self.inner.document_names(prefix).await
    }
    async fn put_document(
        &self,
        name: &str,
        body: &[u8],
        precondition: braid_state::Precondition<'_>,
    ) -> Result<String, StateError> {
        self.inner.put_document(name, body, precondition).await
    }
    async fn delete_document(
        &self,
        name: &str,
        precondition: braid_state::Precondition<'_>,
    ) -> Result<(), StateError> {
        self.inner.delete_document(name, precondition).await
    }
    async fn heartbeat(&self, lock_id: &str) -> Result<(), StateError> {
        self.inner.heartbeat(lock_id).await
    }
    async fn unlock(&self, lock_id: &str) -> Result<(), StateError> {
        self.inner.unlock(lock_id).await
    }
    async fn steal_lock(
        &self,
        expected_id: &str,
        request: LockRequest,
    ) -> Result<LockInfo, StateError> {
        self.inner.steal_lock(expected_id, request).await
    }
    async fn replace_state(
        &self,
        expected_serial: u64,
        dump: &StateDump,
    ) -> Result<(), StateError> {
        self.inner.replace_state(expected_serial, dump).await
    }
}

#[tokio::test]
async fn failed_state_commit_stops_dependents_and_is_reported() {
    let fx = Fixture::new(
        "resource \"fake_thing\" \"a\" { value = \"one\" }\nresource \"fake_thing\" \"b\" { value = fake_thing.a.id }\n",
    );
    let store = Arc::new(FailingStore {
        inner: SqliteStore::open(&fx.state_path()).expect("open state"),
        commits: AtomicUsize::new(0),
        fail_from: 1,
    });
    let prepared = fx.prepare_with_store(store.clone()).await;
    let mut yes = |_: &Plan| Ok(true);
    let outcome = ops::apply(&prepared, &RunOptions::default(), &mut yes, &SilentObserver)
        .await
        .expect("apply runs");
    let a = failure(&outcome, "fake_thing.a");
    assert_eq!(a.outcome, braid_state::ChangeOutcome::Failed);
    assert_eq!(a.diagnostics[0].summary, "Cannot write state");
    let b = failure(&outcome, "fake_thing.b");
    assert_eq!(b.outcome, braid_state::ChangeOutcome::Skipped);
    assert_eq!(
        fx.provider.calls(),
        vec!["create fake_thing.a"],
        "b must not start"
    );
    let report = outcome.report.as_ref().expect("report");
    assert!(!report.succeeded());
    // The audit records of the failure and the skip could not be written either: that is
    // reported, not dropped.
    assert!(
        report
            .errors
            .iter()
            .any(|d| d.summary == "Cannot write state"),
        "{:?}",
        report.errors
    );
    // The lock is released and state is still readable.
    assert!(store.current_lock().await.expect("lock").is_none());
    assert!(store.resources().await.expect("resources").is_empty());
}

/// Counts what the observer saw.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<String>>,
}

impl PlanObserver for Recorder {
    fn refreshed(&self, address: &str, _drift: Option<braid::plan::DriftKind>) {
        self.events
            .lock()
            .expect("events")
            .push(format!("refreshed {address}"));
    }
    fn planned(&self, change: &braid::plan::ResourceChange) {
        self.events.lock().expect("events").push(format!(
            "planned {} {}",
            change.address,
            change.action.as_str()
        ));
    }
}
impl LockObserver for Recorder {}
impl ApplyObserver for Recorder {
    fn started(&self, change: &braid::plan::ResourceChange) {
        self.events
            .lock()
            .expect("events")
            .push(format!("started {}", change.address));
    }
    fn finished(&self, result: &ChangeResult) {
        self.events
            .lock()
            .expect("events")
            .push(format!("finished {} {:?}", result.address, result.outcome));
    }
}

#[tokio::test]
async fn cancellation_finishes_changes_in_flight_records_them_and_releases_the_lock() {
    let fx = Fixture::new(
        "resource \"fake_thing\" \"a\" { value = \"one\" }\nresource \"fake_thing\" \"b\" { value = \"two\" }\nresource \"fake_thing\" \"c\" { value = fake_thing.a.id }\n",
    );
    fx.provider.script().block_address = Some("fake_thing.a".to_string());
    let prepared = fx.prepare().await;
    let cancel = CancelToken::new();
    let options = RunOptions {
        parallelism: 1,
        cancel: cancel.clone(),
        ..RunOptions::default()
    };
    let recorder = Recorder::default();
    let provider = fx.provider.clone();
    let canceller = async {
        provider.started.notified().await;
        cancel.cancel();
        provider.release.notify_one();
    };
    let mut yes = |_: &Plan| Ok(true);
    let (outcome, ()) = tokio::join!(
        ops::apply(&prepared, &options, &mut yes, &recorder),
        canceller
    );
    let outcome = outcome.expect("apply runs");
    let report = outcome.report.as_ref().expect("report");
    assert!(report.cancelled);
    assert!(!outcome.succeeded());
    // a was in flight: it finished and is in state.
    assert_eq!(
        failure(&outcome, "fake_thing.a").outcome,
        braid_state::ChangeOutcome::Applied
    );
    assert!(
        prepared
            .store
            .resource("fake_thing.a")
            .await
            .expect("state")
            .is_some()
    );
    // b and c never started, and say why.
    for address in ["fake_thing.b", "fake_thing.c"] {
        let r = failure(&outcome, address);
        assert_eq!(r.outcome, braid_state::ChangeOutcome::Skipped, "{address}");
        assert_eq!(
            r.skipped_because.as_deref(),
            Some("not started: the apply was interrupted"),
            "{address}"
        );
    }
    assert_eq!(fx.provider.calls(), vec!["create fake_thing.a"]);
    assert!(prepared.store.current_lock().await.expect("lock").is_none());
    let history = prepared.store.applies(1).await.expect("history");
    assert_eq!(history[0].outcome, braid_state::ApplyOutcome::Failed);
    // Plan and apply events were reported.
    let events = recorder.events.lock().expect("events").clone();
    assert!(
        events.contains(&"planned fake_thing.a create".to_string()),
        "{events:?}"
    );
    assert!(
        events.contains(&"started fake_thing.a".to_string()),
        "{events:?}"
    );
    assert!(
        !events.contains(&"started fake_thing.b".to_string()),
        "{events:?}"
    );

    // The next apply finishes the job.
    fx.provider.script().block_address = None;
    let outcome = fx.apply_ok().await;
    assert_eq!(outcome.plan.summary().create, 2);
}

#[tokio::test]
async fn registry_offers_only_what_was_registered() {
    let fx = Fixture::new("resource \"local_value\" \"a\" { input = {} }\n");
    let err = match ops::prepare(&fx.registry, &fx.load_options()).await {
        Ok(_) => panic!("local is not registered"),
        Err(d) => d,
    };
    assert_eq!(err.0[0].summary, "Unknown provider");
    assert!(
        err.0[0].detail.contains("Available providers: fake."),
        "{err:?}"
    );
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// An agent calls the same operations again and again in one process: every round
/// plans, applies and releases its lock, and nothing accumulates (open files, memory).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_operations_in_one_process_leak_no_locks_files_or_memory() {
    let fx = Fixture::new("resource \"fake_thing\" \"a\" { value = \"v0\" }\n");
    let mut baseline = None;
    for round in 0..40 {
        fx.write(&format!(
            "resource \"fake_thing\" \"a\" {{ value = \"v{round}\" }}\nresource \"fake_thing\" \"b\" {{ value = fake_thing.a.value }}\n"
        ));
        let prepared = fx.prepare().await;
        let drift = ops::drift(&prepared, 4, &SilentObserver)
            .await
            .expect("drift");
        assert!(drift.drift.is_empty());
        let mut yes = |_: &Plan| Ok(true);
        let outcome = ops::apply(&prepared, &RunOptions::default(), &mut yes, &SilentObserver)
            .await
            .unwrap_or_else(|d| panic!("round {round}: {d:?}"));
        assert!(outcome.succeeded(), "round {round}: {outcome:?}");
        assert!(
            prepared.store.current_lock().await.expect("lock").is_none(),
            "round {round} left the lock"
        );
        drop(prepared);
        if round == 5 {
            baseline = Some((open_fds(), rss_kib()));
        }
    }
    let (fds, rss) = baseline.expect("baseline taken");
    assert!(
        open_fds() <= fds + 2,
        "open files grew from {fds} to {}",
        open_fds()
    );
    assert!(
        rss_kib() < rss + 64 * 1024,
        "memory grew from {rss} KiB to {} KiB",
        rss_kib()
    );
    let prepared = fx.prepare().await;
    let history = prepared.store.applies(100).await.expect("history");
    assert_eq!(history.len(), 40);
    assert!(
        history
            .iter()
            .all(|a| a.outcome == braid_state::ApplyOutcome::Succeeded)
    );
}
