//! `braid drift`: compare state with the live objects, nothing else. Exit 2 when anything
//! drifted, so a scheduled CI job can alert on it.

use clap::Args;

use super::{CommandResult, Context, EXIT_CHANGES, EXIT_OK};
use crate::ops;
use crate::plan::SilentObserver;
use crate::view::{Format, plan as plan_view};

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// How many objects are read at once.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub parallelism: usize,
}

pub async fn run(cx: &Context, args: &DriftArgs) -> CommandResult {
    let prepared = cx.prepare().await?;
    let plan = ops::drift(&prepared, args.parallelism, &SilentObserver).await?;
    match cx.shell.format() {
        Format::Json => cx.shell.out(&(plan_view::to_json(&plan) + "\n")),
        Format::Markdown => cx.shell.out(&plan_view::render_markdown(&plan)),
        Format::Human => cx
            .shell
            .out(&plan_view::render_human(&plan, cx.shell.style())),
    }
    Ok(if plan.drift.is_empty() {
        EXIT_OK
    } else {
        EXIT_CHANGES
    })
}
