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
use super::install::{
    CliConfig, LOCK_FILE, LockFile, PLUGIN_CACHE_ENV, ProviderAddress, Sources,
    package_hash_h1_cached, user_cache_dir,
};
use crate::config::Project;
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
    /// The package's `h1:` hash (checked against the lock file when there is one).
    pub hash: String,
}

/// Where provider packages may come from for `project`: braid's plugin directories
/// (`BRAID_PLUGIN_DIR`, then braid.hcl's `plugins { dirs }`), the Terraform CLI configuration
/// (`TF_CLI_CONFIG_FILE` or `~/.terraformrc`), and the shared cache of downloads:
/// `BRAID_PLUGIN_CACHE_DIR`, braid.hcl's `plugins { cache_dir }`, `TF_PLUGIN_CACHE_DIR`, the
/// CLI configuration's `plugin_cache_dir`, else `$XDG_CACHE_HOME/braid/plugins`
/// (`~/.cache/braid/plugins`).
pub fn sources(project: &Project) -> Result<Sources, Diagnostics> {
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
    let mut explicit: Vec<PathBuf> = std::env::var_os(PLUGIN_DIR_ENV)
        .map(|dirs| std::env::split_paths(&dirs).collect())
        .unwrap_or_default();
    explicit.extend(project.plugins.dirs.iter().cloned());
    let env_dir = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    // No fallback to a shared temporary directory: another user could prepare it.
    let cache_dir = env_dir(PLUGIN_CACHE_ENV)
        .or_else(|| project.plugins.cache_dir.clone())
        .or_else(|| env_dir("TF_PLUGIN_CACHE_DIR"))
        .or_else(|| cli.plugin_cache_dir.clone())
        .or_else(|| user_cache_dir().map(|d| d.join("plugins")));
    Ok(Sources {
        explicit,
        cli,
        home,
        cache_dir,
    })
}

/// The lock file of `project`, when it has one.
pub fn lock_file(project: &Project) -> Result<Option<LockFile>, Diagnostics> {
    let lock_path = project.dir.join(LOCK_FILE);
    if !lock_path.is_file() {
        return Ok(None);
    }
    LockFile::read(&lock_path).map(Some).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Invalid lock file",
            format!("{e}. Fix it, or delete it and run braid init to write it again."),
        ))
    })
}

/// The plugins that serve the provider names of `names` declared in `required_providers`
/// (`settings`), found but not started. With a lock file naming a provider, the version it
/// pins must be installed (`braid init`) and match one of its hashes.
pub fn choose(
    settings: &TerraformSettings,
    project: &Project,
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
    let lock = lock_file(project)?;
    // The cache holds downloads; they run only when a lock file vouches for them.
    let search = match &lock {
        Some(_) => sources(project)?.search(),
        None => sources(project)?.local_search(),
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
            let pinned = lock
                .as_ref()
                .and_then(|l| l.providers.get(&address.to_string()));
            let package = match (pinned, &lock) {
                (None, Some(_)) => {
                    return Err(format!(
                        "{LOCK_FILE} does not name {address}, so no package of it has been checked. Run braid init to install it and record its hashes"
                    ));
                }
                (Some(locked), _) => {
                    let version = locked.pinned(&address, constraints)?;
                    search.find(&address, &format!("= {version}")).map_err(|e| {
                        format!("{LOCK_FILE} pins {address} to {version}, which is not installed here ({e}). Run braid init to install it")
                    })?
                }
                (None, None) => search.find(&address, constraints)?,
            };
            let hashes = user_cache_dir().map(|d| d.join("package-hashes"));
            let h1 = package_hash_h1_cached(&package.dir, hashes.as_deref())
                .map_err(|e| format!("cannot hash {}: {e}", package.dir.display()))?;
            if let Some(lock) = &lock {
                lock.verify(&package, &h1)?;
            }
            Ok(PluginChoice {
                name: name.clone(),
                address,
                package,
                hash: h1,
            })
        });
        match found {
            Ok(choice) => out.push(choice),
            Err(e) => diags.push(Diagnostic::error(
                "Provider plugin not available",
                format!(
                    "Provider \"{name}\" is declared in required_providers as \"{source}\"{}, so a Terraform provider plugin serves it: {e}. Run braid init to install it from its registry, install it where braid looks ({PLUGIN_DIR_ENV}, braid.hcl's plugins block, the filesystem_mirror of your Terraform CLI configuration, or ~/.terraform.d/plugins), or remove \"{base}\" from required_providers to use braid's built-in provider of that name.",
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

/// Where the schema of the package with hash `h1` is kept across runs, in braid's user
/// cache `cache`: named by the hash, so that only that exact build reads it.
fn schema_file(cache: &std::path::Path, h1: &str) -> PathBuf {
    let name: String = h1
        .chars()
        .filter_map(|c| match c {
            '/' => Some('_'),
            '+' => Some('-'),
            ':' => Some('-'),
            '=' => None,
            c => Some(c),
        })
        .collect();
    cache.join("provider-schemas").join(format!("{name}.pb"))
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
        let schema_file = user_cache_dir().map(|d| schema_file(&d, &choice.hash));
        match PluginProvider::start_cached(&choice.name, executable, schema_file.as_deref()).await {
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

/// What `braid init` did for one provider of `required_providers`.
#[derive(Debug, Clone)]
pub struct InstallResult {
    /// The local name (`aws`).
    pub name: String,
    /// The version constraints, as written.
    pub constraints: String,
    /// The package and its hashes.
    pub installed: super::install::Installed,
    /// Whether the lock file named this version already.
    pub was_locked: bool,
}

/// `braid init`'s installation: every provider `required_providers` declares is installed
/// (the locked version, or with `upgrade` the newest the constraints allow) and
/// `.braid.lock.hcl` is written with their versions and hashes — entries for providers no
/// longer required are dropped. Nothing is written when any provider fails.
///
/// With `readonly` (`--lockfile=readonly`, for CI runs of untrusted changes) only the
/// versions the lock file pins are installed, checked against its hashes, and the file is
/// never written: a provider it does not pin, or constraints that would change it, is an
/// error before anything is downloaded.
pub async fn install(
    settings: &TerraformSettings,
    project: &Project,
    upgrade: bool,
    readonly: bool,
) -> Result<Vec<InstallResult>, Diagnostics> {
    let existing = lock_file(project)?;
    if settings.required_providers.is_empty() && existing.is_none() {
        return Ok(Vec::new());
    }
    if readonly {
        check_readonly(settings, existing.as_ref(), upgrade)?;
    }
    let installer = super::install::Installer::new(sources(project)?)
        .map_err(|e| Diagnostics::from(Diagnostic::error("Cannot install provider plugins", e)))?;
    let mut diags = Diagnostics::new();
    let mut results = Vec::new();
    let mut lock = LockFile::default();
    for (name, source) in &settings.required_providers {
        let constraints = settings
            .provider_versions
            .get(name)
            .cloned()
            .unwrap_or_default();
        let address = match ProviderAddress::parse(source) {
            Ok(a) => a,
            Err(e) => {
                diags.push(Diagnostic::error("Invalid provider source address", e));
                continue;
            }
        };
        let locked = existing
            .as_ref()
            .and_then(|l| l.providers.get(&address.to_string()));
        match installer
            .install(&address, &constraints, locked, upgrade)
            .await
        {
            Ok(installed) => {
                lock.providers.insert(
                    address.to_string(),
                    super::install::LockedProvider {
                        version: installed.package.version.to_string(),
                        constraints: (!constraints.is_empty()).then(|| constraints.clone()),
                        hashes: installed.hashes.clone(),
                    },
                );
                results.push(InstallResult {
                    name: name.clone(),
                    constraints,
                    was_locked: locked
                        .is_some_and(|l| l.version == installed.package.version.to_string()),
                    installed,
                });
            }
            Err(e) => diags.push(Diagnostic::error(
                "Provider plugin not installed",
                format!(
                    "Provider \"{name}\" ({address}{}): {e}.",
                    if constraints.is_empty() {
                        String::new()
                    } else {
                        format!(", version {constraints}")
                    }
                ),
            )),
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    if !readonly && existing.as_ref() != Some(&lock) {
        let path = project.dir.join(LOCK_FILE);
        write_atomically(&path, lock.render().as_bytes()).map_err(|e| {
            Diagnostics::from(Diagnostic::error(
                "Cannot write the lock file",
                format!("{}: {e}.", path.display()),
            ))
        })?;
    }
    Ok(results)
}

/// `--lockfile=readonly`: every required provider must be pinned by the lock file with the
/// constraints written now, and no other provider may be pinned.
fn check_readonly(
    settings: &TerraformSettings,
    lock: Option<&LockFile>,
    upgrade: bool,
) -> Result<(), Diagnostics> {
    if upgrade {
        return Err(Diagnostic::error(
            "Incompatible options",
            "--upgrade selects new versions and records them, which --lockfile=readonly forbids; use one of them.",
        )
        .into());
    }
    let empty = LockFile::default();
    let lock = lock.unwrap_or(&empty);
    let mut problems = Vec::new();
    let mut required = BTreeSet::new();
    for (name, source) in &settings.required_providers {
        let Ok(address) = ProviderAddress::parse(source) else {
            continue;
        };
        let address = address.to_string();
        let constraints = settings.provider_versions.get(name).cloned();
        match lock.providers.get(&address) {
            None => problems.push(format!("{address} (\"{name}\") is not in it")),
            Some(locked) if locked.constraints != constraints => problems.push(format!(
                "{address} is pinned for the constraints \"{}\", but required_providers now says \"{}\"",
                locked.constraints.as_deref().unwrap_or(""),
                constraints.as_deref().unwrap_or("")
            )),
            Some(_) => {}
        }
        required.insert(address);
    }
    for address in lock.providers.keys() {
        if !required.contains(address) {
            problems.push(format!("{address} is in it but no longer required"));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Diagnostic::error(
        "Lock file would change",
        format!(
            "--lockfile=readonly keeps {LOCK_FILE} as it is, but the configuration needs changes to it: {}. Run braid init without --lockfile=readonly on a trusted machine and commit {LOCK_FILE}.",
            problems.join("; ")
        ),
    )
    .into())
}

fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}
