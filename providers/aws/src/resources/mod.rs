//! The resource types, one module each.

mod dynamodb_table;
mod ecr_repository;
mod iam_policy;
mod iam_role;
mod iam_role_policy_attachment;
mod s3_bucket;
mod s3_bucket_policy;
mod secretsmanager_secret;
mod sns_topic;
mod sns_topic_subscription;
mod sqs_queue;
mod ssm_parameter;

use crate::resource::ResourceType;

/// Every resource type the provider offers.
pub fn all() -> Vec<Box<dyn ResourceType>> {
    vec![
        Box::new(s3_bucket::S3Bucket),
        Box::new(s3_bucket_policy::S3BucketPolicy),
        Box::new(iam_role::IamRole),
        Box::new(iam_policy::IamPolicy),
        Box::new(iam_role_policy_attachment::IamRolePolicyAttachment),
        Box::new(sqs_queue::SqsQueue),
        Box::new(sns_topic::SnsTopic),
        Box::new(sns_topic_subscription::SnsTopicSubscription),
        Box::new(dynamodb_table::DynamodbTable),
        Box::new(ecr_repository::EcrRepository),
        Box::new(ssm_parameter::SsmParameter),
        Box::new(secretsmanager_secret::SecretsmanagerSecret),
    ]
}
