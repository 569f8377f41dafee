//! Promotion (issue #18): `braid promote --from staging --to prod` writes the images staging
//! runs (as applied, from its state) into prod's Kustomize overlay as a commit on a new branch
//! of the deploy repository — made by braid (gix), checked with the real `git`: the diff is
//! exactly the image lines, the work tree and current branch are untouched — and shows prod's
//! plan with them; `--release VERSION` does the same from `releases/VERSION.yaml`, digests
//! pinned and tags shown.

use braid_testkit::{GitRepo, KubeSim};

use crate::common::{Run, run_braid};

const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const RELEASE_DIGEST: &str =
    "sha256:2222222222222222222222222222222222222222222222222222222222222222";

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.0.0
        - name: proxy
          image: registry.example.com/proxy:3.0
";

const PROD_OVERLAY: &str = "# prod: images are promoted from staging by braid promote
resources:
  - ../../base
commonLabels:
  env: prod
";

/// A deploy repository (the project itself) with a `web` app, overlays staging and prod,
/// each environment on a cluster of its own.
fn deploy_repo(staging: &KubeSim, prod: &KubeSim) -> GitRepo {
    let repo = GitRepo::init();
    repo.write(
        "braid.hcl",
        &format!(
            "source \"apps\" {{ path = \"deploy\" }}\n\nenvironment \"staging\" {{\n  overlay = \"staging\"\n  provider \"kubernetes\" {{\n    kubeconfig = \"{}\"\n  }}\n}}\nenvironment \"prod\" {{\n  overlay = \"prod\"\n  provider \"kubernetes\" {{\n    kubeconfig = \"{}\"\n  }}\n}}\n",
            staging.kubeconfig(),
            prod.kubeconfig()
        ),
    );
    repo.write(".gitignore", ".braid/\n");
    repo.write(
        "deploy/web/base/kustomization.yaml",
        "resources:\n  - namespace.yaml\n  - deployment.yaml\n",
    );
    repo.write(
        "deploy/web/base/namespace.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n",
    );
    repo.write("deploy/web/base/deployment.yaml", DEPLOYMENT);
    repo.write(
        "deploy/web/overlays/staging/kustomization.yaml",
        &format!(
            "resources:\n  - ../../base\nimages:\n  - name: registry.example.com/web\n    newTag: 1.1.0\n    digest: {DIGEST}\n"
        ),
    );
    repo.write("deploy/web/overlays/prod/kustomization.yaml", PROD_OVERLAY);
    repo.commit_all("deploy: web");
    repo
}

fn braid(repo: &GitRepo, args: &[&str]) -> Run {
    run_braid(repo.path(), args, &[])
}

#[test]
fn promote_commits_exactly_the_image_lines_on_a_new_branch_and_plans_prod() {
    let (staging, prod) = (KubeSim::start(), KubeSim::start());
    let repo = deploy_repo(&staging, &prod);
    braid(&repo, &["--env", "staging", "apply", "--auto-approve"]).success();
    let head = repo.git(&["rev-parse", "HEAD"]);

    let promoted = run_braid(
        repo.path(),
        &[
            "promote",
            "--from",
            "staging",
            "--to",
            "prod",
            "--branch",
            "promote/web",
        ],
        &[("BRAID_NOW", "2026-12-06T12:00:00Z")],
    );
    promoted.success();
    let out = &promoted.stdout;
    assert!(
        out.contains("Promoting environment staging to environment prod:")
            && out.contains(&format!(
                "web/web: registry.example.com/web:1.0.0 -> 1.1.0 ({DIGEST}, pinned by digest)"
            ))
            && out.contains("Committed ")
            && out.contains("on the new branch promote/web"),
        "{}",
        promoted.all()
    );
    // The proxy runs the same image in both: nothing to change there.
    assert!(!out.contains("web/proxy"), "{out}");
    // Prod's plan, from the new branch: the Deployment's image changes.
    assert!(
        out.contains(&format!("registry.example.com/web:1.1.0@{DIGEST}")),
        "{out}"
    );

    // The branch: one commit on top of HEAD, whose diff is exactly the image lines.
    assert_eq!(repo.git(&["rev-parse", "promote/web~1"]), head);
    let diff = repo.git(&["diff", "--unified=0", "HEAD", "promote/web"]);
    let changed: Vec<&str> = diff
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .collect();
    assert_eq!(
        changed,
        [
            "+images:",
            "+  - name: registry.example.com/web",
            "+    newTag: 1.1.0",
            &format!("+    digest: {DIGEST}"),
        ],
        "{diff}"
    );
    assert!(
        diff.contains("deploy/web/overlays/prod/kustomization.yaml"),
        "{diff}"
    );
    let message = repo.git(&["log", "-1", "--format=%an%n%B", "promote/web"]);
    assert!(
        message.contains("Promote environment staging to prod")
            && message.contains(
                "web/web: registry.example.com/web:1.0.0 -> registry.example.com/web:1.1.0@"
            ),
        "{message}"
    );
    // Nothing else moved: HEAD, the current branch, the work tree.
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(repo.git(&["branch", "--show-current"]), "main");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    assert_eq!(
        std::fs::read_to_string(
            repo.path()
                .join("deploy/web/overlays/prod/kustomization.yaml")
        )
        .expect("read"),
        PROD_OVERLAY
    );
    // The same branch twice is refused, and --only an unknown workload too.
    let again = braid(
        &repo,
        &[
            "promote",
            "--from",
            "staging",
            "--to",
            "prod",
            "--branch",
            "promote/web",
        ],
    );
    again.expect_code(1);
    assert!(again.stderr.contains("exists already"), "{}", again.all());
    let unknown = braid(
        &repo,
        &[
            "promote", "--from", "staging", "--to", "prod", "--only", "api",
        ],
    );
    unknown.expect_code(1);
    assert!(
        unknown.stderr.contains("no workload \"api\""),
        "{}",
        unknown.all()
    );
}

#[test]
fn a_release_file_pins_a_whole_release() {
    let (staging, prod) = (KubeSim::start(), KubeSim::start());
    let repo = deploy_repo(&staging, &prod);
    repo.write(
        "releases/v2.0.0.yaml",
        &format!(
            "# certified 2026-12-01\nservices:\n  web:\n    image: registry.example.com/web\n    tag: 2.0.0\n    digest: {RELEASE_DIGEST}\n  api: registry.example.com/api:7.0\n"
        ),
    );
    repo.commit_all("release v2.0.0");

    let promoted = braid(&repo, &["promote", "--release", "v2.0.0", "--to", "prod"]);
    promoted.success();
    assert!(
        promoted
            .stdout
            .contains("Promoting release v2.0.0 to environment prod:")
            && promoted
                .stdout
                .contains("on the new branch release/v2.0.0-prod")
            && promoted
                .stdout
                .contains("not promoted: api: environment prod has no such workload"),
        "{}",
        promoted.all()
    );
    let shown = repo.git(&[
        "show",
        "release/v2.0.0-prod:deploy/web/overlays/prod/kustomization.yaml",
    ]);
    assert_eq!(
        shown,
        format!(
            "{}images:\n  - name: registry.example.com/web\n    newTag: 2.0.0\n    digest: {RELEASE_DIGEST}",
            PROD_OVERLAY
        )
        .trim_end()
    );
    // Applying prod from the branch runs the pinned images.
    repo.git(&["checkout", "--quiet", "release/v2.0.0-prod"]);
    braid(&repo, &["--env", "prod", "apply", "--auto-approve"]).success();
    let deployment = prod
        .get("/apis/apps/v1/namespaces/shop/deployments/web")
        .expect("the Deployment");
    let containers = deployment["spec"]["template"]["spec"]["containers"]
        .as_array()
        .expect("containers");
    assert_eq!(
        containers[0]["image"],
        format!("registry.example.com/web:2.0.0@{RELEASE_DIGEST}").as_str()
    );
    assert_eq!(containers[1]["image"], "registry.example.com/proxy:3.0");

    // A release that does not exist, or with a bad digest.
    let missing = braid(&repo, &["promote", "--release", "v9", "--to", "prod"]);
    missing.expect_code(1);
    assert!(
        missing.stderr.contains("No such release"),
        "{}",
        missing.all()
    );
    repo.write(
        "releases/v3.yaml",
        "services:\n  web: registry.example.com/web@sha256:zz\n",
    );
    let bad = braid(&repo, &["promote", "--release", "v3", "--to", "prod"]);
    bad.expect_code(1);
    assert!(bad.stderr.contains("is not sha256"), "{}", bad.all());
}

/// Charts are promoted by their values: the `image.tag` dev was applied with (and values
/// chosen with `--value`) go into prod's own values file.
#[test]
fn charts_are_promoted_by_their_values() {
    let (dev, prod) = (KubeSim::start(), KubeSim::start());
    let repo = GitRepo::init();
    crate::common::copy_dir(&crate::common::fixtures_dir().join("helm/app"), repo.path());
    repo.write(
        "braid.hcl",
        &format!(
            "source \"infra\" {{ path = \".\" }}\nsource \"web\" {{\n  path = \"charts/web\"\n  helm {{\n    namespace = \"shop\"\n    values    = [\"values.yaml\", \"values-${{env.name}}.yaml\"]\n  }}\n}}\n\nenvironment \"dev\" {{\n  provider \"kubernetes\" {{\n    kubeconfig = \"{}\"\n  }}\n}}\nenvironment \"prod\" {{\n  provider \"kubernetes\" {{\n    kubeconfig = \"{}\"\n  }}\n}}\n",
            dev.kubeconfig(),
            prod.kubeconfig()
        ),
    );
    repo.write(".gitignore", ".braid/\n");
    repo.commit_all("deploy");
    braid(&repo, &["--env", "dev", "apply", "--auto-approve"]).success();
    let before = repo.git(&["show", "HEAD:charts/web/values-prod.yaml"]);

    let promoted = braid(
        &repo,
        &[
            "promote",
            "--from",
            "dev",
            "--to",
            "prod",
            "--value",
            "image.tag",
            "--value",
            "config.LOG_LEVEL",
            "--branch",
            "promote/web",
        ],
    );
    promoted.success();
    assert!(
        promoted
            .stdout
            .contains("chart web image.tag (values-prod.yaml): \"\" -> \"1.4.2-dev\"")
            && promoted
                .stdout
                .contains("registry.example.com/web:1.4.2-dev"),
        "{}",
        promoted.all()
    );
    let after = repo.git(&["show", "promote/web:charts/web/values-prod.yaml"]);
    assert_eq!(
        after,
        format!(
            "{}\nimage:\n  tag: 1.4.2-dev\nconfig:\n  LOG_LEVEL: debug",
            before.trim_end()
        )
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
}
