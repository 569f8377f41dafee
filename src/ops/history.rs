//! What each apply changed, kept beside the state: after every apply, the changes of its
//! plan (sensitive values masked, no-ops left out) are stored, as gzip-compressed JSON, in
//! the document `history/a<apply id>` of the environment's backend, so the history (the agent's page,
//! its API) can show each apply's diff and not only its counts. The newest
//! [`KEEP`] are kept.

use std::io::Read as _;

use braid_state::{ApplyId, ApplyRecord, ChangeRecord, Precondition, StateStore};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use crate::diag::{Diagnostic, state_error};
use crate::plan::{Plan, file};

/// The prefix of history documents.
pub const PREFIX: &str = "history/";
/// How many applies keep their diff.
pub const KEEP: usize = 50;

fn name(id: ApplyId) -> String {
    format!("{PREFIX}a{id:020}")
}

/// Stores the changes of `plan`, applied as apply `id`, and forgets the diffs of applies
/// older than the newest [`KEEP`]. A failure is returned as a warning: the apply itself is
/// recorded in the audit log either way.
pub async fn record(store: &dyn StateStore, id: ApplyId, plan: &Plan) -> Result<(), Diagnostic> {
    let warn = |why: String| {
        Diagnostic::warning(
            "Apply's diff not kept",
            format!(
                "The changes of apply #{id} were applied and recorded in the audit log, but their diff could not be kept for the history ({why})."
            ),
        )
    };
    let failed = |e: braid_state::StateError| {
        warn(
            state_error(e)
                .0
                .first()
                .map(|d| d.detail.clone())
                .unwrap_or_default(),
        )
    };
    let mut body = GzEncoder::new(Vec::new(), Compression::fast());
    file::write_compact_document(plan.changes_only(), &mut body)
        .and_then(|()| body.try_finish())
        .map_err(|e| warn(e.to_string()))?;
    let body = body.get_ref();
    store
        .put_document(&name(id), body, Precondition::Any)
        .await
        .map_err(failed)?;
    let names = store.document_names(PREFIX).await.map_err(failed)?;
    if names.len() > KEEP {
        for old in &names[..names.len() - KEEP] {
            store
                .delete_document(old, Precondition::Any)
                .await
                .map_err(failed)?;
        }
    }
    Ok(())
}

/// One apply of the history: its audit-log record and changes, and the plan it applied
/// when its diff was kept.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The audit log's record.
    pub apply: ApplyRecord,
    /// What happened to each resource.
    pub changes: Vec<ChangeRecord>,
    /// The changes it applied (masked), when kept.
    pub plan: Option<Plan>,
}

/// A history document's JSON: gzip-compressed, or as plain text (braid 0.1 before
/// compression); `None` when it is neither.
fn document_text(body: Vec<u8>) -> Option<String> {
    if body.starts_with(&[0x1f, 0x8b]) {
        let mut text = String::new();
        GzDecoder::new(body.as_slice())
            .read_to_string(&mut text)
            .ok()?;
        Some(text)
    } else {
        String::from_utf8(body).ok()
    }
}

/// The newest `limit` applies, newest first, each with its diff when kept.
pub async fn recent(
    store: &dyn StateStore,
    limit: usize,
) -> Result<Vec<Entry>, crate::diag::Diagnostics> {
    let applies = store.applies(limit).await.map_err(state_error)?;
    let mut entries = Vec::with_capacity(applies.len());
    for apply in applies {
        let changes = store.changes(apply.id).await.map_err(state_error)?;
        let plan = store
            .document(&name(apply.id))
            .await
            .map_err(state_error)?
            .and_then(|doc| document_text(doc.body))
            .and_then(|text| file::parse(&text, "a history entry").ok());
        entries.push(Entry {
            apply,
            changes,
            plan,
        });
    }
    Ok(entries)
}

/// One resource in state and how its object is doing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ResourceHealth {
    /// Its address.
    pub address: String,
    /// Its type (`kubernetes_manifest`, `aws_sqs_queue`).
    pub type_name: String,
    /// Healthy, progressing, degraded, missing or unknown.
    pub health: braid_provider::HealthStatus,
    /// Why, when not healthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The health of every resource in state, asking its provider ([`braid_provider::Provider::health`]),
/// `parallelism` at a time; in address order.
pub async fn health(
    prepared: &super::Prepared,
    parallelism: usize,
) -> Result<Vec<ResourceHealth>, crate::diag::Diagnostics> {
    use futures::StreamExt as _;
    let records = prepared.store.resources().await.map_err(state_error)?;
    let asks = records.into_iter().map(|record| async move {
        let (health, message) = match prepared.providers.get(&record.provider) {
            Some(provider) => {
                let h = provider.health(&record.type_name, &record.attributes).await;
                (h.status, h.message)
            }
            None => (
                braid_provider::HealthStatus::Unknown,
                Some(format!("no provider {} in this run", record.provider)),
            ),
        };
        ResourceHealth {
            address: record.address,
            type_name: record.type_name,
            health,
            message,
        }
    });
    let mut all: Vec<ResourceHealth> = futures::stream::iter(asks)
        .buffer_unordered(parallelism.max(1))
        .collect()
        .await;
    all.sort_by(|a, b| a.address.cmp(&b.address));
    Ok(all)
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    #[test]
    fn documents_are_read_compressed_and_as_earlier_versions_wrote_them() {
        let json = r#"{"changes":[]}"#;
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(json.as_bytes()).expect("compress");
        let compressed = gz.finish().expect("compress");
        assert_ne!(compressed, json.as_bytes());
        assert_eq!(document_text(compressed).as_deref(), Some(json));
        assert_eq!(
            document_text(json.as_bytes().to_vec()).as_deref(),
            Some(json)
        );
        // Neither gzip nor text: no diff rather than garbage.
        assert_eq!(document_text(vec![0x1f, 0x8b, 0, 1]), None);
        assert_eq!(document_text(vec![0xff, 0xfe]), None);
    }
}
