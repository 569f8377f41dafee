//! Kubernetes manifests end to end (issue #5): the `braid` binary against kubesim, the
//! Kubernetes API emulator, started per test on a free 127.0.0.1 port — real HTTP, no mocks.
//! Outcomes are checked in braid's exit codes and plans, and in the objects read back from
//! the emulator; out-of-band changes stand for kubectl, controllers or people.
//!
//! The last test applies AWS (moto_server) and Kubernetes in one graph; it is skipped without
//! moto_server, except under CI (`CI` set), where it fails.

use std::time::{Duration, Instant};

use crate::common::{Project, Run, change, kubernetes_braid_hcl};
use braid_testkit::{KubeSim, MOTO_CREDENTIALS, MotoServer};
use serde_json::{Value, json};

const NAMESPACE: &str = "/api/v1/namespaces/shop";
const DEPLOYMENT: &str = "/apis/apps/v1/namespaces/shop/deployments/web";
const SERVICE: &str = "/api/v1/namespaces/shop/services/web";
const WEB: &str = "k8s/apps/Deployment/shop/web";

/// The `tests/fixtures/k8s/app` project (a Namespace, and a `web` kustomization with
/// overlays `staging` and `prod`) pointed at `sim`.
fn app_project(sim: &KubeSim) -> Project {
    let project = Project::fixture("k8s/app");
    project.write(
        "braid.hcl",
        &kubernetes_braid_hcl(&sim.kubeconfig(), &["staging:staging", "prod:prod"], ""),
    );
    project
}

/// A project with `main.hcl` (may be empty) and manifests in `deploy/`, one environment `dev`.
fn manifest_project(sim: &KubeSim, main_hcl: &str, manifests: &[(&str, &str)]) -> Project {
    let project = Project::with_files(&[
        (
            "braid.hcl",
            &kubernetes_braid_hcl(&sim.kubeconfig(), &["dev"], ""),
        ),
        ("main.hcl", main_hcl),
    ]);
    for (path, text) in manifests {
        project.write(&format!("deploy/{path}"), text);
    }
    project
}

fn staging(project: &Project, args: &[&str]) -> Run {
    let mut all = vec!["--env", "staging"];
    all.extend_from_slice(args);
    project.braid(&all)
}

fn dev(project: &Project, args: &[&str]) -> Run {
    let mut all = vec!["--env", "dev"];
    all.extend_from_slice(args);
    project.braid(&all)
}

/// Asserts that a plan has nothing to do.
#[track_caller]
fn assert_no_changes(run: &Run) {
    run.expect_code(0);
    assert!(run.stdout.contains("No changes."), "{}", run.all());
}

fn writes(sim: &KubeSim) -> Vec<String> {
    crate::common::kube_writes(sim)
}

#[track_caller]
fn position(lines: &[String], pred: impl Fn(&str) -> bool, what: &str) -> usize {
    lines
        .iter()
        .position(|l| pred(l))
        .unwrap_or_else(|| panic!("no {what} in {lines:#?}"))
}

/// The line index of the first line of `output` containing `needle`.
#[track_caller]
fn line_of(output: &str, needle: &str) -> usize {
    output
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{output}"))
}

/// `output` from the first line containing `needle` on.
#[track_caller]
fn after_line<'a>(output: &'a str, needle: &str) -> &'a str {
    let start = output
        .find(needle)
        .unwrap_or_else(|| panic!("no {needle:?} in:\n{output}"));
    &output[start..]
}

/// The progress lines of an apply: what it printed after the plan it showed.
#[track_caller]
fn progress_lines(run: &Run) -> String {
    let plan_end = run
        .stdout
        .find("\nPlan: ")
        .unwrap_or_else(|| panic!("no plan summary in:\n{}", run.all()));
    let rest = &run.stdout[plan_end + 1..];
    rest.split_once('\n').map_or("", |(_, r)| r).to_string()
}

/// The ConfigMap the `web` kustomization generated (its name has a content-hash suffix).
fn generated_config_map(sim: &KubeSim) -> Value {
    let list = sim
        .get("/api/v1/namespaces/shop/configmaps")
        .expect("configmaps list");
    let items: Vec<&Value> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| {
            i["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("web-config-"))
        })
        .collect();
    assert_eq!(items.len(), 1, "{list:#}");
    items[0].clone()
}

fn container(deployment: &Value) -> &Value {
    &deployment["spec"]["template"]["spec"]["containers"][0]
}

fn env_value<'a>(deployment: &'a Value, name: &str) -> &'a Value {
    container(deployment)["env"]
        .as_array()
        .expect("env list")
        .iter()
        .find(|e| e["name"] == name)
        .map(|e| &e["value"])
        .unwrap_or_else(|| panic!("no env {name} in {deployment:#}"))
}

/// Issue #5: a Namespace, a generated ConfigMap, a Deployment and a Service are created in
/// dependency order; planning again finds nothing to do.
#[test]
fn creates_namespace_configmap_deployment_and_service_in_order_then_plans_no_changes() {
    let sim = KubeSim::start();
    let project = app_project(&sim);

    let applied = staging(&project, &["apply", "--auto-approve"]);
    applied.success();
    assert!(
        applied
            .stdout
            .contains("Apply complete! Resources: 5 added, 0 changed, 0 replaced, 0 destroyed."),
        "{}",
        applied.all()
    );

    // The order as kubesim saw it: the namespace is written first, the ConfigMap before
    // the Deployment that reads it.
    let writes = writes(&sim);
    assert_eq!(
        writes.first().map(String::as_str),
        Some(NAMESPACE),
        "{writes:#?}"
    );
    let config_map = position(
        &writes,
        |p| p.starts_with("/api/v1/namespaces/shop/configmaps/web-config-"),
        "ConfigMap write",
    );
    let deployment = position(&writes, |p| p == DEPLOYMENT, "Deployment write");
    position(&writes, |p| p == SERVICE, "Service write");
    assert!(config_map < deployment, "{writes:#?}");

    // The same order in braid's own progress lines.
    let out = &progress_lines(&applied);
    let namespace_done = line_of(out, "k8s/core/Namespace/_/shop: Creation complete");
    let config_map_started = line_of(out, "k8s/core/ConfigMap/shop/web-config-");
    let config_map_done = out
        .lines()
        .position(|l| {
            l.starts_with("k8s/core/ConfigMap/shop/web-config-") && l.contains("Creation complete")
        })
        .expect("ConfigMap creation complete");
    let deployment_started = line_of(out, &format!("{WEB}: Creating..."));
    let service_started = line_of(out, "k8s/core/Service/shop/web: Creating...");
    assert!(namespace_done < config_map_started, "{out}");
    assert!(namespace_done < service_started, "{out}");
    assert!(config_map_done < deployment_started, "{out}");

    // What the cluster holds: the overlay's replicas and image, the generated ConfigMap
    // referenced by its hashed name.
    let deployment = sim.get(DEPLOYMENT).expect("Deployment exists");
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(
        container(&deployment)["image"],
        "registry.example.com/web:1.1.0-rc1"
    );
    let config_map = generated_config_map(&sim);
    assert_eq!(config_map["data"]["GREETING"], "hello");
    assert_eq!(
        container(&deployment)["envFrom"][0]["configMapRef"]["name"],
        config_map["metadata"]["name"]
    );
    let service = sim.get(SERVICE).expect("Service exists");
    assert_eq!(service["spec"]["ports"][0]["port"], 80);
    assert!(sim.get(NAMESPACE).is_some());

    assert_no_changes(&staging(&project, &["plan", "--detailed-exitcode"]));
}

/// Deletes run in reverse dependency order: the Deployment before the ConfigMap it reads,
/// the Namespace last.
#[test]
fn destroy_deletes_in_reverse_order() {
    let sim = KubeSim::start();
    let project = app_project(&sim);
    staging(&project, &["apply", "--auto-approve"]).success();
    sim.server().clear_requests();

    let destroyed = staging(&project, &["destroy", "--auto-approve"]);
    destroyed.success();
    let deletes: Vec<String> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE" && !r.query.contains("dryRun"))
        .map(|r| r.path)
        .collect();
    let deployment = position(&deletes, |p| p == DEPLOYMENT, "Deployment delete");
    let config_map = position(
        &deletes,
        |p| p.starts_with("/api/v1/namespaces/shop/configmaps/web-config-"),
        "ConfigMap delete",
    );
    assert!(deployment < config_map, "{deletes:#?}");
    assert_eq!(
        deletes.last().map(String::as_str),
        Some(NAMESPACE),
        "{deletes:#?}"
    );
    assert!(sim.get(DEPLOYMENT).is_none());
    assert!(sim.get(NAMESPACE).is_none());
    assert!(project.state_list(&["--env", "staging"]).is_empty());
}

/// Issue #5: a new image is an in-place update; a new selector (immutable) is a replace that
/// names `spec.selector`.
#[test]
fn image_change_updates_in_place_and_selector_change_replaces() {
    let sim = KubeSim::start();
    let project = app_project(&sim);
    staging(&project, &["apply", "--auto-approve"]).success();
    let uid = sim.get(DEPLOYMENT).expect("Deployment")["metadata"]["uid"].clone();

    project.edit(
        "deploy/web/overlays/staging/kustomization.yaml",
        "newTag: 1.1.0-rc1",
        "newTag: 1.1.0-rc2",
    );
    let planned = staging(
        &project,
        &["plan", "--format", "json", "--detailed-exitcode"],
    );
    planned.expect_code(2);
    let plan = planned.json();
    let web = change(&plan, WEB);
    assert_eq!(web["action"], "update", "{web:#}");
    assert_eq!(
        web["after"]["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example.com/web:1.1.0-rc2"
    );
    assert_eq!(web["replace_paths"], json!([]));
    assert_eq!(plan["summary"]["update"], 1, "{:#}", plan["summary"]);
    let human = staging(&project, &["plan"]);
    human.success();
    assert!(
        human
            .stdout
            .contains(&format!("# {WEB} will be updated in place")),
        "{}",
        human.all()
    );

    staging(&project, &["apply", "--auto-approve"]).success();
    let deployment = sim.get(DEPLOYMENT).expect("Deployment");
    assert_eq!(
        container(&deployment)["image"],
        "registry.example.com/web:1.1.0-rc2"
    );
    assert_eq!(
        deployment["metadata"]["uid"], uid,
        "an update keeps the object"
    );

    // A selector change: the server rejects it as immutable, so the plan is a replace.
    project.edit(
        "deploy/web/base/deployment.yaml",
        "matchLabels:\n      app: web\n",
        "matchLabels:\n      app: web\n      tier: frontend\n",
    );
    project.edit(
        "deploy/web/base/deployment.yaml",
        "labels:\n        app: web\n",
        "labels:\n        app: web\n        tier: frontend\n",
    );
    let planned = staging(&project, &["plan", "--format", "json"]);
    planned.success();
    let plan = planned.json();
    let web = change(&plan, WEB);
    assert_eq!(web["action"], "replace", "{web:#}");
    let replace_paths = web["replace_paths"].as_array().expect("replace_paths");
    assert!(
        replace_paths.iter().any(|p| p
            .as_array()
            .is_some_and(|p| p.len() >= 2 && p[0] == "spec" && p[1] == "selector")),
        "{web:#}"
    );
    let human = staging(&project, &["plan"]);
    human.success();
    assert!(
        human.stdout.contains(&format!("# {WEB} must be replaced")),
        "{}",
        human.all()
    );
    assert!(human.stdout.contains("spec.selector"), "{}", human.all());

    let applied = staging(&project, &["apply", "--auto-approve"]);
    applied.success();
    assert!(applied.stdout.contains("1 replaced"), "{}", applied.all());
    let deployment = sim.get(DEPLOYMENT).expect("Deployment recreated");
    assert_ne!(
        deployment["metadata"]["uid"], uid,
        "a replace makes a new object"
    );
    assert_eq!(
        deployment["spec"]["selector"]["matchLabels"],
        json!({"app": "web", "tier": "frontend"})
    );
    assert_no_changes(&staging(&project, &["plan", "--detailed-exitcode"]));
}

const PRUNE_MANIFESTS: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: keep-me
  namespace: shop
data:
  a: \"1\"
";

const PRUNABLE: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: old
  namespace: shop
data:
  a: \"1\"
";

const NOT_PRUNABLE: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: precious
  namespace: shop
  annotations:
    braid.dev/prune: \"false\"
data:
  a: \"1\"
";

/// Issue #5: an object whose manifest is removed is deleted ("not in configuration"), unless
/// it carries `braid.dev/prune: "false"`, which keeps it in the cluster and in state.
#[test]
fn removed_manifests_are_pruned_unless_annotated() {
    let sim = KubeSim::start();
    let project = manifest_project(
        &sim,
        "",
        &[
            ("base.yaml", PRUNE_MANIFESTS),
            ("old.yaml", PRUNABLE),
            ("precious.yaml", NOT_PRUNABLE),
        ],
    );
    dev(&project, &["apply", "--auto-approve"]).success();
    let old = "/api/v1/namespaces/shop/configmaps/old";
    let precious = "/api/v1/namespaces/shop/configmaps/precious";
    assert!(sim.get(old).is_some());
    assert!(sim.get(precious).is_some());

    std::fs::remove_file(project.join("deploy/old.yaml")).expect("remove old.yaml");
    std::fs::remove_file(project.join("deploy/precious.yaml")).expect("remove precious.yaml");

    let planned = dev(&project, &["plan", "--format", "json"]);
    planned.success();
    let plan = planned.json();
    let deleted = change(&plan, "k8s/core/ConfigMap/shop/old");
    assert_eq!(deleted["action"], "delete", "{deleted:#}");
    assert_eq!(deleted["reason"], "not in configuration");
    assert_eq!(plan["summary"]["delete"], 1, "{:#}", plan["summary"]);
    assert!(
        !plan["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .any(|c| c["address"] == "k8s/core/ConfigMap/shop/precious" && c["action"] == "delete"),
        "{plan:#}"
    );
    let human = dev(&project, &["plan"]);
    human.success();
    assert!(
        human
            .stdout
            .contains("# k8s/core/ConfigMap/shop/old will be destroyed (not in configuration)"),
        "{}",
        human.all()
    );
    let kept = after_line(&human.stdout, "but kept (braid.dev/prune");
    assert!(
        kept.contains("k8s/core/ConfigMap/shop/precious"),
        "{}",
        human.all()
    );

    let applied = dev(&project, &["apply", "--auto-approve"]);
    applied.success();
    assert!(applied.stdout.contains("1 destroyed"), "{}", applied.all());
    assert!(sim.get(old).is_none(), "the pruned ConfigMap is deleted");
    assert!(sim.get(precious).is_some(), "the kept ConfigMap stays");
    let state = project.state_list(&["--env", "dev"]);
    assert!(
        state.contains(&"k8s/core/ConfigMap/shop/precious".to_string()),
        "{state:?}"
    );
    assert!(
        !state.contains(&"k8s/core/ConfigMap/shop/old".to_string()),
        "{state:?}"
    );
    assert!(
        sim.get("/api/v1/namespaces/shop/configmaps/keep-me")
            .is_some()
    );
    dev(&project, &["plan", "--detailed-exitcode"]).expect_code(0);
}

const CRD: &str = "\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
";

const WIDGET: &str = "\
apiVersion: example.com/v1
kind: Widget
metadata:
  name: gear
  namespace: default
spec:
  size: 3
  color: blue
";

/// Issue #5: a CRD and a custom resource of its kind in one apply (the CR is planned from its
/// manifest and applied after the CRD is established).
#[test]
fn crd_and_custom_resource_in_one_apply() {
    let sim = KubeSim::start();
    let project = manifest_project(&sim, "", &[("crd.yaml", CRD), ("widget.yaml", WIDGET)]);

    let planned = dev(&project, &["plan", "--format", "json"]);
    planned.success();
    let plan = planned.json();
    let crd_address = "k8s/apiextensions.k8s.io/CustomResourceDefinition/_/widgets.example.com";
    let widget_address = "k8s/example.com/Widget/default/gear";
    assert_eq!(change(&plan, crd_address)["action"], "create");
    let widget = change(&plan, widget_address);
    assert_eq!(widget["action"], "create");
    assert!(
        widget["depends_on"]
            .as_array()
            .expect("depends_on")
            .iter()
            .any(|d| d == crd_address),
        "{widget:#}"
    );

    let applied = dev(&project, &["apply", "--auto-approve"]);
    applied.success();
    let progress = progress_lines(&applied);
    assert!(
        line_of(&progress, &format!("{crd_address}: Creation complete"))
            < line_of(&progress, &format!("{widget_address}: Creating...")),
        "{progress}"
    );
    let crd = sim
        .get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com")
        .expect("CRD exists");
    assert!(
        crd["status"]["conditions"]
            .as_array()
            .expect("conditions")
            .iter()
            .any(|c| c["type"] == "Established" && c["status"] == "True"),
        "{crd:#}"
    );
    let gear = sim
        .get("/apis/example.com/v1/namespaces/default/widgets/gear")
        .expect("Widget exists");
    assert_eq!(gear["spec"], json!({"size": 3, "color": "blue"}));
    assert_no_changes(&dev(&project, &["plan", "--detailed-exitcode"]));
}

const ADOPTED: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: legacy
  namespace: default
data:
  mode: fast
";

/// Issue #5: an object that already exists in the cluster but not in state is planned as an
/// import and is in state afterwards; fields other tools set are left alone.
#[test]
fn existing_object_is_adopted_with_import() {
    let sim = KubeSim::start();
    sim.create(
        "/api/v1/namespaces/default/configmaps",
        "kubectl-create",
        &json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "legacy", "namespace": "default", "labels": {"owner": "ops"}},
            "data": {"mode": "fast", "extra": "kept"}
        }),
    );
    let path = "/api/v1/namespaces/default/configmaps/legacy";
    let uid = sim.get(path).expect("legacy")["metadata"]["uid"].clone();
    let project = manifest_project(&sim, "", &[("legacy.yaml", ADOPTED)]);
    let address = "k8s/core/ConfigMap/default/legacy";

    let planned = dev(
        &project,
        &["plan", "--format", "json", "--detailed-exitcode"],
    );
    planned.expect_code(2);
    let plan = planned.json();
    let legacy = change(&plan, address);
    assert_eq!(legacy["action"], "import", "{legacy:#}");
    assert_eq!(plan["summary"]["import"], 1, "{:#}", plan["summary"]);
    let human = dev(&project, &["plan"]);
    assert!(
        human
            .stdout
            .contains(&format!("# {address} will be imported")),
        "{}",
        human.all()
    );

    let applied = dev(&project, &["apply", "--auto-approve"]);
    applied.success();
    assert!(applied.stdout.contains("1 imported"), "{}", applied.all());
    assert!(
        project
            .state_list(&["--env", "dev"])
            .contains(&address.to_string()),
        "not in state after the import"
    );
    let live = sim.get(path).expect("legacy still exists");
    assert_eq!(live["metadata"]["uid"], uid, "adopted, not recreated");
    assert_eq!(live["data"], json!({"mode": "fast", "extra": "kept"}));
    assert_eq!(live["metadata"]["labels"], json!({"owner": "ops"}));
    assert!(
        live["metadata"]["managedFields"]
            .as_array()
            .expect("managedFields")
            .iter()
            .any(|m| m["manager"] == "braid" && m["operation"] == "Apply"),
        "braid owns its fields after the apply: {live:#}"
    );
    assert_no_changes(&dev(&project, &["plan", "--detailed-exitcode"]));
}

const DRIFT_MANIFESTS: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: default
data:
  greeting: hello
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels: { app: api }
  template:
    metadata:
      labels: { app: api }
    spec:
      containers:
        - name: api
          image: registry.example.com/api:2.0.0
";

/// Issue #5: fields braid manages changed out of band — by `kubectl edit` (an Update by
/// another manager) and by a forced server-side apply of another manager — show as drift and
/// apply puts them back.
#[test]
fn out_of_band_edits_show_as_drift_and_apply_restores_them() {
    let sim = KubeSim::start();
    let project = manifest_project(&sim, "", &[("app.yaml", DRIFT_MANIFESTS)]);
    dev(&project, &["apply", "--auto-approve"]).success();
    let settings = "/api/v1/namespaces/default/configmaps/settings";
    let api = "/apis/apps/v1/namespaces/default/deployments/api";

    // `kubectl edit` changes braid's field and adds one of its own.
    sim.merge_patch(
        settings,
        "kubectl-edit",
        &json!({"data": {"greeting": "tampered", "note": "added-by-hand"}}),
    );
    sim.apply_as(
        api,
        "hotfixer",
        &json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "api", "namespace": "default"},
            "spec": {"template": {"spec": {"containers": [
                {"name": "api", "image": "registry.example.com/api:2.0.1-hotfix"}
            ]}}}
        }),
    );

    let planned = dev(&project, &["plan", "--detailed-exitcode"]);
    planned.expect_code(2);
    let drift_section = after_line(&planned.stdout, "Drift: objects changed outside braid");
    assert!(
        drift_section.contains("# k8s/core/ConfigMap/default/settings was changed outside braid"),
        "{}",
        planned.all()
    );
    assert!(
        drift_section.contains("# k8s/apps/Deployment/default/api was changed outside braid"),
        "{}",
        planned.all()
    );
    assert!(drift_section.contains("tampered"), "{}", planned.all());
    assert!(drift_section.contains("2.0.1-hotfix"), "{}", planned.all());
    // A field braid never managed is neither drift nor a change.
    assert!(!planned.stdout.contains("note"), "{}", planned.all());

    let json_plan = dev(&project, &["plan", "--format", "json"]);
    json_plan.success();
    let plan = json_plan.json();
    let drifted: Vec<&Value> = plan["drift"].as_array().expect("drift").iter().collect();
    assert_eq!(drifted.len(), 2, "{plan:#}");
    assert!(drifted.iter().all(|d| d["kind"] == "changed"), "{plan:#}");
    assert_eq!(
        change(&plan, "k8s/core/ConfigMap/default/settings")["action"],
        "update"
    );
    assert_eq!(
        change(&plan, "k8s/apps/Deployment/default/api")["action"],
        "update"
    );

    dev(&project, &["apply", "--auto-approve"]).success();
    assert_eq!(
        sim.get(settings).expect("settings")["data"],
        json!({"greeting": "hello", "note": "added-by-hand"})
    );
    assert_eq!(
        container(&sim.get(api).expect("api"))["image"],
        "registry.example.com/api:2.0.0"
    );
    assert_no_changes(&dev(&project, &["plan", "--detailed-exitcode"]));
}

const FAILING: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: broken
  namespace: shop
  annotations:
    kubesim.braid.dev/fail: \"true\"
spec:
  selector:
    matchLabels: { app: broken }
  template:
    metadata:
      labels: { app: broken }
    spec:
      containers:
        - name: app
          image: registry.example.com/broken:1.0.0
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: after-broken
  namespace: shop
  annotations:
    braid.dev/depends-on: \"k8s/apps/Deployment/shop/broken\"
data:
  a: \"1\"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: independent
  namespace: shop
data:
  a: \"1\"
";

/// Issue #5: a Deployment that never becomes ready fails the apply (exit 1) with
/// ProgressDeadlineExceeded; what depends on it is skipped, independent objects are applied.
#[test]
fn deployment_that_never_becomes_ready_fails_and_skips_its_dependents() {
    let sim = KubeSim::start();
    let project = manifest_project(
        &sim,
        "resource \"local_value\" \"unrelated\" {\n  input = \"x\"\n}\n",
        &[("app.yaml", FAILING)],
    );
    let started = Instant::now();
    let applied = dev(&project, &["apply", "--auto-approve"]);
    applied.failure();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
    let out = applied.all();
    assert!(
        out.contains("k8s/apps/Deployment/shop/broken: failed"),
        "{out}"
    );
    assert!(out.contains("ProgressDeadlineExceeded"), "{out}");
    assert!(
        out.contains(
            "k8s/core/ConfigMap/shop/after-broken: skipped (depends on k8s/apps/Deployment/shop/broken which failed)"
        ),
        "{out}"
    );
    assert!(out.contains("1 failed, 1 skipped"), "{out}");
    assert!(
        out.contains("k8s/core/ConfigMap/shop/independent: Creation complete"),
        "{out}"
    );
    assert!(
        out.contains("local_value.unrelated: Creation complete"),
        "{out}"
    );
    assert!(
        sim.get("/api/v1/namespaces/shop/configmaps/independent")
            .is_some()
    );
    assert!(
        sim.get("/api/v1/namespaces/shop/configmaps/after-broken")
            .is_none(),
        "a skipped object is not applied"
    );
    let state = project.state_list(&["--env", "dev"]);
    assert!(
        state.contains(&"k8s/core/ConfigMap/shop/independent".to_string()),
        "{state:?}"
    );
    assert!(
        !state.contains(&"k8s/core/ConfigMap/shop/after-broken".to_string()),
        "{state:?}"
    );
}

const CONFLICT_BEFORE: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: tuning
  namespace: default
data:
  mode: safe
";

const CONFLICT_AFTER: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: tuning
  namespace: default
data:
  mode: safe
  workers: \"4\"
";

/// Issue #5: a field another manager owns and braid never managed is a conflict: plan and
/// apply fail naming that manager; `--force-conflicts` takes the field over.
#[test]
fn ssa_conflict_names_the_other_manager_and_force_conflicts_takes_over() {
    let sim = KubeSim::start();
    let project = manifest_project(&sim, "", &[("tuning.yaml", CONFLICT_BEFORE)]);
    dev(&project, &["apply", "--auto-approve"]).success();
    let path = "/api/v1/namespaces/default/configmaps/tuning";
    sim.apply_as(
        path,
        "autoscaler-tool",
        &json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "tuning", "namespace": "default"},
            "data": {"workers": "16"}
        }),
    );
    project.write("deploy/tuning.yaml", CONFLICT_AFTER);

    let planned = dev(&project, &["plan"]);
    planned.failure();
    assert!(
        planned.all().contains("autoscaler-tool"),
        "{}",
        planned.all()
    );
    assert!(
        planned.all().contains("--force-conflicts"),
        "{}",
        planned.all()
    );
    let applied = dev(&project, &["apply", "--auto-approve"]);
    applied.failure();
    assert!(
        applied.all().contains("autoscaler-tool"),
        "{}",
        applied.all()
    );
    assert_eq!(sim.get(path).expect("tuning")["data"]["workers"], "16");

    let forced = dev(&project, &["--force-conflicts", "apply", "--auto-approve"]);
    forced.success();
    let live = sim.get(path).expect("tuning");
    assert_eq!(live["data"], json!({"mode": "safe", "workers": "4"}));
    let braid_fields = live["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .find(|m| m["manager"] == "braid")
        .expect("braid's managedFields entry")
        .clone();
    assert!(
        braid_fields["fieldsV1"]["f:data"]
            .get("f:workers")
            .is_some(),
        "braid owns data.workers now: {live:#}"
    );
    assert_no_changes(&dev(&project, &["plan", "--detailed-exitcode"]));
}

/// Adopting does not take fields over: an existing object whose field another manager set
/// to a different value is a conflict too, until `--force-conflicts`.
#[test]
fn adopting_an_object_with_a_conflicting_field_needs_force_conflicts() {
    let sim = KubeSim::start();
    let path = "/api/v1/namespaces/default/configmaps/tuning";
    sim.apply_as(
        path,
        "autoscaler-tool",
        &json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "tuning", "namespace": "default"},
            "data": {"mode": "fast"}
        }),
    );
    let project = manifest_project(&sim, "", &[("tuning.yaml", CONFLICT_BEFORE)]);

    let planned = dev(&project, &["plan"]);
    planned.failure();
    assert!(
        planned.all().contains("autoscaler-tool"),
        "{}",
        planned.all()
    );
    assert_eq!(sim.get(path).expect("tuning")["data"]["mode"], "fast");

    let forced = dev(&project, &["--force-conflicts", "apply", "--auto-approve"]);
    forced.success();
    assert!(forced.stdout.contains("1 imported"), "{}", forced.all());
    assert_eq!(sim.get(path).expect("tuning")["data"]["mode"], "safe");
    assert!(
        project
            .state_list(&["--env", "dev"])
            .contains(&"k8s/core/ConfigMap/default/tuning".to_string())
    );
    assert_no_changes(&dev(&project, &["plan", "--detailed-exitcode"]));
}

/// Issue #5: `--env staging` and `--env prod` render `overlays/staging` and `overlays/prod`
/// of the same base: different images and replicas, in the plan and in the cluster.
#[test]
fn overlay_per_environment_renders_different_images_and_replicas() {
    let sim = KubeSim::start();
    let project = app_project(&sim);
    let rendered = |env: &str| {
        let run = project.braid(&["--env", env, "plan", "--format", "json"]);
        run.success();
        let plan = run.json();
        let after = change(&plan, WEB)["after"].clone();
        (
            after["spec"]["replicas"].clone(),
            after["spec"]["template"]["spec"]["containers"][0]["image"].clone(),
        )
    };
    assert_eq!(
        rendered("staging"),
        (json!(2), json!("registry.example.com/web:1.1.0-rc1"))
    );
    assert_eq!(
        rendered("prod"),
        (json!(4), json!("registry.example.com/web:1.0.0"))
    );

    // Each environment applied to its own cluster.
    staging(&project, &["apply", "--auto-approve"]).success();
    let deployment = sim.get(DEPLOYMENT).expect("staging Deployment");
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(
        container(&deployment)["image"],
        "registry.example.com/web:1.1.0-rc1"
    );

    let prod_sim = KubeSim::start();
    let prod = app_project(&prod_sim);
    prod.braid(&["--env", "prod", "apply", "--auto-approve"])
        .success();
    let deployment = prod_sim.get(DEPLOYMENT).expect("prod Deployment");
    assert_eq!(deployment["spec"]["replicas"], 4);
    assert_eq!(
        container(&deployment)["image"],
        "registry.example.com/web:1.0.0"
    );
    assert_eq!(env_value(&deployment, "QUEUE_NAME"), "jobs-prod");
}

/// Issue #5: `${{ local_value.queue.id }}` is `(known after apply)` in the plan and the real
/// id in the live Deployment; a value known at plan time is there already.
#[test]
fn template_reference_is_known_after_apply_then_lands_in_the_live_object() {
    let sim = KubeSim::start();
    let project = app_project(&sim);

    let planned = staging(&project, &["plan", "--format", "json"]);
    planned.success();
    let plan = planned.json();
    let web = change(&plan, WEB);
    let queue_id_path = json!([
        "spec",
        "template",
        "spec",
        "containers",
        0,
        "env",
        0,
        "value"
    ]);
    assert!(
        web["after_unknown"]
            .as_array()
            .expect("after_unknown")
            .contains(&queue_id_path),
        "{web:#}"
    );
    assert!(
        web["depends_on"]
            .as_array()
            .expect("depends_on")
            .iter()
            .any(|d| d == "local_value.queue"),
        "{web:#}"
    );
    assert_eq!(
        web["after"]["spec"]["template"]["spec"]["containers"][0]["env"][1]["value"],
        "jobs-staging"
    );
    let human = staging(&project, &["plan"]);
    human.success();
    let web_block = after_line(&human.stdout, &format!("# {WEB} will be created"));
    let web_block = &web_block[..web_block.find("\n\n").unwrap_or(web_block.len())];
    assert!(web_block.contains("(known after apply)"), "{web_block}");
    assert!(web_block.contains("QUEUE_ID"), "{web_block}");

    let applied = staging(&project, &["apply", "--auto-approve"]);
    applied.success();
    let shown = staging(
        &project,
        &["--format", "json", "state", "show", "local_value.queue"],
    );
    shown.success();
    let queue = shown.json();
    let id = queue["attributes"]["id"]
        .as_str()
        .or_else(|| queue["id"].as_str())
        .unwrap_or_else(|| panic!("no id in {queue:#}"))
        .to_string();
    assert!(!id.is_empty());
    let deployment = sim.get(DEPLOYMENT).expect("Deployment");
    assert_eq!(env_value(&deployment, "QUEUE_ID"), id.as_str());
    assert_eq!(env_value(&deployment, "QUEUE_NAME"), "jobs-staging");
    assert_no_changes(&staging(&project, &["plan", "--detailed-exitcode"]));
}

/// Applies the app fixture in staging with kubesim failing requests, then checks that it
/// converged: exit 0, the objects in the cluster, and a clean plan once the faults stop.
#[track_caller]
fn assert_converges_despite_faults(sim: &KubeSim, project: &Project) {
    let started = Instant::now();
    staging(project, &["plan"]).success();
    let applied = staging(project, &["apply", "--auto-approve"]);
    applied.success();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "plan + apply took {:?}",
        started.elapsed()
    );
    sim.faults().clear();
    let deployment = sim.get(DEPLOYMENT).expect("Deployment exists");
    assert_eq!(
        container(&deployment)["image"],
        "registry.example.com/web:1.1.0-rc1"
    );
    assert!(sim.get(SERVICE).is_some());
    generated_config_map(sim);
    assert_no_changes(&staging(project, &["plan", "--detailed-exitcode"]));
}

fn scripted(
    method: Option<&str>,
    path: &str,
    times: u32,
    status: Option<u16>,
    drop: bool,
) -> kubesim::ScriptedFailure {
    kubesim::ScriptedFailure {
        method: method.map(str::to_string),
        path: path.to_string(),
        times,
        status,
        drop_connection: drop,
    }
}

/// Issue #5: 500s, a 429 with Retry-After and dropped connections on the requests braid
/// makes are retried; plan and apply converge.
#[test]
fn scripted_api_failures_are_retried_and_apply_converges() {
    let sim = KubeSim::start();
    let project = app_project(&sim);
    let faults = sim.faults();
    // Discovery, the dry-runs and the applies of each kind.
    faults.script(scripted(None, "/apis", 2, Some(500), false));
    faults.script(scripted(
        Some("PATCH"),
        "/api/v1/namespaces/shop",
        2,
        Some(503),
        false,
    ));
    faults.script(scripted(
        Some("PATCH"),
        "/apis/apps/v1/*/deployments/*",
        3,
        Some(500),
        false,
    ));
    faults.script(scripted(Some("PATCH"), "configmaps", 1, Some(429), false));
    faults.script(scripted(None, "services", 2, None, true));
    faults.script(scripted(Some("GET"), "deployments", 2, None, true));

    assert_converges_despite_faults(&sim, &project);

    let requests = sim.requests();
    let statuses: Vec<u16> = requests.iter().map(|r| r.status).collect();
    for status in [500, 503, 429, 0] {
        assert!(
            statuses.contains(&status),
            "no {status} was served: {requests:#?}"
        );
    }
}

/// Issue #5: one request in five fails at random (500, 429 with Retry-After, dropped
/// connection) during plan and apply; the apply still converges.
#[test]
fn random_api_failures_during_plan_and_apply_converge() {
    let sim = KubeSim::start_with(kubesim::Config {
        ready_delay: Duration::from_millis(100),
        faults: kubesim::Faults {
            failure_rate: 0.2,
            seed: 5,
            ..kubesim::Faults::default()
        },
        ..kubesim::Config::default()
    });
    let project = app_project(&sim);
    assert_converges_despite_faults(&sim, &project);
    let failed = sim
        .requests()
        .iter()
        .filter(|r| matches!(r.status, 0 | 429 | 500))
        .count();
    assert!(
        failed >= 3,
        "too few injected failures ({failed}) to prove anything"
    );
}

const SECRET: &str = "\
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: default
type: Opaque
stringData:
  password: hunter2-plaintext
data:
  token: czNjcjN0LXRva2VuLXZhbHVl
";

/// Every form a secret value could leak in: plain text and base64.
const SECRET_FORMS: &[&str] = &[
    "hunter2-plaintext",
    "aHVudGVyMi1wbGFpbnRleHQ=", // base64("hunter2-plaintext")
    "s3cr3t-token-value",
    "czNjcjN0LXRva2VuLXZhbHVl", // base64("s3cr3t-token-value")
    "rotated-password",
    "cm90YXRlZC1wYXNzd29yZA==", // base64("rotated-password")
];

#[track_caller]
fn assert_no_secret(what: &str, text: &str) {
    for form in SECRET_FORMS {
        assert!(
            !text.contains(form),
            "{what} shows the secret value {form}:\n{text}"
        );
    }
}

/// Issue #5: a Secret's `data` and `stringData` never show — not in plan output, JSON plans,
/// saved plan files, apply output or `braid show` — only `(sensitive)`.
#[test]
fn secret_values_never_appear_in_plans_files_or_show() {
    let sim = KubeSim::start();
    let project = manifest_project(&sim, "", &[("secret.yaml", SECRET)]);
    let address = "k8s/core/Secret/default/db";

    let human = dev(&project, &["plan"]);
    human.success();
    assert_no_secret("plan", &human.all());
    assert!(human.stdout.contains("(sensitive)"), "{}", human.all());
    let json_plan = dev(&project, &["plan", "--format", "json"]);
    json_plan.success();
    assert_no_secret("JSON plan", &json_plan.all());
    let plan = json_plan.json();
    assert!(
        change(&plan, address)["after_sensitive"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "{plan:#}"
    );
    let markdown = dev(&project, &["plan", "--format", "markdown"]);
    markdown.success();
    assert_no_secret("Markdown plan", &markdown.all());

    let saved = dev(&project, &["plan", "--out", "create.plan"]);
    saved.success();
    assert_no_secret("plan --out", &saved.all());
    assert_no_secret("saved plan file", &project.read("create.plan"));
    let shown = dev(&project, &["show", "create.plan"]);
    shown.success();
    assert_no_secret("show FILE", &shown.all());
    let applied = dev(&project, &["apply", "create.plan"]);
    applied.success();
    assert_no_secret("apply", &applied.all());

    // The secret did reach the cluster.
    let live = sim
        .get("/api/v1/namespaces/default/secrets/db")
        .expect("Secret exists");
    assert_eq!(live["data"]["password"], "aHVudGVyMi1wbGFpbnRleHQ=");
    assert_eq!(live["data"]["token"], "czNjcjN0LXRva2VuLXZhbHVl");

    for format in ["human", "json"] {
        let shown = dev(&project, &["--format", format, "show"]);
        shown.success();
        assert_no_secret("show", &shown.all());
        assert!(shown.stdout.contains("(sensitive)"), "{}", shown.all());
        let state = dev(&project, &["--format", format, "state", "show", address]);
        state.success();
        assert_no_secret("state show", &state.all());
    }
    assert_no_changes(&dev(&project, &["plan", "--detailed-exitcode"]));

    // A changed secret is an update that shows that it changes, never the value.
    project.edit(
        "deploy/secret.yaml",
        "hunter2-plaintext",
        "rotated-password",
    );
    let human = dev(&project, &["plan", "--detailed-exitcode"]);
    human.expect_code(2);
    assert_no_secret("update plan", &human.all());
    assert!(
        human
            .stdout
            .contains(&format!("# {address} will be updated in place")),
        "{}",
        human.all()
    );
    let saved = dev(
        &project,
        &["plan", "--format", "json", "--out", "rotate.plan"],
    );
    saved.success();
    assert_no_secret("update JSON plan", &saved.all());
    assert_no_secret("update plan file", &project.read("rotate.plan"));
    let plan = saved.json();
    assert!(
        change(&plan, address)["sensitive_changed"]
            .as_array()
            .is_some_and(|p| !p.is_empty()),
        "{plan:#}"
    );
    let applied = dev(&project, &["apply", "rotate.plan"]);
    applied.success();
    assert_no_secret("update apply", &applied.all());
    let live = sim
        .get("/api/v1/namespaces/default/secrets/db")
        .expect("Secret exists");
    assert_eq!(live["data"]["password"], "cm90YXRlZC1wYXNzd29yZA==");
    let history = dev(&project, &["history"]);
    assert_no_secret("history", &history.all());
}

const CROSS_PROVIDER_HCL: &str = r#"
resource "aws_iam_role" "app" {
  name = "braid-k8s-app"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRoleWithWebIdentity",
                   Principal = { Federated = "arn:aws:iam::123456789012:oidc-provider/oidc.example.com" } }]
  })
}

resource "aws_sqs_queue" "jobs" {
  name = "braid-k8s-jobs"
}
"#;

const CROSS_PROVIDER_MANIFESTS: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: worker
  namespace: shop
  annotations:
    eks.amazonaws.com/role-arn: "${{ aws_iam_role.app.arn }}"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  namespace: shop
spec:
  selector:
    matchLabels: { app: worker }
  template:
    metadata:
      labels: { app: worker }
    spec:
      serviceAccountName: worker
      containers:
        - name: worker
          image: registry.example.com/worker:1.0.0
          env:
            - name: JOBS_QUEUE_URL
              value: "${{ aws_sqs_queue.jobs.url }}"
"#;

/// Issue #6: one apply across providers — an IAM role and an SQS queue in moto_server, a
/// ServiceAccount and a Deployment in kubesim that receive the role's ARN and the queue's URL.
#[test]
fn aws_values_flow_into_kubernetes_objects_in_one_apply() {
    let moto = MotoServer::start();
    let sim = KubeSim::start();
    let aws = format!(
        "\nprovider \"aws\" {{\n  region   = \"us-east-1\"\n  endpoint = \"{}\"\n}}\n",
        moto.endpoint()
    );
    let project = Project::with_files(&[
        (
            "braid.hcl",
            &kubernetes_braid_hcl(&sim.kubeconfig(), &["dev"], &aws),
        ),
        ("main.hcl", CROSS_PROVIDER_HCL),
        ("deploy/worker.yaml", CROSS_PROVIDER_MANIFESTS),
    ]);
    let braid = |args: &[&str]| {
        let mut all = vec!["--env", "dev"];
        all.extend_from_slice(args);
        project.braid_env(&all, MOTO_CREDENTIALS)
    };

    let planned = braid(&["plan", "--format", "json"]);
    planned.success();
    let plan = planned.json();
    let account = change(&plan, "k8s/core/ServiceAccount/shop/worker");
    assert!(
        account["depends_on"]
            .as_array()
            .expect("depends_on")
            .iter()
            .any(|d| d == "aws_iam_role.app"),
        "{account:#}"
    );
    assert!(
        account["after_unknown"]
            .as_array()
            .expect("after_unknown")
            .contains(&json!([
                "metadata",
                "annotations",
                "eks.amazonaws.com/role-arn"
            ])),
        "{account:#}"
    );

    let applied = braid(&["apply", "--auto-approve"]);
    applied.success();
    let progress = progress_lines(&applied);
    assert!(
        line_of(&progress, "aws_sqs_queue.jobs: Creation complete")
            < line_of(&progress, "k8s/apps/Deployment/shop/worker: Creating..."),
        "{progress}"
    );

    // What moto reports.
    let (_, role) = moto.request_to(
        "iam",
        "GET",
        "/?Action=GetRole&RoleName=braid-k8s-app&Version=2010-05-08",
    );
    let arn = xml_text(&role, "Arn").unwrap_or_else(|| panic!("no role ARN in {role}"));
    let (_, queues) = moto.request_to("sqs", "GET", "/?Action=ListQueues");
    let url = queue_url(&queues, "braid-k8s-jobs");
    assert!(arn.starts_with("arn:aws:iam::"), "{arn}");

    // What the cluster holds.
    let account = sim
        .get("/api/v1/namespaces/shop/serviceaccounts/worker")
        .expect("ServiceAccount exists");
    assert_eq!(
        account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"],
        arn.as_str()
    );
    let deployment = sim
        .get("/apis/apps/v1/namespaces/shop/deployments/worker")
        .expect("Deployment exists");
    assert_eq!(env_value(&deployment, "JOBS_QUEUE_URL"), url.as_str());

    let again = braid(&["plan", "--detailed-exitcode"]);
    assert_no_changes(&again);
}

/// The text of the first `<tag>…</tag>` in an XML answer.
fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].trim().to_string())
}

/// The URL of the queue `name` in a ListQueues answer (XML or JSON, by moto version).
#[track_caller]
fn queue_url(answer: &str, name: &str) -> String {
    let end = answer
        .find(&format!("/{name}"))
        .unwrap_or_else(|| panic!("no queue {name} in {answer}"))
        + name.len()
        + 1;
    let start = answer[..end]
        .rfind("http")
        .unwrap_or_else(|| panic!("no URL for {name} in {answer}"));
    answer[start..end].to_string()
}

/// Names go into API URL paths, so `..` or `/` in one would address another object: each is
/// checked by Kubernetes' own rules (RFC 1123) where it is written, before any request.
#[test]
fn object_names_and_namespaces_are_checked_before_they_reach_a_url() {
    let sim = KubeSim::start();
    for (manifest, bad) in [
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ../../namespaces/kube-system\n  namespace: shop\n",
            "metadata.name",
        ),
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: a/b\n",
            "metadata.namespace",
        ),
        (
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop.example\n",
            "metadata.name",
        ),
    ] {
        let project = manifest_project(&sim, "", &[("cm.yaml", &format!("---\n{manifest}"))]);
        let run = dev(&project, &["plan"]);
        run.failure();
        assert!(
            run.stderr.contains("error: Invalid Kubernetes name"),
            "{manifest}:\n{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("--> deploy/cm.yaml:2"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(bad), "{bad} not named:\n{}", run.stderr);
        assert!(run.stderr.contains("RFC 1123"), "{}", run.stderr);
    }
    assert!(writes(&sim).is_empty(), "nothing may reach the API");
}

#[test]
fn provider_default_namespace_is_checked() {
    let sim = KubeSim::start();
    let project = Project::with_files(&[
        (
            "braid.hcl",
            &kubernetes_braid_hcl(&sim.kubeconfig(), &["dev"], "")
                .replace("kubeconfig = ", "namespace  = \"../x\"\n  kubeconfig = "),
        ),
        ("main.hcl", ""),
        (
            "deploy/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n",
        ),
    ]);
    let run = dev(&project, &["plan"]);
    run.failure();
    assert!(
        run.stderr.contains("Invalid Kubernetes name") && run.stderr.contains("namespace"),
        "{}",
        run.stderr
    );
    assert!(writes(&sim).is_empty(), "nothing may reach the API");
}

/// A `kubernetes_manifest` written in HCL gets the same name checks as a YAML manifest, in
/// the provider itself: `..` or `/` never reaches an API URL.
#[test]
fn hcl_manifest_names_are_checked_before_any_request() {
    let sim = KubeSim::start();
    for (name, namespace) in [
        ("../secrets", "default"),
        ("web", "../kube-system"),
        ("a/b", "default"),
    ] {
        let project = manifest_project(
            &sim,
            &format!(
                "resource \"kubernetes_manifest\" \"cm\" {{\n  apiVersion = \"v1\"\n  kind       = \"ConfigMap\"\n  metadata   = {{ name = \"{name}\", namespace = \"{namespace}\" }}\n  data       = {{ a = \"1\" }}\n}}\n"
            ),
            &[("keep.yaml", "")],
        );
        let run = dev(&project, &["plan"]);
        run.failure();
        assert!(
            run.stderr.contains("Invalid Kubernetes name"),
            "{name} {namespace}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("main.hcl:"), "{}", run.stderr);
    }
    let paths: Vec<String> = sim.requests().into_iter().map(|r| r.path).collect();
    assert!(
        paths
            .iter()
            .all(|p| !p.contains("..") && !p.contains("a/b")),
        "{paths:?}"
    );
}

/// Issue #15: a label or annotation value that is a number or a bool in an HCL-written
/// manifest is a clear error naming the field, not "Kubernetes API unreachable".
#[test]
fn hcl_manifest_label_values_must_be_strings() {
    let sim = KubeSim::start();
    for (field, value, kind) in [
        ("labels", "2", "a number"),
        ("annotations", "true", "a bool"),
    ] {
        let project = manifest_project(
            &sim,
            &format!(
                "resource \"kubernetes_manifest\" \"cm\" {{\n  apiVersion = \"v1\"\n  kind       = \"ConfigMap\"\n  metadata   = {{ name = \"web\", namespace = \"default\", {field} = {{ version = {value} }} }}\n}}\n"
            ),
            &[("keep.yaml", "")],
        );
        let run = dev(&project, &["plan"]);
        run.failure();
        assert!(
            run.stderr.contains(&format!(
                "The value of metadata.{field}.version is {kind}, but label and annotation values are strings"
            )) && run.stderr.contains("tostring()")
                && run.stderr.contains("main.hcl:"),
            "{}",
            run.all()
        );
        assert!(!run.stderr.contains("unreachable"), "{}", run.stderr);
    }
    assert!(writes(&sim).is_empty(), "nothing may reach the API");
}

/// A name Kustomize generates (a `namePrefix`, a generator's hashed name) is checked like a
/// written one: the diagnostic says what is wrong with the name, not that the API is
/// unreachable.
#[test]
fn generated_names_are_checked_too() {
    let sim = KubeSim::start();
    let project = manifest_project(
        &sim,
        "",
        &[
            (
                "kustomization.yaml",
                "namePrefix: Web_\nresources:\n  - cm.yaml\nconfigMapGenerator:\n  - name: settings\n    literals:\n      - a=1\n",
            ),
            (
                "cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: default\n",
            ),
        ],
    );
    let run = dev(&project, &["plan"]);
    run.failure();
    assert!(
        run.stderr.contains("Invalid Kubernetes name"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Web_"), "{}", run.stderr);
    assert!(!run.stderr.contains("unreachable"), "{}", run.stderr);
    assert!(writes(&sim).is_empty(), "nothing may reach the API");
}

/// Installs a CRD (YAML) in the cluster as another tool would, outside braid.
fn install_crd(sim: &KubeSim, yaml: &str) {
    let crd: serde_json::Value = serde_yaml_ng::from_str(yaml).expect("CRD yaml");
    sim.create(
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        "installer",
        &crd,
    );
}

/// Issue #15: a custom kind whose CRD is in the cluster but in no source takes its scope
/// from the cluster's discovery — a cluster-scoped ClusterIssuer gets no namespace, even
/// under a kustomization's `namespace:` — and when the cluster cannot be asked, braid says
/// which kinds it had to guess.
#[test]
fn custom_kinds_take_their_scope_from_the_cluster() {
    let sim = KubeSim::start();
    for (plural, kind, scope) in [
        ("clusterissuers", "ClusterIssuer", "Cluster"),
        ("certificates", "Certificate", "Namespaced"),
    ] {
        let crd = CRD
            .replace("widgets.example.com", &format!("{plural}.cert-manager.io"))
            .replace("group: example.com", "group: cert-manager.io")
            .replace("scope: Namespaced", &format!("scope: {scope}"))
            .replace("plural: widgets", &format!("plural: {plural}"))
            .replace(
                "singular: widget",
                &format!("singular: {}", kind.to_lowercase()),
            )
            .replace("kind: Widget", &format!("kind: {kind}"));
        install_crd(&sim, &crd);
    }
    let project = manifest_project(
        &sim,
        "",
        &[
            (
                "kustomization.yaml",
                "namespace: shop\nresources:\n- namespace.yaml\n- issuer.yaml\n- certificate.yaml\n",
            ),
            (
                "namespace.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
            ),
            (
                "issuer.yaml",
                "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: letsencrypt\nspec:\n  acme: {}\n",
            ),
            (
                "certificate.yaml",
                "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: web\nspec:\n  secretName: web-tls\n",
            ),
        ],
    );
    let planned = dev(&project, &["plan", "--format", "json"]);
    planned.success();
    assert!(
        !planned.stderr.contains("Scope of a custom kind unknown"),
        "{}",
        planned.all()
    );
    let plan = planned.json();
    assert_eq!(
        change(&plan, "k8s/cert-manager.io/ClusterIssuer/_/letsencrypt")["action"],
        "create"
    );
    assert_eq!(
        change(&plan, "k8s/cert-manager.io/Certificate/shop/web")["action"],
        "create"
    );
    dev(&project, &["apply", "--auto-approve"]).success();
    assert!(
        sim.get("/apis/cert-manager.io/v1/clusterissuers/letsencrypt")
            .is_some()
    );
    dev(&project, &["plan", "--detailed-exitcode"]).expect_code(0);

    // No cluster to ask: braid guesses namespaced and says so, naming the kind.
    let unreachable = project.path().join("no-such-kubeconfig");
    project.write(
        "braid.hcl",
        &kubernetes_braid_hcl(&unreachable.display().to_string(), &["dev"], ""),
    );
    let validated = dev(&project, &["validate"]);
    validated.success();
    assert!(
        validated.stderr.contains("Scope of a custom kind unknown")
            && validated.stderr.contains("ClusterIssuer")
            && validated.stderr.contains("Certificate"),
        "{}",
        validated.all()
    );
}

/// Issue #15: a strategic-merge patch of a custom kind whose CRD is in the cluster (not in
/// any source) merges its lists on the keys of the cluster's schema (`/openapi/v3`), as the
/// API server would; without that schema the list would be replaced.
#[test]
fn patches_of_custom_kinds_merge_on_the_clusters_schema() {
    let sim = KubeSim::start();
    let crd = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: pipelines.example.com
spec:
  group: example.com
  names: {kind: Pipeline, plural: pipelines, singular: pipeline}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              stages:
                type: array
                x-kubernetes-list-type: map
                x-kubernetes-list-map-keys: [id]
                items:
                  type: object
                  x-kubernetes-preserve-unknown-fields: true
";
    install_crd(&sim, crd);
    let project = manifest_project(
        &sim,
        "",
        &[
            (
                "kustomization.yaml",
                "resources:\n- pipeline.yaml\npatches:\n- path: patch.yaml\n",
            ),
            (
                "pipeline.yaml",
                "apiVersion: example.com/v1\nkind: Pipeline\nmetadata:\n  name: build\n  namespace: default\nspec:\n  stages:\n  - id: test\n    image: golang:1.22\n  - id: lint\n    image: golangci:1\n",
            ),
            (
                "patch.yaml",
                "apiVersion: example.com/v1\nkind: Pipeline\nmetadata:\n  name: build\n  namespace: default\nspec:\n  stages:\n  - id: test\n    image: golang:1.23\n",
            ),
        ],
    );
    let planned = dev(&project, &["plan", "--format", "json"]);
    planned.success();
    let plan = planned.json();
    let pipeline = change(&plan, "k8s/example.com/Pipeline/default/build");
    assert_eq!(
        pipeline["after"]["spec"]["stages"],
        serde_json::json!([
            {"id": "test", "image": "golang:1.23"},
            {"id": "lint", "image": "golangci:1"}
        ]),
        "{pipeline:#}"
    );
}

/// Issue #16: prune runs strictly last — with 16 changes at a time, no object is deleted
/// before every create and update of the apply has finished (kubesim's request log), and a
/// failed create keeps the apply from pruning anything.
#[test]
fn prune_runs_after_every_create_and_update() {
    let sim = KubeSim::start();
    let config_map = |name: &str, value: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\ndata:\n  v: \"{value}\"\n"
        )
    };
    let mut files: Vec<(String, String)> = (0..6)
        .map(|i| {
            (
                format!("old-{i}.yaml"),
                config_map(&format!("old-{i}"), "1"),
            )
        })
        .collect();
    files.push(("keep.yaml".to_string(), config_map("keep", "1")));
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let project = manifest_project(&sim, "", &borrowed);
    dev(&project, &["apply", "--auto-approve"]).success();

    for i in 0..6 {
        std::fs::remove_file(project.join(&format!("deploy/old-{i}.yaml"))).expect("remove");
        project.write(
            &format!("deploy/new-{i}.yaml"),
            &config_map(&format!("new-{i}"), "1"),
        );
    }
    project.write("deploy/keep.yaml", &config_map("keep", "2"));
    let before = sim.requests().len();
    dev(
        &project,
        &["apply", "--auto-approve", "--parallelism", "16"],
    )
    .success();
    let writes: Vec<(String, String)> = sim.requests()[before..]
        .iter()
        .filter(|r| {
            matches!(r.method.as_str(), "PATCH" | "POST" | "PUT" | "DELETE")
                && !r.query.contains("dryRun")
                && (200..300).contains(&r.status)
        })
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    let last_write = writes
        .iter()
        .rposition(|(m, _)| m != "DELETE")
        .expect("creates and updates");
    let first_delete = writes
        .iter()
        .position(|(m, _)| m == "DELETE")
        .expect("deletes");
    assert!(first_delete > last_write, "{writes:#?}");
    assert_eq!(writes.iter().filter(|(m, _)| m == "DELETE").count(), 6);

    // A create that fails at apply: nothing is pruned.
    project.write("deploy/bad.yaml", &config_map("bad", "1"));
    std::fs::remove_file(project.join("deploy/new-0.yaml")).expect("remove");
    dev(&project, &["plan", "--out", "dev.plan"]).success();
    sim.faults().script(scripted(
        Some("PATCH"),
        "/api/v1/namespaces/default/configmaps/bad",
        10,
        Some(403),
        false,
    ));
    let failed = dev(&project, &["apply", "dev.plan"]);
    failed.failure();
    assert!(
        sim.get("/api/v1/namespaces/default/configmaps/new-0")
            .is_some(),
        "pruned although the apply failed: {}",
        failed.all()
    );
    assert!(
        failed
            .all()
            .contains("deletes run only after every create and update succeeded, and k8s/core/ConfigMap/default/bad failed"),
        "{}",
        failed.all()
    );
    sim.faults().clear();
}

/// Issue #16: a change still running is reported at every interval, as Terraform's
/// `Still creating... [10s elapsed]` (the interval lowered to 1 s for the test).
#[test]
fn slow_changes_report_that_they_are_still_running() {
    let sim = KubeSim::start();
    let project = manifest_project(
        &sim,
        "",
        &[(
            "cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: slow\n  namespace: default\ndata:\n  a: b\n",
        )],
    );
    sim.faults()
        .set_latency(std::time::Duration::from_millis(700));
    let run = project.braid_env(
        &["--env", "dev", "apply", "--auto-approve"],
        &[("BRAID_PROGRESS_INTERVAL", "1")],
    );
    sim.faults().clear();
    run.success();
    let out = &run.stdout;
    let creating = out
        .find("k8s/core/ConfigMap/default/slow: Creating...")
        .expect("the start line");
    let still = out
        .find("k8s/core/ConfigMap/default/slow: Still creating... [1s elapsed]")
        .unwrap_or_else(|| panic!("no still-running line in {out}"));
    let complete = out
        .find("k8s/core/ConfigMap/default/slow: Creation complete")
        .expect("the end line");
    assert!(creating < still && still < complete, "{out}");
}

/// Issue #16: on a terminal, apply draws a live display — the counts, and each change in
/// flight with its latest progress and elapsed time — under the lines, and takes it away
/// at the end; no "Still creating" lines then. `script` gives braid the pseudo-terminal.
#[test]
fn a_terminal_gets_the_live_progress_display() {
    let sim = KubeSim::start();
    let project = manifest_project(
        &sim,
        "",
        &[(
            "cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: slow\n  namespace: default\ndata:\n  a: b\n",
        )],
    );
    sim.faults()
        .set_latency(std::time::Duration::from_millis(700));
    let run = crate::common::run_braid_on_terminal(
        project.path(),
        &["--env", "dev", "apply", "--auto-approve"],
        &[("BRAID_PROGRESS_INTERVAL", "1")],
    );
    sim.faults().clear();
    let out = &run.stdout;
    assert_eq!(run.code, 0, "{out}");
    assert!(out.contains("Applying ["), "no live display in {out}");
    assert!(out.contains("0/1 1 in flight"), "{out}");
    assert!(
        out.contains("k8s/core/ConfigMap/default/slow: Creating... ["),
        "the change in flight with its elapsed time: {out}"
    );
    assert!(
        out.contains("k8s/core/ConfigMap/default/slow: Creation complete"),
        "{out}"
    );
    assert!(out.contains("Apply complete!"), "{out}");
    assert!(!out.contains("Still creating"), "{out}");

    let plain = crate::common::run_braid_on_terminal(
        project.path(),
        &[
            "--env",
            "dev",
            "apply",
            "--auto-approve",
            "--replace",
            "k8s/core/ConfigMap/default/slow",
        ],
        &[("BRAID_PROGRESS", "plain")],
    );
    assert_eq!(plain.code, 0, "{}", plain.stdout);
    assert!(
        !plain.stdout.contains("Applying ["),
        "BRAID_PROGRESS=plain: {}",
        plain.stdout
    );
}

/// Issue #16: a custom resource is healthy by kstatus' generic rules — braid waits while it
/// is `Reconciling`, finishes once `Ready` is `True`, and fails on `Stalled`, saying why.
#[test]
fn custom_resources_are_waited_for_by_their_conditions() {
    let sim = KubeSim::start();
    install_crd(&sim, CRD);
    let project = manifest_project(&sim, "", &[("widget.yaml", WIDGET)]);
    let path = "/apis/example.com/v1/namespaces/default/widgets/gear";
    let status =
        |conditions: serde_json::Value| serde_json::json!({"status": {"conditions": conditions}});
    let wait_for_object = || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while sim.get(path).is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "the widget never appeared"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    };

    // A controller already works on the object: it is reconciling when braid applies.
    let mut existing: serde_json::Value = serde_yaml_ng::from_str(WIDGET).expect("widget");
    existing["status"] = serde_json::json!({"conditions": [
        {"type": "Reconciling", "status": "True", "reason": "Provisioning", "message": "creating the gear"}
    ]});
    sim.create(
        "/apis/example.com/v1/namespaces/default/widgets",
        "controller",
        &existing,
    );
    wait_for_object();
    let child = crate::common::spawn_braid(
        project.path(),
        &["--env", "dev", "apply", "--auto-approve"],
        &[],
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let applied_by_braid = |w: &serde_json::Value| {
        w["metadata"]["managedFields"].as_array().is_some_and(|m| {
            m.iter()
                .any(|f| f["manager"] == "braid" && f["operation"] == "Apply")
        })
    };
    let mut child = Some(child);
    while !sim.get(path).is_some_and(|w| applied_by_braid(&w)) {
        if std::time::Instant::now() > deadline {
            let run = crate::common::wait_braid(child.take().expect("braid"));
            panic!("braid never applied the widget: {}", run.all());
        }
        assert!(
            std::time::Instant::now() < deadline,
            "braid never applied the widget"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    sim.merge_patch(
        path,
        "controller",
        &status(serde_json::json!([
            {"type": "Reconciling", "status": "False"},
            {"type": "Ready", "status": "True"}
        ])),
    );
    let run = crate::common::wait_braid(child.take().expect("braid"));
    run.success();
    assert!(
        run.stdout.contains(
            "k8s/example.com/Widget/default/gear: reconciling: Provisioning: creating the gear"
        ),
        "{}",
        run.all()
    );

    // Stalled: the controller gave up on the object; the apply fails with its reason.
    sim.merge_patch(
        path,
        "controller",
        &status(serde_json::json!([
            {"type": "Stalled", "status": "True", "reason": "InvalidSize", "message": "size 4 is not offered"}
        ])),
    );
    project.edit("deploy/widget.yaml", "size: 3", "size: 4");
    let child = crate::common::spawn_braid(
        project.path(),
        &["--env", "dev", "apply", "--auto-approve"],
        &[],
    );
    let failed = crate::common::wait_braid(child);
    failed.failure();
    assert!(
        failed
            .all()
            .contains("stalled: InvalidSize: size 4 is not offered"),
        "{}",
        failed.all()
    );
}
