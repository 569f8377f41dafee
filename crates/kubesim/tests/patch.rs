//! Patch types and server-side apply through kube-rs: managedFields in FieldsV1, conflicts,
//! forced ownership, field removal, idempotence, merge/JSON/strategic patches, the status
//! subresource and generation.

mod common;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

fn api_error(err: kube::Error) -> kube::core::Status {
    match err {
        kube::Error::Api(status) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn deployment(replicas: Option<i64>, image: &str) -> Value {
    let mut d = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": image, "ports": [{"containerPort": 80}]}]}}
        }
    });
    if let Some(r) = replicas {
        d["spec"]["replicas"] = json!(r);
    }
    d
}

fn managed_entry(object: &Value, manager: &str) -> Option<Value> {
    object["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager)
        .cloned()
}

#[tokio::test]
async fn apply_creates_and_records_fields_v1_without_defaults() {
    let c = common::start().await;
    let deploys: Api<Deployment> = Api::namespaced(c.client.clone(), "default");
    let applied = deploys
        .patch(
            "web",
            &PatchParams::apply("braid"),
            &Patch::Apply(deployment(Some(2), "nginx:1.27")),
        )
        .await
        .expect("apply creates");
    let v = serde_json::to_value(&applied).expect("json");
    assert_eq!(v["spec"]["replicas"], 2);
    assert_eq!(v["spec"]["revisionHistoryLimit"], 10, "defaults applied");
    let entry = managed_entry(&v, "braid").expect("braid entry");
    assert_eq!(entry["operation"], "Apply");
    assert_eq!(entry["apiVersion"], "apps/v1");
    assert_eq!(entry["fieldsType"], "FieldsV1");
    let fields = &entry["fieldsV1"];
    assert_eq!(fields["f:metadata"]["f:labels"], json!({"f:app": {}}));
    assert_eq!(fields["f:spec"]["f:replicas"], json!({}));
    let container =
        &fields["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"app\"}"];
    assert_eq!(container["."], json!({}));
    assert_eq!(container["f:image"], json!({}));
    assert_eq!(
        container["f:ports"]["k:{\"containerPort\":80,\"protocol\":\"TCP\"}"]["f:containerPort"],
        json!({})
    );
    assert!(
        fields["f:spec"].get("f:revisionHistoryLimit").is_none(),
        "defaults not owned"
    );
    assert!(
        fields["f:spec"].get("f:strategy").is_none(),
        "defaults not owned"
    );
    assert!(fields.get("f:status").is_none());

    // Re-applying the same configuration is a no-op: no new resourceVersion.
    let again = deploys
        .patch(
            "web",
            &PatchParams::apply("braid"),
            &Patch::Apply(deployment(Some(2), "nginx:1.27")),
        )
        .await
        .expect("re-apply");
    let current = deploys.get("web").await.expect("get");
    assert_eq!(
        again.metadata.resource_version,
        current.metadata.resource_version
    );
}

#[tokio::test]
async fn apply_conflict_names_other_manager_and_force_takes_ownership() {
    let c = common::start().await;
    let deploys: Api<Deployment> = Api::namespaced(c.client.clone(), "default");
    deploys
        .patch(
            "web",
            &PatchParams::apply("braid"),
            &Patch::Apply(deployment(Some(2), "nginx:1.27")),
        )
        .await
        .expect("apply");
    let other = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 5}});
    let err = api_error(
        deploys
            .patch(
                "web",
                &PatchParams::apply("scaler"),
                &Patch::Apply(other.clone()),
            )
            .await
            .expect_err("conflict"),
    );
    assert_eq!(err.code, 409);
    assert_eq!(err.reason, "Conflict");
    assert_eq!(
        err.message,
        "Apply failed with 1 conflict: conflict with \"braid\" using apps/v1: .spec.replicas"
    );
    let details = err.details.expect("details");
    assert_eq!(details.causes[0].field, ".spec.replicas");
    assert_eq!(details.causes[0].reason, "FieldManagerConflict");

    // Same value: shared ownership, no conflict.
    let same = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 2}});
    deploys
        .patch("web", &PatchParams::apply("watcher"), &Patch::Apply(same))
        .await
        .expect("same value shares ownership");

    let forced = deploys
        .patch(
            "web",
            &PatchParams::apply("scaler").force(),
            &Patch::Apply(other),
        )
        .await
        .expect("forced");
    let v = serde_json::to_value(&forced).expect("json");
    assert_eq!(v["spec"]["replicas"], 5);
    let braid = managed_entry(&v, "braid").expect("braid keeps other fields");
    assert!(braid["fieldsV1"]["f:spec"].get("f:replicas").is_none());
    let scaler = managed_entry(&v, "scaler").expect("scaler");
    assert_eq!(scaler["fieldsV1"]["f:spec"]["f:replicas"], json!({}));
}

#[tokio::test]
async fn reapply_removes_fields_no_longer_set_unless_shared() {
    let c = common::start().await;
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "default");
    let cfg = |data: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": data});
    cms.patch(
        "cfg",
        &PatchParams::apply("braid"),
        &Patch::Apply(cfg(json!({"a": "1", "b": "2", "c": "3"}))),
    )
    .await
    .expect("apply");
    cms.patch(
        "cfg",
        &PatchParams::apply("other"),
        &Patch::Apply(cfg(json!({"c": "3"}))),
    )
    .await
    .expect("co-own c");
    let after = cms
        .patch(
            "cfg",
            &PatchParams::apply("braid"),
            &Patch::Apply(cfg(json!({"a": "1"}))),
        )
        .await
        .expect("re-apply");
    let data = after.data.expect("data");
    assert_eq!(data.get("a").map(String::as_str), Some("1"));
    assert!(!data.contains_key("b"), "b removed: nobody else owns it");
    assert_eq!(
        data.get("c").map(String::as_str),
        Some("3"),
        "c kept: other still owns it"
    );

    // Removing a list item a manager stopped applying.
    let deploys: Api<Deployment> = Api::namespaced(c.client.clone(), "default");
    let mut two = deployment(None, "nginx:1");
    two["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .expect("containers")
        .push(json!({"name": "sidecar", "image": "envoy:1"}));
    deploys
        .patch("web", &PatchParams::apply("braid"), &Patch::Apply(two))
        .await
        .expect("apply");
    let one = deploys
        .patch(
            "web",
            &PatchParams::apply("braid"),
            &Patch::Apply(deployment(None, "nginx:1")),
        )
        .await
        .expect("apply without sidecar");
    let names: Vec<String> = one
        .spec
        .template
        .spec
        .expect("pod")
        .containers
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, vec!["app"]);
}

#[tokio::test]
async fn merge_json_and_strategic_patches() {
    let c = common::start().await;
    let deploys: Api<Deployment> = Api::namespaced(c.client.clone(), "default");
    let mut d = deployment(Some(1), "nginx:1");
    d["spec"]["template"]["spec"]["containers"][0]["env"] = json!([{"name": "A", "value": "1"}]);
    d["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .expect("containers")
        .push(json!({"name": "sidecar", "image": "envoy:1"}));
    let d: Deployment = serde_json::from_value(d).expect("deploy");
    deploys
        .create(&PostParams::default(), &d)
        .await
        .expect("create");

    let smp = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "app", "env": [{"name": "B", "value": "2"}]},
        {"name": "sidecar", "$patch": "delete"}]}}}});
    let patched = deploys
        .patch("web", &PatchParams::default(), &Patch::Strategic(smp))
        .await
        .expect("strategic");
    let v = serde_json::to_value(&patched).expect("json");
    let containers = v["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers");
    assert_eq!(containers.len(), 1);
    assert_eq!(
        containers[0]["env"],
        json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
    );
    assert_eq!(v["metadata"]["generation"], 2);

    let merged = deploys
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"team": "x"}}})),
        )
        .await
        .expect("merge");
    let v = serde_json::to_value(&merged).expect("json");
    assert_eq!(v["metadata"]["labels"]["team"], "x");
    assert_eq!(
        v["metadata"]["generation"], 2,
        "metadata changes do not bump generation"
    );

    let ops: json_patch_ops::Ops = serde_json::from_value(json!([
        {"op": "replace", "path": "/spec/replicas", "value": 4},
        {"op": "add", "path": "/metadata/annotations", "value": {"note": "hi"}}
    ]))
    .expect("ops");
    let patched = deploys
        .patch("web", &PatchParams::default(), &Patch::<()>::Json(ops))
        .await
        .expect("json patch");
    assert_eq!(patched.spec.replicas, Some(4));
    assert_eq!(
        patched.metadata.annotations.expect("annotations")["note"],
        "hi"
    );
    assert_eq!(patched.metadata.generation, Some(3));

    let edited = deploys
        .patch(
            "web",
            &PatchParams {
                field_manager: Some("editor".into()),
                ..PatchParams::default()
            },
            &Patch::Merge(json!({"spec": {"minReadySeconds": 5}})),
        )
        .await
        .expect("merge by editor");
    let v = serde_json::to_value(&edited).expect("json");
    let entry = managed_entry(&v, "editor").expect("editor entry");
    assert_eq!(entry["operation"], "Update");
    assert_eq!(
        entry["fieldsV1"],
        json!({"f:spec": {"f:minReadySeconds": {}}})
    );
}

/// `Patch::Json` takes a `json_patch::Patch` (the same json-patch major kube uses).
mod json_patch_ops {
    pub type Ops = json_patch::Patch;
}

#[tokio::test]
async fn status_subresource_separates_spec_and_status() {
    let c = common::start_with(kubesim::Config {
        ready_delay: std::time::Duration::from_secs(3600),
        ..kubesim::Config::default()
    })
    .await;
    let deploys: Api<Deployment> = Api::namespaced(c.client.clone(), "default");
    let d: Deployment = serde_json::from_value(deployment(Some(1), "nginx:1")).expect("deploy");
    deploys
        .create(&PostParams::default(), &d)
        .await
        .expect("create");
    let via_main = deploys
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"replicas": 42}})),
        )
        .await
        .expect("main patch");
    assert_ne!(
        via_main.status.and_then(|s| s.replicas),
        Some(42),
        "status ignored on main resource"
    );

    let via_status = deploys
        .patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"replicas": 42}, "spec": {"replicas": 9}})),
        )
        .await
        .expect("status patch");
    assert_eq!(via_status.status.and_then(|s| s.replicas), Some(42));
    assert_eq!(via_status.spec.replicas, Some(1), "spec ignored on status");
}

#[tokio::test]
async fn apply_errors_and_yaml_bodies() {
    let c = common::start().await;
    let no_manager = common::raw(
        &c.server,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/x",
        "application/apply-patch+yaml",
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"}}",
    )
    .await
    .expect("response");
    assert_eq!(no_manager.0, 422);
    assert!(no_manager.1.contains("fieldManager"), "{}", no_manager.1);

    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  key: value\n";
    let (code, body) = common::raw(
        &c.server,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/x?fieldManager=yaml-user",
        "application/apply-patch+yaml",
        yaml,
    )
    .await
    .expect("response");
    assert_eq!(code, 201, "{body}");
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "default");
    assert_eq!(
        cms.get("x").await.expect("get").data.expect("data")["key"],
        "value"
    );

    let dry = cms
        .patch("x", &PatchParams::apply("yaml-user").dry_run(),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"key": "dry"}})))
        .await
        .expect("dry-run apply");
    assert_eq!(dry.data.expect("data")["key"], "dry");
    assert_eq!(
        cms.get("x").await.expect("get").data.expect("data")["key"],
        "value"
    );
}
