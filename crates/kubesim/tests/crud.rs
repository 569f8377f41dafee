//! CRUD semantics through kube-rs: Status errors, generateName, selectors, paging,
//! optimistic concurrency, finalizers, garbage collection, namespace cascade, dry-run,
//! defaulting and immutable fields.

mod common;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service};
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, PostParams};
use kube::core::Status;
use serde_json::json;

fn cm(name: &str, labels: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..ObjectMeta::default()
        },
        data: Some([("k".to_string(), "v".to_string())].into()),
        ..ConfigMap::default()
    }
}

fn api_error(err: kube::Error) -> Status {
    match err {
        kube::Error::Api(status) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

pub fn deployment(name: &str) -> Deployment {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}]}}
        }
    }))
    .expect("valid deployment")
}

#[tokio::test]
async fn create_get_conflict_and_not_found_statuses() {
    let c = common::start().await;
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "default");
    let created = cms
        .create(&PostParams::default(), &cm("a", &[]))
        .await
        .expect("create");
    let meta = &created.metadata;
    assert!(meta.uid.as_deref().is_some_and(|u| u.len() == 36));
    assert!(meta.creation_timestamp.is_some());
    let rv: u64 = meta
        .resource_version
        .as_deref()
        .and_then(|r| r.parse().ok())
        .expect("rv");
    assert!(rv > 0);
    assert!(meta.generation.is_none(), "configmaps have no generation");
    let managed = meta.managed_fields.as_ref().expect("managedFields");
    assert_eq!(managed[0].operation.as_deref(), Some("Update"));

    let dup = api_error(
        cms.create(&PostParams::default(), &cm("a", &[]))
            .await
            .expect_err("dup"),
    );
    assert_eq!(dup.code, 409);
    assert_eq!(dup.reason, "AlreadyExists");
    assert_eq!(dup.message, "configmaps \"a\" already exists");

    let missing = api_error(cms.get("nope").await.expect_err("missing"));
    assert_eq!(missing.code, 404);
    assert_eq!(missing.message, "configmaps \"nope\" not found");

    let other_ns: Api<ConfigMap> = Api::namespaced(c.client.clone(), "ghost");
    let no_ns = api_error(
        other_ns
            .create(&PostParams::default(), &cm("a", &[]))
            .await
            .expect_err("ns"),
    );
    assert_eq!(no_ns.code, 404);
    assert_eq!(no_ns.message, "namespaces \"ghost\" not found");

    let deploys: Api<Deployment> = Api::namespaced(c.client.clone(), "default");
    let missing = api_error(deploys.get("web").await.expect_err("missing"));
    assert_eq!(missing.message, "deployments.apps \"web\" not found");
}

#[tokio::test]
async fn generate_name_selectors_and_paging() {
    let c = common::start().await;
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "default");
    let mut generated = cm("", &[("tier", "fe")]);
    generated.metadata.name = None;
    generated.metadata.generate_name = Some("gen-".into());
    let g = cms
        .create(&PostParams::default(), &generated)
        .await
        .expect("generateName");
    let name = g.metadata.name.expect("name");
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");

    for (n, app, tier) in [("a", "web", "fe"), ("b", "web", "be"), ("c", "db", "be")] {
        cms.create(
            &PostParams::default(),
            &cm(n, &[("app", app), ("tier", tier)]),
        )
        .await
        .expect("create");
    }
    let names = |list: kube::core::ObjectList<ConfigMap>| -> Vec<String> {
        list.items
            .into_iter()
            .filter_map(|i| i.metadata.name)
            .collect()
    };
    let cases = [
        ("app=web", vec!["a", "b"]),
        ("app==web,tier=be", vec!["b"]),
        ("app!=web", vec![name.as_str(), "c"]),
        ("tier in (fe)", vec!["a", name.as_str()]),
        ("app notin (web)", vec!["c", name.as_str()]),
        ("app", vec!["a", "b", "c"]),
        ("!app", vec![name.as_str()]),
    ];
    for (selector, want) in cases {
        let mut got = names(
            cms.list(&ListParams::default().labels(selector))
                .await
                .expect("list"),
        );
        got.sort();
        let mut want: Vec<String> = want.into_iter().map(str::to_string).collect();
        want.sort();
        assert_eq!(got, want, "selector {selector}");
    }
    let by_name = cms
        .list(&ListParams::default().fields("metadata.name=b"))
        .await
        .expect("list");
    assert_eq!(names(by_name), vec!["b"]);
    let list = cms.list(&ListParams::default()).await.expect("list");
    assert!(list.metadata.resource_version.is_some());

    let page = cms
        .list(&ListParams::default().limit(2))
        .await
        .expect("page 1");
    assert_eq!(page.items.len(), 2);
    let token = page.metadata.continue_.clone().expect("continue token");
    let rest = cms
        .list(&ListParams::default().limit(10).continue_token(&token))
        .await
        .expect("page 2");
    assert_eq!(rest.items.len(), 2);

    // All-namespaces list and field selector on namespace.
    let sys: Api<ConfigMap> = Api::namespaced(c.client.clone(), "kube-system");
    sys.create(&PostParams::default(), &cm("sys", &[]))
        .await
        .expect("create");
    let all: Api<ConfigMap> = Api::all(c.client.clone());
    assert_eq!(
        all.list(&ListParams::default())
            .await
            .expect("all")
            .items
            .len(),
        5
    );
    let only_sys = all
        .list(&ListParams::default().fields("metadata.namespace=kube-system"))
        .await
        .expect("field selector");
    assert_eq!(names(only_sys), vec!["sys"]);
}

#[tokio::test]
async fn replace_with_stale_resource_version_conflicts() {
    let c = common::start().await;
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "default");
    let first = cms
        .create(&PostParams::default(), &cm("a", &[]))
        .await
        .expect("create");
    let mut update = first.clone();
    update.data = Some([("k".to_string(), "v2".to_string())].into());
    let second = cms
        .replace("a", &PostParams::default(), &update)
        .await
        .expect("replace");
    assert_ne!(
        second.metadata.resource_version,
        first.metadata.resource_version
    );

    let mut stale = first.clone();
    stale.data = Some([("k".to_string(), "v3".to_string())].into());
    let err = api_error(
        cms.replace("a", &PostParams::default(), &stale)
            .await
            .expect_err("stale"),
    );
    assert_eq!(err.code, 409);
    assert_eq!(err.reason, "Conflict");
    assert!(
        err.message.contains("the object has been modified"),
        "{}",
        err.message
    );
    assert_eq!(
        cms.get("a").await.expect("get").data.expect("data")["k"],
        "v2"
    );
}

#[tokio::test]
async fn finalizers_hold_deletion_until_removed() {
    let c = common::start().await;
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "default");
    let mut obj = cm("held", &[]);
    obj.metadata.finalizers = Some(vec!["example.com/hold".into()]);
    cms.create(&PostParams::default(), &obj)
        .await
        .expect("create");
    let deleted = cms
        .delete("held", &DeleteParams::default())
        .await
        .expect("delete");
    let pending = deleted
        .left()
        .expect("object returned while finalizers remain");
    assert!(pending.metadata.deletion_timestamp.is_some());
    let still = cms.get("held").await.expect("still there");
    assert!(still.metadata.deletion_timestamp.is_some());

    let mut released = still.clone();
    released.metadata.finalizers = Some(vec![]);
    cms.replace("held", &PostParams::default(), &released)
        .await
        .expect("remove finalizer");
    let gone = api_error(cms.get("held").await.expect_err("gone"));
    assert_eq!(gone.code, 404);

    cms.create(&PostParams::default(), &cm("plain", &[]))
        .await
        .expect("create");
    let status = cms
        .delete("plain", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(
        status.right().is_some(),
        "immediate delete answers with a Status"
    );
}

#[tokio::test]
async fn namespace_delete_cascades_to_contents() {
    let c = common::start().await;
    let nss: Api<Namespace> = Api::all(c.client.clone());
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": "team"}})).expect("ns");
    let created = nss
        .create(&PostParams::default(), &ns)
        .await
        .expect("create ns");
    assert_eq!(
        created.status.and_then(|s| s.phase).as_deref(),
        Some("Active")
    );
    assert_eq!(
        created.spec.and_then(|s| s.finalizers),
        Some(vec!["kubernetes".to_string()])
    );
    assert_eq!(
        created.metadata.labels.expect("labels")["kubernetes.io/metadata.name"],
        "team"
    );
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "team");
    cms.create(&PostParams::default(), &cm("x", &[]))
        .await
        .expect("cm");
    let deploys: Api<Deployment> = Api::namespaced(c.client.clone(), "team");
    deploys
        .create(&PostParams::default(), &deployment("web"))
        .await
        .expect("deploy");

    nss.delete("team", &DeleteParams::default())
        .await
        .expect("delete ns");
    common::eventually(5, || {
        let nss = nss.clone();
        async move { nss.get("team").await.is_err().then_some(()) }
    })
    .await;
    let all_cms: Api<ConfigMap> = Api::all(c.client.clone());
    let left = all_cms
        .list(&ListParams::default().fields("metadata.namespace=team"))
        .await
        .expect("list");
    assert!(left.items.is_empty());
    let err = api_error(
        cms.create(&PostParams::default(), &cm("y", &[]))
            .await
            .expect_err("ns gone"),
    );
    assert_eq!(err.code, 404);
}

#[tokio::test]
async fn deleting_a_deployment_collects_its_replica_sets() {
    let c = common::start().await;
    let deploys: Api<Deployment> = Api::namespaced(c.client.clone(), "default");
    deploys
        .create(&PostParams::default(), &deployment("web"))
        .await
        .expect("deploy");
    let rss: Api<k8s_openapi::api::apps::v1::ReplicaSet> =
        Api::namespaced(c.client.clone(), "default");
    let rs = common::eventually(5, || {
        let rss = rss.clone();
        async move {
            rss.list(&ListParams::default())
                .await
                .ok()?
                .items
                .into_iter()
                .next()
        }
    })
    .await;
    let owner = &rs.metadata.owner_references.expect("owned")[0];
    assert_eq!(owner.kind, "Deployment");
    deploys
        .delete("web", &DeleteParams::foreground())
        .await
        .expect("delete");
    assert!(
        rss.list(&ListParams::default())
            .await
            .expect("list")
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn dry_run_stores_nothing() {
    let c = common::start().await;
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "default");
    let rv_before = c.server.resource_version();
    let dry = cms
        .create(
            &PostParams {
                dry_run: true,
                field_manager: None,
            },
            &cm("dry", &[]),
        )
        .await
        .expect("dry-run create");
    assert_eq!(dry.metadata.name.as_deref(), Some("dry"));
    assert!(dry.metadata.uid.is_some());
    assert!(cms.get("dry").await.is_err());
    assert_eq!(c.server.resource_version(), rv_before);

    let real = cms
        .create(&PostParams::default(), &cm("real", &[]))
        .await
        .expect("create");
    let mut changed = real.clone();
    changed.data = Some([("k".to_string(), "dry".to_string())].into());
    let rv_before = c.server.resource_version();
    let result = cms
        .replace(
            "real",
            &PostParams {
                dry_run: true,
                field_manager: None,
            },
            &changed,
        )
        .await
        .expect("dry-run replace");
    assert_eq!(result.data.expect("data")["k"], "dry");
    assert_eq!(
        cms.get("real").await.expect("get").data.expect("data")["k"],
        "v"
    );
    let deleted = cms
        .delete(
            "real",
            &DeleteParams {
                dry_run: true,
                ..DeleteParams::default()
            },
        )
        .await
        .expect("dry-run delete");
    assert!(deleted.is_right() || deleted.is_left());
    assert!(cms.get("real").await.is_ok());
    assert_eq!(c.server.resource_version(), rv_before);
}

#[tokio::test]
async fn defaulting_is_visible_on_get() {
    let c = common::start().await;
    let deploys: Api<Deployment> = Api::namespaced(c.client.clone(), "default");
    deploys
        .create(&PostParams::default(), &deployment("web"))
        .await
        .expect("create");
    let d = serde_json::to_value(deploys.get("web").await.expect("get")).expect("json");
    let spec = &d["spec"];
    assert_eq!(spec["replicas"], 1);
    assert_eq!(spec["revisionHistoryLimit"], 10);
    assert_eq!(spec["progressDeadlineSeconds"], 600);
    assert_eq!(
        spec["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
    );
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Always");
    assert_eq!(pod["dnsPolicy"], "ClusterFirst");
    assert_eq!(pod["schedulerName"], "default-scheduler");
    assert_eq!(pod["terminationGracePeriodSeconds"], 30);
    assert_eq!(pod["securityContext"], json!({}));
    let container = &pod["containers"][0];
    assert_eq!(container["imagePullPolicy"], "IfNotPresent");
    assert_eq!(container["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(container["ports"][0]["protocol"], "TCP");
    assert_eq!(d["metadata"]["generation"], 1);

    let svcs: Api<Service> = Api::namespaced(c.client.clone(), "default");
    let svc: Service = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}
    }))
    .expect("svc");
    let s = serde_json::to_value(
        svcs.create(&PostParams::default(), &svc)
            .await
            .expect("svc"),
    )
    .expect("json");
    assert_eq!(s["spec"]["type"], "ClusterIP");
    assert_eq!(s["spec"]["sessionAffinity"], "None");
    assert_eq!(s["spec"]["ports"][0]["protocol"], "TCP");
    assert_eq!(s["spec"]["ports"][0]["targetPort"], 80);
    let ip = s["spec"]["clusterIP"].as_str().expect("clusterIP");
    assert!(ip.starts_with("10.96."));
    assert_eq!(s["spec"]["clusterIPs"], json!([ip]));

    let secrets: Api<Secret> = Api::namespaced(c.client.clone(), "default");
    let secret: Secret =
        serde_json::from_value(json!({"metadata": {"name": "s"}, "stringData": {"a": "b"}}))
            .expect("secret");
    let s = secrets
        .create(&PostParams::default(), &secret)
        .await
        .expect("secret");
    assert_eq!(s.type_.as_deref(), Some("Opaque"));
    assert_eq!(s.data.expect("data")["a"].0, b"b".to_vec());
    assert!(s.string_data.is_none());

    let latest: Deployment = serde_json::from_value(json!({
        "metadata": {"name": "latest"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}
    }))
    .expect("deploy");
    let l = serde_json::to_value(
        deploys
            .create(&PostParams::default(), &latest)
            .await
            .expect("create"),
    )
    .expect("json");
    assert_eq!(
        l["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
        "Always"
    );
}

#[tokio::test]
async fn immutable_fields_are_rejected_with_422() {
    // Simulated controllers write status concurrently, so replaces here are unconditional
    // (no resourceVersion) to reach validation rather than a stale-version conflict.
    let c = common::start().await;
    let deploys: Api<Deployment> = Api::namespaced(c.client.clone(), "default");
    let created = deploys
        .create(&PostParams::default(), &deployment("web"))
        .await
        .expect("create");
    let mut changed = serde_json::to_value(&created).expect("json");
    changed["metadata"]["resourceVersion"] = json!(null);
    changed["spec"]["selector"]["matchLabels"]["app"] = json!("other");
    changed["spec"]["template"]["metadata"]["labels"]["app"] = json!("other");
    let changed: Deployment = serde_json::from_value(changed).expect("deploy");
    let err = api_error(
        deploys
            .replace("web", &PostParams::default(), &changed)
            .await
            .expect_err("immutable"),
    );
    assert_eq!(err.code, 422);
    assert_eq!(err.reason, "Invalid");
    assert!(
        err.message
            .starts_with("Deployment.apps \"web\" is invalid: spec.selector"),
        "{}",
        err.message
    );
    assert!(err.message.contains("field is immutable"));

    let svcs: Api<Service> = Api::namespaced(c.client.clone(), "default");
    let svc: Service = serde_json::from_value(json!({
        "metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}
    }))
    .expect("svc");
    let created = svcs
        .create(&PostParams::default(), &svc)
        .await
        .expect("svc");
    let mut moved = created.clone();
    moved.metadata.resource_version = None;
    if let Some(spec) = moved.spec.as_mut() {
        spec.cluster_ip = Some("10.96.200.200".into());
        spec.cluster_ips = Some(vec!["10.96.200.200".into()]);
    }
    let err = api_error(
        svcs.replace("web", &PostParams::default(), &moved)
            .await
            .expect_err("immutable"),
    );
    assert_eq!(err.code, 422);
    assert!(err.message.contains("spec.clusterIP"), "{}", err.message);

    let jobs: Api<Job> = Api::namespaced(c.client.clone(), "default");
    let job: Job = serde_json::from_value(json!({
        "metadata": {"name": "once"},
        "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox:1"}]}}}
    }))
    .expect("job");
    let created = jobs
        .create(&PostParams::default(), &job)
        .await
        .expect("job");
    let mut changed = serde_json::to_value(&created).expect("json");
    changed["metadata"]["resourceVersion"] = json!(null);
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = json!("busybox:2");
    let changed: Job = serde_json::from_value(changed).expect("job");
    let err = api_error(
        jobs.replace("once", &PostParams::default(), &changed)
            .await
            .expect_err("immutable"),
    );
    assert_eq!(err.code, 422);
    assert!(err.message.contains("spec.template"), "{}", err.message);

    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(c.client.clone(), "default");
    let pvc: PersistentVolumeClaim = serde_json::from_value(json!({
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    }))
    .expect("pvc");
    let created = pvcs
        .create(&PostParams::default(), &pvc)
        .await
        .expect("pvc");
    let mut grown = serde_json::to_value(&created).expect("json");
    grown["metadata"]["resourceVersion"] = json!(null);
    grown["spec"]["resources"]["requests"]["storage"] = json!("2Gi");
    let grown: PersistentVolumeClaim = serde_json::from_value(grown).expect("pvc");
    pvcs.replace("data", &PostParams::default(), &grown)
        .await
        .expect("resize allowed");
    // The binder may have written meanwhile; start from the latest version.
    let latest = pvcs.get("data").await.expect("get");
    let mut modes = serde_json::to_value(&latest).expect("json");
    modes["metadata"]["resourceVersion"] = json!(null);
    modes["spec"]["accessModes"] = json!(["ReadWriteMany"]);
    let modes: PersistentVolumeClaim = serde_json::from_value(modes).expect("pvc");
    let err = api_error(
        pvcs.replace("data", &PostParams::default(), &modes)
            .await
            .expect_err("immutable"),
    );
    assert_eq!(err.code, 422);

    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "default");
    let mut frozen = cm("frozen", &[]);
    frozen.immutable = Some(true);
    let created = cms
        .create(&PostParams::default(), &frozen)
        .await
        .expect("cm");
    let mut changed = created.clone();
    changed.data = Some([("k".to_string(), "other".to_string())].into());
    let err = api_error(
        cms.replace("frozen", &PostParams::default(), &changed)
            .await
            .expect_err("immutable"),
    );
    assert_eq!(err.code, 422);
    assert!(
        err.message
            .contains("field is immutable when `immutable` is set"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn delete_collection_honours_selectors() {
    let c = common::start().await;
    let cms: Api<ConfigMap> = Api::namespaced(c.client.clone(), "default");
    for (n, app) in [("a", "web"), ("b", "web"), ("c", "db")] {
        cms.create(&PostParams::default(), &cm(n, &[("app", app)]))
            .await
            .expect("create");
    }
    cms.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("app=web"),
    )
    .await
    .expect("deletecollection");
    let left: Vec<String> = cms
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|i| i.metadata.name)
        .collect();
    assert_eq!(left, vec!["c"]);
}

/// `fieldValidation` as the real server applies it: Strict refuses unknown and duplicate
/// fields together, Warn (the default) drops them with `Warning` headers, Ignore drops them
/// silently.
#[tokio::test]
async fn field_validation_strict_warn_and_ignore() {
    let cluster = common::start().await;
    let body = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"NAME"},"data":{"k":"1"},"data":{"k":"2"},"extra":true}"#;
    let post = |name: &str, query: &str| {
        let path = format!("/api/v1/namespaces/default/configmaps{query}");
        let body = body.replace("NAME", name);
        let server = &cluster.server;
        async move { common::raw_with_head(server, "POST", &path, "application/json", &body).await }
    };
    let (status, _, text) = post("strict", "?fieldValidation=Strict")
        .await
        .expect("answer");
    assert_eq!(status, 400, "{text}");
    assert!(
        text.contains(
            r#"strict decoding error: duplicate field \"data\", unknown field \"extra\""#
        ),
        "{text}"
    );
    let api: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), "default");
    assert!(api.get_opt("strict").await.expect("get").is_none());

    let (status, head, text) = post("warn", "").await.expect("answer");
    let head = head.to_lowercase();
    assert_eq!(status, 201, "{text}");
    assert!(
        head.contains(r#"warning: 299 - "duplicate field \"data\"""#),
        "{head}"
    );
    assert!(
        head.contains(r#"warning: 299 - "unknown field \"extra\"""#),
        "{head}"
    );
    let (status, head, _) = post("ignore", "?fieldValidation=Ignore")
        .await
        .expect("answer");
    assert_eq!(status, 201);
    assert!(!head.to_lowercase().contains("warning"), "{head}");
    let stored = api.get("ignore").await.expect("stored");
    assert_eq!(
        stored.data.and_then(|d| d.get("k").cloned()).as_deref(),
        Some("2")
    );

    let (status, _, text) = post("bad", "?fieldValidation=Loose").await.expect("answer");
    assert_eq!(status, 400);
    assert!(
        text.contains(r#"supported values: \"Ignore\", \"Strict\", \"Warn\""#),
        "{text}"
    );
}
