//! `braid state list | show ADDRESS | rm ADDRESS...`

use braid_provider::Path;
use braid_state::{
    ApplyOutcome, ChangeOutcome, ChangeRecord, ChangeSummary, NewApply, ResourceWrite,
};
use chrono::Utc;
use clap::Subcommand;
use serde_json::json;

use super::{CommandResult, EXIT_OK, GlobalArgs, out};
use crate::apply::executor_lock_error;
use crate::diag::{Diagnostic, Diagnostics, closest};
use crate::plan::mask;
use crate::plan::planner::state_error;
use crate::view::Format;
use crate::view::values::value_text;
use crate::workspace::Workspace;

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the addresses of all resources in state.
    List,
    /// Show one resource's attributes (sensitive values masked).
    Show { address: String },
    /// Forget resources without deleting the objects: braid stops managing them.
    Rm {
        #[arg(required = true)]
        addresses: Vec<String>,
    },
}

pub async fn run(global: &GlobalArgs, command: StateCommand) -> CommandResult {
    let ws = Workspace::load(&global.load_options()?.allowing_missing_variables())?;
    let store = ws.open_state()?;
    let records = store.resources().await.map_err(state_error)?;
    let not_found = |address: &str| -> Diagnostics {
        Diagnostic::error(
            "No such resource in state",
            format!(
                "State has no resource {address}.{} List them with: braid state list",
                closest(address, records.iter().map(|r| r.address.as_str()))
                    .map(|c| format!(" Did you mean {c}?"))
                    .unwrap_or_default()
            ),
        )
        .into()
    };
    match command {
        StateCommand::List => {
            if global.format == Format::Json {
                let list: Vec<_> = records
                    .iter()
                    .map(|r| json!({"address": r.address, "id": r.id, "type": r.type_name}))
                    .collect();
                out(&(serde_json::to_string_pretty(&list).unwrap_or_default() + "\n"));
            } else {
                for r in &records {
                    out(&format!("{}\n", r.address));
                }
            }
        }
        StateCommand::Show { address } => {
            let record = records
                .iter()
                .find(|r| r.address == address)
                .ok_or_else(|| not_found(&address))?;
            if global.format == Format::Json {
                let mut attributes = record.attributes.clone();
                mask(&mut attributes, &record.sensitive_paths);
                out(
                    &(serde_json::to_string_pretty(&attributes.to_json()).unwrap_or_default()
                        + "\n"),
                );
            } else {
                out(&format!(
                    "# {}:\n{}\n",
                    record.address,
                    value_text(
                        &record.attributes,
                        &mut Path::root(),
                        &record.sensitive_paths,
                        0
                    )
                ));
            }
        }
        StateCommand::Rm { addresses } => {
            for address in &addresses {
                if !records.iter().any(|r| &r.address == address) {
                    return Err(not_found(address));
                }
            }
            let lock = store
                .lock(crate::actor::lock_request("state rm"))
                .await
                .map_err(executor_lock_error)?;
            let result = forget(&ws, store.as_ref(), &addresses).await;
            store.unlock(&lock.id).await.map_err(state_error)?;
            result?;
            for address in &addresses {
                out(&format!(
                    "Removed {address} from state (the object itself was not touched).\n"
                ));
            }
        }
    }
    Ok(EXIT_OK)
}

/// Removes resources from state, recording it in the audit log.
async fn forget(
    ws: &Workspace,
    store: &dyn braid_state::StateStore,
    addresses: &[String],
) -> Result<(), Diagnostics> {
    let apply_id = store
        .begin_apply(NewApply {
            env: ws.env_name.clone(),
            actor: crate::actor::actor(),
            operation: "state rm".to_string(),
            sources: ws.sources.iter().map(|s| s.revision.clone()).collect(),
            rollback_of: None,
            started_at: Utc::now(),
        })
        .await
        .map_err(state_error)?;
    let mut serial = store.meta().await.map_err(state_error)?.serial;
    for address in addresses {
        serial = store
            .commit_resource(
                serial,
                ResourceWrite {
                    address: address.clone(),
                    record: None,
                    change: Some((
                        apply_id,
                        ChangeRecord {
                            address: address.clone(),
                            action: "forget".to_string(),
                            outcome: ChangeOutcome::Applied,
                            message: Some("removed from state by braid state rm".to_string()),
                            at: Utc::now(),
                        },
                    )),
                },
            )
            .await
            .map_err(state_error)?;
    }
    let summary = ChangeSummary::default();
    store
        .finish_apply(apply_id, summary, ApplyOutcome::Succeeded)
        .await
        .map_err(state_error)?;
    Ok(())
}
