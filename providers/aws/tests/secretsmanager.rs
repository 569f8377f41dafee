//! `aws_secretsmanager_secret` against moto_server.

mod common;

use braid_provider::{Provider, Value};
use common::{Harness, attr, config, string, tags, with};

const SECRET: &str = "aws_secretsmanager_secret";

fn secrets(h: &Harness) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&h.sdk)
}

async fn live_value(h: &Harness, id: &str) -> Option<String> {
    secrets(h)
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .ok()?
        .secret_string()
        .map(str::to_string)
}

#[tokio::test]
async fn secret_lifecycle() {
    let h = Harness::start().await;
    assert!(h.provider.schema().resources[SECRET].attributes["secret_string"].sensitive);

    let cfg = config([
        ("name", Value::from("app/api-key")),
        ("description", Value::from("API key")),
        ("secret_string", Value::from("s3cr3t")),
        ("tags", tags([("team", "web")])),
    ]);
    let (_, state) = h.apply(SECRET, None, &cfg).await;
    let arn = string(&state, "arn");
    assert_eq!(string(&state, "id"), arn);
    assert_eq!(live_value(&h, &arn).await.as_deref(), Some("s3cr3t"));
    h.assert_no_op(SECRET, &state, &cfg).await;
    h.assert_import(SECRET, &arn, &state).await;
    assert_eq!(
        h.plan(SECRET, None, &cfg).await.existing.as_ref(),
        Some(&state)
    );

    let updated = with(
        &with(&cfg, "secret_string", Value::from("n3w")),
        "description",
        Value::from("the API key"),
    );
    let state = h.update(SECRET, &state, &updated).await;
    assert_eq!(live_value(&h, &arn).await.as_deref(), Some("n3w"));

    secrets(&h)
        .put_secret_value()
        .secret_id(&arn)
        .secret_string("by hand")
        .send()
        .await
        .expect("PutSecretValue");
    let state = h
        .restore_drift(SECRET, &state, &updated, "secret_string")
        .await;
    assert_eq!(live_value(&h, &arn).await.as_deref(), Some("n3w"));

    let renamed = with(&updated, "name", Value::from("app/api-key-2"));
    let state = h.replace(SECRET, &state, &renamed, &["name"]).await;
    assert_eq!(live_value(&h, &arn).await, None, "old secret kept");
    assert_eq!(attr(&state, "secret_string"), &Value::from("n3w"));

    secrets(&h)
        .delete_secret()
        .secret_id(string(&state, "arn"))
        .force_delete_without_recovery(true)
        .send()
        .await
        .expect("DeleteSecret");
    let state = h.recreate(SECRET, &state, &renamed).await;

    h.destroy(SECRET, &state).await;
    assert_eq!(live_value(&h, &string(&state, "arn")).await, None);
}
