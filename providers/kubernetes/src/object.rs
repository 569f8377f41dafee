//! Which object a manifest or an id names, and the resource id braid records for it.

use std::fmt;

use braid_provider::Value;
use kube::api::GroupVersionKind;

use crate::error::ManifestError;
use crate::names::{self, NameRule};

/// The group name braid writes for the core API group (`""` in Kubernetes).
pub const CORE_GROUP: &str = "core";
/// The namespace segment of cluster-scoped objects in addresses and ids.
pub const CLUSTER_SCOPE: &str = "_";

/// One Kubernetes object: group/version/kind, namespace (None = cluster-scoped or not yet
/// resolved) and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// The API group, `""` for the core group.
    pub group: String,
    pub version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    /// The object a manifest (or a recorded state) describes.
    pub fn from_manifest(manifest: &Value) -> Result<ObjectRef, ManifestError> {
        let api_version = required_string(manifest.attr("apiVersion"), "apiVersion")?;
        let kind = required_string(manifest.attr("kind"), "kind")?;
        let metadata = manifest.attr("metadata");
        let name = required_string(metadata.and_then(|m| m.attr("name")), "metadata.name")?;
        let namespace = match metadata.and_then(|m| m.attr("namespace")) {
            None | Some(Value::Null) => None,
            Some(Value::String(ns)) if ns.is_empty() => None,
            Some(Value::String(ns)) => Some(ns.clone()),
            Some(Value::Unknown) => {
                return Err(ManifestError::Unknown {
                    field: "metadata.namespace",
                });
            }
            Some(other) => {
                return Err(ManifestError::NotAString {
                    field: "metadata.namespace",
                    found: other.kind().to_string(),
                });
            }
        };
        for map in ["labels", "annotations"] {
            let Some(Value::Map(entries)) = metadata.and_then(|m| m.attr(map)) else {
                continue;
            };
            for (key, value) in entries {
                if !matches!(value, Value::String(_) | Value::Unknown | Value::Null) {
                    return Err(ManifestError::NotAStringValue {
                        field: format!("metadata.{map}.{key}"),
                        found: match value.kind() {
                            braid_provider::ValueKind::Map => "an object".to_string(),
                            kind => format!("a {kind}"),
                        },
                    });
                }
            }
        }
        let (group, version) = split_api_version(&api_version);
        ObjectRef {
            group,
            version,
            kind,
            namespace,
            name,
        }
        .checked()
    }

    /// This object, if its name and namespace follow Kubernetes' rules (a name per its
    /// kind, a namespace as a DNS label): they go into API URLs.
    fn checked(self) -> Result<ObjectRef, ManifestError> {
        let rule = names::name_rule(&self.group, &self.kind);
        if !names::follows(&self.name, rule) {
            return Err(ManifestError::InvalidName {
                field: "metadata.name",
                value: self.name,
                rule,
            });
        }
        if let Some(ns) = &self.namespace
            && !names::follows(ns, NameRule::DnsLabel)
        {
            return Err(ManifestError::InvalidName {
                field: "metadata.namespace",
                value: ns.clone(),
                rule: NameRule::DnsLabel,
            });
        }
        Ok(self)
    }

    /// Parses an import id: `GROUP/VERSION/KIND/NAMESPACE/NAME`, or the address form
    /// `k8s/GROUP/KIND/NAMESPACE/NAME` (version `None`: the server's preferred one).
    pub fn parse_id(id: &str) -> Result<(ObjectRef, bool), ManifestError> {
        let parts: Vec<&str> = id.split('/').collect();
        let bad = || ManifestError::BadImportId(id.to_string());
        let (group, version, kind, namespace, name, versioned) = match parts.as_slice() {
            ["k8s", group, kind, namespace, name] => (*group, "", *kind, *namespace, *name, false),
            [group, version, kind, namespace, name] => {
                (*group, *version, *kind, *namespace, *name, true)
            }
            _ => return Err(bad()),
        };
        if [group, kind, namespace, name].iter().any(|p| p.is_empty())
            || (versioned && version.is_empty())
        {
            return Err(bad());
        }
        let object = ObjectRef {
            group: if group == CORE_GROUP {
                String::new()
            } else {
                group.to_string()
            },
            version: version.to_string(),
            kind: kind.to_string(),
            namespace: (namespace != CLUSTER_SCOPE).then(|| namespace.to_string()),
            name: name.to_string(),
        };
        Ok((object.checked()?, versioned))
    }

    pub fn gvk(&self) -> GroupVersionKind {
        GroupVersionKind::gvk(&self.group, &self.version, &self.kind)
    }

    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The id braid records: `GROUP/VERSION/KIND/NAMESPACE/NAME` (`core`, `_`), which is
    /// also what `import` accepts. Known at plan time and stable across reads.
    pub fn id(&self) -> String {
        format!(
            "{}/{}/{}/{}/{}",
            if self.group.is_empty() {
                CORE_GROUP
            } else {
                &self.group
            },
            self.version,
            self.kind,
            self.namespace.as_deref().unwrap_or(CLUSTER_SCOPE),
            self.name
        )
    }

    /// Fixes the namespace once discovery says whether the kind is namespaced.
    pub fn scoped(mut self, namespaced: bool, default_namespace: &str) -> ObjectRef {
        if !namespaced {
            self.namespace = None;
        } else if self.namespace.is_none() {
            self.namespace = Some(default_namespace.to_string());
        }
        self
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

fn split_api_version(api_version: &str) -> (String, String) {
    match api_version.split_once('/') {
        Some((group, version)) => (group.to_string(), version.to_string()),
        None => (String::new(), api_version.to_string()),
    }
}

fn required_string(value: Option<&Value>, field: &'static str) -> Result<String, ManifestError> {
    match value {
        None | Some(Value::Null) => Err(ManifestError::Missing(field)),
        Some(Value::String(s)) if s.is_empty() => Err(ManifestError::Missing(field)),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Unknown) => Err(ManifestError::Unknown { field }),
        Some(other) => Err(ManifestError::NotAString {
            field,
            found: other.kind().to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(api_version: &str, kind: &str, namespace: Option<&str>) -> Value {
        let mut metadata = vec![("name", Value::from("web"))];
        if let Some(ns) = namespace {
            metadata.push(("namespace", Value::from(ns)));
        }
        Value::map([
            ("apiVersion", Value::from(api_version)),
            ("kind", Value::from(kind)),
            ("metadata", Value::map(metadata)),
        ])
    }

    #[test]
    fn ids_round_trip_through_import() {
        let object = ObjectRef::from_manifest(&manifest("apps/v1", "Deployment", Some("shop")))
            .expect("valid");
        assert_eq!(object.id(), "apps/v1/Deployment/shop/web");
        let (parsed, versioned) = ObjectRef::parse_id(&object.id()).expect("valid id");
        assert!(versioned);
        assert_eq!(parsed, object);

        let ns = ObjectRef::from_manifest(&manifest("v1", "Namespace", None)).expect("valid");
        assert_eq!(ns.id(), "core/v1/Namespace/_/web");
        assert_eq!(ObjectRef::parse_id(&ns.id()).expect("valid").0, ns);
    }

    #[test]
    fn address_form_has_no_version() {
        let (object, versioned) =
            ObjectRef::parse_id("k8s/core/ConfigMap/shop/settings").expect("valid");
        assert!(!versioned);
        assert_eq!(object.group, "");
        assert_eq!(object.namespace.as_deref(), Some("shop"));
        assert!(ObjectRef::parse_id("apps/Deployment/web").is_err());
    }

    #[test]
    fn unknown_names_are_rejected() {
        let mut m = manifest("v1", "ConfigMap", None);
        m.set(
            &braid_provider::Path::parse("metadata.name").expect("path"),
            Value::Unknown,
        );
        assert!(matches!(
            ObjectRef::from_manifest(&m),
            Err(ManifestError::Unknown { .. })
        ));
    }
}
