//! `braid-bench --agent N`: N reconcile cycles of `braid agent`, in this process, against a
//! git repository of 100 `local_value` resources: every cycle loads the configuration,
//! fetches the source and plans (the drift check is due every time), and every 25th cycle
//! follows a new commit that changes one resource, which the agent applies. Measures the
//! time per cycle and the resident memory after the first 50 cycles and at the end: memory
//! must not grow with the cycles (`--check` fails when it grows by more than 25 MB).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use braid::agent::{Agent, AgentOptions, LeaseOptions};
use braid::apply::CancelToken;
use braid::workspace::LoadOptions;

const RESOURCES: usize = 100;
const COMMIT_EVERY: u64 = 25;
const WARM: u64 = 50;
const GROWTH_LIMIT_MB: f64 = 25.0;

fn git(dir: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.com",
        ])
        .args(args)
        .output()
        .map_err(|e| format!("git: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn write_resources(repo: &Path, version: u64) -> Result<(), String> {
    let mut text = String::new();
    for i in 0..RESOURCES {
        let input = if i == 0 {
            format!("v{version}")
        } else {
            format!("value-{i}")
        };
        let _ = writeln!(
            text,
            "resource \"local_value\" \"r{i}\" {{\n  input = \"{input}\"\n}}\n"
        );
    }
    std::fs::write(repo.join("main.hcl"), text).map_err(|e| e.to_string())
}

pub fn run(cycles: u64, check: bool) -> Result<String, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let repo = dir.path().join("repo");
    let project = dir.path().join("project");
    std::fs::create_dir_all(&repo).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&project).map_err(|e| e.to_string())?;
    git(&repo, &["init", "-q", "-b", "main"])?;
    write_resources(&repo, 0)?;
    git(&repo, &["add", "-A"])?;
    git(&repo, &["commit", "-q", "-m", "v0"])?;
    std::fs::write(
        project.join("braid.hcl"),
        format!(
            "source \"infra\" {{\n  repo = \"{}\"\n  ref  = \"main\"\n}}\nenvironment \"bench\" {{\n  auto_apply = true\n  drift {{\n    interval = \"1ms\"\n  }}\n}}\n",
            repo.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let cancel = CancelToken::new();
    let agent = Agent::new(
        AgentOptions {
            envs: vec!["bench".to_string()],
            interval: Duration::from_millis(1),
            load: LoadOptions {
                dir: project.clone(),
                ..LoadOptions::default()
            },
            run: braid::ops::RunOptions {
                cancel: cancel.clone(),
                ..braid::ops::RunOptions::default()
            },
            read_only: false,
            // The lease is renewed as the agent renews it, every 100 ms here.
            lease: Some(LeaseOptions {
                replica: "bench".to_string(),
                heartbeat: Duration::from_millis(300),
            }),
        },
        braid::cli::builtin_providers(),
        cancel.clone(),
        std::sync::Arc::new(|_: &braid::agent::AgentEvent| {}),
    );
    let shared = agent.shared();
    let reconciles =
        |shared: &braid::agent::Shared| shared.snapshot().first().map_or(0, |s| s.reconciles);
    let started = Instant::now();
    let (warm_rss, failures, applies) = runtime.block_on(async {
        let watcher = async {
            let mut warm = None;
            let mut committed = 0;
            loop {
                let done = reconciles(&shared);
                if done >= WARM && warm.is_none() {
                    warm = Some(braid::diag::resident_mb());
                }
                if done >= cycles {
                    cancel.cancel();
                    break;
                }
                let due = done / COMMIT_EVERY;
                if due > committed {
                    committed = due;
                    if let Err(e) = write_resources(&repo, due)
                        .and_then(|()| git(&repo, &["commit", "-q", "-am", "next"]))
                    {
                        cancel.cancel();
                        return Err(e);
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Ok(warm)
        };
        let (warm, ()) = tokio::join!(watcher, agent.run());
        let status = shared.snapshot().into_iter().next();
        let warm = warm?;
        Ok::<_, String>((
            warm.flatten(),
            status.as_ref().map_or(0, |s| s.applies_failed),
            status.as_ref().map_or(0, |s| s.applies_succeeded),
        ))
    })?;
    let wall = started.elapsed();
    let end_rss = braid::diag::resident_mb();
    let per_cycle = wall.as_secs_f64() * 1000.0 / cycles.max(1) as f64;
    let growth = match (warm_rss, end_rss) {
        (Some(a), Some(b)) => Some(b as f64 - a as f64),
        _ => None,
    };
    let mut table = String::from(
        "| cycles | applies | ms per cycle | RSS after 50 cycles | RSS at the end | growth |\n|---:|---:|---:|---:|---:|---:|\n",
    );
    let mb = |v: Option<u64>| v.map_or("n/a".to_string(), |v| format!("{v} MB"));
    let _ = writeln!(
        table,
        "| {cycles} | {applies} | {per_cycle:.1} | {} | {} | {} |",
        mb(warm_rss),
        mb(end_rss),
        growth.map_or("n/a".to_string(), |g| format!("{g:+.0} MB"))
    );
    if check {
        if failures > 0 {
            return Err(format!("{failures} apply(ies) failed during the run"));
        }
        let expected = cycles.saturating_sub(1) / COMMIT_EVERY;
        if applies < expected {
            return Err(format!(
                "{applies} applies for {expected} commits: the agent missed commits"
            ));
        }
        if let Some(g) = growth
            && g > GROWTH_LIMIT_MB
        {
            return Err(format!(
                "resident memory grew by {g:.0} MB from cycle {WARM} to cycle {cycles} (limit {GROWTH_LIMIT_MB} MB)\n{table}"
            ));
        }
    }
    Ok(table)
}
