//! A loaded project at one environment: configuration, sources, variables, graph and
//! providers — everything a command needs before it plans or applies.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use braid_keys::Keyring;
use braid_provider::{RunContext, Value};
use braid_state::{
    EncryptedStore, PostgresStore, S3Location, S3Store, SqliteStore, StateError, StateStore,
};

use crate::config::eval::ScopeValue;
use crate::config::{
    EnvironmentConfig, Module, Project, VarFile, VariableInputs, load_module, load_project,
    parse_var_file, resolve_variables,
};
use crate::diag::{
    Diagnostic, Diagnostics, SourceText, cannot_open_state, closest, state_diagnostic,
};
use crate::eval::expand::{UnknownRepetition, expand_instances};
use crate::eval::modules::{ModuleReader, instantiate_modules};
use crate::graph::ConfigGraph;
use crate::providers::{ProviderRegistry, Providers, check_resources};
use crate::source::{LoadedSource, SourceOptions, load_sources_with};
use crate::state_guard::{DEFAULT_SNAPSHOTS, GuardedStore, StateAcceptance, remembered_state};

/// What the command line says about which project and environment to load.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The project directory, holding braid.hcl (`-C DIR`; the current directory by default).
    pub dir: PathBuf,
    /// The environment asked for with `--env`; `None` picks the only environment declared, or
    /// `default` when braid.hcl declares none.
    pub env: Option<String>,
    /// `--var NAME=VALUE` pairs in command-line order; a later one for the same name wins.
    pub vars: Vec<(String, String)>,
    /// `--var-file FILE` paths (relative to the current directory) in command-line order; a
    /// later file wins.
    pub var_files: Vec<PathBuf>,
    /// Missing variable values become unknown instead of an error (validate, graph, show).
    pub allow_missing_variables: bool,
    /// Variable values that override all others (from a saved plan).
    pub fixed_variables: BTreeMap<String, Value>,
    /// `--force-conflicts` for the kubernetes provider.
    pub force_conflicts: bool,
    /// `--ref`, `--offline`, and the commits a saved plan pins.
    pub sources: SourceOptions,
    /// `--new-state`, `--accept-older-state`: which state other than the one this machine
    /// last saw the command may use.
    pub state_acceptance: StateAcceptance,
}

impl LoadOptions {
    /// The same options with missing variable values allowed (they become unknown), for commands
    /// that do not plan: validate, graph, show.
    pub fn allowing_missing_variables(mut self) -> Self {
        self.allow_missing_variables = true;
        self
    }
}

/// A project loaded at one environment: braid.hcl, the sources as read, every declaration, the
/// dependency graph and the variables' values. Made by [`Workspace::load`] without touching state
/// or providers' APIs; the providers and the state store are opened from it afterwards.
pub struct Workspace {
    /// The parsed braid.hcl, with the absolute project directory.
    pub project: Project,
    /// The environment in use (`dev`); `default` for a project without environments.
    pub env_name: String,
    /// Every source as read, with the revision (commit, digest) plans record.
    pub sources: Vec<LoadedSource>,
    /// Every variable, local, resource and output of all sources, Kubernetes objects included, each
    /// resource tagged with its source.
    pub module: Module,
    /// The dependency graph of the module, built from the references in expressions and
    /// `depends_on`; checked for unknown references and cycles when loading.
    pub graph: ConfigGraph,
    /// What each resource needs, by address as configured (computed once from `graph`).
    written_dependencies: crate::graph::Dependencies,
    /// Every variable's resolved value by name, converted to its declared type; unknown for a
    /// missing value when [`LoadOptions::allow_missing_variables`] is set.
    pub variables: BTreeMap<String, ScopeValue>,
    /// The settings of the `provider` blocks of resource files, evaluated, by configuration
    /// name (`aws`, `aws.west`), with where each is written: the layer under braid.hcl's.
    pub provider_blocks: BTreeMap<String, (Value, crate::diag::Location)>,
    /// Warnings found while loading, for the command to show.
    pub warnings: Diagnostics,
    /// `--force-conflicts`: take ownership of fields other Kubernetes field managers own.
    pub force_conflicts: bool,
    /// Which state other than the one this machine last saw [`Workspace::open_state`]
    /// accepts.
    pub state_acceptance: StateAcceptance,
}

impl Workspace {
    /// Loads and checks the configuration; does not touch state or providers' APIs.
    pub fn load(options: &LoadOptions) -> Result<Workspace, Diagnostics> {
        let project = load_project(&options.dir)?;
        let env_name = select_environment(&project, options.env.as_deref())?;
        let mut sources = load_sources_with(&project, &options.sources)?;
        crate::source::sops::decrypt_sources(&mut sources)?;
        let files: Vec<_> = sources
            .iter()
            .flat_map(|s| {
                s.hcl_files
                    .iter()
                    .map(|f| (Arc::clone(&f.text), f.dir.clone()))
            })
            .collect();
        let mut module = load_module(&files)?;
        // Which source each resource file belongs to, for per-source summaries.
        let file_sources: BTreeMap<&str, &str> = sources
            .iter()
            .flat_map(|s| {
                s.hcl_files
                    .iter()
                    .map(move |f| (f.text.name.as_str(), s.name.as_str()))
            })
            .collect();
        for decl in module.resources.values_mut() {
            if let Some(source) = file_sources.get(decl.location.file.name.as_str()) {
                decl.source = (*source).to_string();
            }
        }
        let env = project.environment(&env_name);
        add_manifests(
            &mut module,
            &project,
            env,
            &mut sources,
            options.sources.offline,
        )?;
        module.sops_secrets = sources.iter().flat_map(|s| s.secrets.clone()).collect();
        module.sops_secrets.sort();
        module.sops_secrets.dedup();
        let inputs = VariableInputs {
            environment: env.map(|e| e.variables.clone()).unwrap_or_default(),
            auto_files: sources
                .iter()
                .flat_map(|s| &s.tfvars_files)
                .map(|f| parse_var_file(&f.text))
                .collect::<Result<_, _>>()?,
            var_files: options
                .var_files
                .iter()
                .map(|path| read_var_file(path))
                .collect::<Result<_, _>>()?,
            command_line: options.vars.clone(),
            allow_missing: options.allow_missing_variables,
            fixed: options.fixed_variables.clone(),
            ..VariableInputs::default()
        }
        .with_process_env();
        let (variables, mut warnings) = resolve_variables(&module.variables, &inputs)?;
        warnings
            .0
            .splice(0..0, std::mem::take(&mut module.warnings).0);
        let unknown = if options.allow_missing_variables {
            UnknownRepetition::Allow
        } else {
            UnknownRepetition::Fail
        };
        let mut sources = sources;
        let mut reader = ModuleReader::new(&project.dir, options.sources.offline);
        instantiate_modules(
            &mut module,
            &variables,
            &env_name,
            unknown,
            &mut reader,
            &sources,
        )?;
        reader.record_digests(&mut sources);
        warnings.extend(std::mem::take(&mut module.warnings));
        let provider_blocks = evaluate_provider_blocks(&module, &variables, &env_name)?;
        let graph = ConfigGraph::build(&module)?;
        let written_dependencies = graph.resource_dependencies();
        expand_instances(
            &mut module,
            &written_dependencies,
            &variables,
            &env_name,
            unknown,
        )?;
        Ok(Workspace {
            project,
            env_name,
            sources,
            module,
            graph,
            written_dependencies,
            variables,
            provider_blocks,
            warnings,
            force_conflicts: options.force_conflicts,
            state_acceptance: options.state_acceptance,
        })
    }

    /// The configuration of the environment in use, or `None` when braid.hcl declares no such
    /// environment (the `default` of a project without environments).
    pub fn environment(&self) -> Option<&EnvironmentConfig> {
        self.project.environment(&self.env_name)
    }

    /// For every resource instance, the resources it needs (directly or through local
    /// values), as written: `aws_x.y` stands for every instance of a `count`/`for_each`
    /// resource, as Terraform records dependencies. Keeping them per resource rather than
    /// per instance keeps n instances that need m others at n + m, not n × m.
    pub fn dependencies(&self) -> crate::graph::Dependencies {
        let none = std::sync::Arc::new(BTreeSet::new());
        self.module
            .resources
            .values()
            .map(|decl| {
                let deps = self
                    .written_dependencies
                    .get(decl.config_address())
                    .map_or_else(|| std::sync::Arc::clone(&none), std::sync::Arc::clone);
                (decl.address.clone(), deps)
            })
            .collect()
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

    /// Instantiates the providers from `registry` and checks resource bodies against their
    /// schemas.
    pub fn providers(
        &self,
        registry: &ProviderRegistry,
        state_providers: impl IntoIterator<Item = String>,
    ) -> Result<Providers, Diagnostics> {
        let names = self.provider_names(state_providers);
        self.check_aliases(&names)?;
        let providers = registry.instantiate(&names)?;
        check_resources(&self.module, &providers).into_result(providers)
    }

    /// [`Workspace::providers`], with the provider names `required_providers` declares served
    /// by their Terraform provider plugins, found and started first
    /// ([`crate::providers::plugins`]).
    pub async fn providers_with_plugins(
        &self,
        registry: &ProviderRegistry,
        state_providers: impl IntoIterator<Item = String>,
    ) -> Result<Providers, Diagnostics> {
        let names = self.provider_names(state_providers);
        self.check_aliases(&names)?;
        let choices =
            crate::providers::plugins::choose(&self.module.terraform, &self.project, &names)?;
        let registry = crate::providers::plugins::start(registry, &choices).await?;
        let providers = registry.instantiate(&names)?;
        check_resources(&self.module, &providers).into_result(providers)
    }

    /// The settings of provider configuration `name`: its `provider` block of the resource
    /// files, overridden attribute by attribute by braid.hcl's block and then by the
    /// environment's.
    pub fn provider_config(&self, name: &str) -> Value {
        let mut config = self
            .provider_blocks
            .get(name)
            .map(|(v, _)| v.clone())
            .unwrap_or_else(|| Value::Map(braid_provider::ValueMap::new()));
        let over = self.project.provider_config(self.environment(), name);
        if let (Value::Map(base), Value::Map(extra)) = (&mut config, over) {
            base.extend(extra);
        }
        config
    }

    /// Whether provider configuration `name` (`aws.west`) is declared: by a `provider`
    /// block of the resource files, braid.hcl, or the environment in use.
    pub fn declares_provider(&self, name: &str) -> bool {
        self.provider_blocks.contains_key(name)
            || self.project.providers.iter().any(|p| p.name == name)
            || self
                .environment()
                .is_some_and(|e| e.providers.iter().any(|p| p.name == name))
    }

    /// Every aliased provider configuration in use (`aws.west`) must be declared in
    /// braid.hcl or a resource file: an alias has no configuration to fall back on.
    fn check_aliases(&self, names: &BTreeSet<String>) -> Result<(), Diagnostics> {
        let mut diags = Diagnostics::new();
        for name in names.iter().filter(|n| n.contains('.')) {
            if self.declares_provider(name) {
                continue;
            }
            let (base, alias) = name.split_once('.').unwrap_or((name, ""));
            let user = self.module.resources.values().find(|r| &r.provider == name);
            diags.push(
                Diagnostic::error(
                    "Provider configuration not present",
                    format!(
                        "{}the provider configuration {name} is not declared. Add it to braid.hcl: provider \"{base}\" {{ alias = \"{alias}\" ... }}.",
                        user.map(|r| format!("{} uses {name}, but ", r.address)).unwrap_or_default()
                    ),
                )
                .at_opt(user.map(|r| r.location.clone())),
            );
        }
        diags.into_result(())
    }

    /// Configures providers from braid.hcl (with this environment's overrides), each
    /// completed with what the run knows (the project directory, `--force-conflicts`).
    pub async fn configure(&self, providers: &Providers) -> Result<(), Diagnostics> {
        let run = RunContext {
            project_dir: self.project.dir.clone(),
            force_conflicts: self.force_conflicts,
        };
        providers
            .configure(
                |name| self.provider_config(name),
                |name, attribute| {
                    self.project
                        .provider_location(self.environment(), name, attribute)
                        .or_else(|| self.provider_blocks.get(name).map(|(_, at)| at.clone()))
                },
                &run,
            )
            .await
    }

    /// Opens this environment's state store, as configured by its `state` block, guarded by
    /// what this machine last saw of it and snapshotted before its first write
    /// ([`GuardedStore`]).
    ///
    /// With an `encryption` block, values are sealed at rest ([`EncryptedStore`]); the
    /// guard beneath sees (and snapshots) the sealed values only.
    pub fn open_state(&self) -> Result<Arc<dyn StateStore>, Diagnostics> {
        let guarded = self.open_guarded_state()?;
        Ok(encrypted(guarded, self.state_keyring()?))
    }

    /// The keys of this environment's state encryption, when its state block has an
    /// `encryption` block.
    pub fn state_keyring(&self) -> Result<Option<Arc<Keyring>>, Diagnostics> {
        Ok(state_keyring(self.environment())?)
    }

    /// The state's database file, when the environment uses the SQLite backend.
    pub fn sqlite_state_path(&self) -> Option<std::path::PathBuf> {
        let env = self.environment();
        if env.is_some_and(|e| e.state.backend != "sqlite") {
            return None;
        }
        let settings = env.map(|e| e.state.settings.clone()).unwrap_or_default();
        Some(sqlite_path(&settings, &self.env_name, &self.project.dir))
    }

    /// [`Workspace::open_state`], with access to the guard's snapshots and record.
    pub fn open_guarded_state(&self) -> Result<Arc<GuardedStore>, Diagnostics> {
        open_guarded(&self.project, &self.env_name, self.state_acceptance)
    }
}

/// The settings of the root module's `provider` blocks, evaluated with variables and
/// locals.
fn evaluate_provider_blocks(
    module: &Module,
    variables: &BTreeMap<String, ScopeValue>,
    env_name: &str,
) -> Result<BTreeMap<String, (Value, crate::diag::Location)>, Diagnostics> {
    let scope = crate::eval::EvalScope::new(module, variables, env_name);
    let mut diags = Diagnostics::new();
    let mut out = BTreeMap::new();
    for (name, decl) in &module.providers {
        match scope.evaluate_settings(&decl.body, &decl.base_dir) {
            Ok(v) => {
                out.insert(name.clone(), (v, decl.location.clone()));
            }
            Err(d) => diags.extend(d),
        }
    }
    diags.into_result(out)
}

/// Opens the state of the environment `options` selects, reading braid.hcl only — no
/// source, resource file or variable: for commands that only read state (`braid output`),
/// which must work while the configuration does not. Returns the environment's name too.
pub fn open_state_only(
    options: &LoadOptions,
) -> Result<(String, Arc<dyn StateStore>), Diagnostics> {
    let project = load_project(&options.dir)?;
    let env_name = select_environment(&project, options.env.as_deref())?;
    let store = open_guarded(&project, &env_name, options.state_acceptance)?;
    let keyring = state_keyring(project.environment(&env_name))?;
    Ok((env_name, encrypted(store, keyring)))
}

/// `store` with its values sealed by `keyring` (or refused when sealed, without one).
pub fn encrypted(store: Arc<dyn StateStore>, keyring: Option<Arc<Keyring>>) -> Arc<dyn StateStore> {
    Arc::new(EncryptedStore::new(store, keyring))
}

/// The keys of `env`'s state encryption: the `encryption` block's recipients and KMS key,
/// and the age identities of this process's environment.
pub fn state_keyring(
    env: Option<&crate::config::EnvironmentConfig>,
) -> Result<Option<Arc<Keyring>>, Diagnostic> {
    let Some(config) = env.and_then(|e| e.state.encryption.as_ref()) else {
        return Ok(None);
    };
    let identities = braid_keys::AgeIdentities::from_environment()
        .map_err(|e| Diagnostic::error("Cannot read age identities", format!("{e}.")))?;
    let kms = config.kms_key_id.as_ref().map(|key_id| braid_keys::KmsKey {
        key_id: key_id.clone(),
        region: config.kms_region.clone(),
        endpoint: config.kms_endpoint.clone(),
    });
    let keyring = Keyring::new(&config.age_recipients, kms, identities).map_err(|e| {
        Diagnostic::error("Invalid encryption block", format!("{e}.")).at(config.location.clone())
    })?;
    Ok(Some(Arc::new(keyring)))
}

/// The state of environment `env_name` of `project`, guarded ([`GuardedStore`]).
fn open_guarded(
    project: &Project,
    env_name: &str,
    acceptance: StateAcceptance,
) -> Result<Arc<GuardedStore>, Diagnostics> {
    let env = project.environment(env_name);
    let backend = env.map_or("sqlite", |e| e.state.backend.as_str());
    let settings = env.map(|e| e.state.settings.clone()).unwrap_or_default();
    let at = || env.and_then(|e| e.state.location.clone());
    let braid_dir = project.dir.join(".braid");
    let keep = match settings.get("snapshots") {
        None => DEFAULT_SNAPSHOTS,
        Some(value) => value
            .as_i64()
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| {
                Diagnostic::error(
                    "Invalid state setting",
                    "snapshots must be a whole number of snapshots to keep (0 keeps none), like snapshots = 5.",
                )
                .at_opt(at())
            })?,
    };
    if backend == "sqlite" && !acceptance.new_state {
        // A missing file would be created as a new, empty state: refuse that before it
        // exists when this environment had a state.
        let path = sqlite_path(&settings, env_name, &project.dir);
        if !path.exists()
            && let Some(recorded) = remembered_state(&braid_dir, env_name)
            && recorded.serial > 0
        {
            let missing = StateError::StateReplaced {
                found: braid_state::StateMeta {
                    lineage: String::new(),
                    serial: 0,
                },
                recorded,
            };
            return Err(state_diagnostic(missing).at_opt(at()).into());
        }
    }
    let store =
        open_store(backend, &settings, env_name, &project.dir).map_err(|d| d.at_opt(at()))?;
    Ok(Arc::new(GuardedStore::new(
        store, &braid_dir, env_name, keep, acceptance,
    )))
}

/// The SQLite file of environment `env_name`: `path` (relative to the project directory
/// `dir`), else `.braid/state/<env>.db`.
pub fn sqlite_path(
    settings: &BTreeMap<String, Value>,
    env_name: &str,
    dir: &std::path::Path,
) -> std::path::PathBuf {
    match settings.get("path").and_then(Value::as_str) {
        Some(p) => dir.join(p),
        None => dir
            .join(".braid")
            .join("state")
            .join(format!("{env_name}.db")),
    }
}

/// Opens a state store for environment `env_name` of the project in `dir`:
/// - `sqlite`: `path` (relative to `dir`), default `.braid/state/<env>.db`;
/// - `postgres`: `url`, else `BRAID_STATE_URL`;
/// - `s3`: `bucket` (required), `prefix` (default `braid/`), `region`, `endpoint`.
pub fn open_store(
    backend: &str,
    settings: &BTreeMap<String, Value>,
    env_name: &str,
    dir: &std::path::Path,
) -> Result<Arc<dyn StateStore>, Diagnostic> {
    let setting = |name: &str| {
        settings
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let cannot_open = |e: StateError, hint: &str| cannot_open_state(&e, hint);
    match backend {
        "sqlite" => {
            let path = match setting("path") {
                Some(p) => dir.join(p),
                None => {
                    // Narrows a .braid an older braid created open to others.
                    let braid_dir = crate::private_files::braid_dir(dir).map_err(|e| {
                        Diagnostic::error(
                            "Cannot open state",
                            format!(
                                "cannot create {}: {e}. Check that the project directory is writable.",
                                dir.join(".braid").display()
                            ),
                        )
                    })?;
                    braid_dir.join("state").join(format!("{env_name}.db"))
                }
            };
            let store = SqliteStore::open(&path).map_err(|e| {
                let hint = match &e {
                    StateError::Lost(_) => {
                        "braid left the file as it is. Put the state back with: braid state restore (braid state snapshots lists the copies this machine kept), or from a backup. To start a new, empty state instead, move the file aside and run again with --new-state (braid then no longer knows the objects it made in this environment)."
                    }
                    StateError::Corrupt(_) => {
                        "braid left the file as it is. Restore it from a backup, or move it aside to start an empty state (braid then no longer knows the objects it made in this environment)."
                    }
                    StateError::NewerSchema { .. } => "Use the newer braid that wrote it.",
                    _ => "Check that the file and its directory exist or can be created, and are readable and writable by you.",
                };
                cannot_open(e, hint)
            })?;
            Ok(Arc::new(store))
        }
        "postgres" => {
            let url = setting("url")
                .or_else(|| std::env::var("BRAID_STATE_URL").ok())
                .filter(|u| !u.trim().is_empty())
                .ok_or_else(|| {
                    Diagnostic::error(
                        "Missing state setting",
                        "The postgres state backend needs a connection URL: set url = env(\"BRAID_STATE_URL\") in the state block, or the BRAID_STATE_URL environment variable.",
                    )
                })?;
            let store = PostgresStore::new(&url, env_name).map_err(|e| {
                cannot_open(
                    e,
                    "Use a URL like postgres://USER:PASSWORD@HOST:5432/DATABASE.",
                )
            })?;
            Ok(Arc::new(store))
        }
        "s3" => {
            let bucket = setting("bucket").filter(|b| !b.is_empty()).ok_or_else(|| {
                Diagnostic::error(
                    "Missing state setting",
                    "The s3 state backend needs a bucket: state { backend = \"s3\", bucket = \"my-braid-state\" }.",
                )
            })?;
            let mut prefix = setting("prefix").unwrap_or_else(|| "braid/".to_string());
            if !prefix.is_empty() && !prefix.ends_with('/') {
                prefix.push('/');
            }
            let location = S3Location {
                bucket,
                prefix,
                region: setting("region"),
                endpoint: setting("endpoint"),
            };
            Ok(Arc::new(S3Store::new(location, env_name)))
        }
        other => Err(Diagnostic::error(
            "Unsupported state backend",
            format!(
                "The state backend \"{other}\" is not known; use \"sqlite\", \"postgres\" or \"s3\"."
            ),
        )),
    }
}

/// Renders the chart of every source with a `helm` block, for the environment; each chart's
/// files join its source's digest.
fn render_charts(
    project: &Project,
    env: Option<&EnvironmentConfig>,
    sources: &mut [LoadedSource],
    namespace: &str,
    offline: bool,
    discovery: &mut crate::manifests::ClusterDiscovery,
    warnings: &mut Diagnostics,
) -> Result<Vec<crate::manifests::helm::RenderedChart>, Diagnostics> {
    use crate::manifests::helm;
    let cache_dir = project.dir.join(".braid").join("cache").join("charts");
    // `.Capabilities` come from the target cluster, as `helm install` takes them; when it
    // cannot be asked, Helm's defaults (as `helm template`), with a warning.
    let cluster = if project.sources.iter().any(|s| s.helm.is_some()) {
        match discovery.get() {
            Ok(capabilities) => Some(capabilities.clone()),
            Err(e) => {
                warnings.push(Diagnostic::warning(
                    "Helm charts render with default capabilities",
                    format!(
                        "braid could not ask the cluster for its version and APIs ({e}), so .Capabilities are Helm's defaults (Kubernetes {}). Give the helm block kube_version and api_versions to render for a cluster braid cannot reach.",
                        braid_helm::DEFAULT_KUBE_VERSION
                    ),
                ));
                None
            }
        }
    } else {
        None
    };
    let env_name = env.map(|e| e.name.as_str()).unwrap_or("default");
    let mut diags = Diagnostics::new();
    let mut charts = Vec::new();
    for config in &project.sources {
        let Some(block) = &config.helm else { continue };
        let Some(source) = sources.iter_mut().find(|s| s.name == config.name) else {
            continue;
        };
        let rendered = helm::settings(config, block, env_name, namespace)
            .map_err(Diagnostics::from)
            .and_then(|settings| {
                let (mut files, digest) = helm::read_chart(source)?;
                source.add_module_digest(&digest);
                let fetched =
                    helm::fetch_dependencies(source, &mut files, &settings, &cache_dir, offline)?;
                for digest in fetched {
                    source.add_module_digest(&digest);
                }
                let chart = helm::render(source, &files, &settings, cluster.as_ref())?;
                let mut record = chart.release_record();
                helm::mask_secrets(&mut record.values, &source.secrets);
                source.revision.helm = Some(record);
                Ok(chart)
            });
        match rendered {
            Ok(chart) => charts.push(chart),
            Err(d) => diags.extend(d),
        }
    }
    diags.into_result(charts)
}

/// Adds the Kubernetes objects of every source to the module: one namespace of addresses,
/// so a duplicate is an error naming both places.
fn add_manifests(
    module: &mut Module,
    project: &Project,
    env: Option<&EnvironmentConfig>,
    sources: &mut [LoadedSource],
    offline: bool,
) -> Result<(), Diagnostics> {
    let kubernetes = project.provider_config(env, "kubernetes");
    let namespace = kubernetes
        .attr("namespace")
        .and_then(Value::as_str)
        .unwrap_or("default");
    let overlay = env.and_then(|e| e.overlay.as_deref());
    let mut diags = Diagnostics::new();
    let mut discovery =
        crate::manifests::ClusterDiscovery::new(project.provider_config(env, "kubernetes"));
    let charts = render_charts(
        project,
        env,
        sources,
        namespace,
        offline,
        &mut discovery,
        &mut module.warnings,
    )?;
    let mut remote_bases = crate::manifests::remote_bases::RemoteBases::new(&project.dir, offline);
    let decls = crate::manifests::load_manifests(
        sources,
        overlay,
        namespace,
        charts,
        &mut remote_bases,
        &mut discovery,
        &mut module.warnings,
    );
    for (source, digest) in &remote_bases.digests {
        if let Some(s) = sources.iter_mut().find(|s| &s.name == source) {
            s.add_module_digest(digest);
        }
    }
    for decl in decls? {
        match module.resources.get(&decl.address) {
            Some(first) => diags.push(
                Diagnostic::error(
                    "Duplicate resource",
                    format!(
                        "{} is already declared at {}. Each Kubernetes object may appear once across all sources; remove one of them or give them different names or namespaces.",
                        decl.address,
                        first.location.short()
                    ),
                )
                .at(decl.location.clone()),
            ),
            None => {
                module.resources.insert(decl.address.clone(), decl);
            }
        }
    }
    diags.into_result(())
}

/// The environment to use: the one asked for, else the only one declared, else `default`.
pub fn select_environment(project: &Project, asked: Option<&str>) -> Result<String, Diagnostics> {
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

/// Reads a `--var-file`: a regular file of at most `BRAID_MAX_FILE_SIZE` bytes, given by the
/// person running braid (so not confined to a source).
fn read_var_file(path: &std::path::Path) -> Result<VarFile, Diagnostics> {
    let shown = path.display().to_string();
    let refused = |detail: String| {
        Diagnostics::from(Diagnostic::error(
            "Cannot read variable file",
            format!(
                "--var-file {shown}: {detail}. Give the path of a .tfvars file, relative to the current directory."
            ),
        ))
    };
    let limit =
        braid_functions::source_read::max_file_size().map_err(|e| refused(e.to_string()))?;
    let bytes = braid_functions::source_read::read_regular(path, &shown, limit)
        .map_err(|e| refused(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| refused("it is not UTF-8 text".to_string()))?;
    parse_var_file(&SourceText::new(shown.clone(), text))
}
