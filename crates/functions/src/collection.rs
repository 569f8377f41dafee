//! Collection functions over lists and maps: `length`, `concat`, `merge`, `lookup`, `element`,
//! `flatten`, `range`, `coalesce`, `slice`, `alltrue`, ...

use std::collections::BTreeMap;

use braid_provider::{TfNumber, Value};
use unicode_segmentation::UnicodeSegmentation as _;

use super::{
    Call, FunctionError, coerce_bool, distinct_values, expected, primitive_string, values_equal,
};

pub(super) fn length(c: &Call<'_>) -> Result<Value, FunctionError> {
    let n = match &c.args[0] {
        // Terraform counts grapheme clusters: "é" written with a combining accent is one.
        Value::String(s) => s.graphemes(true).count(),
        Value::List(items) => items.len(),
        Value::Map(entries) => entries.len(),
        other => {
            return Err(c.arg_error(0, expected("string, list or object", other)));
        }
    };
    Ok(Value::from_i64(i64::try_from(n).unwrap_or(i64::MAX)))
}

pub(super) fn concat(c: &Call<'_>) -> Result<Value, FunctionError> {
    let mut out = Vec::new();
    for i in 0..c.args.len() {
        out.extend_from_slice(c.list(i)?);
    }
    Ok(Value::List(out))
}

pub(super) fn merge(c: &Call<'_>) -> Result<Value, FunctionError> {
    let mut out = BTreeMap::new();
    for (i, arg) in c.args.iter().enumerate() {
        if arg.is_null() {
            continue;
        }
        out.extend(c.map(i)?.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    Ok(Value::Map(out.into()))
}

pub(super) fn lookup(c: &Call<'_>) -> Result<Value, FunctionError> {
    let map = c.map(0)?;
    let key = c.string(1)?;
    match (map.get(&key), c.args.get(2)) {
        (Some(found), _) => Ok(found.clone()),
        (None, Some(default)) => Ok(default.clone()),
        (None, None) => Err(c.failed(format!(
            "lookup failed to find key {key:?}; pass a default as the third argument \
             if the key may be missing"
        ))),
    }
}

pub(super) fn keys(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::List(
        c.map(0)?.keys().map(|k| Value::String(k.clone())).collect(),
    ))
}

pub(super) fn values(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::List(c.map(0)?.values().cloned().collect()))
}

/// `contains(list, value)`: the value is not converted to the elements' type, as in
/// Terraform (`contains(["1"], 1)` is false).
pub(super) fn contains(c: &Call<'_>) -> Result<Value, FunctionError> {
    let needle = &c.args[1];
    Ok(Value::Bool(
        c.list(0)?.iter().any(|item| values_equal(item, needle)),
    ))
}

pub(super) fn element(c: &Call<'_>) -> Result<Value, FunctionError> {
    let items = c.list(0)?;
    let index = c.integer(1)?;
    let index = usize::try_from(index)
        .map_err(|_| c.failed("cannot use element function with a negative index"))?;
    if items.is_empty() {
        return Err(c.failed("cannot use element function with an empty list"));
    }
    // Terraform's element wraps around instead of failing past the end.
    Ok(items[index % items.len()].clone())
}

pub(super) fn index(c: &Call<'_>) -> Result<Value, FunctionError> {
    let needle = &c.args[1];
    c.list(0)?
        .iter()
        .position(|item| values_equal(item, needle))
        .map(|at| Value::from_i64(i64::try_from(at).unwrap_or(i64::MAX)))
        .ok_or_else(|| c.failed("item not found"))
}

pub(super) fn flatten(c: &Call<'_>) -> Result<Value, FunctionError> {
    fn walk(items: &[Value], out: &mut Vec<Value>) {
        for item in items {
            match item {
                Value::List(inner) => walk(inner, out),
                other => out.push(other.clone()),
            }
        }
    }
    let mut out = Vec::new();
    walk(c.list(0)?, &mut out);
    Ok(Value::List(out))
}

/// `distinct(list)`: the elements get one type first (`[1, "1"]` is `["1"]`), as in Terraform.
pub(super) fn distinct(c: &Call<'_>) -> Result<Value, FunctionError> {
    let items = super::convert::unify(c, 0, c.list(0)?.to_vec())?;
    Ok(Value::List(distinct_values(&items)))
}

pub(super) fn reverse(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::List(c.list(0)?.iter().rev().cloned().collect()))
}

pub(super) fn sort(c: &Call<'_>) -> Result<Value, FunctionError> {
    let mut strings = c
        .list(0)?
        .iter()
        .enumerate()
        .map(|(j, item)| c.element_string(0, j, item))
        .collect::<Result<Vec<_>, _>>()?;
    strings.sort();
    Ok(Value::List(
        strings.into_iter().map(Value::String).collect(),
    ))
}

/// `range`: from `start`, adding `step` (each sum rounded as `+` rounds it) while short of
/// `limit`, at most 1024 values.
pub(super) fn range(c: &Call<'_>) -> Result<Value, FunctionError> {
    let numbers = (0..c.args.len())
        .map(|i| c.number(i))
        .collect::<Result<Vec<_>, _>>()?;
    let one = |negative: bool| {
        let one = TfNumber::from_i64(1);
        if negative { one.neg() } else { one }
    };
    let (start, limit, step) = match &numbers[..] {
        [limit] => (
            TfNumber::from_i64(0),
            limit.clone(),
            one(limit.cmp_value(&TfNumber::zero()).is_lt()),
        ),
        [start, limit] => (
            start.clone(),
            limit.clone(),
            one(limit.cmp_value(start).is_lt()),
        ),
        [start, limit, step] => (start.clone(), limit.clone(), step.clone()),
        _ => return Err(c.failed("must have one, two, or three arguments")),
    };
    let direction = step.cmp_value(&TfNumber::zero());
    if direction.is_eq() {
        return Err(c.arg_error(2, "step must not be zero"));
    }
    if direction.is_lt() && limit.cmp_value(&start).is_gt() {
        return Err(c.arg_error(1, "end must be less than start when step is negative"));
    }
    if direction.is_gt() && limit.cmp_value(&start).is_lt() {
        return Err(c.arg_error(1, "end must be greater than start when step is positive"));
    }
    let mut out = Vec::new();
    let mut n = start;
    loop {
        let past = n.cmp_value(&limit);
        if (direction.is_gt() && past.is_ge()) || (direction.is_lt() && past.is_le()) {
            break;
        }
        if out.len() >= 1024 {
            return Err(c.failed(
                "more than 1024 values were generated; either decrease the difference \
                 between start and end or use a larger step",
            ));
        }
        let next = n.add(&step).map_err(|e| c.failed(e.to_string()))?;
        out.push(Value::Number(n));
        n = next;
    }
    Ok(Value::List(out))
}

pub(super) fn coalesce(c: &Call<'_>) -> Result<Value, FunctionError> {
    for arg in &c.args {
        match arg {
            // An unknown value may turn out to be the first non-empty one.
            Value::Unknown => return Ok(Value::Unknown),
            Value::Null => {}
            Value::String(s) if s.is_empty() => {}
            found => {
                // Terraform unifies the arguments' types first, so a number chosen among
                // strings comes back as a string.
                let among_strings = c.args.iter().any(|a| matches!(a, Value::String(_)));
                return Ok(match primitive_string(found) {
                    Some(text) if among_strings => Value::String(text),
                    _ => found.clone(),
                });
            }
        }
    }
    Err(c.failed("no non-null, non-empty-string arguments"))
}

pub(super) fn coalescelist(c: &Call<'_>) -> Result<Value, FunctionError> {
    for (i, arg) in c.args.iter().enumerate() {
        if arg.is_null() {
            continue;
        }
        if !c.list(i)?.is_empty() {
            return Ok(arg.clone());
        }
    }
    Err(c.failed("no non-null arguments"))
}

pub(super) fn zipmap(c: &Call<'_>) -> Result<Value, FunctionError> {
    let keys = c.list(0)?;
    let values = c.list(1)?;
    if keys.iter().any(Value::is_unknown) {
        return Ok(Value::Unknown);
    }
    if keys.len() != values.len() {
        return Err(c.failed(format!(
            "number of keys ({}) does not match number of values ({})",
            keys.len(),
            values.len()
        )));
    }
    let mut out = BTreeMap::new();
    for (j, (key, value)) in keys.iter().zip(values).enumerate() {
        out.insert(c.element_string(0, j, key)?, value.clone());
    }
    Ok(Value::Map(out.into()))
}

pub(super) fn compact(c: &Call<'_>) -> Result<Value, FunctionError> {
    let mut out = Vec::new();
    for (j, item) in c.list(0)?.iter().enumerate() {
        if item.is_null() {
            continue;
        }
        let text = c.element_string(0, j, item)?;
        if !text.is_empty() {
            out.push(Value::String(text));
        }
    }
    Ok(Value::List(out))
}

pub(super) fn chunklist(c: &Call<'_>) -> Result<Value, FunctionError> {
    let items = c.list(0)?;
    let size = c.integer(1)?;
    let size =
        usize::try_from(size).map_err(|_| c.arg_error(1, "the size argument must be positive"))?;
    if items.is_empty() {
        return Ok(Value::List(Vec::new()));
    }
    // Terraform treats a size of 0 as "one chunk holding everything".
    if size == 0 {
        return Ok(Value::List(vec![Value::List(items.to_vec())]));
    }
    Ok(Value::List(
        items
            .chunks(size)
            .map(|chunk| Value::List(chunk.to_vec()))
            .collect(),
    ))
}

pub(super) fn slice(c: &Call<'_>) -> Result<Value, FunctionError> {
    let items = c.list(0)?;
    let start = c.integer(1)?;
    let end = c.integer(2)?;
    let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
    if start < 0 {
        return Err(c.arg_error(1, "start index must not be less than zero"));
    }
    if start > len {
        return Err(c.arg_error(
            1,
            "start index must not be greater than the length of the list",
        ));
    }
    if end < 0 {
        return Err(c.arg_error(2, "end index must not be less than zero"));
    }
    if end > len {
        return Err(c.arg_error(
            2,
            "end index must not be greater than the length of the list",
        ));
    }
    if start > end {
        return Err(c.arg_error(1, "start index must not be greater than end index"));
    }
    let (start, end) = (
        usize::try_from(start).unwrap_or(0),
        usize::try_from(end).unwrap_or(0),
    );
    Ok(Value::List(items[start..end].to_vec()))
}

pub(super) fn one(c: &Call<'_>) -> Result<Value, FunctionError> {
    match c.list(0)? {
        [] => Ok(Value::Null),
        [only] => Ok(only.clone()),
        more => Err(c.arg_error(
            0,
            format!(
                "must be a list with either zero or one elements, got {}",
                more.len()
            ),
        )),
    }
}

pub(super) fn alltrue(c: &Call<'_>) -> Result<Value, FunctionError> {
    let mut result = Value::Bool(true);
    for (j, item) in c.list(0)?.iter().enumerate() {
        match item {
            // A known false decides the result even when other elements are unknown.
            Value::Unknown => result = Value::Unknown,
            Value::Null => return Ok(Value::Bool(false)),
            other => {
                let b = coerce_bool(other).ok_or_else(|| {
                    c.arg_error(0, format!("element {j}: {}", expected("bool", other)))
                })?;
                if !b {
                    return Ok(Value::Bool(false));
                }
            }
        }
    }
    Ok(result)
}

pub(super) fn anytrue(c: &Call<'_>) -> Result<Value, FunctionError> {
    let mut result = Value::Bool(false);
    for (j, item) in c.list(0)?.iter().enumerate() {
        match item {
            Value::Unknown => result = Value::Unknown,
            Value::Null => {}
            other => {
                let b = coerce_bool(other).ok_or_else(|| {
                    c.arg_error(0, format!("element {j}: {}", expected("bool", other)))
                })?;
                if b {
                    return Ok(Value::Bool(true));
                }
            }
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use braid_provider::Value;

    use super::super::FunctionError;
    use super::super::test_support::{err, fl, list, map, message, n, nums, ok, s, strs};

    #[test]
    fn length_of_strings_lists_and_maps() {
        assert_eq!(ok("length", vec![s("🤔🤷")]), n(2));
        assert_eq!(ok("length", vec![nums(&[1, 2, 3])]), n(3));
        assert_eq!(ok("length", vec![map(&[("a", n(1))])]), n(1));
        assert!(matches!(
            err("length", vec![Value::Null]),
            FunctionError::Argument { .. }
        ));
        assert!(matches!(
            err("length", vec![n(5)]),
            FunctionError::Argument { .. }
        ));
    }

    #[test]
    fn concat_and_merge() {
        assert_eq!(
            ok("concat", vec![strs(&["a"]), strs(&["b", "c"])]),
            strs(&["a", "b", "c"])
        );
        assert!(matches!(
            err("concat", vec![strs(&["a"]), s("b")]),
            FunctionError::Argument { index: 2, .. }
        ));
        assert_eq!(
            ok(
                "merge",
                vec![
                    map(&[("a", n(1)), ("b", n(2))]),
                    Value::Null,
                    map(&[("b", n(3)), ("c", n(4))]),
                ]
            ),
            map(&[("a", n(1)), ("b", n(3)), ("c", n(4))])
        );
        assert_eq!(ok("merge", vec![]), map(&[]));
        assert!(matches!(
            err("merge", vec![map(&[]), strs(&["x"])]),
            FunctionError::Argument { index: 2, .. }
        ));
    }

    #[test]
    fn lookup_with_and_without_default() {
        let m = map(&[("a", s("ay")), ("b", s("bee"))]);
        assert_eq!(ok("lookup", vec![m.clone(), s("a")]), s("ay"));
        assert_eq!(
            ok("lookup", vec![m.clone(), s("c"), s("what?")]),
            s("what?")
        );
        let e = err("lookup", vec![m, s("c")]);
        assert!(matches!(e, FunctionError::Failed { .. }));
        assert!(message(&e).contains("\"c\""), "{e}");
    }

    #[test]
    fn keys_and_values_are_sorted_by_key() {
        let m = map(&[("b", n(2)), ("a", n(1)), ("c", Value::Unknown)]);
        assert_eq!(ok("keys", vec![m.clone()]), strs(&["a", "b", "c"]));
        assert_eq!(
            ok("values", vec![m]),
            list(vec![n(1), n(2), Value::Unknown])
        );
    }

    #[test]
    fn contains_and_index() {
        assert_eq!(
            ok("contains", vec![strs(&["a", "b"]), s("b")]),
            Value::Bool(true)
        );
        assert_eq!(
            ok("contains", vec![strs(&["a", "b"]), s("c")]),
            Value::Bool(false)
        );
        // The value is not converted to the elements' type, as in Terraform.
        assert_eq!(ok("contains", vec![strs(&["1"]), n(1)]), Value::Bool(false));
        assert!(
            err("index", vec![strs(&["1", "2"]), n(2)])
                .to_string()
                .contains("not found")
        );
        assert_eq!(ok("index", vec![strs(&["a", "b", "c"]), s("b")]), n(1));
        assert_eq!(
            message(&err("index", vec![strs(&["a"]), s("z")])),
            "index(): item not found"
        );
    }

    #[test]
    fn element_wraps_around() {
        let l = strs(&["a", "b", "c"]);
        assert_eq!(ok("element", vec![l.clone(), n(1)]), s("b"));
        assert_eq!(ok("element", vec![l.clone(), n(3)]), s("a"));
        assert!(message(&err("element", vec![l, n(-1)])).contains("negative index"));
        assert!(message(&err("element", vec![strs(&[]), n(0)])).contains("empty list"));
    }

    #[test]
    fn flatten_distinct_reverse_sort() {
        assert_eq!(
            ok(
                "flatten",
                vec![list(vec![
                    strs(&["a", "b"]),
                    strs(&[]),
                    list(vec![strs(&["c"])])
                ])]
            ),
            strs(&["a", "b", "c"])
        );
        assert_eq!(
            ok("distinct", vec![strs(&["a", "b", "a", "c", "b"])]),
            strs(&["a", "b", "c"])
        );
        assert_eq!(ok("reverse", vec![nums(&[1, 2, 3])]), nums(&[3, 2, 1]));
        assert_eq!(
            ok("sort", vec![strs(&["e", "d", "a", "x"])]),
            strs(&["a", "d", "e", "x"])
        );
        // Numbers sort as strings, as in Terraform.
        assert_eq!(ok("sort", vec![nums(&[3, 10, 1])]), strs(&["1", "10", "3"]));
    }

    #[test]
    fn range_forms() {
        assert_eq!(ok("range", vec![n(3)]), nums(&[0, 1, 2]));
        assert_eq!(ok("range", vec![n(1), n(4)]), nums(&[1, 2, 3]));
        assert_eq!(ok("range", vec![n(-3)]), nums(&[0, -1, -2]));
        assert_eq!(ok("range", vec![n(4), n(1)]), nums(&[4, 3, 2]));
        assert_eq!(ok("range", vec![n(1), n(8), n(2)]), nums(&[1, 3, 5, 7]));
        assert_eq!(
            ok("range", vec![n(1), n(2), fl(0.5)]),
            list(vec![n(1), fl(1.5)])
        );
        assert_eq!(ok("range", vec![n(0)]), nums(&[]));
        assert!(message(&err("range", vec![n(1), n(4), n(0)])).contains("must not be zero"));
        assert!(matches!(
            err("range", vec![n(1), n(4), n(-1)]),
            FunctionError::Argument { index: 2, .. }
        ));
        assert!(message(&err("range", vec![n(2000)])).contains("1024"));
    }

    #[test]
    fn coalesce_and_coalescelist() {
        assert_eq!(ok("coalesce", vec![s("a"), s("b")]), s("a"));
        assert_eq!(ok("coalesce", vec![Value::Null, s(""), s("b")]), s("b"));
        assert_eq!(ok("coalesce", vec![n(1), n(2)]), n(1));
        assert_eq!(ok("coalesce", vec![s(""), n(2)]), s("2"));
        assert_eq!(
            ok("coalesce", vec![Value::Null, Value::Unknown, s("b")]),
            Value::Unknown
        );
        assert!(matches!(
            err("coalesce", vec![Value::Null, s("")]),
            FunctionError::Failed { .. }
        ));
        assert_eq!(
            ok(
                "coalescelist",
                vec![strs(&[]), strs(&["c", "d"]), strs(&["e"])]
            ),
            strs(&["c", "d"])
        );
        assert!(matches!(
            err("coalescelist", vec![strs(&[]), Value::Null]),
            FunctionError::Failed { .. }
        ));
    }

    #[test]
    fn zipmap_pairs_keys_with_values() {
        assert_eq!(
            ok("zipmap", vec![strs(&["a", "b"]), nums(&[1, 2])]),
            map(&[("a", n(1)), ("b", n(2))])
        );
        assert!(message(&err("zipmap", vec![strs(&["a"]), nums(&[1, 2])])).contains("(1)"));
        assert_eq!(
            ok("zipmap", vec![list(vec![Value::Unknown]), nums(&[1])]),
            Value::Unknown
        );
    }

    #[test]
    fn compact_chunklist_slice_one() {
        assert_eq!(
            ok(
                "compact",
                vec![list(vec![s("a"), s(""), Value::Null, s("b")])]
            ),
            strs(&["a", "b"])
        );
        assert_eq!(
            ok("chunklist", vec![strs(&["a", "b", "c"]), n(2)]),
            list(vec![strs(&["a", "b"]), strs(&["c"])])
        );
        assert_eq!(
            ok("chunklist", vec![strs(&["a", "b"]), n(0)]),
            list(vec![strs(&["a", "b"])])
        );
        assert!(matches!(
            err("chunklist", vec![strs(&["a"]), n(-1)]),
            FunctionError::Argument { index: 2, .. }
        ));
        assert_eq!(
            ok("slice", vec![strs(&["a", "b", "c", "d"]), n(1), n(3)]),
            strs(&["b", "c"])
        );
        assert!(message(&err("slice", vec![strs(&["a"]), n(0), n(2)])).contains("end index"));
        assert_eq!(ok("one", vec![strs(&[])]), Value::Null);
        assert_eq!(ok("one", vec![strs(&["x"])]), s("x"));
        assert!(matches!(
            err("one", vec![strs(&["x", "y"])]),
            FunctionError::Argument { .. }
        ));
    }

    #[test]
    fn alltrue_and_anytrue() {
        assert_eq!(
            ok("alltrue", vec![list(vec![Value::Bool(true), s("true")])]),
            Value::Bool(true)
        );
        assert_eq!(
            ok(
                "alltrue",
                vec![list(vec![Value::Bool(true), Value::Bool(false)])]
            ),
            Value::Bool(false)
        );
        assert_eq!(ok("alltrue", vec![list(vec![])]), Value::Bool(true));
        // A known false decides the answer even next to an unknown.
        assert_eq!(
            ok(
                "alltrue",
                vec![list(vec![Value::Unknown, Value::Bool(false)])]
            ),
            Value::Bool(false)
        );
        assert_eq!(
            ok(
                "alltrue",
                vec![list(vec![Value::Unknown, Value::Bool(true)])]
            ),
            Value::Unknown
        );
        assert_eq!(
            ok("anytrue", vec![list(vec![Value::Bool(false), s("true")])]),
            Value::Bool(true)
        );
        assert_eq!(ok("anytrue", vec![list(vec![])]), Value::Bool(false));
        assert_eq!(
            ok(
                "anytrue",
                vec![list(vec![Value::Unknown, Value::Bool(false)])]
            ),
            Value::Unknown
        );
        assert!(matches!(
            err("anytrue", vec![nums(&[1])]),
            FunctionError::Argument { .. }
        ));
    }
}
