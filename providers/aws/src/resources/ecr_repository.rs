//! `aws_ecr_repository`: a container image repository.

use async_trait::async_trait;
use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability, Tag};
use braid_provider::{AttributeType, ResourceSchema, Value};

use crate::attrs::{self, Attrs, TagChanges, tags_value};
use crate::config::Clients;
use crate::error::{AwsError, build, found, gone, sdk};
use crate::resource::ResourceType;
use crate::schema::{arn, computed, defaulted, required, tags};

pub struct EcrRepository;

#[async_trait]
impl ResourceType for EcrRepository {
    fn type_name(&self) -> &'static str {
        "aws_ecr_repository"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "An ECR repository. Tag mutability, scan on push and tags change in place; a new \
             name replaces the repository.",
        )
        .attribute(
            "name",
            required(AttributeType::String, "The repository name.").force_new(),
        )
        .attribute(
            "image_tag_mutability",
            defaulted(
                AttributeType::String,
                "MUTABLE or IMMUTABLE. Defaults to MUTABLE.",
            ),
        )
        .attribute(
            "scan_on_push",
            defaulted(
                AttributeType::Bool,
                "Scan every pushed image for vulnerabilities. Defaults to false.",
            ),
        )
        .attribute(
            "force_delete",
            defaulted(
                AttributeType::Bool,
                "Delete the images too when the repository is deleted; without it, deleting a \
                 repository that holds images fails. Defaults to false; kept only in state.",
            ),
        )
        .attribute("tags", tags())
        .attribute("id", computed("The repository name."))
        .attribute("arn", arn())
        .attribute("registry_id", computed("The account id of the registry."))
        .attribute(
            "repository_url",
            computed("The URL to push to: ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME."),
        )
    }

    fn default(&self, attribute: &str) -> Option<Value> {
        match attribute {
            "image_tag_mutability" => Some(Value::from("MUTABLE")),
            "scan_on_push" | "force_delete" => Some(Value::Bool(false)),
            _ => None,
        }
    }

    fn state_only_attributes(&self) -> &'static [&'static str] {
        &["force_delete"]
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
            .ecr
            .describe_repositories()
            .repository_names(&name)
            .send()
            .await
            .map_err(sdk("DescribeRepositories"));
        let Some(response) = found(response)? else {
            return Ok(None);
        };
        let Some(repository) = response.repositories().first() else {
            return Ok(None);
        };
        let arn = repository.repository_arn().unwrap_or_default().to_string();
        let tags = clients
            .ecr
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .map_err(sdk("ListTagsForResource"))?;
        Ok(Some(
            [
                ("id", Value::from(name.clone())),
                ("name", Value::from(name)),
                ("arn", Value::from(arn)),
                (
                    "registry_id",
                    Value::from(repository.registry_id().unwrap_or_default()),
                ),
                (
                    "repository_url",
                    Value::from(repository.repository_uri().unwrap_or_default()),
                ),
                (
                    "image_tag_mutability",
                    Value::from(
                        repository
                            .image_tag_mutability()
                            .map_or("MUTABLE", ImageTagMutability::as_str),
                    ),
                ),
                (
                    "scan_on_push",
                    Value::Bool(
                        repository
                            .image_scanning_configuration()
                            .is_some_and(ImageScanningConfiguration::scan_on_push),
                    ),
                ),
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
        let tags = attrs::tags(desired);
        clients
            .ecr
            .create_repository()
            .repository_name(&name)
            .image_tag_mutability(mutability(desired))
            .image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(attrs::boolean(desired, "scan_on_push"))
                    .build(),
            )
            .set_tags(if tags.is_empty() {
                None
            } else {
                Some(ecr_tags(tags)?)
            })
            .send()
            .await
            .map_err(sdk("CreateRepository"))?;
        Ok([("id".to_string(), Value::from(name))].into())
    }

    async fn update(
        &self,
        clients: &Clients,
        prior: &Attrs,
        desired: &Attrs,
    ) -> Result<(), AwsError> {
        let name = attrs::required_string(prior, "id")?;
        if attrs::changed(prior, desired, "image_tag_mutability") {
            clients
                .ecr
                .put_image_tag_mutability()
                .repository_name(&name)
                .image_tag_mutability(mutability(desired))
                .send()
                .await
                .map_err(sdk("PutImageTagMutability"))?;
        }
        if attrs::changed(prior, desired, "scan_on_push") {
            clients
                .ecr
                .put_image_scanning_configuration()
                .repository_name(&name)
                .image_scanning_configuration(
                    ImageScanningConfiguration::builder()
                        .scan_on_push(attrs::boolean(desired, "scan_on_push"))
                        .build(),
                )
                .send()
                .await
                .map_err(sdk("PutImageScanningConfiguration"))?;
        }
        let changes = TagChanges::between(prior, desired);
        let arn = attrs::required_string(prior, "arn")?;
        if !changes.remove.is_empty() {
            clients
                .ecr
                .untag_resource()
                .resource_arn(&arn)
                .set_tag_keys(Some(changes.remove))
                .send()
                .await
                .map_err(sdk("UntagResource"))?;
        }
        if !changes.set.is_empty() {
            clients
                .ecr
                .tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(ecr_tags(changes.set)?))
                .send()
                .await
                .map_err(sdk("TagResource"))?;
        }
        Ok(())
    }

    async fn delete(&self, clients: &Clients, prior: &Attrs) -> Result<(), AwsError> {
        gone(
            clients
                .ecr
                .delete_repository()
                .repository_name(attrs::required_string(prior, "id")?)
                .force(attrs::boolean(prior, "force_delete"))
                .send()
                .await
                .map(|_| ())
                .map_err(sdk("DeleteRepository")),
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

fn mutability(desired: &Attrs) -> ImageTagMutability {
    ImageTagMutability::from(
        attrs::string(desired, "image_tag_mutability")
            .as_deref()
            .unwrap_or("MUTABLE"),
    )
}

fn ecr_tags(tags: impl IntoIterator<Item = (String, String)>) -> Result<Vec<Tag>, AwsError> {
    tags.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(build("TagResource"))
}
