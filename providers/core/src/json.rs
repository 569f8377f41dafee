//! JSON text to [`Value`] without losing a digit of any number.
//!
//! `serde_json` hands numbers over as `i64`, `u64` or `f64`, so `0.1000000000000000055511151231257827`
//! or `123456789012345678901234567890` would come back rounded. Terraform reads JSON numbers
//! (state, `jsondecode`) as decimal text at 512 bits; this parser keeps the text of every number
//! and reads it the same way ([`TfNumber::parse`]). [`Value`]'s `Deserialize` takes the raw
//! JSON text from `serde_json` and parses it here, so state and plan files round-trip exactly.

use crate::ValueMap;
use std::fmt;

use crate::Value;
use crate::number::TfNumber;

/// How deep arrays and objects may nest, as `serde_json`'s default recursion limit.
const MAX_DEPTH: usize = 128;

/// Why a JSON text is not a value; `line` and `column` count from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// What is wrong.
    pub message: String,
    /// The line of the offending character.
    pub line: usize,
    /// Its column, in characters.
    pub column: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.message, self.line, self.column
        )
    }
}

impl std::error::Error for JsonError {}

/// Parses one JSON value (surrounded by optional whitespace).
pub fn parse(text: &str) -> Result<Value, JsonError> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    parser.whitespace();
    let value = parser.value(0)?;
    parser.whitespace();
    if parser.at < parser.bytes.len() {
        return Err(parser.error("trailing characters"));
    }
    Ok(value)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn error(&self, message: &str) -> JsonError {
        let before = &self.text[..self.at.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        JsonError {
            message: message.to_string(),
            line,
            column: before[line_start..].chars().count() + 1,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn keyword(&mut self, word: &str, value: Value) -> Result<Value, JsonError> {
        if self.bytes[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(self.error("expected value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        match self.peek() {
            None => Err(self.error("EOF while parsing a value")),
            Some(b'n') => self.keyword("null", Value::Null),
            Some(b't') => self.keyword("true", Value::Bool(true)),
            Some(b'f') => self.keyword("false", Value::Bool(false)),
            Some(b'"') => self.string().map(Value::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => {
                let depth = self.nest(depth)?;
                self.at += 1;
                let mut items = Vec::new();
                self.whitespace();
                if self.peek() == Some(b']') {
                    self.at += 1;
                    return Ok(Value::List(items));
                }
                loop {
                    self.whitespace();
                    items.push(self.value(depth)?);
                    self.whitespace();
                    match self.peek() {
                        Some(b',') => self.at += 1,
                        Some(b']') => {
                            self.at += 1;
                            return Ok(Value::List(items));
                        }
                        _ => return Err(self.error("expected `,` or `]`")),
                    }
                }
            }
            Some(b'{') => {
                let depth = self.nest(depth)?;
                self.at += 1;
                let mut entries = Vec::new();
                self.whitespace();
                if self.peek() == Some(b'}') {
                    self.at += 1;
                    return Ok(Value::Map(ValueMap::new()));
                }
                loop {
                    self.whitespace();
                    if self.peek() != Some(b'"') {
                        return Err(self.error("key must be a string"));
                    }
                    let key = self.string()?;
                    self.whitespace();
                    if self.peek() != Some(b':') {
                        return Err(self.error("expected `:`"));
                    }
                    self.at += 1;
                    self.whitespace();
                    let value = self.value(depth)?;
                    // A repeated key keeps its last value, as serde_json and Terraform do
                    // (collecting into a ValueMap keeps the last).
                    entries.push((key, value));
                    self.whitespace();
                    match self.peek() {
                        Some(b',') => self.at += 1,
                        Some(b'}') => {
                            self.at += 1;
                            return Ok(Value::Map(entries.into_iter().collect()));
                        }
                        _ => return Err(self.error("expected `,` or `}`")),
                    }
                }
            }
            Some(_) => Err(self.error("expected value")),
        }
    }

    fn nest(&self, depth: usize) -> Result<usize, JsonError> {
        if depth >= MAX_DEPTH {
            return Err(self.error("recursion limit exceeded"));
        }
        Ok(depth + 1)
    }

    /// A number as JSON writes one: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        let integer_start = self.at;
        self.digits()?;
        if self.bytes[integer_start] == b'0' && self.at - integer_start > 1 {
            self.at = integer_start + 1;
            return Err(self.error("invalid number: leading zero"));
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.digits()?;
        }
        let text = &self.text[start..self.at];
        TfNumber::parse(text).map(Value::Number).map_err(|_| {
            self.error("number out of range (its binary exponent does not fit 32 bits)")
        })
    }

    fn digits(&mut self) -> Result<(), JsonError> {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        if self.at == start {
            return Err(self.error("invalid number: expected a digit"));
        }
        Ok(())
    }

    /// A string starting at its opening quote.
    fn string(&mut self) -> Result<String, JsonError> {
        self.at += 1;
        let mut out = String::new();
        let mut run = self.at;
        loop {
            match self.peek() {
                None => return Err(self.error("EOF while parsing a string")),
                Some(b'"') => {
                    out.push_str(&self.text[run..self.at]);
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(&self.text[run..self.at]);
                    self.at += 1;
                    self.escape(&mut out)?;
                    run = self.at;
                }
                Some(0..=0x1f) => {
                    return Err(self.error("control character in a string"));
                }
                // Multi-byte UTF-8 sequences have no quote or backslash bytes in them.
                Some(_) => self.at += 1,
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        let Some(byte) = self.peek() else {
            return Err(self.error("EOF while parsing a string"));
        };
        self.at += 1;
        let c = match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                let code = if (0xD800..0xDC00).contains(&first) {
                    if !self.bytes[self.at..].starts_with(b"\\u") {
                        return Err(self.error("lone leading surrogate in hex escape"));
                    }
                    self.at += 2;
                    let second = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&second) {
                        return Err(self.error("invalid trailing surrogate in hex escape"));
                    }
                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                } else {
                    first
                };
                char::from_u32(code)
                    .ok_or_else(|| self.error("lone trailing surrogate in hex escape"))?
            }
            _ => {
                self.at -= 1;
                return Err(self.error("invalid escape"));
            }
        };
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .text
            .get(self.at..self.at + 4)
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| self.error("invalid escape: expected 4 hex digits"))?;
        self.at += 4;
        u32::from_str_radix(digits, 16).map_err(|_| self.error("invalid escape"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> TfNumber {
        match parse(text) {
            Ok(Value::Number(n)) => n,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn numbers_keep_every_digit() {
        assert_eq!(
            number("123456789012345678901234567890").to_string(),
            "123456789012345678901234567890"
        );
        assert_eq!(
            number("0.1000000000000000055511151231257827").to_string(),
            "0.1000000000000000055511151231257827"
        );
        assert_eq!(number("1e3").to_string(), "1000");
        assert_eq!(number("-0.5E-2").to_string(), "-0.005");
        assert_eq!(number("-7").to_i64(), Some(-7));
        assert_eq!(number("-0").to_string(), "-0");
        assert_eq!(number("7").precision(), crate::number::LITERAL_PRECISION);
    }

    #[test]
    fn structure_strings_and_escapes() {
        let value = parse(
            " {\"b\": [1, true, null, \"x\\n\\u00e9\\ud83d\\ude00\\/\"], \"a\": {}, \"a\": []} ",
        )
        .expect("parses");
        let expected = Value::map([
            ("a", Value::List(Vec::new())),
            (
                "b",
                Value::List(vec![
                    Value::Number(TfNumber::parsed_i64(1)),
                    Value::Bool(true),
                    Value::Null,
                    Value::from("x\né😀/"),
                ]),
            ),
        ]);
        assert_eq!(value, expected);
        assert_eq!(parse("\"é\"").expect("utf-8"), Value::from("é"));
    }

    #[test]
    fn errors_say_where() {
        for (text, message, column) in [
            ("[1,]", "expected value", 4),
            ("01", "invalid number: leading zero", 2),
            ("{\"a\" 1}", "expected `:`", 6),
            ("\"\\ud800\"", "lone leading surrogate in hex escape", 8),
            ("\"\\q\"", "invalid escape", 3),
            ("1 2", "trailing characters", 3),
            ("-", "invalid number: expected a digit", 2),
            (
                "1e999999999999",
                "number out of range (its binary exponent does not fit 32 bits)",
                15,
            ),
        ] {
            let error = parse(text).expect_err(text);
            assert_eq!(
                (error.message.as_str(), error.column),
                (message, column),
                "{text}"
            );
        }
        assert_eq!(parse("[\n  x]").expect_err("x").line, 2);
        let deep = "[".repeat(200);
        assert_eq!(
            parse(&deep).expect_err("too deep").message,
            "recursion limit exceeded"
        );
    }
}
