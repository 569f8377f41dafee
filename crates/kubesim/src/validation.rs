//! What makes a write invalid (422): the handful of create-time checks clients commonly trip
//! over, and the immutable-field rules the real server enforces on updates.

use serde_json::Value;

use crate::catalogue::ResourceType;
use crate::status::{ApiError, Cause};

fn cause(reason: &str, field: &str, message: String) -> Cause {
    Cause {
        reason: reason.to_string(),
        message,
        field: field.to_string(),
    }
}

fn immutable(field: &str, value: &Value) -> Cause {
    cause(
        "FieldValueInvalid",
        field,
        format!("Invalid value: {}: field is immutable", compact(value)),
    )
}

fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn invalid(rt: &ResourceType, name: &str, causes: Vec<Cause>) -> Result<(), ApiError> {
    if causes.is_empty() {
        return Ok(());
    }
    Err(ApiError::Invalid {
        subject: crate::status::Subject {
            group: rt.group.clone(),
            kind: rt.kind.clone(),
            name: name.to_string(),
        },
        causes,
    })
}

/// Whether `name` is a valid DNS-1123 subdomain (what most kinds require).
fn is_dns_subdomain(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_alphanumeric)
        && name
            .as_bytes()
            .last()
            .is_some_and(u8::is_ascii_alphanumeric)
}

/// Checks a fully defaulted object about to be stored.
pub fn validate(rt: &ResourceType, object: &Value) -> Result<(), ApiError> {
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let mut causes = Vec::new();
    if !is_dns_subdomain(name) {
        causes.push(cause(
            "FieldValueInvalid",
            "metadata.name",
            format!(
                "Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
            ),
        ));
    }
    let spec = &object["spec"];
    match rt.kind.as_str() {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => {
            if !spec["selector"].is_object() {
                causes.push(cause(
                    "FieldValueRequired",
                    "spec.selector",
                    "Required value".into(),
                ));
            } else if let Some(want) = spec["selector"]["matchLabels"].as_object() {
                let labels = &spec["template"]["metadata"]["labels"];
                if want.iter().any(|(k, v)| labels.get(k) != Some(v)) {
                    causes.push(cause(
                        "FieldValueInvalid",
                        "spec.template.metadata.labels",
                        format!(
                            "Invalid value: {}: `selector` does not match template `labels`",
                            compact(labels)
                        ),
                    ));
                }
            }
            containers_required(&spec["template"]["spec"], "spec.template.spec", &mut causes);
        }
        "Job" => {
            let policy = spec["template"]["spec"]["restartPolicy"]
                .as_str()
                .unwrap_or("Always");
            if policy != "Never" && policy != "OnFailure" {
                causes.push(cause(
                    "FieldValueNotSupported",
                    "spec.template.spec.restartPolicy",
                    format!(
                        "Unsupported value: \"{policy}\": supported values: \"OnFailure\", \"Never\""
                    ),
                ));
            }
            containers_required(&spec["template"]["spec"], "spec.template.spec", &mut causes);
        }
        "Pod" => containers_required(spec, "spec", &mut causes),
        "Service" => {
            let headless = spec["clusterIP"] == "None";
            let external = spec["type"] == "ExternalName";
            if !headless && !external && spec["ports"].as_array().is_none_or(Vec::is_empty) {
                causes.push(cause(
                    "FieldValueRequired",
                    "spec.ports",
                    "Required value".into(),
                ));
            }
        }
        _ => {}
    }
    invalid(rt, name, causes)
}

fn containers_required(pod_spec: &Value, at: &str, causes: &mut Vec<Cause>) {
    if pod_spec["containers"].as_array().is_none_or(Vec::is_empty) {
        causes.push(cause(
            "FieldValueRequired",
            &format!("{at}.containers"),
            "Required value".into(),
        ));
    }
}

/// Rejects changes to fields the real server treats as immutable.
pub fn check_immutable(rt: &ResourceType, old: &Value, new: &Value) -> Result<(), ApiError> {
    let name = new["metadata"]["name"].as_str().unwrap_or_default();
    let (os, ns) = (&old["spec"], &new["spec"]);
    let mut causes = Vec::new();
    match rt.kind.as_str() {
        "Deployment" | "DaemonSet" | "ReplicaSet" if os["selector"] != ns["selector"] => {
            causes.push(immutable("spec.selector", &ns["selector"]));
        }
        "StatefulSet" => {
            if os["selector"] != ns["selector"] {
                causes.push(immutable("spec.selector", &ns["selector"]));
            }
            let mutable = [
                "replicas",
                "ordinals",
                "template",
                "updateStrategy",
                "persistentVolumeClaimRetentionPolicy",
                "minReadySeconds",
                "selector",
            ];
            let changed_other = |spec: &Value| -> Value {
                let mut s = spec.clone();
                if let Some(m) = s.as_object_mut() {
                    m.retain(|k, _| !mutable.contains(&k.as_str()));
                }
                s
            };
            if changed_other(os) != changed_other(ns) {
                causes.push(cause(
                    "FieldValueForbidden",
                    "spec",
                    "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden".into(),
                ));
            }
        }
        "Job" => {
            if os["selector"] != ns["selector"] {
                causes.push(immutable("spec.selector", &ns["selector"]));
            }
            if os["template"] != ns["template"] {
                causes.push(immutable("spec.template", &ns["template"]));
            }
            if os["completions"] != ns["completions"] {
                causes.push(immutable("spec.completions", &ns["completions"]));
            }
        }
        "Service" => {
            let old_ip = os["clusterIP"].as_str().unwrap_or_default();
            let new_ip = ns["clusterIP"].as_str().unwrap_or_default();
            let changing_type = ns["type"] == "ExternalName" || os["type"] == "ExternalName";
            if !old_ip.is_empty() && old_ip != new_ip && !changing_type {
                causes.push(immutable("spec.clusterIP", &ns["clusterIP"]));
            }
        }
        "PersistentVolumeClaim" => {
            let strip = |spec: &Value| -> Value {
                let mut s = spec.clone();
                if let Some(m) = s.as_object_mut() {
                    m.remove("volumeAttributesClassName");
                    // The binder sets volumeName; only user changes to it matter here.
                    if !old["spec"]["volumeName"].is_string() {
                        m.remove("volumeName");
                    }
                    if let Some(res) = m.get_mut("resources").and_then(Value::as_object_mut) {
                        res.remove("requests");
                    }
                }
                s
            };
            if strip(os) != strip(ns) {
                causes.push(cause(
                    "FieldValueForbidden",
                    "spec",
                    "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims".into(),
                ));
            }
        }
        "Secret" | "ConfigMap" if old["immutable"] == true => {
            if new["immutable"] != true {
                causes.push(cause(
                    "FieldValueForbidden",
                    "immutable",
                    "Forbidden: field is immutable when `immutable` is set".into(),
                ));
            }
            for field in ["data", "binaryData", "stringData", "type"] {
                if old[field] != new[field] {
                    causes.push(cause(
                        "FieldValueForbidden",
                        field,
                        "Forbidden: field is immutable when `immutable` is set".into(),
                    ));
                }
            }
        }
        _ => {}
    }
    invalid(rt, name, causes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Catalogue;
    use serde_json::json;

    #[test]
    fn deployment_selector_is_immutable() {
        let cat = Catalogue::builtin();
        let rt = cat.find("apps", "v1", "deployments").expect("builtin");
        let old =
            json!({"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"a": "1"}}}});
        let new =
            json!({"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"a": "2"}}}});
        let err = check_immutable(rt, &old, &new).expect_err("immutable");
        assert_eq!(err.code(), 422);
        assert!(err.to_string().contains("field is immutable"));
    }

    #[test]
    fn names_must_be_dns_subdomains() {
        assert!(is_dns_subdomain("web-1.example"));
        assert!(!is_dns_subdomain("Web"));
        assert!(!is_dns_subdomain("-web"));
    }
}
