//! Sprig's date functions on Go `time.Time` values (in UTC: braid renders as the oracle does,
//! with `TZ=UTC`; other zones given to `dateInZone` are read as UTC too): `now`, `date`,
//! `dateInZone`, `htmlDate`, `htmlDateInZone`, `toDate`, `mustToDate`, `unixEpoch`,
//! `dateModify`, `duration`, `durationRound`, `ago`. Layouts are Go's reference time.

use std::rc::Rc;

use super::{FuncError, FuncResult, arity, want_str};
use crate::value::{Object, ObjectKind, Value};

/// Unix seconds of Go's zero time (0001-01-01 00:00:00 UTC).
const ZERO_TIME: i64 = -62_135_596_800;

/// A `time.Time` value.
pub(crate) fn time_value(secs: i64, nanos: u32) -> Value {
    Value::Object(Rc::new(Object {
        type_name: "time.Time",
        fields: Vec::new(),
        kind: ObjectKind::Time(secs, nanos),
    }))
}

fn as_time(value: &Value) -> Option<(i64, u32)> {
    match value {
        Value::Object(o) => match o.kind {
            ObjectKind::Time(s, n) => Some((s, n)),
            _ => None,
        },
        Value::Int(i) => Some((*i, 0)),
        _ => None,
    }
}

fn now() -> (i64, u32) {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as i64, d.subsec_nanos())
}

pub(super) fn call(name: &str, args: &[Value]) -> Option<FuncResult> {
    Some(match name {
        "now" => arity(name, args, 0).map(|_| {
            let (s, n) = now();
            time_value(s, n)
        }),
        "date" | "htmlDate" | "dateInZone" | "htmlDateInZone" => {
            let (layout, t) = match name {
                "date" | "dateInZone" => {
                    if args.len() < 2 {
                        return Some(Err(FuncError::Plain(format!(
                            "wrong number of args for {name}: want {} got {}",
                            if name == "date" { 2 } else { 3 },
                            args.len()
                        ))));
                    }
                    match want_str(&args[0]) {
                        Ok(l) => (l.to_string(), &args[1]),
                        Err(e) => return Some(Err(e)),
                    }
                }
                _ => {
                    if args.is_empty() {
                        return Some(Err(FuncError::Plain(format!(
                            "wrong number of args for {name}: want 1 got 0"
                        ))));
                    }
                    ("2006-01-02".to_string(), &args[0])
                }
            };
            let (secs, nanos) = as_time(t).unwrap_or_else(now);
            Ok(Value::string(format(&layout, secs, nanos)))
        }
        "toDate" | "mustToDate" => arity(name, args, 2).and_then(|_| {
            let layout = want_str(&args[0])?;
            let text = want_str(&args[1])?;
            match parse(layout, text) {
                Some((s, n)) => Ok(time_value(s, n)),
                None if name == "mustToDate" => Err(FuncError::Call(format!(
                    "parsing time {text:?} as {layout:?}: cannot parse"
                ))),
                None => Ok(time_value(ZERO_TIME, 0)),
            }
        }),
        "unixEpoch" => arity(name, args, 1).map(|_| {
            let (s, _) = as_time(&args[0]).unwrap_or((ZERO_TIME, 0));
            Value::string(s.to_string())
        }),
        "dateModify" | "mustDateModify" => arity(name, args, 2).and_then(|_| {
            let by = want_str(&args[0])?;
            let (s, n) = as_time(&args[1]).unwrap_or((ZERO_TIME, 0));
            match parse_duration(by) {
                Some(d) => {
                    let total = s as i128 * 1_000_000_000 + n as i128 + d;
                    Ok(time_value(
                        total.div_euclid(1_000_000_000) as i64,
                        total.rem_euclid(1_000_000_000) as u32,
                    ))
                }
                None if name == "mustDateModify" => {
                    Err(FuncError::Call(format!("time: invalid duration {by:?}")))
                }
                None => Ok(args[1].clone()),
            }
        }),
        "duration" => arity(name, args, 1).map(|_| {
            // Sprig reads a string or an int64; Go's plain int (a literal) gives 0s.
            let seconds: i64 = match &args[0] {
                Value::String(s) => s.parse().unwrap_or(0),
                _ => 0,
            };
            Value::string(duration_string(seconds as i128 * 1_000_000_000))
        }),
        "durationRound" => arity(name, args, 1).map(|_| {
            let d: i128 = match &args[0] {
                Value::String(s) => parse_duration(s).unwrap_or(0),
                Value::Object(_) => {
                    let (s, n) = as_time(&args[0]).unwrap_or((0, 0));
                    let (ns, nn) = now();
                    (ns as i128 - s as i128) * 1_000_000_000 + nn as i128 - n as i128
                }
                _ => 0,
            };
            Value::string(round_duration(d))
        }),
        "ago" => arity(name, args, 1).map(|_| {
            let (s, _) = as_time(&args[0]).unwrap_or((0, 0));
            let (ns, _) = now();
            Value::string(duration_string((ns - s) as i128 * 1_000_000_000))
        }),
        _ => return None,
    })
}

/// `time.Time.String()`: `2024-03-05 00:00:00 +0000 UTC` (fraction when not zero).
pub(crate) fn go_string(secs: i64, nanos: u32) -> String {
    let mut layout = String::from("2006-01-02 15:04:05");
    if nanos != 0 {
        layout.push_str(".999999999");
    }
    layout.push_str(" -0700 MST");
    format(&layout, secs, nanos)
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
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
const DAYS: [&str; 7] = [
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
];

/// The layout elements Go knows, longest first where one is a prefix of another.
const TOKENS: &[&str] = &[
    "January",
    "Jan",
    "Monday",
    "Mon",
    "MST",
    "2006",
    "-07:00:00",
    "-0700",
    "-07:00",
    "-07",
    "Z07:00:00",
    "Z0700",
    "Z07:00",
    "Z07",
    ".000000000",
    ".999999999",
    ".000000",
    ".999999",
    ".000",
    ".999",
    "01",
    "02",
    "_2",
    "15",
    "03",
    "04",
    "05",
    "06",
    "PM",
    "pm",
    "1",
    "2",
    "3",
    "4",
    "5",
];

fn next_token(layout: &str) -> Option<&'static str> {
    TOKENS.iter().find(|t| layout.starts_with(**t)).copied()
}

/// Formats a UTC time with a Go layout.
pub(crate) fn format(layout: &str, secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (rem / 3600, rem % 3600 / 60, rem % 60);
    let weekday = DAYS[days.rem_euclid(7) as usize];
    let mut out = String::new();
    let mut rest = layout;
    while !rest.is_empty() {
        let Some(token) = next_token(rest) else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        };
        let text = match token {
            "January" => MONTHS[(m - 1) as usize].to_string(),
            "Jan" => MONTHS[(m - 1) as usize][..3].to_string(),
            "Monday" => weekday.to_string(),
            "Mon" => weekday[..3].to_string(),
            "MST" => "UTC".to_string(),
            "2006" => format!("{y:04}"),
            "06" => format!("{:02}", y.rem_euclid(100)),
            "01" => format!("{m:02}"),
            "1" => m.to_string(),
            "02" => format!("{d:02}"),
            "_2" => format!("{d:>2}"),
            "2" => d.to_string(),
            "15" => format!("{hh:02}"),
            "03" => format!("{:02}", if hh % 12 == 0 { 12 } else { hh % 12 }),
            "3" => (if hh % 12 == 0 { 12 } else { hh % 12 }).to_string(),
            "04" => format!("{mm:02}"),
            "4" => mm.to_string(),
            "05" => format!("{ss:02}"),
            "5" => ss.to_string(),
            "PM" => if hh >= 12 { "PM" } else { "AM" }.to_string(),
            "pm" => if hh >= 12 { "pm" } else { "am" }.to_string(),
            "-0700" => "+0000".to_string(),
            "-07:00" => "+00:00".to_string(),
            "-07" => "+00".to_string(),
            "-07:00:00" => "+00:00:00".to_string(),
            t if t.starts_with('Z') => "Z".to_string(),
            t if t.starts_with(".0") => format!(
                ".{:0width$}",
                nanos / 10u32.pow(9 - (t.len() as u32 - 1)),
                width = t.len() - 1
            ),
            t if t.starts_with(".9") => {
                let digits = format!("{:09}", nanos);
                let digits = &digits[..t.len() - 1];
                let trimmed = digits.trim_end_matches('0');
                if trimmed.is_empty() {
                    String::new()
                } else {
                    format!(".{trimmed}")
                }
            }
            other => other.to_string(),
        };
        out.push_str(&text);
        rest = &rest[token.len()..];
    }
    out
}

/// Parses `text` with a Go layout (UTC); `None` when it does not fit.
fn parse(layout: &str, text: &str) -> Option<(i64, u32)> {
    let (mut y, mut m, mut d, mut hh, mut mm, mut ss, mut nanos, mut offset) =
        (1i64, 1i64, 1i64, 0i64, 0i64, 0i64, 0u32, 0i64);
    let mut pm: Option<bool> = None;
    let mut rest_layout = layout;
    let mut s = text;
    let number = |s: &mut &str, min: usize, max: usize| -> Option<i64> {
        let digits: String = s
            .chars()
            .take(max)
            .take_while(|c| c.is_ascii_digit())
            .collect();
        if digits.len() < min {
            return None;
        }
        *s = &s[digits.len()..];
        digits.parse().ok()
    };
    while !rest_layout.is_empty() {
        let Some(token) = next_token(rest_layout) else {
            let c = rest_layout.chars().next()?;
            s = s.strip_prefix(c)?;
            rest_layout = &rest_layout[c.len_utf8()..];
            continue;
        };
        rest_layout = &rest_layout[token.len()..];
        match token {
            "2006" => y = number(&mut s, 4, 4)?,
            "06" => y = 2000 + number(&mut s, 2, 2)?,
            "01" => m = number(&mut s, 2, 2)?,
            "1" => m = number(&mut s, 1, 2)?,
            "02" => d = number(&mut s, 2, 2)?,
            "_2" => {
                s = s.trim_start_matches(' ');
                d = number(&mut s, 1, 2)?;
            }
            "2" => d = number(&mut s, 1, 2)?,
            "15" => hh = number(&mut s, 2, 2)?,
            "03" => hh = number(&mut s, 2, 2)?,
            "3" => hh = number(&mut s, 1, 2)?,
            "04" => mm = number(&mut s, 2, 2)?,
            "4" => mm = number(&mut s, 1, 2)?,
            "05" => ss = number(&mut s, 2, 2)?,
            "5" => ss = number(&mut s, 1, 2)?,
            "January" | "Jan" => {
                let i = MONTHS.iter().position(|name| {
                    let n = if token == "Jan" { &name[..3] } else { name };
                    s.starts_with(n)
                })?;
                let len = if token == "Jan" { 3 } else { MONTHS[i].len() };
                s = &s[len..];
                m = i as i64 + 1;
            }
            "Monday" | "Mon" => {
                let name = DAYS
                    .iter()
                    .find(|name| s.starts_with(if token == "Mon" { &name[..3] } else { name }))?;
                s = &s[if token == "Mon" { 3 } else { name.len() }..];
            }
            "PM" | "pm" => {
                let upper = s.get(..2)?.to_ascii_uppercase();
                pm = Some(upper == "PM");
                s = &s[2..];
            }
            "MST" => {
                let zone: String = s.chars().take_while(|c| c.is_ascii_uppercase()).collect();
                s = &s[zone.len()..];
            }
            t if t.starts_with('Z') && s.starts_with('Z') => s = &s[1..],
            t if t.starts_with('-') || t.starts_with('Z') => {
                let sign = match s.chars().next()? {
                    '+' => 1,
                    '-' => -1,
                    _ => return None,
                };
                s = &s[1..];
                let h = number(&mut s, 2, 2)?;
                let mut minutes = 0;
                if t.contains(':') {
                    if t.len() > 3 {
                        s = s.strip_prefix(':')?;
                        minutes = number(&mut s, 2, 2)?;
                    }
                } else if t.len() > 3 {
                    minutes = number(&mut s, 2, 2)?;
                }
                offset = sign * (h * 3600 + minutes * 60);
            }
            t if t.starts_with('.') => {
                if let Some(after) = s.strip_prefix('.') {
                    let digits: String = after.chars().take_while(|c| c.is_ascii_digit()).collect();
                    s = &after[digits.len()..];
                    let padded = format!("{digits:0<9}");
                    nanos = padded[..9].parse().ok()?;
                } else if t.starts_with(".0") {
                    return None;
                }
            }
            _ => return None,
        }
    }
    // Go accepts a fraction after seconds even when the layout has none.
    if let Some(after) = s
        .strip_prefix('.')
        .filter(|a| !a.is_empty() && a.chars().all(|c| c.is_ascii_digit()))
    {
        let padded = format!("{after:0<9}");
        nanos = padded[..9].parse().ok()?;
        s = "";
    }
    if !s.is_empty()
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&d)
        || hh > 23
        || mm > 59
        || ss > 59
    {
        return None;
    }
    if let Some(pm) = pm {
        hh = hh % 12 + if pm { 12 } else { 0 };
    }
    let secs = days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss - offset;
    Some((secs, nanos))
}

/// `time.ParseDuration`, in nanoseconds.
fn parse_duration(text: &str) -> Option<i128> {
    let (negative, mut s) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if s == "0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !s.is_empty() {
        let number: String = s
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        if number.is_empty() {
            return None;
        }
        s = &s[number.len()..];
        let unit: String = s
            .chars()
            .take_while(|c| !c.is_ascii_digit() && *c != '.')
            .collect();
        s = &s[unit.len()..];
        let scale: f64 = match unit.as_str() {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        total += number.parse::<f64>().ok()? * scale;
    }
    Some(if negative {
        -(total as i128)
    } else {
        total as i128
    })
}

/// `time.Duration.String()`.
fn duration_string(ns: i128) -> String {
    if ns == 0 {
        return "0s".to_string();
    }
    let sign = if ns < 0 { "-" } else { "" };
    let u = ns.unsigned_abs();
    if u < 1_000_000_000 {
        let (value, unit) = if u < 1_000 {
            (u as f64, "ns")
        } else if u < 1_000_000 {
            (u as f64 / 1e3, "µs")
        } else {
            (u as f64 / 1e6, "ms")
        };
        return format!("{sign}{}{unit}", trim_float(value));
    }
    let hours = u / 3_600_000_000_000;
    let minutes = u / 60_000_000_000 % 60;
    let seconds = (u % 60_000_000_000) as f64 / 1e9;
    let mut out = String::from(sign);
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    out.push_str(&format!("{}s", trim_float(seconds)));
    out
}

fn trim_float(f: f64) -> String {
    let text = format!("{f:.9}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Sprig's `durationRound`: the largest whole unit (y, mo, d, h, m, s).
fn round_duration(ns: i128) -> String {
    let u = ns.unsigned_abs();
    let second: u128 = 1_000_000_000;
    let (minute, hour) = (60 * second, 3600 * second);
    let (day, month, year) = (24 * hour, 30 * 24 * hour, 365 * 24 * hour);
    for (size, unit) in [
        (year, "y"),
        (month, "mo"),
        (day, "d"),
        (hour, "h"),
        (minute, "m"),
        (second, "s"),
    ] {
        if u > size {
            return format!("{}{unit}", u / size);
        }
    }
    "0s".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_round_trip() {
        let (s, n) = parse("2006-01-02", "2024-03-05").expect("a date");
        assert_eq!(s, 1_709_596_800);
        assert_eq!(
            format("2006-01-02 15:04 Mon Jan", s, n),
            "2024-03-05 00:00 Tue Mar"
        );
        assert_eq!(go_string(s, 0), "2024-03-05 00:00:00 +0000 UTC");
        assert_eq!(
            parse("2006-01-02T15:04:05Z07:00", "2024-03-05T10:00:00+02:00").map(|t| t.0),
            Some(1_709_596_800 + 8 * 3600)
        );
        assert_eq!(parse("2006-01-02", "nope"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(duration_string(3725 * 1_000_000_000), "1h2m5s");
        assert_eq!(duration_string(1_500_000), "1.5ms");
        assert_eq!(
            round_duration(parse_duration("2h10m5s").expect("a duration")),
            "2h"
        );
        assert_eq!(parse_duration("1.5h"), Some(5_400_000_000_000));
    }
}
