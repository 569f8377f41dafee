//! Terraform's state file, format version 4 (Terraform 0.12 and later; what
//! `terraform state pull` prints): its resources and instances, with their addresses in
//! braid's notation.
//!
//! Only what an import needs is read; unknown fields are ignored, as Terraform itself does
//! for fields of later 1.x releases. Nothing here prints or logs a value: state files hold
//! secrets.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::config::InstanceKey;
use crate::diag::Diagnostic;

/// The only state format version braid reads.
pub const SUPPORTED_VERSION: u64 = 4;

/// A Terraform state file.
#[derive(Debug, Clone)]
pub struct TerraformState {
    /// `terraform_version`: the Terraform release that wrote it.
    pub terraform_version: String,
    /// `serial`.
    pub serial: u64,
    /// `lineage`.
    pub lineage: String,
    /// Root module outputs, by name.
    pub outputs: BTreeMap<String, TerraformOutput>,
    /// Every resource, managed and data, in file order.
    pub resources: Vec<TerraformResource>,
}

/// One root module output.
#[derive(Debug, Clone, Deserialize)]
pub struct TerraformOutput {
    /// Its value, as JSON.
    pub value: serde_json::Value,
    /// Declared `sensitive = true`.
    #[serde(default)]
    pub sensitive: bool,
}

/// `managed` (a `resource` block) or `data` (a `data` block).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// A resource Terraform manages.
    Managed,
    /// A data source: read on every plan, nothing to adopt.
    Data,
}

/// One resource (all instances of one block).
#[derive(Debug, Clone, Deserialize)]
pub struct TerraformResource {
    /// `managed` or `data`.
    pub mode: Mode,
    /// `aws_s3_bucket`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The block's name.
    pub name: String,
    /// `module.a["k"].module.b` when the resource is in a module, as Terraform writes it.
    #[serde(default)]
    pub module: Option<String>,
    /// `provider["registry.terraform.io/hashicorp/aws"]`, maybe with `.ALIAS`.
    pub provider: String,
    /// Its instances (one without a key unless `count`/`for_each`).
    #[serde(default)]
    pub instances: Vec<TerraformInstance>,
}

/// One instance of a resource, as Terraform recorded its object.
#[derive(Debug, Clone, Deserialize)]
pub struct TerraformInstance {
    /// `count.index` (a number) or `each.key` (a string).
    #[serde(default)]
    pub index_key: Option<serde_json::Value>,
    /// The provider's schema version of `attributes`.
    #[serde(default)]
    pub schema_version: u64,
    /// The object's attributes in the Terraform provider's shape.
    #[serde(default)]
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
    /// Paths into `attributes` that are sensitive: lists of steps
    /// `{"type": "get_attr"|"index", "value": NAME|KEY}`.
    #[serde(default)]
    pub sensitive_attributes: Vec<serde_json::Value>,
    /// Resources this one depended on when applied (`aws_x.y`, `module.m.aws_x.y`).
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// `tainted` when the object must be replaced by the next apply.
    #[serde(default)]
    pub status: Option<String>,
    /// The provider's private data for the object, base64 (Terraform plugins only).
    #[serde(default)]
    pub private: Option<String>,
    /// Set for a deposed object (an old object `create_before_destroy` has not deleted yet).
    #[serde(default)]
    pub deposed: Option<String>,
}

/// The fields of the file an import reads (`version` is checked before).
#[derive(Deserialize)]
struct Document {
    #[serde(default)]
    terraform_version: String,
    #[serde(default)]
    serial: u64,
    #[serde(default)]
    lineage: String,
    #[serde(default)]
    outputs: BTreeMap<String, TerraformOutput>,
    #[serde(default)]
    resources: Vec<TerraformResource>,
}

/// Parses a Terraform state file. `name` is how messages call the file.
pub fn parse(name: &str, text: &str) -> Result<TerraformState, Diagnostic> {
    // Read the version first, so that a state of another format is reported as such and
    // not as a field this format does not have.
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| invalid_json(name, &e))?;
    let version = value.get("version").and_then(serde_json::Value::as_u64);
    match version {
        Some(SUPPORTED_VERSION) => {}
        Some(found) if found < SUPPORTED_VERSION => {
            return Err(Diagnostic::error(
                "Unsupported Terraform state version",
                format!(
                    "{name} is a Terraform state of format version {found}, written by Terraform 0.11 or older. braid reads format version {SUPPORTED_VERSION} (Terraform 0.12 and later). Upgrade the state first: run terraform 0.12 or later on the configuration (terraform init, then terraform apply or terraform refresh), then terraform state pull > tf.json and import that."
                ),
            ));
        }
        Some(found) => {
            return Err(Diagnostic::error(
                "Unsupported Terraform state version",
                format!(
                    "{name} is a Terraform state of format version {found}, newer than the version {SUPPORTED_VERSION} braid reads. A newer braid may read it; until then pull the state with a Terraform release that writes version {SUPPORTED_VERSION} (every 1.x release does)."
                ),
            ));
        }
        None => {
            return Err(Diagnostic::error(
                "Not a Terraform state",
                format!(
                    "{name} is JSON, but has no numeric \"version\" field: it is not a Terraform state file. Write one with terraform state pull > tf.json."
                ),
            ));
        }
    }
    // From the text again: attribute values keep every digit of their numbers, which a
    // `serde_json::Value` would round to `f64`.
    let document: Document = serde_json::from_str(text).map_err(|e| {
        Diagnostic::error(
            "Invalid Terraform state",
            format!(
                "{name} is not a valid Terraform state of format version {SUPPORTED_VERSION}: {e}. Pull it again with terraform state pull."
            ),
        )
    })?;
    Ok(TerraformState {
        terraform_version: document.terraform_version,
        serial: document.serial,
        lineage: document.lineage,
        outputs: document.outputs,
        resources: document.resources,
    })
}

/// The position of a JSON syntax error, never the line itself: state files hold secrets.
fn invalid_json(name: &str, e: &serde_json::Error) -> Diagnostic {
    let what = match e.classify() {
        serde_json::error::Category::Eof => "the file ends too early".to_string(),
        _ => {
            // serde_json's message ends with " at line L column C"; the position is given
            // separately below.
            let text = e.to_string();
            text.split(" at line ").next().unwrap_or(&text).to_string()
        }
    };
    Diagnostic::error(
        "Invalid Terraform state",
        format!(
            "{name}:{}:{}: not valid JSON: {what}. A Terraform state file is the JSON that terraform state pull prints.",
            e.line(),
            e.column()
        ),
    )
}

impl TerraformResource {
    /// The provider's source address and alias from `provider["ADDR"].ALIAS`.
    pub fn provider_address(&self) -> (String, Option<String>) {
        let text = self.provider.as_str();
        let Some(rest) = text.strip_prefix("provider[\"") else {
            return (text.to_string(), None);
        };
        let Some((source, tail)) = rest.split_once("\"]") else {
            return (text.to_string(), None);
        };
        let alias = tail
            .strip_prefix('.')
            .filter(|a| !a.is_empty())
            .map(str::to_string);
        (source.to_string(), alias)
    }

    /// `module.a["k"].module.b.` (braid's key notation) or empty for the root module;
    /// `None` when the module path cannot be read.
    pub fn module_prefix(&self) -> Option<String> {
        let Some(module) = self.module.as_deref().filter(|m| !m.is_empty()) else {
            return Some(String::new());
        };
        let mut out = String::new();
        for (name, key) in parse_module_path(module)? {
            out.push_str("module.");
            out.push_str(&name);
            if let Some(key) = key {
                out.push_str(&key.to_string());
            }
            out.push('.');
        }
        Some(out)
    }

    /// The resource's address without instance key: `module.m.aws_x.y`, `data.aws_x.y`.
    pub fn resource_address(&self) -> Option<String> {
        let data = if self.mode == Mode::Data { "data." } else { "" };
        Some(format!(
            "{}{data}{}.{}",
            self.module_prefix()?,
            self.type_name,
            self.name
        ))
    }
}

impl TerraformInstance {
    /// The instance key, or `None` for a single instance; `Err` for a key that is neither a
    /// whole non-negative number nor a string.
    pub fn key(&self) -> Result<Option<InstanceKey>, String> {
        match &self.index_key {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(InstanceKey::Key(s.clone()))),
            Some(serde_json::Value::Number(n)) => n
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .map(|n| Some(InstanceKey::Index(n)))
                .ok_or_else(|| format!("index_key {n} is not a whole number")),
            Some(other) => Err(format!(
                "index_key {other} is neither a number nor a string"
            )),
        }
    }
}

/// `module.a["k"].module.b[0]` → `[("a", Some(Key k)), ("b", Some(Index 0))]`. Keys are
/// quoted as Terraform writes them (Go string escapes).
fn parse_module_path(text: &str) -> Option<Vec<(String, Option<InstanceKey>)>> {
    let mut steps = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.strip_prefix("module.")?;
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        let name = &rest[..end];
        if name.is_empty() {
            return None;
        }
        rest = &rest[end..];
        let mut key = None;
        if let Some(inner) = rest.strip_prefix('[') {
            if let Some(quoted) = inner.strip_prefix('"') {
                let (value, after) = unquote(quoted)?;
                rest = after.strip_prefix(']')?;
                key = Some(InstanceKey::Key(value));
            } else {
                let close = inner.find(']')?;
                key = Some(InstanceKey::Index(inner[..close].parse().ok()?));
                rest = &inner[close + 1..];
            }
        }
        steps.push((name.to_string(), key));
        if rest.is_empty() {
            return Some(steps);
        }
        rest = rest.strip_prefix('.')?;
    }
}

/// Reads a quoted string's body up to its closing quote; returns the value and the text
/// after the quote.
fn unquote(text: &str) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &text[i + 1..])),
            '\\' => {
                let (_, escaped) = chars.next()?;
                match escaped {
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    'u' => {
                        let hex: String = (0..4)
                            .filter_map(|_| chars.next().map(|(_, c)| c))
                            .collect();
                        out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    }
                    _ => return None,
                }
            }
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(module: Option<&str>, provider: &str) -> TerraformResource {
        TerraformResource {
            mode: Mode::Managed,
            type_name: "aws_s3_bucket".into(),
            name: "logs".into(),
            module: module.map(str::to_string),
            provider: provider.into(),
            instances: vec![],
        }
    }

    #[test]
    fn module_paths_become_braid_addresses() {
        let r = resource(
            Some("module.a[\"k \\\"q\\\"\"].module.b[2]"),
            "provider[\"registry.terraform.io/hashicorp/aws\"]",
        );
        assert_eq!(
            r.resource_address().as_deref(),
            Some("module.a[\"k \\\"q\\\"\"].module.b[2].aws_s3_bucket.logs")
        );
        assert_eq!(
            resource(None, "x").resource_address().as_deref(),
            Some("aws_s3_bucket.logs")
        );
        assert_eq!(resource(Some("modul.a"), "x").resource_address(), None);
        assert_eq!(
            resource(Some("module.a[\"open"), "x").resource_address(),
            None
        );
    }

    #[test]
    fn provider_addresses_and_aliases() {
        let plain = resource(None, "provider[\"registry.terraform.io/hashicorp/aws\"]");
        assert_eq!(
            plain.provider_address(),
            ("registry.terraform.io/hashicorp/aws".to_string(), None)
        );
        let aliased = resource(
            None,
            "provider[\"registry.terraform.io/hashicorp/aws\"].west",
        );
        assert_eq!(
            aliased.provider_address(),
            (
                "registry.terraform.io/hashicorp/aws".to_string(),
                Some("west".to_string())
            )
        );
    }

    #[test]
    fn versions_other_than_4_are_refused() {
        let old = parse("tf.json", r#"{"version": 3, "serial": 1, "modules": []}"#)
            .expect_err("version 3");
        assert!(old.detail.contains("format version 3"), "{}", old.detail);
        let new = parse("tf.json", r#"{"version": 5}"#).expect_err("version 5");
        assert!(new.detail.contains("newer"), "{}", new.detail);
        let none = parse("tf.json", r#"{"serial": 1}"#).expect_err("no version");
        assert_eq!(none.summary, "Not a Terraform state");
    }

    #[test]
    fn malformed_json_is_reported_at_its_line_and_column_without_the_text() {
        let e = parse(
            "tf.json",
            "{\n  \"version\": 4,\n  \"secret\": \"hunter2\" oops\n}",
        )
        .expect_err("bad json");
        assert!(e.detail.starts_with("tf.json:3:"), "{}", e.detail);
        assert!(!e.detail.contains("hunter2"), "{}", e.detail);
    }

    #[test]
    fn instance_keys() {
        let with = |key: serde_json::Value| TerraformInstance {
            index_key: Some(key),
            schema_version: 0,
            attributes: None,
            sensitive_attributes: vec![],
            dependencies: vec![],
            status: None,
            private: None,
            deposed: None,
        };
        assert_eq!(
            with(serde_json::json!(1)).key(),
            Ok(Some(InstanceKey::Index(1)))
        );
        assert_eq!(
            with(serde_json::json!("a\"b"))
                .key()
                .map(|k| k.map(|k| k.to_string())),
            Ok(Some("[\"a\\\"b\"]".to_string()))
        );
        assert!(with(serde_json::json!(-1)).key().is_err());
    }
}
