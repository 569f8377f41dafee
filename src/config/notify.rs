//! braid.hcl's `notify "KIND" { ... }` blocks: where `braid agent` reports what it does.
//!
//! ```hcl
//! notify "slack" { url = env("SLACK_WEBHOOK"), events = ["apply_failed", "drift"] }
//! environment "prod" {
//!   notify "github" { repository = "acme/infra", token = env("GITHUB_TOKEN") }
//! }
//! ```
//!
//! Kinds: `slack` (an incoming webhook), `webhook` (braid's JSON document, signed with
//! `secret`), `github` and `gitlab` (commit statuses). Top-level blocks apply to every
//! environment, an environment's own to it alone.

use std::collections::BTreeSet;

use braid_provider::Value;

use super::NestedBlock;
use crate::diag::{Diagnostic, Location};

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyEvent {
    /// A plan found changes (the agent's cycle, before it applies or reports them).
    PlanChanges,
    /// An apply began.
    ApplyStarted,
    /// An apply made every change.
    ApplySucceeded,
    /// An apply failed (or could not start).
    ApplyFailed,
    /// Objects were found changed outside braid.
    DriftDetected,
    /// Changes made outside braid were undone.
    DriftHealed,
    /// New commits have changes nobody applied (`auto_apply` is off).
    OutOfSync,
}

impl NotifyEvent {
    /// Every event, in the order they happen.
    pub const ALL: [NotifyEvent; 7] = [
        NotifyEvent::PlanChanges,
        NotifyEvent::ApplyStarted,
        NotifyEvent::ApplySucceeded,
        NotifyEvent::ApplyFailed,
        NotifyEvent::DriftDetected,
        NotifyEvent::DriftHealed,
        NotifyEvent::OutOfSync,
    ];

    /// The name braid.hcl and documents use.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyEvent::PlanChanges => "plan_changes",
            NotifyEvent::ApplyStarted => "apply_started",
            NotifyEvent::ApplySucceeded => "apply_succeeded",
            NotifyEvent::ApplyFailed => "apply_failed",
            NotifyEvent::DriftDetected => "drift_detected",
            NotifyEvent::DriftHealed => "drift_healed",
            NotifyEvent::OutOfSync => "out_of_sync",
        }
    }

    /// The events a name in `events` stands for: one event, or `apply` (its three) and
    /// `drift` (detected and healed).
    fn named(name: &str) -> Option<Vec<NotifyEvent>> {
        match name {
            "apply" => Some(vec![
                NotifyEvent::ApplyStarted,
                NotifyEvent::ApplySucceeded,
                NotifyEvent::ApplyFailed,
            ]),
            "drift" => Some(vec![NotifyEvent::DriftDetected, NotifyEvent::DriftHealed]),
            other => NotifyEvent::ALL
                .into_iter()
                .find(|e| e.as_str() == other)
                .map(|e| vec![e]),
        }
    }
}

/// Where a notification goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyKind {
    /// A Slack incoming webhook.
    Slack,
    /// braid's JSON document, POSTed and signed.
    Webhook,
    /// GitHub commit statuses.
    GitHub,
    /// GitLab commit statuses.
    GitLab,
}

impl NotifyKind {
    /// The block label.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyKind::Slack => "slack",
            NotifyKind::Webhook => "webhook",
            NotifyKind::GitHub => "github",
            NotifyKind::GitLab => "gitlab",
        }
    }
}

/// One `notify` block.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// The kind, the block's label.
    pub kind: NotifyKind,
    /// The events sent; all when the block names none.
    pub events: BTreeSet<NotifyEvent>,
    /// `url`: Slack's incoming webhook, or the webhook's receiver.
    pub url: Option<String>,
    /// `secret`: the webhook's signing key (HMAC-SHA256 of the body).
    pub secret: Option<String>,
    /// `token`: GitHub's (else `GITHUB_TOKEN`) or GitLab's (else `GITLAB_TOKEN`).
    pub token: Option<String>,
    /// `api_url`: GitHub Enterprise's or a self-hosted GitLab's API (defaults:
    /// `https://api.github.com`, `https://gitlab.com/api/v4`).
    pub api_url: Option<String>,
    /// `repository`: GitHub's `owner/name`, or GitLab's project path or id.
    pub repository: Option<String>,
    /// `source`: whose commit gets the status (default: the first git source).
    pub source: Option<String>,
    /// `status_url`: where the status page is, linked from messages and statuses.
    pub status_url: Option<String>,
    /// Where the block is written.
    pub location: Location,
}

impl NotifyConfig {
    /// Whether this block sends `event`.
    pub fn wants(&self, event: NotifyEvent) -> bool {
        self.events.contains(&event)
    }
}

/// A `notify "KIND" { ... }` block.
pub fn parse_notify(block: &NestedBlock) -> Result<NotifyConfig, Diagnostic> {
    block.expect_labels(&["kind"])?;
    let kind = match block.labels[0].as_str() {
        "slack" => NotifyKind::Slack,
        "webhook" => NotifyKind::Webhook,
        "github" => NotifyKind::GitHub,
        "gitlab" => NotifyKind::GitLab,
        other => {
            return Err(Diagnostic::error(
                "Unknown notification kind",
                format!(
                    "braid sends notifications to \"slack\", \"webhook\", \"github\" and \"gitlab\", not \"{other}\"."
                ),
            )
            .at(block.location.clone()));
        }
    };
    let allowed: &[&str] = match kind {
        NotifyKind::Slack => &["url", "events", "status_url"],
        NotifyKind::Webhook => &["url", "secret", "events", "status_url"],
        NotifyKind::GitHub | NotifyKind::GitLab => &[
            "token",
            "api_url",
            "repository",
            "source",
            "events",
            "status_url",
        ],
    };
    block
        .body
        .check_names(&format!("notify \"{}\" block", kind.as_str()), allowed, &[])?;
    let value = super::project::body_value(&block.body)?;
    let at = |name: &str| {
        block
            .body
            .attribute(name)
            .map_or_else(|| block.location.clone(), |a| a.value_location.clone())
    };
    let text = |name: &str| -> Result<Option<String>, Diagnostic> {
        match value.attr(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            Some(Value::String(_)) => Err(Diagnostic::error(
                "Empty notification setting",
                format!("\"{name}\" is empty; if it comes from env(), set that variable."),
            )
            .at(at(name))),
            Some(other) => Err(Diagnostic::error(
                "Incorrect attribute value type",
                format!("\"{name}\" must be a string, but it is {}.", other.kind()),
            )
            .at(at(name))),
        }
    };
    let mut events = BTreeSet::new();
    match value.attr("events") {
        None | Some(Value::Null) => events.extend(NotifyEvent::ALL),
        Some(Value::List(names)) => {
            for name in names.iter() {
                let known = name.as_str().and_then(NotifyEvent::named);
                match known {
                    Some(found) => events.extend(found),
                    None => {
                        return Err(Diagnostic::error(
                            "Unknown notification event",
                            format!(
                                "events holds {}, which is not an event. Events: {}, and \"apply\" and \"drift\" for their groups.",
                                match name.as_str() {
                                    Some(s) => format!("\"{s}\""),
                                    None => name.kind().to_string(),
                                },
                                NotifyEvent::ALL
                                    .iter()
                                    .map(|e| format!("\"{}\"", e.as_str()))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        )
                        .at(at("events")));
                    }
                }
            }
        }
        Some(other) => {
            return Err(Diagnostic::error(
                "Incorrect attribute value type",
                format!(
                    "\"events\" must be a list such as [\"apply_failed\", \"drift\"], but it is {}.",
                    other.kind()
                ),
            )
            .at(at("events")));
        }
    }
    let config = NotifyConfig {
        kind,
        events,
        url: text("url")?,
        secret: text("secret")?,
        token: text("token")?,
        api_url: text("api_url")?,
        repository: text("repository")?,
        source: text("source")?,
        status_url: text("status_url")?,
        location: block.location.clone(),
    };
    // Written but null (an env() of a variable this machine does not set) is accepted:
    // only the agent sends, and it reports what is missing when it does. Not written at
    // all is a mistake in braid.hcl.
    let missing = |name: &str, why: &str| {
        if block.body.attribute(name).is_some() {
            return Ok(config.clone());
        }
        Err(Diagnostic::error(
            "Missing notification setting",
            format!(
                "A notify \"{}\" block needs \"{name}\": {why}.",
                kind.as_str()
            ),
        )
        .at(block.location.clone()))
    };
    match kind {
        NotifyKind::Slack if config.url.is_none() => missing(
            "url",
            "the incoming webhook's URL, best from env(\"SLACK_WEBHOOK\")",
        ),
        NotifyKind::Webhook if config.url.is_none() => missing("url", "where to POST"),
        NotifyKind::GitHub if config.repository.is_none() => missing(
            "repository",
            "the repository holding the commits, as \"owner/name\"",
        ),
        NotifyKind::GitLab if config.repository.is_none() => missing(
            "repository",
            "the project holding the commits, as \"group/name\" or its id",
        ),
        _ => Ok(config),
    }
}
