//! YAML functions: `yamldecode` over `serde_yaml_ng`, and `yamlencode`, which writes YAML
//! byte for byte as Terraform does (go-yaml's emitter, as `cty-yaml` drives it): keys and
//! strings double-quoted, strings with line breaks as literal blocks, long double-quoted
//! strings folded after column 80, and `...` after a document that is a bare scalar.

use braid_provider::{TfNumber, Value};

use super::{Call, FunctionError};

/// How much nested YAML `yamldecode` accepts, so that `[[[[...]]]]` cannot exhaust the stack.
const MAX_DEPTH: usize = 200;

pub(super) fn yamldecode(c: &Call<'_>) -> Result<Value, FunctionError> {
    let text = c.string(0)?;
    // Terraform's decoder wants a document; an empty text has none.
    if text.trim().is_empty() {
        return Err(c.failed("on line 1, column 1: missing start of document"));
    }
    let yaml: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&text).map_err(|e| c.failed(format!("invalid YAML: {e}")))?;
    from_yaml(c, &yaml, 0)
}

fn from_yaml(
    c: &Call<'_>,
    yaml: &serde_yaml_ng::Value,
    depth: usize,
) -> Result<Value, FunctionError> {
    use serde_yaml_ng::Value as Y;
    if depth > MAX_DEPTH {
        return Err(c.failed(format!(
            "the YAML is nested more than {MAX_DEPTH} levels deep"
        )));
    }
    Ok(match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(*b),
        // As decimal text at 512 bits, as Terraform reads YAML numbers (`1.10` is `1.1`).
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Number(TfNumber::parsed_i64(i))
            } else {
                let finite = n.as_f64().is_none_or(f64::is_finite);
                let parsed = finite
                    .then(|| TfNumber::parse(&n.to_string()).ok())
                    .flatten();
                Value::Number(parsed.ok_or_else(|| {
                    c.failed(format!(
                        "cannot represent the number {n} in a configuration value"
                    ))
                })?)
            }
        }
        Y::String(s) => Value::String(s.clone()),
        Y::Sequence(items) => Value::List(
            items
                .iter()
                .map(|item| from_yaml(c, item, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(entries) => {
            let mut out = std::collections::BTreeMap::new();
            for (key, item) in entries {
                let key = match key {
                    Y::String(s) => s.clone(),
                    Y::Bool(b) => b.to_string(),
                    Y::Number(n) => n.to_string(),
                    Y::Null => "null".to_string(),
                    _ => return Err(c.failed("a mapping key must be a string, number or bool")),
                };
                out.insert(key, from_yaml(c, item, depth + 1)?);
            }
            Value::Map(out.into())
        }
        Y::Tagged(tagged) => from_yaml(c, &tagged.value, depth + 1)?,
    })
}

pub(super) fn yamlencode(c: &Call<'_>) -> Result<Value, FunctionError> {
    let mut out = String::new();
    let value = &c.args[0];
    match value {
        Value::Map(m) if !m.is_empty() => write_map(m, 0, false, &mut out),
        Value::List(l) if !l.is_empty() => write_seq(l, 0, false, &mut out),
        scalar => {
            write_scalar(scalar, 2, &mut out);
            end_line(&mut out);
            if matches!(scalar, Value::Null | Value::Bool(_) | Value::Number(_)) {
                out.push_str("...\n");
            }
        }
    }
    Ok(Value::String(out))
}

/// The emitter's line width: a double-quoted string folds at the first space past it.
const BEST_WIDTH: usize = 80;

fn end_line(out: &mut String) {
    if !out.ends_with('\n') {
        out.push('\n');
    }
}

fn column(out: &str) -> usize {
    out.rsplit('\n')
        .next()
        .map_or(0, |line| line.chars().count())
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn write_map(map: &braid_provider::ValueMap, indent: usize, inline_first: bool, out: &mut String) {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 || !inline_first {
            pad(out, indent);
        }
        write_double_quoted(key, indent, false, out);
        out.push(':');
        match value {
            Value::Map(m) if !m.is_empty() => {
                out.push('\n');
                write_map(m, indent + 2, false, out);
            }
            // go-yaml does not indent a sequence that is a mapping's value.
            Value::List(l) if !l.is_empty() => {
                out.push('\n');
                write_seq(l, indent, false, out);
            }
            scalar => {
                out.push(' ');
                write_scalar(scalar, indent + 2, out);
                end_line(out);
            }
        }
    }
}

fn write_seq(items: &[Value], indent: usize, inline_first: bool, out: &mut String) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !inline_first {
            pad(out, indent);
        }
        out.push_str("- ");
        match item {
            Value::Map(m) if !m.is_empty() => write_map(m, indent + 2, true, out),
            Value::List(l) if !l.is_empty() => write_seq(l, indent + 2, true, out),
            scalar => {
                write_scalar(scalar, indent + 2, out);
                end_line(out);
            }
        }
    }
}

/// A scalar or empty collection; `indent` is where continuation lines start.
fn write_scalar(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Null | Value::Unknown => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::List(_) => out.push_str("[]"),
        Value::Map(_) => out.push_str("{}"),
        Value::String(s) if s.contains('\n') && literal_allowed(s) => {
            write_literal(s, indent, out);
        }
        Value::String(s) => write_double_quoted(s, indent, true, out),
    }
}

/// go-yaml's `is_printable`: what it writes as is rather than escaped.
fn printable(ch: char) -> bool {
    matches!(ch, '\n' | '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}')
        || (('\u{E000}'..='\u{FFFD}').contains(&ch) && ch != '\u{FEFF}')
}

fn is_break(ch: char) -> bool {
    matches!(ch, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Whether go-yaml can write the string as a literal block: only printable characters, no
/// space before a line break and none at the end.
fn literal_allowed(s: &str) -> bool {
    s.chars().all(printable) && !s.ends_with(' ') && !s.contains(" \n")
}

fn write_literal(s: &str, indent: usize, out: &mut String) {
    out.push('|');
    if s.starts_with([' ', '\n']) {
        out.push('2');
    }
    let trailing_breaks = s.len() - s.trim_end_matches('\n').len();
    match trailing_breaks {
        0 => out.push('-'),
        1 if s.len() > 1 => {}
        _ => out.push('+'),
    }
    out.push('\n');
    let mut at_line_start = true;
    for ch in s.chars() {
        if ch == '\n' {
            out.push('\n');
            at_line_start = true;
        } else {
            if at_line_start {
                pad(out, indent);
                at_line_start = false;
            }
            out.push(ch);
        }
    }
}

fn write_double_quoted(s: &str, indent: usize, allow_breaks: bool, out: &mut String) {
    out.push('"');
    let chars: Vec<char> = s.chars().collect();
    let mut col = column(out);
    let mut spaces = false;
    for (i, &ch) in chars.iter().enumerate() {
        if !printable(ch) || ch == '\u{FEFF}' || is_break(ch) || ch == '"' || ch == '\\' {
            let escaped = match ch {
                '\0' => "\\0".to_string(),
                '\u{7}' => "\\a".to_string(),
                '\u{8}' => "\\b".to_string(),
                '\t' => "\\t".to_string(),
                '\n' => "\\n".to_string(),
                '\u{B}' => "\\v".to_string(),
                '\u{C}' => "\\f".to_string(),
                '\r' => "\\r".to_string(),
                '\u{1B}' => "\\e".to_string(),
                '"' => "\\\"".to_string(),
                '\\' => "\\\\".to_string(),
                '\u{85}' => "\\N".to_string(),
                '\u{A0}' => "\\_".to_string(),
                '\u{2028}' => "\\L".to_string(),
                '\u{2029}' => "\\P".to_string(),
                other if u32::from(other) <= 0xFF => format!("\\x{:02X}", u32::from(other)),
                other if u32::from(other) <= 0xFFFF => format!("\\u{:04X}", u32::from(other)),
                other => format!("\\U{:08X}", u32::from(other)),
            };
            col += escaped.len();
            out.push_str(&escaped);
            spaces = false;
        } else if ch == ' ' {
            if allow_breaks && !spaces && col > BEST_WIDTH && i != 0 && i + 1 != chars.len() {
                out.push('\n');
                pad(out, indent);
                col = indent;
                if chars.get(i + 1) == Some(&' ') {
                    out.push('\\');
                    col += 1;
                }
            } else {
                out.push(' ');
                col += 1;
            }
            spaces = true;
        } else {
            out.push(ch);
            col += 1;
            spaces = false;
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use braid_provider::Value;

    use super::super::test_support::{err, list, map, n, nums, ok, s};

    #[test]
    fn yamlencode_matches_terraform() {
        assert_eq!(
            ok(
                "yamlencode",
                vec![map(&[
                    ("a", n(1)),
                    ("c", list(vec![n(1), map(&[("d", Value::Bool(true))])])),
                    ("e", map(&[])),
                    ("h", s("multi\nline\n")),
                    ("i", s("x\ny"))
                ])]
            ),
            s(
                "\"a\": 1\n\"c\":\n- 1\n- \"d\": true\n\"e\": {}\n\"h\": |\n  multi\n  line\n\"i\": |-\n  x\n  y\n"
            )
        );
        assert_eq!(ok("yamlencode", vec![s("hi")]), s("\"hi\"\n"));
        assert_eq!(ok("yamlencode", vec![n(1)]), s("1\n...\n"));
        assert_eq!(
            ok("yamlencode", vec![map(&[("a", s("\n"))])]),
            s("\"a\": |2+\n\n")
        );
        assert_eq!(
            ok("yamlencode", vec![s("a\u{1}b\"c\\d\re")]),
            s("\"a\\x01b\\\"c\\\\d\\re\"\n")
        );
        assert_eq!(
            ok(
                "yamlencode",
                vec![s(
                    "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq rrrr ssss"
                )]
            ),
            s(
                "\"aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll mmmm nnnn oooo pppp qqqq\n  rrrr ssss\"\n"
            )
        );
    }

    #[test]
    fn yamldecode_values() {
        assert_eq!(
            ok("yamldecode", vec![s("- 1\n- [2, 3]\n- {x: y}")]),
            list(vec![n(1), nums(&[2, 3]), map(&[("x", s("y"))])])
        );
        assert_eq!(
            ok("yamldecode", vec![s("1: a\ntrue: b")]),
            map(&[("1", s("a")), ("true", s("b"))])
        );
        assert!(
            err("yamldecode", vec![s("")])
                .to_string()
                .contains("missing start")
        );
        assert!(
            err("yamldecode", vec![s("a: [")])
                .to_string()
                .contains("invalid YAML")
        );
    }
}
