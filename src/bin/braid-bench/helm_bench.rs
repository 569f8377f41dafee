//! `braid-bench --helm N`: rendering a chart of N objects (N/2 Deployments and N/2 Services
//! from `range` over the values, with `include`d helpers, `toYaml`, `nindent` and a
//! per-object checksum, as real charts write them). Measures the renderer alone
//! (`braid_helm::render`, best and median of 20) and the whole configuration load that a plan
//! starts with (reading the chart, rendering, turning every object into a resource).

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use braid::workspace::{LoadOptions, Workspace};

const RUNS: usize = 20;

fn generate(dir: &Path, n: usize) -> std::io::Result<()> {
    let chart = dir.join("chart");
    std::fs::create_dir_all(chart.join("templates"))?;
    std::fs::write(
        dir.join("braid.hcl"),
        "source \"app\" {\n  path = \"chart\"\n  helm {\n    namespace = \"bench\"\n    values    = [\"values.yaml\", \"values-${env.name}.yaml\"]\n  }\n}\nenvironment \"bench\" {}\n# No cluster: .Capabilities are Helm's defaults, and the load reaches no network.\nprovider \"kubernetes\" { kubeconfig = \"no-such-kubeconfig\" }\n",
    )?;
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: fleet\nversion: 1.0.0\nappVersion: \"2.0.0\"\n",
    )?;
    let mut values = String::from(
        "image:\n  repository: registry.example.com/fleet\n  tag: \"\"\nresources:\n  requests:\n    cpu: 50m\n    memory: 64Mi\n  limits:\n    memory: 128Mi\nservices:\n",
    );
    for i in 0..n.div_ceil(2) {
        let _ = writeln!(
            values,
            "  - name: svc-{i}\n    port: {}\n    replicas: {}\n    env:\n      LOG_LEVEL: info\n      SERVICE_INDEX: \"{i}\"",
            8000 + i % 1000,
            1 + i % 3
        );
    }
    std::fs::write(chart.join("values.yaml"), values)?;
    std::fs::write(
        chart.join("values-bench.yaml"),
        "image:\n  tag: \"2.0.1\"\n",
    )?;
    std::fs::write(
        chart.join("templates/_helpers.tpl"),
        r#"{{- define "fleet.labels" -}}
app.kubernetes.io/name: {{ .service.name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | trunc 63 | trimSuffix "-" }}
{{- end }}
"#,
    )?;
    std::fs::write(
        chart.join("templates/deployments.yaml"),
        r#"{{- range $service := .Values.services }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $service.name }}
  labels:
    {{- include "fleet.labels" (dict "service" $service "root" $) | nindent 4 }}
spec:
  replicas: {{ $service.replicas }}
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ $service.name }}
  template:
    metadata:
      labels:
        {{- include "fleet.labels" (dict "service" $service "root" $) | nindent 8 }}
      annotations:
        checksum/env: {{ toJson $service.env | sha256sum }}
    spec:
      containers:
        - name: app
          image: "{{ $.Values.image.repository }}:{{ $.Values.image.tag | default $.Chart.AppVersion }}"
          ports:
            - containerPort: {{ $service.port }}
          env:
            {{- range $key, $value := $service.env }}
            - name: {{ $key }}
              value: {{ $value | quote }}
            {{- end }}
          resources:
            {{- toYaml $.Values.resources | nindent 12 }}
{{- end }}
"#,
    )?;
    std::fs::write(
        chart.join("templates/services.yaml"),
        r#"{{- range $service := .Values.services }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $service.name }}
  labels:
    {{- include "fleet.labels" (dict "service" $service "root" $) | nindent 4 }}
spec:
  selector:
    app.kubernetes.io/name: {{ $service.name }}
  ports:
    - port: {{ $service.port }}
      targetPort: {{ $service.port }}
{{- end }}
"#,
    )?;
    Ok(())
}

fn files_of(dir: &Path) -> std::io::Result<std::collections::BTreeMap<String, Vec<u8>>> {
    let mut files = std::collections::BTreeMap::new();
    for sub in ["", "templates"] {
        for entry in std::fs::read_dir(dir.join(sub))? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let rel = if sub.is_empty() {
                    name
                } else {
                    format!("{sub}/{name}")
                };
                files.insert(rel, std::fs::read(entry.path())?);
            }
        }
    }
    Ok(files)
}

/// Runs the benchmark; returns the table, or an error (with `check`, also when the chart did
/// not render N objects).
pub fn run(n: usize, check: bool) -> Result<String, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    generate(dir.path(), n).map_err(|e| e.to_string())?;
    let files = files_of(&dir.path().join("chart")).map_err(|e| e.to_string())?;
    let values =
        braid_helm::values_file("image:\n  tag: \"2.0.1\"\n").map_err(|e| e.to_string())?;
    let release = braid_helm::Release {
        name: "app".to_string(),
        namespace: "bench".to_string(),
        revision: 1,
        is_upgrade: false,
    };
    let capabilities = braid_helm::Capabilities::default();
    let mut times: Vec<Duration> = Vec::new();
    let mut objects = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let chart = braid_helm::Chart::load(&files, "chart").map_err(|e| e.to_string())?;
        let rendered = braid_helm::render(&chart, &values, &release, &capabilities)
            .map_err(|e| e.to_string())?;
        times.push(start.elapsed());
        objects = rendered.manifests.len();
    }
    times.sort();
    if check && objects != n.div_ceil(2) * 2 {
        return Err(format!("the chart rendered {objects} objects, not {n}"));
    }
    let options = LoadOptions {
        dir: dir.path().to_path_buf(),
        env: Some("bench".to_string()),
        ..LoadOptions::default()
    };
    let start = Instant::now();
    let ws = Workspace::load(&options).map_err(|d| {
        d.0.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    let load = start.elapsed();
    let resources = ws.module.resources.len();
    if check && resources != objects {
        return Err(format!(
            "the workspace holds {resources} resources, not the {objects} the chart rendered"
        ));
    }
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    Ok(format!(
        "| chart objects | render (best of {RUNS}) | render (median) | configuration load with the chart |\n|---:|---:|---:|---:|\n| {objects} | {} | {} | {} |\n",
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(load)
    ))
}
