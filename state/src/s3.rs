//! The S3 state backend: objects in a bucket, for any S3-compatible store.
//!
//! Layout under `<prefix><env>/`:
//! - `state.json` — the [`StateDocument`]: lineage, serial, every resource, and the applies
//!   still running with their changes. Every state write is one PUT of this object with
//!   `If-Match: <ETag read>` (`If-None-Match: *` when creating it), so a writer that raced
//!   another gets 412 and re-reads instead of overwriting a newer serial.
//! - `applies/<id, 20 digits>.json` — one object per finished apply with its changes,
//!   written once when the apply finishes; zero-padded ids list in order.
//! - `documents/<name>` — the documents kept beside the state ([`crate::documents`]), one
//!   object each, its ETag the version; writes and deletes are conditional on it.
//! - `lock.json` — the lock, created with `If-None-Match: *`; heartbeats, steals and
//!   releases are conditional on the ETag read, so two stealers cannot both win.

mod document;
mod objects;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use tokio::sync::OnceCell;

use crate::codec::check_serial;
use crate::documents::{Document, Precondition, changed, check_document_name};
use crate::model::{
    ApplyHistory, ApplyId, ApplyOutcome, ApplyRecord, ChangeRecord, ChangeSummary, LockInfo,
    LockRequest, NewApply, OutputRecord, ResourceRecord, ResourceWrite, StateDump, StateMeta,
};
use crate::store::{StateError, StateStore};
use document::StateDocument;
use objects::{Expect, WriteError};

/// How many times a write re-reads and tries again after losing a race.
const MAX_ATTEMPTS: u32 = 20;

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

/// A [`StateStore`] for one environment in an S3 bucket.
pub struct S3Store {
    location: S3Location,
    env: String,
    client: OnceCell<Client>,
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
        }
    }

    /// A store that talks through `client` instead of one built from the AWS configuration
    /// (for callers with their own SDK setup, and tests with static credentials).
    pub fn with_client(location: S3Location, env: &str, client: Client) -> S3Store {
        S3Store {
            location,
            env: env.to_string(),
            client: OnceCell::new_with(Some(client)),
        }
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

    async fn read_document(
        &self,
        op: &'static str,
    ) -> Result<Option<(StateDocument, String)>, StateError> {
        let key = self.key("state.json");
        let found =
            objects::get_json::<StateDocument>(self.client().await, self.bucket(), &key, op)
                .await?;
        if let Some((document, _)) = &found {
            document.check_version(&key)?;
        }
        Ok(found)
    }

    /// Reads the document (a new one if there is none), lets `change` edit it, and writes it
    /// back only if nobody wrote in between; on a lost race, starts over from a fresh read.
    /// `before_write` runs after `change` and before the PUT (history objects go first).
    async fn update<T>(
        &self,
        op: &'static str,
        mut change: impl FnMut(&mut StateDocument) -> Result<T, StateError>,
    ) -> Result<(T, StateDocument), StateError> {
        let key = self.key("state.json");
        for _ in 0..MAX_ATTEMPTS {
            let (mut document, etag) = match self.read_document(op).await? {
                Some((document, etag)) => (document, Some(etag)),
                None => (StateDocument::new(), None),
            };
            let result = change(&mut document)?;
            let expect = etag.as_deref().map_or(Expect::Absent, Expect::ETag);
            match objects::put_json(
                self.client().await,
                self.bucket(),
                &key,
                &document,
                expect,
                op,
            )
            .await
            {
                Ok(_) => return Ok((result, document)),
                Err(WriteError::Conflict) => continue,
                Err(WriteError::Failed(e)) => return Err(e),
            }
        }
        Err(contended(op, &key))
    }

    async fn read_history(
        &self,
        id: ApplyId,
        op: &'static str,
    ) -> Result<Option<ApplyHistory>, StateError> {
        if let Some((document, _)) = self.read_document(op).await?
            && let Some(open) = document.open_applies.iter().find(|a| a.apply.id == id)
        {
            return Ok(Some(open.clone()));
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

#[async_trait]
impl StateStore for S3Store {
    fn location(&self) -> String {
        format!("s3://{}/{}", self.location.bucket, self.key(""))
    }

    async fn meta(&self) -> Result<StateMeta, StateError> {
        const OP: &str = "read meta";
        if let Some((document, _)) = self.read_document(OP).await? {
            return Ok(document.meta());
        }
        // No document: a new state, unless the history of one is still here. Nothing ties
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
        let ((), document) = self.update(OP, |_| Ok(())).await?;
        Ok(document.meta())
    }

    async fn resources(&self) -> Result<Vec<ResourceRecord>, StateError> {
        Ok(self
            .read_document("read resources")
            .await?
            .map(|(document, _)| document.resources.into_values().collect())
            .unwrap_or_default())
    }

    async fn resource(&self, address: &str) -> Result<Option<ResourceRecord>, StateError> {
        Ok(self
            .read_document("read resource")
            .await?
            .and_then(|(mut document, _)| document.resources.remove(address)))
    }

    async fn commit_resource(
        &self,
        expected_serial: u64,
        write: ResourceWrite,
    ) -> Result<u64, StateError> {
        self.commit_resources(expected_serial, vec![write]).await
    }

    /// One conditional PUT for the whole batch.
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
        let (serial, _) = self
            .update(OP, |document| document.commit(expected_serial, &writes))
            .await?;
        Ok(serial)
    }

    async fn outputs(&self) -> Result<Vec<OutputRecord>, StateError> {
        Ok(self
            .read_document("read outputs")
            .await?
            .map(|(document, _)| document.outputs)
            .unwrap_or_default())
    }

    async fn replace_outputs(
        &self,
        expected_serial: u64,
        outputs: Vec<OutputRecord>,
    ) -> Result<(), StateError> {
        self.update("write outputs", |document| {
            document.set_outputs(expected_serial, &outputs)
        })
        .await?;
        Ok(())
    }

    async fn begin_apply(&self, apply: NewApply) -> Result<ApplyId, StateError> {
        let (id, _) = self
            .update("begin apply", |document| {
                let id = document.next_apply_id;
                document.next_apply_id += 1;
                document.open_applies.push(ApplyHistory {
                    apply: ApplyRecord {
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
                    },
                    changes: Vec::new(),
                });
                Ok(id)
            })
            .await?;
        Ok(id)
    }

    async fn finish_apply(
        &self,
        id: ApplyId,
        summary: ChangeSummary,
        outcome: ApplyOutcome,
    ) -> Result<(), StateError> {
        const OP: &str = "finish apply";
        let finished_at = chrono::Utc::now();
        let finish = |history: &mut ApplyHistory| {
            history.apply.finished_at = Some(finished_at);
            history.apply.summary = summary;
            history.apply.outcome = outcome;
        };
        let key = self.key("state.json");
        for _ in 0..MAX_ATTEMPTS {
            let Some((mut document, etag)) = self.read_document(OP).await? else {
                return Err(StateError::ApplyNotFound(id));
            };
            let Some(index) = document.open_applies.iter().position(|a| a.apply.id == id) else {
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
                finish(&mut history);
                return self.write_history(&history, OP).await;
            };
            let mut history = document.open_applies.remove(index);
            finish(&mut history);
            // History first: if we die between the two writes the apply is in both places,
            // and readers prefer the open copy, so nothing is lost or shown twice.
            self.write_history(&history, OP).await?;
            match objects::put_json(
                self.client().await,
                self.bucket(),
                &key,
                &document,
                Expect::ETag(&etag),
                OP,
            )
            .await
            {
                Ok(_) => return Ok(()),
                Err(WriteError::Conflict) => continue,
                Err(WriteError::Failed(e)) => return Err(e),
            }
        }
        Err(contended(OP, &key))
    }

    async fn applies(&self, limit: usize) -> Result<Vec<ApplyRecord>, StateError> {
        let mut history = self.history().await?;
        history.reverse();
        Ok(history.into_iter().take(limit).map(|h| h.apply).collect())
    }

    async fn apply_record(&self, id: ApplyId) -> Result<Option<ApplyRecord>, StateError> {
        Ok(self.read_history(id, "read apply").await?.map(|h| h.apply))
    }

    async fn changes(&self, id: ApplyId) -> Result<Vec<ChangeRecord>, StateError> {
        Ok(self
            .read_history(id, "read changes")
            .await?
            .map(|h| h.changes)
            .unwrap_or_default())
    }

    /// One listing and one GET per finished apply, plus the open ones from the document.
    async fn history(&self) -> Result<Vec<ApplyHistory>, StateError> {
        const OP: &str = "read history";
        let open = self
            .read_document(OP)
            .await?
            .map(|(document, _)| document.open_applies)
            .unwrap_or_default();
        let mut all = open;
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
        let (document, finished) = StateDocument::from_dump(dump);
        let current = self.read_document(OP).await?;
        let (found, etag) = match &current {
            Some((document, etag)) => (document.serial, Some(etag.as_str())),
            None => (0, None),
        };
        check_serial(expected_serial, found)?;
        let keep: Vec<ApplyId> = finished.iter().map(|h| h.apply.id).collect();
        for history in &finished {
            self.write_history(history, OP).await?;
        }
        let key = self.key("state.json");
        let expect = etag.map_or(Expect::Absent, Expect::ETag);
        match objects::put_json(
            self.client().await,
            self.bucket(),
            &key,
            &document,
            expect,
            OP,
        )
        .await
        {
            Ok(_) => {}
            Err(WriteError::Conflict) => {
                return Err(StateError::Refused(format!(
                    "{key} changed while the state was being replaced; nothing was overwritten, try again"
                )));
            }
            Err(WriteError::Failed(e)) => return Err(e),
        }
        for id in self.finished_ids(OP).await? {
            if !keep.contains(&id) {
                match objects::delete(
                    self.client().await,
                    self.bucket(),
                    &self.apply_key(id),
                    None,
                    OP,
                )
                .await
                {
                    Ok(()) | Err(WriteError::Conflict) => {}
                    Err(WriteError::Failed(e)) => return Err(e),
                }
            }
        }
        Ok(())
    }
}
