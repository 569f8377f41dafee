//! The `terraform {}` block of `.tf` files: `required_version` is checked against the
//! Terraform language version braid implements, `required_providers` is read, and
//! `backend` / `cloud` are ignored with a warning that points to braid's own state.

use std::collections::BTreeMap;

use hcl_edit::expr::{Expression, ObjectKey};

use super::body::{Attribute, NestedBlock};
use crate::diag::{Diagnostic, Diagnostics};

/// The Terraform language version braid implements, which `required_version` constraints
/// are checked against.
pub const TERRAFORM_LANGUAGE_VERSION: (u64, u64, u64) = (1, 11, 4);

/// What the `terraform` blocks of the resource files say.
#[derive(Debug, Clone, Default)]
pub struct TerraformSettings {
    /// `required_providers`: local name → source address (`hashicorp/aws`), as written.
    pub required_providers: BTreeMap<String, String>,
    /// `required_providers`: local name → version constraints (`~> 5.0`), where given.
    pub provider_versions: BTreeMap<String, String>,
}

/// Reads one `terraform` block into `settings`; warnings go to `warnings`.
pub fn parse_terraform(
    block: &NestedBlock,
    settings: &mut TerraformSettings,
    warnings: &mut Diagnostics,
) -> Result<(), Diagnostic> {
    block.body.check_names(
        "terraform block",
        &["required_version"],
        &["required_providers", "backend", "cloud", "provider_meta"],
    )?;
    if let Some(attr) = block.body.attribute("required_version") {
        check_required_version(attr)?;
    }
    for nested in &block.body.blocks {
        match nested.kind.as_str() {
            "required_providers" => {
                for attr in &nested.body.attributes {
                    let field = |wanted: &str| match &attr.expr {
                        Expression::Object(object) => object.iter().find_map(|(key, value)| {
                            let name = match key {
                                ObjectKey::Ident(ident) => Some(ident.as_str().to_string()),
                                ObjectKey::Expression(expr) => literal_string(expr),
                            };
                            (name.as_deref() == Some(wanted))
                                .then(|| literal_string(value.expr()))
                                .flatten()
                        }),
                        _ => None,
                    };
                    // The legacy form `aws = "~> 5.0"` gives only a version.
                    let (source, version) = match &attr.expr {
                        Expression::Object(_) => (field("source"), field("version")),
                        other => (None, literal_string(other)),
                    };
                    if let Some(version) = version {
                        settings
                            .provider_versions
                            .insert(attr.name.clone(), version);
                    }
                    settings.required_providers.insert(
                        attr.name.clone(),
                        source.unwrap_or_else(|| format!("hashicorp/{}", attr.name)),
                    );
                }
            }
            "backend" | "cloud" => warnings.push(
                Diagnostic::warning(
                    "Terraform backend ignored",
                    format!(
                        "braid keeps state itself, per environment, so this \"{}\" block is ignored. Configure where state lives with the state block of the environment in braid.hcl (backend = \"sqlite\", \"postgres\" or \"s3\"; see docs/state.md), and bring existing Terraform state over with braid state import-terraform.",
                        nested.kind
                    ),
                )
                .at(nested.location.clone()),
            ),
            // provider_meta only passes module metadata to providers: nothing to do.
            _ => {}
        }
    }
    Ok(())
}

fn literal_string(expr: &Expression) -> Option<String> {
    match expr {
        Expression::String(s) => Some(s.value().to_string()),
        _ => None,
    }
}

fn check_required_version(attr: &Attribute) -> Result<(), Diagnostic> {
    let Some(text) = literal_string(&attr.expr) else {
        return Err(Diagnostic::error(
            "Invalid required_version",
            "required_version must be a literal string of version constraints, e.g. \">= 1.5, < 2.0\".",
        )
        .at(attr.value_location.clone()));
    };
    let (major, minor, patch) = TERRAFORM_LANGUAGE_VERSION;
    match allows(&text, TERRAFORM_LANGUAGE_VERSION) {
        Ok(true) => Ok(()),
        Ok(false) => Err(Diagnostic::error(
            "Unsupported Terraform version",
            format!(
                "This configuration requires Terraform \"{text}\", but braid implements the language of Terraform {major}.{minor}.{patch}. Widen required_version if the configuration works with {major}.{minor}, or keep running it with a Terraform release it allows."
            ),
        )
        .at(attr.value_location.clone())),
        Err(why) => Err(Diagnostic::error(
            "Invalid required_version",
            format!(
                "\"{text}\" is not a version constraint: {why}. Write comma-separated constraints such as \">= 1.5\", \"~> 1.9\" or \"= 1.11.4\"."
            ),
        )
        .at(attr.value_location.clone())),
    }
}

/// Whether `version` meets every comma-separated constraint of `text`, with Terraform's
/// operators: `=` (or none), `!=`, `>`, `>=`, `<`, `<=` and `~>` (only the rightmost
/// version part given may grow: `~> 1.5` allows 1.x from 1.5, `~> 1.5.2` allows 1.5.x from
/// 1.5.2).
pub fn allows(text: &str, version: (u64, u64, u64)) -> Result<bool, String> {
    let mut all = true;
    for clause in text.split(',') {
        let clause = clause.trim();
        if clause.is_empty() {
            return Err("a constraint is empty".to_string());
        }
        let (op, rest) = ["~>", ">=", "<=", "!=", ">", "<", "="]
            .iter()
            .find_map(|op| clause.strip_prefix(op).map(|rest| (*op, rest)))
            .unwrap_or(("=", clause));
        let rest = rest.trim().trim_start_matches('v');
        // Pre-release and build suffixes (`1.6.0-beta1`) compare by their numbers only.
        let numbers = rest.split(['-', '+']).next().unwrap_or(rest);
        let parts: Vec<u64> = numbers
            .split('.')
            .map(|p| {
                p.parse::<u64>()
                    .map_err(|_| format!("\"{rest}\" is not a version"))
            })
            .collect::<Result<_, _>>()?;
        if parts.is_empty() || parts.len() > 3 {
            return Err(format!("\"{rest}\" is not a version"));
        }
        let given = parts.len();
        let wanted = (
            parts[0],
            parts.get(1).copied().unwrap_or(0),
            parts.get(2).copied().unwrap_or(0),
        );
        let ok = match op {
            "=" => version == wanted,
            "!=" => version != wanted,
            ">" => version > wanted,
            ">=" => version >= wanted,
            "<" => version < wanted,
            "<=" => version <= wanted,
            _ => {
                // `~>`: at least `wanted`, and below the next release of the part before
                // the last one given.
                let upper = match given {
                    1 | 2 => (wanted.0 + 1, 0, 0),
                    _ => (wanted.0, wanted.1 + 1, 0),
                };
                version >= wanted && version < upper
            }
        };
        all &= ok;
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::allows;

    #[test]
    fn constraints_as_terraform_reads_them() {
        let v = (1, 11, 4);
        for (text, expected) in [
            (">= 1.0", true),
            ("~> 1.5", true),
            ("~> 1.11.0", true),
            ("~> 1.10.0", false),
            ("~> 1", true),
            (">= 1.3, < 2.0", true),
            ("= 1.5.7", false),
            ("1.11.4", true),
            ("!= 1.11.4", false),
            ("> 1.11.4", false),
            ("<= 1.11", false),
            (">= 1.12.0-beta1", false),
        ] {
            assert_eq!(allows(text, v), Ok(expected), "{text}");
        }
        assert!(allows(">= one", v).is_err());
        assert!(allows("", v).is_err());
    }
}
