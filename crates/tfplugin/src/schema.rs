//! A provider's schema as plain data: the provider configuration block, and the block of
//! every managed resource type and data source, with attribute types as cty type JSON
//! (`"string"`, `["list","string"]`, `["object",{"a":"number"}]`), exactly as the provider
//! sent them.

use std::collections::BTreeMap;

use crate::diagnostics::Diagnostic;
use crate::proto::tfplugin5 as pb;

/// What GetProviderSchema answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProviderSchema {
    /// The `provider "NAME" { ... }` block.
    pub provider: Schema,
    /// Managed resource types (`resource "aws_vpc" ...`), by type name.
    pub resources: BTreeMap<String, Schema>,
    /// Data sources (`data "aws_iam_policy_document" ...`), by type name.
    pub data_sources: BTreeMap<String, Schema>,
    /// Warnings (and errors, when the schema could not be produced) from the provider.
    pub diagnostics: Vec<Diagnostic>,
    /// The provider's server capability `get_provider_schema_optional`: another process of
    /// the same executable may be used without calling GetProviderSchema first.
    pub schema_optional: bool,
}

/// One configuration block's schema and its version (resource state is upgraded across
/// versions).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schema {
    /// The schema version.
    pub version: i64,
    /// The top-level block.
    pub block: Block,
}

/// The attributes and nested blocks of a block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Block {
    /// Attributes, by name.
    pub attributes: BTreeMap<String, Attribute>,
    /// Nested block types, by name.
    pub blocks: BTreeMap<String, NestedBlock>,
}

/// One attribute of a block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attribute {
    /// The cty type as JSON text, as the provider sent it.
    pub cty_type: String,
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// Set by the provider when configuration leaves it unset.
    pub computed: bool,
    /// Masked in plans and output.
    pub sensitive: bool,
    /// Sent to the provider but never stored in state.
    pub write_only: bool,
}

/// A nested block type: how many of it a block holds, and its own schema.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NestedBlock {
    /// How instances of the block are collected.
    pub nesting: Nesting,
    /// The nested block's own schema.
    pub block: Block,
    /// Fewest instances allowed (0: no limit).
    pub min_items: i64,
    /// Most instances allowed (0: no limit).
    pub max_items: i64,
}

/// How a nested block's instances are collected into its parent's value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Nesting {
    /// At most one; the value is the object, or null when absent.
    #[default]
    Single,
    /// Exactly one, always present; absent means an object of nulls.
    Group,
    /// A list of objects.
    List,
    /// A set of objects.
    Set,
    /// A map of objects, keyed by the block label.
    Map,
}

impl From<pb::get_provider_schema::Response> for ProviderSchema {
    fn from(response: pb::get_provider_schema::Response) -> ProviderSchema {
        ProviderSchema {
            provider: response.provider.map(Schema::from).unwrap_or_default(),
            resources: convert_schemas(response.resource_schemas),
            data_sources: convert_schemas(response.data_source_schemas),
            diagnostics: response
                .diagnostics
                .into_iter()
                .map(Diagnostic::from)
                .collect(),
            schema_optional: response
                .server_capabilities
                .is_some_and(|c| c.get_provider_schema_optional),
        }
    }
}

fn convert_schemas(
    schemas: std::collections::HashMap<String, pb::Schema>,
) -> BTreeMap<String, Schema> {
    schemas
        .into_iter()
        .map(|(name, schema)| (name, Schema::from(schema)))
        .collect()
}

impl From<pb::Schema> for Schema {
    fn from(schema: pb::Schema) -> Schema {
        Schema {
            version: schema.version,
            block: schema.block.map(Block::from).unwrap_or_default(),
        }
    }
}

impl From<pb::schema::Block> for Block {
    fn from(block: pb::schema::Block) -> Block {
        Block {
            attributes: block
                .attributes
                .into_iter()
                .map(|a| {
                    let attribute = Attribute {
                        cty_type: String::from_utf8_lossy(&a.r#type).into_owned(),
                        required: a.required,
                        optional: a.optional,
                        computed: a.computed,
                        sensitive: a.sensitive,
                        write_only: a.write_only,
                    };
                    (a.name, attribute)
                })
                .collect(),
            blocks: block
                .block_types
                .into_iter()
                .map(|b| {
                    let nesting = match b.nesting() {
                        pb::schema::nested_block::NestingMode::Group => Nesting::Group,
                        pb::schema::nested_block::NestingMode::List => Nesting::List,
                        pb::schema::nested_block::NestingMode::Set => Nesting::Set,
                        pb::schema::nested_block::NestingMode::Map => Nesting::Map,
                        // INVALID is not sent by working providers; Single is the
                        // reading that asks least of the value.
                        pb::schema::nested_block::NestingMode::Single
                        | pb::schema::nested_block::NestingMode::Invalid => Nesting::Single,
                    };
                    let nested = NestedBlock {
                        nesting,
                        block: b.block.map(Block::from).unwrap_or_default(),
                        min_items: b.min_items,
                        max_items: b.max_items,
                    };
                    (b.type_name, nested)
                })
                .collect(),
        }
    }
}
