//! `braid rollback --to ID`: apply again the configuration an earlier apply deployed — its
//! git sources read at the commits that apply recorded — as a new apply that says it is a
//! rollback.

use std::collections::BTreeMap;

use clap::Args;

use super::apply::{execute, show_and_confirm};
use super::{CommandResult, EXIT_ERROR, GlobalArgs, prepare_with};
use crate::diag::{Diagnostic, Diagnostics};
use crate::plan::planner::state_error;
use crate::plan::{PlanMode, PlanOptions, make_plan};
use crate::source::Pin;
use crate::workspace::Workspace;

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The apply to return to (see braid history).
    #[arg(long = "to", value_name = "APPLY_ID")]
    pub to: i64,
    /// Apply without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub parallelism: usize,
}

pub async fn run(global: &GlobalArgs, args: &RollbackArgs) -> CommandResult {
    let options = global.load_options()?;
    let current = Workspace::load(&options.clone().allowing_missing_variables())?;
    let store = current.open_state()?;
    let Some(target) = store.apply_record(args.to).await.map_err(state_error)? else {
        return Err(Diagnostic::error(
            "No such apply",
            format!("The audit log of environment \"{}\" has no apply #{}. List them with: braid history", current.env_name, args.to),
        )
        .into());
    };
    if target.operation == "destroy" {
        return Err(Diagnostic::error(
            "Cannot roll back to a destroy",
            format!("Apply #{} destroyed the environment; use braid destroy instead of rolling back to it.", args.to),
        )
        .into());
    }
    let pins = pins_for(&current, &target)?;
    let mut pinned = options;
    pinned.sources.pins = pins;
    let prepared = prepare_with(global, pinned).await?;
    super::apply::check_rule_early(&prepared)?;
    let plan_options = PlanOptions {
        mode: PlanMode::Normal,
        refresh: true,
        parallelism: args.parallelism,
    };
    let plan = make_plan(
        &prepared.ws,
        &prepared.providers,
        prepared.store.as_ref(),
        &plan_options,
    )
    .await?;
    let question = format!(
        "Roll environment \"{}\" back to the configuration of apply #{} ({})?",
        plan.env,
        target.id,
        target.started_at.format("%Y-%m-%d %H:%M UTC")
    );
    if !show_and_confirm(global, &plan, args.auto_approve, &question)? {
        return Ok(EXIT_ERROR);
    }
    execute(
        global,
        &prepared,
        &plan,
        "rollback",
        args.parallelism,
        Some(target.id),
    )
    .await
}

/// The commits to read: every git source at the commit the target apply recorded. A plain
/// directory cannot be read at another commit, so it must still hold what was deployed.
fn pins_for(
    current: &Workspace,
    target: &braid_state::ApplyRecord,
) -> Result<BTreeMap<String, Pin>, Diagnostics> {
    let mut pins = BTreeMap::new();
    let mut diags = Diagnostics::new();
    for recorded in &target.sources {
        let Some(now) = current.sources.iter().find(|s| s.name == recorded.name) else {
            diags.push(Diagnostic::error(
                "Source no longer configured",
                format!(
                    "Apply #{} read source \"{}\", which braid.hcl no longer declares. Restore the source block to roll back.",
                    target.id, recorded.name
                ),
            ));
            continue;
        };
        let is_git = current
            .project
            .sources
            .iter()
            .any(|s| s.name == recorded.name && s.repo.is_some());
        match (&recorded.commit, is_git) {
            (Some(commit), true) => {
                pins.insert(
                    recorded.name.clone(),
                    Pin {
                        commit: commit.clone(),
                        reference: recorded.reference.clone(),
                        tag: recorded.tag.clone(),
                        full_ref: recorded.full_ref.clone(),
                    },
                );
            }
            _ if now.revision.digest == recorded.digest => {}
            _ => diags.push(Diagnostic::error(
                "Cannot roll back a plain directory",
                format!(
                    "Source \"{}\" is a directory, and its files differ from what apply #{} deployed{}. braid reads earlier commits only from git sources: check out that commit and run braid apply, or declare the source with repo and ref.",
                    recorded.name,
                    target.id,
                    recorded.commit.as_ref().map(|c| format!(" (commit {c})")).unwrap_or_default()
                ),
            )),
        }
    }
    diags.into_result(pins)
}
