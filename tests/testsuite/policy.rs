//! Policy checks (issue #18): Rego policies of braid.hcl's `policy` blocks judge every plan
//! through regorus. `deny` fails the plan (exit 1) and `apply` refuses it; `warn` is shown;
//! an overridable denial is set aside with `--override-policy NAME --reason`, recorded in
//! the audit log; results are in the human plan, the JSON plan and the PR comment; the
//! input has sensitive values masked.

use crate::common::Project;

const POLICY: &str = r#"package braid

import rego.v1

deny contains {"name": "motd-words", "overridable": true, "msg": msg} if {
	some rc in input.resource_changes
	rc.type == "local_file"
	"create" in rc.change.actions
	contains(rc.change.after.content, "forbidden")
	msg := sprintf("%s: the message says forbidden", [rc.address])
}

deny contains msg if {
	input.braid.env == "prod"
	count(input.resource_changes) > 0
	msg := "nothing goes to prod from this project"
}

warn contains msg if {
	some rc in input.resource_changes
	rc.type == "local_file"
	msg := sprintf("%s: content %v", [rc.address, rc.change.after.content])
}
"#;

fn project(content: &str) -> Project {
    Project::with_files(&[
        (
            "braid.hcl",
            "source \"infra\" { path = \".\" }\n\npolicy { path = \"policy\" }\n\nenvironment \"dev\" {}\n\nenvironment \"prod\" {}\n",
        ),
        ("policy/local.rego", POLICY),
        ("main.hcl", &main_hcl(content)),
    ])
}

fn main_hcl(content: &str) -> String {
    format!(
        "variable \"token\" {{\n  sensitive = true\n  default   = \"s3cr3t-token\"\n}}\n\nresource \"local_file\" \"motd\" {{\n  filename          = \"out/motd\"\n  content           = \"{content}\"\n}}\n\nresource \"local_file\" \"token\" {{\n  filename = \"out/token\"\n  content  = var.token\n}}\n"
    )
}

#[test]
fn policies_deny_warn_and_are_overridden_on_the_record() {
    let project = project("hello");
    // Warnings are shown; the plan passes; the secret is masked in what policies see.
    let plan = project.braid(&["--env", "dev", "plan"]);
    plan.success();
    assert!(
        plan.stdout
            .contains("Policy: 0 denied, 2 warning(s) (policy/local.rego)")
            && plan.stdout.contains("warn local_file.motd: content hello")
            && plan
                .stdout
                .contains("warn local_file.token: content (sensitive)"),
        "{}",
        plan.all()
    );
    assert!(!plan.all().contains("s3cr3t-token"), "{}", plan.all());
    let json = project.braid(&["--env", "dev", "plan", "--format", "json"]);
    json.success();
    let policy = &json.json()["policy"];
    assert_eq!(policy["files"][0], "policy/local.rego", "{policy:#}");
    assert_eq!(policy["denied"], serde_json::json!([]), "{policy:#}");
    assert_eq!(
        policy["warnings"].as_array().map(Vec::len),
        Some(2),
        "{policy:#}"
    );

    // A denial: the plan is shown and fails; apply refuses and changes nothing.
    project.write("main.hcl", &main_hcl("forbidden words"));
    let denied = project.braid(&["--env", "dev", "plan"]);
    denied.expect_code(1);
    assert!(
        denied
            .stdout
            .contains("deny [motd-words] local_file.motd: the message says forbidden")
            && denied.stderr.contains("Policy denied the plan")
            && denied.stderr.contains("--override-policy NAME"),
        "{}",
        denied.all()
    );
    let markdown = project.braid(&["--env", "dev", "plan", "--format", "markdown"]);
    let body = &markdown.stdout;
    let policy_at = body.find("**Policy:** 1 denied").expect("a policy section");
    let table_at = body.find("| environment | source |").expect("the tables");
    assert!(
        policy_at < table_at,
        "the policy section comes first:\n{body}"
    );
    assert!(
        body.contains("❌ **deny** `motd-words` local_file.motd"),
        "{body}"
    );
    let refused = project.braid(&["--env", "dev", "apply", "--auto-approve"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("Policy denied the plan"),
        "{}",
        refused.all()
    );
    // Without --auto-approve nobody is asked to confirm a plan that will be refused.
    let unasked = project.braid(&["--env", "dev", "apply"]);
    unasked.expect_code(1);
    assert!(
        unasked.stderr.contains("Policy denied the plan")
            && !unasked.all().contains("--auto-approve")
            && unasked.stdout.contains("deny [motd-words]"),
        "{}",
        unasked.all()
    );
    assert!(!project.path().join("out/motd").exists());

    // Overrides: only by name, only where the policy allows, with a reason.
    let wrong = project.braid(&[
        "--env",
        "dev",
        "apply",
        "--auto-approve",
        "--override-policy",
        "nope",
        "--reason",
        "x",
    ]);
    wrong.expect_code(1);
    assert!(
        wrong.stderr.contains("Nothing to override") && wrong.stderr.contains("names: motd-words"),
        "{}",
        wrong.all()
    );
    let applied = project.braid(&[
        "--env",
        "dev",
        "apply",
        "--auto-approve",
        "--override-policy",
        "motd-words",
        "--reason",
        "approved by CAB-7",
    ]);
    applied.success();
    assert_eq!(project.read("out/motd"), "forbidden words");
    let history = project.braid(&["--env", "dev", "history"]);
    assert!(
        history.stdout.contains(
            "note: policy overridden by test-actor: approved by CAB-7 (motd-words: local_file.motd: the message says forbidden)"
        ),
        "{}",
        history.stdout
    );

    // A denial without a name cannot be set aside.
    let prod = project.braid(&[
        "--env",
        "prod",
        "apply",
        "--auto-approve",
        "--override-policy",
        "motd-words",
        "--reason",
        "x",
    ]);
    prod.expect_code(1);
    assert!(
        prod.stderr
            .contains("nothing goes to prod from this project"),
        "{}",
        prod.all()
    );
}

#[test]
fn a_saved_plan_is_judged_by_the_policies_of_its_apply() {
    let project = project("hello");
    project
        .braid(&["--env", "dev", "plan", "--out", "dev.plan"])
        .success();
    project.write(
        "policy/freeze.rego",
        "package braid\n\nimport rego.v1\n\ndeny contains \"frozen: no changes this week\" if count(input.resource_changes) > 0\n",
    );
    let refused = project.braid(&["--env", "dev", "apply", "dev.plan"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("frozen: no changes this week"),
        "{}",
        refused.all()
    );
    assert!(!project.path().join("out/motd").exists());
}

#[test]
fn policy_blocks_are_checked() {
    for (block, message) in [
        (
            "policy { path = \"../elsewhere\" }",
            "Policy path outside the project",
        ),
        ("policy { path = \"missing\" }", "Cannot read policies"),
        ("policy {}", "Missing policy path"),
    ] {
        let project = Project::with_files(&[
            (
                "braid.hcl",
                &format!("source \"infra\" {{ path = \".\" }}\n\n{block}\n"),
            ),
            (
                "main.hcl",
                "resource \"local_file\" \"x\" {\n  filename = \"out/x\"\n  content  = \"x\"\n}\n",
            ),
        ]);
        let run = project.braid(&["plan"]);
        run.expect_code(1);
        assert!(
            run.stderr.contains(message) && run.stderr.contains("braid.hcl:3"),
            "{message}: {}",
            run.all()
        );
    }
    let project = Project::with_files(&[
        (
            "braid.hcl",
            "source \"infra\" { path = \".\" }\n\npolicy { path = \"policy\" }\n",
        ),
        (
            "policy/bad.rego",
            "package braid\n\ndeny contains msg if {\n",
        ),
        (
            "main.hcl",
            "resource \"local_file\" \"x\" {\n  filename = \"out/x\"\n  content  = \"x\"\n}\n",
        ),
    ]);
    let run = project.braid(&["plan"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("Invalid policy") && run.stderr.contains("policy/bad.rego"),
        "{}",
        run.all()
    );
}
