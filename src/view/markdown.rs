//! Plans as a pull-request comment: a header with the environments and the commits planned,
//! a summary table, destructive changes first and flagged, each resource's diff folded in a
//! `<details>` block — within a hard size budget, so the comment always posts.

use super::Style;
use super::plan::{render_change, render_drift, sign_and_verb, source_revision, summary_line};
use crate::plan::{Action, Plan, PlanMode, PlanSummary, ResourceChange};

/// GitHub rejects comments over 65,536 characters; this leaves room for what CI adds.
pub const COMMENT_BUDGET: usize = 60_000;

/// The first line of every comment, so CI can find and update its own comment.
pub const MARKER: &str = "<!-- braid-plan -->";
/// The first line of `braid apply --reviewed --comment`'s comment, which it updates.
pub const APPLY_MARKER: &str = "<!-- braid-apply -->";
/// Added to a plan comment whose plans were stored for `braid apply --reviewed`.
pub const REVIEWED_NOTE: &str = "\n> Stored as the reviewed plan: after the merge, `braid apply --reviewed` applies exactly these changes, or refuses (and says so here) if something was applied first or the merge changed the files.\n";
/// The first line of a drift report (`braid drift --format markdown`).
pub const DRIFT_MARKER: &str = "<!-- braid-drift -->";

/// Room kept for the closing note about left-out diffs and the summary lines.
const FOOTER_RESERVE: usize = 1_500;

/// One comment for one or several environments, at most `budget` characters.
pub fn render(plans: &[Plan], budget: usize) -> String {
    let envs: Vec<&str> = plans.iter().map(|p| p.env.as_str()).collect();
    let drift_only = plans.iter().all(|p| p.mode == PlanMode::RefreshOnly);
    let (marker, title) = if drift_only {
        (DRIFT_MARKER, "braid drift")
    } else {
        (MARKER, "braid plan")
    };
    let mut out = format!(
        "{marker}\n### {title} · {}\n\n",
        envs.iter()
            .map(|e| format!("`{e}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // Policies first: what reviewers must see before the diffs.
    for plan in plans {
        let Some(report) = &plan.policy else { continue };
        let env = if plans.len() > 1 {
            format!(" · `{}`", plan.env)
        } else {
            String::new()
        };
        if report.denied.is_empty() && report.warnings.is_empty() && report.overridden.is_empty() {
            out.push_str(&format!(
                "**Policy{env}:** ✅ passed ({} file(s)).\n\n",
                report.files.len()
            ));
            continue;
        }
        out.push_str(&format!(
            "**Policy{env}:** {} denied, {} warning(s)\n\n",
            report.denied.len(),
            report.warnings.len()
        ));
        let line = |kind: &str, f: &crate::plan::PolicyFinding| {
            format!(
                "- {kind} {}{}\n",
                f.name
                    .as_deref()
                    .map(|n| format!("`{n}` "))
                    .unwrap_or_default(),
                f.message.replace('\n', " ")
            )
        };
        for f in &report.denied {
            out.push_str(&line("❌ **deny**", f));
        }
        for f in &report.overridden {
            out.push_str(&line("⚠️ overridden", f));
        }
        for f in &report.warnings {
            out.push_str(&line("⚠️ warn", f));
        }
        out.push('\n');
    }
    out.push_str("| environment | source | repository | revision |\n|---|---|---|---|\n");
    for plan in plans {
        for src in &plan.sources {
            out.push_str(&format!(
                "| {} | {} | `{}` | `{}` |\n",
                plan.env,
                src.name,
                src.repo,
                source_revision(src)
            ));
        }
    }
    out.push_str("\n| environment | source | create | update | replace | delete | import | drift |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
    for plan in plans {
        for (source, s) in per_source(plan) {
            let destructive = if s.delete + s.replace > 0 {
                " ⚠️"
            } else {
                ""
            };
            out.push_str(&format!(
                "| {}{destructive} | {source} | {} | {} | {} | {} | {} | {} |\n",
                plan.env, s.create, s.update, s.replace, s.delete, s.import, s.drift
            ));
        }
    }
    out.push('\n');

    let mut left_out = 0;
    let mut total = 0;
    for plan in plans {
        let blocks = blocks(plan);
        let heading = if plans.len() > 1 {
            format!("#### `{}`\n\n", plan.env)
        } else {
            String::new()
        };
        out.push_str(&heading);
        let warnings = warnings_section(plan);
        if out.len() + warnings.len() + FOOTER_RESERVE <= budget {
            out.push_str(&warnings);
        } else if !plan.warnings.is_empty() {
            out.push_str(&format!(
                "⚠️ {} provider warning(s), not shown here for size: see `braid plan`.\n\n",
                plan.warnings.len()
            ));
        }
        if blocks.is_empty() {
            let nothing = if drift_only {
                "No drift.** Live objects match the state of"
            } else {
                "No changes.** The configuration matches"
            };
            out.push_str(&format!("**{nothing} environment `{}`.\n\n", plan.env));
            continue;
        }
        for block in blocks {
            total += 1;
            if out.len() + block.len() + FOOTER_RESERVE > budget {
                left_out += 1;
                continue;
            }
            out.push_str(&block);
        }
        if plan.mode != PlanMode::RefreshOnly {
            for chart in &plan.charts {
                out.push_str(&chart_section(plan, chart));
            }
        }
        if !plan.kept.is_empty() {
            out.push_str(&format!(
                "Kept although removed from configuration (`braid.dev/prune: \"false\"`): {}\n\n",
                plan.kept
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        out.push_str(&format!(
            "**{}{}**\n\n",
            if plans.len() > 1 {
                format!("{}: ", plan.env)
            } else {
                String::new()
            },
            if drift_only {
                format!("Drift: {} resource(s) differ from state.", plan.drift.len())
            } else {
                summary_line(&plan.summary())
            }
        ));
        if let Some(line) = super::plan::window_line(plan) {
            out.push_str(&format!("> {line}\n\n"));
        }
    }
    if left_out > 0 {
        let env_flags: String = envs.iter().map(|e| format!(" --env {e}")).collect();
        out.push_str(&format!(
            "> **{left_out} of {total} resource diffs are not shown** to stay within the size limit of a pull-request comment. The summary above counts every change. See them all with `braid{env_flags} plan`, or in the JSON plan (`braid plan --format json`) saved by the CI run.\n"
        ));
    }
    out
}

/// The providers' warnings of a plan, folded: each with its resource and place.
fn warnings_section(plan: &Plan) -> String {
    if plan.warnings.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "<details><summary>⚠️ {} provider warning(s)</summary>\n\n",
        plan.warnings.len()
    );
    for w in &plan.warnings {
        let place = match (&w.address, &w.at) {
            (Some(address), Some(at)) => {
                format!(" — <code>{}</code> at {}", html(address), html(at))
            }
            (Some(address), None) => format!(" — <code>{}</code>", html(address)),
            (None, Some(at)) => format!(" — at {}", html(at)),
            (None, None) => String::new(),
        };
        out.push_str(&format!(
            "- **{}**{place}: {}\n",
            html(&w.summary),
            html(&w.detail).replace('\n', " ")
        ));
    }
    out.push_str("\n</details>\n\n");
    out
}

/// `text` safe inside HTML and Markdown: a provider's message cannot open a tag or a link.
fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '[' | ']' | '*' | '_' | '`' | '|' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// The comment of a plan that failed: braid's marker (so it replaces the last plan comment),
/// the environments, and the diagnostics as braid prints them, at most `budget` characters.
pub fn render_failure(
    envs: &[String],
    diagnostics: &crate::diag::Diagnostics,
    budget: usize,
) -> String {
    format!(
        "{MARKER}\n### braid plan · {} failed\n\nNo plan: braid stopped with the errors below. Fix them and push again.\n\n{}",
        if envs.is_empty() {
            "`default`".to_string()
        } else {
            envs.iter()
                .map(|e| format!("`{e}`"))
                .collect::<Vec<_>>()
                .join(", ")
        },
        fenced_diagnostics(diagnostics, budget)
    )
}

/// `diagnostics` as plain text in a code fence, cut to fit `budget`.
fn fenced_diagnostics(diagnostics: &crate::diag::Diagnostics, budget: usize) -> String {
    let mut text = String::new();
    for d in &diagnostics.0 {
        text.push_str(&super::diagnostic::render(d, super::Style::plain()));
        text.push('\n');
    }
    let limit = budget.saturating_sub(FOOTER_RESERVE);
    if text.len() > limit {
        let mut cut = limit;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n… (cut to fit a comment: see the CI log)\n");
    }
    let fence = if text.contains("```") { "````" } else { "```" };
    format!("{fence}\n{text}{fence}\n")
}

/// The comment of `braid apply --reviewed --comment`: what the reviewed plan of `env` did,
/// or (`refusal`) why it was not applied.
pub fn render_reviewed_apply(
    env: &str,
    applied: Result<&braid_state::ChangeSummary, &crate::diag::Diagnostics>,
    budget: usize,
) -> String {
    match applied {
        Ok(summary) => format!(
            "{APPLY_MARKER}\n### braid apply --reviewed · `{env}`\n\nApplied the reviewed plan: {} created, {} updated, {} replaced, {} deleted{}.\n",
            summary.create,
            summary.update,
            summary.replace,
            summary.delete,
            if summary.failed > 0 {
                format!(", **{} failed** (see the CI log)", summary.failed)
            } else {
                String::new()
            }
        ),
        Err(diagnostics) => format!(
            "{APPLY_MARKER}\n### braid apply --reviewed · `{env}` refused\n\nThe reviewed plan was not applied: braid stopped with the errors below before changing anything.\n\n{}",
            fenced_diagnostics(diagnostics, budget)
        ),
    }
}

/// A chart's section: chart and version, release, and the values diff since the last apply;
/// empty when the plan leaves the chart as the last apply left it.
fn chart_section(plan: &Plan, chart: &crate::plan::ChartChange) -> String {
    if !super::plan::changes_chart_objects(plan, chart)
        && chart.previous_values.as_ref() == Some(&chart.values)
        && chart.previous_version.as_deref() == Some(chart.version.as_str())
    {
        return String::new();
    }
    let mut out = format!(
        "**Helm chart `{}`** (source `{}`, release `{}` in namespace `{}`): {}\n\n",
        chart.chart,
        chart.source,
        chart.release,
        chart.namespace,
        super::plan::chart_version_text(chart)
    );
    match super::plan::values_diff(chart) {
        Some(diff) => {
            let fence = if diff.contains("```") { "````" } else { "```" };
            out.push_str(&format!(
                "<details><summary>values changed since the last apply</summary>\n\n{fence}diff\n{diff}{fence}\n\n</details>\n\n"
            ));
        }
        None if chart.previous_values.is_some() => {
            out.push_str("Values unchanged since the last apply.\n\n")
        }
        None => {}
    }
    out
}

/// Counts per source, in the order the plan lists its sources; changes to resources that
/// left the configuration (their source is unknown now) are counted as `(removed)`.
fn per_source(plan: &Plan) -> Vec<(String, PlanSummary)> {
    const REMOVED: &str = "(removed)";
    let mut rows: Vec<(String, PlanSummary)> = plan
        .sources
        .iter()
        .map(|s| (s.name.clone(), PlanSummary::default()))
        .collect();
    let mut row = |source: Option<&str>| -> usize {
        let name = source.unwrap_or(REMOVED);
        match rows.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                rows.push((name.to_string(), PlanSummary::default()));
                rows.len() - 1
            }
        }
    };
    let mut counts = Vec::new();
    for change in &plan.changes {
        counts.push((row(change.source.as_deref()), change));
    }
    let mut drift_rows = Vec::new();
    for drift in &plan.drift {
        let source = plan
            .change(&drift.address)
            .and_then(|c| c.source.as_deref());
        drift_rows.push(row(source));
    }
    for (i, change) in counts {
        rows[i].1.count(change);
    }
    for i in drift_rows {
        rows[i].1.drift += 1;
    }
    if rows.is_empty() {
        rows.push(("—".to_string(), PlanSummary::default()));
    }
    rows
}

/// The `<details>` blocks of one plan: destructive changes first, then the others, then
/// drift.
fn blocks(plan: &Plan) -> Vec<String> {
    let style = Style::plain();
    let mut changes: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| c.action.is_change())
        .collect();
    changes.sort_by_key(|c| (!is_destructive(c), c.address.clone()));
    let mut out = Vec::new();
    for change in changes {
        let (_, verb) = sign_and_verb(change, style);
        let flag = if is_destructive(change) {
            "⚠️ "
        } else {
            ""
        };
        let mut body = String::new();
        render_change(change, style, &mut body);
        out.push(details(
            &format!("{flag}<code>{}</code> {verb}", change.address),
            &body,
        ));
    }
    for drift in &plan.drift {
        let mut body = String::new();
        render_drift(drift, style, &mut body);
        out.push(details(
            &format!("🔀 <code>{}</code> changed outside braid", drift.address),
            &body,
        ));
    }
    out
}

fn is_destructive(change: &ResourceChange) -> bool {
    matches!(change.action, Action::Delete | Action::Replace)
}

fn details(summary: &str, body: &str) -> String {
    let diff: String = body
        .lines()
        .skip(1)
        .map(|l| format!("{}\n", diff_marker(l)))
        .collect();
    format!("<details><summary>{summary}</summary>\n\n```diff\n{diff}```\n\n</details>\n\n")
}

/// Moves a line's `+`/`-`/`~` to column 0 so GitHub's diff highlighting colours it.
fn diff_marker(line: &str) -> String {
    let trimmed = line.trim_start();
    let indent = line.len() - trimmed.len();
    match trimmed.chars().next() {
        Some(c @ ('+' | '-')) if !trimmed.starts_with("-/+") && !trimmed.starts_with("+/-") => {
            format!("{c}{}{}", " ".repeat(indent), &trimmed[1..])
        }
        Some('~') => format!("!{}{}", " ".repeat(indent), &trimmed[1..]),
        _ => format!(" {line}"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use braid_provider::Value;

    use super::*;
    use crate::plan::{FORMAT_VERSION, PlanMode, StateRef};

    fn plan_with(env: &str, creates: usize, content_len: usize) -> Plan {
        let changes = (0..creates)
            .map(|i| ResourceChange {
                address: format!("local_value.v{i:04}"),
                source_file: None,
                source: Some("infra".into()),
                provider: "local".into(),
                type_name: "local_value".into(),
                action: if i == creates - 1 {
                    Action::Delete
                } else {
                    Action::Create
                },
                reason: None,
                before: (i == creates - 1).then(|| Value::map([("input", Value::from("old"))])),
                after: (i != creates - 1)
                    .then(|| Value::map([("input", Value::from("x".repeat(content_len)))])),
                after_unknown: Vec::new(),
                before_sensitive: Vec::new(),
                after_sensitive: Vec::new(),
                replace_paths: Vec::new(),
                sensitive_changed: Vec::new(),
                depends_on: Vec::new(),
                create_before_destroy: false,
                moved_from: None,
                import_id: None,
            })
            .collect();
        Plan {
            format_version: FORMAT_VERSION.into(),
            braid_version: "test".into(),
            created_at: chrono::Utc::now(),
            env: env.into(),
            mode: PlanMode::Normal,
            refreshed: true,
            sources: Vec::new(),
            state: StateRef {
                lineage: "l".into(),
                serial: 1,
            },
            variables: BTreeMap::new(),
            changes,
            drift: Vec::new(),
            outputs: BTreeMap::new(),
            kept: Vec::new(),
            salt: String::new(),
            checks: Vec::new(),
            charts: Vec::new(),
            warnings: Vec::new(),
            window: None,
            policy: None,
        }
    }

    #[test]
    fn destructive_changes_come_first_and_are_flagged() {
        let text = render(&[plan_with("staging", 3, 10)], COMMENT_BUDGET);
        assert!(text.starts_with(MARKER));
        let delete = text
            .find("⚠️ <code>local_value.v0002</code> will be destroyed")
            .expect("delete block");
        let create = text
            .find("<code>local_value.v0000</code> will be created")
            .expect("create block");
        assert!(delete < create);
        assert!(
            text.contains("| staging ⚠️ | infra | 2 | 0 | 0 | 1 | 0 | 0 |"),
            "{text}"
        );
    }

    #[test]
    fn a_huge_plan_stays_within_the_budget_and_says_what_was_left_out() {
        let plans = [plan_with("staging", 400, 400), plan_with("prod", 400, 400)];
        let text = render(&plans, COMMENT_BUDGET);
        assert!(text.len() <= COMMENT_BUDGET, "{} characters", text.len());
        assert!(text.contains("resource diffs are not shown"));
        assert!(text.contains("braid --env staging --env prod plan"));
        // Both environments keep their summary rows even when their diffs are cut.
        assert!(text.contains("| prod ⚠️ | infra | 399 |"), "{text}");
        assert!(text.contains("**prod: Plan: 399 to add"));
    }
}
