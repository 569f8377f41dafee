//! The plugin host on protocol 6, against `terraform-provider-braidtest` (crates/tfprovider-test,
//! which terraform itself runs in the side-by-side tests): negotiation, nested attribute
//! types in the schema and in values, and the whole lifecycle.

mod common;

use braid_provider::Value;
use braid_tfplugin::cty::{self, CtyType};
use braid_tfplugin::{
    Block, Diagnostic, Nesting, PathStep, PluginCommand, ProviderPlugin, config_object,
    proposed_new,
};

async fn start() -> ProviderPlugin {
    let plugin = ProviderPlugin::start(&PluginCommand::new(braid_testkit::braidtest_provider()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        plugin.protocol_version(),
        6,
        "braid offers 5 and 6; braidtest speaks 6"
    );
    plugin
}

fn wire(block: &Block, value: &Value) -> rmpv::Value {
    let ty = block
        .object_type()
        .expect("the schema's types are readable");
    cty::encode(value, &ty).unwrap_or_else(|e| panic!("{}", e.message))
}

fn braid(block: &Block, value: &rmpv::Value) -> Value {
    let ty = block
        .object_type()
        .expect("the schema's types are readable");
    cty::decode(value, &ty).unwrap_or_else(|e| panic!("{}", e.message))
}

fn no_errors(diagnostics: &[Diagnostic]) {
    assert!(!Diagnostic::any_error(diagnostics), "{diagnostics:?}");
}

fn obj<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::map(entries)
}

fn service_config(name: &str, weight: i64) -> Value {
    obj([
        ("name", Value::from(name)),
        ("password", Value::from("hunter2")),
        ("endpoint", obj([("host", Value::from("web.local"))])),
        (
            "routes",
            Value::List(vec![
                obj([("path", Value::from("/"))]),
                obj([
                    ("path", Value::from("/api")),
                    ("weight", Value::from(weight)),
                ]),
            ]),
        ),
        (
            "ports",
            Value::List(vec![obj([("number", Value::from(80))])]),
        ),
        (
            "backends",
            obj([("a", obj([("address", Value::from("10.0.0.1"))]))]),
        ),
        ("limits", Value::List(Vec::new())),
    ])
}

#[tokio::test]
async fn schema_has_nested_attribute_types_and_their_implied_types() {
    let plugin = start().await;
    let schema = plugin
        .get_provider_schema()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    no_errors(&schema.diagnostics);
    assert!(schema.schema_optional);
    let service = &schema.resources["braidtest_service"];
    assert_eq!(service.version, 1);
    let endpoint = &service.block.attributes["endpoint"];
    let nested = endpoint
        .nested
        .as_ref()
        .expect("endpoint has a nested type");
    assert_eq!(nested.nesting, Nesting::Single);
    assert!(nested.attributes["host"].required);
    assert!(nested.attributes["port"].optional && nested.attributes["port"].computed);
    assert_eq!(
        CtyType::from_json_text(&endpoint.cty_type).expect("a type"),
        CtyType::from_json_text(r#"["object",{"host":"string","port":"number","tls":"bool"}]"#)
            .expect("a type")
    );
    let implied = |name: &str| {
        let text = &service.block.attributes[name].cty_type;
        serde_json::from_str::<serde_json::Value>(text).expect("JSON")[0].clone()
    };
    assert_eq!(implied("routes"), "list");
    assert_eq!(implied("ports"), "set");
    assert_eq!(implied("backends"), "map");
    assert_eq!(
        service.block.attributes["ports"]
            .nested
            .as_ref()
            .map(|n| n.nesting),
        Some(Nesting::Set)
    );
    assert_eq!(service.block.blocks["limits"].nesting, Nesting::List);
    let pid = plugin.pid();
    let status = plugin.shutdown().await.expect("shutdown reaps the plugin");
    assert!(status.success(), "{status}");
    assert!(!common::process_exists(pid));
}

#[tokio::test]
async fn lifecycle_over_protocol_6() {
    let objects = tempfile::tempdir().expect("a temporary directory");
    let plugin = start().await;
    let schema = plugin
        .get_provider_schema()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let block = schema.resources["braidtest_service"].block.clone();

    // ValidateProviderConfig: diagnostics with their path, and no prepared configuration.
    let empty = config_object(
        &schema.provider.block,
        [("directory".to_owned(), "".into())],
    )
    .expect("a provider configuration");
    let prepared = plugin
        .prepare_provider_config(&empty)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(prepared.config.is_nil());
    assert_eq!(prepared.diagnostics.len(), 1, "{:?}", prepared.diagnostics);
    assert_eq!(
        prepared.diagnostics[0].attribute_path,
        vec![PathStep::Attribute("directory".into())]
    );
    let config = config_object(
        &schema.provider.block,
        [(
            "directory".to_owned(),
            objects.path().display().to_string().into(),
        )],
    )
    .expect("a provider configuration");
    no_errors(
        &plugin
            .prepare_provider_config(&config)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .diagnostics,
    );
    no_errors(
        &plugin
            .configure_provider(&config)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    );

    // ValidateResourceConfig.
    let bad = wire(&block, &service_config("Not_A_Name", 5));
    let found = plugin
        .validate_resource_config("braidtest_service", &bad)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(Diagnostic::any_error(&found));
    assert_eq!(found[0].summary, "Invalid service name");
    assert_eq!(
        found[0].attribute_path,
        vec![PathStep::Attribute("name".into())]
    );

    // Create.
    let config = service_config("web", 5);
    let proposed = proposed_new(&block, &Value::Null, &config);
    let plan = plugin
        .plan_resource_change(
            "braidtest_service",
            &rmpv::Value::Nil,
            &wire(&block, &proposed),
            &wire(&block, &config),
            &[],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    no_errors(&plan.diagnostics);
    assert!(!plan.legacy_type_system);
    let planned = braid(&block, &plan.planned_state);
    assert_eq!(planned.attr("id"), Some(&Value::Unknown));
    assert_eq!(planned.attr("replicas"), Some(&Value::from(1)));
    assert_eq!(
        planned.attr("endpoint").and_then(|e| e.attr("port")),
        Some(&Value::from(443))
    );
    assert_eq!(
        planned.attr("url"),
        Some(&Value::from("https://web.local:443/web"))
    );
    let applied = plugin
        .apply_resource_change(
            "braidtest_service",
            &rmpv::Value::Nil,
            &plan.planned_state,
            &wire(&block, &config),
            &plan.planned_private,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    no_errors(&applied.diagnostics);
    let state = braid(&block, &applied.state);
    assert_eq!(state.attr("id"), Some(&Value::from("svc-web")));
    let healthy = state
        .attr("backends")
        .and_then(|b| b.attr("a"))
        .and_then(|a| a.attr("healthy"));
    assert_eq!(healthy, Some(&Value::Bool(true)));
    let file = objects.path().join("svc-web.json");
    let on_disk: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("the service's file"))
            .expect("JSON");
    assert_eq!(on_disk["routes"][1]["weight"], 5);
    assert_eq!(on_disk["ports"][0]["protocol"], "tcp");

    // Update: the proposed state keeps what the provider decided in nested attributes the
    // configuration leaves unset (the set element's protocol, the map element's healthy).
    let changed = service_config("web", 7);
    let proposed = proposed_new(&block, &state, &changed);
    let ports = proposed
        .attr("ports")
        .and_then(Value::as_list)
        .unwrap_or_default();
    assert_eq!(ports[0].attr("protocol"), Some(&Value::from("tcp")));
    let plan = plugin
        .plan_resource_change(
            "braidtest_service",
            &wire(&block, &state),
            &wire(&block, &proposed),
            &wire(&block, &changed),
            &applied.private,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    no_errors(&plan.diagnostics);
    assert!(plan.requires_replace.is_empty());
    let planned = braid(&block, &plan.planned_state);
    assert_eq!(planned.attr("generation"), Some(&Value::from(2)));
    assert_eq!(planned.attr("id"), Some(&Value::from("svc-web")));

    // A new name forces replacement.
    let renamed = service_config("web2", 5);
    let plan = plugin
        .plan_resource_change(
            "braidtest_service",
            &wire(&block, &state),
            &wire(&block, &proposed_new(&block, &state, &renamed)),
            &wire(&block, &renamed),
            &[],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        plan.requires_replace,
        vec![vec![PathStep::Attribute("name".into())]]
    );

    // Read sees changes made behind braid's back, and a deleted object as gone.
    let mut edited = on_disk.clone();
    edited["replicas"] = serde_json::json!(4);
    std::fs::write(&file, edited.to_string()).expect("edit the service's file");
    let read = plugin
        .read_resource("braidtest_service", &wire(&block, &state), &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        braid(&block, &read.state).attr("replicas"),
        Some(&Value::from(4))
    );

    // Data source.
    let data_block = schema.data_sources["braidtest_service"].block.clone();
    let data_config = wire(&data_block, &obj([("name", Value::from("web"))]));
    no_errors(
        &plugin
            .validate_data_source_config("braidtest_service", &data_config)
            .await
            .unwrap_or_else(|e| panic!("{e}")),
    );
    let data = plugin
        .read_data_source("braidtest_service", &data_config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    no_errors(&data.diagnostics);
    assert_eq!(
        braid(&data_block, &data.state).attr("url"),
        Some(&Value::from("https://web.local:443/web"))
    );

    // Import.
    let imported = plugin
        .import_resource_state("braidtest_service", "svc-web")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    no_errors(&imported.diagnostics);
    assert_eq!(imported.resources.len(), 1);
    assert_eq!(
        braid(&block, &imported.resources[0].state).attr("name"),
        Some(&Value::from("web"))
    );
    let missing = plugin
        .import_resource_state("braidtest_service", "svc-nothing")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(Diagnostic::any_error(&missing.diagnostics));

    // UpgradeResourceState from schema version 0 (replicas was a string).
    let mut old = on_disk.clone();
    old["replicas"] = serde_json::json!("3");
    let upgraded = plugin
        .upgrade_resource_state("braidtest_service", 0, old.to_string().into_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    no_errors(&upgraded.diagnostics);
    assert_eq!(
        braid(&block, &upgraded.state).attr("replicas"),
        Some(&Value::from(3))
    );

    // Destroy, then the read finds nothing.
    let destroyed = plugin
        .apply_resource_change(
            "braidtest_service",
            &wire(&block, &state),
            &rmpv::Value::Nil,
            &rmpv::Value::Nil,
            &[],
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    no_errors(&destroyed.diagnostics);
    assert!(destroyed.state.is_nil());
    assert!(!file.exists());
    let read = plugin
        .read_resource("braidtest_service", &wire(&block, &state), &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(read.state.is_nil());

    plugin
        .stop_provider()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = plugin.shutdown().await.expect("shutdown reaps the plugin");
    assert!(status.success(), "{status}");
}
