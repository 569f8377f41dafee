//! String functions: joining and splitting, case, trimming, substrings, searching and URL
//! encoding.

use braid_provider::Value;
use unicode_segmentation::UnicodeSegmentation as _;

use super::{Call, FunctionError};

pub(super) fn join(c: &Call<'_>) -> Result<Value, FunctionError> {
    let separator = c.string(0)?;
    let mut parts = Vec::new();
    for i in 1..c.args.len() {
        for (j, item) in c.list(i)?.iter().enumerate() {
            parts.push(c.element_string(i, j, item)?);
        }
    }
    Ok(Value::String(parts.join(&separator)))
}

pub(super) fn split(c: &Call<'_>) -> Result<Value, FunctionError> {
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

/// One character's case mapping as Go's `unicode.ToLower`/`ToUpper` do it: a single
/// character for a single character. Rust's full mappings can grow a character (`ß` → `SS`)
/// or depend on its neighbours (final `Σ` → `ς`); where a mapping is not one character,
/// Go's simple mapping keeps the character, except for `İ`, which lowers to `i`.
fn simple_case(ch: char, mapped: impl Iterator<Item = char>) -> char {
    let mut mapped = mapped;
    match (mapped.next(), mapped.next()) {
        (Some(one), None) => one,
        _ if ch == '\u{130}' => 'i',
        _ => ch,
    }
}

pub(super) fn lower(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::String(
        c.string(0)?
            .chars()
            .map(|ch| simple_case(ch, ch.to_lowercase()))
            .collect(),
    ))
}

pub(super) fn upper(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::String(
        c.string(0)?
            .chars()
            .map(|ch| simple_case(ch, ch.to_uppercase()))
            .collect(),
    ))
}

/// Go's `unicode.ToTitle`: the simple uppercase mapping, except for the four Latin digraphs
/// that have a title case of their own (`ǆ` → `ǅ`, not `Ǆ`).
fn title_case(ch: char) -> char {
    match ch {
        '\u{1C4}'..='\u{1C6}' => '\u{1C5}',
        '\u{1C7}'..='\u{1C9}' => '\u{1C8}',
        '\u{1CA}'..='\u{1CC}' => '\u{1CB}',
        '\u{1F1}'..='\u{1F3}' => '\u{1F2}',
        _ => simple_case(ch, ch.to_uppercase()),
    }
}

pub(super) fn title(c: &Call<'_>) -> Result<Value, FunctionError> {
    // Go's strings.Title: a word starts after any character that is not a letter, digit or
    // underscore.
    let mut out = String::new();
    let mut at_word_start = true;
    for ch in c.string(0)?.chars() {
        if at_word_start {
            out.push(title_case(ch));
        } else {
            out.push(ch);
        }
        at_word_start = !(ch.is_alphanumeric() || ch == '_');
    }
    Ok(Value::String(out))
}

pub(super) fn trimspace(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::from(c.string(0)?.trim()))
}

pub(super) fn trim(c: &Call<'_>) -> Result<Value, FunctionError> {
    let text = c.string(0)?;
    let cutset = c.string(1)?;
    Ok(Value::from(text.trim_matches(|ch| cutset.contains(ch))))
}

pub(super) fn trimprefix(c: &Call<'_>) -> Result<Value, FunctionError> {
    let text = c.string(0)?;
    let prefix = c.string(1)?;
    Ok(Value::from(text.strip_prefix(&prefix).unwrap_or(&text)))
}

pub(super) fn trimsuffix(c: &Call<'_>) -> Result<Value, FunctionError> {
    let text = c.string(0)?;
    let suffix = c.string(1)?;
    Ok(Value::from(text.strip_suffix(&suffix).unwrap_or(&text)))
}

pub(super) fn replace(c: &Call<'_>) -> Result<Value, FunctionError> {
    let text = c.string(0)?;
    let search = c.string(1)?;
    let replacement = c.string(2)?;
    if let Some(pattern) = search
        .strip_prefix('/')
        .and_then(|rest| rest.strip_suffix('/'))
    {
        return super::regex::replace_pattern(c, &text, pattern, &replacement);
    }
    Ok(Value::String(text.replace(&search, &replacement)))
}

pub(super) fn substr(c: &Call<'_>) -> Result<Value, FunctionError> {
    let text = c.string(0)?;
    let chars: Vec<&str> = text.graphemes(true).collect();
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
    Ok(Value::String(
        chars.get(start..end).unwrap_or_default().concat(),
    ))
}

pub(super) fn startswith(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::Bool(c.string(0)?.starts_with(&c.string(1)?)))
}

pub(super) fn endswith(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::Bool(c.string(0)?.ends_with(&c.string(1)?)))
}

pub(super) fn strcontains(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::Bool(c.string(0)?.contains(&c.string(1)?)))
}

pub(super) fn chomp(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::from(c.string(0)?.trim_end_matches(['\r', '\n'])))
}

pub(super) fn indent(c: &Call<'_>) -> Result<Value, FunctionError> {
    let spaces = c.integer(0)?;
    let spaces = usize::try_from(spaces)
        .map_err(|_| c.arg_error(0, format!("expected a non-negative number, got {spaces}")))?;
    let pad = format!("\n{}", " ".repeat(spaces));
    Ok(Value::String(c.string(1)?.replace('\n', &pad)))
}

pub(super) fn strrev(c: &Call<'_>) -> Result<Value, FunctionError> {
    // Grapheme clusters stay whole: a flag or a letter with combining marks is not split.
    Ok(Value::String(c.string(0)?.graphemes(true).rev().collect()))
}

pub(super) fn urlencode(c: &Call<'_>) -> Result<Value, FunctionError> {
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

#[cfg(test)]
mod tests {
    use braid_provider::Value;

    use super::super::FunctionError;
    use super::super::test_support::{err, n, nums, ok, s, strs};

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
        // Go's simple case mapping, as Terraform's: no growing, no context.
        assert_eq!(ok("upper", vec![s("straße")]), s("STRAßE"));
        assert_eq!(ok("lower", vec![s("ΟΔΟΣ İ")]), s("οδοσ i"));
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
    fn replace_substrings_and_patterns() {
        assert_eq!(
            ok("replace", vec![s("1 + 2 + 3"), s("+"), s("-")]),
            s("1 - 2 - 3")
        );
        assert_eq!(
            ok("replace", vec![s("hello"), s("/l+/"), s("L")]),
            s("heLo")
        );
        assert_eq!(ok("replace", vec![s("a/b"), s("/"), s("-")]), s("a-b"));
        let e = err("replace", vec![s("hello"), s("/(/"), s("L")]);
        assert!(matches!(e, FunctionError::Argument { index: 2, .. }));
    }

    #[test]
    fn strings_are_measured_in_grapheme_clusters() {
        assert_eq!(ok("length", vec![s("e\u{301}")]), n(1));
        assert_eq!(ok("substr", vec![s("🇩🇪🇫🇷x"), n(1), n(2)]), s("🇫🇷x"));
        assert_eq!(ok("strrev", vec![s("e\u{301}a")]), s("ae\u{301}"));
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
}
