//! The environment's lock around a piece of work: acquire (waiting or stealing as the
//! policy says), renew the heartbeat while the work runs, release whatever happens. Applies,
//! state edits and migrations all go through [`with_lock`].

use std::future::Future;
use std::time::Duration;

use braid_state::{LockInfo, LockPolicy, LockRequest, StateStore, acquire_lock};

use crate::diag::{Diagnostics, cannot_unlock, lock_error, state_error};

/// How a writer takes the lock and keeps it.
#[derive(Debug, Clone)]
pub struct LockSettings {
    /// How to wait for a lock someone else holds (`--lock-timeout`, `--steal-stale-lock`).
    pub policy: LockPolicy,
    /// How often the heartbeat is renewed while the work runs; a holder silent for longer
    /// than the policy's lease counts as dead.
    pub heartbeat: Duration,
}

impl Default for LockSettings {
    fn default() -> Self {
        LockSettings::new(LockPolicy::default())
    }
}

impl LockSettings {
    /// A heartbeat at a quarter of the policy's lease (at most every 30 s), so a few missed
    /// beats never make a live holder look dead.
    pub fn new(policy: LockPolicy) -> LockSettings {
        let heartbeat =
            (policy.lease / 4).clamp(Duration::from_millis(100), Duration::from_secs(30));
        LockSettings { policy, heartbeat }
    }
}

/// What happens to the lock, for whoever shows progress.
pub trait LockObserver: Send + Sync {
    /// The lock of a holder that stopped renewing it was taken over.
    fn lock_taken_over(&self, _old: &LockInfo) {}
    /// Renewing the heartbeat failed; the work goes on (a later beat may succeed).
    fn heartbeat_failed(&self, _error: &str) {}
}

/// Runs `work` holding the environment's lock, renewing its heartbeat meanwhile, and
/// releases the lock afterwards — also when `work` fails. A failed release is added to the
/// result's diagnostics with the `force-unlock` command that fixes it.
pub async fn with_lock<T>(
    store: &dyn StateStore,
    request: LockRequest,
    settings: &LockSettings,
    observer: &dyn LockObserver,
    work: impl Future<Output = Result<T, Diagnostics>>,
) -> Result<T, Diagnostics> {
    let operation = request.operation.clone();
    let acquired = acquire_lock(store, request, &settings.policy)
        .await
        .map_err(lock_error)?;
    let lock_id = acquired.lock.id.clone();
    tracing::info!(lock = %lock_id, operation = %operation, "state lock acquired");
    if let Some(old) = &acquired.stolen_from {
        tracing::warn!(lock = %old.id, holder = %old.actor, "stale state lock taken over");
        observer.lock_taken_over(old);
    }
    let result = {
        tokio::pin!(work);
        let mut heartbeat = tokio::time::interval(settings.heartbeat);
        heartbeat.tick().await;
        loop {
            tokio::select! {
                result = &mut work => break result,
                _ = heartbeat.tick() => {
                    match store.heartbeat(&lock_id).await {
                        Ok(()) => tracing::trace!(lock = %lock_id, "state lock heartbeat"),
                        Err(e) => {
                            tracing::warn!(lock = %lock_id, error = %e, "state lock heartbeat failed");
                            observer.heartbeat_failed(&e.to_string());
                        }
                    }
                }
            }
        }
    };
    match store.unlock(&lock_id).await {
        Ok(()) => {
            tracing::info!(lock = %lock_id, "state lock released");
            result
        }
        Err(e) => {
            let mut diags = result.err().unwrap_or_default();
            diags.push(cannot_unlock(&e, &lock_id));
            Err(diags)
        }
    }
}

/// The lock held now, if any (for `force-unlock` to show before it removes it).
pub async fn current_lock(store: &dyn StateStore) -> Result<Option<LockInfo>, Diagnostics> {
    store.current_lock().await.map_err(state_error)
}

/// Removes the lock `lock_id` whoever holds it (`braid force-unlock`).
pub async fn force_unlock(store: &dyn StateStore, lock_id: &str) -> Result<(), Diagnostics> {
    store.unlock(lock_id).await.map_err(state_error)?;
    tracing::info!(lock = %lock_id, "state lock removed by force-unlock");
    Ok(())
}
