//! The Terraform CLI configuration (`TF_CLI_CONFIG_FILE`, else `~/.terraformrc`): the
//! `provider_installation` block's `filesystem_mirror` and `network_mirror` entries and
//! their `include`/`exclude` rules, which say where providers come from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hcl_edit::expr::Expression;
use hcl_edit::structure::{Body, Structure};

use super::ProviderAddress;

/// Which providers an installation method serves: `include` patterns (all when empty) minus
/// `exclude` ones; a pattern is `HOST/NAMESPACE/TYPE` where `*` stands for any namespace or
/// type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MirrorRule {
    /// `include`
    pub include: Vec<String>,
    /// `exclude`
    pub exclude: Vec<String>,
}

impl MirrorRule {
    /// Whether the method may serve `address`.
    pub fn covers(&self, address: &ProviderAddress) -> bool {
        let matches = |pattern: &String| pattern_matches(pattern, address);
        (self.include.is_empty() || self.include.iter().any(matches))
            && !self.exclude.iter().any(matches)
    }
}

fn pattern_matches(pattern: &str, address: &ProviderAddress) -> bool {
    let Ok(wanted) = ProviderAddress::parse(&pattern.replace('*', "x-wildcard-x")) else {
        return false;
    };
    let part = |want: &str, have: &str| want == "x-wildcard-x" || want == have;
    wanted.host == address.host
        && part(&wanted.namespace, &address.namespace)
        && part(&wanted.type_name, &address.type_name)
}

/// What the CLI configuration says about provider installation.
#[derive(Debug, Clone, Default)]
pub struct CliConfig {
    /// The file read, when there is one.
    pub file: Option<PathBuf>,
    /// True when it has a `provider_installation` block: then only its methods are used,
    /// not `~/.terraform.d/plugins`.
    pub installation_block: bool,
    /// `filesystem_mirror { path include exclude }`, in order.
    pub filesystem_mirrors: Vec<(PathBuf, MirrorRule)>,
    /// `network_mirror { url include exclude }`, in order.
    pub network_mirrors: Vec<(String, MirrorRule)>,
    /// `direct { include exclude }`: the origin registries. `None` when the
    /// `provider_installation` block has no `direct` block (then no registry is asked);
    /// without a `provider_installation` block every provider may come from its registry.
    pub direct: Option<MirrorRule>,
    /// `plugin_cache_dir`.
    pub plugin_cache_dir: Option<PathBuf>,
    /// `host "NAME" { services = { "providers.v1" = URL } }`: service discovery answered by
    /// the configuration instead of `https://NAME/.well-known/terraform.json`.
    pub hosts: BTreeMap<String, BTreeMap<String, String>>,
}

impl CliConfig {
    /// What Terraform does without a `provider_installation` block: local plugin
    /// directories, then every provider's origin registry.
    pub fn implied() -> CliConfig {
        CliConfig {
            direct: Some(MirrorRule::default()),
            ..CliConfig::default()
        }
    }

    /// Reads the CLI configuration Terraform would: `TF_CLI_CONFIG_FILE` when set, else
    /// `~/.terraformrc` (`home`); none is an empty configuration.
    pub fn load(env_file: Option<&str>, home: Option<&Path>) -> Result<CliConfig, String> {
        let file = match env_file.filter(|f| !f.is_empty()) {
            Some(f) => PathBuf::from(f),
            None => match home {
                Some(h) => h.join(".terraformrc"),
                None => return Ok(CliConfig::implied()),
            },
        };
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && env_file.is_none() => {
                return Ok(CliConfig::implied());
            }
            Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
        };
        let mut config = CliConfig::parse(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        config.file = Some(file);
        Ok(config)
    }

    /// Reads the text of a CLI configuration file.
    pub fn parse(text: &str) -> Result<CliConfig, String> {
        let body = hcl_edit::parser::parse_body(text).map_err(|e| e.to_string())?;
        let mut config = CliConfig::implied();
        for structure in body.iter() {
            match structure {
                Structure::Attribute(attr) if attr.key.value().as_str() == "plugin_cache_dir" => {
                    config.plugin_cache_dir = string(&attr.value).map(PathBuf::from);
                }
                Structure::Block(block)
                    if block.ident.value().as_str() == "provider_installation" =>
                {
                    config.installation_block = true;
                    config.direct = None;
                    for method in block.body.blocks() {
                        let rule = MirrorRule {
                            include: strings(&method.body, "include"),
                            exclude: strings(&method.body, "exclude"),
                        };
                        // Terraform refuses patterns it cannot read; a silently
                        // unmatched `exclude` would let a provider through.
                        for pattern in rule.include.iter().chain(&rule.exclude) {
                            check_pattern(pattern)?;
                        }
                        match method.ident.value().as_str() {
                            "filesystem_mirror" => {
                                let path = attribute(&method.body, "path")
                                    .ok_or("a filesystem_mirror block needs path")?;
                                config.filesystem_mirrors.push((PathBuf::from(path), rule));
                            }
                            "network_mirror" => {
                                let url = attribute(&method.body, "url")
                                    .ok_or("a network_mirror block needs url")?;
                                config.network_mirrors.push((url, rule));
                            }
                            "direct" => config.direct = Some(rule),
                            // `dev_overrides` names local builds for development; braid
                            // does not use them.
                            _ => {}
                        }
                    }
                }
                Structure::Block(block) if block.ident.value().as_str() == "host" => {
                    let name = block
                        .labels
                        .first()
                        .map(|l| l.as_str().to_ascii_lowercase())
                        .ok_or("a host block needs the host name as its label")?;
                    let mut services = BTreeMap::new();
                    if let Some(Expression::Object(object)) =
                        block.body.get_attribute("services").map(|a| &a.value)
                    {
                        for (key, value) in object.iter() {
                            let key = match key {
                                hcl_edit::expr::ObjectKey::Ident(i) => i.as_str().to_string(),
                                hcl_edit::expr::ObjectKey::Expression(e) => {
                                    string(e).unwrap_or_default()
                                }
                            };
                            if let Some(url) = string(value.expr()) {
                                services.insert(key, url);
                            }
                        }
                    }
                    config.hosts.insert(name, services);
                }
                _ => {}
            }
        }
        Ok(config)
    }
}

/// A pattern is `[HOST/]NAMESPACE/TYPE` where the namespace and type may be `*` (and the
/// type only when the namespace is).
fn check_pattern(pattern: &str) -> Result<(), String> {
    let parts: Vec<&str> = pattern.split('/').collect();
    let (host, namespace, type_name) = match parts.as_slice() {
        [h, n, t] => (*h, *n, *t),
        [n, t] => ("", *n, *t),
        _ => {
            return Err(format!(
                "\"{pattern}\" is not a provider pattern: write HOST/NAMESPACE/TYPE, where NAMESPACE and TYPE may be *"
            ));
        }
    };
    let readable = ProviderAddress::parse(&pattern.replace('*', "x-wildcard-x")).is_ok()
        && !host.contains('*')
        && !(namespace == "*" && type_name != "*")
        && [namespace, type_name]
            .iter()
            .all(|p| *p == "*" || !p.contains('*'));
    if readable {
        Ok(())
    } else {
        Err(format!(
            "\"{pattern}\" is not a provider pattern: write HOST/NAMESPACE/TYPE, where NAMESPACE and TYPE may be * (as registry.terraform.io/hashicorp/*)"
        ))
    }
}

fn string(expr: &Expression) -> Option<String> {
    match expr {
        Expression::String(s) => Some(s.value().to_string()),
        _ => None,
    }
}

fn attribute(body: &Body, name: &str) -> Option<String> {
    body.get_attribute(name).and_then(|a| string(&a.value))
}

fn strings(body: &Body, name: &str) -> Vec<String> {
    match body.get_attribute(name).map(|a| &a.value) {
        Some(Expression::Array(items)) => items.iter().filter_map(string).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_and_their_rules() {
        let config = CliConfig::parse(
            r#"
plugin_cache_dir = "/cache"
provider_installation {
  filesystem_mirror {
    path    = "/opt/tf-plugins"
    include = ["registry.terraform.io/hashicorp/*"]
    exclude = ["registry.terraform.io/hashicorp/google"]
  }
  network_mirror {
    url = "https://mirror.example.com/providers/"
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/*"]
  }
}
"#,
        )
        .expect("valid");
        assert!(config.installation_block);
        assert_eq!(config.plugin_cache_dir, Some(PathBuf::from("/cache")));
        let (path, rule) = &config.filesystem_mirrors[0];
        assert_eq!(path, &PathBuf::from("/opt/tf-plugins"));
        let aws = ProviderAddress::parse("hashicorp/aws").expect("valid");
        let google = ProviderAddress::parse("hashicorp/google").expect("valid");
        let other = ProviderAddress::parse("acme/aws").expect("valid");
        assert!(rule.covers(&aws));
        assert!(!rule.covers(&google));
        assert!(!rule.covers(&other));
        assert_eq!(
            config.network_mirrors[0].0,
            "https://mirror.example.com/providers/"
        );
        let direct = config.direct.as_ref().expect("a direct block");
        assert!(!direct.covers(&aws));
        assert!(direct.covers(&other));
        let implied = CliConfig::parse(
            "host \"registry.example.com\" {\n  services = {\n    \"providers.v1\" = \"http://127.0.0.1:1/v1/providers/\"\n  }\n}\n",
        )
        .expect("valid");
        assert!(
            implied.direct.is_some(),
            "registries are asked without provider_installation"
        );
        assert_eq!(
            implied.hosts["registry.example.com"]["providers.v1"],
            "http://127.0.0.1:1/v1/providers/"
        );
        assert!(CliConfig::parse("provider_installation {\n  filesystem_mirror {}\n}\n").is_err());
        for bad in [
            "*/*/*",
            "hashicorp/aws*",
            "registry.terraform.io/*/aws",
            "a/b/c/d",
        ] {
            assert!(
                CliConfig::parse(&format!(
                    "provider_installation {{\n  direct {{\n    exclude = [\"{bad}\"]\n  }}\n}}\n"
                ))
                .is_err(),
                "{bad}"
            );
        }
    }
}
