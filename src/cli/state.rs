//! `braid state list | show ADDRESS | rm ADDRESS... | pull | push FILE | migrate --to BACKEND`

use braid_provider::Path;
use braid_state::{
    ApplyOutcome, ChangeAction, ChangeOutcome, ChangeRecord, ChangeSummary, NewApply, ResourceWrite,
};
use chrono::Utc;
use std::path::{Path as FilePath, PathBuf};

use braid_provider::Value;
use braid_state::{StateDump, StateError, StateStore};
use clap::{Args, Subcommand};
use serde_json::json;

use super::locking::take_lock;
use super::{CommandResult, EXIT_OK, GlobalArgs, out};
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
    /// Rename a resource in state after renaming it in configuration.
    Mv { from: String, to: String },
    /// Adopt an existing object into state under a configured address.
    Import { address: String, id: String },
    /// Print the whole state (resources and history, sensitive values included) as JSON.
    Pull,
    /// Replace the state by a JSON dump from `braid state pull` (`-` reads stdin). The
    /// lineage must match and the serial must be newer, unless --force.
    Push {
        file: PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// Copy this environment's state and history to another backend and verify the copy.
    Migrate(MigrateArgs),
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The backend to copy to: sqlite, postgres or s3.
    #[arg(long = "to", value_name = "BACKEND")]
    pub backend: String,
    /// sqlite: the database file (relative to the project directory).
    #[arg(long)]
    pub path: Option<String>,
    /// postgres: the connection URL (default: BRAID_STATE_URL).
    #[arg(long)]
    pub url: Option<String>,
    /// s3: the bucket.
    #[arg(long)]
    pub bucket: Option<String>,
    /// s3: the key prefix (default braid/).
    #[arg(long)]
    pub prefix: Option<String>,
    /// s3: the region.
    #[arg(long)]
    pub region: Option<String>,
    /// s3: a custom endpoint (MinIO, moto...).
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Overwrite a destination that already holds state.
    #[arg(long)]
    pub force: bool,
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
            let lock = take_lock(global, store.as_ref(), "state rm").await?.lock;
            let result = forget(&ws, store.as_ref(), &addresses).await;
            store.unlock(&lock.id).await.map_err(state_error)?;
            result?;
            for address in &addresses {
                out(&format!(
                    "Removed {address} from state (the object itself was not touched).\n"
                ));
            }
        }
        StateCommand::Pull => {
            let dump = store.export().await.map_err(state_error)?;
            out(&(serde_json::to_string_pretty(&dump).unwrap_or_default() + "\n"));
        }
        StateCommand::Push { file, force } => {
            let dump = read_dump(&file)?;
            let lock = take_lock(global, store.as_ref(), "state push").await?.lock;
            let result = braid_state::push(store.as_ref(), &dump, force).await;
            store.unlock(&lock.id).await.map_err(state_error)?;
            result.map_err(transfer_error)?;
            out(&format!(
                "Pushed state serial {} ({} resources, {} applies) to {}.\n",
                dump.serial,
                dump.resources.len(),
                dump.applies.len(),
                store.location()
            ));
        }
        StateCommand::Migrate(args) => migrate(global, &ws, store.as_ref(), &args).await?,
        StateCommand::Mv { from, to } => {
            super::state_edit::move_resource(global, &ws, store.as_ref(), &from, &to).await?;
            out(&format!("Moved {from} to {to} in state.\n"));
        }
        StateCommand::Import { address, id } => {
            super::state_edit::import_resource(global, &ws, store.as_ref(), &address, &id).await?;
            out(&format!(
                "Imported id {id} as {address}. Run braid plan to see how it differs from the configuration.\n"
            ));
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
            actor: crate::actor::actor(&ws.project.dir),
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
                            action: ChangeAction::Forget,
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

/// Copies the state to the backend named by `args`, holding both locks.
async fn migrate(
    global: &GlobalArgs,
    ws: &Workspace,
    from: &dyn StateStore,
    args: &MigrateArgs,
) -> Result<(), Diagnostics> {
    let settings: std::collections::BTreeMap<String, Value> = [
        ("path", &args.path),
        ("url", &args.url),
        ("bucket", &args.bucket),
        ("prefix", &args.prefix),
        ("region", &args.region),
        ("endpoint", &args.endpoint),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), Value::from(v.as_str()))))
    .collect();
    let to = crate::workspace::open_store(&args.backend, &settings, &ws.env_name, &ws.project.dir)?;
    let from_lock = take_lock(global, from, "state migrate").await?.lock;
    let to_lock = match take_lock(global, to.as_ref(), "state migrate").await {
        Ok(acquired) => acquired.lock,
        Err(diags) => {
            from.unlock(&from_lock.id).await.map_err(state_error)?;
            return Err(diags);
        }
    };
    let result = braid_state::migrate(from, to.as_ref(), args.force).await;
    let released = (
        to.unlock(&to_lock.id).await,
        from.unlock(&from_lock.id).await,
    );
    let dump = result.map_err(transfer_error)?;
    released.0.map_err(state_error)?;
    released.1.map_err(state_error)?;
    out(&format!(
        "Copied state serial {} ({} resources, {} applies) of environment \"{}\" from {} to {} and verified the copy.\nPoint the environment's state block at the new backend (state {{ backend = \"{}\", ... }}); the old state is left as it was.\n",
        dump.serial,
        dump.resources.len(),
        dump.applies.len(),
        ws.env_name,
        from.location(),
        to.location(),
        args.backend,
    ));
    Ok(())
}

fn read_dump(path: &FilePath) -> Result<StateDump, Diagnostics> {
    let text = if path == FilePath::new("-") {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Cannot read state dump",
            format!("Reading {}: {e}.", path.display()),
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| {
        Diagnostic::error(
            "Invalid state dump",
            format!(
                "{} is not a state dump written by braid state pull: {e}.",
                path.display()
            ),
        )
        .into()
    })
}

/// Push and migrate refusals, with what to do about them.
fn transfer_error(e: StateError) -> Diagnostics {
    match e {
        StateError::LineageMismatch { expected, found } => Diagnostic::error(
            "State lineage differs",
            format!(
                "The dump has lineage {found}, but this environment's state has lineage {expected}: it comes from another state. Pass --force only if you mean to replace this state by it."
            ),
        )
        .into(),
        StateError::Refused(why) => Diagnostic::error(
            "State not written",
            format!("Refused: {why}. Pass --force to overwrite anyway."),
        )
        .into(),
        other => state_error(other),
    }
}
