//! `braid init` installing Terraform provider plugins: from a provider registry served on
//! 127.0.0.1 (service discovery through the CLI configuration's `host` block, the versions
//! list, the download description, the archive checked against `SHA256SUMS` signed with a
//! key `gpg` made for the test), from a network mirror, into a shared cache; the lock file's
//! `h1:`/`zh:` hashes; `--upgrade`; and refusals — a changed cached binary, a bad signature,
//! an archive that does not match its checksum, a path outside the package.
//!
//! The package served is a small one: a script that runs the real `terraform-provider-aws`
//! from the test mirror, so the downloaded plugin really serves `braid plan`.

use std::io::Write as _;
use std::process::Command;

use braid_testkit::{HttpFiles, terraform_aws_provider};
use sha2::{Digest as _, Sha256};

use crate::common::Project;

const HOST: &str = "registry.example.com";

fn platform() -> (&'static str, &'static str) {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    (std::env::consts::OS, arch)
}

fn executable_name(version: &str) -> String {
    format!("terraform-provider-aws_v{version}_x5")
}

/// A provider package: one executable that starts the real aws provider.
fn package_zip(version: &str, extra: Option<&str>) -> Vec<u8> {
    let script = format!(
        "#!/bin/sh\nexec '{}' \"$@\"\n",
        terraform_aws_provider().display()
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
    zip.start_file(executable_name(version), options)
        .expect("zip entry");
    zip.write_all(script.as_bytes()).expect("zip write");
    if let Some(name) = extra {
        zip.start_file(name, options).expect("zip entry");
        zip.write_all(b"x").expect("zip write");
    }
    zip.finish().expect("zip").into_inner()
}

/// The `h1:` hash of a package holding the one executable of [`package_zip`], computed
/// here from its definition (SHA-256 over `HEX  NAME\n` lines, base64).
fn expected_h1(version: &str) -> String {
    use base64::Engine as _;
    let script = format!(
        "#!/bin/sh\nexec '{}' \"$@\"\n",
        terraform_aws_provider().display()
    );
    let line = format!(
        "{}  {}\n",
        hex::encode(Sha256::digest(script.as_bytes())),
        executable_name(version)
    );
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(line.as_bytes()))
    )
}

/// A signing key made by `gpg` in a keyring of the test's own.
struct Signer {
    home: tempfile::TempDir,
    /// gpg's `--faked-system-time`, for a key that is expired now.
    clock: Option<String>,
}

impl Signer {
    fn new() -> Signer {
        Signer::made(None)
    }

    /// A key that expired in 2020: made and used with gpg's clock set to then.
    fn expired() -> Signer {
        Signer::made(Some("20200101T000000"))
    }

    fn made(clock: Option<&str>) -> Signer {
        let home = braid_testkit::tempdir();
        let signer = Signer {
            home,
            clock: clock.map(str::to_string),
        };
        signer.gpg(&[
            "--passphrase",
            "",
            "--quick-gen-key",
            "braid test registry <registry@example.com>",
            "ed25519",
            "sign",
            if signer.clock.is_some() {
                "1d"
            } else {
                "never"
            },
        ]);
        signer
    }

    fn gpg(&self, args: &[&str]) -> Vec<u8> {
        let mut command = Command::new("gpg");
        command.env("GNUPGHOME", self.home.path()).args([
            "--batch",
            "--yes",
            "--pinentry-mode",
            "loopback",
        ]);
        if let Some(clock) = &self.clock {
            command.args(["--faked-system-time", clock]);
        }
        let out = command
            .args(args)
            .output()
            .expect("gpg runs (scripts/test.sh installs gnupg)");
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    fn armor(&self) -> String {
        String::from_utf8(self.gpg(&["--armor", "--export"])).expect("ASCII armor")
    }

    fn sign(&self, data: &[u8]) -> Vec<u8> {
        let file = self.home.path().join("to-sign");
        std::fs::write(&file, data).expect("write");
        let sig = self.home.path().join("to-sign.sig");
        let _ = std::fs::remove_file(&sig);
        self.gpg(&[
            "--passphrase",
            "",
            "--detach-sign",
            "-o",
            sig.to_str().expect("utf-8"),
            file.to_str().expect("utf-8"),
        ]);
        std::fs::read(&sig).expect("signature")
    }
}

impl Drop for Signer {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.home.path())
            .args(["--kill", "all"])
            .status();
    }
}

/// Publishes `version` of acme/aws in the registry; `zip` is what the download URL serves
/// (the package, or a damaged one), `sums_zip` what SHA256SUMS vouches for.
fn publish(
    server: &HttpFiles,
    signer: &Signer,
    versions: &[&str],
    version: &str,
    zip: &[u8],
    sums_zip: &[u8],
) {
    let (os, arch) = platform();
    let listing: Vec<serde_json::Value> = versions
        .iter()
        .map(|v| serde_json::json!({"version": v, "protocols": ["5.0"], "platforms": [{"os": os, "arch": arch}]}))
        .collect();
    server.put(
        "/v1/providers/acme/aws/versions",
        serde_json::json!({ "versions": listing }).to_string(),
    );
    let filename = format!("terraform-provider-aws_{version}_{os}_{arch}.zip");
    let other = format!("terraform-provider-aws_{version}_darwin_arm64.zip");
    let sums = format!(
        "{}  {other}\n{}  {filename}\n",
        hex::encode(Sha256::digest(b"another platform")),
        hex::encode(Sha256::digest(sums_zip))
    );
    server.put(&format!("/files/{filename}"), zip.to_vec());
    server.put(&format!("/files/{version}_SHA256SUMS"), sums.clone());
    server.put(
        &format!("/files/{version}_SHA256SUMS.sig"),
        signer.sign(sums.as_bytes()),
    );
    server.put(
        &format!("/v1/providers/acme/aws/{version}/download/{os}/{arch}"),
        serde_json::json!({
            "protocols": ["5.0"],
            "os": os,
            "arch": arch,
            "filename": filename,
            "download_url": format!("/files/{filename}"),
            "shasums_url": format!("/files/{version}_SHA256SUMS"),
            "shasums_signature_url": format!("/files/{version}_SHA256SUMS.sig"),
            "shasum": hex::encode(Sha256::digest(sums_zip)),
            "signing_keys": {"gpg_public_keys": [{"key_id": "TESTKEY", "ascii_armor": signer.armor()}]},
        })
        .to_string(),
    );
}

const MAIN_TF: &str = r#"
terraform {
  required_providers {
    aws = {
      source  = "registry.example.com/acme/aws"
      version = "~> 5.100"
    }
  }
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

resource "aws_cloudwatch_log_group" "app" {
  name              = "braid-app"
  retention_in_days = 7
}
"#;

struct Setup {
    project: Project,
    cache: tempfile::TempDir,
    cli_config: String,
}

impl Setup {
    fn new(cli_config: &str) -> Setup {
        let project = Project::with_files(&[("main.tf", MAIN_TF)]);
        let cache = braid_testkit::tempdir();
        let path = project.join("terraform.rc");
        std::fs::write(&path, cli_config).expect("write the CLI configuration");
        Setup {
            project,
            cache,
            cli_config: path.display().to_string(),
        }
    }

    fn braid(&self, args: &[&str]) -> crate::common::Run {
        let cache = self.cache.path().display().to_string();
        self.project.braid_env(
            args,
            &[
                ("TF_CLI_CONFIG_FILE", self.cli_config.as_str()),
                ("BRAID_PLUGIN_CACHE_DIR", cache.as_str()),
                ("BRAID_PLUGIN_DIR", ""),
            ],
        )
    }

    fn cached(&self, version: &str) -> std::path::PathBuf {
        let (os, arch) = platform();
        self.cache
            .path()
            .join(format!("{HOST}/acme/aws/{version}/{os}_{arch}"))
            .join(executable_name(version))
    }
}

fn registry_config(server: &HttpFiles) -> String {
    format!(
        "host \"{HOST}\" {{\n  services = {{\n    \"providers.v1\" = \"{}/v1/providers/\"\n  }}\n}}\n",
        server.url()
    )
}

fn downloads(server: &HttpFiles) -> usize {
    server
        .requests()
        .iter()
        .filter(|p| p.ends_with(".zip"))
        .count()
}

#[test]
fn init_downloads_from_a_registry_locks_verifies_and_upgrades() {
    let server = HttpFiles::start();
    let signer = Signer::new();
    let v1 = package_zip("5.100.0", None);
    publish(&server, &signer, &["5.100.0"], "5.100.0", &v1, &v1);
    let setup = Setup::new(&registry_config(&server));

    // Before init nothing is installed: the run says what to do.
    let plan = setup.braid(&["plan"]);
    plan.failure();
    assert!(plan.stderr.contains("Run braid init"), "{}", plan.all());

    let init = setup.braid(&["init"]);
    init.success();
    assert!(
        init.stdout.contains(
            "- Selected aws: registry.example.com/acme/aws 5.100.0 for \"~> 5.100\" (downloaded from its registry, checksums signed by"
        ),
        "{}",
        init.all()
    );
    assert!(setup.cached("5.100.0").is_file(), "unpacked into the cache");
    let lock = setup.project.read(".braid.lock.hcl");
    let zh = format!("zh:{}", hex::encode(Sha256::digest(&v1)));
    let other = format!("zh:{}", hex::encode(Sha256::digest(b"another platform")));
    let expected = format!(
        "provider \"registry.example.com/acme/aws\" {{\n  version     = \"5.100.0\"\n  constraints = \"~> 5.100\"\n  hashes = [\n    \"{}\",\n    \"{}\",\n    \"{}\",\n  ]\n}}\n",
        expected_h1("5.100.0"),
        // zh: hashes sorted as text, as Terraform sorts them.
        zh.clone().min(other.clone()),
        zh.max(other)
    );
    assert!(lock.ends_with(&expected), "{lock}\n---\n{expected}");
    assert_eq!(downloads(&server), 1);

    // The downloaded plugin serves the run.
    let plan = setup.braid(&["plan"]);
    plan.success();
    assert!(plan.stdout.contains("Plan: 1 to add"), "{}", plan.all());

    // Again: the locked version from the cache, nothing downloaded, the lock unchanged.
    let init = setup.braid(&["--format", "json", "init"]);
    let doc = init.success().json();
    assert_eq!(doc["plugins"][0]["origin"], "cache");
    assert_eq!(doc["plugins"][0]["was_locked"], true);
    assert_eq!(downloads(&server), 1);
    assert_eq!(setup.project.read(".braid.lock.hcl"), lock);

    // CI of an untrusted change: only what the lock file pins, and it never changes. A
    // constraint that would change it is refused before anything is asked of the network.
    setup.braid(&["init", "-lockfile=readonly"]).success();
    let asked = server.requests().len();
    setup.project.edit(
        "main.tf",
        "version = \"~> 5.100\"",
        "version = \">= 5.100\"",
    );
    let readonly = setup.braid(&["init", "--lockfile", "readonly"]);
    readonly.expect_code(1);
    assert!(
        readonly.stderr.contains("Lock file would change")
            && readonly.stderr.contains("now says \">= 5.100\""),
        "{}",
        readonly.all()
    );
    assert_eq!(server.requests().len(), asked, "the network was asked");
    assert_eq!(setup.project.read(".braid.lock.hcl"), lock);
    setup.project.edit(
        "main.tf",
        "version = \">= 5.100\"",
        "version = \"~> 5.100\"",
    );

    // A newer version is published: init keeps the locked one; --upgrade takes it.
    let v2 = package_zip("5.101.0", None);
    publish(
        &server,
        &signer,
        &["5.100.0", "5.101.0"],
        "5.101.0",
        &v2,
        &v2,
    );
    let init = setup.braid(&["init"]);
    init.success();
    assert!(
        init.stdout
            .contains("Using locked aws: registry.example.com/acme/aws 5.100.0"),
        "{}",
        init.all()
    );
    let init = setup.braid(&["init", "--upgrade"]);
    init.success();
    assert!(
        init.stdout
            .contains("Selected aws: registry.example.com/acme/aws 5.101.0"),
        "{}",
        init.all()
    );
    let lock = setup.project.read(".braid.lock.hcl");
    assert!(lock.contains("version     = \"5.101.0\""), "{lock}");
    assert!(lock.contains(&expected_h1("5.101.0")), "{lock}");

    // Someone swaps the cached binary: every run refuses it, naming the lock file.
    let binary = setup.cached("5.101.0");
    std::fs::write(&binary, "#!/bin/sh\necho pwned\n").expect("tamper");
    let plan = setup.braid(&["plan"]);
    plan.expect_code(1);
    assert!(
        plan.stderr
            .contains("does not match any hash .braid.lock.hcl records"),
        "{}",
        plan.all()
    );
    // init does not trust the cache: it downloads the package again, checks it against the
    // lock file, and puts it back.
    let before = downloads(&server);
    setup.braid(&["init"]).success();
    assert_eq!(downloads(&server), before + 1);
    setup.braid(&["plan"]).success();

    // The registry re-releases 5.101.0 with other contents (properly signed): the lock file
    // refuses it, with or without --upgrade, and nothing of it reaches the cache.
    let changed = package_zip("5.101.0", Some("extra"));
    publish(
        &server,
        &signer,
        &["5.100.0", "5.101.0"],
        "5.101.0",
        &changed,
        &changed,
    );
    std::fs::remove_dir_all(binary.parent().expect("package dir")).expect("empty the cache");
    for args in [&["init"][..], &["init", "--upgrade"][..]] {
        let init = setup.braid(args);
        init.expect_code(1);
        assert!(
            init.stderr
                .contains("does not match any hash .braid.lock.hcl records"),
            "{}",
            init.all()
        );
        assert!(!binary.exists(), "an unchecked package reached the cache");
    }
    assert_eq!(setup.project.read(".braid.lock.hcl"), lock);
}

#[test]
fn init_refuses_bad_signatures_damaged_archives_and_paths_outside_the_package() {
    let server = HttpFiles::start();
    let signer = Signer::new();
    let good = package_zip("5.100.0", None);

    // SHA256SUMS signed by a key the registry does not name.
    let stranger = Signer::new();
    publish(&server, &stranger, &["5.100.0"], "5.100.0", &good, &good);
    let (os, arch) = platform();
    let description = format!("/v1/providers/acme/aws/5.100.0/download/{os}/{arch}");
    let mut doc: serde_json::Value =
        serde_json::from_slice(&server.file(&description).expect("published")).expect("JSON");
    doc["signing_keys"]["gpg_public_keys"][0]["ascii_armor"] = signer.armor().into();
    server.put(&description, doc.to_string());
    let setup = Setup::new(&registry_config(&server));
    let init = setup.braid(&["init"]);
    init.expect_code(1);
    assert!(init.stderr.contains("does not verify"), "{}", init.all());
    assert!(!setup.project.exists(".braid.lock.hcl"));
    assert!(!setup.cached("5.100.0").exists());

    // Signed with a key that has expired (gpg still says VALIDSIG for it).
    let expired = Signer::expired();
    publish(&server, &expired, &["5.100.0"], "5.100.0", &good, &good);
    let init = setup.braid(&["init"]);
    init.expect_code(1);
    assert!(
        init.stderr.contains("does not verify") && init.stderr.contains("EXPKEYSIG"),
        "{}",
        init.all()
    );
    assert!(!setup.cached("5.100.0").exists());

    // The archive differs from what the signed checksums name.
    let damaged = package_zip("5.100.0", Some("extra"));
    publish(&server, &signer, &["5.100.0"], "5.100.0", &damaged, &good);
    let init = setup.braid(&["init"]);
    init.expect_code(1);
    assert!(
        init.stderr.contains("the download was changed or damaged"),
        "{}",
        init.all()
    );
    assert!(!setup.cached("5.100.0").exists());

    // A signed archive with an entry that climbs out of the package.
    let escaping = package_zip("5.100.0", Some("../../escaped"));
    publish(
        &server,
        &signer,
        &["5.100.0"],
        "5.100.0",
        &escaping,
        &escaping,
    );
    let init = setup.braid(&["init"]);
    init.expect_code(1);
    assert!(
        init.stderr.contains("a path outside the package"),
        "{}",
        init.all()
    );
    assert!(!setup.cached("5.100.0").exists());
    assert!(!setup.cache.path().join(HOST).join("acme/escaped").exists());

    // No version meets the constraints.
    publish(&server, &signer, &["4.0.0"], "4.0.0", &good, &good);
    let init = setup.braid(&["init"]);
    init.expect_code(1);
    assert!(
        init.stderr.contains("meets \"~> 5.100\"; available: 4.0.0"),
        "{}",
        init.all()
    );
    init.assert_no_panic();
}

#[test]
fn init_installs_from_a_network_mirror() {
    let server = HttpFiles::start();
    let zip = package_zip("5.100.0", None);
    let (os, arch) = platform();
    let name = format!("terraform-provider-aws_5.100.0_{os}_{arch}.zip");
    server.put(
        &format!("/mirror/{HOST}/acme/aws/index.json"),
        r#"{"versions": {"5.100.0": {}}}"#,
    );
    server.put(
        &format!("/mirror/{HOST}/acme/aws/5.100.0.json"),
        serde_json::json!({"archives": {format!("{os}_{arch}"): {"url": name, "hashes": [expected_h1("5.100.0")]}}}).to_string(),
    );
    server.put(&format!("/mirror/{HOST}/acme/aws/{name}"), zip.clone());
    let setup = Setup::new(&format!(
        "provider_installation {{\n  network_mirror {{\n    url = \"{}/mirror/\"\n  }}\n}}\n",
        server.url()
    ));
    let init = setup.braid(&["init"]);
    init.success();
    assert!(
        init.stdout.contains("downloaded from the network mirror"),
        "{}",
        init.all()
    );
    let lock = setup.project.read(".braid.lock.hcl");
    assert!(lock.contains(&expected_h1("5.100.0")), "{lock}");
    assert!(
        lock.contains(&format!("zh:{}", hex::encode(Sha256::digest(&zip)))),
        "{lock}"
    );
    setup.braid(&["validate"]).success();

    // A mirror listing a hash the package does not have is refused.
    let other = Setup::new(&std::fs::read_to_string(&setup.cli_config).expect("read"));
    server.put(
        &format!("/mirror/{HOST}/acme/aws/5.100.0.json"),
        serde_json::json!({"archives": {format!("{os}_{arch}"): {"url": name, "hashes": ["h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]}}}).to_string(),
    );
    let init = other.braid(&["init"]);
    init.expect_code(1);
    assert!(
        init.stderr.contains("which the mirror does not list"),
        "{}",
        init.all()
    );
}

#[test]
fn braid_hcl_names_plugin_directories_and_the_cache() {
    let project = Project::with_files(&[
        ("main.tf", MAIN_TF),
        (
            "braid.hcl",
            "source \"infra\" { path = \".\" }\nenvironment \"dev\" {}\n\nplugins {\n  dirs      = [\"vendor/plugins\"]\n  cache_dir = \"plugin-cache\"\n}\n",
        ),
    ]);
    // A vendored package in Terraform's unpacked layout, beside the configuration.
    let (os, arch) = platform();
    let package = project.join(&format!(
        "vendor/plugins/{HOST}/acme/aws/5.100.0/{os}_{arch}"
    ));
    std::fs::create_dir_all(&package).expect("mkdir");
    let zip = package_zip("5.100.0", None);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("zip");
    let mut entry = archive.by_index(0).expect("entry");
    let executable = package.join(executable_name("5.100.0"));
    let mut out = std::fs::File::create(&executable).expect("create");
    std::io::copy(&mut entry, &mut out).expect("unpack");
    drop(out);
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&executable, std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
    }
    // No CLI configuration and no registry: only braid.hcl says where the plugin is.
    let empty = project.join("empty.rc");
    std::fs::write(&empty, "").expect("write");
    let env = [
        ("TF_CLI_CONFIG_FILE", empty.to_str().expect("UTF-8")),
        ("BRAID_PLUGIN_DIR", ""),
        ("BRAID_PLUGIN_CACHE_DIR", ""),
    ];
    let init = project.braid_env(&["--env", "dev", "init"], &env);
    init.success();
    assert!(
        init.stdout.contains("5.100.0 for \"~> 5.100\" (found in ")
            && init.stdout.contains("vendor/plugins"),
        "{}",
        init.all()
    );
    assert!(
        project
            .read(".braid.lock.hcl")
            .contains(&expected_h1("5.100.0")),
        "{}",
        project.read(".braid.lock.hcl")
    );
    let plan = project.braid_env(&["--env", "dev", "plan"], &env);
    plan.success();
    assert!(plan.stdout.contains("Plan: 1 to add"), "{}", plan.all());

    // A plugins block that is not what braid expects is an error at its place.
    project.write(
        "braid.hcl",
        "source \"infra\" { path = \".\" }\nenvironment \"dev\" {}\n\nplugins {\n  dirs = \"vendor/plugins\"\n}\n",
    );
    let bad = project.braid_env(&["--env", "dev", "init"], &env);
    bad.expect_code(1);
    assert!(
        bad.stderr
            .contains("\"dirs\" must be a list of directory paths")
            && bad.stderr.contains("braid.hcl:5"),
        "{}",
        bad.all()
    );
}
