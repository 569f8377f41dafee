//! Transient API failures injected by kubesim are retried until operations converge.

mod common;

use std::time::{Duration, Instant};

use braid_provider::Value;
use common::*;
use kubesim::{Faults, ScriptedFailure};

#[tokio::test]
async fn too_many_requests_waits_for_retry_after() {
    let cluster = start().await;
    cluster.server.faults().script(ScriptedFailure {
        method: Some("PATCH".to_string()),
        path: "/api/v1/namespaces/default/configmaps/*".to_string(),
        times: 2,
        status: Some(429),
        drop_connection: false,
    });
    let started = Instant::now();
    let cm = config_map("default", "limited", serde_json::json!({"a": "1"}));
    let (_, state) = plan_and_apply(&cluster.provider, None, &cm).await;
    assert_eq!(at(&state, "data.a"), Some(&Value::from("1")));
    // Two 429s with `Retry-After: 1` cost at least two seconds.
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let throttled = cluster
        .server
        .requests()
        .iter()
        .filter(|r| r.status == 429)
        .count();
    assert_eq!(throttled, 2);
}

#[tokio::test]
async fn server_errors_and_dropped_connections_are_retried() {
    let cluster = start().await;
    for (path, status, drop_connection) in [
        (
            "/api/v1/namespaces/default/configmaps/flaky",
            Some(500),
            false,
        ),
        ("/api/v1/namespaces/default/configmaps/flaky", None, true),
    ] {
        cluster.server.faults().script(ScriptedFailure {
            method: None,
            path: path.to_string(),
            times: 2,
            status,
            drop_connection,
        });
    }
    let cm = config_map("default", "flaky", serde_json::json!({"a": "1"}));
    let (_, state) = plan_and_apply(&cluster.provider, None, &cm).await;
    assert!(read(&cluster.provider, &state).await.diagnostics.is_empty());
}

#[tokio::test]
async fn a_whole_lifecycle_converges_at_a_twenty_percent_failure_rate() {
    let cluster = start().await;
    cluster.server.faults().set(Faults {
        failure_rate: 0.2,
        seed: 7,
        ..Faults::default()
    });
    let p = &cluster.provider;
    let (_, ns) = plan_and_apply(p, None, &namespace("flaky")).await;
    let cm = config_map("flaky", "settings", serde_json::json!({"mode": "fast"}));
    let (_, cm_state) = plan_and_apply(p, None, &cm).await;
    let web = deployment("flaky", "web", "web:1", "web");
    let (_, web_state) = plan_and_apply(p, None, &web).await;

    let progress = RecordedProgress::default();
    let ready = wait_ready(p, &web_state, Duration::from_secs(60), &progress).await;
    assert!(ready.diagnostics.is_empty(), "{:?}", ready.diagnostics);

    for (config, state) in [(&cm, &cm_state), (&web, &web_state)] {
        let again = plan(p, Some(state), config).await;
        assert!(again.diagnostics.is_empty(), "{:?}", again.diagnostics);
        assert_eq!(&again.planned, state);
        let refreshed = read(p, state).await;
        assert!(
            refreshed.diagnostics.is_empty(),
            "{:?}",
            refreshed.diagnostics
        );
        assert_eq!(refreshed.state.as_ref(), Some(state));
    }

    for state in [&web_state, &cm_state, &ns] {
        let gone = apply(p, Some(state), None, state).await;
        assert!(gone.diagnostics.is_empty(), "{:?}", gone.diagnostics);
    }
    let failures = cluster
        .server
        .requests()
        .iter()
        .filter(|r| r.status == 0 || r.status >= 429)
        .count();
    assert!(failures > 0, "faults were injected");
}
