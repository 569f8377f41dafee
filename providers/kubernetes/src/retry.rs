//! Retrying transient API failures: 5xx answers, 429 (honouring `Retry-After`), dropped
//! connections. Everything else fails at once.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{KubeError, NoAnswer, Step};

/// How long one API call may keep retrying before braid gives up.
pub const RETRY_DEADLINE: Duration = Duration::from_secs(120);

/// How many times a call is tried when nothing listens at the server's address: a
/// restarting API server gets a moment, a wrong address fails in well under a second.
const REFUSED_ATTEMPTS: u32 = 3;
/// How many times a call is tried when the server does not answer within the request
/// timeout: once more, then the run fails instead of waiting for minutes.
const TIMED_OUT_ATTEMPTS: u32 = 2;

const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(5);

/// The API server calls go to, and how long each request may take; named in the
/// diagnostic when it cannot be reached.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The server's URL, from the kubeconfig.
    pub server: String,
    /// The per-request connect and read timeout.
    pub request_timeout: Duration,
}

/// Runs `call` until it succeeds, fails permanently, or transient failures outlast
/// [`RETRY_DEADLINE`]. Backoff doubles from 100 ms up to 5 s; a server's `Retry-After`
/// wins when it asks for longer. A refused connection or a request that timed out is
/// tried only a few times: that server is down or wrong, not busy.
pub async fn retrying<T, F, Fut>(
    step: Step,
    endpoint: &Endpoint,
    mut call: F,
) -> Result<T, KubeError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let deadline = Instant::now() + RETRY_DEADLINE;
    let mut delay = FIRST_DELAY;
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        let error = match call().await {
            Ok(value) => return Ok(value),
            Err(error) => KubeError::from_kube(step, error, endpoint),
        };
        if !error.is_transient() {
            return Err(error);
        }
        let limit = match error.no_answer() {
            Some(NoAnswer::Refused) => Some(REFUSED_ATTEMPTS),
            Some(NoAnswer::TimedOut(_)) => Some(TIMED_OUT_ATTEMPTS),
            None => None,
        };
        if limit.is_some_and(|limit| attempts >= limit) {
            return Err(error.with_attempts(attempts));
        }
        let wait = error
            .retry_after_seconds()
            .map(|s| Duration::from_secs(u64::from(s)))
            .map_or(delay, |asked| asked.max(delay));
        if Instant::now() + wait > deadline {
            return Err(KubeError::RetriesExhausted {
                step,
                attempts,
                last: Box::new(error),
            });
        }
        tokio::time::sleep(wait).await;
        delay = (delay * 2).min(MAX_DELAY);
    }
}
