//! `replacements`: copy a field of one object (the source) into fields of others (the
//! targets), as Kustomize's ReplacementTransformer does.
//!
//! A field path is dot-separated (`spec.template.spec.containers.[name=web].image`): map keys,
//! list indexes (`0`), and list elements chosen by a field (`[name=web]`). A source must
//! select exactly one object. Options split a string value by a `delimiter` and use the part
//! at `index`, in the source (to read) and in the target (to replace that part only);
//! `create` makes the missing maps of a target path.

use serde_json::{Map, Value};

use super::kustomization::Kustomization;
use super::selector::Target;
use super::{Files, KustomizeError, Resource, yaml};

/// One replacement.
#[derive(Debug, Clone)]
pub(crate) struct Replacement {
    source: Source,
    targets: Vec<TargetSpec>,
    /// Where it was written, for errors.
    file: String,
    line: Option<usize>,
}

#[derive(Debug, Clone)]
struct Source {
    select: Target,
    field_path: String,
    options: Options,
}

#[derive(Debug, Clone)]
struct TargetSpec {
    select: Target,
    reject: Vec<Target>,
    field_paths: Vec<String>,
    options: Options,
}

#[derive(Debug, Clone, Default)]
struct Options {
    delimiter: Option<String>,
    index: i64,
    create: bool,
}

impl Options {
    fn parse(value: Option<&Value>) -> Result<Options, String> {
        let Some(value) = value else {
            return Ok(Options::default());
        };
        let Value::Object(map) = value else {
            return Err("`options` must be a mapping (delimiter, index, create)".to_string());
        };
        let mut options = Options::default();
        for (key, value) in map {
            match key.as_str() {
                "delimiter" => options.delimiter = value.as_str().map(str::to_owned),
                "index" => {
                    options.index = value
                        .as_i64()
                        .ok_or_else(|| "`options.index` must be a number".to_string())?;
                }
                "create" => options.create = value.as_bool().unwrap_or(false),
                other => {
                    return Err(format!(
                        "unknown option `{other}`; options are delimiter, index, create"
                    ));
                }
            }
        }
        Ok(options)
    }
}

/// The selector fields of a replacement's `source` (the rest are its own).
const SOURCE_SELECTOR_FIELDS: [&str; 5] = ["group", "version", "kind", "name", "namespace"];

/// Reads the `replacements` of `k`: inline entries, and `path:` entries naming a file that
/// holds one replacement or a list of them.
pub(crate) fn parse(
    files: &dyn Files,
    k: &Kustomization<'_>,
    value: &Value,
) -> Result<Vec<Replacement>, KustomizeError> {
    let entries = super::kustomization::list(k, "replacements", value)?;
    let mut out = Vec::new();
    for entry in entries {
        let line = k.line_of("replacements:");
        if let Some(path) = entry.get("path").and_then(Value::as_str) {
            let missing = |message: String| KustomizeError::MissingResource {
                file: k.file.clone(),
                line: k.line_of(path),
                message,
            };
            let resolved = k.resolve(path).ok_or_else(|| {
                missing(format!(
                    "replacement file `{path}` points outside the source"
                ))
            })?;
            k.check_below_root(path, &resolved)?;
            let text = files.read(&resolved).ok_or_else(|| {
                missing(format!(
                    "replacement file `{path}` does not exist; fix the path, which is relative to the kustomization's directory"
                ))
            })?;
            for document in yaml::split_documents(text) {
                let value = yaml::parse_yaml(&resolved, document.line, document.text)?;
                let items = match value {
                    Value::Array(items) => items,
                    Value::Null => Vec::new(),
                    other => vec![other],
                };
                for item in &items {
                    out.push(one(item, &resolved, Some(document.line))?);
                }
            }
        } else {
            out.push(one(entry, &k.file, line)?);
        }
    }
    Ok(out)
}

fn one(value: &Value, file: &str, line: Option<usize>) -> Result<Replacement, KustomizeError> {
    let invalid = |message: String| KustomizeError::InvalidKustomization {
        file: file.to_owned(),
        line,
        message,
    };
    let Some(Value::Object(source)) = value.get("source") else {
        return Err(invalid(
            "a replacement needs a `source` mapping (kind, name, fieldPath)".to_string(),
        ));
    };
    let mut selector = Map::new();
    for key in SOURCE_SELECTOR_FIELDS {
        if let Some(v) = source.get(key) {
            selector.insert(key.to_owned(), v.clone());
        }
    }
    if let Some(key) = source.keys().find(|key| {
        !SOURCE_SELECTOR_FIELDS.contains(&key.as_str()) && *key != "fieldPath" && *key != "options"
    }) {
        return Err(invalid(format!(
            "unknown field `{key}` in a replacement's `source`"
        )));
    }
    let source = Source {
        select: Target::parse(&Value::Object(selector)).map_err(&invalid)?,
        field_path: source
            .get("fieldPath")
            .and_then(Value::as_str)
            .unwrap_or("metadata.name")
            .to_owned(),
        options: Options::parse(source.get("options")).map_err(&invalid)?,
    };
    let Some(Value::Array(targets)) = value.get("targets") else {
        return Err(invalid(
            "a replacement needs a list of `targets`".to_string(),
        ));
    };
    let mut parsed = Vec::new();
    for target in targets {
        let select = target
            .get("select")
            .ok_or_else(|| invalid("each target of a replacement needs `select`".to_string()))?;
        let reject = match target.get("reject") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| Target::parse(item).map_err(&invalid))
                .collect::<Result<_, _>>()?,
            _ => Vec::new(),
        };
        let field_paths = match target.get("fieldPaths") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => vec!["metadata.name".to_owned()],
        };
        parsed.push(TargetSpec {
            select: Target::parse(select).map_err(&invalid)?,
            reject,
            field_paths,
            options: Options::parse(target.get("options")).map_err(&invalid)?,
        });
    }
    Ok(Replacement {
        source,
        targets: parsed,
        file: file.to_owned(),
        line,
    })
}

/// One step of a field path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    /// `[field=value]`: the element of a list whose `field` is `value`.
    Element(String, String),
}

/// Splits a field path at dots outside brackets.
fn steps(path: &str) -> Vec<Step> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    for c in path.chars() {
        match c {
            '[' => {
                depth += 1;
                current.push(c);
            }
            ']' => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            '.' if depth == 0 => parts.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    parts.push(current);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(|part| {
            if let Some(inner) = part.strip_prefix('[').and_then(|p| p.strip_suffix(']'))
                && let Some((field, value)) = inner.split_once('=')
            {
                return Step::Element(field.to_owned(), value.to_owned());
            }
            match part.parse::<usize>() {
                Ok(index) => Step::Index(index),
                Err(_) => Step::Key(part),
            }
        })
        .collect()
}

fn get<'v>(value: &'v Value, steps: &[Step]) -> Option<&'v Value> {
    let mut current = value;
    for step in steps {
        current = match (step, current) {
            (Step::Key(key), Value::Object(map)) => map.get(key)?,
            (Step::Index(i), Value::Array(items)) => items.get(*i)?,
            (Step::Element(field, want), Value::Array(items)) => items
                .iter()
                .find(|item| item.get(field).is_some_and(|v| scalar_text(v) == *want))?,
            _ => return None,
        };
    }
    Some(current)
}

/// The node at `steps`, made (as maps) where missing when `create`.
fn get_mut<'v>(value: &'v mut Value, steps: &[Step], create: bool) -> Option<&'v mut Value> {
    let mut current = value;
    for step in steps {
        current = match step {
            Step::Key(key) => {
                if create && current.is_null() {
                    *current = Value::Object(Map::new());
                }
                let Value::Object(map) = current else {
                    return None;
                };
                if create {
                    map.entry(key.clone()).or_insert(Value::Null)
                } else {
                    map.get_mut(key)?
                }
            }
            Step::Index(i) => current.as_array_mut()?.get_mut(*i)?,
            Step::Element(field, want) => current
                .as_array_mut()?
                .iter_mut()
                .find(|item| item.get(field).is_some_and(|v| scalar_text(v) == *want))?,
        };
    }
    Some(current)
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The part at `index` of `text` split by `delimiter` (Kustomize's options).
fn part(text: &str, options: &Options) -> Option<String> {
    let Some(delimiter) = &options.delimiter else {
        return Some(text.to_owned());
    };
    let parts: Vec<&str> = text.split(delimiter.as_str()).collect();
    usize::try_from(options.index)
        .ok()
        .and_then(|i| parts.get(i))
        .map(|p| (*p).to_owned())
}

/// Runs every replacement on `objects`.
pub(crate) fn apply(
    objects: &mut [Resource],
    replacements: &[Replacement],
) -> Result<(), KustomizeError> {
    for replacement in replacements {
        let fail = |message: String| KustomizeError::InvalidKustomization {
            file: replacement.file.clone(),
            line: replacement.line,
            message,
        };
        let sources: Vec<&Resource> = objects
            .iter()
            .filter(|o| replacement.source.select.matches(o))
            .collect();
        let source = match sources.as_slice() {
            [one] => *one,
            [] => {
                return Err(fail(
                    "the source of a replacement selects no object; check its kind and name"
                        .to_string(),
                ));
            }
            _ => {
                return Err(fail(format!(
                    "the source of a replacement selects {} objects ({}); it must select exactly one",
                    sources.len(),
                    sources
                        .iter()
                        .map(|o| o.describe())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        };
        let path = &replacement.source.field_path;
        let mut value = get(&source.doc, &steps(path)).cloned().ok_or_else(|| {
            fail(format!(
                "the source {} has no field `{path}`",
                source.describe()
            ))
        })?;
        if replacement.source.options.delimiter.is_some() {
            let text = scalar_text(&value);
            value = Value::String(part(&text, &replacement.source.options).ok_or_else(|| {
                fail(format!(
                    "`{text}` has no part {} when split by the source's delimiter",
                    replacement.source.options.index
                ))
            })?);
        }
        for target in &replacement.targets {
            for object in objects
                .iter_mut()
                .filter(|o| target.select.matches(o) && !target.reject.iter().any(|r| r.matches(o)))
            {
                for field_path in &target.field_paths {
                    let steps = steps(field_path);
                    let Some(node) = get_mut(&mut object.doc, &steps, target.options.create) else {
                        continue;
                    };
                    *node = match (&target.options.delimiter, &*node) {
                        (Some(delimiter), Value::String(existing)) => {
                            let mut parts: Vec<String> = existing
                                .split(delimiter.as_str())
                                .map(str::to_owned)
                                .collect();
                            let replacement_text = scalar_text(&value);
                            match usize::try_from(target.options.index) {
                                Ok(i) if i < parts.len() => parts[i] = replacement_text,
                                Ok(_) => parts.push(replacement_text),
                                Err(_) => parts.insert(0, replacement_text),
                            }
                            Value::String(parts.join(delimiter))
                        }
                        _ => value.clone(),
                    };
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_split_outside_brackets() {
        assert_eq!(
            steps("spec.containers.[name=web.v2].env.0.value"),
            vec![
                Step::Key("spec".into()),
                Step::Key("containers".into()),
                Step::Element("name".into(), "web.v2".into()),
                Step::Key("env".into()),
                Step::Index(0),
                Step::Key("value".into()),
            ]
        );
    }

    #[test]
    fn sources_must_select_one_object_and_targets_honour_reject_and_create() {
        use crate::test_support::{files, objects};
        let objects_yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: one}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {x: two}\n";
        let render = |replacements: &str| {
            let source = files(&[
                (
                    "kustomization.yaml",
                    &format!("resources: [cm.yaml]\nreplacements:\n{replacements}"),
                ),
                ("cm.yaml", objects_yaml),
            ]);
            crate::render(&source, "")
        };
        let none = render(
            "- source: {kind: ConfigMap, name: missing, fieldPath: data.x}\n  targets: [{select: {kind: ConfigMap}, fieldPaths: [data.y]}]\n",
        );
        assert!(
            none.as_ref()
                .is_err_and(|e| e.to_string().contains("selects no object")),
            "{none:?}"
        );
        let several = render(
            "- source: {kind: ConfigMap, fieldPath: data.x}\n  targets: [{select: {kind: ConfigMap}, fieldPaths: [data.y]}]\n",
        );
        assert!(
            several
                .as_ref()
                .is_err_and(|e| e.to_string().contains("selects 2 objects")),
            "{several:?}"
        );
        let documents = render("- source: {kind: ConfigMap, name: a, fieldPath: data.x}\n  targets:\n  - select: {kind: ConfigMap}\n    reject: [{name: a}]\n    fieldPaths: [metadata.annotations.copied, data.x]\n    options: {create: true}\n").expect("renders");
        let rendered = objects(&documents);
        assert_eq!(rendered[0]["data"]["x"], "one");
        assert!(rendered[0]["metadata"].get("annotations").is_none());
        assert_eq!(rendered[1]["data"]["x"], "one");
        assert_eq!(rendered[1]["metadata"]["annotations"]["copied"], "one");
    }

    #[test]
    fn delimited_parts() {
        let options = Options {
            delimiter: Some(":".into()),
            index: 1,
            create: false,
        };
        assert_eq!(part("db:5432", &options).as_deref(), Some("5432"));
        assert_eq!(part("db", &options), None);
    }
}
