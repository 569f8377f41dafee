//! Git sources: a repository read at a ref straight from its object database with gix —
//! no checkout, no work tree touched. The ref is resolved the way `git rev-parse` resolves a
//! name (refs/NAME, refs/tags/NAME, refs/heads/NAME, refs/remotes/NAME, then a commit SHA or
//! an unambiguous prefix of one), annotated tags are peeled to their commit, and the files
//! of the source's `path` are read from the commit's tree.

use std::collections::HashSet;

use braid_functions::source_read::{self, SourceReadError};
use braid_state::SourceRevision;
use gix::ObjectId;
use gix::bstr::ByteSlice;

use super::remote::{self, RepoLocation};
use super::{
    LoadedSource, Pin, RawFile, SourceError, SourceOptions, decode_files, is_configuration,
    join_rel, split_files, tree_cache,
};
use crate::config::{Project, SourceConfig};

/// The ref read when a git source names none.
const DEFAULT_REF: &str = "HEAD";

/// One file of a tree, with its path relative to the tree read.
#[derive(Debug, Clone)]
pub(super) struct TreeEntry {
    pub rel: String,
    pub id: ObjectId,
    pub executable: bool,
    /// The blob's size from its header, when the object database has it.
    pub size: Option<u64>,
}

/// A commit to read, and the tag name when the ref was a tag.
struct Resolved {
    commit: ObjectId,
    reference: String,
    tag: Option<String>,
    full_ref: Option<String>,
}

pub(super) fn load(
    project: &Project,
    source: &SourceConfig,
    options: &SourceOptions,
) -> Result<LoadedSource, SourceError> {
    let spec = source.repo.as_deref().unwrap_or(".");
    let location = remote::locate(&project.dir, spec, options.offline)?;
    let repo = open(&location)?;
    let resolved = match options.pins.get(&source.name) {
        Some(pin) => pinned(&repo, &location, pin)?,
        None => {
            let reference = options
                .refs
                .get(&source.name)
                .or(source.reference.as_ref())
                .map_or(DEFAULT_REF, String::as_str);
            resolve(&repo, &location, reference)?
        }
    };
    let path = normalize_path(&source.path);
    let tree = subtree(&repo, &location, resolved.commit, &path)?;
    let entries = tree_entries(&repo, &location, tree, &path)?;
    let limit = source_read::max_file_size().map_err(|cause| SourceError::FileRefused {
        display: source.name.clone(),
        cause,
    })?;
    let root = tree_cache::extract(&project.dir, &repo, &location, tree, &entries, limit)?;
    let raw = entries
        .iter()
        .filter(|e| is_configuration(&e.rel))
        .map(|e| {
            let display = format!("{}:{}", source.name, join_rel(&path, &e.rel));
            if e.size.is_some_and(|size| size > limit) {
                return Err(SourceError::FileRefused {
                    cause: SourceReadError::TooLarge {
                        path: display.clone(),
                        limit,
                    },
                    display,
                });
            }
            Ok(RawFile {
                display,
                rel: e.rel.clone(),
                bytes: read_blob(&repo, &location, e.id)?,
            })
        })
        .collect::<Result<Vec<_>, SourceError>>()?;
    let (files, digest) = decode_files(raw, &root)?;
    let split = split_files(files);
    Ok(LoadedSource {
        name: source.name.clone(),
        decrypted: Default::default(),
        secrets: Vec::new(),
        revision: SourceRevision {
            name: source.name.clone(),
            repo: location.display.clone(),
            reference: Some(resolved.reference),
            commit: Some(resolved.commit.to_string()),
            tag: resolved.tag,
            full_ref: resolved.full_ref,
            tree: Some(tree.to_string()),
            digest,
            dirty: false,
            helm: None,
        },
        display_prefix: format!("{}:{}", source.name, join_rel(&path, "")),
        display_root: root.clone(),
        root,
        hcl_files: split.hcl,
        tfvars_files: split.tfvars,
        yaml_files: split.yaml,
    })
}

/// A git module's repository read at a ref: its whole tree extracted into the cache.
#[derive(Debug, Clone)]
pub struct GitModuleTree {
    /// The extracted tree of the commit (read-only, shared by every use of that tree).
    pub root: std::path::PathBuf,
    /// The commit read.
    pub commit: String,
    /// The repository as users see it (the URL without any password).
    pub display: String,
}

/// Fetches the repository at `url` (unless `offline`, which reads the cache) and extracts
/// the tree of `reference` (`HEAD` when `None`).
pub fn fetch_git_module(
    project_dir: &std::path::Path,
    url: &str,
    reference: Option<&str>,
    offline: bool,
) -> Result<GitModuleTree, SourceError> {
    let location = remote::locate(project_dir, url, offline)?;
    let repo = open(&location)?;
    let resolved = resolve(&repo, &location, reference.unwrap_or(DEFAULT_REF))?;
    let tree = subtree(&repo, &location, resolved.commit, "")?;
    let entries = tree_entries(&repo, &location, tree, "")?;
    let limit = source_read::max_file_size().map_err(|cause| SourceError::FileRefused {
        display: location.display.clone(),
        cause,
    })?;
    let root = tree_cache::extract(project_dir, &repo, &location, tree, &entries, limit)?;
    Ok(GitModuleTree {
        root,
        commit: resolved.commit.to_string(),
        display: location.display,
    })
}

/// Opens a repository, bare or not (a work tree's top directory or its `.git`).
fn open(location: &RepoLocation) -> Result<gix::Repository, SourceError> {
    gix::open(&location.path).map_err(|cause| SourceError::NotARepo {
        repo: location.display.clone(),
        cause,
    })
}

/// `path` without `./`, leading or trailing slashes; empty for the repository root.
fn normalize_path(path: &str) -> String {
    path.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect::<Vec<_>>()
        .join("/")
}

fn git_error(location: &RepoLocation) -> impl Fn(gix::Error) -> SourceError + '_ {
    |cause| SourceError::Git {
        repo: location.display.clone(),
        cause,
    }
}

/// The object `id`, or [`SourceError::MissingObject`] (saying whether the repository is
/// shallow) when the object database does not have it.
fn find<'repo>(
    repo: &'repo gix::Repository,
    location: &RepoLocation,
    id: ObjectId,
) -> Result<gix::Object<'repo>, SourceError> {
    repo.try_find_object(id)
        .map_err(git_error(location))?
        .ok_or_else(|| SourceError::MissingObject {
            repo: location.display.clone(),
            id: id.to_string(),
            shallow: repo.is_shallow().unwrap_or(false),
        })
}

fn read_blob(
    repo: &gix::Repository,
    location: &RepoLocation,
    id: ObjectId,
) -> Result<Vec<u8>, SourceError> {
    Ok(find(repo, location, id)?.detach().data)
}

/// Resolves a ref asked for in braid.hcl or with `--ref`.
fn resolve(
    repo: &gix::Repository,
    location: &RepoLocation,
    reference: &str,
) -> Result<Resolved, SourceError> {
    if is_ref_name(reference)
        && let Some(mut found) = repo
            .try_find_reference(reference)
            .map_err(git_error(location))?
    {
        let full_name = found.name().as_bstr().to_str_lossy().into_owned();
        let tag = full_name.strip_prefix("refs/tags/").map(str::to_string);
        let target = found
            .follow_to_object()
            .map_err(git_error(location))?
            .detach();
        return Ok(Resolved {
            commit: peel_to_commit(repo, location, target, reference)?,
            reference: reference.to_string(),
            tag,
            full_ref: Some(full_name),
        });
    }
    if let Some(commit) = resolve_sha(repo, location, reference)? {
        return Ok(Resolved {
            commit,
            reference: reference.to_string(),
            tag: None,
            full_ref: None,
        });
    }
    if is_hex_prefix(reference) && repo.is_shallow().unwrap_or(false) {
        // A shallow clone lacks the commits behind its boundary: say so rather than
        // calling a real commit unknown.
        return Err(SourceError::MissingObject {
            repo: location.display.clone(),
            id: reference.to_string(),
            shallow: true,
        });
    }
    Err(SourceError::RefNotFound {
        repo: location.display.clone(),
        reference: reference.to_string(),
        suggestions: suggest(repo, reference),
    })
}

/// The commit a saved plan pinned: it must still be in the repository.
fn pinned(
    repo: &gix::Repository,
    location: &RepoLocation,
    pin: &Pin,
) -> Result<Resolved, SourceError> {
    let missing = || SourceError::PinnedCommitMissing {
        repo: location.display.clone(),
        commit: pin.commit.clone(),
    };
    let id = ObjectId::from_hex(pin.commit.as_bytes()).map_err(|_| missing())?;
    match repo.try_find_object(id) {
        Ok(Some(object)) if object.kind == gix::object::Kind::Commit => Ok(Resolved {
            commit: id,
            reference: pin
                .reference
                .clone()
                .unwrap_or_else(|| DEFAULT_REF.to_string()),
            tag: pin.tag.clone(),
            full_ref: pin.full_ref.clone(),
        }),
        _ => Err(missing()),
    }
}

fn is_ref_name(name: &str) -> bool {
    <&gix::refs::PartialNameRef>::try_from(name).is_ok()
}

fn is_hex_prefix(name: &str) -> bool {
    (4..=40).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A full or abbreviated commit SHA; `None` when no commit matches.
fn resolve_sha(
    repo: &gix::Repository,
    location: &RepoLocation,
    name: &str,
) -> Result<Option<ObjectId>, SourceError> {
    if !is_hex_prefix(name) {
        return Ok(None);
    }
    let name = name.to_ascii_lowercase();
    let prefix = gix::hash::Prefix::from_hex(&name).map_err(|_| SourceError::RefNotFound {
        repo: location.display.clone(),
        reference: name.clone(),
        suggestions: Vec::new(),
    })?;
    let mut candidates = HashSet::new();
    repo.objects
        .lookup_prefix(prefix, Some(&mut candidates))
        .map_err(git_error(location))?;
    // As `git rev-parse NAME^{commit}` does, only commits count when a prefix is ambiguous.
    let mut commits: Vec<ObjectId> = candidates
        .into_iter()
        .filter(|id| {
            repo.try_find_header(*id)
                .ok()
                .flatten()
                .is_some_and(|h| h.kind() == gix::object::Kind::Commit)
        })
        .collect();
    commits.sort();
    match commits.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        many => Err(SourceError::AmbiguousCommit {
            repo: location.display.clone(),
            prefix: name.clone(),
            candidates: many.iter().map(ToString::to_string).collect(),
        }),
    }
}

/// Follows annotated tags (tags of tags too) down to the commit.
fn peel_to_commit(
    repo: &gix::Repository,
    location: &RepoLocation,
    mut id: ObjectId,
    reference: &str,
) -> Result<ObjectId, SourceError> {
    loop {
        let object = find(repo, location, id)?;
        match object.kind {
            gix::object::Kind::Commit => return Ok(id),
            gix::object::Kind::Tag => {
                id = object
                    .into_tag()
                    .target_id()
                    .map_err(git_error(location))?
                    .detach();
            }
            kind => {
                return Err(SourceError::NotACommit {
                    reference: reference.to_string(),
                    kind: kind.to_string(),
                });
            }
        }
    }
}

/// Branch and tag names close to `wanted`, best first (at most five).
fn suggest(repo: &gix::Repository, wanted: &str) -> Vec<String> {
    let Ok(platform) = repo.references() else {
        return Vec::new();
    };
    let Ok(all) = platform.all() else {
        return Vec::new();
    };
    let mut names: Vec<(f64, String)> = all
        .filter_map(Result::ok)
        .map(|r| r.name().shorten().to_str_lossy().into_owned())
        .filter(|name| name != "HEAD")
        .map(|name| (strsim::jaro_winkler(wanted, &name), name))
        .filter(|(score, _)| *score > 0.6)
        .collect();
    names.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    names.dedup_by(|a, b| a.1 == b.1);
    names.into_iter().take(5).map(|(_, name)| name).collect()
}

/// The id of the tree at `path` in `commit`, with an error naming the first part of the
/// path that is missing, a file, or a submodule.
fn subtree(
    repo: &gix::Repository,
    location: &RepoLocation,
    commit: ObjectId,
    path: &str,
) -> Result<ObjectId, SourceError> {
    let commit_object = find(repo, location, commit)?
        .try_into_commit()
        .map_err(git_error(location))?;
    let mut tree = commit_object
        .tree_id()
        .map_err(git_error(location))?
        .detach();
    let mut walked = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        walked = join_rel(&walked, part);
        let entries = tree_children(repo, location, tree)?;
        let Some((mode, id)) = entries
            .into_iter()
            .find(|(name, _, _)| name == part)
            .map(|(_, mode, id)| (mode, id))
        else {
            return Err(SourceError::PathNotInTree {
                path: path.to_string(),
                commit: commit.to_string(),
            });
        };
        if mode.is_commit() {
            return Err(SourceError::Submodule { path: walked });
        }
        if !mode.is_tree() {
            return Err(SourceError::PathNotADirectory {
                path: path.to_string(),
                commit: commit.to_string(),
            });
        }
        tree = id;
    }
    Ok(tree)
}

/// The direct children of a tree: name, mode, id.
fn tree_children(
    repo: &gix::Repository,
    location: &RepoLocation,
    tree: ObjectId,
) -> Result<Vec<(String, gix::objs::tree::EntryMode, ObjectId)>, SourceError> {
    let object = find(repo, location, tree)?
        .try_into_tree()
        .map_err(git_error(location))?;
    let decoded = object.decode().map_err(git_error(location))?;
    Ok(decoded
        .entries
        .iter()
        .map(|e| {
            (
                e.filename.to_str_lossy().into_owned(),
                e.mode,
                e.oid.to_owned(),
            )
        })
        .collect())
}

/// Every file under `tree`, recursively (symbolic links are left out). A submodule is an
/// error: its files live in another repository. `base` is the tree's path in the
/// repository, for messages.
pub(super) fn tree_entries(
    repo: &gix::Repository,
    location: &RepoLocation,
    tree: ObjectId,
    base: &str,
) -> Result<Vec<TreeEntry>, SourceError> {
    let mut out = Vec::new();
    collect_entries(repo, location, tree, "", base, &mut out)?;
    Ok(out)
}

fn collect_entries(
    repo: &gix::Repository,
    location: &RepoLocation,
    tree: ObjectId,
    rel_dir: &str,
    base: &str,
    out: &mut Vec<TreeEntry>,
) -> Result<(), SourceError> {
    for (name, mode, id) in tree_children(repo, location, tree)? {
        let rel = join_rel(rel_dir, &name);
        if mode.is_tree() {
            collect_entries(repo, location, id, &rel, base, out)?;
        } else if mode.is_commit() {
            return Err(SourceError::Submodule {
                path: join_rel(base, &rel),
            });
        } else if mode.is_blob() {
            out.push(TreeEntry {
                rel,
                id,
                executable: mode.is_executable(),
                size: repo.try_find_header(id).ok().flatten().map(|h| h.size()),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized() {
        assert_eq!(normalize_path("."), "");
        assert_eq!(normalize_path("./k8s/"), "k8s");
        assert_eq!(normalize_path("/a//b"), "a/b");
    }

    #[test]
    fn hex_prefixes_need_four_digits() {
        assert!(is_hex_prefix("abcd"));
        assert!(is_hex_prefix("0123456789abcdef0123456789abcdef01234567"));
        assert!(!is_hex_prefix("abc"));
        assert!(!is_hex_prefix("main"));
    }
}
