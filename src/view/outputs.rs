//! `braid output`: the outputs kept in state, as `terraform output` shows them.

use std::collections::BTreeMap;

use braid_provider::Value;
use braid_state::OutputRecord;
use serde::Serialize;

use super::terraform_value::{render, type_json};

/// What `braid output` shows in place of a sensitive value, as `terraform output` does.
pub const SENSITIVE_OUTPUT: &str = "<sensitive>";

/// Every output as `name = value` lines, sorted by name; sensitive ones as `<sensitive>`.
pub fn render_list(outputs: &[OutputRecord]) -> String {
    let mut out = String::new();
    for output in outputs {
        let value = if output.sensitive {
            SENSITIVE_OUTPUT.to_string()
        } else {
            render(&output.value, 0)
        };
        out.push_str(&format!("{} = {value}\n", output.name));
    }
    out
}

/// The JSON document of `braid output --format json` (docs/json-output.md): an object
/// with one `{"sensitive", "type", "value"}` entry per output, as `terraform output -json`.
/// A sensitive value is `"(sensitive)"` unless `show_sensitive`. Numbers keep every digit.
pub fn to_json(outputs: &[OutputRecord], show_sensitive: bool) -> BTreeMap<&str, OutputJson<'_>> {
    outputs
        .iter()
        .map(|output| {
            (
                output.name.as_str(),
                OutputJson {
                    sensitive: output.sensitive,
                    kind: type_json(&output.value),
                    value: value_json(output, show_sensitive),
                },
            )
        })
        .collect()
}

/// One output in [`to_json`]'s document.
#[derive(Serialize)]
pub struct OutputJson<'a> {
    sensitive: bool,
    #[serde(rename = "type")]
    kind: serde_json::Value,
    value: ShownValue<'a>,
}

/// An output's value, or the mask in its place.
#[derive(Serialize)]
#[serde(untagged)]
pub enum ShownValue<'a> {
    /// The value itself.
    Value(&'a Value),
    /// `"(sensitive)"`.
    Masked(&'static str),
}

/// One output's value as JSON, masked as `"(sensitive)"` unless `show_sensitive`.
pub fn value_json(output: &OutputRecord, show_sensitive: bool) -> ShownValue<'_> {
    if output.sensitive && !show_sensitive {
        ShownValue::Masked(super::values::SENSITIVE)
    } else {
        ShownValue::Value(&output.value)
    }
}
