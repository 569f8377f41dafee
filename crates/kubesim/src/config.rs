//! Server configuration: port, kubeconfig output, timings, initial faults.

use std::path::PathBuf;
use std::time::Duration;

use crate::faults::Faults;

/// How to start a [`crate::Server`].
#[derive(Debug, Clone)]
pub struct Config {
    /// Port on 127.0.0.1; 0 picks a free ephemeral port.
    pub port: u16,
    /// Where to write the kubeconfig; None writes it into a temporary directory that lives
    /// as long as the server handle.
    pub kubeconfig_path: Option<PathBuf>,
    /// Name of the cluster, user and context in the kubeconfig.
    pub context_name: String,
    /// Bearer token written into the kubeconfig (accepted but never checked).
    pub token: String,
    /// How long simulated controllers take to make objects ready (overridable per object
    /// with the `kubesim.braid.dev/ready-after-ms` annotation).
    pub ready_delay: Duration,
    /// Interval between BOOKMARK events on watches that allow them.
    pub bookmark_interval: Duration,
    /// Number of past events kept for watches resuming from a resourceVersion.
    pub history_limit: usize,
    /// Namespaces that exist from the start.
    pub namespaces: Vec<String>,
    /// Faults active from the start.
    pub faults: Faults,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            port: 0,
            kubeconfig_path: None,
            context_name: "kubesim".to_string(),
            token: "kubesim-token".to_string(),
            ready_delay: Duration::from_millis(200),
            bookmark_interval: Duration::from_secs(1),
            history_limit: 10_000,
            namespaces: ["default", "kube-system", "kube-public", "kube-node-lease"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            faults: Faults::default(),
        }
    }
}
