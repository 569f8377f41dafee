//! A loaded project at one environment: configuration, sources, variables, graph and
//! providers — everything a command needs before it plans or applies.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use braid_provider::Value;
use braid_state::{SqliteStore, StateStore};

use crate::config::eval::ScopeValue;
use crate::config::{
    EnvironmentConfig, Module, Project, VariableInputs, load_module, load_project,
    resolve_variables,
};
use crate::diag::{Diagnostic, Diagnostics, closest};
use crate::graph::ConfigGraph;
use crate::providers::{Providers, check_resources};
use crate::source::{LoadedSource, load_sources};

/// What the command line says about which project and environment to load.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub dir: PathBuf,
    pub env: Option<String>,
    pub vars: Vec<(String, String)>,
    /// Missing variable values become unknown instead of an error (validate, graph, show).
    pub allow_missing_variables: bool,
    /// Variable values that override all others (from a saved plan).
    pub fixed_variables: BTreeMap<String, Value>,
}

impl LoadOptions {
    pub fn allowing_missing_variables(mut self) -> Self {
        self.allow_missing_variables = true;
        self
    }
}

pub struct Workspace {
    pub project: Project,
    pub env_name: String,
    pub sources: Vec<LoadedSource>,
    pub module: Module,
    pub graph: ConfigGraph,
    pub variables: BTreeMap<String, ScopeValue>,
    /// Warnings found while loading, for the command to show.
    pub warnings: Diagnostics,
}

impl Workspace {
    /// Loads and checks the configuration; does not touch state or providers' APIs.
    pub fn load(options: &LoadOptions) -> Result<Workspace, Diagnostics> {
        let project = load_project(&options.dir)?;
        let env_name = select_environment(&project, options.env.as_deref())?;
        let sources = load_sources(&project)?;
        let files: Vec<_> = sources
            .iter()
            .flat_map(|s| {
                s.hcl_files
                    .iter()
                    .map(|f| (Arc::clone(&f.text), f.dir.clone()))
            })
            .collect();
        let module = load_module(&files)?;
        let graph = ConfigGraph::build(&module)?;
        let env = project.environment(&env_name);
        let inputs = VariableInputs {
            environment: env.map(|e| e.variables.clone()).unwrap_or_default(),
            command_line: options.vars.clone(),
            allow_missing: options.allow_missing_variables,
            fixed: options.fixed_variables.clone(),
            ..VariableInputs::default()
        }
        .with_process_env();
        let (variables, warnings) = resolve_variables(&module.variables, &inputs)?;
        Ok(Workspace {
            project,
            env_name,
            sources,
            module,
            graph,
            variables,
            warnings,
        })
    }

    pub fn environment(&self) -> Option<&EnvironmentConfig> {
        self.project.environment(&self.env_name)
    }

    /// Every provider named by a resource in configuration or in `state_providers`.
    pub fn provider_names(
        &self,
        state_providers: impl IntoIterator<Item = String>,
    ) -> BTreeSet<String> {
        self.module
            .resources
            .values()
            .map(|r| r.provider.clone())
            .chain(state_providers)
            .collect()
    }

    /// Instantiates the providers and checks resource bodies against their schemas.
    pub fn providers(
        &self,
        state_providers: impl IntoIterator<Item = String>,
    ) -> Result<Providers, Diagnostics> {
        let providers = Providers::instantiate(&self.provider_names(state_providers))?;
        check_resources(&self.module, &providers).into_result(providers)
    }

    /// Configures providers from braid.hcl (with this environment's overrides).
    pub async fn configure(&self, providers: &Providers) -> Result<(), Diagnostics> {
        providers
            .configure(|name| {
                let mut config = self.project.provider_config(self.environment(), name);
                if name == "local"
                    && let Value::Map(m) = &mut config
                {
                    m.entry("base_dir".to_string())
                        .or_insert_with(|| Value::from(self.project.dir.display().to_string()));
                }
                config
            })
            .await
    }

    /// Opens this environment's state store.
    pub fn open_state(&self) -> Result<Arc<dyn StateStore>, Diagnostics> {
        let env = self.environment();
        let backend = env.map_or("sqlite", |e| e.state.backend.as_str());
        match backend {
            "sqlite" => {
                let path = env
                    .and_then(|e| e.state.settings.get("path"))
                    .and_then(Value::as_str)
                    .map(|p| self.project.dir.join(p))
                    .unwrap_or_else(|| {
                        self.project
                            .dir
                            .join(".braid")
                            .join("state")
                            .join(format!("{}.db", self.env_name))
                    });
                let store = SqliteStore::open(&path).map_err(|e| {
                    Diagnostic::error(
                        "Cannot open state",
                        format!(
                            "{e}: {}. Check that the directory is writable.",
                            error_chain(&e)
                        ),
                    )
                })?;
                Ok(Arc::new(store))
            }
            other => Err(Diagnostic::error(
                "Unsupported state backend",
                format!(
                    "The state backend \"{other}\" is not available in this build; use \"sqlite\"."
                ),
            )
            .at_opt(env.and_then(|e| e.state.location.clone()))
            .into()),
        }
    }
}

/// The source of an error and its causes, joined: "no such file (os error 2)".
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut parts = Vec::new();
    let mut current = error.source();
    while let Some(e) = current {
        parts.push(e.to_string());
        current = e.source();
    }
    if parts.is_empty() {
        error.to_string()
    } else {
        parts.join(": ")
    }
}

/// The environment to use: the one asked for, else the only one declared, else `default`.
fn select_environment(project: &Project, asked: Option<&str>) -> Result<String, Diagnostics> {
    let declared: Vec<&str> = project
        .environments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    match asked {
        Some(name) if declared.is_empty() || declared.contains(&name) => Ok(name.to_string()),
        Some(name) => Err(Diagnostic::error(
            "Unknown environment",
            format!(
                "braid.hcl declares no environment \"{name}\".{} Declared: {}.",
                closest(name, declared.iter().copied())
                    .map(|c| format!(" Did you mean \"{c}\"?"))
                    .unwrap_or_default(),
                declared.join(", ")
            ),
        )
        .into()),
        None => match declared.as_slice() {
            [] => Ok("default".to_string()),
            [only] => Ok((*only).to_string()),
            many => Err(Diagnostic::error(
                "Environment not chosen",
                format!(
                    "braid.hcl declares several environments ({}); choose one with --env NAME.",
                    many.join(", ")
                ),
            )
            .into()),
        },
    }
}
