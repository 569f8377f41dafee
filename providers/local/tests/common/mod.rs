//! Helpers shared by the integration tests: build requests and run them against a real
//! `LocalProvider`.

#![allow(dead_code)]

use braid_provider::{
    ApplyRequest, ApplyResponse, ImportRequest, ImportResponse, PlanRequest, PlanResponse,
    Provider, ReadRequest, ReadResponse, Value,
};
use braid_provider_local::LocalProvider;

pub const ADDRESS: &str = "test.resource";

/// A provider configured with `base_dir`, failing the test on any diagnostic.
pub async fn provider_in(base_dir: &std::path::Path) -> LocalProvider {
    let provider = LocalProvider::new();
    let diagnostics = provider
        .configure(Value::map([(
            "base_dir",
            Value::string(base_dir.to_str().expect("temp dirs have UTF-8 paths")),
        )]))
        .await;
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    provider
}

pub async fn plan(
    provider: &LocalProvider,
    type_name: &str,
    prior: Option<&Value>,
    config: &Value,
) -> PlanResponse {
    provider
        .plan(PlanRequest {
            type_name: type_name.to_string(),
            address: ADDRESS.to_string(),
            prior: prior.cloned(),
            config: config.clone(),
            sensitive: Vec::new(),
        })
        .await
}

pub async fn apply(
    provider: &LocalProvider,
    type_name: &str,
    prior: Option<&Value>,
    planned: Option<&Value>,
    config: &Value,
) -> ApplyResponse {
    provider
        .apply(ApplyRequest {
            type_name: type_name.to_string(),
            address: ADDRESS.to_string(),
            prior: prior.cloned(),
            planned: planned.cloned(),
            config: config.clone(),
        })
        .await
}

/// Plans and applies `config` on top of `prior`, asserting both steps are clean; returns the
/// plan and the new state.
pub async fn plan_and_apply(
    provider: &LocalProvider,
    type_name: &str,
    prior: Option<&Value>,
    config: &Value,
) -> (PlanResponse, Value) {
    let planned = plan(provider, type_name, prior, config).await;
    assert!(planned.diagnostics.is_empty(), "{:?}", planned.diagnostics);
    let applied = apply(provider, type_name, prior, Some(&planned.planned), config).await;
    assert!(applied.diagnostics.is_empty(), "{:?}", applied.diagnostics);
    let state = applied
        .new_state
        .clone()
        .expect("a create or update has a state");
    (planned, state)
}

pub async fn read(provider: &LocalProvider, type_name: &str, current: &Value) -> ReadResponse {
    provider
        .read(ReadRequest {
            type_name: type_name.to_string(),
            address: ADDRESS.to_string(),
            current: current.clone(),
        })
        .await
}

pub async fn import(provider: &LocalProvider, type_name: &str, id: &str) -> ImportResponse {
    provider
        .import(ImportRequest {
            address: format!("{type_name}.imported"),
            type_name: type_name.to_string(),
            id: id.to_string(),
        })
        .await
}

/// A config map from attribute pairs.
pub fn config<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::map(pairs)
}

pub fn attr<'a>(value: &'a Value, name: &str) -> &'a Value {
    value
        .attr(name)
        .unwrap_or_else(|| panic!("attribute {name} missing from {value:?}"))
}
