//! Durations as flags and environment variables write them: `0`, `45`, `500ms`, `30s`,
//! `5m`, `1h`, `1h30m` (one parser for braid and its providers).

pub use braid_provider::parse_duration;

/// A duration as braid.hcl writes one: `6h`, `1h30m`, `90s`, `500ms`.
pub fn format_duration(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    out
}
