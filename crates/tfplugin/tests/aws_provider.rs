//! The plugin host against the real `terraform-provider-aws` 5.100.0 (protocol 5), with
//! moto as the AWS it configures against.

mod common;

use braid_testkit::MotoServer;
use braid_tfplugin::{
    CallError, Diagnostic, Nesting, PluginCommand, ProviderPlugin, ProviderSchema, config_object,
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
        ["sts", "iam", "s3", "sqs", "ec2"].map(|service| (service.to_owned(), endpoint.clone())),
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
            ("max_retries", Value::from(1)),
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
