//! The S3 state backend: objects in a bucket, for any S3-compatible store.
//!
//! Layout under `<prefix><env>/` (format 2, see [`layout`]):
//! - `state.json` — the head: lineage, serial, the applies still running, and the keys of
//!   the snapshot and deltas that hold everything else. Every state write ends with one PUT
//!   of the head with `If-Match: <ETag read>` (`If-None-Match: *` when creating it), so a
//!   writer that raced another gets 412 and re-reads instead of overwriting a newer serial.
//! - `log/<head version>-<random>.json` — one delta per group commit (resources written, their
//!   audit entries) or outputs replacement, written before the head that names it.
//! - `snapshots/<head version>-<random>.jsonl` — the whole state at one head version, JSON lines,
//!   written when the deltas have grown as large as the last snapshot (or too many), so that
//!   a commit costs what it writes and the total written stays linear in the state's size.
//! - `applies/<id, 20 digits>.json` — one object per finished apply with its changes,
//!   written once when the apply finishes; zero-padded ids list in order.
//! - `documents/<name>` — the documents kept beside the state ([`crate::documents`]), one
//!   object each, its ETag the version; writes and deletes are conditional on it.
//! - `lock.json` — the lock, created with `If-None-Match: *`; heartbeats, steals and
//!   releases are conditional on the ETag read, so two stealers cannot both win.
//!
//! A format-1 `state.json` (one document holding every resource) is read as it is and
//! replaced by the format-2 layout on the first write.

mod document;
mod layout;
mod objects;

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use futures::StreamExt;
use tokio::sync::{Mutex, OnceCell};

use crate::codec::check_serial;
use crate::documents::{Document, Precondition, changed, check_document_name};
use crate::model::{
    ApplyHistory, ApplyId, ApplyOutcome, ApplyRecord, ChangeRecord, ChangeSummary, LockInfo,
    LockRequest, NewApply, OutputRecord, ResourceRecord, ResourceWrite, StateDump, StateMeta,
};
use crate::store::{StateError, StateStore};
use document::StateDocument;
use layout::{
    Contents, Delta, DeltaWrite, Head, Line, LineRef, ObjectRef, Probe, SnapshotHeader, Want,
};
use objects::{Expect, LineUpload, WriteError};

/// The layout this braid writes (and the newest it reads).
pub(crate) const FORMAT_VERSION: u32 = layout::FORMAT_VERSION;

/// How many times a write re-reads and tries again after losing a race.
const MAX_ATTEMPTS: u32 = 20;

/// How many objects are fetched or deleted at once.
const CONCURRENT_REQUESTS: usize = 16;

/// Where the states live: a bucket, a key prefix, and how to reach the service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Location {
    /// The bucket's name. braid never creates the bucket; it must exist already.
    pub bucket: String,
    /// Prepended to every key (`braid/` by default); the environment name follows.
    pub prefix: String,
    /// The region; else the AWS configuration's (`AWS_REGION`, profile), else `us-east-1`.
    pub region: Option<String>,
    /// A custom endpoint (moto, MinIO...); path-style addressing is used with it.
    pub endpoint: Option<String>,
}

/// When the S3 backend compacts its deltas into a snapshot, and how it uploads one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct S3Tuning {
    /// A snapshot larger than this is spooled to a temporary file before it is uploaded,
    /// so that no more than this much of it is held in memory.
    pub spool_size: usize,
    /// Compact once the deltas hold at least this many bytes and at least as many as the
    /// last snapshot: each byte of state is then rewritten a bounded number of times.
    pub compact_min_bytes: u64,
    /// Compact once there are this many deltas, whatever their size: a read fetches them
    /// all.
    pub compact_max_deltas: usize,
}

impl Default for S3Tuning {
    fn default() -> Self {
        S3Tuning {
            spool_size: 8 << 20,
            compact_min_bytes: 4 << 20,
            compact_max_deltas: 256,
        }
    }
}

/// A [`StateStore`] for one environment in an S3 bucket.
pub struct S3Store {
    location: S3Location,
    env: String,
    client: OnceCell<Client>,
    tuning: S3Tuning,
    /// The head this process last read or wrote, with its ETag: a writer tries it first and
    /// re-reads only when the conditional write says it is stale. Held while writing, so
    /// the writes of one process go one at a time.
    head: Mutex<Option<(Head, String)>>,
}

/// What `state.json` holds.
enum Stored {
    Legacy(Box<StateDocument>),
    Head(Head),
}

/// What reading the objects a head names gave.
enum Loaded {
    Complete(Contents),
    /// This object named by the head is gone: a compaction replaced it since the head was
    /// read (read the head again), or the state is damaged.
    Missing(String),
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Store")
            .field("location", &self.location)
            .field("env", &self.env)
            .finish_non_exhaustive()
    }
}

impl S3Store {
    /// A store for `env`. The AWS configuration (credentials, region) is read on first use.
    pub fn new(location: S3Location, env: &str) -> S3Store {
        S3Store {
            location,
            env: env.to_string(),
            client: OnceCell::new(),
            tuning: S3Tuning::default(),
            head: Mutex::new(None),
        }
    }

    /// A store that talks through `client` instead of one built from the AWS configuration
    /// (for callers with their own SDK setup, and tests with static credentials).
    pub fn with_client(location: S3Location, env: &str, client: Client) -> S3Store {
        S3Store {
            client: OnceCell::new_with(Some(client)),
            ..S3Store::new(location, env)
        }
    }

    /// The same store, compacting and uploading as `tuning` says.
    pub fn tuned(mut self, tuning: S3Tuning) -> S3Store {
        self.tuning = tuning;
        self
    }

    async fn client(&self) -> &Client {
        self.client
            .get_or_init(|| async {
                let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
                if let Some(region) = &self.location.region {
                    loader = loader.region(aws_config::Region::new(region.clone()));
                }
                let shared = loader.load().await;
                let mut builder = aws_sdk_s3::config::Builder::from(&shared);
                if shared.region().is_none() {
                    builder = builder.region(aws_config::Region::new("us-east-1"));
                }
                if let Some(endpoint) = &self.location.endpoint {
                    builder = builder.endpoint_url(endpoint).force_path_style(true);
                }
                Client::from_conf(builder.build())
            })
            .await
    }

    fn key(&self, name: &str) -> String {
        format!("{}{}/{name}", self.location.prefix, self.env)
    }

    fn document_key(&self, name: &str) -> String {
        self.key(&format!("documents/{name}"))
    }

    fn apply_key(&self, id: ApplyId) -> String {
        self.key(&format!("applies/{id:020}.json"))
    }

    fn bucket(&self) -> &str {
        &self.location.bucket
    }

    /// `state.json` as it is now, with its ETag.
    async fn read_stored(&self, op: &'static str) -> Result<Option<(Stored, String)>, StateError> {
        let key = self.key("state.json");
        let Some((bytes, etag)) =
            objects::get(self.client().await, self.bucket(), &key, op).await?
        else {
            return Ok(None);
        };
        let corrupt =
            |err: serde_json::Error| StateError::Corrupt(format!("s3 object {key}: {err}"));
        let probe: Probe = serde_json::from_slice(&bytes).map_err(corrupt)?;
        let stored = match probe.format_version {
            0 | 1 => Stored::Legacy(Box::new(serde_json::from_slice(&bytes).map_err(corrupt)?)),
            FORMAT_VERSION => Stored::Head(serde_json::from_slice(&bytes).map_err(corrupt)?),
            found => {
                return Err(StateError::NewerSchema {
                    location: key,
                    found: i64::from(found),
                    supported: i64::from(FORMAT_VERSION),
                });
            }
        };
        Ok(Some((stored, etag)))
    }

    /// The head (a format-1 document seen as one, with what it holds) and the state it
    /// names, read consistently: an object a compaction removed meanwhile makes it read the
    /// head again.
    async fn read(
        &self,
        want: Want,
        op: &'static str,
    ) -> Result<Option<(Head, Contents)>, StateError> {
        let mut missing_before: Option<(String, String)> = None;
        for _ in 0..MAX_ATTEMPTS {
            let Some((stored, etag)) = self.read_stored(op).await? else {
                return Ok(None);
            };
            let head = match stored {
                Stored::Legacy(document) => return Ok(Some(legacy_contents(*document))),
                Stored::Head(head) => head,
            };
            match self.load(&head, want, op).await? {
                Loaded::Complete(contents) => return Ok(Some((head, contents))),
                Loaded::Missing(key) => {
                    let seen = (etag, key);
                    if missing_before.as_ref() == Some(&seen) {
                        return Err(StateError::Corrupt(format!(
                            "{} names {}, which does not exist: restore an earlier version of \
                             state.json (bucket versioning) or run `braid state restore`",
                            self.key("state.json"),
                            seen.1
                        )));
                    }
                    missing_before = Some(seen);
                }
            }
        }
        Err(contended(op, &self.key("state.json")))
    }

    /// Reads the snapshot (as a stream) and the deltas `head` names.
    async fn load(&self, head: &Head, want: Want, op: &'static str) -> Result<Loaded, StateError> {
        let client = self.client().await;
        let running = head.running_ids();
        let mut contents = Contents::default();
        if let Some(snapshot) = &head.snapshot {
            let key = self.key(&snapshot.key);
            let Some(body) = objects::get_stream(client, self.bucket(), &key, op).await? else {
                return Ok(Loaded::Missing(key));
            };
            let mut first = true;
            objects::for_each_line(body, &key, op, |bytes| {
                let line: Line = serde_json::from_slice(bytes)
                    .map_err(|err| StateError::Corrupt(format!("s3 object {key}: {err}")))?;
                if std::mem::take(&mut first) {
                    match &line {
                        Line::Snapshot(header) if header.lineage == head.lineage => {}
                        _ => {
                            return Err(StateError::Corrupt(format!(
                                "s3 object {key} is not a snapshot of state {}",
                                head.lineage
                            )));
                        }
                    }
                }
                if want == Want::NoResources && matches!(line, Line::Resource(_)) {
                    return Ok(false);
                }
                contents.add_line(line, &running);
                Ok(true)
            })
            .await?;
            if first {
                return Err(StateError::Corrupt(format!("s3 object {key} is empty")));
            }
        }
        let bucket = self.bucket();
        let keys: Vec<String> = head.deltas.iter().map(|d| self.key(&d.key)).collect();
        let mut deltas = futures::stream::iter(
            keys.into_iter()
                .map(|key| async move { (objects::get(client, bucket, &key, op).await, key) }),
        )
        .buffered(CONCURRENT_REQUESTS);
        while let Some((found, key)) = deltas.next().await {
            let Some((bytes, _)) = found? else {
                return Ok(Loaded::Missing(key));
            };
            let delta: Delta = serde_json::from_slice(&bytes)
                .map_err(|err| StateError::Corrupt(format!("s3 object {key}: {err}")))?;
            contents.apply(delta, &running, want);
        }
        Ok(Loaded::Complete(contents))
    }

    /// The head to write on: the cached one unless `fresh`, else read; a format-1 document
    /// is migrated first; a new head (not yet written, no ETag) when there is no state.
    async fn head_for_write(
        &self,
        cache: &mut Option<(Head, String)>,
        fresh: bool,
        op: &'static str,
    ) -> Result<(Head, Option<String>), StateError> {
        if !fresh && let Some((head, etag)) = cache.as_ref() {
            return Ok((head.clone(), Some(etag.clone())));
        }
        *cache = None;
        for _ in 0..MAX_ATTEMPTS {
            match self.read_stored(op).await? {
                None => {
                    let lineage = uuid::Uuid::new_v4().to_string();
                    return Ok((Head::new(lineage, 0, 1), None));
                }
                Some((Stored::Head(head), etag)) => {
                    *cache = Some((head.clone(), etag.clone()));
                    return Ok((head, Some(etag)));
                }
                Some((Stored::Legacy(document), etag)) => {
                    if let Some((head, etag)) = self.migrate(*document, &etag, op).await? {
                        *cache = Some((head.clone(), etag.clone()));
                        return Ok((head, Some(etag)));
                    }
                }
            }
        }
        Err(contended(op, &self.key("state.json")))
    }

    /// Replaces a format-1 document by a snapshot of what it holds and a format-2 head,
    /// if nobody wrote it meanwhile (`None` if somebody did). Finished applies are already
    /// in their own objects, which both formats share.
    async fn migrate(
        &self,
        document: StateDocument,
        etag: &str,
        op: &'static str,
    ) -> Result<Option<(Head, String)>, StateError> {
        let (head, contents) = legacy_contents(document);
        let mut next = head.next();
        let snapshot = self
            .write_snapshot(&head, contents.lines(header(&head)).collect(), op)
            .await?;
        next.snapshot = Some(snapshot);
        self.publish_or_discard(next, Some(etag), op).await
    }

    /// Writes the snapshot `lines` for the head after `head`.
    async fn write_snapshot<'a>(
        &self,
        head: &Head,
        lines: Vec<LineRef<'a>>,
        op: &'static str,
    ) -> Result<ObjectRef, StateError> {
        let name = head.new_object_key("snapshots", "jsonl");
        let key = self.key(&name);
        let mut upload = LineUpload::new(
            self.client().await,
            self.bucket(),
            &key,
            self.tuning.spool_size,
            op,
        );
        for line in lines {
            upload.line(&line)?;
        }
        let bytes = upload.finish().await?;
        Ok(ObjectRef { key: name, bytes })
    }

    /// Writes `head` if `state.json` still has `etag` (is still absent, for `None`);
    /// returns the new ETag, or `None` when somebody wrote first.
    async fn publish(
        &self,
        head: &Head,
        etag: Option<&str>,
        op: &'static str,
    ) -> Result<Option<String>, StateError> {
        let expect = etag.map_or(Expect::Absent, Expect::ETag);
        let key = self.key("state.json");
        match objects::put_json(self.client().await, self.bucket(), &key, head, expect, op).await {
            Ok(etag) => Ok(Some(etag)),
            Err(WriteError::Conflict) => Ok(None),
            Err(WriteError::Failed(e)) => Err(e),
        }
    }

    /// [`publish`](Self::publish); when somebody wrote first, deletes the objects only
    /// `head` named (its snapshot and last delta are new), since nobody else will.
    async fn publish_or_discard(
        &self,
        head: Head,
        etag: Option<&str>,
        op: &'static str,
    ) -> Result<Option<(Head, String)>, StateError> {
        match self.publish(&head, etag, op).await? {
            Some(etag) => Ok(Some((head, etag))),
            None => {
                let unpublished = head
                    .snapshot
                    .iter()
                    .chain(head.deltas.last())
                    .filter(|object| layout::object_version(&object.key) == Some(head.version))
                    .map(|object| self.key(&object.key))
                    .collect::<Vec<_>>();
                self.delete_quietly(unpublished, op).await;
                Ok(None)
            }
        }
    }

    /// Deletes `keys`, some at a time; failures are only logged (the objects are garbage
    /// that the next clean-up deletes).
    async fn delete_quietly(&self, keys: Vec<String>, op: &'static str) {
        let client = self.client().await;
        let bucket = self.bucket();
        let mut deletes = futures::stream::iter(keys.into_iter().map(|key| async move {
            (objects::delete(client, bucket, &key, None, op).await, key)
        }))
        .buffer_unordered(CONCURRENT_REQUESTS);
        while let Some((result, key)) = deletes.next().await {
            if let Err(WriteError::Failed(e)) = result {
                tracing::warn!(key, error = %e, "could not delete an object no state names");
            }
        }
    }

    /// Deletes the deltas and snapshots no head will ever name again (see
    /// [`Head::is_garbage`]); `head` must be one just read or written.
    async fn collect_garbage(&self, head: &Head, op: &'static str) -> Result<(), StateError> {
        let root = self.key("");
        let client = self.client().await;
        let mut garbage = Vec::new();
        for kind in ["log/", "snapshots/"] {
            let keys = objects::list(client, self.bucket(), &format!("{root}{kind}"), op).await?;
            garbage.extend(keys.into_iter().filter(|key| {
                key.strip_prefix(&root)
                    .is_some_and(|name| head.is_garbage(name))
            }));
        }
        self.delete_quietly(garbage, op).await;
        Ok(())
    }

    /// Appends one delta (`count` resource writes) if the serial is `expected` and `check`
    /// accepts the head; compacts afterwards when the deltas have grown enough.
    async fn append(
        &self,
        op: &'static str,
        expected: u64,
        delta: Delta,
        check: impl Fn(&Head) -> Result<(), StateError>,
    ) -> Result<u64, StateError> {
        let count = u64::try_from(delta.writes.len()).unwrap_or(u64::MAX);
        let body = serde_json::to_vec(&delta).map_err(|err| StateError::Backend {
            operation: op,
            source: Box::new(err),
        })?;
        drop(delta);
        let mut cache = self.head.lock().await;
        let mut fresh = false;
        for _ in 0..MAX_ATTEMPTS {
            let (head, etag) = self.head_for_write(&mut cache, fresh, op).await?;
            if let Err(e) = check_serial(expected, head.serial) {
                if !fresh {
                    fresh = true;
                    continue;
                }
                return Err(e);
            }
            check(&head)?;
            let mut next = head.next();
            next.serial = head.serial.checked_add(count).ok_or_else(|| {
                StateError::Corrupt(format!("serial {} cannot be incremented", head.serial))
            })?;
            let name = head.new_object_key("log", "json");
            let key = self.key(&name);
            match objects::put(
                self.client().await,
                self.bucket(),
                &key,
                body.clone(),
                "application/json",
                Expect::Absent,
                op,
            )
            .await
            {
                Ok(_) => {}
                Err(WriteError::Conflict) => return Err(contended(op, &key)),
                Err(WriteError::Failed(e)) => return Err(e),
            }
            next.deltas.push(ObjectRef {
                key: name,
                bytes: body.len() as u64,
            });
            match self.publish_or_discard(next, etag.as_deref(), op).await? {
                Some((written, etag)) => {
                    let serial = written.serial;
                    let compact = self.needs_compaction(&written);
                    *cache = Some((written, etag));
                    if compact && let Err(e) = self.compact_cached(&mut cache, op).await {
                        // The commit stands; the next one tries again.
                        tracing::warn!(error = %e, "compacting the S3 state failed");
                    }
                    return Ok(serial);
                }
                None => fresh = true,
            }
        }
        Err(contended(op, &self.key("state.json")))
    }

    fn needs_compaction(&self, head: &Head) -> bool {
        let snapshot = head.snapshot.as_ref().map_or(0, |s| s.bytes);
        head.deltas.len() >= self.tuning.compact_max_deltas
            || head.delta_bytes() >= snapshot.max(self.tuning.compact_min_bytes)
    }

    /// Folds the deltas of the cached head into a new snapshot, then deletes what it
    /// replaced. Gives up quietly when somebody wrote meanwhile.
    async fn compact_cached(
        &self,
        cache: &mut Option<(Head, String)>,
        op: &'static str,
    ) -> Result<(), StateError> {
        let Some((head, etag)) = cache.clone() else {
            return Ok(());
        };
        let Loaded::Complete(contents) = self.load(&head, Want::All, op).await? else {
            *cache = None;
            return Ok(());
        };
        let snapshot = self
            .write_snapshot(&head, contents.lines(header(&head)).collect(), op)
            .await?;
        drop(contents);
        let mut next = head.next();
        next.snapshot = Some(snapshot);
        next.deltas.clear();
        match self.publish_or_discard(next, Some(&etag), op).await? {
            Some((written, etag)) => {
                let result = self.collect_garbage(&written, op).await;
                *cache = Some((written, etag));
                result
            }
            None => {
                *cache = None;
                Ok(())
            }
        }
    }

    /// A running apply with its changes, or a finished one from its history object.
    async fn read_history(
        &self,
        id: ApplyId,
        op: &'static str,
    ) -> Result<Option<ApplyHistory>, StateError> {
        if let Some((head, mut contents)) = self.read(Want::NoResources, op).await?
            && let Some(apply) = head.running.iter().find(|a| a.id == id)
        {
            return Ok(Some(ApplyHistory {
                apply: apply.clone(),
                changes: contents.changes.remove(&id).unwrap_or_default(),
            }));
        }
        Ok(
            objects::get_json(self.client().await, self.bucket(), &self.apply_key(id), op)
                .await?
                .map(|(history, _)| history),
        )
    }

    /// Ids of finished applies, oldest first.
    async fn finished_ids(&self, op: &'static str) -> Result<Vec<ApplyId>, StateError> {
        let prefix = self.key("applies/");
        let keys = objects::list(self.client().await, self.bucket(), &prefix, op).await?;
        Ok(keys
            .iter()
            .filter_map(|k| k.strip_prefix(&prefix)?.strip_suffix(".json")?.parse().ok())
            .collect())
    }

    async fn write_history(
        &self,
        history: &ApplyHistory,
        op: &'static str,
    ) -> Result<(), StateError> {
        let key = self.apply_key(history.apply.id);
        match objects::put_json(
            self.client().await,
            self.bucket(),
            &key,
            history,
            Expect::Anything,
            op,
        )
        .await
        {
            Ok(_) => Ok(()),
            Err(WriteError::Conflict) => Err(contended(op, &key)),
            Err(WriteError::Failed(e)) => Err(e),
        }
    }

    async fn read_lock(&self, op: &'static str) -> Result<Option<(LockInfo, String)>, StateError> {
        objects::get_json(
            self.client().await,
            self.bucket(),
            &self.key("lock.json"),
            op,
        )
        .await
    }

    /// Changes the lock with id `lock_id` (or fails with `LockNotFound`): `change` gives the
    /// new lock, or `None` to delete it. Conditional on the ETag read.
    async fn change_lock(
        &self,
        lock_id: &str,
        op: &'static str,
        change: impl Fn(&LockInfo) -> Option<LockInfo>,
    ) -> Result<Option<LockInfo>, StateError> {
        let key = self.key("lock.json");
        for _ in 0..MAX_ATTEMPTS {
            let Some((current, etag)) = self.read_lock(op).await? else {
                return Err(StateError::LockNotFound(lock_id.to_string()));
            };
            if current.id != lock_id {
                return Err(StateError::LockNotFound(lock_id.to_string()));
            }
            let next = change(&current);
            let client = self.client().await;
            let written = match &next {
                Some(lock) => {
                    objects::put_json(client, self.bucket(), &key, lock, Expect::ETag(&etag), op)
                        .await
                        .map(|_| ())
                }
                None => objects::delete(client, self.bucket(), &key, Some(&etag), op).await,
            };
            match written {
                Ok(()) => return Ok(next),
                Err(WriteError::Conflict) => continue,
                Err(WriteError::Failed(e)) => return Err(e),
            }
        }
        Err(contended(op, &key))
    }
}

fn contended(op: &'static str, key: &str) -> StateError {
    StateError::Backend {
        operation: op,
        source: format!("{key} kept changing under {MAX_ATTEMPTS} attempts to write it").into(),
    }
}

/// The header of a snapshot of `head`'s state.
fn header(head: &Head) -> SnapshotHeader {
    SnapshotHeader {
        format_version: FORMAT_VERSION,
        lineage: head.lineage.clone(),
        serial: head.serial,
    }
}

/// A format-1 document as the head it becomes (version 0, nothing named yet) and what it
/// holds.
fn legacy_contents(document: StateDocument) -> (Head, Contents) {
    let mut head = Head::new(document.lineage, document.serial, document.next_apply_id);
    let mut changes = BTreeMap::new();
    for open in document.open_applies {
        changes.insert(open.apply.id, open.changes);
        head.running.push(open.apply);
    }
    let contents = Contents {
        resources: document.resources,
        outputs: document.outputs,
        changes,
    };
    (head, contents)
}

#[async_trait]
impl StateStore for S3Store {
    fn location(&self) -> String {
        format!("s3://{}/{}", self.location.bucket, self.key(""))
    }

    async fn meta(&self) -> Result<StateMeta, StateError> {
        const OP: &str = "read meta";
        match self.read_stored(OP).await? {
            Some((Stored::Legacy(document), _)) => {
                return Ok(StateMeta {
                    lineage: document.lineage,
                    serial: document.serial,
                });
            }
            Some((Stored::Head(head), _)) => {
                return Ok(StateMeta {
                    lineage: head.lineage,
                    serial: head.serial,
                });
            }
            None => {}
        }
        // No head: a new state, unless the history of one is still here. Nothing ties
        // the objects together the way a foreign key does, so look before making one up.
        let finished = self.finished_ids(OP).await?;
        if !finished.is_empty() {
            return Err(StateError::Lost(format!(
                "{} is missing, but {} finished applies of its history remain under {}applies/",
                self.key("state.json"),
                finished.len(),
                self.key("")
            )));
        }
        let mut cache = self.head.lock().await;
        let (head, etag) = self.head_for_write(&mut cache, true, OP).await?;
        if etag.is_none()
            && let Some((written, etag)) = self.publish_or_discard(head.next(), None, OP).await?
        {
            let meta = StateMeta {
                lineage: written.lineage.clone(),
                serial: written.serial,
            };
            *cache = Some((written, etag));
            return Ok(meta);
        }
        // Somebody else made it first (or it was there): theirs it is.
        let (head, _) = self.head_for_write(&mut cache, true, OP).await?;
        Ok(StateMeta {
            lineage: head.lineage,
            serial: head.serial,
        })
    }

    async fn resources(&self) -> Result<Vec<ResourceRecord>, StateError> {
        Ok(self
            .read(Want::All, "read resources")
            .await?
            .map(|(_, contents)| contents.resources.into_values().collect())
            .unwrap_or_default())
    }

    async fn resource(&self, address: &str) -> Result<Option<ResourceRecord>, StateError> {
        Ok(self
            .read(Want::All, "read resource")
            .await?
            .and_then(|(_, mut contents)| contents.resources.remove(address)))
    }

    async fn commit_resource(
        &self,
        expected_serial: u64,
        write: ResourceWrite,
    ) -> Result<u64, StateError> {
        self.commit_resources(expected_serial, vec![write]).await
    }

    /// One delta object and one conditional PUT of the head for the whole batch.
    async fn commit_resources(
        &self,
        expected_serial: u64,
        writes: Vec<ResourceWrite>,
    ) -> Result<u64, StateError> {
        const OP: &str = "commit resource";
        for write in &writes {
            if let Some(record) = &write.record
                && record.address != write.address
            {
                return Err(StateError::Backend {
                    operation: OP,
                    source: format!(
                        "the record for {} carries address {}",
                        write.address, record.address
                    )
                    .into(),
                });
            }
        }
        let writes: Vec<DeltaWrite> = writes
            .into_iter()
            .map(|w| DeltaWrite {
                address: w.address,
                record: w.record,
                change: w.change,
            })
            .collect();
        let applies: Vec<ApplyId> = writes
            .iter()
            .filter_map(|w| w.change.as_ref().map(|(id, _)| *id))
            .collect();
        let delta = Delta {
            writes,
            outputs: None,
        };
        self.append(OP, expected_serial, delta, |head| {
            match applies.iter().find(|id| !head.is_running(**id)) {
                Some(id) => Err(StateError::ApplyNotFound(*id)),
                None => Ok(()),
            }
        })
        .await
    }

    async fn outputs(&self) -> Result<Vec<OutputRecord>, StateError> {
        Ok(self
            .read(Want::NoResources, "read outputs")
            .await?
            .map(|(_, contents)| contents.outputs)
            .unwrap_or_default())
    }

    async fn replace_outputs(
        &self,
        expected_serial: u64,
        outputs: Vec<OutputRecord>,
    ) -> Result<(), StateError> {
        let delta = Delta {
            writes: Vec::new(),
            outputs: Some(outputs),
        };
        self.append("write outputs", expected_serial, delta, |_| Ok(()))
            .await?;
        Ok(())
    }

    async fn begin_apply(&self, apply: NewApply) -> Result<ApplyId, StateError> {
        const OP: &str = "begin apply";
        let mut cache = self.head.lock().await;
        let mut fresh = false;
        for _ in 0..MAX_ATTEMPTS {
            let (head, etag) = self.head_for_write(&mut cache, fresh, OP).await?;
            let mut next = head.next();
            let id = next.next_apply_id;
            next.next_apply_id += 1;
            next.running.push(ApplyRecord {
                id,
                env: apply.env.clone(),
                actor: apply.actor.clone(),
                operation: apply.operation.clone(),
                sources: apply.sources.clone(),
                rollback_of: apply.rollback_of,
                started_at: apply.started_at,
                finished_at: None,
                summary: ChangeSummary::default(),
                outcome: ApplyOutcome::Running,
                note: apply.note.clone(),
            });
            if let Some(written) = self.publish_or_discard(next, etag.as_deref(), OP).await? {
                *cache = Some(written);
                return Ok(id);
            }
            fresh = true;
        }
        Err(contended(OP, &self.key("state.json")))
    }

    async fn finish_apply(
        &self,
        id: ApplyId,
        summary: ChangeSummary,
        outcome: ApplyOutcome,
    ) -> Result<(), StateError> {
        const OP: &str = "finish apply";
        let finished_at = chrono::Utc::now();
        let finish = |apply: &mut ApplyRecord| {
            apply.finished_at = Some(finished_at);
            apply.summary = summary;
            apply.outcome = outcome;
        };
        let mut cache = self.head.lock().await;
        let mut fresh = false;
        for _ in 0..MAX_ATTEMPTS {
            let (head, etag) = self.head_for_write(&mut cache, fresh, OP).await?;
            let Some(apply) = head.running.iter().find(|a| a.id == id) else {
                if !fresh {
                    fresh = true;
                    continue;
                }
                // Already finished once: update its history object.
                let Some((mut history, _)) = objects::get_json::<ApplyHistory>(
                    self.client().await,
                    self.bucket(),
                    &self.apply_key(id),
                    OP,
                )
                .await?
                else {
                    return Err(StateError::ApplyNotFound(id));
                };
                finish(&mut history.apply);
                return self.write_history(&history, OP).await;
            };
            let mut apply = apply.clone();
            finish(&mut apply);
            let Loaded::Complete(mut contents) = self.load(&head, Want::NoResources, OP).await?
            else {
                fresh = true;
                continue;
            };
            let history = ApplyHistory {
                apply,
                changes: contents.changes.remove(&id).unwrap_or_default(),
            };
            drop(contents);
            // History first: if we die between the two writes the apply is in both places,
            // and readers prefer the running copy, so nothing is lost or shown twice.
            self.write_history(&history, OP).await?;
            let mut next = head.next();
            next.running.retain(|a| a.id != id);
            if let Some(written) = self.publish_or_discard(next, etag.as_deref(), OP).await? {
                *cache = Some(written);
                return Ok(());
            }
            fresh = true;
        }
        Err(contended(OP, &self.key("state.json")))
    }

    async fn applies(&self, limit: usize) -> Result<Vec<ApplyRecord>, StateError> {
        let mut history = self.history().await?;
        history.reverse();
        Ok(history.into_iter().take(limit).map(|h| h.apply).collect())
    }

    async fn apply_record(&self, id: ApplyId) -> Result<Option<ApplyRecord>, StateError> {
        const OP: &str = "read apply";
        let running = match self.read_stored(OP).await? {
            Some((Stored::Head(head), _)) => head.running,
            Some((Stored::Legacy(document), _)) => legacy_contents(*document).0.running,
            None => Vec::new(),
        };
        if let Some(apply) = running.into_iter().find(|a| a.id == id) {
            return Ok(Some(apply));
        }
        Ok(self.read_history(id, OP).await?.map(|h| h.apply))
    }

    async fn changes(&self, id: ApplyId) -> Result<Vec<ChangeRecord>, StateError> {
        Ok(self
            .read_history(id, "read changes")
            .await?
            .map(|h| h.changes)
            .unwrap_or_default())
    }

    /// One listing and one GET per finished apply, plus the running ones with their changes.
    async fn history(&self) -> Result<Vec<ApplyHistory>, StateError> {
        const OP: &str = "read history";
        let mut all: Vec<ApplyHistory> = match self.read(Want::NoResources, OP).await? {
            Some((head, mut contents)) => head
                .running
                .into_iter()
                .map(|apply| ApplyHistory {
                    changes: contents.changes.remove(&apply.id).unwrap_or_default(),
                    apply,
                })
                .collect(),
            None => Vec::new(),
        };
        for id in self.finished_ids(OP).await? {
            if all.iter().any(|a| a.apply.id == id) {
                continue;
            }
            if let Some((history, _)) =
                objects::get_json(self.client().await, self.bucket(), &self.apply_key(id), OP)
                    .await?
            {
                all.push(history);
            }
        }
        all.sort_by_key(|h| h.apply.id);
        Ok(all)
    }

    async fn lock(&self, request: LockRequest) -> Result<LockInfo, StateError> {
        const OP: &str = "take lock";
        let key = self.key("lock.json");
        for _ in 0..MAX_ATTEMPTS {
            let info = LockInfo::fresh(request.clone());
            match objects::put_json(
                self.client().await,
                self.bucket(),
                &key,
                &info,
                Expect::Absent,
                OP,
            )
            .await
            {
                Ok(_) => return Ok(info),
                Err(WriteError::Failed(e)) => return Err(e),
                Err(WriteError::Conflict) => {
                    if let Some((holder, _)) = self.read_lock(OP).await? {
                        return Err(StateError::Locked(Box::new(holder)));
                    }
                    // Released in between: try again.
                }
            }
        }
        Err(contended(OP, &key))
    }

    async fn steal_lock(
        &self,
        expected_id: &str,
        request: LockRequest,
    ) -> Result<LockInfo, StateError> {
        let fresh = LockInfo::fresh(request);
        self.change_lock(expected_id, "steal lock", |_| Some(fresh.clone()))
            .await?
            .ok_or_else(|| StateError::LockNotFound(expected_id.to_string()))
    }

    async fn heartbeat(&self, lock_id: &str) -> Result<(), StateError> {
        self.change_lock(lock_id, "renew lock", |current| {
            Some(LockInfo {
                heartbeat_at: chrono::Utc::now(),
                ..current.clone()
            })
        })
        .await
        .map(|_| ())
    }

    async fn unlock(&self, lock_id: &str) -> Result<(), StateError> {
        self.change_lock(lock_id, "release lock", |_| None)
            .await
            .map(|_| ())
    }

    async fn current_lock(&self) -> Result<Option<LockInfo>, StateError> {
        Ok(self.read_lock("read lock").await?.map(|(lock, _)| lock))
    }

    async fn document(&self, name: &str) -> Result<Option<Document>, StateError> {
        check_document_name(name)?;
        let key = self.document_key(name);
        let found = objects::get(self.client().await, self.bucket(), &key, "read document").await?;
        Ok(found.map(|(body, version)| Document {
            name: name.to_string(),
            body,
            version,
        }))
    }

    async fn documents(&self, prefix: &str) -> Result<Vec<Document>, StateError> {
        const OP: &str = "list documents";
        let root = self.document_key("");
        let keys = objects::list(
            self.client().await,
            self.bucket(),
            &format!("{root}{prefix}"),
            OP,
        )
        .await?;
        let mut found = Vec::with_capacity(keys.len());
        for key in keys {
            let name = key.strip_prefix(&root).unwrap_or(&key).to_string();
            // Deleted since the listing: left out, as if listed a moment later.
            if let Some((body, version)) =
                objects::get(self.client().await, self.bucket(), &key, OP).await?
            {
                found.push(Document {
                    name,
                    body,
                    version,
                });
            }
        }
        Ok(found)
    }

    async fn document_names(&self, prefix: &str) -> Result<Vec<String>, StateError> {
        let root = self.document_key("");
        let keys = objects::list(
            self.client().await,
            self.bucket(),
            &format!("{root}{prefix}"),
            "list documents",
        )
        .await?;
        Ok(keys
            .into_iter()
            .map(|key| key.strip_prefix(&root).unwrap_or(&key).to_string())
            .collect())
    }

    async fn put_document(
        &self,
        name: &str,
        body: &[u8],
        precondition: Precondition<'_>,
    ) -> Result<String, StateError> {
        const OP: &str = "write document";
        check_document_name(name)?;
        let expect = match precondition {
            Precondition::Any => Expect::Anything,
            Precondition::Absent => Expect::Absent,
            Precondition::Version(etag) => Expect::ETag(etag),
        };
        match objects::put(
            self.client().await,
            self.bucket(),
            &self.document_key(name),
            body.to_vec(),
            "application/octet-stream",
            expect,
            OP,
        )
        .await
        {
            Ok(etag) => Ok(etag),
            Err(WriteError::Conflict) => Err(changed(name)),
            Err(WriteError::Failed(e)) => Err(e),
        }
    }

    async fn delete_document(
        &self,
        name: &str,
        precondition: Precondition<'_>,
    ) -> Result<(), StateError> {
        const OP: &str = "delete document";
        check_document_name(name)?;
        let key = self.document_key(name);
        let client = self.client().await;
        let etag = match precondition {
            Precondition::Any => None,
            Precondition::Absent => {
                if objects::get(client, self.bucket(), &key, OP)
                    .await?
                    .is_some()
                {
                    return Err(changed(name));
                }
                return Ok(());
            }
            Precondition::Version(etag) => Some(etag),
        };
        match objects::delete(client, self.bucket(), &key, etag, OP).await {
            Ok(()) => Ok(()),
            // Nothing there: what a delete of anything wants.
            Err(WriteError::Conflict) if etag.is_none() => Ok(()),
            Err(WriteError::Conflict) => Err(changed(name)),
            Err(WriteError::Failed(e)) => Err(e),
        }
    }

    async fn replace_state(
        &self,
        expected_serial: u64,
        dump: &StateDump,
    ) -> Result<(), StateError> {
        const OP: &str = "replace state";
        let mut cache = self.head.lock().await;
        *cache = None;
        let (found, etag, version) = match self.read_stored(OP).await? {
            Some((Stored::Head(head), etag)) => (head.serial, Some(etag), head.version),
            Some((Stored::Legacy(document), etag)) => (document.serial, Some(etag), 0),
            None => (0, None, 0),
        };
        check_serial(expected_serial, found)?;
        let (running, finished): (Vec<&ApplyHistory>, Vec<&ApplyHistory>) = dump
            .applies
            .iter()
            .partition(|a| a.apply.finished_at.is_none());
        for history in &finished {
            self.write_history(history, OP).await?;
        }
        let next_apply_id = dump.applies.iter().map(|a| a.apply.id).max().unwrap_or(0) + 1;
        let mut head = Head::new(dump.lineage.clone(), dump.serial, next_apply_id);
        head.version = version;
        head.running = running.iter().map(|a| a.apply.clone()).collect();
        // Straight from the dump, in the order of a snapshot: no second copy of the state.
        let lines: Vec<LineRef<'_>> = std::iter::once(LineRef::Snapshot(header(&head)))
            .chain(dump.outputs.iter().map(LineRef::Output))
            .chain(running.iter().flat_map(|a| {
                a.changes
                    .iter()
                    .map(move |change| LineRef::Change(a.apply.id, change))
            }))
            .chain(dump.resources.iter().map(LineRef::Resource))
            .collect();
        let snapshot = self.write_snapshot(&head, lines, OP).await?;
        let mut next = head.next();
        next.snapshot = Some(snapshot);
        let key = self.key("state.json");
        let Some((written, etag)) = self.publish_or_discard(next, etag.as_deref(), OP).await?
        else {
            return Err(StateError::Refused(format!(
                "{key} changed while the state was being replaced; nothing was overwritten, try again"
            )));
        };
        let keep: Vec<ApplyId> = finished.iter().map(|h| h.apply.id).collect();
        let stale = self
            .finished_ids(OP)
            .await?
            .into_iter()
            .filter(|id| !keep.contains(id))
            .map(|id| self.apply_key(id))
            .collect();
        self.delete_quietly(stale, OP).await;
        let result = self.collect_garbage(&written, OP).await;
        *cache = Some((written, etag));
        result
    }

    /// Folds the deltas into a new snapshot and deletes every object no head names, so the
    /// bytes of replaced state are gone (but for earlier object versions, when the bucket
    /// keeps them).
    async fn compact(&self) -> Result<(), StateError> {
        const OP: &str = "compact state";
        let mut cache = self.head.lock().await;
        let (head, etag) = self.head_for_write(&mut cache, true, OP).await?;
        if etag.is_none() {
            return Ok(());
        }
        if head.deltas.is_empty() {
            return self.collect_garbage(&head, OP).await;
        }
        self.compact_cached(&mut cache, OP).await
    }
}
