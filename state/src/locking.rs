//! Taking an environment's lock the way every writer must: wait for a busy lock up to a
//! timeout, and take over a stale one only when asked to.

use std::time::Duration;

use chrono::Utc;

use crate::model::{DEFAULT_LOCK_LEASE, LockInfo, LockRequest};
use crate::store::{StateError, StateStore};

/// How a writer waits for the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockPolicy {
    /// How long to wait for a held lock; zero fails at once (`--lock-timeout`).
    pub timeout: Duration,
    /// Take over a lock whose heartbeat is older than `lease` (`--steal-stale-lock`).
    pub steal_stale: bool,
    /// How long a lock stays valid without a heartbeat.
    pub lease: Duration,
    /// How often a waiting writer asks again.
    pub poll: Duration,
}

impl Default for LockPolicy {
    fn default() -> Self {
        LockPolicy {
            timeout: Duration::ZERO,
            steal_stale: false,
            lease: DEFAULT_LOCK_LEASE,
            poll: Duration::from_millis(500),
        }
    }
}

impl LockPolicy {
    /// How often a holder should renew its heartbeat so that it never looks stale: a quarter
    /// of the lease, at most every 30 s.
    pub fn heartbeat_interval(&self) -> Duration {
        (self.lease / 4).clamp(Duration::from_millis(100), Duration::from_secs(30))
    }
}

/// The lock taken, and the stale lock it replaced, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcquiredLock {
    /// The lock now held; renew it with [`StateStore::heartbeat`] and release it with
    /// [`StateStore::unlock`].
    pub lock: LockInfo,
    /// The stale lock that was taken over, so the caller can tell the user whose apply was
    /// presumed dead.
    pub stolen_from: Option<LockInfo>,
}

/// Takes the lock under `policy`. Fails with [`StateError::Locked`] when the holder is alive
/// and the timeout passed, or [`StateError::LockStale`] when the holder stopped renewing its
/// heartbeat and stealing was not asked for.
pub async fn acquire_lock(
    store: &dyn StateStore,
    request: LockRequest,
    policy: &LockPolicy,
) -> Result<AcquiredLock, StateError> {
    let deadline = tokio::time::Instant::now() + policy.timeout;
    loop {
        let holder = match store.lock(request.clone()).await {
            Ok(lock) => {
                return Ok(AcquiredLock {
                    lock,
                    stolen_from: None,
                });
            }
            Err(StateError::Locked(holder)) => holder,
            Err(other) => return Err(other),
        };
        let stale = holder.is_stale(policy.lease, Utc::now());
        if stale && policy.steal_stale {
            match store.steal_lock(&holder.id, request.clone()).await {
                Ok(lock) => {
                    return Ok(AcquiredLock {
                        lock,
                        stolen_from: Some(*holder),
                    });
                }
                // Someone else released, renewed or stole it first: look again.
                Err(StateError::LockNotFound(_)) => continue,
                Err(other) => return Err(other),
            }
        }
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return Err(if stale {
                StateError::LockStale(holder)
            } else {
                StateError::Locked(holder)
            });
        }
        tokio::time::sleep(policy.poll.min(deadline - now)).await;
    }
}
