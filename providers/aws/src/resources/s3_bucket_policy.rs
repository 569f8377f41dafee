//! `aws_s3_bucket_policy`: the policy document of a bucket.

use async_trait::async_trait;
use braid_provider::{AttributeType, ResourceSchema, Value};

use crate::attrs::{self, Attrs};
use crate::config::Clients;
use crate::error::{AwsError, found, gone, sdk};
use crate::resource::ResourceType;
use crate::schema::{computed, required};

pub struct S3BucketPolicy;

#[async_trait]
impl ResourceType for S3BucketPolicy {
    fn type_name(&self) -> &'static str {
        "aws_s3_bucket_policy"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "The bucket policy of an S3 bucket. A new policy document is put in place; another \
             bucket replaces the resource.",
        )
        .attribute(
            "bucket",
            required(AttributeType::String, "The name of the bucket.").force_new(),
        )
        .attribute(
            "policy",
            required(
                AttributeType::String,
                "The policy as a JSON document (use jsonencode). Compared by meaning: key order, \
                 whitespace and a single statement versus a list of one do not show as changes.",
            ),
        )
        .attribute("id", computed("The bucket name."))
    }

    fn json_attributes(&self) -> &'static [&'static str] {
        &["policy"]
    }

    fn planned_computed(&self, planned: &Attrs, _clients: &Clients) -> Attrs {
        match planned.get("bucket") {
            Some(bucket @ Value::String(_)) => [("id".to_string(), bucket.clone())].into(),
            _ => Attrs::new(),
        }
    }

    async fn read(&self, clients: &Clients, current: &Attrs) -> Result<Option<Attrs>, AwsError> {
        let Some(bucket) =
            attrs::string(current, "id").or_else(|| attrs::string(current, "bucket"))
        else {
            return Ok(None);
        };
        let response = clients
            .s3
            .get_bucket_policy()
            .bucket(&bucket)
            .send()
            .await
            .map_err(sdk("GetBucketPolicy"));
        let Some(response) = found(response)? else {
            return Ok(None);
        };
        let Some(policy) = response.policy() else {
            return Ok(None);
        };
        Ok(Some(
            [
                ("id", Value::from(bucket.clone())),
                ("bucket", Value::from(bucket)),
                ("policy", Value::from(policy)),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        ))
    }

    async fn create(&self, clients: &Clients, desired: &Attrs) -> Result<Attrs, AwsError> {
        let bucket = attrs::required_string(desired, "bucket")?;
        put_policy(clients, &bucket, desired).await?;
        Ok([("id".to_string(), Value::from(bucket))].into())
    }

    async fn update(
        &self,
        clients: &Clients,
        prior: &Attrs,
        desired: &Attrs,
    ) -> Result<(), AwsError> {
        let bucket = attrs::required_string(prior, "id")?;
        put_policy(clients, &bucket, desired).await
    }

    async fn delete(&self, clients: &Clients, prior: &Attrs) -> Result<(), AwsError> {
        let bucket = attrs::required_string(prior, "id")?;
        gone(
            clients
                .s3
                .delete_bucket_policy()
                .bucket(&bucket)
                .send()
                .await
                .map(|_| ())
                .map_err(sdk("DeleteBucketPolicy")),
        )
    }

    fn import_identity(&self, id: &str) -> Attrs {
        [("id".to_string(), Value::from(id))].into()
    }
}

async fn put_policy(clients: &Clients, bucket: &str, desired: &Attrs) -> Result<(), AwsError> {
    let policy = attrs::required_string(desired, "policy")?;
    clients
        .s3
        .put_bucket_policy()
        .bucket(bucket)
        .policy(policy)
        .send()
        .await
        .map_err(sdk("PutBucketPolicy"))?;
    Ok(())
}
