//! A CRD and its custom resource in one plan, and readiness: failing rollouts, timeouts.

mod common;

use std::time::Duration;

use braid_provider::Value;
use common::*;

fn crd() -> Value {
    manifest(serde_json::json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object", "x-kubernetes-preserve-unknown-fields": true
                }}
            }]
        }
    }))
}

fn widget(size: i64) -> Value {
    manifest(serde_json::json!({
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w1", "namespace": "default"},
        "spec": {"size": size, "colors": ["red", "blue"]}
    }))
}

#[tokio::test]
async fn crd_and_custom_resource_in_one_plan() {
    let cluster = start().await;
    let p = &cluster.provider;

    // Both are planned before either exists: the custom resource from its manifest.
    let crd_plan = plan(p, None, &crd()).await;
    assert!(
        crd_plan.diagnostics.is_empty(),
        "{:?}",
        crd_plan.diagnostics
    );
    let widget_plan = plan(p, None, &widget(3)).await;
    assert!(
        widget_plan.diagnostics.is_empty(),
        "{:?}",
        widget_plan.diagnostics
    );
    assert_eq!(at(&widget_plan.planned, "spec.size"), Some(&Value::from(3)));
    assert_eq!(
        at(&widget_plan.planned, "id"),
        Some(&Value::from("example.com/v1/Widget/default/w1"))
    );

    // Apply the CRD, wait until established, then the custom resource.
    let applied = apply(p, None, Some(&crd_plan.planned), &crd()).await;
    assert!(applied.diagnostics.is_empty(), "{:?}", applied.diagnostics);
    let crd_state = applied.new_state.expect("created");
    let progress = RecordedProgress::default();
    let ready = wait_ready(p, &crd_state, Duration::from_secs(10), &progress).await;
    assert!(ready.diagnostics.is_empty(), "{:?}", ready.diagnostics);

    let applied = apply(p, None, Some(&widget_plan.planned), &widget(3)).await;
    assert!(applied.diagnostics.is_empty(), "{:?}", applied.diagnostics);
    let widget_state = applied.new_state.expect("created");
    assert_consistent(&widget_plan.planned, &widget_state);

    // Now the kind is served: re-plans go through dry-run and match.
    let again = plan(p, Some(&widget_state), &widget(3)).await;
    assert_eq!(again.planned, widget_state);
    let (_, bigger) = plan_and_apply(p, Some(&widget_state), &widget(5)).await;
    assert_eq!(at(&bigger, "spec.size"), Some(&Value::from(5)));

    let gone = apply(p, Some(&bigger), None, &widget(5)).await;
    assert!(gone.diagnostics.is_empty(), "{:?}", gone.diagnostics);
    let gone = apply(p, Some(&crd_state), None, &crd()).await;
    assert!(gone.diagnostics.is_empty(), "{:?}", gone.diagnostics);
    assert!(read(p, &crd_state).await.state.is_none());
    assert!(read(p, &bigger).await.state.is_none());
}

#[tokio::test]
async fn failing_rollout_fails_fast_with_progress_deadline_exceeded() {
    let cluster = start().await;
    let p = &cluster.provider;
    let mut web = deployment("default", "broken", "web:1", "broken");
    web.set(
        &braid_provider::Path::parse("metadata.annotations[\"kubesim.braid.dev/fail\"]")
            .expect("path"),
        Value::from("true"),
    );
    let (_, state) = plan_and_apply(p, None, &web).await;
    let progress = RecordedProgress::default();
    let started = std::time::Instant::now();
    let waited = wait_ready(p, &state, Duration::from_secs(60), &progress).await;
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "failed fast, not at the timeout"
    );
    assert_eq!(waited.diagnostics.len(), 1);
    let detail = &waited.diagnostics[0].detail;
    assert!(detail.contains("ProgressDeadlineExceeded"), "{detail}");
    assert!(
        progress
            .messages()
            .iter()
            .any(|m| m.starts_with("waiting for rollout")),
        "{:?}",
        progress.messages()
    );
}

#[tokio::test]
async fn timeout_annotation_limits_the_wait() {
    let cluster = start().await;
    let p = &cluster.provider;
    let claim = manifest(serde_json::json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "default", "annotations": {
            "kubesim.braid.dev/fail": "true", "braid.dev/timeout": "1s"
        }},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    }));
    let (_, state) = plan_and_apply(p, None, &claim).await;
    let progress = RecordedProgress::default();
    let waited = wait_ready(p, &state, Duration::from_secs(120), &progress).await;
    assert_eq!(waited.diagnostics.len(), 1);
    let detail = &waited.diagnostics[0].detail;
    assert!(detail.contains("not ready after 1s"), "{detail}");
    assert!(detail.contains("phase Pending"), "{detail}");
}

/// Annotations that make kubesim's controller take a while (so the wait is seen), or fail.
fn slow(mut object: serde_json::Value, fail: bool) -> Value {
    object["metadata"]["annotations"] = if fail {
        serde_json::json!({"kubesim.braid.dev/fail": "true", "braid.dev/timeout": "1s"})
    } else {
        serde_json::json!({"kubesim.braid.dev/ready-after-ms": "400"})
    };
    manifest(object)
}

fn pod_template(app: &str) -> serde_json::Value {
    serde_json::json!({
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{"name": "app", "image": "app:1"}]}
    })
}

/// Each kind with a rule of its own, applied and waited for against kubesim's controllers:
/// (manifest, what the wait reports while in progress, what a failed one says).
fn kinds_with_rules() -> Vec<(&'static str, serde_json::Value, &'static str, &'static str)> {
    vec![
        (
            "StatefulSet",
            serde_json::json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
                "metadata": {"name": "db", "namespace": "default"},
                "spec": {"replicas": 2, "serviceName": "db",
                         "selector": {"matchLabels": {"app": "db"}}, "template": pod_template("db")}}),
            "waiting for statefulset rollout",
            "waiting for statefulset rollout",
        ),
        (
            "DaemonSet",
            serde_json::json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
                "metadata": {"name": "agent", "namespace": "default"},
                "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": pod_template("agent")}}),
            "waiting for daemon set",
            "waiting for daemon set",
        ),
        (
            "Job",
            serde_json::json!({"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": "migrate", "namespace": "default"},
                "spec": {"backoffLimit": 1, "template": {
                    "spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "m:1"}]}}}}),
            "waiting for the job",
            "BackoffLimitExceeded",
        ),
        (
            "PersistentVolumeClaim",
            serde_json::json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": "data", "namespace": "default"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
            "waiting for the volume to be bound",
            "phase Pending",
        ),
        (
            "Service",
            serde_json::json!({"apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "edge", "namespace": "default"},
                "spec": {"type": "LoadBalancer", "selector": {"app": "edge"}, "ports": [{"port": 443}]}}),
            "waiting for the load balancer address",
            "waiting for the load balancer address",
        ),
        (
            "Ingress",
            serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                "metadata": {"name": "site", "namespace": "default"},
                "spec": {"rules": [{"host": "shop.example.com", "http": {"paths": [{
                    "path": "/", "pathType": "Prefix",
                    "backend": {"service": {"name": "edge", "port": {"number": 443}}}}]}}]}}),
            "waiting for the ingress controller to give an address",
            "waiting for the ingress controller to give an address",
        ),
    ]
}

#[tokio::test]
async fn every_kind_with_a_rule_waits_for_its_controller() {
    let cluster = start().await;
    let p = &cluster.provider;
    for (kind, object, in_progress, _) in kinds_with_rules() {
        let (_, state) = plan_and_apply(p, None, &slow(object, false)).await;
        let progress = RecordedProgress::default();
        let waited = wait_ready(p, &state, Duration::from_secs(30), &progress).await;
        assert!(
            waited.diagnostics.is_empty(),
            "{kind}: {:?}",
            waited.diagnostics
        );
        assert!(
            progress
                .messages()
                .iter()
                .any(|m| m.starts_with(in_progress)),
            "{kind} reported {:?}",
            progress.messages()
        );
        let live = cluster
            .server
            .requests()
            .iter()
            .filter(|r| r.method == "GET" && r.query.contains("watch"))
            .count();
        assert!(live > 0, "{kind}: the wait watches the object");
    }
}

#[tokio::test]
async fn every_kind_with_a_rule_reports_its_failure() {
    let cluster = start().await;
    let p = &cluster.provider;
    for (kind, object, _, failure) in kinds_with_rules() {
        let (_, state) = plan_and_apply(p, None, &slow(object, true)).await;
        let progress = RecordedProgress::default();
        let waited = wait_ready(p, &state, Duration::from_secs(30), &progress).await;
        assert_eq!(waited.diagnostics.len(), 1, "{kind} must not be ready");
        let detail = &waited.diagnostics[0].detail;
        assert!(detail.contains(failure), "{kind}: {detail}");
    }
}

/// Kinds without a rule: with a status subresource, kstatus' generic rules (here an HPA,
/// whose conditions have no Ready); without one (a ConfigMap), ready at once, without a
/// request; and `braid.dev/wait: "false"` skips the wait of a kind that has a rule.
#[tokio::test]
async fn kinds_without_a_rule_and_the_wait_annotation() {
    let cluster = start().await;
    let p = &cluster.provider;
    let hpa = manifest(
        serde_json::json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                 "minReplicas": 1, "maxReplicas": 3}}),
    );
    let (_, state) = plan_and_apply(p, None, &hpa).await;
    let waited = wait_ready(
        p,
        &state,
        Duration::from_secs(10),
        &RecordedProgress::default(),
    )
    .await;
    assert!(waited.diagnostics.is_empty(), "{:?}", waited.diagnostics);

    let (_, state) = plan_and_apply(
        p,
        None,
        &config_map("default", "settings", serde_json::json!({"a": "1"})),
    )
    .await;
    let before = cluster.server.requests().len();
    let waited = wait_ready(
        p,
        &state,
        Duration::from_secs(10),
        &RecordedProgress::default(),
    )
    .await;
    assert!(waited.diagnostics.is_empty());
    let asked: Vec<_> = cluster.server.requests()[before..]
        .iter()
        .filter(|r| r.path.contains("configmaps"))
        .cloned()
        .collect();
    assert!(asked.is_empty(), "a ConfigMap is not waited for: {asked:?}");

    let mut never = serde_json::json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "never", "namespace": "default", "annotations": {
            "kubesim.braid.dev/fail": "true", "braid.dev/wait": "false"}},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}});
    let (_, state) = plan_and_apply(p, None, &manifest(never.clone())).await;
    let waited = wait_ready(
        p,
        &state,
        Duration::from_secs(10),
        &RecordedProgress::default(),
    )
    .await;
    assert!(waited.diagnostics.is_empty(), "{:?}", waited.diagnostics);

    // A bad value is refused at plan, before anything is written.
    never["metadata"]["name"] = serde_json::json!("typo");
    never["metadata"]["annotations"]["braid.dev/wait"] = serde_json::json!("no");
    let planned = plan(p, None, &manifest(never.clone())).await;
    assert_eq!(planned.diagnostics.len(), 1);
    assert!(
        planned.diagnostics[0].detail.contains("takes \"true\""),
        "{:?}",
        planned.diagnostics
    );
    never["metadata"]["annotations"] = serde_json::json!({"braid.dev/timeout": "soon"});
    let planned = plan(p, None, &manifest(never)).await;
    assert!(
        planned.diagnostics[0].detail.contains("not a duration"),
        "{:?}",
        planned.diagnostics
    );
    let asked = cluster
        .server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/typo"))
        .count();
    assert_eq!(
        asked, 0,
        "nothing was asked of the cluster for the refused manifests"
    );
}
