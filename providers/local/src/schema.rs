//! The schema of the local provider: its configuration and both resource types.

use braid_provider::{AttributeSchema, AttributeType, ProviderSchema, ResourceSchema, Use};

use crate::{local_file, local_value};

pub(crate) fn provider_schema() -> ProviderSchema {
    let config = ResourceSchema::new("Configuration of the local provider.").attribute(
        "base_dir",
        AttributeSchema::new(
            AttributeType::String,
            Use::Optional,
            "The directory relative filenames resolve against. braid sets it to the project \
             directory; without it, relative filenames resolve against the working directory.",
        ),
    );
    ProviderSchema {
        config,
        resources: [
            (local_file::TYPE_NAME.to_string(), local_file_schema()),
            (local_value::TYPE_NAME.to_string(), local_value_schema()),
        ]
        .into_iter()
        .collect(),
        data_sources: [(
            crate::data_file::TYPE_NAME.to_string(),
            crate::data_file::schema(),
        )]
        .into_iter()
        .collect(),
    }
}

fn local_file_schema() -> ResourceSchema {
    ResourceSchema::new(
        "A file on the machine running braid. Changing the content or permission rewrites the \
         file in place; changing the filename replaces it. Edits and deletions made outside \
         braid show up as drift.",
    )
    .attribute(
        "filename",
        AttributeSchema::new(
            AttributeType::String,
            Use::Required,
            "The path of the file, absolute or relative to the project directory. Missing \
             parent directories are created.",
        )
        .force_new(),
    )
    .attribute(
        "content",
        AttributeSchema::new(
            AttributeType::String,
            Use::Optional,
            "The text to write, as UTF-8. Exactly one of content and content_base64 must be set.",
        ),
    )
    .attribute(
        "content_base64",
        AttributeSchema::new(
            AttributeType::String,
            Use::Optional,
            "The bytes to write, base64-encoded (standard alphabet, padded); use it for binary \
             files. Exactly one of content and content_base64 must be set.",
        ),
    )
    .attribute(
        "file_permission",
        AttributeSchema::new(
            AttributeType::String,
            Use::OptionalComputed,
            "The file's unix permission bits as 3 or 4 octal digits. Defaults to \"0644\". A \
             change is applied in place.",
        ),
    )
    .attribute(
        "directory_permission",
        AttributeSchema::new(
            AttributeType::String,
            Use::OptionalComputed,
            "The unix permission bits, as 3 or 4 octal digits, given to parent directories \
             braid creates. Defaults to \"0755\". Existing directories are left alone.",
        ),
    )
    .attribute(
        "id",
        AttributeSchema::new(
            AttributeType::String,
            Use::Computed,
            "The SHA-256 of the file's content, in hex.",
        ),
    )
    .attribute(
        "content_sha256",
        AttributeSchema::new(
            AttributeType::String,
            Use::Computed,
            "The SHA-256 of the file's content, in hex.",
        ),
    )
}

fn local_value_schema() -> ResourceSchema {
    ResourceSchema::new(
        "A value kept only in state, like Terraform's terraform_data: output carries input \
         through apply, and a change to triggers_replace replaces the resource.",
    )
    .attribute(
        "input",
        AttributeSchema::new(
            AttributeType::Any,
            Use::Optional,
            "Any value. It is copied to output on apply; a change is an in-place update.",
        ),
    )
    .attribute(
        "triggers_replace",
        AttributeSchema::new(
            AttributeType::Any,
            Use::Optional,
            "Any value. When it changes, the resource is replaced (and gets a new id).",
        )
        .force_new(),
    )
    .attribute(
        "output",
        AttributeSchema::new(
            AttributeType::Any,
            Use::Computed,
            "The input as of the last apply; unknown during plan when the input is.",
        ),
    )
    .attribute(
        "id",
        AttributeSchema::new(
            AttributeType::String,
            Use::Computed,
            "A random UUID assigned when the resource is created and kept until it is replaced.",
        ),
    )
}
