//! The GitOps loop end to end (issue #8), as scripts/demo.sh runs it: the example
//! repositories `examples/platform` (infra, AWS in HCL) and `examples/deploy` (Kubernetes
//! manifests) copied into a temporary directory and made into git repositories, AWS in
//! moto_server and one kubesim per environment's cluster. Staging apply, a pull request's
//! plan comment, apply_rule refusals, merge, a release tag applied to prod, drift and its
//! repair, a revert, a rollback, and the history that records all of it.
//!
//! Skipped without moto_server, except under CI (`CI` set), where it fails.

use std::path::PathBuf;
use std::sync::LazyLock;

use crate::common::{self, Run, run_braid};
use braid_testkit::{KubeSim, MotoServer, git_in};
use regex::Regex;
use serde_json::Value;

const WEB: &str = "/apis/apps/v1/namespaces/shop/deployments/web";
const OLD_TAG: &str = "1.4.0";
const NEW_TAG: &str = "1.5.0";
const ACTOR: &str = "Ada Lovelace <ada@example.com>";

/// Everything one run of the loop needs: the emulators, the two repositories and the
/// environment variables CI would export.
struct Loop {
    dir: tempfile::TempDir,
    _moto: MotoServer,
    staging_sim: KubeSim,
    prod_sim: KubeSim,
    platform: PathBuf,
    deploy: PathBuf,
    env: Vec<(String, String)>,
}

impl Loop {
    fn start() -> Loop {
        let moto = MotoServer::start();
        let staging_sim = KubeSim::start();
        let prod_sim = KubeSim::start();
        let dir = tempfile::Builder::new()
            .prefix("braid-workflow-")
            .tempdir()
            .expect("temporary directory");
        let root = crate::common::manifest_dir().join("examples");
        let platform = dir.path().join("platform");
        let deploy = dir.path().join("deploy");
        common::copy_dir(&root.join("platform"), &platform);
        common::copy_dir(&root.join("deploy"), &deploy);
        let _ = std::fs::remove_dir_all(platform.join(".braid"));
        for repo in [&platform, &deploy] {
            git_in(repo, &["init", "--quiet", "-b", "main"]);
            git_in(repo, &["config", "advice.detachedHead", "false"]);
            git_in(repo, &["add", "--all"]);
            git_in(repo, &["commit", "--quiet", "-m", "Initial commit"]);
        }
        // prod keeps its state in S3: the bucket a team creates once.
        moto.create_bucket("acme-braid-state", "eu-west-1");
        let env = vec![
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_DEFAULT_REGION", "eu-west-1".to_string()),
            ("AWS_REGION", "eu-west-1".to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
            ("BRAID_AWS_ENDPOINT", moto.endpoint()),
            (
                "BRAID_VAR_payments_api_key",
                "demo-psp-key-not-real".to_string(),
            ),
            ("BRAID_ACTOR", ACTOR.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        Loop {
            dir,
            _moto: moto,
            staging_sim,
            prod_sim,
            platform,
            deploy,
            env,
        }
    }

    /// braid inside the platform checkout, `--env ENV`, with that environment's KUBECONFIG
    /// and the extra variables.
    fn braid(&self, environment: &str, args: &[&str], extra: &[(&str, &str)]) -> Run {
        let sim = match environment {
            "staging" => &self.staging_sim,
            "prod" => &self.prod_sim,
            other => panic!("no environment {other}"),
        };
        let kubeconfig = sim.kubeconfig();
        let mut env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        env.push(("KUBECONFIG", &kubeconfig));
        env.extend_from_slice(extra);
        let mut all = vec!["--env", environment];
        all.extend_from_slice(args);
        let run = run_braid(&self.platform, &all, &env);
        run.assert_no_panic();
        run
    }

    fn staging(&self, args: &[&str]) -> Run {
        self.braid("staging", args, &[])
    }

    /// prod, read at the release tag: the platform checkout's ref through BRAID_REF (a
    /// detached HEAD, as CI checks out a tag), the deploy repository's sources (manifests and
    /// the notifications chart) at the tag itself.
    fn prod_release(&self, args: &[&str]) -> Run {
        let mut all = args.to_vec();
        all.extend(["--ref", "apps=v1.0.0", "--ref", "notifications=v1.0.0"]);
        self.braid("prod", &all, &[("BRAID_REF", "refs/tags/v1.0.0")])
    }

    fn deploy_git(&self, args: &[&str]) -> String {
        git_in(&self.deploy, args)
    }

    /// `--format json history` of an environment, newest first.
    fn history(&self, environment: &str) -> Vec<Value> {
        let run = self.braid(environment, &["--format", "json", "history"], &[]);
        run.success();
        run.json().as_array().expect("history is an array").clone()
    }
}

/// The image of the web Deployment's first container in a cluster.
#[track_caller]
fn web_image(sim: &KubeSim) -> String {
    let deployment = sim.get(WEB).expect("web Deployment exists");
    deployment["spec"]["template"]["spec"]["containers"][0]["image"]
        .as_str()
        .unwrap_or_else(|| panic!("no image in {deployment:#}"))
        .to_string()
}

#[track_caller]
fn assert_tag(sim: &KubeSim, tag: &str) {
    let image = web_image(sim);
    assert!(
        image.ends_with(&format!(":{tag}")),
        "web image {image:?} should have tag {tag}"
    );
}

/// The commit an apply recorded for the `apps` source.
#[track_caller]
fn apps_commit(apply: &Value) -> String {
    apply["sources"]
        .as_array()
        .unwrap_or_else(|| panic!("no sources in {apply:#}"))
        .iter()
        .find(|s| s["name"] == "apps")
        .and_then(|s| s["commit"].as_str())
        .unwrap_or_else(|| panic!("no commit for apps in {apply:#}"))
        .to_string()
}

static COMMIT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[0-9a-f]{7,40}\b").expect("regex"));

#[test]
fn the_gitops_loop_from_pull_request_to_prod_and_back() {
    let l = Loop::start();

    // 1. staging from main; a second plan has nothing to do.
    let applied = l.staging(&["apply", "--auto-approve"]);
    applied.success();
    assert!(
        applied.stdout.contains("Apply complete!"),
        "{}",
        applied.all()
    );
    assert_tag(&l.staging_sim, OLD_TAG);
    let sa = l
        .staging_sim
        .get("/api/v1/namespaces/shop/serviceaccounts/checkout")
        .expect("checkout ServiceAccount");
    let role = sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        .as_str()
        .unwrap_or_default();
    assert!(role.starts_with("arn:aws:iam::"), "role-arn {role:?}");
    l.staging(&["plan", "--detailed-exitcode"]).expect_code(0);
    let first_apps = l.deploy_git(&["rev-parse", "HEAD"]);

    // 2. A pull request: feature/web-v2 bumps web's staging image; CI's plan comment.
    l.deploy_git(&["checkout", "--quiet", "-b", "feature/web-v2"]);
    let kustomization = l.deploy.join("web/overlays/staging/kustomization.yaml");
    let text = std::fs::read_to_string(&kustomization).expect("read kustomization");
    let from = format!("newTag: \"{OLD_TAG}\"");
    assert!(text.contains(&from), "{text}");
    std::fs::write(
        &kustomization,
        text.replace(&from, &format!("newTag: \"{NEW_TAG}\"")),
    )
    .expect("write kustomization");
    l.deploy_git(&["commit", "--quiet", "-am", "web: 1.5.0 in staging"]);
    let branch_commit = l.deploy_git(&["rev-parse", "HEAD"]);
    l.deploy_git(&["checkout", "--quiet", "main"]);

    let comment = l.staging(&[
        "plan",
        "--ref",
        "apps=feature/web-v2",
        "--format",
        "markdown",
        "--detailed-exitcode",
    ]);
    comment.expect_code(2);
    assert!(
        comment.stdout.starts_with("<!-- braid-plan -->"),
        "{}",
        comment.stdout
    );
    assert!(
        comment.stdout.contains("k8s/apps/Deployment/shop/web"),
        "{}",
        comment.stdout
    );
    assert!(comment.stdout.contains(NEW_TAG), "{}", comment.stdout);
    let normalized = common::normalize(&comment.stdout, l.dir.path());
    // Commit SHAs (full or abbreviated) of either repository; not other hex-looking
    // text such as the AWS account id in the image.
    let known = [
        git_in(&l.platform, &["rev-parse", "HEAD"]),
        branch_commit.clone(),
        git_in(&l.deploy, &["rev-parse", "main"]),
    ];
    let normalized = COMMIT
        .replace_all(&normalized, |c: &regex::Captures| {
            let found = &c[0];
            if known.iter().any(|k| k.starts_with(found)) {
                "[COMMIT]".to_string()
            } else {
                found.to_string()
            }
        })
        .into_owned();
    common::insta_settings().bind(|| insta::assert_snapshot!("workflow_pr_comment", normalized));
    assert_tag(&l.staging_sim, OLD_TAG);

    // 3. apply_rule: a branch may be planned, not applied; prod takes only tags.
    let refused = l.staging(&["apply", "--ref", "apps=feature/web-v2", "--auto-approve"]);
    refused.failure();
    assert!(
        refused
            .stderr
            .contains("Ref not allowed for this environment"),
        "{}",
        refused.stderr
    );
    assert_tag(&l.staging_sim, OLD_TAG);
    let refused = l.braid("prod", &["apply", "--auto-approve"], &[]);
    refused.failure();
    assert!(
        refused
            .stderr
            .contains("Ref not allowed for this environment"),
        "{}",
        refused.stderr
    );
    assert!(l.prod_sim.get(WEB).is_none(), "prod untouched");

    // 4. Merge the pull request; CI applies staging from main.
    l.deploy_git(&[
        "merge",
        "--quiet",
        "--no-ff",
        "-m",
        "Merge branch 'feature/web-v2'",
        "feature/web-v2",
    ]);
    let merge_commit = l.deploy_git(&["rev-parse", "HEAD"]);
    l.staging(&["apply", "--auto-approve"]).success();
    assert_tag(&l.staging_sim, NEW_TAG);
    l.staging(&["plan", "--detailed-exitcode"]).expect_code(0);
    let merged_apply = l.history("staging")[0]["id"].clone();
    assert!(merged_apply.is_number(), "apply id {merged_apply}");

    // 5. Release: tag both repositories, check the tag out, apply prod.
    git_in(&l.platform, &["tag", "-a", "v1.0.0", "-m", "Release 1.0.0"]);
    l.deploy_git(&["tag", "-a", "v1.0.0", "-m", "Release 1.0.0"]);
    git_in(&l.platform, &["checkout", "--quiet", "v1.0.0"]);
    l.prod_release(&["apply", "--auto-approve"]).success();
    let prod_web = l.prod_sim.get(WEB).expect("prod web Deployment");
    let replicas = prod_web["spec"]["replicas"].clone();
    assert!(replicas.as_i64().is_some_and(|r| r > 1), "{prod_web:#}");
    l.prod_release(&["plan", "--detailed-exitcode"])
        .expect_code(0);
    let prod_history = l.history("prod");
    assert_eq!(prod_history.len(), 1, "{prod_history:#?}");
    assert_eq!(prod_history[0]["outcome"], "succeeded");
    assert_eq!(apps_commit(&prod_history[0]), merge_commit);

    // 9. Drift: someone scales prod's web Deployment by hand with kubectl; drift names it;
    //    applying the release again puts it back.
    let scaled = l.prod_sim.kubectl(&[
        "--namespace",
        "shop",
        "scale",
        "deployment/web",
        "--replicas=1",
    ]);
    assert!(scaled.contains("deployment.apps/web scaled"), "{scaled}");
    let drift = l.braid("prod", &["drift"], &[]);
    drift.expect_code(2);
    assert!(
        drift.all().contains("k8s/apps/Deployment/shop/web"),
        "{}",
        drift.all()
    );
    l.prod_release(&["apply", "--auto-approve"]).success();
    assert_eq!(
        l.prod_sim.get(WEB).expect("web")["spec"]["replicas"],
        replicas
    );
    l.braid("prod", &["drift"], &[]).expect_code(0);
    git_in(&l.platform, &["checkout", "--quiet", "main"]);

    // 6. A revert on the deploy repo's main; staging goes back to the old tag.
    l.deploy_git(&["revert", "--no-edit", "-m", "1", "HEAD"]);
    let revert_commit = l.deploy_git(&["rev-parse", "HEAD"]);
    l.staging(&["apply", "--auto-approve"]).success();
    assert_tag(&l.staging_sim, OLD_TAG);

    // 7. Rollback to the merged apply: the new tag again, recorded as a rollback.
    let rolled = l.staging(&[
        "rollback",
        "--to",
        &merged_apply.to_string(),
        "--auto-approve",
    ]);
    rolled.success();
    assert_tag(&l.staging_sim, NEW_TAG);

    // 8. History: newest first, who, what, from which commits.
    let history = l.history("staging");
    let ops: Vec<&str> = history
        .iter()
        .map(|a| a["operation"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(ops, ["rollback", "apply", "apply", "apply"], "{history:#?}");
    assert_eq!(history[0]["rollback_of"], merged_apply, "{history:#?}");
    let ids: Vec<i64> = history
        .iter()
        .map(|a| a["id"].as_i64().expect("id"))
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    let expected = [&merge_commit, &revert_commit, &merge_commit, &first_apps];
    for (apply, commit) in history.iter().zip(expected) {
        assert_eq!(apply["outcome"], "succeeded", "{apply:#}");
        assert_eq!(apply["actor"], ACTOR, "{apply:#}");
        assert_eq!(&apps_commit(apply), commit, "{apply:#}");
    }
}
