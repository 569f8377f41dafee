//! Errors of talking to the Kubernetes API, each naming the step that failed, and their
//! conversion into provider diagnostics.

use std::error::Error as _;
use std::fmt;
use std::time::Duration;

use braid_provider::ProviderDiagnostic;
use kube::core::Status;

use crate::retry::Endpoint;

/// The API call a failure happened in; named in every diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Finding which resource (URL path, scope) serves a group/version/kind.
    Discovery,
    /// Reading the live object.
    Get,
    /// The server-side apply dry-run that plans a change.
    DryRunApply,
    /// The server-side apply that makes a change.
    Apply,
    /// Asking for the object to be deleted.
    Delete,
    /// Waiting for a foreground deletion to remove the object.
    WaitDeleted,
    /// Watching the object while it becomes ready.
    Watch,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Discovery => "API discovery",
            Step::Get => "reading the live object",
            Step::DryRunApply => "server-side apply dry-run",
            Step::Apply => "server-side apply",
            Step::Delete => "deleting the object",
            Step::WaitDeleted => "waiting for the deletion to finish",
            Step::Watch => "watching the object",
        })
    }
}

/// A failed Kubernetes API call.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    /// The server answered with an error `Status`.
    #[error("{step} failed with HTTP {}: {}", .status.code, .status.message)]
    Api {
        /// The call that failed.
        step: Step,
        /// The server's answer, with its HTTP code, reason and message.
        status: Box<Status>,
    },
    /// No answer (connection refused or dropped, TLS, timeouts), or a response that could not
    /// be read.
    #[error("{step} failed: {source}")]
    Transport {
        /// The call that failed.
        step: Step,
        /// The client's error.
        #[source]
        source: kube::Error,
    },
    /// The server could not be reached at all: nothing listens at its address, or it did
    /// not answer within the request timeout.
    #[error("{step} failed: {why}")]
    Unreachable {
        /// The call that failed.
        step: Step,
        /// The API server's URL.
        server: String,
        /// What happened.
        why: NoAnswer,
        /// How many times the call was tried.
        attempts: u32,
    },
    /// Transient failures went on past the retry deadline.
    #[error("{step} still failing after {attempts} attempts: {last}")]
    RetriesExhausted {
        /// The call that kept failing.
        step: Step,
        /// How many times it was tried.
        attempts: u32,
        /// The error of the last attempt.
        last: Box<KubeError>,
    },
}

/// Why a server could not be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NoAnswer {
    /// Nothing listens at the address (connection refused).
    #[error("connection refused")]
    Refused,
    /// Connecting, or waiting for the answer, took longer than the request timeout.
    #[error("no answer within {}s", .0.as_secs())]
    TimedOut(Duration),
}

impl KubeError {
    /// Classifies a client error of `step` against `endpoint`: an error `Status` from the
    /// server becomes [`KubeError::Api`], a refused connection or a timeout
    /// [`KubeError::Unreachable`], anything else [`KubeError::Transport`].
    pub fn from_kube(step: Step, error: kube::Error, endpoint: &Endpoint) -> KubeError {
        match error {
            kube::Error::Api(status) => KubeError::Api { step, status },
            other => match io_kind(&other) {
                Some(std::io::ErrorKind::ConnectionRefused) => KubeError::Unreachable {
                    step,
                    server: endpoint.server.clone(),
                    why: NoAnswer::Refused,
                    attempts: 1,
                },
                Some(std::io::ErrorKind::TimedOut) => KubeError::Unreachable {
                    step,
                    server: endpoint.server.clone(),
                    why: NoAnswer::TimedOut(endpoint.request_timeout),
                    attempts: 1,
                },
                _ => KubeError::Transport {
                    step,
                    source: other,
                },
            },
        }
    }

    /// Why the server could not be reached, when that is what happened.
    pub fn no_answer(&self) -> Option<NoAnswer> {
        match self {
            KubeError::Unreachable { why, .. } => Some(*why),
            _ => None,
        }
    }

    /// Counts one more attempt of a call that could not reach the server.
    pub fn with_attempts(mut self, count: u32) -> KubeError {
        if let KubeError::Unreachable { attempts, .. } = &mut self {
            *attempts = count;
        }
        self
    }

    /// The error `Status` the server sent, looking through exhausted retries.
    pub fn status(&self) -> Option<&Status> {
        match self {
            KubeError::Api { status, .. } => Some(status),
            KubeError::RetriesExhausted { last, .. } => last.status(),
            KubeError::Transport { .. } | KubeError::Unreachable { .. } => None,
        }
    }

    /// True when the server answered 404: the object (or its API) does not exist.
    pub fn is_not_found(&self) -> bool {
        self.status().is_some_and(Status::is_not_found)
    }

    /// True when the server answered 409, e.g. a field owned by another manager.
    pub fn is_conflict(&self) -> bool {
        self.status().is_some_and(Status::is_conflict)
    }

    /// True when the server answered 422: the object fails validation.
    pub fn is_invalid(&self) -> bool {
        self.status().is_some_and(Status::is_invalid)
    }

    /// Worth retrying: server overload or failure, or a connection that broke.
    pub fn is_transient(&self) -> bool {
        match self {
            KubeError::Api { status, .. } => {
                matches!(status.code, 429 | 500 | 502 | 503 | 504)
                    || status.reason == "ServerTimeout"
                    || status.reason == "Timeout"
            }
            KubeError::Transport { source, .. } => matches!(
                source,
                kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_)
            ),
            KubeError::Unreachable { .. } => true,
            KubeError::RetriesExhausted { .. } => false,
        }
    }

    /// The delay the server asked for (`Retry-After`, carried in the Status details).
    pub fn retry_after_seconds(&self) -> Option<u32> {
        self.status()
            .and_then(|s| s.details.as_ref())
            .map(|d| d.retry_after_seconds)
            .filter(|s| *s > 0)
    }

    /// The user-facing diagnostic: the step, the HTTP status and the API's own message.
    pub fn to_diagnostic(&self) -> ProviderDiagnostic {
        let (summary, detail) = match self {
            KubeError::Api { step, status } => (
                summary_for(status),
                format!(
                    "Kubernetes rejected {step} with HTTP {} {}: {}",
                    status.code,
                    if status.reason.is_empty() {
                        "(no reason)"
                    } else {
                        &status.reason
                    },
                    status.message
                ),
            ),
            KubeError::Transport { step, source } => (
                "Kubernetes API unreachable".to_string(),
                format!(
                    "{step} got no usable answer from the Kubernetes API: {source}. Check the \
                     cluster address and credentials in the kubeconfig, and that the cluster is \
                     up."
                ),
            ),
            KubeError::Unreachable {
                step,
                server,
                why: NoAnswer::Refused,
                attempts,
            } => (
                "Kubernetes API unreachable".to_string(),
                format!(
                    "{step}: connection refused by {server} ({attempts} attempts): nothing \
                     listens at that address. Check the server address in the \
                     kubeconfig (cluster and context) and that the cluster is up."
                ),
            ),
            KubeError::Unreachable {
                step,
                server,
                why: NoAnswer::TimedOut(timeout),
                attempts,
            } => (
                "Kubernetes API not answering".to_string(),
                format!(
                    "{step}: the Kubernetes API at {server} did not answer within {}s \
                     ({attempts} attempts). Check that the cluster is healthy and reachable \
                     from here, or raise request_timeout in the provider \"kubernetes\" block.",
                    timeout.as_secs()
                ),
            ),
            KubeError::RetriesExhausted {
                step,
                attempts,
                last,
            } => (
                "Kubernetes API keeps failing".to_string(),
                format!(
                    "{step} failed {attempts} times with transient errors and braid gave up. \
                     The last error: {last}. Try again when the API server is healthy."
                ),
            ),
        };
        ProviderDiagnostic::error(summary, detail)
    }
}

fn summary_for(status: &Status) -> String {
    match status.code {
        401 | 403 => "Kubernetes API refused access",
        404 => "Kubernetes object or API not found",
        409 => "Kubernetes API conflict",
        422 => "Kubernetes object is invalid",
        _ => "Kubernetes API error",
    }
    .to_string()
}

/// A problem with configuration or a manifest, found before any API call.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// A field braid needs to find the object is absent or empty; carries its path
    /// (`metadata.name`).
    #[error("the manifest has no {0}")]
    Missing(&'static str),
    /// A field braid needs to find the object is not a string.
    #[error("{field} must be a string, not {found}")]
    NotAString {
        /// The field's path.
        field: &'static str,
        /// The kind of value it holds instead.
        found: String,
    },
    /// A field braid needs to find the object depends on a value only known after apply.
    #[error("{field} is only known after apply; braid needs it to find the object")]
    Unknown {
        /// The field's path.
        field: &'static str,
    },
    /// A name or namespace breaks Kubernetes' rules for it; checked before it goes into an
    /// API URL, where `..` or `/` would address another object.
    #[error("the {field} \"{value}\" is not {}", .rule.description())]
    InvalidName {
        /// `metadata.name` or `metadata.namespace`.
        field: &'static str,
        /// The value as written.
        value: String,
        /// The rule it breaks.
        rule: crate::names::NameRule,
    },
    /// A label or annotation value is not a string (`version: 2` instead of `"2"`).
    #[error("the value of {field} is {found}, but label and annotation values are strings")]
    NotAStringValue {
        /// `metadata.labels.KEY` or `metadata.annotations.KEY`.
        field: String,
        /// The kind of value it holds instead.
        found: String,
    },
    /// The id given to `braid state import` is in neither accepted form.
    #[error(
        "the id \"{0}\" is neither GROUP/VERSION/KIND/NAMESPACE/NAME nor k8s/GROUP/KIND/NAMESPACE/NAME"
    )]
    BadImportId(String),
}

impl ManifestError {
    /// The user-facing diagnostic, with a hint of what every manifest needs.
    pub fn to_diagnostic(&self) -> ProviderDiagnostic {
        if let ManifestError::InvalidName { field, .. } = self {
            return ProviderDiagnostic::error(
                "Invalid Kubernetes name",
                format!(
                    "{}. Kubernetes would refuse it, and braid puts names into API URLs, so it \
                     checks them first. Fix {field} in the manifest.",
                    capitalized(&self.to_string())
                ),
            );
        }
        if let ManifestError::NotAStringValue { field, .. } = self {
            return ProviderDiagnostic::error(
                "Invalid Kubernetes manifest",
                format!(
                    "{}: Kubernetes refuses any other type. Quote it (\"2\", \"true\") or                      convert it with tostring() in {field}.",
                    capitalized(&self.to_string())
                ),
            );
        }
        ProviderDiagnostic::error(
            "Invalid Kubernetes manifest",
            format!(
                "{}. Every manifest needs apiVersion, kind and metadata.name as known strings.",
                capitalized(&self.to_string())
            ),
        )
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The kind of the I/O error at the root of a client error, if there is one.
fn io_kind(error: &kube::Error) -> Option<std::io::ErrorKind> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = error.source();
    let mut found = None;
    while let Some(inner) = cause {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            found = Some(io.kind());
        }
        cause = inner.source();
    }
    found
}
