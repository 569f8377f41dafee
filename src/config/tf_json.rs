//! Terraform's JSON syntax (`*.tf.json`): the document is turned into native HCL text with
//! every property on the line it has in the JSON file, then read like any `.tf` file, so
//! diagnostics name the right file and line.
//!
//! As Terraform's JSON syntax says: the root's properties are block types; a `resource` or
//! `data` property nests type, then name; `variable`, `output`, `module` and `provider`
//! nest the name; strings are templates (`"${var.x}"`); a few arguments are expressions
//! written as strings (`depends_on`, `type`, `moved.from`, `ignore_changes`...); a property
//! named `//` is a comment.

use std::sync::Arc;

use crate::diag::{Diagnostic, SourceText};

/// A JSON value with the line (1-based) it starts on.
#[derive(Debug, Clone)]
struct Node {
    line: usize,
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Node>),
    /// Properties in order, each with the line of its name.
    Object(Vec<(String, usize, Node)>),
}

/// The HCL text of a `.tf.json` file, its lines aligned with the JSON's.
pub fn to_hcl(file: &Arc<SourceText>) -> Result<Arc<SourceText>, Diagnostic> {
    let invalid = |line: usize, column: usize, what: String| {
        Diagnostic::error(
            "Invalid JSON syntax",
            format!("{what}. A .tf.json file holds one JSON object in Terraform's JSON syntax."),
        )
        .at(file.location_at(line, column))
    };
    let mut parser = Parser {
        text: file.text.as_bytes(),
        at: 0,
        line: 1,
        line_start: 0,
    };
    let root = parser
        .document()
        .map_err(|(line, column, what)| invalid(line, column, what))?;
    let Kind::Object(properties) = &root.kind else {
        return Err(invalid(
            root.line,
            1,
            "The document is not a JSON object".into(),
        ));
    };
    let mut out = Writer::default();
    for (block_type, line, value) in properties {
        if block_type == "//" {
            continue;
        }
        root_block(&mut out, block_type, *line, value)
            .map_err(|(line, what)| invalid(line, 1, what))?;
    }
    Ok(SourceText::new(file.name.clone(), out.text))
}

type Failure = (usize, String);

/// Text written so far, with the line it is on.
#[derive(Default)]
struct Writer {
    text: String,
    line: usize,
}

impl Writer {
    /// Moves to `line` (never back, and always past the line written last) and writes `s`.
    fn line_at(&mut self, line: usize, s: &str) {
        if self.line == 0 {
            self.line = 1;
        } else {
            let line = line.max(self.line + 1);
            while self.line < line {
                self.text.push('\n');
                self.line += 1;
            }
        }
        while self.line < line {
            self.text.push('\n');
            self.line += 1;
        }
        self.text.push_str(s);
    }

    /// Moves to `line` if it is further down (inside an expression), then writes `s`.
    fn at(&mut self, line: usize, s: &str) {
        while self.line < line {
            self.text.push('\n');
            self.line += 1;
        }
        self.text.push_str(s);
    }
}

/// How many labels each root block type takes in JSON nesting.
fn label_depth(block_type: &str) -> Option<usize> {
    match block_type {
        "resource" | "data" => Some(2),
        "variable" | "output" | "module" | "provider" | "check" => Some(1),
        "locals" | "terraform" | "moved" | "import" | "removed" => Some(0),
        _ => None,
    }
}

fn root_block(
    out: &mut Writer,
    block_type: &str,
    line: usize,
    value: &Node,
) -> Result<(), Failure> {
    let Some(depth) = label_depth(block_type) else {
        return Err((
            line,
            format!("\"{block_type}\" is not a block type of a Terraform configuration"),
        ));
    };
    labelled(out, block_type, &mut Vec::new(), depth, value)
}

/// Walks `depth` levels of labels, then writes the block (or each block of an array).
fn labelled(
    out: &mut Writer,
    block_type: &str,
    labels: &mut Vec<String>,
    depth: usize,
    value: &Node,
) -> Result<(), Failure> {
    if depth == 0 {
        let bodies: Vec<&Node> = match &value.kind {
            Kind::Array(items) => items.iter().collect(),
            _ => vec![value],
        };
        for body in bodies {
            let head: String = std::iter::once(block_type.to_string())
                .chain(labels.iter().map(|l| quote(l)))
                .collect::<Vec<_>>()
                .join(" ");
            out.line_at(body.line, &format!("{head} {{"));
            block_body(out, block_type, body)?;
            let next = out.line + 1;
            out.line_at(next, "}");
        }
        return Ok(());
    }
    let Kind::Object(properties) = &value.kind else {
        return Err((
            value.line,
            format!("A {block_type} block's JSON value must be an object keyed by its labels"),
        ));
    };
    for (label, _, inner) in properties {
        if label == "//" {
            continue;
        }
        labels.push(label.clone());
        labelled(out, block_type, labels, depth - 1, inner)?;
        labels.pop();
    }
    Ok(())
}

/// Nested blocks that JSON writes as properties, by the block they appear in.
fn nested_block(parent: &str, name: &str) -> bool {
    matches!(
        (parent, name),
        (
            "resource" | "data",
            "lifecycle" | "provisioner" | "connection"
        ) | ("variable", "validation")
            | ("output" | "lifecycle", "precondition" | "postcondition")
            | ("terraform", "required_providers" | "backend" | "cloud")
            | ("check", "assert" | "data")
            | ("removed", "lifecycle")
    )
}

/// Arguments written in JSON as a string holding an expression, not a template.
fn bare_expression(parent: &str, name: &str) -> bool {
    matches!(
        (parent, name),
        (_, "depends_on")
            | ("resource" | "data" | "module", "provider")
            | ("module", "providers")
            | ("variable", "type")
            | ("moved", "from" | "to")
            | ("removed", "from")
            | ("import", "to")
            | ("lifecycle", "ignore_changes" | "replace_triggered_by")
    )
}

fn block_body(out: &mut Writer, block_type: &str, body: &Node) -> Result<(), Failure> {
    let Kind::Object(properties) = &body.kind else {
        return Err((
            body.line,
            format!("A {block_type} block's body must be a JSON object"),
        ));
    };
    for (name, line, value) in properties {
        if name == "//" {
            continue;
        }
        if block_type == "locals" {
            out.line_at(*line, &format!("{} = ", attribute_name(name)));
            expression(out, value, false)?;
            continue;
        }
        if nested_block(block_type, name) {
            // A block with labels (backend "s3") nests them as in the root.
            let depth = usize::from(matches!(name.as_str(), "backend" | "provisioner" | "data"));
            let depth = if name == "data" && block_type == "check" {
                2
            } else {
                depth
            };
            labelled(out, name, &mut Vec::new(), depth, value)?;
            continue;
        }
        out.line_at(*line, &format!("{} = ", attribute_name(name)));
        expression(out, value, bare_expression(block_type, name))?;
    }
    Ok(())
}

fn attribute_name(name: &str) -> String {
    let plain = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain { name.to_string() } else { quote(name) }
}

/// Writes `value` as an HCL expression: strings as templates (or, when `bare`, as the
/// expression they hold), objects with quoted keys.
fn expression(out: &mut Writer, value: &Node, bare: bool) -> Result<(), Failure> {
    match &value.kind {
        Kind::Null => out.text.push_str("null"),
        Kind::Bool(b) => out.text.push_str(if *b { "true" } else { "false" }),
        Kind::Number(n) => out.text.push_str(n),
        Kind::String(s) if bare => {
            let inner = s
                .strip_prefix("${")
                .and_then(|rest| rest.strip_suffix('}'))
                .unwrap_or(s);
            if inner.contains('\n') {
                return Err((
                    value.line,
                    "An expression written as a string must be on one line".into(),
                ));
            }
            out.text.push_str(inner);
        }
        Kind::String(s) => out.text.push_str(&template(s)),
        Kind::Array(items) => {
            out.text.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.text.push_str(", ");
                }
                if item.line > out.line {
                    out.at(item.line, "");
                }
                expression(out, item, bare)?;
            }
            out.text.push(']');
        }
        Kind::Object(properties) => {
            out.text.push('{');
            for (name, line, item) in properties {
                if name == "//" {
                    continue;
                }
                if *line > out.line {
                    out.at(*line, "");
                } else {
                    out.text.push(' ');
                }
                out.text.push_str(&quote(name));
                out.text.push_str(" = ");
                expression(out, item, false)?;
                out.text.push(',');
            }
            out.text.push_str(" }");
        }
    }
    Ok(())
}

/// A JSON string as an HCL quoted template: the same text, with what HCL's quoting needs
/// escaped in the literal parts, and interpolations (`${...}`, `%{...}`) copied as they are.
fn template(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let opens = (c == '$' || c == '%') && chars.get(i + 1) == Some(&'{');
        if opens {
            // `$${` stays a literal `${`: it was written doubled already.
            if i > 0 && chars[i - 1] == c {
                out.push(c);
                i += 1;
                continue;
            }
            let mut depth = 0usize;
            let mut in_string = false;
            while i < chars.len() {
                let d = chars[i];
                out.push(d);
                i += 1;
                match d {
                    '\\' if in_string => {
                        if let Some(&next) = chars.get(i) {
                            out.push(next);
                            i += 1;
                        }
                    }
                    '"' => in_string = !in_string,
                    '{' if !in_string => depth += 1,
                    '}' if !in_string => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            continue;
        }
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
        i += 1;
    }
    out.push('"');
    out
}

/// A string as an HCL literal with no interpolation (`$${` and `%%{` escaped).
fn quote(s: &str) -> String {
    template(&s.replace("${", "$${").replace("%{", "%%{"))
}

/// A JSON reader that remembers lines.
struct Parser<'a> {
    text: &'a [u8],
    at: usize,
    line: usize,
    line_start: usize,
}

type Parsed<T> = Result<T, (usize, usize, String)>;

impl Parser<'_> {
    fn fail<T>(&self, what: impl Into<String>) -> Parsed<T> {
        Err((self.line, self.at - self.line_start + 1, what.into()))
    }

    fn document(&mut self) -> Parsed<Node> {
        let value = self.value(0)?;
        self.space();
        if self.at < self.text.len() {
            return self.fail("Unexpected text after the JSON value");
        }
        Ok(value)
    }

    fn space(&mut self) {
        while let Some(&c) = self.text.get(self.at) {
            match c {
                b'\n' => {
                    self.at += 1;
                    self.line += 1;
                    self.line_start = self.at;
                }
                b' ' | b'\t' | b'\r' => self.at += 1,
                _ => break,
            }
        }
    }

    fn value(&mut self, depth: usize) -> Parsed<Node> {
        if depth > 128 {
            return self.fail("The JSON nests deeper than 128 levels");
        }
        self.space();
        let line = self.line;
        let kind = match self.text.get(self.at) {
            Some(b'{') => {
                self.at += 1;
                let mut properties = Vec::new();
                self.space();
                if self.text.get(self.at) == Some(&b'}') {
                    self.at += 1;
                } else {
                    loop {
                        self.space();
                        let key_line = self.line;
                        if self.text.get(self.at) != Some(&b'"') {
                            return self.fail("Expected a property name in double quotes");
                        }
                        let key = self.string()?;
                        self.space();
                        if self.text.get(self.at) != Some(&b':') {
                            return self.fail("Expected ':' after the property name");
                        }
                        self.at += 1;
                        let value = self.value(depth + 1)?;
                        properties.push((key, key_line, value));
                        self.space();
                        match self.text.get(self.at) {
                            Some(b',') => self.at += 1,
                            Some(b'}') => {
                                self.at += 1;
                                break;
                            }
                            _ => return self.fail("Expected ',' or '}' in the object"),
                        }
                    }
                }
                Kind::Object(properties)
            }
            Some(b'[') => {
                self.at += 1;
                let mut items = Vec::new();
                self.space();
                if self.text.get(self.at) == Some(&b']') {
                    self.at += 1;
                } else {
                    loop {
                        items.push(self.value(depth + 1)?);
                        self.space();
                        match self.text.get(self.at) {
                            Some(b',') => self.at += 1,
                            Some(b']') => {
                                self.at += 1;
                                break;
                            }
                            _ => return self.fail("Expected ',' or ']' in the array"),
                        }
                    }
                }
                Kind::Array(items)
            }
            Some(b'"') => Kind::String(self.string()?),
            Some(b't') if self.text[self.at..].starts_with(b"true") => {
                self.at += 4;
                Kind::Bool(true)
            }
            Some(b'f') if self.text[self.at..].starts_with(b"false") => {
                self.at += 5;
                Kind::Bool(false)
            }
            Some(b'n') if self.text[self.at..].starts_with(b"null") => {
                self.at += 4;
                Kind::Null
            }
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                let start = self.at;
                while self
                    .text
                    .get(self.at)
                    .is_some_and(|c| c.is_ascii_digit() || b"+-.eE".contains(c))
                {
                    self.at += 1;
                }
                let number = String::from_utf8_lossy(&self.text[start..self.at]).into_owned();
                if serde_json::from_str::<serde_json::Number>(&number).is_err() {
                    return self.fail(format!("{number} is not a JSON number"));
                }
                Kind::Number(number)
            }
            Some(_) => return self.fail("Expected a JSON value"),
            None => return self.fail("The JSON ends too early"),
        };
        Ok(Node { line, kind })
    }

    /// A string starting at the opening quote; escapes decoded by serde_json.
    fn string(&mut self) -> Parsed<String> {
        let start = self.at;
        self.at += 1;
        loop {
            match self.text.get(self.at) {
                Some(b'"') => {
                    self.at += 1;
                    break;
                }
                Some(b'\\') => self.at += 2,
                Some(b'\n') | None => return self.fail("Unterminated string"),
                Some(_) => self.at += 1,
            }
        }
        let raw = &self.text[start..self.at.min(self.text.len())];
        serde_json::from_slice::<String>(raw).or_else(|e| self.fail(format!("Invalid string: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_keep_their_lines() {
        let json = r#"{
  "variable": {
    "names": {
      "type": "list(string)",
      "default": ["a", "b"]
    }
  },
  "resource": {
    "local_file": {
      "f": {
        "for_each": "${toset(var.names)}",
        "filename": "out/${each.key}.txt",
        "content": "say \"hi\"",
        "depends_on": ["local_value.v"],
        "lifecycle": { "ignore_changes": ["content"] }
      }
    }
  }
}"#;
        let file = SourceText::new("main.tf.json", json);
        let hcl = to_hcl(&file).expect("valid");
        let lines: Vec<&str> = hcl.text.lines().collect();
        assert_eq!(lines[2], "variable \"names\" {");
        assert_eq!(lines[3], "type = list(string)");
        assert_eq!(lines[10], "for_each = \"${toset(var.names)}\"");
        assert_eq!(lines[12], "content = \"say \\\"hi\\\"\"");
        assert_eq!(lines[13], "depends_on = [local_value.v]");
        assert!(
            hcl_edit::parser::parse_body(&hcl.text).is_ok(),
            "{}",
            hcl.text
        );
    }

    #[test]
    fn bad_json_is_located() {
        let file = SourceText::new("main.tf.json", "{\n  \"resource\": {\n    \"x\" 1\n  }\n}");
        let error = to_hcl(&file).expect_err("invalid");
        let location = error.location.expect("located");
        assert_eq!(location.line, 3);
    }
}
