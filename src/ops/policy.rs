//! Policy checks: the Rego policies of braid.hcl's `policy` blocks (top-level and the
//! environment's) judge every plan, through the `regorus` engine.
//!
//! The input is the plan in Terraform's plan-JSON shape — `resource_changes[]` with
//! `address`, `mode`, `type`, `name`, `provider_name` and `change` (`actions`, `before`,
//! `after`), sensitive values masked — plus braid's own `braid` object (environment,
//! sources with their commits and refs). Rules `deny` and `warn` of package `braid` (or
//! conftest's default package `main`) are sets of messages, or of objects `{"msg": …,
//! "name": …, "overridable": true}`; so existing conftest/OPA policies for Terraform plans
//! work unchanged. docs/policy.md documents the input.

use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};

use crate::diag::{Diagnostic, Diagnostics};
use crate::plan::{Action, Plan, PolicyFinding, PolicyReport};
use crate::workspace::Workspace;

/// The largest policy file read.
const MAX_POLICY_FILE: u64 = 1024 * 1024;

/// The policies that apply to `ws`'s environment: the top-level blocks', then the
/// environment's, as (path relative to the project, text).
fn policy_files(ws: &Workspace) -> Result<Vec<(String, String)>, Diagnostics> {
    let blocks = ws
        .project
        .policies
        .iter()
        .chain(ws.environment().into_iter().flat_map(|e| e.policies.iter()));
    let root = std::fs::canonicalize(&ws.project.dir).unwrap_or_else(|_| ws.project.dir.clone());
    let mut files = Vec::new();
    for block in blocks {
        let missing = |why: String| -> Diagnostics {
            Diagnostic::error(
                "Cannot read policies",
                format!("policy path \"{}\": {why}", block.written),
            )
            .at_opt(block.location.clone())
            .into()
        };
        let real = std::fs::canonicalize(&block.path).map_err(|e| {
            missing(format!(
                "{e}. Create the directory with .rego files, or fix the path"
            ))
        })?;
        if !real.starts_with(&root) {
            return Err(missing(
                "it leads outside the project directory (a symbolic link); policies are read from inside it"
                    .to_string(),
            ));
        }
        let mut found = Vec::new();
        if real.is_dir() {
            collect_rego(&real, &mut found).map_err(|e| missing(e.to_string()))?;
            found.sort();
        } else {
            found.push(real);
        }
        for path in found {
            let meta = std::fs::metadata(&path).map_err(|e| missing(e.to_string()))?;
            if meta.len() > MAX_POLICY_FILE {
                return Err(missing(format!("{} is larger than 1 MiB", path.display())));
            }
            let text = std::fs::read_to_string(&path)
                .map_err(|e| missing(format!("{}: {e}", path.display())))?;
            let shown = path
                .strip_prefix(&root)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| path.display().to_string());
            if !files.iter().any(|(f, _): &(String, String)| *f == shown) {
                files.push((shown, text));
            }
        }
    }
    Ok(files)
}

fn collect_rego(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            collect_rego(&path, out)?;
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "rego") {
            out.push(path);
        }
    }
    Ok(())
}

/// The policy input for `plan`: Terraform's plan-JSON shape, sensitive values masked.
pub fn input(plan: &Plan) -> Json {
    let masked = plan.masked();
    let changes: Vec<Json> = masked
        .changes
        .iter()
        .map(|c| {
            let actions: Vec<&str> = match c.action {
                Action::Create => vec!["create"],
                Action::Update => vec!["update"],
                Action::Replace => vec!["delete", "create"],
                Action::Delete => vec!["delete"],
                Action::Read => vec!["read"],
                Action::Forget => vec!["forget"],
                Action::NoOp | Action::Import => vec!["no-op"],
            };
            let name = c
                .address
                .rsplit(['.', '/'])
                .next()
                .unwrap_or(&c.address)
                .to_string();
            json!({
                "address": c.address,
                "mode": if c.address.starts_with("data.") || c.address.contains(".data.") { "data" } else { "managed" },
                "type": c.type_name,
                "name": name,
                "provider_name": c.provider,
                "source": c.source,
                "change": {
                    "actions": actions,
                    "before": c.before.as_ref().map(braid_provider::Value::to_json),
                    "after": c.after.as_ref().map(braid_provider::Value::to_json),
                    "after_unknown": {},
                },
            })
        })
        .collect();
    json!({
        "format_version": "1.2",
        "terraform_version": format!("braid-{}", env!("CARGO_PKG_VERSION")),
        "resource_changes": changes,
        "braid": {
            "env": plan.env,
            "mode": plan.mode,
            "sources": plan.sources.iter().map(|s| json!({
                "name": s.name,
                "commit": s.commit,
                "reference": s.reference,
                "tag": s.tag,
                "full_ref": s.full_ref,
                "dirty": s.dirty,
            })).collect::<Vec<_>>(),
        },
    })
}

/// Evaluates the environment's policies on `plan`; `None` when there are none.
pub fn evaluate(ws: &Workspace, plan: &Plan) -> Result<Option<PolicyReport>, Diagnostics> {
    let files = policy_files(ws)?;
    if files.is_empty() {
        return Ok(None);
    }
    evaluate_files(&files, &input(plan)).map(Some)
}

/// Evaluates policies (name, Rego text) on an input document.
pub fn evaluate_files(
    files: &[(String, String)],
    input: &Json,
) -> Result<PolicyReport, Diagnostics> {
    let mut engine = regorus::Engine::new();
    for (name, text) in files {
        if let Err(v1) = engine.add_policy(name.clone(), text.clone()) {
            // Rego v0 (`deny[msg] { … }`), as older conftest policies are written.
            engine.set_rego_v0(true);
            let v0 = engine.add_policy(name.clone(), text.clone());
            engine.set_rego_v0(false);
            if v0.is_err() {
                return Err(Diagnostic::error("Invalid policy", format!("{name}: {v1}")).into());
            }
        }
    }
    let input = regorus::Value::from_json_str(&input.to_string()).map_err(|e| {
        Diagnostics::from(Diagnostic::error("Cannot check policies", e.to_string()))
    })?;
    engine.set_input(input);
    let mut report = PolicyReport {
        files: files.iter().map(|(n, _)| n.clone()).collect(),
        ..PolicyReport::default()
    };
    for package in ["braid", "main"] {
        for rule in ["deny", "warn"] {
            let query = format!("data.{package}.{rule}");
            let results = engine.eval_query(query.clone(), false).map_err(|e| {
                Diagnostics::from(Diagnostic::error(
                    "Policy evaluation failed",
                    format!("{query}: {e}"),
                ))
            })?;
            for result in results.result {
                for expression in result.expressions {
                    let json: Json = expression
                        .value
                        .to_json_str()
                        .ok()
                        .and_then(|t| serde_json::from_str(&t).ok())
                        .unwrap_or(Json::Null);
                    let target = if rule == "deny" {
                        &mut report.denied
                    } else {
                        &mut report.warnings
                    };
                    findings(&json, target);
                }
            }
        }
    }
    for list in [&mut report.denied, &mut report.warnings] {
        list.sort_by(|a, b| a.message.cmp(&b.message));
        list.dedup();
    }
    Ok(report)
}

/// The findings of one rule's value: a set (an array in JSON) of messages or objects.
fn findings(value: &Json, out: &mut Vec<PolicyFinding>) {
    let items: Vec<&Json> = match value {
        Json::Array(items) => items.iter().collect(),
        Json::Null => Vec::new(),
        Json::Bool(_) => Vec::new(),
        other => vec![other],
    };
    for item in items {
        match item {
            Json::String(message) => out.push(PolicyFinding {
                message: message.clone(),
                name: None,
                overridable: false,
            }),
            Json::Object(fields) => out.push(PolicyFinding {
                message: fields
                    .get("msg")
                    .or_else(|| fields.get("message"))
                    .and_then(Json::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| item.to_string()),
                name: fields
                    .get("name")
                    .and_then(Json::as_str)
                    .map(str::to_string),
                overridable: fields
                    .get("overridable")
                    .and_then(Json::as_bool)
                    .unwrap_or(false),
            }),
            other => out.push(PolicyFinding {
                message: other.to_string(),
                name: None,
                overridable: false,
            }),
        }
    }
}

/// Sets aside the denials named by `--override-policy` (each must name an overridable
/// denial); returns the note for the audit log. Refuses when denials remain.
pub fn check(
    ws: &Workspace,
    plan: &mut Plan,
    overrides: &[String],
    reason: Option<&str>,
) -> Result<Option<String>, Diagnostics> {
    let Some(report) = plan.policy.as_mut() else {
        if let Some(name) = overrides.first() {
            return Err(Diagnostic::error(
                "Nothing to override",
                format!("--override-policy {name}: no policy denied this plan."),
            )
            .into());
        }
        return Ok(None);
    };
    for name in overrides {
        let matching: Vec<usize> = report
            .denied
            .iter()
            .enumerate()
            .filter(|(_, d)| d.name.as_deref() == Some(name.as_str()))
            .map(|(i, _)| i)
            .collect();
        if matching.is_empty() {
            return Err(Diagnostic::error(
                "Nothing to override",
                format!(
                    "--override-policy {name}: no denial of this plan is named \"{name}\"{}.",
                    names_of(&report.denied)
                ),
            )
            .into());
        }
        if let Some(i) = matching.iter().find(|i| !report.denied[**i].overridable) {
            return Err(Diagnostic::error(
                "Policy may not be overridden",
                format!(
                    "--override-policy {name}: the policy does not allow it to be set aside (\"{}\"). Change the plan, or the policy (overridable: true).",
                    report.denied[*i].message
                ),
            )
            .into());
        }
        for i in matching.into_iter().rev() {
            let finding = report.denied.remove(i);
            report.overridden.push(finding);
        }
    }
    if !report.denied.is_empty() {
        return Err(denied(&ws.env_name, report).into());
    }
    if report.overridden.is_empty() {
        return Ok(None);
    }
    let actor = crate::actor::actor(&ws.project.dir);
    Ok(Some(format!(
        "policy overridden by {actor}: {} ({})",
        reason.unwrap_or_default(),
        report
            .overridden
            .iter()
            .map(|d| format!("{}: {}", d.name.as_deref().unwrap_or("-"), d.message))
            .collect::<Vec<_>>()
            .join("; ")
    )))
}

/// The error of a plan of environment `env` whose `report` has denials left.
pub fn denied(env: &str, report: &PolicyReport) -> Diagnostic {
    Diagnostic::error(
        "Policy denied the plan",
        format!(
            "The policies ({}) deny this plan of environment \"{env}\": {}. Change the configuration{}.",
            report.files.join(", "),
            report
                .denied
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
            if report.denied.iter().any(|d| d.overridable) {
                ", or set an overridable denial aside with braid apply --override-policy NAME --reason \"why\" (recorded in the audit log)"
            } else {
                ""
            }
        ),
    )
}

fn names_of(denied: &[PolicyFinding]) -> String {
    let names: Vec<&str> = denied.iter().filter_map(|d| d.name.as_deref()).collect();
    if names.is_empty() {
        " (its denials have no names, so none can be overridden)".to_string()
    } else {
        format!(" (names: {})", names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example policies of examples/policies.
    fn examples() -> Vec<(String, String)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policies");
        let mut files: Vec<PathBuf> = Vec::new();
        collect_rego(&dir, &mut files).expect("examples/policies");
        files.sort();
        files
            .into_iter()
            .map(|p| {
                (
                    p.file_name()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .into_owned(),
                    std::fs::read_to_string(&p).expect("read a policy"),
                )
            })
            .collect()
    }

    fn deployment(image: &str, limits: bool) -> Json {
        let resources = if limits {
            json!({"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m"}})
        } else {
            json!({})
        };
        json!({
            "address": "k8s/apps/Deployment/shop/web",
            "type": "kubernetes_manifest",
            "change": {"actions": ["create"], "before": null, "after": {
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "shop"},
                "spec": {"template": {"spec": {"containers": [
                    {"name": "web", "image": image, "resources": resources}
                ]}}}
            }}
        })
    }

    fn plan_input(env: &str, full_ref: Option<&str>, changes: Vec<Json>) -> Json {
        json!({
            "resource_changes": changes,
            "braid": {"env": env, "sources": [
                {"name": "apps", "commit": "4aea36eb", "full_ref": full_ref}
            ]}
        })
    }

    fn denied(report: &PolicyReport) -> Vec<(Option<&str>, &str)> {
        report
            .denied
            .iter()
            .map(|d| (d.name.as_deref(), d.message.as_str()))
            .collect()
    }

    #[test]
    fn a_compliant_plan_passes_every_example_policy() {
        let input = plan_input(
            "prod",
            Some("refs/tags/v1.4.0"),
            vec![deployment("registry.example.com/shop/web:1.4.0", true)],
        );
        let report = evaluate_files(&examples(), &input).expect("evaluate");
        assert_eq!(denied(&report), [], "{report:#?}");
        assert!(report.warnings.is_empty(), "{report:#?}");
    }

    #[test]
    fn images_must_come_from_our_registry_with_a_pinned_tag() {
        for (image, name, words) in [
            (
                "docker.io/library/nginx:1.27",
                "our-registry",
                "is not from registry.example.com/",
            ),
            (
                "registry.example.com/shop/web:latest",
                "no-latest",
                "pin a version or a digest",
            ),
            (
                "registry.example.com/shop/web",
                "no-latest",
                "without a tag",
            ),
            (
                "registry.example.com:5000/shop/web",
                "no-latest",
                "without a tag",
            ),
        ] {
            let input = plan_input("staging", None, vec![deployment(image, true)]);
            let report = evaluate_files(&examples(), &input).expect("evaluate");
            assert!(
                report
                    .denied
                    .iter()
                    .any(|d| d.name.as_deref() == Some(name) && d.message.contains(words)),
                "{image}: {report:#?}"
            );
        }
        // A digest is pinned.
        let input = plan_input(
            "staging",
            None,
            vec![deployment(
                "registry.example.com/shop/web@sha256:0123abcd",
                true,
            )],
        );
        assert_eq!(
            denied(&evaluate_files(&examples(), &input).expect("evaluate")),
            []
        );
    }

    #[test]
    fn deployments_need_limits_and_that_may_be_overridden() {
        let input = plan_input(
            "staging",
            None,
            vec![deployment("registry.example.com/shop/web:1.0", false)],
        );
        let report = evaluate_files(&examples(), &input).expect("evaluate");
        assert_eq!(
            denied(&report),
            [
                (
                    Some("resource-limits"),
                    "k8s/apps/Deployment/shop/web: container \"web\" has no cpu limit"
                ),
                (
                    Some("resource-limits"),
                    "k8s/apps/Deployment/shop/web: container \"web\" has no memory limit"
                ),
            ]
        );
        assert!(report.denied.iter().all(|d| d.overridable));
        assert_eq!(report.warnings.len(), 1, "{report:#?}");
    }

    #[test]
    fn no_public_buckets() {
        let bucket = json!({
            "address": "aws_s3_bucket.assets", "type": "aws_s3_bucket",
            "change": {"actions": ["create"], "before": null, "after": {"bucket": "assets", "acl": "public-read"}}
        });
        let block = json!({
            "address": "aws_s3_bucket_public_access_block.assets", "type": "aws_s3_bucket_public_access_block",
            "change": {"actions": ["update"], "before": {}, "after": {
                "block_public_acls": true, "block_public_policy": false,
                "ignore_public_acls": true, "restrict_public_buckets": true}}
        });
        let report = evaluate_files(
            &examples(),
            &plan_input("staging", None, vec![bucket, block]),
        )
        .expect("evaluate");
        assert_eq!(
            denied(&report),
            [
                (
                    Some("no-public-buckets"),
                    "aws_s3_bucket.assets: the ACL \"public-read\" makes the bucket public; keep buckets private"
                ),
                (
                    Some("no-public-buckets"),
                    "aws_s3_bucket_public_access_block.assets: block_public_policy = false lets the bucket become public; set all four settings to true"
                ),
            ]
        );
    }

    #[test]
    fn prod_changes_come_from_tags() {
        let change = deployment("registry.example.com/shop/web:1.0", true);
        let branch = plan_input("prod", Some("refs/heads/main"), vec![change.clone()]);
        let report = evaluate_files(&examples(), &branch).expect("evaluate");
        assert_eq!(
            denied(&report),
            [(
                Some("prod-from-tags"),
                "prod changes come from release tags, but source \"apps\" is read at refs/heads/main"
            )]
        );
        // staging may deploy branches; prod with nothing to change is not held back.
        let staging = plan_input("staging", Some("refs/heads/main"), vec![change]);
        assert_eq!(
            denied(&evaluate_files(&examples(), &staging).expect("evaluate")),
            []
        );
        let nothing = plan_input("prod", Some("refs/heads/main"), vec![]);
        assert_eq!(
            denied(&evaluate_files(&examples(), &nothing).expect("evaluate")),
            []
        );
    }

    #[test]
    fn conftest_policies_in_rego_v0_and_package_main_work() {
        let v0 = (
            "old.rego".to_string(),
            "package main\n\ndeny[msg] {\n  rc := input.resource_changes[_]\n  rc.type == \"aws_s3_bucket\"\n  msg := sprintf(\"%s is a bucket\", [rc.address])\n}\n".to_string(),
        );
        let input = json!({"resource_changes": [{"address": "aws_s3_bucket.a", "type": "aws_s3_bucket", "change": {"actions": ["create"]}}]});
        let report = evaluate_files(&[v0], &input).expect("evaluate");
        assert_eq!(denied(&report), [(None, "aws_s3_bucket.a is a bucket")]);
        let broken = (
            "broken.rego".to_string(),
            "package braid\ndeny contains if {".to_string(),
        );
        let err = evaluate_files(&[broken], &input).expect_err("a syntax error");
        assert!(err.0[0].summary.contains("Invalid policy"), "{err:?}");
    }
}
