//! Release windows: an environment's `window` blocks say when changes may be applied, as
//! Argo CD's sync windows do.
//!
//! ```hcl
//! environment "prod" {
//!   window {
//!     kind     = "allow"              # or "deny"
//!     schedule = "0 9 * * 1-4"        # cron: when the window opens
//!     duration = "6h"                 # how long it stays open
//!     timezone = "Europe/Rome"        # the schedule's zone (default UTC)
//!     resources = ["k8s/*"]           # optional: only changes of these addresses (globs)
//!     sources   = ["apps"]            # optional: only changes of these sources' resources
//!     manual_apply = true             # optional: `braid apply` by a person may run anyway
//!   }
//! }
//! ```
//!
//! A window concerns a plan when one of its changes matches (every change, without
//! `resources` and `sources`). The plan may be applied when no deny window that concerns it
//! is open and, if allow windows concern it, one of them is open — deny wins.

use std::time::Duration;

use chrono::{DateTime, TimeZone as _, Utc};
use serde::Serialize;

use crate::diag::{Diagnostic, Location};

/// The variable that sets the clock the windows are judged by (RFC 3339): for tests, and
/// to ask "could this be applied then?".
pub const CLOCK_ENV: &str = "BRAID_NOW";

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowKind {
    /// Changes may be applied only while a window of this kind is open.
    Allow,
    /// Changes may not be applied while a window of this kind is open.
    Deny,
}

/// One `window` block.
#[derive(Debug, Clone)]
pub struct WindowConfig {
    /// Allow or deny.
    pub kind: WindowKind,
    /// The schedule as written.
    pub schedule_text: String,
    schedule: croner::Cron,
    /// How long the window stays open after each start.
    pub duration: Duration,
    /// The schedule's time zone.
    pub timezone: chrono_tz::Tz,
    /// Address globs the window concerns; empty: every resource.
    pub resources: Vec<String>,
    /// Source names the window concerns; empty: every source.
    pub sources: Vec<String>,
    /// A person's `braid apply` is not held back by this window.
    pub manual_apply: bool,
    /// Where the block is written.
    pub location: Option<Location>,
}

impl WindowConfig {
    /// A window from its settings, or what is wrong with them (the caller adds the place).
    pub fn new(
        kind: &str,
        schedule: &str,
        duration: Duration,
        timezone: Option<&str>,
    ) -> Result<WindowConfig, Diagnostic> {
        let kind = match kind {
            "allow" => WindowKind::Allow,
            "deny" => WindowKind::Deny,
            other => {
                return Err(Diagnostic::error(
                    "Invalid window kind",
                    format!(
                        "kind is \"{other}\"; a window is kind = \"allow\" or kind = \"deny\"."
                    ),
                ));
            }
        };
        let cron: croner::Cron = schedule.parse().map_err(|e| {
            Diagnostic::error(
                "Invalid window schedule",
                format!("schedule \"{schedule}\" is not a cron expression ({e}). Write five fields: minute hour day-of-month month day-of-week, like \"0 9 * * 1-5\" (09:00 Monday to Friday)."),
            )
        })?;
        let timezone = match timezone {
            None => chrono_tz::UTC,
            Some(name) => name.parse().map_err(|_| {
                Diagnostic::error(
                    "Unknown time zone",
                    format!("timezone \"{name}\" is not a zone of the IANA time zone database; write it like \"Europe/Rome\", \"America/New_York\" or \"UTC\"."),
                )
            })?,
        };
        if duration.is_zero() {
            return Err(Diagnostic::error(
                "Invalid window duration",
                "duration must be more than zero, like \"6h\" or \"90m\".",
            ));
        }
        Ok(WindowConfig {
            kind,
            schedule_text: schedule.to_string(),
            schedule: cron,
            duration,
            timezone,
            resources: Vec::new(),
            sources: Vec::new(),
            manual_apply: false,
            location: None,
        })
    }

    /// Whether a change of `address` from `source` concerns this window.
    fn concerns(&self, address: &str, source: Option<&str>) -> bool {
        (self.sources.is_empty() || source.is_some_and(|s| self.sources.iter().any(|w| w == s)))
            && (self.resources.is_empty() || self.resources.iter().any(|g| glob(g, address)))
    }

    /// The start of the opening that holds `at`, if the window is open then.
    fn open_since(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let duration = chrono::Duration::from_std(self.duration).ok()?;
        // The latest start at or before `at`: the opening that ends last (all last as long).
        let start = self
            .schedule
            .find_previous_occurrence(&at.with_timezone(&self.timezone), true)
            .ok()?
            .with_timezone(&Utc);
        // Open on [start, start + duration).
        (at < start + duration).then_some(start)
    }

    /// The window's next starts and ends after `at`, at most `count` openings.
    fn edges_after(&self, at: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        let Ok(duration) = chrono::Duration::from_std(self.duration) else {
            return Vec::new();
        };
        let mut edges = Vec::new();
        if let Some(start) = self.open_since(at) {
            edges.push(start + duration);
        }
        let mut from = at.with_timezone(&self.timezone);
        for _ in 0..count {
            let Ok(start) = self.schedule.find_next_occurrence(&from, false) else {
                break;
            };
            let utc = start.with_timezone(&Utc);
            edges.push(utc);
            edges.push(utc + duration);
            from = start;
        }
        edges
    }

    /// The window in one line: `allow "0 9 * * 1-4" for 6h (Europe/Rome)`.
    pub fn describe(&self) -> String {
        let kind = match self.kind {
            WindowKind::Allow => "allow",
            WindowKind::Deny => "deny",
        };
        format!(
            "{kind} window \"{}\" for {} ({})",
            self.schedule_text,
            crate::config::format_duration(self.duration),
            self.timezone.name()
        )
    }
}

/// Whether the windows let a plan be applied now, and if not why and until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct WindowVerdict {
    /// The plan may be applied now.
    pub allowed: bool,
    /// Why, in one sentence: which window is open or closed.
    pub reason: String,
    /// When it may be applied next, when not now (within a year).
    pub next_open: Option<DateTime<Utc>>,
    /// The time the verdict was made for.
    pub at: DateTime<Utc>,
}

impl WindowVerdict {
    /// `next_open` in UTC and in the zone of the first window, for messages.
    pub fn next_open_text(&self, windows: &[WindowConfig]) -> String {
        match self.next_open {
            None => "not within the next year".to_string(),
            Some(next) => {
                let zone = windows.first().map_or(chrono_tz::UTC, |w| w.timezone);
                let local = next.with_timezone(&zone);
                format!(
                    "{} ({} {})",
                    next.format("%Y-%m-%d %H:%M UTC"),
                    local.format("%Y-%m-%d %H:%M %Z"),
                    zone.name()
                )
            }
        }
    }
}

/// The time windows are judged at: `BRAID_NOW` when set (RFC 3339), else now.
pub fn clock() -> Result<DateTime<Utc>, Diagnostic> {
    match std::env::var(CLOCK_ENV) {
        Ok(text) if !text.is_empty() => DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| {
                Diagnostic::error(
                    "Invalid BRAID_NOW",
                    format!("BRAID_NOW is \"{text}\", which is not an RFC 3339 time ({e}); write it like 2026-12-24T09:30:00Z or 2026-12-24T10:30:00+01:00."),
                )
            }),
        _ => Ok(Utc::now()),
    }
}

/// Whether a plan whose changes are `changes` (address, source) may be applied at `at`
/// under `windows`; `manual`: a person applies (windows with `manual_apply` do not hold
/// it back).
pub fn check(
    windows: &[WindowConfig],
    changes: &[(&str, Option<&str>)],
    at: DateTime<Utc>,
    manual: bool,
) -> WindowVerdict {
    let concerned: Vec<&WindowConfig> = windows
        .iter()
        .filter(|w| !(manual && w.manual_apply))
        .filter(|w| changes.iter().any(|(a, s)| w.concerns(a, *s)))
        .collect();
    let (allowed, reason) = judge(&concerned, at);
    if allowed {
        return WindowVerdict {
            allowed,
            reason,
            next_open: None,
            at,
        };
    }
    let mut edges: Vec<DateTime<Utc>> = concerned
        .iter()
        .flat_map(|w| w.edges_after(at, 400))
        .filter(|t| *t > at && *t <= at + chrono::Duration::days(366))
        .collect();
    edges.sort();
    edges.dedup();
    let next_open = edges.into_iter().find(|t| judge(&concerned, *t).0);
    WindowVerdict {
        allowed,
        reason,
        next_open,
        at,
    }
}

/// Allowed at `at`, and why.
fn judge(windows: &[&WindowConfig], at: DateTime<Utc>) -> (bool, String) {
    if let Some(deny) = windows
        .iter()
        .find(|w| w.kind == WindowKind::Deny && w.open_since(at).is_some())
    {
        let until = deny.open_since(at).and_then(|s| {
            chrono::Duration::from_std(deny.duration)
                .ok()
                .map(|d| s + d)
        });
        return (
            false,
            format!(
                "the {} is open{}",
                deny.describe(),
                until
                    .map(|u| format!(
                        " until {}",
                        u.with_timezone(&deny.timezone).format("%Y-%m-%d %H:%M %Z")
                    ))
                    .unwrap_or_default()
            ),
        );
    }
    let allows: Vec<&&WindowConfig> = windows
        .iter()
        .filter(|w| w.kind == WindowKind::Allow)
        .collect();
    if allows.is_empty() {
        return (
            true,
            "no release window holds these changes back".to_string(),
        );
    }
    match allows.iter().find(|w| w.open_since(at).is_some()) {
        Some(open) => (true, format!("the {} is open", open.describe())),
        None => (
            false,
            format!(
                "no allow window is open ({})",
                allows
                    .iter()
                    .map(|w| w.describe())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ),
    }
}

/// `*` matches any run of characters (slashes too); everything else literally.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

/// A UTC time from a local wall-clock time in `zone` (the earliest when ambiguous), for
/// tests and messages.
pub fn local(zone: chrono_tz::Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    zone.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .earliest()
        .expect("a time that exists in the zone")
        .with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(kind: &str, schedule: &str, hours: u64, zone: &str) -> WindowConfig {
        WindowConfig::new(
            kind,
            schedule,
            Duration::from_secs(hours * 3600),
            Some(zone),
        )
        .expect("a window")
    }

    const ALL: &[(&str, Option<&str>)] = &[("k8s/apps/Deployment/shop/web", Some("apps"))];

    #[test]
    fn an_allow_window_opens_in_its_own_zone() {
        // 09:00 to 15:00 Rome time, Monday to Thursday.
        let w = [window("allow", "0 9 * * 1-4", 6, "Europe/Rome")];
        let rome = chrono_tz::Europe::Rome;
        // Tuesday 2026-12-08 10:00 in Rome (09:00 UTC): open.
        assert!(check(&w, ALL, local(rome, 2026, 12, 8, 10, 0), false).allowed);
        // 08:30 in Rome (07:30 UTC): closed, opens at 09:00 Rome = 08:00 UTC.
        let closed = check(&w, ALL, local(rome, 2026, 12, 8, 8, 30), false);
        assert!(!closed.allowed);
        assert_eq!(closed.next_open, Some(local(rome, 2026, 12, 8, 9, 0)));
        assert!(
            closed.reason.contains("no allow window is open"),
            "{}",
            closed.reason
        );
        // Thursday 15:00 sharp is closed (the window is [09:00, 15:00)); Friday too: the
        // next opening is Monday 09:00.
        let friday = check(&w, ALL, local(rome, 2026, 12, 11, 11, 0), false);
        assert_eq!(friday.next_open, Some(local(rome, 2026, 12, 14, 9, 0)));
        assert!(!check(&w, ALL, local(rome, 2026, 12, 10, 15, 0), false).allowed);
        assert!(check(&w, ALL, local(rome, 2026, 12, 10, 14, 59), false).allowed);
    }

    #[test]
    fn deny_wins_over_allow() {
        let rome = chrono_tz::Europe::Rome;
        let w = [
            window("allow", "0 0 * * *", 24, "Europe/Rome"),
            // Christmas freeze: from Dec 24 00:00 for 3 days.
            window("deny", "0 0 24 12 *", 72, "Europe/Rome"),
        ];
        let frozen = check(&w, ALL, local(rome, 2026, 12, 25, 12, 0), false);
        assert!(!frozen.allowed);
        assert!(
            frozen.reason.contains("deny window \"0 0 24 12 *\""),
            "{}",
            frozen.reason
        );
        assert!(
            frozen.reason.contains("until 2026-12-27 00:00 CET"),
            "{}",
            frozen.reason
        );
        assert_eq!(frozen.next_open, Some(local(rome, 2026, 12, 27, 0, 0)));
        assert!(check(&w, ALL, local(rome, 2026, 12, 27, 0, 0), false).allowed);
    }

    #[test]
    fn across_daylight_saving_time() {
        // Berlin moves from CET (+1) to CEST (+2) on 2026-03-29 at 02:00.
        let berlin = chrono_tz::Europe::Berlin;
        let w = [window("allow", "0 9 * * *", 2, "Europe/Berlin")];
        // 09:00 local is 08:00 UTC before the change and 07:00 UTC after it.
        let before = check(
            &w,
            ALL,
            Utc.with_ymd_and_hms(2026, 3, 28, 8, 30, 0).unwrap(),
            false,
        );
        assert!(before.allowed, "{before:?}");
        let after = check(
            &w,
            ALL,
            Utc.with_ymd_and_hms(2026, 3, 29, 7, 30, 0).unwrap(),
            false,
        );
        assert!(after.allowed, "{after:?}");
        let early = check(
            &w,
            ALL,
            Utc.with_ymd_and_hms(2026, 3, 29, 6, 30, 0).unwrap(),
            false,
        );
        assert!(!early.allowed);
        assert_eq!(early.next_open, Some(local(berlin, 2026, 3, 29, 9, 0)));
        assert_eq!(
            early.next_open,
            Some(Utc.with_ymd_and_hms(2026, 3, 29, 7, 0, 0).unwrap())
        );
        // New York changes on another day (2026-03-08): a window there keeps its local hour.
        let ny = [window("deny", "0 17 * * *", 15, "America/New_York")];
        let evening = check(
            &ny,
            ALL,
            Utc.with_ymd_and_hms(2026, 3, 9, 22, 0, 0).unwrap(),
            false,
        );
        assert!(
            !evening.allowed,
            "18:00 EDT is inside the 17:00 deny window"
        );
        assert_eq!(
            evening.next_open,
            Some(Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap()),
            "08:00 EDT the next morning"
        );
    }

    #[test]
    fn windows_concern_only_their_resources_and_sources() {
        let mut deny = window("deny", "0 0 * * *", 24, "UTC");
        deny.resources = vec!["aws_*".to_string()];
        let w = [deny];
        let now = Utc.with_ymd_and_hms(2026, 12, 8, 12, 0, 0).unwrap();
        assert!(check(&w, ALL, now, false).allowed);
        assert!(!check(&w, &[("aws_db_instance.main", Some("infra"))], now, false).allowed);
        let mut by_source = window("deny", "0 0 * * *", 24, "UTC");
        by_source.sources = vec!["infra".to_string()];
        let w = [by_source];
        assert!(check(&w, ALL, now, false).allowed);
        assert!(!check(&w, &[("local_file.x", Some("infra"))], now, false).allowed);
        // No changes: nothing to hold back.
        assert!(check(&w, &[], now, false).allowed);
    }

    #[test]
    fn manual_apply_lets_a_person_through() {
        let mut freeze = window("deny", "0 0 * * *", 24, "UTC");
        freeze.manual_apply = true;
        let w = [freeze];
        let now = Utc.with_ymd_and_hms(2026, 12, 8, 12, 0, 0).unwrap();
        assert!(!check(&w, ALL, now, false).allowed, "the agent waits");
        assert!(check(&w, ALL, now, true).allowed, "a person may apply");
    }

    #[test]
    fn bad_settings_are_refused() {
        let d = Duration::from_secs(60);
        assert!(WindowConfig::new("maybe", "0 9 * * *", d, None).is_err());
        assert!(WindowConfig::new("allow", "every day", d, None).is_err());
        assert!(WindowConfig::new("allow", "0 9 * * *", d, Some("Mars/Olympus")).is_err());
        assert!(WindowConfig::new("allow", "0 9 * * *", Duration::ZERO, None).is_err());
    }

    #[test]
    fn globs() {
        assert!(glob("k8s/*", "k8s/apps/Deployment/shop/web"));
        assert!(glob("*Deployment*", "k8s/apps/Deployment/shop/web"));
        assert!(glob("aws_*.main", "aws_db_instance.main"));
        assert!(!glob("aws_*", "k8s/x"));
        assert!(glob("exact", "exact"));
    }
}
