//! What can go wrong while reading a source, and how each failure reads to the user.

use std::path::PathBuf;

use crate::diag::{Diagnostic, Location};

/// A failure while reading one source. Converted to a [`Diagnostic`] by [`SourceError::into_diagnostic`]
/// at the boundary of this module, with the `source` block of braid.hcl as location.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("source directory {path} cannot be opened")]
    DirectoryNotFound {
        path: PathBuf,
        #[source]
        cause: std::io::Error,
    },
    #[error("cannot read {path}")]
    ReadFile {
        path: PathBuf,
        #[source]
        cause: std::io::Error,
    },
    #[error("file {display} is not UTF-8 (byte {offset})")]
    NotUtf8 {
        display: String,
        lossy: String,
        offset: usize,
    },
    #[error("repository {repo} does not exist")]
    RepoNotFound { repo: String },
    #[error("{repo} is not a git repository")]
    NotARepo {
        repo: String,
        #[source]
        cause: gix::Error,
    },
    #[error("ref {reference} not found in {repo}")]
    RefNotFound {
        repo: String,
        reference: String,
        /// The closest branch and tag names, best first.
        suggestions: Vec<String>,
    },
    #[error("short commit {prefix} is ambiguous in {repo}")]
    AmbiguousCommit {
        repo: String,
        prefix: String,
        candidates: Vec<String>,
    },
    #[error("ref {reference} points at a {kind}, not a commit")]
    NotACommit { reference: String, kind: String },
    #[error("pinned commit {commit} is not in {repo}")]
    PinnedCommitMissing { repo: String, commit: String },
    #[error("path {path} not in the tree of {commit}")]
    PathNotInTree { path: String, commit: String },
    #[error("path {path} at {commit} is a file, not a directory")]
    PathNotADirectory { path: String, commit: String },
    #[error("object {id} is missing from {repo}")]
    MissingObject {
        repo: String,
        id: String,
        shallow: bool,
    },
    #[error("submodule at {path}")]
    Submodule { path: String },
    #[error("cannot fetch {url}")]
    Fetch {
        url: String,
        #[source]
        cause: gix::Error,
    },
    #[error("{url} is not in the cache")]
    NotCached { url: String },
    #[error("cannot write the source cache at {path}")]
    Cache {
        path: PathBuf,
        #[source]
        cause: std::io::Error,
    },
    #[error("reading {repo} failed")]
    Git {
        repo: String,
        #[source]
        cause: gix::Error,
    },
}

impl SourceError {
    /// The user-facing form: a summary without names, a detail saying how to fix it.
    pub fn into_diagnostic(self, source: &str, location: Option<Location>) -> Diagnostic {
        let (summary, detail) = self.describe(source);
        let diagnostic = Diagnostic::error(summary, detail);
        match self {
            SourceError::NotUtf8 {
                display,
                lossy,
                offset,
            } => {
                let file = crate::diag::SourceText::new(display, lossy);
                diagnostic.at(file.location(offset..offset + 1))
            }
            _ => diagnostic.at_opt(location),
        }
    }

    fn describe(&self, source: &str) -> (&'static str, String) {
        match self {
            SourceError::DirectoryNotFound { path, cause } => (
                "Source directory not found",
                format!(
                    "The source \"{source}\" reads {}, which cannot be opened: {cause}. Fix \"path\" in braid.hcl (it is relative to the project directory).",
                    path.display()
                ),
            ),
            SourceError::ReadFile { path, cause } => (
                "Cannot read configuration file",
                format!(
                    "{}: {cause}. Check that it exists and is readable.",
                    path.display()
                ),
            ),
            SourceError::NotUtf8 { offset, .. } => (
                "Invalid UTF-8",
                format!(
                    "The file is not UTF-8 text: the byte at offset {offset} cannot be decoded. braid reads configuration as UTF-8; save the file in that encoding."
                ),
            ),
            SourceError::RepoNotFound { repo } => (
                "Repository not found",
                format!(
                    "The source \"{source}\" reads the git repository {repo}, which does not exist. Fix \"repo\" in braid.hcl: a path relative to the project directory, or a URL."
                ),
            ),
            SourceError::NotARepo { repo, cause } => (
                "Not a git repository",
                format!(
                    "The source \"{source}\" names {repo} as its repository, but it is not a git repository ({}). Point \"repo\" at a repository (bare or not), or use only \"path\" for a plain directory.",
                    crate::diag::error_chain(cause)
                ),
            ),
            SourceError::RefNotFound {
                repo,
                reference,
                suggestions,
            } => (
                "Git ref not found",
                format!(
                    "The source \"{source}\" asks for \"{reference}\", which is no branch, tag or commit of {repo}.{} Fix \"ref\" in braid.hcl or the --ref flag.",
                    match suggestions.as_slice() {
                        [] => String::new(),
                        names => format!(" Closest names: {}.", names.join(", ")),
                    }
                ),
            ),
            SourceError::AmbiguousCommit {
                repo,
                prefix,
                candidates,
            } => (
                "Ambiguous commit",
                format!(
                    "The short commit \"{prefix}\" of source \"{source}\" matches several commits of {repo}: {}. Give more characters of the SHA.",
                    candidates.join(", ")
                ),
            ),
            SourceError::NotACommit { reference, kind } => (
                "Ref is not a commit",
                format!(
                    "The ref \"{reference}\" of source \"{source}\" points at a {kind}; braid reads commits. Use a branch, a tag of a commit, or a commit SHA."
                ),
            ),
            SourceError::PinnedCommitMissing { repo, commit } => (
                "Pinned commit not found",
                format!(
                    "The saved plan pins source \"{source}\" to commit {commit}, which {repo} no longer contains (rewritten history, or a repository that was pruned). braid applies only what was planned: run braid plan again and review the new plan."
                ),
            ),
            SourceError::PathNotInTree { path, commit } => (
                "Source path not found in commit",
                format!(
                    "The source \"{source}\" reads the directory \"{path}\", which does not exist at commit {commit}. Fix \"path\" in braid.hcl, or pick a ref where it exists."
                ),
            ),
            SourceError::PathNotADirectory { path, commit } => (
                "Source path is not a directory",
                format!(
                    "The source \"{source}\" reads \"{path}\", which is a file at commit {commit}. \"path\" must name a directory of the repository."
                ),
            ),
            SourceError::MissingObject { repo, id, shallow } => (
                "Git object missing",
                format!(
                    "Object {id} needed by source \"{source}\" is not in {repo}.{} Fetch the full history (git fetch --unshallow, or clone without --depth/--filter) and try again.",
                    if *shallow {
                        " The repository is shallow, so older commits and their files are not there."
                    } else {
                        " The repository may be partial (cloned with --filter) or damaged."
                    }
                ),
            ),
            SourceError::Submodule { path } => (
                "Submodules are not supported",
                format!(
                    "The source \"{source}\" contains the submodule \"{path}\". braid reads files from one repository's objects and does not follow submodules. Point \"path\" at a directory without submodules, or declare the submodule's repository as a source of its own."
                ),
            ),
            SourceError::Fetch { url, cause } => (
                "Cannot fetch repository",
                format!(
                    "Fetching {url} for source \"{source}\" failed: {cause}: {}. Check the URL and your access to it: braid uses git's credential helpers and ssh setup. Pass --offline to use the cached copy.",
                    crate::diag::error_chain(cause)
                ),
            ),
            SourceError::NotCached { url } => (
                "Repository not cached",
                format!(
                    "--offline reads remote repositories from .braid/cache, but {url} (source \"{source}\") was never fetched. Run once without --offline."
                ),
            ),
            SourceError::Cache { path, cause } => (
                "Cannot write source cache",
                format!(
                    "{}: {cause}. braid keeps fetched repositories and extracted trees under .braid/cache; check that the project directory is writable.",
                    path.display()
                ),
            ),
            SourceError::Git { repo, cause } => (
                "Cannot read git repository",
                format!(
                    "Reading {repo} for source \"{source}\" failed: {cause}: {}.",
                    crate::diag::error_chain(cause)
                ),
            ),
        }
    }
}
