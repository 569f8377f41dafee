//! Set functions and the list reshaping ones built on them: `setunion`, `setintersection`,
//! `setsubtract`, `setproduct`, `transpose` and `matchkeys`.
//!
//! Sets are lists here, ordered as Terraform orders them (strings lexically, numbers
//! numerically, see [`super::ordered_set`]).

use std::collections::BTreeMap;

use braid_provider::Value;

use super::{Call, FunctionError, loosely_equal, ordered_set, values_equal};

/// The most elements `setproduct` builds, so that a few long lists cannot exhaust memory.
const MAX_PRODUCT: usize = 1 << 20;

fn set_args(c: &Call<'_>) -> Result<Vec<Vec<Value>>, FunctionError> {
    (0..c.args.len())
        .map(|i| c.list(i).map(ordered_set))
        .collect()
}

pub(super) fn setunion(c: &Call<'_>) -> Result<Value, FunctionError> {
    let all: Vec<Value> = set_args(c)?.into_iter().flatten().collect();
    // Terraform gives the union one element type: mixed strings and numbers become strings.
    let all = super::convert::unify(c, 0, all)?;
    Ok(Value::List(ordered_set(&all)))
}

pub(super) fn setintersection(c: &Call<'_>) -> Result<Value, FunctionError> {
    let mut sets = set_args(c)?.into_iter();
    let first = sets.next().unwrap_or_default();
    let rest: Vec<Vec<Value>> = sets.collect();
    let common: Vec<Value> = first
        .into_iter()
        .filter(|v| {
            rest.iter()
                .all(|set| set.iter().any(|w| loosely_equal(v, w)))
        })
        .collect();
    Ok(Value::List(ordered_set(&common)))
}

pub(super) fn setsubtract(c: &Call<'_>) -> Result<Value, FunctionError> {
    let sets = set_args(c)?;
    let (Some(from), Some(remove)) = (sets.first(), sets.get(1)) else {
        return Ok(Value::List(Vec::new()));
    };
    let left: Vec<Value> = from
        .iter()
        .filter(|v| !remove.iter().any(|w| loosely_equal(v, w)))
        .cloned()
        .collect();
    Ok(Value::List(ordered_set(&left)))
}

/// `setproduct(a, b, ...)`: every combination of one element of each argument, as lists.
pub(super) fn setproduct(c: &Call<'_>) -> Result<Value, FunctionError> {
    let lists: Vec<&[Value]> = (0..c.args.len())
        .map(|i| c.list(i))
        .collect::<Result<_, _>>()?;
    let total = lists
        .iter()
        .try_fold(1usize, |acc, l| acc.checked_mul(l.len()))
        .filter(|t| *t <= MAX_PRODUCT)
        .ok_or_else(|| {
            c.failed(format!(
                "the product would have more than {MAX_PRODUCT} elements"
            ))
        })?;
    let mut product: Vec<Vec<Value>> = vec![Vec::new()];
    for list in &lists {
        let mut next = Vec::with_capacity(total);
        for prefix in &product {
            for item in *list {
                let mut combination = prefix.clone();
                combination.push(item.clone());
                next.push(combination);
            }
        }
        product = next;
    }
    Ok(Value::List(product.into_iter().map(Value::List).collect()))
}

/// `transpose({a = ["x", "y"]})` is `{x = ["a"], y = ["a"]}`, each list sorted.
pub(super) fn transpose(c: &Call<'_>) -> Result<Value, FunctionError> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, values) in c.map(0)? {
        let items = values.as_list().ok_or_else(|| {
            c.arg_error(
                0,
                format!(
                    "the value of {key:?}: expected list of strings, got {}",
                    values.kind()
                ),
            )
        })?;
        for (j, item) in items.iter().enumerate() {
            let item = c.element_string(0, j, item)?;
            out.entry(item).or_default().push(key.clone());
        }
    }
    Ok(Value::map(out.into_iter().map(|(k, mut keys)| {
        keys.sort();
        (
            k,
            Value::List(keys.into_iter().map(Value::String).collect()),
        )
    })))
}

/// `matchkeys(values, keys, searchset)`: the elements of `values` whose corresponding
/// element of `keys` is in `searchset`.
pub(super) fn matchkeys(c: &Call<'_>) -> Result<Value, FunctionError> {
    let values = c.list(0)?;
    let keys = c.list(1)?;
    let search = c.list(2)?;
    if values.len() != keys.len() {
        return Err(c.failed("length of keys and values should be equal"));
    }
    if let (Some(k), Some(s)) = (keys.first(), search.first())
        && k.kind() != s.kind()
    {
        return Err(c.arg_error(
            2,
            format!(
                "searchset elements are {}, but keys are {}",
                s.kind(),
                k.kind()
            ),
        ));
    }
    Ok(Value::List(
        values
            .iter()
            .zip(keys)
            .filter(|(_, k)| search.iter().any(|s| values_equal(k, s)))
            .map(|(v, _)| v.clone())
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{err, list, map, nums, ok, s, strs};

    #[test]
    fn set_operations() {
        assert_eq!(
            ok("setunion", vec![strs(&["b", "a"]), strs(&["c", "a"])]),
            strs(&["a", "b", "c"])
        );
        assert_eq!(
            ok(
                "setintersection",
                vec![strs(&["a", "b"]), strs(&["b", "c"])]
            ),
            strs(&["b"])
        );
        assert_eq!(
            ok("setsubtract", vec![nums(&[3, 1, 2]), nums(&[2])]),
            nums(&[1, 3])
        );
        assert_eq!(
            ok("setproduct", vec![strs(&["a", "b"]), nums(&[1])]),
            list(vec![
                list(vec![s("a"), super::super::test_support::n(1)]),
                list(vec![s("b"), super::super::test_support::n(1)])
            ])
        );
        assert!(
            err("setunion", vec![s("x")])
                .to_string()
                .contains("expected list")
        );
    }

    #[test]
    fn transpose_and_matchkeys() {
        assert_eq!(
            ok(
                "transpose",
                vec![map(&[("a", strs(&["1", "2"])), ("b", strs(&["2", "3"]))])]
            ),
            map(&[
                ("1", strs(&["a"])),
                ("2", strs(&["a", "b"])),
                ("3", strs(&["b"]))
            ])
        );
        assert_eq!(
            ok(
                "matchkeys",
                vec![
                    strs(&["i-1", "i-2", "i-3"]),
                    strs(&["a", "b", "a"]),
                    strs(&["a"])
                ]
            ),
            strs(&["i-1", "i-3"])
        );
        assert!(
            err("matchkeys", vec![strs(&["x"]), strs(&[]), strs(&[])])
                .to_string()
                .contains("equal")
        );
    }
}
