//! Request routing: discovery paths, and resource paths
//! (`/api/v1/[namespaces/NS/]RESOURCE[/NAME[/SUBRESOURCE]]`, the same under
//! `/apis/GROUP/VERSION`, and the legacy `/watch/` prefix) mapped to a verb handler.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::{ACCEPT, CONTENT_TYPE, USER_AGENT};
use hyper::{Method, Request};

use super::{
    Query, Resp, bytes_response, json_response, json_response_typed, parse_query, patch, resources,
    scale, watch,
};
use crate::catalogue::ResourceType;
use crate::discovery;
use crate::openapi;
use crate::server::Shared;
use crate::status::ApiError;

/// The media type of `/openapi/v2` in protobuf, as client-go asks for it.
const OPENAPI_V2_PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
/// The media type the server answers it with (Go's media type parser refuses the `@`).
const OPENAPI_V2_PROTOBUF_REPLY: &str =
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// What a resource path addresses.
#[derive(Debug, Clone)]
pub struct Target {
    /// The resource type.
    pub rt: ResourceType,
    /// Namespace from the path (None for cluster-scoped or all-namespaces requests).
    pub namespace: Option<String>,
    /// Object name.
    pub name: Option<String>,
    /// `status` or `scale` for those subresources.
    pub subresource: Option<String>,
    /// Legacy `/watch/` path prefix.
    pub watch_prefix: bool,
}

/// Request details handlers need besides the target.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// Parsed query.
    pub query: Query,
    /// `Content-Type` header.
    pub content_type: String,
    /// `Accept` header.
    pub accept: String,
    /// `User-Agent` header.
    pub user_agent: String,
}

/// Routes a request to its handler.
pub async fn route(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Resp, ApiError> {
    let (parts, body) = req.into_parts();
    let header = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &hyper::header::HeaderValue| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let info = RequestInfo {
        query: parse_query(parts.uri.query()),
        content_type: header(CONTENT_TYPE),
        accept: header(ACCEPT),
        user_agent: header(USER_AGENT),
    };
    let path = parts.uri.path().to_string();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let get = parts.method == Method::GET;
    let aggregated = discovery::wants_aggregated(&info.accept);
    match segments.as_slice() {
        ["version"] if get => Ok(json_response(200, &discovery::version())),
        ["healthz" | "readyz" | "livez"] if get => Ok(json_response(200, &serde_json::json!("ok"))),
        ["api"] if get => {
            if aggregated {
                let doc = discovery::aggregated(&shared.store().catalogue, true);
                Ok(json_response_typed(200, &doc, AGGREGATED_CONTENT_TYPE))
            } else {
                Ok(json_response(
                    200,
                    &discovery::core_versions(&shared.address),
                ))
            }
        }
        ["apis"] if get => {
            let store = shared.store();
            if aggregated {
                let doc = discovery::aggregated(&store.catalogue, false);
                Ok(json_response_typed(200, &doc, AGGREGATED_CONTENT_TYPE))
            } else {
                Ok(json_response(200, &discovery::group_list(&store.catalogue)))
            }
        }
        ["openapi", "v2"] if get => {
            let (catalogue, crds) = catalogue_and_crds(&shared);
            let crds: Vec<&serde_json::Value> = crds.iter().collect();
            let doc = openapi::v2_document(&catalogue, &crds);
            if info.accept.contains(OPENAPI_V2_PROTOBUF) {
                Ok(bytes_response(
                    openapi::proto::encode_v2(&doc),
                    OPENAPI_V2_PROTOBUF_REPLY,
                ))
            } else {
                Ok(json_response(200, &doc))
            }
        }
        ["openapi", "v3"] if get => Ok(json_response(
            200,
            &openapi::v3_index(&shared.store().catalogue),
        )),
        ["openapi", "v3", "api", version] if get => openapi_v3(&shared, "", version),
        ["openapi", "v3", "apis", group, version] if get => openapi_v3(&shared, group, version),
        ["apis", group] if get => discovery::group(&shared.store().catalogue, group)
            .map(|doc| json_response(200, &doc))
            .ok_or_else(ApiError::path_not_found),
        ["api", "v1", rest @ ..] => {
            resource(shared, "", "v1", rest, parts.method, body, info).await
        }
        ["apis", group, version, rest @ ..] => {
            let (group, version) = (group.to_string(), version.to_string());
            resource(shared, &group, &version, rest, parts.method, body, info).await
        }
        _ => Err(ApiError::path_not_found()),
    }
}

fn parse_target(
    shared: &Shared,
    group: &str,
    version: &str,
    rest: &[&str],
) -> Result<Target, ApiError> {
    let (watch_prefix, rest) = match rest.split_first() {
        Some((&"watch", tail)) => (true, tail),
        _ => (false, rest),
    };
    let namespaced_path = rest.first() == Some(&"namespaces")
        && rest.len() >= 3
        && !(group.is_empty() && rest.len() == 3 && matches!(rest[2], "status" | "finalize"));
    let (namespace, rest) = if namespaced_path {
        (Some(rest[1].to_string()), &rest[2..])
    } else {
        (None, rest)
    };
    if rest.is_empty() || rest.len() > 3 {
        return Err(ApiError::path_not_found());
    }
    let rt = shared
        .store()
        .catalogue
        .find(group, version, rest[0])
        .cloned()
        .ok_or_else(ApiError::path_not_found)?;
    let name = rest.get(1).map(|s| s.to_string());
    let subresource = rest.get(2).map(|s| s.to_string());
    if namespace.is_some() && !rt.namespaced {
        return Err(ApiError::path_not_found());
    }
    if rt.namespaced && namespace.is_none() && name.is_some() {
        return Err(ApiError::path_not_found());
    }
    match subresource.as_deref() {
        None => {}
        Some("status") if rt.has_status => {}
        Some("scale") if rt.scale.is_some() => {}
        // Namespace finalize is served like a main-resource update of spec.finalizers.
        Some("finalize") if rt.kind == "Namespace" && rt.builtin => {}
        Some(_) => return Err(ApiError::path_not_found()),
    }
    Ok(Target {
        rt,
        namespace,
        name,
        subresource: subresource.filter(|s| s != "finalize"),
        watch_prefix,
    })
}

fn is_watch(target: &Target, info: &RequestInfo) -> bool {
    target.watch_prefix
        || matches!(
            info.query.get("watch").map(String::as_str),
            Some("true" | "1")
        )
}

async fn resource(
    shared: Arc<Shared>,
    group: &str,
    version: &str,
    rest: &[&str],
    method: Method,
    body: Incoming,
    info: RequestInfo,
) -> Result<Resp, ApiError> {
    if rest.is_empty() {
        if method != Method::GET {
            return Err(ApiError::MethodNotAllowed(
                "only GET is allowed on discovery".into(),
            ));
        }
        let store = shared.store();
        return discovery::resource_list(&store.catalogue, group, version)
            .map(|doc| json_response(200, &doc))
            .ok_or_else(ApiError::path_not_found);
    }
    let target = parse_target(&shared, group, version, rest)?;
    let watching = is_watch(&target, &info);
    let verb = match (&method, target.name.is_some()) {
        (&Method::GET, false) if watching => "watch",
        (&Method::GET, true) if watching => "watch",
        (&Method::GET, false) => "list",
        (&Method::GET, true) => "get",
        (&Method::POST, false) => "create",
        (&Method::PUT, true) => "update",
        (&Method::PATCH, true) => "patch",
        (&Method::DELETE, true) => "delete",
        (&Method::DELETE, false) => "deletecollection",
        _ => "",
    };
    if verb.is_empty() || !target.rt.allows(verb) {
        return Err(ApiError::MethodNotAllowed(format!(
            "the server does not allow this method on the requested resource ({method})"
        )));
    }
    if target.rt.namespaced
        && target.namespace.is_none()
        && matches!(verb, "create" | "deletecollection")
    {
        return Err(ApiError::MethodNotAllowed(format!(
            "{verb} of {} requires a namespace in the path",
            target.rt.plural
        )));
    }
    if target.subresource.as_deref() == Some("scale") {
        return scale::handle(&shared, &target, &info, &method, body).await;
    }
    match verb {
        "watch" => watch::serve(shared, target, &info),
        "list" => resources::list(&shared, &target, &info),
        "get" => resources::get(&shared, &target, &info),
        "create" => resources::create(&shared, &target, &info, body).await,
        "update" => resources::replace(&shared, &target, &info, body).await,
        "patch" => patch::patch(&shared, &target, &info, body).await,
        "delete" => resources::delete(&shared, &target, &info, body).await,
        _ => resources::delete_collection(&shared, &target, &info, body).await,
    }
}

/// The served types and the CRDs, copied so that documents are built without holding the
/// store (the first build also generates every built-in schema).
fn catalogue_and_crds(shared: &Shared) -> (crate::catalogue::Catalogue, Vec<serde_json::Value>) {
    let store = shared.store();
    let crds = store.crds().into_iter().cloned().collect();
    (store.catalogue.clone(), crds)
}

fn openapi_v3(shared: &Shared, group: &str, version: &str) -> Result<Resp, ApiError> {
    let (catalogue, crds) = catalogue_and_crds(shared);
    let crds: Vec<&serde_json::Value> = crds.iter().collect();
    openapi::v3_document(&catalogue, &crds, group, version)
        .map(|doc| json_response(200, &doc))
        .ok_or_else(ApiError::path_not_found)
}
