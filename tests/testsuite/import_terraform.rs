//! `braid state import-terraform`: a Terraform state adopted into an environment's state.
//!
//! The main test imports a state that the real terraform (1.11) and the real hashicorp/aws
//! provider (5.100.0) wrote against moto (tests/fixtures/import_terraform, made by
//! scripts/regen-import-terraform-fixture.sh), and checks that braid's plan of the same
//! `.tf` files against the same objects is empty. The others use hand-written states of the
//! same format with `local_file` resources, which need no emulator.

use serde_json::{Value, json};

use crate::common::{BRAID_HCL, Project, copy_dir, fixtures_dir};
use braid_testkit::{MOTO_CREDENTIALS, MotoServer};

fn moto_braid_hcl(moto: &MotoServer) -> String {
    format!(
        "source \"infra\" {{ path = \".\" }}\n\nenvironment \"dev\" {{}}\n\n\
         provider \"aws\" {{\n  region   = \"us-east-1\"\n  endpoint = \"{}\"\n}}\n",
        moto.endpoint()
    )
}

/// A project holding the fixture's `.tf` files, configured for `moto`.
fn moto_project(moto: &MotoServer) -> Project {
    let project = Project::with_files(&[("braid.hcl", &moto_braid_hcl(moto))]);
    copy_dir(
        &fixtures_dir().join("import_terraform/config"),
        project.path(),
    );
    project
}

#[test]
fn a_state_written_by_terraform_imports_and_the_next_plan_is_empty() {
    let moto = MotoServer::start();
    // The same objects, in a fresh moto: braid creates them from the same configuration in
    // a project of its own. Every name is fixed, so the ids are those Terraform recorded.
    let maker = moto_project(&moto);
    maker
        .braid_env(
            &["--env", "dev", "apply", "--auto-approve"],
            MOTO_CREDENTIALS,
        )
        .success();

    let project = moto_project(&moto);
    std::fs::copy(
        fixtures_dir().join("import_terraform/terraform.tfstate"),
        project.join("tf.json"),
    )
    .expect("copy the Terraform state");
    let imported = project.braid_env(
        &["--env", "dev", "state", "import-terraform", "tf.json"],
        MOTO_CREDENTIALS,
    );
    imported.success();
    assert!(
        imported.stdout.contains("Imported 14 resources:"),
        "{}",
        imported.all()
    );
    assert!(
        imported.stdout.contains("written by Terraform 1.11.4"),
        "{}",
        imported.all()
    );
    assert!(
        !imported.all().contains("tf-secret-Kx81"),
        "a sensitive value was printed:\n{}",
        imported.all()
    );

    let plan = project.braid_env(
        &["--env", "dev", "plan", "--detailed-exitcode"],
        MOTO_CREDENTIALS,
    );
    plan.expect_code(0);
    assert!(plan.stdout.contains("No changes."), "{}", plan.all());

    let addresses = project.state_list(&["--env", "dev"]);
    assert_eq!(
        addresses,
        [
            "aws_dynamodb_table.locks",
            "aws_ecr_repository.app",
            "aws_iam_policy.read_assets",
            "aws_iam_role.worker",
            "aws_iam_role_policy_attachment.worker_read_assets",
            "aws_s3_bucket.data[\"assets\"]",
            "aws_s3_bucket.data[\"logs\"]",
            "aws_s3_bucket_policy.assets",
            "aws_sns_topic.events",
            "aws_sqs_queue.jobs[0]",
            "aws_sqs_queue.jobs[1]",
            "aws_ssm_parameter.db_password",
            "module.channels[\"email\"].aws_sqs_queue.this",
            "module.channels[\"sms\"].aws_sqs_queue.this",
        ]
    );

    // What AWS does not report comes from Terraform's state: force_destroy = true.
    let bucket = project.braid_env(
        &[
            "--env",
            "dev",
            "--format",
            "json",
            "state",
            "show",
            "aws_s3_bucket.data[\"logs\"]",
        ],
        MOTO_CREDENTIALS,
    );
    bucket.success();
    assert_eq!(bucket.json()["force_destroy"], json!(true));
    // The parameter's value is sensitive in state too.
    let parameter = project.braid(&[
        "--env",
        "dev",
        "--format",
        "json",
        "state",
        "show",
        "aws_ssm_parameter.db_password",
    ]);
    parameter.success();
    assert_eq!(parameter.json()["value"], json!("(sensitive)"));

    // Outputs are Terraform's, the sensitive one masked.
    let outputs = project.braid(&["--env", "dev", "--format", "json", "output"]);
    outputs.success();
    let outputs = outputs.json();
    assert_eq!(
        outputs["bucket_names"]["value"],
        json!(["braid-tfimport-assets", "braid-tfimport-logs"])
    );
    assert_eq!(outputs["db_password"]["sensitive"], json!(true));
    assert_eq!(outputs["db_password"]["value"], json!("(sensitive)"));

    // One audited operation.
    let history = project.braid(&["--env", "dev", "--format", "json", "history"]);
    history.success();
    let history = history.json();
    assert_eq!(history[0]["operation"], json!("import-terraform"));
    assert_eq!(history[0]["summary"]["import"], json!(14));
    assert_eq!(history[0]["outcome"], json!("succeeded"));
}

/// A `local_file` instance as hashicorp/local writes it in state.
fn local_file_instance(filename: &str, content: &str) -> Value {
    json!({
        "schema_version": 0,
        "attributes": {
            "content": content,
            "content_base64": null,
            "directory_permission": "0755",
            "file_permission": "0644",
            "filename": filename,
            "id": "not-braids-id",
            "sensitive_content": null,
            "source": null
        },
        "sensitive_attributes": [],
        "private": "bnVsbA=="
    })
}

const LOCAL: &str = "provider[\"registry.terraform.io/hashicorp/local\"]";
const AWS: &str = "provider[\"registry.terraform.io/hashicorp/aws\"]";

fn resource(mode: &str, type_name: &str, name: &str, provider: &str, instances: Value) -> Value {
    json!({
        "mode": mode,
        "type": type_name,
        "name": name,
        "provider": provider,
        "instances": instances
    })
}

fn terraform_state(resources: Value, outputs: Value) -> String {
    serde_json::to_string_pretty(&json!({
        "version": 4,
        "terraform_version": "1.11.4",
        "serial": 7,
        "lineage": "5b2c7c9e-0000-4000-8000-000000000001",
        "outputs": outputs,
        "resources": resources,
        "check_results": null
    }))
    .expect("serializes")
}

const GREETING_TF: &str = "resource \"local_file\" \"greeting\" {\n  filename             = \"greeting.txt\"\n  content              = \"hello\"\n  file_permission      = \"0644\"\n  directory_permission = \"0755\"\n}\n";

/// A project declaring `local_file.greeting`, whose file exists, and a Terraform state
/// holding it.
fn local_project(extra_resources: &[Value]) -> Project {
    let project = Project::with_files(&[
        ("braid.hcl", BRAID_HCL),
        ("main.tf", GREETING_TF),
        ("greeting.txt", "hello"),
    ]);
    let mut resources = vec![resource(
        "managed",
        "local_file",
        "greeting",
        LOCAL,
        json!([local_file_instance("greeting.txt", "hello")]),
    )];
    resources.extend_from_slice(extra_resources);
    project.write(
        "tf.json",
        &terraform_state(
            Value::Array(resources),
            json!({"greeting_path": {"value": "greeting.txt", "type": "string"}}),
        ),
    );
    project
}

fn unserved() -> Vec<Value> {
    vec![
        resource(
            "managed",
            "aws_vpc",
            "main",
            AWS,
            json!([{"schema_version": 1, "attributes": {"id": "vpc-0a1b", "cidr_block": "10.0.0.0/16"}, "sensitive_attributes": []}]),
        ),
        resource(
            "managed",
            "google_storage_bucket",
            "media",
            "provider[\"registry.terraform.io/hashicorp/google\"]",
            json!([
                {"index_key": "eu", "schema_version": 0, "attributes": {"id": "media-eu"}, "sensitive_attributes": []},
                {"index_key": "us", "schema_version": 0, "attributes": {"id": "media-us"}, "sensitive_attributes": []}
            ]),
        ),
        resource(
            "data",
            "local_file",
            "readme",
            "provider[\"registry.terraform.io/hashicorp/local\"]",
            json!([{"schema_version": 0, "attributes": {"filename": "README"}, "sensitive_attributes": []}]),
        ),
    ]
}

#[test]
fn unsupported_state_versions_are_refused() {
    let project = Project::with_files(&[("braid.hcl", BRAID_HCL)]);
    project.write(
        "old.json",
        "{\"version\": 3, \"terraform_version\": \"0.11.14\", \"serial\": 2, \"modules\": []}",
    );
    let old = project.braid(&["state", "import-terraform", "old.json"]);
    old.failure();
    assert!(
        old.stderr.contains("Unsupported Terraform state version")
            && old.stderr.contains("format version 3"),
        "{}",
        old.stderr
    );
    project.write("new.json", "{\"version\": 5, \"resources\": []}");
    let new = project.braid(&["state", "import-terraform", "new.json"]);
    new.failure();
    assert!(new.stderr.contains("format version 5"), "{}", new.stderr);
    assert!(project.state_list(&[]).is_empty());
}

#[test]
fn malformed_json_is_reported_at_its_line_and_column() {
    let project = Project::with_files(&[("braid.hcl", BRAID_HCL)]);
    project.write(
        "tf.json",
        "{\n  \"version\": 4,\n  \"outputs\": {\"pw\": {\"value\": \"s3cret\" \"sensitive\": true}}\n}\n",
    );
    let run = project.braid(&["state", "import-terraform", "tf.json"]);
    run.failure();
    assert!(
        run.stderr.contains("Invalid Terraform state"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("tf.json:3:"), "{}", run.stderr);
    // The line is not quoted: state files hold secrets.
    assert!(!run.stderr.contains("s3cret"), "{}", run.stderr);
}

#[test]
fn unserved_types_refuse_the_import_unless_allow_partial() {
    let project = local_project(&unserved());
    let refused = project.braid(&["--env", "dev", "state", "import-terraform", "tf.json"]);
    refused.failure();
    assert!(
        refused.stderr.contains(
            "needs provider registry.terraform.io/hashicorp/aws for aws_vpc, which braid does not serve yet: aws_vpc.main"
        ),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains(
            "needs provider registry.terraform.io/hashicorp/google for google_storage_bucket"
        ) && refused
            .stderr
            .contains("google_storage_bucket.media[\"eu\"], google_storage_bucket.media[\"us\"]"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("--allow-partial"),
        "{}",
        refused.stderr
    );
    assert!(project.state_list(&["--env", "dev"]).is_empty());

    let partial = project.braid(&[
        "--env",
        "dev",
        "state",
        "import-terraform",
        "tf.json",
        "--allow-partial",
    ]);
    partial.success();
    assert!(
        partial.stdout.contains("Imported 1 resource:")
            && partial
                .stdout
                .contains("Not imported, braid does not serve them (3):")
            && partial.stdout.contains("Data sources: 1"),
        "{}",
        partial.stdout
    );
    assert_eq!(
        project.state_list(&["--env", "dev"]),
        ["local_file.greeting"]
    );
    // braid's own id (the SHA-256 of the content), not Terraform's.
    let list = project.braid(&["--env", "dev", "--format", "json", "state", "list"]);
    assert_eq!(
        list.json()[0]["id"],
        json!("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
    );
    project
        .braid(&["--env", "dev", "plan", "--detailed-exitcode"])
        .expect_code(0);
}

#[test]
fn aliased_providers_and_objects_that_no_longer_exist_are_left_out_only_with_allow_partial() {
    let gone = resource(
        "managed",
        "local_file",
        "gone",
        LOCAL,
        json!([local_file_instance("deleted-since.txt", "bye")]),
    );
    let aliased = resource(
        "managed",
        "local_file",
        "elsewhere",
        &format!("{LOCAL}.other"),
        json!([local_file_instance("greeting.txt", "hello")]),
    );
    let project = local_project(&[gone, aliased]);
    let refused = project.braid(&["--env", "dev", "state", "import-terraform", "tf.json"]);
    refused.failure();
    assert!(
        refused.stderr.contains(
            "uses the provider configuration local.other (an alias) for local_file, which braid.hcl does not declare: add provider \"local\" { alias = \"other\" ... }: local_file.elsewhere"
        ),
        "{}",
        refused.stderr
    );
    let refused = project.braid(&[
        "--env",
        "dev",
        "state",
        "import-terraform",
        "tf.json",
        "--allow-partial",
        "--dry-run",
    ]);
    refused.success();
    assert!(
        refused
            .stdout
            .contains("Not imported, the objects no longer exist (1): local_file.gone"),
        "{}",
        refused.stdout
    );
    // Without --allow-partial, a missing object refuses the import too.
    project.write(
        "only-gone.json",
        &terraform_state(
            json!([resource(
                "managed",
                "local_file",
                "gone",
                LOCAL,
                json!([local_file_instance("deleted-since.txt", "bye")])
            )]),
            json!({}),
        ),
    );
    let missing = project.braid(&[
        "--env",
        "dev",
        "state",
        "import-terraform",
        "only-gone.json",
    ]);
    missing.failure();
    assert!(
        missing.stderr.contains("Objects no longer exist")
            && missing
                .stderr
                .contains("local_file.gone (id not-braids-id)"),
        "{}",
        missing.stderr
    );
    assert!(project.state_list(&["--env", "dev"]).is_empty());

    // Once braid.hcl declares the alias, the object is imported with it.
    project.write(
        "braid.hcl",
        &format!("{BRAID_HCL}\nprovider \"local\" {{\n  alias = \"other\"\n}}\n"),
    );
    project
        .braid(&[
            "--env",
            "dev",
            "state",
            "import-terraform",
            "tf.json",
            "--allow-partial",
        ])
        .success();
    let pulled = project.braid(&["--env", "dev", "state", "pull"]);
    pulled.success();
    let imported = pulled.json()["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["address"] == "local_file.elsewhere")
        .cloned()
        .unwrap_or_else(|| panic!("not imported: {}", pulled.stdout));
    assert_eq!(imported["provider"], "local.other", "{imported:#}");
}

#[test]
fn addresses_already_in_state_are_refused_and_state_is_untouched() {
    let project = local_project(&[]);
    project
        .braid(&["--env", "dev", "state", "import-terraform", "tf.json"])
        .success();
    let before = project.braid(&["--env", "dev", "state", "pull"]);
    before.success();

    let again = project.braid(&["--env", "dev", "state", "import-terraform", "tf.json"]);
    again.failure();
    assert!(
        again.stderr.contains("Addresses already in state")
            && again
                .stderr
                .contains("local_file.greeting, output.greeting_path"),
        "{}",
        again.stderr
    );
    let after = project.braid(&["--env", "dev", "state", "pull"]);
    assert_eq!(before.json(), after.json(), "state changed");

    let forced = project.braid(&[
        "--env",
        "dev",
        "state",
        "import-terraform",
        "tf.json",
        "--force",
    ]);
    forced.success();
    assert!(
        forced.stdout.contains("(replaces the record in state)"),
        "{}",
        forced.stdout
    );
}

#[test]
fn a_dry_run_writes_nothing() {
    let project = local_project(&[]);
    let run = project.braid(&[
        "--env",
        "dev",
        "state",
        "import-terraform",
        "tf.json",
        "--dry-run",
    ]);
    run.success();
    assert!(
        run.stdout.contains("Would import 1 resource:")
            && run.stdout.contains("Dry run: nothing was written."),
        "{}",
        run.stdout
    );
    assert!(project.state_list(&["--env", "dev"]).is_empty());
    let outputs = project.braid(&["--env", "dev", "--format", "json", "output"]);
    assert_eq!(outputs.json(), json!({}));
    let history = project.braid(&["--env", "dev", "--format", "json", "history"]);
    assert_eq!(history.json(), json!([]));
}

#[test]
fn json_output_is_one_documented_document() {
    let project = local_project(&unserved());
    let run = project.braid(&[
        "--env",
        "dev",
        "--format",
        "json",
        "state",
        "import-terraform",
        "tf.json",
        "--allow-partial",
    ]);
    run.success();
    let doc = run.json();
    assert_eq!(
        doc,
        json!({
            "dry_run": false,
            "terraform": {
                "version": 4,
                "terraform_version": "1.11.4",
                "serial": 7,
                "lineage": "5b2c7c9e-0000-4000-8000-000000000001"
            },
            "imported": [{
                "address": "local_file.greeting",
                "type": "local_file",
                "provider": "local",
                "terraform_provider": "registry.terraform.io/hashicorp/local",
                "id": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
                "terraform_id": "not-braids-id",
                "replaced": false
            }],
            "not_imported": [
                {
                    "address": "aws_vpc.main",
                    "type": "aws_vpc",
                    "terraform_provider": "registry.terraform.io/hashicorp/aws",
                    "reason": "needs provider registry.terraform.io/hashicorp/aws for aws_vpc, which braid does not serve yet"
                },
                {
                    "address": "google_storage_bucket.media[\"eu\"]",
                    "type": "google_storage_bucket",
                    "terraform_provider": "registry.terraform.io/hashicorp/google",
                    "reason": "needs provider registry.terraform.io/hashicorp/google for google_storage_bucket, which braid does not serve yet"
                },
                {
                    "address": "google_storage_bucket.media[\"us\"]",
                    "type": "google_storage_bucket",
                    "terraform_provider": "registry.terraform.io/hashicorp/google",
                    "reason": "needs provider registry.terraform.io/hashicorp/google for google_storage_bucket, which braid does not serve yet"
                }
            ],
            "missing": [],
            "data_sources": 1,
            "outputs": [{"name": "greeting_path", "sensitive": false}],
            "serial": 1
        })
    );
}

#[test]
fn sensitive_values_are_never_printed() {
    let project = Project::with_files(&[
        ("braid.hcl", BRAID_HCL),
        (
            "main.tf",
            GREETING_TF.replace("hello", "pa55word-xyz").as_str(),
        ),
        ("greeting.txt", "pa55word-xyz"),
    ]);
    let mut instance = local_file_instance("greeting.txt", "pa55word-xyz");
    instance["sensitive_attributes"] = json!([[{"type": "get_attr", "value": "content"}]]);
    project.write(
        "tf.json",
        &terraform_state(
            json!([resource(
                "managed",
                "local_file",
                "greeting",
                LOCAL,
                json!([instance])
            )]),
            json!({"password": {"value": "pa55word-xyz", "type": "string", "sensitive": true}}),
        ),
    );
    for format in ["human", "json"] {
        let run = project.braid(&[
            "--env",
            "dev",
            "--format",
            format,
            "state",
            "import-terraform",
            "tf.json",
            "--dry-run",
        ]);
        run.success();
        assert!(!run.all().contains("pa55word-xyz"), "{}", run.all());
    }
    let run = project.braid(&["--env", "dev", "state", "import-terraform", "tf.json"]);
    run.success();
    assert!(!run.all().contains("pa55word-xyz"), "{}", run.all());
    assert!(
        run.stdout.contains("password (sensitive)"),
        "{}",
        run.stdout
    );
    let shown = project.braid(&["--env", "dev", "state", "show", "local_file.greeting"]);
    shown.success();
    assert!(!shown.stdout.contains("pa55word-xyz"), "{}", shown.stdout);
    let output = project.braid(&["--env", "dev", "output", "password"]);
    assert!(!output.stdout.contains("pa55word-xyz"), "{}", output.stdout);
}

#[test]
fn tainted_and_deposed_objects_are_refused() {
    let project = local_project(&[]);
    let mut tainted = local_file_instance("greeting.txt", "hello");
    tainted["status"] = json!("tainted");
    let mut deposed = local_file_instance("old.txt", "old");
    deposed["deposed"] = json!("4f1c2a3b");
    project.write(
        "tf.json",
        &terraform_state(
            json!([
                resource("managed", "local_file", "greeting", LOCAL, json!([tainted])),
                resource("managed", "local_file", "old", LOCAL, json!([deposed]))
            ]),
            json!({}),
        ),
    );
    let run = project.braid(&[
        "--env",
        "dev",
        "state",
        "import-terraform",
        "tf.json",
        "--allow-partial",
    ]);
    run.failure();
    assert!(
        run.stderr.contains("Tainted objects in Terraform state")
            && run.stderr.contains("local_file.greeting")
            && run.stderr.contains("terraform untaint"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Deposed objects in Terraform state")
            && run
                .stderr
                .contains("local_file.old (deposed object 4f1c2a3b)"),
        "{}",
        run.stderr
    );
    assert!(project.state_list(&["--env", "dev"]).is_empty());
}

#[test]
fn the_state_can_come_from_stdin_and_keys_and_modules_keep_terraforms_addresses() {
    let project = local_project(&[]);
    project.write("nested/a.txt", "a");
    let mut nested = resource(
        "managed",
        "local_file",
        "part",
        LOCAL,
        json!([{
            "index_key": "a \"quoted\" key",
            "schema_version": 0,
            "attributes": {"filename": "nested/a.txt", "content": "a", "id": "x"},
            "sensitive_attributes": []
        }]),
    );
    nested["module"] = json!("module.site[\"eu\"].module.files[0]");
    let state = terraform_state(json!([nested]), json!({}));
    let run = project.braid_stdin(&["--env", "dev", "state", "import-terraform", "-"], &state);
    run.success();
    assert_eq!(
        project.state_list(&["--env", "dev"]),
        ["module.site[\"eu\"].module.files[0].local_file.part[\"a \\\"quoted\\\" key\"]"]
    );
}
