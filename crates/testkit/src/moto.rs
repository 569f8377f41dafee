//! `moto_server`, the AWS emulator from PyPI, on a free 127.0.0.1 port.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use crate::process::{free_port, wait_for_port, watchdog};

/// Credentials moto accepts (it checks none), for the environment of whatever talks to it.
pub const MOTO_CREDENTIALS: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

/// A running `moto_server`, stopped when dropped (or, for [`MotoServer::shared`], when the
/// test binary exits).
///
/// Found through `BRAID_MOTO_SERVER`, `PATH`, the virtualenv scripts/test.sh makes
/// (`~/.cache/braid-venv`) or a `.venv` at the workspace root. When it is not there or does
/// not start, the test fails saying so.
pub struct MotoServer {
    child: Child,
    port: u16,
    log: PathBuf,
    _watchdog: ChildStdin,
}

impl MotoServer {
    /// A fresh server of the test's own.
    #[track_caller]
    pub fn start() -> MotoServer {
        let binary = find_moto_server().unwrap_or_else(|looked| {
            panic!(
                "moto_server (the AWS emulator) is needed by this test and was not found \
                 (looked in {looked}). scripts/test.sh installs it into ~/.cache/braid-venv \
                 (pip install 'moto[server]'); or set BRAID_MOTO_SERVER to its path."
            )
        });
        let port = free_port();
        let log = std::env::temp_dir().join(format!("braid-moto-{port}.log"));
        let log_file = std::fs::File::create(&log)
            .unwrap_or_else(|e| panic!("create moto_server's log {}: {e}", log.display()));
        let stderr = log_file
            .try_clone()
            .unwrap_or_else(|e| panic!("open moto_server's log {}: {e}", log.display()));
        let mut child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "moto_server at {} could not be started: {e}. scripts/test.sh installs \
                     it; or set BRAID_MOTO_SERVER to a working moto_server.",
                    binary.display()
                )
            });
        let watchdog = watchdog(
            r#"read _; kill "$1" 2>/dev/null; rm -f "$2""#,
            &[&child.id().to_string(), &log.display().to_string()],
        );
        let started = wait_for_port(port, Duration::from_secs(60), || match child.try_wait() {
            Ok(Some(status)) => Err(format!("it exited with {status}")),
            _ => Ok(()),
        });
        if let Err(why) = started {
            let _ = child.kill();
            let output = std::fs::read_to_string(&log).unwrap_or_default();
            panic!(
                "moto_server at {} did not start: {why}\n{output}",
                binary.display()
            );
        }
        MotoServer {
            child,
            port,
            log,
            _watchdog: watchdog,
        }
    }

    /// A bucket of the [`MotoServer::shared`] server, in us-east-1, for tests that keep
    /// state in S3 (each under a prefix of its own).
    pub const SHARED_BUCKET: &str = "braid-state-tests";

    /// One server for the whole test binary, started by the first test that asks, with
    /// [`MotoServer::SHARED_BUCKET`] created.
    #[track_caller]
    pub fn shared() -> &'static MotoServer {
        static SERVER: OnceLock<MotoServer> = OnceLock::new();
        SERVER.get_or_init(|| {
            let server = MotoServer::start();
            server.create_bucket(MotoServer::SHARED_BUCKET, "us-east-1");
            server
        })
    }

    /// A `python3` command that can `import boto3`: the interpreter installed beside
    /// `moto_server` (moto depends on boto3), else `python3` on PATH.
    pub fn python() -> std::process::Command {
        let beside = find_moto_server().ok().and_then(|moto| {
            let dir = moto.parent()?.to_path_buf();
            ["python3", "python"]
                .iter()
                .map(|name| dir.join(name))
                .find(|p| p.is_file())
        });
        std::process::Command::new(beside.unwrap_or_else(|| PathBuf::from("python3")))
    }

    /// `http://127.0.0.1:PORT`, for endpoints in configuration and SDK clients.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates an S3 bucket in `region`, as a team does once before keeping state in it.
    #[track_caller]
    pub fn create_bucket(&self, bucket: &str, region: &str) {
        // us-east-1 is S3's default region and takes no location constraint.
        let body = if region == "us-east-1" {
            String::new()
        } else {
            format!(
                "<CreateBucketConfiguration><LocationConstraint>{region}</LocationConstraint>\
                 </CreateBucketConfiguration>"
            )
        };
        let (status, response) = self.send("s3", region, "PUT", &format!("/{bucket}"), &body);
        assert_eq!(status, 200, "create bucket {bucket}: {response}");
    }

    /// One request to `service` in us-east-1; returns the status and the body.
    #[track_caller]
    pub fn request_to(&self, service: &str, method: &str, path: &str) -> (u16, String) {
        self.send(service, "us-east-1", method, path, "")
    }

    /// One request to `service` in `region`; returns the status and the body.
    #[track_caller]
    pub fn request_in(
        &self,
        region: &str,
        service: &str,
        method: &str,
        path: &str,
    ) -> (u16, String) {
        self.send(service, region, method, path, "")
    }

    /// One request of a JSON-protocol service (SSM, Secrets Manager, DynamoDB) in
    /// us-east-1: `target` is the operation (`AmazonSSM.GetParameter`), `body` its JSON
    /// input; returns the status and the body.
    #[track_caller]
    pub fn json_request(&self, service: &str, target: &str, body: &str) -> (u16, String) {
        let headers =
            format!("X-Amz-Target: {target}\r\nContent-Type: application/x-amz-json-1.1\r\n");
        self.send_with(service, "us-east-1", "POST", "/", &headers, body)
    }

    #[track_caller]
    fn send(
        &self,
        service: &str,
        region: &str,
        method: &str,
        path: &str,
        body: &str,
    ) -> (u16, String) {
        self.send_with(service, region, method, path, "", body)
    }

    /// moto routes by the credential scope of the Authorization header and checks no
    /// signature, so a hand-written request needs no SDK.
    #[track_caller]
    fn send_with(
        &self,
        service: &str,
        region: &str,
        method: &str,
        path: &str,
        headers: &str,
        body: &str,
    ) -> (u16, String) {
        let port = self.port;
        let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to moto_server");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: AWS4-HMAC-SHA256 \
             Credential=testing/20240101/{region}/{service}/aws4_request, SignedHeaders=host, \
             Signature=0\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send a request to moto_server");
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .expect("read moto_server's response");
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
        let _ = std::fs::remove_file(&self.log);
    }
}

/// The moto_server to run, or where it was looked for.
fn find_moto_server() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("BRAID_MOTO_SERVER") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "BRAID_MOTO_SERVER={}, which is no file",
                path.display()
            ))
        };
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("moto_server"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let venv = std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".cache/braid-venv/bin/moto_server"));
    let workspace_venv =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server");
    on_path
        .into_iter()
        .chain(venv)
        .chain([workspace_venv])
        .find(|path| path.is_file())
        .ok_or_else(|| {
            "BRAID_MOTO_SERVER (unset), PATH, ~/.cache/braid-venv/bin and the workspace's .venv/bin"
                .to_string()
        })
}
