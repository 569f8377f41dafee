//! [`AwsProvider`]: configuration, and dispatch of every request to its resource type.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

use async_trait::async_trait;
use braid_provider::{
    ApplyRequest, ApplyResponse, ImportRequest, ImportResponse, PlanRequest, PlanResponse,
    Provider, ProviderDiagnostic, ProviderSchema, ReadDataRequest, ReadDataResponse, ReadRequest,
    ReadResponse, Value,
};

use crate::config::{Clients, ProviderSettings};
use crate::resource::{self, ResourceType};
use crate::{resources, schema};

/// The `aws` provider.
///
/// ```no_run
/// # async fn example() {
/// use braid_provider::{Provider, Value};
/// use braid_provider_aws::AwsProvider;
///
/// let provider = AwsProvider::new();
/// let diagnostics = provider
///     .configure(Value::map([
///         ("region", Value::from("us-east-1")),
///         ("endpoint", Value::from("http://127.0.0.1:5000")),
///     ]))
///     .await;
/// assert!(diagnostics.is_empty());
/// # }
/// ```
pub struct AwsProvider {
    types: BTreeMap<&'static str, Box<dyn ResourceType>>,
    clients: RwLock<Option<Arc<Clients>>>,
}

impl Default for AwsProvider {
    fn default() -> Self {
        AwsProvider::new()
    }
}

impl std::fmt::Debug for AwsProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsProvider")
            .field("types", &self.types.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl AwsProvider {
    /// A provider that is not configured yet: every call but `name`, `schema` and
    /// `configure` answers with an error diagnostic until `configure` succeeds.
    pub fn new() -> Self {
        AwsProvider {
            types: resources::all()
                .into_iter()
                .map(|t| (t.type_name(), t))
                .collect(),
            clients: RwLock::new(None),
        }
    }

    fn clients(&self) -> Result<Arc<Clients>, ProviderDiagnostic> {
        // A panic while holding the lock cannot leave an `Option<Arc<_>>` half-written (the
        // lock only ever guards one whole assignment), so a poisoned lock still holds a valid
        // value.
        self.clients
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| {
                ProviderDiagnostic::error(
                    "Provider not configured",
                    "The aws provider was used before it was configured. This is a bug in \
                     braid; please report it.",
                )
            })
    }

    /// The resource type and the clients, or the diagnostic why not.
    fn lookup(
        &self,
        type_name: &str,
    ) -> Result<(&dyn ResourceType, Arc<Clients>), ProviderDiagnostic> {
        let resource = self.types.get(type_name).ok_or_else(|| {
            ProviderDiagnostic::error(
                "Unsupported resource type",
                format!(
                    "The aws provider has no resource type \"{type_name}\". It offers: {}.",
                    self.types.keys().copied().collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        Ok((resource.as_ref(), self.clients()?))
    }
}

#[async_trait]
impl Provider for AwsProvider {
    fn name(&self) -> &str {
        "aws"
    }

    fn schema(&self) -> ProviderSchema {
        ProviderSchema {
            config: schema::provider_config(),
            resources: self
                .types
                .iter()
                .map(|(name, t)| ((*name).to_string(), t.schema()))
                .collect(),
            data_sources: {
                let mut all = crate::data::schemas();
                all.extend(crate::lookup::schemas(&self.types));
                all
            },
        }
    }

    async fn configure(&self, config: Value) -> Vec<ProviderDiagnostic> {
        let settings = match ProviderSettings::parse(&config) {
            Ok(settings) => settings,
            Err(diagnostics) => return diagnostics,
        };
        let sdk = match settings.load().await {
            Ok(sdk) => sdk,
            Err(d) => return vec![d],
        };
        let clients = Clients::new(&sdk, &settings);
        // As in `clients`: a poisoned lock still holds a valid value and may be overwritten.
        *self.clients.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(clients));
        Vec::new()
    }

    async fn read_data(&self, request: ReadDataRequest) -> ReadDataResponse {
        let clients = self.clients().ok();
        crate::data::read(&self.types, clients.as_deref(), &request).await
    }

    async fn read(&self, request: ReadRequest) -> ReadResponse {
        let (resource, clients) = match self.lookup(&request.type_name) {
            Ok(found) => found,
            Err(d) => {
                return ReadResponse {
                    state: Some(request.current),
                    diagnostics: vec![d],
                };
            }
        };
        let current = request.current.as_map().cloned().unwrap_or_default();
        match resource::read(resource, &clients, &current).await {
            Ok(state) => ReadResponse {
                state: state.map(Value::Map),
                diagnostics: Vec::new(),
            },
            Err(e) => ReadResponse {
                state: Some(request.current),
                diagnostics: vec![e.diagnostic("reading", &request.address)],
            },
        }
    }

    async fn plan(&self, request: PlanRequest) -> PlanResponse {
        match self.lookup(&request.type_name) {
            Ok((resource, clients)) => {
                resource::plan(
                    resource,
                    &clients,
                    &request.address,
                    request.prior.as_ref(),
                    &request.config,
                )
                .await
            }
            Err(d) => PlanResponse {
                diagnostics: vec![d],
                ..PlanResponse::default()
            },
        }
    }

    async fn apply(&self, request: ApplyRequest) -> ApplyResponse {
        let (resource, clients) = match self.lookup(&request.type_name) {
            Ok(found) => found,
            Err(d) => {
                return ApplyResponse {
                    new_state: request.prior,
                    diagnostics: vec![d],
                };
            }
        };
        let address = request.address.as_str();
        let prior = request.prior.as_ref().and_then(Value::as_map);
        let Some(planned) = &request.planned else {
            let Some(prior) = prior else {
                return ApplyResponse::default();
            };
            return match resource.delete(&clients, prior).await {
                Ok(()) => ApplyResponse::default(),
                Err(e) => ApplyResponse {
                    new_state: request.prior.clone(),
                    diagnostics: vec![e.diagnostic("deleting", address)],
                },
            };
        };
        let desired =
            match resource::desired(resource, request.prior.as_ref(), planned, &request.config) {
                Ok(desired) => desired,
                Err(diagnostics) => {
                    return ApplyResponse {
                        new_state: request.prior.clone(),
                        diagnostics,
                    };
                }
            };
        let (result, step) = match prior {
            None => (
                resource::create(resource, &clients, &desired).await,
                "creating",
            ),
            Some(prior) => (
                resource::update(resource, &clients, prior, &desired).await,
                "updating",
            ),
        };
        match result {
            Ok(state) => ApplyResponse {
                new_state: Some(Value::Map(state)),
                diagnostics: Vec::new(),
            },
            Err((now, e)) => ApplyResponse {
                new_state: now.map(Value::Map),
                diagnostics: vec![e.diagnostic(step, address)],
            },
        }
    }

    async fn import(&self, request: ImportRequest) -> ImportResponse {
        let (resource, clients) = match self.lookup(&request.type_name) {
            Ok(found) => found,
            Err(d) => {
                return ImportResponse {
                    state: None,
                    diagnostics: vec![d],
                };
            }
        };
        let identity = resource.import_identity(&request.id);
        let what = format!("{} with id \"{}\"", request.type_name, request.id);
        match resource::read(resource, &clients, &identity).await {
            Ok(Some(state)) => ImportResponse {
                state: Some(Value::Map(state)),
                diagnostics: Vec::new(),
            },
            Ok(None) => ImportResponse {
                state: None,
                diagnostics: vec![ProviderDiagnostic::error(
                    "Object to import not found",
                    format!("AWS has no {what}. Check the id and the provider's region."),
                )],
            },
            Err(e) => ImportResponse {
                state: None,
                diagnostics: vec![e.diagnostic("importing", &what)],
            },
        }
    }
}
