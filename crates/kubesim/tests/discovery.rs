//! Discovery through kube-rs: Discovery::run, pinned_kind, aggregated discovery, /version,
//! and CRDs appearing in / disappearing from discovery.

mod common;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::{self, Discovery, Scope};

#[tokio::test]
async fn discovery_lists_builtin_kinds_with_correct_entries() {
    let c = common::start().await;
    let version = c.client.apiserver_version().await.expect("version");
    assert_eq!(version.major, "1");

    let disc = Discovery::new(c.client.clone())
        .run()
        .await
        .expect("discovery runs");
    let expected = [
        ("", "v1", "Namespace", "namespaces", false),
        ("", "v1", "ConfigMap", "configmaps", true),
        ("", "v1", "Secret", "secrets", true),
        ("", "v1", "Service", "services", true),
        ("", "v1", "ServiceAccount", "serviceaccounts", true),
        (
            "",
            "v1",
            "PersistentVolumeClaim",
            "persistentvolumeclaims",
            true,
        ),
        ("", "v1", "Pod", "pods", true),
        ("apps", "v1", "Deployment", "deployments", true),
        ("apps", "v1", "StatefulSet", "statefulsets", true),
        ("apps", "v1", "DaemonSet", "daemonsets", true),
        ("apps", "v1", "ReplicaSet", "replicasets", true),
        ("batch", "v1", "Job", "jobs", true),
        ("batch", "v1", "CronJob", "cronjobs", true),
        ("networking.k8s.io", "v1", "Ingress", "ingresses", true),
        (
            "networking.k8s.io",
            "v1",
            "IngressClass",
            "ingressclasses",
            false,
        ),
        (
            "networking.k8s.io",
            "v1",
            "NetworkPolicy",
            "networkpolicies",
            true,
        ),
        (
            "autoscaling",
            "v2",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            true,
        ),
        (
            "policy",
            "v1",
            "PodDisruptionBudget",
            "poddisruptionbudgets",
            true,
        ),
        ("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
        (
            "rbac.authorization.k8s.io",
            "v1",
            "RoleBinding",
            "rolebindings",
            true,
        ),
        (
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRole",
            "clusterroles",
            false,
        ),
        (
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRoleBinding",
            "clusterrolebindings",
            false,
        ),
        (
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
            false,
        ),
        (
            "storage.k8s.io",
            "v1",
            "StorageClass",
            "storageclasses",
            false,
        ),
    ];
    for (group, version, kind, plural, namespaced) in expected {
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (ar, caps) = disc
            .resolve_gvk(&gvk)
            .unwrap_or_else(|| panic!("{kind} discovered"));
        assert_eq!(ar.plural, plural);
        let scope = if namespaced {
            Scope::Namespaced
        } else {
            Scope::Cluster
        };
        assert_eq!(caps.scope, scope, "{kind} scope");
        assert!(caps.supports_operation("watch"), "{kind} watchable");
    }
    let (_, caps) = disc
        .resolve_gvk(&GroupVersionKind::gvk("apps", "v1", "Deployment"))
        .expect("deployment");
    assert!(
        caps.subresources
            .iter()
            .any(|(ar, _)| ar.plural == "status")
    );

    let (ar, _) = discovery::pinned_kind(
        &c.client,
        &GroupVersionKind::gvk("apps", "v1", "Deployment"),
    )
    .await
    .expect("pinned_kind");
    assert_eq!(ar.plural, "deployments");
    assert_eq!(ar.api_version, "apps/v1");

    let aggregated = Discovery::new(c.client.clone())
        .run_aggregated()
        .await
        .expect("aggregated discovery");
    assert!(
        aggregated
            .resolve_gvk(&GroupVersionKind::gvk("batch", "v1", "CronJob"))
            .is_some()
    );
    assert!(
        aggregated
            .resolve_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap"))
            .is_some()
    );
}

#[tokio::test]
async fn raw_resource_list_has_short_names_and_status_subresource() {
    let c = common::start().await;
    let (code, body) = common::raw(&c.server, "GET", "/apis/apps/v1", "application/json", "")
        .await
        .expect("response");
    assert_eq!(code, 200);
    let doc: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(doc["kind"], "APIResourceList");
    let resources = doc["resources"].as_array().expect("resources");
    let deploy = resources
        .iter()
        .find(|r| r["name"] == "deployments")
        .expect("deployments");
    assert_eq!(deploy["singularName"], "deployment");
    assert_eq!(deploy["shortNames"], serde_json::json!(["deploy"]));
    assert_eq!(deploy["namespaced"], true);
    let status = resources
        .iter()
        .find(|r| r["name"] == "deployments/status")
        .expect("status subresource");
    assert_eq!(
        status["verbs"],
        serde_json::json!(["get", "patch", "update"])
    );
}

pub fn widget_crd() -> CustomResourceDefinition {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
                "subresources": {"status": {}}
            }]
        }
    }))
    .expect("valid CRD")
}

#[tokio::test]
async fn crd_adds_and_removes_discovery_entries() {
    let c = common::start().await;
    let crds: Api<CustomResourceDefinition> = Api::all(c.client.clone());
    crds.create(&PostParams::default(), &widget_crd())
        .await
        .expect("create CRD");
    let gvk = GroupVersionKind::gvk("example.com", "v1", "Widget");
    let (ar, caps) = discovery::pinned_kind(&c.client, &gvk)
        .await
        .expect("widget discovered");
    assert_eq!(ar.plural, "widgets");
    assert_eq!(caps.scope, Scope::Namespaced);

    let established = common::eventually(5, || {
        let crds = crds.clone();
        async move {
            let crd = crds.get("widgets.example.com").await.ok()?;
            let conditions = crd.status?.conditions?;
            let ok = |t: &str| {
                conditions
                    .iter()
                    .any(|c| c.type_ == t && c.status == "True")
            };
            (ok("Established") && ok("NamesAccepted")).then_some(())
        }
    })
    .await;
    let () = established;

    crds.delete("widgets.example.com", &DeleteParams::default())
        .await
        .expect("delete CRD");
    let disc = Discovery::new(c.client.clone())
        .run()
        .await
        .expect("discovery");
    assert!(disc.resolve_gvk(&gvk).is_none());
    assert!(discovery::pinned_kind(&c.client, &gvk).await.is_err());
}
