//! `braid output [NAME] [--raw] [--show-sensitive]`: the outputs the last successful apply
//! kept in the environment's state.

use braid_provider::Value;
use braid_state::OutputRecord;
use clap::Args;

use super::{CommandResult, Context, EXIT_OK};
use crate::diag::{Diagnostic, Diagnostics, closest, state_error};
use crate::view::Format;
use crate::view::outputs::{SENSITIVE_OUTPUT, render_list, to_json, value_json};
use crate::view::terraform_value::render;
use crate::workspace::open_state_only;

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// The output to print; without it, every output.
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
    /// Print one string, number or bool value as it is: no quotes, no newline (for shell
    /// scripts, as `terraform output -raw`).
    #[arg(long, requires = "name")]
    pub raw: bool,
    /// Print sensitive values instead of refusing (NAME, --raw) or masking them (--format
    /// json). The list of all outputs always masks them.
    #[arg(long)]
    pub show_sensitive: bool,
}

pub async fn run(cx: &Context, args: &OutputArgs) -> CommandResult {
    // State only, as `terraform output`: the outputs of the last apply stay readable while
    // the configuration is being edited and does not load.
    let (env_name, store) = open_state_only(&cx.global.load_options()?)?;
    let outputs = store.outputs().await.map_err(state_error)?;
    let Some(name) = &args.name else {
        if cx.shell.format() == Format::Json {
            cx.shell.json(&to_json(&outputs, args.show_sensitive));
        } else if outputs.is_empty() {
            cx.shell.diagnostics(&no_outputs(&env_name).into());
        } else {
            cx.shell.out(&render_list(&outputs));
        }
        return Ok(EXIT_OK);
    };
    let output = find(&outputs, name, &env_name)?;
    if output.sensitive && !args.show_sensitive && (args.raw || cx.shell.format() != Format::Json) {
        return Err(Diagnostic::error(
            "Output is sensitive",
            format!(
                "The output \"{name}\" is marked sensitive, so braid does not print it unless asked: add --show-sensitive to print its value ({SENSITIVE_OUTPUT} otherwise)."
            ),
        )
        .into());
    }
    if args.raw {
        cx.shell.out(&raw_text(output)?);
    } else if cx.shell.format() == Format::Json {
        cx.shell.json(&value_json(output, args.show_sensitive));
    } else {
        cx.shell.out(&(render(&output.value, 0) + "\n"));
    }
    Ok(EXIT_OK)
}

fn find<'a>(
    outputs: &'a [OutputRecord],
    name: &str,
    env: &str,
) -> Result<&'a OutputRecord, Diagnostics> {
    outputs.iter().find(|o| o.name == name).ok_or_else(|| {
        Diagnostic::error(
            "Output not found",
            format!(
                "The state of environment \"{env}\" has no output \"{name}\".{} Outputs are kept by braid apply: an output added to the configuration appears after the next apply. List them with: braid output",
                closest(name, outputs.iter().map(|o| o.name.as_str()))
                    .map(|c| format!(" Did you mean \"{c}\"?"))
                    .unwrap_or_default()
            ),
        )
        .into()
    })
}

/// The value as `--raw` prints it: a string as it is, a number or bool as text.
fn raw_text(output: &OutputRecord) -> Result<String, Diagnostics> {
    match &output.value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(Diagnostic::error(
            "Unsupported value for raw output",
            format!(
                "--raw prints strings, numbers and bools only, but the output \"{}\" is {}. Use --format json for a machine-readable form of other values.",
                output.name,
                match other {
                    Value::List(_) => "a list",
                    Value::Map(_) => "a map",
                    _ => "null",
                }
            ),
        )
        .into()),
    }
}

/// Terraform's warning when state holds no outputs.
fn no_outputs(env: &str) -> Diagnostic {
    Diagnostic::warning(
        "No outputs found",
        format!(
            "The state of environment \"{env}\" holds no outputs: the configuration defines none, or none was applied yet. Define one with an output block and run braid apply for it to become available."
        ),
    )
}
