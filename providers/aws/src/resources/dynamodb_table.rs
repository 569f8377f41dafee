//! `aws_dynamodb_table`: a DynamoDB table with its key schema, billing mode and TTL.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ProvisionedThroughput,
    ScalarAttributeType, TableStatus, Tag, TimeToLiveSpecification, TimeToLiveStatus,
};
use braid_provider::{AttributeType, ResourceSchema, Value};

use crate::attrs::{self, Attrs, TagChanges, tags_value};
use crate::config::Clients;
use crate::error::{AwsError, build, found, gone, sdk};
use crate::resource::ResourceType;
use crate::schema::{arn, computed, defaulted, optional, required, tags};

/// How long to wait for a table to become active, or to disappear after a delete.
const TABLE_WAIT: Duration = Duration::from_secs(300);
const POLL: Duration = Duration::from_secs(1);

pub struct DynamodbTable;

#[async_trait]
impl ResourceType for DynamodbTable {
    fn type_name(&self) -> &'static str {
        "aws_dynamodb_table"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "A DynamoDB table. Billing mode, capacity, TTL and tags change in place; a new name, \
             key or key attribute replaces the table.",
        )
        .attribute(
            "name",
            required(AttributeType::String, "The table name.").force_new(),
        )
        .attribute(
            "billing_mode",
            defaulted(
                AttributeType::String,
                "PAY_PER_REQUEST or PROVISIONED. Defaults to PAY_PER_REQUEST.",
            ),
        )
        .attribute(
            "read_capacity",
            optional(
                AttributeType::Number,
                "Read capacity units; required with PROVISIONED, ignored otherwise.",
            ),
        )
        .attribute(
            "write_capacity",
            optional(
                AttributeType::Number,
                "Write capacity units; required with PROVISIONED, ignored otherwise.",
            ),
        )
        .attribute(
            "hash_key",
            required(AttributeType::String, "The partition key attribute.").force_new(),
        )
        .attribute(
            "range_key",
            optional(AttributeType::String, "The sort key attribute, if any.").force_new(),
        )
        .attribute(
            "attribute",
            required(
                AttributeType::List,
                "One block { name = \"id\", type = \"S\" } per key attribute (type S, N or B). \
                 Order does not matter.",
            )
            .force_new(),
        )
        .attribute(
            "ttl",
            optional(
                AttributeType::Map,
                "A block { attribute_name = \"expires\", enabled = true }: expire items by \
                 that attribute. A disabled or absent block means no TTL.",
            ),
        )
        .attribute("tags", tags())
        .attribute("id", computed("The table name."))
        .attribute("arn", arn())
    }

    fn default(&self, attribute: &str) -> Option<Value> {
        (attribute == "billing_mode").then(|| Value::from("PAY_PER_REQUEST"))
    }

    fn normalize(&self, planned: &mut Attrs) -> Result<(), AwsError> {
        // Key attributes in name order, as read reports them.
        if let Some(Value::List(items)) = planned.get_mut("attribute") {
            for item in items.iter() {
                if let Value::Map(m) = item {
                    for key in m.keys() {
                        if key != "name" && key != "type" {
                            return Err(AwsError::invalid(
                                "attribute",
                                format!("attribute blocks take name and type, not \"{key}\""),
                            ));
                        }
                    }
                }
            }
            if items.iter().all(Value::is_wholly_known) {
                items.sort_by_key(|i| i.attr("name").and_then(Value::as_str).map(str::to_string));
            }
        }
        let ttl = match planned.get("ttl") {
            Some(Value::List(items)) if items.len() == 1 => items[0].clone(),
            Some(other) => other.clone(),
            None => Value::Null,
        };
        let ttl = match &ttl {
            Value::Map(m) if m.get("enabled").and_then(Value::as_bool) == Some(false) => {
                Value::Null
            }
            Value::Map(m) => Value::map([
                (
                    "attribute_name",
                    m.get("attribute_name").cloned().unwrap_or(Value::Null),
                ),
                (
                    "enabled",
                    m.get("enabled").cloned().unwrap_or(Value::Bool(true)),
                ),
            ]),
            _ => ttl,
        };
        planned.insert("ttl".to_string(), ttl);
        match attrs::string(planned, "billing_mode").as_deref() {
            Some("PAY_PER_REQUEST") => {
                planned.insert("read_capacity".to_string(), Value::Null);
                planned.insert("write_capacity".to_string(), Value::Null);
            }
            Some("PROVISIONED") => {
                for name in ["read_capacity", "write_capacity"] {
                    if planned.get(name).is_none_or(Value::is_null) {
                        return Err(AwsError::invalid(
                            name,
                            format!("\"{name}\" must be set when billing_mode is PROVISIONED"),
                        ));
                    }
                }
            }
            Some(other) => {
                return Err(AwsError::invalid(
                    "billing_mode",
                    format!("billing_mode must be PAY_PER_REQUEST or PROVISIONED, not \"{other}\""),
                ));
            }
            None => {}
        }
        Ok(())
    }

    fn planned_computed(&self, planned: &Attrs, _clients: &Clients) -> Attrs {
        match planned.get("name") {
            Some(name @ Value::String(_)) => [("id".to_string(), name.clone())].into(),
            _ => Attrs::new(),
        }
    }

    async fn read(&self, clients: &Clients, current: &Attrs) -> Result<Option<Attrs>, AwsError> {
        let Some(name) = attrs::string(current, "id").or_else(|| attrs::string(current, "name"))
        else {
            return Ok(None);
        };
        let response = clients
            .dynamodb
            .describe_table()
            .table_name(&name)
            .send()
            .await
            .map_err(sdk("DescribeTable"));
        let Some(table) = found(response)?.and_then(|r| r.table) else {
            return Ok(None);
        };
        if table.table_status() == Some(&TableStatus::Deleting) {
            return Ok(None);
        }
        let arn = table.table_arn().unwrap_or_default().to_string();
        let key = |kind: KeyType| {
            table
                .key_schema()
                .iter()
                .find(|k| *k.key_type() == kind)
                .map_or(Value::Null, |k| Value::from(k.attribute_name()))
        };
        let mut definitions: Vec<Value> = table
            .attribute_definitions()
            .iter()
            .map(|d| {
                Value::map([
                    ("name", Value::from(d.attribute_name())),
                    ("type", Value::from(d.attribute_type().as_str())),
                ])
            })
            .collect();
        definitions.sort_by_key(|i| i.attr("name").and_then(Value::as_str).map(str::to_string));
        let billing_mode = table
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map_or("PROVISIONED", BillingMode::as_str)
            .to_string();
        let capacity = |units: Option<i64>| match billing_mode.as_str() {
            "PROVISIONED" => units.map_or(Value::Null, Value::from),
            _ => Value::Null,
        };
        let throughput = table.provisioned_throughput();
        let ttl = clients
            .dynamodb
            .describe_time_to_live()
            .table_name(&name)
            .send()
            .await
            .map_err(sdk("DescribeTimeToLive"))?;
        let ttl = match ttl.time_to_live_description() {
            Some(d)
                if matches!(
                    d.time_to_live_status(),
                    Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
                ) =>
            {
                Value::map([
                    (
                        "attribute_name",
                        Value::from(d.attribute_name().unwrap_or_default()),
                    ),
                    ("enabled", Value::Bool(true)),
                ])
            }
            _ => Value::Null,
        };
        let tags = clients
            .dynamodb
            .list_tags_of_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(sdk("ListTagsOfResource"))?;
        Ok(Some(
            [
                ("id", Value::from(name.clone())),
                ("name", Value::from(name)),
                ("arn", Value::from(arn)),
                ("hash_key", key(KeyType::Hash)),
                ("range_key", key(KeyType::Range)),
                ("attribute", Value::List(definitions)),
                (
                    "read_capacity",
                    capacity(throughput.and_then(|t| t.read_capacity_units())),
                ),
                (
                    "write_capacity",
                    capacity(throughput.and_then(|t| t.write_capacity_units())),
                ),
                ("billing_mode", Value::from(billing_mode.clone())),
                ("ttl", ttl),
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
        let name = attrs::required_string(desired, "name")?;
        let mut keys = vec![
            KeySchemaElement::builder()
                .attribute_name(attrs::required_string(desired, "hash_key")?)
                .key_type(KeyType::Hash)
                .build()
                .map_err(build("CreateTable"))?,
        ];
        if let Some(range) = attrs::string(desired, "range_key") {
            keys.push(
                KeySchemaElement::builder()
                    .attribute_name(range)
                    .key_type(KeyType::Range)
                    .build()
                    .map_err(build("CreateTable"))?,
            );
        }
        let definitions = desired
            .get("attribute")
            .and_then(Value::as_list)
            .unwrap_or_default()
            .iter()
            .map(|a| {
                let name = a.attr("name").and_then(Value::as_str).unwrap_or_default();
                let kind = a.attr("type").and_then(Value::as_str).unwrap_or_default();
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::from(kind))
                    .build()
                    .map_err(build("CreateTable"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let tags = attrs::tags(desired);
        clients
            .dynamodb
            .create_table()
            .table_name(&name)
            .billing_mode(billing_mode(desired))
            .set_provisioned_throughput(throughput(desired)?)
            .set_key_schema(Some(keys))
            .set_attribute_definitions(Some(definitions))
            .set_tags(if tags.is_empty() {
                None
            } else {
                Some(dynamodb_tags(tags)?)
            })
            .send()
            .await
            .map_err(sdk("CreateTable"))?;
        wait_until_active(clients, &name).await?;
        if desired.get("ttl").is_some_and(|t| !t.is_null()) {
            set_ttl(clients, &name, &Attrs::new(), desired).await?;
        }
        Ok([("id".to_string(), Value::from(name))].into())
    }

    async fn update(
        &self,
        clients: &Clients,
        prior: &Attrs,
        desired: &Attrs,
    ) -> Result<(), AwsError> {
        let name = attrs::required_string(prior, "id")?;
        if ["billing_mode", "read_capacity", "write_capacity"]
            .iter()
            .any(|a| attrs::changed(prior, desired, a))
        {
            clients
                .dynamodb
                .update_table()
                .table_name(&name)
                .billing_mode(billing_mode(desired))
                .set_provisioned_throughput(throughput(desired)?)
                .send()
                .await
                .map_err(sdk("UpdateTable"))?;
            wait_until_active(clients, &name).await?;
        }
        if attrs::changed(prior, desired, "ttl") {
            set_ttl(clients, &name, prior, desired).await?;
        }
        let changes = TagChanges::between(prior, desired);
        let arn = attrs::required_string(prior, "arn")?;
        if !changes.remove.is_empty() {
            clients
                .dynamodb
                .untag_resource()
                .resource_arn(&arn)
                .set_tag_keys(Some(changes.remove))
                .send()
                .await
                .map_err(sdk("UntagResource"))?;
        }
        if !changes.set.is_empty() {
            clients
                .dynamodb
                .tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(dynamodb_tags(changes.set)?))
                .send()
                .await
                .map_err(sdk("TagResource"))?;
        }
        Ok(())
    }

    async fn delete(&self, clients: &Clients, prior: &Attrs) -> Result<(), AwsError> {
        let name = attrs::required_string(prior, "id")?;
        gone(
            clients
                .dynamodb
                .delete_table()
                .table_name(&name)
                .send()
                .await
                .map(|_| ())
                .map_err(sdk("DeleteTable")),
        )?;
        // A replacement with the same name must wait until the old table is gone.
        let deadline = tokio::time::Instant::now() + TABLE_WAIT;
        while tokio::time::Instant::now() < deadline {
            let response = clients
                .dynamodb
                .describe_table()
                .table_name(&name)
                .send()
                .await
                .map_err(sdk("DescribeTable"));
            if found(response)?.is_none() {
                return Ok(());
            }
            tokio::time::sleep(POLL).await;
        }
        Ok(())
    }

    fn import_identity(&self, id: &str) -> Attrs {
        [("id".to_string(), Value::from(id))].into()
    }

    async fn find_existing(
        &self,
        clients: &Clients,
        desired: &Attrs,
    ) -> Result<Option<Attrs>, AwsError> {
        match attrs::string(desired, "name") {
            Some(name) => {
                self.read(clients, &[("id".to_string(), Value::from(name))].into())
                    .await
            }
            None => Ok(None),
        }
    }
}

fn billing_mode(desired: &Attrs) -> BillingMode {
    BillingMode::from(
        attrs::string(desired, "billing_mode")
            .as_deref()
            .unwrap_or("PAY_PER_REQUEST"),
    )
}

fn throughput(desired: &Attrs) -> Result<Option<ProvisionedThroughput>, AwsError> {
    match (
        attrs::integer(desired, "read_capacity"),
        attrs::integer(desired, "write_capacity"),
    ) {
        (Some(read), Some(write)) if billing_mode(desired) == BillingMode::Provisioned => {
            ProvisionedThroughput::builder()
                .read_capacity_units(read)
                .write_capacity_units(write)
                .build()
                .map(Some)
                .map_err(build("UpdateTable"))
        }
        _ => Ok(None),
    }
}

async fn set_ttl(
    clients: &Clients,
    name: &str,
    prior: &Attrs,
    desired: &Attrs,
) -> Result<(), AwsError> {
    let ttl_name = |a: &Attrs| {
        a.get("ttl")
            .and_then(|t| t.attr("attribute_name"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let (enabled, attribute) = match ttl_name(desired) {
        Some(attribute) => (true, attribute),
        // Disabling names the attribute that was enabled.
        None => match ttl_name(prior) {
            Some(attribute) => (false, attribute),
            None => return Ok(()),
        },
    };
    let specification = TimeToLiveSpecification::builder()
        .enabled(enabled)
        .attribute_name(attribute)
        .build()
        .map_err(build("UpdateTimeToLive"))?;
    clients
        .dynamodb
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(specification)
        .send()
        .await
        .map_err(sdk("UpdateTimeToLive"))?;
    Ok(())
}

async fn wait_until_active(clients: &Clients, name: &str) -> Result<(), AwsError> {
    let deadline = tokio::time::Instant::now() + TABLE_WAIT;
    loop {
        let response = clients
            .dynamodb
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(sdk("DescribeTable"))?;
        let status = response.table().and_then(|t| t.table_status());
        if status == Some(&TableStatus::Active) || tokio::time::Instant::now() >= deadline {
            return Ok(());
        }
        tokio::time::sleep(POLL).await;
    }
}

fn dynamodb_tags(tags: impl IntoIterator<Item = (String, String)>) -> Result<Vec<Tag>, AwsError> {
    tags.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(build("TagResource"))
}
