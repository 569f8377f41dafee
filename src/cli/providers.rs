//! `braid providers`: which provider serves each provider configuration the environment uses
//! — a Terraform provider plugin (source, version, protocol, executable) or one built into
//! braid — and the resource types and data sources it serves there.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{CommandResult, Context, EXIT_OK};
use crate::diag::state_error;
use crate::providers::plugins;
use crate::view::Format;
use crate::workspace::Workspace;

/// One provider configuration in the report.
#[derive(Debug, Serialize)]
struct ProviderLine {
    /// `aws`, `aws.west`.
    name: String,
    /// `plugin`, `builtin`, or `unknown` (no provider of that name).
    served_by: &'static str,
    /// The plugin's source address.
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    /// The plugin's version.
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    /// The plugin protocol braid speaks with it (5 or 6), from its handshake.
    #[serde(skip_serializing_if = "Option::is_none")]
    protocol: Option<u32>,
    /// Why the plugin could not be started to learn its protocol.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// The plugin executable.
    #[serde(skip_serializing_if = "Option::is_none")]
    binary: Option<String>,
    /// The types configuration uses (`data.` before data sources).
    types: Vec<String>,
}

/// The protocol braid and the plugin agree on, from its handshake: the plugin is started
/// and stopped again (the `_x5` of a package's file name is only what it was built for).
async fn protocol_of(executable: &std::path::Path) -> Result<u32, String> {
    braid_provider_terraform::negotiated_protocol(executable)
        .await
        .map_err(|e| e.to_string())
}

pub async fn run(cx: &Context) -> CommandResult {
    let ws = Workspace::load(&cx.global.load_options()?)?;
    let store = ws.open_state()?;
    let records = store.resources().await.map_err(state_error)?;
    let names = ws.provider_names(records.into_iter().map(|r| r.provider));
    let mut types: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for decl in ws.module.resources.values() {
        let name = if decl.data {
            format!("data.{}", decl.type_name)
        } else {
            decl.type_name.clone()
        };
        types
            .entry(decl.provider.as_str())
            .or_default()
            .insert(name);
    }
    let choices = plugins::choose(&ws.module.terraform, &ws.project, &names)?;
    let mut protocols = BTreeMap::new();
    for choice in &choices {
        let protocol = protocol_of(&choice.package.executable).await;
        protocols.insert(choice.name.clone(), protocol);
    }
    let lines: Vec<ProviderLine> = names
        .iter()
        .map(|name| {
            let used = types
                .get(name.as_str())
                .map(|t| t.iter().cloned().collect())
                .unwrap_or_default();
            let base = name.split('.').next().unwrap_or(name);
            match choices.iter().find(|c| &c.name == name) {
                Some(choice) => {
                    let (protocol, error) = match protocols.get(name) {
                        Some(Ok(version)) => (Some(*version), None),
                        Some(Err(e)) => (None, Some(e.clone())),
                        None => (None, None),
                    };
                    ProviderLine {
                        name: name.clone(),
                        served_by: "plugin",
                        source: Some(choice.address.to_string()),
                        version: Some(choice.package.version.to_string()),
                        protocol,
                        error,
                        binary: Some(choice.package.executable.display().to_string()),
                        types: used,
                    }
                }
                None => ProviderLine {
                    name: name.clone(),
                    served_by: if cx.registry.contains(base) {
                        "builtin"
                    } else {
                        "unknown"
                    },
                    source: None,
                    version: None,
                    protocol: None,
                    error: None,
                    binary: None,
                    types: used,
                },
            }
        })
        .collect();
    if cx.shell.format() == Format::Json {
        #[derive(Serialize)]
        struct Document<'a> {
            env: &'a str,
            providers: &'a [ProviderLine],
        }
        cx.shell.json(&Document {
            env: &ws.env_name,
            providers: &lines,
        });
        return Ok(EXIT_OK);
    }
    let mut out = String::new();
    for line in &lines {
        match line.served_by {
            "plugin" => {
                out.push_str(&format!(
                    "{}: plugin {} {}{}\n  {}\n",
                    line.name,
                    line.source.as_deref().unwrap_or_default(),
                    line.version.as_deref().unwrap_or_default(),
                    line.protocol
                        .map(|p| format!(" (protocol {p})"))
                        .unwrap_or_default(),
                    line.binary.as_deref().unwrap_or_default()
                ));
                if let Some(error) = &line.error {
                    out.push_str(&format!("  cannot start: {error}\n"));
                }
            }
            "builtin" => out.push_str(&format!("{}: built into braid\n", line.name)),
            _ => out.push_str(&format!("{}: no provider of this name\n", line.name)),
        }
        if !line.types.is_empty() {
            out.push_str(&format!("  types: {}\n", line.types.join(", ")));
        }
    }
    if lines.is_empty() {
        out.push_str("No provider is used by this configuration or its state.\n");
    }
    cx.shell.out(&out);
    Ok(EXIT_OK)
}
