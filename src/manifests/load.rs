//! Finding a source's Kubernetes objects: kustomizations rendered, plain YAML files parsed,
//! each document turned into a resource declaration with its address and references.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path as FsPath;
use std::sync::Arc;

use braid_kustomize::{Files, RenderedDocument};
use braid_provider::Value;
use braid_provider_kubernetes::names::{NameRule, follows, name_rule};

use super::{DEPENDS_ON_ANNOTATION, address, find_templates, group_of};
use crate::config::{Lifecycle, ManifestBody, ResourceBody, ResourceDecl};
use crate::diag::{Diagnostic, Diagnostics, Location, SourceText, from_kustomize};

const KUSTOMIZATION_FILES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// A source's text files in memory, keyed by path relative to the source root.
pub struct SourceFiles<'a> {
    pub files: &'a BTreeMap<String, Arc<SourceText>>,
    /// Remote bases and components fetched: entry → directory under `@remote/`.
    pub remote: &'a BTreeMap<String, String>,
    /// The target cluster, asked for the schemas of custom kinds (strategic merge).
    pub cluster: Option<&'a super::ClusterDiscovery>,
}

impl Files for SourceFiles<'_> {
    fn read(&self, path: &str) -> Option<&str> {
        self.files.get(path).map(|t| t.text.as_str())
    }

    fn list(&self, dir: &str) -> Vec<String> {
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let mut out = BTreeSet::new();
        for path in self.files.keys() {
            if let Some(rest) = path.strip_prefix(&prefix) {
                let child = rest.split('/').next().unwrap_or(rest);
                out.insert(format!("{prefix}{child}"));
            }
        }
        out.into_iter().collect()
    }

    fn is_dir(&self, path: &str) -> bool {
        let prefix = format!("{path}/");
        self.files.keys().any(|k| k.starts_with(&prefix))
    }

    fn remote(&self, entry: &str) -> Option<String> {
        self.remote.get(entry).cloned()
    }

    fn cluster_schema(&self, api_version: &str) -> Option<serde_json::Value> {
        self.cluster?.openapi_v3(api_version)
    }
}

/// One document found in a source, with the file it came from.
pub struct SourceDocument {
    /// The file the document comes from; for objects a kustomization generated
    /// (configMapGenerator), the kustomization file.
    pub file: Arc<SourceText>,
    /// The 1-based line of the file where the document starts (1 for generated objects).
    pub line: usize,
    /// The object as rendered: after Kustomize for kustomizations, as written for plain YAML files.
    pub document: serde_json::Value,
}

fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

fn join(dir: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = if dir.is_empty() {
        Vec::new()
    } else {
        dir.split('/').collect()
    };
    for piece in rel.split('/') {
        match piece {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn kustomization_dirs(files: &BTreeMap<String, Arc<SourceText>>) -> BTreeSet<String> {
    files
        .keys()
        .filter(|p| {
            KUSTOMIZATION_FILES
                .iter()
                .any(|k| p.rsplit('/').next() == Some(*k))
        })
        .map(|p| parent(p).to_string())
        .collect()
}

/// `resources` entries of a kustomization, resolved to paths.
fn kustomization_resources(files: &BTreeMap<String, Arc<SourceText>>, dir: &str) -> Vec<String> {
    let Some(text) = KUSTOMIZATION_FILES
        .iter()
        .find_map(|k| files.get(&join(dir, k)))
    else {
        return Vec::new();
    };
    let Ok(doc) = serde_yaml_ng::from_str::<serde_json::Value>(&text.text) else {
        return Vec::new();
    };
    ["resources", "bases", "components"]
        .iter()
        .filter_map(|k| doc.get(k).and_then(|r| r.as_array()))
        .flatten()
        .filter_map(|r| r.as_str())
        .map(|r| join(dir, r))
        .collect()
}

/// Which kustomizations to render and which plain YAML files to read, following the
/// conventions in docs/kubernetes.md: an overlay `P/overlays/<overlay>` replaces `P` (or
/// `P/base`); other overlays and kustomizations used as bases by others are not rendered on
/// their own; YAML files inside a kustomization's tree belong to it.
pub fn plan_rendering(
    files: &BTreeMap<String, Arc<SourceText>>,
    overlay: Option<&str>,
) -> (Vec<String>, Vec<String>) {
    // Remote bases' files are rendered only through the kustomizations naming them.
    let remote = format!("{}/", braid_kustomize::REMOTE_ROOT);
    let own: BTreeMap<String, Arc<SourceText>>;
    let files = if files.keys().any(|k| k.starts_with(&remote)) {
        own = files
            .iter()
            .filter(|(k, _)| !k.starts_with(&remote))
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect();
        &own
    } else {
        files
    };
    let kustomizations = kustomization_dirs(files);
    let referenced: HashSet<String> = kustomizations
        .iter()
        .flat_map(|d| kustomization_resources(files, d))
        .collect();
    let in_overlays = |dir: &str| dir.split('/').any(|p| p == "overlays");
    let mut roots = Vec::new();
    let mut replaced: HashSet<String> = HashSet::new();
    if let Some(overlay) = overlay {
        for dir in &kustomizations {
            let parts: Vec<&str> = dir.split('/').collect();
            if parts.len() >= 2
                && parts[parts.len() - 2] == "overlays"
                && parts[parts.len() - 1] == overlay
            {
                let owner = parts[..parts.len() - 2].join("/");
                replaced.insert(owner.clone());
                replaced.insert(join(&owner, "base"));
                roots.push(dir.clone());
            }
        }
    }
    for dir in &kustomizations {
        if in_overlays(dir) || referenced.contains(dir) || replaced.contains(dir) {
            continue;
        }
        roots.push(dir.clone());
    }
    roots.sort();
    let owned_by_kustomization = |path: &str| {
        let mut dir = parent(path);
        loop {
            if kustomizations.contains(dir) || in_overlays(dir) {
                return true;
            }
            if dir.is_empty() {
                return false;
            }
            dir = parent(dir);
        }
    };
    // A folder holding Chart.yaml is a Helm chart: its YAML files are templates, rendered
    // by the source whose `helm` block names the folder, never manifests of their own.
    let charts: Vec<String> = files
        .keys()
        .filter(|p| p.rsplit('/').next() == Some("Chart.yaml"))
        .map(|p| parent(p).to_string())
        .collect();
    let in_chart = |path: &str| {
        charts
            .iter()
            .any(|c| c.is_empty() || path.starts_with(&format!("{c}/")))
    };
    let plain: Vec<String> = files
        .keys()
        .filter(|p| p.ends_with(".yaml") || p.ends_with(".yml"))
        .filter(|p| !owned_by_kustomization(p) && !referenced.contains(*p) && !in_chart(p))
        .cloned()
        .collect();
    (roots, plain)
}

/// Every document of one source.
pub fn source_documents(
    source: &str,
    files: &BTreeMap<String, Arc<SourceText>>,
    remote: &BTreeMap<String, String>,
    cluster: Option<&super::ClusterDiscovery>,
    overlay: Option<&str>,
) -> Result<Vec<SourceDocument>, Diagnostics> {
    let (roots, plain) = plan_rendering(files, overlay);
    let mut diags = Diagnostics::new();
    let mut out = Vec::new();
    let mut push = |rendered: Vec<RenderedDocument>| {
        for r in rendered {
            if let Some(file) = files.get(&r.origin) {
                out.push(SourceDocument {
                    file: Arc::clone(file),
                    line: r.line,
                    document: r.document,
                });
            }
        }
    };
    // Kustomizations may inflate Helm charts (`helmCharts`), which recurse as charts do.
    let rendered = super::with_render_stack(|| {
        roots
            .iter()
            .map(|root| {
                braid_kustomize::render(
                    &SourceFiles {
                        files,
                        remote,
                        cluster,
                    },
                    root,
                )
            })
            .collect::<Vec<_>>()
    })?;
    for result in rendered {
        match result {
            Ok(docs) => push(docs),
            Err(e) => diags.push(from_kustomize(&e, files.get(e.location().0), source)),
        }
    }
    for path in &plain {
        let Some(text) = files.get(path) else {
            continue;
        };
        match braid_kustomize::parse_documents(path, &text.text) {
            Ok(docs) => push(docs),
            Err(e) => diags.push(from_kustomize(&e, files.get(e.location().0), source)),
        }
    }
    diags.into_result(out)
}

/// Turns documents into resource declarations. `default_namespace` is the kubernetes
/// provider's; `base_dir` is where `file()` in references resolves.
pub fn manifest_resources(
    documents: Vec<SourceDocument>,
    all_crd_scopes: &BTreeMap<(String, String), bool>,
    default_namespace: &str,
    base_dir: &FsPath,
) -> Result<Vec<ResourceDecl>, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut out = Vec::new();
    for doc in documents {
        match manifest_resource(doc, all_crd_scopes, default_namespace, base_dir) {
            Ok(r) => out.push(r),
            Err(d) => diags.push(d),
        }
    }
    diags.into_result(out)
}

/// The scope of custom kinds no source's CRD gives, from the cluster's discovery: a
/// cluster-scoped kind (ClusterIssuer, GatewayClass) must not get a namespace. When the
/// cluster cannot say, the kinds are taken as namespaced, with a warning naming them.
fn add_cluster_scopes<'a>(
    scopes: &mut BTreeMap<(String, String), bool>,
    documents: impl Iterator<Item = &'a SourceDocument>,
    discovery: &mut super::ClusterDiscovery,
    warnings: &mut Diagnostics,
) {
    let mut unknown: BTreeMap<(String, String), Location> = BTreeMap::new();
    for doc in documents {
        let (Some(api_version), Some(kind)) = (
            doc.document.get("apiVersion").and_then(|v| v.as_str()),
            doc.document.get("kind").and_then(|v| v.as_str()),
        ) else {
            continue;
        };
        let group = braid_kustomize::group_of_api_version(api_version);
        let key = (group.to_string(), kind.to_string());
        if braid_kustomize::BUILT_IN_GROUPS.contains(&group) || scopes.contains_key(&key) {
            continue;
        }
        unknown
            .entry(key)
            .or_insert_with(|| doc.file.location_at(doc.line, 1));
    }
    if unknown.is_empty() {
        return;
    }
    let answer = discovery.get().map(|c| &c.namespaced);
    for (key, location) in unknown {
        if let Some(namespaced) = answer.ok().and_then(|served| served.get(&key)) {
            scopes.insert(key, *namespaced);
            continue;
        }
        let (group, kind) = key;
        let why = match &answer {
            Err(e) => format!("braid could not ask the cluster ({e})"),
            Ok(_) => "the cluster does not serve it".to_string(),
        };
        warnings.push(
            Diagnostic::warning(
                "Scope of a custom kind unknown",
                format!(
                    "No source holds the CustomResourceDefinition of {kind} ({group}), and {why}, so braid takes its objects as namespaced (they get the default namespace when they name none). If {kind} is cluster-scoped, add its CRD to a source, or make the cluster reachable."
                ),
            )
            .at(location),
        );
    }
}

/// `(group, kind)` → namespaced, for every CRD among the documents.
pub fn crd_scopes<'a>(
    documents: impl IntoIterator<Item = &'a SourceDocument>,
) -> BTreeMap<(String, String), bool> {
    let mut out = BTreeMap::new();
    for doc in documents.into_iter().map(|d| &d.document) {
        if doc.get("kind").and_then(|k| k.as_str()) != Some("CustomResourceDefinition") {
            continue;
        }
        let spec = doc.get("spec");
        let group = spec.and_then(|s| s.get("group")).and_then(|g| g.as_str());
        let kind = spec
            .and_then(|s| s.get("names"))
            .and_then(|n| n.get("kind"))
            .and_then(|k| k.as_str());
        let namespaced =
            spec.and_then(|s| s.get("scope")).and_then(|s| s.as_str()) != Some("Cluster");
        if let (Some(g), Some(k)) = (group, kind) {
            out.insert((g.to_string(), k.to_string()), namespaced);
        }
    }
    out
}

fn manifest_resource(
    doc: SourceDocument,
    crd_scopes: &BTreeMap<(String, String), bool>,
    default_namespace: &str,
    base_dir: &FsPath,
) -> Result<ResourceDecl, Diagnostic> {
    let location = doc.file.location_at(doc.line, 1);
    let missing = |what: &str| {
        Diagnostic::error(
            "Invalid Kubernetes manifest",
            format!("This YAML document has no {what}. Every manifest needs apiVersion, kind and metadata.name."),
        )
        .at(location.clone())
    };
    let api_version = doc
        .document
        .get("apiVersion")
        .and_then(|v| v.as_str())
        .ok_or_else(|| missing("apiVersion"))?;
    let kind = doc
        .document
        .get("kind")
        .and_then(|v| v.as_str())
        .ok_or_else(|| missing("kind"))?;
    let metadata = doc.document.get("metadata");
    let name = metadata
        .and_then(|m| m.get("name"))
        .and_then(|v| v.as_str())
        .ok_or_else(|| missing("metadata.name"))?;
    let group = group_of(api_version).to_string();
    let namespaced = match crd_scopes.get(&(group.clone(), kind.to_string())) {
        Some(scope) => *scope,
        None => !braid_kustomize::is_cluster_scoped_in(
            braid_kustomize::group_of_api_version(api_version),
            kind,
        ),
    };
    let mut document = Value::from_json(&doc.document);
    let namespace = if namespaced {
        let ns = metadata
            .and_then(|m| m.get("namespace"))
            .and_then(|v| v.as_str())
            .unwrap_or(default_namespace)
            .to_string();
        document.set(
            &braid_provider::Path::key("metadata").child_key("namespace"),
            Value::from(ns.as_str()),
        );
        Some(ns)
    } else {
        None
    };
    check_name(
        "metadata.name",
        name,
        "",
        name_rule(&group, kind),
        &location,
    )?;
    if let Some(ns) = &namespace {
        let whence = if metadata.and_then(|m| m.get("namespace")).is_some() {
            ""
        } else {
            " (the kubernetes provider's default namespace)"
        };
        check_name(
            "metadata.namespace",
            ns,
            whence,
            NameRule::DnsLabel,
            &location,
        )?;
    }
    let address = address(&group, kind, namespace.as_deref(), name);
    let name = name.to_string();
    let start = location.span.start;
    let templates = find_templates(&mut document, &doc.file, start)?;
    let depends_on = metadata
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(DEPENDS_ON_ANNOTATION))
        .and_then(|v| v.as_str())
        .map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| (s.to_string(), location.clone()))
                .collect()
        })
        .unwrap_or_default();
    Ok(ResourceDecl {
        address,
        type_name: "kubernetes_manifest".to_string(),
        name,
        provider: "kubernetes".to_string(),
        body: ResourceBody::Manifest(ManifestBody {
            document,
            templates,
            file: Arc::clone(&doc.file),
        }),
        depends_on,
        lifecycle: Lifecycle::default(),
        location,
        base_dir: base_dir.to_path_buf(),
        source: String::new(),
        repetition: None,
        instance: None,
        data: false,
        module: String::new(),
        check: None,
    })
}

/// Fails unless `value`, the manifest's `field`, follows `rule`: names go into API URL
/// paths, where `..` or `/` would address another object.
fn check_name(
    field: &str,
    value: &str,
    whence: &str,
    rule: NameRule,
    location: &Location,
) -> Result<(), Diagnostic> {
    if follows(value, rule) {
        return Ok(());
    }
    Err(Diagnostic::error(
        "Invalid Kubernetes name",
        format!(
            "{field} \"{value}\"{whence} is not {}. Kubernetes would refuse it, and braid puts names into API URL paths, so it refuses them before any request. Rename it, for example to lowercase words joined by \"-\".",
            rule.description()
        ),
    )
    .at(location.clone()))
}

/// Files up to this size are offered to kustomize generators (`files:`, `envs:`).
const MAX_GENERATOR_INPUT: u64 = 1 << 20;

/// The manifests of every source as resource declarations.
pub fn load_manifests(
    sources: &[crate::source::LoadedSource],
    overlay: Option<&str>,
    default_namespace: &str,
    charts: Vec<super::helm::RenderedChart>,
    remote_bases: &mut super::remote_bases::RemoteBases,
    discovery: &mut super::ClusterDiscovery,
    warnings: &mut Diagnostics,
) -> Result<Vec<ResourceDecl>, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut per_source = Vec::new();
    for source in sources {
        // A chart's files are templates, rendered by Helm instead.
        if source.yaml_files.is_empty() || charts.iter().any(|c| c.source == source.name) {
            continue;
        }
        // A source nested inside another (`infra` at `.`, `apps` at `deploy`) owns its files.
        let nested: Vec<&std::path::Path> = sources
            .iter()
            .map(|s| s.root.as_path())
            .filter(|r| *r != source.root && r.starts_with(&source.root))
            .collect();
        let mut files: BTreeMap<String, Arc<SourceText>> = source
            .yaml_files
            .iter()
            .filter(|f| {
                !nested
                    .iter()
                    .any(|n| source.root.join(&f.path).starts_with(n))
            })
            .map(|f| (f.path.clone(), Arc::clone(&f.text)))
            .collect();
        if files.is_empty() {
            continue;
        }
        let mut remote = BTreeMap::new();
        if !kustomization_dirs(&files).is_empty() {
            add_generator_inputs(source, &mut files);
            match remote_bases.mount(&source.name, &mut files) {
                Ok(dirs) => remote = dirs,
                Err(d) => {
                    diags.extend(d);
                    continue;
                }
            }
        }
        match source_documents(&source.name, &files, &remote, Some(&*discovery), overlay) {
            Ok(docs) => per_source.push((source, docs)),
            Err(d) => diags.extend(d),
        }
    }
    let all_documents = || {
        per_source.iter().flat_map(|(_, docs)| docs.iter()).chain(
            charts
                .iter()
                .flat_map(|c| c.documents.iter().map(|(d, _)| d)),
        )
    };
    let mut scopes = crd_scopes(all_documents());
    add_cluster_scopes(&mut scopes, all_documents(), discovery, warnings);
    let mut out = Vec::new();
    for chart in charts {
        let Some(source) = sources.iter().find(|s| s.name == chart.source) else {
            continue;
        };
        let mut decls = Vec::new();
        for (doc, part) in chart.documents {
            match manifest_resource(doc, &scopes, &chart.namespace, &source.root) {
                Ok(decl) => decls.push((
                    ResourceDecl {
                        source: source.name.clone(),
                        ..decl
                    },
                    part,
                )),
                Err(d) => diags.push(d),
            }
        }
        super::helm::order_chart(&mut decls);
        out.extend(decls.into_iter().map(|(d, _)| d));
    }
    for (source, docs) in per_source {
        match manifest_resources(docs, &scopes, default_namespace, &source.root) {
            Ok(decls) => out.extend(decls.into_iter().map(|d| ResourceDecl {
                source: source.name.clone(),
                ..d
            })),
            Err(d) => diags.extend(d),
        }
    }
    diags.into_result(out)
}

/// The text of the file at `rel` for a generator, when it may be offered: inside the source
/// after symbolic links, a regular file (a FIFO would block), at most
/// [`MAX_GENERATOR_INPUT`] bytes (and the file size limit) and UTF-8. Inputs are offered
/// before anything asks for them, so one that is not is left out without being read; a
/// kustomization that names it then reports it missing.
fn generator_input(root: &FsPath, rel: &str) -> Option<String> {
    crate::source::read_text(root, rel, MAX_GENERATOR_INPUT)
}

/// Other text files of the source (for configMapGenerator `files:` and `envs:`), read from
/// its directory — for git sources the extracted tree of the planned commit.
fn add_generator_inputs(
    source: &crate::source::LoadedSource,
    files: &mut BTreeMap<String, Arc<SourceText>>,
) {
    let prefix = source
        .yaml_files
        .first()
        .and_then(|f| f.text.name.strip_suffix(&f.path))
        .unwrap_or("")
        .to_string();
    let mut stack = vec![(source.root.clone(), String::new())];
    while let Some((dir, rel_dir)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let rel = if rel_dir.is_empty() {
                name.clone()
            } else {
                format!("{rel_dir}/{name}")
            };
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push((entry.path(), rel));
            } else if !files.contains_key(&rel)
                && let Some(text) = source
                    .decrypted
                    .get(&rel)
                    .cloned()
                    .or_else(|| generator_input(&source.root, &rel))
            {
                files.insert(rel.clone(), SourceText::new(format!("{prefix}{rel}"), text));
            }
        }
    }
}
