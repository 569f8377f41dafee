//! Built-in plugin configs in `generators:` and `transformers:` — files holding one or more
//! documents with `apiVersion: builtin` and the plugin's kind (`ConfigMapGenerator`,
//! `LabelTransformer`, ...). Each config is read as the kustomization fields it stands for and
//! run with the same code: generators after the kustomization's own, transformers after its
//! own transformers, in the order listed, as Kustomize runs them. Plugins that would run a
//! program (exec, Go, KRM functions) are refused.

use serde_json::{Map, Value, json};

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
        // An entry is a file of configs, or a config written inline.
        let (file, text): (String, String) = if entry.contains('\n') {
            (k.file.clone(), entry.clone())
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
                return Err(KustomizeError::UnsupportedField {
                    file: k.file.clone(),
                    line: at,
                    field: format!("{field}: {entry}"),
                    hint: "a kustomization producing plugin configs is not run; list the config files themselves".to_string(),
                });
            }
            let Some(text) = files.read(&path) else {
                return Err(KustomizeError::MissingResource {
                    file: k.file.clone(),
                    line: at,
                    message: format!(
                        "{field} entry `{entry}` does not exist (looked for `{path}`); fix the path, which is relative to the kustomization's directory"
                    ),
                });
            };
            (path, text.to_string())
        };
        for document in yaml::parse_documents(&file, &text)? {
            let config = &document.document;
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
                line: Some(document.line),
                field: format!("{field}: {kind}"),
                hint: why,
            };
            if api_version != "builtin" {
                return Err(refuse(format!(
                    "only Kustomize's built-in plugins (apiVersion: builtin) run; `{api_version}` names an external plugin, which would run a program"
                )));
            }
            let fields = as_fields(stage, kind, config).map_err(refuse)?;
            let synthetic = kustomization::from_value(&k.dir, &file, k.text, fields)?;
            match stage {
                Stage::Generators => generators::generate(files, &synthetic, objects)?,
                Stage::Transformers => {
                    super::build::transform(files, &synthetic, objects, configured)?;
                }
            }
        }
    }
    Ok(())
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
            let mut entry = Map::new();
            for (key, value) in [("name", meta("name")), ("namespace", meta("namespace"))] {
                if let Some(value) = value {
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
            rule.insert("pairs".to_string(), get("labels").unwrap_or(json!({})));
            rule.insert("includeSelectors".to_string(), Value::Bool(false));
            if let Some(specs) = get("fieldSpecs") {
                rule.insert("fields".to_string(), specs);
            }
            put("labels", Some(json!([rule])));
        }
        (Stage::Transformers, "AnnotationsTransformer") => {
            put("commonAnnotations", get("annotations"));
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
                Stage::Generators => "ConfigMapGenerator, SecretGenerator",
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
