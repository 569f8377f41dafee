//! `values.schema.json` checks (JSON Schema drafts 4–2020-12, the keywords charts use):
//! `type`, `properties`, `required`, `additionalProperties`, `patternProperties`, `items`
//! (and `prefixItems`), `enum`, `const`, numeric bounds, `multipleOf`, string lengths and
//! `pattern`, array sizes and `uniqueItems`, `minProperties`/`maxProperties`, `allOf`/
//! `anyOf`/`oneOf`/`not`, `if`/`then`/`else`, `dependentRequired`, and local `$ref`
//! (`#/definitions/…`, `#/$defs/…`). `format` is an annotation only, as Helm's validator
//! treats it. Messages follow Helm v4's: `at '/path': …`.

use serde_json::Value as J;

/// Every violation of `schema` by `instance`, as `at '/path': message`.
pub fn validate(schema: &J, instance: &J) -> Vec<String> {
    let mut errors = Vec::new();
    check(schema, schema, instance, "", &mut errors, 0);
    errors
}

/// A number as Helm's validator prints it (`2`, `1.5`).
fn fmt_num(n: &J) -> String {
    match n {
        J::Number(n) => {
            if let Some(i) = n.as_i64() {
                return i.to_string();
            }
            let f = n.as_f64().unwrap_or(0.0);
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", f as i64)
            } else {
                format!("{f}")
            }
        }
        other => other.to_string(),
    }
}

fn type_name(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "boolean",
        J::Number(n) => {
            if n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0) {
                "integer"
            } else {
                "number"
            }
        }
        J::String(_) => "string",
        J::Array(_) => "array",
        J::Object(_) => "object",
    }
}

fn type_matches(want: &str, v: &J) -> bool {
    let got = type_name(v);
    got == want || (want == "number" && got == "integer")
}

fn quote_list(values: &[J]) -> String {
    values
        .iter()
        .map(|v| match v {
            J::String(s) => format!("'{s}'"),
            other => fmt_num(other),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn resolve<'a>(root: &'a J, reference: &str) -> Option<&'a J> {
    let pointer = reference.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(root);
    }
    let decoded: String = pointer.replace("~1", "/").replace("~0", "~");
    root.pointer(&decoded)
}

fn check(root: &J, schema: &J, v: &J, path: &str, errors: &mut Vec<String>, depth: usize) {
    if depth > 64 {
        return;
    }
    let schema = match schema {
        J::Bool(true) => return,
        J::Bool(false) => {
            errors.push(format!("at '{path}': false schema"));
            return;
        }
        J::Object(s) => s,
        _ => return,
    };
    let at = |message: String| format!("at '{path}': {message}");
    if let Some(J::String(reference)) = schema.get("$ref") {
        match resolve(root, reference) {
            Some(target) => check(root, target, v, path, errors, depth + 1),
            None => errors.push(at(format!("cannot resolve $ref {reference}"))),
        }
    }
    if let Some(t) = schema.get("type") {
        let wanted: Vec<&str> = match t {
            J::String(s) => vec![s.as_str()],
            J::Array(a) => a.iter().filter_map(|x| x.as_str()).collect(),
            _ => Vec::new(),
        };
        if !wanted.is_empty() && !wanted.iter().any(|w| type_matches(w, v)) {
            errors.push(at(format!(
                "got {}, want {}",
                type_name(v),
                wanted.join(" or ")
            )));
            return;
        }
    }
    if let Some(J::Array(options)) = schema.get("enum")
        && !options.contains(v)
    {
        errors.push(at(format!("value must be one of {}", quote_list(options))));
    }
    if let Some(c) = schema.get("const")
        && c != v
    {
        errors.push(at(format!(
            "value must be {}",
            quote_list(std::slice::from_ref(c))
        )));
    }
    if let J::Number(n) = v {
        let x = n.as_f64().unwrap_or(0.0);
        let num = |k: &str| schema.get(k).and_then(J::as_f64);
        if let Some(m) = num("minimum")
            && x < m
        {
            errors.push(at(format!(
                "minimum: got {}, want {}",
                fmt_num(v),
                fmt_num(&schema["minimum"])
            )));
        }
        if let Some(m) = num("maximum")
            && x > m
        {
            errors.push(at(format!(
                "maximum: got {}, want {}",
                fmt_num(v),
                fmt_num(&schema["maximum"])
            )));
        }
        if let Some(m) = num("exclusiveMinimum")
            && x <= m
        {
            errors.push(at(format!(
                "exclusiveMinimum: got {}, want {}",
                fmt_num(v),
                fmt_num(&schema["exclusiveMinimum"])
            )));
        }
        if let Some(m) = num("exclusiveMaximum")
            && x >= m
        {
            errors.push(at(format!(
                "exclusiveMaximum: got {}, want {}",
                fmt_num(v),
                fmt_num(&schema["exclusiveMaximum"])
            )));
        }
        if let Some(m) = num("multipleOf")
            && m != 0.0
            && (x / m).fract().abs() > 1e-9
        {
            errors.push(at(format!(
                "multipleOf: got {}, want {}",
                fmt_num(v),
                fmt_num(&schema["multipleOf"])
            )));
        }
    }
    if let J::String(s) = v {
        let len = s.chars().count() as u64;
        if let Some(m) = schema.get("minLength").and_then(J::as_u64)
            && len < m
        {
            errors.push(at(format!("minLength: got {len}, want {m}")));
        }
        if let Some(m) = schema.get("maxLength").and_then(J::as_u64)
            && len > m
        {
            errors.push(at(format!("maxLength: got {len}, want {m}")));
        }
        if let Some(J::String(p)) = schema.get("pattern")
            && let Ok(re) = regex::Regex::new(p)
            && !re.is_match(s)
        {
            errors.push(at(format!("'{s}' does not match pattern '{p}'")));
        }
    }
    if let J::Array(items) = v {
        let len = items.len() as u64;
        if let Some(m) = schema.get("minItems").and_then(J::as_u64)
            && len < m
        {
            errors.push(at(format!("minItems: got {len}, want {m}")));
        }
        if let Some(m) = schema.get("maxItems").and_then(J::as_u64)
            && len > m
        {
            errors.push(at(format!("maxItems: got {len}, want {m}")));
        }
        if schema.get("uniqueItems") == Some(&J::Bool(true)) {
            for i in 0..items.len() {
                for j in i + 1..items.len() {
                    if items[i] == items[j] {
                        errors.push(at(format!("items at {i} and {j} are equal")));
                    }
                }
            }
        }
        let prefix = match schema.get("prefixItems") {
            Some(J::Array(p)) => p.len(),
            _ => 0,
        };
        if let Some(J::Array(p)) = schema.get("prefixItems") {
            for (i, (s, item)) in p.iter().zip(items.iter()).enumerate() {
                check(root, s, item, &format!("{path}/{i}"), errors, depth + 1);
            }
        }
        match schema.get("items") {
            Some(J::Array(tuple)) => {
                for (i, (s, item)) in tuple.iter().zip(items.iter()).enumerate() {
                    check(root, s, item, &format!("{path}/{i}"), errors, depth + 1);
                }
            }
            Some(s) => {
                for (i, item) in items.iter().enumerate().skip(prefix) {
                    check(root, s, item, &format!("{path}/{i}"), errors, depth + 1);
                }
            }
            None => {}
        }
    }
    if let J::Object(map) = v {
        let count = map.len() as u64;
        if let Some(m) = schema.get("minProperties").and_then(J::as_u64)
            && count < m
        {
            errors.push(at(format!("minProperties: got {count}, want {m}")));
        }
        if let Some(m) = schema.get("maxProperties").and_then(J::as_u64)
            && count > m
        {
            errors.push(at(format!("maxProperties: got {count}, want {m}")));
        }
        if let Some(J::Array(required)) = schema.get("required") {
            let missing: Vec<String> = required
                .iter()
                .filter_map(|r| r.as_str())
                .filter(|r| !map.contains_key(*r))
                .map(|r| format!("'{r}'"))
                .collect();
            match missing.len() {
                0 => {}
                1 => errors.push(at(format!("missing property {}", missing[0]))),
                _ => errors.push(at(format!("missing properties {}", missing.join(", ")))),
            }
        }
        if let Some(J::Object(dependent)) = schema.get("dependentRequired") {
            for (key, needed) in dependent {
                if map.contains_key(key)
                    && let J::Array(needed) = needed
                {
                    for n in needed.iter().filter_map(|n| n.as_str()) {
                        if !map.contains_key(n) {
                            errors
                                .push(at(format!("properties '{n}' required, if '{key}' exists")));
                        }
                    }
                }
            }
        }
        let properties = schema.get("properties").and_then(J::as_object);
        let patterns: Vec<(regex::Regex, &J)> = schema
            .get("patternProperties")
            .and_then(J::as_object)
            .map(|p| {
                p.iter()
                    .filter_map(|(k, s)| regex::Regex::new(k).ok().map(|re| (re, s)))
                    .collect()
            })
            .unwrap_or_default();
        let mut additional = Vec::new();
        for (key, value) in map {
            let child = format!("{path}/{}", key.replace('~', "~0").replace('/', "~1"));
            let mut matched = false;
            if let Some(s) = properties.and_then(|p| p.get(key)) {
                matched = true;
                check(root, s, value, &child, errors, depth + 1);
            }
            for (re, s) in &patterns {
                if re.is_match(key) {
                    matched = true;
                    check(root, s, value, &child, errors, depth + 1);
                }
            }
            if !matched {
                match schema.get("additionalProperties") {
                    Some(J::Bool(false)) => additional.push(format!("'{key}'")),
                    Some(s @ J::Object(_)) => check(root, s, value, &child, errors, depth + 1),
                    _ => {}
                }
            }
        }
        match additional.len() {
            0 => {}
            1 => errors.push(at(format!(
                "additional properties {} not allowed",
                additional[0]
            ))),
            _ => errors.push(at(format!(
                "additional properties {} not allowed",
                additional.join(", ")
            ))),
        }
    }
    if let Some(J::Array(all)) = schema.get("allOf") {
        for s in all {
            check(root, s, v, path, errors, depth + 1);
        }
    }
    if let Some(J::Array(any)) = schema.get("anyOf")
        && !any.iter().any(|s| validates(root, s, v, depth))
    {
        errors.push(at("anyOf failed".to_string()));
    }
    if let Some(J::Array(one)) = schema.get("oneOf") {
        let passing = one.iter().filter(|s| validates(root, s, v, depth)).count();
        if passing == 0 {
            errors.push(at("oneOf failed, none matched".to_string()));
        } else if passing > 1 {
            errors.push(at("oneOf failed, more than one matched".to_string()));
        }
    }
    if let Some(not) = schema.get("not")
        && validates(root, not, v, depth)
    {
        errors.push(at("not failed".to_string()));
    }
    if let Some(condition) = schema.get("if") {
        let branch = if validates(root, condition, v, depth) {
            schema.get("then")
        } else {
            schema.get("else")
        };
        if let Some(branch) = branch {
            check(root, branch, v, path, errors, depth + 1);
        }
    }
}

fn validates(root: &J, schema: &J, v: &J, depth: usize) -> bool {
    let mut errors = Vec::new();
    check(root, schema, v, "", &mut errors, depth + 1);
    errors.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reports_each_violation_with_its_path() {
        let schema = json!({
            "type": "object",
            "required": ["image"],
            "properties": {
                "replicaCount": {"type": "integer", "minimum": 1},
                "service": {"type": "object", "properties": {"type": {"enum": ["ClusterIP", "NodePort"]}}},
                "tag": {"$ref": "#/definitions/tag"}
            },
            "definitions": {"tag": {"type": "string", "pattern": "^v"}}
        });
        let errors = validate(
            &schema,
            &json!({"replicaCount": "3", "service": {"type": "X"}, "tag": "1.0"}),
        );
        assert_eq!(
            errors,
            [
                "at '': missing property 'image'",
                "at '/replicaCount': got string, want integer",
                "at '/service/type': value must be one of 'ClusterIP', 'NodePort'",
                "at '/tag': '1.0' does not match pattern '^v'",
            ]
        );
        assert!(validate(&schema, &json!({"image": {}, "replicaCount": 2})).is_empty());
    }
}
