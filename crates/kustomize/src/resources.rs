//! The `resources` field: loading manifest files and rendering directories (bases) in the
//! order listed, and checking that no two objects share kind, namespace and name.

use std::collections::HashMap;

use super::kustomization::Kustomization;
use super::{Files, KustomizeError, Resource, build, yaml};

/// Loads every entry of `k.resources`, rendering directories as kustomizations.
pub(crate) fn load(
    files: &dyn Files,
    k: &Kustomization<'_>,
    walk: &mut super::build::Walk,
) -> Result<Vec<Resource>, KustomizeError> {
    let mut objects = Vec::new();
    for entry in &k.resources {
        let missing = |message: String| KustomizeError::MissingResource {
            file: k.file.clone(),
            line: k.line_of(entry),
            message,
        };
        let path = if is_remote(entry) {
            files.remote(entry).ok_or_else(|| KustomizeError::UnsupportedField {
                file: k.file.clone(),
                line: k.line_of(entry),
                field: format!("resources: {entry}"),
                hint: "remote bases are not fetched here; add the repository as a braid source or vendor the files into this one".to_string(),
            })?
        } else {
            k.resolve(entry).ok_or_else(|| {
                missing(format!(
                    "resource `{entry}` points outside the source; keep bases inside the source directory"
                ))
            })?
        };
        if files.is_dir(&path) {
            objects.extend(
                build::accumulate(files, &path, walk).map_err(|error| match error {
                    KustomizeError::MissingKustomization { message, .. } => missing(format!(
                        "resource `{entry}` is a directory without a kustomization ({message})"
                    )),
                    other => other,
                })?,
            );
        } else if let Some(text) = files.read(&path) {
            for document in yaml::parse_documents(&path, text)? {
                let resource = Resource::new(document.origin, document.line, document.document);
                if resource.name().is_empty() || resource.kind().is_empty() {
                    return Err(KustomizeError::InvalidYaml {
                        file: resource.origin,
                        line: Some(resource.line),
                        message: "the object has no kind or no metadata.name; kustomize needs both"
                            .to_string(),
                    });
                }
                objects.push(resource);
            }
        } else {
            return Err(missing(format!(
                "resource `{entry}` does not exist (looked for `{path}`); fix the path, which is relative to the kustomization's directory"
            )));
        }
    }
    Ok(objects)
}

pub(crate) fn is_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.starts_with("git@")
        || entry.starts_with("github.com/")
        || entry.starts_with("gitlab.com/")
        || entry.contains("?ref=")
}

/// Errors if two objects have the same group, kind, namespace and name.
pub(crate) fn check_unique(objects: &[Resource]) -> Result<(), KustomizeError> {
    let mut seen: HashMap<(&str, &str, &str, &str), &Resource> = HashMap::new();
    for object in objects {
        let id = (
            object.group(),
            object.kind(),
            // No namespace is `default`, as Kustomize compares ids.
            object.namespace().unwrap_or("default"),
            object.name(),
        );
        if let Some(first) = seen.insert(id, object) {
            return Err(KustomizeError::DuplicateResource {
                file: object.origin.clone(),
                line: Some(object.line),
                message: format!(
                    "{} is defined twice, here and in {}:{}; remove one or give them different names",
                    object.describe(),
                    first.origin,
                    first.line
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::{files, rendered};
    use super::super::{KustomizeError, render};

    const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - name: web\n        image: web:1.0\n";

    #[test]
    fn renders_files_and_directories_in_order() {
        let source = files(&[
            (
                "app/kustomization.yaml",
                "resources:\n- service.yaml\n- db\n- deployment.yaml\n",
            ),
            ("app/deployment.yaml", DEPLOYMENT),
            (
                "app/service.yaml",
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n",
            ),
            ("app/db/kustomization.yml", "resources: [db.yaml]\n"),
            (
                "app/db/db.yaml",
                "# the database\napiVersion: v1\nkind: Service\nmetadata:\n  name: db\n",
            ),
        ]);
        let documents = render(&source, "app").expect("renders");
        assert_eq!(
            rendered(&documents),
            vec![
                (
                    "app/service.yaml".to_string(),
                    1,
                    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}})
                ),
                (
                    "app/db/db.yaml".to_string(),
                    2,
                    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"}})
                ),
                (
                    "app/deployment.yaml".to_string(),
                    1,
                    json!({
                        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
                        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "web", "image": "web:1.0"}]}}}
                    })
                ),
            ]
        );
    }

    fn overlay_source() -> impl super::super::Files {
        files(&[
            ("base/kustomization.yaml", "resources:\n- deployment.yaml\n"),
            ("base/deployment.yaml", DEPLOYMENT),
            (
                "overlays/staging/kustomization.yaml",
                "resources:\n- ../../base\nnamespace: staging\nnamePrefix: staging-\n",
            ),
            (
                "overlays/prod/kustomization.yaml",
                "resources:\n- ../../base\nnamespace: prod\nimages:\n- name: web\n  newTag: \"2.0\"\nreplicas:\n- name: web\n  count: 6\n",
            ),
        ])
    }

    #[test]
    fn overlays_transform_their_base() {
        let source = overlay_source();
        let staging = render(&source, "overlays/staging").expect("renders");
        assert_eq!(
            rendered(&staging),
            vec![(
                "base/deployment.yaml".to_string(),
                1,
                json!({
                    "apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": "staging-web", "namespace": "staging"},
                    "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "web", "image": "web:1.0"}]}}}
                })
            )]
        );
        let prod = render(&source, "overlays/prod").expect("renders");
        assert_eq!(
            rendered(&prod),
            vec![(
                "base/deployment.yaml".to_string(),
                1,
                json!({
                    "apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": "web", "namespace": "prod"},
                    "spec": {"replicas": 6, "template": {"spec": {"containers": [{"name": "web", "image": "web:2.0"}]}}}
                })
            )]
        );
    }

    #[test]
    fn a_missing_resource_file_names_the_kustomization_line() {
        let source = files(&[
            (
                "app/kustomization.yaml",
                "resources:\n- deployment.yaml\n- nope.yaml\n",
            ),
            ("app/deployment.yaml", DEPLOYMENT),
        ]);
        assert_eq!(
            render(&source, "app"),
            Err(KustomizeError::MissingResource {
                file: "app/kustomization.yaml".to_string(),
                line: Some(3),
                message: "resource `nope.yaml` does not exist (looked for `app/nope.yaml`); fix the path, which is relative to the kustomization's directory".to_string(),
            })
        );
    }

    #[test]
    fn a_directory_without_kustomization_is_a_missing_resource() {
        let source = files(&[
            ("app/kustomization.yaml", "resources:\n- sub\n"),
            ("app/sub/a.yaml", DEPLOYMENT),
        ]);
        let error = render(&source, "app").expect_err("no kustomization in sub");
        assert!(
            matches!(error, KustomizeError::MissingResource { ref file, line: Some(2), .. } if file == "app/kustomization.yaml"),
            "{error:?}"
        );
    }

    #[test]
    fn detects_cycles() {
        let source = files(&[
            ("a/kustomization.yaml", "resources:\n- ../b\n"),
            ("b/kustomization.yaml", "resources:\n- ../a\n"),
        ]);
        assert_eq!(
            render(&source, "a"),
            Err(KustomizeError::Cycle {
                file: "b/kustomization.yaml".to_string(),
                chain: vec![
                    "a/kustomization.yaml".to_string(),
                    "b/kustomization.yaml".to_string(),
                    "a/kustomization.yaml".to_string(),
                ],
            })
        );
        let itself = files(&[("a/kustomization.yaml", "resources:\n- .\n")]);
        assert!(matches!(
            render(&itself, "a"),
            Err(KustomizeError::Cycle { .. })
        ));
    }

    #[test]
    fn rejects_duplicates_and_remote_bases() {
        let source = files(&[
            ("kustomization.yaml", "resources:\n- a.yaml\n- b.yaml\n"),
            ("a.yaml", DEPLOYMENT),
            ("b.yaml", DEPLOYMENT),
        ]);
        assert_eq!(
            render(&source, ""),
            Err(KustomizeError::DuplicateResource {
                file: "b.yaml".to_string(),
                line: Some(1),
                message: "Deployment/web is defined twice, here and in a.yaml:1; remove one or give them different names".to_string(),
            })
        );
        let remote = files(&[(
            "kustomization.yaml",
            "resources:\n- https://github.com/org/repo//base?ref=v1\n",
        )]);
        assert!(matches!(
            render(&remote, ""),
            Err(KustomizeError::UnsupportedField { line: Some(2), .. })
        ));
    }
}
