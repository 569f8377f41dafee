//! `braid history` and `braid history show ID`: the audit log of an environment.

use clap::{Args, Subcommand};

use super::{CommandResult, Context, EXIT_OK};
use crate::diag::Diagnostic;
use crate::diag::state_error;
use crate::view::{Format, history};
use crate::workspace::Workspace;

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(subcommand)]
    pub command: Option<HistoryCommand>,
    /// How many applies to list, newest first.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub limit: usize,
}

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// One apply with every resource change it made.
    Show { id: i64 },
}

pub async fn run(cx: &Context, args: &HistoryArgs) -> CommandResult {
    let ws = Workspace::load(&cx.global.load_options()?.allowing_missing_variables())?;
    let store = ws.open_state()?;
    match &args.command {
        None => {
            let applies = store.applies(args.limit).await.map_err(state_error)?;
            match cx.shell.format() {
                Format::Json => cx.shell.out(&(history::list_json(&applies) + "\n")),
                _ => cx
                    .shell
                    .out(&history::render_list(&applies, cx.shell.style())),
            }
        }
        Some(HistoryCommand::Show { id }) => {
            let Some(apply) = store.apply_record(*id).await.map_err(state_error)? else {
                return Err(Diagnostic::error(
                    "No such apply",
                    format!(
                        "The audit log of environment \"{}\" has no apply #{id}. List them with: braid history",
                        ws.env_name
                    ),
                )
                .into());
            };
            let changes = store.changes(*id).await.map_err(state_error)?;
            match cx.shell.format() {
                Format::Json => cx.shell.out(&(history::show_json(&apply, &changes) + "\n")),
                _ => cx
                    .shell
                    .out(&history::render_show(&apply, &changes, cx.shell.style())),
            }
        }
    }
    Ok(EXIT_OK)
}
