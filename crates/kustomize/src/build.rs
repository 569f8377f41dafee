//! The order of steps: what one kustomization does to the objects of its resources and bases,
//! and what happens once at the top level (hash suffixes, final reference rewriting).

use super::kustomization::{self, find_kustomization_file, join};
use super::{
    Files, KustomizeError, RenderedDocument, Resource, generators, images, namereference, patch,
    resources, transform,
};

pub(crate) fn render(
    files: &dyn Files,
    dir: &str,
) -> Result<Vec<RenderedDocument>, KustomizeError> {
    let dir = join("", dir).ok_or_else(|| KustomizeError::MissingKustomization {
        file: dir.to_string(),
        message: format!("directory `{dir}` is outside the source"),
    })?;
    let mut stack = Vec::new();
    let mut resources = accumulate(files, &dir, &mut stack)?;
    // Kustomize adds the hash suffixes once, after every overlay ran, so the hash covers the
    // final name and data; references are then rewritten to the hashed names.
    generators::add_hash_suffixes(&mut resources);
    namereference::rewrite_references(&mut resources);
    Ok(resources
        .into_iter()
        .map(|resource| RenderedDocument {
            origin: resource.origin,
            line: resource.line,
            document: resource.doc,
        })
        .collect())
}

/// Renders the kustomization in `dir` without hash suffixes. `stack` holds the kustomization
/// files being rendered, outermost first, to detect cycles.
pub(crate) fn accumulate(
    files: &dyn Files,
    dir: &str,
    stack: &mut Vec<String>,
) -> Result<Vec<Resource>, KustomizeError> {
    let file = find_kustomization_file(files, dir)?;
    if stack.contains(&file) {
        let mut chain = stack.clone();
        chain.push(file);
        return Err(KustomizeError::Cycle {
            file: stack.last().cloned().unwrap_or_default(),
            chain,
        });
    }
    stack.push(file.clone());
    let k = kustomization::load(files, dir, &file)?;
    let mut objects = resources::load(files, &k, stack)?;
    generators::generate(files, &k, &mut objects)?;
    resources::check_unique(&objects)?;
    patch::apply_patches(files, &k, &mut objects, patch::Stage::BeforeTransformers)?;
    if let Some(namespace) = &k.namespace {
        transform::set_namespace(&mut objects, namespace);
    }
    transform::add_prefix_suffix(
        &mut objects,
        k.name_prefix.as_deref().unwrap_or_default(),
        k.name_suffix.as_deref().unwrap_or_default(),
    );
    for rule in &k.labels {
        transform::add_labels(&mut objects, rule);
    }
    transform::add_annotations(&mut objects, &k.common_annotations);
    patch::apply_patches(files, &k, &mut objects, patch::Stage::AfterAnnotations)?;
    images::set_replicas(&mut objects, &k.replicas);
    images::set_images(&mut objects, &k.images);
    namereference::rewrite_references(&mut objects);
    stack.pop();
    Ok(objects)
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
