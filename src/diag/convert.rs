//! Every conversion of a library error into a [`Diagnostic`]: state store errors, lock
//! refusals, provider diagnostics, Kustomize and function errors. Commands and the engine call these instead of writing
//! their own wording, so the same failure reads the same everywhere.

use std::sync::Arc;

use braid_functions::FunctionError;
use braid_kustomize::KustomizeError;
use braid_provider::ProviderDiagnostic;
use braid_state::{LockInfo, StateError};

use super::{Diagnostic, Diagnostics, Location, SourceText};

/// The source of an error and its causes, joined: "no such file (os error 2)".
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut parts = Vec::new();
    let mut current = error.source();
    while let Some(e) = current {
        parts.push(e.to_string());
        current = e.source();
    }
    if parts.is_empty() {
        error.to_string()
    } else {
        parts.join(": ")
    }
}

/// An error's message followed by each cause it does not already quote: "GET …: error
/// sending request: connection refused".
pub fn error_with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// A state store error met while reading or writing state.
pub fn state_error(e: StateError) -> Diagnostics {
    state_diagnostic(e).into()
}

/// How to put lost state back, for every diagnostic about it.
const RESTORE_ADVICE: &str = "Put the state back with: braid state restore (the newest snapshot this machine kept; braid state snapshots lists them all), or from a backup of the backend.";

/// [`state_error`] as one diagnostic. A state that was lost or went back in time says what
/// is missing, how to restore it, and which flag accepts it knowingly.
pub fn state_diagnostic(e: StateError) -> Diagnostic {
    match e {
        StateError::SerialRegressed { found, recorded } => Diagnostic::error(
            "State is older than the last one seen",
            format!(
                "The state is at serial {found}, but this machine last saw serial {recorded} of the same state: the writes after serial {found} are missing (an old backup put back, or a write-ahead log lost in a crash). Nothing was changed. {RESTORE_ADVICE} If this older state is the one you want, run again with --accept-older-state."
            ),
        ),
        StateError::StateReplaced { found, recorded } if found.serial == 0 => Diagnostic::error(
            "State is missing",
            format!(
                "The backend holds no state for this environment, but this machine last saw serial {} of its state (lineage {}): the state was lost (a deleted file, table or object, or state settings pointing elsewhere). Nothing was created. {RESTORE_ADVICE} To start a new, empty state knowingly (braid then no longer knows the objects it made here), run again with --new-state.",
                recorded.serial, recorded.lineage
            ),
        ),
        StateError::StateReplaced { found, recorded } => Diagnostic::error(
            "State was replaced",
            format!(
                "The backend holds another state for this environment (lineage {} at serial {}) than this machine last saw (lineage {} at serial {}). Nothing was changed. {RESTORE_ADVICE} If the new state is the right one, run again with --new-state.",
                found.lineage, found.serial, recorded.lineage, recorded.serial
            ),
        ),
        StateError::Lost(what) => Diagnostic::error(
            "State was lost",
            format!(
                "{what}. Nothing was changed. {RESTORE_ADVICE} To start a new, empty state knowingly, move the state aside and run again with --new-state."
            ),
        ),
        StateError::Encryption(what) => Diagnostic::error(
            "Cannot decrypt state",
            format!(
                "{what}. Nothing was written. The age identities come from BRAID_AGE_IDENTITY_FILE, SOPS_AGE_KEY_FILE or SOPS_AGE_KEY; a KMS key needs AWS credentials allowed to use it (docs/secrets.md)."
            ),
        ),
        e => Diagnostic::error("State error", format!("{e}: {}.", error_chain(&e))),
    }
}

/// A state store that could not be opened; `hint` says what to check for this backend.
pub fn cannot_open_state(e: &StateError, hint: &str) -> Diagnostic {
    Diagnostic::error(
        "Cannot open state",
        match std::error::Error::source(e) {
            Some(_) => format!("{e}: {}. {hint}", error_chain(e)),
            None => format!("{e}. {hint}"),
        },
    )
}

/// A result that could not be written to state during an apply.
pub fn cannot_write_state(why: &str) -> Diagnostic {
    Diagnostic::error(
        "Cannot write state",
        format!(
            "{why}. The change was made but could not be recorded, so nothing that depends on it was started; the next plan will find the object by refresh."
        ),
    )
}

/// The environment's lock could not be taken.
pub fn lock_error(e: StateError) -> Diagnostics {
    match e {
        StateError::Locked(holder) => Diagnostic::error(
            "State is locked",
            format!(
                "Another operation holds the lock of this environment: {}. Wait for it to finish (--lock-timeout waits for it). If it died, remove the lock with: braid force-unlock {}",
                holder_text(&holder),
                holder.id
            ),
        )
        .into(),
        StateError::LockStale(holder) => Diagnostic::error(
            "State lock is stale",
            format!(
                "The lock of this environment is held by {}, but its heartbeat stopped at {}: that operation probably died. Check that it is not running, then take the lock over with --steal-stale-lock, or remove it with: braid force-unlock {}",
                holder_text(&holder),
                holder.heartbeat_at.format("%Y-%m-%d %H:%M:%S UTC"),
                holder.id
            ),
        )
        .into(),
        other => state_error(other),
    }
}

/// "apply by Ada on host (pid 42) since 2026-01-01 10:00:00 UTC (https://ci/job)".
fn holder_text(holder: &LockInfo) -> String {
    format!(
        "{} by {} on {} (pid {}) since {}{}",
        holder.operation,
        holder.actor,
        holder.host,
        holder.pid,
        holder.acquired_at.format("%Y-%m-%d %H:%M:%S UTC"),
        holder
            .ci_url
            .as_ref()
            .map(|u| format!(" ({u})"))
            .unwrap_or_default(),
    )
}

/// The warning shown when a stale lock was taken over; `died_here` when its holder was a
/// process on this machine that no longer runs, rather than one silent past its lease.
pub fn stolen_lock_warning(old: &LockInfo, died_here: bool) -> Diagnostic {
    if died_here {
        return Diagnostic::warning(
            "Stale lock taken over",
            format!(
                "The lock {} held by {} ({}) since {} belonged to process {} on this machine, which no longer runs; it was taken over.",
                old.id,
                old.actor,
                old.operation,
                old.acquired_at.format("%Y-%m-%d %H:%M:%S UTC"),
                old.pid,
            ),
        );
    }
    Diagnostic::warning(
        "Stale lock taken over",
        format!(
            "The lock {} held by {} ({}) since {} had no heartbeat since {}; it was taken over.",
            old.id,
            old.actor,
            old.operation,
            old.acquired_at.format("%Y-%m-%d %H:%M:%S UTC"),
            old.heartbeat_at.format("%Y-%m-%d %H:%M:%S UTC"),
        ),
    )
}

/// The lock could not be released after the work under it finished.
pub fn cannot_unlock(e: &StateError, lock_id: &str) -> Diagnostic {
    Diagnostic::error(
        "Cannot release state lock",
        format!(
            "The operation finished, but its lock could not be released: {e}. Release it with: braid force-unlock {lock_id}"
        ),
    )
}

/// `state push` and `state migrate` refusals, with what to do about them.
pub fn transfer_error(e: StateError) -> Diagnostics {
    match e {
        StateError::LineageMismatch { expected, found } => Diagnostic::error(
            "State lineage differs",
            format!(
                "The dump has lineage {found}, but this environment's state has lineage {expected}: it comes from another state. Pass --force only if you mean to replace this state by it."
            ),
        )
        .into(),
        StateError::Refused(why) => Diagnostic::error(
            "State not written",
            format!("Refused: {why}. Pass --force to overwrite anyway."),
        )
        .into(),
        other => state_error(other),
    }
}

/// A provider's diagnostic as a user diagnostic about `address`.
pub fn from_provider(
    d: ProviderDiagnostic,
    location: Option<Location>,
    address: &str,
) -> Diagnostic {
    let detail = match &d.attribute {
        Some(path) if !path.is_root() => format!("{} (attribute {path} of {address})", d.detail),
        _ => d.detail.clone(),
    };
    let out = if d.is_error() {
        Diagnostic::error(d.summary, detail)
    } else {
        Diagnostic::warning(d.summary, detail)
    };
    out.at_opt(location).for_address(address)
}

/// A Kustomize rendering error of source `source`; `file` is the text of the file it names,
/// when braid read it, so the diagnostic can point at the line.
pub fn from_kustomize(
    e: &KustomizeError,
    file: Option<&Arc<SourceText>>,
    source: &str,
) -> Diagnostic {
    let (name, line) = e.location();
    match file {
        Some(text) => Diagnostic::error(e.summary(), format!("{e}"))
            .at(text.location_at(line.unwrap_or(1), 1)),
        None => Diagnostic::error(e.summary(), format!("{e} (source \"{source}\", {name})")),
    }
}

/// The summary and detail of a failed function call; the caller adds where the call is.
pub fn function_error(e: &FunctionError) -> (&'static str, String) {
    match e {
        FunctionError::Unknown { suggestion, .. } => {
            let hint = suggestion
                .as_ref()
                .map(|s| format!(" Did you mean \"{s}\"?"))
                .unwrap_or_default();
            (
                "Call to unknown function",
                format!(
                    "{e}.{hint} The functions braid knows are listed in docs/configuration.md."
                ),
            )
        }
        _ => ("Invalid function argument", format!("{e}.")),
    }
}
