//! The resource catalogue: which kinds the emulator serves, under which group/version and
//! plural, whether they are namespaced, their verbs, short names and subresources.
//!
//! Built-in kinds are fixed; kinds from CustomResourceDefinitions are added and removed as
//! CRDs are created and deleted. Discovery documents and request routing both read this.

use serde_json::Value;

/// Verbs of an ordinary namespaced or cluster-scoped collection.
pub const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// One served resource (one group/version/plural).
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceType {
    /// API group, "" for core.
    pub group: String,
    /// API version within the group.
    pub version: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// Plural resource name used in paths, e.g. `deployments`.
    pub plural: String,
    /// Singular name, e.g. `deployment`.
    pub singular: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// `kubectl` short names.
    pub short_names: Vec<String>,
    /// Categories such as `all`.
    pub categories: Vec<String>,
    /// Verbs allowed on the main resource.
    pub verbs: Vec<String>,
    /// Whether a `/status` subresource exists (status is then ignored on main writes).
    pub has_status: bool,
    /// Whether `metadata.generation` is maintained for this kind.
    pub has_generation: bool,
    /// False for kinds defined by a CRD.
    pub builtin: bool,
    /// Where the `/scale` subresource reads and writes, when there is one.
    pub scale: Option<ScalePaths>,
}

/// Where a `/scale` subresource reads and writes replicas, as dotted field paths.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalePaths {
    /// `spec.replicas` for the built-in kinds.
    pub spec_replicas: String,
    /// `status.replicas` for the built-in kinds.
    pub status_replicas: String,
    /// Where a CRD keeps its selector as a string; `None` for built-in kinds, whose
    /// `spec.selector` object is printed instead.
    pub label_selector: Option<String>,
}

impl ScalePaths {
    fn builtin() -> Self {
        ScalePaths {
            spec_replicas: "spec.replicas".into(),
            status_replicas: "status.replicas".into(),
            label_selector: None,
        }
    }

    /// The `subresources.scale` block of a CRD version.
    fn of_crd(scale: &Value) -> Option<Self> {
        let path = |field: &str| {
            scale[field]
                .as_str()
                .map(|p| p.trim_start_matches('.').to_string())
        };
        Some(ScalePaths {
            spec_replicas: path("specReplicasPath")?,
            status_replicas: path("statusReplicasPath")?,
            label_selector: path("labelSelectorPath"),
        })
    }
}

impl ResourceType {
    /// `apps/v1` or `v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Storage key shared by all versions of one resource.
    pub fn key(&self) -> ResourceKey {
        ResourceKey {
            group: self.group.clone(),
            plural: self.plural.clone(),
        }
    }

    /// Whether the main resource allows `verb`.
    pub fn allows(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }
}

/// Identifies a resource independent of version: group + plural.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceKey {
    /// API group, "" for core.
    pub group: String,
    /// Plural resource name.
    pub plural: String,
}

/// Compact description of a built-in kind: (group, version, kind, plural, namespaced,
/// short names, has status subresource, has generation).
type Builtin = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
    &'static [&'static str],
    bool,
    bool,
);

const BUILTINS: &[Builtin] = &[
    (
        "",
        "v1",
        "Namespace",
        "namespaces",
        false,
        &["ns"],
        true,
        false,
    ),
    (
        "",
        "v1",
        "ConfigMap",
        "configmaps",
        true,
        &["cm"],
        false,
        false,
    ),
    ("", "v1", "Secret", "secrets", true, &[], false, false),
    ("", "v1", "Service", "services", true, &["svc"], true, false),
    (
        "",
        "v1",
        "ServiceAccount",
        "serviceaccounts",
        true,
        &["sa"],
        false,
        false,
    ),
    (
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
        &["pvc"],
        true,
        false,
    ),
    ("", "v1", "Pod", "pods", true, &["po"], true, false),
    ("", "v1", "Event", "events", true, &["ev"], false, false),
    (
        "apps",
        "v1",
        "Deployment",
        "deployments",
        true,
        &["deploy"],
        true,
        true,
    ),
    (
        "apps",
        "v1",
        "StatefulSet",
        "statefulsets",
        true,
        &["sts"],
        true,
        true,
    ),
    (
        "apps",
        "v1",
        "DaemonSet",
        "daemonsets",
        true,
        &["ds"],
        true,
        true,
    ),
    (
        "apps",
        "v1",
        "ReplicaSet",
        "replicasets",
        true,
        &["rs"],
        true,
        true,
    ),
    ("batch", "v1", "Job", "jobs", true, &[], true, true),
    (
        "batch",
        "v1",
        "CronJob",
        "cronjobs",
        true,
        &["cj"],
        true,
        true,
    ),
    (
        "networking.k8s.io",
        "v1",
        "Ingress",
        "ingresses",
        true,
        &["ing"],
        true,
        true,
    ),
    (
        "networking.k8s.io",
        "v1",
        "IngressClass",
        "ingressclasses",
        false,
        &[],
        false,
        true,
    ),
    (
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        true,
        &["netpol"],
        false,
        true,
    ),
    (
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
        &["hpa"],
        true,
        false,
    ),
    (
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
        &["pdb"],
        true,
        true,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "Role",
        "roles",
        true,
        &[],
        false,
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        true,
        &[],
        false,
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        false,
        &[],
        false,
        false,
    ),
    (
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
        &[],
        false,
        false,
    ),
    (
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
        &["crd", "crds"],
        true,
        true,
    ),
    (
        "events.k8s.io",
        "v1",
        "Event",
        "events",
        true,
        &["ev"],
        false,
        false,
    ),
    (
        "storage.k8s.io",
        "v1",
        "StorageClass",
        "storageclasses",
        false,
        &["sc"],
        false,
        false,
    ),
];

/// Kinds that `kubectl get all` shows.
const IN_CATEGORY_ALL: &[&str] = &[
    "pods",
    "services",
    "deployments",
    "statefulsets",
    "daemonsets",
    "replicasets",
    "jobs",
    "cronjobs",
    "horizontalpodautoscalers",
];

/// All served resource types, built-in first, then CRD-defined ones.
#[derive(Debug, Clone)]
pub struct Catalogue {
    types: Vec<ResourceType>,
}

impl Default for Catalogue {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Catalogue {
    /// The catalogue with only the built-in kinds.
    pub fn builtin() -> Self {
        let types = BUILTINS
            .iter()
            .map(
                |&(group, version, kind, plural, namespaced, short, has_status, has_generation)| {
                    let verbs: Vec<String> = if plural == "namespaces" {
                        ALL_VERBS
                            .iter()
                            .filter(|v| **v != "deletecollection")
                            .map(|v| v.to_string())
                            .collect()
                    } else {
                        ALL_VERBS.iter().map(|v| v.to_string()).collect()
                    };
                    ResourceType {
                        group: group.into(),
                        version: version.into(),
                        kind: kind.into(),
                        plural: plural.into(),
                        singular: kind.to_lowercase(),
                        namespaced,
                        short_names: short.iter().map(|s| s.to_string()).collect(),
                        categories: if IN_CATEGORY_ALL.contains(&plural) {
                            vec!["all".to_string()]
                        } else {
                            Vec::new()
                        },
                        verbs,
                        has_status,
                        has_generation,
                        builtin: true,
                        scale: (group == "apps"
                            && matches!(kind, "Deployment" | "StatefulSet" | "ReplicaSet"))
                        .then(ScalePaths::builtin),
                    }
                },
            )
            .collect();
        Catalogue { types }
    }

    /// Every served type.
    pub fn types(&self) -> &[ResourceType] {
        &self.types
    }

    /// The type served at `group/version/plural`.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceType> {
        self.types
            .iter()
            .find(|t| t.group == group && t.version == version && t.plural == plural)
    }

    /// Any served version of `group/plural` (used for storage-level work like GC).
    pub fn find_any_version(&self, key: &ResourceKey) -> Option<&ResourceType> {
        self.types
            .iter()
            .find(|t| t.group == key.group && t.plural == key.plural)
    }

    /// The type for an `apiVersion` + `kind` pair.
    pub fn find_kind(&self, api_version: &str, kind: &str) -> Option<&ResourceType> {
        self.types
            .iter()
            .find(|t| t.api_version() == api_version && t.kind == kind)
    }

    /// Whether `group/version` is served at all.
    pub fn serves_group_version(&self, group: &str, version: &str) -> bool {
        self.types
            .iter()
            .any(|t| t.group == group && t.version == version)
    }

    /// Groups in first-seen order with their versions (preferred first).
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for t in &self.types {
            match groups.iter_mut().find(|(g, _)| *g == t.group) {
                Some((_, versions)) => {
                    if !versions.contains(&t.version) {
                        versions.push(t.version.clone());
                    }
                }
                None => groups.push((t.group.clone(), vec![t.version.clone()])),
            }
        }
        groups
    }

    /// Registers (or re-registers) the kinds a CRD defines. Returns an error text when the
    /// CRD is malformed, used for a 422.
    pub fn add_crd(&mut self, crd: &Value) -> Result<(), String> {
        let types = crd_types(crd)?;
        self.remove_crd(crd);
        self.types.extend(types);
        Ok(())
    }

    /// Removes the kinds a CRD defined.
    pub fn remove_crd(&mut self, crd: &Value) {
        let group = crd["spec"]["group"].as_str().unwrap_or_default();
        let plural = crd["spec"]["names"]["plural"].as_str().unwrap_or_default();
        self.types
            .retain(|t| t.builtin || !(t.group == group && t.plural == plural));
    }
}

/// The resource types a CRD object defines (one per served version).
pub fn crd_types(crd: &Value) -> Result<Vec<ResourceType>, String> {
    let spec = &crd["spec"];
    let group = spec["group"]
        .as_str()
        .filter(|g| !g.is_empty())
        .ok_or("spec.group: Required value")?;
    let names = &spec["names"];
    let plural = names["plural"]
        .as_str()
        .filter(|p| !p.is_empty())
        .ok_or("spec.names.plural: Required value")?;
    let kind = names["kind"]
        .as_str()
        .filter(|k| !k.is_empty())
        .ok_or("spec.names.kind: Required value")?;
    let singular = names["singular"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| kind.to_lowercase());
    let expected_name = format!("{plural}.{group}");
    let name = crd["metadata"]["name"].as_str().unwrap_or_default();
    if name != expected_name {
        return Err(format!(
            "metadata.name: Invalid value: \"{name}\": must be spec.names.plural+\".\"+spec.group"
        ));
    }
    let namespaced = match spec["scope"].as_str() {
        Some("Namespaced") => true,
        Some("Cluster") => false,
        _ => return Err("spec.scope: Required value".to_string()),
    };
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let versions = spec["versions"]
        .as_array()
        .filter(|v| !v.is_empty())
        .ok_or("spec.versions: Required value")?;
    let mut types = Vec::new();
    for version in versions {
        if version["served"].as_bool() == Some(false) {
            continue;
        }
        let name = version["name"]
            .as_str()
            .ok_or("spec.versions[].name: Required value")?;
        types.push(ResourceType {
            group: group.to_string(),
            version: name.to_string(),
            kind: kind.to_string(),
            plural: plural.to_string(),
            singular: singular.clone(),
            namespaced,
            short_names: strings(&names["shortNames"]),
            categories: strings(&names["categories"]),
            verbs: ALL_VERBS.iter().map(|v| v.to_string()).collect(),
            has_status: version["subresources"]["status"].is_object(),
            has_generation: true,
            builtin: false,
            scale: ScalePaths::of_crd(&version["subresources"]["scale"]),
        });
    }
    Ok(types)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builtin_covers_required_kinds() {
        let cat = Catalogue::builtin();
        assert!(cat.find("apps", "v1", "deployments").is_some());
        assert_eq!(
            cat.find("", "v1", "namespaces").map(|t| t.namespaced),
            Some(false)
        );
        assert_eq!(cat.types().len(), 26);
    }

    #[test]
    fn crd_adds_and_removes_kinds() {
        let mut cat = Catalogue::builtin();
        let crd = json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget"},
                "versions": [{"name": "v1", "served": true, "storage": true,
                    "subresources": {"status": {}}}]}
        });
        cat.add_crd(&crd).expect("valid crd");
        let t = cat
            .find("example.com", "v1", "widgets")
            .expect("registered");
        assert!(t.has_status);
        cat.remove_crd(&crd);
        assert!(cat.find("example.com", "v1", "widgets").is_none());
    }
}
