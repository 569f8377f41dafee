//! The user-facing [`Diagnostic`]: what went wrong, where, and how to fix it.
//!
//! Every error braid shows is one of these. Rendering lives in `view::diagnostic`.

mod convert;

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

pub use convert::{
    cannot_open_state, cannot_unlock, cannot_write_state, error_chain, error_with_causes,
    from_kustomize, from_provider, function_error, lock_error, state_diagnostic, state_error,
    stolen_lock_warning, transfer_error,
};

/// How serious a [`Diagnostic`] is; serialized in lowercase (`error`, `warning`) in JSON output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The command cannot go on: loading, planning or applying fails and braid exits non-zero.
    Error,
    /// Shown to the user, but the command goes on (a stolen lock, a value for an undeclared
    /// variable).
    Warning,
}

/// The text of one configuration file, kept so diagnostics can quote it.
#[derive(Debug)]
pub struct SourceText {
    /// The name shown to users: `main.hcl`, or `apps:k8s/web.yaml` for a named source.
    pub name: String,
    /// The whole file as UTF-8 text, which diagnostics quote a line of.
    pub text: String,
    /// Byte offset where each line starts, for fast offset → line lookups.
    line_starts: Vec<usize>,
}

impl SourceText {
    /// Wraps a file's `name` (as shown to users) and `text`, indexing where its lines start; shared
    /// by every location that points into it.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<SourceText> {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Arc::new(SourceText {
            name: name.into(),
            text,
            line_starts,
        })
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let line = self
            .line_starts
            .partition_point(|&start| start <= offset)
            .max(1);
        let line_start = self.line_starts[line - 1];
        let col = self.text[line_start..offset].chars().count() + 1;
        (line, col)
    }

    /// A location covering a byte range of this file.
    pub fn location(self: &Arc<Self>, span: Range<usize>) -> Location {
        let (line, column) = self.line_col(span.start);
        Location {
            file: Arc::clone(self),
            span,
            line,
            column,
        }
    }

    /// A location at a 1-based line and column (as reported by parsers).
    pub fn location_at(self: &Arc<Self>, line: usize, column: usize) -> Location {
        let offset = self
            .line_starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.text.len());
        let line_text = self.text[offset..].lines().next().unwrap_or("");
        let byte_col = line_text
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(line_text.len(), |(i, _)| i);
        let start = offset + byte_col;
        Location {
            file: Arc::clone(self),
            span: start..start,
            line,
            column,
        }
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Where in a file a diagnostic points.
#[derive(Debug, Clone)]
pub struct Location {
    /// The file the location points into.
    pub file: Arc<SourceText>,
    /// The byte range of the text pointed at; may be empty (a parser's error position). Views
    /// underline it on its first line.
    pub span: Range<usize>,
    /// The 1-based line where the span starts.
    pub line: usize,
    /// The 1-based column where the span starts, counted in characters (not bytes).
    pub column: usize,
}

impl Location {
    /// `main.hcl:3:13`
    pub fn short(&self) -> String {
        format!("{}:{}:{}", self.file.name, self.line, self.column)
    }

    /// The full text of the line the location starts on.
    pub fn source_line(&self) -> &str {
        self.file.text.lines().nth(self.line - 1).unwrap_or("")
    }

    /// How many characters of the first line the span covers (at least one).
    pub fn underline_width(&self) -> usize {
        let text = &self.file.text;
        let start = floor_char_boundary(text, self.span.start.min(text.len()));
        let end = floor_char_boundary(text, self.span.end.min(text.len())).max(start);
        let covered = &text[start..end];
        let first_line = covered.split('\n').next().unwrap_or("");
        first_line.chars().count().max(1)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short())
    }
}

/// A problem (or warning) shown to the user.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Whether the problem stops the command.
    pub severity: Severity,
    /// A short phrase with no user-chosen names: "Invalid reference".
    pub summary: String,
    /// Full sentences: what is wrong, why, and how to fix it.
    pub detail: String,
    /// Where in a configuration file the problem is; `None` for problems with no place in a file (a
    /// state backend that cannot be reached, a flag).
    pub location: Option<Location>,
    /// The resource the problem is about, when there is one.
    pub address: Option<String>,
}

impl Diagnostic {
    /// An error with no location or address yet; add them with [`Diagnostic::at`] and
    /// [`Diagnostic::for_address`].
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            location: None,
            address: None,
        }
    }

    /// A warning with no location or address yet: shown, but the command goes on.
    pub fn warning(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(summary, detail)
        }
    }

    /// Points the diagnostic at `location`, replacing any location it had.
    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    /// Points the diagnostic at `location` when there is one; `None` keeps the location it had.
    pub fn at_opt(mut self, location: Option<Location>) -> Self {
        if location.is_some() {
            self.location = location;
        }
        self
    }

    /// Names the resource the problem is about (`local_file.motd`), shown with the diagnostic.
    pub fn for_address(mut self, address: impl Into<String>) -> Self {
        self.address = Some(address.into());
        self
    }

    /// True when the diagnostic is an error rather than a warning.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        write!(f, "{}: {}", self.summary, self.detail)
    }
}

/// A list of diagnostics, as most loading steps produce several at once.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// An empty list.
    pub fn new() -> Self {
        Diagnostics(Vec::new())
    }

    /// Adds one diagnostic at the end.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    /// Adds every diagnostic of `other`, in order, at the end.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// True when any diagnostic is an error (warnings alone do not count).
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    /// True when the list holds no diagnostic at all, not even a warning.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Err(self)` when any error is present, else `Ok(value)` (warnings are dropped here;
    /// callers that show warnings take them first).
    pub fn into_result<T>(self, value: T) -> Result<T, Diagnostics> {
        if self.has_errors() {
            Err(self)
        } else {
            Ok(value)
        }
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(diagnostic: Diagnostic) -> Self {
        Diagnostics(vec![diagnostic])
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Closest candidate to `name` by edit distance, if it is close enough to be a likely typo.
pub fn closest<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

/// The process's resident memory in MB, for the phase logs of `-v` (`None` where /proc is
/// not there to tell).
pub fn resident_mb() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096 / 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let file = SourceText::new("a.hcl", "x = 1\ny = \"é\" + z\n");
        let offset = file.text.find('z').expect("z is in the text");
        assert_eq!(file.line_col(offset), (2, 11));
        let loc = file.location_at(2, 11);
        assert_eq!(loc.span.start, offset);
        assert_eq!(loc.source_line(), "y = \"é\" + z");
    }

    #[test]
    fn closest_finds_typos_only() {
        assert_eq!(closest("nme", ["name", "other"]), Some("name"));
        assert_eq!(closest("completely", ["name", "other"]), None);
    }
}
