//! The `images` field (new name, tag or digest for matching container images) and the
//! `replicas` field (replica counts by workload name).

use serde_json::Value;

use super::KustomizeError;
use super::Resource;
use super::kustomization::{Kustomization, check_entry_keys, scalar_string};

/// One `images` entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ImageRule {
    pub name: String,
    pub new_name: Option<String>,
    pub new_tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRule {
    pub fn parse(k: &Kustomization<'_>, entry: &Value) -> Result<Self, KustomizeError> {
        let Value::Object(object) = entry else {
            return Err(k.invalid(
                "images:",
                "every entry of `images` must be a mapping with `name`".to_string(),
            ));
        };
        check_entry_keys(
            k,
            "images",
            object,
            &["name", "newName", "newTag", "digest"],
        )?;
        let field = |key: &str| {
            object
                .get(key)
                .and_then(scalar_string)
                .filter(|value| !value.is_empty())
        };
        let Some(name) = field("name") else {
            return Err(k.invalid(
                "images:",
                "every entry of `images` needs a `name` (the image to match, without tag)"
                    .to_string(),
            ));
        };
        Ok(Self {
            name,
            new_name: field("newName"),
            new_tag: field("newTag"),
            digest: field("digest"),
        })
    }

    /// The replacement for `image`, if this rule matches it.
    fn apply(&self, image: &str) -> Option<String> {
        let (name, tag, digest) = split_image(image);
        if name != self.name {
            return None;
        }
        let name = self.new_name.as_deref().unwrap_or(name);
        // As Kustomize v5 writes them (whatever its older documentation says): a new tag and
        // a digest together give `name:tag@digest`; a new digest alone drops the old tag, a
        // new tag alone the old digest.
        Some(match (&self.digest, &self.new_tag, tag, digest) {
            (Some(new_digest), Some(new_tag), _, _) => format!("{name}:{new_tag}@{new_digest}"),
            (Some(new_digest), None, _, _) => format!("{name}@{new_digest}"),
            (None, Some(new_tag), _, _) => format!("{name}:{new_tag}"),
            (None, None, tag, digest) => {
                let tag = tag.map(|tag| format!(":{tag}")).unwrap_or_default();
                let digest = digest
                    .map(|digest| format!("@{digest}"))
                    .unwrap_or_default();
                format!("{name}{tag}{digest}")
            }
        })
    }
}

/// Splits `registry:5000/repo/name:tag@sha256:...` into name, tag and digest.
fn split_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (image, None),
    };
    let last_slash = rest.rfind('/').map(|index| index + 1).unwrap_or(0);
    match rest[last_slash..].rfind(':') {
        Some(colon) => {
            let colon = last_slash + colon;
            (&rest[..colon], Some(&rest[colon + 1..]), digest)
        }
        None => (rest, None, digest),
    }
}

/// Rewrites the `image` of every container, init container and ephemeral container, wherever
/// a pod spec appears (Pods, workload templates, CronJob job templates, custom resources).
pub(crate) fn set_images(
    objects: &mut [Resource],
    rules: &[ImageRule],
    configured: &[crate::config::Spec],
) {
    if rules.is_empty() {
        return;
    }
    for object in objects {
        // Image fields of custom kinds, from `configurations`.
        crate::config::visit_specs(object, configured, &mut |value| {
            if let Value::String(image) = value
                && let Some(new_image) = rules.iter().find_map(|rule| rule.apply(image))
            {
                *image = new_image;
            }
        });
        visit_containers(&mut object.doc, &mut |container| {
            let Some(Value::String(image)) = container.get_mut("image") else {
                return;
            };
            if let Some(new_image) = rules.iter().find_map(|rule| rule.apply(image)) {
                *image = new_image;
            }
        });
    }
}

fn visit_containers(value: &mut Value, f: &mut dyn FnMut(&mut serde_json::Map<String, Value>)) {
    match value {
        Value::Object(object) => {
            for (key, child) in object.iter_mut() {
                let is_container_list = matches!(
                    key.as_str(),
                    "containers" | "initContainers" | "ephemeralContainers"
                );
                match child {
                    Value::Array(items) if is_container_list => {
                        for item in items {
                            if let Value::Object(container) = item {
                                f(container);
                            }
                        }
                    }
                    other => visit_containers(other, f),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                visit_containers(item, f);
            }
        }
        _ => {}
    }
}

/// One `replicas` entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ReplicaRule {
    pub name: String,
    pub count: i64,
}

impl ReplicaRule {
    pub fn parse(k: &Kustomization<'_>, entry: &Value) -> Result<Self, KustomizeError> {
        let name = entry.get("name").and_then(Value::as_str);
        let count = entry.get("count").and_then(Value::as_i64);
        match (name, count) {
            (Some(name), Some(count)) => Ok(Self {
                name: name.to_string(),
                count,
            }),
            _ => Err(k.invalid(
                "replicas:",
                "every entry of `replicas` needs a `name` and an integer `count`".to_string(),
            )),
        }
    }
}

const SCALABLE: &[&str] = &[
    "Deployment",
    "ReplicaSet",
    "ReplicationController",
    "StatefulSet",
];

/// Sets `spec.replicas` of workloads whose current or earlier name matches a rule.
pub(crate) fn set_replicas(objects: &mut [Resource], rules: &[ReplicaRule]) {
    for rule in rules {
        for object in objects.iter_mut() {
            if SCALABLE.contains(&object.kind()) && object.had_name(&rule.name) {
                super::object_field(&mut object.doc, "spec")
                    .insert("replicas".to_string(), Value::from(rule.count));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::render;
    use super::super::test_support::{files, objects};
    use super::*;

    #[test]
    fn splits_images() {
        assert_eq!(split_image("nginx"), ("nginx", None, None));
        assert_eq!(
            split_image("localhost:5000/app:1.2"),
            ("localhost:5000/app", Some("1.2"), None)
        );
        assert_eq!(
            split_image("app@sha256:abc"),
            ("app", None, Some("sha256:abc"))
        );
        assert_eq!(
            split_image("r.io/app:1@sha256:abc"),
            ("r.io/app", Some("1"), Some("sha256:abc"))
        );
    }

    #[test]
    fn sets_names_tags_and_digests_in_every_pod_spec() {
        let source = files(&[
            (
                "kustomization.yaml",
                "resources: [app.yaml, job.yaml]\nimages:\n- name: postgres\n  newName: my-registry/my-postgres\n  newTag: v1\n- name: nginx\n  newTag: 1.8.0\n- name: my-demo-app\n  newName: my-app\n- name: alpine\n  digest: sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3\n",
            ),
            (
                "app.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: the-deployment}\nspec:\n  template:\n    spec:\n      initContainers:\n      - {name: init, image: 'alpine:3.7'}\n      containers:\n      - {name: mypostgresdb, image: 'postgres:8'}\n      - {name: nginxapp, image: 'nginx:1.7.9'}\n      - {name: myapp, image: 'my-demo-app:latest'}\n      - {name: other, image: 'nginx-other:1'}\n",
            ),
            (
                "job.yaml",
                "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - {name: job, image: nginx}\n",
            ),
        ]);
        let documents = render(&source, "").expect("renders");
        assert_eq!(
            objects(&documents),
            vec![
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "the-deployment"}, "spec": {"template": {"spec": {
                    "initContainers": [{"name": "init", "image": "alpine@sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3"}],
                    "containers": [
                        {"name": "mypostgresdb", "image": "my-registry/my-postgres:v1"},
                        {"name": "nginxapp", "image": "nginx:1.8.0"},
                        {"name": "myapp", "image": "my-app:latest"},
                        {"name": "other", "image": "nginx-other:1"},
                    ]
                }}}}),
                json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {
                    "containers": [{"name": "job", "image": "nginx:1.8.0"}]
                }}}}}}),
            ]
        );
    }

    #[test]
    fn a_new_tag_and_digest_are_written_together() {
        let rule = ImageRule {
            name: "app".to_string(),
            new_name: Some("registry/app".to_string()),
            new_tag: Some("2".to_string()),
            digest: Some("sha256:ff".to_string()),
        };
        assert_eq!(
            rule.apply("app:1").as_deref(),
            Some("registry/app:2@sha256:ff")
        );
        assert_eq!(rule.apply("other:1"), None);
        let digest_only = ImageRule {
            new_tag: None,
            ..rule
        };
        assert_eq!(
            digest_only.apply("app:1@sha256:ee").as_deref(),
            Some("registry/app@sha256:ff")
        );
    }
}
