//! `bignum::TfNumber` against Terraform: every expression of
//! `tests/conformance/numbers/expected.json` (made by `scripts/conformance-numbers.sh` with
//! `terraform console`) is evaluated here and its text compared with Terraform's exactly.
//!
//! The expressions use a small part of HCL, which this file reads itself: number and string
//! literals, parentheses, unary `-`, `* / %`, `+ -`, `< <= > >=`, `== !=`, and calls of the
//! numeric functions plus `tonumber`, `tostring`, `jsonencode`, `jsondecode` and `format` with
//! one number. Expressions Terraform refuses must fail here too.
//!
//! Run: `cargo test -p braid-functions --test number_conformance`.

#![allow(clippy::unwrap_used)]

use braid_functions::bignum::{FloatVerb, IntegerVerb, NumberError, TfNumber};

/// Cases where braid knowingly differs, with the reason. The first two fail in both, with
/// another message (Terraform panics); the `pow` ones differ in the last bit of an `f64`.
/// Each must still be in the table and must still differ, so that the list stays honest.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "(1/0) % 2",
        "Terraform panics (nil pointer) on an infinite dividend; braid fails with \"can't use modulo with zero and infinity\"",
    ),
    (
        "pow(-8, 1 / 3)",
        "Terraform panics on NaN (Float.SetFloat64(NaN)); braid fails with \"the result is not a number\"",
    ),
    (
        "pow(599.60554, 0.85)",
        "a fractional power goes through exp(), which is Rust's (the C library's) in braid and Go's amd64 assembly in Terraform: one unit in the last place apart here",
    ),
    (
        "pow(443.64704, -4.5)",
        "as above: exp() of the fractional part, one unit in the last place",
    ),
];

#[derive(Debug, Clone)]
enum Val {
    Number(TfNumber),
    String(String),
    Bool(bool),
}

impl Val {
    /// As `terraform console` prints it.
    fn console(&self) -> String {
        match self {
            Val::Number(n) => n.to_string(),
            Val::String(s) => format!("{s:?}"),
            Val::Bool(b) => b.to_string(),
        }
    }

    fn number(&self) -> Result<TfNumber, String> {
        match self {
            Val::Number(n) => Ok(n.clone()),
            Val::String(s) => TfNumber::parse(s).map_err(|e| e.to_string()),
            Val::Bool(_) => Err("a number is required".into()),
        }
    }

    fn string(&self) -> Result<String, String> {
        match self {
            Val::String(s) => Ok(s.clone()),
            Val::Number(n) => Ok(n.to_string()),
            Val::Bool(b) => Ok(b.to_string()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(String),
    String(String),
    Ident(String),
    Punct(&'static str),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    const PUNCTS: &[&str] = &[
        "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ",",
    ];
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len() && matches!(chars[i], 'e' | 'E') {
                i += 1;
                if i < chars.len() && matches!(chars[i], '+' | '-') {
                    i += 1;
                }
                while i < chars.len() && chars[i].is_ascii_digit() {
                    i += 1;
                }
            }
            tokens.push(Token::Number(chars[start..i].iter().collect()));
        } else if c == '"' {
            let mut s = String::new();
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                s.push(chars[i]);
                i += 1;
            }
            i += 1;
            tokens.push(Token::String(s));
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                i += 1;
            }
            tokens.push(Token::Ident(chars[start..i].iter().collect()));
        } else {
            let rest: String = chars[i..].iter().collect();
            let punct = PUNCTS
                .iter()
                .find(|p| rest.starts_with(**p))
                .ok_or_else(|| format!("unexpected {c:?}"))?;
            tokens.push(Token::Punct(punct));
            i += punct.len();
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

type Eval = Result<Val, String>;

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn eat(&mut self, punct: &str) -> bool {
        if self.peek() == Some(&Token::Punct(leak(punct))) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn binary(&mut self, level: usize) -> Eval {
        const LEVELS: &[&[&str]] = &[
            &["==", "!="],
            &["<=", ">=", "<", ">"],
            &["+", "-"],
            &["*", "/", "%"],
        ];
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        'outer: loop {
            for op in LEVELS[level] {
                if self.eat(op) {
                    let right = self.binary(level + 1)?;
                    left = apply(op, &left, &right)?;
                    continue 'outer;
                }
            }
            return Ok(left);
        }
    }

    fn unary(&mut self) -> Eval {
        if self.eat("-") {
            let operand = self.unary()?;
            return Ok(Val::Number(operand.number()?.neg()));
        }
        self.primary()
    }

    fn primary(&mut self) -> Eval {
        let token = self.peek().cloned().ok_or("unexpected end")?;
        self.at += 1;
        match token {
            Token::Number(text) => Ok(Val::Number(TfNumber::parse(&text).map_err(err)?)),
            Token::String(s) => Ok(Val::String(s)),
            Token::Punct("(") => {
                let value = self.binary(0)?;
                if !self.eat(")") {
                    return Err("expected )".into());
                }
                Ok(value)
            }
            Token::Ident(name) => {
                if !self.eat("(") {
                    return match name.as_str() {
                        "true" => Ok(Val::Bool(true)),
                        "false" => Ok(Val::Bool(false)),
                        _ => Err(format!("unknown name {name}")),
                    };
                }
                let mut args = Vec::new();
                if !self.eat(")") {
                    loop {
                        args.push(self.binary(0)?);
                        if self.eat(")") {
                            break;
                        }
                        if !self.eat(",") {
                            return Err("expected ,".into());
                        }
                    }
                }
                call(&name, &args)
            }
            other => Err(format!("unexpected {other:?}")),
        }
    }
}

fn leak(s: &str) -> &'static str {
    const ALL: &[&str] = &[
        "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ",",
    ];
    ALL.iter().find(|p| **p == s).copied().unwrap()
}

fn err(e: NumberError) -> String {
    e.to_string()
}

fn apply(op: &str, left: &Val, right: &Val) -> Eval {
    if matches!(op, "==" | "!=") {
        let equal = match (left, right) {
            (Val::Number(a), Val::Number(b)) => a.equals(b),
            (Val::String(a), Val::String(b)) => a == b,
            (Val::Bool(a), Val::Bool(b)) => a == b,
            _ => false,
        };
        return Ok(Val::Bool(equal == (op == "==")));
    }
    let (a, b) = (left.number()?, right.number()?);
    let number = |r: Result<TfNumber, NumberError>| r.map(Val::Number).map_err(err);
    let ordering = a.cmp_value(&b);
    match op {
        "+" => number(a.add(&b)),
        "-" => number(a.sub(&b)),
        "*" => number(a.mul(&b)),
        "/" => number(a.div(&b)),
        "%" => number(a.rem(&b)),
        "<" => Ok(Val::Bool(ordering.is_lt())),
        "<=" => Ok(Val::Bool(ordering.is_le())),
        ">" => Ok(Val::Bool(ordering.is_gt())),
        ">=" => Ok(Val::Bool(ordering.is_ge())),
        _ => Err(format!("unknown operator {op}")),
    }
}

fn call(name: &str, args: &[Val]) -> Eval {
    let number = |i: usize| args.get(i).ok_or("missing argument")?.number();
    let wrap = |r: Result<TfNumber, NumberError>| r.map(Val::Number).map_err(err);
    match name {
        "abs" => Ok(Val::Number(number(0)?.abs())),
        "ceil" => Ok(Val::Number(number(0)?.ceil())),
        "floor" => Ok(Val::Number(number(0)?.floor())),
        "signum" => wrap(number(0)?.signum()),
        "pow" => wrap(number(0)?.pow(&number(1)?)),
        "log" => wrap(number(0)?.log(&number(1)?)),
        "max" | "min" => {
            let numbers = (0..args.len()).map(number).collect::<Result<Vec<_>, _>>()?;
            let pick = if name == "max" {
                TfNumber::max_of(&numbers)
            } else {
                TfNumber::min_of(&numbers)
            };
            pick.map(Val::Number).ok_or_else(|| "no numbers".into())
        }
        "parseint" => {
            let base = number(1)?.to_i64().ok_or("base must be whole")?;
            let base = u32::try_from(base).map_err(|_| "base out of range")?;
            wrap(TfNumber::parse_integer(&args[0].string()?, base))
        }
        "tonumber" => Ok(Val::Number(number(0)?)),
        "tostring" => Ok(Val::String(args[0].string()?)),
        "jsonencode" => Ok(Val::String(number(0)?.to_json_text().map_err(err)?)),
        "jsondecode" => Ok(Val::Number(
            TfNumber::parse(&args[0].string()?).map_err(err)?,
        )),
        "format" => format(&args[0].string()?, &number(1)?),
        _ => Err(format!("unknown function {name}")),
    }
}

/// `format` with one verb `%[.N]V` applied to one number.
fn format(spec: &str, n: &TfNumber) -> Eval {
    let body = spec.strip_prefix('%').ok_or("format must start with %")?;
    let (precision, verb) = match body.strip_prefix('.') {
        Some(rest) => {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            (
                Some(digits.parse::<usize>().unwrap()),
                &rest[digits.len()..],
            )
        }
        None => (None, body),
    };
    let float = |verb| Ok(Val::String(n.format_float(verb, precision)));
    let integer = |verb| n.format_integer(verb).map(Val::String).map_err(err);
    match verb {
        "e" => float(FloatVerb::Exponent { upper: false }),
        "E" => float(FloatVerb::Exponent { upper: true }),
        "f" => float(FloatVerb::Fixed),
        "g" | "v" => float(FloatVerb::General { upper: false }),
        "G" => float(FloatVerb::General { upper: true }),
        "d" => integer(IntegerVerb::Decimal),
        "b" => integer(IntegerVerb::Binary),
        "o" => integer(IntegerVerb::Octal),
        "x" => integer(IntegerVerb::HexLower),
        "X" => integer(IntegerVerb::HexUpper),
        other => Err(format!("unsupported verb {other}")),
    }
}

fn evaluate(expression: &str) -> Eval {
    let mut parser = Parser {
        tokens: tokenize(expression)?,
        at: 0,
    };
    let value = parser.binary(0)?;
    if parser.at != parser.tokens.len() {
        return Err("trailing tokens".into());
    }
    Ok(value)
}

#[test]
fn numbers_match_terraform_console() {
    let path = manifest_dir().join("../../tests/conformance/numbers/expected.json");
    let table: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(table.len() >= 80, "the table has {} cases", table.len());
    let mut failures = Vec::new();
    for case in &table {
        let expression = case["expression"].as_str().unwrap();
        let got = evaluate(expression);
        let known = KNOWN_DIFFERENCES.iter().any(|(e, _)| *e == expression);
        match (case.get("output").and_then(|o| o.as_str()), &got) {
            (Some(want), Ok(value)) if value.console() == want => {
                if known {
                    failures.push(format!(
                        "{expression} now matches: drop it from KNOWN_DIFFERENCES"
                    ));
                }
            }
            (None, Err(_)) => {}
            _ if known => {}
            (want, _) => failures.push(format!(
                "{expression}\n  terraform: {}\n  braid:     {got:?}",
                want.map_or_else(|| format!("error {}", case["error"]), str::to_string)
            )),
        }
    }
    for (expression, _) in KNOWN_DIFFERENCES {
        assert!(
            table.iter().any(|c| c["expression"] == *expression),
            "known difference {expression} is not in the table"
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from Terraform:\n{}",
        failures.len(),
        table.len(),
        failures.join("\n")
    );
}

/// The crate's directory as cargo gives it when it runs the test (not as compiled in: a
/// target directory shared by two checkouts may hold a binary built in the other one).
fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}
