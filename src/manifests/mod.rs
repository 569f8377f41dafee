//! Kubernetes manifests as resources of the graph.
//!
//! Every YAML document of a source is one resource at `k8s/GROUP/KIND/NAMESPACE/NAME`
//! (`List` kinds expanded). Directories with a `kustomization.yaml` are rendered the
//! Kustomize way (the `braid-kustomize` crate), with `environment.overlay` choosing `overlays/<name>`.
//! Strings may embed `${{ EXPR }}` references (`template`), which become graph edges like
//! HCL references; Kubernetes' own ordering rules add more edges (`ordering`).

mod chart_repo;
pub mod helm;
mod load;
mod ordering;
pub mod remote_bases;
mod template;

pub use braid_kustomize::is_cluster_scoped;
pub use load::{
    SourceDocument, crd_scopes, load_manifests, manifest_resources, plan_rendering,
    source_documents,
};

/// The target cluster's discovery (version, API versions, which kinds are namespaced), asked
/// at most once per configuration load and only when something needs it: a chart's
/// `.Capabilities`, or the scope of a custom kind whose CRD no source holds.
pub struct ClusterDiscovery {
    config: braid_provider::Value,
    answer: Option<Result<helm::ClusterCapabilities, String>>,
    /// OpenAPI v3 documents asked for, by apiVersion (`None`: the cluster has none, or
    /// cannot be asked).
    schemas: std::sync::Mutex<std::collections::HashMap<String, Option<serde_json::Value>>>,
}

impl ClusterDiscovery {
    /// Discovery of the cluster the `kubernetes` provider block `config` names.
    pub fn new(config: braid_provider::Value) -> ClusterDiscovery {
        ClusterDiscovery {
            config,
            answer: None,
            schemas: std::sync::Mutex::default(),
        }
    }

    /// The cluster's OpenAPI v3 document of `api_version` (`apps/v1`, `example.com/v1`),
    /// asked once per load; `None` when the cluster lists none or cannot be asked.
    pub fn openapi_v3(&self, api_version: &str) -> Option<serde_json::Value> {
        let mut cache = self
            .schemas
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(known) = cache.get(api_version) {
            return known.clone();
        }
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let config = &self.config;
        let answer = std::thread::scope(|s| {
            s.spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                runtime
                    .block_on(braid_provider_kubernetes::openapi_v3(
                        config, group, version,
                    ))
                    .ok()
                    .flatten()
            })
            .join()
            .ok()
            .flatten()
        });
        cache.insert(api_version.to_string(), answer.clone());
        answer
    }

    /// The cluster's answer, or why it could not be asked.
    pub fn get(&mut self) -> Result<&helm::ClusterCapabilities, &str> {
        let config = &self.config;
        self.answer
            .get_or_insert_with(|| helm::cluster_capabilities(config))
            .as_ref()
            .map_err(String::as_str)
    }
}

/// Runs `f` on a thread with a large stack: template rendering recurses as deep as a chart's
/// `include`s (Helm allows 1000), more than a default thread's stack holds.
pub(crate) fn with_render_stack<T: Send>(
    f: impl FnOnce() -> T + Send,
) -> Result<T, crate::diag::Diagnostic> {
    const STACK: usize = 256 * 1024 * 1024;
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name("render".to_string())
            .stack_size(STACK)
            .spawn_scoped(scope, f)
            .map_err(|e| {
                crate::diag::Diagnostic::error(
                    "Cannot render templates",
                    format!(
                        "No thread could be started to render Helm and Kustomize templates: {e}."
                    ),
                )
            })?;
        match handle.join() {
            Ok(value) => Ok(value),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// The annotation listing extra dependencies: `"aws_sqs_queue.jobs, k8s/core/Secret/shop/db"`.
pub const DEPENDS_ON_ANNOTATION: &str = "braid.dev/depends-on";
/// `"false"` keeps an object in the cluster when its manifest is removed.
pub const PRUNE_ANNOTATION: &str = "braid.dev/prune";

pub use crate::config::{TemplateField, TemplatePart};
pub use ordering::{ImplicitEdge, ObjectRef, implicit_edges};
pub use template::find_templates;

/// The address of a Kubernetes object: `k8s/GROUP/KIND/NAMESPACE/NAME`, GROUP `core` for
/// the core group and NAMESPACE `_` for cluster-scoped objects.
pub fn address(group: &str, kind: &str, namespace: Option<&str>, name: &str) -> String {
    let group = if group.is_empty() { "core" } else { group };
    format!("k8s/{group}/{kind}/{}/{name}", namespace.unwrap_or("_"))
}

/// The parts of an address made by [`address`], or `None` for other addresses.
pub fn parse_address(address: &str) -> Option<(&str, &str, Option<&str>, &str)> {
    let rest = address.strip_prefix("k8s/")?;
    let mut parts = rest.splitn(4, '/');
    let group = parts.next()?;
    let kind = parts.next()?;
    let namespace = parts.next()?;
    let name = parts.next()?;
    Some((group, kind, (namespace != "_").then_some(namespace), name))
}

/// The API group of an `apiVersion`: `apps/v1` → `apps`, `v1` → `core`.
pub fn group_of(api_version: &str) -> &str {
    match api_version.split_once('/') {
        Some((group, _)) => group,
        None => "core",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip() {
        let a = address("core", "Namespace", None, "shop");
        assert_eq!(a, "k8s/core/Namespace/_/shop");
        assert_eq!(parse_address(&a), Some(("core", "Namespace", None, "shop")));
        let d = address(group_of("apps/v1"), "Deployment", Some("shop"), "checkout");
        assert_eq!(d, "k8s/apps/Deployment/shop/checkout");
        assert_eq!(group_of("v1"), "core");
    }
}
