//! Saved plan files: the plan JSON document (sensitive values masked), written atomically.

use std::path::Path as FsPath;

use braid_keys::Keyring;
use serde::Serialize;

use super::{FORMAT_VERSION, Plan, PlanSummary};
use crate::diag::Diagnostic;

/// The JSON document of a plan: the masked plan plus a summary of its changes. `braid plan
/// --format json` prints it and `--out` saves it.
#[derive(Serialize)]
struct PlanDocument<'a> {
    #[serde(flatten)]
    plan: &'a Plan,
    summary: PlanSummary,
}

/// The plan as its JSON document (docs/plan-json.md): sensitive values masked, with a `summary` of
/// the changes. `braid plan --format json` prints it and [`save`] writes it.
pub fn to_document(plan: &Plan) -> String {
    let masked = plan.masked();
    let doc = PlanDocument {
        summary: masked.summary(),
        plan: &masked,
    };
    // Plans hold only strings, numbers, maps and lists, which always serialize.
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// The same document on one line, written to `out`, for a plan the caller no longer needs
/// (masked without a copy): what the history keeps of every apply, which may hold a hundred
/// thousand changes, so it is streamed rather than made as one text first.
pub fn write_compact_document(plan: Plan, out: impl std::io::Write) -> std::io::Result<()> {
    let masked = plan.into_masked();
    let doc = PlanDocument {
        summary: masked.summary(),
        plan: &masked,
    };
    // serde_json writes a few bytes at a time: buffered, the writer sees large blocks.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer(&mut out, &doc).map_err(std::io::Error::other)?;
    std::io::Write::flush(&mut out)
}

/// Writes the plan to `path`, readable by its owner only (`0600`: a plan holds planned
/// attributes), via a temporary file and rename, so a reader never sees half. With the
/// environment's state `keyring`, the file is encrypted as state is (one sealed line).
pub async fn save(plan: &Plan, path: &FsPath, keyring: Option<&Keyring>) -> Result<(), Diagnostic> {
    let mut text = to_document(plan);
    if let Some(keyring) = keyring {
        let key = keyring.data_key().await.map_err(|e| {
            Diagnostic::error(
                "Cannot encrypt plan file",
                format!("{}: {e}.", path.display()),
            )
        })?;
        text = key.seal(text.as_bytes(), PLAN_AAD);
    }
    crate::private_files::write(path, (text + "\n").as_bytes()).map_err(|e| {
        Diagnostic::error(
            "Cannot write plan file",
            format!("{}: {e}.", path.display()),
        )
    })
}

/// What an encrypted plan file's seal is bound to.
const PLAN_AAD: &[u8] = b"braid-plan";

/// Reads a saved plan, refusing files of another format version. An encrypted one is
/// opened with `keyring` (the environment's, else the age identities of the process).
pub async fn load(path: &FsPath, keyring: Option<&Keyring>) -> Result<Plan, Diagnostic> {
    let mut text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostic::error(
            "Cannot read plan file",
            format!(
                "{}: {e}. Pass the file written by braid plan --out.",
                path.display()
            ),
        )
    })?;
    if braid_keys::is_sealed(text.trim_end()) {
        let fallback;
        let keyring = match keyring {
            Some(k) => k,
            None => {
                let identities = braid_keys::AgeIdentities::from_environment().map_err(|e| {
                    Diagnostic::error("Cannot read age identities", format!("{e}."))
                })?;
                // Opening needs no recipient; a KMS blob names its key.
                fallback = Keyring::new(&[], None, identities).map_err(|e| {
                    Diagnostic::error("Cannot read age identities", format!("{e}."))
                })?;
                &fallback
            }
        };
        let plain = keyring
            .open(text.trim_end(), PLAN_AAD)
            .await
            .map_err(|e| {
                Diagnostic::error(
                    "Cannot decrypt plan file",
                    format!(
                        "{} is encrypted, and {e}. Use the keys of the environment's state encryption (docs/secrets.md).",
                        path.display()
                    ),
                )
            })?;
        text = String::from_utf8(plain).map_err(|e| {
            Diagnostic::error("Invalid plan file", format!("{}: {e}.", path.display()))
        })?;
    }
    parse(&text, &path.display().to_string())
}

/// Plans of braid's major format version read, whatever their minor (a minor version only
/// adds fields, which an older braid ignores); another major version is refused.
fn check_format_version(json: &serde_json::Value, what: &str) -> Result<(), Diagnostic> {
    let version = json
        .get("format_version")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    if version.split('.').next() != FORMAT_VERSION.split('.').next() {
        return Err(Diagnostic::error(
            "Unsupported plan format",
            format!(
                "{what} has plan format version \"{version}\", but this braid reads version {FORMAT_VERSION}. Make the plan again with this braid."
            ),
        ));
    }
    Ok(())
}

/// Reads a plan document (what [`to_document`] wrote), refusing one of another format
/// version; `what` names it in messages (a file's path).
pub fn parse(text: &str, what: &str) -> Result<Plan, Diagnostic> {
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        Diagnostic::error(
            "Invalid plan file",
            format!("{what} is not a braid plan: {e}."),
        )
    })?;
    check_format_version(&json, what)?;
    // Read again from the text rather than from `json`, whose numbers are `f64`s: a plan
    // keeps every digit of its numbers.
    serde_json::from_str(text)
        .map_err(|e| Diagnostic::error("Invalid plan file", format!("{what} is damaged: {e}.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_version(version: &str) -> serde_json::Value {
        serde_json::json!({ "format_version": version, "changes": [] })
    }

    #[test]
    fn plans_of_another_major_version_are_refused() {
        assert!(check_format_version(&with_version(FORMAT_VERSION), "a.plan").is_ok());
        assert!(check_format_version(&with_version("1.7"), "a.plan").is_ok());
        for other in ["2.0", "0.9", ""] {
            let error = check_format_version(&with_version(other), "a.plan").expect_err(other);
            assert_eq!(error.summary, "Unsupported plan format");
            assert!(
                error.detail.contains("Make the plan again"),
                "{}",
                error.detail
            );
        }
        // The whole read refuses it before looking at anything else.
        let refused = parse(&with_version("2.0").to_string(), "a.plan").expect_err("2.0");
        assert_eq!(refused.summary, "Unsupported plan format");
    }
}
