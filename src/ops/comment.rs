//! `braid plan --comment`: the plan's Markdown posted on the pull request (GitHub) or merge
//! request (GitLab) it was made for — the comment braid posted before is found by its marker
//! and updated in place, so a pull request carries one plan comment however often CI runs.
//!
//! Where to post comes from the CI's environment (GitHub Actions: `GITHUB_REPOSITORY`,
//! `GITHUB_API_URL`, the pull request's number from `GITHUB_REF` `refs/pull/N/merge` or the
//! event file; GitLab CI: `CI_PROJECT_ID`, `CI_MERGE_REQUEST_IID`, `CI_API_V4_URL`), or from
//! flags; the token from `GITHUB_TOKEN` / `GITLAB_TOKEN`.

use crate::diag::{Diagnostic, Diagnostics};

/// Which forge to post on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forge {
    /// A GitHub pull request (github.com or GitHub Enterprise).
    GitHub,
    /// A GitLab merge request (gitlab.com or self-hosted).
    GitLab,
}

/// Where a comment goes.
#[derive(Debug, Clone)]
pub struct CommentTarget {
    /// GitHub or GitLab.
    pub forge: Forge,
    /// The API's base URL (`https://api.github.com`, `https://gitlab.com/api/v4`).
    pub api: String,
    /// `owner/name` (GitHub), or the project's id or path (GitLab).
    pub repository: String,
    /// The pull request's number, or the merge request's iid.
    pub number: u64,
    /// The token.
    pub token: String,
}

/// What the caller knows besides the environment: flags that win over it.
#[derive(Debug, Clone, Default)]
pub struct CommentFlags {
    /// `--comment-on github|gitlab`.
    pub forge: Option<Forge>,
    /// `--comment-repo`.
    pub repository: Option<String>,
    /// `--comment-pr`.
    pub number: Option<u64>,
    /// `--comment-api`.
    pub api: Option<String>,
}

/// What posting did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    /// A new comment, with its id.
    Created(u64),
    /// braid's earlier comment, updated.
    Updated(u64),
}

impl CommentTarget {
    /// The target `flags` and the environment (`var` reads a variable) describe, or what
    /// is missing and how to give it.
    pub fn resolve(
        flags: &CommentFlags,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<CommentTarget, Diagnostics> {
        let var = |name: &str| var(name).filter(|v| !v.is_empty());
        let forge = flags.forge.or_else(|| {
            if var("GITHUB_ACTIONS").is_some() || var("GITHUB_REPOSITORY").is_some() {
                Some(Forge::GitHub)
            } else if var("GITLAB_CI").is_some() || var("CI_PROJECT_ID").is_some() {
                Some(Forge::GitLab)
            } else {
                None
            }
        });
        let missing = |what: &str, how: &str| -> Diagnostics {
            Diagnostic::error(
                "Cannot post the plan comment",
                format!("braid --comment does not know {what}: {how}."),
            )
            .into()
        };
        let Some(forge) = forge else {
            return Err(missing(
                "whether to post on GitHub or GitLab",
                "run it in GitHub Actions or GitLab CI, or give --comment-on github|gitlab with --comment-repo and --comment-pr",
            ));
        };
        match forge {
            Forge::GitHub => {
                let repository = flags.repository.clone().or_else(|| var("GITHUB_REPOSITORY")).ok_or_else(|| {
                    missing("the repository", "give --comment-repo OWNER/NAME, or run in GitHub Actions (GITHUB_REPOSITORY)")
                })?;
                let number = flags
                    .number
                    .or_else(|| {
                        var("GITHUB_REF").and_then(|r| {
                            r.strip_prefix("refs/pull/")?
                                .split('/')
                                .next()?
                                .parse()
                                .ok()
                        })
                    })
                    .or_else(|| {
                        let event = std::fs::read_to_string(var("GITHUB_EVENT_PATH")?).ok()?;
                        let event: serde_json::Value = serde_json::from_str(&event).ok()?;
                        event["pull_request"]["number"].as_u64()
                    })
                    .ok_or_else(|| {
                        missing(
                            "the pull request",
                            "give --comment-pr N, or run on a pull_request event (GITHUB_REF refs/pull/N/merge)",
                        )
                    })?;
                let token = var("GITHUB_TOKEN").ok_or_else(|| {
                    missing("a token", "set GITHUB_TOKEN (in Actions: env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}, with pull-requests: write)")
                })?;
                Ok(CommentTarget {
                    forge,
                    api: flags
                        .api
                        .clone()
                        .or_else(|| var("GITHUB_API_URL"))
                        .unwrap_or_else(|| "https://api.github.com".to_string()),
                    repository,
                    number,
                    token,
                })
            }
            Forge::GitLab => {
                let repository = flags.repository.clone().or_else(|| var("CI_PROJECT_ID")).ok_or_else(|| {
                    missing("the project", "give --comment-repo GROUP/NAME (or its id), or run in GitLab CI (CI_PROJECT_ID)")
                })?;
                let number = flags
                    .number
                    .or_else(|| var("CI_MERGE_REQUEST_IID")?.parse().ok())
                    .ok_or_else(|| {
                        missing(
                            "the merge request",
                            "give --comment-pr IID, or run in a merge request pipeline (CI_MERGE_REQUEST_IID)",
                        )
                    })?;
                let token = var("GITLAB_TOKEN").ok_or_else(|| {
                    missing("a token", "set GITLAB_TOKEN to a token with the api scope")
                })?;
                Ok(CommentTarget {
                    forge,
                    api: flags
                        .api
                        .clone()
                        .or_else(|| var("CI_API_V4_URL"))
                        .unwrap_or_else(|| "https://gitlab.com/api/v4".to_string()),
                    repository,
                    number,
                    token,
                })
            }
        }
    }
}

/// Posts `body` on `target`: updates the comment holding `marker` (braid's earlier one),
/// else creates one.
pub async fn post_comment(
    target: &CommentTarget,
    body: &str,
    marker: &str,
) -> Result<Posted, Diagnostics> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| failed(target, &format!("cannot make an HTTP client: {e}")))?;
    let api = target.api.trim_end_matches('/');
    // The thread's comments, and where one comment is edited (`{edit_base}/{id}`).
    let (list, edit_base, auth) = match target.forge {
        Forge::GitHub => (
            format!(
                "{api}/repos/{}/issues/{}/comments",
                target.repository, target.number
            ),
            format!("{api}/repos/{}/issues/comments", target.repository),
            ("authorization", format!("Bearer {}", target.token)),
        ),
        Forge::GitLab => {
            let notes = format!(
                "{api}/projects/{}/merge_requests/{}/notes",
                encode_path(&target.repository),
                target.number
            );
            (
                notes.clone(),
                notes,
                ("private-token", target.token.clone()),
            )
        }
    };
    let one = |id: u64| format!("{edit_base}/{id}");
    let request = |method: reqwest::Method, url: &str| {
        client
            .request(method, url)
            .header(auth.0, &auth.1)
            .header("accept", "application/json")
            .header("user-agent", concat!("braid/", env!("CARGO_PKG_VERSION")))
    };
    // braid's earlier comment: the first holding the marker, page by page.
    let mut existing = None;
    for page in 1..=50 {
        let url = format!("{list}?per_page=100&page={page}");
        let response = request(reqwest::Method::GET, &url)
            .send()
            .await
            .map_err(|e| failed(target, &transport(e)))?;
        let comments: Vec<serde_json::Value> = answer(target, response).await?;
        existing = comments.iter().find_map(|c| {
            c["body"]
                .as_str()
                .filter(|b| b.contains(marker))
                .and_then(|_| c["id"].as_u64())
        });
        if existing.is_some() || comments.len() < 100 {
            break;
        }
    }
    let payload = serde_json::json!({ "body": body });
    let (method, url) = match (existing, target.forge) {
        (Some(id), Forge::GitHub) => (reqwest::Method::PATCH, one(id)),
        (Some(id), Forge::GitLab) => (reqwest::Method::PUT, one(id)),
        (None, _) => (reqwest::Method::POST, list.clone()),
    };
    let response = request(method, &url)
        .header("content-type", "application/json")
        .body(payload.to_string())
        .send()
        .await
        .map_err(|e| failed(target, &transport(e)))?;
    let posted: serde_json::Value = answer(target, response).await?;
    let id = posted["id"].as_u64().or(existing).unwrap_or_default();
    Ok(match existing {
        Some(_) => Posted::Updated(id),
        None => Posted::Created(id),
    })
}

/// The JSON of a successful answer, or what the forge said.
async fn answer<T: serde::de::DeserializeOwned>(
    target: &CommentTarget,
    response: reqwest::Response,
) -> Result<T, Diagnostics> {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        let said = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or_else(|| text.chars().take(200).collect());
        let hint = match status.as_u16() {
            401 => " Check the token.",
            403 | 404 => {
                " Check that the token may write comments on this repository and that the number is right."
            }
            _ => "",
        };
        return Err(failed(
            target,
            &format!("the API answered {status}: {said}.{hint}"),
        ));
    }
    serde_json::from_str(&text).map_err(|e| {
        failed(
            target,
            &format!("the API's answer is not what it should be: {e}"),
        )
    })
}

/// A transport error, without its URL.
fn transport(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "the API did not answer within 30 s".to_string()
    } else if e.is_connect() {
        "the API could not be reached".to_string()
    } else {
        format!("the request failed: {}", e.without_url())
    }
}

fn failed(target: &CommentTarget, why: &str) -> Diagnostics {
    let place = match target.forge {
        Forge::GitHub => format!("pull request #{} of {}", target.number, target.repository),
        Forge::GitLab => format!("merge request !{} of {}", target.number, target.repository),
    };
    Diagnostic::error(
        "Cannot post the plan comment",
        format!("Posting the plan on {place} ({}) failed: {why}", target.api),
    )
    .into()
}

/// A GitLab project path as one URL path segment (`group/name` → `group%2Fname`).
pub fn encode_path(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn github_actions_and_gitlab_ci_say_where_to_post() {
        let github = CommentTarget::resolve(
            &CommentFlags::default(),
            env(&[
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_REPOSITORY", "acme/infra"),
                ("GITHUB_REF", "refs/pull/42/merge"),
                ("GITHUB_TOKEN", "t"),
            ]),
        )
        .expect("resolved");
        assert_eq!(
            (
                github.forge,
                github.api.as_str(),
                github.repository.as_str(),
                github.number
            ),
            (Forge::GitHub, "https://api.github.com", "acme/infra", 42)
        );
        let gitlab = CommentTarget::resolve(
            &CommentFlags::default(),
            env(&[
                ("GITLAB_CI", "true"),
                ("CI_PROJECT_ID", "17"),
                ("CI_MERGE_REQUEST_IID", "5"),
                ("CI_API_V4_URL", "https://gitlab.example/api/v4"),
                ("GITLAB_TOKEN", "t"),
            ]),
        )
        .expect("resolved");
        assert_eq!(
            (
                gitlab.forge,
                gitlab.api.as_str(),
                gitlab.repository.as_str(),
                gitlab.number
            ),
            (Forge::GitLab, "https://gitlab.example/api/v4", "17", 5)
        );
        let no_pr = CommentTarget::resolve(
            &CommentFlags::default(),
            env(&[
                ("GITHUB_REPOSITORY", "acme/infra"),
                ("GITHUB_REF", "refs/heads/main"),
            ]),
        )
        .expect_err("no pull request");
        assert!(
            no_pr.0[0].detail.contains("--comment-pr"),
            "{:?}",
            no_pr.0[0]
        );
        let nothing =
            CommentTarget::resolve(&CommentFlags::default(), env(&[])).expect_err("no CI");
        assert!(
            nothing.0[0].detail.contains("--comment-on"),
            "{:?}",
            nothing.0[0]
        );
    }
}
