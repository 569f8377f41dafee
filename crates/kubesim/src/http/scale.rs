//! The `/scale` subresource (`autoscaling/v1` `Scale`) of Deployments, StatefulSets,
//! ReplicaSets and CRD versions declaring `subresources.scale`: GET reads the replica
//! counts and selector, PUT and PATCH write `spec.replicas` of the object — what
//! `kubectl scale` and autoscalers do.

use hyper::Method;
use hyper::body::Incoming;
use serde_json::{Value, json};

use super::resources::write_context;
use super::route::{RequestInfo, Target};
use super::{Resp, json_response, read_write_body, with_warnings};
use crate::catalogue::ScalePaths;
use crate::server::Shared;
use crate::status::{ApiError, Cause};
use crate::write::{self, Managed};

fn field<'a>(object: &'a Value, path: &str) -> &'a Value {
    path.split('.')
        .filter(|p| !p.is_empty())
        .fold(object, |v, p| &v[p])
}

fn set_field(object: &mut Value, path: &str, value: Value) {
    let parts: Vec<&str> = path.split('.').filter(|p| !p.is_empty()).collect();
    let mut current = object;
    for (i, part) in parts.iter().enumerate() {
        if !current.is_object() {
            *current = json!({});
        }
        let Some(map) = current.as_object_mut() else {
            return;
        };
        if i + 1 == parts.len() {
            map.insert((*part).to_string(), value);
            return;
        }
        current = map.entry((*part).to_string()).or_insert_with(|| json!({}));
    }
}

/// A label selector object (`matchLabels`, `matchExpressions`) in its string form.
fn selector_string(selector: &Value) -> String {
    let mut parts: Vec<String> = selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    for e in selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let key = e["key"].as_str().unwrap_or_default();
        let values: Vec<&str> = e["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        parts.push(match e["operator"].as_str().unwrap_or_default() {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            _ => format!("!{key}"),
        });
    }
    parts.join(",")
}

/// The `Scale` view of `object`.
fn scale_of(object: &Value, paths: &ScalePaths) -> Value {
    let meta = &object["metadata"];
    let selector = match &paths.label_selector {
        Some(path) => field(object, path).as_str().unwrap_or_default().to_string(),
        None => selector_string(&object["spec"]["selector"]),
    };
    let mut status =
        json!({"replicas": field(object, &paths.status_replicas).as_i64().unwrap_or(0)});
    if !selector.is_empty() {
        status["selector"] = json!(selector);
    }
    let mut metadata = json!({});
    for key in [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ] {
        if let Some(v) = meta.get(key) {
            metadata[key] = v.clone();
        }
    }
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": metadata,
        "spec": {"replicas": field(object, &paths.spec_replicas).as_i64().unwrap_or(0)},
        "status": status,
    })
}

/// Serves GET, PUT and PATCH on `.../NAME/scale`.
pub async fn handle(
    shared: &Shared,
    target: &Target,
    info: &RequestInfo,
    method: &Method,
    body: Incoming,
) -> Result<Resp, ApiError> {
    let rt = &target.rt;
    let name = target.name.clone().unwrap_or_default();
    let namespace = target.namespace.clone().unwrap_or_default();
    let paths = rt.scale.clone().ok_or_else(ApiError::path_not_found)?;
    if method == Method::GET {
        let store = shared.store();
        let object = store
            .get(&rt.key(), &namespace, &name)
            .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, &name))?;
        return Ok(json_response(200, &scale_of(object, &paths)));
    }
    if method != Method::PUT && method != Method::PATCH {
        return Err(ApiError::MethodNotAllowed(format!(
            "the server does not allow this method on the requested resource ({method})"
        )));
    }
    let mut ctx = write_context(target, info)?;
    let request = read_write_body(body, &mut ctx).await?;
    let mut store = shared.store();
    let old = store
        .get(&rt.key(), &namespace, &name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(&rt.group, &rt.plural, &name))?;
    let current = scale_of(&old, &paths);
    let wanted = if method == Method::PUT {
        if let Some(rv) = request["metadata"]["resourceVersion"].as_str()
            && !rv.is_empty()
            && Some(rv) != old["metadata"]["resourceVersion"].as_str()
        {
            return Err(ApiError::stale(&rt.group, &rt.plural, &name));
        }
        request
    } else if info.content_type.starts_with("application/json-patch+json") {
        let ops: json_patch::Patch = serde_json::from_value(request)
            .map_err(|e| ApiError::BadRequest(format!("invalid JSON patch: {e}")))?;
        let mut scale = current.clone();
        json_patch::patch(&mut scale, &ops).map_err(|e| {
            ApiError::BadRequest(format!("the JSON patch could not be applied: {e}"))
        })?;
        scale
    } else {
        // Merge, strategic merge and apply patches agree on a Scale: it has no lists.
        let mut scale = current.clone();
        json_patch::merge(&mut scale, &request);
        scale
    };
    let replicas = match &wanted["spec"]["replicas"] {
        Value::Null => 0,
        v => v.as_i64().filter(|r| *r >= 0).ok_or_else(|| {
            ApiError::invalid(
                "autoscaling",
                "Scale",
                &name,
                Cause {
                    reason: "FieldValueInvalid".into(),
                    message: format!("Invalid value: {v}: must be greater than or equal to 0"),
                    field: "spec.replicas".into(),
                },
            )
        })?,
    };
    let mut new = old.clone();
    set_field(&mut new, &paths.spec_replicas, json!(replicas));
    ctx.subresource = Some("scale".to_string());
    let updated = write::update(&mut store, &ctx, &old, new, Managed::Update)?;
    Ok(with_warnings(
        json_response(200, &scale_of(&updated, &paths)),
        &ctx,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_print_as_kubectl_reads_them() {
        let selector = json!({"matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]});
        assert_eq!(selector_string(&selector), "app=web,tier in (a,b)");
    }

    #[test]
    fn replicas_are_read_and_written_at_the_declared_paths() {
        let paths = ScalePaths {
            spec_replicas: "spec.size".into(),
            status_replicas: "status.ready".into(),
            label_selector: Some("status.selector".into()),
        };
        let mut object = json!({"metadata": {"name": "w"}, "spec": {"size": 2},
            "status": {"ready": 1, "selector": "app=w"}});
        let scale = scale_of(&object, &paths);
        assert_eq!(scale["spec"]["replicas"], 2);
        assert_eq!(scale["status"], json!({"replicas": 1, "selector": "app=w"}));
        set_field(&mut object, "spec.size", json!(5));
        assert_eq!(object["spec"]["size"], 5);
    }
}
