//! `braid console`: reads expressions from stdin, one per line, and prints each value as
//! `terraform console` does, against the environment's variables, locals and state.

use std::io::{BufRead, IsTerminal};

use braid_provider::Value;
use serde::Serialize;

use super::{CommandResult, Context, EXIT_ERROR, EXIT_OK};
use crate::diag::state_error;
use crate::ops::Console;
use crate::view::Format;
use crate::view::diagnostic;
use crate::view::terraform_value::{render, type_json};
use crate::workspace::Workspace;

/// What the console prints for a sensitive value, as `terraform console` does.
const SENSITIVE_VALUE: &str = "(sensitive value)";

pub async fn run(cx: &Context) -> CommandResult {
    let ws = Workspace::load(&cx.global.load_options()?)?;
    cx.shell.diagnostics(&ws.warnings);
    let store = ws.open_state()?;
    let records = store.resources().await.map_err(state_error)?;
    let console = Console::new(&ws, records);
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal() && cx.shell.format() != Format::Json;
    let mut failed = false;
    let mut results = Vec::new();
    let mut lines = stdin.lock().lines();
    loop {
        if interactive {
            cx.shell.err("> ");
        }
        let line = match lines.next() {
            None => break,
            Some(Ok(line)) => line,
            Some(Err(e)) => {
                return Err(crate::diag::Diagnostic::error(
                    "Cannot read the console input",
                    format!("Reading stdin failed: {e}."),
                )
                .into());
            }
        };
        let expression = line.trim();
        if expression.is_empty() {
            continue;
        }
        if expression == "exit" {
            break;
        }
        match console.evaluate(expression) {
            Ok(value) => {
                if cx.shell.format() != Format::Json {
                    let text = if value.sensitive {
                        SENSITIVE_VALUE.to_string()
                    } else {
                        render(&value.value, 0)
                    };
                    cx.shell.out(&(text + "\n"));
                }
                results.push(ConsoleResult::Value {
                    expression: expression.to_string(),
                    sensitive: value.sensitive,
                    kind: type_json(&value.value),
                    value: if value.sensitive {
                        Value::from(crate::view::values::SENSITIVE)
                    } else {
                        value.value
                    },
                });
            }
            Err(d) => {
                failed = true;
                results.push(ConsoleResult::Error {
                    expression: expression.to_string(),
                    error: diagnostic::to_json(&d),
                });
                cx.shell.diagnostics(&d.into());
            }
        }
    }
    if cx.shell.format() == Format::Json {
        // A struct rather than `json!`, so that numbers keep every digit.
        cx.shell.json(&ConsoleDocument {
            env: &ws.env_name,
            results,
        });
    }
    Ok(if failed { EXIT_ERROR } else { EXIT_OK })
}

/// `braid console --format json`: `{"env", "results": [...]}`.
#[derive(Serialize)]
struct ConsoleDocument<'a> {
    env: &'a str,
    results: Vec<ConsoleResult>,
}

/// One line's result: its value (masked when sensitive) or its error.
#[derive(Serialize)]
#[serde(untagged)]
enum ConsoleResult {
    Value {
        expression: String,
        sensitive: bool,
        #[serde(rename = "type")]
        kind: serde_json::Value,
        value: Value,
    },
    Error {
        expression: String,
        error: serde_json::Value,
    },
}
