//! An OCI registry: the Distribution registry (Debian's `docker-registry`) on a free port of
//! 127.0.0.1, over plain HTTP, with basic authentication (an htpasswd file), as Helm charts
//! are pushed to and pulled from a private registry.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::ChildStdin;
use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::process::{free_port, wait_for_port, watchdog};

/// The user the registry accepts.
pub const REGISTRY_USER: &str = "braid-ci";
/// Its password.
pub const REGISTRY_PASSWORD: &str = "registry-s3cret";
/// The bcrypt hash of [`REGISTRY_PASSWORD`] (`htpasswd -Bbn braid-ci registry-s3cret`).
const HTPASSWD: &str = "braid-ci:$2y$05$AVIUu0TdSmx.UeOVkfUSoutApMMxRkidqHfNMC9WWAwitZ3FiVASS";

/// A running registry; stopped (its storage removed) when dropped.
pub struct OciRegistry {
    port: u16,
    _watchdog: ChildStdin,
}

impl OciRegistry {
    /// Starts a registry. When `docker-registry` is not installed or does not start, the
    /// test fails saying so.
    #[track_caller]
    pub fn start() -> OciRegistry {
        start().unwrap_or_else(|why| {
            panic!(
                "an OCI registry is needed by this test and could not start: {why}. \
                 scripts/test.sh installs it (apt-get install docker-registry)."
            )
        })
    }

    /// `127.0.0.1:PORT`, the registry's host as an `oci://` reference names it.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Pushes a packaged chart as `helm push` does: its `.tgz` as the layer
    /// (`application/vnd.cncf.helm.chart.content.v1.tar+gzip`), a config holding `name` and
    /// `version`, tagged with the version, into repository `path/name`.
    #[track_caller]
    pub fn push_chart(&self, path: &str, name: &str, version: &str, archive: &[u8]) {
        let repository = format!("{path}/{name}");
        let config = format!(r#"{{"apiVersion":"v2","name":"{name}","version":"{version}"}}"#);
        let config_digest = self.push_blob(&repository, config.as_bytes());
        let layer_digest = self.push_blob(&repository, archive);
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"{config_digest}","size":{}}},"layers":[{{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","digest":"{layer_digest}","size":{}}}]}}"#,
            config.len(),
            archive.len()
        );
        let tag = version.replace('+', "_");
        let (status, _, body) = self.request(
            "PUT",
            &format!("/v2/{repository}/manifests/{tag}"),
            Some("application/vnd.oci.image.manifest.v1+json"),
            manifest.as_bytes(),
        );
        assert_eq!(status, 201, "push the manifest: {body}");
    }

    fn push_blob(&self, repository: &str, bytes: &[u8]) -> String {
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
        let (status, headers, body) = self.request(
            "POST",
            &format!("/v2/{repository}/blobs/uploads/"),
            None,
            b"",
        );
        assert_eq!(status, 202, "start a blob upload: {body}");
        let location = headers
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("location")
                    .then(|| v.trim().to_string())
            })
            .expect("the upload's Location");
        let path = match location.split_once("://") {
            Some((_, rest)) => rest[rest.find('/').unwrap_or(rest.len())..].to_string(),
            None => location,
        };
        let separator = if path.contains('?') { '&' } else { '?' };
        let (status, _, body) = self.request(
            "PUT",
            &format!("{path}{separator}digest={digest}"),
            Some("application/octet-stream"),
            bytes,
        );
        assert_eq!(status, 201, "finish a blob upload: {body}");
        digest
    }

    /// One authenticated HTTP/1.1 request: status, headers, body.
    fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> (u16, String, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        let auth = base64::engine::general_purpose::STANDARD
            .encode(format!("{REGISTRY_USER}:{REGISTRY_PASSWORD}"));
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {auth}\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.host(),
            body.len()
        );
        if let Some(content_type) = content_type {
            head.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).expect("send");
        stream.write_all(body).expect("send");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).expect("read");
        let response = String::from_utf8_lossy(&response).into_owned();
        let (head, rest) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, head.to_string(), rest.to_string())
    }
}

fn start() -> Result<OciRegistry, String> {
    let binary = ["/usr/bin/docker-registry", "/usr/local/bin/docker-registry"]
        .into_iter()
        .find(|p| std::path::Path::new(p).is_file())
        .ok_or("docker-registry is not installed")?;
    let dir = tempfile::Builder::new()
        .prefix("braid-registry-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?
        .keep();
    let port = free_port();
    std::fs::write(dir.join("htpasswd"), format!("{HTPASSWD}\n"))
        .map_err(|e| format!("cannot write the htpasswd file: {e}"))?;
    let config = format!(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {dir}/data\nhttp:\n  addr: 127.0.0.1:{port}\nauth:\n  htpasswd:\n    realm: braid-test\n    path: {dir}/htpasswd\n",
        dir = dir.display()
    );
    std::fs::write(dir.join("config.yml"), config)
        .map_err(|e| format!("cannot write the registry configuration: {e}"))?;
    let dir_text = dir.display().to_string();
    let watchdog = watchdog(
        "\"$1\" serve \"$2/config.yml\" >\"$2/registry.log\" 2>&1 & pid=$!; read _; kill $pid; wait $pid; rm -rf \"$2\"",
        &[binary, &dir_text],
    );
    let log = dir.join("registry.log");
    wait_for_port(port, Duration::from_secs(30), || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("level=fatal") || text.contains("panic") {
            return Err(format!("the registry did not start: {text}"));
        }
        Ok(())
    })?;
    Ok(OciRegistry {
        port,
        _watchdog: watchdog,
    })
}

/// A front for an [`OciRegistry`] that asks for Bearer tokens, as public registries (ghcr.io,
/// Docker Hub) do: `/v2/...` without `Authorization: Bearer TOKEN` gets a 401 naming the
/// token realm; the realm (`/token`) hands out the token to a client giving the registry's
/// user and password; authorized requests are passed on to the registry. Stops serving when
/// the test process ends.
pub struct TokenFront {
    port: u16,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// The token the front hands out.
const TOKEN: &str = "braid-test-token";

impl TokenFront {
    /// A front on a free port for `registry`.
    pub fn start(registry: &OciRegistry) -> TokenFront {
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port for the token front");
        let port = listener.local_addr().expect("local address").port();
        let requests: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
        let log = std::sync::Arc::clone(&requests);
        let backend = registry.port;
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = std::sync::Arc::clone(&log);
                std::thread::spawn(move || serve_front(stream, port, backend, &log));
            }
        });
        TokenFront { port, requests }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `METHOD PATH AUTH-SCHEME` of every request so far (`GET /token Basic`).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }
}

fn serve_front(stream: TcpStream, port: u16, backend: u16, log: &std::sync::Mutex<Vec<String>>) {
    use std::io::BufRead as _;
    let mut reader = std::io::BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut authorization = String::new();
    let mut accept = String::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line == "\r\n" || line == "\n" => break,
            Ok(_) => {
                if let Some((name, value)) = line.split_once(':') {
                    let value = value.trim().to_string();
                    match name.to_ascii_lowercase().as_str() {
                        "authorization" => authorization = value,
                        "accept" => accept = value,
                        _ => {}
                    }
                }
            }
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let scheme = authorization.split(' ').next().unwrap_or("none");
    log.lock()
        .expect("requests")
        .push(format!("{method} {path} {scheme}"));
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{REGISTRY_USER}:{REGISTRY_PASSWORD}"));
    let respond = |status: &str, headers: &str, body: &[u8]| {
        let mut stream = &stream;
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(body);
    };
    if path == "/token" {
        if authorization == format!("Basic {basic}") {
            respond(
                "200 OK",
                "Content-Type: application/json\r\n",
                format!(r#"{{"token":"{TOKEN}"}}"#).as_bytes(),
            );
        } else {
            respond("401 Unauthorized", "", b"{}");
        }
        return;
    }
    if authorization != format!("Bearer {TOKEN}") {
        let challenge = format!(
            "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"braid-test\",scope=\"repository:charts:pull\"\r\nContent-Type: application/json\r\n"
        );
        respond("401 Unauthorized", &challenge, b"{}");
        return;
    }
    // Passed on to the registry, with its own login.
    let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", backend)) else {
        respond("502 Bad Gateway", "", b"");
        return;
    };
    let _ = write!(
        upstream,
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{backend}\r\nAuthorization: Basic {basic}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n"
    );
    let mut answer = Vec::new();
    let _ = upstream.read_to_end(&mut answer);
    let mut stream = &stream;
    let _ = stream.write_all(&answer);
}
