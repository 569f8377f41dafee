//! `braid state import-terraform FILE`: flags, reading the file, one call of
//! [`crate::ops::import_terraform`], the report through the Shell.

use std::collections::BTreeMap;
use std::path::PathBuf;

use braid_state::StateStore;
use clap::Args;

use super::locking::ShellLocks;
use super::{CommandResult, Context, EXIT_OK};
use crate::apply::LockSettings;
use crate::diag::{Diagnostic, Diagnostics};
use crate::ops::import_terraform::{self, ImportTerraformOptions};
use crate::view::import_terraform::{render, to_json};
use crate::workspace::Workspace;

/// `braid state import-terraform FILE [--allow-partial] [--force] [--dry-run]`.
#[derive(Debug, Args)]
pub struct ImportTerraformArgs {
    /// A Terraform state file (format version 4: `terraform state pull > tf.json`, or a
    /// local terraform.tfstate); `-` reads it from stdin.
    pub file: PathBuf,
    /// Import what braid serves and leave out, listing them, resources whose provider or
    /// type braid does not serve and objects that no longer exist. Without it, any of
    /// those refuses the whole import.
    #[arg(long)]
    pub allow_partial: bool,
    /// Replace resources and outputs the environment's state already holds at the same
    /// addresses and names (without it, those refuse the import).
    #[arg(long)]
    pub force: bool,
    /// Read and check everything, show what would be imported, write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// The Terraform providers whose resource types braid's built-in providers serve under the
/// same type names and ids, by source address (on Terraform's and OpenTofu's registries).
pub fn terraform_equivalents() -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for host in ["registry.terraform.io", "registry.opentofu.org"] {
        for name in ["aws", "local"] {
            map.insert(format!("{host}/hashicorp/{name}"), name.to_string());
        }
    }
    map
}

pub async fn run(
    cx: &Context,
    ws: &Workspace,
    store: &dyn StateStore,
    args: &ImportTerraformArgs,
) -> CommandResult {
    let (name, text) = read(&args.file)?;
    let state = import_terraform::parse(&name, &text)?;
    let options = ImportTerraformOptions {
        terraform_providers: terraform_equivalents(),
        allow_partial: args.allow_partial,
        force: args.force,
        dry_run: args.dry_run,
        lock: LockSettings::new(cx.global.lock_policy()?),
        cancel: cx.cancel.clone(),
    };
    // An interrupt stops the import cleanly (nothing written, the lock released) rather
    // than ending the process in the middle of the write.
    if !args.dry_run {
        cx.stop_gracefully();
    }
    let report = import_terraform::import_terraform(
        &cx.registry,
        ws,
        store,
        &state,
        &options,
        &ShellLocks(&cx.shell),
    )
    .await?;
    cx.shell.result(&render(&report), to_json(&report));
    Ok(EXIT_OK)
}

/// The file's name for messages, and its text.
fn read(path: &std::path::Path) -> Result<(String, String), Diagnostics> {
    let stdin = path == std::path::Path::new("-");
    let name = if stdin {
        "stdin".to_string()
    } else {
        path.display().to_string()
    };
    let text = if stdin {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Cannot read Terraform state",
            format!("Reading {name}: {e}."),
        ))
    })?;
    Ok((name, text))
}
