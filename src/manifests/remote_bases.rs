//! Kustomize remote bases and components — `resources:` or `components:` entries naming a
//! git repository (`https://github.com/org/repo//deploy/base?ref=v1.2.0`,
//! `github.com/org/repo/deploy/base?ref=v1.2.0`, `git@host:org/repo.git/base`) — fetched
//! with braid's git code, cache (`.braid/cache/repos`) and credentials, as module
//! repositories are, and placed under `@remote/KEY/` among the source's files for the
//! renderer. Their files count in the source's digest, so a saved plan pins them.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use sha2::{Digest as _, Sha256};

use crate::diag::{Diagnostic, Diagnostics, SourceText};
use crate::source::{SourceError, fetch_git_module, redact_url};

/// The most a remote base's repository may hold in files braid reads.
const MAX_REMOTE_BYTES: u64 = 64 * 1024 * 1024;

/// A remote entry, read as Kustomize reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteSpec {
    /// The repository to clone.
    pub url: String,
    /// `?ref=` (or `?version=`): a tag, branch or commit; `None` for the default branch.
    pub reference: Option<String>,
    /// The directory inside the repository ("" for its root).
    pub subdir: String,
}

/// Reads a remote `resources`/`components` entry. Errors say what is wrong.
pub fn parse_remote(entry: &str) -> Result<RemoteSpec, String> {
    let entry = entry.strip_prefix("git::").unwrap_or(entry);
    let (address, query) = match entry.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (entry, None),
    };
    let mut reference = None;
    for pair in query.into_iter().flat_map(|q| q.split('&')) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "ref" | "version" if !value.is_empty() => reference = Some(value.to_string()),
            // Kustomize's clone timeout and submodule switch: braid's fetch has its own.
            "timeout" | "submodules" => {}
            _ => {
                return Err(format!(
                    "unknown parameter \"{pair}\"; Kustomize's remote bases take ?ref= (or ?version=), ?timeout= and ?submodules="
                ));
            }
        }
    }
    // `github.com/org/repo/dir`: the host's first two path segments are the repository.
    let (address, implicit_https) = match ["github.com/", "gitlab.com/", "bitbucket.org/"]
        .iter()
        .find(|host| address.starts_with(*host))
    {
        Some(_) => (format!("https://{address}"), true),
        None => (address.to_string(), false),
    };
    let scheme_end = address.find("://").map_or(0, |i| i + 3);
    let (url, subdir) = if let Some(i) = address[scheme_end..].find("//") {
        (
            address[..scheme_end + i].to_string(),
            address[scheme_end + i + 2..].to_string(),
        )
    } else if let Some(i) = address.find(".git/") {
        (address[..i + 4].to_string(), address[i + 5..].to_string())
    } else if address.ends_with(".git") {
        (address.clone(), String::new())
    } else if implicit_https
        || [
            "https://github.com/",
            "https://gitlab.com/",
            "https://bitbucket.org/",
        ]
        .iter()
        .any(|h| address.starts_with(h))
    {
        let rest = &address[scheme_end..];
        let parts: Vec<&str> = rest.splitn(4, '/').collect();
        if parts.len() < 3 {
            return Err("a repository on this host is HOST/ORG/REPO".to_string());
        }
        (
            format!("https://{}/{}/{}", parts[0], parts[1], parts[2]),
            parts.get(3).copied().unwrap_or("").to_string(),
        )
    } else {
        (address.clone(), String::new())
    };
    let subdir = subdir.trim_matches('/').to_string();
    if subdir.split('/').any(|part| part == "..") {
        return Err("the directory inside the repository may not contain \"..\"".to_string());
    }
    if url.starts_with("file://") || !crate::source::is_repository_url(&url) {
        return Err(format!(
            "\"{url}\" is a repository on this machine; remote bases are given by network URL (https, ssh, git). To use a local mirror, map the URL to it in git's configuration (url.<base>.insteadOf)"
        ));
    }
    crate::source::check_repository_url(&url).map_err(|e| e.to_string())?;
    Ok(RemoteSpec {
        url,
        reference,
        subdir,
    })
}

/// The text files of a fetched repository, by path.
type Tree = Arc<BTreeMap<String, Arc<SourceText>>>;

/// Fetches remote bases for the sources of one configuration load, each repository and ref
/// once.
pub struct RemoteBases {
    project_dir: PathBuf,
    offline: bool,
    /// (url, ref) → (folder key, extracted tree, files read).
    fetched: HashMap<(String, Option<String>), (String, Tree)>,
    /// (source, digest) of every tree a source used.
    pub digests: Vec<(String, String)>,
}

impl RemoteBases {
    /// Fetches into the project's cache (only reads it when `offline`).
    pub fn new(project_dir: &FsPath, offline: bool) -> RemoteBases {
        RemoteBases {
            project_dir: project_dir.to_path_buf(),
            offline,
            fetched: HashMap::new(),
            digests: Vec::new(),
        }
    }

    /// Fetches every remote entry the kustomizations among `files` name (and those the
    /// fetched ones name in turn), adds their repositories' files under `@remote/KEY/`, and
    /// returns each entry's directory.
    pub fn mount(
        &mut self,
        source: &str,
        files: &mut BTreeMap<String, Arc<SourceText>>,
    ) -> Result<BTreeMap<String, String>, Diagnostics> {
        let mut dirs = BTreeMap::new();
        let mut scanned: Vec<String> = Vec::new();
        loop {
            let pending: Vec<(String, String, usize)> = files
                .iter()
                .filter(|(path, _)| is_kustomization(path) && !scanned.contains(path))
                .flat_map(|(path, text)| {
                    remote_entries(&text.text)
                        .into_iter()
                        .map(|(entry, line)| (path.clone(), entry, line))
                })
                .collect();
            scanned.extend(
                files
                    .keys()
                    .filter(|p| is_kustomization(p))
                    .cloned()
                    .collect::<Vec<_>>(),
            );
            if pending.is_empty() {
                return Ok(dirs);
            }
            let mut diags = Diagnostics::new();
            for (file, entry, line) in pending {
                if dirs.contains_key(&entry) {
                    continue;
                }
                let at = files.get(&file).map(|t| t.location_at(line, 1));
                match self.fetch(source, &entry) {
                    Ok((key, tree, subdir)) => {
                        for (path, text) in tree.iter() {
                            files
                                .entry(format!("{}/{key}/{path}", braid_kustomize::REMOTE_ROOT))
                                .or_insert_with(|| Arc::clone(text));
                        }
                        let dir = if subdir.is_empty() {
                            format!("{}/{key}", braid_kustomize::REMOTE_ROOT)
                        } else {
                            format!("{}/{key}/{subdir}", braid_kustomize::REMOTE_ROOT)
                        };
                        dirs.insert(entry, dir);
                    }
                    Err(detail) => diags.push(
                        Diagnostic::error(
                            "Cannot fetch a remote base",
                            format!("Source \"{source}\": {detail}."),
                        )
                        .at_opt(at),
                    ),
                }
            }
            diags.into_result(())?;
        }
    }

    /// The folder key, the repository's files and the entry's directory inside it.
    fn fetch(&mut self, source: &str, entry: &str) -> Result<(String, Tree, String), String> {
        let spec = parse_remote(entry).map_err(|e| format!("the remote base \"{entry}\": {e}"))?;
        let key = (spec.url.clone(), spec.reference.clone());
        if let Some((folder, tree)) = self.fetched.get(&key) {
            return Ok((folder.clone(), Arc::clone(tree), spec.subdir));
        }
        let tree = fetch_git_module(
            &self.project_dir,
            &spec.url,
            spec.reference.as_deref(),
            self.offline,
        )
        .map_err(|e| fetch_error(&e, &spec))?;
        let shown = format!(
            "{}{}:",
            redact_url(&spec.url),
            spec.reference
                .as_ref()
                .map(|r| format!("?ref={r}"))
                .unwrap_or_default()
        );
        let files = read_tree(&tree.root, &shown)?;
        let folder =
            hex::encode(&Sha256::digest(format!("{}\0{:?}", spec.url, spec.reference))[..6]);
        self.digests.push((
            source.to_string(),
            format!("git:{}@{}", redact_url(&spec.url), tree.commit),
        ));
        let files = Arc::new(files);
        self.fetched
            .insert(key, (folder.clone(), Arc::clone(&files)));
        Ok((folder, files, spec.subdir))
    }
}

fn fetch_error(error: &SourceError, spec: &RemoteSpec) -> String {
    match error {
        SourceError::NotCached { url } => format!(
            "--offline reads remote bases from .braid/cache, but {url} was never fetched; run once without --offline"
        ),
        SourceError::RefNotFound {
            repo, reference, ..
        } => {
            format!("?ref={reference} is no branch, tag or commit of {repo}")
        }
        other => format!(
            "fetching {} failed: {}",
            redact_url(&spec.url),
            crate::diag::error_with_causes(other)
        ),
    }
}

fn is_kustomization(path: &str) -> bool {
    matches!(
        path.rsplit('/').next(),
        Some("kustomization.yaml" | "kustomization.yml" | "Kustomization")
    )
}

/// The remote entries of a kustomization's `resources`, `bases` and `components`, with
/// their lines.
fn remote_entries(text: &str) -> Vec<(String, usize)> {
    let Ok(value) = serde_yaml_ng::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for field in ["resources", "bases", "components"] {
        for item in value
            .get(field)
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            if let Some(entry) = item.as_str()
                && braid_kustomize::is_remote(entry)
            {
                let line = text
                    .lines()
                    .position(|l| l.contains(entry))
                    .map_or(1, |i| i + 1);
                out.push((entry.to_string(), line));
            }
        }
    }
    out
}

/// The text files of an extracted repository tree, named `PREFIX` + path in messages.
fn read_tree(root: &FsPath, prefix: &str) -> Result<BTreeMap<String, Arc<SourceText>>, String> {
    use braid_functions::source_read;
    let limit = source_read::max_file_size().map_err(|e| e.to_string())?;
    let mut files = BTreeMap::new();
    let mut total = 0u64;
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel_dir)) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == ".git" {
                continue;
            }
            let rel = if rel_dir.is_empty() {
                name
            } else {
                format!("{rel_dir}/{name}")
            };
            let Ok(real) = source_read::resolve_inside(root, root, &rel) else {
                continue;
            };
            if real.is_dir() {
                stack.push((real, rel));
                continue;
            }
            if !source_read::is_readable_regular(&real, limit) {
                continue;
            }
            let Ok(bytes) = source_read::read_regular(&real, &rel, limit) else {
                continue;
            };
            total += bytes.len() as u64;
            if total > MAX_REMOTE_BYTES {
                return Err(format!(
                    "the repository {prefix} holds more than {} MiB of files",
                    MAX_REMOTE_BYTES / 1024 / 1024
                ));
            }
            if let Ok(text) = String::from_utf8(bytes) {
                files.insert(rel.clone(), SourceText::new(format!("{prefix}{rel}"), text));
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(url: &str, reference: Option<&str>, subdir: &str) -> RemoteSpec {
        RemoteSpec {
            url: url.to_string(),
            reference: reference.map(str::to_string),
            subdir: subdir.to_string(),
        }
    }

    #[test]
    fn remote_entries_as_kustomize_reads_them() {
        assert_eq!(
            parse_remote("https://github.com/org/repo//deploy/base?ref=v1.2.0"),
            Ok(spec(
                "https://github.com/org/repo",
                Some("v1.2.0"),
                "deploy/base"
            ))
        );
        assert_eq!(
            parse_remote("github.com/org/repo/deploy/base?ref=main"),
            Ok(spec(
                "https://github.com/org/repo",
                Some("main"),
                "deploy/base"
            ))
        );
        assert_eq!(
            parse_remote("https://git.example.com/org/repo.git/base?version=v2&timeout=90s"),
            Ok(spec(
                "https://git.example.com/org/repo.git",
                Some("v2"),
                "base"
            ))
        );
        assert_eq!(
            parse_remote("git@github.com:org/repo.git/overlays/prod"),
            Ok(spec("git@github.com:org/repo.git", None, "overlays/prod"))
        );
        assert_eq!(
            parse_remote("ssh://git@example.com/org/repo.git//base?ref=abc123"),
            Ok(spec(
                "ssh://git@example.com/org/repo.git",
                Some("abc123"),
                "base"
            ))
        );
        assert!(parse_remote("file:///srv/repo.git//base").is_err());
        assert!(parse_remote("https://h/org/repo.git//../x").is_err());
        assert!(parse_remote("https://h/org/repo.git?sshkey=x").is_err());
    }
}
