//! The provider's schema: the provider block, `braidtest_service` (a resource using every
//! nesting mode of protocol 6's nested attributes, a nested block, a sensitive attribute and
//! a force-new one), `braidtest_legacy_service` (whose objects move to `braidtest_service`)
//! and the `braidtest_service` data source.

use crate::proto::tfplugin6::schema::{
    Attribute, Block, NestedBlock, Object, nested_block, object,
};
use crate::proto::tfplugin6::{Schema, ServerCapabilities, get_provider_schema};

/// The resource's schema version. Version 0 stored `replicas` as a string.
pub const SERVICE_VERSION: i64 = 1;

#[derive(Clone, Copy)]
enum Use {
    Required,
    Optional,
    Computed,
    OptionalComputed,
}

fn attribute(name: &str, cty: &str, r#use: Use) -> Attribute {
    Attribute {
        name: name.to_owned(),
        r#type: cty.as_bytes().to_vec(),
        required: matches!(r#use, Use::Required),
        optional: matches!(r#use, Use::Optional | Use::OptionalComputed),
        computed: matches!(r#use, Use::Computed | Use::OptionalComputed),
        ..Attribute::default()
    }
}

fn nested(name: &str, nesting: object::NestingMode, attributes: Vec<Attribute>) -> Attribute {
    Attribute {
        name: name.to_owned(),
        optional: true,
        nested_type: Some(Object {
            attributes,
            nesting: nesting as i32,
            ..Object::default()
        }),
        ..Attribute::default()
    }
}

fn block(attributes: Vec<Attribute>, block_types: Vec<NestedBlock>) -> Block {
    Block {
        attributes,
        block_types,
        ..Block::default()
    }
}

/// The `braidtest_service` resource.
pub fn service() -> Schema {
    let mut password = attribute("password", "\"string\"", Use::Optional);
    password.sensitive = true;
    let limits = NestedBlock {
        type_name: "limits".to_owned(),
        block: Some(block(
            vec![
                attribute("cpu", "\"string\"", Use::Optional),
                attribute("memory", "\"string\"", Use::Optional),
            ],
            Vec::new(),
        )),
        nesting: nested_block::NestingMode::List as i32,
        max_items: 1,
        ..NestedBlock::default()
    };
    Schema {
        version: SERVICE_VERSION,
        block: Some(block(
            vec![
                attribute("id", "\"string\"", Use::Computed),
                attribute("name", "\"string\"", Use::Required),
                attribute("replicas", "\"number\"", Use::OptionalComputed),
                attribute("description", "\"string\"", Use::Optional),
                password,
                attribute("labels", "[\"map\",\"string\"]", Use::Optional),
                attribute("url", "\"string\"", Use::Computed),
                attribute("generation", "\"number\"", Use::Computed),
                nested(
                    "endpoint",
                    object::NestingMode::Single,
                    vec![
                        attribute("host", "\"string\"", Use::Required),
                        attribute("port", "\"number\"", Use::OptionalComputed),
                        attribute("tls", "\"bool\"", Use::Optional),
                    ],
                ),
                nested(
                    "routes",
                    object::NestingMode::List,
                    vec![
                        attribute("path", "\"string\"", Use::Required),
                        attribute("weight", "\"number\"", Use::OptionalComputed),
                    ],
                ),
                nested(
                    "ports",
                    object::NestingMode::Set,
                    vec![
                        attribute("number", "\"number\"", Use::Required),
                        attribute("protocol", "\"string\"", Use::OptionalComputed),
                    ],
                ),
                nested(
                    "backends",
                    object::NestingMode::Map,
                    vec![
                        attribute("address", "\"string\"", Use::Required),
                        attribute("healthy", "\"bool\"", Use::Computed),
                    ],
                ),
            ],
            vec![limits],
        )),
    }
}

/// `braidtest_legacy_service`: the older way to declare a service (a name and a size), kept
/// in the same files; its objects move to `braidtest_service` with `moved` blocks
/// (MoveResourceState), `size` becoming `replicas`.
pub fn legacy_service() -> Schema {
    Schema {
        version: 0,
        block: Some(block(
            vec![
                attribute("id", "\"string\"", Use::Computed),
                attribute("name", "\"string\"", Use::Required),
                attribute("size", "\"number\"", Use::Optional),
            ],
            Vec::new(),
        )),
    }
}

/// The `braidtest_service` data source: a service by name.
pub fn service_data() -> Schema {
    Schema {
        version: 0,
        block: Some(block(
            vec![
                attribute("name", "\"string\"", Use::Required),
                attribute("id", "\"string\"", Use::Computed),
                attribute("url", "\"string\"", Use::Computed),
                attribute("replicas", "\"number\"", Use::Computed),
            ],
            Vec::new(),
        )),
    }
}

/// The attribute names of the resource's objects, to complete objects read from files.
pub fn service_attribute_names() -> Vec<String> {
    let schema = service();
    let block = schema.block.unwrap_or_default();
    block
        .attributes
        .iter()
        .map(|a| a.name.clone())
        .chain(block.block_types.iter().map(|b| b.type_name.clone()))
        .collect()
}

pub fn provider_schema() -> get_provider_schema::Response {
    get_provider_schema::Response {
        provider: Some(Schema {
            version: 0,
            block: Some(block(
                vec![
                    attribute("directory", "\"string\"", Use::Required),
                    attribute("default_replicas", "\"number\"", Use::Optional),
                ],
                Vec::new(),
            )),
        }),
        resource_schemas: [
            ("braidtest_service".to_owned(), service()),
            ("braidtest_legacy_service".to_owned(), legacy_service()),
        ]
        .into(),
        data_source_schemas: [("braidtest_service".to_owned(), service_data())].into(),
        diagnostics: Vec::new(),
        provider_meta: None,
        server_capabilities: Some(ServerCapabilities {
            plan_destroy: false,
            get_provider_schema_optional: true,
            move_resource_state: true,
        }),
    }
}
