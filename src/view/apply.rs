//! Apply progress and results: a line per event for people and CI logs — with, on a
//! terminal, a live display of the counts and of every change in flight — or one JSON
//! report at the end.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use braid_state::ChangeOutcome;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use super::Style;
use super::diagnostic;
use crate::apply::{ApplyObserver, ApplyReport, ChangeResult};
use crate::ops::RunOutcome;
use crate::plan::{Action, OutputValue, ResourceChange};

/// Prints `local_file.motd: Creating...` style lines as changes start and finish, after
/// one blank line that separates them from the plan; and, as Terraform does, a
/// `Still creating... [10s elapsed]` line every 10 seconds for each change still running, so
/// a CI log shows a slow create is alive. On a terminal ([`ApplyLines::live`]) the lines
/// scroll above a live display instead: a bar with the counts, and a spinner per change in
/// flight with its latest progress and elapsed time (no "Still creating" lines then).
pub struct ApplyLines {
    shared: Arc<Shared>,
}

struct Shared {
    style: Style,
    out: Mutex<(bool, Box<dyn Write + Send>)>,
    /// Changes running: address → (action, started, intervals reported).
    in_flight: Mutex<BTreeMap<String, (Action, Instant, u64)>>,
    /// Where the live display is drawn, on a terminal, until the apply begins.
    live_target: Mutex<Option<ProgressDrawTarget>>,
    /// The live display, from the start of the apply (never over the plan or the prompt)
    /// until its end.
    live: std::sync::OnceLock<Live>,
}

/// The live part of the display: indicatif bars redrawn in place.
struct Live {
    multi: MultiProgress,
    overall: ProgressBar,
    bars: Mutex<BTreeMap<String, ProgressBar>>,
    /// (finished, failed, skipped).
    counts: Mutex<(u64, u64, u64)>,
}

impl Live {
    fn new(target: ProgressDrawTarget) -> Self {
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(
            ProgressStyle::with_template(
                "{spinner} Applying [{bar:30}] {pos}/{len} {msg} [{elapsed}]",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        overall.enable_steady_tick(Duration::from_millis(120));
        Live {
            multi,
            overall,
            bars: Mutex::new(BTreeMap::new()),
            counts: Mutex::new((0, 0, 0)),
        }
    }

    fn started(&self, address: &str, verb: &str) {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("  {spinner} {prefix}: {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(address.to_string());
        bar.set_message(verb.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        self.lock_bars().insert(address.to_string(), bar);
        self.update_message();
    }

    fn progress(&self, address: &str, message: &str) {
        if let Some(bar) = self.lock_bars().get(address) {
            bar.set_message(message.to_string());
        }
    }

    fn finished(&self, address: &str, outcome: ChangeOutcome) {
        if let Some(bar) = self.lock_bars().remove(address) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        {
            let mut counts = self
                .counts
                .lock()
                .expect("a thread panicked while counting");
            counts.0 += 1;
            match outcome {
                ChangeOutcome::Failed => counts.1 += 1,
                ChangeOutcome::Skipped => counts.2 += 1,
                ChangeOutcome::Applied => {}
            }
        }
        self.overall.inc(1);
        self.update_message();
    }

    fn update_message(&self) {
        let (_, failed, skipped) = *self
            .counts
            .lock()
            .expect("a thread panicked while counting");
        let running = self.lock_bars().len();
        let mut parts = vec![format!("{running} in flight")];
        if failed > 0 {
            parts.push(format!("{failed} failed"));
        }
        if skipped > 0 {
            parts.push(format!("{skipped} skipped"));
        }
        self.overall.set_message(parts.join(", "));
    }

    fn lock_bars(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, ProgressBar>> {
        self.bars
            .lock()
            .expect("a thread panicked while drawing progress")
    }

    /// Takes the display off the screen, leaving the lines printed above it.
    fn clear(&self) {
        for (_, bar) in std::mem::take(&mut *self.lock_bars()) {
            bar.finish_and_clear();
        }
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.clear();
    }
}

/// How often a running change is reported (`BRAID_PROGRESS_INTERVAL`, in seconds, lowers it
/// for tests).
fn still_interval() -> Duration {
    std::env::var("BRAID_PROGRESS_INTERVAL")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map_or(Duration::from_secs(10), Duration::from_secs)
}

impl ApplyLines {
    /// Lines styled with `style`, written to `out`.
    pub fn new(style: Style, out: Box<dyn Write + Send>) -> Self {
        Self::with_live(style, out, None)
    }

    /// Lines on stdout with the live display, for a terminal.
    pub fn live(style: Style) -> Self {
        Self::with_live(
            style,
            Box::new(std::io::stdout()),
            Some(ProgressDrawTarget::stdout()),
        )
    }

    /// Lines written to `out`, and a live display drawn on `target` when there is one.
    pub fn with_live(
        style: Style,
        out: Box<dyn Write + Send>,
        target: Option<ProgressDrawTarget>,
    ) -> Self {
        let shared = Arc::new(Shared {
            style,
            out: Mutex::new((false, out)),
            in_flight: Mutex::new(BTreeMap::new()),
            live_target: Mutex::new(target),
            live: std::sync::OnceLock::new(),
        });
        let weak = Arc::downgrade(&shared);
        let interval = still_interval();
        // Ends with the last ApplyLines: the weak reference no longer upgrades.
        let _ = std::thread::Builder::new()
            .name("apply-progress".to_string())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_millis(200));
                    let Some(shared) = weak.upgrade() else { break };
                    shared.report_still_running(interval);
                }
            });
        ApplyLines { shared }
    }

    fn line(&self, text: &str) {
        self.shared.line(text);
    }
}

impl Shared {
    fn line(&self, text: &str) {
        let mut guard = self
            .out
            .lock()
            .expect("a thread panicked while writing a progress line");
        let (started, out) = &mut *guard;
        if let Some(live) = self.live.get() {
            // Printed above the live display, which is redrawn below it.
            if !*started {
                *started = true;
                let _ = live.multi.println("");
            }
            let _ = live.multi.println(text);
            return;
        }
        if !*started {
            *started = true;
            let _ = writeln!(out);
        }
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }

    fn report_still_running(&self, interval: Duration) {
        if self.live.get().is_some() {
            // The live display shows each change's elapsed time.
            return;
        }
        let mut due = Vec::new();
        {
            let mut in_flight = self
                .in_flight
                .lock()
                .expect("a thread panicked while tracking changes");
            for (address, (action, started, reported)) in in_flight.iter_mut() {
                let elapsed = started.elapsed();
                let intervals = (elapsed.as_millis() / interval.as_millis().max(1)) as u64;
                if intervals > *reported {
                    *reported = intervals;
                    due.push((address.clone(), *action, interval * intervals as u32));
                }
            }
        }
        for (address, action, elapsed) in due {
            self.line(&format!(
                "{}: {} [{} elapsed]",
                self.style.bold(&address),
                still_verb(action),
                go_duration(elapsed)
            ));
        }
    }
}

fn still_verb(action: Action) -> &'static str {
    match action {
        Action::Create => "Still creating...",
        Action::Update => "Still modifying...",
        Action::Replace => "Still replacing...",
        Action::Delete => "Still destroying...",
        Action::Import => "Still importing...",
        Action::Forget => "Still forgetting...",
        Action::NoOp | Action::Read => "Still reading...",
    }
}

/// Whole seconds as Terraform prints them: `10s`, `1m0s`, `1h2m3s`.
fn go_duration(elapsed: Duration) -> String {
    let total = elapsed.as_secs();
    let (hours, minutes, seconds) = (total / 3600, (total / 60) % 60, total % 60);
    if hours > 0 {
        format!("{hours}h{minutes}m{seconds}s")
    } else if minutes > 0 {
        format!("{minutes}m{seconds}s")
    } else {
        format!("{seconds}s")
    }
}

impl crate::plan::PlanObserver for ApplyLines {}

impl crate::apply::LockObserver for ApplyLines {
    fn lock_taken_over(&self, old: &braid_state::LockInfo) {
        if crate::actor::holder_died_here(old) {
            self.line(&format!(
                "{}: took over the lock {} of {} ({}): its process {} on this machine no longer runs",
                self.shared.style.bold("state"),
                old.id,
                old.actor,
                old.operation,
                old.pid
            ));
            return;
        }
        self.line(&format!(
            "{}: took over the stale lock {} of {} ({}), silent since {}",
            self.shared.style.bold("state"),
            old.id,
            old.actor,
            old.operation,
            old.heartbeat_at.format("%Y-%m-%d %H:%M:%S UTC")
        ));
    }

    fn heartbeat_failed(&self, error: &str) {
        self.line(&format!(
            "{}: lock heartbeat failed: {error}",
            self.shared.style.bold("state")
        ));
    }
}

fn verbs(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::Create => ("Creating...", "Creation complete"),
        Action::Update => ("Modifying...", "Modifications complete"),
        Action::Replace => ("Replacing...", "Replacement complete"),
        Action::Delete => ("Destroying...", "Destruction complete"),
        Action::Import => ("Importing...", "Import complete"),
        Action::Forget => ("Forgetting...", "Removed from state"),
        Action::NoOp | Action::Read => ("Reading...", "Read complete"),
    }
}

impl ApplyObserver for ApplyLines {
    fn applying(&self, changes: usize) {
        let target = self
            .shared
            .live_target
            .lock()
            .expect("a thread panicked while starting the display")
            .take();
        if let Some(target) = target {
            let live = self.shared.live.get_or_init(|| Live::new(target));
            live.overall.set_length(changes as u64);
            live.update_message();
        }
    }

    fn applied(&self) {
        if let Some(live) = self.shared.live.get() {
            live.clear();
        }
    }

    fn started(&self, change: &ResourceChange) {
        self.shared
            .in_flight
            .lock()
            .expect("a thread panicked while tracking changes")
            .insert(change.address.clone(), (change.action, Instant::now(), 0));
        self.line(&format!(
            "{}: {}",
            self.shared.style.bold(&change.address),
            verbs(change.action).0
        ));
        if let Some(live) = self.shared.live.get() {
            live.started(&change.address, verbs(change.action).0);
        }
    }

    fn progress(&self, address: &str, message: &str) {
        match self.shared.live.get() {
            // On a terminal the change's own line shows its latest progress.
            Some(live) => live.progress(address, message),
            None => self.line(&format!("{}: {message}", self.shared.style.bold(address))),
        }
    }

    fn finished(&self, result: &ChangeResult) {
        self.shared
            .in_flight
            .lock()
            .expect("a thread panicked while tracking changes")
            .remove(&result.address);
        let style = self.shared.style;
        let address = style.bold(&result.address);
        match result.outcome {
            ChangeOutcome::Applied => self.line(&format!(
                "{address}: {} after {:.1}s",
                verbs(result.action).1,
                result.elapsed.as_secs_f64()
            )),
            ChangeOutcome::Failed => {
                self.line(&format!("{address}: {}", self.shared.style.red("failed")));
                for d in &result.diagnostics {
                    self.line(diagnostic::render(d, self.shared.style).trim_end());
                }
            }
            ChangeOutcome::Skipped => self.line(&format!(
                "{address}: {} ({})",
                self.shared.style.yellow("skipped"),
                result
                    .skipped_because
                    .as_deref()
                    .unwrap_or("a prerequisite failed")
            )),
        }
        if let Some(live) = self.shared.live.get() {
            live.finished(&result.address, result.outcome);
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
    for d in report.warnings.iter().chain(&report.errors) {
        out.push_str(&format!("\n{}", diagnostic::render(d, style)));
    }
    if report.cancelled {
        out.push_str(&format!(
            "\n{} Changes in flight finished and were recorded; {} did not start. Applied: {counts}.\nRun braid apply again to finish.\n",
            style.yellow("Apply interrupted."),
            s.skipped
        ));
    } else if report.succeeded() {
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

/// The `Outputs:` block shown after an apply: one `name = value` line per output, names aligned,
/// sensitive values as `(sensitive)`. Empty when there are no outputs.
pub fn render_outputs(outputs: &BTreeMap<String, OutputValue>) -> String {
    if outputs.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nOutputs:\n\n");
    let width = outputs.keys().map(|k| k.chars().count()).max().unwrap_or(0);
    for (name, output) in outputs {
        let text = if output.sensitive {
            super::values::SENSITIVE.to_string()
        } else {
            super::values::value_text(&output.value, &mut braid_provider::Path::root(), &[], 0)
        };
        out.push_str(&format!(
            "{} = {text}\n",
            super::values::padded(name, width)
        ));
    }
    out
}

/// The JSON document of `apply`, `destroy` and `rollback` (docs/plan-json.md, "Apply
/// output"): every change of the plan with its outcome, the counts, the outputs.
pub fn outcome_json(operation: &str, outcome: &RunOutcome) -> serde_json::Value {
    let plan = &outcome.plan;
    let report = outcome.report.as_ref();
    let results: BTreeMap<&str, &ChangeResult> = report
        .map(|r| r.results.iter().map(|c| (c.address.as_str(), c)).collect())
        .unwrap_or_default();
    let changes: Vec<serde_json::Value> = plan
        .changes
        .iter()
        .map(|change| {
            let result = results.get(change.address.as_str());
            let outcome = match (result, change.action.is_change()) {
                (Some(r), _) => json!(r.outcome),
                (None, false) => json!("no-op"),
                (None, true) if outcome.declined => json!("declined"),
                (None, true) => json!("not-run"),
            };
            json!({
                "address": change.address,
                "type": change.type_name,
                "provider": change.provider,
                "source": change.source,
                "action": change.action,
                "outcome": outcome,
                "elapsed_ms": result.map(|r| u64::try_from(r.elapsed.as_millis()).unwrap_or(u64::MAX)),
                "skipped_because": result.and_then(|r| r.skipped_because.clone()),
                "diagnostics": result
                    .map(|r| r.diagnostics.iter().map(diagnostic::to_json).collect::<Vec<_>>())
                    .unwrap_or_default(),
            })
        })
        .collect();
    let summary = report.map(|r| r.summary).unwrap_or_default();
    let outputs = match report {
        Some(r) => outputs_json(&r.outputs),
        None if plan.mode == crate::plan::PlanMode::Normal => outputs_json(&plan.outputs),
        None => serde_json::Map::new(),
    };
    json!({
        "format_version": crate::plan::FORMAT_VERSION,
        "operation": operation,
        "env": plan.env,
        "apply_id": report.map(|r| r.apply_id),
        "succeeded": outcome.succeeded() && !outcome.declined,
        "declined": outcome.declined,
        "interrupted": report.is_some_and(|r| r.cancelled),
        "sources": plan.sources,
        "summary": summary,
        "changes": changes,
        "outputs": outputs,
        "errors": report
            .map(|r| r.errors.iter().map(diagnostic::to_json).collect::<Vec<_>>())
            .unwrap_or_default(),
        "warnings": report
            .map(|r| r.warnings.iter().map(diagnostic::to_json).collect::<Vec<_>>())
            .unwrap_or_default(),
    })
}

fn outputs_json(
    outputs: &BTreeMap<String, OutputValue>,
) -> serde_json::Map<String, serde_json::Value> {
    outputs
        .iter()
        .map(|(k, o)| {
            let value = if o.sensitive {
                json!(crate::plan::SENSITIVE)
            } else if o.unknown {
                serde_json::Value::Null
            } else {
                o.value.to_json()
            };
            (
                k.clone(),
                json!({ "value": value, "sensitive": o.sensitive, "unknown": o.unknown }),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(address: &str, action: Action) -> ResourceChange {
        ResourceChange {
            address: address.to_string(),
            source_file: None,
            source: None,
            provider: "test".to_string(),
            type_name: "test".to_string(),
            action,
            reason: None,
            before: None,
            after: None,
            after_unknown: Vec::new(),
            before_sensitive: Vec::new(),
            after_sensitive: Vec::new(),
            replace_paths: Vec::new(),
            sensitive_changed: Vec::new(),
            depends_on: Vec::new(),
            create_before_destroy: false,
            moved_from: None,
            import_id: None,
        }
    }

    fn result(address: &str, outcome: ChangeOutcome) -> ChangeResult {
        ChangeResult {
            address: address.to_string(),
            action: Action::Create,
            outcome,
            elapsed: Duration::from_millis(1500),
            diagnostics: Vec::new(),
            skipped_because: None,
        }
    }

    /// The screen once indicatif has drawn (it redraws at most every few milliseconds).
    fn screen(term: &indicatif::InMemoryTerm, wanted: &str) -> String {
        for _ in 0..50 {
            let contents = term.contents();
            if contents.contains(wanted) {
                return contents;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        term.contents()
    }

    #[test]
    fn the_live_display_shows_counts_and_changes_in_flight_below_the_lines() {
        let term = indicatif::InMemoryTerm::new(24, 120);
        let lines = ApplyLines::with_live(
            Style::plain(),
            Box::new(std::io::sink()),
            Some(ProgressDrawTarget::term_like(Box::new(term.clone()))),
        );
        std::thread::sleep(Duration::from_millis(150));
        assert!(
            term.contents().trim().is_empty(),
            "nothing is drawn before the apply begins (the plan and the prompt come first)"
        );
        lines.applying(3);
        lines.started(&change("aws_db_instance.main", Action::Create));
        lines.started(&change("k8s/apps/Deployment/shop/web", Action::Update));
        lines.progress(
            "k8s/apps/Deployment/shop/web",
            "waiting for rollout: 1/3 available",
        );
        let shown = screen(&term, "1/3 available");
        assert!(
            shown.contains("aws_db_instance.main: Creating..."),
            "{shown}"
        );
        assert!(shown.contains("0/3 2 in flight"), "{shown}");
        assert!(
            shown.contains("k8s/apps/Deployment/shop/web: waiting for rollout: 1/3 available ["),
            "the change's own line shows its latest progress: {shown}"
        );
        assert!(!shown.contains("Still creating"), "{shown}");

        lines.finished(&result(
            "k8s/apps/Deployment/shop/web",
            ChangeOutcome::Applied,
        ));
        lines.started(&change("local_file.motd", Action::Create));
        lines.finished(&result("local_file.motd", ChangeOutcome::Failed));
        let shown = screen(&term, "1 failed");
        assert!(shown.contains("2/3 1 in flight, 1 failed"), "{shown}");
        assert!(shown.contains("Creation complete after 1.5s"), "{shown}");

        lines.finished(&result("aws_db_instance.main", ChangeOutcome::Applied));
        let shown = screen(&term, "aws_db_instance.main: Creation complete");
        lines.applied();
        std::thread::sleep(Duration::from_millis(100));
        let shown_after = term.contents();
        assert!(
            shown.contains("aws_db_instance.main: Creation complete"),
            "{shown}"
        );
        assert!(
            !shown_after.contains("Applying"),
            "the display is gone once every change finished, the lines stay: {shown_after}"
        );
    }

    #[test]
    fn without_a_terminal_progress_is_one_line_per_event() {
        let out = Arc::new(Mutex::new(Vec::<u8>::new()));
        struct Shared(Arc<Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().expect("buffer").extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let lines = ApplyLines::new(Style::plain(), Box::new(Shared(out.clone())));
        lines.applying(1);
        lines.started(&change("aws_db_instance.main", Action::Create));
        lines.progress("aws_db_instance.main", "still booting");
        lines.finished(&result("aws_db_instance.main", ChangeOutcome::Applied));
        let text = String::from_utf8(out.lock().expect("buffer").clone()).expect("utf-8");
        assert_eq!(
            text,
            "\naws_db_instance.main: Creating...\naws_db_instance.main: still booting\naws_db_instance.main: Creation complete after 1.5s\n"
        );
    }

    #[test]
    fn elapsed_as_terraform_prints_it() {
        assert_eq!(go_duration(Duration::from_secs(10)), "10s");
        assert_eq!(go_duration(Duration::from_secs(60)), "1m0s");
        assert_eq!(go_duration(Duration::from_secs(3723)), "1h2m3s");
    }
}
