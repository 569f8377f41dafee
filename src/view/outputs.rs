//! `braid output`: the outputs kept in state, as `terraform output` shows them.

use braid_state::OutputRecord;
use serde_json::json;

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
/// A sensitive value is `"(sensitive)"` unless `show_sensitive`.
pub fn to_json(outputs: &[OutputRecord], show_sensitive: bool) -> serde_json::Value {
    let entries: serde_json::Map<String, serde_json::Value> = outputs
        .iter()
        .map(|output| {
            (
                output.name.clone(),
                json!({
                    "sensitive": output.sensitive,
                    "type": type_json(&output.value),
                    "value": value_json(output, show_sensitive),
                }),
            )
        })
        .collect();
    serde_json::Value::Object(entries)
}

/// One output's value as JSON, masked as `"(sensitive)"` unless `show_sensitive`.
pub fn value_json(output: &OutputRecord, show_sensitive: bool) -> serde_json::Value {
    if output.sensitive && !show_sensitive {
        json!(super::values::SENSITIVE)
    } else {
        output.value.to_json()
    }
}
