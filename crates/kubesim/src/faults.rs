//! Fault injection and the request log, for reliability tests.
//!
//! Faults are plain data (`Faults`) set in `Config`, through `Server::faults()` at runtime, or
//! over HTTP at `/kubesim/faults`. Every API request first asks `FaultInjector::decide` what
//! to do: scripted failures for matching requests come first, then the random failure rate.
//! Admin requests under `/kubesim/` are never faulted or logged.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A kind of random failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FailureMode {
    /// 500 InternalError.
    InternalError,
    /// 429 TooManyRequests with `Retry-After: 1`.
    TooManyRequests,
    /// Close the connection without a response.
    DropConnection,
}

/// Fail the next `times` requests matching `method` and `path`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScriptedFailure {
    /// HTTP method to match (any when absent), e.g. `PATCH`.
    #[serde(default)]
    pub method: Option<String>,
    /// Path pattern: a glob when it contains `*` (which also matches `/`), else a substring.
    pub path: String,
    /// How many matching requests fail.
    #[serde(default = "one")]
    pub times: u32,
    /// Status code to answer with (default 500; 429 adds `Retry-After: 1`).
    #[serde(default)]
    pub status: Option<u16>,
    /// Close the connection without a response instead of answering.
    #[serde(default)]
    pub drop_connection: bool,
}

fn one() -> u32 {
    1
}

/// All fault settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct Faults {
    /// Added latency per request, in milliseconds.
    pub latency_ms: u64,
    /// Probability (0.0–1.0) that a request fails with one of `failure_modes`.
    pub failure_rate: f64,
    /// Modes the random failures choose among; empty means all three.
    pub failure_modes: Vec<FailureMode>,
    /// Scripted failures, consumed in order of matching.
    pub scripted: Vec<ScriptedFailure>,
    /// Seed for the random failures, so runs are reproducible (0 picks a fixed default).
    pub seed: u64,
}

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultAction {
    /// Serve normally.
    Pass,
    /// Answer with this status code and a Status body.
    Respond(u16),
    /// Close the connection without answering.
    Drop,
}

#[derive(Debug)]
struct FaultState {
    faults: Faults,
    rng: u64,
}

/// Shared, runtime-adjustable fault settings.
#[derive(Debug, Clone)]
pub struct FaultInjector {
    state: Arc<Mutex<FaultState>>,
}

fn seed_of(faults: &Faults) -> u64 {
    if faults.seed == 0 {
        0x9E37_79B9_7F4A_7C15
    } else {
        faults.seed
    }
}

impl FaultInjector {
    /// Injector starting with `faults`.
    pub fn new(faults: Faults) -> Self {
        let rng = seed_of(&faults);
        FaultInjector {
            state: Arc::new(Mutex::new(FaultState { faults, rng })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, FaultState> {
        // A poisoned lock only means another request panicked mid-update of plain data.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Current settings (scripted entries show their remaining counts).
    pub fn get(&self) -> Faults {
        self.lock().faults.clone()
    }

    /// Replaces all settings.
    pub fn set(&self, faults: Faults) {
        let mut state = self.lock();
        state.rng = seed_of(&faults);
        state.faults = faults;
    }

    /// Removes every fault.
    pub fn clear(&self) {
        self.set(Faults::default());
    }

    /// Sets the added latency.
    pub fn set_latency(&self, latency: Duration) {
        self.lock().faults.latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
    }

    /// Sets the random failure rate (clamped to 0.0–1.0).
    pub fn set_failure_rate(&self, rate: f64) {
        self.lock().faults.failure_rate = rate.clamp(0.0, 1.0);
    }

    /// Restricts random failures to these modes (empty: all).
    pub fn set_failure_modes(&self, modes: Vec<FailureMode>) {
        self.lock().faults.failure_modes = modes;
    }

    /// Adds a scripted failure.
    pub fn script(&self, failure: ScriptedFailure) {
        self.lock().faults.scripted.push(failure);
    }

    /// Decides the latency and outcome for a request.
    pub fn decide(&self, method: &str, path: &str) -> (Duration, FaultAction) {
        let mut state = self.lock();
        let latency = Duration::from_millis(state.faults.latency_ms);
        let scripted = state.faults.scripted.iter_mut().find(|s| {
            s.times > 0
                && s.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && path_matches(&s.path, path)
        });
        if let Some(s) = scripted {
            s.times -= 1;
            let action = if s.drop_connection {
                FaultAction::Drop
            } else {
                FaultAction::Respond(s.status.unwrap_or(500))
            };
            state.faults.scripted.retain(|s| s.times > 0);
            return (latency, action);
        }
        let rate = state.faults.failure_rate;
        if rate > 0.0 && next_unit(&mut state.rng) < rate {
            let modes = if state.faults.failure_modes.is_empty() {
                vec![
                    FailureMode::InternalError,
                    FailureMode::TooManyRequests,
                    FailureMode::DropConnection,
                ]
            } else {
                state.faults.failure_modes.clone()
            };
            let pick = usize::try_from(next_u64(&mut state.rng) % modes.len() as u64).unwrap_or(0);
            let action = match modes[pick] {
                FailureMode::InternalError => FaultAction::Respond(500),
                FailureMode::TooManyRequests => FaultAction::Respond(429),
                FailureMode::DropConnection => FaultAction::Drop,
            };
            return (latency, action);
        }
        (latency, FaultAction::Pass)
    }
}

/// xorshift64*: tiny, seedable, good enough for picking failures.
fn next_u64(state: &mut u64) -> u64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

fn next_unit(state: &mut u64) -> f64 {
    (next_u64(state) >> 11) as f64 / (1u64 << 53) as f64
}

/// Glob (`*` matches anything, including `/`) when the pattern has `*`, else substring.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    if !pattern.contains('*') {
        return path.contains(pattern);
    }
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut rest = path;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(pos) => rest = &rest[pos + part.len()..],
                None => return false,
            }
        }
    }
    rest.is_empty()
}

/// One served (or dropped) request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// HTTP method.
    pub method: String,
    /// Path without query.
    pub path: String,
    /// Raw query string ("" when none).
    pub query: String,
    /// Response status; 0 when the connection was dropped.
    pub status: u16,
}

/// Append-only log of API requests.
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    records: Arc<Mutex<Vec<RequestRecord>>>,
}

impl RequestLog {
    fn lock(&self) -> MutexGuard<'_, Vec<RequestRecord>> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends a record (the oldest half is dropped past 100,000 entries).
    pub fn push(&self, record: RequestRecord) {
        let mut records = self.lock();
        if records.len() >= 100_000 {
            records.drain(..50_000);
        }
        records.push(record);
    }

    /// A copy of all records.
    pub fn snapshot(&self) -> Vec<RequestRecord> {
        self.lock().clone()
    }

    /// Forgets all records.
    pub fn clear(&self) {
        self.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_and_substring_patterns() {
        assert!(path_matches(
            "/apis/apps/v1/*deployments*",
            "/apis/apps/v1/namespaces/a/deployments/web"
        ));
        assert!(path_matches(
            "configmaps",
            "/api/v1/namespaces/a/configmaps"
        ));
        assert!(!path_matches(
            "/api/*/secrets",
            "/api/v1/namespaces/a/configmaps"
        ));
    }

    #[test]
    fn scripted_failures_count_down() {
        let faults = FaultInjector::new(Faults::default());
        faults.script(ScriptedFailure {
            method: Some("GET".into()),
            path: "configmaps".into(),
            times: 2,
            status: Some(503),
            drop_connection: false,
        });
        let path = "/api/v1/namespaces/d/configmaps";
        assert_eq!(faults.decide("POST", path).1, FaultAction::Pass);
        assert_eq!(faults.decide("GET", path).1, FaultAction::Respond(503));
        assert_eq!(faults.decide("GET", path).1, FaultAction::Respond(503));
        assert_eq!(faults.decide("GET", path).1, FaultAction::Pass);
    }

    #[test]
    fn failure_rate_one_always_fails() {
        let faults = FaultInjector::new(Faults {
            failure_rate: 1.0,
            failure_modes: vec![FailureMode::TooManyRequests],
            ..Faults::default()
        });
        for _ in 0..10 {
            assert_eq!(faults.decide("GET", "/api").1, FaultAction::Respond(429));
        }
    }
}
