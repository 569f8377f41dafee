//! Tests of patches, through `render`.

use serde_json::json;

use super::super::test_support::{files, objects};
use super::super::{KustomizeError, render};

const APP: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: web
        image: web:1
        env:
        - {name: MODE, value: normal}
        - {name: DEBUG, value: \"true\"}
      - name: proxy
        image: proxy:1
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  labels: {app: worker}
spec:
  replicas: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  ports: [{port: 80}]
";

fn web(containers: serde_json::Value, replicas: i64) -> serde_json::Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": containers}}}
    })
}

fn worker(replicas: i64) -> serde_json::Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "worker", "labels": {"app": "worker"}}, "spec": {"replicas": replicas}})
}

fn service() -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "labels": {"app": "web"}}, "spec": {"ports": [{"port": 80}]}})
}

#[test]
fn strategic_merge_merges_containers_by_name() {
    let patch = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        image: web:2
        env:
        - {name: DEBUG, $patch: delete}
        - {name: REGION, value: eu}
";
    for kustomization in [
        "resources: [app.yaml]\npatchesStrategicMerge:\n- patch.yaml\n",
        "resources: [app.yaml]\npatches:\n- path: patch.yaml\n",
    ] {
        let source = files(&[
            ("kustomization.yaml", kustomization),
            ("app.yaml", APP),
            ("patch.yaml", patch),
        ]);
        let documents = render(&source, "").expect("renders");
        assert_eq!(
            objects(&documents),
            vec![
                web(
                    json!([
                        {"name": "web", "image": "web:2", "env": [{"name": "REGION", "value": "eu"}, {"name": "MODE", "value": "normal"}]},
                        {"name": "proxy", "image": "proxy:1"},
                    ]),
                    1
                ),
                worker(1),
                service(),
            ]
        );
    }
}

#[test]
fn json6902_patches_apply_to_their_target() {
    let source = files(&[
        (
            "kustomization.yaml",
            "resources: [app.yaml]
patches:
- target: {kind: Deployment, name: web}
  patch: |-
    - op: replace
      path: /spec/replicas
      value: 3
    - op: add
      path: /spec/template/spec/containers/0/args
      value: [--verbose]
patchesJson6902:
- target: {group: apps, version: v1, kind: Deployment, name: worker}
  path: worker.json
",
        ),
        ("app.yaml", APP),
        (
            "worker.json",
            "[{\"op\": \"replace\", \"path\": \"/spec/replicas\", \"value\": 5}]",
        ),
    ]);
    let documents = render(&source, "").expect("renders");
    assert_eq!(
        objects(&documents),
        vec![
            web(
                json!([
                    {"name": "web", "image": "web:1", "env": [{"name": "MODE", "value": "normal"}, {"name": "DEBUG", "value": "true"}], "args": ["--verbose"]},
                    {"name": "proxy", "image": "proxy:1"},
                ]),
                3
            ),
            worker(5),
            service(),
        ]
    );
}

#[test]
fn targets_select_by_kind_name_regex_and_label_selector() {
    let source = files(&[
        (
            "kustomization.yaml",
            "resources: [app.yaml]
patches:
- target: {kind: Deployment, name: \"w.*\"}
  patch: |-
    - {op: replace, path: /spec/replicas, value: 2}
- target: {labelSelector: app=web}
  patch: |-
    metadata:
      annotations: {team: shop}
- target: {kind: Deployment, labelSelector: \"app in (web)\"}
  patch: |-
    kind: Ignored
    metadata: {name: ignored}
    spec: {paused: true}
",
        ),
        ("app.yaml", APP),
    ]);
    let documents = render(&source, "").expect("renders");
    let containers = json!([
        {"name": "web", "image": "web:1", "env": [{"name": "MODE", "value": "normal"}, {"name": "DEBUG", "value": "true"}]},
        {"name": "proxy", "image": "proxy:1"},
    ]);
    assert_eq!(
        objects(&documents),
        vec![
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {"team": "shop"}},
                "spec": {"replicas": 2, "template": {"spec": {"containers": containers}}, "paused": true}
            }),
            worker(2),
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {"team": "shop"}}, "spec": {"ports": [{"port": 80}]}}),
        ]
    );
}

#[test]
fn a_delete_patch_removes_the_object() {
    let source = files(&[
        (
            "kustomization.yaml",
            "resources: [app.yaml]\npatches:\n- patch: |-\n    $patch: delete\n    apiVersion: v1\n    kind: Service\n    metadata: {name: web}\n",
        ),
        ("app.yaml", APP),
    ]);
    let documents = render(&source, "").expect("renders");
    assert_eq!(documents.len(), 2);
    assert_eq!(objects(&documents)[1], worker(1));
}

#[test]
fn a_patch_for_a_missing_object_is_an_error() {
    let source = files(&[
        (
            "kustomization.yaml",
            "resources: [app.yaml]\npatchesStrategicMerge:\n- patch.yaml\n",
        ),
        ("app.yaml", APP),
        (
            "patch.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec: {replicas: 2}\n",
        ),
    ]);
    assert_eq!(
        render(&source, ""),
        Err(KustomizeError::PatchTargetNotFound {
            file: "patch.yaml".to_string(),
            line: Some(1),
            message: "no Deployment/api among this kustomization's resources; check the patch's kind and metadata.name".to_string(),
        })
    );
}

#[test]
fn invalid_targets_and_patches_are_errors() {
    let bad_field = files(&[
        (
            "kustomization.yaml",
            "resources: [app.yaml]\npatches:\n- target: {kind: Deployment, nmae: web}\n  patch: \"spec: {}\"\n",
        ),
        ("app.yaml", APP),
    ]);
    assert_eq!(
        render(&bad_field, ""),
        Err(KustomizeError::InvalidPatch {
            file: "kustomization.yaml".to_string(),
            line: Some(3),
            message: "unknown field `nmae` in `target`; known fields are group, version, kind, name, namespace, labelSelector, annotationSelector".to_string(),
        })
    );
    let bad_regex = files(&[
        (
            "kustomization.yaml",
            "resources: [app.yaml]\npatches:\n- target:\n    name: \"web-(\"\n  patch: \"spec: {}\"\n",
        ),
        ("app.yaml", APP),
    ]);
    assert!(matches!(
        render(&bad_regex, ""),
        Err(KustomizeError::InvalidPatch { line: Some(3), .. })
    ));
    let no_target = files(&[
        (
            "kustomization.yaml",
            "resources: [app.yaml]\npatches:\n- path: ops.yaml\n",
        ),
        ("app.yaml", APP),
        ("ops.yaml", "- {op: remove, path: /spec/replicas}\n"),
    ]);
    assert!(
        matches!(render(&no_target, ""), Err(KustomizeError::InvalidPatch { ref file, line: Some(3), .. }) if file == "kustomization.yaml")
    );
    let failing_op = files(&[
        (
            "kustomization.yaml",
            "resources: [app.yaml]\npatches:\n- target: {kind: Service}\n  path: ops.yaml\n",
        ),
        ("app.yaml", APP),
        ("ops.yaml", "- {op: remove, path: /spec/missing}\n"),
    ]);
    assert_eq!(
        render(&failing_op, ""),
        Err(KustomizeError::InvalidPatch {
            file: "ops.yaml".to_string(),
            line: Some(1),
            message: "operation 1 (remove /spec/missing): path `/spec/missing` does not exist in Service/web".to_string(),
        })
    );
}

/// A CRD among the objects gives its kind's merge keys (`x-kubernetes-list-type: map`), as
/// the API server merges such lists; a list its schema leaves atomic is replaced.
#[test]
fn crd_schemas_drive_strategic_merge_of_custom_kinds() {
    let crd = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: pipelines.example.com
spec:
  group: example.com
  names: {kind: Pipeline, plural: pipelines}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              stages:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [id]
                items:
                  type: object
                  properties:
                    id: {type: string}
                    image: {type: string}
              tags:
                type: array
                items: {type: object}
";
    let pipeline = "apiVersion: example.com/v1
kind: Pipeline
metadata:
  name: build
spec:
  stages:
  - id: test
    image: golang:1.22
  - id: lint
    image: golangci:1
  tags:
  - name: a
";
    let patch = "apiVersion: example.com/v1
kind: Pipeline
metadata:
  name: build
spec:
  stages:
  - id: test
    image: golang:1.23
  tags:
  - name: b
";
    let source = files(&[
        (
            "kustomization.yaml",
            "resources:\n- crd.yaml\n- pipeline.yaml\npatches:\n- path: patch.yaml\n",
        ),
        ("crd.yaml", crd),
        ("pipeline.yaml", pipeline),
        ("patch.yaml", patch),
    ]);
    let out = objects(&render(&source, "").expect("renders"));
    let spec = &out[1]["spec"];
    assert_eq!(
        spec["stages"],
        json!([{"id": "test", "image": "golang:1.23"}, {"id": "lint", "image": "golangci:1"}])
    );
    assert_eq!(spec["tags"], json!([{"name": "b"}]));
}
