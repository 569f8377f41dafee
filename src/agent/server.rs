//! The agent's HTTP server: the status of every environment as JSON (`/api/environments`),
//! Prometheus metrics (`/metrics`), `/healthz` and `/readyz`, a status page (`/`), and the
//! push webhooks of GitHub (`/webhooks/github`) and GitLab (`/webhooks/gitlab`), which wake
//! every environment's loop at once.
//!
//! Webhooks are refused unless `BRAID_WEBHOOK_SECRET` is set: GitHub's must carry
//! `X-Hub-Signature-256`, the HMAC-SHA256 of the body under that secret; GitLab's must
//! carry it as `X-Gitlab-Token`. Nothing served holds a secret: the status holds
//! addresses, commits and counts, never values.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use sha2::{Digest, Sha256};

use futures::StreamExt as _;

use super::{EnvironmentStatus, Shared, SyncState};
use crate::config::ServerAuth;

/// The environment variable holding the webhooks' shared secret.
pub const WEBHOOK_SECRET_ENV: &str = "BRAID_WEBHOOK_SECRET";

/// What the handlers share: the agent's status, the webhook secret and who may read.
#[derive(Clone)]
struct App {
    shared: Arc<Shared>,
    secret: Option<Arc<[u8]>>,
    auth: Arc<ServerAuth>,
}

/// The server's routes over `shared`: the read-only ones (behind `auth` when braid.hcl's
/// `server` block sets it), the probes, and with `webhooks` the push webhooks, verified
/// with `secret` (none: refused).
pub fn router(
    shared: Arc<Shared>,
    webhooks: bool,
    secret: Option<Vec<u8>>,
    auth: ServerAuth,
) -> Router {
    let app = App {
        shared,
        secret: secret.filter(|s| !s.is_empty()).map(Into::into),
        auth: Arc::new(auth),
    };
    let protected = Router::new()
        .route("/", get(page))
        .route("/metrics", get(metrics))
        .route("/api/environments", get(environments))
        .route("/api/environments/{name}", get(environment))
        .route("/environments/{name}", get(environment_page))
        .route("/environments/{name}/fragment", get(environment_fragment))
        .route("/api/events", get(events))
        .route_layer(axum::middleware::from_fn_with_state(app.clone(), authorize));
    let open = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready));
    let open = if webhooks {
        open.route("/webhooks/github", post(github))
            .route("/webhooks/gitlab", post(gitlab))
    } else {
        open
    };
    protected.merge(open).with_state(app)
}

/// Lets a request through when braid.hcl asks nothing, or when it carries the bearer token
/// or the basic-auth user and password the `server` block sets.
async fn authorize(
    State(app): State<App>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if !app.auth.enabled() || allowed(&app.auth, request.headers()) {
        return next.run(request).await;
    }
    let mut response = (
        StatusCode::UNAUTHORIZED,
        "refused: this server wants the token, or the user and password, of braid.hcl's server block\n",
    )
        .into_response();
    if app.auth.basic.is_some() {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Basic realm=\"braid\", charset=\"UTF-8\""),
        );
    }
    response
}

/// Whether `headers` carry credentials `auth` accepts; empty ones match nothing.
fn allowed(auth: &ServerAuth, headers: &HeaderMap) -> bool {
    use base64::Engine as _;
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    if let (Some(token), Some(bearer)) = (&auth.token, given.strip_prefix("Bearer ")) {
        return !token.is_empty() && constant_time_eq(bearer.trim().as_bytes(), token.as_bytes());
    }
    if let (Some((user, password)), Some(basic)) = (&auth.basic, given.strip_prefix("Basic ")) {
        let expected = format!("{user}:{password}");
        return !user.is_empty()
            && !password.is_empty()
            && base64::engine::general_purpose::STANDARD
                .decode(basic.trim())
                .is_ok_and(|decoded| constant_time_eq(&decoded, expected.as_bytes()));
    }
    false
}

/// `GET /api/events`: server-sent events, at once and each time an environment's status
/// changes — `status` (the `/api/environments` document) and `rows` (the page's table
/// rows, which the page swaps in). Ends when the server stops.
async fn events(
    State(app): State<App>,
) -> axum::response::sse::Sse<
    impl futures::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    let changed = app.shared.changed.subscribe();
    let stream = futures::stream::unfold(
        (changed, app.shared, true),
        |(mut changed, shared, first)| async move {
            if !first {
                tokio::select! {
                    moved = changed.changed() => moved.ok()?,
                    () = shared.cancel.cancelled() => return None,
                }
            }
            let environments = shared.snapshot();
            let events = vec![
                Ok(Event::default()
                    .event("status")
                    .data(serde_json::json!({ "environments": environments }).to_string())),
                Ok(Event::default()
                    .event("rows")
                    .data(rows_html(&environments))),
            ];
            Some((futures::stream::iter(events), (changed, shared, false)))
        },
    )
    .flatten();
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Serves `router` on `listener` until `shared.cancel` is raised.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shared: Arc<Shared>,
) -> std::io::Result<()> {
    let cancel = shared.cancel.clone();
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { cancel.cancelled().await })
        .await
}

async fn ready(State(app): State<App>) -> Response {
    if app.shared.ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: not every environment has finished its first cycle\n",
        )
            .into_response()
    }
}

async fn environments(State(app): State<App>) -> Response {
    axum::Json(serde_json::json!({ "environments": app.shared.snapshot() })).into_response()
}

async fn environment(State(app): State<App>, Path(name): Path<String>) -> Response {
    match app.shared.snapshot().into_iter().find(|e| e.name == name) {
        Some(status) => axum::Json(status).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({
                "error": format!("this agent does not reconcile an environment named {name:?}")
            })),
        )
            .into_response(),
    }
}

/// Every health a resource can have, for the metric.
const HEALTH_STATES: [braid_provider::HealthStatus; 5] = [
    braid_provider::HealthStatus::Healthy,
    braid_provider::HealthStatus::Progressing,
    braid_provider::HealthStatus::Degraded,
    braid_provider::HealthStatus::Missing,
    braid_provider::HealthStatus::Unknown,
];

/// Prometheus' text format; every metric is prefixed `braid_` and labelled by environment.
async fn metrics(State(app): State<App>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics_text(&app.shared.snapshot()),
    )
        .into_response()
}

/// The metrics of `environments` in Prometheus' text format.
pub fn metrics_text(environments: &[EnvironmentStatus]) -> String {
    let mut out = String::new();
    fn family(out: &mut String, name: &str, kind: &str, help: &str, rows: Vec<(String, String)>) {
        let _ = writeln!(
            out,
            "# HELP braid_{name} {help}\n# TYPE braid_{name} {kind}"
        );
        for (labels, value) in rows {
            let _ = writeln!(out, "braid_{name}{{{labels}}} {value}");
        }
    }
    let env = |e: &EnvironmentStatus| format!("env=\"{}\"", e.name);
    family(
        &mut out,
        "environment_status",
        "gauge",
        "1 for the state each environment is in, 0 for the others.",
        environments
            .iter()
            .flat_map(|e| {
                SyncState::ALL.iter().map(move |s| {
                    (
                        format!("env=\"{}\",status=\"{}\"", e.name, s.as_str()),
                        u8::from(e.sync == *s).to_string(),
                    )
                })
            })
            .collect(),
    );
    let _ = writeln!(
        out,
        "# HELP braid_reconcile_duration_seconds Time spent in reconcile cycles.\n# TYPE braid_reconcile_duration_seconds summary"
    );
    for e in environments {
        let _ = writeln!(
            out,
            "braid_reconcile_duration_seconds_sum{{{}}} {}\nbraid_reconcile_duration_seconds_count{{{}}} {}",
            env(e),
            e.total_duration_seconds,
            env(e),
            e.reconciles
        );
    }
    family(
        &mut out,
        "environment_owned",
        "gauge",
        "1 when this replica reconciles the environment (it holds the lease), else 0.",
        environments
            .iter()
            .map(|e| (env(e), u8::from(e.owned).to_string()))
            .collect(),
    );
    family(
        &mut out,
        "reconcile_failures",
        "gauge",
        "Failed reconcile cycles in a row.",
        environments
            .iter()
            .map(|e| (env(e), e.failures.to_string()))
            .collect(),
    );
    family(
        &mut out,
        "applies_total",
        "counter",
        "Applies the agent made, by outcome.",
        environments
            .iter()
            .flat_map(|e| {
                [
                    (
                        format!("{},outcome=\"succeeded\"", env(e)),
                        e.applies_succeeded.to_string(),
                    ),
                    (
                        format!("{},outcome=\"failed\"", env(e)),
                        e.applies_failed.to_string(),
                    ),
                ]
            })
            .collect(),
    );
    family(
        &mut out,
        "drifted_resources",
        "gauge",
        "Resources whose live object differed from state at the last plan.",
        environments
            .iter()
            .map(|e| (env(e), e.drifted.len().to_string()))
            .collect(),
    );
    family(
        &mut out,
        "resources",
        "gauge",
        "Resources in state by the health of their object at the last plan.",
        environments
            .iter()
            .flat_map(|e| {
                HEALTH_STATES.iter().map(move |h| {
                    (
                        format!("env=\"{}\",health=\"{}\"", e.name, h.as_str()),
                        e.resources
                            .iter()
                            .filter(|r| r.health == *h)
                            .count()
                            .to_string(),
                    )
                })
            })
            .collect(),
    );
    family(
        &mut out,
        "pending_changes",
        "gauge",
        "Changes planned and not applied (out of sync or drifted).",
        environments
            .iter()
            .map(|e| (env(e), e.pending.len().to_string()))
            .collect(),
    );
    family(
        &mut out,
        "last_successful_apply_timestamp_seconds",
        "gauge",
        "When the environment's last successful apply finished (Unix time).",
        environments
            .iter()
            .filter_map(|e| {
                let last = e.last_apply.as_ref()?;
                let finished = last.finished_at.filter(|_| last.outcome == "succeeded")?;
                Some((env(e), finished.timestamp().to_string()))
            })
            .collect(),
    );
    out
}

/// GitHub: `X-Hub-Signature-256: sha256=HEX` over the body; `ping` is answered, `push`
/// wakes the loops.
async fn github(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = &app.secret else {
        return not_configured();
    };
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("sha256="))
        .and_then(|v| hex::decode(v).ok());
    let valid = signature.is_some_and(|s| constant_time_eq(&s, &hmac_sha256(secret, &body)));
    if !valid {
        return refused("the X-Hub-Signature-256 header is missing or does not match the body");
    }
    match headers.get("x-github-event").and_then(|v| v.to_str().ok()) {
        Some("push") => woken(&app),
        Some("ping") => (StatusCode::OK, "pong\n").into_response(),
        other => (
            StatusCode::ACCEPTED,
            format!("ignored: event {other:?} is not a push\n"),
        )
            .into_response(),
    }
}

/// GitLab: `X-Gitlab-Token` is the secret; `Push Hook` and `Tag Push Hook` wake the loops.
async fn gitlab(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some(secret) = &app.secret else {
        return not_configured();
    };
    let token = headers
        .get("x-gitlab-token")
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !constant_time_eq(token, secret) {
        return refused("the X-Gitlab-Token header is missing or wrong");
    }
    match headers.get("x-gitlab-event").and_then(|v| v.to_str().ok()) {
        Some("Push Hook" | "Tag Push Hook") => woken(&app),
        other => (
            StatusCode::ACCEPTED,
            format!("ignored: event {other:?} is not a push\n"),
        )
            .into_response(),
    }
}

fn woken(app: &App) -> Response {
    tracing::info!("push webhook: every environment is reconciled now");
    app.shared.wake_all();
    (StatusCode::ACCEPTED, "reconciling\n").into_response()
}

fn not_configured() -> Response {
    (
        StatusCode::FORBIDDEN,
        format!("webhooks are refused: set {WEBHOOK_SECRET_ENV} for the agent, and the same secret in the webhook\n"),
    )
        .into_response()
}

fn refused(why: &str) -> Response {
    tracing::warn!(why, "webhook refused");
    (StatusCode::UNAUTHORIZED, format!("refused: {why}\n")).into_response()
}

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// Whether `a` equals `b`, taking the same time wherever they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The status page: every environment, refreshed by the browser every few seconds.
async fn page(State(app): State<App>) -> Html<String> {
    Html(page_html(&app.shared.snapshot()))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn commits(sources: &[super::SourceCommit]) -> String {
    sources
        .iter()
        .map(|s| format!("{} <code>{}</code>", escape(&s.name), escape(&s.short())))
        .collect::<Vec<_>>()
        .join("<br>")
}

/// The table rows of the page for `environments`.
pub fn rows_html(environments: &[EnvironmentStatus]) -> String {
    let mut rows = String::new();
    for e in environments {
        let last = e
            .last_apply
            .as_ref()
            .map(|a| {
                format!(
                    "{} by {} at {} ({})",
                    escape(&a.operation),
                    escape(&a.actor),
                    a.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    escape(&a.outcome)
                )
            })
            .unwrap_or_else(|| "never".to_string());
        let _ = writeln!(
            rows,
            "<tr class=\"{status}\" id=\"env-{name}\"><td><a href=\"environments/{name}\">{name}</a></td><td class=\"status\">{status}</td><td>{deployed}</td><td>{sources}</td><td>{last}</td><td>{pending}</td><td>{owner}</td><td>{error}</td></tr>",
            name = escape(&e.name),
            status = e.sync.as_str(),
            deployed = commits(&e.deployed),
            sources = commits(&e.sources),
            pending = e.pending.len(),
            owner = match (&e.owner, e.owned) {
                (_, true) => "this replica".to_string(),
                (Some(other), false) => escape(other),
                (None, false) => "nobody yet".to_string(),
            },
            error = e.last_error.as_deref().map(escape).unwrap_or_default(),
        );
    }
    rows
}

async fn environment_page(State(app): State<App>, Path(name): Path<String>) -> Response {
    match app.shared.snapshot().into_iter().find(|e| e.name == name) {
        Some(status) => Html(environment_html(&status)).into_response(),
        None => (StatusCode::NOT_FOUND, "no such environment\n").into_response(),
    }
}

async fn environment_fragment(State(app): State<App>, Path(name): Path<String>) -> Response {
    match app.shared.snapshot().into_iter().find(|e| e.name == name) {
        Some(status) => Html(environment_body(&status)).into_response(),
        None => (StatusCode::NOT_FOUND, "no such environment\n").into_response(),
    }
}

/// One environment's details: its resources with their health, drift and pending change,
/// then its history with each apply's changes and diff.
pub fn environment_body(e: &EnvironmentStatus) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<p>status <b class=\"status\">{}</b> · deployed {} · sources now {}</p>",
        e.sync.as_str(),
        commits(&e.deployed),
        commits(&e.sources)
    );
    out.push_str("<h2>Resources</h2><table id=\"resources\"><thead><tr><th>resource</th><th>type</th><th>health</th><th>drift</th><th>pending</th></tr></thead><tbody>");
    for r in &e.resources {
        let _ = write!(
            out,
            "<tr class=\"{health}\"><td>{address}</td><td>{type_name}</td><td class=\"health\">{health}{message}</td><td>{drift}</td><td>{pending}</td></tr>",
            health = r.health.as_str(),
            address = escape(&r.address),
            type_name = escape(&r.type_name),
            message = r
                .message
                .as_deref()
                .map(|m| format!(": {}", escape(m)))
                .unwrap_or_default(),
            drift = if r.drifted { "drifted" } else { "" },
            pending = r.pending.as_deref().map(escape).unwrap_or_default(),
        );
    }
    out.push_str("</tbody></table><h2>History</h2><div id=\"history\">");
    if e.history.is_empty() {
        out.push_str("<p>No apply yet.</p>");
    }
    for h in &e.history {
        let a = &h.apply;
        let _ = write!(
            out,
            "<details class=\"apply\" id=\"apply-{id}\"><summary>#{id} {op} by {actor} at {at} · {outcome} · +{c} ~{u} ±{r} -{d} · {sources}</summary>",
            id = a.id,
            op = escape(&a.operation),
            actor = escape(&a.actor),
            at = a.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
            outcome = escape(&a.outcome),
            c = a.summary.create,
            u = a.summary.update,
            r = a.summary.replace,
            d = a.summary.delete,
            sources = commits(&h.sources),
        );
        out.push_str("<ul>");
        for c in &h.changes {
            let _ = write!(
                out,
                "<li>{} {} — {}{}</li>",
                escape(&c.action),
                escape(&c.address),
                escape(&c.outcome),
                c.message
                    .as_deref()
                    .map(|m| format!(": {}", escape(m)))
                    .unwrap_or_default()
            );
        }
        out.push_str("</ul>");
        if let Some(diff) = &h.diff {
            let _ = write!(out, "<pre class=\"diff\">{}</pre>", escape(diff));
        }
        out.push_str("</details>");
    }
    out.push_str("</div>");
    out
}

/// The page of one environment, following `/api/events` without a reload.
pub fn environment_html(e: &EnvironmentStatus) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>braid · {name}</title>\
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}\
.healthy .health{{color:#1a7f37}}.progressing .health{{color:#9a6700}}.degraded .health,.missing .health{{color:#cf222e}}pre.diff{{background:#f6f8fa;padding:.6em;overflow-x:auto}}</style></head>\
<body><p><a href=\"../\">all environments</a></p><h1>{name}</h1><main id=\"environment\">{body}</main>\n\
<script>\n\
const events = new EventSource('../api/events');\n\
events.addEventListener('status', () => fetch('{name}/fragment').then(r => r.text()).then(h => {{ document.getElementById('environment').innerHTML = h; }}));\n\
</script></body></html>\n",
        name = escape(&e.name),
        body = environment_body(e)
    )
}

/// The page's HTML for `environments`: the table, kept up to date by the events of
/// `/api/events` without a reload (with scripts off, the page reloads every 10 seconds).
pub fn page_html(environments: &[EnvironmentStatus]) -> String {
    let rows = rows_html(environments);
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><noscript><meta http-equiv=\"refresh\" content=\"10\"></noscript><title>braid agent</title>\
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}\
.synced .status{{color:#1a7f37}}.out_of_sync .status,.drifted .status,.applying .status{{color:#9a6700}}.failed .status{{color:#cf222e}}#live{{color:#666;font-size:.9em}}</style></head>\
<body><h1>braid agent</h1><p id=\"live\">connecting…</p><table><thead><tr><th>environment</th><th>status</th><th>deployed</th><th>sources now</th><th>last apply</th><th>pending changes</th><th>reconciled by</th><th>last error</th></tr></thead><tbody id=\"environments\">\n{rows}</tbody></table>\n\
<script>\n\
const live = document.getElementById('live');\n\
const events = new EventSource('api/events');\n\
events.addEventListener('rows', e => {{ document.getElementById('environments').innerHTML = e.data; live.textContent = 'live, updated ' + new Date().toLocaleTimeString(); }});\n\
events.onerror = () => {{ live.textContent = 'disconnected: retrying'; }};\n\
</script></body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231, test case 2.
    #[test]
    fn hmac_matches_the_rfc_test_vector() {
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let long_key = [0xaau8; 131];
        assert_eq!(
            hex::encode(hmac_sha256(
                &long_key,
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn metrics_name_every_state_of_every_environment() {
        let mut status = EnvironmentStatus::new("staging");
        status.sync = SyncState::OutOfSync;
        status.reconciles = 3;
        let text = metrics_text(&[status]);
        assert!(
            text.contains("braid_environment_status{env=\"staging\",status=\"out_of_sync\"} 1")
        );
        assert!(text.contains("braid_environment_status{env=\"staging\",status=\"synced\"} 0"));
        assert!(text.contains("braid_reconcile_duration_seconds_count{env=\"staging\"} 3"));
        assert!(text.contains("# TYPE braid_applies_total counter"));
    }
}
