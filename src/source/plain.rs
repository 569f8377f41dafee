//! Plain-directory sources (`path` only): files read from disk. When the directory is inside
//! a git work tree, the revision also records the HEAD commit and whether the files under the
//! directory differ from it (the same question `git status -- PATH` answers).

use std::path::{Path as FsPath, PathBuf};

use braid_functions::source_read::{self, SourceReadError};
use braid_state::SourceRevision;
use gix::bstr::{BString, ByteSlice};

use super::{
    FileSelection, HCL_FILES, LoadedSource, RawFile, SourceError, TFVARS_FILES, YAML_FILES,
    decode_files, split_files,
};
use crate::config::{Project, SourceConfig};

/// braid's own directory (state, cache): never read as configuration and never counted as a
/// change of the work tree.
const BRAID_DIR: &str = ".braid";

pub(super) fn load(project: &Project, source: &SourceConfig) -> Result<LoadedSource, SourceError> {
    let wanted = project.dir.join(&source.path);
    let root = std::fs::canonicalize(&wanted).map_err(|cause| SourceError::DirectoryNotFound {
        path: wanted.clone(),
        cause,
    })?;
    let mut raw = read_selected(&root, &project.dir, &HCL_FILES)?;
    raw.extend(read_selected(&root, &project.dir, &TFVARS_FILES)?);
    raw.extend(read_selected(&root, &project.dir, &YAML_FILES)?);
    let (files, digest) = decode_files(raw, &root)?;
    let split = split_files(files);
    let worktree = worktree_state(&root);
    let (commit, dirty, tree) = match &worktree {
        Some(state) => (Some(state.head.clone()), state.dirty, state.tree.clone()),
        None => (None, false, None),
    };
    Ok(LoadedSource {
        name: source.name.clone(),
        decrypted: Default::default(),
        secrets: Vec::new(),
        revision: SourceRevision {
            name: source.name.clone(),
            repo: root.display().to_string(),
            reference: None,
            commit,
            tag: None,
            full_ref: env_var("BRAID_REF")
                .or_else(|| worktree.as_ref().and_then(|w| w.full_ref.clone()))
                .or_else(ci_ref),
            tree,
            digest,
            dirty,
            helm: None,
        },
        display_root: project.dir.clone(),
        display_prefix: String::new(),
        root,
        hcl_files: split.hcl,
        tfvars_files: split.tfvars,
        yaml_files: split.yaml,
    })
}

/// The files of `root` that `selection` picks, named for diagnostics relative to the
/// project directory.
fn read_selected(
    root: &FsPath,
    project_dir: &FsPath,
    selection: &FileSelection,
) -> Result<Vec<RawFile>, SourceError> {
    let mut paths = Vec::new();
    list_files(root, "", selection.recursive, &mut paths)?;
    let mut out = Vec::new();
    for (rel, path) in paths.into_iter().filter(|(rel, _)| selection.matches(rel)) {
        let display = display_name(project_dir, &path);
        // A symbolic link must stay inside the source, and only a regular file of bounded
        // size is read: a FIFO would block and /dev/zero never end.
        let bytes = source_read::max_file_size()
            .and_then(|limit| {
                let real = source_read::resolve_inside(root, root, &rel)
                    .map_err(|e| e.naming(&display))?;
                source_read::read_regular(&real, &display, limit)
            })
            .map_err(|cause| match cause {
                SourceReadError::Io { cause, .. } => SourceError::ReadFile {
                    path: path.clone(),
                    cause,
                },
                cause => SourceError::FileRefused {
                    display: display.clone(),
                    cause,
                },
            })?;
        out.push(RawFile {
            display,
            rel,
            bytes,
        });
    }
    Ok(out)
}

/// The resource files at the top of a module directory `dir` (inside `tree_root`, which
/// every file, symbolic links resolved, must stay in), named with `display`.
pub(super) fn read_module_files(
    tree_root: &FsPath,
    dir: &FsPath,
    display: &dyn Fn(&FsPath) -> String,
) -> Result<Vec<RawFile>, SourceError> {
    let mut paths = Vec::new();
    list_files(dir, "", false, &mut paths)?;
    let limit = source_read::max_file_size().map_err(|cause| SourceError::FileRefused {
        display: display(dir),
        cause,
    })?;
    let mut out = Vec::new();
    for (rel, path) in paths.into_iter().filter(|(rel, _)| HCL_FILES.matches(rel)) {
        let shown = display(&path);
        let bytes = source_read::resolve_inside(tree_root, dir, &rel)
            .map_err(|e| e.naming(&shown))
            .and_then(|real| source_read::read_regular(&real, &shown, limit))
            .map_err(|cause| SourceError::FileRefused {
                display: shown.clone(),
                cause,
            })?;
        out.push(RawFile {
            display: shown,
            rel,
            bytes,
        });
    }
    Ok(out)
}

/// Every entry under `dir` that is not a directory (regular files, and symbolic links,
/// FIFOs and devices, which reading then refuses), with its path relative to the source
/// root; symbolic links to directories are not followed, `.git` and `.braid` are skipped.
fn list_files(
    dir: &FsPath,
    rel_dir: &str,
    recursive: bool,
    out: &mut Vec<(String, PathBuf)>,
) -> Result<(), SourceError> {
    let entries = std::fs::read_dir(dir).map_err(|cause| SourceError::ReadFile {
        path: dir.to_path_buf(),
        cause,
    })?;
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = super::join_rel(rel_dir, &name);
        let path = entry.path();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir {
            if recursive && name != ".git" && name != BRAID_DIR {
                list_files(&path, &rel, recursive, out)?;
            }
        } else {
            out.push((rel, path));
        }
    }
    Ok(())
}

/// The name users see for a file: its path relative to the project directory.
fn display_name(project_dir: &FsPath, path: &FsPath) -> String {
    path.strip_prefix(project_dir)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Where a plain directory stands in its git work tree.
struct WorktreeState {
    head: String,
    dirty: bool,
    /// The branch checked out; `None` on a detached HEAD (as CI checks out tags).
    full_ref: Option<String>,
    /// The directory's tree at HEAD, when the work tree is clean there.
    tree: Option<String>,
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The ref a CI job runs for, when the work tree is on a detached HEAD (as CI checks out
/// tags): GitHub Actions' `GITHUB_REF`, then GitLab's tag or branch. `BRAID_REF` overrides
/// everything.
fn ci_ref() -> Option<String> {
    env_var("GITHUB_REF")
        .or_else(|| env_var("CI_COMMIT_TAG").map(|t| format!("refs/tags/{t}")))
        .or_else(|| env_var("CI_COMMIT_BRANCH").map(|b| format!("refs/heads/{b}")))
}

/// The plain source `source` as a git source of the work tree its directory belongs to: the
/// repository's top directory, the directory's path in it (for reading an earlier commit).
pub(super) fn worktree_source(
    project: &Project,
    source: &SourceConfig,
) -> Result<SourceConfig, SourceError> {
    let wanted = project.dir.join(&source.path);
    let root = std::fs::canonicalize(&wanted).map_err(|cause| SourceError::DirectoryNotFound {
        path: wanted.clone(),
        cause,
    })?;
    let not_a_repo = || SourceError::RepoNotFound {
        repo: root.display().to_string(),
    };
    let repo = gix::discover(&root).map_err(|_| not_a_repo())?;
    let workdir = repo
        .workdir()
        .and_then(|w| std::fs::canonicalize(w).ok())
        .ok_or_else(not_a_repo)?;
    let rel = root
        .strip_prefix(&workdir)
        .map_err(|_| not_a_repo())?
        .to_string_lossy()
        .replace('\\', "/");
    Ok(SourceConfig {
        repo: Some(workdir.display().to_string()),
        path: if rel.is_empty() { ".".to_string() } else { rel },
        reference: None,
        ..source.clone()
    })
}

/// `None` when `root` is not inside a git work tree (or HEAD has no commit yet).
fn worktree_state(root: &FsPath) -> Option<WorktreeState> {
    let repo = gix::discover(root).ok()?;
    let workdir = std::fs::canonicalize(repo.workdir()?).ok()?;
    let rel = root
        .strip_prefix(&workdir)
        .ok()?
        .to_string_lossy()
        .replace('\\', "/");
    let head = repo.head_id().ok()?.detach().to_string();
    let full_ref = repo
        .head_name()
        .ok()
        .flatten()
        .map(|n| n.as_bstr().to_str_lossy().into_owned());
    // A status that cannot be computed is reported as dirty: claiming a clean tree we could
    // not check would mislead the audit log.
    let dirty = is_dirty(&repo, &rel).unwrap_or(true);
    // The directory's tree at HEAD, which is what the files are when nothing differs.
    let tree = (!dirty)
        .then(|| {
            let tree = repo.head_commit().ok()?.tree().ok()?;
            if rel.is_empty() {
                return Some(tree.id.to_string());
            }
            let entry = tree.lookup_entry_by_path(&rel).ok()??;
            Some(entry.object_id().to_string())
        })
        .flatten();
    Some(WorktreeState {
        head,
        dirty,
        full_ref,
        tree,
    })
}

/// Whether any file under `rel` (repository-relative directory, empty for the root) differs
/// from HEAD: changed, staged, deleted, or untracked and not ignored. braid's own `.braid/`
/// directories (state, cache) do not count.
fn is_dirty(repo: &gix::Repository, rel: &str) -> Result<bool, gix::Error> {
    // `:(top)` makes the pathspec independent of the process's working directory.
    let spec: BString = if rel.is_empty() {
        ":/".into()
    } else {
        format!(":(top){rel}").into()
    };
    let items = repo
        .status(gix::progress::Discard)?
        .untracked_files(gix::status::UntrackedFiles::Files)
        .into_iter([spec])?;
    for item in items {
        let item = item?;
        let location = item.location().to_str_lossy();
        let inside = match rel {
            "" => Some(location.as_ref()),
            rel => location
                .strip_prefix(rel)
                .and_then(|rest| rest.strip_prefix('/')),
        };
        if let Some(inside) = inside
            && !inside.split('/').any(|part| part == BRAID_DIR)
        {
            return Ok(true);
        }
    }
    Ok(false)
}
