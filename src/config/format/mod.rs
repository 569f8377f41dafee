//! `braid fmt`: HCL files in the canonical layout of `terraform fmt` — two-space
//! indentation by bracket nesting, one space around operators and `=`, the `=` of
//! consecutive one-line attributes aligned, trailing comments of consecutive lines aligned,
//! trailing whitespace removed, an attribute that is only `"${expr}"` unwrapped to `expr`,
//! and the expressions inside template sequences spaced, in heredocs too. Comments, the
//! text of strings and heredocs, blank lines and line endings (`\r\n` stays `\r\n`) are
//! kept as written.
//!
//! The file is parsed with hcl-edit first, so only valid HCL is rewritten; the layout is
//! then computed from the tokens of [`lexer`], as `terraform fmt` works on tokens too.

mod lexer;

use std::sync::Arc;

use lexer::{Kind, Token};

use crate::diag::{Diagnostic, SourceText};

/// The canonical layout of `file`, or a diagnostic at the syntax error that keeps it from
/// being formatted.
pub fn format_file(file: &Arc<SourceText>) -> Result<String, Diagnostic> {
    hcl_edit::parser::parse_body(&file.text).map_err(|e| {
        let location = e.location();
        Diagnostic::error(
            "Invalid HCL syntax",
            format!(
                "{}. braid fmt formats only files that parse; fix the syntax and run it again.",
                e.message()
            ),
        )
        .at(file.location_at(location.line(), location.column()))
    })?;
    Ok(format_text(&file.text))
}

/// One open bracket, and whether it opens a block body (`resource "a" "b" {`) rather
/// than an expression; for a block, whether it is a `variable` block.
#[derive(Clone, Copy)]
struct Open {
    block: bool,
    variable: bool,
}

/// What carries over from one line to the next: the open brackets and the indentation.
/// As in `terraform fmt`, a line that leaves brackets open indents the lines after it by
/// one level however many it opened, and a line that closes more than it opens is
/// outdented by one level itself.
#[derive(Default)]
struct Nesting {
    open: Vec<Open>,
    indent: usize,
}

/// A line laid out but not yet aligned.
struct Laid {
    indent: usize,
    /// For a one-line attribute: the text before `=` and after it.
    assignment: Option<(String, String)>,
    /// The whole text otherwise.
    text: String,
    /// A comment after the code of the line.
    comment: Option<String>,
    newline: String,
}

impl Laid {
    fn code(&self) -> String {
        match &self.assignment {
            Some((key, value)) => format!("{key} = {value}"),
            None => self.text.clone(),
        }
    }
}

/// The canonical layout of `text`, which must be valid HCL.
pub fn format_text(text: &str) -> String {
    let tokens = lexer::tokens(text);
    let mut lines: Vec<(Vec<Token<'_>>, String)> = Vec::new();
    let mut current = Vec::new();
    for token in tokens {
        if token.kind == Kind::Newline {
            lines.push((std::mem::take(&mut current), token.text.to_string()));
        } else {
            current.push(token);
        }
    }
    if !current.is_empty() {
        lines.push((current, String::new()));
    }
    let mut nesting = Nesting::default();
    let mut laid = Vec::with_capacity(lines.len());
    for (line, newline) in lines {
        laid.push(lay_out(line, newline, &mut nesting));
    }
    align_assignments(&mut laid);
    render(&laid)
}

fn is_opener(t: &Token<'_>) -> bool {
    t.kind == Kind::Punct && matches!(t.text, "(" | "[" | "{")
}

fn is_closer(t: &Token<'_>) -> bool {
    t.kind == Kind::Punct && matches!(t.text, ")" | "]" | "}")
}

/// Lays out one line and updates the nesting after it.
fn lay_out(mut line: Vec<Token<'_>>, newline: String, nesting: &mut Nesting) -> Laid {
    if line.is_empty() {
        return Laid {
            indent: 0,
            assignment: None,
            text: String::new(),
            comment: None,
            newline,
        };
    }
    let body_level = nesting.open.iter().all(|o| o.block);
    let comment = match line.last() {
        Some(t) if t.kind == Kind::LineComment && line.len() > 1 => {
            line.pop().map(|t| t.text.to_string())
        }
        _ => None,
    };
    let assign = assignment_index(&line);
    if body_level && let Some(eq) = assign {
        // A variable's `type` is a type constraint, not a value: `terraform fmt` rewrites
        // only its legacy quoted forms there and leaves a template alone.
        if nesting.open.last().is_some_and(|o| o.variable) && line[0].text == "type" {
            unquote_legacy_type(&mut line, eq);
        } else {
            unwrap_interpolation(&mut line, eq);
        }
    }
    let depth_before = nesting.open.len();
    let mut min_depth = depth_before;
    for (i, token) in line.iter().enumerate() {
        if is_opener(token) {
            let block = token.text == "{"
                && nesting.open.iter().all(|o| o.block)
                && is_block_header(&line[..i]);
            let variable = block && line[0].text == "variable";
            nesting.open.push(Open { block, variable });
        } else if is_closer(token) {
            nesting.open.pop();
            min_depth = min_depth.min(nesting.open.len());
        }
    }
    let depth_after = nesting.open.len();
    if depth_after < depth_before {
        nesting.indent = nesting.indent.saturating_sub(1);
    }
    let indent = nesting.indent;
    if depth_after > depth_before {
        nesting.indent += 1;
    }
    let one_line = depth_after == depth_before && min_depth == depth_before;
    let assignment = match assign {
        Some(eq) if one_line => Some((spaced(&line[..eq]), spaced(&line[eq + 1..]))),
        _ => None,
    };
    Laid {
        indent,
        text: if assignment.is_some() {
            String::new()
        } else {
            spaced(&line)
        },
        assignment,
        comment,
        newline,
    }
}

/// The index of the `=` of an attribute or object item: the first `=` outside brackets
/// opened on the line.
fn assignment_index(line: &[Token<'_>]) -> Option<usize> {
    let mut depth = 0_i32;
    for (i, t) in line.iter().enumerate() {
        if is_opener(t) || t.kind == Kind::TemplateOpen || t.kind == Kind::OpenQuote {
            depth += 1;
        } else if is_closer(t) || t.kind == Kind::TemplateClose || t.kind == Kind::CloseQuote {
            depth -= 1;
        } else if depth == 0 && t.kind == Kind::Punct && t.text == "=" {
            return (i > 0).then_some(i);
        }
        if depth < 0 {
            return None;
        }
    }
    None
}

/// `NAME "label" ... {`: the tokens before a block's `{`.
fn is_block_header(before: &[Token<'_>]) -> bool {
    let Some(first) = before.first() else {
        return false;
    };
    first.kind == Kind::Ident
        && before[1..].iter().all(|t| {
            matches!(
                t.kind,
                Kind::Ident | Kind::OpenQuote | Kind::Literal | Kind::CloseQuote
            )
        })
}

/// `name = "${expr}"` becomes `name = expr`, as `terraform fmt` does for attributes: the
/// template only wraps one interpolation.
fn unwrap_interpolation(line: &mut Vec<Token<'_>>, eq: usize) {
    let value = &line[eq + 1..];
    let [open, start, inner @ .., end, close] = value else {
        return;
    };
    if open.kind != Kind::OpenQuote
        || start.kind != Kind::TemplateOpen
        || start.text != "${"
        || end.kind != Kind::TemplateClose
        || close.kind != Kind::CloseQuote
    {
        return;
    }
    // The closing `}` must be the one of the opening `${`, with only an expression between.
    let inner: Vec<Token<'_>> = inner
        .iter()
        .enumerate()
        .filter(|(i, t)| !(t.kind == Kind::Strip && (*i == 0 || *i == inner.len() - 1)))
        .map(|(_, t)| *t)
        .collect();
    let mut depth = 0_i32;
    for t in &inner {
        match t.kind {
            Kind::Heredoc => return,
            Kind::TemplateOpen => depth += 1,
            Kind::TemplateClose => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return;
        }
    }
    if inner.is_empty() || depth != 0 {
        return;
    }
    line.truncate(eq + 1);
    line.extend(inner);
}

/// `type = "string"` in a `variable` block becomes `type = string` (and `"list"`, `"map"`
/// become `list(string)`, `map(string)`), as `terraform fmt` rewrites the type constraints
/// of Terraform 0.11.
fn unquote_legacy_type(line: &mut Vec<Token<'_>>, eq: usize) {
    let [key] = &line[..eq] else {
        return;
    };
    let [open, name, close] = &line[eq + 1..] else {
        return;
    };
    if key.text != "type" || open.kind != Kind::OpenQuote || close.kind != Kind::CloseQuote {
        return;
    }
    let word = |text| Token {
        kind: Kind::Ident,
        text,
    };
    let punct = |text| Token {
        kind: Kind::Punct,
        text,
    };
    let constraint = match name.text {
        "string" => vec![word("string")],
        "list" => vec![word("list"), punct("("), word("string"), punct(")")],
        "map" => vec![word("map"), punct("("), word("string"), punct(")")],
        _ => return,
    };
    line.truncate(eq + 1);
    line.extend(constraint);
}

/// The tokens of a line joined with the spacing of `terraform fmt`.
fn spaced(tokens: &[Token<'_>]) -> String {
    let mut out = String::new();
    for (i, token) in tokens.iter().enumerate() {
        if i > 0 && space_between(i.checked_sub(2).map(|j| &tokens[j]), &tokens[i - 1], token) {
            out.push(' ');
        }
        if token.kind == Kind::Heredoc {
            out.push_str(&respace_heredoc(token.text));
        } else {
            out.push_str(token.text);
        }
    }
    out
}

/// A heredoc with the expressions of its `${ }` and `%{ }` sequences spaced as everywhere
/// else (`${ var.x }` → `${var.x}`); its text and lines are kept as written.
fn respace_heredoc(heredoc: &str) -> String {
    let mut out = String::with_capacity(heredoc.len());
    let mut rest = heredoc;
    while let Some(start) = sequence_start(rest) {
        out.push_str(&rest[..start + 2]);
        let inner = &rest[start + 2..];
        let tokens = lexer::tokens(inner);
        let mut depth = 0_usize;
        let mut end = None;
        for (i, token) in tokens.iter().enumerate() {
            if token.kind == Kind::Newline {
                break;
            }
            if punct(token, "{") {
                depth += 1;
            } else if punct(token, "}") {
                if depth == 0 {
                    end = Some(i);
                    break;
                }
                depth -= 1;
            }
        }
        let Some(end) = end else {
            // Not a one-line sequence: leave the rest as it is.
            rest = inner;
            continue;
        };
        out.push_str(&spaced(&tokens[..end]));
        let close = tokens[end].text.as_ptr() as usize - inner.as_ptr() as usize;
        rest = &inner[close..];
    }
    out.push_str(rest);
    out
}

/// Where the next `${` or `%{` of template text starts (`$${` and `%%{` are escapes).
fn sequence_start(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = 0;
    while at + 1 < bytes.len() {
        let c = bytes[at];
        if (c == b'$' || c == b'%') && bytes[at + 1] == c {
            at += 2;
        } else if (c == b'$' || c == b'%') && bytes[at + 1] == b'{' {
            return Some(at);
        } else {
            at += 1;
        }
    }
    None
}

fn punct(t: &Token<'_>, text: &str) -> bool {
    t.kind == Kind::Punct && t.text == text
}

/// Whether `a` is a unary `-` or `!`, judging by the token before it.
fn is_unary(before: Option<&Token<'_>>, a: &Token<'_>) -> bool {
    if punct(a, "!") {
        return true;
    }
    if !punct(a, "-") {
        return false;
    }
    match before {
        None => true,
        Some(t) => {
            (t.kind == Kind::Punct && !matches!(t.text, ")" | "]" | "}"))
                || t.kind == Kind::TemplateOpen
                || (t.kind == Kind::Ident && matches!(t.text, "in" | "if" | "for"))
        }
    }
}

fn space_between(before: Option<&Token<'_>>, a: &Token<'_>, b: &Token<'_>) -> bool {
    use Kind::*;
    if matches!(b.kind, LineComment | BlockComment) || a.kind == BlockComment {
        return true;
    }
    if matches!(a.kind, OpenQuote | Literal | TemplateOpen | Strip)
        || matches!(b.kind, CloseQuote | Literal | TemplateClose | Strip)
    {
        return false;
    }
    if b.kind == Punct && matches!(b.text, "," | ")" | "]" | "...") {
        return false;
    }
    if punct(b, "}") {
        return !punct(a, "{");
    }
    if a.kind == Punct && matches!(a.text, "(" | "[") {
        return false;
    }
    if punct(a, "{") {
        return true;
    }
    if punct(a, ".") || punct(b, ".") {
        return false;
    }
    if is_unary(before, a) {
        return false;
    }
    if punct(b, "(") {
        return a.kind != Ident;
    }
    if punct(b, "[") {
        return !(matches!(a.kind, Ident | CloseQuote) || punct(a, "]") || punct(a, ")"));
    }
    true
}

/// Pads the names of consecutive one-line attributes so their `=` line up.
fn align_assignments(lines: &mut [Laid]) {
    let mut start = 0;
    while start < lines.len() {
        if lines[start].assignment.is_none() {
            start += 1;
            continue;
        }
        let end = (start..lines.len())
            .find(|&i| lines[i].assignment.is_none())
            .unwrap_or(lines.len());
        let width = lines[start..end]
            .iter()
            .filter_map(|l| l.assignment.as_ref())
            .map(|(key, _)| key.chars().count())
            .max()
            .unwrap_or(0);
        for line in &mut lines[start..end] {
            if let Some((key, _)) = &mut line.assignment {
                let fill = width - key.chars().count();
                key.push_str(&" ".repeat(fill));
            }
        }
        start = end;
    }
}

/// The lines as text, trailing comments of consecutive lines aligned.
fn render(lines: &[Laid]) -> String {
    let codes: Vec<String> = lines.iter().map(Laid::code).collect();
    let mut comment_column = vec![0; lines.len()];
    let mut start = 0;
    let has_trailing = |i: usize| lines[i].comment.is_some() && !codes[i].contains('\n');
    while start < lines.len() {
        if !has_trailing(start) {
            start += 1;
            continue;
        }
        let end = (start..lines.len())
            .find(|&i| !has_trailing(i))
            .unwrap_or(lines.len());
        let width = (start..end)
            .map(|i| codes[i].chars().count())
            .max()
            .unwrap_or(0);
        for column in &mut comment_column[start..end] {
            *column = width;
        }
        start = end;
    }
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let code = &codes[i];
        if !code.is_empty() || line.comment.is_some() {
            out.push_str(&"  ".repeat(line.indent));
        }
        out.push_str(code);
        if let Some(comment) = &line.comment {
            let fill = comment_column[i].saturating_sub(code.chars().count());
            out.push_str(&" ".repeat(fill + 1));
            out.push_str(comment);
        }
        out.push_str(&line.newline);
    }
    out
}

/// A string in double quotes with HCL's escapes (`\"`, `\\`, `\n`, `\t`, and `${`/`%{`
/// doubled so the text reads back as the same string).
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::format_text;

    #[test]
    fn attributes_are_indented_spaced_and_aligned() {
        assert_eq!(
            format_text("b {\ntype=string\n    default =   \"a\"   # c\n}\n"),
            "b {\n  type    = string\n  default = \"a\" # c\n}\n"
        );
    }

    #[test]
    fn expressions_get_terraform_spacing() {
        assert_eq!(
            format_text("a = [for s in var.l: upper( s ) if s!=\"\"]\nb = {a=1}\nc = -x[ 0 ]\n"),
            "a = [for s in var.l : upper(s) if s != \"\"]\nb = { a = 1 }\nc = -x[0]\n"
        );
    }

    #[test]
    fn a_lone_interpolation_is_unwrapped_in_attributes_only() {
        assert_eq!(
            format_text("a = \"${ var.x }\"\nb = { c = \"${x}\" }\n"),
            "a = var.x\nb = { c = \"${x}\" }\n"
        );
    }
}
