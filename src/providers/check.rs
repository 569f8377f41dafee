//! Checks of resource bodies against their providers' schemas, and provider diagnostics
//! turned into user diagnostics.

use braid_provider::Use;

use super::Providers;
use crate::config::{Module, ResourceDecl};
use crate::diag::{Diagnostic, Diagnostics, closest};

/// Checks every resource body against its provider's schema: unknown attributes, computed
/// ones set, required ones missing.
pub fn check_resources(module: &Module, providers: &Providers) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for r in module.written_resources() {
        check_resource(r, providers, &mut diags);
    }
    diags
}

fn check_resource(r: &ResourceDecl, providers: &Providers, diags: &mut Diagnostics) {
    let Some(schema) = providers.schema(&r.provider) else {
        return;
    };
    let (types, what) = if r.data {
        (&schema.data_sources, "data source")
    } else {
        (&schema.resources, "resource type")
    };
    let Some(resource) = types.get(&r.type_name) else {
        diags.push(
            Diagnostic::error(
                format!("Unknown {what}"),
                format!(
                    "The {} provider has no {what} \"{}\".{}",
                    r.provider,
                    r.type_name,
                    closest(&r.type_name, types.keys().map(String::as_str))
                        .map(|c| format!(" Did you mean \"{c}\"?"))
                        .unwrap_or_else(|| format!(
                            " It offers: {}.",
                            types.keys().cloned().collect::<Vec<_>>().join(", ")
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
        .map(|a| (a.name.as_str(), &a.name_location))
        .chain(
            body.blocks
                .iter()
                .map(|b| (b.effective_kind(), &b.location)),
        );
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
            && !body.blocks.iter().any(|b| b.effective_kind() == name)
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
