//! Installing provider packages as `terraform init` does: the version the lock file pins (or,
//! with `--upgrade` or for a provider it does not name yet, the newest that meets the
//! constraints among every place allowed to serve it), taken from a local plugin directory
//! or the shared cache when there, else downloaded from a network mirror or the provider's
//! registry into the shared cache, unpacked, and checked against the lock file's hashes.

use std::path::{Path, PathBuf};

use super::remote::{Fetched, Remote};
use super::{
    CliConfig, LOCK_FILE, LockedProvider, MirrorRule, Package, ProviderAddress, Search, Version,
    executable_in, package_hash_h1, platform,
};

/// The environment variable naming braid's plugin cache (where downloaded packages are
/// unpacked, shared by every project on the machine).
pub const PLUGIN_CACHE_ENV: &str = "BRAID_PLUGIN_CACHE_DIR";

/// Where provider packages may come from on this machine.
#[derive(Debug, Clone)]
pub struct Sources {
    /// braid's own plugin directories (`BRAID_PLUGIN_DIR`, braid.hcl's `plugins { dirs }`).
    pub explicit: Vec<PathBuf>,
    /// The Terraform CLI configuration.
    pub cli: CliConfig,
    /// The user's home directory, for `~/.terraform.d/plugins`.
    pub home: Option<PathBuf>,
    /// The shared cache of downloaded packages.
    pub cache_dir: PathBuf,
}

impl Sources {
    /// The local directories searched, in order: the explicit ones, the CLI configuration's
    /// filesystem mirrors (or `~/.terraform.d/plugins` without a `provider_installation`
    /// block), then the cache of downloaded packages.
    pub fn search(&self) -> Search {
        let mut search = Search::new(&self.explicit, &self.cli, self.home.as_deref());
        search
            .dirs
            .push((self.cache_dir.clone(), MirrorRule::default()));
        search
    }
}

/// Where an installed package came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Found in a local plugin directory or filesystem mirror.
    Local(PathBuf),
    /// Found in the shared cache, downloaded by an earlier run.
    Cache,
    /// Downloaded now from the network mirror at this URL.
    Mirror(String),
    /// Downloaded now from the provider's registry; the fingerprints of the keys that signed
    /// its checksums.
    Registry(Vec<String>),
}

/// A provider package ready to run, and the hashes the lock file should record for it.
#[derive(Debug, Clone)]
pub struct Installed {
    /// The unpacked package.
    pub package: Package,
    /// Its `h1:` hash, the `zh:` hashes of its archives where known, and any hashes the lock
    /// file already recorded for this version — sorted.
    pub hashes: Vec<String>,
    /// Where it came from.
    pub origin: Origin,
    /// Said to the user beside the result (a hash accepted under `--upgrade`).
    pub warnings: Vec<String>,
}

/// Installs provider packages from [`Sources`].
pub struct Installer {
    sources: Sources,
    search: Search,
    remote: Remote,
}

impl Installer {
    /// An installer over `sources`.
    pub fn new(sources: Sources) -> Result<Installer, String> {
        let remote = Remote::new(sources.cli.hosts.clone())?;
        Ok(Installer {
            search: sources.search(),
            sources,
            remote,
        })
    }

    /// Installs `address` for `constraints`: the version `locked` pins unless `upgrade`, else
    /// the newest that meets them.
    pub async fn install(
        &self,
        address: &ProviderAddress,
        constraints: &str,
        locked: Option<&LockedProvider>,
        upgrade: bool,
    ) -> Result<Installed, String> {
        let pinned = match locked.filter(|_| !upgrade) {
            Some(l) => {
                let version = Version::parse(&l.version).ok_or_else(|| {
                    format!(
                        "{LOCK_FILE} pins {address} to \"{}\", which is not a version",
                        l.version
                    )
                })?;
                if !version.meets(constraints)? {
                    return Err(format!(
                        "{LOCK_FILE} pins {address} to {version}, which does not meet the constraints \"{constraints}\" of required_providers. Run braid init --upgrade to select a version that does."
                    ));
                }
                Some(version)
            }
            None => None,
        };
        let local = self.search.available(address);
        let in_local = |version: &Version| local.iter().find(|(v, _)| v == version);

        let chosen = if let Some(pinned) = &pinned
            && let Some(found) = in_local(pinned)
        {
            Some(found.clone())
        } else {
            None
        };
        let (package, fetched) = match chosen {
            Some((version, dir)) => (self.package(address, version, dir)?, None),
            None => {
                let remote = self.remote_versions(address, &local).await?;
                let version = match &pinned {
                    Some(v) => v.clone(),
                    None => {
                        let mut all: Vec<&Version> = local
                            .iter()
                            .map(|(v, _)| v)
                            .chain(remote.iter().map(|(v, _)| v))
                            .collect();
                        all.retain(|v| v.meets(constraints).unwrap_or(false));
                        all.sort();
                        match all.pop() {
                            Some(v) => v.clone(),
                            None => {
                                return Err(self.nothing_meets(
                                    address,
                                    constraints,
                                    &local,
                                    &remote,
                                ));
                            }
                        }
                    }
                };
                if let Some((_, dir)) = in_local(&version) {
                    (self.package(address, version.clone(), dir.clone())?, None)
                } else {
                    let Some((_, source)) = remote.iter().find(|(v, _)| *v == version) else {
                        return Err(format!(
                            "{LOCK_FILE} pins {address} to {version}, and no place braid may install from has it ({}). Make it available there, or run braid init --upgrade to select another version.",
                            self.places(address)
                        ));
                    };
                    self.fetch(address, &version, source).await?
                }
            }
        };
        self.hashes(address, package, fetched, locked, upgrade)
    }

    fn package(
        &self,
        address: &ProviderAddress,
        version: Version,
        dir: PathBuf,
    ) -> Result<Package, String> {
        let executable = executable_in(&dir, &address.type_name).ok_or_else(|| {
            format!(
                "{} holds no terraform-provider-{} executable",
                dir.display(),
                address.type_name
            )
        })?;
        Ok(Package {
            address: address.clone(),
            version,
            dir,
            executable,
        })
    }

    /// The versions the network mirrors and the registry offer, each with where to get it
    /// (the first place listing it). The registry is asked only when the CLI configuration
    /// allows it for this provider; without a `provider_installation` block, only for
    /// providers no local plugin directory holds (Terraform's implied installation).
    async fn remote_versions(
        &self,
        address: &ProviderAddress,
        local: &[(Version, PathBuf)],
    ) -> Result<Vec<(Version, RemoteSource)>, String> {
        let mut out: Vec<(Version, RemoteSource)> = Vec::new();
        for (url, rule) in &self.sources.cli.network_mirrors {
            if rule.covers(address) {
                let versions = self
                    .remote
                    .mirror_versions(url, address)
                    .await
                    .map_err(|e| {
                        format!("the network mirror {url} could not list {address}: {e}")
                    })?;
                for v in versions {
                    if !out.iter().any(|(have, _)| *have == v) {
                        out.push((v, RemoteSource::Mirror(url.clone())));
                    }
                }
            }
        }
        let local_has_it = local
            .iter()
            .any(|(_, dir)| !dir.starts_with(&self.sources.cache_dir));
        let registry_allowed = match &self.sources.cli.direct {
            Some(rule) => {
                rule.covers(address) && (self.sources.cli.installation_block || !local_has_it)
            }
            None => false,
        };
        if registry_allowed {
            let versions = self.remote.registry_versions(address).await.map_err(|e| {
                format!(
                    "the registry {} could not list {address}: {e}",
                    address.host
                )
            })?;
            for v in versions {
                if !out.iter().any(|(have, _)| *have == v) {
                    out.push((v, RemoteSource::Registry));
                }
            }
        }
        Ok(out)
    }

    fn places(&self, address: &ProviderAddress) -> String {
        let mut places: Vec<String> = self
            .search
            .dirs
            .iter()
            .filter(|(_, rule)| rule.covers(address))
            .map(|(d, _)| d.display().to_string())
            .collect();
        places.extend(
            self.sources
                .cli
                .network_mirrors
                .iter()
                .filter(|(_, rule)| rule.covers(address))
                .map(|(u, _)| format!("network mirror {u}")),
        );
        if self
            .sources
            .cli
            .direct
            .as_ref()
            .is_some_and(|r| r.covers(address))
        {
            places.push(format!("the registry {}", address.host));
        }
        if places.is_empty() {
            "none: the CLI configuration's provider_installation block excludes it everywhere"
                .to_string()
        } else {
            places.join(", ")
        }
    }

    fn nothing_meets(
        &self,
        address: &ProviderAddress,
        constraints: &str,
        local: &[(Version, PathBuf)],
        remote: &[(Version, RemoteSource)],
    ) -> String {
        let mut seen: Vec<&Version> = local
            .iter()
            .map(|(v, _)| v)
            .chain(remote.iter().map(|(v, _)| v))
            .collect();
        seen.sort();
        seen.dedup();
        let platform = platform();
        if seen.is_empty() {
            format!(
                "no package of {address} for {platform} was found (searched: {})",
                self.places(address)
            )
        } else {
            format!(
                "no version of {address} for {platform} meets \"{constraints}\"; available: {} (searched: {})",
                seen.iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                self.places(address)
            )
        }
    }

    /// Downloads a package into the cache and unpacks it there.
    async fn fetch(
        &self,
        address: &ProviderAddress,
        version: &Version,
        source: &RemoteSource,
    ) -> Result<(Package, Option<(Fetched, Origin)>), String> {
        let platform = platform();
        let version_dir = self
            .sources
            .cache_dir
            .join(&address.host)
            .join(&address.namespace)
            .join(&address.type_name)
            .join(version.to_string());
        let fetched = match source {
            RemoteSource::Mirror(url) => {
                let f = self
                    .remote
                    .mirror_download(url, address, version, &platform, &version_dir)
                    .await?;
                (f, Origin::Mirror(url.clone()))
            }
            RemoteSource::Registry => {
                let f = self
                    .remote
                    .registry_download(address, version, &platform, &version_dir)
                    .await?;
                let keys = f.signed_by.clone();
                (f, Origin::Registry(keys))
            }
        };
        let target = version_dir.join(&platform);
        unpack(fetched.0.zip.path(), &version_dir, &target)?;
        let package = self.package(address, version.clone(), target.clone())?;
        // A mirror's h1: hashes vouch for the unpacked package.
        let h1s: Vec<&String> = fetched
            .0
            .hashes
            .iter()
            .filter(|h| h.starts_with("h1:"))
            .collect();
        if !h1s.is_empty() {
            let h1 = package_hash_h1(&target)
                .map_err(|e| format!("cannot hash {}: {e}", target.display()))?;
            if !h1s.contains(&&h1) {
                let _ = std::fs::remove_dir_all(&target);
                return Err(format!(
                    "the package of {address} {version} unpacked from {} has hash {h1}, which the mirror does not list for it: it is not installed",
                    match &fetched.1 {
                        Origin::Mirror(u) => u.as_str(),
                        _ => "the mirror",
                    }
                ));
            }
        }
        Ok((package, Some(fetched)))
    }

    fn hashes(
        &self,
        address: &ProviderAddress,
        package: Package,
        fetched: Option<(Fetched, Origin)>,
        locked: Option<&LockedProvider>,
        upgrade: bool,
    ) -> Result<Installed, String> {
        let h1 = package_hash_h1(&package.dir)
            .map_err(|e| format!("cannot hash {}: {e}", package.dir.display()))?;
        let mut hashes = vec![h1.clone()];
        let origin = match &fetched {
            Some((f, origin)) => {
                hashes.push(f.zh.clone());
                hashes.extend(f.hashes.iter().cloned());
                origin.clone()
            }
            None if package.dir.starts_with(&self.sources.cache_dir) => Origin::Cache,
            None => Origin::Local(package.dir.clone()),
        };
        let mut warnings = Vec::new();
        if let Some(locked) = locked.filter(|l| l.version == package.version.to_string()) {
            let own = [Some(&h1), fetched.as_ref().map(|(f, _)| &f.zh)];
            if own.iter().flatten().any(|h| locked.hashes.contains(h)) {
                hashes.extend(locked.hashes.iter().cloned());
            } else if upgrade {
                warnings.push(format!(
                    "the package of {address} {} ({h1}) matches none of the hashes {LOCK_FILE} recorded for that version; --upgrade records the new ones in their place",
                    package.version
                ));
            } else {
                return Err(format!(
                    "the package of {address} {} at {} does not match any hash {LOCK_FILE} records for it ({h1} is not among {}). The binary changed since braid init recorded it: do not run it unless you know why. If the change is expected, run braid init --upgrade.",
                    package.version,
                    package.dir.display(),
                    locked.hashes.join(", ")
                ));
            }
        }
        hashes.sort();
        hashes.dedup();
        Ok(Installed {
            package,
            hashes,
            origin,
            warnings,
        })
    }
}

/// Where a version can be downloaded from.
#[derive(Debug, Clone)]
enum RemoteSource {
    Mirror(String),
    Registry,
}

/// Unpacks the zip archive at `zip` into `target` through a temporary directory in
/// `parent`, so a package in the cache is always whole. Entries that would land outside the
/// package are refused. When another run unpacked the same package first, its copy stays.
fn unpack(zip: &Path, parent: &Path, target: &Path) -> Result<(), String> {
    let file =
        std::fs::File::open(zip).map_err(|e| format!("cannot open {}: {e}", zip.display()))?;
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| format!("the downloaded package is not a zip archive: {e}"))?;
    let staging = tempfile::Builder::new()
        .prefix(".unpack-")
        .tempdir_in(parent)
        .map_err(|e| format!("cannot create a directory in {}: {e}", parent.display()))?;
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| format!("the downloaded package is damaged: {e}"))?;
        let Some(relative) = entry.enclosed_name() else {
            return Err(format!(
                "the downloaded package holds \"{}\", a path outside the package; it is not installed",
                String::from_utf8_lossy(entry.name_raw())
            ));
        };
        let path = staging.path().join(&relative);
        if entry.is_dir() {
            std::fs::create_dir_all(&path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let mut out = std::fs::File::create(&path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        std::io::copy(&mut entry, &mut out)
            .map_err(|e| format!("cannot unpack {}: {e}", relative.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            // Keep the archive's permission bits, and the plugin executable.
            let mode = entry.unix_mode().map_or(0o644, |m| m & 0o777) | 0o400;
            let mode = if relative
                .to_string_lossy()
                .starts_with("terraform-provider-")
            {
                mode | 0o755
            } else {
                mode
            };
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                .map_err(|e| format!("cannot set the mode of {}: {e}", path.display()))?;
        }
    }
    let staged = staging.keep();
    match std::fs::rename(&staged, target) {
        Ok(()) => Ok(()),
        Err(_) if target.is_dir() => {
            let _ = std::fs::remove_dir_all(&staged);
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staged);
            Err(format!(
                "cannot move the unpacked package to {}: {e}",
                target.display()
            ))
        }
    }
}
