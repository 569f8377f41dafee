//! Built-in plugin configs in `generators:` and `transformers:` — files holding one or more
//! documents with `apiVersion: builtin` and the plugin's kind (`ConfigMapGenerator`,
//! `LabelTransformer`, ...). Each config is read as the kustomization fields it stands for and
//! run with the same code: generators after the kustomization's own, transformers after its
//! own transformers, in the order listed, as Kustomize runs them. Plugins that would run a
//! program (exec, Go, KRM functions) are refused.

use serde_json::{Map, Value, json};

use super::config::{Spec, spec_of, visit_specs};
use super::kustomization::{self, Kustomization};
use super::{Files, KustomizeError, Resource, generators, yaml};

/// Which list is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// `generators:`
    Generators,
    /// `transformers:`
    Transformers,
}

/// Runs every built-in plugin config the kustomization lists for `stage` on `objects`.
pub(crate) fn run(
    files: &dyn Files,
    k: &Kustomization<'_>,
    stage: Stage,
    objects: &mut Vec<Resource>,
    configured: &crate::config::TransformerConfig,
) -> Result<(), KustomizeError> {
    let (field, entries) = match stage {
        Stage::Generators => ("generators", &k.generators),
        Stage::Transformers => ("transformers", &k.transformers),
    };
    for entry in entries {
        let at = k.line_of(entry);
        // An entry is a file of configs, a config written inline, or a kustomization whose
        // output is the configs (built as a resource directory is; Kustomize does the same).
        let configs: Vec<(String, usize, Value)> = if entry.contains('\n') {
            yaml::parse_documents(&k.file, entry)?
                .into_iter()
                .map(|d| (k.file.clone(), d.line, d.document))
                .collect()
        } else {
            let Some(path) = k.resolve(entry) else {
                return Err(KustomizeError::MissingResource {
                    file: k.file.clone(),
                    line: at,
                    message: format!(
                        "{field} entry `{entry}` points outside the source; keep plugin configs inside it"
                    ),
                });
            };
            if files.is_dir(&path) {
                let mut walk = crate::build::Walk::default();
                crate::build::accumulate(files, &path, &mut walk)?
                    .into_iter()
                    .map(|r| (r.origin, r.line, r.doc))
                    .collect()
            } else {
                let Some(text) = files.read(&path) else {
                    return Err(KustomizeError::MissingResource {
                        file: k.file.clone(),
                        line: at,
                        message: format!(
                            "{field} entry `{entry}` does not exist (looked for `{path}`); fix the path, which is relative to the kustomization's directory"
                        ),
                    });
                };
                yaml::parse_documents(&path, text)?
                    .into_iter()
                    .map(|d| (path.clone(), d.line, d.document))
                    .collect()
            }
        };
        for (file, line, config) in &configs {
            if config.is_null() {
                continue;
            }
            let kind = config.get("kind").and_then(Value::as_str).unwrap_or("");
            let api_version = config
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or("");
            let refuse = |why: String| KustomizeError::UnsupportedField {
                file: file.clone(),
                line: Some(*line),
                field: format!("{field}: {kind}"),
                hint: why,
            };
            if api_version != "builtin" {
                return Err(refuse(format!(
                    "only Kustomize's built-in plugins (apiVersion: builtin) run; `{api_version}` names an external plugin, which would run a program"
                )));
            }
            if stage == Stage::Transformers
                && let Some((pairs, specs)) = pairs_at_field_specs(kind, config)
            {
                put_pairs(objects, &pairs, &specs);
                continue;
            }
            if stage == Stage::Generators && kind == "IAMPolicyGenerator" {
                let account = gke_service_account(config).map_err(refuse)?;
                objects.push(Resource::new(file.clone(), *line, account));
                continue;
            }
            let fields = as_fields(stage, kind, config).map_err(refuse)?;
            let synthetic = kustomization::from_value(&k.dir, file, k.text, fields)?;
            match stage {
                Stage::Generators => {
                    let before = objects.len();
                    generators::generate(files, &synthetic, objects)?;
                    let name = config
                        .pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    for object in &mut objects[before..] {
                        object.generated_by = Some(name.to_string());
                    }
                }
                Stage::Transformers => match renaming_specs(kind, config) {
                    // A PrefixSuffixTransformer with fieldSpecs renames only the kinds whose
                    // `metadata/name` they list, as a `namePrefix` configuration section does.
                    Some(specs) if specs.is_empty() => {}
                    Some(specs) => {
                        let mut scoped = configured.clone();
                        scoped.name_prefix.clone_from(&specs);
                        scoped.name_suffix = specs;
                        super::build::transform(files, &synthetic, objects, &scoped)?;
                    }
                    None => super::build::transform(files, &synthetic, objects, configured)?,
                },
            }
        }
    }
    Ok(())
}

/// What an `IAMPolicyGenerator` (cloud `gke`) makes: the Kubernetes ServiceAccount that
/// Workload Identity maps to a Google service account.
fn gke_service_account(config: &Value) -> Result<Value, String> {
    let text = |pointer: &str| config.pointer(pointer).and_then(Value::as_str);
    match text("/cloud") {
        Some("gke") => {}
        other => {
            return Err(format!(
                "cloud provider {} not supported yet; Kustomize generates for `cloud: gke` only",
                other.unwrap_or("(none)")
            ));
        }
    }
    let (Some(name), Some(account), Some(project)) = (
        text("/kubernetesService/name"),
        text("/serviceAccount/name"),
        text("/serviceAccount/projectId"),
    ) else {
        return Err(
            "give `kubernetesService.name`, `serviceAccount.name` and `serviceAccount.projectId`"
                .to_string(),
        );
    };
    let mut metadata = Map::new();
    metadata.insert(
        "annotations".to_string(),
        json!({ "iam.gke.io/gcp-service-account": format!("{account}@{project}.iam.gserviceaccount.com") }),
    );
    metadata.insert("name".to_string(), Value::String(name.to_string()));
    if let Some(namespace) = text("/kubernetesService/namespace").filter(|n| !n.is_empty()) {
        metadata.insert(
            "namespace".to_string(),
            Value::String(namespace.to_string()),
        );
    }
    Ok(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata}))
}

/// Label or annotation pairs, and the field specs that say where they go.
type PairsAndSpecs = (Vec<(String, String)>, Vec<Spec>);

/// A LabelTransformer's or AnnotationsTransformer's pairs and `fieldSpecs`, when the config
/// gives field specs: then they alone say where the pairs go (no `metadata` of every kind).
fn pairs_at_field_specs(kind: &str, config: &Value) -> Option<PairsAndSpecs> {
    let field = match kind {
        "LabelTransformer" => "labels",
        "AnnotationsTransformer" => "annotations",
        _ => return None,
    };
    let specs = field_specs(config)?;
    let pairs = match strings(config.get(field).unwrap_or(&Value::Null)) {
        Value::Object(map) => map
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.as_str()?.to_string())))
            .collect(),
        _ => Vec::new(),
    };
    Some((pairs, specs))
}

/// Puts `pairs` into the maps at each field spec of every object the spec selects.
fn put_pairs(objects: &mut [Resource], pairs: &[(String, String)], specs: &[Spec]) {
    for object in objects {
        visit_specs(object, specs, &mut |value| {
            crate::fieldspec::insert_pairs(value, pairs);
        });
    }
}

/// For a PrefixSuffixTransformer config with `fieldSpecs`: those that rename objects.
fn renaming_specs(kind: &str, config: &Value) -> Option<Vec<Spec>> {
    if kind != "PrefixSuffixTransformer" {
        return None;
    }
    let mut specs = field_specs(config)?;
    specs.retain(|spec| spec.path == "metadata/name");
    Some(specs)
}

/// A config's `fieldSpecs` (`{path, kind?, group?, create?}`), when it has them; a spec
/// without a path selects nothing.
fn field_specs(config: &Value) -> Option<Vec<Spec>> {
    let specs = config.get("fieldSpecs")?.as_array()?;
    Some(specs.iter().filter_map(|spec| spec_of(spec).ok()).collect())
}

/// A map's numbers and booleans as the strings YAML wrote them.
fn strings(map: &Value) -> Value {
    match map {
        Value::Object(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::Number(n) => Value::String(n.to_string()),
                        Value::Bool(b) => Value::String(b.to_string()),
                        other => other.clone(),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The kustomization fields a built-in plugin config stands for.
fn as_fields(stage: Stage, kind: &str, config: &Value) -> Result<Value, String> {
    let get = |key: &str| config.get(key).cloned();
    let metadata = config.get("metadata");
    let meta = |key: &str| metadata.and_then(|m| m.get(key)).cloned();
    let mut out = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value.filter(|v| !v.is_null()) {
            out.insert(key.to_string(), value);
        }
    };
    match (stage, kind) {
        (Stage::Generators, "ConfigMapGenerator" | "SecretGenerator") => {
            // The generated object's name and namespace: the config's own fields (its
            // ConfigMapArgs), else its metadata's.
            let mut entry = Map::new();
            for key in ["name", "namespace"] {
                let own = get(key).filter(|v| v.as_str().is_some_and(|s| !s.is_empty()));
                if let Some(value) = own.or_else(|| meta(key)) {
                    entry.insert(key.to_string(), value);
                }
            }
            for key in [
                "behavior", "literals", "files", "envs", "env", "options", "type",
            ] {
                if let Some(value) = get(key) {
                    entry.insert(key.to_string(), value);
                }
            }
            let field = if kind == "ConfigMapGenerator" {
                "configMapGenerator"
            } else {
                "secretGenerator"
            };
            put(field, Some(json!([entry])));
        }
        (Stage::Transformers, "PrefixSuffixTransformer") => {
            put("namePrefix", get("prefix"));
            put("nameSuffix", get("suffix"));
        }
        (Stage::Transformers, "LabelTransformer") => {
            let mut rule = Map::new();
            rule.insert(
                "pairs".to_string(),
                get("labels").map_or_else(|| json!({}), |l| strings(&l)),
            );
            rule.insert("includeSelectors".to_string(), Value::Bool(false));
            if let Some(specs) = get("fieldSpecs") {
                rule.insert("fields".to_string(), specs);
            }
            put("labels", Some(json!([rule])));
        }
        (Stage::Transformers, "AnnotationsTransformer") => {
            // A plugin config's values are read as strings (`area: 51` is "51").
            put("commonAnnotations", get("annotations").map(|a| strings(&a)));
        }
        (Stage::Transformers, "NamespaceTransformer") => put("namespace", meta("namespace")),
        (Stage::Transformers, "ImageTagTransformer") => {
            put("images", get("imageTag").map(|tag| json!([tag])));
        }
        (Stage::Transformers, "ReplicaCountTransformer") => {
            put("replicas", get("replica").map(|replica| json!([replica])));
        }
        (Stage::Transformers, "PatchTransformer") => {
            let mut patch = Map::new();
            for key in ["patch", "path", "target", "options"] {
                if let Some(value) = get(key) {
                    patch.insert(key.to_string(), value);
                }
            }
            put("patches", Some(json!([patch])));
        }
        (Stage::Transformers, "PatchStrategicMergeTransformer") => {
            let mut patches: Vec<Value> = Vec::new();
            if let Some(Value::Array(paths)) = get("paths") {
                patches.extend(paths.into_iter().map(|path| json!({ "path": path })));
            }
            if let Some(Value::String(text)) = get("patches") {
                patches.push(json!({ "patch": text }));
            }
            put("patches", Some(Value::Array(patches)));
        }
        (Stage::Transformers, "PatchJson6902Transformer") => {
            let mut patch = Map::new();
            if let Some(target) = get("target") {
                patch.insert("target".to_string(), target);
            }
            match (get("path"), get("jsonOp")) {
                (Some(path), _) => {
                    patch.insert("path".to_string(), path);
                }
                (None, Some(op)) => {
                    patch.insert("patch".to_string(), op);
                }
                (None, None) => return Err("give it `path` or `jsonOp`".to_string()),
            }
            put("patches", Some(json!([patch])));
        }
        (Stage::Transformers, "ReplacementTransformer") => {
            put("replacements", get("replacements"));
        }
        (_, other) => {
            let list = match stage {
                Stage::Generators => "ConfigMapGenerator, IAMPolicyGenerator, SecretGenerator",
                Stage::Transformers => {
                    "AnnotationsTransformer, ImageTagTransformer, LabelTransformer, NamespaceTransformer, PatchJson6902Transformer, PatchStrategicMergeTransformer, PatchTransformer, PrefixSuffixTransformer, ReplacementTransformer, ReplicaCountTransformer"
                }
            };
            return Err(format!(
                "the built-in plugin `{other}` is not run by braid here; supported: {list}"
            ));
        }
    }
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use crate::test_support::{files, objects};
    use crate::{KustomizeError, render};

    const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.25\n";

    #[test]
    fn built_in_transformers_run_after_the_kustomizations_own() {
        let source = files(&[
            (
                "kustomization.yaml",
                "namePrefix: a-\nresources:\n- deployment.yaml\ntransformers:\n- transformers.yaml\n",
            ),
            ("deployment.yaml", DEPLOYMENT),
            (
                "transformers.yaml",
                "apiVersion: builtin\nkind: NamespaceTransformer\nmetadata:\n  name: ns\n  namespace: shop\n---\napiVersion: builtin\nkind: ImageTagTransformer\nmetadata:\n  name: tag\nimageTag:\n  name: nginx\n  newTag: \"1.27\"\n---\napiVersion: builtin\nkind: ReplicaCountTransformer\nmetadata:\n  name: replicas\nreplica:\n  name: a-web\n  count: 3\n---\napiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: patch\ntarget:\n  kind: Deployment\npatch: |-\n  - op: add\n    path: /metadata/annotations\n    value: {patched: \"yes\"}\n",
            ),
        ]);
        let out = objects(&render(&source, "").expect("renders"));
        let web = &out[0];
        assert_eq!(web["metadata"]["name"], "a-web");
        assert_eq!(web["metadata"]["namespace"], "shop");
        assert_eq!(web["metadata"]["annotations"]["patched"], "yes");
        assert_eq!(web["spec"]["replicas"], 3);
        assert_eq!(
            web["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:1.27"
        );
    }

    #[test]
    fn external_and_unknown_plugins_are_refused() {
        for (config, needle) in [
            (
                "apiVersion: someteam.example.com/v1\nkind: SecretsFromVault\nmetadata:\n  name: x\n",
                "external plugin",
            ),
            (
                "apiVersion: builtin\nkind: HelmChartInflationGenerator\nmetadata:\n  name: x\n",
                "not run by braid",
            ),
        ] {
            let source = files(&[
                ("kustomization.yaml", "generators:\n- gen.yaml\n"),
                ("gen.yaml", config),
            ]);
            match render(&source, "") {
                Err(e @ KustomizeError::UnsupportedField { .. }) => {
                    assert!(e.to_string().contains(needle), "{e}");
                }
                other => panic!("{other:?}"),
            }
        }
        let missing = files(&[("kustomization.yaml", "transformers:\n- nope.yaml\n")]);
        assert!(matches!(
            render(&missing, ""),
            Err(KustomizeError::MissingResource { line: Some(2), .. })
        ));
    }
}
