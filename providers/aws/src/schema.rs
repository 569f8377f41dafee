//! The provider block's schema, and attribute builders the resource schemas share.

use braid_provider::{AttributeSchema, AttributeType, ResourceSchema, Use};

pub fn provider_config() -> ResourceSchema {
    let text = |d: &str| AttributeSchema::new(AttributeType::String, Use::Optional, d);
    ResourceSchema::new("Configuration of the aws provider.")
        .attribute(
            "region",
            text(
                "The AWS region, e.g. \"eu-west-1\". Defaults to AWS_REGION or the profile's \
                 region.",
            ),
        )
        .attribute(
            "profile",
            text("A named profile of the shared AWS config and credentials files."),
        )
        .attribute(
            "endpoint",
            text(
                "One endpoint URL for every service, for emulators such as moto_server or \
                 LocalStack (e.g. \"http://127.0.0.1:5000\"). S3 then uses path-style URLs.",
            ),
        )
        .attribute(
            "access_key",
            text("A static access key id; leave unset to use the standard credential chain."),
        )
        .attribute(
            "secret_key",
            text("The secret key of access_key.").sensitive(),
        )
        .attribute(
            "session_token",
            text("The session token of temporary static credentials.").sensitive(),
        )
        .attribute(
            "assume_role",
            AttributeSchema::new(
                AttributeType::Map,
                Use::Optional,
                "A block { role_arn, session_name, external_id }: assume this role (with STS) \
                 using the credentials found otherwise.",
            ),
        )
        .attribute(
            "request_timeout",
            AttributeSchema::new(
                AttributeType::String,
                Use::Optional,
                "How long one attempt of a request may take, connecting included: 30s, 2m. \
                 Defaults to 30s.",
            ),
        )
        .attribute(
            "max_retries",
            AttributeSchema::new(
                AttributeType::Number,
                Use::Optional,
                "How often a throttled or failed (5xx) request is retried, with exponential \
                 backoff. Defaults to 4.",
            ),
        )
        .attribute(
            "s3_use_path_style",
            AttributeSchema::new(
                AttributeType::Bool,
                Use::Optional,
                "Address buckets as endpoint/bucket instead of bucket.endpoint. Defaults to \
                 true when endpoint is set.",
            ),
        )
}

pub fn required(r#type: AttributeType, description: &str) -> AttributeSchema {
    AttributeSchema::new(r#type, Use::Required, description)
}

pub fn optional(r#type: AttributeType, description: &str) -> AttributeSchema {
    AttributeSchema::new(r#type, Use::Optional, description)
}

/// An optional attribute with a default the provider fills in.
pub fn defaulted(r#type: AttributeType, description: &str) -> AttributeSchema {
    AttributeSchema::new(r#type, Use::OptionalComputed, description)
}

pub fn computed(description: &str) -> AttributeSchema {
    AttributeSchema::new(AttributeType::String, Use::Computed, description)
}

pub fn tags() -> AttributeSchema {
    AttributeSchema::new(
        AttributeType::Map,
        Use::Optional,
        "Tags as a map of strings. An empty map is the same as no tags. Changed in place.",
    )
}

pub fn arn() -> AttributeSchema {
    computed("The ARN of the object.")
}
