//! Text encodings every backend shares: timestamps as RFC 3339, structured columns as JSON.
//! Text keeps nanoseconds and key order exactly, so a state copied between backends reads
//! back identical.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::store::StateError;

/// RFC 3339 in UTC with as many fractional digits as needed, so a timestamp reads back equal
/// to what was written.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

pub(crate) fn parse_timestamp(text: &str, what: &str) -> Result<DateTime<Utc>, StateError> {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|err| {
            StateError::Corrupt(format!("{what} is not an RFC 3339 time ({text:?}): {err}"))
        })
}

/// Encodes a value as JSON. Our model types always serialize, but the error path is kept
/// rather than asserted because `Value` holds arbitrary provider data.
pub(crate) fn to_json<T: Serialize>(
    value: &T,
    operation: &'static str,
) -> Result<String, StateError> {
    serde_json::to_string(value).map_err(|source| StateError::Backend {
        operation,
        source: Box::new(source),
    })
}

pub(crate) fn from_json<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, StateError> {
    serde_json::from_str(text).map_err(|err| StateError::Corrupt(format!("{what}: {err}")))
}

/// Serials are `u64` in the model and signed 64-bit integers in SQL.
pub(crate) fn serial_from_sql(serial: i64) -> Result<u64, StateError> {
    u64::try_from(serial).map_err(|_| StateError::Corrupt(format!("serial {serial} is negative")))
}

pub(crate) fn serial_to_sql(serial: u64) -> Result<i64, StateError> {
    i64::try_from(serial)
        .map_err(|_| StateError::Corrupt(format!("serial {serial} does not fit in the database")))
}

/// The compare-and-swap check of every write: the store must still be at the serial the
/// writer last saw.
pub(crate) fn check_serial(expected: u64, found: u64) -> Result<(), StateError> {
    if found == expected {
        Ok(())
    } else {
        Err(StateError::SerialMismatch { expected, found })
    }
}
