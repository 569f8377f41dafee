//! Terraform's own files in a source: `*.tf` resource files, the `terraform {}` block,
//! `terraform.tfvars`, `*.auto.tfvars`, `--var-file` and `TF_VAR_`, with Terraform's
//! precedence among them and braid's own sources of values.

use crate::common::Project;

const VARIABLES_TF: &str = "variable \"a\" {\n  type    = string\n  default = \"default\"\n}\n\
variable \"b\" {\n  type    = string\n  default = \"default\"\n}\n\
variable \"c\" {\n  type    = string\n  default = \"default\"\n}\n\
variable \"d\" {\n  type    = string\n  default = \"default\"\n}\n\
variable \"e\" {\n  type    = string\n  default = \"default\"\n}\n\
variable \"f\" {\n  type    = number\n  default = 0\n}\n\
output \"values\" {\n  value = [var.a, var.b, var.c, var.d, var.e, var.f]\n}\n";

fn outputs(project: &Project, args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    let mut all = vec!["plan", "--format", "json"];
    all.extend_from_slice(args);
    let run = project.braid_env(&all, env);
    run.success();
    run.json()["outputs"]["values"]["value"].clone()
}

#[test]
fn tf_files_and_variable_files_follow_terraforms_precedence() {
    let project = Project::with_files(&[
        ("main.tf", VARIABLES_TF),
        (
            "terraform.tfvars",
            "a = \"tfvars\"\nb = \"tfvars\"\nc = \"tfvars\"\nf = 3\n",
        ),
        ("b.auto.tfvars", "b = \"auto-b\"\nc = \"auto-b\"\n"),
        ("a.auto.tfvars", "c = \"auto-a\"\nd = \"auto-a\"\n"),
        ("prod.tfvars", "d = \"var-file\"\ne = \"var-file\"\n"),
    ]);
    // Files of the source: terraform.tfvars, then *.auto.tfvars in name order.
    assert_eq!(
        outputs(&project, &[], &[]),
        serde_json::json!(["tfvars", "auto-b", "auto-b", "auto-a", "default", 3])
    );
    // TF_VAR_ is below every file; BRAID_VAR_ above TF_VAR_.
    assert_eq!(
        outputs(
            &project,
            &[],
            &[
                ("TF_VAR_a", "tf-env"),
                ("TF_VAR_e", "tf-env"),
                ("TF_VAR_f", "9")
            ]
        ),
        serde_json::json!(["tfvars", "auto-b", "auto-b", "auto-a", "tf-env", 3])
    );
    assert_eq!(
        outputs(
            &project,
            &[],
            &[("TF_VAR_e", "tf-env"), ("BRAID_VAR_e", "braid-env")]
        ),
        serde_json::json!(["tfvars", "auto-b", "auto-b", "auto-a", "braid-env", 3])
    );
    // --var-file wins over the source's files, --var over --var-file.
    assert_eq!(
        outputs(
            &project,
            &["--var-file", "prod.tfvars", "--var", "e=cli"],
            &[]
        ),
        serde_json::json!(["tfvars", "auto-b", "auto-b", "var-file", "cli", 3])
    );
}

#[test]
fn a_bad_variable_file_is_an_error_at_its_line() {
    let project = Project::with_files(&[
        ("main.tf", VARIABLES_TF),
        ("terraform.tfvars", "a = \"ok\"\nb = var.a\n"),
    ]);
    let run = project.braid(&["plan"]);
    run.failure();
    assert!(run.stderr.contains("terraform.tfvars:2"), "{}", run.stderr);
    let project = Project::with_files(&[("main.tf", VARIABLES_TF)]);
    let run = project.braid(&["plan", "--var-file", "missing.tfvars"]);
    run.failure();
    assert!(
        run.stderr.contains("Cannot read variable file"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("missing.tfvars"), "{}", run.stderr);
    // A value for an undeclared variable in a file is a warning, as in Terraform.
    let project =
        Project::with_files(&[("main.tf", VARIABLES_TF), ("terraform.tfvars", "zz = 1\n")]);
    let run = project.braid(&["plan"]);
    run.success();
    assert!(
        run.stderr.contains("Value for undeclared variable"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_terraform_block_is_understood() {
    let project = Project::with_files(&[(
        "main.tf",
        "terraform {\n  required_version = \">= 1.5, < 2.0\"\n  required_providers {\n    random = {\n      source  = \"hashicorp/random\"\n      version = \"~> 3.6\"\n    }\n  }\n  backend \"s3\" {\n    bucket = \"acme-tfstate\"\n  }\n}\n\nresource \"local_file\" \"a\" {\n  filename = \"out/a.txt\"\n  content  = \"a\"\n}\n",
    )]);
    let run = project.braid(&["plan"]);
    run.success();
    assert!(
        run.stderr.contains("Terraform backend ignored"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.tf:9"), "{}", run.stderr);
    assert!(
        run.stdout.contains("local_file.a will be created"),
        "{}",
        run.stdout
    );

    let project = Project::with_files(&[(
        "versions.tf",
        "terraform {\n  required_version = \"= 1.5.7\"\n}\n",
    )]);
    let run = project.braid(&["plan"]);
    run.failure();
    assert!(
        run.stderr.contains("Unsupported Terraform version"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("versions.tf:2"), "{}", run.stderr);
}

/// Applying a saved plan uses the variable values it was made with, not what the command
/// line of the apply says (or does not say).
#[test]
fn a_saved_plan_applies_the_values_it_was_made_with() {
    let project = Project::with_files(&[(
        "main.tf",
        "variable \"greeting\" {\n  type = string\n}\n\nresource \"local_file\" \"a\" {\n  filename = \"out/a.txt\"\n  content  = var.greeting\n}\n",
    )]);
    project
        .braid(&["plan", "--var", "greeting=from-plan", "--out", "p.json"])
        .success();
    let run = project.braid(&["apply", "p.json"]);
    run.success();
    assert_eq!(project.read("out/a.txt"), "from-plan");
}

/// `uuid()` and `timestamp()` are unknown while planning and get values when applying, as
/// in Terraform; `plantimestamp()` is the plan's instant, the same when a saved plan is
/// applied by another process.
#[test]
fn impure_functions_get_values_at_apply() {
    let project = Project::with_files(&[(
        "main.tf",
        "resource \"local_value\" \"a\" {\n  input = { id = uuid(), at = timestamp(), planned = plantimestamp() }\n}\n",
    )]);
    let run = project.braid(&["plan", "--out", "p.json"]);
    run.success();
    assert!(run.stdout.contains("(known after apply)"), "{}", run.stdout);
    let planned_at = project.read("p.json");
    let run = project.braid(&["apply", "p.json"]);
    run.success();
    let run = project.braid(&["state", "show", "local_value.a", "--format", "json"]);
    run.success();
    let state = run.json();
    let id = state["output"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(id.len(), 36, "{state}");
    assert!(
        state["output"]["at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{state}"
    );
    let planned = state["output"]["planned"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!planned.is_empty(), "{state}");
    assert!(
        planned_at.contains(&planned[..16]),
        "{planned} not in the saved plan"
    );
}

const MAIN_TF_JSON: &str = r#"{
  "//": "Terraform's JSON syntax",
  "variable": {
    "names": {
      "type": "set(string)",
      "default": ["a", "b"]
    }
  },
  "locals": {
    "prefix": "out/${terraform.workspace}"
  },
  "resource": {
    "local_file": {
      "f": {
        "for_each": "${var.names}",
        "filename": "${local.prefix}/${each.key}.txt",
        "content": "say \"${upper(each.key)}\"",
        "lifecycle": {
          "ignore_changes": ["file_permission"]
        }
      }
    }
  },
  "output": {
    "files": {
      "value": "${[for f in local_file.f : f.filename]}"
    }
  }
}
"#;

#[test]
fn tf_json_files_load_like_tf_files() {
    let project = Project::with_files(&[
        ("braid.hcl", "source \"infra\" {\n  path = \".\"\n}\n"),
        ("main.tf.json", MAIN_TF_JSON),
        ("other.json", "not configuration"),
    ]);
    let run = project.braid(&["plan", "--format", "json"]);
    run.success();
    let plan = run.json();
    assert_eq!(
        plan["outputs"]["files"]["value"],
        serde_json::json!(["out/default/a.txt", "out/default/b.txt"])
    );
    project.braid(&["apply", "--auto-approve"]).success();
    assert_eq!(project.read("out/default/b.txt"), "say \"B\"");
    // A mistake is reported at its line in the JSON file.
    project.write("main.tf.json", &MAIN_TF_JSON.replace("upper(", "uper("));
    let run = project.braid(&["plan"]);
    run.failure();
    assert!(run.stderr.contains("main.tf.json:17"), "{}", run.stderr);
    project.write(
        "main.tf.json",
        "{\n  \"resource\": {\n    \"x\" 1\n  }\n}\n",
    );
    let run = project.braid(&["plan"]);
    run.failure();
    assert!(run.stderr.contains("Invalid JSON syntax"), "{}", run.stderr);
    assert!(run.stderr.contains("main.tf.json:3"), "{}", run.stderr);
}
