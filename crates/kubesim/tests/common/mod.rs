//! Shared test helpers: start a server and build a kube-rs client from the kubeconfig it
//! writes, exactly as a user of the emulator would.

#![allow(dead_code)]

use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

pub struct Cluster {
    pub server: kubesim::Server,
    pub client: Client,
}

pub async fn start() -> Cluster {
    start_with(kubesim::Config {
        ready_delay: Duration::from_millis(100),
        ..kubesim::Config::default()
    })
    .await
}

pub async fn start_with(config: kubesim::Config) -> Cluster {
    let server = kubesim::Server::start(config)
        .await
        .expect("server starts on an ephemeral port");
    let kubeconfig =
        Kubeconfig::read_from(server.kubeconfig_path()).expect("kubeconfig written by the server");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig is valid");
    let client = Client::try_from(config).expect("client builds for plain http");
    Cluster { server, client }
}

/// Raw HTTP/1.1 request over a fresh TCP connection; returns (status, body) or None when
/// the connection closed without a response.
pub async fn raw(
    server: &kubesim::Server,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> Option<(u16, String)> {
    raw_with_head(server, method, path, content_type, body)
        .await
        .map(|(status, _, body)| (status, body))
}

/// Like [`raw`], with the response head too: (status, head, body).
pub async fn raw_with_head(
    server: &kubesim::Server,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> Option<(u16, String, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(server.address())
        .await
        .expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    let _ = stream.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok())?;
    Some((status, head.to_string(), body.to_string()))
}

/// Polls `check` until it returns Some, or panics after `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not reached in {secs}s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
