//! Providers as the engine sees them: a [`ProviderRegistry`] that the caller fills (the CLI
//! registers braid's built-in providers, tests register scripted ones, plugins register at
//! run time), the [`Providers`] one run instantiated from it, and checks of resource bodies
//! against their schemas.
//!
//! The engine knows no provider by name: what a provider needs from the run comes through
//! [`Provider::complete_config`], and how its changes are ordered through
//! [`Provider::apply_rank`].

mod check;
mod deadline;
pub mod install;
pub mod plugins;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use braid_provider::{Provider, ProviderSchema, RunContext, Value};

use crate::diag::{Diagnostic, Diagnostics, Location, closest, from_provider};

pub use check::check_resources;
pub use deadline::{Call, bounded};

/// Makes a fresh, unconfigured provider. Called once per run that uses the provider.
pub type ProviderFactory = Arc<dyn Fn() -> Arc<dyn Provider> + Send + Sync>;

/// The providers a caller offers the engine, by the name configuration uses for them.
#[derive(Clone, Default)]
pub struct ProviderRegistry {
    factories: BTreeMap<String, ProviderFactory>,
}

impl fmt::Debug for ProviderRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.factories.keys()).finish()
    }
}

impl ProviderRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        ProviderRegistry::default()
    }

    /// Offers the provider `name`, made by `factory`; a later registration of the same name
    /// replaces the earlier one (a test's scripted provider in place of a built-in one).
    pub fn register(
        &mut self,
        name: impl Into<String>,
        factory: impl Fn() -> Arc<dyn Provider> + Send + Sync + 'static,
    ) -> &mut Self {
        self.factories.insert(name.into(), Arc::new(factory));
        self
    }

    /// Offers one provider instance under `name`: every run shares it (for tests that look
    /// at what their scripted provider was asked).
    pub fn register_instance(
        &mut self,
        name: impl Into<String>,
        provider: Arc<dyn Provider>,
    ) -> &mut Self {
        self.register(name, move || Arc::clone(&provider))
    }

    /// The names offered, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.factories.keys().map(String::as_str)
    }

    /// Whether `name` is offered.
    pub fn contains(&self, name: &str) -> bool {
        self.factories.contains_key(name)
    }

    /// Instantiates (without configuring) every provider `names` asks for; an unknown name
    /// is an error that lists the names on offer.
    pub fn instantiate(&self, names: &BTreeSet<String>) -> Result<Providers, Diagnostics> {
        let mut out = Providers::default();
        let mut diags = Diagnostics::new();
        for name in names {
            // `aws.west` is another configuration of the provider `aws`, unless it has a
            // provider of its own (a plugin process per configuration).
            let base = name.split('.').next().unwrap_or(name);
            match self
                .factories
                .get(name)
                .or_else(|| self.factories.get(base))
            {
                Some(factory) => {
                    let provider = factory();
                    out.schemas.insert(name.clone(), provider.schema());
                    out.providers.insert(name.clone(), provider);
                }
                None => diags.push(Diagnostic::error(
                    "Unknown provider",
                    format!(
                        "No provider named \"{name}\" is available.{} Available providers: {}.",
                        closest(name, self.names())
                            .map(|c| format!(" Did you mean \"{c}\"?"))
                            .unwrap_or_default(),
                        self.names().collect::<Vec<_>>().join(", ")
                    ),
                )),
            }
        }
        diags.into_result(out)
    }
}

/// The address Terraform gives the provider named `name` (`aws`, `aws.west`) when it asks
/// another provider to take over one of its objects (MoveResourceState): its source for a
/// plugin (`registry.terraform.io/hashicorp/aws`), `builtin/NAME` for one built into braid.
pub fn source_address(
    settings: &crate::config::terraform_block::TerraformSettings,
    name: &str,
) -> String {
    let base = name.split('.').next().unwrap_or(name);
    match settings
        .required_providers
        .get(base)
        .and_then(|source| install::ProviderAddress::parse(source).ok())
    {
        Some(address) => address.to_string(),
        None => format!("builtin/{base}"),
    }
}

/// The providers one run uses, with their schemas.
#[derive(Clone, Default)]
pub struct Providers {
    providers: BTreeMap<String, Arc<dyn Provider>>,
    schemas: BTreeMap<String, ProviderSchema>,
}

impl fmt::Debug for Providers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.providers.keys()).finish()
    }
}

impl Providers {
    /// The provider called `name` in configuration.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Provider>> {
        self.providers.get(name)
    }

    /// Asks every provider to cut its operations in flight short (an interrupted apply).
    pub async fn stop_all(&self) {
        futures::future::join_all(self.providers.values().map(|p| p.stop())).await;
    }

    /// Gives each provider what it kept in state beside its objects (a Terraform plugin's
    /// private data and schema version), before the run calls it about them.
    pub fn restore_object_meta(&self, records: &[braid_state::ResourceIndexEntry]) {
        for record in records {
            if let (Some(meta), Some(provider)) = (&record.meta, self.get(&record.provider)) {
                provider.restore_object_meta(&record.address, meta);
            }
        }
    }

    /// What the provider called `name` keeps beside the object at `address`, for state.
    pub fn object_meta(&self, name: &str, address: &str) -> Option<braid_provider::ObjectMeta> {
        self.get(name)
            .and_then(|p| p.object_meta(address))
            .filter(|m| !m.is_empty())
    }

    /// The schema of the provider called `name`.
    pub fn schema(&self, name: &str) -> Option<&ProviderSchema> {
        self.schemas.get(name)
    }

    /// The schema of a declared resource's type, or of its data source for a `data` block.
    pub fn type_schema(
        &self,
        decl: &crate::config::ResourceDecl,
    ) -> Option<&braid_provider::ResourceSchema> {
        let schema = self.schema(&decl.provider)?;
        if decl.data {
            schema.data_sources.get(&decl.type_name)
        } else {
            schema.resources.get(&decl.type_name)
        }
    }

    /// Where a change stands among changes ready at the same time (see
    /// [`Provider::apply_rank`]); 0 for a provider this run does not have.
    pub fn apply_rank(&self, provider: &str, type_name: &str, state: &Value) -> u32 {
        self.get(provider)
            .map_or(0, |p| p.apply_rank(type_name, state))
    }

    /// Configures every provider: `config` gives each one's settings from braid.hcl, which
    /// the provider completes from `run` before it is configured; `location` says where a
    /// provider's settings (or one attribute of them) are written, for its diagnostics.
    pub async fn configure(
        &self,
        config: impl Fn(&str) -> Value,
        location: impl Fn(&str, Option<&str>) -> Option<Location>,
        run: &RunContext,
    ) -> Result<(), Diagnostics> {
        let mut diags = Diagnostics::new();
        for (name, provider) in &self.providers {
            let settings = provider.complete_config(config(name), run);
            let started = std::time::Instant::now();
            let what = format!("provider \"{name}\"");
            match bounded(Call::Configure, name, &what, provider.configure(settings)).await {
                Ok(found) => {
                    for d in found {
                        let at = location(name, d.attribute.as_ref().and_then(|p| p.attribute()));
                        diags.push(from_provider(d, at, &what));
                    }
                }
                Err(d) => diags.push(d),
            }
            tracing::debug!(
                provider = %name,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "provider configured"
            );
        }
        diags.into_result(())
    }
}
