//! The plugin host against the real `terraform-provider-aws` 5.100.0 (protocol 5), with
//! moto as the AWS it configures against.

mod common;

use braid_provider::Value as BraidValue;
use braid_testkit::MotoServer;
use braid_tfplugin::cty::{self, CtyType};
use braid_tfplugin::{
    CallError, Diagnostic, Nesting, PluginCommand, ProviderPlugin, ProviderSchema, config_object,
    proposed_new,
};
use rmpv::Value;

async fn start_aws() -> ProviderPlugin {
    let plugin = ProviderPlugin::start(&PluginCommand::new(common::aws_provider()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plugin.protocol_version(), 5);
    plugin
}

async fn schema_of(plugin: &ProviderPlugin) -> ProviderSchema {
    let schema = plugin
        .get_provider_schema()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !Diagnostic::any_error(&schema.diagnostics),
        "{:?}",
        schema.diagnostics
    );
    schema
}

#[tokio::test]
async fn handshake_and_schema_list_resources_and_data_sources() {
    let plugin = start_aws().await;
    let pid = plugin.pid();
    let schema = schema_of(&plugin).await;

    for resource in ["aws_vpc", "aws_s3_bucket", "aws_sqs_queue"] {
        assert!(
            schema.resources.contains_key(resource),
            "{resource} missing"
        );
    }
    assert!(schema.data_sources.contains_key("aws_iam_policy_document"));
    assert!(schema.resources.len() > 1000, "{}", schema.resources.len());

    let vpc = &schema.resources["aws_vpc"].block;
    assert_eq!(vpc.attributes["cidr_block"].cty_type, r#""string""#);
    assert_eq!(vpc.attributes["tags"].cty_type, r#"["map","string"]"#);
    assert!(vpc.attributes["arn"].computed);

    let provider = &schema.provider.block;
    assert_eq!(provider.attributes["region"].cty_type, r#""string""#);
    assert!(provider.attributes["secret_key"].optional);
    assert_eq!(provider.blocks["endpoints"].nesting, Nesting::Set);

    let statement = &schema.data_sources["aws_iam_policy_document"].block.blocks["statement"];
    assert_eq!(statement.nesting, Nesting::List);

    plugin
        .stop_provider()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = plugin.shutdown().await.expect("shutdown reaps the plugin");
    assert!(status.success(), "the provider exited with {status}");
    assert!(
        !common::process_exists(pid),
        "the provider process is still there"
    );
}

/// The aws provider's configuration with every AWS endpoint braid's tests use at
/// `endpoint`, test credentials, and every other attribute null.
fn aws_config(schema: &ProviderSchema, endpoint: &str) -> Value {
    let provider = &schema.provider.block;
    let endpoint = Value::from(endpoint);
    let endpoints = config_object(
        &provider.blocks["endpoints"].block,
        ["sts", "iam", "s3", "sqs", "ec2", "logs"]
            .map(|service| (service.to_owned(), endpoint.clone())),
    )
    .expect("the services are endpoint attributes");
    config_object(
        provider,
        [
            ("region", Value::from("us-east-1")),
            ("access_key", Value::from("testing")),
            ("secret_key", Value::from("testing")),
            // Credentials are validated (an STS call to moto) and the account id is asked
            // for: Configure reaches moto. Only the EC2 metadata lookup is skipped.
            ("skip_metadata_api_check", Value::from("true")),
            ("s3_use_path_style", Value::from(true)),
            // moto sometimes drops a connection under load: let the SDK retry.
            ("max_retries", Value::from(4)),
            ("endpoints", Value::Array(vec![endpoints])),
        ]
        .map(|(name, value)| (name.to_owned(), value)),
    )
    .expect("the names are provider attributes")
}

#[tokio::test]
async fn configure_provider_against_moto() {
    let moto = MotoServer::start();
    let plugin = start_aws().await;
    let pid = plugin.pid();
    let schema = schema_of(&plugin).await;
    let config = aws_config(&schema, &moto.endpoint());

    // Calls share one connection and may run at once.
    let (first, second, third) = tokio::join!(
        plugin.prepare_provider_config(&config),
        plugin.prepare_provider_config(&config),
        plugin.prepare_provider_config(&config),
    );
    for prepared in [first, second, third] {
        let prepared = prepared.unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !Diagnostic::any_error(&prepared.diagnostics),
            "{:?}",
            prepared.diagnostics
        );
    }

    let diagnostics = plugin
        .configure_provider(&config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!Diagnostic::any_error(&diagnostics), "{diagnostics:#?}");

    // Dropping the plugin (no shutdown) kills and reaps it.
    drop(plugin);
    assert!(
        !common::process_exists(pid),
        "the provider process is still there"
    );
}

#[tokio::test]
async fn configure_provider_reports_an_unreachable_aws_as_diagnostics() {
    let plugin = start_aws().await;
    let schema = schema_of(&plugin).await;
    // A port nothing listens on: the credential check (STS) cannot be made.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let endpoint = format!("http://{}", closed.local_addr().expect("bound address"));
    drop(closed);

    let diagnostics = plugin
        .configure_provider(&aws_config(&schema, &endpoint))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(Diagnostic::any_error(&diagnostics), "{diagnostics:#?}");
    let text = diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains("GetCallerIdentity"), "{text}");
    plugin.shutdown().await.expect("shutdown reaps the plugin");
}

#[tokio::test]
async fn call_to_a_killed_provider_says_the_process_died() {
    let plugin = start_aws().await;
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &plugin.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());

    let error = plugin
        .stop_provider()
        .await
        .expect_err("the provider is gone");
    let message = error.to_string();
    let CallError::Rpc { call, exit, .. } = &error else {
        panic!("{message}");
    };
    assert_eq!(*call, "StopProvider");
    assert!(exit.is_some(), "{message}");
    assert!(
        message.contains("the plugin process exited: signal: 9"),
        "{message}"
    );
}

/// Encodes a braid value with the resource type's object type, as braid will send it.
fn encode_object(ty: &CtyType, value: &BraidValue) -> Value {
    cty::encode(value, ty).unwrap_or_else(|e| panic!("{e}"))
}

fn decode_object(ty: &CtyType, value: &Value) -> BraidValue {
    cty::decode(value, ty).unwrap_or_else(|e| panic!("{e}"))
}

fn assert_no_errors(what: &str, diagnostics: &[Diagnostic]) {
    assert!(
        !Diagnostic::any_error(diagnostics),
        "{what}: {diagnostics:#?}"
    );
}

/// The whole life of an `aws_cloudwatch_log_group` through the protocol, as Terraform drives
/// it: validate, plan and apply a create (computed attributes unknown in the plan, known
/// after), read, plan an in-place update, see a force-new change flagged, import the group by
/// its name, plan and apply the destroy, and read it gone. (A log group rather than a queue:
/// the provider waits about 25 s for a queue's attributes to settle after each change.)
#[tokio::test]
async fn log_group_lifecycle_against_moto() {
    let moto = MotoServer::start();
    let plugin = start_aws().await;
    let schema = schema_of(&plugin).await;
    let configured = plugin
        .configure_provider(&aws_config(&schema, &moto.endpoint()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_no_errors("configure", &configured);

    const TYPE: &str = "aws_cloudwatch_log_group";
    let block = &schema.resources[TYPE].block;
    let ty = block.object_type().unwrap_or_else(|e| panic!("{e}"));
    let config_value = |days: i64, name: &str| {
        BraidValue::map([
            ("name", BraidValue::from(name)),
            ("retention_in_days", BraidValue::from_i64(days)),
            (
                "tags",
                BraidValue::map([("team", BraidValue::from("core"))]),
            ),
        ])
    };

    // Create.
    let config = config_value(7, "braid-app");
    let wire_config = encode_object(&ty, &config);
    let validated = plugin
        .validate_resource_config(TYPE, &wire_config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_no_errors("validate", &validated);
    let proposed = proposed_new(block, &BraidValue::Null, &config);
    let plan = plugin
        .plan_resource_change(
            TYPE,
            &Value::Nil,
            &encode_object(&ty, &proposed),
            &wire_config,
            &[],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_no_errors("plan create", &plan.diagnostics);
    let planned = decode_object(&ty, &plan.planned_state);
    assert_eq!(planned.attr("name"), Some(&BraidValue::from("braid-app")));
    assert_eq!(planned.attr("arn"), Some(&BraidValue::Unknown));
    let applied = plugin
        .apply_resource_change(
            TYPE,
            &Value::Nil,
            &plan.planned_state,
            &wire_config,
            &plan.planned_private,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_no_errors("apply create", &applied.diagnostics);
    let state = decode_object(&ty, &applied.state);
    let id = state
        .attr("id")
        .and_then(BraidValue::as_str)
        .expect("an id")
        .to_owned();
    assert_eq!(id, "braid-app");
    assert_eq!(
        state.attr("retention_in_days").and_then(BraidValue::as_i64),
        Some(7)
    );
    assert!(
        state
            .attr("arn")
            .and_then(BraidValue::as_str)
            .is_some_and(|arn| arn.starts_with("arn:aws:logs:us-east-1:")),
        "{state:?}"
    );

    // Read it back: unchanged.
    let read = plugin
        .read_resource(TYPE, &applied.state, &applied.private)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_no_errors("read", &read.diagnostics);
    assert_eq!(decode_object(&ty, &read.state), state);

    // An in-place update.
    let config = config_value(14, "braid-app");
    let wire_config = encode_object(&ty, &config);
    let proposed = proposed_new(block, &state, &config);
    let plan = plugin
        .plan_resource_change(
            TYPE,
            &read.state,
            &encode_object(&ty, &proposed),
            &wire_config,
            &read.private,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_no_errors("plan update", &plan.diagnostics);
    assert!(
        plan.requires_replace.is_empty(),
        "{:?}",
        plan.requires_replace
    );
    let updated = plugin
        .apply_resource_change(
            TYPE,
            &read.state,
            &plan.planned_state,
            &wire_config,
            &plan.planned_private,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_no_errors("apply update", &updated.diagnostics);
    let state = decode_object(&ty, &updated.state);
    assert_eq!(
        state.attr("retention_in_days").and_then(BraidValue::as_i64),
        Some(14)
    );
    assert_eq!(
        state.attr("id").and_then(BraidValue::as_str),
        Some(id.as_str())
    );

    // A new name replaces the queue.
    let renamed = config_value(14, "braid-app-2");
    let plan = plugin
        .plan_resource_change(
            TYPE,
            &updated.state,
            &encode_object(&ty, &proposed_new(block, &state, &renamed)),
            &encode_object(&ty, &renamed),
            &updated.private,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_no_errors("plan rename", &plan.diagnostics);
    assert!(
        plan.requires_replace
            .contains(&vec![braid_tfplugin::PathStep::Attribute("name".into())]),
        "{:?}",
        plan.requires_replace
    );

    // Import the queue by its URL, as `terraform import` would.
    let imported = plugin
        .import_resource_state(TYPE, &id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_no_errors("import", &imported.diagnostics);
    let [found] = imported.resources.as_slice() else {
        panic!("{:?}", imported.resources)
    };
    assert_eq!(found.type_name, TYPE);
    let read = plugin
        .read_resource(TYPE, &found.state, &found.private)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_no_errors("read imported", &read.diagnostics);
    let imported_state = decode_object(&ty, &read.state);
    assert_eq!(
        imported_state.attr("name"),
        Some(&BraidValue::from("braid-app"))
    );
    assert_eq!(
        imported_state
            .attr("retention_in_days")
            .and_then(BraidValue::as_i64),
        Some(14)
    );

    // Destroy: planned and applied as null.
    let plan = plugin
        .plan_resource_change(
            TYPE,
            &updated.state,
            &Value::Nil,
            &Value::Nil,
            &updated.private,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_no_errors("plan destroy", &plan.diagnostics);
    assert_eq!(plan.planned_state, Value::Nil);
    let destroyed = plugin
        .apply_resource_change(
            TYPE,
            &updated.state,
            &Value::Nil,
            &Value::Nil,
            &plan.planned_private,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_no_errors("apply destroy", &destroyed.diagnostics);
    assert_eq!(destroyed.state, Value::Nil);
    let gone = plugin
        .read_resource(TYPE, &updated.state, &updated.private)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_no_errors("read destroyed", &gone.diagnostics);
    assert_eq!(gone.state, Value::Nil, "the log group is still there");
    plugin.shutdown().await.expect("shutdown reaps the plugin");
}

/// A data source read through the protocol: `aws_iam_policy_document` builds JSON from a
/// nested `statement` block (list nesting), and `aws_caller_identity` asks moto.
#[tokio::test]
async fn data_sources_read_against_moto() {
    let moto = MotoServer::start();
    let plugin = start_aws().await;
    let schema = schema_of(&plugin).await;
    let configured = plugin
        .configure_provider(&aws_config(&schema, &moto.endpoint()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_no_errors("configure", &configured);

    let block = &schema.data_sources["aws_iam_policy_document"].block;
    let ty = block.object_type().unwrap_or_else(|e| panic!("{e}"));
    let config = BraidValue::map([(
        "statement",
        BraidValue::List(vec![BraidValue::map([
            (
                "actions",
                BraidValue::List(vec![BraidValue::from("sqs:SendMessage")]),
            ),
            ("resources", BraidValue::List(vec![BraidValue::from("*")])),
        ])]),
    )]);
    let read = plugin
        .read_data_source("aws_iam_policy_document", &encode_object(&ty, &config))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_no_errors("read policy document", &read.diagnostics);
    let state = decode_object(&ty, &read.state);
    let json = state
        .attr("json")
        .and_then(BraidValue::as_str)
        .expect("json");
    let policy: serde_json::Value = serde_json::from_str(json).expect("the policy is JSON");
    assert_eq!(policy["Statement"][0]["Action"], "sqs:SendMessage");

    let block = &schema.data_sources["aws_caller_identity"].block;
    let ty = block.object_type().unwrap_or_else(|e| panic!("{e}"));
    let read = plugin
        .read_data_source(
            "aws_caller_identity",
            &encode_object(&ty, &BraidValue::map::<[(&str, BraidValue); 0], &str>([])),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_no_errors("read caller identity", &read.diagnostics);
    let state = decode_object(&ty, &read.state);
    // moto's default account.
    assert_eq!(
        state.attr("account_id").and_then(BraidValue::as_str),
        Some("123456789012")
    );
    plugin.shutdown().await.expect("shutdown reaps the plugin");
}
