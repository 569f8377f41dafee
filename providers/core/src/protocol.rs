//! The request/response protocol between the engine and a provider.

use std::time::Duration;

use async_trait::async_trait;

use crate::{Path, ProviderDiagnostic, ProviderSchema, Value};

/// Read the live object behind a resource in state.
#[derive(Debug, Clone)]
pub struct ReadRequest {
    pub type_name: String,
    pub address: String,
    /// The attributes recorded in state (including the provider-assigned `id`).
    pub current: Value,
}

#[derive(Debug, Clone, Default)]
pub struct ReadResponse {
    /// The live attributes, or `None` when the object no longer exists.
    pub state: Option<Value>,
    pub diagnostics: Vec<ProviderDiagnostic>,
}

/// Plan a change: what will the resource look like after apply?
#[derive(Debug, Clone)]
pub struct PlanRequest {
    pub type_name: String,
    pub address: String,
    /// The refreshed prior state; `None` when the resource is new.
    pub prior: Option<Value>,
    /// The desired configuration; may contain unknown values.
    pub config: Value,
}

#[derive(Debug, Clone, Default)]
pub struct PlanResponse {
    /// The attributes after apply: config values plus computed ones (unknown where the
    /// provider cannot know them yet).
    pub planned: Value,
    /// Attributes whose change cannot be made in place.
    pub requires_replace: Vec<Path>,
    /// The object exists live although it is not in state: plan an import instead of a create.
    pub existing: Option<Value>,
    /// Extra paths the provider knows are sensitive, e.g. a Secret's data (beyond the
    /// attributes its schema marks sensitive). Empty by default.
    pub sensitive: Vec<Path>,
    pub diagnostics: Vec<ProviderDiagnostic>,
}

/// Make one change happen.
#[derive(Debug, Clone)]
pub struct ApplyRequest {
    pub type_name: String,
    pub address: String,
    /// The state before; `None` to create.
    pub prior: Option<Value>,
    /// The planned state; `None` to delete.
    pub planned: Option<Value>,
    /// The configuration, with every value known.
    pub config: Value,
}

#[derive(Debug, Clone, Default)]
pub struct ApplyResponse {
    /// The new state; `None` after a delete. On failure, whatever exists now (so partial
    /// creates are not lost), or the prior state.
    pub new_state: Option<Value>,
    pub diagnostics: Vec<ProviderDiagnostic>,
}

/// Adopt an existing object by its id.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub type_name: String,
    pub id: String,
}

#[derive(Debug, Clone, Default)]
pub struct ImportResponse {
    pub state: Option<Value>,
    pub diagnostics: Vec<ProviderDiagnostic>,
}

/// Wait until an applied object is healthy (a rollout finished, a volume bound).
#[derive(Debug, Clone)]
pub struct WaitRequest {
    pub type_name: String,
    pub address: String,
    pub state: Value,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Default)]
pub struct WaitResponse {
    /// The state once ready (status fields may have changed).
    pub state: Option<Value>,
    pub diagnostics: Vec<ProviderDiagnostic>,
}

/// What the engine knows about the run that a provider's configuration may need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunContext {
    /// The project directory (where braid.hcl is); relative paths in configuration are
    /// relative to it.
    pub project_dir: std::path::PathBuf,
    /// `--force-conflicts`: take over fields that another writer of the same object owns
    /// instead of failing.
    pub force_conflicts: bool,
}

/// Where a provider reports progress of long work ("1/3 replicas available").
pub trait Progress: Send + Sync {
    fn report(&self, address: &str, message: &str);
}

/// A provider of resource types. All methods take `&self`: the engine calls them
/// concurrently from many tasks.
#[async_trait]
pub trait Provider: Send + Sync {
    /// The provider's name as used in configuration (`local`, `kubernetes`, `aws`).
    fn name(&self) -> &str;

    fn schema(&self) -> ProviderSchema;

    /// Configure the provider from its `provider` block. Called once, before anything else.
    async fn configure(&self, config: Value) -> Vec<ProviderDiagnostic>;

    async fn read(&self, request: ReadRequest) -> ReadResponse;

    async fn plan(&self, request: PlanRequest) -> PlanResponse;

    async fn apply(&self, request: ApplyRequest) -> ApplyResponse;

    async fn import(&self, request: ImportRequest) -> ImportResponse;

    /// Completes this provider's configuration with what only the run knows, before
    /// [`Provider::configure`] is called: the project directory that relative paths are
    /// read against, or the `--force-conflicts` flag. Settings the `provider` block gives
    /// explicitly win. The default changes nothing.
    fn complete_config(&self, config: Value, _run: &RunContext) -> Value {
        config
    }

    /// Where a change of `type_name` (with the object's value `state`) stands among
    /// changes that are ready to run at the same time: lower ranks start first, and
    /// deletes run in the reverse order. Rank 0, the default, means no preference: such
    /// changes start before any ranked one. Kubernetes ranks objects by kind, as Helm
    /// installs them (Namespaces before Deployments).
    fn apply_rank(&self, _type_name: &str, _state: &Value) -> u32 {
        0
    }

    /// The default considers every object ready as soon as it is applied.
    async fn wait_ready(&self, request: WaitRequest, _progress: &dyn Progress) -> WaitResponse {
        WaitResponse {
            state: Some(request.state),
            diagnostics: Vec::new(),
        }
    }
}
