//! `braid apply` and `braid destroy`

use std::path::PathBuf;

use clap::Args;

use super::plan::TargetArgs;
use super::{CommandResult, Context, EXIT_ERROR, EXIT_OK};
use crate::diag::Diagnostics;
use crate::ops::{self, RunOutcome};
use crate::plan::{Plan, file};
use crate::view::{Format, apply as apply_view, plan as plan_view};

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved by `braid plan --out`: apply exactly it.
    #[arg(value_name = "PLAN_FILE")]
    pub plan_file: Option<PathBuf>,
    /// Apply without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// Read live objects before planning.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub refresh: bool,
    /// How many changes run at once.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub parallelism: usize,
    #[command(flatten)]
    pub targeting: TargetArgs,
    /// Apply the plan reviewed on the pull request (stored by braid plan --out without a
    /// file) for the sources as they are now, if nothing was applied since; else refuse.
    #[arg(long, conflicts_with = "plan_file")]
    pub reviewed: bool,
    #[command(flatten)]
    pub comment: super::plan::CommentArgs,
    #[command(flatten)]
    pub window: WindowOverrideArgs,
}

/// `--override-window` and `--override-policy NAME` with `--reason TEXT`: apply although a
/// release window or an overridable policy denial holds the changes back, on the record.
#[derive(Debug, Clone, Default, Args)]
pub struct WindowOverrideArgs {
    /// Apply although the environment's release windows hold the changes back; needs
    /// --reason, which is recorded with the apply in the audit log.
    #[arg(long, requires = "reason")]
    pub override_window: bool,
    /// Set aside the policy denial named NAME, where the policy allows it (repeatable);
    /// needs --reason, recorded in the audit log.
    #[arg(long, value_name = "NAME", requires = "reason")]
    pub override_policy: Vec<String>,
    /// Why the window or policy is set aside (recorded in the audit log).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

impl WindowOverrideArgs {
    /// Sets the overrides on `options`, refusing an empty reason or a reason alone.
    pub fn apply_to(&self, options: &mut crate::ops::RunOptions) -> Result<(), Diagnostics> {
        if !self.override_window && self.override_policy.is_empty() {
            if self.reason.is_some() {
                return Err(crate::diag::Diagnostic::error(
                    "--reason without an override",
                    "--reason says why a rule is set aside: give it with --override-window or --override-policy NAME.",
                )
                .into());
            }
            return Ok(());
        }
        let reason = match self.reason.as_deref().map(str::trim) {
            Some(reason) if !reason.is_empty() => reason.to_string(),
            _ => {
                return Err(crate::diag::Diagnostic::error(
                    "Empty --reason",
                    "An override needs a reason that says why, like --reason \"hotfix for INC-1234\": it is recorded in the audit log.",
                )
                .into());
            }
        };
        if self.override_window {
            options.window_override = Some(reason.clone());
        }
        if !self.override_policy.is_empty() {
            options.policy_override = Some((self.override_policy.clone(), reason));
        }
        Ok(())
    }
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// Destroy without asking for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
    /// How many changes run at once.
    #[arg(long, default_value_t = 16, value_name = "N")]
    pub parallelism: usize,
    /// Destroy only this resource and what depends on it (repeatable).
    #[arg(long = "target", value_name = "ADDR")]
    pub target: Vec<String>,
    #[command(flatten)]
    pub window: WindowOverrideArgs,
}

pub async fn run(cx: &Context, args: &ApplyArgs) -> CommandResult {
    let mut options = cx
        .global
        .run_options(args.refresh, args.parallelism, &cx.cancel)?;
    options.targets = args.targeting.target.clone();
    options.replace = args.targeting.replace.clone();
    args.window.apply_to(&mut options)?;
    let observer = cx.shell.apply_observer();
    if args.comment.comment && !args.reviewed {
        return Err(crate::diag::Diagnostic::error(
            "--comment without --reviewed",
            "braid apply posts on the pull request only what it did with the reviewed plan: add --reviewed, or post plans with braid plan --comment.",
        )
        .into());
    }
    if args.reviewed {
        if !options.targets.is_empty() || !options.replace.is_empty() {
            return Err(crate::diag::Diagnostic::error(
                "Targeting a reviewed plan",
                "A reviewed plan already says what to change: --target and --replace belong to braid plan --out, not to braid apply --reviewed.",
            )
            .into());
        }
        return apply_reviewed(cx, args, &options, observer.as_ref()).await;
    }
    if let Some(path) = &args.plan_file {
        if !options.targets.is_empty() || !options.replace.is_empty() {
            return Err(crate::diag::Diagnostic::error(
                "Targeting a saved plan",
                "A saved plan already says what to change: --target and --replace belong to braid plan --out, not to braid apply PLAN_FILE.",
            )
            .into());
        }
        // A saved plan was reviewed already: no second confirmation, as in Terraform.
        let plan = file::load(path, super::plan_keyring(cx).as_deref()).await?;
        cx.stop_gracefully();
        let (prepared, outcome) = ops::apply_saved(
            &cx.registry,
            cx.global.load_options()?,
            plan,
            &options,
            observer.as_ref(),
        )
        .await?;
        cx.shell.diagnostics(&prepared.ws.warnings);
        return Ok(finish(cx, "apply", &outcome));
    }
    args.targeting.warn(cx);
    let prepared = cx.prepare().await?;
    // From here the environment's lock is held (from planning to the last change): an
    // interrupt must end the run cleanly so the lock is released.
    cx.stop_gracefully();
    let confirm = |plan: &Plan| {
        refuse_denied(cx, &prepared.ws, plan, &options)?;
        show_and_confirm(
            cx,
            plan,
            args.auto_approve,
            "Do you want to perform these actions?",
        )
    };
    let notices = ApplyNotices::new(cx, &prepared.ws);
    let mut approve = notices.around(confirm);
    let outcome = ops::apply(&prepared, &options, &mut approve, observer.as_ref()).await;
    drop(approve);
    notices.finished(outcome.as_ref()).await;
    let outcome = outcome?;
    let code = finish(cx, "apply", &outcome);
    super::release_data(outcome);
    super::release(prepared);
    Ok(code)
}

/// `braid apply --reviewed`: the plan reviewed for the sources as they are now (see
/// [`crate::ops::reviewed`]), with `--comment` the outcome or the refusal posted on its
/// pull request.
async fn apply_reviewed(
    cx: &Context,
    args: &ApplyArgs,
    options: &crate::ops::RunOptions,
    observer: &dyn crate::apply::ApplyObserver,
) -> CommandResult {
    cx.stop_gracefully();
    let load = cx.global.load_options()?;
    let env = load.env.clone().unwrap_or_else(|| "default".to_string());
    let result = crate::ops::reviewed::apply_reviewed(&cx.registry, load, options, observer).await;
    match result {
        Ok((prepared, outcome, reviewed)) => {
            cx.shell.diagnostics(&prepared.ws.warnings);
            if cx.shell.format() == Format::Human {
                cx.shell.err(&format!(
                    "Applying the plan reviewed for {} (stored by {} at {}).\n",
                    prepared.ws.env_name,
                    reviewed.actor,
                    reviewed.stored_at.format("%Y-%m-%d %H:%M:%S UTC")
                ));
            }
            let code = finish(cx, "apply", &outcome);
            if args.comment.comment {
                let summary = outcome
                    .report
                    .as_ref()
                    .map(|r| r.summary)
                    .unwrap_or_default();
                let body = crate::view::markdown::render_reviewed_apply(
                    &prepared.ws.env_name,
                    Ok(&summary),
                    crate::view::markdown::COMMENT_BUDGET,
                );
                let target = args.comment.target(reviewed.thread.as_ref())?;
                super::plan::post_to(
                    cx,
                    &target,
                    &body,
                    crate::view::markdown::APPLY_MARKER,
                    "the apply",
                )
                .await?;
            }
            Ok(code)
        }
        Err(refused) => {
            let mut diagnostics = refused.diagnostics;
            if args.comment.comment {
                let body = crate::view::markdown::render_reviewed_apply(
                    &env,
                    Err(&diagnostics),
                    crate::view::markdown::COMMENT_BUDGET,
                );
                let posted = match args.comment.target(refused.thread.as_ref()) {
                    Ok(target) => {
                        super::plan::post_to(
                            cx,
                            &target,
                            &body,
                            crate::view::markdown::APPLY_MARKER,
                            "the refusal",
                        )
                        .await
                    }
                    Err(d) => Err(d),
                };
                if let Err(more) = posted {
                    diagnostics.extend(more);
                }
            }
            Err(diagnostics)
        }
    }
}

pub async fn destroy(cx: &Context, args: &DestroyArgs) -> CommandResult {
    let mut options = cx.global.run_options(true, args.parallelism, &cx.cancel)?;
    options.targets = args.target.clone();
    args.window.apply_to(&mut options)?;
    TargetArgs {
        target: args.target.clone(),
        replace: Vec::new(),
    }
    .warn(cx);
    let observer = cx.shell.apply_observer();
    let prepared = cx.prepare().await?;
    cx.stop_gracefully();
    let confirm = |plan: &Plan| {
        refuse_denied(cx, &prepared.ws, plan, &options)?;
        let question = format!(
            "Do you really want to destroy everything in environment \"{}\"?",
            plan.env
        );
        show_and_confirm(cx, plan, args.auto_approve, &question)
    };
    let notices = ApplyNotices::new(cx, &prepared.ws);
    let mut approve = notices.around(confirm);
    let outcome = ops::destroy(&prepared, &options, &mut approve, observer.as_ref()).await;
    notices.finished(outcome.as_ref()).await;
    Ok(finish(cx, "destroy", &outcome?))
}

/// Refuses a plan the policies deny (and that `--override-policy` does not set aside)
/// before asking anyone to confirm it: the apply would refuse it anyway. The plan is
/// shown first, so the denials can be read in it.
fn refuse_denied(
    cx: &Context,
    ws: &crate::workspace::Workspace,
    plan: &Plan,
    options: &crate::ops::RunOptions,
) -> Result<(), Diagnostics> {
    if plan.policy.as_ref().is_none_or(|p| p.denied.is_empty()) {
        return Ok(());
    }
    let (names, reason) = match &options.policy_override {
        Some((names, reason)) => (names.as_slice(), Some(reason.as_str())),
        None => (&[][..], None),
    };
    let mut judged = plan.clone();
    if let Err(refused) = crate::ops::policy::check(ws, &mut judged, names, reason) {
        cx.shell
            .detail(&plan_view::render_human(plan, cx.shell.style()));
        return Err(refused);
    }
    Ok(())
}

/// Shows the plan; returns whether to go on (false when the user declined).
pub(super) fn show_and_confirm(
    cx: &Context,
    plan: &Plan,
    auto_approve: bool,
    question: &str,
) -> Result<bool, Diagnostics> {
    cx.shell
        .detail(&plan_view::render_human(plan, cx.shell.style()));
    if !plan.has_changes() && plan.drift.is_empty() {
        return Ok(true);
    }
    if auto_approve {
        return Ok(true);
    }
    if cx
        .shell
        .confirm(question, "--auto-approve", Some(&cx.cancel))?
    {
        Ok(true)
    } else {
        cx.shell.out("\nApply cancelled.\n");
        Ok(false)
    }
}

/// Renders what a writing operation did and picks the exit code: 0 when everything was
/// applied, 1 when something failed or the plan was declined, 130/143 when interrupted.
pub(super) fn finish(cx: &Context, operation: &str, outcome: &RunOutcome) -> i32 {
    match cx.shell.format() {
        Format::Json => cx.shell.json(&apply_view::outcome_json(operation, outcome)),
        _ => {
            if let Some(report) = &outcome.report {
                cx.shell
                    .out(&apply_view::render_summary(report, cx.shell.style()));
            }
        }
    }
    match &outcome.report {
        Some(report) if report.cancelled => cx.interrupted_code(),
        _ if outcome.declined => EXIT_ERROR,
        _ if outcome.succeeded() => EXIT_OK,
        _ => EXIT_ERROR,
    }
}

/// Notifications of a command's apply (`notify` blocks of braid.hcl): `apply_started` once
/// the plan is approved with changes, then `apply_succeeded` or `apply_failed`. Sent in the
/// background; the command waits for them at its end, 10 seconds at most.
pub(super) struct ApplyNotices {
    targets: Vec<crate::config::notify::NotifyConfig>,
    env: String,
    sources: Vec<crate::agent::SourceCommit>,
    changes: std::sync::Mutex<Vec<crate::agent::PendingChange>>,
    started: std::sync::atomic::AtomicBool,
    notifier: crate::agent::notify::Notifier,
}

impl ApplyNotices {
    pub(super) fn new(cx: &Context, ws: &crate::workspace::Workspace) -> ApplyNotices {
        let shell = cx.shell.clone();
        ApplyNotices {
            targets: crate::agent::notify::targets(ws),
            env: ws.env_name.clone(),
            sources: ws
                .sources
                .iter()
                .map(|s| crate::agent::SourceCommit::from(&s.revision))
                .collect(),
            changes: std::sync::Mutex::new(Vec::new()),
            started: std::sync::atomic::AtomicBool::new(false),
            notifier: crate::agent::notify::Notifier::new(std::sync::Arc::new(
                move |_env: &str, why: String| {
                    shell.diagnostics(&Diagnostics::from(crate::diag::Diagnostic::warning(
                        "Notification not delivered",
                        why,
                    )));
                },
            )),
        }
    }

    fn send(&self, event: crate::config::notify::NotifyEvent, message: String) {
        if self.targets.is_empty() {
            return;
        }
        let changes = self
            .changes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        self.notifier.send(
            &self.targets,
            &crate::agent::notify::Notification {
                event,
                env: self.env.clone(),
                message,
                sources: self.sources.clone(),
                changes,
                time: chrono::Utc::now(),
                status_url: None,
            },
        );
    }

    /// `confirm`, telling these notices when it approves a plan.
    pub(super) fn around<'a>(
        &'a self,
        confirm: impl Fn(&Plan) -> Result<bool, Diagnostics> + 'a,
    ) -> impl FnMut(&Plan) -> Result<bool, Diagnostics> + 'a {
        move |plan: &Plan| {
            let yes = confirm(plan)?;
            if yes {
                self.approved(plan);
            }
            Ok(yes)
        }
    }

    /// The plan was approved: with changes, the apply starts.
    pub(super) fn approved(&self, plan: &Plan) {
        if !plan.has_changes() {
            return;
        }
        let changes: Vec<crate::agent::PendingChange> = plan
            .changes
            .iter()
            .filter(|c| c.action.is_change())
            .map(|c| crate::agent::PendingChange {
                address: c.address.clone(),
                action: c.action.as_str().to_string(),
            })
            .collect();
        let count = changes.len();
        *self.changes.lock().unwrap_or_else(|e| e.into_inner()) = changes;
        self.started
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.send(
            crate::config::notify::NotifyEvent::ApplyStarted,
            format!("applying {count} change(s)"),
        );
    }

    /// The apply is over (`result`): its outcome, when it started; then waits for the
    /// deliveries.
    pub(super) async fn finished(&self, result: Result<&RunOutcome, &Diagnostics>) {
        if !self.started.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        use crate::config::notify::NotifyEvent;
        match result {
            Ok(outcome) if outcome.succeeded() => {
                let applied = outcome.report.as_ref().map_or(0, |r| r.results.len());
                self.send(
                    NotifyEvent::ApplySucceeded,
                    format!("applied {applied} change(s)"),
                );
            }
            Ok(outcome) => {
                let (failed, skipped) = outcome
                    .report
                    .as_ref()
                    .map_or((0, 0), |r| (r.summary.failed, r.summary.skipped));
                self.send(
                    NotifyEvent::ApplyFailed,
                    format!("apply failed: {failed} change(s) failed, {skipped} skipped"),
                );
            }
            Err(diags) => self.send(
                NotifyEvent::ApplyFailed,
                format!("apply failed: {}", crate::agent::first_error(diags)),
            ),
        }
        self.notifier
            .flush(std::time::Duration::from_secs(10))
            .await;
    }
}
