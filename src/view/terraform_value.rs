//! Values in the notation `terraform output` and `terraform console` print: strings quoted,
//! lists and maps over several lines with two-space indentation, every map key quoted,
//! multi-line strings as `<<EOT` heredocs. Also the type of a value as `terraform output
//! -json` names it.

use braid_provider::Value;

use crate::config::format::quoted;
use serde_json::json;

/// `value` as `terraform output` prints it; nested lines are indented by `indent` spaces
/// more than the first.
pub fn render(value: &Value, indent: usize) -> String {
    let pad = " ".repeat(indent);
    match value {
        Value::Null => "null".to_string(),
        Value::Unknown => super::values::UNKNOWN.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.contains('\n') => {
            let mut out = String::from("<<EOT\n");
            out.push_str(s);
            out.push_str("\nEOT");
            out
        }
        Value::String(s) => quoted(s),
        Value::List(items) if items.is_empty() => "[]".to_string(),
        Value::List(items) => {
            let mut out = String::from("[\n");
            for item in items {
                out.push_str(&format!("{pad}  {},\n", render(item, indent + 2)));
            }
            out.push_str(&format!("{pad}]"));
            out
        }
        Value::Map(map) if map.is_empty() => "{}".to_string(),
        Value::Map(map) => {
            let mut out = String::from("{\n");
            for (k, v) in map {
                out.push_str(&format!(
                    "{pad}  {} = {}\n",
                    quoted(k),
                    render(v, indent + 2)
                ));
            }
            out.push_str(&format!("{pad}}}"));
            out
        }
    }
}

/// The type of `value` in the JSON notation of `terraform output -json`: `"string"`,
/// `"number"`, `"bool"`, `["tuple", [...]]`, `["object", {...}]`; `"dynamic"` for null.
pub fn type_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Null | Value::Unknown => json!("dynamic"),
        Value::Bool(_) => json!("bool"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::List(items) => json!(["tuple", items.iter().map(type_json).collect::<Vec<_>>()]),
        Value::Map(map) => {
            let fields: serde_json::Map<String, serde_json::Value> =
                map.iter().map(|(k, v)| (k.clone(), type_json(v))).collect();
            json!(["object", fields])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(json: serde_json::Value) -> Value {
        Value::from_json(&json)
    }

    #[test]
    fn nested_values_read_as_terraform_prints_them() {
        let v = value(json!({"a": 1, "b c": {"d": "e"}, "l": ["x", [true]], "e": []}));
        assert_eq!(
            render(&v, 0),
            "{\n  \"a\" = 1\n  \"b c\" = {\n    \"d\" = \"e\"\n  }\n  \"e\" = []\n  \"l\" = [\n    \"x\",\n    [\n      true,\n    ],\n  ]\n}"
        );
    }

    #[test]
    fn strings_are_quoted_and_multi_line_ones_are_heredocs() {
        assert_eq!(
            render(&value(json!("say \"hi\" ${x}")), 0),
            r#""say \"hi\" $${x}""#
        );
        assert_eq!(render(&value(json!("a\nb\n")), 0), "<<EOT\na\nb\n\nEOT");
        assert_eq!(render(&value(json!("a\nb")), 0), "<<EOT\na\nb\nEOT");
    }

    #[test]
    fn types_follow_terraform_output_json() {
        assert_eq!(
            type_json(&value(json!({"a": [1, "x"]}))),
            json!(["object", {"a": ["tuple", ["number", "string"]]}])
        );
    }
}
