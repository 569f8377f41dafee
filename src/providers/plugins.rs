//! Which provider serves a type, and starting the plugins that do.
//!
//! A provider whose local name `required_providers` declares is served by that Terraform
//! provider plugin; any other name by braid's built-in provider of that name (DESIGN §13).
//! For each such name a run uses — `aws`, and each alias `aws.west` on its own — the plugin
//! package is found as Terraform's installer finds it ([`super::install::Search`]): the
//! directories of `BRAID_PLUGIN_DIR` first, then the `filesystem_mirror`s of the Terraform CLI
//! configuration (`TF_CLI_CONFIG_FILE` or `~/.terraformrc`), else `~/.terraform.d/plugins`.
//! When the project has a `.braid.lock.hcl`, the package must match a hash it records. One
//! plugin process then serves every resource of that provider configuration for the run.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use braid_provider_terraform::PluginProvider;

use super::ProviderRegistry;
use super::install::{CliConfig, LOCK_FILE, LockFile, ProviderAddress, Search, package_hash_h1};
use crate::config::terraform_block::TerraformSettings;
use crate::diag::{Diagnostic, Diagnostics};

/// The environment variable naming braid's own plugin directories (`:`-separated, searched
/// before the Terraform CLI configuration's), in Terraform's unpacked mirror layout.
pub const PLUGIN_DIR_ENV: &str = "BRAID_PLUGIN_DIR";

/// A plugin that serves a provider name: where its package is and what it is.
#[derive(Debug, Clone)]
pub struct PluginChoice {
    /// The provider configuration name (`aws`, `aws.west`).
    pub name: String,
    /// Its source address.
    pub address: ProviderAddress,
    /// The package found.
    pub package: super::install::Package,
}

/// The plugins that serve the provider names of `names` declared in `required_providers`
/// (`settings`), found but not started; `project_dir` holds the lock file.
pub fn choose(
    settings: &TerraformSettings,
    project_dir: &std::path::Path,
    names: &BTreeSet<String>,
) -> Result<Vec<PluginChoice>, Diagnostics> {
    let wanted: Vec<(&String, &String)> = names
        .iter()
        .filter_map(|name| {
            let base = name.split('.').next().unwrap_or(name);
            settings
                .required_providers
                .get(base)
                .map(|source| (name, source))
        })
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let cli = CliConfig::load(
        std::env::var("TF_CLI_CONFIG_FILE").ok().as_deref(),
        home.as_deref(),
    )
    .map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Invalid Terraform CLI configuration",
            format!("{e}. braid reads it to find provider plugins, as Terraform does."),
        ))
    })?;
    let explicit: Vec<PathBuf> = std::env::var_os(PLUGIN_DIR_ENV)
        .map(|dirs| std::env::split_paths(&dirs).collect())
        .unwrap_or_default();
    let search = Search::new(&explicit, &cli, home.as_deref());
    let lock_path = project_dir.join(LOCK_FILE);
    let lock = if lock_path.is_file() {
        Some(LockFile::read(&lock_path).map_err(|e| {
            Diagnostics::from(Diagnostic::error(
                "Invalid lock file",
                format!("{}: {e}.", lock_path.display()),
            ))
        })?)
    } else {
        None
    };
    let mut diags = Diagnostics::new();
    let mut out = Vec::new();
    for (name, source) in wanted {
        let base = name.split('.').next().unwrap_or(name);
        let constraints = settings
            .provider_versions
            .get(base)
            .map_or("", String::as_str);
        let found = ProviderAddress::parse(source).and_then(|address| {
            let package = search.find(&address, constraints)?;
            if let Some(lock) = &lock {
                let h1 = package_hash_h1(&package.dir)
                    .map_err(|e| format!("cannot hash {}: {e}", package.dir.display()))?;
                lock.verify(&package, &h1)?;
            }
            Ok(PluginChoice {
                name: name.clone(),
                address,
                package,
            })
        });
        match found {
            Ok(choice) => out.push(choice),
            Err(e) => diags.push(Diagnostic::error(
                "Provider plugin not available",
                format!(
                    "Provider \"{name}\" is declared in required_providers as \"{source}\"{}, so a Terraform provider plugin serves it: {e}. Install it where braid looks ({PLUGIN_DIR_ENV}, the filesystem_mirror of your Terraform CLI configuration, or ~/.terraform.d/plugins), or remove \"{base}\" from required_providers to use braid's built-in provider of that name.",
                    if constraints.is_empty() {
                        String::new()
                    } else {
                        format!(" (version {constraints})")
                    }
                ),
            )),
        }
    }
    diags.into_result(out)
}

/// `registry` with the plugins of `choices` started and registered under their names (each
/// alias its own process), in place of any built-in provider of the same name.
pub async fn start(
    registry: &ProviderRegistry,
    choices: &[PluginChoice],
) -> Result<ProviderRegistry, Diagnostics> {
    let mut registry = registry.clone();
    let mut diags = Diagnostics::new();
    for choice in choices {
        let executable = &choice.package.executable;
        match PluginProvider::start(&choice.name, executable).await {
            Ok(provider) => {
                registry.register_instance(choice.name.clone(), Arc::new(provider));
            }
            Err(e) => diags.push(Diagnostic::error(
                "Provider plugin failed to start",
                format!(
                    "Provider \"{}\" ({} {} at {}): {e}.",
                    choice.name,
                    choice.address,
                    choice.package.version,
                    executable.display()
                ),
            )),
        }
    }
    diags.into_result(registry)
}
