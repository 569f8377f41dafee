//! Provider packages from the network, as Terraform fetches them: origin registries through
//! the provider registry protocol (service discovery, the versions list, the download
//! description, the zip archive checked against its `SHA256SUMS` and that file's signature)
//! and network mirrors through the provider network mirror protocol (`index.json`,
//! `VERSION.json`, archives checked against the hashes the mirror lists).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use reqwest::Url;
use sha2::{Digest as _, Sha256};

use super::{ProviderAddress, Version};
use crate::diag::error_with_causes as error_chain;

/// The plugin protocol major versions braid speaks; registry versions that support none
/// of them are skipped, as Terraform skips them.
const PROTOCOLS: &[&str] = &["5", "6"];

/// A zip archive fetched into a file, with what vouches for it.
#[derive(Debug)]
pub struct Fetched {
    /// The archive, in a temporary file beside the cache.
    pub zip: tempfile::NamedTempFile,
    /// Its `zh:` hash.
    pub zh: String,
    /// Hashes to record beside the package's own: the `zh:` of every platform's archive in
    /// the registry's `SHA256SUMS`, or the hashes a network mirror lists.
    pub hashes: Vec<String>,
    /// Which signing keys vouched for the checksums (registry downloads).
    pub signed_by: Vec<String>,
}

/// An HTTP client for registries and mirrors, with service discovery remembered per host.
pub struct Remote {
    client: reqwest::Client,
    hosts: BTreeMap<String, BTreeMap<String, String>>,
    discovered: Mutex<BTreeMap<String, Url>>,
}

impl Remote {
    /// A client; `hosts` are the CLI configuration's `host` blocks, which answer service
    /// discovery for their hosts.
    pub fn new(hosts: BTreeMap<String, BTreeMap<String, String>>) -> Result<Remote, String> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("braid/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(30))
            // A stalled server fails the install instead of hanging it.
            .read_timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| format!("cannot make an HTTP client: {e}"))?;
        Ok(Remote {
            client,
            hosts,
            discovered: Mutex::default(),
        })
    }

    async fn get(&self, url: &Url) -> Result<reqwest::Response, String> {
        let response = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| format!("GET {}: {}", shown(url), error_chain(&e.without_url())))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("GET {}: the server answered {status}", shown(url)));
        }
        Ok(response)
    }

    async fn get_bytes(&self, url: &Url) -> Result<Vec<u8>, String> {
        let response = self.get(url).await?;
        response
            .bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| format!("GET {}: {}", shown(url), error_chain(&e.without_url())))
    }

    async fn get_json(&self, url: &Url) -> Result<serde_json::Value, String> {
        let bytes = self.get_bytes(url).await?;
        let shown_url = shown(url);
        serde_json::from_slice(&bytes)
            .map_err(|e| format!("GET {shown_url}: the answer is not JSON: {e}"))
    }

    /// Streams `url` into a temporary file in `dir`, hashing it on the way.
    async fn download(
        &self,
        url: &Url,
        dir: &Path,
    ) -> Result<(tempfile::NamedTempFile, String), String> {
        let mut response = self.get(url).await?;
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let mut file = tempfile::Builder::new()
            .prefix(".download-")
            .tempfile_in(dir)
            .map_err(|e| format!("cannot create a file in {}: {e}", dir.display()))?;
        let mut hasher = Sha256::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("GET {}: {}", shown(url), error_chain(&e.without_url())))?
        {
            hasher.update(&chunk);
            file.write_all(&chunk)
                .map_err(|e| format!("cannot write {}: {e}", file.path().display()))?;
        }
        file.flush()
            .map_err(|e| format!("cannot write {}: {e}", file.path().display()))?;
        Ok((file, hex::encode(hasher.finalize())))
    }

    /// The `providers.v1` base URL of a registry host: from a `host` block of the CLI
    /// configuration, else from `https://HOST/.well-known/terraform.json`.
    async fn providers_base(&self, host: &str) -> Result<Url, String> {
        if let Some(url) = self.discovered.lock().map_err(|e| e.to_string())?.get(host) {
            return Ok(url.clone());
        }
        let base = if let Some(url) = self.hosts.get(host).and_then(|s| s.get("providers.v1")) {
            Url::parse(url).map_err(|e| {
                format!("the CLI configuration's host \"{host}\" names providers.v1 \"{url}\", which is not a URL: {e}")
            })?
        } else {
            let discovery = Url::parse(&format!("https://{host}/.well-known/terraform.json"))
                .map_err(|e| format!("\"{host}\" is not a host name: {e}"))?;
            let doc = self
                .get_json(&discovery)
                .await
                .map_err(|e| format!("service discovery for {host} failed: {e}"))?;
            let Some(path) = doc.get("providers.v1").and_then(|v| v.as_str()) else {
                return Err(format!(
                    "{host} is not a provider registry: its {discovery} names no providers.v1 service"
                ));
            };
            discovery
                .join(path)
                .map_err(|e| format!("{discovery}: providers.v1 \"{path}\" is not a URL: {e}"))?
        };
        let base = with_trailing_slash(base);
        self.discovered
            .lock()
            .map_err(|e| e.to_string())?
            .insert(host.to_string(), base.clone());
        Ok(base)
    }

    /// The versions a registry offers of `address` that speak a protocol braid speaks.
    pub async fn registry_versions(
        &self,
        address: &ProviderAddress,
    ) -> Result<Vec<Version>, String> {
        let base = self.providers_base(&address.host).await?;
        let url = join(
            &base,
            &format!("{}/{}/versions", address.namespace, address.type_name),
        )?;
        let shown_url = shown(&url);
        let doc = self.get_json(&url).await?;
        let versions = doc
            .get("versions")
            .and_then(|v| v.as_array())
            .ok_or_else(|| format!("GET {shown_url}: the answer has no \"versions\" list"))?;
        let mut out = Vec::new();
        for entry in versions {
            let Some(version) = entry
                .get("version")
                .and_then(|v| v.as_str())
                .and_then(Version::parse)
            else {
                continue;
            };
            if let Some(protocols) = entry.get("protocols").and_then(|p| p.as_array())
                && !protocols.iter().filter_map(|p| p.as_str()).any(speaks)
            {
                continue;
            }
            out.push(version);
        }
        Ok(out)
    }

    /// Downloads `address` `version` for `platform` (`linux_amd64`) from its registry into
    /// `dir`: the archive must match the `shasum` of the download description and its line in
    /// `SHA256SUMS`, and `SHA256SUMS` must carry a valid signature by one of the registry's
    /// signing keys (checked with `gpg`).
    pub async fn registry_download(
        &self,
        address: &ProviderAddress,
        version: &Version,
        platform: &str,
        dir: &Path,
    ) -> Result<Fetched, String> {
        let base = self.providers_base(&address.host).await?;
        let (os, arch) = platform.split_once('_').unwrap_or((platform, ""));
        let url = join(
            &base,
            &format!(
                "{}/{}/{version}/download/{os}/{arch}",
                address.namespace, address.type_name
            ),
        )?;
        let shown_url = shown(&url);
        let doc = self.get_json(&url).await?;
        let field = |name: &str| {
            doc.get(name)
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .ok_or_else(|| {
                    format!("GET {shown_url}: the download description has no \"{name}\"")
                })
        };
        let filename = field("filename")?;
        if filename.contains('/') || filename.contains("..") {
            return Err(format!(
                "GET {shown_url}: \"{filename}\" is not a file name"
            ));
        }
        let shasum = field("shasum")?.to_ascii_lowercase();
        let download_url = url
            .join(&field("download_url")?)
            .map_err(|e| format!("GET {shown_url}: download_url: {e}"))?;
        let shasums_url = url
            .join(&field("shasums_url")?)
            .map_err(|e| format!("GET {shown_url}: shasums_url: {e}"))?;
        let signature_url = url
            .join(&field("shasums_signature_url")?)
            .map_err(|e| format!("GET {shown_url}: shasums_signature_url: {e}"))?;
        let keys: Vec<(String, String)> = doc
            .pointer("/signing_keys/gpg_public_keys")
            .and_then(|k| k.as_array())
            .map(|keys| {
                keys.iter()
                    .filter_map(|k| {
                        Some((
                            k.get("key_id")
                                .and_then(|i| i.as_str())
                                .unwrap_or("")
                                .to_string(),
                            k.get("ascii_armor")?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if keys.is_empty() {
            return Err(format!(
                "GET {shown_url}: the registry gives no signing key for {address} {version}, so its checksums cannot be verified"
            ));
        }

        let shasums = self.get_bytes(&shasums_url).await?;
        let signature = self.get_bytes(&signature_url).await?;
        let signed_by = verify_signature(&shasums, &signature, &keys).map_err(|e| {
            format!("the signature of {shasums_url} does not verify: {e}. The checksums cannot be trusted; braid installs nothing from them.")
        })?;
        let sums = String::from_utf8_lossy(&shasums);
        let listed = sums
            .lines()
            .filter_map(|l| l.split_once("  "))
            .find(|(_, name)| name.trim() == filename)
            .map(|(sum, _)| sum.trim().to_ascii_lowercase());
        if listed.as_deref() != Some(shasum.as_str()) {
            return Err(format!(
                "{shasums_url} does not list {filename} with the checksum the registry gave ({shasum})"
            ));
        }
        let (zip, sha) = self.download(&download_url, dir).await?;
        if sha != shasum {
            return Err(format!(
                "{} has SHA-256 {sha}, but the registry's signed checksums say {shasum}: the download was changed or damaged, and is not installed",
                shown(&download_url)
            ));
        }
        let prefix = format!("terraform-provider-{}_{version}_", address.type_name);
        let hashes = sums
            .lines()
            .filter_map(|l| l.split_once("  "))
            .filter(|(_, name)| name.trim().starts_with(&prefix) && name.trim().ends_with(".zip"))
            .map(|(sum, _)| format!("zh:{}", sum.trim().to_ascii_lowercase()))
            .filter(|h| super::installer::valid_hash(h))
            .collect();
        Ok(Fetched {
            zip,
            zh: format!("zh:{sha}"),
            hashes,
            signed_by,
        })
    }

    /// The versions a network mirror at `base` holds of `address`.
    pub async fn mirror_versions(
        &self,
        base: &str,
        address: &ProviderAddress,
    ) -> Result<Vec<Version>, String> {
        let base = mirror_base(base)?;
        let url = join(&base, &format!("{address}/index.json"))?;
        let shown_url = shown(&url);
        let doc = self.get_json(&url).await?;
        let versions = doc
            .get("versions")
            .and_then(|v| v.as_object())
            .ok_or_else(|| format!("GET {shown_url}: the answer has no \"versions\" object"))?;
        Ok(versions.keys().filter_map(|v| Version::parse(v)).collect())
    }

    /// Downloads `address` `version` for `platform` from the network mirror at `base` into
    /// `dir`; the archive must match one of the `zh:` hashes the mirror lists, if it lists any
    /// (the `h1:` ones are checked on the unpacked package).
    pub async fn mirror_download(
        &self,
        base: &str,
        address: &ProviderAddress,
        version: &Version,
        platform: &str,
        dir: &Path,
    ) -> Result<Fetched, String> {
        let base = mirror_base(base)?;
        let url = join(&base, &format!("{address}/{version}.json"))?;
        let shown_url = shown(&url);
        let doc = self.get_json(&url).await?;
        let archive = doc
            .pointer(&format!("/archives/{platform}"))
            .ok_or_else(|| {
                format!(
                    "GET {shown_url}: the mirror has no {platform} archive of {address} {version}"
                )
            })?;
        let archive_url = archive
            .get("url")
            .and_then(|u| u.as_str())
            .ok_or_else(|| format!("GET {shown_url}: the {platform} archive has no url"))?;
        let archive_url = url
            .join(archive_url)
            .map_err(|e| format!("GET {shown_url}: the {platform} archive's url: {e}"))?;
        let hashes: Vec<String> = archive
            .get("hashes")
            .and_then(|h| h.as_array())
            .map(|h| {
                h.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let (zip, sha) = self.download(&archive_url, dir).await?;
        let zh = format!("zh:{sha}");
        let zip_hashes: Vec<&String> = hashes.iter().filter(|h| h.starts_with("zh:")).collect();
        if !zip_hashes.is_empty() && !zip_hashes.iter().any(|h| **h == zh) {
            return Err(format!(
                "{} has hash {zh}, which the mirror does not list for it ({}): the download was changed or damaged, and is not installed",
                shown(&archive_url),
                zip_hashes
                    .iter()
                    .map(|h| h.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(Fetched {
            zip,
            zh,
            hashes,
            signed_by: Vec::new(),
        })
    }
}

fn speaks(protocol: &str) -> bool {
    PROTOCOLS.contains(&protocol.split('.').next().unwrap_or(protocol))
}

fn with_trailing_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

fn join(base: &Url, path: &str) -> Result<Url, String> {
    base.join(path)
        .map_err(|e| format!("{base}{path} is not a URL: {e}"))
}

/// A network mirror's base URL. Terraform requires `https:`; braid also accepts `http:`
/// for a mirror on this machine (`localhost`, `127.0.0.1`, `[::1]`), and nothing else.
fn mirror_base(base: &str) -> Result<Url, String> {
    let url =
        Url::parse(base).map_err(|e| format!("network_mirror url \"{base}\" is not a URL: {e}"))?;
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    if url.scheme() != "https" && !(url.scheme() == "http" && local) {
        return Err(format!(
            "network_mirror url \"{base}\" must use https (http only for a mirror on this machine)"
        ));
    }
    Ok(with_trailing_slash(url))
}

/// Checks a detached OpenPGP signature of `data` with `gpg`, in a throw-away keyring holding
/// only `keys` (`(key id, ASCII armor)`). Returns the fingerprints of the keys that made a
/// valid signature.
pub fn verify_signature(
    data: &[u8],
    signature: &[u8],
    keys: &[(String, String)],
) -> Result<Vec<String>, String> {
    let home = tempfile::Builder::new()
        .prefix("braid-gpg-")
        .tempdir()
        .map_err(|e| format!("cannot create a keyring directory: {e}"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot restrict {}: {e}", home.path().display()))?;
    }
    let write = |name: &str, bytes: &[u8]| -> Result<PathBuf, String> {
        let path = home.path().join(name);
        std::fs::write(&path, bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    };
    let armor: String = keys.iter().map(|(_, a)| format!("{a}\n")).collect();
    let key_file = write("keys.asc", armor.as_bytes())?;
    let data_file = write("SHA256SUMS", data)?;
    let sig_file = write("SHA256SUMS.sig", signature)?;
    let gpg = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new("gpg")
            .env("GNUPGHOME", home.path())
            .args(["--batch", "--no-tty", "--no-autostart", "--status-fd", "1"])
            .args(args)
            .output()
            .map_err(|e| {
                format!("gpg could not be run ({e}); braid checks registry signatures with it: install GnuPG (Debian: apt-get install gnupg)")
            })
    };
    let imported = gpg(&["--import".as_ref(), key_file.as_os_str()])?;
    if !imported.status.success() {
        return Err(format!(
            "gpg cannot read the registry's signing keys: {}",
            String::from_utf8_lossy(&imported.stderr).trim()
        ));
    }
    let verified = gpg(&[
        "--verify".as_ref(),
        sig_file.as_os_str(),
        data_file.as_os_str(),
    ])?;
    let status = String::from_utf8_lossy(&verified.stdout);
    let statuses: Vec<(&str, &str)> = status
        .lines()
        .filter_map(|l| l.strip_prefix("[GNUPG:] "))
        .map(|l| l.split_once(' ').unwrap_or((l, "")))
        .collect();
    // gpg says VALIDSIG for signatures by expired or revoked keys too; those are refused,
    // as Terraform refuses them.
    let refused: Vec<&str> = statuses
        .iter()
        .filter(|(kind, _)| {
            matches!(
                *kind,
                "BADSIG" | "ERRSIG" | "EXPSIG" | "EXPKEYSIG" | "REVKEYSIG" | "NO_PUBKEY"
            )
        })
        .map(|(kind, _)| *kind)
        .collect();
    let good = statuses.iter().any(|(kind, _)| *kind == "GOODSIG");
    // VALIDSIG's last field is the primary key's fingerprint.
    let valid: Vec<String> = statuses
        .iter()
        .filter(|(kind, _)| *kind == "VALIDSIG")
        .filter_map(|(_, rest)| rest.split_whitespace().last().map(str::to_string))
        .collect();
    if !verified.status.success() || !good || valid.is_empty() || !refused.is_empty() {
        let stderr = String::from_utf8_lossy(&verified.stderr);
        let mut reason = stderr
            .lines()
            .filter(|l| l.starts_with("gpg:"))
            .collect::<Vec<_>>()
            .join("; ");
        if !refused.is_empty() {
            reason = format!("gpg reports {} ({reason})", refused.join(", "));
        }
        return Err(if reason.is_empty() {
            "no valid signature".to_string()
        } else {
            reason
        });
    }
    Ok(valid)
}

fn shown(url: &Url) -> String {
    display_url(url.as_str())
}

/// A URL as it may be shown: without user name, password or query (which can hold
/// credentials or signed tokens).
pub fn display_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.set_query(None);
            parsed.to_string()
        }
        Err(_) => url.to_string(),
    }
}
