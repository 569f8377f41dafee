//! `configMapGenerator` and `secretGenerator`: building ConfigMaps and Secrets from literals,
//! files and env files, merging with or replacing a base's generated object (`behavior`),
//! and the content-hash name suffix added once rendering is otherwise done.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use super::kustomization::{Kustomization, check_entry_keys, scalar_string, string_map};
use super::{Files, KustomizeError, Resource, as_object, hash, object_field};

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Behavior {
    Create,
    Merge,
    Replace,
}

/// One entry of `configMapGenerator` or `secretGenerator`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GeneratorSpec {
    pub kind: &'static str,
    pub name: String,
    pub namespace: Option<String>,
    pub behavior: Behavior,
    pub literals: Vec<String>,
    pub files: Vec<String>,
    pub envs: Vec<String>,
    pub secret_type: Option<String>,
    pub options: Value,
    pub line: Option<usize>,
}

const ENTRY_FIELDS: [&str; 9] = [
    "name",
    "namespace",
    "behavior",
    "literals",
    "files",
    "envs",
    "env",
    "type",
    "options",
];

impl GeneratorSpec {
    pub fn parse(
        k: &Kustomization<'_>,
        field: &str,
        entry: &Value,
    ) -> Result<Self, KustomizeError> {
        let invalid = |message: String| k.invalid(&format!("{field}:"), message);
        let Value::Object(object) = entry else {
            return Err(invalid(format!(
                "every entry of `{field}` must be a mapping with `name`"
            )));
        };
        check_entry_keys(k, field, object, &ENTRY_FIELDS)?;
        let Some(name) = object.get("name").and_then(Value::as_str) else {
            return Err(invalid(format!("every entry of `{field}` needs a `name`")));
        };
        let line = k.line_of(&format!("name: {name}"));
        let strings = |key: &str| -> Result<Vec<String>, KustomizeError> {
            match object.get(key) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::String(single)) => Ok(vec![single.clone()]),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| {
                        scalar_string(item).ok_or_else(|| {
                            invalid(format!(
                                "`{key}` of generator `{name}` must be a list of strings"
                            ))
                        })
                    })
                    .collect(),
                Some(_) => Err(invalid(format!(
                    "`{key}` of generator `{name}` must be a list of strings"
                ))),
            }
        };
        let behavior = match object.get("behavior").and_then(Value::as_str) {
            None | Some("create") | Some("") => Behavior::Create,
            Some("merge") => Behavior::Merge,
            Some("replace") => Behavior::Replace,
            Some(other) => {
                return Err(invalid(format!(
                    "unknown behavior `{other}` for generator `{name}`; use create, merge or replace"
                )));
            }
        };
        let mut envs = strings("envs")?;
        envs.extend(strings("env")?);
        Ok(Self {
            kind: if field == "secretGenerator" {
                "Secret"
            } else {
                "ConfigMap"
            },
            name: name.to_string(),
            namespace: object
                .get("namespace")
                .and_then(Value::as_str)
                .map(str::to_string),
            behavior,
            literals: strings("literals")?,
            files: strings("files")?,
            envs,
            secret_type: object
                .get("type")
                .and_then(Value::as_str)
                .map(str::to_string),
            options: object.get("options").cloned().unwrap_or(Value::Null),
            line,
        })
    }
}

/// Options after combining `generatorOptions` with an entry's `options`.
struct Options {
    labels: Vec<(String, String)>,
    annotations: Vec<(String, String)>,
    disable_hash: bool,
    immutable: bool,
}

fn options(k: &Kustomization<'_>, spec: &GeneratorSpec) -> Result<Options, KustomizeError> {
    let mut combined = Options {
        labels: Vec::new(),
        annotations: Vec::new(),
        disable_hash: false,
        immutable: false,
    };
    // Entry options come last so their labels win; a `true` anywhere disables the hash.
    for options in [&k.generator_options, &spec.options] {
        if let Some(labels) = options.get("labels") {
            combined.labels.extend(string_map(k, "labels", labels)?);
        }
        if let Some(annotations) = options.get("annotations") {
            combined
                .annotations
                .extend(string_map(k, "annotations", annotations)?);
        }
        let flag = |key: &str| options.get(key).and_then(Value::as_bool).unwrap_or(false);
        combined.disable_hash |= flag("disableNameSuffixHash");
        combined.immutable |= flag("immutable");
    }
    Ok(combined)
}

/// Runs the generators of `k`, adding to or merging into `objects`.
pub(crate) fn generate(
    files: &dyn Files,
    k: &Kustomization<'_>,
    objects: &mut Vec<Resource>,
) -> Result<(), KustomizeError> {
    for spec in k.config_maps.iter().chain(&k.secrets) {
        let invalid = |message: String| KustomizeError::InvalidGenerator {
            file: k.file.clone(),
            line: spec.line,
            message,
        };
        let data = collect_data(files, k, spec)?;
        let options = options(k, spec)?;
        let encoded: Map<String, Value> = data
            .into_iter()
            .map(|(key, value)| {
                let value = if spec.kind == "Secret" {
                    secret_base64(value.as_bytes())
                } else {
                    value
                };
                (key, Value::String(value))
            })
            .collect();
        if spec.behavior == Behavior::Create {
            let mut object =
                json!({"apiVersion": "v1", "kind": spec.kind, "metadata": {"name": spec.name}});
            let metadata = object_field(&mut object, "metadata");
            if let Some(namespace) = &spec.namespace {
                metadata.insert("namespace".to_string(), Value::String(namespace.clone()));
            }
            add_metadata(&mut object, &options);
            let root = as_object(&mut object);
            if spec.kind == "Secret" {
                let secret_type = spec
                    .secret_type
                    .clone()
                    .unwrap_or_else(|| "Opaque".to_string());
                root.insert("type".to_string(), Value::String(secret_type));
            }
            if options.immutable {
                root.insert("immutable".to_string(), Value::Bool(true));
            }
            if !encoded.is_empty() {
                root.insert("data".to_string(), Value::Object(encoded));
            }
            let mut resource = Resource::new(k.file.clone(), 1, object);
            resource.hash_suffix = !options.disable_hash;
            objects.push(resource);
            continue;
        }
        let existing = objects.iter_mut().find(|object| {
            object.kind() == spec.kind
                && object.had_name(&spec.name)
                && spec
                    .namespace
                    .as_deref()
                    .is_none_or(|namespace| object.namespace() == Some(namespace))
        });
        let Some(existing) = existing else {
            return Err(invalid(format!(
                "`behavior: {}` needs an existing {} named `{}` from a base; list the base in `resources` or use `behavior: create`",
                if spec.behavior == Behavior::Merge {
                    "merge"
                } else {
                    "replace"
                },
                spec.kind,
                spec.name
            )));
        };
        let root = as_object(&mut existing.doc);
        match spec.behavior {
            Behavior::Replace => {
                root.shift_remove("binaryData");
                root.insert("data".to_string(), Value::Object(encoded));
                // The replacement is this kustomization's object: its origin is here.
                if let Some(Value::Object(annotations)) = root
                    .get_mut("metadata")
                    .and_then(|m| m.get_mut("annotations"))
                {
                    annotations.shift_remove("config.kubernetes.io/origin");
                }
                existing.origin = k.file.clone();
                existing.generated_by = None;
            }
            _ => {
                let data = object_field(&mut existing.doc, "data");
                data.extend(encoded);
            }
        }
        if let (Some(secret_type), Value::Object(root)) = (&spec.secret_type, &mut existing.doc) {
            root.insert("type".to_string(), Value::String(secret_type.clone()));
        }
        add_metadata(&mut existing.doc, &options);
        if options.immutable {
            as_object(&mut existing.doc).insert("immutable".to_string(), Value::Bool(true));
        }
        existing.hash_suffix &= !options.disable_hash;
    }
    Ok(())
}

fn add_metadata(object: &mut Value, options: &Options) {
    let metadata = object_field(object, "metadata");
    for (field, pairs) in [
        ("labels", &options.labels),
        ("annotations", &options.annotations),
    ] {
        if pairs.is_empty() {
            continue;
        }
        let map = as_object(
            metadata
                .entry(field.to_string())
                .or_insert_with(|| Value::Object(Map::new())),
        );
        for (key, value) in pairs {
            map.insert(key.clone(), Value::String(value.clone()));
        }
    }
}

/// The key/value pairs of a generator, in the order literals, files, env files.
fn collect_data(
    files: &dyn Files,
    k: &Kustomization<'_>,
    spec: &GeneratorSpec,
) -> Result<Vec<(String, String)>, KustomizeError> {
    let invalid = |message: String| KustomizeError::InvalidGenerator {
        file: k.file.clone(),
        line: spec.line,
        message,
    };
    let mut data: Vec<(String, String)> = Vec::new();
    let mut add = |key: String, value: String, source: &str| -> Result<(), KustomizeError> {
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(invalid(format!(
                "key `{key}` from {source} in generator `{}` is not a valid ConfigMap/Secret key (letters, digits, `-`, `_`, `.`)",
                spec.name
            )));
        }
        if data.iter().any(|(existing, _)| *existing == key) {
            return Err(invalid(format!(
                "key `{key}` appears twice in generator `{}`; keep one",
                spec.name
            )));
        }
        data.push((key, value));
        Ok(())
    };
    for literal in &spec.literals {
        let Some((key, value)) = literal.split_once('=') else {
            return Err(invalid(format!(
                "literal `{literal}` in generator `{}` must be KEY=VALUE",
                spec.name
            )));
        };
        add(key.to_string(), unquote(value).to_string(), "a literal")?;
    }
    for entry in &spec.files {
        let (key, path) = match entry.split_once('=') {
            Some((key, path)) => (Some(key.to_string()), path),
            None => (None, entry.as_str()),
        };
        let resolved = read_source(files, k, spec, path)?;
        if files.is_dir(&resolved) {
            for child in files.list(&resolved) {
                if let Some(text) = files.read(&child) {
                    add(
                        base_name(&child).to_string(),
                        text.to_string(),
                        &format!("file `{child}`"),
                    )?;
                }
            }
            continue;
        }
        let text = files.read(&resolved).unwrap_or_default();
        let key = key.unwrap_or_else(|| base_name(path).to_string());
        add(key, text.to_string(), &format!("file `{path}`"))?;
    }
    for path in &spec.envs {
        let resolved = read_source(files, k, spec, path)?;
        let text = files.read(&resolved).unwrap_or_default();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for line in text.lines() {
            let line = line.trim_start().trim_end_matches('\r');
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            // A bare `KEY` is an empty value. Kustomize would take the value from its own
            // environment when the variable is set there; braid never does: a source from a
            // pull request must not copy the CI runner's environment into a ConfigMap.
            let (key, value) = line.split_once('=').unwrap_or((line, ""));
            add(
                key.to_string(),
                value.to_string(),
                &format!("env file `{path}`"),
            )?;
        }
    }
    Ok(data)
}

/// Resolves a generator source path, which must exist.
fn read_source(
    files: &dyn Files,
    k: &Kustomization<'_>,
    spec: &GeneratorSpec,
    path: &str,
) -> Result<String, KustomizeError> {
    if let Some(resolved) = k.resolve(path) {
        k.check_below_root(path, &resolved)?;
    }
    k.resolve(path)
        .filter(|resolved| files.read(resolved).is_some() || files.is_dir(resolved))
        .ok_or_else(|| KustomizeError::MissingResource {
            file: k.file.clone(),
            line: k.line_of(path),
            message: format!("file `{path}` of generator `{}` does not exist; fix the path, which is relative to the kustomization's directory", spec.name),
        })
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Kustomize drops one pair of matching quotes around a literal's value.
fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if value.len() >= 2 && value.starts_with(quote) && value.ends_with(quote) {
            return &value[1..value.len() - 1];
        }
    }
    value
}

/// Appends `-<hash>` to the name of every generated object that wants it. The hash does not
/// cover the name (see [`hash::name_hash`]), so one generator gives one suffix in its base
/// and in every overlay.
pub(crate) fn add_hash_suffixes(objects: &mut [Resource]) {
    for object in objects.iter_mut().filter(|object| object.hash_suffix) {
        let name = format!("{}-{}", object.name(), hash::name_hash(&object.doc));
        object.set_name(name);
        object.hash_suffix = false;
    }
}

/// A generated Secret's value as Kustomize writes it (kyaml's `encodeBase64`): base64, and
/// when that is 70 characters or longer, cut into lines of 70, each ending in a newline.
fn secret_base64(bytes: &[u8]) -> String {
    const LINE: usize = 70;
    let encoded = STANDARD.encode(bytes);
    if encoded.len() < LINE {
        return encoded;
    }
    let mut out = String::with_capacity(encoded.len() + encoded.len() / LINE + 1);
    for chunk in encoded.as_bytes().chunks(LINE) {
        // Base64 is ASCII, so every chunk is text.
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[path = "generators_tests.rs"]
mod tests;
