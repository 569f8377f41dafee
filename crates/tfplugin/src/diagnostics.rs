//! Diagnostics a provider returns with its answers, as plain data.

use crate::proto::tfplugin5 as pb;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The call failed.
    Error,
    /// The call succeeded; the user should still read this.
    Warning,
}

/// One step of a path into a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// An attribute (or nested block) by name.
    Attribute(String),
    /// A map element by key.
    Key(String),
    /// A list element by index.
    Index(i64),
}

/// A message from the provider about a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A short summary.
    pub summary: String,
    /// The full explanation (may be empty).
    pub detail: String,
    /// The attribute the diagnostic is about, outermost step first (empty: the whole call).
    pub attribute_path: Vec<PathStep>,
}

impl Diagnostic {
    /// Whether any of `diagnostics` is an error.
    pub fn any_error(diagnostics: &[Diagnostic]) -> bool {
        diagnostics.iter().any(|d| d.severity == Severity::Error)
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{severity}: {}", self.summary)?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

impl From<pb::Diagnostic> for Diagnostic {
    fn from(diagnostic: pb::Diagnostic) -> Diagnostic {
        let severity = match diagnostic.severity() {
            pb::diagnostic::Severity::Warning => Severity::Warning,
            // INVALID is treated as the stricter reading.
            pb::diagnostic::Severity::Error | pb::diagnostic::Severity::Invalid => Severity::Error,
        };
        let attribute_path = diagnostic.attribute.map(path_steps).unwrap_or_default();
        Diagnostic {
            severity,
            summary: diagnostic.summary,
            detail: diagnostic.detail,
            attribute_path,
        }
    }
}

/// The steps of a protocol attribute path, outermost first.
pub(crate) fn path_steps(path: pb::AttributePath) -> Vec<PathStep> {
    path.steps
        .into_iter()
        .filter_map(|step| step.selector)
        .map(|selector| match selector {
            pb::attribute_path::step::Selector::AttributeName(name) => PathStep::Attribute(name),
            pb::attribute_path::step::Selector::ElementKeyString(key) => PathStep::Key(key),
            pb::attribute_path::step::Selector::ElementKeyInt(index) => PathStep::Index(index),
        })
        .collect()
}
