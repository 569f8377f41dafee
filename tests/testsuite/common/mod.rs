//! Helpers shared by the CLI integration tests: fixture projects copied into temporary
//! directories, a runner for the real `braid` binary, and a normalizer that makes its output
//! stable enough for snapshots. The servers and git repositories they run against come from
//! `braid-testkit`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::LazyLock;

use braid_testkit::tempdir;
use regex::Regex;
use tempfile::TempDir;

/// The repository's directory as cargo gives it when it runs the tests (not as compiled in:
/// a target directory shared by two checkouts may hold a binary built in the other one).
pub fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The directory holding the fixture projects.
pub fn fixtures_dir() -> PathBuf {
    manifest_dir().join("tests").join("fixtures")
}

/// The `braid.hcl` most inline projects use: this directory as the only source, one
/// environment `dev`.
pub const BRAID_HCL: &str = "source \"infra\" { path = \".\" }\n\nenvironment \"dev\" {}\n";

/// A project in a temporary directory; braid runs with it as the working directory, so
/// `out/` files, `.braid/state` and saved plans all stay inside it.
pub struct Project {
    dir: TempDir,
}

/// What one braid run left behind.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with both streams unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn success(&self) -> &Self {
        self.expect_code(0)
    }

    /// An error exit: code 1, and no Rust panic anywhere.
    #[track_caller]
    pub fn failure(&self) -> &Self {
        self.expect_code(1);
        self.assert_no_panic();
        self
    }

    #[track_caller]
    pub fn assert_no_panic(&self) {
        for stream in [&self.stdout, &self.stderr] {
            assert!(
                !stream.contains("panicked") && !stream.contains("RUST_BACKTRACE"),
                "braid panicked:\n{stream}"
            );
        }
    }

    /// stdout followed by stderr, for assertions that do not care which stream.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// stdout parsed as one JSON document.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n--- stderr ---\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

impl Project {
    /// A copy of `tests/fixtures/<name>`.
    pub fn fixture(name: &str) -> Project {
        let dir = tempdir();
        copy_dir(&fixtures_dir().join(name), dir.path());
        Project { dir }
    }

    /// A project made of the given files (paths relative to the project directory).
    pub fn with_files(files: &[(&str, &str)]) -> Project {
        let project = Project { dir: tempdir() };
        for (path, text) in files {
            project.write(path, text);
        }
        project
    }

    /// A project with [`BRAID_HCL`] and one `main.hcl`.
    pub fn with_main(main_hcl: &str) -> Project {
        Project::with_files(&[("braid.hcl", BRAID_HCL), ("main.hcl", main_hcl)])
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes a file, creating its parent directories.
    pub fn write(&self, rel: &str, text: &str) {
        let path = self.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create fixture directory");
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    #[track_caller]
    pub fn read(&self, rel: &str) -> String {
        let path = self.join(rel);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.join(rel).exists()
    }

    /// Replaces `from` by `to` in a file; `from` must occur.
    #[track_caller]
    pub fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} does not contain {from:?}");
        self.write(rel, &text.replacen(from, to, 1));
    }

    /// Runs braid in the project directory.
    pub fn braid(&self, args: &[&str]) -> Run {
        self.braid_env(args, &[])
    }

    /// Runs braid in the project directory with extra environment variables.
    /// Runs braid here with `input` on its standard input.
    pub fn braid_stdin(&self, args: &[&str], input: &str) -> Run {
        run_braid_with_stdin(self.path(), args, &[], Some(input))
    }

    pub fn braid_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        run_braid(self.path(), args, env)
    }

    /// Replaces this project's directory in `text` by `[DIR]`, then [`normalize`]s it.
    pub fn normalize(&self, text: &str) -> String {
        normalize(text, self.path())
    }

    /// `braid [global...] state list`, one address per element.
    #[track_caller]
    pub fn state_list(&self, global: &[&str]) -> Vec<String> {
        let mut args = global.to_vec();
        args.extend(["state", "list"]);
        let run = self.braid(&args);
        run.success();
        run.stdout.lines().map(str::to_string).collect()
    }
}

/// Copies `from` into `to` recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create directory");
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy fixture file");
        }
    }
}

/// Runs the braid binary in `dir` with a clean, deterministic environment: no colours, a
/// fixed actor, no `BRAID_VAR_*` or CI variables from the outside, stdin not a terminal.
pub fn run_braid(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    run_braid_with_stdin(dir, args, env, None)
}

/// [`run_braid`] with `stdin` as the standard input (a pipe, not a terminal).
pub fn run_braid_with_stdin(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&str>,
) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_braid"));
    cmd.args(args)
        .current_dir(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    isolate(&mut cmd, env);
    let output = match stdin {
        None => cmd.output().expect("run the braid binary"),
        Some(input) => {
            let mut child = cmd.spawn().expect("start the braid binary");
            if let Some(mut pipe) = child.stdin.take() {
                use std::io::Write;
                pipe.write_all(input.as_bytes())
                    .expect("write braid's stdin");
            }
            child.wait_with_output().expect("wait for braid")
        }
    };
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// [`run_braid`] on a pseudo-terminal, as in a person's shell: `script` runs braid with a
/// terminal as its stdin and stdout. stdout and stderr come back together in `stdout`.
pub fn run_braid_on_terminal(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut line = quote(env!("CARGO_BIN_EXE_braid"));
    for arg in args {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    let mut cmd = Command::new("script");
    cmd.args(["--quiet", "--return", "--command", &line, "/dev/null"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("TERM", "xterm-256color");
    isolate(&mut cmd, env);
    let output = cmd
        .output()
        .expect("run braid under script (util-linux) for a pseudo-terminal");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The environment of a braid run in a test: no BRAID_ or CI variables of the machine
/// running the tests, no colour, a fixed actor, then `env`.
fn isolate(cmd: &mut Command, env: &[(&str, &str)]) {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().to_string();
        if key.starts_with("BRAID_")
            || matches!(
                key.as_str(),
                "GITHUB_ACTOR"
                    | "GITLAB_USER_LOGIN"
                    | "BUILDKITE_BUILD_CREATOR"
                    | "CI_ACTOR"
                    | "GITHUB_SERVER_URL"
                    | "GITHUB_REPOSITORY"
                    | "GITHUB_RUN_ID"
                    | "CI_JOB_URL"
                    | "BUILDKITE_BUILD_URL"
                    | "GITHUB_REF"
                    | "CI_COMMIT_TAG"
                    | "CI_COMMIT_BRANCH"
                    | "RUST_BACKTRACE"
                    | "RUST_LOG"
                    | "SOPS_AGE_KEY"
                    | "SOPS_AGE_KEY_FILE"
                    | "XDG_CONFIG_HOME"
            )
        {
            cmd.env_remove(&key);
        }
    }
    cmd.env("NO_COLOR", "1").env("BRAID_ACTOR", "test-actor");
    // braid's user cache (package hashes, provider schemas): the tests', not the user's.
    cmd.env(
        "XDG_CACHE_HOME",
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache"),
    );
    // User configuration (SOPS's default age keys file, Helm's repositories): none.
    cmd.env(
        "XDG_CONFIG_HOME",
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("xdg-config"),
    );
    for (key, value) in env {
        cmd.env(key, value);
    }
}

static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").expect("regex")
});
static DIGEST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"sha256:[0-9a-f]{6,64}").expect("regex"));
static SHA256: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b[0-9a-f]{64}\b").expect("regex"));
static SALT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""salt": "[0-9a-f]+""#).expect("regex"));
static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2}| UTC)?")
        .expect("regex")
});
static DURATION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"after \d+(\.\d+)?s").expect("regex"));
static TEMP_WRITE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\.braid-\d+-\d+\.tmp").expect("regex"));

/// Makes braid output stable: the project directory becomes `[DIR]`, uuids `[UUID]`,
/// `sha256:` digests `sha256:[DIGEST]`, other 64-hex SHA-256 values `[SHA256]`, plan salts
/// `[SALT]`, timestamps `[TIME]` and apply durations `after [DURATION]`.
pub fn normalize(text: &str, dir: &Path) -> String {
    let mut text = text.to_string();
    // The directory may appear as given or canonicalized (macOS /private/var, symlinks).
    let mut dirs = vec![dir.display().to_string()];
    if let Ok(canonical) = dir.canonicalize() {
        dirs.push(canonical.display().to_string());
    }
    dirs.sort_by_key(|d| std::cmp::Reverse(d.len()));
    for d in dirs {
        text = text.replace(&d, "[DIR]");
    }
    let text = UUID.replace_all(&text, "[UUID]");
    let text = DIGEST.replace_all(&text, "sha256:[DIGEST]");
    let text = SHA256.replace_all(&text, "[SHA256]");
    let text = SALT.replace_all(&text, "\"salt\": \"[SALT]\"");
    let text = TIMESTAMP.replace_all(&text, "[TIME]");
    let text = DURATION.replace_all(&text, "after [DURATION]");
    let text = TEMP_WRITE.replace_all(&text, ".braid-[PID].tmp");
    text.into_owned()
}

/// The addresses of a plan JSON's changes with the given action, sorted.
pub fn addresses_with_action(plan: &serde_json::Value, action: &str) -> Vec<String> {
    let mut out: Vec<String> = plan["changes"]
        .as_array()
        .expect("changes is an array")
        .iter()
        .filter(|c| c["action"] == action)
        .map(|c| c["address"].as_str().expect("address").to_string())
        .collect();
    out.sort();
    out
}

/// The change for `address` in a plan JSON.
#[track_caller]
pub fn change<'a>(plan: &'a serde_json::Value, address: &str) -> &'a serde_json::Value {
    plan["changes"]
        .as_array()
        .expect("changes is an array")
        .iter()
        .find(|c| c["address"] == address)
        .unwrap_or_else(|| panic!("no change for {address} in {plan:#}"))
}

/// Settings for insta: snapshots in `tests/snapshots`, no source-file suffix noise.
pub fn insta_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(
        crate::common::manifest_dir()
            .join("tests")
            .join("snapshots"),
    );
    settings.set_prepend_module_to_snapshot(true);
    settings.set_omit_expression(true);
    settings
}

/// Starts braid in `dir` in the background, with the same clean environment as
/// [`run_braid`]; the caller waits for or kills it. Its output goes to pipes nobody reads
/// until [`wait_braid`], so keep it short (`-q`) or the process blocks on a full pipe.
pub fn spawn_braid(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_braid"));
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().to_string();
        if key.starts_with("BRAID_") || key.starts_with("GITHUB_") || key == "CI_JOB_URL" {
            cmd.env_remove(&key);
        }
    }
    cmd.env("NO_COLOR", "1").env("BRAID_ACTOR", "test-actor");
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.spawn().expect("start the braid binary")
}

/// Waits for a background braid and collects what it printed.
pub fn wait_braid(child: std::process::Child) -> Run {
    let output = child.wait_with_output().expect("wait for braid");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A `braid.hcl` for a Kubernetes project: HCL resources in `.`, manifests in `deploy`, the
/// given environments (`name` or `name:overlay`), and the kubernetes provider pointed at
/// `kubeconfig`.
pub fn kubernetes_braid_hcl(kubeconfig: &str, environments: &[&str], extra: &str) -> String {
    let mut hcl = String::from(
        "source \"infra\" { path = \".\" }\nsource \"apps\" { path = \"deploy\" }\n\n",
    );
    for env in environments {
        match env.split_once(':') {
            Some((name, overlay)) => hcl.push_str(&format!(
                "environment \"{name}\" {{\n  overlay = \"{overlay}\"\n}}\n"
            )),
            None => hcl.push_str(&format!("environment \"{env}\" {{}}\n")),
        }
    }
    hcl.push_str(&format!(
        "\nprovider \"kubernetes\" {{\n  kubeconfig = \"{kubeconfig}\"\n}}\n{extra}"
    ));
    hcl
}

/// Writes `DIR/terraform.rc`, a Terraform CLI configuration whose only provider source is the
/// test mirror of `terraform-provider-aws` (as a team's CI sets one up), and returns its path
/// for `TF_CLI_CONFIG_FILE`.
pub fn mirror_cli_config(dir: &Path) -> String {
    let path = dir.join("terraform.rc");
    std::fs::write(
        &path,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n  }}\n}}\n",
            braid_testkit::terraform_plugin_mirror().display()
        ),
    )
    .expect("write the CLI configuration");
    path.display().to_string()
}

/// Runs `terraform` 1.11 (on PATH) in `dir` with the CLI configuration `rc` and returns its
/// output; its exit code must be one of `ok`.
pub fn terraform(dir: &Path, rc: &str, args: &[&str], ok: &[i32]) -> String {
    let out = Command::new("terraform")
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", rc)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .args(args)
        .arg("-no-color")
        .output()
        .expect("terraform 1.11 must be on PATH for this comparison");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        ok.contains(&out.status.code().unwrap_or(-1)),
        "terraform {args:?}: {text}"
    );
    text
}

/// The paths of the non-dry-run writes (server-side applies, deletes) `sim` served, in
/// order.
pub fn kube_writes(sim: &braid_testkit::KubeSim) -> Vec<String> {
    sim.requests()
        .into_iter()
        .filter(|r| {
            matches!(r.method.as_str(), "PATCH" | "POST" | "PUT" | "DELETE")
                && !r.query.contains("dryRun")
                && (200..300).contains(&r.status)
        })
        .map(|r| r.path)
        .collect()
}

/// One HTTP/1.1 request as the local test servers (webhook receivers, a fake forge API)
/// read it: header names in lower case.
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Reads one request from a test server's connection; `None` when it closed first.
pub fn read_http_request(
    reader: &mut std::io::BufReader<std::net::TcpStream>,
) -> Option<HttpRequest> {
    use std::io::{BufRead as _, Read as _};
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        head.push(line.trim_end().to_string());
    }
    let first = head.first()?;
    let mut parts = first.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = head[1..]
        .iter()
        .filter_map(|h| h.split_once(": "))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
        .collect();
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    Some(HttpRequest {
        method,
        path,
        headers,
        body,
    })
}

/// Answers a test server's request with `status` (`201 Created`) and a JSON `body`, and
/// closes the connection.
pub fn write_http_response(stream: &mut std::net::TcpStream, status: &str, body: &str) {
    use std::io::Write as _;
    let _ = stream.write_all(
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
}
