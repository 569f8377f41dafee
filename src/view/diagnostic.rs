//! Diagnostics as text (with the source line and a caret under the problem) or JSON.

use serde_json::json;

use super::Style;
use crate::diag::{Diagnostic, Severity};

/// Renders one diagnostic the way compilers do:
///
/// ```text
/// error: Reference to undeclared resource
///   --> main.hcl:3:13
///    |
///  3 |   content = local_file.nme.id
///    |             ^^^^^^^^^^^^^^
///    |
///    = local_file.nme is not declared. Did you mean local_file.name?
/// ```
pub fn render(d: &Diagnostic, style: Style) -> String {
    let label = match d.severity {
        Severity::Error => style.red("error"),
        Severity::Warning => style.yellow("warning"),
    };
    let mut out = format!("{label}: {}\n", style.bold(&d.summary));
    match (&d.location, &d.address) {
        (Some(loc), _) => {
            let line_no = loc.line.to_string();
            let pad = " ".repeat(line_no.len());
            let source = loc.source_line().replace('\t', "    ");
            let caret_col = loc
                .source_line()
                .chars()
                .take(loc.column.saturating_sub(1))
                .map(|c| if c == '\t' { 4 } else { 1 })
                .sum::<usize>();
            let width = loc
                .underline_width()
                .min(source.chars().count().saturating_sub(caret_col).max(1));
            out.push_str(&format!("{pad}--> {}", loc.short()));
            if let Some(address) = &d.address {
                out.push_str(&format!(" ({address})"));
            }
            out.push('\n');
            out.push_str(&format!(
                "{pad} |\n{line_no} | {source}\n{pad} | {}{}\n",
                " ".repeat(caret_col),
                style.red(&"^".repeat(width))
            ));
            out.push_str(&format!("{pad} |\n"));
            for line in d.detail.lines() {
                out.push_str(&format!("{pad} = {line}\n"));
            }
        }
        (None, Some(address)) => {
            out.push_str(&format!("  --> {address}\n"));
            for line in d.detail.lines() {
                out.push_str(&format!("   = {line}\n"));
            }
        }
        (None, None) => {
            for line in d.detail.lines() {
                out.push_str(&format!("  = {line}\n"));
            }
        }
    }
    out
}

/// A diagnostic as one JSON object, the form `--format json` writes on stderr (one per line) and
/// puts in apply documents: `severity`, `summary`, `detail`, `address`, and `range` (`filename`,
/// `start` line, column and byte, `end` byte) or null.
pub fn to_json(d: &Diagnostic) -> serde_json::Value {
    json!({
        "severity": d.severity,
        "summary": d.summary,
        "detail": d.detail,
        "address": d.address,
        "range": d.location.as_ref().map(|l| json!({
            "filename": l.file.name,
            "start": { "line": l.line, "column": l.column, "byte": l.span.start },
            "end": { "byte": l.span.end },
        })),
    })
}
