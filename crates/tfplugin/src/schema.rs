//! A provider's schema as plain data: the provider configuration block, and the block of
//! every managed resource type and data source, with attribute types as cty type JSON
//! (`"string"`, `["list","string"]`, `["object",{"a":"number"}]`), exactly as the provider
//! sent them.

use std::collections::BTreeMap;

use crate::cty::CtyType;
use crate::diagnostics::Diagnostic;
use crate::proto::{tfplugin5, tfplugin6};

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
    /// The provider's server capability `move_resource_state`: it answers MoveResourceState
    /// (`moved` blocks across resource types).
    pub move_resource_state: bool,
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
    /// The cty type as JSON text, as the provider sent it; for an attribute with a nested
    /// type, the type it implies (an object, or a list, set or map of objects).
    pub cty_type: String,
    /// Protocol 6: the attribute's nested type (`endpoint = { host = "..." }`), whose own
    /// attributes may be required, optional, computed or sensitive.
    pub nested: Option<Box<NestedType>>,
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

/// A nested attribute type (protocol 6): attributes of their own, collected as `nesting`
/// says (never [`Nesting::Group`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NestedType {
    /// How the objects are collected: one object, or a list, set or map of them.
    pub nesting: Nesting,
    /// The objects' attributes, by name.
    pub attributes: BTreeMap<String, Attribute>,
}

impl NestedType {
    /// The type of the attribute's values: the object of the attributes' types, collected
    /// as the nesting says.
    pub fn implied_type(&self) -> CtyType {
        let object = CtyType::Object {
            attributes: self
                .attributes
                .iter()
                .map(|(name, attribute)| {
                    let ty = match &attribute.nested {
                        Some(nested) => nested.implied_type(),
                        None => {
                            CtyType::from_json_text(&attribute.cty_type).unwrap_or(CtyType::Dynamic)
                        }
                    };
                    (name.clone(), ty)
                })
                .collect(),
            optional: Default::default(),
        };
        match self.nesting {
            Nesting::Single | Nesting::Group => object,
            Nesting::List => CtyType::List(Box::new(object)),
            Nesting::Set => CtyType::Set(Box::new(object)),
            Nesting::Map => CtyType::Map(Box::new(object)),
        }
    }
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

impl ProviderSchema {
    /// The schema in a GetProviderSchema answer of protocol `protocol_version` encoded as
    /// protobuf (what [`crate::ProviderPlugin::get_provider_schema_wire`] returns).
    pub fn from_wire(
        protocol_version: u32,
        wire: &[u8],
    ) -> Result<ProviderSchema, prost::DecodeError> {
        use prost::Message as _;
        Ok(if protocol_version == 6 {
            ProviderSchema::from(tfplugin6::get_provider_schema::Response::decode(wire)?)
        } else {
            ProviderSchema::from(tfplugin5::get_provider_schema::Response::decode(wire)?)
        })
    }
}

/// The schema conversions for one generated protocol module; `$nested` reads an
/// attribute's nested type (protocol 6 only).
macro_rules! schema_conversions {
    ($pb:ident, |$attribute:ident| $nested:expr) => {
        impl From<$pb::get_provider_schema::Response> for ProviderSchema {
            fn from(response: $pb::get_provider_schema::Response) -> ProviderSchema {
                let convert = |schemas: std::collections::HashMap<String, $pb::Schema>| {
                    schemas
                        .into_iter()
                        .map(|(name, schema)| (name, Schema::from(schema)))
                        .collect()
                };
                ProviderSchema {
                    provider: response.provider.map(Schema::from).unwrap_or_default(),
                    resources: convert(response.resource_schemas),
                    data_sources: convert(response.data_source_schemas),
                    diagnostics: response
                        .diagnostics
                        .into_iter()
                        .map(Diagnostic::from)
                        .collect(),
                    schema_optional: response
                        .server_capabilities
                        .as_ref()
                        .is_some_and(|c| c.get_provider_schema_optional),
                    move_resource_state: response
                        .server_capabilities
                        .is_some_and(|c| c.move_resource_state),
                }
            }
        }

        impl From<$pb::Schema> for Schema {
            fn from(schema: $pb::Schema) -> Schema {
                Schema {
                    version: schema.version,
                    block: schema.block.map(Block::from).unwrap_or_default(),
                }
            }
        }

        impl From<$pb::schema::Attribute> for Attribute {
            fn from($attribute: $pb::schema::Attribute) -> Attribute {
                let nested: Option<Box<NestedType>> = $nested;
                let cty_type = match &nested {
                    Some(nested) => nested.implied_type().to_json().to_string(),
                    None => String::from_utf8_lossy(&$attribute.r#type).into_owned(),
                };
                Attribute {
                    cty_type,
                    nested,
                    required: $attribute.required,
                    optional: $attribute.optional,
                    computed: $attribute.computed,
                    sensitive: $attribute.sensitive,
                    write_only: $attribute.write_only,
                }
            }
        }

        impl From<$pb::schema::Block> for Block {
            fn from(block: $pb::schema::Block) -> Block {
                use $pb::schema::nested_block::NestingMode;
                Block {
                    attributes: block
                        .attributes
                        .into_iter()
                        .map(|a| (a.name.clone(), Attribute::from(a)))
                        .collect(),
                    blocks: block
                        .block_types
                        .into_iter()
                        .map(|b| {
                            let nesting = match b.nesting() {
                                NestingMode::Group => Nesting::Group,
                                NestingMode::List => Nesting::List,
                                NestingMode::Set => Nesting::Set,
                                NestingMode::Map => Nesting::Map,
                                // INVALID is not sent by working providers; Single is the
                                // reading that asks least of the value.
                                NestingMode::Single | NestingMode::Invalid => Nesting::Single,
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
    };
}

schema_conversions!(tfplugin5, |attribute| None);
schema_conversions!(tfplugin6, |attribute| attribute
    .nested_type
    .map(|object| Box::new(NestedType::from(object))));

impl From<tfplugin6::schema::Object> for NestedType {
    fn from(object: tfplugin6::schema::Object) -> NestedType {
        use tfplugin6::schema::object::NestingMode;
        let nesting = match object.nesting() {
            NestingMode::List => Nesting::List,
            NestingMode::Set => Nesting::Set,
            NestingMode::Map => Nesting::Map,
            NestingMode::Single | NestingMode::Invalid => Nesting::Single,
        };
        NestedType {
            nesting,
            attributes: object
                .attributes
                .into_iter()
                .map(|a| (a.name.clone(), Attribute::from(a)))
                .collect(),
        }
    }
}
