//! Errors of talking to the Kubernetes API, each naming the step that failed, and their
//! conversion into provider diagnostics.

use std::fmt;

use braid_provider::ProviderDiagnostic;
use kube::core::Status;

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

impl KubeError {
    /// Classifies a client error of `step`: an error `Status` from the server becomes
    /// [`KubeError::Api`], anything else [`KubeError::Transport`].
    pub fn from_kube(step: Step, error: kube::Error) -> KubeError {
        match error {
            kube::Error::Api(status) => KubeError::Api { step, status },
            other => KubeError::Transport {
                step,
                source: other,
            },
        }
    }

    /// The error `Status` the server sent, looking through exhausted retries.
    pub fn status(&self) -> Option<&Status> {
        match self {
            KubeError::Api { status, .. } => Some(status),
            KubeError::RetriesExhausted { last, .. } => last.status(),
            KubeError::Transport { .. } => None,
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
    /// The id given to `braid state import` is in neither accepted form.
    #[error(
        "the id \"{0}\" is neither GROUP/VERSION/KIND/NAMESPACE/NAME nor k8s/GROUP/KIND/NAMESPACE/NAME"
    )]
    BadImportId(String),
}

impl ManifestError {
    /// The user-facing diagnostic, with a hint of what every manifest needs.
    pub fn to_diagnostic(&self) -> ProviderDiagnostic {
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
