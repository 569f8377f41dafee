//! The result type of a conditional `c ? a : b`, as Terraform computes it: both results are
//! converted to one type their types unify to (`true ? "a" : 1` is a string, so
//! `false ? "a" : 1` is `"1"`), and results with no common type are an error.
//!
//! braid's values carry no static type, so the types are read from the values: a list is a
//! tuple of its elements' types, an object the types of its attributes, null and unknown
//! values fit any type.

use std::collections::BTreeMap;

use braid_provider::Value;

/// The type of a value, for unification.
#[derive(Debug, Clone, PartialEq)]
enum Type {
    /// Null or unknown: converts to any type.
    Any,
    String,
    Number,
    Bool,
    Tuple(Vec<Type>),
    List(Box<Type>),
    Object(BTreeMap<String, Type>),
    Map(Box<Type>),
}

fn type_of(value: &Value) -> Type {
    match value {
        Value::Null | Value::Unknown => Type::Any,
        Value::String(_) => Type::String,
        Value::Number(_) => Type::Number,
        Value::Bool(_) => Type::Bool,
        Value::List(items) => Type::Tuple(items.iter().map(type_of).collect()),
        Value::Map(attrs) => {
            Type::Object(attrs.iter().map(|(k, v)| (k.clone(), type_of(v))).collect())
        }
    }
}

fn describe(ty: &Type) -> &'static str {
    match ty {
        Type::Any => "any value",
        Type::String => "string",
        Type::Number => "number",
        Type::Bool => "bool",
        Type::Tuple(_) | Type::List(_) => "list",
        Type::Object(_) | Type::Map(_) => "object",
    }
}

/// One type for all of `types`: the element type of a list of them.
fn unify_all<'t>(types: impl IntoIterator<Item = &'t Type>) -> Result<Type, String> {
    types
        .into_iter()
        .try_fold(Type::Any, |acc, ty| unify(&acc, ty))
}

fn unify(a: &Type, b: &Type) -> Result<Type, String> {
    match (a, b) {
        (Type::Any, other) | (other, Type::Any) => Ok(other.clone()),
        (a, b) if a == b => Ok(a.clone()),
        (Type::String, Type::Number | Type::Bool) | (Type::Number | Type::Bool, Type::String) => {
            Ok(Type::String)
        }
        (Type::Tuple(x), Type::Tuple(y)) => {
            let same_length = x.len() == y.len();
            if same_length && let Ok(types) = x.iter().zip(y).map(|(a, b)| unify(a, b)).collect() {
                return Ok(Type::Tuple(types));
            }
            Ok(Type::List(Box::new(unify_all(x.iter().chain(y))?)))
        }
        (Type::List(e), Type::Tuple(items)) | (Type::Tuple(items), Type::List(e)) => Ok(
            Type::List(Box::new(unify_all(items.iter().chain([e.as_ref()]))?)),
        ),
        (Type::List(x), Type::List(y)) => Ok(Type::List(Box::new(unify(x, y)?))),
        (Type::Object(x), Type::Object(y)) => {
            if x.keys().eq(y.keys())
                && let Ok(attrs) = x
                    .iter()
                    .zip(y.values())
                    .map(|((k, a), b)| unify(a, b).map(|t| (k.clone(), t)))
                    .collect()
            {
                return Ok(Type::Object(attrs));
            }
            unify_all(x.values().chain(y.values()))
                .map(|t| Type::Map(Box::new(t)))
                .map_err(|_| {
                    match x.keys().find(|k| !y.contains_key(*k)) {
                        Some(k) => format!("the true result has the attribute \"{k}\", which the false result lacks"),
                        None => match y.keys().find(|k| !x.contains_key(*k)) {
                            Some(k) => format!("the false result has the attribute \"{k}\", which the true result lacks"),
                            None => "their attributes have types that do not match".to_string(),
                        },
                    }
                })
        }
        (Type::Map(e), Type::Object(attrs)) | (Type::Object(attrs), Type::Map(e)) => Ok(Type::Map(
            Box::new(unify_all(attrs.values().chain([e.as_ref()]))?),
        )),
        (Type::Map(x), Type::Map(y)) => Ok(Type::Map(Box::new(unify(x, y)?))),
        (a, b) => Err(format!(
            "the true result is a {} and the false result a {}, which have no common type",
            describe(a),
            describe(b)
        )),
    }
}

fn convert(value: Value, ty: &Type) -> Value {
    match (value, ty) {
        (Value::Number(n), Type::String) => Value::String(n.to_string()),
        (Value::Bool(b), Type::String) => Value::String(b.to_string()),
        (Value::List(items), Type::Tuple(types)) => Value::List(
            items
                .into_iter()
                .zip(types)
                .map(|(v, t)| convert(v, t))
                .collect(),
        ),
        (Value::List(items), Type::List(t)) => {
            Value::List(items.into_iter().map(|v| convert(v, t)).collect())
        }
        (Value::Map(attrs), Type::Object(types)) => Value::Map(
            attrs
                .into_iter()
                .map(|(k, v)| {
                    let converted = match types.get(&k) {
                        Some(t) => convert(v, t),
                        None => v,
                    };
                    (k, converted)
                })
                .collect(),
        ),
        (Value::Map(attrs), Type::Map(t)) => {
            Value::Map(attrs.into_iter().map(|(k, v)| (k, convert(v, t))).collect())
        }
        (value, _) => value,
    }
}

/// `chosen` converted to the type it and `other` unify to; `other` is `None` when that
/// result failed to evaluate (its error is not reported, as in Terraform, so that
/// `var.x == null ? "none" : var.x.name` works), and then nothing is converted. The error
/// says why the two have no common type.
pub(super) fn conditional_result(
    chosen: Value,
    other: Option<&Value>,
    chosen_is_true: bool,
) -> Result<Value, String> {
    let Some(other) = other else {
        return Ok(chosen);
    };
    let (a, b) = (type_of(&chosen), type_of(other));
    let unified = if chosen_is_true {
        unify(&a, &b)
    } else {
        unify(&b, &a)
    }?;
    Ok(convert(chosen, &unified))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[Value]) -> Value {
        Value::List(items.to_vec())
    }

    #[test]
    fn strings_win_over_numbers_and_bools() {
        assert_eq!(
            conditional_result(Value::from_i64(1), Some(&Value::from("a")), false),
            Ok(Value::from("1"))
        );
        assert!(conditional_result(Value::from_i64(1), Some(&Value::Bool(true)), true).is_err());
        assert_eq!(
            conditional_result(
                list(&[Value::from_i64(1)]),
                Some(&list(&[Value::from("a")])),
                true
            ),
            Ok(list(&[Value::from("1")]))
        );
    }

    #[test]
    fn objects_with_other_attributes_unify_to_maps_or_fail() {
        let a = Value::map([("a", Value::from_i64(1))]);
        let ab = Value::map([("a", Value::from_i64(2)), ("b", Value::from_i64(3))]);
        assert_eq!(
            conditional_result(a.clone(), Some(&ab), true),
            Ok(a.clone())
        );
        let b_list = Value::map([("b", list(&[Value::from_i64(1)]))]);
        let error = conditional_result(a, Some(&b_list), true).expect_err("no common type");
        assert!(error.contains("\"a\""), "{error}");
    }
}
