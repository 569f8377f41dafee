//! The providers braid ships with, found by name, and checks of resource bodies against
//! their schemas.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use braid_provider::{Provider, ProviderDiagnostic, ProviderSchema, Use, Value};
use braid_provider_kubernetes::KubernetesProvider;
use braid_provider_local::LocalProvider;

use crate::config::{Module, ResourceDecl};
use crate::diag::{Diagnostic, Diagnostics, Location, closest};

/// Names of the built-in providers.
#[cfg(feature = "aws")]
pub const BUILT_IN: &[&str] = &["aws", "kubernetes", "local"];
/// Names of the built-in providers (built without the `aws` feature).
#[cfg(not(feature = "aws"))]
pub const BUILT_IN: &[&str] = &["kubernetes", "local"];

fn instantiate(name: &str) -> Option<Arc<dyn Provider>> {
    match name {
        #[cfg(feature = "aws")]
        "aws" => Some(Arc::new(braid_provider_aws::AwsProvider::new())),
        "kubernetes" => Some(Arc::new(KubernetesProvider::new())),
        "local" => Some(Arc::new(LocalProvider::new())),
        _ => None,
    }
}

/// The providers one run uses, with their schemas.
#[derive(Clone, Default)]
pub struct Providers {
    providers: BTreeMap<String, Arc<dyn Provider>>,
    schemas: BTreeMap<String, ProviderSchema>,
}

impl Providers {
    /// Instantiates (without configuring) every provider `names` asks for.
    pub fn instantiate(names: &BTreeSet<String>) -> Result<Providers, Diagnostics> {
        let mut out = Providers::default();
        let mut diags = Diagnostics::new();
        for name in names {
            match instantiate(name) {
                Some(p) => {
                    out.schemas.insert(name.clone(), p.schema());
                    out.providers.insert(name.clone(), p);
                }
                None => diags.push(Diagnostic::error(
                    "Unknown provider",
                    format!(
                        "No provider named \"{name}\" is built into braid.{} Available providers: {}.",
                        closest(name, BUILT_IN.iter().copied())
                            .map(|c| format!(" Did you mean \"{c}\"?"))
                            .unwrap_or_default(),
                        BUILT_IN.join(", ")
                    ),
                )),
            }
        }
        diags.into_result(out)
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Provider>> {
        self.providers.get(name)
    }

    pub fn schema(&self, name: &str) -> Option<&ProviderSchema> {
        self.schemas.get(name)
    }

    /// Configures every provider; `config` gives each one's settings.
    pub async fn configure(&self, config: impl Fn(&str) -> Value) -> Result<(), Diagnostics> {
        let mut diags = Diagnostics::new();
        for (name, provider) in &self.providers {
            for d in provider.configure(config(name)).await {
                diags.push(from_provider(d, None, &format!("provider \"{name}\"")));
            }
        }
        diags.into_result(())
    }
}

/// Turns a provider's diagnostic into a user diagnostic about `address`.
pub fn from_provider(
    d: ProviderDiagnostic,
    location: Option<Location>,
    address: &str,
) -> Diagnostic {
    let detail = match &d.attribute {
        Some(path) if !path.is_root() => format!("{} (attribute {path} of {address})", d.detail),
        _ => d.detail.clone(),
    };
    let out = if d.is_error() {
        Diagnostic::error(d.summary, detail)
    } else {
        Diagnostic::warning(d.summary, detail)
    };
    out.at_opt(location).for_address(address)
}

/// Checks every resource body against its provider's schema: unknown attributes, computed
/// ones set, required ones missing.
pub fn check_resources(module: &Module, providers: &Providers) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for r in module.resources.values() {
        check_resource(r, providers, &mut diags);
    }
    diags
}

fn check_resource(r: &ResourceDecl, providers: &Providers, diags: &mut Diagnostics) {
    let Some(schema) = providers.schema(&r.provider) else {
        return;
    };
    let Some(resource) = schema.resources.get(&r.type_name) else {
        diags.push(
            Diagnostic::error(
                "Unknown resource type",
                format!(
                    "The {} provider has no resource type \"{}\".{}",
                    r.provider,
                    r.type_name,
                    closest(&r.type_name, schema.resources.keys().map(String::as_str))
                        .map(|c| format!(" Did you mean \"{c}\"?"))
                        .unwrap_or_else(|| format!(
                            " It offers: {}.",
                            schema
                                .resources
                                .keys()
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                ),
            )
            .at(r.location.clone())
            .for_address(&r.address),
        );
        return;
    };
    let Some(body) = r.hcl().filter(|_| !resource.open) else {
        return;
    };
    let names = || {
        resource
            .attributes
            .iter()
            .filter(|(_, a)| a.settable())
            .map(|(n, _)| n.as_str())
    };
    let set_names = body
        .attributes
        .iter()
        .map(|a| (&a.name, &a.name_location))
        .chain(body.blocks.iter().map(|b| (&b.kind, &b.location)));
    for (name, location) in set_names {
        match resource.attributes.get(name) {
            None => diags.push(
                Diagnostic::error(
                    "Unsupported argument",
                    format!(
                        "{} has no argument \"{name}\".{}",
                        r.type_name,
                        closest(name, names())
                            .map(|c| format!(" Did you mean \"{c}\"?"))
                            .unwrap_or_else(|| format!(" Its arguments are: {}.", names().collect::<Vec<_>>().join(", ")))
                    ),
                )
                .at(location.clone())
                .for_address(&r.address),
            ),
            Some(a) if a.r#use == Use::Computed => diags.push(
                Diagnostic::error(
                    "Value for computed attribute",
                    format!("\"{name}\" of {} is set by the provider and cannot be set in configuration; remove it.", r.type_name),
                )
                .at(location.clone())
                .for_address(&r.address),
            ),
            Some(_) => {}
        }
    }
    for (name, a) in &resource.attributes {
        if a.r#use == Use::Required
            && body.attribute(name).is_none()
            && !body.blocks.iter().any(|b| &b.kind == name)
        {
            diags.push(
                Diagnostic::error(
                    "Missing required argument",
                    format!(
                        "{} needs \"{name}\" ({}); add it to the resource block.",
                        r.type_name, a.description
                    ),
                )
                .at(r.location.clone())
                .for_address(&r.address),
            );
        }
    }
}
