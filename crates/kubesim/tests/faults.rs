//! Fault injection: latency, random failures of each mode, scripted failures (library and
//! admin HTTP endpoint), dropped connections, and the request log showing retries.

mod common;

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::Api;
use kubesim::{FailureMode, Faults, ScriptedFailure};

const CM_PATH: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test]
async fn latency_is_added_per_request() {
    let c = common::start().await;
    c.server.faults().set_latency(Duration::from_millis(150));
    let start = Instant::now();
    let (code, _) = common::raw(&c.server, "GET", CM_PATH, "application/json", "")
        .await
        .expect("response");
    assert_eq!(code, 200);
    assert!(start.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn random_failures_cover_each_mode() {
    let c = common::start().await;
    for (mode, want) in [
        (FailureMode::InternalError, Some(500)),
        (FailureMode::TooManyRequests, Some(429)),
        (FailureMode::DropConnection, None),
    ] {
        c.server.faults().set(Faults {
            failure_rate: 1.0,
            failure_modes: vec![mode],
            ..Faults::default()
        });
        let got = common::raw(&c.server, "GET", CM_PATH, "application/json", "").await;
        assert_eq!(got.as_ref().map(|(code, _)| *code), want, "{mode:?}");
        if let Some((_, body)) = got {
            let status: serde_json::Value = serde_json::from_str(&body).expect("Status body");
            assert_eq!(status["kind"], "Status");
        }
    }
    c.server.faults().clear();
    let ok = common::raw(&c.server, "GET", CM_PATH, "application/json", "")
        .await
        .expect("response");
    assert_eq!(ok.0, 200);
    let statuses: Vec<u16> = c.server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![500, 429, 0, 200]);
}

#[tokio::test]
async fn too_many_requests_carries_retry_after_and_kube_retries() {
    let c = common::start().await;
    c.server.faults().script(ScriptedFailure {
        method: Some("GET".into()),
        path: "/api/v1/namespaces/*/configmaps/kube-root*".into(),
        times: 1,
        status: Some(429),
        drop_connection: false,
    });
    // Raw: see the header.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(c.server.address())
        .await
        .expect("connect");
    stream
        .write_all(b"GET /api/v1/namespaces/default/configmaps/kube-root-ca.crt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut text = String::new();
    stream.read_to_string(&mut text).await.expect("read");
    assert!(text.starts_with("HTTP/1.1 429"), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("retry-after: 1"),
        "{text}"
    );

    // kube-rs retries 429 by default; the log shows the failed attempt and the retry.
    c.server.clear_requests();
    c.server.faults().script(ScriptedFailure {
        method: Some("GET".into()),
        path: "configmaps/missing".into(),
        times: 1,
        status: Some(429),
        drop_connection: false,
    });
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "default");
    let err = cms.get("missing").await.expect_err("not found after retry");
    assert!(matches!(err, kube::Error::Api(s) if s.code == 404));
    let statuses: Vec<u16> = c.server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 404]);
}

#[tokio::test]
async fn scripted_failures_via_admin_endpoint() {
    let c = common::start().await;
    let script = r#"{"method":"POST","path":"/api/v1/namespaces/default/configmaps","times":2,"status":503}"#;
    let (code, body) = common::raw(
        &c.server,
        "POST",
        "/kubesim/faults/scripted",
        "application/json",
        script,
    )
    .await
    .expect("admin");
    assert_eq!(code, 200, "{body}");
    let cm = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}"#;
    for _ in 0..2 {
        let (code, _) = common::raw(&c.server, "POST", CM_PATH, "application/json", cm)
            .await
            .expect("resp");
        assert_eq!(code, 503);
    }
    let (code, _) = common::raw(&c.server, "POST", CM_PATH, "application/json", cm)
        .await
        .expect("resp");
    assert_eq!(code, 201);

    let drop = r#"{"path":"configmaps","times":1,"dropConnection":true}"#;
    common::raw(
        &c.server,
        "POST",
        "/kubesim/faults/scripted",
        "application/json",
        drop,
    )
    .await
    .expect("admin");
    assert!(
        common::raw(&c.server, "GET", CM_PATH, "application/json", "")
            .await
            .is_none()
    );

    let all = r#"{"latencyMs":0,"failureRate":1.0,"failureModes":["internalError"]}"#;
    common::raw(&c.server, "PUT", "/kubesim/faults", "application/json", all)
        .await
        .expect("admin");
    let (code, _) = common::raw(&c.server, "GET", CM_PATH, "application/json", "")
        .await
        .expect("resp");
    assert_eq!(code, 500);
    common::raw(
        &c.server,
        "DELETE",
        "/kubesim/faults",
        "application/json",
        "",
    )
    .await
    .expect("admin");

    let (code, log) = common::raw(
        &c.server,
        "GET",
        "/kubesim/requests",
        "application/json",
        "",
    )
    .await
    .expect("log");
    assert_eq!(code, 200);
    let log: serde_json::Value = serde_json::from_str(&log).expect("json");
    let statuses: Vec<u64> = log["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter_map(|r| r["status"].as_u64())
        .collect();
    assert_eq!(statuses, vec![503, 503, 201, 0, 500]);
    assert_eq!(log["requests"][0]["method"], "POST");
    assert_eq!(log["requests"][0]["path"], CM_PATH);
}

#[tokio::test]
async fn dropped_connection_surfaces_as_transport_error_in_kube() {
    let c = common::start().await;
    c.server.faults().script(ScriptedFailure {
        method: None,
        path: "configmaps/x".into(),
        times: 100,
        status: None,
        drop_connection: true,
    });
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "default");
    let err = cms.get("x").await.expect_err("dropped");
    assert!(!matches!(err, kube::Error::Api(_)), "{err:?}");
}
