//! The `paths` of OpenAPI documents: one path item per collection, object and subresource
//! of a served type, with the operations and query parameters the emulator accepts.

use serde_json::{Map, Value, json};

use super::{SCALE, V2_REF_PREFIX, V3_REF_PREFIX};
use crate::catalogue::ResourceType;

/// What one operation does: HTTP method, `x-kubernetes-action`, operation id verb.
#[derive(Debug, Clone, Copy)]
struct Op {
    method: &'static str,
    action: &'static str,
    verb: &'static str,
    writes: bool,
    body: bool,
}

const COLLECTION: &[Op] = &[
    Op {
        method: "get",
        action: "list",
        verb: "list",
        writes: false,
        body: false,
    },
    Op {
        method: "post",
        action: "post",
        verb: "create",
        writes: true,
        body: true,
    },
    Op {
        method: "delete",
        action: "deletecollection",
        verb: "deleteCollection",
        writes: false,
        body: false,
    },
];
const ITEM: &[Op] = &[
    Op {
        method: "get",
        action: "get",
        verb: "read",
        writes: false,
        body: false,
    },
    Op {
        method: "put",
        action: "put",
        verb: "replace",
        writes: true,
        body: true,
    },
    Op {
        method: "patch",
        action: "patch",
        verb: "patch",
        writes: true,
        body: true,
    },
    Op {
        method: "delete",
        action: "delete",
        verb: "delete",
        writes: false,
        body: false,
    },
];
/// A subresource (`/status`, `/scale`) has the object's operations but delete.
const SUBRESOURCE: &[Op] = ITEM.split_at(3).0;

/// Query parameters of writes, with the descriptions the server gives them.
const WRITE_PARAMETERS: &[(&str, &str)] = &[
    (
        "dryRun",
        "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed",
    ),
    (
        "fieldManager",
        "fieldManager is a name associated with the actor or entity that is making these changes.",
    ),
    (
        "fieldValidation",
        "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn (the default) - Strict",
    ),
];

/// `AppsV1`, `CoreV1`, `RbacAuthorizationV1`, `ExampleComV1`: the group/version part of
/// an operation id.
fn group_version_id(group: &str, version: &str) -> String {
    let group = if group.is_empty() {
        "core"
    } else {
        group.strip_suffix(".k8s.io").unwrap_or(group)
    };
    let mut out = String::new();
    for part in group.split('.').chain([version]) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

fn reference(definition: &str, v3: bool) -> Value {
    let prefix = if v3 { V3_REF_PREFIX } else { V2_REF_PREFIX };
    json!({"$ref": format!("{prefix}{definition}")})
}

fn query_parameter(name: &str, description: &str, kind: &str, v3: bool) -> Value {
    if v3 {
        json!({"name": name, "in": "query", "description": description,
               "schema": {"type": kind, "uniqueItems": true}})
    } else {
        json!({"name": name, "in": "query", "description": description,
               "type": kind, "uniqueItems": true})
    }
}

fn path_parameter(name: &str, description: &str, v3: bool) -> Value {
    if v3 {
        json!({"name": name, "in": "path", "required": true, "description": description,
               "schema": {"type": "string", "uniqueItems": true}})
    } else {
        json!({"name": name, "in": "path", "required": true, "description": description,
               "type": "string", "uniqueItems": true})
    }
}

/// The object schema a response or body holds.
fn operation(op: &Op, id: String, gvk: &Value, schema: &Value, v3: bool) -> Value {
    let mut parameters = Vec::new();
    if op.writes {
        for (name, description) in WRITE_PARAMETERS {
            parameters.push(query_parameter(name, description, "string", v3));
        }
        if op.method == "patch" {
            parameters.push(query_parameter(
                "force",
                "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people.",
                "boolean",
                v3,
            ));
        }
    }
    let mut out = json!({
        "description": format!("{} the specified object", op.verb),
        "operationId": id,
        "x-kubernetes-action": op.action,
        "x-kubernetes-group-version-kind": gvk,
    });
    let patch_types = [
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
        "application/apply-patch+yaml",
    ];
    if v3 {
        out["responses"] = json!({"200": {"description": "OK",
            "content": {"application/json": {"schema": schema}}}});
        if op.body {
            let body_schema = if op.method == "patch" {
                json!({"type": "object"})
            } else {
                schema.clone()
            };
            let mut content = Map::new();
            let types: Vec<&str> = if op.method == "patch" {
                patch_types.to_vec()
            } else {
                vec!["*/*"]
            };
            for t in types {
                content.insert(t.to_string(), json!({"schema": body_schema}));
            }
            out["requestBody"] = json!({"content": content, "required": true});
        }
    } else {
        out["responses"] = json!({"200": {"description": "OK", "schema": schema}});
        out["produces"] = json!(["application/json", "application/yaml"]);
        if op.body {
            let body_schema = if op.method == "patch" {
                json!({"type": "object"})
            } else {
                schema.clone()
            };
            parameters.push(json!({"name": "body", "in": "body", "required": true,
                                   "schema": body_schema}));
            if op.method == "patch" {
                out["consumes"] = json!(patch_types);
            }
        }
    }
    out["parameters"] = Value::Array(parameters);
    out
}

/// Adds the path items of `rt` (schema `definition`) to `paths`.
pub fn add(paths: &mut Map<String, Value>, rt: &ResourceType, definition: &str, v3: bool) {
    let prefix = if rt.group.is_empty() {
        format!("/api/{}", rt.version)
    } else {
        format!("/apis/{}/{}", rt.group, rt.version)
    };
    let scope = if rt.namespaced { "Namespaced" } else { "" };
    let collection = if rt.namespaced {
        format!("{prefix}/namespaces/{{namespace}}/{}", rt.plural)
    } else {
        format!("{prefix}/{}", rt.plural)
    };
    let gv_id = group_version_id(&rt.group, &rt.version);
    let gvk = json!({"group": rt.group, "kind": rt.kind, "version": rt.version});
    let schema = reference(definition, v3);
    let mut common = Vec::new();
    if rt.namespaced {
        common.push(path_parameter(
            "namespace",
            "object name and auth scope, such as for teams and projects",
            v3,
        ));
    }
    let item_parameters = {
        let mut p = vec![path_parameter(
            "name",
            &format!("name of the {}", rt.kind),
            v3,
        )];
        p.extend(common.iter().cloned());
        p
    };
    let mut add_item = |path: String,
                        ops: &[Op],
                        suffix: &str,
                        parameters: &[Value],
                        gvk: &Value,
                        schema: &Value| {
        let mut item = Map::new();
        for op in ops {
            let id = format!("{}{gv_id}{scope}{}{suffix}", op.verb, rt.kind);
            item.insert(op.method.to_string(), operation(op, id, gvk, schema, v3));
        }
        item.insert("parameters".into(), Value::Array(parameters.to_vec()));
        paths.insert(path, Value::Object(item));
    };
    let collection_ops: Vec<Op> = COLLECTION
        .iter()
        .filter(|op| {
            rt.allows(if op.action == "post" {
                "create"
            } else {
                op.action
            })
        })
        .copied()
        .collect();
    add_item(
        collection.clone(),
        &collection_ops,
        "",
        &common,
        &gvk,
        &schema,
    );
    let item = format!("{collection}/{{name}}");
    add_item(item.clone(), ITEM, "", &item_parameters, &gvk, &schema);
    if rt.has_status {
        add_item(
            format!("{item}/status"),
            SUBRESOURCE,
            "Status",
            &item_parameters,
            &gvk,
            &schema,
        );
    }
    if rt.scale.is_some() {
        let scale_gvk = json!({"group": "autoscaling", "kind": "Scale", "version": "v1"});
        add_item(
            format!("{item}/scale"),
            SUBRESOURCE,
            "Scale",
            &item_parameters,
            &scale_gvk,
            &reference(SCALE, v3),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_ids_follow_the_server() {
        assert_eq!(group_version_id("", "v1"), "CoreV1");
        assert_eq!(group_version_id("apps", "v1"), "AppsV1");
        assert_eq!(
            group_version_id("rbac.authorization.k8s.io", "v1"),
            "RbacAuthorizationV1"
        );
        assert_eq!(
            group_version_id("example.com", "v1alpha1"),
            "ExampleComV1alpha1"
        );
    }
}
