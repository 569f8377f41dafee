//! The same behaviour checked against every backend: SQLite files, a real PostgreSQL
//! server and moto's S3 (started by `braid-testkit`, once for the binary). Each test gets its
//! own environment, so tests share one server and also prove that environments never see each
//! other. A server that cannot start fails the tests that need it.
//!
//! Run with `cargo test -p braid-state --test backends`.

mod behaviour;
mod s3_layout;

use std::sync::Arc;

use braid_provider::Value;
use braid_state::{
    ChangeAction, ChangeOutcome, ChangeRecord, LockRequest, NewApply, PostgresStore,
    ResourceRecord, ResourceWrite, S3Location, S3Store, S3Tuning, SqliteStore, StateStore,
};
use braid_testkit::{MotoServer, Postgres};
use chrono::Utc;

/// One environment on one backend; `open` gives another independent handle on it, as a
/// second braid process would have.
pub struct Env {
    open: Box<dyn Fn() -> Arc<dyn StateStore> + Send + Sync>,
    _dir: Option<tempfile::TempDir>,
}

impl Env {
    pub fn open(&self) -> Arc<dyn StateStore> {
        (self.open)()
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
    S3,
    S3Compacting,
}

impl Backend {
    /// A fresh, empty environment.
    pub fn env(self) -> Env {
        let name = format!("env-{}", uuid::Uuid::new_v4().simple());
        match self {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let path = dir.path().join(format!("{name}.db"));
                Env {
                    open: Box::new(move || {
                        Arc::new(SqliteStore::open(&path).expect("open sqlite state"))
                    }),
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let url = Postgres::shared().url.clone();
                Env {
                    open: Box::new(move || {
                        Arc::new(PostgresStore::new(&url, &name).expect("postgres url"))
                    }),
                    _dir: None,
                }
            }
            Backend::S3 => s3_env(&name, S3Tuning::default()),
            // Compacting after every second commit: every behaviour also runs across
            // snapshots, compactions and the clean-up that follows them.
            Backend::S3Compacting => s3_env(
                &name,
                S3Tuning {
                    compact_max_deltas: 2,
                    compact_min_bytes: 0,
                    ..S3Tuning::default()
                },
            ),
        }
    }
}

/// The location of the test environments in moto's shared bucket.
pub fn s3_location() -> S3Location {
    S3Location {
        bucket: MotoServer::SHARED_BUCKET.to_string(),
        prefix: "tests/".to_string(),
        region: Some("us-east-1".to_string()),
        endpoint: Some(MotoServer::shared().endpoint()),
    }
}

/// A client of moto's S3 that sends its requests through `interceptor`, if any, and does
/// not retry (a failure injected by a test is final).
pub fn s3_client(interceptor: Option<s3_layout::Requests>) -> aws_sdk_s3::Client {
    let mut config = aws_sdk_s3::config::Builder::new()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url(MotoServer::shared().endpoint())
        .force_path_style(true)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ));
    if let Some(interceptor) = interceptor {
        config = config
            .interceptor(interceptor)
            .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled());
    }
    aws_sdk_s3::Client::from_conf(config.build())
}

fn s3_env(name: &str, tuning: S3Tuning) -> Env {
    let name = name.to_string();
    let location = s3_location();
    Env {
        open: Box::new(move || {
            Arc::new(S3Store::with_client(location.clone(), &name, s3_client(None)).tuned(tuning))
        }),
        _dir: None,
    }
}

/// Runs one behaviour against every backend, as `sqlite::NAME`, `postgres::NAME`,
/// `s3::NAME`.
macro_rules! every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { crate::behaviour::$name(crate::Backend::Sqlite.env()).await }
        )* }
        mod postgres { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { crate::behaviour::$name(crate::Backend::Postgres.env()).await }
        )* }
        mod s3 { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { crate::behaviour::$name(crate::Backend::S3.env()).await }
        )* }
        mod s3_compacting { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { crate::behaviour::$name(crate::Backend::S3Compacting.env()).await }
        )* }
    };
}

every_backend!(
    a_new_state_has_a_lineage_and_serial_zero,
    writes_are_compare_and_swap_on_the_serial,
    a_group_commit_is_all_or_nothing,
    racing_writers_never_both_win,
    the_audit_log_records_applies_and_changes,
    unknown_applies_are_refused,
    a_second_lock_is_refused_naming_the_holder,
    heartbeat_and_unlock_need_the_holders_id,
    exactly_one_of_many_racing_lockers_wins,
    a_stale_lock_is_reported_and_can_be_stolen,
    a_lock_of_a_dead_process_on_this_host_is_taken_over_at_once,
    a_waiting_writer_gets_the_lock_when_it_is_released,
    export_and_replace_round_trip,
    push_checks_lineage_and_serial,
    environments_do_not_see_each_other,
    outputs_are_replaced_as_a_whole_on_the_serial,
    documents_are_written_with_compare_and_swap,
    documents_are_listed_by_prefix_in_name_order,
    exactly_one_of_many_racing_document_writers_wins,
);

/// Migrating between every pair of backends keeps everything, history included.
mod migrate {
    use crate::Backend;

    async fn round_trip(from: Backend, to: Backend) {
        crate::behaviour::migrate_there_and_back(from.env(), to.env(), from.env()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_to_postgres_and_back() {
        round_trip(Backend::Sqlite, Backend::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_to_s3_and_back() {
        round_trip(Backend::Sqlite, Backend::S3).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_to_s3_and_back() {
        round_trip(Backend::Postgres, Backend::S3).await;
    }
}

pub fn record(address: &str, attributes: Value) -> ResourceRecord {
    ResourceRecord {
        address: address.to_string(),
        provider: "local".to_string(),
        type_name: "local_file".to_string(),
        id: Some(format!("id-of-{address}")),
        attributes,
        sensitive_paths: vec![],
        dependencies: vec!["local_value.base".to_string()],
        source_file: Some("app:main.hcl:3".to_string()),
        // What a Terraform plugin keeps beside the object: every backend must give it back.
        meta: Some(braid_provider::ObjectMeta {
            schema_version: Some(2),
            private: br#"{"e2bfb730-ecaa-11e6-8f88-34363bc7c4c0":{"create":600000000000}}"#
                .to_vec(),
        }),
    }
}

pub fn upsert(record: ResourceRecord) -> ResourceWrite {
    ResourceWrite {
        address: record.address.clone(),
        record: Some(record),
        change: None,
    }
}

pub fn change(address: &str, action: ChangeAction, outcome: ChangeOutcome) -> ChangeRecord {
    ChangeRecord {
        address: address.to_string(),
        action,
        outcome,
        message: None,
        at: Utc::now(),
    }
}

pub fn new_apply(operation: &str) -> NewApply {
    NewApply {
        env: "staging".to_string(),
        actor: "alice".to_string(),
        operation: operation.to_string(),
        sources: vec![],
        rollback_of: None,
        started_at: Utc::now(),
        note: None,
    }
}

pub fn lock_request(actor: &str, operation: &str) -> LockRequest {
    LockRequest {
        actor: actor.to_string(),
        host: "ci-runner-7".to_string(),
        pid: 4242,
        operation: operation.to_string(),
        ci_url: Some("https://ci.example.com/run/9".to_string()),
        boot_id: None,
    }
}

/// `sslmode` in the URL decides TLS: `require` refuses a server without TLS (the test
/// server has none) instead of silently sending state in plain text; the default `prefer`
/// falls back to plain TCP.
#[tokio::test]
async fn postgres_sslmode_require_refuses_a_server_without_tls() {
    let server = Postgres::shared();
    let separator = if server.url.contains('?') { '&' } else { '?' };
    let strict = format!("{}{separator}sslmode=require", server.url);
    let store = PostgresStore::new(&strict, "tls-check").expect("valid url");
    let err = store
        .meta()
        .await
        .expect_err("a server without TLS must be refused");
    assert!(
        matches!(err, braid_state::StateError::Open { .. }),
        "{err:?}"
    );
    let relaxed = PostgresStore::new(&server.url, "tls-check").expect("valid url");
    relaxed
        .meta()
        .await
        .expect("prefer falls back to plain TCP");
}

/// `state.json` gone while the history of finished applies remains is a lost state, not a
/// new one: S3 has no foreign key to keep the two together, so the store checks.
#[tokio::test]
async fn s3_state_document_deleted_with_history_left_is_lost_state() {
    let env = Backend::S3.env();
    let store = env.open();
    let apply = store.begin_apply(new_apply("apply")).await.expect("begin");
    let serial = store.meta().await.expect("meta").serial;
    store
        .commit_resource(serial, upsert(record("local_file.a", Value::Null)))
        .await
        .expect("commit");
    store
        .finish_apply(
            apply,
            braid_state::ChangeSummary::default(),
            braid_state::ApplyOutcome::Succeeded,
        )
        .await
        .expect("finish");
    // The location names the bucket and key prefix of this environment's objects.
    let location = store.location();
    let key = location
        .split_once(&format!("s3://{}/", MotoServer::SHARED_BUCKET))
        .map(|(_, rest)| format!("{}state.json", rest.split_whitespace().next().unwrap_or("")))
        .expect("an s3:// location");
    s3_client(None)
        .delete_object()
        .bucket(MotoServer::SHARED_BUCKET)
        .key(&key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("delete {key}: {e:?}"));
    match env.open().meta().await {
        Err(braid_state::StateError::Lost(message)) => {
            assert!(message.contains("state.json"), "{message}");
        }
        other => panic!("expected Lost, got {other:?}"),
    }
}

/// The Postgres schema moves forward only: a database an older braid left (schema 5, before
/// `note` was recorded) is migrated when opened; one a newer braid wrote is refused and left
/// as it is. In a database of its own, since the schema is shared by all environments.
#[tokio::test]
async fn postgres_schema_older_is_migrated_and_newer_is_refused() {
    let server = Postgres::shared();
    let connect = |url: String| async move {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("connect {url}: {e}"));
        tokio::spawn(connection);
        client
    };
    let admin = connect(server.url.clone()).await;
    let db = format!("schema_{}", uuid::Uuid::new_v4().simple());
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .await
        .expect("create database");
    let url = server
        .url
        .rsplit_once('/')
        .map(|(base, _)| format!("{base}/{db}"))
        .expect("a database in the url");
    let store = PostgresStore::new(&url, "staging").expect("url");
    store.meta().await.expect("a new database is migrated");
    let client = connect(url.clone()).await;
    client
        .batch_execute(
            "ALTER TABLE braid_applies DROP COLUMN note;
             DELETE FROM braid_schema_version; INSERT INTO braid_schema_version VALUES (5);",
        )
        .await
        .expect("make it schema 5");

    let older = PostgresStore::new(&url, "staging").expect("url");
    let mut apply = new_apply("apply");
    apply.note = Some("set aside the release window: hotfix".to_string());
    let id = older
        .begin_apply(apply)
        .await
        .expect("migrated to the latest schema");
    let record = older
        .apply_record(id)
        .await
        .expect("read")
        .expect("the apply");
    assert_eq!(
        record.note.as_deref(),
        Some("set aside the release window: hotfix")
    );
    let version: i64 = client
        .query_one("SELECT MAX(version) FROM braid_schema_version", &[])
        .await
        .expect("version")
        .get(0);
    assert_eq!(version, braid_state::format_versions().postgres);

    client
        .batch_execute("INSERT INTO braid_schema_version VALUES (999);")
        .await
        .expect("a newer braid's schema");
    let newer = PostgresStore::new(&url, "staging").expect("url");
    match newer.meta().await {
        Err(braid_state::StateError::NewerSchema {
            found, supported, ..
        }) => {
            assert_eq!(found, 999);
            assert_eq!(supported, braid_state::format_versions().postgres);
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
    let kept: i64 = client
        .query_one("SELECT MAX(version) FROM braid_schema_version", &[])
        .await
        .expect("version")
        .get(0);
    assert_eq!(kept, 999, "left as the newer braid wrote it");
    drop((store, older, newer, client));
    admin
        .batch_execute(&format!("DROP DATABASE {db} WITH (FORCE)"))
        .await
        .expect("drop database");
}
