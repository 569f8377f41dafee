//! [`KubernetesProvider`]: configuration and dispatch.

use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use braid_provider::{
    ApplyRequest, ApplyResponse, Health, HealthStatus, ImportRequest, ImportResponse, PlanRequest,
    PlanResponse, Progress, Provider, ProviderDiagnostic, ProviderSchema, ReadDataRequest,
    ReadDataResponse, ReadRequest, ReadResponse, RunContext, Value, WaitRequest, WaitResponse,
};

use crate::cluster::Cluster;
use crate::schema::{self, MANIFEST_TYPE};
use crate::settings::Settings;
use crate::{apply, plan, read, ready};

/// The built-in `kubernetes` provider: one resource type, `kubernetes_manifest`.
///
/// ```no_run
/// # async fn example() {
/// use braid_provider::{Provider, Value};
/// use braid_provider_kubernetes::KubernetesProvider;
///
/// let provider = KubernetesProvider::new();
/// let diagnostics = provider
///     .configure(Value::map([("context", Value::from("staging-cluster"))]))
///     .await;
/// assert!(diagnostics.is_empty());
/// # }
/// ```
#[derive(Default)]
pub struct KubernetesProvider {
    cluster: RwLock<Option<Arc<Cluster>>>,
}

impl KubernetesProvider {
    /// A provider that is not configured yet: every call but `name`, `schema` and
    /// `configure` answers with an error diagnostic until `configure` succeeds.
    pub fn new() -> Self {
        KubernetesProvider::default()
    }

    fn cluster(&self) -> Result<Arc<Cluster>, ProviderDiagnostic> {
        // A panic while holding the lock cannot leave an `Option<Arc<_>>` half-written.
        self.cluster
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| {
                ProviderDiagnostic::error(
                    "Provider not configured",
                    "The kubernetes provider was used before it was configured. This is a bug \
                     in braid.",
                )
            })
    }
}

#[async_trait]
impl Provider for KubernetesProvider {
    fn name(&self) -> &str {
        "kubernetes"
    }

    fn schema(&self) -> ProviderSchema {
        schema::provider_schema()
    }

    fn complete_config(&self, mut config: Value, run: &RunContext) -> Value {
        if run.force_conflicts
            && let Value::Map(settings) = &mut config
        {
            settings.insert("force_conflicts".to_string(), Value::Bool(true));
        }
        config
    }

    /// Objects run in Helm's install order by kind (1 + the kind's place in it).
    fn apply_rank(&self, _type_name: &str, state: &Value) -> u32 {
        let kind = state.attr("kind").and_then(Value::as_str).unwrap_or("");
        u32::try_from(crate::order::helm_rank(kind)).map_or(u32::MAX, |r| r.saturating_add(1))
    }

    async fn configure(&self, config: Value) -> Vec<ProviderDiagnostic> {
        let settings = match Settings::from_config(&config) {
            Ok(settings) => settings,
            Err(diagnostics) => return diagnostics,
        };
        let (client, server) = match settings.client().await {
            Ok(found) => found,
            Err(diagnostic) => return vec![diagnostic],
        };
        // As in `cluster`: the lock only ever guards one whole assignment, so a poisoned lock
        // still holds a valid value and may be overwritten.
        *self.cluster.write().unwrap_or_else(PoisonError::into_inner) =
            Some(Arc::new(Cluster::new(client, server, settings)));
        Vec::new()
    }

    async fn read(&self, request: ReadRequest) -> ReadResponse {
        let fail = |current: &Value, d| ReadResponse {
            state: Some(current.clone()),
            diagnostics: vec![d],
        };
        if let Err(d) = check_type(&request.type_name) {
            return fail(&request.current, d);
        }
        match self.cluster() {
            Ok(cluster) => read::read(&cluster, request).await,
            Err(d) => fail(&request.current, d),
        }
    }

    async fn plan(&self, request: PlanRequest) -> PlanResponse {
        let cluster = check_type(&request.type_name).and_then(|()| self.cluster());
        match cluster {
            Ok(cluster) => plan::plan(&cluster, &request).await,
            Err(d) => PlanResponse {
                planned: request.config,
                diagnostics: vec![d],
                ..PlanResponse::default()
            },
        }
    }

    async fn apply(&self, request: ApplyRequest) -> ApplyResponse {
        let cluster = check_type(&request.type_name).and_then(|()| self.cluster());
        match cluster {
            Ok(cluster) => apply::apply(&cluster, request).await,
            Err(d) => ApplyResponse {
                new_state: request.prior,
                diagnostics: vec![d],
            },
        }
    }

    async fn read_data(&self, request: ReadDataRequest) -> ReadDataResponse {
        if request.type_name != crate::schema::DATA_TYPE {
            return ReadDataResponse {
                state: Value::Null,
                diagnostics: vec![ProviderDiagnostic::error(
                    "Unknown data source",
                    format!(
                        "The kubernetes provider has no data source \"{}\"; it offers {}.",
                        request.type_name,
                        crate::schema::DATA_TYPE
                    ),
                )],
            };
        }
        match self.cluster() {
            Ok(cluster) => read::read_data(&cluster, request).await,
            Err(d) => ReadDataResponse {
                state: Value::Null,
                diagnostics: vec![d],
            },
        }
    }

    async fn import(&self, request: ImportRequest) -> ImportResponse {
        let cluster = check_type(&request.type_name).and_then(|()| self.cluster());
        match cluster {
            Ok(cluster) => read::import(&cluster, request).await,
            Err(d) => ImportResponse {
                state: None,
                diagnostics: vec![d],
            },
        }
    }

    async fn health(&self, type_name: &str, state: &Value) -> Health {
        match check_type(type_name).and_then(|()| self.cluster()) {
            Ok(cluster) => ready::health(&cluster, state).await,
            Err(d) => Health {
                status: HealthStatus::Unknown,
                message: Some(d.detail),
            },
        }
    }

    async fn wait_ready(&self, request: WaitRequest, progress: &dyn Progress) -> WaitResponse {
        let cluster = check_type(&request.type_name).and_then(|()| self.cluster());
        match cluster {
            Ok(cluster) => ready::wait_ready(&cluster, request, progress).await,
            Err(d) => WaitResponse {
                state: Some(request.state),
                diagnostics: vec![d],
            },
        }
    }
}

fn check_type(type_name: &str) -> Result<(), ProviderDiagnostic> {
    if type_name == MANIFEST_TYPE {
        Ok(())
    } else {
        Err(ProviderDiagnostic::error(
            "Unsupported resource type",
            format!(
                "The kubernetes provider has no resource type \"{type_name}\". It offers \
                 \"{MANIFEST_TYPE}\"."
            ),
        ))
    }
}
