//! `aws_ssm_parameter`: a Systems Manager parameter. Its value is sensitive.

use async_trait::async_trait;
use aws_sdk_ssm::types::{ParameterStringFilter, ParameterType, ResourceTypeForTagging, Tag};
use braid_provider::{AttributeSchema, AttributeType, ResourceSchema, Use, Value};

use crate::attrs::{self, Attrs, TagChanges, opt_string, tags_value};
use crate::config::Clients;
use crate::error::{AwsError, build, found, gone, sdk};
use crate::resource::ResourceType;
use crate::schema::{arn, computed, optional, required, tags};

pub struct SsmParameter;

#[async_trait]
impl ResourceType for SsmParameter {
    fn type_name(&self) -> &'static str {
        "aws_ssm_parameter"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "A Systems Manager parameter. The value, description and tags change in place \
             (a new version); a new name or type replaces the parameter.",
        )
        .attribute(
            "name",
            required(
                AttributeType::String,
                "The parameter name, e.g. /app/db/host.",
            )
            .force_new(),
        )
        .attribute(
            "type",
            required(AttributeType::String, "String, StringList or SecureString.").force_new(),
        )
        .attribute(
            "value",
            required(AttributeType::String, "The value; masked in every view.").sensitive(),
        )
        .attribute(
            "description",
            optional(AttributeType::String, "A description of the parameter."),
        )
        .attribute("tags", tags())
        .attribute("id", computed("The parameter name."))
        .attribute("arn", arn())
        .attribute(
            "version",
            AttributeSchema::new(
                AttributeType::Number,
                Use::Computed,
                "The version number; each change of value or description adds one.",
            ),
        )
    }

    fn normalize(&self, planned: &mut Attrs) -> Result<(), AwsError> {
        match attrs::string(planned, "type").as_deref() {
            None | Some("String" | "StringList" | "SecureString") => Ok(()),
            Some(other) => Err(AwsError::invalid(
                "type",
                format!("type must be String, StringList or SecureString, not \"{other}\""),
            )),
        }
    }

    fn planned_computed(&self, planned: &Attrs, _clients: &Clients) -> Attrs {
        match planned.get("name") {
            Some(name @ Value::String(_)) => [("id".to_string(), name.clone())].into(),
            _ => Attrs::new(),
        }
    }

    fn computed_changed_by_update(&self, prior: &Attrs, planned: &Attrs) -> Vec<&'static str> {
        if attrs::changed(prior, planned, "value") || attrs::changed(prior, planned, "description")
        {
            vec!["version"]
        } else {
            Vec::new()
        }
    }

    async fn read(&self, clients: &Clients, current: &Attrs) -> Result<Option<Attrs>, AwsError> {
        let Some(name) = attrs::string(current, "id").or_else(|| attrs::string(current, "name"))
        else {
            return Ok(None);
        };
        let response = clients
            .ssm
            .get_parameter()
            .name(&name)
            .with_decryption(true)
            .send()
            .await
            .map_err(sdk("GetParameter"));
        let Some(parameter) = found(response)?.and_then(|r| r.parameter) else {
            return Ok(None);
        };
        let filter = ParameterStringFilter::builder()
            .key("Name")
            .option("Equals")
            .values(&name)
            .build()
            .map_err(build("DescribeParameters"))?;
        let described = clients
            .ssm
            .describe_parameters()
            .parameter_filters(filter)
            .send()
            .await
            .map_err(sdk("DescribeParameters"))?;
        let description = described
            .parameters()
            .first()
            .and_then(|p| p.description())
            .map(str::to_string);
        let tags = clients
            .ssm
            .list_tags_for_resource()
            .resource_type(ResourceTypeForTagging::Parameter)
            .resource_id(&name)
            .send()
            .await
            .map_err(sdk("ListTagsForResource"))?;
        Ok(Some(
            [
                ("id", Value::from(name.clone())),
                ("name", Value::from(name)),
                ("arn", opt_string(parameter.arn())),
                (
                    "type",
                    opt_string(parameter.r#type().map(ParameterType::as_str)),
                ),
                ("value", Value::from(parameter.value().unwrap_or_default())),
                ("version", Value::from(parameter.version())),
                ("description", opt_string(description)),
                (
                    "tags",
                    tags_value(tags.tag_list().iter().map(|t| (t.key(), t.value()))),
                ),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        ))
    }

    async fn create(&self, clients: &Clients, desired: &Attrs) -> Result<Attrs, AwsError> {
        let name = attrs::required_string(desired, "name")?;
        let tags = attrs::tags(desired);
        clients
            .ssm
            .put_parameter()
            .name(&name)
            .r#type(ParameterType::from(
                attrs::required_string(desired, "type")?.as_str(),
            ))
            .value(attrs::required_string(desired, "value")?)
            .set_description(attrs::string(desired, "description"))
            .set_tags(if tags.is_empty() {
                None
            } else {
                Some(ssm_tags(tags)?)
            })
            .send()
            .await
            .map_err(sdk("PutParameter"))?;
        Ok([("id".to_string(), Value::from(name))].into())
    }

    async fn update(
        &self,
        clients: &Clients,
        prior: &Attrs,
        desired: &Attrs,
    ) -> Result<(), AwsError> {
        let name = attrs::required_string(prior, "id")?;
        if attrs::changed(prior, desired, "value") || attrs::changed(prior, desired, "description")
        {
            clients
                .ssm
                .put_parameter()
                .name(&name)
                .r#type(ParameterType::from(
                    attrs::required_string(desired, "type")?.as_str(),
                ))
                .value(attrs::required_string(desired, "value")?)
                .description(attrs::string(desired, "description").unwrap_or_default())
                .overwrite(true)
                .send()
                .await
                .map_err(sdk("PutParameter"))?;
        }
        let changes = TagChanges::between(prior, desired);
        if !changes.remove.is_empty() {
            clients
                .ssm
                .remove_tags_from_resource()
                .resource_type(ResourceTypeForTagging::Parameter)
                .resource_id(&name)
                .set_tag_keys(Some(changes.remove))
                .send()
                .await
                .map_err(sdk("RemoveTagsFromResource"))?;
        }
        if !changes.set.is_empty() {
            clients
                .ssm
                .add_tags_to_resource()
                .resource_type(ResourceTypeForTagging::Parameter)
                .resource_id(&name)
                .set_tags(Some(ssm_tags(changes.set)?))
                .send()
                .await
                .map_err(sdk("AddTagsToResource"))?;
        }
        Ok(())
    }

    async fn delete(&self, clients: &Clients, prior: &Attrs) -> Result<(), AwsError> {
        gone(
            clients
                .ssm
                .delete_parameter()
                .name(attrs::required_string(prior, "id")?)
                .send()
                .await
                .map(|_| ())
                .map_err(sdk("DeleteParameter")),
        )
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

fn ssm_tags(tags: impl IntoIterator<Item = (String, String)>) -> Result<Vec<Tag>, AwsError> {
    tags.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(build("AddTagsToResource"))
}
