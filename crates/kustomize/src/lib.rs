//! A Kustomize-subset renderer: turns a directory holding a `kustomization.yaml` into the
//! Kubernetes objects `kustomize build` would produce, each with the file and line it came from.
//!
//! Supported: `resources` (files and directories, overlays on bases, cycle detection),
//! `namespace`, `namePrefix`/`nameSuffix` with reference rewriting, `commonLabels`/`labels`,
//! `commonAnnotations`, `images`, `replicas`, `patches` / `patchesStrategicMerge` /
//! `patchesJson6902`, `configMapGenerator`/`secretGenerator` with Kustomize's content-hash
//! name suffix, `components`, `replacements`, `vars` (in workload fields), and
//! `buildMetadata` (origin annotations, managed-by label), and built-in plugin configs in
//! `generators`/`transformers`.
//! `helmCharts` vendored in the source are rendered by `braid-helm`. Remote bases and
//! components (git URLs) are read through [`Files::remote`], which the caller fills by
//! fetching them. Fields that need plugins are rejected with a hint. Fidelity is
//! measured against `kubectl kustomize` by the corpus in `tests/conformance/kustomize` (see
//! its README).
//!
//! Steps run per kustomization in Kustomize's order (see `build.rs`): resources and generators,
//! patches, namespace, prefix/suffix, labels, annotations, JSON 6902 patches, replicas, images,
//! then references are rewritten; the hash suffix is added last, at the top level only.
//! Unlike `kustomize build`, objects keep the order they were listed in (braid's graph orders them).

#![warn(missing_docs)]

mod build;
mod config;
mod error;
mod fieldspec;
mod generators;
mod hash;
mod helm_charts;
mod images;
mod json6902;
mod kustomization;
mod memory;
mod namereference;
mod patch;
mod plugins;
mod regex;
mod replacements;
mod resources;
mod schema;
mod selector;
mod strategic_merge;
mod transform;
mod vars;
mod yaml;

#[cfg(test)]
mod test_support;

use serde_json::{Map, Value};

pub use error::KustomizeError;
pub use memory::MemoryFiles;
pub use yaml::parse_documents;

/// Read access to a source's files (in memory; paths are relative to the source root,
/// '/'-separated, no leading "./").
pub trait Files {
    /// The text of the file at `path`, or `None` when there is no such file.
    fn read(&self, path: &str) -> Option<&str>;
    /// Direct children (files and directories) of `dir` ("" = root), as full relative paths.
    fn list(&self, dir: &str) -> Vec<String>;
    /// Whether `path` is a directory.
    fn is_dir(&self, path: &str) -> bool;
    /// Where the files of a remote base or component (`https://host/org/repo//dir?ref=v1`,
    /// `github.com/org/repo/dir`, `git@host:org/repo.git/dir`) were placed: a directory
    /// under [`REMOTE_ROOT`]. `None` (the default) when remote entries are not fetched.
    fn remote(&self, _entry: &str) -> Option<String> {
        None
    }
    /// The target cluster's OpenAPI v3 document of `api_version` (`/openapi/v3/apis/G/V`),
    /// for strategic merge of custom kinds whose schema no kustomization gives. `None` (the
    /// default) when there is no cluster to ask.
    fn cluster_schema(&self, _api_version: &str) -> Option<Value> {
        None
    }
}

/// API groups Kubernetes serves itself; any other group's kinds are custom resources.
pub const BUILT_IN_GROUPS: &[&str] = &[
    "",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "extensions",
    "flowcontrol.apiserver.k8s.io",
    "internal.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "resource.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
    "storagemigration.k8s.io",
];

/// The directory under which the caller places fetched remote bases, one folder per
/// repository and ref (`@remote/KEY/...`). A kustomization inside one may not reach out of
/// its repository's folder.
pub const REMOTE_ROOT: &str = "@remote";

/// Whether a `resources`/`components` entry names a remote base rather than a path.
pub fn is_remote(entry: &str) -> bool {
    resources::is_remote(entry)
}

/// One rendered Kubernetes object and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedDocument {
    /// The file the document came from (relative path), or for generated objects the
    /// kustomization.yaml that generated it.
    pub origin: String,
    /// 1-based line in `origin` where the document starts (1 for generated ones).
    pub line: usize,
    /// The object itself, as JSON.
    pub document: serde_json::Value,
}

/// Renders the kustomization in directory `dir` (which must contain kustomization.yaml /
/// kustomization.yml / Kustomization).
pub fn render(files: &dyn Files, dir: &str) -> Result<Vec<RenderedDocument>, KustomizeError> {
    build::render(files, dir)
}

/// Whether the built-in kind called `kind` is cluster-scoped (for references, which name
/// built-in kinds). Unknown kinds, such as custom resources, are taken as namespaced, as
/// Kustomize does.
pub fn is_cluster_scoped(kind: &str) -> bool {
    CLUSTER_SCOPED_KINDS.iter().any(|(_, k)| *k == kind)
}

/// Whether objects of `kind` in API group `group` (`""` for the core group, as in `v1`) are
/// cluster-scoped: only Kubernetes' own cluster-scoped kinds in their own groups are — a
/// custom kind named `Namespace` in `example.com` is namespaced.
pub fn is_cluster_scoped_in(group: &str, kind: &str) -> bool {
    CLUSTER_SCOPED_KINDS.contains(&(group, kind))
}

/// The API group of an `apiVersion` (`apps/v1` → `apps`, `v1` → the core group `""`).
pub fn group_of_api_version(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

const CLUSTER_SCOPED_KINDS: [(&str, &str); 27] = [
    ("apiregistration.k8s.io", "APIService"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("", "ComponentStatus"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("networking.k8s.io", "IngressClass"),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("policy", "PodSecurityPolicy"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    ("node.k8s.io", "RuntimeClass"),
    ("authorization.k8s.io", "SelfSubjectAccessReview"),
    ("authorization.k8s.io", "SelfSubjectRulesReview"),
    ("storage.k8s.io", "StorageClass"),
    ("authorization.k8s.io", "SubjectAccessReview"),
    ("authentication.k8s.io", "TokenReview"),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
    ),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    ("storage.k8s.io", "VolumeAttachment"),
];

/// An object while it moves through the steps of a kustomization.
#[derive(Debug, Clone)]
pub(crate) struct Resource {
    pub origin: String,
    pub line: usize,
    pub doc: Value,
    /// Every name the object has had, oldest first, so references written against an
    /// earlier name (in a base, before a prefix) can be rewritten to the final one.
    pub previous_names: Vec<String>,
    /// A generated ConfigMap/Secret that gets the content-hash suffix at the end.
    pub hash_suffix: bool,
    /// The namespaces the object had before `namespace:` moved it (`default` for none), so
    /// references written against them still find it.
    pub previous_namespaces: Vec<String>,
    /// The kinds the object had before a patch changed its kind (`allowKindChange`), each
    /// with the names it had under that kind, so a later patch naming it as it was written
    /// still finds it, as Kustomize finds it by its original id.
    pub previous_kinds: Vec<(String, Vec<String>)>,
    /// The vars whose `objref` the kustomization declaring them bound to this object.
    pub vars: Vec<String>,
    /// For an object a built-in generator plugin config made: the config's name (its
    /// origin annotation names the config).
    pub generated_by: Option<String>,
}

impl Resource {
    pub fn new(origin: String, line: usize, doc: Value) -> Self {
        let name = string_at(&doc, &["metadata", "name"])
            .unwrap_or_default()
            .to_string();
        Self {
            origin,
            line,
            doc,
            previous_names: vec![name],
            previous_namespaces: Vec::new(),
            hash_suffix: false,
            previous_kinds: Vec::new(),
            vars: Vec::new(),
            generated_by: None,
        }
    }

    pub fn kind(&self) -> &str {
        string_at(&self.doc, &["kind"]).unwrap_or_default()
    }

    pub fn api_version(&self) -> &str {
        string_at(&self.doc, &["apiVersion"]).unwrap_or_default()
    }

    /// The API group ("" for the core group).
    pub fn group(&self) -> &str {
        match self.api_version().split_once('/') {
            Some((group, _)) => group,
            None => "",
        }
    }

    pub fn name(&self) -> &str {
        string_at(&self.doc, &["metadata", "name"]).unwrap_or_default()
    }

    pub fn namespace(&self) -> Option<&str> {
        string_at(&self.doc, &["metadata", "namespace"])
    }

    /// Whether `name` is the current name or one the object had before.
    pub fn had_name(&self, name: &str) -> bool {
        self.name() == name || self.previous_names.iter().any(|previous| previous == name)
    }

    pub fn set_name(&mut self, name: String) {
        let current = self.name().to_string();
        if !self.previous_names.contains(&current) {
            self.previous_names.push(current);
        }
        self.metadata_mut()
            .insert("name".to_string(), Value::String(name));
    }

    /// `metadata` as a map, created if missing.
    pub fn metadata_mut(&mut self) -> &mut Map<String, Value> {
        object_field(&mut self.doc, "metadata")
    }

    /// A short description for messages: `Deployment/web`.
    pub fn describe(&self) -> String {
        format!("{}/{}", self.kind(), self.name())
    }
}

/// The string at `path` inside `value`.
pub(crate) fn string_at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter()
        .try_fold(value, |value, key| value.get(key))
        .and_then(Value::as_str)
}

/// The map under `key` in `value` (turned into a map, and the key created, if needed).
pub(crate) fn object_field<'v>(value: &'v mut Value, key: &str) -> &'v mut Map<String, Value> {
    let field = as_object(value)
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    as_object(field)
}

/// `value` as a map, replacing it by an empty map if it is something else.
pub(crate) fn as_object(value: &mut Value) -> &mut Map<String, Value> {
    if !value.is_object() {
        *value = Value::Object(Map::new());
    }
    value
        .as_object_mut()
        .expect("the value is an object because it was just replaced by one")
}
