//! Bad input: one test per case. Each must end with exit code 1, no panic, and a diagnostic
//! that names `file:line:col`, quotes the offending line with a `^` caret under it, and says
//! how to fix it.

use crate::common::{self, BRAID_HCL, Project, Run};

/// Checks a rendered diagnostic: `error: SUMMARY`, `--> LOCATION`, the quoted source line,
/// and a caret line right under it.
#[track_caller]
fn assert_diagnostic(run: &Run, summary: &str, location: &str, source_line: &str) {
    run.failure();
    let err = &run.stderr;
    assert!(
        err.contains(&format!("error: {summary}\n")),
        "summary {summary:?} missing:\n{err}"
    );
    assert!(
        err.contains(&format!("--> {location}")),
        "location {location:?} missing:\n{err}"
    );
    let lines: Vec<&str> = err.lines().collect();
    let quoted = lines
        .iter()
        .position(|l| {
            l.split_once(" | ")
                .is_some_and(|(no, text)| no.trim().parse::<usize>().is_ok() && text == source_line)
        })
        .unwrap_or_else(|| panic!("source line {source_line:?} not quoted:\n{err}"));
    let caret = lines.get(quoted + 1).copied().unwrap_or_default();
    let (gutter, marks) = caret
        .split_once('|')
        .unwrap_or_else(|| panic!("no caret line under the source line:\n{err}"));
    assert!(gutter.trim().is_empty(), "bad caret line {caret:?}:\n{err}");
    assert!(
        marks.trim().chars().all(|c| c == '^') && marks.contains('^'),
        "bad caret line {caret:?}:\n{err}"
    );
    // The caret starts under the column the location names.
    let column: usize = location
        .rsplit(':')
        .next()
        .and_then(|c| c.split_whitespace().next())
        .and_then(|c| c.parse().ok())
        .expect("location ends with a column");
    let caret_column = marks.find('^').expect("caret"); // marks begins with the space after '|'
    assert_eq!(
        caret_column, column,
        "caret not under column {column}:\n{err}"
    );
}

#[track_caller]
fn assert_detail(run: &Run, text: &str) {
    assert!(
        run.stderr.contains(text),
        "expected {text:?} in:\n{}",
        run.stderr
    );
}

#[track_caller]
fn snapshot(name: &str, project: &Project, run: &Run) {
    let text = project.normalize(&run.stderr);
    common::insta_settings().bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn malformed_hcl() {
    let project = Project::with_main(
        "resource \"local_file\" \"a\" {\n  filename = \"a.txt\"\n  content  = \"x\" +\n}\n",
    );
    let run = project.braid(&["plan"]);
    assert_diagnostic(
        &run,
        "Invalid HCL syntax",
        "main.hcl:3:19",
        "  content  = \"x\" +",
    );
    assert_detail(
        &run,
        "Check the brackets, quotes and `=` signs around this point.",
    );
    snapshot("malformed_hcl", &project, &run);
}

#[test]
fn malformed_project_file() {
    let project = Project::with_files(&[
        ("braid.hcl", "source \"infra\" { path = \".\" \n"),
        ("main.hcl", ""),
    ]);
    let run = project.braid(&["plan"]);
    run.failure();
    assert_detail(&run, "error: Invalid HCL syntax");
    assert_detail(&run, "--> braid.hcl:");
}

#[test]
fn unknown_block_type_suggests_resource() {
    let project = Project::with_main("resorce \"local_file\" \"a\" {\n  filename = \"a.txt\"\n}\n");
    let run = project.braid(&["plan"]);
    assert_diagnostic(
        &run,
        "Unsupported block type",
        "main.hcl:1:1",
        "resorce \"local_file\" \"a\" {",
    );
    assert_detail(&run, "Did you mean \"resource\"?");
    snapshot("unknown_block_type", &project, &run);
}

#[test]
fn unknown_attribute_suggests_content() {
    let project = Project::with_main(
        "resource \"local_file\" \"a\" {\n  filename = \"a.txt\"\n  contnet  = \"x\"\n}\n",
    );
    let run = project.braid(&["plan"]);
    assert_diagnostic(
        &run,
        "Unsupported argument",
        "main.hcl:3:3 (local_file.a)",
        "  contnet  = \"x\"",
    );
    assert_detail(
        &run,
        "local_file has no argument \"contnet\". Did you mean \"content\"?",
    );
    snapshot("unknown_attribute", &project, &run);
}

#[test]
fn wrong_attribute_type() {
    let project = Project::with_main(
        "resource \"local_file\" \"a\" {\n  filename        = \"a.txt\"\n  content         = \"x\"\n  file_permission = [1]\n}\n",
    );
    let run = project.braid(&["plan"]);
    assert_diagnostic(
        &run,
        "Incorrect attribute value type",
        "main.hcl:4:21 (local_file.a)",
        "  file_permission = [1]",
    );
    assert_detail(&run, "\"file_permission\" must be a string");
}

const NUMBER_VARIABLE: &str = "variable \"x\" {\n  type = number\n}\n\nresource \"local_value\" \"a\" {\n  input = var.x\n}\n";

#[test]
fn wrong_variable_type_from_environment_block() {
    let project = Project::with_files(&[
        (
            "braid.hcl",
            "source \"infra\" { path = \".\" }\n\nenvironment \"dev\" {\n  variables = { x = \"many\" }\n}\n",
        ),
        ("main.hcl", NUMBER_VARIABLE),
    ]);
    let run = project.braid(&["plan"]);
    assert_diagnostic(
        &run,
        "Invalid value for variable",
        "main.hcl:1:1",
        "variable \"x\" {",
    );
    assert_detail(&run, "a number is required, and \"many\" is not one");
}

#[test]
fn wrong_variable_type_from_command_line_list() {
    let project = Project::with_main(NUMBER_VARIABLE);
    let run = project.braid(&["plan", "--var", "x=[1]"]);
    assert_diagnostic(
        &run,
        "Invalid value for variable",
        "main.hcl:1:1",
        "variable \"x\" {",
    );
    assert_detail(
        &run,
        "from --var does not fit its type: a number is required",
    );
}

#[test]
fn wrong_variable_type_from_command_line_word() {
    let project = Project::with_main(NUMBER_VARIABLE);
    let run = project.braid(&["plan", "--var", "x=abc"]);
    assert_diagnostic(
        &run,
        "Invalid value for variable",
        "main.hcl:1:1",
        "variable \"x\" {",
    );
    // Terraform: `a number is required`; the environment block says the same.
    assert_detail(&run, "a number is required");
    assert!(
        !run.stderr.contains("References look like"),
        "a plain word on the command line is a value, not a reference:\n{}",
        run.stderr
    );
}

#[test]
fn wrong_variable_type_from_environment_variable() {
    let project = Project::with_main(NUMBER_VARIABLE);
    let run = project.braid_env(&["plan"], &[("BRAID_VAR_x", "[1]")]);
    assert_diagnostic(
        &run,
        "Invalid value for variable",
        "main.hcl:1:1",
        "variable \"x\" {",
    );
    assert_detail(&run, "a number is required");
}

#[test]
fn duplicate_address_names_both_files() {
    let project = Project::with_files(&[
        ("braid.hcl", BRAID_HCL),
        (
            "a.hcl",
            "resource \"local_value\" \"a\" {\n  input = 1\n}\n",
        ),
        (
            "b.hcl",
            "\nresource \"local_value\" \"a\" {\n  input = 2\n}\n",
        ),
    ]);
    let run = project.braid(&["plan"]);
    assert_diagnostic(
        &run,
        "Duplicate resource",
        "b.hcl:2:1",
        "resource \"local_value\" \"a\" {",
    );
    assert_detail(&run, "local_value.a is already declared at a.hcl:1:1.");
    snapshot("duplicate_address", &project, &run);
}

#[test]
fn missing_required_variable_says_how_to_set_it() {
    let project = Project::with_main(
        "variable \"region\" {\n  type = string\n}\n\nresource \"local_value\" \"a\" {\n  input = var.region\n}\n",
    );
    let run = project.braid(&["plan"]);
    assert_diagnostic(
        &run,
        "No value for required variable",
        "main.hcl:1:1",
        "variable \"region\" {",
    );
    assert_detail(&run, "--var region=VALUE");
    assert_detail(&run, "BRAID_VAR_region");
    assert_detail(&run, "environment block of braid.hcl");
    snapshot("missing_variable", &project, &run);

    // Either way of setting it works.
    project.braid(&["plan", "--var", "region=eu"]).success();
    project
        .braid_env(&["plan"], &[("BRAID_VAR_region", "eu")])
        .success();
}

#[test]
fn value_for_undeclared_variable() {
    let project = Project::with_main(NUMBER_VARIABLE);
    let run = project.braid(&["plan", "--var", "y=1"]);
    run.failure();
    assert_detail(&run, "error: Value for undeclared variable");
    assert_detail(&run, "Did you mean \"x\"?");
}

#[test]
fn unknown_function_suggests_jsonencode() {
    let project =
        Project::with_main("resource \"local_value\" \"a\" {\n  input = jsonencod({ a = 1 })\n}\n");
    let run = project.braid(&["plan"]);
    assert_diagnostic(
        &run,
        "Call to unknown function",
        "main.hcl:2:11 (local_value.a)",
        "  input = jsonencod({ a = 1 })",
    );
    assert_detail(&run, "Did you mean \"jsonencode\"?");
    snapshot("unknown_function", &project, &run);
}

#[test]
fn dependency_cycle_lists_every_edge() {
    let project = Project::with_main(
        "resource \"local_value\" \"a\" {\n  input = local_value.c.id\n}\n\nresource \"local_value\" \"b\" {\n  input = local_value.a.id\n}\n\nresource \"local_value\" \"c\" {\n  input = local_value.b.id\n}\n",
    );
    let run = project.braid(&["plan"]);
    assert_diagnostic(
        &run,
        "Dependency cycle",
        "main.hcl:6:11",
        "  input = local_value.a.id",
    );
    assert_eq!(
        run.stderr.matches("error:").count(),
        1,
        "one diagnostic for the whole cycle:\n{}",
        run.stderr
    );
    assert_detail(
        &run,
        "local_value.b needs local_value.a (referenced at main.hcl:6:11)",
    );
    assert_detail(
        &run,
        "local_value.c needs local_value.b (referenced at main.hcl:10:11)",
    );
    assert_detail(
        &run,
        "local_value.a needs local_value.c (referenced at main.hcl:2:11)",
    );
    snapshot("dependency_cycle", &project, &run);
}

#[test]
fn dependency_cycle_through_depends_on() {
    let project = Project::with_main(
        "resource \"local_value\" \"a\" {\n  input      = 1\n  depends_on = [local_value.b]\n}\n\nresource \"local_value\" \"b\" {\n  input = local_value.a.id\n}\n",
    );
    let run = project.braid(&["validate"]);
    run.failure();
    assert_detail(&run, "error: Dependency cycle");
    assert_detail(
        &run,
        "local_value.a needs local_value.b (referenced at main.hcl:3:17)",
    );
    assert_detail(
        &run,
        "local_value.b needs local_value.a (referenced at main.hcl:7:11)",
    );
}

#[test]
fn undeclared_reference_suggests_the_declared_one() {
    let project = Project::with_main(
        "resource \"local_file\" \"name\" {\n  filename = \"a.txt\"\n  content  = \"x\"\n}\n\nresource \"local_file\" \"other\" {\n  filename = \"b.txt\"\n  content  = local_file.nme.id\n}\n",
    );
    let run = project.braid(&["plan"]);
    assert_diagnostic(
        &run,
        "Reference to undeclared resource",
        "main.hcl:8:14",
        "  content  = local_file.nme.id",
    );
    assert_detail(
        &run,
        "local_file.nme is not declared. Did you mean local_file.name?",
    );
    snapshot("undeclared_reference", &project, &run);
}

#[test]
fn undeclared_variable_reference() {
    let project = Project::with_main(NUMBER_VARIABLE.replace("var.x", "var.y").as_str());
    let run = project.braid(&["plan", "--var", "x=1"]);
    assert_diagnostic(
        &run,
        "Reference to undeclared input variable",
        "main.hcl:6:11",
        "  input = var.y",
    );
}

#[test]
fn unreadable_file_is_named() {
    let project = Project::with_main("resource \"local_value\" \"a\" {\n  input = 1\n}\n");
    let path = project.join("main.hcl");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).expect("chmod 000");
    }
    let run = if std::fs::read(&path).is_ok() {
        // Running as root: mode 000 does not stop root from reading, so braid runs as the
        // unprivileged user `nobody` (setpriv, util-linux), from a copy of the binary it can
        // reach, in a project directory it can enter.
        run_as_nobody(&project, &["plan"])
    } else {
        project.braid(&["plan"])
    };
    run.failure();
    assert_detail(&run, "error: Cannot read configuration file");
    assert_detail(&run, &path.display().to_string());
    assert_detail(&run, "Permission denied");
}

/// Runs braid as `nobody` (uid 65534) in `project`, for tests of permissions that root
/// ignores.
fn run_as_nobody(project: &Project, args: &[&str]) -> common::Run {
    use std::os::unix::fs::PermissionsExt;
    let binary = project.join("braid-bin");
    std::fs::copy(env!("CARGO_BIN_EXE_braid"), &binary).expect("copy the braid binary");
    for (path, mode) in [
        (project.path().to_path_buf(), 0o755),
        (project.join("braid.hcl"), 0o644),
        (binary.clone(), 0o755),
    ] {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    let output = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&binary)
        .args(args)
        .current_dir(project.path())
        .env("NO_COLOR", "1")
        .env("BRAID_ACTOR", "test-actor")
        .output()
        .expect("run braid through setpriv (util-linux)");
    common::Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

const NON_UTF8_MAIN: &[u8] = b"resource \"local_value\" \"a\" {\n  input = \"caf\xe9\"\n}\n";

#[test]
fn non_utf8_file_is_named() {
    let project = Project::with_files(&[("braid.hcl", BRAID_HCL)]);
    std::fs::write(project.join("main.hcl"), NON_UTF8_MAIN).expect("write");
    let run = project.braid(&["plan"]);
    run.failure();
    assert_detail(&run, "error: Invalid UTF-8");
    assert_detail(&run, "main.hcl");
    assert_detail(&run, "UTF-8");
}

#[test]
fn non_utf8_file_points_at_the_bad_byte() {
    let project = Project::with_files(&[("braid.hcl", BRAID_HCL)]);
    std::fs::write(project.join("main.hcl"), NON_UTF8_MAIN).expect("write");
    let run = project.braid(&["plan"]);
    run.failure();
    assert_detail(&run, "--> main.hcl:2:15");
}

#[test]
fn missing_file_for_file_function() {
    let project = Project::with_main(
        "resource \"local_file\" \"a\" {\n  filename = \"a.txt\"\n  content  = file(\"missing.txt\")\n}\n",
    );
    let run = project.braid(&["plan"]);
    assert_diagnostic(
        &run,
        "Invalid function argument",
        "main.hcl:3:14 (local_file.a)",
        "  content  = file(\"missing.txt\")",
    );
    assert_detail(
        &run,
        &format!(
            "file(): no file exists at \"{}\"",
            project.join("missing.txt").display()
        ),
    );
    snapshot("missing_file", &project, &run);
}

#[test]
fn errors_are_found_by_validate_too() {
    let project = Project::with_main(
        "resource \"local_file\" \"a\" {\n  filename = \"a.txt\"\n  content  = file(\"missing.txt\")\n}\n",
    );
    let run = project.braid(&["validate"]);
    assert_diagnostic(
        &run,
        "Invalid function argument",
        "main.hcl:3:14 (local_file.a)",
        "  content  = file(\"missing.txt\")",
    );
    assert!(!run.stdout.contains("Success"), "{}", run.stdout);
}

/// Parses every stderr line as one JSON diagnostic.
#[track_caller]
fn json_diagnostics(run: &Run) -> Vec<serde_json::Value> {
    run.failure();
    assert!(!run.stderr.is_empty(), "no diagnostics on stderr");
    run.stderr
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("stderr line is not JSON ({e}): {line}"))
        })
        .collect()
}

#[test]
fn json_format_errors_are_json_lines_on_stderr() {
    let project = Project::with_main(
        "resource \"local_file\" \"name\" {\n  filename = \"a.txt\"\n  content  = \"x\"\n}\n\nresource \"local_file\" \"other\" {\n  filename = \"b.txt\"\n  content  = local_file.nme.id\n}\n",
    );
    for command in [&["plan"][..], &["apply", "--auto-approve"], &["validate"]] {
        let mut args = vec!["--format", "json"];
        args.extend_from_slice(command);
        let run = project.braid(&args);
        assert_eq!(run.stdout, "", "{command:?} printed to stdout");
        let diags = json_diagnostics(&run);
        assert_eq!(diags.len(), 1, "{command:?}: {diags:?}");
        let d = &diags[0];
        assert_eq!(d["severity"], "error");
        assert_eq!(d["summary"], "Reference to undeclared resource");
        assert_eq!(
            d["detail"],
            "local_file.nme is not declared. Did you mean local_file.name?"
        );
        assert_eq!(d["range"]["filename"], "main.hcl");
        assert_eq!(d["range"]["start"]["line"], 8);
        assert_eq!(d["range"]["start"]["column"], 14);
        let start = d["range"]["start"]["byte"].as_u64().expect("start byte") as usize;
        let end = d["range"]["end"]["byte"].as_u64().expect("end byte") as usize;
        assert_eq!(&project.read("main.hcl")[start..end], "local_file.nme.id");
    }
}

#[test]
fn json_format_cycle_and_syntax_errors() {
    let project = Project::with_main(
        "resource \"local_value\" \"a\" {\n  input = local_value.b.id\n}\n\nresource \"local_value\" \"b\" {\n  input = local_value.a.id\n}\n",
    );
    let diags = json_diagnostics(&project.braid(&["--format", "json", "plan"]));
    assert_eq!(diags[0]["summary"], "Dependency cycle");
    let detail = diags[0]["detail"].as_str().expect("detail");
    assert!(detail.contains("local_value.a needs local_value.b (referenced at main.hcl:2:11)"));
    assert!(detail.contains("local_value.b needs local_value.a (referenced at main.hcl:6:11)"));

    project.write("main.hcl", "resource \"local_value\" \"a\" {\n");
    let diags = json_diagnostics(&project.braid(&["--format", "json", "plan"]));
    assert_eq!(diags[0]["summary"], "Invalid HCL syntax");
    assert_eq!(diags[0]["range"]["filename"], "main.hcl");
}

#[test]
fn json_format_error_without_location() {
    let project = Project::fixture("quickstart");
    let diags = json_diagnostics(&project.braid(&["--format", "json", "--env", "prod", "plan"]));
    assert_eq!(diags[0]["summary"], "Unknown environment");
    assert_eq!(diags[0]["range"], serde_json::Value::Null);
}

#[test]
fn invalid_var_syntax() {
    let project = Project::with_main(NUMBER_VARIABLE);
    let run = project.braid(&["plan", "--var", "x"]);
    run.failure();
    assert_detail(&run, "error: Invalid --var");
    assert_detail(&run, "--var takes NAME=VALUE, but got \"x\".");
}

#[test]
fn sensitive_variable_value_never_in_type_error() {
    let project = Project::with_files(&[
        (
            "braid.hcl",
            "source \"infra\" { path = \".\" }\n\nenvironment \"dev\" {\n  variables = { pin = \"env-block-SECRET\" }\n}\n",
        ),
        (
            "main.hcl",
            "variable \"pin\" {\n  type      = number\n  sensitive = true\n}\n\nresource \"local_value\" \"a\" {\n  input = var.pin\n}\n",
        ),
    ]);
    let run = project.braid(&["plan"]);
    assert_diagnostic(
        &run,
        "Invalid value for variable",
        "main.hcl:1:1",
        "variable \"pin\" {",
    );
    assert_detail(&run, "a number is required");
    assert!(!run.all().contains("env-block-SECRET"), "{}", run.stderr);

    let run = project.braid(&["plan", "--var", "pin=\"cli-SECRET\""]);
    run.failure();
    assert!(!run.all().contains("cli-SECRET"), "{}", run.stderr);
}

#[test]
fn usage_errors_exit_1_because_2_means_changes_pending() {
    let project = Project::with_main("");
    for args in [
        &["plan", "--no-such-flag"][..],
        &["plan", "--parallelism"][..],
        &["apply", "--parallelism", "many"][..],
        &["no-such-command"][..],
    ] {
        let run = project.braid(args);
        run.failure();
        assert!(
            run.stderr.contains("error:"),
            "{args:?}: no error message:\n{}",
            run.stderr
        );
    }
}

#[test]
fn help_and_version_still_exit_0_on_stdout() {
    let project = Project::with_main("");
    for args in [&["--help"][..], &["plan", "--help"][..], &["--version"][..]] {
        let run = project.braid(args);
        run.success();
        assert!(!run.stdout.is_empty(), "{args:?} printed nothing");
    }
}

#[test]
fn corrupt_state_database_is_not_blamed_on_the_directory() {
    let project = Project::with_files(&[("braid.hcl", BRAID_HCL), ("main.hcl", "")]);
    project.write(
        ".braid/state/dev.db",
        &"this is not a SQLite database, only text.\n".repeat(20),
    );
    let run = project.braid(&["--env", "dev", "plan"]);
    run.failure();
    assert_detail(&run, "error: Cannot open state");
    assert_detail(&run, "not a SQLite database");
    assert!(
        !run.stderr.contains("writable"),
        "a corrupt file is not a permission problem:\n{}",
        run.stderr
    );
}

#[test]
fn environment_name_that_would_leave_the_state_directory() {
    let project = Project::with_files(&[
        (
            "braid.hcl",
            "source \"infra\" { path = \".\" }\n\nenvironment \"../../x\" {}\n",
        ),
        ("main.hcl", ""),
    ]);
    let run = project.braid(&["plan"]);
    assert_diagnostic(
        &run,
        "Invalid environment name",
        "braid.hcl:3:13",
        "environment \"../../x\" {}",
    );
    assert_detail(&run, "letters, digits");
    assert!(!project.join("x.db").exists() && !project.path().join("../x.db").exists());
}

#[test]
fn source_name_must_be_a_plain_name() {
    let project = Project::with_files(&[
        ("braid.hcl", "source \"a/b\" { path = \".\" }\n"),
        ("main.hcl", ""),
    ]);
    let run = project.braid(&["plan"]);
    assert_diagnostic(
        &run,
        "Invalid source name",
        "braid.hcl:1:8",
        "source \"a/b\" { path = \".\" }",
    );
}

#[test]
fn env_flag_must_be_a_plain_name() {
    let project = Project::with_main("");
    for env in ["../x", "a/b", ".hidden", ""] {
        let run = project.braid(&["--env", env, "plan"]);
        run.failure();
        assert_detail(&run, "error: Invalid environment name");
    }
    assert!(!project.exists(".braid/x.db"));
}

/// An error in an expression that reads a sensitive value never quotes it (or a part of
/// it): not in the human diagnostic, not in the JSON one.
#[test]
fn errors_never_quote_sensitive_values() {
    for expression in [
        "tonumber(var.token)",
        "var.token + 1",
        "base64decode(var.token)",
        "tobool(var.token)",
        "parseint(var.token, 10)",
        "tonumber(substr(var.token, 0, 9))",
        "element(var.token, 0)",
        "element([var.token], \"x\")",
        "format(\"%d\", var.token)",
        "jsondecode(var.token)",
    ] {
        let project = Project::with_main(&format!(
            "variable \"token\" {{\n  type      = string\n  sensitive = true\n}}\n\nresource \"local_value\" \"a\" {{\n  input = {expression}\n}}\n"
        ));
        let env = [("BRAID_VAR_token", "s3cr3tVALUE-xyz")];
        for format in ["human", "json"] {
            let run = project.braid_env(&["--format", format, "plan"], &env);
            run.failure();
            assert!(
                !run.all().contains("s3cr3t"),
                "{expression} ({format}) leaked the secret:\n{}",
                run.all()
            );
            assert!(
                run.stderr.contains("sensitive"),
                "{expression}: {}",
                run.stderr
            );
        }
    }
}

/// A provider's error about a sensitive attribute, or one that quotes a sensitive value (a
/// filename built from a secret that cannot be written), never shows the value.
#[test]
fn provider_errors_never_quote_sensitive_values() {
    let secret = "s3cr3tVALUE-xyz";
    let env = [("BRAID_VAR_token", secret)];
    let declare = "variable \"token\" {\n  type      = string\n  sensitive = true\n}\n\n";
    // Plan time: the permission check of local_file.
    let project = Project::with_main(&format!(
        "{declare}resource \"local_file\" \"a\" {{\n  filename        = \"out/a.txt\"\n  content         = \"x\"\n  file_permission = var.token\n}}\n"
    ));
    for format in ["human", "json"] {
        let run = project.braid_env(&["--format", format, "plan"], &env);
        run.failure();
        assert!(!run.all().contains("s3cr3t"), "{format}: {}", run.all());
        assert!(run.all().contains("permission"), "{format}: {}", run.all());
    }
    // Apply time: a file system error naming a path that holds the secret.
    let project = Project::with_main(&format!(
        "{declare}resource \"local_file\" \"a\" {{\n  filename = \"blocked/${{var.token}}/a.txt\"\n  content  = \"x\"\n}}\n"
    ));
    project.write("blocked", "a file where a directory is needed");
    let run = project.braid_env(&["apply", "--auto-approve"], &env);
    run.failure();
    assert!(!run.all().contains("s3cr3t"), "{}", run.all());
    assert!(run.all().contains("Cannot"), "{}", run.all());
}
