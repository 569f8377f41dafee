//! `braid plan` on the quickstart fixture: human renders as snapshots, JSON checked field by
//! field, exit codes with `--detailed-exitcode`, replace/delete/drift, and that a sensitive
//! value never shows up anywhere.

use crate::common::{self, Project, addresses_with_action, change};
use serde_json::json;

/// The default of `var.api_token` in the fixture: must never be printed or saved.
const SECRET: &str = "tok-SECRET-4f9a2c";

fn quickstart() -> Project {
    Project::fixture("quickstart")
}

fn applied_quickstart() -> Project {
    let project = quickstart();
    project
        .braid(&["--env", "dev", "apply", "--auto-approve"])
        .success();
    project
}

#[track_caller]
fn snapshot(name: &str, text: &str) {
    common::insta_settings().bind(|| insta::assert_snapshot!(name, text));
}

#[track_caller]
fn assert_no_secret(what: &str, text: &str) {
    assert!(
        !text.contains(SECRET),
        "the sensitive value leaked into {what}:\n{text}"
    );
}

fn plan_json(project: &Project, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["--env", "dev", "plan", "--format", "json"];
    args.extend_from_slice(extra);
    let run = project.braid(&args);
    run.success();
    assert_no_secret("plan --format json", &run.all());
    run.json()
}

#[test]
fn first_plan_creates_everything_human() {
    let project = quickstart();
    let run = project.braid(&["--env", "dev", "plan"]);
    run.success();
    assert_eq!(run.stderr, "");
    assert_no_secret("the human plan", &run.all());
    // The file fed from the sensitive variable is masked; values only known after apply say so.
    assert!(run.stdout.contains("+ content              = (sensitive)"));
    assert!(
        run.stdout
            .contains("+ content              = (known after apply)")
    );
    assert!(
        run.stdout
            .contains("Plan: 3 to add, 0 to change, 0 to replace, 0 to destroy.")
    );
    snapshot("first_plan_human", &project.normalize(&run.stdout));
}

#[test]
fn first_plan_detailed_exitcode_is_2() {
    let project = quickstart();
    project
        .braid(&["--env", "dev", "plan", "--detailed-exitcode"])
        .expect_code(2);
}

#[test]
fn first_plan_json_fields() {
    let project = quickstart();
    let plan = plan_json(&project, &[]);
    assert_eq!(plan["format_version"], "1.0");
    assert_eq!(plan["env"], "dev");
    assert_eq!(plan["mode"], "normal");
    assert_eq!(plan["refreshed"], true);
    assert_eq!(plan["state"]["serial"], 0);
    assert_eq!(
        plan["state"]["lineage"].as_str().map(str::len),
        Some(36),
        "lineage is a uuid: {}",
        plan["state"]
    );
    assert_eq!(plan["sources"][0]["name"], "infra");
    assert!(
        plan["sources"][0]["digest"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:"))
    );

    assert_eq!(
        addresses_with_action(&plan, "create"),
        [
            "local_file.config",
            "local_file.motd",
            "local_value.release"
        ]
    );
    assert_eq!(plan["changes"].as_array().map(Vec::len), Some(3));

    let motd = change(&plan, "local_file.motd");
    assert_eq!(
        motd["after_unknown"],
        json!([["content"], ["content_sha256"], ["id"]])
    );
    assert_eq!(motd["after"]["filename"], "out/dev/motd.txt");
    assert_eq!(motd["after"]["file_permission"], "0644");
    assert_eq!(motd["before"], serde_json::Value::Null);
    assert_eq!(motd["depends_on"], json!(["local_value.release"]));
    assert_eq!(motd["source_file"], "main.hcl:30");

    let release = change(&plan, "local_value.release");
    assert_eq!(release["after_unknown"], json!([["id"]]));
    assert_eq!(release["after"]["input"]["replicas"], 2);
    assert_eq!(release["after"]["input"]["labels"]["env"], "dev");

    let config = change(&plan, "local_file.config");
    assert_eq!(config["after"]["content"], "(sensitive)");
    assert_eq!(config["after_sensitive"], json!([["content"]]));
    assert_eq!(config["after"]["file_permission"], "0600");
    assert_eq!(config["after_unknown"], json!([]));
    assert_eq!(config["depends_on"], json!(["local_file.motd"]));

    let api_token = &plan["variables"]["api_token"];
    assert_eq!(api_token["sensitive"], true);
    assert_eq!(api_token["value"], serde_json::Value::Null);
    assert!(
        api_token["digest"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:"))
    );
    assert_eq!(plan["variables"]["greeting"]["value"], "hello");

    assert_eq!(plan["outputs"]["motd_file"]["value"], "out/dev/motd.txt");
    assert_eq!(plan["outputs"]["release_id"]["unknown"], true);

    assert_eq!(
        plan["summary"],
        json!({"create": 3, "update": 0, "replace": 0, "delete": 0, "import": 0, "no_op": 0, "drift": 0, "moved": 0, "forget": 0})
    );
    assert_eq!(plan["drift"], json!([]));
}

#[test]
fn first_plan_json_snapshot() {
    let project = quickstart();
    let run = project.braid(&["--env", "dev", "plan", "--format", "json"]);
    run.success();
    snapshot("first_plan_json", &project.normalize(&run.stdout));
}

#[test]
fn sensitive_value_never_in_saved_plan_or_output() {
    let project = quickstart();
    let run = project.braid(&["--env", "dev", "plan", "--out", "p.json"]);
    run.success();
    assert_no_secret("plan --out", &run.all());
    assert!(run.stdout.contains(
        "Saved the plan to p.json. Apply exactly these changes with: braid apply p.json"
    ));
    let saved = project.read("p.json");
    assert_no_secret("the saved plan file", &saved);
    assert!(saved.contains("\"content\": \"(sensitive)\""));
    // `show` of the saved plan masks it too.
    let shown = project.braid(&["--env", "dev", "show", "p.json"]);
    shown.success();
    assert_no_secret("show p.json", &shown.all());
    let shown = project.braid(&["--env", "dev", "show", "p.json", "--format", "json"]);
    shown.success();
    assert_no_secret("show p.json --format json", &shown.all());
}

#[test]
fn sensitive_value_from_command_line_or_environment_is_masked() {
    let project = quickstart();
    let from_var = "cli-SECRET-0b7e";
    let run = project.braid(&[
        "--env",
        "dev",
        "plan",
        "--var",
        &format!("api_token={from_var}"),
    ]);
    run.success();
    assert!(!run.all().contains(from_var), "{}", run.stdout);
    let from_env = "env-SECRET-91cd";
    for format in ["human", "json", "markdown"] {
        let run = project.braid_env(
            &["--env", "dev", "plan", "--format", format],
            &[("BRAID_VAR_api_token", from_env)],
        );
        run.success();
        assert!(!run.all().contains(from_env), "{format}: {}", run.stdout);
        assert!(
            run.stdout.contains("(sensitive)"),
            "{format}: {}",
            run.stdout
        );
    }
}

#[test]
fn sensitive_value_never_in_apply_show_or_state_output() {
    let project = quickstart();
    let run = project.braid(&["--env", "dev", "apply", "--auto-approve"]);
    run.success();
    assert_no_secret("apply", &run.all());
    // The file itself holds it: it was written.
    assert!(project.read("out/dev/config.json").contains(SECRET));
    for args in [
        &["--env", "dev", "show"][..],
        &["--env", "dev", "show", "--format", "json"],
        &["--env", "dev", "state", "show", "local_file.config"],
        &[
            "--env",
            "dev",
            "state",
            "show",
            "local_file.config",
            "--format",
            "json",
        ],
        &["--env", "dev", "plan", "--var", "replicas=9"],
        &[
            "--env",
            "dev",
            "plan",
            "--var",
            "replicas=9",
            "--format",
            "json",
        ],
    ] {
        let run = project.braid(args);
        run.success();
        assert_no_secret(&args.join(" "), &run.all());
    }
}

#[test]
fn no_changes_after_apply() {
    let project = applied_quickstart();
    let run = project.braid(&["--env", "dev", "plan", "--detailed-exitcode"]);
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("No changes. Environment dev matches the configuration.")
    );
    snapshot("no_changes_human", &project.normalize(&run.stdout));

    let plan = plan_json(&project, &[]);
    assert_eq!(
        addresses_with_action(&plan, "no-op"),
        [
            "local_file.config",
            "local_file.motd",
            "local_value.release"
        ]
    );
    assert_eq!(plan["summary"]["no_op"], 3);
    assert_eq!(plan["summary"]["create"], 0);
    assert_eq!(plan["state"]["serial"], 3);
    assert_eq!(plan["outputs"]["release_id"]["unknown"], false);
}

#[test]
fn variable_change_is_an_update() {
    let project = applied_quickstart();
    let run = project.braid(&[
        "--env",
        "dev",
        "plan",
        "--var",
        "replicas=5",
        "--detailed-exitcode",
    ]);
    run.expect_code(2);
    assert_no_secret("the update plan", &run.all());
    assert!(run.stdout.contains("~ replicas = 2 -> 5"));
    assert!(
        run.stdout
            .contains("~ content              = (sensitive) -> (sensitive)")
    );
    snapshot("update_human", &project.normalize(&run.stdout));

    let plan = plan_json(&project, &["--var", "replicas=5"]);
    assert_eq!(
        addresses_with_action(&plan, "update"),
        ["local_file.config", "local_value.release"]
    );
    assert_eq!(addresses_with_action(&plan, "no-op"), ["local_file.motd"]);
    let release = change(&plan, "local_value.release");
    assert_eq!(release["before"]["input"]["replicas"], 2);
    assert_eq!(release["after"]["input"]["replicas"], 5);
    let config = change(&plan, "local_file.config");
    assert_eq!(config["before"]["content"], "(sensitive)");
    assert_eq!(config["after"]["content"], "(sensitive)");
    assert_eq!(plan["summary"]["update"], 2);
    assert_eq!(plan["summary"]["no_op"], 1);
    assert_eq!(plan["variables"]["replicas"]["value"], 5);
}

#[test]
fn filename_change_forces_replacement() {
    let project = applied_quickstart();
    project.edit("main.hcl", "motd.txt", "motd-v2.txt");
    let run = project.braid(&["--env", "dev", "plan", "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(
        run.stdout
            .contains("# local_file.motd must be replaced (filename forces replacement)")
    );
    assert!(run.stdout.contains(
        "~ filename             = \"out/dev/motd.txt\" -> \"out/dev/motd-v2.txt\" # forces replacement"
    ));
    snapshot("replace_human", &project.normalize(&run.stdout));

    let plan = plan_json(&project, &[]);
    let motd = change(&plan, "local_file.motd");
    assert_eq!(motd["action"], "replace");
    assert_eq!(motd["reason"], "filename forces replacement");
    assert_eq!(motd["replace_paths"], json!([["filename"]]));
    assert_eq!(motd["create_before_destroy"], false);
    // config embeds the motd filename, so it changes in place.
    assert_eq!(change(&plan, "local_file.config")["action"], "update");
    assert_eq!(plan["summary"]["replace"], 1);
    assert_eq!(plan["summary"]["update"], 1);
}

#[test]
fn resource_removed_from_configuration_is_deleted() {
    let project = applied_quickstart();
    let main = project.read("main.hcl");
    let start = main
        .find("resource \"local_file\" \"config\"")
        .expect("config block");
    let end = start + main[start..].find("\n}\n").expect("end of block") + 3;
    project.write("main.hcl", &format!("{}{}", &main[..start], &main[end..]));

    let run = project.braid(&["--env", "dev", "plan", "--detailed-exitcode"]);
    run.expect_code(2);
    assert_no_secret("the delete plan", &run.all());
    assert!(
        run.stdout
            .contains("# local_file.config will be destroyed (not in configuration)")
    );
    assert!(
        run.stdout
            .contains("- content              = (sensitive) -> null")
    );
    snapshot("delete_human", &project.normalize(&run.stdout));

    let plan = plan_json(&project, &[]);
    let config = change(&plan, "local_file.config");
    assert_eq!(config["action"], "delete");
    assert_eq!(config["reason"], "not in configuration");
    assert_eq!(config["after"], serde_json::Value::Null);
    assert_eq!(config["before"]["filename"], "out/dev/config.json");
    assert_eq!(config["before"]["content"], "(sensitive)");
    assert_eq!(
        plan["summary"],
        json!({"create": 0, "update": 0, "replace": 0, "delete": 1, "import": 0, "no_op": 2, "drift": 0, "moved": 0, "forget": 0})
    );
}

#[test]
fn drift_changed_file_shows_drift_and_update() {
    let project = applied_quickstart();
    project.write("out/dev/motd.txt", "edited by hand\n");
    let run = project.braid(&["--env", "dev", "plan", "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(
        run.stdout
            .contains("Drift: objects changed outside braid since the last apply")
    );
    assert!(
        run.stdout
            .contains("# local_file.motd was changed outside braid")
    );
    assert!(
        run.stdout
            .contains("# local_file.motd will be updated in place")
    );
    snapshot("drift_changed_human", &project.normalize(&run.stdout));

    let plan = plan_json(&project, &[]);
    assert_eq!(plan["drift"].as_array().map(Vec::len), Some(1));
    let drift = &plan["drift"][0];
    assert_eq!(drift["address"], "local_file.motd");
    assert_eq!(drift["kind"], "changed");
    assert_eq!(drift["after"]["content"], "edited by hand\n");
    let motd = change(&plan, "local_file.motd");
    assert_eq!(motd["action"], "update");
    assert_eq!(motd["before"]["content"], "edited by hand\n");
    assert!(
        motd["after"]["content"]
            .as_str()
            .is_some_and(|c| c.starts_with("HELLO from checkout"))
    );
    assert_eq!(plan["summary"]["drift"], 1);
    assert_eq!(plan["summary"]["update"], 1);
}

#[test]
fn drift_of_sensitive_file_stays_masked() {
    let project = applied_quickstart();
    let edited = project
        .read("out/dev/config.json")
        .replace("checkout", "hacked");
    project.write("out/dev/config.json", &edited);
    let run = project.braid(&["--env", "dev", "plan", "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(
        run.stdout
            .contains("# local_file.config was changed outside braid")
    );
    assert_no_secret("the drift section", &run.all());
    assert!(!run.stdout.contains("hacked"), "{}", run.stdout);
    let plan = plan_json(&project, &[]);
    assert_eq!(plan["drift"][0]["address"], "local_file.config");
    assert_eq!(plan["drift"][0]["after"]["content"], "(sensitive)");
    assert_eq!(plan["drift"][0]["before"]["content"], "(sensitive)");
}

#[test]
fn drift_deleted_file_is_created_again() {
    let project = applied_quickstart();
    std::fs::remove_file(project.join("out/dev/motd.txt")).expect("remove motd");
    let run = project.braid(&["--env", "dev", "plan", "--detailed-exitcode"]);
    run.expect_code(2);
    assert!(
        run.stdout
            .contains("# local_file.motd was deleted outside braid")
    );
    assert!(
        run.stdout
            .contains("# local_file.motd will be created (deleted outside braid)")
    );
    snapshot("drift_deleted_human", &project.normalize(&run.stdout));

    let plan = plan_json(&project, &[]);
    assert_eq!(plan["drift"][0]["kind"], "deleted");
    assert_eq!(plan["drift"][0]["after"], serde_json::Value::Null);
    let motd = change(&plan, "local_file.motd");
    assert_eq!(motd["action"], "create");
    assert_eq!(motd["reason"], "deleted outside braid");
    assert_eq!(motd["before"], serde_json::Value::Null);

    // Applying brings it back.
    project
        .braid(&["--env", "dev", "apply", "--auto-approve"])
        .success();
    assert!(
        project
            .read("out/dev/motd.txt")
            .starts_with("HELLO from checkout")
    );
    project
        .braid(&["--env", "dev", "plan", "--detailed-exitcode"])
        .expect_code(0);
}

#[test]
fn refresh_false_compares_against_state_only() {
    let project = applied_quickstart();
    project.write("out/dev/motd.txt", "edited by hand\n");
    let run = project.braid(&[
        "--env",
        "dev",
        "plan",
        "--refresh=false",
        "--detailed-exitcode",
    ]);
    run.expect_code(0);
    assert!(run.stdout.contains(
        "Note: live objects were not read (--refresh=false); the plan compares against state only."
    ));
    assert!(run.stdout.contains("No changes."));
    assert!(!run.stdout.contains("Drift"));
    snapshot("refresh_false_human", &project.normalize(&run.stdout));

    let plan = plan_json(&project, &["--refresh=false"]);
    assert_eq!(plan["refreshed"], false);
    assert_eq!(plan["drift"], json!([]));
    assert_eq!(plan["summary"]["no_op"], 3);

    // With refresh (the default) the edit is found.
    project
        .braid(&["--env", "dev", "plan", "--detailed-exitcode"])
        .expect_code(2);
}

#[test]
fn refresh_false_still_plans_configuration_changes() {
    let project = applied_quickstart();
    let plan = plan_json(&project, &["--refresh=false", "--var", "replicas=4"]);
    assert_eq!(
        addresses_with_action(&plan, "update"),
        ["local_file.config", "local_value.release"]
    );
}

#[test]
fn other_environment_plans_its_own_values() {
    let project = quickstart();
    let plan = {
        let run = project.braid(&["--env", "staging", "plan", "--format", "json"]);
        run.success();
        run.json()
    };
    assert_eq!(plan["env"], "staging");
    assert_eq!(
        change(&plan, "local_file.motd")["after"]["filename"],
        "out/staging/motd.txt"
    );
    assert_eq!(
        change(&plan, "local_value.release")["after"]["input"]["replicas"],
        3
    );
}

#[test]
fn quiet_plan_prints_only_the_summary() {
    let project = quickstart();
    let run = project.braid(&["--env", "dev", "-q", "plan"]);
    run.success();
    assert_eq!(
        run.stdout,
        "Plan: 3 to add, 0 to change, 0 to replace, 0 to destroy.\n"
    );
}

#[test]
fn markdown_plan_has_summary_table_and_details() {
    let project = quickstart();
    let run = project.braid(&["--env", "dev", "plan", "--format", "markdown"]);
    run.success();
    assert_no_secret("the markdown plan", &run.all());
    assert!(
        run.stdout
            .starts_with("<!-- braid-plan -->\n### braid plan · `dev`\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("| dev | infra | 3 | 0 | 0 | 0 | 0 | 0 |")
    );
    assert!(
        run.stdout
            .contains("<details><summary><code>local_file.motd</code> will be created</summary>")
    );
    assert!(
        run.stdout
            .contains("**Plan: 3 to add, 0 to change, 0 to replace, 0 to destroy.**")
    );
    snapshot("markdown_plan", &project.normalize(&run.stdout));
}

#[test]
fn several_environments_plan_together_in_one_comment() {
    let project = quickstart();
    let run = project.braid(&[
        "--env", "dev", "--env", "staging", "plan", "--format", "markdown",
    ]);
    run.success();
    assert!(
        run.stdout
            .starts_with("<!-- braid-plan -->\n### braid plan · `dev`, `staging`\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("| dev | infra | 3 | 0 | 0 | 0 | 0 | 0 |")
    );
    assert!(
        run.stdout
            .contains("| staging | infra | 3 | 0 | 0 | 0 | 0 | 0 |")
    );
    assert!(run.stdout.contains("#### `staging`"));
    assert!(run.stdout.contains("**staging: Plan: 3 to add"));
    let json = project.braid(&[
        "--env", "dev", "--env", "staging", "--format", "json", "plan",
    ]);
    json.success();
    let plans = json.json();
    assert_eq!(plans["plans"][0]["env"], "dev");
    assert_eq!(plans["plans"][1]["env"], "staging");
    let exit = project.braid(&[
        "--env",
        "dev",
        "--env",
        "staging",
        "plan",
        "--detailed-exitcode",
    ]);
    exit.expect_code(2);
    let out = project.braid(&[
        "--env", "dev", "--env", "staging", "plan", "--out", "p.json",
    ]);
    out.failure();
    let apply = project.braid(&[
        "--env",
        "dev",
        "--env",
        "staging",
        "apply",
        "--auto-approve",
    ]);
    apply.failure();
    assert!(
        apply.stderr.contains("Several environments given"),
        "{}",
        apply.stderr
    );
}

#[test]
fn refresh_only_plan_and_apply_accept_drift_into_state() {
    let project = applied_quickstart();
    project.write("out/dev/motd.txt", "edited by hand\n");
    let run = project.braid(&[
        "--env",
        "dev",
        "plan",
        "--refresh-only",
        "--detailed-exitcode",
    ]);
    run.expect_code(2);
    assert!(
        run.stdout
            .contains("# local_file.motd was changed outside braid")
    );
    assert!(
        run.stdout
            .contains("Drift: 1 resource(s) differ from state.")
    );
    assert!(!run.stdout.contains("will be updated"), "{}", run.stdout);

    project
        .braid(&["--env", "dev", "plan", "--refresh-only", "--out", "r.json"])
        .success();
    project
        .braid(&["--env", "dev", "apply", "r.json"])
        .success();
    // State took the live value; the file was not touched.
    assert_eq!(project.read("out/dev/motd.txt"), "edited by hand\n");
    let run = project.braid(&[
        "--env",
        "dev",
        "state",
        "show",
        "local_file.motd",
        "--format",
        "json",
    ]);
    run.success();
    assert_eq!(run.json()["content"], "edited by hand\n");
    project
        .braid(&[
            "--env",
            "dev",
            "plan",
            "--refresh-only",
            "--detailed-exitcode",
        ])
        .expect_code(0);
    // A normal plan still wants the configured content back, without a drift section.
    let plan = plan_json(&project, &[]);
    assert_eq!(plan["drift"], json!([]));
    assert_eq!(addresses_with_action(&plan, "update"), ["local_file.motd"]);
}

#[test]
fn nested_map_update_closes_under_its_key() {
    let project = applied_quickstart();
    let run = project.braid(&["--env", "dev", "plan", "--var", "replicas=5"]);
    run.success();
    // As the create render of the same attribute does (see first_plan_human):
    //       + input  = {
    //             ...
    //         }
    assert!(
        run.stdout.contains(
            "      ~ input = {\n          ~ replicas = 2 -> 5\n            # (2 unchanged attributes hidden)\n        }\n"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn saved_plan_into_a_missing_directory_is_an_error() {
    let project = quickstart();
    let run = project.braid(&["--env", "dev", "plan", "--out", "nodir/p.json"]);
    run.failure();
    assert!(
        run.stderr.contains("error: Cannot write plan file"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nodir/p.json"), "{}", run.stderr);
}

#[test]
fn an_output_name_longer_than_any_format_width_renders() {
    // 70,000 characters: beyond the u16 widths `format!` accepts (it used to panic).
    let long = "o".repeat(70_000);
    let project = Project::with_main(&format!(
        "output \"{long}\" {{\n  value = 1\n}}\noutput \"b\" {{\n  value = 2\n}}\n\
         output \"m\" {{\n  value = {{ \"{long}\" = 1, k = 2 }}\n}}\n"
    ));
    let run = project.braid(&["plan"]);
    run.success();
    assert!(run.stdout.contains(&format!("  {long} = 1\n")));
    assert!(
        run.stdout
            .contains(&format!("  b{} = 2\n", " ".repeat(long.len() - 1)))
    );
    assert!(
        run.stdout
            .contains(&format!("k{} = 2\n", " ".repeat(long.len() - 1)))
    );
}

/// A value a provider derives from a sensitive input (here `local_value.output`, a copy of
/// `input`) is sensitive too, everywhere it shows, and state records the derived path.
#[test]
fn value_derived_from_a_sensitive_input_stays_masked() {
    const DERIVED: &str = "derived-SECRET-77e1";
    let project = Project::with_main(
        "variable \"token\" {\n  type      = string\n  sensitive = true\n}\n\n\
         resource \"local_value\" \"a\" {\n  input = { token = var.token, name = \"plain\" }\n}\n\n\
         resource \"local_value\" \"b\" {\n  input = local_value.a.output\n}\n\n\
         output \"copy\" {\n  value     = local_value.a.output\n  sensitive = true\n}\n",
    );
    let env = [("BRAID_VAR_token", DERIVED)];
    let check = |what: &str, text: &str| {
        assert!(
            !text.contains(DERIVED),
            "the derived sensitive value leaked into {what}:\n{text}"
        );
    };
    for format in ["human", "json", "markdown"] {
        let run = project.braid_env(&["plan", "--format", format], &env);
        run.success();
        check(&format!("plan --format {format}"), &run.all());
    }
    let run = project.braid_env(&["plan", "--out", "p.json"], &env);
    run.success();
    check("the saved plan", &project.read("p.json"));
    let run = project.braid_env(&["-vv", "apply", "--auto-approve"], &env);
    run.success();
    check("apply -vv", &run.all());
    for args in [
        &["show"][..],
        &["show", "--format", "json"],
        &["state", "show", "local_value.a"],
        &["state", "show", "local_value.b", "--format", "json"],
        &["plan", "--format", "json"],
        &["drift", "--format", "json"],
    ] {
        let run = project.braid_env(args, &env);
        check(&args.join(" "), &run.all());
    }
    // State records the derived path: the copy is masked, not just left out.
    let run = project.braid_env(
        &["state", "show", "local_value.b", "--format", "json"],
        &env,
    );
    run.success();
    let shown = run.json();
    assert_eq!(shown["output"], "(sensitive)", "{shown}");
}
