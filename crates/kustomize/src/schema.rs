//! OpenAPI schemas for strategic merge: where a list of a kind merges element by element and
//! on which key. Kustomize reads them from the kustomization's `openapi` file (Swagger
//! `definitions`, `x-kubernetes-group-version-kind`, `x-kubernetes-patch-merge-key` and
//! `-patch-strategy`); braid also reads the `openAPIV3Schema` of the CustomResourceDefinitions
//! among the objects (`x-kubernetes-list-type: map` with `x-kubernetes-list-map-keys`), so a
//! patch merges a custom resource's lists as the API server merges them. Kinds without a
//! schema keep the built-in table of Kubernetes' list fields.

use serde_json::{Map, Value};

use super::Resource;

/// The schemas known to one patch step.
#[derive(Debug, Default, Clone)]
pub(crate) struct Schemas {
    /// Swagger definitions, by name (`com.example.v1.Widget`), for `$ref`.
    definitions: Map<String, Value>,
    /// The root schema of each (group, kind).
    roots: Vec<((String, String), Value)>,
}

/// How a list field merges.
#[derive(Debug, PartialEq)]
pub(crate) enum ListRule {
    /// Element by element, on this key.
    Merge(String),
    /// The patch's list replaces the object's.
    Replace,
    /// No schema says: the built-in table decides.
    Unknown,
}

impl Schemas {
    /// The definitions of an `openapi` file (its `definitions`, Swagger 2.0 as Kustomize reads
    /// it), whose kinds are named by `x-kubernetes-group-version-kind`.
    pub fn add_openapi(&mut self, document: &Value) {
        // Swagger 2.0 (`definitions`) or OpenAPI v3 (`components.schemas`).
        let Some(definitions) = document
            .get("definitions")
            .or_else(|| document.get("components").and_then(|c| c.get("schemas")))
            .and_then(Value::as_object)
        else {
            return;
        };
        for (name, definition) in definitions {
            self.definitions.insert(name.clone(), definition.clone());
            for gvk in definition
                .get("x-kubernetes-group-version-kind")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let text = |key: &str| gvk.get(key).and_then(Value::as_str).unwrap_or("");
                self.roots.push((
                    (text("group").to_string(), text("kind").to_string()),
                    definition.clone(),
                ));
            }
        }
    }

    /// The schemas of the CustomResourceDefinitions among `objects` (their storage version's,
    /// else the first version's).
    pub fn add_crds(&mut self, objects: &[Resource]) {
        for object in objects
            .iter()
            .filter(|o| o.kind() == "CustomResourceDefinition")
        {
            let spec = object.doc.get("spec");
            let text = |path: &[&str]| {
                path.iter()
                    .try_fold(spec?, |v, key| v.get(*key))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            let (Some(group), Some(kind)) = (text(&["group"]), text(&["names", "kind"])) else {
                continue;
            };
            let versions = spec
                .and_then(|s| s.get("versions"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let chosen = versions
                .iter()
                .find(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
                .or_else(|| versions.first());
            if let Some(schema) = chosen
                .and_then(|v| v.get("schema"))
                .and_then(|s| s.get("openAPIV3Schema"))
            {
                self.roots.push(((group, kind), schema.clone()));
            }
        }
    }

    /// Whether a schema of objects of `group` and `kind` is known.
    pub fn knows(&self, group: &str, kind: &str) -> bool {
        self.roots.iter().any(|((g, k), _)| g == group && k == kind)
    }

    /// The schema of objects of `group` and `kind`, if one is known.
    pub fn root(&self, group: &str, kind: &str) -> Option<Node<'_>> {
        self.roots
            .iter()
            .rev()
            .find(|((g, k), _)| g == group && k == kind)
            .map(|(_, value)| {
                Node {
                    schemas: self,
                    value,
                }
                .resolved()
            })
    }
}

/// A place in a schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Node<'a> {
    schemas: &'a Schemas,
    value: &'a Value,
}

impl<'a> Node<'a> {
    /// Follows `$ref` (`#/definitions/NAME` or `NAME`) and a single `allOf` entry.
    fn resolved(self) -> Node<'a> {
        let mut node = self;
        for _ in 0..32 {
            if let Some(reference) = node.value.get("$ref").and_then(Value::as_str) {
                let name = reference.rsplit('/').next().unwrap_or(reference);
                match node.schemas.definitions.get(name) {
                    Some(value) => node.value = value,
                    None => return node,
                }
            } else if let Some([only]) = node
                .value
                .get("allOf")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
            {
                node.value = only;
            } else {
                return node;
            }
        }
        node
    }

    /// The schema of property `key`.
    pub fn property(self, key: &str) -> Option<Node<'a>> {
        self.value
            .get("properties")
            .and_then(|p| p.get(key))
            .map(|value| Node { value, ..self }.resolved())
    }

    /// The schema of a list's elements.
    pub fn items(self) -> Option<Node<'a>> {
        self.value
            .get("items")
            .map(|value| Node { value, ..self }.resolved())
    }

    /// How the list this node describes merges. A property's own extensions are read before
    /// its `$ref` is followed, so they come from the unresolved value too.
    pub fn list_rule(self, unresolved: Option<&Value>) -> ListRule {
        let sources = [unresolved, Some(self.value)];
        for value in sources.into_iter().flatten() {
            let text = |key: &str| value.get(key).and_then(Value::as_str);
            if let (Some(key), Some(strategy)) = (
                text("x-kubernetes-patch-merge-key"),
                text("x-kubernetes-patch-strategy"),
            ) && strategy.split(',').any(|s| s.trim() == "merge")
            {
                return ListRule::Merge(key.to_string());
            }
            if text("x-kubernetes-list-type") == Some("map")
                && let Some(key) = value
                    .get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .and_then(|keys| keys.first())
                    .and_then(Value::as_str)
            {
                return ListRule::Merge(key.to_string());
            }
        }
        if self.value.get("type").and_then(Value::as_str) == Some("array") {
            ListRule::Replace
        } else {
            ListRule::Unknown
        }
    }

    /// The raw value of property `key` before `$ref` is followed.
    pub fn raw_property(self, key: &str) -> Option<&'a Value> {
        self.value.get("properties").and_then(|p| p.get(key))
    }
}
