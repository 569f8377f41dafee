//! Loading a chart from its files: `Chart.yaml` (metadata, dependencies), `values.yaml`,
//! `values.schema.json`, `templates/`, `crds/`, the other files (`.Files`), and subcharts
//! under `charts/` (directories), with `.helmignore` applied as Helm applies it.

use std::collections::BTreeMap;

use crate::HelmError;
use crate::value::{Map, Value};
use crate::yaml::{self, Node};

/// One dependency listed in Chart.yaml.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dependency {
    /// The chart's name.
    pub name: String,
    /// A version constraint.
    pub version: String,
    /// Repository URL (`https://…`, `oci://…`, `file://…`) or alias (`@name`).
    pub repository: String,
    /// Values paths (comma-separated) whose first boolean enables the subchart.
    pub condition: String,
    /// Tags enabling the subchart.
    pub tags: Vec<String>,
    /// The name the subchart takes in the parent.
    pub alias: String,
    /// `import-values` entries: a child path, or `{child, parent}`.
    pub import_values: Vec<ImportValue>,
}

/// One `import-values` entry.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportValue {
    /// A name: imports the child's `exports.NAME`.
    Name(String),
    /// `child` path copied to the parent's `parent` path.
    Paths {
        /// Path in the child's values.
        child: String,
        /// Path in the parent's values.
        parent: String,
    },
}

/// Chart.yaml.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Metadata {
    /// `apiVersion` (v1, v2).
    pub api_version: String,
    /// `name`.
    pub name: String,
    /// `version`.
    pub version: String,
    /// `appVersion`.
    pub app_version: String,
    /// `description`.
    pub description: String,
    /// `type` (application, library).
    pub kind: String,
    /// `kubeVersion` constraint.
    pub kube_version: String,
    /// `home`.
    pub home: String,
    /// `icon`.
    pub icon: String,
    /// `keywords`.
    pub keywords: Vec<String>,
    /// `sources`.
    pub sources: Vec<String>,
    /// `deprecated`.
    pub deprecated: bool,
    /// `annotations`.
    pub annotations: BTreeMap<String, String>,
    /// `maintainers` (name, email, url).
    pub maintainers: Vec<(String, String, String)>,
    /// `condition` (v1 requirements).
    pub condition: String,
    /// `tags`.
    pub tags: String,
    /// `dependencies`.
    pub dependencies: Vec<Dependency>,
}

/// A loaded chart.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Chart.yaml.
    pub metadata: Metadata,
    /// Template files (`templates/…`), path relative to the chart → text.
    pub templates: Vec<(String, String)>,
    /// values.yaml.
    pub values: Map,
    /// The text of values.yaml, for the values diff braid shows.
    pub values_text: String,
    /// values.schema.json.
    pub schema: Option<serde_json::Value>,
    /// `crds/` files, path → text.
    pub crds: Vec<(String, String)>,
    /// Every other file (`.Files`), path → bytes.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Subcharts from `charts/`, before conditions are applied.
    pub dependencies: Vec<Chart>,
    /// Where the chart was loaded from (for messages): its directory.
    pub origin: String,
}

impl Chart {
    /// The chart's name (an alias when its parent gave one).
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// Loads a chart from its files: paths relative to the chart directory, '/'-separated.
    /// `origin` names the chart directory in messages.
    pub fn load(files: &BTreeMap<String, Vec<u8>>, origin: &str) -> Result<Chart, HelmError> {
        let ignore = files
            .get(".helmignore")
            .map(|b| IgnoreRules::parse(&String::from_utf8_lossy(b)))
            .unwrap_or_default();
        let mut kept: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for (path, bytes) in files {
            if !path.starts_with("charts/") && ignore.ignored(path) {
                continue;
            }
            kept.insert(path.clone(), bytes.clone());
        }
        let chart_yaml = kept
            .get("Chart.yaml")
            .ok_or_else(|| HelmError::chart(origin, "Chart.yaml file is missing: a chart directory holds Chart.yaml, values.yaml and templates/"))?;
        let metadata = parse_metadata(&String::from_utf8_lossy(chart_yaml), origin)?;
        let values_text = kept
            .get("values.yaml")
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let values = match yaml::parse_values(&values_text) {
            Ok(Value::Map(m)) => m.borrow().clone(),
            Ok(Value::Nil) => Map::new(),
            Ok(_) => {
                return Err(HelmError::file(
                    origin,
                    "values.yaml",
                    1,
                    "the file must hold a mapping of values",
                ));
            }
            Err(e) => {
                return Err(HelmError::file(
                    origin,
                    "values.yaml",
                    e.line,
                    &format!("cannot parse values: {}", e.message),
                ));
            }
        };
        let schema = match kept.get("values.schema.json") {
            None => None,
            Some(bytes) => Some(serde_json::from_slice(bytes).map_err(|e| {
                HelmError::file(
                    origin,
                    "values.schema.json",
                    e.line(),
                    &format!("cannot parse the schema: {e}"),
                )
            })?),
        };
        let mut templates = Vec::new();
        let mut crds = Vec::new();
        let mut chart_files = BTreeMap::new();
        let mut subcharts: BTreeMap<String, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
        for (path, bytes) in &kept {
            if let Some(rest) = path.strip_prefix("charts/") {
                match rest.split_once('/') {
                    Some((dir, inner)) => {
                        subcharts
                            .entry(dir.to_string())
                            .or_default()
                            .insert(inner.to_string(), bytes.clone());
                    }
                    None if rest.ends_with(".tgz") || rest.ends_with(".tar.gz") => {
                        let unpacked = crate::archive::unpack_chart(bytes).map_err(|e| {
                            HelmError::file(
                                origin,
                                path,
                                0,
                                &format!("cannot read the chart archive: {e}"),
                            )
                        })?;
                        for (inner, content) in unpacked {
                            subcharts
                                .entry(rest.to_string())
                                .or_default()
                                .insert(inner, content);
                        }
                    }
                    None => {}
                }
                continue;
            }
            if path.starts_with("templates/") {
                templates.push((path.clone(), String::from_utf8_lossy(bytes).into_owned()));
                continue;
            }
            if path.starts_with("crds/") {
                if path.ends_with(".yaml") || path.ends_with(".yml") || path.ends_with(".json") {
                    crds.push((path.clone(), String::from_utf8_lossy(bytes).into_owned()));
                }
                // Helm keeps crds/ files in .Files too.
                chart_files.insert(path.clone(), bytes.clone());
                continue;
            }
            if matches!(
                path.as_str(),
                "Chart.yaml"
                    | "values.yaml"
                    | "values.schema.json"
                    | "Chart.lock"
                    | "requirements.yaml"
                    | "requirements.lock"
            ) {
                continue;
            }
            chart_files.insert(path.clone(), bytes.clone());
        }
        let mut dependencies = Vec::new();
        for (dir, files) in subcharts {
            if !files.contains_key("Chart.yaml") {
                continue;
            }
            let sub_origin = format!("{origin}/charts/{dir}");
            dependencies.push(Chart::load(&files, &sub_origin)?);
        }
        Ok(Chart {
            metadata,
            templates,
            values,
            values_text,
            schema,
            crds,
            files: chart_files,
            dependencies,
            origin: origin.to_string(),
        })
    }

    /// Loads a chart directory from disk (tests, the oracle corpus).
    pub fn load_dir(dir: &std::path::Path) -> Result<Chart, HelmError> {
        let mut files = BTreeMap::new();
        read_dir_into(dir, dir, &mut files).map_err(|e| {
            HelmError::chart(
                &dir.display().to_string(),
                &format!("cannot read the chart: {e}"),
            )
        })?;
        let origin = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        Chart::load(&files, &origin)
    }
}

fn read_dir_into(
    root: &std::path::Path,
    dir: &std::path::Path,
    files: &mut BTreeMap<String, Vec<u8>>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            read_dir_into(root, &path, files)?;
        } else {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            files.insert(rel, std::fs::read(&path)?);
        }
    }
    Ok(())
}

fn scalar_text(node: &Node) -> Option<String> {
    match node {
        Node::Scalar { text, plain, .. } => {
            if *plain && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL") {
                None
            } else {
                Some(text.clone())
            }
        }
        _ => None,
    }
}

fn get<'a>(entries: &'a [(Node, Node)], key: &str) -> Option<&'a Node> {
    entries
        .iter()
        .find(|(k, _)| matches!(k, Node::Scalar { text, .. } if text == key))
        .map(|(_, v)| v)
}

fn string_list(node: Option<&Node>) -> Vec<String> {
    match node {
        Some(Node::Seq(items)) => items.iter().filter_map(scalar_text).collect(),
        _ => Vec::new(),
    }
}

/// Parses Chart.yaml, checking what Helm checks (name, a semantic version).
pub fn parse_metadata(text: &str, origin: &str) -> Result<Metadata, HelmError> {
    let documents = yaml::parse_documents(text).map_err(|e| {
        HelmError::file(
            origin,
            "Chart.yaml",
            e.line,
            &format!("cannot parse Chart.yaml: {}", e.message),
        )
    })?;
    let Some(Node::Map(entries, _)) = documents.first() else {
        return Err(HelmError::file(
            origin,
            "Chart.yaml",
            1,
            "Chart.yaml must be a mapping",
        ));
    };
    let text_of = |key: &str| get(entries, key).and_then(scalar_text).unwrap_or_default();
    let mut metadata = Metadata {
        api_version: text_of("apiVersion"),
        name: text_of("name"),
        version: text_of("version"),
        app_version: text_of("appVersion"),
        description: text_of("description"),
        kind: text_of("type"),
        kube_version: text_of("kubeVersion"),
        home: text_of("home"),
        icon: text_of("icon"),
        condition: text_of("condition"),
        tags: text_of("tags"),
        keywords: string_list(get(entries, "keywords")),
        sources: string_list(get(entries, "sources")),
        deprecated: matches!(
            get(entries, "deprecated").and_then(scalar_text).as_deref(),
            Some("true")
        ),
        ..Metadata::default()
    };
    if let Some(Node::Map(annotations, _)) = get(entries, "annotations") {
        for (k, v) in annotations {
            if let (Some(k), Some(v)) = (scalar_text(k), scalar_text(v)) {
                metadata.annotations.insert(k, v);
            }
        }
    }
    if let Some(Node::Seq(maintainers)) = get(entries, "maintainers") {
        for m in maintainers {
            if let Node::Map(fields, _) = m {
                let f = |k: &str| get(fields, k).and_then(scalar_text).unwrap_or_default();
                metadata.maintainers.push((f("name"), f("email"), f("url")));
            }
        }
    }
    if let Some(Node::Seq(dependencies)) = get(entries, "dependencies") {
        for d in dependencies {
            let Node::Map(fields, _) = d else { continue };
            let f = |k: &str| get(fields, k).and_then(scalar_text).unwrap_or_default();
            let mut import_values = Vec::new();
            if let Some(Node::Seq(items)) = get(fields, "import-values") {
                for item in items {
                    match item {
                        Node::Map(pair, _) => {
                            let child =
                                get(pair, "child").and_then(scalar_text).unwrap_or_default();
                            let parent = get(pair, "parent")
                                .and_then(scalar_text)
                                .unwrap_or_default();
                            import_values.push(ImportValue::Paths { child, parent });
                        }
                        other => {
                            if let Some(name) = scalar_text(other) {
                                import_values.push(ImportValue::Name(name));
                            }
                        }
                    }
                }
            }
            metadata.dependencies.push(Dependency {
                name: f("name"),
                version: f("version"),
                repository: f("repository"),
                condition: f("condition"),
                tags: string_list(get(fields, "tags")),
                alias: f("alias"),
                import_values,
            });
        }
    }
    if metadata.name.is_empty() {
        return Err(HelmError::file(
            origin,
            "Chart.yaml",
            1,
            "validation: chart.metadata.name is required",
        ));
    }
    if metadata.version.is_empty() {
        return Err(HelmError::file(
            origin,
            "Chart.yaml",
            1,
            "validation: chart.metadata.version is required",
        ));
    }
    if crate::semver::Version::parse(&metadata.version).is_err() {
        return Err(HelmError::file(
            origin,
            "Chart.yaml",
            1,
            &format!(
                "validation: chart.metadata.version {:?} is invalid",
                metadata.version
            ),
        ));
    }
    if metadata.api_version.is_empty() {
        return Err(HelmError::file(
            origin,
            "Chart.yaml",
            1,
            "validation: chart.metadata.apiVersion is required",
        ));
    }
    if !matches!(metadata.kind.as_str(), "" | "application" | "library") {
        return Err(HelmError::file(
            origin,
            "Chart.yaml",
            1,
            &format!(
                "validation: chart type {:?} is not valid: use application or library",
                metadata.kind
            ),
        ));
    }
    Ok(metadata)
}

/// `.helmignore` rules: `#` comments, `!` negation, a trailing `/` for directories, patterns
/// without `/` matched against every path element's base name, others against the path.
#[derive(Debug, Default)]
pub struct IgnoreRules {
    rules: Vec<(bool, bool, String)>,
}

impl IgnoreRules {
    fn parse(text: &str) -> IgnoreRules {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (negate, pattern) = match line.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, line),
            };
            let (dir_only, pattern) = match pattern.strip_suffix('/') {
                Some(p) => (true, p),
                None => (false, pattern),
            };
            let pattern = pattern.strip_prefix('/').unwrap_or(pattern);
            rules.push((negate, dir_only, pattern.to_string()));
        }
        IgnoreRules { rules }
    }

    /// Whether `path` (a file) is ignored, looking at it and at each directory above it.
    fn ignored(&self, path: &str) -> bool {
        if path == ".helmignore" {
            return false;
        }
        let parts: Vec<&str> = path.split('/').collect();
        // A directory ignored ignores everything in it.
        for depth in 1..=parts.len() {
            let prefix = parts[..depth].join("/");
            let is_dir = depth < parts.len();
            if self.matches(&prefix, is_dir) {
                return true;
            }
        }
        false
    }

    fn matches(&self, path: &str, is_dir: bool) -> bool {
        let mut ignored = false;
        let base = path.rsplit('/').next().unwrap_or(path);
        for (negate, dir_only, pattern) in &self.rules {
            if *dir_only && !is_dir {
                continue;
            }
            let hit = if pattern.contains('/') {
                crate::funcs_glob(pattern, path)
            } else {
                crate::funcs_glob(pattern, base)
            };
            if hit {
                ignored = !negate;
            }
        }
        ignored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helmignore_rules() {
        let rules = IgnoreRules::parse("# c\n.git/\n*.tmp\n!keep.tmp\nci/\n");
        assert!(rules.ignored("a.tmp"));
        assert!(!rules.ignored("keep.tmp"));
        assert!(rules.ignored("ci/values.yaml"));
        assert!(rules.ignored(".git/HEAD"));
        assert!(!rules.ignored("templates/a.yaml"));
    }

    #[test]
    fn chart_yaml_keeps_version_text() {
        let m = parse_metadata(
            "apiVersion: v2\nname: web\nversion: 1.10.0\nappVersion: 1.10\n",
            "web",
        )
        .expect("metadata");
        assert_eq!(m.app_version, "1.10");
        let err = parse_metadata("apiVersion: v2\nname: web\nversion: one\n", "web")
            .expect_err("an error");
        assert!(err.to_string().contains("is invalid"), "{err}");
    }
}
