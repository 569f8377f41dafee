//! Reading a file that belongs to a source: only inside the source's directory (after
//! resolving `..` and symbolic links), only regular files, and at most
//! [`max_file_size`] bytes. The file functions read through it, and so does braid's loader
//! for configuration and manifest files, so a repository under review cannot make braid read
//! `/etc/hostname`, `../../.aws/credentials`, a FIFO or `/dev/zero`.

use std::io::Read as _;
use std::path::{Component, Path, PathBuf};

/// The size limit when `BRAID_MAX_FILE_SIZE` is not set: 8 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 8 << 20;

/// The environment variable that sets the size limit, in bytes.
pub const MAX_FILE_SIZE_ENV: &str = "BRAID_MAX_FILE_SIZE";

/// Why a file of a source was not read.
#[derive(Debug, thiserror::Error)]
pub enum SourceReadError {
    /// The path asked for is absolute.
    #[error(
        "\"{path}\" is an absolute path, and configuration reads only files inside its own source"
    )]
    Absolute {
        /// The path as written.
        path: String,
    },
    /// The path, once `..` and symbolic links are resolved, is not inside the source.
    #[error(
        "\"{path}\" leads outside the source (through \"..\" or a symbolic link), and configuration reads only files inside its own source"
    )]
    Outside {
        /// The path as written.
        path: String,
    },
    /// The path names a directory, FIFO, device or socket.
    #[error("\"{path}\" is not a regular file (it is a {kind})")]
    NotRegular {
        /// The path as written.
        path: String,
        /// What it is instead: "directory", "FIFO", "device", ...
        kind: &'static str,
    },
    /// The file is larger than the limit.
    #[error(
        "\"{path}\" is larger than {limit} bytes, the most braid reads from one file (set {MAX_FILE_SIZE_ENV} to raise the limit)"
    )]
    TooLarge {
        /// The path as written.
        path: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// `BRAID_MAX_FILE_SIZE` is not a number of bytes.
    #[error("{MAX_FILE_SIZE_ENV}={value} is not a number of bytes")]
    InvalidLimit {
        /// The value of the variable.
        value: String,
    },
    /// The file could not be read.
    #[error("cannot read \"{path}\": {cause}")]
    Io {
        /// The path as written.
        path: String,
        /// The error of the operating system.
        #[source]
        cause: std::io::Error,
    },
}

impl SourceReadError {
    /// Whether the file simply does not exist (inside the source).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Io { cause, .. } if cause.kind() == std::io::ErrorKind::NotFound)
    }

    /// The same error, naming the file `shown` (as diagnostics name it) instead of the
    /// path as written.
    pub fn naming(self, shown: &str) -> Self {
        let shown = shown.to_string();
        match self {
            Self::Absolute { .. } => Self::Absolute { path: shown },
            Self::Outside { .. } => Self::Outside { path: shown },
            Self::NotRegular { kind, .. } => Self::NotRegular { path: shown, kind },
            Self::TooLarge { limit, .. } => Self::TooLarge { path: shown, limit },
            Self::Io { cause, .. } => Self::Io { path: shown, cause },
            other @ Self::InvalidLimit { .. } => other,
        }
    }

    /// Whether the read was refused because the path leaves the source.
    pub fn is_escape(&self) -> bool {
        matches!(self, Self::Absolute { .. } | Self::Outside { .. })
    }
}

/// The most bytes braid reads from one file: `BRAID_MAX_FILE_SIZE`, or
/// [`DEFAULT_MAX_FILE_SIZE`].
pub fn max_file_size() -> Result<u64, SourceReadError> {
    match std::env::var(MAX_FILE_SIZE_ENV) {
        Ok(value) if !value.trim().is_empty() => value
            .trim()
            .parse()
            .map_err(|_| SourceReadError::InvalidLimit { value }),
        _ => Ok(DEFAULT_MAX_FILE_SIZE),
    }
}

/// Where `path` (written relative to `base_dir`, itself inside `root`) really is, after `..`
/// and symbolic links: refused when absolute or outside `root`. A path that does not exist
/// is checked lexically and returned as joined, so the caller reports it missing.
pub fn resolve_inside(
    root: &Path,
    base_dir: &Path,
    path: &str,
) -> Result<PathBuf, SourceReadError> {
    if Path::new(path).is_absolute() || Path::new(path).has_root() {
        return Err(SourceReadError::Absolute {
            path: path.to_string(),
        });
    }
    let io = |cause| SourceReadError::Io {
        path: path.to_string(),
        cause,
    };
    let root = std::fs::canonicalize(root).map_err(io)?;
    let base = std::fs::canonicalize(base_dir).map_err(io)?;
    let joined = base.join(path);
    let outside = || SourceReadError::Outside {
        path: path.to_string(),
    };
    match std::fs::canonicalize(&joined) {
        Ok(real) if real.starts_with(&root) => Ok(real),
        Ok(_) => Err(outside()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if lexically_clean(&joined).starts_with(&root) {
                Ok(joined)
            } else {
                Err(outside())
            }
        }
        Err(e) => Err(io(e)),
    }
}

/// `path` with `.` dropped and `..` applied to what precedes it, without asking the disk.
fn lexically_clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The bytes of the regular file at `real` (already resolved), at most `limit` of them;
/// `shown` names it in errors. A FIFO, device or directory is refused before it is opened,
/// so reading never blocks or runs on without end.
pub fn read_regular(real: &Path, shown: &str, limit: u64) -> Result<Vec<u8>, SourceReadError> {
    let io = |cause| SourceReadError::Io {
        path: shown.to_string(),
        cause,
    };
    let not_regular = |meta: &std::fs::Metadata| SourceReadError::NotRegular {
        path: shown.to_string(),
        kind: kind_of(meta),
    };
    let meta = std::fs::metadata(real).map_err(io)?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    let file = std::fs::File::open(real).map_err(io)?;
    // Checked again on the open file: the path may have been swapped in between.
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    let too_large = || SourceReadError::TooLarge {
        path: shown.to_string(),
        limit,
    };
    if meta.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// Whether `path` (already resolved) is a regular file no larger than `limit`, without
/// opening it.
pub fn is_readable_regular(path: &Path, limit: u64) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() <= limit)
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_dir() {
        return "directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return "FIFO";
        }
        if kind.is_socket() {
            return "socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "device";
        }
    }
    "special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_inside_and_refuses_outside() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("src");
        std::fs::create_dir_all(root.join("sub")).expect("mkdir");
        std::fs::write(root.join("a.txt"), "a").expect("write");
        std::fs::write(dir.path().join("secret"), "s").expect("write");
        assert!(resolve_inside(&root, &root, "a.txt").is_ok());
        assert!(resolve_inside(&root, &root, "sub/../a.txt").is_ok());
        assert!(resolve_inside(&root, &root, "missing").is_ok());
        assert!(matches!(
            resolve_inside(&root, &root, "../secret"),
            Err(SourceReadError::Outside { .. })
        ));
        assert!(matches!(
            resolve_inside(&root, &root, "sub/../../missing"),
            Err(SourceReadError::Outside { .. })
        ));
        assert!(matches!(
            resolve_inside(&root, &root, "/etc/hostname"),
            Err(SourceReadError::Absolute { .. })
        ));
    }

    #[test]
    fn reads_bounded_regular_files_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "12345").expect("write");
        assert_eq!(read_regular(&path, "a.txt", 5).expect("read"), b"12345");
        assert!(matches!(
            read_regular(&path, "a.txt", 4),
            Err(SourceReadError::TooLarge { limit: 4, .. })
        ));
        assert!(matches!(
            read_regular(dir.path(), ".", 4),
            Err(SourceReadError::NotRegular {
                kind: "directory",
                ..
            })
        ));
    }
}
