//! Copies of an environment's whole state kept on this machine, taken before each write, so
//! that a state that was lost, damaged or wrongly changed can be put back with `braid state
//! restore` (the role of Terraform's `terraform.tfstate.backup`, but several deep).
//!
//! One JSON file per snapshot (a [`StateDump`], as `braid state pull` prints it) under
//! `.braid/snapshots/<env>/`, named `<UTC time>-serial-<serial>.json` so that names sort by
//! age. The directory is `0700` and the files `0600`: they hold every secret state holds.

use std::io;
use std::path::{Path, PathBuf};

use braid_state::StateDump;
use chrono::{DateTime, Utc};

/// How many snapshots are kept per environment unless the state block says otherwise
/// (`snapshots = N`).
pub const DEFAULT_SNAPSHOTS: usize = 5;

/// One snapshot on disk, without its contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotEntry {
    /// The file name without `.json`; what `braid state restore --snapshot` takes.
    pub id: String,
    /// The serial of the state it holds.
    pub serial: u64,
    /// When it was taken.
    pub taken_at: DateTime<Utc>,
    /// The file.
    pub path: PathBuf,
}

/// The snapshots of one environment.
#[derive(Debug, Clone)]
pub struct Snapshots {
    dir: PathBuf,
    keep: usize,
}

impl Snapshots {
    /// The snapshots of `env` in the project's `.braid` directory `braid_dir`, keeping the
    /// newest `keep` (0 takes none).
    pub fn new(braid_dir: &Path, env: &str, keep: usize) -> Snapshots {
        Snapshots {
            dir: braid_dir.join("snapshots").join(env),
            keep,
        }
    }

    /// The directory the snapshots are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every snapshot, oldest first. A missing directory has none.
    pub fn list(&self) -> io::Result<Vec<SnapshotEntry>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err),
        };
        let mut found = Vec::new();
        for entry in entries {
            let path = entry?.path();
            let Some(id) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
                .map(str::to_string)
            else {
                continue;
            };
            if let Some(parsed) = parse_id(&id, &path) {
                found.push(parsed);
            }
        }
        found.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(found)
    }

    /// The snapshot `wanted` names: `latest`, its id, or a serial (the newest snapshot of
    /// that serial). `None` when there is no such snapshot.
    pub fn find(&self, wanted: &str) -> io::Result<Option<SnapshotEntry>> {
        let all = self.list()?;
        Ok(match wanted {
            "latest" => all.into_iter().next_back(),
            _ => match wanted.parse::<u64>() {
                Ok(serial) => all.into_iter().rev().find(|s| s.serial == serial),
                Err(_) => all.into_iter().find(|s| s.id == wanted),
            },
        })
    }

    /// Reads a snapshot's state.
    pub fn load(&self, entry: &SnapshotEntry) -> io::Result<StateDump> {
        let text = std::fs::read_to_string(&entry.path)?;
        serde_json::from_str(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Replaces the state held by the snapshot `entry` (when its values are encrypted
    /// again, with other keys), atomically.
    pub fn rewrite(&self, entry: &SnapshotEntry, dump: &StateDump) -> io::Result<()> {
        let json = serde_json::to_vec(dump).map_err(io::Error::other)?;
        crate::private_files::write(&entry.path, &json)
    }

    /// Saves `dump` as the newest snapshot, unless the newest one already holds this serial
    /// of this lineage or nothing is kept, then removes all but the newest `keep`. Returns
    /// the new snapshot, if one was written.
    pub fn save(&self, dump: &StateDump) -> io::Result<Option<SnapshotEntry>> {
        if self.keep == 0 {
            return Ok(None);
        }
        if let Some(newest) = self.list()?.pop()
            && newest.serial == dump.serial
            && self
                .load(&newest)
                .is_ok_and(|saved| saved.lineage == dump.lineage)
        {
            return Ok(None);
        }
        crate::private_files::create_dirs(&self.dir)?;
        let taken_at = Utc::now();
        let id = format!(
            "{}-serial-{}",
            taken_at.format("%Y%m%dT%H%M%S%.3fZ"),
            dump.serial
        );
        let path = self.dir.join(format!("{id}.json"));
        let json = serde_json::to_vec(dump).map_err(io::Error::other)?;
        crate::private_files::write(&path, &json)?;
        let all = self.list()?;
        let excess = all.len().saturating_sub(self.keep);
        for old in &all[..excess] {
            std::fs::remove_file(&old.path)?;
        }
        Ok(Some(SnapshotEntry {
            id,
            serial: dump.serial,
            taken_at,
            path,
        }))
    }
}

/// `20261204T205012.123Z-serial-42` → its time and serial; `None` for any other name.
fn parse_id(id: &str, path: &Path) -> Option<SnapshotEntry> {
    let (time, serial) = id.split_once("-serial-")?;
    let taken_at = chrono::NaiveDateTime::parse_from_str(time, "%Y%m%dT%H%M%S%.3fZ")
        .ok()?
        .and_utc();
    Some(SnapshotEntry {
        id: id.to_string(),
        serial: serial.parse().ok()?,
        taken_at,
        path: path.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(lineage: &str, serial: u64) -> StateDump {
        StateDump {
            format_version: StateDump::FORMAT_VERSION,
            lineage: lineage.to_string(),
            serial,
            resources: vec![],
            applies: vec![],
            outputs: vec![],
        }
    }

    #[test]
    fn keeps_the_newest_and_skips_an_unchanged_state() {
        let dir = tempfile::tempdir().expect("tempdir");
        let snapshots = Snapshots::new(dir.path(), "prod", 3);
        for serial in 1..=5 {
            assert!(snapshots.save(&dump("l", serial)).expect("save").is_some());
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        assert!(
            snapshots.save(&dump("l", 5)).expect("save").is_none(),
            "the same serial again is not a new snapshot"
        );
        let serials: Vec<u64> = snapshots
            .list()
            .expect("list")
            .iter()
            .map(|s| s.serial)
            .collect();
        assert_eq!(serials, [3, 4, 5]);
        assert_eq!(
            snapshots.find("latest").expect("find").map(|s| s.serial),
            Some(5)
        );
        assert_eq!(
            snapshots.find("4").expect("find").map(|s| s.serial),
            Some(4)
        );
        assert_eq!(snapshots.find("1").expect("find"), None);
        let latest = snapshots.find("latest").expect("find").expect("some");
        assert_eq!(
            snapshots.find(&latest.id).expect("find").map(|s| s.id),
            Some(latest.id.clone())
        );
        assert_eq!(snapshots.load(&latest).expect("load"), dump("l", 5));
    }

    #[cfg(unix)]
    #[test]
    fn snapshots_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let snapshots = Snapshots::new(dir.path(), "prod", 3);
        let saved = snapshots.save(&dump("l", 1)).expect("save").expect("some");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(snapshots.dir()), 0o700);
        assert_eq!(mode(&saved.path), 0o600);
    }
}
