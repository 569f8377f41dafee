//! `aws_s3_bucket`: a bucket with its versioning state and tags.

use async_trait::async_trait;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, Delete,
    ObjectIdentifier, Tag, Tagging, VersioningConfiguration,
};
use braid_provider::{AttributeType, ResourceSchema, Value};

use crate::attrs::{self, Attrs, partition, tags_value};
use crate::config::Clients;
use crate::error::{AwsError, build, found, gone, sdk};
use crate::resource::ResourceType;
use crate::schema::{arn, computed, defaulted, required, tags};

pub struct S3Bucket;

#[async_trait]
impl ResourceType for S3Bucket {
    fn type_name(&self) -> &'static str {
        "aws_s3_bucket"
    }

    fn schema(&self) -> ResourceSchema {
        ResourceSchema::new(
            "An S3 bucket. Versioning and tags change in place; a new name replaces the bucket.",
        )
        .attribute(
            "bucket",
            required(AttributeType::String, "The bucket name, unique across AWS.").force_new(),
        )
        .attribute(
            "versioning",
            defaulted(
                AttributeType::Map,
                "A block { enabled = true|false }. Disabling suspends versioning (a bucket \
                 that was versioned cannot become unversioned). Defaults to disabled.",
            ),
        )
        .attribute("tags", tags())
        .attribute(
            "force_destroy",
            defaulted(
                AttributeType::Bool,
                "Delete every object (all versions) when the bucket is deleted. Without it, \
                 deleting a bucket that is not empty fails. Defaults to false; kept only in \
                 state.",
            ),
        )
        .attribute("id", computed("The bucket name."))
        .attribute("arn", arn())
        .attribute(
            "bucket_domain_name",
            computed("The bucket's domain name, BUCKET.s3.amazonaws.com."),
        )
        .attribute("region", computed("The region the bucket is in."))
    }

    fn default(&self, attribute: &str) -> Option<Value> {
        match attribute {
            "versioning" => Some(versioning_value(false)),
            "force_destroy" => Some(Value::Bool(false)),
            _ => None,
        }
    }

    fn state_only_attributes(&self) -> &'static [&'static str] {
        &["force_destroy"]
    }

    fn normalize(&self, planned: &mut Attrs) -> Result<(), AwsError> {
        let versioning = match planned.get("versioning") {
            Some(Value::List(items)) if items.len() == 1 => items[0].clone(),
            Some(other) => other.clone(),
            None => Value::Null,
        };
        let normalized = match &versioning {
            Value::Null => versioning_value(false),
            Value::Map(m) => match m.get("enabled") {
                None | Some(Value::Null) => versioning_value(false),
                Some(Value::Bool(b)) => versioning_value(*b),
                Some(Value::Unknown) => Value::map([("enabled", Value::Unknown)]),
                Some(_) => {
                    return Err(AwsError::invalid(
                        "versioning",
                        "versioning.enabled must be true or false",
                    ));
                }
            },
            _ => versioning,
        };
        planned.insert("versioning".to_string(), normalized);
        Ok(())
    }

    fn planned_computed(&self, planned: &Attrs, clients: &Clients) -> Attrs {
        let mut out = Attrs::new();
        if let Some(bucket) = attrs::string(planned, "bucket") {
            out.extend(computed_values(&bucket, &clients.region));
        }
        out
    }

    async fn read(&self, clients: &Clients, current: &Attrs) -> Result<Option<Attrs>, AwsError> {
        let Some(bucket) =
            attrs::string(current, "id").or_else(|| attrs::string(current, "bucket"))
        else {
            return Ok(None);
        };
        let head = clients
            .s3
            .head_bucket()
            .bucket(&bucket)
            .send()
            .await
            .map_err(sdk("HeadBucket"));
        if found(head)?.is_none() {
            return Ok(None);
        }
        let enabled = match clients
            .s3
            .get_bucket_versioning()
            .bucket(&bucket)
            .send()
            .await
        {
            Ok(v) => v.status() == Some(&BucketVersioningStatus::Enabled),
            // moto names the root element GetBucketVersioningResponse instead of S3's
            // VersioningConfiguration, which the SDK refuses to parse although the status is
            // 200; the Status element inside is the same, so read it from the body.
            Err(e) => match e.raw_response().filter(|r| r.status().as_u16() == 200) {
                Some(response) => response.body().bytes().is_some_and(|body| {
                    String::from_utf8_lossy(body).contains("<Status>Enabled</Status>")
                }),
                None => return Err(AwsError::from_sdk("GetBucketVersioning", e)),
            },
        };
        let tagging = clients
            .s3
            .get_bucket_tagging()
            .bucket(&bucket)
            .send()
            .await
            .map_err(sdk("GetBucketTagging"));
        let tags = match found(tagging)? {
            Some(t) => tags_value(t.tag_set().iter().map(|t| (t.key(), t.value()))),
            None => Value::Null,
        };
        let mut out = computed_values(&bucket, &clients.region);
        out.insert("bucket".to_string(), Value::from(bucket));
        out.insert("versioning".to_string(), versioning_value(enabled));
        out.insert("tags".to_string(), tags);
        Ok(Some(out))
    }

    async fn create(&self, clients: &Clients, desired: &Attrs) -> Result<Attrs, AwsError> {
        let bucket = attrs::required_string(desired, "bucket")?;
        let mut request = clients.s3.create_bucket().bucket(&bucket);
        // us-east-1 is the one region that must not be named as a location constraint.
        if clients.region != "us-east-1" {
            request = request.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(clients.region.as_str()))
                    .build(),
            );
        }
        request.send().await.map_err(sdk("CreateBucket"))?;
        if versioning_enabled(desired) {
            put_versioning(clients, &bucket, true).await?;
        }
        if !attrs::tags(desired).is_empty() {
            put_tags(clients, &bucket, desired).await?;
        }
        Ok([("id".to_string(), Value::from(bucket))].into())
    }

    async fn update(
        &self,
        clients: &Clients,
        prior: &Attrs,
        desired: &Attrs,
    ) -> Result<(), AwsError> {
        let bucket = attrs::required_string(prior, "id")?;
        if versioning_enabled(prior) != versioning_enabled(desired) {
            put_versioning(clients, &bucket, versioning_enabled(desired)).await?;
        }
        if attrs::changed(prior, desired, "tags") {
            put_tags(clients, &bucket, desired).await?;
        }
        Ok(())
    }

    async fn delete(&self, clients: &Clients, prior: &Attrs) -> Result<(), AwsError> {
        let bucket = attrs::required_string(prior, "id")?;
        if attrs::boolean(prior, "force_destroy") {
            gone(empty_bucket(clients, &bucket).await)?;
        }
        gone(
            clients
                .s3
                .delete_bucket()
                .bucket(&bucket)
                .send()
                .await
                .map(|_| ())
                .map_err(sdk("DeleteBucket")),
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
        let Some(bucket) = attrs::string(desired, "bucket") else {
            return Ok(None);
        };
        let head = clients.s3.head_bucket().bucket(&bucket).send().await;
        // 403: the name is taken by another account; the create will say so.
        if head.is_err() {
            return Ok(None);
        }
        self.read(clients, &[("id".to_string(), Value::from(bucket))].into())
            .await
    }
}

fn versioning_value(enabled: bool) -> Value {
    Value::map([("enabled", Value::Bool(enabled))])
}

fn versioning_enabled(attrs: &Attrs) -> bool {
    attrs
        .get("versioning")
        .and_then(|v| v.attr("enabled"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn computed_values(bucket: &str, region: &str) -> Attrs {
    [
        ("id", Value::from(bucket)),
        (
            "arn",
            Value::from(format!("arn:{}:s3:::{bucket}", partition(region))),
        ),
        (
            "bucket_domain_name",
            Value::from(format!("{bucket}.s3.amazonaws.com")),
        ),
        ("region", Value::from(region)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

async fn put_versioning(clients: &Clients, bucket: &str, enabled: bool) -> Result<(), AwsError> {
    let status = if enabled {
        BucketVersioningStatus::Enabled
    } else {
        BucketVersioningStatus::Suspended
    };
    clients
        .s3
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
        .send()
        .await
        .map_err(sdk("PutBucketVersioning"))?;
    Ok(())
}

async fn put_tags(clients: &Clients, bucket: &str, desired: &Attrs) -> Result<(), AwsError> {
    let tags = attrs::tags(desired);
    if tags.is_empty() {
        clients
            .s3
            .delete_bucket_tagging()
            .bucket(bucket)
            .send()
            .await
            .map_err(sdk("DeleteBucketTagging"))?;
        return Ok(());
    }
    let tag_set = tags
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(build("PutBucketTagging"))?;
    let tagging = Tagging::builder()
        .set_tag_set(Some(tag_set))
        .build()
        .map_err(build("PutBucketTagging"))?;
    clients
        .s3
        .put_bucket_tagging()
        .bucket(bucket)
        .tagging(tagging)
        .send()
        .await
        .map_err(sdk("PutBucketTagging"))?;
    Ok(())
}

/// Deletes every object version and delete marker, a page at a time.
async fn empty_bucket(clients: &Clients, bucket: &str) -> Result<(), AwsError> {
    loop {
        let page = clients
            .s3
            .list_object_versions()
            .bucket(bucket)
            .send()
            .await
            .map_err(sdk("ListObjectVersions"))?;
        let mut objects = Vec::new();
        let versions = page
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(
                page.delete_markers()
                    .iter()
                    .map(|m| (m.key(), m.version_id())),
            );
        for (key, version) in versions {
            let Some(key) = key else { continue };
            let mut id = ObjectIdentifier::builder().key(key);
            if let Some(version) = version.filter(|v| *v != "null") {
                id = id.version_id(version);
            }
            objects.push(id.build().map_err(build("DeleteObjects"))?);
        }
        if objects.is_empty() {
            return Ok(());
        }
        let delete = Delete::builder()
            .set_objects(Some(objects))
            .quiet(true)
            .build()
            .map_err(build("DeleteObjects"))?;
        clients
            .s3
            .delete_objects()
            .bucket(bucket)
            .delete(delete)
            .send()
            .await
            .map_err(sdk("DeleteObjects"))?;
    }
}
