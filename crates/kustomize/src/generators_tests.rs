//! Tests of the generators and hash suffixes, through `render`.

use serde_json::json;

use super::super::test_support::{files, objects, rendered};
use super::super::{KustomizeError, render};

/// Expected names printed by `kubectl kustomize` (Kustomize v5.5) for these inputs. Older
/// Kustomize versions hashed the name too, so the Kubernetes documentation shows other
/// suffixes for some of them (`8mbdf7882g` where v5 prints `g4hk9g2ff8`).
#[test]
fn hash_suffixes_match_kubectl_kustomize() {
    let cases = [
        (
            "configMapGenerator:\n- name: example-configmap-1\n  files:\n  - application.properties\n",
            "example-configmap-1-g4hk9g2ff8",
        ),
        (
            "configMapGenerator:\n- name: example-configmap-2\n  literals:\n  - FOO=Bar\n",
            "example-configmap-2-42cfbf598f",
        ),
        (
            "secretGenerator:\n- name: example-secret-1\n  files:\n  - password.txt\n",
            "example-secret-1-2kdd8ckcc7",
        ),
    ];
    for (kustomization, expected) in cases {
        let source = files(&[
            ("kustomization.yaml", kustomization),
            ("application.properties", "FOO=Bar\n"),
            ("password.txt", "username=admin\npassword=secret\n"),
        ]);
        let documents = render(&source, "").expect("renders");
        assert_eq!(
            documents[0].document["metadata"]["name"],
            json!(expected),
            "{kustomization}"
        );
    }
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: web
        image: web
        envFrom:
        - configMapRef: {name: web-config}
        env:
        - name: PASSWORD
          valueFrom:
            secretKeyRef: {name: web-secret, key: password}
      volumes:
      - name: config
        configMap: {name: web-config}
      - name: secret
        secret: {secretName: web-secret}
      - name: both
        projected:
          sources:
          - configMap: {name: web-config}
          - secret: {name: web-secret}
";

#[test]
fn generated_objects_get_hashed_names_and_references_follow() {
    let source = files(&[
        (
            "app/kustomization.yaml",
            "resources: [deployment.yaml]
configMapGenerator:
- name: web-config
  literals:
  - MODE=\"fast\"
  files:
  - settings.ini=config/app.ini
  envs: [web.env]
secretGenerator:
- name: web-secret
  type: kubernetes.io/basic-auth
  literals: [password=hunter2]
",
        ),
        ("app/deployment.yaml", DEPLOYMENT),
        ("app/config/app.ini", "[server]\nport = 8080\n"),
        ("app/web.env", "# comment\n\nREGION=eu\n"),
    ]);
    let documents = render(&source, "app").expect("renders");
    let config = documents[1].document["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let secret = documents[2].document["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        config.starts_with("web-config-") && config.len() == "web-config-".len() + 10,
        "{config}"
    );
    assert!(
        secret.starts_with("web-secret-") && secret.len() == "web-secret-".len() + 10,
        "{secret}"
    );
    assert_eq!(
        rendered(&documents),
        vec![
            (
                "app/deployment.yaml".to_string(),
                1,
                json!({
                    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                    "spec": {"template": {"spec": {
                        "containers": [{
                            "name": "web", "image": "web",
                            "envFrom": [{"configMapRef": {"name": config}}],
                            "env": [{"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": secret, "key": "password"}}}],
                        }],
                        "volumes": [
                            {"name": "config", "configMap": {"name": config}},
                            {"name": "secret", "secret": {"secretName": secret}},
                            {"name": "both", "projected": {"sources": [{"configMap": {"name": config}}, {"secret": {"name": secret}}]}},
                        ]
                    }}}
                })
            ),
            (
                "app/kustomization.yaml".to_string(),
                1,
                json!({
                    "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": config},
                    "data": {"MODE": "fast", "settings.ini": "[server]\nport = 8080\n", "REGION": "eu"}
                })
            ),
            (
                "app/kustomization.yaml".to_string(),
                1,
                json!({
                    "apiVersion": "v1", "kind": "Secret", "metadata": {"name": secret},
                    "type": "kubernetes.io/basic-auth",
                    "data": {"password": "aHVudGVyMg=="}
                })
            ),
        ]
    );
}

#[test]
fn disable_name_suffix_hash_and_generator_options() {
    let source = files(&[(
        "kustomization.yaml",
        "generatorOptions:
  labels: {fruit: apple}
  annotations: {note: global}
configMapGenerator:
- name: plain
  literals: [a=1]
  options:
    disableNameSuffixHash: true
    labels: {fruit: pear, pet: dog}
- name: hashed
  literals: [a=1]
",
    )]);
    let documents = render(&source, "").expect("renders");
    assert_eq!(
        objects(&documents),
        vec![
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
                "name": "plain", "labels": {"fruit": "pear", "pet": "dog"}, "annotations": {"note": "global"}
            }, "data": {"a": "1"}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
                "name": documents[1].document["metadata"]["name"], "labels": {"fruit": "apple"}, "annotations": {"note": "global"}
            }, "data": {"a": "1"}}),
        ]
    );
    assert_ne!(documents[1].document["metadata"]["name"], json!("hashed"));
    let global = files(&[(
        "kustomization.yaml",
        "generatorOptions: {disableNameSuffixHash: true}\nsecretGenerator:\n- name: token\n  literals: [t=x]\n",
    )]);
    let documents = render(&global, "").expect("renders");
    assert_eq!(
        objects(&documents),
        vec![
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token"}, "type": "Opaque", "data": {"t": "eA=="}})
        ]
    );
}

#[test]
fn overlay_merges_into_the_base_generator() {
    let base_only = |overlay: &str| {
        files(&[
            (
                "base/kustomization.yaml",
                "resources: [deployment.yaml]\nconfigMapGenerator:\n- name: web-config\n  literals: [MODE=slow, LEVEL=1]\n",
            ),
            ("base/deployment.yaml", DEPLOYMENT),
            ("overlays/prod/kustomization.yaml", overlay),
        ])
    };
    let source = base_only(
        "resources: [../../base]\nnamePrefix: prod-\nconfigMapGenerator:\n- name: web-config\n  behavior: merge\n  literals: [MODE=fast]\n",
    );
    let documents = render(&source, "overlays/prod").expect("renders");
    let config = &documents[1];
    assert_eq!(config.origin, "base/kustomization.yaml");
    let name = config.document["metadata"]["name"]
        .as_str()
        .unwrap_or_default();
    assert!(name.starts_with("prod-web-config-"), "{name}");
    assert_eq!(
        config.document,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"MODE": "fast", "LEVEL": "1"}})
    );
    assert_eq!(documents[0].document["metadata"]["name"], json!("prod-web"));
    assert_eq!(
        documents[0].document["spec"]["template"]["spec"]["volumes"][0],
        json!({"name": "config", "configMap": {"name": name}})
    );
    // The same content under the same final name hashes the same, wherever it was generated.
    let flat = files(&[(
        "kustomization.yaml",
        "namePrefix: prod-\nconfigMapGenerator:\n- name: web-config\n  literals: [MODE=fast, LEVEL=1]\n",
    )]);
    let flat_documents = render(&flat, "").expect("renders");
    assert_eq!(flat_documents[0].document["metadata"]["name"], json!(name));

    let replace = base_only(
        "resources: [../../base]\nconfigMapGenerator:\n- name: web-config\n  behavior: replace\n  literals: [ONLY=this]\n",
    );
    let documents = render(&replace, "overlays/prod").expect("renders");
    assert_eq!(documents[1].document["data"], json!({"ONLY": "this"}));
}

#[test]
fn generator_errors_name_the_entry() {
    let no_base = files(&[(
        "kustomization.yaml",
        "configMapGenerator:\n- name: web-config\n  behavior: merge\n  literals: [A=1]\n",
    )]);
    assert_eq!(
        render(&no_base, ""),
        Err(KustomizeError::InvalidGenerator {
            file: "kustomization.yaml".to_string(),
            line: Some(2),
            message: "`behavior: merge` needs an existing ConfigMap named `web-config` from a base; list the base in `resources` or use `behavior: create`".to_string(),
        })
    );
    let missing_file = files(&[(
        "kustomization.yaml",
        "configMapGenerator:\n- name: c\n  files: [nope.txt]\n",
    )]);
    assert!(matches!(
        render(&missing_file, ""),
        Err(KustomizeError::MissingResource { line: Some(3), .. })
    ));
    let duplicate = files(&[(
        "kustomization.yaml",
        "configMapGenerator:\n- name: c\n  literals: [A=1, A=2]\n",
    )]);
    assert!(matches!(
        render(&duplicate, ""),
        Err(KustomizeError::InvalidGenerator { line: Some(2), .. })
    ));
}
