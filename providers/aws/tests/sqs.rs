//! `aws_sqs_queue` against moto_server.

mod common;

use aws_sdk_sqs::types::QueueAttributeName;
use braid_provider::Value;
use common::{Harness, attr, config, string, tags, with};

const QUEUE: &str = "aws_sqs_queue";

fn sqs(h: &Harness) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&h.sdk)
}

async fn live_attribute(h: &Harness, url: &str, name: QueueAttributeName) -> Option<String> {
    sqs(h)
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(name.clone())
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes()
        .and_then(|a| a.get(&name).cloned())
}

#[tokio::test]
async fn queue_lifecycle() {
    let h = Harness::start().await;
    let (_, dlq) = h
        .apply(QUEUE, None, &config([("name", Value::from("jobs-dlq"))]))
        .await;
    let redrive = format!(
        r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":5}}"#,
        string(&dlq, "arn")
    );
    let cfg = config([
        ("name", Value::from("jobs")),
        ("visibility_timeout_seconds", Value::from(60)),
        ("redrive_policy", Value::from(redrive.clone())),
        ("tags", tags([("team", "web")])),
    ]);
    let (planned, state) = h.apply(QUEUE, None, &cfg).await;
    assert_eq!(attr(&planned.planned, "url"), &Value::Unknown);
    let url = string(&state, "url");
    assert_eq!(string(&state, "id"), url);
    assert!(string(&state, "arn").ends_with(":jobs"));
    assert_eq!(attr(&state, "delay_seconds"), &Value::from(0));
    assert_eq!(
        attr(&state, "message_retention_seconds"),
        &Value::from(345_600)
    );
    assert_eq!(
        live_attribute(&h, &url, QueueAttributeName::VisibilityTimeout)
            .await
            .as_deref(),
        Some("60")
    );
    h.assert_no_op(QUEUE, &state, &cfg).await;
    h.assert_import(QUEUE, &url, &state).await;
    h.assert_import(QUEUE, "jobs", &state).await;
    assert_eq!(
        h.plan(QUEUE, None, &cfg).await.existing.as_ref(),
        Some(&state)
    );

    // The redrive policy with maxReceiveCount as a string and other key order: no change.
    let same = format!(
        r#"{{ "maxReceiveCount": "5", "deadLetterTargetArn": "{}" }}"#,
        string(&dlq, "arn")
    );
    h.assert_no_op(
        QUEUE,
        &state,
        &with(&cfg, "redrive_policy", Value::from(same)),
    )
    .await;

    let updated = with(
        &with(&cfg, "delay_seconds", Value::from(5)),
        "tags",
        tags([("team", "platform")]),
    );
    let state = h.update(QUEUE, &state, &updated).await;
    assert_eq!(
        live_attribute(&h, &url, QueueAttributeName::DelaySeconds)
            .await
            .as_deref(),
        Some("5")
    );

    // Drift: the visibility timeout changed by hand.
    sqs(&h)
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::VisibilityTimeout, "10")
        .send()
        .await
        .expect("SetQueueAttributes");
    let state = h
        .restore_drift(QUEUE, &state, &updated, "visibility_timeout_seconds")
        .await;
    assert_eq!(
        live_attribute(&h, &url, QueueAttributeName::VisibilityTimeout)
            .await
            .as_deref(),
        Some("60")
    );

    // A FIFO queue is another queue.
    // (A FIFO queue needs a FIFO dead-letter queue, so it goes without.)
    let fifo = with(
        &with(
            &with(&updated, "name", Value::from("jobs.fifo")),
            "fifo_queue",
            Value::Bool(true),
        ),
        "redrive_policy",
        Value::Null,
    );
    let planned = h.plan(QUEUE, Some(&state), &fifo).await;
    assert_eq!(planned.requires_replace.len(), 2);
    let state = {
        h.destroy(QUEUE, &state).await;
        h.apply(QUEUE, None, &fifo).await.1
    };
    assert!(string(&state, "url").ends_with("/jobs.fifo"));
    assert_eq!(attr(&state, "fifo_queue"), &Value::Bool(true));
    assert!(
        sqs(&h)
            .get_queue_url()
            .queue_name("jobs")
            .send()
            .await
            .is_err()
    );

    sqs(&h)
        .delete_queue()
        .queue_url(string(&state, "url"))
        .send()
        .await
        .expect("DeleteQueue");
    let state = h.recreate(QUEUE, &state, &fifo).await;

    h.destroy(QUEUE, &state).await;
    assert!(
        sqs(&h)
            .get_queue_url()
            .queue_name("jobs.fifo")
            .send()
            .await
            .is_err()
    );
}

#[tokio::test]
async fn fifo_name_is_checked_at_plan() {
    let h = Harness::start().await;
    let response = braid_provider::Provider::plan(
        &h.provider,
        braid_provider::PlanRequest {
            type_name: QUEUE.to_string(),
            address: "aws_sqs_queue.jobs".to_string(),
            prior: None,
            config: config([
                ("name", Value::from("jobs")),
                ("fifo_queue", Value::Bool(true)),
            ]),
            sensitive: Vec::new(),
        },
    )
    .await;
    assert_eq!(response.diagnostics.len(), 1, "{:?}", response.diagnostics);
    assert_eq!(
        response.diagnostics[0].attribute,
        Some(braid_provider::Path::key("name"))
    );
}
