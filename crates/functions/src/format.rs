//! `format` and `formatlist`: Terraform's printf verbs (`%s`, `%d`, `%.2f`, `%[2]v`, ...) and
//! how each one renders a value.

use braid_provider::Value;
use braid_provider::number::{FloatVerb, IntegerVerb, TfNumber};

use super::encoding::json_encode;
use super::{Call, FunctionError, coerce_bool, coerce_number, primitive_string};

pub(super) fn format(c: &Call<'_>) -> Result<Value, FunctionError> {
    let spec = c.string(0)?;
    // Terraform leaves a format with a null argument unknown (`format("%s", null)` is
    // known only after apply) rather than failing.
    if c.args[1..].iter().any(Value::is_null) {
        return Ok(Value::Unknown);
    }
    format_values(&spec, &c.args[1..])
        .map(Value::String)
        .map_err(|m| c.failed(m))
}

pub(super) fn formatlist(c: &Call<'_>) -> Result<Value, FunctionError> {
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

/// The largest width or precision a verb may ask for: enough for any real layout, and small
/// enough that a hostile `%999999999999d` cannot exhaust memory.
const MAX_WIDTH: usize = 10_000;

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
        // `None` when there are no digits; an error when the number is beyond
        // MAX_WIDTH, which would otherwise allocate without bound (or panic in `format!`).
        let digits = |i: &mut usize, what: &str| {
            let from = *i;
            while char_at(*i).is_some_and(|d| d.is_ascii_digit()) {
                *i += 1;
            }
            let text = &spec[byte_at(from)..byte_at(*i)];
            if text.is_empty() {
                return Ok(None);
            }
            match text.parse::<usize>() {
                Ok(n) if n <= MAX_WIDTH => Ok(Some(n)),
                _ => Err(format!(
                    "the {what} {text} at offset {} is too large: it can be at most {MAX_WIDTH}",
                    byte_at(start)
                )),
            }
        };
        verb.width = digits(&mut i, "width")?;
        if char_at(i) == Some('.') {
            i += 1;
            verb.precision = Some(digits(&mut i, "precision")?.ok_or_else(invalid)?);
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
                    n.format_float(FloatVerb::General { upper: false }, None)
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
            format_integer(verb, &n).ok_or_else(|| unsupported("an integer is required"))
        }
        'e' | 'E' | 'f' | 'g' | 'G' => {
            let n = coerce_number(arg).ok_or_else(|| unsupported("number required"))?;
            Ok(format_float(verb, &n))
        }
        other => Err(format!(
            "unsupported format verb {other:?} in {:?} at offset {}",
            verb.raw, verb.offset
        )),
    }
}

/// An integer verb: digits in the verb's base, `#` adding Go's prefix, the precision as a
/// minimum number of digits. `None` when the number is not whole.
fn format_integer(verb: &Verb<'_>, n: &TfNumber) -> Option<String> {
    let base = match verb.mode {
        'b' => IntegerVerb::Binary,
        'o' => IntegerVerb::Octal,
        'x' => IntegerVerb::HexLower,
        'X' => IntegerVerb::HexUpper,
        _ => IntegerVerb::Decimal,
    };
    let text = n.format_integer(base).ok()?;
    let (negative, mut digits) = match text.strip_prefix('-') {
        Some(magnitude) => (true, magnitude.to_string()),
        None => (false, text),
    };
    let prefix = match verb.mode {
        'b' => "0b",
        'o' => "0",
        'x' => "0x",
        'X' => "0X",
        _ => "",
    };
    if let Some(precision) = verb.precision
        && digits.len() < precision
    {
        digits = format!("{}{digits}", "0".repeat(precision - digits.len()));
    }
    if verb.sharp {
        digits = format!("{prefix}{digits}");
    }
    Some(pad_number(verb, negative, digits))
}

/// A float verb as Go's `big.Float` formats it: exact decimal expansion of the number at its
/// precision, rounded half to even.
fn format_float(verb: &Verb<'_>, n: &TfNumber) -> String {
    let upper = matches!(verb.mode, 'E' | 'G');
    let float_verb = match verb.mode {
        'f' => FloatVerb::Fixed,
        'e' | 'E' => FloatVerb::Exponent { upper },
        _ => FloatVerb::General { upper },
    };
    if n.is_infinite() {
        // `+Inf` and `-Inf` carry their sign already.
        return pad(verb, n.to_string());
    }
    let text = n.abs().format_float(float_verb, verb.precision);
    pad_number(verb, n.is_negative(), text)
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

#[cfg(test)]
mod tests {
    use braid_provider::Value;

    use super::super::FunctionError;
    use super::super::test_support::{err, fl, message, n, nums, ok, s, strs};

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
        // A null argument leaves the result unknown, as in Terraform.
        assert_eq!(
            f("%v %v %v", vec![s("x"), n(2), Value::Null]),
            Value::Unknown
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
        assert!(message(&err("format", vec![s("%z"), n(1)])).contains("unsupported format verb"));
        assert!(message(&err("format", vec![s("abc %")])).contains("invalid format string"));
    }

    #[test]
    fn huge_width_or_precision_is_an_error_not_a_panic() {
        for spec in [
            "%999999999999d",
            "%.999999999999f",
            "%.70000f",
            "%.70000e",
            "%.70000g",
            "%70000d",
            "%99999999999999999999999s",
        ] {
            let e = err("format", vec![s(spec), n(1)]);
            assert!(message(&e).contains("at most 10000"), "{spec}: {e}");
        }
        assert_eq!(ok("format", vec![s("%5d"), n(1)]), s("    1"));
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
}
