//! `braid status`: where each environment stands — synced, out of sync (new commits not
//! applied) or drifted — with what is deployed, the last apply and the pending changes.
//! It plans (reading live objects) and writes nothing.

use clap::Args;

use super::{CommandResult, Context, EXIT_CHANGES, EXIT_OK};
use crate::agent::{SyncState, assess};
use crate::view::{Format, status as status_view};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// How many objects are read at once.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub parallelism: usize,
    /// Exit 2 when an environment is not in sync.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

pub async fn run(cx: &Context, args: &StatusArgs) -> CommandResult {
    let envs: Vec<String> = match cx.global.envs.as_slice() {
        [] => {
            let project = crate::config::load_project(&cx.global.dir)?;
            if project.environments.is_empty() {
                vec![String::new()]
            } else {
                project
                    .environments
                    .iter()
                    .map(|e| e.name.clone())
                    .collect()
            }
        }
        some => some.to_vec(),
    };
    let mut statuses = Vec::new();
    for env in &envs {
        let flags = if env.is_empty() {
            cx.global.clone()
        } else {
            cx.global.for_env(env)
        };
        let load = flags.load_options()?;
        let render: crate::agent::DiffRenderer = std::sync::Arc::new(|plan: &crate::plan::Plan| {
            crate::view::plan::render_human(plan, crate::view::Style::plain())
        });
        let status = assess(&cx.registry, &load, args.parallelism, Some(&render)).await?;
        statuses.push(status);
    }
    match cx.shell.format() {
        Format::Json => cx.shell.out(&(status_view::to_json(&statuses) + "\n")),
        _ => cx
            .shell
            .out(&status_view::render_human(&statuses, cx.shell.style())),
    }
    let all_synced = statuses.iter().all(|s| s.sync == SyncState::Synced);
    Ok(if args.detailed_exitcode && !all_synced {
        EXIT_CHANGES
    } else {
        EXIT_OK
    })
}
