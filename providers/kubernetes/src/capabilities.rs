//! What a cluster tells Helm's `.Capabilities`, as `helm install` asks it: the server's
//! version (`/version`) and every group/version it serves with each of its kinds
//! (`apps/v1`, `apps/v1/Deployment`), from discovery.

use std::collections::BTreeMap;

use braid_provider::Value;

use crate::settings::Settings;

/// A cluster's version and API versions.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterCapabilities {
    /// The server's `gitVersion` (`v1.33.0`).
    pub kube_version: String,
    /// Group/versions and group/version/kinds, in discovery order (`v1`, `v1/ConfigMap`,
    /// …, `apps/v1`, `apps/v1/Deployment`, …).
    pub api_versions: Vec<String>,
    /// `(group, kind)` → whether its objects are namespaced (`""` is the core group).
    pub namespaced: BTreeMap<(String, String), bool>,
}

/// A client for the cluster the `kubernetes` provider block `config` names, and its address.
async fn client_of(config: &Value) -> Result<(kube::Client, String), String> {
    let settings = Settings::from_config(config).map_err(|diagnostics| {
        diagnostics
            .first()
            .map(|d| format!("{}: {}", d.summary, d.detail))
            .unwrap_or_else(|| "the provider block is invalid".to_string())
    })?;
    settings
        .client()
        .await
        .map_err(|d| format!("{}: {}", d.summary, d.detail))
}

/// Asks the cluster the `kubernetes` provider block `config` names. Errors are one line
/// saying what failed.
pub async fn cluster_capabilities(config: &Value) -> Result<ClusterCapabilities, String> {
    let (client, server) = client_of(config).await?;
    let failed = |what: &str, e: kube::Error| format!("{server}: {what}: {e}");
    let version = client
        .apiserver_version()
        .await
        .map_err(|e| failed("/version", e))?;
    let mut api_versions = Vec::new();
    let mut namespaced = BTreeMap::new();
    let mut add =
        |group_version: &str,
         resources: k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList| {
            api_versions.push(group_version.to_string());
            let group = group_version.rsplit_once('/').map_or("", |(g, _)| g);
            for resource in resources.resources {
                // Subresources (`deployments/scale`) are not kinds of their own.
                if resource.name.contains('/') {
                    continue;
                }
                namespaced.insert(
                    (group.to_string(), resource.kind.clone()),
                    resource.namespaced,
                );
                let entry = format!("{group_version}/{}", resource.kind);
                if !api_versions.contains(&entry) {
                    api_versions.push(entry);
                }
            }
        };
    let core = client
        .list_core_api_versions()
        .await
        .map_err(|e| failed("/api", e))?;
    for version in &core.versions {
        let resources = client
            .list_core_api_resources(version)
            .await
            .map_err(|e| failed(&format!("/api/{version}"), e))?;
        add(version, resources);
    }
    let groups = client
        .list_api_groups()
        .await
        .map_err(|e| failed("/apis", e))?;
    for group in &groups.groups {
        for version in &group.versions {
            let resources = client
                .list_api_group_resources(&version.group_version)
                .await
                .map_err(|e| failed(&format!("/apis/{}", version.group_version), e))?;
            add(&version.group_version, resources);
        }
    }
    Ok(ClusterCapabilities {
        kube_version: version.git_version,
        api_versions,
        namespaced,
    })
}

/// The OpenAPI v3 document of one group/version (`/openapi/v3/apis/GROUP/VERSION`, found
/// through the `/openapi/v3` index), or `None` when the cluster lists none for it.
pub async fn openapi_v3(
    config: &Value,
    group: &str,
    version: &str,
) -> Result<Option<serde_json::Value>, String> {
    let (client, server) = client_of(config).await?;
    let get = |path: String| {
        let client = client.clone();
        let server = server.clone();
        async move {
            let request = http::Request::get(path.as_str())
                .body(Vec::new())
                .map_err(|e| format!("{server}{path}: {e}"))?;
            let text = client
                .request_text(request)
                .await
                .map_err(|e| format!("{server}{path}: {e}"))?;
            serde_json::from_str::<serde_json::Value>(&text)
                .map_err(|e| format!("{server}{path}: the answer is not JSON: {e}"))
        }
    };
    let index = get("/openapi/v3".to_string()).await?;
    let key = if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    };
    let Some(url) = index
        .get("paths")
        .and_then(|p| p.get(&key))
        .and_then(|p| p.get("serverRelativeURL"))
        .and_then(serde_json::Value::as_str)
    else {
        return Ok(None);
    };
    if !url.starts_with('/') {
        return Err(format!(
            "{server}/openapi/v3 gives \"{url}\" for {key}, which is not a path on the server"
        ));
    }
    get(url.to_string()).await.map(Some)
}
