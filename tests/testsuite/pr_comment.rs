//! `braid plan --comment` (issue #17): the plan's Markdown posted on the pull request
//! (GitHub) or merge request (GitLab), found again by its marker and updated in place —
//! against a local server that answers as the two APIs do.

use std::collections::BTreeMap;
use std::io::BufReader;
use std::sync::{Arc, Mutex};

use crate::common::Project;

/// One request the fake forge got: method, path (with query) and headers.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

/// Comments per thread (the list URL's path without its query), and what was asked.
#[derive(Default)]
struct Forge {
    threads: BTreeMap<String, Vec<(u64, String)>>,
    next_id: u64,
    seen: Vec<Seen>,
}

/// A fake GitHub/GitLab API on 127.0.0.1: lists, creates and edits comments (GitHub:
/// `/repos/O/N/issues/N/comments`, `PATCH /repos/O/N/issues/comments/ID`; GitLab:
/// `/api/v4/projects/P/merge_requests/N/notes`, `PUT .../notes/ID`). Any path under
/// `/repos/acme/forbidden/` is answered 403.
fn fake_forge(seed: &[(&str, &str)]) -> (String, Arc<Mutex<Forge>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    let state = Arc::new(Mutex::new(Forge {
        next_id: 100,
        ..Forge::default()
    }));
    {
        let mut forge = state.lock().expect("forge");
        for (thread, body) in seed {
            let id = forge.next_id;
            forge.next_id += 1;
            forge
                .threads
                .entry((*thread).to_string())
                .or_default()
                .push((id, (*body).to_string()));
        }
    }
    let shared = Arc::clone(&state);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { break };
            let mut reader = BufReader::new(stream);
            let Some(request) = crate::common::read_http_request(&mut reader) else {
                continue;
            };
            let (method, path, headers) = (request.method, request.path, request.headers);
            let body = request.body;
            let body: serde_json::Value =
                serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
            let (status, answer) = {
                let mut forge = shared.lock().expect("forge");
                forge.seen.push(Seen {
                    method: method.clone(),
                    path: path.clone(),
                    headers,
                });
                respond(&mut forge, &method, &path, &body)
            };
            crate::common::write_http_response(reader.get_mut(), status, &answer.to_string());
        }
    });
    (address, state)
}

fn respond(
    forge: &mut Forge,
    method: &str,
    path: &str,
    body: &serde_json::Value,
) -> (&'static str, serde_json::Value) {
    let path = path.split('?').next().unwrap_or_default();
    if path.starts_with("/repos/acme/forbidden/") {
        return (
            "403 Forbidden",
            serde_json::json!({"message": "Resource not accessible by integration"}),
        );
    }
    let text = body["body"].as_str().unwrap_or_default().to_string();
    match method {
        "GET" => {
            let list: Vec<serde_json::Value> = forge
                .threads
                .get(path)
                .into_iter()
                .flatten()
                .map(|(id, body)| serde_json::json!({"id": id, "body": body}))
                .collect();
            ("200 OK", serde_json::Value::from(list))
        }
        "POST" => {
            let id = forge.next_id;
            forge.next_id += 1;
            forge
                .threads
                .entry(path.to_string())
                .or_default()
                .push((id, text.clone()));
            ("201 Created", serde_json::json!({"id": id, "body": text}))
        }
        "PATCH" | "PUT" => {
            let id: u64 = path
                .rsplit('/')
                .next()
                .and_then(|i| i.parse().ok())
                .unwrap_or_default();
            for comments in forge.threads.values_mut() {
                for (existing, body) in comments.iter_mut() {
                    if *existing == id {
                        *body = text.clone();
                        return ("200 OK", serde_json::json!({"id": id, "body": text}));
                    }
                }
            }
            ("404 Not Found", serde_json::json!({"message": "Not Found"}))
        }
        _ => ("405 Method Not Allowed", serde_json::json!({})),
    }
}

fn project() -> Project {
    Project::with_files(&[(
        "main.hcl",
        "resource \"local_file\" \"motd\" {\n  filename = \"out/motd\"\n  content  = \"hello\"\n}\n",
    )])
}

const GITHUB_THREAD: &str = "/repos/acme/infra/issues/7/comments";

#[test]
fn the_plan_comment_is_created_then_updated_on_a_github_pull_request() {
    let (address, forge) = fake_forge(&[(GITHUB_THREAD, "LGTM, but see the plan")]);
    let project = project();
    let api = format!("http://{address}");
    let actions = [
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_REPOSITORY", "acme/infra"),
        ("GITHUB_REF", "refs/pull/7/merge"),
        ("GITHUB_TOKEN", "gh-secret-token"),
        ("GITHUB_API_URL", api.as_str()),
    ];
    let first = project.braid_env(&["plan", "--comment"], &actions);
    first.success();
    assert!(
        first
            .stderr
            .contains("Posted the plan on pull request #7 of acme/infra (comment 101)."),
        "{}",
        first.all()
    );
    let body =
        |forge: &Arc<Mutex<Forge>>| forge.lock().expect("forge").threads[GITHUB_THREAD].clone();
    let comments = body(&forge);
    assert_eq!(comments.len(), 2, "{comments:?}");
    assert!(
        comments[1].1.starts_with("<!-- braid-plan -->")
            && comments[1].1.contains("local_file.motd"),
        "{comments:?}"
    );

    project.write(
        "main.hcl",
        "resource \"local_file\" \"banner\" {\n  filename = \"out/banner\"\n  content  = \"hi\"\n}\n",
    );
    let second = project.braid_env(&["plan", "--comment"], &actions);
    second.success();
    assert!(
        second
            .stderr
            .contains("Updated the plan comment on pull request #7 of acme/infra (comment 101)."),
        "{}",
        second.all()
    );
    let comments = body(&forge);
    assert_eq!(comments.len(), 2, "one plan comment, updated: {comments:?}");
    assert_eq!(
        comments[0].1, "LGTM, but see the plan",
        "other comments are left alone"
    );
    assert!(
        comments[1].1.contains("local_file.banner") && !comments[1].1.contains("local_file.motd")
    );
    let seen = forge.lock().expect("forge").seen.clone();
    assert!(
        seen.iter()
            .any(|s| s.method == "PATCH" && s.path == "/repos/acme/infra/issues/comments/101")
    );
    assert!(
        seen.iter().all(|s| s
            .headers
            .iter()
            .any(|(n, v)| n == "authorization" && v == "Bearer gh-secret-token")),
        "{seen:#?}"
    );
    for run in [&first, &second] {
        assert!(!run.all().contains("gh-secret-token"), "{}", run.all());
    }

    // A plan that fails replaces the comment with its errors (and the command fails).
    project.write(
        "main.hcl",
        "resource \"local_file\" \"banner\" {\n  filename = local_file.missing.filename\n  content  = \"hi\"\n}\n",
    );
    let broken = project.braid_env(&["plan", "--comment"], &actions);
    broken.expect_code(1);
    let comments = body(&forge);
    assert_eq!(comments.len(), 2, "{comments:?}");
    assert!(
        comments[1].1.starts_with("<!-- braid-plan -->")
            && comments[1].1.contains("failed")
            && comments[1].1.contains("local_file.missing")
            && comments[1].1.contains("main.hcl:2"),
        "{}",
        comments[1].1
    );

    // What goes wrong is said, with exit 1: no token, an API that refuses.
    let no_token: Vec<(&str, &str)> = actions
        .iter()
        .copied()
        .filter(|(k, _)| *k != "GITHUB_TOKEN")
        .collect();
    let run = project.braid_env(&["plan", "--comment"], &no_token);
    run.expect_code(1);
    assert!(run.stderr.contains("set GITHUB_TOKEN"), "{}", run.stderr);
    let run = project.braid_env(
        &["plan", "--comment", "--comment-repo", "acme/forbidden"],
        &actions,
    );
    run.expect_code(1);
    assert!(
        run.stderr.contains("pull request #7 of acme/forbidden")
            && run
                .stderr
                .contains("403 Forbidden: Resource not accessible by integration"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_plan_comment_goes_on_a_gitlab_merge_request_with_flags() {
    let thread = "/api/v4/projects/group%2Finfra/merge_requests/3/notes";
    let (address, forge) = fake_forge(&[]);
    let project = project();
    let api = format!("http://{address}/api/v4");
    let args = [
        "plan",
        "--comment",
        "--comment-on",
        "gitlab",
        "--comment-repo",
        "group/infra",
        "--comment-pr",
        "3",
        "--comment-api",
        api.as_str(),
    ];
    let env = [("GITLAB_TOKEN", "gl-secret-token")];
    let first = project.braid_env(&args, &env);
    first.success();
    assert!(
        first
            .stderr
            .contains("Posted the plan on merge request !3 of group/infra (comment 100)."),
        "{}",
        first.all()
    );
    let second = project.braid_env(&args, &env);
    second.success();
    assert!(
        second
            .stderr
            .contains("Updated the plan comment on merge request !3"),
        "{}",
        second.all()
    );
    let forge = forge.lock().expect("forge");
    assert_eq!(forge.threads[thread].len(), 1, "{:?}", forge.threads);
    assert!(
        forge
            .seen
            .iter()
            .any(|s| s.method == "PUT" && s.path == format!("{thread}/100"))
    );
    assert!(forge.seen.iter().all(|s| {
        s.headers
            .iter()
            .any(|(n, v)| n == "private-token" && v == "gl-secret-token")
    }));
}

/// The infra repository of the reviewed-plan tests: `out/page.txt` holds `content`.
fn page_repo(content: &str) -> braid_testkit::GitRepo {
    let repo = braid_testkit::GitRepo::init();
    repo.write("main.hcl", &page_hcl(content));
    repo.commit_all("page");
    repo
}

fn page_hcl(content: &str) -> String {
    format!(
        "resource \"local_file\" \"page\" {{\n  filename = \"out/page.txt\"\n  content  = \"{content}\"\n}}\n"
    )
}

/// Commits `content` on a new branch `name` off main, then goes back to main.
fn branch(repo: &braid_testkit::GitRepo, name: &str, content: &str) {
    repo.git(&["checkout", "--quiet", "-b", name, "main"]);
    repo.write("main.hcl", &page_hcl(content));
    repo.commit_all(name);
    repo.git(&["checkout", "--quiet", "main"]);
}

/// A squash merge of `name` into main: a new commit, the branch's files.
fn squash(repo: &braid_testkit::GitRepo, name: &str) {
    repo.git(&["merge", "--quiet", "--squash", name]);
    repo.commit_all(&format!("{name} (squashed)"));
}

/// `braid plan` of staging at `reference`, stored for review and commented on pull request
/// `number` of acme/infra on the forge at `api`.
fn review_plan_args<'a>(api: &'a str, reference: &'a str, number: &'a str) -> Vec<&'a str> {
    vec![
        "--env",
        "staging",
        "plan",
        "--ref",
        reference,
        "--out",
        "--comment",
        "--comment-on",
        "github",
        "--comment-repo",
        "acme/infra",
        "--comment-api",
        api,
        "--comment-pr",
        number,
    ]
}

#[test]
fn the_reviewed_plan_is_applied_after_the_merge_or_refused_on_the_pull_request() {
    let (address, forge) = fake_forge(&[]);
    let api = format!("http://{address}");
    let repo = page_repo("v1");
    let project = Project::with_files(&[(
        "braid.hcl",
        &format!(
            "source \"infra\" {{\n  repo = \"{}\"\n  ref  = \"main\"\n}}\n\nenvironment \"staging\" {{}}\n",
            repo.hcl_path()
        ),
    )]);
    let token = [("GITHUB_TOKEN", "gh-secret-token")];
    project
        .braid(&["--env", "staging", "apply", "--auto-approve"])
        .success();
    assert_eq!(project.read("out/page.txt"), "v1");
    let thread = |n: u64| format!("/repos/acme/infra/issues/{n}/comments");
    let comments = |n: u64| {
        forge
            .lock()
            .expect("forge")
            .threads
            .get(&thread(n))
            .cloned()
            .unwrap_or_default()
    };

    // Pull request #7: v2, planned on the branch and stored for review with the comment.
    branch(&repo, "feature", "v2");
    let args = review_plan_args(&api, "infra=feature", "7");
    let planned = project.braid_env(&args, &token);
    planned.success();
    assert!(
        planned
            .stderr
            .contains("Stored the plan of staging in its state backend for review")
            && planned
                .stderr
                .contains("braid apply --env staging --reviewed"),
        "{}",
        planned.all()
    );
    let plan_comment = &comments(7)[0].1;
    assert!(
        plan_comment.starts_with("<!-- braid-plan -->")
            && plan_comment.contains("local_file.page")
            && plan_comment.contains("Stored as the reviewed plan"),
        "{plan_comment}"
    );
    // Nothing applied yet: the plan only waits.
    assert_eq!(project.read("out/page.txt"), "v1");

    // Squash-merged: another commit, the same files. The reviewed plan is applied and its
    // outcome posted on the pull request it came from (no --comment-pr needed).
    squash(&repo, "feature");
    let applied = project.braid_env(
        &["--env", "staging", "apply", "--reviewed", "--comment"],
        &[
            ("GITHUB_TOKEN", "gh-secret-token"),
            ("GITHUB_API_URL", "http://127.0.0.1:9"),
        ],
    );
    applied.success();
    assert_eq!(project.read("out/page.txt"), "v2");
    assert!(
        applied
            .stderr
            .contains("Applying the plan reviewed for staging (stored by test-actor"),
        "{}",
        applied.all()
    );
    let answer = &comments(7)[1].1;
    assert!(
        answer.starts_with("<!-- braid-apply -->")
            && answer.contains("Applied the reviewed plan: 0 created, 1 updated"),
        "{answer}"
    );
    // The audit log records the merge commit, not the pull request's.
    let history = project.braid(&["--env", "staging", "history", "--format", "json"]);
    history.success();
    let main_commit = repo.git(&["rev-parse", "HEAD"]);
    assert!(history.stdout.contains(&main_commit), "{}", history.stdout);
    // Applied once: it is gone, and the same command now refuses.
    let again = project.braid(&["--env", "staging", "apply", "--reviewed"]);
    again.expect_code(1);
    assert!(
        again.stderr.contains("No reviewed plan"),
        "{}",
        again.stderr
    );

    // Pull request #8 (v3) is reviewed, but something else is applied first: its plan is
    // stale, and the refusal goes to #8.
    branch(&repo, "feature2", "v3");
    let args = review_plan_args(&api, "infra=feature2", "8");
    project.braid_env(&args, &token).success();
    branch(&repo, "hotfix", "v2-hotfix");
    project
        .braid(&[
            "--env",
            "staging",
            "apply",
            "--auto-approve",
            "--ref",
            "infra=hotfix",
        ])
        .success();
    squash(&repo, "feature2");
    let stale = project.braid_env(
        &["--env", "staging", "apply", "--reviewed", "--comment"],
        &token,
    );
    stale.expect_code(1);
    assert!(
        stale.stderr.contains("Reviewed plan is stale")
            && stale.stderr.contains("something was applied since"),
        "{}",
        stale.all()
    );
    assert_eq!(project.read("out/page.txt"), "v2-hotfix", "nothing applied");
    let refusal = &comments(8)[1].1;
    assert!(
        refusal.starts_with("<!-- braid-apply -->")
            && refusal.contains("refused")
            && refusal.contains("Reviewed plan is stale"),
        "{refusal}"
    );

    // main moves to files nobody planned: refused, and without --comment nothing is posted.
    repo.write("main.hcl", &page_hcl("unreviewed"));
    repo.commit_all("direct push");
    let before = forge.lock().expect("forge").seen.len();
    let unreviewed = project.braid(&["--env", "staging", "apply", "--reviewed"]);
    unreviewed.expect_code(1);
    assert!(
        unreviewed.stderr.contains("No reviewed plan")
            && unreviewed.stderr.contains("infra at commit"),
        "{}",
        unreviewed.stderr
    );
    assert_eq!(forge.lock().expect("forge").seen.len(), before);
    assert_eq!(project.read("out/page.txt"), "v2-hotfix");
    for run in [&planned, &applied, &stale] {
        assert!(!run.all().contains("gh-secret-token"), "{}", run.all());
    }
    // Flags that make no sense together are refused.
    let run = project.braid(&["--env", "staging", "apply", "--comment"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("--comment without --reviewed"),
        "{}",
        run.stderr
    );
    let run = project.braid(&[
        "--env",
        "staging",
        "apply",
        "--reviewed",
        "--target",
        "local_file.page",
    ]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("Targeting a reviewed plan"),
        "{}",
        run.stderr
    );
}
