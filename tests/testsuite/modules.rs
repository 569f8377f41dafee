//! Modules: local modules used several times, a git module at a tag, `count`/`for_each` on
//! module calls, nesting, inputs and outputs, `moved` across module boundaries, `--target`
//! and `state mv` of modules, and the diagnostics of bad module calls.

use braid_testkit::{GitRepo, KubeSim, MOTO_CREDENTIALS, MotoServer};

use crate::common::{Project, Run, addresses_with_action, change, kubernetes_braid_hcl};

const BRAID_HCL: &str = "source \"infra\" {\n  path = \".\"\n}\n";

/// A module writing one file, with a nested module called `count` times.
const SVC_MODULE: &str = r#"
variable "name" {
  type = string
  validation {
    condition     = length(var.name) > 2
    error_message = "The name must be longer than two characters."
  }
}
variable "port" {
  type = number
}
variable "copies" {
  type    = number
  default = 0
}

locals {
  file = "out/${var.name}.conf"
}

resource "local_file" "conf" {
  filename = local.file
  content  = "port=${var.port}\nfrom=${path.module}\n"
}

module "copy" {
  source = "../copy"
  count  = var.copies
  label  = "${var.name}-${count.index}"
  after  = local_file.conf.filename
}

output "path" {
  value = local_file.conf.filename
}

output "copies" {
  value = module.copy[*].path
}
"#;

const COPY_MODULE: &str = r#"
variable "label" {
  type = string
}
variable "after" {
  type = string
}
resource "local_file" "copy" {
  filename = "out/${var.label}.copy"
  content  = "copy of ${var.after}"
}
output "path" {
  value = local_file.copy.filename
}
"#;

const ROOT: &str = r#"
variable "services" {
  type = map(object({
    port   = number
    copies = optional(number, 0)
  }))
  default = {
    api = { port = 8080 }
    web = { port = 80, copies = 2 }
  }
}

locals {
  prefix = "shop"
}

module "svc" {
  source   = "./modules/svc"
  for_each = var.services
  name     = "${local.prefix}-${each.key}"
  port     = each.value.port
  copies   = each.value.copies
}

module "admin" {
  source = "./modules/svc"
  name   = "admin"
  port   = 9000
}

resource "local_file" "index" {
  filename = "out/index.txt"
  content  = join(",", [for k, m in module.svc : "${k}=${m.path}"])
}

output "paths" {
  value = { for k, m in module.svc : k => m.path }
}

output "admin" {
  value = module.admin.path
}

output "web_copies" {
  value = module.svc["web"].copies
}
"#;

fn local_project(root: &str) -> Project {
    Project::with_files(&[
        ("braid.hcl", BRAID_HCL),
        ("main.tf", root),
        ("modules/svc/main.tf", SVC_MODULE),
        ("modules/copy/main.tf", COPY_MODULE),
    ])
}

fn plan_json(project: &Project, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["plan", "--format", "json"];
    all.extend_from_slice(args);
    let run = project.braid(&all);
    run.success();
    run.json()
}

#[track_caller]
fn assert_no_changes(run: &Run) {
    run.expect_code(0);
    assert!(run.stdout.contains("No changes."), "{}", run.all());
}

#[test]
fn a_local_module_used_with_for_each_and_once_more_plans_and_applies_every_instance() {
    let project = local_project(ROOT);
    let plan = plan_json(&project, &[]);
    assert_eq!(
        addresses_with_action(&plan, "create"),
        [
            "local_file.index",
            "module.admin.local_file.conf",
            "module.svc[\"api\"].local_file.conf",
            "module.svc[\"web\"].local_file.conf",
            "module.svc[\"web\"].module.copy[0].local_file.copy",
            "module.svc[\"web\"].module.copy[1].local_file.copy",
        ]
    );
    // Inputs flow in (each.value through optional() defaults), path.module is the
    // module's directory relative to the root module, as in Terraform.
    assert_eq!(
        change(&plan, "module.svc[\"web\"].local_file.conf")["after"]["content"],
        "port=80\nfrom=modules/svc\n"
    );
    // An output of a module instance reaches the root module.
    assert_eq!(
        change(&plan, "local_file.index")["after"]["content"],
        "api=out/shop-api.conf,web=out/shop-web.conf"
    );
    // The nested module waits for its caller's file (a module input's dependency).
    let copy = change(&plan, "module.svc[\"web\"].module.copy[1].local_file.copy");
    assert!(
        copy["depends_on"]
            .as_array()
            .expect("depends_on")
            .iter()
            .any(|d| d == "module.svc[\"web\"].local_file.conf"),
        "{copy:#}"
    );

    let applied = project.braid(&["apply", "--auto-approve"]);
    applied.success();
    assert_eq!(
        project.read("out/shop-web-1.copy"),
        "copy of out/shop-web.conf"
    );
    assert_eq!(
        project.read("out/shop-web.conf"),
        "port=80\nfrom=modules/svc\n"
    );
    assert_eq!(
        project.read("out/admin.conf"),
        "port=9000\nfrom=modules/svc\n"
    );
    let output = project.braid(&["output", "--format", "json"]);
    output.success();
    let outputs = output.json();
    assert_eq!(
        outputs["web_copies"]["value"],
        serde_json::json!(["out/shop-web-0.copy", "out/shop-web-1.copy"]),
        "{outputs:#}"
    );
    assert_eq!(outputs["admin"]["value"], "out/admin.conf");
    assert_no_changes(&project.braid(&["plan"]));

    // Fewer copies: exactly the instances of the nested module go, named as Terraform names
    // why.
    project.edit("main.tf", "copies = 2", "copies = 1");
    let shrunk = project.braid(&["plan"]);
    shrunk.success();
    assert!(
        shrunk.stdout.contains(
            "module.svc[\"web\"].module.copy[1].local_file.copy will be destroyed (because module.svc[\"web\"].module.copy[1] is not in configuration)"
        ),
        "{}",
        shrunk.all()
    );
    assert!(
        shrunk
            .stdout
            .contains("0 to add, 0 to change, 0 to replace, 1 to destroy"),
        "{}",
        shrunk.all()
    );
}

#[test]
fn moved_blocks_cross_module_boundaries_and_rename_modules() {
    // First a resource in the root module and a module named "old".
    let project = local_project(
        r#"
resource "local_file" "api" {
  filename = "out/shop-api.conf"
  content  = "port=8080\nfrom=modules/svc\n"
}
module "old" {
  source = "./modules/svc"
  name   = "admin"
  port   = 9000
}
"#,
    );
    project.braid(&["apply", "--auto-approve"]).success();
    // Then the resource moves into a module instance, and the module is renamed.
    project.write(
        "main.tf",
        r#"
module "svc" {
  source   = "./modules/svc"
  for_each = toset(["api"])
  name     = "shop-${each.key}"
  port     = 8080
}
module "admin" {
  source = "./modules/svc"
  name   = "admin"
  port   = 9000
}
moved {
  from = local_file.api
  to   = module.svc["api"].local_file.conf
}
moved {
  from = module.old
  to   = module.admin
}
"#,
    );
    let plan = plan_json(&project, &[]);
    for (to, from) in [
        ("module.svc[\"api\"].local_file.conf", "local_file.api"),
        ("module.admin.local_file.conf", "module.old.local_file.conf"),
    ] {
        let c = change(&plan, to);
        assert_eq!(c["moved_from"], from, "{c:#}");
        assert_eq!(c["action"], "no-op", "{c:#}");
    }
    assert!(
        addresses_with_action(&plan, "create").is_empty(),
        "{plan:#}"
    );
    assert!(
        addresses_with_action(&plan, "delete").is_empty(),
        "{plan:#}"
    );
    project.braid(&["apply", "--auto-approve"]).success();
    assert_eq!(
        project.state_list(&[]),
        [
            "module.admin.local_file.conf",
            "module.svc[\"api\"].local_file.conf"
        ]
    );
    assert_no_changes(&project.braid(&["plan"]));
}

#[test]
fn target_and_state_mv_take_module_addresses() {
    let project = local_project(ROOT);
    let targeted = plan_json(&project, &["--target", "module.svc[\"web\"]"]);
    assert_eq!(
        addresses_with_action(&targeted, "create"),
        [
            "module.svc[\"web\"].local_file.conf",
            "module.svc[\"web\"].module.copy[0].local_file.copy",
            "module.svc[\"web\"].module.copy[1].local_file.copy",
        ]
    );
    project.braid(&["apply", "--auto-approve"]).success();

    // state mv of a whole module instance moves every resource in it.
    project
        .braid(&["state", "mv", "module.admin", "module.boss"])
        .success();
    let list = project.state_list(&[]);
    assert!(
        list.contains(&"module.boss.local_file.conf".to_string()),
        "{list:?}"
    );
    assert!(
        !list.iter().any(|a| a.starts_with("module.admin")),
        "{list:?}"
    );
    // The configuration still calls it admin: the plan moves nothing back by itself.
    let plan = plan_json(&project, &[]);
    assert_eq!(
        addresses_with_action(&plan, "create"),
        ["module.admin.local_file.conf"]
    );
    assert_eq!(
        addresses_with_action(&plan, "delete"),
        ["module.boss.local_file.conf"]
    );
}

#[test]
fn removed_block_forgets_a_whole_module() {
    let project = local_project(ROOT);
    project.braid(&["apply", "--auto-approve"]).success();
    let without_admin = ROOT.replace(
        "module \"admin\" {\n  source = \"./modules/svc\"\n  name   = \"admin\"\n  port   = 9000\n}",
        "removed {\n  from = module.admin\n  lifecycle {\n    destroy = false\n  }\n}",
    );
    let without_admin =
        without_admin.replace("output \"admin\" {\n  value = module.admin.path\n}", "");
    project.write("main.tf", &without_admin);
    let plan = plan_json(&project, &[]);
    assert_eq!(
        addresses_with_action(&plan, "forget"),
        ["module.admin.local_file.conf"]
    );
    project.braid(&["apply", "--auto-approve"]).success();
    assert!(
        project.exists("out/admin.conf"),
        "the file was only forgotten"
    );
}

#[track_caller]
fn plan_error(project: &Project) -> String {
    let run = project.braid(&["plan"]);
    run.expect_code(1);
    run.assert_no_panic();
    run.stderr.clone()
}

#[track_caller]
fn assert_mentions(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn bad_module_calls_get_terraform_s_diagnostics_at_their_place() {
    let cases: &[(&str, &[&str])] = &[
        (
            "module \"a\" {\n  source = \"./modules/svc\"\n  name = \"abc\"\n  port = 1\n  colour = \"red\"\n}\n",
            &["Unsupported argument", "\"colour\"", "main.tf:5:3"],
        ),
        (
            "module \"a\" {\n  source = \"./modules/svc\"\n  name = \"abc\"\n}\n",
            &["Missing required argument", "\"port\"", "main.tf:1:1"],
        ),
        (
            "module \"a\" {\n  source = \"./modules/svc\"\n  name = \"ab\"\n  port = 1\n}\n",
            &["The name must be longer than two characters.", "module.a"],
        ),
        (
            "module \"a\" {\n  source = \"./modules/svc\"\n  name = \"abc\"\n  port = \"eighty\"\n}\n",
            &[
                "Invalid value for input variable",
                "\"port\"",
                "main.tf:4:10",
            ],
        ),
        (
            "module \"a\" {\n  source = \"./modules/svc\"\n  name = \"abc\"\n  port = 1\n}\noutput \"x\" {\n  value = module.a.nope\n}\n",
            &["Unsupported attribute", "\"nope\"", "main.tf:7:11"],
        ),
        (
            "output \"x\" {\n  value = module.nothing.path\n}\n",
            &["Reference to undeclared module", "main.tf:2:11"],
        ),
        (
            "module \"a\" {\n  source = \"./modules/missing\"\n}\n",
            &["does not exist", "main.tf:2:12"],
        ),
        (
            "module \"a\" {\n  source  = \"terraform-aws-modules/vpc/aws\"\n  version = \"5.0.0\"\n}\n",
            &["Invalid module source", "registr"],
        ),
        (
            "module \"a\" {\n  source = \"git::file:///srv/modules.git\"\n}\n",
            &["Invalid module source", "on this machine", "insteadOf"],
        ),
        (
            "module \"a\" {\n  source = \"./modules/loop\"\n}\n",
            &["Module calls nest too deeply"],
        ),
        (
            "module \"a\" {\n  source = \"./modules/svc\"\n  count = 2\n  for_each = toset([])\n  name = \"abc\"\n  port = 1\n}\n",
            &["Invalid combination of \"count\" and \"for_each\""],
        ),
        (
            "module \"a\" {\n  source = \"./modules/svc\"\n  name = each.key\n  port = 1\n}\n",
            &[
                "Reference to \"each\" in context without for_each",
                "main.tf:3:10",
            ],
        ),
    ];
    for (main, needles) in cases {
        let project = Project::with_files(&[
            ("braid.hcl", BRAID_HCL),
            ("main.tf", main),
            ("modules/svc/main.tf", SVC_MODULE),
            ("modules/copy/main.tf", COPY_MODULE),
            (
                "modules/loop/main.tf",
                "module \"again\" {\n  source = \"./\"\n}\n",
            ),
        ]);
        let stderr = plan_error(&project);
        assert_mentions(&stderr, needles);
    }
}

#[test]
fn a_local_module_may_not_leave_its_source() {
    let project = Project::with_files(&[
        ("braid.hcl", "source \"infra\" {\n  path = \"infra\"\n}\n"),
        (
            "infra/main.tf",
            "module \"a\" {\n  source = \"../outside\"\n}\n",
        ),
        ("outside/main.tf", "variable \"x\" {\n  default = 1\n}\n"),
    ]);
    assert_mentions(
        &plan_error(&project),
        &[
            "Module source outside its tree",
            "infra/main.tf:2:12",
            "leads outside",
        ],
    );
    // A symbolic link inside the source does not help.
    std::os::unix::fs::symlink(project.join("outside"), project.join("infra/linked"))
        .expect("symlink");
    project.write(
        "infra/main.tf",
        "module \"a\" {\n  source = \"./linked\"\n}\n",
    );
    assert_mentions(&plan_error(&project), &["Module source outside its tree"]);
}

#[test]
fn import_blocks_belong_to_the_root_module() {
    let project = Project::with_files(&[
        ("braid.hcl", BRAID_HCL),
        ("main.tf", "module \"a\" {\n  source = \"./modules/a\"\n}\n"),
        (
            "modules/a/main.tf",
            "resource \"local_file\" \"f\" {\n  filename = \"f\"\n  content = \"x\"\n}\nimport {\n  to = local_file.f\n  id = \"f\"\n}\n",
        ),
    ]);
    assert_mentions(
        &plan_error(&project),
        &[
            "Import blocks are only allowed in the root module",
            "module.a",
        ],
    );
}

const QUEUE_MODULE: &str = r#"
variable "name" {
  type = string
}
variable "retries" {
  type    = number
  default = 3
}
variable "tags" {
  type    = map(string)
  default = {}
}

resource "aws_sqs_queue" "dlq" {
  name = "${var.name}-dlq"
  tags = var.tags
}

resource "aws_sqs_queue" "this" {
  name = var.name
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.retries
  })
  tags = var.tags
}

output "url" {
  value = aws_sqs_queue.this.url
}
output "arn" {
  value = aws_sqs_queue.this.arn
}
"#;

/// The git module, in the `platform/modules` repository at tag v1.2.0.
const ROLE_MODULE: &str = r#"
variable "name" {
  type = string
}
variable "queue_arns" {
  type = list(string)
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "send" {
  statement {
    actions   = ["sqs:SendMessage"]
    resources = var.queue_arns
  }
}

resource "aws_iam_role" "this" {
  name               = var.name
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_policy" "send" {
  name   = "${var.name}-send"
  policy = data.aws_iam_policy_document.send.json
}

resource "aws_iam_role_policy_attachment" "send" {
  role       = aws_iam_role.this.name
  policy_arn = aws_iam_policy.send.arn
}

output "arn" {
  value = aws_iam_role.this.arn
}
"#;

/// The infra repository as a team writes it for Terraform; `{SERVICES}` is what the first and
/// second version differ in.
const INFRA: &str = r#"
terraform {
  required_version = ">= 1.5.0"
}

variable "env" {
  type    = string
  default = "dev"
}

variable "services" {
  type = map(object({
    port    = number
    retries = optional(number, 3)
    public  = optional(bool, false)
  }))
  default = {
    api    = { port = 8080, public = true }
    worker = { port = 9090, retries = 5 }
  }
}

locals {
  prefix = "shop-${var.env}"
  tags   = { team = "platform", env = var.env }
}

data "aws_region" "current" {}
data "aws_caller_identity" "me" {}

module "queue" {
  source   = "./modules/queue"
  for_each = {SERVICES}
  name     = "${local.prefix}-${each.key}"
  retries  = each.value.retries
  tags     = local.tags
}

module "audit" {
  source = "./modules/queue"
  name   = "${local.prefix}-audit"
}

module "app_role" {
  source     = "git::https://git.example.com/platform/modules.git//iam-role?ref=v1.2.0"
  name       = "${local.prefix}-app"
  queue_arns = [for q in module.queue : q.arn]
}

resource "aws_ssm_parameter" "config" {
  name = "/${local.prefix}/config"
  type = "String"
  value = templatefile("${path.module}/templates/config.tftpl", {
    region  = data.aws_region.current.name
    account = data.aws_caller_identity.me.account_id
    queues  = { for k, q in module.queue : k => q.url }
  })
}

output "queue_urls" {
  value = { for k, q in module.queue : k => q.url }
}

output "role_arn" {
  value = module.app_role.arn
}
"#;

const CONFIG_TEMPLATE: &str = r#"region=${region}
account=${account}
%{ for name, url in queues ~}
queue.${name}=${url}
%{ endfor ~}
"#;

const MANIFESTS: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: api
  namespace: shop
  annotations:
    eks.amazonaws.com/role-arn: "${{ module.app_role.arn }}"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: api
  namespace: shop
data:
  QUEUE_URL: "${{ module.queue[\"api\"].url }}"
"#;

/// Issue #13's "done when": a Terraform-style repository (object variables with optional
/// defaults, locals, for_each over a map of services, a local module used twice, a git
/// module at a tag, data sources, a `moved` block into a module, templatefile) plans and
/// applies against moto and kubesim, and plans empty afterwards.
#[test]
fn a_terraform_repository_with_local_and_git_modules_applies_against_moto_and_kubesim() {
    // The shared modules repository, reached through git's url.<base>.insteadOf as a team
    // mirrors a private host.
    let modules = GitRepo::init();
    modules.write("iam-role/main.tf", ROLE_MODULE);
    modules.commit_all("iam-role module");
    modules.git(&["tag", "v1.2.0"]);
    // A later commit on main must not be read: the call pins the tag.
    modules.write("iam-role/main.tf", "this is not HCL {");
    modules.commit_all("broken work in progress");
    let home = tempfile::tempdir().expect("home");
    std::fs::write(
        home.path().join(".gitconfig"),
        format!(
            "[url \"file://{}\"]\n\tinsteadOf = https://git.example.com/platform/modules.git\n",
            modules.hcl_path()
        ),
    )
    .expect("write .gitconfig");

    let moto = MotoServer::start();
    let sim = KubeSim::start();
    let aws = format!(
        "\nprovider \"aws\" {{\n  region   = \"us-east-1\"\n  endpoint = \"{}\"\n}}\n",
        moto.endpoint()
    );
    // Version one: the api queue is still a resource of the root module.
    let first = INFRA.replace(
        "{SERVICES}",
        "{ for k, v in var.services : k => v if k != \"api\" }",
    ) + "resource \"aws_sqs_queue\" \"api\" {\n  name = \"shop-dev-api\"\n}\n";
    let first = first
        .replace("module.queue[\"api\"].url", "aws_sqs_queue.api.url")
        .replace(
            "queue_arns = [for q in module.queue : q.arn]",
            "queue_arns = concat([for q in module.queue : q.arn], [aws_sqs_queue.api.arn])",
        );
    let project = Project::with_files(&[
        (
            "braid.hcl",
            &kubernetes_braid_hcl(&sim.kubeconfig(), &["dev"], &aws),
        ),
        ("main.tf", &first),
        ("modules/queue/main.tf", QUEUE_MODULE),
        ("templates/config.tftpl", CONFIG_TEMPLATE),
        (
            "deploy/api.yaml",
            &MANIFESTS.replace("module.queue[\\\"api\\\"].url", "aws_sqs_queue.api.url"),
        ),
    ]);
    let home_dir = home.path().display().to_string();
    let mut env: Vec<(&str, &str)> = MOTO_CREDENTIALS.to_vec();
    env.push(("HOME", &home_dir));
    let braid = |args: &[&str]| {
        let mut all = vec!["--env", "dev"];
        all.extend_from_slice(args);
        project.braid_env(&all, &env)
    };
    braid(&["apply", "--auto-approve"]).success();

    // Version two: every service through the module, the api queue moved into it.
    let second = INFRA.replace("{SERVICES}", "var.services")
        + "moved {\n  from = aws_sqs_queue.api\n  to   = module.queue[\"api\"].aws_sqs_queue.this\n}\n";
    project.write("main.tf", &second);
    project.write("deploy/api.yaml", MANIFESTS);
    let planned = braid(&["plan", "--format", "json"]);
    planned.success();
    let plan = planned.json();
    let moved = change(&plan, "module.queue[\"api\"].aws_sqs_queue.this");
    assert_eq!(moved["moved_from"], "aws_sqs_queue.api", "{moved:#}");
    assert_eq!(
        moved["action"], "update",
        "moved, then updated in place: {moved:#}"
    );
    assert_eq!(
        addresses_with_action(&plan, "create"),
        ["module.queue[\"api\"].aws_sqs_queue.dlq"],
        "{plan:#}"
    );
    assert!(
        addresses_with_action(&plan, "delete").is_empty(),
        "{plan:#}"
    );

    let applied = braid(&["apply", "--auto-approve"]);
    applied.success();

    // What moto holds: the queues of both module uses, the role of the git module, the
    // rendered template.
    let (_, queues) = moto.request_to("sqs", "GET", "/?Action=ListQueues");
    for name in [
        "shop-dev-api",
        "shop-dev-api-dlq",
        "shop-dev-worker",
        "shop-dev-worker-dlq",
        "shop-dev-audit",
        "shop-dev-audit-dlq",
    ] {
        assert!(
            queues.contains(&format!("/{name}\"")),
            "{name} missing in {queues}"
        );
    }
    let (_, role) = moto.request_to(
        "iam",
        "GET",
        "/?Action=GetRole&RoleName=shop-dev-app&Version=2010-05-08",
    );
    assert!(role.contains("arn:aws:iam::"), "{role}");
    let (_, parameter) = moto.json_request(
        "ssm",
        "AmazonSSM.GetParameter",
        r#"{"Name": "/shop-dev/config"}"#,
    );
    assert!(parameter.contains("region=us-east-1"), "{parameter}");
    assert!(parameter.contains("queue.api="), "{parameter}");
    assert!(parameter.contains("queue.worker="), "{parameter}");

    // What the cluster holds: values from the git module and a module instance.
    let account = sim
        .get("/api/v1/namespaces/shop/serviceaccounts/api")
        .expect("ServiceAccount exists");
    assert!(
        account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
            .as_str()
            .is_some_and(|arn| arn.ends_with(":role/shop-dev-app")),
        "{account:#}"
    );
    let config = sim
        .get("/api/v1/namespaces/shop/configmaps/api")
        .expect("ConfigMap exists");
    assert!(
        config["data"]["QUEUE_URL"]
            .as_str()
            .is_some_and(|url| url.ends_with("/shop-dev-api")),
        "{config:#}"
    );

    assert_no_changes(&braid(&["plan"]));
    // The fetched module is in the cache: --offline plans without the repository.
    drop(modules);
    assert_no_changes(&braid(&["plan", "--offline"]));
}

/// `provider = aws.west` on a resource and `providers = { aws = aws.west }` on a module call
/// select the aliased configuration of braid.hcl.
#[test]
fn aliased_provider_configurations_reach_resources_and_modules() {
    let moto = MotoServer::start();
    let endpoint = moto.endpoint();
    let braid_hcl = format!(
        "{BRAID_HCL}\nprovider \"aws\" {{\n  region   = \"us-east-1\"\n  endpoint = \"{endpoint}\"\n}}\n\nprovider \"aws\" {{\n  alias    = \"west\"\n  region   = \"us-west-2\"\n  endpoint = \"{endpoint}\"\n}}\n"
    );
    let project = Project::with_files(&[
        ("braid.hcl", &braid_hcl),
        (
            "main.tf",
            r#"
resource "aws_sqs_queue" "east" {
  name = "alias-east"
}
resource "aws_sqs_queue" "west" {
  provider = aws.west
  name     = "alias-west"
}
module "replica" {
  source    = "./modules/queue"
  name      = "alias-replica"
  providers = { aws = aws.west }
}
"#,
        ),
        ("modules/queue/main.tf", QUEUE_MODULE),
    ]);
    let braid = |args: &[&str]| project.braid_env(args, MOTO_CREDENTIALS);
    braid(&["apply", "--auto-approve"]).success();
    let (_, east) = moto.request_in("us-east-1", "sqs", "GET", "/?Action=ListQueues");
    let (_, west) = moto.request_in("us-west-2", "sqs", "GET", "/?Action=ListQueues");
    assert!(east.contains("/alias-east\""), "{east}");
    for name in ["alias-west", "alias-replica", "alias-replica-dlq"] {
        assert!(
            west.contains(&format!("/{name}\"")),
            "{name} missing in {west}"
        );
        assert!(
            !east.contains(&format!("/{name}\"")),
            "{name} in the wrong region: {east}"
        );
    }
    assert_no_changes(&braid(&["plan"]));

    // An alias braid.hcl does not declare is an error at the resource.
    project.edit("main.tf", "provider = aws.west", "provider = aws.nowhere");
    let run = braid(&["plan"]);
    run.expect_code(1);
    assert_mentions(
        &run.stderr,
        &[
            "Provider configuration not present",
            "aws.nowhere",
            "main.tf:5:1",
        ],
    );
}

/// `provider` blocks of `.tf` files configure providers as in Terraform (with variables);
/// braid.hcl's blocks override them attribute by attribute (here: moto's endpoint).
#[test]
fn provider_blocks_of_terraform_files_are_the_layer_under_braid_hcl() {
    let moto = MotoServer::start();
    let endpoint = moto.endpoint();
    let braid_hcl = format!(
        "{BRAID_HCL}\nprovider \"aws\" {{\n  endpoint = \"{endpoint}\"\n}}\n\nprovider \"aws\" {{\n  alias    = \"west\"\n  endpoint = \"{endpoint}\"\n}}\n"
    );
    let project = Project::with_files(&[
        ("braid.hcl", &braid_hcl),
        (
            "main.tf",
            r#"
variable "home_region" {
  default = "us-east-2"
}
provider "aws" {
  region = var.home_region
}
provider "aws" {
  alias  = "west"
  region = "us-west-1"
}
resource "aws_sqs_queue" "home" {
  name = "tfblock-home"
}
resource "aws_sqs_queue" "west" {
  provider = aws.west
  name     = "tfblock-west"
}
"#,
        ),
    ]);
    let braid = |args: &[&str]| project.braid_env(args, MOTO_CREDENTIALS);
    braid(&["apply", "--auto-approve"]).success();
    let (_, home) = moto.request_in("us-east-2", "sqs", "GET", "/?Action=ListQueues");
    let (_, west) = moto.request_in("us-west-1", "sqs", "GET", "/?Action=ListQueues");
    assert!(home.contains("/tfblock-home\""), "{home}");
    assert!(west.contains("/tfblock-west\""), "{west}");
    assert_no_changes(&braid(&["plan"]));

    // A provider configuration whose value is known only after apply cannot work.
    project.edit(
        "main.tf",
        "region = var.home_region",
        "region = aws_sqs_queue.west.arn",
    );
    let run = braid(&["plan"]);
    run.expect_code(1);
    assert_mentions(
        &run.stderr,
        &["Invalid provider configuration", "main.tf:6:12"],
    );
}

/// `depends_on = [module.NAME]` waits for every resource of the module, not only those its
/// outputs read, as in Terraform.
#[test]
fn depends_on_a_module_waits_for_all_of_its_resources() {
    let project = Project::with_files(&[
        ("braid.hcl", BRAID_HCL),
        (
            "main.tf",
            "module \"setup\" {\n  source = \"./modules/setup\"\n}\nresource \"local_file\" \"after\" {\n  filename   = \"out/after.txt\"\n  content    = \"after\"\n  depends_on = [module.setup]\n}\n",
        ),
        (
            "modules/setup/main.tf",
            "resource \"local_file\" \"quiet\" {\n  filename = \"out/quiet.txt\"\n  content  = \"no output reads me\"\n}\n",
        ),
    ]);
    let plan = plan_json(&project, &[]);
    assert_eq!(
        change(&plan, "local_file.after")["depends_on"],
        serde_json::json!(["module.setup.local_file.quiet"]),
        "{plan:#}"
    );
    let bad = Project::with_files(&[
        ("braid.hcl", BRAID_HCL),
        (
            "main.tf",
            "resource \"local_file\" \"after\" {\n  filename   = \"out/after.txt\"\n  content    = \"after\"\n  depends_on = [module.nowhere]\n}\n",
        ),
    ]);
    assert_mentions(
        &plan_error(&bad),
        &["Reference to undeclared module", "main.tf:4:17"],
    );
}

/// A git module whose ref does not exist, or that was never fetched with --offline: the
/// diagnostic names the module call and its source, not braid.hcl.
#[test]
fn git_module_errors_name_the_module_call() {
    let modules = GitRepo::init();
    modules.write("net/main.tf", "output \"x\" {\n  value = 1\n}\n");
    modules.commit_all("net");
    modules.git(&["tag", "v1.0.0"]);
    let home = tempfile::tempdir().expect("home");
    std::fs::write(
        home.path().join(".gitconfig"),
        format!(
            "[url \"file://{}\"]\n\tinsteadOf = https://git.example.com/net.git\n",
            modules.hcl_path()
        ),
    )
    .expect("write .gitconfig");
    let home_dir = home.path().display().to_string();
    let project = Project::with_files(&[
        ("braid.hcl", BRAID_HCL),
        (
            "main.tf",
            "module \"net\" {\n  source = \"git::https://git.example.com/net.git//net?ref=v9.9.9\"\n}\n",
        ),
    ]);
    // Never fetched, and offline.
    let offline = project.braid_env(&["plan", "--offline"], &[("HOME", &home_dir)]);
    offline.expect_code(1);
    assert_mentions(
        &offline.stderr,
        &["Module repository not cached", "module.net", "main.tf:2:12"],
    );
    let run = project.braid_env(&["plan"], &[("HOME", &home_dir)]);
    run.expect_code(1);
    assert_mentions(
        &run.stderr,
        &[
            "Git ref not found",
            "module.net",
            "?ref=v9.9.9",
            "v1.0.0",
            "main.tf:2:12",
        ],
    );
    project.edit("main.tf", "v9.9.9", "v1.0.0");
    project
        .braid_env(&["plan"], &[("HOME", &home_dir)])
        .success();
}
