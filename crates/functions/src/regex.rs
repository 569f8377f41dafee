//! Regular expression functions: `regex`, `regexall`, and the `/pattern/` form of `replace`.
//!
//! Patterns use the `regex` crate, whose syntax is RE2's, as Terraform's Go `regexp` is. The
//! differences: `regex` treats `\d`, `\w`, `\s` and `\b` as Unicode-aware where RE2 matches ASCII
//! only (write `[0-9]` or `(?-u:\d)` to be exact), and it has no `\C`.

use braid_provider::Value;
use regex::{Captures, Regex, RegexBuilder};

use super::{Call, FunctionError};

/// Compiled patterns are bounded so that a configuration cannot make braid build an
/// automaton of unbounded size.
const PATTERN_SIZE_LIMIT: usize = 10 * 1024 * 1024;

/// Argument `i` compiled as a pattern.
pub(super) fn compile(c: &Call<'_>, i: usize, pattern: &str) -> Result<Regex, FunctionError> {
    RegexBuilder::new(pattern)
        .size_limit(PATTERN_SIZE_LIMIT)
        .build()
        .map_err(|e| c.arg_error(i, format!("invalid regular expression: {e}")))
}

/// What a match returns: the matched text when the pattern has no groups, a list of the
/// groups when they are unnamed, an object when they are named. A group that took no part in
/// the match is null.
enum Shape {
    Whole,
    Unnamed,
    Named,
}

fn shape(c: &Call<'_>, re: &Regex) -> Result<Shape, FunctionError> {
    let groups = re.captures_len() - 1;
    let named = re.capture_names().flatten().count();
    match (groups, named) {
        (0, _) => Ok(Shape::Whole),
        (_, 0) => Ok(Shape::Unnamed),
        (g, n) if g == n => Ok(Shape::Named),
        _ => Err(c.arg_error(
            0,
            "invalid regular expression: cannot mix both named and unnamed capture groups",
        )),
    }
}

fn result(re: &Regex, shape: &Shape, caps: &Captures<'_>) -> Value {
    let text = |m: Option<regex::Match<'_>>| m.map_or(Value::Null, |m| Value::from(m.as_str()));
    match shape {
        Shape::Whole => text(caps.get(0)),
        Shape::Unnamed => Value::List((1..caps.len()).map(|i| text(caps.get(i))).collect()),
        Shape::Named => Value::Map(
            re.capture_names()
                .flatten()
                .map(|name| (name.to_string(), text(caps.name(name))))
                .collect(),
        ),
    }
}

pub(super) fn regex(c: &Call<'_>) -> Result<Value, FunctionError> {
    let pattern = c.string(0)?;
    let text = c.string(1)?;
    let re = compile(c, 0, &pattern)?;
    let shape = shape(c, &re)?;
    let caps = re
        .captures(&text)
        .ok_or_else(|| c.failed("pattern did not match any part of the given string"))?;
    Ok(result(&re, &shape, &caps))
}

pub(super) fn regexall(c: &Call<'_>) -> Result<Value, FunctionError> {
    let pattern = c.string(0)?;
    let text = c.string(1)?;
    let re = compile(c, 0, &pattern)?;
    let shape = shape(c, &re)?;
    Ok(Value::List(
        re.captures_iter(&text)
            .map(|caps| result(&re, &shape, &caps))
            .collect(),
    ))
}

/// `replace(text, "/pattern/", replacement)`: every match replaced, with `$1` and `${name}`
/// in the replacement standing for groups, as Go's `ReplaceAllString` does.
pub(super) fn replace_pattern(
    c: &Call<'_>,
    text: &str,
    pattern: &str,
    replacement: &str,
) -> Result<Value, FunctionError> {
    let re = compile(c, 1, pattern)?;
    Ok(Value::String(
        re.replace_all(text, replacement).into_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use braid_provider::Value;

    use super::super::test_support::{err, list, map, message, ok, s, strs};

    #[test]
    fn regex_shapes() {
        assert_eq!(
            ok(
                "regex",
                vec![s("[a-z]+"), s("53453453.345345aaabbbccc23454")]
            ),
            s("aaabbbccc")
        );
        assert_eq!(
            ok(
                "regex",
                vec![s("(\\d\\d\\d\\d)-(\\d\\d)-(\\d\\d)"), s("2019-02-01")]
            ),
            strs(&["2019", "02", "01"])
        );
        assert_eq!(
            ok(
                "regex",
                vec![
                    s("^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?"),
                    s("http://www.ietf.org/")
                ]
            ),
            map(&[("scheme", s("http")), ("authority", s("www.ietf.org"))])
        );
        assert_eq!(
            ok("regex", vec![s("(a)|(b)"), s("b")]),
            list(vec![Value::Null, s("b")])
        );
        assert!(message(&err("regex", vec![s("x"), s("y")])).contains("did not match"));
        assert!(message(&err("regex", vec![s("(?P<a>x)(y)"), s("xy")])).contains("mix"));
        assert!(
            message(&err("regex", vec![s("("), s("y")])).contains("invalid regular expression")
        );
    }

    #[test]
    fn regexall_and_replace() {
        assert_eq!(
            ok("regexall", vec![s("[a-z]+"), s("1234abcd5678efgh9")]),
            strs(&["abcd", "efgh"])
        );
        assert_eq!(ok("regexall", vec![s("[a-z]+"), s("123")]), strs(&[]));
        assert_eq!(
            ok(
                "replace",
                vec![s("hello world"), s("/w.*d/"), s("everybody")]
            ),
            s("hello everybody")
        );
        assert_eq!(
            ok("replace", vec![s("a1b22"), s("/([0-9]+)/"), s("<$1>")]),
            s("a<1>b<22>")
        );
    }
}
