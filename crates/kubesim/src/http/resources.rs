//! Handlers for get, list, create, replace (PUT), delete and deletecollection.

use base64::Engine as _;
use hyper::body::Incoming;
use serde_json::{Value, json};

use super::route::{RequestInfo, Target};
use super::{Resp, json_response, read_body, read_write_body, with_warnings};
use crate::catalogue::ResourceType;
use crate::delete::{self, DeleteOptions, DeleteOutcome};
use crate::openapi::FieldValidation;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::server::Shared;
use crate::status::{self, ApiError};
use crate::write::{self, Managed, WriteContext};

/// How an object leaves the server: with the apiVersion of the version requested (custom
/// resources may be served at several versions from one stored object).
pub fn present(rt: &ResourceType, object: &Value) -> Value {
    let mut out = object.clone();
    if let Some(m) = out.as_object_mut() {
        m.insert("apiVersion".into(), json!(rt.api_version()));
    }
    out
}

fn wants_metadata_only(info: &RequestInfo) -> bool {
    info.accept.contains("as=PartialObjectMetadata")
}

fn partial_metadata(object: &Value) -> Value {
    json!({
        "apiVersion": "meta.k8s.io/v1",
        "kind": "PartialObjectMetadata",
        "metadata": object["metadata"],
    })
}

/// Builds the write context (field manager, dry-run) for a request.
pub fn write_context(target: &Target, info: &RequestInfo) -> Result<WriteContext, ApiError> {
    let dry_run = match info.query.get("dryRun").map(String::as_str) {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "dryRun: Unsupported value: \"{other}\": supported values: \"All\""
            )));
        }
    };
    let manager = match info.query.get("fieldManager") {
        Some(m) if m.len() > 128 => {
            return Err(ApiError::BadRequest(
                "fieldManager: Too long: may not be longer than 128 bytes".into(),
            ));
        }
        Some(m) if !m.is_empty() => m.clone(),
        _ => default_manager(&info.user_agent),
    };
    let field_validation =
        FieldValidation::parse(info.query.get("fieldValidation").map(String::as_str))
            .map_err(ApiError::BadRequest)?;
    Ok(WriteContext {
        rt: target.rt.clone(),
        namespace: target.namespace.clone().unwrap_or_default(),
        manager,
        subresource: target.subresource.clone(),
        dry_run,
        field_validation,
        warnings: Default::default(),
        duplicates: Vec::new(),
    })
}

/// The real server names an unnamed manager after the user agent's program name.
fn default_manager(user_agent: &str) -> String {
    let program = user_agent.split('/').next().unwrap_or_default().trim();
    if program.is_empty() {
        "unknown".to_string()
    } else {
        program.to_string()
    }
}

/// GET of one object.
pub fn get(shared: &Shared, target: &Target, info: &RequestInfo) -> Result<Resp, ApiError> {
    let name = target.name.as_deref().unwrap_or_default();
    let store = shared.store();
    let object = store
        .get(
            &target.rt.key(),
            target.namespace.as_deref().unwrap_or_default(),
            name,
        )
        .ok_or_else(|| ApiError::not_found(&target.rt.group, &target.rt.plural, name))?;
    let out = if wants_metadata_only(info) {
        partial_metadata(object)
    } else {
        present(&target.rt, object)
    };
    Ok(json_response(200, &out))
}

/// Objects matching a request's namespace and selectors, with the store's resourceVersion.
pub fn matching(
    shared: &Shared,
    target: &Target,
    info: &RequestInfo,
) -> Result<(Vec<Value>, u64), ApiError> {
    let labels = LabelSelector::parse(info.query.get("labelSelector").map_or("", String::as_str))?;
    let fields = FieldSelector::parse(info.query.get("fieldSelector").map_or("", String::as_str))?;
    let store = shared.store();
    let objects = store
        .list(&target.rt.key(), target.namespace.as_deref())
        .into_iter()
        .filter(|o| labels.matches(o) && fields.matches(o))
        .cloned()
        .collect();
    Ok((objects, store.current_rv()))
}

fn object_key(object: &Value) -> String {
    format!(
        "{}/{}",
        object["metadata"]["namespace"].as_str().unwrap_or_default(),
        object["metadata"]["name"].as_str().unwrap_or_default()
    )
}

/// LIST, with `limit`/`continue` paging.
pub fn list(shared: &Shared, target: &Target, info: &RequestInfo) -> Result<Resp, ApiError> {
    let (mut objects, rv) = matching(shared, target, info)?;
    if let Some(token) = info.query.get("continue").filter(|t| !t.is_empty()) {
        let after = base64::engine::general_purpose::STANDARD
            .decode(token)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| ApiError::BadRequest("continue key is not valid".into()))?;
        objects.retain(|o| object_key(o) > after);
    }
    let limit = info
        .query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0);
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if let Some(limit) = limit
        && objects.len() > limit
    {
        let remaining = objects.len() - limit;
        objects.truncate(limit);
        let last = objects.last().map(object_key).unwrap_or_default();
        metadata["continue"] = json!(base64::engine::general_purpose::STANDARD.encode(last));
        metadata["remainingItemCount"] = json!(remaining);
    }
    let body = if wants_metadata_only(info) {
        json!({
            "apiVersion": "meta.k8s.io/v1",
            "kind": "PartialObjectMetadataList",
            "metadata": metadata,
            "items": objects.iter().map(partial_metadata).collect::<Vec<_>>(),
        })
    } else {
        json!({
            "apiVersion": target.rt.api_version(),
            "kind": format!("{}List", target.rt.kind),
            "metadata": metadata,
            "items": objects.iter().map(|o| present(&target.rt, o)).collect::<Vec<_>>(),
        })
    };
    Ok(json_response(200, &body))
}

/// POST to a collection.
pub async fn create(
    shared: &Shared,
    target: &Target,
    info: &RequestInfo,
    body: Incoming,
) -> Result<Resp, ApiError> {
    let mut ctx = write_context(target, info)?;
    let body = read_write_body(body, &mut ctx).await?;
    let created = {
        let mut store = shared.store();
        write::create(&mut store, &ctx, body, Managed::Update)?
    };
    Ok(with_warnings(
        json_response(201, &present(&target.rt, &created)),
        &ctx,
    ))
}

/// PUT of one object (or its status).
pub async fn replace(
    shared: &Shared,
    target: &Target,
    info: &RequestInfo,
    body: Incoming,
) -> Result<Resp, ApiError> {
    let name = target.name.clone().unwrap_or_default();
    let mut ctx = write_context(target, info)?;
    let mut body = read_write_body(body, &mut ctx).await?;
    let body_name = body["metadata"]["name"].as_str().unwrap_or_default();
    if body_name != name {
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    if let Some(ns) = body["metadata"]["namespace"].as_str()
        && target.rt.namespaced
        && !ns.is_empty()
        && Some(ns) != target.namespace.as_deref()
    {
        return Err(ApiError::BadRequest(
            "the namespace of the provided object does not match the namespace sent on the request"
                .into(),
        ));
    }
    if let Some(meta) = body["metadata"].as_object_mut() {
        // Clients echo managedFields back; the server recomputes them.
        meta.remove("managedFields");
    }
    let updated = {
        let mut store = shared.store();
        let old = store
            .get(&target.rt.key(), &ctx.namespace, &name)
            .cloned()
            .ok_or_else(|| ApiError::not_found(&target.rt.group, &target.rt.plural, &name))?;
        write::update(&mut store, &ctx, &old, body, Managed::Update)?
    };
    Ok(with_warnings(
        json_response(200, &present(&target.rt, &updated)),
        &ctx,
    ))
}

fn delete_options(info: &RequestInfo, body: Option<&Value>) -> DeleteOptions {
    let body = body.cloned().unwrap_or(Value::Null);
    let text = |v: &Value| v.as_str().map(str::to_string);
    DeleteOptions {
        propagation: info
            .query
            .get("propagationPolicy")
            .cloned()
            .or_else(|| text(&body["propagationPolicy"]))
            .or_else(|| match body["orphanDependents"].as_bool() {
                Some(true) => Some("Orphan".into()),
                _ => None,
            }),
        precondition_uid: text(&body["preconditions"]["uid"]),
        precondition_rv: text(&body["preconditions"]["resourceVersion"]),
    }
}

fn dry_run_in_body(body: Option<&Value>) -> bool {
    body.and_then(|b| b["dryRun"].as_array())
        .is_some_and(|d| d.iter().any(|v| v == "All"))
}

/// DELETE of one object.
pub async fn delete(
    shared: &Shared,
    target: &Target,
    info: &RequestInfo,
    body: Incoming,
) -> Result<Resp, ApiError> {
    let body = read_body(body).await?;
    let name = target.name.clone().unwrap_or_default();
    let mut ctx = write_context(target, info)?;
    ctx.dry_run |= dry_run_in_body(body.as_ref());
    let opts = delete_options(info, body.as_ref());
    let outcome = {
        let mut store = shared.store();
        delete::delete(&mut store, &ctx, &name, &opts)?
    };
    Ok(match outcome {
        DeleteOutcome::Pending(object) => json_response(200, &present(&target.rt, &object)),
        DeleteOutcome::Deleted(object) => json_response(
            200,
            &status::delete_success(
                &target.rt.group,
                &target.rt.plural,
                &name,
                object["metadata"]["uid"].as_str().unwrap_or_default(),
            ),
        ),
    })
}

/// DELETE of a collection (selectors apply).
pub async fn delete_collection(
    shared: &Shared,
    target: &Target,
    info: &RequestInfo,
    body: Incoming,
) -> Result<Resp, ApiError> {
    let body = read_body(body).await?;
    let mut ctx = write_context(target, info)?;
    ctx.dry_run |= dry_run_in_body(body.as_ref());
    let opts = delete_options(info, body.as_ref());
    let (objects, _) = matching(shared, target, info)?;
    let mut deleted = Vec::new();
    {
        let mut store = shared.store();
        for object in objects {
            let name = object["metadata"]["name"].as_str().unwrap_or_default();
            let ns = object["metadata"]["namespace"].as_str().unwrap_or_default();
            let mut item_ctx = ctx.clone();
            item_ctx.namespace = ns.to_string();
            match delete::delete(&mut store, &item_ctx, name, &opts) {
                Ok(DeleteOutcome::Pending(o) | DeleteOutcome::Deleted(o)) => {
                    deleted.push(present(&target.rt, &o));
                }
                // Deleted meanwhile (e.g. by garbage collection of an earlier item).
                Err(ApiError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    let rv = shared.store().current_rv();
    Ok(json_response(
        200,
        &json!({
            "apiVersion": target.rt.api_version(),
            "kind": format!("{}List", target.rt.kind),
            "metadata": {"resourceVersion": rv.to_string()},
            "items": deleted,
        }),
    ))
}
