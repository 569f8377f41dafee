//! Where a git source's repository is: a local path opened in place, or a URL fetched into
//! a bare mirror under `.braid/cache/repos/` (re-fetched on every load unless `--offline`).
//! Fetching uses gix with git's own setup for access: credential helpers and `GIT_ASKPASS`
//! for https, the `ssh` program (agent, keys, `~/.ssh/config`) for ssh URLs, and
//! `git-upload-pack` for `file://` URLs.

use std::path::{Path as FsPath, PathBuf};
use std::sync::atomic::AtomicBool;

use sha2::{Digest, Sha256};

use super::SourceError;

/// Refspecs of the cache mirror: branches and tags under their own names, so a ref resolves
/// in the mirror exactly as it would in the remote repository.
const MIRROR_REFSPECS: [&str; 2] = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];

/// A repository to open, and how to name it to users and in plans.
#[derive(Debug, Clone)]
pub(super) struct RepoLocation {
    /// The directory to open: the repository itself, or its mirror in the cache.
    pub path: PathBuf,
    /// The absolute path of a local repository, or the URL (without any password).
    pub display: String,
}

/// Finds (and for URLs fetches) the repository `spec` of braid.hcl names.
pub(super) fn locate(
    project_dir: &FsPath,
    spec: &str,
    offline: bool,
) -> Result<RepoLocation, SourceError> {
    if !is_url(spec) {
        let path = std::fs::canonicalize(project_dir.join(spec)).map_err(|_| {
            SourceError::RepoNotFound {
                repo: spec.to_string(),
            }
        })?;
        return Ok(RepoLocation {
            display: path.display().to_string(),
            path,
        });
    }
    let display = redact(spec);
    let path = mirror_path(project_dir, spec);
    if offline {
        if !path.is_dir() {
            return Err(SourceError::NotCached { url: display });
        }
    } else {
        fetch_isolated(&path, spec, &display)?;
    }
    Ok(RepoLocation { path, display })
}

/// URLs (`https://`, `ssh://`, `file://`) and scp-like `git@host:org/repo.git`, as git
/// tells them from local paths: a colon before the first slash.
pub(super) fn is_url(spec: &str) -> bool {
    if spec.contains("://") {
        return true;
    }
    match spec.find(':') {
        // `C:\repo` is a Windows path, not a host named C.
        Some(colon) => colon > 1 && !spec[..colon].contains('/'),
        None => false,
    }
}

/// The URL as recorded in plans and state: the user part is dropped, since it may hold a
/// password or a token (`https://x-access-token:TOKEN@host/...`).
pub(super) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://{host}{}", &rest[authority_end..]),
        None => url.to_string(),
    }
}

/// `.braid/cache/repos/<sha256 of the URL>.git`: one mirror per URL.
fn mirror_path(project_dir: &FsPath, url: &str) -> PathBuf {
    let digest = hex::encode(Sha256::digest(url.as_bytes()));
    project_dir
        .join(".braid")
        .join("cache")
        .join("repos")
        .join(format!("{}.git", &digest[..24]))
}

/// Fetches on a thread of its own: the https transport runs a blocking HTTP client, which
/// must not run on (or be dropped in) the async runtime's threads.
fn fetch_isolated(path: &FsPath, url: &str, display: &str) -> Result<(), SourceError> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| fetch(path, url, display))
            .join()
            .unwrap_or_else(|_| {
                Err(SourceError::Fetch {
                    url: display.to_string(),
                    cause: gix::Error::from_error(std::io::Error::other(
                        "the fetch thread panicked",
                    )),
                })
            })
    })
}

fn fetch(path: &FsPath, url: &str, display: &str) -> Result<(), SourceError> {
    let failed = |cause: gix::Error| SourceError::Fetch {
        url: display.to_string(),
        cause,
    };
    let repo = if path.is_dir() {
        gix::open(path).map_err(failed)?
    } else {
        if let Some(parent) = path.parent() {
            crate::private_files::create_dirs(parent).map_err(|cause| SourceError::Cache {
                path: parent.to_path_buf(),
                cause,
            })?;
        }
        gix::init_bare(path).map_err(failed)?
    };
    let remote = repo
        .remote_at(url)
        .map_err(failed)?
        .with_refspecs(MIRROR_REFSPECS, gix::remote::Direction::Fetch)
        .map_err(failed)?
        .with_fetch_tags(gix::remote::fetch::Tags::None);
    let interrupt = AtomicBool::new(false);
    remote
        .connect(gix::remote::Direction::Fetch)
        .map_err(failed)?
        .prepare_fetch(gix::progress::Discard, Default::default())
        .map_err(failed)?
        .receive(gix::progress::Discard, &interrupt)
        .map_err(failed)?;
    // gix creates the mirror with the umask's modes; a private repository's objects must not
    // be readable by other users of the machine.
    crate::private_files::narrow_tree(path).map_err(|cause| SourceError::Cache {
        path: path.to_path_buf(),
        cause,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        assert!(is_url("https://example.com/deploy.git"));
        assert!(is_url("file:///srv/deploy.git"));
        assert!(is_url("git@example.com:org/deploy.git"));
        assert!(!is_url("../deploy"));
        assert!(!is_url("/srv/deploy.git"));
        assert!(!is_url("./a:b"));
    }

    #[test]
    fn passwords_and_tokens_are_not_recorded() {
        assert_eq!(
            redact("https://user:secret@example.com/a.git"),
            "https://example.com/a.git"
        );
        assert_eq!(
            redact("https://TOKEN@example.com/a.git"),
            "https://example.com/a.git"
        );
        assert_eq!(
            redact("https://example.com/a.git"),
            "https://example.com/a.git"
        );
    }
}
