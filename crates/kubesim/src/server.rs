//! The running server: binding 127.0.0.1, the accept loop (hyper HTTP/1.1), the shared
//! state handlers see, seeding initial namespaces, the controllers task, and the handle
//! tests hold (`Server`) which stops everything on `shutdown()` or drop.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::config::Config;
use crate::faults::{FaultInjector, RequestLog, RequestRecord};
use crate::kubeconfig::{self, KubeconfigError};
use crate::store::Store;
use crate::write::{self, Managed, WriteContext};

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Binding the listening socket failed.
    #[error("binding 127.0.0.1:{port}")]
    Bind {
        /// Requested port.
        port: u16,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Creating the temporary directory for the kubeconfig failed.
    #[error("creating a temporary directory for the kubeconfig")]
    TempDir(#[source] std::io::Error),
    /// Writing the kubeconfig failed.
    #[error("writing the kubeconfig")]
    Kubeconfig(#[source] KubeconfigError),
    /// Creating an initial namespace failed.
    #[error("creating initial namespace {name}: {message}")]
    Seed {
        /// Namespace name.
        name: String,
        /// The API error text.
        message: String,
    },
}

/// State shared by all request handlers and the controllers.
#[derive(Debug)]
pub struct Shared {
    store: Mutex<Store>,
    /// Fault settings.
    pub faults: FaultInjector,
    /// Request log.
    pub log: RequestLog,
    /// `127.0.0.1:PORT`, for `/api`'s serverAddressByClientCIDRs.
    pub address: String,
    /// Interval between watch bookmarks.
    pub bookmark_interval: Duration,
    /// Default controller delay.
    pub ready_delay: Duration,
    /// Flips to true on shutdown; long-lived watches end then.
    pub shutdown: watch::Receiver<bool>,
}

impl Shared {
    /// Locks the store. Handlers never hold this across an `.await`.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        // Poisoning only happens if a handler panicked; the data is still consistent
        // because every write is applied atomically at the end of an operation.
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running emulator. Dropping it stops the server.
#[derive(Debug)]
pub struct Server {
    url: String,
    address: SocketAddr,
    kubeconfig: PathBuf,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    _kubeconfig_dir: Option<tempfile::TempDir>,
}

impl Server {
    /// Binds 127.0.0.1, writes the kubeconfig and starts serving in the background of the
    /// current tokio runtime.
    pub async fn start(config: Config) -> Result<Server, ServerError> {
        let listener = TcpListener::bind(("127.0.0.1", config.port))
            .await
            .map_err(|source| ServerError::Bind {
                port: config.port,
                source,
            })?;
        let address = listener.local_addr().map_err(|source| ServerError::Bind {
            port: config.port,
            source,
        })?;
        let url = format!("http://{address}");
        let (kubeconfig_path, kubeconfig_dir) = match &config.kubeconfig_path {
            Some(p) => (p.clone(), None),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("kubesim-")
                    .tempdir()
                    .map_err(ServerError::TempDir)?;
                (dir.path().join("kubeconfig"), Some(dir))
            }
        };
        kubeconfig::write(&kubeconfig_path, &url, &config.context_name, &config.token)
            .map_err(ServerError::Kubeconfig)?;

        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let mut store = Store::new(config.history_limit);
        seed_namespaces(&mut store, &config.namespaces)?;
        let controller_events = store.subscribe();
        let shared = Arc::new(Shared {
            store: Mutex::new(store),
            faults: FaultInjector::new(config.faults.clone()),
            log: RequestLog::default(),
            address: address.to_string(),
            bookmark_interval: config.bookmark_interval.max(Duration::from_millis(10)),
            ready_delay: config.ready_delay,
            shutdown: shutdown_rx.clone(),
        });
        let tasks = vec![
            tokio::spawn(accept_loop(listener, shared.clone(), shutdown_rx.clone())),
            tokio::spawn(crate::controllers::run(
                shared.clone(),
                controller_events,
                shutdown_rx,
            )),
        ];
        Ok(Server {
            url,
            address,
            kubeconfig: kubeconfig_path,
            shared,
            shutdown: shutdown_tx,
            tasks,
            _kubeconfig_dir: kubeconfig_dir,
        })
    }

    /// Base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bound socket address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Path of the kubeconfig written for this server.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// Runtime fault settings.
    pub fn faults(&self) -> &FaultInjector {
        &self.shared.faults
    }

    /// Every API request served so far (admin requests excluded).
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.log.snapshot()
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        self.shared.log.clear();
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.shared.store().current_rv()
    }

    /// Stops accepting, ends watches and controllers, and waits for the tasks to finish.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        for task in self.tasks.drain(..) {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn seed_namespaces(store: &mut Store, names: &[String]) -> Result<(), ServerError> {
    let Some(rt) = store.catalogue.find("", "v1", "namespaces").cloned() else {
        return Ok(());
    };
    for name in names {
        let ctx = WriteContext::internal(&rt, "", "kubesim", None);
        let object = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        write::create(store, &ctx, object, Managed::Update).map_err(|e| ServerError::Seed {
            name: name.clone(),
            message: e.to_string(),
        })?;
    }
    Ok(())
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Transient accept errors (e.g. too many open files): back off briefly.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let shared = shared.clone();
                connections.spawn(async move {
                    let service = service_fn(move |req| crate::http::serve(shared.clone(), req));
                    // Connection errors (client went away, injected drops) end just this
                    // connection.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    connections.abort_all();
}
