//! Helpers shared by the CLI integration tests: fixture projects copied into temporary
//! directories, a runner for the real `braid` binary, and a normalizer that makes its output
//! stable enough for snapshots.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::LazyLock;

use regex::Regex;
use tempfile::TempDir;

/// The directory holding the fixture projects.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
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

fn tempdir() -> TempDir {
    tempfile::Builder::new()
        .prefix("braid-test-")
        .tempdir()
        .expect("create temporary directory")
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
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_braid"));
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
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
            )
        {
            cmd.env_remove(&key);
        }
    }
    cmd.env("NO_COLOR", "1").env("BRAID_ACTOR", "test-actor");
    for (key, value) in env {
        cmd.env(key, value);
    }
    let output = cmd.output().expect("run the braid binary");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
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
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests")
            .join("snapshots"),
    );
    settings.set_prepend_module_to_snapshot(true);
    settings.set_omit_expression(true);
    settings
}

/// A git repository in a temporary directory, built with the real `git` command (as
/// gitoxide's own fixtures are): the reference implementation braid's git sources must agree
/// with.
pub struct GitRepo {
    dir: TempDir,
}

impl GitRepo {
    /// An empty repository whose first branch is `main`.
    pub fn init() -> GitRepo {
        let repo = GitRepo { dir: tempdir() };
        repo.git(&["init", "--quiet", "--initial-branch=main", "."]);
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The path as braid.hcl would write it (forward slashes).
    pub fn hcl_path(&self) -> String {
        self.path().display().to_string().replace('\\', "/")
    }

    /// Runs git in the repository with a fixed identity and no user or system config;
    /// returns stdout, trimmed. Panics when git fails.
    #[track_caller]
    pub fn git(&self, args: &[&str]) -> String {
        git_in(self.path(), args)
    }

    /// Writes a file of the work tree, creating its parent directories.
    pub fn write(&self, rel: &str, text: &str) {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create repository directory");
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Stages everything and commits; returns the new commit's SHA.
    #[track_caller]
    pub fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "--all"]);
        self.git(&["commit", "--quiet", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }
}

/// Runs git in `dir` with a fixed identity and no user or system config; returns stdout,
/// trimmed. Panics when git fails.
#[track_caller]
pub fn git_in(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.com")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.com")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
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

/// A kubesim server (the Kubernetes API emulator) on its own tokio runtime, for tests that
/// run the braid binary against it over real HTTP. Out-of-band changes — what kubectl,
/// controllers or people would do — go through [`KubeSim::request`] and friends.
pub struct KubeSim {
    server: Option<kubesim::Server>,
    runtime: tokio::runtime::Runtime,
}

impl KubeSim {
    /// A fresh server with a short controller delay (objects become ready after 100 ms).
    pub fn start() -> KubeSim {
        KubeSim::start_with(kubesim::Config {
            ready_delay: std::time::Duration::from_millis(100),
            ..kubesim::Config::default()
        })
    }

    pub fn start_with(config: kubesim::Config) -> KubeSim {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime for kubesim");
        let server = runtime
            .block_on(kubesim::Server::start(config))
            .expect("kubesim starts on an ephemeral port");
        KubeSim {
            server: Some(server),
            runtime,
        }
    }

    pub fn server(&self) -> &kubesim::Server {
        self.server.as_ref().expect("server runs until drop")
    }

    /// The kubeconfig kubesim wrote (in its own temporary directory, outside any project:
    /// every YAML file in a source is read as a manifest).
    pub fn kubeconfig(&self) -> String {
        self.server()
            .kubeconfig_path()
            .display()
            .to_string()
            .replace('\\', "/")
    }

    pub fn faults(&self) -> &kubesim::FaultInjector {
        self.server().faults()
    }

    /// The API requests served so far, oldest first.
    pub fn requests(&self) -> Vec<kubesim::RequestRecord> {
        self.server().requests()
    }

    /// One HTTP request to the emulator; returns the status and the body as JSON (`null`
    /// when empty or not JSON).
    #[track_caller]
    pub fn request(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Option<&str>,
    ) -> (u16, serde_json::Value) {
        http_request(self.server().address(), method, path, content_type, body)
    }

    /// The object at an API path (`/apis/apps/v1/namespaces/shop/deployments/web`), or
    /// `None` when the server answers 404.
    #[track_caller]
    pub fn get(&self, path: &str) -> Option<serde_json::Value> {
        let (status, body) = self.request("GET", path, "application/json", None);
        match status {
            200 => Some(body),
            404 => None,
            other => panic!("GET {path}: unexpected status {other}: {body}"),
        }
    }

    /// Creates an object with a plain POST to a collection path, as `manager`.
    #[track_caller]
    pub fn create(&self, collection: &str, manager: &str, object: &serde_json::Value) {
        let path = format!("{collection}?fieldManager={manager}");
        let (status, body) =
            self.request("POST", &path, "application/json", Some(&object.to_string()));
        assert_eq!(status, 201, "POST {collection}: {body}");
    }

    /// A server-side apply of `object` at `path` as `manager` (with `force`), as
    /// `kubectl apply --server-side --force-conflicts --field-manager=MANAGER` would do.
    #[track_caller]
    pub fn apply_as(&self, path: &str, manager: &str, object: &serde_json::Value) {
        let path = format!("{path}?fieldManager={manager}&force=true");
        let (status, body) = self.request(
            "PATCH",
            &path,
            "application/apply-patch+yaml",
            Some(&object.to_string()),
        );
        assert!(
            status == 200 || status == 201,
            "apply {path}: {status} {body}"
        );
    }

    /// A JSON merge patch as `manager` (an `Update` in managedFields, like `kubectl edit`).
    #[track_caller]
    pub fn merge_patch(&self, path: &str, manager: &str, patch: &serde_json::Value) {
        let path = format!("{path}?fieldManager={manager}");
        let (status, body) = self.request(
            "PATCH",
            &path,
            "application/merge-patch+json",
            Some(&patch.to_string()),
        );
        assert_eq!(status, 200, "merge patch {path}: {body}");
    }
}

impl Drop for KubeSim {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.shutdown());
        }
    }
}

/// A minimal blocking HTTP/1.1 client (kubesim speaks plain HTTP on 127.0.0.1); one
/// connection per request.
#[track_caller]
pub fn http_request(
    address: std::net::SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: Option<&str>,
) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).expect("connect to kubesim");
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAccept: application/json\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send request to kubesim");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .expect("read kubesim response");
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, rest) = response
        .split_once("\r\n\r\n")
        .unwrap_or((response.as_str(), ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let text = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || tail.len() < size {
            break;
        }
        out.push_str(&tail[..size]);
        rest = tail[size..].trim_start_matches("\r\n");
    }
    out
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

/// Credentials and settings for braid runs against moto_server.
pub const AWS_TEST_ENV: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// moto_server (the AWS emulator from PyPI) on a free 127.0.0.1 port, stopped on drop.
/// Found through `BRAID_MOTO_SERVER`, PATH or the virtualenv scripts/test.sh makes.
pub struct MotoServer {
    child: std::process::Child,
    port: u16,
}

impl MotoServer {
    /// A running moto_server, or `None` (with the reason printed) when it is not installed;
    /// under CI (`CI` set) a missing moto_server is a failure instead.
    pub fn start() -> Option<MotoServer> {
        use std::time::{Duration, Instant};
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let candidates = std::env::var_os("BRAID_MOTO_SERVER")
            .map(PathBuf::from)
            .into_iter()
            .chain(
                std::env::var_os("PATH")
                    .map(|p| {
                        std::env::split_paths(&p)
                            .map(|d| d.join("moto_server"))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default(),
            )
            .chain(home.map(|h| h.join(".cache/braid-venv/bin/moto_server")))
            .chain([PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server")]);
        let Some(binary) = candidates.into_iter().find(|p| p.is_file()) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "moto_server not found under CI: run scripts/test.sh or set BRAID_MOTO_SERVER"
            );
            eprintln!(
                "skipping: moto_server not found (set BRAID_MOTO_SERVER or run scripts/test.sh)"
            );
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut server = MotoServer { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("moto_server exited at start with {status}");
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not start within 60s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(server)
    }

    /// `http://127.0.0.1:PORT`, for `provider "aws" { endpoint = ... }`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One request to `service`: moto routes by the credential scope of the Authorization
    /// header and does not check the signature. Returns the status and body.
    pub fn request_to(&self, service: &str, method: &str, path: &str) -> (u16, String) {
        use std::io::{Read, Write};
        let mut stream =
            std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect to moto");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: AWS4-HMAC-SHA256 \
             Credential=testing/20240101/us-east-1/{service}/aws4_request, SignedHeaders=host, \
             Signature=0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .expect("send request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read response");
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
