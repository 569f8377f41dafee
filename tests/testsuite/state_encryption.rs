//! State encryption at rest (issue #18): with `state { encryption { ... } }` no byte braid
//! writes — the state database or objects or rows, snapshots, saved plans, history documents,
//! caches — holds a secret of the state in plain text, on SQLite, Postgres and S3, with age
//! recipients or a KMS key (moto). State is refused without the key (nothing written), or
//! when it is encrypted but the block is gone; `braid state encrypt` migrates a plaintext
//! state and `braid state rekey` moves it to other keys.

use std::path::{Path, PathBuf};

use base64::Engine;

use crate::common::{Project, Run};

const MAIN_HCL: &str = r#"variable "db_password" {
  type      = string
  sensitive = true
}

variable "api_token" {
  type = string
}

variable "rev" {
  type    = string
  default = "1"
}

resource "local_value" "db" {
  input = { password = var.db_password, rev = var.rev }
}

# Not marked sensitive: it shows in plans and in the history's diffs.
resource "local_value" "api" {
  input = "${var.api_token}-${var.rev}"
}

output "db_password" {
  value     = var.db_password
  sensitive = true
}

output "token" {
  value = local_value.api.output
}
"#;

/// Two secrets of this test's own, and the variables that pass them.
struct Secrets {
    password: String,
    token: String,
}

impl Secrets {
    fn new() -> Secrets {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        Secrets {
            password: format!("pw{}", &tag[..16]),
            token: format!("tk{}", &tag[16..]),
        }
    }

    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("BRAID_VAR_db_password", self.password.clone()),
            ("BRAID_VAR_api_token", self.token.clone()),
        ]
    }

    /// Every form a secret could be written in: as it is, and base64 (of the value alone).
    fn needles(&self) -> Vec<Vec<u8>> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut out = Vec::new();
        for secret in [&self.password, &self.token] {
            out.push(secret.as_bytes().to_vec());
            out.push(b64.encode(secret).into_bytes());
        }
        out
    }

    /// Which of `needles` `bytes` holds, named by `what`.
    fn found_in(&self, what: &str, bytes: &[u8]) -> Vec<String> {
        self.needles()
            .iter()
            .filter(|needle| bytes.windows(needle.len()).any(|w| w == needle.as_slice()))
            .map(|needle| format!("{} in {what}", String::from_utf8_lossy(needle)))
            .collect()
    }

    /// Searches every file under `dir` (skipping provider packages in the cache).
    fn found_under(&self, dir: &Path) -> Vec<String> {
        let mut found = Vec::new();
        for file in files_under(dir) {
            if file.components().any(|c| c.as_os_str() == "plugins") {
                continue;
            }
            if let Ok(bytes) = std::fs::read(&file) {
                found.extend(self.found_in(&file.display().to_string(), &bytes));
            }
        }
        found
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// An age key pair in a file outside the project: (file, recipient).
fn age_key(dir: &Path, name: &str) -> (String, String) {
    let (identity, recipient) = braid_keys::age_keys::generate();
    let path = dir.join(format!("{name}.txt"));
    std::fs::write(&path, format!("# public key: {recipient}\n{identity}\n"))
        .expect("write the key file");
    (path.display().to_string(), recipient)
}

#[derive(Clone, Copy, Debug)]
enum Backend {
    Sqlite,
    Postgres,
    S3,
}

/// A project whose one environment keeps its state on `backend`, encrypted with
/// `encryption` (the inside of the block; `None`: not encrypted).
struct Setup {
    project: Project,
    backend: Backend,
    env: String,
    prefix: String,
    secrets: Secrets,
    keys: tempfile::TempDir,
}

impl Setup {
    fn new(backend: Backend) -> Setup {
        let tag = &uuid::Uuid::new_v4().simple().to_string()[..10];
        let setup = Setup {
            project: Project::with_files(&[("main.hcl", MAIN_HCL)]),
            backend,
            env: format!("enc{tag}"),
            prefix: format!("enc-{tag}/"),
            secrets: Secrets::new(),
            keys: braid_testkit::tempdir(),
        };
        setup.configure(None);
        setup
    }

    fn configure(&self, encryption: Option<&str>) {
        let backend = match self.backend {
            Backend::Sqlite => String::new(),
            Backend::Postgres => {
                "    backend = \"postgres\"\n    url = env(\"BRAID_STATE_URL\")\n".to_string()
            }
            Backend::S3 => format!(
                "    backend = \"s3\"\n    bucket = \"{}\"\n    prefix = \"{}\"\n    endpoint = \"{}\"\n",
                braid_testkit::MotoServer::SHARED_BUCKET,
                self.prefix,
                braid_testkit::MotoServer::shared().endpoint()
            ),
        };
        let encryption = encryption
            .map(|inside| format!("    encryption {{\n      {inside}\n    }}\n"))
            .unwrap_or_default();
        self.project.write(
            "braid.hcl",
            &format!(
                "source \"infra\" {{ path = \".\" }}\n\nenvironment \"{}\" {{\n  state {{\n{backend}{encryption}  }}\n}}\n",
                self.env
            ),
        );
    }

    fn run(&self, args: &[&str], identity_file: Option<&str>) -> Run {
        let mut env: Vec<(&str, String)> = self.secrets.vars();
        match self.backend {
            Backend::Sqlite => {}
            Backend::Postgres => {
                env.push((
                    "BRAID_STATE_URL",
                    braid_testkit::Postgres::shared().url.clone(),
                ));
            }
            Backend::S3 => {
                env.extend(
                    braid_testkit::MOTO_CREDENTIALS
                        .iter()
                        .map(|(k, v)| (*k, v.to_string())),
                );
                env.push(("AWS_REGION", "us-east-1".to_string()));
            }
        }
        if let Some(file) = identity_file {
            env.push(("BRAID_AGE_IDENTITY_FILE", file.to_string()));
        }
        let mut full = vec!["--env", self.env.as_str()];
        full.extend(args);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.project.braid_env(&full, &env)
    }

    /// Every byte braid wrote for this environment: the project directory (state files,
    /// snapshots, plan files), braid's cache, and the backend's rows or objects.
    fn leaks(&self) -> Vec<String> {
        let mut found = self.secrets.found_under(self.project.path());
        found.extend(
            self.secrets.found_under(
                &Path::new(env!("CARGO_TARGET_TMPDIR"))
                    .join("xdg-cache")
                    .join("braid"),
            ),
        );
        match self.backend {
            Backend::Sqlite => {}
            Backend::Postgres => {
                let rows = braid_testkit::Postgres::shared().dump();
                // The dump holds this environment's rows (so the search is not of nothing).
                assert!(
                    rows.windows(self.env.len())
                        .any(|w| w == self.env.as_bytes()),
                    "the Postgres dump has no row of {}",
                    self.env
                );
                found.extend(self.secrets.found_in("the Postgres rows", &rows));
            }
            Backend::S3 => {
                for (key, body) in s3_objects(&self.prefix) {
                    found.extend(self.secrets.found_in(&format!("s3 object {key}"), &body));
                }
            }
        }
        found
    }
}

/// Every object under `prefix` of the shared bucket, read with boto3.
fn s3_objects(prefix: &str) -> Vec<(String, Vec<u8>)> {
    let moto = braid_testkit::MotoServer::shared();
    let script = format!(
        r#"
import base64, boto3, json
s3 = boto3.client("s3", endpoint_url="{endpoint}", region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
out = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket="{bucket}", Prefix="{prefix}"):
    for obj in page.get("Contents", []):
        body = s3.get_object(Bucket="{bucket}", Key=obj["Key"])["Body"].read()
        out.append([obj["Key"], base64.b64encode(body).decode()])
print(json.dumps(out))
"#,
        endpoint = moto.endpoint(),
        bucket = braid_testkit::MotoServer::SHARED_BUCKET,
    );
    let out = braid_testkit::MotoServer::python()
        .args(["-c", &script])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Vec<(String, String)> = serde_json::from_slice(&out.stdout).expect("json");
    assert!(!list.is_empty(), "no S3 objects under {prefix}");
    list.into_iter()
        .map(|(key, body)| {
            (
                key,
                base64::engine::general_purpose::STANDARD
                    .decode(body)
                    .expect("base64"),
            )
        })
        .collect()
}

/// Applies twice (a saved plan, then a change), reads back, and finds no secret anywhere;
/// then a wrong key and a missing block are refused and change nothing.
fn encrypted_state_keeps_secrets_out_of_every_byte(backend: Backend) {
    let setup = Setup::new(backend);
    let (key_file, recipient) = age_key(setup.keys.path(), "ops");
    setup.configure(Some(&format!("age_recipients = [\"{recipient}\"]")));
    let key = Some(key_file.as_str());

    setup.run(&["plan", "--out", "plan.json"], key).success();
    let plan_file = setup.project.read("plan.json");
    assert!(plan_file.starts_with("braid-enc:v1:"), "{plan_file}");
    let shown = setup.run(&["show", "plan.json"], key);
    shown.success();
    assert!(shown.stdout.contains("local_value.api"), "{}", shown.all());
    setup.run(&["apply", "plan.json"], key).success();
    setup
        .run(&["apply", "--auto-approve", "--var", "rev=2"], key)
        .success();

    // What state holds, decrypted: both secrets, so the search below can find them.
    let pulled = setup.run(&["state", "pull"], key);
    pulled.success();
    assert!(
        pulled.stdout.contains(&setup.secrets.password)
            && pulled.stdout.contains(&setup.secrets.token),
        "{}",
        pulled.all()
    );
    let output = setup.run(&["output", "token"], key);
    output.success();
    assert!(
        output
            .stdout
            .contains(&format!("{}-2", setup.secrets.token)),
        "{}",
        output.all()
    );
    let history = setup.run(&["history"], key);
    history.success();
    setup
        .run(&["plan", "--var", "rev=2", "--detailed-exitcode"], key)
        .success();

    let leaks = setup.leaks();
    assert!(
        leaks.is_empty(),
        "secrets written in plain text: {leaks:#?}"
    );

    // Another key: refused, naming what was tried; nothing is written.
    let (other_file, _) = age_key(setup.keys.path(), "stranger");
    let before = setup.run(&["state", "pull"], key).stdout;
    let refused = setup.run(
        &["apply", "--auto-approve", "--var", "rev=3"],
        Some(&other_file),
    );
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("Cannot decrypt state")
            && refused.stderr.contains("BRAID_AGE_IDENTITY_FILE")
            && refused.stderr.contains("none of them is a recipient"),
        "{}",
        refused.all()
    );
    let no_key = setup.run(&["plan"], None);
    no_key.expect_code(1);
    assert!(
        no_key.stderr.contains("no age identity"),
        "{}",
        no_key.all()
    );
    // The block removed: encrypted state is not mistaken for values.
    setup.configure(None);
    let unconfigured = setup.run(&["plan"], key);
    unconfigured.expect_code(1);
    assert!(
        unconfigured.stderr.contains("is encrypted, but")
            && unconfigured.stderr.contains("no encryption block"),
        "{}",
        unconfigured.all()
    );
    setup.configure(Some(&format!("age_recipients = [\"{recipient}\"]")));
    assert_eq!(setup.run(&["state", "pull"], key).stdout, before);
}

#[test]
fn encrypted_sqlite_state_keeps_secrets_out_of_every_byte() {
    encrypted_state_keeps_secrets_out_of_every_byte(Backend::Sqlite);
}

#[test]
fn encrypted_postgres_state_keeps_secrets_out_of_every_byte() {
    encrypted_state_keeps_secrets_out_of_every_byte(Backend::Postgres);
}

#[test]
fn encrypted_s3_state_keeps_secrets_out_of_every_byte() {
    encrypted_state_keeps_secrets_out_of_every_byte(Backend::S3);
}

#[test]
fn a_plaintext_state_is_encrypted_once_and_rekeyed_to_other_keys() {
    let setup = Setup::new(Backend::Sqlite);
    setup.run(&["apply", "--auto-approve"], None).success();
    setup
        .run(&["apply", "--auto-approve", "--var", "rev=2"], None)
        .success();
    // Plain text: the search finds the secrets in the state file and the snapshots.
    let leaks = setup.leaks();
    assert!(
        leaks.iter().any(|l| l.contains(".db")) && leaks.iter().any(|l| l.contains("snapshots")),
        "{leaks:#?}"
    );

    let (old_file, old) = age_key(setup.keys.path(), "old");
    setup.configure(Some(&format!("age_recipients = [\"{old}\"]")));
    let refused = setup.run(&["plan"], Some(&old_file));
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("is not encrypted")
            && refused.stderr.contains("braid state encrypt"),
        "{}",
        refused.all()
    );
    let encrypted = setup.run(&["state", "encrypt"], Some(&old_file));
    encrypted.success();
    assert!(
        encrypted.stdout.contains("Encrypted state serial")
            && encrypted.stdout.contains(&old)
            && encrypted.stdout.contains("snapshots on this machine"),
        "{}",
        encrypted.all()
    );
    let leaks = setup.leaks();
    assert!(
        leaks.is_empty(),
        "plain text left after braid state encrypt: {leaks:#?}"
    );
    setup
        .run(
            &["plan", "--var", "rev=2", "--detailed-exitcode"],
            Some(&old_file),
        )
        .success();

    // Rotate to a new key: the old one reads, the new one is written for.
    let (new_file, new) = age_key(setup.keys.path(), "new");
    setup.configure(Some(&format!("age_recipients = [\"{new}\"]")));
    setup.run(&["state", "rekey"], Some(&old_file)).success();
    let stale = setup.run(&["plan", "--var", "rev=2"], Some(&old_file));
    stale.expect_code(1);
    assert!(
        stale.stderr.contains("Cannot decrypt state"),
        "{}",
        stale.all()
    );
    setup
        .run(
            &["plan", "--var", "rev=2", "--detailed-exitcode"],
            Some(&new_file),
        )
        .success();
    // The snapshots were re-encrypted too: the new key restores one.
    setup
        .run(
            &["state", "restore", "--snapshot", "latest"],
            Some(&new_file),
        )
        .success();
    setup
        .run(&["plan", "--var", "rev=2"], Some(&new_file))
        .success();
    assert!(setup.leaks().is_empty(), "{:#?}", setup.leaks());

    // Without a block, rekey says what to add.
    setup.configure(None);
    let no_block = setup.run(&["state", "rekey"], Some(&new_file));
    no_block.expect_code(1);
    assert!(
        no_block.stderr.contains("No encryption block") && no_block.stderr.contains("braid.hcl:"),
        "{}",
        no_block.all()
    );
}

#[test]
fn state_encrypted_with_a_kms_key_in_moto() {
    let moto = braid_testkit::MotoServer::start();
    let (status, body) = moto.json_request("kms", "TrentService.CreateKey", "{}");
    assert_eq!(status, 200, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).expect("CreateKey's answer");
    let key_id = created["KeyMetadata"]["KeyId"]
        .as_str()
        .expect("a key id")
        .to_string();

    let setup = Setup::new(Backend::Sqlite);
    setup.configure(Some(&format!(
        "kms_key_id = \"{key_id}\"\n      kms_endpoint = \"{}\"",
        moto.endpoint()
    )));
    let creds: Vec<(&str, &str)> = braid_testkit::MOTO_CREDENTIALS
        .iter()
        .copied()
        .chain([("AWS_REGION", "us-east-1")])
        .collect();
    let run = |args: &[&str]| {
        let mut env: Vec<(&str, String)> = setup.secrets.vars();
        env.extend(creds.iter().map(|(k, v)| (*k, v.to_string())));
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut full = vec!["--env", setup.env.as_str()];
        full.extend(args);
        setup.project.braid_env(&full, &env)
    };
    run(&["apply", "--auto-approve"]).success();
    run(&["plan", "--detailed-exitcode"]).success();
    assert!(setup.leaks().is_empty(), "{:#?}", setup.leaks());

    // The key looked for in another region, where it does not exist: refused with KMS's
    // answer, and nothing is written.
    let before = run(&["state", "pull"]).stdout;
    setup.configure(Some(&format!(
        "kms_key_id = \"{key_id}\"\n      kms_region = \"eu-west-1\"\n      kms_endpoint = \"{}\"",
        moto.endpoint()
    )));
    let refused = run(&["apply", "--auto-approve", "--var", "rev=3"]);
    refused.expect_code(1);
    assert!(
        refused.stderr.contains("Cannot decrypt state")
            && refused.stderr.contains("AWS KMS Decrypt with key")
            && refused.stderr.contains(&key_id),
        "{}",
        refused.all()
    );
    setup.configure(Some(&format!(
        "kms_key_id = \"{key_id}\"\n      kms_endpoint = \"{}\"",
        moto.endpoint()
    )));
    assert_eq!(run(&["state", "pull"]).stdout, before);
}
