//! JSON 6902 patches: `add`, `remove`, `replace`, `move`, `copy` and `test` operations on
//! JSON pointers (RFC 6901), applied to one object.

use serde_json::Value;

/// Applies the operations in `ops` (a list of `{op, path, value?, from?}`) to `document`.
/// The error names the failing operation (1-based) and why it failed.
pub(crate) fn apply(document: &mut Value, ops: &[Value]) -> Result<(), String> {
    for (index, op) in ops.iter().enumerate() {
        apply_one(document, op)
            .map_err(|error| format!("operation {} ({}): {error}", index + 1, describe(op)))?;
    }
    Ok(())
}

fn describe(op: &Value) -> String {
    let name = op.get("op").and_then(Value::as_str).unwrap_or("?");
    let path = op.get("path").and_then(Value::as_str).unwrap_or("?");
    format!("{name} {path}")
}

fn apply_one(document: &mut Value, op: &Value) -> Result<(), String> {
    let field = |key: &str| op.get(key).and_then(Value::as_str);
    let name = field("op").ok_or("missing `op` (one of add, remove, replace, move, copy, test)")?;
    let path = field("path").ok_or("missing `path`")?;
    let value = || op.get("value").cloned().ok_or("missing `value`");
    match name {
        "add" => add(document, path, value()?),
        "remove" => remove(document, path).map(drop),
        "replace" => {
            let target = document
                .pointer_mut(path)
                .ok_or_else(|| format!("path `{path}` does not exist"))?;
            *target = value()?;
            Ok(())
        }
        "move" => {
            let from = field("from").ok_or("missing `from`")?;
            let moved = remove(document, from)?;
            add(document, path, moved)
        }
        "copy" => {
            let from = field("from").ok_or("missing `from`")?;
            let copied = document
                .pointer(from)
                .cloned()
                .ok_or_else(|| format!("path `{from}` does not exist"))?;
            add(document, path, copied)
        }
        "test" => {
            let expected = value()?;
            match document.pointer(path) {
                Some(actual) if *actual == expected => Ok(()),
                Some(actual) => Err(format!("test failed: `{path}` is {actual}, not {expected}")),
                None => Err(format!("test failed: path `{path}` does not exist")),
            }
        }
        other => Err(format!(
            "unknown op `{other}`; use add, remove, replace, move, copy or test"
        )),
    }
}

/// Splits a pointer into its parent pointer and its unescaped last token.
fn split_pointer(path: &str) -> Result<(&str, String), String> {
    if path.is_empty() {
        return Err("the whole document cannot be the target; point at a field".to_string());
    }
    if !path.starts_with('/') {
        return Err(format!("path `{path}` must start with `/`"));
    }
    let index = path.rfind('/').unwrap_or(0);
    let token = path[index + 1..].replace("~1", "/").replace("~0", "~");
    Ok((&path[..index], token))
}

fn add(document: &mut Value, path: &str, value: Value) -> Result<(), String> {
    let (parent, token) = split_pointer(path)?;
    let parent_value = document
        .pointer_mut(parent)
        .ok_or_else(|| format!("parent `{parent}` of `{path}` does not exist"))?;
    match parent_value {
        Value::Object(object) => {
            object.insert(token, value);
            Ok(())
        }
        Value::Array(items) => {
            let index = if token == "-" {
                items.len()
            } else {
                array_index(&token, items.len() + 1)?
            };
            items.insert(index, value);
            Ok(())
        }
        _ => Err(format!(
            "parent `{parent}` of `{path}` is neither an object nor a list"
        )),
    }
}

fn remove(document: &mut Value, path: &str) -> Result<Value, String> {
    let (parent, token) = split_pointer(path)?;
    let missing = || format!("path `{path}` does not exist");
    match document.pointer_mut(parent).ok_or_else(missing)? {
        Value::Object(object) => object.shift_remove(&token).ok_or_else(missing),
        Value::Array(items) => {
            let index = array_index(&token, items.len())?;
            Ok(items.remove(index))
        }
        _ => Err(missing()),
    }
}

fn array_index(token: &str, len: usize) -> Result<usize, String> {
    match token.parse::<usize>() {
        Ok(index) if index < len => Ok(index),
        Ok(index) => Err(format!("list index {index} is out of range")),
        Err(_) => Err(format!("`{token}` is not a list index")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn applies_every_operation() {
        let mut document =
            json!({"spec": {"replicas": 1, "list": ["a", "b"], "a/b": 1, "old": {"x": 1}}});
        let ops = json!([
            {"op": "test", "path": "/spec/replicas", "value": 1},
            {"op": "replace", "path": "/spec/replicas", "value": 3},
            {"op": "add", "path": "/spec/list/1", "value": "between"},
            {"op": "add", "path": "/spec/list/-", "value": "last"},
            {"op": "remove", "path": "/spec/a~1b"},
            {"op": "move", "from": "/spec/old", "path": "/spec/new"},
            {"op": "copy", "from": "/spec/new", "path": "/spec/copy"},
        ]);
        apply(
            &mut document,
            ops.as_array().map(Vec::as_slice).unwrap_or_default(),
        )
        .expect("applies");
        assert_eq!(
            document,
            json!({"spec": {"replicas": 3, "list": ["a", "between", "b", "last"], "new": {"x": 1}, "copy": {"x": 1}}})
        );
    }

    #[test]
    fn names_the_failing_operation() {
        let mut document = json!({"spec": {}});
        let ops = json!([{"op": "add", "path": "/spec/a", "value": 1}, {"op": "replace", "path": "/spec/missing", "value": 1}]);
        assert_eq!(
            apply(
                &mut document,
                ops.as_array().map(Vec::as_slice).unwrap_or_default()
            ),
            Err(
                "operation 2 (replace /spec/missing): path `/spec/missing` does not exist"
                    .to_string()
            )
        );
    }
}
