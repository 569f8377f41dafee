//! A lexer for HCL's native syntax that keeps every byte: what `braid fmt` needs to respace
//! tokens without touching strings, heredocs or comments. It runs only on text hcl-edit
//! parsed already, so it never has to report syntax errors; on odd input it still ends,
//! turning what it does not know into one-character punctuation.

/// What a token is, as far as formatting cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// `\n` or `\r\n`, kept as written.
    Newline,
    /// `# ...` or `// ...`, up to the end of its line (without the newline).
    LineComment,
    /// `/* ... */`, possibly over several lines; kept as written.
    BlockComment,
    /// `<<EOT` ... `EOT`, from the `<<` to the end of the closing marker; kept as written.
    Heredoc,
    /// A name or keyword (`resource`, `var`, `for`, `true`).
    Ident,
    /// A number literal.
    Number,
    /// The `"` opening a quoted template.
    OpenQuote,
    /// The `"` closing a quoted template.
    CloseQuote,
    /// Literal text inside a quoted template, escapes included, kept as written.
    Literal,
    /// `${` or `%{` inside a quoted template.
    TemplateOpen,
    /// The `}` closing a `${` or `%{`.
    TemplateClose,
    /// `~`, the whitespace strip marker of a template sequence.
    Strip,
    /// Brackets, operators and other punctuation.
    Punct,
}

/// One token: its kind and its exact text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Token<'a> {
    pub kind: Kind,
    pub text: &'a str,
}

/// Where the lexer is: in expressions (counting braces to find the end of a template
/// sequence) or inside a quoted template.
enum Mode {
    Expression { braces: usize },
    Template,
}

const OPERATORS: &[&str] = &[
    "...", "==", "!=", "<=", ">=", "&&", "||", "=>", "(", ")", "[", "]", "{", "}", ",", ".", "=",
    "<", ">", "+", "-", "*", "/", "%", "!", "?", ":",
];

/// Every token of `text`, whitespace other than newlines left out.
pub(super) fn tokens<'a>(text: &'a str) -> Vec<Token<'a>> {
    let mut out = Vec::new();
    let mut modes = vec![Mode::Expression { braces: 0 }];
    let bytes = text.as_bytes();
    let mut at = 0;
    let push = |out: &mut Vec<Token<'a>>, kind, start: usize, end: usize| {
        out.push(Token {
            kind,
            text: &text[start..end],
        });
    };
    while at < bytes.len() {
        let rest = &text[at..];
        if let Some(Mode::Template) = modes.last() {
            if rest.starts_with('"') {
                push(&mut out, Kind::CloseQuote, at, at + 1);
                modes.pop();
                at += 1;
                continue;
            }
            if rest.starts_with("${") || rest.starts_with("%{") {
                push(&mut out, Kind::TemplateOpen, at, at + 2);
                at += 2;
                if text[at..].starts_with('~') {
                    push(&mut out, Kind::Strip, at, at + 1);
                    at += 1;
                }
                modes.push(Mode::Expression { braces: 0 });
                continue;
            }
            let end = literal_end(text, at);
            push(&mut out, Kind::Literal, at, end);
            at = end;
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        let (kind, len) = if rest.starts_with("\r\n") {
            (Kind::Newline, 2)
        } else if c == '\n' {
            (Kind::Newline, 1)
        } else if c == ' ' || c == '\t' || c == '\r' {
            at += 1;
            continue;
        } else if c == '#' || rest.starts_with("//") {
            let end = rest.find(['\n']).unwrap_or(rest.len());
            let end = if rest[..end].ends_with('\r') {
                end - 1
            } else {
                end
            };
            (Kind::LineComment, end)
        } else if let Some(body) = rest.strip_prefix("/*") {
            let end = body.find("*/").map_or(rest.len(), |i| i + 4);
            (Kind::BlockComment, end)
        } else if rest.starts_with("<<") && heredoc_len(rest).is_some() {
            (Kind::Heredoc, heredoc_len(rest).unwrap_or(rest.len()))
        } else if c == '"' {
            modes.push(Mode::Template);
            (Kind::OpenQuote, 1)
        } else if c.is_ascii_digit() {
            (Kind::Number, number_len(rest))
        } else if c.is_alphabetic() || c == '_' {
            let len = rest
                .find(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '-'))
                .unwrap_or(rest.len());
            (Kind::Ident, len)
        } else if c == '~' {
            (Kind::Strip, 1)
        } else if c == '{' {
            if let Some(Mode::Expression { braces }) = modes.last_mut() {
                *braces += 1;
            }
            (Kind::Punct, 1)
        } else if c == '}' {
            let nested = modes.len() > 1;
            match modes.last_mut() {
                Some(Mode::Expression { braces: 0 }) if nested => {
                    modes.pop();
                    (Kind::TemplateClose, 1)
                }
                Some(Mode::Expression { braces }) => {
                    *braces = braces.saturating_sub(1);
                    (Kind::Punct, 1)
                }
                _ => (Kind::Punct, 1),
            }
        } else {
            let len = OPERATORS
                .iter()
                .find(|op| rest.starts_with(**op))
                .map_or(c.len_utf8(), |op| op.len());
            (Kind::Punct, len)
        };
        push(&mut out, kind, at, at + len);
        at += len;
    }
    out
}

/// Where the literal text starting at `start` inside a quoted template ends: at the closing
/// quote or the next `${`/`%{` (not `$${`/`%%{`, the escapes of those).
fn literal_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut at = start;
    while at < bytes.len() {
        match bytes[at] {
            b'"' => return at,
            b'\\' => at += 2,
            b'$' | b'%'
                if bytes.get(at + 1) == Some(&bytes[at]) && bytes.get(at + 2) == Some(&b'{') =>
            {
                at += 3
            }
            b'$' | b'%' if bytes.get(at + 1) == Some(&b'{') => return at,
            _ => at += 1,
        }
    }
    at.min(bytes.len())
}

/// The length of a heredoc starting at `rest` (`<<EOT` or `<<-EOT`, a newline, lines, and a
/// line holding only the marker), up to the end of the marker; `None` when `rest` is not one.
fn heredoc_len(rest: &str) -> Option<usize> {
    let after = rest.strip_prefix("<<")?;
    let after = after.strip_prefix('-').unwrap_or(after);
    let marker_len = after
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(after.len());
    if marker_len == 0 {
        return None;
    }
    let marker = &after[..marker_len];
    let header = rest.len() - after.len() + marker_len;
    let mut at = header + rest[header..].find('\n')? + 1;
    while at <= rest.len() {
        let line_end = rest[at..].find('\n').map_or(rest.len(), |i| at + i);
        let line = rest[at..line_end].trim_end_matches('\r');
        if line.trim() == marker {
            return Some(at + line.len());
        }
        if line_end == rest.len() {
            return None;
        }
        at = line_end + 1;
    }
    None
}

fn number_len(rest: &str) -> usize {
    let bytes = rest.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let b = bytes[at];
        let exponent_sign =
            (b == b'+' || b == b'-') && at > 0 && matches!(bytes[at - 1], b'e' | b'E');
        if b.is_ascii_digit()
            || b == b'.' && bytes.get(at + 1).is_some_and(u8::is_ascii_digit)
            || b == b'e'
            || b == b'E'
            || exponent_sign
        {
            at += 1;
        } else {
            break;
        }
    }
    at.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        tokens(text).into_iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn templates_are_split_at_their_sequences() {
        assert_eq!(
            kinds(r#"a = "x${ b ~}y""#),
            [
                (Kind::Ident, "a"),
                (Kind::Punct, "="),
                (Kind::OpenQuote, "\""),
                (Kind::Literal, "x"),
                (Kind::TemplateOpen, "${"),
                (Kind::Ident, "b"),
                (Kind::Strip, "~"),
                (Kind::TemplateClose, "}"),
                (Kind::Literal, "y"),
                (Kind::CloseQuote, "\""),
            ]
        );
    }

    #[test]
    fn heredocs_and_comments_are_one_token_each() {
        let text = "a = <<-EOT\n  x ${y}\n  EOT\n/* c\n */ # d\r\n";
        assert_eq!(
            kinds(text),
            [
                (Kind::Ident, "a"),
                (Kind::Punct, "="),
                (Kind::Heredoc, "<<-EOT\n  x ${y}\n  EOT"),
                (Kind::Newline, "\n"),
                (Kind::BlockComment, "/* c\n */"),
                (Kind::LineComment, "# d"),
                (Kind::Newline, "\r\n"),
            ]
        );
    }
}
