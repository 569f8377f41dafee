//! Chart dependencies fetched as `helm dependency build` fetches them: Chart.lock pins each
//! version; a chart repository's `index.yaml` says where the archive is (and its SHA-256),
//! an OCI registry serves it as the layer of a manifest tagged with the version. Only
//! repositories the source's `helm` block lists in `repositories` are reached (a chart under
//! review cannot make braid contact other hosts); archives are kept in
//! `.braid/cache/charts/` and read from there offline.
//!
//! Credentials come from the machine, as Helm finds them: the registry configuration of
//! `helm registry login` (or Docker's `config.json`) for OCI registries, `repositories.yaml`
//! of `helm repo add --username` for chart repositories. They are never shown.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use braid_helm::deps::LockedDependency;
use sha2::{Digest as _, Sha256};

use crate::diag::error_with_causes as error_chain;
use crate::source::redact_url as redact;

/// The most an index.yaml may hold (large public repositories' indexes are tens of MiB).
const MAX_INDEX_BYTES: u64 = 128 * 1024 * 1024;
/// The most a chart archive or an OCI manifest may hold.
const MAX_ARCHIVE_BYTES: u64 = 64 * 1024 * 1024;
/// The media type of a Helm chart's content layer in an OCI manifest.
const CHART_LAYER: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
/// What braid accepts as a manifest.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json";

/// How dependencies of one chart are fetched.
pub struct Fetcher<'a> {
    /// `.braid/cache/charts` of the project.
    pub cache_dir: PathBuf,
    /// Only the cache is read (`--offline`).
    pub offline: bool,
    /// Repository URLs the helm block allows.
    pub allowed: &'a [String],
    /// OCI registries are reached over plain HTTP (`helm --plain-http`).
    pub plain_http: bool,
}

impl Fetcher<'_> {
    /// The archive of `dep`: from the cache, else fetched (and cached). Returns the bytes.
    pub fn archive(&self, dep: &LockedDependency) -> Result<Vec<u8>, String> {
        let repo = dep.repository.trim().trim_end_matches('/');
        if !self.allowed.iter().any(|a| allows(a, repo)) {
            return Err(format!(
                "the chart depends on \"{}\" {} from {}, a repository the helm block's \"repositories\" does not list. braid reaches only the hosts braid.hcl names: add \"{}\" to repositories, or vendor the dependency in charts/",
                dep.name,
                dep.version,
                redact(repo),
                redact(repo)
            ));
        }
        let cached = self.cache_dir.join(cache_name(repo, dep));
        if let Ok(bytes) = std::fs::read(&cached)
            && braid_helm::unpack_chart(&bytes).is_ok()
        {
            return Ok(bytes);
        }
        if self.offline {
            return Err(format!(
                "\"{}\" {} from {} is not in the chart cache ({}), and --offline keeps braid from fetching it; run once without --offline",
                dep.name,
                dep.version,
                redact(repo),
                self.cache_dir.display()
            ));
        }
        // reqwest's blocking client runs its own runtime: keep it off the caller's.
        let bytes = std::thread::scope(|s| {
            s.spawn(|| self.fetch(repo, dep))
                .join()
                .unwrap_or_else(|_| Err("the download thread failed".to_string()))
        })?;
        braid_helm::unpack_chart(&bytes).map_err(|e| {
            format!(
                "\"{}\" {} from {} is not a chart archive: {e}",
                dep.name,
                dep.version,
                redact(repo)
            )
        })?;
        crate::private_files::create_dirs(&self.cache_dir)
            .map_err(|e| format!("cannot create {}: {e}", self.cache_dir.display()))?;
        crate::private_files::write(&cached, &bytes)
            .map_err(|e| format!("cannot write {}: {e}", cached.display()))?;
        Ok(bytes)
    }

    fn fetch(&self, repo: &str, dep: &LockedDependency) -> Result<Vec<u8>, String> {
        let client = reqwest::blocking::Client::builder()
            .user_agent(concat!("braid/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(30))
            .timeout(Duration::from_secs(300))
            // Credentials must not follow a redirect to another host: braid follows none.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot make an HTTP client: {e}"))?;
        match repo.strip_prefix("oci://") {
            Some(reference) => self.fetch_oci(&client, reference, dep),
            None if repo.starts_with("https://") || repo.starts_with("http://") => {
                fetch_from_index(&client, repo, dep)
            }
            None => Err(format!(
                "\"{}\" comes from \"{}\": braid fetches charts from https://, http:// and oci:// repositories",
                dep.name,
                redact(repo)
            )),
        }
    }

    fn fetch_oci(
        &self,
        client: &reqwest::blocking::Client,
        reference: &str,
        dep: &LockedDependency,
    ) -> Result<Vec<u8>, String> {
        let (host, path) = reference.split_once('/').unwrap_or((reference, ""));
        let repository = if path.is_empty() {
            dep.name.clone()
        } else {
            format!("{}/{}", path.trim_matches('/'), dep.name)
        };
        let scheme = if self.plain_http { "http" } else { "https" };
        let base = format!("{scheme}://{host}/v2/{repository}");
        let shown = format!("oci://{host}/{repository}");
        let mut session = Registry {
            client,
            host: host.to_string(),
            repository: repository.clone(),
            shown: shown.clone(),
            authorization: None,
        };
        let tag = braid_helm::deps::oci_tag(&dep.version);
        let manifest = session.get(
            &format!("{base}/manifests/{tag}"),
            Some(MANIFEST_ACCEPT),
            MAX_ARCHIVE_BYTES,
        )?;
        let manifest: serde_json::Value = serde_json::from_slice(&manifest)
            .map_err(|e| format!("{shown}:{tag}: the manifest is not JSON: {e}"))?;
        let layer = manifest
            .get("layers")
            .and_then(|l| l.as_array())
            .and_then(|layers| {
                layers
                    .iter()
                    .find(|l| l.get("mediaType").and_then(|m| m.as_str()) == Some(CHART_LAYER))
            })
            .ok_or_else(|| {
                format!(
                    "{shown}:{tag} is not a Helm chart: its manifest has no {CHART_LAYER} layer"
                )
            })?;
        let digest = layer
            .get("digest")
            .and_then(|d| d.as_str())
            .ok_or_else(|| format!("{shown}:{tag}: the chart layer has no digest"))?;
        let Some(hex_digest) = digest.strip_prefix("sha256:") else {
            return Err(format!(
                "{shown}:{tag}: the chart layer's digest \"{digest}\" is not a sha256 digest"
            ));
        };
        if hex_digest.len() != 64 || !hex_digest.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!(
                "{shown}:{tag}: the chart layer's digest \"{digest}\" is not a sha256 digest"
            ));
        }
        let bytes = session.get(&format!("{base}/blobs/{digest}"), None, MAX_ARCHIVE_BYTES)?;
        check_digest(&bytes, hex_digest, &format!("{shown}:{tag}"))?;
        Ok(bytes)
    }
}

/// Whether the allowed entry `allowed` covers the repository `repo`: the same URL, or a
/// repository under it (`oci://ghcr.io/org` covers `oci://ghcr.io/org/charts`).
fn allows(allowed: &str, repo: &str) -> bool {
    let allowed = allowed.trim().trim_end_matches('/');
    !allowed.is_empty()
        && (repo == allowed
            || repo
                .strip_prefix(allowed)
                .is_some_and(|rest| rest.starts_with('/')))
}

/// The cache file of a dependency: named by what identifies it, so two repositories with a
/// chart of the same name and version never share one.
fn cache_name(repo: &str, dep: &LockedDependency) -> String {
    let mut hasher = Sha256::new();
    hasher.update(repo.as_bytes());
    hasher.update([0]);
    hasher.update(dep.name.as_bytes());
    hasher.update([0]);
    hasher.update(dep.version.as_bytes());
    format!("{}.tgz", hex::encode(hasher.finalize()))
}

fn check_digest(bytes: &[u8], expected_hex: &str, what: &str) -> Result<(), String> {
    let actual = hex::encode(Sha256::digest(bytes));
    if !actual.eq_ignore_ascii_case(expected_hex) {
        return Err(format!(
            "{what}: the archive's SHA-256 is {actual}, not {expected_hex} as the repository lists it; it was changed or damaged on the way"
        ));
    }
    Ok(())
}

/// A chart repository: index.yaml, then the archive it lists (checked against its digest).
fn fetch_from_index(
    client: &reqwest::blocking::Client,
    repo: &str,
    dep: &LockedDependency,
) -> Result<Vec<u8>, String> {
    let credentials = repository_credentials(repo);
    let index_url = format!("{repo}/index.yaml");
    let index = get_limited(
        client,
        &index_url,
        credentials.as_ref(),
        None,
        MAX_INDEX_BYTES,
    )?;
    let index = String::from_utf8_lossy(&index);
    let entry = braid_helm::deps::find_in_index(&index, &dep.name, &dep.version)
        .map_err(|e| format!("{}: {e}", redact(&index_url)))?
        .ok_or_else(|| {
            format!(
                "the chart repository {} has no chart \"{}\" at version {} (Chart.lock pins it); it may have been removed from the index",
                redact(repo),
                dep.name,
                dep.version
            )
        })?;
    let Some(first) = entry.urls.first() else {
        return Err(format!(
            "the chart repository {} lists \"{}\" {} without a URL",
            redact(repo),
            dep.name,
            dep.version
        ));
    };
    let url = if first.contains("://") {
        first.clone()
    } else {
        format!("{repo}/{}", first.trim_start_matches('/'))
    };
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(format!(
            "the chart repository {} puts \"{}\" {} at {}, which is not an http(s) URL",
            redact(repo),
            dep.name,
            dep.version,
            redact(&url)
        ));
    }
    // Credentials go only to the repository's own host, as Helm sends them without
    // --pass-credentials.
    let same_host = host_of(&url) == host_of(repo);
    let bytes = get_limited(
        client,
        &url,
        credentials.as_ref().filter(|_| same_host),
        None,
        MAX_ARCHIVE_BYTES,
    )?;
    if let Some(digest) = &entry.digest {
        check_digest(&bytes, digest, &redact(&url))?;
    }
    Ok(bytes)
}

fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    authority.rsplit_once('@').map_or(authority, |(_, h)| h)
}

/// A user name and password.
#[derive(Clone)]
struct Credentials {
    username: String,
    password: String,
}

/// GETs `url` (at most `limit` bytes), with basic credentials when given.
fn get_limited(
    client: &reqwest::blocking::Client,
    url: &str,
    credentials: Option<&Credentials>,
    accept: Option<&str>,
    limit: u64,
) -> Result<Vec<u8>, String> {
    let mut request = client.get(url);
    if let Some(c) = credentials {
        request = request.basic_auth(&c.username, Some(&c.password));
    }
    if let Some(accept) = accept {
        request = request.header(reqwest::header::ACCEPT, accept);
    }
    let response = request
        .send()
        .map_err(|e| format!("GET {}: {}", redact(url), error_chain(&e.without_url())))?;
    read_body(response, url, limit)
}

fn read_body(
    response: reqwest::blocking::Response,
    url: &str,
    limit: u64,
) -> Result<Vec<u8>, String> {
    let status = response.status();
    if !status.is_success() {
        let hint = match status.as_u16() {
            401 | 403 => {
                ": the repository wants credentials braid does not have or that it refused (log in with `helm registry login` or `helm repo add --username`)"
            }
            404 => ": not found",
            _ => "",
        };
        return Err(format!(
            "GET {}: the server answered {status}{hint}",
            redact(url)
        ));
    }
    let mut bytes = Vec::new();
    response
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("GET {}: {e}", redact(url)))?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "GET {}: the answer is larger than {} MiB",
            redact(url),
            limit / 1024 / 1024
        ));
    }
    Ok(bytes)
}

/// One OCI registry repository, with the authorization its challenge asked for.
struct Registry<'c> {
    client: &'c reqwest::blocking::Client,
    host: String,
    repository: String,
    shown: String,
    authorization: Option<String>,
}

impl Registry<'_> {
    /// GETs `url`; on a 401 answers the registry's challenge (Basic with the machine's
    /// credentials, or Bearer with a token from the realm it names) and tries once more.
    fn get(&mut self, url: &str, accept: Option<&str>, limit: u64) -> Result<Vec<u8>, String> {
        let response = self.send(url, accept)?;
        if response.status() != reqwest::StatusCode::UNAUTHORIZED || self.authorization.is_some() {
            return read_body(response, url, limit);
        }
        let challenge = response
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let credentials = registry_credentials(&self.host);
        self.authorization = Some(self.authorize(&challenge, credentials.as_ref())?);
        let response = self.send(url, accept)?;
        read_body(response, url, limit)
    }

    fn send(&self, url: &str, accept: Option<&str>) -> Result<reqwest::blocking::Response, String> {
        let mut request = self.client.get(url);
        if let Some(accept) = accept {
            request = request.header(reqwest::header::ACCEPT, accept);
        }
        if let Some(authorization) = &self.authorization {
            request = request.header(reqwest::header::AUTHORIZATION, authorization);
        }
        request
            .send()
            .map_err(|e| format!("{}: {}", self.shown, error_chain(&e.without_url())))
    }

    fn authorize(
        &self,
        challenge: &str,
        credentials: Option<&Credentials>,
    ) -> Result<String, String> {
        let (scheme, params) = challenge.split_once(' ').unwrap_or((challenge, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            let Some(c) = credentials else {
                return Err(format!(
                    "{}: the registry {} wants a login, and braid found none for it; run `helm registry login {}` (or `docker login`) on this machine",
                    self.shown, self.host, self.host
                ));
            };
            let token = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", c.username, c.password));
            return Ok(format!("Basic {token}"));
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(format!(
                "{}: the registry asks for \"{scheme}\" authentication, which braid does not speak",
                self.shown
            ));
        }
        let params = challenge_params(params);
        let realm = params.get("realm").ok_or_else(|| {
            format!(
                "{}: the registry's Bearer challenge names no realm",
                self.shown
            )
        })?;
        if !(realm.starts_with("https://") || realm.starts_with("http://")) {
            return Err(format!(
                "{}: the registry's token realm \"{}\" is not an http(s) URL",
                self.shown,
                redact(realm)
            ));
        }
        let scope = params
            .get("scope")
            .cloned()
            .unwrap_or_else(|| format!("repository:{}:pull", self.repository));
        let mut token_url = reqwest::Url::parse(realm).map_err(|e| {
            format!(
                "{}: the registry's token realm \"{}\" is not a URL: {e}",
                self.shown,
                redact(realm)
            )
        })?;
        token_url.query_pairs_mut().append_pair("scope", &scope);
        if let Some(service) = params.get("service") {
            token_url.query_pairs_mut().append_pair("service", service);
        }
        let mut request = self.client.get(token_url);
        if let Some(c) = credentials {
            request = request.basic_auth(&c.username, Some(&c.password));
        }
        let response = request
            .send()
            .map_err(|e| format!("{}: token: {}", self.shown, error_chain(&e.without_url())))?;
        let body = read_body(response, realm, 1024 * 1024)?;
        let answer: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| format!("{}: the token answer is not JSON: {e}", self.shown))?;
        let token = answer
            .get("token")
            .or_else(|| answer.get("access_token"))
            .and_then(|t| t.as_str())
            .ok_or_else(|| format!("{}: the token answer holds no token", self.shown))?;
        Ok(format!("Bearer {token}"))
    }
}

/// `realm="…",service="…",scope="…"` as a map.
fn challenge_params(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let (value, after) = match after.strip_prefix('"') {
            Some(quoted) => match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            },
            None => match after.find(',') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            },
        };
        out.insert(key, value.to_string());
        rest = after.trim_start_matches(',').trim();
    }
    out
}

fn config_home() -> Option<PathBuf> {
    std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))
}

/// The login `helm registry login` (or `docker login`) stored for `host`.
fn registry_credentials(host: &str) -> Option<Credentials> {
    let mut files = Vec::new();
    match std::env::var_os("HELM_REGISTRY_CONFIG") {
        Some(path) => files.push(PathBuf::from(path)),
        None => {
            if let Some(config) = config_home() {
                files.push(config.join("helm/registry/config.json"));
            }
        }
    }
    match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => files.push(Path::new(&dir).join("config.json")),
        None => {
            if let Some(home) = std::env::var_os("HOME") {
                files.push(Path::new(&home).join(".docker/config.json"));
            }
        }
    }
    files.iter().find_map(|file| {
        let bytes = std::fs::read(file).ok()?;
        let config: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        let auths = config.get("auths")?.as_object()?;
        auths.iter().find_map(|(key, entry)| {
            let key_host = key
                .split_once("://")
                .map_or(key.as_str(), |(_, r)| r)
                .trim_end_matches('/');
            let key_host = key_host.split('/').next().unwrap_or(key_host);
            if key_host != host {
                return None;
            }
            if let Some(auth) = entry.get("auth").and_then(|a| a.as_str()) {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(auth)
                    .ok()?;
                let text = String::from_utf8(decoded).ok()?;
                let (username, password) = text.split_once(':')?;
                return Some(Credentials {
                    username: username.to_string(),
                    password: password.to_string(),
                });
            }
            Some(Credentials {
                username: entry.get("username")?.as_str()?.to_string(),
                password: entry.get("password")?.as_str()?.to_string(),
            })
        })
    })
}

/// The user name and password `helm repo add --username` stored for the repository `repo`.
fn repository_credentials(repo: &str) -> Option<Credentials> {
    let file = match std::env::var_os("HELM_REPOSITORY_CONFIG") {
        Some(path) => PathBuf::from(path),
        None => config_home()?.join("helm/repositories.yaml"),
    };
    let text = std::fs::read_to_string(file).ok()?;
    let documents = braid_helm::yaml::parse_documents(&text).ok()?;
    let value = braid_helm::yaml::to_value(documents.first()?)
        .ok()?
        .to_json();
    value
        .get("repositories")?
        .as_array()?
        .iter()
        .find_map(|entry| {
            let url = entry.get("url")?.as_str()?.trim_end_matches('/');
            if url != repo {
                return None;
            }
            let username = entry.get("username")?.as_str()?.to_string();
            let password = entry
                .get("password")
                .and_then(|p| p.as_str())
                .unwrap_or("")
                .to_string();
            (!username.is_empty()).then_some(Credentials { username, password })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_allowed_by_prefix() {
        assert!(allows(
            "https://charts.example.com/",
            "https://charts.example.com"
        ));
        assert!(allows("oci://ghcr.io/org", "oci://ghcr.io/org/charts"));
        assert!(!allows("oci://ghcr.io/org", "oci://ghcr.io/organisation"));
        assert!(!allows("", "https://charts.example.com"));
        assert!(!allows(
            "https://charts.example.com",
            "https://charts.example.com.evil.io"
        ));
    }

    #[test]
    fn bearer_challenge() {
        let p = challenge_params(
            r#"realm="https://ghcr.io/token",service="ghcr.io",scope="repository:org/app:pull""#,
        );
        assert_eq!(p["realm"], "https://ghcr.io/token");
        assert_eq!(p["service"], "ghcr.io");
        assert_eq!(p["scope"], "repository:org/app:pull");
    }

    #[test]
    fn hosts() {
        assert_eq!(
            host_of("https://u:p@charts.example.com/x"),
            "charts.example.com"
        );
        assert_eq!(host_of("http://127.0.0.1:8080"), "127.0.0.1:8080");
    }
}
