//! Type conversion functions (`tostring`, `tonumber`, `tobool`, `tolist`, `tomap`, `toset`), and
//! the unification that gives a collection's elements one type.

use braid_provider::Value;

use super::{Call, FunctionError, coerce_bool, coerce_number, ordered_set, primitive_string};

pub(super) fn tostring(c: &Call<'_>) -> Result<Value, FunctionError> {
    match &c.args[0] {
        Value::Null => Ok(Value::Null),
        other => primitive_string(other)
            .map(Value::String)
            .ok_or_else(|| c.arg_error(0, format!("cannot convert {} to string", other.kind()))),
    }
}

pub(super) fn tonumber(c: &Call<'_>) -> Result<Value, FunctionError> {
    match &c.args[0] {
        Value::Null => Ok(Value::Null),
        Value::String(s) => coerce_number(&c.args[0]).map(Value::Number).ok_or_else(|| {
            c.arg_error(
                0,
                format!(
                    "cannot convert {s:?} to number; the string must be a decimal \
                     representation of a number"
                ),
            )
        }),
        Value::Number(n) => Ok(Value::Number(n.clone())),
        other => Err(c.arg_error(0, format!("cannot convert {} to number", other.kind()))),
    }
}

pub(super) fn tobool(c: &Call<'_>) -> Result<Value, FunctionError> {
    match &c.args[0] {
        Value::Null => Ok(Value::Null),
        Value::String(s) if coerce_bool(&c.args[0]).is_none() => Err(c.arg_error(
            0,
            format!(
                "cannot convert {s:?} to bool; only the strings \"true\" and \"false\" are allowed"
            ),
        )),
        other => coerce_bool(other)
            .map(Value::Bool)
            .ok_or_else(|| c.arg_error(0, format!("cannot convert {} to bool", other.kind()))),
    }
}

pub(super) fn tolist(c: &Call<'_>) -> Result<Value, FunctionError> {
    match &c.args[0] {
        Value::Null => Ok(Value::Null),
        Value::List(items) => Ok(Value::List(unify(c, 0, items.clone())?)),
        other => Err(c.arg_error(0, format!("cannot convert {} to list", other.kind()))),
    }
}

pub(super) fn tomap(c: &Call<'_>) -> Result<Value, FunctionError> {
    match &c.args[0] {
        Value::Null => Ok(Value::Null),
        Value::Map(entries) => {
            let keys: Vec<String> = entries.keys().cloned().collect();
            let values = unify(c, 0, entries.values().cloned().collect())?;
            Ok(Value::Map(keys.into_iter().zip(values).collect()))
        }
        other => Err(c.arg_error(0, format!("cannot convert {} to map", other.kind()))),
    }
}

pub(super) fn toset(c: &Call<'_>) -> Result<Value, FunctionError> {
    let items = match &c.args[0] {
        Value::Null => return Ok(Value::Null),
        Value::List(items) => unify(c, 0, items.clone())?,
        other => return Err(c.arg_error(0, format!("cannot convert {} to set", other.kind()))),
    };
    Ok(Value::List(ordered_set(&items)))
}

/// Gives the known, non-null elements of a collection one type, as Terraform does when it
/// builds a list or map: mixed strings, numbers and bools all become strings.
pub(super) fn unify(
    call: &Call<'_>,
    i: usize,
    items: Vec<Value>,
) -> Result<Vec<Value>, FunctionError> {
    let mut kinds = Vec::new();
    for item in &items {
        if !item.is_null() && !item.is_unknown() && !kinds.contains(&item.kind()) {
            kinds.push(item.kind());
        }
    }
    if kinds.len() <= 1 {
        return Ok(items);
    }
    let primitive = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    let has_string = items.iter().any(|v| matches!(v, Value::String(_)));
    let all_primitive = items
        .iter()
        .all(|v| v.is_null() || v.is_unknown() || primitive(v));
    if !(all_primitive && has_string) {
        let found: Vec<String> = kinds.iter().map(ToString::to_string).collect();
        return Err(call.arg_error(
            i,
            format!(
                "all elements must have the same type, found {}",
                found.join(" and ")
            ),
        ));
    }
    Ok(items
        .into_iter()
        .map(|v| primitive_string(&v).map_or(v, Value::String))
        .collect())
}

#[cfg(test)]
mod tests {
    use braid_provider::Value;

    use super::super::FunctionError;
    use super::super::test_support::{err, fl, list, map, message, n, nums, ok, s, strs};

    #[test]
    fn scalar_conversions() {
        assert_eq!(ok("tostring", vec![n(1)]), s("1"));
        assert_eq!(ok("tostring", vec![fl(1.5)]), s("1.5"));
        assert_eq!(ok("tostring", vec![Value::Bool(true)]), s("true"));
        assert_eq!(ok("tostring", vec![Value::Null]), Value::Null);
        assert!(message(&err("tostring", vec![strs(&[])])).contains("cannot convert list"));
        assert_eq!(ok("tonumber", vec![s("1")]), n(1));
        assert_eq!(ok("tonumber", vec![s("2.5")]), fl(2.5));
        assert_eq!(ok("tonumber", vec![n(7)]), n(7));
        assert!(message(&err("tonumber", vec![s("no")])).contains("\"no\""));
        assert_eq!(ok("tobool", vec![s("true")]), Value::Bool(true));
        assert_eq!(ok("tobool", vec![Value::Bool(false)]), Value::Bool(false));
        assert_eq!(ok("tobool", vec![Value::Null]), Value::Null);
        assert!(message(&err("tobool", vec![s("yes")])).contains("\"yes\""));
        assert!(matches!(
            err("tobool", vec![n(1)]),
            FunctionError::Argument { .. }
        ));
    }

    #[test]
    fn collection_conversions() {
        assert_eq!(
            ok("tolist", vec![list(vec![s("a"), n(1), Value::Bool(true)])]),
            strs(&["a", "1", "true"])
        );
        assert_eq!(ok("tolist", vec![nums(&[1, 2])]), nums(&[1, 2]));
        assert!(matches!(
            err("tolist", vec![list(vec![s("a"), strs(&["b"])])]),
            FunctionError::Argument { .. }
        ));
        assert!(message(&err("tolist", vec![map(&[])])).contains("cannot convert object"));
        assert_eq!(
            ok("tomap", vec![map(&[("a", s("x")), ("b", n(2))])]),
            map(&[("a", s("x")), ("b", s("2"))])
        );
        assert!(matches!(
            err("tomap", vec![strs(&["a"])]),
            FunctionError::Argument { .. }
        ));
        assert_eq!(
            ok("toset", vec![strs(&["c", "b", "b", "a"])]),
            strs(&["a", "b", "c"])
        );
        assert_eq!(ok("toset", vec![nums(&[10, 2, 2])]), nums(&[2, 10]));
        assert_eq!(
            ok("toset", vec![list(vec![s("b"), n(1)])]),
            strs(&["1", "b"])
        );
        assert_eq!(
            ok("toset", vec![list(vec![s("a"), Value::Unknown])]),
            Value::Unknown
        );
    }
}
