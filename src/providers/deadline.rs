//! Every provider call has a deadline, so an API that accepts connections and never answers
//! cannot hang braid: the call fails with a diagnostic naming the provider, the step and the
//! resource. `BRAID_PROVIDER_TIMEOUT` (`30s`, `5m`) sets one limit for every call.

use std::future::Future;
use std::time::Duration;

use crate::diag::Diagnostic;

/// The kinds of provider call, each with its default deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `configure`: 2 minutes.
    Configure,
    /// `read` (refresh): 5 minutes.
    Read,
    /// `plan`: 5 minutes.
    Plan,
    /// `apply`, `import`: 60 minutes (some cloud objects take long to create).
    Apply,
}

impl Call {
    fn name(self) -> &'static str {
        match self {
            Call::Configure => "configuration",
            Call::Read => "read",
            Call::Plan => "plan",
            Call::Apply => "apply",
        }
    }

    /// The deadline of this kind of call: `BRAID_PROVIDER_TIMEOUT` when set to a valid
    /// non-zero duration, else the default.
    pub fn deadline(self) -> Duration {
        if let Some(limit) = std::env::var("BRAID_PROVIDER_TIMEOUT")
            .ok()
            .and_then(|v| crate::config::parse_duration(&v))
            .filter(|d| !d.is_zero())
        {
            return limit;
        }
        Duration::from_secs(match self {
            Call::Configure => 120,
            Call::Read | Call::Plan => 300,
            Call::Apply => 3600,
        })
    }
}

/// Runs one provider call under its deadline.
pub async fn bounded<T>(
    call: Call,
    provider: &str,
    address: &str,
    work: impl Future<Output = T>,
) -> Result<T, Diagnostic> {
    let deadline = call.deadline();
    match tokio::time::timeout(deadline, work).await {
        Ok(value) => Ok(value),
        Err(_) => {
            tracing::warn!(
                provider,
                address,
                call = call.name(),
                "provider call timed out"
            );
            let after = match call {
                Call::Apply => {
                    " The change may or may not have been made; the next plan reads the object and shows what is left."
                }
                _ => "",
            };
            Err(Diagnostic::error(
                "Provider call timed out",
                format!(
                    "The {provider} provider did not finish the {} of {address} within {}.{after} Check that its API endpoint is reachable from here (a wrong endpoint or a firewall that drops packets makes connections hang); BRAID_PROVIDER_TIMEOUT sets the limit.",
                    call.name(),
                    humanize(deadline)
                ),
            )
            .for_address(address))
        }
    }
}

fn humanize(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        format!("{} ms", d.as_millis())
    } else if secs.is_multiple_of(60) {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} s")
    }
}
