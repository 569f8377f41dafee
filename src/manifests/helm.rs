//! Helm charts as sources: a source with a `helm` block is a chart folder, rendered per
//! environment by `braid-helm` (Helm v4's semantics) into Kubernetes objects that are
//! ordinary resources of the graph. Hooks are ordered around the chart's other objects
//! (`pre-install`/`pre-upgrade` before, `post-install`/`post-upgrade` after, by weight);
//! `crds/` files are objects too, which braid's ordering applies before their custom
//! resources.

use std::collections::BTreeMap;
use std::sync::Arc;

use braid_helm::value::{Map as HelmMap, Value as HelmValue};
use braid_provider::Value;
pub use braid_provider_kubernetes::ClusterCapabilities;
use braid_provider_kubernetes::{DELETE_AFTER_ANNOTATION, RECREATE_TOKEN_ANNOTATION};

use super::SourceDocument;
use crate::config::{HelmBlock, ResourceDecl, SourceConfig};
use crate::diag::{Diagnostic, Diagnostics, Location, SourceText};
use crate::source::LoadedSource;

/// The most a chart's files may hold together (a source is read into memory to render it).
const MAX_CHART_BYTES: u64 = 64 * 1024 * 1024;

/// A `helm` block evaluated for one environment.
#[derive(Debug, Clone)]
pub struct HelmSettings {
    /// The release name (`.Release.Name`): the block's `release`, else the source's name.
    pub release: String,
    /// The release namespace: objects without one go there.
    pub namespace: String,
    /// Values files of the chart folder, merged in order over the chart's values.yaml.
    pub values: Vec<String>,
    /// Inline values, merged last.
    pub set: Value,
    /// `set` reads the process environment (`env()`): its values are kept out of plans,
    /// state and comments.
    pub set_masked: bool,
    /// `.Capabilities.KubeVersion` (Helm's default when `None`).
    pub kube_version: Option<String>,
    /// API versions added to `.Capabilities.APIVersions`.
    pub api_versions: Vec<String>,
    /// Chart repositories (`https://…`, `oci://…`) dependencies may be fetched from.
    pub repositories: Vec<String>,
    /// OCI registries are reached over plain HTTP (`helm --plain-http`).
    pub plain_http: bool,
    /// Where the block is written.
    pub location: Location,
}

/// What a chart rendered: its objects (each with its part in the ordering), NOTES.txt, and
/// what the plan shows about it.
pub struct RenderedChart {
    /// The source the chart is.
    pub source: String,
    /// The chart's name and version (Chart.yaml).
    pub chart: String,
    /// See `chart`.
    pub version: String,
    /// The release namespace (the default namespace of its objects).
    pub namespace: String,
    /// The rendered objects.
    pub documents: Vec<(SourceDocument, Part)>,
    /// NOTES.txt, rendered.
    pub notes: Option<String>,
    /// The values the templates saw (inline values read from the environment masked).
    pub values: serde_json::Value,
    /// The release name.
    pub release: String,
}

impl RenderedChart {
    /// What plans and state record of the chart.
    pub fn release_record(&self) -> braid_state::HelmRelease {
        braid_state::HelmRelease {
            chart: self.chart.clone(),
            version: self.version.clone(),
            release: self.release.clone(),
            namespace: self.namespace.clone(),
            values: self.values.clone(),
            notes: self.notes.clone(),
        }
    }
}

/// The mark in place of a value kept out of plans and state.
const MASKED: &str = "(sensitive value)";

/// `values` with every string that holds a value of a SOPS file replaced by [`MASKED`]:
/// a values file encrypted with SOPS stays out of plans and state.
pub fn mask_secrets(values: &mut serde_json::Value, secrets: &[String]) {
    match values {
        serde_json::Value::String(s)
            if secrets.iter().any(|secret| {
                s == secret || (secret.len() >= 6 && s.contains(secret.as_str()))
            }) =>
        {
            *s = MASKED.to_string();
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| mask_secrets(v, secrets)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| mask_secrets(v, secrets)),
        _ => {}
    }
}

/// `values` with every leaf `set` gave replaced by [`MASKED`].
fn mask_set(values: &mut serde_json::Value, set: &serde_json::Value) {
    match (values, set) {
        (serde_json::Value::Object(values), serde_json::Value::Object(set)) => {
            for (key, inner) in set {
                if let Some(v) = values.get_mut(key) {
                    if inner.is_object() && v.is_object() {
                        mask_set(v, inner);
                    } else {
                        *v = serde_json::Value::String(MASKED.to_string());
                    }
                }
            }
        }
        (v, _) => *v = serde_json::Value::String(MASKED.to_string()),
    }
}

/// Where an object of a chart stands in the ordering Helm gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// A `crds/` file.
    Crd,
    /// A `pre-install`/`pre-upgrade` hook, with its weight: before every ordinary object.
    PreHook(i64),
    /// An ordinary object.
    Object,
    /// A `post-install`/`post-upgrade` hook, with its weight: after every ordinary object.
    PostHook(i64),
}

/// Evaluates a source's `helm` block for the environment `env_name`.
pub fn settings(
    source: &SourceConfig,
    block: &HelmBlock,
    env_name: &str,
    default_namespace: &str,
) -> Result<HelmSettings, Diagnostic> {
    let value = crate::config::helm_block_value(block, env_name)?;
    let at = |name: &str| {
        block
            .body
            .attribute(name)
            .map(|a| a.value_location.clone())
            .unwrap_or_else(|| block.location.clone())
    };
    let wrong = |name: &str, want: &str, got: &Value| {
        Diagnostic::error(
            "Incorrect attribute value type",
            format!("\"{name}\" must be {want}, but it is {}.", got.kind()),
        )
        .at(at(name))
    };
    let string = |name: &str| -> Result<Option<String>, Diagnostic> {
        match value.attr(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(wrong(name, "a string", other)),
        }
    };
    let strings = |name: &str| -> Result<Vec<String>, Diagnostic> {
        match value.attr(name) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::List(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(wrong(name, "a list of strings", other)),
                })
                .collect(),
            Some(other) => Err(wrong(name, "a list of strings", other)),
        }
    };
    let release = string("release")?.unwrap_or_else(|| source.name.clone());
    if let Some(problem) = release_name_problem(&release) {
        return Err(Diagnostic::error(
            "Invalid Helm release name",
            format!("The release name \"{release}\" {problem}. Helm requires lowercase letters, digits, \"-\" and \".\", starting and ending with a letter or digit, at most 53 characters."),
        )
        .at(at("release")));
    }
    let namespace = string("namespace")?.unwrap_or_else(|| default_namespace.to_string());
    let set = match value.attr("set") {
        None | Some(Value::Null) => Value::Map(braid_provider::ValueMap::new()),
        Some(v @ Value::Map(_)) => v.clone(),
        Some(other) => return Err(wrong("set", "an object like { replicaCount = 3 }", other)),
    };
    let repositories = strings("repositories")?;
    for repo in &repositories {
        let scheme_ok = ["https://", "http://", "oci://"]
            .iter()
            .any(|scheme| repo.starts_with(scheme) && repo.len() > scheme.len());
        if !scheme_ok || repo.contains('@') || repo.chars().any(char::is_whitespace) {
            return Err(Diagnostic::error(
                "Invalid chart repository",
                format!("\"{repo}\" is not a chart repository URL: give https://HOST/PATH, http://HOST/PATH or oci://HOST/PATH, without credentials (braid reads them from Helm's and Docker's login files)."),
            )
            .at(at("repositories")));
        }
    }
    let plain_http = match value.attr("plain_http") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(wrong("plain_http", "a bool", other)),
    };
    let set_masked = block
        .body
        .attribute("set")
        .is_some_and(|a| a.expr.to_string().contains("env("));
    Ok(HelmSettings {
        release,
        namespace,
        values: strings("values")?,
        set,
        set_masked,
        kube_version: string("kube_version")?,
        api_versions: strings("api_versions")?,
        repositories,
        plain_http,
        location: block.location.clone(),
    })
}

/// What is wrong with a Helm release name, if anything.
fn release_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("is empty");
    }
    if name.len() > 53 {
        return Some("is longer than 53 characters");
    }
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
    if !name.chars().all(ok_char) {
        return Some("holds characters other than lowercase letters, digits, \"-\" and \".\"");
    }
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !alnum(name.chars().next()) || !alnum(name.chars().last()) {
        return Some("does not start and end with a letter or digit");
    }
    None
}

/// Every file of the chart folder (the source), read as the source's other files are: inside
/// the source after symbolic links, regular files of bounded size. Returns the files and a
/// digest over them, which the source's digest takes in (a saved plan pins the chart).
pub fn read_chart(
    source: &LoadedSource,
) -> Result<(BTreeMap<String, Vec<u8>>, String), Diagnostic> {
    use braid_functions::source_read;
    use sha2::{Digest as _, Sha256};
    let fail = |detail: String| {
        Diagnostic::error(
            "Cannot read the Helm chart",
            format!("Source \"{}\": {detail}", source.name),
        )
    };
    let limit = source_read::max_file_size().map_err(|e| fail(e.to_string()))?;
    let mut files = BTreeMap::new();
    let mut total: u64 = 0;
    let mut stack = vec![(source.root.clone(), String::new())];
    while let Some((dir, rel_dir)) = stack.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| fail(format!("{}: {e}", dir.display())))?;
        for entry in entries {
            let entry = entry.map_err(|e| fail(e.to_string()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if matches!(name.as_str(), ".git" | ".braid") {
                continue;
            }
            let rel = if rel_dir.is_empty() {
                name.clone()
            } else {
                format!("{rel_dir}/{name}")
            };
            let shown = source.display_name(&source.root.join(&rel));
            let real = source_read::resolve_inside(&source.root, &source.root, &rel)
                .map_err(|e| fail(e.naming(&shown).to_string()))?;
            let meta = std::fs::metadata(&real).map_err(|e| fail(format!("{shown}: {e}")))?;
            if meta.is_dir() {
                stack.push((real, rel));
                continue;
            }
            if !meta.is_file() {
                continue;
            }
            let bytes =
                source_read::read_regular(&real, &shown, limit).map_err(|e| fail(e.to_string()))?;
            total += bytes.len() as u64;
            if total > MAX_CHART_BYTES {
                return Err(fail(format!(
                    "the chart's files hold more than {} MiB; keep large files out of the chart folder",
                    MAX_CHART_BYTES / 1024 / 1024
                )));
            }
            files.insert(rel, bytes);
        }
    }
    let mut hasher = Sha256::new();
    for (path, bytes) in &files {
        hasher.update((path.len() as u64).to_be_bytes());
        hasher.update(path.as_bytes());
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    }
    // SOPS files of the chart (an encrypted values file) are read decrypted; the digest is
    // of the files as stored.
    for (path, text) in &source.decrypted {
        if let Some(bytes) = files.get_mut(path) {
            *bytes = text.clone().into_bytes();
        }
    }
    Ok((files, format!("sha256:{}", hex::encode(hasher.finalize()))))
}

/// Fetches the dependencies that Chart.lock pins and `charts/` lacks (as
/// `helm dependency build` would) into `files`, as `charts/NAME-VERSION.tgz`. Returns the
/// SHA-256 of each fetched archive, for the source's digest.
pub fn fetch_dependencies(
    source: &LoadedSource,
    files: &mut BTreeMap<String, Vec<u8>>,
    settings: &HelmSettings,
    cache_dir: &std::path::Path,
    offline: bool,
) -> Result<Vec<String>, Diagnostics> {
    use sha2::{Digest as _, Sha256};
    let origin = source.display_name(&source.root);
    let missing = braid_helm::deps::missing_dependencies(files, &origin).map_err(|e| {
        let text_of = |path: &str| -> Option<Arc<SourceText>> {
            let bytes = files.get(path)?;
            Some(SourceText::new(
                source.display_name(&source.root.join(path)),
                String::from_utf8_lossy(bytes).into_owned(),
            ))
        };
        helm_diagnostic(&e, source, &text_of, &settings.location)
    })?;
    let fetcher = super::chart_repo::Fetcher {
        cache_dir: cache_dir.to_path_buf(),
        offline,
        allowed: &settings.repositories,
        plain_http: settings.plain_http,
    };
    let mut digests = Vec::new();
    for dep in missing {
        let bytes = fetcher.archive(&dep).map_err(|e| {
            Diagnostic::error(
                "Cannot fetch a chart dependency",
                format!("Source \"{}\": {e}.", source.name),
            )
            .at(settings.location.clone())
        })?;
        digests.push(format!("sha256:{}", hex::encode(Sha256::digest(&bytes))));
        files.insert(format!("charts/{}", dep.archive_name()), bytes);
    }
    Ok(digests)
}

/// Asks the cluster of the `kubernetes` provider block `config` for its version and APIs
/// (`.Capabilities`), on a thread of its own (the caller may be inside an async runtime).
pub fn cluster_capabilities(config: &Value) -> Result<ClusterCapabilities, String> {
    std::thread::scope(|s| {
        s.spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start a runtime: {e}"))?;
            runtime.block_on(braid_provider_kubernetes::cluster_capabilities(config))
        })
        .join()
        .unwrap_or_else(|_| Err("the discovery thread failed".to_string()))
    })
}

/// A braid value as Helm values: whole numbers become integers, as `helm --set` makes them.
fn helm_value(value: &Value) -> HelmValue {
    let json = value.to_json();
    json_to_helm(&json)
}

fn json_to_helm(json: &serde_json::Value) -> HelmValue {
    match json {
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => HelmValue::Int(i),
            None => HelmValue::Float(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::Array(items) => {
            HelmValue::list(items.iter().map(json_to_helm).collect())
        }
        serde_json::Value::Object(map) => HelmValue::map(
            map.iter()
                .map(|(k, v)| (k.clone(), json_to_helm(v)))
                .collect(),
        ),
        other => HelmValue::from_json(other),
    }
}

/// Renders the chart of `source` with `settings` (on a thread with a stack deep enough for
/// the chart's `include`s).
/// `.Capabilities` are the cluster's when `cluster` gives them, else Helm's defaults; the
/// block's `kube_version` and `api_versions` apply over either.
pub fn render(
    source: &LoadedSource,
    files: &BTreeMap<String, Vec<u8>>,
    settings: &HelmSettings,
    cluster: Option<&ClusterCapabilities>,
) -> Result<RenderedChart, Diagnostics> {
    super::with_render_stack(|| render_here(source, files, settings, cluster))?
}

fn render_here(
    source: &LoadedSource,
    files: &BTreeMap<String, Vec<u8>>,
    settings: &HelmSettings,
    cluster: Option<&ClusterCapabilities>,
) -> Result<RenderedChart, Diagnostics> {
    let origin = source.display_name(&source.root);
    let text_of = |path: &str| -> Option<Arc<SourceText>> {
        let bytes = files.get(path)?;
        let text = String::from_utf8_lossy(bytes).into_owned();
        Some(SourceText::new(
            source.display_name(&source.root.join(path)),
            text,
        ))
    };
    let chart = braid_helm::Chart::load(files, &origin)
        .map_err(|e| helm_diagnostic(&e, source, &text_of, &settings.location))?;
    // Values files, then `set`.
    let mut values = HelmMap::new();
    for path in &settings.values {
        let Some(text) = text_of(path) else {
            return Err(Diagnostic::error(
                "Values file not found",
                format!(
                    "The helm block of source \"{}\" names the values file \"{path}\", which is not in the chart folder {origin}. Values files are read from the chart folder (the source's path).",
                    source.name
                ),
            )
            .at(settings.location.clone())
            .into());
        };
        let parsed = braid_helm::values_file(&text.text).map_err(|e| {
            Diagnostic::error("Invalid values file", format!("{}.", e.message))
                .at(text.location_at(e.line, e.column))
        })?;
        braid_helm::merge_maps(&mut values, parsed);
    }
    if let HelmValue::Map(set) = helm_value(&settings.set) {
        let set = set.borrow().clone();
        braid_helm::merge_maps(&mut values, set);
    }
    let mut capabilities = braid_helm::Capabilities::default();
    if let Some(cluster) = cluster {
        capabilities.kube_version = cluster.kube_version.clone();
        capabilities.api_versions = cluster.api_versions.clone();
    }
    if let Some(version) = &settings.kube_version {
        capabilities.kube_version = version.clone();
    }
    capabilities
        .api_versions
        .extend(settings.api_versions.iter().cloned());
    let release = braid_helm::Release {
        name: settings.release.clone(),
        namespace: settings.namespace.clone(),
        revision: 1,
        is_upgrade: false,
    };
    let rendered = braid_helm::render(&chart, &values, &release, &capabilities)
        .map_err(|e| helm_diagnostic(&e, source, &text_of, &settings.location))?;

    let mut documents = Vec::new();
    let mut diags = Diagnostics::new();
    let token = release_token(&chart, &rendered);
    let mut add = |template: &str, content: &str, part: Part, annotations: &[(&str, String)]| {
        let shown = format!("{} (rendered by Helm)", template_display(source, template));
        match braid_kustomize::parse_documents(&shown, content) {
            Ok(docs) => {
                let text = SourceText::new(shown.clone(), content.to_string());
                for doc in docs {
                    if doc.document.is_null() {
                        continue;
                    }
                    let mut document = doc.document;
                    annotate(&mut document, annotations);
                    documents.push((
                        SourceDocument {
                            file: Arc::clone(&text),
                            line: doc.line,
                            document,
                        },
                        part,
                    ));
                }
            }
            Err(e) => diags.push(crate::diag::from_kustomize(&e, None, &source.name)),
        }
    };
    for (path, text) in &rendered.crds {
        add(path, text, Part::Crd, &[]);
    }
    for hook in &rendered.hooks {
        let pre = hook
            .events
            .iter()
            .any(|e| e == "pre-install" || e == "pre-upgrade");
        let post = hook
            .events
            .iter()
            .any(|e| e == "post-install" || e == "post-upgrade");
        // Test, delete and rollback hooks have no moment in a braid apply.
        let part = if pre {
            Part::PreHook(hook.weight)
        } else if post {
            Part::PostHook(hook.weight)
        } else {
            continue;
        };
        // Helm runs a hook on every release, deleting the previous one first
        // (`before-hook-creation`, its default): braid replaces it whenever the release
        // changes, and deletes it once it ran when its policy says so.
        let mut annotations = vec![(RECREATE_TOKEN_ANNOTATION, token.clone())];
        let after: Vec<&str> = hook
            .delete_policies
            .iter()
            .filter_map(|p| match p.as_str() {
                "hook-succeeded" => Some("succeeded"),
                "hook-failed" => Some("failed"),
                _ => None,
            })
            .collect();
        if !after.is_empty() {
            annotations.push((DELETE_AFTER_ANNOTATION, after.join(",")));
        }
        add(
            &hook.manifest.source,
            &hook.manifest.content,
            part,
            &annotations,
        );
    }
    for manifest in &rendered.manifests {
        add(&manifest.source, &manifest.content, Part::Object, &[]);
    }
    diags.into_result(())?;
    Ok(RenderedChart {
        source: source.name.clone(),
        chart: chart.metadata.name.clone(),
        version: chart.metadata.version.clone(),
        namespace: settings.namespace.clone(),
        documents,
        notes: rendered.notes,
        values: {
            let mut values = rendered.values.to_json();
            if settings.set_masked {
                mask_set(&mut values, &settings.set.to_json());
            }
            values
        },
        release: settings.release.clone(),
    })
}

/// How a template is named in messages: its file in the source (`charts/web/templates/x.yaml`).
fn template_display(source: &LoadedSource, template: &str) -> String {
    match template.split_once('/') {
        Some((_, rest)) => source.display_name(&source.root.join(rest)),
        None => template.to_string(),
    }
}

/// A Helm error as a diagnostic, placed at the template file and line it names when it names
/// one (`chart/templates/x.yaml:12:5`), else at the helm block.
fn helm_diagnostic(
    error: &braid_helm::HelmError,
    source: &LoadedSource,
    text_of: &dyn Fn(&str) -> Option<Arc<SourceText>>,
    fallback: &Location,
) -> Diagnostics {
    let message = error.to_string();
    let location = template_location(&message).and_then(|(template, line, column)| {
        let (_, rest) = template.split_once('/')?;
        let text = text_of(rest)?;
        Some(text.location_at(line, column.max(1)))
    });
    let summary = match error {
        braid_helm::HelmError::Values { .. } => "Helm values do not meet the chart's schema",
        braid_helm::HelmError::Template { .. } => "Helm template failed",
        _ => "Invalid Helm chart",
    };
    Diagnostic::error(summary, format!("Source \"{}\": {message}", source.name))
        .at(location.unwrap_or_else(|| fallback.clone()))
        .into()
}

/// What identifies one release of a chart: its version, the values and everything it
/// rendered. A hook carries it, so it runs again whenever the release changes.
fn release_token(chart: &braid_helm::Chart, rendered: &braid_helm::Rendered) -> String {
    use sha2::{Digest as _, Sha256};
    let mut hasher = Sha256::new();
    let mut part = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    part(chart.metadata.name.as_bytes());
    part(chart.metadata.version.as_bytes());
    part(rendered.values.to_json().to_string().as_bytes());
    for (path, text) in &rendered.crds {
        part(path.as_bytes());
        part(text.as_bytes());
    }
    for manifest in rendered
        .manifests
        .iter()
        .chain(rendered.hooks.iter().map(|h| &h.manifest))
    {
        part(manifest.source.as_bytes());
        part(manifest.content.as_bytes());
    }
    hex::encode(&hasher.finalize()[..8])
}

/// Adds `annotations` to an object's metadata.
fn annotate(document: &mut serde_json::Value, annotations: &[(&str, String)]) {
    if annotations.is_empty() {
        return;
    }
    let Some(object) = document.as_object_mut() else {
        return;
    };
    let metadata = object
        .entry("metadata")
        .or_insert_with(|| serde_json::json!({}));
    let Some(metadata) = metadata.as_object_mut() else {
        return;
    };
    let existing = metadata
        .entry("annotations")
        .or_insert_with(|| serde_json::json!({}));
    if !existing.is_object() {
        *existing = serde_json::json!({});
    }
    if let Some(map) = existing.as_object_mut() {
        for (key, value) in annotations {
            map.insert((*key).to_string(), serde_json::Value::String(value.clone()));
        }
    }
}

/// The first `chart/…/file.ext:LINE[:COL]` in a Helm message.
fn template_location(message: &str) -> Option<(String, usize, usize)> {
    for token in message.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
        let token = token.trim_end_matches(':');
        let mut parts = token.split(':');
        let (Some(path), Some(line)) = (parts.next(), parts.next()) else {
            continue;
        };
        if !path.contains('/') || path.starts_with('/') {
            continue;
        }
        let Ok(line) = line.parse::<usize>() else {
            continue;
        };
        // Go counts columns from 0.
        let column = parts
            .next()
            .and_then(|c| c.parse::<usize>().ok())
            .map_or(1, |c| c + 1);
        return Some((path.to_string(), line, column));
    }
    None
}

/// Orders a chart's objects as Helm does: pre hooks (by weight) before the chart's objects,
/// post hooks (by weight) after them.
pub fn order_chart(decls: &mut [(ResourceDecl, Part)]) {
    let snapshot: Vec<(String, Location, Part)> = decls
        .iter()
        .map(|(d, p)| (d.address.clone(), d.location.clone(), *p))
        .collect();
    for (decl, part) in decls.iter_mut() {
        let extra: Vec<(String, Location)> = match *part {
            Part::Crd => Vec::new(),
            Part::PreHook(weight) => snapshot
                .iter()
                .filter(|(_, _, p)| matches!(p, Part::PreHook(w) if *w < weight))
                .map(|(a, l, _)| (a.clone(), l.clone()))
                .collect(),
            Part::Object => snapshot
                .iter()
                .filter(|(_, _, p)| matches!(p, Part::PreHook(_)))
                .map(|(a, l, _)| (a.clone(), l.clone()))
                .collect(),
            Part::PostHook(weight) => snapshot
                .iter()
                .filter(|(_, _, p)| {
                    matches!(p, Part::Object | Part::PreHook(_))
                        || matches!(p, Part::PostHook(w) if *w < weight)
                })
                .map(|(a, l, _)| (a.clone(), l.clone()))
                .collect(),
        };
        for (address, location) in extra {
            if address != decl.address && !decl.depends_on.iter().any(|(a, _)| *a == address) {
                decl.depends_on.push((address, location));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_locations_in_helm_messages() {
        assert_eq!(
            template_location("execution error at (web/templates/x.yaml:7:15): boom"),
            Some(("web/templates/x.yaml".to_string(), 7, 16))
        );
        assert_eq!(
            template_location("parse error at (web/templates/broken.yaml:8): unexpected EOF"),
            Some(("web/templates/broken.yaml".to_string(), 8, 1))
        );
        assert_eq!(
            template_location("chart requires kubeVersion: >=1.99"),
            None
        );
    }

    #[test]
    fn release_names_as_helm_checks_them() {
        assert_eq!(release_name_problem("web"), None);
        assert_eq!(release_name_problem("my.app-2"), None);
        assert!(release_name_problem("Web").is_some());
        assert!(release_name_problem("-web").is_some());
        assert!(release_name_problem(&"a".repeat(54)).is_some());
    }
}
