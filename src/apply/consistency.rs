//! Checks that what happens at apply matches what was reviewed: the re-planned value
//! against the plan, and the provider's result against its own plan.

use braid_provider::{Path, PathStep, Value};

/// Paths where `actual` differs from a known, non-sensitive value of `expected`.
/// Unknown parts of `expected` may become anything.
pub fn mismatches(expected: &Value, actual: &Value, sensitive: &[Path]) -> Vec<Path> {
    let mut out = Vec::new();
    compare(expected, actual, &mut Path::root(), sensitive, &mut out);
    out
}

fn compare(
    expected: &Value,
    actual: &Value,
    at: &mut Path,
    sensitive: &[Path],
    out: &mut Vec<Path>,
) {
    if expected.is_unknown() || sensitive.iter().any(|s| at.starts_with(s)) {
        return;
    }
    match (expected, actual) {
        (Value::Map(e), Value::Map(a)) => {
            for key in e.keys().chain(a.keys().filter(|k| !e.contains_key(k))) {
                let null = Value::Null;
                at.0.push(PathStep::Key(key.clone()));
                compare(
                    e.get(key).unwrap_or(&null),
                    a.get(key).unwrap_or(&null),
                    at,
                    sensitive,
                    out,
                );
                at.0.pop();
            }
        }
        (Value::List(e), Value::List(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                at.0.push(PathStep::Index(i));
                compare(ev, av, at, sensitive, out);
                at.0.pop();
            }
        }
        (e, a) if e == a => {}
        (Value::Number(e), Value::Number(a)) if e.cmp_value(a).is_eq() => {}
        _ => out.push(at.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_sensitive_paths_are_free() {
        let expected = Value::map([
            ("a", Value::from("x")),
            ("id", Value::Unknown),
            ("secret", Value::from("(sensitive)")),
        ]);
        let actual = Value::map([
            ("a", Value::from("x")),
            ("id", Value::from("123")),
            ("secret", Value::from("hunter2")),
        ]);
        assert!(mismatches(&expected, &actual, &[Path::key("secret")]).is_empty());
        let changed = Value::map([
            ("a", Value::from("y")),
            ("id", Value::from("1")),
            ("secret", Value::from("z")),
        ]);
        assert_eq!(
            mismatches(&expected, &changed, &[Path::key("secret")]),
            vec![Path::key("a")]
        );
    }
}
