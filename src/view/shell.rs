//! [`Shell`]: the one place braid's output goes through. It owns the output format, colours,
//! quiet and verbose, writes results to stdout and diagnostics and logs to stderr, and turns
//! on `tracing` logs for `-v` / `-vv` / `RUST_LOG`.

#![allow(clippy::print_stdout, clippy::print_stderr)] // The one place that prints.

use std::io::{IsTerminal, Write};

use super::apply::ApplyLines;
use super::{Format, Style, diagnostic};
use crate::apply::{ApplyObserver, CancelToken, SilentObserver};
use crate::diag::Diagnostics;

/// Where and how a command's output is written.
#[derive(Debug, Clone)]
pub struct Shell {
    format: Format,
    style: Style,
    quiet: bool,
    verbosity: u8,
}

impl Shell {
    /// Output in `format`; colours only on a terminal and without `no_color`/`NO_COLOR`.
    pub fn new(format: Format, no_color: bool, quiet: bool, verbosity: u8) -> Shell {
        Shell {
            format,
            style: Style::detect(no_color),
            quiet,
            verbosity,
        }
    }

    /// The output format asked for.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Colours, or none.
    pub fn style(&self) -> Style {
        self.style
    }

    /// `-q`: print only what was asked for.
    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// Human output that `-q` leaves out (plans in full, progress).
    pub fn shows_detail(&self) -> bool {
        self.format == Format::Human && !self.quiet
    }

    /// Writes `text` to stdout as it is, ignoring a closed pipe (`braid plan | head`).
    pub fn out(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }

    /// Writes `text` to stdout only in human format without `-q`.
    pub fn detail(&self, text: &str) {
        if self.shows_detail() {
            self.out(text);
        }
    }

    /// Writes one JSON document to stdout, pretty-printed, with a final newline. Pass braid's
    /// own types (a state dump, a [`braid_provider::Value`]) rather than a `serde_json::Value`
    /// made of them where numbers must keep every digit.
    pub fn json(&self, document: &impl serde::Serialize) {
        let text = serde_json::to_string_pretty(document)
            .expect("braid's documents serialize: string keys, finite numbers");
        self.out(&(text + "\n"));
    }

    /// A command's result: `text` for people, or `document` with `--format json`.
    pub fn result(&self, text: &str, document: serde_json::Value) {
        match self.format {
            Format::Json => self.json(&document),
            _ => self.out(text),
        }
    }

    /// Writes `text` to stderr (questions, notes that are not the command's result).
    pub fn err(&self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(text.as_bytes());
        let _ = stderr.flush();
    }

    /// Diagnostics to stderr: rendered for people, or one JSON object per line with
    /// `--format json`. `-q` leaves out warnings.
    pub fn diagnostics(&self, diags: &Diagnostics) {
        let mut err = std::io::stderr().lock();
        for d in &diags.0 {
            if self.quiet && !d.is_error() {
                continue;
            }
            let _ = match self.format {
                Format::Json => writeln!(err, "{}", diagnostic::to_json(d)),
                _ => writeln!(err, "{}", diagnostic::render(d, self.style)),
            };
        }
    }

    /// The observer that shows apply progress: a line per event in human format — with the
    /// live display when stdout is a terminal (not `TERM=dumb`, not `BRAID_PROGRESS=plain`)
    /// — and nothing otherwise (JSON prints one document at the end).
    pub fn apply_observer(&self) -> Box<dyn ApplyObserver> {
        if self.shows_detail() {
            let plain = std::env::var("BRAID_PROGRESS").is_ok_and(|v| v == "plain")
                || std::env::var("TERM").is_ok_and(|t| t == "dumb");
            if !plain && std::io::stdout().is_terminal() {
                return Box::new(ApplyLines::live(self.style));
            }
            Box::new(ApplyLines::new(self.style, Box::new(std::io::stdout())))
        } else {
            Box::new(SilentObserver)
        }
    }

    /// Asks a yes/no question on the terminal. Without a terminal there is nobody to ask,
    /// so the caller's flag (`--auto-approve`) must be used instead. When `cancel` is raised
    /// while waiting (Ctrl-C at the prompt), the answer is no.
    pub fn confirm(
        &self,
        question: &str,
        flag: &str,
        cancel: Option<&CancelToken>,
    ) -> Result<bool, Diagnostics> {
        if !std::io::stdin().is_terminal() {
            return Err(crate::diag::Diagnostic::error(
                "Confirmation needed",
                format!("{question} needs a yes on a terminal, and there is none (CI?). Pass {flag} to go ahead without asking."),
            )
            .into());
        }
        self.out(&format!(
            "\n{question}\n  Only 'yes' will be accepted.\n\n  Enter a value: "
        ));
        // The answer is read on its own thread so that an interrupt can end the wait.
        let (send, answers) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut answer = String::new();
            let read = std::io::stdin().read_line(&mut answer).map(|_| answer);
            let _ = send.send(read);
        });
        loop {
            match answers.recv_timeout(std::time::Duration::from_millis(100)) {
                Ok(Ok(answer)) => return Ok(answer.trim() == "yes"),
                Ok(Err(e)) => {
                    return Err(Diagnostics::from(crate::diag::Diagnostic::error(
                        "Cannot read answer",
                        e.to_string(),
                    )));
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if cancel.is_some_and(CancelToken::is_cancelled) {
                        return Ok(false);
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Ok(false),
            }
        }
    }

    /// Turns on `tracing` logs on stderr: `-v` shows what braid does (lock events, commits,
    /// provider calls with their timings at `-vv`), `RUST_LOG` picks any filter. Values of
    /// resources are never logged, so secrets cannot leak through logs.
    pub fn init_logging(&self) {
        use tracing_subscriber::EnvFilter;
        let filter = match std::env::var("RUST_LOG") {
            Ok(spec) if !spec.trim().is_empty() => EnvFilter::new(spec),
            _ => EnvFilter::new(match self.verbosity {
                0 => "off",
                1 => "braid=info",
                2 => "braid=debug",
                _ => "braid=trace",
            }),
        };
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(self.style.color && std::io::stderr().is_terminal())
            .with_target(false)
            .try_init();
    }
}
