//! `local_value`: a value kept only in state.

mod common;

use braid_provider::{Path, Value};
use braid_provider_local::LocalProvider;
use common::{apply, attr, config, import, plan, plan_and_apply, read};

const VALUE: &str = "local_value";

#[tokio::test]
async fn create_assigns_id_and_copies_input_to_output() {
    let provider = LocalProvider::new();
    let input = Value::map([("replicas", Value::from(3)), ("name", Value::from("web"))]);
    let cfg = config([("input", input.clone())]);
    let (planned, state) = plan_and_apply(&provider, VALUE, None, &cfg).await;

    assert_eq!(attr(&planned.planned, "id"), &Value::Unknown);
    assert_eq!(attr(&planned.planned, "output"), &input);
    let id = attr(&state, "id").as_str().expect("id is a string");
    assert!(!id.is_empty());
    assert_eq!(attr(&state, "output"), &input);
    assert_eq!(attr(&state, "input"), &input);

    // Two resources get different ids.
    let (_, other) = plan_and_apply(&provider, VALUE, None, &cfg).await;
    assert_ne!(attr(&other, "id"), attr(&state, "id"));
}

#[tokio::test]
async fn unchanged_config_plans_prior() {
    let provider = LocalProvider::new();
    let cfg = config([
        ("input", Value::from("x")),
        ("triggers_replace", Value::from("v1")),
    ]);
    let (_, state) = plan_and_apply(&provider, VALUE, None, &cfg).await;
    let refreshed = read(&provider, VALUE, &state)
        .await
        .state
        .expect("in state");
    assert_eq!(refreshed, state);
    let again = plan(&provider, VALUE, Some(&state), &cfg).await;
    assert_eq!(again.planned, state);
    assert!(again.requires_replace.is_empty());
}

#[tokio::test]
async fn triggers_replace_change_requires_replace() {
    let provider = LocalProvider::new();
    let cfg = config([("triggers_replace", Value::from("v1"))]);
    let (_, state) = plan_and_apply(&provider, VALUE, None, &cfg).await;

    let changed = config([("triggers_replace", Value::from("v2"))]);
    let planned = plan(&provider, VALUE, Some(&state), &changed).await;
    assert_eq!(
        planned.requires_replace,
        vec![Path::key("triggers_replace")]
    );
    assert_eq!(attr(&planned.planned, "id"), &Value::Unknown);

    let unknown = config([("triggers_replace", Value::List(vec![Value::Unknown]))]);
    let planned = plan(&provider, VALUE, Some(&state), &unknown).await;
    assert_eq!(
        planned.requires_replace,
        vec![Path::key("triggers_replace")]
    );
}

#[tokio::test]
async fn input_change_updates_and_keeps_id() {
    let provider = LocalProvider::new();
    let (_, state) = plan_and_apply(
        &provider,
        VALUE,
        None,
        &config([("input", Value::from("a"))]),
    )
    .await;

    let changed = config([("input", Value::from("b"))]);
    let (planned, new_state) = plan_and_apply(&provider, VALUE, Some(&state), &changed).await;
    assert!(planned.requires_replace.is_empty());
    assert_eq!(attr(&planned.planned, "id"), attr(&state, "id"));
    assert_eq!(attr(&new_state, "id"), attr(&state, "id"));
    assert_eq!(attr(&new_state, "output"), &Value::from("b"));
}

#[tokio::test]
async fn unknown_input_plans_unknown_output() {
    let provider = LocalProvider::new();
    let cfg = config([("input", Value::Unknown)]);
    let planned = plan(&provider, VALUE, None, &cfg).await;
    assert!(planned.diagnostics.is_empty(), "{:?}", planned.diagnostics);
    assert_eq!(attr(&planned.planned, "output"), &Value::Unknown);

    let resolved = config([("input", Value::from("known now"))]);
    let applied = apply(&provider, VALUE, None, Some(&planned.planned), &resolved).await;
    assert!(applied.diagnostics.is_empty(), "{:?}", applied.diagnostics);
    let state = applied.new_state.expect("created");
    assert_eq!(attr(&state, "output"), &Value::from("known now"));
}

#[tokio::test]
async fn delete_forgets_and_import_is_refused() {
    let provider = LocalProvider::new();
    let cfg = config([("input", Value::from("x"))]);
    let (_, state) = plan_and_apply(&provider, VALUE, None, &cfg).await;
    let deleted = apply(&provider, VALUE, Some(&state), None, &cfg).await;
    assert_eq!(deleted.new_state, None);
    assert!(deleted.diagnostics.is_empty());

    let imported = import(&provider, VALUE, "anything").await;
    assert_eq!(imported.state, None);
    assert_eq!(imported.diagnostics.len(), 1);
    assert!(imported.diagnostics[0].is_error());
    assert_eq!(
        imported.diagnostics[0].summary,
        "local_value cannot be imported"
    );
}
