//! `kubesim` binary: runs the emulator until Ctrl-C, for demos and manual use.
//!
//! Printing the address and progress is this program's job, so it may print.
//!
//! `cargo run -p kubesim -- --port 6443 --kubeconfig out.yaml`

#![allow(clippy::print_stdout, clippy::print_stderr)] // A program whose output is its interface.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

/// Kubernetes API server emulator (plain HTTP on 127.0.0.1).
#[derive(Debug, Parser)]
#[command(name = "kubesim", version)]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 6443)]
    port: u16,
    /// Where to write the kubeconfig for clients.
    #[arg(long, default_value = "kubesim.kubeconfig")]
    kubeconfig: PathBuf,
    /// Milliseconds simulated controllers take to make objects ready.
    #[arg(long, default_value_t = 200)]
    ready_delay_ms: u64,
    /// Added latency per request in milliseconds (fault injection).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Probability 0.0-1.0 that a request fails with 500, 429 or a dropped connection.
    #[arg(long, default_value_t = 0.0)]
    failure_rate: f64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let config = kubesim::Config {
        port: args.port,
        kubeconfig_path: Some(args.kubeconfig.clone()),
        ready_delay: Duration::from_millis(args.ready_delay_ms),
        faults: kubesim::Faults {
            latency_ms: args.latency_ms,
            failure_rate: args.failure_rate.clamp(0.0, 1.0),
            ..kubesim::Faults::default()
        },
        ..kubesim::Config::default()
    };
    let server = match kubesim::Server::start(config).await {
        Ok(server) => server,
        Err(err) => {
            let mut message = format!("error: {err}");
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    println!("kubesim listening on {}", server.url());
    println!(
        "kubeconfig written to {}",
        server.kubeconfig_path().display()
    );
    println!(
        "try: KUBECONFIG={} kubectl get ns",
        server.kubeconfig_path().display()
    );
    if let Err(err) = tokio::signal::ctrl_c().await {
        eprintln!("error: waiting for Ctrl-C: {err}");
    }
    server.shutdown().await;
    ExitCode::SUCCESS
}
