//! Encryption at rest: a [`StateStore`] that seals the values of the store beneath it.
//!
//! [`EncryptedStore`] wraps any backend. With a [`Keyring`], every write gets a fresh data
//! key (wrapped for the configured age recipients or KMS key, see [`braid_keys::envelope`])
//! and these parts are stored sealed, each bound to its place (a sealed value moved to
//! another resource does not open):
//! - each resource's attributes,
//! - each output's value,
//! - the message of each change in the audit log,
//! - the Helm values and notes recorded with each apply's sources,
//! - the body of every document except the agent's leases and members (`agent/…`, which
//!   hold replica names and times only).
//!
//! Addresses, types, ids, dependencies, provider metadata, lineage and serial, locks and the
//! audit log's who/when/what stay readable, so that `braid history`, locking and planning
//! which providers to start work on them without the keys.
//!
//! Without a keyring the wrapper stores values as they are, and refuses to read sealed ones:
//! state written encrypted is never mistaken for values. With a keyring it refuses to read
//! values that are not sealed, unless it was made for `braid state encrypt`
//! ([`EncryptedStore::migrating`]), which reads both and rewrites everything sealed.

use std::sync::Arc;

use async_trait::async_trait;
use braid_keys::{DataKey, KeyError, Keyring, is_sealed};
use braid_provider::Value;

use crate::documents::{Document, Precondition};
use crate::model::{
    ApplyHistory, ApplyId, ApplyOutcome, ApplyRecord, ChangeRecord, ChangeSummary, HelmRelease,
    LockInfo, LockRequest, NewApply, OutputRecord, ResourceIndexEntry, ResourceRecord,
    ResourceWrite, SourceRevision, StateDump, StateMeta,
};
use crate::store::{StateError, StateStore};

/// Document names under this prefix are stored as they are.
const PLAIN_DOCUMENTS: &str = "agent/";

/// A store whose values are sealed at rest; see the module documentation.
pub struct EncryptedStore {
    inner: Arc<dyn StateStore>,
    keyring: Option<Arc<Keyring>>,
    accept_plaintext: bool,
}

impl EncryptedStore {
    /// `inner` with its values sealed by `keyring`; without one, values are stored as they
    /// are and sealed values are refused.
    pub fn new(inner: Arc<dyn StateStore>, keyring: Option<Arc<Keyring>>) -> EncryptedStore {
        EncryptedStore {
            inner,
            keyring,
            accept_plaintext: false,
        }
    }

    /// A store that reads values whether or not they are sealed, and writes them sealed by
    /// `keyring`: what `braid state encrypt` uses to encrypt a plaintext state (or
    /// `keyring = None` to decrypt one).
    pub fn migrating(inner: Arc<dyn StateStore>, keyring: Option<Arc<Keyring>>) -> EncryptedStore {
        EncryptedStore {
            inner,
            keyring,
            accept_plaintext: true,
        }
    }

    /// The keyring, when values are sealed.
    pub fn keyring(&self) -> Option<&Arc<Keyring>> {
        self.keyring.as_ref()
    }

    /// The store beneath, which holds the sealed values.
    pub fn inner(&self) -> &Arc<dyn StateStore> {
        &self.inner
    }

    fn key_error(&self, what: &str, err: KeyError) -> StateError {
        StateError::Encryption(format!(
            "cannot decrypt {what} of the state at {}: {err}",
            self.inner.location()
        ))
    }

    /// A data key for one write, or `None` when values are stored as they are.
    async fn data_key(&self) -> Result<Option<DataKey>, StateError> {
        match &self.keyring {
            None => Ok(None),
            Some(keyring) => keyring.data_key().await.map(Some).map_err(|e| {
                StateError::Encryption(format!(
                    "cannot encrypt for the state at {}: {e}",
                    self.inner.location()
                ))
            }),
        }
    }

    /// Opens `text` if it is sealed; `Ok(None)` when it is not and plaintext is acceptable.
    async fn open_text(
        &self,
        text: &str,
        aad: &str,
        what: &str,
    ) -> Result<Option<Vec<u8>>, StateError> {
        if !is_sealed(text) {
            return self.plain(None, what);
        }
        match &self.keyring {
            Some(keyring) => keyring
                .open(text, aad.as_bytes())
                .await
                .map(Some)
                .map_err(|e| self.key_error(what, e)),
            None => Err(StateError::Encryption(format!(
                "{what} of the state at {} is encrypted, but the environment's state block has no encryption block: add the encryption block it was written with (and its key) to read it",
                self.inner.location()
            ))),
        }
    }

    /// Opens a value stored by [`seal_value`]: attributes and outputs.
    async fn open_value(&self, value: Value, aad: &str, what: &str) -> Result<Value, StateError> {
        let Value::String(text) = &value else {
            return self.plain(value, what);
        };
        match self.open_text(text, aad, what).await? {
            None => Ok(value),
            Some(json) => serde_json::from_slice(&json)
                .map_err(|e| StateError::Corrupt(format!("{what}, decrypted: {e}"))),
        }
    }

    /// A value that is not a string, so not sealed: fine unless sealing is expected.
    fn plain<T>(&self, value: T, what: &str) -> Result<T, StateError> {
        if self.keyring.is_some() && !self.accept_plaintext {
            return Err(StateError::Encryption(format!(
                "{what} of the state at {} is not encrypted, but the environment's state has an encryption block: encrypt the existing state once with braid state encrypt",
                self.inner.location()
            )));
        }
        Ok(value)
    }

    async fn open_record(&self, mut record: ResourceRecord) -> Result<ResourceRecord, StateError> {
        let what = format!("the attributes of {}", record.address);
        let aad = format!("resource:{}", record.address);
        record.attributes = self
            .open_value(std::mem::take(&mut record.attributes), &aad, &what)
            .await?;
        Ok(record)
    }

    async fn open_output(&self, mut output: OutputRecord) -> Result<OutputRecord, StateError> {
        let what = format!("output {}", output.name);
        let aad = format!("output:{}", output.name);
        output.value = self
            .open_value(std::mem::take(&mut output.value), &aad, &what)
            .await?;
        Ok(output)
    }

    async fn open_change(&self, mut change: ChangeRecord) -> Result<ChangeRecord, StateError> {
        if let Some(message) = change.message.take() {
            let what = format!("the change message of {}", change.address);
            let aad = format!("change:{}", change.address);
            change.message = Some(match self.open_text(&message, &aad, &what).await? {
                None => message,
                Some(bytes) => String::from_utf8(bytes)
                    .map_err(|e| StateError::Corrupt(format!("{what}, decrypted: {e}")))?,
            });
        }
        Ok(change)
    }

    async fn open_sources(&self, sources: &mut [SourceRevision]) -> Result<(), StateError> {
        for source in sources {
            let Some(helm) = source.helm.as_mut() else {
                continue;
            };
            let what = format!("the Helm values of source {}", source.name);
            let aad = format!("helm:{}", source.name);
            if let serde_json::Value::String(text) = &helm.values
                && let Some(json) = self.open_text(text, &aad, &what).await?
            {
                helm.values = serde_json::from_slice(&json)
                    .map_err(|e| StateError::Corrupt(format!("{what}, decrypted: {e}")))?;
            } else if !helm.values.is_string() {
                self.plain((), &what)?;
            }
            if let Some(notes) = helm.notes.take() {
                let aad = format!("helm-notes:{}", source.name);
                helm.notes = Some(match self.open_text(&notes, &aad, &what).await? {
                    None => notes,
                    Some(bytes) => String::from_utf8(bytes)
                        .map_err(|e| StateError::Corrupt(format!("{what}, decrypted: {e}")))?,
                });
            }
        }
        Ok(())
    }

    async fn open_apply(&self, mut apply: ApplyRecord) -> Result<ApplyRecord, StateError> {
        self.open_sources(&mut apply.sources).await?;
        Ok(apply)
    }

    async fn open_document(&self, mut document: Document) -> Result<Document, StateError> {
        if document.name.starts_with(PLAIN_DOCUMENTS) {
            return Ok(document);
        }
        let what = format!("document {}", document.name);
        let aad = format!("document:{}", document.name);
        let Ok(text) = std::str::from_utf8(&document.body) else {
            return self.plain(document, &what);
        };
        if let Some(body) = self.open_text(text, &aad, &what).await? {
            document.body = body;
        }
        Ok(document)
    }
}

fn seal_value(key: &DataKey, value: &Value, aad: &str) -> Value {
    // Values always serialize to JSON.
    let json = serde_json::to_vec(value).unwrap_or_default();
    Value::String(key.seal(&json, aad.as_bytes()))
}

fn seal_record(key: &DataKey, mut record: ResourceRecord) -> ResourceRecord {
    record.attributes = seal_value(
        key,
        &record.attributes,
        &format!("resource:{}", record.address),
    );
    record
}

fn seal_output(key: &DataKey, mut output: OutputRecord) -> OutputRecord {
    output.value = seal_value(key, &output.value, &format!("output:{}", output.name));
    output
}

fn seal_change(key: &DataKey, mut change: ChangeRecord) -> ChangeRecord {
    if let Some(message) = &change.message {
        change.message = Some(key.seal(
            message.as_bytes(),
            format!("change:{}", change.address).as_bytes(),
        ));
    }
    change
}

fn seal_sources(key: &DataKey, sources: &mut [SourceRevision]) {
    for source in sources {
        let Some(HelmRelease { values, notes, .. }) = source.helm.as_mut() else {
            continue;
        };
        let json = serde_json::to_vec(values).unwrap_or_default();
        *values =
            serde_json::Value::String(key.seal(&json, format!("helm:{}", source.name).as_bytes()));
        if let Some(text) = notes {
            *text = key.seal(
                text.as_bytes(),
                format!("helm-notes:{}", source.name).as_bytes(),
            );
        }
    }
}

#[async_trait]
impl StateStore for EncryptedStore {
    fn location(&self) -> String {
        self.inner.location()
    }

    async fn meta(&self) -> Result<StateMeta, StateError> {
        self.inner.meta().await
    }

    async fn resources(&self) -> Result<Vec<ResourceRecord>, StateError> {
        let mut out = Vec::new();
        for record in self.inner.resources().await? {
            out.push(self.open_record(record).await?);
        }
        Ok(out)
    }

    async fn resource_index(&self) -> Result<Vec<ResourceIndexEntry>, StateError> {
        self.inner.resource_index().await
    }

    async fn resource(&self, address: &str) -> Result<Option<ResourceRecord>, StateError> {
        match self.inner.resource(address).await? {
            Some(record) => Ok(Some(self.open_record(record).await?)),
            None => Ok(None),
        }
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
        let Some(key) = self.data_key().await? else {
            return self.inner.commit_resources(expected_serial, writes).await;
        };
        let writes = writes
            .into_iter()
            .map(|write| ResourceWrite {
                address: write.address,
                record: write.record.map(|r| seal_record(&key, r)),
                change: write.change.map(|(id, c)| (id, seal_change(&key, c))),
            })
            .collect();
        self.inner.commit_resources(expected_serial, writes).await
    }

    async fn outputs(&self) -> Result<Vec<OutputRecord>, StateError> {
        let mut out = Vec::new();
        for output in self.inner.outputs().await? {
            out.push(self.open_output(output).await?);
        }
        Ok(out)
    }

    async fn replace_outputs(
        &self,
        expected_serial: u64,
        outputs: Vec<OutputRecord>,
    ) -> Result<(), StateError> {
        let outputs = match self.data_key().await? {
            Some(key) if !outputs.is_empty() => {
                outputs.into_iter().map(|o| seal_output(&key, o)).collect()
            }
            _ => outputs,
        };
        self.inner.replace_outputs(expected_serial, outputs).await
    }

    async fn begin_apply(&self, mut apply: NewApply) -> Result<ApplyId, StateError> {
        if apply.sources.iter().any(|s| s.helm.is_some())
            && let Some(key) = self.data_key().await?
        {
            seal_sources(&key, &mut apply.sources);
        }
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
        let mut out = Vec::new();
        for apply in self.inner.applies(limit).await? {
            out.push(self.open_apply(apply).await?);
        }
        Ok(out)
    }

    async fn apply_record(&self, id: ApplyId) -> Result<Option<ApplyRecord>, StateError> {
        match self.inner.apply_record(id).await? {
            Some(apply) => Ok(Some(self.open_apply(apply).await?)),
            None => Ok(None),
        }
    }

    async fn changes(&self, id: ApplyId) -> Result<Vec<ChangeRecord>, StateError> {
        let mut out = Vec::new();
        for change in self.inner.changes(id).await? {
            out.push(self.open_change(change).await?);
        }
        Ok(out)
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
        let sealed = self.seal_dump(dump).await?;
        self.inner.replace_state(expected_serial, &sealed).await
    }

    async fn document(&self, name: &str) -> Result<Option<Document>, StateError> {
        match self.inner.document(name).await? {
            Some(document) => Ok(Some(self.open_document(document).await?)),
            None => Ok(None),
        }
    }

    async fn documents(&self, prefix: &str) -> Result<Vec<Document>, StateError> {
        let mut out = Vec::new();
        for document in self.inner.documents(prefix).await? {
            out.push(self.open_document(document).await?);
        }
        Ok(out)
    }

    async fn document_names(&self, prefix: &str) -> Result<Vec<String>, StateError> {
        self.inner.document_names(prefix).await
    }

    async fn put_document(
        &self,
        name: &str,
        body: &[u8],
        precondition: Precondition<'_>,
    ) -> Result<String, StateError> {
        if name.starts_with(PLAIN_DOCUMENTS) {
            return self.inner.put_document(name, body, precondition).await;
        }
        match self.data_key().await? {
            None => self.inner.put_document(name, body, precondition).await,
            Some(key) => {
                let sealed = key.seal(body, format!("document:{name}").as_bytes());
                self.inner
                    .put_document(name, sealed.as_bytes(), precondition)
                    .await
            }
        }
    }

    async fn compact(&self) -> Result<(), StateError> {
        self.inner.compact().await
    }

    async fn delete_document(
        &self,
        name: &str,
        precondition: Precondition<'_>,
    ) -> Result<(), StateError> {
        self.inner.delete_document(name, precondition).await
    }
}

impl EncryptedStore {
    /// `dump` (as [`export`](StateStore::export) gives it) with its values sealed for a
    /// write with a fresh data key, as this store stores them; unchanged without a keyring.
    pub async fn seal_dump(&self, dump: &StateDump) -> Result<StateDump, StateError> {
        let Some(key) = self.data_key().await? else {
            return Ok(dump.clone());
        };
        let mut sealed = dump.clone();
        sealed.resources = sealed
            .resources
            .into_iter()
            .map(|r| seal_record(&key, r))
            .collect();
        sealed.outputs = sealed
            .outputs
            .into_iter()
            .map(|o| seal_output(&key, o))
            .collect();
        for history in &mut sealed.applies {
            seal_sources(&key, &mut history.apply.sources);
            history.changes = std::mem::take(&mut history.changes)
                .into_iter()
                .map(|c| seal_change(&key, c))
                .collect();
        }
        Ok(sealed)
    }

    /// `dump` as the store beneath holds it (a snapshot of it), with its values opened as
    /// this store reads them.
    pub async fn open_dump(&self, dump: StateDump) -> Result<StateDump, StateError> {
        let mut opened = StateDump {
            resources: Vec::with_capacity(dump.resources.len()),
            outputs: Vec::with_capacity(dump.outputs.len()),
            applies: Vec::with_capacity(dump.applies.len()),
            ..dump
        };
        for record in dump.resources {
            opened.resources.push(self.open_record(record).await?);
        }
        for output in dump.outputs {
            opened.outputs.push(self.open_output(output).await?);
        }
        for history in dump.applies {
            let mut changes = Vec::with_capacity(history.changes.len());
            for change in history.changes {
                changes.push(self.open_change(change).await?);
            }
            opened.applies.push(ApplyHistory {
                apply: self.open_apply(history.apply).await?,
                changes,
            });
        }
        Ok(opened)
    }
}

/// Rewrites everything `store` holds with its keyring (or in plain text without one):
/// every resource, output, change message and document. `store` should be
/// [`EncryptedStore::migrating`] to read a state that is not (or not yet) sealed the same
/// way. Returns the number of documents rewritten. Take the lock first.
pub async fn reseal(store: &EncryptedStore) -> Result<usize, StateError> {
    let dump = store.export().await?;
    store.replace_state(dump.serial, &dump).await?;
    let mut count = 0;
    for document in store.documents("").await? {
        if document.name.starts_with(PLAIN_DOCUMENTS) {
            continue;
        }
        store
            .put_document(
                &document.name,
                &document.body,
                Precondition::Version(&document.version),
            )
            .await?;
        count += 1;
    }
    store.compact().await?;
    Ok(count)
}
