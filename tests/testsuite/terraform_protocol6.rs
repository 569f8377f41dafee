//! Plugin protocol 6, side by side with terraform: tests/fixtures/braidtest6 applied by
//! `terraform` 1.11 and by braid through the same protocol-6 provider,
//! `terraform-provider-braidtest` (crates/tfprovider-test), which keeps every service as a
//! JSON file. The files each tool leaves are compared after the first apply (with an import
//! and a data source read after its resource), after an update in place and after a
//! replacement; braid then re-plans empty, sees a file changed by hand in `braid drift`,
//! puts it back and destroys everything. Diagnostics — the provider's own validation and
//! Terraform's required-attribute check in nested attribute types — are compared too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::{Project, Run, fixtures_dir, terraform};

fn fixture(name: &str) -> String {
    let path = fixtures_dir().join("braidtest6").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A CLI configuration whose only provider source is a filesystem mirror holding
/// terraform-provider-braidtest.
fn cli_config(dir: &Path) -> String {
    let mirror = braid_testkit::braidtest_mirror(&dir.join("mirror"));
    let path = dir.join("terraform.rc");
    std::fs::write(
        &path,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n  }}\n}}\n",
            mirror.display()
        ),
    )
    .expect("write the CLI configuration");
    path.display().to_string()
}

/// The services' files in `dir`, by file name, as JSON. `ports` is a set: its elements are
/// sorted (terraform sends a set's elements in cty's order, braid in configuration order).
fn objects(dir: &Path) -> BTreeMap<String, serde_json::Value> {
    std::fs::read_dir(dir)
        .expect("the objects directory")
        .map(|entry| {
            let path = entry.expect("an entry").path();
            let text = std::fs::read_to_string(&path).expect("read an object");
            let name = path
                .file_name()
                .expect("a name")
                .to_string_lossy()
                .into_owned();
            let mut object: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            if let Some(ports) = object.get_mut("ports").and_then(|p| p.as_array_mut()) {
                ports.sort_by_key(|p| p.to_string());
            }
            (name, object)
        })
        .collect()
}

fn braid_hcl(directory: &Path, extra: &str) -> String {
    format!(
        "source \"infra\" {{ path = \".\" }}\n\nenvironment \"dev\" {{\n  variables = {{\n    directory = \"{}\"{extra}\n  }}\n}}\n",
        directory.display()
    )
}

/// braid's side of a comparison: a project holding `main_tf`, whose services go to `objects/`,
/// with a CLI configuration whose only mirror holds terraform-provider-braidtest.
struct BraidSide {
    project: Project,
    objects: PathBuf,
    rc: String,
}

impl BraidSide {
    fn new(main_tf: &str) -> BraidSide {
        let project = Project::with_files(&[("main.tf", main_tf)]);
        let objects = project.path().join("objects");
        project.write("braid.hcl", &braid_hcl(&objects, ""));
        let rc = cli_config(project.path());
        BraidSide {
            project,
            objects,
            rc,
        }
    }

    /// `braid --env dev --no-color ARGS`.
    fn braid(&self, args: &[&str]) -> Run {
        let mut all = vec!["--env", "dev", "--no-color"];
        all.extend_from_slice(args);
        self.project
            .braid_env(&all, &[("TF_CLI_CONFIG_FILE", self.rc.as_str())])
    }

    /// [`BraidSide::braid`], the provider logging its calls to `log` (`BRAIDTEST_CALL_LOG`).
    fn braid_logged(&self, log: &Path, args: &[&str]) -> Run {
        let mut all = vec!["--env", "dev", "--no-color"];
        all.extend_from_slice(args);
        self.project.braid_env(
            &all,
            &[
                ("TF_CLI_CONFIG_FILE", self.rc.as_str()),
                ("BRAIDTEST_CALL_LOG", log.to_str().expect("a UTF-8 path")),
            ],
        )
    }
}

#[test]
fn protocol_6_provider_applies_like_terraform() {
    let main_tf = fixture("main.tf");
    let legacy = fixture("legacy.json");

    // terraform's side.
    let tf = braid_testkit::tempdir();
    let tf_objects = tf.path().join("objects");
    std::fs::create_dir_all(&tf_objects).expect("mkdir");
    std::fs::write(tf_objects.join("svc-legacy.json"), &legacy).expect("write");
    let tf_work = tf.path().join("work");
    std::fs::create_dir_all(&tf_work).expect("mkdir");
    std::fs::write(tf_work.join("main.tf"), &main_tf).expect("write");
    let tf_rc = cli_config(tf.path());
    let tf_dir_var = format!("directory={}", tf_objects.display());
    terraform(&tf_work, &tf_rc, &["init", "-input=false"], &[0]);
    let tf_apply = |vars: &[&str]| {
        let mut args = vec![
            "apply",
            "-auto-approve",
            "-input=false",
            "-var",
            &tf_dir_var,
        ];
        for var in vars {
            args.extend(["-var", var]);
        }
        terraform(&tf_work, &tf_rc, &args, &[0])
    };
    let applied = tf_apply(&[]);
    assert!(
        applied.contains("1 imported, 3 added, 1 changed"),
        "{applied}"
    );
    let tf_first = objects(&tf_objects);

    // braid's side.
    let side = BraidSide::new(&main_tf);
    let (project, ours) = (&side.project, side.objects.clone());
    std::fs::create_dir_all(&ours).expect("mkdir");
    std::fs::write(ours.join("svc-legacy.json"), &legacy).expect("write");
    let braid = |args: &[&str]| side.braid(args);

    braid(&["init"]).success();
    let providers = braid(&["providers"]);
    providers.success();
    assert!(
        providers
            .stdout
            .contains("braidtest: plugin registry.terraform.io/braid/braidtest 0.1.0 (protocol 6)"),
        "{}",
        providers.all()
    );
    let plan = braid(&["plan"]);
    plan.success();
    assert!(
        plan.stdout
            .contains("Plan: 3 to add, 1 to change, 0 to replace, 0 to destroy, 1 to import."),
        "{}",
        plan.all()
    );
    // The password is sensitive in the provider's schema.
    assert!(!plan.all().contains("hunter2"), "{}", plan.all());
    braid(&["apply", "--auto-approve"]).success();
    assert_eq!(
        objects(&ours),
        tf_first,
        "braid's services differ from terraform's"
    );
    let url = braid(&["output", "--raw", "web_url"]);
    assert_eq!(url.success().stdout.trim(), "https://web.internal:443/web");
    braid(&["plan", "--detailed-exitcode"]).expect_code(0);

    // An update in place (a nested list element's attribute).
    tf_apply(&["weight=7"]);
    project.write("braid.hcl", &braid_hcl(&ours, "\n    weight = 7"));
    // Through a saved plan, applied by another process: the provider gets the private data
    // of the plan the apply checks against the saved one (it writes what it got as
    // `_private`), as terraform sends the planned private data.
    let plan = braid(&["plan", "--out", "update.json"]);
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy"),
        "{}",
        plan.all()
    );
    braid(&["apply", "update.json"]).success();
    let updated = objects(&ours);
    assert_eq!(
        updated["svc-web.json"]["_private"], "planned web generation 2",
        "{updated:#?}"
    );
    assert_eq!(updated, objects(&tf_objects), "after the update");

    // Replacements (the name forces them): the web service deleted first, which also changes
    // what the workers and the data source read from it; the workers created before their
    // old objects are deleted (create_before_destroy).
    let replaced_vars = ["weight=7", "name=front", "worker_suffix=-v2"];
    tf_apply(&replaced_vars);
    project.write(
        "braid.hcl",
        &braid_hcl(
            &ours,
            "\n    weight = 7\n    name = \"front\"\n    worker_suffix = \"-v2\"",
        ),
    );
    let plan = braid(&["plan"]);
    assert!(
        plan.stdout.contains("3 to replace") && plan.stdout.contains("forces replacement"),
        "{}",
        plan.all()
    );
    braid(&["apply", "--auto-approve"]).success();
    let tf_replaced = objects(&tf_objects);
    assert!(
        tf_replaced.contains_key("svc-front.json")
            && tf_replaced.contains_key("svc-worker-alpha-v2.json"),
        "{tf_replaced:#?}"
    );
    assert_eq!(objects(&ours), tf_replaced, "after the replacements");
    // State keeps the private data the new worker's create returned: the old object's delete,
    // which ran after it, did not overwrite it.
    let pulled: serde_json::Value =
        serde_json::from_str(&braid(&["state", "pull"]).success().stdout).expect("JSON");
    let worker = pulled["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["address"] == "braidtest_service.worker[\"alpha\"]")
        .expect("the alpha worker in state");
    let private = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        worker["meta"]["private"].as_str().unwrap_or_default(),
    )
    .expect("base64");
    assert_eq!(
        String::from_utf8_lossy(&private),
        "planned worker-alpha-v2 generation 1",
        "{worker:#}"
    );
    braid(&["plan", "--detailed-exitcode"]).expect_code(0);

    // Someone edits a service by hand on both sides: braid drift shows it, and apply puts it
    // back as terraform's apply does.
    let edit = |dir: &Path| {
        let file = dir.join("svc-worker-alpha-v2.json");
        let mut edited: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("read")).expect("JSON");
        edited["replicas"] = serde_json::json!(9);
        std::fs::write(&file, edited.to_string()).expect("write");
    };
    edit(&ours);
    edit(&tf_objects);
    let drift = braid(&["drift"]);
    drift.expect_code(2);
    assert!(
        drift.stdout.contains("braidtest_service.worker[\"alpha\"]")
            && drift.stdout.contains("replicas"),
        "{}",
        drift.all()
    );
    braid(&["apply", "--auto-approve"]).success();
    tf_apply(&replaced_vars);
    let tf_healed = objects(&tf_objects);
    assert_eq!(tf_healed["svc-worker-alpha-v2.json"]["replicas"], 1);
    assert_eq!(objects(&ours), tf_healed, "after putting the drift back");

    // Destroy: no service is left.
    braid(&["destroy", "--auto-approve"]).success();
    assert!(objects(&ours).is_empty(), "{:#?}", objects(&ours));
}

/// The provider's own validation (ValidateResourceConfig) and Terraform's check of required
/// attributes in nested attribute types: braid stops the plan with the same messages as
/// terraform, at the attribute's place in main.tf.
#[test]
fn protocol_6_diagnostics_match_terraform() {
    let cases = [
        (
            "name        = var.name",
            "name        = \"Not_A_Name\"",
            "Invalid service name",
        ),
        (
            "host = \"${var.name}.internal\"",
            "tls = true",
            "attribute \"host\" is required",
        ),
    ];
    for (from, to, message) in cases {
        let main_tf = fixture("main.tf").replacen(from, to, 1);
        assert_ne!(main_tf, fixture("main.tf"), "{from} is in main.tf");

        let tf = braid_testkit::tempdir();
        std::fs::write(tf.path().join("main.tf"), &main_tf).expect("write");
        let tf_rc = cli_config(tf.path());
        terraform(tf.path(), &tf_rc, &["init", "-input=false"], &[0]);
        let theirs = terraform(
            tf.path(),
            &tf_rc,
            &["plan", "-input=false", "-var", "directory=/nonexistent"],
            &[1],
        );
        assert!(theirs.contains(message), "terraform: {theirs}");

        let side = BraidSide::new(&main_tf);
        side.braid(&["init"]).success();
        let plan = side.braid(&["plan"]);
        plan.expect_code(1);
        assert!(plan.all().contains(message), "{}", plan.all());
        assert!(plan.all().contains("main.tf:"), "{}", plan.all());
        assert!(!plan.all().contains("panicked"), "{}", plan.all());
    }
}

/// A provider's warning (ValidateResourceConfig's) does not stop the plan: braid shows it
/// with the plan, at the attribute's place in main.tf and with the resource's address, keeps
/// it in the JSON plan and shows it again with the apply, as terraform shows it.
#[test]
fn protocol_6_warnings_shown_like_terraform() {
    let main_tf = &fixture("warnings.tf");
    let message = "12 replicas is more than 10: consider an autoscaler instead.";

    let tf = braid_testkit::tempdir();
    std::fs::write(tf.path().join("main.tf"), main_tf).expect("write");
    let tf_rc = cli_config(tf.path());
    terraform(tf.path(), &tf_rc, &["init", "-input=false"], &[0]);
    let tf_dir_var = format!("directory={}", tf.path().join("objects").display());
    let theirs = terraform(
        tf.path(),
        &tf_rc,
        &["plan", "-input=false", "-var", &tf_dir_var],
        &[0],
    );
    assert!(
        theirs.contains("Warning: Many replicas") && theirs.contains(message),
        "terraform: {theirs}"
    );

    let side = BraidSide::new(main_tf);
    side.braid(&["init"]).success();
    // In a user cache of its own: the package's hash and the provider's schema are kept.
    let cache = braid_testkit::tempdir();
    let plan = side.project.braid_env(
        &["--env", "dev", "--no-color", "plan"],
        &[
            ("TF_CLI_CONFIG_FILE", side.rc.as_str()),
            ("XDG_CACHE_HOME", &cache.path().display().to_string()),
        ],
    );
    plan.success();
    let lock = std::fs::read_to_string(side.project.path().join(".braid.lock.hcl")).expect("lock");
    let hashes: Vec<_> = std::fs::read_dir(cache.path().join("braid/package-hashes"))
        .expect("package hashes kept")
        .map(|e| std::fs::read_to_string(e.expect("entry").path()).expect("read"))
        .collect();
    assert_eq!(hashes.len(), 1, "{hashes:?}");
    assert!(lock.contains(&hashes[0]), "{} in {lock}", hashes[0]);
    // The schema, and (beside it) the provider configuration found valid.
    let schemas: Vec<_> = std::fs::read_dir(cache.path().join("braid/provider-schemas"))
        .expect("provider schemas kept")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "pb"))
        .collect();
    assert_eq!(schemas.len(), 1, "{schemas:?}");
    let validated = schemas[0].with_extension("validated");
    let record = std::fs::read_to_string(&validated).expect("validated configurations kept");
    assert!(
        record.starts_with("braid validated provider configurations 1\n")
            && !record.contains(&side.objects.display().to_string()),
        "{record}"
    );
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&validated)
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "readable by its owner only: {mode:o}");
    }
    assert!(
        std::fs::read(&schemas[0])
            .expect("read")
            .starts_with(b"braid provider schema 1, protocol 6\n")
    );
    assert!(
        plan.stdout.contains("warning: Many replicas")
            && plan
                .stdout
                .contains("main.tf:23:14 (braidtest_service.big)")
            && plan.stdout.contains(message),
        "{}",
        plan.all()
    );
    let json = side.braid(&["plan", "--format", "json"]);
    let document: serde_json::Value =
        serde_json::from_str(&json.success().stdout).expect("a JSON plan");
    assert_eq!(
        document["warnings"],
        serde_json::json!([{
            "address": "braidtest_service.big",
            "summary": "Many replicas",
            "detail": format!("{message} (attribute replicas of braidtest_service.big)"),
            "at": "main.tf:23:14",
        }]),
        "{}",
        json.stdout
    );
    let apply = side.braid(&["apply", "--auto-approve"]);
    apply.success();
    assert!(
        apply.all().contains("Many replicas") && apply.all().contains(message),
        "{}",
        apply.all()
    );
    assert_eq!(objects(&side.objects).len(), 1, "the service was created");
}

/// `moved` across resource types (MoveResourceState): services declared as
/// `braidtest_legacy_service` move to `braidtest_service` (tests/fixtures/braidtest6/move),
/// with braid as with terraform; the next plan is empty and the state holds the new type.
#[test]
fn moved_across_resource_types_like_terraform() {
    let before = fixture("move/before.tf");
    let after = fixture("move/after.tf");

    let tf = braid_testkit::tempdir();
    let tf_objects = tf.path().join("objects");
    let tf_work = tf.path().join("work");
    std::fs::create_dir_all(&tf_work).expect("mkdir");
    std::fs::write(tf_work.join("main.tf"), &before).expect("write");
    let tf_rc = cli_config(tf.path());
    let tf_dir_var = format!("directory={}", tf_objects.display());
    terraform(&tf_work, &tf_rc, &["init", "-input=false"], &[0]);
    let tf_apply = || {
        terraform(
            &tf_work,
            &tf_rc,
            &[
                "apply",
                "-auto-approve",
                "-input=false",
                "-var",
                &tf_dir_var,
            ],
            &[0],
        )
    };
    tf_apply();
    std::fs::write(tf_work.join("main.tf"), &after).expect("write");
    let moved = tf_apply();
    assert!(moved.contains("3 changed"), "{moved}");
    assert!(
        moved.contains("Warning: Legacy service moved"),
        "terraform shows MoveResourceState's warnings: {moved}"
    );

    let side = BraidSide::new(&before);
    let (project, ours) = (&side.project, side.objects.clone());
    let braid = |args: &[&str]| side.braid(args);
    braid(&["init"]).success();
    braid(&["apply", "--auto-approve"]).success();
    project.write("main.tf", &after);
    // Planned and saved, then applied by another process (which moves the objects again from
    // state: the saved plan holds masked values).
    let plan = braid(&["plan", "--out", "move.json"]);
    plan.success();
    assert!(
        plan.stdout.contains("braidtest_service.api")
            && plan.stdout.contains("braidtest_legacy_service.api")
            && plan
                .stdout
                .contains("Plan: 0 to add, 3 to change, 0 to replace, 0 to destroy, 3 to move.")
            && plan.stdout.contains("warning: Legacy service moved")
            && plan
                .stdout
                .contains("The braidtest_legacy_service api is a braidtest_service from now on"),
        "MoveResourceState's warnings are shown with the plan: {}",
        plan.all()
    );
    braid(&["apply", "move.json"]).success();
    assert_eq!(objects(&ours), objects(&tf_objects), "after the move");
    braid(&["plan", "--detailed-exitcode"]).expect_code(0);
    let list = braid(&["state", "list"]);
    assert_eq!(
        list.success().stdout.lines().collect::<Vec<_>>(),
        vec![
            "braidtest_service.api",
            "braidtest_service.jobs[\"a\"]",
            "braidtest_service.jobs[\"b\"]"
        ]
    );
}

/// A provider without MoveResourceState (braid's built-in `local`) refuses a move across
/// types with Terraform's message, at the moved block, and state is left as it was.
#[test]
fn moved_across_types_without_provider_support_is_refused() {
    let project = Project::with_files(&[
        (
            "main.tf",
            "resource \"local_file\" \"a\" {\n  filename = \"${path.module}/a.txt\"\n  content  = \"x\"\n}\n",
        ),
        (
            "braid.hcl",
            "source \"infra\" { path = \".\" }\nenvironment \"dev\" {}\n",
        ),
    ]);
    project
        .braid(&["--env", "dev", "apply", "--auto-approve"])
        .success();
    project.write(
        "main.tf",
        "resource \"local_value\" \"a\" {\n  input = \"x\"\n}\n\n\nmoved {\n  from = local_file.a\n  to   = local_value.a\n}\n",
    );
    let plan = project.braid(&["--env", "dev", "--no-color", "plan"]);
    plan.expect_code(1);
    assert!(
        plan.stderr
            .contains("Unsupported `moved` across resource types")
            && plan
                .stderr
                .contains("does not support moved operations across resource types")
            && plan.stderr.contains("main.tf:6"),
        "{}",
        plan.all()
    );
    let list = project.braid(&["--env", "dev", "state", "list"]);
    assert_eq!(list.success().stdout.trim(), "local_file.a");
}

/// ValidateProviderConfig checks a provider configuration against the executable's own rules;
/// braid remembers, beside the cached schema, the configurations an executable found valid,
/// and skips the call when a later run configures the provider exactly so. A changed
/// configuration is validated again, and one the provider refuses is refused every time.
#[test]
fn a_provider_configuration_found_valid_is_not_validated_again() {
    let main_tf = "terraform {\n  required_providers {\n    braidtest = {\n      source  = \"braid/braidtest\"\n      version = \"0.1.0\"\n    }\n  }\n}\n\nvariable \"directory\" {\n  type = string\n}\n\nprovider \"braidtest\" {\n  directory = var.directory\n}\n\nresource \"braidtest_service\" \"api\" {\n  name = \"api\"\n}\n";
    let side = BraidSide::new(main_tf);
    let log = side.project.path().join("calls.log");
    let braid = |args: &[&str]| side.braid_logged(&log, args);
    // The calls in the log since the last look, by name.
    let calls = || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        std::fs::remove_file(&log).ok();
        let count = |call: &str| {
            text.lines()
                .filter(|l| l.split(' ').next() == Some(call))
                .count()
        };
        (count("ValidateProviderConfig"), count("ConfigureProvider"))
    };
    // The first run to configure the provider validates (braid init does, starting it).
    braid(&["init"]).success();
    braid(&["plan"]).success();
    let (validated, _) = calls();
    assert_eq!(validated, 1, "the first run validates");
    braid(&["plan"]).success();
    assert_eq!(calls(), (0, 1), "the same configuration again");
    braid(&["apply", "--auto-approve"]).success();
    assert_eq!(calls(), (0, 1), "the same configuration again");
    braid(&["plan", "--detailed-exitcode"]).expect_code(0);
    assert_eq!(calls(), (0, 1));

    // Another directory: another configuration, validated once.
    let other = side.project.path().join("other");
    side.project.write("braid.hcl", &braid_hcl(&other, ""));
    braid(&["plan"]).success();
    assert_eq!(calls(), (1, 1));
    braid(&["plan"]).success();
    assert_eq!(calls(), (0, 1));

    // A configuration the provider refuses is never remembered: refused on every run,
    // before the provider is configured.
    side.project
        .write("braid.hcl", &braid_hcl(Path::new(""), ""));
    for _ in 0..2 {
        let refused = braid(&["plan"]);
        refused.failure();
        assert!(
            refused.stderr.contains("Invalid directory"),
            "{}",
            refused.stderr
        );
        assert_eq!(calls(), (1, 0));
    }
}

/// The plan made just before applying is answered from the plan made earlier in the same run
/// when that plan was asked with known values (Terraform's protocol makes the second answer
/// agree with the first), and PlanResourceChange is called again when some value was unknown
/// at plan time or when the plan was saved by another process. The provider counts its calls.
#[test]
fn apply_plans_again_only_what_was_unknown() {
    let main_tf = "terraform {\n  required_providers {\n    braidtest = {\n      source  = \"braid/braidtest\"\n      version = \"0.1.0\"\n    }\n  }\n}\n\nvariable \"directory\" {\n  type = string\n}\n\nvariable \"note\" {\n  type    = string\n  default = \"first\"\n}\n\nprovider \"braidtest\" {\n  directory = var.directory\n}\n\nresource \"braidtest_service\" \"api\" {\n  name        = \"api\"\n  description = var.note\n}\n\nresource \"braidtest_service\" \"web\" {\n  name        = \"web\"\n  description = braidtest_service.api.id\n}\n";
    let side = BraidSide::new(main_tf);
    std::fs::create_dir_all(&side.objects).expect("mkdir");
    let log = side.project.path().join("calls.log");
    let braid = |args: &[&str]| side.braid_logged(&log, args);
    // Each call of `call` in the log since the last count.
    let count = |call: &str| {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        std::fs::remove_file(&log).ok();
        text.lines()
            .filter(|l| l.split(' ').next() == Some(call))
            .count()
    };
    braid(&["init"]).success();
    count("");

    // api's configuration is known at plan time: its plan is not asked for again; web's
    // description is api's id, unknown until api exists: planned twice, as Terraform does.
    braid(&["apply", "--auto-approve"]).success();
    let text = std::fs::read_to_string(&log).expect("the call log");
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("ApplyResourceChange"))
            .count(),
        2,
        "{text}"
    );
    assert_eq!(count("PlanResourceChange"), 3, "{text}");
    let created = objects(&side.objects);
    // ApplyResourceChange got the planned private data of the plan it applied.
    assert_eq!(
        created["svc-api.json"]["_private"], "planned api generation 1",
        "{created:#?}"
    );
    assert_eq!(
        created["svc-web.json"]["description"],
        created["svc-api.json"]["id"]
    );
    braid(&["plan", "--detailed-exitcode"]).expect_code(0);
    count("");

    // An update applied in the same run: one plan of api, one of web (no change), and the
    // plan before applying api answered from the first.
    side.project.write(
        "braid.hcl",
        &braid_hcl(&side.objects, "\n    note = \"second\""),
    );
    braid(&["apply", "--auto-approve"]).success();
    assert_eq!(count("PlanResourceChange"), 2);
    let updated = objects(&side.objects);
    assert_eq!(updated["svc-api.json"]["description"], "second");
    assert_eq!(
        updated["svc-api.json"]["_private"], "planned api generation 2",
        "{updated:#?}"
    );

    // A saved plan applied by another process: that process plans the change again.
    side.project.write(
        "braid.hcl",
        &braid_hcl(&side.objects, "\n    note = \"third\""),
    );
    braid(&["plan", "--out", "third.json"]).success();
    count("");
    braid(&["apply", "third.json"]).success();
    assert_eq!(count("PlanResourceChange"), 1);
    assert_eq!(
        objects(&side.objects)["svc-api.json"]["description"],
        "third"
    );
}
