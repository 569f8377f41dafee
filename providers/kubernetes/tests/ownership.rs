//! Field ownership: adopting existing objects, drift by other field managers, conflicts on
//! fields braid never owned, and Secrets' sensitive paths.

mod common;

use braid_provider::{Path, Value};
use common::*;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};

fn config_maps(cluster: &Cluster) -> Api<ConfigMap> {
    Api::namespaced(cluster.client.clone(), "default")
}

#[tokio::test]
async fn existing_objects_are_offered_for_import() {
    let cluster = start().await;
    let existing: ConfigMap = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "legacy"},
        "data": {"mode": "slow", "owner": "ops"}
    }))
    .expect("valid config map");
    config_maps(&cluster)
        .create(&PostParams::default(), &existing)
        .await
        .expect("created out of band");

    // Same value as the live object for `mode`: shared ownership, no conflict.
    let cm = config_map(
        "default",
        "legacy",
        serde_json::json!({"mode": "slow", "extra": "x"}),
    );
    let planned = plan(&cluster.provider, None, &cm).await;
    assert!(planned.diagnostics.is_empty(), "{:?}", planned.diagnostics);
    let existing = planned
        .existing
        .expect("the live object is offered for import");
    // What braid would manage, with its live value — not the other manager's fields.
    assert_eq!(at(&existing, "data.mode"), Some(&Value::from("slow")));
    assert!(at(&existing, "data.owner").is_none());
    assert!(at(&existing, "data.extra").is_none());
    assert!(matches!(at(&existing, "braid.uid"), Some(Value::String(_))));
    assert_eq!(at(&planned.planned, "data.extra"), Some(&Value::from("x")));
    assert_eq!(
        at(&planned.planned, "braid.uid"),
        at(&existing, "braid.uid")
    );

    // A different value for a field the other tool set is a conflict; the object is still
    // offered for import so the plan can show it.
    let changed = config_map("default", "legacy", serde_json::json!({"mode": "fast"}));
    let conflicting = plan(&cluster.provider, None, &changed).await;
    assert_eq!(conflicting.diagnostics.len(), 1);
    assert!(conflicting.existing.is_some());

    // Import by id, in both forms.
    let imported = import(&cluster.provider, "core/v1/ConfigMap/default/legacy").await;
    assert!(
        imported.diagnostics.is_empty(),
        "{:?}",
        imported.diagnostics
    );
    let by_address = import(&cluster.provider, "k8s/core/ConfigMap/default/legacy").await;
    assert_eq!(imported.state, by_address.state);
    assert!(
        import(&cluster.provider, "core/v1/ConfigMap/default/nope")
            .await
            .state
            .is_none()
    );

    let (_, state) = plan_and_apply(&cluster.provider, imported.state.as_ref(), &cm).await;
    assert_eq!(at(&state, "data.mode"), Some(&Value::from("slow")));
    assert_eq!(at(&state, "data.extra"), Some(&Value::from("x")));
    let live = config_maps(&cluster)
        .get("legacy")
        .await
        .expect("still there");
    let data = live.data.expect("data");
    assert_eq!(
        data["owner"], "ops",
        "fields of other managers are left alone"
    );
}

#[tokio::test]
async fn drift_by_another_manager_is_read_and_taken_back() {
    let cluster = start().await;
    let p = &cluster.provider;
    let cm = config_map("default", "settings", serde_json::json!({"mode": "fast"}));
    let (_, state) = plan_and_apply(p, None, &cm).await;

    // Someone changes braid's field with their own tool.
    config_maps(&cluster)
        .patch(
            "settings",
            &PatchParams::apply("kubectl").force(),
            &Patch::Apply(serde_json::json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "settings"},
                "data": {"mode": "slow"}
            })),
        )
        .await
        .expect("out-of-band apply");

    let refreshed = read(p, &state).await;
    assert!(
        refreshed.diagnostics.is_empty(),
        "{:?}",
        refreshed.diagnostics
    );
    let drifted = refreshed.state.expect("still exists");
    assert_eq!(at(&drifted, "data.mode"), Some(&Value::from("slow")));

    // The plan restores braid's value: the field was braid's, so this is drift, not a conflict.
    let (planned, restored) = plan_and_apply(p, Some(&drifted), &cm).await;
    assert_eq!(
        at(&planned.planned, "data.mode"),
        Some(&Value::from("fast"))
    );
    assert_eq!(restored, state);
    let live = config_maps(&cluster).get("settings").await.expect("exists");
    assert_eq!(live.data.expect("data")["mode"], "fast");
}

#[tokio::test]
async fn conflicts_on_fields_braid_never_owned_need_force() {
    let cluster = start().await;
    config_maps(&cluster)
        .patch(
            "shared",
            &PatchParams::apply("ops-tool"),
            &Patch::Apply(serde_json::json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "shared"},
                "data": {"owner": "ops"}
            })),
        )
        .await
        .expect("created by another manager");

    let cm = config_map("default", "shared", serde_json::json!({"owner": "braid"}));
    let planned = plan(&cluster.provider, None, &cm).await;
    assert_eq!(planned.diagnostics.len(), 1, "{:?}", planned.diagnostics);
    let detail = &planned.diagnostics[0].detail;
    assert!(detail.contains("\"ops-tool\""), "{detail}");
    assert!(detail.contains(".data.owner"), "{detail}");
    assert!(detail.contains("--force-conflicts"), "{detail}");
    assert_eq!(planned.diagnostics[0].attribute, Path::parse("data.owner"));
    let applied = apply(&cluster.provider, None, Some(&planned.planned), &cm).await;
    assert!(applied.diagnostics[0].detail.contains("\"ops-tool\""));

    let forcing = provider_for(&cluster.server, &[("force_conflicts", Value::from(true))]).await;
    let (_, state) = plan_and_apply(&forcing, None, &cm).await;
    assert_eq!(at(&state, "data.owner"), Some(&Value::from("braid")));
}

#[tokio::test]
async fn secret_values_are_sensitive() {
    let cluster = start().await;
    let secret = manifest(serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "db", "namespace": "default"},
        "data": {"user": "YWRtaW4="},
        "stringData": {"password": "hunter2"}
    }));
    let planned = plan(&cluster.provider, None, &secret).await;
    assert!(planned.diagnostics.is_empty(), "{:?}", planned.diagnostics);
    assert_eq!(
        planned.sensitive,
        vec![Path::key("data"), Path::key("stringData")]
    );
    assert_eq!(
        at(&planned.planned, "data.password"),
        Some(&Value::from("aHVudGVyMg=="))
    );
    let (_, state) = plan_and_apply(&cluster.provider, None, &secret).await;
    let again = plan(&cluster.provider, Some(&state), &secret).await;
    assert_eq!(again.planned, state);
}
