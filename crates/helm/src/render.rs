//! Rendering a chart as `helm template` / `helm install` renders it: dependencies enabled by
//! `condition`/`tags`, aliases, `import-values`, values coalesced (user values over chart
//! defaults, `null` deleting a default, globals passed down), `values.schema.json` checked,
//! `kubeVersion` checked, every template parsed into one set and executed with its chart's
//! scope, then manifests split, hooks separated, and everything sorted in Helm's install order.

use std::collections::BTreeMap;
use std::rc::Rc;

use crate::chart::{Chart, Dependency, ImportValue};
use crate::template::exec::{ExecError, TemplateSet};
use crate::value::{Map, Object, ObjectKind, Value};
use crate::{HelmError, schema, yaml};

/// What the cluster offers, as `.Capabilities` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Capabilities {
    /// `v1.32.0`.
    pub kube_version: String,
    /// Group/versions (`apps/v1`) and group/version/kinds (`apps/v1/Deployment`).
    pub api_versions: Vec<String>,
    /// `.Capabilities.HelmVersion.Version`.
    pub helm_version: String,
}

impl Default for Capabilities {
    fn default() -> Capabilities {
        Capabilities {
            kube_version: crate::DEFAULT_KUBE_VERSION.to_string(),
            api_versions: crate::DEFAULT_API_VERSIONS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            helm_version: crate::HELM_VERSION.to_string(),
        }
    }
}

/// The release being rendered.
#[derive(Debug, Clone)]
pub struct Release {
    /// `.Release.Name`.
    pub name: String,
    /// `.Release.Namespace`.
    pub namespace: String,
    /// `.Release.Revision`.
    pub revision: i64,
    /// `.Release.IsUpgrade` (and `IsInstall` its opposite).
    pub is_upgrade: bool,
}

/// One rendered object's text and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The template (`web/templates/deployment.yaml`).
    pub source: String,
    /// The document's YAML.
    pub content: String,
    /// Its kind (for ordering).
    pub kind: String,
    /// Its name.
    pub name: String,
}

/// A hook object (`helm.sh/hook`).
#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    /// The object.
    pub manifest: Manifest,
    /// The events (`pre-install`, `post-install`, `test`…).
    pub events: Vec<String>,
    /// `helm.sh/hook-weight`.
    pub weight: i64,
    /// `helm.sh/hook-delete-policy` entries.
    pub delete_policies: Vec<String>,
}

/// A rendered chart.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Ordinary objects, in Helm's install order.
    pub manifests: Vec<Manifest>,
    /// Hook objects, by weight then kind.
    pub hooks: Vec<Hook>,
    /// `crds/` files of the chart and its enabled subcharts (file, text).
    pub crds: Vec<(String, String)>,
    /// The top chart's NOTES.txt, rendered.
    pub notes: Option<String>,
    /// The values the templates saw.
    pub values: Value,
}

/// Renders `chart` with `user_values` (value files and inline values merged, in order).
pub fn render(
    chart: &Chart,
    user_values: &Map,
    release: &Release,
    capabilities: &Capabilities,
) -> Result<Rendered, HelmError> {
    let mut chart = chart.clone();
    // Helm's ProcessDependencies: aliases, conditions and tags, then import-values.
    prepare_dependencies(&mut chart)?;
    let first_pass = coalesce_values_of(&chart, user_values, false)?;
    enable_dependencies(&mut chart, &first_pass, "")?;
    import_values(&mut chart)?;
    // ToRenderValues: user values over the chart's, then the schemas.
    let values = coalesce_values_of(&chart, user_values, false)?;
    check_schemas(&chart, &values)?;
    check_kube_version(&chart, capabilities)?;

    let mut renderables: Vec<Renderable> = Vec::new();
    let release_value = release_value(release);
    let capabilities_value = capabilities_value(capabilities);
    let top_values = Value::map(values.clone());
    collect_templates(
        &chart,
        true,
        &chart.metadata.name.clone(),
        &top_values,
        &release_value,
        &capabilities_value,
        &mut renderables,
    );

    // Helm parses (and runs) the deepest paths first, names in reverse order among equals,
    // so a parent's `define` replaces a subchart's of the same name.
    renderables.sort_by(|a, b| {
        let (ca, cb) = (a.name.matches('/').count(), b.name.matches('/').count());
        cb.cmp(&ca).then_with(|| b.name.cmp(&a.name))
    });
    let set = TemplateSet::default();
    for r in &renderables {
        set.add(&r.name, &r.text).map_err(|e| {
            // Helm keeps the location and the last part of Go's message.
            let text = e.to_string();
            let last = text.rsplit(": ").next().unwrap_or(&e.message).to_string();
            HelmError::Template {
                message: format!("parse error at ({}:{}): {last}", e.name, e.line),
            }
        })?;
    }
    let mut outputs: BTreeMap<String, String> = BTreeMap::new();
    for r in &renderables {
        let base = r.name.rsplit('/').next().unwrap_or(&r.name);
        if base.starts_with('_') || !r.renders {
            continue;
        }
        // The chart's data map is shared by its templates; `.Template` is set in it for each.
        if let Value::Map(map) = &r.data {
            let mut template = Map::new();
            template.insert("Name".into(), Value::str(&r.name));
            template.insert("BasePath".into(), Value::str(&r.base_path));
            map.borrow_mut()
                .insert("Template".into(), Value::map(template));
        }
        let text = set.execute(&r.name, &r.data).map_err(|e| exec_error(&e))?;
        outputs.insert(r.name.clone(), text.replace("<no value>", ""));
    }

    // NOTES.txt of the top chart only.
    let notes_name = format!("{}/templates/NOTES.txt", chart.metadata.name);
    let notes = outputs.remove(&notes_name).filter(|n| !n.is_empty());
    outputs.retain(|name, _| !name.ends_with("/NOTES.txt"));

    let (manifests, hooks) = sort_manifests(&outputs)?;
    let mut crds = Vec::new();
    collect_crds(&chart, &chart.metadata.name.clone(), &mut crds);
    Ok(Rendered {
        manifests,
        hooks,
        crds,
        notes,
        values: Value::map(values),
    })
}
/// Helm's wording of an execution error: a `fail`/`required` message alone with its place;
/// else, when every error of the chain is one of text/template's, each as `location`,
/// `executing … at <…>:`, message on lines of their own; else Go's text as it is.
fn exec_error(e: &ExecError) -> HelmError {
    if let Some(message) = &e.user_message {
        return HelmError::Template {
            message: format!("execution error at ({}): {message}", e.location),
        };
    }
    let mut parts: Vec<Traceable> = Vec::new();
    for text in e.chain() {
        let Some(t) = traceable(&text) else {
            return HelmError::Template {
                message: e.to_string(),
            };
        };
        if parts.last() != Some(&t) {
            parts.push(t);
        }
    }
    let mut out = String::new();
    for t in parts {
        if !t.location.is_empty() {
            out.push_str(&format!("{}\n  ", t.location));
        }
        if !t.executed.is_empty() {
            out.push_str(&format!("{}\n    ", t.executed));
        }
        if !t.message.is_empty() {
            out.push_str(&format!("{}\n", t.message));
        }
    }
    HelmError::Template {
        message: out.trim().to_string(),
    }
}

#[derive(PartialEq)]
struct Traceable {
    location: String,
    executed: String,
    message: String,
}

/// Reads one error of the chain the way Helm does: `template: no template …`, `template:
/// LOC: executing "NAME" at <CTX>: MSG`, or `template: NAME: MSG`.
fn traceable(text: &str) -> Option<Traceable> {
    let rest = text.strip_prefix("template: ")?;
    if rest.starts_with("no template ") {
        return Some(Traceable {
            location: String::new(),
            executed: String::new(),
            message: text.to_string(),
        });
    }
    let cut_next = |msg: &str| match msg.find(" template:") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    };
    if let Some((location, after)) = rest.split_once(": executing ")
        && let Some(after) = after.strip_prefix('"')
        && let Some(end) = after.find('"')
    {
        let function = &after[..end];
        if let Some(at) = after[end + 1..].strip_prefix(" at <")
            && let Some((ctx, msg)) = at.split_once(">: ")
        {
            return Some(Traceable {
                location: location.to_string(),
                executed: format!("executing \"{function}\" at <{ctx}>:"),
                message: cut_next(msg),
            });
        }
        return None;
    }
    let sep = rest.rfind(": ")?;
    Some(Traceable {
        location: rest[..sep].to_string(),
        executed: String::new(),
        message: cut_next(&rest[sep + 2..]),
    })
}

struct Renderable {
    name: String,
    text: String,
    data: Value,
    base_path: String,
    /// Library charts contribute definitions only.
    renders: bool,
}

fn deep_copy_map(map: &Map) -> Map {
    map.iter()
        .map(|(k, v)| (k.clone(), v.deep_copy()))
        .collect()
}

/// Renames aliased subcharts and checks every listed dependency is present.
fn prepare_dependencies(chart: &mut Chart) -> Result<(), HelmError> {
    let listed = chart.metadata.dependencies.clone();
    let mut kept: Vec<Chart> = Vec::new();
    let mut used = vec![false; chart.dependencies.len()];
    for dep in &listed {
        let Some(index) = chart
            .dependencies
            .iter()
            .position(|c| c.metadata.name == dep.name)
        else {
            return Err(HelmError::chart(
                &chart.origin,
                &format!(
                    "found in Chart.yaml, but missing in charts/ directory: {}: vendor the dependency (helm dependency build) or let braid fetch it from Chart.lock",
                    dep.name
                ),
            ));
        };
        used[index] = true;
        let mut sub = chart.dependencies[index].clone();
        if !dep.alias.is_empty() {
            sub.metadata.name = dep.alias.clone();
        }
        kept.push(sub);
    }
    // Subcharts in charts/ that Chart.yaml does not list are always there.
    for (i, sub) in chart.dependencies.iter().enumerate() {
        if !used[i] {
            kept.push(sub.clone());
        }
    }
    for sub in &mut kept {
        prepare_dependencies(sub)?;
    }
    chart.dependencies = kept;
    Ok(())
}

fn listed_name(dep: &Dependency) -> &str {
    if dep.alias.is_empty() {
        &dep.name
    } else {
        &dep.alias
    }
}

/// Drops the subcharts whose `tags`/`condition` turn them off (`path` is the chart's place in
/// the top values: `""`, `sub.`).
fn enable_dependencies(chart: &mut Chart, values: &Map, path: &str) -> Result<(), HelmError> {
    let tags = match values.get("tags") {
        Some(Value::Map(m)) => m.borrow().clone(),
        _ => Map::new(),
    };
    let mut disabled = Vec::new();
    for dep in &chart.metadata.dependencies {
        let mut enabled = true;
        let (mut has_true, mut has_false) = (false, false);
        for tag in &dep.tags {
            match tags.get(tag) {
                Some(Value::Bool(true)) => has_true = true,
                Some(Value::Bool(false)) => has_false = true,
                _ => {}
            }
        }
        if !has_true && has_false {
            enabled = false;
        }
        if !dep.condition.is_empty() {
            for condition in dep.condition.split(',') {
                let full = format!("{path}{}", condition.trim());
                if let Some(Value::Bool(b)) = path_value(values, &full) {
                    enabled = b;
                    break;
                }
            }
        }
        if !enabled {
            disabled.push(listed_name(dep).to_string());
        }
    }
    chart
        .dependencies
        .retain(|c| !disabled.contains(&c.metadata.name));
    chart
        .metadata
        .dependencies
        .retain(|d| !disabled.contains(&listed_name(d).to_string()));
    for sub in &mut chart.dependencies {
        let sub_path = format!("{path}{}.", sub.metadata.name);
        enable_dependencies(sub, values, &sub_path)?;
    }
    Ok(())
}

/// The value at a dotted path (`a.b.c`).
fn path_value(values: &Map, path: &str) -> Option<Value> {
    let mut parts = path.split('.');
    let first = parts.next()?;
    let mut current = values.get(first)?.clone();
    for part in parts {
        let next = match &current {
            Value::Map(m) => m.borrow().get(part).cloned(),
            _ => None,
        };
        current = next?;
    }
    Some(current)
}

/// Helm's `processImportValues` for every chart with dependencies, deepest first: the
/// chart's values become its merged values (subcharts' included) with the imported ones
/// under them.
fn import_values(chart: &mut Chart) -> Result<(), HelmError> {
    for sub in &mut chart.dependencies {
        import_values(sub)?;
    }
    if chart.metadata.dependencies.is_empty() {
        return Ok(());
    }
    let merged = coalesce_values_of(chart, &Map::new(), true)?;
    let imports = Value::map(Map::new());
    for dep in &chart.metadata.dependencies {
        let name = listed_name(dep);
        for import in &dep.import_values {
            let (child, parent) = match import {
                ImportValue::Name(n) => (format!("exports.{n}"), ".".to_string()),
                ImportValue::Paths { child, parent } => (child.clone(), parent.clone()),
            };
            let Some(Value::Map(found)) = path_value(&merged, &format!("{name}.{child}")) else {
                continue;
            };
            let found = Value::Map(found);
            let placed = if parent == "." {
                found
            } else {
                path_to_map(&parent, found)
            };
            if let (Value::Map(dst), Value::Map(src)) = (&imports, &placed) {
                coalesce_tables(dst, src, true);
            }
        }
    }
    let values = Value::map(
        merged
            .iter()
            .map(|(k, v)| (k.clone(), v.deep_copy()))
            .collect(),
    );
    if let (Value::Map(dst), Value::Map(src)) = (&values, &imports) {
        coalesce_tables(dst, src, true);
    }
    if let Value::Map(m) = values {
        chart.values = m.borrow().clone();
    }
    Ok(())
}

/// `a.b.c` → `{a: {b: {c: value}}}`.
fn path_to_map(path: &str, value: Value) -> Value {
    let mut current = value;
    for part in path
        .split('.')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
    {
        let mut map = Map::new();
        map.insert(part.to_string(), current);
        current = Value::map(map);
    }
    current
}

/// Helm's `CoalesceValues` (`merge` false) and `MergeValues` (`merge` true) of `user` onto
/// the chart's values.
pub(crate) fn coalesce_values_of(chart: &Chart, user: &Map, merge: bool) -> Result<Map, HelmError> {
    let dest = Value::map(deep_copy_map(user));
    let Value::Map(dest) = dest else {
        unreachable!("a map")
    };
    coalesce(chart, &dest, merge)?;
    let out = dest.borrow().clone();
    Ok(out)
}

type MapRef = Rc<std::cell::RefCell<Map>>;

/// The chart's defaults under `dest`, then each subchart's under its name.
fn coalesce(chart: &Chart, dest: &MapRef, merge: bool) -> Result<(), HelmError> {
    coalesce_values(chart, dest, merge);
    for sub in &chart.dependencies {
        let name = sub.metadata.name.clone();
        let existing = dest.borrow().get(&name).cloned();
        let sub_map = match existing {
            None => {
                let m: MapRef = Rc::new(std::cell::RefCell::new(Map::new()));
                dest.borrow_mut()
                    .insert(name.clone(), Value::Map(m.clone()));
                m
            }
            Some(Value::Map(m)) => m,
            Some(other) => {
                return Err(HelmError::Values {
                    message: format!(
                        "type mismatch on {name}: %!t({}={})",
                        other.type_name(),
                        other.to_go_string()
                    ),
                });
            }
        };
        coalesce_globals(&sub_map, dest);
        coalesce(sub, &sub_map, merge)?;
    }
    Ok(())
}

/// Removes every nil, at any depth.
fn clean_nils(map: &MapRef) {
    let mut m = map.borrow_mut();
    m.retain(|_, v| !matches!(v, Value::Nil));
    for v in m.values() {
        if let Value::Map(inner) = v {
            clean_nils(inner);
        }
    }
}

/// Helm v4's `coalesceValues`: the chart's defaults under the values `v` (user values win;
/// a user null deletes a default; default nils are not copied when coalescing).
fn coalesce_values(chart: &Chart, v: &MapRef, merge: bool) {
    let defaults: Map = deep_copy_map(&chart.values);
    for (key, default) in defaults {
        let current = v.borrow().get(&key).cloned();
        match current {
            Some(Value::Nil) if !merge => {
                v.borrow_mut().remove(&key);
            }
            Some(Value::Map(dest)) => {
                if let Value::Map(src) = &default {
                    let child_merge =
                        merge || chart.dependencies.iter().any(|d| d.metadata.name == key);
                    if !child_merge {
                        clean_nils(src);
                    }
                    coalesce_tables(&dest, src, child_merge);
                }
            }
            Some(_) => {}
            None => {
                if !merge {
                    if matches!(default, Value::Nil) {
                        continue;
                    }
                    if let Value::Map(m) = &default {
                        clean_nils(m);
                    }
                }
                v.borrow_mut().insert(key, default);
            }
        }
    }
}

/// Helm v4's `coalesceTablesFullKey`: `src` under `dst`; a null in `dst` over a real value
/// of `src` deletes the key when coalescing.
fn coalesce_tables(dst: &MapRef, src: &MapRef, merge: bool) {
    if Rc::ptr_eq(dst, src) {
        return;
    }
    let src_non_nil: Vec<String> = src
        .borrow()
        .iter()
        .filter(|(_, v)| !matches!(v, Value::Nil))
        .map(|(k, _)| k.clone())
        .collect();
    let dst_nils: Vec<String> = dst
        .borrow()
        .iter()
        .filter(|(_, v)| matches!(v, Value::Nil))
        .map(|(k, _)| k.clone())
        .collect();
    for key in dst_nils {
        src.borrow_mut().insert(key, Value::Nil);
    }
    let entries: Vec<(String, Value)> = src
        .borrow()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (key, val) in entries {
        let dv = dst.borrow().get(&key).cloned();
        match dv {
            Some(Value::Nil) if !merge && src_non_nil.contains(&key) => {
                dst.borrow_mut().remove(&key);
            }
            None => {
                dst.borrow_mut().insert(key, val);
            }
            Some(Value::Map(d)) => {
                if let Value::Map(s) = &val {
                    coalesce_tables(&d, s, merge);
                }
            }
            Some(_) => {}
        }
    }
}

/// Helm's `coalesceGlobals`: the parent's `global` values into the subchart's, the parent's
/// winning.
fn coalesce_globals(dest: &MapRef, parent: &MapRef) {
    let existing = dest.borrow().get("global").cloned();
    let dg: MapRef = match existing {
        None => Rc::new(std::cell::RefCell::new(Map::new())),
        Some(Value::Map(m)) => m,
        Some(_) => return,
    };
    let parent_global = parent.borrow().get("global").cloned();
    let sg: Map = match parent_global {
        None => Map::new(),
        Some(Value::Map(m)) => m.borrow().clone(),
        Some(_) => return,
    };
    for (key, val) in sg {
        let current = dg.borrow().get(&key).cloned();
        match (&val, current) {
            (Value::Map(v), None) => {
                let copy = v.borrow().clone();
                dg.borrow_mut().insert(key, Value::map(copy));
            }
            (Value::Map(v), Some(Value::Map(existing))) => {
                let vv: MapRef = Rc::new(std::cell::RefCell::new(v.borrow().clone()));
                coalesce_tables(&vv, &existing, true);
                dg.borrow_mut().insert(key, Value::Map(vv));
            }
            (Value::Map(_), Some(_)) => {}
            (_, Some(Value::Map(_))) => {}
            _ => {
                dg.borrow_mut().insert(key, val.clone());
            }
        }
    }
    dest.borrow_mut().insert("global".into(), Value::Map(dg));
}

fn check_schemas(chart: &Chart, values: &Map) -> Result<(), HelmError> {
    let mut failures = Vec::new();
    schema_failures(chart, values, &mut failures);
    if failures.is_empty() {
        return Ok(());
    }
    let mut message = String::from(
        "values don't meet the specifications of the schema(s) in the following chart(s):\n",
    );
    for (name, errors) in failures {
        message.push_str(&format!("{name}:\n"));
        for e in errors {
            message.push_str(&format!("- {e}\n"));
        }
    }
    Err(HelmError::Values { message })
}

fn schema_failures(chart: &Chart, values: &Map, out: &mut Vec<(String, Vec<String>)>) {
    if let Some(schema) = &chart.schema {
        let json = Value::map(values.clone()).to_json();
        let errors = schema::validate(schema, &json);
        if !errors.is_empty() {
            out.push((chart.metadata.name.clone(), errors));
        }
    }
    for sub in &chart.dependencies {
        if let Some(Value::Map(sub_values)) = values.get(&sub.metadata.name) {
            let sub_values = sub_values.borrow().clone();
            schema_failures(sub, &sub_values, out);
        }
    }
}

fn check_kube_version(chart: &Chart, capabilities: &Capabilities) -> Result<(), HelmError> {
    let constraint = &chart.metadata.kube_version;
    if !constraint.is_empty() {
        let ok = crate::semver::satisfies(constraint, &capabilities.kube_version).unwrap_or(false);
        if !ok {
            return Err(HelmError::chart(
                &chart.origin,
                &format!(
                    "chart requires kubeVersion: {constraint} which is incompatible with Kubernetes {}",
                    capabilities.kube_version
                ),
            ));
        }
    }
    for sub in &chart.dependencies {
        check_kube_version(sub, capabilities)?;
    }
    Ok(())
}

fn object(
    type_name: &'static str,
    fields: Vec<(&'static str, &'static str, Value)>,
    kind: ObjectKind,
) -> Value {
    Value::Object(Rc::new(Object {
        type_name,
        fields,
        kind,
    }))
}

/// `.Release`: a map with Go's field names, as Helm builds it.
fn release_value(release: &Release) -> Value {
    let mut map = Map::new();
    map.insert("Name".into(), Value::str(&release.name));
    map.insert("Namespace".into(), Value::str(&release.namespace));
    map.insert("IsUpgrade".into(), Value::Bool(release.is_upgrade));
    map.insert("IsInstall".into(), Value::Bool(!release.is_upgrade));
    map.insert("Revision".into(), Value::Int(release.revision));
    map.insert("Service".into(), Value::str("Helm"));
    Value::map(map)
}

fn capabilities_value(capabilities: &Capabilities) -> Value {
    let version = if capabilities.kube_version.starts_with('v') {
        capabilities.kube_version.clone()
    } else {
        format!("v{}", capabilities.kube_version)
    };
    let normalized = crate::semver::Version::parse(&version)
        .map(|v| format!("v{}.{}.{}", v.major, v.minor, v.patch))
        .unwrap_or_else(|_| version.clone());
    let (major, minor) = match crate::semver::Version::parse(&version) {
        Ok(v) => (v.major.to_string(), v.minor.to_string()),
        Err(_) => (String::new(), String::new()),
    };
    let kube = object(
        "common.KubeVersion",
        vec![
            ("Version", "Version", Value::str(&version)),
            ("normalizedVersion", "", Value::str(&normalized)),
            ("Major", "Major", Value::string(major)),
            ("Minor", "Minor", Value::string(minor)),
        ],
        ObjectKind::Stringer(Rc::from(normalized.as_str())),
    );
    let api = Value::Object(Rc::new(Object {
        type_name: "common.VersionSet",
        fields: Vec::new(),
        kind: ObjectKind::ApiVersions(Rc::new(capabilities.api_versions.clone())),
    }));
    let helm = object(
        "version.BuildInfo",
        vec![
            ("Version", "version", Value::str(&capabilities.helm_version)),
            ("GitCommit", "git_commit", Value::str("")),
            ("GitTreeState", "git_tree_state", Value::str("")),
            ("GoVersion", "go_version", Value::str("")),
        ],
        ObjectKind::Plain,
    );
    object(
        "*common.Capabilities",
        vec![
            ("KubeVersion", "kubeVersion", kube),
            ("APIVersions", "apiVersions", api),
            ("HelmVersion", "helmVersion", helm),
        ],
        ObjectKind::Plain,
    )
}

/// `.Chart`: Chart.yaml as a map with Go's field names (Helm's `MetadataAsMap`), plus
/// `IsRoot`.
fn chart_value(chart: &Chart, is_root: bool) -> Value {
    let m = &chart.metadata;
    let strings = |v: &Vec<String>| Value::list(v.iter().map(|s| Value::str(s)).collect());
    let map_of = |pairs: Vec<(&str, Value)>| {
        Value::map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    };
    let annotations = if m.annotations.is_empty() {
        Value::Nil
    } else {
        Value::map(
            m.annotations
                .iter()
                .map(|(k, v)| (k.clone(), Value::str(v)))
                .collect(),
        )
    };
    let maintainers = Value::list(
        m.maintainers
            .iter()
            .map(|(name, email, url)| {
                map_of(vec![
                    ("Name", Value::str(name)),
                    ("Email", Value::str(email)),
                    ("URL", Value::str(url)),
                ])
            })
            .collect(),
    );
    let dependencies = Value::list(
        m.dependencies
            .iter()
            .map(|d| {
                let imports: Vec<Value> = d
                    .import_values
                    .iter()
                    .map(|i| match i {
                        ImportValue::Name(n) => map_of(vec![
                            ("child", Value::string(format!("exports.{n}"))),
                            ("parent", Value::str(".")),
                        ]),
                        ImportValue::Paths { child, parent } => map_of(vec![
                            ("child", Value::str(child)),
                            ("parent", Value::str(parent)),
                        ]),
                    })
                    .collect();
                map_of(vec![
                    ("Name", Value::str(listed_name(d))),
                    ("Version", Value::str(&d.version)),
                    ("Repository", Value::str(&d.repository)),
                    ("Condition", Value::str(&d.condition)),
                    ("Tags", strings(&d.tags)),
                    ("Enabled", Value::Bool(true)),
                    ("ImportValues", Value::list(imports)),
                    ("Alias", Value::str(&d.alias)),
                ])
            })
            .collect(),
    );
    map_of(vec![
        ("Name", Value::str(&m.name)),
        ("Home", Value::str(&m.home)),
        ("Sources", strings(&m.sources)),
        ("Version", Value::str(&m.version)),
        ("Description", Value::str(&m.description)),
        ("Keywords", strings(&m.keywords)),
        ("Maintainers", maintainers),
        ("Icon", Value::str(&m.icon)),
        ("APIVersion", Value::str(&m.api_version)),
        ("Condition", Value::str(&m.condition)),
        ("Tags", Value::str(&m.tags)),
        ("AppVersion", Value::str(&m.app_version)),
        ("Deprecated", Value::Bool(m.deprecated)),
        ("Annotations", annotations),
        ("KubeVersion", Value::str(&m.kube_version)),
        ("Dependencies", dependencies),
        ("Type", Value::str(&m.kind)),
        ("IsRoot", Value::Bool(is_root)),
    ])
}

/// Helm's `recAllTpls`: every template of the chart and its subcharts with the data it runs
/// with (one map per chart, shared by its templates); returns this chart's data, which its
/// parent lists under `.Subcharts`.
#[allow(clippy::too_many_arguments)]
fn collect_templates(
    chart: &Chart,
    is_root: bool,
    full_path: &str,
    values: &Value,
    release: &Value,
    capabilities: &Value,
    out: &mut Vec<Renderable>,
) -> Value {
    let subcharts = Value::map(Map::new());
    let mut data = Map::new();
    data.insert("Chart".into(), chart_value(chart, is_root));
    data.insert(
        "Files".into(),
        crate::funcs_files_value(chart.files.clone()),
    );
    data.insert("Release".into(), release.clone());
    data.insert("Capabilities".into(), capabilities.clone());
    data.insert("Values".into(), values.clone());
    data.insert("Subcharts".into(), subcharts.clone());
    let data = Value::map(data);
    for sub in &chart.dependencies {
        let sub_values = match values {
            Value::Map(m) => match m.borrow().get(&sub.metadata.name) {
                Some(v @ Value::Map(_)) => v.clone(),
                _ => Value::map(Map::new()),
            },
            _ => Value::map(Map::new()),
        };
        let sub_path = format!("{full_path}/charts/{}", sub.metadata.name);
        let sub_data = collect_templates(
            sub,
            false,
            &sub_path,
            &sub_values,
            release,
            capabilities,
            out,
        );
        if let Value::Map(s) = &subcharts {
            s.borrow_mut().insert(sub.metadata.name.clone(), sub_data);
        }
    }
    let library = chart.metadata.kind == "library";
    for (path, text) in &chart.templates {
        out.push(Renderable {
            name: format!("{full_path}/{path}"),
            text: text.clone(),
            data: data.clone(),
            base_path: format!("{full_path}/templates"),
            renders: !library,
        });
    }
    data
}

fn collect_crds(chart: &Chart, full_path: &str, out: &mut Vec<(String, String)>) {
    for (path, text) in &chart.crds {
        out.push((format!("{full_path}/{path}"), text.clone()));
    }
    for sub in &chart.dependencies {
        collect_crds(
            sub,
            &format!("{full_path}/charts/{}", sub.metadata.name),
            out,
        );
    }
}

/// Helm's `InstallOrder`: the order of kinds in a release (kinds not listed come after).
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// The hook events Helm knows; a document naming any other is dropped (Helm logs "skipping
/// unknown hooks").
const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

/// Helm's `SortManifests`: outputs taken in path order, split into documents, hooks
/// separated, both stable-sorted by kind in install order.
fn sort_manifests(
    outputs: &BTreeMap<String, String>,
) -> Result<(Vec<Manifest>, Vec<Hook>), HelmError> {
    let mut generic = Vec::new();
    let mut hooks = Vec::new();
    for (source, content) in outputs {
        if content.trim_matches(is_go_space).is_empty() {
            continue;
        }
        for document in split_manifests(content) {
            let head = yaml::parse_values(&document).map_err(|e| HelmError::Template {
                message: format!("YAML parse error on {source}: error converting YAML to JSON: yaml: line {}: {}", e.line, e.message),
            })?;
            if !matches!(head, Value::Map(_) | Value::Nil) {
                return Err(HelmError::Template {
                    message: format!(
                        "YAML parse error on {source}: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type util.SimpleHead",
                        crate::funcs::json_kind(&head)
                    ),
                });
            }
            let field = |path: &[&str]| -> Option<Value> {
                let mut current = head.clone();
                for p in path {
                    let next = match &current {
                        Value::Map(m) => m.borrow().get(*p).cloned(),
                        _ => None,
                    };
                    current = next?;
                }
                Some(current)
            };
            let text = |path: &[&str]| field(path).and_then(|v| v.as_str().map(str::to_string));
            let kind = text(&["kind"]).unwrap_or_default();
            let name = text(&["metadata", "name"]).unwrap_or_default();
            let manifest = Manifest {
                source: source.clone(),
                content: document.clone(),
                kind,
                name,
            };
            let Some(events) = field(&["metadata", "annotations", "helm.sh/hook"]) else {
                generic.push(manifest);
                continue;
            };
            let events: Vec<String> = crate::funcs::strval_of(&events)
                .split(',')
                .map(|e| e.trim().to_lowercase())
                .collect();
            if events.iter().any(|e| !HOOK_EVENTS.contains(&e.as_str())) {
                continue;
            }
            let weight = text(&["metadata", "annotations", "helm.sh/hook-weight"])
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0);
            let delete_policies = text(&["metadata", "annotations", "helm.sh/hook-delete-policy"])
                .map(|s| {
                    s.split(',')
                        .map(|p| p.trim().to_string())
                        .filter(|p| !p.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            hooks.push(Hook {
                manifest,
                events,
                weight,
                delete_policies,
            });
        }
    }
    generic.sort_by(|a, b| kind_order(&a.kind, &b.kind));
    hooks.sort_by(|a, b| kind_order(&a.manifest.kind, &b.manifest.kind));
    Ok((generic, hooks))
}

/// Go's `unicode.IsSpace`.
fn is_go_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    ) || (c as u32 > 0xff && c.is_whitespace())
}

fn kind_order(a: &str, b: &str) -> std::cmp::Ordering {
    let ia = INSTALL_ORDER.iter().position(|k| *k == a);
    let ib = INSTALL_ORDER.iter().position(|k| *k == b);
    match (ia, ib) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// Helm's `SplitManifests`: the text split at `---` (after a line break, spaces around it
/// swallowed), white-space-only documents dropped, leading white space of each trimmed.
pub fn split_manifests(text: &str) -> Vec<String> {
    static SEPARATOR: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let separator = SEPARATOR.get_or_init(|| {
        regex::Regex::new(r"(?:^|[\t\n\f\r ]*\n)---[\t\n\f\r ]*").expect("a valid pattern")
    });
    let text = text.trim_start_matches(is_go_space);
    separator
        .split(text)
        .filter(|d| !d.trim_matches(is_go_space).is_empty())
        .map(|d| d.trim_start_matches(is_go_space).to_string())
        .collect()
}

/// Reads a values file as `helm -f` does: every YAML document, merged in order.
pub fn values_file(text: &str) -> Result<Map, crate::yaml::YamlError> {
    let mut merged = Map::new();
    let mut offset_line = 0;
    for document in value_documents(text) {
        match yaml::parse_values(&document.1) {
            Ok(Value::Map(m)) => {
                let m = m.borrow().clone();
                merge_maps(&mut merged, m);
            }
            Ok(Value::Nil) => {}
            Ok(_) => {
                return Err(crate::yaml::YamlError {
                    line: document.0,
                    column: 1,
                    message:
                        "a values file holds a mapping (key: value), not a list or a single value"
                            .to_string(),
                });
            }
            Err(mut e) => {
                e.line += document.0.saturating_sub(1) + offset_line;
                return Err(e);
            }
        }
        offset_line = 0;
    }
    Ok(merged)
}

/// k8s.io's YAML reader as `helm -f` uses it: a line starting with `---` and holding
/// nothing else but a comment separates documents. Returns each with its first line.
fn value_documents(text: &str) -> Vec<(usize, String)> {
    let mut documents = Vec::new();
    let mut current = String::new();
    let mut start = 1;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if let Some(rest) = line.strip_prefix("---") {
            let rest = rest.trim();
            if rest.is_empty() || rest.starts_with('#') {
                documents.push((start, std::mem::take(&mut current)));
                start = i + 2;
                continue;
            }
        }
        current.push_str(line);
    }
    documents.push((start, current));
    documents
}

/// Helm's `MergeMaps`: `src` over `dst`, maps merged key by key, anything else (null too)
/// replacing.
pub fn merge_maps(dst: &mut Map, src: Map) {
    for (key, value) in src {
        match (dst.get(&key), &value) {
            (Some(Value::Map(existing)), Value::Map(incoming)) => {
                let mut merged = existing.borrow().clone();
                merge_maps(&mut merged, incoming.borrow().clone());
                dst.insert(key, Value::map(merged));
            }
            _ => {
                dst.insert(key, value);
            }
        }
    }
}
