//! `configurations`: files of Kustomize's transformer configuration, adding field specs to
//! its defaults — where a custom kind names a ConfigMap or Secret (`nameReference`), where
//! labels, annotations and the namespace go in it (`commonLabels`, `commonAnnotations`,
//! `namespace`), where its images are (`images`) and where vars are substituted
//! (`varReference`). As in Kustomize, a configuration read by a kustomization holds for it
//! and for the kustomizations that build on it (and, in braid, for the rest of the build).

use serde_json::Value;

use super::fieldspec::visit_kustomize_path;
use super::kustomization::Kustomization;
use super::{Files, KustomizeError, Resource, yaml};

/// A place in objects: kind and group (any when `None`), a path, and whether missing maps
/// along it are created.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spec {
    pub kind: Option<String>,
    pub group: Option<String>,
    pub path: String,
    pub create: bool,
}

impl Spec {
    /// Whether the spec is about `object`.
    pub fn applies_to(&self, object: &Resource) -> bool {
        self.kind.as_deref().is_none_or(|k| k == object.kind())
            && self.group.as_deref().is_none_or(|g| g == object.group())
    }

    /// Whether the spec gives `object` a new name (`metadata/name`: a prefix or suffix).
    pub fn renames(&self, object: &Resource) -> bool {
        self.path == "metadata/name" && self.applies_to(object)
    }
}

/// A custom name reference: objects of kind `referral` are named at `spec` in others.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NameReference {
    pub referral: String,
    pub spec: Spec,
}

/// What the `configurations` read so far add to Kustomize's defaults.
#[derive(Debug, Clone, Default)]
pub(crate) struct TransformerConfig {
    pub name_references: Vec<NameReference>,
    pub common_labels: Vec<Spec>,
    /// The `labels` section: places every `labels` entry fills (whatever its flags).
    pub labels: Vec<Spec>,
    /// The `namePrefix` / `nameSuffix` sections: when given, only the kinds they list (with
    /// path `metadata/name`) take the prefix or suffix, instead of every kind.
    pub name_prefix: Vec<Spec>,
    pub name_suffix: Vec<Spec>,
    pub common_annotations: Vec<Spec>,
    pub namespace: Vec<Spec>,
    pub images: Vec<Spec>,
    pub var_reference: Vec<Spec>,
    /// The `openapi` schema file of the nearest kustomization that names one (Kustomize
    /// holds one schema for the whole build).
    pub openapi: Option<Value>,
}

/// The sections of a configuration file braid reads (others are refused, not ignored).
const SECTIONS: [&str; 9] = [
    "nameReference",
    "namePrefix",
    "nameSuffix",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "namespace",
    "images",
    "varReference",
];

impl TransformerConfig {
    /// Reads the kustomization's `configurations` files into this configuration.
    pub fn read(&mut self, files: &dyn Files, k: &Kustomization<'_>) -> Result<(), KustomizeError> {
        if let Some(openapi) = &k.openapi {
            self.read_openapi(files, k, openapi)?;
        }
        for entry in &k.crds {
            self.read_crd_definitions(files, k, entry)?;
        }
        for entry in &k.configurations {
            let line = k.line_of(entry);
            let Some(path) = k.resolve(entry) else {
                return Err(KustomizeError::MissingResource {
                    file: k.file.clone(),
                    line,
                    message: format!(
                        "configurations entry `{entry}` points outside the source; keep it inside"
                    ),
                });
            };
            let Some(text) = files.read(&path) else {
                return Err(KustomizeError::MissingResource {
                    file: k.file.clone(),
                    line,
                    message: format!(
                        "configurations entry `{entry}` does not exist (looked for `{path}`)"
                    ),
                });
            };
            for document in yaml::parse_documents(&path, text)? {
                self.add(&path, document.line, &document.document)?;
            }
        }
        Ok(())
    }

    /// A `crds` file: OpenAPI definitions of custom types (`{NAME: {Schema, Dependencies}}`,
    /// as Kustomize reads them). A type with `kind`, `apiVersion` and `metadata` is a kind
    /// (named by the last part of NAME); its properties — and those of the types they `$ref`
    /// — marked `x-kubernetes-object-ref-kind` (with `-api-version`, and `-name-key`, default
    /// `name`) name objects of that kind, `x-kubernetes-annotation` and
    /// `x-kubernetes-label-selector` take the kustomization's annotations and labels.
    fn read_crd_definitions(
        &mut self,
        files: &dyn Files,
        k: &Kustomization<'_>,
        entry: &str,
    ) -> Result<(), KustomizeError> {
        let (path, document) = first_document(files, k, entry, "crds entry")?;
        let Some(definitions) = document.as_object() else {
            return Err(KustomizeError::InvalidKustomization {
                file: path,
                line: Some(1),
                message: "a crds file maps type names to OpenAPI definitions ({\"com.example.v1.Widget\": {\"Schema\": ...}})".to_string(),
            });
        };
        for (name, definition) in definitions {
            let properties = definition
                .get("Schema")
                .and_then(|s| s.get("properties"))
                .and_then(Value::as_object);
            let is_kind = properties.is_some_and(|p| {
                ["kind", "apiVersion", "metadata"]
                    .iter()
                    .all(|key| p.contains_key(*key))
            });
            if !is_kind {
                continue;
            }
            let kind = name.rsplit('.').next().unwrap_or(name).to_string();
            self.crd_fields(definitions, &kind, name, &mut Vec::new());
        }
        Ok(())
    }

    fn crd_fields(
        &mut self,
        definitions: &serde_json::Map<String, Value>,
        kind: &str,
        type_name: &str,
        path: &mut Vec<String>,
    ) {
        // Definitions may refer to each other in a cycle.
        if path.len() > 32 {
            return;
        }
        let Some(properties) = definitions
            .get(type_name)
            .and_then(|d| d.get("Schema"))
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
        else {
            return;
        };
        for (property, schema) in properties {
            let extension = |key: &str| schema.get(key).and_then(Value::as_str);
            let at = |tail: Option<&str>| {
                let mut parts = path.clone();
                parts.push(property.clone());
                parts.extend(tail.map(str::to_string));
                Spec {
                    kind: Some(kind.to_string()),
                    group: None,
                    path: parts.join("/"),
                    create: false,
                }
            };
            if extension("x-kubernetes-annotation").is_some() {
                self.common_annotations.push(at(None));
            }
            if extension("x-kubernetes-label-selector").is_some() {
                self.common_labels.push(at(None));
            }
            if extension("x-kubernetes-object-ref-api-version").is_some()
                && let Some(referral) = extension("x-kubernetes-object-ref-kind")
            {
                let name_key = extension("x-kubernetes-object-ref-name-key").unwrap_or("name");
                self.name_references.push(NameReference {
                    referral: referral.to_string(),
                    spec: at(Some(name_key)),
                });
            }
            if let Some(reference) = extension("$ref") {
                // `#/definitions/NAME`, or the definition's name itself (which may hold
                // slashes: `github.com/acme/api/v1.Spec`).
                let target = reference
                    .strip_prefix("#/definitions/")
                    .unwrap_or(reference)
                    .to_string();
                path.push(property.clone());
                self.crd_fields(definitions, kind, &target, path);
                path.pop();
            }
        }
    }

    /// `openapi: {path: FILE}` (a Swagger document of definitions, JSON or YAML); `version`
    /// names one of Kustomize's built-in schemas, which braid's built-in table stands for.
    fn read_openapi(
        &mut self,
        files: &dyn Files,
        k: &Kustomization<'_>,
        openapi: &Value,
    ) -> Result<(), KustomizeError> {
        let line = k.line_of("openapi:");
        let Some(entry) = openapi.get("path").and_then(Value::as_str) else {
            if openapi.get("version").is_some() {
                return Ok(());
            }
            return Err(KustomizeError::InvalidKustomization {
                file: k.file.clone(),
                line,
                message: "`openapi` takes `path: FILE` (a schema file) or `version`".to_string(),
            });
        };
        let (path, document) = first_document(files, k, entry, "openapi schema")?;
        if document.get("definitions").is_none() {
            return Err(KustomizeError::InvalidKustomization {
                file: path,
                line: Some(1),
                message: "an openapi schema file holds `definitions` (Swagger 2.0, as `kubectl get --raw /openapi/v2` prints it)".to_string(),
            });
        }
        self.openapi = Some(document);
        Ok(())
    }

    fn add(&mut self, file: &str, line: usize, config: &Value) -> Result<(), KustomizeError> {
        let invalid = |message: String| KustomizeError::InvalidKustomization {
            file: file.to_string(),
            line: Some(line),
            message,
        };
        let Some(sections) = config.as_object() else {
            if config.is_null() {
                return Ok(());
            }
            return Err(invalid(
                "a transformer configuration is a mapping of sections such as `nameReference`"
                    .to_string(),
            ));
        };
        for (section, value) in sections {
            let canonical = if section.eq_ignore_ascii_case("nameSpace") {
                "namespace"
            } else {
                section.as_str()
            };
            if !SECTIONS.contains(&canonical) {
                return Err(KustomizeError::UnsupportedField {
                    file: file.to_string(),
                    line: Some(line),
                    field: format!("configurations: {section}"),
                    hint: format!(
                        "braid reads the sections {} of a transformer configuration",
                        SECTIONS.join(", ")
                    ),
                });
            }
            let items = value.as_array().ok_or_else(|| {
                invalid(format!(
                    "the `{section}` section must be a list of field specs"
                ))
            })?;
            for item in items {
                if canonical == "nameReference" {
                    let referral = item.get("kind").and_then(Value::as_str).ok_or_else(|| {
                        invalid(
                            "every `nameReference` entry needs the `kind` it refers to".to_string(),
                        )
                    })?;
                    for spec in item
                        .get("fieldSpecs")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        self.name_references.push(NameReference {
                            referral: referral.to_string(),
                            spec: spec_of(spec).map_err(&invalid)?,
                        });
                    }
                    continue;
                }
                let spec = spec_of(item).map_err(&invalid)?;
                match canonical {
                    "commonLabels" => self.common_labels.push(spec),
                    "namePrefix" => self.name_prefix.push(spec),
                    "nameSuffix" => self.name_suffix.push(spec),
                    "labels" => self.labels.push(spec),
                    "commonAnnotations" => self.common_annotations.push(spec),
                    "namespace" => self.namespace.push(spec),
                    "images" => self.images.push(spec),
                    _ => self.var_reference.push(spec),
                }
            }
        }
        Ok(())
    }
}

/// The first document (JSON or YAML) of the file `entry` names, with its source path.
fn first_document(
    files: &dyn Files,
    k: &Kustomization<'_>,
    entry: &str,
    what: &str,
) -> Result<(String, Value), KustomizeError> {
    let text = k
        .resolve(entry)
        .and_then(|path| files.read(&path).map(|text| (path, text)));
    let Some((path, text)) = text else {
        return Err(KustomizeError::MissingResource {
            file: k.file.clone(),
            line: k.line_of(entry),
            message: format!("the {what} `{entry}` does not exist in the source"),
        });
    };
    let document = yaml::parse_documents(&path, text)?
        .into_iter()
        .next()
        .map(|d| d.document)
        .unwrap_or(Value::Null);
    Ok((path, document))
}

pub(crate) fn spec_of(value: &Value) -> Result<Spec, String> {
    let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
    let path = text("path").ok_or("every field spec needs a `path`")?;
    Ok(Spec {
        kind: text("kind"),
        group: text("group"),
        path,
        create: value
            .get("create")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// Calls `f` on every value at one of `specs` in `object`.
pub(crate) fn visit_specs(object: &mut Resource, specs: &[Spec], f: &mut dyn FnMut(&mut Value)) {
    for spec in specs {
        if spec.applies_to(object) {
            visit_kustomize_path(&mut object.doc, &spec.path, spec.create, f);
        }
    }
}
