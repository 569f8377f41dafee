//! [`LocalProvider`]: configuration and dispatch to the resource types.

use std::path::PathBuf;
use std::sync::{PoisonError, RwLock};

use async_trait::async_trait;
use braid_provider::{
    ApplyRequest, ApplyResponse, ImportRequest, ImportResponse, Path, PlanRequest, PlanResponse,
    Provider, ProviderDiagnostic, ProviderSchema, ReadDataRequest, ReadDataResponse, ReadRequest,
    ReadResponse, RunContext, Value,
};

use crate::attributes::{attribute, wrong_type};
use crate::{data_file, local_file, local_value, schema};

/// The built-in `local` provider: `local_file` and `local_value`.
///
/// ```no_run
/// # async fn example() {
/// use braid_provider::{Provider, Value};
/// use braid_provider_local::LocalProvider;
///
/// let provider = LocalProvider::new();
/// let diagnostics = provider
///     .configure(Value::map([("base_dir", Value::from("/srv/project"))]))
///     .await;
/// assert!(diagnostics.is_empty());
/// # }
/// ```
#[derive(Debug, Default)]
pub struct LocalProvider {
    /// Where relative filenames resolve; `None` means the process working directory.
    base_dir: RwLock<Option<PathBuf>>,
}

impl LocalProvider {
    /// A provider that resolves relative filenames against the working directory until
    /// `configure` gives it a `base_dir`.
    pub fn new() -> Self {
        LocalProvider::default()
    }

    fn base_dir(&self) -> Option<PathBuf> {
        // A panic while holding the lock cannot leave an `Option<PathBuf>` half-written, so a
        // poisoned lock still holds a valid value.
        self.base_dir
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl Provider for LocalProvider {
    fn name(&self) -> &str {
        "local"
    }

    fn schema(&self) -> ProviderSchema {
        schema::provider_schema()
    }

    /// Relative `filename`s are read against the project directory unless the provider
    /// block sets `base_dir`.
    fn complete_config(&self, mut config: Value, run: &RunContext) -> Value {
        if let Value::Map(settings) = &mut config {
            settings
                .entry("base_dir".to_string())
                .or_insert_with(|| Value::from(run.project_dir.display().to_string()));
        }
        config
    }

    async fn configure(&self, config: Value) -> Vec<ProviderDiagnostic> {
        let base_dir = match attribute(&config, "base_dir") {
            Value::Null => None,
            Value::String(dir) if dir.is_empty() => None,
            Value::String(dir) => Some(PathBuf::from(dir)),
            Value::Unknown => {
                return vec![
                    ProviderDiagnostic::error(
                        "Provider configuration unknown",
                        "The attribute \"base_dir\" depends on a value that is only known \
                         after apply, but the provider needs it to plan. Set it from \
                         variables or literals.",
                    )
                    .at(Path::key("base_dir")),
                ];
            }
            other => return vec![wrong_type("base_dir", "string", &other)],
        };
        // Poisoning is recovered from for the reason given in `base_dir`: the lock only ever
        // guards one whole assignment.
        *self
            .base_dir
            .write()
            .unwrap_or_else(PoisonError::into_inner) = base_dir;
        Vec::new()
    }

    async fn read(&self, request: ReadRequest) -> ReadResponse {
        match request.type_name.as_str() {
            local_file::TYPE_NAME => local_file::read(self.base_dir().as_deref(), request),
            local_value::TYPE_NAME => local_value::read(request),
            other => ReadResponse {
                state: Some(request.current.clone()),
                diagnostics: vec![unsupported_type(other)],
            },
        }
    }

    async fn plan(&self, request: PlanRequest) -> PlanResponse {
        match request.type_name.as_str() {
            local_file::TYPE_NAME => local_file::plan(&request),
            local_value::TYPE_NAME => local_value::plan(&request),
            other => PlanResponse {
                diagnostics: vec![unsupported_type(other)],
                ..PlanResponse::default()
            },
        }
    }

    async fn apply(&self, request: ApplyRequest) -> ApplyResponse {
        match request.type_name.as_str() {
            local_file::TYPE_NAME => local_file::apply(self.base_dir().as_deref(), request),
            local_value::TYPE_NAME => local_value::apply(&request),
            other => ApplyResponse {
                new_state: request.prior.clone(),
                diagnostics: vec![unsupported_type(other)],
            },
        }
    }

    async fn read_data(&self, request: ReadDataRequest) -> ReadDataResponse {
        match request.type_name.as_str() {
            data_file::TYPE_NAME => data_file::read(self.base_dir().as_deref(), &request),
            other => ReadDataResponse {
                state: Value::Null,
                diagnostics: vec![unsupported_type(other)],
            },
        }
    }

    async fn import(&self, request: ImportRequest) -> ImportResponse {
        match request.type_name.as_str() {
            local_file::TYPE_NAME => local_file::import(self.base_dir().as_deref(), &request),
            local_value::TYPE_NAME => local_value::import(),
            other => ImportResponse {
                state: None,
                diagnostics: vec![unsupported_type(other)],
            },
        }
    }
}

fn unsupported_type(type_name: &str) -> ProviderDiagnostic {
    ProviderDiagnostic::error(
        "Unsupported resource type",
        format!(
            "The local provider has no resource type \"{type_name}\". It offers \"{}\" and \
             \"{}\".",
            local_file::TYPE_NAME,
            local_value::TYPE_NAME
        ),
    )
}
