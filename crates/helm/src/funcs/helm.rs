//! Helm's own template functions (`toYaml`, `fromYaml`, `toJson`, `fromJson`, `toToml`,
//! `required`, `lookup`…) and the methods of `.Files`.

use std::collections::BTreeMap;

use super::{FuncError, FuncResult, arity, want_str};
use crate::value::{Map, Value, format_float_json};
use crate::yaml;

pub(super) fn call(name: &str, args: &[Value]) -> Option<FuncResult> {
    let result = match name {
        "toYaml" => arity(name, args, 1).map(|_| to_yaml_text(&args[0])),
        "toYamlPretty" => arity(name, args, 1).map(|_| {
            Value::string(pretty_yaml(&yaml::to_yaml(&args[0])).trim_end_matches('\n').to_string())
        }),
        "mustToYaml" => arity(name, args, 1).and_then(|_| match args[0].to_json_checked() {
            Some(_) => Ok(to_yaml_text(&args[0])),
            None => Err(FuncError::Call(CYCLE.to_string())),
        }),
        "fromYaml" => arity(name, args, 1)
            .and_then(|_| want_str(&args[0]))
            .map(|text| match yaml::parse_values(text) {
                Ok(Value::Map(m)) => Value::Map(m),
                Ok(Value::Nil) => Value::map(Map::new()),
                Ok(other) => error_map(&format!(
                    "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    json_kind(&other)
                )),
                Err(e) => error_map(&format!("error converting YAML to JSON: yaml: line {}: {}", e.line, e.message)),
            }),
        "fromYamlArray" => arity(name, args, 1)
            .and_then(|_| want_str(&args[0]))
            .map(|text| match yaml::parse_values(text) {
                Ok(Value::List(l)) => Value::List(l),
                Ok(Value::Nil) => Value::list(Vec::new()),
                Ok(other) => Value::list(vec![Value::string(format!(
                    "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type []interface {{}}",
                    json_kind(&other)
                ))]),
                Err(e) => Value::list(vec![Value::string(format!("error converting YAML to JSON: yaml: line {}: {}", e.line, e.message))]),
            }),
        "toJson" | "mustToJson" => arity(name, args, 1).map(|_| Value::string(to_json(&args[0], true))),
        "toRawJson" | "mustToRawJson" => arity(name, args, 1).map(|_| Value::string(to_json(&args[0], false))),
        "toPrettyJson" | "mustToPrettyJson" => arity(name, args, 1).map(|_| match args[0].to_json_checked() {
            Some(json) => Value::string(pretty_json(&json, 0)),
            None => Value::str(""),
        }),
        "fromJson" => arity(name, args, 1)
            .and_then(|_| want_str(&args[0]))
            .map(|text| match serde_json::from_str::<serde_json::Value>(text) {
                Ok(json @ serde_json::Value::Object(_)) => Value::from_json(&json),
                Ok(serde_json::Value::Null) => Value::map(Map::new()),
                Ok(other) => error_map(&format!(
                    "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    json_kind(&Value::from_json(&other))
                )),
                Err(_) => error_map(&go_json_error(text)),
            }),
        "fromJsonArray" => arity(name, args, 1)
            .and_then(|_| want_str(&args[0]))
            .map(|text| match serde_json::from_str::<serde_json::Value>(text) {
                Ok(json @ serde_json::Value::Array(_)) => Value::from_json(&json),
                Ok(_) => Value::list(vec![Value::str("json: cannot unmarshal into Go value of type []interface {}")]),
                Err(e) => Value::list(vec![Value::string(e.to_string())]),
            }),
        "toToml" => arity(name, args, 1).map(|_| Value::string(to_toml(&args[0]))),
        "fromToml" => arity(name, args, 1).and_then(|_| want_str(&args[0])).map(from_toml),
        "required" => arity(name, args, 2).and_then(|_| {
            let message = want_str(&args[0])?;
            match &args[1] {
                Value::Nil => Err(FuncError::User(message.to_string())),
                Value::String(s) if s.is_empty() => Err(FuncError::User(message.to_string())),
                other => Ok(other.clone()),
            }
        }),
        "fail" => arity(name, args, 1)
            .and_then(|_| want_str(&args[0]).map(str::to_string))
            .and_then(|message| Err(FuncError::User(message))),
        // `helm template` has no cluster: lookups find nothing.
        "lookup" => arity(name, args, 4).map(|_| Value::map(Map::new())),
        _ => return None,
    };
    Some(result)
}

/// The message Go's `encoding/json` gives for invalid JSON text.
fn go_json_error(text: &str) -> String {
    let b = text.as_bytes();
    let mut i = 0;
    let ch = |c: u8| {
        if c == b'\'' {
            "'\\''".to_string()
        } else if c == b'"' {
            "'\"'".to_string()
        } else if c.is_ascii_graphic() || c == b' ' {
            format!("'{}'", c as char)
        } else {
            format!("'\\x{c:02x}'")
        }
    };
    fn skip(b: &[u8], i: &mut usize) {
        while *i < b.len() && matches!(b[*i], b' ' | b'\t' | b'\n' | b'\r') {
            *i += 1;
        }
    }
    fn value(b: &[u8], i: &mut usize, ch: &dyn Fn(u8) -> String) -> Result<(), String> {
        value_at(b, i, ch, 0)
    }
    fn value_at(
        b: &[u8],
        i: &mut usize,
        ch: &dyn Fn(u8) -> String,
        depth: usize,
    ) -> Result<(), String> {
        if depth > 10_000 {
            return Err("exceeded max depth".to_string());
        }
        skip(b, i);
        let Some(&c) = b.get(*i) else {
            return Err("unexpected end of JSON input".to_string());
        };
        match c {
            b'{' => {
                *i += 1;
                skip(b, i);
                if b.get(*i) == Some(&b'}') {
                    *i += 1;
                    return Ok(());
                }
                loop {
                    skip(b, i);
                    match b.get(*i) {
                        None => return Err("unexpected end of JSON input".to_string()),
                        Some(b'"') => string(b, i, ch)?,
                        Some(&x) => {
                            return Err(format!(
                                "invalid character {} looking for beginning of object key string",
                                ch(x)
                            ));
                        }
                    }
                    skip(b, i);
                    match b.get(*i) {
                        None => return Err("unexpected end of JSON input".to_string()),
                        Some(b':') => *i += 1,
                        Some(&x) => {
                            return Err(format!("invalid character {} after object key", ch(x)));
                        }
                    }
                    value_at(b, i, ch, depth + 1)?;
                    skip(b, i);
                    match b.get(*i) {
                        None => return Err("unexpected end of JSON input".to_string()),
                        Some(b',') => *i += 1,
                        Some(b'}') => {
                            *i += 1;
                            return Ok(());
                        }
                        Some(&x) => {
                            return Err(format!(
                                "invalid character {} after object key:value pair",
                                ch(x)
                            ));
                        }
                    }
                }
            }
            b'[' => {
                *i += 1;
                skip(b, i);
                if b.get(*i) == Some(&b']') {
                    *i += 1;
                    return Ok(());
                }
                loop {
                    value_at(b, i, ch, depth + 1)?;
                    skip(b, i);
                    match b.get(*i) {
                        None => return Err("unexpected end of JSON input".to_string()),
                        Some(b',') => *i += 1,
                        Some(b']') => {
                            *i += 1;
                            return Ok(());
                        }
                        Some(&x) => {
                            return Err(format!("invalid character {} after array element", ch(x)));
                        }
                    }
                }
            }
            b'"' => string(b, i, ch),
            b't' | b'f' | b'n' => {
                let word: &[u8] = match c {
                    b't' => b"true",
                    b'f' => b"false",
                    _ => b"null",
                };
                for (k, w) in word.iter().enumerate() {
                    match b.get(*i + k) {
                        None => return Err("unexpected end of JSON input".to_string()),
                        Some(x) if x != w => {
                            let what = match c {
                                b't' => "true",
                                b'f' => "false",
                                _ => "null",
                            };
                            return Err(format!(
                                "invalid character {} in literal {what} (expecting {})",
                                ch(*x),
                                ch(*w)
                            ));
                        }
                        _ => {}
                    }
                }
                *i += word.len();
                Ok(())
            }
            b'-' | b'0'..=b'9' => {
                *i += 1;
                while *i < b.len()
                    && (b[*i].is_ascii_digit() || matches!(b[*i], b'.' | b'e' | b'E' | b'+' | b'-'))
                {
                    *i += 1;
                }
                Ok(())
            }
            x => Err(format!(
                "invalid character {} looking for beginning of value",
                ch(x)
            )),
        }
    }
    fn string(b: &[u8], i: &mut usize, ch: &dyn Fn(u8) -> String) -> Result<(), String> {
        *i += 1;
        while let Some(&c) = b.get(*i) {
            match c {
                b'"' => {
                    *i += 1;
                    return Ok(());
                }
                b'\\' => *i += 2,
                c if c < 0x20 => {
                    return Err(format!("invalid character {} in string literal", ch(c)));
                }
                _ => *i += 1,
            }
        }
        Err("unexpected end of JSON input".to_string())
    }
    if let Err(message) = value(b, &mut i, &ch) {
        return message;
    }
    skip(b, &mut i);
    match b.get(i) {
        Some(&x) => format!("invalid character {} after top-level value", ch(x)),
        None => "unexpected end of JSON input".to_string(),
    }
}

/// Go's `json.Marshal` error for a structure that holds itself.
const CYCLE: &str = "json: unsupported value: encountered a cycle via map[string]interface {}";

/// `toYaml`: the YAML without its final newline, or "" when the value cannot be encoded
/// (Helm's `toYaml` swallows the error).
fn to_yaml_text(value: &Value) -> Value {
    match value.to_json_checked() {
        Some(json) => Value::string(yaml::json_to_yaml(&json).trim_end_matches('\n').to_string()),
        None => Value::str(""),
    }
}

fn error_map(message: &str) -> Value {
    let mut map = Map::new();
    map.insert("Error".to_string(), Value::str(message));
    Value::map(map)
}

/// The JSON kind Go's `encoding/json` names in type errors.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::List(_) => "array",
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::Float(_) => "number",
        Value::Map(_) | Value::Object(_) => "object",
        Value::Nil => "null",
    }
}

/// `json.Marshal` text: keys sorted, Go's float format, HTML characters escaped when
/// `escape_html` (`toJson`), not for `toRawJson`.
pub(crate) fn to_json(value: &Value, escape_html: bool) -> String {
    let mut out = String::new();
    match write_json(&mut out, value, escape_html, 0) {
        Some(()) => out,
        // Go's json.Marshal fails on a cycle, and Helm's toJson gives "" then.
        None => String::new(),
    }
}

fn write_json(out: &mut String, value: &Value, escape_html: bool, depth: usize) -> Option<()> {
    if depth > crate::value::MAX_DEPTH {
        return None;
    }
    match value {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&format_float_json(*f)),
        Value::String(s) => json_string(out, s, escape_html),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item, escape_html, depth + 1)?;
            }
            out.push(']');
        }
        Value::Map(map) => {
            out.push('{');
            for (i, (k, v)) in map.borrow().iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(out, k, escape_html);
                out.push(':');
                write_json(out, v, escape_html, depth + 1)?;
            }
            out.push('}');
        }
        Value::Object(_) => {
            let json = value.to_json_checked()?;
            out.push_str(&serde_json::to_string(&json).unwrap_or_default());
        }
    }
    Some(())
}

fn json_string(out: &mut String, s: &str, escape_html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if escape_html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `json.MarshalIndent(v, "", "  ")`.
fn pretty_json(json: &serde_json::Value, indent: usize) -> String {
    use serde_json::Value as J;
    let pad = "  ".repeat(indent + 1);
    let close = "  ".repeat(indent);
    match json {
        J::Object(map) if !map.is_empty() => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| {
                    let mut key = String::new();
                    json_string(&mut key, k, true);
                    format!("{pad}{key}: {}", pretty_json(&map[*k], indent + 1))
                })
                .collect();
            format!("{{\n{}\n{close}}}", parts.join(",\n"))
        }
        J::Array(items) if !items.is_empty() => {
            let parts: Vec<String> = items
                .iter()
                .map(|v| format!("{pad}{}", pretty_json(v, indent + 1)))
                .collect();
            format!("[\n{}\n{close}]", parts.join(",\n"))
        }
        other => to_json(&Value::from_json(other), true),
    }
}

/// go-yaml v3's layout for `toYamlPretty`: sequences indented under their key.
fn pretty_yaml(text: &str) -> String {
    let mut out = String::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut extra: Vec<(usize, usize)> = Vec::new(); // (indent of the key, added)
    for (i, line) in lines.iter().enumerate() {
        let indent = line.len() - line.trim_start().len();
        while let Some(&(key_indent, _)) = extra.last() {
            if indent <= key_indent
                && !(line.trim_start().starts_with("- ") && indent == key_indent)
            {
                extra.pop();
            } else {
                break;
            }
        }
        let added: usize = extra.iter().map(|e| e.1).sum();
        out.push_str(&" ".repeat(added));
        out.push_str(line);
        out.push('\n');
        if line.trim_end().ends_with(':')
            && let Some(next) = lines.get(i + 1)
        {
            let next_indent = next.len() - next.trim_start().len();
            if next_indent == indent && next.trim_start().starts_with("- ") {
                extra.push((indent, 2));
            }
        }
    }
    out
}

/// `toToml` as BurntSushi's encoder writes it: a table's plain keys first (sorted), then its
/// sub-tables and arrays of tables, each after a blank line, indented two spaces a level.
fn to_toml(value: &Value) -> String {
    let Value::Map(map) = value else {
        return String::new();
    };
    let mut out = String::new();
    write_toml_table(&mut out, &map.borrow(), &[]);
    out
}

fn is_table(v: &Value) -> bool {
    matches!(v, Value::Map(_))
}

fn is_table_array(v: &Value) -> bool {
    matches!(v, Value::List(items) if !items.is_empty() && items.iter().all(is_table))
}

fn write_toml_table(out: &mut String, map: &Map, path: &[String]) {
    let indent = "  ".repeat(path.len());
    for (k, v) in map.iter() {
        if is_table(v) || is_table_array(v) || matches!(v, Value::Nil) {
            continue;
        }
        out.push_str(&format!("{indent}{} = {}\n", toml_key(k), toml_value(v)));
    }
    for (k, v) in map.iter() {
        let mut full = path.to_vec();
        full.push(toml_key(k));
        let header_indent = "  ".repeat(path.len());
        match v {
            Value::Map(inner) => {
                out.push_str(&format!("\n{header_indent}[{}]\n", full.join(".")));
                write_toml_table(out, &inner.borrow(), &full);
            }
            Value::List(items) if is_table_array(v) => {
                for item in items.iter() {
                    if let Value::Map(inner) = item {
                        out.push_str(&format!("\n{header_indent}[[{}]]\n", full.join(".")));
                        write_toml_table(out, &inner.borrow(), &full);
                    }
                }
            }
            _ => {}
        }
    }
}

fn toml_key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        toml_string(k)
    }
}

fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn toml_value(v: &Value) -> String {
    match v {
        Value::String(s) => toml_string(s),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => {
            if f.is_nan() {
                "nan".to_string()
            } else if f.is_infinite() {
                if *f > 0.0 { "inf" } else { "-inf" }.to_string()
            } else {
                let text = crate::value::format_float_json(*f);
                if text.contains(['.', 'e']) {
                    text
                } else {
                    format!("{text}.0")
                }
            }
        }
        Value::Bool(b) => b.to_string(),
        Value::List(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter(|i| !matches!(i, Value::Nil))
                .map(toml_value)
                .collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Map(m) => {
            let parts: Vec<String> = m
                .borrow()
                .iter()
                .map(|(k, v)| format!("{} = {}", toml_key(k), toml_value(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Nil => String::new(),
        other => toml_string(&other.to_go_string()),
    }
}

/// `fromToml`: a TOML document as a map (integers as `int64`), or `{Error: …}`.
fn from_toml(text: &str) -> Value {
    match text.parse::<toml::Table>() {
        Ok(table) => toml_to_value(&toml::Value::Table(table)),
        Err(e) => error_map(e.message()),
    }
}

fn toml_to_value(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::str(s),
        toml::Value::Integer(i) => Value::Int(*i),
        toml::Value::Float(f) => Value::Float(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::string(d.to_string()),
        toml::Value::Array(items) => Value::list(items.iter().map(toml_to_value).collect()),
        toml::Value::Table(t) => Value::map(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_value(v)))
                .collect(),
        ),
    }
}

/// The methods of `.Files`.
pub(super) fn files_method(
    files: &BTreeMap<String, Vec<u8>>,
    name: &str,
    args: &[Value],
) -> Option<FuncResult> {
    let result = match name {
        "Get" => arity(name, args, 1)
            .and_then(|_| want_str(&args[0]))
            .map(|path| {
                Value::string(
                    files
                        .get(path)
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                        .unwrap_or_default(),
                )
            }),
        "GetBytes" => arity(name, args, 1)
            .and_then(|_| want_str(&args[0]))
            .map(|path| {
                Value::list(
                    files
                        .get(path)
                        .map(|b| b.iter().map(|x| Value::Int(*x as i64)).collect())
                        .unwrap_or_default(),
                )
            }),
        "Lines" => arity(name, args, 1)
            .and_then(|_| want_str(&args[0]))
            .map(|path| match files.get(path) {
                None => Value::list(Vec::new()),
                Some(bytes) => {
                    let text = String::from_utf8_lossy(bytes);
                    let text = text.strip_suffix('\n').unwrap_or(&text);
                    Value::list(text.split('\n').map(Value::str).collect())
                }
            }),
        "Glob" => arity(name, args, 1)
            .and_then(|_| want_str(&args[0]))
            .map(|pattern| {
                let matched: BTreeMap<String, Vec<u8>> = files
                    .iter()
                    .filter(|(path, _)| glob_match(pattern, path))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                files_value(matched)
            }),
        "AsConfig" => arity(name, args, 0).map(|_| {
            let mut map = Map::new();
            for (path, bytes) in files {
                let base = path.rsplit('/').next().unwrap_or(path);
                map.insert(
                    base.to_string(),
                    Value::string(String::from_utf8_lossy(bytes).into_owned()),
                );
            }
            Value::string(
                crate::yaml::to_yaml(&Value::map(map))
                    .trim_end_matches('\n')
                    .to_string(),
            )
        }),
        "AsSecrets" => arity(name, args, 0).map(|_| {
            use base64::Engine as _;
            let mut map = Map::new();
            for (path, bytes) in files {
                let base = path.rsplit('/').next().unwrap_or(path);
                map.insert(
                    base.to_string(),
                    Value::string(base64::engine::general_purpose::STANDARD.encode(bytes)),
                );
            }
            Value::string(
                crate::yaml::to_yaml(&Value::map(map))
                    .trim_end_matches('\n')
                    .to_string(),
            )
        }),
        _ => return None,
    };
    Some(result)
}

/// A `.Files`-like value holding `files`.
pub(crate) fn files_value(files: BTreeMap<String, Vec<u8>>) -> Value {
    Value::Object(std::rc::Rc::new(crate::value::Object {
        type_name: "engine.files",
        fields: Vec::new(),
        kind: crate::value::ObjectKind::Files(std::rc::Rc::new(files)),
    }))
}

/// gobwas/glob with `/` as separator, as Helm's `Files.Glob`: `*` within a path segment,
/// `**` across them, `?`, `[...]` classes, `{a,b}` alternatives.
pub(crate) fn glob_match(pattern: &str, path: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = path.chars().collect();
    glob_at(&p, 0, &s, 0)
}

fn glob_at(p: &[char], pi: usize, s: &[char], si: usize) -> bool {
    if pi == p.len() {
        return si == s.len();
    }
    match p[pi] {
        '*' => {
            let double = p.get(pi + 1) == Some(&'*');
            let next = if double { pi + 2 } else { pi + 1 };
            let mut j = si;
            loop {
                if glob_at(p, next, s, j) {
                    return true;
                }
                if j == s.len() || (!double && s[j] == '/') {
                    return false;
                }
                j += 1;
            }
        }
        '?' => si < s.len() && s[si] != '/' && glob_at(p, pi + 1, s, si + 1),
        '[' => {
            let Some(close) = p[pi..].iter().position(|c| *c == ']') else {
                return si < s.len() && s[si] == '[' && glob_at(p, pi + 1, s, si + 1);
            };
            if si >= s.len() {
                return false;
            }
            let class = &p[pi + 1..pi + close];
            let (negate, class) = match class.first() {
                Some('!') | Some('^') => (true, &class[1..]),
                _ => (false, class),
            };
            let c = s[si];
            let mut hit = false;
            let mut k = 0;
            while k < class.len() {
                if k + 2 < class.len() && class[k + 1] == '-' {
                    if class[k] <= c && c <= class[k + 2] {
                        hit = true;
                    }
                    k += 3;
                } else {
                    if class[k] == c {
                        hit = true;
                    }
                    k += 1;
                }
            }
            hit != negate && glob_at(p, pi + close + 1, s, si + 1)
        }
        '{' => {
            let Some(close) = p[pi..].iter().position(|c| *c == '}') else {
                return si < s.len() && s[si] == '{' && glob_at(p, pi + 1, s, si + 1);
            };
            let inner: String = p[pi + 1..pi + close].iter().collect();
            let rest: String = p[pi + close + 1..].iter().collect();
            inner.split(',').any(|alt| {
                let candidate: Vec<char> = format!("{alt}{rest}").chars().collect();
                glob_at(&candidate, 0, s, si)
            })
        }
        '\\' if pi + 1 < p.len() => {
            si < s.len() && s[si] == p[pi + 1] && glob_at(p, pi + 2, s, si + 1)
        }
        c => si < s.len() && s[si] == c && glob_at(p, pi + 1, s, si + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_as_gobwas() {
        assert!(glob_match("files/*.conf", "files/a.conf"));
        assert!(!glob_match("files/*.conf", "files/x/a.conf"));
        assert!(glob_match("files/**.conf", "files/x/a.conf"));
        assert!(glob_match("config/{a,b}.yaml", "config/b.yaml"));
        assert!(glob_match("f?le[0-9]", "file7"));
    }

    #[test]
    fn json_as_encoding_json() {
        let v = crate::yaml::parse_values("b: <a&b>\na: [1, 1.5, 1000000, true, null]\n")
            .expect("yaml");
        assert_eq!(
            to_json(&v, true),
            r#"{"a":[1,1.5,1000000,true,null],"b":"\u003ca\u0026b\u003e"}"#
        );
        assert_eq!(
            to_json(&v, false),
            r#"{"a":[1,1.5,1000000,true,null],"b":"<a&b>"}"#
        );
    }
}
