//! `aws_iam_role_policy_attachment`: a managed policy attached to a role.

use async_trait::async_trait;
use braid_provider::{AttributeType, ResourceSchema, Value};

use crate::attrs::{self, Attrs};
use crate::config::Clients;
use crate::error::{AwsError, found, gone, sdk};
use crate::resource::ResourceType;
use crate::schema::{computed, required};

pub struct IamRolePolicyAttachment;

#[async_trait]
impl ResourceType for IamRolePolicyAttachment {
    fn type_name(&self) -> &'static str {
        "aws_iam_role_policy_attachment"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "Attaches a managed policy to an IAM role. Nothing changes in place: another role \
             or policy replaces the attachment.",
        )
        .attribute(
            "role",
            required(AttributeType::String, "The role name.").force_new(),
        )
        .attribute(
            "policy_arn",
            required(AttributeType::String, "The ARN of the policy to attach.").force_new(),
        )
        .attribute(
            "id",
            computed("ROLE/POLICY_ARN; also the id to import an attachment by."),
        )
    }

    fn planned_computed(&self, planned: &Attrs, _clients: &Clients) -> Attrs {
        match (
            attrs::string(planned, "role"),
            attrs::string(planned, "policy_arn"),
        ) {
            (Some(role), Some(arn)) => {
                [("id".to_string(), Value::from(format!("{role}/{arn}")))].into()
            }
            _ => Attrs::new(),
        }
    }

    async fn read(&self, clients: &Clients, current: &Attrs) -> Result<Option<Attrs>, AwsError> {
        let (role, arn) = match (
            attrs::string(current, "role"),
            attrs::string(current, "policy_arn"),
        ) {
            (Some(role), Some(arn)) => (role, arn),
            _ => match attrs::string(current, "id").as_deref().and_then(split_id) {
                Some(pair) => pair,
                None => return Ok(None),
            },
        };
        let mut marker = None;
        loop {
            let response = clients
                .iam
                .list_attached_role_policies()
                .role_name(&role)
                .set_marker(marker)
                .send()
                .await
                .map_err(sdk("ListAttachedRolePolicies"));
            let Some(page) = found(response)? else {
                return Ok(None);
            };
            if page
                .attached_policies()
                .iter()
                .any(|p| p.policy_arn() == Some(arn.as_str()))
            {
                return Ok(Some(
                    [
                        ("id", Value::from(format!("{role}/{arn}"))),
                        ("role", Value::from(role)),
                        ("policy_arn", Value::from(arn)),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
                ));
            }
            if !page.is_truncated() {
                return Ok(None);
            }
            marker = page.marker().map(str::to_string);
        }
    }

    async fn create(&self, clients: &Clients, desired: &Attrs) -> Result<Attrs, AwsError> {
        let role = attrs::required_string(desired, "role")?;
        let arn = attrs::required_string(desired, "policy_arn")?;
        clients
            .iam
            .attach_role_policy()
            .role_name(&role)
            .policy_arn(&arn)
            .send()
            .await
            .map_err(sdk("AttachRolePolicy"))?;
        Ok([("id".to_string(), Value::from(format!("{role}/{arn}")))].into())
    }

    async fn update(&self, _: &Clients, _: &Attrs, _: &Attrs) -> Result<(), AwsError> {
        // Every attribute forces replacement.
        Ok(())
    }

    async fn delete(&self, clients: &Clients, prior: &Attrs) -> Result<(), AwsError> {
        gone(
            clients
                .iam
                .detach_role_policy()
                .role_name(attrs::required_string(prior, "role")?)
                .policy_arn(attrs::required_string(prior, "policy_arn")?)
                .send()
                .await
                .map(|_| ())
                .map_err(sdk("DetachRolePolicy")),
        )
    }

    fn import_identity(&self, id: &str) -> Attrs {
        [("id".to_string(), Value::from(id))].into()
    }
}

/// `ROLE/arn:aws:iam::...`: the role name cannot contain `/`, the ARN can.
fn split_id(id: &str) -> Option<(String, String)> {
    let (role, arn) = id.split_once('/')?;
    (!role.is_empty() && arn.starts_with("arn:")).then(|| (role.to_string(), arn.to_string()))
}
