//! `data` blocks: read during plan when their arguments are known, during apply when they
//! depend on values or changes only apply makes; for the local, kubernetes (kubesim) and aws
//! (moto) providers.

use crate::common::{Project, addresses_with_action, change, kubernetes_braid_hcl};
use braid_testkit::{KubeSim, MOTO_CREDENTIALS, MotoServer};

const BRAID_HCL: &str = "source \"infra\" {\n  path = \".\"\n}\n";

#[test]
fn local_file_is_read_at_plan_or_after_the_change_it_depends_on() {
    let project = Project::with_files(&[
        ("braid.hcl", BRAID_HCL),
        ("greeting.txt", "hello\n"),
        (
            "main.tf",
            r#"
data "local_file" "greeting" {
  filename = "greeting.txt"
}
resource "local_file" "copy" {
  filename = "out/copy.txt"
  content  = upper(data.local_file.greeting.content)
}
data "local_file" "copied" {
  filename = local_file.copy.filename
}
resource "local_value" "digest" {
  input = data.local_file.copied.content_sha256
}
output "id" {
  value = data.local_file.greeting.id
}
output "copied" {
  value = data.local_file.copied.content
}
"#,
        ),
    ]);
    let run = project.braid(&["plan", "--format", "json"]);
    run.success();
    let plan = run.json();
    // sha1("hello\n"), as Terraform's local_file data source gives for its id.
    assert_eq!(
        plan["outputs"]["id"]["value"],
        "f572d396fae9206628714fb2ce00f72e94f2258f"
    );
    assert_eq!(
        addresses_with_action(&plan, "read"),
        ["data.local_file.copied"]
    );
    assert_eq!(
        change(&plan, "data.local_file.copied")["reason"],
        "depends on a resource with changes pending"
    );
    assert_eq!(plan["outputs"]["copied"]["unknown"], true);
    let human = project.braid(&["plan"]);
    assert!(
        human
            .stdout
            .contains("# data.local_file.copied will be read during apply"),
        "{}",
        human.stdout
    );
    assert!(
        human.stdout.contains("<= data \"local_file\" \"copied\""),
        "{}",
        human.stdout
    );
    let applied = project.braid(&["apply", "--auto-approve", "--format", "json"]);
    applied.success();
    assert_eq!(project.read("out/copy.txt"), "HELLO\n");
    // Data sources are read, never kept in state.
    assert_eq!(
        project.state_list(&[]),
        ["local_file.copy", "local_value.digest"]
    );
    let again = project.braid(&["plan", "--format", "json"]);
    again.success();
    let again = again.json();
    assert!(
        addresses_with_action(&again, "read").is_empty(),
        "{again:#}"
    );
    assert_eq!(again["outputs"]["copied"]["value"], "HELLO\n");
    assert_eq!(again["summary"]["create"], 0);
    assert_eq!(again["summary"]["update"], 0);
}

#[test]
fn data_sources_are_checked_and_confined_to_the_project() {
    let cases: &[(&str, &str)] = &[
        (
            "data \"local_file\" \"x\" {\n  filename = \"../../etc/passwd\"\n}\noutput \"x\" {\n  value = data.local_file.x.content\n}\n",
            "inside the project directory",
        ),
        (
            "data \"local_file\" \"x\" {\n  filename = \"/etc/passwd\"\n}\n",
            "inside the project directory",
        ),
        (
            "data \"local_file\" \"x\" {\n  filename = \"missing.txt\"\n}\n",
            "No file exists at missing.txt",
        ),
        (
            "data \"local_files\" \"x\" {\n  filename = \"a\"\n}\n",
            "Unknown data source",
        ),
        (
            "data \"local_file\" \"x\" {\n  filename = \"a\"\n  lifecycle {\n    prevent_destroy = true\n  }\n}\n",
            "A data block's lifecycle holds only precondition and postcondition blocks",
        ),
        (
            "data \"local_file\" \"x\" {\n  filename = \"x.txt\"\n  lifecycle {\n    postcondition {\n      condition     = self.content == \"expected\"\n      error_message = \"x.txt holds ${self.content}\"\n    }\n  }\n}\n",
            "x.txt holds unexpected",
        ),
        (
            "output \"x\" {\n  value = data.local_file.nope.content\n}\n",
            "Reference to undeclared resource",
        ),
    ];
    for (main_tf, expected) in cases {
        let project = Project::with_files(&[
            ("braid.hcl", BRAID_HCL),
            ("main.tf", main_tf),
            ("x.txt", "unexpected"),
        ]);
        let run = project.braid(&["plan"]);
        run.failure();
        assert!(run.stderr.contains(expected), "{main_tf}\n{}", run.stderr);
        assert!(!run.all().contains("root:x:0:0"), "{}", run.all());
    }
}

const CONFIG_MAP: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\n\
apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: shop\ndata:\n  color: blue\n";

#[test]
fn kubernetes_resource_reads_a_live_object() {
    let sim = KubeSim::start();
    let project = Project::with_files(&[
        (
            "braid.hcl",
            &kubernetes_braid_hcl(&sim.kubeconfig(), &["dev"], ""),
        ),
        ("main.hcl", ""),
        ("deploy/objects.yaml", CONFIG_MAP),
    ]);
    project
        .braid(&["--env", "dev", "apply", "--auto-approve"])
        .success();
    project.write(
        "main.hcl",
        r#"
data "kubernetes_resource" "settings" {
  api_version = "v1"
  kind        = "ConfigMap"
  metadata {
    name      = "settings"
    namespace = "shop"
  }
}
output "color" {
  value = data.kubernetes_resource.settings.object.data.color
}
"#,
    );
    let run = project.braid(&["--env", "dev", "plan", "--format", "json"]);
    run.success();
    assert_eq!(run.json()["outputs"]["color"]["value"], "blue");
    project.edit(
        "main.hcl",
        "name      = \"settings\"",
        "name      = \"absent\"",
    );
    let run = project.braid(&["--env", "dev", "plan"]);
    run.failure();
    assert!(run.stderr.contains("Object not found"), "{}", run.stderr);
}

#[test]
fn aws_region_caller_identity_and_policy_documents() {
    let moto = MotoServer::start();
    let project = Project::with_files(&[
        (
            "braid.hcl",
            &format!(
                "source \"infra\" {{ path = \".\" }}\n\nprovider \"aws\" {{\n  region   = \"eu-west-1\"\n  endpoint = \"{}\"\n}}\n",
                moto.endpoint()
            ),
        ),
        (
            "main.tf",
            r#"
data "aws_region" "current" {}
data "aws_caller_identity" "me" {}
data "aws_iam_policy_document" "read" {
  statement {
    sid       = "Read"
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::assets/*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.me.account_id}:root"]
    }
  }
  statement {
    effect    = "Deny"
    actions   = ["s3:DeleteObject", "s3:PutObject"]
    resources = ["*"]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}
output "region" {
  value = data.aws_region.current.name
}
output "account" {
  value = data.aws_caller_identity.me.account_id
}
output "policy" {
  value = jsondecode(data.aws_iam_policy_document.read.json)
}
"#,
        ),
    ]);
    let run = project.braid_env(&["plan", "--format", "json"], MOTO_CREDENTIALS);
    run.success();
    let outputs = &run.json()["outputs"];
    assert_eq!(outputs["region"]["value"], "eu-west-1");
    assert_eq!(outputs["account"]["value"], "123456789012");
    assert_eq!(
        outputs["policy"]["value"],
        serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Read",
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::assets/*",
                    "Principal": {"AWS": "arn:aws:iam::123456789012:root"}
                },
                {
                    "Effect": "Deny",
                    "Action": ["s3:DeleteObject", "s3:PutObject"],
                    "Resource": "*",
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}}
                }
            ]
        })
    );
}
