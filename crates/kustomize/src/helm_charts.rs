//! `helmCharts` (Kustomize's HelmChartInflationGenerator, `kustomize build --enable-helm`):
//! each chart rendered by `braid-helm` as `helm template` renders it, its objects added to
//! the kustomization's resources. Charts are read from the source, as Kustomize finds them
//! once pulled: `<chartHome>/<name>-<version>/<name>` or `<chartHome>/<name>` (`chartHome`
//! from `helmGlobals`, default `charts`, relative to the kustomization); braid does not pull
//! from `repo`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::kustomization::Kustomization;
use crate::{Files, KustomizeError, Resource};

/// One `helmCharts` entry.
struct ChartSpec<'v> {
    entry: &'v Map<String, Value>,
    name: String,
}

fn text<'v>(entry: &'v Map<String, Value>, key: &str) -> Option<&'v str> {
    entry.get(key).and_then(Value::as_str)
}

/// Every file under `dir` (recursively), as bytes.
fn chart_files(files: &dyn Files, dir: &str) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_string()];
    while let Some(current) = stack.pop() {
        for child in files.list(&current) {
            if files.is_dir(&child) {
                stack.push(child);
            } else if let Some(text) = files.read(&child) {
                let rel = child
                    .strip_prefix(&format!("{dir}/"))
                    .unwrap_or(&child)
                    .to_string();
                out.insert(rel, text.as_bytes().to_vec());
            }
        }
    }
    out
}

fn json_to_helm(value: &Value) -> braid_helm::Value {
    match value {
        Value::Number(n) => match n.as_i64() {
            Some(i) => braid_helm::Value::Int(i),
            None => braid_helm::Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        Value::Array(items) => braid_helm::Value::list(items.iter().map(json_to_helm).collect()),
        Value::Object(map) => braid_helm::Value::map(
            map.iter()
                .map(|(k, v)| (k.clone(), json_to_helm(v)))
                .collect(),
        ),
        other => braid_helm::Value::from_json(other),
    }
}

/// Renders the kustomization's `helmCharts` and appends their objects.
pub(crate) fn inflate(
    files: &dyn Files,
    k: &Kustomization<'_>,
    objects: &mut Vec<Resource>,
) -> Result<(), KustomizeError> {
    let Some(charts) = &k.helm_charts else {
        return Ok(());
    };
    let Value::Array(entries) = charts else {
        return Err(k.invalid(
            "helmCharts:",
            "`helmCharts` is a list of charts".to_string(),
        ));
    };
    let chart_home = k
        .helm_globals
        .as_ref()
        .and_then(|g| g.get("chartHome"))
        .and_then(Value::as_str)
        .unwrap_or("charts");
    for entry in entries {
        let Some(entry) = entry.as_object() else {
            return Err(k.invalid(
                "helmCharts:",
                "each `helmCharts` entry is a mapping with `name`".to_string(),
            ));
        };
        let Some(name) = text(entry, "name") else {
            return Err(k.invalid(
                "helmCharts:",
                "a `helmCharts` entry has no `name`".to_string(),
            ));
        };
        let spec = ChartSpec {
            entry,
            name: name.to_string(),
        };
        render_one(files, k, chart_home, &spec, objects)?;
    }
    Ok(())
}

fn render_one(
    files: &dyn Files,
    k: &Kustomization<'_>,
    chart_home: &str,
    spec: &ChartSpec<'_>,
    objects: &mut Vec<Resource>,
) -> Result<(), KustomizeError> {
    let fail = |message: String| KustomizeError::InvalidGenerator {
        file: k.file.clone(),
        line: k.line_of(&spec.name),
        message,
    };
    let home = k
        .resolve(chart_home)
        .ok_or_else(|| fail(format!("chartHome `{chart_home}` leaves the source")))?;
    let version = text(spec.entry, "version");
    let mut candidates = Vec::new();
    if let Some(version) = version {
        candidates.push(format!("{home}/{}-{version}/{}", spec.name, spec.name));
    }
    candidates.push(format!("{home}/{}", spec.name));
    let Some(dir) = candidates
        .iter()
        .find(|c| files.read(&format!("{c}/Chart.yaml")).is_some())
        .cloned()
    else {
        return Err(fail(format!(
            "chart `{}` is not in the source (looked for {}); braid does not pull charts: vendor the chart there (helm pull --untar), as `kustomize build --enable-helm` leaves it",
            spec.name,
            candidates
                .iter()
                .map(|c| format!("`{c}/Chart.yaml`"))
                .collect::<Vec<_>>()
                .join(" and ")
        )));
    };
    let chart_files = chart_files(files, &dir);
    let chart = braid_helm::Chart::load(&chart_files, &dir).map_err(|e| fail(e.to_string()))?;

    // Values: the chart's values.yaml or `valuesFile`, `additionalValuesFiles`, then
    // `valuesInline` as `valuesMerge` says (override, the default; merge; replace).
    let read_values = |path: &str| -> Result<braid_helm::value::Map, KustomizeError> {
        let resolved = k
            .resolve(path)
            .ok_or_else(|| fail(format!("values file `{path}` leaves the source")))?;
        let text = files
            .read(&resolved)
            .ok_or_else(|| fail(format!("values file `{path}` is not in the source")))?;
        braid_helm::values_file(text).map_err(|e| fail(format!("values file `{path}`: {e}")))
    };
    let mut values = braid_helm::value::Map::new();
    if let Some(file) = text(spec.entry, "valuesFile") {
        // Passed to Helm with `--values`: over the chart's own values.yaml, which Helm still
        // applies as the defaults.
        let replaced = read_values(file)?;
        braid_helm::merge_maps(&mut values, replaced);
    }
    if let Some(Value::Array(more)) = spec.entry.get("additionalValuesFiles") {
        for file in more.iter().filter_map(Value::as_str) {
            let extra = read_values(file)?;
            braid_helm::merge_maps(&mut values, extra);
        }
    }
    if let Some(inline) = spec.entry.get("valuesInline") {
        let braid_helm::Value::Map(inline) = json_to_helm(inline) else {
            return Err(fail("`valuesInline` is a mapping of values".to_string()));
        };
        let inline = inline.borrow().clone();
        match text(spec.entry, "valuesMerge").unwrap_or("override") {
            "override" => braid_helm::merge_maps(&mut values, inline),
            "replace" => values = inline,
            "merge" => {
                let mut merged = inline;
                braid_helm::merge_maps(&mut merged, values);
                values = merged;
            }
            other => {
                return Err(fail(format!(
                    "valuesMerge `{other}` is not override, merge or replace"
                )));
            }
        }
    }
    let mut capabilities = braid_helm::Capabilities::default();
    if let Some(kube) = text(spec.entry, "kubeVersion") {
        capabilities.kube_version = kube.to_string();
    }
    if let Some(Value::Array(apis)) = spec.entry.get("apiVersions") {
        capabilities
            .api_versions
            .extend(apis.iter().filter_map(Value::as_str).map(str::to_string));
    }
    let release = braid_helm::Release {
        name: text(spec.entry, "releaseName")
            .unwrap_or("release-name")
            .to_string(),
        namespace: text(spec.entry, "namespace")
            .unwrap_or("default")
            .to_string(),
        revision: 1,
        is_upgrade: false,
    };
    let rendered = braid_helm::render(&chart, &values, &release, &capabilities)
        .map_err(|e| fail(e.to_string()))?;
    let flag = |key: &str| {
        spec.entry
            .get(key)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    let mut texts: Vec<String> = Vec::new();
    if flag("includeCRDs") {
        texts.extend(rendered.crds.iter().map(|(_, t)| format!("{t}\n")));
    }
    // `helm template` ends every document with a line break, which a block scalar at its
    // end keeps (`text: |` clips to one final newline), as Kustomize reads it.
    texts.extend(
        rendered
            .manifests
            .iter()
            .map(|m| format!("{}\n", m.content)),
    );
    if !flag("skipHooks") {
        for hook in &rendered.hooks {
            let test = hook
                .events
                .iter()
                .any(|e| e == "test" || e == "test-success");
            if test && flag("skipTests") {
                continue;
            }
            texts.push(format!("{}\n", hook.manifest.content));
        }
    }
    for text in texts {
        for doc in crate::yaml::parse_documents(&k.file, &text)? {
            if doc.document.is_object() {
                objects.push(Resource::new(
                    k.file.clone(),
                    k.line_of(&spec.name).unwrap_or(1),
                    doc.document,
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::render;
    use crate::test_support::files;

    const CHART: &[(&str, &str)] = &[
        (
            "charts/hello/Chart.yaml",
            "apiVersion: v2\nname: hello\nversion: 0.1.0\n",
        ),
        ("charts/hello/values.yaml", "greeting: hi\nreplicas: 1\n"),
        (
            "charts/hello/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-greeting\n  namespace: {{ .Release.Namespace }}\ndata:\n  greeting: {{ .Values.greeting | quote }}\n  replicas: {{ .Values.replicas | quote }}\n",
        ),
        (
            "charts/hello/templates/test.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}-test\n  annotations:\n    helm.sh/hook: test\nspec:\n  containers: []\n",
        ),
    ];

    #[test]
    fn charts_render_then_kustomize_transforms_them() {
        let mut all = CHART.to_vec();
        all.push((
            "kustomization.yaml",
            "namePrefix: dev-\nhelmCharts:\n- name: hello\n  releaseName: web\n  namespace: shop\n  valuesInline:\n    greeting: hello\n  skipTests: true\n",
        ));
        let rendered = render(&files(&all), "").expect("rendered");
        assert_eq!(rendered.len(), 1, "{rendered:#?}");
        let cm = &rendered[0].document;
        assert_eq!(cm["metadata"]["name"], "dev-web-greeting");
        assert_eq!(cm["metadata"]["namespace"], "shop");
        assert_eq!(cm["data"]["greeting"], "hello");
        assert_eq!(cm["data"]["replicas"], "1");
        assert_eq!(rendered[0].origin, "kustomization.yaml");
    }

    #[test]
    fn a_chart_that_is_not_vendored_is_an_error_naming_where_it_was_looked_for() {
        let source = files(&[(
            "kustomization.yaml",
            "helmCharts:\n- name: redis\n  repo: https://charts.example.com\n  version: 1.2.3\n",
        )]);
        let error = render(&source, "").expect_err("not vendored");
        let message = error.to_string();
        assert!(
            message.contains("charts/redis-1.2.3/redis/Chart.yaml"),
            "{message}"
        );
        assert!(message.contains("braid does not pull charts"), "{message}");
    }

    #[test]
    fn values_files_and_merge_modes() {
        let mut all = CHART.to_vec();
        all.push(("values-dev.yaml", "greeting: from-file\nreplicas: 3\n"));
        all.push((
            "kustomization.yaml",
            "helmGlobals:\n  chartHome: charts\nhelmCharts:\n- name: hello\n  additionalValuesFiles: [values-dev.yaml]\n  valuesInline:\n    greeting: inline\n  valuesMerge: merge\n  skipHooks: true\n",
        ));
        let rendered = render(&files(&all), "").expect("rendered");
        assert_eq!(rendered.len(), 1, "{rendered:#?}");
        // merge: what the files give wins over the inline values.
        assert_eq!(rendered[0].document["data"]["greeting"], "from-file");
        assert_eq!(rendered[0].document["data"]["replicas"], "3");
        assert_eq!(
            rendered[0].document["metadata"]["name"],
            "release-name-greeting"
        );
    }
}
