//! `aws_iam_role`: an IAM role with its trust policy.

use async_trait::async_trait;
use aws_sdk_iam::types::Tag;
use braid_provider::{AttributeType, ResourceSchema, Value};

use crate::attrs::{self, Attrs, TagChanges, opt_string, tags_value};
use crate::config::Clients;
use crate::error::{AwsError, build, found, gone, sdk};
use crate::resource::ResourceType;
use crate::schema::{arn, computed, defaulted, optional, required, tags};

pub struct IamRole;

#[async_trait]
impl ResourceType for IamRole {
    fn type_name(&self) -> &'static str {
        "aws_iam_role"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "An IAM role. The trust policy, description, session duration and tags change in \
             place; a new name or path replaces the role.",
        )
        .attribute(
            "name",
            required(AttributeType::String, "The role name.").force_new(),
        )
        .attribute(
            "path",
            defaulted(AttributeType::String, "The role's path. Defaults to \"/\".").force_new(),
        )
        .attribute(
            "assume_role_policy",
            required(
                AttributeType::String,
                "The trust policy as a JSON document, compared by meaning.",
            ),
        )
        .attribute(
            "description",
            optional(AttributeType::String, "A description of the role."),
        )
        .attribute(
            "max_session_duration",
            defaulted(
                AttributeType::Number,
                "The longest session, in seconds (3600 to 43200). Defaults to 3600.",
            ),
        )
        .attribute("tags", tags())
        .attribute("id", computed("The role name."))
        .attribute("arn", arn())
        .attribute(
            "unique_id",
            computed("The stable unique id AWS gives the role."),
        )
    }

    fn default(&self, attribute: &str) -> Option<Value> {
        match attribute {
            "path" => Some(Value::from("/")),
            "max_session_duration" => Some(Value::from(3600)),
            _ => None,
        }
    }

    fn json_attributes(&self) -> &'static [&'static str] {
        &["assume_role_policy"]
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
            .iam
            .get_role()
            .role_name(&name)
            .send()
            .await
            .map_err(sdk("GetRole"));
        let Some(role) = found(response)?.and_then(|r| r.role) else {
            return Ok(None);
        };
        let tags = clients
            .iam
            .list_role_tags()
            .role_name(&name)
            .send()
            .await
            .map_err(sdk("ListRoleTags"))?;
        Ok(Some(
            [
                ("id", Value::from(role.role_name())),
                ("name", Value::from(role.role_name())),
                ("path", Value::from(role.path())),
                ("arn", Value::from(role.arn())),
                ("unique_id", Value::from(role.role_id())),
                (
                    "assume_role_policy",
                    opt_string(role.assume_role_policy_document()),
                ),
                ("description", opt_string(role.description())),
                (
                    "max_session_duration",
                    Value::from(i64::from(role.max_session_duration().unwrap_or(3600))),
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
        clients
            .iam
            .create_role()
            .role_name(&name)
            .path(attrs::string(desired, "path").unwrap_or_else(|| "/".to_string()))
            .assume_role_policy_document(attrs::required_string(desired, "assume_role_policy")?)
            .set_description(attrs::string(desired, "description"))
            .set_max_session_duration(attrs::integer_i32(desired, "max_session_duration")?)
            .set_tags(iam_tags(desired)?)
            .send()
            .await
            .map_err(sdk("CreateRole"))?;
        Ok([("id".to_string(), Value::from(name))].into())
    }

    async fn update(
        &self,
        clients: &Clients,
        prior: &Attrs,
        desired: &Attrs,
    ) -> Result<(), AwsError> {
        let name = attrs::required_string(prior, "id")?;
        if attrs::changed(prior, desired, "assume_role_policy") {
            clients
                .iam
                .update_assume_role_policy()
                .role_name(&name)
                .policy_document(attrs::required_string(desired, "assume_role_policy")?)
                .send()
                .await
                .map_err(sdk("UpdateAssumeRolePolicy"))?;
        }
        if attrs::changed(prior, desired, "description")
            || attrs::changed(prior, desired, "max_session_duration")
        {
            clients
                .iam
                .update_role()
                .role_name(&name)
                .description(attrs::string(desired, "description").unwrap_or_default())
                .set_max_session_duration(attrs::integer_i32(desired, "max_session_duration")?)
                .send()
                .await
                .map_err(sdk("UpdateRole"))?;
        }
        let changes = TagChanges::between(prior, desired);
        if !changes.remove.is_empty() {
            clients
                .iam
                .untag_role()
                .role_name(&name)
                .set_tag_keys(Some(changes.remove))
                .send()
                .await
                .map_err(sdk("UntagRole"))?;
        }
        if !changes.set.is_empty() {
            clients
                .iam
                .tag_role()
                .role_name(&name)
                .set_tags(Some(to_tags(changes.set)?))
                .send()
                .await
                .map_err(sdk("TagRole"))?;
        }
        Ok(())
    }

    async fn delete(&self, clients: &Clients, prior: &Attrs) -> Result<(), AwsError> {
        let name = attrs::required_string(prior, "id")?;
        gone(
            clients
                .iam
                .delete_role()
                .role_name(&name)
                .send()
                .await
                .map(|_| ())
                .map_err(sdk("DeleteRole")),
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

/// The `tags` attribute as IAM tags; `None` when there are none.
pub(crate) fn iam_tags(desired: &Attrs) -> Result<Option<Vec<Tag>>, AwsError> {
    let tags = attrs::tags(desired);
    if tags.is_empty() {
        return Ok(None);
    }
    to_tags(tags).map(Some)
}

pub(crate) fn to_tags(
    tags: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<Tag>, AwsError> {
    tags.into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(build("TagRole"))
}
