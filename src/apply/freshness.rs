//! Whether a plan may still be applied: made for this environment, against the state as it
//! is now, from the same sources and with the same variable values.

use crate::diag::{Diagnostic, Diagnostics};
use crate::plan::Plan;
use crate::plan::planner::variable_digest;
use crate::workspace::Workspace;

/// Refuses a plan made against another state, other sources or other variable values.
pub fn check_fresh(
    ws: &Workspace,
    plan: &Plan,
    meta: &braid_state::StateMeta,
) -> Result<(), Diagnostics> {
    let stale = |why: String| -> Diagnostics {
        Diagnostic::error(
            "Saved plan is stale",
            format!("{why} Applying it could undo or repeat changes nobody reviewed. Run braid plan again and review the new plan."),
        )
        .into()
    };
    if plan.env != ws.env_name {
        return Err(Diagnostic::error(
            "Plan is for another environment",
            format!(
                "The plan was made for environment \"{}\", but this run is for \"{}\". Pass --env {} or plan again.",
                plan.env, ws.env_name, plan.env
            ),
        )
        .into());
    }
    if meta.lineage != plan.state.lineage {
        return Err(stale(format!(
            "The plan was made against state lineage {}, but this environment's state has lineage {}.",
            plan.state.lineage, meta.lineage
        )));
    }
    if meta.serial != plan.state.serial {
        return Err(stale(format!(
            "State changed since the plan was made (serial {} then, {} now).",
            plan.state.serial, meta.serial
        )));
    }
    for planned in &plan.sources {
        match ws.sources.iter().find(|s| s.name == planned.name) {
            Some(now)
                if now.revision.digest == planned.digest
                    && now.revision.commit == planned.commit => {}
            Some(now) if now.revision.commit != planned.commit => {
                let short = |c: &Option<String>| {
                    c.as_deref()
                        .map_or("none".to_string(), |c| c.chars().take(12).collect())
                };
                return Err(stale(format!(
                    "The source \"{}\" was planned at commit {}, but reads commit {} now.",
                    planned.name,
                    short(&planned.commit),
                    short(&now.revision.commit)
                )));
            }
            Some(_) => {
                return Err(stale(format!(
                    "The files of source \"{}\" changed since the plan was made.",
                    planned.name
                )));
            }
            None => {
                return Err(stale(format!(
                    "The source \"{}\" is no longer configured.",
                    planned.name
                )));
            }
        }
    }
    for (name, planned) in &plan.variables {
        let now = ws.variables.get(name);
        let same = match (now, planned.sensitive) {
            (Some(now), true) => {
                planned.digest.as_deref() == Some(variable_digest(&now.value, &plan.salt).as_str())
            }
            (Some(now), false) => planned.value.as_ref() == Some(&now.value),
            (None, _) => false,
        };
        if !same {
            return Err(stale(format!(
                "The value of variable \"{name}\" is not the one the plan was made with."
            )));
        }
    }
    Ok(())
}
