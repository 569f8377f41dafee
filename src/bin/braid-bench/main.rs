//! braid's engine benchmark: N `local_value` resources in 10 layers, each referencing two
//! resources of the layer before (by id, as real configurations reference resources). Measures a first plan, its apply, and a no-op plan, with
//! wall time and peak resident memory of each phase. Two shapes of the same graph: N
//! resource blocks (`blocks`), and 10 blocks with `for_each` over N/10 keys whose instances
//! reference instances of the layer before (`for_each`).
//!
//! Run: `cargo run --release --bin braid-bench -- --sizes 1000,10000`
//! (`--check` makes it fail unless every phase did what it should; scripts/test.sh uses it
//! at a small size.)
//!
//! `--backend sqlite|postgres|s3` keeps the state in that backend: a throw-away PostgreSQL
//! server or `moto_server` (S3) started as the tests start them (braid-testkit), so the
//! shared backends are measured against SQLite on the same machine.
//!
//! `--helm N` measures rendering a Helm chart of N objects (`helm_bench.rs`).
//!
//! `--agent N` runs N reconcile cycles of `braid agent` in this process and measures
//! whether memory grows with them (`agent_bench.rs`).
//!
//! `--kubernetes N [--latency-ms 10] [--no-kubectl]` applies N ConfigMaps to kubesim with
//! braid and with kubectl, counting API requests per object (`kube_bench.rs`).
//!
//! `--terraform N` instead compares braid with `terraform` on the same configuration of N
//! resources served by the same `terraform-provider-aws` against moto (one fresh
//! `moto_server` each): apply from nothing, then a no-op plan, both through the command-line
//! tools (`braid` next to this executable, `terraform` on PATH).

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use braid::apply::{ApplyOptions, SilentObserver, apply_plan};
use braid::plan::{PlanOptions, make_plan};
use braid::workspace::{LoadOptions, Workspace};

/// The allocator the `braid` binary uses (src/main.rs), so the figures are braid's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod agent_bench;
mod helm_bench;
mod kube_bench;
mod terraform_bench;

const LAYERS: usize = 10;

/// Where the state is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
    S3,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::S3 => "s3",
        }
    }

    /// The `state` block of an environment whose state lives in this backend (servers
    /// started on first use); `tag` keeps runs apart in a shared server.
    fn state_block(self, tag: &str) -> String {
        match self {
            Backend::Sqlite => String::new(),
            Backend::Postgres => format!(
                "  state {{\n    backend = \"postgres\"\n    url     = \"{}\"\n  }}\n",
                braid_testkit::Postgres::shared().url
            ),
            Backend::S3 => format!(
                "  state {{\n    backend  = \"s3\"\n    bucket   = \"{}\"\n    prefix   = \"bench-{tag}/\"\n    region   = \"us-east-1\"\n    endpoint = \"{}\"\n  }}\n",
                braid_testkit::MotoServer::SHARED_BUCKET,
                braid_testkit::MotoServer::shared().endpoint()
            ),
        }
    }
}

/// How the resources are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// One resource block per resource.
    Blocks,
    /// One block per layer, with `for_each` over N/10 keys.
    ForEach,
    /// One module call per layer, with `for_each` over N/10 keys; each instance holds one
    /// resource and reads two instances of the layer before through their outputs.
    Modules,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::Blocks => "blocks",
            Shape::ForEach => "for_each",
            Shape::Modules => "modules",
        }
    }
}

struct Phase {
    name: &'static str,
    wall: Duration,
    peak_rss_kib: Option<u64>,
}

fn main() {
    let shell = braid::view::Shell::new(braid::view::Format::Human, true, false, 0);
    let mut sizes = vec![1000, 10000];
    let mut shapes = vec![Shape::Blocks, Shape::ForEach, Shape::Modules];
    let mut backend = Backend::Sqlite;
    // `--check` counts wherever it is written (`--helm 200 --check`).
    let check = std::env::args().any(|a| a == "--check");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--sizes" => {
                sizes = args
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|s| s.trim().parse().ok())
                    .collect();
            }
            "--check" | "--no-kubectl" => {}
            "--backend" => {
                backend = match args.next().as_deref() {
                    Some("sqlite") => Backend::Sqlite,
                    Some("postgres") => Backend::Postgres,
                    Some("s3") => Backend::S3,
                    other => {
                        shell.err(&format!(
                            "error: --backend takes sqlite, postgres or s3, not {}\n",
                            other.unwrap_or("nothing")
                        ));
                        std::process::exit(1);
                    }
                };
                // The S3 backend reads AWS credentials from the environment, which this
                // process cannot set on itself: run again with moto's.
                if backend == Backend::S3 && std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
                    let status = std::env::current_exe().and_then(|exe| {
                        std::process::Command::new(exe)
                            .args(std::env::args_os().skip(1))
                            .envs(braid_testkit::MOTO_CREDENTIALS.iter().copied())
                            .env("AWS_REGION", "us-east-1")
                            .status()
                    });
                    std::process::exit(status.map_or(1, |s| s.code().unwrap_or(1)));
                }
            }
            "--shapes" => {
                let wanted = args.next().unwrap_or_default();
                shapes.retain(|s| wanted.split(',').any(|w| w.trim() == s.name()));
            }
            "--kubernetes" => {
                let n = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
                let all: Vec<String> = std::env::args().collect();
                let latency = all
                    .iter()
                    .position(|a| a == "--latency-ms")
                    .and_then(|i| all.get(i + 1))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(10);
                let with_kubectl = !all.iter().any(|a| a == "--no-kubectl");
                finish(&shell, kube_bench::run(n, latency, with_kubectl, check));
                return;
            }
            "--latency-ms" => {
                args.next();
            }
            "--agent" => {
                let n = args.next().and_then(|n| n.parse().ok()).unwrap_or(500);
                finish(&shell, agent_bench::run(n, check));
                return;
            }
            "--helm" | "--terraform" => {
                let n = args.next().and_then(|n| n.parse().ok()).unwrap_or(200);
                let table = if arg == "--helm" {
                    helm_bench::run(n, check)
                } else {
                    terraform_bench::run(n, check)
                };
                finish(&shell, table);
                return;
            }
            other => {
                shell.err(&format!(
                    "error: unknown argument {other}\nusage: braid-bench [--sizes 1000,10000] [--shapes blocks,for_each,modules] [--backend sqlite|postgres|s3] [--check] | --terraform N [--check] | --helm N [--check] | --kubernetes N [--latency-ms MS] [--no-kubectl] [--check] | --agent N [--check]\n"
                ));
                std::process::exit(1);
            }
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            shell.err(&format!("error: cannot start runtime: {e}\n"));
            std::process::exit(1);
        }
    };
    shell.out(
        "| resources | written as | state | phase | wall time | peak RSS |\n|---:|---|---|---|---:|---:|\n",
    );
    for (n, shape) in sizes
        .into_iter()
        .flat_map(|n| shapes.iter().map(move |s| (n, *s)))
    {
        match runtime.block_on(bench(n, check, shape, backend)) {
            Ok(phases) => {
                for p in phases {
                    let rss = p.peak_rss_kib.map_or("n/a".to_string(), |k| {
                        format!("{:.0} MB", k as f64 / 1024.0)
                    });
                    shell.out(&format!(
                        "| {n} | {} | {} | {} | {:.3} s | {rss} |\n",
                        shape.name(),
                        backend.name(),
                        p.name,
                        p.wall.as_secs_f64()
                    ));
                }
            }
            Err(e) => {
                shell.err(&format!(
                    "error: benchmark with {n} resources failed: {e}\n"
                ));
                std::process::exit(1);
            }
        }
    }
}

/// Prints a benchmark's table, or its error and exits 1.
fn finish(shell: &braid::view::Shell, table: Result<String, String>) {
    match table {
        Ok(table) => shell.out(&table),
        Err(e) => {
            shell.err(&format!("error: {e}\n"));
            std::process::exit(1);
        }
    }
}

/// Writes the generated project: a braid.hcl (environment `env` with `state`, a state
/// block or nothing) and one resource file per layer.
fn generate(dir: &Path, n: usize, shape: Shape, env: &str, state: &str) -> std::io::Result<()> {
    std::fs::write(
        dir.join("braid.hcl"),
        format!("source \"infra\" {{ path = \".\" }}\nenvironment \"{env}\" {{\n{state}}}\n"),
    )?;
    let per_layer = (n / LAYERS).max(1);
    if shape != Shape::Blocks {
        // One block per layer with for_each: a resource, or a module call whose instance holds
        // one. Each key names the next one, so every instance reads two of the layer before.
        let (kind, source, attribute) = if shape == Shape::Modules {
            std::fs::create_dir_all(dir.join("modules/item"))?;
            std::fs::write(
                dir.join("modules/item/main.tf"),
                "variable \"input\" {}\nresource \"local_value\" \"this\" {\n  input = var.input\n}\noutput \"id\" {\n  value = local_value.this.id\n}\n",
            )?;
            ("module", "  source   = \"./modules/item\"\n", "module")
        } else {
            ("resource \"local_value\"", "", "local_value")
        };
        let mut text = format!(
            "locals {{\n  next = {{ for i in range({per_layer}) : \"k${{i}}\" => \"k${{(i + 1) % {per_layer}}}\" }}\n}}\n"
        );
        for layer in 0..LAYERS {
            let input = if layer == 0 {
                "\"seed-${each.key}\"".to_string()
            } else {
                let prev = layer - 1;
                format!(
                    "{{\n    a = {attribute}.l{prev}[each.key].id\n    b = {attribute}.l{prev}[each.value].id\n  }}"
                )
            };
            let _ = writeln!(
                text,
                "{kind} \"l{layer}\" {{\n{source}  for_each = local.next\n  input    = {input}\n}}"
            );
        }
        return std::fs::write(dir.join("main.tf"), text);
    }
    for layer in 0..LAYERS {
        let mut text = String::new();
        for i in 0..per_layer {
            let _ = if layer == 0 {
                writeln!(
                    text,
                    "resource \"local_value\" \"l0_{i}\" {{\n  input = \"seed-{i}\"\n}}"
                )
            } else {
                let prev = layer - 1;
                let j = (i + 1) % per_layer;
                writeln!(
                    text,
                    "resource \"local_value\" \"l{layer}_{i}\" {{\n  input = {{\n    a = local_value.l{prev}_{i}.id\n    b = local_value.l{prev}_{j}.id\n  }}\n}}"
                )
            };
        }
        std::fs::write(dir.join(format!("layer{layer}.hcl")), text)?;
    }
    Ok(())
}

/// Diagnostics as one text.
fn render(diagnostics: braid::diag::Diagnostics) -> String {
    diagnostics
        .0
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a plan needs and what it made.
struct Planned {
    ws: Workspace,
    store: std::sync::Arc<dyn braid_state::StateStore>,
    providers: braid::providers::Providers,
    plan: braid::plan::Plan,
}

/// Loads the project, opens state, configures the providers and plans, as `braid plan` does.
async fn load_and_plan(options: &LoadOptions) -> Result<Planned, String> {
    let ws = Workspace::load(options).map_err(render)?;
    let store = ws.open_state().map_err(render)?;
    let providers = ws
        .providers(&braid::cli::builtin_providers(), std::iter::empty())
        .map_err(render)?;
    ws.configure(&providers).await.map_err(render)?;
    let plan = make_plan(
        &ws,
        &providers,
        store.as_ref(),
        &PlanOptions::default(),
        &SilentObserver,
    )
    .await
    .map_err(render)?;
    Ok(Planned {
        ws,
        store,
        providers,
        plan,
    })
}

/// Peak resident set size since the last reset, from /proc (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the peak RSS counter so each phase is measured on its own (Linux ≥ 4.0).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn bench(
    n: usize,
    check: bool,
    shape: Shape,
    backend: Backend,
) -> Result<Vec<Phase>, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    // Shared servers hold every run: each gets an environment (and S3 prefix) of its own.
    let tag = format!("{n}{}{}", shape.name().replace('_', ""), std::process::id());
    let env = format!("bench{tag}");
    let state = backend.state_block(&tag);
    generate(dir.path(), n, shape, &env, &state).map_err(|e| e.to_string())?;
    let options = LoadOptions {
        dir: dir.path().to_path_buf(),
        env: Some(env),
        ..LoadOptions::default()
    };
    let mut phases = Vec::new();

    reset_peak_rss();
    let start = Instant::now();
    let Planned {
        ws,
        store,
        providers,
        plan,
    } = load_and_plan(&options).await?;
    phases.push(Phase {
        name: "plan",
        wall: start.elapsed(),
        peak_rss_kib: peak_rss_kib(),
    });
    let expected = (n / LAYERS).max(1) * LAYERS;
    if check && plan.summary().create != expected {
        return Err(format!(
            "first plan creates {} resources, expected {expected}",
            plan.summary().create
        ));
    }

    reset_peak_rss();
    let start = Instant::now();
    let report = apply_plan(
        &ws,
        &providers,
        store.clone(),
        &plan,
        &ApplyOptions::default(),
        &SilentObserver,
    )
    .await
    .map_err(render)?;
    phases.push(Phase {
        name: "apply",
        wall: start.elapsed(),
        peak_rss_kib: peak_rss_kib(),
    });
    if check && (!report.succeeded() || report.summary.create as usize != expected) {
        return Err(format!(
            "apply did not create all resources: {:?}",
            report.summary
        ));
    }
    drop((ws, providers, store, plan, report));

    reset_peak_rss();
    let start = Instant::now();
    let Planned { plan, .. } = load_and_plan(&options).await?;
    phases.push(Phase {
        name: "no-op plan",
        wall: start.elapsed(),
        peak_rss_kib: peak_rss_kib(),
    });
    if check && plan.has_changes() {
        return Err(format!(
            "the plan after apply is not empty: {:?}",
            plan.summary()
        ));
    }
    Ok(phases)
}
