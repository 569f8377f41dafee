//! Plans as text (Terraform's notation) and as JSON (docs/plan-json.md).

use super::Style;
use super::values::{Marks, diff_lines};
use crate::plan::{Action, DriftKind, Plan, PlanMode, PlanSummary, ResourceChange, ResourceDrift};

/// The plan as pretty JSON with every sensitive value masked. Saved plan files hold exactly
/// this text.
pub fn to_json(plan: &Plan) -> String {
    crate::plan::file::to_document(plan)
}

/// The plan's JSON document as a value (secrets masked), to embed in a larger document.
pub fn to_json_value(plan: &Plan) -> serde_json::Value {
    serde_json::from_str(&to_json(plan)).expect("the plan document is JSON braid just wrote")
}

/// `resource "local_file" "motd"` for HCL addresses, the address itself otherwise.
fn heading(change_address: &str, type_name: &str) -> String {
    let (_, in_module) = crate::config::split_module_prefix(change_address);
    let (written, _) = crate::config::split_instance_address(in_module);
    if let Some(name) = written.strip_prefix(&format!("data.{type_name}.")) {
        return format!("data \"{type_name}\" \"{name}\"");
    }
    match written.strip_prefix(&format!("{type_name}.")) {
        Some(name) if !change_address.starts_with("k8s/") => {
            format!("resource \"{type_name}\" \"{name}\"")
        }
        _ => change_address.to_string(),
    }
}

pub(crate) fn sign_and_verb(change: &ResourceChange, style: Style) -> (String, String) {
    match change.action {
        Action::Create => (style.green("+"), "will be created".to_string()),
        Action::Update => (style.yellow("~"), "will be updated in place".to_string()),
        Action::Replace if change.create_before_destroy => (
            format!("{}/{}", style.green("+"), style.red("-")),
            "must be replaced (new one created first)".to_string(),
        ),
        Action::Replace => (
            format!("{}/{}", style.red("-"), style.green("+")),
            "must be replaced".to_string(),
        ),
        Action::Delete => (style.red("-"), "will be destroyed".to_string()),
        Action::Import if change.before != change.after => (
            style.cyan("~"),
            "will be imported and updated in place".to_string(),
        ),
        Action::Import => (style.cyan(">"), "will be imported".to_string()),
        Action::Forget => (
            ".".to_string(),
            "will no longer be managed by braid, but will not be destroyed".to_string(),
        ),
        Action::NoOp => (" ".to_string(), "has no changes".to_string()),
        Action::Read => (style.cyan("<="), "will be read during apply".to_string()),
    }
}

pub(crate) fn render_change(change: &ResourceChange, style: Style, out: &mut String) {
    if let Some(from) = &change.moved_from {
        if change.action == Action::NoOp {
            out.push_str(&format!(
                "  {} has moved to {}\n",
                style.bold(&format!("# {from}")),
                change.address
            ));
            out.push_str(&format!(
                "    {} {{\n        # (no changes)\n    }}\n\n",
                heading(&change.address, &change.type_name)
            ));
            return;
        }
        out.push_str(&format!(
            "  {}\n",
            style.bold(&format!("# (moved from {from})"))
        ));
    }
    let (sign, verb) = sign_and_verb(change, style);
    let reason = change
        .reason
        .as_ref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    out.push_str(&format!(
        "  {} {verb}{reason}\n",
        style.bold(&format!("# {}", change.address))
    ));
    let pad = if matches!(change.action, Action::Replace) {
        ""
    } else {
        "  "
    };
    out.push_str(&format!(
        "{pad}{sign} {} {{\n",
        heading(&change.address, &change.type_name)
    ));
    let after = change
        .after
        .clone()
        .map(|a| a.with_unknowns(&change.after_unknown));
    let marks = Marks {
        before_sensitive: &change.before_sensitive,
        after_sensitive: &change.after_sensitive,
        replace: &change.replace_paths,
        sensitive_changed: &change.sensitive_changed,
    };
    for line in diff_lines(change.before.as_ref(), after.as_ref(), &marks, 6, style) {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str("    }\n\n");
}

pub(crate) fn render_drift(drift: &ResourceDrift, style: Style, out: &mut String) {
    let verb = match drift.kind {
        DriftKind::Changed => "was changed outside braid",
        DriftKind::Deleted => "was deleted outside braid",
    };
    out.push_str(&format!(
        "  {} {verb}\n",
        style.bold(&format!("# {}", drift.address))
    ));
    let sign = match drift.kind {
        DriftKind::Changed => style.yellow("~"),
        DriftKind::Deleted => style.red("-"),
    };
    out.push_str(&format!(
        "  {sign} {} {{\n",
        heading(&drift.address, &drift.type_name)
    ));
    let marks = Marks {
        before_sensitive: &drift.sensitive,
        after_sensitive: &drift.sensitive,
        replace: &[],
        sensitive_changed: &[],
    };
    for line in diff_lines(Some(&drift.before), drift.after.as_ref(), &marks, 6, style) {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str("    }\n\n");
}

/// The policies' verdict, for the top of the plan: a count line, then each denial and
/// warning (`None` without policies).
pub fn policy_section(plan: &Plan, style: Style) -> Option<String> {
    let report = plan.policy.as_ref()?;
    let mut out = format!(
        "{} {} denied, {} warning(s){} ({})\n",
        style.bold("Policy:"),
        report.denied.len(),
        report.warnings.len(),
        if report.overridden.is_empty() {
            String::new()
        } else {
            format!(", {} overridden", report.overridden.len())
        },
        report.files.join(", ")
    );
    let named = |f: &crate::plan::PolicyFinding| match &f.name {
        Some(name) => format!("[{name}] {}", f.message),
        None => f.message.clone(),
    };
    for f in &report.denied {
        out.push_str(&format!("  {} {}\n", style.red("deny"), named(f)));
    }
    for f in &report.overridden {
        out.push_str(&format!("  {} {}\n", style.yellow("overridden"), named(f)));
    }
    for f in &report.warnings {
        out.push_str(&format!("  {} {}\n", style.yellow("warn"), named(f)));
    }
    Some(out)
}

/// The release windows' say on the plan's changes, when the environment has windows and
/// the plan changes something: `Release window: open (…)`, or closed with the next opening.
pub fn window_line(plan: &Plan) -> Option<String> {
    let w = plan.window.as_ref()?;
    if !plan.has_changes() {
        return None;
    }
    Some(if w.allowed {
        format!("Release window: open ({}).", w.reason)
    } else {
        format!(
            "Release window: closed ({}); braid apply refuses these changes until {} (or with --override-window --reason).",
            w.reason,
            w.next_open
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|| "a window opens".to_string())
        )
    })
}

/// One line of counts: `Plan: 1 to add, 0 to change, 0 to replace, 1 to destroy.`
pub fn summary_line(s: &PlanSummary) -> String {
    let mut line = format!(
        "Plan: {} to add, {} to change, {} to replace, {} to destroy",
        s.create, s.update, s.replace, s.delete
    );
    if s.import > 0 {
        line.push_str(&format!(", {} to import", s.import));
    }
    if s.forget > 0 {
        line.push_str(&format!(", {} to forget", s.forget));
    }
    if s.moved > 0 {
        line.push_str(&format!(", {} to move", s.moved));
    }
    line.push('.');
    line
}

/// Where a source was read: `main @ 1a2b3c4d5e6f` (a branch), `tag v1.4.0 @ 1a2b3c4d5e6f`,
/// `1a2b3c4d5e6f, dirty` (a work tree with changes), or the digest of a plain directory.
pub(crate) fn source_revision(s: &braid_state::SourceRevision) -> String {
    let short = |c: &str| c.chars().take(12).collect::<String>();
    let mut at = match (&s.tag, &s.reference, &s.commit) {
        (Some(tag), _, Some(c)) => format!("tag {tag} @ {}", short(c)),
        (None, Some(r), Some(c)) if !c.starts_with(r.as_str()) => format!("{r} @ {}", short(c)),
        (_, _, Some(c)) => short(c),
        _ => s.digest.chars().take(19).collect(),
    };
    if s.dirty {
        at.push_str(", dirty");
    }
    at
}

/// The whole plan for a terminal.
pub fn render_human(plan: &Plan, style: Style) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{} environment {} · state serial {}\n",
        style.bold(if plan.mode == PlanMode::RefreshOnly {
            "braid drift"
        } else {
            "braid plan"
        }),
        style.bold(&plan.env),
        plan.state.serial
    ));
    for s in &plan.sources {
        out.push_str(&format!(
            "  source {:8} {} ({})\n",
            s.name,
            s.repo,
            source_revision(s)
        ));
        if let Some(helm) = &s.helm {
            out.push_str(&format!(
                "         {:8} chart {} {}, release {} in namespace {}\n",
                "", helm.chart, helm.version, helm.release, helm.namespace
            ));
        }
    }
    out.push('\n');
    if let Some(section) = policy_section(plan, style) {
        out.push_str(&section);
        out.push('\n');
    }
    if !plan.refreshed {
        out.push_str("Note: live objects were not read (--refresh=false); the plan compares against state only.\n\n");
    }
    if !plan.drift.is_empty() {
        out.push_str(&style.bold("Drift: objects changed outside braid since the last apply"));
        out.push_str("\n\n");
        for d in &plan.drift {
            render_drift(d, style, &mut out);
        }
        if plan.mode != PlanMode::RefreshOnly {
            out.push_str("The plan below takes these live values as its starting point.\n\n");
        }
    }
    let changes: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| c.action.is_change() || c.moved_from.is_some() || c.action == Action::Read)
        .collect();
    let summary = plan.summary();
    if plan.mode == PlanMode::RefreshOnly {
        if plan.drift.is_empty() {
            out.push_str("No drift. Live objects match the state.\n");
        } else {
            out.push_str(&format!(
                "Drift: {} resource(s) differ from state.\n",
                plan.drift.len()
            ));
        }
        for warning in &plan.warnings {
            out.push_str(&format!("\n{}", render_warning(warning, style)));
        }
        return out;
    }
    if changes.is_empty() {
        out.push_str(&format!(
            "{} Environment {} matches the configuration.\n",
            style.green("No changes."),
            plan.env
        ));
    } else {
        out.push_str("braid will perform the following actions:\n\n");
        // Destructive changes first, so reviewers see them.
        let mut ordered = changes;
        ordered.sort_by_key(|c| {
            (
                !matches!(c.action, Action::Delete | Action::Replace),
                c.address.clone(),
            )
        });
        for change in ordered {
            render_change(change, style, &mut out);
        }
        out.push_str(&style.bold(&summary_line(&summary)));
        out.push('\n');
    }
    if let Some(line) = window_line(plan) {
        let open = plan.window.as_ref().is_some_and(|w| w.allowed);
        out.push_str(&format!(
            "\n{}\n",
            if open { line } else { style.yellow(&line) }
        ));
    }
    if !plan.kept.is_empty() {
        out.push_str("\nNot in configuration any more, but kept (braid.dev/prune: \"false\"):\n");
        for address in &plan.kept {
            out.push_str(&format!("  {address}\n"));
        }
    }
    if !plan.outputs.is_empty() {
        out.push_str("\nOutputs:\n");
        let width = plan
            .outputs
            .keys()
            .map(|name| name.chars().count())
            .max()
            .unwrap_or(0);
        for (name, output) in &plan.outputs {
            let text = if output.sensitive {
                super::values::SENSITIVE.to_string()
            } else {
                super::values::value_text(&output.value, &mut braid_provider::Path::root(), &[], 2)
            };
            out.push_str(&format!(
                "  {} = {text}\n",
                super::values::padded(name, width)
            ));
        }
    }
    for chart in &plan.charts {
        render_chart(plan, chart, style, &mut out);
    }
    for warning in &plan.warnings {
        out.push_str(&format!("\n{}", render_warning(warning, style)));
    }
    for warning in crate::plan::planner::check_warnings(&plan.checks) {
        out.push_str(&format!("\n{}", super::diagnostic::render(&warning, style)));
    }
    out
}

/// A provider's warning kept in the plan, as diagnostics without their source line are
/// shown: where, then the provider's words.
fn render_warning(warning: &crate::plan::PlanWarning, style: Style) -> String {
    let mut out = format!(
        "{}: {}\n",
        style.yellow("warning"),
        style.bold(&warning.summary)
    );
    let place = match (&warning.at, &warning.address) {
        (Some(at), Some(address)) => Some(format!("{at} ({address})")),
        (Some(at), None) => Some(at.clone()),
        (None, Some(address)) => Some(address.clone()),
        (None, None) => None,
    };
    if let Some(place) = place {
        out.push_str(&format!("  --> {place}\n"));
    }
    for line in warning.detail.lines() {
        out.push_str(&format!("   = {line}\n"));
    }
    out
}

/// A chart's part of the plan: its version and values against the last apply, and its
/// NOTES.txt when the plan changes its objects.
fn render_chart(plan: &Plan, chart: &crate::plan::ChartChange, style: Style, out: &mut String) {
    let changes_objects = changes_chart_objects(plan, chart);
    let diff = values_diff(chart);
    if !changes_objects
        && diff.is_none()
        && chart.previous_version.as_deref() == Some(chart.version.as_str())
    {
        return;
    }
    out.push_str(&format!(
        "\n{} (source {}, release {} in namespace {}): {}\n",
        style.bold(&format!("Helm chart {}", chart.chart)),
        chart.source,
        chart.release,
        chart.namespace,
        chart_version_text(chart)
    ));
    if let Some(diff) = &diff {
        out.push_str("  values changed since the last apply:\n");
        for line in diff.lines() {
            out.push_str(&format!("    {line}\n"));
        }
    }
    if changes_objects && let Some(notes) = &chart.notes {
        out.push_str(&format!(
            "\n{}\n",
            style.bold(&format!("Notes from chart {}:", chart.chart))
        ));
        for line in notes.trim_end().lines() {
            out.push_str(&format!("  {line}\n"));
        }
    }
}

/// Whether the plan changes any object of the chart's source.
pub(crate) fn changes_chart_objects(plan: &Plan, chart: &crate::plan::ChartChange) -> bool {
    plan.changes
        .iter()
        .any(|c| c.source.as_deref() == Some(chart.source.as_str()) && c.action.is_change())
}

/// `version 0.3.0 (not applied before)`, `version 0.2.0 → 0.3.0`, `version 0.3.0 (unchanged)`.
pub(crate) fn chart_version_text(chart: &crate::plan::ChartChange) -> String {
    match &chart.previous_version {
        None => format!("version {} (not applied before)", chart.version),
        Some(previous) if *previous == chart.version => {
            format!("version {} (unchanged)", chart.version)
        }
        Some(previous) => format!("version {previous} → {}", chart.version),
    }
}

/// The values' change since the last apply as a unified diff of their YAML; `None` when
/// they are the same (or the chart was never applied).
pub(crate) fn values_diff(chart: &crate::plan::ChartChange) -> Option<String> {
    let previous = chart.previous_values.as_ref()?;
    if *previous == chart.values {
        return None;
    }
    let before = braid_helm::yaml::json_to_yaml(previous);
    let after = braid_helm::yaml::json_to_yaml(&chart.values);
    let diff = similar::TextDiff::from_lines(&before, &after);
    Some(
        diff.unified_diff()
            .context_radius(2)
            .header("values (last apply)", "values (this plan)")
            .to_string(),
    )
}

/// The plan as a pull-request comment; see `markdown`.
pub fn render_markdown(plan: &Plan) -> String {
    super::markdown::render(std::slice::from_ref(plan), super::markdown::COMMENT_BUDGET)
}
