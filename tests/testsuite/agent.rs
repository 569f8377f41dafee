//! `braid agent` (issue #17): a real agent process reconciles environments from a git
//! repository made with `git` — new commits applied where `auto_apply` is on and reported
//! out of sync where it is off, drift healed, push webhooks verified and acted on, the
//! status served over HTTP — and stops cleanly on SIGTERM.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::Path;
use std::process::Child;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use braid_testkit::GitRepo;

use crate::common::{Project, spawn_braid};

/// The infra repository: each environment writes `out/<env>.txt` with the content of
/// `content.txt`.
fn infra_repo(content: &str) -> GitRepo {
    let repo = GitRepo::init();
    repo.write(
        "main.hcl",
        r#"resource "local_file" "page" {
  filename = "out/${env.name}.txt"
  content  = file("content.txt")
}
"#,
    );
    repo.write("content.txt", content);
    repo.commit_all("infra");
    repo
}

/// A project whose environments `staging` (auto_apply, heal) and `review` (neither) read
/// `repo` at main.
fn project(repo: &GitRepo) -> Project {
    Project::with_files(&[(
        "braid.hcl",
        &format!(
            r#"source "infra" {{
  repo = "{}"
  ref  = "main"
}}

environment "staging" {{
  auto_apply = true
  drift {{
    heal     = true
    interval = "1s"
  }}
}}

environment "review" {{
  drift {{
    interval = "1s"
  }}
}}
"#,
            repo.hcl_path()
        ),
    )])
}

/// A running agent: its process, the address it serves, and its output lines.
struct RunningAgent {
    child: Child,
    address: String,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl RunningAgent {
    fn start(project: &Project, args: &[&str], env: &[(&str, &str)]) -> RunningAgent {
        RunningAgent::start_command(project, "agent", args, env)
    }

    /// `braid COMMAND --listen 127.0.0.1:0 ARGS` (`agent` or `serve`).
    fn start_command(
        project: &Project,
        command: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> RunningAgent {
        let mut all = vec![command, "--listen", "127.0.0.1:0"];
        all.extend_from_slice(args);
        let mut child = spawn_braid(project.path(), &all, env);
        let stdout = child.stdout.take().expect("stdout");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut agent = RunningAgent {
            child,
            address: String::new(),
            lines,
            seen: Vec::new(),
        };
        let serving = agent.wait_line("serving http://", Duration::from_secs(30));
        agent.address = serving
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .expect("an address")
            .to_string();
        agent
    }

    /// Waits for an output line containing `text`.
    fn wait_line(&mut self, text: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        if let Some(line) = self.seen.iter().find(|l| l.contains(text)) {
            return line.clone();
        }
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = self.child.kill();
        panic!(
            "no line with {text:?} within {within:?}; output so far:\n{}",
            self.seen.join("\n")
        );
    }

    /// `METHOD path` with `headers` and `body`: the status code and the body.
    fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, String) {
        let mut stream = std::net::TcpStream::connect(&self.address).expect("connect to the agent");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.address,
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).expect("send");
        stream.write_all(body).expect("send the body");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read the answer");
        let status = answer
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not HTTP: {answer}"));
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }

    fn get(&self, path: &str) -> (u16, String) {
        self.request("GET", path, &[], b"")
    }

    /// A push to main, as GitHub sends it signed with `secret`; the agent must take it.
    fn push_github(&self, secret: &str) {
        let body = br#"{"ref":"refs/heads/main"}"#;
        let signature = format!("sha256={}", hex::encode(hmac(secret.as_bytes(), body)));
        let (code, answer) = self.request(
            "POST",
            "/webhooks/github",
            &[
                ("X-GitHub-Event", "push"),
                ("X-Hub-Signature-256", &signature),
            ],
            body,
        );
        assert_eq!(code, 202, "{answer}");
    }

    /// The status of `env` from the JSON API.
    fn status(&self, env: &str) -> serde_json::Value {
        let (code, body) = self.get(&format!("/api/environments/{env}"));
        assert_eq!(code, 200, "{body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
    }

    /// Waits until `env`'s status satisfies `ok`; returns it.
    fn wait_status(
        &self,
        env: &str,
        within: Duration,
        ok: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + within;
        loop {
            let status = self.status(env);
            if ok(&status) {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{env} did not get there within {within:?}: {status:#}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends SIGTERM and waits for the exit code; returns it with the rest of the output.
    fn terminate(mut self) -> (i32, String) {
        let pid = self.child.id().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.seen.push(line);
                }
                let mut stderr = String::new();
                if let Some(mut err) = self.child.stderr.take() {
                    let _ = err.read_to_string(&mut stderr);
                }
                return (
                    status.code().unwrap_or(-1),
                    format!("{}\n{stderr}", self.seen.join("\n")),
                );
            }
            assert!(
                Instant::now() < deadline,
                "the agent did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RunningAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn wait_file(path: &Path, content: &str, within: Duration) {
    let deadline = Instant::now() + within;
    while read(path).as_deref() != Some(content) {
        assert!(
            Instant::now() < deadline,
            "{} does not hold {content:?} within {within:?}: {:?}",
            path.display(),
            read(path)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_agent_applies_new_commits_reports_out_of_sync_and_heals_drift() {
    let repo = infra_repo("v1");
    let project = project(&repo);
    let staging = project.path().join("out/staging.txt");
    let review = project.path().join("out/review.txt");
    let mut agent = RunningAgent::start(&project, &["--interval", "1s"], &[]);

    // auto_apply: staging is applied by the agent; review is planned and left out of sync.
    wait_file(&staging, "v1", Duration::from_secs(30));
    let status = agent.wait_status("review", Duration::from_secs(30), |s| {
        s["sync"] == "out_of_sync"
    });
    assert_eq!(
        status["pending"][0]["address"], "local_file.page",
        "{status:#}"
    );
    assert_eq!(status["pending"][0]["action"], "create", "{status:#}");
    assert!(
        read(&review).is_none(),
        "review is never applied by the agent"
    );
    let status = agent.wait_status("staging", Duration::from_secs(10), |s| {
        s["sync"] == "synced"
    });
    assert_eq!(status["applies_succeeded"], 1, "{status:#}");
    assert_eq!(status["last_apply"]["outcome"], "succeeded", "{status:#}");
    assert_eq!(status["deployed"], status["sources"], "{status:#}");
    agent.wait_line("staging: applied 1 change(s)", Duration::from_secs(5));
    agent.wait_line("review: out of sync, 1 change(s)", Duration::from_secs(5));

    // A new commit on main reaches staging within an interval or two.
    repo.write("content.txt", "v2");
    repo.commit_all("v2");
    let commit = repo.git(&["rev-parse", "main"]);
    wait_file(&staging, "v2", Duration::from_secs(30));
    let status = agent.wait_status("staging", Duration::from_secs(10), |s| {
        s["deployed"][0]["commit"] == commit.as_str()
    });
    assert_eq!(status["sync"], "synced", "{status:#}");

    // Changed outside braid: healed (heal = true, drift checked every second).
    std::fs::write(&staging, "edited by hand").expect("drift");
    wait_file(&staging, "v2", Duration::from_secs(30));
    agent.wait_line("staging: healed 1 change(s)", Duration::from_secs(5));

    // Every resource with its health, and the history with each apply's diff.
    let status = agent.wait_status("staging", Duration::from_secs(10), |s| {
        s["history"].as_array().is_some_and(|h| h.len() == 3)
    });
    assert_eq!(
        status["resources"][0]["address"], "local_file.page",
        "{status:#}"
    );
    assert_eq!(status["resources"][0]["health"], "healthy", "{status:#}");
    assert_eq!(status["resources"][0]["drifted"], false, "{status:#}");
    let history = status["history"].as_array().expect("history");
    // Newest first: the heal, the v2 commit, the first apply.
    assert_eq!(
        history[1]["sources"][0]["commit"],
        commit.as_str(),
        "{status:#}"
    );
    assert_eq!(
        history[1]["changes"][0]["address"], "local_file.page",
        "{status:#}"
    );
    assert_eq!(history[1]["changes"][0]["action"], "update", "{status:#}");
    let diff = history[1]["diff"].as_str().expect("a diff");
    assert!(
        diff.contains("local_file.page") && diff.contains("\"v1\" -> \"v2\""),
        "{diff}"
    );
    assert!(
        history[0]["diff"]
            .as_str()
            .is_some_and(|d| d.contains("\"edited by hand\" -> \"v2\"")),
        "{status:#}"
    );
    assert_eq!(history[2]["changes"][0]["action"], "create", "{status:#}");
    let (code, detail) = agent.get("/environments/staging");
    assert_eq!(code, 200);
    assert!(
        detail.contains("<td>local_file.page</td>")
            && detail.contains("class=\"health\">healthy")
            && detail.contains("&quot;v1&quot; -&gt; &quot;v2&quot;"),
        "{detail}"
    );

    // The HTTP surface.
    assert_eq!(agent.get("/healthz"), (200, "ok\n".to_string()));
    assert_eq!(agent.get("/readyz").0, 200);
    let (code, metrics) = agent.get("/metrics");
    assert_eq!(code, 200);
    for line in [
        "braid_environment_status{env=\"staging\",status=\"synced\"} 1",
        "braid_environment_status{env=\"review\",status=\"out_of_sync\"} 1",
        "braid_pending_changes{env=\"review\"} 1",
        "braid_applies_total{env=\"staging\",outcome=\"failed\"} 0",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
    assert!(metrics.contains("braid_last_successful_apply_timestamp_seconds{env=\"staging\"}"));
    let (code, page) = agent.get("/");
    assert_eq!(code, 200);
    assert!(
        page.contains(">staging</a></td>") && page.contains("out_of_sync"),
        "{page}"
    );
    assert_eq!(agent.get("/api/environments/nothing").0, 404);
    // No webhook secret configured: webhooks are refused.
    let (code, body) = agent.request(
        "POST",
        "/webhooks/github",
        &[("X-GitHub-Event", "push")],
        b"{}",
    );
    assert_eq!(code, 403, "{body}");

    let (code, output) = agent.terminate();
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("braid agent: stopped"), "{output}");
}

#[test]
fn push_webhooks_are_verified_and_reconcile_at_once() {
    let repo = infra_repo("v1");
    let project = project(&repo);
    let staging = project.path().join("out/staging.txt");
    let secret = "webhook-s3cret";
    // An interval far longer than the test: only a webhook can bring the new commit.
    let agent = RunningAgent::start(
        &project,
        &["--env", "staging", "--interval", "1h"],
        &[("BRAID_WEBHOOK_SECRET", secret)],
    );
    wait_file(&staging, "v1", Duration::from_secs(30));
    agent.wait_status("staging", Duration::from_secs(10), |s| {
        s["sync"] == "synced"
    });
    repo.write("content.txt", "v2");
    repo.commit_all("v2");

    let body = br#"{"ref":"refs/heads/main"}"#;
    // Unsigned, wrongly signed, wrong GitLab token: refused, nothing happens.
    let (code, _) = agent.request(
        "POST",
        "/webhooks/github",
        &[("X-GitHub-Event", "push")],
        body,
    );
    assert_eq!(code, 401);
    let wrong = format!("sha256={}", hex::encode(hmac(b"not-the-secret", body)));
    let (code, _) = agent.request(
        "POST",
        "/webhooks/github",
        &[("X-GitHub-Event", "push"), ("X-Hub-Signature-256", &wrong)],
        body,
    );
    assert_eq!(code, 401);
    let (code, _) = agent.request(
        "POST",
        "/webhooks/gitlab",
        &[("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Token", "guess")],
        body,
    );
    assert_eq!(code, 401);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        read(&staging).as_deref(),
        Some("v1"),
        "refused webhooks wake nothing"
    );

    // Signed as GitHub signs: applied within seconds.
    agent.push_github(secret);
    wait_file(&staging, "v2", Duration::from_secs(10));

    // GitLab's token.
    repo.write("content.txt", "v3");
    repo.commit_all("v3");
    let (code, _) = agent.request(
        "POST",
        "/webhooks/gitlab",
        &[("X-Gitlab-Event", "Push Hook"), ("X-Gitlab-Token", secret)],
        body,
    );
    assert_eq!(code, 202);
    let deadline = Instant::now() + Duration::from_secs(10);
    while read(&staging).as_deref() != Some("v3") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let now = read(&staging);
    let status = agent.status("staging");
    let (code, output) = agent.terminate();
    assert_eq!(now.as_deref(), Some("v3"), "{status:#}\n{output}");
    assert_eq!(code, 0, "{output}");
    assert_eq!(
        output.matches("staging: applied 1 change(s)").count(),
        3,
        "new commits are applied, not healed: {output}"
    );
    assert!(!output.contains("healed"), "{output}");
}

/// HMAC-SHA256, written here from RFC 2104 so the test does not lean on braid's.
fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key);
    let inner = Sha256::new()
        .chain_update(block.map(|b| b ^ 0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(block.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// `braid status`: never applied and new commits are out of sync, an apply makes the
/// environment synced, a change by hand makes it drifted; the table and the JSON say so.
#[test]
fn status_shows_synced_out_of_sync_and_drifted() {
    let repo = infra_repo("v1");
    let project = project(&repo);
    let status = |env: &str| -> serde_json::Value {
        let run = project.braid(&["--env", env, "status", "--format", "json"]);
        run.success();
        run.json()["environments"][0].clone()
    };
    let first = status("staging");
    assert_eq!(first["sync"], "out_of_sync", "{first:#}");
    assert_eq!(first["pending"][0]["action"], "create", "{first:#}");
    assert_eq!(first["deployed"], serde_json::json!([]), "{first:#}");

    project
        .braid(&["--env", "staging", "apply", "--auto-approve"])
        .success();
    let commit = repo.git(&["rev-parse", "main"]);
    let synced = status("staging");
    assert_eq!(synced["sync"], "synced", "{synced:#}");
    assert_eq!(
        synced["deployed"][0]["commit"],
        commit.as_str(),
        "{synced:#}"
    );
    assert_eq!(synced["last_apply"]["actor"], "test-actor", "{synced:#}");
    assert_eq!(synced["pending"], serde_json::json!([]), "{synced:#}");
    // The resources with their health, and the history with the apply's diff.
    assert_eq!(
        synced["resources"][0]["address"], "local_file.page",
        "{synced:#}"
    );
    assert_eq!(synced["resources"][0]["health"], "healthy", "{synced:#}");
    assert_eq!(
        synced["history"][0]["changes"][0]["action"], "create",
        "{synced:#}"
    );
    assert!(
        synced["history"][0]["diff"]
            .as_str()
            .is_some_and(|d| d.contains("local_file.page will be created")),
        "{synced:#}"
    );

    std::fs::write(project.path().join("out/staging.txt"), "by hand").expect("drift");
    let drifted = status("staging");
    assert_eq!(drifted["sync"], "drifted", "{drifted:#}");
    assert_eq!(drifted["drifted"][0], "local_file.page", "{drifted:#}");
    assert_eq!(drifted["pending"][0]["action"], "update", "{drifted:#}");

    repo.write("content.txt", "v2");
    repo.commit_all("v2");
    assert_eq!(status("staging")["sync"], "out_of_sync");

    // Every environment, as a table; exit 2 with --detailed-exitcode when one is not synced.
    let table = project.braid(&["status", "--detailed-exitcode"]);
    table.expect_code(2);
    let lines: Vec<&str> = table.stdout.lines().collect();
    let deployed = format!("infra@{}", &commit[..12]);
    for (line, starts, holds) in [
        (0, "ENVIRONMENT", "LAST APPLY"),
        (1, "staging", "out of sync"),
        (1, "staging", deployed.as_str()),
        (2, "review", "never"),
    ] {
        assert!(
            lines[line].starts_with(starts) && lines[line].contains(holds),
            "line {line}: {}",
            table.stdout
        );
    }
    assert!(
        table.stdout.contains("  update local_file.page"),
        "{}",
        table.stdout
    );
}

/// Wrong agent settings in braid.hcl are refused with their place and how to write them.
#[test]
fn agent_settings_are_checked() {
    for (setting, message) in [
        (
            "interval = \"soon\"",
            "\"interval\" takes a duration more than zero",
        ),
        (
            "interval = \"0s\"",
            "\"interval\" takes a duration more than zero",
        ),
        (
            "auto_apply = \"yes\"",
            "\"auto_apply\" must be true or false",
        ),
        (
            "drift {\n    heal = 1\n  }",
            "\"heal\" must be true or false",
        ),
        ("drift {\n    every = \"1m\"\n  }", "every"),
        (
            "notify \"email\" {}",
            "braid sends notifications to \"slack\", \"webhook\"",
        ),
        (
            "notify \"slack\" {\n    url = \"http://x\"\n    events = [\"boom\"]\n  }",
            "events holds \"boom\", which is not an event",
        ),
        ("notify \"github\" {}", "needs \"repository\""),
        ("notify \"slack\" {}", "needs \"url\""),
    ] {
        let project = Project::with_files(&[
            (
                "braid.hcl",
                &format!("environment \"dev\" {{\n  {setting}\n}}\n"),
            ),
            ("main.hcl", ""),
        ]);
        let run = project.braid(&["--env", "dev", "validate"]);
        run.expect_code(1);
        assert!(run.stderr.contains(message), "{setting}: {}", run.stderr);
        assert!(
            run.stderr.contains("braid.hcl:"),
            "{setting}: {}",
            run.stderr
        );
    }
    let project =
        Project::with_files(&[("braid.hcl", "environment \"dev\" {}\n"), ("main.hcl", "")]);
    let run = project.braid(&["agent", "--interval", "never"]);
    run.expect_code(1);
    assert!(run.stderr.contains("Invalid --interval"), "{}", run.stderr);
    project.write(
        "braid.hcl",
        "environment \"dev\" {}\n\nserver {\n  username = \"ops\"\n}\n",
    );
    let run = project.braid(&["--env", "dev", "validate"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("Missing password") && run.stderr.contains("braid.hcl:3"),
        "{}",
        run.stderr
    );
}

/// A failing apply is visible (status, error, metrics) and tried again after a back-off;
/// once the cause is gone the environment converges.
#[test]
fn a_failing_apply_backs_off_and_recovers() {
    let repo = infra_repo("v1");
    let project = project(&repo);
    // `out` is a file: the local provider cannot create out/staging.txt.
    std::fs::write(project.path().join("out"), "in the way").expect("block");
    let mut agent = RunningAgent::start(&project, &["--env", "staging", "--interval", "1s"], &[]);
    let failed = agent.wait_status("staging", Duration::from_secs(30), |s| {
        s["sync"] == "failed"
    });
    assert_eq!(failed["failures"], 1, "{failed:#}");
    assert!(
        failed["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("Apply failed")),
        "{failed:#}"
    );
    assert_eq!(failed["applies_failed"], 1, "{failed:#}");
    let (_, metrics) = agent.get("/metrics");
    assert!(
        metrics.contains("braid_reconcile_failures{env=\"staging\"} 1"),
        "{metrics}"
    );
    let line = agent.wait_line(
        "staging: cycle failed (1 in a row), next try in 5s",
        Duration::from_secs(5),
    );
    assert!(line.contains("Apply failed"), "{line}");

    std::fs::remove_file(project.path().join("out")).expect("unblock");
    wait_file(
        &project.path().join("out/staging.txt"),
        "v1",
        Duration::from_secs(30),
    );
    let recovered = agent.wait_status("staging", Duration::from_secs(10), |s| {
        s["sync"] == "synced"
    });
    assert_eq!(recovered["failures"], 0, "{recovered:#}");
    assert_eq!(
        recovered["last_error"],
        serde_json::Value::Null,
        "{recovered:#}"
    );
}

/// With `--format json` the agent's log is one JSON object per line.
#[test]
fn the_agent_logs_json_lines() {
    let repo = infra_repo("v1");
    let project = project(&repo);
    let mut agent = RunningAgent::start(
        &project,
        &["--env", "staging", "--interval", "1s", "--format", "json"],
        &[],
    );
    let line = agent.wait_line("\"event\":\"applied\"", Duration::from_secs(30));
    let event: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
    assert_eq!(event["env"], "staging", "{event:#}");
    assert_eq!(event["message"], "applied 1 change(s)", "{event:#}");
    assert!(
        event["time"].as_str().is_some_and(|t| t.starts_with("20")),
        "{event:#}"
    );
    let (code, output) = agent.terminate();
    assert_eq!(code, 0, "{output}");
    for line in output.lines().filter(|l| l.starts_with('{')) {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    assert!(output.contains("{\"event\":\"stopped\"}"), "{output}");
}

/// One request a [`Receiver`] got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// A local HTTP server that records every request; it answers 500 to the first `failing`
/// ones (to make the sender retry), 201 to the others.
struct Receiver {
    address: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start(failing: usize) -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = std::sync::Arc::clone(&requests);
        std::thread::spawn(move || {
            let mut answered = 0;
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let mut reader = BufReader::new(stream);
                let Some(request) = crate::common::read_http_request(&mut reader) else {
                    continue;
                };
                answered += 1;
                let status = if answered <= failing {
                    "500 Internal Server Error"
                } else {
                    "201 Created"
                };
                crate::common::write_http_response(reader.get_mut(), status, "");
                if answered > failing {
                    seen.lock().expect("requests").push(Received {
                        path: request.path,
                        headers: request.headers,
                        body: String::from_utf8_lossy(&request.body).into_owned(),
                    });
                }
            }
        });
        Receiver { address, requests }
    }

    /// The requests answered with success whose path starts with `prefix`.
    fn received(&self, prefix: &str) -> Vec<Received> {
        self.requests
            .lock()
            .expect("requests")
            .iter()
            .filter(|r| r.path.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// Waits until a request to `prefix` satisfies `ok`.
    fn wait(&self, prefix: &str, ok: impl Fn(&Received) -> bool) -> Received {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(found) = self.received(prefix).into_iter().find(|r| ok(r)) {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "no such request to {prefix}; got {:#?}",
                self.received("")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Notifications: Slack, the signed webhook, GitHub and GitLab commit statuses reach local
/// receivers — retried when the receiver fails at first — each with the events its block
/// asks for; a receiver that never answers is reported in the agent's log, and no token or
/// secret appears in it.
#[test]
fn notifications_reach_slack_webhooks_and_commit_statuses() {
    let repo = infra_repo("v1");
    // The first two requests fail: deliveries are retried.
    let receiver = Receiver::start(2);
    let at = &receiver.address;
    let project = Project::with_files(&[(
        "braid.hcl",
        &format!(
            r#"source "infra" {{
  repo = "{repo}"
  ref  = "main"
}}

notify "slack" {{
  url        = "http://{at}/slack/T000/B000/XXXX"
  status_url = "https://braid.example/"
}}

notify "webhook" {{
  url    = "http://{at}/hook"
  secret = "hook-secret"
  events = ["apply"]
}}

environment "staging" {{
  auto_apply = true
  notify "github" {{
    repository = "acme/infra"
    token      = "gh-token"
    api_url    = "http://{at}/gh"
  }}
  notify "gitlab" {{
    repository = "acme/infra"
    token      = "gl-token"
    api_url    = "http://{at}/gl/api/v4"
    events     = ["apply_succeeded"]
  }}
}}

environment "review" {{
  notify "slack" {{
    url = "http://127.0.0.1:1/never/answers"
  }}
}}
"#,
            repo = repo.hcl_path()
        ),
    )]);
    let commit = repo.git(&["rev-parse", "main"]);
    let mut agent = RunningAgent::start(
        &project,
        &["--interval", "1s"],
        &[("BRAID_NOTIFY_RETRY", "50ms")],
    );

    let applied = receiver.wait("/slack/", |r| {
        r.json()["text"]
            .as_str()
            .is_some_and(|t| t.contains("*staging*: applied 1 change(s)"))
    });
    let blocks = &applied.json()["blocks"];
    assert_eq!(blocks[0]["type"], "section", "{blocks:#}");
    let context = blocks[1].to_string();
    assert!(
        context.contains(&commit[..12]) && context.contains("status page"),
        "{context}"
    );
    receiver.wait("/slack/", |r| {
        r.json()["text"]
            .as_str()
            .is_some_and(|t| t.contains("*review*: out of sync"))
    });

    // The webhook: apply events only, signed.
    let hook = receiver.wait("/hook", |r| {
        r.header("x-braid-event") == Some("apply_succeeded")
    });
    let signature = format!(
        "sha256={}",
        hex::encode(hmac(b"hook-secret", hook.body.as_bytes()))
    );
    assert_eq!(
        hook.header("x-braid-signature-256"),
        Some(signature.as_str())
    );
    let document = hook.json();
    assert_eq!(document["env"], "staging");
    assert_eq!(document["sources"][0]["commit"], commit.as_str());
    assert_eq!(document["changes"][0]["address"], "local_file.page");
    assert!(
        receiver.received("/hook").iter().all(|r| {
            matches!(
                r.header("x-braid-event"),
                Some("apply_started" | "apply_succeeded")
            )
        }),
        "{:#?}",
        receiver.received("/hook")
    );

    // GitHub: pending when the apply starts, success after, on the source's commit.
    let path = format!("/gh/repos/acme/infra/statuses/{commit}");
    let pending = receiver.wait(&path, |r| r.json()["state"] == "pending");
    assert_eq!(pending.header("authorization"), Some("Bearer gh-token"));
    assert_eq!(pending.json()["context"], "braid/staging");
    let success = receiver.wait(&path, |r| r.json()["state"] == "success");
    assert_eq!(
        success.json()["description"],
        "staging: applied 1 change(s)"
    );

    // GitLab: the project path URL-encoded, PRIVATE-TOKEN, success only.
    let gitlab = receiver.wait(
        &format!("/gl/api/v4/projects/acme%2Finfra/statuses/{commit}"),
        |_| true,
    );
    assert_eq!(gitlab.header("private-token"), Some("gl-token"));
    assert_eq!(gitlab.json()["state"], "success");
    assert_eq!(gitlab.json()["name"], "braid/staging");

    // A receiver that never answers: reported once the attempts are spent.
    let failed = agent.wait_line("slack notification of", Duration::from_secs(30));
    assert!(
        failed.starts_with("review: ")
            && failed.contains("failed after 5 attempts: 127.0.0.1 could not be reached"),
        "{failed}"
    );
    let (code, output) = agent.terminate();
    assert_eq!(code, 0, "{output}");
    for secret in [
        "gh-token",
        "gl-token",
        "hook-secret",
        "/never/answers",
        "T000/B000",
    ] {
        assert!(!output.contains(secret), "{secret} leaked: {output}");
    }
}

/// `braid serve`: the same status, read-only — nothing is applied or healed whatever
/// braid.hcl says, and there are no webhooks; an apply made by someone else shows.
#[test]
fn serve_shows_the_status_and_changes_nothing() {
    let repo = infra_repo("v1");
    let project = project(&repo);
    let staging = project.path().join("out/staging.txt");
    let server = RunningAgent::start_command(&project, "serve", &["--interval", "1s"], &[]);
    let status = server.wait_status("staging", Duration::from_secs(30), |s| {
        s["sync"] == "out_of_sync"
    });
    assert_eq!(
        status["auto_apply"], true,
        "braid.hcl's setting is shown: {status:#}"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(read(&staging).is_none(), "serve applied something");
    assert_eq!(
        server
            .request(
                "POST",
                "/webhooks/github",
                &[("X-GitHub-Event", "push")],
                b"{}"
            )
            .0,
        404
    );
    project
        .braid(&["--env", "staging", "apply", "--auto-approve"])
        .success();
    let status = server.wait_status("staging", Duration::from_secs(30), |s| {
        s["sync"] == "synced"
    });
    assert_eq!(status["last_apply"]["actor"], "test-actor", "{status:#}");
    std::fs::write(&staging, "by hand").expect("drift");
    server.wait_status("staging", Duration::from_secs(30), |s| {
        s["sync"] == "drifted"
    });
    assert_eq!(read(&staging).as_deref(), Some("by hand"), "serve healed");
    let (code, output) = server.terminate();
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("braid serve: stopped"), "{output}");
}

/// examples/agent: braid deploys braid agent into a cluster (kubesim) — namespace,
/// ServiceAccount, RBAC, the Secret and project ConfigMap, the Deployment with its probes
/// and the Service — and a second plan finds nothing to do.
#[test]
fn the_agent_example_deploys_onto_a_cluster() {
    let sim = braid_testkit::KubeSim::start();
    let dir = braid_testkit::tempdir();
    crate::common::copy_dir(
        &crate::common::manifest_dir().join("examples/agent"),
        dir.path(),
    );
    let kubeconfig = sim.kubeconfig();
    let env = [("KUBECONFIG", kubeconfig.as_str())];
    let apply = crate::common::run_braid(
        dir.path(),
        &["--env", "ops", "apply", "--auto-approve"],
        &env,
    );
    apply.success();
    let deployment = sim
        .get("/apis/apps/v1/namespaces/braid-system/deployments/braid-agent")
        .expect("the agent's Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "braid-agent");
    let container = &pod["containers"][0];
    assert_eq!(
        container["args"],
        serde_json::json!([
            "-C",
            "/project",
            "agent",
            "--listen",
            "0.0.0.0:8080",
            "--interval",
            "1m"
        ])
    );
    assert_eq!(deployment["spec"]["replicas"], 2);
    assert_eq!(
        container["env"]
            .as_array()
            .and_then(|env| env.iter().find(|e| e["name"] == "BRAID_REPLICA_ID"))
            .map(|e| e["valueFrom"]["fieldRef"]["fieldPath"].clone()),
        Some(serde_json::json!("metadata.name"))
    );
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["envFrom"][0]["secretRef"]["name"], "braid-agent");
    let binding = sim
        .get("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/braid-agent")
        .expect("the ClusterRoleBinding");
    assert_eq!(binding["subjects"][0]["name"], "braid-agent");
    assert!(
        sim.get("/apis/rbac.authorization.k8s.io/v1/clusterroles/braid-agent")
            .is_some()
    );
    assert!(
        sim.get("/api/v1/namespaces/braid-system/serviceaccounts/braid-agent")
            .is_some()
    );
    assert!(
        sim.get("/api/v1/namespaces/braid-system/secrets/braid-agent")
            .is_some()
    );
    let project = sim
        .get("/api/v1/namespaces/braid-system/configmaps/braid-agent-project")
        .expect("the project ConfigMap");
    assert!(
        project["data"]["braid.hcl"]
            .as_str()
            .is_some_and(|h| h.contains("auto_apply = true"))
    );
    let service = sim
        .get("/api/v1/namespaces/braid-system/services/braid-agent")
        .expect("the Service");
    assert_eq!(service["spec"]["ports"][0]["port"], 80);
    // The Secret's values never reach the output.
    assert!(!apply.all().contains("CHANGE-ME"), "{}", apply.all());
    crate::common::run_braid(
        dir.path(),
        &["--env", "ops", "plan", "--detailed-exitcode"],
        &env,
    )
    .expect_code(0);
}

/// braid.hcl's `server` block: the page, the API, the events and the metrics want the
/// bearer token or the basic-auth user and password; the probes stay open.
#[test]
fn the_server_block_guards_the_page_api_and_metrics() {
    let repo = infra_repo("v1");
    let project = project(&repo);
    let hcl = std::fs::read_to_string(project.path().join("braid.hcl")).expect("braid.hcl");
    project.write(
        "braid.hcl",
        &format!(
            "{hcl}\nserver {{\n  token    = \"t0ken\"\n  username = \"ops\"\n  password = env(\"BRAID_TEST_PAGE_PASSWORD\")\n}}\n"
        ),
    );
    let agent = RunningAgent::start(
        &project,
        &["--env", "staging", "--interval", "1s"],
        &[("BRAID_TEST_PAGE_PASSWORD", "pa55")],
    );
    use base64::Engine as _;
    let basic = |user: &str, password: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    };
    let right = basic("ops", "pa55");
    let wrong = basic("ops", "guess");
    for path in [
        "/",
        "/metrics",
        "/api/environments",
        "/api/environments/staging",
    ] {
        let (code, body) = agent.get(path);
        assert_eq!(code, 401, "{path} without credentials: {body}");
        for (header, want) in [
            ("Bearer t0ken", 200),
            ("Bearer t0ke", 401),
            (right.as_str(), 200),
            (wrong.as_str(), 401),
            ("Basic Og==", 401),
        ] {
            let (code, body) = agent.request("GET", path, &[("Authorization", header)], b"");
            assert_eq!(code, want, "{path} with {header}: {body}");
        }
    }
    assert_eq!(agent.get("/healthz").0, 200);
    let (code, _) = agent.get("/readyz");
    assert!(code == 200 || code == 503, "{code}");
    let (_, page) = agent.request("GET", "/", &[("Authorization", right.as_str())], b"");
    assert!(page.contains("new EventSource('api/events')"), "{page}");
}

/// `/api/events`: the status at once, then again each time it changes — here when the
/// agent applies a new commit — as server-sent events (`status` JSON and the page's `rows`).
#[test]
fn status_events_follow_the_agent() {
    let repo = infra_repo("v1");
    let project = project(&repo);
    let agent = RunningAgent::start(&project, &["--env", "staging", "--interval", "1s"], &[]);
    agent.wait_status("staging", Duration::from_secs(30), |s| {
        s["sync"] == "synced"
    });
    let mut stream = std::net::TcpStream::connect(&agent.address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream
        .write_all(
            format!(
                "GET /api/events HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
                agent.address
            )
            .as_bytes(),
        )
        .expect("send");
    let mut lines = BufReader::new(stream).lines();
    let mut next_status = || -> serde_json::Value {
        let mut event = String::new();
        loop {
            let line = lines
                .next()
                .expect("the stream goes on")
                .expect("a line within 30 s");
            if let Some(name) = line.strip_prefix("event: ") {
                event = name.to_string();
            } else if let Some(data) = line.strip_prefix("data: ")
                && event == "status"
            {
                return serde_json::from_str(data).unwrap_or_else(|e| panic!("{e}: {data}"));
            }
        }
    };
    let first = next_status();
    assert_eq!(first["environments"][0]["sync"], "synced", "{first:#}");
    repo.write("content.txt", "v2");
    repo.commit_all("v2");
    let commit = repo.git(&["rev-parse", "main"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = next_status();
        if status["environments"][0]["deployed"][0]["commit"] == commit.as_str() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no event with the new commit deployed"
        );
    }
    let (code, output) = agent.terminate();
    assert_eq!(code, 0, "{output}");
}

/// Headless Chromium, driven over the DevTools protocol (a WebSocket).
struct Browser {
    child: Child,
    socket: tungstenite::WebSocket<std::net::TcpStream>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts `chromium` (Debian's; scripts/test.sh installs it) on an empty page.
    fn start() -> Browser {
        let program = ["chromium", "chromium-browser"]
            .into_iter()
            .find(|p| {
                std::process::Command::new(p)
                    .arg("--version")
                    .output()
                    .is_ok_and(|o| o.status.success())
            })
            .expect("chromium must be installed for this test (scripts/test.sh installs Debian's chromium)");
        let profile = braid_testkit::tempdir();
        let mut child = std::process::Command::new(program)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--window-size=1100,420",
                "--remote-debugging-port=0",
                "--remote-allow-origins=*",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start chromium");
        let stderr = child.stderr.take().expect("stderr");
        let (send, found) = mpsc::channel();
        // Read on a thread for as long as chromium writes, so it never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut send = Some(send);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("ws://127.0.0.1:").nth(1)
                    && let Some(sender) = send.take()
                {
                    let _ = sender.send(rest.split('/').next().unwrap_or_default().to_string());
                }
            }
        });
        let port = found
            .recv_timeout(Duration::from_secs(30))
            .expect("chromium printed its DevTools address");
        // The page target's own socket.
        let mut list = BufReader::new(
            std::net::TcpStream::connect(format!("127.0.0.1:{port}")).expect("DevTools"),
        );
        list.get_mut()
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        list.get_mut()
            .write_all(
                format!("GET /json/list HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes(),
            )
            .expect("ask for targets");
        let mut length = 0;
        loop {
            let mut line = String::new();
            if list.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            // Chromium writes `Content-Length:1422`, without a space.
            if let Some((name, value)) = line.trim_end().split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        list.read_exact(&mut body).expect("targets");
        let targets: serde_json::Value = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&body)));
        let url = targets
            .as_array()
            .and_then(|t| t.iter().find(|t| t["type"] == "page"))
            .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            .unwrap_or_else(|| panic!("no page target: {targets:#}"))
            .to_string();
        let stream = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let (socket, _) = tungstenite::client::client(url.as_str(), stream).expect("WebSocket");
        Browser {
            child,
            socket,
            next_id: 0,
            _profile: profile,
        }
    }

    /// One DevTools command; its result.
    fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        self.next_id += 1;
        let id = self.next_id;
        self.socket
            .send(tungstenite::Message::text(
                serde_json::json!({"id": id, "method": method, "params": params}).to_string(),
            ))
            .expect("send a command");
        loop {
            let message = self.socket.read().expect("an answer");
            let Ok(text) = message.to_text() else {
                continue;
            };
            let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
                continue;
            };
            if value["id"] == id {
                assert!(value.get("error").is_none(), "{method}: {value}");
                return value["result"].clone();
            }
        }
    }

    /// The value of a JavaScript expression on the page.
    fn eval(&mut self, expression: &str) -> serde_json::Value {
        self.call(
            "Runtime.evaluate",
            serde_json::json!({"expression": expression, "returnByValue": true}),
        )["result"]["value"]
            .clone()
    }

    /// Waits until `expression` is true on the page.
    fn wait_for(&mut self, expression: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while self.eval(expression) != serde_json::Value::Bool(true) {
            assert!(
                Instant::now() < deadline,
                "{expression} is not true within {within:?}; the page: {}",
                self.eval("document.body.innerText")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A PNG of the page, written to `$BRAID_SCREENSHOTS/NAME` when that variable is set
    /// (docs/agent-status-*.png were made so).
    fn screenshot(&mut self, name: &str) {
        let Ok(dir) = std::env::var("BRAID_SCREENSHOTS") else {
            return;
        };
        use base64::Engine as _;
        // The whole page, not only the window.
        let height = self
            .eval("document.documentElement.scrollHeight")
            .as_f64()
            .unwrap_or(600.0);
        let shot = self.call(
            "Page.captureScreenshot",
            serde_json::json!({
                "format": "png",
                "captureBeyondViewport": true,
                "clip": {"x": 0, "y": 0, "width": 1100, "height": height.min(2000.0), "scale": 1}
            }),
        );
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap_or_default())
            .expect("a PNG");
        std::fs::write(Path::new(&dir).join(name), png).expect("write the screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The status page in headless Chromium: it loads and shows both environments (staging
/// synced, review out of sync), then follows an apply of a new commit without a reload (a
/// marker set on the page survives); the environment's page shows its resources and its
/// history with diffs. `BRAID_SCREENSHOTS=docs` rewrites docs/agent-status-1.png, -2.png
/// and docs/agent-environment.png.
#[test]
fn the_status_page_follows_the_agent_in_chromium() {
    let repo = infra_repo("v1");
    let project = project(&repo);
    let agent = RunningAgent::start(&project, &["--interval", "1s"], &[]);
    agent.wait_status("staging", Duration::from_secs(30), |s| {
        s["sync"] == "synced"
    });
    agent.wait_status("review", Duration::from_secs(30), |s| {
        s["sync"] == "out_of_sync"
    });
    let mut browser = Browser::start();
    browser.call("Page.enable", serde_json::json!({}));
    browser.call(
        "Page.navigate",
        serde_json::json!({"url": format!("http://{}/", agent.address)}),
    );
    browser.wait_for(
        "document.querySelector('#env-staging .status')?.textContent === 'synced' && document.querySelector('#env-review .status')?.textContent === 'out_of_sync'",
        Duration::from_secs(30),
    );
    browser.wait_for(
        "document.getElementById('live').textContent.startsWith('live')",
        Duration::from_secs(30),
    );
    browser.eval("window.braidMarker = 42");
    browser.screenshot("agent-status-1.png");

    repo.write("content.txt", "v2");
    repo.commit_all("v2");
    let commit = repo.git(&["rev-parse", "main"]);
    browser.wait_for(
        &format!(
            "document.querySelector('#env-staging td:nth-child(3)').textContent.includes('{}')",
            &commit[..12]
        ),
        Duration::from_secs(30),
    );
    assert_eq!(
        browser.eval("window.braidMarker"),
        serde_json::json!(42),
        "the page was reloaded"
    );
    browser.screenshot("agent-status-2.png");

    // The environment's own page: its resources, its history with the diff of the apply.
    browser.call(
        "Page.navigate",
        serde_json::json!({"url": format!("http://{}/environments/staging", agent.address)}),
    );
    browser.wait_for(
        "document.querySelector('#resources .health')?.textContent === 'healthy' && document.querySelectorAll('#history details').length === 2",
        Duration::from_secs(30),
    );
    browser.eval("document.querySelector('#history details').open = true");
    assert_eq!(
        browser.eval("document.querySelector('#history pre.diff').textContent.includes('local_file.page will be updated in place')"),
        serde_json::json!(true)
    );
    browser.screenshot("agent-environment.png");
    drop(browser);
    let (code, output) = agent.terminate();
    assert_eq!(code, 0, "{output}");
}

/// `braid apply` run by CI sends the `notify` blocks' apply events too: started and
/// succeeded for an apply with changes, nothing for one without, failed for one that fails.
#[test]
fn cli_applies_notify_too() {
    let receiver = Receiver::start(0);
    let project = Project::with_files(&[
        (
            "braid.hcl",
            &format!(
                "notify \"webhook\" {{\n  url    = \"http://{}/hook\"\n  events = [\"apply\"]\n}}\n\nenvironment \"dev\" {{}}\n",
                receiver.address
            ),
        ),
        (
            "main.hcl",
            "resource \"local_file\" \"page\" {\n  filename = \"out/page.txt\"\n  content  = \"v1\"\n}\n",
        ),
    ]);
    project.braid(&["apply", "--auto-approve"]).success();
    let events = |receiver: &Receiver| -> Vec<String> {
        receiver
            .received("/hook")
            .iter()
            .filter_map(|r| r.header("x-braid-event").map(str::to_string))
            .collect()
    };
    assert_eq!(events(&receiver), ["apply_started", "apply_succeeded"]);
    let started = &receiver.received("/hook")[0].json();
    assert_eq!(started["env"], "dev");
    assert_eq!(started["changes"][0]["address"], "local_file.page");
    assert_eq!(started["changes"][0]["action"], "create");

    project.braid(&["apply", "--auto-approve"]).success();
    assert_eq!(
        events(&receiver).len(),
        2,
        "an apply without changes tells nothing"
    );

    project.write(
        "main.hcl",
        "resource \"local_file\" \"page\" {\n  filename = \"main.hcl/inside\"\n  content  = \"v2\"\n}\n",
    );
    project.braid(&["apply", "--auto-approve"]).expect_code(1);
    let all = events(&receiver);
    assert_eq!(all[2..], ["apply_started", "apply_failed"], "{all:?}");
}

/// The environments each replica says it reconciles, by environment: `owned` from each
/// replica's `/api/environments`.
fn owners(
    agents: &[&RunningAgent],
    envs: &[String],
) -> std::collections::BTreeMap<String, Vec<usize>> {
    let mut owners = std::collections::BTreeMap::new();
    for env in envs {
        owners.insert(env.clone(), Vec::new());
    }
    for (i, agent) in agents.iter().enumerate() {
        let (code, body) = agent.get("/api/environments");
        assert_eq!(code, 200, "{body}");
        let list: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        for status in list["environments"].as_array().expect("a list") {
            if status["owned"] == true {
                let name = status["name"].as_str().expect("name").to_string();
                owners.get_mut(&name).expect("a known environment").push(i);
            }
        }
    }
    owners
}

/// Three replicas share six environments whose state is in `state` (a braid.hcl `state`
/// block): each environment is reconciled by exactly one of them, and when one is killed
/// with SIGKILL the others take its environments over within two heartbeat periods and
/// apply the next commit there.
fn replicas_share_and_take_over(state: &str, envs: &[String], env_vars: &[(&str, &str)]) {
    const HEARTBEAT: Duration = Duration::from_secs(2);
    let repo = infra_repo("v1");
    let mut hcl = format!(
        "source \"infra\" {{\n  repo = \"{}\"\n  ref  = \"main\"\n}}\n",
        repo.hcl_path()
    );
    for env in envs {
        hcl.push_str(&format!(
            "\nenvironment \"{env}\" {{\n  auto_apply = true\n  {state}\n}}\n"
        ));
    }
    let project = Project::with_files(&[("braid.hcl", &hcl)]);
    let args = |id: &'static str| {
        vec![
            "--interval",
            "1s",
            "--heartbeat",
            "2s",
            "--replica-id",
            id,
            "--format",
            "json",
        ]
    };
    let mut agents: Vec<Option<RunningAgent>> = ["r1", "r2", "r3"]
        .into_iter()
        .map(|id| Some(RunningAgent::start(&project, &args(id), env_vars)))
        .collect();
    for env in envs {
        wait_file(
            &project.path().join(format!("out/{env}.txt")),
            "v1",
            Duration::from_secs(60),
        );
    }
    // Settled: every environment has exactly one owner, and stays so.
    let live = |agents: &[Option<RunningAgent>]| -> Vec<usize> {
        (0..agents.len()).filter(|i| agents[*i].is_some()).collect()
    };
    let settled = |agents: &[Option<RunningAgent>], within: Duration| {
        let deadline = Instant::now() + within;
        loop {
            let running: Vec<&RunningAgent> = agents.iter().flatten().collect();
            let by_env = owners(&running, envs);
            if by_env.values().all(|o| o.len() == 1) {
                let ids = live(agents);
                return by_env
                    .into_iter()
                    .map(|(env, o)| (env, ids[o[0]]))
                    .collect::<std::collections::BTreeMap<_, _>>();
            }
            assert!(
                Instant::now() < deadline,
                "owners did not settle: {by_env:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let before = settled(&agents, Duration::from_secs(30));
    std::thread::sleep(HEARTBEAT * 2);
    assert_eq!(
        settled(&agents, Duration::ZERO),
        before,
        "the owners moved while all replicas ran"
    );
    // The environments are shared: with one replica owning all of them, nothing was.
    let mut counts = [0usize; 3];
    for owner in before.values() {
        counts[*owner] += 1;
    }
    assert!(counts.iter().filter(|c| **c > 0).count() >= 2, "{before:?}");
    // Each environment was applied once, by one replica.
    for agent in agents.iter_mut().flatten() {
        while let Ok(line) = agent.lines.recv_timeout(Duration::from_millis(100)) {
            agent.seen.push(line);
        }
    }
    for env in envs {
        let applied: usize = agents
            .iter()
            .flatten()
            .map(|a| {
                a.seen
                    .iter()
                    .filter(|l| {
                        l.contains("\"event\":\"applied\"")
                            && l.contains(&format!("\"env\":\"{env}\""))
                    })
                    .count()
            })
            .sum();
        assert_eq!(applied, 1, "{env} applied {applied} times");
    }

    // SIGKILL the replica with the most environments.
    let victim = (0..3).max_by_key(|i| counts[*i]).expect("replicas");
    let mut killed = agents[victim].take().expect("running");
    let killed_at = Instant::now();
    killed.child.kill().expect("SIGKILL");
    killed.child.wait().expect("reaped");
    let after = settled(&agents, HEARTBEAT * 3);
    let took = killed_at.elapsed();
    assert!(
        took <= HEARTBEAT * 2,
        "the killed replica's environments were taken over after {took:?}, more than two heartbeat periods ({:?})",
        HEARTBEAT * 2
    );
    for (env, owner) in &after {
        assert_ne!(*owner, victim, "{env}");
        if before[env] != victim {
            assert_eq!(before[env], *owner, "{env} moved though its replica lives");
        }
    }
    // The new owners reconcile: the next commit reaches every environment.
    repo.write("content.txt", "v2");
    repo.commit_all("v2");
    for env in envs {
        wait_file(
            &project.path().join(format!("out/{env}.txt")),
            "v2",
            Duration::from_secs(30),
        );
    }
    for agent in agents.into_iter().flatten() {
        let (code, output) = agent.terminate();
        assert_eq!(code, 0, "{output}");
    }
}

#[test]
fn replicas_share_environments_on_s3_state_and_take_over_from_a_killed_one() {
    let prefix = format!("ha-{}/", uuid::Uuid::new_v4().simple());
    let state = format!(
        "state {{\n    backend = \"s3\"\n    bucket = \"{}\"\n    prefix = \"{prefix}\"\n    endpoint = \"{}\"\n  }}",
        braid_testkit::MotoServer::SHARED_BUCKET,
        braid_testkit::MotoServer::shared().endpoint()
    );
    let envs: Vec<String> = (1..=6).map(|i| format!("e{i}")).collect();
    let mut vars: Vec<(&str, &str)> = braid_testkit::MOTO_CREDENTIALS.to_vec();
    vars.push(("AWS_REGION", "us-east-1"));
    replicas_share_and_take_over(&state, &envs, &vars);
}

#[test]
fn replicas_share_environments_on_postgres_state_and_take_over_from_a_killed_one() {
    let url = braid_testkit::Postgres::shared().url.clone();
    let state = "state {\n    backend = \"postgres\"\n    url = env(\"BRAID_STATE_URL\")\n  }";
    // One database holds every test's environments: names of their own.
    let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let envs: Vec<String> = (1..=6).map(|i| format!("ha{tag}{i}")).collect();
    replicas_share_and_take_over(state, &envs, &[("BRAID_STATE_URL", &url)]);
}

/// The apps repository of the end-to-end test: a Deployment with `replicas` that receives
/// the queue's URL from the infra repository.
fn worker_yaml(replicas: u32) -> String {
    worker_yaml_failing(replicas, false)
}

/// [`worker_yaml`]; with `fail`, kubesim makes the Deployment's rollout fail.
fn worker_yaml_failing(replicas: u32, fail: bool) -> String {
    let annotations = if fail {
        "\n  annotations:\n    kubesim.braid.dev/fail: \"true\""
    } else {
        ""
    };
    format!(
        r#"apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  namespace: shop{annotations}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{ app: worker }}
  template:
    metadata:
      labels: {{ app: worker }}
    spec:
      containers:
        - name: worker
          image: registry.example.com/worker:1.0.0
          env:
            - name: JOBS_QUEUE_URL
              value: "${{{{ aws_sqs_queue.jobs.url }}}}"
"#
    )
}

/// Sets an attribute of an SQS queue with boto3 (`set`), as someone would by hand, and
/// returns its value as boto3 reads it.
fn boto3_queue_attribute(endpoint: &str, url: &str, name: &str, set: Option<&str>) -> String {
    let change = set
        .map(|value| {
            format!(
                "sqs.set_queue_attributes(QueueUrl='{url}', Attributes={{'{name}': '{value}'}})\n"
            )
        })
        .unwrap_or_default();
    let script = format!(
        "import boto3\nsqs = boto3.client('sqs', endpoint_url='{endpoint}', region_name='us-east-1', aws_access_key_id='testing', aws_secret_access_key='testing')\n{change}print(sqs.get_queue_attributes(QueueUrl='{url}', AttributeNames=['{name}'])['Attributes']['{name}'])\n"
    );
    let out = braid_testkit::MotoServer::python()
        .args(["-c", &script])
        .output()
        .expect("run python3 with boto3");
    assert!(
        out.status.success(),
        "boto3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The URL of the SQS queue `name` in moto.
fn queue_url(moto: &braid_testkit::MotoServer, name: &str) -> String {
    let (_, queues) = moto.request_to("sqs", "GET", "/?Action=ListQueues");
    let end = queues
        .find(&format!("/{name}"))
        .unwrap_or_else(|| panic!("no queue {name} in {queues}"))
        + name.len()
        + 1;
    let start = queues[..end].rfind("http").expect("a URL");
    queues[start..end].to_string()
}

fn replicas(sim: &braid_testkit::KubeSim) -> Option<i64> {
    sim.get("/apis/apps/v1/namespaces/shop/deployments/worker")
        .and_then(|d| d["spec"]["replicas"].as_i64())
}

fn wait_replicas(sim: &braid_testkit::KubeSim, want: i64, within: Duration) -> Duration {
    let started = Instant::now();
    while replicas(sim) != Some(want) {
        assert!(
            started.elapsed() < within,
            "the Deployment has {:?} replicas, not {want}, after {within:?}",
            replicas(sim)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    started.elapsed()
}

/// The agent end to end, on the whole graph: an SQS queue in moto (infra repository) whose
/// URL a Deployment receives (apps repository), in two environments with a cluster each
/// (kubesim). A commit reaches prod by polling within its interval and staging by webhook
/// within 10 s; `kubectl scale` in staging is healed, a boto3 change in prod is reported;
/// a failing apply notifies and backs off, then recovers; the status shows each step, with
/// every resource's health and the history's diffs.
#[test]
fn the_agent_reconciles_clouds_and_clusters_from_two_repositories() {
    let moto = braid_testkit::MotoServer::start();
    let staging_sim = braid_testkit::KubeSim::start();
    let prod_sim = braid_testkit::KubeSim::start();
    let receiver = Receiver::start(0);
    let infra = GitRepo::init();
    infra.write(
        "main.hcl",
        "resource \"aws_sqs_queue\" \"jobs\" {\n  name                       = \"jobs-${env.name}\"\n  visibility_timeout_seconds = 30\n  tags = { \"braid.dev/heal\" = \"false\" }\n}\n",
    );
    infra.commit_all("queue");
    let apps = GitRepo::init();
    apps.write("worker.yaml", &worker_yaml(2));
    apps.commit_all("worker");
    let project = Project::with_files(&[(
        "braid.hcl",
        &format!(
            r#"source "infra" {{
  repo = "{infra}"
  ref  = "main"
}}

source "apps" {{
  repo = "{apps}"
  ref  = "main"
}}

provider "aws" {{
  region   = "us-east-1"
  endpoint = "{moto}"
}}

notify "webhook" {{
  url = "http://{receiver}/hook"
}}

environment "staging" {{
  auto_apply = true
  drift {{
    heal     = true
    interval = "1s"
  }}
  provider "kubernetes" {{
    kubeconfig = "{staging}"
  }}
}}

environment "prod" {{
  auto_apply = true
  interval   = "2s"
  drift {{
    interval = "1s"
  }}
  provider "kubernetes" {{
    kubeconfig = "{prod}"
  }}
}}
"#,
            infra = infra.hcl_path(),
            apps = apps.hcl_path(),
            moto = moto.endpoint(),
            receiver = receiver.address,
            staging = staging_sim.kubeconfig(),
            prod = prod_sim.kubeconfig(),
        ),
    )]);
    let secret = "e2e-webhook-secret";
    let mut env: Vec<(&str, &str)> = braid_testkit::MOTO_CREDENTIALS.to_vec();
    env.extend([
        ("BRAID_WEBHOOK_SECRET", secret),
        ("BRAID_NOTIFY_RETRY", "50ms"),
    ]);
    // staging: only webhooks (and drift checks) bring it changes; prod polls every 2 s.
    let mut agent = RunningAgent::start(&project, &["--interval", "1h", "--heartbeat", "1s"], &env);
    let push = |agent: &RunningAgent| agent.push_github(secret);

    // Both environments applied: the queue's URL in each cluster's Deployment.
    for (name, sim) in [("staging", &staging_sim), ("prod", &prod_sim)] {
        wait_replicas(sim, 2, Duration::from_secs(60));
        let status = agent.wait_status(name, Duration::from_secs(30), |s| s["sync"] == "synced");
        let url = queue_url(&moto, &format!("jobs-{name}"));
        let deployment = sim
            .get("/apis/apps/v1/namespaces/shop/deployments/worker")
            .expect("the Deployment");
        assert_eq!(
            deployment["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"],
            url.as_str()
        );
        let health: Vec<(String, String)> = status["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .map(|r| {
                (
                    r["address"].as_str().unwrap_or_default().to_string(),
                    r["health"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        for address in [
            "aws_sqs_queue.jobs",
            "k8s/apps/Deployment/shop/worker",
            "k8s/core/Namespace/_/shop",
        ] {
            assert!(
                health.contains(&(address.to_string(), "healthy".to_string())),
                "{name}: {health:?}"
            );
        }
    }

    // A commit to the apps repository: prod has it within its interval (polling); staging,
    // polling hourly, not until the webhook, and then within 10 s.
    apps.write("worker.yaml", &worker_yaml(3));
    apps.commit_all("three workers");
    let took = wait_replicas(&prod_sim, 3, Duration::from_secs(30));
    assert!(
        took <= Duration::from_secs(2) + Duration::from_secs(8),
        "prod took {took:?}"
    );
    assert_eq!(
        replicas(&staging_sim),
        Some(2),
        "staging polled though its interval is 1h"
    );
    push(&agent);
    let took = wait_replicas(&staging_sim, 3, Duration::from_secs(10));
    assert!(took < Duration::from_secs(10), "{took:?}");

    // kubectl scale in staging (heal on): undone, and notified.
    staging_sim.kubectl(&["scale", "deployment/worker", "-n", "shop", "--replicas=7"]);
    assert_eq!(replicas(&staging_sim), Some(7));
    wait_replicas(&staging_sim, 3, Duration::from_secs(30));
    receiver.wait("/hook", |r| {
        r.header("x-braid-event") == Some("drift_healed") && r.json()["env"] == "staging"
    });

    // boto3 in staging, on the queue whose tag opts out of healing: reported, left alone.
    let staging_url = queue_url(&moto, "jobs-staging");
    boto3_queue_attribute(
        &moto.endpoint(),
        &staging_url,
        "VisibilityTimeout",
        Some("77"),
    );
    let status = agent.wait_status("staging", Duration::from_secs(30), |s| {
        s["sync"] == "drifted"
    });
    assert_eq!(status["drifted"][0], "aws_sqs_queue.jobs", "{status:#}");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        boto3_queue_attribute(&moto.endpoint(), &staging_url, "VisibilityTimeout", None),
        "77",
        "healed although its tag says braid.dev/heal = false"
    );

    // boto3 in prod (heal off): reported as drift, notified, left as it is.
    let prod_url = queue_url(&moto, "jobs-prod");
    assert_eq!(
        boto3_queue_attribute(&moto.endpoint(), &prod_url, "VisibilityTimeout", Some("99")),
        "99"
    );
    let status = agent.wait_status("prod", Duration::from_secs(30), |s| s["sync"] == "drifted");
    assert_eq!(status["drifted"][0], "aws_sqs_queue.jobs", "{status:#}");
    assert!(
        status["resources"]
            .as_array()
            .expect("resources")
            .iter()
            .any(|r| r["address"] == "aws_sqs_queue.jobs" && r["drifted"] == true),
        "{status:#}"
    );
    receiver.wait("/hook", |r| {
        r.header("x-braid-event") == Some("drift_detected") && r.json()["env"] == "prod"
    });
    std::thread::sleep(Duration::from_secs(2));
    let attributes = boto3_queue_attribute(&moto.endpoint(), &prod_url, "VisibilityTimeout", None);
    assert_eq!(attributes, "99", "prod was healed");

    // A failing apply in staging (the rollout fails in the cluster): notified, failed,
    // backed off; the object's health says why; a fixing commit brings it back.
    apps.write("worker.yaml", &worker_yaml_failing(4, true));
    apps.commit_all("four workers, failing");
    push(&agent);
    receiver.wait("/hook", |r| {
        r.header("x-braid-event") == Some("apply_failed") && r.json()["env"] == "staging"
    });
    let failed = agent.wait_status("staging", Duration::from_secs(30), |s| {
        s["sync"] == "failed"
    });
    assert!(
        failed["failures"].as_u64().is_some_and(|n| n >= 1),
        "{failed:#}"
    );
    let last = failed["last_reconcile"].as_str().expect("last reconcile");
    let next = failed["next_reconcile"].as_str().expect("next reconcile");
    let gap = chrono::DateTime::parse_from_rfc3339(next).expect("time")
        - chrono::DateTime::parse_from_rfc3339(last).expect("time");
    assert!(
        gap >= chrono::Duration::seconds(5),
        "no back-off: {failed:#}"
    );
    let degraded = agent.wait_status("staging", Duration::from_secs(30), |s| {
        s["resources"].as_array().is_some_and(|r| {
            r.iter().any(|r| {
                r["address"] == "k8s/apps/Deployment/shop/worker" && r["health"] == "degraded"
            })
        })
    });
    assert_eq!(degraded["applies_failed"], 1, "{degraded:#}");
    // The failed rollout stays failed until a new one: the fix ships a new image.
    apps.write(
        "worker.yaml",
        &worker_yaml(4).replace("worker:1.0.0", "worker:1.0.1"),
    );
    apps.commit_all("four workers, fixed image");
    push(&agent);
    let status = agent.wait_status("staging", Duration::from_secs(30), |s| {
        s["sync"] == "synced"
            && s["history"][0]["outcome"] == "succeeded"
            && s["resources"]
                .as_array()
                .is_some_and(|r| r.iter().all(|r| r["health"] == "healthy"))
    });
    assert_eq!(replicas(&staging_sim), Some(4));
    // The history: the fix, the failed apply with its reason, and the diffs.
    let history = status["history"].as_array().expect("history");
    assert!(
        history[0]["diff"]
            .as_str()
            .is_some_and(|d| d.contains("worker:1.0.1")),
        "{status:#}"
    );
    assert_eq!(history[1]["outcome"], "failed", "{status:#}");
    let worker = history[1]["changes"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .find(|c| c["address"] == "k8s/apps/Deployment/shop/worker")
        })
        .expect("the Deployment's change");
    assert_eq!(worker["outcome"], "failed", "{status:#}");
    assert!(
        worker["message"]
            .as_str()
            .is_some_and(|m| m.contains("ProgressDeadlineExceeded")),
        "{status:#}"
    );
    assert!(
        history[1]["diff"]
            .as_str()
            .is_some_and(|d| d.contains("replicas") && d.contains("3 -> 4")),
        "{status:#}"
    );
    let (code, page) = agent.get("/environments/staging");
    assert_eq!(code, 200);
    assert!(
        page.contains("k8s/apps/Deployment/shop/worker") && page.contains("failed"),
        "{page}"
    );
    let (_, metrics) = agent.get("/metrics");
    for line in [
        "braid_applies_total{env=\"staging\",outcome=\"failed\"} 1",
        "braid_resources{env=\"staging\",health=\"healthy\"} 3",
        "braid_resources{env=\"staging\",health=\"degraded\"} 0",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
    // The new commits' apply brought the opted-out queue back too (it applies everything).
    assert_eq!(
        boto3_queue_attribute(&moto.endpoint(), &staging_url, "VisibilityTimeout", None),
        "30"
    );
    agent.wait_line("staging: healed", Duration::from_secs(1));
    let (code, output) = agent.terminate();
    assert_eq!(code, 0, "{output}");
}

/// Release windows hold the agent back: with the window closed (the clock fixed by
/// `BRAID_NOW` on a Saturday) new commits of an `auto_apply` environment wait, out of sync,
/// with the window's verdict in the status; `manual_apply` windows hold the agent back too.
#[test]
fn the_agent_waits_for_the_release_window() {
    let repo = infra_repo("v1");
    let project = Project::with_files(&[(
        "braid.hcl",
        &format!(
            r#"source "infra" {{
  repo = "{}"
  ref  = "main"
}}

environment "staging" {{
  auto_apply = true
  window {{
    kind         = "allow"
    schedule     = "0 9 * * 1-5"
    duration     = "8h"
    timezone     = "Europe/Rome"
    manual_apply = true
  }}
}}
"#,
            repo.hcl_path()
        ),
    )]);
    let mut agent = RunningAgent::start(
        &project,
        &["--interval", "1s"],
        &[("BRAID_NOW", "2026-12-12T12:00:00+01:00")],
    );
    let status = agent.wait_status("staging", Duration::from_secs(30), |s| {
        s["sync"] == "out_of_sync" && s["window"]["allowed"] == false
    });
    assert_eq!(
        status["window"]["next_open"], "2026-12-14T08:00:00Z",
        "{status:#}"
    );
    assert_eq!(
        status["pending"][0]["address"], "local_file.page",
        "{status:#}"
    );
    agent.wait_line(
        "staging: waiting for the release window",
        Duration::from_secs(10),
    );
    // Still waiting a few cycles later: nothing applied.
    std::thread::sleep(Duration::from_secs(3));
    assert!(read(&project.path().join("out/staging.txt")).is_none());
    assert_eq!(agent.status("staging")["applies_succeeded"], 0);
    // A person may apply (manual_apply), and the agent then finds it synced.
    project
        .braid_env(
            &["--env", "staging", "apply", "--auto-approve"],
            &[("BRAID_NOW", "2026-12-12T12:00:00+01:00")],
        )
        .success();
    agent.wait_status("staging", Duration::from_secs(30), |s| {
        s["sync"] == "synced"
    });
    let (code, output) = agent.terminate();
    assert_eq!(code, 0, "{output}");
}
