//! Resource types served by a Terraform provider plugin through the `braid` binary: the real
//! `terraform-provider-aws` 5.100.0, found in a filesystem mirror through the Terraform CLI
//! configuration, against moto. Plan, apply, a no-op plan, an update, and a delete; what
//! exists is asked of moto directly.

use braid_testkit::MotoServer;

use crate::common::Project;

fn braid_hcl(endpoint: &str) -> String {
    format!(
        r#"source "infra" {{ path = "." }}

environment "dev" {{}}

provider "aws" {{
  region                  = "us-east-1"
  access_key              = "testing"
  secret_key              = "testing"
  skip_metadata_api_check = true
  endpoints {{
    sts  = "{endpoint}"
    logs = "{endpoint}"
    ssm  = "{endpoint}"
    sqs  = "{endpoint}"
  }}
}}
"#
    )
}

const MAIN_TF: &str = r#"
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "braid-app"
  retention_in_days = 7
  tags              = { team = "core" }
}

resource "aws_ssm_parameter" "group" {
  name  = "/app/log-group"
  type  = "String"
  value = aws_cloudwatch_log_group.app.arn
}

output "group_arn" {
  value = aws_cloudwatch_log_group.app.arn
}
"#;

/// `TF_CLI_CONFIG_FILE` naming the test mirror.
fn cli_config(project: &Project) -> (String, String) {
    (
        "TF_CLI_CONFIG_FILE".to_owned(),
        crate::common::mirror_cli_config(project.path()),
    )
}

fn retention(moto: &MotoServer) -> Option<i64> {
    let (status, body) = moto.json_request(
        "logs",
        "Logs_20140328.DescribeLogGroups",
        r#"{"logGroupNamePrefix": "braid-app"}"#,
    );
    assert_eq!(status, 200, "{body}");
    let groups: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    groups["logGroups"]
        .as_array()
        .and_then(|g| g.first())
        .map(|g| g["retentionInDays"].as_i64().unwrap_or_default())
}

#[test]
fn plugin_served_resources_plan_apply_update_and_delete() {
    let moto = MotoServer::start();
    let project = Project::with_files(&[
        ("braid.hcl", &braid_hcl(&moto.endpoint())),
        ("main.tf", MAIN_TF),
    ]);
    let (key, value) = cli_config(&project);
    let env = [(key.as_str(), value.as_str())];

    let providers = project.braid_env(&["--env", "dev", "providers"], &env);
    providers.success();
    assert!(
        providers
            .stdout
            .contains("aws: plugin registry.terraform.io/hashicorp/aws 5.100.0 (protocol 5)"),
        "{}",
        providers.all()
    );
    assert!(
        providers
            .stdout
            .contains("types: aws_cloudwatch_log_group, aws_ssm_parameter"),
        "{}",
        providers.all()
    );
    let json = project.braid_env(&["--env", "dev", "--format", "json", "providers"], &env);
    let doc = json.success().json();
    assert_eq!(doc["providers"][0]["served_by"], "plugin");
    assert_eq!(doc["providers"][0]["protocol"], 5);

    let planned = project.braid_env(&["--env", "dev", "plan"], &env);
    planned.success();
    assert!(
        planned.stdout.contains("Plan: 2 to add"),
        "{}",
        planned.all()
    );
    assert!(
        planned.stdout.contains("(known after apply)"),
        "{}",
        planned.all()
    );

    project
        .braid_env(&["--env", "dev", "apply", "--auto-approve"], &env)
        .success();
    assert_eq!(retention(&moto), Some(7));
    let (status, body) = moto.json_request(
        "ssm",
        "AmazonSSM.GetParameter",
        r#"{"Name": "/app/log-group"}"#,
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("arn:aws:logs:us-east-1:"), "{body}");
    let output = project.braid_env(&["--env", "dev", "output", "group_arn"], &env);
    assert!(
        output.success().stdout.contains("arn:aws:logs:us-east-1:"),
        "{}",
        output.all()
    );

    // State keeps what the plugin returned beside each object: its private data and the
    // type's schema version. For a log group (no timeouts) the SDK's private data is the
    // JSON `null` — Terraform's state records the same ("private": "bnVsbA==").
    let pulled = project.braid_env(&["--env", "dev", "state", "pull"], &env);
    let dump = pulled.success().json();
    let resources = dump["resources"].as_array().expect("resources");
    let group = resources
        .iter()
        .find(|r| r["address"] == "aws_cloudwatch_log_group.app")
        .expect("the log group in state");
    assert_eq!(group["meta"]["schema_version"], 0, "{group:#}");
    use base64::Engine as _;
    let private = base64::engine::general_purpose::STANDARD
        .decode(group["meta"]["private"].as_str().expect("private data"))
        .expect("base64");
    assert_eq!(String::from_utf8_lossy(&private), "null");

    // Nothing to do: the plugin's read and plan agree with state.
    let again = project.braid_env(&["--env", "dev", "plan", "--detailed-exitcode"], &env);
    again.expect_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.all());

    // An update in place.
    project.edit("main.tf", "retention_in_days = 7", "retention_in_days = 14");
    let update = project.braid_env(&["--env", "dev", "apply", "--auto-approve"], &env);
    update.success();
    assert!(
        update.stdout.contains("1 changed") || update.stdout.contains("1 updated"),
        "{}",
        update.all()
    );
    assert_eq!(retention(&moto), Some(14));

    // Removed from configuration: deleted.
    project.write(
        "main.tf",
        "terraform {\n  required_providers {\n    aws = { source = \"hashicorp/aws\" }\n  }\n}\n",
    );
    project
        .braid_env(&["--env", "dev", "apply", "--auto-approve"], &env)
        .success();
    assert_eq!(retention(&moto), None, "the log group is still there");
}

#[test]
fn a_missing_plugin_is_a_clear_error() {
    let project = Project::with_files(&[
        (
            "braid.hcl",
            "source \"infra\" { path = \".\" }\nenvironment \"dev\" {}\n",
        ),
        (
            "main.tf",
            "terraform {\n  required_providers {\n    cloudflare = { source = \"cloudflare/cloudflare\", version = \"~> 4.0\" }\n  }\n}\n\nresource \"cloudflare_record\" \"www\" {\n  name = \"www\"\n}\n",
        ),
    ]);
    let (key, value) = cli_config(&project);
    let run = project.braid_env(&["--env", "dev", "plan"], &[(key.as_str(), value.as_str())]);
    run.expect_code(1);
    run.assert_no_panic();
    let all = run.all();
    assert!(all.contains("Provider plugin not available"), "{all}");
    assert!(
        all.contains("\"cloudflare/cloudflare\" (version ~> 4.0)"),
        "{all}"
    );
    assert!(all.contains("filesystem_mirror"), "{all}");
}

/// A plugin-served resource in the same graph as Kubernetes manifests: a ConfigMap reads the
/// log group's ARN through `${{ }}` as it would a built-in resource's; then the group is
/// changed behind braid's back (moto directly) and `braid drift` reports it, read through the
/// plugin; the next apply puts it back.
#[test]
fn plugin_attributes_reach_manifests_and_drift_shows() {
    let moto = MotoServer::start();
    let sim = braid_testkit::KubeSim::start();
    let aws = braid_hcl(&moto.endpoint());
    let aws = aws
        .split_once("provider \"aws\"")
        .map(|(_, block)| format!("provider \"aws\"{block}"))
        .expect("the provider block");
    let project = Project::with_files(&[
        (
            "braid.hcl",
            &crate::common::kubernetes_braid_hcl(&sim.kubeconfig(), &["dev"], &aws),
        ),
        ("main.tf", MAIN_TF),
        (
            "deploy/config.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: logging\n  namespace: default\ndata:\n  LOG_GROUP_ARN: \"${{ aws_cloudwatch_log_group.app.arn }}\"\n",
        ),
    ]);
    let (key, value) = cli_config(&project);
    let env = [(key.as_str(), value.as_str())];
    project
        .braid_env(&["--env", "dev", "apply", "--auto-approve"], &env)
        .success();
    let config_map = sim
        .get("/api/v1/namespaces/default/configmaps/logging")
        .expect("the ConfigMap exists");
    let arn = config_map["data"]["LOG_GROUP_ARN"]
        .as_str()
        .unwrap_or_default();
    assert!(arn.starts_with("arn:aws:logs:us-east-1:"), "{config_map:#}");
    assert!(arn.contains("braid-app"), "{arn}");

    // Someone changes the retention by hand.
    let (status, body) = moto.json_request(
        "logs",
        "Logs_20140328.PutRetentionPolicy",
        r#"{"logGroupName": "braid-app", "retentionInDays": 30}"#,
    );
    assert_eq!(status, 200, "{body}");
    let drift = project.braid_env(&["--env", "dev", "drift"], &env);
    drift.expect_code(2);
    assert!(
        drift.stdout.contains("aws_cloudwatch_log_group.app"),
        "{}",
        drift.all()
    );
    assert!(
        drift.stdout.contains("retention_in_days"),
        "{}",
        drift.all()
    );
    project
        .braid_env(&["--env", "dev", "apply", "--auto-approve"], &env)
        .success();
    assert_eq!(retention(&moto), Some(7));
    project
        .braid_env(&["--env", "dev", "plan", "--detailed-exitcode"], &env)
        .expect_code(0);
}

/// Ctrl-C during a long provider operation: `terraform-provider-aws` waits about 26 s after
/// creating an SQS queue (for its attributes to settle). braid sends StopProvider on the
/// first interrupt, as Terraform does, so the create ends at once; the queue, which exists,
/// is recorded, and the next apply finishes the job without creating a second one.
#[test]
fn an_interrupt_stops_the_plugins_operations_in_flight() {
    use std::io::Read as _;
    use std::time::{Duration, Instant};

    let moto = MotoServer::start();
    let endpoint = moto.endpoint();
    let project = Project::with_files(&[
        ("braid.hcl", &braid_hcl(&endpoint)),
        (
            "main.tf",
            "terraform {\n  required_providers {\n    aws = { source = \"hashicorp/aws\" }\n  }\n}\n\nresource \"aws_sqs_queue\" \"jobs\" {\n  name = \"braid-jobs\"\n}\n",
        ),
    ]);
    let (key, value) = cli_config(&project);
    let env = [(key.as_str(), value.as_str())];
    let mut child = crate::common::spawn_braid(
        project.path(),
        &["--env", "dev", "apply", "--auto-approve"],
        &env,
    );
    let mut stdout = child.stdout.take().expect("stdout");
    let mut seen = String::new();
    let mut buf = [0u8; 256];
    while !seen.contains("Creating...") {
        let n = stdout.read(&mut buf).expect("read stdout");
        assert!(n > 0, "braid ended before creating the queue: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    // Let the create call reach the provider's wait.
    std::thread::sleep(Duration::from_secs(3));
    let interrupted = Instant::now();
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("read stdout");
    seen.push_str(&rest);
    let run = crate::common::wait_braid(child);
    let took = interrupted.elapsed();
    assert_eq!(run.code, 130, "stdout:\n{seen}\nstderr:\n{}", run.stderr);
    run.assert_no_panic();
    assert!(
        took < Duration::from_secs(15),
        "the provider's 26 s wait was not cut short: braid took {took:?} after the interrupt\n{seen}\n{}",
        run.stderr
    );
    // The queue exists, and state knows it.
    let (status, body) = moto.json_request("sqs", "AmazonSQS.ListQueues", "{}");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("braid-jobs"), "{body}");
    assert_eq!(
        project.state_list(&["--env", "dev"]),
        vec!["aws_sqs_queue.jobs".to_string()],
        "stdout:\n{seen}\nstderr:\n{}",
        run.stderr
    );
}
