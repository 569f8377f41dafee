//! `terraform-provider-aws` 5.100.0 as a braid provider, through braid's own `Provider`
//! calls, against moto: configure, plan and apply creates, read back without drift, plan
//! nothing to do, update, replace, import, data sources with nested blocks, delete.

use braid_provider::{
    ApplyRequest, ImportRequest, ObjectMeta, PlanRequest, Provider, ProviderDiagnostic,
    ReadDataRequest, ReadRequest, Severity, Use, Value,
};
use braid_provider_terraform::PluginProvider;
use braid_testkit::{MotoServer, terraform_aws_provider};

fn assert_ok(what: &str, diagnostics: &[ProviderDiagnostic]) {
    assert!(
        diagnostics.iter().all(|d| d.severity != Severity::Error),
        "{what}: {diagnostics:#?}"
    );
}

/// The aws provider's settings in braid's shape: the `endpoints` block is a list of objects.
fn aws_settings(endpoint: &str) -> Value {
    let endpoints = Value::map(
        ["sts", "iam", "logs", "ssm", "sqs", "ec2"].map(|service| (service, Value::from(endpoint))),
    );
    Value::map([
        ("region", Value::from("us-east-1")),
        ("access_key", Value::from("testing")),
        ("secret_key", Value::from("testing")),
        ("skip_metadata_api_check", Value::from("true")),
        // moto sometimes drops a connection under load: let the SDK retry.
        ("max_retries", Value::from_i64(4)),
        ("endpoints", Value::List(vec![endpoints])),
    ])
}

async fn configured(moto: &MotoServer) -> PluginProvider {
    let provider = PluginProvider::start("aws", &terraform_aws_provider())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ok(
        "configure",
        &provider.configure(aws_settings(&moto.endpoint())).await,
    );
    provider
}

async fn plan(
    provider: &PluginProvider,
    address: &str,
    type_name: &str,
    prior: Option<Value>,
    config: Value,
) -> braid_provider::PlanResponse {
    let planned = provider
        .plan(PlanRequest {
            type_name: type_name.into(),
            address: address.into(),
            prior,
            config,
            sensitive: Vec::new(),
        })
        .await;
    assert_ok(&format!("plan {address}"), &planned.diagnostics);
    planned
}

async fn apply(
    provider: &PluginProvider,
    address: &str,
    type_name: &str,
    prior: Option<Value>,
    planned: Option<Value>,
    config: Value,
) -> Option<Value> {
    let applied = provider
        .apply(ApplyRequest {
            type_name: type_name.into(),
            address: address.into(),
            prior,
            planned,
            config,
        })
        .await;
    assert_ok(&format!("apply {address}"), &applied.diagnostics);
    applied.new_state
}

#[tokio::test]
async fn resources_live_and_die_through_braids_provider_calls() {
    let moto = MotoServer::start();
    let provider = configured(&moto).await;
    let schema = provider.schema();
    const PARAM: &str = "aws_ssm_parameter";
    assert_eq!(
        schema.resources[PARAM].attributes["name"].r#use,
        Use::Required
    );
    assert!(schema.resources[PARAM].attributes["value"].sensitive);
    assert!(schema.resources.len() > 1000);

    // Create a SecureString parameter.
    let address = "aws_ssm_parameter.db";
    let config = |value: &str, name: &str| {
        Value::map([
            ("name", Value::from(name)),
            ("type", Value::from("SecureString")),
            ("value", Value::from(value)),
            ("tags", Value::map([("team", Value::from("core"))])),
        ])
    };
    let planned = plan(
        &provider,
        address,
        PARAM,
        None,
        config("s3cret-1", "/app/db"),
    )
    .await;
    assert_eq!(planned.planned.attr("arn"), Some(&Value::Unknown));
    let state = apply(
        &provider,
        address,
        PARAM,
        None,
        Some(planned.planned.clone()),
        config("s3cret-1", "/app/db"),
    )
    .await
    .expect("created");
    assert_eq!(state.attr("value"), Some(&Value::from("s3cret-1")));
    assert!(state.is_wholly_known(), "{state:?}");

    // Read back: the same; plan again: nothing to do (planned equals prior).
    let read = provider
        .read(ReadRequest {
            type_name: PARAM.into(),
            address: address.into(),
            current: state.clone(),
        })
        .await;
    assert_ok("read", &read.diagnostics);
    assert_eq!(
        read.state.as_ref(),
        Some(&state),
        "a fresh read shows drift"
    );
    let again = plan(
        &provider,
        address,
        PARAM,
        Some(state.clone()),
        config("s3cret-1", "/app/db"),
    )
    .await;
    assert_eq!(
        again.planned, state,
        "an unchanged configuration plans a change"
    );
    assert!(again.requires_replace.is_empty());

    // Update in place, then a rename that needs a replace.
    let update = plan(
        &provider,
        address,
        PARAM,
        Some(state.clone()),
        config("s3cret-2", "/app/db"),
    )
    .await;
    assert!(
        update.requires_replace.is_empty(),
        "{:?}",
        update.requires_replace
    );
    let state = apply(
        &provider,
        address,
        PARAM,
        Some(state),
        Some(update.planned),
        config("s3cret-2", "/app/db"),
    )
    .await
    .expect("updated");
    assert_eq!(state.attr("value"), Some(&Value::from("s3cret-2")));
    let rename = plan(
        &provider,
        address,
        PARAM,
        Some(state.clone()),
        config("s3cret-2", "/app/db2"),
    )
    .await;
    // (Terraform's SDK lists the id too: a new object has a new id.)
    let replaced: Vec<String> = rename
        .requires_replace
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(replaced.contains(&"name".to_owned()), "{replaced:?}");

    // Import by name: the same object.
    let imported = provider
        .import(ImportRequest {
            address: format!("{PARAM}.imported"),
            type_name: PARAM.into(),
            id: "/app/db".into(),
        })
        .await;
    assert_ok("import", &imported.diagnostics);
    let imported = imported.state.expect("found");
    assert_eq!(imported.attr("arn"), state.attr("arn"));
    assert_eq!(imported.attr("value"), Some(&Value::from("s3cret-2")));
    // The read's private data goes with the imported object into state.
    let meta = provider
        .object_meta(&format!("{PARAM}.imported"))
        .expect("kept beside the imported object");
    assert!(
        String::from_utf8_lossy(&meta.private).contains("schema_version"),
        "SDKv2 private data: {:?}",
        String::from_utf8_lossy(&meta.private)
    );

    // Delete.
    let gone = apply(&provider, address, PARAM, Some(state), None, Value::Null).await;
    assert_eq!(gone, None);
    provider.shutdown().await.expect("shutdown");
}

#[tokio::test]
async fn data_sources_with_nested_blocks() {
    let moto = MotoServer::start();
    let provider = configured(&moto).await;
    // braid evaluates `statement { ... }` blocks into a list of objects.
    let read = provider
        .read_data(ReadDataRequest {
            type_name: "aws_iam_policy_document".into(),
            address: "data.aws_iam_policy_document.send".into(),
            config: Value::map([(
                "statement",
                Value::List(vec![Value::map([
                    ("actions", Value::List(vec![Value::from("sqs:SendMessage")])),
                    ("resources", Value::List(vec![Value::from("*")])),
                    (
                        "principals",
                        Value::List(vec![Value::map([
                            ("type", Value::from("AWS")),
                            ("identifiers", Value::List(vec![Value::from("*")])),
                        ])]),
                    ),
                ])]),
            )]),
        })
        .await;
    assert_ok("read policy document", &read.diagnostics);
    let json = read
        .state
        .attr("json")
        .and_then(Value::as_str)
        .expect("json");
    let policy: serde_json::Value = serde_json::from_str(json).expect("JSON");
    assert_eq!(policy["Statement"][0]["Action"], "sqs:SendMessage");
    assert_eq!(policy["Statement"][0]["Principal"]["AWS"], "*");
    // The nested block comes back in braid's shape.
    assert!(
        read.state
            .attr("statement")
            .and_then(Value::as_list)
            .is_some_and(|s| s.len() == 1)
    );

    let unknown = provider
        .read_data(ReadDataRequest {
            type_name: "aws_nope".into(),
            address: "data.aws_nope.x".into(),
            config: Value::map::<[(&str, Value); 0], &str>([]),
        })
        .await;
    assert!(
        unknown.diagnostics[0]
            .detail
            .contains("no data source \"aws_nope\"")
    );
    provider.shutdown().await.expect("shutdown");
}

/// What the plugin keeps beside an object survives into a new plugin process (braid stores
/// it in state), and state recorded under an older schema version of the type goes through
/// UpgradeResourceState before it is read: an `aws_vpc` (schema version 1) restored as
/// version 0 reads back unchanged, and is version 1 afterwards.
#[tokio::test]
async fn private_data_and_schema_versions_carry_over_to_a_new_process() {
    let moto = MotoServer::start();
    let address = "aws_vpc.main";
    let config = Value::map([
        ("cidr_block", Value::from("10.7.0.0/16")),
        ("tags", Value::map([("Name", Value::from("braid"))])),
    ]);
    let first = configured(&moto).await;
    let state = {
        let planned = plan(&first, address, "aws_vpc", None, config.clone()).await;
        let state = apply(
            &first,
            address,
            "aws_vpc",
            None,
            Some(planned.planned),
            config.clone(),
        )
        .await
        .expect("created");
        let meta = first.object_meta(address).expect("kept beside the object");
        assert_eq!(meta.schema_version, Some(1), "aws_vpc's schema version");
        assert!(
            String::from_utf8_lossy(&meta.private).contains("schema_version"),
            "SDKv2 private data: {:?}",
            String::from_utf8_lossy(&meta.private)
        );
        (state, meta)
    };
    let (state, meta) = state;

    // A second process of the same executable: terraform-provider-aws allows skipping
    // GetProviderSchema, so it reuses the schema the first one read.
    let second = configured(&moto).await;
    assert!(
        second.shares_schema_with(&first),
        "the schema was fetched again"
    );
    second.restore_object_meta(
        address,
        &ObjectMeta {
            schema_version: Some(0),
            private: meta.private.clone(),
        },
    );
    let read = second
        .read(ReadRequest {
            type_name: "aws_vpc".into(),
            address: address.into(),
            current: state.clone(),
        })
        .await;
    assert_ok("read after upgrade", &read.diagnostics);
    assert_eq!(
        read.state.as_ref(),
        Some(&state),
        "no drift after the upgrade"
    );
    assert_eq!(
        second.object_meta(address).and_then(|m| m.schema_version),
        Some(1)
    );
    let planned = plan(&second, address, "aws_vpc", Some(state.clone()), config).await;
    assert_eq!(planned.planned, state, "nothing to change");
    assert!(planned.requires_replace.is_empty());

    // State a newer provider wrote (schema version 9) is not read as if it were current.
    second.restore_object_meta(
        address,
        &ObjectMeta {
            schema_version: Some(9),
            private: meta.private.clone(),
        },
    );
    let read = second
        .read(ReadRequest {
            type_name: "aws_vpc".into(),
            address: address.into(),
            current: state,
        })
        .await;
    assert!(
        read.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error
                && d.summary == "State written by a newer provider"),
        "{:#?}",
        read.diagnostics
    );
}
