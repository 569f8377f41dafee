//! What a variable declaration demands of its value, as in Terraform: `validation` blocks
//! (a false condition is an error at the condition, with the block's message; conditions
//! may read other variables), `nullable = false`, and the refusal of `ephemeral = true`.
//! The defaults of `optional(T, DEFAULT)` are in the function conformance suite, where
//! Terraform computed them.

use crate::common::Project;

const VALIDATED: &str = r#"variable "replicas" {
  type    = number
  default = 2
  validation {
    condition     = var.replicas >= var.minimum
    error_message = "Replicas must be at least ${var.minimum}."
  }
}
variable "minimum" {
  type    = number
  default = 1
}
output "replicas" {
  value = var.replicas
}
"#;

#[test]
fn validation_rules_accept_good_values_and_reject_others_at_the_condition() {
    let project = Project::with_main(VALIDATED);
    let run = project.braid(&["plan", "--format", "json"]);
    run.success();
    assert_eq!(run.json()["outputs"]["replicas"]["value"], 2);

    // The rule reads another variable, as Terraform 1.9 and later allow.
    let run = project.braid(&["plan", "--var", "minimum=3"]);
    run.failure();
    assert!(
        run.stderr.contains("Invalid value for variable"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Replicas must be at least 3."),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.hcl:5:"), "{}", run.stderr);
}

#[test]
fn a_validation_error_message_never_shows_a_sensitive_value() {
    let project = Project::with_main(
        r#"variable "token" {
  type      = string
  default   = "short"
  sensitive = true
  validation {
    condition     = length(var.token) > 10
    error_message = "The token ${var.token} is too short."
  }
}
"#,
    );
    let run = project.braid(&["plan"]);
    run.failure();
    assert!(!run.all().contains("short"), "{}", run.all());
    assert!(run.stderr.contains("sensitive"), "{}", run.stderr);
}

#[test]
fn a_non_nullable_variable_takes_its_default_for_null_or_refuses_it() {
    let project = Project::with_files(&[
        ("braid.hcl", crate::common::BRAID_HCL),
        (
            "main.hcl",
            r#"variable "with_default" {
  type     = string
  default  = "fallback"
  nullable = false
}
variable "nullable" {
  type    = string
  default = "fallback"
}
output "values" {
  value = [var.with_default, var.nullable]
}
"#,
        ),
        ("terraform.tfvars", "with_default = null\nnullable = null\n"),
    ]);
    let run = project.braid(&["plan", "--format", "json"]);
    run.success();
    assert_eq!(
        run.json()["outputs"]["values"]["value"],
        serde_json::json!(["fallback", null])
    );

    let project = Project::with_files(&[
        ("braid.hcl", crate::common::BRAID_HCL),
        (
            "main.hcl",
            "variable \"name\" {\n  type     = string\n  nullable = false\n}\n",
        ),
        ("terraform.tfvars", "name = null\n"),
    ]);
    let run = project.braid(&["plan"]);
    run.failure();
    assert!(run.stderr.contains("nullable = false"), "{}", run.stderr);
}

#[test]
fn ephemeral_variables_are_refused_with_a_reason() {
    let project = Project::with_main(
        "variable \"session\" {\n  type      = string\n  default   = \"x\"\n  ephemeral = true\n}\n",
    );
    let run = project.braid(&["plan"]);
    run.failure();
    assert!(run.stderr.contains("ephemeral"), "{}", run.stderr);
    assert!(run.stderr.contains("main.hcl:4:"), "{}", run.stderr);
}
