//! Diagnostics a provider returns with its answers, as plain data.

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
