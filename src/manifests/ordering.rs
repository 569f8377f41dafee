//! Kubernetes ordering rules (DESIGN §3): what must exist before what, found in the
//! manifests themselves. Helm's kind order, the tiebreak among independent objects, is the
//! kubernetes provider's [`apply_rank`](braid_provider::Provider::apply_rank).

use std::collections::{BTreeMap, HashMap};

use braid_provider::Value;

/// Why one object must come before another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImplicitEdge {
    /// The address of the object that must exist first (`k8s/core/Namespace/_/shop`).
    pub before: String,
    /// The address of the object that needs it (`k8s/apps/Deployment/shop/web`).
    pub after: String,
    /// Which rule made the edge: `namespace`, `custom resource definition`, `used by the pod
    /// template` or `role of the binding`.
    pub reason: &'static str,
}

/// The identity of a manifest used by the rules.
#[derive(Debug, Clone)]
pub struct ObjectRef<'a> {
    /// The object's address, `k8s/GROUP/KIND/NAMESPACE/NAME` (`_` as namespace when
    /// cluster-scoped).
    pub address: &'a str,
    /// The API group, `core` for the core group (`apps`, `rbac.authorization.k8s.io`).
    pub group: &'a str,
    /// The kind (`Deployment`, `Namespace`).
    pub kind: &'a str,
    /// `None` for cluster-scoped objects.
    pub namespace: Option<&'a str>,
    /// The object's `metadata.name`.
    pub name: &'a str,
    /// The whole object, which rules read references from (a pod template's ConfigMaps and Secrets,
    /// a binding's role, a CRD's group and kind).
    pub document: &'a Value,
}

const WORKLOADS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
    "Pod",
];

/// Every implicit edge among `objects`.
pub fn implicit_edges(objects: &[ObjectRef<'_>]) -> Vec<ImplicitEdge> {
    let mut edges = Vec::new();
    let by_key: HashMap<(&str, Option<&str>, &str), &ObjectRef<'_>> = objects
        .iter()
        .map(|o| ((o.kind, o.namespace, o.name), o))
        .collect();
    let namespaces: BTreeMap<&str, &str> = objects
        .iter()
        .filter(|o| o.kind == "Namespace" && o.group == "core")
        .map(|o| (o.name, o.address))
        .collect();
    // Custom resource kinds defined by CRDs here: (group, kind) → CRD address.
    let mut crds: HashMap<(String, String), &str> = HashMap::new();
    for o in objects
        .iter()
        .filter(|o| o.kind == "CustomResourceDefinition")
    {
        let spec = o.document.attr("spec");
        let group = spec.and_then(|s| s.attr("group")).and_then(Value::as_str);
        let kind = spec
            .and_then(|s| s.attr("names"))
            .and_then(|n| n.attr("kind"))
            .and_then(Value::as_str);
        if let (Some(g), Some(k)) = (group, kind) {
            crds.insert((g.to_string(), k.to_string()), o.address);
        }
    }
    let mut push = |before: &str, after: &str, reason: &'static str| {
        if before != after {
            edges.push(ImplicitEdge {
                before: before.to_string(),
                after: after.to_string(),
                reason,
            });
        }
    };
    for o in objects {
        if let Some(ns) = o.namespace
            && let Some(ns_address) = namespaces.get(ns)
        {
            push(ns_address, o.address, "namespace");
        }
        if let Some(crd) = crds.get(&(o.group.to_string(), o.kind.to_string())) {
            push(crd, o.address, "custom resource definition");
        }
        if WORKLOADS.contains(&o.kind) {
            for (kind, name) in pod_template_references(o) {
                if let Some(target) = by_key.get(&(kind, o.namespace, name.as_str())) {
                    push(target.address, o.address, "used by the pod template");
                }
            }
        }
        if matches!(o.kind, "RoleBinding" | "ClusterRoleBinding") {
            let role = o.document.attr("roleRef");
            let kind = role.and_then(|r| r.attr("kind")).and_then(Value::as_str);
            let name = role.and_then(|r| r.attr("name")).and_then(Value::as_str);
            if let (Some(kind), Some(name)) = (kind, name) {
                let namespace = if kind == "Role" { o.namespace } else { None };
                if let Some(target) = by_key.get(&(kind, namespace, name)) {
                    push(target.address, o.address, "role of the binding");
                }
            }
        }
    }
    edges
}

/// The pod spec of a workload (CronJob: its job template's).
fn pod_spec<'a>(workload: &ObjectRef<'a>) -> Option<&'a Value> {
    let spec = workload.document.attr("spec")?;
    match workload.kind {
        "Pod" => Some(spec),
        "CronJob" => spec
            .attr("jobTemplate")?
            .attr("spec")?
            .attr("template")?
            .attr("spec"),
        _ => spec.attr("template")?.attr("spec"),
    }
}

/// ServiceAccounts, ConfigMaps, Secrets and PVCs a workload's pod template names.
fn pod_template_references(workload: &ObjectRef<'_>) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let Some(pod) = pod_spec(workload) else {
        return out;
    };
    let name_of = |v: Option<&Value>, key: &str| {
        v.and_then(|v| v.attr(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    if let Some(sa) =
        name_of(Some(pod), "serviceAccountName").or_else(|| name_of(Some(pod), "serviceAccount"))
    {
        out.push(("ServiceAccount", sa));
    }
    for secret in pod
        .attr("imagePullSecrets")
        .and_then(Value::as_list)
        .unwrap_or_default()
    {
        if let Some(n) = name_of(Some(secret), "name") {
            out.push(("Secret", n));
        }
    }
    for volume in pod
        .attr("volumes")
        .and_then(Value::as_list)
        .unwrap_or_default()
    {
        if let Some(n) = name_of(volume.attr("configMap"), "name") {
            out.push(("ConfigMap", n));
        }
        if let Some(n) = name_of(volume.attr("secret"), "secretName") {
            out.push(("Secret", n));
        }
        if let Some(n) = name_of(volume.attr("persistentVolumeClaim"), "claimName") {
            out.push(("PersistentVolumeClaim", n));
        }
        for source in volume
            .attr("projected")
            .and_then(|p| p.attr("sources"))
            .and_then(Value::as_list)
            .unwrap_or_default()
        {
            if let Some(n) = name_of(source.attr("configMap"), "name") {
                out.push(("ConfigMap", n));
            }
            if let Some(n) = name_of(source.attr("secret"), "name") {
                out.push(("Secret", n));
            }
        }
    }
    let containers = ["containers", "initContainers"]
        .iter()
        .flat_map(|k| pod.attr(k).and_then(Value::as_list).unwrap_or_default());
    for container in containers {
        for env in container
            .attr("env")
            .and_then(Value::as_list)
            .unwrap_or_default()
        {
            let from = env.attr("valueFrom");
            if let Some(n) = name_of(from.and_then(|f| f.attr("configMapKeyRef")), "name") {
                out.push(("ConfigMap", n));
            }
            if let Some(n) = name_of(from.and_then(|f| f.attr("secretKeyRef")), "name") {
                out.push(("Secret", n));
            }
        }
        for env_from in container
            .attr("envFrom")
            .and_then(Value::as_list)
            .unwrap_or_default()
        {
            if let Some(n) = name_of(env_from.attr("configMapRef"), "name") {
                out.push(("ConfigMap", n));
            }
            if let Some(n) = name_of(env_from.attr("secretRef"), "name") {
                out.push(("Secret", n));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object<'a>(
        address: &'a str,
        group: &'a str,
        kind: &'a str,
        ns: Option<&'a str>,
        name: &'a str,
        doc: &'a Value,
    ) -> ObjectRef<'a> {
        ObjectRef {
            address,
            group,
            kind,
            namespace: ns,
            name,
            document: doc,
        }
    }

    #[test]
    fn namespace_config_and_service_account_come_first() {
        let empty = Value::Null;
        let deployment: Value = Value::from_json(&serde_json::json!({
            "spec": { "template": { "spec": {
                "serviceAccountName": "web",
                "containers": [{ "name": "app", "envFrom": [{ "configMapRef": { "name": "settings" } }] }],
                "volumes": [{ "name": "data", "persistentVolumeClaim": { "claimName": "data" } }]
            }}}
        }));
        let objects = vec![
            object(
                "k8s/core/Namespace/_/shop",
                "core",
                "Namespace",
                None,
                "shop",
                &empty,
            ),
            object(
                "k8s/core/ServiceAccount/shop/web",
                "core",
                "ServiceAccount",
                Some("shop"),
                "web",
                &empty,
            ),
            object(
                "k8s/core/ConfigMap/shop/settings",
                "core",
                "ConfigMap",
                Some("shop"),
                "settings",
                &empty,
            ),
            object(
                "k8s/core/PersistentVolumeClaim/shop/data",
                "core",
                "PersistentVolumeClaim",
                Some("shop"),
                "data",
                &empty,
            ),
            object(
                "k8s/apps/Deployment/shop/web",
                "apps",
                "Deployment",
                Some("shop"),
                "web",
                &deployment,
            ),
        ];
        let edges = implicit_edges(&objects);
        let into_deployment: Vec<&str> = edges
            .iter()
            .filter(|e| e.after == "k8s/apps/Deployment/shop/web")
            .map(|e| e.before.as_str())
            .collect();
        assert_eq!(
            into_deployment,
            vec![
                "k8s/core/Namespace/_/shop",
                "k8s/core/ServiceAccount/shop/web",
                "k8s/core/PersistentVolumeClaim/shop/data",
                "k8s/core/ConfigMap/shop/settings",
            ]
        );
    }

    #[test]
    fn crd_before_its_custom_resources_and_roles_before_bindings() {
        let crd = Value::from_json(
            &serde_json::json!({"spec": {"group": "example.com", "names": {"kind": "Widget"}}}),
        );
        let binding =
            Value::from_json(&serde_json::json!({"roleRef": {"kind": "Role", "name": "reader"}}));
        let empty = Value::Null;
        let objects = vec![
            object(
                "k8s/apiextensions.k8s.io/CustomResourceDefinition/_/widgets.example.com",
                "apiextensions.k8s.io",
                "CustomResourceDefinition",
                None,
                "widgets.example.com",
                &crd,
            ),
            object(
                "k8s/example.com/Widget/shop/w1",
                "example.com",
                "Widget",
                Some("shop"),
                "w1",
                &empty,
            ),
            object(
                "k8s/rbac.authorization.k8s.io/Role/shop/reader",
                "rbac.authorization.k8s.io",
                "Role",
                Some("shop"),
                "reader",
                &empty,
            ),
            object(
                "k8s/rbac.authorization.k8s.io/RoleBinding/shop/reader",
                "rbac.authorization.k8s.io",
                "RoleBinding",
                Some("shop"),
                "reader",
                &binding,
            ),
        ];
        let edges = implicit_edges(&objects);
        assert!(edges.iter().any(|e| e.after.ends_with("Widget/shop/w1")
            && e.before.contains("CustomResourceDefinition")));
        assert!(
            edges
                .iter()
                .any(|e| e.after.ends_with("RoleBinding/shop/reader")
                    && e.before.ends_with("Role/shop/reader"))
        );
    }
}
