//! Tests of the cross-cutting transformers, through `render`.

use serde_json::json;

use super::super::render;
use super::super::test_support::{files, objects};

const APP: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      serviceAccountName: web
      containers:
      - name: web
        image: web:1
        envFrom:
        - configMapRef: {name: web-config}
        - secretRef: {name: web-secret}
        env:
        - name: TOKEN
          valueFrom:
            secretKeyRef: {name: web-secret, key: token}
      volumes:
      - name: data
        persistentVolumeClaim: {claimName: data}
      - name: external
        configMap: {name: not-in-this-build}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: web
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
---
apiVersion: v1
kind: Secret
metadata:
  name: web-secret
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: reader
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: reader
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects:
- {kind: ServiceAccount, name: web}
- {kind: ServiceAccount, name: default}
- {kind: User, name: web}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  tls:
  - secretName: web-secret
  rules:
  - http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service: {name: web, port: {number: 80}}
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: viewer
";

#[test]
fn namespace_skips_cluster_scoped_kinds() {
    let source = files(&[
        (
            "kustomization.yaml",
            "namespace: shop\nresources: [app.yaml]\n",
        ),
        ("app.yaml", APP),
    ]);
    let documents = render(&source, "").expect("renders");
    let namespaces: Vec<_> = objects(&documents)
        .iter()
        .map(|object| {
            (
                object["kind"].clone(),
                object["metadata"].get("namespace").cloned(),
            )
        })
        .collect();
    assert_eq!(
        namespaces,
        vec![
            (json!("Deployment"), Some(json!("shop"))),
            (json!("Service"), Some(json!("shop"))),
            (json!("ServiceAccount"), Some(json!("shop"))),
            (json!("ConfigMap"), Some(json!("shop"))),
            (json!("Secret"), Some(json!("shop"))),
            (json!("PersistentVolumeClaim"), Some(json!("shop"))),
            (json!("Role"), Some(json!("shop"))),
            (json!("RoleBinding"), Some(json!("shop"))),
            (json!("Ingress"), Some(json!("shop"))),
            (json!("Namespace"), None),
            (json!("ClusterRole"), None),
        ]
    );
    assert_eq!(
        objects(&documents)[7],
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "reader", "namespace": "shop"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
            "subjects": [
                {"kind": "ServiceAccount", "name": "web", "namespace": "shop"},
                {"kind": "ServiceAccount", "name": "default", "namespace": "shop"},
                // Kustomize treats any subject named like the account as the account (kubectl kustomize).
                {"kind": "User", "name": "web", "namespace": "shop"},
            ]
        })
    );
}

#[test]
fn prefix_and_suffix_rename_objects_and_references() {
    let source = files(&[
        (
            "kustomization.yaml",
            "namePrefix: shop-\nnameSuffix: -v2\nresources: [app.yaml]\n",
        ),
        ("app.yaml", APP),
    ]);
    let documents = render(&source, "").expect("renders");
    let all = objects(&documents);
    assert_eq!(
        all[0],
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "shop-web-v2"},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {
                        "serviceAccountName": "shop-web-v2",
                        "containers": [{
                            "name": "web", "image": "web:1",
                            "envFrom": [{"configMapRef": {"name": "shop-web-config-v2"}}, {"secretRef": {"name": "shop-web-secret-v2"}}],
                            "env": [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "shop-web-secret-v2", "key": "token"}}}],
                        }],
                        "volumes": [
                            {"name": "data", "persistentVolumeClaim": {"claimName": "shop-data-v2"}},
                            {"name": "external", "configMap": {"name": "not-in-this-build"}},
                        ]
                    }
                }
            }
        })
    );
    assert_eq!(
        all[7],
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "shop-reader-v2"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "shop-reader-v2"},
            "subjects": [
                {"kind": "ServiceAccount", "name": "shop-web-v2"},
                {"kind": "ServiceAccount", "name": "default"},
                {"kind": "User", "name": "shop-web-v2"},
            ]
        })
    );
    assert_eq!(
        all[8],
        json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "shop-web-v2"},
            "spec": {
                "tls": [{"secretName": "shop-web-secret-v2"}],
                "rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "shop-web-v2", "port": {"number": 80}}}}]}}]
            }
        })
    );
    // Namespaces are never renamed; other cluster-scoped objects are.
    assert_eq!(
        all[9],
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    );
    assert_eq!(
        all[10],
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "shop-viewer-v2"}})
    );
}

const SMALL: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers: [{name: web, image: web}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: job, image: job}]
";

#[test]
fn common_labels_reach_selectors_and_templates() {
    let source = files(&[
        (
            "kustomization.yaml",
            "commonLabels:\n  team: shop\nresources: [app.yaml]\n",
        ),
        ("app.yaml", SMALL),
    ]);
    let documents = render(&source, "").expect("renders");
    assert_eq!(
        objects(&documents),
        vec![
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"team": "shop"}}, "spec": {
                "selector": {"matchLabels": {"app": "web", "team": "shop"}},
                "template": {"metadata": {"labels": {"app": "web", "team": "shop"}}, "spec": {"containers": [{"name": "web", "image": "web"}]}}
            }}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "labels": {"team": "shop"}}, "spec": {
                "selector": {"app": "web", "team": "shop"}
            }}),
            json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "labels": {"team": "shop"}}, "spec": {
                "jobTemplate": {"metadata": {"labels": {"team": "shop"}}, "spec": {"template": {
                    "metadata": {"labels": {"team": "shop"}},
                    "spec": {"containers": [{"name": "job", "image": "job"}]}
                }}}
            }}),
        ]
    );
}

#[test]
fn labels_without_include_selectors_touch_only_metadata_or_templates() {
    let source = files(&[
        (
            "kustomization.yaml",
            "labels:\n- pairs: {team: shop}\n- pairs: {tier: web}\n  includeTemplates: true\nresources: [app.yaml]\n",
        ),
        ("app.yaml", SMALL),
    ]);
    let documents = render(&source, "").expect("renders");
    assert_eq!(
        objects(&documents)[..2],
        vec![
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"team": "shop", "tier": "web"}}, "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web", "tier": "web"}}, "spec": {"containers": [{"name": "web", "image": "web"}]}}
            }}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "labels": {"team": "shop", "tier": "web"}}, "spec": {
                "selector": {"app": "web"}
            }}),
        ]
    );
}

#[test]
fn common_annotations_reach_metadata_and_templates() {
    let source = files(&[
        (
            "kustomization.yaml",
            "commonAnnotations:\n  owner: shop\n  build: \"42\"\nresources: [app.yaml]\n",
        ),
        ("app.yaml", SMALL),
    ]);
    let documents = render(&source, "").expect("renders");
    let annotations = json!({"owner": "shop", "build": "42"});
    assert_eq!(
        objects(&documents),
        vec![
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "annotations": annotations}, "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}, "annotations": annotations}, "spec": {"containers": [{"name": "web", "image": "web"}]}}
            }}),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "annotations": annotations}, "spec": {
                "selector": {"app": "web"}
            }}),
            json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly", "annotations": annotations}, "spec": {
                "jobTemplate": {"metadata": {"annotations": annotations}, "spec": {"template": {
                    "metadata": {"annotations": annotations},
                    "spec": {"containers": [{"name": "job", "image": "job"}]}
                }}}
            }}),
        ]
    );
}
