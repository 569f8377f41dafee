//! Finding Terraform provider plugins as Terraform's installer does, and pinning them in a
//! lock file: source addresses (`hashicorp/aws` → `registry.terraform.io/hashicorp/aws`),
//! the directories searched (explicit plugin directories, `~/.terraform.d/plugins`, and the
//! `filesystem_mirror` entries of the Terraform CLI configuration), version constraints,
//! package hashes (`h1:`, `zh:`) and `.braid.lock.hcl` in Terraform's lock file format.
//!
//! This is the installation half of running provider plugins; the plugin host that starts
//! and talks to them is `crates/tfplugin`. See docs/providers/terraform.md.

mod cli_config;
mod hash;
mod installer;
mod lock_file;
mod remote;

use std::path::{Path, PathBuf};

pub use cli_config::{CliConfig, MirrorRule};
pub use hash::{package_hash_h1, package_hash_h1_cached, zip_hash};
pub use installer::{Installed, Installer, Origin, PLUGIN_CACHE_ENV, Sources};
pub use lock_file::{LOCK_FILE, LockFile, LockedProvider};

/// The registry host of source addresses that name none, as in Terraform.
pub const DEFAULT_HOST: &str = "registry.terraform.io";

/// A provider's source address: `HOST/NAMESPACE/TYPE`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProviderAddress {
    /// `registry.terraform.io`
    pub host: String,
    /// `hashicorp`
    pub namespace: String,
    /// `aws`
    pub type_name: String,
}

impl ProviderAddress {
    /// Reads a `source` of `required_providers`: `TYPE` (a legacy address, which Terraform
    /// reads as `hashicorp/TYPE`), `NAMESPACE/TYPE` or `HOST/NAMESPACE/TYPE`. Names are
    /// case-insensitive and kept in lower case, as Terraform normalizes them.
    pub fn parse(source: &str) -> Result<ProviderAddress, String> {
        let parts: Vec<&str> = source.split('/').collect();
        let (host, namespace, type_name) = match parts.as_slice() {
            [t] => (DEFAULT_HOST, "hashicorp", *t),
            [n, t] => (DEFAULT_HOST, *n, *t),
            [h, n, t] => (*h, *n, *t),
            _ => {
                return Err(format!(
                    "\"{source}\" is not a provider source address: write NAMESPACE/TYPE (hashicorp/aws) or HOST/NAMESPACE/TYPE"
                ));
            }
        };
        let name_ok = |s: &str| {
            !s.is_empty()
                && !s.starts_with('-')
                && !s.ends_with('-')
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        // A DNS name with an optional port: labels of letters, digits and dashes between
        // dots (it becomes a directory name in plugin caches, so never `.` or `..`).
        let (name, port) = host.split_once(':').unwrap_or((host, ""));
        let host_ok = !name.is_empty()
            && name.split('.').all(|label| {
                !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && port.chars().all(|c| c.is_ascii_digit())
            && (port.is_empty() != host.contains(':'));
        if !host_ok || !name_ok(namespace) || !name_ok(type_name) {
            return Err(format!(
                "\"{source}\" is not a provider source address: the namespace and type are letters, digits and dashes, like hashicorp/aws"
            ));
        }
        if let Some(short) = type_name.strip_prefix("terraform-provider-") {
            return Err(format!(
                "\"{source}\": the type is the part after \"terraform-provider-\" ({short})"
            ));
        }
        Ok(ProviderAddress {
            host: host.to_ascii_lowercase(),
            namespace: namespace.to_ascii_lowercase(),
            type_name: type_name.to_ascii_lowercase(),
        })
    }
}

impl std::fmt::Display for ProviderAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.host, self.namespace, self.type_name)
    }
}

/// A version `MAJOR.MINOR.PATCH` (with an optional pre-release, which only an exact
/// constraint selects, as in Terraform). Ordered as semantic versions are: a pre-release
/// before its release, identifiers compared numerically when they are numbers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version {
    /// The numbers.
    pub numbers: (u64, u64, u64),
    /// `-beta1` and the like, without the dash; empty for a release.
    pub prerelease: String,
}

impl Version {
    /// Reads `1.2.3` or `1.2.3-beta1`.
    pub fn parse(text: &str) -> Option<Version> {
        let (numbers, prerelease) = match text.split_once('-') {
            Some((n, p)) => (n, p.to_string()),
            None => (text, String::new()),
        };
        // Pre-release identifiers are letters, digits, dots and dashes (semver), never a
        // path.
        if prerelease.contains("..")
            || !prerelease
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        {
            return None;
        }
        let parts: Vec<u64> = numbers
            .split('.')
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        match parts.as_slice() {
            [a, b, c] => Some(Version {
                numbers: (*a, *b, *c),
                prerelease,
            }),
            _ => None,
        }
    }

    /// Whether the version meets `constraints` (comma-separated, Terraform's operators);
    /// a pre-release only when a constraint names it exactly.
    pub fn meets(&self, constraints: &str) -> Result<bool, String> {
        if constraints.trim().is_empty() {
            return Ok(self.prerelease.is_empty());
        }
        let clauses: Vec<&str> = constraints.split(',').map(str::trim).collect();
        if !self.prerelease.is_empty() {
            // Named exactly by one clause, and allowed by the others.
            let exact = format!("{self}");
            let named = |c: &&str| c.trim_start_matches('=').trim() == exact;
            if !clauses.iter().any(named) {
                return Ok(false);
            }
            let others: Vec<&str> = clauses.iter().filter(|c| !named(c)).copied().collect();
            return if others.is_empty() {
                Ok(true)
            } else {
                crate::config::terraform_block::allows(&others.join(", "), self.numbers)
            };
        }
        // A release never meets a clause that names a pre-release exactly.
        if clauses
            .iter()
            .any(|c| c.trim_start_matches('=').trim().contains('-'))
        {
            return Ok(false);
        }
        crate::config::terraform_block::allows(constraints, self.numbers)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        self.numbers.cmp(&other.numbers).then_with(|| {
            match (self.prerelease.is_empty(), other.prerelease.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    let ids = |v: &Version| -> Vec<String> {
                        v.prerelease.split('.').map(str::to_string).collect()
                    };
                    let (a, b) = (ids(self), ids(other));
                    for (x, y) in a.iter().zip(&b) {
                        let order = match (x.parse::<u64>(), y.parse::<u64>()) {
                            (Ok(x), Ok(y)) => x.cmp(&y),
                            (Ok(_), Err(_)) => Ordering::Less,
                            (Err(_), Ok(_)) => Ordering::Greater,
                            (Err(_), Err(_)) => x.cmp(y),
                        };
                        if order != Ordering::Equal {
                            return order;
                        }
                    }
                    a.len().cmp(&b.len())
                }
            }
        })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (a, b, c) = self.numbers;
        write!(f, "{a}.{b}.{c}")?;
        if !self.prerelease.is_empty() {
            write!(f, "-{}", self.prerelease)?;
        }
        Ok(())
    }
}

/// A provider package found in a plugin directory: its unpacked directory and executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// Which provider.
    pub address: ProviderAddress,
    /// Which version.
    pub version: Version,
    /// The directory holding the package's files (`.../5.100.0/linux_amd64`).
    pub dir: PathBuf,
    /// The plugin executable in it (`terraform-provider-aws_v5.100.0_x5`).
    pub executable: PathBuf,
}

/// braid's cache in the user's home: `$XDG_CACHE_HOME/braid`, else `~/.cache/braid`. Never
/// a directory a project names: input from a pull request must not be able to plant what
/// braid trusts from there (package hashes, provider schemas).
pub fn user_cache_dir() -> Option<PathBuf> {
    let from = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    from("XDG_CACHE_HOME")
        .map(|d| d.join("braid"))
        .or_else(|| from("HOME").map(|h| h.join(".cache").join("braid")))
}

/// The `OS_ARCH` of this machine as Terraform names platforms (`linux_amd64`).
pub fn platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{os}_{arch}")
}

/// Where packages are searched, in order: the first directory holding a matching version
/// wins, as in Terraform's implied installation.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// Directories in Terraform's unpacked mirror layout
    /// (`HOST/NAMESPACE/TYPE/VERSION/OS_ARCH/`), with the providers each may serve.
    pub dirs: Vec<(PathBuf, MirrorRule)>,
}

impl Search {
    /// The directories Terraform's installer would search here: `explicit` ones first
    /// (braid's plugin directories), then the CLI configuration's `filesystem_mirror`
    /// entries when it has a `provider_installation` block, else `~/.terraform.d/plugins`.
    pub fn new(explicit: &[PathBuf], cli: &CliConfig, home: Option<&Path>) -> Search {
        let mut dirs: Vec<(PathBuf, MirrorRule)> = explicit
            .iter()
            .map(|d| (d.clone(), MirrorRule::default()))
            .collect();
        if cli.installation_block {
            dirs.extend(cli.filesystem_mirrors.iter().cloned());
        } else if let Some(home) = home {
            dirs.push((
                home.join(".terraform.d").join("plugins"),
                MirrorRule::default(),
            ));
        }
        Search { dirs }
    }

    /// Every package of `address` for this platform in the directories allowed to serve
    /// it, in search order: `(version, package directory)`.
    pub fn available(&self, address: &ProviderAddress) -> Vec<(Version, PathBuf)> {
        let platform = platform();
        let mut out = Vec::new();
        for (dir, rule) in &self.dirs {
            if !rule.covers(address) {
                continue;
            }
            let base = dir
                .join(&address.host)
                .join(&address.namespace)
                .join(&address.type_name);
            let Ok(entries) = std::fs::read_dir(&base) else {
                continue;
            };
            let mut found: Vec<(Version, PathBuf)> = entries
                .filter_map(Result::ok)
                .filter_map(|entry| {
                    let version = Version::parse(&entry.file_name().to_string_lossy())?;
                    let package = entry.path().join(&platform);
                    package.is_dir().then_some((version, package))
                })
                .collect();
            found.sort();
            out.extend(found.into_iter().rev());
        }
        out
    }

    /// The newest version of `address` that meets `constraints`, for this platform; the
    /// first directory holding a matching version wins.
    pub fn find(&self, address: &ProviderAddress, constraints: &str) -> Result<Package, String> {
        let platform = platform();
        let available = self.available(address);
        // In search order, each directory's versions newest first: the first match is the
        // newest version of the first directory holding one.
        let mut best = None;
        for candidate in &available {
            if candidate.0.meets(constraints)? {
                best = Some(candidate);
                break;
            }
        }
        if let Some((version, package)) = best {
            let executable = executable_in(package, &address.type_name).ok_or_else(|| {
                format!(
                    "{} holds no terraform-provider-{} executable",
                    package.display(),
                    address.type_name
                )
            })?;
            return Ok(Package {
                address: address.clone(),
                version: version.clone(),
                dir: package.clone(),
                executable,
            });
        }
        let searched = self
            .dirs
            .iter()
            .map(|(d, _)| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let mut seen: Vec<String> = available.iter().map(|(v, _)| v.to_string()).collect();
        Err(if seen.is_empty() {
            format!(
                "no package of {address} for {platform} was found (searched: {})",
                if searched.is_empty() {
                    "no directory"
                } else {
                    &searched
                }
            )
        } else {
            seen.sort();
            seen.dedup();
            format!(
                "no version of {address} for {platform} meets \"{constraints}\"; found {} (searched: {searched})",
                seen.join(", ")
            )
        })
    }
}

/// The plugin executable of an unpacked package: `terraform-provider-TYPE` or
/// `terraform-provider-TYPE_*`.
fn executable_in(dir: &Path, type_name: &str) -> Option<PathBuf> {
    let prefix = format!("terraform-provider-{type_name}");
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name == prefix || name.starts_with(&format!("{prefix}_"))
        })
        .map(|e| e.path())
        .collect();
    names.sort();
    names.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_addresses_as_terraform_reads_them() {
        let aws = ProviderAddress::parse("hashicorp/aws").expect("valid");
        assert_eq!(aws.to_string(), "registry.terraform.io/hashicorp/aws");
        assert_eq!(ProviderAddress::parse("aws"), Ok(aws.clone()));
        assert_eq!(
            ProviderAddress::parse("Registry.Terraform.io/HashiCorp/AWS"),
            Ok(aws)
        );
        assert_eq!(
            ProviderAddress::parse("example.com:8443/acme/widgets")
                .expect("valid")
                .to_string(),
            "example.com:8443/acme/widgets"
        );
        for bad in [
            "",
            "a/b/c/d",
            "hashicorp/aws_x",
            "-x/y",
            "h/terraform-provider-aws",
            "../acme/aws",
            "./acme/aws",
            "a..b/acme/aws",
            "example.com:/acme/aws",
        ] {
            assert!(ProviderAddress::parse(bad).is_err(), "{bad}");
        }
    }

    /// The filesystem mirror with the real hashicorp/aws 5.100.0 package the tests use:
    /// `BRAID_TF_PLUGIN_MIRROR`, else `/opt/tf-plugins`.
    fn mirror() -> PathBuf {
        let dir = std::env::var_os("BRAID_TF_PLUGIN_MIRROR")
            .map_or_else(|| PathBuf::from("/opt/tf-plugins"), PathBuf::from);
        assert!(
            dir.join("registry.terraform.io/hashicorp/aws/5.100.0")
                .is_dir(),
            "this test needs terraform-provider-aws 5.100.0 in a Terraform filesystem mirror at {} (or set BRAID_TF_PLUGIN_MIRROR to the mirror's root)",
            dir.display()
        );
        dir
    }

    /// The hash `terraform init` (1.11) recorded in .terraform.lock.hcl for this package
    /// from the mirror: `provider_installation { filesystem_mirror { path = MIRROR } }` in a
    /// CLI config file, `terraform init` with `required_providers { aws = { source =
    /// "hashicorp/aws", version = "~> 5.0" } }`.
    const TERRAFORM_H1: &str = "h1:edXOJWE4ORX8Fm+dpVpICzMZJat4AX0VRCAy/xkcOc0=";

    #[test]
    fn finds_the_mirrored_package_and_hashes_it_as_terraform_does() {
        let mirror = mirror();
        let cli = CliConfig::parse(&format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"registry.terraform.io/hashicorp/*\"]\n  }}\n}}\n",
            mirror.display()
        ))
        .expect("valid CLI config");
        let search = Search::new(&[], &cli, None);
        let aws = ProviderAddress::parse("hashicorp/aws").expect("valid");
        let package = search.find(&aws, "~> 5.0").expect("found in the mirror");
        assert_eq!(package.version.to_string(), "5.100.0");
        assert!(
            package
                .executable
                .ends_with("terraform-provider-aws_v5.100.0_x5"),
            "{}",
            package.executable.display()
        );
        let h1 = package_hash_h1(&package.dir).expect("hash");
        assert_eq!(h1, TERRAFORM_H1);

        let mut lock = LockFile::default();
        assert_eq!(lock.verify(&package, &h1), Ok(false));
        lock.providers.insert(
            aws.to_string(),
            LockedProvider {
                version: "5.100.0".into(),
                constraints: Some("~> 5.0".into()),
                hashes: vec![TERRAFORM_H1.into()],
            },
        );
        assert_eq!(lock.verify(&package, &h1), Ok(true));

        // Constraints no mirrored version meets, a provider the mirror does not hold, and a
        // provider the mirror's rule excludes.
        let err = search.find(&aws, ">= 6.0").expect_err("none");
        assert!(err.contains("found 5.100.0"), "{err}");
        let google = ProviderAddress::parse("hashicorp/google").expect("valid");
        assert!(search.find(&google, "").is_err());
        let acme = ProviderAddress::parse("acme/aws").expect("valid");
        assert!(search.find(&acme, "").is_err());
    }

    #[test]
    fn a_changed_package_is_refused() {
        let mirror = tempfile::tempdir().expect("tempdir");
        let dir = mirror
            .path()
            .join("registry.terraform.io/hashicorp/aws/5.100.0")
            .join(platform());
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(
            dir.join("terraform-provider-aws_v5.100.0_x5"),
            "not the real one",
        )
        .expect("write");
        let search = Search {
            dirs: vec![(mirror.path().to_path_buf(), MirrorRule::default())],
        };
        let aws = ProviderAddress::parse("hashicorp/aws").expect("valid");
        let package = search.find(&aws, "").expect("found");
        let h1 = package_hash_h1(&package.dir).expect("hash");
        let lock = LockFile::parse(&format!(
            "provider \"registry.terraform.io/hashicorp/aws\" {{\n  version = \"5.100.0\"\n  hashes = [\"{TERRAFORM_H1}\"]\n}}\n"
        ))
        .expect("valid");
        let err = lock.verify(&package, &h1).expect_err("refused");
        assert!(err.contains("does not match any hash"), "{err}");
        let pinned_older = LockFile::parse(
            "provider \"registry.terraform.io/hashicorp/aws\" {\n  version = \"5.99.0\"\n  hashes = []\n}\n",
        )
        .expect("valid");
        let err = pinned_older.verify(&package, &h1).expect_err("refused");
        assert!(
            err.contains("pins registry.terraform.io/hashicorp/aws to version 5.99.0"),
            "{err}"
        );
    }

    #[test]
    fn versions_and_constraints() {
        let v = Version::parse("5.100.0").expect("valid");
        assert_eq!(v.meets("~> 5.0"), Ok(true));
        assert_eq!(v.meets(">= 4.0, < 5.50"), Ok(false));
        assert_eq!(v.meets(""), Ok(true));
        let beta = Version::parse("6.0.0-beta1").expect("valid");
        assert_eq!(beta.meets(">= 5.0"), Ok(false));
        assert_eq!(beta.meets("6.0.0-beta1"), Ok(true));
        assert!(Version::parse("5.1").is_none());
        assert!(Version::parse("1.0.0-x/../../y").is_none());
        // Semantic version order: pre-releases before their release, numbers as numbers.
        let v = |t: &str| Version::parse(t).expect("valid");
        assert!(v("6.0.0-beta1") < v("6.0.0"));
        assert!(v("6.0.0-rc.9") < v("6.0.0-rc.10"));
        assert!(v("6.0.0-alpha") < v("6.0.0-alpha.1"));
        assert!(v("5.100.0") < v("6.0.0-beta1"));
        // A release does not meet a clause naming a pre-release; a pre-release must also
        // meet the other clauses.
        assert_eq!(v("6.0.0").meets("= 6.0.0-beta1"), Ok(false));
        assert_eq!(v("6.0.0-beta1").meets("6.0.0-beta1, >= 5.0.0"), Ok(true));
        assert_eq!(v("6.0.0-beta1").meets("6.0.0-beta1, < 5.0.0"), Ok(false));
        assert!(Version::parse("1.0.0-rc.1").is_some());
    }
}
