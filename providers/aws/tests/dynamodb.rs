//! `aws_dynamodb_table` against moto_server.

mod common;

use aws_sdk_dynamodb::types::{BillingMode, TimeToLiveStatus};
use braid_provider::Value;
use common::{Harness, attr, config, string, tags, with};

const TABLE: &str = "aws_dynamodb_table";

fn dynamodb(h: &Harness) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&h.sdk)
}

fn key(name: &str, kind: &str) -> Value {
    Value::map([("name", Value::from(name)), ("type", Value::from(kind))])
}

#[tokio::test]
async fn table_lifecycle() {
    let h = Harness::start().await;
    let cfg = config([
        ("name", Value::from("orders")),
        ("hash_key", Value::from("pk")),
        ("range_key", Value::from("sk")),
        // Blocks in any order.
        (
            "attribute",
            Value::List(vec![key("sk", "S"), key("pk", "S")]),
        ),
        ("tags", tags([("team", "web")])),
    ]);
    let (_, state) = h.apply(TABLE, None, &cfg).await;
    assert!(string(&state, "arn").ends_with(":table/orders"));
    assert_eq!(
        attr(&state, "billing_mode"),
        &Value::from("PAY_PER_REQUEST")
    );
    assert_eq!(
        attr(&state, "attribute"),
        &Value::List(vec![key("pk", "S"), key("sk", "S")])
    );
    assert_eq!(attr(&state, "ttl"), &Value::Null);
    h.assert_no_op(TABLE, &state, &cfg).await;
    h.assert_import(TABLE, "orders", &state).await;
    assert_eq!(
        h.plan(TABLE, None, &cfg).await.existing.as_ref(),
        Some(&state)
    );

    // In place: TTL (a block: a single map), provisioned billing, tags.
    let updated = with(
        &with(
            &with(
                &with(
                    &with(
                        &cfg,
                        "ttl",
                        Value::map([
                            ("attribute_name", Value::from("expires")),
                            ("enabled", Value::Bool(true)),
                        ]),
                    ),
                    "billing_mode",
                    Value::from("PROVISIONED"),
                ),
                "read_capacity",
                Value::from(5),
            ),
            "write_capacity",
            Value::from(2),
        ),
        "tags",
        tags([("team", "platform")]),
    );
    let state = h.update(TABLE, &state, &updated).await;
    let table = dynamodb(&h)
        .describe_table()
        .table_name("orders")
        .send()
        .await
        .expect("DescribeTable");
    let table = table.table().expect("table");
    assert_eq!(
        table
            .provisioned_throughput()
            .and_then(|t| t.read_capacity_units()),
        Some(5)
    );
    let ttl = dynamodb(&h)
        .describe_time_to_live()
        .table_name("orders")
        .send()
        .await
        .expect("DescribeTimeToLive");
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|d| d.time_to_live_status()),
        Some(&TimeToLiveStatus::Enabled)
    );

    // Drift: back to on-demand by hand.
    dynamodb(&h)
        .update_table()
        .table_name("orders")
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("UpdateTable");
    let state = h
        .restore_drift(TABLE, &state, &updated, "billing_mode")
        .await;

    // Another key schema replaces the table.
    let rekeyed = with(
        &with(&updated, "range_key", Value::Null),
        "attribute",
        Value::List(vec![key("pk", "S")]),
    );
    let state = h
        .replace(TABLE, &state, &rekeyed, &["attribute", "range_key"])
        .await;
    assert_eq!(attr(&state, "range_key"), &Value::Null);

    dynamodb(&h)
        .delete_table()
        .table_name("orders")
        .send()
        .await
        .expect("DeleteTable");
    let state = h.recreate(TABLE, &state, &rekeyed).await;

    h.destroy(TABLE, &state).await;
    assert!(
        dynamodb(&h)
            .describe_table()
            .table_name("orders")
            .send()
            .await
            .is_err()
    );
}
