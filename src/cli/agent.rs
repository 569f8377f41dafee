//! `braid agent`: reconcile environments continuously (see [`crate::agent`]), serving their
//! status over HTTP with `--listen`.

use std::time::Duration;

use clap::Args;

use super::{CommandResult, Context, EXIT_OK};
use crate::agent::{Agent, AgentOptions, LeaseOptions, lease, server};
use crate::config::parse_duration;
use crate::diag::Diagnostic;
use crate::view::Format;

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// Serve the status page, the JSON API, /metrics, /healthz, /readyz and the push
    /// webhooks on ADDR (127.0.0.1:8080; port 0 picks a free one).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// How often each environment's sources are looked at, unless its environment block
    /// in braid.hcl sets `interval`.
    #[arg(long, default_value = "1m", value_name = "DURATION")]
    pub interval: String,
    /// How many provider calls run at once in each environment.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub parallelism: usize,
    /// The lease heartbeat period: replicas sharing the environments renew their leases
    /// three times per period, and take over the environments of a replica whose lease
    /// went a whole period without renewal.
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub heartbeat: String,
    /// This replica's id among the replicas (default: host name, process id and a random
    /// suffix; in Kubernetes, the pod name).
    #[arg(long, env = "BRAID_REPLICA_ID", value_name = "ID")]
    pub replica_id: Option<String>,
}

/// `braid serve`: the agent's status page, API and metrics, read-only.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where to serve (127.0.0.1:8080; port 0 picks a free one).
    #[arg(long, value_name = "ADDR")]
    pub listen: String,
    /// How often each environment is planned to refresh its status, unless its
    /// environment block in braid.hcl sets `interval`.
    #[arg(long, default_value = "1m", value_name = "DURATION")]
    pub interval: String,
    /// How many provider calls run at once in each environment.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub parallelism: usize,
}

pub async fn run(cx: &Context, args: &AgentArgs) -> CommandResult {
    let heartbeat = parse_duration(&args.heartbeat)
        .filter(|d| *d >= Duration::from_millis(300))
        .ok_or_else(|| {
            Diagnostic::error(
                "Invalid --heartbeat",
                format!(
                    "--heartbeat takes a duration of at least 300ms like 5s or 10s, but got \"{}\".",
                    args.heartbeat
                ),
            )
        })?;
    let replica = match &args.replica_id {
        Some(id) => {
            // The id names documents in every backend: keep it to what all of them take.
            let valid = !id.is_empty()
                && id.len() <= 100
                && id != "."
                && id != ".."
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
            if !valid {
                return Err(Diagnostic::error(
                    "Invalid --replica-id",
                    format!(
                        "The replica id \"{id}\" must be 1 to 100 letters, digits and - _ . : characters."
                    ),
                )
                .into());
            }
            id.clone()
        }
        None => lease::default_replica_id(),
    };
    run_loops(
        cx,
        args.listen.as_deref(),
        &args.interval,
        args.parallelism,
        Some(LeaseOptions { replica, heartbeat }),
    )
    .await
}

pub async fn serve(cx: &Context, args: &ServeArgs) -> CommandResult {
    run_loops(
        cx,
        Some(&args.listen),
        &args.interval,
        args.parallelism,
        None,
    )
    .await
}

/// The agent's loops (read-only for `braid serve`, which takes no lease), with the server
/// when `listen` says.
async fn run_loops(
    cx: &Context,
    listen: Option<&str>,
    interval: &str,
    parallelism: usize,
    lease: Option<LeaseOptions>,
) -> CommandResult {
    let read_only = lease.is_none();
    let name = if read_only {
        "braid serve"
    } else {
        "braid agent"
    };
    let interval_text = interval;
    let interval = parse_duration(interval_text)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            Diagnostic::error(
                "Invalid --interval",
                format!(
                    "--interval takes a duration more than zero like 30s, 1m or 5m, but got \"{interval_text}\"."
                ),
            )
        })?;
    let project = crate::config::load_project(&cx.global.dir)?;
    let auth = project.server.clone();
    let envs = match cx.global.envs.as_slice() {
        [] => project
            .environments
            .iter()
            .map(|e| e.name.clone())
            .collect(),
        some => some.to_vec(),
    };
    if envs.is_empty() {
        return Err(Diagnostic::error(
            "No environment to reconcile",
            format!("{name} works on the environments named with --env, or else every environment block of braid.hcl, but there is none. Declare one, or name it with --env."),
        )
        .into());
    }
    for env in &envs {
        cx.global.for_env(env).single_env()?;
    }
    let load = cx.global.for_env(&envs[0]).load_options()?;
    let run = cx.global.run_options(true, parallelism, &cx.cancel)?;
    // From the start a signal stops cleanly: the cycle in flight finishes.
    cx.stop_gracefully();
    let shell = cx.shell.clone();
    let agent = Agent::new(
        AgentOptions {
            envs: envs.clone(),
            interval,
            load,
            run,
            read_only,
            lease,
        },
        cx.registry.clone(),
        cx.cancel.clone(),
        std::sync::Arc::new(
            move |event: &crate::agent::AgentEvent| match shell.format() {
                Format::Json => shell.out(&format!(
                    "{}\n",
                    serde_json::json!({
                        "time": chrono::Utc::now(),
                        "env": event.env,
                        "event": event.kind,
                        "message": event.message,
                    })
                )),
                _ => shell.out(&format!("{}: {}\n", event.env, event.message)),
            },
        ),
    );
    let agent = agent.with_diff_renderer(std::sync::Arc::new(|plan: &crate::plan::Plan| {
        crate::view::plan::render_human(plan, crate::view::Style::plain())
    }));
    let shared = agent.shared();
    let server = match listen {
        None => None,
        Some(address) => {
            let listener = tokio::net::TcpListener::bind(address).await.map_err(|e| {
                Diagnostic::error(
                    "Cannot listen",
                    format!("--listen {address}: {e}. Give a free address such as 127.0.0.1:8080."),
                )
            })?;
            let bound = listener.local_addr().map_err(|e| {
                Diagnostic::error("Cannot listen", format!("--listen {address}: {e}."))
            })?;
            cx.shell
                .out(&format!("braid agent: serving http://{bound}/\n"));
            let secret = std::env::var(server::WEBHOOK_SECRET_ENV)
                .ok()
                .map(String::into_bytes);
            let router = server::router(shared.clone(), !read_only, secret, auth.clone());
            Some(tokio::spawn(server::serve(
                listener,
                router,
                shared.clone(),
            )))
        }
    };
    if cx.shell.format() != Format::Json {
        cx.shell.out(&format!(
            "{name}: {} {} every {} (unless braid.hcl says otherwise)\n",
            if read_only { "showing" } else { "reconciling" },
            envs.join(", "),
            humantime(interval)
        ));
    }
    agent.run().await;
    if let Some(server) = server {
        shared.cancel.cancel();
        let _ = server.await;
    }
    match cx.shell.format() {
        Format::Json => cx.shell.out("{\"event\":\"stopped\"}\n"),
        _ => cx.shell.out(&format!("{name}: stopped\n")),
    }
    Ok(EXIT_OK)
}

fn humantime(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 && secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else if secs > 0 {
        format!("{secs}s")
    } else {
        format!("{}ms", d.as_millis())
    }
}
