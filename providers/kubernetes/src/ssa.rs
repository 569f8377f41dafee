//! Server-side apply with braid's conflict rule.
//!
//! braid applies without `force`. When the server reports conflicts:
//! - if every conflicting field is one braid owned at its last apply (it is in the prior
//!   state), another manager changed braid's field: that is drift, and braid takes the field
//!   back with `force` (like Argo CD's self-heal);
//! - otherwise another manager owns a field braid never managed; braid stops with an error
//!   naming the managers and fields, unless the provider sets `force_conflicts = true`
//!   (`braid apply --force-conflicts`).

use braid_provider::{Path, ProviderDiagnostic, Value};
use serde_json::Value as Json;

use crate::cluster::{Cluster, ServedKind};
use crate::desired::Desired;
use crate::error::KubeError;
use crate::fields::conflict_path_present;
use crate::object::ObjectRef;

/// One field another manager owns with a different value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub manager: String,
    pub field: String,
}

/// Why a server-side apply did not happen.
#[derive(Debug)]
pub enum ApplyFailure {
    /// Fields owned by other managers; the caller decides how to report them.
    Conflicts(Vec<Conflict>),
    Api(KubeError),
}

/// Applies (or dry-runs) `desired` with the conflict rule above.
pub async fn server_side_apply(
    cluster: &Cluster,
    kind: &ServedKind,
    object: &ObjectRef,
    desired: &Desired,
    prior: Option<&Value>,
    dry_run: bool,
) -> Result<Json, ApplyFailure> {
    let body = desired.body();
    let force = cluster.settings.force_conflicts;
    match cluster.apply(kind, object, &body, dry_run, force).await {
        Ok(applied) => Ok(applied),
        Err(error) if error.is_conflict() && !force => {
            let conflicts = conflicts_of(&error);
            let prior_json = prior.map(Value::to_json);
            let drift = !conflicts.is_empty()
                && prior_json.as_ref().is_some_and(|prior| {
                    conflicts
                        .iter()
                        .all(|c| conflict_path_present(prior, &c.field))
                });
            if !drift {
                return Err(if conflicts.is_empty() {
                    ApplyFailure::Api(error)
                } else {
                    ApplyFailure::Conflicts(conflicts)
                });
            }
            cluster
                .apply(kind, object, &body, dry_run, true)
                .await
                .map_err(ApplyFailure::Api)
        }
        Err(error) => Err(ApplyFailure::Api(error)),
    }
}

/// The conflicts a 409 from server-side apply lists in its causes.
fn conflicts_of(error: &KubeError) -> Vec<Conflict> {
    let Some(details) = error.status().and_then(|s| s.details.as_ref()) else {
        return Vec::new();
    };
    details
        .causes
        .iter()
        .filter(|c| c.reason == "FieldManagerConflict")
        .map(|c| Conflict {
            manager: manager_in(&c.message).unwrap_or_else(|| c.message.clone()),
            field: c.field.clone(),
        })
        .collect()
}

/// `conflict with "kubectl-edit" using apps/v1` → `kubectl-edit`.
fn manager_in(message: &str) -> Option<String> {
    let start = message.find('"')? + 1;
    let end = start + message[start..].find('"')?;
    Some(message[start..end].to_string())
}

/// The error for conflicts braid will not resolve on its own.
pub fn conflict_diagnostic(object: &ObjectRef, conflicts: &[Conflict]) -> ProviderDiagnostic {
    let mut managers: Vec<&str> = conflicts.iter().map(|c| c.manager.as_str()).collect();
    managers.dedup();
    let fields: Vec<String> = conflicts
        .iter()
        .map(|c| format!("{} (owned by \"{}\")", c.field, c.manager))
        .collect();
    let diagnostic = ProviderDiagnostic::error(
        "Field owned by another manager",
        format!(
            "{object} has fields that another field manager ({}) set to different values, and \
             braid never managed them: {}. Remove them from the manifest, change them with the \
             other tool, or take them over with `braid apply --force-conflicts` (provider \
             attribute force_conflicts = true).",
            managers
                .iter()
                .map(|m| format!("\"{m}\""))
                .collect::<Vec<_>>()
                .join(", "),
            fields.join(", ")
        ),
    );
    match conflicts.first().and_then(|c| dotted_path(&c.field)) {
        Some(path) => diagnostic.at(path),
        None => diagnostic,
    }
}

/// `.spec.replicas` → `spec.replicas`, when it is a plain dotted path.
pub fn dotted_path(field: &str) -> Option<Path> {
    let trimmed = field.trim_start_matches('.');
    if trimmed.is_empty() || trimmed.contains('[') {
        return None;
    }
    Some(Path(
        trimmed
            .split('.')
            .map(|s| braid_provider::PathStep::Key(s.to_string()))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manager_names_come_from_the_cause_message() {
        assert_eq!(
            manager_in("conflict with \"kubectl-edit\" using apps/v1").as_deref(),
            Some("kubectl-edit")
        );
        assert_eq!(dotted_path(".spec.replicas"), Path::parse("spec.replicas"));
        assert_eq!(dotted_path(".spec.containers[name=\"a\"]"), None);
    }
}
