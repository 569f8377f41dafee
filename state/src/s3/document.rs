//! `state.json` in format 1: one JSON object holding lineage, serial, every resource, and the
//! applies still open with their changes. braid before format 2 rewrote all of it on every
//! write. It is still read as it is, and replaced by the format-2 layout on the first write
//! ([`super::S3Store`]).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::model::{ApplyHistory, ApplyId, OutputRecord, ResourceRecord};

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(super) struct StateDocument {
    pub lineage: String,
    pub serial: u64,
    pub next_apply_id: ApplyId,
    pub resources: BTreeMap<String, ResourceRecord>,
    /// Applies started and not finished. A finished apply moves to its own history object.
    pub open_applies: Vec<ApplyHistory>,
    /// The outputs of the last successful apply, ordered by name; missing in documents
    /// written before outputs were stored.
    #[serde(default)]
    pub outputs: Vec<OutputRecord>,
}
