//! Extracted trees of git sources, for what needs a real directory (`file()` and the path
//! functions resolve against `SourceFile.dir`): `.braid/cache/trees/<tree id>/` holds the
//! files of a source's tree. The directory is named by the git tree id, so it is written
//! once, never changes (files are read-only, and like all of `.braid/` readable by the owner
//! only), and is shared by every commit, ref and source
//! with the same content. It is never the user's work tree.

use std::path::{Path as FsPath, PathBuf};

use gix::ObjectId;

use super::SourceError;
use super::git::TreeEntry;
use super::remote::RepoLocation;

/// The extracted tree, writing it first when it is not in the cache yet.
pub(super) fn extract(
    project_dir: &FsPath,
    repo: &gix::Repository,
    location: &RepoLocation,
    tree: ObjectId,
    entries: &[TreeEntry],
    limit: u64,
) -> Result<PathBuf, SourceError> {
    let trees = project_dir.join(".braid").join("cache").join("trees");
    let dest = trees.join(tree.to_string());
    if dest.is_dir() {
        return Ok(dest);
    }
    let cache_error = |path: &FsPath| {
        let path = path.to_path_buf();
        move |cause| SourceError::Cache { path, cause }
    };
    crate::private_files::create_dirs(&trees).map_err(cache_error(&trees))?;
    // Written under a temporary name and renamed into place, so a reader never sees half a
    // tree and two braids extracting the same tree at once both succeed.
    let partial = trees.join(format!(".partial-{tree}-{}", std::process::id()));
    let written = write_tree(&partial, repo, location, entries, limit);
    let placed = written.and_then(|()| match std::fs::rename(&partial, &dest) {
        Ok(()) => Ok(()),
        Err(_) if dest.is_dir() => Ok(()),
        Err(cause) => Err(SourceError::Cache {
            path: dest.clone(),
            cause,
        }),
    });
    if partial.exists() {
        // Best effort: a leftover partial directory is only wasted space.
        let _ = std::fs::remove_dir_all(&partial);
    }
    placed.map(|()| dest)
}

fn write_tree(
    dir: &FsPath,
    repo: &gix::Repository,
    location: &RepoLocation,
    entries: &[TreeEntry],
    limit: u64,
) -> Result<(), SourceError> {
    let cache_error = |path: &FsPath| {
        let path = path.to_path_buf();
        move |cause| SourceError::Cache { path, cause }
    };
    crate::private_files::create_dirs(dir).map_err(cache_error(dir))?;
    // Blobs over the size limit are left out: nothing may read them (file() would refuse
    // them anyway), and extracting them would hold them in memory whole.
    for entry in entries
        .iter()
        .filter(|e| e.size.is_none_or(|size| size <= limit))
    {
        let path = dir.join(&entry.rel);
        if let Some(parent) = path.parent() {
            crate::private_files::create_dirs(parent).map_err(cache_error(parent))?;
        }
        let bytes = repo
            .try_find_object(entry.id)
            .map_err(|cause| SourceError::Git {
                repo: location.display.clone(),
                cause,
            })?
            .ok_or_else(|| SourceError::MissingObject {
                repo: location.display.clone(),
                id: entry.id.to_string(),
                shallow: repo.is_shallow().unwrap_or(false),
            })?
            .detach()
            .data;
        std::fs::write(&path, bytes).map_err(cache_error(&path))?;
        make_read_only(&path, entry.executable).map_err(cache_error(&path))?;
    }
    Ok(())
}

#[cfg(unix)]
fn make_read_only(path: &FsPath, executable: bool) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    // Owner only: the tree may come from a private repository (see crate::private_files).
    let mode = if executable { 0o500 } else { 0o400 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn make_read_only(path: &FsPath, _executable: bool) -> std::io::Result<()> {
    let mut permissions = std::fs::metadata(path)?.permissions();
    permissions.set_readonly(true);
    std::fs::set_permissions(path, permissions)
}
