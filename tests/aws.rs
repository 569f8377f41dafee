//! The aws provider through the `braid` binary, against moto_server on a free 127.0.0.1 port:
//! apply, a no-op plan, drift made behind braid's back, and destroy. What exists is checked
//! with plain HTTP requests to moto (which does not check signatures).
//!
//! moto_server comes from `BRAID_MOTO_SERVER`, PATH or the virtualenv scripts/test.sh makes;
//! without it the test is skipped, except under CI (`CI` set), where it fails.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Project, copy_dir, fixtures_dir};

struct MotoServer {
    child: Child,
    port: u16,
}

impl MotoServer {
    fn start() -> Option<MotoServer> {
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
            eprintln!("skipping: moto_server not found");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
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
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
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

    /// One S3 request (moto takes unsigned requests as S3); returns the status and body.
    fn request(&self, method: &str, path: &str) -> (u16, String) {
        self.request_to("s3", method, path)
    }

    /// One request to `service`: moto routes by the credential scope of the Authorization
    /// header and does not check the signature.
    fn request_to(&self, service: &str, method: &str, path: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to moto");
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

const AWS_ENV: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

#[test]
fn apply_plan_drift_and_destroy_against_moto() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    let project = Project::with_files(&[(
        "braid.hcl",
        &format!(
            "source \"infra\" {{ path = \".\" }}\n\nenvironment \"dev\" {{}}\n\n\
             provider \"aws\" {{\n  region   = \"us-east-1\"\n  endpoint = \"http://127.0.0.1:{}\"\n}}\n",
            moto.port
        ),
    )]);
    copy_dir(&fixtures_dir().join("aws"), project.path());

    let planned = project.braid_env(&["--env", "dev", "plan"], AWS_ENV);
    planned.success();
    assert!(
        planned.stdout.contains("Plan: 4 to add"),
        "{}",
        planned.all()
    );
    assert!(
        planned.stdout.contains("(known after apply)"),
        "{}",
        planned.all()
    );

    let applied = project.braid_env(&["--env", "dev", "apply", "--auto-approve"], AWS_ENV);
    applied.success();
    let (status, _) = moto.request("HEAD", "/braid-cli-assets");
    assert_eq!(status, 200, "bucket not created");
    let (status, policy) = moto.request("GET", "/braid-cli-assets?policy");
    assert_eq!(status, 200, "policy not put: {policy}");
    assert!(
        policy.contains("arn:aws:s3:::braid-cli-assets/*"),
        "{policy}"
    );
    let (_, queues) = moto.request_to("sqs", "GET", "/?Action=ListQueues");
    assert!(queues.contains("braid-cli-jobs"), "{queues}");

    let again = project.braid_env(&["--env", "dev", "plan", "--detailed-exitcode"], AWS_ENV);
    again.expect_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.all());

    // Drift: the policy deleted behind braid's back shows in the plan and apply restores it.
    let (status, _) = moto.request("DELETE", "/braid-cli-assets?policy");
    assert_eq!(status, 204);
    let drifted = project.braid_env(&["--env", "dev", "plan", "--detailed-exitcode"], AWS_ENV);
    drifted.expect_code(2);
    assert!(
        drifted.stdout.contains("aws_s3_bucket_policy.assets"),
        "{}",
        drifted.all()
    );
    project
        .braid_env(&["--env", "dev", "apply", "--auto-approve"], AWS_ENV)
        .success();
    assert_eq!(moto.request("GET", "/braid-cli-assets?policy").0, 200);
    project
        .braid_env(&["--env", "dev", "plan", "--detailed-exitcode"], AWS_ENV)
        .expect_code(0);

    project
        .braid_env(&["--env", "dev", "destroy", "--auto-approve"], AWS_ENV)
        .success();
    assert_eq!(
        moto.request("HEAD", "/braid-cli-assets").0,
        404,
        "bucket not deleted"
    );
    let (_, queues) = moto.request_to("sqs", "GET", "/?Action=ListQueues");
    assert!(!queues.contains("braid-cli-jobs"), "{queues}");
}
