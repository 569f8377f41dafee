//! `braid apply` and `braid destroy`

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;

use super::{
    CommandResult, EXIT_ERROR, EXIT_OK, GlobalArgs, Prepared, confirm, out, prepare, prepare_with,
};
use crate::apply::{ApplyObserver, ApplyOptions, SilentObserver, apply_plan};
use crate::diag::{Diagnostic, Diagnostics};
use crate::plan::{Plan, PlanMode, PlanOptions, file, make_plan};
use crate::source::Pin;
use crate::view::{Format, apply as apply_view, plan as plan_view};

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved by `braid plan --out`: apply exactly it.
    #[arg(value_name = "PLAN_FILE")]
    pub plan_file: Option<PathBuf>,
    /// Apply without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Read live objects before planning.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub refresh: bool,
    /// How many changes run at once.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub parallelism: usize,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// Destroy without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub parallelism: usize,
}

pub async fn run(global: &GlobalArgs, args: &ApplyArgs) -> CommandResult {
    if let Some(path) = &args.plan_file {
        // A saved plan was reviewed already: no second confirmation, as in Terraform. Its
        // recorded variable values are used; sensitive ones (stored only as digests) must be
        // given again and are checked against the plan.
        let plan = file::load(path)?;
        let mut options = global.load_options()?;
        options.sources.pins = pinned_commits(global, &plan)?;
        options.fixed_variables = plan
            .variables
            .iter()
            .filter_map(|(name, v)| v.value.clone().map(|value| (name.clone(), value)))
            .collect();
        let prepared = prepare_with(global, options).await?;
        return execute(global, &prepared, &plan, "apply", args.parallelism, None).await;
    }
    let prepared = prepare(global).await?;
    check_rule_early(&prepared)?;
    let options = PlanOptions {
        mode: PlanMode::Normal,
        refresh: args.refresh,
        parallelism: args.parallelism,
    };
    let plan = make_plan(
        &prepared.ws,
        &prepared.providers,
        prepared.store.as_ref(),
        &options,
    )
    .await?;
    if !show_and_confirm(
        global,
        &plan,
        args.auto_approve,
        "Do you want to perform these actions?",
    )? {
        return Ok(EXIT_ERROR);
    }
    execute(global, &prepared, &plan, "apply", args.parallelism, None).await
}

/// The commits a saved plan read its git sources at: applying reads exactly those, even if
/// a branch moved since. Plain directories are not pinned (their digest is checked instead).
fn pinned_commits(global: &GlobalArgs, plan: &Plan) -> Result<BTreeMap<String, Pin>, Diagnostics> {
    if let Some(r) = global.refs.first() {
        return Err(Diagnostic::error(
            "Ref given with a saved plan",
            format!(
                "--ref {r} picks what to plan, but a saved plan already pins the commit of every git source. Drop --ref, or make a new plan with it."
            ),
        )
        .into());
    }
    Ok(plan
        .sources
        .iter()
        .filter(|s| s.reference.is_some())
        .filter_map(|s| {
            let commit = s.commit.clone()?;
            Some((
                s.name.clone(),
                Pin {
                    commit,
                    reference: s.reference.clone(),
                    tag: s.tag.clone(),
                    full_ref: s.full_ref.clone(),
                },
            ))
        })
        .collect())
}

pub async fn destroy(global: &GlobalArgs, args: &DestroyArgs) -> CommandResult {
    let prepared = prepare(global).await?;
    check_rule_early(&prepared)?;
    let options = PlanOptions {
        mode: PlanMode::Destroy,
        refresh: true,
        parallelism: args.parallelism,
    };
    let plan = make_plan(
        &prepared.ws,
        &prepared.providers,
        prepared.store.as_ref(),
        &options,
    )
    .await?;
    let question = format!(
        "Do you really want to destroy everything in environment \"{}\"?",
        plan.env
    );
    if !show_and_confirm(global, &plan, args.auto_approve, &question)? {
        return Ok(EXIT_ERROR);
    }
    execute(global, &prepared, &plan, "destroy", args.parallelism, None).await
}

/// Shows the plan; returns whether to go on (false when the user declined).
pub(super) fn show_and_confirm(
    global: &GlobalArgs,
    plan: &Plan,
    auto_approve: bool,
    question: &str,
) -> Result<bool, crate::diag::Diagnostics> {
    if global.format == Format::Human && !global.quiet {
        out(&plan_view::render_human(plan, global.style()));
    }
    if !plan.has_changes() && plan.drift.is_empty() {
        return Ok(true);
    }
    if auto_approve {
        return Ok(true);
    }
    if confirm(question, "--auto-approve")? {
        Ok(true)
    } else {
        out("\nApply cancelled.\n");
        Ok(false)
    }
}

/// The apply rule, checked on the sources before anything is refreshed, planned or shown.
pub(super) fn check_rule_early(prepared: &Prepared) -> Result<(), crate::diag::Diagnostics> {
    let sources: Vec<_> = prepared
        .ws
        .sources
        .iter()
        .map(|s| s.revision.clone())
        .collect();
    crate::apply::check_apply_rule(prepared.ws.environment(), &sources)
}

pub(super) async fn execute(
    global: &GlobalArgs,
    prepared: &Prepared,
    plan: &Plan,
    operation: &str,
    parallelism: usize,
    rollback_of: Option<i64>,
) -> CommandResult {
    crate::apply::check_apply_rule(prepared.ws.environment(), &plan.sources)?;
    if !plan.has_changes() && plan.drift.is_empty() {
        if global.format == Format::Json {
            out("{\"succeeded\": true, \"summary\": null, \"results\": []}\n");
        }
        return Ok(EXIT_OK);
    }
    let lock = global.lock_policy()?;
    let options = ApplyOptions {
        parallelism,
        operation: operation.to_string(),
        rollback_of,
        heartbeat: lock.heartbeat_interval(),
        lock,
        ..ApplyOptions::default()
    };
    let lines;
    let observer: &dyn ApplyObserver = if global.format == Format::Human && !global.quiet {
        out("\n");
        lines = apply_view::ApplyLines::new(global.style(), Box::new(std::io::stdout()));
        &lines
    } else {
        &SilentObserver
    };
    let report = apply_plan(
        &prepared.ws,
        &prepared.providers,
        prepared.store.clone(),
        plan,
        &options,
        observer,
    )
    .await?;
    match global.format {
        Format::Json => out(&(apply_view::report_json(&report) + "\n")),
        _ => out(&apply_view::render_summary(&report, global.style())),
    }
    Ok(if report.succeeded() {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}
