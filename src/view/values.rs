//! Values and attribute diffs in Terraform's notation: `+ name = "x"`,
//! `~ size = 1 -> 2`, `(known after apply)`, `(sensitive)`.

use std::collections::BTreeSet;

use braid_provider::{Path, PathStep, Value};

use super::Style;

/// What human and Markdown output show in place of a value only known after apply.
pub const UNKNOWN: &str = "(known after apply)";
/// What every view shows in place of a sensitive value; the same text as
/// [`crate::plan::SENSITIVE`].
pub const SENSITIVE: &str = "(sensitive)";

/// `text` followed by spaces up to `width` characters. `format!`'s `{:width$}` panics past
/// `u16::MAX`, and names and map keys from configuration have no length limit.
pub(crate) fn padded(text: &str, width: usize) -> String {
    let fill = width.saturating_sub(text.chars().count());
    format!("{text}{}", " ".repeat(fill))
}

/// Paths to mask and to annotate while rendering one resource.
pub struct Marks<'a> {
    /// Paths of the value before the change that hold sensitive values; masked.
    pub before_sensitive: &'a [Path],
    /// Paths of the value after the change that hold sensitive values; masked.
    pub after_sensitive: &'a [Path],
    /// Attributes whose change forces replacement, annotated `# forces replacement`.
    pub replace: &'a [Path],
    /// Sensitive paths known to change although both sides are masked.
    pub sensitive_changed: &'a [Path],
}

fn under(paths: &[Path], at: &Path) -> bool {
    paths.iter().any(|p| at.starts_with(p))
}

fn key_text(key: &str) -> String {
    let plain = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        key.to_string()
    } else {
        serde_json::to_string(key).unwrap_or_else(|_| key.to_string())
    }
}

/// One value as text; nested values span several lines indented by `indent`.
pub fn value_text(value: &Value, at: &mut Path, sensitive: &[Path], indent: usize) -> String {
    if under(sensitive, at) && !value.is_null() {
        return SENSITIVE.to_string();
    }
    let pad = " ".repeat(indent);
    match value {
        Value::Null => "null".to_string(),
        Value::Unknown => UNKNOWN.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.contains('\n') => {
            let mut out = String::from("<<-EOT\n");
            for line in s.trim_end_matches('\n').lines() {
                out.push_str(&format!("{pad}    {line}\n"));
            }
            out.push_str(&format!("{pad}EOT"));
            out
        }
        Value::String(s) => serde_json::to_string(s).unwrap_or_else(|_| s.clone()),
        Value::List(items) if items.is_empty() => "[]".to_string(),
        Value::List(items) => {
            let mut out = String::from("[\n");
            for (i, item) in items.iter().enumerate() {
                at.0.push(PathStep::Index(i));
                out.push_str(&format!(
                    "{pad}    {},\n",
                    value_text(item, at, sensitive, indent + 4)
                ));
                at.0.pop();
            }
            out.push_str(&format!("{pad}]"));
            out
        }
        Value::Map(map) if map.is_empty() => "{}".to_string(),
        Value::Map(map) => {
            let width = map
                .keys()
                .map(|k| key_text(k).chars().count())
                .max()
                .unwrap_or(0);
            let mut out = String::from("{\n");
            for (k, v) in map {
                at.0.push(PathStep::Key(k.clone()));
                out.push_str(&format!(
                    "{pad}    {} = {}\n",
                    padded(&key_text(k), width),
                    value_text(v, at, sensitive, indent + 4)
                ));
                at.0.pop();
            }
            out.push_str(&format!("{pad}}}"));
            out
        }
    }
}

/// The body lines of a resource diff, each already indented by `indent`.
pub fn diff_lines(
    before: Option<&Value>,
    after: Option<&Value>,
    marks: &Marks<'_>,
    indent: usize,
    style: Style,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = Path::root();
    match (before, after) {
        (None, Some(after)) => whole(
            after,
            '+',
            &mut at,
            marks.after_sensitive,
            indent,
            style,
            &mut out,
        ),
        (Some(before), None) => whole(
            before,
            '-',
            &mut at,
            marks.before_sensitive,
            indent,
            style,
            &mut out,
        ),
        (Some(before), Some(after)) => {
            let hidden = map_diff(before, after, &mut at, marks, indent, style, &mut out);
            if hidden > 0 {
                let noun = if hidden == 1 {
                    "attribute"
                } else {
                    "attributes"
                };
                out.push(style.dim(&format!(
                    "{}# ({hidden} unchanged {noun} hidden)",
                    " ".repeat(indent + 2)
                )));
            }
        }
        (None, None) => {}
    }
    out
}

/// `1 unchanged attribute hidden`, `3 unchanged elements hidden`.
fn unchanged(count: usize, noun: &str) -> String {
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} unchanged {noun}{plural} hidden")
}

fn symbol(sign: char, style: Style) -> String {
    match sign {
        '+' => style.green("+"),
        '-' => style.red("-"),
        '~' => style.yellow("~"),
        _ => " ".to_string(),
    }
}

/// Every non-null attribute of a created (`+`) or deleted (`-`) object.
fn whole(
    value: &Value,
    sign: char,
    at: &mut Path,
    sensitive: &[Path],
    indent: usize,
    style: Style,
    out: &mut Vec<String>,
) {
    let Value::Map(map) = value else {
        out.push(format!(
            "{}{} {}",
            " ".repeat(indent),
            symbol(sign, style),
            value_text(value, at, sensitive, indent + 2)
        ));
        return;
    };
    let shown: Vec<_> = map.iter().filter(|(_, v)| !v.is_null()).collect();
    let width = shown
        .iter()
        .map(|(k, _)| key_text(k).chars().count())
        .max()
        .unwrap_or(0);
    for (k, v) in shown {
        at.0.push(PathStep::Key(k.clone()));
        let text = value_text(v, at, sensitive, indent + 2);
        let suffix = if sign == '-' { " -> null" } else { "" };
        out.push(format!(
            "{}{} {} = {text}{suffix}",
            " ".repeat(indent),
            symbol(sign, style),
            padded(&key_text(k), width)
        ));
        at.0.pop();
    }
}

/// Lines for the changed keys of two maps; returns how many unchanged keys were hidden.
fn map_diff(
    before: &Value,
    after: &Value,
    at: &mut Path,
    marks: &Marks<'_>,
    indent: usize,
    style: Style,
    out: &mut Vec<String>,
) -> usize {
    let (Value::Map(b), Value::Map(a)) = (before, after) else {
        let line = change_line(None, before, after, at, marks, indent, style);
        out.push(line);
        return 0;
    };
    let keys: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    let width = keys.iter().map(|k| key_text(k).len()).max().unwrap_or(0);
    let mut hidden = 0;
    let null = Value::Null;
    for key in keys {
        let old = b.get(key).unwrap_or(&null);
        let new = a.get(key).unwrap_or(&null);
        at.0.push(PathStep::Key(key.clone()));
        let secret_changes = marks.sensitive_changed.iter().any(|p| p.starts_with(at));
        if old == new && !under(marks.replace, at) && !secret_changes {
            hidden += usize::from(!old.is_null());
        } else if let (Value::Map(_), Value::Map(_)) = (old, new) {
            let opening = format!("{} {} = {{", symbol('~', style), key_text(key));
            map_block(&opening, "", old, new, at, marks, indent, style, out);
        } else if let Some((before_json, after_json)) = json_pair(old, new, at, marks) {
            json_diff(
                key,
                &before_json,
                &after_json,
                at,
                marks,
                indent,
                style,
                out,
            );
        } else if let (Value::List(a), Value::List(b)) = (old, new)
            && a.len() == b.len()
            && !under(marks.after_sensitive, at)
        {
            let pad = " ".repeat(indent);
            out.push(format!("{pad}{} {} = [", symbol('~', style), key_text(key)));
            list_diff(a, b, at, marks, indent + 4, style, out);
            out.push(format!("{pad}  ]"));
        } else {
            out.push(change_line(
                Some((key, width)),
                old,
                new,
                at,
                marks,
                indent,
                style,
            ));
        }
        at.0.pop();
    }
    hidden
}

/// Two strings that both hold a JSON object or array (an IAM policy, a task definition),
/// parsed — unless either side is sensitive.
fn json_pair(old: &Value, new: &Value, at: &Path, marks: &Marks<'_>) -> Option<(Value, Value)> {
    let (Value::String(a), Value::String(b)) = (old, new) else {
        return None;
    };
    if under(marks.before_sensitive, at) || under(marks.after_sensitive, at) {
        return None;
    }
    let parse = |text: &str| -> Option<Value> {
        let trimmed = text.trim_start();
        if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
            return None;
        }
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .map(|json| Value::from_json(&json))
    };
    Some((parse(a)?, parse(b)?))
}

/// A JSON string's change shown as Terraform shows it: `jsonencode(` with the structure
/// diffed inside, only the real changes shown (`# whitespace changes` when only the text
/// differs).
#[expect(
    clippy::too_many_arguments,
    reason = "the diff's cursor, as map_diff takes it"
)]
fn json_diff(
    key: &str,
    before: &Value,
    after: &Value,
    at: &mut Path,
    marks: &Marks<'_>,
    indent: usize,
    style: Style,
    out: &mut Vec<String>,
) {
    let pad = " ".repeat(indent);
    let forces = if marks.replace.iter().any(|p| p == at) {
        style.red(" # forces replacement")
    } else {
        String::new()
    };
    if before == after {
        out.push(format!(
            "{pad}{} {} = jsonencode( # whitespace changes ){forces}",
            symbol('~', style),
            key_text(key)
        ));
        return;
    }
    out.push(format!(
        "{pad}{} {} = jsonencode({forces}",
        symbol('~', style),
        key_text(key)
    ));
    // Inside the document nothing is sensitive or forces replacement on its own.
    let inner = Marks {
        before_sensitive: &[],
        after_sensitive: &[],
        replace: &[],
        sensitive_changed: &[],
    };
    let inner_pad = " ".repeat(indent + 4);
    match (before, after) {
        (Value::Map(_), Value::Map(_)) => {
            let opening = format!("{} {{", symbol('~', style));
            map_block(
                &opening,
                "",
                before,
                after,
                at,
                &inner,
                indent + 4,
                style,
                out,
            );
        }
        (Value::List(a), Value::List(b)) if a.len() == b.len() => {
            out.push(format!("{inner_pad}{} [", symbol('~', style)));
            list_diff(a, b, at, &inner, indent + 8, style, out);
            out.push(format!("{inner_pad}  ]"));
        }
        _ => out.push(change_line(
            None,
            before,
            after,
            at,
            &inner,
            indent + 4,
            style,
        )),
    }
    out.push(format!("{pad}  )"));
}

/// A changed map inside a diff: `opening` (`~ key = {`), its changed keys one level deeper,
/// how many were hidden, and `}` followed by `closing`.
#[expect(
    clippy::too_many_arguments,
    reason = "the diff's cursor, as map_diff takes it"
)]
fn map_block(
    opening: &str,
    closing: &str,
    before: &Value,
    after: &Value,
    at: &mut Path,
    marks: &Marks<'_>,
    indent: usize,
    style: Style,
    out: &mut Vec<String>,
) {
    let pad = " ".repeat(indent);
    out.push(format!("{pad}{opening}"));
    let hidden = map_diff(before, after, at, marks, indent + 4, style, out);
    if hidden > 0 {
        out.push(style.dim(&format!(
            "{pad}      # ({})",
            unchanged(hidden, "attribute")
        )));
    }
    out.push(format!("{pad}  }}{closing}"));
}

/// Element by element, for two lists of the same length: changed maps are diffed in
/// place, unchanged elements counted.
fn list_diff(
    old: &[Value],
    new: &[Value],
    at: &mut Path,
    marks: &Marks<'_>,
    indent: usize,
    style: Style,
    out: &mut Vec<String>,
) {
    let pad = " ".repeat(indent);
    let mut hidden = 0;
    for (i, (a, b)) in old.iter().zip(new).enumerate() {
        at.0.push(PathStep::Index(i));
        let secret_changes = marks.sensitive_changed.iter().any(|p| p.starts_with(at));
        if a == b && !secret_changes {
            hidden += 1;
        } else if let (Value::Map(_), Value::Map(_)) = (a, b) {
            let opening = format!("{} {{", symbol('~', style));
            map_block(&opening, ",", a, b, at, marks, indent, style, out);
        } else {
            out.push(change_line(None, a, b, at, marks, indent, style));
        }
        at.0.pop();
    }
    if hidden > 0 {
        out.push(style.dim(&format!("{pad}  # ({})", unchanged(hidden, "element"))));
    }
}

fn change_line(
    key: Option<(&str, usize)>,
    old: &Value,
    new: &Value,
    at: &mut Path,
    marks: &Marks<'_>,
    indent: usize,
    style: Style,
) -> String {
    let (sign, text) = if old.is_null() {
        ('+', value_text(new, at, marks.after_sensitive, indent + 2))
    } else if new.is_null() {
        (
            '-',
            format!(
                "{} -> null",
                value_text(old, at, marks.before_sensitive, indent + 2)
            ),
        )
    } else {
        (
            '~',
            format!(
                "{} -> {}",
                value_text(old, at, marks.before_sensitive, indent + 2),
                value_text(new, at, marks.after_sensitive, indent + 2)
            ),
        )
    };
    let forces = if marks.replace.iter().any(|p| p == at) {
        style.red(" # forces replacement")
    } else {
        String::new()
    };
    let lead = format!("{}{} ", " ".repeat(indent), symbol(sign, style));
    match key {
        Some((k, width)) => format!("{lead}{} = {text}{forces}", padded(&key_text(k), width)),
        None => format!("{lead}{text}{forces}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_values_never_render() {
        let v = Value::map([
            ("password", Value::from("hunter2")),
            ("user", Value::from("app")),
        ]);
        let text = value_text(&v, &mut Path::root(), &[Path::key("password")], 0);
        assert!(!text.contains("hunter2"));
        assert!(text.contains("password = (sensitive)"));
        assert!(text.contains("user     = \"app\""));
    }

    #[test]
    fn update_shows_only_changes() {
        let before = Value::map([("a", Value::from("x")), ("b", Value::from_i64(1))]);
        let after = Value::map([("a", Value::from("y")), ("b", Value::from_i64(1))]);
        let marks = Marks {
            before_sensitive: &[],
            after_sensitive: &[],
            replace: &[Path::key("a")],
            sensitive_changed: &[],
        };
        let lines = diff_lines(Some(&before), Some(&after), &marks, 4, Style::plain());
        assert_eq!(lines[0], "    ~ a = \"x\" -> \"y\" # forces replacement");
        assert_eq!(lines[1], "      # (1 unchanged attribute hidden)");
    }

    #[test]
    fn json_strings_are_diffed_as_structure() {
        let policy = |action: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"{action}","Resource":"*"}}]}}"#
            )
        };
        let before = Value::map([("policy", Value::from(policy("s3:GetObject").as_str()))]);
        let after = Value::map([("policy", Value::from(policy("s3:*").as_str()))]);
        let marks = Marks {
            before_sensitive: &[],
            after_sensitive: &[],
            replace: &[],
            sensitive_changed: &[],
        };
        let lines = diff_lines(Some(&before), Some(&after), &marks, 0, Style::plain()).join("\n");
        assert!(lines.contains("~ policy = jsonencode("), "{lines}");
        assert!(
            lines.contains(r#"~ Action   = "s3:GetObject" -> "s3:*""#),
            "{lines}"
        );
        assert!(
            lines.contains("# (2 unchanged attributes hidden)"),
            "{lines}"
        );
        assert!(!lines.contains("Version"), "{lines}");

        // Only the text differs: said so, nothing else shown.
        let spaced = Value::map([(
            "policy",
            Value::from(policy("s3:*").replace(',', ", ").as_str()),
        )]);
        let lines = diff_lines(Some(&after), Some(&spaced), &marks, 0, Style::plain()).join("\n");
        assert!(
            lines.contains("jsonencode( # whitespace changes )"),
            "{lines}"
        );

        // A sensitive policy is never parsed into view.
        let secret = [Path::key("policy")];
        let masked = Marks {
            before_sensitive: &secret,
            after_sensitive: &secret,
            replace: &[],
            sensitive_changed: &[],
        };
        let lines = diff_lines(Some(&before), Some(&after), &masked, 0, Style::plain()).join("\n");
        assert!(!lines.contains("jsonencode"), "{lines}");
        assert!(!lines.contains("s3:"), "{lines}");
    }
}
