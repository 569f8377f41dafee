//! Everything the user sees: plans, apply progress, diagnostics, state listings — as text
//! for a terminal, Markdown for pull requests, or JSON for machines. Only this module and
//! `cli` print.

pub mod apply;
pub mod diagnostic;
pub mod history;
pub mod import_terraform;
pub mod markdown;
pub mod outputs;
pub mod plan;
mod shell;
pub mod status;
pub mod terraform_value;
pub mod values;

pub use shell::Shell;

use std::io::IsTerminal;

/// The output format every command takes with `--format`. Variant docs are the help of the values
/// in `braid --help`, so they are written for users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Text for people, coloured on a terminal
    Human,
    /// Markdown, to post as a pull request comment
    Markdown,
    /// One JSON document on stdout, diagnostics as JSON lines on stderr (docs/json-output.md)
    Json,
}

/// Terminal styling: ANSI colours, or none.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Whether to wrap text in ANSI colour codes.
    pub color: bool,
}

impl Style {
    /// Colours only on a terminal, and never when `NO_COLOR` is set or `--no-color` given.
    pub fn detect(no_color: bool) -> Style {
        let color =
            !no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
        Style { color }
    }

    /// No colours, whatever the terminal: for Markdown, which is read outside one.
    pub fn plain() -> Style {
        Style { color: false }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// `text` in green: creates, added lines, success.
    pub fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }
    /// `text` in yellow: changed lines, warnings, skipped changes.
    pub fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }
    /// `text` in red: deletes, removed lines, failures and errors.
    pub fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }
    /// `text` in cyan: imports in plans.
    pub fn cyan(&self, text: &str) -> String {
        self.paint("36", text)
    }
    /// `text` in bold.
    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
    /// `text` dimmed, for secondary details.
    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }
}
