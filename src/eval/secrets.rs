//! Strings that make a value sensitive wherever they show up: the safety net for values a
//! provider derives from sensitive configuration, and the values of SOPS files inside
//! Kubernetes objects.

use braid_provider::{Path, Value};

/// Shortest sensitive string that marks other strings merely containing it; shorter ones
/// mark only equal strings.
const CONTAINS_MIN_LEN: usize = 6;

/// Adds to `paths` (kept sorted, without duplicates) every path of `value` whose string
/// holds one of `secrets`, unless an entry of `paths` already covers it.
pub fn mark_derived(value: &Value, secrets: &[&str], paths: &mut Vec<Path>) {
    if secrets.is_empty() {
        return;
    }
    let mut found = Vec::new();
    walk(value, &mut Path::root(), secrets, paths, &mut found);
    for path in found {
        if !paths.iter().any(|p| path.starts_with(p)) {
            paths.push(path);
        }
    }
    paths.sort();
    paths.dedup();
}

fn walk(value: &Value, at: &mut Path, secrets: &[&str], known: &[Path], found: &mut Vec<Path>) {
    if known.iter().any(|p| at.starts_with(p)) {
        return;
    }
    match value {
        Value::String(s) if holds_secret(s, secrets) => found.push(at.clone()),
        Value::List(items) => {
            for (i, item) in items.iter().enumerate() {
                at.0.push(braid_provider::PathStep::Index(i));
                walk(item, at, secrets, known, found);
                at.0.pop();
            }
        }
        Value::Map(map) => {
            for (key, item) in map {
                at.0.push(braid_provider::PathStep::Key(key.clone()));
                walk(item, at, secrets, known, found);
                at.0.pop();
            }
        }
        _ => {}
    }
}

fn holds_secret(text: &str, secrets: &[&str]) -> bool {
    secrets
        .iter()
        .any(|s| text == *s || (s.len() >= CONTAINS_MIN_LEN && text.contains(s)))
}
