//! Variable type constraints (`string`, `list(number)`, `object({...})`) and conversion of
//! values to them, as Terraform does.

use std::collections::BTreeMap;

use braid_provider::Value;
use hcl_edit::expr::{Expression, ObjectKey};

/// The declared `type` of a variable: what its value must be, and what values are converted to
/// (numbers from strings, strings from numbers and bools, as Terraform does).
#[derive(Debug, Clone, PartialEq)]
pub enum TypeConstraint {
    /// `any`: every value is accepted as it is.
    Any,
    /// `string`; numbers and bools are converted to their text.
    String,
    /// `number`; strings that parse as numbers are converted.
    Number,
    /// `bool`; the strings `"true"` and `"false"` are converted.
    Bool,
    /// `list(T)`: a list whose elements convert to `T`.
    List(Box<TypeConstraint>),
    /// `set(T)`: like a list of `T`, with duplicate elements removed (first one kept).
    Set(Box<TypeConstraint>),
    /// `map(T)`: an object whose every value converts to `T`.
    Map(Box<TypeConstraint>),
    /// `object({ name = string, size = optional(number, 1) })`: attributes by name (a
    /// missing optional attribute becomes its default, or null; any other missing or extra
    /// attribute is an error).
    Object(BTreeMap<String, ObjectAttribute>),
    /// `tuple([A, B, ...])`: a list with exactly one element per type, each converted to its type.
    Tuple(Vec<TypeConstraint>),
}

/// One attribute of an `object({...})` type.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectAttribute {
    /// The attribute's type.
    pub ty: TypeConstraint,
    /// True when written `optional(T)` or `optional(T, DEFAULT)`.
    pub optional: bool,
    /// The default of `optional(T, DEFAULT)`, already converted to `T` (defaults of nested
    /// object types included): it replaces a missing or null attribute.
    pub default: Option<Value>,
}

impl TypeConstraint {
    /// Reads a type expression. The error is a sentence for the user.
    pub fn parse(expr: &Expression) -> Result<TypeConstraint, String> {
        match expr {
            Expression::Variable(v) => match v.value().as_str() {
                "any" => Ok(TypeConstraint::Any),
                "string" => Ok(TypeConstraint::String),
                "number" => Ok(TypeConstraint::Number),
                "bool" => Ok(TypeConstraint::Bool),
                "list" | "set" | "map" => Err(format!(
                    "{0} needs an element type, like {0}(string).",
                    v.value().as_str()
                )),
                other => Err(format!(
                    "\"{other}\" is not a type. Use string, number, bool, any, list(T), set(T), map(T), object({{...}}) or tuple([...])."
                )),
            },
            Expression::FuncCall(call) => {
                let name = call.name.name.value().as_str();
                let args: Vec<&Expression> = call.args.iter().collect();
                let [arg] = args.as_slice() else {
                    return Err(format!("{name}(...) takes exactly one argument."));
                };
                match name {
                    "list" => Ok(TypeConstraint::List(Box::new(Self::parse(arg)?))),
                    "set" => Ok(TypeConstraint::Set(Box::new(Self::parse(arg)?))),
                    "map" => Ok(TypeConstraint::Map(Box::new(Self::parse(arg)?))),
                    "object" => {
                        let Expression::Object(object) = arg else {
                            return Err("object(...) takes attribute types in braces, like object({ name = string }).".to_string());
                        };
                        let mut attrs = BTreeMap::new();
                        for (key, value) in object.iter() {
                            let key = match key {
                                ObjectKey::Ident(i) => i.value().to_string(),
                                ObjectKey::Expression(Expression::String(s)) => s.value().clone(),
                                ObjectKey::Expression(_) => {
                                    return Err("object attribute names must be plain names.".to_string());
                                }
                            };
                            attrs.insert(key, Self::parse_attribute(value.expr())?);
                        }
                        Ok(TypeConstraint::Object(attrs))
                    }
                    "tuple" => {
                        let Expression::Array(items) = arg else {
                            return Err("tuple(...) takes a list of types, like tuple([string, number]).".to_string());
                        };
                        Ok(TypeConstraint::Tuple(items.iter().map(Self::parse).collect::<Result<_, _>>()?))
                    }
                    other => Err(format!("\"{other}\" is not a type constructor; use list, set, map, object or tuple.")),
                }
            }
            _ => Err("A type is written as string, number, bool, any, list(T), set(T), map(T), object({...}) or tuple([...]).".to_string()),
        }
    }

    fn parse_attribute(expr: &Expression) -> Result<ObjectAttribute, String> {
        if let Expression::FuncCall(call) = expr
            && call.name.name.value().as_str() == "optional"
        {
            let args: Vec<&Expression> = call.args.iter().collect();
            let (inner, default) = match args.as_slice() {
                [inner] => (inner, None),
                [inner, default] => (inner, Some(default)),
                _ => return Err("optional(...) takes a type and, optionally, a default value, like optional(number, 1).".to_string()),
            };
            let ty = Self::parse(inner)?;
            let default = match default {
                Some(expr) => {
                    let value = constant_value(expr).ok_or(
                        "The default of optional(...) must be a constant value, without references or function calls.",
                    )?;
                    Some(ty.convert(&value).map_err(|e| {
                        format!("the default of optional(...) does not fit its type: {e}")
                    })?)
                }
                None => None,
            };
            return Ok(ObjectAttribute {
                ty,
                optional: true,
                default,
            });
        }
        Ok(ObjectAttribute {
            ty: Self::parse(expr)?,
            optional: false,
            default: None,
        })
    }

    /// Converts a value to this type (`"3"` → 3 for number, 3 → `"3"` for string), or says
    /// why it cannot.
    pub fn convert(&self, value: &Value) -> Result<Value, String> {
        if value.is_unknown() || value.is_null() {
            return Ok(value.clone());
        }
        match (self, value) {
            (TypeConstraint::Any, v) => Ok(v.clone()),
            (TypeConstraint::String, Value::String(_)) => Ok(value.clone()),
            (TypeConstraint::String, Value::Number(n)) => Ok(Value::String(n.to_string())),
            (TypeConstraint::String, Value::Bool(b)) => Ok(Value::String(b.to_string())),
            (TypeConstraint::Number, Value::Number(_)) => Ok(value.clone()),
            (TypeConstraint::Number, Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .map(Value::from_f64)
                .map_err(|_| format!("a number is required, and \"{s}\" is not one")),
            (TypeConstraint::Bool, Value::Bool(_)) => Ok(value.clone()),
            (TypeConstraint::Bool, Value::String(s)) if s == "true" || s == "false" => {
                Ok(Value::Bool(s == "true"))
            }
            (TypeConstraint::List(elem) | TypeConstraint::Set(elem), Value::List(items)) => {
                let mut out = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| elem.convert(item).map_err(|e| format!("element {i}: {e}")))
                    .collect::<Result<Vec<_>, _>>()?;
                if matches!(self, TypeConstraint::Set(_)) {
                    let mut seen = Vec::new();
                    out.retain(|v| {
                        let keep = !seen.contains(v);
                        if keep {
                            seen.push(v.clone());
                        }
                        keep
                    });
                }
                Ok(Value::List(out))
            }
            (TypeConstraint::Map(elem), Value::Map(entries)) => Ok(Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| {
                        elem.convert(v)
                            .map(|v| (k.clone(), v))
                            .map_err(|e| format!("element \"{k}\": {e}"))
                    })
                    .collect::<Result<_, _>>()?,
            )),
            (TypeConstraint::Object(attrs), Value::Map(entries)) => {
                let mut out = BTreeMap::new();
                for (name, attr) in attrs {
                    match (entries.get(name), &attr.default) {
                        (None | Some(Value::Null), Some(default)) => {
                            out.insert(name.clone(), default.clone());
                        }
                        (Some(v), _) => {
                            out.insert(
                                name.clone(),
                                attr.ty
                                    .convert(v)
                                    .map_err(|e| format!("attribute \"{name}\": {e}"))?,
                            );
                        }
                        (None, None) if attr.optional => {
                            out.insert(name.clone(), Value::Null);
                        }
                        (None, None) => return Err(format!("attribute \"{name}\" is required")),
                    }
                }
                if let Some(extra) = entries.keys().find(|k| !attrs.contains_key(*k)) {
                    return Err(format!("attribute \"{extra}\" is not part of the type"));
                }
                Ok(Value::Map(out.into()))
            }
            (TypeConstraint::Tuple(types), Value::List(items)) if types.len() == items.len() => {
                Ok(Value::List(
                    types
                        .iter()
                        .zip(items)
                        .map(|(t, v)| t.convert(v))
                        .collect::<Result<_, _>>()?,
                ))
            }
            (ty, v) => Err(format!(
                "{} is required, but the value is {}",
                ty.describe(),
                v.kind()
            )),
        }
    }

    /// True for types whose command-line values are plain text (`--var replicas=3`); other
    /// types are written as HCL expressions (`--var 'ports=[80, 443]'`).
    pub fn is_primitive(&self) -> bool {
        matches!(
            self,
            TypeConstraint::String
                | TypeConstraint::Any
                | TypeConstraint::Number
                | TypeConstraint::Bool
        )
    }

    /// The type as a phrase for messages: `a string`, `a list`, `a tuple of 2 elements`.
    pub fn describe(&self) -> String {
        match self {
            TypeConstraint::Any => "any value".to_string(),
            TypeConstraint::String => "a string".to_string(),
            TypeConstraint::Number => "a number".to_string(),
            TypeConstraint::Bool => "a bool".to_string(),
            TypeConstraint::List(_) => "a list".to_string(),
            TypeConstraint::Set(_) => "a set".to_string(),
            TypeConstraint::Map(_) => "a map".to_string(),
            TypeConstraint::Object(_) => "an object".to_string(),
            TypeConstraint::Tuple(t) => format!("a tuple of {} elements", t.len()),
        }
    }
}

/// The value of a constant expression (literals, lists and objects of them), without a scope.
fn constant_value(expr: &Expression) -> Option<Value> {
    match expr {
        Expression::Null(_) => Some(Value::Null),
        Expression::Bool(b) => Some(Value::Bool(*b.value())),
        Expression::Number(n) => n
            .value()
            .as_i64()
            .map(Value::from_i64)
            .or_else(|| n.value().as_f64().map(Value::from_f64)),
        Expression::String(s) => Some(Value::String(s.value().clone())),
        Expression::Array(items) => items
            .iter()
            .map(constant_value)
            .collect::<Option<_>>()
            .map(Value::List),
        Expression::Object(object) => object
            .iter()
            .map(|(key, value)| {
                let key = match key {
                    ObjectKey::Ident(i) => i.value().to_string(),
                    ObjectKey::Expression(Expression::String(s)) => s.value().clone(),
                    ObjectKey::Expression(_) => return None,
                };
                constant_value(value.expr()).map(|v| (key, v))
            })
            .collect::<Option<_>>()
            .map(Value::Map),
        Expression::Parenthesis(inner) => constant_value(inner.inner()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> TypeConstraint {
        let expr = hcl_edit::parser::parse_expr(text).expect("test type expressions are valid HCL");
        TypeConstraint::parse(&expr).expect("test type expressions are valid types")
    }

    #[test]
    fn converts_like_terraform() {
        assert_eq!(
            parse("number").convert(&Value::from("3")),
            Ok(Value::from_i64(3))
        );
        assert_eq!(
            parse("string").convert(&Value::from_i64(3)),
            Ok(Value::from("3"))
        );
        assert!(parse("number").convert(&Value::from("x")).is_err());
        let obj = parse("object({ name = string, size = optional(number) })");
        let value = Value::map([("name", Value::from("a"))]);
        assert_eq!(
            obj.convert(&value),
            Ok(Value::map([
                ("name", Value::from("a")),
                ("size", Value::Null)
            ]))
        );
        assert!(
            parse("list(number)")
                .convert(&Value::List(vec![Value::from("z")]))
                .is_err()
        );
    }

    #[test]
    fn optional_defaults_apply_at_every_level() {
        let ty = parse(
            "object({ a = optional(string, \"x\"), b = optional(list(object({ c = optional(number, 1), d = optional(bool) })), [{}]) })",
        );
        let empty = Value::Map(braid_provider::ValueMap::new());
        let with_c = Value::map([("c", Value::from_i64(1)), ("d", Value::Null)]);
        assert_eq!(
            ty.convert(&empty),
            Ok(Value::map([
                ("a", Value::from("x")),
                ("b", Value::List(vec![with_c.clone()]))
            ]))
        );
        let given = Value::map([
            ("a", Value::Null),
            ("b", Value::List(vec![Value::map([("c", Value::Null)])])),
        ]);
        assert_eq!(
            ty.convert(&given),
            Ok(Value::map([
                ("a", Value::from("x")),
                ("b", Value::List(vec![with_c]))
            ]))
        );
    }
}
