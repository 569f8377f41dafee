//! [`ValueMap`]: the entries of a map value, shared between copies until one of them changes.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::Value;

/// The entries of a [`Value::Map`], sorted by key.
///
/// A plan holds the same object several times over — as state recorded it, as refresh read
/// it, before and after the change, in the evaluation scope — so copying a value shares its
/// maps instead of copying them: cloning is a reference count, and the first change through
/// `&mut` copies the entries it is about to change (copy on write). It reads and writes as a
/// `BTreeMap<String, Value>` through `Deref`/`DerefMut`.
#[derive(Clone, Default)]
pub struct ValueMap(Arc<BTreeMap<String, Value>>);

impl ValueMap {
    /// An empty map.
    pub fn new() -> ValueMap {
        ValueMap::default()
    }

    /// The entries, copied only if another value still shares them.
    pub fn into_inner(self) -> BTreeMap<String, Value> {
        Arc::unwrap_or_clone(self.0)
    }

    /// True when both hold the very same entries (not only equal ones): comparing them then
    /// costs nothing.
    pub fn shares(&self, other: &ValueMap) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Deref for ValueMap {
    type Target = BTreeMap<String, Value>;

    fn deref(&self) -> &BTreeMap<String, Value> {
        &self.0
    }
}

impl DerefMut for ValueMap {
    fn deref_mut(&mut self) -> &mut BTreeMap<String, Value> {
        Arc::make_mut(&mut self.0)
    }
}

impl PartialEq for ValueMap {
    fn eq(&self, other: &ValueMap) -> bool {
        self.shares(other) || *self.0 == *other.0
    }
}

impl fmt::Debug for ValueMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<BTreeMap<String, Value>> for ValueMap {
    fn from(entries: BTreeMap<String, Value>) -> ValueMap {
        ValueMap(Arc::new(entries))
    }
}

impl From<ValueMap> for BTreeMap<String, Value> {
    fn from(map: ValueMap) -> BTreeMap<String, Value> {
        map.into_inner()
    }
}

impl FromIterator<(String, Value)> for ValueMap {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> ValueMap {
        ValueMap(Arc::new(iter.into_iter().collect()))
    }
}

impl Extend<(String, Value)> for ValueMap {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, iter: I) {
        Arc::make_mut(&mut self.0).extend(iter);
    }
}

impl IntoIterator for ValueMap {
    type Item = (String, Value);
    type IntoIter = std::collections::btree_map::IntoIter<String, Value>;

    fn into_iter(self) -> Self::IntoIter {
        self.into_inner().into_iter()
    }
}

impl<'a> IntoIterator for &'a ValueMap {
    type Item = (&'a String, &'a Value);
    type IntoIter = std::collections::btree_map::Iter<'a, String, Value>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'a> IntoIterator for &'a mut ValueMap {
    type Item = (&'a String, &'a mut Value);
    type IntoIter = std::collections::btree_map::IterMut<'a, String, Value>;

    fn into_iter(self) -> Self::IntoIter {
        Arc::make_mut(&mut self.0).iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_share_until_one_changes() {
        let a: ValueMap = [("k".to_string(), Value::from("v"))].into_iter().collect();
        let mut b = a.clone();
        assert!(a.shares(&b));
        assert_eq!(a, b);
        b.insert("k".to_string(), Value::from("w"));
        assert!(!a.shares(&b));
        assert_eq!(a.get("k"), Some(&Value::from("v")));
        assert_eq!(b.get("k"), Some(&Value::from("w")));
        assert_ne!(a, b);
        let c: ValueMap = a.clone().into_inner().into();
        assert!(!a.shares(&c));
        assert_eq!(a, c);
    }
}
