//! The order in which Kubernetes objects that are ready together are applied: Helm's
//! install order by kind, so a cluster sees Namespaces and CRDs before the objects that need
//! them even when nothing in the manifests says so.

/// Helm's install order (braid-helm's copy of Helm's `InstallOrder`); kinds not listed come
/// after all listed ones.
const HELM_ORDER: &[&str] = braid_helm::INSTALL_ORDER;

/// The install rank of a kind (lower first).
pub(crate) fn helm_rank(kind: &str) -> usize {
    HELM_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(HELM_ORDER.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_come_before_workloads_and_unknown_kinds_last() {
        assert!(helm_rank("Namespace") < helm_rank("Deployment"));
        assert!(helm_rank("CustomResourceDefinition") < helm_rank("Deployment"));
        assert_eq!(helm_rank("Widget"), HELM_ORDER.len());
    }
}
