//! Discovery documents built from the catalogue: `/version`, `/api` (APIVersions),
//! `/apis` (APIGroupList), `/api/v1` and `/apis/GROUP/VERSION` (APIResourceList), and the
//! aggregated `apidiscovery.k8s.io/v2` lists clients ask for with an `Accept` header.

use serde_json::{Value, json};

use crate::catalogue::{Catalogue, ResourceType};

/// The Kubernetes version the emulator claims to be.
pub const VERSION_MAJOR: &str = "1";
/// Minor version reported by `/version`.
pub const VERSION_MINOR: &str = "33";

/// `/version`.
pub fn version() -> Value {
    json!({
        "major": VERSION_MAJOR,
        "minor": VERSION_MINOR,
        "emulationMajor": VERSION_MAJOR,
        "emulationMinor": VERSION_MINOR,
        "gitVersion": format!("v{VERSION_MAJOR}.{VERSION_MINOR}.0-kubesim"),
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// `/api`.
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_json(name: &str, versions: &[String]) -> Value {
    let gvs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    let preferred = gvs.first().cloned().unwrap_or(Value::Null);
    json!({"name": name, "versions": gvs, "preferredVersion": preferred})
}

/// `/apis`.
pub fn group_list(catalogue: &Catalogue) -> Value {
    let groups: Vec<Value> = catalogue
        .groups()
        .iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, vs)| group_json(g, vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/GROUP`, or None when the group is not served.
pub fn group(catalogue: &Catalogue, name: &str) -> Option<Value> {
    let (g, vs) = catalogue.groups().into_iter().find(|(g, _)| g == name)?;
    let mut doc = group_json(&g, &vs);
    if let Some(m) = doc.as_object_mut() {
        m.insert("kind".into(), json!("APIGroup"));
        m.insert("apiVersion".into(), json!("v1"));
    }
    Some(doc)
}

fn resource_entries(t: &ResourceType) -> Vec<Value> {
    let mut main = json!({
        "name": t.plural,
        "singularName": t.singular,
        "namespaced": t.namespaced,
        "kind": t.kind,
        "verbs": t.verbs,
    });
    if let Some(m) = main.as_object_mut() {
        if !t.short_names.is_empty() {
            m.insert("shortNames".into(), json!(t.short_names));
        }
        if !t.categories.is_empty() {
            m.insert("categories".into(), json!(t.categories));
        }
        m.insert(
            "storageVersionHash".into(),
            json!(format!("{:x}", hash(&t.api_version(), &t.kind))),
        );
    }
    let mut entries = vec![main];
    if t.has_status {
        entries.push(json!({
            "name": format!("{}/status", t.plural),
            "singularName": "",
            "namespaced": t.namespaced,
            "kind": t.kind,
            "verbs": ["get", "patch", "update"],
        }));
    }
    if t.scale.is_some() {
        entries.push(json!({
            "name": format!("{}/scale", t.plural),
            "singularName": "",
            "namespaced": t.namespaced,
            "group": "autoscaling",
            "version": "v1",
            "kind": "Scale",
            "verbs": ["get", "patch", "update"],
        }));
    }
    entries
}

/// FNV-1a, only to give `storageVersionHash` a stable opaque value.
fn hash(a: &str, b: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in a.bytes().chain(b.bytes()) {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// `/api/v1` or `/apis/GROUP/VERSION`, or None when not served.
pub fn resource_list(catalogue: &Catalogue, group: &str, version: &str) -> Option<Value> {
    if !catalogue.serves_group_version(group, version) {
        return None;
    }
    let resources: Vec<Value> = catalogue
        .types()
        .iter()
        .filter(|t| t.group == group && t.version == version)
        .flat_map(resource_entries)
        .collect();
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }))
}

/// Whether an `Accept` header asks for aggregated discovery.
pub fn wants_aggregated(accept: &str) -> bool {
    accept.contains("as=APIGroupDiscoveryList")
}

fn aggregated_resource(t: &ResourceType) -> Value {
    let mut r = json!({
        "resource": t.plural,
        "responseKind": {"group": t.group, "version": t.version, "kind": t.kind},
        "scope": if t.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": t.singular,
        "verbs": t.verbs,
    });
    if let Some(m) = r.as_object_mut() {
        if !t.short_names.is_empty() {
            m.insert("shortNames".into(), json!(t.short_names));
        }
        if !t.categories.is_empty() {
            m.insert("categories".into(), json!(t.categories));
        }
        let mut subresources = Vec::new();
        if t.has_status {
            subresources.push(json!({
                "subresource": "status",
                "responseKind": {"group": t.group, "version": t.version, "kind": t.kind},
                "verbs": ["get", "patch", "update"],
            }));
        }
        if t.scale.is_some() {
            subresources.push(json!({
                "subresource": "scale",
                "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
                "verbs": ["get", "patch", "update"],
            }));
        }
        if !subresources.is_empty() {
            m.insert("subresources".into(), json!(subresources));
        }
    }
    r
}

/// Aggregated discovery (`apidiscovery.k8s.io/v2` APIGroupDiscoveryList) for the core
/// group (`core = true`, served at `/api`) or all named groups (`/apis`).
pub fn aggregated(catalogue: &Catalogue, core: bool) -> Value {
    let items: Vec<Value> = catalogue
        .groups()
        .iter()
        .filter(|(g, _)| g.is_empty() == core)
        .map(|(g, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|v| {
                    let resources: Vec<Value> = catalogue
                        .types()
                        .iter()
                        .filter(|t| &t.group == g && &t.version == v)
                        .map(aggregated_resource)
                        .collect();
                    json!({"version": v, "resources": resources, "freshness": "Current"})
                })
                .collect();
            let mut metadata = json!({"creationTimestamp": null});
            if !g.is_empty() {
                metadata["name"] = json!(g);
            }
            json!({"metadata": metadata, "versions": versions})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apps_resource_list_has_status_subresources() {
        let cat = Catalogue::builtin();
        let list = resource_list(&cat, "apps", "v1").expect("apps served");
        let names: Vec<&str> = list["resources"]
            .as_array()
            .map(|a| a.iter().filter_map(|r| r["name"].as_str()).collect())
            .unwrap_or_default();
        assert!(names.contains(&"deployments"));
        assert!(names.contains(&"deployments/status"));
        assert!(resource_list(&cat, "apps", "v2").is_none());
    }

    #[test]
    fn group_list_excludes_core() {
        let cat = Catalogue::builtin();
        let list = group_list(&cat);
        let groups = list["groups"].as_array().map(Vec::len).unwrap_or(0);
        assert_eq!(groups, 9);
    }
}
