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
    // The heartbeat runs beside the work, both polled whenever woken: a beat waiting for the
    // store (a backend with one connection, held by the work in the middle of a query) must
    // never stop the work from going on and releasing it, or the two wait for each other.
    let result = tokio::select! {
        result = work => result,
        never = beat(store, &lock_id, settings.heartbeat, observer) => match never {},
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

/// Renews the heartbeat of lock `lock_id` every `period`, for as long as it is polled.
async fn beat(
    store: &dyn StateStore,
    lock_id: &str,
    period: std::time::Duration,
    observer: &dyn LockObserver,
) -> std::convert::Infallible {
    let mut heartbeat = tokio::time::interval(period);
    heartbeat.tick().await;
    loop {
        heartbeat.tick().await;
        match store.heartbeat(lock_id).await {
            Ok(()) => tracing::trace!(lock = %lock_id, "state lock heartbeat"),
            Err(e) => {
                tracing::warn!(lock = %lock_id, error = %e, "state lock heartbeat failed");
                observer.heartbeat_failed(&e.to_string());
            }
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use async_trait::async_trait;
    use braid_state::{
        ApplyId, ApplyOutcome, ApplyRecord, ChangeRecord, ChangeSummary, LockInfo, LockPolicy,
        LockRequest, NewApply, ResourceRecord, ResourceWrite, SqliteStore, StateDump, StateError,
        StateMeta, StateStore,
    };
    use tokio::sync::Mutex;

    use super::{LockObserver, LockSettings, with_lock};

    /// A real SQLite store whose heartbeat needs `connection`, as a backend with one
    /// connection does; everything else goes straight to SQLite.
    struct OneConnection {
        inner: SqliteStore,
        connection: Arc<Mutex<()>>,
    }

    #[async_trait]
    impl StateStore for OneConnection {
        fn location(&self) -> String {
            self.inner.location()
        }
        async fn meta(&self) -> Result<StateMeta, StateError> {
            self.inner.meta().await
        }
        async fn resources(&self) -> Result<Vec<ResourceRecord>, StateError> {
            self.inner.resources().await
        }
        async fn resource(&self, address: &str) -> Result<Option<ResourceRecord>, StateError> {
            self.inner.resource(address).await
        }
        async fn commit_resource(
            &self,
            serial: u64,
            write: ResourceWrite,
        ) -> Result<u64, StateError> {
            self.inner.commit_resource(serial, write).await
        }
        async fn outputs(&self) -> Result<Vec<braid_state::OutputRecord>, StateError> {
            self.inner.outputs().await
        }
        async fn replace_outputs(
            &self,
            expected_serial: u64,
            outputs: Vec<braid_state::OutputRecord>,
        ) -> Result<(), StateError> {
            self.inner.replace_outputs(expected_serial, outputs).await
        }
        async fn begin_apply(&self, apply: NewApply) -> Result<ApplyId, StateError> {
            self.inner.begin_apply(apply).await
        }
        async fn finish_apply(
            &self,
            id: ApplyId,
            summary: ChangeSummary,
            outcome: ApplyOutcome,
        ) -> Result<(), StateError> {
            self.inner.finish_apply(id, summary, outcome).await
        }
        async fn applies(&self, limit: usize) -> Result<Vec<ApplyRecord>, StateError> {
            self.inner.applies(limit).await
        }
        async fn apply_record(&self, id: ApplyId) -> Result<Option<ApplyRecord>, StateError> {
            self.inner.apply_record(id).await
        }
        async fn changes(&self, id: ApplyId) -> Result<Vec<ChangeRecord>, StateError> {
            self.inner.changes(id).await
        }
        async fn lock(&self, request: LockRequest) -> Result<LockInfo, StateError> {
            self.inner.lock(request).await
        }
        async fn heartbeat(&self, lock_id: &str) -> Result<(), StateError> {
            let _connection = self.connection.lock().await;
            self.inner.heartbeat(lock_id).await
        }
        async fn unlock(&self, lock_id: &str) -> Result<(), StateError> {
            self.inner.unlock(lock_id).await
        }
        async fn current_lock(&self) -> Result<Option<LockInfo>, StateError> {
            self.inner.current_lock().await
        }
        async fn document(&self, name: &str) -> Result<Option<braid_state::Document>, StateError> {
            self.inner.document(name).await
        }
        async fn documents(&self, prefix: &str) -> Result<Vec<braid_state::Document>, StateError> {
            self.inner.documents(prefix).await
        }
        async fn document_names(&self, prefix: &str) -> Result<Vec<String>, StateError> {
            self.inner.document_names(prefix).await
        }
        async fn put_document(
            &self,
            name: &str,
            body: &[u8],
            precondition: braid_state::Precondition<'_>,
        ) -> Result<String, StateError> {
            self.inner.put_document(name, body, precondition).await
        }
        async fn delete_document(
            &self,
            name: &str,
            precondition: braid_state::Precondition<'_>,
        ) -> Result<(), StateError> {
            self.inner.delete_document(name, precondition).await
        }
        async fn steal_lock(
            &self,
            expected_id: &str,
            request: LockRequest,
        ) -> Result<LockInfo, StateError> {
            self.inner.steal_lock(expected_id, request).await
        }
        async fn replace_state(&self, serial: u64, dump: &StateDump) -> Result<(), StateError> {
            self.inner.replace_state(serial, dump).await
        }
    }

    struct Quiet;
    impl LockObserver for Quiet {}

    /// Work that holds the store's one connection across heartbeats (a query in flight)
    /// finishes: the heartbeat waits for the connection without stopping the work. Before,
    /// the beat was awaited in place of the work, and both waited for ever.
    #[tokio::test]
    async fn a_heartbeat_waiting_for_the_connection_does_not_stop_the_work() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = OneConnection {
            inner: SqliteStore::open(&dir.path().join("state.db")).expect("open"),
            connection: Arc::new(Mutex::new(())),
        };
        let settings = LockSettings {
            policy: LockPolicy::default(),
            heartbeat: Duration::from_millis(10),
        };
        let connection = Arc::clone(&store.connection);
        let work = async move {
            let _held = connection.lock().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(42)
        };
        let request = crate::actor::lock_request("apply", dir.path());
        let finished = tokio::time::timeout(
            Duration::from_secs(10),
            with_lock(&store, request, &settings, &Quiet, work),
        )
        .await;
        assert!(
            matches!(finished, Ok(Ok(42))),
            "the work never finished: {finished:?}"
        );
    }
}
