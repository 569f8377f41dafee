//! kubesim, the Kubernetes API emulator, on its own tokio runtime so that blocking tests
//! (which run the braid binary) can start it and change objects out of band over HTTP.

use std::time::Duration;

/// The configuration tests use: objects become ready after 100 ms, so waits are exercised
/// without slowing the suites down.
pub fn kubesim_config() -> kubesim::Config {
    kubesim::Config {
        ready_delay: Duration::from_millis(100),
        ..kubesim::Config::default()
    }
}

/// A kubesim server (the Kubernetes API emulator) on its own tokio runtime, for tests that
/// run the braid binary against it over real HTTP. Out-of-band changes — what kubectl,
/// controllers or people would do — go through [`KubeSim::request`] and friends.
pub struct KubeSim {
    server: Option<kubesim::Server>,
    runtime: tokio::runtime::Runtime,
}

impl KubeSim {
    /// A fresh server with [`kubesim_config`].
    pub fn start() -> KubeSim {
        KubeSim::start_with(kubesim_config())
    }

    /// A fresh server with the given configuration.
    pub fn start_with(config: kubesim::Config) -> KubeSim {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime for kubesim");
        let server = runtime
            .block_on(kubesim::Server::start(config))
            .expect("kubesim starts on an ephemeral port");
        KubeSim {
            server: Some(server),
            runtime,
        }
    }

    /// The emulator itself.
    pub fn server(&self) -> &kubesim::Server {
        self.server.as_ref().expect("server runs until drop")
    }

    /// The kubeconfig kubesim wrote (in its own temporary directory, outside any project:
    /// every YAML file in a source is read as a manifest).
    pub fn kubeconfig(&self) -> String {
        self.server()
            .kubeconfig_path()
            .display()
            .to_string()
            .replace('\\', "/")
    }

    /// Where tests script failures of the API.
    pub fn faults(&self) -> &kubesim::FaultInjector {
        self.server().faults()
    }

    /// The API requests served so far, oldest first.
    pub fn requests(&self) -> Vec<kubesim::RequestRecord> {
        self.server().requests()
    }

    /// One HTTP request to the emulator; returns the status and the body as JSON (`null`
    /// when empty or not JSON).
    #[track_caller]
    pub fn request(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Option<&str>,
    ) -> (u16, serde_json::Value) {
        http_request(self.server().address(), method, path, content_type, body)
    }

    /// The object at an API path (`/apis/apps/v1/namespaces/shop/deployments/web`), or
    /// `None` when the server answers 404.
    #[track_caller]
    pub fn get(&self, path: &str) -> Option<serde_json::Value> {
        let (status, body) = self.request("GET", path, "application/json", None);
        match status {
            200 => Some(body),
            404 => None,
            other => panic!("GET {path}: unexpected status {other}: {body}"),
        }
    }

    /// Creates an object with a plain POST to a collection path, as `manager`.
    #[track_caller]
    pub fn create(&self, collection: &str, manager: &str, object: &serde_json::Value) {
        let path = format!("{collection}?fieldManager={manager}");
        let (status, body) =
            self.request("POST", &path, "application/json", Some(&object.to_string()));
        assert_eq!(status, 201, "POST {collection}: {body}");
    }

    /// A server-side apply of `object` at `path` as `manager` (with `force`), as
    /// `kubectl apply --server-side --force-conflicts --field-manager=MANAGER` would do.
    #[track_caller]
    pub fn apply_as(&self, path: &str, manager: &str, object: &serde_json::Value) {
        let path = format!("{path}?fieldManager={manager}&force=true");
        let (status, body) = self.request(
            "PATCH",
            &path,
            "application/apply-patch+yaml",
            Some(&object.to_string()),
        );
        assert!(
            status == 200 || status == 201,
            "apply {path}: {status} {body}"
        );
    }

    /// Runs the real kubectl (`BRAID_KUBECTL`, else `kubectl` on PATH) against this cluster
    /// with a throw-away cache directory, as a person would; returns its output and panics
    /// with it when kubectl fails or cannot be run.
    #[track_caller]
    pub fn kubectl(&self, args: &[&str]) -> String {
        let program = std::env::var_os("BRAID_KUBECTL").unwrap_or_else(|| "kubectl".into());
        let cache = tempfile::tempdir().expect("kubectl cache dir");
        let out = std::process::Command::new(&program)
            .args(args)
            .arg("--cache-dir")
            .arg(cache.path())
            .env("KUBECONFIG", self.server().kubeconfig_path())
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run {} ({e}): install kubectl or point BRAID_KUBECTL at it",
                    std::path::Path::new(&program).display()
                )
            });
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "kubectl {args:?} failed:\n{text}");
        text
    }

    /// A JSON merge patch as `manager` (an `Update` in managedFields, like `kubectl edit`).
    #[track_caller]
    pub fn merge_patch(&self, path: &str, manager: &str, patch: &serde_json::Value) {
        let path = format!("{path}?fieldManager={manager}");
        let (status, body) = self.request(
            "PATCH",
            &path,
            "application/merge-patch+json",
            Some(&patch.to_string()),
        );
        assert_eq!(status, 200, "merge patch {path}: {body}");
    }
}

impl Drop for KubeSim {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.shutdown());
        }
    }
}

/// A minimal blocking HTTP/1.1 client (kubesim speaks plain HTTP on 127.0.0.1); one
/// connection per request.
#[track_caller]
pub fn http_request(
    address: std::net::SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: Option<&str>,
) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).expect("connect to kubesim");
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAccept: application/json\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send request to kubesim");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .expect("read kubesim response");
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, rest) = response
        .split_once("\r\n\r\n")
        .unwrap_or((response.as_str(), ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let text = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || tail.len() < size {
            break;
        }
        out.push_str(&tail[..size]);
        rest = tail[size..].trim_start_matches("\r\n");
    }
    out
}
