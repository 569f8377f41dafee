//! Kustomize remote bases and components (issue #15): a kustomization naming a git
//! repository (`https://git.example.com/platform/kustomize-bases.git//web?ref=v1.0.0`,
//! reached through git's url.<base>.insteadOf as a team mirrors a private host) is fetched
//! with braid's git code and cache, rendered as `kubectl kustomize` renders it, and pinned
//! by its commit: a later commit on the branch is not read, `--offline` uses the cache, a
//! saved plan refuses a changed ref, and a base cannot reach out of its repository.

use crate::common::{Project, Run, kubernetes_braid_hcl};
use braid_testkit::{GitRepo, KubeSim};

const REPO_URL: &str = "https://git.example.com/platform/kustomize-bases.git";

struct World {
    sim: KubeSim,
    repo: GitRepo,
    project: Project,
    home: tempfile::TempDir,
}

impl World {
    fn start() -> World {
        let repo = GitRepo::init();
        repo.write(
            "web/kustomization.yaml",
            "resources:\n- deployment.yaml\n- ../common\nlabels:\n- pairs:\n    team: web\n",
        );
        repo.write(
            "web/deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n",
        );
        repo.write(
            "common/kustomization.yaml",
            "configMapGenerator:\n- name: common\n  literals:\n  - LOG_LEVEL=info\n",
        );
        repo.write(
            "debug/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches:\n- patch: |-\n    apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: common\n    data:\n      LOG_LEVEL: debug\n",
        );
        repo.commit_all("bases");
        repo.git(&["tag", "v1.0.0"]);
        // Work after the tag must not be read.
        repo.write("web/deployment.yaml", "this is: [not valid");
        repo.commit_all("broken work in progress");

        let home = tempfile::tempdir().expect("home");
        std::fs::write(
            home.path().join(".gitconfig"),
            format!(
                "[url \"file://{}\"]\n\tinsteadOf = {REPO_URL}\n",
                repo.hcl_path()
            ),
        )
        .expect("write .gitconfig");
        let sim = KubeSim::start();
        let hcl = kubernetes_braid_hcl(&sim.kubeconfig(), &["dev"], "")
            .replace("source \"infra\" { path = \".\" }\n", "");
        let project = Project::with_files(&[
            ("braid.hcl", &hcl),
            (
                "deploy/kustomization.yaml",
                &format!(
                    "namespace: shop\nnamePrefix: shop-\nresources:\n- namespace.yaml\n- {REPO_URL}//web?ref=v1.0.0\ncomponents:\n- {REPO_URL}//debug?ref=v1.0.0\n"
                ),
            ),
            (
                "deploy/namespace.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
            ),
        ]);
        World {
            sim,
            repo,
            project,
            home,
        }
    }

    fn braid(&self, args: &[&str]) -> Run {
        let mut all = vec!["--env", "dev"];
        all.extend_from_slice(args);
        let home = self.home.path().display().to_string();
        self.project.braid_env(&all, &[("HOME", home.as_str())])
    }
}

#[test]
fn remote_bases_and_components_are_fetched_at_their_ref() {
    let world = World::start();
    world.braid(&["apply", "--auto-approve"]).success();
    let deployment = world
        .sim
        .get("/apis/apps/v1/namespaces/shop/deployments/shop-web")
        .expect("the Deployment of the remote base");
    assert_eq!(deployment["metadata"]["labels"]["team"], "web");
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
    // The base's sibling (`../common`) and the remote component's patch.
    let list = world
        .sim
        .get("/api/v1/namespaces/shop/configmaps")
        .expect("configmaps");
    let configmaps = list["items"].as_array().expect("items");
    let common = configmaps
        .iter()
        .find(|c| {
            c["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("shop-common-"))
        })
        .unwrap_or_else(|| panic!("no generated ConfigMap in {configmaps:#?}"));
    assert_eq!(common["data"]["LOG_LEVEL"], "debug");

    // Cached: --offline plans from the cache and finds nothing to do.
    let offline = world.braid(&["plan", "--offline", "--detailed-exitcode"]);
    offline.expect_code(0);

    // A saved plan pins the fetched commit: moving the ref makes it refuse.
    world.project.write(
        "deploy/namespace.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    tier: web\n",
    );
    world
        .project
        .braid_env(
            &["--env", "dev", "plan", "--out", "saved.plan"],
            &[("HOME", &world.home.path().display().to_string())],
        )
        .success();
    world.repo.write("web/deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.28\n");
    world.repo.commit_all("nginx 1.28");
    world.repo.git(&["tag", "-f", "v1.0.0"]);
    let stale = world.braid(&["apply", "saved.plan"]);
    stale.failure();
    assert!(
        stale.all().contains("changed since the plan"),
        "{}",
        stale.all()
    );
}

#[test]
fn remote_base_errors_are_clear() {
    let world = World::start();

    // --offline with nothing cached.
    let offline = world.braid(&["plan", "--offline"]);
    offline.failure();
    assert!(
        offline.stderr.contains("never fetched"),
        "{}",
        offline.all()
    );

    // An unknown ref names the kustomization line.
    world.project.edit(
        "deploy/kustomization.yaml",
        "web?ref=v1.0.0",
        "web?ref=v9.9.9",
    );
    let missing = world.braid(&["plan"]);
    missing.failure();
    assert!(
        missing.stderr.contains("Cannot fetch a remote base")
            && missing.stderr.contains("v9.9.9")
            && missing.stderr.contains("deploy/kustomization.yaml:5"),
        "{}",
        missing.all()
    );

    // A repository on this machine is refused, as for modules.
    world.project.write(
        "deploy/kustomization.yaml",
        &format!("resources:\n- file://{}//web\n", world.repo.hcl_path()),
    );
    let local = world.braid(&["plan"]);
    local.failure();
    assert!(local.stderr.contains("on this machine"), "{}", local.all());

    // A remote base cannot read outside its repository.
    world.repo.write(
        "escape/kustomization.yaml",
        "resources:\n- ../../../deploy/namespace.yaml\n",
    );
    world.repo.commit_all("escape");
    world.repo.git(&["tag", "v2.0.0"]);
    world.project.write(
        "deploy/kustomization.yaml",
        &format!("resources:\n- {REPO_URL}//escape?ref=v2.0.0\n"),
    );
    let escape = world.braid(&["plan"]);
    escape.failure();
    assert!(escape.stderr.contains("outside"), "{}", escape.all());
    escape.assert_no_panic();
}
