//! Cross-cutting transformers: `namespace`, `namePrefix`/`nameSuffix`, `commonLabels`/`labels`
//! and `commonAnnotations`, writing the fields Kustomize's built-in field specs name.

use crate::config::{Spec, visit_specs};
use serde_json::Value;

use super::fieldspec::{FieldSpec, insert_pairs, visit_path};
use super::kustomization::{Kustomization, check_entry_keys, string_map};
use super::{KustomizeError, Resource, group_of_api_version, is_cluster_scoped_in};

const WORKLOADS: &[&str] = &["Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"];
const TEMPLATED: &[&str] = &[
    "Deployment",
    "ReplicaSet",
    "DaemonSet",
    "StatefulSet",
    "Job",
    "ReplicationController",
];

/// Selector fields: written by `commonLabels` and by `labels` with `includeSelectors`.
const SELECTOR_SPECS: &[FieldSpec] = &[
    FieldSpec::new(&["Service", "ReplicationController"], "spec/selector", true),
    FieldSpec::new(WORKLOADS, "spec/selector/matchLabels", true),
    FieldSpec::new(&["Job"], "spec/selector/matchLabels", false),
    FieldSpec::new(
        &["CronJob"],
        "spec/jobTemplate/spec/selector/matchLabels",
        false,
    ),
    FieldSpec::new(&["PodDisruptionBudget"], "spec/selector/matchLabels", false),
    FieldSpec::new(&["NetworkPolicy"], "spec/podSelector/matchLabels", false),
    FieldSpec::new(
        &["NetworkPolicy"],
        "spec/ingress[]/from[]/podSelector/matchLabels",
        false,
    ),
    FieldSpec::new(
        &["NetworkPolicy"],
        "spec/egress[]/to[]/podSelector/matchLabels",
        false,
    ),
    FieldSpec::new(
        WORKLOADS,
        "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution[]/podAffinityTerm/labelSelector/matchLabels",
        false,
    ),
    FieldSpec::new(
        WORKLOADS,
        "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution[]/labelSelector/matchLabels",
        false,
    ),
    FieldSpec::new(
        WORKLOADS,
        "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution[]/podAffinityTerm/labelSelector/matchLabels",
        false,
    ),
    FieldSpec::new(
        WORKLOADS,
        "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution[]/labelSelector/matchLabels",
        false,
    ),
    FieldSpec::new(
        WORKLOADS,
        "spec/template/spec/topologySpreadConstraints[]/labelSelector/matchLabels",
        false,
    ),
];

/// Pod template label fields: `commonLabels`, and `labels` with `includeTemplates` or
/// `includeSelectors`.
const TEMPLATE_LABEL_SPECS: &[FieldSpec] = &[
    FieldSpec::new(TEMPLATED, "spec/template/metadata/labels", true),
    FieldSpec::new(&["CronJob"], "spec/jobTemplate/metadata/labels", true),
    FieldSpec::new(
        &["CronJob"],
        "spec/jobTemplate/spec/template/metadata/labels",
        true,
    ),
    FieldSpec::new(
        &["StatefulSet"],
        "spec/volumeClaimTemplates[]/metadata/labels",
        true,
    ),
];

const ANNOTATION_SPECS: &[FieldSpec] = &[
    FieldSpec::new(&[], "metadata/annotations", true),
    FieldSpec::new(TEMPLATED, "spec/template/metadata/annotations", true),
    FieldSpec::new(&["CronJob"], "spec/jobTemplate/metadata/annotations", true),
    FieldSpec::new(
        &["CronJob"],
        "spec/jobTemplate/spec/template/metadata/annotations",
        true,
    ),
];

/// Namespace fields besides `metadata.namespace`, set only where present.
const NAMESPACE_SPECS: &[FieldSpec] = &[
    FieldSpec::new(&["APIService"], "spec/service/namespace", false),
    FieldSpec::new(
        &["CustomResourceDefinition"],
        "spec/conversion/webhook/clientConfig/service/namespace",
        false,
    ),
];

/// Kinds whose names `namePrefix`/`nameSuffix` leave alone, as Kustomize does.
const NOT_RENAMED: &[&str] = &["CustomResourceDefinition", "APIService", "Namespace"];

/// One `commonLabels` map or `labels` entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LabelRule {
    pub pairs: Vec<(String, String)>,
    pub include_selectors: bool,
    pub include_templates: bool,
    /// Extra places from the entry's `fields` (kind, path, create).
    pub fields: Vec<(Option<String>, String, bool)>,
    /// An entry of `labels` (not `commonLabels`): the `labels` section of `configurations`
    /// adds its places.
    pub labels_entry: bool,
}

impl LabelRule {
    /// `commonLabels` always write selectors and pod templates.
    pub fn common(pairs: Vec<(String, String)>) -> Self {
        Self {
            pairs,
            include_selectors: true,
            include_templates: true,
            fields: Vec::new(),
            labels_entry: false,
        }
    }

    pub fn parse(k: &Kustomization<'_>, entry: &Value) -> Result<Self, KustomizeError> {
        let Value::Object(object) = entry else {
            return Err(k.invalid(
                "labels:",
                "every entry of `labels` must be a mapping with `pairs`".to_string(),
            ));
        };
        check_entry_keys(
            k,
            "labels",
            object,
            &["pairs", "includeSelectors", "includeTemplates", "fields"],
        )?;
        let pairs = match object.get("pairs") {
            Some(value) => string_map(k, "labels", value)?,
            None => Vec::new(),
        };
        let flag = |key: &str| object.get(key).and_then(Value::as_bool).unwrap_or(false);
        let mut fields = Vec::new();
        if let Some(Value::Array(specs)) = object.get("fields") {
            for spec in specs {
                let Some(path) = spec.get("path").and_then(Value::as_str) else {
                    return Err(k.invalid(
                        "fields:",
                        "every entry of `labels[].fields` needs a `path`".to_string(),
                    ));
                };
                let kind = spec.get("kind").and_then(Value::as_str).map(str::to_string);
                let create = spec.get("create").and_then(Value::as_bool).unwrap_or(false);
                fields.push((kind, path.to_string(), create));
            }
        }
        Ok(Self {
            pairs,
            include_selectors: flag("includeSelectors"),
            include_templates: flag("includeTemplates") || flag("includeSelectors"),
            fields,
            labels_entry: true,
        })
    }
}

/// Sets `metadata.namespace` on every namespaced object, the namespace of `default`
/// ServiceAccount subjects of (Cluster)RoleBindings, and webhook service namespaces.
pub(crate) fn set_namespace(objects: &mut [Resource], namespace: &str, configured: &[Spec]) {
    for object in objects.iter_mut() {
        visit_specs(object, configured, &mut |value| {
            *value = Value::String(namespace.to_string());
        });
    }
    // Webhooks follow only the Services of this kustomization into the namespace; a service
    // elsewhere (`monitoring/external-hook`) keeps its namespace, as in Kustomize.
    let services: Vec<Vec<String>> = objects
        .iter()
        .filter(|object| object.kind() == "Service")
        .map(|object| {
            let mut names = object.previous_names.clone();
            names.push(object.name().to_string());
            names
        })
        .collect();
    let is_service_here = |name: &str| services.iter().any(|names| names.iter().any(|n| n == name));
    for object in objects {
        let kind = object.kind().to_string();
        let api_version = object
            .doc
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        // A v1 Namespace among the objects becomes the namespace itself (Kustomize's
        // namespace field specs hold `metadata/name` of kind Namespace).
        if kind == "Namespace" && api_version == "v1" && object.name() != namespace {
            object.set_name(namespace.to_string());
        }
        if !is_cluster_scoped_in(group_of_api_version(&api_version), &kind) {
            let previous = object.namespace().unwrap_or("default").to_string();
            if previous != namespace && !object.previous_namespaces.contains(&previous) {
                object.previous_namespaces.push(previous);
            }
            object.metadata_mut().insert(
                "namespace".to_string(),
                Value::String(namespace.to_string()),
            );
        }
        if kind == "RoleBinding" || kind == "ClusterRoleBinding" {
            visit_path(&mut object.doc, "subjects[]", false, &mut |subject| {
                if let Value::Object(subject) = subject
                    && subject.get("name").and_then(Value::as_str) == Some("default")
                {
                    subject.insert(
                        "namespace".to_string(),
                        Value::String(namespace.to_string()),
                    );
                }
            });
        }
        if kind == "ValidatingWebhookConfiguration" || kind == "MutatingWebhookConfiguration" {
            visit_path(
                &mut object.doc,
                "webhooks[]/clientConfig/service",
                false,
                &mut |service| {
                    if let Value::Object(service) = service
                        && service
                            .get("name")
                            .and_then(Value::as_str)
                            .is_some_and(is_service_here)
                    {
                        service.insert(
                            "namespace".to_string(),
                            Value::String(namespace.to_string()),
                        );
                    }
                },
            );
        }
        for spec in NAMESPACE_SPECS.iter().filter(|spec| spec.applies_to(&kind)) {
            visit_path(&mut object.doc, spec.path, false, &mut |value| {
                *value = Value::String(namespace.to_string());
            });
        }
    }
}

/// Renames every object (except CRDs, APIServices and Namespaces) to `prefix + name + suffix`.
pub(crate) fn add_prefix_suffix(
    objects: &mut [Resource],
    prefix: &str,
    suffix: &str,
    config: &crate::config::TransformerConfig,
) {
    if prefix.is_empty() && suffix.is_empty() {
        return;
    }
    // A `namePrefix`/`nameSuffix` section of `configurations` names the kinds renamed;
    // without one, every kind but those Kustomize never renames.
    let renames = |specs: &[Spec], object: &Resource| {
        if specs.is_empty() {
            !NOT_RENAMED.contains(&object.kind())
        } else {
            specs.iter().any(|spec| spec.renames(object))
        }
    };
    for object in objects {
        let prefix = if renames(&config.name_prefix, object) {
            prefix
        } else {
            ""
        };
        let suffix = if renames(&config.name_suffix, object) {
            suffix
        } else {
            ""
        };
        if prefix.is_empty() && suffix.is_empty() {
            continue;
        }
        let name = format!("{prefix}{}{suffix}", object.name());
        object.set_name(name);
    }
}

/// Adds the labels of `rule` to metadata and, as the rule says, selectors and templates.
/// Of the field specs `configurations` added, those of its `commonLabels` section take the
/// labels that go into selectors, those of its `labels` section every `labels` entry's.
pub(crate) fn add_labels(
    objects: &mut [Resource],
    rule: &LabelRule,
    config: &crate::config::TransformerConfig,
) {
    if rule.pairs.is_empty() {
        return;
    }
    for object in objects {
        if rule.include_selectors {
            visit_specs(object, &config.common_labels, &mut |labels| {
                insert_pairs(labels, &rule.pairs)
            });
        }
        if rule.labels_entry {
            visit_specs(object, &config.labels, &mut |labels| {
                insert_pairs(labels, &rule.pairs)
            });
        }
        let kind = object.kind().to_string();
        let mut specs = vec![FieldSpec::new(&[], "metadata/labels", true)];
        if rule.include_selectors {
            specs.extend(SELECTOR_SPECS.iter().copied());
        }
        if rule.include_templates {
            specs.extend(TEMPLATE_LABEL_SPECS.iter().copied());
        }
        for spec in specs.iter().filter(|spec| spec.applies_to(&kind)) {
            visit_path(&mut object.doc, spec.path, spec.create, &mut |labels| {
                insert_pairs(labels, &rule.pairs);
            });
        }
        for (field_kind, path, create) in &rule.fields {
            if field_kind
                .as_deref()
                .is_none_or(|field_kind| field_kind == kind)
            {
                visit_path(&mut object.doc, path, *create, &mut |labels| {
                    insert_pairs(labels, &rule.pairs);
                });
            }
        }
    }
}

/// Adds `commonAnnotations` to metadata and pod templates.
pub(crate) fn add_annotations(
    objects: &mut [Resource],
    annotations: &[(String, String)],
    configured: &[Spec],
) {
    if annotations.is_empty() {
        return;
    }
    for object in objects {
        visit_specs(object, configured, &mut |map| {
            insert_pairs(map, annotations)
        });
        let kind = object.kind().to_string();
        for spec in ANNOTATION_SPECS
            .iter()
            .filter(|spec| spec.applies_to(&kind))
        {
            visit_path(&mut object.doc, spec.path, spec.create, &mut |map| {
                insert_pairs(map, annotations);
            });
        }
    }
}

#[cfg(test)]
#[path = "transform_tests.rs"]
mod tests;
