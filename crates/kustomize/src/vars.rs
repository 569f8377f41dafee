//! `vars`, Kustomize's older way to put one object's field into another's text: each var
//! names an object (`objref`, by the name it was written with) and a field (`fieldref`,
//! `metadata.name` by default), and `$(NAME)` in the fields Kustomize substitutes is replaced
//! by the value once the whole tree is rendered (so a prefix from an overlay is in it).
//!
//! The fields substituted are those of Kustomize's default `varReference` configuration that
//! matter for workloads: containers' and init containers' `command`, `args` and `env[].value`
//! in every pod template, and an Ingress's hosts. A string that is exactly `$(NAME)` takes the
//! value with its type (a port stays a number); `$(UNKNOWN)` is left as written.

use crate::fieldspec::visit_kustomize_path;
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
    namespace: Option<String>,
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
            namespace: field("namespace"),
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

/// Binds each var `k` declares to the one object of `objects` — the objects of that
/// kustomization, after its bases, components, generators and transformers — its `objref`
/// names (by any name the object had; by namespace too when the objref gives one), as
/// Kustomize binds vars where they are declared: two bases may each declare a var on an
/// object of the same name.
pub(crate) fn bind(objects: &mut [Resource], vars: &[Var]) -> Result<(), KustomizeError> {
    for var in vars {
        let fail = |message: String| KustomizeError::InvalidKustomization {
            file: var.file.clone(),
            line: var.line,
            message,
        };
        let matching: Vec<usize> = objects
            .iter()
            .enumerate()
            .filter(|(_, o)| o.kind() == var.kind && o.had_name(&var.object_name))
            .filter(|(_, o)| {
                var.api_version.as_deref().is_none_or(|wanted| {
                    o.doc.get("apiVersion").and_then(Value::as_str) == Some(wanted)
                })
            })
            .filter(|(_, o)| {
                var.namespace.as_deref().is_none_or(|wanted| {
                    o.namespace().unwrap_or("default") == wanted
                        || o.previous_namespaces.iter().any(|n| n == wanted)
                })
            })
            .map(|(i, _)| i)
            .collect();
        match matching.as_slice() {
            [one] => objects[*one].vars.push(var.name.clone()),
            [] => {
                return Err(fail(format!(
                    "var `{}` refers to {}/{}, which is not among the objects of the kustomization declaring it",
                    var.name, var.kind, var.object_name
                )));
            }
            _ => {
                return Err(fail(format!(
                    "var `{}` refers to {}/{}, which names several objects; give `objref` a namespace or apiVersion",
                    var.name, var.kind, var.object_name
                )));
            }
        }
    }
    Ok(())
}

/// Resolves every var (from the object it was bound to) and substitutes it.
pub(crate) fn substitute(
    objects: &mut [Resource],
    vars: &[Var],
    configured: &[crate::config::Spec],
) -> Result<(), KustomizeError> {
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
        let Some(object) = objects.iter().find(|o| o.vars.contains(&var.name)) else {
            return Err(fail(format!(
                "var `{}` refers to {}/{}, which is not among the objects",
                var.name, var.kind, var.object_name
            )));
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
        for (spec_kind, path) in VAR_REFERENCES {
            if spec_kind.is_empty() || spec_kind == kind {
                visit_kustomize_path(&mut object.doc, path, false, &mut |value| {
                    replace_within(value, &values);
                });
            }
        }
        crate::config::visit_specs(object, configured, &mut |value| {
            replace_within(value, &values);
        });
    }
    Ok(())
}

/// Where Kustomize substitutes vars (its default `varReference` configuration, in its order:
/// `api/internal/konfig/builtinpluginconsts/varreference.go` of kustomize api v0.21.1); an
/// empty kind is every kind. Lists along a path are walked element by element.
const VAR_REFERENCES: [(&str, &str); 72] = [
    (
        "CronJob",
        "spec/jobTemplate/spec/template/spec/containers/args",
    ),
    (
        "CronJob",
        "spec/jobTemplate/spec/template/spec/containers/command",
    ),
    (
        "CronJob",
        "spec/jobTemplate/spec/template/spec/containers/env/value",
    ),
    (
        "CronJob",
        "spec/jobTemplate/spec/template/spec/containers/volumeMounts/mountPath",
    ),
    (
        "CronJob",
        "spec/jobTemplate/spec/template/spec/initContainers/args",
    ),
    (
        "CronJob",
        "spec/jobTemplate/spec/template/spec/initContainers/command",
    ),
    (
        "CronJob",
        "spec/jobTemplate/spec/template/spec/initContainers/env/value",
    ),
    (
        "CronJob",
        "spec/jobTemplate/spec/template/spec/initContainers/volumeMounts/mountPath",
    ),
    (
        "CronJob",
        "spec/jobTemplate/spec/template/volumes/nfs/server",
    ),
    ("DaemonSet", "spec/template/spec/containers/args"),
    ("DaemonSet", "spec/template/spec/containers/command"),
    ("DaemonSet", "spec/template/spec/containers/env/value"),
    (
        "DaemonSet",
        "spec/template/spec/containers/volumeMounts/mountPath",
    ),
    ("DaemonSet", "spec/template/spec/initContainers/args"),
    ("DaemonSet", "spec/template/spec/initContainers/command"),
    ("DaemonSet", "spec/template/spec/initContainers/env/value"),
    (
        "DaemonSet",
        "spec/template/spec/initContainers/volumeMounts/mountPath",
    ),
    ("DaemonSet", "spec/template/spec/volumes/nfs/server"),
    ("Deployment", "spec/template/spec/containers/args"),
    ("Deployment", "spec/template/spec/containers/command"),
    ("Deployment", "spec/template/spec/containers/env/value"),
    (
        "Deployment",
        "spec/template/spec/containers/volumeMounts/mountPath",
    ),
    ("Deployment", "spec/template/spec/initContainers/args"),
    ("Deployment", "spec/template/spec/initContainers/command"),
    ("Deployment", "spec/template/spec/initContainers/env/value"),
    (
        "Deployment",
        "spec/template/spec/initContainers/volumeMounts/mountPath",
    ),
    ("Deployment", "spec/template/spec/volumes/nfs/server"),
    ("Deployment", "spec/template/metadata/annotations"),
    ("Ingress", "spec/rules/host"),
    ("Ingress", "spec/tls/hosts"),
    ("Ingress", "spec/tls/secretName"),
    ("Job", "spec/template/spec/containers/args"),
    ("Job", "spec/template/spec/containers/command"),
    ("Job", "spec/template/spec/containers/env/value"),
    (
        "Job",
        "spec/template/spec/containers/volumeMounts/mountPath",
    ),
    ("Job", "spec/template/spec/initContainers/args"),
    ("Job", "spec/template/spec/initContainers/command"),
    ("Job", "spec/template/spec/initContainers/env/value"),
    (
        "Job",
        "spec/template/spec/initContainers/volumeMounts/mountPath",
    ),
    ("Job", "spec/template/spec/volumes/nfs/server"),
    ("Pod", "spec/containers/args"),
    ("Pod", "spec/containers/command"),
    ("Pod", "spec/containers/env/value"),
    ("Pod", "spec/containers/volumeMounts/mountPath"),
    ("Pod", "spec/initContainers/args"),
    ("Pod", "spec/initContainers/command"),
    ("Pod", "spec/initContainers/env/value"),
    ("Pod", "spec/initContainers/volumeMounts/mountPath"),
    ("Pod", "spec/volumes/nfs/server"),
    ("ReplicaSet", "spec/template/spec/containers/args"),
    ("ReplicaSet", "spec/template/spec/containers/command"),
    ("ReplicaSet", "spec/template/spec/containers/env/value"),
    (
        "ReplicaSet",
        "spec/template/spec/containers/volumeMounts/mountPath",
    ),
    ("ReplicaSet", "spec/template/spec/initContainers/args"),
    ("ReplicaSet", "spec/template/spec/initContainers/command"),
    ("ReplicaSet", "spec/template/spec/initContainers/env/value"),
    (
        "ReplicaSet",
        "spec/template/spec/initContainers/volumeMounts/mountPath",
    ),
    ("ReplicaSet", "spec/template/spec/volumes/nfs/server"),
    ("Service", "spec/ports/port"),
    ("Service", "spec/ports/targetPort"),
    ("StatefulSet", "spec/template/spec/containers/args"),
    ("StatefulSet", "spec/template/spec/containers/command"),
    ("StatefulSet", "spec/template/spec/containers/env/value"),
    (
        "StatefulSet",
        "spec/template/spec/containers/volumeMounts/mountPath",
    ),
    ("StatefulSet", "spec/template/spec/initContainers/args"),
    ("StatefulSet", "spec/template/spec/initContainers/command"),
    ("StatefulSet", "spec/template/spec/initContainers/env/value"),
    (
        "StatefulSet",
        "spec/template/spec/initContainers/volumeMounts/mountPath",
    ),
    ("StatefulSet", "spec/volumeClaimTemplates/spec/nfs/server"),
    ("PersistentVolume", "spec/nfs/server"),
    ("", "metadata/labels"),
    ("", "metadata/annotations"),
];

/// Substitutes vars in a field's value: a string, each string of a list (`args`), or each
/// string value of a map (`metadata/labels`).
fn replace_within(value: &mut Value, values: &[(String, Value)]) {
    match value {
        Value::String(_) => replace(value, values),
        Value::Array(items) => items
            .iter_mut()
            .filter(|item| item.is_string())
            .for_each(|item| replace(item, values)),
        Value::Object(map) => map
            .values_mut()
            .filter(|item| item.is_string())
            .for_each(|item| replace(item, values)),
        _ => {}
    }
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
