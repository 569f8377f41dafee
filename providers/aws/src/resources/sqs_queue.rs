//! `aws_sqs_queue`: a standard or FIFO queue.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_sqs::types::QueueAttributeName;
use braid_provider::{AttributeType, ResourceSchema, Value};

use crate::attrs::{self, Attrs, TagChanges, opt_string, tags_value};
use crate::config::Clients;
use crate::error::{AwsError, found, gone, sdk};
use crate::resource::ResourceType;
use crate::schema::{arn, computed, defaulted, optional, required, tags};

pub struct SqsQueue;

/// The numeric attributes: (braid name, SQS attribute, default).
const NUMBERS: &[(&str, QueueAttributeNameConst, i64)] = &[
    (
        "visibility_timeout_seconds",
        QueueAttributeNameConst::VisibilityTimeout,
        30,
    ),
    (
        "message_retention_seconds",
        QueueAttributeNameConst::MessageRetentionPeriod,
        345_600,
    ),
    ("delay_seconds", QueueAttributeNameConst::DelaySeconds, 0),
];

/// `QueueAttributeName` is not `const`-constructible; this names the ones used above.
#[derive(Clone, Copy)]
enum QueueAttributeNameConst {
    VisibilityTimeout,
    MessageRetentionPeriod,
    DelaySeconds,
}

impl QueueAttributeNameConst {
    fn name(self) -> QueueAttributeName {
        match self {
            QueueAttributeNameConst::VisibilityTimeout => QueueAttributeName::VisibilityTimeout,
            QueueAttributeNameConst::MessageRetentionPeriod => {
                QueueAttributeName::MessageRetentionPeriod
            }
            QueueAttributeNameConst::DelaySeconds => QueueAttributeName::DelaySeconds,
        }
    }
}

#[async_trait]
impl ResourceType for SqsQueue {
    fn type_name(&self) -> &'static str {
        "aws_sqs_queue"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "An SQS queue. Timeouts, retention, delay, redrive policy and tags change in place; \
             a new name or queue kind replaces the queue.",
        )
        .attribute(
            "name",
            required(
                AttributeType::String,
                "The queue name; a FIFO queue's name must end in \".fifo\".",
            )
            .force_new(),
        )
        .attribute(
            "fifo_queue",
            defaulted(AttributeType::Bool, "A FIFO queue. Defaults to false.").force_new(),
        )
        .attribute(
            "visibility_timeout_seconds",
            defaulted(
                AttributeType::Number,
                "Seconds a received message stays invisible (0 to 43200). Defaults to 30.",
            ),
        )
        .attribute(
            "message_retention_seconds",
            defaulted(
                AttributeType::Number,
                "Seconds a message is kept (60 to 1209600). Defaults to 345600 (4 days).",
            ),
        )
        .attribute(
            "delay_seconds",
            defaulted(
                AttributeType::Number,
                "Seconds each message is delayed (0 to 900). Defaults to 0.",
            ),
        )
        .attribute(
            "redrive_policy",
            optional(
                AttributeType::String,
                "A JSON document {deadLetterTargetArn, maxReceiveCount}, compared by meaning.",
            ),
        )
        .attribute("tags", tags())
        .attribute("id", computed("The queue URL."))
        .attribute("url", computed("The queue URL."))
        .attribute("arn", arn())
    }

    fn default(&self, attribute: &str) -> Option<Value> {
        if attribute == "fifo_queue" {
            return Some(Value::Bool(false));
        }
        NUMBERS
            .iter()
            .find(|(name, _, _)| *name == attribute)
            .map(|(_, _, default)| Value::from(*default))
    }

    fn json_attributes(&self) -> &'static [&'static str] {
        &["redrive_policy"]
    }

    fn normalize(&self, planned: &mut Attrs) -> Result<(), AwsError> {
        if let (Some(name), Some(fifo)) = (
            attrs::string(planned, "name"),
            planned.get("fifo_queue").and_then(Value::as_bool),
        ) && name.ends_with(".fifo") != fifo
        {
            return Err(AwsError::invalid(
                "name",
                "a FIFO queue's name must end in \".fifo\", and only a FIFO queue's may",
            ));
        }
        Ok(())
    }

    async fn read(&self, clients: &Clients, current: &Attrs) -> Result<Option<Attrs>, AwsError> {
        let url = match attrs::string(current, "id") {
            Some(url) => url,
            None => match attrs::string(current, "name") {
                Some(name) => match queue_url(clients, &name).await? {
                    Some(url) => url,
                    None => return Ok(None),
                },
                None => return Ok(None),
            },
        };
        let response = clients
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .map_err(sdk("GetQueueAttributes"));
        let Some(response) = found(response)? else {
            return Ok(None);
        };
        let live = response.attributes().cloned().unwrap_or_default();
        let tags = clients
            .sqs
            .list_queue_tags()
            .queue_url(&url)
            .send()
            .await
            .map_err(sdk("ListQueueTags"))?;
        let name = url.rsplit('/').next().unwrap_or_default().to_string();
        let mut out: Attrs = [
            ("id", Value::from(url.clone())),
            ("url", Value::from(url)),
            ("name", Value::from(name)),
            (
                "arn",
                opt_string(live.get(&QueueAttributeName::QueueArn).cloned()),
            ),
            (
                "fifo_queue",
                Value::Bool(
                    live.get(&QueueAttributeName::FifoQueue)
                        .is_some_and(|v| v == "true"),
                ),
            ),
            (
                "redrive_policy",
                opt_string(live.get(&QueueAttributeName::RedrivePolicy).cloned()),
            ),
            ("tags", tags_value(tags.tags().cloned().unwrap_or_default())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for (name, attribute, default) in NUMBERS {
            let value = live
                .get(&attribute.name())
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(*default);
            out.insert((*name).to_string(), Value::from(value));
        }
        Ok(Some(out))
    }

    async fn create(&self, clients: &Clients, desired: &Attrs) -> Result<Attrs, AwsError> {
        let mut attributes = settable_attributes(desired);
        if attrs::boolean(desired, "fifo_queue") {
            attributes.insert(QueueAttributeName::FifoQueue, "true".to_string());
        }
        if attributes
            .get(&QueueAttributeName::RedrivePolicy)
            .is_some_and(String::is_empty)
        {
            attributes.remove(&QueueAttributeName::RedrivePolicy);
        }
        let tags: HashMap<String, String> = attrs::tags(desired).into_iter().collect();
        let response = clients
            .sqs
            .create_queue()
            .queue_name(attrs::required_string(desired, "name")?)
            .set_attributes(Some(attributes))
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(sdk("CreateQueue"))?;
        let url = response.queue_url().unwrap_or_default().to_string();
        Ok([("id".to_string(), Value::from(url))].into())
    }

    async fn update(
        &self,
        clients: &Clients,
        prior: &Attrs,
        desired: &Attrs,
    ) -> Result<(), AwsError> {
        let url = attrs::required_string(prior, "id")?;
        let changed = settable_attributes(desired)
            .into_iter()
            .filter(|(k, v)| settable_attributes(prior).get(k) != Some(v))
            .collect::<HashMap<_, _>>();
        if !changed.is_empty() {
            clients
                .sqs
                .set_queue_attributes()
                .queue_url(&url)
                .set_attributes(Some(changed))
                .send()
                .await
                .map_err(sdk("SetQueueAttributes"))?;
        }
        let changes = TagChanges::between(prior, desired);
        if !changes.remove.is_empty() {
            clients
                .sqs
                .untag_queue()
                .queue_url(&url)
                .set_tag_keys(Some(changes.remove))
                .send()
                .await
                .map_err(sdk("UntagQueue"))?;
        }
        if !changes.set.is_empty() {
            clients
                .sqs
                .tag_queue()
                .queue_url(&url)
                .set_tags(Some(changes.set.into_iter().collect()))
                .send()
                .await
                .map_err(sdk("TagQueue"))?;
        }
        Ok(())
    }

    async fn delete(&self, clients: &Clients, prior: &Attrs) -> Result<(), AwsError> {
        gone(
            clients
                .sqs
                .delete_queue()
                .queue_url(attrs::required_string(prior, "id")?)
                .send()
                .await
                .map(|_| ())
                .map_err(sdk("DeleteQueue")),
        )
    }

    fn import_identity(&self, id: &str) -> Attrs {
        let key = if id.contains("://") { "id" } else { "name" };
        [(key.to_string(), Value::from(id))].into()
    }

    async fn find_existing(
        &self,
        clients: &Clients,
        desired: &Attrs,
    ) -> Result<Option<Attrs>, AwsError> {
        let Some(name) = attrs::string(desired, "name") else {
            return Ok(None);
        };
        match queue_url(clients, &name).await? {
            Some(url) => {
                self.read(clients, &[("id".to_string(), Value::from(url))].into())
                    .await
            }
            None => Ok(None),
        }
    }
}

async fn queue_url(clients: &Clients, name: &str) -> Result<Option<String>, AwsError> {
    let response = clients
        .sqs
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .map_err(sdk("GetQueueUrl"));
    Ok(found(response)?.and_then(|r| r.queue_url().map(str::to_string)))
}

/// The SQS attributes braid manages, as SQS spells them; an unset redrive policy is "".
fn settable_attributes(attrs: &Attrs) -> HashMap<QueueAttributeName, String> {
    let mut out: HashMap<QueueAttributeName, String> = NUMBERS
        .iter()
        .filter_map(|(name, attribute, _)| {
            attrs::integer(attrs, name).map(|n| (attribute.name(), n.to_string()))
        })
        .collect();
    out.insert(
        QueueAttributeName::RedrivePolicy,
        attrs::string(attrs, "redrive_policy").unwrap_or_default(),
    );
    out
}
