//! `count` and `for_each`: instance addresses in plan, state and `--target`; what changing
//! the count or the keys plans; implicit moves when `count` comes or goes; `moved` blocks.

use crate::common::{Project, addresses_with_action, change};

const BRAID_HCL: &str = "source \"infra\" {\n  path = \".\"\n}\n";

fn project(main_tf: &str) -> Project {
    Project::with_files(&[("braid.hcl", BRAID_HCL), ("main.tf", main_tf)])
}

const SERVICES: &str = r#"
variable "services" {
  type    = map(object({ port = number }))
  default = { web = { port = 8080 }, api = { port = 9090 } }
}
variable "copies" {
  default = 2
}
resource "local_file" "service" {
  for_each = var.services
  filename = "${path.module}/out/${each.key}.conf"
  content  = "port=${each.value.port}"
}
resource "local_file" "copy" {
  count    = var.copies
  filename = "out/copy-${count.index}.txt"
  content  = local_file.service["web"].content
}
resource "local_file" "chained" {
  for_each = local_file.service
  filename = "out/chained-${each.key}.txt"
  content  = each.value.filename
}
output "copies" {
  value = local_file.copy[*].filename
}
output "ports" {
  value = { for k, f in local_file.service : k => f.content }
}
"#;

fn plan_json(project: &Project, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["plan", "--format", "json"];
    all.extend_from_slice(args);
    let run = project.braid(&all);
    run.success();
    run.json()
}

#[test]
fn for_each_and_count_make_one_instance_per_key_and_index() {
    let project = project(SERVICES);
    let plan = plan_json(&project, &[]);
    assert_eq!(
        addresses_with_action(&plan, "create"),
        [
            "local_file.chained[\"api\"]",
            "local_file.chained[\"web\"]",
            "local_file.copy[0]",
            "local_file.copy[1]",
            "local_file.service[\"api\"]",
            "local_file.service[\"web\"]",
        ]
    );
    assert_eq!(
        change(&plan, "local_file.service[\"api\"]")["after"]["content"],
        "port=9090"
    );
    assert_eq!(
        change(&plan, "local_file.copy[1]")["after"]["filename"],
        "out/copy-1.txt"
    );
    // Chained for_each: each.value is the other resource's instance, known at apply.
    project.braid(&["apply", "--auto-approve"]).success();
    assert_eq!(project.read("out/chained-api.txt"), "./out/api.conf");
    assert_eq!(project.read("out/copy-1.txt"), "port=8080");
    assert_eq!(
        project.state_list(&[]),
        [
            "local_file.chained[\"api\"]",
            "local_file.chained[\"web\"]",
            "local_file.copy[0]",
            "local_file.copy[1]",
            "local_file.service[\"api\"]",
            "local_file.service[\"web\"]",
        ]
    );
    let again = plan_json(&project, &[]);
    assert!(
        again["changes"]
            .as_array()
            .expect("changes is an array")
            .iter()
            .all(|c| c["action"] == "no-op"),
        "{again:#}"
    );
    assert_eq!(
        again["outputs"]["copies"]["value"],
        serde_json::json!(["out/copy-0.txt", "out/copy-1.txt"])
    );
    assert_eq!(
        again["outputs"]["ports"]["value"],
        serde_json::json!({"api": "port=9090", "web": "port=8080"})
    );
    let human = project.braid(&["plan"]);
    human.success();
    assert!(human.stdout.contains("No changes."), "{}", human.stdout);
}

#[test]
fn fewer_instances_plan_exactly_the_deletes_terraform_would() {
    let project = project(SERVICES);
    project.braid(&["apply", "--auto-approve"]).success();
    project.edit("main.tf", "default = 2", "default = 1");
    project.edit("main.tf", "api = { port = 9090 }", "db = { port = 5432 }");
    let plan = plan_json(&project, &[]);
    assert_eq!(
        addresses_with_action(&plan, "delete"),
        [
            "local_file.chained[\"api\"]",
            "local_file.copy[1]",
            "local_file.service[\"api\"]"
        ]
    );
    assert_eq!(
        addresses_with_action(&plan, "create"),
        ["local_file.chained[\"db\"]", "local_file.service[\"db\"]"]
    );
    assert_eq!(
        change(&plan, "local_file.copy[1]")["reason"],
        "index [1] is out of range for count"
    );
    assert_eq!(
        change(&plan, "local_file.service[\"api\"]")["reason"],
        "key \"api\" is not in for_each map"
    );
    project.braid(&["apply", "--auto-approve"]).success();
    assert!(!project.exists("out/api.conf"));
    assert!(!project.exists("out/copy-1.txt"));
    assert_eq!(project.read("out/db.conf"), "port=5432");
}

#[test]
fn adding_or_removing_count_moves_the_object_instead_of_replacing_it() {
    let project = project(
        "resource \"local_file\" \"one\" {\n  filename = \"out/one.txt\"\n  content  = \"x\"\n}\n",
    );
    project.braid(&["apply", "--auto-approve"]).success();
    project.edit(
        "main.tf",
        "resource \"local_file\" \"one\" {\n",
        "resource \"local_file\" \"one\" {\n  count = 1\n",
    );
    let plan = plan_json(&project, &[]);
    let moved = change(&plan, "local_file.one[0]");
    assert_eq!(moved["action"], "no-op");
    assert_eq!(moved["moved_from"], "local_file.one");
    assert!(
        addresses_with_action(&plan, "delete").is_empty(),
        "{plan:#}"
    );
    let human = project.braid(&["plan"]);
    assert!(
        human
            .stdout
            .contains("# local_file.one has moved to local_file.one[0]"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("1 to move"), "{}", human.stdout);
    project.braid(&["apply", "--auto-approve"]).success();
    assert_eq!(project.state_list(&[]), ["local_file.one[0]"]);
    // And back.
    project.edit("main.tf", "  count = 1\n", "");
    let plan = plan_json(&project, &[]);
    assert_eq!(
        change(&plan, "local_file.one")["moved_from"],
        "local_file.one[0]"
    );
    project.braid(&["apply", "--auto-approve"]).success();
    assert_eq!(project.state_list(&[]), ["local_file.one"]);
    let history = project.braid(&["history", "show", "3", "--format", "json"]);
    history.success();
    assert!(
        history.stdout.contains("moved from local_file.one[0]"),
        "{}",
        history.stdout
    );
}

#[test]
fn moved_blocks_rename_resources_and_all_their_instances() {
    let project = project(SERVICES);
    project.braid(&["apply", "--auto-approve"]).success();
    let renamed = SERVICES
        .replace("\"local_file\" \"service\"", "\"local_file\" \"svc\"")
        .replace("local_file.service", "local_file.svc")
        + "moved {\n  from = local_file.service\n  to   = local_file.svc\n}\n\
           moved {\n  from = local_file.copy[1]\n  to   = local_file.extra\n}\n\
           resource \"local_file\" \"extra\" {\n  filename = \"out/copy-1.txt\"\n  content  = \"port=8080\"\n}\n";
    project.write("main.tf", &renamed.replace("default = 2", "default = 1"));
    let plan = plan_json(&project, &[]);
    assert!(
        addresses_with_action(&plan, "delete").is_empty(),
        "{plan:#}"
    );
    assert!(
        addresses_with_action(&plan, "create").is_empty(),
        "{plan:#}"
    );
    assert_eq!(
        change(&plan, "local_file.svc[\"api\"]")["moved_from"],
        "local_file.service[\"api\"]"
    );
    assert_eq!(
        change(&plan, "local_file.extra")["moved_from"],
        "local_file.copy[1]"
    );
    project.braid(&["apply", "--auto-approve"]).success();
    assert!(
        project
            .state_list(&[])
            .contains(&"local_file.svc[\"web\"]".to_string())
    );
    let after = plan_json(&project, &[]);
    assert!(!after.to_string().contains("moved_from"), "{after:#}");
    // A moved block whose source is still declared is an error at the block.
    project.write(
        "main.tf",
        &format!("{renamed}moved {{\n  from = local_file.extra\n  to   = local_file.other\n}}\n"),
    );
    let run = project.braid(&["plan"]);
    run.failure();
    assert!(
        run.stderr.contains("Moved object still exists"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.tf:"), "{}", run.stderr);
}

#[test]
fn target_names_a_whole_resource_or_one_instance() {
    let project = project(SERVICES);
    // What a target needs comes along, by resource as Terraform does: copy reads
    // service["web"], so every instance of service is planned.
    let plan = plan_json(&project, &["--target", "local_file.copy"]);
    assert_eq!(
        addresses_with_action(&plan, "create"),
        [
            "local_file.copy[0]",
            "local_file.copy[1]",
            "local_file.service[\"api\"]",
            "local_file.service[\"web\"]"
        ]
    );
    let plan = plan_json(&project, &["-target=local_file.service[\"api\"]"]);
    assert_eq!(
        addresses_with_action(&plan, "create"),
        ["local_file.service[\"api\"]"]
    );
}

#[test]
fn bad_count_and_for_each_arguments_are_diagnosed_like_terraform() {
    let cases: &[(&str, &str)] = &[
        (
            "resource \"local_file\" \"a\" {\n  count    = -1\n  filename = \"a\"\n  content  = \"\"\n}\n",
            "must be greater than or equal to zero",
        ),
        (
            "resource \"local_file\" \"a\" {\n  count    = 1.5\n  filename = \"a\"\n  content  = \"\"\n}\n",
            "whole number",
        ),
        (
            "resource \"local_file\" \"a\" {\n  for_each = [\"x\"]\n  filename = \"a\"\n  content  = \"\"\n}\n",
            "you have provided a value of type tuple",
        ),
        (
            "resource \"local_file\" \"a\" {\n  filename = \"a${count.index}\"\n  content  = \"\"\n}\n",
            "Reference to \"count\" in non-counted context",
        ),
        (
            "resource \"local_file\" \"a\" {\n  count    = 1\n  filename = \"a${each.key}\"\n  content  = \"\"\n}\n",
            "Reference to \"each\" in context without for_each",
        ),
        (
            "resource \"local_file\" \"a\" {\n  count    = 1\n  for_each = {}\n  filename = \"a\"\n  content  = \"\"\n}\n",
            "mutually exclusive",
        ),
        (
            "variable \"keys\" {\n  default   = [\"a\"]\n  sensitive = true\n}\nresource \"local_file\" \"a\" {\n  for_each = toset(var.keys)\n  filename = each.key\n  content  = \"\"\n}\n",
            "Sensitive values, or values derived from sensitive values, cannot be used as for_each arguments",
        ),
        (
            "resource \"local_file\" \"a\" {\n  filename = \"a\"\n  content  = \"\"\n}\nresource \"local_file\" \"b\" {\n  for_each = toset([local_file.a.id])\n  filename = each.key\n  content  = \"\"\n}\n",
            "cannot be determined until apply",
        ),
    ];
    for (main_tf, expected) in cases {
        let project = project(main_tf);
        let run = project.braid(&["plan"]);
        run.failure();
        run.assert_no_panic();
        assert!(run.stderr.contains(expected), "{main_tf}\n{}", run.stderr);
        assert!(run.stderr.contains("main.tf:"), "{}", run.stderr);
    }
}

#[test]
fn removed_blocks_forget_or_destroy() {
    let project = project(SERVICES);
    project.braid(&["apply", "--auto-approve"]).success();
    let without_copies = SERVICES
        .split("resource \"local_file\" \"copy\"")
        .next()
        .expect("text before copy")
        .to_string()
        + "resource \"local_file\" \"chained\" {\n  for_each = local_file.service\n  filename = \"out/chained-${each.key}.txt\"\n  content  = each.value.filename\n}\n";
    // Still declared: an error at the block.
    project.write(
        "main.tf",
        &format!("{SERVICES}removed {{\n  from = local_file.copy\n}}\n"),
    );
    let run = project.braid(&["plan"]);
    run.failure();
    assert!(
        run.stderr.contains("Removed resource still exists"),
        "{}",
        run.stderr
    );
    // destroy = false: dropped from state, files kept.
    project.write(
        "main.tf",
        &format!(
            "{without_copies}removed {{\n  from = local_file.copy\n  lifecycle {{\n    destroy = false\n  }}\n}}\n"
        ),
    );
    let plan = plan_json(&project, &[]);
    assert_eq!(
        addresses_with_action(&plan, "forget"),
        ["local_file.copy[0]", "local_file.copy[1]"]
    );
    assert!(
        addresses_with_action(&plan, "delete").is_empty(),
        "{plan:#}"
    );
    let human = project.braid(&["plan"]);
    assert!(
        human.stdout.contains(
            "# local_file.copy[0] will no longer be managed by braid, but will not be destroyed"
        ),
        "{}",
        human.stdout
    );
    project.braid(&["apply", "--auto-approve"]).success();
    assert!(project.exists("out/copy-0.txt"));
    assert!(
        !project
            .state_list(&[])
            .iter()
            .any(|a| a.starts_with("local_file.copy"))
    );
}

const CONDITIONS: &str = r#"
variable "port" {
  default = 8080
}
resource "local_value" "config" {
  input = var.port
  lifecycle {
    precondition {
      condition     = var.port > 1024
      error_message = "port ${var.port} is privileged"
    }
    postcondition {
      condition     = self.output == var.port
      error_message = "the output is not the port"
    }
  }
}
resource "local_file" "f" {
  filename = "out/f.txt"
  content  = "x"
  lifecycle {
    replace_triggered_by = [local_value.config]
  }
}
"#;

#[test]
fn preconditions_postconditions_and_replace_triggered_by() {
    let project = project(CONDITIONS);
    project.braid(&["apply", "--auto-approve"]).success();
    let run = project.braid(&["plan", "--var", "port=80"]);
    run.failure();
    assert!(
        run.stderr.contains("Resource precondition failed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("port 80 is privileged"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.tf:9"), "{}", run.stderr);
    let plan = plan_json(&project, &["--var", "port=9090"]);
    assert_eq!(change(&plan, "local_value.config")["action"], "update");
    let f = change(&plan, "local_file.f");
    assert_eq!(f["action"], "replace");
    assert_eq!(
        f["reason"],
        "replace_triggered_by local_value.config, which changes"
    );
    // Nothing changes: nothing is replaced.
    let plan = plan_json(&project, &[]);
    assert_eq!(change(&plan, "local_file.f")["action"], "no-op");
    project.edit(
        "main.tf",
        "self.output == var.port",
        "self.output != var.port",
    );
    let run = project.braid(&["plan"]);
    run.failure();
    assert!(
        run.stderr.contains("Resource postcondition failed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("the output is not the port"),
        "{}",
        run.stderr
    );
}

#[test]
fn check_blocks_warn_without_stopping() {
    let project = project(
        r#"
variable "port" {
  default = 80
}
resource "local_value" "config" {
  input = var.port
}
check "port" {
  assert {
    condition     = var.port > 1024
    error_message = "port ${var.port} is privileged"
  }
  assert {
    condition     = local_value.config.output == var.port
    error_message = "the output is not the port"
  }
}
"#,
    );
    let plan = plan_json(&project, &[]);
    assert_eq!(
        plan["checks"],
        serde_json::json!([{
            "address": "check.port",
            "status": "fail",
            "messages": ["port 80 is privileged"],
            "declared_at": "main.tf:8"
        }])
    );
    let human = project.braid(&["plan"]);
    human.success();
    assert!(
        human.all().contains("Check block assertion failed"),
        "{}",
        human.all()
    );
    let applied = project.braid(&["apply", "--auto-approve"]);
    applied.success();
    assert!(
        applied.all().contains("port 80 is privileged"),
        "{}",
        applied.all()
    );
    project
        .braid(&["apply", "--auto-approve", "--var", "port=8080"])
        .success();
    let plan = plan_json(&project, &["--var", "port=8080"]);
    assert_eq!(plan["checks"][0]["status"], "pass", "{plan:#}");
    // A check needs an assertion, and may reference only what exists.
    project.write("main.tf", "check \"empty\" {\n}\n");
    let run = project.braid(&["plan"]);
    run.failure();
    assert!(run.stderr.contains("Zero assert blocks"), "{}", run.stderr);
    project.write(
        "main.tf",
        "check \"x\" {\n  assert {\n    condition     = local_value.nope.output\n    error_message = \"m\"\n  }\n}\n",
    );
    let run = project.braid(&["plan"]);
    run.failure();
    assert!(
        run.stderr.contains("Reference to undeclared resource"),
        "{}",
        run.stderr
    );
}

#[test]
fn import_blocks_adopt_existing_objects_during_apply() {
    let adopting = project(
        "resource \"local_file\" \"adopted\" {\n  filename = \"out/existing.txt\"\n  content  = \"hello, braid\"\n}\nimport {\n  to = local_file.adopted\n  id = \"out/existing.txt\"\n}\n",
    );
    adopting.write("out/existing.txt", "hello");
    let plan = plan_json(&adopting, &[]);
    let adopted = change(&plan, "local_file.adopted");
    assert_eq!(adopted["action"], "import");
    assert_eq!(adopted["import_id"], "out/existing.txt");
    assert_eq!(adopted["before"]["content"], "hello");
    assert_eq!(adopted["after"]["content"], "hello, braid");
    // Nothing happens before apply.
    assert!(adopting.state_list(&[]).is_empty());
    adopting.braid(&["apply", "--auto-approve"]).success();
    assert_eq!(adopting.state_list(&[]), ["local_file.adopted"]);
    assert_eq!(adopting.read("out/existing.txt"), "hello, braid");
    // Once in state, the import block has nothing left to do.
    let plan = plan_json(&adopting, &[]);
    assert_eq!(change(&plan, "local_file.adopted")["action"], "no-op");
    // An id naming nothing, and a target not declared, are errors.
    let missing = project(
        "resource \"local_file\" \"a\" {\n  filename = \"out/a.txt\"\n  content  = \"x\"\n}\nimport {\n  to = local_file.a\n  id = \"out/missing.txt\"\n}\n",
    );
    let run = missing.braid(&["plan"]);
    run.failure();
    assert!(
        run.stderr.contains("Cannot import missing file"),
        "{}",
        run.stderr
    );
    let undeclared = project("import {\n  to = local_file.nope\n  id = \"x\"\n}\n");
    let run = undeclared.braid(&["plan"]);
    run.failure();
    assert!(
        run.stderr
            .contains("Configuration for import target does not exist"),
        "{}",
        run.stderr
    );
}

/// A data block nested in a check block is read for the check only: what it reads feeds the
/// assertions, a failure to read it is the check's warning, and nothing else may use it.
#[test]
fn data_blocks_scoped_to_a_check_warn_instead_of_failing() {
    let project = project(
        r#"
check "motd" {
  data "local_file" "motd" {
    filename = "motd.txt"
  }
  assert {
    condition     = startswith(data.local_file.motd.content, "welcome")
    error_message = "the message of the day does not welcome anyone"
  }
}
"#,
    );
    // The file is missing: the plan still succeeds, the check says why.
    let plan = plan_json(&project, &[]);
    assert_eq!(plan["checks"][0]["status"], "fail", "{plan:#}");
    let message = plan["checks"][0]["messages"][0]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.starts_with("data.local_file.motd: ") && message.contains("motd.txt"),
        "{plan:#}"
    );
    project.braid(&["apply", "--auto-approve"]).success();

    project.write("motd.txt", "welcome aboard");
    let plan = plan_json(&project, &[]);
    assert_eq!(plan["checks"][0]["status"], "pass", "{plan:#}");
    project.write("motd.txt", "go away");
    let plan = plan_json(&project, &[]);
    assert_eq!(
        plan["checks"][0]["messages"],
        serde_json::json!(["the message of the day does not welcome anyone"]),
        "{plan:#}"
    );

    // Only the check may read it.
    project.write(
        "main.tf",
        "check \"motd\" {\n  data \"local_file\" \"motd\" {\n    filename = \"motd.txt\"\n  }\n  assert {\n    condition     = true\n    error_message = \"m\"\n  }\n}\noutput \"leak\" {\n  value = data.local_file.motd.content\n}\n",
    );
    let run = project.braid(&["plan"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("Reference to scoped resource") && run.stderr.contains("main.tf:11:11"),
        "{}",
        run.stderr
    );
}

/// `dynamic` blocks make one nested block per element, in order, with their iterator (the
/// label or `iterator`), nested inside each other; static blocks of the same kind keep
/// their place.
#[test]
fn dynamic_blocks_make_one_block_per_element() {
    let project = project(
        r#"
variable "rules" {
  default = {
    http  = { port = 80, cidrs = ["10.0.0.0/8"] }
    https = { port = 443, cidrs = ["10.0.0.0/8", "192.168.0.0/16"] }
  }
}
resource "local_value" "rules" {
  input {
    name = "static"
  }
  dynamic "input" {
    for_each = var.rules
    iterator = rule
    content {
      name = rule.key
      port = rule.value.port
      dynamic "source" {
        for_each = rule.value.cidrs
        content {
          cidr  = source.value
          index = source.key
        }
      }
    }
  }
}
output "rules" {
  value = local_value.rules.output
}
"#,
    );
    let plan = plan_json(&project, &[]);
    assert_eq!(
        plan["outputs"]["rules"]["value"],
        serde_json::json!([
            { "name": "static" },
            { "name": "http", "port": 80, "source": [{ "cidr": "10.0.0.0/8", "index": 0 }] },
            { "name": "https", "port": 443, "source": [
                { "cidr": "10.0.0.0/8", "index": 0 },
                { "cidr": "192.168.0.0/16", "index": 1 }
            ]}
        ]),
        "{plan:#}"
    );
    project.braid(&["apply", "--auto-approve"]).success();
    let again = project.braid(&["plan", "--detailed-exitcode"]);
    again.expect_code(0);

    // Terraform's diagnostics for malformed dynamic blocks, at their place.
    for (body, needles) in [
        (
            "dynamic \"input\" {\n    content {}\n  }",
            &["Missing required argument", "\"for_each\"", "main.tf:2:3"][..],
        ),
        (
            "dynamic \"input\" {\n    for_each = [1]\n  }",
            &["Missing content block", "main.tf:2:3"][..],
        ),
        (
            "dynamic \"input\" {\n    for_each = null\n    content {}\n  }",
            &["Invalid dynamic for_each value", "null", "main.tf:3:16"][..],
        ),
        (
            "dynamic \"input\" {\n    for_each = [1]\n    content {\n      x = input.nope\n    }\n  }",
            &["Unsupported attribute", "main.tf:5:11"][..],
        ),
    ] {
        project.write(
            "main.tf",
            &format!("resource \"local_value\" \"rules\" {{\n  {body}\n}}\n"),
        );
        let run = project.braid(&["plan"]);
        run.expect_code(1);
        for needle in needles {
            assert!(run.stderr.contains(needle), "{needle} in {}", run.stderr);
        }
    }
}
