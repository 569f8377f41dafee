//! Parsing Go `text/template` source into trees: the delimiters `{{ }}` with their trim
//! markers, comments, actions and pipelines, `if`/`else if`/`range`/`with`/`else with`,
//! `define`/`template`/`block`, `break`/`continue`, with the byte offset of every node for
//! error locations reported as Go reports them (`name:line:col`).

use std::rc::Rc;

/// A parse failure: the template's name, the line, and Go's wording.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    /// The template (file) name.
    pub name: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "template: {}:{}: {}", self.name, self.line, self.message)
    }
}

/// One parsed template: its body and the source it came from (for error locations).
#[derive(Debug)]
pub struct Tree {
    /// The template's name (`define` name, or the file name).
    pub name: String,
    /// The file it was parsed from (Go's `ParseName`).
    pub parse_name: String,
    /// The whole source of that file.
    pub source: Rc<str>,
    /// The body.
    pub root: Vec<Node>,
}

impl Tree {
    /// Go's `ErrorContext` location of the byte offset `pos`: `file:line:col`, col counted
    /// from 0 on the first line and from the newline before it on later ones.
    pub fn location(&self, pos: usize) -> String {
        location_in(&self.parse_name, &self.source, pos)
    }
}

/// `file:line:col` of `pos` in `source`, as Go's `ErrorContext`.
pub fn location_in(parse_name: &str, source: &str, pos: usize) -> String {
    let pos = pos.min(source.len());
    let text = &source[..pos];
    let line = 1 + text.matches('\n').count();
    let col = match text.rfind('\n') {
        None => pos,
        Some(nl) => pos - (nl + 1),
    };
    format!("{parse_name}:{line}:{col}")
}

/// A node of a template body.
#[derive(Debug, Clone)]
pub enum Node {
    /// Literal text.
    Text(Rc<str>),
    /// `{{pipeline}}`: prints unless it declares variables.
    Action(Pipe),
    /// `{{if}}`.
    If(Box<Branch>),
    /// `{{with}}`.
    With(Box<Branch>),
    /// `{{range}}`.
    Range(Box<Branch>),
    /// `{{template "name" pipeline}}`.
    Template {
        /// Offset of the action.
        pos: usize,
        /// The template called.
        name: String,
        /// The data passed (dot when absent… no: nil when absent, as Go).
        pipe: Option<Pipe>,
    },
    /// `{{break}}`.
    Break(usize),
    /// `{{continue}}`.
    Continue(usize),
}

/// The shared shape of `if`, `with` and `range`.
#[derive(Debug, Clone)]
pub struct Branch {
    /// Offset of the keyword.
    pub pos: usize,
    /// The condition / the value ranged over.
    pub pipe: Pipe,
    /// The body.
    pub list: Vec<Node>,
    /// The `else` body.
    pub else_list: Option<Vec<Node>>,
}

/// A pipeline: optional variable declarations, then commands joined by `|`.
#[derive(Debug, Clone)]
pub struct Pipe {
    /// Offset of the pipeline.
    pub pos: usize,
    /// Variables declared (`$x :=`) or assigned (`$x =`).
    pub decl: Vec<String>,
    /// Whether `=` (assignment) rather than `:=`.
    pub is_assign: bool,
    /// The commands.
    pub cmds: Vec<Command>,
    /// The source text, for error contexts.
    pub text: Rc<str>,
}

/// A command: operands separated by spaces.
#[derive(Debug, Clone)]
pub struct Command {
    /// Offset of the first operand.
    pub pos: usize,
    /// The operands.
    pub args: Vec<Arg>,
    /// The source text, for error contexts (`<include "x" .>`).
    pub text: Rc<str>,
}

/// An operand.
#[derive(Debug, Clone)]
pub enum Arg {
    /// `.A.B`.
    Field {
        /// Offset.
        pos: usize,
        /// Field names.
        names: Vec<String>,
    },
    /// `$x.A.B` (`$` is the root data).
    Variable {
        /// Offset.
        pos: usize,
        /// The variable's name with its `$`.
        name: String,
        /// Field names after it.
        fields: Vec<String>,
    },
    /// `.`.
    Dot(usize),
    /// `nil`.
    Nil(usize),
    /// `true`/`false`.
    Bool(bool),
    /// A number literal.
    Number {
        /// Offset.
        pos: usize,
        /// The literal's text.
        text: String,
        /// Its value.
        value: Number,
    },
    /// A string literal (quoted or raw).
    String(Rc<str>, Rc<str>),
    /// A function name.
    Ident {
        /// Offset.
        pos: usize,
        /// The name.
        name: String,
    },
    /// `(pipeline)`, with fields after it: `(pipeline).A.B`.
    Pipe {
        /// The pipeline.
        pipe: Box<Pipe>,
        /// Fields chained on the result.
        fields: Vec<String>,
    },
}

/// A number literal as Go's parser types it for a call argument.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// An integer constant (decimal, hex, octal, binary, or a character).
    Int(i64),
    /// A floating-point constant.
    Float(f64),
}

impl Arg {
    /// The byte offset of the operand.
    pub fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Variable { pos, .. }
            | Arg::Dot(pos)
            | Arg::Nil(pos)
            | Arg::Number { pos, .. }
            | Arg::Ident { pos, .. } => *pos,
            Arg::Pipe { pipe, .. } => pipe.pos,
            Arg::Bool(_) | Arg::String(..) => 0,
        }
    }
}

/// The templates a source defines: the file's own body, and every `define`/`block`.
#[derive(Debug)]
pub struct Parsed {
    /// Trees by name; the file's body is named after the file.
    pub trees: Vec<Tree>,
}

/// Parses `source` as the template file `name` (Go's `template.New(name).Parse(source)`).
pub fn parse(name: &str, source: &str) -> Result<Parsed, ParseError> {
    let source: Rc<str> = Rc::from(source);
    let mut parser = Parser {
        paren_depth: std::cell::Cell::new(0),
        name: name.to_string(),
        source: source.clone(),
        pos: 0,
        defines: Vec::new(),
        trim_next: false,
        loop_depth: 0,
    };
    let (root, end) = parser.list(0)?;
    if let Some(end) = end {
        return Err(parser.error_at(end.pos, format!("unexpected {}", end.describe())));
    }
    let mut trees = parser.defines;
    trees.insert(
        0,
        Tree {
            name: name.to_string(),
            parse_name: name.to_string(),
            source,
            root,
        },
    );
    Ok(Parsed { trees })
}

/// How a list ended: at `{{end}}`, `{{else …}}`, or the end of input.
#[derive(Debug)]
struct Ending {
    pos: usize,
    kind: EndKind,
}

#[derive(Debug)]
enum EndKind {
    End,
    /// `{{else}}`, or `{{else if …}}` / `{{else with …}}` with the keyword and the rest.
    Else(Option<(String, Vec<Token>)>),
}

impl Ending {
    fn describe(&self) -> String {
        match self.kind {
            EndKind::End => "{{end}}".to_string(),
            EndKind::Else(_) => "{{else}}".to_string(),
        }
    }
}

/// How deep actions (`if`, `range`…) and parentheses may nest: far beyond what charts
/// write, short of what would exhaust the stack.
const MAX_NESTING: usize = 100;

struct Parser {
    /// Parenthesised pipelines open at this point.
    paren_depth: std::cell::Cell<usize>,
    name: String,
    source: Rc<str>,
    pos: usize,
    defines: Vec<Tree>,
    /// The previous action ended with ` -}}`: trim leading white space of the next text.
    trim_next: bool,
    loop_depth: usize,
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

impl Parser {
    fn line_of(&self, pos: usize) -> usize {
        1 + self.source[..pos.min(self.source.len())]
            .matches('\n')
            .count()
    }

    fn error_at(&self, pos: usize, message: String) -> ParseError {
        ParseError {
            name: self.name.clone(),
            line: self.line_of(pos),
            message,
        }
    }

    /// Parses nodes until `{{end}}`, `{{else}}` or the end of input (`depth` 0: the top).
    fn list(&mut self, depth: usize) -> Result<(Vec<Node>, Option<Ending>), ParseError> {
        if depth > MAX_NESTING {
            return Err(self.error_at(
                self.pos,
                format!("actions nested more than {MAX_NESTING} deep"),
            ));
        }
        let mut nodes = Vec::new();
        loop {
            let source = self.source.clone();
            let rest = &source[self.pos..];
            let Some(open) = rest.find(LEFT) else {
                let mut text = rest;
                if self.trim_next {
                    text = text.trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8));
                    self.trim_next = false;
                }
                if !text.is_empty() {
                    nodes.push(Node::Text(Rc::from(text)));
                }
                self.pos = source.len();
                if depth > 0 {
                    return Err(self.error_at(source.len(), "unexpected EOF".to_string()));
                }
                return Ok((nodes, None));
            };
            let action_start = self.pos + open;
            let after = &source[action_start + LEFT.len()..];
            let trim_left =
                after.len() >= 2 && after.as_bytes()[0] == b'-' && is_space(after.as_bytes()[1]);
            let mut text = &rest[..open];
            if self.trim_next {
                text = text.trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8));
                self.trim_next = false;
            }
            if trim_left {
                text = text.trim_end_matches(|c: char| c.is_ascii() && is_space(c as u8));
            }
            if !text.is_empty() {
                nodes.push(Node::Text(Rc::from(text)));
            }
            let mut inner_start = action_start + LEFT.len();
            if trim_left {
                inner_start += 2;
            }
            // A comment: `{{/* … */}}`, with optional trim markers around it.
            let inner = &source[inner_start..];
            let comment_start =
                inner.trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8));
            if comment_start.starts_with("/*") && (trim_left || comment_start.len() == inner.len())
            {
                let body_start = inner_start + (inner.len() - comment_start.len());
                let Some(close) = source[body_start + 2..].find("*/") else {
                    return Err(self.error_at(action_start, "unclosed comment".to_string()));
                };
                let after_comment = body_start + 2 + close + 2;
                let tail = &source[after_comment..];
                if let Some(rest) = tail.strip_prefix(RIGHT) {
                    let _ = rest;
                    self.pos = after_comment + RIGHT.len();
                } else if tail.len() >= 4
                    && is_space(tail.as_bytes()[0])
                    && tail[1..].starts_with("-}}")
                {
                    self.pos = after_comment + 4;
                    self.trim_next = true;
                } else {
                    return Err(self.error_at(
                        action_start,
                        "comment ends before closing delimiter".to_string(),
                    ));
                }
                continue;
            }
            let (tokens, end) = self.lex_action(inner_start)?;
            self.pos = end;
            if tokens.is_empty() {
                return Err(self.error_at(action_start, "missing value for command".to_string()));
            }
            match self.action(action_start, tokens, depth)? {
                Step::Node(node) => nodes.push(node),
                Step::Nothing => {}
                Step::End(ending) => {
                    if depth == 0 {
                        return Err(self
                            .error_at(action_start, format!("unexpected {}", ending.describe())));
                    }
                    return Ok((nodes, Some(ending)));
                }
            }
        }
    }

    /// Lexes the inside of an action from `start` up to its `}}`; returns the tokens and the
    /// offset after the closing delimiter (and sets `trim_next` for ` -}}`).
    fn lex_action(&mut self, start: usize) -> Result<(Vec<Token>, usize), ParseError> {
        let source = self.source.clone();
        let bytes = source.as_bytes();
        let mut tokens = Vec::new();
        let mut i = start;
        let mut space_before = false;
        let mut paren_depth = 0usize;
        loop {
            if i >= bytes.len() {
                return Err(self.error_at(start, "unclosed action".to_string()));
            }
            let c = bytes[i];
            // The closing delimiter, with its trim marker.
            if c == b'}' && source[i..].starts_with(RIGHT) {
                if paren_depth > 0 {
                    return Err(self.error_at(i, "unclosed left paren".to_string()));
                }
                return Ok((tokens, i + RIGHT.len()));
            }
            if is_space(c) {
                if source[i..].len() >= 4 && source[i + 1..].starts_with("-}}") {
                    self.trim_next = true;
                    if paren_depth > 0 {
                        return Err(self.error_at(i, "unclosed left paren".to_string()));
                    }
                    return Ok((tokens, i + 4));
                }
                space_before = true;
                i += 1;
                continue;
            }
            let token_start = i;
            let kind = match c {
                b'|' => {
                    i += 1;
                    TokenKind::Pipe
                }
                b'(' => {
                    i += 1;
                    paren_depth += 1;
                    TokenKind::LParen
                }
                b')' => {
                    i += 1;
                    if paren_depth == 0 {
                        return Err(self.error_at(i, "unexpected right paren".to_string()));
                    }
                    paren_depth -= 1;
                    TokenKind::RParen
                }
                b',' => {
                    i += 1;
                    TokenKind::Comma
                }
                b':' => {
                    if bytes.get(i + 1) == Some(&b'=') {
                        i += 2;
                        TokenKind::Declare
                    } else {
                        return Err(self.error_at(i, "expected :=".to_string()));
                    }
                }
                b'=' => {
                    i += 1;
                    TokenKind::Assign
                }
                b'"' => {
                    let (value, end) = self.lex_quoted(i)?;
                    i = end;
                    TokenKind::String(value)
                }
                b'`' => {
                    let Some(close) = source[i + 1..].find('`') else {
                        return Err(self.error_at(i, "unterminated raw quoted string".to_string()));
                    };
                    let value = source[i + 1..i + 1 + close].replace('\r', "");
                    i = i + 1 + close + 1;
                    TokenKind::String(value)
                }
                b'\'' => {
                    let (value, end) = self.lex_char(i)?;
                    i = end;
                    TokenKind::Number(Number::Int(value as i64))
                }
                b'$' => {
                    let mut j = i + 1;
                    while j < bytes.len() && is_alnum(bytes[j]) {
                        j += 1;
                    }
                    let name = source[i..j].to_string();
                    i = j;
                    TokenKind::Variable(name)
                }
                b'.' => {
                    if bytes.get(i + 1).is_some_and(|b| b.is_ascii_digit())
                        && !tokens_end_operand(&tokens, space_before)
                    {
                        let (number, end) = self.lex_number(i)?;
                        i = end;
                        TokenKind::Number(number)
                    } else {
                        let mut j = i + 1;
                        while j < bytes.len() && is_alnum(bytes[j]) {
                            j += 1;
                        }
                        let name = source[i + 1..j].to_string();
                        i = j;
                        if name.is_empty() {
                            TokenKind::Dot
                        } else {
                            TokenKind::Field(name)
                        }
                    }
                }
                b'+' | b'-' | b'0'..=b'9' => {
                    let (number, end) = self.lex_number(i)?;
                    i = end;
                    TokenKind::Number(number)
                }
                c if is_alnum(c) => {
                    let mut j = i;
                    while j < bytes.len() && is_alnum(bytes[j]) {
                        j += 1;
                    }
                    let word = source[i..j].to_string();
                    i = j;
                    match word.as_str() {
                        "true" => TokenKind::Bool(true),
                        "false" => TokenKind::Bool(false),
                        "nil" => TokenKind::Nil,
                        _ => TokenKind::Ident(word),
                    }
                }
                _ => {
                    let ch = source[i..].chars().next().unwrap_or('?');
                    return Err(self.error_at(i, format!("unexpected {ch:?} in command")));
                }
            };
            tokens.push(Token {
                pos: token_start,
                end: i,
                kind,
                space_before,
            });
            space_before = false;
        }
    }

    fn lex_quoted(&self, start: usize) -> Result<(String, usize), ParseError> {
        let source = &self.source;
        let mut out = String::new();
        let mut chars = source[start + 1..].char_indices();
        while let Some((offset, ch)) = chars.next() {
            match ch {
                '"' => return Ok((out, start + 1 + offset + 1)),
                '\n' => break,
                '\\' => {
                    let Some((_, esc)) = chars.next() else { break };
                    match esc {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        'a' => out.push('\u{7}'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'v' => out.push('\u{b}'),
                        '\\' => out.push('\\'),
                        '"' => out.push('"'),
                        '\'' => out.push('\''),
                        'x' | 'u' | 'U' => {
                            let n = match esc {
                                'x' => 2,
                                'u' => 4,
                                _ => 8,
                            };
                            let mut hex = String::new();
                            for _ in 0..n {
                                if let Some((_, h)) = chars.next() {
                                    hex.push(h);
                                }
                            }
                            let code = u32::from_str_radix(&hex, 16)
                                .map_err(|_| self.error_at(start, "invalid syntax".to_string()))?;
                            if esc == 'x' {
                                // A byte; kept as the character of that code point.
                                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                            } else {
                                out.push(char::from_u32(code).ok_or_else(|| {
                                    self.error_at(start, "invalid syntax".to_string())
                                })?);
                            }
                        }
                        '0'..='7' => {
                            let mut oct = String::from(esc);
                            for _ in 0..2 {
                                if let Some((_, o)) = chars.next() {
                                    oct.push(o);
                                }
                            }
                            let code = u32::from_str_radix(&oct, 8)
                                .map_err(|_| self.error_at(start, "invalid syntax".to_string()))?;
                            out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                        }
                        _ => return Err(self.error_at(start, "invalid syntax".to_string())),
                    }
                }
                c => out.push(c),
            }
        }
        Err(self.error_at(start, "unterminated quoted string".to_string()))
    }

    fn lex_char(&self, start: usize) -> Result<(u32, usize), ParseError> {
        let rest = &self.source[start + 1..];
        let mut chars = rest.char_indices();
        let value = match chars.next() {
            Some((_, '\\')) => match chars.next() {
                Some((_, 'n')) => '\n' as u32,
                Some((_, 't')) => '\t' as u32,
                Some((_, 'r')) => '\r' as u32,
                Some((_, '\\')) => '\\' as u32,
                Some((_, '\'')) => '\'' as u32,
                Some((_, '0')) => 0,
                _ => return Err(self.error_at(start, "invalid syntax".to_string())),
            },
            Some((_, c)) => c as u32,
            None => return Err(self.error_at(start, "unterminated character constant".to_string())),
        };
        match chars.next() {
            Some((offset, '\'')) => Ok((value, start + 1 + offset + 1)),
            _ => Err(self.error_at(start, "unterminated character constant".to_string())),
        }
    }

    fn lex_number(&self, start: usize) -> Result<(Number, usize), ParseError> {
        let bytes = self.source.as_bytes();
        let mut j = start;
        if matches!(bytes[j], b'+' | b'-') {
            j += 1;
        }
        while j < bytes.len()
            && (bytes[j].is_ascii_alphanumeric()
                || matches!(bytes[j], b'.' | b'_')
                || (matches!(bytes[j], b'+' | b'-') && {
                    // An exponent's sign: after `p` in a hex literal, after `e` in others.
                    let hex = self.source[start..j]
                        .trim_start_matches(['+', '-'])
                        .get(..2)
                        .is_some_and(|p| p.eq_ignore_ascii_case("0x"));
                    if hex {
                        matches!(bytes[j - 1], b'p' | b'P')
                    } else {
                        matches!(bytes[j - 1], b'e' | b'E')
                    }
                }))
        {
            j += 1;
        }
        let text = &self.source[start..j];
        parse_number(text)
            .map(|n| (n, j))
            .ok_or_else(|| self.error_at(start, format!("bad number syntax: {text:?}")))
    }

    /// Turns one action's tokens into a node (or ends the current list).
    fn action(&mut self, pos: usize, tokens: Vec<Token>, depth: usize) -> Result<Step, ParseError> {
        let first = &tokens[0];
        if let TokenKind::Ident(word) = &first.kind {
            let rest: Vec<Token> = tokens[1..].to_vec();
            match word.as_str() {
                "end" => {
                    if !rest.is_empty() {
                        return Err(self.error_at(pos, "unexpected token in end".to_string()));
                    }
                    return Ok(Step::End(Ending {
                        pos,
                        kind: EndKind::End,
                    }));
                }
                "else" => {
                    if rest.is_empty() {
                        return Ok(Step::End(Ending {
                            pos,
                            kind: EndKind::Else(None),
                        }));
                    }
                    if let TokenKind::Ident(kw) = &rest[0].kind
                        && (kw == "if" || kw == "with")
                    {
                        return Ok(Step::End(Ending {
                            pos,
                            kind: EndKind::Else(Some((kw.clone(), rest[1..].to_vec()))),
                        }));
                    }
                    return Err(self.error_at(pos, "unexpected token in else".to_string()));
                }
                "if" | "with" | "range" => {
                    let node = self.branch(word, pos, rest, depth)?;
                    return Ok(Step::Node(node));
                }
                "define" => {
                    if depth != 0 {
                        return Err(
                            self.error_at(pos, "unexpected <define> in command".to_string())
                        );
                    }
                    let name = self.template_name(&rest, "define")?;
                    if rest.len() != 1 {
                        return Err(
                            self.error_at(pos, "unexpected token in define clause".to_string())
                        );
                    }
                    let (body, end) = self.list(depth + 1)?;
                    self.expect_end(pos, end, "define")?;
                    self.defines.push(Tree {
                        name,
                        parse_name: self.name.clone(),
                        source: self.source.clone(),
                        root: body,
                    });
                    return Ok(Step::Nothing);
                }
                "block" => {
                    let name = self.template_name(&rest, "block")?;
                    let pipe = if rest.len() > 1 {
                        Some(self.pipeline(rest[1].pos, &rest[1..], false)?)
                    } else {
                        None
                    };
                    let (body, end) = self.list(depth + 1)?;
                    self.expect_end(pos, end, "block")?;
                    self.defines.push(Tree {
                        name: name.clone(),
                        parse_name: self.name.clone(),
                        source: self.source.clone(),
                        root: body,
                    });
                    return Ok(Step::Node(Node::Template { pos, name, pipe }));
                }
                "template" => {
                    let name = self.template_name(&rest, "template")?;
                    let pipe = if rest.len() > 1 {
                        Some(self.pipeline(rest[1].pos, &rest[1..], false)?)
                    } else {
                        None
                    };
                    // Go places the node at its name.
                    return Ok(Step::Node(Node::Template {
                        pos: rest[0].pos,
                        name,
                        pipe,
                    }));
                }
                "break" | "continue" => {
                    if self.loop_depth == 0 {
                        return Err(
                            self.error_at(pos, format!("{{{{{word}}}}} outside {{{{range}}}}"))
                        );
                    }
                    if !rest.is_empty() {
                        return Err(
                            self.error_at(pos, format!("unexpected token in {{{{{word}}}}}"))
                        );
                    }
                    return Ok(Step::Node(if word == "break" {
                        Node::Break(pos)
                    } else {
                        Node::Continue(pos)
                    }));
                }
                _ => {}
            }
        }
        let pipe = self.pipeline(first.pos, &tokens, false)?;
        Ok(Step::Node(Node::Action(pipe)))
    }

    fn template_name(&self, rest: &[Token], context: &str) -> Result<String, ParseError> {
        match rest.first().map(|t| &t.kind) {
            Some(TokenKind::String(name)) => Ok(name.clone()),
            _ => Err(self.error_at(
                rest.first().map(|t| t.pos).unwrap_or(self.pos),
                format!("unexpected token in {context} clause"),
            )),
        }
    }

    fn expect_end(&self, pos: usize, end: Option<Ending>, what: &str) -> Result<(), ParseError> {
        match end {
            Some(Ending {
                kind: EndKind::End, ..
            }) => Ok(()),
            Some(other) => Err(self.error_at(
                other.pos,
                format!("unexpected {} in {what}", other.describe()),
            )),
            None => Err(self.error_at(pos, format!("unexpected EOF in {what}"))),
        }
    }

    fn branch(
        &mut self,
        word: &str,
        pos: usize,
        rest: Vec<Token>,
        depth: usize,
    ) -> Result<Node, ParseError> {
        if rest.is_empty() {
            return Err(self.error_at(pos, format!("missing value for {word}")));
        }
        let pipe = self.pipeline(rest[0].pos, &rest, word == "range")?;
        if word == "range" {
            self.loop_depth += 1;
        }
        let listed = self.list(depth + 1);
        if word == "range" {
            self.loop_depth -= 1;
        }
        let (list, end) = listed?;
        let else_list = match end {
            Some(Ending {
                kind: EndKind::End, ..
            }) => None,
            Some(Ending {
                kind: EndKind::Else(None),
                ..
            }) => {
                let (else_list, end) = self.list(depth + 1)?;
                match end {
                    Some(Ending {
                        kind: EndKind::End, ..
                    }) => Some(else_list),
                    Some(other) => {
                        return Err(self.error_at(
                            other.pos,
                            format!("expected end; found {}", other.describe()),
                        ));
                    }
                    None => return Err(self.error_at(pos, format!("unexpected EOF in {word}"))),
                }
            }
            Some(Ending {
                kind: EndKind::Else(Some((kw, tokens))),
                pos: else_pos,
            }) => {
                // Go accepts `else if` after if and `else with` after with only.
                if kw != word {
                    return Err(self.error_at(else_pos, "unexpected token in else".to_string()));
                }
                // `{{else if x}}…{{end}}` is `{{else}}{{if x}}…{{end}}{{end}}`: the nested
                // branch consumes the shared `{{end}}`.
                let nested = self.branch(&kw, else_pos, tokens, depth)?;
                Some(vec![nested])
            }
            None => return Err(self.error_at(pos, format!("unexpected EOF in {word}"))),
        };
        let branch = Box::new(Branch {
            pos,
            pipe,
            list,
            else_list,
        });
        Ok(match word {
            "if" => Node::If(branch),
            "with" => Node::With(branch),
            _ => Node::Range(branch),
        })
    }

    /// Parses a pipeline from `tokens` (declarations allowed; two in `range`).
    fn pipeline(&self, pos: usize, tokens: &[Token], is_range: bool) -> Result<Pipe, ParseError> {
        let mut decl = Vec::new();
        let mut is_assign = false;
        let mut i = 0;
        // `$x :=` / `$x =` / `$i, $v :=`.
        if let Some(TokenKind::Variable(first)) = tokens.first().map(|t| &t.kind) {
            match tokens.get(1).map(|t| &t.kind) {
                Some(TokenKind::Declare) | Some(TokenKind::Assign) => {
                    is_assign = matches!(tokens[1].kind, TokenKind::Assign);
                    decl.push(first.clone());
                    i = 2;
                }
                Some(TokenKind::Comma) if is_range => {
                    if let (Some(TokenKind::Variable(second)), Some(op)) = (
                        tokens.get(2).map(|t| &t.kind),
                        tokens.get(3).map(|t| &t.kind),
                    ) && matches!(op, TokenKind::Declare | TokenKind::Assign)
                    {
                        is_assign = matches!(op, TokenKind::Assign);
                        decl.push(first.clone());
                        decl.push(second.clone());
                        i = 4;
                    } else {
                        return Err(
                            self.error_at(pos, "too many declarations in command".to_string())
                        );
                    }
                }
                _ => {}
            }
        }
        let body = &tokens[i..];
        if body.is_empty() {
            return Err(self.error_at(pos, "missing value for command".to_string()));
        }
        let mut cmds = Vec::new();
        let mut start = 0;
        let mut depth = 0usize;
        for (j, token) in body.iter().enumerate() {
            match token.kind {
                TokenKind::LParen => depth += 1,
                TokenKind::RParen => depth = depth.saturating_sub(1),
                TokenKind::Pipe if depth == 0 => {
                    cmds.push(self.command(&body[start..j])?);
                    start = j + 1;
                }
                _ => {}
            }
        }
        cmds.push(self.command(&body[start..])?);
        let end = body.last().map(|t| t.end).unwrap_or(pos);
        Ok(Pipe {
            pos,
            decl,
            is_assign,
            cmds,
            text: Rc::from(&self.source[pos.min(end)..end]),
        })
    }

    fn command(&self, tokens: &[Token]) -> Result<Command, ParseError> {
        let Some(first) = tokens.first() else {
            return Err(self.error_at(self.pos, "missing value for command".to_string()));
        };
        let mut args = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            let (arg, next) = self.operand(tokens, i)?;
            args.push(arg);
            i = next;
            if i < tokens.len()
                && !tokens[i].space_before
                && !matches!(tokens[i].kind, TokenKind::LParen)
            {
                // Go needs space between operands.
                return Err(self.error_at(
                    tokens[i].pos,
                    format!("unexpected {} in operand", tokens[i].describe()),
                ));
            }
        }
        let end = tokens.last().map(|t| t.end).unwrap_or(first.pos);
        Ok(Command {
            pos: first.pos,
            args,
            text: Rc::from(&self.source[first.pos..end]),
        })
    }

    /// One operand starting at `tokens[i]`, with fields chained on it; returns the index after.
    fn operand(&self, tokens: &[Token], i: usize) -> Result<(Arg, usize), ParseError> {
        let token = &tokens[i];
        let mut next = i + 1;
        let arg = match &token.kind {
            TokenKind::Field(name) => Arg::Field {
                pos: token.pos,
                names: vec![name.clone()],
            },
            TokenKind::Variable(name) => Arg::Variable {
                pos: token.pos,
                name: name.clone(),
                fields: Vec::new(),
            },
            TokenKind::Dot => Arg::Dot(token.pos),
            TokenKind::Nil => Arg::Nil(token.pos),
            TokenKind::Bool(b) => Arg::Bool(*b),
            TokenKind::Number(n) => Arg::Number {
                pos: token.pos,
                text: self.source[token.pos..token.end].to_string(),
                value: *n,
            },
            TokenKind::String(s) => Arg::String(
                Rc::from(s.as_str()),
                Rc::from(&self.source[token.pos..token.end]),
            ),
            TokenKind::Ident(name) => {
                if matches!(
                    name.as_str(),
                    "if" | "else"
                        | "end"
                        | "range"
                        | "with"
                        | "define"
                        | "template"
                        | "block"
                        | "break"
                        | "continue"
                ) {
                    return Err(self.error_at(token.pos, format!("unexpected <{name}> in command")));
                }
                Arg::Ident {
                    pos: token.pos,
                    name: name.clone(),
                }
            }
            TokenKind::LParen => {
                // Up to the matching right paren.
                let mut depth = 1usize;
                let mut j = i + 1;
                while j < tokens.len() {
                    match tokens[j].kind {
                        TokenKind::LParen => depth += 1,
                        TokenKind::RParen => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                if j >= tokens.len() {
                    return Err(self.error_at(token.pos, "unclosed left paren".to_string()));
                }
                let inner = &tokens[i + 1..j];
                if inner.is_empty() {
                    return Err(self.error_at(
                        token.pos,
                        "missing value for parenthesized pipeline".to_string(),
                    ));
                }
                if self.paren_depth.get() >= MAX_NESTING {
                    return Err(self.error_at(
                        token.pos,
                        format!("parentheses nested more than {MAX_NESTING} deep"),
                    ));
                }
                self.paren_depth.set(self.paren_depth.get() + 1);
                let pipe = self.pipeline(inner[0].pos, inner, false);
                self.paren_depth.set(self.paren_depth.get() - 1);
                let pipe = pipe?;
                next = j + 1;
                Arg::Pipe {
                    pipe: Box::new(pipe),
                    fields: Vec::new(),
                }
            }
            other => {
                return Err(self.error_at(
                    token.pos,
                    format!("unexpected {} in operand", other.describe()),
                ));
            }
        };
        // Fields directly after the operand chain onto it.
        let mut arg = arg;
        while next < tokens.len() && !tokens[next].space_before {
            let TokenKind::Field(name) = &tokens[next].kind else {
                break;
            };
            // Go places a chain at its first chained field.
            let field_pos = tokens[next].pos;
            match &mut arg {
                Arg::Field { names, pos } => {
                    if names.len() == 1 {
                        *pos = field_pos;
                    }
                    names.push(name.clone());
                }
                Arg::Variable { fields, pos, .. } => {
                    if fields.is_empty() {
                        *pos = field_pos;
                    }
                    fields.push(name.clone());
                }
                Arg::Pipe { fields, .. } => fields.push(name.clone()),
                Arg::Dot(pos) => {
                    let pos = *pos;
                    arg = Arg::Field {
                        pos,
                        names: vec![name.clone()],
                    };
                }
                _ => {
                    return Err(self.error_at(
                        tokens[next].pos,
                        format!(
                            "unexpected . after term {:?}",
                            self.source[token.pos..token.end].to_string()
                        ),
                    ));
                }
            }
            next += 1;
        }
        Ok((arg, next))
    }
}

/// Whether a `.` followed by a digit continues the previous operand (no space before it): then
/// it is a field, not a number.
fn tokens_end_operand(tokens: &[Token], space_before: bool) -> bool {
    !space_before
        && !tokens.is_empty()
        && !matches!(
            tokens.last().map(|t| &t.kind),
            Some(TokenKind::LParen | TokenKind::Pipe)
        )
}

fn is_alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// Parses a Go number literal as `text/template` types an argument.
pub fn parse_number(text: &str) -> Option<Number> {
    let (negative, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let clean: String = body.chars().filter(|c| *c != '_').collect();
    let lower = clean.to_ascii_lowercase();
    let int = if let Some(hex) = lower.strip_prefix("0x") {
        if hex.contains('.') || hex.contains('p') {
            let f = hex_float(hex)?;
            return Some(Number::Float(if negative { -f } else { f }));
        } else {
            i64::from_str_radix(hex, 16).ok()
        }
    } else if let Some(oct) = lower.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()
    } else if let Some(bin) = lower.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|b| b.is_ascii_digit())
    {
        i64::from_str_radix(&lower[1..], 8).ok()
    } else if lower.bytes().all(|b| b.is_ascii_digit()) && !lower.is_empty() {
        lower.parse::<i64>().ok()
    } else {
        None
    };
    if let Some(i) = int {
        return Some(Number::Int(if negative { -i } else { i }));
    }
    if lower.starts_with("0x") {
        return None;
    }
    let f: f64 = lower.parse().ok()?;
    if !(lower.contains('.') || lower.contains('e')) {
        return None;
    }
    Some(Number::Float(if negative { -f } else { f }))
}

/// A hexadecimal floating-point literal after its `0x` (lower case, no `_`): hex digits with
/// an optional fraction, then the binary exponent Go requires (`1p-2`, `1.8p1`).
fn hex_float(hex: &str) -> Option<f64> {
    let (mantissa, exponent) = hex.split_once('p')?;
    let exponent: i32 = exponent.parse().ok()?;
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let mut value = 0f64;
    for c in whole.chars() {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in fraction.chars() {
        value += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    Some(value * 2f64.powi(exponent))
}

enum Step {
    Node(Node),
    Nothing,
    End(Ending),
}

#[derive(Debug, Clone)]
struct Token {
    pos: usize,
    end: usize,
    kind: TokenKind,
    space_before: bool,
}

impl Token {
    fn describe(&self) -> String {
        self.kind.describe()
    }
}

#[derive(Debug, Clone)]
enum TokenKind {
    Field(String),
    Variable(String),
    Dot,
    Nil,
    Bool(bool),
    Number(Number),
    String(String),
    Ident(String),
    Pipe,
    LParen,
    RParen,
    Comma,
    Declare,
    Assign,
}

impl TokenKind {
    fn describe(&self) -> String {
        match self {
            TokenKind::Field(f) => format!("<.{f}>"),
            TokenKind::Variable(v) => format!("<{v}>"),
            TokenKind::Dot => "<.>".to_string(),
            TokenKind::Nil => "<nil>".to_string(),
            TokenKind::Bool(b) => format!("<{b}>"),
            TokenKind::Number(_) => "number".to_string(),
            TokenKind::String(s) => format!("{s:?}"),
            TokenKind::Ident(i) => format!("<{i}>"),
            TokenKind::Pipe => "<|>".to_string(),
            TokenKind::LParen => "<(>".to_string(),
            TokenKind::RParen => "<)>".to_string(),
            TokenKind::Comma => "<,>".to_string(),
            TokenKind::Declare => "<:=>".to_string(),
            TokenKind::Assign => "<=>".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(nodes: &[Node]) -> Vec<String> {
        nodes
            .iter()
            .map(|n| match n {
                Node::Text(t) => format!("T({t})"),
                Node::Action(p) => format!("A({})", p.text),
                Node::If(_) => "If".to_string(),
                Node::With(_) => "With".to_string(),
                Node::Range(_) => "Range".to_string(),
                Node::Template { name, .. } => format!("Tpl({name})"),
                Node::Break(_) => "Break".to_string(),
                Node::Continue(_) => "Continue".to_string(),
            })
            .collect()
    }

    #[test]
    fn trims_white_space_around_marked_actions() {
        let parsed =
            parse("t", "a  \n {{- .x -}} \n b{{/* c */}}c {{- /* d */ -}} d").expect("parse");
        assert_eq!(
            texts(&parsed.trees[0].root),
            ["T(a)", "A(.x)", "T(b)", "T(c)", "T(d)"]
        );
    }

    #[test]
    fn defines_are_separate_trees() {
        let parsed =
            parse("f", r#"{{ define "x" }}X{{ end }}body{{ template "x" . }}"#).expect("parse");
        assert_eq!(parsed.trees.len(), 2);
        assert_eq!(parsed.trees[1].name, "x");
        assert_eq!(texts(&parsed.trees[0].root), ["T(body)", "Tpl(x)"]);
    }

    #[test]
    fn numbers_are_typed_as_go_types_them() {
        assert_eq!(parse_number("42"), Some(Number::Int(42)));
        assert_eq!(parse_number("-3"), Some(Number::Int(-3)));
        assert_eq!(parse_number("0x1F"), Some(Number::Int(31)));
        assert_eq!(parse_number("1.0"), Some(Number::Float(1.0)));
        assert_eq!(parse_number("1e3"), Some(Number::Float(1000.0)));
        assert_eq!(parse_number("1_000"), Some(Number::Int(1000)));
        assert_eq!(parse_number("abc"), None);
        // Hexadecimal floats, as Go's strconv reads them (Helm: `{{ 0x1p4 }}` prints 16).
        assert_eq!(parse_number("0x1p4"), Some(Number::Float(16.0)));
        assert_eq!(parse_number("0x1.8p1"), Some(Number::Float(3.0)));
        assert_eq!(parse_number("0X1P-2"), Some(Number::Float(0.25)));
        assert_eq!(parse_number("0x_1p60"), Some(Number::Float(2f64.powi(60))));
        assert_eq!(parse_number("0x1.8"), None);
    }

    #[test]
    fn hex_float_exponents_take_a_sign() {
        let parsed = parse("t", "{{ 0X1P-2 }}").expect("parse");
        assert_eq!(texts(&parsed.trees[0].root), ["A(0X1P-2)"]);
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let err = parse("c/templates/x.yaml", "a\n{{ if .x }}\nb").expect_err("an error");
        assert_eq!(
            err.to_string(),
            "template: c/templates/x.yaml:3: unexpected EOF"
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let parens = format!("{{{{ {}1{} }}}}", "(".repeat(5000), ")".repeat(5000));
        let err = parse("t", &parens).expect_err("too deep");
        assert!(err.message.contains("nested more than"), "{err}");
        let ifs = format!("{}x{}", "{{ if 1 }}".repeat(5000), "{{ end }}".repeat(5000));
        let err = parse("t", &ifs).expect_err("too deep");
        assert!(err.message.contains("nested more than"), "{err}");
    }

    #[test]
    fn locations_count_columns_as_go() {
        assert_eq!(location_in("f", "ab\ncd{{x}}", 5), "f:2:2");
        assert_eq!(location_in("f", "abc", 2), "f:1:2");
    }
}
