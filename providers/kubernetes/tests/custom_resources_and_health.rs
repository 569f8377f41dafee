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
