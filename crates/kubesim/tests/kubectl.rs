//! The real `kubectl` against kubesim, as people use it on a cluster: apply with its default
//! validation (client- and server-side), scale, diff, rollout status, explain (OpenAPI v3
//! and the v2 protobuf), and get events.
//!
//! kubectl is `$BRAID_KUBECTL` or `kubectl` on PATH (see tests/README.md); these tests fail
//! when it cannot be run.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use kube::api::{Api, DynamicObject, GroupVersionKind};
use kube::discovery::ApiResource;
use serde_json::Value;

fn kubectl_program() -> PathBuf {
    std::env::var_os("BRAID_KUBECTL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("kubectl"))
}

/// A kubectl bound to one emulator, with its own discovery cache.
struct Kubectl {
    kubeconfig: PathBuf,
    cache: tempfile::TempDir,
    dir: tempfile::TempDir,
}

impl Kubectl {
    fn new(server: &kubesim::Server) -> Self {
        Kubectl {
            kubeconfig: server.kubeconfig_path().to_path_buf(),
            cache: tempfile::tempdir().expect("cache dir"),
            dir: tempfile::tempdir().expect("work dir"),
        }
    }

    /// Writes a manifest into the work directory.
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write manifest");
        path
    }

    fn run(&self, args: &[&str]) -> Output {
        let program = kubectl_program();
        Command::new(&program)
            .args(args)
            .arg("--cache-dir")
            .arg(self.cache.path())
            .env("KUBECONFIG", &self.kubeconfig)
            .env("KUBECTL_EXTERNAL_DIFF", "diff -u")
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} ({e}): install kubectl or point BRAID_KUBECTL at it",
                    program.display()
                )
            })
    }

    /// Runs kubectl and expects success; returns stdout and stderr together.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let text = text_of(&out);
        assert!(out.status.success(), "kubectl {args:?} failed:\n{text}");
        text
    }

    /// Runs kubectl and expects it to fail; returns stdout and stderr together.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let text = text_of(&out);
        assert!(!out.status.success(), "kubectl {args:?} succeeded:\n{text}");
        text
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["-o", "json"]);
        let out = self.run(&all);
        assert!(
            out.status.success(),
            "kubectl {all:?} failed:\n{}",
            text_of(&out)
        );
        serde_json::from_slice(&out.stdout).expect("kubectl prints JSON")
    }
}

fn text_of(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
";

async fn cluster() -> common::Cluster {
    common::start_with(kubesim::Config {
        ready_delay: Duration::from_millis(200),
        ..kubesim::Config::default()
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_with_default_validation_creates_and_refuses_unknown_fields() {
    let cluster = cluster().await;
    let k = Kubectl::new(&cluster.server);
    let manifest = k.file("web.yaml", DEPLOYMENT);
    let out = k.ok(&["apply", "-f", path(&manifest)]);
    assert!(out.contains("deployment.apps/web created"), "{out}");
    let out = k.ok(&["apply", "-f", path(&manifest)]);
    assert!(out.contains("deployment.apps/web unchanged"), "{out}");

    // A misspelt field: kubectl's default (strict) validation is done by the server.
    let typo = k.file(
        "typo.yaml",
        &DEPLOYMENT.replace("  replicas: 2", "  replicas: 3\n  replicaz: 3"),
    );
    let out = k.fails(&["apply", "-f", path(&typo)]);
    assert!(out.contains("unknown field \"spec.replicaz\""), "{out}");
    let out = k.fails(&["apply", "--server-side", "-f", path(&typo)]);
    assert!(out.contains("unknown field \"spec.replicaz\""), "{out}");
    let live = k.json(&["get", "deploy", "web"]);
    assert_eq!(
        live["spec"]["replicas"], 2,
        "a refused apply changes nothing"
    );

    // --validate=warn: applied without the unknown field, with kubectl's warning.
    let out = k.ok(&["apply", "--validate=warn", "-f", path(&typo)]);
    assert!(
        out.contains("Warning: unknown field \"spec.replicaz\""),
        "{out}"
    );
    let live = k.json(&["get", "deploy", "web"]);
    assert_eq!(live["spec"]["replicas"], 3);
    assert!(
        live["spec"].get("replicaz").is_none(),
        "unknown fields are dropped"
    );

    // Server-side apply of a valid change, then kubectl create of a fresh object.
    let ssa = k.file("ssa.yaml", &DEPLOYMENT.replace("nginx:1.27", "nginx:1.28"));
    let out = k.ok(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        path(&ssa),
    ]);
    assert!(
        out.contains("deployment.apps/web serverside-applied"),
        "{out}"
    );
    let cm = k.file(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: \"1\"}\n",
    );
    let out = k.ok(&["create", "-f", path(&cm)]);
    assert!(out.contains("configmap/settings created"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_rollout_status_and_events() {
    let cluster = cluster().await;
    let k = Kubectl::new(&cluster.server);
    let manifest = k.file("web.yaml", DEPLOYMENT);
    k.ok(&["apply", "-f", path(&manifest)]);
    let out = k.ok(&["rollout", "status", "deploy/web", "--timeout=30s"]);
    assert!(out.contains("successfully rolled out"), "{out}");

    let out = k.ok(&["scale", "deploy", "web", "--replicas=4"]);
    assert!(out.contains("deployment.apps/web scaled"), "{out}");
    let live = k.json(&["get", "deploy", "web"]);
    assert_eq!(live["spec"]["replicas"], 4);
    let out = k.ok(&["rollout", "status", "deploy/web", "--timeout=30s"]);
    assert!(out.contains("successfully rolled out"), "{out}");
    let live = k.json(&["get", "deploy", "web"]);
    assert_eq!(live["status"]["availableReplicas"], 4);
    let raw = k.ok(&[
        "get",
        "--raw",
        "/apis/apps/v1/namespaces/default/deployments/web/scale",
    ]);
    let scale: Value = serde_json::from_str(&raw).expect("a Scale in JSON");
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["status"]["selector"], "app=web");

    // A precondition kubectl checks before scaling.
    let out = k.fails(&[
        "scale",
        "deploy",
        "web",
        "--current-replicas=2",
        "--replicas=5",
    ]);
    assert!(out.contains("Expected replicas to be 2, was 4"), "{out}");

    let events = k.json(&["get", "events"]);
    let messages: Vec<String> = events["items"]
        .as_array()
        .expect("an event list")
        .iter()
        .filter(|e| e["involvedObject"]["name"] == "web" && e["reason"] == "ScalingReplicaSet")
        .filter_map(|e| e["message"].as_str().map(str::to_string))
        .collect();
    assert!(
        messages.iter().any(|m| m.ends_with("from 0 to 2"))
            && messages.iter().any(|m| m.ends_with("from 2 to 4")),
        "{messages:?}"
    );
    // The table view and the events.k8s.io API list them too.
    let out = k.ok(&["get", "events"]);
    assert!(
        out.contains("ScalingReplicaSet") || out.contains("web."),
        "{out}"
    );
    let newer = k.json(&["get", "events.v1.events.k8s.io"]);
    assert!(
        newer["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|e| e["regarding"]["name"] == "web"
                && e["note"]
                    .as_str()
                    .is_some_and(|n| n.ends_with("from 2 to 4")))),
        "{newer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_show_as_warning_events_and_rollout_status_fails() {
    let cluster = cluster().await;
    let k = Kubectl::new(&cluster.server);
    let failing = DEPLOYMENT.replace(
        "  namespace: default\n",
        "  namespace: default\n  annotations: {kubesim.braid.dev/fail: \"true\"}\n",
    );
    let manifest = k.file("web.yaml", &failing);
    k.ok(&["apply", "-f", path(&manifest)]);
    let out = k.fails(&["rollout", "status", "deploy/web", "--timeout=20s"]);
    assert!(out.contains("exceeded its progress deadline"), "{out}");
    let events = k.json(&["get", "events", "--field-selector", "type=Warning"]);
    let reasons: Vec<&str> = events["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["reason"].as_str())
        .collect();
    assert!(reasons.contains(&"ProgressDeadlineExceeded"), "{events}");
    assert!(
        !reasons.contains(&"ScalingReplicaSet"),
        "only warnings: {reasons:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_shows_what_apply_would_change() {
    let cluster = cluster().await;
    let k = Kubectl::new(&cluster.server);
    let manifest = k.file("web.yaml", DEPLOYMENT);
    k.ok(&["apply", "-f", path(&manifest)]);
    let out = k.run(&["diff", "-f", path(&manifest)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "no difference: {}",
        text_of(&out)
    );

    let changed = k.file(
        "changed.yaml",
        &DEPLOYMENT.replace("replicas: 2", "replicas: 5"),
    );
    let out = k.run(&["diff", "-f", path(&changed)]);
    let text = text_of(&out);
    assert_eq!(out.status.code(), Some(1), "a difference: {text}");
    assert!(
        text.contains("-  replicas: 2") && text.contains("+  replicas: 5"),
        "{text}"
    );
    // Server-side: kubectl-client-side-apply owns the replicas, so the dry run must force.
    let out = k.run(&["diff", "--server-side", "-f", path(&changed)]);
    let text = text_of(&out);
    assert!(
        text.contains("conflict with \"kubectl-client-side-apply\""),
        "{text}"
    );
    let out = k.run(&[
        "diff",
        "--server-side",
        "--force-conflicts",
        "-f",
        path(&changed),
    ]);
    let text = text_of(&out);
    assert_eq!(out.status.code(), Some(1), "a difference: {text}");
    assert!(text.contains("+  replicas: 5"), "{text}");
    // diff is a dry run: nothing changed.
    assert_eq!(k.json(&["get", "deploy", "web"])["spec"]["replicas"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_reads_openapi_v3_and_the_v2_protobuf() {
    let cluster = cluster().await;
    let k = Kubectl::new(&cluster.server);
    let out = k.ok(&["explain", "deployment.spec.replicas"]);
    assert!(out.contains("GROUP:      apps"), "{out}");
    assert!(out.contains("Number of desired pods"), "{out}");
    let out = k.ok(&["explain", "pods.spec.containers", "--recursive"]);
    assert!(out.contains("imagePullPolicy"), "{out}");
    let out = k.ok(&[
        "explain",
        "--output",
        "plaintext-openapiv2",
        "deployment.spec",
    ]);
    assert!(out.contains("DeploymentSpec is the specification"), "{out}");
    assert!(out.contains("revisionHistoryLimit"), "{out}");
    let out = k.fails(&["explain", "deployment.spec.nosuchfield"]);
    assert!(out.contains("nosuchfield"), "{out}");
}

const CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.size
        statusReplicasPath: .status.size
        labelSelectorPath: .status.selector
    schema:
      openAPIV3Schema:
        type: object
        description: A widget for the emulator's tests.
        properties:
          spec:
            type: object
            description: What the widget should be.
            properties:
              size: {type: integer, description: How many parts the widget has.}
              colour: {type: string}
          status:
            type: object
            properties:
              size: {type: integer}
              selector: {type: string}
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_resources_validate_explain_and_scale() {
    let cluster = cluster().await;
    let k = Kubectl::new(&cluster.server);
    let crd = k.file("crd.yaml", CRD);
    k.ok(&["apply", "-f", path(&crd)]);
    k.ok(&[
        "wait",
        "--for=condition=Established",
        "crd/widgets.example.com",
        "--timeout=20s",
    ]);
    let widget = k.file(
        "w.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 1, colour: red}\n",
    );
    let out = k.ok(&["apply", "-f", path(&widget)]);
    assert!(out.contains("widget.example.com/w1 created"), "{out}");
    let bad = k.file(
        "bad.yaml",
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w2}\nspec: {size: 1, shape: round}\n",
    );
    let out = k.fails(&["apply", "-f", path(&bad)]);
    assert!(out.contains("unknown field \"spec.shape\""), "{out}");

    let out = k.ok(&["explain", "widgets.spec.size"]);
    assert!(out.contains("How many parts the widget has"), "{out}");

    let out = k.ok(&["scale", "widget", "w1", "--replicas=3"]);
    assert!(out.contains("widget.example.com/w1 scaled"), "{out}");
    let api: Api<DynamicObject> = Api::namespaced_with(
        cluster.client.clone(),
        "default",
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("example.com", "v1", "Widget"),
            "widgets",
        ),
    );
    let live = api.get("w1").await.expect("widget");
    assert_eq!(live.data["spec"]["size"], 3);
    assert_eq!(live.data["spec"]["colour"], "red");
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}
