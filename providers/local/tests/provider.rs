//! Provider-level behaviour: name, schema, configuration, unknown resource types.

mod common;

use braid_provider::{Path, Provider, Use, Value};
use braid_provider_local::LocalProvider;
use common::{config, plan};

#[test]
fn schema_describes_both_resource_types() {
    let provider = LocalProvider::new();
    assert_eq!(provider.name(), "local");
    let schema = provider.schema();
    assert!(schema.config.attributes.contains_key("base_dir"));

    let file = &schema.resources["local_file"];
    assert_eq!(file.attributes["filename"].r#use, Use::Required);
    assert!(file.attributes["filename"].force_new);
    assert!(!file.attributes["content"].force_new);
    assert!(!file.attributes["file_permission"].force_new);
    assert_eq!(
        file.attributes["file_permission"].r#use,
        Use::OptionalComputed
    );
    assert_eq!(file.attributes["id"].r#use, Use::Computed);

    let value = &schema.resources["local_value"];
    assert!(value.attributes["triggers_replace"].force_new);
    assert_eq!(value.attributes["output"].r#use, Use::Computed);

    for resource in schema.resources.values() {
        for (name, attribute) in &resource.attributes {
            assert!(
                !attribute.description.is_empty(),
                "{name} has no description"
            );
        }
    }
}

#[tokio::test]
async fn configure_rejects_unknown_and_mistyped_base_dir() {
    let provider = LocalProvider::new();
    let unknown = provider
        .configure(Value::map([("base_dir", Value::Unknown)]))
        .await;
    assert_eq!(unknown[0].attribute, Some(Path::key("base_dir")));
    let mistyped = provider
        .configure(Value::map([("base_dir", Value::from(3))]))
        .await;
    assert_eq!(mistyped[0].attribute, Some(Path::key("base_dir")));
    assert!(provider.configure(Value::Null).await.is_empty());
}

#[tokio::test]
async fn unknown_resource_type_is_an_error() {
    let provider = LocalProvider::new();
    let planned = plan(&provider, "local_thing", None, &config([])).await;
    assert_eq!(planned.diagnostics.len(), 1);
    assert!(planned.diagnostics[0].detail.contains("local_thing"));
}
