//! Reading a kustomization file into plain data: locating it in a directory, rejecting
//! unknown and unsupported fields, and checking the shape of every supported field.

use serde_json::{Map, Value};

use super::generators::GeneratorSpec;
use super::images::{ImageRule, ReplicaRule};
use super::patch::{PatchSpec, parse_patch_specs};
use super::transform::LabelRule;
use super::{Files, KustomizeError, yaml};

/// The file names Kustomize accepts for a kustomization, in its order of preference.
pub(crate) const KUSTOMIZATION_FILE_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

const KNOWN_FIELDS: [&str; 32] = [
    "apiVersion",
    "kind",
    "metadata",
    "resources",
    "bases",
    "namespace",
    "namePrefix",
    "nameSuffix",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "images",
    "imageTags",
    "replicas",
    "patches",
    "patchesStrategicMerge",
    "patchesJson6902",
    "configMapGenerator",
    "secretGenerator",
    "generatorOptions",
    "sortOptions",
    "buildMetadata",
    "components",
    "replacements",
    "vars",
    "helmCharts",
    "helmGlobals",
    "generators",
    "transformers",
    "configurations",
    "openapi",
    "crds",
];

/// Fields of Kustomize that braid knowingly leaves out, with what to do instead.
const UNSUPPORTED_FIELDS: [(&str, &str); 2] = [
    (
        "helmChartInflationGenerator",
        "use `helmCharts` (the same settings), or give the chart its own braid source with a `helm` block",
    ),
    (
        "validators",
        "validator plugins are not run; remove the field",
    ),
];

/// A parsed kustomization file.
#[derive(Debug)]
pub(crate) struct Kustomization<'a> {
    /// Path of the kustomization file itself, relative to the source root.
    pub file: String,
    /// The directory holding it ("" for the root).
    pub dir: String,
    /// The file's text, for finding lines in error messages.
    pub text: &'a str,
    pub resources: Vec<String>,
    pub namespace: Option<String>,
    pub name_prefix: Option<String>,
    pub name_suffix: Option<String>,
    pub labels: Vec<LabelRule>,
    pub common_annotations: Vec<(String, String)>,
    pub images: Vec<ImageRule>,
    pub replicas: Vec<ReplicaRule>,
    pub patches: Vec<PatchSpec>,
    pub config_maps: Vec<GeneratorSpec>,
    pub secrets: Vec<GeneratorSpec>,
    pub generator_options: Value,
    /// `kind: Component`: a component, which runs on the objects of the kustomization that
    /// lists it in `components`.
    pub is_component: bool,
    /// `components`: the components to run, as written.
    pub components: Vec<String>,
    /// `replacements`, as written (read with the source's files by the build).
    pub replacements: Value,
    /// `vars`, as written.
    pub vars: Value,
    /// `buildMetadata: [originAnnotations]`: annotate each object with where it came from.
    pub origin_annotations: bool,
    /// `buildMetadata: [managedByLabel]`: label each object as managed by Kustomize.
    pub managed_by_label: bool,
    /// `helmCharts`, as written (rendered by `helm_charts`).
    pub helm_charts: Option<Value>,
    /// `helmGlobals`, as written.
    pub helm_globals: Option<Map<String, Value>>,
    /// `generators`: files of built-in generator configs (`apiVersion: builtin`).
    pub generators: Vec<String>,
    /// `transformers`: files of built-in transformer configs.
    pub transformers: Vec<String>,
    /// `configurations`: files of transformer configuration (`config.rs`).
    pub configurations: Vec<String>,
    /// `openapi`, as written (`path: FILE` or `version`).
    pub openapi: Option<Value>,
    /// `crds`: files of OpenAPI definitions of custom types (`config.rs`).
    pub crds: Vec<String>,
}

impl Kustomization<'_> {
    /// The 1-based line of the first line of the kustomization containing `needle`.
    pub fn line_of(&self, needle: &str) -> Option<usize> {
        line_of(self.text, needle)
    }

    /// Resolves `path` (relative to the kustomization's directory) to a source-relative path.
    pub fn resolve(&self, path: &str) -> Option<String> {
        let joined = join(&self.dir, path)?;
        // A remote base stays inside its repository's folder, as Kustomize keeps it inside
        // its clone.
        let remote = format!("{}/", crate::REMOTE_ROOT);
        if let Some(rest) = self.dir.strip_prefix(&remote) {
            let tree = format!("{remote}{}", rest.split('/').next().unwrap_or(rest));
            if joined != tree && !joined.starts_with(&format!("{tree}/")) {
                return None;
            }
        } else if joined == crate::REMOTE_ROOT || joined.starts_with(&remote) {
            return None;
        }
        Some(joined)
    }

    /// The refusal of a file (patch, generator input, replacement, configuration) that is
    /// not in or below this kustomization's directory: Kustomize reads such files only from
    /// there (its default load restrictions); bases and components may live elsewhere.
    pub fn check_below_root(&self, path: &str, resolved: &str) -> Result<(), KustomizeError> {
        let dir = self.dir.trim_end_matches('/');
        if dir.is_empty() || resolved == dir || resolved.starts_with(&format!("{dir}/")) {
            return Ok(());
        }
        Err(KustomizeError::MissingResource {
            file: self.file.clone(),
            line: self.line_of(path),
            message: format!(
                "security: file `{path}` is not in or below the kustomization's directory `{dir}`, and Kustomize reads such files only from there; move it below the directory, or put it in a component listed in `components`"
            ),
        })
    }

    pub fn invalid(&self, needle: &str, message: String) -> KustomizeError {
        KustomizeError::InvalidKustomization {
            file: self.file.clone(),
            line: self.line_of(needle),
            message,
        }
    }
}

/// The first 1-based line of `text` containing `needle`.
pub(crate) fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines()
        .position(|line| line.contains(needle))
        .map(|index| index + 1)
}

/// Joins a relative `path` onto `dir`, resolving `.` and `..`; `None` if it leaves the root.
pub(crate) fn join(dir: &str, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = if path.starts_with('/') {
        Vec::new()
    } else {
        dir.split('/').filter(|part| !part.is_empty()).collect()
    };
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// Finds the kustomization file of `dir`; errors if there is none or more than one.
pub(crate) fn find_kustomization_file(
    files: &dyn Files,
    dir: &str,
) -> Result<String, KustomizeError> {
    let found: Vec<String> = KUSTOMIZATION_FILE_NAMES
        .iter()
        .filter_map(|name| join(dir, name))
        .filter(|path| files.read(path).is_some())
        .collect();
    let shown_dir = if dir.is_empty() { "." } else { dir };
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(KustomizeError::MissingKustomization {
            file: shown_dir.to_string(),
            message: format!(
                "directory `{shown_dir}` has no kustomization; add a kustomization.yaml listing its resources"
            ),
        }),
        [first, ..] => Err(KustomizeError::MissingKustomization {
            file: first.clone(),
            message: format!(
                "directory `{shown_dir}` has more than one kustomization file ({}); keep only one",
                found.join(", ")
            ),
        }),
    }
}

/// Checks Kustomize makes of fields braid reads without using all of them: a Component's
/// apiVersion, `sortOptions`, and `openapi`.
fn check_kustomize_rules(
    k: &Kustomization<'_>,
    object: &Map<String, Value>,
    is_component: bool,
) -> Result<(), KustomizeError> {
    let api_version = object.get("apiVersion").and_then(Value::as_str);
    if is_component && api_version.is_some_and(|v| v != "kustomize.config.k8s.io/v1alpha1") {
        return Err(k.invalid(
            "apiVersion",
            "apiVersion for Component should be kustomize.config.k8s.io/v1alpha1".to_string(),
        ));
    }
    if let Some(sort) = object.get("sortOptions") {
        let order = sort.get("order").and_then(Value::as_str);
        if !matches!(order, Some("fifo" | "legacy")) {
            return Err(k.invalid(
                "sortOptions:",
                "the field 'sortOptions.order' must be one of [fifo, legacy]".to_string(),
            ));
        }
        if order == Some("fifo") && sort.get("legacySortOptions").is_some() {
            return Err(k.invalid(
                "sortOptions:",
                "legacySortOptions is set but the selected sort order is 'fifo', not 'legacy'; set `order: legacy` or remove legacySortOptions".to_string(),
            ));
        }
    }
    if let Some(openapi) = object.get("openapi") {
        if openapi.get("path").is_some() && openapi.get("version").is_some() {
            return Err(k.invalid(
                "openapi:",
                "builtin version and custom schema provided, cannot use both: give `openapi` a `path` or a `version`".to_string(),
            ));
        }
        if let Some(version) = openapi.get("version")
            && version.as_str() != Some("v1.21.2")
        {
            return Err(k.invalid(
                "openapi:",
                format!(
                    "the specified OpenAPI version {} is not built in; Kustomize v5 knows only v1.21.2 (or give `path` to a schema file)",
                    version.as_str().map_or_else(|| version.to_string(), str::to_string)
                ),
            ));
        }
    }
    Ok(())
}

/// Reads and checks the kustomization file at `file` (inside directory `dir`).
pub(crate) fn load<'a>(
    files: &'a dyn Files,
    dir: &str,
    file: &str,
) -> Result<Kustomization<'a>, KustomizeError> {
    let text = files.read(file).unwrap_or_default();
    let documents = yaml::split_documents(text);
    let value = match documents.first() {
        Some(raw) => match yaml::parse_yaml(file, raw.line, raw.text) {
            // Kustomize reads its own file without refusing repeated keys: the last one
            // wins (resources, unlike this file, are read strictly).
            Err(KustomizeError::InvalidYaml { message, .. })
                if message.contains("duplicate entry") =>
            {
                serde_yaml_ng::from_str::<Value>(raw.text).map_err(|e| {
                    KustomizeError::InvalidYaml {
                        file: file.to_string(),
                        line: Some(raw.line),
                        message: e.to_string(),
                    }
                })?
            }
            other => other?,
        },
        None => Value::Object(Map::new()),
    };
    from_value(dir, file, text, value)
}

/// A kustomization from its parsed fields: `file` and `text` are where it was written (for
/// messages), `dir` the directory its paths are relative to.
pub(crate) fn from_value<'a>(
    dir: &str,
    file: &str,
    text: &'a str,
    value: Value,
) -> Result<Kustomization<'a>, KustomizeError> {
    let object = match value {
        Value::Object(object) => field_names_as_written_by_kustomize(file, object)?,
        Value::Null => Map::new(),
        _ => {
            return Err(KustomizeError::InvalidKustomization {
                file: file.to_string(),
                line: Some(1),
                message: "a kustomization must be a mapping of fields such as `resources`"
                    .to_string(),
            });
        }
    };
    let mut kustomization = Kustomization {
        file: file.to_string(),
        dir: dir.to_string(),
        text,
        resources: Vec::new(),
        namespace: None,
        name_prefix: None,
        name_suffix: None,
        labels: Vec::new(),
        common_annotations: Vec::new(),
        images: Vec::new(),
        replicas: Vec::new(),
        patches: Vec::new(),
        config_maps: Vec::new(),
        secrets: Vec::new(),
        generator_options: Value::Null,
        origin_annotations: false,
        managed_by_label: false,
        is_component: false,
        components: Vec::new(),
        replacements: Value::Null,
        vars: Value::Null,
        helm_charts: None,
        helm_globals: None,
        generators: Vec::new(),
        transformers: Vec::new(),
        configurations: Vec::new(),
        openapi: None,
        crds: Vec::new(),
    };
    check_fields(&kustomization, &object)?;
    let k = &kustomization;
    let mut resources = string_list(k, &object, "bases")?;
    resources.extend(string_list(k, &object, "resources")?);
    let components = string_list(k, &object, "components")?;
    let generators = string_list(k, &object, "generators")?;
    let transformers = string_list(k, &object, "transformers")?;
    let configurations = string_list(k, &object, "configurations")?;
    let crds = string_list(k, &object, "crds")?;
    let is_component = object.get("kind").and_then(Value::as_str) == Some("Component");
    check_kustomize_rules(k, &object, is_component)?;
    let namespace = optional_string(k, &object, "namespace")?;
    let name_prefix = optional_string(k, &object, "namePrefix")?;
    let name_suffix = optional_string(k, &object, "nameSuffix")?;
    let mut labels = Vec::new();
    if let Some(value) = object.get("commonLabels") {
        labels.push(LabelRule::common(string_map(k, "commonLabels", value)?));
    }
    if let Some(value) = object.get("labels") {
        for entry in list(k, "labels", value)? {
            labels.push(LabelRule::parse(k, entry)?);
        }
    }
    let common_annotations = match object.get("commonAnnotations") {
        Some(value) => string_map(k, "commonAnnotations", value)?,
        None => Vec::new(),
    };
    let mut images = Vec::new();
    for field in ["images", "imageTags"] {
        if let Some(value) = object.get(field) {
            for entry in list(k, field, value)? {
                images.push(ImageRule::parse(k, entry)?);
            }
        }
    }
    let mut replicas = Vec::new();
    if let Some(value) = object.get("replicas") {
        for entry in list(k, "replicas", value)? {
            replicas.push(ReplicaRule::parse(k, entry)?);
        }
    }
    let patches = parse_patch_specs(k, &object)?;
    let mut config_maps = Vec::new();
    if let Some(value) = object.get("configMapGenerator") {
        for entry in list(k, "configMapGenerator", value)? {
            config_maps.push(GeneratorSpec::parse(k, "configMapGenerator", entry)?);
        }
    }
    let mut secrets = Vec::new();
    if let Some(value) = object.get("secretGenerator") {
        for entry in list(k, "secretGenerator", value)? {
            secrets.push(GeneratorSpec::parse(k, "secretGenerator", entry)?);
        }
    }
    let generator_options = object
        .get("generatorOptions")
        .cloned()
        .unwrap_or(Value::Null);
    if let Some(value) = object.get("buildMetadata") {
        for entry in list(&kustomization, "buildMetadata", value)? {
            match entry.as_str() {
                Some("originAnnotations") => kustomization.origin_annotations = true,
                Some("managedByLabel") => kustomization.managed_by_label = true,
                Some("transformerAnnotations") => {
                    return Err(KustomizeError::UnsupportedField {
                        file: kustomization.file.clone(),
                        line: kustomization.line_of("buildMetadata:"),
                        field: "buildMetadata: [transformerAnnotations]".to_string(),
                        hint: "remove it; originAnnotations and managedByLabel are supported"
                            .to_string(),
                    });
                }
                _ => {
                    return Err(kustomization.invalid(
                        "buildMetadata:",
                        format!(
                            "`buildMetadata` holds originAnnotations, transformerAnnotations or managedByLabel, not {entry}"
                        ),
                    ));
                }
            }
        }
    }
    kustomization.resources = resources;
    kustomization.components = components;
    kustomization.generators = generators;
    kustomization.transformers = transformers;
    kustomization.configurations = configurations;
    kustomization.crds = crds;
    kustomization.openapi = object.get("openapi").cloned();
    kustomization.replacements = object.get("replacements").cloned().unwrap_or(Value::Null);
    kustomization.vars = object.get("vars").cloned().unwrap_or(Value::Null);
    kustomization.helm_charts = object.get("helmCharts").cloned();
    kustomization.helm_globals = object
        .get("helmGlobals")
        .and_then(Value::as_object)
        .cloned();
    kustomization.is_component = is_component;
    kustomization.namespace = namespace;
    kustomization.name_prefix = name_prefix;
    kustomization.name_suffix = name_suffix;
    kustomization.labels = labels;
    kustomization.common_annotations = common_annotations;
    kustomization.images = images;
    kustomization.replicas = replicas;
    kustomization.patches = patches;
    kustomization.config_maps = config_maps;
    kustomization.secrets = secrets;
    kustomization.generator_options = generator_options;
    Ok(kustomization)
}

/// Kustomize reads a kustomization's field names without regard to case (`patchesJSON6902`,
/// `nameprefix`, `Resources`): each is renamed to its canonical spelling. Two spellings of one
/// field are refused (which one Kustomize keeps depends on its decoder).
fn field_names_as_written_by_kustomize(
    file: &str,
    object: Map<String, Value>,
) -> Result<Map<String, Value>, KustomizeError> {
    let mut out = Map::new();
    for (key, value) in object {
        let canonical = KNOWN_FIELDS
            .iter()
            .copied()
            .chain(UNSUPPORTED_FIELDS.iter().map(|(field, _)| *field))
            .find(|field| field.eq_ignore_ascii_case(&key))
            .map_or(key.clone(), str::to_owned);
        if out.contains_key(&canonical) {
            return Err(KustomizeError::InvalidKustomization {
                file: file.to_string(),
                line: None,
                message: format!(
                    "`{key}` and another spelling of it both set the field `{canonical}`; keep one"
                ),
            });
        }
        out.insert(canonical, value);
    }
    Ok(out)
}

fn check_fields(k: &Kustomization<'_>, object: &Map<String, Value>) -> Result<(), KustomizeError> {
    for key in object.keys() {
        if KNOWN_FIELDS.contains(&key.as_str()) {
            continue;
        }
        let line = k.line_of(&format!("{key}:"));
        if let Some((field, hint)) = UNSUPPORTED_FIELDS.iter().find(|(field, _)| field == key) {
            return Err(KustomizeError::UnsupportedField {
                file: k.file.clone(),
                line,
                field: field.to_string(),
                hint: hint.to_string(),
            });
        }
        return Err(KustomizeError::InvalidKustomization {
            file: k.file.clone(),
            line,
            message: format!(
                "unknown field `{key}`; known fields are {}",
                KNOWN_FIELDS.join(", ")
            ),
        });
    }
    Ok(())
}

/// The elements of the list `value` of field `field`.
pub(crate) fn list<'v>(
    k: &Kustomization<'_>,
    field: &str,
    value: &'v Value,
) -> Result<&'v [Value], KustomizeError> {
    match value {
        Value::Array(items) => Ok(items),
        Value::Null => Ok(&[]),
        _ => Err(k.invalid(&format!("{field}:"), format!("`{field}` must be a list"))),
    }
}

fn string_list(
    k: &Kustomization<'_>,
    object: &Map<String, Value>,
    field: &str,
) -> Result<Vec<String>, KustomizeError> {
    let Some(value) = object.get(field) else {
        return Ok(Vec::new());
    };
    list(k, field, value)?
        .iter()
        .map(|item| {
            item.as_str().map(str::to_string).ok_or_else(|| {
                k.invalid(
                    &format!("{field}:"),
                    format!("every entry of `{field}` must be a string (a path)"),
                )
            })
        })
        .collect()
}

fn optional_string(
    k: &Kustomization<'_>,
    object: &Map<String, Value>,
    field: &str,
) -> Result<Option<String>, KustomizeError> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => scalar_string(value)
            .map(Some)
            .ok_or_else(|| k.invalid(&format!("{field}:"), format!("`{field}` must be a string"))),
    }
}

/// A scalar as Kustomize reads it into a string field (numbers and booleans as written).
pub(crate) fn scalar_string(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// A `map[string]string` field such as `commonLabels`, in file order.
pub(crate) fn string_map(
    k: &Kustomization<'_>,
    field: &str,
    value: &Value,
) -> Result<Vec<(String, String)>, KustomizeError> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Object(object) => object
            .iter()
            .map(|(key, value)| {
                // As Kustomize decodes it: a string, or null for an empty one; a number or a
                // bool is refused (quote it).
                let text = match value {
                    Value::Null => Some(String::new()),
                    Value::String(text) => Some(text.clone()),
                    _ => None,
                };
                text.map(|text| (key.clone(), text)).ok_or_else(|| {
                    k.invalid(
                        &format!("{key}:"),
                        format!(
                            "the value of `{key}` in `{field}` must be a string, not {value}: quote it (`{key}: \"{value}\"`)"
                        ),
                    )
                })
            })
            .collect(),
        _ => Err(k.invalid(
            &format!("{field}:"),
            format!("`{field}` must be a mapping of names to strings"),
        )),
    }
}

/// Checks that `entry` (an element of list `field`) only has the `known` keys.
pub(crate) fn check_entry_keys(
    k: &Kustomization<'_>,
    field: &str,
    entry: &Map<String, Value>,
    known: &[&str],
) -> Result<(), KustomizeError> {
    for key in entry.keys() {
        if !known.contains(&key.as_str()) {
            return Err(k.invalid(
                &format!("{key}:"),
                format!(
                    "unknown field `{key}` in an entry of `{field}`; known fields are {}",
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::render;
    use super::super::test_support::files;
    use super::*;

    #[test]
    fn unknown_fields_list_the_known_ones() {
        let source = files(&[(
            "app/kustomization.yaml",
            "resources: []\nnamePrefx: shop-\n",
        )]);
        assert_eq!(
            render(&source, "app"),
            Err(KustomizeError::InvalidKustomization {
                file: "app/kustomization.yaml".to_string(),
                line: Some(2),
                message: format!(
                    "unknown field `namePrefx`; known fields are {}",
                    KNOWN_FIELDS.join(", ")
                ),
            })
        );
    }

    #[test]
    fn unsupported_fields_say_so() {
        let source = files(&[(
            "kustomization.yaml",
            "resources: []\nhelmChartInflationGenerator:\n- chartName: redis\n",
        )]);
        let error = render(&source, "").expect_err("the old generator is not supported");
        assert_eq!(
            error.to_string(),
            "kustomization.yaml:2: `helmChartInflationGenerator` is not supported by braid's kustomize subset; use `helmCharts` (the same settings), or give the chart its own braid source with a `helm` block"
        );
        let component = files(&[
            ("kustomization.yaml", "resources:\n- part\n"),
            (
                "part/kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n",
            ),
        ]);
        // A Component runs from a kustomization's `components`, or as what is built; not
        // from `resources`.
        assert!(matches!(
            render(&component, ""),
            Err(KustomizeError::InvalidKustomization { line: Some(2), .. })
        ));
        assert_eq!(render(&component, "part"), Ok(Vec::new()));
    }

    #[test]
    fn a_directory_needs_exactly_one_kustomization() {
        let none = files(&[("app/deployment.yaml", "kind: Deployment\n")]);
        assert_eq!(
            render(&none, "app"),
            Err(KustomizeError::MissingKustomization {
                file: "app".to_string(),
                message: "directory `app` has no kustomization; add a kustomization.yaml listing its resources".to_string(),
            })
        );
        let two = files(&[("kustomization.yaml", ""), ("Kustomization", "")]);
        assert!(matches!(
            render(&two, ""),
            Err(KustomizeError::MissingKustomization { .. })
        ));
        let empty = files(&[("kustomization.yml", "# nothing yet\n")]);
        assert_eq!(render(&empty, ""), Ok(Vec::new()));
    }

    #[test]
    fn wrong_shapes_are_invalid() {
        let source = files(&[("kustomization.yaml", "resources: deployment.yaml\n")]);
        assert_eq!(
            render(&source, ""),
            Err(KustomizeError::InvalidKustomization {
                file: "kustomization.yaml".to_string(),
                line: Some(1),
                message: "`resources` must be a list".to_string(),
            })
        );
    }

    #[test]
    fn joins_relative_paths() {
        assert_eq!(join("overlays/prod", "../../base").as_deref(), Some("base"));
        assert_eq!(join("", "./a/./b.yaml").as_deref(), Some("a/b.yaml"));
        assert_eq!(join("a", "b/../c").as_deref(), Some("a/c"));
        assert_eq!(join("a", "../../x"), None);
    }
}
