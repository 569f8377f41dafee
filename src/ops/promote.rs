//! `braid promote`: the image references one environment runs (or a release file pins),
//! written into another environment's Kustomize overlay as a commit on a new branch
//! (docs/workflow.md#promotion).
//!
//! The images come from the source environment's state — what was applied, not what its
//! files say now — or from `releases/VERSION.yaml`. They are matched to the target
//! environment's workloads by workload and container name and by image name (repository),
//! and written as the overlay's `images:` entries (`newTag`, and `digest` when known: a
//! digest pins the exact image, the tag says which one it is). The overlay file is edited in
//! place, line by line, so the commit's diff is exactly the image lines. The commit is made
//! with gix on a new branch of the repository the overlay is in; the work tree, HEAD and
//! the current branch are left as they are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use braid_provider::Value;
use braid_state::StateStore;

use crate::config::{ManifestBody, ResourceBody};
use crate::diag::{Diagnostic, Diagnostics, state_error};
use crate::source::LoadedSource;
use crate::workspace::Workspace;

/// An image reference split as Kustomize's `images:` transformer sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImageRef {
    /// Registry and repository (`registry.example.com/web`).
    pub name: String,
    /// The tag, if any.
    pub tag: Option<String>,
    /// The digest (`sha256:…`), if any.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Splits `registry:5000/team/web:1.2@sha256:…`.
    pub fn parse(text: &str) -> ImageRef {
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => (rest, Some(digest.to_string())),
            None => (text, None),
        };
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[slash..].rfind(':') {
            Some(colon) => (
                rest[..slash + colon].to_string(),
                Some(rest[slash + colon + 1..].to_string()),
            ),
            None => (rest.to_string(), None),
        };
        ImageRef { name, tag, digest }
    }

    /// The reference as text: `name[:tag][@digest]`.
    pub fn text(&self) -> String {
        let mut out = self.name.clone();
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest);
        }
        out
    }
}

/// One container of a workload: `(workload name, container name, image)`.
type ContainerImage = (String, String, String);

/// The containers of the workload `object` (a Deployment, StatefulSet, DaemonSet,
/// ReplicaSet, Job, CronJob or Pod), with their images.
fn container_images(object: &Value) -> Vec<ContainerImage> {
    let kind = object.attr("kind").and_then(Value::as_str).unwrap_or("");
    let Some(name) = object
        .attr("metadata")
        .and_then(|m| m.attr("name"))
        .and_then(Value::as_str)
    else {
        return Vec::new();
    };
    let pod_spec = match kind {
        "Pod" => object.attr("spec"),
        "CronJob" => object
            .attr("spec")
            .and_then(|s| s.attr("jobTemplate"))
            .and_then(|t| t.attr("spec"))
            .and_then(|s| s.attr("template"))
            .and_then(|t| t.attr("spec")),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => object
            .attr("spec")
            .and_then(|s| s.attr("template"))
            .and_then(|t| t.attr("spec")),
        _ => None,
    };
    let Some(pod_spec) = pod_spec else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for list in ["initContainers", "containers"] {
        for container in pod_spec
            .attr(list)
            .and_then(Value::as_list)
            .unwrap_or_default()
        {
            if let (Some(container_name), Some(image)) = (
                container.attr("name").and_then(Value::as_str),
                container.attr("image").and_then(Value::as_str),
            ) {
                out.push((
                    name.to_string(),
                    container_name.to_string(),
                    image.to_string(),
                ));
            }
        }
    }
    out
}

/// What to promote: images wanted per workload (and container, `None`: any container
/// running that image name).
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    /// `(workload, container or None, image)`.
    pub images: Vec<(String, Option<String>, ImageRef)>,
    /// Where they come from, for messages: `environment staging`, `release v1.4.0`.
    pub origin: String,
}

/// The images the environment whose state is `store` runs, as applied.
pub async fn wanted_from_state(store: &dyn StateStore, env: &str) -> Result<Wanted, Diagnostics> {
    let mut wanted = Wanted {
        origin: format!("environment {env}"),
        ..Wanted::default()
    };
    for record in store.resources().await.map_err(state_error)? {
        if !record.address.starts_with("k8s/") {
            continue;
        }
        for (workload, container, image) in container_images(&record.attributes) {
            wanted
                .images
                .push((workload, Some(container), ImageRef::parse(&image)));
        }
    }
    if wanted.images.is_empty() {
        return Err(Diagnostic::error(
            "Nothing to promote",
            format!(
                "The state of environment \"{env}\" holds no workload with a container image: apply it first."
            ),
        )
        .into());
    }
    Ok(wanted)
}

/// The images `releases/VERSION.yaml` of the project pins: `services:` maps a workload to an
/// image reference (`registry/web:1.4.2@sha256:…`), or to `{image, tag, digest}`.
pub fn wanted_from_release(project_dir: &Path, version: &str) -> Result<Wanted, Diagnostics> {
    if version.contains(['/', '\\']) || version.starts_with('.') || version.is_empty() {
        return Err(Diagnostic::error(
            "Invalid release",
            format!("\"{version}\" is not a release name; use the version, like v1.4.0."),
        )
        .into());
    }
    let dir = project_dir.join("releases");
    let path = ["yaml", "yml"]
        .iter()
        .map(|ext| dir.join(format!("{version}.{ext}")))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "No such release",
                format!(
                    "There is no releases/{version}.yaml in {}. A release file lists the image of each service:\n  services:\n    web: registry.example.com/web:1.4.2@sha256:...",
                    project_dir.display()
                ),
            ))
        })?;
    let shown = format!(
        "releases/{}",
        path.file_name().unwrap_or_default().to_string_lossy()
    );
    let fail = |why: String| {
        Diagnostics::from(Diagnostic::error(
            "Invalid release file",
            format!("{shown}: {why}."),
        ))
    };
    let text = std::fs::read_to_string(&path).map_err(|e| fail(e.to_string()))?;
    let parsed: serde_json::Value =
        serde_yaml_ng::from_str(&text).map_err(|e| fail(e.to_string()))?;
    let services = parsed
        .get("services")
        .and_then(|s| s.as_object())
        .ok_or_else(|| fail("it has no services: map of service to image".to_string()))?;
    let mut wanted = Wanted {
        origin: format!("release {version}"),
        ..Wanted::default()
    };
    for (service, entry) in services {
        let image = match entry {
            serde_json::Value::String(image) => ImageRef::parse(image),
            serde_json::Value::Object(fields) => {
                let image = fields
                    .get("image")
                    .and_then(|i| i.as_str())
                    .ok_or_else(|| fail(format!("service {service} has no image")))?;
                let mut parsed = ImageRef::parse(image);
                if let Some(tag) = fields.get("tag").and_then(|t| t.as_str()) {
                    parsed.tag = Some(tag.to_string());
                }
                if let Some(digest) = fields.get("digest").and_then(|d| d.as_str()) {
                    parsed.digest = Some(digest.to_string());
                }
                parsed
            }
            _ => return Err(fail(format!("service {service} must map to an image"))),
        };
        if image.tag.is_none() && image.digest.is_none() {
            return Err(fail(format!(
                "service {service}'s image {} names no tag or digest",
                image.name
            )));
        }
        if let Some(digest) = &image.digest
            && !is_digest(digest)
        {
            return Err(fail(format!(
                "service {service}'s digest {digest} is not sha256: and 64 hex digits"
            )));
        }
        wanted.images.push((service.clone(), None, image));
    }
    Ok(wanted)
}

fn is_digest(text: &str) -> bool {
    text.strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// One image changed by a promotion.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImageChange {
    /// The workload (`web`).
    pub service: String,
    /// The container.
    pub container: String,
    /// What the target runs now.
    pub from: String,
    /// What it will run.
    pub to: ImageRef,
}

/// A file the promotion changes.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileChange {
    /// The path inside the repository.
    pub path: String,
    /// The repository's work tree.
    #[serde(skip)]
    pub repo: PathBuf,
    /// The source the file belongs to.
    pub source: String,
    /// The new text.
    #[serde(skip)]
    pub text: String,
}

/// One chart value changed by a promotion.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ValueChange {
    /// The chart's source.
    pub source: String,
    /// The values file written (inside the source).
    pub file: String,
    /// The value's dotted path (`image.tag`).
    pub path: String,
    /// What the target has now, if anything.
    pub from: Option<serde_json::Value>,
    /// What it will have.
    pub to: serde_json::Value,
}

/// What a promotion changes in the target environment.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Promotion {
    /// The images changed.
    pub changes: Vec<ImageChange>,
    /// The chart values changed.
    pub values: Vec<ValueChange>,
    /// The files written.
    pub files: Vec<FileChange>,
    /// Workloads of the source the target does not have, or whose image name differs.
    pub skipped: Vec<String>,
}

/// Works out the changes that bring `wanted` into the target environment `ws`, limited to
/// the workloads in `only` when it is not empty.
pub fn plan_promotion(
    ws: &Workspace,
    wanted: &Wanted,
    only: &[String],
) -> Result<Promotion, Diagnostics> {
    let overlay = ws.environment().and_then(|e| e.overlay.clone());
    let no_overlay = || {
        Diagnostics::from(Diagnostic::error(
            "No overlay to write to",
            format!(
                "Environment \"{}\" has no overlay, so there is no file of its own to pin images in. Give it one (environment \"{}\" {{ overlay = \"{}\" }}, rendering P/overlays/{}/kustomization.yaml).",
                ws.env_name, ws.env_name, ws.env_name, ws.env_name
            ),
        ))
    };
    // Charts are promoted by their values ([`plan_values`]).
    let charts: Vec<&str> = ws
        .project
        .sources
        .iter()
        .filter(|s| s.helm.is_some())
        .map(|s| s.name.as_str())
        .collect();
    for name in only {
        if !wanted.images.iter().any(|(w, _, _)| w == name) {
            return Err(Diagnostic::error(
                "Unknown service",
                format!("{} has no workload \"{name}\" to promote.", wanted.origin),
            )
            .into());
        }
    }
    let mut changes = Vec::new();
    let mut skipped = Vec::new();
    // Per overlay file: its source and the images to set, by image name.
    let mut edits: BTreeMap<(String, String), BTreeMap<String, ImageRef>> = BTreeMap::new();
    for decl in ws.module.resources.values() {
        let ResourceBody::Manifest(ManifestBody { document, file, .. }) = &decl.body else {
            continue;
        };
        if charts.contains(&decl.source.as_str()) {
            continue;
        }
        for (workload, container, current) in container_images(document) {
            if !only.is_empty() && !only.contains(&workload) {
                continue;
            }
            let current_ref = ImageRef::parse(&current);
            let Some((_, _, image)) = wanted.images.iter().find(|(w, c, image)| {
                *w == workload
                    && c.as_ref().is_none_or(|c| *c == container)
                    && image.name == current_ref.name
            }) else {
                if wanted.images.iter().any(|(w, _, _)| *w == workload) {
                    skipped.push(format!(
                        "{workload}/{container}: {} runs another image than {current}",
                        wanted.origin
                    ));
                }
                continue;
            };
            if image.tag == current_ref.tag && image.digest == current_ref.digest {
                continue;
            }
            let source = ws
                .sources
                .iter()
                .find(|s| s.name == decl.source)
                .ok_or_else(|| {
                    Diagnostics::from(Diagnostic::error(
                        "Cannot promote",
                        format!("{} comes from no source braid read.", decl.address),
                    ))
                })?;
            let overlay = overlay.as_deref().ok_or_else(no_overlay)?;
            let overlay_file = overlay_file(source, &file.name, overlay).ok_or_else(|| {
                Diagnostics::from(Diagnostic::error(
                    "No overlay to write to",
                    format!(
                        "{} ({}) is not rendered from a kustomization with an overlays/{overlay}/kustomization.yaml in source \"{}\": braid promote pins images in the target environment's Kustomize overlay.",
                        decl.address, file.name, source.name
                    ),
                ))
            })?;
            edits
                .entry((source.name.clone(), overlay_file))
                .or_default()
                .insert(image.name.clone(), image.clone());
            changes.push(ImageChange {
                service: workload,
                container,
                from: current,
                to: image.clone(),
            });
        }
    }
    for (workload, _, _) in &wanted.images {
        if (only.is_empty() || only.contains(workload))
            && !changes.iter().any(|c| &c.service == workload)
            && !skipped
                .iter()
                .any(|s| s.starts_with(&format!("{workload}/")))
            && !ws.module.resources.values().any(|d| match &d.body {
                ResourceBody::Manifest(m) => container_images(&m.document)
                    .iter()
                    .any(|(w, _, _)| w == workload),
                _ => false,
            })
        {
            skipped.push(format!(
                "{workload}: environment {} has no such workload",
                ws.env_name
            ));
        }
    }
    changes.sort_by(|a, b| (&a.service, &a.container).cmp(&(&b.service, &b.container)));
    changes.dedup_by(|a, b| a.service == b.service && a.container == b.container);
    let mut files = Vec::new();
    for ((source_name, rel), images) in edits {
        let source = ws
            .sources
            .iter()
            .find(|s| s.name == source_name)
            .expect("the source of an edit was found above");
        let path = source.root.join(&rel);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Diagnostics::from(Diagnostic::error(
                "Cannot read overlay",
                format!("{}: {e}.", path.display()),
            ))
        })?;
        let mut edited = text.clone();
        for image in images.values() {
            edited = set_image(&edited, image);
        }
        let (repo, in_repo) = repository_of(&path)?;
        files.push(FileChange {
            path: in_repo,
            repo,
            source: source_name,
            text: edited,
        });
    }
    Ok(Promotion {
        changes,
        values: Vec::new(),
        files,
        skipped,
    })
}

/// The chart values each source last applied with, in the environment whose state is
/// `store`: from its newest apply that succeeded and recorded the chart.
pub async fn chart_values_from_state(
    store: &dyn StateStore,
) -> Result<BTreeMap<String, serde_json::Value>, Diagnostics> {
    let mut out = BTreeMap::new();
    for apply in store.applies(100).await.map_err(state_error)? {
        if apply.outcome != braid_state::ApplyOutcome::Succeeded {
            continue;
        }
        for source in apply.sources {
            if let Some(helm) = source.helm {
                out.entry(source.name).or_insert(helm.values);
            }
        }
    }
    Ok(out)
}

/// The values at `paths` (dotted) that the charts of the source environment were applied
/// with (`from`, by source), written into the target environment's own values file of each
/// chart (the last of the helm block's `values` whose name holds the environment's name).
/// Without `paths`, `image.tag` and `image.digest` where the source environment has them.
pub fn plan_values(
    ws: &Workspace,
    from: &BTreeMap<String, serde_json::Value>,
    paths: &[String],
    origin: &str,
    promotion: &mut Promotion,
) -> Result<(), Diagnostics> {
    let namespace = ws
        .provider_config("kubernetes")
        .attr("namespace")
        .and_then(Value::as_str)
        .unwrap_or("default")
        .to_string();
    for config in &ws.project.sources {
        let Some(block) = &config.helm else { continue };
        let Some(values) = from.get(&config.name) else {
            if !paths.is_empty() {
                promotion.skipped.push(format!(
                    "chart {}: {origin} has applied it with no recorded values",
                    config.name
                ));
            }
            continue;
        };
        let wanted: Vec<String> = if paths.is_empty() {
            ["image.tag", "image.digest"]
                .iter()
                .filter(|p| lookup(values, p).is_some())
                .map(|p| p.to_string())
                .collect()
        } else {
            paths.to_vec()
        };
        if wanted.is_empty() {
            continue;
        }
        let settings = crate::manifests::helm::settings(config, block, &ws.env_name, &namespace)
            .map_err(Diagnostics::from)?;
        let Some(file) = settings
            .values
            .iter()
            .rev()
            .find(|v| v.contains(ws.env_name.as_str()))
            .cloned()
        else {
            return Err(Diagnostic::error(
                "No values file to write to",
                format!(
                    "The helm block of source \"{}\" names no values file of environment \"{}\" (like values = [\"values.yaml\", \"values-${{env.name}}.yaml\"]), so there is no file of its own to write the promoted values in.",
                    config.name, ws.env_name
                ),
            )
            .at(block.location.clone())
            .into());
        };
        let source = ws
            .sources
            .iter()
            .find(|s| s.name == config.name)
            .ok_or_else(|| {
                Diagnostics::from(Diagnostic::error(
                    "Cannot promote",
                    format!("braid did not read source \"{}\".", config.name),
                ))
            })?;
        let current = source.revision.helm.as_ref().map(|h| &h.values);
        let path = source.root.join(&file);
        let mut text = std::fs::read_to_string(&path).map_err(|e| {
            Diagnostics::from(Diagnostic::error(
                "Cannot read values file",
                format!("{}: {e}.", path.display()),
            ))
        })?;
        let before = text.clone();
        for dotted in &wanted {
            let Some(value) = lookup(values, dotted) else {
                promotion.skipped.push(format!(
                    "chart {} value {dotted}: {origin} has no such value",
                    config.name
                ));
                continue;
            };
            if value.as_str() == Some("(sensitive value)") {
                return Err(Diagnostic::error(
                    "Cannot promote a sensitive value",
                    format!(
                        "The value {dotted} of chart {} is sensitive (from the environment or a SOPS file), so state does not hold it and it cannot be promoted. Keep it in each environment's own (SOPS-encrypted) values file.",
                        config.name
                    ),
                )
                .into());
            }
            let scalar = match value {
                serde_json::Value::String(s) => quote(s),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => {
                    return Err(Diagnostic::error(
                        "Cannot promote this value",
                        format!(
                            "The value {dotted} of chart {} is a {}; braid promotes single values (strings, numbers, booleans): name the values inside it.",
                            config.name,
                            if value.is_array() { "list" } else { "map" }
                        ),
                    )
                    .into());
                }
            };
            let now = current.and_then(|c| lookup(c, dotted));
            if now == Some(value) {
                continue;
            }
            let keys: Vec<&str> = dotted.split('.').collect();
            text = set_yaml_value(&text, &keys, &scalar);
            promotion.values.push(ValueChange {
                source: config.name.clone(),
                file: file.clone(),
                path: dotted.clone(),
                from: now.cloned(),
                to: value.clone(),
            });
        }
        if text != before {
            let (repo, in_repo) = repository_of(&path)?;
            promotion.files.push(FileChange {
                path: in_repo,
                repo,
                source: config.name.clone(),
                text,
            });
        }
    }
    Ok(())
}

fn lookup<'a>(value: &'a serde_json::Value, dotted: &str) -> Option<&'a serde_json::Value> {
    dotted
        .split('.')
        .try_fold(value, |at, key| at.as_object()?.get(key))
}

/// `text` (block-style YAML) with the value at `keys` set to `scalar` (YAML text), keys
/// added where missing, every other line as it was.
pub fn set_yaml_value(text: &str, keys: &[&str], scalar: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let indent_of = |l: &str| l.len() - l.trim_start().len();
    let is_content = |l: &str| !l.trim().is_empty() && !l.trim_start().starts_with('#');
    // The block being searched: lines [start, end) at indentation `indent`.
    let (mut start, mut end, mut indent) = (0usize, lines.len(), 0usize);
    for (depth, key) in keys.iter().enumerate() {
        let found = (start..end).find(|&i| {
            let line = &lines[i];
            is_content(line)
                && indent_of(line) == indent
                && line
                    .trim_start()
                    .strip_prefix(key)
                    .is_some_and(|r| r.starts_with(':'))
        });
        match found {
            Some(i) if depth + 1 == keys.len() => {
                let head = &lines[i][..indent + key.len() + 1];
                lines[i] = format!("{head} {scalar}");
                break;
            }
            Some(i) => {
                // The child block: the lines after it, indented deeper.
                let block_end = (i + 1..end)
                    .find(|&j| is_content(&lines[j]) && indent_of(&lines[j]) <= indent)
                    .unwrap_or(end);
                let child_indent = (i + 1..block_end)
                    .find(|&j| is_content(&lines[j]))
                    .map_or(indent + 2, |j| indent_of(&lines[j]));
                start = i + 1;
                end = block_end;
                indent = child_indent;
            }
            None => {
                let mut at = end;
                while at > start && !is_content(&lines[at - 1]) {
                    at -= 1;
                }
                let mut new = Vec::new();
                for (offset, key) in keys[depth..].iter().enumerate() {
                    let pad = " ".repeat(indent + 2 * offset);
                    if depth + offset + 1 == keys.len() {
                        new.push(format!("{pad}{key}: {scalar}"));
                    } else {
                        new.push(format!("{pad}{key}:"));
                    }
                }
                for (offset, line) in new.into_iter().enumerate() {
                    lines.insert(at + offset, line);
                }
                break;
            }
        }
    }
    let mut out = lines.join("\n");
    if text.ends_with('\n') || text.is_empty() {
        out.push('\n');
    }
    out
}

/// The overlay kustomization of `overlay` that renders the object from `origin` (its file
/// as diagnostics name it), as a path inside the source.
fn overlay_file(source: &LoadedSource, origin: &str, overlay: &str) -> Option<String> {
    // Diagnostics name files relative to `display_root`; the kustomizations are paths inside
    // the source.
    let shown = origin
        .strip_prefix(&source.display_prefix)
        .unwrap_or(origin);
    let absolute = source.display_root.join(shown);
    let origin = absolute
        .strip_prefix(&source.root)
        .map_or_else(|_| shown.to_string(), |p| p.to_string_lossy().into_owned())
        .replace('\\', "/");
    let mut best: Option<(usize, String)> = None;
    for file in &source.yaml_files {
        let Some(dir) = ["kustomization.yaml", "kustomization.yml", "Kustomization"]
            .iter()
            .find_map(|name| file.path.strip_suffix(name))
        else {
            continue;
        };
        let suffix = format!("overlays/{overlay}/");
        let Some(app) = dir.strip_suffix(&suffix) else {
            continue;
        };
        // The app's directory holds the object's file, or the object comes from the overlay.
        if origin.starts_with(app) || origin.starts_with(dir) || app.is_empty() {
            let score = app.len();
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, file.path.clone()));
            }
        }
    }
    best.map(|(_, path)| path)
}

/// The git work tree holding `path`, and `path` inside it.
fn repository_of(path: &Path) -> Result<(PathBuf, String), Diagnostics> {
    let not_in_repo = || {
        Diagnostics::from(Diagnostic::error(
            "Not in a git repository",
            format!(
                "{} is not inside a git work tree: braid promote commits the change on a new branch.",
                path.display()
            ),
        ))
    };
    let real = std::fs::canonicalize(path).map_err(|_| not_in_repo())?;
    let repo = gix::discover(real.parent().unwrap_or(&real)).map_err(|_| not_in_repo())?;
    let workdir = repo
        .workdir()
        .and_then(|w| std::fs::canonicalize(w).ok())
        .ok_or_else(not_in_repo)?;
    let rel = real
        .strip_prefix(&workdir)
        .map_err(|_| not_in_repo())?
        .to_string_lossy()
        .replace('\\', "/");
    Ok((workdir, rel))
}

/// `text` (a kustomization) with the `images:` entry of `image.name` set to its tag and
/// digest — added when missing — and every other line as it was.
pub fn set_image(text: &str, image: &ImageRef) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let newline_at_end = text.ends_with('\n') || text.is_empty();
    let Some(images_at) = lines
        .iter()
        .position(|l| l.trim_end() == "images:" && !l.starts_with([' ', '\t']))
    else {
        let mut out = text.to_string();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str("images:\n");
        out.push_str(&entry_lines(image, "  ", "    ").join("\n"));
        out.push('\n');
        return out;
    };
    // The block: indented lines (or list items at column 0) after `images:`.
    let mut end = images_at + 1;
    while end < lines.len() {
        let line = lines[end];
        if line.trim().is_empty() || line.starts_with([' ', '\t', '-', '#']) {
            end += 1;
        } else {
            break;
        }
    }
    // The items: each starts at a line whose first non-space character is `-`.
    let mut items: Vec<(usize, usize)> = Vec::new();
    for (i, line) in lines.iter().enumerate().take(end).skip(images_at + 1) {
        if line.trim_start().starts_with('-') {
            if let Some(last) = items.last_mut() {
                last.1 = i;
            }
            items.push((i, end));
        }
    }
    let value_of = |line: &str, key: &str| -> Option<String> {
        let trimmed = line.trim_start().trim_start_matches('-').trim_start();
        trimmed
            .strip_prefix(key)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(|v| v.trim().trim_matches(['"', '\'']).to_string())
    };
    let item = items.iter().find(|(start, stop)| {
        lines[*start..*stop].iter().any(|l| {
            value_of(l, "name").as_deref() == Some(&image.name)
                || value_of(l, "newName").as_deref() == Some(&image.name)
        })
    });
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    match item {
        Some(&(start, stop)) => {
            // Field indentation: that of the item's second line, else the dash's plus 2.
            let dash_indent = lines[start].len() - lines[start].trim_start().len();
            let field_indent = lines[start + 1..stop]
                .iter()
                .find(|l| !l.trim().is_empty())
                .map_or(dash_indent + 2, |l| l.len() - l.trim_start().len());
            let pad = " ".repeat(field_indent);
            let mut insert_after = stop;
            while insert_after > start + 1 && lines[insert_after - 1].trim().is_empty() {
                insert_after -= 1;
            }
            let mut inserts = Vec::new();
            for (key, value) in [("newTag", &image.tag), ("digest", &image.digest)] {
                let found = (start..stop).find(|i| value_of(lines[*i], key).is_some());
                match (found, value) {
                    (Some(i), Some(value)) => {
                        let line = lines[i];
                        let prefix_len = line.find(key).unwrap_or(0) + key.len() + 1;
                        out[i] = format!("{} {}", &line[..prefix_len], quote(value));
                    }
                    (Some(i), None) => out[i] = String::from("\u{0}"),
                    (None, Some(value)) => inserts.push(format!("{pad}{key}: {}", quote(value))),
                    (None, None) => {}
                }
            }
            for (offset, line) in inserts.into_iter().enumerate() {
                out.insert(insert_after + offset, line);
            }
        }
        None => {
            let (dash, field) = items
                .first()
                .map(|&(start, stop)| {
                    let dash = lines[start].len() - lines[start].trim_start().len();
                    let field = lines[start + 1..stop]
                        .iter()
                        .find(|l| !l.trim().is_empty())
                        .map_or(dash + 2, |l| l.len() - l.trim_start().len());
                    (dash, field)
                })
                .unwrap_or((2, 4));
            let mut insert_at = end;
            while insert_at > images_at + 1 && lines[insert_at - 1].trim().is_empty() {
                insert_at -= 1;
            }
            for (offset, line) in entry_lines(image, &" ".repeat(dash), &" ".repeat(field))
                .into_iter()
                .enumerate()
            {
                out.insert(insert_at + offset, line);
            }
        }
    }
    let mut text: String = out
        .into_iter()
        .filter(|l| l != "\u{0}")
        .collect::<Vec<_>>()
        .join("\n");
    if newline_at_end {
        text.push('\n');
    }
    text
}

fn entry_lines(image: &ImageRef, dash: &str, field: &str) -> Vec<String> {
    let mut lines = vec![format!("{dash}- name: {}", image.name)];
    if let Some(tag) = &image.tag {
        lines.push(format!("{field}newTag: {}", quote(tag)));
    }
    if let Some(digest) = &image.digest {
        lines.push(format!("{field}digest: {digest}"));
    }
    lines
}

/// A tag that YAML would read as a number (`1.10`) is quoted, so it stays the text it is.
fn quote(value: &str) -> String {
    let plain = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(value)
        .is_ok_and(|v| v.as_str() == Some(value));
    if plain {
        value.to_string()
    } else {
        format!("\"{value}\"")
    }
}

/// Commits `files` (all in the repository `repo`) on the new branch `branch`, on top of the
/// current HEAD, without touching the work tree, the index or HEAD. Returns the commit.
pub fn commit(
    repo_dir: &Path,
    files: &[&FileChange],
    branch: &str,
    message: &str,
    author: (&str, &str),
) -> Result<String, Diagnostics> {
    let fail = |why: String| {
        Diagnostics::from(Diagnostic::error(
            "Cannot commit the promotion",
            format!("{}: {why}.", repo_dir.display()),
        ))
    };
    let repo = gix::open(repo_dir).map_err(|e| fail(e.to_string()))?;
    let reference = format!("refs/heads/{branch}");
    if repo
        .try_find_reference(reference.as_str())
        .ok()
        .flatten()
        .is_some()
    {
        return Err(fail(format!(
            "the branch {branch} exists already; pick another with --branch"
        )));
    }
    let head = repo
        .head_commit()
        .map_err(|e| fail(format!("HEAD has no commit ({e})")))?;
    let mut editor = repo
        .edit_tree(head.tree_id().map_err(|e| fail(e.to_string()))?)
        .map_err(|e| fail(e.to_string()))?;
    for file in files {
        let blob = repo
            .write_blob(file.text.as_bytes())
            .map_err(|e| fail(e.to_string()))?;
        editor
            .upsert(file.path.as_str(), gix::object::tree::EntryKind::Blob, blob)
            .map_err(|e| fail(e.to_string()))?;
    }
    let tree = editor.write().map_err(|e| fail(e.to_string()))?;
    let now = crate::config::window::clock()?;
    let signature = gix::actor::Signature {
        name: author.0.into(),
        email: author.1.into(),
        time: gix::date::Time::new(now.timestamp(), 0),
    };
    let mut buf = gix::date::parse::TimeBuf::default();
    let id = repo
        .commit_as(
            signature.to_ref(&mut buf),
            signature.to_ref(&mut gix::date::parse::TimeBuf::default()),
            reference.as_str(),
            message,
            tree.detach(),
            [head.id],
        )
        .map_err(|e| fail(e.to_string()))?;
    Ok(id.detach().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(text: &str) -> ImageRef {
        ImageRef::parse(text)
    }

    #[test]
    fn image_references_split_as_kustomize_reads_them() {
        assert_eq!(
            image("registry:5000/team/web:1.2@sha256:ab"),
            ImageRef {
                name: "registry:5000/team/web".into(),
                tag: Some("1.2".into()),
                digest: Some("sha256:ab".into())
            }
        );
        assert_eq!(image("nginx").tag, None);
        assert_eq!(image("registry:5000/web").name, "registry:5000/web");
        assert_eq!(image("web:1.0").text(), "web:1.0");
    }

    #[test]
    fn values_are_set_in_place_or_added() {
        let text = "# prod\nreplicaCount: 3\nimage:\n  repository: web\n  tag: \"1.0\"\nqueue:\n  name: x\n";
        assert_eq!(
            set_yaml_value(text, &["image", "tag"], "\"1.1\""),
            "# prod\nreplicaCount: 3\nimage:\n  repository: web\n  tag: \"1.1\"\nqueue:\n  name: x\n"
        );
        assert_eq!(
            set_yaml_value(text, &["image", "digest"], "sha256:ab"),
            "# prod\nreplicaCount: 3\nimage:\n  repository: web\n  tag: \"1.0\"\n  digest: sha256:ab\nqueue:\n  name: x\n"
        );
        assert_eq!(
            set_yaml_value("replicaCount: 3\n", &["image", "tag"], "2.0.0"),
            "replicaCount: 3\nimage:\n  tag: 2.0.0\n"
        );
    }

    #[test]
    fn only_the_image_lines_change() {
        let text = "# prod\nresources:\n  - ../../base\nimages:\n  - name: registry.example.com/web\n    newTag: \"1.0\"\n  - name: other\n    newTag: x\npatches: []\n";
        let edited = set_image(text, &image("registry.example.com/web:1.1@sha256:abc"));
        assert_eq!(
            edited,
            "# prod\nresources:\n  - ../../base\nimages:\n  - name: registry.example.com/web\n    newTag: \"1.1\"\n    digest: sha256:abc\n  - name: other\n    newTag: x\npatches: []\n"
        );
        let added = set_image("resources:\n- ../../base\n", &image("web:2.0"));
        assert_eq!(
            added,
            "resources:\n- ../../base\nimages:\n  - name: web\n    newTag: \"2.0\"\n"
        );
        let appended = set_image(text, &image("new/one:3"));
        assert!(
            appended.contains("    newTag: x\n  - name: new/one\n    newTag: \"3\"\npatches: []"),
            "{appended}"
        );
        // A digest that is gone is removed.
        let undigested = set_image(&edited, &image("registry.example.com/web:1.2"));
        assert!(!undigested.contains("digest"), "{undigested}");
    }
}
