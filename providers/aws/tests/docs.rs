//! docs/aws.md lists every resource type and every attribute of the schema.

use braid_provider::Provider;
use braid_provider_aws::AwsProvider;

#[test]
fn docs_list_every_resource_type_and_attribute() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/aws.md");
    let docs = std::fs::read_to_string(&path).expect("docs/aws.md exists");
    let schema = AwsProvider::new().schema();
    let config_section = docs
        .split("## Provider configuration")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a provider configuration section");
    for name in schema.config.attributes.keys() {
        assert!(
            config_section.contains(&format!("| `{name}` |")),
            "provider setting {name} is not documented"
        );
    }
    for (type_name, resource) in &schema.resources {
        let heading = format!("\n## `{type_name}`\n");
        let section = docs
            .split(&heading)
            .nth(1)
            .and_then(|s| s.split("\n## ").next())
            .unwrap_or_else(|| panic!("{type_name} has no section in docs/aws.md"));
        for name in resource.attributes.keys() {
            assert!(
                section.contains(&format!("| `{name}` |")),
                "{type_name}.{name} is not documented"
            );
        }
    }
}
