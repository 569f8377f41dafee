//! braid's `aws` provider, on aws-sdk-rust.
//!
//! Resource types: `aws_s3_bucket`, `aws_s3_bucket_policy`, `aws_iam_role`, `aws_iam_policy`,
//! `aws_iam_role_policy_attachment`, `aws_sqs_queue`, `aws_sns_topic`,
//! `aws_sns_topic_subscription`, `aws_dynamodb_table`, `aws_ecr_repository`,
//! `aws_ssm_parameter` and `aws_secretsmanager_secret` (one module each under
//! `resources/`). docs/aws.md lists every attribute.
//!
//! How a plan is made, for every type alike (`resource.rs`):
//! - settable attributes come from the configuration; null optional ones take their default;
//! - JSON documents (policies) compare by meaning (`policy.rs`): when the configuration
//!   is equivalent to the prior document, the prior text is kept and no change shows;
//! - a change to a `force_new` attribute (or an unknown value in one) requires replacement;
//! - computed attributes keep their prior values unless the object is replaced, or are
//!   known from the configuration (an id that is the name), or are unknown.
//!
//! Apply calls AWS and then reads the object back, so state holds what AWS reports. The SDK
//! retries throttling and 5xx answers with exponential backoff; other errors become
//! diagnostics that name the resource address, the AWS error code and its message.

#![warn(missing_docs)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod attrs;
mod config;
mod data;
mod error;
mod lookup;
mod policy;
mod provider;
mod resource;
mod resources;
mod schema;

pub use provider::AwsProvider;
