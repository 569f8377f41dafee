//! What a chart needs fetched before it renders: the dependencies Chart.yaml lists that are
//! not in `charts/`, pinned by `Chart.lock` (as `helm dependency build` reads it), and where a
//! chart repository's `index.yaml` says a version's archive is. Fetching itself is the
//! caller's: this module does no I/O.

use std::collections::BTreeMap;

use crate::HelmError;
use crate::chart::{Chart, Dependency};
use crate::yaml::{self, Node};

/// A dependency to fetch: what Chart.yaml asks for and the version Chart.lock pins.
#[derive(Debug, Clone, PartialEq)]
pub struct LockedDependency {
    /// The chart's name.
    pub name: String,
    /// The exact version Chart.lock pins.
    pub version: String,
    /// The repository: `https://…`/`http://…` (a chart repository) or `oci://…`.
    pub repository: String,
}

impl LockedDependency {
    /// The file name `helm dependency build` gives the archive in `charts/`.
    pub fn archive_name(&self) -> String {
        format!("{}-{}.tgz", self.name, self.version)
    }
}

/// The dependencies of the chart in `files` that `charts/` does not hold, each pinned by
/// Chart.lock. A dependency with a `file://` repository, or none, must be vendored;
/// Chart.lock must exist and agree with Chart.yaml (same repository, a version the
/// constraint allows), as `helm dependency build` requires.
pub fn missing_dependencies(
    files: &BTreeMap<String, Vec<u8>>,
    origin: &str,
) -> Result<Vec<LockedDependency>, HelmError> {
    let chart = Chart::load(files, origin)?;
    let present: Vec<&str> = chart.dependencies.iter().map(|c| c.name()).collect();
    let missing: Vec<&Dependency> = chart
        .metadata
        .dependencies
        .iter()
        .filter(|d| !present.contains(&d.name.as_str()))
        .collect();
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    for dep in &missing {
        let repo = dep.repository.trim();
        if repo.is_empty() || repo.starts_with("file://") || repo.starts_with('@') {
            return Err(HelmError::chart(
                origin,
                &format!(
                    "found in Chart.yaml, but missing in charts/ directory: {}: a dependency from {} must be vendored in charts/ (helm dependency build writes it there)",
                    dep.name,
                    if repo.is_empty() {
                        "no repository".to_string()
                    } else {
                        format!("\"{repo}\"")
                    }
                ),
            ));
        }
    }
    let lock_name = if chart.metadata.api_version == "v1" {
        "requirements.lock"
    } else {
        "Chart.lock"
    };
    let Some(lock_bytes) = files.get(lock_name) else {
        return Err(HelmError::chart(
            origin,
            &format!(
                "found in Chart.yaml, but missing in charts/ directory: {}: the chart has no {lock_name} to fetch it by; run `helm dependency update` and commit {lock_name} (or vendor the dependency in charts/)",
                missing[0].name
            ),
        ));
    };
    let locked = parse_lock(&String::from_utf8_lossy(lock_bytes), origin, lock_name)?;
    let mut out = Vec::new();
    for dep in missing {
        let Some(lock) = locked.iter().find(|l| l.name == dep.name) else {
            return Err(HelmError::file(
                origin,
                lock_name,
                0,
                &format!(
                    "{lock_name} is out of sync with Chart.yaml: it does not list the dependency \"{}\"; run `helm dependency update`",
                    dep.name
                ),
            ));
        };
        if trim_slash(&lock.repository) != trim_slash(&dep.repository) {
            return Err(HelmError::file(
                origin,
                lock_name,
                0,
                &format!(
                    "{lock_name} is out of sync with Chart.yaml: the dependency \"{}\" comes from \"{}\" in Chart.yaml but from \"{}\" in {lock_name}; run `helm dependency update`",
                    dep.name, dep.repository, lock.repository
                ),
            ));
        }
        let constraint = if dep.version.trim().is_empty() {
            "*"
        } else {
            dep.version.as_str()
        };
        let allowed = crate::semver::satisfies(constraint, &lock.version).map_err(|e| {
            HelmError::chart(
                origin,
                &format!(
                    "dependency \"{}\": cannot compare version \"{}\" with \"{constraint}\": {e}",
                    dep.name, lock.version
                ),
            )
        })?;
        if !allowed {
            return Err(HelmError::file(
                origin,
                lock_name,
                0,
                &format!(
                    "{lock_name} is out of sync with Chart.yaml: it pins \"{}\" at {}, which Chart.yaml's \"{constraint}\" does not allow; run `helm dependency update`",
                    dep.name, lock.version
                ),
            ));
        }
        out.push(lock.clone());
    }
    Ok(out)
}

fn trim_slash(url: &str) -> &str {
    url.trim().trim_end_matches('/')
}

/// Reads Chart.lock (or requirements.lock): its `dependencies` (name, version, repository).
pub fn parse_lock(
    text: &str,
    origin: &str,
    file: &str,
) -> Result<Vec<LockedDependency>, HelmError> {
    let documents = yaml::parse_documents(text).map_err(|e| {
        HelmError::file(
            origin,
            file,
            e.line,
            &format!("cannot parse {file}: {}", e.message),
        )
    })?;
    let Some(Node::Map(entries, _)) = documents.first() else {
        return Err(HelmError::file(
            origin,
            file,
            1,
            &format!("{file} must be a mapping with \"dependencies\""),
        ));
    };
    let mut out = Vec::new();
    if let Some(Node::Seq(items)) = get(entries, "dependencies") {
        for item in items {
            let Node::Map(fields, line) = item else {
                continue;
            };
            let field = |key: &str| get(fields, key).and_then(scalar).unwrap_or_default();
            let dep = LockedDependency {
                name: field("name"),
                version: field("version"),
                repository: field("repository"),
            };
            if dep.name.is_empty() || dep.version.is_empty() {
                return Err(HelmError::file(
                    origin,
                    file,
                    *line,
                    "a locked dependency needs a name and a version",
                ));
            }
            out.push(dep);
        }
    }
    Ok(out)
}

/// One version of a chart in a repository's index.yaml.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexEntry {
    /// Where the archive is: absolute, or relative to the repository URL.
    pub urls: Vec<String>,
    /// The archive's SHA-256 (hex), when the index gives one.
    pub digest: Option<String>,
}

/// Finds `name` at `version` in a chart repository's index.yaml. `Err` when the text is not
/// an index; `Ok(None)` when the index does not hold that version.
pub fn find_in_index(text: &str, name: &str, version: &str) -> Result<Option<IndexEntry>, String> {
    let documents = yaml::parse_documents(text)
        .map_err(|e| format!("index.yaml line {}: cannot parse it: {}", e.line, e.message))?;
    let Some(Node::Map(entries, _)) = documents.first() else {
        return Err("index.yaml is not a mapping with \"entries\"".to_string());
    };
    let Some(Node::Map(charts, _)) = get(entries, "entries") else {
        return Err("index.yaml has no \"entries\"".to_string());
    };
    let Some(Node::Seq(versions)) = get(charts, name) else {
        return Ok(None);
    };
    let wanted = crate::semver::Version::parse(version).ok();
    for item in versions {
        let Node::Map(fields, _) = item else { continue };
        let Some(listed) = get(fields, "version").and_then(scalar) else {
            continue;
        };
        // Versions compare as semantic versions ("v1.0.0" is "1.0.0"), as Helm's index does.
        let same = listed == version
            || match (&wanted, crate::semver::Version::parse(&listed)) {
                (Some(a), Ok(b)) => {
                    (a.major, a.minor, a.patch, &a.pre, &a.metadata)
                        == (b.major, b.minor, b.patch, &b.pre, &b.metadata)
                }
                _ => false,
            };
        if !same {
            continue;
        }
        let urls = match get(fields, "urls") {
            Some(Node::Seq(urls)) => urls.iter().filter_map(scalar).collect(),
            _ => Vec::new(),
        };
        let digest = get(fields, "digest")
            .and_then(scalar)
            .filter(|d| !d.is_empty());
        return Ok(Some(IndexEntry { urls, digest }));
    }
    Ok(None)
}

fn get<'a>(entries: &'a [(Node, Node)], key: &str) -> Option<&'a Node> {
    entries
        .iter()
        .find(|(k, _)| matches!(k, Node::Scalar { text, .. } if text == key))
        .map(|(_, v)| v)
}

fn scalar(node: &Node) -> Option<String> {
    match node {
        Node::Scalar { text, .. } => Some(text.clone()),
        _ => None,
    }
}

/// The tag a chart version has in an OCI registry: `+` is not allowed in tags, so Helm
/// writes it as `_`.
pub fn oci_tag(version: &str) -> String {
    version.replace('+', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart_files(chart_yaml: &str, lock: Option<&str>) -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        files.insert("Chart.yaml".to_string(), chart_yaml.as_bytes().to_vec());
        if let Some(lock) = lock {
            files.insert("Chart.lock".to_string(), lock.as_bytes().to_vec());
        }
        files
    }

    const CHART: &str = "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- name: redis\n  version: ~1.2.0\n  repository: https://charts.example.com/\n- name: lib\n  version: 0.1.0\n  repository: oci://registry.example.com/charts\n";

    #[test]
    fn locked_dependencies_are_listed() {
        let lock = "dependencies:\n- name: redis\n  repository: https://charts.example.com\n  version: 1.2.3\n- name: lib\n  repository: oci://registry.example.com/charts\n  version: 0.1.0\ndigest: sha256:00\ngenerated: \"2026-01-01T00:00:00Z\"\n";
        let missing = missing_dependencies(&chart_files(CHART, Some(lock)), "app").expect("ok");
        assert_eq!(missing.len(), 2);
        assert_eq!(missing[0].version, "1.2.3");
        assert_eq!(missing[0].archive_name(), "redis-1.2.3.tgz");
        assert_eq!(missing[1].repository, "oci://registry.example.com/charts");
    }

    #[test]
    fn a_lock_out_of_sync_is_refused() {
        let lock = "dependencies:\n- name: redis\n  repository: https://charts.example.com\n  version: 1.3.0\n- name: lib\n  repository: oci://registry.example.com/charts\n  version: 0.1.0\n";
        let err =
            missing_dependencies(&chart_files(CHART, Some(lock)), "app").expect_err("refused");
        assert!(err.to_string().contains("out of sync"), "{err}");
        assert!(err.to_string().contains("1.3.0"), "{err}");
        let other_repo = lock
            .replace(
                "https://charts.example.com",
                "https://elsewhere.example.com",
            )
            .replace("1.3.0", "1.2.9");
        let err = missing_dependencies(&chart_files(CHART, Some(&other_repo)), "app")
            .expect_err("refused");
        assert!(err.to_string().contains("elsewhere"), "{err}");
        let err = missing_dependencies(&chart_files(CHART, None), "app").expect_err("refused");
        assert!(err.to_string().contains("no Chart.lock"), "{err}");
    }

    #[test]
    fn file_dependencies_must_be_vendored() {
        let chart = "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- name: common\n  version: 1.0.0\n  repository: file://../common\n";
        let err = missing_dependencies(&chart_files(chart, None), "app").expect_err("refused");
        assert!(err.to_string().contains("must be vendored"), "{err}");
    }

    #[test]
    fn index_lookup() {
        let index = "apiVersion: v1\nentries:\n  redis:\n  - version: 1.2.4\n    urls: [redis-1.2.4.tgz]\n  - version: 1.2.3\n    digest: abc\n    urls:\n    - https://cdn.example.com/redis-1.2.3.tgz\n";
        let entry = find_in_index(index, "redis", "1.2.3")
            .expect("an index")
            .expect("listed");
        assert_eq!(entry.urls, ["https://cdn.example.com/redis-1.2.3.tgz"]);
        assert_eq!(entry.digest.as_deref(), Some("abc"));
        assert_eq!(find_in_index(index, "redis", "9.9.9").expect("ok"), None);
        assert_eq!(find_in_index(index, "nginx", "1.2.3").expect("ok"), None);
        assert!(find_in_index("- a\n", "redis", "1.2.3").is_err());
        assert_eq!(oci_tag("1.0.0+build.1"), "1.0.0_build.1");
    }
}
