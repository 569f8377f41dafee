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

/// Which boot of this machine, and which process-id namespace, this process runs in: Linux's
/// boot id (`/proc/sys/kernel/random/boot_id`, new at every boot), followed by the pid
/// namespace (`/proc/self/ns/pid`) when it can be read, as `BOOT_ID/pid:[INODE]`. `None` where
/// the system has no boot id.
///
/// Recorded with every lock ([`LockRequest::boot_id`]): a pid only names a process within one
/// boot and one pid namespace, so only then can braid tell that the holder is gone.
pub fn this_boot() -> Option<String> {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let boot = boot.trim();
    if boot.is_empty() {
        return None;
    }
    Some(match std::fs::read_link("/proc/self/ns/pid") {
        Ok(namespace) => format!("{boot}/{}", namespace.display()),
        Err(_) => boot.to_string(),
    })
}

/// True when `holder` certainly died: it ran on the machine `request` comes from (same host
/// name) and either that machine has rebooted since (another boot id), or it ran in this
/// boot and pid namespace and its pid no longer exists. Anything less certain (another host,
/// no boot id recorded, another pid namespace) is left to the heartbeat lease.
///
/// `request` must describe the calling process, as it does when it comes from the caller.
pub fn holder_is_dead(holder: &LockInfo, request: &LockRequest) -> bool {
    let (Some(theirs), Some(ours)) = (&holder.boot_id, &request.boot_id) else {
        return false;
    };
    if holder.host != request.host {
        return false;
    }
    let kernel = |boot: &str| boot.split('/').next().unwrap_or_default().to_string();
    if kernel(theirs) != kernel(ours) {
        return true;
    }
    theirs == ours && holder.pid != request.pid && !process_exists(holder.pid)
}

/// Whether a process with this pid exists in this pid namespace: `kill(pid, 0)` succeeds,
/// or fails only because the process belongs to someone else (`EPERM`).
#[cfg(unix)]
fn process_exists(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return true;
    };
    !matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}

/// Without `kill`, no process is known to be gone.
#[cfg(not(unix))]
fn process_exists(_pid: u32) -> bool {
    true
}

/// Takes the lock under `policy`. Fails with [`StateError::Locked`] when the holder is alive
/// and the timeout passed, or [`StateError::LockStale`] when the holder stopped renewing its
/// heartbeat and stealing was not asked for.
///
/// A lock whose holder certainly died ([`holder_is_dead`]: same host, and a reboot since or
/// no such process any more) is taken over at once, without waiting for the lease and without
/// `steal_stale`; [`AcquiredLock::stolen_from`] names it so the caller can say so.
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
        let dead = holder_is_dead(&holder, &request);
        let stale = dead || holder.is_stale(policy.lease, Utc::now());
        if dead || (stale && policy.steal_stale) {
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
