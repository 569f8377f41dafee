//! The state document: one JSON object per environment holding lineage, serial, every
//! resource, and the applies still open (with their changes). Every write to state is one
//! conditional PUT of this document, so a resource and its audit entry change together.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::codec::check_serial;
use crate::model::{
    ApplyHistory, ApplyId, OutputRecord, ResourceRecord, ResourceWrite, StateDump, StateMeta,
};
use crate::store::StateError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct StateDocument {
    pub format_version: u32,
    pub lineage: String,
    pub serial: u64,
    pub next_apply_id: ApplyId,
    pub resources: BTreeMap<String, ResourceRecord>,
    /// Applies started and not finished. A finished apply moves to its own history object.
    pub open_applies: Vec<ApplyHistory>,
    /// The outputs of the last successful apply, ordered by name. A field older documents
    /// lack (they read as no outputs), so the format version did not change; an older braid
    /// ignores it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<OutputRecord>,
}

impl StateDocument {
    pub const FORMAT_VERSION: u32 = 1;

    pub fn new() -> StateDocument {
        StateDocument {
            format_version: Self::FORMAT_VERSION,
            lineage: uuid::Uuid::new_v4().to_string(),
            serial: 0,
            next_apply_id: 1,
            resources: BTreeMap::new(),
            open_applies: Vec::new(),
            outputs: Vec::new(),
        }
    }

    pub fn check_version(&self, key: &str) -> Result<(), StateError> {
        if self.format_version > Self::FORMAT_VERSION {
            return Err(StateError::NewerSchema {
                location: key.to_string(),
                found: i64::from(self.format_version),
                supported: i64::from(Self::FORMAT_VERSION),
            });
        }
        Ok(())
    }

    pub fn meta(&self) -> StateMeta {
        StateMeta {
            lineage: self.lineage.clone(),
            serial: self.serial,
        }
    }

    pub fn open_apply_mut(&mut self, id: ApplyId) -> Option<&mut ApplyHistory> {
        self.open_applies.iter_mut().find(|a| a.apply.id == id)
    }

    /// Applies `writes` if the serial is `expected`; returns the new serial.
    pub fn commit(&mut self, expected: u64, writes: &[ResourceWrite]) -> Result<u64, StateError> {
        check_serial(expected, self.serial)?;
        let count = u64::try_from(writes.len()).unwrap_or(u64::MAX);
        let new_serial = expected.checked_add(count).ok_or_else(|| {
            StateError::Corrupt(format!("serial {expected} cannot be incremented"))
        })?;
        for write in writes {
            if let Some((apply_id, _)) = &write.change
                && self.open_apply_mut(*apply_id).is_none()
            {
                return Err(StateError::ApplyNotFound(*apply_id));
            }
        }
        for write in writes {
            match &write.record {
                Some(record) => {
                    self.resources.insert(write.address.clone(), record.clone());
                }
                None => {
                    self.resources.remove(&write.address);
                }
            }
            if let Some((apply_id, change)) = &write.change
                && let Some(open) = self.open_apply_mut(*apply_id)
            {
                open.changes.push(change.clone());
            }
        }
        self.serial = new_serial;
        Ok(new_serial)
    }

    /// Replaces the outputs if the serial is `expected`.
    pub fn set_outputs(
        &mut self,
        expected: u64,
        outputs: &[OutputRecord],
    ) -> Result<(), StateError> {
        check_serial(expected, self.serial)?;
        self.outputs = outputs.to_vec();
        Ok(())
    }

    /// The document holding `dump`: running applies stay open, the rest go to history
    /// objects (returned).
    pub fn from_dump(dump: &StateDump) -> (StateDocument, Vec<ApplyHistory>) {
        let (open, finished): (Vec<_>, Vec<_>) = dump
            .applies
            .iter()
            .cloned()
            .partition(|a| a.apply.finished_at.is_none());
        let document = StateDocument {
            format_version: Self::FORMAT_VERSION,
            lineage: dump.lineage.clone(),
            serial: dump.serial,
            next_apply_id: dump.applies.iter().map(|a| a.apply.id).max().unwrap_or(0) + 1,
            resources: dump
                .resources
                .iter()
                .map(|r| (r.address.clone(), r.clone()))
                .collect(),
            open_applies: open,
            outputs: dump.outputs.clone(),
        };
        (document, finished)
    }
}
