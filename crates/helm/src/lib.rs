//! Helm charts rendered in Rust, as Helm v4 renders them: Go `text/template` semantics
//! (`template/`), Sprig and Helm's functions (`funcs/`), YAML read and written as Helm's
//! libraries do (`yaml.rs`), charts with subcharts, values, schemas, hooks and CRDs
//! (`chart.rs`, `render.rs`). Fidelity is measured against Helm's own library by the corpus in
//! `tests/conformance/helm` (see its README).

#![warn(missing_docs)]

mod archive;
pub mod chart;
pub mod deps;
mod funcs;
mod mpw;
pub mod render;
mod schema;
pub mod semver;
pub mod template;
pub mod value;
pub mod yaml;

pub use archive::unpack_chart;
pub use chart::{Chart, Dependency, Metadata};
pub use render::{
    Capabilities, Hook, INSTALL_ORDER, Manifest, Release, Rendered, merge_maps, render,
    split_manifests, values_file,
};
pub use value::Value;

/// The Kubernetes version `.Capabilities` reports when no cluster is asked (Helm's default
/// for `helm template`).
pub const DEFAULT_KUBE_VERSION: &str = "v1.36.0";

/// The Helm version `.Capabilities.HelmVersion` reports (Helm v4.2's library reports its
/// minor version only).
pub const HELM_VERSION: &str = "v4.2";

/// The API versions `.Capabilities.APIVersions` holds when no cluster is asked (Helm v4.2's
/// defaults, in its order; `Has` matches exactly).
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha2",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

/// Why a chart could not be rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HelmError {
    /// Something about the chart itself (Chart.yaml, dependencies, kubeVersion).
    #[error("{message}")]
    Chart {
        /// The chart directory.
        chart: String,
        /// What is wrong.
        message: String,
    },
    /// A file of the chart could not be read.
    #[error("{chart}/{file}:{line}: {message}")]
    File {
        /// The chart directory.
        chart: String,
        /// The file within it.
        file: String,
        /// 1-based line (0 when unknown).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A template failed to parse or run (Helm's wording, which names file, line and column).
    #[error("{message}")]
    Template {
        /// The message.
        message: String,
    },
    /// The values do not meet the chart's schema.
    #[error("{message}")]
    Values {
        /// The message.
        message: String,
    },
}

impl HelmError {
    pub(crate) fn chart(chart: &str, message: &str) -> HelmError {
        HelmError::Chart {
            chart: chart.to_string(),
            message: message.to_string(),
        }
    }

    pub(crate) fn file(chart: &str, file: &str, line: usize, message: &str) -> HelmError {
        HelmError::File {
            chart: chart.to_string(),
            file: file.to_string(),
            line,
            message: message.to_string(),
        }
    }
}

pub(crate) fn funcs_glob(pattern: &str, path: &str) -> bool {
    funcs::glob(pattern, path)
}

pub(crate) fn funcs_files_value(files: std::collections::BTreeMap<String, Vec<u8>>) -> Value {
    funcs::files_value(files)
}
