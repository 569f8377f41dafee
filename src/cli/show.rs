//! `braid show`: a saved plan, or what state holds.

use std::path::PathBuf;

use braid_provider::{Path, Value};
use clap::Args;
use serde::Serialize;

use super::{CommandResult, Context, EXIT_OK};
use crate::plan::{file, mask};
use crate::view::values::value_text;
use crate::view::{Format, plan as plan_view};
use crate::workspace::Workspace;

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A saved plan file; without it, show the environment's state.
    #[arg(value_name = "PLAN_FILE")]
    pub plan_file: Option<PathBuf>,
}

pub async fn run(cx: &Context, args: &ShowArgs) -> CommandResult {
    if let Some(path) = &args.plan_file {
        let plan = file::load(path, super::plan_keyring(cx).as_deref()).await?;
        match cx.shell.format() {
            Format::Json => cx.shell.out(&(plan_view::to_json(&plan) + "\n")),
            Format::Markdown => cx.shell.out(&plan_view::render_markdown(&plan)),
            Format::Human => cx
                .shell
                .out(&plan_view::render_human(&plan, cx.shell.style())),
        }
        return Ok(EXIT_OK);
    }
    let ws = Workspace::load(&cx.global.load_options()?.allowing_missing_variables())?;
    let store = ws.open_state()?;
    let meta = store.meta().await.map_err(crate::diag::state_error)?;
    let records = store.resources().await.map_err(crate::diag::state_error)?;
    if cx.shell.format() == Format::Json {
        let resources: Vec<_> = records
            .iter()
            .map(|r| {
                let mut attributes = r.attributes.clone();
                mask(&mut attributes, &r.sensitive_paths);
                ShownResource {
                    address: &r.address,
                    provider: &r.provider,
                    kind: &r.type_name,
                    id: &r.id,
                    attributes,
                    sensitive_paths: &r.sensitive_paths,
                    depends_on: &r.dependencies,
                    source_file: &r.source_file,
                }
            })
            .collect();
        // Structs rather than `json!`, so that numbers keep every digit.
        cx.shell.json(&ShowDocument {
            env: &ws.env_name,
            lineage: &meta.lineage,
            serial: meta.serial,
            resources,
        });
        return Ok(EXIT_OK);
    }
    if records.is_empty() {
        cx.shell.out(&format!(
            "The state of environment \"{}\" is empty. Run braid apply to create resources.\n",
            ws.env_name
        ));
        return Ok(EXIT_OK);
    }
    let style = cx.shell.style();
    let mut text = format!(
        "{} environment {} · lineage {} · serial {}\n\n",
        style.bold("braid state"),
        style.bold(&ws.env_name),
        meta.lineage,
        meta.serial
    );
    for r in &records {
        text.push_str(&format!("# {}:", style.bold(&r.address)));
        if let Some(file) = &r.source_file {
            text.push_str(&format!(" (from {file})"));
        }
        text.push('\n');
        text.push_str(&format!(
            "{}\n\n",
            value_text(&r.attributes, &mut Path::root(), &r.sensitive_paths, 0)
        ));
    }
    cx.shell.out(&text);
    Ok(EXIT_OK)
}

/// `braid show --format json`.
#[derive(Serialize)]
struct ShowDocument<'a> {
    env: &'a str,
    lineage: &'a str,
    serial: u64,
    resources: Vec<ShownResource<'a>>,
}

/// One resource of [`ShowDocument`], its sensitive attributes masked.
#[derive(Serialize)]
struct ShownResource<'a> {
    address: &'a str,
    provider: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    id: &'a Option<String>,
    attributes: Value,
    sensitive_paths: &'a [Path],
    depends_on: &'a [String],
    source_file: &'a Option<String>,
}
