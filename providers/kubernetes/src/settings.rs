//! The `provider "kubernetes"` block: parsing its attributes and building a kube client.

use std::path::PathBuf;
use std::time::Duration;

use braid_provider::{Path, ProviderDiagnostic, Value};
use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::names::{self, NameRule};

/// The field manager braid applies as unless configured otherwise.
pub const DEFAULT_FIELD_MANAGER: &str = "braid";
/// The namespace of namespaced objects whose manifest names none.
pub const DEFAULT_NAMESPACE: &str = "default";
/// How long one API request may wait to connect, or for the next bytes of its answer,
/// unless `request_timeout` says otherwise.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The provider's configuration, with defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Kubeconfig file; `None` = `KUBECONFIG`, then `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context; `None` = the file's current context.
    pub context: Option<String>,
    /// The namespace of namespaced objects whose manifest names none
    /// ([`DEFAULT_NAMESPACE`] unless configured).
    pub namespace: String,
    /// Use the pod's service account instead of a kubeconfig.
    pub in_cluster: bool,
    /// Take fields from other field managers on conflicts (`--force-conflicts`).
    pub force_conflicts: bool,
    /// The field manager braid applies as ([`DEFAULT_FIELD_MANAGER`] unless configured);
    /// state records only the fields this manager owns.
    pub field_manager: String,
    /// How long one API request may wait to connect, or for the next bytes of its answer
    /// ([`DEFAULT_REQUEST_TIMEOUT`] unless configured).
    pub request_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            kubeconfig: None,
            context: None,
            namespace: DEFAULT_NAMESPACE.to_string(),
            in_cluster: false,
            force_conflicts: false,
            field_manager: DEFAULT_FIELD_MANAGER.to_string(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

impl Settings {
    /// Reads the provider block; every problem becomes a diagnostic at its attribute.
    pub fn from_config(config: &Value) -> Result<Settings, Vec<ProviderDiagnostic>> {
        let mut diagnostics = Vec::new();
        let mut settings = Settings::default();
        if let Some(map) = config.as_map() {
            for name in map.keys() {
                if !ATTRIBUTES.contains(&name.as_str()) {
                    diagnostics.push(
                        ProviderDiagnostic::error(
                            "Unsupported provider attribute",
                            format!(
                                "The kubernetes provider has no attribute \"{name}\". It accepts: \
                                 {}.",
                                ATTRIBUTES.join(", ")
                            ),
                        )
                        .at(Path::key(name.clone())),
                    );
                }
            }
        }
        let mut invalid = Vec::new();
        let mut string = |name: &str| match config.attr(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                diagnostics.push(bad_type(name, "string", other));
                None
            }
        };
        settings.kubeconfig = string("kubeconfig").map(PathBuf::from);
        settings.context = string("context");
        if let Some(ns) = string("namespace") {
            // The namespace goes into API URL paths: `..` or `/` must never reach one.
            if !names::follows(&ns, NameRule::DnsLabel) {
                invalid.push(
                    ProviderDiagnostic::error(
                        "Invalid Kubernetes name",
                        format!(
                            "The namespace \"{ns}\" is not {}.",
                            NameRule::DnsLabel.description()
                        ),
                    )
                    .at(Path::key("namespace")),
                );
            }
            settings.namespace = ns;
        }
        if let Some(manager) = string("field_manager") {
            settings.field_manager = manager;
        }
        if let Some(text) = string("request_timeout") {
            match braid_provider::duration_setting("request_timeout", &text) {
                Ok(timeout) => settings.request_timeout = timeout,
                Err(d) => invalid.push(d),
            }
        }
        diagnostics.append(&mut invalid);
        let mut boolean = |name: &str| match config.attr(name) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                diagnostics.push(bad_type(name, "bool", other));
                false
            }
        };
        settings.in_cluster = boolean("in_cluster");
        settings.force_conflicts = boolean("force_conflicts");
        if diagnostics.is_empty() {
            Ok(settings)
        } else {
            Err(diagnostics)
        }
    }

    /// A client for the configured cluster, with the address of its API server. Reads files
    /// but makes no request.
    pub async fn client(&self) -> Result<(kube::Client, String), ProviderDiagnostic> {
        // rustls needs one process-wide crypto provider when several are compiled in; it is
        // fine if another part of braid installed it first.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let mut config = if self.in_cluster {
            kube::Config::incluster().map_err(|e| {
                ProviderDiagnostic::error(
                    "Cannot use the in-cluster configuration",
                    format!(
                        "in_cluster = true, but the service account configuration could not \
                         be loaded: {e}. Run braid inside a pod, or set kubeconfig instead."
                    ),
                )
                .at(Path::key("in_cluster"))
            })?
        } else {
            let options = KubeConfigOptions {
                context: self.context.clone(),
                ..KubeConfigOptions::default()
            };
            let loaded = match &self.kubeconfig {
                Some(path) => match Kubeconfig::read_from(path) {
                    Ok(file) => kube::Config::from_custom_kubeconfig(file, &options).await,
                    Err(e) => Err(e),
                },
                None => kube::Config::from_kubeconfig(&options).await,
            };
            loaded.map_err(|e| {
                let which = self.kubeconfig.as_ref().map_or_else(
                    || "the kubeconfig (KUBECONFIG or ~/.kube/config)".to_string(),
                    |p| format!("the kubeconfig {}", p.display()),
                );
                ProviderDiagnostic::error(
                    "Cannot load the kubeconfig",
                    format!(
                        "braid could not load {which}{}: {e}. Set kubeconfig and context in \
                         the provider \"kubernetes\" block.",
                        self.context
                            .as_ref()
                            .map(|c| format!(" with context \"{c}\""))
                            .unwrap_or_default()
                    ),
                )
            })?
        };
        config.default_namespace = self.namespace.clone();
        // Every request has its own timeouts: a server that accepts the connection and never
        // answers fails the request instead of hanging it. The read timeout counts from the
        // request (not from when a pooled connection went idle) and between the chunks of a
        // watch; a quiet watch that times out is simply started again.
        config.connect_timeout = Some(self.request_timeout);
        config.read_timeout = Some(self.request_timeout);
        config.write_timeout = Some(self.request_timeout);
        config.reset_reader_on_write = true;
        let server = config.cluster_url.to_string();
        let client = kube::Client::try_from(config).map_err(|e| {
            ProviderDiagnostic::error(
                "Cannot create the Kubernetes client",
                format!("The kubeconfig was read but no client could be built from it: {e}."),
            )
        })?;
        Ok((client, server))
    }
}

/// Attributes the provider block accepts.
pub const ATTRIBUTES: &[&str] = &[
    "kubeconfig",
    "context",
    "namespace",
    "in_cluster",
    "force_conflicts",
    "field_manager",
    "request_timeout",
];

fn bad_type(name: &str, expected: &str, found: &Value) -> ProviderDiagnostic {
    let detail = if found.is_unknown() {
        format!(
            "The attribute \"{name}\" depends on a value only known after apply, but the \
             provider needs it before planning. Set it from variables or literals."
        )
    } else {
        format!(
            "The attribute \"{name}\" must be a {expected}, not {}.",
            found.kind()
        )
    };
    ProviderDiagnostic::error("Invalid provider configuration", detail).at(Path::key(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        assert_eq!(
            Settings::from_config(&Value::Null).ok(),
            Some(Settings::default())
        );
        let settings = Settings::from_config(&Value::map([
            ("namespace", Value::from("shop")),
            ("force_conflicts", Value::from(true)),
            ("field_manager", Value::from("ci")),
        ]))
        .expect("valid");
        assert_eq!(settings.namespace, "shop");
        assert!(settings.force_conflicts);
        assert_eq!(settings.field_manager, "ci");
    }

    #[test]
    fn wrong_types_and_unknown_attributes_are_reported() {
        let errors = Settings::from_config(&Value::map([
            ("in_cluster", Value::from("yes")),
            ("contxt", Value::from("x")),
        ]))
        .expect_err("invalid");
        assert_eq!(errors.len(), 2);
    }

    #[test]
    fn a_namespace_that_is_not_a_dns_label_is_refused() {
        for bad in ["../x", "a/b", "Shop", "a.b"] {
            let errors = Settings::from_config(&Value::map([("namespace", Value::from(bad))]))
                .expect_err(bad);
            assert_eq!(errors.len(), 1, "{bad}");
        }
    }
}
