//! Simulated controllers: Jobs, LoadBalancer Services, PVCs, StatefulSets, DaemonSets.

mod common;

use k8s_openapi::api::apps::v1::{DaemonSet, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Service};
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::wait::{await_condition, conditions};
use serde_json::{Value, json};
use std::time::Duration;

fn job(name: &str, fail: bool) -> Value {
    let mut annotations = json!({});
    if fail {
        annotations[kubesim::FAIL_ANNOTATION] = json!("true");
    }
    json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "c", "image": "busybox:1"}]}}}})
}

#[tokio::test]
async fn jobs_complete_or_fail() {
    let c = common::start().await;
    let jobs: Api<Job> = Api::namespaced(c.client.clone(), "default");
    let ok = jobs
        .patch(
            "ok",
            &PatchParams::apply("braid"),
            &Patch::Apply(job("ok", false)),
        )
        .await
        .expect("apply");
    let labels = ok
        .spec
        .and_then(|s| s.template.metadata)
        .and_then(|m| m.labels)
        .expect("labels");
    assert_eq!(labels["job-name"], "ok", "job defaulting adds labels");
    let done = tokio::time::timeout(
        Duration::from_secs(5),
        await_condition(jobs.clone(), "ok", conditions::is_job_completed()),
    )
    .await
    .expect("in time")
    .expect("await")
    .expect("exists");
    let status = done.status.expect("status");
    assert_eq!(status.succeeded, Some(1));
    assert!(status.completion_time.is_some());

    jobs.patch(
        "bad",
        &PatchParams::apply("braid"),
        &Patch::Apply(job("bad", true)),
    )
    .await
    .expect("apply");
    let failed = tokio::time::timeout(
        Duration::from_secs(5),
        await_condition(jobs.clone(), "bad", |j: Option<&Job>| {
            j.and_then(|j| j.status.as_ref())
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Failed" && c.status == "True"))
        }),
    )
    .await
    .expect("in time")
    .expect("await")
    .expect("exists");
    assert!(failed.status.expect("status").succeeded.is_none());
}

#[tokio::test]
async fn services_pvcs_and_other_workloads_become_ready() {
    let c = common::start().await;
    let svcs: Api<Service> = Api::namespaced(c.client.clone(), "default");
    let lb = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "lb"},
        "spec": {"type": "LoadBalancer", "ports": [{"port": 443}]}});
    let created = svcs
        .patch("lb", &PatchParams::apply("braid"), &Patch::Apply(lb))
        .await
        .expect("svc");
    let spec = created.spec.expect("spec");
    assert!(spec.cluster_ip.is_some());
    assert!(
        spec.ports.expect("ports")[0]
            .node_port
            .is_some_and(|p| (30000..=32767).contains(&p))
    );
    let ip = common::eventually(5, || {
        let svcs = svcs.clone();
        async move {
            let svc = svcs.get("lb").await.ok()?;
            svc.status?.load_balancer?.ingress?.first()?.ip.clone()
        }
    })
    .await;
    assert!(ip.starts_with("172.18.255."));

    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(c.client.clone(), "default");
    let pvc = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}});
    pvcs.patch("data", &PatchParams::apply("braid"), &Patch::Apply(pvc))
        .await
        .expect("pvc");
    let bound = common::eventually(5, || {
        let pvcs = pvcs.clone();
        async move {
            let pvc = pvcs.get("data").await.ok()?;
            (pvc.status.as_ref()?.phase.as_deref() == Some("Bound")).then_some(pvc)
        }
    })
    .await;
    assert!(
        bound
            .spec
            .and_then(|s| s.volume_name)
            .is_some_and(|v| v.starts_with("pvc-"))
    );

    let template = json!({"metadata": {"labels": {"app": "db"}},
        "spec": {"containers": [{"name": "db", "image": "postgres:16"}]}});
    let sts: Api<StatefulSet> = Api::namespaced(c.client.clone(), "default");
    sts.patch("db", &PatchParams::apply("braid"), &Patch::Apply(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}}, "template": template}
    }))).await.expect("sts");
    common::eventually(5, || {
        let sts = sts.clone();
        async move {
            let s = sts.get("db").await.ok()?.status?;
            (s.ready_replicas == Some(2) && s.observed_generation == Some(1)).then_some(())
        }
    })
    .await;

    let ds: Api<DaemonSet> = Api::namespaced(c.client.clone(), "default");
    ds.patch(
        "agent",
        &PatchParams::apply("braid"),
        &Patch::Apply(json!({
            "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
            "spec": {"selector": {"matchLabels": {"app": "db"}}, "template": template}
        })),
    )
    .await
    .expect("ds");
    common::eventually(5, || {
        let ds = ds.clone();
        async move { (ds.get("agent").await.ok()?.status?.number_ready == 1).then_some(()) }
    })
    .await;
}
