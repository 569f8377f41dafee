//! Real servers for the backend tests: a PostgreSQL cluster made with `initdb` and started
//! with `pg_ctl` on a free port in a temporary directory, and `moto_server` (the AWS
//! emulator) for S3. Each is started once per test binary and stopped when the binary
//! exits: a small shell watchdog holds a pipe from this process and cleans up when it
//! closes, however the process ends.
//!
//! When a tool is missing the tests that need it are skipped with a printed reason, except
//! under CI (`CI` set), where they fail: scripts/test.sh installs both.
//!
//! Shared by `braid-state`'s tests and the root `tests/state_backends.rs` (via `#[path]`).

#![allow(dead_code)] // Each test binary uses a different part of this module.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A running PostgreSQL server that trusts local connections.
pub struct Postgres {
    /// `postgres://postgres@127.0.0.1:PORT/postgres`
    pub url: String,
    _watchdog: Mutex<ChildStdin>,
}

/// A running moto server with one bucket.
pub struct Moto {
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    pub bucket: String,
    _watchdog: Mutex<ChildStdin>,
}

/// The shared Postgres server, or `None` (after printing why) when it cannot run here.
pub fn postgres() -> Option<&'static Postgres> {
    static SERVER: OnceLock<Option<Postgres>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            start_postgres()
                .map_err(|why| unavailable("PostgreSQL", &why))
                .ok()
        })
        .as_ref()
}

/// The shared moto server, or `None` (after printing why) when it cannot run here.
pub fn moto() -> Option<&'static Moto> {
    static SERVER: OnceLock<Option<Moto>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            start_moto()
                .map_err(|why| unavailable("moto_server", &why))
                .ok()
        })
        .as_ref()
}

/// Under CI a missing server is a failure; locally the test is skipped.
fn unavailable(what: &str, why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{what} is needed by this test and could not start: {why}");
    }
    eprintln!("skipping: {what} could not start: {why} (scripts/test.sh installs it)");
}

/// Credentials moto accepts (it checks none); passed to braid through the environment.
pub const MOTO_ENV: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_REGION", "us-east-1"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("local_addr: {e}"))
}

fn wait_for_port(port: u16, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("nothing listens on port {port} after {timeout:?}"))
}

/// Runs `script` in `sh` with a pipe on stdin; the script's `read _` returns when this
/// process exits, and what follows cleans up.
fn watchdog(script: &str, args: &[&str]) -> Result<ChildStdin, String> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("watchdog")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start sh: {e}"))?;
    child
        .stdin
        .take()
        .ok_or_else(|| "no stdin pipe".to_string())
}

fn postgres_bin() -> Result<PathBuf, String> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .filter(|bin| bin.join("initdb").exists())
                .collect()
        })
        .unwrap_or_default();
    found.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    if let Some(bin) = found.pop() {
        return Ok(bin);
    }
    let which = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
        .map_err(|e| e.to_string())?;
    let path = String::from_utf8_lossy(&which.stdout).trim().to_string();
    Path::new(&path)
        .parent()
        .filter(|_| which.status.success() && !path.is_empty())
        .map(Path::to_path_buf)
        .ok_or_else(|| "initdb is not installed (apt-get install postgresql)".to_string())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn start_postgres() -> Result<Postgres, String> {
    let bin = postgres_bin()?;
    let dir = tempfile::Builder::new()
        .prefix("braid-pg-")
        .tempdir()
        .map_err(|e| format!("tempdir: {e}"))?
        .keep();
    let root = is_root();
    // PostgreSQL refuses to run as root; CI runs as root, so run it as `postgres`.
    let as_user = if root { "runuser -u postgres -- " } else { "" };
    if root {
        let chown = Command::new("chown")
            .args(["-R", "postgres:", &dir.display().to_string()])
            .status()
            .map_err(|e| format!("chown: {e}"))?;
        if !chown.success() {
            return Err("cannot chown the data directory to the postgres user".into());
        }
    }
    let port = free_port()?;
    let data = dir.join("data");
    let run = |script: String| -> Result<(), String> {
        let output = Command::new("sh")
            .args(["-c", &script])
            .output()
            .map_err(|e| format!("{script}: {e}"))?;
        if output.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{script} failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ))
        }
    };
    let bin = bin.display();
    let (data_s, dir_s) = (data.display(), dir.display());
    run(format!(
        "{as_user}{bin}/initdb -D {data_s} -A trust -U postgres -E UTF8 --no-sync >/dev/null"
    ))?;
    run(format!(
        "{as_user}{bin}/pg_ctl -D {data_s} -l {dir_s}/server.log -w -t 60 -o '-p {port} -k {dir_s} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200' start >/dev/null"
    ))?;
    let watchdog = watchdog(
        &format!(
            "read _; {as_user}{bin}/pg_ctl -D {data_s} -m immediate stop >/dev/null 2>&1; rm -rf {dir_s}"
        ),
        &[],
    )?;
    wait_for_port(port, Duration::from_secs(30))?;
    Ok(Postgres {
        url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        _watchdog: Mutex::new(watchdog),
    })
}

fn moto_bin() -> Result<String, String> {
    if let Some(path) = std::env::var_os("BRAID_MOTO_SERVER") {
        return Ok(PathBuf::from(path).display().to_string());
    }
    if let Some(home) = std::env::var_os("HOME") {
        let venv = PathBuf::from(home).join(".cache/braid-venv/bin/moto_server");
        if venv.exists() {
            return Ok(venv.display().to_string());
        }
    }
    let which = Command::new("sh")
        .args(["-c", "command -v moto_server"])
        .output()
        .map_err(|e| e.to_string())?;
    let path = String::from_utf8_lossy(&which.stdout).trim().to_string();
    if which.status.success() && !path.is_empty() {
        Ok(path)
    } else {
        Err(
            "moto_server is not installed (pip install 'moto[server]', or set BRAID_MOTO_SERVER)"
                .into(),
        )
    }
}

fn start_moto() -> Result<Moto, String> {
    let bin = moto_bin()?;
    let port = free_port()?;
    let log = std::env::temp_dir().join(format!("braid-moto-{port}.log"));
    let watchdog = watchdog(
        r#""$1" -H 127.0.0.1 -p "$2" >"$3" 2>&1 & pid=$!; read _; kill $pid; rm -f "$3""#,
        &[&bin, &port.to_string(), &log.display().to_string()],
    )?;
    wait_for_port(port, Duration::from_secs(60))?;
    let bucket = "braid-state-tests".to_string();
    create_bucket(port, &bucket)?;
    Ok(Moto {
        endpoint: format!("http://127.0.0.1:{port}"),
        bucket,
        _watchdog: Mutex::new(watchdog),
    })
}

/// `PUT /BUCKET` by hand: moto checks no signature, and this keeps the harness free of the
/// AWS SDK so the root tests can share it.
fn create_bucket(port: u16, bucket: &str) -> Result<(), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    write!(
        stream,
        "PUT /{bucket} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| e.to_string())?;
    if response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200") {
        Ok(())
    } else {
        Err(format!("creating bucket {bucket} failed: {response}"))
    }
}
