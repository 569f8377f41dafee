//! The order of steps: what one kustomization does to the objects of its resources and bases,
//! and what happens once at the top level (hash suffixes, final reference rewriting).

use super::kustomization::{self, find_kustomization_file, join};
use super::{
    Files, KustomizeError, RenderedDocument, Resource, generators, images, namereference, patch,
    plugins, replacements, resources, transform, vars,
};

pub(crate) fn render(
    files: &dyn Files,
    dir: &str,
) -> Result<Vec<RenderedDocument>, KustomizeError> {
    let dir = join("", dir).ok_or_else(|| KustomizeError::MissingKustomization {
        file: dir.to_string(),
        message: format!("directory `{dir}` is outside the source"),
    })?;
    let mut walk = Walk::default();
    let mut resources = accumulate(files, &dir, &mut walk)?;
    // Kustomize adds the hash suffixes once, after every overlay ran, so the hash covers the
    // final data; references are then rewritten to the hashed names.
    generators::add_hash_suffixes(&mut resources);
    namereference::rewrite_references(&mut resources, &walk.config.name_references)?;
    vars::substitute(&mut resources, &walk.vars, &walk.config.var_reference)?;
    // Objects marked local-config serve the build (as sources of replacements and vars) and
    // are left out of its output, last, as Kustomize leaves them out.
    resources.retain(|resource| {
        resource
            .doc
            .pointer("/metadata/annotations/config.kubernetes.io~1local-config")
            .is_none_or(|value| value.as_str() == Some("false"))
    });
    for resource in &mut resources {
        annotations_as_strings(&mut resource.doc);
    }
    Ok(resources
        .into_iter()
        .map(|resource| RenderedDocument {
            origin: resource.origin,
            line: resource.line,
            document: resource.doc,
        })
        .collect())
}

/// What a render carries through the tree of kustomizations: the kustomization files being
/// rendered, outermost first (to detect cycles), and the `vars` declared anywhere, resolved
/// once at the top as Kustomize does.
#[derive(Default)]
pub(crate) struct Walk {
    pub stack: Vec<String>,
    pub vars: Vec<vars::Var>,
    /// What `configurations` read so far add to Kustomize's transformer configuration.
    pub config: crate::config::TransformerConfig,
}

/// Renders the kustomization in `dir` without hash suffixes.
pub(crate) fn accumulate(
    files: &dyn Files,
    dir: &str,
    walk: &mut Walk,
) -> Result<Vec<Resource>, KustomizeError> {
    accumulate_onto(files, dir, walk, Vec::new(), false)
}

/// Renders the kustomization (or, with `component`, the Component) in `dir` onto `objects`:
/// a Component's resources join the objects of the kustomization that lists it, and its
/// generators, patches and transformers run on all of them, as in Kustomize.
fn accumulate_onto(
    files: &dyn Files,
    dir: &str,
    walk: &mut Walk,
    mut objects: Vec<Resource>,
    component: bool,
) -> Result<Vec<Resource>, KustomizeError> {
    let file = find_kustomization_file(files, dir)?;
    if walk.stack.contains(&file) {
        let mut chain = walk.stack.clone();
        chain.push(file);
        return Err(KustomizeError::Cycle {
            file: walk.stack.last().cloned().unwrap_or_default(),
            chain,
        });
    }
    // What to build may be a Component: Kustomize builds it as a kustomization.
    let top = walk.stack.is_empty();
    walk.stack.push(file.clone());
    let k = kustomization::load(files, dir, &file)?;
    if k.is_component != component && !(top && k.is_component) {
        let message = if component {
            format!(
                "`{dir}` is listed in `components` but is not a Component; give it `kind: Component` (apiVersion kustomize.config.k8s.io/v1alpha1) or list it in `resources`"
            )
        } else {
            format!(
                "`{file}` is a Component; list its directory in a kustomization's `components`, not in `resources`"
            )
        };
        return Err(KustomizeError::InvalidKustomization {
            file: file.clone(),
            line: k.line_of("kind:"),
            message,
        });
    }
    objects.extend(resources::load(files, &k, walk)?);
    let declared = if k.vars.is_null() {
        Vec::new()
    } else {
        vars::parse(&k, &k.vars)?
    };
    generators::generate(files, &k, &mut objects)?;
    crate::helm_charts::inflate(files, &k, &mut objects)?;
    plugins::run(
        files,
        &k,
        plugins::Stage::Generators,
        &mut objects,
        &walk.config,
    )?;
    // Components run after the generators, before the transformers, as in Kustomize.
    for entry in &k.components {
        let resolved = if crate::is_remote(entry) {
            files.remote(entry)
        } else {
            k.resolve(entry)
        };
        let Some(path) = resolved.filter(|path| files.is_dir(path)) else {
            return Err(KustomizeError::MissingResource {
                file: file.clone(),
                line: k.line_of(entry),
                message: format!(
                    "component `{entry}` is not a directory of the source; fix the path, which is relative to the kustomization's directory"
                ),
            });
        };
        objects = accumulate_onto(files, &path, walk, objects, true)?;
    }
    if k.origin_annotations {
        annotate_origins(&mut objects, dir);
    }
    resources::check_unique(&objects)?;
    walk.config.read(files, &k)?;
    transform(files, &k, &mut objects, &walk.config)?;
    plugins::run(
        files,
        &k,
        plugins::Stage::Transformers,
        &mut objects,
        &walk.config,
    )?;
    namereference::rewrite_references(&mut objects, &walk.config.name_references)?;
    vars::bind(&mut objects, &declared)?;
    walk.vars.extend(declared);
    walk.stack.pop();
    Ok(objects)
}

/// The transformers of one kustomization (or of a built-in transformer plugin's config, read
/// as the fields it stands for), in Kustomize's order: patches, namespace, prefix and
/// suffix, labels, annotations, later patches, replicas, images, replacements.
pub(crate) fn transform(
    files: &dyn Files,
    k: &kustomization::Kustomization<'_>,
    objects: &mut Vec<Resource>,
    config: &crate::config::TransformerConfig,
) -> Result<(), KustomizeError> {
    patch::apply_patches(files, k, objects, patch::Stage::BeforeTransformers, config)?;
    if let Some(namespace) = &k.namespace {
        transform::set_namespace(objects, namespace, &config.namespace);
    }
    transform::add_prefix_suffix(
        objects,
        k.name_prefix.as_deref().unwrap_or_default(),
        k.name_suffix.as_deref().unwrap_or_default(),
        config,
    );
    for rule in &k.labels {
        transform::add_labels(objects, rule, config);
    }
    transform::add_annotations(objects, &k.common_annotations, &config.common_annotations);
    if k.managed_by_label {
        for object in objects.iter_mut() {
            add_managed_by_label(object);
        }
    }
    patch::apply_patches(files, k, objects, patch::Stage::AfterAnnotations, config)?;
    images::set_replicas(objects, &k.replicas);
    images::set_images(objects, &k.images, &config.images);
    if !k.replacements.is_null() {
        let replacements = replacements::parse(files, k, &k.replacements)?;
        replacements::apply(objects, &replacements)?;
    }
    Ok(())
}

/// The annotation `buildMetadata: [originAnnotations]` adds.
const ORIGIN_ANNOTATION: &str = "config.kubernetes.io/origin";

/// `buildMetadata: [originAnnotations]`: each object not annotated by a nested kustomization
/// gets Kustomize's `config.kubernetes.io/origin` — the file it came from, or for a generated
/// object the kustomization and generator that made it — with paths relative to `dir`.
fn annotate_origins(objects: &mut [Resource], dir: &str) {
    for object in objects {
        let path = relative_to(&object.origin, dir);
        let generated = object.generated_by.is_some()
            || kustomization::KUSTOMIZATION_FILE_NAMES
                .iter()
                .any(|name| object.origin == *name || object.origin.ends_with(&format!("/{name}")));
        let config_name = object
            .generated_by
            .as_deref()
            .filter(|name| !name.is_empty())
            .map(|name| format!("  name: {name}\n"))
            .unwrap_or_default();
        let kind = object.kind().to_string();
        let annotations = object
            .metadata_mut()
            .entry("annotations")
            .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
        let serde_json::Value::Object(annotations) = annotations else {
            continue;
        };
        if annotations.contains_key(ORIGIN_ANNOTATION) {
            continue;
        }
        let origin = match (generated, kind.as_str()) {
            (true, kind @ ("ConfigMap" | "Secret")) => format!(
                "configuredIn: {path}\nconfiguredBy:\n  apiVersion: builtin\n  kind: {kind}Generator\n{config_name}"
            ),
            _ => format!("path: {path}\n"),
        };
        annotations.insert(
            ORIGIN_ANNOTATION.to_string(),
            serde_json::Value::String(origin),
        );
    }
}

/// `path` (relative to the source root) as seen from directory `dir` (also relative to it).
fn relative_to(path: &str, dir: &str) -> String {
    let mut base: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    let mut target: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    while !base.is_empty() && !target.is_empty() && base[0] == target[0] {
        base.remove(0);
        target.remove(0);
    }
    let mut out: Vec<&str> = base.iter().map(|_| "..").collect();
    out.extend(target);
    out.join("/")
}

/// `buildMetadata: [managedByLabel]`: the label `kubectl kustomize` writes.
fn add_managed_by_label(object: &mut Resource) {
    let labels = object
        .metadata_mut()
        .entry("labels")
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    if let serde_json::Value::Object(labels) = labels {
        labels.insert(
            "app.kubernetes.io/managed-by".to_string(),
            serde_json::Value::String("kustomize-(devel)".to_string()),
        );
    }
}

/// Kustomize writes every value of an object's `metadata.annotations` as a string (`8080`,
/// `true` and `null` become `"8080"`, `"true"`, `"null"`), as the Kubernetes API requires.
/// Labels and the annotations of pod templates keep what was written, as in Kustomize.
fn annotations_as_strings(doc: &mut serde_json::Value) {
    use serde_json::Value;
    // An empty `annotations: {}` is dropped, as Kustomize drops it (an empty `labels: {}`
    // stays).
    if let Some(Value::Object(metadata)) = doc.get_mut("metadata")
        && metadata
            .get("annotations")
            .is_some_and(|a| a.as_object().is_some_and(serde_json::Map::is_empty))
    {
        metadata.shift_remove("annotations");
    }
    let Some(Value::Object(annotations)) = doc.pointer_mut("/metadata/annotations") else {
        return;
    };
    for value in annotations.values_mut() {
        let text = match &*value {
            Value::String(_) => continue,
            Value::Null => "null".to_owned(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            other => other.to_string(),
        };
        *value = Value::String(text);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{files, objects};
    use super::render;

    fn source() -> impl super::Files {
        files(&[
            (
                "base/kustomization.yaml",
                "resources: [deployment.yaml, service.yaml]\ncommonLabels: {app: web}\nconfigMapGenerator:\n- name: web-config\n  literals: [LOG=info]\n",
            ),
            (
                "base/deployment.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - name: web\n        image: web:1.0\n        envFrom: [{configMapRef: {name: web-config}}]\n",
            ),
            (
                "base/service.yaml",
                "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 80}]\n",
            ),
            (
                "overlays/staging/kustomization.yaml",
                "resources: [../../base]\nnamespace: staging\nnamePrefix: staging-\nimages: [{name: web, newTag: \"1.1\"}]\npatches:\n- patch: |-\n    apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: web}\n    spec: {replicas: 2}\n",
            ),
            (
                "overlays/prod/kustomization.yaml",
                "resources: [../../base]\nnamespace: prod\ncommonAnnotations: {tier: gold}\nimages: [{name: web, digest: \"sha256:abc\"}]\nconfigMapGenerator:\n- {name: web-config, behavior: merge, literals: [LOG=warn]}\npatchesJson6902:\n- target: {group: apps, version: v1, kind: Deployment, name: web}\n  patch: '[{\"op\": \"replace\", \"path\": \"/spec/replicas\", \"value\": 6}]'\n",
            ),
        ])
    }

    fn deployment(
        name: &str,
        namespace: &str,
        replicas: i64,
        image: &str,
        config: &str,
        annotations: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let mut metadata = json!({"name": name, "labels": {"app": "web"}, "namespace": namespace});
        let mut template = json!({"labels": {"app": "web"}});
        if let Some(annotations) = annotations {
            metadata["annotations"] = annotations.clone();
            template["annotations"] = annotations;
        }
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
            "spec": {
                "replicas": replicas,
                "template": {"spec": {"containers": [{"name": "web", "image": image, "envFrom": [{"configMapRef": {"name": config}}]}]}, "metadata": template},
                "selector": {"matchLabels": {"app": "web"}},
            }
        })
    }

    #[test]
    fn staging_and_prod_overlays_run_every_step_on_the_base() {
        let source = source();
        let staging = objects(&render(&source, "overlays/staging").expect("renders"));
        let config = staging[2]["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            config.starts_with("staging-web-config-")
                && config.len() == "staging-web-config-".len() + 10,
            "{config}"
        );
        assert_eq!(
            staging,
            vec![
                deployment("staging-web", "staging", 2, "web:1.1", &config, None),
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "staging-web", "labels": {"app": "web"}, "namespace": "staging"},
                       "spec": {"ports": [{"port": 80}], "selector": {"app": "web"}}}),
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": config, "labels": {"app": "web"}, "namespace": "staging"},
                       "data": {"LOG": "info"}}),
            ]
        );

        let prod = objects(&render(&source, "overlays/prod").expect("renders"));
        let config = prod[2]["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(config.starts_with("web-config-"), "{config}");
        let gold = json!({"tier": "gold"});
        assert_eq!(
            prod,
            vec![
                deployment(
                    "web",
                    "prod",
                    6,
                    "web@sha256:abc",
                    &config,
                    Some(gold.clone())
                ),
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "labels": {"app": "web"}, "namespace": "prod", "annotations": gold},
                       "spec": {"ports": [{"port": 80}], "selector": {"app": "web"}}}),
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": config, "labels": {"app": "web"}, "namespace": "prod", "annotations": gold},
                       "data": {"LOG": "warn"}}),
            ]
        );
    }
}
