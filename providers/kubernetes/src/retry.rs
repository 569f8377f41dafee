//! Retrying transient API failures: 5xx answers, 429 (honouring `Retry-After`), dropped
//! connections. Everything else fails at once.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{KubeError, Step};

/// How long one API call may keep retrying before braid gives up.
pub const RETRY_DEADLINE: Duration = Duration::from_secs(120);

const FIRST_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(5);

/// Runs `call` until it succeeds, fails permanently, or transient failures outlast
/// [`RETRY_DEADLINE`]. Backoff doubles from 100 ms up to 5 s; a server's `Retry-After`
/// wins when it asks for longer.
pub async fn retrying<T, F, Fut>(step: Step, mut call: F) -> Result<T, KubeError>
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
            Err(error) => KubeError::from_kube(step, error),
        };
        if !error.is_transient() {
            return Err(error);
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
