//! `aws_sns_topic` and `aws_sns_topic_subscription` against moto_server.

mod common;

use braid_provider::Value;
use common::{Harness, attr, config, string, tags, with};

const TOPIC: &str = "aws_sns_topic";
const SUBSCRIPTION: &str = "aws_sns_topic_subscription";

fn sns(h: &Harness) -> aws_sdk_sns::Client {
    aws_sdk_sns::Client::new(&h.sdk)
}

async fn topic_attribute(h: &Harness, arn: &str, name: &str) -> Option<String> {
    sns(h)
        .get_topic_attributes()
        .topic_arn(arn)
        .send()
        .await
        .ok()?
        .attributes()
        .and_then(|a| a.get(name).cloned())
}

#[tokio::test]
async fn topic_lifecycle() {
    let h = Harness::start().await;
    let cfg = config([
        ("name", Value::from("events")),
        ("display_name", Value::from("Events")),
        ("tags", tags([("team", "web")])),
    ]);
    let (_, state) = h.apply(TOPIC, None, &cfg).await;
    let arn = string(&state, "arn");
    assert!(arn.ends_with(":events"), "{arn}");
    assert_eq!(
        topic_attribute(&h, &arn, "DisplayName").await.as_deref(),
        Some("Events")
    );
    h.assert_no_op(TOPIC, &state, &cfg).await;
    h.assert_import(TOPIC, &arn, &state).await;

    let updated = with(
        &with(&cfg, "display_name", Value::from("All events")),
        "tags",
        tags([("team", "platform"), ("env", "dev")]),
    );
    let state = h.update(TOPIC, &state, &updated).await;
    assert_eq!(
        topic_attribute(&h, &arn, "DisplayName").await.as_deref(),
        Some("All events")
    );
    let live_tags = sns(&h)
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .expect("ListTagsForResource");
    assert_eq!(live_tags.tags().len(), 2);

    sns(&h)
        .set_topic_attributes()
        .topic_arn(&arn)
        .attribute_name("DisplayName")
        .attribute_value("by hand")
        .send()
        .await
        .expect("SetTopicAttributes");
    let state = h
        .restore_drift(TOPIC, &state, &updated, "display_name")
        .await;

    let renamed = with(&updated, "name", Value::from("events-2"));
    let state = h.replace(TOPIC, &state, &renamed, &["name"]).await;
    assert_eq!(
        topic_attribute(&h, &arn, "TopicArn").await,
        None,
        "old topic kept"
    );

    sns(&h)
        .delete_topic()
        .topic_arn(string(&state, "arn"))
        .send()
        .await
        .expect("DeleteTopic");
    let state = h.recreate(TOPIC, &state, &renamed).await;

    h.destroy(TOPIC, &state).await;
    assert_eq!(
        topic_attribute(&h, &string(&state, "arn"), "TopicArn").await,
        None
    );
}

#[tokio::test]
async fn subscription_lifecycle() {
    let h = Harness::start().await;
    let (_, topic) = h
        .apply(TOPIC, None, &config([("name", Value::from("orders"))]))
        .await;
    let (_, queue) = h
        .apply(
            "aws_sqs_queue",
            None,
            &config([("name", Value::from("orders-a"))]),
        )
        .await;
    let (_, other) = h
        .apply(
            "aws_sqs_queue",
            None,
            &config([("name", Value::from("orders-b"))]),
        )
        .await;
    let subscription_attribute = |arn: String, name: &'static str| {
        let client = sns(&h);
        async move {
            client
                .get_subscription_attributes()
                .subscription_arn(arn)
                .send()
                .await
                .ok()?
                .attributes()
                .and_then(|a| a.get(name).cloned())
        }
    };

    let cfg = config([
        ("topic_arn", attr(&topic, "arn").clone()),
        ("protocol", Value::from("sqs")),
        ("endpoint", attr(&queue, "arn").clone()),
        ("filter_policy", Value::from(r#"{"kind":["order"]}"#)),
    ]);
    let (_, state) = h.apply(SUBSCRIPTION, None, &cfg).await;
    let arn = string(&state, "arn");
    assert_eq!(
        subscription_attribute(arn.clone(), "Endpoint").await,
        Some(string(&queue, "arn"))
    );
    h.assert_no_op(SUBSCRIPTION, &state, &cfg).await;
    // A filter with a single value instead of a list of one means the same.
    h.assert_no_op(
        SUBSCRIPTION,
        &state,
        &with(&cfg, "filter_policy", Value::from(r#"{ "kind": "order" }"#)),
    )
    .await;
    h.assert_import(SUBSCRIPTION, &arn, &state).await;

    let updated = with(&cfg, "raw_message_delivery", Value::Bool(true));
    let state = h.update(SUBSCRIPTION, &state, &updated).await;
    assert_eq!(
        subscription_attribute(arn.clone(), "RawMessageDelivery")
            .await
            .as_deref(),
        Some("true")
    );

    sns(&h)
        .set_subscription_attributes()
        .subscription_arn(&arn)
        .attribute_name("RawMessageDelivery")
        .attribute_value("false")
        .send()
        .await
        .expect("SetSubscriptionAttributes");
    let state = h
        .restore_drift(SUBSCRIPTION, &state, &updated, "raw_message_delivery")
        .await;

    let moved = with(&updated, "endpoint", attr(&other, "arn").clone());
    let state = h.replace(SUBSCRIPTION, &state, &moved, &["endpoint"]).await;
    assert_eq!(
        subscription_attribute(arn, "Endpoint").await,
        None,
        "old subscription kept"
    );

    sns(&h)
        .unsubscribe()
        .subscription_arn(string(&state, "arn"))
        .send()
        .await
        .expect("Unsubscribe");
    let state = h.recreate(SUBSCRIPTION, &state, &moved).await;

    h.destroy(SUBSCRIPTION, &state).await;
    assert_eq!(
        subscription_attribute(string(&state, "arn"), "Endpoint").await,
        None
    );
}
