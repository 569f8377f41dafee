//! What can go wrong while reading a source, and how each failure reads to the user.

use std::path::PathBuf;

use braid_functions::source_read::SourceReadError;

use crate::diag::{Diagnostic, Location};

/// A failure while reading one source. Converted to a [`Diagnostic`] by [`SourceError::into_diagnostic`]
/// at the boundary of this module, with the `source` block of braid.hcl as location.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The `path` of a plain source does not name a directory that can be opened.
    #[error("source directory {path} cannot be opened")]
    DirectoryNotFound {
        /// The directory asked for: the project directory joined with the source's `path`.
        path: PathBuf,
        /// Why it could not be opened (canonicalising it failed: missing, or no permission).
        #[source]
        cause: std::io::Error,
    },
    /// A file or directory inside a plain source could not be read.
    #[error("cannot read {path}")]
    ReadFile {
        /// The file, or the directory whose entries were being listed.
        path: PathBuf,
        /// The IO error reading it.
        #[source]
        cause: std::io::Error,
    },
    /// A selected file was refused: it leads outside the source, is not a regular file, or
    /// is over the size limit (see docs/security.md).
    #[error("file {display} refused")]
    FileRefused {
        /// The file's name as diagnostics show it (see [`SourceError::NotUtf8`]).
        display: String,
        /// Why it was not read.
        #[source]
        cause: SourceReadError,
    },
    /// A selected file is not UTF-8 text; braid reads configuration and manifests as UTF-8.
    #[error("file {display} is not UTF-8 (byte {offset})")]
    NotUtf8 {
        /// The file's name as diagnostics show it: relative to the project directory for a
        /// plain source (`app/main.hcl`), `SOURCE:PATH` for a git source (`infra:main.hcl`).
        display: String,
        /// The file's text with invalid bytes replaced, so the diagnostic can point at the
        /// line and column of the first bad byte.
        lossy: String,
        /// The byte offset of the first byte that is not valid UTF-8.
        offset: usize,
    },
    /// The `repo` of a git source is a local path that does not exist.
    #[error("repository {repo} does not exist")]
    RepoNotFound {
        /// The `repo` value as written in braid.hcl.
        repo: String,
    },
    /// The `repo` of a git source exists but gix cannot open it as a repository.
    #[error("{repo} is not a git repository")]
    NotARepo {
        /// The repository as users see it: an absolute path, or the URL without credentials.
        repo: String,
        /// Why gix refused to open it.
        #[source]
        cause: gix::Error,
    },
    /// The ref asked for (in braid.hcl or with `--ref`) is no branch, tag or commit of the
    /// repository.
    #[error("ref {reference} not found in {repo}")]
    RefNotFound {
        /// The repository as users see it: an absolute path, or the URL without credentials.
        repo: String,
        /// The ref as asked for, such as `main`, `v1.2.0` or a (short) commit SHA.
        reference: String,
        /// The closest branch and tag names, best first.
        suggestions: Vec<String>,
    },
    /// A short commit SHA matches more than one commit of the repository.
    #[error("short commit {prefix} is ambiguous in {repo}")]
    AmbiguousCommit {
        /// The repository as users see it: an absolute path, or the URL without credentials.
        repo: String,
        /// The hex prefix asked for, lowercased.
        prefix: String,
        /// The full SHAs of every commit the prefix matches.
        candidates: Vec<String>,
    },
    /// The ref resolves (after peeling annotated tags) to an object that is not a commit,
    /// such as a tag of a tree or a blob.
    #[error("ref {reference} points at a {kind}, not a commit")]
    NotACommit {
        /// The ref as asked for.
        reference: String,
        /// The kind of object it points at, as git names it (`tree`, `blob`).
        kind: String,
    },
    /// A saved plan pins the source to a commit that the repository no longer has
    /// (rewritten history, or a pruned repository); the plan cannot be applied.
    #[error("pinned commit {commit} is not in {repo}")]
    PinnedCommitMissing {
        /// The repository as users see it: an absolute path, or the URL without credentials.
        repo: String,
        /// The full SHA recorded in the plan.
        commit: String,
    },
    /// The source's `path` does not exist in the tree of the resolved commit.
    #[error("path {path} not in the tree of {commit}")]
    PathNotInTree {
        /// The `path` of the source, relative to the repository root.
        path: String,
        /// The full SHA of the commit that was read.
        commit: String,
    },
    /// The source's `path` names a file at the resolved commit; it must name a directory.
    #[error("path {path} at {commit} is a file, not a directory")]
    PathNotADirectory {
        /// The `path` of the source, relative to the repository root.
        path: String,
        /// The full SHA of the commit that was read.
        commit: String,
    },
    /// An object the source needs is not in the object database, usually because the
    /// repository is a shallow or partial clone.
    #[error("object {id} is missing from {repo}")]
    MissingObject {
        /// The repository as users see it: an absolute path, or the URL without credentials.
        repo: String,
        /// The object's id (full SHA), or the commit prefix asked for when a shallow
        /// repository could not resolve it.
        id: String,
        /// Whether the repository is a shallow clone, which changes the advice given.
        shallow: bool,
    },
    /// The source's directory contains a submodule; braid reads one repository's objects
    /// and does not follow submodules.
    #[error("submodule at {path}")]
    Submodule {
        /// The submodule's path relative to the repository root (`vendor/charts`).
        path: String,
    },
    /// Fetching a remote repository into the cache mirror failed.
    #[error("cannot fetch {url}")]
    Fetch {
        /// The URL without credentials.
        url: String,
        /// Why the fetch failed (network, authentication, or the fetch thread panicked).
        #[source]
        cause: gix::Error,
    },
    /// A repository URL that would make git run a program or read an option: a remote
    /// helper (`ext::`, `fd::`), an ssh host or user starting with `-`, or a scheme braid
    /// does not fetch. Refused before anything is fetched.
    #[error("unsafe repository URL {url}")]
    UnsafeUrl {
        /// The URL without credentials.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// With `--offline`, a remote repository has never been fetched into `.braid/cache`.
    #[error("{url} is not in the cache")]
    NotCached {
        /// The URL without credentials.
        url: String,
    },
    /// Writing under `.braid/cache` (a repository mirror or an extracted tree) failed.
    #[error("cannot write the source cache at {path}")]
    Cache {
        /// The directory or file that could not be created or written.
        path: PathBuf,
        /// The IO error.
        #[source]
        cause: std::io::Error,
    },
    /// Any other failure of gix while reading refs, commits or trees.
    #[error("reading {repo} failed")]
    Git {
        /// The repository as users see it: an absolute path, or the URL without credentials.
        repo: String,
        /// The error gix reported.
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
            SourceError::FileRefused { cause, .. } if cause.is_escape() => (
                "Configuration file outside its source",
                format!(
                    "{cause}. braid reads a source's files only from inside it, so that a change under review cannot make it read other files of the machine. Put the file inside the source instead of linking to it."
                ),
            ),
            SourceError::FileRefused { cause, .. } => (
                "Cannot read configuration file",
                format!(
                    "{cause}. braid reads configuration and manifests only from regular files of bounded size; remove the file or replace it with a regular file."
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
            SourceError::UnsafeUrl { url, why } => (
                "Unsafe repository URL",
                format!(
                    "The repo of source \"{source}\" is \"{url}\": {why}. braid fetches https://, http://, ssh://, git:// and file:// URLs and scp-like user@host:path, and never lets a URL run a program. Use a plain URL of the repository."
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
