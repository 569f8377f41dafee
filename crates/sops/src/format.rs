//! The file formats: a document as an ordered tree, its `sops` metadata apart.

use std::path::Path;

use crate::SopsError;

/// A file format SOPS writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// YAML (one or more documents); the default for unknown extensions, as in SOPS.
    Yaml,
    /// JSON.
    Json,
    /// dotenv: `KEY=VALUE` lines, the metadata flattened into `sops_…` keys.
    Dotenv,
}

impl Format {
    /// The format of a file, from its extension as SOPS picks it (`.json`, `.env`, else
    /// YAML).
    pub fn from_path(path: &Path) -> Format {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if name.ends_with(".json") {
            Format::Json
        } else if name.ends_with(".env") || name == ".env" {
            Format::Dotenv
        } else {
            Format::Yaml
        }
    }
}

/// A document as SOPS walks it: maps keep their order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Map(Vec<(String, Node)>),
    List(Vec<Node>),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
}

impl Node {
    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The bytes SOPS hashes for a leaf (Go's `strconv` forms; booleans as `True`/`False`).
    pub(crate) fn to_text(&self) -> String {
        match self {
            Node::Str(s) => s.clone(),
            Node::Int(i) => i.to_string(),
            // Rust's shortest round-trip form without exponent, as Go's FormatFloat(f, 'f', -1).
            Node::Float(f) => format!("{f}"),
            Node::Bool(true) => "True".to_string(),
            Node::Bool(false) => "False".to_string(),
            Node::Null => String::new(),
            Node::Map(_) | Node::List(_) => String::new(),
        }
    }
}

/// Parses a file into its documents and its `sops` metadata (taken out of them).
pub(crate) fn parse(text: &str, format: Format) -> Result<(Vec<Node>, Option<Node>), SopsError> {
    let mut documents = match format {
        Format::Yaml => {
            let mut out = Vec::new();
            for document in serde_yaml_ng::Deserializer::from_str(text) {
                let value = <serde_yaml_ng::Value as serde::Deserialize>::deserialize(document)
                    .map_err(|e| SopsError::Parse(format!("invalid YAML: {e}")))?;
                out.push(from_yaml(value)?);
            }
            out
        }
        Format::Json => {
            let value: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| SopsError::Parse(format!("invalid JSON: {e}")))?;
            vec![from_json(value)]
        }
        Format::Dotenv => vec![parse_dotenv(text)?],
    };
    let mut metadata = None;
    for document in &mut documents {
        if let Node::Map(entries) = document
            && let Some(at) = entries.iter().position(|(k, _)| k == "sops")
        {
            metadata = Some(entries.remove(at).1);
        }
    }
    Ok((documents, metadata.filter(|m| m.get("mac").is_some())))
}

fn from_yaml(value: serde_yaml_ng::Value) -> Result<Node, SopsError> {
    use serde_yaml_ng::Value as Y;
    Ok(match value {
        Y::Null => Node::Null,
        Y::Bool(b) => Node::Bool(b),
        Y::Number(n) => match n.as_i64() {
            Some(i) => Node::Int(i),
            None => Node::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Y::String(s) => Node::Str(s),
        Y::Sequence(items) => {
            Node::List(items.into_iter().map(from_yaml).collect::<Result<_, _>>()?)
        }
        Y::Mapping(map) => {
            let mut entries = Vec::new();
            for (key, value) in map {
                let key = match key {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    other => {
                        return Err(SopsError::Parse(format!(
                            "a mapping key is not a string ({other:?}); SOPS supports string keys only"
                        )));
                    }
                };
                entries.push((key, from_yaml(value)?));
            }
            Node::Map(entries)
        }
        Y::Tagged(tagged) => from_yaml(tagged.value)?,
    })
}

fn from_json(value: serde_json::Value) -> Node {
    use serde_json::Value as J;
    match value {
        J::Null => Node::Null,
        J::Bool(b) => Node::Bool(b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Node::Int(i),
            None => Node::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Node::Str(s),
        J::Array(items) => Node::List(items.into_iter().map(from_json).collect()),
        J::Object(map) => Node::Map(map.into_iter().map(|(k, v)| (k, from_json(v))).collect()),
    }
}

/// dotenv as SOPS reads it: `KEY=VALUE` (`\n` in a value is a newline), `#` comments, and
/// the metadata in `sops_`-prefixed keys flattened with `__map_` / `__list_N__`.
fn parse_dotenv(text: &str) -> Result<Node, SopsError> {
    let mut entries = Vec::new();
    let mut metadata = Node::Map(Vec::new());
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once('=').ok_or_else(|| {
            SopsError::Parse(format!("line {} is not KEY=VALUE: {line:?}", number + 1))
        })?;
        let value = value.replace("\\n", "\n");
        match key.strip_prefix("sops_") {
            Some(flat) => place(&mut metadata, &tokens(flat), Node::Str(value)),
            None => entries.push((key.to_string(), Node::Str(value))),
        }
    }
    if !matches!(&metadata, Node::Map(m) if m.is_empty()) {
        entries.push(("sops".to_string(), metadata));
    }
    Ok(Node::Map(entries))
}

enum Token {
    Key(String),
    Index(usize),
}

/// `pgp__list_0__map_enc` → `pgp`, `[0]`, `enc`, as SOPS flattens nested metadata.
fn tokens(path: &str) -> Vec<Token> {
    const MAP: &str = "__map_";
    const LIST: &str = "__list_";
    #[derive(Clone, Copy)]
    enum State {
        Plain,
        Map,
        List,
    }
    let finish = |state: State, from: usize, to: usize| match state {
        State::Plain => Token::Key(path[from..to].to_string()),
        State::Map => Token::Key(path[from + MAP.len()..to].to_string()),
        State::List => Token::Index(path[from + LIST.len()..to].parse().unwrap_or(0)),
    };
    let mut out = Vec::new();
    let (mut state, mut last, mut i) = (State::Plain, 0, 0);
    while i < path.len() {
        if path[i..].starts_with(MAP) {
            out.push(finish(state, last, i));
            (state, last) = (State::Map, i);
            i += MAP.len();
        } else if path[i..].starts_with(LIST) {
            out.push(finish(state, last, i));
            (state, last) = (State::List, i);
            i += LIST.len();
        } else {
            i += path[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    out.push(finish(state, last, path.len()));
    out
}

fn place(root: &mut Node, path: &[Token], value: Node) {
    let Some((first, rest)) = path.split_first() else {
        *root = value;
        return;
    };
    match first {
        Token::Key(key) => {
            if !matches!(root, Node::Map(_)) {
                *root = Node::Map(Vec::new());
            }
            let Node::Map(entries) = root else { return };
            let at = match entries.iter().position(|(k, _)| k == key) {
                Some(at) => at,
                None => {
                    entries.push((key.clone(), Node::Null));
                    entries.len() - 1
                }
            };
            place(&mut entries[at].1, rest, value);
        }
        Token::Index(index) => {
            if !matches!(root, Node::List(_)) {
                *root = Node::List(Vec::new());
            }
            let Node::List(items) = root else { return };
            while items.len() <= *index {
                items.push(Node::Null);
            }
            place(&mut items[*index], rest, value);
        }
    }
}

/// Writes the documents back in `format` (without comments or metadata).
pub(crate) fn emit(documents: &[Node], format: Format) -> Result<String, SopsError> {
    match format {
        Format::Yaml => {
            let mut out = String::new();
            for (i, document) in documents.iter().enumerate() {
                if i > 0 {
                    out.push_str("---\n");
                }
                write_yaml(document, 0, &mut out);
            }
            Ok(out)
        }
        Format::Json => {
            let value = documents.first().map(to_json).unwrap_or_default();
            serde_json::to_string_pretty(&value)
                .map(|s| s + "\n")
                .map_err(|e| SopsError::Parse(e.to_string()))
        }
        Format::Dotenv => {
            let mut out = String::new();
            if let Some(Node::Map(entries)) = documents.first() {
                for (key, value) in entries {
                    if key == "sops" {
                        flatten(value, "sops", &mut out);
                    } else {
                        out.push_str(&format!("{key}={}\n", value.to_text().replace('\n', "\\n")));
                    }
                }
            }
            Ok(out)
        }
    }
}

/// A SOPS file as text: the documents, the `sops` metadata among them.
pub(crate) fn emit_encrypted(documents: &[Node], format: Format) -> Result<String, SopsError> {
    emit(documents, format)
}

/// dotenv lines for the nested metadata `node` under `prefix`, as SOPS flattens it.
fn flatten(node: &Node, prefix: &str, out: &mut String) {
    match node {
        Node::Map(entries) => {
            for (key, value) in entries {
                let name = if prefix == "sops" {
                    format!("sops_{key}")
                } else {
                    format!("{prefix}__map_{key}")
                };
                flatten(value, &name, out);
            }
        }
        Node::List(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten(item, &format!("{prefix}__list_{i}"), out);
            }
        }
        Node::Null => {}
        Node::Bool(b) => out.push_str(&format!("{prefix}={b}\n")),
        leaf => out.push_str(&format!(
            "{prefix}={}\n",
            leaf.to_text().replace('\n', "\\n")
        )),
    }
}

/// Writes `node` as block-style YAML at `indent`, as sops's YAML store writes it: strings
/// quoted where YAML would read them as something else — timestamps too, which YAML 1.1
/// readers (sops's own) take for dates — and multi-line strings (armored keys) as literal
/// blocks.
fn write_yaml(node: &Node, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match node {
        Node::Map(entries) if !entries.is_empty() => {
            for (key, value) in entries {
                out.push_str(&format!("{pad}{}:", scalar_text(key)));
                write_value(value, indent, out);
            }
        }
        Node::List(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&format!("{pad}-"));
                match item {
                    Node::Map(entries) if !entries.is_empty() => {
                        // The first entry on the dash's line, the others under it.
                        let mut first = String::new();
                        write_yaml(item, indent + 2, &mut first);
                        out.push(' ');
                        out.push_str(first.trim_start());
                    }
                    _ => write_value(item, indent, out),
                }
            }
        }
        other => {
            out.push_str(&pad);
            write_value(other, indent, out);
        }
    }
}

/// What follows `key:` or `-`: a scalar on the same line, or a nested block.
fn write_value(value: &Node, indent: usize, out: &mut String) {
    match value {
        Node::Map(entries) if !entries.is_empty() => {
            out.push('\n');
            write_yaml(value, indent + 4, out);
        }
        Node::List(items) if !items.is_empty() => {
            out.push('\n');
            write_yaml(value, indent + 4, out);
        }
        Node::Map(_) => out.push_str(" {}\n"),
        Node::List(_) => out.push_str(" []\n"),
        Node::Str(s) if s.contains('\n') => {
            let chomp = if s.ends_with('\n') { "|" } else { "|-" };
            out.push_str(&format!(" {chomp}\n"));
            let pad = " ".repeat(indent + 4);
            for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
                if line.is_empty() {
                    out.push('\n');
                } else {
                    out.push_str(&format!("{pad}{line}\n"));
                }
            }
        }
        Node::Str(s) => out.push_str(&format!(" {}\n", scalar_text(s))),
        Node::Int(i) => out.push_str(&format!(" {i}\n")),
        Node::Float(f) => out.push_str(&format!(" {}\n", float_text(*f))),
        Node::Bool(b) => out.push_str(&format!(" {b}\n")),
        Node::Null => out.push_str(" null\n"),
    }
}

/// A float YAML reads back as a float (`1.0`, not `1`).
fn float_text(f: f64) -> String {
    let text = format!("{f}");
    if text.contains(['.', 'e', 'E', 'i', 'N']) {
        text
    } else {
        format!("{text}.0")
    }
}

/// A string as a YAML scalar: plain when YAML reads it back as this string, else
/// double-quoted (a JSON string is a valid YAML double-quoted scalar).
fn scalar_text(s: &str) -> String {
    let looks_like_time = s.len() >= 10
        && s.as_bytes()[..10].iter().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let plain = !s.is_empty()
        && !looks_like_time
        && !s.starts_with([' ', '\'', '"'])
        && !s.ends_with(' ')
        && serde_yaml_ng::from_str::<serde_yaml_ng::Value>(s).is_ok_and(|v| v.as_str() == Some(s))
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off"
        );
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match node {
        Node::Map(entries) => J::Object(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), to_json(v)))
                .collect(),
        ),
        Node::List(items) => J::Array(items.iter().map(to_json).collect()),
        Node::Str(s) => J::String(s.clone()),
        Node::Int(i) => J::from(*i),
        Node::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Node::Bool(b) => J::Bool(*b),
        Node::Null => J::Null,
    }
}
