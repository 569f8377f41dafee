//! The lock flags every writing command shares: `--lock-timeout` and `--steal-stale-lock`,
//! plus `BRAID_LOCK_LEASE` for the lease after which a silent holder counts as dead.

use std::future::Future;

use braid_state::{LockPolicy, StateStore};

use super::{Context, GlobalArgs};
use crate::apply::{LockObserver, LockSettings, with_lock};
use crate::config::parse_duration;
use crate::diag::{Diagnostic, Diagnostics, stolen_lock_warning};
use crate::view::Shell;

impl GlobalArgs {
    /// How this command waits for the environment's lock.
    pub fn lock_policy(&self) -> Result<LockPolicy, Diagnostics> {
        let mut policy = LockPolicy {
            timeout: parse_duration(&self.lock_timeout).ok_or_else(|| {
                Diagnostic::error(
                    "Invalid --lock-timeout",
                    format!(
                        "--lock-timeout takes a duration like 0, 30s, 5m or 1h, but got \"{}\".",
                        self.lock_timeout
                    ),
                )
            })?,
            steal_stale: self.steal_stale_lock,
            ..LockPolicy::default()
        };
        if let Ok(lease) = std::env::var("BRAID_LOCK_LEASE") {
            policy.lease = parse_duration(&lease)
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    Diagnostic::error(
                        "Invalid BRAID_LOCK_LEASE",
                        format!(
                            "BRAID_LOCK_LEASE takes a duration like 2m or 90s, but is \"{lease}\"."
                        ),
                    )
                })?;
        }
        Ok(policy)
    }
}

/// Runs `work` holding the environment's lock, with this command's lock flags (a write
/// such as `state rm` or `state push`); a stolen lock is reported on stderr.
pub async fn locked<T>(
    cx: &Context,
    store: &dyn StateStore,
    operation: &str,
    work: impl Future<Output = Result<T, Diagnostics>>,
) -> Result<T, Diagnostics> {
    let settings = LockSettings::new(cx.global.lock_policy()?);
    cx.stop_gracefully();
    let request = crate::actor::lock_request(operation, &cx.global.dir);
    with_lock(store, request, &settings, &ShellLocks(&cx.shell), work).await
}

/// Lock events shown as warnings on stderr.
pub struct ShellLocks<'a>(pub &'a Shell);

impl LockObserver for ShellLocks<'_> {
    fn lock_taken_over(&self, old: &braid_state::LockInfo) {
        self.0
            .diagnostics(&stolen_lock_warning(old, crate::actor::holder_died_here(old)).into());
    }

    fn heartbeat_failed(&self, error: &str) {
        self.0.diagnostics(
            &Diagnostic::warning(
                "Lock heartbeat failed",
                format!("Renewing the state lock failed ({error}); braid keeps trying."),
            )
            .into(),
        );
    }
}
