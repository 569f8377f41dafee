//! Durations as braid's flags, environment variables, provider settings and annotations
//! write them.

use std::time::Duration;

use crate::{Path, ProviderDiagnostic};

/// Parses `0`, `45` (seconds), `500ms`, `30s`, `5m`, `1h` and sums like `1h30m`; `None` for
/// anything else, or a duration too large to hold.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok().map(Duration::from_secs);
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let part = match &rest[..unit_len] {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number.checked_mul(60)?),
            "h" => Duration::from_secs(number.checked_mul(3600)?),
            _ => return None,
        };
        total = total.checked_add(part)?;
        rest = &rest[unit_len..];
    }
    Some(total)
}

/// A provider setting `name` written as a duration (`request_timeout = "30s"`): its value,
/// or a diagnostic at the attribute when `text` is not a positive duration.
pub fn duration_setting(name: &str, text: &str) -> Result<Duration, ProviderDiagnostic> {
    match parse_duration(text) {
        Some(duration) if !duration.is_zero() => Ok(duration),
        _ => Err(ProviderDiagnostic::error(
            format!("Invalid {}", name.replace('_', " ")),
            format!(
                "{name} is \"{text}\", which is not a duration. Write a positive number with a \
                 unit, e.g. \"30s\", \"2m\" or \"1m30s\"."
            ),
        )
        .at(Path::key(name))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_duration("45"), Some(Duration::from_secs(45)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("5 days"), None);
        assert_eq!(parse_duration("m5"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("99999999999999999999h"), None);
    }
}
