//! The `patches`, `patchesStrategicMerge` and `patchesJson6902` fields: loading patches (inline
//! or from files), choosing their targets and applying them as strategic merge or JSON 6902.

use serde_json::{Map, Value};

use super::kustomization::{Kustomization, check_entry_keys, list};
use super::selector::Target;
use super::strategic_merge::{self, Outcome};
use super::{Files, KustomizeError, Resource, json6902, yaml};

/// When a patch runs: Kustomize applies `patchesJson6902` after the label and annotation
/// transformers and every other patch before the namespace transformer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Stage {
    BeforeTransformers,
    AfterAnnotations,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PatchSource {
    Inline(String),
    /// A path relative to the source root.
    File(String),
}

/// One patch entry of a kustomization.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PatchSpec {
    pub source: PatchSource,
    pub target: Option<Target>,
    pub stage: Stage,
    /// The field it came from, for messages.
    pub field: &'static str,
    /// Line of the entry in the kustomization.
    pub line: Option<usize>,
    pub allow_name_change: bool,
    pub allow_kind_change: bool,
}

/// Reads the three patch fields of a kustomization, in the order Kustomize applies them.
pub(crate) fn parse_patch_specs(
    k: &Kustomization<'_>,
    object: &Map<String, Value>,
) -> Result<Vec<PatchSpec>, KustomizeError> {
    let mut specs = Vec::new();
    if let Some(value) = object.get("patchesStrategicMerge") {
        for entry in list(k, "patchesStrategicMerge", value)? {
            let Some(text) = entry.as_str() else {
                return Err(k.invalid(
                    "patchesStrategicMerge:",
                    "every entry of `patchesStrategicMerge` must be a file path or an inline patch"
                        .to_string(),
                ));
            };
            // Kustomize accepts inline patches here too; a path is a single line.
            let source = if text.contains('\n') {
                PatchSource::Inline(text.to_string())
            } else {
                file_source(k, "patchesStrategicMerge", text)?
            };
            let needle = text.lines().next().unwrap_or(text);
            specs.push(spec(
                source,
                None,
                Stage::BeforeTransformers,
                "patchesStrategicMerge",
                k.line_of(needle),
            ));
        }
    }
    for (field, stage) in [
        ("patches", Stage::BeforeTransformers),
        ("patchesJson6902", Stage::AfterAnnotations),
    ] {
        let Some(value) = object.get(field) else {
            continue;
        };
        for entry in list(k, field, value)? {
            let Value::Object(entry) = entry else {
                return Err(k.invalid(
                    &format!("{field}:"),
                    format!("every entry of `{field}` must be a mapping with `path` or `patch`"),
                ));
            };
            check_entry_keys(k, field, entry, &["path", "patch", "target", "options"])?;
            let path = entry.get("path").and_then(Value::as_str);
            let inline = entry.get("patch").and_then(Value::as_str);
            let (source, needle) = match (path, inline) {
                (Some(path), None) => (file_source(k, field, path)?, path),
                (None, Some(text)) => (
                    PatchSource::Inline(text.to_string()),
                    text.lines().next().unwrap_or(text),
                ),
                _ => {
                    return Err(k.invalid(&format!("{field}:"), format!("every entry of `{field}` needs exactly one of `path` (a file) or `patch` (inline text)")));
                }
            };
            let line = k.line_of(needle);
            let target =
                match entry.get("target") {
                    None | Some(Value::Null) => None,
                    Some(value) => Some(Target::parse(value).map_err(|message| {
                        KustomizeError::InvalidPatch {
                            file: k.file.clone(),
                            line: k.line_of("target:").or(line),
                            message,
                        }
                    })?),
                };
            if field == "patchesJson6902" && target.is_none() {
                return Err(KustomizeError::InvalidPatch {
                    file: k.file.clone(),
                    line,
                    message:
                        "a `patchesJson6902` entry needs a `target` naming the object to patch"
                            .to_string(),
                });
            }
            let option = |key: &str| {
                entry
                    .get("options")
                    .and_then(|options| options.get(key))
                    .and_then(Value::as_bool)
                    .unwrap_or(false)
            };
            let mut patch = spec(source, target, stage, field, line);
            patch.allow_name_change = option("allowNameChange");
            patch.allow_kind_change = option("allowKindChange");
            specs.push(patch);
        }
    }
    Ok(specs)
}

fn spec(
    source: PatchSource,
    target: Option<Target>,
    stage: Stage,
    field: &'static str,
    line: Option<usize>,
) -> PatchSpec {
    PatchSpec {
        source,
        target,
        stage,
        field,
        line,
        allow_name_change: false,
        allow_kind_change: false,
    }
}

fn file_source(
    k: &Kustomization<'_>,
    field: &str,
    path: &str,
) -> Result<PatchSource, KustomizeError> {
    let resolved = k
        .resolve(path)
        .ok_or_else(|| KustomizeError::MissingResource {
            file: k.file.clone(),
            line: k.line_of(path),
            message: format!("patch file `{path}` in `{field}` points outside the source"),
        })?;
    k.check_below_root(path, &resolved)?;
    Ok(PatchSource::File(resolved))
}

/// Applies the patches of `k` that belong to `stage`, in order.
pub(crate) fn apply_patches(
    files: &dyn Files,
    k: &Kustomization<'_>,
    objects: &mut Vec<Resource>,
    stage: Stage,
    config: &crate::config::TransformerConfig,
) -> Result<(), KustomizeError> {
    let mut schemas = crate::schema::Schemas::default();
    if k.patches.iter().any(|patch| patch.stage == stage) {
        if let Some(openapi) = &config.openapi {
            schemas.add_openapi(openapi);
        }
        schemas.add_crds(objects);
        // Custom kinds with no schema here: the cluster's, when it can be asked.
        let mut asked: Vec<String> = Vec::new();
        for object in objects.iter() {
            let group = object.group();
            let api_version = object
                .doc
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if crate::BUILT_IN_GROUPS.contains(&group)
                || schemas.knows(group, object.kind())
                || asked.iter().any(|a| a == api_version)
            {
                continue;
            }
            asked.push(api_version.to_string());
            if let Some(document) = files.cluster_schema(api_version) {
                schemas.add_openapi(&document);
            }
        }
    }
    for patch in k.patches.iter().filter(|patch| patch.stage == stage) {
        // Errors point into the patch file, or at the entry of an inline patch.
        let (file, text, base_line) = match &patch.source {
            PatchSource::Inline(text) => (k.file.clone(), text.as_str(), patch.line),
            PatchSource::File(path) => {
                let text = files.read(path).ok_or_else(|| KustomizeError::MissingResource {
                    file: k.file.clone(),
                    line: patch.line,
                    message: format!("patch file `{path}` listed in `{}` does not exist; fix the path, which is relative to the kustomization's directory", patch.field),
                })?;
                (path.clone(), text, None)
            }
        };
        let invalid = |line: Option<usize>, message: String| KustomizeError::InvalidPatch {
            file: file.clone(),
            line,
            message,
        };
        // Kustomize reads a patch with no content as a JSON 6902 patch, which needs a target.
        if patch.target.is_none() && yaml::split_documents(text).is_empty() {
            return Err(KustomizeError::InvalidPatch {
                file: k.file.clone(),
                line: patch.line,
                message: format!(
                    "the patch {} is empty; Kustomize refuses an empty patch without a `target` (it reads it as a JSON 6902 patch): write the patch or remove the entry",
                    match &patch.source {
                        PatchSource::File(path) => format!("file `{path}`"),
                        PatchSource::Inline(_) => "given inline".to_string(),
                    }
                ),
            });
        }
        for raw in yaml::split_documents(text) {
            let line = base_line.or(Some(raw.line));
            let document = yaml::parse_yaml(&file, raw.line, raw.text).map_err(|error| {
                match (&patch.source, error) {
                    (PatchSource::Inline(_), KustomizeError::InvalidYaml { message, .. }) => {
                        invalid(patch.line, message)
                    }
                    (_, error) => error,
                }
            })?;
            match document {
                Value::Null => {}
                Value::Array(ops) => {
                    let Some(target) = &patch.target else {
                        return Err(KustomizeError::InvalidPatch {
                            file: k.file.clone(),
                            line: patch.line,
                            message: "a JSON 6902 patch (a list of operations) needs a `target` naming the object to patch".to_string(),
                        });
                    };
                    for object in objects.iter_mut().filter(|object| target.matches(object)) {
                        json6902::apply(&mut object.doc, &ops).map_err(|message| invalid(line, format!("{message} in {}", object.describe())))?;
                    }
                }
                Value::Object(_) if patch.field == "patchesJson6902" => {
                    return Err(invalid(line, "a `patchesJson6902` patch must be a list of operations".to_string()));
                }
                Value::Object(ref map) => {
                    apply_strategic_merge(objects, patch, map, &document, &schemas).map_err(|message| match message {
                        Failure::NotFound(message) => KustomizeError::PatchTargetNotFound {
                            file: file.clone(),
                            line,
                            message,
                        },
                        Failure::Invalid(message) => invalid(line, message),
                    })?;
                }
                _ => return Err(invalid(line, "a patch must be a partial object (strategic merge) or a list of operations (JSON 6902)".to_string())),
            }
        }
    }
    Ok(())
}

enum Failure {
    NotFound(String),
    Invalid(String),
}

fn apply_strategic_merge(
    objects: &mut Vec<Resource>,
    patch: &PatchSpec,
    map: &Map<String, Value>,
    document: &Value,
    schemas: &crate::schema::Schemas,
) -> Result<(), Failure> {
    let field = |path: &[&str]| super::string_at(document, path).map(str::to_string);
    let selected: Vec<usize> = match &patch.target {
        Some(target) => (0..objects.len())
            .filter(|&index| target.matches(&objects[index]))
            .collect(),
        None => {
            let (Some(kind), Some(name)) = (field(&["kind"]), field(&["metadata", "name"])) else {
                return Err(Failure::Invalid("a strategic merge patch without `target` must name its object with `kind` and `metadata.name`".to_string()));
            };
            let namespace = field(&["metadata", "namespace"]);
            let group = field(&["apiVersion"]).map(|api| {
                api.split_once('/')
                    .map(|(group, _)| group.to_string())
                    .unwrap_or_default()
            });
            let found: Vec<usize> = (0..objects.len())
                .filter(|&index| {
                    let object = &objects[index];
                    ((object.kind() == kind && object.had_name(&name))
                        || object
                            .previous_kinds
                            .iter()
                            .any(|(k, names)| *k == kind && names.contains(&name)))
                        && namespace.as_deref().is_none_or(|namespace| {
                            object.namespace().unwrap_or("default") == namespace
                        })
                        && group.as_deref().is_none_or(|group| object.group() == group)
                })
                .collect();
            match found.len() {
                0 => {
                    return Err(Failure::NotFound(format!(
                        "no {kind}/{name} among this kustomization's resources; check the patch's kind and metadata.name{}",
                        if namespace.is_some() {
                            " and namespace"
                        } else {
                            ""
                        }
                    )));
                }
                1 => found,
                count => {
                    return Err(Failure::Invalid(format!(
                        "{kind}/{name} matches {count} objects; add metadata.namespace to the patch to pick one"
                    )));
                }
            }
        }
    };
    let mut deleted = Vec::new();
    for index in selected {
        let object = &mut objects[index];
        let mut patch_map = map.clone();
        // The patch's identity only chooses the target; it does not rename it.
        if !patch.allow_kind_change {
            patch_map.shift_remove("kind");
            patch_map.shift_remove("apiVersion");
        }
        if !patch.allow_name_change
            && let Some(Value::Object(metadata)) = patch_map.get_mut("metadata")
        {
            metadata.shift_remove("name");
            if patch.target.is_some() {
                metadata.shift_remove("namespace");
            }
        }
        let new_name = patch_map
            .get("metadata")
            .and_then(|metadata| metadata.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let old_name = object.name().to_string();
        let old_kind = object.kind().to_string();
        let schema = schemas.root(object.group(), object.kind());
        if strategic_merge::merge_with(&mut object.doc, &Value::Object(patch_map), schema)
            == Outcome::Delete
        {
            deleted.push(index);
        } else if let Some(new_name) = new_name.filter(|new_name| *new_name != old_name) {
            // Keep the name history so references to the old name follow the rename.
            object
                .metadata_mut()
                .insert("name".to_string(), Value::String(old_name.clone()));
            object.set_name(new_name);
        }
        if object.kind() != old_kind {
            let mut names = object.previous_names.clone();
            names.retain(|n| *n != object.name());
            names.push(old_name);
            object.previous_kinds.push((old_kind, names));
        }
    }
    for index in deleted.into_iter().rev() {
        objects.remove(index);
    }
    Ok(())
}

#[cfg(test)]
#[path = "patch_tests.rs"]
mod tests;
