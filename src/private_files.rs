//! Files and directories braid writes for itself — `.braid/`, the source cache, saved plans
//! — are readable by their owner only, whatever the umask: they can hold secrets (state
//! values, planned attributes, files of private repositories).

use std::io;
use std::path::{Path, PathBuf};

/// The mode of every directory braid creates for itself.
pub const DIRECTORY_MODE: u32 = 0o700;
/// The mode of every file braid writes for itself.
pub const FILE_MODE: u32 = 0o600;

/// The project's `.braid` directory, created `0700` if missing and narrowed to `0700` if an
/// older braid left it open to others.
pub fn braid_dir(project_dir: &Path) -> io::Result<PathBuf> {
    let dir = project_dir.join(".braid");
    create_dirs(&dir)?;
    // Best effort: a .braid owned by someone else cannot be narrowed by us, and reading
    // state from it is still allowed.
    let _ = narrow(&dir, DIRECTORY_MODE);
    Ok(dir)
}

/// Creates `dir` and any missing ancestors, each created `0700`; existing directories keep
/// their mode.
pub fn create_dirs(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIRECTORY_MODE);
    builder.create(dir)
}

/// Writes `bytes` to `path` through a temporary file next to it that is `0600` from the
/// moment it exists, renamed into place so a reader never sees half a file.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".braid-{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    let written = options.open(&tmp).and_then(|mut file| {
        // A file left by an earlier run under this name may be wider than 0600.
        narrow(&tmp, FILE_MODE)?;
        file.write_all(bytes)?;
        file.sync_all()
    });
    let placed = written.and_then(|()| std::fs::rename(&tmp, path));
    if placed.is_err() {
        // Best effort: the write error is what the caller reports.
        let _ = std::fs::remove_file(&tmp);
    }
    placed
}

/// Takes group and other permissions off every directory and file under `dir`, and `dir`
/// itself: for trees another library created with its own modes (a fetched git
/// repository). Symbolic links are not followed.
pub fn narrow_tree(dir: &Path) -> io::Result<()> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        narrow(&current, DIRECTORY_MODE)?;
        for entry in std::fs::read_dir(&current)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                narrow(&entry.path(), 0o700)?;
            }
        }
    }
    Ok(())
}

/// Clears the permission bits of `path` that `allowed` does not have.
#[cfg(unix)]
fn narrow(path: &Path, allowed: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::symlink_metadata(path)?.permissions().mode() & 0o7777;
    if mode & !allowed != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & allowed))?;
    }
    Ok(())
}

/// Other platforms have no unix modes to narrow.
#[cfg(not(unix))]
fn narrow(_path: &Path, _allowed: u32) -> io::Result<()> {
    Ok(())
}
