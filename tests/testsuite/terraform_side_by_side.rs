//! One configuration of 21 AWS resource types (tests/fixtures/aws15), applied by `terraform`
//! 1.11 and by braid through the same `terraform-provider-aws` 5.100.0, each against a fresh
//! `moto_server`; what each leaves in AWS is compared through boto3 (`describe.py`) after
//! the first apply (with an imported object), after an update in place and a replacement.
//! braid then re-plans empty, sees a change made by hand in `braid drift`, puts it back, and
//! destroys everything. A Kubernetes Deployment in braid's graph gets the queue URL.

use std::sync::mpsc;

use braid_testkit::{KubeSim, MotoServer};

use crate::common::{Project, fixtures_dir, terraform};

const FILES: &[&str] = &["main.tf", "provider.tf", "import.tf"];

fn fixture(name: &str) -> String {
    let path = fixtures_dir().join("aws15").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Runs one of the fixture's Python scripts against `endpoint` and returns its stdout.
fn script(name: &str, args: &[&str]) -> String {
    let out = MotoServer::python()
        .arg(fixtures_dir().join("aws15").join(name))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {name}: {e}"));
    assert!(
        out.status.success(),
        "{name} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn describe(moto: &MotoServer) -> String {
    script("describe.py", &[&moto.endpoint()])
}

/// terraform's side, in a thread of its own: what its moto holds after the first apply,
/// then after the update and the replacement. Returns its moto and working directory
/// (with terraform.tfstate).
fn terraform_side(
    moto: MotoServer,
    results: mpsc::Sender<String>,
) -> (MotoServer, tempfile::TempDir) {
    let dir = braid_testkit::tempdir();
    for name in FILES {
        std::fs::write(dir.path().join(name), fixture(name)).expect("write");
    }
    let rc = crate::common::mirror_cli_config(dir.path());
    let endpoint = format!("endpoint={}", moto.endpoint());
    script("precreate.py", &[&moto.endpoint()]);
    terraform(dir.path(), &rc, &["init", "-input=false"], &[0]);
    let applied = terraform(
        dir.path(),
        &rc,
        &["apply", "-auto-approve", "-input=false", "-var", &endpoint],
        &[0],
    );
    assert!(applied.contains("1 imported, 23 added"), "{applied}");
    terraform(
        dir.path(),
        &rc,
        &[
            "plan",
            "-detailed-exitcode",
            "-input=false",
            "-var",
            &endpoint,
        ],
        &[0],
    );
    let _ = results.send(describe(&moto));
    terraform(
        dir.path(),
        &rc,
        &[
            "apply",
            "-auto-approve",
            "-input=false",
            "-var",
            &endpoint,
            "-var",
            "retention=14",
            "-var",
            "param_suffix=-v2",
        ],
        &[0],
    );
    let _ = results.send(describe(&moto));
    (moto, dir)
}

const DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels: { app: worker }
  template:
    metadata:
      labels: { app: worker }
    spec:
      containers:
        - name: worker
          image: registry.example.com/worker:1.0
          env:
            - name: QUEUE_URL
              value: "${{ aws_sqs_queue.jobs.url }}"
"#;

fn braid_hcl(kubeconfig: &str, endpoint: &str, extra_vars: &str) -> String {
    crate::common::kubernetes_braid_hcl(kubeconfig, &[], "").replace(
        "\nprovider \"kubernetes\"",
        &format!(
            "environment \"dev\" {{\n  variables = {{\n    endpoint = \"{endpoint}\"{extra_vars}\n  }}\n}}\n\nprovider \"kubernetes\""
        ),
    )
}

#[test]
fn twenty_one_types_apply_like_terraform_update_replace_drift_import_destroy() {
    let tf_moto = MotoServer::start();
    let moto = MotoServer::start();
    let sim = KubeSim::start();
    let (send, from_terraform) = mpsc::channel();
    let tf = std::thread::spawn(move || terraform_side(tf_moto, send));

    let mut files: Vec<(String, String)> = FILES
        .iter()
        .map(|name| ((*name).to_string(), fixture(name)))
        .collect();
    files.push((
        "braid.hcl".to_string(),
        braid_hcl(&sim.kubeconfig(), &moto.endpoint(), ""),
    ));
    files.push(("deploy/worker.yaml".to_string(), DEPLOYMENT.to_string()));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let project = Project::with_files(&refs);
    let rc = crate::common::mirror_cli_config(project.path());
    let env = [("TF_CLI_CONFIG_FILE", rc.as_str())];
    let braid = |args: &[&str]| {
        let mut all = vec!["--env", "dev", "--no-color"];
        all.extend_from_slice(args);
        project.braid_env(&all, &env)
    };

    script("precreate.py", &[&moto.endpoint()]);
    braid(&["init"]).success();
    let plan = braid(&["plan"]);
    plan.success();
    // 23 AWS objects and the Deployment to add, one log group to import.
    assert!(
        plan.stdout
            .contains("Plan: 24 to add, 0 to change, 0 to replace, 0 to destroy, 1 to import."),
        "{}",
        plan.all()
    );
    let applied = braid(&["apply", "--auto-approve"]);
    applied.success();
    let again = braid(&["plan", "--detailed-exitcode"]);
    again.expect_code(0);

    // The same objects as terraform made.
    let ours = describe(&moto);
    let theirs = from_terraform.recv().expect("terraform's first apply");
    assert_eq!(ours, theirs, "braid's objects differ from terraform's");

    // The Deployment in the same graph got the queue's URL.
    let url = braid(&["output", "--raw", "queue_url"]);
    let url = url.success().stdout.trim().to_string();
    assert!(url.ends_with("/braid-aws15-jobs"), "{url}");
    let deployment = sim
        .get("/apis/apps/v1/namespaces/default/deployments/worker")
        .expect("the Deployment exists");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"],
        url.as_str(),
        "{deployment:#}"
    );

    // An update in place and a replacement, as terraform made them.
    project.write(
        "braid.hcl",
        &braid_hcl(
            &sim.kubeconfig(),
            &moto.endpoint(),
            "\n    retention = 14\n    param_suffix = \"-v2\"",
        ),
    );
    let plan = braid(&["plan"]);
    plan.success();
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 1 to change, 1 to replace, 0 to destroy"),
        "{}",
        plan.all()
    );
    braid(&["apply", "--auto-approve"]).success();
    let ours = describe(&moto);
    let theirs = from_terraform.recv().expect("terraform's second apply");
    assert_eq!(ours, theirs, "after the update and replacement");
    braid(&["plan", "--detailed-exitcode"]).expect_code(0);

    // Someone changes the log group's retention by hand: braid drift shows it, apply puts
    // it back.
    script("drift.py", &[&moto.endpoint(), "retention"]);
    let drift = braid(&["drift"]);
    drift.expect_code(2);
    assert!(
        drift.stdout.contains("aws_cloudwatch_log_group.app")
            && drift.stdout.contains("retention_in_days"),
        "{}",
        drift.all()
    );
    braid(&["apply", "--auto-approve"]).success();
    assert_eq!(describe(&moto), theirs, "after putting the drift back");

    // Destroy: nothing of the configuration is left (the KMS key waits for deletion, as
    // AWS keeps it), and the Deployment is gone.
    braid(&["destroy", "--auto-approve"]).success();
    let left: serde_json::Value = serde_json::from_str(&describe(&moto)).expect("JSON");
    for (service, objects) in left.as_object().expect("an object") {
        let objects = objects.as_array().expect("a list");
        match service.as_str() {
            "kms_keys" => assert!(
                objects.iter().all(|k| k["KeyState"] == "PendingDeletion"),
                "{objects:#?}"
            ),
            // moto's own default zone records are not ours; none of ours is left.
            _ => assert!(objects.is_empty(), "{service}: {objects:#?}"),
        }
    }
    assert!(
        sim.get("/apis/apps/v1/namespaces/default/deployments/worker")
            .is_none()
    );

    // The state terraform wrote, adopted by braid: every object is plugin-served, and the
    // next plan against terraform's moto is empty.
    let (tf_moto, tf_dir) = tf.join().expect("terraform's side");
    let adopted = Project::with_files(&[
        ("main.tf", &fixture("main.tf")),
        ("provider.tf", &fixture("provider.tf")),
        (
            "braid.hcl",
            &format!(
                "source \"infra\" {{ path = \".\" }}\nenvironment \"dev\" {{\n  variables = {{\n    endpoint = \"{}\"\n    retention = 14\n    param_suffix = \"-v2\"\n  }}\n}}\n",
                tf_moto.endpoint()
            ),
        ),
    ]);
    let rc = crate::common::mirror_cli_config(adopted.path());
    let env = [("TF_CLI_CONFIG_FILE", rc.as_str())];
    let state = tf_dir.path().join("terraform.tfstate");
    let imported = adopted.braid_env(
        &[
            "--env",
            "dev",
            "state",
            "import-terraform",
            state.to_str().expect("UTF-8 path"),
        ],
        &env,
    );
    imported.success();
    assert!(imported.stdout.contains("24"), "{}", imported.all());
    let plan = adopted.braid_env(&["--env", "dev", "plan", "--detailed-exitcode"], &env);
    plan.expect_code(0);
    assert!(plan.stdout.contains("No changes."), "{}", plan.all());
}
