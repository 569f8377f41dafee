//! Ctrl-C and SIGTERM during `braid apply`, against kubesim slowed down by injected
//! latency: changes in flight finish and are recorded, nothing new starts, the lock is
//! released, and the exit code is 130 (SIGINT) or 143 (SIGTERM).

use std::io::Read;
use std::time::{Duration, Instant};

use braid_testkit::KubeSim;

use crate::common::{Project, kubernetes_braid_hcl, spawn_braid, wait_braid};

/// Eight ConfigMaps in one namespace: applied one at a time, each taking a few requests.
fn project(sim: &KubeSim) -> Project {
    let mut manifests = String::from("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: sig\n");
    for i in 0..8 {
        manifests.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{i}\n  namespace: sig\ndata:\n  n: \"{i}\"\n"
        ));
    }
    Project::with_files(&[
        (
            "braid.hcl",
            &kubernetes_braid_hcl(&sim.kubeconfig(), &["dev"], ""),
        ),
        ("deploy/objects.yaml", &manifests),
    ])
}

fn interrupt(signal: &str, expected_code: i32) {
    let sim = KubeSim::start();
    let project = project(&sim);
    sim.faults().set_latency(Duration::from_millis(150));
    let mut child = spawn_braid(
        project.path(),
        &[
            "--env",
            "dev",
            "apply",
            "--auto-approve",
            "--parallelism",
            "1",
        ],
        &[],
    );
    // Wait until the first object is being created, then signal.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut buf = [0u8; 256];
    while !seen.contains("Creating...") {
        assert!(Instant::now() < deadline, "apply never started: {seen}");
        let n = stdout.read(&mut buf).expect("read stdout");
        assert!(n > 0, "braid ended before applying anything: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let mut rest = String::new();
    stdout
        .read_to_string(&mut rest)
        .expect("read the rest of stdout");
    seen.push_str(&rest);
    let run = wait_braid(child);
    assert_eq!(
        run.code, expected_code,
        "stdout:\n{seen}\nstderr:\n{}",
        run.stderr
    );
    run.assert_no_panic();
    assert!(run.stderr.contains("Interrupt received"), "{}", run.stderr);
    assert!(seen.contains("Apply interrupted."), "{seen}");
    assert!(
        seen.contains("not started: the apply was interrupted"),
        "{seen}"
    );

    // What was applied is in state, the lock is gone, and the next apply does the rest.
    sim.faults().clear();
    let applied_before = project.state_list(&["--env", "dev"]);
    assert!(
        !applied_before.is_empty() && applied_before.len() < 9,
        "{applied_before:?}"
    );
    let again = project.braid(&["--env", "dev", "apply", "--auto-approve"]);
    again.success();
    assert_eq!(project.state_list(&["--env", "dev"]).len(), 9);
    project
        .braid(&["--env", "dev", "plan", "--detailed-exitcode"])
        .success();
}

#[test]
fn sigint_finishes_changes_in_flight_and_exits_130() {
    interrupt("INT", 130);
}

#[test]
fn sigterm_finishes_changes_in_flight_and_exits_143() {
    interrupt("TERM", 143);
}
