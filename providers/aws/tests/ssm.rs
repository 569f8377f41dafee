//! `aws_ssm_parameter` against moto_server.

mod common;

use aws_sdk_ssm::types::ParameterType;
use braid_provider::{Provider, Value};
use common::{Harness, attr, config, string, tags, with};

const PARAMETER: &str = "aws_ssm_parameter";

fn ssm(h: &Harness) -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::new(&h.sdk)
}

async fn live_value(h: &Harness, name: &str) -> Option<String> {
    ssm(h)
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .ok()?
        .parameter()
        .and_then(|p| p.value().map(str::to_string))
}

#[tokio::test]
async fn parameter_lifecycle() {
    let h = Harness::start().await;
    let schema = h.provider.schema();
    assert!(schema.resources[PARAMETER].attributes["value"].sensitive);

    let cfg = config([
        ("name", Value::from("/app/db/password")),
        ("type", Value::from("SecureString")),
        ("value", Value::from("hunter2")),
        ("tags", tags([("team", "web")])),
    ]);
    let (_, state) = h.apply(PARAMETER, None, &cfg).await;
    assert_eq!(attr(&state, "version"), &Value::from(1));
    assert_eq!(
        live_value(&h, "/app/db/password").await.as_deref(),
        Some("hunter2")
    );
    h.assert_no_op(PARAMETER, &state, &cfg).await;
    h.assert_import(PARAMETER, "/app/db/password", &state).await;

    // A new value is a new version, unknown until applied.
    let updated = with(
        &with(&cfg, "value", Value::from("correct horse")),
        "description",
        Value::from("database password"),
    );
    let planned = h.plan(PARAMETER, Some(&state), &updated).await;
    assert_eq!(attr(&planned.planned, "version"), &Value::Unknown);
    let state = h.update(PARAMETER, &state, &updated).await;
    assert_eq!(attr(&state, "version"), &Value::from(2));
    assert_eq!(
        live_value(&h, "/app/db/password").await.as_deref(),
        Some("correct horse")
    );

    ssm(&h)
        .put_parameter()
        .name("/app/db/password")
        .r#type(ParameterType::SecureString)
        .value("changed by hand")
        .overwrite(true)
        .send()
        .await
        .expect("PutParameter");
    let state = h.restore_drift(PARAMETER, &state, &updated, "value").await;
    assert_eq!(
        live_value(&h, "/app/db/password").await.as_deref(),
        Some("correct horse")
    );

    let retyped = with(&updated, "type", Value::from("String"));
    let state = h.replace(PARAMETER, &state, &retyped, &["type"]).await;
    assert_eq!(attr(&state, "type"), &Value::from("String"));

    ssm(&h)
        .delete_parameter()
        .name("/app/db/password")
        .send()
        .await
        .expect("DeleteParameter");
    let state = h.recreate(PARAMETER, &state, &retyped).await;

    h.destroy(PARAMETER, &state).await;
    assert_eq!(live_value(&h, "/app/db/password").await, None);
    assert_eq!(string(&state, "id"), "/app/db/password");
}
