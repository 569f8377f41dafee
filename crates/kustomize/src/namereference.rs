//! Name references: after objects are renamed (prefix, suffix, hash suffix), fields that name
//! them in other objects — a pod's ConfigMap volume, a RoleBinding's roleRef, an Ingress
//! backend — are rewritten to the new name, following Kustomize's `nameReference` config.

use serde_json::Value;

use super::fieldspec::visit_path;
use super::{KustomizeError, Resource, is_cluster_scoped};

/// One kind of reference: objects of kind `referral` are named at `path` in `referrers`.
struct Reference {
    referral: &'static str,
    referrers: &'static [&'static str],
    path: String,
    /// `path` leads to a map with `kind` and `name` (roleRef, subjects, scaleTargetRef); only
    /// maps whose `kind` is the referral's are rewritten.
    kind_and_name: bool,
}

const POD_SPECS: [(&[&str], &str); 4] = [
    (&["Pod"], "spec"),
    (
        &[
            "Deployment",
            "ReplicaSet",
            "DaemonSet",
            "StatefulSet",
            "Job",
            "ReplicationController",
        ],
        "spec/template/spec",
    ),
    (&["CronJob"], "spec/jobTemplate/spec/template/spec"),
    (&["PodTemplate"], "template/spec"),
];

const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// Fields inside a pod spec naming other objects.
fn pod_spec_fields() -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("ConfigMap", "volumes[]/configMap/name".to_string()),
        (
            "ConfigMap",
            "volumes[]/projected/sources[]/configMap/name".to_string(),
        ),
        ("Secret", "volumes[]/secret/secretName".to_string()),
        (
            "Secret",
            "volumes[]/projected/sources[]/secret/name".to_string(),
        ),
        ("Secret", "imagePullSecrets[]/name".to_string()),
        ("ServiceAccount", "serviceAccountName".to_string()),
        ("ServiceAccount", "serviceAccount".to_string()),
        (
            "PersistentVolumeClaim",
            "volumes[]/persistentVolumeClaim/claimName".to_string(),
        ),
        ("PriorityClass", "priorityClassName".to_string()),
    ];
    for list in CONTAINER_LISTS {
        fields.push((
            "ConfigMap",
            format!("{list}[]/env[]/valueFrom/configMapKeyRef/name"),
        ));
        fields.push(("ConfigMap", format!("{list}[]/envFrom[]/configMapRef/name")));
        fields.push((
            "Secret",
            format!("{list}[]/env[]/valueFrom/secretKeyRef/name"),
        ));
        fields.push(("Secret", format!("{list}[]/envFrom[]/secretRef/name")));
    }
    fields
}

fn references() -> Vec<Reference> {
    let mut references = Vec::new();
    for (referrers, prefix) in POD_SPECS {
        for (referral, field) in pod_spec_fields() {
            references.push(Reference {
                referral,
                referrers,
                path: format!("{prefix}/{field}"),
                kind_and_name: false,
            });
        }
    }
    let plain: [(&'static str, &'static [&'static str], &str); 18] = [
        ("Secret", &["Ingress"], "spec/tls[]/secretName"),
        ("Secret", &["ServiceAccount"], "imagePullSecrets[]/name"),
        ("Secret", &["ServiceAccount"], "secrets[]/name"),
        (
            "Service",
            &["Ingress"],
            "spec/rules[]/http/paths[]/backend/service/name",
        ),
        ("Service", &["Ingress"], "spec/defaultBackend/service/name"),
        (
            "Service",
            &["Ingress"],
            "spec/rules[]/http/paths[]/backend/serviceName",
        ),
        ("Service", &["Ingress"], "spec/backend/serviceName"),
        ("Service", &["StatefulSet"], "spec/serviceName"),
        ("Service", &["APIService"], "spec/service/name"),
        (
            "Service",
            &[
                "ValidatingWebhookConfiguration",
                "MutatingWebhookConfiguration",
            ],
            "webhooks[]/clientConfig/service/name",
        ),
        (
            "StorageClass",
            &["PersistentVolumeClaim", "PersistentVolume"],
            "spec/storageClassName",
        ),
        (
            "StorageClass",
            &["StatefulSet"],
            "spec/volumeClaimTemplates[]/spec/storageClassName",
        ),
        ("IngressClass", &["Ingress"], "spec/ingressClassName"),
        (
            "ConfigMap",
            &["Role", "ClusterRole"],
            "rules[]/resourceNames[]",
        ),
        (
            "Secret",
            &["Role", "ClusterRole"],
            "rules[]/resourceNames[]",
        ),
        (
            "ValidatingAdmissionPolicy",
            &["ValidatingAdmissionPolicyBinding"],
            "spec/policyName",
        ),
        (
            "PersistentVolume",
            &["PersistentVolumeClaim"],
            "spec/volumeName",
        ),
        (
            "PersistentVolumeClaim",
            &["PersistentVolume"],
            "spec/claimRef/name",
        ),
    ];
    for (referral, referrers, path) in plain {
        references.push(Reference {
            referral,
            referrers,
            path: path.to_string(),
            kind_and_name: false,
        });
    }
    let typed: [(&'static str, &'static [&'static str], &str); 6] = [
        (
            "ServiceAccount",
            &["RoleBinding", "ClusterRoleBinding"],
            "subjects[]",
        ),
        ("Role", &["RoleBinding"], "roleRef"),
        (
            "ClusterRole",
            &["RoleBinding", "ClusterRoleBinding"],
            "roleRef",
        ),
        (
            "Deployment",
            &["HorizontalPodAutoscaler"],
            "spec/scaleTargetRef",
        ),
        (
            "StatefulSet",
            &["HorizontalPodAutoscaler"],
            "spec/scaleTargetRef",
        ),
        (
            "ReplicaSet",
            &["HorizontalPodAutoscaler"],
            "spec/scaleTargetRef",
        ),
    ];
    for (referral, referrers, path) in typed {
        references.push(Reference {
            referral,
            referrers,
            path: path.to_string(),
            kind_and_name: true,
        });
    }
    references
}

/// What a reference can point at: a snapshot of one object's identity.
struct Candidate {
    kind: String,
    names: Vec<String>,
    name: String,
    namespace: Option<String>,
    /// Namespaces it had before (`default` for none).
    namespaces: Vec<String>,
}

impl Candidate {
    /// Whether it is, or was, in `namespace` (no namespace counting as `default`, as
    /// Kustomize compares namespaces).
    fn in_namespace(&self, namespace: &str) -> bool {
        self.namespace.as_deref().unwrap_or("default") == namespace
            || self.namespaces.iter().any(|n| n == namespace)
    }
}

/// Rewrites every reference to an object of `objects` that was renamed to its current name.
/// References to objects outside `objects` are left alone.
pub(crate) fn rewrite_references(
    objects: &mut [Resource],
    configured: &[crate::config::NameReference],
) -> Result<(), KustomizeError> {
    let candidates: Vec<Candidate> = objects
        .iter()
        .map(|object| Candidate {
            kind: object.kind().to_string(),
            names: object.previous_names.clone(),
            name: object.name().to_string(),
            namespace: object.namespace().map(str::to_string),
            namespaces: object.previous_namespaces.clone(),
        })
        .collect();
    let references = references();
    for object in objects.iter_mut() {
        let kind = object.kind().to_string();
        let namespace = object.namespace().map(str::to_string);
        let mut ambiguous = None;
        for reference in references
            .iter()
            .filter(|r| r.referrers.contains(&kind.as_str()))
        {
            visit_path(&mut object.doc, &reference.path, false, &mut |value| {
                if reference.path == "subjects[]" {
                    if let Err(message) = rewrite_subject(value, &candidates, namespace.as_deref())
                    {
                        ambiguous.get_or_insert(message);
                    }
                } else if reference.kind_and_name {
                    rewrite_typed(value, reference.referral, &candidates, namespace.as_deref());
                } else if let Value::String(name) = value
                    && let Some(found) =
                        find(&candidates, reference.referral, name, namespace.as_deref())
                {
                    *name = found.name.clone();
                }
            });
        }
        // References from `configurations`: a name, or a map holding `name`.
        for reference in configured {
            if !reference.spec.applies_to(object) {
                continue;
            }
            crate::fieldspec::visit_kustomize_path(
                &mut object.doc,
                &reference.spec.path,
                false,
                &mut |value| {
                    // A name, a map holding `name`, or a list of names (`spec/tls/hosts`).
                    let names: Vec<&mut String> = match value {
                        Value::String(name) => vec![name],
                        Value::Object(map) => match map.get_mut("name") {
                            Some(Value::String(name)) => vec![name],
                            _ => Vec::new(),
                        },
                        Value::Array(items) => items
                            .iter_mut()
                            .filter_map(|item| match item {
                                Value::String(name) => Some(name),
                                _ => None,
                            })
                            .collect(),
                        _ => Vec::new(),
                    };
                    for name in names {
                        if let Some(found) =
                            find(&candidates, &reference.referral, name, namespace.as_deref())
                        {
                            *name = found.name.clone();
                        }
                    }
                },
            );
        }
        if let Some(message) = ambiguous {
            return Err(KustomizeError::AmbiguousReference {
                file: object.origin.clone(),
                line: Some(object.line),
                message: format!("{}: {message}", object.describe()),
            });
        }
    }
    Ok(())
}

/// A subject of a (Cluster)RoleBinding, rewritten as Kustomize rewrites it: whatever its
/// kind, a subject named like a ServiceAccount of the kustomization (now or before a prefix or
/// suffix) in its namespace — the subject's own, else the binding's; now or before
/// `namespace:` moved it, `default` standing for none — takes the account's name and
/// namespace. A subject without a namespace in a cluster-scoped binding that fits accounts in
/// several namespaces is an error, as in Kustomize.
fn rewrite_subject(
    value: &mut Value,
    candidates: &[Candidate],
    binding_namespace: Option<&str>,
) -> Result<(), String> {
    let Value::Object(map) = value else {
        return Ok(());
    };
    let Some(name) = map.get("name").and_then(Value::as_str) else {
        return Ok(());
    };
    if map
        .get("namespace")
        .is_some_and(|ns| ns.is_null() || ns.as_str() == Some(""))
    {
        return Err(format!(
            "the subject `{name}` has a blank `namespace`; give it a namespace or leave the field out"
        ));
    }
    let namespace = map
        .get("namespace")
        .and_then(Value::as_str)
        .or(binding_namespace);
    let matching: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| c.kind == "ServiceAccount")
        .filter(|c| c.name == name || c.names.iter().any(|n| n == name))
        .filter(|c| namespace.is_none_or(|ns| c.in_namespace(ns)))
        .collect();
    let found = match matching.as_slice() {
        [] => return Ok(()),
        [one] => *one,
        several => {
            let spaces: std::collections::BTreeSet<&str> = several
                .iter()
                .map(|c| c.namespace.as_deref().unwrap_or("default"))
                .collect();
            if spaces.len() > 1 {
                return Err(format!(
                    "the subject `{name}` fits ServiceAccounts in several namespaces ({}); give the subject a `namespace`",
                    spaces.into_iter().collect::<Vec<_>>().join(", ")
                ));
            }
            several[0]
        }
    };
    map.insert("name".to_string(), Value::String(found.name.clone()));
    if let Some(found_namespace) = &found.namespace {
        map.insert(
            "namespace".to_string(),
            Value::String(found_namespace.clone()),
        );
    }
    Ok(())
}

/// Rewrites a `{kind, name, namespace?}` map that refers to a `referral`.
fn rewrite_typed(
    value: &mut Value,
    referral: &str,
    candidates: &[Candidate],
    namespace: Option<&str>,
) {
    let Value::Object(map) = value else {
        return;
    };
    if map.get("kind").and_then(Value::as_str) != Some(referral) {
        return;
    }
    let Some(name) = map.get("name").and_then(Value::as_str) else {
        return;
    };
    let subject_namespace = map.get("namespace").and_then(Value::as_str).or(namespace);
    let Some(found) = find(candidates, referral, name, subject_namespace) else {
        return;
    };
    map.insert("name".to_string(), Value::String(found.name.clone()));
    // A ServiceAccount subject names the account's namespace too; keep it in step.
    if referral == "ServiceAccount"
        && let Some(found_namespace) = &found.namespace
    {
        map.insert(
            "namespace".to_string(),
            Value::String(found_namespace.clone()),
        );
    }
}

/// The object of `kind` that is or was called `name`, in `namespace` (any namespace when the
/// referrer has none, as for cluster-scoped referrers), preferring its current name.
fn find<'c>(
    candidates: &'c [Candidate],
    kind: &str,
    name: &str,
    namespace: Option<&str>,
) -> Option<&'c Candidate> {
    let in_scope = |candidate: &&Candidate| {
        namespace.is_none()
            || is_cluster_scoped(kind)
            || candidate.namespace.as_deref() == namespace
    };
    let matching: Vec<&Candidate> = candidates
        .iter()
        .filter(|candidate| candidate.kind == kind)
        .filter(|candidate| candidate.name == name || candidate.names.iter().any(|n| n == name))
        .filter(in_scope)
        .collect();
    matching
        .iter()
        .find(|candidate| candidate.name == name)
        .or_else(|| matching.first())
        .copied()
}
