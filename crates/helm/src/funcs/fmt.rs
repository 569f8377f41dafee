//! Go's `fmt.Sprintf` for the values templates hold: the verbs `v s q d x X o b c e E f F g G
//! t T %`, flags `+ - # 0 space`, width and precision (`*` too), and Go's markers for
//! mismatches (`%!d(string=x)`, `%!s(MISSING)`, `%!(EXTRA int=1)`).

use crate::value::{Value, format_float_g};

/// `fmt.Sprintf(format, args...)`.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut arg_index = 0;
    let mut chars = format.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        // Flags.
        while let Some(&(_, f)) = chars.peek() {
            match f {
                '+' => spec.plus = true,
                '-' => spec.minus = true,
                '#' => spec.sharp = true,
                '0' => spec.zero = true,
                ' ' => spec.space = true,
                _ => break,
            }
            chars.next();
        }
        // Width.
        if let Some(&(_, '*')) = chars.peek() {
            chars.next();
            if let Some(Value::Int(w)) = args.get(arg_index) {
                spec.width = Some((w.unsigned_abs() as usize).min(MAX_WIDTH));
                if *w < 0 {
                    spec.minus = true;
                }
            }
            arg_index += 1;
        } else {
            spec.width = digits(&mut chars);
        }
        // Precision.
        if let Some(&(_, '.')) = chars.peek() {
            chars.next();
            if let Some(&(_, '*')) = chars.peek() {
                chars.next();
                if let Some(Value::Int(p)) = args.get(arg_index) {
                    spec.precision = Some(((*p).max(0) as usize).min(MAX_WIDTH));
                }
                arg_index += 1;
            } else {
                spec.precision = Some(digits(&mut chars).unwrap_or(0));
            }
        }
        let Some((_, verb)) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(arg_index) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        arg_index += 1;
        out.push_str(&format_one(&spec, verb, arg));
    }
    if arg_index < args.len() {
        out.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[arg_index..]
            .iter()
            .map(|a| match a {
                Value::Nil => "<nil>".to_string(),
                other => format!("{}={}", other.type_name(), other.to_go_string()),
            })
            .collect();
        out.push_str(&extra.join(", "));
        out.push(')');
    }
    out
}

#[derive(Default, Clone)]
struct Spec {
    plus: bool,
    minus: bool,
    sharp: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

/// The widest width or precision taken (Go's fmt caps them at 1e6 too: `%!(BADWIDTH)`).
const MAX_WIDTH: usize = 1_000_000;

fn digits(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> Option<usize> {
    let mut n: Option<usize> = None;
    while let Some(&(_, d)) = chars.peek() {
        let Some(v) = d.to_digit(10) else { break };
        n = Some((n.unwrap_or(0) * 10 + v as usize).min(MAX_WIDTH));
        chars.next();
    }
    n
}

fn bad_verb(verb: char, arg: &Value) -> String {
    match arg {
        Value::Nil => format!("%!{verb}(<nil>)"),
        other => format!("%!{verb}({}={})", other.type_name(), other.to_go_string()),
    }
}

fn pad(spec: &Spec, body: String, numeric: bool) -> String {
    let Some(width) = spec.width else { return body };
    let len = body.chars().count();
    if len >= width {
        return body;
    }
    let fill = width - len;
    if spec.minus {
        format!("{body}{}", " ".repeat(fill))
    } else if spec.zero && numeric {
        // Zeros go after the sign.
        let (sign, rest) = match body.chars().next() {
            Some(c @ ('-' | '+' | ' ')) => (c.to_string(), body[1..].to_string()),
            _ => (String::new(), body),
        };
        format!("{sign}{}{rest}", "0".repeat(fill))
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}

fn format_one(spec: &Spec, verb: char, arg: &Value) -> String {
    match verb {
        'v' => {
            let body = match arg {
                Value::Float(f) => float_verb(spec, 'g', *f),
                Value::Int(i) => int_verb(spec, 'd', *i),
                Value::String(s) if spec.sharp => quote(s),
                other => other.to_go_string(),
            };
            pad(spec, body, matches!(arg, Value::Int(_) | Value::Float(_)))
        }
        'T' => pad(spec, arg.type_name(), false),
        's' | 'q' | 'x' | 'X' if matches!(arg, Value::String(_)) => {
            let s = arg.as_str().unwrap_or("");
            let s: String = match spec.precision {
                Some(p) if verb != 'x' && verb != 'X' => s.chars().take(p).collect(),
                _ => s.to_string(),
            };
            let body = match verb {
                's' => s,
                'q' => {
                    if spec.sharp && !s.contains('`') {
                        format!("`{s}`")
                    } else {
                        quote(&s)
                    }
                }
                'x' => hex_bytes(s.as_bytes(), false, spec),
                _ => hex_bytes(s.as_bytes(), true, spec),
            };
            pad(spec, body, false)
        }
        's' => match arg {
            // Lists and maps apply the verb to their elements.
            Value::List(_) | Value::Map(_) => pad(spec, elements_with(arg, 's'), false),
            Value::Object(_) => pad(spec, arg.to_go_string(), false),
            other => bad_verb(verb, other),
        },
        'q' => match arg {
            Value::Int(i) => pad(
                spec,
                match char::from_u32(*i as u32) {
                    Some(c) => quote_char(c),
                    None => "'\u{FFFD}'".to_string(),
                },
                false,
            ),
            Value::List(_) | Value::Map(_) => pad(spec, elements_with(arg, 'q'), false),
            other => bad_verb(verb, other),
        },
        'd' | 'b' | 'o' | 'O' | 'c' | 'U' => match arg {
            Value::Int(i) => pad(spec, int_verb(spec, verb, *i), verb != 'c'),
            Value::List(_) | Value::Map(_) => pad(spec, elements_with(arg, verb), false),
            other => bad_verb(verb, other),
        },
        'x' | 'X' => match arg {
            Value::Int(i) => pad(spec, int_verb(spec, verb, *i), true),
            Value::Float(f) => pad(spec, float_hex(*f, verb == 'X'), true),
            Value::List(_) => pad(spec, elements_with(arg, verb), false),
            other => bad_verb(verb, other),
        },
        'e' | 'E' | 'f' | 'F' | 'g' | 'G' => match arg {
            Value::Float(f) => pad(spec, float_verb(spec, verb, *f), true),
            Value::List(_) | Value::Map(_) => pad(spec, elements_with(arg, verb), false),
            other => bad_verb(verb, other),
        },
        't' => match arg {
            Value::Bool(b) => pad(spec, b.to_string(), false),
            other => bad_verb(verb, other),
        },
        _ => bad_verb(verb, arg),
    }
}

/// `[e1 e2]` / `map[k:v]` with `verb` applied to every element.
fn elements_with(arg: &Value, verb: char) -> String {
    let spec = Spec::default();
    match arg {
        Value::List(list) => {
            let parts: Vec<String> = list.iter().map(|v| format_one(&spec, verb, v)).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Map(map) => {
            let parts: Vec<String> = map
                .borrow()
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}:{}",
                        format_one(&spec, verb, &Value::str(k)),
                        format_one(&spec, verb, v)
                    )
                })
                .collect();
            format!("map[{}]", parts.join(" "))
        }
        other => format_one(&spec, verb, other),
    }
}

fn int_verb(spec: &Spec, verb: char, i: i64) -> String {
    let negative = i < 0;
    let magnitude = i.unsigned_abs();
    let mut digits = match verb {
        'b' => format!("{magnitude:b}"),
        'o' | 'O' => format!("{magnitude:o}"),
        'x' => format!("{magnitude:x}"),
        'X' => format!("{magnitude:X}"),
        'c' => {
            return char::from_u32(i as u32)
                .map(String::from)
                .unwrap_or_default();
        }
        'U' => return format!("U+{:04X}", i),
        _ => magnitude.to_string(),
    };
    if let Some(p) = spec.precision
        && digits.len() < p
    {
        digits = format!("{}{digits}", "0".repeat(p - digits.len()));
    }
    let prefix = match (verb, spec.sharp) {
        ('x', true) => "0x",
        ('X', true) => "0X",
        ('o', true) => "0",
        ('O', _) => "0o",
        ('b', true) => "0b",
        _ => "",
    };
    let sign = if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    format!("{sign}{prefix}{digits}")
}

fn float_verb(spec: &Spec, verb: char, f: f64) -> String {
    let sign = if f.is_sign_negative() && !f.is_nan() {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return format!(
            "{}Inf",
            if f < 0.0 {
                "-"
            } else if spec.plus {
                "+"
            } else {
                ""
            }
        );
    }
    let a = f.abs();
    let body = match verb {
        'f' | 'F' => format!("{:.*}", spec.precision.unwrap_or(6), a),
        'e' | 'E' => {
            let text = go_exponent(&format!("{:.*e}", spec.precision.unwrap_or(6), a));
            if verb == 'E' {
                text.to_uppercase()
            } else {
                text
            }
        }
        _ => {
            let text = match spec.precision {
                None => format_float_g(a),
                Some(p) => g_with_precision(a, p.max(1)),
            };
            if verb == 'G' {
                text.to_uppercase()
            } else {
                text
            }
        }
    };
    format!("{sign}{body}")
}

/// Rust's `1.5e6` as Go's `1.5e+06`.
fn go_exponent(text: &str) -> String {
    let Some((mantissa, exp)) = text.split_once('e') else {
        return text.to_string();
    };
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    let digits = if digits.len() < 2 {
        format!("0{digits}")
    } else {
        digits.to_string()
    };
    format!("{mantissa}e{sign}{digits}")
}

/// `%.Ng`: N significant digits, trailing zeros removed, exponent form when the exponent is
/// below -4 or at least N.
fn g_with_precision(a: f64, p: usize) -> String {
    if a == 0.0 {
        return "0".to_string();
    }
    let e_text = format!("{:.*e}", p - 1, a);
    let exp: i32 = e_text
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let (mantissa, _) = e_text.split_once('e').unwrap_or((&e_text, ""));
        let mantissa = trim_zeros(mantissa);
        go_exponent(&format!("{mantissa}e{exp}"))
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        trim_zeros(&format!("{a:.decimals$}"))
    }
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

fn float_hex(f: f64, upper: bool) -> String {
    let text = format!("{f}");
    if upper { text.to_uppercase() } else { text }
}

fn hex_bytes(bytes: &[u8], upper: bool, spec: &Spec) -> String {
    let mut out = String::new();
    for (i, b) in bytes.iter().enumerate() {
        if spec.space && i > 0 {
            out.push(' ');
        }
        if spec.sharp && (spec.space || i == 0) {
            out.push_str(if upper { "0X" } else { "0x" });
        }
        if upper {
            out.push_str(&format!("{b:02X}"));
        } else {
            out.push_str(&format!("{b:02x}"));
        }
    }
    out
}

/// Go's `strconv.Quote`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if is_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

fn quote_char(c: char) -> String {
    match c {
        '\'' => "'\\''".to_string(),
        '"' => "'\"'".to_string(),
        other => {
            let q = quote(&other.to_string());
            format!("'{}'", &q[1..q.len() - 1])
        }
    }
}

/// Go's `unicode.IsPrint` approximately: not a control, format or unassigned-looking
/// character, and not a space other than U+0020.
fn is_printable(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c as u32, 0xAD | 0x200B..=0x200F | 0x2028..=0x202E | 0x2060..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_as_go_formats_them() {
        let s = Value::str;
        assert_eq!(sprintf("%s-%d", &[s("a"), Value::Int(3)]), "a-3");
        assert_eq!(sprintf("%d", &[Value::Float(80.0)]), "%!d(float64=80)");
        assert_eq!(sprintf("%v", &[Value::Float(80.0)]), "80");
        assert_eq!(sprintf("%s", &[]), "%!s(MISSING)");
        assert_eq!(sprintf("x", &[Value::Int(1)]), "x%!(EXTRA int=1)");
        assert_eq!(
            sprintf(
                "%05.2f|%-4s|%4d",
                &[Value::Float(3.25159), s("ab"), Value::Int(7)]
            ),
            "03.25|ab  |   7"
        );
        assert_eq!(sprintf("%q", &[s("a\"b\n")]), "\"a\\\"b\\n\"");
        assert_eq!(sprintf("%x %X", &[s("hi"), Value::Int(255)]), "6869 FF");
        assert_eq!(
            sprintf("%t %T", &[Value::Bool(true), Value::Float(1.0)]),
            "true float64"
        );
        assert_eq!(sprintf("%e", &[Value::Float(1234.5678)]), "1.234568e+03");
        assert_eq!(
            sprintf("%g %.3g", &[Value::Float(1e6), Value::Float(4.56789)]),
            "1e+06 4.57"
        );
        assert_eq!(sprintf("%s", &[Value::list(vec![s("a"), s("b")])]), "[a b]");
        assert_eq!(sprintf("%s", &[Value::Int(5)]), "%!s(int=5)");
        assert_eq!(sprintf("100%%", &[]), "100%");
    }
}
