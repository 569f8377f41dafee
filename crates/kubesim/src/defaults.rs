//! Defaulting the real API server applies on every write, limited to the defaults that show
//! up in diffs of common manifests (workload strategies, pod template fields, Service
//! ports/IPs, Namespace finalizers, Secret type, …).
//!
//! Runs after merging/patching and before validation, like the real server. Server-side
//! apply never records defaulted fields as owned because ownership is computed from the
//! applied configuration, not from the defaulted result.

use serde_json::{Map, Value, json};

use crate::catalogue::ResourceType;
use crate::store::Store;

fn obj(value: &mut Value) -> Option<&mut Map<String, Value>> {
    if value.is_null() {
        *value = Value::Object(Map::new());
    }
    value.as_object_mut()
}

/// Sets `map[key]` to `value` when absent or null.
fn default(map: &mut Map<String, Value>, key: &str, value: Value) {
    if map.get(key).is_none_or(Value::is_null) {
        map.insert(key.to_string(), value);
    }
}

fn child<'a>(map: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Map<String, Value>> {
    let entry = map
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    obj(entry)
}

/// Applies the kind's defaults to `object`. `old` is the stored object on updates.
pub fn apply_defaults(
    rt: &ResourceType,
    object: &mut Value,
    old: Option<&Value>,
    store: &mut Store,
) {
    if !rt.builtin {
        return;
    }
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let Some(root) = obj(object) else {
        return;
    };
    match rt.kind.as_str() {
        "Namespace" => namespace(root, &name),
        "Secret" => secret(root),
        "Service" => service(root, old, store),
        "PersistentVolumeClaim" => {
            if let Some(spec) = child(root, "spec") {
                default(spec, "volumeMode", json!("Filesystem"));
            }
            if let Some(status) = child(root, "status") {
                default(status, "phase", json!("Pending"));
            }
        }
        "Pod" => {
            if let Some(spec) = child(root, "spec") {
                pod_spec(spec, true);
                default(spec, "serviceAccountName", json!("default"));
                default(spec, "enableServiceLinks", json!(true));
                default(spec, "priority", json!(0));
                default(spec, "preemptionPolicy", json!("PreemptLowerPriority"));
            }
            if let Some(status) = child(root, "status") {
                default(status, "phase", json!("Pending"));
                default(status, "qosClass", json!("BestEffort"));
            }
        }
        "Deployment" => deployment(root),
        "StatefulSet" => statefulset(root),
        "DaemonSet" => daemonset(root),
        "ReplicaSet" => {
            if let Some(spec) = child(root, "spec") {
                default(spec, "replicas", json!(1));
                template(spec, true);
            }
        }
        "Job" => job(root),
        "CronJob" => cronjob(root),
        "NetworkPolicy" => {
            if let Some(spec) = child(root, "spec") {
                let types = if spec.contains_key("egress") {
                    json!(["Ingress", "Egress"])
                } else {
                    json!(["Ingress"])
                };
                default(spec, "policyTypes", types);
            }
        }
        "StorageClass" => {
            default(root, "reclaimPolicy", json!("Delete"));
            default(root, "volumeBindingMode", json!("Immediate"));
        }
        "CustomResourceDefinition" => {
            if let Some(spec) = child(root, "spec") {
                default(spec, "conversion", json!({"strategy": "None"}));
            }
        }
        "HorizontalPodAutoscaler" => {
            if let Some(spec) = child(root, "spec") {
                default(spec, "minReplicas", json!(1));
            }
        }
        _ => {}
    }
}

/// The real server folds `stringData` into base64 `data` and never stores `stringData`.
fn secret(root: &mut Map<String, Value>) {
    use base64::Engine as _;
    default(root, "type", json!("Opaque"));
    if let Some(Value::Object(strings)) = root.remove("stringData")
        && let Some(data) = child(root, "data")
    {
        for (k, v) in strings {
            let text = v.as_str().unwrap_or_default().to_string();
            let encoded = base64::engine::general_purpose::STANDARD.encode(text);
            data.insert(k, json!(encoded));
        }
    }
}

fn namespace(root: &mut Map<String, Value>, name: &str) {
    if let Some(meta) = child(root, "metadata")
        && let Some(labels) = child(meta, "labels")
    {
        labels.insert("kubernetes.io/metadata.name".into(), json!(name));
    }
    if let Some(spec) = child(root, "spec") {
        default(spec, "finalizers", json!(["kubernetes"]));
    }
    if let Some(status) = child(root, "status") {
        default(status, "phase", json!("Active"));
    }
}

fn service(root: &mut Map<String, Value>, old: Option<&Value>, store: &mut Store) {
    let Some(spec) = child(root, "spec") else {
        return;
    };
    default(spec, "type", json!("ClusterIP"));
    let service_type = spec["type"].as_str().unwrap_or("ClusterIP").to_string();
    default(spec, "sessionAffinity", json!("None"));
    if service_type != "ExternalName" {
        let old_spec = old.map(|o| &o["spec"]);
        let has_ip = spec
            .get("clusterIP")
            .and_then(Value::as_str)
            .is_some_and(|ip| !ip.is_empty());
        if !has_ip {
            // Updates that leave clusterIP out keep the allocated one, as the real server does.
            let kept = old_spec
                .and_then(|s| s["clusterIP"].as_str())
                .filter(|ip| !ip.is_empty())
                .map(str::to_string);
            let ip = kept.unwrap_or_else(|| store.allocate_cluster_ip());
            spec.insert("clusterIP".into(), json!(ip));
        }
        let ip = spec["clusterIP"].clone();
        default(spec, "clusterIPs", json!([ip]));
        if ip != "None" {
            default(spec, "ipFamilies", json!(["IPv4"]));
            default(spec, "ipFamilyPolicy", json!("SingleStack"));
        }
        default(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    let node_ports = service_type == "NodePort" || service_type == "LoadBalancer";
    if node_ports {
        default(spec, "externalTrafficPolicy", json!("Cluster"));
    }
    if service_type == "LoadBalancer" {
        default(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
    let old_ports: Vec<Value> = old
        .and_then(|o| o["spec"]["ports"].as_array().cloned())
        .unwrap_or_default();
    if let Some(Value::Array(ports)) = spec.get_mut("ports") {
        for port in ports.iter_mut() {
            let Some(p) = port.as_object_mut() else {
                continue;
            };
            default(p, "protocol", json!("TCP"));
            if let Some(number) = p.get("port").cloned() {
                default(p, "targetPort", number);
            }
            if node_ports && p.get("nodePort").is_none_or(Value::is_null) {
                let kept = old_ports
                    .iter()
                    .find(|o| o["port"] == p["port"])
                    .and_then(|o| o["nodePort"].as_u64());
                let np = kept.unwrap_or_else(|| u64::from(store.allocate_node_port()));
                p.insert("nodePort".into(), json!(np));
            }
        }
    }
}

fn image_pull_policy(image: &str) -> &'static str {
    let last = image.rsplit('/').next().unwrap_or(image);
    let without_digest = last.split('@').next().unwrap_or(last);
    match without_digest.split_once(':') {
        _ if last.contains('@') => "IfNotPresent",
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn container(c: &mut Map<String, Value>) {
    default(c, "terminationMessagePath", json!("/dev/termination-log"));
    default(c, "terminationMessagePolicy", json!("File"));
    let image = c
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    default(c, "imagePullPolicy", json!(image_pull_policy(&image)));
    default(c, "resources", json!({}));
    if let Some(Value::Array(ports)) = c.get_mut("ports") {
        for port in ports.iter_mut().filter_map(Value::as_object_mut) {
            default(port, "protocol", json!("TCP"));
        }
    }
    if let Some(Value::Array(env)) = c.get_mut("env") {
        for e in env.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(field_ref) = e
                .get_mut("valueFrom")
                .and_then(|v| v.get_mut("fieldRef"))
                .and_then(Value::as_object_mut)
            {
                default(field_ref, "apiVersion", json!("v1"));
            }
        }
    }
}

/// Pod spec defaults; `restart_always` is false for Job templates, whose restartPolicy
/// must be set explicitly.
fn pod_spec(spec: &mut Map<String, Value>, restart_always: bool) {
    if restart_always {
        default(spec, "restartPolicy", json!("Always"));
    }
    default(spec, "dnsPolicy", json!("ClusterFirst"));
    default(spec, "schedulerName", json!("default-scheduler"));
    default(spec, "terminationGracePeriodSeconds", json!(30));
    default(spec, "securityContext", json!({}));
    for list in ["containers", "initContainers"] {
        if let Some(Value::Array(containers)) = spec.get_mut(list) {
            for c in containers.iter_mut().filter_map(Value::as_object_mut) {
                container(c);
            }
        }
    }
}

fn template(spec: &mut Map<String, Value>, restart_always: bool) {
    if let Some(t) = child(spec, "template")
        && let Some(ps) = child(t, "spec")
    {
        pod_spec(ps, restart_always);
    }
}

fn deployment(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else {
        return;
    };
    default(spec, "replicas", json!(1));
    default(spec, "revisionHistoryLimit", json!(10));
    default(spec, "progressDeadlineSeconds", json!(600));
    if let Some(strategy) = child(spec, "strategy") {
        default(strategy, "type", json!("RollingUpdate"));
        if strategy["type"] == "RollingUpdate"
            && let Some(ru) = child(strategy, "rollingUpdate")
        {
            default(ru, "maxSurge", json!("25%"));
            default(ru, "maxUnavailable", json!("25%"));
        }
    }
    template(spec, true);
}

fn statefulset(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else {
        return;
    };
    default(spec, "replicas", json!(1));
    default(spec, "podManagementPolicy", json!("OrderedReady"));
    default(spec, "revisionHistoryLimit", json!(10));
    default(
        spec,
        "persistentVolumeClaimRetentionPolicy",
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
    );
    if let Some(strategy) = child(spec, "updateStrategy") {
        default(strategy, "type", json!("RollingUpdate"));
        if strategy["type"] == "RollingUpdate"
            && let Some(ru) = child(strategy, "rollingUpdate")
        {
            default(ru, "partition", json!(0));
        }
    }
    template(spec, true);
}

fn daemonset(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else {
        return;
    };
    default(spec, "revisionHistoryLimit", json!(10));
    if let Some(strategy) = child(spec, "updateStrategy") {
        default(strategy, "type", json!("RollingUpdate"));
        if strategy["type"] == "RollingUpdate"
            && let Some(ru) = child(strategy, "rollingUpdate")
        {
            default(ru, "maxSurge", json!(0));
            default(ru, "maxUnavailable", json!(1));
        }
    }
    template(spec, true);
}

fn job(root: &mut Map<String, Value>) {
    let uid = root["metadata"]["uid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let name = root["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let Some(spec) = child(root, "spec") else {
        return;
    };
    job_spec(spec, &uid, &name);
}

fn job_spec(spec: &mut Map<String, Value>, uid: &str, name: &str) {
    default(spec, "backoffLimit", json!(6));
    default(spec, "completions", json!(1));
    default(spec, "parallelism", json!(1));
    default(spec, "completionMode", json!("NonIndexed"));
    default(spec, "suspend", json!(false));
    default(spec, "podReplacementPolicy", json!("TerminatingOrFailed"));
    let manual = spec.get("manualSelector").and_then(Value::as_bool) == Some(true);
    if !manual && !uid.is_empty() {
        // The Job controller's generated selector and labels, keyed by the Job's uid.
        default(
            spec,
            "selector",
            json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
        );
        if let Some(t) = child(spec, "template")
            && let Some(meta) = child(t, "metadata")
            && let Some(labels) = child(meta, "labels")
        {
            for (k, v) in [
                ("batch.kubernetes.io/controller-uid", uid),
                ("batch.kubernetes.io/job-name", name),
                ("controller-uid", uid),
                ("job-name", name),
            ] {
                labels.entry(k.to_string()).or_insert_with(|| json!(v));
            }
        }
    }
    template(spec, false);
}

fn cronjob(root: &mut Map<String, Value>) {
    let Some(spec) = child(root, "spec") else {
        return;
    };
    default(spec, "concurrencyPolicy", json!("Allow"));
    default(spec, "suspend", json!(false));
    default(spec, "successfulJobsHistoryLimit", json!(3));
    default(spec, "failedJobsHistoryLimit", json!(1));
    if let Some(jt) = child(spec, "jobTemplate")
        && let Some(js) = child(jt, "spec")
    {
        default(js, "backoffLimit", json!(6));
        template(js, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policy_follows_tag() {
        assert_eq!(image_pull_policy("nginx"), "Always");
        assert_eq!(image_pull_policy("nginx:latest"), "Always");
        assert_eq!(image_pull_policy("nginx:1.27"), "IfNotPresent");
        assert_eq!(image_pull_policy("localhost:5000/app"), "Always");
        assert_eq!(image_pull_policy("r.io/app@sha256:abc"), "IfNotPresent");
    }
}
