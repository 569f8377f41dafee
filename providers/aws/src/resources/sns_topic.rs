//! `aws_sns_topic`: an SNS topic.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_sns::types::Tag;
use braid_provider::{AttributeType, ResourceSchema, Value};

use crate::attrs::{self, Attrs, TagChanges, opt_string, tags_value};
use crate::config::Clients;
use crate::error::{AwsError, build, found, gone, sdk};
use crate::resource::ResourceType;
use crate::schema::{arn, computed, defaulted, optional, required, tags};

pub struct SnsTopic;

#[async_trait]
impl ResourceType for SnsTopic {
    fn type_name(&self) -> &'static str {
        "aws_sns_topic"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "An SNS topic. The display name and tags change in place; a new name or topic kind \
             replaces the topic.",
        )
        .attribute(
            "name",
            required(
                AttributeType::String,
                "The topic name; a FIFO topic's name must end in \".fifo\".",
            )
            .force_new(),
        )
        .attribute(
            "fifo_topic",
            defaulted(AttributeType::Bool, "A FIFO topic. Defaults to false.").force_new(),
        )
        .attribute(
            "display_name",
            optional(
                AttributeType::String,
                "The name shown in SMS and email messages.",
            ),
        )
        .attribute("tags", tags())
        .attribute("id", computed("The topic ARN."))
        .attribute("arn", arn())
    }

    fn default(&self, attribute: &str) -> Option<Value> {
        (attribute == "fifo_topic").then_some(Value::Bool(false))
    }

    async fn read(&self, clients: &Clients, current: &Attrs) -> Result<Option<Attrs>, AwsError> {
        let Some(arn) = attrs::string(current, "id").or_else(|| attrs::string(current, "arn"))
        else {
            return Ok(None);
        };
        let response = clients
            .sns
            .get_topic_attributes()
            .topic_arn(&arn)
            .send()
            .await
            .map_err(sdk("GetTopicAttributes"));
        let Some(response) = found(response)? else {
            return Ok(None);
        };
        let live = response.attributes().cloned().unwrap_or_default();
        let tags = clients
            .sns
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(sdk("ListTagsForResource"))?;
        let name = arn.rsplit(':').next().unwrap_or_default().to_string();
        Ok(Some(
            [
                ("id", Value::from(arn.clone())),
                ("arn", Value::from(arn)),
                ("name", Value::from(name)),
                (
                    "fifo_topic",
                    Value::Bool(live.get("FifoTopic").is_some_and(|v| v == "true")),
                ),
                ("display_name", opt_string(live.get("DisplayName").cloned())),
                (
                    "tags",
                    tags_value(tags.tags().iter().map(|t| (t.key(), t.value()))),
                ),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        ))
    }

    async fn create(&self, clients: &Clients, desired: &Attrs) -> Result<Attrs, AwsError> {
        let mut attributes = HashMap::new();
        if attrs::boolean(desired, "fifo_topic") {
            attributes.insert("FifoTopic".to_string(), "true".to_string());
        }
        if let Some(display_name) = attrs::string(desired, "display_name") {
            attributes.insert("DisplayName".to_string(), display_name);
        }
        let tags = attrs::tags(desired);
        let response = clients
            .sns
            .create_topic()
            .name(attrs::required_string(desired, "name")?)
            .set_attributes((!attributes.is_empty()).then_some(attributes))
            .set_tags(if tags.is_empty() {
                None
            } else {
                Some(sns_tags(tags)?)
            })
            .send()
            .await
            .map_err(sdk("CreateTopic"))?;
        let arn = response.topic_arn().unwrap_or_default().to_string();
        Ok([("id".to_string(), Value::from(arn))].into())
    }

    async fn update(
        &self,
        clients: &Clients,
        prior: &Attrs,
        desired: &Attrs,
    ) -> Result<(), AwsError> {
        let arn = attrs::required_string(prior, "id")?;
        if attrs::changed(prior, desired, "display_name") {
            clients
                .sns
                .set_topic_attributes()
                .topic_arn(&arn)
                .attribute_name("DisplayName")
                .attribute_value(attrs::string(desired, "display_name").unwrap_or_default())
                .send()
                .await
                .map_err(sdk("SetTopicAttributes"))?;
        }
        let changes = TagChanges::between(prior, desired);
        if !changes.remove.is_empty() {
            clients
                .sns
                .untag_resource()
                .resource_arn(&arn)
                .set_tag_keys(Some(changes.remove))
                .send()
                .await
                .map_err(sdk("UntagResource"))?;
        }
        if !changes.set.is_empty() {
            clients
                .sns
                .tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(sns_tags(changes.set)?))
                .send()
                .await
                .map_err(sdk("TagResource"))?;
        }
        Ok(())
    }

    async fn delete(&self, clients: &Clients, prior: &Attrs) -> Result<(), AwsError> {
        gone(
            clients
                .sns
                .delete_topic()
                .topic_arn(attrs::required_string(prior, "id")?)
                .send()
                .await
                .map(|_| ())
                .map_err(sdk("DeleteTopic")),
        )
    }

    fn import_identity(&self, id: &str) -> Attrs {
        [("id".to_string(), Value::from(id))].into()
    }
}

fn sns_tags(tags: impl IntoIterator<Item = (String, String)>) -> Result<Vec<Tag>, AwsError> {
    tags.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(build("TagResource"))
}
