//! The functions templates call: Go's built-ins (`and`… `urlquery`, with `printf` as `fmt`
//! formats), Sprig's library as Helm ships it (`sprig.rs`), Helm's own (`helm.rs`), and the
//! methods of `.Files` and `.Capabilities`.

mod fmt;
mod helm;
mod sprig;
mod time;

use crate::value::{Object, ObjectKind, Value};

pub use fmt::sprintf;

/// Why a call failed, and how Go words it.
#[derive(Debug)]
pub enum FuncError {
    /// An error the function returned: shown as `error calling NAME: MESSAGE`.
    Call(String),
    /// A call Go refused before running it (arity, argument types): shown as is.
    Plain(String),
    /// `fail` / `required`: the chart's own message (Helm shows it alone).
    User(String),
}

/// The result of a function.
pub type FuncResult = Result<Value, FuncError>;

/// Calls the function `name`; `None` when there is no such function.
pub fn call(name: &str, args: &[Value]) -> Option<FuncResult> {
    // `.Capabilities.APIVersions` is a named slice of strings in Helm (`VersionSet`): every
    // function that takes a list takes it (`has "v1" .Capabilities.APIVersions`); only the
    // functions that name types see the difference.
    let as_lists;
    let args = if !matches!(name, "typeOf" | "typeIs" | "typeIsLike" | "printf")
        && args.iter().any(is_api_versions)
    {
        as_lists = args
            .iter()
            .map(|arg| match arg {
                Value::Object(o) => match &o.kind {
                    ObjectKind::ApiVersions(versions) => {
                        Value::list(versions.iter().map(|v| Value::string(v.clone())).collect())
                    }
                    _ => arg.clone(),
                },
                _ => arg.clone(),
            })
            .collect::<Vec<_>>();
        &as_lists[..]
    } else {
        args
    };
    if let Some(result) = builtin(name, args) {
        return Some(result);
    }
    if let Some(result) = helm::call(name, args) {
        return Some(result);
    }
    if let Some(result) = time::call(name, args) {
        return Some(result);
    }
    sprig::call(name, args)
}

fn is_api_versions(value: &Value) -> bool {
    matches!(value, Value::Object(o) if matches!(o.kind, ObjectKind::ApiVersions(_)))
}

/// Calls the method `name` of an object (`.Files.Get`, `.Capabilities.APIVersions.Has`);
/// `None` when its type has no such method.
pub fn method(object: &Object, name: &str, args: &[Value]) -> Option<FuncResult> {
    match &object.kind {
        ObjectKind::Files(files) => helm::files_method(files, name, args),
        ObjectKind::ApiVersions(versions) => match name {
            "Has" => {
                Some(one_str("Has", args).map(|v| Value::Bool(versions.iter().any(|x| x == v))))
            }
            _ => None,
        },
        ObjectKind::Stringer(text) => match name {
            "String" => Some(Ok(Value::String(text.clone()))),
            "GitVersion" => Some(Ok(object.field("Version").cloned().unwrap_or_default())),
            _ => None,
        },
        ObjectKind::PointerStringer(text) => match name {
            "String" => Some(Ok(Value::String(text.clone()))),
            _ => None,
        },
        ObjectKind::Plain | ObjectKind::Unsupported(_) => None,
        ObjectKind::Time(secs, nanos) => match name {
            "Unix" => Some(Ok(Value::Int(*secs))),
            "Format" => Some(
                one_str(name, args)
                    .map(|layout| Value::string(time::format(layout, *secs, *nanos))),
            ),
            "String" => Some(Ok(Value::string(time::go_string(*secs, *nanos)))),
            _ => None,
        },
    }
}

/// `wrong number of args for NAME: want N got M`.
pub(crate) fn arity(name: &str, args: &[Value], want: usize) -> Result<(), FuncError> {
    if args.len() != want {
        return Err(FuncError::Plain(format!(
            "wrong number of args for {name}: want {want} got {}",
            args.len()
        )));
    }
    Ok(())
}

/// At least `want` arguments.
pub(crate) fn arity_at_least(name: &str, args: &[Value], want: usize) -> Result<(), FuncError> {
    if args.len() < want {
        return Err(FuncError::Plain(format!(
            "wrong number of args for {name}: want at least {want} got {}",
            args.len()
        )));
    }
    Ok(())
}

/// Go's refusal of an argument of the wrong type for a typed parameter.
pub(crate) fn wrong_type(expected: &str, got: &Value) -> FuncError {
    match got {
        Value::Nil => FuncError::Plain(format!("invalid value; expected {expected}")),
        other => FuncError::Plain(format!(
            "wrong type for value; expected {expected}; got {}",
            other.type_name()
        )),
    }
}

/// A `string` parameter.
pub(crate) fn want_str(value: &Value) -> Result<&str, FuncError> {
    value.as_str().ok_or_else(|| wrong_type("string", value))
}

/// An `int` parameter (Go does not convert a `float64` into one).
pub(crate) fn want_int(value: &Value) -> Result<i64, FuncError> {
    match value {
        Value::Int(i) => Ok(*i),
        other => Err(wrong_type("int", other)),
    }
}

/// A `bool` parameter.
pub(crate) fn want_bool(value: &Value) -> Result<bool, FuncError> {
    match value {
        Value::Bool(b) => Ok(*b),
        other => Err(wrong_type("bool", other)),
    }
}

fn one_str<'a>(name: &str, args: &'a [Value]) -> Result<&'a str, FuncError> {
    arity(name, args, 1)?;
    want_str(&args[0])
}

/// Sprig's `strval`: strings as they are, everything else as `%v`.
pub(crate) fn strval(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_string(),
        other => other.to_go_string(),
    }
}

/// Go's built-in template functions (`and`/`or` are evaluated by the executor, lazily).
fn builtin(name: &str, args: &[Value]) -> Option<FuncResult> {
    let result = match name {
        "not" => arity(name, args, 1).map(|_| Value::Bool(!args[0].truthy())),
        "len" => arity(name, args, 1).and_then(|_| length(&args[0])),
        "index" => index(args),
        "print" => Ok(Value::string(sprint(args))),
        "println" => {
            let parts: Vec<String> = args.iter().map(|v| v.to_go_string()).collect();
            Ok(Value::string(format!("{}\n", parts.join(" "))))
        }
        "printf" => arity_at_least(name, args, 1)
            .and_then(|_| want_str(&args[0]).map(|f| Value::string(sprintf(f, &args[1..])))),
        "eq" => compare_eq(args).map(Value::Bool),
        "ne" => arity(name, args, 2)
            .and_then(|_| compare_eq(args))
            .map(|b| Value::Bool(!b)),
        "lt" | "le" | "gt" | "ge" => {
            arity(name, args, 2).and_then(|_| order(name, &args[0], &args[1]).map(Value::Bool))
        }
        "html" => Ok(Value::string(html_escape(&sprint(args)))),
        "js" => Ok(Value::string(js_escape(&sprint(args)))),
        "urlquery" => Ok(Value::string(query_escape(&sprint(args)))),
        _ => return None,
    };
    Some(result)
}

/// `fmt.Sprint`: a space between operands when neither is a string.
pub(crate) fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 && !matches!(arg, Value::String(_)) && !matches!(args[i - 1], Value::String(_)) {
            out.push(' ');
        }
        out.push_str(&arg.to_go_string());
    }
    out
}

fn length(value: &Value) -> FuncResult {
    Ok(Value::Int(match value {
        Value::String(s) => s.len() as i64,
        Value::List(l) => l.len() as i64,
        Value::Map(m) => m.borrow().len() as i64,
        Value::Object(o) => match &o.kind {
            ObjectKind::Files(f) => f.len() as i64,
            ObjectKind::ApiVersions(v) => v.len() as i64,
            _ => {
                return Err(FuncError::Call(format!(
                    "len of type {}",
                    value.type_name()
                )));
            }
        },
        Value::Nil => return Err(FuncError::Call("len of nil pointer".to_string())),
        other => {
            return Err(FuncError::Call(format!(
                "len of type {}",
                other.type_name()
            )));
        }
    }))
}

fn index(args: &[Value]) -> FuncResult {
    arity_at_least("index", args, 1)?;
    let mut item = args[0].clone();
    for key in &args[1..] {
        item = match (&item, key) {
            (Value::Map(map), _) => {
                let Value::String(k) = key else {
                    return Err(FuncError::Call(format!(
                        "value has type {}; should be string",
                        key.type_name()
                    )));
                };
                map.borrow().get(&**k).cloned().unwrap_or(Value::Nil)
            }
            (Value::List(list), Value::Int(i)) => {
                if *i < 0 || *i as usize >= list.len() {
                    return Err(FuncError::Call(format!("index out of range: {i}")));
                }
                list[*i as usize].clone()
            }
            (Value::String(s), Value::Int(i)) => {
                if *i < 0 || *i as usize >= s.len() {
                    return Err(FuncError::Call(format!("index out of range: {i}")));
                }
                Value::Int(s.as_bytes()[*i as usize] as i64)
            }
            (Value::List(_) | Value::String(_), other) => {
                return Err(FuncError::Call(format!(
                    "cannot index slice/array with type {}",
                    other.type_name()
                )));
            }
            (Value::Nil, _) => return Err(FuncError::Call("index of untyped nil".to_string())),
            (other, _) => {
                return Err(FuncError::Call(format!(
                    "can't index item of type {}",
                    other.type_name()
                )));
            }
        };
    }
    Ok(item)
}

/// The kinds Go's comparison functions know.
#[derive(PartialEq, Clone, Copy, Debug)]
enum Basic {
    Invalid,
    Bool,
    Int,
    Float,
    String,
    Other,
}

fn basic(value: &Value) -> Basic {
    match value {
        Value::Nil => Basic::Invalid,
        Value::Bool(_) => Basic::Bool,
        Value::Int(_) => Basic::Int,
        Value::Float(_) => Basic::Float,
        Value::String(_) => Basic::String,
        _ => Basic::Other,
    }
}

/// Go's `eq arg1 arg2…`: true when arg1 equals any of the others; integers and floats do
/// not compare (`incompatible types for comparison`).
fn compare_eq(args: &[Value]) -> Result<bool, FuncError> {
    if args.len() < 2 {
        return Err(FuncError::Call(
            "missing argument for comparison".to_string(),
        ));
    }
    let first = &args[0];
    let k1 = basic(first);
    for arg in &args[1..] {
        let k2 = basic(arg);
        let truth = if k1 != k2 {
            if k1 != Basic::Invalid && k2 != Basic::Invalid {
                return Err(FuncError::Call(format!(
                    "incompatible types for comparison: {} and {}",
                    first.type_name(),
                    arg.type_name()
                )));
            }
            false
        } else {
            match (first, arg) {
                (Value::Nil, Value::Nil) => true,
                (Value::Bool(a), Value::Bool(b)) => a == b,
                (Value::Int(a), Value::Int(b)) => a == b,
                (Value::Float(a), Value::Float(b)) => a == b,
                (Value::String(a), Value::String(b)) => a == b,
                (Value::List(_), _) | (Value::Map(_), _) => {
                    return Err(FuncError::Call(format!(
                        "non-comparable type {}: {}",
                        arg.to_go_string(),
                        arg.type_name()
                    )));
                }
                (a, b) => a == b,
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

fn order(name: &str, a: &Value, b: &Value) -> Result<bool, FuncError> {
    let ordering = match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => {
            let (ka, kb) = (basic(a), basic(b));
            if ka == kb && matches!(ka, Basic::Bool | Basic::Other | Basic::Invalid) {
                return Err(FuncError::Call("invalid type for comparison".to_string()));
            }
            if matches!(ka, Basic::Other | Basic::Invalid)
                || matches!(kb, Basic::Other | Basic::Invalid)
            {
                return Err(FuncError::Call("invalid type for comparison".to_string()));
            }
            return Err(FuncError::Call(
                "incompatible types for comparison".to_string(),
            ));
        }
    };
    use std::cmp::Ordering::*;
    Ok(match name {
        "lt" => ordering == Less,
        "le" => ordering != Greater,
        "gt" => ordering == Greater,
        _ => ordering != Less,
    })
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '"' => out.push_str("&#34;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// `.Files.Glob`'s pattern matching (also `.helmignore`'s).
pub(crate) fn glob(pattern: &str, path: &str) -> bool {
    helm::glob_match(pattern, path)
}

/// A `.Files` value.
pub(crate) fn files_value(files: std::collections::BTreeMap<String, Vec<u8>>) -> Value {
    helm::files_value(files)
}

/// The JSON kind Go's `encoding/json` names in type errors (`array`, `object`…).
pub(crate) fn json_kind(value: &Value) -> &'static str {
    helm::json_kind(value)
}

/// Sprig's `strval` for callers outside the functions.
pub(crate) fn strval_of(value: &Value) -> String {
    strval(value)
}

/// `time.Time.String()` for printing.
pub(crate) fn time_string(secs: i64, nanos: u32) -> String {
    time::go_string(secs, nanos)
}
