//! A small HTTP/1.1 server on 127.0.0.1 that serves fixed files — what a provider registry,
//! a network mirror or a release download site looks like to a client — and records the
//! paths it was asked for.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// A running file server; it stops serving when dropped (its thread ends with the process).
pub struct HttpFiles {
    port: u16,
    files: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl HttpFiles {
    /// Starts a server with no files on a free port.
    pub fn start() -> HttpFiles {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a port for the file server");
        let port = listener.local_addr().expect("local address").port();
        let files: Arc<Mutex<BTreeMap<String, Vec<u8>>>> = Arc::default();
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let (served, log) = (Arc::clone(&files), Arc::clone(&requests));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (served, log) = (Arc::clone(&served), Arc::clone(&log));
                std::thread::spawn(move || serve(stream, &served, &log));
            }
        });
        HttpFiles {
            port,
            files,
            requests,
        }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Serves `body` at `path` (which starts with `/`) from now on.
    pub fn put(&self, path: &str, body: impl Into<Vec<u8>>) {
        self.files
            .lock()
            .expect("files")
            .insert(path.to_string(), body.into());
    }

    /// What is served at `path`, if anything.
    pub fn file(&self, path: &str) -> Option<Vec<u8>> {
        self.files.lock().expect("files").get(path).cloned()
    }

    /// The paths asked for so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }
}

fn serve(stream: TcpStream, files: &Mutex<BTreeMap<String, Vec<u8>>>, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Skip the headers.
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line == "\r\n" || line == "\n" => break,
            Ok(_) => {}
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("").to_string();
    log.lock().expect("requests").push(path.clone());
    let body = if method == "GET" {
        files.lock().expect("files").get(&path).cloned()
    } else {
        None
    };
    let (status, body) = match body {
        Some(body) => ("200 OK", body),
        None => ("404 Not Found", b"not found\n".to_vec()),
    };
    let content_type = if path.ends_with(".json") || !path.contains('.') {
        "application/json"
    } else {
        "application/octet-stream"
    };
    let mut stream = &stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(&body);
    let _ = stream.flush();
}
