//! Apply progress and results: a line per event for people and CI logs, or one JSON
//! report at the end.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;

use braid_state::ChangeOutcome;
use serde_json::json;

use super::Style;
use super::diagnostic;
use crate::apply::{ApplyObserver, ApplyReport, ChangeResult};
use crate::plan::{Action, OutputValue, ResourceChange};

/// Prints `local_file.motd: Creating...` style lines as changes start and finish.
pub struct ApplyLines {
    style: Style,
    out: Mutex<Box<dyn Write + Send>>,
}

impl ApplyLines {
    pub fn new(style: Style, out: Box<dyn Write + Send>) -> Self {
        ApplyLines {
            style,
            out: Mutex::new(out),
        }
    }

    fn line(&self, text: &str) {
        if let Ok(mut out) = self.out.lock() {
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }
}

fn verbs(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::Create => ("Creating...", "Creation complete"),
        Action::Update => ("Modifying...", "Modifications complete"),
        Action::Replace => ("Replacing...", "Replacement complete"),
        Action::Delete => ("Destroying...", "Destruction complete"),
        Action::Import => ("Importing...", "Import complete"),
        Action::NoOp | Action::Read => ("Reading...", "Read complete"),
    }
}

impl ApplyObserver for ApplyLines {
    fn started(&self, change: &ResourceChange) {
        self.line(&format!(
            "{}: {}",
            self.style.bold(&change.address),
            verbs(change.action).0
        ));
    }

    fn progress(&self, address: &str, message: &str) {
        self.line(&format!("{}: {message}", self.style.bold(address)));
    }

    fn finished(&self, result: &ChangeResult) {
        let address = self.style.bold(&result.address);
        match result.outcome {
            ChangeOutcome::Applied => self.line(&format!(
                "{address}: {} after {:.1}s",
                verbs(result.action).1,
                result.elapsed.as_secs_f64()
            )),
            ChangeOutcome::Failed => {
                self.line(&format!("{address}: {}", self.style.red("failed")));
                for d in &result.diagnostics {
                    self.line(diagnostic::render(d, self.style).trim_end());
                }
            }
            ChangeOutcome::Skipped => self.line(&format!(
                "{address}: {} ({})",
                self.style.yellow("skipped"),
                result
                    .skipped_because
                    .as_deref()
                    .unwrap_or("a prerequisite failed")
            )),
        }
    }
}

/// The closing lines: counts, failures, outputs.
pub fn render_summary(report: &ApplyReport, style: Style) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let counts = format!(
        "{} added, {} changed, {} replaced, {} destroyed{}",
        s.create,
        s.update,
        s.replace,
        s.delete,
        if s.import > 0 {
            format!(", {} imported", s.import)
        } else {
            String::new()
        }
    );
    if report.succeeded() {
        out.push_str(&format!(
            "\n{} Resources: {counts}.\n",
            style.green("Apply complete!")
        ));
    } else {
        out.push_str(&format!(
            "\n{} {} failed, {} skipped. Applied: {counts}.\n",
            style.red("Apply failed:"),
            s.failed,
            s.skipped
        ));
        out.push_str("State records everything that was applied; fix the errors above and run braid apply again.\n");
    }
    out.push_str(&render_outputs(&report.outputs));
    out
}

pub fn render_outputs(outputs: &BTreeMap<String, OutputValue>) -> String {
    if outputs.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nOutputs:\n\n");
    let width = outputs.keys().map(String::len).max().unwrap_or(0);
    for (name, output) in outputs {
        let text = if output.sensitive {
            super::values::SENSITIVE.to_string()
        } else {
            super::values::value_text(&output.value, &mut braid_provider::Path::root(), &[], 0)
        };
        out.push_str(&format!("{name:width$} = {text}\n"));
    }
    out
}

pub fn report_json(report: &ApplyReport) -> String {
    let outputs: BTreeMap<&String, serde_json::Value> = report
        .outputs
        .iter()
        .map(|(k, o)| {
            let value = if o.sensitive {
                json!(crate::plan::SENSITIVE)
            } else {
                o.value.to_json()
            };
            (k, json!({ "value": value, "sensitive": o.sensitive }))
        })
        .collect();
    let doc = json!({
        "apply_id": report.apply_id,
        "succeeded": report.succeeded(),
        "summary": report.summary,
        "results": report.results.iter().map(|r| json!({
            "address": r.address,
            "action": r.action,
            "outcome": r.outcome,
            "elapsed_ms": u64::try_from(r.elapsed.as_millis()).unwrap_or(u64::MAX),
            "skipped_because": r.skipped_because,
            "diagnostics": r.diagnostics.iter().map(diagnostic::to_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "outputs": outputs,
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}
