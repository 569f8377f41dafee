//! Documents kept beside an environment's state: small named values that are not part of
//! the state itself — the agent's leases and the plans reviewed on pull requests — written
//! with compare-and-swap on an opaque version.
//!
//! Documents are not resources: they do not move the serial, are not in the audit log, and
//! are not carried by `export`, `push` or `migrate` (each is meaningful only for a while).

use crate::store::StateError;

/// The longest document name.
pub const MAX_DOCUMENT_NAME: usize = 200;

/// A document as read from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// Its name: `agent/lease`, `reviewed/<commit>`… (see [`check_document_name`]).
    pub name: String,
    /// What it holds.
    pub body: Vec<u8>,
    /// An opaque version, new at every write: what a compare-and-swap write or delete
    /// passes back ([`Precondition::Version`]). On S3 it is the object's ETag, which is
    /// the same for the same bytes: a document whose versions must differ has to change.
    pub version: String,
}

/// What a document write or delete expects of the document it replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition<'a> {
    /// Whatever is there, or nothing.
    Any,
    /// There must be no document of that name.
    Absent,
    /// The document must still be at this version.
    Version(&'a str),
}

/// Refuses names that are empty, longer than [`MAX_DOCUMENT_NAME`], or hold anything but
/// ASCII letters, digits and `-_.:/` — every backend keeps the same names (S3 keys, SQL
/// rows), and `..` or a leading `/` must not walk out of the environment's prefix.
pub fn check_document_name(name: &str) -> Result<(), StateError> {
    let bad = |why: &str| Err(StateError::Refused(format!("document name {name:?} {why}")));
    if name.is_empty() {
        return bad("is empty");
    }
    if name.len() > MAX_DOCUMENT_NAME {
        return bad(&format!("is longer than {MAX_DOCUMENT_NAME} characters"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.:/".contains(*c)))
    {
        return bad(&format!(
            "holds {c:?}; only letters, digits and - _ . : / are allowed"
        ));
    }
    if name.starts_with('/')
        || name.ends_with('/')
        || name
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return bad("has an empty, \".\" or \"..\" part");
    }
    Ok(())
}

/// A fresh version for a write (SQL backends; S3 uses the ETag).
pub(crate) fn new_version() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The error of a write or delete whose precondition did not hold.
pub(crate) fn changed(name: &str) -> StateError {
    StateError::DocumentChanged(name.to_string())
}

/// Whether a document at `current` (its version, `None` when missing) satisfies
/// `precondition`.
pub(crate) fn holds(precondition: Precondition<'_>, current: Option<&str>) -> bool {
    match precondition {
        Precondition::Any => true,
        Precondition::Absent => current.is_none(),
        Precondition::Version(v) => current == Some(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for good in [
            "agent/lease",
            "reviewed/abc123.plan",
            "agent/members/host-1:42",
        ] {
            assert!(check_document_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "/x",
            "x/",
            "a//b",
            "../x",
            "a/./b",
            "a b",
            "ä",
            &"x".repeat(201),
        ] {
            assert!(
                matches!(check_document_name(bad), Err(StateError::Refused(_))),
                "{bad:?} must be refused"
            );
        }
    }

    #[test]
    fn preconditions() {
        assert!(holds(Precondition::Any, None));
        assert!(holds(Precondition::Any, Some("1")));
        assert!(holds(Precondition::Absent, None));
        assert!(!holds(Precondition::Absent, Some("1")));
        assert!(holds(Precondition::Version("1"), Some("1")));
        assert!(!holds(Precondition::Version("1"), Some("2")));
        assert!(!holds(Precondition::Version("1"), None));
    }
}
