//! `braid state list | show ADDRESS | rm ADDRESS... | pull | push FILE | migrate --to BACKEND
//! | snapshots | restore [--snapshot ID] | encrypt | rekey`; `import-terraform` is in its own
//! module.

use std::path::{Path as FilePath, PathBuf};
use std::sync::Arc;

use braid_provider::{Path, Value};
use braid_state::{
    ChangeAction, ChangeOutcome, EncryptedStore, NewApply, ResourceWrite, StateDump, StateError,
    StateStore,
};
use clap::{Args, Subcommand};
use serde_json::json;

use super::locking::locked;
use super::{CommandResult, Context, EXIT_OK};
use crate::apply::audit;
use crate::diag::{Diagnostic, Diagnostics, closest, state_error, transfer_error};
use crate::plan::mask;
use crate::state_guard::{self, Snapshots, StateAcceptance};
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
    /// Adopt every resource of a Terraform state file (format version 4, `-` for stdin)
    /// that braid's providers serve, and its outputs, as one audited write.
    ImportTerraform(super::import_terraform::ImportTerraformArgs),
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
    /// List the snapshots of this environment's state that this machine kept (taken before
    /// each write), oldest first.
    Snapshots,
    /// Put a snapshot back as the current state, under the lock (a SQLite file that cannot
    /// be read is moved aside first). The history is kept and records the restore.
    Restore {
        /// `latest`, a snapshot id from `braid state snapshots`, or a serial.
        #[arg(long, value_name = "ID", default_value = "latest")]
        snapshot: String,
    },
    /// Encrypt an existing plaintext state (and this machine's snapshots of it) for the keys
    /// of the environment's `state { encryption { ... } }` block, under the lock.
    Encrypt,
    /// Encrypt the state again with fresh data keys for the keys the encryption block names
    /// now (after adding or removing a recipient, or to rotate keys), under the lock. The
    /// old keys are needed once, to read it.
    Rekey,
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

pub async fn run(cx: &Context, command: StateCommand) -> CommandResult {
    let mut ws = Workspace::load(&cx.global.load_options()?.allowing_missing_variables())?;
    // These two work on a state that cannot be opened, or is refused: that is when they
    // are needed.
    match command {
        StateCommand::Snapshots => return list_snapshots(cx, &ws),
        StateCommand::Restore { snapshot } => return restore(cx, ws, &snapshot).await,
        StateCommand::Encrypt => return reencrypt(cx, &ws, true).await,
        StateCommand::Rekey => return reencrypt(cx, &ws, false).await,
        // A push replaces the state whatever it is, with checks of its own (the lineage and a
        // newer serial, unless the store is empty): it is also how a lost state is put back.
        StateCommand::Push { .. } => ws.state_acceptance = StateAcceptance::ANY,
        _ => {}
    }
    let store = ws.open_state()?;
    if let StateCommand::ImportTerraform(args) = &command {
        return super::import_terraform::run(cx, &ws, store.as_ref(), args).await;
    }
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
            if cx.shell.format() == Format::Json {
                let list: Vec<_> = records
                    .iter()
                    .map(|r| json!({"address": r.address, "id": r.id, "type": r.type_name}))
                    .collect();
                cx.shell
                    .out(&(serde_json::to_string_pretty(&list).unwrap_or_default() + "\n"));
            } else {
                for r in &records {
                    cx.shell.out(&format!("{}\n", r.address));
                }
            }
        }
        StateCommand::Show { address } => {
            let record = records
                .iter()
                .find(|r| r.address == address)
                .ok_or_else(|| not_found(&address))?;
            if cx.shell.format() == Format::Json {
                let mut attributes = record.attributes.clone();
                mask(&mut attributes, &record.sensitive_paths);
                cx.shell
                    .out(&(serde_json::to_string_pretty(&attributes).unwrap_or_default() + "\n"));
            } else {
                cx.shell.out(&format!(
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
            forget(cx, &ws, store.as_ref(), &addresses).await?;
            let text: String = addresses
                .iter()
                .map(|a| format!("Removed {a} from state (the object itself was not touched).\n"))
                .collect();
            cx.shell.result(&text, json!({ "removed": addresses }));
        }
        StateCommand::Pull => {
            let dump = store.export().await.map_err(state_error)?;
            // Written from the dump itself, so that numbers keep every digit.
            cx.shell.json(&dump);
        }
        StateCommand::Push { file, force } => {
            let dump = read_dump(&file)?;
            locked(cx, store.as_ref(), "state push", async {
                braid_state::push(store.as_ref(), &dump, force)
                    .await
                    .map_err(transfer_error)
            })
            .await?;
            cx.shell.result(
                &format!(
                    "Pushed state serial {} ({} resources, {} applies) to {}.\n",
                    dump.serial,
                    dump.resources.len(),
                    dump.applies.len(),
                    store.location()
                ),
                json!({
                    "pushed": {
                        "serial": dump.serial,
                        "resources": dump.resources.len(),
                        "applies": dump.applies.len(),
                        "location": store.location(),
                    }
                }),
            );
        }
        StateCommand::Migrate(args) => migrate(cx, &ws, store.as_ref(), &args).await?,
        StateCommand::Snapshots
        | StateCommand::Restore { .. }
        | StateCommand::Encrypt
        | StateCommand::Rekey
        | StateCommand::ImportTerraform(_) => {}
        StateCommand::Mv { from, to } => {
            super::state_edit::move_resource(cx, &ws, store.as_ref(), &from, &to).await?;
            cx.shell.result(
                &format!("Moved {from} to {to} in state.\n"),
                json!({ "moved": { "from": from, "to": to } }),
            );
        }
        StateCommand::Import { address, id } => {
            super::state_edit::import_resource(cx, &ws, store.as_ref(), &address, &id).await?;
            cx.shell.result(
                &format!("Imported id {id} as {address}. Run braid plan to see how it differs from the configuration.\n"),
                json!({ "imported": { "address": address, "id": id } }),
            );
        }
    }
    Ok(EXIT_OK)
}

/// Removes resources from state in one audited transaction under the lock.
async fn forget(
    cx: &Context,
    ws: &Workspace,
    store: &dyn StateStore,
    addresses: &[String],
) -> Result<(), Diagnostics> {
    super::state_edit::audited_write(cx, ws, store, "state rm", |apply_id| {
        addresses
            .iter()
            .map(|address| {
                let record = audit::change_record(
                    address,
                    ChangeAction::Forget,
                    ChangeOutcome::Applied,
                    Some("removed from state by braid state rm".to_string()),
                );
                ResourceWrite {
                    address: address.clone(),
                    record: None,
                    change: Some((apply_id, record)),
                }
            })
            .collect()
    })
    .await
}

/// Copies the state to the backend named by `args`, holding both locks.
async fn migrate(
    cx: &Context,
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
    // The copy is encrypted as this environment's state is.
    let to = crate::workspace::encrypted(to, ws.state_keyring()?);
    let dump = locked(
        cx,
        from,
        "state migrate",
        locked(cx, to.as_ref(), "state migrate", async {
            braid_state::migrate(from, to.as_ref(), args.force)
                .await
                .map_err(transfer_error)
        }),
    )
    .await?;
    cx.shell.result(
        &format!(
            "Copied state serial {} ({} resources, {} applies) of environment \"{}\" from {} to {} and verified the copy.\nPoint the environment's state block at the new backend (state {{ backend = \"{}\", ... }}); the old state is left as it was.\n",
            dump.serial,
            dump.resources.len(),
            dump.applies.len(),
            ws.env_name,
            from.location(),
            to.location(),
            args.backend,
        ),
        json!({
            "migrated": {
                "env": ws.env_name,
                "serial": dump.serial,
                "resources": dump.resources.len(),
                "applies": dump.applies.len(),
                "from": from.location(),
                "to": to.location(),
            }
        }),
    );
    Ok(())
}

/// `braid state encrypt` (`plaintext`: the state may not be encrypted yet) and `braid state
/// rekey`: every value, document and snapshot of the environment's state sealed again with
/// fresh data keys for the keys of its encryption block.
async fn reencrypt(cx: &Context, ws: &Workspace, plaintext: bool) -> CommandResult {
    let command = if plaintext {
        "state encrypt"
    } else {
        "state rekey"
    };
    let keyring = ws.state_keyring()?.ok_or_else(|| {
        Diagnostics::from(
            Diagnostic::error(
                "No encryption block",
                format!(
                    "braid {command} encrypts for the keys of the environment's encryption block, but environment \"{}\" has none. Add one to its state block, like:\n  state {{\n    encryption {{ age_recipients = [\"age1...\"] }}\n  }}",
                    ws.env_name
                ),
            )
            .at_opt(ws.environment().and_then(|e| e.state.location.clone())),
        )
    })?;
    let guarded = ws.open_guarded_state()?;
    let inner: Arc<dyn StateStore> = guarded.clone();
    let store = if plaintext {
        EncryptedStore::migrating(inner, Some(keyring.clone()))
    } else {
        EncryptedStore::new(inner, Some(keyring.clone()))
    };
    let snapshots = guarded.snapshots().clone();
    let (dump, documents, snapshot_count) = locked(cx, &store, command, async {
        let documents = braid_state::reseal(&store).await.map_err(state_error)?;
        // This machine's snapshots hold the same values: seal them again too, so no copy is
        // left readable in plain text or with a key that was removed.
        let mut count = 0;
        for entry in snapshots
            .list()
            .map_err(|e| cannot_read_snapshots(snapshots.dir(), &e))?
        {
            let dump = snapshots
                .load(&entry)
                .map_err(|e| cannot_read_snapshots(snapshots.dir(), &e))?;
            let opened = store.open_dump(dump).await.map_err(state_error)?;
            let sealed = store.seal_dump(&opened).await.map_err(state_error)?;
            snapshots
                .rewrite(&entry, &sealed)
                .map_err(|e| cannot_read_snapshots(snapshots.dir(), &e))?;
            count += 1;
        }
        let meta = store.meta().await.map_err(state_error)?;
        let resources = store.resource_index().await.map_err(state_error)?.len();
        Ok(((meta, resources), documents, count))
    })
    .await?;
    let (meta, resources) = dump;
    let mut keys: Vec<String> = keyring
        .age_recipients()
        .into_iter()
        .map(|r| format!("age recipient {r}"))
        .collect();
    if let Some(kms) = keyring.kms_key() {
        keys.push(format!("KMS key {}", kms.key_id));
    }
    let verb = if plaintext {
        "Encrypted"
    } else {
        "Re-encrypted"
    };
    cx.shell.result(
        &format!(
            "{verb} state serial {} of environment \"{}\" at {} ({resources} resources, {documents} documents, {snapshot_count} snapshots on this machine) with fresh data keys for {}.\n",
            meta.serial,
            ws.env_name,
            store.location(),
            keys.join(", "),
        ),
        json!({
            "encrypted": {
                "env": ws.env_name,
                "serial": meta.serial,
                "location": store.location(),
                "resources": resources,
                "documents": documents,
                "snapshots": snapshot_count,
                "age_recipients": keyring.age_recipients(),
                "kms_key_id": keyring.kms_key().map(|k| k.key_id.clone()),
            }
        }),
    );
    Ok(EXIT_OK)
}

/// The snapshots of this environment, as kept in `.braid/snapshots/<env>/`.
fn snapshots(ws: &Workspace) -> Snapshots {
    Snapshots::new(&ws.project.dir.join(".braid"), &ws.env_name, usize::MAX)
}

fn cannot_read_snapshots(dir: &FilePath, e: &std::io::Error) -> Diagnostics {
    Diagnostic::error(
        "Cannot read state snapshots",
        format!(
            "Reading {}: {e}. Check that the directory is readable by you.",
            dir.display()
        ),
    )
    .into()
}

/// `braid state snapshots`: one line per snapshot, oldest first.
fn list_snapshots(cx: &Context, ws: &Workspace) -> CommandResult {
    let snapshots = snapshots(ws);
    let all = snapshots
        .list()
        .map_err(|e| cannot_read_snapshots(snapshots.dir(), &e))?;
    let mut text = String::new();
    if all.is_empty() {
        text.push_str(&format!(
            "No snapshots of environment \"{}\" on this machine (braid takes one before each write to state).\n",
            ws.env_name
        ));
    }
    for entry in &all {
        text.push_str(&format!(
            "{}  serial {:<6} {}\n",
            entry.id,
            entry.serial,
            entry.taken_at.format("%Y-%m-%d %H:%M:%S UTC")
        ));
    }
    let json: Vec<_> = all
        .iter()
        .map(|e| {
            json!({
                "id": e.id,
                "serial": e.serial,
                "taken_at": e.taken_at.to_rfc3339(),
                "path": e.path.display().to_string(),
            })
        })
        .collect();
    cx.shell.result(&text, json!({ "snapshots": json }));
    Ok(EXIT_OK)
}

/// `braid state restore`: the snapshot asked for, put back under the lock.
async fn restore(cx: &Context, mut ws: Workspace, wanted: &str) -> CommandResult {
    let snapshots = snapshots(&ws);
    let entry = snapshots
        .find(wanted)
        .map_err(|e| cannot_read_snapshots(snapshots.dir(), &e))?
        .ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "No such snapshot",
                format!(
                    "This machine has no snapshot \"{wanted}\" of environment \"{}\" in {}. List them with: braid state snapshots",
                    ws.env_name,
                    snapshots.dir().display()
                ),
            ))
        })?;
    let dump = snapshots.load(&entry).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Cannot read state snapshot",
            format!(
                "Reading {}: {e}. Pick another one from braid state snapshots.",
                entry.path.display()
            ),
        ))
    })?;
    // A restore replaces whatever state is there, so it accepts any.
    ws.state_acceptance = StateAcceptance::ANY;
    // A SQLite file that cannot be opened, or lost its identity, is moved aside for a new
    // one; other backends take the snapshot over whatever they hold.
    let mut opened = ws.open_guarded_state();
    let unusable = match &opened {
        Ok(store) => matches!(
            store.meta().await,
            Err(StateError::Lost(_) | StateError::Corrupt(_))
        ),
        Err(_) => true,
    };
    let mut set_aside = None;
    if unusable && let Some(path) = ws.sqlite_state_path().filter(|p| p.exists()) {
        // Close the old file before it is renamed.
        drop(std::mem::replace(&mut opened, Err(Diagnostics::default())));
        set_aside = Some(set_aside_state_file(&path)?);
        opened = ws.open_guarded_state();
    }
    let store = opened?;
    let apply = NewApply {
        env: ws.env_name.clone(),
        actor: crate::actor::actor(&ws.project.dir),
        operation: "state restore".to_string(),
        sources: vec![],
        rollback_of: None,
        started_at: chrono::Utc::now(),
        note: None,
    };
    let restored = locked(cx, store.as_ref(), "state restore", async {
        state_guard::restore(&store, &dump, apply)
            .await
            .map_err(state_error)
    })
    .await?;
    let mut text = String::new();
    if let Some(aside) = &set_aside {
        text.push_str(&format!(
            "Moved the unreadable state file aside to {}.\n",
            aside.display()
        ));
    }
    text.push_str(&format!(
        "Restored snapshot {} (serial {}, {} resources) as serial {}. Run braid plan to compare it with what exists.\n",
        entry.id,
        dump.serial,
        dump.resources.len(),
        restored.serial
    ));
    cx.shell.result(
        &text,
        json!({
            "restored": {
                "snapshot": entry.id,
                "snapshot_serial": dump.serial,
                "serial": restored.serial,
                "lineage": restored.lineage,
                "resources": dump.resources.len(),
                "set_aside": set_aside.map(|p| p.display().to_string()),
            }
        }),
    );
    Ok(EXIT_OK)
}

/// Renames a SQLite state file braid cannot use (and its `-wal` and `-shm` files) to
/// `<name>.lost-<time>`, so a restore can create a new one without destroying anything.
fn set_aside_state_file(path: &FilePath) -> Result<PathBuf, Diagnostics> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let aside = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(format!("{suffix}.lost-{stamp}"));
        PathBuf::from(name)
    };
    for suffix in ["-wal", "-shm", ""] {
        let mut from = path.as_os_str().to_owned();
        from.push(suffix);
        let from = PathBuf::from(from);
        if !from.exists() {
            continue;
        }
        std::fs::rename(&from, aside(suffix)).map_err(|e| {
            Diagnostics::from(Diagnostic::error(
                "Cannot move the state file aside",
                format!(
                    "Renaming {}: {e}. Check that its directory is writable by you.",
                    from.display()
                ),
            ))
        })?;
    }
    Ok(aside(""))
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
