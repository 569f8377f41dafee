//! Starting helper processes: free ports, waiting for a listener, and a watchdog that stops
//! a server when the test binary exits, however it ends.

use std::net::{TcpListener, TcpStream};
use std::process::{ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// A port nothing listens on right now.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("bind an ephemeral port on 127.0.0.1")
}

/// Waits until something accepts connections on `port`; `still_starting` is asked between
/// attempts and returns why to give up (the server process exited).
pub(crate) fn wait_for_port(
    port: u16,
    timeout: Duration,
    mut still_starting: impl FnMut() -> Result<(), String>,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        still_starting()?;
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("nothing listens on port {port} after {timeout:?}"))
}

/// Runs `script` in `sh` with a pipe on stdin. The script's `read _` returns when the pipe
/// closes — when the returned handle is dropped or this process exits — and what follows
/// cleans up. Servers kept in a `static` are never dropped; this is what stops them.
#[expect(
    clippy::zombie_processes,
    reason = "the watchdog must outlive its handle: it cleans up after this process exits"
)]
pub(crate) fn watchdog(script: &str, args: &[&str]) -> ChildStdin {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("watchdog")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start sh for a server's watchdog");
    child
        .stdin
        .take()
        .expect("the watchdog's stdin is piped because it was spawned with Stdio::piped")
}
