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
    String,
    Number,
    Bool,
    List,
    Map,
    /// Anything (a nested document, or a value whose shape the provider checks).
    Any,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeSchema {
    pub r#type: AttributeType,
    pub r#use: Use,
    /// A change to this attribute cannot be made in place: the resource is replaced.
    pub force_new: bool,
    /// Its value is masked in every view and in plan files.
    pub sensitive: bool,
    pub description: String,
}

impl AttributeSchema {
    pub fn new(r#type: AttributeType, r#use: Use, description: &str) -> Self {
        AttributeSchema {
            r#type,
            r#use,
            force_new: false,
            sensitive: false,
            description: description.to_string(),
        }
    }

    pub fn force_new(mut self) -> Self {
        self.force_new = true;
        self
    }

    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    pub fn settable(&self) -> bool {
        self.r#use != Use::Computed
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResourceSchema {
    pub description: String,
    pub attributes: BTreeMap<String, AttributeSchema>,
    /// Attributes are not fixed (e.g. a Kubernetes manifest): any top-level key is accepted and
    /// the provider validates the document itself.
    pub open: bool,
}

impl ResourceSchema {
    pub fn new(description: &str) -> Self {
        ResourceSchema {
            description: description.to_string(),
            ..ResourceSchema::default()
        }
    }

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
    pub config: ResourceSchema,
    pub resources: BTreeMap<String, ResourceSchema>,
}
