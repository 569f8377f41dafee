//! `vars`, Kustomize's older way to put one object's field into another's text: each var
//! names an object (`objref`, by the name it was written with) and a field (`fieldref`,
//! `metadata.name` by default), and `$(NAME)` in the fields Kustomize substitutes is replaced
//! by the value once the whole tree is rendered (so a prefix from an overlay is in it).
//!
//! The fields substituted are those of Kustomize's default `varReference` configuration that
//! matter for workloads: containers' and init containers' `command`, `args` and `env[].value`
//! in every pod template, and an Ingress's hosts. A string that is exactly `$(NAME)` takes the
//! value with its type (a port stays a number); `$(UNKNOWN)` is left as written.

use serde_json::Value;

use super::kustomization::Kustomization;
use super::{KustomizeError, Resource};

/// One declared var.
#[derive(Debug, Clone)]
pub(crate) struct Var {
    name: String,
    kind: String,
    object_name: String,
    api_version: Option<String>,
    field_path: String,
    file: String,
    line: Option<usize>,
}

/// Reads the `vars` of `k`.
pub(crate) fn parse(k: &Kustomization<'_>, value: &Value) -> Result<Vec<Var>, KustomizeError> {
    let mut out = Vec::new();
    for entry in super::kustomization::list(k, "vars", value)? {
        let invalid = |message: String| k.invalid("vars:", message);
        let name = entry
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("each var needs a `name`".to_string()))?;
        let objref = entry
            .get("objref")
            .ok_or_else(|| invalid(format!("var `{name}` needs an `objref` (kind, name)")))?;
        let field = |key: &str| objref.get(key).and_then(Value::as_str).map(str::to_owned);
        let (Some(kind), Some(object_name)) = (field("kind"), field("name")) else {
            return Err(invalid(format!(
                "the `objref` of var `{name}` needs `kind` and `name`"
            )));
        };
        out.push(Var {
            name: name.to_owned(),
            kind,
            object_name,
            api_version: field("apiVersion"),
            field_path: entry
                .pointer("/fieldref/fieldpath")
                .and_then(Value::as_str)
                .unwrap_or("metadata.name")
                .to_owned(),
            file: k.file.clone(),
            line: k.line_of(&format!("name: {name}")),
        });
    }
    Ok(out)
}

/// `spec.ports[0].port` → its value in `doc`.
fn field<'v>(doc: &'v Value, path: &str) -> Option<&'v Value> {
    let mut current = doc;
    for segment in path.split('.') {
        let (key, indexes) = match segment.find('[') {
            Some(at) => (&segment[..at], &segment[at..]),
            None => (segment, ""),
        };
        if !key.is_empty() {
            current = current.get(key)?;
        }
        for index in indexes.split(']').filter_map(|part| part.strip_prefix('[')) {
            current = current.get(index.parse::<usize>().ok()?)?;
        }
    }
    Some(current)
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Resolves every var and substitutes it.
pub(crate) fn substitute(objects: &mut [Resource], vars: &[Var]) -> Result<(), KustomizeError> {
    if vars.is_empty() {
        return Ok(());
    }
    let mut values: Vec<(String, Value)> = Vec::new();
    for var in vars {
        let fail = |message: String| KustomizeError::InvalidKustomization {
            file: var.file.clone(),
            line: var.line,
            message,
        };
        if values.iter().any(|(name, _)| *name == var.name) {
            return Err(fail(format!(
                "var `{}` is declared twice; keep one",
                var.name
            )));
        }
        let matching: Vec<&Resource> = objects
            .iter()
            .filter(|o| o.kind() == var.kind && o.had_name(&var.object_name))
            .filter(|o| {
                var.api_version.as_deref().is_none_or(|wanted| {
                    o.doc.get("apiVersion").and_then(Value::as_str) == Some(wanted)
                })
            })
            .collect();
        let object = match matching.as_slice() {
            [one] => *one,
            [] => {
                return Err(fail(format!(
                    "var `{}` refers to {}/{}, which is not among the objects",
                    var.name, var.kind, var.object_name
                )));
            }
            _ => {
                return Err(fail(format!(
                    "var `{}` refers to {}/{}, which names several objects; give `objref` a namespace or apiVersion",
                    var.name, var.kind, var.object_name
                )));
            }
        };
        let value = field(&object.doc, &var.field_path).ok_or_else(|| {
            fail(format!(
                "var `{}`: {} has no field `{}`",
                var.name,
                object.describe(),
                var.field_path
            ))
        })?;
        values.push((var.name.clone(), value.clone()));
    }
    for object in objects.iter_mut() {
        let kind = object.kind().to_string();
        let pod_spec = match kind.as_str() {
            "Pod" => Some("/spec"),
            "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "Job"
            | "ReplicationController" => Some("/spec/template/spec"),
            "CronJob" => Some("/spec/jobTemplate/spec/template/spec"),
            _ => None,
        };
        if let Some(pointer) = pod_spec
            && let Some(spec) = object.doc.pointer_mut(pointer)
        {
            for list in ["containers", "initContainers"] {
                let Some(Value::Array(containers)) = spec.get_mut(list) else {
                    continue;
                };
                for container in containers {
                    for key in ["command", "args"] {
                        if let Some(Value::Array(items)) = container.get_mut(key) {
                            items.iter_mut().for_each(|item| replace(item, &values));
                        }
                    }
                    if let Some(Value::Array(env)) = container.get_mut("env") {
                        for variable in env {
                            if let Some(value) = variable.get_mut("value") {
                                replace(value, &values);
                            }
                        }
                    }
                }
            }
        }
        if kind == "Ingress" {
            if let Some(Value::Array(rules)) = object.doc.pointer_mut("/spec/rules") {
                for rule in rules {
                    if let Some(host) = rule.get_mut("host") {
                        replace(host, &values);
                    }
                }
            }
            if let Some(Value::Array(tls)) = object.doc.pointer_mut("/spec/tls") {
                for entry in tls {
                    if let Some(Value::Array(hosts)) = entry.get_mut("hosts") {
                        hosts.iter_mut().for_each(|host| replace(host, &values));
                    }
                }
            }
        }
    }
    Ok(())
}

/// `$(NAME)` in a string replaced by the var's value; a string that is only `$(NAME)` takes
/// the value with its type.
fn replace(value: &mut Value, values: &[(String, Value)]) {
    let Value::String(current) = value else {
        return;
    };
    if let Some((_, whole)) = values
        .iter()
        .find(|(name, _)| *current == format!("$({name})"))
    {
        *value = whole.clone();
        return;
    }
    let mut out = current.clone();
    for (name, replacement) in values {
        out = out.replace(&format!("$({name})"), &text(replacement));
    }
    *value = Value::String(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_with_indexes() {
        let doc = serde_json::json!({"spec": {"ports": [{"port": 5432}]}});
        assert_eq!(
            field(&doc, "spec.ports[0].port"),
            Some(&serde_json::json!(5432))
        );
        assert_eq!(field(&doc, "spec.ports[1].port"), None);
    }

    #[test]
    fn whole_references_keep_their_type_and_unknown_ones_stay() {
        let values = vec![
            ("PORT".to_string(), serde_json::json!(5432)),
            ("HOST".to_string(), serde_json::json!("db")),
        ];
        let mut whole = Value::String("$(PORT)".into());
        replace(&mut whole, &values);
        assert_eq!(whole, serde_json::json!(5432));
        let mut inside = Value::String("--db=$(HOST):$(PORT) $(OTHER)".into());
        replace(&mut inside, &values);
        assert_eq!(inside, serde_json::json!("--db=db:5432 $(OTHER)"));
    }
}
