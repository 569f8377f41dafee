//! The other commands: init, validate, graph, show, state list/show/rm, force-unlock,
//! environment selection and --version.

use crate::common::{self, BRAID_HCL, Project};
use braid_state::{LockInfo, LockRequest, SqliteStore, StateStore};

const SECRET: &str = "tok-SECRET-4f9a2c";
const ALL: [&str; 3] = [
    "local_file.config",
    "local_file.motd",
    "local_value.release",
];

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

#[test]
fn init_creates_state_and_prints_lineage() {
    let project = quickstart();
    let run = project.braid(&["--env", "dev", "init"]);
    run.success();
    assert!(project.join(".braid/state/dev.db").is_file());
    assert!(!project.exists(".braid/state/staging.db"));
    let lineage = run
        .stdout
        .split("(lineage ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .expect("lineage printed")
        .to_string();
    assert_eq!(lineage.len(), 36, "a uuid: {lineage}");
    snapshot("init", &project.normalize(&run.stdout));

    // A second init keeps the state: same lineage.
    let again = project.braid(&["--env", "dev", "init"]);
    again.success();
    assert!(
        again
            .stdout
            .contains(&format!("(lineage {lineage}, serial 0)"))
    );
    // The plan is made against that state.
    let plan = project.braid(&["--env", "dev", "plan", "--format", "json"]);
    plan.success();
    assert_eq!(plan.json()["state"]["lineage"], lineage.as_str());
}

#[test]
fn init_reports_configuration_errors() {
    let project = Project::with_main("resource \"local_value\" \"a\" {\n  input = \n}\n");
    let run = project.braid(&["init"]);
    run.failure();
    // init loads the configuration (evaluating every expression is validate's job).
    assert!(
        run.stderr.contains("error: Invalid HCL syntax"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--> main.hcl:2:"), "{}", run.stderr);
    assert!(
        !project.exists(".braid"),
        "init created state for a broken project"
    );
}

#[test]
fn validate_succeeds_for_every_environment_without_touching_state() {
    let project = quickstart();
    let run = project.braid(&["validate"]);
    run.success();
    assert!(run.stdout.starts_with("Success!"), "{}", run.stdout);
    assert!(run.stdout.contains("dev, staging"), "{}", run.stdout);
    assert!(run.stdout.contains("3 resource(s)"), "{}", run.stdout);
    assert!(!project.exists(".braid"), "validate created state");
    assert!(!project.exists("out"));

    let run = project.braid(&["--format", "json", "validate"]);
    run.success();
    let doc = run.json();
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["environments"], serde_json::json!(["dev", "staging"]));

    let run = project.braid(&["--env", "staging", "--format", "json", "validate"]);
    run.success();
    assert_eq!(run.json()["environments"], serde_json::json!(["staging"]));
}

#[test]
fn validate_needs_no_variable_values() {
    let project = Project::with_main(
        "variable \"region\" {\n  type = string\n}\n\nresource \"local_value\" \"a\" {\n  input = var.region\n}\n",
    );
    project.braid(&["validate"]).success();
}

#[test]
fn validate_fails_on_bad_configuration() {
    let project =
        Project::with_main("resource \"local_value\" \"a\" {\n  input = upper(1, 2, 3)\n}\n");
    let run = project.braid(&["validate"]);
    run.failure();
    assert!(run.stderr.contains("error: "), "{}", run.stderr);
    assert!(run.stderr.contains("--> main.hcl:2:11"), "{}", run.stderr);
    assert!(!run.stdout.contains("Success"));
    assert!(!project.exists(".braid"));
}

#[test]
fn graph_prints_dot_with_edges() {
    let project = quickstart();
    let run = project.braid(&["--env", "dev", "graph"]);
    run.success();
    let dot = &run.stdout;
    assert!(dot.starts_with("digraph braid {\n"), "{dot}");
    assert!(dot.trim_end().ends_with('}'), "{dot}");
    for edge in [
        "\"local_value.release\" -> \"local_file.motd\";",
        "\"local_file.motd\" -> \"local_file.config\";",
        "\"local.service\" -> \"local.labels\";",
        "\"local.labels\" -> \"local_value.release\";",
        "\"local_value.release\" -> \"output.release_id\";",
        "\"local_file.motd\" -> \"output.motd_file\";",
    ] {
        assert!(dot.contains(edge), "missing edge {edge}:\n{dot}");
    }
    for node in ALL {
        assert!(
            dot.contains(&format!("  \"{node}\";")),
            "missing node {node}:\n{dot}"
        );
    }
    assert!(
        !dot.contains("\"local_file.config\" ->"),
        "config needs nothing:\n{dot}"
    );
    assert!(!project.exists(".braid"), "graph created state");
    snapshot("graph", dot);
}

#[test]
fn graph_includes_depends_on_edges() {
    let project = Project::with_main(
        "resource \"local_value\" \"a\" {\n  input = 1\n}\n\nresource \"local_value\" \"b\" {\n  input      = 2\n  depends_on = [local_value.a]\n}\n",
    );
    let run = project.braid(&["graph"]);
    run.success();
    assert!(
        run.stdout
            .contains("\"local_value.a\" -> \"local_value.b\";"),
        "{}",
        run.stdout
    );
}

#[test]
fn show_state_masks_sensitive_values() {
    let project = applied_quickstart();
    let run = project.braid(&["--env", "dev", "show"]);
    run.success();
    assert!(!run.all().contains(SECRET));
    assert!(
        run.stdout
            .contains("# local_file.config: (from main.hcl:35)")
    );
    assert!(
        run.stdout
            .contains("    content              = (sensitive)")
    );
    assert!(
        run.stdout
            .contains("    filename             = \"out/dev/config.json\"")
    );
    snapshot("show_state", &project.normalize(&run.stdout));

    let run = project.braid(&["--env", "dev", "show", "--format", "json"]);
    run.success();
    assert!(!run.all().contains(SECRET));
    let state = run.json();
    assert_eq!(state["serial"], 3);
    let config = state["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["address"] == "local_file.config")
        .expect("config in state");
    assert_eq!(config["attributes"]["content"], "(sensitive)");
    assert_eq!(config["sensitive_paths"], serde_json::json!([["content"]]));
    assert_eq!(config["depends_on"], serde_json::json!(["local_file.motd"]));
}

#[test]
fn show_empty_state() {
    let project = quickstart();
    let run = project.braid(&["--env", "dev", "show"]);
    run.success();
    assert_eq!(
        run.stdout,
        "The state of environment \"dev\" is empty. Run braid apply to create resources.\n"
    );
}

#[test]
fn show_saved_plan_renders_it_like_plan() {
    let project = applied_quickstart();
    let plan = project.braid(&[
        "--env",
        "dev",
        "plan",
        "--var",
        "greeting=hey",
        "--out",
        "p.json",
    ]);
    plan.success();
    let rendered = plan
        .stdout
        .split("\nSaved the plan to p.json.")
        .next()
        .expect("plan text");
    assert!(rendered.contains("# local_file.motd will be updated in place"));
    let show = project.braid(&["--env", "dev", "show", "p.json"]);
    show.success();
    assert_eq!(show.stdout, rendered);
    assert!(!show.all().contains(SECRET));

    let show = project.braid(&["--env", "dev", "show", "p.json", "--format", "json"]);
    show.success();
    let shown = show.json();
    let saved: serde_json::Value =
        serde_json::from_str(&project.read("p.json")).expect("plan JSON");
    assert_eq!(shown, saved);
    assert_eq!(shown["summary"]["update"], 1);

    // show does not need the state or even the project: the file is enough.
    let elsewhere = Project::with_files(&[]);
    let run = common::run_braid(
        elsewhere.path(),
        &["show", project.join("p.json").to_str().expect("utf-8 path")],
        &[],
    );
    run.success();
    assert_eq!(run.stdout, rendered);
}

#[test]
fn show_saved_plan_shows_a_change_of_a_sensitive_value() {
    let project = applied_quickstart();
    let plan = project.braid(&[
        "--env",
        "dev",
        "plan",
        "--var",
        "replicas=4",
        "--out",
        "p.json",
    ]);
    plan.success();
    let line = "      ~ content              = (sensitive) -> (sensitive)\n";
    assert!(plan.stdout.contains(line), "{}", plan.stdout);
    let show = project.braid(&["--env", "dev", "show", "p.json"]);
    show.success();
    assert!(!show.all().contains(SECRET));
    // What the reviewer of the saved plan sees must include that the secret file changes.
    assert!(show.stdout.contains(line), "{}", show.stdout);
}

#[test]
fn state_list_and_show() {
    let project = applied_quickstart();
    assert_eq!(project.state_list(&["--env", "dev"]), ALL);

    let run = project.braid(&["--env", "dev", "state", "list", "--format", "json"]);
    run.success();
    let list = run.json();
    assert_eq!(list.as_array().map(Vec::len), Some(3));
    assert_eq!(list[0]["address"], "local_file.config");
    assert_eq!(list[0]["type"], "local_file");

    let run = project.braid(&["--env", "dev", "state", "show", "local_file.config"]);
    run.success();
    assert!(!run.all().contains(SECRET));
    assert!(
        run.stdout.starts_with("# local_file.config:\n{\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("    content              = (sensitive)\n")
    );
    assert!(run.stdout.contains("    file_permission      = \"0600\"\n"));

    let run = project.braid(&[
        "--env",
        "dev",
        "state",
        "show",
        "local_file.config",
        "--format",
        "json",
    ]);
    run.success();
    assert!(!run.all().contains(SECRET));
    let attributes = run.json();
    assert_eq!(attributes["content"], "(sensitive)");
    assert_eq!(attributes["filename"], "out/dev/config.json");

    let run = project.braid(&["--env", "dev", "state", "show", "local_file.motd"]);
    run.success();
    assert!(run.stdout.contains("HELLO from checkout"), "{}", run.stdout);
}

#[test]
fn state_show_unknown_address_suggests() {
    let project = applied_quickstart();
    let run = project.braid(&["--env", "dev", "state", "show", "local_file.mtod"]);
    run.failure();
    assert!(
        run.stderr.contains("error: No such resource in state"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Did you mean local_file.motd?"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("braid state list"), "{}", run.stderr);
}

#[test]
fn state_rm_forgets_without_deleting() {
    let project = applied_quickstart();
    let run = project.braid(&["--env", "dev", "state", "rm", "local_file.motd"]);
    run.success();
    assert_eq!(
        run.stdout,
        "Removed local_file.motd from state (the object itself was not touched).\n"
    );
    assert_eq!(
        project.state_list(&["--env", "dev"]),
        ["local_file.config", "local_value.release"]
    );
    assert!(
        project
            .read("out/dev/motd.txt")
            .starts_with("HELLO from checkout")
    );

    let plan = project.braid(&["--env", "dev", "plan", "--format", "json"]);
    plan.success();
    let plan = plan.json();
    assert_eq!(
        common::addresses_with_action(&plan, "create"),
        ["local_file.motd"]
    );
    assert_eq!(
        common::change(&plan, "local_file.motd")["reason"],
        serde_json::Value::Null
    );
    assert_eq!(plan["summary"]["no_op"], 2);
    assert_eq!(plan["drift"], serde_json::json!([]));
}

#[test]
fn state_rm_unknown_address_changes_nothing() {
    let project = applied_quickstart();
    let run = project.braid(&[
        "--env",
        "dev",
        "state",
        "rm",
        "local_file.motd",
        "local_file.nope",
    ]);
    run.failure();
    assert!(
        run.stderr
            .contains("State has no resource local_file.nope."),
        "{}",
        run.stderr
    );
    assert_eq!(project.state_list(&["--env", "dev"]), ALL);
}

fn take_lock(project: &Project) -> LockInfo {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        let store = SqliteStore::open(&project.join(".braid/state/dev.db")).expect("open state");
        store
            .lock(LockRequest {
                actor: "someone-else".to_string(),
                host: "ci-runner-7".to_string(),
                pid: 4242,
                operation: "apply".to_string(),
                ci_url: None,
                boot_id: None,
            })
            .await
            .expect("take lock")
    })
}

#[test]
fn force_unlock_without_a_lock() {
    let project = applied_quickstart();
    let run = project.braid(&["--env", "dev", "force-unlock", "not-a-lock-id", "--force"]);
    run.failure();
    assert!(
        run.stderr.contains("error: No lock to remove"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("The state of environment \"dev\" is not locked."),
        "{}",
        run.stderr
    );
}

#[test]
fn locked_state_blocks_apply_and_force_unlock_needs_the_right_id() {
    let project = applied_quickstart();
    let lock = take_lock(&project);

    let run = project.braid(&[
        "--env",
        "dev",
        "apply",
        "--auto-approve",
        "--var",
        "replicas=3",
    ]);
    run.failure();
    assert!(
        run.stderr.contains("error: State is locked"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("apply by someone-else on ci-runner-7 (pid 4242)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("braid force-unlock {}", lock.id)),
        "{}",
        run.stderr
    );
    let config: serde_json::Value =
        serde_json::from_str(&project.read("out/dev/config.json")).expect("JSON");
    assert_eq!(config["replicas"], 2, "applied while locked");

    let run = project.braid(&["--env", "dev", "state", "rm", "local_file.motd"]);
    run.failure();
    assert!(
        run.stderr.contains("error: State is locked"),
        "{}",
        run.stderr
    );

    let run = project.braid(&["--env", "dev", "force-unlock", "wrong-id", "--force"]);
    run.failure();
    assert!(
        run.stderr.contains("error: Lock id does not match"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("The current lock has id {}", lock.id)),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("not wrong-id"), "{}", run.stderr);

    // Without --force and without a terminal there is nobody to confirm.
    let run = project.braid(&["--env", "dev", "force-unlock", &lock.id]);
    run.failure();
    assert!(run.stderr.contains("Pass --force"), "{}", run.stderr);

    let run = project.braid(&["--env", "dev", "force-unlock", &lock.id, "--force"]);
    run.success();
    assert_eq!(
        run.stdout,
        format!(
            "Lock {} removed. The environment \"dev\" is unlocked.\n",
            lock.id
        )
    );
    project
        .braid(&[
            "--env",
            "dev",
            "apply",
            "--auto-approve",
            "--var",
            "replicas=3",
        ])
        .success();
}

#[test]
fn unknown_environment_suggests_the_closest() {
    let project = quickstart();
    let run = project.braid(&["--env", "stagin", "plan"]);
    run.failure();
    assert!(
        run.stderr.contains("error: Unknown environment"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "braid.hcl declares no environment \"stagin\". Did you mean \"staging\"? Declared: dev, staging."
        ),
        "{}",
        run.stderr
    );
    assert!(!project.exists(".braid/state/stagin.db"));

    let run = project.braid(&["--env", "prod", "plan"]);
    run.failure();
    assert!(
        run.stderr
            .contains("braid.hcl declares no environment \"prod\". Declared: dev, staging."),
        "{}",
        run.stderr
    );
}

#[test]
fn several_environments_need_env() {
    let project = quickstart();
    let run = project.braid(&["plan"]);
    run.failure();
    assert!(
        run.stderr.contains("error: Environment not chosen"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("choose one with --env NAME"),
        "{}",
        run.stderr
    );
}

#[test]
fn single_environment_is_chosen_by_default() {
    let project = Project::with_main("resource \"local_value\" \"a\" {\n  input = 1\n}\n");
    let run = project.braid(&["plan", "--format", "json"]);
    run.success();
    assert_eq!(run.json()["env"], "dev");
}

#[test]
fn dash_c_runs_in_another_directory() {
    let project = quickstart();
    let elsewhere = Project::with_files(&[]);
    let dir = project.path().to_str().expect("utf-8 path");
    let run = common::run_braid(
        elsewhere.path(),
        &["-C", dir, "--env", "dev", "apply", "--auto-approve"],
        &[],
    );
    run.success();
    assert!(project.read("out/dev/motd.txt").starts_with("HELLO"));
    assert!(project.join(".braid/state/dev.db").is_file());
    assert!(!elsewhere.exists("out"));
    assert!(!elsewhere.exists(".braid"));
}

#[test]
fn version_flag() {
    let project = Project::with_files(&[("braid.hcl", BRAID_HCL)]);
    let short = project.braid(&["-V"]);
    short.success();
    assert_eq!(
        short.stdout,
        format!("braid {}\n", env!("CARGO_PKG_VERSION"))
    );
    // The long form says which build: commit, date, target (as `braid version`).
    let long = project.braid(&["--version"]);
    long.success();
    let prefix = format!("braid {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(long.stdout.starts_with(&prefix), "{}", long.stdout);
    assert!(long.stdout.trim_end().ends_with(')'), "{}", long.stdout);
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let project = Project::with_files(&[("braid.hcl", BRAID_HCL)]);
    let run = project.braid(&["plna"]);
    assert_ne!(run.code, 0);
    run.assert_no_panic();
    assert!(run.stderr.contains("plan"), "suggests plan: {}", run.stderr);
}

/// Every command prints exactly one JSON document on stdout with --format json
/// (docs/json-output.md), never human text.
#[test]
fn every_command_prints_one_json_document() {
    let project = quickstart();
    let json = |args: &[&str]| {
        let mut all = vec!["--env", "dev", "--format", "json"];
        all.extend_from_slice(args);
        let run = project.braid(&all);
        run.success();
        run.json()
    };
    let init = json(&["init"]);
    assert_eq!(init["env"], "dev");
    assert_eq!(init["state"]["serial"], 0);
    assert_eq!(init["providers"], serde_json::json!(["local"]));
    assert_eq!(json(&["validate"])["valid"], true);
    let graph = json(&["graph"]);
    let edges = graph["edges"].as_array().expect("edges");
    assert!(
        edges
            .iter()
            .any(|e| e["from"] == "local_value.release" && e["to"] == "local_file.motd"),
        "{graph:#}"
    );
    assert!(
        graph["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .any(|n| n["kind"] == "output")
    );
    assert_eq!(json(&["plan"])["summary"]["create"], 3);
    let applied = json(&["apply", "--auto-approve"]);
    assert_eq!(applied["succeeded"], true);
    assert_eq!(
        json(&["show"])["resources"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(json(&["history"])[0]["operation"], "apply");
    assert_eq!(
        json(&["history", "show", "1"])["changes"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    assert_eq!(json(&["drift"])["drift"], serde_json::json!([]));
    assert_eq!(
        json(&["state", "mv", "local_value.release", "local_value.renamed"])["moved"]["to"],
        "local_value.renamed"
    );
    assert_eq!(
        json(&["state", "rm", "local_value.renamed"])["removed"],
        serde_json::json!(["local_value.renamed"])
    );
    assert!(json(&["state", "pull"])["lineage"].is_string());
}

/// `-v` logs lock events and commits on stderr, `-vv` adds each provider call with its
/// timing; neither ever shows a secret, and without `-v` nothing is logged.
#[test]
fn verbose_logs_lock_events_commits_and_provider_calls_without_secrets() {
    let project = Project::with_main(
        "variable \"token\" {\n  type      = string\n  sensitive = true\n}\n\nresource \"local_value\" \"secret\" {\n  input = { token = var.token }\n}\n\nresource \"local_file\" \"f\" {\n  filename = \"out/f.txt\"\n  content  = \"x\"\n}\n",
    );
    let env = [("BRAID_VAR_token", "s3cr3t-t0ken-value")];
    let quiet = project.braid_env(&["plan"], &env);
    quiet.success();
    assert!(!quiet.stderr.contains("INFO"), "{}", quiet.stderr);

    let run = project.braid_env(&["-v", "apply", "--auto-approve"], &env);
    run.success();
    assert!(run.stderr.contains("state lock acquired"), "{}", run.stderr);
    assert!(run.stderr.contains("state lock released"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("provider apply"),
        "-v alone shows no provider calls"
    );

    project.write(
        "main.hcl",
        &project.read("main.hcl").replace("\"x\"", "\"y\""),
    );
    let run = project.braid_env(&["-vv", "apply", "--auto-approve"], &env);
    run.success();
    assert!(run.stderr.contains("provider apply"), "{}", run.stderr);
    assert!(run.stderr.contains("elapsed_ms"), "{}", run.stderr);
    assert!(run.stderr.contains("state commit"), "{}", run.stderr);
    for output in [&run.stdout, &run.stderr] {
        assert!(
            !output.contains("s3cr3t-t0ken-value"),
            "secret leaked:\n{output}"
        );
    }
    let traced = project.braid_env(
        &["apply", "--auto-approve"],
        &[env[0], ("RUST_LOG", "braid=trace")],
    );
    traced.success();
    assert!(
        !traced.all().contains("s3cr3t-t0ken-value"),
        "secret leaked:\n{}",
        traced.all()
    );
}

/// `apply --auto-approve --lock-timeout` that waited for someone else's apply plans after
/// it took the lock, against the state that apply left — not before, which made its plan
/// stale the moment it got the lock.
#[test]
fn apply_that_waited_for_the_lock_plans_against_the_state_it_finds() {
    let project = applied_quickstart();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let store = SqliteStore::open(&project.join(".braid/state/dev.db")).expect("open state");
    let held = runtime
        .block_on(store.lock(LockRequest {
            actor: "someone-else".to_string(),
            host: "ci-runner-7".to_string(),
            pid: 4242,
            operation: "apply".to_string(),
            ci_url: None,
            boot_id: None,
        }))
        .expect("take lock");
    project.edit(
        "braid.hcl",
        "greeting = \"hello\"",
        "greeting = \"hello again\"",
    );
    let waiting = crate::common::spawn_braid(
        project.path(),
        &[
            "--env",
            "dev",
            "-q",
            "apply",
            "--auto-approve",
            "--lock-timeout",
            "60s",
        ],
        &[],
    );
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // Meanwhile the holder writes state (its own apply), then releases the lock.
    runtime.block_on(async {
        let serial = store.meta().await.expect("meta").serial;
        let mut record = store
            .resource("local_value.release")
            .await
            .expect("read")
            .expect("in state");
        record.address = "local_value.other".to_string();
        store
            .commit_resource(
                serial,
                braid_state::ResourceWrite {
                    address: record.address.clone(),
                    record: Some(record),
                    change: None,
                },
            )
            .await
            .expect("commit");
        store.unlock(&held.id).await.expect("unlock");
    });
    let run = crate::common::wait_braid(waiting);
    run.success();
    assert!(!run.all().contains("stale"), "{}", run.all());
    // Its plan saw the holder's write: the extra resource is gone, the edit is applied.
    let listed = project.braid(&["--env", "dev", "state", "list"]);
    assert!(
        !listed.stdout.contains("local_value.other"),
        "{}",
        listed.stdout
    );
    project
        .braid(&["--env", "dev", "plan", "--detailed-exitcode"])
        .success();
}

/// A lock whose holder was a process on this machine that no longer runs (an apply killed
/// with SIGKILL, a crashed laptop session) is taken over at once: no lease to wait for, no
/// --steal-stale-lock, and the takeover is reported.
#[test]
fn a_lock_left_by_a_dead_process_on_this_machine_is_taken_over() {
    let project = applied_quickstart();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let store = SqliteStore::open(&project.join(".braid/state/dev.db")).expect("open state");
    let mut child = std::process::Command::new("true")
        .spawn()
        .expect("spawn true");
    let dead_pid = child.id();
    child.wait().expect("wait for true");
    let held = runtime
        .block_on(store.lock(LockRequest {
            actor: "someone-killed".to_string(),
            host: "this-runner".to_string(),
            pid: dead_pid,
            operation: "apply".to_string(),
            ci_url: None,
            boot_id: braid_state::this_boot(),
        }))
        .expect("take lock");
    let run = project.braid_env(
        &["--env", "dev", "apply", "--auto-approve"],
        &[("HOSTNAME", "this-runner")],
    );
    run.success();
    assert!(run.all().contains(&held.id), "{}", run.all());
    assert!(run.all().contains("no longer runs"), "{}", run.all());
    assert_eq!(
        runtime.block_on(store.current_lock()).expect("read lock"),
        None
    );

    // The same lock seen from another machine is only stale after the lease.
    let held = runtime
        .block_on(store.lock(LockRequest {
            actor: "someone-killed".to_string(),
            host: "this-runner".to_string(),
            pid: dead_pid,
            operation: "apply".to_string(),
            ci_url: None,
            boot_id: braid_state::this_boot(),
        }))
        .expect("take lock");
    let refused = project.braid_env(
        &["--env", "dev", "apply", "--auto-approve"],
        &[("HOSTNAME", "another-runner")],
    );
    refused.failure();
    assert!(
        refused.stderr.contains("State is locked"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains(&held.id), "{}", refused.stderr);
}
