//! Shared test helpers: a kubesim server per test (configured as every suite configures it,
//! `braid_testkit::kubesim_config`), a provider configured against it, a kube-rs client for
//! out-of-band changes, and request builders.

#![allow(dead_code)]

use std::sync::Mutex;
use std::time::Duration;

use braid_provider::{
    ApplyRequest, ApplyResponse, ImportRequest, ImportResponse, PlanRequest, PlanResponse,
    Progress, Provider, ReadRequest, ReadResponse, Value, WaitRequest, WaitResponse,
};
use braid_provider_kubernetes::{KubernetesProvider, MANIFEST_TYPE};
use kube::config::{KubeConfigOptions, Kubeconfig};

pub struct Cluster {
    pub server: kubesim::Server,
    /// A plain kube-rs client, standing for other tools (kubectl, controllers, people).
    pub client: kube::Client,
    pub provider: KubernetesProvider,
}

pub async fn start() -> Cluster {
    start_with(&[]).await
}

/// A fresh kubesim and a provider configured for it with extra provider attributes.
pub async fn start_with(extra: &[(&str, Value)]) -> Cluster {
    let server = kubesim::Server::start(braid_testkit::kubesim_config())
        .await
        .expect("kubesim starts on an ephemeral port");
    let provider = provider_for(&server, extra).await;
    let kubeconfig =
        Kubeconfig::read_from(server.kubeconfig_path()).expect("kubeconfig written by kubesim");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig is valid");
    let client = kube::Client::try_from(config).expect("client builds for plain http");
    Cluster {
        server,
        client,
        provider,
    }
}

pub async fn provider_for(server: &kubesim::Server, extra: &[(&str, Value)]) -> KubernetesProvider {
    let provider = KubernetesProvider::new();
    let mut config = vec![(
        "kubeconfig",
        Value::from(
            server
                .kubeconfig_path()
                .to_str()
                .expect("temp paths are UTF-8"),
        ),
    )];
    config.extend(extra.iter().cloned());
    let diagnostics = provider.configure(Value::map(config)).await;
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    provider
}

/// A manifest from JSON.
pub fn manifest(json: serde_json::Value) -> Value {
    Value::from_json(&json)
}

/// The address braid gives a manifest.
pub fn address(config: &Value) -> String {
    let api_version = config
        .attr("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let group = api_version
        .split_once('/')
        .map_or("core", |(group, _)| group);
    let metadata = config.attr("metadata");
    format!(
        "k8s/{group}/{}/{}/{}",
        config.attr("kind").and_then(Value::as_str).unwrap_or(""),
        metadata
            .and_then(|m| m.attr("namespace"))
            .and_then(Value::as_str)
            .unwrap_or("_"),
        metadata
            .and_then(|m| m.attr("name"))
            .and_then(Value::as_str)
            .unwrap_or("")
    )
}

pub async fn plan(
    provider: &KubernetesProvider,
    prior: Option<&Value>,
    config: &Value,
) -> PlanResponse {
    provider
        .plan(PlanRequest {
            type_name: MANIFEST_TYPE.to_string(),
            address: address(config),
            prior: prior.cloned(),
            config: config.clone(),
            sensitive: Vec::new(),
        })
        .await
}

pub async fn apply(
    provider: &KubernetesProvider,
    prior: Option<&Value>,
    planned: Option<&Value>,
    config: &Value,
) -> ApplyResponse {
    provider
        .apply(ApplyRequest {
            type_name: MANIFEST_TYPE.to_string(),
            address: address(config),
            prior: prior.cloned(),
            planned: planned.cloned(),
            config: config.clone(),
        })
        .await
}

/// Plans and applies like the engine: no diagnostics, and the result matches the plan.
pub async fn plan_and_apply(
    provider: &KubernetesProvider,
    prior: Option<&Value>,
    config: &Value,
) -> (PlanResponse, Value) {
    let planned = plan(provider, prior, config).await;
    assert!(planned.diagnostics.is_empty(), "{:?}", planned.diagnostics);
    let applied = apply(provider, prior, Some(&planned.planned), config).await;
    assert!(applied.diagnostics.is_empty(), "{:?}", applied.diagnostics);
    let state = applied
        .new_state
        .clone()
        .expect("a create or update has a state");
    assert_consistent(&planned.planned, &state);
    (planned, state)
}

/// Every known value of `planned` is what `actual` has, and nothing is added.
pub fn assert_consistent(planned: &Value, actual: &Value) {
    fn walk(planned: &Value, actual: &Value, at: &str) {
        match (planned, actual) {
            (Value::Unknown, _) => {}
            (Value::Map(p), Value::Map(a)) => {
                for key in p.keys().chain(a.keys()) {
                    let null = Value::Null;
                    walk(
                        p.get(key).unwrap_or(&null),
                        a.get(key).unwrap_or(&null),
                        &format!("{at}.{key}"),
                    );
                }
            }
            (Value::List(p), Value::List(a)) if p.len() == a.len() => {
                for (i, (pv, av)) in p.iter().zip(a).enumerate() {
                    walk(pv, av, &format!("{at}[{i}]"));
                }
            }
            (p, a) => assert_eq!(p, a, "planned and applied differ at {at}"),
        }
    }
    walk(planned, actual, "");
}

pub async fn read(provider: &KubernetesProvider, current: &Value) -> ReadResponse {
    provider
        .read(ReadRequest {
            type_name: MANIFEST_TYPE.to_string(),
            address: address(current),
            current: current.clone(),
        })
        .await
}

pub async fn import(provider: &KubernetesProvider, id: &str) -> ImportResponse {
    provider
        .import(ImportRequest {
            address: "kubernetes_manifest.imported".to_string(),
            type_name: MANIFEST_TYPE.to_string(),
            id: id.to_string(),
        })
        .await
}

/// Records every progress report.
#[derive(Default)]
pub struct RecordedProgress(pub Mutex<Vec<(String, String)>>);

impl Progress for RecordedProgress {
    fn report(&self, address: &str, message: &str) {
        self.0
            .lock()
            .expect("no test panics while holding the lock")
            .push((address.to_string(), message.to_string()));
    }
}

impl RecordedProgress {
    pub fn messages(&self) -> Vec<String> {
        self.0
            .lock()
            .expect("no test panics while holding the lock")
            .iter()
            .map(|(_, m)| m.clone())
            .collect()
    }
}

pub async fn wait_ready(
    provider: &KubernetesProvider,
    state: &Value,
    timeout: Duration,
    progress: &RecordedProgress,
) -> WaitResponse {
    provider
        .wait_ready(
            WaitRequest {
                type_name: MANIFEST_TYPE.to_string(),
                address: address(state),
                state: state.clone(),
                timeout,
            },
            progress,
        )
        .await
}

pub fn at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    value.get(&braid_provider::Path::parse(path).expect("valid path"))
}

pub fn namespace(name: &str) -> Value {
    manifest(serde_json::json!({
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}
    }))
}

pub fn config_map(namespace: &str, name: &str, data: serde_json::Value) -> Value {
    manifest(serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data
    }))
}

pub fn deployment(namespace: &str, name: &str, image: &str, app_label: &str) -> Value {
    manifest(serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": app_label}},
            "template": {
                "metadata": {"labels": {"app": app_label}},
                "spec": {"containers": [{
                    "name": "app", "image": image,
                    "ports": [{"containerPort": 8080}],
                    "envFrom": [{"configMapRef": {"name": "settings"}}]
                }]}
            }
        }
    }))
}

pub fn service(namespace: &str, name: &str) -> Value {
    manifest(serde_json::json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]}
    }))
}
