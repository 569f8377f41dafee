//! `aws_sns_topic_subscription`: a subscription of an endpoint (a queue, a function, a URL)
//! to a topic.

use std::collections::HashMap;

use async_trait::async_trait;
use braid_provider::{AttributeType, ResourceSchema, Value};

use crate::attrs::{self, Attrs, opt_string};
use crate::config::Clients;
use crate::error::{AwsError, found, gone, sdk};
use crate::resource::ResourceType;
use crate::schema::{arn, computed, defaulted, optional, required};

pub struct SnsTopicSubscription;

#[async_trait]
impl ResourceType for SnsTopicSubscription {
    fn type_name(&self) -> &'static str {
        "aws_sns_topic_subscription"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "A subscription to an SNS topic. Raw delivery and the filter policy change in \
             place; another topic, protocol or endpoint replaces the subscription.",
        )
        .attribute(
            "topic_arn",
            required(AttributeType::String, "The ARN of the topic.").force_new(),
        )
        .attribute(
            "protocol",
            required(
                AttributeType::String,
                "sqs, lambda, firehose, application, sms, email, email-json, http or https.",
            )
            .force_new(),
        )
        .attribute(
            "endpoint",
            required(
                AttributeType::String,
                "Where messages go: a queue or function ARN, a URL, an address.",
            )
            .force_new(),
        )
        .attribute(
            "raw_message_delivery",
            defaulted(
                AttributeType::Bool,
                "Deliver the message body without the SNS envelope. Defaults to false.",
            ),
        )
        .attribute(
            "filter_policy",
            optional(
                AttributeType::String,
                "A JSON filter policy on message attributes, compared by meaning.",
            ),
        )
        .attribute("id", computed("The subscription ARN."))
        .attribute("arn", arn())
    }

    fn default(&self, attribute: &str) -> Option<Value> {
        (attribute == "raw_message_delivery").then_some(Value::Bool(false))
    }

    fn json_attributes(&self) -> &'static [&'static str] {
        &["filter_policy"]
    }

    async fn read(&self, clients: &Clients, current: &Attrs) -> Result<Option<Attrs>, AwsError> {
        let Some(arn) = attrs::string(current, "id").or_else(|| attrs::string(current, "arn"))
        else {
            return Ok(None);
        };
        let response = clients
            .sns
            .get_subscription_attributes()
            .subscription_arn(&arn)
            .send()
            .await
            .map_err(sdk("GetSubscriptionAttributes"));
        let Some(response) = found(response)? else {
            return Ok(None);
        };
        let live = response.attributes().cloned().unwrap_or_default();
        let text = |key: &str| opt_string(live.get(key).cloned());
        Ok(Some(
            [
                ("id", Value::from(arn.clone())),
                ("arn", Value::from(arn)),
                ("topic_arn", text("TopicArn")),
                ("protocol", text("Protocol")),
                ("endpoint", text("Endpoint")),
                (
                    "raw_message_delivery",
                    Value::Bool(live.get("RawMessageDelivery").is_some_and(|v| v == "true")),
                ),
                ("filter_policy", text("FilterPolicy")),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        ))
    }

    async fn create(&self, clients: &Clients, desired: &Attrs) -> Result<Attrs, AwsError> {
        let mut attributes = HashMap::new();
        if attrs::boolean(desired, "raw_message_delivery") {
            attributes.insert("RawMessageDelivery".to_string(), "true".to_string());
        }
        if let Some(policy) = attrs::string(desired, "filter_policy") {
            attributes.insert("FilterPolicy".to_string(), policy);
        }
        let response = clients
            .sns
            .subscribe()
            .topic_arn(attrs::required_string(desired, "topic_arn")?)
            .protocol(attrs::required_string(desired, "protocol")?)
            .endpoint(attrs::required_string(desired, "endpoint")?)
            .return_subscription_arn(true)
            .set_attributes((!attributes.is_empty()).then_some(attributes))
            .send()
            .await
            .map_err(sdk("Subscribe"))?;
        let arn = response.subscription_arn().unwrap_or_default().to_string();
        Ok([("id".to_string(), Value::from(arn))].into())
    }

    async fn update(
        &self,
        clients: &Clients,
        prior: &Attrs,
        desired: &Attrs,
    ) -> Result<(), AwsError> {
        let arn = attrs::required_string(prior, "id")?;
        if attrs::changed(prior, desired, "raw_message_delivery") {
            set_attribute(
                clients,
                &arn,
                "RawMessageDelivery",
                attrs::boolean(desired, "raw_message_delivery").to_string(),
            )
            .await?;
        }
        if attrs::changed(prior, desired, "filter_policy") {
            set_attribute(
                clients,
                &arn,
                "FilterPolicy",
                attrs::string(desired, "filter_policy").unwrap_or_default(),
            )
            .await?;
        }
        Ok(())
    }

    async fn delete(&self, clients: &Clients, prior: &Attrs) -> Result<(), AwsError> {
        gone(
            clients
                .sns
                .unsubscribe()
                .subscription_arn(attrs::required_string(prior, "id")?)
                .send()
                .await
                .map(|_| ())
                .map_err(sdk("Unsubscribe")),
        )
    }

    fn import_identity(&self, id: &str) -> Attrs {
        [("id".to_string(), Value::from(id))].into()
    }
}

async fn set_attribute(
    clients: &Clients,
    arn: &str,
    name: &str,
    value: String,
) -> Result<(), AwsError> {
    clients
        .sns
        .set_subscription_attributes()
        .subscription_arn(arn)
        .attribute_name(name)
        .attribute_value(value)
        .send()
        .await
        .map_err(sdk("SetSubscriptionAttributes"))?;
    Ok(())
}
