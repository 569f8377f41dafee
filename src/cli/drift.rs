//! `braid drift`: compare state with the live objects, nothing else. Exit 2 when anything
//! drifted, so a scheduled CI job can alert on it.

use clap::Args;

use super::{CommandResult, EXIT_CHANGES, EXIT_OK, GlobalArgs, out, prepare};
use crate::plan::{PlanMode, PlanOptions, make_plan};
use crate::view::{Format, plan as plan_view};

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// How many objects are read at once.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub parallelism: usize,
}

pub async fn run(global: &GlobalArgs, args: &DriftArgs) -> CommandResult {
    let prepared = prepare(global).await?;
    let options = PlanOptions {
        mode: PlanMode::RefreshOnly,
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
    match global.format {
        Format::Json => out(&(plan_view::to_json(&plan) + "\n")),
        Format::Markdown => out(&plan_view::render_markdown(&plan)),
        Format::Human => out(&plan_view::render_human(&plan, global.style())),
    }
    Ok(if plan.drift.is_empty() {
        EXIT_OK
    } else {
        EXIT_CHANGES
    })
}
