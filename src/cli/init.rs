//! `braid init`: install the provider plugins `required_providers` declares and write
//! `.braid.lock.hcl`, check the configuration, create the state, configure providers.

use super::{CommandResult, Context, EXIT_OK};
use crate::diag::state_error;
use crate::providers::install::Origin;
use crate::providers::plugins::{self, InstallResult};

/// `braid init` options.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Select the newest provider versions the constraints allow, ignoring the versions the
    /// lock file pins, and record them. A package of a version the lock file pins must still
    /// match its hashes.
    #[arg(long)]
    pub upgrade: bool,
    /// `readonly`: install only what .braid.lock.hcl pins and never change it; a provider it
    /// does not pin is an error before anything is downloaded (as terraform init
    /// -lockfile=readonly; for CI runs of pull requests).
    #[arg(long, value_name = "MODE", value_parser = ["readonly"])]
    pub lockfile: Option<String>,
}

pub async fn run(cx: &Context, args: &InitArgs) -> CommandResult {
    let options = cx.global.load_options()?;
    let ws = crate::workspace::Workspace::load(&options)?;
    cx.shell.diagnostics(&ws.warnings);
    let installed = plugins::install(
        &ws.module.terraform,
        &ws.project,
        args.upgrade,
        args.lockfile.is_some(),
    )
    .await?;
    let store = ws.open_state()?;
    let prepared = crate::ops::prepare_with_store(&cx.registry, ws, store).await?;
    let meta = prepared.store.meta().await.map_err(state_error)?;
    let providers = prepared.ws.provider_names(std::iter::empty());
    if cx.shell.format() == crate::view::Format::Json {
        cx.shell.json(&serde_json::json!({
            "project_dir": prepared.ws.project.dir,
            "env": prepared.ws.env_name,
            "state": {
                "location": prepared.store.location(),
                "lineage": meta.lineage,
                "serial": meta.serial,
            },
            "sources": prepared.ws.sources.iter().map(|s| &s.revision).collect::<Vec<_>>(),
            "providers": providers,
            "plugins": installed.iter().map(plugin_json).collect::<Vec<_>>(),
        }));
        return Ok(EXIT_OK);
    }
    let mut out = String::new();
    for result in &installed {
        out.push_str(&plugin_line(result));
    }
    if !installed.is_empty() {
        out.push_str(&format!(
            "Provider versions and hashes are recorded in {}; commit it so every run uses these exact packages.\n\n",
            crate::providers::install::LOCK_FILE
        ));
    }
    out.push_str(&format!(
        "braid is ready in {}\n  environment: {}\n  state:       {} (lineage {}, serial {})\n  sources:     {}\n  providers:   {}\n",
        prepared.ws.project.dir.display(),
        prepared.ws.env_name,
        prepared.store.location(),
        meta.lineage,
        meta.serial,
        prepared
            .ws
            .sources
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        if providers.is_empty() {
            "none".to_string()
        } else {
            providers.into_iter().collect::<Vec<_>>().join(", ")
        },
    ));
    cx.shell.out(&out);
    Ok(EXIT_OK)
}

fn origin_text(origin: &Origin) -> String {
    match origin {
        Origin::Local(dir) => format!("found in {}", dir.display()),
        Origin::Cache => "from the plugin cache".to_string(),
        Origin::Mirror(url) => format!("downloaded from the network mirror {url}"),
        Origin::Registry(keys) => format!(
            "downloaded from its registry, checksums signed by {}",
            if keys.is_empty() {
                "the registry's key".to_string()
            } else {
                keys.join(", ")
            }
        ),
    }
}

fn plugin_line(result: &InstallResult) -> String {
    let package = &result.installed.package;
    format!(
        "- {} {}: {} {}{} ({})\n",
        if result.was_locked {
            "Using locked"
        } else {
            "Selected"
        },
        result.name,
        package.address,
        package.version,
        if result.constraints.is_empty() {
            String::new()
        } else {
            format!(" for \"{}\"", result.constraints)
        },
        origin_text(&result.installed.origin),
    )
}

fn plugin_json(result: &InstallResult) -> serde_json::Value {
    let installed = &result.installed;
    let (origin, detail) = match &installed.origin {
        Origin::Local(dir) => ("local", serde_json::json!(dir)),
        Origin::Cache => ("cache", serde_json::Value::Null),
        Origin::Mirror(url) => ("network_mirror", serde_json::json!(url)),
        Origin::Registry(keys) => ("registry", serde_json::json!(keys)),
    };
    serde_json::json!({
        "name": result.name,
        "source": installed.package.address.to_string(),
        "version": installed.package.version.to_string(),
        "constraints": result.constraints,
        "origin": origin,
        "origin_detail": detail,
        "binary": installed.package.executable,
        "hashes": installed.hashes,
        "was_locked": result.was_locked,
    })
}
