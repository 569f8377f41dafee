//! Installing provider packages as `terraform init` does: the version the lock file pins (or,
//! with `--upgrade` or for a provider it does not name yet, the newest that meets the
//! constraints among every place allowed to serve it), taken from a local plugin directory
//! or the shared cache when there, else downloaded from a network mirror or the provider's
//! registry into the shared cache, unpacked, and checked against the lock file's hashes.

use std::path::{Path, PathBuf};

use super::remote::Remote;
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
    /// The shared cache of downloaded packages; `None` when there is no place for one (no
    /// home directory and nothing configured).
    pub cache_dir: Option<PathBuf>,
}

impl Sources {
    /// The local directories that may offer versions, in order: the explicit ones, then the
    /// CLI configuration's filesystem mirrors (or `~/.terraform.d/plugins` without a
    /// `provider_installation` block). Not the cache: what it holds is used only when a
    /// lock file vouches for it.
    pub fn local_search(&self) -> Search {
        Search::new(&self.explicit, &self.cli, self.home.as_deref())
    }

    /// [`local_search`](Self::local_search) and then the cache, for runs verified by a lock
    /// file.
    pub fn search(&self) -> Search {
        let mut search = self.local_search();
        if let Some(cache) = &self.cache_dir {
            search.dirs.push((cache.clone(), MirrorRule::default()));
        }
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
}

/// Installs provider packages from [`Sources`].
pub struct Installer {
    sources: Sources,
    local: Search,
    remote: Remote,
}

impl Installer {
    /// An installer over `sources`.
    pub fn new(sources: Sources) -> Result<Installer, String> {
        let remote = Remote::new(sources.cli.hosts.clone())?;
        Ok(Installer {
            local: sources.local_search(),
            sources,
            remote,
        })
    }

    /// Installs `address` for `constraints`: the version `locked` pins unless `upgrade`, else
    /// the newest that meets them. A package of the version `locked` pins must match one of
    /// its hashes, also under `upgrade` (as in Terraform).
    pub async fn install(
        &self,
        address: &ProviderAddress,
        constraints: &str,
        locked: Option<&LockedProvider>,
        upgrade: bool,
    ) -> Result<Installed, String> {
        let pinned = match locked.filter(|_| !upgrade) {
            Some(l) => Some(l.pinned(address, constraints)?),
            None => None,
        };
        let local = self.local.available(address);
        let in_local = |version: &Version| local.iter().find(|(v, _)| v == version).cloned();
        let locked_for = |version: &Version| locked.filter(|l| l.version == version.to_string());

        // The pinned version in a local directory, or in the cache when the lock file
        // vouches for what the cache holds: nothing to download.
        if let Some(version) = &pinned {
            if let Some((_, dir)) = in_local(version) {
                let package = self.package(address, version.clone(), dir)?;
                return self.verified(package, locked_for(version), false);
            }
            if let Some(package) = self.cached(address, version, locked_for(version))? {
                return self.verified(package, locked_for(version), true);
            }
        }
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
                        return Err(self.nothing_meets(address, constraints, &local, &remote));
                    }
                }
            }
        };
        let locked = locked_for(&version);
        if let Some((_, dir)) = in_local(&version) {
            let package = self.package(address, version.clone(), dir)?;
            return self.verified(package, locked, false);
        }
        if let Some(package) = self.cached(address, &version, locked)? {
            return self.verified(package, locked, true);
        }
        let Some((_, source)) = remote.iter().find(|(v, _)| *v == version) else {
            return Err(format!(
                "{LOCK_FILE} pins {address} to {version}, and no place braid may install from has it ({}). Make it available there, or run braid init --upgrade to select another version.",
                self.places(address)
            ));
        };
        self.fetch(address, &version, source, locked).await
    }

    /// The cached package of `version`, when the lock file records its `h1:` hash (a cached
    /// package nobody vouches for is downloaded again and checked).
    fn cached(
        &self,
        address: &ProviderAddress,
        version: &Version,
        locked: Option<&LockedProvider>,
    ) -> Result<Option<Package>, String> {
        let (Some(cache), Some(locked)) = (&self.sources.cache_dir, locked) else {
            return Ok(None);
        };
        let dir = package_dir(cache, address, version).join(platform());
        if !dir.is_dir() {
            return Ok(None);
        }
        let h1 =
            package_hash_h1(&dir).map_err(|e| format!("cannot hash {}: {e}", dir.display()))?;
        if !locked.hashes.contains(&h1) {
            return Ok(None);
        }
        self.package(address, version.clone(), dir).map(Some)
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
        let local_has_it = !local.is_empty();
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
            .local
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
                .map(|(u, _)| format!("network mirror {}", super::remote::display_url(u))),
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

    /// Downloads a package, unpacks it beside the cache, checks it (the mirror's hashes,
    /// the lock file's), and only then puts it in the cache.
    async fn fetch(
        &self,
        address: &ProviderAddress,
        version: &Version,
        source: &RemoteSource,
        locked: Option<&LockedProvider>,
    ) -> Result<Installed, String> {
        let Some(cache) = &self.sources.cache_dir else {
            return Err(format!(
                "there is no plugin cache to download {address} {version} into: set {PLUGIN_CACHE_ENV} (or HOME)"
            ));
        };
        let platform = platform();
        let version_dir = package_dir(cache, address, version);
        sweep_leftovers(&version_dir);
        let (fetched, origin, signed) = match source {
            RemoteSource::Mirror(url) => {
                let f = self
                    .remote
                    .mirror_download(url, address, version, &platform, &version_dir)
                    .await?;
                (f, Origin::Mirror(super::remote::display_url(url)), false)
            }
            RemoteSource::Registry => {
                let f = self
                    .remote
                    .registry_download(address, version, &platform, &version_dir)
                    .await?;
                let keys = f.signed_by.clone();
                (f, Origin::Registry(keys), true)
            }
        };
        let staged = unpack(fetched.zip.path(), &version_dir)?;
        let h1 = package_hash_h1(staged.path())
            .map_err(|e| format!("cannot hash {}: {e}", staged.path().display()))?;
        // A mirror's h1: hashes vouch for the unpacked package.
        let listed: Vec<&String> = fetched
            .hashes
            .iter()
            .filter(|h| h.starts_with("h1:"))
            .collect();
        if !signed && !listed.is_empty() && !listed.contains(&&h1) {
            return Err(format!(
                "the package of {address} {version} from {} has hash {h1}, which the mirror does not list for it: it is not installed",
                match &origin {
                    Origin::Mirror(u) => u.as_str(),
                    _ => "the mirror",
                }
            ));
        }
        if let Some(locked) = locked {
            locked.check_hashes(address, version, &[&h1, &fetched.zh], &version_dir)?;
        }
        let target = version_dir.join(&platform);
        place(staged, &h1, &target)?;
        let package = self.package(address, version.clone(), target)?;
        let mut hashes = vec![h1, fetched.zh.clone()];
        // Only checksums the registry signed are recorded for other platforms; a mirror's
        // listing is not signed by anyone.
        if signed {
            hashes.extend(fetched.hashes.iter().filter(|h| valid_hash(h)).cloned());
        }
        if let Some(locked) = locked {
            hashes.extend(locked.hashes.iter().cloned());
        }
        hashes.sort();
        hashes.dedup();
        Ok(Installed {
            package,
            hashes,
            origin,
        })
    }

    /// A package found locally (or in the cache), checked against the lock file's hashes of
    /// its version when it has some.
    fn verified(
        &self,
        package: Package,
        locked: Option<&LockedProvider>,
        from_cache: bool,
    ) -> Result<Installed, String> {
        let h1 = package_hash_h1(&package.dir)
            .map_err(|e| format!("cannot hash {}: {e}", package.dir.display()))?;
        let mut hashes = vec![h1.clone()];
        if let Some(locked) = locked {
            locked.check_hashes(&package.address, &package.version, &[&h1], &package.dir)?;
            hashes.extend(locked.hashes.iter().cloned());
        }
        hashes.sort();
        hashes.dedup();
        let origin = if from_cache {
            Origin::Cache
        } else {
            Origin::Local(package.dir.clone())
        };
        Ok(Installed {
            package,
            hashes,
            origin,
        })
    }
}

/// Removes what interrupted runs left in a version directory of the cache: downloads,
/// staging and replaced directories older than an hour (younger ones may belong to a run
/// in progress).
fn sweep_leftovers(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let hour = std::time::Duration::from_secs(3600);
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if ![".download-", ".unpack-", ".replaced-"]
            .iter()
            .any(|p| name.starts_with(p))
        {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > hour);
        if old {
            let path = entry.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}

/// `CACHE/HOST/NAMESPACE/TYPE/VERSION`.
fn package_dir(cache: &Path, address: &ProviderAddress, version: &Version) -> PathBuf {
    cache
        .join(&address.host)
        .join(&address.namespace)
        .join(&address.type_name)
        .join(version.to_string())
}

/// A hash in one of the schemes lock files hold: `h1:` and 44 base64 characters, or `zh:`
/// and 64 hex digits.
pub(super) fn valid_hash(hash: &str) -> bool {
    if let Some(b64) = hash.strip_prefix("h1:") {
        b64.len() == 44
            && b64
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c))
    } else if let Some(hex) = hash.strip_prefix("zh:") {
        hex.len() == 64
            && hex
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    } else {
        false
    }
}

/// Where a version can be downloaded from.
#[derive(Debug, Clone)]
enum RemoteSource {
    Mirror(String),
    Registry,
}

/// Unpacks the zip archive at `zip` into a new temporary directory in `parent` (removed
/// when dropped, so nothing half-unpacked or unchecked is left behind). Entries that would
/// land outside the package are refused; symbolic links come out as plain files; file
/// modes keep at most `rwxr-xr-x`.
fn unpack(zip: &Path, parent: &Path) -> Result<tempfile::TempDir, String> {
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
            let mut mode = entry.unix_mode().map_or(0o644, |m| m & 0o755) | 0o400;
            if relative
                .to_string_lossy()
                .starts_with("terraform-provider-")
            {
                mode |= 0o755;
            }
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                .map_err(|e| format!("cannot set the mode of {}: {e}", path.display()))?;
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(staging.path(), std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("cannot set the mode of {}: {e}", staging.path().display()))?;
    }
    Ok(staging)
}

/// Moves a checked package (`h1` is its hash) into the cache at `target`. When `target`
/// exists already with the same contents (another run put it there), the staged copy is
/// dropped; with other contents (a damaged or changed cache entry), it is replaced.
fn place(staged: tempfile::TempDir, h1: &str, target: &Path) -> Result<(), String> {
    if target.is_dir() {
        if package_hash_h1(target).ok().as_deref() == Some(h1) {
            return Ok(());
        }
        let parent = target.parent().unwrap_or(target);
        let old = tempfile::Builder::new()
            .prefix(".replaced-")
            .tempdir_in(parent)
            .map_err(|e| format!("cannot create a directory in {}: {e}", parent.display()))?;
        std::fs::rename(target, old.path().join("package")).map_err(|e| {
            format!(
                "cannot move the cached package at {} aside: {e}",
                target.display()
            )
        })?;
    }
    let path = staged.keep();
    std::fs::rename(&path, target).map_err(|e| {
        let _ = std::fs::remove_dir_all(&path);
        format!(
            "cannot move the unpacked package to {}: {e}",
            target.display()
        )
    })
}
