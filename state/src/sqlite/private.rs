//! Owner-only permissions for the database file and the directories braid makes for it.

use std::io;
use std::path::Path;

/// Creates `dir` and any missing ancestors, each one created `0700` whatever the umask.
/// Directories that already exist keep their mode: they may be the user's own.
pub(super) fn create_dirs(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates `path` with mode `0600`, failing if it exists.
pub(super) fn create_private_file(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}

/// Narrows an existing database, `-wal` and `-shm` file to `0600` (files an older braid
/// created readable by others). SQLite creates the `-wal` and `-shm` files with the
/// database's mode. The database is never opened for writing here, so a read-only one still
/// opens (SQLite then falls back to reading).
#[cfg(unix)]
pub(super) fn narrow_database_files(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut companions = [path.to_path_buf(), path.to_path_buf(), path.to_path_buf()];
    companions[1].as_mut_os_string().push("-wal");
    companions[2].as_mut_os_string().push("-shm");
    for file in &companions {
        match std::fs::metadata(file) {
            Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
                // Best effort: a file owned by someone else cannot be narrowed by us, and
                // that is no reason to refuse to read it.
                let _ = std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600));
            }
            Ok(_) => {}
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// Other platforms have no unix modes.
#[cfg(not(unix))]
pub(super) fn narrow_database_files(_path: &Path) -> io::Result<()> {
    Ok(())
}

/// True when this process may not write the database file or create files next to it (for
/// its `-wal` and `-shm` files): a read-only mount, another user's directory. Asks the
/// kernel with the real user's permissions (`access`), without writing anything.
#[cfg(unix)]
pub(super) fn is_read_only(path: &Path) -> bool {
    use rustix::fs::{Access, access};
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    access(path, Access::WRITE_OK).is_err() || access(dir, Access::WRITE_OK).is_err()
}

/// Other platforms: SQLite finds out by itself.
#[cfg(not(unix))]
pub(super) fn is_read_only(_path: &Path) -> bool {
    false
}
