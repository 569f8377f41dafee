//! Data sources of the aws provider: `aws_region`, `aws_caller_identity` and
//! `aws_iam_policy_document` (computed locally, as Terraform's AWS provider does).

use std::collections::BTreeMap;

use braid_provider::{
    AttributeSchema, AttributeType, Path, ProviderDiagnostic, ReadDataRequest, ReadDataResponse,
    ResourceSchema, Use, Value,
};
use serde_json::{Map, Value as Json, json};

use crate::config::Clients;

/// The data source types, with their schemas.
pub fn schemas() -> BTreeMap<String, ResourceSchema> {
    let computed = |t, d: &str| AttributeSchema::new(t, Use::Computed, d);
    let string = AttributeType::String;
    let list = AttributeType::List;
    let optional = |t, d: &str| AttributeSchema::new(t, Use::Optional, d);
    let region = ResourceSchema::new("The region the provider is configured for.")
        .attribute("name", computed(string, "The region's name (us-east-1)."))
        .attribute("region", computed(string, "The same as name."))
        .attribute("id", computed(string, "The same as name."));
    let identity =
        ResourceSchema::new("Who the provider's credentials belong to (STS GetCallerIdentity).")
            .attribute("account_id", computed(string, "The AWS account id."))
            .attribute("arn", computed(string, "The caller's ARN."))
            .attribute("user_id", computed(string, "The caller's unique id."))
            .attribute("id", computed(string, "The same as account_id."));
    let policy = ResourceSchema::new(
        "Builds an IAM policy document from statement blocks, without calling AWS.",
    )
    .attribute("version", optional(string, "Policy language version; 2012-10-17 by default."))
    .attribute("policy_id", optional(string, "The policy's Id."))
    .attribute(
        "source_policy_documents",
        optional(list, "JSON policies whose statements come first; a statement of this document with the same sid replaces theirs."),
    )
    .attribute(
        "override_policy_documents",
        optional(list, "JSON policies whose statements replace this document's statements of the same sid, or are added."),
    )
    .attribute("statement", optional(list, "Statement blocks: sid, effect, actions, not_actions, resources, not_resources, principals, not_principals, condition."))
    .attribute("json", computed(string, "The policy as indented JSON."))
    .attribute("minified_json", computed(string, "The policy as compact JSON."))
    .attribute("id", computed(string, "The same as json's hash-free form: the compact JSON."));
    [
        ("aws_region".to_string(), region),
        ("aws_caller_identity".to_string(), identity),
        ("aws_iam_policy_document".to_string(), policy),
    ]
    .into_iter()
    .collect()
}

/// Reads the data source of `request`.
pub async fn read(
    types: &crate::lookup::Types,
    clients: Option<&Clients>,
    request: &ReadDataRequest,
) -> ReadDataResponse {
    let result = match request.type_name.as_str() {
        "aws_iam_policy_document" => policy_document(&request.config),
        "aws_region" => match clients {
            Some(c) => Ok(Value::map([
                ("name", Value::from(c.region.as_str())),
                ("region", Value::from(c.region.as_str())),
                ("id", Value::from(c.region.as_str())),
            ])),
            None => Err(not_configured()),
        },
        "aws_caller_identity" => match clients {
            Some(c) => caller_identity(c).await,
            None => Err(not_configured()),
        },
        other => match clients {
            Some(c) => match crate::lookup::read(types, c, request).await {
                Some(result) => result,
                None => Err(ProviderDiagnostic::error(
                    "Unknown data source",
                    format!(
                        "The aws provider has no data source \"{other}\". It offers: aws_caller_identity, aws_iam_policy_document, aws_region, and lookups of the resource types it manages ({}).",
                        crate::lookup::schemas(types)
                            .keys()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
            },
            None => Err(not_configured()),
        },
    };
    match result {
        Ok(state) => ReadDataResponse {
            state,
            diagnostics: Vec::new(),
        },
        Err(d) => ReadDataResponse {
            state: Value::Null,
            diagnostics: vec![d],
        },
    }
}

fn not_configured() -> ProviderDiagnostic {
    ProviderDiagnostic::error(
        "Provider not configured",
        "The aws provider was used before it was configured. This is a bug in braid; please report it.",
    )
}

/// The account the provider's credentials belong to.
pub async fn account_id(clients: &Clients) -> Result<String, ProviderDiagnostic> {
    let identity = caller_identity(clients).await?;
    Ok(identity
        .attr("account_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string())
}

async fn caller_identity(clients: &Clients) -> Result<Value, ProviderDiagnostic> {
    let out = clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| {
            ProviderDiagnostic::error(
                "Cannot read the caller identity",
                format!(
                    "STS GetCallerIdentity failed: {}. Check the provider's credentials.",
                    aws_sdk_sts::error::DisplayErrorContext(&e)
                ),
            )
        })?;
    let account = out.account().unwrap_or_default();
    Ok(Value::map([
        ("account_id", Value::from(account)),
        ("arn", Value::from(out.arn().unwrap_or_default())),
        ("user_id", Value::from(out.user_id().unwrap_or_default())),
        ("id", Value::from(account)),
    ]))
}

/// The policy document of an `aws_iam_policy_document` block, as Terraform's AWS provider
/// writes it: one-element lists of actions, resources, principals and condition values
/// become plain strings; `principals { type = "*" identifiers = ["*"] }` is `"*"`.
fn policy_document(config: &Value) -> Result<Value, ProviderDiagnostic> {
    let mut statements: Vec<Json> = Vec::new();
    let add = |statements: &mut Vec<Json>, statement: Json, replace: bool| {
        let sid = statement
            .get("Sid")
            .and_then(Json::as_str)
            .map(str::to_string);
        if let Some(sid) = sid.filter(|s| !s.is_empty())
            && let Some(existing) = statements
                .iter_mut()
                .find(|s| s.get("Sid").and_then(Json::as_str) == Some(sid.as_str()))
        {
            if replace {
                *existing = statement;
            }
            return;
        }
        statements.push(statement);
    };
    for document in strings(
        config.attr("source_policy_documents"),
        "source_policy_documents",
    )? {
        for statement in document_statements(&document, "source_policy_documents")? {
            add(&mut statements, statement, false);
        }
    }
    for (i, block) in config
        .attr("statement")
        .and_then(Value::as_list)
        .into_iter()
        .flatten()
        .enumerate()
    {
        add(&mut statements, statement(block, i)?, true);
    }
    for document in strings(
        config.attr("override_policy_documents"),
        "override_policy_documents",
    )? {
        for statement in document_statements(&document, "override_policy_documents")? {
            add(&mut statements, statement, true);
        }
    }
    let mut policy = Map::new();
    policy.insert(
        "Version".into(),
        Json::from(
            config
                .attr("version")
                .and_then(Value::as_str)
                .unwrap_or("2012-10-17"),
        ),
    );
    if let Some(id) = config.attr("policy_id").and_then(Value::as_str) {
        policy.insert("Id".into(), Json::from(id));
    }
    policy.insert("Statement".into(), Json::Array(statements));
    let policy = Json::Object(policy);
    let pretty = serde_json::to_string_pretty(&policy).unwrap_or_default();
    let minified = policy.to_string();
    let mut state = config.clone();
    state.set(&Path::key("json"), Value::from(pretty));
    state.set(&Path::key("minified_json"), Value::from(minified.as_str()));
    state.set(&Path::key("id"), Value::from(minified.as_str()));
    Ok(state)
}

fn strings(value: Option<&Value>, name: &str) -> Result<Vec<String>, ProviderDiagnostic> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::List(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    ProviderDiagnostic::error(
                        "Incorrect attribute value type",
                        format!("Every element of {name} must be a string."),
                    )
                    .at(Path::key(name))
                })
            })
            .collect(),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(other) => Err(ProviderDiagnostic::error(
            "Incorrect attribute value type",
            format!("{name} must be a list of strings, not a {}.", other.kind()),
        )
        .at(Path::key(name))),
    }
}

fn document_statements(text: &str, name: &str) -> Result<Vec<Json>, ProviderDiagnostic> {
    let invalid = |detail: String| {
        ProviderDiagnostic::error("Invalid policy document", format!("{name}: {detail}"))
            .at(Path::key(name))
    };
    let document: Json = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
    match document.get("Statement") {
        Some(Json::Array(items)) => Ok(items.clone()),
        Some(single @ Json::Object(_)) => Ok(vec![single.clone()]),
        None => Ok(Vec::new()),
        Some(_) => Err(invalid("Statement must be a list or an object".into())),
    }
}

/// A set of strings as IAM JSON: sorted, and a single one as a plain string.
fn set_json(values: Vec<String>) -> Json {
    let mut values = values;
    values.sort();
    values.dedup();
    match values.len() {
        1 => Json::from(values.remove(0)),
        _ => Json::from(values),
    }
}

fn statement(block: &Value, index: usize) -> Result<Json, ProviderDiagnostic> {
    let at = |name: &str| format!("statement[{index}].{name}");
    let list = |name: &str| -> Result<Option<Vec<String>>, ProviderDiagnostic> {
        match block.attr(name) {
            None | Some(Value::Null) => Ok(None),
            value => strings(value, &at(name)).map(Some),
        }
    };
    let mut out = Map::new();
    if let Some(sid) = block
        .attr("sid")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        out.insert("Sid".into(), Json::from(sid));
    }
    let effect = block
        .attr("effect")
        .and_then(Value::as_str)
        .unwrap_or("Allow");
    if effect != "Allow" && effect != "Deny" {
        return Err(ProviderDiagnostic::error(
            "Invalid effect",
            format!(
                "{} must be \"Allow\" or \"Deny\", not \"{effect}\".",
                at("effect")
            ),
        ));
    }
    out.insert("Effect".into(), Json::from(effect));
    for (name, key) in [("actions", "Action"), ("not_actions", "NotAction")] {
        if let Some(values) = list(name)? {
            out.insert(key.into(), set_json(values));
        }
    }
    for (name, key) in [("resources", "Resource"), ("not_resources", "NotResource")] {
        if let Some(values) = list(name)? {
            out.insert(key.into(), set_json(values));
        }
    }
    for (name, key) in [
        ("principals", "Principal"),
        ("not_principals", "NotPrincipal"),
    ] {
        let blocks = block.attr(name).and_then(Value::as_list);
        let Some(blocks) = blocks.filter(|b| !b.is_empty()) else {
            continue;
        };
        let mut by_type: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for principal in blocks {
            let kind = principal
                .attr("type")
                .and_then(Value::as_str)
                .unwrap_or("AWS");
            let ids = strings(principal.attr("identifiers"), &at(name))?;
            by_type.entry(kind.to_string()).or_default().extend(ids);
        }
        let value = match by_type.get("*") {
            Some(_) => Json::from("*"),
            None => Json::Object(by_type.into_iter().map(|(k, v)| (k, set_json(v))).collect()),
        };
        out.insert(key.into(), value);
    }
    let conditions = block.attr("condition").and_then(Value::as_list);
    if let Some(conditions) = conditions.filter(|c| !c.is_empty()) {
        let mut by_test: Map<String, Json> = Map::new();
        for condition in conditions {
            let test = condition
                .attr("test")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let variable = condition
                .attr("variable")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let values = strings(condition.attr("values"), &at("condition"))?;
            let entry = by_test.entry(test.to_string()).or_insert_with(|| json!({}));
            if let Json::Object(variables) = entry {
                variables.insert(variable.to_string(), set_json(values));
            }
        }
        out.insert("Condition".into(), Json::Object(by_test));
    }
    Ok(Json::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_element_sets_are_strings_and_sids_override() {
        let statement = |sid: &str, actions: &[&str]| {
            Value::map([
                ("sid", Value::from(sid)),
                (
                    "actions",
                    Value::List(actions.iter().map(|a| Value::from(*a)).collect()),
                ),
                ("resources", Value::List(vec![Value::from("*")])),
            ])
        };
        let config = Value::map([
            (
                "statement",
                Value::List(vec![
                    statement("Read", &["s3:GetObject"]),
                    statement("", &["s3:PutObject", "s3:DeleteObject"]),
                ]),
            ),
            (
                "override_policy_documents",
                Value::List(vec![Value::from(
                    r#"{"Statement":[{"Sid":"Read","Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
                )]),
            ),
        ]);
        let state = policy_document(&config).expect("valid document");
        let json: Json =
            serde_json::from_str(state.attr("json").and_then(Value::as_str).expect("json"))
                .expect("valid JSON");
        assert_eq!(
            json,
            json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "Read", "Effect": "Deny", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Allow", "Action": ["s3:DeleteObject", "s3:PutObject"], "Resource": "*"}
            ]})
        );
    }
}
