//! [`ValueMap`]: the entries of a map value, shared between copies until one of them changes.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::Value;

/// The entries of a [`Value::Map`], sorted by key, each key once.
///
/// Two choices keep large plans small and fast:
/// - **Shared copies.** A plan holds the same object several times over — as state recorded
///   it, as refresh read it, before and after the change, in the evaluation scope — so
///   cloning a map is a reference count, and the first change through `&mut` copies it (copy
///   on write). Comparing two copies of one map costs nothing.
/// - **A sorted vector**, not a tree: most maps of configuration and state hold a handful of
///   attributes, which a B-tree node (eleven slots) would hold in four times the memory.
///   Lookups are binary searches; building from an iterator sorts once. Inserting one key
///   at a time into a large map moves the entries after it, so code that builds big maps
///   collects them instead.
#[derive(Clone, Default)]
pub struct ValueMap(Arc<Vec<(String, Value)>>);

/// Iterates over `(key, value)` in key order.
pub type Iter<'a> = std::iter::Map<
    std::slice::Iter<'a, (String, Value)>,
    fn(&'a (String, Value)) -> (&'a String, &'a Value),
>;

/// Iterates over `(key, value)` in key order, values mutable.
pub type IterMut<'a> = std::iter::Map<
    std::slice::IterMut<'a, (String, Value)>,
    fn(&'a mut (String, Value)) -> (&'a String, &'a mut Value),
>;

fn pair(entry: &(String, Value)) -> (&String, &Value) {
    (&entry.0, &entry.1)
}

fn pair_mut(entry: &mut (String, Value)) -> (&String, &mut Value) {
    (&entry.0, &mut entry.1)
}

impl ValueMap {
    /// An empty map.
    pub fn new() -> ValueMap {
        ValueMap::default()
    }

    /// The entries, copied only if another value still shares them.
    pub fn into_inner(self) -> BTreeMap<String, Value> {
        self.into_iter().collect()
    }

    /// True when both hold the very same entries (not only equal ones).
    pub fn shares(&self, other: &ValueMap) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    fn entries_mut(&mut self) -> &mut Vec<(String, Value)> {
        Arc::make_mut(&mut self.0)
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).ok().map(|i| &self.0[i].1)
    }

    /// The key as stored and its value.
    pub fn get_key_value(&self, key: &str) -> Option<(&String, &Value)> {
        self.position(key).ok().map(|i| pair(&self.0[i]))
    }

    /// The value of `key`, to change (copies shared entries first).
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        let i = self.position(key).ok()?;
        Some(&mut self.entries_mut()[i].1)
    }

    /// True when `key` has an entry.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// Sets `key` to `value`; returns the value it replaces.
    pub fn insert(&mut self, key: String, value: Value) -> Option<Value> {
        match self.position(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries_mut()[i].1, value)),
            Err(i) => {
                self.entries_mut().insert(i, (key, value));
                None
            }
        }
    }

    /// Removes `key`; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.position(key).ok()?;
        Some(self.entries_mut().remove(i).1)
    }

    /// Removes `key`; returns the key and its value.
    pub fn remove_entry(&mut self, key: &str) -> Option<(String, Value)> {
        let i = self.position(key).ok()?;
        Some(self.entries_mut().remove(i))
    }

    /// Keeps the entries `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(&String, &mut Value) -> bool) {
        self.entries_mut().retain_mut(|(k, v)| keep(k, v));
    }

    /// The entry of `key`, to fill in or change.
    pub fn entry(&mut self, key: String) -> Entry<'_> {
        match self.position(&key) {
            Ok(index) => Entry::Occupied(OccupiedEntry { map: self, index }),
            Err(index) => Entry::Vacant(VacantEntry {
                map: self,
                index,
                key,
            }),
        }
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_> {
        self.0
            .iter()
            .map(pair as fn(&(String, Value)) -> (&String, &Value))
    }

    /// The entries in key order, values mutable.
    pub fn iter_mut(&mut self) -> IterMut<'_> {
        self.entries_mut()
            .iter_mut()
            .map(pair_mut as fn(&mut (String, Value)) -> (&String, &mut Value))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator + Clone {
        self.0.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator + Clone {
        self.0.iter().map(|(_, v)| v)
    }

    /// The values in key order, mutable.
    pub fn values_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = &mut Value> + ExactSizeIterator {
        self.entries_mut().iter_mut().map(|(_, v)| v)
    }

    /// The keys in order, owned.
    pub fn into_keys(self) -> impl DoubleEndedIterator<Item = String> + ExactSizeIterator {
        self.into_iter().map(|(k, _)| k)
    }

    /// The values in key order, owned.
    pub fn into_values(self) -> impl DoubleEndedIterator<Item = Value> + ExactSizeIterator {
        self.into_iter().map(|(_, v)| v)
    }

    /// The entry with the smallest key.
    pub fn first_key_value(&self) -> Option<(&String, &Value)> {
        self.0.first().map(pair)
    }

    /// The entry with the largest key.
    pub fn last_key_value(&self) -> Option<(&String, &Value)> {
        self.0.last().map(pair)
    }

    /// Sorted by key, the later of equal keys kept (as inserting one by one would).
    fn from_unsorted(mut entries: Vec<(String, Value)>) -> ValueMap {
        if !entries.is_sorted_by(|a, b| a.0 < b.0) {
            // A stable sort keeps equal keys in arrival order; keep the last of each run.
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut out: Vec<(String, Value)> = Vec::with_capacity(entries.len());
            for entry in entries {
                match out.last_mut() {
                    Some(last) if last.0 == entry.0 => *last = entry,
                    _ => out.push(entry),
                }
            }
            entries = out;
        }
        entries.shrink_to_fit();
        ValueMap(Arc::new(entries))
    }
}

/// A place in a [`ValueMap`] for one key, filled or not ([`ValueMap::entry`]).
pub enum Entry<'a> {
    /// The key has a value.
    Occupied(OccupiedEntry<'a>),
    /// The key has none yet.
    Vacant(VacantEntry<'a>),
}

/// An entry that holds a value.
pub struct OccupiedEntry<'a> {
    map: &'a mut ValueMap,
    index: usize,
}

/// An entry with no value yet.
pub struct VacantEntry<'a> {
    map: &'a mut ValueMap,
    index: usize,
    key: String,
}

impl<'a> OccupiedEntry<'a> {
    /// The value.
    pub fn get(&self) -> &Value {
        &self.map.0[self.index].1
    }

    /// The value, to change.
    pub fn get_mut(&mut self) -> &mut Value {
        &mut self.map.entries_mut()[self.index].1
    }

    /// The value, to change, for as long as the map is borrowed.
    pub fn into_mut(self) -> &'a mut Value {
        &mut self.map.entries_mut()[self.index].1
    }

    /// Replaces the value; returns the old one.
    pub fn insert(&mut self, value: Value) -> Value {
        std::mem::replace(self.get_mut(), value)
    }

    /// Removes the entry; returns its value.
    pub fn remove(self) -> Value {
        self.map.entries_mut().remove(self.index).1
    }

    /// The key.
    pub fn key(&self) -> &String {
        &self.map.0[self.index].0
    }
}

impl<'a> VacantEntry<'a> {
    /// Fills the entry; returns the value in place.
    pub fn insert(self, value: Value) -> &'a mut Value {
        let entries = self.map.entries_mut();
        entries.insert(self.index, (self.key, value));
        &mut entries[self.index].1
    }

    /// The key.
    pub fn key(&self) -> &String {
        &self.key
    }
}

impl<'a> Entry<'a> {
    /// The value, set to `default` first if there was none.
    pub fn or_insert(self, default: Value) -> &'a mut Value {
        match self {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(default),
        }
    }

    /// The value, set by `default` first if there was none.
    pub fn or_insert_with(self, default: impl FnOnce() -> Value) -> &'a mut Value {
        match self {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(default()),
        }
    }

    /// The value, null first if there was none.
    pub fn or_default(self) -> &'a mut Value {
        self.or_insert_with(Value::default)
    }

    /// Changes the value if there is one.
    pub fn and_modify(mut self, change: impl FnOnce(&mut Value)) -> Self {
        if let Entry::Occupied(e) = &mut self {
            change(e.get_mut());
        }
        self
    }

    /// The key.
    pub fn key(&self) -> &String {
        match self {
            Entry::Occupied(e) => e.key(),
            Entry::Vacant(e) => e.key(),
        }
    }
}

impl PartialEq for ValueMap {
    fn eq(&self, other: &ValueMap) -> bool {
        self.shares(other) || *self.0 == *other.0
    }
}

impl fmt::Debug for ValueMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl std::ops::Index<&str> for ValueMap {
    type Output = Value;

    fn index(&self, key: &str) -> &Value {
        self.get(key).expect("no entry for the key in the map")
    }
}

impl From<BTreeMap<String, Value>> for ValueMap {
    fn from(entries: BTreeMap<String, Value>) -> ValueMap {
        let entries: Vec<_> = entries.into_iter().collect();
        ValueMap(Arc::new(entries))
    }
}

impl<const N: usize> From<[(String, Value); N]> for ValueMap {
    fn from(entries: [(String, Value); N]) -> ValueMap {
        entries.into_iter().collect()
    }
}

impl From<ValueMap> for BTreeMap<String, Value> {
    fn from(map: ValueMap) -> BTreeMap<String, Value> {
        map.into_inner()
    }
}

impl FromIterator<(String, Value)> for ValueMap {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> ValueMap {
        ValueMap::from_unsorted(iter.into_iter().collect())
    }
}

impl Extend<(String, Value)> for ValueMap {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, iter: I) {
        let mut entries = std::mem::take(self).into_entries();
        entries.extend(iter);
        *self = ValueMap::from_unsorted(entries);
    }
}

impl ValueMap {
    fn into_entries(self) -> Vec<(String, Value)> {
        Arc::unwrap_or_clone(self.0)
    }
}

impl IntoIterator for ValueMap {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.into_entries().into_iter()
    }
}

impl<'a> IntoIterator for &'a ValueMap {
    type Item = (&'a String, &'a Value);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut ValueMap {
    type Item = (&'a String, &'a mut Value);
    type IntoIter = IterMut<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: &[(&str, i64)]) -> ValueMap {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from_i64(*v)))
            .collect()
    }

    #[test]
    fn copies_share_until_one_changes() {
        let a = map(&[("k", 1)]);
        let mut b = a.clone();
        assert!(a.shares(&b));
        assert_eq!(a, b);
        b.insert("k".to_string(), Value::from_i64(2));
        assert!(!a.shares(&b));
        assert_eq!(a.get("k"), Some(&Value::from_i64(1)));
        assert_eq!(b.get("k"), Some(&Value::from_i64(2)));
        assert_ne!(a, b);
        let c: ValueMap = a.clone().into_inner().into();
        assert!(!a.shares(&c));
        assert_eq!(a, c);
    }

    #[test]
    fn behaves_as_a_sorted_map_with_the_last_duplicate_kept() {
        let mut m = map(&[("b", 1), ("a", 2), ("c", 3), ("a", 4)]);
        assert_eq!(
            m.keys().map(String::as_str).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        assert_eq!(m.get("a"), Some(&Value::from_i64(4)));
        assert_eq!(m.insert("ab".to_string(), Value::Null), None);
        assert_eq!(
            m.insert("b".to_string(), Value::Null),
            Some(Value::from_i64(1))
        );
        assert_eq!(m.remove("c"), Some(Value::from_i64(3)));
        assert_eq!(m.remove("zz"), None);
        *m.entry("d".to_string()).or_default() = Value::from_i64(5);
        m.entry("a".to_string())
            .and_modify(|v| *v = Value::from_i64(6))
            .or_insert(Value::Null);
        m.extend([
            ("0".to_string(), Value::Null),
            ("d".to_string(), Value::from_i64(7)),
        ]);
        let expected: BTreeMap<String, Value> = [
            ("0", Value::Null),
            ("a", Value::from_i64(6)),
            ("ab", Value::Null),
            ("b", Value::Null),
            ("d", Value::from_i64(7)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(m.clone().into_inner(), expected);
        assert_eq!(m.len(), 5);
        m.retain(|k, _| k != "ab");
        assert!(!m.contains_key("ab"));
        assert_eq!(
            format!("{:?}", map(&[("x", 1)])),
            format!(
                "{:?}",
                BTreeMap::from([("x".to_string(), Value::from_i64(1))])
            )
        );
    }
}
