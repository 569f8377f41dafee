//! Saved plan files: the plan JSON document (sensitive values masked), written atomically.

use std::path::Path as FsPath;

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

/// Writes the plan to `path`, readable by its owner only (`0600`: a plan holds planned
/// attributes), via a temporary file and rename, so a reader never sees half.
pub fn save(plan: &Plan, path: &FsPath) -> Result<(), Diagnostic> {
    crate::private_files::write(path, (to_document(plan) + "\n").as_bytes()).map_err(|e| {
        Diagnostic::error(
            "Cannot write plan file",
            format!("{}: {e}.", path.display()),
        )
    })
}

/// Reads a saved plan, refusing files of another format version.
pub fn load(path: &FsPath) -> Result<Plan, Diagnostic> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostic::error(
            "Cannot read plan file",
            format!(
                "{}: {e}. Pass the file written by braid plan --out.",
                path.display()
            ),
        )
    })?;
    parse(&text, &path.display().to_string())
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
    // Read again from the text rather than from `json`, whose numbers are `f64`s: a plan
    // keeps every digit of its numbers.
    serde_json::from_str(text)
        .map_err(|e| Diagnostic::error("Invalid plan file", format!("{what} is damaged: {e}.")))
}
