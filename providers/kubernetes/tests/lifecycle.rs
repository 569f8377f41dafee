//! Create, no-op re-plan, update, replace and delete of ordinary objects against kubesim.

mod common;

use std::time::Duration;

use braid_provider::{Path, Value};
use common::*;
use kube::api::{Api, DynamicObject};

#[tokio::test]
async fn create_replan_update_replace_delete() {
    let cluster = start().await;
    let p = &cluster.provider;

    // Create, in dependency order: namespace, config map, deployment, service.
    let ns = namespace("shop");
    let (ns_plan, ns_state) = plan_and_apply(p, None, &ns).await;
    assert!(ns_plan.existing.is_none());
    assert_eq!(at(&ns_plan.planned, "braid.uid"), Some(&Value::Unknown));
    assert_eq!(
        at(&ns_state, "id"),
        Some(&Value::from("core/v1/Namespace/_/shop"))
    );
    let cm = config_map("shop", "settings", serde_json::json!({"mode": "fast"}));
    let (_, cm_state) = plan_and_apply(p, None, &cm).await;
    let web = deployment("shop", "web", "web:1", "web");
    let (web_plan, web_state) = plan_and_apply(p, None, &web).await;
    let svc = service("shop", "web");
    let (_, svc_state) = plan_and_apply(p, None, &svc).await;

    // State holds braid's fields only: no status, no server defaults, no managedFields.
    assert_eq!(at(&web_state, "spec.replicas"), Some(&Value::from(2)));
    assert!(at(&web_state, "status").is_none());
    assert!(at(&web_state, "spec.strategy").is_none(), "{web_state:?}");
    assert!(at(&web_state, "spec.template.spec.restartPolicy").is_none());
    assert!(at(&web_state, "metadata.managedFields").is_none());
    assert!(at(&web_state, "metadata.resourceVersion").is_none());
    assert!(at(&svc_state, "spec.clusterIP").is_none());
    assert!(matches!(
        at(&web_state, "braid.uid"),
        Some(Value::String(_))
    ));
    assert_eq!(
        at(&web_plan.planned, "spec.template.spec.containers[0].image"),
        Some(&Value::from("web:1"))
    );

    // Plan again with nothing changed: planned == prior, and read agrees.
    for (config, state) in [
        (&ns, &ns_state),
        (&cm, &cm_state),
        (&web, &web_state),
        (&svc, &svc_state),
    ] {
        let again = plan(p, Some(state), config).await;
        assert!(again.diagnostics.is_empty(), "{:?}", again.diagnostics);
        assert_eq!(&again.planned, state);
        assert!(again.requires_replace.is_empty());
        let refreshed = read(p, state).await;
        assert_eq!(refreshed.state.as_ref(), Some(state));
    }

    // An image change is an in-place update.
    let web2 = deployment("shop", "web", "web:2", "web");
    let update = plan(p, Some(&web_state), &web2).await;
    assert!(
        update.requires_replace.is_empty(),
        "{:?}",
        update.requires_replace
    );
    assert_eq!(
        at(&update.planned, "spec.template.spec.containers[0].image"),
        Some(&Value::from("web:2"))
    );
    assert_eq!(
        at(&update.planned, "braid.uid"),
        at(&web_state, "braid.uid")
    );
    let (_, web2_state) = plan_and_apply(p, Some(&web_state), &web2).await;

    // Waiting for the rollout reports progress and ends ready.
    let progress = RecordedProgress::default();
    let ready = wait_ready(p, &web2_state, Duration::from_secs(20), &progress).await;
    assert!(ready.diagnostics.is_empty(), "{:?}", ready.diagnostics);
    assert_eq!(ready.state.as_ref(), Some(&web2_state));
    assert!(
        progress
            .messages()
            .iter()
            .any(|m| m.starts_with("waiting for")),
        "{:?}",
        progress.messages()
    );

    // A selector change cannot be made in place.
    let web3 = deployment("shop", "web", "web:2", "web-v2");
    let replace = plan(p, Some(&web2_state), &web3).await;
    assert!(replace.diagnostics.is_empty(), "{:?}", replace.diagnostics);
    assert_eq!(
        replace.requires_replace,
        vec![Path::parse("spec.selector").expect("path")]
    );

    // Replace = delete, then create.
    let deleted = apply(p, Some(&web2_state), None, &web2).await;
    assert!(deleted.diagnostics.is_empty(), "{:?}", deleted.diagnostics);
    assert!(deleted.new_state.is_none());
    let (_, web3_state) = plan_and_apply(p, None, &web3).await;
    assert_ne!(at(&web3_state, "braid.uid"), at(&web2_state, "braid.uid"));

    // Delete everything; reads then find nothing.
    for state in [&svc_state, &web3_state, &cm_state, &ns_state] {
        let gone = apply(p, Some(state), None, state).await;
        assert!(gone.diagnostics.is_empty(), "{:?}", gone.diagnostics);
        assert!(read(p, state).await.state.is_none());
    }
    let api: Api<DynamicObject> = Api::all_with(
        cluster.client.clone(),
        &kube::api::ApiResource::erase::<k8s_openapi::api::core::v1::Namespace>(&()),
    );
    assert!(api.get_opt("shop").await.expect("get works").is_none());
}

#[tokio::test]
async fn unknown_values_stay_unknown_in_the_plan() {
    let cluster = start().await;
    let p = &cluster.provider;
    let mut cm = config_map("default", "queue", serde_json::json!({"mode": "fast"}));
    cm.set(&Path::parse("data.url").expect("path"), Value::Unknown);
    let planned = plan(p, None, &cm).await;
    assert!(planned.diagnostics.is_empty(), "{:?}", planned.diagnostics);
    assert_eq!(at(&planned.planned, "data.url"), Some(&Value::Unknown));
    assert_eq!(
        at(&planned.planned, "data.mode"),
        Some(&Value::from("fast"))
    );

    // At apply the engine passes the known value; the result fits the plan.
    let known = config_map(
        "default",
        "queue",
        serde_json::json!({"mode": "fast", "url": "https://sqs/jobs"}),
    );
    let applied = apply(p, None, Some(&planned.planned), &known).await;
    assert!(applied.diagnostics.is_empty(), "{:?}", applied.diagnostics);
    let state = applied.new_state.expect("created");
    assert_consistent(&planned.planned, &state);
    assert_eq!(
        at(&state, "data.url"),
        Some(&Value::from("https://sqs/jobs"))
    );
}

#[tokio::test]
async fn objects_in_a_namespace_not_created_yet_are_planned_from_the_manifest() {
    let cluster = start().await;
    let p = &cluster.provider;
    let cm = config_map("later", "settings", serde_json::json!({"a": "1"}));
    let planned = plan(p, None, &cm).await;
    assert!(planned.diagnostics.is_empty(), "{:?}", planned.diagnostics);
    assert_eq!(at(&planned.planned, "data.a"), Some(&Value::from("1")));
    plan_and_apply(p, None, &namespace("later")).await;
    let applied = apply(p, None, Some(&planned.planned), &cm).await;
    assert!(applied.diagnostics.is_empty(), "{:?}", applied.diagnostics);
    assert_consistent(&planned.planned, &applied.new_state.expect("created"));
}
