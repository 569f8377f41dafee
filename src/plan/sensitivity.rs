//! Sensitivity that follows a value through a provider: Terraform's marks, for values a
//! provider copies or derives from sensitive configuration.
//!
//! The engine knows which configuration paths are sensitive. A provider that derives a
//! computed attribute from one of them says so in its plan answer; as a safety net for
//! providers that do not, any planned or applied string that holds a sensitive
//! configuration string (equal to it, or containing it when it is long enough not to match
//! by chance) is sensitive too.

use braid_provider::{Path, ProviderDiagnostic, Value};

/// Every string of `config` at or below one of `sensitive`.
pub fn sensitive_strings<'a>(config: &'a Value, sensitive: &[Path]) -> Vec<&'a str> {
    let mut out = Vec::new();
    for path in sensitive {
        if let Some(value) = config.get(path) {
            collect_strings(value, &mut out);
        }
    }
    out.retain(|s| !s.is_empty());
    out.sort_unstable();
    out.dedup();
    out
}

fn collect_strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::List(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Map(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

pub use crate::eval::secrets::mark_derived;

/// Shortest sensitive string removed from the text of a provider's diagnostic; shorter
/// ones would garble unrelated words. Diagnostics about a sensitive attribute lose their
/// whole detail, so a short secret is only at risk in a diagnostic about another one.
const REDACT_MIN_LEN: usize = 3;

/// What replaces the detail of a provider's diagnostic about a sensitive attribute.
pub const SENSITIVE_ATTRIBUTE_DETAIL: &str = "The attribute holds a sensitive value, so the provider's explanation is not shown: it could quote the value. Check the value against the provider's documentation for this attribute.";

/// Makes provider diagnostics safe to show: one about a sensitive attribute loses its
/// detail, and any sensitive string of `values` (each with its sensitive paths) quoted in
/// any other is replaced by `(sensitive)`.
pub fn redact(diagnostics: &mut [ProviderDiagnostic], values: &[(&Value, &[Path])]) {
    if diagnostics.is_empty() {
        return;
    }
    let mut secrets: Vec<&str> = Vec::new();
    let mut paths: Vec<&Path> = Vec::new();
    for (value, sensitive) in values {
        secrets.extend(sensitive_strings(value, sensitive));
        paths.extend(sensitive.iter());
    }
    secrets.retain(|s| s.len() >= REDACT_MIN_LEN);
    // Longest first, so that a secret containing another is removed whole.
    secrets.sort_unstable_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    for diagnostic in diagnostics {
        let about_secret = diagnostic
            .attribute
            .as_ref()
            .is_some_and(|at| paths.iter().any(|p| at.starts_with(p) || p.starts_with(at)));
        if about_secret {
            diagnostic.detail = SENSITIVE_ATTRIBUTE_DETAIL.to_string();
        }
        for secret in &secrets {
            for text in [&mut diagnostic.summary, &mut diagnostic.detail] {
                if text.contains(secret) {
                    *text = text.replace(secret, crate::plan::SENSITIVE);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn copies_and_embeddings_of_a_secret_are_marked() {
        let config = obj(&[
            ("password", Value::from("hunter2-long")),
            ("name", Value::from("db")),
        ]);
        let secrets = sensitive_strings(&config, &[Path::key("password")]);
        assert_eq!(secrets, ["hunter2-long"]);
        let planned = obj(&[
            ("password", Value::from("hunter2-long")),
            ("name", Value::from("db")),
            ("url", Value::from("postgres://u:hunter2-long@h/db")),
            (
                "copy",
                Value::List(vec![Value::from("x"), Value::from("hunter2-long")]),
            ),
        ]);
        let mut paths = vec![Path::key("password")];
        mark_derived(&planned, &secrets, &mut paths);
        assert_eq!(
            paths,
            [
                Path::key("copy").child_index(1),
                Path::key("password"),
                Path::key("url"),
            ]
        );
    }

    #[test]
    fn short_secrets_mark_only_equal_strings() {
        let config = obj(&[("pin", Value::from("42"))]);
        let secrets = sensitive_strings(&config, &[Path::key("pin")]);
        let planned = obj(&[("pin", Value::from("42")), ("port", Value::from("8042"))]);
        let mut paths = Vec::new();
        mark_derived(&planned, &secrets, &mut paths);
        assert_eq!(paths, [Path::key("pin")]);
    }

    #[test]
    fn provider_diagnostics_lose_sensitive_text() {
        let config = obj(&[
            ("mode", Value::from("s3cr3t-mode")),
            ("filename", Value::from("dir/s3cr3t-mode/x")),
        ]);
        let sensitive = [Path::key("mode")];
        let mut diags = vec![
            ProviderDiagnostic::error("Invalid permission", "\"s3cr3t-mode\" is not octal")
                .at(Path::key("mode")),
            ProviderDiagnostic::error("Cannot write file", "cannot create dir/s3cr3t-mode/x")
                .at(Path::key("filename")),
        ];
        redact(&mut diags, &[(&config, &sensitive)]);
        assert_eq!(diags[0].detail, SENSITIVE_ATTRIBUTE_DETAIL);
        assert_eq!(diags[1].detail, "cannot create dir/(sensitive)/x");
        assert_eq!(diags[0].summary, "Invalid permission");
    }
}
