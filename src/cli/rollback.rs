//! `braid rollback --to ID`: apply again the configuration an earlier apply deployed — its
//! git sources read at the commits that apply recorded — as a new apply that says it is a
//! rollback.

use clap::Args;

use super::apply::{finish, show_and_confirm};
use super::{CommandResult, Context};
use crate::ops;

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The apply to return to (see braid history).
    #[arg(long = "to", value_name = "APPLY_ID")]
    pub to: i64,
    /// Apply without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// How many changes run at once.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub parallelism: usize,
    #[command(flatten)]
    pub window: super::apply::WindowOverrideArgs,
}

pub async fn run(cx: &Context, args: &RollbackArgs) -> CommandResult {
    let mut options = cx.global.run_options(true, args.parallelism, &cx.cancel)?;
    args.window.apply_to(&mut options)?;
    let observer = cx.shell.apply_observer();
    let mut approve = |target: &braid_state::ApplyRecord, plan: &crate::plan::Plan| {
        let question = format!(
            "Roll environment \"{}\" back to the configuration of apply #{} ({})?",
            plan.env,
            target.id,
            target.started_at.format("%Y-%m-%d %H:%M UTC")
        );
        show_and_confirm(cx, plan, args.auto_approve, &question)
    };
    cx.stop_gracefully();
    let (prepared, outcome) = ops::rollback(
        &cx.registry,
        cx.global.load_options()?,
        args.to,
        &options,
        &mut approve,
        observer.as_ref(),
    )
    .await?;
    cx.shell.diagnostics(&prepared.ws.warnings);
    Ok(finish(cx, "rollback", &outcome))
}
