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

#[test]
fn an_api_that_never_answers_fails_the_plan_within_the_deadline() {
    let (_listener, port) = black_hole();
    let config_dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = config_dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: hole\n  cluster:\n    server: http://127.0.0.1:{port}\ncontexts:\n- name: hole\n  context:\n    cluster: hole\n    user: u\ncurrent-context: hole\nusers:\n- name: u\n  user:\n    token: t\n"
        ),
    )
    .expect("write kubeconfig");
    let project = Project::with_files(&[
        (
            "braid.hcl",
            &kubernetes_braid_hcl(&kubeconfig.display().to_string(), &["dev"], ""),
        ),
        ("main.hcl", ""),
        (
            "deploy/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: default\ndata:\n  a: \"1\"\n",
        ),
    ]);
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
