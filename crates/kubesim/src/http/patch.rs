//! PATCH: JSON patch, JSON merge patch, strategic merge patch and server-side apply, chosen
//! by `Content-Type` as the real server does.

use hyper::body::Incoming;
use serde_json::{Value, json};

use super::resources::{present, write_context};
use super::route::{RequestInfo, Target};
use super::{Resp, json_response, read_write_body, with_warnings};
use crate::apply::{self, ApplyRequest, conflict_report};
use crate::managed_fields;
use crate::openapi::{UnknownFields, prune};
use crate::status::{ApiError, Cause, Subject};
use crate::strategic::strategic_merge;
use crate::write::{self, Managed, now};

const ACCEPTED: &str =
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";

/// Handles PATCH on one object or its status.
pub async fn patch(
    shared: &crate::server::Shared,
    target: &Target,
    info: &RequestInfo,
    body: Incoming,
) -> Result<Resp, ApiError> {
    let content_type = info
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    let name = target.name.clone().unwrap_or_default();
    let mut ctx = write_context(target, info)?;
    let patch = read_write_body(body, &mut ctx).await?;
    let rt = &target.rt;

    if content_type == "application/apply-patch+yaml" {
        return server_side_apply(shared, target, info, &ctx, &name, patch)
            .map(|resp| with_warnings(resp, &ctx));
    }
    let mut store = shared.store();
    let old = store
        .get(&rt.key(), &ctx.namespace, &name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, &name))?;
    let mut new = old.clone();
    match content_type.as_str() {
        "application/json-patch+json" => {
            let ops: json_patch::Patch = serde_json::from_value(patch)
                .map_err(|e| ApiError::BadRequest(format!("invalid JSON patch: {e}")))?;
            json_patch::patch(&mut new, &ops).map_err(|e| {
                ApiError::invalid(
                    &rt.group,
                    &rt.kind,
                    &name,
                    Cause {
                        reason: "FieldValueInvalid".into(),
                        message: format!("the JSON patch could not be applied: {e}"),
                        field: String::new(),
                    },
                )
            })?;
        }
        "application/merge-patch+json" => json_patch::merge(&mut new, &patch),
        "application/strategic-merge-patch+json" if rt.builtin => {
            strategic_merge(&rt.kind, &mut new, &patch);
        }
        other => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "the body of the request was in an unknown format ({other}) - accepted media types include: {ACCEPTED}{}",
                if rt.builtin {
                    ", application/strategic-merge-patch+json"
                } else {
                    ""
                }
            )));
        }
    }
    if let Some(meta) = new["metadata"].as_object_mut() {
        // managedFields in a patch are not a way to change ownership here.
        meta.remove("managedFields");
        if let Some(mf) = old["metadata"].get("managedFields") {
            meta.insert("managedFields".into(), mf.clone());
        }
    }
    let updated = write::update(&mut store, &ctx, &old, new, Managed::Update)?;
    Ok(with_warnings(
        json_response(200, &present(rt, &updated)),
        &ctx,
    ))
}

fn server_side_apply(
    shared: &crate::server::Shared,
    target: &Target,
    info: &RequestInfo,
    ctx: &write::WriteContext,
    name: &str,
    mut applied: Value,
) -> Result<Resp, ApiError> {
    let rt = &target.rt;
    if info.query.get("fieldManager").is_none_or(String::is_empty) {
        return Err(ApiError::Invalid {
            subject: Subject {
                group: "meta.k8s.io".into(),
                kind: "PatchOptions".into(),
                name: String::new(),
            },
            causes: vec![Cause {
                reason: "FieldValueRequired".into(),
                message: "Required value: is required for apply patch".into(),
                field: "fieldManager".into(),
            }],
        });
    }
    let force = matches!(
        info.query.get("force").map(String::as_str),
        Some("true" | "1")
    );
    if applied["apiVersion"].as_str().is_none_or(str::is_empty)
        || applied["kind"].as_str().is_none_or(str::is_empty)
    {
        return Err(ApiError::BadRequest(
            "apiVersion and kind must be set in an apply configuration".into(),
        ));
    }
    write::check_type(ctx, &mut applied)?;
    let body_name = applied["metadata"]["name"].as_str().unwrap_or_default();
    if !body_name.is_empty() && body_name != name {
        return Err(ApiError::BadRequest(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    if let Some(ns) = applied["metadata"]["namespace"].as_str()
        && rt.namespaced
        && !ns.is_empty()
        && ns != ctx.namespace
    {
        return Err(ApiError::BadRequest(
            "the namespace of the provided object does not match the namespace sent on the request"
                .into(),
        ));
    }
    if let Some(meta) = applied["metadata"].as_object_mut() {
        meta.insert("name".into(), json!(name));
        meta.remove("managedFields");
    }
    let mut store = shared.store();
    let crds = store.crds();
    let unknown = prune(rt, &crds, &mut applied);
    ctx.report_fields(
        &UnknownFields {
            unknown,
            duplicate: ctx.duplicates.clone(),
        },
        || {
            format!(
                "failed to create typed patch object ({}/{name}; {}, Kind={})",
                ctx.namespace,
                rt.api_version(),
                rt.kind
            )
        },
    )?;
    // Reported once: the write below finds nothing more to say.
    let ctx = &write::WriteContext {
        duplicates: Vec::new(),
        ..ctx.clone()
    };
    let live = store.get(&rt.key(), &ctx.namespace, name).cloned();
    if live.is_none() && ctx.subresource.is_some() {
        return Err(ApiError::not_found(&rt.group, &rt.plural, name));
    }
    let now = now();
    let request = ApplyRequest {
        shape: ctx.shape(),
        manager: &ctx.manager,
        api_version: &rt.api_version(),
        subresource: ctx.subresource.as_deref(),
        scope: ctx.scope(),
        force,
        now: &now,
    };
    let base = live.clone().unwrap_or_else(|| json!({}));
    let entries = managed_fields::read(&base);
    let result = apply::apply(request, &base, entries, &applied).map_err(|conflicts| {
        let (message, causes) = conflict_report(&conflicts);
        ApiError::Conflict {
            subject: Subject {
                group: rt.group.clone(),
                kind: rt.plural.clone(),
                name: name.to_string(),
            },
            message,
            causes,
        }
    })?;
    match live {
        Some(old) => {
            let updated = write::update(
                &mut store,
                ctx,
                &old,
                result.object,
                Managed::Apply(result.entries),
            )?;
            Ok(json_response(200, &present(rt, &updated)))
        }
        None => {
            let created = write::create(
                &mut store,
                ctx,
                result.object,
                Managed::Apply(result.entries),
            )?;
            Ok(json_response(201, &present(rt, &created)))
        }
    }
}
