//! `braid promote --from ENV --to ENV [--only NAME…] | --release VERSION --to ENV`: the
//! images one environment runs, or a release file pins, written into another environment's
//! overlay as a commit on a new branch, and that environment's plan with it
//! (docs/workflow.md#promotion).

use std::collections::BTreeMap;

use clap::Args;
use serde_json::json;

use super::{CommandResult, Context, EXIT_OK};
use crate::diag::Diagnostic;
use crate::ops::promote::{self, FileChange, ImageRef};
use crate::plan::{PlanOptions, SilentObserver};
use crate::source::Pin;
use crate::view::Format;
use crate::view::plan as plan_view;
use crate::workspace::{Workspace, open_state_only};

#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The environment whose applied images are promoted.
    #[arg(
        long,
        value_name = "ENV",
        required_unless_present = "release",
        conflicts_with = "release"
    )]
    pub from: Option<String>,
    /// The environment whose overlay receives them.
    #[arg(long, value_name = "ENV")]
    pub to: String,
    /// Promote only these workloads (repeat the flag).
    #[arg(long = "only", value_name = "NAME")]
    pub only: Vec<String>,
    /// Promote the images releases/VERSION.yaml pins instead.
    #[arg(long, value_name = "VERSION")]
    pub release: Option<String>,
    /// Chart values to promote (dotted paths such as image.tag; repeat the flag). Without
    /// it, charts get image.tag and image.digest where the source environment has them.
    #[arg(long = "value", value_name = "PATH", requires = "from")]
    pub values: Vec<String>,
    /// The new branch (default promote/TO-from-FROM-TIME, or release/VERSION-TO).
    #[arg(long)]
    pub branch: Option<String>,
}

pub async fn run(cx: &Context, args: &PromoteArgs) -> CommandResult {
    let base = cx.global.load_options()?;
    let mut chart_values = None;
    let wanted = match (&args.from, &args.release) {
        (Some(from), _) => {
            if from == &args.to {
                return Err(Diagnostic::error(
                    "Nothing to promote",
                    format!("--from and --to both name \"{from}\"; promote from one environment to another."),
                )
                .into());
            }
            let mut options = base.clone().allowing_missing_variables();
            options.env = Some(from.clone());
            let (env, store) = open_state_only(&options)?;
            chart_values = Some(promote::chart_values_from_state(store.as_ref()).await?);
            promote::wanted_from_state(store.as_ref(), &env).await?
        }
        (None, Some(version)) => promote::wanted_from_release(&base.dir, version)?,
        (None, None) => unreachable!("clap requires --from or --release"),
    };
    let mut to_options = base.clone();
    to_options.env = Some(args.to.clone());
    let ws = Workspace::load(&to_options)?;
    let mut promotion = promote::plan_promotion(&ws, &wanted, &args.only)?;
    if let Some(values) = &chart_values {
        promote::plan_values(&ws, values, &args.values, &wanted.origin, &mut promotion)?;
    }
    let json_out = cx.shell.format() == Format::Json;
    if promotion.changes.is_empty() && promotion.values.is_empty() {
        let text = format!(
            "Nothing to promote: environment {} already runs the images of {}.\n{}",
            args.to,
            wanted.origin,
            skipped_text(&promotion.skipped)
        );
        cx.shell
            .result(&text, json!({ "promotion": promotion, "commit": null }));
        return Ok(EXIT_OK);
    }
    let stamp = crate::config::window::clock()?
        .format("%Y%m%d%H%M%S")
        .to_string();
    let branch = args
        .branch
        .clone()
        .unwrap_or_else(|| match (&args.from, &args.release) {
            (Some(from), _) => format!("promote/{}-from-{from}-{stamp}", args.to),
            (None, Some(version)) => format!("release/{version}-{}", args.to),
            (None, None) => format!("promote/{}-{stamp}", args.to),
        });
    let mut message = format!("Promote {} to {}\n\n", wanted.origin, args.to);
    for change in &promotion.changes {
        message.push_str(&format!(
            "{}/{}: {} -> {}\n",
            change.service,
            change.container,
            change.from,
            change.to.text()
        ));
    }
    for value in &promotion.values {
        message.push_str(&format!("{}\n", value_line(value, false)));
    }
    // One commit per repository (usually one: the deploy repository).
    let mut by_repo: BTreeMap<&std::path::Path, Vec<&FileChange>> = BTreeMap::new();
    for file in &promotion.files {
        by_repo.entry(file.repo.as_path()).or_default().push(file);
    }
    let actor = crate::actor::actor(&base.dir);
    let mut commits = Vec::new();
    for (repo, files) in &by_repo {
        let commit = promote::commit(repo, files, &branch, &message, (&actor, "braid@localhost"))?;
        commits.push((repo.to_path_buf(), commit));
    }
    // The target environment's plan with the promoted files.
    let mut pins = to_options.sources.pins.clone();
    for file in &promotion.files {
        if let Some((_, commit)) = commits.iter().find(|(repo, _)| *repo == file.repo) {
            pins.insert(
                file.source.clone(),
                Pin {
                    commit: commit.clone(),
                    reference: Some(branch.clone()),
                    tag: None,
                    full_ref: Some(format!("refs/heads/{branch}")),
                },
            );
        }
    }
    let mut plan_options = to_options.clone();
    plan_options.sources.pins = pins;
    let prepared = crate::ops::prepare(&cx.registry, &plan_options).await?;
    let plan = crate::ops::plan(&prepared, &PlanOptions::default(), &SilentObserver).await?;
    if json_out {
        cx.shell.json(&json!({
            "promotion": promotion,
            "branch": branch,
            "commits": commits.iter().map(|(repo, c)| json!({"repository": repo.display().to_string(), "commit": c})).collect::<Vec<_>>(),
            "plan": plan_view::to_json_value(&plan),
        }));
        return Ok(EXIT_OK);
    }
    let mut text = format!("Promoting {} to environment {}:\n", wanted.origin, args.to);
    for change in &promotion.changes {
        text.push_str(&format!(
            "  {}/{}: {} -> {}\n",
            change.service,
            change.container,
            change.from,
            shown(&change.to)
        ));
    }
    for value in &promotion.values {
        text.push_str(&format!("  {}\n", value_line(value, true)));
    }
    text.push_str(&skipped_text(&promotion.skipped));
    for (repo, commit) in &commits {
        let files: Vec<&str> = promotion
            .files
            .iter()
            .filter(|f| &f.repo == repo)
            .map(|f| f.path.as_str())
            .collect();
        text.push_str(&format!(
            "Committed {} on the new branch {branch} of {} ({}); the work tree and the current branch are unchanged. Push the branch and open a pull request to apply it.\n\n",
            &commit[..12.min(commit.len())],
            repo.display(),
            files.join(", ")
        ));
    }
    text.push_str(&plan_view::render_human(&plan, cx.shell.style()));
    cx.shell.out(&text);
    Ok(EXIT_OK)
}

/// `chart web image.tag (values-prod.yaml): "1.0" -> "1.1"`; the file only when `file`.
fn value_line(value: &promote::ValueChange, file: bool) -> String {
    format!(
        "chart {} {}{}: {} -> {}",
        value.source,
        value.path,
        if file {
            format!(" ({})", value.file)
        } else {
            String::new()
        },
        value
            .from
            .as_ref()
            .map_or_else(|| "(unset)".to_string(), ToString::to_string),
        value.to
    )
}

/// A tag and a digest both shown: the digest is what is pinned, the tag says which it is.
fn shown(image: &ImageRef) -> String {
    match (&image.tag, &image.digest) {
        (Some(tag), Some(digest)) => format!("{tag} ({digest}, pinned by digest)"),
        (Some(tag), None) => tag.clone(),
        (None, Some(digest)) => digest.clone(),
        (None, None) => image.name.clone(),
    }
}

fn skipped_text(skipped: &[String]) -> String {
    skipped
        .iter()
        .map(|s| format!("  not promoted: {s}\n"))
        .collect()
}
