//! The request/response protocol between the engine and a provider.
//!
//! Every call is one request struct in and one response struct out. Responses never use
//! `Result`: a provider reports failure through [`ProviderDiagnostic`]s of severity
//! [`Error`](crate::Severity::Error) and still returns whatever it knows (for example the part
//! of an object that was created before the failure), so the engine can record it.

use std::time::Duration;

use async_trait::async_trait;

use crate::{Path, ProviderDiagnostic, ProviderSchema, Value};

/// What a provider keeps in state beside an object that is not one of its attributes:
/// Terraform provider plugins' private data (timeouts and other metadata the provider reads
/// back on later calls) and the schema version the attributes were written with. braid
/// stores it opaquely and gives it back ([`Provider::restore_object_meta`]) in later runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectMeta {
    /// The version of the resource type's schema the attributes follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<u64>,
    /// The provider's private data, as it returned it (base64 in JSON).
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "base64_bytes")]
    pub private: Vec<u8>,
}

impl ObjectMeta {
    /// True when there is nothing to keep.
    pub fn is_empty(&self) -> bool {
        self.schema_version.is_none() && self.private.is_empty()
    }
}

mod base64_bytes {
    use base64::Engine as _;
    use serde::{Deserialize as _, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)
    }
}

/// Asks for the live object behind a resource that state records.
#[derive(Debug, Clone)]
pub struct ReadRequest {
    /// The resource type, one of the keys of [`ProviderSchema::resources`].
    pub type_name: String,
    /// The resource's address (`local_file.motd`), for diagnostics and progress only: the
    /// provider must find the object from `current`, not from the address.
    pub address: String,
    /// The attributes recorded in state (including the provider-assigned `id`). Always wholly
    /// known.
    pub current: Value,
}

/// The live object, as answered by [`Provider::read`].
#[derive(Debug, Clone, Default)]
pub struct ReadResponse {
    /// The live attributes, or `None` when the object no longer exists. They must be wholly
    /// known and in the same shape as the state the provider returns from apply, so that an
    /// object nobody touched reads back equal to `current` and shows no drift.
    pub state: Option<Value>,
    /// Problems reading the object. With an error among them, `state` is ignored.
    pub diagnostics: Vec<ProviderDiagnostic>,
}

/// Asks what a resource will look like after apply.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// The resource type, one of the keys of [`ProviderSchema::resources`].
    pub type_name: String,
    /// The resource's address, for diagnostics only.
    pub address: String,
    /// The refreshed prior state; `None` when the resource is new, or when the engine plans
    /// the object that replaces it.
    pub prior: Option<Value>,
    /// The desired configuration, already checked against the resource's schema. At plan
    /// time it may contain [`Value::Unknown`] where it depends on attributes of resources
    /// that are not applied yet; when the engine plans again just before applying, every
    /// value is known.
    pub config: Value,
    /// Paths of `config` that hold sensitive values. A provider that copies or derives a
    /// computed attribute from one of them answers that attribute's path in
    /// [`PlanResponse::sensitive`]; the engine also marks any planned value that holds a
    /// sensitive configuration string, but cannot see other derivations.
    pub sensitive: Vec<Path>,
}

/// The planned state of a resource, as answered by [`Provider::plan`].
#[derive(Debug, Clone, Default)]
pub struct PlanResponse {
    /// The attributes after apply: config values plus computed ones (unknown where the
    /// provider cannot know them yet). The engine compares this with `prior` to choose the
    /// action, so when nothing is to change it must be equal to `prior`, not merely
    /// equivalent.
    pub planned: Value,
    /// Attributes whose change cannot be made in place. Any entry turns the change into a
    /// replace (delete and create, or the reverse with `create_before_destroy`).
    pub requires_replace: Vec<Path>,
    /// The object exists live although it is not in state: plan an import instead of a create.
    /// Only meaningful when `prior` was `None`; the value is what the object looks like now,
    /// in the shape [`Provider::read`] returns.
    pub existing: Option<Value>,
    /// Extra paths the provider knows are sensitive, e.g. a Secret's data (beyond the
    /// attributes its schema marks sensitive). Empty by default.
    pub sensitive: Vec<Path>,
    /// Problems with the configuration or with reaching the object. Diagnostics with an
    /// `attribute` are shown at that attribute's place in the configuration.
    pub diagnostics: Vec<ProviderDiagnostic>,
}

/// Asks for one change to be made: a create, an update or a delete.
///
/// A replace is never one request: the engine sends a delete and a create (in the order the
/// resource's lifecycle asks for).
#[derive(Debug, Clone)]
pub struct ApplyRequest {
    /// The resource type, one of the keys of [`ProviderSchema::resources`].
    pub type_name: String,
    /// The resource's address, for diagnostics only.
    pub address: String,
    /// The state before; `None` to create.
    pub prior: Option<Value>,
    /// The planned state; `None` to delete. It is the `planned` value of a [`PlanResponse`]
    /// made moments before with every configuration value known, so unknown values remain
    /// only in attributes the provider itself computes.
    pub planned: Option<Value>,
    /// The configuration, with every value known; [`Value::Null`] for a delete.
    pub config: Value,
}

/// The outcome of one change, as answered by [`Provider::apply`].
#[derive(Debug, Clone, Default)]
pub struct ApplyResponse {
    /// The new state; `None` after a delete. On failure, whatever exists now (so partial
    /// creates are not lost), or the prior state. After a successful create or update it must
    /// be `Some`, wholly known, and equal to `planned` at every path `planned` knows: the
    /// engine reports any difference as a bug in the provider.
    pub new_state: Option<Value>,
    /// Why the change failed, if it did. Any error marks the change as failed.
    pub diagnostics: Vec<ProviderDiagnostic>,
}

/// Asks a provider to take over an object of another resource type — of this provider or
/// another — as one of `target_type` (a `moved` block across resource types, Terraform's
/// MoveResourceState).
#[derive(Debug, Clone)]
pub struct MoveRequest {
    /// The object's new address.
    pub address: String,
    /// The provider that served it until now: its source address for a plugin
    /// (`registry.terraform.io/hashicorp/aws`), `builtin/NAME` for one built into braid.
    pub source_provider: String,
    /// Its resource type until now.
    pub source_type: String,
    /// Its attributes as state holds them.
    pub source_state: Value,
    /// What the source provider kept beside it (private data, schema version).
    pub source_meta: Option<ObjectMeta>,
    /// The resource type it becomes.
    pub target_type: String,
}

/// The object as `target_type`.
#[derive(Debug, Clone, Default)]
pub struct MoveResponse {
    /// Its attributes as the target type (`None` after errors).
    pub state: Option<Value>,
    /// Why it could not be moved, or warnings.
    pub diagnostics: Vec<ProviderDiagnostic>,
}

/// Asks for the data a `data "TYPE" "NAME"` block names (a file, an object looked up by name,
/// the caller's identity).
#[derive(Debug, Clone)]
pub struct ReadDataRequest {
    /// The data source type, one of the keys of [`ProviderSchema::data_sources`].
    pub type_name: String,
    /// The block's address (`data.local_file.motd`), for diagnostics and progress only.
    pub address: String,
    /// The block's evaluated arguments. Always wholly known: the engine waits (until apply
    /// if need be) for the values it depends on.
    pub config: Value,
}

/// The data, as answered by [`Provider::read_data`].
#[derive(Debug, Clone, Default)]
pub struct ReadDataResponse {
    /// The arguments with every computed attribute filled in, wholly known.
    pub state: Value,
    /// Problems reading the data (including "not found"). With an error among them, `state`
    /// is ignored.
    pub diagnostics: Vec<ProviderDiagnostic>,
}

/// Asks to adopt an existing object, named by its provider id, into state
/// (`braid state import`).
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// The resource address the object is adopted at (`aws_vpc.main`), under which a
    /// provider keeps what it knows of the object besides its attributes ([`ObjectMeta`]).
    pub address: String,
    /// The resource type, one of the keys of [`ProviderSchema::resources`].
    pub type_name: String,
    /// The object's id in the provider's own terms (a file path, a bucket name, a Kubernetes
    /// `GROUP/VERSION/KIND/NAMESPACE/NAME`), as the user typed it.
    pub id: String,
}

/// The adopted object, as answered by [`Provider::import`].
#[derive(Debug, Clone, Default)]
pub struct ImportResponse {
    /// The object's attributes in the shape [`Provider::read`] returns, or `None` when no
    /// object has that id.
    pub state: Option<Value>,
    /// Problems finding or reading the object. With an error among them, nothing is imported.
    pub diagnostics: Vec<ProviderDiagnostic>,
}

/// Asks to wait until an applied object is healthy (a rollout finished, a volume bound).
#[derive(Debug, Clone)]
pub struct WaitRequest {
    /// The resource type, one of the keys of [`ProviderSchema::resources`].
    pub type_name: String,
    /// The resource's address, passed on to [`Progress::report`].
    pub address: String,
    /// The state the apply just returned.
    pub state: Value,
    /// How long to wait before giving up with an error diagnostic.
    pub timeout: Duration,
}

/// How an object is doing, as [`Provider::health`] answers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Health {
    /// Healthy, progressing, degraded, missing or unknown.
    pub status: HealthStatus,
    /// Why, when not healthy ("2/3 replicas available").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The health of an object, as kstatus sees a Kubernetes object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Exists and, where its kind says, is ready.
    Healthy,
    /// Getting there (a rollout in progress).
    Progressing,
    /// Will not get there without help (a failed Job, a rollout past its deadline).
    Degraded,
    /// The object is gone.
    Missing,
    /// Cannot be told now (the API was unreachable).
    Unknown,
}

impl HealthStatus {
    /// The name used in JSON and on the page.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "healthy",
            HealthStatus::Progressing => "progressing",
            HealthStatus::Degraded => "degraded",
            HealthStatus::Missing => "missing",
            HealthStatus::Unknown => "unknown",
        }
    }
}

/// The state of a healthy object, as answered by [`Provider::wait_ready`].
#[derive(Debug, Clone, Default)]
pub struct WaitResponse {
    /// The state once ready (status fields may have changed). `None` keeps the state apply
    /// returned.
    pub state: Option<Value>,
    /// Why the object did not become ready in time, if it did not. Any error fails the
    /// change; the object stays in state, since it exists.
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
    /// Reports the latest progress of the resource at `address` as a short phrase about
    /// where it stands now. The engine decides whether and how to show it, so the call is
    /// cheap and never blocks.
    fn report(&self, address: &str, message: &str);
}

/// A provider of resource types: the contract between the engine and the code that talks to
/// a real system (files, a Kubernetes API server, AWS).
///
/// # Call order
///
/// The engine creates a provider, asks for its [`name`](Provider::name) and
/// [`schema`](Provider::schema), then calls [`configure`](Provider::configure) once. Only
/// after a configure without errors does it call the other methods, as often as it needs
/// and concurrently from many tasks (hence `&self` and `Send + Sync`). A `braid plan`
/// reads every resource in state (unless refreshing is turned off) and plans every resource
/// in configuration; a `braid apply` reads and plans each resource again just before
/// applying it, applies it, and waits for it to become ready.
///
/// # Errors
///
/// No method returns `Result`. Failures are [`ProviderDiagnostic`]s of severity error in the
/// response, written for the user (summary, full-sentence detail, and the attribute they are
/// about, if any); the engine adds the resource address. Any error stops that resource;
/// warnings are passed along with errors but are not guaranteed to be shown on their own.
/// A provider must not panic: an unexpected answer from the real system is a diagnostic too.
///
/// # Unknown values
///
/// [`Value::Unknown`] stands for a value only known after apply. It can appear in
/// [`PlanRequest::config`] and in the [`PlanResponse::planned`] a provider returns, and in
/// [`ApplyRequest::planned`] for computed attributes. It never appears in state: what
/// `read`, `apply`, `import` and `wait_ready` return must be wholly known.
#[async_trait]
pub trait Provider: Send + Sync {
    /// The provider's name as used in configuration (`local`, `kubernetes`, `aws`).
    fn name(&self) -> &str;

    /// The resource types this provider offers and the settings of its `provider` block.
    ///
    /// Called once, before [`configure`](Provider::configure), so it must not depend on the
    /// configuration. The engine checks every resource body against it (unknown, missing and
    /// computed attributes) before any other call, and masks the attributes it marks
    /// sensitive.
    fn schema(&self) -> ProviderSchema;

    /// Configures the provider from its `provider` block. Called once, before anything else
    /// but [`name`](Provider::name) and [`schema`](Provider::schema).
    ///
    /// `config` is the evaluated block with the environment's overrides merged in: a map,
    /// empty when the project has no block for this provider. A provider that finds an
    /// unknown value where it needs a known one reports an error. Returns the problems
    /// found; any error stops the run before a plan is made.
    /// This is the place to build API clients and check credentials, so that later calls
    /// fail only for reasons specific to one resource.
    async fn configure(&self, config: Value) -> Vec<ProviderDiagnostic>;

    /// Reads the live object behind a resource in state (refresh).
    ///
    /// Called for every resource in state when a plan refreshes, and for each resource again
    /// just before it is applied. Returns `state: None` when the object was deleted outside
    /// braid, so that the engine plans to create it again. A difference between the returned
    /// state and [`ReadRequest::current`] is shown as drift, so the provider must return
    /// only what it manages, normalised the same way apply normalises it. Must not change
    /// anything in the real system.
    async fn read(&self, request: ReadRequest) -> ReadResponse;

    /// Plans a change: what the resource will look like after apply.
    ///
    /// Called for every configured resource during a plan (a destroy or refresh-only plan
    /// makes no calls), and again just before applying it, with every configuration value
    /// known (unless [`plan_again`](Provider::plan_again) answers for it): the second answer
    /// must agree with the first wherever the first was known, or the engine refuses the
    /// apply because the plan no longer matches. The engine derives
    /// the action from the response: no `prior` and `existing` set → import, no `prior` →
    /// create, `requires_replace` non-empty → replace, `planned` different from `prior` →
    /// update, else no-op. Must not change anything in the real system (dry-runs are fine).
    async fn plan(&self, request: PlanRequest) -> PlanResponse;

    /// The plan made just before applying a change, answered from the plan this provider
    /// made for the same address earlier in this process, without asking the real system
    /// again — or `None`, and the engine calls [`plan`](Provider::plan).
    ///
    /// A provider may answer only when planning again cannot give another answer: the
    /// request (prior state and configuration) is identical to the earlier one and its plan
    /// depends on nothing else. Terraform's plugin protocol is such a case — a final plan
    /// must agree with the earlier plan wherever that was known, and with identical inputs
    /// nothing was unknown that could now become known. The engine still compares the
    /// answer with the reviewed plan. The default is `None`: always plan again (Kubernetes
    /// plans from the live object, which may have changed since).
    fn plan_again(&self, request: &PlanRequest) -> Option<PlanResponse> {
        let _ = request;
        None
    }

    /// Makes one change happen: a create, an update or a delete (see [`ApplyRequest`]).
    ///
    /// Called once per change during an apply, after [`read`](Provider::read) and
    /// [`plan`](Provider::plan) confirmed the reviewed plan still holds. The engine writes
    /// the returned state to the state store at once, also on failure, so a provider must
    /// report a partially created object rather than lose track of it.
    async fn apply(&self, request: ApplyRequest) -> ApplyResponse;

    /// Finds an existing object by its id so that braid can take it over
    /// (`braid state import`). Returns `state: None` when there is no such object. Must not
    /// change anything in the real system.
    async fn import(&self, request: ImportRequest) -> ImportResponse;

    /// Takes over an object of another resource type (`moved` across types). The default
    /// refuses, with Terraform's words for a provider without MoveResourceState.
    async fn move_state(&self, request: MoveRequest) -> MoveResponse {
        let _ = request;
        MoveResponse {
            state: None,
            diagnostics: vec![ProviderDiagnostic::error(
                "Unsupported `moved` across resource types",
                format!(
                    "The provider \"{}\" does not support moved operations across resource types and providers.",
                    self.name()
                ),
            )],
        }
    }

    /// Reads a data source (`data "TYPE" "NAME"` blocks): during plan when its arguments are
    /// known, else during apply. Must not change anything in the real system. The default
    /// knows no data sources.
    async fn read_data(&self, request: ReadDataRequest) -> ReadDataResponse {
        ReadDataResponse {
            state: Value::Null,
            diagnostics: vec![ProviderDiagnostic::error(
                "Unknown data source",
                format!(
                    "The {} provider has no data source \"{}\".",
                    self.name(),
                    request.type_name
                ),
            )],
        }
    }

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

    /// Whether this provider's results for `type_name` may differ from its own plans where
    /// its type system cannot tell null from empty — Terraform's legacy plugin SDK says so
    /// of itself (`legacy_type_system`), and Terraform then accepts the result as the new
    /// state instead of reporting a provider bug. The engine does the same. The default is
    /// false: a result that differs from the plan is an error.
    fn legacy_type_system(&self, _type_name: &str) -> bool {
        false
    }

    /// Asks the provider to cut its operations in flight short (the user interrupted the
    /// run): calls in progress should return soon, with errors and whatever exists. braid
    /// calls it once, on the first interrupt of an apply. The default does nothing.
    async fn stop(&self) {}

    /// What the provider wants kept in state beside the object at `address` after its last
    /// call about it (read, plan, apply), if anything: Terraform plugins' private data and
    /// schema version. The default keeps nothing.
    fn object_meta(&self, _address: &str) -> Option<ObjectMeta> {
        None
    }

    /// Gives back, before any call about `address` in this run, what
    /// [`object_meta`](Self::object_meta) returned for it in an earlier run (or what
    /// `braid state import-terraform` found in Terraform's state). The default ignores it.
    fn restore_object_meta(&self, _address: &str, _meta: &ObjectMeta) {}

    /// How the object behind a resource in state is doing now, for status pages (`braid
    /// agent`, `braid status`). Must not change anything. The default knows only that the
    /// object exists (the engine says `missing` when refresh found it gone); providers whose
    /// objects converge asynchronously (Kubernetes) read their status.
    async fn health(&self, _type_name: &str, _state: &Value) -> Health {
        Health {
            status: HealthStatus::Healthy,
            message: None,
        }
    }

    /// Waits until an applied object is healthy, reporting progress through `progress`.
    ///
    /// Called after every successful create or update. Returns an error diagnostic when the
    /// object is not ready within [`WaitRequest::timeout`]. The default considers every object
    /// ready as soon as it is applied; providers whose objects converge asynchronously (a
    /// Kubernetes Deployment) override it.
    async fn wait_ready(&self, request: WaitRequest, _progress: &dyn Progress) -> WaitResponse {
        WaitResponse {
            state: Some(request.state),
            diagnostics: Vec::new(),
        }
    }
}
