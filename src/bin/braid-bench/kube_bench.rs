//! `braid-bench --kubernetes N`: N ConfigMaps applied to kubesim with an API latency (10 ms
//! by default, `--latency-ms`), by braid (plan, apply, no-op plan, in-process as the CLI
//! runs them) and by kubectl (`kubectl apply --server-side`, then the same again with nothing
//! to change), each against a fresh `kubesim` (the binary next to this one). For every phase
//! it counts the API requests, per object, and compares braid's wall time with the bound
//! `requests × latency / parallelism`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use braid::apply::{ApplyOptions, SilentObserver, apply_plan};
use braid::workspace::LoadOptions;

use crate::{Planned, load_and_plan};

/// braid's apply must come within this factor of the request bound.
const BOUND_FACTOR: f64 = 1.3;

/// A kubesim process, stopped when dropped.
struct Sim {
    child: Child,
    url: String,
    kubeconfig: PathBuf,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sim {
    fn start(dir: &Path, latency_ms: u64) -> Result<Sim, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let program = exe.with_file_name("kubesim");
        let kubeconfig = dir.join("kubeconfig.yaml");
        let child = Command::new(&program)
            .args(["--port", "0", "--ready-delay-ms", "0", "--latency-ms"])
            .arg(latency_ms.to_string())
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start {} ({e}): build it with `cargo build --release --bin kubesim`",
                    program.display()
                )
            })?;
        let mut sim = Sim {
            child,
            url: String::new(),
            kubeconfig,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(text) = std::fs::read_to_string(&sim.kubeconfig)
                && let Some(url) = text
                    .lines()
                    .find_map(|l| l.trim().strip_prefix("server:"))
                    .map(|u| u.trim().trim_matches('"').to_string())
            {
                sim.url = url;
                return Ok(sim);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err("kubesim did not write its kubeconfig within 20 s".to_string())
    }

    /// Requests logged since the last call (and clears the log).
    async fn take_requests(
        &self,
        client: &reqwest::Client,
    ) -> Result<Vec<serde_json::Value>, String> {
        let url = format!("{}/kubesim/requests", self.url);
        let bytes = client
            .get(&url)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .bytes()
            .await
            .map_err(|e| e.to_string())?;
        let log: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        client
            .delete(&url)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        Ok(log["requests"].as_array().cloned().unwrap_or_default())
    }
}

fn generate(dir: &Path, n: usize, kubeconfig: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("deploy"))?;
    std::fs::write(
        dir.join("braid.hcl"),
        format!(
            "source \"apps\" {{ path = \"deploy\" }}\nenvironment \"bench\" {{}}\nprovider \"kubernetes\" {{ kubeconfig = \"{}\" }}\n",
            kubeconfig.display()
        ),
    )?;
    let mut text = String::new();
    for i in 0..n {
        let _ = write!(
            text,
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-{i}\n  namespace: default\ndata:\n  index: \"{i}\"\n  level: info\n"
        );
    }
    std::fs::write(dir.join("deploy/configmaps.yaml"), text)
}

struct Row {
    tool: &'static str,
    phase: &'static str,
    wall: Duration,
    requests: usize,
    parallelism: usize,
    /// The requests by kind: `PATCH object (dryRun)`, `GET discovery` … and how many.
    breakdown: Vec<(String, usize)>,
}

/// What a logged request was, in a few words.
fn request_kind(request: &serde_json::Value) -> String {
    let method = request["method"].as_str().unwrap_or_default();
    let path = request["path"].as_str().unwrap_or_default();
    let query = request["query"].as_str().unwrap_or_default();
    let target = if path.contains("/configmaps/") {
        "object"
    } else if path.ends_with("/configmaps") {
        "collection"
    } else if path.starts_with("/openapi") {
        "openapi"
    } else {
        "discovery"
    };
    let mut notes = Vec::new();
    if query.contains("dryRun") {
        notes.push("dryRun");
    }
    if query.contains("watch") {
        notes.push("watch");
    }
    if notes.is_empty() {
        format!("{method} {target}")
    } else {
        format!("{method} {target} ({})", notes.join(", "))
    }
}

fn breakdown(requests: &[serde_json::Value]) -> Vec<(String, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for r in requests {
        *counts.entry(request_kind(r)).or_insert(0) += 1;
    }
    let mut out: Vec<(String, usize)> = counts.into_iter().collect();
    out.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    out
}

async fn braid_phases(n: usize, latency_ms: u64, rows: &mut Vec<Row>) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let sim = Sim::start(dir.path(), latency_ms)?;
    let project = dir.path().join("project");
    generate(&project, n, &sim.kubeconfig).map_err(|e| e.to_string())?;
    let client = reqwest::Client::new();
    let options = LoadOptions {
        dir: project.clone(),
        env: Some("bench".to_string()),
        ..LoadOptions::default()
    };
    let apply_options = ApplyOptions::default();
    let parallelism = apply_options.parallelism;
    sim.take_requests(&client).await?;

    let start = Instant::now();
    let Planned {
        ws,
        store,
        providers,
        plan,
    } = load_and_plan(&options).await?;
    let wall = start.elapsed();
    if plan.summary().create != n {
        return Err(format!(
            "the first plan creates {} objects, not {n}",
            plan.summary().create
        ));
    }
    let log = sim.take_requests(&client).await?;
    let requests = log.len();
    rows.push(Row {
        tool: "braid",
        phase: "plan",
        wall,
        requests,
        parallelism,
        breakdown: breakdown(&log),
    });

    let start = Instant::now();
    let report = apply_plan(
        &ws,
        &providers,
        store.clone(),
        &plan,
        &apply_options,
        &SilentObserver,
    )
    .await
    .map_err(crate::render)?;
    let wall = start.elapsed();
    if !report.succeeded() {
        return Err(format!("apply failed: {:?}", report.summary));
    }
    let log = sim.take_requests(&client).await?;
    let requests = log.len();
    rows.push(Row {
        tool: "braid",
        phase: "apply",
        wall,
        requests,
        parallelism,
        breakdown: breakdown(&log),
    });
    drop((ws, store, providers, plan));

    let start = Instant::now();
    let Planned { plan, .. } = load_and_plan(&options).await?;
    let wall = start.elapsed();
    if plan.has_changes() {
        return Err(format!(
            "the plan after apply is not empty: {:?}",
            plan.summary()
        ));
    }
    let log = sim.take_requests(&client).await?;
    let requests = log.len();
    rows.push(Row {
        tool: "braid",
        phase: "no-op plan",
        wall,
        requests,
        parallelism,
        breakdown: breakdown(&log),
    });
    Ok(())
}

async fn kubectl_phases(n: usize, latency_ms: u64, rows: &mut Vec<Row>) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let sim = Sim::start(dir.path(), latency_ms)?;
    let project = dir.path().join("project");
    generate(&project, n, &sim.kubeconfig).map_err(|e| e.to_string())?;
    let client = reqwest::Client::new();
    sim.take_requests(&client).await?;
    let kubectl = std::env::var_os("BRAID_KUBECTL").unwrap_or_else(|| "kubectl".into());
    for phase in ["apply", "no-op apply"] {
        let start = Instant::now();
        let out = Command::new(&kubectl)
            .args(["apply", "--server-side", "-f"])
            .arg(project.join("deploy"))
            .arg("--cache-dir")
            .arg(dir.path().join("kubectl-cache"))
            .env("KUBECONFIG", &sim.kubeconfig)
            .output()
            .map_err(|e| format!("cannot run kubectl ({e}): install it or set BRAID_KUBECTL"))?;
        let wall = start.elapsed();
        if !out.status.success() {
            return Err(format!(
                "kubectl apply failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let log = sim.take_requests(&client).await?;
        let requests = log.len();
        rows.push(Row {
            tool: "kubectl",
            phase,
            wall,
            requests,
            parallelism: 1,
            breakdown: breakdown(&log),
        });
    }
    Ok(())
}

/// Runs both and renders the table; with `check`, fails when braid's apply is not within
/// [`BOUND_FACTOR`] of its request bound.
pub fn run(n: usize, latency_ms: u64, with_kubectl: bool, check: bool) -> Result<String, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    runtime.block_on(braid_phases(n, latency_ms, &mut rows))?;
    if with_kubectl {
        runtime.block_on(kubectl_phases(n, latency_ms, &mut rows))?;
    }
    let mut table = format!(
        "{n} ConfigMaps, {latency_ms} ms API latency\n\n| tool | phase | wall time | requests | per object | bound: requests × latency / parallelism | wall / bound |\n|---|---|---:|---:|---:|---:|---:|\n"
    );
    let mut failure = None;
    for row in &rows {
        let bound = Duration::from_secs_f64(
            row.requests as f64 * latency_ms as f64 / 1000.0 / row.parallelism as f64,
        );
        let ratio = row.wall.as_secs_f64() / bound.as_secs_f64().max(f64::EPSILON);
        let _ = writeln!(
            table,
            "| {} | {} | {:.2} s | {} | {:.2} | {:.2} s (÷{}) | {:.2} |",
            row.tool,
            row.phase,
            row.wall.as_secs_f64(),
            row.requests,
            row.requests as f64 / n as f64,
            bound.as_secs_f64(),
            row.parallelism,
            ratio
        );
        if check && row.tool == "braid" && row.phase == "apply" && ratio > BOUND_FACTOR {
            failure = Some(format!(
                "braid's apply took {:.2} s, {ratio:.2}× its bound of {:.2} s (limit {BOUND_FACTOR}×)",
                row.wall.as_secs_f64(),
                bound.as_secs_f64()
            ));
        }
    }
    table.push_str("\nRequests by kind:\n\n| tool | phase | requests |\n|---|---|---|\n");
    for row in &rows {
        let kinds: Vec<String> = row
            .breakdown
            .iter()
            .map(|(k, c)| format!("{c} × {k}"))
            .collect();
        let _ = writeln!(
            table,
            "| {} | {} | {} |",
            row.tool,
            row.phase,
            kinds.join(", ")
        );
    }
    match failure {
        Some(message) => Err(format!("{table}\n{message}")),
        None => Ok(table),
    }
}
