//! Resource schemas: which attributes a resource type has and how they behave.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Who sets an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Use {
    /// The configuration must set it.
    Required,
    /// The configuration may set it; otherwise it is null.
    Optional,
    /// The provider sets it; configuration may not.
    Computed,
    /// The configuration may set it; otherwise the provider chooses it.
    OptionalComputed,
}

/// The coarse type of an attribute, used to check configuration before any provider call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeType {
    /// A [`Value::String`](crate::Value::String).
    String,
    /// A [`Value::Number`](crate::Value::Number), integral or not.
    Number,
    /// A [`Value::Bool`](crate::Value::Bool).
    Bool,
    /// A [`Value::List`](crate::Value::List) of any elements.
    List,
    /// A [`Value::Map`](crate::Value::Map) of any values.
    Map,
    /// Anything (a nested document, or a value whose shape the provider checks).
    Any,
}

/// How one attribute of a resource (or of a provider block) behaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeSchema {
    /// The type the configuration must give it; unknown and null values always pass.
    pub r#type: AttributeType,
    /// Whether the configuration or the provider sets it.
    pub r#use: Use,
    /// A change to this attribute cannot be made in place: the resource is replaced.
    pub force_new: bool,
    /// Its value is masked in every view and in plan files.
    pub sensitive: bool,
    /// One or two sentences for documentation and editor hovers.
    pub description: String,
}

impl AttributeSchema {
    /// An attribute that is neither `force_new` nor sensitive; chain
    /// [`force_new`](AttributeSchema::force_new) and [`sensitive`](AttributeSchema::sensitive)
    /// to change that.
    pub fn new(r#type: AttributeType, r#use: Use, description: &str) -> Self {
        AttributeSchema {
            r#type,
            r#use,
            force_new: false,
            sensitive: false,
            description: description.to_string(),
        }
    }

    /// Marks the attribute as one whose change replaces the resource.
    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }

    /// Marks the attribute's value as secret, to be masked wherever it is shown.
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// True when the configuration may set the attribute, i.e. it is not purely computed.
    pub fn settable(&self) -> bool {
        self.r#use != Use::Computed
    }
}

/// The attributes of one resource type (or of a provider's configuration block).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceSchema {
    /// What the resource type manages, for documentation.
    pub description: String,
    /// The top-level attributes by name.
    pub attributes: BTreeMap<String, AttributeSchema>,
    /// Attributes are not fixed (e.g. a Kubernetes manifest): any top-level key is accepted and
    /// the provider validates the document itself.
    pub open: bool,
}

impl ResourceSchema {
    /// A closed schema without attributes; add them with
    /// [`attribute`](ResourceSchema::attribute).
    pub fn new(description: &str) -> Self {
        ResourceSchema {
            description: description.to_string(),
            ..ResourceSchema::default()
        }
    }

    /// Adds (or replaces) the attribute `name`.
    pub fn attribute(mut self, name: &str, schema: AttributeSchema) -> Self {
        self.attributes.insert(name.to_string(), schema);
        self
    }

    /// Names of attributes marked sensitive.
    pub fn sensitive_attributes(&self) -> impl Iterator<Item = &str> {
        self.attributes
            .iter()
            .filter(|(_, a)| a.sensitive)
            .map(|(n, _)| n.as_str())
    }
}

/// Everything a provider offers: its configuration attributes and its resource types.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderSchema {
    /// The attributes of the provider's `provider` block in braid.hcl.
    pub config: ResourceSchema,
    /// The resource types by name (`local_file`, `kubernetes_manifest`).
    pub resources: BTreeMap<String, ResourceSchema>,
    /// The data source types by name (`local_file` for `data "local_file" "x"`): their
    /// arguments (settable) and the attributes a read fills in (computed).
    #[serde(default)]
    pub data_sources: BTreeMap<String, ResourceSchema>,
}
