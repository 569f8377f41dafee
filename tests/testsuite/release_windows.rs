//! Release windows (issue #18): `window` blocks of an environment decide when `braid apply`
//! may change it, judged by the clock `BRAID_NOW` sets (RFC 3339) so that every case runs
//! at a fixed time: outside an allow window and inside a deny window the apply is refused
//! with the next opening; `--override-window --reason` applies and records why in the audit
//! log; the plan shows the verdict.

use crate::common::Project;

/// prod: changes Monday to Friday from 09:00 for 8 hours (Rome time), never from Christmas
/// Eve for three days.
fn project() -> Project {
    Project::with_files(&[
        (
            "braid.hcl",
            r#"source "infra" { path = "." }

environment "prod" {
  window {
    kind     = "allow"
    schedule = "0 9 * * 1-5"
    duration = "8h"
    timezone = "Europe/Rome"
  }
  window {
    kind     = "deny"
    schedule = "0 0 24 12 *"
    duration = "72h"
    timezone = "Europe/Rome"
  }
}
"#,
        ),
        (
            "main.hcl",
            "resource \"local_file\" \"motd\" {\n  filename = \"out/motd\"\n  content  = \"v1\"\n}\n",
        ),
    ])
}

/// Saturday 2026-12-12 12:00 in Rome.
const SATURDAY: &str = "2026-12-12T12:00:00+01:00";
/// Monday 2026-12-14 10:00 in Rome.
const MONDAY: &str = "2026-12-14T10:00:00+01:00";
/// Friday 2026-12-25 11:00 in Rome: inside the Christmas freeze, inside an allow window.
const CHRISTMAS: &str = "2026-12-25T11:00:00+01:00";

#[test]
fn applies_wait_for_the_release_window_or_override_it_on_the_record() {
    let project = project();
    let at = |now: &'static str| [("BRAID_NOW", now)];

    // The plan says the window is closed, and until when.
    let plan = project.braid_env(&["--env", "prod", "plan"], &at(SATURDAY));
    plan.success();
    assert!(
        plan.stdout.contains("Release window: closed (no allow window is open (allow window \"0 9 * * 1-5\" for 8h (Europe/Rome)))")
            && plan.stdout.contains("until 2026-12-14 08:00 UTC"),
        "{}",
        plan.all()
    );
    let json = project.braid_env(
        &["--env", "prod", "plan", "--format", "json"],
        &at(SATURDAY),
    );
    json.success();
    let window = &json.json()["window"];
    assert_eq!(window["allowed"], false, "{window:#}");
    assert_eq!(window["next_open"], "2026-12-14T08:00:00Z", "{window:#}");

    // Saturday: refused, with the next opening in UTC and in Rome's time, at the window.
    let refused = project.braid_env(&["--env", "prod", "apply", "--auto-approve"], &at(SATURDAY));
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("Outside the release window")
            && refused.stderr.contains("braid.hcl:4:3")
            && refused
                .stderr
                .contains("2026-12-14 08:00 UTC (2026-12-14 09:00 CET Europe/Rome)")
            && refused.stderr.contains("--override-window --reason"),
        "{}",
        refused.all()
    );
    assert!(
        !project.path().join("out/motd").exists(),
        "applied outside the window"
    );

    // Monday morning: applied.
    project
        .braid_env(&["--env", "prod", "apply", "--auto-approve"], &at(MONDAY))
        .success();
    assert_eq!(project.read("out/motd"), "v1");

    // Christmas: the deny window wins over the allow window that is open too.
    project.write(
        "main.hcl",
        "resource \"local_file\" \"motd\" {\n  filename = \"out/motd\"\n  content  = \"v2\"\n}\n",
    );
    let frozen = project.braid_env(
        &["--env", "prod", "apply", "--auto-approve"],
        &at(CHRISTMAS),
    );
    frozen.expect_code(1);
    assert!(
        frozen.stderr.contains("the deny window \"0 0 24 12 *\" for 72h (Europe/Rome) is open until 2026-12-27 00:00 CET")
            && frozen.stderr.contains("It may be applied from 2026-12-28 08:00 UTC"),
        "{}",
        frozen.all()
    );
    assert_eq!(project.read("out/motd"), "v1");

    // Overridden, with a reason: applied, and the audit log says who and why.
    let overridden = project.braid_env(
        &[
            "--env",
            "prod",
            "apply",
            "--auto-approve",
            "--override-window",
            "--reason",
            "hotfix for INC-1234",
        ],
        &at(CHRISTMAS),
    );
    overridden.success();
    assert_eq!(project.read("out/motd"), "v2");
    let history = project.braid(&["--env", "prod", "history"]);
    history.success();
    assert!(
        history.stdout.contains("note: release window overridden by test-actor: hotfix for INC-1234 (at 2026-12-25 10:00 UTC: the deny window"),
        "{}",
        history.stdout
    );
    let json = project.braid(&["--env", "prod", "history", "--format", "json"]);
    json.success();
    assert!(
        json.stdout.contains("hotfix for INC-1234"),
        "{}",
        json.stdout
    );

    // No changes: nothing to hold back, whatever the time.
    project
        .braid_env(&["--env", "prod", "apply", "--auto-approve"], &at(SATURDAY))
        .success();
    // An override needs a reason; an empty one is refused.
    let bare = project.braid_env(
        &[
            "--env",
            "prod",
            "apply",
            "--auto-approve",
            "--override-window",
        ],
        &at(SATURDAY),
    );
    assert_ne!(bare.code, 0, "{}", bare.all());
    let empty = project.braid_env(
        &[
            "--env",
            "prod",
            "apply",
            "--auto-approve",
            "--override-window",
            "--reason",
            " ",
        ],
        &at(SATURDAY),
    );
    empty.expect_code(1);
    assert!(empty.stderr.contains("Empty --reason"), "{}", empty.all());
    // A clock that is not a time.
    let bad = project.braid_env(&["--env", "prod", "plan"], &at("next tuesday"));
    bad.expect_code(1);
    assert!(bad.stderr.contains("Invalid BRAID_NOW"), "{}", bad.all());
}

#[test]
fn window_settings_are_checked_at_their_place() {
    for (window, message) in [
        (
            "kind = \"sometimes\"\n    schedule = \"0 9 * * *\"\n    duration = \"1h\"",
            "Invalid window kind",
        ),
        (
            "kind = \"allow\"\n    schedule = \"at nine\"\n    duration = \"1h\"",
            "Invalid window schedule",
        ),
        (
            "kind = \"allow\"\n    schedule = \"0 9 * * *\"\n    duration = \"1h\"\n    timezone = \"Mars/Olympus\"",
            "Unknown time zone",
        ),
        (
            "kind = \"allow\"\n    schedule = \"0 9 * * *\"",
            "A window block needs duration",
        ),
        (
            "kind = \"allow\"\n    schedule = \"0 9 * * *\"\n    duration = \"1h\"\n    resources = \"k8s/*\"",
            "\"resources\" must be a list of strings",
        ),
    ] {
        let project = Project::with_files(&[
            (
                "braid.hcl",
                &format!(
                    "source \"infra\" {{ path = \".\" }}\n\nenvironment \"prod\" {{\n  window {{\n    {window}\n  }}\n}}\n"
                ),
            ),
            (
                "main.hcl",
                "resource \"local_file\" \"motd\" {\n  filename = \"out/motd\"\n  content = \"x\"\n}\n",
            ),
        ]);
        let run = project.braid(&["--env", "prod", "plan"]);
        run.expect_code(1);
        assert!(
            run.stderr.contains(message) && run.stderr.contains("braid.hcl:"),
            "{message}: {}",
            run.all()
        );
    }
}
