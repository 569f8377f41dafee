//! Moving a whole state between stores: `braid state push` (a JSON dump into a store) and
//! `braid state migrate` (one backend to another, verified).

use crate::model::StateDump;
use crate::store::{StateError, StateStore};

/// True when the store holds nothing yet: no write, no resource, no apply.
pub async fn is_empty(store: &dyn StateStore) -> Result<bool, StateError> {
    Ok(store.meta().await?.serial == 0
        && store.resources().await?.is_empty()
        && store.applies(1).await?.is_empty())
}

/// Writes `dump` into `store` the way `braid state push` does. Unless `force`, an empty
/// store takes any dump; otherwise the lineage must match and the dump's serial must be
/// newer than the store's, so an old copy cannot overwrite newer state.
pub async fn push(store: &dyn StateStore, dump: &StateDump, force: bool) -> Result<(), StateError> {
    check_format(dump)?;
    let meta = store.meta().await?;
    if !force && !is_empty(store).await? {
        if meta.lineage != dump.lineage {
            return Err(StateError::LineageMismatch {
                expected: meta.lineage,
                found: dump.lineage.clone(),
            });
        }
        if dump.serial <= meta.serial {
            return Err(StateError::Refused(format!(
                "the pushed state has serial {}, but the store is at serial {}: it is not newer",
                dump.serial, meta.serial
            )));
        }
    }
    store.replace_state(meta.serial, dump).await
}

/// Copies everything from `from` to `to` and reads it back to check the copy is identical.
/// The destination must be empty unless `force`.
pub async fn migrate(
    from: &dyn StateStore,
    to: &dyn StateStore,
    force: bool,
) -> Result<StateDump, StateError> {
    let dump = from.export().await?;
    if !force && !is_empty(to).await? {
        return Err(StateError::Refused(format!(
            "the destination {} already holds state (serial {}); migrate only into an empty store, or pass --force to overwrite it",
            to.location(),
            to.meta().await?.serial
        )));
    }
    let serial = to.meta().await?.serial;
    to.replace_state(serial, &dump).await?;
    let copy = to.export().await?;
    if copy != dump {
        return Err(StateError::Corrupt(format!(
            "the copy in {} differs from the original after migration",
            to.location()
        )));
    }
    Ok(dump)
}

fn check_format(dump: &StateDump) -> Result<(), StateError> {
    if dump.format_version > StateDump::FORMAT_VERSION {
        return Err(StateError::Refused(format!(
            "the dump has format version {}, this braid reads up to {}",
            dump.format_version,
            StateDump::FORMAT_VERSION
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(format_version: u32) -> StateDump {
        StateDump {
            format_version,
            lineage: "l".into(),
            serial: 1,
            resources: Vec::new(),
            applies: Vec::new(),
            outputs: Vec::new(),
        }
    }

    /// Dumps of this format or older read; a newer one is refused.
    #[test]
    fn a_dump_of_a_newer_format_is_refused() {
        assert!(check_format(&dump(StateDump::FORMAT_VERSION)).is_ok());
        assert!(check_format(&dump(0)).is_ok());
        match check_format(&dump(StateDump::FORMAT_VERSION + 1)) {
            Err(StateError::Refused(message)) => assert!(message.contains("reads up to")),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}
