//! The plugin's operating-system process: started with go-plugin's environment, its stdout
//! read for the handshake line, its stderr kept as a tail for diagnostics, and always
//! reaped — killed and waited for when the host drops it, so no zombie is left behind.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// The magic cookie Terraform's plugins check before serving (a published constant of
/// Terraform's plugin handshake; a plugin started without it refuses to run).
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
/// The value of [`MAGIC_COOKIE_KEY`].
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// The last lines a plugin wrote to stderr (and to stdout after its handshake line), for
/// diagnostics when it fails.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputTail {
    /// Oldest first; at most the configured number of lines.
    pub lines: Vec<String>,
}

impl std::fmt::Display for OutputTail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.lines.is_empty() {
            return write!(f, "the plugin wrote nothing to stderr");
        }
        write!(f, "the plugin's stderr ended with:")?;
        for line in &self.lines {
            write!(f, "\n  {line}")?;
        }
        Ok(())
    }
}

/// A bounded buffer of output lines, filled by reader threads.
#[derive(Default)]
struct TailBuffer {
    lines: VecDeque<String>,
    capacity: usize,
    /// Readers that reached end of file; the buffer is complete when both have.
    closed_streams: usize,
}

#[derive(Clone)]
pub(crate) struct SharedTail(Arc<(Mutex<TailBuffer>, Condvar)>);

impl SharedTail {
    fn new(capacity: usize) -> SharedTail {
        SharedTail(Arc::new((
            Mutex::new(TailBuffer {
                capacity: capacity.max(1),
                ..TailBuffer::default()
            }),
            Condvar::new(),
        )))
    }

    pub(crate) fn push(&self, line: String) {
        let mut buffer = self.0.0.lock().unwrap_or_else(PoisonError::into_inner);
        if buffer.lines.len() == buffer.capacity {
            buffer.lines.pop_front();
        }
        buffer.lines.push_back(line);
    }

    fn close_stream(&self) {
        let mut buffer = self.0.0.lock().unwrap_or_else(PoisonError::into_inner);
        buffer.closed_streams += 1;
        self.0.1.notify_all();
    }

    fn snapshot(&self) -> OutputTail {
        let buffer = self.0.0.lock().unwrap_or_else(PoisonError::into_inner);
        OutputTail {
            lines: buffer.lines.iter().cloned().collect(),
        }
    }

    /// Waits (bounded) until both output streams reached end of file, so that a tail taken
    /// after the process exited holds its last words.
    fn wait_closed(&self, timeout: Duration) {
        let buffer = self.0.0.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = self
            .0
            .1
            .wait_timeout_while(buffer, timeout, |b| b.closed_streams < 2);
    }
}

/// What the stdout reader reports about the first line.
pub(crate) enum FirstLine {
    Line(String),
    /// stdout closed (the process exited or closed it) before a full line.
    Eof,
}

/// A started plugin process.
pub(crate) struct PluginProcess {
    child: Mutex<Child>,
    program: PathBuf,
    tail: SharedTail,
    /// Where go-plugin puts its unix socket (`PLUGIN_UNIX_SOCKET_DIR`); removed with the
    /// process, so a killed plugin leaves no socket behind.
    _socket_dir: tempfile::TempDir,
}

/// What to give the plugin process.
pub(crate) struct Launch<'a> {
    pub(crate) program: &'a Path,
    pub(crate) args: &'a [OsString],
    pub(crate) env: &'a [(OsString, OsString)],
    pub(crate) protocol_versions: &'a str,
    pub(crate) client_certificate_pem: &'a str,
    pub(crate) tail_lines: usize,
}

impl PluginProcess {
    /// Starts the plugin; the receiver yields its first stdout line.
    pub(crate) fn spawn(
        launch: &Launch<'_>,
    ) -> std::io::Result<(PluginProcess, oneshot::Receiver<FirstLine>)> {
        let socket_dir = tempfile::Builder::new().prefix("braid-plugin-").tempdir()?;
        let mut child = Command::new(launch.program)
            .args(launch.args)
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
            .env("PLUGIN_PROTOCOL_VERSIONS", launch.protocol_versions)
            .env("PLUGIN_CLIENT_CERT", launch.client_certificate_pem)
            .env("PLUGIN_UNIX_SOCKET_DIR", socket_dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let tail = SharedTail::new(launch.tail_lines);
        let (first_line_tx, first_line_rx) = oneshot::channel();
        // Both pipes are drained for the whole life of the process: a plugin blocked on a
        // full pipe would hang every call.
        if let Some(stdout) = child.stdout.take() {
            let tail = tail.clone();
            std::thread::spawn(move || read_stdout(stdout, first_line_tx, &tail));
        }
        if let Some(stderr) = child.stderr.take() {
            let tail = tail.clone();
            std::thread::spawn(move || read_lines(stderr, &tail));
        }
        Ok((
            PluginProcess {
                child: Mutex::new(child),
                program: launch.program.to_path_buf(),
                tail,
                _socket_dir: socket_dir,
            },
            first_line_rx,
        ))
    }

    pub(crate) fn program(&self) -> &Path {
        &self.program
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child().id()
    }

    fn child(&self) -> std::sync::MutexGuard<'_, Child> {
        self.child.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where other sources of the plugin's output (go-plugin's stdio stream) add lines.
    pub(crate) fn shared_tail(&self) -> SharedTail {
        self.tail.clone()
    }

    /// The output so far.
    pub(crate) fn tail(&self) -> OutputTail {
        self.tail.snapshot()
    }

    /// The output, after waiting a little for the streams to close if the process exited.
    pub(crate) fn final_tail(&self) -> OutputTail {
        self.tail.wait_closed(Duration::from_millis(500));
        self.tail.snapshot()
    }

    /// The exit status if the process has exited (and is now reaped).
    pub(crate) fn exit_status(&self) -> Option<ExitStatus> {
        self.child().try_wait().ok().flatten()
    }

    /// Waits up to `timeout` for the process to exit by itself.
    pub(crate) async fn wait_exit(&self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exit_status() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills the process unless it already exited, and reaps it.
    pub(crate) fn kill(&self) -> std::io::Result<ExitStatus> {
        let mut child = self.child();
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        // Killing an already-exited (unreaped) process is harmless; the wait reaps it.
        let _ = child.kill();
        child.wait()
    }
}

impl Drop for PluginProcess {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// Cuts a byte stream that arrives in chunks into lines; a line split across chunks is
/// joined, and invalid UTF-8 is replaced rather than dropped.
#[derive(Default)]
pub(crate) struct ChunkLines {
    partial: Vec<u8>,
}

impl ChunkLines {
    pub(crate) fn push(&mut self, chunk: &[u8], mut line: impl FnMut(String)) {
        self.partial.extend_from_slice(chunk);
        while let Some(end) = self.partial.iter().position(|b| *b == b'\n') {
            let bytes: Vec<u8> = self.partial.drain(..=end).collect();
            line(text_of(&bytes[..end]));
        }
    }

    /// Emits the last line when the stream ended without a newline.
    pub(crate) fn finish(&mut self, mut line: impl FnMut(String)) {
        if !self.partial.is_empty() {
            line(text_of(&self.partial));
            self.partial.clear();
        }
    }
}

fn text_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .trim_end_matches('\r')
        .to_owned()
}

fn read_stdout(stdout: impl Read, first_line: oneshot::Sender<FirstLine>, tail: &SharedTail) {
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    let first = match reader.read_line(&mut line) {
        Ok(n) if n > 0 && line.ends_with('\n') => FirstLine::Line(line.trim_end().to_owned()),
        _ => {
            // A partial line before end of file is output too, not a handshake.
            if !line.is_empty() {
                tail.push(line.trim_end().to_owned());
            }
            FirstLine::Eof
        }
    };
    let at_eof = matches!(first, FirstLine::Eof);
    // The host may have given up waiting; then nobody needs the line.
    let _ = first_line.send(first);
    if at_eof {
        tail.close_stream();
        return;
    }
    read_lines(reader, tail);
}

fn read_lines(stream: impl Read, tail: &SharedTail) {
    for line in BufReader::new(stream).lines() {
        match line {
            Ok(line) => tail.push(line),
            Err(_) => break,
        }
    }
    tail.close_stream();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_cut_into_lines() {
        let mut lines = Vec::new();
        let mut chunks = ChunkLines::default();
        for chunk in [&b"first li"[..], b"ne\r\nsecond\nthi", b"rd \xff"] {
            chunks.push(chunk, |line| lines.push(line));
        }
        assert_eq!(lines, vec!["first line", "second"]);
        chunks.finish(|line| lines.push(line));
        assert_eq!(lines, vec!["first line", "second", "third \u{fffd}"]);
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let tail = SharedTail::new(2);
        for line in ["one", "two", "three"] {
            tail.push(line.to_owned());
        }
        assert_eq!(tail.snapshot().lines, vec!["two", "three"]);
        assert_eq!(
            tail.snapshot().to_string(),
            "the plugin's stderr ended with:\n  two\n  three"
        );
        assert_eq!(
            OutputTail::default().to_string(),
            "the plugin wrote nothing to stderr"
        );
    }
}
