//! The audit log: `braid history` and `braid history show ID`.

use braid_state::{ApplyRecord, ChangeOutcome, ChangeRecord, SourceRevision};
use serde_json::json;

use super::Style;

/// `infra@3f2a1c9d0b1e` for git sources, `infra sha256:1a2b3c4d` for plain directories.
pub fn source_text(s: &SourceRevision) -> String {
    match (&s.commit, &s.reference) {
        (Some(commit), _) => {
            let dirty = if s.dirty { "+dirty" } else { "" };
            format!("{}@{}{dirty}", s.name, &commit[..commit.len().min(12)])
        }
        (None, _) => format!(
            "{} {}",
            s.name,
            s.digest.chars().take(15).collect::<String>()
        ),
    }
}

fn counts(a: &ApplyRecord) -> String {
    let s = &a.summary;
    let mut parts = vec![
        format!("+{}", s.create),
        format!("~{}", s.update),
        format!("±{}", s.replace),
        format!("-{}", s.delete),
    ];
    if s.import > 0 {
        parts.push(format!("<{}", s.import));
    }
    if s.failed > 0 {
        parts.push(format!("{} failed", s.failed));
    }
    if s.skipped > 0 {
        parts.push(format!("{} skipped", s.skipped));
    }
    parts.join(" ")
}

fn outcome(a: &ApplyRecord, style: Style) -> String {
    match a.outcome {
        braid_state::ApplyOutcome::Succeeded => style.green("succeeded"),
        braid_state::ApplyOutcome::Failed => style.red("failed"),
        braid_state::ApplyOutcome::Running if a.finished_at.is_none() => {
            style.yellow("running or interrupted")
        }
        braid_state::ApplyOutcome::Running => style.yellow("running"),
    }
}

/// One line per apply, newest first.
pub fn render_list(applies: &[ApplyRecord], style: Style) -> String {
    if applies.is_empty() {
        return "No applies recorded yet for this environment.\n".to_string();
    }
    let mut out = String::new();
    for a in applies {
        let operation = match a.rollback_of {
            Some(id) => format!("rollback to #{id}"),
            None => a.operation.clone(),
        };
        out.push_str(&format!(
            "{} {} {} {:10} {} · {} · {} · {}\n",
            style.bold(&format!("#{}", a.id)),
            a.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
            a.env,
            operation,
            a.actor,
            a.sources
                .iter()
                .map(source_text)
                .collect::<Vec<_>>()
                .join(", "),
            counts(a),
            outcome(a, style)
        ));
        if let Some(note) = &a.note {
            out.push_str(&format!("    note: {note}\n"));
        }
    }
    out
}

/// One apply with its per-resource changes.
pub fn render_show(apply: &ApplyRecord, changes: &[ChangeRecord], style: Style) -> String {
    let mut out = format!(
        "{} {} in {} by {}\n  started  {}\n  finished {}\n  outcome  {}\n  changes  {}\n",
        style.bold(&format!("Apply #{}", apply.id)),
        apply.operation,
        apply.env,
        apply.actor,
        apply.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
        apply.finished_at.map_or(
            "(not finished: interrupted or still running)".to_string(),
            |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
        ),
        outcome(apply, style),
        counts(apply),
    );
    if let Some(id) = apply.rollback_of {
        out.push_str(&format!("  rollback to the configuration of apply #{id}\n"));
    }
    if let Some(note) = &apply.note {
        out.push_str(&format!("  note     {note}\n"));
    }
    out.push_str("  sources\n");
    for s in &apply.sources {
        let reference = s
            .reference
            .as_ref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        out.push_str(&format!("    {}{reference}  {}\n", source_text(s), s.repo));
    }
    if changes.is_empty() {
        out.push_str("\nNo resource changes were recorded.\n");
        return out;
    }
    out.push('\n');
    let width = changes
        .iter()
        .map(|c| c.address.chars().count())
        .max()
        .unwrap_or(0);
    for c in changes {
        let result = match c.outcome {
            ChangeOutcome::Applied => style.green("applied"),
            ChangeOutcome::Failed => style.red("failed"),
            ChangeOutcome::Skipped => style.yellow("skipped"),
        };
        out.push_str(&format!(
            "  {} {}  {:8} {result}{}\n",
            c.at.format("%H:%M:%S"),
            super::values::padded(&c.address, width),
            c.action,
            c.message
                .as_ref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ));
    }
    out
}

/// The audit log entries as a pretty-printed JSON array, for `braid history --format json`.
pub fn list_json(applies: &[ApplyRecord]) -> String {
    serde_json::to_string_pretty(applies).unwrap_or_default()
}

/// One audit log entry and its changes as a pretty-printed JSON object `{"apply", "changes"}`, for
/// `braid history show ID --format json`.
pub fn show_json(apply: &ApplyRecord, changes: &[ChangeRecord]) -> String {
    serde_json::to_string_pretty(&json!({ "apply": apply, "changes": changes })).unwrap_or_default()
}
