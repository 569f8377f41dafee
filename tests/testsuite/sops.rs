//! SOPS files in sources (issue #18): manifests, Helm values files and files read with
//! `sops_decrypt()` are decrypted in memory with age (keys as SOPS finds them), PGP (gpg in a
//! GnuPG home of the test's own, with SOPS's published test files) and AWS KMS (moto); their
//! values are applied to kubesim and masked in every plan; a changed file or a wrong key is
//! refused naming the file and the keys tried; `braid sops encrypt|decrypt|edit` make and
//! change the files, following `.sops.yaml` creation rules.

use std::path::Path;

use crate::common::{Project, Run, kubernetes_braid_hcl};
use braid_testkit::{KubeSim, MOTO_CREDENTIALS, MotoServer};

const SECRET_PATH: &str = "/api/v1/namespaces/shop/secrets/db";
const CONFIG: &str = "/api/v1/namespaces/shop/configmaps/web-config";

/// Secrets of this test's own.
struct Secrets {
    password: String,
    config: String,
    token: String,
}

impl Secrets {
    fn new() -> Secrets {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        Secrets {
            password: format!("pw-{}", &tag[..10]),
            config: format!("cfg-{}", &tag[10..20]),
            token: format!("tok-{}", &tag[20..30]),
        }
    }

    fn all(&self) -> [&str; 3] {
        [&self.password, &self.config, &self.token]
    }

    #[track_caller]
    fn assert_absent(&self, what: &str, text: &str) {
        for secret in self.all() {
            assert!(!text.contains(secret), "{secret} shows in {what}:\n{text}");
        }
    }
}

const HELM_SOURCE: &str = r#"source "web" {
  path = "charts/web"
  helm {
    namespace = "shop"
    values    = ["values.yaml", "values-${env.name}.yaml", "secrets-${env.name}.yaml"]
  }
}
source "secrets" { path = "secrets" }
"#;

const MAIN_HCL: &str = r#"resource "local_value" "queue" {
  input = { name = "jobs-${env.name}" }
}

locals {
  creds = jsondecode(sops_decrypt("creds.enc.json"))
}

resource "local_value" "api" {
  input = local.creds.api_token
}
"#;

/// The Helm fixture with a SOPS-encrypted values file, a SOPS-encrypted Secret manifest and
/// a JSON file read by `sops_decrypt()`, all encrypted with `braid sops encrypt` for the age
/// key of `key_file` as `.sops.yaml` says.
fn project(sim: &KubeSim, secrets: &Secrets, recipient: &str, key_file: &str) -> Project {
    let project = Project::fixture("helm/app");
    let base = kubernetes_braid_hcl(&sim.kubeconfig(), &["prod"], "");
    project.write(
        "braid.hcl",
        &base.replace("source \"apps\" { path = \"deploy\" }\n", HELM_SOURCE),
    );
    project.write("main.hcl", MAIN_HCL);
    project.write(
        "charts/web/secrets-prod.yaml",
        &format!("config:\n  DB_PASSWORD: {}\n", secrets.config),
    );
    project.write(
        "secrets/db.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\nstringData:\n  password: {}\n",
            secrets.password
        ),
    );
    project.write(
        "creds.enc.json",
        &format!("{{\"api_token\": \"{}\", \"user\": \"ci\"}}", secrets.token),
    );
    project.write(
        ".sops.yaml",
        &format!(
            "creation_rules:\n  - path_regex: ^secrets/.*\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: {recipient}\n  - age: {recipient}\n"
        ),
    );
    for file in [
        "charts/web/secrets-prod.yaml",
        "secrets/db.yaml",
        "creds.enc.json",
    ] {
        sops(&project, &["encrypt", "--in-place", file], key_file).success();
        let text = project.read(file);
        assert!(
            text.contains("ENC[AES256_GCM,") && text.contains(recipient),
            "{text}"
        );
        secrets.assert_absent(file, &text);
    }
    // The Secret's other fields stay readable (encrypted_regex of the first rule).
    assert!(project.read("secrets/db.yaml").contains("kind: Secret"));
    project
}

fn sops(project: &Project, args: &[&str], key_file: &str) -> Run {
    let mut all = vec!["sops"];
    all.extend_from_slice(args);
    project.braid_env(&all, &[("SOPS_AGE_KEY_FILE", key_file)])
}

fn prod(project: &Project, args: &[&str], key_file: &str) -> Run {
    let mut all = vec!["--env", "prod"];
    all.extend_from_slice(args);
    project.braid_env(&all, &[("SOPS_AGE_KEY_FILE", key_file)])
}

fn age_key(dir: &Path, name: &str) -> (String, String) {
    let (identity, recipient) = braid_keys::age_keys::generate();
    let path = dir.join(format!("{name}.txt"));
    std::fs::write(&path, format!("{identity}\n")).expect("write the key");
    (path.display().to_string(), recipient)
}

#[test]
fn sops_files_are_decrypted_applied_and_masked_everywhere() {
    let sim = KubeSim::start();
    let keys = braid_testkit::tempdir();
    let (key_file, recipient) = age_key(keys.path(), "ops");
    let secrets = Secrets::new();
    let project = project(&sim, &secrets, &recipient, &key_file);

    // Every format, and the logs of -vv.
    for format in [
        &[][..],
        &["--format", "json"][..],
        &["--format", "markdown"][..],
        &["-vv"][..],
    ] {
        let mut args = vec!["plan"];
        args.extend_from_slice(format);
        let plan = prod(&project, &args, &key_file);
        plan.success();
        secrets.assert_absent("the plan", &plan.all());
    }
    let human = prod(&project, &["plan"], &key_file);
    assert!(
        human.stdout.contains("k8s/core/Secret/shop/db") && human.stdout.contains("(sensitive"),
        "{}",
        human.stdout
    );

    let applied = prod(&project, &["apply", "--auto-approve"], &key_file);
    applied.success();
    secrets.assert_absent("the apply", &applied.all());
    let secret = sim.get(SECRET_PATH).expect("the Secret");
    let stored = secret["data"]["password"].as_str().unwrap_or_default();
    use base64::Engine;
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(stored)
            .expect("base64"),
        secrets.password.as_bytes(),
        "{secret:#}"
    );
    let config = sim.get(CONFIG).expect("the ConfigMap");
    assert_eq!(config["data"]["DB_PASSWORD"], secrets.config.as_str());
    // State holds them (it is what state is for); every view masks them.
    let pulled = prod(&project, &["state", "pull"], &key_file);
    assert!(pulled.stdout.contains(&secrets.token), "{}", pulled.stdout);
    for args in [&["show"][..], &["history"][..], &["plan"][..]] {
        let run = prod(&project, args, &key_file);
        run.success();
        secrets.assert_absent(&args.join(" "), &run.all());
    }

    // `braid sops decrypt` and `edit`.
    let decrypted = sops(&project, &["decrypt", "secrets/db.yaml"], &key_file);
    decrypted.success();
    assert!(
        decrypted.stdout.contains(&secrets.password),
        "{}",
        decrypted.stdout
    );
    let editor = keys.path().join("editor.sh");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\nsed -i 's/{}/rotated-pw-1/' \"$1\"\n",
            secrets.password
        ),
    )
    .expect("write the editor");
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    let before = project.read("secrets/db.yaml");
    let edited = project.braid_env(
        &["sops", "edit", "secrets/db.yaml"],
        &[
            ("SOPS_AGE_KEY_FILE", key_file.as_str()),
            ("EDITOR", &editor.display().to_string()),
        ],
    );
    edited.success();
    let after = project.read("secrets/db.yaml");
    assert!(
        !after.contains("rotated-pw-1") && after != before,
        "{after}"
    );
    let age_block = |text: &str| {
        text.lines()
            .skip_while(|l| !l.contains("BEGIN AGE ENCRYPTED FILE"))
            .take(4)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        age_block(&before),
        age_block(&after),
        "the data key is kept"
    );
    let planned = prod(&project, &["plan"], &key_file);
    planned.success();
    assert!(
        planned.stdout.contains("k8s/core/Secret/shop/db"),
        "{}",
        planned.stdout
    );
    assert!(
        !planned.stdout.contains("rotated-pw-1"),
        "{}",
        planned.stdout
    );
}

#[test]
fn a_changed_file_or_a_wrong_key_is_refused_naming_the_file_and_keys() {
    let sim = KubeSim::start();
    let keys = braid_testkit::tempdir();
    let (key_file, recipient) = age_key(keys.path(), "ops");
    let secrets = Secrets::new();
    let project = project(&sim, &secrets, &recipient, &key_file);

    let (other_file, _) = age_key(keys.path(), "stranger");
    let wrong = prod(&project, &["plan"], &other_file);
    wrong.expect_code(1);
    assert!(
        wrong.stderr.contains("Cannot decrypt SOPS file")
            && wrong.stderr.contains("db.yaml")
            && wrong.stderr.contains(&format!("age recipient {recipient}"))
            && wrong.stderr.contains("SOPS_AGE_KEY_FILE"),
        "{}",
        wrong.all()
    );
    let none = project.braid(&["--env", "prod", "plan"]);
    none.expect_code(1);
    assert!(none.stderr.contains("no age identity"), "{}", none.all());

    // One encrypted value moved onto another key: refused, nothing applied.
    let text = project.read("secrets/db.yaml");
    let tampered = text.replacen("password: ENC[", "passwd: ENC[", 1);
    assert_ne!(text, tampered);
    project.write("secrets/db.yaml", &tampered);
    let refused = prod(&project, &["apply", "--auto-approve"], &key_file);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("Cannot decrypt SOPS file")
            && refused.stderr.contains("changed after it was encrypted"),
        "{}",
        refused.all()
    );
    assert!(sim.get(SECRET_PATH).is_none());
    secrets.assert_absent("the refusal", &refused.all());
}

/// SOPS's own published test file, encrypted by the real sops for its PGP test key, read
/// through gpg with the key in a GnuPG home of the test's own.
#[test]
fn pgp_files_made_by_sops_decrypt_through_gpg() {
    let home = braid_testkit::tempdir();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/sops/tests/fixtures");
    let import = std::process::Command::new("gpg")
        .env("GNUPGHOME", home.path())
        .args(["--batch", "--quiet", "--import"])
        .arg(fixtures.join("sops_functional_tests_key.asc"))
        .output()
        .unwrap_or_else(|e| panic!("gpg is needed by this test (apt-get install gnupg): {e}"));
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let project = Project::with_files(&[
        ("braid.hcl", "source \"infra\" { path = \".\" }\n"),
        (
            "main.hcl",
            "resource \"local_value\" \"foo\" {\n  input = jsondecode(sops_decrypt(\"format.enc.json\")).foo\n}\n",
        ),
    ]);
    std::fs::copy(
        fixtures.join("format.enc.json"),
        project.join("format.enc.json"),
    )
    .expect("copy the fixture");
    let gnupg = home.path().display().to_string();
    let applied = project.braid_env(&["apply", "--auto-approve"], &[("GNUPGHOME", &gnupg)]);
    applied.success();
    let pulled = project.braid_env(&["state", "pull"], &[("GNUPGHOME", &gnupg)]);
    assert!(
        pulled.stdout.contains("\"input\": \"bar\""),
        "{}",
        pulled.stdout
    );
    // The plan masks it: sops_decrypt() is sensitive.
    let plan = project.braid_env(&["plan", "--format", "json"], &[("GNUPGHOME", &gnupg)]);
    plan.success();
    assert!(!plan.stdout.contains("\"bar\""), "{}", plan.stdout);

    // Without the key in the keyring: the PGP key and gpg's answer are named.
    let empty = braid_testkit::tempdir();
    let refused = project.braid_env(
        &["plan"],
        &[("GNUPGHOME", &empty.path().display().to_string())],
    );
    refused.expect_code(1);
    assert!(
        refused
            .stderr
            .contains("PGP key FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4")
            && refused.stderr.contains("format.enc.json"),
        "{}",
        refused.all()
    );
}

#[test]
fn kms_encrypted_files_in_moto() {
    let moto = MotoServer::start();
    let (status, body) = moto.json_request("kms", "TrentService.CreateKey", "{}");
    assert_eq!(status, 200, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).expect("CreateKey's answer");
    let arn = created["KeyMetadata"]["Arn"]
        .as_str()
        .expect("an ARN")
        .to_string();
    let project = Project::with_files(&[
        ("braid.hcl", "source \"infra\" { path = \".\" }\n"),
        (
            "main.hcl",
            "resource \"local_value\" \"db\" {\n  input = yamldecode(sops_decrypt(\"db.enc.json\")).password\n}\n",
        ),
        ("db.enc.json", "{\"password\": \"kms-protected-1\"}"),
    ]);
    let endpoint = moto.endpoint();
    let mut env: Vec<(&str, &str)> = MOTO_CREDENTIALS.to_vec();
    env.extend([
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
    ]);
    project
        .braid_env(
            &[
                "sops",
                "encrypt",
                "--kms",
                &arn,
                "--in-place",
                "db.enc.json",
            ],
            &env,
        )
        .success();
    let text = project.read("db.enc.json");
    assert!(
        text.contains(&arn) && !text.contains("kms-protected-1"),
        "{text}"
    );
    project
        .braid_env(&["apply", "--auto-approve"], &env)
        .success();
    let pulled = project.braid_env(&["state", "pull"], &env);
    assert!(
        pulled.stdout.contains("kms-protected-1"),
        "{}",
        pulled.stdout
    );

    // Credentials for another region, where the key does not exist: the KMS key is named.
    let mut elsewhere = env.clone();
    elsewhere.retain(|(k, _)| *k != "AWS_REGION");
    elsewhere.push(("AWS_REGION", "eu-west-1"));
    let mut text_other_region = text.clone();
    text_other_region = text_other_region.replace(":us-east-1:", ":eu-west-1:");
    project.write("db.enc.json", &text_other_region);
    let refused = project.braid_env(&["plan"], &elsewhere);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("AWS KMS Decrypt with key")
            && refused.stderr.contains("db.enc.json"),
        "{}",
        refused.all()
    );
}
