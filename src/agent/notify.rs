//! Notifications: what the agent does, sent where braid.hcl's `notify` blocks say — Slack
//! incoming webhooks, a signed JSON webhook, GitHub and GitLab commit statuses.
//!
//! Sending never blocks a cycle: [`Notifier::send`] queues, and each delivery runs on its
//! own task, retried after 1, 2, 4 and 8 seconds when the receiver fails or cannot be
//! reached. A delivery that still fails is logged (with the receiver's host only: a Slack
//! webhook's URL is a secret) and reported through the agent's log.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{PendingChange, SourceCommit};
use crate::config::notify::{NotifyConfig, NotifyEvent, NotifyKind};

/// The `notify` blocks that apply to the environment `ws` is loaded for: the top-level
/// ones, then the environment's own.
pub fn targets(ws: &crate::workspace::Workspace) -> Vec<NotifyConfig> {
    ws.project
        .notify
        .iter()
        .chain(ws.environment().into_iter().flat_map(|e| &e.notify))
        .cloned()
        .collect()
}

/// How many times a delivery is tried.
pub const ATTEMPTS: u32 = 5;

/// One thing to tell: the event, the environment, a sentence, and the commits and changes
/// it is about.
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    /// What happened.
    pub event: NotifyEvent,
    /// The environment.
    pub env: String,
    /// One sentence saying it.
    pub message: String,
    /// The sources at the commits concerned.
    pub sources: Vec<SourceCommit>,
    /// The changes concerned (planned, applied or drifted).
    pub changes: Vec<PendingChange>,
    /// When it happened.
    pub time: DateTime<Utc>,
    /// The agent's status page, when braid.hcl says where it is reached.
    pub status_url: Option<String>,
}

/// Told of each delivery that failed for good: the environment, and what failed.
pub type FailureReport = Arc<dyn Fn(&str, String) + Send + Sync>;

/// Sends notifications in the background; cloned cheaply.
#[derive(Clone)]
pub struct Notifier {
    client: reqwest::Client,
    failed: FailureReport,
    tasks: Arc<std::sync::Mutex<tokio::task::JoinSet<()>>>,
    /// The first wait between attempts (doubled each time); tests shorten it.
    retry_after: Duration,
}

impl Notifier {
    /// A notifier; `failed` is told of each delivery that failed for good (environment,
    /// what failed).
    pub fn new(failed: FailureReport) -> Notifier {
        let retry_after = std::env::var("BRAID_NOTIFY_RETRY")
            .ok()
            .and_then(|t| crate::config::parse_duration(&t))
            .unwrap_or(Duration::from_secs(1));
        Notifier {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            failed,
            tasks: Arc::new(std::sync::Mutex::new(tokio::task::JoinSet::new())),
            retry_after,
        }
    }

    /// Queues `notification` for every block of `targets` that wants its event.
    pub fn send(&self, targets: &[NotifyConfig], notification: &Notification) {
        for target in targets.iter().filter(|t| t.wants(notification.event)) {
            let mut notification = notification.clone();
            if notification.status_url.is_none() {
                notification.status_url = target.status_url.clone();
            }
            let target = target.clone();
            let client = self.client.clone();
            let failed = Arc::clone(&self.failed);
            let retry_after = self.retry_after;
            let mut tasks = self.tasks.lock().unwrap_or_else(|e| e.into_inner());
            // Finished deliveries are reaped as new ones come.
            while tasks.try_join_next().is_some() {}
            tasks.spawn(async move {
                if let Err(why) = deliver(&client, &target, &notification, retry_after).await {
                    failed(
                        &notification.env,
                        format!(
                            "{} notification of {} failed after {ATTEMPTS} attempts: {why}",
                            target.kind.as_str(),
                            notification.event.as_str(),
                        ),
                    );
                }
            });
        }
    }

    /// Waits up to `limit` for deliveries in flight (at shutdown).
    pub async fn flush(&self, limit: Duration) {
        let mut tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|e| e.into_inner()));
        let all = async { while tasks.join_next().await.is_some() {} };
        let _ = tokio::time::timeout(limit, all).await;
    }
}

/// A request ready to send: where, which headers, which JSON body.
struct Request {
    url: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

async fn deliver(
    client: &reqwest::Client,
    target: &NotifyConfig,
    notification: &Notification,
    retry_after: Duration,
) -> Result<(), String> {
    let request = request(target, notification)?;
    let host = reqwest::Url::parse(&request.url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "(no host)".to_owned());
    let mut wait = retry_after;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let mut builder = client
            .post(&request.url)
            .header("content-type", "application/json")
            .header("user-agent", concat!("braid/", env!("CARGO_PKG_VERSION")))
            .body(request.body.clone());
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        match builder.send().await {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) => last = format!("{host} answered {}", response.status()),
            // The error's text may hold the URL: name the host only.
            Err(e) if e.is_timeout() => last = format!("{host} did not answer in time"),
            Err(_) => last = format!("{host} could not be reached"),
        }
        tracing::warn!(attempt, kind = target.kind.as_str(), why = %last, "notification not delivered");
        if attempt < ATTEMPTS {
            tokio::time::sleep(wait).await;
            wait = wait.saturating_mul(2);
        }
    }
    Err(last)
}

/// The request `target` wants for `notification`.
fn request(target: &NotifyConfig, n: &Notification) -> Result<Request, String> {
    let needed = match target.kind {
        NotifyKind::Slack | NotifyKind::Webhook => ("url", target.url.is_some()),
        NotifyKind::GitHub | NotifyKind::GitLab => ("repository", target.repository.is_some()),
    };
    if !needed.1 {
        return Err(format!(
            "\"{}\" is not set (the environment variable it is read from is empty here)",
            needed.0
        ));
    }
    match target.kind {
        NotifyKind::Slack => Ok(Request {
            url: target.url.clone().unwrap_or_default(),
            headers: Vec::new(),
            body: serde_json::to_vec(&slack_message(n)).map_err(|e| e.to_string())?,
        }),
        NotifyKind::Webhook => {
            let body = serde_json::to_vec(&serde_json::json!({
                "event": n.event,
                "env": n.env,
                "message": n.message,
                "sources": n.sources,
                "changes": n.changes,
                "time": n.time,
                "status_url": n.status_url,
            }))
            .map_err(|e| e.to_string())?;
            let mut headers = vec![("x-braid-event", n.event.as_str().to_string())];
            if let Some(secret) = &target.secret {
                headers.push((
                    "x-braid-signature-256",
                    format!(
                        "sha256={}",
                        hex::encode(super::server::hmac_sha256(secret.as_bytes(), &body))
                    ),
                ));
            }
            Ok(Request {
                url: target.url.clone().unwrap_or_default(),
                headers,
                body,
            })
        }
        NotifyKind::GitHub => {
            let commit = status_commit(target, n)?;
            let token = token(target, "GITHUB_TOKEN")?;
            let api = target
                .api_url
                .as_deref()
                .unwrap_or("https://api.github.com")
                .trim_end_matches('/');
            let state = match n.event {
                NotifyEvent::ApplySucceeded | NotifyEvent::DriftHealed => "success",
                NotifyEvent::ApplyFailed => "failure",
                NotifyEvent::DriftDetected => "error",
                NotifyEvent::PlanChanges | NotifyEvent::ApplyStarted | NotifyEvent::OutOfSync => {
                    "pending"
                }
            };
            let mut body = serde_json::json!({
                "state": state,
                "description": description(n),
                "context": format!("braid/{}", n.env),
            });
            if let Some(url) = &n.status_url {
                body["target_url"] = url.clone().into();
            }
            Ok(Request {
                url: format!(
                    "{api}/repos/{}/statuses/{commit}",
                    target.repository.as_deref().unwrap_or_default()
                ),
                headers: vec![
                    ("authorization", format!("Bearer {token}")),
                    ("accept", "application/vnd.github+json".to_string()),
                ],
                body: serde_json::to_vec(&body).map_err(|e| e.to_string())?,
            })
        }
        NotifyKind::GitLab => {
            let commit = status_commit(target, n)?;
            let token = token(target, "GITLAB_TOKEN")?;
            let api = target
                .api_url
                .as_deref()
                .unwrap_or("https://gitlab.com/api/v4")
                .trim_end_matches('/');
            let state = match n.event {
                NotifyEvent::ApplySucceeded | NotifyEvent::DriftHealed => "success",
                NotifyEvent::ApplyFailed | NotifyEvent::DriftDetected => "failed",
                NotifyEvent::ApplyStarted => "running",
                NotifyEvent::PlanChanges | NotifyEvent::OutOfSync => "pending",
            };
            let mut body = serde_json::json!({
                "state": state,
                "name": format!("braid/{}", n.env),
                "description": description(n),
            });
            if let Some(url) = &n.status_url {
                body["target_url"] = url.clone().into();
            }
            let project =
                crate::ops::comment::encode_path(target.repository.as_deref().unwrap_or_default());
            Ok(Request {
                url: format!("{api}/projects/{project}/statuses/{commit}"),
                headers: vec![("private-token", token)],
                body: serde_json::to_vec(&body).map_err(|e| e.to_string())?,
            })
        }
    }
}

/// The commit a status goes on: that of the block's `source`, else of the first git source.
fn status_commit(target: &NotifyConfig, n: &Notification) -> Result<String, String> {
    let source = match &target.source {
        Some(name) => n.sources.iter().find(|s| &s.name == name).ok_or_else(|| {
            format!("the environment has no source \"{name}\" (notify block's source)")
        })?,
        None => n
            .sources
            .iter()
            .find(|s| s.commit.is_some())
            .ok_or("no source of the environment is a git commit to put a status on")?,
    };
    source
        .commit
        .clone()
        .ok_or_else(|| format!("source \"{}\" is not read from git", source.name))
}

fn token(target: &NotifyConfig, variable: &str) -> Result<String, String> {
    target
        .token
        .clone()
        .or_else(|| std::env::var(variable).ok().filter(|t| !t.is_empty()))
        .ok_or_else(|| format!("no token: set \"token\" in the notify block, or {variable}"))
}

/// A commit status' description: at most 140 characters, as GitHub allows.
fn description(n: &Notification) -> String {
    let text = format!("{}: {}", n.env, n.message);
    match text.char_indices().nth(139) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// A Slack message: the sentence, the commits (linked when the repository is on GitHub or
/// GitLab), the changes, and a link to the status page.
fn slack_message(n: &Notification) -> serde_json::Value {
    let emoji = match n.event {
        NotifyEvent::ApplySucceeded | NotifyEvent::DriftHealed => ":white_check_mark:",
        NotifyEvent::ApplyFailed => ":x:",
        NotifyEvent::DriftDetected | NotifyEvent::OutOfSync => ":warning:",
        NotifyEvent::PlanChanges | NotifyEvent::ApplyStarted => ":hourglass_flowing_sand:",
    };
    let text = format!("{emoji} *{}*: {}", n.env, n.message);
    let commits: Vec<String> = n
        .sources
        .iter()
        .map(|s| {
            let short = s.commit.as_deref().map_or_else(
                || "(no commit)".to_string(),
                |c| c.get(..12).unwrap_or(c).to_string(),
            );
            match (s.commit.as_deref(), commit_link(&s.repo)) {
                (Some(commit), Some(base)) => {
                    format!("{} <{base}/commit/{commit}|{short}>", s.name)
                }
                _ => format!("{} `{short}`", s.name),
            }
        })
        .collect();
    let mut blocks = vec![serde_json::json!({
        "type": "section",
        "text": {"type": "mrkdwn", "text": text},
    })];
    let mut context = commits;
    if !n.changes.is_empty() {
        let listed: Vec<String> = n
            .changes
            .iter()
            .take(10)
            .map(|c| format!("{} `{}`", c.action, c.address))
            .collect();
        let more = n.changes.len().saturating_sub(10);
        context.push(format!(
            "{}{}",
            listed.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    if let Some(url) = &n.status_url {
        context.push(format!("<{url}|status page>"));
    }
    if !context.is_empty() {
        blocks.push(serde_json::json!({
            "type": "context",
            "elements": context
                .iter()
                .map(|t| serde_json::json!({"type": "mrkdwn", "text": t}))
                .collect::<Vec<_>>(),
        }));
    }
    serde_json::json!({ "text": text, "blocks": blocks })
}

/// `https://github.com/owner/name` for a repository on GitHub or GitLab (https or ssh
/// form), where commits have pages.
fn commit_link(repo: &str) -> Option<String> {
    let rest = repo
        .strip_prefix("https://")
        .or_else(|| repo.strip_prefix("git@"))?;
    let (host, path) = rest.split_once(['/', ':'])?;
    if host != "github.com" && host != "gitlab.com" {
        return None;
    }
    let path = path.trim_end_matches(".git").trim_end_matches('/');
    let separator = if host == "gitlab.com" { "/-" } else { "" };
    Some(format!("https://{host}/{path}{separator}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_links_for_github_and_gitlab_only() {
        assert_eq!(
            commit_link("https://github.com/acme/infra.git").as_deref(),
            Some("https://github.com/acme/infra")
        );
        assert_eq!(
            commit_link("git@gitlab.com:acme/apps.git").as_deref(),
            Some("https://gitlab.com/acme/apps/-")
        );
        assert_eq!(commit_link("/srv/git/infra"), None);
    }

    #[test]
    fn descriptions_stop_at_140_characters() {
        let n = Notification {
            event: NotifyEvent::ApplyFailed,
            env: "prod".into(),
            message: "x".repeat(300),
            sources: Vec::new(),
            changes: Vec::new(),
            time: Utc::now(),
            status_url: None,
        };
        assert_eq!(description(&n).chars().count(), 140);
    }
}
