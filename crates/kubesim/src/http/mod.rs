//! The HTTP front: every request passes fault injection and the request log, then is routed
//! to discovery, the admin endpoints, or a resource handler. Responses are JSON (or a
//! newline-delimited JSON stream for watches); errors are `Status` objects.

mod admin;
mod patch;
mod resources;
mod route;
mod scale;
mod watch;

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::{Request, Response, StatusCode};
use serde_json::Value;

use crate::faults::{FaultAction, RequestRecord};
use crate::openapi::duplicate_fields;
use crate::server::Shared;
use crate::status::ApiError;
use crate::write::WriteContext;

/// Response body type: either a full JSON body or a watch stream.
pub type Body = BoxBody<Bytes, Infallible>;
/// A response.
pub type Resp = Response<Body>;

/// Returned to hyper to make it close the connection without writing a response.
#[derive(Debug, thiserror::Error)]
#[error("connection dropped by fault injection")]
pub struct DroppedConnection;

/// Query parameters (last value wins, like the real server for scalar options).
pub type Query = HashMap<String, String>;

fn parse_query(query: Option<&str>) -> Query {
    query
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// A JSON response.
pub fn json_response(code: u16, value: &Value) -> Resp {
    json_response_typed(code, value, "application/json")
}

fn json_response_typed(code: u16, value: &Value, content_type: &'static str) -> Resp {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut resp = Response::new(Full::new(Bytes::from(body)).boxed());
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// A 200 response holding `body` as `content_type`.
pub fn bytes_response(body: Vec<u8>, content_type: &'static str) -> Resp {
    let mut resp = Response::new(Full::new(Bytes::from(body)).boxed());
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// A Status error response (with `Retry-After` for 429).
pub fn error_response(err: &ApiError) -> Resp {
    let mut resp = json_response(err.code(), &err.to_status());
    if err.code() == 429 {
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
    }
    resp
}

fn injected(code: u16) -> ApiError {
    match code {
        429 => ApiError::TooManyRequests(
            "the server has received too many requests and has asked us to try again later (injected fault)".into(),
        ),
        500 => ApiError::Internal("an error on the server has prevented the request from succeeding (injected fault)".into()),
        code => ApiError::Custom {
            code,
            message: format!("injected fault: status {code}"),
        },
    }
}

/// Serves one request: admin endpoints directly, API requests through fault injection,
/// routing and the request log.
pub async fn serve(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Resp, DroppedConnection> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    if path.starts_with("/kubesim/") || path == "/kubesim" {
        return Ok(admin::handle(&shared, req).await);
    }
    let (latency, action) = shared.faults.decide(&method, &path);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let record = |status: u16| RequestRecord {
        method: method.clone(),
        path: path.clone(),
        query: query.clone(),
        status,
    };
    match action {
        FaultAction::Drop => {
            shared.log.push(record(0));
            return Err(DroppedConnection);
        }
        FaultAction::Respond(code) => {
            shared.log.push(record(code));
            return Ok(error_response(&injected(code)));
        }
        FaultAction::Pass => {}
    }
    let resp = match route::route(shared.clone(), req).await {
        Ok(resp) => resp,
        Err(err) => error_response(&err),
    };
    shared.log.push(record(resp.status().as_u16()));
    Ok(resp)
}

/// Reads a request body, parsed as JSON or (failing that) YAML.
async fn read_body(body: Incoming) -> Result<Option<Value>, ApiError> {
    parse_body(&read_bytes(body).await?)
}

/// Reads the body of a write, noting its duplicate fields in `ctx` (the write pipeline
/// reports them with the unknown ones, as `fieldValidation` asks).
async fn read_write_body(body: Incoming, ctx: &mut WriteContext) -> Result<Value, ApiError> {
    let bytes = read_bytes(body).await?;
    ctx.duplicates = duplicate_fields(&bytes);
    parse_body(&bytes)?.ok_or_else(|| ApiError::BadRequest("the request body is empty".into()))
}

async fn read_bytes(body: Incoming) -> Result<Bytes, ApiError> {
    Ok(body
        .collect()
        .await
        .map_err(|e| ApiError::BadRequest(format!("reading request body: {e}")))?
        .to_bytes())
}

fn parse_body(bytes: &[u8]) -> Result<Option<Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    match serde_json::from_slice(bytes) {
        Ok(v) => Ok(Some(v)),
        Err(json_err) => serde_yaml_ng::from_slice::<Value>(bytes)
            .map(Some)
            .map_err(|yaml_err| {
                ApiError::BadRequest(format!(
                    "the body of the request is neither JSON ({json_err}) nor YAML ({yaml_err})"
                ))
            }),
    }
}

/// Adds a `Warning: 299 - "..."` header per warning the request collected.
fn with_warnings(mut resp: Resp, ctx: &WriteContext) -> Resp {
    for warning in ctx.warnings.take() {
        let text = format!("299 - {}", serde_json::Value::String(warning));
        if let Ok(value) = HeaderValue::from_str(&text) {
            resp.headers_mut().append(hyper::header::WARNING, value);
        }
    }
    resp
}
