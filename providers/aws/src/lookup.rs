//! Data sources that look up one object of a type the provider manages (`data
//! "aws_sqs_queue" "jobs" { name = "jobs" }`), by the argument Terraform's data source of the
//! same name takes. They read the object exactly as a refresh of the resource does, so a data
//! source and a resource of the same object have the same attributes.

use std::collections::BTreeMap;

use braid_provider::{ProviderDiagnostic, ReadDataRequest, ResourceSchema, Use, Value};

use crate::attrs::{Attrs, partition};
use crate::config::Clients;
use crate::resource::{self, ResourceType};

/// The provider's resource types by name.
pub type Types = BTreeMap<&'static str, Box<dyn ResourceType>>;

/// A data source type, the arguments that identify the object (the first one given is
/// used), and how the object is named in a "not found" message.
struct Lookup {
    type_name: &'static str,
    arguments: &'static [&'static str],
    what: &'static str,
}

const LOOKUPS: &[Lookup] = &[
    Lookup {
        type_name: "aws_s3_bucket",
        arguments: &["bucket"],
        what: "S3 bucket",
    },
    Lookup {
        type_name: "aws_s3_bucket_policy",
        arguments: &["bucket"],
        what: "S3 bucket policy",
    },
    Lookup {
        type_name: "aws_sqs_queue",
        arguments: &["name"],
        what: "SQS queue",
    },
    Lookup {
        type_name: "aws_sns_topic",
        arguments: &["name"],
        what: "SNS topic",
    },
    Lookup {
        type_name: "aws_iam_role",
        arguments: &["name"],
        what: "IAM role",
    },
    Lookup {
        type_name: "aws_iam_policy",
        arguments: &["arn", "name"],
        what: "IAM policy",
    },
    Lookup {
        type_name: "aws_dynamodb_table",
        arguments: &["name"],
        what: "DynamoDB table",
    },
    Lookup {
        type_name: "aws_ecr_repository",
        arguments: &["name"],
        what: "ECR repository",
    },
    Lookup {
        type_name: "aws_secretsmanager_secret",
        arguments: &["arn", "name"],
        what: "Secrets Manager secret",
    },
    Lookup {
        type_name: "aws_ssm_parameter",
        arguments: &["name"],
        what: "SSM parameter",
    },
];

/// The schemas of the lookup data sources: the resource type's attributes, all computed
/// but the identifying arguments.
pub fn schemas(types: &Types) -> BTreeMap<String, ResourceSchema> {
    let mut out = BTreeMap::new();
    for lookup in LOOKUPS {
        let Some(resource) = types.get(lookup.type_name) else {
            continue;
        };
        let mut schema = resource.schema();
        schema.description = format!(
            "Looks up an existing {} by {}; its attributes are those of the resource {}.",
            lookup.what,
            lookup.arguments.join(" or "),
            lookup.type_name
        );
        for (name, attribute) in &mut schema.attributes {
            attribute.force_new = false;
            attribute.r#use = if !lookup.arguments.contains(&name.as_str()) {
                Use::Computed
            } else if lookup.arguments.len() == 1 {
                Use::Required
            } else {
                Use::Optional
            };
        }
        out.insert(lookup.type_name.to_string(), schema);
    }
    out
}

/// Reads the lookup data source of `request`; `None` when its type is not a lookup.
pub async fn read(
    types: &Types,
    clients: &Clients,
    request: &ReadDataRequest,
) -> Option<Result<Value, ProviderDiagnostic>> {
    let lookup = LOOKUPS.iter().find(|l| l.type_name == request.type_name)?;
    let resource = types.get(lookup.type_name)?;
    Some(read_one(lookup, resource.as_ref(), clients, &request.config).await)
}

async fn read_one(
    lookup: &Lookup,
    resource: &dyn ResourceType,
    clients: &Clients,
    config: &Value,
) -> Result<Value, ProviderDiagnostic> {
    let given = lookup.arguments.iter().find_map(|name| {
        config
            .attr(name)
            .and_then(Value::as_str)
            .map(|v| (*name, v.to_string()))
    });
    let Some((argument, value)) = given else {
        return Err(ProviderDiagnostic::error(
            "Missing required argument",
            format!(
                "The {} data source needs {} to find the {}.",
                lookup.type_name,
                lookup.arguments.join(" or "),
                lookup.what
            ),
        ));
    };
    let id = identity(lookup, argument, &value, clients).await?;
    let current: Attrs = resource.import_identity(&id);
    let found = resource::read(resource, clients, &current)
        .await
        .map_err(|e| e.diagnostic("reading", lookup.type_name))?;
    let Some(mut live) = found else {
        return Err(ProviderDiagnostic::error(
            "Object not found",
            format!(
                "No {} with {argument} \"{value}\" was found in {}. Check the name, the region of the provider configuration, and that its credentials may read it.",
                lookup.what, clients.region
            ),
        ));
    };
    live.entry(argument.to_string())
        .or_insert_with(|| Value::from(value.as_str()));
    Ok(Value::Map(live))
}

/// The id `import_identity` takes for the object: the value itself, or an ARN built from
/// the name where the type is identified by ARN.
async fn identity(
    lookup: &Lookup,
    argument: &str,
    value: &str,
    clients: &Clients,
) -> Result<String, ProviderDiagnostic> {
    let arn_of = |service: &str, region: &str, account: &str, resource: &str| {
        format!(
            "arn:{}:{service}:{region}:{account}:{resource}",
            partition(&clients.region)
        )
    };
    match (lookup.type_name, argument) {
        ("aws_sns_topic", "name") => {
            let account = crate::data::account_id(clients).await?;
            Ok(arn_of("sns", &clients.region, &account, value))
        }
        ("aws_iam_policy", "name") => {
            let account = crate::data::account_id(clients).await?;
            Ok(arn_of("iam", "", &account, &format!("policy/{value}")))
        }
        _ => Ok(value.to_string()),
    }
}
