//! Watches through kube-rs: watcher, await_condition on a Deployment rollout, the fail
//! annotation, raw watch streams with resourceVersion / bookmarks / timeout, 410 Expired.

mod common;

use std::time::Duration;

use futures_util::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::wait::{await_condition, conditions};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;

fn deployment(name: &str, annotations: serde_json::Value) -> serde_json::Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}
        }
    })
}

#[tokio::test]
async fn apply_watch_and_await_rollout() {
    let c = common::start().await;
    let deploys: Api<Deployment> = Api::namespaced(c.client.clone(), "default");
    let events = watcher(deploys.clone(), watcher::Config::default()).applied_objects();
    let mut events = Box::pin(events);

    deploys
        .patch(
            "web",
            &PatchParams::apply("braid"),
            &Patch::Apply(deployment("web", json!({}))),
        )
        .await
        .expect("apply");
    let first = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("event in time")
        .expect("stream open")
        .expect("no watch error");
    assert_eq!(first.metadata.name.as_deref(), Some("web"));

    let rolled = tokio::time::timeout(
        Duration::from_secs(5),
        await_condition(
            deploys.clone(),
            "web",
            conditions::is_deployment_completed(),
        ),
    )
    .await
    .expect("rollout completes in time")
    .expect("await works")
    .expect("object exists");
    let status = rolled.status.expect("status");
    assert_eq!(status.observed_generation, Some(1));
    assert_eq!(status.ready_replicas, Some(3));
    assert_eq!(status.available_replicas, Some(3));
    assert_eq!(status.updated_replicas, Some(3));
    let conds = status.conditions.expect("conditions");
    let progressing = conds
        .iter()
        .find(|c| c.type_.as_deref() == Some("Progressing"))
        .expect("progressing");
    assert_eq!(
        progressing.reason.as_deref(),
        Some("NewReplicaSetAvailable")
    );
    assert!(conds.iter().any(|c| c.type_.as_deref() == Some("Available") && c.status.as_deref() == Some("True")));

    // A spec change starts a new rollout that completes again.
    let mut next = deployment("web", json!({}));
    next["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.28");
    deploys
        .patch("web", &PatchParams::apply("braid"), &Patch::Apply(next))
        .await
        .expect("apply v2");
    let rolled = tokio::time::timeout(
        Duration::from_secs(5),
        await_condition(deploys.clone(), "web", |d: Option<&Deployment>| {
            d.and_then(|d| d.status.as_ref())
                .is_some_and(|s| s.observed_generation == Some(2) && s.ready_replicas == Some(3))
        }),
    )
    .await
    .expect("second rollout in time")
    .expect("await works");
    assert!(rolled.is_some());
}

#[tokio::test]
async fn fail_annotation_exceeds_progress_deadline() {
    let c = common::start().await;
    let deploys: Api<Deployment> = Api::namespaced(c.client.clone(), "default");
    let annotations =
        json!({kubesim::FAIL_ANNOTATION: "true", kubesim::READY_AFTER_ANNOTATION: "50"});
    deploys
        .patch(
            "broken",
            &PatchParams::apply("braid"),
            &Patch::Apply(deployment("broken", annotations)),
        )
        .await
        .expect("apply");
    let failed = tokio::time::timeout(
        Duration::from_secs(5),
        await_condition(deploys.clone(), "broken", |d: Option<&Deployment>| {
            d.and_then(|d| d.status.as_ref())
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| {
                    cs.iter().any(|c| {
                        c.type_.as_deref() == Some("Progressing")
                            && c.status.as_deref() == Some("False")
                    })
                })
        }),
    )
    .await
    .expect("failure reported in time")
    .expect("await works")
    .expect("exists");
    let status = failed.status.expect("status");
    let progressing = status
        .conditions
        .expect("conditions")
        .into_iter()
        .find(|c| c.type_.as_deref() == Some("Progressing"))
        .expect("progressing");
    assert_eq!(
        progressing.reason.as_deref(),
        Some("ProgressDeadlineExceeded")
    );
    assert_eq!(status.ready_replicas, None);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let later = deploys.get("broken").await.expect("get");
    use kube::runtime::wait::Condition as _;
    assert!(!conditions::is_deployment_completed().matches_object(Some(&later)));
}

#[tokio::test]
async fn raw_watch_from_resource_version_with_selectors_and_bookmarks() {
    let c = common::start_with(kubesim::Config {
        bookmark_interval: Duration::from_millis(50),
        ..kubesim::Config::default()
    })
    .await;
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "default");
    let mk = |name: &str, app: &str| -> ConfigMap {
        serde_json::from_value(json!({"metadata": {"name": name, "labels": {"app": app}}}))
            .expect("cm")
    };
    let a = cms
        .create(&PostParams::default(), &mk("a", "web"))
        .await
        .expect("a");
    let rv = a.metadata.resource_version.clone().expect("rv");
    cms.create(&PostParams::default(), &mk("b", "db"))
        .await
        .expect("b");
    cms.create(&PostParams::default(), &mk("c", "web"))
        .await
        .expect("c");
    cms.delete("a", &Default::default())
        .await
        .expect("delete a");

    let mut params = WatchParams::default().labels("app=web").timeout(2);
    params.bookmarks = true;
    let mut stream = Box::pin(cms.watch(&params, &rv).await.expect("watch"));
    let mut seen = Vec::new();
    let mut bookmark = false;
    while let Some(event) = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("stream ends by timeoutSeconds")
    {
        match event.expect("event") {
            WatchEvent::Added(o) => {
                seen.push(format!("ADDED {}", o.metadata.name.unwrap_or_default()))
            }
            WatchEvent::Modified(o) => {
                seen.push(format!("MODIFIED {}", o.metadata.name.unwrap_or_default()))
            }
            WatchEvent::Deleted(o) => {
                seen.push(format!("DELETED {}", o.metadata.name.unwrap_or_default()))
            }
            WatchEvent::Bookmark(_) => bookmark = true,
            WatchEvent::Error(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(seen, vec!["ADDED c", "DELETED a"]);
    assert!(bookmark, "bookmarks sent when allowed");
}

#[tokio::test]
async fn too_old_resource_version_gets_410_expired() {
    let c = common::start_with(kubesim::Config {
        history_limit: 3,
        ..kubesim::Config::default()
    })
    .await;
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "default");
    for i in 0..6 {
        let cm: ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": format!("c{i}")}})).expect("cm");
        cms.create(&PostParams::default(), &cm)
            .await
            .expect("create");
    }
    let mut stream = Box::pin(
        cms.watch(&WatchParams::default().timeout(2), "2")
            .await
            .expect("watch"),
    );
    match stream.next().await.expect("one event").expect("event") {
        WatchEvent::Error(e) => {
            assert_eq!(e.code, 410);
            assert_eq!(e.reason, "Expired");
        }
        other => panic!("expected 410, got {other:?}"),
    }
}
