//! `.braid.lock.hcl`: which version of each provider plugin a project uses, with the hashes
//! of its packages, in Terraform's dependency lock file format, so a changed binary is
//! refused instead of run.

use std::collections::BTreeMap;
use std::path::Path;

use hcl_edit::expr::Expression;
use hcl_edit::structure::Structure;

use super::{Package, ProviderAddress, Version};
use crate::config::format::quoted;

/// The lock file's name, in the project directory.
pub const LOCK_FILE: &str = ".braid.lock.hcl";

/// One `provider "ADDRESS" { ... }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedProvider {
    /// The version selected.
    pub version: String,
    /// The constraints it was selected for, as written in `required_providers`.
    pub constraints: Option<String>,
    /// `h1:` and `zh:` hashes of the packages that may be used.
    pub hashes: Vec<String>,
}

impl LockedProvider {
    /// The version pinned for `address`, which must meet `constraints` (as written in
    /// `required_providers` now).
    pub fn pinned(&self, address: &ProviderAddress, constraints: &str) -> Result<Version, String> {
        let version = Version::parse(&self.version).ok_or_else(|| {
            format!(
                "{LOCK_FILE} pins {address} to \"{}\", which is not a version",
                self.version
            )
        })?;
        if !version.meets(constraints)? {
            return Err(format!(
                "{LOCK_FILE} pins {address} to {version}, which does not meet the constraints \"{constraints}\" of required_providers. Run braid init --upgrade to select a version that does."
            ));
        }
        Ok(version)
    }

    /// A package of the pinned version (at `at`) must have one of the recorded hashes among
    /// its own (`own`: its `h1:`, and its archive's `zh:` when downloaded).
    pub fn check_hashes(
        &self,
        address: &ProviderAddress,
        version: &Version,
        own: &[&String],
        at: &Path,
    ) -> Result<(), String> {
        if own.iter().any(|h| self.hashes.contains(h)) {
            return Ok(());
        }
        Err(format!(
            "the package of {address} {version} at {} does not match any hash {LOCK_FILE} records for it ({} not among {}). The package changed since braid init recorded it: do not run it unless you know why. If its publisher re-released the version on purpose, delete the provider's block from {LOCK_FILE} and run braid init to record the new hashes.",
            at.display(),
            own.iter()
                .map(|h| h.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            self.hashes.join(", ")
        ))
    }
}

/// The lock file's providers, by source address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockFile {
    /// By `HOST/NAMESPACE/TYPE`.
    pub providers: BTreeMap<String, LockedProvider>,
}

impl LockFile {
    /// Reads the lock file at `path`; a missing file is an empty lock file.
    pub fn read(path: &Path) -> Result<LockFile, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => LockFile::parse(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(LockFile::default()),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    /// Reads the text of a lock file (braid's or Terraform's `.terraform.lock.hcl`).
    pub fn parse(text: &str) -> Result<LockFile, String> {
        let body = hcl_edit::parser::parse_body(text).map_err(|e| e.to_string())?;
        let mut lock = LockFile::default();
        for structure in body.iter() {
            let Structure::Block(block) = structure else {
                return Err("a lock file holds only provider blocks".to_string());
            };
            if block.ident.value().as_str() != "provider" {
                return Err(format!(
                    "a lock file holds only provider blocks, not \"{}\"",
                    block.ident.value()
                ));
            }
            let address = block
                .labels
                .first()
                .map(|l| l.as_str().to_string())
                .ok_or("a provider block needs its source address as label")?;
            let address = ProviderAddress::parse(&address)?.to_string();
            let text = |name: &str| {
                block.body.get_attribute(name).and_then(|a| match &a.value {
                    Expression::String(s) => Some(s.value().to_string()),
                    _ => None,
                })
            };
            let version = text("version")
                .ok_or_else(|| format!("the provider block of {address} has no version"))?;
            let hashes = match block.body.get_attribute("hashes").map(|a| &a.value) {
                Some(Expression::Array(items)) => items
                    .iter()
                    .map(|i| match i {
                        Expression::String(s) => Ok(s.value().to_string()),
                        _ => Err(format!("the hashes of {address} must be strings")),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                None => Vec::new(),
                Some(_) => return Err(format!("the hashes of {address} must be a list")),
            };
            lock.providers.insert(
                address,
                LockedProvider {
                    version,
                    constraints: text("constraints"),
                    hashes,
                },
            );
        }
        Ok(lock)
    }

    /// The file's text, laid out as Terraform writes its lock file.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# This file is maintained automatically by \"braid init\".\n# Manual edits may be lost in future updates.\n",
        );
        for (address, provider) in &self.providers {
            out.push_str(&format!("\nprovider {} {{\n", quoted(address)));
            out.push_str(&format!("  version     = {}\n", quoted(&provider.version)));
            if let Some(constraints) = &provider.constraints {
                out.push_str(&format!("  constraints = {}\n", quoted(constraints)));
            }
            out.push_str("  hashes = [\n");
            for hash in &provider.hashes {
                out.push_str(&format!("    {},\n", quoted(hash)));
            }
            out.push_str("  ]\n}\n");
        }
        out
    }

    /// Checks a package found for a provider against what the file pins: the same version
    /// and one of the recorded hashes (`h1` is the package's). `Ok(false)` when the file does
    /// not name the provider yet.
    pub fn verify(&self, package: &Package, h1: &str) -> Result<bool, String> {
        let address = package.address.to_string();
        let Some(locked) = self.providers.get(&address) else {
            return Ok(false);
        };
        if locked.version != package.version.to_string() {
            return Err(format!(
                "{LOCK_FILE} pins {address} to version {}, but {} is what the constraints select now. Run braid init --upgrade to select and record it, or change the constraints.",
                locked.version, package.version
            ));
        }
        let h1 = h1.to_string();
        locked.check_hashes(&package.address, &package.version, &[&h1], &package.dir)?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `terraform init` (1.11) wrote for hashicorp/aws from the filesystem mirror.
    const TERRAFORM_LOCK: &str = r#"# This file is maintained automatically by "terraform init".
# Manual edits may be lost in future updates.

provider "registry.terraform.io/hashicorp/aws" {
  version     = "5.100.0"
  constraints = "~> 5.0"
  hashes = [
    "h1:edXOJWE4ORX8Fm+dpVpICzMZJat4AX0VRCAy/xkcOc0=",
  ]
}
"#;

    #[test]
    fn reads_terraform_s_lock_file_and_writes_the_same_blocks() {
        let lock = LockFile::parse(TERRAFORM_LOCK).expect("valid");
        let aws = &lock.providers["registry.terraform.io/hashicorp/aws"];
        assert_eq!(aws.version, "5.100.0");
        assert_eq!(aws.constraints.as_deref(), Some("~> 5.0"));
        let rendered = lock.render();
        assert_eq!(
            rendered.lines().skip(1).collect::<Vec<_>>(),
            TERRAFORM_LOCK.lines().skip(1).collect::<Vec<_>>()
        );
        assert_eq!(LockFile::parse(&rendered).expect("round trip"), lock);
        assert!(LockFile::parse("resource \"x\" \"y\" {}\n").is_err());

        // A value cannot add to the file's structure.
        let mut hostile = lock.clone();
        hostile
            .providers
            .get_mut("registry.terraform.io/hashicorp/aws")
            .expect("aws")
            .constraints =
            Some("~> 5.0\"\n  hashes = [\"h1:x\"]\n  x = \"${file(\"/etc/passwd\")}".into());
        let text = hostile.render();
        assert_eq!(LockFile::parse(&text).expect("still one block"), hostile);
    }

    /// A lock file carries no format version: hashes of a scheme braid does not compute
    /// (a newer Terraform's) are kept when the file is written again and never match, so a
    /// package must still match one `h1:` or `zh:` hash.
    #[test]
    fn hashes_of_an_unknown_scheme_are_kept_and_never_match() {
        let text = TERRAFORM_LOCK.replace(
            "hashes = [\n",
            "hashes = [\n    \"h9:from-a-newer-terraform\",\n",
        );
        let lock = LockFile::parse(&text).expect("valid");
        let aws = &lock.providers["registry.terraform.io/hashicorp/aws"];
        assert!(aws.hashes.iter().any(|h| h == "h9:from-a-newer-terraform"));
        assert!(lock.render().contains("\"h9:from-a-newer-terraform\""));
        let address = ProviderAddress::parse("hashicorp/aws").expect("address");
        let version = Version::parse("5.100.0").expect("version");
        let unknown = "h9:from-a-newer-terraform".to_string();
        let other = "h1:AAAA".to_string();
        assert!(
            aws.check_hashes(&address, &version, &[&other], Path::new("/p"))
                .is_err()
        );
        let known = aws.hashes[1].clone();
        assert!(
            aws.check_hashes(&address, &version, &[&known], Path::new("/p"))
                .is_ok()
        );
        assert!(
            aws.check_hashes(&address, &version, &[&unknown], Path::new("/p"))
                .is_ok(),
            "a hash recorded in the file matches itself"
        );
    }
}
