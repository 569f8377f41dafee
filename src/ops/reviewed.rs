//! Reviewed plans kept in the state backend: `braid plan --out` without a file stores the
//! plan made on a pull request, keyed by environment (each environment's backend keeps its
//! own), the state's serial and the sources' content; `braid apply --reviewed` after the
//! merge applies exactly that plan while it is still fresh, and refuses, saying why,
//! otherwise.
//!
//! The content of a source is its git tree (the files of its directory at the commit), so
//! the plan made at a pull request's head, or at GitHub's merge preview, is found again at
//! the merge commit when the merge did not change the files: fast-forward, rebase or squash
//! of an up-to-date branch, or a merge commit whose tree is the preview's.

use braid_state::{Precondition, SourceRevision, StateStore};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::{Prepared, RunOptions, RunOutcome};
use crate::apply::ApplyObserver;
use crate::diag::{Diagnostic, Diagnostics, state_error};
use crate::plan::{Plan, file};
use crate::providers::ProviderRegistry;
use crate::workspace::{LoadOptions, Workspace};

/// The prefix of reviewed plans among an environment's documents.
pub const PREFIX: &str = "reviewed/";

/// The pull or merge request a reviewed plan was commented on, so that `braid apply
/// --reviewed --comment` can answer there. No token: the applying job brings its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewThread {
    /// `github` or `gitlab`.
    pub forge: String,
    /// `OWNER/NAME` (GitHub) or the project's path or id (GitLab).
    pub repository: String,
    /// The pull request's number or the merge request's IID.
    pub number: u64,
    /// The API's base URL.
    pub api: String,
}

/// What a reviewed-plan document holds.
#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    /// The document's format, 1.
    braid_reviewed_plan: u32,
    /// When and by whom it was stored.
    stored_at: DateTime<Utc>,
    actor: String,
    /// Where the plan was commented on, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    thread: Option<ReviewThread>,
    /// The plan document, as `braid plan --out FILE` writes it (sensitive values masked).
    plan: String,
}

/// A reviewed plan found for the sources as they are now.
#[derive(Debug)]
pub struct Reviewed {
    /// Who stored it.
    pub actor: String,
    /// When it was stored.
    pub stored_at: DateTime<Utc>,
    /// The pull or merge request it was commented on.
    pub thread: Option<ReviewThread>,
    /// Its document's name and version.
    name: String,
    version: String,
}

/// Why `braid apply --reviewed` applied nothing, with the review thread of the plan it
/// refused when there was one.
#[derive(Debug)]
pub struct Refused {
    /// Why.
    pub diagnostics: Diagnostics,
    /// Where the refused plan was commented on, to answer there.
    pub thread: Option<ReviewThread>,
}

impl From<Diagnostic> for Refused {
    fn from(diagnostic: Diagnostic) -> Refused {
        Diagnostics::from(diagnostic).into()
    }
}

impl From<Diagnostics> for Refused {
    fn from(diagnostics: Diagnostics) -> Refused {
        Refused {
            diagnostics,
            thread: None,
        }
    }
}

/// The key of `sources`' content: per source, its name, its tree (else its commit) and the
/// digest of its configuration files. The repository's place on disk is left out: the
/// planning and the applying job may check out to different directories.
pub fn content_key(sources: &[SourceRevision]) -> String {
    let mut sorted: Vec<&SourceRevision> = sources.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut hasher = sha2::Sha256::new();
    for s in sorted {
        for part in [
            s.name.as_str(),
            s.tree.as_deref().or(s.commit.as_deref()).unwrap_or("-"),
            s.digest.as_str(),
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
    }
    hex::encode(hasher.finalize())
}

fn document_name(serial: u64, key: &str) -> String {
    format!("{PREFIX}s{serial:020}-{key}")
}

/// The serial and key of a reviewed plan's document name.
fn parse_name(name: &str) -> Option<(u64, &str)> {
    let (serial, key) = name
        .strip_prefix(PREFIX)?
        .strip_prefix('s')?
        .split_once('-')?;
    Some((serial.parse().ok()?, key))
}

/// Stores `plan` as the reviewed plan for its sources and state serial (replacing one
/// stored before for the same), and deletes reviewed plans made against older serials,
/// which can never be applied. Returns the document's name.
pub async fn store(
    store: &dyn StateStore,
    plan: &Plan,
    actor: &str,
    thread: Option<ReviewThread>,
) -> Result<String, Diagnostics> {
    if plan.sources.iter().any(|s| s.dirty) {
        return Err(Diagnostic::error(
            "Cannot store a plan of uncommitted files",
            "A source has changes that are not committed, so no merge can bring exactly these files: commit them (or plan in CI, on the pull request) before storing the reviewed plan.",
        )
        .into());
    }
    let name = document_name(plan.state.serial, &content_key(&plan.sources));
    let body = serde_json::to_vec(&Stored {
        braid_reviewed_plan: 1,
        stored_at: Utc::now(),
        actor: actor.to_string(),
        thread,
        plan: file::to_document(plan),
    })
    .map_err(|e| Diagnostic::error("Cannot store the reviewed plan", e.to_string()))?;
    store
        .put_document(&name, &body, Precondition::Any)
        .await
        .map_err(state_error)?;
    prune(store, plan.state.serial).await?;
    Ok(name)
}

/// Deletes the reviewed plans made against a serial older than `serial`.
async fn prune(store: &dyn StateStore, serial: u64) -> Result<(), Diagnostics> {
    for name in store.document_names(PREFIX).await.map_err(state_error)? {
        if parse_name(&name).is_none_or(|(s, _)| s < serial) {
            store
                .delete_document(&name, Precondition::Any)
                .await
                .map_err(state_error)?;
        }
    }
    Ok(())
}

/// The reviewed plan for `sources` at the state's current serial, or why there is none.
/// The plan's sources name the commits read now.
async fn find(
    store: &dyn StateStore,
    env: &str,
    sources: &[SourceRevision],
) -> Result<(Plan, Reviewed), Refused> {
    let meta = store.meta().await.map_err(state_error)?;
    let key = content_key(sources);
    let name = document_name(meta.serial, &key);
    let Some(doc) = store.document(&name).await.map_err(state_error)? else {
        let names = store.document_names(PREFIX).await.map_err(state_error)?;
        let same_content: Vec<u64> = names
            .iter()
            .filter_map(|n| parse_name(n))
            .filter(|(_, k)| *k == key)
            .map(|(serial, _)| serial)
            .collect();
        if let Some(serial) = same_content.iter().max() {
            let old = store
                .document(&document_name(*serial, &key))
                .await
                .map_err(state_error)?
                .and_then(|d| serde_json::from_slice::<Stored>(&d.body).ok());
            return Err(Refused {
                diagnostics: Diagnostic::error(
                    "Reviewed plan is stale",
                    format!(
                        "The plan reviewed for these sources{} was made against state serial {serial}, but the state of environment \"{env}\" is at serial {} now: something was applied since. Applying it could undo or repeat changes nobody reviewed. Plan again on the pull request (braid plan --env {env} --out) and review the new plan.",
                        old.as_ref()
                            .map(|o| format!(" (stored by {} at {})", o.actor, o.stored_at.format("%Y-%m-%d %H:%M:%S UTC")))
                            .unwrap_or_default(),
                        meta.serial
                    ),
                )
                .into(),
                thread: old.and_then(|o| o.thread),
            });
        }
        let described = sources
            .iter()
            .map(|s| {
                format!(
                    "{} at {}",
                    s.name,
                    s.commit.as_deref().map_or_else(
                        || s.digest.clone(),
                        |c| format!("commit {}", &c[..c.len().min(12)])
                    )
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let others = names.len();
        return Err(Diagnostic::error(
            "No reviewed plan",
            format!(
                "Environment \"{env}\" has no reviewed plan for its sources as they are now ({described}){}. A plan is stored for review by braid plan --env {env} --out on the pull request; a plan of an earlier push to the pull request, or of a merge that changed the files (the branch was behind), does not count. Plan again and review, or apply without --reviewed.",
                if others == 0 {
                    String::new()
                } else {
                    format!("; it has {others} for other sources")
                }
            ),
        )
        .into());
    };
    let stored: Stored = serde_json::from_slice(&doc.body).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Invalid reviewed plan",
            format!("The reviewed plan {name} in the state backend cannot be read ({e}). Plan again on the pull request."),
        ))
    })?;
    let mut plan = file::parse(&stored.plan, &format!("the reviewed plan {name}"))
        .map_err(Diagnostics::from)?;
    // The plan read its sources at the pull request's commits; the files are the same
    // now (same key), read at the commits of the merge.
    for planned in &mut plan.sources {
        if let Some(now) = sources.iter().find(|s| s.name == planned.name) {
            planned.commit.clone_from(&now.commit);
            planned.reference.clone_from(&now.reference);
            planned.tag.clone_from(&now.tag);
            planned.full_ref.clone_from(&now.full_ref);
            planned.tree.clone_from(&now.tree);
            planned.repo.clone_from(&now.repo);
        }
    }
    Ok((
        plan,
        Reviewed {
            actor: stored.actor,
            stored_at: stored.stored_at,
            thread: stored.thread,
            name,
            version: doc.version,
        },
    ))
}

/// `braid apply --reviewed`: reads the sources at their refs now, finds the plan reviewed
/// for exactly their content at the state's serial, and applies it as `braid apply FILE`
/// applies a saved plan (under the lock, refused if state or sources moved meanwhile).
/// Once applied, it is deleted, with every reviewed plan of an older serial.
pub async fn apply_reviewed(
    registry: &ProviderRegistry,
    load: LoadOptions,
    options: &RunOptions,
    observer: &dyn ApplyObserver,
) -> Result<(Prepared, RunOutcome, Reviewed), Refused> {
    let ws = Workspace::load(&load.clone().allowing_missing_variables())?;
    let store = ws.open_state()?;
    let current: Vec<SourceRevision> = ws.sources.iter().map(|s| s.revision.clone()).collect();
    let env = ws.env_name.clone();
    drop(ws);
    let (plan, reviewed) = find(store.as_ref(), &env, &current).await?;
    let thread = reviewed.thread.clone();
    let refused = |diagnostics: Diagnostics| Refused {
        diagnostics,
        thread: thread.clone(),
    };
    let (prepared, outcome) = super::apply_saved(registry, load, plan, options, observer)
        .await
        .map_err(refused)?;
    if outcome.succeeded() {
        // Applied: it cannot be applied again, and no plan of the old serial can either.
        let _ = store
            .delete_document(&reviewed.name, Precondition::Version(&reviewed.version))
            .await;
        let serial = prepared
            .store
            .meta()
            .await
            .map_err(|e| refused(state_error(e)))?
            .serial;
        prune(prepared.store.as_ref(), serial)
            .await
            .map_err(refused)?;
    }
    Ok((prepared, outcome, reviewed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: &str, commit: &str, tree: Option<&str>) -> SourceRevision {
        SourceRevision {
            name: name.to_string(),
            repo: format!("/checkout/{commit}/{name}"),
            reference: Some("main".to_string()),
            commit: Some(commit.to_string()),
            tag: None,
            full_ref: None,
            tree: tree.map(str::to_string),
            digest: "sha256:files".to_string(),
            dirty: false,
            helm: None,
        }
    }

    #[test]
    fn the_key_is_the_content_not_the_commit_or_the_checkout() {
        let pr = [
            source("infra", "aaaa", Some("t1")),
            source("apps", "bbbb", Some("t2")),
        ];
        let merged = [
            source("apps", "cccc", Some("t2")),
            source("infra", "dddd", Some("t1")),
        ];
        assert_eq!(content_key(&pr), content_key(&merged));
        let changed = [
            source("infra", "dddd", Some("t9")),
            source("apps", "cccc", Some("t2")),
        ];
        assert_ne!(content_key(&pr), content_key(&changed));
        // Without a tree, the commit decides.
        let a = [source("infra", "aaaa", None)];
        let b = [source("infra", "bbbb", None)];
        assert_ne!(content_key(&a), content_key(&b));
    }

    #[test]
    fn names_carry_the_serial() {
        let name = document_name(42, "abc");
        assert_eq!(parse_name(&name), Some((42, "abc")));
        assert_eq!(parse_name("reviewed/junk"), None);
    }
}
