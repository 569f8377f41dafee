//! The objects of an environment's state in format 2, and the state they add up to.
//!
//! - The head (`state.json`, [`Head`]): lineage, serial, the running applies, and which
//!   snapshot and deltas hold the rest. Small, and rewritten by every write with `If-Match`:
//!   the one object whose conditional write decides who wins.
//! - Deltas (`log/<version>-<random>.json`, [`Delta`]): what one group commit wrote — the
//!   resources it set or removed, with their audit entries — or new outputs.
//! - Snapshots (`snapshots/<version>-<random>.jsonl`, [`Line`]s): the whole state as of a
//!   head version, one JSON value per line so that it is written and read as a stream.
//!
//! An object is written before the head that names it, under a key nobody else uses, so a
//! writer that dies or loses a race leaves at most an object no head names.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::{ApplyId, ApplyRecord, ChangeRecord, OutputRecord, ResourceRecord};

/// The format this braid writes; format 1 (one document holding everything) is still read,
/// and replaced by format 2 on the first write.
pub(super) const FORMAT_VERSION: u32 = 2;

/// What a reader needs to know first: which format a `state.json` is in.
#[derive(Deserialize)]
pub(super) struct Probe {
    pub format_version: u32,
}

/// `state.json` in format 2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Head {
    pub format_version: u32,
    pub lineage: String,
    pub serial: u64,
    /// Goes up by one with every write of the head. Objects are named with the version of
    /// the head that will name them, which is what lets a clean-up tell an object a writer
    /// is about to publish from one nobody will ([`Head::is_garbage`]).
    pub version: u64,
    pub next_apply_id: ApplyId,
    /// The last snapshot; `None` until the first compaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<ObjectRef>,
    /// The deltas written since the snapshot, oldest first.
    #[serde(default)]
    pub deltas: Vec<ObjectRef>,
    /// Applies started and not finished. Their changes are in the snapshot and deltas; a
    /// finished apply moves to its own history object.
    #[serde(default)]
    pub running: Vec<ApplyRecord>,
    /// Always empty: the fields a format-1 reader requires, so that an older braid reads
    /// this head, sees the newer format version and refuses it as written by a newer braid.
    #[serde(rename = "resources", skip_deserializing, default)]
    legacy_resources: BTreeMap<String, ResourceRecord>,
    #[serde(rename = "open_applies", skip_deserializing, default)]
    legacy_open_applies: Vec<ApplyRecord>,
}

/// An object named by the head: its key under the environment's prefix and its size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct ObjectRef {
    pub key: String,
    pub bytes: u64,
}

impl Head {
    pub fn new(lineage: String, serial: u64, next_apply_id: ApplyId) -> Head {
        Head {
            format_version: FORMAT_VERSION,
            lineage,
            serial,
            version: 0,
            next_apply_id,
            snapshot: None,
            deltas: Vec::new(),
            running: Vec::new(),
            legacy_resources: BTreeMap::new(),
            legacy_open_applies: Vec::new(),
        }
    }

    pub fn is_running(&self, id: ApplyId) -> bool {
        self.running.iter().any(|a| a.id == id)
    }

    pub fn running_ids(&self) -> BTreeSet<ApplyId> {
        self.running.iter().map(|a| a.id).collect()
    }

    /// The next head: one version up, everything else as now.
    pub fn next(&self) -> Head {
        Head {
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// Bytes in deltas, which readers fetch besides the snapshot.
    pub fn delta_bytes(&self) -> u64 {
        self.deltas.iter().map(|d| d.bytes).sum()
    }

    /// The key of a new object of `kind` (`log`, `snapshots`) for the head after this one.
    pub fn new_object_key(&self, kind: &str, extension: &str) -> String {
        let random = uuid::Uuid::new_v4().simple().to_string();
        format!("{kind}/{}-{}.{extension}", self.version + 1, &random[..12])
    }

    fn names(&self, key: &str) -> bool {
        self.snapshot.as_ref().is_some_and(|s| s.key == key)
            || self.deltas.iter().any(|d| d.key == key)
    }

    /// True when the object `key` (a delta or snapshot) can be deleted by someone who just
    /// read this head: it is not named by it, and it was made for a head no newer than this
    /// one. A writer that made it for an older head will find the head changed and fail
    /// its conditional write, so nobody will ever name it. An object made for the next
    /// version may still be published, and is kept.
    pub fn is_garbage(&self, key: &str) -> bool {
        let Some(version) = object_version(key) else {
            return false;
        };
        version <= self.version && !self.names(key)
    }
}

/// The head version an object was made for, from its key (`log/12-….json`).
pub(super) fn object_version(key: &str) -> Option<u64> {
    let name = key.rsplit('/').next()?;
    name.split('-').next()?.parse().ok()
}

/// One group commit, or a replacement of the outputs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Delta {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub writes: Vec<DeltaWrite>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Vec<OutputRecord>>,
}

/// A [`ResourceWrite`](crate::ResourceWrite) as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct DeltaWrite {
    pub address: String,
    pub record: Option<ResourceRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<(ApplyId, ChangeRecord)>,
}

/// One line of a snapshot. The header comes first, then outputs, then the changes of the
/// running applies, then resources by address: a reader that needs no resources stops at
/// the first one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Line {
    Snapshot(SnapshotHeader),
    Output(OutputRecord),
    Change(ApplyId, ChangeRecord),
    Resource(ResourceRecord),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct SnapshotHeader {
    pub format_version: u32,
    pub lineage: String,
    pub serial: u64,
}

/// What a read needs of the snapshot and deltas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Want {
    /// Everything: resources, outputs and the changes of running applies.
    All,
    /// Outputs and the changes of running applies; no resources.
    NoResources,
}

/// The state the snapshot and deltas add up to.
#[derive(Debug, Default)]
pub(super) struct Contents {
    pub resources: BTreeMap<String, ResourceRecord>,
    pub outputs: Vec<OutputRecord>,
    /// Changes of the running applies, in order; those of other applies are dropped.
    pub changes: BTreeMap<ApplyId, Vec<ChangeRecord>>,
}

impl Contents {
    /// Adds one snapshot line. `running` says whose changes to keep.
    pub fn add_line(&mut self, line: Line, running: &BTreeSet<ApplyId>) {
        match line {
            Line::Snapshot(_) => {}
            Line::Output(output) => self.outputs.push(output),
            Line::Change(id, change) => {
                if running.contains(&id) {
                    self.changes.entry(id).or_default().push(change);
                }
            }
            Line::Resource(record) => {
                self.resources.insert(record.address.clone(), record);
            }
        }
    }

    pub fn apply(&mut self, delta: Delta, running: &BTreeSet<ApplyId>, want: Want) {
        for write in delta.writes {
            if want == Want::All {
                match write.record {
                    Some(record) => {
                        self.resources.insert(write.address, record);
                    }
                    None => {
                        self.resources.remove(&write.address);
                    }
                }
            }
            if let Some((id, change)) = write.change
                && running.contains(&id)
            {
                self.changes.entry(id).or_default().push(change);
            }
        }
        if let Some(outputs) = delta.outputs {
            self.outputs = outputs;
        }
    }

    /// The snapshot's lines, in the order [`Line`] gives.
    pub fn lines<'a>(&'a self, header: SnapshotHeader) -> impl Iterator<Item = LineRef<'a>> + 'a {
        std::iter::once(LineRef::Snapshot(header))
            .chain(self.outputs.iter().map(LineRef::Output))
            .chain(
                self.changes
                    .iter()
                    .flat_map(|(id, changes)| changes.iter().map(move |c| LineRef::Change(*id, c))),
            )
            .chain(self.resources.values().map(LineRef::Resource))
    }
}

/// A [`Line`] borrowing what it holds, for writing.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum LineRef<'a> {
    Snapshot(SnapshotHeader),
    Output(&'a OutputRecord),
    Change(ApplyId, &'a ChangeRecord),
    Resource(&'a ResourceRecord),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_versions_come_from_keys() {
        assert_eq!(
            object_version("log/00000000000000000012-abcd.json"),
            Some(12)
        );
        assert_eq!(
            object_version("snapshots/00000000000000000003-ff.jsonl"),
            Some(3)
        );
        assert_eq!(object_version("log/notes.txt"), None);
    }

    #[test]
    fn garbage_is_unnamed_and_not_newer_than_the_head() {
        let mut head = Head::new("l".into(), 0, 1);
        head.version = 5;
        head.deltas.push(ObjectRef {
            key: "log/00000000000000000005-a.json".into(),
            bytes: 1,
        });
        assert!(!head.is_garbage("log/00000000000000000005-a.json"));
        assert!(head.is_garbage("log/00000000000000000005-b.json"));
        assert!(head.is_garbage("snapshots/00000000000000000001-b.jsonl"));
        // Made for the next head: a writer may be about to name it.
        assert!(!head.is_garbage("log/00000000000000000006-c.json"));
    }

    #[test]
    fn a_format_2_head_reads_as_a_newer_format_1_document() {
        let head = Head::new("lineage".into(), 3, 1);
        let json = serde_json::to_value(&head).expect("serializes");
        assert_eq!(json["resources"], serde_json::json!({}));
        assert_eq!(json["open_applies"], serde_json::json!([]));
        assert_eq!(json["format_version"], 2);
        let back: Head = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, head);
    }
}
