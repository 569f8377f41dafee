//! `aws_secretsmanager_secret`: a Secrets Manager secret and its current string value.

use async_trait::async_trait;
use aws_sdk_secretsmanager::types::Tag;
use braid_provider::{AttributeType, ResourceSchema, Value};

use crate::attrs::{self, Attrs, TagChanges, opt_string, tags_value};
use crate::config::Clients;
use crate::error::{AwsError, found, gone, sdk};
use crate::resource::ResourceType;
use crate::schema::{arn, computed, optional, required, tags};

pub struct SecretsmanagerSecret;

#[async_trait]
impl ResourceType for SecretsmanagerSecret {
    fn type_name(&self) -> &'static str {
        "aws_secretsmanager_secret"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "A Secrets Manager secret. The description, value (a new version) and tags change \
             in place; a new name replaces the secret. Deleting skips the recovery window, so \
             the name can be used again at once.",
        )
        .attribute(
            "name",
            required(AttributeType::String, "The secret name.").force_new(),
        )
        .attribute(
            "description",
            optional(AttributeType::String, "A description of the secret."),
        )
        .attribute(
            "secret_string",
            optional(
                AttributeType::String,
                "The secret's current value; masked in every view.",
            )
            .sensitive(),
        )
        .attribute("tags", tags())
        .attribute("id", computed("The secret ARN."))
        .attribute("arn", arn())
    }

    async fn read(&self, clients: &Clients, current: &Attrs) -> Result<Option<Attrs>, AwsError> {
        let Some(id) = attrs::string(current, "id").or_else(|| attrs::string(current, "name"))
        else {
            return Ok(None);
        };
        let response = clients
            .secretsmanager
            .describe_secret()
            .secret_id(&id)
            .send()
            .await
            .map_err(sdk("DescribeSecret"));
        let Some(secret) = found(response)? else {
            return Ok(None);
        };
        // A secret scheduled for deletion is as good as gone.
        if secret.deleted_date().is_some() {
            return Ok(None);
        }
        let arn = secret.arn().unwrap_or(&id).to_string();
        let value = clients
            .secretsmanager
            .get_secret_value()
            .secret_id(&arn)
            .send()
            .await
            .map_err(sdk("GetSecretValue"));
        // A secret without any version has no value (ResourceNotFoundException).
        let secret_string = found(value)?.and_then(|v| v.secret_string().map(str::to_string));
        Ok(Some(
            [
                ("id", Value::from(arn.clone())),
                ("arn", Value::from(arn)),
                ("name", opt_string(secret.name())),
                ("description", opt_string(secret.description())),
                ("secret_string", opt_string(secret_string)),
                (
                    "tags",
                    tags_value(
                        secret
                            .tags()
                            .iter()
                            .filter_map(|t| Some((t.key()?, t.value()?))),
                    ),
                ),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        ))
    }

    async fn create(&self, clients: &Clients, desired: &Attrs) -> Result<Attrs, AwsError> {
        let tags = attrs::tags(desired);
        let response = clients
            .secretsmanager
            .create_secret()
            .name(attrs::required_string(desired, "name")?)
            .set_description(attrs::string(desired, "description"))
            .set_secret_string(attrs::string(desired, "secret_string"))
            .set_tags(if tags.is_empty() {
                None
            } else {
                Some(secret_tags(tags))
            })
            .send()
            .await
            .map_err(sdk("CreateSecret"))?;
        let arn = response.arn().unwrap_or_default().to_string();
        Ok([("id".to_string(), Value::from(arn))].into())
    }

    async fn update(
        &self,
        clients: &Clients,
        prior: &Attrs,
        desired: &Attrs,
    ) -> Result<(), AwsError> {
        let arn = attrs::required_string(prior, "id")?;
        if attrs::changed(prior, desired, "description") {
            clients
                .secretsmanager
                .update_secret()
                .secret_id(&arn)
                .description(attrs::string(desired, "description").unwrap_or_default())
                .send()
                .await
                .map_err(sdk("UpdateSecret"))?;
        }
        if attrs::changed(prior, desired, "secret_string")
            && let Some(value) = attrs::string(desired, "secret_string")
        {
            clients
                .secretsmanager
                .put_secret_value()
                .secret_id(&arn)
                .secret_string(value)
                .send()
                .await
                .map_err(sdk("PutSecretValue"))?;
        }
        let changes = TagChanges::between(prior, desired);
        if !changes.remove.is_empty() {
            clients
                .secretsmanager
                .untag_resource()
                .secret_id(&arn)
                .set_tag_keys(Some(changes.remove))
                .send()
                .await
                .map_err(sdk("UntagResource"))?;
        }
        if !changes.set.is_empty() {
            clients
                .secretsmanager
                .tag_resource()
                .secret_id(&arn)
                .set_tags(Some(secret_tags(changes.set)))
                .send()
                .await
                .map_err(sdk("TagResource"))?;
        }
        Ok(())
    }

    async fn delete(&self, clients: &Clients, prior: &Attrs) -> Result<(), AwsError> {
        gone(
            clients
                .secretsmanager
                .delete_secret()
                .secret_id(attrs::required_string(prior, "id")?)
                .force_delete_without_recovery(true)
                .send()
                .await
                .map(|_| ())
                .map_err(sdk("DeleteSecret")),
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
                self.read(clients, &[("name".to_string(), Value::from(name))].into())
                    .await
            }
            None => Ok(None),
        }
    }
}

fn secret_tags(tags: impl IntoIterator<Item = (String, String)>) -> Vec<Tag> {
    tags.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}
