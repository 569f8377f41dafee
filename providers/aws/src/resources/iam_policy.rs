//! `aws_iam_policy`: a customer-managed IAM policy. A new document becomes a new default
//! policy version.

use async_trait::async_trait;
use braid_provider::{AttributeType, ResourceSchema, Value};

use crate::attrs::{self, Attrs, TagChanges, opt_string, tags_value};
use crate::config::Clients;
use crate::error::{AwsError, found, gone, sdk};
use crate::resource::ResourceType;
use crate::resources::iam_role::{iam_tags, to_tags};
use crate::schema::{arn, computed, defaulted, optional, required, tags};

/// IAM keeps at most five versions of a policy.
const MAX_POLICY_VERSIONS: usize = 5;

pub struct IamPolicy;

#[async_trait]
impl ResourceType for IamPolicy {
    fn type_name(&self) -> &'static str {
        "aws_iam_policy"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "A customer-managed IAM policy. A new document is a new default version (the oldest \
             non-default version is deleted at the limit of five); tags change in place; a new \
             name, path or description replaces the policy.",
        )
        .attribute(
            "name",
            required(AttributeType::String, "The policy name.").force_new(),
        )
        .attribute(
            "path",
            defaulted(
                AttributeType::String,
                "The policy's path. Defaults to \"/\".",
            )
            .force_new(),
        )
        .attribute(
            "policy",
            required(
                AttributeType::String,
                "The policy as a JSON document, compared by meaning.",
            ),
        )
        .attribute(
            "description",
            optional(
                AttributeType::String,
                "A description; IAM cannot change it, so a new one replaces the policy.",
            )
            .force_new(),
        )
        .attribute("tags", tags())
        .attribute("id", computed("The policy ARN."))
        .attribute("arn", arn())
        .attribute(
            "policy_id",
            computed("The stable unique id AWS gives the policy."),
        )
    }

    fn default(&self, attribute: &str) -> Option<Value> {
        (attribute == "path").then(|| Value::from("/"))
    }

    fn json_attributes(&self) -> &'static [&'static str] {
        &["policy"]
    }

    async fn read(&self, clients: &Clients, current: &Attrs) -> Result<Option<Attrs>, AwsError> {
        let Some(arn) = attrs::string(current, "id").or_else(|| attrs::string(current, "arn"))
        else {
            return Ok(None);
        };
        let response = clients
            .iam
            .get_policy()
            .policy_arn(&arn)
            .send()
            .await
            .map_err(sdk("GetPolicy"));
        let Some(policy) = found(response)?.and_then(|r| r.policy) else {
            return Ok(None);
        };
        let version = clients
            .iam
            .get_policy_version()
            .policy_arn(&arn)
            .version_id(policy.default_version_id().unwrap_or("v1"))
            .send()
            .await
            .map_err(sdk("GetPolicyVersion"))?;
        let document = version
            .policy_version()
            .and_then(|v| v.document())
            .map(str::to_string);
        let tags = clients
            .iam
            .list_policy_tags()
            .policy_arn(&arn)
            .send()
            .await
            .map_err(sdk("ListPolicyTags"))?;
        Ok(Some(
            [
                ("id", Value::from(arn.clone())),
                ("arn", Value::from(arn)),
                ("name", opt_string(policy.policy_name())),
                ("path", Value::from(policy.path().unwrap_or("/"))),
                ("policy_id", opt_string(policy.policy_id())),
                ("description", opt_string(policy.description())),
                ("policy", opt_string(document)),
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
        let response = clients
            .iam
            .create_policy()
            .policy_name(attrs::required_string(desired, "name")?)
            .path(attrs::string(desired, "path").unwrap_or_else(|| "/".to_string()))
            .policy_document(attrs::required_string(desired, "policy")?)
            .set_description(attrs::string(desired, "description"))
            .set_tags(iam_tags(desired)?)
            .send()
            .await
            .map_err(sdk("CreatePolicy"))?;
        let arn = response
            .policy()
            .and_then(|p| p.arn())
            .map(str::to_string)
            .unwrap_or_default();
        Ok([("id".to_string(), Value::from(arn))].into())
    }

    async fn update(
        &self,
        clients: &Clients,
        prior: &Attrs,
        desired: &Attrs,
    ) -> Result<(), AwsError> {
        let arn = attrs::required_string(prior, "id")?;
        if attrs::changed(prior, desired, "policy") {
            make_room_for_version(clients, &arn).await?;
            clients
                .iam
                .create_policy_version()
                .policy_arn(&arn)
                .policy_document(attrs::required_string(desired, "policy")?)
                .set_as_default(true)
                .send()
                .await
                .map_err(sdk("CreatePolicyVersion"))?;
        }
        let changes = TagChanges::between(prior, desired);
        if !changes.remove.is_empty() {
            clients
                .iam
                .untag_policy()
                .policy_arn(&arn)
                .set_tag_keys(Some(changes.remove))
                .send()
                .await
                .map_err(sdk("UntagPolicy"))?;
        }
        if !changes.set.is_empty() {
            clients
                .iam
                .tag_policy()
                .policy_arn(&arn)
                .set_tags(Some(to_tags(changes.set)?))
                .send()
                .await
                .map_err(sdk("TagPolicy"))?;
        }
        Ok(())
    }

    async fn delete(&self, clients: &Clients, prior: &Attrs) -> Result<(), AwsError> {
        let arn = attrs::required_string(prior, "id")?;
        // A policy can only be deleted once it has no versions but the default one.
        let versions = gone_to_empty(non_default_versions(clients, &arn).await)?;
        for version in versions {
            gone(
                clients
                    .iam
                    .delete_policy_version()
                    .policy_arn(&arn)
                    .version_id(version)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(sdk("DeletePolicyVersion")),
            )?;
        }
        gone(
            clients
                .iam
                .delete_policy()
                .policy_arn(&arn)
                .send()
                .await
                .map(|_| ())
                .map_err(sdk("DeletePolicy")),
        )
    }

    fn import_identity(&self, id: &str) -> Attrs {
        [("id".to_string(), Value::from(id))].into()
    }
}

/// The ids of the versions that are not the default, oldest first.
async fn non_default_versions(clients: &Clients, arn: &str) -> Result<Vec<String>, AwsError> {
    let response = clients
        .iam
        .list_policy_versions()
        .policy_arn(arn)
        .send()
        .await
        .map_err(sdk("ListPolicyVersions"))?;
    let mut versions: Vec<(Option<aws_smithy_types::DateTime>, String)> = response
        .versions()
        .iter()
        .filter(|v| !v.is_default_version())
        .filter_map(|v| {
            v.version_id()
                .map(|id| (v.create_date().copied(), id.to_string()))
        })
        .collect();
    versions.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal));
    Ok(versions.into_iter().map(|(_, id)| id).collect())
}

async fn make_room_for_version(clients: &Clients, arn: &str) -> Result<(), AwsError> {
    let versions = non_default_versions(clients, arn).await?;
    if versions.len() + 1 < MAX_POLICY_VERSIONS {
        return Ok(());
    }
    if let Some(oldest) = versions.first() {
        clients
            .iam
            .delete_policy_version()
            .policy_arn(arn)
            .version_id(oldest)
            .send()
            .await
            .map_err(sdk("DeletePolicyVersion"))?;
    }
    Ok(())
}

fn gone_to_empty(result: Result<Vec<String>, AwsError>) -> Result<Vec<String>, AwsError> {
    match result {
        Err(e) if e.is_not_found() => Ok(Vec::new()),
        other => other,
    }
}
