//! YAML as Helm reads and writes it. Reading follows `sigs.k8s.io/yaml` over go-yaml v2: YAML
//! 1.1 scalars (`yes`/`on` are booleans, `0x1F` and `017` integers), anchors, aliases and
//! `<<` merge keys, duplicate keys refused, then the JSON round trip that makes every number a
//! `float64` and every key a string. Writing follows `toYaml` (`yaml.Marshal`): JSON data
//! emitted by go-yaml v2 — sorted keys, sequences not indented under their key, strings plain
//! when they read back as the same string, else single- or double-quoted, literal blocks for
//! multi-line text.

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle};

use crate::value::{Map, Value, format_float_g};

/// A YAML syntax or structure error, with its line and column (1-based).
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}:{}: {}", self.line, self.column, self.message)
    }
}

/// A parsed YAML node, scalars kept as written (Chart.yaml's string fields need the text).
#[derive(Debug, Clone)]
pub enum Node {
    /// A scalar: text, whether it was plain (unquoted), its explicit tag, line.
    Scalar {
        /// The scalar's value after escapes.
        text: String,
        /// Plain (unquoted, not a block scalar).
        plain: bool,
        /// An explicit tag's suffix (`str` for `!!str`).
        tag: Option<String>,
        /// 1-based line.
        line: usize,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order.
    Map(Vec<(Node, Node)>, usize),
}

/// Parses every document of `text`.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut documents = Vec::new();
    // A stack of collections under construction.
    enum Frame {
        Seq(Vec<Node>, usize),
        Map(Vec<(Node, Node)>, Option<Node>, usize, usize),
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut current_doc: Option<Node> = None;
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| YamlError {
            line: e.marker().line(),
            column: e.marker().col() + 1,
            message: libyaml_wording(&e.info()),
        })?;
        let line = span.start.line();
        let column = span.start.col() + 1;
        let node = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentStart(..) => continue,
            Event::DocumentEnd => {
                documents.push(current_doc.take().unwrap_or(Node::Scalar {
                    text: String::new(),
                    plain: true,
                    tag: None,
                    line,
                }));
                anchors.clear();
                continue;
            }
            Event::Alias(id) => match anchors.get(&id) {
                Some(node) => node.clone(),
                None => {
                    return Err(YamlError {
                        line,
                        column,
                        message: "unknown anchor".to_string(),
                    });
                }
            },
            Event::Scalar(text, style, anchor, tag) => {
                let node = Node::Scalar {
                    text: text.into_owned(),
                    plain: matches!(style, ScalarStyle::Plain),
                    tag: tag.map(|t| t.suffix().to_string()),
                    line,
                };
                if anchor != 0 {
                    anchors.insert(anchor, node.clone());
                }
                node
            }
            Event::SequenceStart(_, anchor, _) => {
                stack.push(Frame::Seq(Vec::new(), anchor));
                continue;
            }
            Event::MappingStart(_, anchor, _) => {
                stack.push(Frame::Map(Vec::new(), None, anchor, line));
                continue;
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(items, anchor)) => {
                    let node = Node::Seq(items);
                    if anchor != 0 {
                        anchors.insert(anchor, node.clone());
                    }
                    node
                }
                _ => continue,
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map(entries, _, anchor, map_line)) => {
                    let node = Node::Map(entries, map_line);
                    if anchor != 0 {
                        anchors.insert(anchor, node.clone());
                    }
                    node
                }
                _ => continue,
            },
            _ => continue,
        };
        match stack.last_mut() {
            None => current_doc = Some(node),
            Some(Frame::Seq(items, _)) => items.push(node),
            Some(Frame::Map(entries, pending, _, _)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => entries.push((key, node)),
            },
        }
    }
    Ok(documents)
}

/// The parser's message in libyaml's words where Helm users know those (go-yaml is a port
/// of libyaml).
fn libyaml_wording(message: &str) -> String {
    let known = [
        ("unclosed bracket '['", "did not find expected ',' or ']'"),
        ("unclosed bracket '{'", "did not find expected ',' or '}'"),
        ("unclosed quote", "found unexpected end of stream"),
        (
            "mapping values are not allowed",
            "mapping values are not allowed in this context",
        ),
        (
            "tab cannot be used as indentation",
            "found character that cannot start any token",
        ),
        (
            "tabs disallowed in this context",
            "found character that cannot start any token",
        ),
    ];
    for (ours, theirs) in known {
        if message.starts_with(ours) {
            return theirs.to_string();
        }
    }
    message.to_string()
}

/// Parses one YAML document (the first; empty text is null) as Helm reads values files.
pub fn parse_values(text: &str) -> Result<Value, YamlError> {
    let documents = parse_documents(text)?;
    match documents.into_iter().next() {
        None => Ok(Value::Nil),
        Some(node) => to_value(&node),
    }
}

/// Converts a node to template data as `sigs.k8s.io/yaml.Unmarshal` into `interface{}` does.
pub fn to_value(node: &Node) -> Result<Value, YamlError> {
    Ok(match node {
        Node::Scalar {
            text, plain, tag, ..
        } => match resolve(text, *plain, tag.as_deref()) {
            Scalar::Null => Value::Nil,
            Scalar::Bool(b) => Value::Bool(b),
            Scalar::Int(i) => Value::Float(i as f64),
            Scalar::Float(f) => Value::Float(f),
            Scalar::String => Value::str(text),
        },
        Node::Seq(items) => {
            let mut list = Vec::with_capacity(items.len());
            for item in items {
                list.push(to_value(item)?);
            }
            Value::list(list)
        }
        Node::Map(entries, _) => Value::map(mapping(entries)?),
    })
}

/// A mapping's entries as a map, merge keys (`<<`) applied and duplicates refused.
fn mapping(entries: &[(Node, Node)]) -> Result<Map, YamlError> {
    let mut map = Map::new();
    let mut merged = Map::new();
    for (key, value) in entries {
        if let Node::Scalar {
            text,
            plain: true,
            tag: None,
            ..
        } = key
            && text == "<<"
        {
            let sources: Vec<&Node> = match value {
                Node::Seq(items) => items.iter().collect(),
                other => vec![other],
            };
            for source in sources {
                let Node::Map(inner, _) = source else {
                    return Err(YamlError {
                        line: node_line(source),
                        column: 1,
                        message: "map merge requires map or sequence of maps as the value"
                            .to_string(),
                    });
                };
                for (k, v) in mapping(inner)? {
                    merged.entry(k).or_insert(v);
                }
            }
            continue;
        }
        // go-yaml v2 decoding into interface{} lets a repeated key replace the earlier one.
        let key_text = key_string(key)?;
        map.insert(key_text, to_value(value)?);
    }
    for (k, v) in merged {
        map.entry(k).or_insert(v);
    }
    Ok(map)
}

fn node_line(node: &Node) -> usize {
    match node {
        Node::Scalar { line, .. } => *line,
        Node::Map(_, line) => *line,
        Node::Seq(items) => items.first().map(node_line).unwrap_or(0),
    }
}

/// A mapping key as JSON makes it a string (`true`, `1`, `1.5`).
fn key_string(key: &Node) -> Result<String, YamlError> {
    match key {
        Node::Scalar {
            text, plain, tag, ..
        } => Ok(match resolve(text, *plain, tag.as_deref()) {
            Scalar::Null => "null".to_string(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => format_float_g(f as f32 as f64),
            Scalar::String => text.clone(),
        }),
        other => Err(YamlError {
            line: node_line(other),
            column: 1,
            message: "a mapping key must be a scalar".to_string(),
        }),
    }
}

/// What a scalar resolves to.
#[derive(Debug, PartialEq)]
pub enum Scalar {
    /// null.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string (the text itself).
    String,
}

/// go-yaml v2's resolution of a scalar (YAML 1.1 booleans, integers in bases 2/8/10/16,
/// floats, `.inf`/`.nan`, nulls); quoted scalars and `!!str` are strings.
pub fn resolve(text: &str, plain: bool, tag: Option<&str>) -> Scalar {
    match tag {
        Some("str") | Some("binary") => return Scalar::String,
        Some("null") => return Scalar::Null,
        Some("bool") => {
            return match resolve(text, true, None) {
                Scalar::Bool(b) => Scalar::Bool(b),
                _ => Scalar::String,
            };
        }
        Some("int") | Some("float") => {
            return match resolve(text, true, None) {
                Scalar::Int(i) if tag == Some("float") => Scalar::Float(i as f64),
                s @ (Scalar::Int(_) | Scalar::Float(_)) => s,
                _ => Scalar::String,
            };
        }
        _ => {}
    }
    if !plain {
        return Scalar::String;
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Scalar::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Scalar::Bool(false);
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Scalar::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Scalar::Float(f64::NAN),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return Scalar::String;
    }
    let clean = text.replace('_', "");
    if let Some(i) = parse_go_int(&clean) {
        return Scalar::Int(i);
    }
    if is_yaml_float(&clean)
        && let Ok(f) = clean.parse::<f64>()
    {
        return Scalar::Float(f);
    }
    // `0b1010` with its sign, as go-yaml reads it.
    Scalar::String
}

/// `strconv.ParseInt(s, 0, 64)`: decimal, `0x`, `0o`, `0b`, and a leading `0` for octal.
fn parse_go_int(s: &str) -> Option<i64> {
    let (negative, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let magnitude = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()?
    } else if let Some(b) = lower.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()?
    } else if lower.len() > 1 && lower.starts_with('0') {
        i64::from_str_radix(&lower[1..], 8).ok()?
    } else {
        if !lower.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        lower.parse::<i64>().ok()?
    };
    Some(if negative { -magnitude } else { magnitude })
}

/// go-yaml's float pattern: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && matches!(b[i], b'-' | b'+') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if int_digits == 0 && i == frac_start {
            return false;
        }
    } else if int_digits == 0 {
        return false;
    }
    if i < b.len() && matches!(b[i], b'e' | b'E') {
        i += 1;
        if i < b.len() && matches!(b[i], b'-' | b'+') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

/// `toYaml`: the value as `sigs.k8s.io/yaml.Marshal` writes it (with its final newline).
pub fn to_yaml(value: &Value) -> String {
    let json = value.to_json();
    let mut out = String::new();
    emit(&mut out, &json, 0, Context::Top);
    out
}

/// Writes JSON data as YAML, the way go-yaml v2 lays it out.
pub fn json_to_yaml(json: &serde_json::Value) -> String {
    let mut out = String::new();
    emit(&mut out, json, 0, Context::Top);
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Context {
    Top,
    /// After `key:` — a scalar goes on the same line, a collection on the next.
    MapValue,
    /// After `- `.
    SeqItem,
}

fn emit(out: &mut String, value: &serde_json::Value, indent: usize, context: Context) {
    use serde_json::Value as J;
    match value {
        J::Object(map) if !map.is_empty() => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| natural_less(a, b));
            for (i, key) in keys.into_iter().enumerate() {
                match context {
                    Context::MapValue if i == 0 => {
                        out.push('\n');
                        out.push_str(&" ".repeat(indent));
                    }
                    Context::SeqItem if i == 0 => {}
                    _ if i == 0 => {}
                    _ => out.push_str(&" ".repeat(indent)),
                }
                out.push_str(&scalar_string(key, indent, true));
                out.push(':');
                let child = &map[key];
                emit(out, child, indent + 2, Context::MapValue);
            }
        }
        J::Array(items) if !items.is_empty() => {
            // go-yaml v2 does not indent a sequence under its mapping key.
            let item_indent = if context == Context::MapValue {
                indent - 2
            } else {
                indent
            };
            for (i, item) in items.iter().enumerate() {
                match context {
                    Context::MapValue if i == 0 => {
                        out.push('\n');
                        out.push_str(&" ".repeat(item_indent));
                    }
                    Context::SeqItem if i == 0 => {}
                    _ if i == 0 => {}
                    _ => out.push_str(&" ".repeat(item_indent)),
                }
                out.push_str("- ");
                emit(out, item, item_indent + 2, Context::SeqItem);
            }
        }
        scalar => {
            if context == Context::MapValue {
                out.push(' ');
            }
            let text = match scalar {
                J::Null => "null".to_string(),
                J::Bool(b) => b.to_string(),
                J::Number(n) => number_text(n),
                J::String(s) => {
                    let column = out[out.rfind('\n').map(|i| i + 1).unwrap_or(0)..]
                        .chars()
                        .count();
                    fold(&scalar_string(s, indent, false), column, indent)
                }
                J::Object(_) => "{}".to_string(),
                J::Array(_) => "[]".to_string(),
            };
            out.push_str(&text);
            out.push('\n');
        }
    }
}

/// A JSON number as go-yaml writes what it read back from the JSON text: integers as
/// integers, other numbers through `FormatFloat('g')`.
fn number_text(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    // The JSON text of an integral float has no fraction: go-yaml reads it as an integer.
    let json_text = crate::value::format_float_json(f);
    if !json_text.contains(['.', 'e']) {
        // go-yaml reads `-0` as the integer 0.
        return if json_text == "-0" {
            "0".to_string()
        } else {
            json_text
        };
    }
    let text = format_float_g(f);
    if text.contains(['.', 'e', 'n', 'I']) {
        text
    } else {
        format!("{text}.0")
    }
}

/// go-yaml's key order: numbers and digit runs compared by value, letters before digits.
fn natural_less(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (ar, br): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let al = ar[i].is_alphabetic();
        let bl = br[i].is_alphabetic();
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        // Digit runs compare numerically (when both are digits at this point).
        let digit_run = |s: &[char], mut j: usize| {
            let start = j;
            while j < s.len() && s[j].is_ascii_digit() {
                j += 1;
            }
            (start, j)
        };
        // Back up to the start of a shared digit run.
        let mut start = i;
        while start > 0 && ar[start - 1].is_ascii_digit() {
            start -= 1;
        }
        let (as_, ae) = digit_run(&ar, start);
        let (bs, be) = digit_run(&br, start);
        if ae > as_ && be > bs {
            let an: String = ar[as_..ae].iter().collect();
            let bn: String = br[bs..be].iter().collect();
            let (an, bn) = (an.trim_start_matches('0'), bn.trim_start_matches('0'));
            if an.len() != bn.len() {
                return an.len().cmp(&bn.len());
            }
            if an != bn {
                return an.cmp(bn);
            }
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

/// A string scalar as go-yaml v2 writes it: plain when that reads back as the same string,
/// a literal block for multi-line text, else single quotes (double quotes for what single
/// quotes cannot hold).
fn scalar_string(s: &str, indent: usize, is_key: bool) -> String {
    if s.contains('\n') && !is_key && literal_allowed(s) {
        return literal_block(s, indent);
    }
    let resolves_to_string =
        resolve(s, true, None) == Scalar::String && !is_base60_float(s) && !is_timestamp(s);
    if !resolves_to_string {
        return double_quoted(s);
    }
    if plain_allowed(s) {
        return s.to_string();
    }
    if single_allowed(s) {
        return format!("'{}'", s.replace('\'', "''"));
    }
    double_quoted(s)
}

/// go-yaml's line folding at 80 columns: a space where the line already runs past column 80
/// becomes a line break and the continuation indent (plain and single-quoted scalars; in
/// double-quoted ones too, with `\` before a space that would start the next line).
fn fold(text: &str, start_column: usize, indent: usize) -> String {
    const BEST_WIDTH: usize = 80;
    let chars: Vec<char> = text.chars().collect();
    if chars.first() == Some(&'|') || start_column + chars.len() <= BEST_WIDTH {
        return text.to_string();
    }
    let kind = match chars.first() {
        Some('\'') => '\'',
        Some('"') => '"',
        _ => 'p',
    };
    let mut out = String::with_capacity(text.len() + 8);
    let mut column = start_column;
    let mut previous_space = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let next_space = chars.get(i + 1) == Some(&' ');
            let inside = kind == 'p' || (i > 1 && i + 2 < chars.len());
            let allowed = match kind {
                'p' => !next_space,
                '\'' => !next_space && inside,
                _ => inside,
            };
            if !previous_space && column > BEST_WIDTH && allowed {
                out.push('\n');
                out.push_str(&" ".repeat(indent));
                column = indent;
                if kind == '"' && next_space {
                    out.push('\\');
                    column += 1;
                }
                previous_space = true;
                continue;
            }
            previous_space = true;
        } else {
            previous_space = false;
        }
        out.push(c);
        column += 1;
    }
    out
}

/// Whether go-yaml v2 would read the plain scalar as a timestamp (`2024-01-02`,
/// `2024-01-02T10:00:00Z`, `2024-1-2 10:00:00.5`), which `toYaml` then quotes.
fn is_timestamp(s: &str) -> bool {
    static PATTERN: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    PATTERN
        .get_or_init(|| {
            regex::Regex::new(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::?[0-9]{2})?))?)?$")
                .expect("a valid pattern")
        })
        .is_match(s)
}

fn is_base60_float(s: &str) -> bool {
    // `[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?`
    let b = s.trim_start_matches(['-', '+']);
    let Some(first) = b.chars().next() else {
        return false;
    };
    if !first.is_ascii_digit() || !b.contains(':') {
        return false;
    }
    let (main, _) = b.split_once('.').unwrap_or((b, ""));
    let mut parts = main.split(':');
    let head = parts.next().unwrap_or("");
    if !head.chars().all(|c| c.is_ascii_digit() || c == '_') {
        return false;
    }
    parts.all(|p| {
        !p.is_empty()
            && p.len() <= 2
            && p.chars().all(|c| c.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| n < 60)
    })
}

/// libyaml's analysis: may the string be written plain?
fn plain_allowed(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    let chars: Vec<char> = s.chars().collect();
    let first = chars[0];
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    if matches!(
        first,
        '#' | ','
            | '['
            | ']'
            | '{'
            | '}'
            | '&'
            | '*'
            | '!'
            | '|'
            | '>'
            | '\''
            | '"'
            | '%'
            | '@'
            | '`'
    ) {
        return false;
    }
    if matches!(first, '-' | '?' | ':') && (chars.len() == 1 || matches!(chars[1], ' ' | '\t')) {
        return false;
    }
    if matches!(chars[0], ' ' | '\t') || matches!(chars[chars.len() - 1], ' ' | '\t') {
        return false;
    }
    for (i, c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        match c {
            ':' if next.is_none() || matches!(next, Some(' ' | '\t')) => return false,
            '#' if i > 0 && matches!(chars[i - 1], ' ' | '\t') => return false,
            c if !is_printable_yaml(*c) => return false,
            '\u{85}' | '\u{2028}' | '\u{2029}' => return false,
            _ => {}
        }
    }
    true
}

fn single_allowed(s: &str) -> bool {
    !s.chars().any(|c| !is_printable_yaml(c) || c == '\n')
}

/// libyaml's `is_printable`: line feed, ASCII graphic characters and space, U+00A0–U+D7FF,
/// U+E000–U+FFFD but U+FEFF; not tab, not characters beyond the basic plane.
fn is_printable_yaml(c: char) -> bool {
    matches!(c, '\n' | ' '..='~' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        && c != '\u{FEFF}'
}

/// Whether a multi-line string can be a literal block (no trailing spaces on a line, no
/// characters a block cannot hold, not starting with a space).
fn literal_allowed(s: &str) -> bool {
    if s.starts_with(' ') || s.starts_with('\t') {
        // libyaml would need an indentation indicator; go-yaml writes it double-quoted.
        return false;
    }
    for line in s.split('\n') {
        if line.ends_with(' ') || line.ends_with('\t') {
            return false;
        }
    }
    s.chars().all(|c| is_printable_yaml(c) && c != '\r')
}

fn literal_block(s: &str, indent: usize) -> String {
    let chomp = if !s.ends_with('\n') {
        "-"
    } else if s.ends_with("\n\n") {
        "+"
    } else {
        ""
    };
    let body = s.strip_suffix('\n').unwrap_or(s);
    let pad = " ".repeat(indent.max(2));
    let mut out = format!("|{chomp}");
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
    }
    out
}

fn double_quoted(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{A0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if !is_printable_yaml(c) => {
                let code = c as u32;
                if code <= 0xFF {
                    out.push_str(&format!("\\x{code:02X}"));
                } else if code <= 0xFFFF {
                    out.push_str(&format!("\\u{code:04X}"));
                } else {
                    out.push_str(&format!("\\U{code:08X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_helm_reads_them() {
        let v =
            parse_values("a: 1\nb: yes\nc: '1'\nd: 0x10\ne: 1.5e3\nf:\ng: [x, ~]\nh: 2020-01-01\n")
                .expect("yaml");
        assert_eq!(
            v.to_go_string(),
            "map[a:1 b:true c:1 d:16 e:1500 f:<nil> g:[x <nil>] h:2020-01-01]"
        );
        let Value::Map(m) = &v else { panic!("a map") };
        assert!(matches!(m.borrow()["a"], Value::Float(_)));
        assert!(matches!(m.borrow()["c"], Value::String(_)));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let v = parse_values("base: &b {x: 1, z: 2}\nuse:\n  <<: *b\n  z: 3\n").expect("yaml");
        assert_eq!(v.to_go_string(), "map[base:map[x:1 z:2] use:map[x:1 z:3]]");
    }

    #[test]
    fn a_repeated_key_replaces_the_earlier_one() {
        assert_eq!(
            parse_values("a: 1\na: 2\n").expect("yaml").to_go_string(),
            "map[a:2]"
        );
        assert_eq!(
            parse_values("on: 1\nyes: 2\n")
                .expect("yaml")
                .to_go_string(),
            "map[true:2]"
        );
    }

    #[test]
    fn to_yaml_as_go_yaml_v2_writes() {
        let v = parse_values(
            "b: [1, two]\na:\n  k: 'true'\n  e: ''\n  m: \"x: y\"\n  t: \"line1\\nline2\"\n  l: []\n  o: {}\nc: 1000000\nd: 1.5\n",
        )
        .expect("yaml");
        assert_eq!(
            to_yaml(&v),
            "a:\n  e: \"\"\n  k: \"true\"\n  l: []\n  m: 'x: y'\n  o: {}\n  t: |-\n    line1\n    line2\nb:\n- 1\n- two\nc: 1000000\nd: 1.5\n"
        );
    }

    #[test]
    fn lists_of_maps() {
        let v = parse_values("- name: a\n  port: 80\n- name: b\n").expect("yaml");
        assert_eq!(to_yaml(&v), "- name: a\n  port: 80\n- name: b\n");
    }
}
