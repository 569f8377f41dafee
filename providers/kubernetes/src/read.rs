//! Reading live objects: refresh of a recorded state, and import by id.

use braid_provider::{
    ImportRequest, ImportResponse, ProviderDiagnostic, ReadDataRequest, ReadDataResponse,
    ReadRequest, ReadResponse, Value,
};

use crate::cluster::Cluster;
use crate::object::ObjectRef;

/// The live object projected onto braid's fields; `None` when it is gone.
pub async fn read(cluster: &Cluster, request: ReadRequest) -> ReadResponse {
    let current = request.current;
    let fail = |current, diagnostic: ProviderDiagnostic| ReadResponse {
        state: Some(current),
        diagnostics: vec![diagnostic],
    };
    let object = match ObjectRef::from_manifest(&current) {
        Ok(object) => object,
        Err(e) => return fail(current, e.to_diagnostic()),
    };
    let kind = match cluster.kind(&object.gvk()).await {
        Ok(Some(kind)) => kind,
        // Not served: the CRD is gone, and with it every object of the kind.
        Ok(None) => return ReadResponse::default(),
        Err(e) => return fail(current, e.to_diagnostic()),
    };
    let object = object.scoped(kind.namespaced, &cluster.settings.namespace);
    let found = cluster.get(&kind, &object).await;
    if let Ok(live) = &found {
        cluster.remember_refreshed(&object, live.is_some());
    }
    match found {
        Ok(Some(live)) => ReadResponse {
            state: Some(cluster.refreshed_state(&object, &live, &current)),
            diagnostics: Vec::new(),
        },
        // Deleted by its own policy after it ran (a Helm hook): recorded, not drifted.
        Ok(None) if crate::hooks::deletes_itself(&current) => ReadResponse {
            state: Some(current),
            diagnostics: Vec::new(),
        },
        Ok(None) => ReadResponse::default(),
        Err(e) => fail(current, e.to_diagnostic()),
    }
}

/// Adopts an object by id: `GROUP/VERSION/KIND/NAMESPACE/NAME` or the address form
/// `k8s/GROUP/KIND/NAMESPACE/NAME` (the server's preferred version). The state holds what
/// braid owns of it, which is nothing until the first apply: the next plan shows every
/// configured field as a change.
pub async fn import(cluster: &Cluster, request: ImportRequest) -> ImportResponse {
    let fail = |diagnostic| ImportResponse {
        state: None,
        diagnostics: vec![diagnostic],
    };
    let (mut object, versioned) = match ObjectRef::parse_id(&request.id) {
        Ok(parsed) => parsed,
        Err(e) => return fail(e.to_diagnostic()),
    };
    if !versioned {
        match cluster.preferred_version(&object.group, &object.kind).await {
            Ok(Some(version)) => object.version = version,
            Ok(None) => return fail(not_served(&object)),
            Err(e) => return fail(e.to_diagnostic()),
        }
    }
    match find(cluster, object).await {
        Ok((object, Some(live))) => ImportResponse {
            state: Some(cluster.state_of(&object, &live, true)),
            diagnostics: Vec::new(),
        },
        Ok((object, None)) => fail(ProviderDiagnostic::error(
            "Object to import not found",
            format!(
                "There is no {object} in the cluster. Check the id \"{}\".",
                request.id
            ),
        )),
        Err(d) => fail(d),
    }
}

/// The live object `object` names (scoped to the provider's namespace when its kind is
/// namespaced and it gives none), with the reference as scoped; an error when the cluster
/// does not serve its kind.
async fn find(
    cluster: &Cluster,
    object: ObjectRef,
) -> Result<(ObjectRef, Option<serde_json::Value>), ProviderDiagnostic> {
    let kind = match cluster.kind(&object.gvk()).await {
        Ok(Some(kind)) => kind,
        Ok(None) => return Err(not_served(&object)),
        Err(e) => return Err(e.to_diagnostic()),
    };
    let object = object.scoped(kind.namespaced, &cluster.settings.namespace);
    match cluster.get(&kind, &object).await {
        Ok(live) => Ok((object, live)),
        Err(e) => Err(e.to_diagnostic()),
    }
}

fn not_served(object: &ObjectRef) -> ProviderDiagnostic {
    ProviderDiagnostic::error(
        "Kind not served by the cluster",
        format!(
            "The cluster serves no kind {} in the group \"{}\".",
            object.kind,
            if object.group.is_empty() {
                "core"
            } else {
                &object.group
            }
        ),
    )
}

/// The `kubernetes_resource` data source: one object looked up by `api_version`, `kind`
/// and `metadata { name, namespace }`; the whole live object is in `object`.
pub async fn read_data(cluster: &Cluster, request: ReadDataRequest) -> ReadDataResponse {
    let fail = |diagnostic| ReadDataResponse {
        state: Value::Null,
        diagnostics: vec![diagnostic],
    };
    let config = &request.config;
    let manifest = Value::map([
        (
            "apiVersion",
            config.attr("api_version").cloned().unwrap_or_default(),
        ),
        ("kind", config.attr("kind").cloned().unwrap_or_default()),
        (
            "metadata",
            config.attr("metadata").cloned().unwrap_or_default(),
        ),
    ]);
    let object = match ObjectRef::from_manifest(&manifest) {
        Ok(object) => object,
        Err(e) => return fail(e.to_diagnostic()),
    };
    match find(cluster, object).await {
        Ok((_, Some(live))) => {
            let mut state = config.clone();
            state.set(
                &braid_provider::Path::key("object"),
                Value::from_json(&live),
            );
            ReadDataResponse {
                state,
                diagnostics: Vec::new(),
            }
        }
        Ok((object, None)) => fail(ProviderDiagnostic::error(
            "Object not found",
            format!(
                "There is no {object} in the cluster for {}.",
                request.address
            ),
        )),
        Err(d) => fail(d),
    }
}
