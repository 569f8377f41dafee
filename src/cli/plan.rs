//! `braid plan`

use std::path::PathBuf;

use clap::Args;

use super::{CommandResult, Context, EXIT_CHANGES, EXIT_OK};
use crate::ops;
use crate::plan::{PlanMode, PlanOptions, SilentObserver, file};
use crate::view::{Format, plan as plan_view};

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Save the plan to FILE, for `braid apply FILE`. Without FILE, store it in the
    /// environment's state backend as the reviewed plan of these sources, for `braid apply
    /// --reviewed` after the merge.
    #[arg(long, value_name = "FILE", num_args = 0..=1)]
    pub out: Option<Option<PathBuf>>,
    /// Read live objects first (--refresh=false compares against state only).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub refresh: bool,
    /// Plan only the comparison of state with live objects.
    #[arg(long, conflicts_with = "destroy")]
    pub refresh_only: bool,
    /// Plan deleting everything.
    #[arg(long)]
    pub destroy: bool,
    /// How many provider calls run at once.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub parallelism: usize,
    /// Exit 2 when the plan has changes (0 when it has none, 1 on error).
    #[arg(long)]
    pub detailed_exitcode: bool,
    #[command(flatten)]
    pub targeting: TargetArgs,
    #[command(flatten)]
    pub comment: CommentArgs,
}

/// `--comment` and where to post it (by default from the CI's environment).
#[derive(Debug, Clone, Default, Args)]
pub struct CommentArgs {
    /// Post on the pull request (GitHub) or merge request (GitLab): the plan (braid plan),
    /// or what the reviewed plan did or why it was refused (braid apply --reviewed),
    /// updating braid's earlier comment there. Token from GITHUB_TOKEN / GITLAB_TOKEN.
    #[arg(long)]
    pub comment: bool,
    /// Where to post, when not in GitHub Actions or GitLab CI.
    #[arg(long, value_enum, value_name = "FORGE", requires = "comment")]
    pub comment_on: Option<ForgeArg>,
    /// The repository (OWNER/NAME) or GitLab project (path or id); default from the CI.
    #[arg(long, value_name = "REPO", requires = "comment")]
    pub comment_repo: Option<String>,
    /// The pull request's number (GitLab: the merge request's iid); default from the CI.
    #[arg(long, value_name = "N", requires = "comment")]
    pub comment_pr: Option<u64>,
    /// The API's base URL (GitHub Enterprise, self-hosted GitLab); default from the CI,
    /// else api.github.com / gitlab.com.
    #[arg(long, value_name = "URL", requires = "comment")]
    pub comment_api: Option<String>,
}

/// `--comment-on`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ForgeArg {
    /// A GitHub pull request.
    Github,
    /// A GitLab merge request.
    Gitlab,
}

impl CommentArgs {
    /// Posts `plans` when `--comment` was given, saying so on stderr; `stored`: they were
    /// stored as reviewed plans, which the comment says.
    async fn post(
        &self,
        cx: &Context,
        plans: &[crate::plan::Plan],
        stored: bool,
    ) -> Result<(), crate::diag::Diagnostics> {
        if !self.comment {
            return Ok(());
        }
        let mut body = crate::view::markdown::render(plans, crate::view::markdown::COMMENT_BUDGET);
        if stored {
            body.push_str(crate::view::markdown::REVIEWED_NOTE);
        }
        let marker = if plans.iter().all(|p| p.mode == PlanMode::RefreshOnly) {
            crate::view::markdown::DRIFT_MARKER
        } else {
            crate::view::markdown::MARKER
        };
        self.post_text(cx, &body, marker).await
    }

    /// With `--comment`, posts that planning failed with `diagnostics` (replacing the last
    /// plan comment), then returns them: the command still fails.
    async fn post_failure(
        &self,
        cx: &Context,
        diagnostics: crate::diag::Diagnostics,
    ) -> crate::diag::Diagnostics {
        if !self.comment {
            return diagnostics;
        }
        let body = crate::view::markdown::render_failure(
            &cx.global.envs,
            &diagnostics,
            crate::view::markdown::COMMENT_BUDGET,
        );
        let mut diagnostics = diagnostics;
        if let Err(more) = self
            .post_text(cx, &body, crate::view::markdown::MARKER)
            .await
        {
            diagnostics.extend(more);
        }
        diagnostics
    }

    /// Where the flags and the CI's environment say to comment, filling what they leave
    /// open from `thread` (the pull request a reviewed plan was commented on).
    pub(super) fn target(
        &self,
        thread: Option<&crate::ops::reviewed::ReviewThread>,
    ) -> Result<crate::ops::comment::CommentTarget, crate::diag::Diagnostics> {
        use crate::ops::comment::{CommentFlags, CommentTarget, Forge};
        let stored_forge = thread.and_then(|t| match t.forge.as_str() {
            "github" => Some(Forge::GitHub),
            "gitlab" => Some(Forge::GitLab),
            _ => None,
        });
        let flags = CommentFlags {
            forge: self
                .comment_on
                .map(|f| match f {
                    ForgeArg::Github => Forge::GitHub,
                    ForgeArg::Gitlab => Forge::GitLab,
                })
                .or(stored_forge),
            repository: self
                .comment_repo
                .clone()
                .or_else(|| thread.map(|t| t.repository.clone())),
            number: self.comment_pr.or_else(|| thread.map(|t| t.number)),
            api: self
                .comment_api
                .clone()
                .or_else(|| thread.map(|t| t.api.clone())),
        };
        CommentTarget::resolve(&flags, |name| std::env::var(name).ok())
    }

    /// The review thread to record with a stored plan: where `--comment` posts, if given.
    fn thread(&self) -> Option<crate::ops::reviewed::ReviewThread> {
        if !self.comment {
            return None;
        }
        let target = self.target(None).ok()?;
        Some(crate::ops::reviewed::ReviewThread {
            forge: match target.forge {
                crate::ops::comment::Forge::GitHub => "github",
                crate::ops::comment::Forge::GitLab => "gitlab",
            }
            .to_string(),
            repository: target.repository,
            number: target.number,
            api: target.api,
        })
    }

    async fn post_text(
        &self,
        cx: &Context,
        body: &str,
        marker: &str,
    ) -> Result<(), crate::diag::Diagnostics> {
        let target = self.target(None)?;
        post_to(cx, &target, body, marker, "the plan").await
    }
}

/// Posts `body` on `target` (updating braid's comment holding `marker`), saying so on
/// stderr; `what` names what was posted.
pub(super) async fn post_to(
    cx: &Context,
    target: &crate::ops::comment::CommentTarget,
    body: &str,
    marker: &str,
    what: &str,
) -> Result<(), crate::diag::Diagnostics> {
    use crate::ops::comment::{Forge, Posted, post_comment};
    {
        let posted = post_comment(target, body, marker).await?;
        let place = match target.forge {
            Forge::GitHub => format!("pull request #{} of {}", target.number, target.repository),
            Forge::GitLab => format!("merge request !{} of {}", target.number, target.repository),
        };
        cx.shell.err(&match posted {
            Posted::Created(id) => format!("Posted {what} on {place} (comment {id}).\n"),
            Posted::Updated(id) => format!("Updated {what} comment on {place} (comment {id}).\n"),
        });
        Ok(())
    }
}

/// `--target` and `--replace` (also written `-target`, `-replace` as in Terraform).
#[derive(Debug, Clone, Default, Args)]
pub struct TargetArgs {
    /// Plan only this resource and what it depends on (repeatable). Not for routine use.
    #[arg(long = "target", value_name = "ADDR")]
    pub target: Vec<String>,
    /// Replace this resource even if nothing forces it (repeatable).
    #[arg(long = "replace", value_name = "ADDR")]
    pub replace: Vec<String>,
}

impl TargetArgs {
    /// Terraform's warning when a plan is limited to targets.
    pub fn warn(&self, cx: &Context) {
        if self.target.is_empty() {
            return;
        }
        cx.shell.diagnostics(&crate::diag::Diagnostics::from(crate::diag::Diagnostic::warning(
            "Resource targeting is in effect",
            "You are planning with --target, so the plan may not contain all the changes the configuration asks for: only the targeted resources and what they depend on are read and planned. --target is for exceptional situations, such as recovering from mistakes; it is not for routine use.",
        )));
    }
}

pub async fn run(cx: &Context, args: &PlanArgs) -> CommandResult {
    if cx.global.envs.len() > 1 {
        return run_many(cx, args).await;
    }
    let prepared = match cx.prepare().await {
        Ok(prepared) => prepared,
        Err(d) => return Err(args.comment.post_failure(cx, d).await),
    };
    let mode = if args.destroy {
        PlanMode::Destroy
    } else if args.refresh_only {
        PlanMode::RefreshOnly
    } else {
        PlanMode::Normal
    };
    let options = PlanOptions {
        mode,
        refresh: args.refresh,
        parallelism: args.parallelism,
        targets: args.targeting.target.clone(),
        replace: args.targeting.replace.clone(),
    };
    args.targeting.warn(cx);
    let plan = match ops::plan(&prepared, &options, &SilentObserver).await {
        Ok(plan) => plan,
        Err(d) => return Err(args.comment.post_failure(cx, d).await),
    };
    match cx.shell.format() {
        Format::Json => cx.shell.out(&(plan_view::to_json(&plan) + "\n")),
        Format::Markdown => cx.shell.out(&plan_view::render_markdown(&plan)),
        Format::Human if !cx.shell.is_quiet() => cx
            .shell
            .out(&plan_view::render_human(&plan, cx.shell.style())),
        Format::Human => cx
            .shell
            .out(&(plan_view::summary_line(&plan.summary()) + "\n")),
    }
    let stored = if matches!(args.out, Some(None)) {
        Some(store_reviewed(cx, args, &prepared, &plan).await?)
    } else {
        None
    };
    args.comment
        .post(cx, std::slice::from_ref(&plan), stored.is_some())
        .await?;
    if let Some(Some(path)) = &args.out {
        let keyring = prepared.ws.state_keyring()?;
        file::save(&plan, path, keyring.as_deref()).await?;
        if cx.shell.format() == Format::Human {
            cx.shell.out(&format!(
                "\nSaved the plan to {}. Apply exactly these changes with: braid apply {}\n",
                path.display(),
                path.display()
            ));
        }
    }
    if let Some(denied) = policy_denials(std::slice::from_ref(&plan)) {
        return Err(denied);
    }
    let pending = match mode {
        PlanMode::RefreshOnly => !plan.drift.is_empty(),
        _ => plan.has_changes(),
    };
    super::release_data(plan);
    super::release(prepared);
    Ok(if args.detailed_exitcode && pending {
        EXIT_CHANGES
    } else {
        EXIT_OK
    })
}

/// The error of plans that policies denied: the plan is shown, but the command fails (and
/// `braid apply` refuses it).
fn policy_denials(plans: &[crate::plan::Plan]) -> Option<crate::diag::Diagnostics> {
    let mut diags = crate::diag::Diagnostics::new();
    for plan in plans {
        let Some(report) = plan.policy.as_ref().filter(|p| !p.denied.is_empty()) else {
            continue;
        };
        diags.push(crate::ops::policy::denied(&plan.env, report));
    }
    (!diags.0.is_empty()).then_some(diags)
}

/// Stores `plan` in its environment's state backend as the reviewed plan of its sources
/// (`--out` without a file), saying so.
async fn store_reviewed(
    cx: &Context,
    args: &PlanArgs,
    prepared: &ops::Prepared,
    plan: &crate::plan::Plan,
) -> Result<String, crate::diag::Diagnostics> {
    if plan.mode == PlanMode::RefreshOnly {
        return Err(crate::diag::Diagnostic::error(
            "Refresh-only plan with --out",
            "Only a plan of changes is stored for braid apply --reviewed. Give --out FILE to save a refresh-only plan.",
        )
        .into());
    }
    let actor = crate::actor::actor(&prepared.ws.project.dir);
    let name =
        ops::reviewed::store(prepared.store.as_ref(), plan, &actor, args.comment.thread()).await?;
    if cx.shell.format() == Format::Human {
        cx.shell.err(&format!(
            "Stored the plan of {} in its state backend for review ({name}). After the merge, braid apply --env {} --reviewed applies exactly these changes, unless something is applied first.\n",
            plan.env, plan.env
        ));
    }
    Ok(name)
}

/// `braid plan --env staging --env prod`: one plan per environment, shown together (one
/// pull-request comment for all of them with `--format markdown`).
async fn run_many(cx: &Context, args: &PlanArgs) -> CommandResult {
    if matches!(args.out, Some(Some(_))) {
        return Err(crate::diag::Diagnostic::error(
            "Several environments with --out FILE",
            "A saved plan file is for one environment. Run braid plan --env NAME --out FILE once per environment, or give --out without a file to store each environment's plan in its state backend.",
        )
        .into());
    }
    let options = PlanOptions {
        mode: if args.destroy {
            PlanMode::Destroy
        } else if args.refresh_only {
            PlanMode::RefreshOnly
        } else {
            PlanMode::Normal
        },
        refresh: args.refresh,
        parallelism: args.parallelism,
        targets: args.targeting.target.clone(),
        replace: args.targeting.replace.clone(),
    };
    args.targeting.warn(cx);
    let mut plans = Vec::new();
    for env in &cx.global.envs {
        let planned = async {
            let prepared = cx
                .prepare_with(&cx.global.for_env(env).load_options()?)
                .await?;
            let plan = ops::plan(&prepared, &options, &SilentObserver).await?;
            if matches!(args.out, Some(None)) {
                store_reviewed(cx, args, &prepared, &plan).await?;
            }
            Ok::<_, crate::diag::Diagnostics>(plan)
        };
        match planned.await {
            Ok(plan) => plans.push(plan),
            Err(d) => return Err(args.comment.post_failure(cx, d).await),
        }
    }
    match cx.shell.format() {
        Format::Json => {
            let documents: Vec<serde_json::Value> =
                plans.iter().map(plan_view::to_json_value).collect();
            cx.shell.json(&serde_json::json!({ "plans": documents }));
        }
        Format::Markdown => cx.shell.out(&crate::view::markdown::render(
            &plans,
            crate::view::markdown::COMMENT_BUDGET,
        )),
        Format::Human => {
            for plan in &plans {
                if cx.shell.is_quiet() {
                    cx.shell.out(&format!(
                        "{}: {}\n",
                        plan.env,
                        plan_view::summary_line(&plan.summary())
                    ));
                } else {
                    cx.shell
                        .out(&plan_view::render_human(plan, cx.shell.style()));
                    cx.shell.out("\n");
                }
            }
        }
    }
    args.comment
        .post(cx, &plans, matches!(args.out, Some(None)))
        .await?;
    if let Some(denied) = policy_denials(&plans) {
        return Err(denied);
    }
    let pending = plans.iter().any(|plan| match options.mode {
        PlanMode::RefreshOnly => !plan.drift.is_empty(),
        _ => plan.has_changes(),
    });
    Ok(if args.detailed_exitcode && pending {
        EXIT_CHANGES
    } else {
        EXIT_OK
    })
}
