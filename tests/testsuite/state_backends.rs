//! The state backends through the real `braid` binary: SQLite files, a PostgreSQL server
//! started for the tests, and moto's S3. Each scenario runs against every backend:
//! two concurrent applies on one environment, an apply killed mid-walk, a stale lock taken
//! over, and migrating state between backends and back.
//!
//! Run with `cargo test -p braid --test testsuite state_backends::`. Postgres and moto are
//! started by `braid-testkit`, once for the binary; without them the tests fail.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::common::{self, Project, Run, spawn_braid, wait_braid};
use braid_state::{PostgresStore, S3Location, S3Store, SqliteStore, StateStore};
use braid_testkit::{KubeSim, MOTO_CREDENTIALS, MotoServer, Postgres, kubesim_config};

/// A project on one backend: its `state` block, the environment it needs, and a handle on
/// the same state for the test to look at.
struct Setup {
    project: Project,
    env: Vec<(&'static str, String)>,
    store: Arc<dyn StateStore>,
}

#[derive(Debug, Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
    S3,
}

/// `count` independent `local_value`s: with `--parallelism 1` an apply takes a while and
/// commits one by one.
fn many_values(count: usize) -> String {
    (0..count)
        .map(|i| format!("resource \"local_value\" \"v{i:04}\" {{\n  input = \"value {i}\"\n}}\n"))
        .collect()
}

/// `count` values in a chain, each needing the one before: an apply commits them one at a
/// time, each only once the one before is durable, so it is slow enough to be killed
/// half-way (independent values go into a few large commits).
fn chained_values(count: usize) -> String {
    (0..count)
        .map(|i| match i {
            0 => "resource \"local_value\" \"v0000\" {\n  input = \"value 0\"\n}\n".to_string(),
            _ => format!(
                "resource \"local_value\" \"v{i:04}\" {{\n  input = \"value {i} after ${{local_value.v{:04}.output}}\"\n}}\n",
                i - 1
            ),
        })
        .collect()
}

/// The `state { ... }` block and extra environment for `backend`, for environment `env`.
fn state_block(backend: Backend, dir: &std::path::Path) -> (String, Vec<(&'static str, String)>) {
    match backend {
        Backend::Sqlite => (
            format!(
                "state {{\n    backend = \"sqlite\"\n    path = \"{}\"\n  }}",
                dir.join("state.db").display()
            ),
            vec![],
        ),
        Backend::Postgres => {
            let url = Postgres::shared().url.clone();
            (
                "state {\n    backend = \"postgres\"\n    url = env(\"BRAID_STATE_URL\")\n  }"
                    .to_string(),
                vec![("BRAID_STATE_URL", url)],
            )
        }
        Backend::S3 => {
            let endpoint = MotoServer::shared().endpoint();
            let prefix = format!("cli-{}/", uuid::Uuid::new_v4().simple());
            (
                format!(
                    "state {{\n    backend = \"s3\"\n    bucket = \"{}\"\n    prefix = \"{prefix}\"\n    endpoint = \"{}\"\n  }}",
                    MotoServer::SHARED_BUCKET,
                    endpoint
                ),
                MOTO_CREDENTIALS
                    .iter()
                    .chain(&[("AWS_REGION", "us-east-1")])
                    .map(|(k, v)| (*k, v.to_string()))
                    .collect(),
            )
        }
    }
}

/// A store on the same state the project uses, opened by the test itself.
fn open_store(backend: Backend, project: &Project, env_name: &str) -> Arc<dyn StateStore> {
    match backend {
        Backend::Sqlite => Arc::new(SqliteStore::open(&project.join("state.db")).expect("open")),
        Backend::Postgres => {
            Arc::new(PostgresStore::new(&Postgres::shared().url, env_name).expect("postgres url"))
        }
        Backend::S3 => {
            let endpoint = MotoServer::shared().endpoint();
            let text = project.read("braid.hcl");
            let prefix = text
                .split("prefix = \"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .expect("prefix in braid.hcl")
                .to_string();
            let config = s3_client(&endpoint);
            Arc::new(S3Store::with_client(
                S3Location {
                    bucket: MotoServer::SHARED_BUCKET.to_string(),
                    prefix,
                    region: Some("us-east-1".to_string()),
                    endpoint: Some(endpoint),
                },
                env_name,
                config,
            ))
        }
    }
}

fn s3_client(endpoint: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::new()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

impl Setup {
    fn new(backend: Backend, main_hcl: &str) -> Setup {
        let project = Project::with_files(&[("main.hcl", main_hcl)]);
        let env_name = format!("ci{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let (block, env) = state_block(backend, project.path());
        project.write(
            "braid.hcl",
            &format!("source \"infra\" {{ path = \".\" }}\n\nenvironment \"{env_name}\" {{\n  {block}\n}}\n"),
        );
        let store = open_store(backend, &project, &env_name);
        Setup {
            project,
            env,
            store,
        }
    }

    fn env<'a>(&'a self, extra: &[(&'static str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        self.env
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .chain(extra.iter().copied())
            .collect()
    }

    fn braid(&self, args: &[&str], extra: &[(&'static str, &str)]) -> Run {
        self.project.braid_env(args, &self.env(extra))
    }

    fn spawn(&self, args: &[&str], extra: &[(&'static str, &str)]) -> std::process::Child {
        spawn_braid(self.project.path(), args, &self.env(extra))
    }

    async fn wait_until(&self, what: &str, mut done: impl AsyncFnMut(&dyn StateStore) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !done(self.store.as_ref()).await {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

const RESOURCES: usize = 150;

async fn two_concurrent_applies(backend: Backend) {
    let count = 3 * RESOURCES;
    let setup = Setup::new(backend, &many_values(count));
    // The first apply ends with a Deployment that becomes ready only after a few seconds
    // (kubesim's ready delay; Kubernetes objects run after the local values), so it still
    // holds the lock however fast the machine applies the rest.
    let sim = tokio::task::spawn_blocking(|| {
        KubeSim::start_with(kubesim::Config {
            ready_delay: Duration::from_secs(4),
            ..kubesim_config()
        })
    })
    .await
    .expect("start kubesim");
    let hcl = setup.project.read("braid.hcl");
    setup.project.write(
        "braid.hcl",
        &format!(
            "{hcl}\nprovider \"kubernetes\" {{\n  kubeconfig = \"{}\"\n}}\n",
            sim.kubeconfig()
        ),
    );
    setup.project.write("gate.yaml", GATE_DEPLOYMENT);
    // The second writer applies a saved plan: it goes straight for the lock, with no
    // planning in between that could let the first apply finish first.
    setup
        .braid(&["plan", "--out", "second.plan"], &[])
        .expect_code(0);
    let first = setup.spawn(
        &["-q", "apply", "--auto-approve", "--parallelism", "1"],
        &[("BRAID_ACTOR", "alice")],
    );
    setup
        .wait_until("the first apply holds the lock", async |s| {
            s.current_lock().await.expect("lock").is_some()
        })
        .await;
    let second = setup.braid(&["apply", "second.plan"], &[("BRAID_ACTOR", "bob")]);
    second.failure();
    assert!(
        second.stderr.contains("State is locked"),
        "{}",
        second.stderr
    );
    assert!(
        second.stderr.contains("apply by alice"),
        "{}",
        second.stderr
    );
    wait_braid(first).success();
    let listed = setup.braid(&["state", "list"], &[]);
    listed.success();
    assert_eq!(listed.stdout.lines().count(), count + 1);
    assert_eq!(setup.store.current_lock().await.expect("lock"), None);
    let history = setup.store.applies(10).await.expect("history");
    assert_eq!(history.len(), 1, "only the first apply ran");
    assert_eq!(history[0].actor, "alice");
    tokio::task::spawn_blocking(move || drop(sim))
        .await
        .expect("stop kubesim");
}

/// A Deployment: kubesim reports it ready only after its ready delay.
const GATE_DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: gate
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels: { app: gate }
  template:
    metadata:
      labels: { app: gate }
    spec:
      containers:
        - name: gate
          image: busybox:1.36
";

async fn killed_apply_then_plan_and_steal(backend: Backend) {
    let setup = Setup::new(backend, &chained_values(RESOURCES));
    // The apply runs as if on another machine: from here its death can only be told by
    // the heartbeat stopping (a dead process on this machine is handled at once; see
    // cli_commands::a_lock_left_by_a_dead_process_on_this_machine_is_taken_over).
    let mut apply = setup.spawn(
        &["-q", "apply", "--auto-approve", "--parallelism", "1"],
        &[("HOSTNAME", "another-runner")],
    );
    setup
        .wait_until("the first results are committed", async |s| {
            !s.resources().await.expect("resources").is_empty()
        })
        .await;
    apply.kill().expect("SIGKILL the apply");
    let _ = apply.wait();
    let committed = setup.store.resources().await.expect("resources").len();
    assert!(
        committed > 0 && committed < RESOURCES,
        "{committed} committed"
    );
    // The plan shows exactly what is missing: committed results are not planned again.
    let plan = setup.braid(&["plan", "--format", "json"], &[]);
    plan.success();
    let creates = common::addresses_with_action(&plan.json(), "create").len();
    let in_state = setup.store.resources().await.expect("resources").len();
    assert_eq!(creates, RESOURCES - in_state, "plan after the kill");
    // The dead apply's lock stays; its heartbeat stops, so it turns stale.
    let dead = setup
        .store
        .current_lock()
        .await
        .expect("lock")
        .expect("still locked");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let refused = setup.braid(&["apply", "--auto-approve"], &[("BRAID_LOCK_LEASE", "1s")]);
    refused.failure();
    assert!(
        refused.stderr.contains("State lock is stale"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("--steal-stale-lock"),
        "{}",
        refused.stderr
    );
    let stolen = setup.braid(
        &["apply", "--auto-approve", "--steal-stale-lock"],
        &[("BRAID_LOCK_LEASE", "1s")],
    );
    stolen.success();
    assert!(stolen.all().contains(&dead.id), "{}", stolen.all());
    assert_eq!(
        setup.store.resources().await.expect("resources").len(),
        RESOURCES
    );
    assert_eq!(setup.store.current_lock().await.expect("lock"), None);
    let plan = setup.braid(&["plan", "--detailed-exitcode"], &[]);
    plan.success();
    // The killed apply is closed as failed, not left "running" forever.
    let applies = setup.store.applies(10).await.expect("applies");
    assert!(
        applies
            .iter()
            .all(|a| a.outcome != braid_state::ApplyOutcome::Running && a.finished_at.is_some()),
        "{applies:?}"
    );
    assert!(
        applies
            .iter()
            .any(|a| a.outcome == braid_state::ApplyOutcome::Failed)
    );
}

/// A run killed after its last change but before it closed its audit entry leaves nothing to
/// apply: the next apply, which has no changes to make, still closes the entry under its lock
/// (the chaos campaign caught it left "running").
async fn apply_without_changes_closes_a_dead_runs_entry(backend: Backend) {
    let setup = Setup::new(backend, &many_values(2));
    setup.braid(&["apply", "--auto-approve"], &[]).success();
    let dead = setup
        .store
        .begin_apply(braid_state::NewApply {
            env: "dev".to_string(),
            actor: "killed-runner".to_string(),
            operation: "apply".to_string(),
            sources: Vec::new(),
            rollback_of: None,
            started_at: chrono::Utc::now(),
            note: None,
        })
        .await
        .expect("an audit entry of a run that died");
    let again = setup.braid(&["apply", "--auto-approve"], &[]);
    again.success();
    assert!(again.all().contains("No changes"), "{}", again.all());
    let applies = setup.store.applies(10).await.expect("applies");
    let closed = applies
        .iter()
        .find(|a| a.id == dead)
        .expect("the dead run's entry");
    assert_eq!(
        closed.outcome,
        braid_state::ApplyOutcome::Failed,
        "{closed:?}"
    );
    assert!(closed.finished_at.is_some());
}

async fn lock_timeout_waits_for_the_holder(backend: Backend) {
    let setup = Setup::new(backend, &many_values(3));
    let held = setup
        .store
        .lock(braid_state::LockRequest {
            actor: "carol".to_string(),
            host: "runner".to_string(),
            pid: 1,
            operation: "apply".to_string(),
            ci_url: None,
            boot_id: None,
        })
        .await
        .expect("lock");
    let waiting = setup.spawn(&["apply", "--auto-approve", "--lock-timeout", "30s"], &[]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    setup.store.unlock(&held.id).await.expect("unlock");
    wait_braid(waiting).success();
    assert_eq!(setup.store.resources().await.expect("resources").len(), 3);
}

/// Applies twice (two applies of history), migrates to `to` and back, and compares the
/// dumps `braid state pull` prints at every step.
async fn migrate_and_back(from: Backend, to: Backend) {
    let setup = Setup::new(from, &many_values(4));
    setup.braid(&["apply", "--auto-approve"], &[]).success();
    setup.project.edit("main.hcl", "value 0", "value zero");
    setup.braid(&["apply", "--auto-approve"], &[]).success();
    let original = setup.braid(&["state", "pull"], &[]);
    original.success();
    let dump = original.json();
    assert_eq!(dump["applies"].as_array().map(Vec::len), Some(2));

    let (block, to_env) = state_block(to, &setup.project.join("copy"));
    let mut args = vec![
        "state".to_string(),
        "migrate".to_string(),
        "--to".to_string(),
    ];
    args.extend(migrate_flags(to, &block));
    let extra: Vec<(&'static str, &str)> = to_env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let migrated = setup.braid(&refs, &extra);
    migrated.success();
    assert!(migrated.stdout.contains("verified"), "{}", migrated.stdout);

    // Point the environment at the copy: the same dump, history included.
    let hcl = setup.project.read("braid.hcl");
    let env_line = hcl.lines().nth(2).expect("environment line").to_string();
    setup.project.write(
        "braid.hcl",
        &format!("source \"infra\" {{ path = \".\" }}\n\n{env_line}\n  {block}\n}}\n"),
    );
    let copy = setup.braid(&["state", "pull"], &extra);
    copy.success();
    assert_eq!(copy.json(), dump, "the copy reads back identical");
    let history = setup.braid(&["state", "list"], &extra);
    history.success();

    // And back into a fresh store of the first kind.
    let (back_block, back_env) = state_block(from, &setup.project.join("back"));
    let mut args = vec![
        "state".to_string(),
        "migrate".to_string(),
        "--to".to_string(),
    ];
    args.extend(migrate_flags(from, &back_block));
    let mut extra_back = extra.clone();
    extra_back.extend(back_env.iter().map(|(k, v)| (*k, v.as_str())));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    setup.braid(&refs, &extra_back).success();
    setup.project.write(
        "braid.hcl",
        &format!("source \"infra\" {{ path = \".\" }}\n\n{env_line}\n  {back_block}\n}}\n"),
    );
    let back = setup.braid(&["state", "pull"], &extra_back);
    back.success();
    assert_eq!(
        back.json(),
        dump,
        "migrated there and back: identical history"
    );
}

/// `--to` and its flags, read back from a `state { ... }` block.
fn migrate_flags(backend: Backend, block: &str) -> Vec<String> {
    let value = |key: &str| {
        block
            .split(&format!("{key} = \""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(str::to_string)
    };
    let mut flags = vec![format!("{backend:?}").to_lowercase()];
    for key in ["path", "bucket", "prefix", "endpoint"] {
        if let Some(v) = value(key) {
            flags.push(format!("--{key}"));
            flags.push(v);
        }
    }
    if matches!(backend, Backend::Postgres) {
        flags.push("--url".to_string());
        flags.push(Postgres::shared().url.clone());
    }
    flags
}

/// State replaced on the backend by an empty one (a dropped table, emptied prefix, lost
/// file) is refused by the next command, with what this machine last saw; `braid state
/// restore` puts back the snapshot taken before the last apply.
async fn lost_state_is_refused_and_restored(backend: Backend) {
    let setup = Setup::new(backend, &many_values(2));
    setup.braid(&["apply", "--auto-approve"], &[]).success();
    setup.project.write("main.hcl", &many_values(3));
    setup.braid(&["apply", "--auto-approve"], &[]).success();
    let before = setup.store.meta().await.expect("meta");
    let empty = braid_state::StateDump {
        format_version: braid_state::StateDump::FORMAT_VERSION,
        lineage: uuid::Uuid::new_v4().to_string(),
        serial: 0,
        resources: vec![],
        applies: vec![],
        outputs: vec![],
    };
    setup
        .store
        .replace_state(before.serial, &empty)
        .await
        .expect("empty the state behind braid's back");

    let refused = setup.braid(&["plan"], &[]);
    refused.expect_code(1);
    refused.assert_no_panic();
    assert!(
        refused.stderr.contains("State is missing"),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains(&format!("serial {}", before.serial)),
        "{}",
        refused.stderr
    );
    setup
        .braid(&["apply", "--auto-approve"], &[])
        .expect_code(1);
    assert!(
        setup.store.resources().await.expect("resources").is_empty(),
        "nothing was written"
    );

    setup.braid(&["state", "restore"], &[]).success();
    let restored = setup.store.meta().await.expect("meta");
    assert_eq!(restored.lineage, before.lineage);
    assert!(restored.serial > before.serial);
    // The snapshot is the state before the second apply: two of the three values.
    assert_eq!(setup.store.resources().await.expect("resources").len(), 2);
    setup.braid(&["apply", "--auto-approve"], &[]).success();
    setup.braid(&["plan", "--detailed-exitcode"], &[]).success();
}

macro_rules! every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Backend::Sqlite).await }
        )* }
        mod postgres { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Backend::Postgres).await }
        )* }
        mod s3 { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Backend::S3).await }
        )* }
    };
}

every_backend!(
    apply_without_changes_closes_a_dead_runs_entry,
    lost_state_is_refused_and_restored,
    two_concurrent_applies,
    killed_apply_then_plan_and_steal,
    lock_timeout_waits_for_the_holder,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_sqlite_to_postgres_and_back() {
    migrate_and_back(Backend::Sqlite, Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_sqlite_to_s3_and_back() {
    migrate_and_back(Backend::Sqlite, Backend::S3).await;
}
