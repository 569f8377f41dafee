//! Objects that run once per release and may delete themselves, as Helm's hooks do (braid's
//! Helm support sets these annotations on a chart's hooks; any manifest may carry them):
//!
//! - `braid.dev/recreate-token`: when its value changes, the object is replaced (deleted,
//!   then created) rather than updated — a Job runs again;
//! - `braid.dev/delete-after`: `succeeded`, `failed` or both (comma-separated): once the
//!   object is ready (or has failed), braid deletes it from the cluster and keeps it in
//!   state, so its absence is not drift; it is created again when its token changes.
//!
//! A self-deleting object whose readiness wait failed is recorded with the token `failed`,
//! so the next apply runs it again.

use braid_provider::{Path, Value};

/// See the module documentation.
pub const RECREATE_TOKEN_ANNOTATION: &str = "braid.dev/recreate-token";
/// See the module documentation.
pub const DELETE_AFTER_ANNOTATION: &str = "braid.dev/delete-after";
/// The token recorded for an object whose run failed.
const FAILED_TOKEN: &str = "failed";

fn annotation<'a>(state: &'a Value, key: &str) -> Option<&'a str> {
    state
        .attr("metadata")
        .and_then(|m| m.attr("annotations"))
        .and_then(|a| a.attr(key))
        .and_then(Value::as_str)
}

/// The recreate token changed between the recorded object and the desired one.
pub fn token_changed(prior: &Value, desired: &Value) -> bool {
    match (
        annotation(prior, RECREATE_TOKEN_ANNOTATION),
        annotation(desired, RECREATE_TOKEN_ANNOTATION),
    ) {
        (Some(before), Some(after)) => before != after,
        _ => false,
    }
}

/// The path a plan names as forcing the replacement.
pub fn token_path() -> Path {
    Path::key("metadata")
        .child_key("annotations")
        .child_key(RECREATE_TOKEN_ANNOTATION)
}

/// When the object deletes itself: (after success, after failure).
pub fn delete_after(state: &Value) -> (bool, bool) {
    let Some(text) = annotation(state, DELETE_AFTER_ANNOTATION) else {
        return (false, false);
    };
    let mut succeeded = false;
    let mut failed = false;
    for word in text.split(',') {
        match word.trim() {
            "succeeded" => succeeded = true,
            "failed" => failed = true,
            _ => {}
        }
    }
    (succeeded, failed)
}

/// Whether the object's absence from the cluster is by its own policy.
pub fn deletes_itself(state: &Value) -> bool {
    let (succeeded, failed) = delete_after(state);
    succeeded || failed
}

/// `state` with the recreate token marked failed, so the next plan replaces the object.
pub fn mark_failed(state: &Value) -> Value {
    let mut state = state.clone();
    if annotation(&state, RECREATE_TOKEN_ANNOTATION).is_none() {
        return state;
    }
    if let Value::Map(root) = &mut state
        && let Some(Value::Map(metadata)) = root.get_mut("metadata")
        && let Some(Value::Map(annotations)) = metadata.get_mut("annotations")
    {
        annotations.insert(
            RECREATE_TOKEN_ANNOTATION.to_string(),
            Value::String(FAILED_TOKEN.to_string()),
        );
    }
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(annotations: &[(&str, &str)]) -> Value {
        Value::map([(
            "metadata",
            Value::map([(
                "annotations",
                Value::Map(
                    annotations
                        .iter()
                        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                        .collect(),
                ),
            )]),
        )])
    }

    #[test]
    fn tokens_and_policies() {
        let a = object(&[(RECREATE_TOKEN_ANNOTATION, "a")]);
        let b = object(&[(RECREATE_TOKEN_ANNOTATION, "b")]);
        assert!(token_changed(&a, &b));
        assert!(!token_changed(&a, &a));
        assert!(!token_changed(&object(&[]), &b));
        assert!(token_changed(&mark_failed(&a), &a));
        let both = object(&[(DELETE_AFTER_ANNOTATION, "succeeded, failed")]);
        assert_eq!(delete_after(&both), (true, true));
        assert!(!deletes_itself(&a));
    }
}
