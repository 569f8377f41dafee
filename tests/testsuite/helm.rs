//! Helm charts as sources (issue #15): the `braid` binary renders `tests/fixtures/helm/app`'s
//! chart per environment (values files chosen by `env.name`, inline `set`, `${{ }}` in values)
//! and applies its objects to kubesim over real HTTP, ordering CRDs, hooks and objects as
//! Helm does; plans show the chart, its values diff and NOTES.txt; errors name the template
//! file and line.

use crate::common::{Project, Run, change, kubernetes_braid_hcl};
use braid_testkit::{
    GitRepo, HttpFiles, KubeSim, OciRegistry, REGISTRY_PASSWORD, REGISTRY_USER, TokenFront,
};

const DEPLOYMENT: &str = "/apis/apps/v1/namespaces/shop/deployments/web";
const CONFIG: &str = "/api/v1/namespaces/shop/configmaps/web-config";

/// braid.hcl for the chart: source `web` at `charts/web` with a helm block.
fn braid_hcl(sim: &KubeSim, helm_source: &str) -> String {
    let base = kubernetes_braid_hcl(&sim.kubeconfig(), &["dev", "prod"], "");
    // The shared helper declares `infra` at "." and `apps` at "deploy"; the chart replaces apps.
    base.replace("source \"apps\" { path = \"deploy\" }\n", helm_source)
}

const HELM_SOURCE: &str = r#"source "web" {
  path = "charts/web"
  helm {
    namespace = "shop"
    values    = ["values.yaml", "values-${env.name}.yaml"]
    set       = { config = { FROM_SET = "yes" } }
  }
}
"#;

fn chart_project(sim: &KubeSim) -> Project {
    let project = Project::fixture("helm/app");
    project.write("braid.hcl", &braid_hcl(sim, HELM_SOURCE));
    project
}

fn env(project: &Project, name: &str, args: &[&str]) -> Run {
    let mut all = vec!["--env", name];
    all.extend_from_slice(args);
    project.braid(&all)
}

fn writes(sim: &KubeSim) -> Vec<String> {
    crate::common::kube_writes(sim)
}

#[track_caller]
fn position(lines: &[String], needle: &str) -> usize {
    lines
        .iter()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no write to {needle} in {lines:#?}"))
}

fn env_value(deployment: &serde_json::Value, name: &str) -> String {
    deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .expect("env")
        .iter()
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str())
        .unwrap_or_else(|| panic!("no env {name} in {deployment:#}"))
        .to_string()
}

#[test]
fn chart_renders_per_environment_and_applies_in_helm_order() {
    let sim = KubeSim::start();
    let project = chart_project(&sim);

    let planned = env(&project, "dev", &["plan"]);
    planned.success();
    let out = &planned.stdout;
    assert!(
        out.contains("chart web 0.3.0, release web in namespace shop"),
        "{out}"
    );
    assert!(out.contains("Notes from chart web:"), "{out}");
    assert!(
        out.contains("web runs 1 replica(s) of registry.example.com/web."),
        "{out}"
    );
    // The test hook has no moment in an apply.
    assert!(!out.contains("Pod/shop/web-test"), "{out}");

    env(&project, "dev", &["apply", "--auto-approve"]).success();
    let deployment = sim.get(DEPLOYMENT).expect("the Deployment");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example.com/web:1.4.2-dev"
    );
    assert_eq!(deployment["spec"]["replicas"], 1);
    assert_eq!(env_value(&deployment, "QUEUE_NAME"), "jobs-dev");
    let queue_id = env_value(&deployment, "QUEUE_ID");
    assert!(
        !queue_id.is_empty() && !queue_id.contains("${{"),
        "{queue_id}"
    );
    let config = sim.get(CONFIG).expect("the ConfigMap");
    assert_eq!(config["data"]["LOG_LEVEL"], "debug");
    assert_eq!(config["data"]["FROM_SET"], "yes");
    assert!(sim.get("/api/v1/namespaces/shop/pods/web-test").is_none());

    let writes = writes(&sim);
    let crd = position(&writes, "customresourcedefinitions/widgets.example.com");
    let widget = position(&writes, "/widgets/web");
    let pre = position(&writes, "configmaps/web-migrations");
    let post = position(&writes, "configmaps/web-smoke");
    let deployment_write = position(&writes, "deployments/web");
    let service = position(&writes, "services/web");
    assert!(crd < widget, "{writes:#?}");
    assert!(
        pre < deployment_write && pre < service && pre < widget,
        "{writes:#?}"
    );
    assert!(post > deployment_write && post > service, "{writes:#?}");

    let again = env(&project, "dev", &["plan", "--detailed-exitcode"]);
    again.expect_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.all());
}

#[test]
fn values_changes_show_as_a_diff_and_prod_renders_its_own_values() {
    let sim = KubeSim::start();
    let project = chart_project(&sim);
    env(&project, "dev", &["apply", "--auto-approve"]).success();

    project.edit(
        "charts/web/values-dev.yaml",
        "LOG_LEVEL: debug",
        "LOG_LEVEL: warn",
    );
    let markdown = env(&project, "dev", &["plan", "--format", "markdown"]);
    markdown.success();
    let md = &markdown.stdout;
    assert!(md.contains("**Helm chart `web`**"), "{md}");
    assert!(md.contains("version 0.3.0 (unchanged)"), "{md}");
    assert!(
        md.contains("-  LOG_LEVEL: debug\n+  LOG_LEVEL: warn"),
        "{md}"
    );

    let json = env(&project, "dev", &["plan", "--format", "json"]);
    json.success();
    let plan = json.json();
    let chart = &plan["charts"][0];
    assert_eq!(chart["chart"], "web");
    assert_eq!(chart["previous_values"]["config"]["LOG_LEVEL"], "debug");
    assert_eq!(chart["values"]["config"]["LOG_LEVEL"], "warn");
    assert_eq!(
        change(&plan, "k8s/core/ConfigMap/shop/web-config")["action"],
        "update"
    );

    // prod: its own values file (3 replicas, a large widget), the same `set`.
    let prod = env(&project, "prod", &["plan", "--format", "json"]);
    prod.success();
    let plan = prod.json();
    let deployment = change(&plan, "k8s/apps/Deployment/shop/web");
    assert_eq!(deployment["after"]["spec"]["replicas"], 3);
    let widget = change(&plan, "k8s/example.com/Widget/shop/web");
    assert_eq!(widget["after"]["spec"]["size"], "large");
}

#[test]
fn chart_errors_name_the_template_file_and_line_and_change_nothing() {
    let sim = KubeSim::start();
    let project = chart_project(&sim);
    project.edit(
        "charts/web/templates/service.yaml",
        "port: {{ .Values.service.port }}",
        "port: {{ .Values.service.nope.port }}",
    );
    let run = env(&project, "dev", &["apply", "--auto-approve"]);
    run.expect_code(1);
    run.assert_no_panic();
    let err = &run.stderr;
    assert!(err.contains("Helm template failed"), "{err}");
    assert!(
        err.contains("charts/web/templates/service.yaml:13"),
        "{err}"
    );
    assert!(
        err.contains("nil pointer evaluating interface {}.port"),
        "{err}"
    );
    assert!(writes(&sim).is_empty(), "{:#?}", writes(&sim));

    // A values file the block names but the chart lacks.
    let project = chart_project(&sim);
    project.write(
        "braid.hcl",
        &braid_hcl(
            &sim,
            &HELM_SOURCE.replace("values-${env.name}.yaml", "values-${env.name}-extra.yaml"),
        ),
    );
    let run = env(&project, "dev", &["plan"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("Values file not found"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("values-dev-extra.yaml"),
        "{}",
        run.stderr
    );

    // A `required` value missing: Helm's message, placed where Helm places it (the template
    // that included the failing one first: deployment.yaml's checksum of configmap.yaml).
    let project = chart_project(&sim);
    project.edit(
        "charts/web/templates/configmap.yaml",
        "data:",
        "  owner: {{ required \"set .Values.owner to the team that runs web\" .Values.owner }}\ndata:",
    );
    let run = env(&project, "dev", &["plan"]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("set .Values.owner to the team that runs web"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("charts/web/templates/deployment.yaml:19"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_saved_plan_pins_the_chart_files() {
    let sim = KubeSim::start();
    let project = chart_project(&sim);
    env(&project, "dev", &["plan", "--out", "dev.plan"]).success();
    // A change to a template (not a values file) after the plan was saved.
    project.edit(
        "charts/web/templates/_helpers.tpl",
        "app.kubernetes.io/name:",
        "app.kubernetes.io/part-of: shop\napp.kubernetes.io/name:",
    );
    let run = env(&project, "dev", &["apply", "dev.plan"]);
    run.expect_code(1);
    assert!(run.all().contains("web"), "{}", run.all());
    assert!(writes(&sim).is_empty(), "{:#?}", writes(&sim));
}

#[test]
fn a_chart_in_a_git_repository_at_a_tag() {
    let sim = KubeSim::start();
    let repo = GitRepo::init();
    let fixture = crate::common::fixtures_dir().join("helm/app/charts/web");
    let mut stack = vec![(fixture.clone(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("the fixture chart") {
            let entry = entry.expect("an entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            if entry.path().is_dir() {
                stack.push((entry.path(), path));
            } else {
                let text = std::fs::read_to_string(entry.path()).expect("a text file");
                repo.write(&format!("charts/web/{path}"), &text);
            }
        }
    }
    repo.commit_all("web chart 0.3.0");
    repo.git(&["tag", "web-0.3.0"]);
    let project = Project::fixture("helm/app");
    std::fs::remove_dir_all(project.join("charts")).expect("the local chart removed");
    project.write(
        "braid.hcl",
        &braid_hcl(
            &sim,
            &format!(
                "source \"web\" {{\n  repo = \"{}\"\n  ref  = \"web-0.3.0\"\n  path = \"charts/web\"\n  helm {{\n    namespace = \"shop\"\n    values    = [\"values.yaml\", \"values-${{env.name}}.yaml\"]\n  }}\n}}\n",
                repo.hcl_path()
            ),
        ),
    );
    let run = env(&project, "dev", &["apply", "--auto-approve"]);
    run.success();
    assert!(run.stdout.contains("tag web-0.3.0"), "{}", run.stdout);
    let deployment = sim.get(DEPLOYMENT).expect("the Deployment");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example.com/web:1.4.2-dev"
    );
}

#[test]
fn a_chart_cannot_read_outside_its_folder() {
    let sim = KubeSim::start();
    let project = chart_project(&sim);
    let outside = project.join("outside-secret.txt");
    std::fs::write(&outside, "s3cr3t-outside-the-chart").expect("a file outside the chart");
    std::fs::create_dir_all(project.join("charts/web/files")).expect("files/");
    std::os::unix::fs::symlink(&outside, project.join("charts/web/files/secret.txt"))
        .expect("a symbolic link out of the chart");
    let run = env(&project, "dev", &["plan"]);
    run.expect_code(1);
    run.assert_no_panic();
    assert!(
        run.stderr.contains("Cannot read the Helm chart"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("files/secret.txt"), "{}", run.stderr);
    assert!(
        !run.all().contains("s3cr3t-outside-the-chart"),
        "{}",
        run.all()
    );
}

/// Charts come from pull requests: a template that recurses, nests without end, or builds a
/// map holding itself gets an error (or renders), never a crash.
#[test]
fn hostile_templates_fail_cleanly() {
    let sim = KubeSim::start();
    let cases = [
        (
            "{{- define \"loop\" -}}{{ include \"loop\" . }}{{- end -}}\n{{ include \"loop\" . }}\n".to_string(),
            "nested reference name: loop",
        ),
        (
            format!("{{{{ {}1{} }}}}\n", "(".repeat(5000), ")".repeat(5000)),
            "nested more than",
        ),
        (
            format!("{}x{}\n", "{{ if 1 }}".repeat(5000), "{{ end }}".repeat(5000)),
            "nested more than",
        ),
        (
            "{{ range until 1000000000 }}x{{ end }}\n".to_string(),
            "more than 1000000 numbers",
        ),
        (
            "{{ repeat 1000000000 \"x\" }}\n".to_string(),
            "repeat would make more than",
        ),
    ];
    for (template, expected) in cases {
        let project = chart_project(&sim);
        project.write("charts/web/templates/hostile.yaml", &template);
        let run = env(&project, "dev", &["plan"]);
        run.expect_code(1);
        run.assert_no_panic();
        assert!(run.stderr.contains(expected), "{}", run.stderr);
    }
    // A map holding itself: toYaml and toJson give "" as in Helm, the plan goes on.
    let project = chart_project(&sim);
    project.write(
        "charts/web/templates/hostile.yaml",
        "{{- $d := dict \"a\" 1 }}{{- $_ := set $d \"self\" $d }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cycle\ndata:\n  yaml: {{ toYaml $d | quote }}\n  json: {{ toJson $d | quote }}\n",
    );
    let run = env(&project, "dev", &["plan", "--format", "json"]);
    run.success();
    let plan = run.json();
    let cycle = change(&plan, "k8s/core/ConfigMap/shop/cycle");
    assert_eq!(cycle["after"]["data"]["yaml"], "");
    assert_eq!(cycle["after"]["data"]["json"], "");
}

/// A project whose source `shop` is `tests/fixtures/helm-deps/app`: a chart with one
/// dependency in a chart repository (index.yaml over HTTP) and one in an OCI registry (with
/// a login), both pinned by the Chart.lock `helm dependency update` wrote. Returns the
/// project and the two repository URLs.
struct DepsWorld {
    sim: KubeSim,
    repo: HttpFiles,
    registry: OciRegistry,
    /// A front asking for Bearer tokens, when the registry is reached through one.
    front: Option<TokenFront>,
    project: Project,
}

impl DepsWorld {
    fn start() -> DepsWorld {
        DepsWorld::start_with(false)
    }

    fn start_with(token_front: bool) -> DepsWorld {
        let fixture = crate::common::fixtures_dir().join("helm-deps");
        let repo = HttpFiles::start();
        for entry in std::fs::read_dir(fixture.join("repo")).expect("repo fixture") {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            repo.put(
                &format!("/charts/{name}"),
                std::fs::read(&path).expect("read"),
            );
        }
        let registry = OciRegistry::start();
        let sidecar = std::fs::read(fixture.join("oci/sidecar-1.0.0.tgz")).expect("sidecar");
        registry.push_chart("charts", "sidecar", "1.0.0", &sidecar);
        let sim = KubeSim::start();
        let project = Project::with_files(&[]);
        crate::common::copy_dir(&fixture.join("app"), &project.join("charts/shop"));
        let front = token_front.then(|| TokenFront::start(&registry));
        let world = DepsWorld {
            sim,
            repo,
            registry,
            front,
            project,
        };
        for file in ["Chart.yaml", "Chart.lock"] {
            let rel = format!("charts/shop/{file}");
            let text = world.placeholders_to_urls(&world.project.read(&rel));
            world.project.write(&rel, &text);
        }
        world.project.write(
            "base/namespace.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
        );
        world.login(REGISTRY_PASSWORD);
        world.configure(true);
        world
    }

    fn http_repo(&self) -> String {
        format!("{}/charts", self.repo.url())
    }

    fn registry_host(&self) -> String {
        match &self.front {
            Some(front) => front.host(),
            None => self.registry.host(),
        }
    }

    fn oci_repo(&self) -> String {
        format!("oci://{}/charts", self.registry_host())
    }

    fn placeholders_to_urls(&self, text: &str) -> String {
        text.replace("@HTTP_REPO@", &self.http_repo())
            .replace("@OCI_REPO@", &self.oci_repo())
    }

    /// Docker's config.json with a login for the registry, as `docker login` writes it.
    fn login(&self, password: &str) {
        use base64::Engine as _;
        let auth =
            base64::engine::general_purpose::STANDARD.encode(format!("{REGISTRY_USER}:{password}"));
        self.project.write(
            "docker/config.json",
            &format!(
                r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
                self.registry_host()
            ),
        );
    }

    /// braid.hcl; `allow` lists both repositories in the helm block.
    fn configure(&self, allow: bool) {
        let repositories = if allow {
            format!(
                "    repositories = [\"{}\", \"{}\"]\n",
                self.http_repo(),
                self.oci_repo()
            )
        } else {
            String::new()
        };
        let source = format!(
            "source \"shop\" {{\n  path = \"charts/shop\"\n  helm {{\n    namespace  = \"shop\"\n    plain_http = true\n{repositories}  }}\n}}\n"
        );
        let hcl = kubernetes_braid_hcl(&self.sim.kubeconfig(), &["dev"], "")
            .replace(
                "source \"infra\" { path = \".\" }\n",
                "source \"base\" { path = \"base\" }\n",
            )
            .replace("source \"apps\" { path = \"deploy\" }\n", &source);
        self.project.write("braid.hcl", &hcl);
    }

    fn braid(&self, args: &[&str]) -> Run {
        let mut all = vec!["--env", "dev"];
        all.extend_from_slice(args);
        let docker = self.project.join("docker").display().to_string();
        let helm = self.project.join("no-helm-config").display().to_string();
        self.project.braid_env(
            &all,
            &[
                ("DOCKER_CONFIG", docker.as_str()),
                ("HELM_REGISTRY_CONFIG", helm.as_str()),
                ("HELM_REPOSITORY_CONFIG", helm.as_str()),
            ],
        )
    }
}

#[test]
fn chart_dependencies_are_fetched_as_chart_lock_pins_them() {
    let world = DepsWorld::start();

    // Repositories braid.hcl does not list are never contacted.
    world.configure(false);
    let refused = world.braid(&["plan"]);
    refused.failure();
    assert!(
        refused.stderr.contains("Cannot fetch a chart dependency")
            && refused.stderr.contains("does not list")
            && refused.stderr.contains(&world.http_repo()),
        "{}",
        refused.all()
    );
    assert!(
        world.repo.requests().is_empty(),
        "{:?}",
        world.repo.requests()
    );

    world.configure(true);
    world.braid(&["apply", "--auto-approve"]).success();
    // Chart.lock pins greeter 0.3.1 (the newest ~0.3.0); 0.4.0 is never fetched.
    assert_eq!(
        world.repo.requests(),
        ["/charts/index.yaml", "/charts/greeter-0.3.1.tgz"]
    );
    // Every object is the one Helm renders once `helm dependency build` fetched the same
    // dependencies (tests/fixtures/helm-deps/expected.yaml, scripts/regen-helm-deps-fixture.sh).
    let expected =
        std::fs::read_to_string(crate::common::fixtures_dir().join("helm-deps/expected.yaml"))
            .expect("expected.yaml");
    let mut names = Vec::new();
    for document in serde_yaml_ng::Deserializer::from_str(&expected) {
        let want: serde_json::Value =
            serde::Deserialize::deserialize(document).expect("an expected object");
        let name = want["metadata"]["name"].as_str().expect("name").to_string();
        let got = world
            .sim
            .get(&format!("/api/v1/namespaces/shop/configmaps/{name}"))
            .unwrap_or_else(|| panic!("no ConfigMap {name}"));
        assert_eq!(got["data"], want["data"], "{name}");
        for (key, value) in want["metadata"]["labels"].as_object().into_iter().flatten() {
            assert_eq!(&got["metadata"]["labels"][key], value, "{name} label {key}");
        }
        names.push(name);
    }
    assert_eq!(names, ["shop-greeter", "shop-sidecar", "shop-shop"]);

    // The archives are cached: an offline plan needs neither server.
    let before = world.repo.requests().len();
    let offline = world.braid(&["plan", "--offline", "--detailed-exitcode"]);
    offline.expect_code(0);
    assert_eq!(world.repo.requests().len(), before);
}

#[test]
fn chart_dependency_errors_are_clear_and_keep_secrets() {
    let world = DepsWorld::start();

    // A dependency the lock pins but the repository no longer has.
    let index =
        String::from_utf8(world.repo.file("/charts/index.yaml").expect("index")).expect("utf-8");
    world.repo.put(
        "/charts/index.yaml",
        index.replace("version: 0.3.1", "version: 0.3.2"),
    );
    let gone = world.braid(&["plan"]);
    gone.failure();
    assert!(
        gone.stderr
            .contains("has no chart \"greeter\" at version 0.3.1"),
        "{}",
        gone.all()
    );
    gone.assert_no_panic();
    world.repo.put("/charts/index.yaml", index);

    // An archive that is not what index.yaml's digest says is refused.
    let genuine = world
        .repo
        .file("/charts/greeter-0.3.1.tgz")
        .expect("served");
    let other = world
        .repo
        .file("/charts/greeter-0.3.0.tgz")
        .expect("served");
    world.repo.put("/charts/greeter-0.3.1.tgz", other);
    let tampered = world.braid(&["plan"]);
    tampered.failure();
    assert!(
        tampered.stderr.contains("changed or damaged on the way"),
        "{}",
        tampered.all()
    );
    world.repo.put("/charts/greeter-0.3.1.tgz", genuine);

    // A wrong registry password: refused, and the password is never shown.
    world.login("wrong-password");
    let refused = world.braid(&["plan"]);
    refused.failure();
    assert!(
        refused.stderr.contains("401") && refused.stderr.contains("helm registry login"),
        "{}",
        refused.all()
    );
    assert!(
        !refused.all().contains("wrong-password"),
        "{}",
        refused.all()
    );
    world.login(REGISTRY_PASSWORD);

    // --offline with a dependency not yet cached says what to do.
    let offline = world.braid(&["plan", "--offline"]);
    offline.failure();
    assert!(
        offline.stderr.contains("not in the chart cache"),
        "{}",
        offline.all()
    );

    // A Chart.lock out of step with Chart.yaml is refused, as `helm dependency build` does.
    world.project.edit(
        "charts/shop/Chart.yaml",
        "version: ~0.3.0",
        "version: ~0.4.0",
    );
    let stale = world.braid(&["plan"]);
    stale.failure();
    assert!(
        stale.stderr.contains("out of sync with Chart.yaml") && stale.stderr.contains("Chart.lock"),
        "{}",
        stale.all()
    );
    world.project.edit(
        "charts/shop/Chart.yaml",
        "version: ~0.4.0",
        "version: ~0.3.0",
    );
}

const CAPABILITIES_TEMPLATE: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: caps
data:
  version: {{ .Capabilities.KubeVersion.Version | quote }}
  minor: {{ .Capabilities.KubeVersion.Minor | quote }}
  deployments: {{ .Capabilities.APIVersions.Has "apps/v1/Deployment" | quote }}
  batchBeta: {{ .Capabilities.APIVersions.Has "batch/v1beta1" | quote }}
"#;

fn capabilities_project(kubeconfig: &str) -> Project {
    let source =
        "source \"caps\" {\n  path = \"chart\"\n  helm {\n    namespace = \"default\"\n  }\n}\n";
    let hcl = kubernetes_braid_hcl(kubeconfig, &["dev"], "")
        .replace("source \"infra\" { path = \".\" }\n", "")
        .replace("source \"apps\" { path = \"deploy\" }\n", source);
    Project::with_files(&[
        ("braid.hcl", &hcl),
        (
            "chart/Chart.yaml",
            "apiVersion: v2\nname: caps\nversion: 0.1.0\n",
        ),
        ("chart/templates/caps.yaml", CAPABILITIES_TEMPLATE),
    ])
}

#[test]
fn capabilities_come_from_the_cluster() {
    let sim = KubeSim::start();
    let project = capabilities_project(&sim.kubeconfig());
    env(&project, "dev", &["apply", "--auto-approve"]).success();
    let caps = sim
        .get("/api/v1/namespaces/default/configmaps/caps")
        .expect("the ConfigMap");
    let version = sim.get("/version").expect("/version");
    assert_eq!(caps["data"]["version"], version["gitVersion"], "{caps:#}");
    assert_eq!(caps["data"]["minor"], version["minor"], "{caps:#}");
    assert_eq!(caps["data"]["deployments"], "true", "{caps:#}");
    // Helm's default list has batch/v1beta1; the cluster does not serve it.
    assert_eq!(caps["data"]["batchBeta"], "false", "{caps:#}");

    // The helm block's kube_version and api_versions apply over the cluster's.
    project.edit(
        "braid.hcl",
        "namespace = \"default\"",
        "namespace = \"default\"\n    kube_version = \"v1.29.4\"\n    api_versions = [\"batch/v1beta1\"]",
    );
    env(&project, "dev", &["apply", "--auto-approve"]).success();
    let caps = sim
        .get("/api/v1/namespaces/default/configmaps/caps")
        .expect("the ConfigMap");
    assert_eq!(caps["data"]["version"], "v1.29.4", "{caps:#}");
    assert_eq!(caps["data"]["batchBeta"], "true", "{caps:#}");
}

#[test]
fn capabilities_without_a_cluster_are_helms_defaults_with_a_warning() {
    let dir = braid_testkit::tempdir();
    let kubeconfig = dir.path().join("no-such-kubeconfig");
    let project = capabilities_project(&kubeconfig.display().to_string());
    let validated = env(&project, "dev", &["validate"]);
    validated.success();
    assert!(
        validated
            .stderr
            .contains("Helm charts render with default capabilities")
            && validated.stderr.contains("v1.36.0"),
        "{}",
        validated.all()
    );
}

#[test]
fn hooks_run_again_on_each_release_and_follow_their_delete_policy() {
    let sim = KubeSim::start();
    let project = chart_project(&sim);
    const SMOKE: &str = "/api/v1/namespaces/shop/configmaps/web-smoke";
    const NOTIFY: &str = "/api/v1/namespaces/shop/configmaps/web-notify";
    env(&project, "dev", &["apply", "--auto-approve"]).success();
    let smoke = sim.get(SMOKE).expect("the post-install hook");
    let token = smoke["metadata"]["annotations"]["braid.dev/recreate-token"]
        .as_str()
        .expect("a recreate token")
        .to_string();
    let first_uid = smoke["metadata"]["uid"].clone();
    // hook-succeeded: deleted once it ran, and its absence is no drift.
    assert!(sim.get(NOTIFY).is_none(), "the hook-succeeded hook stayed");
    let again = env(&project, "dev", &["plan", "--detailed-exitcode"]);
    again.expect_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.all());

    // A new release (a values change): every hook is replaced — deleted, then created —
    // and the self-deleting one runs (and goes) again.
    project.edit(
        "charts/web/values-dev.yaml",
        "LOG_LEVEL: debug",
        "LOG_LEVEL: warn",
    );
    let json = env(&project, "dev", &["plan", "--format", "json"]);
    json.success();
    let plan = json.json();
    for hook in ["web-migrations", "web-smoke", "web-notify"] {
        let address = format!("k8s/core/ConfigMap/shop/{hook}");
        assert_eq!(
            change(&plan, &address)["action"],
            "replace",
            "{address}: {:#}",
            change(&plan, &address)
        );
    }
    let before_requests = sim.requests().len();
    env(&project, "dev", &["apply", "--auto-approve"]).success();
    let smoke = sim.get(SMOKE).expect("the post-install hook, again");
    assert_ne!(smoke["metadata"]["uid"], first_uid, "not created anew");
    assert_ne!(
        smoke["metadata"]["annotations"]["braid.dev/recreate-token"],
        token.as_str()
    );
    // The self-deleting hook was applied, then deleted (two successful writes).
    let writes: Vec<String> = sim.requests()[before_requests..]
        .iter()
        .filter(|r| r.path.ends_with("configmaps/web-notify") && (200..300).contains(&r.status))
        .filter(|r| !r.query.contains("dryRun"))
        .map(|r| r.method.clone())
        .collect();
    assert!(
        writes.iter().any(|m| m == "PATCH" || m == "POST")
            && writes.last().map(String::as_str) == Some("DELETE"),
        "{writes:?}"
    );
    assert!(sim.get(NOTIFY).is_none());
    let again = env(&project, "dev", &["plan", "--detailed-exitcode"]);
    again.expect_code(0);
}

/// A registry that asks for Bearer tokens (as ghcr.io and Docker Hub do): braid follows the
/// challenge to the token realm with the machine's login, then pulls with the token.
#[test]
fn chart_dependencies_from_a_registry_asking_for_tokens() {
    let world = DepsWorld::start_with(true);
    world.braid(&["plan"]).success();
    let front = world.front.as_ref().expect("a token front");
    let requests = front.requests();
    assert!(
        requests.iter().any(|r| r == "GET /token Basic"),
        "{requests:#?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("GET /v2/charts/sidecar/blobs/") && r.ends_with(" Bearer")),
        "{requests:#?}"
    );
    // Without a login the realm refuses, and the error says how to log in.
    let fresh = DepsWorld::start_with(true);
    fresh.project.write("docker/config.json", "{}");
    let refused = fresh.braid(&["plan"]);
    refused.failure();
    assert!(
        refused.stderr.contains("401") && refused.stderr.contains("helm registry login"),
        "{}",
        refused.all()
    );
}
