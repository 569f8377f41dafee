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
    check_safe(spec)?;
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

/// Refuses a repository spec that would make git run a program or take an option: a
/// remote helper (`ext::sh -c …`, `fd::3`), anything starting with `-`, an ssh or scp-like
/// host or user starting with `-` (`ssh://-oProxyCommand=…`) or percent-encoded, and
/// schemes other than https, http, ssh, git and file.
pub fn check_safe(spec: &str) -> Result<(), SourceError> {
    let refuse = |why: String| {
        Err(SourceError::UnsafeUrl {
            url: redact(spec),
            why,
        })
    };
    if spec.starts_with('-') {
        return refuse("it starts with \"-\", which git would read as an option".to_string());
    }
    if spec.chars().any(char::is_control) {
        return refuse("it contains control characters".to_string());
    }
    if !is_url(spec) {
        return Ok(());
    }
    let (authority, ssh) = match spec.split_once("://") {
        Some((scheme, rest)) => {
            let ssh = match scheme.to_ascii_lowercase().as_str() {
                "https" | "http" | "git" | "file" => false,
                "ssh" | "git+ssh" | "ssh+git" => true,
                _ => return refuse(format!("braid does not fetch {scheme}:// URLs")),
            };
            (&rest[..rest.find('/').unwrap_or(rest.len())], ssh)
        }
        None => {
            let colon = spec.find(':').unwrap_or(spec.len());
            if spec[colon..].starts_with("::") {
                return refuse(format!(
                    "\"{}::\" names a git remote helper, which runs a program",
                    &spec[..colon]
                ));
            }
            (&spec[..colon], true)
        }
    };
    let (user, host) = match authority.rsplit_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, authority),
    };
    if host.starts_with('-') || user.is_some_and(|u| u.starts_with('-')) {
        return refuse(
            "its host or user starts with \"-\", which ssh would read as an option \
             (such as -oProxyCommand, which runs a program)"
                .to_string(),
        );
    }
    let host_ok = host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ".-_:[]".contains(c));
    if !host_ok {
        return refuse(format!(
            "the host \"{host}\" has characters no host name has (spaces, %-escapes, ...)"
        ));
    }
    if ssh
        && user.is_some_and(|u| {
            !u.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-+".contains(c))
        })
    {
        return refuse(
            "the ssh user name has characters no user name has (spaces, %-escapes, ...)"
                .to_string(),
        );
    }
    Ok(())
}

/// URLs (`https://`, `ssh://`, `file://`) and scp-like `git@host:org/repo.git`, as git
/// tells them from local paths: a colon before the first slash.
pub fn is_url(spec: &str) -> bool {
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
pub fn redact(url: &str) -> String {
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
    fn plain_urls_are_safe() {
        for spec in [
            "https://example.com/deploy.git",
            "https://x-access-token:t0k%2Fen@github.com/org/deploy.git",
            "http://127.0.0.1:8080/deploy.git",
            "ssh://git@example.com:2222/org/deploy.git",
            "git@example.com:org/deploy.git",
            "git://example.com/deploy.git",
            "file:///srv/deploy.git",
            "../deploy",
            "/srv/deploy.git",
            "ssh://git@[::1]:22/deploy.git",
        ] {
            assert!(check_safe(spec).is_ok(), "{spec}");
        }
    }

    #[test]
    fn urls_that_run_programs_are_refused() {
        for spec in [
            "ext::sh -c touch% /tmp/x",
            "fd::3",
            "-oProxyCommand=x:repo",
            "ssh://-oProxyCommand=x/repo",
            "ssh://git@-oProxyCommand=x/repo",
            "ssh://-oProxyCommand%3Dx@host/repo",
            "ssh://git%20-o@host/repo",
            "git@ho st:repo",
            "gopher://example.com/repo",
        ] {
            assert!(
                matches!(check_safe(spec), Err(SourceError::UnsafeUrl { .. })),
                "{spec}"
            );
        }
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
