//! The status objects the simulated controllers write, shaped like the real controllers'
//! (field names, condition types, reasons and messages).

use serde_json::{Value, json};

use crate::write::now;

fn replicas(object: &Value) -> i64 {
    object["spec"]["replicas"].as_i64().unwrap_or(1)
}

fn generation(object: &Value) -> i64 {
    object["metadata"]["generation"].as_i64().unwrap_or(1)
}

/// A condition, keeping `lastTransitionTime` when the status did not flip.
fn condition(object: &Value, kind: &str, status: &str, reason: &str, message: &str) -> Value {
    let now = now();
    let previous = object["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == kind));
    let transition = previous
        .filter(|c| c["status"] == status)
        .and_then(|c| c["lastTransitionTime"].as_str().map(str::to_string))
        .unwrap_or_else(|| now.clone());
    json!({
        "type": kind,
        "status": status,
        "lastUpdateTime": now,
        "lastTransitionTime": transition,
        "reason": reason,
        "message": message,
    })
}

/// Stable 10-character hash like the real `pod-template-hash`.
pub fn template_hash(template: &Value) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let text = serde_json::to_string(template).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (0..10)
        .map(|i| {
            let idx = usize::try_from((h >> (i * 6)) % ALPHABET.len() as u64).unwrap_or(0);
            char::from(ALPHABET[idx])
        })
        .collect()
}

/// The name of a Deployment's ReplicaSet for its current template.
pub fn replica_set_name(deployment: &Value) -> String {
    format!(
        "{}-{}",
        deployment["metadata"]["name"].as_str().unwrap_or_default(),
        template_hash(&deployment["spec"]["template"])
    )
}

fn revision(object: &Value) -> String {
    format!(
        "{}-{}",
        object["metadata"]["name"].as_str().unwrap_or_default(),
        template_hash(&object["spec"]["template"])
    )
}

/// Status right after a spec change: observed, nothing ready yet.
pub fn rollout_started(kind: &str, object: &Value) -> Value {
    let r = replicas(object);
    let g = generation(object);
    match kind {
        "Deployment" => {
            let was_available = object["status"]["conditions"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["type"] == "Available"))
                .is_some_and(|c| c["status"] == "True");
            let available = if was_available {
                condition(
                    object,
                    "Available",
                    "True",
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                )
            } else {
                condition(
                    object,
                    "Available",
                    "False",
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.",
                )
            };
            let rs = replica_set_name(object);
            let mut status = json!({
                "observedGeneration": g,
                "replicas": r,
                "updatedReplicas": r,
                "conditions": [
                    available,
                    condition(object, "Progressing", "True", "ReplicaSetUpdated",
                        &format!("ReplicaSet \"{rs}\" is progressing.")),
                ],
            });
            if r > 0 {
                status["unavailableReplicas"] = json!(r);
            }
            status
        }
        "StatefulSet" => json!({
            "observedGeneration": g,
            "replicas": r,
            "currentReplicas": r,
            "updatedReplicas": r,
            "currentRevision": revision(object),
            "updateRevision": revision(object),
            "collisionCount": 0,
            "availableReplicas": 0,
        }),
        "DaemonSet" => json!({
            "observedGeneration": g,
            "currentNumberScheduled": 1,
            "desiredNumberScheduled": 1,
            "numberMisscheduled": 0,
            "numberReady": 0,
            "numberUnavailable": 1,
            "updatedNumberScheduled": 1,
        }),
        _ => json!({
            "observedGeneration": g,
            "replicas": r,
            "fullyLabeledReplicas": r,
        }),
    }
}

/// Status once the rollout is done (or, when `fail`, once it gave up).
pub fn rollout_finished(kind: &str, object: &Value, fail: bool) -> Value {
    if fail {
        let mut status = rollout_started(kind, object);
        if kind == "Deployment" {
            let rs = replica_set_name(object);
            status["conditions"] = json!([
                condition(
                    object,
                    "Available",
                    "False",
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability."
                ),
                condition(
                    object,
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    &format!("ReplicaSet \"{rs}\" has timed out progressing.")
                ),
            ]);
        }
        return status;
    }
    let r = replicas(object);
    let g = generation(object);
    match kind {
        "Deployment" => {
            let rs = replica_set_name(object);
            let mut status = json!({
                "observedGeneration": g,
                "replicas": r,
                "updatedReplicas": r,
                "readyReplicas": r,
                "availableReplicas": r,
                "conditions": [
                    condition(object, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability."),
                    condition(object, "Progressing", "True", "NewReplicaSetAvailable",
                        &format!("ReplicaSet \"{rs}\" has successfully progressed.")),
                ],
            });
            if r == 0
                && let Some(m) = status.as_object_mut()
            {
                m.remove("readyReplicas");
                m.remove("availableReplicas");
            }
            status
        }
        "StatefulSet" => json!({
            "observedGeneration": g,
            "replicas": r,
            "readyReplicas": r,
            "currentReplicas": r,
            "updatedReplicas": r,
            "availableReplicas": r,
            "currentRevision": revision(object),
            "updateRevision": revision(object),
            "collisionCount": 0,
        }),
        "DaemonSet" => json!({
            "observedGeneration": g,
            "currentNumberScheduled": 1,
            "desiredNumberScheduled": 1,
            "numberAvailable": 1,
            "numberMisscheduled": 0,
            "numberReady": 1,
            "updatedNumberScheduled": 1,
        }),
        _ => json!({
            "observedGeneration": g,
            "replicas": r,
            "fullyLabeledReplicas": r,
            "readyReplicas": r,
            "availableReplicas": r,
        }),
    }
}

/// Whether a Job has a Complete or Failed condition.
pub fn job_finished(object: &Value) -> bool {
    object["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| (c["type"] == "Complete" || c["type"] == "Failed") && c["status"] == "True")
    })
}

/// Job status once started.
pub fn job_started(object: &Value) -> Value {
    let _ = object;
    json!({
        "startTime": now(),
        "active": 1,
        "ready": 0,
        "terminating": 0,
        "uncountedTerminatedPods": {},
    })
}

/// Job status once it completed or failed.
pub fn job_result(object: &Value, fail: bool) -> Value {
    let start = object["status"]["startTime"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(now);
    if fail {
        let backoff = object["spec"]["backoffLimit"].as_i64().unwrap_or(6);
        let msg = "Job has reached the specified backoff limit";
        json!({
            "startTime": start,
            "failed": backoff + 1,
            "ready": 0,
            "terminating": 0,
            "uncountedTerminatedPods": {},
            "conditions": [
                condition(object, "FailureTarget", "True", "BackoffLimitExceeded", msg),
                condition(object, "Failed", "True", "BackoffLimitExceeded", msg),
            ],
        })
    } else {
        let completions = object["spec"]["completions"].as_i64().unwrap_or(1);
        let msg = "Reached expected number of succeeded pods";
        json!({
            "startTime": start,
            "completionTime": now(),
            "succeeded": completions,
            "ready": 0,
            "terminating": 0,
            "uncountedTerminatedPods": {},
            "conditions": [
                condition(object, "SuccessCriteriaMet", "True", "CompletionsReached", msg),
                condition(object, "Complete", "True", "CompletionsReached", msg),
            ],
        })
    }
}

/// Whether a CRD already reports Established.
pub fn crd_established(object: &Value) -> bool {
    object["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Established" && c["status"] == "True")
    })
}

/// CRD status: names accepted, established, stored versions.
pub fn crd_status(object: &Value) -> Value {
    let names = &object["spec"]["names"];
    let kind = names["kind"].as_str().unwrap_or_default();
    let mut accepted = names.clone();
    if accepted["singular"].is_null() {
        accepted["singular"] = json!(kind.to_lowercase());
    }
    if accepted["listKind"].is_null() {
        accepted["listKind"] = json!(format!("{kind}List"));
    }
    let stored: Vec<Value> = object["spec"]["versions"]
        .as_array()
        .map(|vs| {
            vs.iter()
                .filter(|v| v["storage"] == true)
                .map(|v| v["name"].clone())
                .collect()
        })
        .unwrap_or_default();
    json!({
        "conditions": [
            condition(object, "NamesAccepted", "True", "NoConflicts", "no conflicts found"),
            condition(object, "Established", "True", "InitialNamesAccepted", "the initial names have been accepted"),
        ],
        "acceptedNames": accepted,
        "storedVersions": stored,
    })
}

/// Pod status once its containers run.
pub fn pod_running(object: &Value, seed: u64) -> Value {
    let now = now();
    let containers: Vec<Value> = object["spec"]["containers"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    json!({
                        "name": c["name"], "image": c["image"], "imageID": "",
                        "ready": true, "started": true, "restartCount": 0,
                        "state": {"running": {"startedAt": now}},
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let conditions: Vec<Value> = [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ]
    .iter()
    .map(|t| json!({"type": t, "status": "True", "lastProbeTime": null, "lastTransitionTime": now}))
    .collect();
    let ip = format!("10.244.{}.{}", (seed >> 8) % 250, seed % 250 + 2);
    json!({
        "phase": "Running",
        "conditions": conditions,
        "hostIP": "172.18.0.2",
        "hostIPs": [{"ip": "172.18.0.2"}],
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": now,
        "qosClass": object["status"]["qosClass"].as_str().unwrap_or("BestEffort"),
        "containerStatuses": containers,
    })
}
