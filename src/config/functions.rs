//! The built-in functions that configuration expressions can call (`jsonencode(...)`,
//! `join(...)`, `file(...)`).
//!
//! Names, arguments and results follow Terraform's built-in functions so that existing
//! configuration reads the same way. Where a string is expected, numbers and bools convert to
//! strings (`1` → `"1"`); where a number is expected, strings convert if they parse.
//!
//! Unknown values ("known after apply") propagate: a call whose result depends on an unknown
//! argument returns [`Value::Unknown`]. Functions that only move values around (`concat`,
//! `merge`, `element`, `length`, ...) keep unknown elements in place instead, so that
//! `length([aws_instance.a.id])` is known at plan time.
//!
//! Terraform functions not provided, and why:
//! - `uuid`, `timestamp`, `plantimestamp`, `bcrypt`: not deterministic, so every plan would
//!   show a change.
//! - `can`, `try`: need lazy evaluation of their arguments, which a plain function cannot have.
//! - `templatefile`, `templatestring`: need the expression evaluator to render templates.
//! - `regex`, `regexall`, and `replace` with a `/pattern/` (an error here): need a regular
//!   expression crate.
//! - `yamlencode`, `yamldecode`, `csvdecode`, `base64gzip`, `textencodebase64`,
//!   `textdecodebase64`, `rsadecrypt`: need extra parsers or codecs.
//! - `md5`, `sha1`, `uuidv5`, `filemd5`, `filesha1`: need extra hash crates.
//! - `formatdate`, `timeadd`, `timecmp`: need date parsing.
//! - `sensitive`, `nonsensitive`, `issensitive`, `ephemeralasnull`, `type`: need value marks
//!   or types that braid's values do not carry.
//! - `pathexpand`, `log`, `cidrhost`, `cidrnetmask`, `cidrsubnet`, `cidrsubnets`,
//!   `setintersection`, `setproduct`, `setsubtract`, `setunion`, `transpose`, `matchkeys`,
//!   `fileset`, `filesha256`, `filesha512`, `filebase64sha256`, `filebase64sha512`: not
//!   implemented yet.
//!
//! Strings are measured in Unicode scalar values (`char`s), where Terraform counts grapheme
//! clusters; the two differ only for combining sequences such as flags and accented letters
//! written with combining marks. Numbers are 64-bit floats or integers rather than
//! arbitrary-precision decimals.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use braid_provider::Value;
use serde_json::Number;
use sha2::{Digest, Sha256, Sha512};

/// Where a function call runs: `file()` reads relative to the directory of the file being
/// evaluated.
#[derive(Debug, Clone, Copy)]
pub struct FunctionContext<'a> {
    pub base_dir: &'a Path,
}

/// Why a function call failed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FunctionError {
    /// No function has this name; `suggestion` is the closest known name, if any is close.
    #[error("there is no function named \"{name}\"")]
    Unknown {
        name: String,
        suggestion: Option<String>,
    },
    /// The call has the wrong number of arguments; `expected` reads like "1", "2 or 3",
    /// "at least 1".
    #[error("{name}() takes {expected} argument(s), got {got}")]
    Arity {
        name: String,
        expected: String,
        got: usize,
    },
    /// Argument `index` (1-based) has the wrong type or an invalid value.
    #[error("argument {index} of {name}(): {message}")]
    Argument {
        name: String,
        index: usize,
        message: String,
    },
    /// The arguments were acceptable but the function could not produce a result.
    #[error("{name}(): {message}")]
    Failed { name: String, message: String },
}

/// Calls the built-in function `name` with already evaluated `args`.
pub fn call(
    ctx: &FunctionContext<'_>,
    name: &str,
    args: Vec<Value>,
) -> Result<Value, FunctionError> {
    let Some(function) = FUNCTIONS.iter().find(|f| f.name == name) else {
        return Err(FunctionError::Unknown {
            name: name.to_string(),
            suggestion: suggest(name),
        });
    };
    if !function.arity.accepts(args.len()) {
        return Err(FunctionError::Arity {
            name: function.name.to_string(),
            expected: function.arity.describe(),
            got: args.len(),
        });
    }
    let unknown = match function.unknowns {
        Unknowns::Deep => args.iter().any(|a| !a.is_wholly_known()),
        Unknowns::Shallow => args.iter().any(Value::is_unknown),
    };
    if unknown {
        return Ok(Value::Unknown);
    }
    (function.body)(&Call {
        ctx,
        name: function.name,
        args,
    })
}

/// All function names, sorted.
pub fn names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<&'static str> = FUNCTIONS.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names
    })
}

fn suggest(name: &str) -> Option<String> {
    // A third of the name (at least two edits) catches typos without suggesting
    // unrelated short names.
    let limit = (name.chars().count() / 3).max(2);
    FUNCTIONS
        .iter()
        .map(|f| (strsim::levenshtein(name, f.name), f.name))
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, best)| best.to_string())
}

// ---------------------------------------------------------------------------------------------
// The function table
// ---------------------------------------------------------------------------------------------

type Body = fn(&Call<'_>) -> Result<Value, FunctionError>;

struct Function {
    name: &'static str,
    arity: Arity,
    unknowns: Unknowns,
    body: Body,
}

#[derive(Clone, Copy)]
enum Arity {
    Exact(usize),
    Between(usize, usize),
    AtLeast(usize),
}

impl Arity {
    fn accepts(self, got: usize) -> bool {
        match self {
            Arity::Exact(n) => got == n,
            Arity::Between(low, high) => (low..=high).contains(&got),
            Arity::AtLeast(n) => got >= n,
        }
    }

    fn describe(self) -> String {
        match self {
            Arity::Exact(n) => n.to_string(),
            Arity::Between(low, high) if high == low + 1 => format!("{low} or {high}"),
            Arity::Between(low, high) => format!("{low} to {high}"),
            Arity::AtLeast(n) => format!("at least {n}"),
        }
    }
}

/// How a function treats unknown arguments before its body runs.
#[derive(Clone, Copy)]
enum Unknowns {
    /// The result is unknown if any part of any argument is unknown.
    Deep,
    /// The result is unknown only if a whole argument is unknown; unknown elements inside
    /// lists and maps are carried into the result or inspected by the body.
    Shallow,
}

const fn f(name: &'static str, arity: Arity, unknowns: Unknowns, body: Body) -> Function {
    Function {
        name,
        arity,
        unknowns,
        body,
    }
}

use Arity::{AtLeast, Between, Exact};
use Unknowns::{Deep, Shallow};

static FUNCTIONS: &[Function] = &[
    f("abs", Exact(1), Deep, abs),
    f("abspath", Exact(1), Deep, abspath),
    f("alltrue", Exact(1), Shallow, alltrue),
    f("anytrue", Exact(1), Shallow, anytrue),
    f("base64decode", Exact(1), Deep, base64decode),
    f("base64encode", Exact(1), Deep, base64encode),
    f("base64sha256", Exact(1), Deep, base64sha256),
    f("basename", Exact(1), Deep, basename),
    f("ceil", Exact(1), Deep, ceil),
    f("chomp", Exact(1), Deep, chomp),
    f("chunklist", Exact(2), Shallow, chunklist),
    f("coalesce", AtLeast(1), Shallow, coalesce),
    f("coalescelist", AtLeast(1), Shallow, coalescelist),
    f("compact", Exact(1), Deep, compact),
    f("concat", AtLeast(1), Shallow, concat),
    f("contains", Exact(2), Deep, contains),
    f("dirname", Exact(1), Deep, dirname),
    f("distinct", Exact(1), Deep, distinct),
    f("element", Exact(2), Shallow, element),
    f("endswith", Exact(2), Deep, endswith),
    f("file", Exact(1), Deep, file),
    f("filebase64", Exact(1), Deep, filebase64),
    f("fileexists", Exact(1), Deep, fileexists),
    f("flatten", Exact(1), Deep, flatten),
    f("floor", Exact(1), Deep, floor),
    f("format", AtLeast(1), Deep, format),
    f("formatlist", AtLeast(1), Deep, formatlist),
    f("indent", Exact(2), Deep, indent),
    f("index", Exact(2), Deep, index),
    f("join", AtLeast(2), Deep, join),
    f("jsondecode", Exact(1), Deep, jsondecode),
    f("jsonencode", Exact(1), Deep, jsonencode),
    f("keys", Exact(1), Shallow, keys),
    f("length", Exact(1), Shallow, length),
    f("lookup", Between(2, 3), Shallow, lookup),
    f("lower", Exact(1), Deep, lower),
    f("max", AtLeast(1), Deep, max),
    f("merge", AtLeast(0), Shallow, merge),
    f("min", AtLeast(1), Deep, min),
    f("one", Exact(1), Shallow, one),
    f("parseint", Exact(2), Deep, parseint),
    f("pow", Exact(2), Deep, pow),
    f("range", Between(1, 3), Deep, range),
    f("replace", Exact(3), Deep, replace),
    f("reverse", Exact(1), Shallow, reverse),
    f("sha256", Exact(1), Deep, sha256),
    f("sha512", Exact(1), Deep, sha512),
    f("signum", Exact(1), Deep, signum),
    f("slice", Exact(3), Shallow, slice),
    f("sort", Exact(1), Deep, sort),
    f("split", Exact(2), Deep, split),
    f("startswith", Exact(2), Deep, startswith),
    f("strcontains", Exact(2), Deep, strcontains),
    f("strrev", Exact(1), Deep, strrev),
    f("substr", Exact(3), Deep, substr),
    f("sum", Exact(1), Deep, sum),
    f("title", Exact(1), Deep, title),
    f("tobool", Exact(1), Deep, tobool),
    f("tolist", Exact(1), Shallow, tolist),
    f("tomap", Exact(1), Shallow, tomap),
    f("tonumber", Exact(1), Deep, tonumber),
    f("toset", Exact(1), Deep, toset),
    f("tostring", Exact(1), Deep, tostring),
    f("trim", Exact(2), Deep, trim),
    f("trimprefix", Exact(2), Deep, trimprefix),
    f("trimspace", Exact(1), Deep, trimspace),
    f("trimsuffix", Exact(2), Deep, trimsuffix),
    f("upper", Exact(1), Deep, upper),
    f("urlencode", Exact(1), Deep, urlencode),
    f("values", Exact(1), Shallow, values),
    f("zipmap", Exact(2), Shallow, zipmap),
];

// ---------------------------------------------------------------------------------------------
// Argument access and conversion
// ---------------------------------------------------------------------------------------------

/// One call in progress: its arguments and how to report errors about them.
struct Call<'a> {
    ctx: &'a FunctionContext<'a>,
    name: &'static str,
    args: Vec<Value>,
}

impl Call<'_> {
    /// An error about argument `i` (0-based here, 1-based in the message).
    fn arg_error(&self, i: usize, message: impl Into<String>) -> FunctionError {
        FunctionError::Argument {
            name: self.name.to_string(),
            index: i + 1,
            message: message.into(),
        }
    }

    fn failed(&self, message: impl Into<String>) -> FunctionError {
        FunctionError::Failed {
            name: self.name.to_string(),
            message: message.into(),
        }
    }

    fn string(&self, i: usize) -> Result<String, FunctionError> {
        primitive_string(&self.args[i])
            .ok_or_else(|| self.arg_error(i, expected("string", &self.args[i])))
    }

    fn number(&self, i: usize) -> Result<f64, FunctionError> {
        coerce_number(&self.args[i])
            .and_then(|n| n.as_f64())
            .ok_or_else(|| self.arg_error(i, expected("number", &self.args[i])))
    }

    fn integer(&self, i: usize) -> Result<i64, FunctionError> {
        let n = self.number(i)?;
        whole(n).ok_or_else(|| self.arg_error(i, format!("expected a whole number, got {n}")))
    }

    fn list(&self, i: usize) -> Result<&[Value], FunctionError> {
        self.args[i]
            .as_list()
            .ok_or_else(|| self.arg_error(i, expected("list", &self.args[i])))
    }

    fn map(&self, i: usize) -> Result<&BTreeMap<String, Value>, FunctionError> {
        self.args[i]
            .as_map()
            .ok_or_else(|| self.arg_error(i, expected("object", &self.args[i])))
    }

    /// Element `j` of list argument `i` as a string.
    fn element_string(&self, i: usize, j: usize, v: &Value) -> Result<String, FunctionError> {
        primitive_string(v)
            .ok_or_else(|| self.arg_error(i, format!("element {j}: {}", expected("string", v))))
    }

    fn element_number(&self, i: usize, j: usize, v: &Value) -> Result<f64, FunctionError> {
        coerce_number(v)
            .and_then(|n| n.as_f64())
            .ok_or_else(|| self.arg_error(i, format!("element {j}: {}", expected("number", v))))
    }

    /// A numeric result; infinities and NaN have no place in a `Value`.
    fn number_value(&self, n: f64) -> Result<Value, FunctionError> {
        if n.is_finite() {
            Ok(Value::from_f64(n))
        } else {
            Err(self.failed("the result is not a finite number"))
        }
    }
}

/// "expected string, got list", quoting the value when it is a string that failed to convert.
fn expected(what: &str, got: &Value) -> String {
    match got {
        Value::String(s) => format!("expected {what}, got string {s:?}"),
        other => format!("expected {what}, got {}", other.kind()),
    }
}

/// The string form of a string, number or bool, as Terraform converts them.
fn primitive_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(number_to_string(n)),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn number_to_string(n: &Number) -> String {
    match n.as_f64() {
        Some(f) if n.is_f64() => float_to_string(f),
        _ => n.to_string(),
    }
}

/// Integral floats print without `.0`, and no float prints with an exponent, as in Terraform.
fn float_to_string(f: f64) -> String {
    match whole(f) {
        Some(i) => i.to_string(),
        None => format!("{f}"),
    }
}

/// `f` as an integer, if it is one that fits exactly.
fn whole(f: f64) -> Option<i64> {
    #[allow(clippy::cast_possible_truncation)]
    (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

/// A number, or a string that parses as one.
fn coerce_number(v: &Value) -> Option<Number> {
    match v {
        Value::Number(n) => Some(n.clone()),
        Value::String(s) => {
            if let Ok(i) = s.parse::<i64>() {
                return Some(Number::from(i));
            }
            let f = s.parse::<f64>().ok().filter(|f| f.is_finite())?;
            match Value::from_f64(f) {
                Value::Number(n) => Some(n),
                _ => None,
            }
        }
        _ => None,
    }
}

fn coerce_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

/// Structural equality where `1` and `1.0` are the same number.
fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| values_equal(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, a)| y.get(k).is_some_and(|b| values_equal(a, b)))
        }
        _ => a == b,
    }
}

/// Equality after Terraform's conversion of the needle to the element's type, so that
/// `contains(["1"], 1)` holds.
fn loosely_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(_), Value::Number(_) | Value::Bool(_))
        | (Value::Number(_) | Value::Bool(_), Value::String(_)) => {
            primitive_string(a) == primitive_string(b)
        }
        _ => values_equal(a, b),
    }
}

/// Gives the known, non-null elements of a collection one type, as Terraform does when it
/// builds a list or map: mixed strings, numbers and bools all become strings.
fn unify(call: &Call<'_>, i: usize, items: Vec<Value>) -> Result<Vec<Value>, FunctionError> {
    let mut kinds = Vec::new();
    for item in &items {
        if !item.is_null() && !item.is_unknown() && !kinds.contains(&item.kind()) {
            kinds.push(item.kind());
        }
    }
    if kinds.len() <= 1 {
        return Ok(items);
    }
    let primitive = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    let has_string = items.iter().any(|v| matches!(v, Value::String(_)));
    let all_primitive = items
        .iter()
        .all(|v| v.is_null() || v.is_unknown() || primitive(v));
    if !(all_primitive && has_string) {
        let found: Vec<String> = kinds.iter().map(ToString::to_string).collect();
        return Err(call.arg_error(
            i,
            format!(
                "all elements must have the same type, found {}",
                found.join(" and ")
            ),
        ));
    }
    Ok(items
        .into_iter()
        .map(|v| primitive_string(&v).map_or(v, Value::String))
        .collect())
}

// ---------------------------------------------------------------------------------------------
// String functions
// ---------------------------------------------------------------------------------------------

fn format(c: &Call<'_>) -> Result<Value, FunctionError> {
    let spec = c.string(0)?;
    format_values(&spec, &c.args[1..])
        .map(Value::String)
        .map_err(|m| c.failed(m))
}

fn formatlist(c: &Call<'_>) -> Result<Value, FunctionError> {
    let spec = c.string(0)?;
    // Every list argument supplies one value per result; other arguments repeat.
    let mut length: Option<(usize, usize)> = None;
    for (i, arg) in c.args.iter().enumerate().skip(1) {
        if let Value::List(items) = arg {
            match length {
                None => length = Some((items.len(), i)),
                Some((n, first)) if n != items.len() => {
                    return Err(c.arg_error(
                        i,
                        format!(
                            "has length {}, which is inconsistent with argument {} of length {n}",
                            items.len(),
                            first + 1
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
    }
    let iterations = length.map_or(1, |(n, _)| n);
    let mut out = Vec::with_capacity(iterations);
    for iteration in 0..iterations {
        let args: Vec<Value> = c.args[1..]
            .iter()
            .map(|arg| match arg {
                Value::List(items) => items[iteration].clone(),
                other => other.clone(),
            })
            .collect();
        let text = format_values(&spec, &args)
            .map_err(|m| c.failed(format!("error on format iteration {iteration}: {m}")))?;
        out.push(Value::String(text));
    }
    Ok(Value::List(out))
}

fn join(c: &Call<'_>) -> Result<Value, FunctionError> {
    let separator = c.string(0)?;
    let mut parts = Vec::new();
    for i in 1..c.args.len() {
        for (j, item) in c.list(i)?.iter().enumerate() {
            parts.push(c.element_string(i, j, item)?);
        }
    }
    Ok(Value::String(parts.join(&separator)))
}

fn split(c: &Call<'_>) -> Result<Value, FunctionError> {
    let separator = c.string(0)?;
    let text = c.string(1)?;
    // Go's strings.Split, which Terraform uses, splits into characters on an empty separator.
    let parts: Vec<Value> = if separator.is_empty() {
        text.chars()
            .map(|ch| Value::String(ch.to_string()))
            .collect()
    } else {
        text.split(separator.as_str()).map(Value::from).collect()
    };
    Ok(Value::List(parts))
}

fn lower(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::String(c.string(0)?.to_lowercase()))
}

fn upper(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::String(c.string(0)?.to_uppercase()))
}

fn title(c: &Call<'_>) -> Result<Value, FunctionError> {
    // Go's strings.Title: a word starts after any character that is not a letter, digit or
    // underscore.
    let mut out = String::new();
    let mut at_word_start = true;
    for ch in c.string(0)?.chars() {
        if at_word_start {
            out.extend(ch.to_uppercase());
        } else {
            out.push(ch);
        }
        at_word_start = !(ch.is_alphanumeric() || ch == '_');
    }
    Ok(Value::String(out))
}

fn trimspace(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::from(c.string(0)?.trim()))
}

fn trim(c: &Call<'_>) -> Result<Value, FunctionError> {
    let text = c.string(0)?;
    let cutset = c.string(1)?;
    Ok(Value::from(text.trim_matches(|ch| cutset.contains(ch))))
}

fn trimprefix(c: &Call<'_>) -> Result<Value, FunctionError> {
    let text = c.string(0)?;
    let prefix = c.string(1)?;
    Ok(Value::from(text.strip_prefix(&prefix).unwrap_or(&text)))
}

fn trimsuffix(c: &Call<'_>) -> Result<Value, FunctionError> {
    let text = c.string(0)?;
    let suffix = c.string(1)?;
    Ok(Value::from(text.strip_suffix(&suffix).unwrap_or(&text)))
}

fn replace(c: &Call<'_>) -> Result<Value, FunctionError> {
    let text = c.string(0)?;
    let search = c.string(1)?;
    let replacement = c.string(2)?;
    if search.len() > 1 && search.starts_with('/') && search.ends_with('/') {
        return Err(c.failed(format!(
            "regular expression patterns such as {search:?} are not supported; \
             use a plain substring"
        )));
    }
    Ok(Value::String(text.replace(&search, &replacement)))
}

fn substr(c: &Call<'_>) -> Result<Value, FunctionError> {
    let chars: Vec<char> = c.string(0)?.chars().collect();
    let offset = c.integer(1)?;
    let length = c.integer(2)?;
    let total = i64::try_from(chars.len()).unwrap_or(i64::MAX);
    // A negative offset counts from the end; a negative length takes the rest.
    let start = if offset < 0 {
        (total + offset).max(0)
    } else {
        offset
    };
    if start >= total {
        return Ok(Value::from(""));
    }
    let end = if length < 0 {
        total
    } else {
        start.saturating_add(length).min(total)
    };
    let (start, end) = (
        usize::try_from(start).unwrap_or(0),
        usize::try_from(end).unwrap_or(0),
    );
    Ok(Value::String(chars[start..end].iter().collect()))
}

fn startswith(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::Bool(c.string(0)?.starts_with(&c.string(1)?)))
}

fn endswith(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::Bool(c.string(0)?.ends_with(&c.string(1)?)))
}

fn strcontains(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::Bool(c.string(0)?.contains(&c.string(1)?)))
}

fn chomp(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::from(c.string(0)?.trim_end_matches(['\r', '\n'])))
}

fn indent(c: &Call<'_>) -> Result<Value, FunctionError> {
    let spaces = c.integer(0)?;
    let spaces = usize::try_from(spaces)
        .map_err(|_| c.arg_error(0, format!("expected a non-negative number, got {spaces}")))?;
    let pad = format!("\n{}", " ".repeat(spaces));
    Ok(Value::String(c.string(1)?.replace('\n', &pad)))
}

fn strrev(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::String(c.string(0)?.chars().rev().collect()))
}

fn urlencode(c: &Call<'_>) -> Result<Value, FunctionError> {
    // Go's url.QueryEscape: unreserved characters stay, space becomes '+', the rest is
    // percent-encoded byte by byte.
    let mut out = String::new();
    for byte in c.string(0)?.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    Ok(Value::String(out))
}

// ---------------------------------------------------------------------------------------------
// format(): Terraform's printf verbs
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Verb<'s> {
    raw: &'s str,
    offset: usize,
    mode: char,
    minus: bool,
    plus: bool,
    zero: bool,
    space: bool,
    sharp: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

/// Formats `args` by `spec`; the error is a message for [`FunctionError::Failed`].
fn format_values(spec: &str, args: &[Value]) -> Result<String, String> {
    let chars: Vec<(usize, char)> = spec.char_indices().collect();
    let byte_at = |i: usize| chars.get(i).map_or(spec.len(), |(b, _)| *b);
    let char_at = |i: usize| chars.get(i).map(|(_, ch)| *ch);
    let mut out = String::new();
    let mut next_arg = 0;
    let mut used = 0;
    let mut i = 0;
    while let Some(ch) = char_at(i) {
        i += 1;
        if ch != '%' {
            out.push(ch);
            continue;
        }
        if char_at(i) == Some('%') {
            out.push('%');
            i += 1;
            continue;
        }
        let start = i - 1;
        let mut verb = Verb {
            offset: byte_at(start),
            ..Verb::default()
        };
        let invalid = || {
            format!(
                "invalid format string starting at offset {}",
                byte_at(start)
            )
        };
        while let Some(flag) = char_at(i) {
            match flag {
                '-' => verb.minus = true,
                '+' => verb.plus = true,
                '0' => verb.zero = true,
                ' ' => verb.space = true,
                '#' => verb.sharp = true,
                _ => break,
            }
            i += 1;
        }
        if char_at(i) == Some('[') {
            let digits_from = i + 1;
            i = digits_from;
            while char_at(i).is_some_and(|d| d.is_ascii_digit()) {
                i += 1;
            }
            let index: usize = spec[byte_at(digits_from)..byte_at(i)]
                .parse()
                .map_err(|_| invalid())?;
            if char_at(i) != Some(']') || index == 0 {
                return Err(invalid());
            }
            i += 1;
            next_arg = index - 1;
        }
        let digits = |i: &mut usize| {
            let from = *i;
            while char_at(*i).is_some_and(|d| d.is_ascii_digit()) {
                *i += 1;
            }
            spec[byte_at(from)..byte_at(*i)].parse::<usize>().ok()
        };
        verb.width = digits(&mut i);
        if char_at(i) == Some('.') {
            i += 1;
            verb.precision = Some(digits(&mut i).ok_or_else(invalid)?);
        }
        verb.mode = char_at(i).ok_or_else(invalid)?;
        i += 1;
        verb.raw = &spec[byte_at(start)..byte_at(i)];
        let arg = args.get(next_arg).ok_or_else(|| {
            format!(
                "not enough arguments for {:?} at {}: need index {} but have {} total",
                verb.raw,
                verb.offset,
                next_arg + 1,
                args.len()
            )
        })?;
        next_arg += 1;
        used = used.max(next_arg);
        out.push_str(&format_verb(&verb, arg)?);
    }
    if used < args.len() {
        return Err(if used == 0 {
            "too many arguments; no verbs in format string".to_string()
        } else {
            format!("too many arguments; only {used} used by format string")
        });
    }
    Ok(out)
}

fn format_verb(verb: &Verb<'_>, arg: &Value) -> Result<String, String> {
    let unsupported = |why: &str| {
        format!(
            "unsupported value for {:?} at {}: {why}",
            verb.raw, verb.offset
        )
    };
    if verb.mode != 'v' && arg.is_null() {
        return Err(unsupported("null value cannot be formatted"));
    }
    match verb.mode {
        'v' => {
            let text = match arg {
                Value::String(s) if !verb.sharp => s.clone(),
                // Terraform prints numbers here with Go's shortest %g, so 1000000 becomes
                // "1e+06"; configurations ported from Terraform expect the same text.
                Value::Number(n) if !verb.sharp => {
                    let f = n.as_f64().unwrap_or(0.0);
                    let sign = if f < 0.0 { "-" } else { "" };
                    format!("{sign}{}", shortest_g(f.abs(), false))
                }
                other => json_encode(other),
            };
            Ok(pad(verb, text))
        }
        't' => coerce_bool(arg)
            .map(|b| pad(verb, b.to_string()))
            .ok_or_else(|| unsupported("bool required")),
        's' | 'q' => {
            let mut text = primitive_string(arg).ok_or_else(|| unsupported("string required"))?;
            if let Some(precision) = verb.precision {
                text = text.chars().take(precision).collect();
            }
            if verb.mode == 'q' {
                text = json_encode(&Value::String(text));
            }
            Ok(pad(verb, text))
        }
        'b' | 'd' | 'o' | 'x' | 'X' => {
            let n = coerce_number(arg).ok_or_else(|| unsupported("number required"))?;
            let n = exact_integer(&n).ok_or_else(|| unsupported("an integer is required"))?;
            Ok(format_integer(verb, n))
        }
        'e' | 'E' | 'f' | 'g' | 'G' => {
            let n = coerce_number(arg)
                .and_then(|n| n.as_f64())
                .ok_or_else(|| unsupported("number required"))?;
            Ok(format_float(verb, n))
        }
        other => Err(format!(
            "unsupported format verb {other:?} in {:?} at offset {}",
            verb.raw, verb.offset
        )),
    }
}

fn exact_integer(n: &Number) -> Option<i128> {
    if let Some(i) = n.as_i64() {
        return Some(i.into());
    }
    if let Some(u) = n.as_u64() {
        return Some(u.into());
    }
    let f = n.as_f64()?;
    #[allow(clippy::cast_possible_truncation)]
    (f.fract() == 0.0 && f.abs() < 1.0e38).then_some(f as i128)
}

fn format_integer(verb: &Verb<'_>, n: i128) -> String {
    let magnitude = n.unsigned_abs();
    let (mut digits, prefix) = match verb.mode {
        'b' => (format!("{magnitude:b}"), "0b"),
        'o' => (format!("{magnitude:o}"), "0"),
        'x' => (format!("{magnitude:x}"), "0x"),
        'X' => (format!("{magnitude:X}"), "0X"),
        _ => (magnitude.to_string(), ""),
    };
    // For integers Go treats precision as a minimum number of digits.
    if let Some(precision) = verb.precision
        && digits.len() < precision
    {
        digits = format!("{}{digits}", "0".repeat(precision - digits.len()));
    }
    if verb.sharp {
        digits = format!("{prefix}{digits}");
    }
    pad_number(verb, n < 0, digits)
}

fn format_float(verb: &Verb<'_>, n: f64) -> String {
    let magnitude = n.abs();
    let upper = matches!(verb.mode, 'E' | 'G');
    let body = match verb.mode {
        'f' => format!("{magnitude:.*}", verb.precision.unwrap_or(6)),
        'e' | 'E' => exponent_form(
            &format!("{magnitude:.*e}", verb.precision.unwrap_or(6)),
            upper,
        ),
        _ => match verb.precision {
            // Go's %g: exponent form when the exponent is below -4 or at least the
            // precision (6 when printing the shortest representation).
            None => shortest_g(magnitude, upper),
            Some(precision) => {
                let precision = precision.max(1);
                let rounded = format!("{magnitude:.*e}", precision - 1);
                let exponent = split_exponent(&rounded).1;
                let limit = i64::try_from(precision).unwrap_or(i64::MAX);
                let text = if exponent < -4 || exponent >= limit {
                    exponent_form(&rounded, upper)
                } else {
                    let decimals = usize::try_from(limit - 1 - exponent).unwrap_or(0);
                    format!("{magnitude:.decimals$}")
                };
                if verb.sharp {
                    text
                } else {
                    trim_fraction_zeros(&text)
                }
            }
        },
    };
    pad_number(verb, n.is_sign_negative() && n != 0.0, body)
}

/// Go's %g without a precision: the shortest digits, in exponent form when the exponent is
/// below -4 or at least 6.
fn shortest_g(magnitude: f64, upper: bool) -> String {
    let shortest = format!("{magnitude:e}");
    let exponent = split_exponent(&shortest).1;
    if magnitude != 0.0 && !(-4..6).contains(&exponent) {
        exponent_form(&shortest, upper)
    } else {
        format!("{magnitude}")
    }
}

/// Splits Rust's `1.5e3` into mantissa and exponent.
fn split_exponent(text: &str) -> (&str, i64) {
    match text.split_once('e') {
        Some((mantissa, exponent)) => (mantissa, exponent.parse().unwrap_or(0)),
        None => (text, 0),
    }
}

/// Rewrites Rust's `1.5e3` as Go's `1.5e+03`.
fn exponent_form(text: &str, upper: bool) -> String {
    let (mantissa, exponent) = split_exponent(text);
    let sign = if exponent < 0 { '-' } else { '+' };
    let e = if upper { 'E' } else { 'e' };
    format!("{mantissa}{e}{sign}{:02}", exponent.abs())
}

/// Drops trailing zeros after a decimal point, as %g does: `1.500` → `1.5`, `2.0e+03` → `2e+03`.
fn trim_fraction_zeros(text: &str) -> String {
    let (number, exponent) = match text.find(['e', 'E']) {
        Some(at) => text.split_at(at),
        None => (text, ""),
    };
    let number = if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        number
    };
    format!("{number}{exponent}")
}

/// Adds the sign and pads a formatted number; zero padding goes between sign and digits.
fn pad_number(verb: &Verb<'_>, negative: bool, digits: String) -> String {
    let sign = if negative {
        "-"
    } else if verb.plus {
        "+"
    } else if verb.space {
        " "
    } else {
        ""
    };
    let len = sign.len() + digits.chars().count();
    // Unlike strings, numbers never take zeros on the right: `-` wins over `0`.
    match verb.width {
        Some(width) if width > len => {
            let fill = width - len;
            if verb.minus {
                format!("{sign}{digits}{}", " ".repeat(fill))
            } else if verb.zero {
                format!("{sign}{}{digits}", "0".repeat(fill))
            } else {
                format!("{}{sign}{digits}", " ".repeat(fill))
            }
        }
        _ => format!("{sign}{digits}"),
    }
}

/// Pads to the verb's width; Terraform pads with zeros under the `0` flag even for strings.
fn pad(verb: &Verb<'_>, text: String) -> String {
    let len = text.chars().count();
    match verb.width {
        Some(width) if width > len => {
            let fill = if verb.zero { "0" } else { " " }.repeat(width - len);
            if verb.minus {
                format!("{text}{fill}")
            } else {
                format!("{fill}{text}")
            }
        }
        _ => text,
    }
}

// ---------------------------------------------------------------------------------------------
// Collection functions
// ---------------------------------------------------------------------------------------------

fn length(c: &Call<'_>) -> Result<Value, FunctionError> {
    let n = match &c.args[0] {
        Value::String(s) => s.chars().count(),
        Value::List(items) => items.len(),
        Value::Map(entries) => entries.len(),
        other => {
            return Err(c.arg_error(0, expected("string, list or object", other)));
        }
    };
    Ok(Value::from_i64(i64::try_from(n).unwrap_or(i64::MAX)))
}

fn concat(c: &Call<'_>) -> Result<Value, FunctionError> {
    let mut out = Vec::new();
    for i in 0..c.args.len() {
        out.extend_from_slice(c.list(i)?);
    }
    Ok(Value::List(out))
}

fn merge(c: &Call<'_>) -> Result<Value, FunctionError> {
    let mut out = BTreeMap::new();
    for (i, arg) in c.args.iter().enumerate() {
        if arg.is_null() {
            continue;
        }
        out.extend(c.map(i)?.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    Ok(Value::Map(out))
}

fn lookup(c: &Call<'_>) -> Result<Value, FunctionError> {
    let map = c.map(0)?;
    let key = c.string(1)?;
    match (map.get(&key), c.args.get(2)) {
        (Some(found), _) => Ok(found.clone()),
        (None, Some(default)) => Ok(default.clone()),
        (None, None) => Err(c.failed(format!(
            "lookup failed to find key {key:?}; pass a default as the third argument \
             if the key may be missing"
        ))),
    }
}

fn keys(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::List(
        c.map(0)?.keys().map(|k| Value::String(k.clone())).collect(),
    ))
}

fn values(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::List(c.map(0)?.values().cloned().collect()))
}

fn contains(c: &Call<'_>) -> Result<Value, FunctionError> {
    let needle = &c.args[1];
    Ok(Value::Bool(
        c.list(0)?.iter().any(|item| loosely_equal(item, needle)),
    ))
}

fn element(c: &Call<'_>) -> Result<Value, FunctionError> {
    let items = c.list(0)?;
    let index = c.integer(1)?;
    let index = usize::try_from(index)
        .map_err(|_| c.failed("cannot use element function with a negative index"))?;
    if items.is_empty() {
        return Err(c.failed("cannot use element function with an empty list"));
    }
    // Terraform's element wraps around instead of failing past the end.
    Ok(items[index % items.len()].clone())
}

fn index(c: &Call<'_>) -> Result<Value, FunctionError> {
    let needle = &c.args[1];
    c.list(0)?
        .iter()
        .position(|item| loosely_equal(item, needle))
        .map(|at| Value::from_i64(i64::try_from(at).unwrap_or(i64::MAX)))
        .ok_or_else(|| c.failed("item not found"))
}

fn flatten(c: &Call<'_>) -> Result<Value, FunctionError> {
    fn walk(items: &[Value], out: &mut Vec<Value>) {
        for item in items {
            match item {
                Value::List(inner) => walk(inner, out),
                other => out.push(other.clone()),
            }
        }
    }
    let mut out = Vec::new();
    walk(c.list(0)?, &mut out);
    Ok(Value::List(out))
}

fn distinct(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::List(distinct_values(c.list(0)?)))
}

/// The first occurrence of each value, in order.
fn distinct_values(items: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        if !out.iter().any(|seen| values_equal(seen, item)) {
            out.push(item.clone());
        }
    }
    out
}

fn reverse(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::List(c.list(0)?.iter().rev().cloned().collect()))
}

fn sort(c: &Call<'_>) -> Result<Value, FunctionError> {
    let mut strings = c
        .list(0)?
        .iter()
        .enumerate()
        .map(|(j, item)| c.element_string(0, j, item))
        .collect::<Result<Vec<_>, _>>()?;
    strings.sort();
    Ok(Value::List(
        strings.into_iter().map(Value::String).collect(),
    ))
}

fn range(c: &Call<'_>) -> Result<Value, FunctionError> {
    let numbers = (0..c.args.len())
        .map(|i| c.number(i))
        .collect::<Result<Vec<_>, _>>()?;
    let (start, limit, step) = match numbers[..] {
        [limit] => (0.0, limit, if limit < 0.0 { -1.0 } else { 1.0 }),
        [start, limit] => (start, limit, if limit < start { -1.0 } else { 1.0 }),
        [start, limit, step] => (start, limit, step),
        _ => return Err(c.failed("must have one, two, or three arguments")),
    };
    if step == 0.0 {
        return Err(c.arg_error(2, "step must not be zero"));
    }
    if step < 0.0 && limit > start {
        return Err(c.arg_error(1, "end must be less than start when step is negative"));
    }
    if step > 0.0 && limit < start {
        return Err(c.arg_error(1, "end must be greater than start when step is positive"));
    }
    let mut out = Vec::new();
    loop {
        // Multiplying rather than adding repeatedly keeps fractional steps from drifting.
        #[allow(clippy::cast_precision_loss)]
        let n = start + step * out.len() as f64;
        if (step > 0.0 && n >= limit) || (step < 0.0 && n <= limit) {
            break;
        }
        if out.len() >= 1024 {
            return Err(c.failed(
                "more than 1024 values were generated; either decrease the difference \
                 between start and end or use a larger step",
            ));
        }
        out.push(Value::from_f64(n));
    }
    Ok(Value::List(out))
}

fn coalesce(c: &Call<'_>) -> Result<Value, FunctionError> {
    for arg in &c.args {
        match arg {
            // An unknown value may turn out to be the first non-empty one.
            Value::Unknown => return Ok(Value::Unknown),
            Value::Null => {}
            Value::String(s) if s.is_empty() => {}
            found => {
                // Terraform unifies the arguments' types first, so a number chosen among
                // strings comes back as a string.
                let among_strings = c.args.iter().any(|a| matches!(a, Value::String(_)));
                return Ok(match primitive_string(found) {
                    Some(text) if among_strings => Value::String(text),
                    _ => found.clone(),
                });
            }
        }
    }
    Err(c.failed("no non-null, non-empty-string arguments"))
}

fn coalescelist(c: &Call<'_>) -> Result<Value, FunctionError> {
    for (i, arg) in c.args.iter().enumerate() {
        if arg.is_null() {
            continue;
        }
        if !c.list(i)?.is_empty() {
            return Ok(arg.clone());
        }
    }
    Err(c.failed("no non-null arguments"))
}

fn zipmap(c: &Call<'_>) -> Result<Value, FunctionError> {
    let keys = c.list(0)?;
    let values = c.list(1)?;
    if keys.iter().any(Value::is_unknown) {
        return Ok(Value::Unknown);
    }
    if keys.len() != values.len() {
        return Err(c.failed(format!(
            "number of keys ({}) does not match number of values ({})",
            keys.len(),
            values.len()
        )));
    }
    let mut out = BTreeMap::new();
    for (j, (key, value)) in keys.iter().zip(values).enumerate() {
        out.insert(c.element_string(0, j, key)?, value.clone());
    }
    Ok(Value::Map(out))
}

fn compact(c: &Call<'_>) -> Result<Value, FunctionError> {
    let mut out = Vec::new();
    for (j, item) in c.list(0)?.iter().enumerate() {
        if item.is_null() {
            continue;
        }
        let text = c.element_string(0, j, item)?;
        if !text.is_empty() {
            out.push(Value::String(text));
        }
    }
    Ok(Value::List(out))
}

fn chunklist(c: &Call<'_>) -> Result<Value, FunctionError> {
    let items = c.list(0)?;
    let size = c.integer(1)?;
    let size =
        usize::try_from(size).map_err(|_| c.arg_error(1, "the size argument must be positive"))?;
    if items.is_empty() {
        return Ok(Value::List(Vec::new()));
    }
    // Terraform treats a size of 0 as "one chunk holding everything".
    if size == 0 {
        return Ok(Value::List(vec![Value::List(items.to_vec())]));
    }
    Ok(Value::List(
        items
            .chunks(size)
            .map(|chunk| Value::List(chunk.to_vec()))
            .collect(),
    ))
}

fn slice(c: &Call<'_>) -> Result<Value, FunctionError> {
    let items = c.list(0)?;
    let start = c.integer(1)?;
    let end = c.integer(2)?;
    let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
    if start < 0 {
        return Err(c.arg_error(1, "start index must not be less than zero"));
    }
    if start > len {
        return Err(c.arg_error(
            1,
            "start index must not be greater than the length of the list",
        ));
    }
    if end < 0 {
        return Err(c.arg_error(2, "end index must not be less than zero"));
    }
    if end > len {
        return Err(c.arg_error(
            2,
            "end index must not be greater than the length of the list",
        ));
    }
    if start > end {
        return Err(c.arg_error(1, "start index must not be greater than end index"));
    }
    let (start, end) = (
        usize::try_from(start).unwrap_or(0),
        usize::try_from(end).unwrap_or(0),
    );
    Ok(Value::List(items[start..end].to_vec()))
}

fn one(c: &Call<'_>) -> Result<Value, FunctionError> {
    match c.list(0)? {
        [] => Ok(Value::Null),
        [only] => Ok(only.clone()),
        more => Err(c.arg_error(
            0,
            format!(
                "must be a list with either zero or one elements, got {}",
                more.len()
            ),
        )),
    }
}

fn alltrue(c: &Call<'_>) -> Result<Value, FunctionError> {
    let mut result = Value::Bool(true);
    for (j, item) in c.list(0)?.iter().enumerate() {
        match item {
            // A known false decides the result even when other elements are unknown.
            Value::Unknown => result = Value::Unknown,
            Value::Null => return Ok(Value::Bool(false)),
            other => {
                let b = coerce_bool(other).ok_or_else(|| {
                    c.arg_error(0, format!("element {j}: {}", expected("bool", other)))
                })?;
                if !b {
                    return Ok(Value::Bool(false));
                }
            }
        }
    }
    Ok(result)
}

fn anytrue(c: &Call<'_>) -> Result<Value, FunctionError> {
    let mut result = Value::Bool(false);
    for (j, item) in c.list(0)?.iter().enumerate() {
        match item {
            Value::Unknown => result = Value::Unknown,
            Value::Null => {}
            other => {
                let b = coerce_bool(other).ok_or_else(|| {
                    c.arg_error(0, format!("element {j}: {}", expected("bool", other)))
                })?;
                if b {
                    return Ok(Value::Bool(true));
                }
            }
        }
    }
    Ok(result)
}

// ---------------------------------------------------------------------------------------------
// Numeric functions
// ---------------------------------------------------------------------------------------------

fn abs(c: &Call<'_>) -> Result<Value, FunctionError> {
    c.number_value(c.number(0)?.abs())
}

fn ceil(c: &Call<'_>) -> Result<Value, FunctionError> {
    c.number_value(c.number(0)?.ceil())
}

fn floor(c: &Call<'_>) -> Result<Value, FunctionError> {
    c.number_value(c.number(0)?.floor())
}

fn signum(c: &Call<'_>) -> Result<Value, FunctionError> {
    let n = c.number(0)?;
    // f64::signum(0.0) is 1; Terraform's signum(0) is 0.
    c.number_value(if n == 0.0 { 0.0 } else { n.signum() })
}

fn pow(c: &Call<'_>) -> Result<Value, FunctionError> {
    c.number_value(c.number(0)?.powf(c.number(1)?))
}

fn min(c: &Call<'_>) -> Result<Value, FunctionError> {
    let numbers = (0..c.args.len())
        .map(|i| c.number(i))
        .collect::<Result<Vec<_>, _>>()?;
    c.number_value(numbers.into_iter().fold(f64::INFINITY, f64::min))
}

fn max(c: &Call<'_>) -> Result<Value, FunctionError> {
    let numbers = (0..c.args.len())
        .map(|i| c.number(i))
        .collect::<Result<Vec<_>, _>>()?;
    c.number_value(numbers.into_iter().fold(f64::NEG_INFINITY, f64::max))
}

fn sum(c: &Call<'_>) -> Result<Value, FunctionError> {
    let items = c.list(0)?;
    if items.is_empty() {
        return Err(c.failed("cannot sum an empty list"));
    }
    let mut total = 0.0;
    for (j, item) in items.iter().enumerate() {
        total += c.element_number(0, j, item)?;
    }
    c.number_value(total)
}

fn parseint(c: &Call<'_>) -> Result<Value, FunctionError> {
    let Value::String(text) = &c.args[0] else {
        return Err(c.arg_error(0, expected("string", &c.args[0])));
    };
    let base = c.integer(1)?;
    let base = u32::try_from(base)
        .ok()
        .filter(|b| (2..=62).contains(b))
        .ok_or_else(|| {
            c.arg_error(
                1,
                format!("base must be a whole number between 2 and 62 inclusive, got {base}"),
            )
        })?;
    let cannot = || c.failed(format!("cannot parse {text:?} as a base {base} integer"));
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty() {
        return Err(cannot());
    }
    let mut n: i128 = 0;
    for ch in digits.chars() {
        // Go's big.Int digits: case-insensitive letters up to base 36, then a-z are 10-35
        // and A-Z are 36-61.
        let digit = match ch {
            '0'..='9' => u32::from(ch) - u32::from('0'),
            'a'..='z' => u32::from(ch) - u32::from('a') + 10,
            'A'..='Z' if base <= 36 => u32::from(ch) - u32::from('A') + 10,
            'A'..='Z' => u32::from(ch) - u32::from('A') + 36,
            _ => return Err(cannot()),
        };
        if digit >= base {
            return Err(cannot());
        }
        n = n
            .checked_mul(i128::from(base))
            .and_then(|n| n.checked_add(i128::from(digit)))
            .ok_or_else(|| c.failed(format!("{text:?} is too large to represent")))?;
    }
    let n = if negative { -n } else { n };
    if let Ok(i) = i64::try_from(n) {
        Ok(Value::from_i64(i))
    } else if let Ok(u) = u64::try_from(n) {
        Ok(Value::Number(Number::from(u)))
    } else {
        Err(c.failed(format!("{text:?} is too large to represent")))
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding functions
// ---------------------------------------------------------------------------------------------

fn jsonencode(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::String(json_encode(&c.args[0])))
}

fn jsondecode(c: &Call<'_>) -> Result<Value, FunctionError> {
    let text = c.string(0)?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| c.failed(format!("invalid JSON: {e}")))?;
    Ok(Value::from_json(&json))
}

/// Compact JSON as Terraform writes it: integral numbers without `.0`, and `<`, `>`, `&`,
/// U+2028 and U+2029 escaped so the output is safe to embed in HTML and JavaScript.
fn json_encode(value: &Value) -> String {
    let mut out = String::new();
    write_json(value, &mut out);
    out
}

fn write_json(value: &Value, out: &mut String) {
    match value {
        Value::Null | Value::Unknown => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number_to_string(n)),
        Value::String(s) => write_json_string(s, out),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(key, out);
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(ch)));
            }
            ch if u32::from(ch) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(ch))),
            ch => out.push(ch),
        }
    }
    out.push('"');
}

fn base64encode(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::String(BASE64.encode(c.string(0)?)))
}

fn base64decode(c: &Call<'_>) -> Result<Value, FunctionError> {
    let text = c.string(0)?;
    let bytes = BASE64
        .decode(&text)
        .map_err(|e| c.failed(format!("failed to decode base64 data {text:?}: {e}")))?;
    String::from_utf8(bytes)
        .map(Value::String)
        .map_err(|_| c.failed("the result of decoding the provided string is not valid UTF-8"))
}

fn sha256(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::String(hex::encode(Sha256::digest(c.string(0)?))))
}

fn sha512(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::String(hex::encode(Sha512::digest(c.string(0)?))))
}

fn base64sha256(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::String(BASE64.encode(Sha256::digest(c.string(0)?))))
}

// ---------------------------------------------------------------------------------------------
// Filesystem functions
// ---------------------------------------------------------------------------------------------

fn read_file(c: &Call<'_>) -> Result<Vec<u8>, FunctionError> {
    let path = c.ctx.base_dir.join(c.string(0)?);
    std::fs::read(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            c.failed(format!(
                "no file exists at \"{}\"; this function works only with files that are part \
                 of the configuration, so if the file will be created by a resource, use an \
                 attribute of that resource instead",
                path.display()
            ))
        } else {
            c.failed(format!("failed to read \"{}\": {e}", path.display()))
        }
    })
}

fn file(c: &Call<'_>) -> Result<Value, FunctionError> {
    let bytes = read_file(c)?;
    String::from_utf8(bytes).map(Value::String).map_err(|_| {
        c.failed(format!(
            "the contents of \"{}\" are not valid UTF-8; use filebase64 to read binary files",
            c.ctx
                .base_dir
                .join(primitive_string(&c.args[0]).unwrap_or_default())
                .display()
        ))
    })
}

fn filebase64(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::String(BASE64.encode(read_file(c)?)))
}

fn fileexists(c: &Call<'_>) -> Result<Value, FunctionError> {
    let path = c.ctx.base_dir.join(c.string(0)?);
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => Ok(Value::Bool(true)),
        Ok(_) => Err(c.failed(format!("\"{}\" is not a regular file", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Value::Bool(false)),
        Err(e) => Err(c.failed(format!("failed to stat \"{}\": {e}", path.display()))),
    }
}

fn abspath(c: &Call<'_>) -> Result<Value, FunctionError> {
    let mut path = c.ctx.base_dir.join(c.string(0)?);
    if path.is_relative() {
        let cwd = std::env::current_dir()
            .map_err(|e| c.failed(format!("cannot determine the current directory: {e}")))?;
        path = cwd.join(path);
    }
    Ok(Value::String(clean_path(&path.to_string_lossy())))
}

fn basename(c: &Call<'_>) -> Result<Value, FunctionError> {
    // Go's filepath.Base: trailing slashes do not count, "" is ".", and "/" stays "/".
    let path = c.string(0)?;
    if path.is_empty() {
        return Ok(Value::from("."));
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(Value::from("/"));
    }
    Ok(Value::from(
        trimmed.rsplit_once('/').map_or(trimmed, |(_, base)| base),
    ))
}

fn dirname(c: &Call<'_>) -> Result<Value, FunctionError> {
    // Go's filepath.Dir: everything up to the last slash, cleaned.
    let path = c.string(0)?;
    let dir = path.rfind('/').map_or("", |at| &path[..=at]);
    Ok(Value::String(clean_path(dir)))
}

/// Go's path.Clean: removes `.` and empty segments and resolves `..` lexically.
fn clean_path(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(last) if *last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

// ---------------------------------------------------------------------------------------------
// Type conversion functions
// ---------------------------------------------------------------------------------------------

fn tostring(c: &Call<'_>) -> Result<Value, FunctionError> {
    match &c.args[0] {
        Value::Null => Ok(Value::Null),
        other => primitive_string(other)
            .map(Value::String)
            .ok_or_else(|| c.arg_error(0, format!("cannot convert {} to string", other.kind()))),
    }
}

fn tonumber(c: &Call<'_>) -> Result<Value, FunctionError> {
    match &c.args[0] {
        Value::Null => Ok(Value::Null),
        Value::String(s) => coerce_number(&c.args[0]).map(Value::Number).ok_or_else(|| {
            c.arg_error(
                0,
                format!(
                    "cannot convert {s:?} to number; the string must be a decimal \
                     representation of a number"
                ),
            )
        }),
        Value::Number(n) => Ok(Value::Number(n.clone())),
        other => Err(c.arg_error(0, format!("cannot convert {} to number", other.kind()))),
    }
}

fn tobool(c: &Call<'_>) -> Result<Value, FunctionError> {
    match &c.args[0] {
        Value::Null => Ok(Value::Null),
        Value::String(s) if coerce_bool(&c.args[0]).is_none() => Err(c.arg_error(
            0,
            format!(
                "cannot convert {s:?} to bool; only the strings \"true\" and \"false\" are allowed"
            ),
        )),
        other => coerce_bool(other)
            .map(Value::Bool)
            .ok_or_else(|| c.arg_error(0, format!("cannot convert {} to bool", other.kind()))),
    }
}

fn tolist(c: &Call<'_>) -> Result<Value, FunctionError> {
    match &c.args[0] {
        Value::Null => Ok(Value::Null),
        Value::List(items) => Ok(Value::List(unify(c, 0, items.clone())?)),
        other => Err(c.arg_error(0, format!("cannot convert {} to list", other.kind()))),
    }
}

fn tomap(c: &Call<'_>) -> Result<Value, FunctionError> {
    match &c.args[0] {
        Value::Null => Ok(Value::Null),
        Value::Map(entries) => {
            let keys: Vec<String> = entries.keys().cloned().collect();
            let values = unify(c, 0, entries.values().cloned().collect())?;
            Ok(Value::Map(keys.into_iter().zip(values).collect()))
        }
        other => Err(c.arg_error(0, format!("cannot convert {} to map", other.kind()))),
    }
}

fn toset(c: &Call<'_>) -> Result<Value, FunctionError> {
    let items = match &c.args[0] {
        Value::Null => return Ok(Value::Null),
        Value::List(items) => unify(c, 0, items.clone())?,
        other => return Err(c.arg_error(0, format!("cannot convert {} to set", other.kind()))),
    };
    let mut set = distinct_values(&items);
    // Terraform orders sets of strings lexically and sets of numbers numerically.
    if set.iter().all(|v| matches!(v, Value::String(_))) {
        set.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    } else if set.iter().all(|v| matches!(v, Value::Number(_))) {
        set.sort_by(|a, b| {
            a.as_f64()
                .partial_cmp(&b.as_f64())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    Ok(Value::List(set))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, args: Vec<Value>) -> Result<Value, FunctionError> {
        let ctx = FunctionContext {
            base_dir: Path::new("/srv/config"),
        };
        call(&ctx, name, args)
    }

    fn ok(name: &str, args: Vec<Value>) -> Value {
        match run(name, args) {
            Ok(v) => v,
            Err(e) => panic!("{name}() failed: {e}"),
        }
    }

    fn err(name: &str, args: Vec<Value>) -> FunctionError {
        match run(name, args) {
            Ok(v) => panic!("{name}() unexpectedly returned {v:?}"),
            Err(e) => e,
        }
    }

    fn s(text: &str) -> Value {
        Value::from(text)
    }

    fn n(i: i64) -> Value {
        Value::from_i64(i)
    }

    fn fl(f: f64) -> Value {
        Value::from_f64(f)
    }

    fn strs(items: &[&str]) -> Value {
        Value::List(items.iter().map(|t| s(t)).collect())
    }

    fn nums(items: &[i64]) -> Value {
        Value::List(items.iter().map(|i| n(*i)).collect())
    }

    fn list(items: Vec<Value>) -> Value {
        Value::List(items)
    }

    fn map(entries: &[(&str, Value)]) -> Value {
        Value::map(entries.iter().cloned())
    }

    fn message(e: &FunctionError) -> String {
        e.to_string()
    }

    // --- dispatch ---------------------------------------------------------------------------

    #[test]
    fn names_are_sorted_unique_and_all_callable() {
        let all = names();
        assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");
        assert_eq!(all.len(), FUNCTIONS.len());
        for name in all {
            let result = run(name, Vec::new());
            assert!(
                !matches!(result, Err(FunctionError::Unknown { .. })),
                "{name} is listed but not callable"
            );
        }
    }

    #[test]
    fn unknown_function_suggests_closest_name() {
        assert_eq!(
            err("jsonencod", vec![s("x")]),
            FunctionError::Unknown {
                name: "jsonencod".to_string(),
                suggestion: Some("jsonencode".to_string()),
            }
        );
        assert_eq!(
            message(&err("jsonencod", vec![])),
            "there is no function named \"jsonencod\""
        );
        match err("frobnicate_everything", vec![]) {
            FunctionError::Unknown { suggestion, .. } => assert_eq!(suggestion, None),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn arity_errors_describe_expected_counts() {
        assert_eq!(
            err("upper", vec![]),
            FunctionError::Arity {
                name: "upper".to_string(),
                expected: "1".to_string(),
                got: 0,
            }
        );
        assert_eq!(
            message(&err("lookup", vec![s("a")])),
            "lookup() takes 2 or 3 argument(s), got 1"
        );
        assert_eq!(
            message(&err("range", vec![n(1), n(2), n(3), n(4)])),
            "range() takes 1 to 3 argument(s), got 4"
        );
        assert_eq!(
            message(&err("concat", vec![])),
            "concat() takes at least 1 argument(s), got 0"
        );
    }

    #[test]
    fn type_errors_name_argument_and_kinds() {
        assert_eq!(
            err("upper", vec![strs(&["a"])]),
            FunctionError::Argument {
                name: "upper".to_string(),
                index: 1,
                message: "expected string, got list".to_string(),
            }
        );
        assert_eq!(
            message(&err("abs", vec![s("abc")])),
            "argument 1 of abs(): expected number, got string \"abc\""
        );
        assert_eq!(
            message(&err("join", vec![s(","), list(vec![s("a"), Value::Null])])),
            "argument 2 of join(): element 1: expected string, got null"
        );
        assert_eq!(
            message(&err("keys", vec![strs(&["a"])])),
            "argument 1 of keys(): expected object, got list"
        );
        assert!(matches!(
            err("lower", vec![Value::Null]),
            FunctionError::Argument { index: 1, .. }
        ));
    }

    #[test]
    fn unknown_arguments_propagate() {
        assert_eq!(ok("upper", vec![Value::Unknown]), Value::Unknown);
        assert_eq!(
            ok("join", vec![s(","), list(vec![s("a"), Value::Unknown])]),
            Value::Unknown
        );
        assert_eq!(
            ok("jsonencode", vec![map(&[("a", Value::Unknown)])]),
            Value::Unknown
        );
        assert_eq!(ok("format", vec![s("%s"), Value::Unknown]), Value::Unknown);
        assert_eq!(ok("length", vec![Value::Unknown]), Value::Unknown);
        // Known structure with unknown elements: the length is still known.
        assert_eq!(ok("length", vec![list(vec![Value::Unknown, n(1)])]), n(2));
        assert_eq!(
            ok("concat", vec![list(vec![Value::Unknown]), nums(&[1])]),
            list(vec![Value::Unknown, n(1)])
        );
        assert_eq!(
            ok(
                "lookup",
                vec![map(&[("a", n(1)), ("b", Value::Unknown)]), s("a")]
            ),
            n(1)
        );
        assert_eq!(ok("merge", vec![map(&[]), Value::Unknown]), Value::Unknown);
        // Unknown checks come after arity checks.
        assert!(matches!(
            err("upper", vec![Value::Unknown, Value::Unknown]),
            FunctionError::Arity { .. }
        ));
    }

    // --- string -----------------------------------------------------------------------------

    #[test]
    fn format_verbs() {
        let f = |spec: &str, args: Vec<Value>| {
            let mut all = vec![s(spec)];
            all.extend(args);
            ok("format", all)
        };
        assert_eq!(f("Hello, %s!", vec![s("Ander")]), s("Hello, Ander!"));
        assert_eq!(
            f("There are %d lights", vec![n(4)]),
            s("There are 4 lights")
        );
        assert_eq!(f("%d", vec![s("12")]), s("12"));
        assert_eq!(f("%s %s", vec![n(1), Value::Bool(true)]), s("1 true"));
        assert_eq!(f("%.2f", vec![fl(1.23456)]), s("1.23"));
        assert_eq!(f("%f", vec![fl(1.5)]), s("1.500000"));
        assert_eq!(f("%8.3f|", vec![fl(-1.5)]), s("  -1.500|"));
        assert_eq!(f("%q", vec![s("a\"b")]), s("\"a\\\"b\""));
        assert_eq!(
            f("%v %v %v", vec![s("x"), n(2), Value::Null]),
            s("x 2 null")
        );
        assert_eq!(f("%v", vec![nums(&[1, 2])]), s("[1,2]"));
        assert_eq!(f("%#v", vec![s("x")]), s("\"x\""));
        assert_eq!(f("%t", vec![Value::Bool(false)]), s("false"));
        assert_eq!(f("100%%", vec![]), s("100%"));
        assert_eq!(f("%5s|%-5s|", vec![s("ab"), s("cd")]), s("   ab|cd   |"));
        assert_eq!(f("%05d", vec![n(-42)]), s("-0042"));
        assert_eq!(f("%+d", vec![n(5)]), s("+5"));
        assert_eq!(f("%-05d|", vec![n(3)]), s("3    |"));
        assert_eq!(f("%v %v", vec![fl(-2.5), n(1_000_000)]), s("-2.5 1e+06"));
        assert_eq!(
            f("%x %X %o %b", vec![n(255), n(255), n(8), n(5)]),
            s("ff FF 10 101")
        );
        assert_eq!(f("%#x", vec![n(255)]), s("0xff"));
        assert_eq!(f("%.3s", vec![s("abcdef")]), s("abc"));
        assert_eq!(f("%e", vec![fl(1234.5678)]), s("1.234568e+03"));
        assert_eq!(f("%g %g", vec![fl(0.5), n(1_000_000)]), s("0.5 1e+06"));
        assert_eq!(f("%.3g", vec![fl(1234.5678)]), s("1.23e+03"));
        assert_eq!(f("%[2]s %[1]s %s", vec![s("a"), s("b")]), s("b a b"));
    }

    #[test]
    fn format_errors() {
        assert_eq!(
            message(&err("format", vec![s("%s %s"), s("a")])),
            "format(): not enough arguments for \"%s\" at 3: need index 2 but have 1 total"
        );
        assert_eq!(
            message(&err("format", vec![s("%s"), s("a"), s("b")])),
            "format(): too many arguments; only 1 used by format string"
        );
        assert_eq!(
            message(&err("format", vec![s("%d"), fl(1.5)])),
            "format(): unsupported value for \"%d\" at 0: an integer is required"
        );
        assert_eq!(
            message(&err("format", vec![s("%s"), Value::Null])),
            "format(): unsupported value for \"%s\" at 0: null value cannot be formatted"
        );
        assert!(message(&err("format", vec![s("%z"), n(1)])).contains("unsupported format verb"));
        assert!(message(&err("format", vec![s("abc %")])).contains("invalid format string"));
    }

    #[test]
    fn formatlist_iterates_lists_and_repeats_scalars() {
        assert_eq!(
            ok(
                "formatlist",
                vec![s("Hello, %s! (%s)"), strs(&["Valentina", "Ander"]), s("x")]
            ),
            strs(&["Hello, Valentina! (x)", "Hello, Ander! (x)"])
        );
        assert_eq!(ok("formatlist", vec![s("%s"), strs(&[])]), strs(&[]));
        assert_eq!(ok("formatlist", vec![s("%s"), s("a")]), strs(&["a"]));
        assert!(matches!(
            err(
                "formatlist",
                vec![s("%s%s"), strs(&["a"]), strs(&["b", "c"])]
            ),
            FunctionError::Argument { index: 3, .. }
        ));
    }

    #[test]
    fn join_and_split() {
        assert_eq!(
            ok("join", vec![s(", "), strs(&["foo", "bar"]), nums(&[1])]),
            s("foo, bar, 1")
        );
        assert_eq!(ok("join", vec![s(","), strs(&[])]), s(""));
        assert_eq!(
            ok("split", vec![s(","), s("foo,bar,baz")]),
            strs(&["foo", "bar", "baz"])
        );
        assert_eq!(ok("split", vec![s(","), s("")]), strs(&[""]));
        assert_eq!(ok("split", vec![s(""), s("ab")]), strs(&["a", "b"]));
    }

    #[test]
    fn case_functions() {
        assert_eq!(ok("lower", vec![s("HELLO Ünï")]), s("hello ünï"));
        assert_eq!(ok("upper", vec![s("hello")]), s("HELLO"));
        assert_eq!(
            ok("title", vec![s("hello world-wide web_site")]),
            s("Hello World-Wide Web_site")
        );
    }

    #[test]
    fn trimming_functions() {
        assert_eq!(ok("trimspace", vec![s("  hello\n\t")]), s("hello"));
        assert_eq!(ok("trim", vec![s("?!hello?!"), s("!?")]), s("hello"));
        assert_eq!(
            ok("trimprefix", vec![s("helloworld"), s("hello")]),
            s("world")
        );
        assert_eq!(
            ok("trimprefix", vec![s("helloworld"), s("cat")]),
            s("helloworld")
        );
        assert_eq!(
            ok("trimsuffix", vec![s("helloworld"), s("world")]),
            s("hello")
        );
        assert_eq!(ok("chomp", vec![s("hello\r\n\n")]), s("hello"));
        assert_eq!(ok("chomp", vec![s("hello\nworld")]), s("hello\nworld"));
    }

    #[test]
    fn replace_substrings_and_rejects_regex() {
        assert_eq!(
            ok("replace", vec![s("1 + 2 + 3"), s("+"), s("-")]),
            s("1 - 2 - 3")
        );
        let e = err("replace", vec![s("hello"), s("/l+/"), s("L")]);
        assert!(matches!(e, FunctionError::Failed { .. }));
        assert!(message(&e).contains("not supported"));
    }

    #[test]
    fn substr_counts_characters() {
        assert_eq!(ok("substr", vec![s("hello world"), n(1), n(4)]), s("ello"));
        assert_eq!(ok("substr", vec![s("🤔🤷"), n(0), n(1)]), s("🤔"));
        assert_eq!(
            ok("substr", vec![s("hello world"), n(-5), n(-1)]),
            s("world")
        );
        assert_eq!(ok("substr", vec![s("hello world"), n(7), n(10)]), s("orld"));
        assert_eq!(ok("substr", vec![s("hello"), n(10), n(1)]), s(""));
    }

    #[test]
    fn prefix_suffix_and_contains() {
        assert_eq!(
            ok("startswith", vec![s("hello world"), s("hello")]),
            Value::Bool(true)
        );
        assert_eq!(
            ok("startswith", vec![s("hello world"), s("world")]),
            Value::Bool(false)
        );
        assert_eq!(
            ok("endswith", vec![s("hello world"), s("world")]),
            Value::Bool(true)
        );
        assert_eq!(
            ok("strcontains", vec![s("hello world"), s("o w")]),
            Value::Bool(true)
        );
    }

    #[test]
    fn indent_strrev_urlencode() {
        assert_eq!(
            ok("indent", vec![n(2), s("[\n  foo,\n]")]),
            s("[\n    foo,\n  ]")
        );
        assert!(matches!(
            err("indent", vec![n(-1), s("x")]),
            FunctionError::Argument { index: 1, .. }
        ));
        assert_eq!(ok("strrev", vec![s("hello")]), s("olleh"));
        assert_eq!(
            ok("urlencode", vec![s("Hello World!")]),
            s("Hello+World%21")
        );
        assert_eq!(ok("urlencode", vec![s("☃")]), s("%E2%98%83"));
        assert_eq!(ok("urlencode", vec![s("a-b_c.d~e/f")]), s("a-b_c.d~e%2Ff"));
    }

    // --- collection -------------------------------------------------------------------------

    #[test]
    fn length_of_strings_lists_and_maps() {
        assert_eq!(ok("length", vec![s("🤔🤷")]), n(2));
        assert_eq!(ok("length", vec![nums(&[1, 2, 3])]), n(3));
        assert_eq!(ok("length", vec![map(&[("a", n(1))])]), n(1));
        assert!(matches!(
            err("length", vec![Value::Null]),
            FunctionError::Argument { .. }
        ));
        assert!(matches!(
            err("length", vec![n(5)]),
            FunctionError::Argument { .. }
        ));
    }

    #[test]
    fn concat_and_merge() {
        assert_eq!(
            ok("concat", vec![strs(&["a"]), strs(&["b", "c"])]),
            strs(&["a", "b", "c"])
        );
        assert!(matches!(
            err("concat", vec![strs(&["a"]), s("b")]),
            FunctionError::Argument { index: 2, .. }
        ));
        assert_eq!(
            ok(
                "merge",
                vec![
                    map(&[("a", n(1)), ("b", n(2))]),
                    Value::Null,
                    map(&[("b", n(3)), ("c", n(4))]),
                ]
            ),
            map(&[("a", n(1)), ("b", n(3)), ("c", n(4))])
        );
        assert_eq!(ok("merge", vec![]), map(&[]));
        assert!(matches!(
            err("merge", vec![map(&[]), strs(&["x"])]),
            FunctionError::Argument { index: 2, .. }
        ));
    }

    #[test]
    fn lookup_with_and_without_default() {
        let m = map(&[("a", s("ay")), ("b", s("bee"))]);
        assert_eq!(ok("lookup", vec![m.clone(), s("a")]), s("ay"));
        assert_eq!(
            ok("lookup", vec![m.clone(), s("c"), s("what?")]),
            s("what?")
        );
        let e = err("lookup", vec![m, s("c")]);
        assert!(matches!(e, FunctionError::Failed { .. }));
        assert!(message(&e).contains("\"c\""), "{e}");
    }

    #[test]
    fn keys_and_values_are_sorted_by_key() {
        let m = map(&[("b", n(2)), ("a", n(1)), ("c", Value::Unknown)]);
        assert_eq!(ok("keys", vec![m.clone()]), strs(&["a", "b", "c"]));
        assert_eq!(
            ok("values", vec![m]),
            list(vec![n(1), n(2), Value::Unknown])
        );
    }

    #[test]
    fn contains_and_index() {
        assert_eq!(
            ok("contains", vec![strs(&["a", "b"]), s("b")]),
            Value::Bool(true)
        );
        assert_eq!(
            ok("contains", vec![strs(&["a", "b"]), s("c")]),
            Value::Bool(false)
        );
        assert_eq!(ok("contains", vec![strs(&["1"]), n(1)]), Value::Bool(true));
        assert_eq!(ok("index", vec![strs(&["a", "b", "c"]), s("b")]), n(1));
        assert_eq!(
            message(&err("index", vec![strs(&["a"]), s("z")])),
            "index(): item not found"
        );
    }

    #[test]
    fn element_wraps_around() {
        let l = strs(&["a", "b", "c"]);
        assert_eq!(ok("element", vec![l.clone(), n(1)]), s("b"));
        assert_eq!(ok("element", vec![l.clone(), n(3)]), s("a"));
        assert!(message(&err("element", vec![l, n(-1)])).contains("negative index"));
        assert!(message(&err("element", vec![strs(&[]), n(0)])).contains("empty list"));
    }

    #[test]
    fn flatten_distinct_reverse_sort() {
        assert_eq!(
            ok(
                "flatten",
                vec![list(vec![
                    strs(&["a", "b"]),
                    strs(&[]),
                    list(vec![strs(&["c"])])
                ])]
            ),
            strs(&["a", "b", "c"])
        );
        assert_eq!(
            ok("distinct", vec![strs(&["a", "b", "a", "c", "b"])]),
            strs(&["a", "b", "c"])
        );
        assert_eq!(ok("reverse", vec![nums(&[1, 2, 3])]), nums(&[3, 2, 1]));
        assert_eq!(
            ok("sort", vec![strs(&["e", "d", "a", "x"])]),
            strs(&["a", "d", "e", "x"])
        );
        // Numbers sort as strings, as in Terraform.
        assert_eq!(ok("sort", vec![nums(&[3, 10, 1])]), strs(&["1", "10", "3"]));
    }

    #[test]
    fn range_forms() {
        assert_eq!(ok("range", vec![n(3)]), nums(&[0, 1, 2]));
        assert_eq!(ok("range", vec![n(1), n(4)]), nums(&[1, 2, 3]));
        assert_eq!(ok("range", vec![n(-3)]), nums(&[0, -1, -2]));
        assert_eq!(ok("range", vec![n(4), n(1)]), nums(&[4, 3, 2]));
        assert_eq!(ok("range", vec![n(1), n(8), n(2)]), nums(&[1, 3, 5, 7]));
        assert_eq!(
            ok("range", vec![n(1), n(2), fl(0.5)]),
            list(vec![n(1), fl(1.5)])
        );
        assert_eq!(ok("range", vec![n(0)]), nums(&[]));
        assert!(message(&err("range", vec![n(1), n(4), n(0)])).contains("must not be zero"));
        assert!(matches!(
            err("range", vec![n(1), n(4), n(-1)]),
            FunctionError::Argument { index: 2, .. }
        ));
        assert!(message(&err("range", vec![n(2000)])).contains("1024"));
    }

    #[test]
    fn coalesce_and_coalescelist() {
        assert_eq!(ok("coalesce", vec![s("a"), s("b")]), s("a"));
        assert_eq!(ok("coalesce", vec![Value::Null, s(""), s("b")]), s("b"));
        assert_eq!(ok("coalesce", vec![n(1), n(2)]), n(1));
        assert_eq!(ok("coalesce", vec![s(""), n(2)]), s("2"));
        assert_eq!(
            ok("coalesce", vec![Value::Null, Value::Unknown, s("b")]),
            Value::Unknown
        );
        assert!(matches!(
            err("coalesce", vec![Value::Null, s("")]),
            FunctionError::Failed { .. }
        ));
        assert_eq!(
            ok(
                "coalescelist",
                vec![strs(&[]), strs(&["c", "d"]), strs(&["e"])]
            ),
            strs(&["c", "d"])
        );
        assert!(matches!(
            err("coalescelist", vec![strs(&[]), Value::Null]),
            FunctionError::Failed { .. }
        ));
    }

    #[test]
    fn zipmap_pairs_keys_with_values() {
        assert_eq!(
            ok("zipmap", vec![strs(&["a", "b"]), nums(&[1, 2])]),
            map(&[("a", n(1)), ("b", n(2))])
        );
        assert!(message(&err("zipmap", vec![strs(&["a"]), nums(&[1, 2])])).contains("(1)"));
        assert_eq!(
            ok("zipmap", vec![list(vec![Value::Unknown]), nums(&[1])]),
            Value::Unknown
        );
    }

    #[test]
    fn compact_chunklist_slice_one() {
        assert_eq!(
            ok(
                "compact",
                vec![list(vec![s("a"), s(""), Value::Null, s("b")])]
            ),
            strs(&["a", "b"])
        );
        assert_eq!(
            ok("chunklist", vec![strs(&["a", "b", "c"]), n(2)]),
            list(vec![strs(&["a", "b"]), strs(&["c"])])
        );
        assert_eq!(
            ok("chunklist", vec![strs(&["a", "b"]), n(0)]),
            list(vec![strs(&["a", "b"])])
        );
        assert!(matches!(
            err("chunklist", vec![strs(&["a"]), n(-1)]),
            FunctionError::Argument { index: 2, .. }
        ));
        assert_eq!(
            ok("slice", vec![strs(&["a", "b", "c", "d"]), n(1), n(3)]),
            strs(&["b", "c"])
        );
        assert!(message(&err("slice", vec![strs(&["a"]), n(0), n(2)])).contains("end index"));
        assert_eq!(ok("one", vec![strs(&[])]), Value::Null);
        assert_eq!(ok("one", vec![strs(&["x"])]), s("x"));
        assert!(matches!(
            err("one", vec![strs(&["x", "y"])]),
            FunctionError::Argument { .. }
        ));
    }

    #[test]
    fn alltrue_and_anytrue() {
        assert_eq!(
            ok("alltrue", vec![list(vec![Value::Bool(true), s("true")])]),
            Value::Bool(true)
        );
        assert_eq!(
            ok(
                "alltrue",
                vec![list(vec![Value::Bool(true), Value::Bool(false)])]
            ),
            Value::Bool(false)
        );
        assert_eq!(ok("alltrue", vec![list(vec![])]), Value::Bool(true));
        // A known false decides the answer even next to an unknown.
        assert_eq!(
            ok(
                "alltrue",
                vec![list(vec![Value::Unknown, Value::Bool(false)])]
            ),
            Value::Bool(false)
        );
        assert_eq!(
            ok(
                "alltrue",
                vec![list(vec![Value::Unknown, Value::Bool(true)])]
            ),
            Value::Unknown
        );
        assert_eq!(
            ok("anytrue", vec![list(vec![Value::Bool(false), s("true")])]),
            Value::Bool(true)
        );
        assert_eq!(ok("anytrue", vec![list(vec![])]), Value::Bool(false));
        assert_eq!(
            ok(
                "anytrue",
                vec![list(vec![Value::Unknown, Value::Bool(false)])]
            ),
            Value::Unknown
        );
        assert!(matches!(
            err("anytrue", vec![nums(&[1])]),
            FunctionError::Argument { .. }
        ));
    }

    // --- numeric ----------------------------------------------------------------------------

    #[test]
    fn numeric_functions() {
        assert_eq!(ok("abs", vec![n(-12)]), n(12));
        assert_eq!(ok("abs", vec![fl(-12.4)]), fl(12.4));
        assert_eq!(ok("ceil", vec![fl(5.1)]), n(6));
        assert_eq!(ok("floor", vec![fl(4.9)]), n(4));
        assert_eq!(ok("floor", vec![s("-4.5")]), n(-5));
        assert_eq!(ok("signum", vec![n(-13)]), n(-1));
        assert_eq!(ok("signum", vec![n(0)]), n(0));
        assert_eq!(ok("signum", vec![n(344)]), n(1));
        assert_eq!(ok("pow", vec![n(3), n(2)]), n(9));
        assert_eq!(ok("pow", vec![n(4), fl(0.5)]), n(2));
        assert!(message(&err("pow", vec![n(10), n(400)])).contains("finite"));
        assert_eq!(ok("min", vec![n(12), n(54), n(3)]), n(3));
        assert_eq!(ok("max", vec![n(12), s("54"), n(3)]), n(54));
        assert_eq!(
            ok("sum", vec![list(vec![n(10), fl(2.5), s("3")])]),
            fl(15.5)
        );
        assert!(message(&err("sum", vec![list(vec![])])).contains("empty list"));
    }

    #[test]
    fn parseint_bases() {
        assert_eq!(ok("parseint", vec![s("100"), n(10)]), n(100));
        assert_eq!(ok("parseint", vec![s("FF"), n(16)]), n(255));
        assert_eq!(ok("parseint", vec![s("-10"), n(16)]), n(-16));
        assert_eq!(ok("parseint", vec![s("1011111011101111"), n(2)]), n(48879));
        assert_eq!(ok("parseint", vec![s("aA"), n(62)]), n(10 * 62 + 36));
        assert_eq!(ok("parseint", vec![s("zz"), n(36)]), n(35 * 36 + 35));
        assert_eq!(
            message(&err("parseint", vec![s("12"), n(2)])),
            "parseint(): cannot parse \"12\" as a base 2 integer"
        );
        assert!(matches!(
            err("parseint", vec![s("1"), n(63)]),
            FunctionError::Argument { index: 2, .. }
        ));
        assert!(matches!(
            err("parseint", vec![n(1), n(10)]),
            FunctionError::Argument { index: 1, .. }
        ));
    }

    // --- encoding ---------------------------------------------------------------------------

    #[test]
    fn jsonencode_is_compact_and_sorted() {
        let v = map(&[
            ("b", list(vec![Value::Bool(true), Value::Null])),
            ("a", fl(1.0)),
            ("c", fl(2.5)),
        ]);
        assert_eq!(
            ok("jsonencode", vec![v]),
            s(r#"{"a":1,"b":[true,null],"c":2.5}"#)
        );
        assert_eq!(
            ok("jsonencode", vec![s("<a & \"b\">\n")]),
            s(r#""\u003ca \u0026 \"b\"\u003e\n""#)
        );
        // A float stored as 3.0 still prints like an integer.
        let float = Value::Number(Number::from_f64(3.0).expect("3.0 is finite"));
        assert_eq!(ok("jsonencode", vec![float]), s("3"));
    }

    #[test]
    fn jsondecode_parses_and_reports_errors() {
        assert_eq!(
            ok(
                "jsondecode",
                vec![s(r#"{"hello": "world", "n": [1, 2.5, null]}"#)]
            ),
            map(&[
                ("hello", s("world")),
                ("n", list(vec![n(1), fl(2.5), Value::Null])),
            ])
        );
        assert_eq!(ok("jsondecode", vec![s("true")]), Value::Bool(true));
        let e = err("jsondecode", vec![s("{nope")]);
        assert!(matches!(e, FunctionError::Failed { .. }));
        assert!(
            message(&e).starts_with("jsondecode(): invalid JSON: "),
            "{e}"
        );
    }

    #[test]
    fn base64_round_trip_and_errors() {
        assert_eq!(
            ok("base64encode", vec![s("Hello World")]),
            s("SGVsbG8gV29ybGQ=")
        );
        assert_eq!(
            ok("base64decode", vec![s("SGVsbG8gV29ybGQ=")]),
            s("Hello World")
        );
        assert!(message(&err("base64decode", vec![s("not base64!")])).contains("base64"));
        // 0xff 0xfe is valid base64 but not UTF-8.
        assert!(message(&err("base64decode", vec![s("//4=")])).contains("UTF-8"));
    }

    #[test]
    fn hashes_are_lowercase_hex_or_base64() {
        assert_eq!(
            ok("sha256", vec![s("hello world")]),
            s("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
        );
        assert_eq!(
            ok("sha512", vec![s("hello world")]),
            s(
                "309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f\
               989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f"
            )
        );
        assert_eq!(
            ok("base64sha256", vec![s("hello world")]),
            s("uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=")
        );
    }

    // --- filesystem -------------------------------------------------------------------------

    #[test]
    fn file_reads_relative_to_base_dir() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("hello.txt"), "Hello World\n").expect("write");
        std::fs::write(dir.path().join("bin.dat"), [0xff, 0x00, 0xfe]).expect("write");
        let ctx = FunctionContext {
            base_dir: dir.path(),
        };
        let c = |name: &str, path: &str| call(&ctx, name, vec![s(path)]);
        assert_eq!(c("file", "hello.txt"), Ok(s("Hello World\n")));
        let absolute = dir.path().join("hello.txt").to_string_lossy().into_owned();
        assert_eq!(c("file", &absolute), Ok(s("Hello World\n")));
        assert_eq!(c("filebase64", "bin.dat"), Ok(s("/wD+")));
        assert_eq!(c("fileexists", "hello.txt"), Ok(Value::Bool(true)));
        assert_eq!(c("fileexists", "missing.txt"), Ok(Value::Bool(false)));
        assert!(c("fileexists", ".").is_err());

        let missing = c("file", "missing.txt").expect_err("missing file");
        assert!(message(&missing).contains("missing.txt"), "{missing}");
        assert!(message(&missing).contains("no file exists"), "{missing}");
        let binary = c("file", "bin.dat").expect_err("binary file");
        assert!(message(&binary).contains("filebase64"), "{binary}");
        assert!(message(&binary).contains("bin.dat"), "{binary}");
    }

    #[test]
    fn path_functions() {
        assert_eq!(
            ok("abspath", vec![s("a/../b/./c.txt")]),
            s("/srv/config/b/c.txt")
        );
        assert_eq!(ok("abspath", vec![s("/etc/hosts")]), s("/etc/hosts"));
        assert_eq!(ok("basename", vec![s("foo/bar/baz.txt")]), s("baz.txt"));
        assert_eq!(ok("basename", vec![s("foo/bar/")]), s("bar"));
        assert_eq!(ok("basename", vec![s("/")]), s("/"));
        assert_eq!(ok("basename", vec![s("")]), s("."));
        assert_eq!(ok("dirname", vec![s("foo/bar/baz.txt")]), s("foo/bar"));
        assert_eq!(ok("dirname", vec![s("/foo/")]), s("/foo"));
        assert_eq!(ok("dirname", vec![s("foo")]), s("."));
        assert_eq!(ok("dirname", vec![s("/foo")]), s("/"));
    }

    // --- type conversion --------------------------------------------------------------------

    #[test]
    fn scalar_conversions() {
        assert_eq!(ok("tostring", vec![n(1)]), s("1"));
        assert_eq!(ok("tostring", vec![fl(1.5)]), s("1.5"));
        assert_eq!(ok("tostring", vec![Value::Bool(true)]), s("true"));
        assert_eq!(ok("tostring", vec![Value::Null]), Value::Null);
        assert!(message(&err("tostring", vec![strs(&[])])).contains("cannot convert list"));
        assert_eq!(ok("tonumber", vec![s("1")]), n(1));
        assert_eq!(ok("tonumber", vec![s("2.5")]), fl(2.5));
        assert_eq!(ok("tonumber", vec![n(7)]), n(7));
        assert!(message(&err("tonumber", vec![s("no")])).contains("\"no\""));
        assert_eq!(ok("tobool", vec![s("true")]), Value::Bool(true));
        assert_eq!(ok("tobool", vec![Value::Bool(false)]), Value::Bool(false));
        assert_eq!(ok("tobool", vec![Value::Null]), Value::Null);
        assert!(message(&err("tobool", vec![s("yes")])).contains("\"yes\""));
        assert!(matches!(
            err("tobool", vec![n(1)]),
            FunctionError::Argument { .. }
        ));
    }

    #[test]
    fn collection_conversions() {
        assert_eq!(
            ok("tolist", vec![list(vec![s("a"), n(1), Value::Bool(true)])]),
            strs(&["a", "1", "true"])
        );
        assert_eq!(ok("tolist", vec![nums(&[1, 2])]), nums(&[1, 2]));
        assert!(matches!(
            err("tolist", vec![list(vec![s("a"), strs(&["b"])])]),
            FunctionError::Argument { .. }
        ));
        assert!(message(&err("tolist", vec![map(&[])])).contains("cannot convert object"));
        assert_eq!(
            ok("tomap", vec![map(&[("a", s("x")), ("b", n(2))])]),
            map(&[("a", s("x")), ("b", s("2"))])
        );
        assert!(matches!(
            err("tomap", vec![strs(&["a"])]),
            FunctionError::Argument { .. }
        ));
        assert_eq!(
            ok("toset", vec![strs(&["c", "b", "b", "a"])]),
            strs(&["a", "b", "c"])
        );
        assert_eq!(ok("toset", vec![nums(&[10, 2, 2])]), nums(&[2, 10]));
        assert_eq!(
            ok("toset", vec![list(vec![s("b"), n(1)])]),
            strs(&["1", "b"])
        );
        assert_eq!(
            ok("toset", vec![list(vec![s("a"), Value::Unknown])]),
            Value::Unknown
        );
    }
}
