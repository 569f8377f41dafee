//! A Kubernetes API that accepts connections and never answers cannot hang braid: every
//! provider call has a deadline (`BRAID_PROVIDER_TIMEOUT`), and the run fails with a
//! diagnostic naming the provider, the step and the resource.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::common::{Project, kubernetes_braid_hcl};

/// A server that accepts TCP connections and never reads or writes; it keeps them open
/// until the test ends.
fn black_hole() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let accepting = listener.try_clone().expect("clone listener");
    std::thread::spawn(move || {
        let mut open = Vec::new();
        for stream in accepting.incoming().flatten() {
            open.push(stream);
        }
    });
    (listener, port)
}

/// A project whose kubernetes provider points at `127.0.0.1:port`, with `settings` added to
/// its provider block, and one ConfigMap to plan.
fn project_against(port: u16, settings: &str) -> (Project, tempfile::TempDir) {
    let config_dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = config_dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: hole\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: hole\n  context:\n    cluster: hole\n    user: u\ncurrent-context: hole\nusers:\n- name: u\n  user:\n    token: t\n"
        ),
    )
    .expect("write kubeconfig");
    let hcl = kubernetes_braid_hcl(&kubeconfig.display().to_string(), &["dev"], "")
        .replace("\n}\n", &format!("\n{settings}}}\n"));
    let project = Project::with_files(&[
        ("braid.hcl", &hcl),
        ("main.hcl", ""),
        (
            "deploy/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: default\ndata:\n  a: \"1\"\n",
        ),
    ]);
    (project, config_dir)
}

#[test]
fn an_api_that_never_answers_fails_the_plan_within_the_deadline() {
    let (_listener, port) = black_hole();
    let (project, _config) = project_against(port, "");
    let started = Instant::now();
    let run = project.braid_env(&["plan"], &[("BRAID_PROVIDER_TIMEOUT", "2s")]);
    let took = started.elapsed();
    run.failure();
    assert!(
        run.stderr.contains("Provider call timed out"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("k8s/core/ConfigMap/default/c"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("within 2 s"), "{}", run.stderr);
    assert!(took < Duration::from_secs(30), "plan took {took:?}");
}

/// Each request has its own read timeout (`request_timeout`), well inside the overall
/// deadline: a silent server fails the run after a few short attempts.
#[test]
fn each_request_times_out_on_its_own() {
    let (_listener, port) = black_hole();
    let (project, _config) = project_against(port, "  request_timeout = \"1s\"\n");
    let started = Instant::now();
    let run = project.braid_env(&["plan"], &[("BRAID_PROVIDER_TIMEOUT", "10m")]);
    let took = started.elapsed();
    run.failure();
    assert!(
        run.stderr.contains("did not answer within 1s"),
        "{}",
        run.stderr
    );
    assert!(took < Duration::from_secs(20), "plan took {took:?}");
}

/// Nothing listens at the address: the run fails in seconds, saying the connection was
/// refused, instead of retrying for minutes.
#[test]
fn a_refused_connection_fails_fast() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    let (project, _config) = project_against(port, "");
    let started = Instant::now();
    let run = project.braid_env(&["plan"], &[("BRAID_PROVIDER_TIMEOUT", "10m")]);
    let took = started.elapsed();
    run.failure();
    assert!(run.stderr.contains("connection refused"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("127.0.0.1:{port}")),
        "{}",
        run.stderr
    );
    assert!(took < Duration::from_secs(15), "plan took {took:?}");
}

/// `request_timeout` must be a duration.
#[test]
fn an_invalid_request_timeout_is_a_configuration_error() {
    let (project, _config) = project_against(1, "  request_timeout = \"soon\"\n");
    let run = project.braid(&["plan"]);
    run.failure();
    assert!(run.stderr.contains("request_timeout"), "{}", run.stderr);
    assert!(run.stderr.contains("braid.hcl:"), "{}", run.stderr);
}

/// The aws provider has per-attempt timeouts too: an endpoint that never answers fails the
/// plan after `request_timeout` per attempt, not after the overall deadline.
#[test]
fn an_aws_endpoint_that_never_answers_times_out_per_request() {
    let (_listener, port) = black_hole();
    let project = Project::with_files(&[
        (
            "braid.hcl",
            &format!(
                "source \"infra\" {{ path = \".\" }}\n\nenvironment \"dev\" {{}}\n\n\
                 provider \"aws\" {{\n  region          = \"us-east-1\"\n  endpoint        = \"http://127.0.0.1:{port}\"\n  request_timeout = \"1s\"\n  max_retries     = 1\n}}\n"
            ),
        ),
        (
            "main.hcl",
            "resource \"aws_sqs_queue\" \"jobs\" {\n  name = \"jobs\"\n}\n",
        ),
    ]);
    let started = Instant::now();
    let run = project.braid_env(
        &["plan"],
        &[
            ("BRAID_PROVIDER_TIMEOUT", "10m"),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
        ],
    );
    let took = started.elapsed();
    run.failure();
    assert!(run.stderr.contains("aws_sqs_queue.jobs"), "{}", run.stderr);
    assert!(took < Duration::from_secs(20), "plan took {took:?}");
}
