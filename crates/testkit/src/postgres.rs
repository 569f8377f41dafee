//! A throw-away PostgreSQL cluster: made with `initdb` in a temporary directory and started
//! with `pg_ctl` on a free port, trusting local connections.

use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command};
use std::sync::OnceLock;
use std::time::Duration;

use crate::process::{free_port, wait_for_port, watchdog};

/// A running PostgreSQL server, shared by the tests of one binary and stopped (its data
/// directory removed) when the binary exits.
pub struct Postgres {
    /// `postgres://postgres@127.0.0.1:PORT/postgres`
    pub url: String,
    bin: PathBuf,
    _watchdog: ChildStdin,
}

impl Postgres {
    /// The server of this test binary, started by the first test that asks. When PostgreSQL
    /// is not installed or does not start, the test fails saying so.
    #[track_caller]
    pub fn shared() -> &'static Postgres {
        static SERVER: OnceLock<Postgres> = OnceLock::new();
        SERVER.get_or_init(|| {
            start().unwrap_or_else(|why| {
                panic!(
                    "PostgreSQL is needed by this test and could not start: {why}. \
                     scripts/test.sh installs it (apt-get install postgresql)."
                )
            })
        })
    }

    /// Every row of every table of the database, as `pg_dump --data-only` writes them:
    /// what a test searches for bytes that must not be stored.
    #[track_caller]
    pub fn dump(&self) -> Vec<u8> {
        let out = Command::new(self.bin.join("pg_dump"))
            .args(["--data-only", "--dbname", &self.url])
            .output()
            .unwrap_or_else(|e| panic!("pg_dump: {e}"));
        assert!(
            out.status.success(),
            "pg_dump failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }
}

fn start() -> Result<Postgres, String> {
    let bin = postgres_bin()?;
    let dir = tempfile::Builder::new()
        .prefix("braid-pg-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?
        .keep();
    // PostgreSQL refuses to run as root; CI runs as root, so run it as `postgres`.
    let root = is_root();
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
    let port = free_port();
    let data = dir.join("data");
    let bin_dir = bin.clone();
    let bin = bin.display();
    let (data, dir) = (data.display(), dir.display());
    run(format!(
        "{as_user}{bin}/initdb -D {data} -A trust -U postgres -E UTF8 --no-sync >/dev/null"
    ))?;
    run(format!(
        "{as_user}{bin}/pg_ctl -D {data} -l {dir}/server.log -w -t 60 -o '-p {port} -k {dir} \
         -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200' start >/dev/null"
    ))?;
    let watchdog = watchdog(
        &format!(
            "read _; {as_user}{bin}/pg_ctl -D {data} -m immediate stop >/dev/null 2>&1; rm -rf {dir}"
        ),
        &[],
    );
    wait_for_port(port, Duration::from_secs(30), || Ok(()))?;
    Ok(Postgres {
        url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        bin: bin_dir,
        _watchdog: watchdog,
    })
}

/// Runs a shell command; its output is the error when it fails.
fn run(script: String) -> Result<(), String> {
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
}

/// The directory of `initdb` and `pg_ctl`: Debian's newest `/usr/lib/postgresql/*/bin`, or
/// wherever `initdb` is on PATH.
fn postgres_bin() -> Result<PathBuf, String> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|entry| entry.path().join("bin"))
                .filter(|bin| bin.join("initdb").exists())
                .collect()
        })
        .unwrap_or_default();
    found.sort_by_key(|bin| {
        bin.parent()
            .and_then(|version| version.file_name())
            .and_then(|version| version.to_str())
            .and_then(|version| version.parse::<u32>().ok())
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
        .ok_or_else(|| {
            "initdb is not installed (looked in /usr/lib/postgresql/*/bin and PATH)".to_string()
        })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}
