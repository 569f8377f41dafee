//! What this machine remembers of each environment's state, so that losing state is never
//! silent.
//!
//! A state store can lose data without any error: a database file replaced by an empty one,
//! an old backup put back, a write-ahead log lost in a crash, a table or bucket prefix
//! emptied by hand. The next plan would then see a new or older state and propose to create
//! again what already exists. [`GuardedStore`] wraps the store of every command and:
//!
//! - remembers the lineage and serial it last saw of the environment's state, in
//!   `.braid/serials/<env>.json` ([`LastSeen`]);
//! - refuses, before anything is read on or written, a state that is older than that
//!   ([`StateError::SerialRegressed`]) or another one altogether, an empty one included
//!   ([`StateError::StateReplaced`]), unless the command was told to accept it
//!   ([`StateAcceptance`]: `--accept-older-state`, `--new-state`);
//! - takes a [snapshot](Snapshots) of the whole state before the first write of every run,
//!   which `braid state restore` puts back.

mod snapshots;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use braid_state::{
    ApplyId, ApplyOutcome, ApplyRecord, ChangeRecord, ChangeSummary, LockInfo, LockRequest,
    NewApply, OutputRecord, ResourceIndexEntry, ResourceRecord, ResourceWrite, StateDump,
    StateError, StateMeta, StateStore,
};

pub use snapshots::{DEFAULT_SNAPSHOTS, SnapshotEntry, Snapshots};

/// What a command accepts about the state it finds, besides the state this machine last saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateAcceptance {
    /// `--new-state`: the environment's state may be a new one (empty, or of another lineage)
    /// although this machine saw another before.
    pub new_state: bool,
    /// `--accept-older-state`: the state may have a lower serial than this machine last saw.
    pub older_state: bool,
}

impl StateAcceptance {
    /// Both: for commands that replace the state whatever it is (`state restore`).
    pub const ANY: StateAcceptance = StateAcceptance {
        new_state: true,
        older_state: true,
    };
}

/// The lineage and serial this machine last saw of one environment's state, kept in
/// `.braid/serials/<env>.json` (`0600`, in a `0700` directory).
#[derive(Debug, Clone)]
pub struct LastSeen {
    path: PathBuf,
}

impl LastSeen {
    /// The record of `env` in the project's `.braid` directory `braid_dir`.
    pub fn new(braid_dir: &Path, env: &str) -> LastSeen {
        LastSeen {
            path: braid_dir.join("serials").join(format!("{env}.json")),
        }
    }

    /// What was recorded, or `None` when nothing was.
    pub fn read(&self) -> io::Result<Option<StateMeta>> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Records `meta` as the last state seen.
    pub fn write(&self, meta: &StateMeta) -> io::Result<()> {
        if let Some(parent) = self.path.parent() {
            crate::private_files::create_dirs(parent)?;
        }
        let json = serde_json::to_vec(meta).map_err(io::Error::other)?;
        crate::private_files::write(&self.path, &json)
    }
}

/// What this machine last saw of `env`'s state: its record in `.braid/serials/`, else, when
/// that is gone too, the newest snapshot it kept (a snapshot is taken only of a state that
/// existed). An unreadable record counts as none, with a warning in the log.
pub fn remembered_state(braid_dir: &Path, env: &str) -> Option<StateMeta> {
    match LastSeen::new(braid_dir, env).read() {
        Ok(Some(meta)) => return Some(meta),
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the last state serial this machine saw")
        }
    }
    let snapshots = Snapshots::new(braid_dir, env, 0);
    let newest = snapshots.find("latest").ok().flatten()?;
    let dump = snapshots.load(&newest).ok()?;
    Some(StateMeta {
        lineage: dump.lineage,
        serial: dump.serial,
    })
}

/// Whether `found` may be used, given what this machine last saw (`recorded`) and what the
/// command accepts. A record of serial 0 is no state to lose.
pub fn check_state(
    recorded: Option<&StateMeta>,
    found: &StateMeta,
    accept: StateAcceptance,
) -> Result<(), StateError> {
    let Some(recorded) = recorded.filter(|r| r.serial > 0) else {
        return Ok(());
    };
    if found.lineage != recorded.lineage {
        if accept.new_state {
            return Ok(());
        }
        return Err(StateError::StateReplaced {
            found: found.clone(),
            recorded: recorded.clone(),
        });
    }
    if found.serial < recorded.serial && !accept.older_state {
        return Err(StateError::SerialRegressed {
            found: found.serial,
            recorded: recorded.serial,
        });
    }
    Ok(())
}

/// A state store checked against what this machine last saw of it, and snapshotted before
/// its first write (see the module documentation).
pub struct GuardedStore {
    inner: Arc<dyn StateStore>,
    last_seen: LastSeen,
    snapshots: Snapshots,
    accept: StateAcceptance,
    /// The record as it was when this handle was made.
    recorded_before: Option<StateMeta>,
    /// The project's `.braid` directory.
    braid_dir: PathBuf,
    /// The environment's name.
    env: String,
    progress: tokio::sync::Mutex<Progress>,
}

/// What this handle has done so far.
#[derive(Debug, Default)]
struct Progress {
    /// The state was checked against the record (and passed).
    checked: bool,
    /// The lineage last read or written, for recording serials after writes.
    lineage: Option<String>,
    /// A snapshot was taken (or there was nothing to snapshot) before the first write.
    snapshotted: bool,
    /// The serial a write reached that is not recorded yet.
    unrecorded: Option<StateMeta>,
    /// When a write's serial was last recorded.
    recorded_at: Option<std::time::Instant>,
}

impl std::fmt::Debug for GuardedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedStore")
            .field("location", &self.inner.location())
            .field("last_seen", &self.last_seen)
            .field("snapshots", &self.snapshots)
            .field("accept", &self.accept)
            .finish_non_exhaustive()
    }
}

impl GuardedStore {
    /// Guards `inner`, the state of `env`, with the records in `braid_dir` (the project's
    /// `.braid`), keeping `keep_snapshots` snapshots.
    pub fn new(
        inner: Arc<dyn StateStore>,
        braid_dir: &Path,
        env: &str,
        keep_snapshots: usize,
        accept: StateAcceptance,
    ) -> GuardedStore {
        GuardedStore {
            inner,
            recorded_before: remembered_state(braid_dir, env),
            braid_dir: braid_dir.to_path_buf(),
            env: env.to_string(),
            last_seen: LastSeen::new(braid_dir, env),
            snapshots: Snapshots::new(braid_dir, env, keep_snapshots),
            accept,
            progress: tokio::sync::Mutex::new(Progress::default()),
        }
    }

    /// The last state this machine had seen when this handle was opened, before anything
    /// this run read or wrote was recorded.
    pub fn last_seen_before_this_run(&self) -> &Option<StateMeta> {
        &self.recorded_before
    }

    /// The snapshots of this environment.
    pub fn snapshots(&self) -> &Snapshots {
        &self.snapshots
    }

    /// The last state this machine saw, as [`remembered_state`] gives it.
    pub fn last_seen(&self) -> Option<StateMeta> {
        remembered_state(&self.braid_dir, &self.env)
    }

    /// Checks `found` against the record and records it when it moved on.
    fn check_and_remember(
        &self,
        progress: &mut Progress,
        found: &StateMeta,
    ) -> Result<(), StateError> {
        let recorded = self.last_seen();
        check_state(recorded.as_ref(), found, self.accept)?;
        progress.checked = true;
        progress.lineage = Some(found.lineage.clone());
        if recorded.as_ref() != Some(found) && (found.serial > 0 || recorded.is_some()) {
            self.remember(found);
        }
        Ok(())
    }

    /// Records `meta`; a project directory that cannot be written to (a read-only checkout)
    /// only loses the protection, so that is a warning, not an error.
    fn remember(&self, meta: &StateMeta) {
        if let Err(e) = self.last_seen.write(meta) {
            tracing::warn!(error = %e, "cannot record the state serial this machine saw");
        }
    }

    async fn ensure_checked(&self) -> Result<(), StateError> {
        let mut progress = self.progress.lock().await;
        if progress.checked {
            return Ok(());
        }
        let found = self.inner.meta().await?;
        self.check_and_remember(&mut progress, &found)
    }

    /// Before the first write of this run: checks the state, and saves a snapshot of it
    /// unless it is empty. A snapshot that cannot be saved is a warning; the write goes on.
    async fn before_write(&self) -> Result<(), StateError> {
        self.ensure_checked().await?;
        let mut progress = self.progress.lock().await;
        if progress.snapshotted {
            return Ok(());
        }
        let dump = self.inner.export().await?;
        progress.snapshotted = true;
        if dump.serial == 0 && dump.resources.is_empty() && dump.applies.is_empty() {
            return Ok(());
        }
        match self.snapshots.save(&dump) {
            Ok(Some(saved)) => {
                tracing::info!(snapshot = %saved.id, serial = dump.serial, "state snapshot taken")
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(
                error = %e,
                dir = %self.snapshots.dir().display(),
                "cannot save a snapshot of the state"
            ),
        }
        Ok(())
    }

    /// Records the serial a write of this handle reached: at once after the first write and
    /// then at most every [`RECORD_INTERVAL`] (an apply commits once per resource, and each
    /// record is an fsync), and when the handle is dropped at the end of the run.
    async fn wrote(&self, serial: u64) {
        let mut progress = self.progress.lock().await;
        let Some(lineage) = progress.lineage.clone() else {
            return;
        };
        progress.unrecorded = Some(StateMeta { lineage, serial });
        if progress
            .recorded_at
            .is_none_or(|at| at.elapsed() >= RECORD_INTERVAL)
        {
            self.record_pending(&mut progress);
        }
    }

    fn record_pending(&self, progress: &mut Progress) {
        if let Some(meta) = progress.unrecorded.take() {
            self.remember(&meta);
            progress.recorded_at = Some(std::time::Instant::now());
        }
    }
}

/// How often the serial reached by a run's writes is recorded while it runs.
const RECORD_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

impl Drop for GuardedStore {
    fn drop(&mut self) {
        let progress = std::mem::take(self.progress.get_mut());
        let mut progress = progress;
        self.record_pending(&mut progress);
    }
}

/// Puts the state `snapshot` holds back into `store`, as a new write: its lineage and
/// resources, a serial above every serial seen (the store's, this machine's record and the
/// snapshot's), so that plans made in between are stale and the record moves forward. The
/// store's history is kept when it is at least as long as the snapshot's (it then holds the
/// applies made since), and the restore is recorded in it as `apply` (operation `state
/// restore`). The state replaced is snapshotted first, so a restore can be undone. The caller
/// holds the lock. Returns the identity of the restored state.
pub async fn restore(
    store: &GuardedStore,
    snapshot: &StateDump,
    apply: NewApply,
) -> Result<StateMeta, StateError> {
    // What was recorded before this run: reading a state this handle accepts records it.
    let recorded = store
        .last_seen_before_this_run()
        .as_ref()
        .map_or(0, |m| m.serial);
    // A store that lost its identity (S3's `state.json` gone, history left) is replaced
    // like an empty one.
    let current = match store.meta().await {
        Err(StateError::Lost(what)) => {
            tracing::info!(%what, "restoring over a lost state");
            StateMeta {
                lineage: String::new(),
                serial: 0,
            }
        }
        other => other?,
    };
    let history = store.history().await?;
    let serial = current.serial.max(recorded).max(snapshot.serial) + 1;
    let restored = StateDump {
        serial,
        applies: if history.len() >= snapshot.applies.len() {
            history
        } else {
            snapshot.applies.clone()
        },
        ..snapshot.clone()
    };
    store.replace_state(current.serial, &restored).await?;
    let id = store.begin_apply(apply).await?;
    store
        .finish_apply(id, ChangeSummary::default(), ApplyOutcome::Succeeded)
        .await?;
    Ok(StateMeta {
        lineage: restored.lineage,
        serial,
    })
}

#[async_trait]
impl StateStore for GuardedStore {
    fn location(&self) -> String {
        self.inner.location()
    }

    async fn meta(&self) -> Result<StateMeta, StateError> {
        let found = self.inner.meta().await?;
        let mut progress = self.progress.lock().await;
        self.check_and_remember(&mut progress, &found)?;
        Ok(found)
    }

    async fn resources(&self) -> Result<Vec<ResourceRecord>, StateError> {
        self.ensure_checked().await?;
        self.inner.resources().await
    }

    async fn resource_index(&self) -> Result<Vec<ResourceIndexEntry>, StateError> {
        self.ensure_checked().await?;
        self.inner.resource_index().await
    }

    async fn resource(&self, address: &str) -> Result<Option<ResourceRecord>, StateError> {
        self.ensure_checked().await?;
        self.inner.resource(address).await
    }

    async fn commit_resource(
        &self,
        expected_serial: u64,
        write: ResourceWrite,
    ) -> Result<u64, StateError> {
        self.commit_resources(expected_serial, vec![write]).await
    }

    async fn commit_resources(
        &self,
        expected_serial: u64,
        writes: Vec<ResourceWrite>,
    ) -> Result<u64, StateError> {
        self.before_write().await?;
        let serial = self.inner.commit_resources(expected_serial, writes).await?;
        self.wrote(serial).await;
        Ok(serial)
    }

    async fn outputs(&self) -> Result<Vec<OutputRecord>, StateError> {
        self.ensure_checked().await?;
        self.inner.outputs().await
    }

    async fn replace_outputs(
        &self,
        expected_serial: u64,
        outputs: Vec<OutputRecord>,
    ) -> Result<(), StateError> {
        self.before_write().await?;
        self.inner.replace_outputs(expected_serial, outputs).await
    }

    async fn begin_apply(&self, apply: NewApply) -> Result<ApplyId, StateError> {
        self.before_write().await?;
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
        self.ensure_checked().await?;
        self.inner.applies(limit).await
    }

    async fn apply_record(&self, id: ApplyId) -> Result<Option<ApplyRecord>, StateError> {
        self.ensure_checked().await?;
        self.inner.apply_record(id).await
    }

    async fn changes(&self, id: ApplyId) -> Result<Vec<ChangeRecord>, StateError> {
        self.ensure_checked().await?;
        self.inner.changes(id).await
    }

    async fn lock(&self, request: LockRequest) -> Result<LockInfo, StateError> {
        self.inner.lock(request).await
    }

    async fn heartbeat(&self, lock_id: &str) -> Result<(), StateError> {
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
    async fn compact(&self) -> Result<(), StateError> {
        self.inner.compact().await
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

    async fn replace_state(
        &self,
        expected_serial: u64,
        dump: &StateDump,
    ) -> Result<(), StateError> {
        self.before_write().await?;
        self.inner.replace_state(expected_serial, dump).await?;
        let mut progress = self.progress.lock().await;
        progress.lineage = Some(dump.lineage.clone());
        progress.unrecorded = None;
        self.remember(&StateMeta {
            lineage: dump.lineage.clone(),
            serial: dump.serial,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(lineage: &str, serial: u64) -> StateMeta {
        StateMeta {
            lineage: lineage.to_string(),
            serial,
        }
    }

    #[test]
    fn only_the_state_last_seen_or_a_newer_serial_of_it_passes() {
        let none = StateAcceptance::default();
        let seen = meta("a", 7);
        assert!(check_state(None, &meta("b", 0), none).is_ok());
        assert!(check_state(Some(&meta("a", 0)), &meta("b", 0), none).is_ok());
        assert!(check_state(Some(&seen), &meta("a", 7), none).is_ok());
        assert!(check_state(Some(&seen), &meta("a", 9), none).is_ok());
        assert!(matches!(
            check_state(Some(&seen), &meta("a", 3), none),
            Err(StateError::SerialRegressed {
                found: 3,
                recorded: 7
            })
        ));
        assert!(matches!(
            check_state(Some(&seen), &meta("b", 0), none),
            Err(StateError::StateReplaced { .. })
        ));
        let older = StateAcceptance {
            older_state: true,
            ..none
        };
        assert!(check_state(Some(&seen), &meta("a", 3), older).is_ok());
        assert!(check_state(Some(&seen), &meta("b", 0), older).is_err());
        let new = StateAcceptance {
            new_state: true,
            ..none
        };
        assert!(check_state(Some(&seen), &meta("b", 0), new).is_ok());
        assert!(check_state(Some(&seen), &meta("a", 3), new).is_err());
    }
}
