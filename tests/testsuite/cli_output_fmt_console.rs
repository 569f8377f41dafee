//! `braid output`, `braid fmt` and `braid console`: the real binary against real SQLite
//! state, and `braid fmt` against the conformance fixtures `terraform fmt` produced.

use crate::common::Project;

/// The fixtures of tests/conformance/fmt: `input/` as written, `expected/` as `terraform
/// fmt` left them (scripts/conformance-fmt.sh).
fn conformance_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/fmt")
}

#[test]
fn fmt_matches_terraform_fmt_on_every_fixture() {
    let inputs = conformance_dir().join("input");
    let mut names: Vec<String> = std::fs::read_dir(&inputs)
        .expect("fixtures")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    let project = Project::with_files(&[]);
    for name in &names {
        let input = std::fs::read_to_string(inputs.join(name)).expect("input");
        project.write(name, &input);
    }
    let run = project.braid(&["fmt"]);
    run.success();
    let mut mismatches = Vec::new();
    for name in &names {
        let expected = std::fs::read_to_string(conformance_dir().join("expected").join(name))
            .expect("expected output; run scripts/conformance-fmt.sh");
        let got = project.read(name);
        if got != expected {
            mismatches.push(format!(
                "{name}:\n{}",
                similar::TextDiff::from_lines(&expected, &got)
                    .unified_diff()
                    .header("terraform fmt", "braid fmt")
            ));
        }
        let unchanged = std::fs::read_to_string(inputs.join(name)).expect("input") == expected;
        assert_eq!(
            run.stdout.lines().any(|l| l == name),
            !unchanged,
            "{name} is listed exactly when it changed:\n{}",
            run.stdout
        );
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    // Formatting formatted files changes nothing.
    let again = project.braid(&["fmt", "--check"]);
    again.success();
    assert_eq!(again.stdout, "");
}

#[test]
fn fmt_check_lists_unformatted_files_exits_3_and_writes_nothing() {
    let project = Project::with_files(&[
        ("main.tf", "a=1\n"),
        ("ok.tf", "b = 2\n"),
        ("sub/deep.hcl", "c=3\n"),
        ("notes.txt", "d=4\n"),
    ]);
    let run = project.braid(&["fmt", "--check"]);
    run.expect_code(3);
    assert_eq!(run.stdout, "main.tf\n");
    assert_eq!(project.read("main.tf"), "a=1\n");
    let diff = project.braid(&["fmt", "--check", "--diff", "--recursive"]);
    diff.expect_code(3);
    assert!(diff.stdout.contains("-a=1\n+a = 1\n"), "{}", diff.stdout);
    assert!(diff.stdout.contains("sub/deep.hcl\n"), "{}", diff.stdout);
    assert_eq!(project.read("sub/deep.hcl"), "c=3\n");
    let json = project.braid(&["fmt", "--recursive", "--format", "json"]);
    json.success();
    assert_eq!(
        json.json(),
        serde_json::json!({
            "check": false,
            "checked": ["main.tf", "ok.tf", "sub/deep.hcl"],
            "changed": ["main.tf", "sub/deep.hcl"],
        })
    );
    assert_eq!(project.read("sub/deep.hcl"), "c = 3\n");
    assert_eq!(project.read("notes.txt"), "d=4\n");
}

#[test]
fn fmt_reports_a_syntax_error_at_its_place_and_leaves_the_file() {
    let broken = "variable \"x\" {\n  default = \n}\n";
    let project = Project::with_files(&[("bad.tf", broken), ("good.tf", "a=1\n")]);
    let run = project.braid(&["fmt"]);
    run.failure();
    assert!(run.stderr.contains("Invalid HCL syntax"), "{}", run.stderr);
    assert!(run.stderr.contains("bad.tf:2:13"), "{}", run.stderr);
    assert_eq!(project.read("bad.tf"), broken);
    assert_eq!(
        project.read("good.tf"),
        "a = 1\n",
        "other files are formatted"
    );
    let missing = project.braid(&["fmt", "nope.tf"]);
    missing.failure();
    assert!(
        missing.stderr.contains("nope.tf does not exist"),
        "{}",
        missing.stderr
    );
}
