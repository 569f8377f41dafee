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

/// The objects the lookups find: made by braid first, in the same moto.
const MANAGED: &str = r#"
resource "aws_s3_bucket" "assets" {
  bucket = "lookup-assets"
}
resource "aws_s3_bucket_policy" "assets" {
  bucket = aws_s3_bucket.assets.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = "*", Action = "s3:GetObject", Resource = "${aws_s3_bucket.assets.arn}/*" }]
  })
}
resource "aws_sqs_queue" "jobs" {
  name                       = "lookup-jobs"
  visibility_timeout_seconds = 45
}
resource "aws_sns_topic" "events" {
  name = "lookup-events"
}
resource "aws_iam_role" "app" {
  name = "lookup-app"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}
resource "aws_iam_policy" "read" {
  name   = "lookup-read"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "*" }]
  })
}
resource "aws_dynamodb_table" "locks" {
  name         = "lookup-locks"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}
resource "aws_ecr_repository" "app" {
  name = "lookup-app"
}
resource "aws_ssm_parameter" "password" {
  name  = "/lookup/password"
  type  = "SecureString"
  value = "lookup-secret-Qz3"
}
resource "aws_secretsmanager_secret" "token" {
  name = "lookup-token"
}
"#;

const LOOKUPS: &str = r#"
data "aws_s3_bucket" "assets" {
  bucket = "lookup-assets"
}
data "aws_s3_bucket_policy" "assets" {
  bucket = "lookup-assets"
}
data "aws_sqs_queue" "jobs" {
  name = "lookup-jobs"
}
data "aws_sns_topic" "events" {
  name = "lookup-events"
}
data "aws_iam_role" "app" {
  name = "lookup-app"
}
data "aws_iam_policy" "by_name" {
  name = "lookup-read"
}
data "aws_iam_policy" "by_arn" {
  arn = aws_iam_policy.read.arn
}
data "aws_dynamodb_table" "locks" {
  name = "lookup-locks"
}
data "aws_ecr_repository" "app" {
  name = "lookup-app"
}
data "aws_ssm_parameter" "password" {
  name = "/lookup/password"
}
data "aws_secretsmanager_secret" "token" {
  name = "lookup-token"
}

output "same" {
  value = {
    bucket      = data.aws_s3_bucket.assets.arn == aws_s3_bucket.assets.arn
    policy      = jsondecode(data.aws_s3_bucket_policy.assets.policy) == jsondecode(aws_s3_bucket_policy.assets.policy)
    queue       = data.aws_sqs_queue.jobs.url == aws_sqs_queue.jobs.url
    queue_timer = data.aws_sqs_queue.jobs.visibility_timeout_seconds
    topic       = data.aws_sns_topic.events.arn == aws_sns_topic.events.arn
    role        = data.aws_iam_role.app.arn == aws_iam_role.app.arn
    policy_name = data.aws_iam_policy.by_name.arn == aws_iam_policy.read.arn
    policy_arn  = data.aws_iam_policy.by_arn.name
    table       = data.aws_dynamodb_table.locks.arn == aws_dynamodb_table.locks.arn
    repository  = data.aws_ecr_repository.app.repository_url == aws_ecr_repository.app.repository_url
    secret      = data.aws_secretsmanager_secret.token.arn == aws_secretsmanager_secret.token.arn
  }
}

output "password" {
  value     = data.aws_ssm_parameter.password.value
  sensitive = true
}
"#;

/// Issue #13: lookups of the resource types braid manages, as Terraform's data sources of the
/// same names: by name (or bucket, or ARN), with the attributes the resource has.
#[test]
fn aws_lookups_read_objects_of_every_managed_type() {
    let moto = MotoServer::start();
    let braid_hcl = format!(
        "source \"infra\" {{ path = \".\" }}\n\nprovider \"aws\" {{\n  region   = \"us-east-1\"\n  endpoint = \"{}\"\n}}\n",
        moto.endpoint()
    );
    let project = Project::with_files(&[("braid.hcl", &braid_hcl), ("main.tf", MANAGED)]);
    project
        .braid_env(&["apply", "--auto-approve"], MOTO_CREDENTIALS)
        .success();
    project.write("lookups.tf", LOOKUPS);
    let run = project.braid_env(&["plan", "--format", "json"], MOTO_CREDENTIALS);
    run.success();
    let plan = run.json();
    assert_eq!(
        plan["outputs"]["same"]["value"],
        serde_json::json!({
            "bucket": true, "policy": true, "queue": true, "queue_timer": 45, "topic": true,
            "role": true, "policy_name": true, "policy_arn": "lookup-read", "table": true,
            "repository": true, "secret": true
        }),
        "{:#}",
        plan["outputs"]
    );
    assert!(
        !run.stdout.contains("lookup-secret-Qz3"),
        "the parameter's value was shown"
    );
    let applied = project.braid_env(&["apply", "--auto-approve"], MOTO_CREDENTIALS);
    applied.success();
    let shown = project.braid(&["output", "password", "--show-sensitive"]);
    shown.success();
    assert!(
        shown.stdout.contains("lookup-secret-Qz3"),
        "{}",
        shown.all()
    );

    // An object that is not there: Terraform's kind of error, at the data block.
    project.write(
        "lookups.tf",
        "data \"aws_sqs_queue\" \"gone\" {\n  name = \"lookup-never-made\"\n}\n",
    );
    let missing = project.braid_env(&["plan"], MOTO_CREDENTIALS);
    missing.expect_code(1);
    assert!(
        missing.stderr.contains("Object not found")
            && missing.stderr.contains("lookup-never-made")
            && missing.stderr.contains("lookups.tf:1:1"),
        "{}",
        missing.stderr
    );
}
