//! The file system side of `local_file`: atomic writes with explicit permissions, reads that
//! tell "missing" apart from "unreadable", and idempotent removal.
//!
//! Files written by braid are small configuration artifacts, so these functions use blocking
//! `std::fs` calls; each finishes in well under a scheduler tick.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A file system step that failed, with the path it failed on.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FileError {
    #[error("cannot inspect {path}")]
    InspectDirectory {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot create directory {path}")]
    CreateDirectory {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot set permissions of {path}")]
    SetPermissions {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {path}, which does not name a file")]
    NotAFile { path: PathBuf },
    #[error("cannot write temporary file {path}")]
    WriteTemporary {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot move {from} into place at {to}")]
    Rename {
        from: PathBuf,
        to: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A FIFO, device, directory or over-large file where the managed file should be.
    #[error("cannot read {path}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: braid_functions::source_read::SourceReadError,
    },
    #[error("cannot remove {path}")]
    Remove {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// What a file holds right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ObservedFile {
    pub(crate) bytes: Vec<u8>,
    /// Permission bits (`0o7777` at most); `None` where the platform has no unix modes.
    pub(crate) mode: Option<u32>,
}

/// Distinguishes temporary files of concurrent writes from this process; the process id
/// distinguishes them from other processes.
static TEMPORARY_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` so that readers see either the old file or the complete new one:
/// the bytes go to a temporary file in the same directory (same file system, so the rename is
/// atomic), created with its final mode, which is renamed over `path`. Temporary files of
/// `path` that a killed run left are removed first.
///
/// Missing parent directories are created with `directory_mode`.
pub(crate) fn write_atomically(
    path: &Path,
    bytes: &[u8],
    file_mode: u32,
    directory_mode: u32,
) -> Result<(), FileError> {
    let Some(name) = path.file_name() else {
        return Err(FileError::NotAFile {
            path: path.to_path_buf(),
        });
    };
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    create_directories(directory, directory_mode)?;
    remove_dead_temporaries(directory, &name.to_string_lossy());

    let temporary = directory.join(format!(
        "{}{}-{}.tmp",
        temporary_prefix(&name.to_string_lossy()),
        std::process::id(),
        TEMPORARY_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = write_new_file(&temporary, bytes, file_mode).and_then(|()| {
        fs::rename(&temporary, path).map_err(|source| FileError::Rename {
            from: temporary.clone(),
            to: path.to_path_buf(),
            source,
        })
    });
    if result.is_err() {
        // Best effort: a leftover temporary file is harmless, and the write error is what
        // the user needs to see.
        let _ = fs::remove_file(&temporary);
    }
    result
}

/// The start of the names of `name`'s temporary files, before the writer's process id.
fn temporary_prefix(name: &str) -> String {
    format!(".{name}.braid-")
}

/// Removes the temporary files of `name` in `directory` that a killed run left behind (a
/// crash between the write and the rename): those whose writer process is gone. Temporary
/// files of a live process, this one included, are writes in flight and stay. Best effort:
/// a leftover that cannot be removed is only clutter, never read.
fn remove_dead_temporaries(directory: &Path, name: &str) {
    let prefix = temporary_prefix(name);
    let Ok(entries) = fs::read_dir(directory) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|n| n.strip_suffix(".tmp"))
        else {
            continue;
        };
        let Some(pid) = rest
            .split_once('-')
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && process_is_gone(pid) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Whether no process `pid` runs on this machine. Without `/proc` (macOS, BSD) this cannot
/// be told cheaply, so the answer is "it may run" and its files stay.
fn process_is_gone(pid: u32) -> bool {
    Path::new("/proc/self").exists() && !Path::new("/proc").join(pid.to_string()).exists()
}

/// Reads the file at `path`; `Ok(None)` when nothing is there. Only a regular file of at
/// most `BRAID_MAX_FILE_SIZE` bytes is read: a FIFO, device or huge file put in the managed
/// file's place is an error, never a read that blocks or runs on without end.
pub(crate) fn read(path: &Path) -> Result<Option<ObservedFile>, FileError> {
    use braid_functions::source_read::{max_file_size, read_regular};
    let unreadable = |source| FileError::Unreadable {
        path: path.to_path_buf(),
        source,
    };
    let limit = max_file_size().map_err(unreadable)?;
    let bytes = match read_regular(path, &path.display().to_string(), limit) {
        Ok(bytes) => bytes,
        Err(error) if error.is_not_found() => return Ok(None),
        Err(error) => return Err(unreadable(error)),
    };
    let metadata = fs::metadata(path).map_err(|source| FileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Some(ObservedFile {
        bytes,
        mode: mode_of(&metadata),
    }))
}

/// Removes the file at `path`; a file that is already gone counts as removed.
pub(crate) fn remove(path: &Path) -> Result<(), FileError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(FileError::Remove {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Creates `directory` and any missing ancestors, giving each one it creates `mode`
/// explicitly so the process umask does not weaken or strengthen it.
fn create_directories(directory: &Path, mode: u32) -> Result<(), FileError> {
    let mut missing = Vec::new();
    let mut current = directory;
    loop {
        match fs::metadata(current) {
            Ok(_) => break,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                missing.push(current);
                match current.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => current = parent,
                    _ => break,
                }
            }
            Err(source) => {
                return Err(FileError::InspectDirectory {
                    path: current.to_path_buf(),
                    source,
                });
            }
        }
    }
    for directory in missing.iter().rev() {
        match fs::create_dir(directory) {
            Ok(()) => set_mode(directory, mode)?,
            // Another apply writing into the same new directory got there first.
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
            Err(source) => {
                return Err(FileError::CreateDirectory {
                    path: directory.to_path_buf(),
                    source,
                });
            }
        }
    }
    Ok(())
}

fn write_new_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), FileError> {
    let write_error = |source| FileError::WriteTemporary {
        path: path.to_path_buf(),
        source,
    };
    let mut file = create_with_mode(path, mode).map_err(write_error)?;
    file.write_all(bytes).map_err(write_error)?;
    // Durable before the rename, so a crash never leaves an empty file under the real name.
    file.sync_all().map_err(write_error)?;
    set_mode(path, mode)
}

/// Creates the new file `path` with `mode` from the start (narrowed by the umask; the
/// exact mode is set after the write), so the content never sits in a file wider than the
/// one it is written for.
#[cfg(unix)]
fn create_with_mode(path: &Path, mode: u32) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
}

#[cfg(not(unix))]
fn create_with_mode(path: &Path, _mode: u32) -> io::Result<fs::File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), FileError> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(|source| {
        FileError::SetPermissions {
            path: path.to_path_buf(),
            source,
        }
    })
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<(), FileError> {
    // Other platforms have no unix permission bits to set.
    Ok(())
}

#[cfg(unix)]
fn mode_of(metadata: &fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    Some(metadata.permissions().mode() & 0o7777)
}

#[cfg(not(unix))]
fn mode_of(_metadata: &fs::Metadata) -> Option<u32> {
    None
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_temporary_file_is_never_wider_than_the_final_mode() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(".secret.braid-1-0.tmp");
        let file = create_with_mode(&path, 0o600).expect("create");
        let mode = file.metadata().expect("metadata").permissions().mode() & 0o7777;
        assert_eq!(mode & !0o600, 0, "temporary file created {mode:o}");
    }
}
