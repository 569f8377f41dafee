//! Admin endpoints under `/kubesim/` for CLI-level tests: read and change fault injection,
//! read and clear the request log. Never faulted, never logged.
//!
//! - `GET /kubesim/faults` — current `Faults` as JSON
//! - `POST|PUT /kubesim/faults` — replace all faults with the JSON body
//! - `DELETE /kubesim/faults` — clear all faults
//! - `POST /kubesim/faults/scripted` — append one `ScriptedFailure`
//! - `GET /kubesim/requests` — the request log; `DELETE` clears it

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Request};
use serde::de::DeserializeOwned;
use serde_json::json;

use super::{Resp, error_response, json_response};
use crate::faults::{Faults, ScriptedFailure};
use crate::server::Shared;
use crate::status::ApiError;

async fn body_json<T: DeserializeOwned>(body: Incoming) -> Result<T, ApiError> {
    let bytes = body
        .collect()
        .await
        .map_err(|e| ApiError::BadRequest(format!("reading request body: {e}")))?
        .to_bytes();
    serde_json::from_slice(&bytes).map_err(|e| ApiError::BadRequest(format!("invalid JSON: {e}")))
}

fn to_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

/// Serves one admin request.
pub async fn handle(shared: &Shared, req: Request<Incoming>) -> Resp {
    let method = req.method().clone();
    let path = req.uri().path().trim_end_matches('/').to_string();
    let body = req.into_body();
    let result = match (method, path.as_str()) {
        (Method::GET, "/kubesim/faults") => Ok(json_response(200, &to_json(&shared.faults.get()))),
        (Method::POST | Method::PUT, "/kubesim/faults") => {
            body_json::<Faults>(body).await.map(|faults| {
                shared.faults.set(faults);
                json_response(200, &to_json(&shared.faults.get()))
            })
        }
        (Method::DELETE, "/kubesim/faults") => {
            shared.faults.clear();
            Ok(json_response(200, &to_json(&shared.faults.get())))
        }
        (Method::POST, "/kubesim/faults/scripted") => {
            body_json::<ScriptedFailure>(body).await.map(|failure| {
                shared.faults.script(failure);
                json_response(200, &to_json(&shared.faults.get()))
            })
        }
        (Method::GET, "/kubesim/requests") => Ok(json_response(
            200,
            &json!({"requests": shared.log.snapshot()}),
        )),
        (Method::DELETE, "/kubesim/requests") => {
            shared.log.clear();
            Ok(json_response(200, &json!({"requests": []})))
        }
        _ => Err(ApiError::path_not_found()),
    };
    result.unwrap_or_else(|e| error_response(&e))
}
