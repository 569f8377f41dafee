//! Date and time functions over RFC 3339 timestamps: `formatdate`, `timeadd`, `timecmp`.

use braid_provider::Value;
use chrono::{DateTime, Datelike as _, FixedOffset, SecondsFormat, TimeDelta, Timelike as _};

use super::{Call, FunctionError};

/// Argument `i` as an RFC 3339 timestamp (`2006-01-02T15:04:05Z`, an offset instead of `Z`,
/// optional fractional seconds), as Terraform accepts it.
fn timestamp(c: &Call<'_>, i: usize) -> Result<DateTime<FixedOffset>, FunctionError> {
    let text = c.string(i)?;
    // chrono also accepts a lowercase `t` or a space as the separator; Go does not.
    let valid_shape = text.as_bytes().get(10) == Some(&b'T');
    DateTime::parse_from_rfc3339(&text)
        .ok()
        .filter(|_| valid_shape && !text.ends_with('z'))
        .ok_or_else(|| {
            c.arg_error(
                i,
                format!(
                    "not a valid RFC3339 timestamp: {text:?}; write it like \
                     \"2006-01-02T15:04:05Z\""
                ),
            )
        })
}

/// A timestamp as Go's `time.RFC3339` writes it: whole seconds, `Z` for UTC.
fn rfc3339(t: DateTime<FixedOffset>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(super) fn timeadd(c: &Call<'_>) -> Result<Value, FunctionError> {
    let t = timestamp(c, 0)?;
    let text = c.string(1)?;
    let nanos = parse_duration(&text)
        .ok_or_else(|| c.arg_error(1, format!("invalid duration {text:?}")))?;
    let delta = i64::try_from(nanos)
        .ok()
        .map(TimeDelta::nanoseconds)
        .ok_or_else(|| c.arg_error(1, format!("invalid duration {text:?}")))?;
    let sum = t
        .checked_add_signed(delta)
        .ok_or_else(|| c.failed("the result is out of the range of timestamps"))?;
    Ok(Value::String(rfc3339(sum)))
}

pub(super) fn timecmp(c: &Call<'_>) -> Result<Value, FunctionError> {
    let a = timestamp(c, 0)?;
    let b = timestamp(c, 1)?;
    Ok(Value::from_i64(match a.cmp(&b) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }))
}

/// Go's `time.ParseDuration`: a signed sequence of decimal numbers with units (`ns`, `us`,
/// `µs`, `ms`, `s`, `m`, `h`), such as `1h30m` or `-1.5h`; in nanoseconds.
fn parse_duration(text: &str) -> Option<i128> {
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let number_end = rest
            .find(|ch: char| !(ch.is_ascii_digit() || ch == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_end];
        if number.is_empty() || number == "." {
            return None;
        }
        let value: f64 = number.parse().ok()?;
        rest = &rest[number_end..];
        let unit_end = rest
            .find(|ch: char| ch.is_ascii_digit() || ch == '.')
            .unwrap_or(rest.len());
        let scale: f64 = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += value * scale;
    }
    if !total.is_finite() || total > 9.3e18 {
        return None;
    }
    #[allow(clippy::cast_possible_truncation)]
    let nanos = total.round() as i128;
    Some(if negative { -nanos } else { nanos })
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// `formatdate(spec, timestamp)`: Terraform's date format language, where runs of one letter
/// (`YYYY`, `MMM`, `hh`, `ZZZZZ`) stand for parts of the date and `'quoted'` text is literal.
pub(super) fn formatdate(c: &Call<'_>) -> Result<Value, FunctionError> {
    let spec = c.string(0)?;
    let t = timestamp(c, 1)?;
    let chars: Vec<char> = spec.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while let Some(&ch) = chars.get(i) {
        if ch == '\'' {
            // A quoted literal; '' inside or alone is one quote.
            let mut j = i + 1;
            let mut literal = String::new();
            loop {
                match chars.get(j) {
                    None => {
                        return Err(c.arg_error(0, "unterminated literal '"));
                    }
                    Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                        literal.push('\'');
                        j += 2;
                    }
                    Some('\'') => break,
                    Some(other) => {
                        literal.push(*other);
                        j += 1;
                    }
                }
            }
            out.push_str(if j == i + 1 { "'" } else { &literal });
            i = j + 1;
            continue;
        }
        if !ch.is_ascii_alphabetic() {
            out.push(ch);
            i += 1;
            continue;
        }
        let run = chars[i..].iter().take_while(|&&x| x == ch).count();
        let verb: String = chars[i..i + run].iter().collect();
        out.push_str(&format_verb(c, &verb, t)?);
        i += run;
    }
    Ok(Value::String(out))
}

fn format_verb(
    c: &Call<'_>,
    verb: &str,
    t: DateTime<FixedOffset>,
) -> Result<String, FunctionError> {
    let month = MONTHS.get(t.month0() as usize).copied().unwrap_or_default();
    let weekday = WEEKDAYS
        .get(t.weekday().num_days_from_monday() as usize)
        .copied()
        .unwrap_or_default();
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    let offset = t.offset().local_minus_utc();
    let sign = if offset < 0 { '-' } else { '+' };
    let (oh, om) = (offset.abs() / 3600, offset.abs() % 3600 / 60);
    Ok(match verb {
        "YYYY" => format!("{:04}", t.year()),
        "YY" => format!("{:02}", t.year().rem_euclid(100)),
        "MMMM" => month.to_string(),
        "MMM" => month.chars().take(3).collect(),
        "MM" => format!("{:02}", t.month()),
        "M" => t.month().to_string(),
        "DD" => format!("{:02}", t.day()),
        "D" => t.day().to_string(),
        "EEEE" => weekday.to_string(),
        "EEE" => weekday.chars().take(3).collect(),
        "hh" => format!("{:02}", t.hour()),
        "h" => t.hour().to_string(),
        "HH" => format!("{hour12:02}"),
        "H" => hour12.to_string(),
        "AA" => if t.hour() < 12 { "AM" } else { "PM" }.to_string(),
        "aa" => if t.hour() < 12 { "am" } else { "pm" }.to_string(),
        "mm" => format!("{:02}", t.minute()),
        "m" => t.minute().to_string(),
        "ss" => format!("{:02}", t.second()),
        "s" => t.second().to_string(),
        "ZZZZZ" => format!("{sign}{oh:02}:{om:02}"),
        "ZZZZ" => format!("{sign}{oh:02}{om:02}"),
        "ZZZ" if offset == 0 => "UTC".to_string(),
        "ZZZ" => format!("{sign}{oh:02}{om:02}"),
        "Z" if offset == 0 => "Z".to_string(),
        "Z" => format!("{sign}{oh:02}:{om:02}"),
        other => {
            return Err(c.arg_error(0, format!("invalid date format verb {other:?}")));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{err, n, ok, s};
    use super::parse_duration;

    #[test]
    fn formatdate_verbs() {
        let t = s("2018-01-02T23:12:01Z");
        assert_eq!(
            ok("formatdate", vec![s("DD MMM YYYY hh:mm ZZZ"), t.clone()]),
            s("02 Jan 2018 23:12 UTC")
        );
        assert_eq!(
            ok(
                "formatdate",
                vec![s("EEEE, DD-MMM-YY hh:mm:ss ZZZ"), t.clone()]
            ),
            s("Tuesday, 02-Jan-18 23:12:01 UTC")
        );
        assert_eq!(
            ok("formatdate", vec![s("h:mm aa"), t.clone()]),
            s("23:12 pm")
        );
        assert_eq!(
            ok("formatdate", vec![s("H:mm AA"), t.clone()]),
            s("11:12 PM")
        );
        assert_eq!(
            ok(
                "formatdate",
                vec![s("MMM D, YYYY 'at' ZZZZZ"), s("2018-01-02T23:12:01+05:30")]
            ),
            s("Jan 2, 2018 at +05:30")
        );
        assert_eq!(
            ok("formatdate", vec![s("'It''s' h"), t.clone()]),
            s("It's 23")
        );
        assert!(
            err("formatdate", vec![s("YYY"), t.clone()])
                .to_string()
                .contains("verb")
        );
        assert!(
            err("formatdate", vec![s("YYYY"), s("2018-01-02")])
                .to_string()
                .contains("RFC3339")
        );
    }

    #[test]
    fn timeadd_and_timecmp() {
        assert_eq!(
            ok("timeadd", vec![s("2017-11-22T00:00:00Z"), s("10m")]),
            s("2017-11-22T00:10:00Z")
        );
        assert_eq!(
            ok("timeadd", vec![s("2017-11-22T00:00:00+01:00"), s("-1h30m")]),
            s("2017-11-21T22:30:00+01:00")
        );
        assert!(
            err("timeadd", vec![s("2017-11-22T00:00:00Z"), s("10d")])
                .to_string()
                .contains("duration")
        );
        assert_eq!(
            ok(
                "timecmp",
                vec![s("2017-11-22T00:00:00Z"), s("2017-11-22T01:00:00+01:00")]
            ),
            n(0)
        );
        assert_eq!(
            ok(
                "timecmp",
                vec![s("2017-11-22T00:00:00Z"), s("2017-11-22T00:00:01Z")]
            ),
            n(-1)
        );
        assert_eq!(parse_duration("1.5h"), Some(5_400_000_000_000));
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("3"), None);
    }
}
