//! Diagnostics a provider attaches to every response.

use serde::{Deserialize, Serialize};

use crate::Path;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The request failed: the engine stops work on the resource (or the run, for
    /// configuration) and exits unsuccessfully.
    Error,
    /// Something the user should know about that does not stop anything.
    Warning,
}

/// A problem (or warning) reported by a provider. The engine turns it into a user-facing
/// diagnostic, adding the resource address and, where `attribute` is set, the source location
/// of that attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderDiagnostic {
    /// Whether the problem stops the request.
    pub severity: Severity,
    /// A short phrase without user-chosen names, e.g. "Cannot write file".
    pub summary: String,
    /// Full sentences: what went wrong and how to fix it.
    pub detail: String,
    /// The attribute the problem is about, if any.
    pub attribute: Option<Path>,
}

impl ProviderDiagnostic {
    /// An error with no attribute; add one with [`ProviderDiagnostic::at`].
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        ProviderDiagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            attribute: None,
        }
    }

    /// A warning with no attribute; add one with [`ProviderDiagnostic::at`].
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        ProviderDiagnostic {
            severity: Severity::Warning,
            summary: summary.into(),
            detail: detail.into(),
            attribute: None,
        }
    }

    /// Points the diagnostic at one attribute.
    pub fn at(mut self, attribute: Path) -> Self {
        self.attribute = Some(attribute);
        self
    }

    /// True when the diagnostic makes its request fail.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}
