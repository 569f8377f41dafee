//! CRD lifecycle with Api<DynamicObject>: 404 before the CRD, CRUD and apply after it, its
//! status subresource, and 404 again once the CRD is deleted.

mod common;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams,
};
use kube::core::GroupVersionKind;
use kube::discovery;
use serde_json::json;

fn crd() -> CustomResourceDefinition {
    serde_json::from_value(json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                "subresources": {"status": {}}}]
        }
    }))
    .expect("crd")
}

fn widget(size: i64) -> serde_json::Value {
    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"},
        "spec": {"size": size, "tags": ["a", "b"]}})
}

fn status_code(err: kube::Error) -> u16 {
    match err {
        kube::Error::Api(s) => s.code,
        other => panic!("expected API error, got {other:?}"),
    }
}

#[tokio::test]
async fn custom_resource_lifecycle_follows_its_crd() {
    let c = common::start().await;
    let gvk = GroupVersionKind::gvk("example.com", "v1", "Widget");
    let ar = ApiResource::from_gvk_with_plural(&gvk, "widgets");
    let widgets: Api<DynamicObject> = Api::namespaced_with(c.client.clone(), "default", &ar);
    let before: DynamicObject = serde_json::from_value(widget(1)).expect("widget");
    assert_eq!(
        status_code(
            widgets
                .create(&PostParams::default(), &before)
                .await
                .expect_err("no CRD")
        ),
        404
    );

    let crds: Api<CustomResourceDefinition> = Api::all(c.client.clone());
    crds.create(&PostParams::default(), &crd())
        .await
        .expect("crd");
    let (ar, _) = discovery::pinned_kind(&c.client, &gvk)
        .await
        .expect("discovered");
    let widgets: Api<DynamicObject> = Api::namespaced_with(c.client.clone(), "default", &ar);

    let created = widgets
        .create(&PostParams::default(), &before)
        .await
        .expect("create");
    assert_eq!(created.metadata.generation, Some(1));
    assert_eq!(created.data["spec"]["size"], 1);

    let applied = widgets
        .patch(
            "w1",
            &PatchParams::apply("braid").force(),
            &Patch::Apply(widget(2)),
        )
        .await
        .expect("apply");
    assert_eq!(applied.data["spec"]["size"], 2);
    assert_eq!(applied.metadata.generation, Some(2));

    // Custom resources have no strategic merge patch, like the real server.
    let smp = widgets
        .patch(
            "w1",
            &PatchParams::default(),
            &Patch::Strategic(json!({"spec": {"size": 3}})),
        )
        .await
        .expect_err("415");
    assert_eq!(status_code(smp), 415);

    let with_status = widgets
        .patch_status(
            "w1",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"ready": true}})),
        )
        .await
        .expect("status");
    assert_eq!(with_status.data["status"]["ready"], true);
    assert_eq!(
        with_status.metadata.generation,
        Some(2),
        "status does not bump generation"
    );

    let listed = widgets.list(&ListParams::default()).await.expect("list");
    assert_eq!(listed.items.len(), 1);

    crds.delete("widgets.example.com", &DeleteParams::default())
        .await
        .expect("delete crd");
    assert_eq!(
        status_code(widgets.get("w1").await.expect_err("gone with CRD")),
        404
    );
    assert_eq!(
        status_code(
            widgets
                .create(&PostParams::default(), &before)
                .await
                .expect_err("no CRD")
        ),
        404
    );
}
