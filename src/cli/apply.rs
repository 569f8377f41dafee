//! `braid apply` and `braid destroy`

use std::path::PathBuf;

use clap::Args;

use super::plan::TargetArgs;
use super::{CommandResult, Context, EXIT_ERROR, EXIT_OK};
use crate::diag::Diagnostics;
use crate::ops::{self, RunOutcome};
use crate::plan::{Plan, file};
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
    #[command(flatten)]
    pub targeting: TargetArgs,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// Destroy without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// How many changes run at once.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub parallelism: usize,
    /// Destroy only this resource and what depends on it (repeatable).
    #[arg(long = "target", value_name = "ADDR")]
    pub target: Vec<String>,
}

pub async fn run(cx: &Context, args: &ApplyArgs) -> CommandResult {
    let mut options = cx
        .global
        .run_options(args.refresh, args.parallelism, &cx.cancel)?;
    options.targets = args.targeting.target.clone();
    options.replace = args.targeting.replace.clone();
    let observer = cx.shell.apply_observer();
    if let Some(path) = &args.plan_file {
        if !options.targets.is_empty() || !options.replace.is_empty() {
            return Err(crate::diag::Diagnostic::error(
                "Targeting a saved plan",
                "A saved plan already says what to change: --target and --replace belong to braid plan --out, not to braid apply PLAN_FILE.",
            )
            .into());
        }
        // A saved plan was reviewed already: no second confirmation, as in Terraform.
        let plan = file::load(path)?;
        cx.stop_gracefully();
        let (prepared, outcome) = ops::apply_saved(
            &cx.registry,
            cx.global.load_options()?,
            plan,
            &options,
            observer.as_ref(),
        )
        .await?;
        cx.shell.diagnostics(&prepared.ws.warnings);
        return Ok(finish(cx, "apply", &outcome));
    }
    args.targeting.warn(cx);
    let prepared = cx.prepare().await?;
    // From here the environment's lock is held (from planning to the last change): an
    // interrupt must end the run cleanly so the lock is released.
    cx.stop_gracefully();
    let mut approve = |plan: &Plan| {
        show_and_confirm(
            cx,
            plan,
            args.auto_approve,
            "Do you want to perform these actions?",
        )
    };
    let outcome = ops::apply(&prepared, &options, &mut approve, observer.as_ref()).await?;
    let code = finish(cx, "apply", &outcome);
    super::release_data(outcome);
    super::release(prepared);
    Ok(code)
}

pub async fn destroy(cx: &Context, args: &DestroyArgs) -> CommandResult {
    let mut options = cx.global.run_options(true, args.parallelism, &cx.cancel)?;
    options.targets = args.target.clone();
    TargetArgs {
        target: args.target.clone(),
        replace: Vec::new(),
    }
    .warn(cx);
    let observer = cx.shell.apply_observer();
    let prepared = cx.prepare().await?;
    cx.stop_gracefully();
    let mut approve = |plan: &Plan| {
        let question = format!(
            "Do you really want to destroy everything in environment \"{}\"?",
            plan.env
        );
        show_and_confirm(cx, plan, args.auto_approve, &question)
    };
    let outcome = ops::destroy(&prepared, &options, &mut approve, observer.as_ref()).await?;
    Ok(finish(cx, "destroy", &outcome))
}

/// Shows the plan; returns whether to go on (false when the user declined).
pub(super) fn show_and_confirm(
    cx: &Context,
    plan: &Plan,
    auto_approve: bool,
    question: &str,
) -> Result<bool, Diagnostics> {
    cx.shell
        .detail(&plan_view::render_human(plan, cx.shell.style()));
    if !plan.has_changes() && plan.drift.is_empty() {
        return Ok(true);
    }
    if auto_approve {
        return Ok(true);
    }
    if cx
        .shell
        .confirm(question, "--auto-approve", Some(&cx.cancel))?
    {
        Ok(true)
    } else {
        cx.shell.out("\nApply cancelled.\n");
        Ok(false)
    }
}

/// Renders what a writing operation did and picks the exit code: 0 when everything was
/// applied, 1 when something failed or the plan was declined, 130/143 when interrupted.
pub(super) fn finish(cx: &Context, operation: &str, outcome: &RunOutcome) -> i32 {
    match cx.shell.format() {
        Format::Json => cx.shell.json(&apply_view::outcome_json(operation, outcome)),
        _ => {
            if let Some(report) = &outcome.report {
                cx.shell
                    .out(&apply_view::render_summary(report, cx.shell.style()));
            }
        }
    }
    match &outcome.report {
        Some(report) if report.cancelled => cx.interrupted_code(),
        _ if outcome.declined => EXIT_ERROR,
        _ if outcome.succeeded() => EXIT_OK,
        _ => EXIT_ERROR,
    }
}
