//! `braid state import-terraform`: a Terraform state (format version 4) into an
//! environment's state, so a team switches to braid without recreating anything.
//!
//! Each managed instance whose Terraform provider braid serves (the caller says which
//! Terraform providers braid's built-in providers stand for) becomes the record braid's
//! provider would have written after creating the object: Terraform's attributes give the
//! identity and what the provider cannot read back (`force_destroy`), then the provider
//! reads the live object, as a refresh does. Instances of other providers are listed and
//! left out only when the caller allows a partial import. Everything is written as one
//! audited change under the environment's lock, or nothing is.

mod convert;
mod state_file;
mod write;

pub use state_file::{SUPPORTED_VERSION, TerraformState, parse};

use std::collections::{BTreeMap, BTreeSet};

use braid_provider::{ReadRequest, Value};
use braid_state::{OutputRecord, ResourceRecord, StateStore};
use futures::StreamExt;

use crate::apply::{CancelToken, LockObserver, LockSettings, with_lock};
use crate::diag::{Diagnostic, Diagnostics, from_provider};
use crate::providers::{Call, ProviderRegistry, Providers, bounded};
use crate::workspace::Workspace;
use state_file::{Mode, TerraformInstance, TerraformResource};
use write::{conflicts, write};

/// The operation name recorded in the audit log and the lock.
pub const OPERATION: &str = "import-terraform";

/// How the import runs.
#[derive(Debug, Clone, Default)]
pub struct ImportTerraformOptions {
    /// Terraform provider source address (`registry.terraform.io/hashicorp/aws`) → the name
    /// of the braid provider in the registry that serves its resource types the same way.
    pub terraform_providers: BTreeMap<String, String>,
    /// Import what braid serves and leave out (listing them) instances of providers or
    /// types braid does not serve, and objects that no longer exist.
    pub allow_partial: bool,
    /// Replace resources (and outputs) the environment's state already holds at the same
    /// addresses (names).
    pub force: bool,
    /// Read and convert everything, write nothing.
    pub dry_run: bool,
    /// How to take the environment's lock.
    pub lock: LockSettings,
    /// Raised by an interrupt: nothing is written from then on.
    pub cancel: CancelToken,
}

/// What the import did (or, with `dry_run`, would do): plain data for the views.
#[derive(Debug, Clone, Default)]
pub struct TerraformImport {
    /// The Terraform state read.
    pub terraform_version: String,
    /// Its serial.
    pub serial: u64,
    /// Its lineage.
    pub lineage: String,
    /// The instances imported, by address.
    pub imported: Vec<ImportedResource>,
    /// Instances left out because braid does not serve their provider or type.
    pub not_served: Vec<NotServed>,
    /// Instances whose object no longer exists (the provider found nothing by its id).
    pub missing: Vec<MissingObject>,
    /// How many data source instances the file holds (never imported: a plan reads them).
    pub data_sources: usize,
    /// The outputs imported.
    pub outputs: Vec<ImportedOutput>,
    /// Outputs left out because their value is null (Terraform and braid keep none).
    pub null_outputs: Vec<String>,
    /// Addresses (and `output.NAME`s) already in state that `force` replaced.
    pub replaced: Vec<String>,
    /// True when nothing was written because `dry_run` was asked for.
    pub dry_run: bool,
    /// The state's serial after the write; `None` when nothing was written.
    pub serial_after: Option<u64>,
}

/// One instance imported.
#[derive(Debug, Clone)]
pub struct ImportedResource {
    /// braid's (and Terraform's) address.
    pub address: String,
    /// The resource type.
    pub type_name: String,
    /// The braid provider that manages it now.
    pub provider: String,
    /// Terraform's provider source address.
    pub terraform_provider: String,
    /// The braid provider's id of the object (may differ from Terraform's).
    pub id: Option<String>,
    /// Terraform's id of the object.
    pub terraform_id: Option<String>,
}

/// One instance left out because braid does not serve it.
#[derive(Debug, Clone)]
pub struct NotServed {
    /// Its address.
    pub address: String,
    /// The resource type.
    pub type_name: String,
    /// Terraform's provider source address.
    pub terraform_provider: String,
    /// Why, as a phrase naming the provider and type: `needs provider
    /// registry.terraform.io/hashicorp/aws for aws_vpc, which braid does not serve yet`.
    pub reason: String,
}

/// One instance whose object the provider no longer finds.
#[derive(Debug, Clone)]
pub struct MissingObject {
    /// Its address.
    pub address: String,
    /// The resource type.
    pub type_name: String,
    /// Terraform's id of the object.
    pub terraform_id: Option<String>,
}

/// One output imported.
#[derive(Debug, Clone)]
pub struct ImportedOutput {
    /// Its name.
    pub name: String,
    /// Whether it is sensitive (its value is never shown).
    pub sensitive: bool,
}

/// One managed instance on its way into state.
struct Candidate<'a> {
    address: String,
    resource: &'a TerraformResource,
    instance: &'a TerraformInstance,
    provider: String,
}

/// Imports `state` into the workspace's environment: see the module docs. Refuses, before
/// writing anything, a state with tainted or deposed objects, instances braid does not
/// serve (unless `allow_partial`), and addresses state already holds (unless `force`).
pub async fn import_terraform(
    registry: &ProviderRegistry,
    ws: &Workspace,
    store: &dyn StateStore,
    state: &TerraformState,
    options: &ImportTerraformOptions,
    lock_observer: &dyn LockObserver,
) -> Result<TerraformImport, Diagnostics> {
    let mut report = TerraformImport {
        terraform_version: state.terraform_version.clone(),
        serial: state.serial,
        lineage: state.lineage.clone(),
        dry_run: options.dry_run,
        ..TerraformImport::default()
    };
    refuse_unusable_objects(state)?;

    let candidates = classify(ws, registry, state, options, &mut report)?;
    if !report.not_served.is_empty() && !options.allow_partial {
        return Err(not_served_error(&report.not_served).into());
    }
    check_unique(&candidates)?;

    // The providers that read the objects, configured as for a plan (with those of the
    // configuration, which must be valid anyway).
    let mut imported = Vec::new();
    let providers = if candidates.is_empty() {
        Providers::default()
    } else {
        let providers = ws
            .providers_with_plugins(registry, candidates.iter().map(|c| c.provider.clone()))
            .await?;
        ws.configure(&providers).await?;
        providers
    };
    let dependencies = ws.dependencies();
    let reads: Vec<_> = futures::stream::iter(
        candidates
            .iter()
            .map(|c| read_object(ws, &providers, &dependencies, c)),
    )
    .buffered(READ_PARALLELISM)
    .collect()
    .await;
    let mut errors = Diagnostics::new();
    for read in reads {
        match read {
            Err(diags) => errors.extend(diags),
            Ok(ReadOutcome::Found(found)) => {
                let (record, summary) = *found;
                report.imported.push(summary);
                imported.push(record);
            }
            Ok(ReadOutcome::Missing(missing)) => report.missing.push(missing),
        }
    }
    if errors.has_errors() {
        return Err(errors);
    }
    if !report.missing.is_empty() && !options.allow_partial {
        return Err(missing_error(&report.missing).into());
    }

    let mut outputs = Vec::new();
    for (name, output) in &state.outputs {
        if output.value.is_null() {
            report.null_outputs.push(name.clone());
            continue;
        }
        report.outputs.push(ImportedOutput {
            name: name.clone(),
            sensitive: output.sensitive,
        });
        outputs.push(OutputRecord {
            name: name.clone(),
            value: Value::from_json(&output.value),
            sensitive: output.sensitive,
        });
    }

    // A first look at conflicts, so a dry run reports them too; the write looks again
    // under the lock.
    report.replaced = conflicts(store, &imported, &outputs, options.force).await?;
    if options.dry_run || (imported.is_empty() && outputs.is_empty()) {
        return Ok(report);
    }
    interrupted(&options.cancel)?;
    let request = crate::actor::lock_request(OPERATION, &ws.project.dir);
    let serial_after = with_lock(store, request, &options.lock, lock_observer, async {
        conflicts(store, &imported, &outputs, options.force).await?;
        interrupted(&options.cancel)?;
        write(ws, store, state, imported, outputs).await
    })
    .await?;
    report.serial_after = Some(serial_after);
    Ok(report)
}

/// Sorts the managed instances into those braid's providers serve (returned, with their
/// addresses) and those they do not (`report.not_served`); counts data sources.
fn classify<'a>(
    ws: &Workspace,
    registry: &ProviderRegistry,
    state: &'a TerraformState,
    options: &ImportTerraformOptions,
    report: &mut TerraformImport,
) -> Result<Vec<Candidate<'a>>, Diagnostics> {
    // Unconfigured providers, for their schemas: which types each serves.
    let offered: BTreeSet<String> = options
        .terraform_providers
        .values()
        .filter(|name| registry.contains(name))
        .cloned()
        .collect();
    let schemas = registry.instantiate(&offered)?;
    // Providers `required_providers` declares are served by their Terraform plugins: the
    // same provider that wrote the state, so every type of it is served.
    let plugins: BTreeMap<String, String> = ws
        .module
        .terraform
        .required_providers
        .iter()
        .filter_map(|(name, source)| {
            crate::providers::install::ProviderAddress::parse(source)
                .ok()
                .map(|address| (address.to_string(), name.clone()))
        })
        .collect();

    let mut candidates = Vec::new();
    for resource in &state.resources {
        let Some(base) = resource.resource_address() else {
            return Err(Diagnostic::error(
                "Invalid Terraform state",
                format!(
                    "The resource {}.{} has the module path \"{}\", which is not a module address (module.NAME, module.NAME[KEY]...). Pull the state again with terraform state pull.",
                    resource.type_name,
                    resource.name,
                    resource.module.as_deref().unwrap_or_default()
                ),
            )
            .into());
        };
        for instance in &resource.instances {
            let key = instance.key().map_err(|why| {
                Diagnostic::error(
                    "Invalid Terraform state",
                    format!("An instance of {base} has an invalid key: {why}."),
                )
            })?;
            let address = match key {
                Some(key) => format!("{base}{key}"),
                None => base.clone(),
            };
            if resource.mode == Mode::Data {
                report.data_sources += 1;
                continue;
            }
            let (source, alias) = resource.provider_address();
            let plugin = plugins.get(&source);
            let served_by = plugin.or_else(|| options.terraform_providers.get(&source));
            let type_name = &resource.type_name;
            let unserved = || {
                Some(format!(
                    "needs provider {source} for {type_name}, which braid does not serve yet"
                ))
            };
            let reason = match (served_by, &alias) {
                (None, _) => unserved(),
                (Some(name), Some(alias))
                    if plugin.is_some() && !ws.declares_provider(&format!("{name}.{alias}")) =>
                {
                    Some(format!(
                        "uses the provider configuration {name}.{alias} (an alias) for {type_name}, which is not declared: add provider \"{name}\" {{ alias = \"{alias}\" ... }}"
                    ))
                }
                (Some(_), _) if plugin.is_some() => None,
                (Some(name), _) if !registry.contains(name) => Some(format!(
                    "needs provider {source} for {type_name}, which this braid was built without"
                )),
                (Some(name), _)
                    if !schemas
                        .schema(name)
                        .is_some_and(|s| s.resources.contains_key(type_name)) =>
                {
                    unserved()
                }
                (Some(name), Some(alias)) if !ws.declares_provider(&format!("{name}.{alias}")) => {
                    Some(format!(
                        "uses the provider configuration {name}.{alias} (an alias) for {type_name}, which braid.hcl does not declare: add provider \"{name}\" {{ alias = \"{alias}\" ... }}"
                    ))
                }
                (Some(_), _) => None,
            };
            match (reason, served_by) {
                (None, Some(name)) => candidates.push(Candidate {
                    address,
                    resource,
                    instance,
                    provider: match &alias {
                        Some(alias) => format!("{name}.{alias}"),
                        None => name.clone(),
                    },
                }),
                (reason, _) => report.not_served.push(NotServed {
                    address,
                    type_name: resource.type_name.clone(),
                    terraform_provider: source,
                    reason: reason.unwrap_or_default(),
                }),
            }
        }
    }
    Ok(candidates)
}

/// How many objects are read at once (as a plan's refresh, `--parallelism`'s default).
const READ_PARALLELISM: usize = 16;

/// What reading one object found.
enum ReadOutcome {
    /// The record to write, and its line of the report.
    Found(Box<(ResourceRecord, ImportedResource)>),
    /// The provider found no object by the id Terraform recorded.
    Missing(MissingObject),
}

/// Reads the object of one instance through braid's provider, starting from the
/// attributes of Terraform's state that braid's type has.
async fn read_object(
    ws: &Workspace,
    providers: &Providers,
    dependencies: &crate::graph::Dependencies,
    candidate: &Candidate<'_>,
) -> Result<ReadOutcome, Diagnostics> {
    let address = candidate.address.as_str();
    let type_name = &candidate.resource.type_name;
    let (Some(provider), Some(schema)) = (
        providers.get(&candidate.provider),
        providers
            .schema(&candidate.provider)
            .and_then(|s| s.resources.get(type_name)),
    ) else {
        // Candidates are those whose provider and type the registry offers.
        return Err(Diagnostic::error(
            "Provider not available",
            format!(
                "No provider \"{}\" with the type {type_name} is configured.",
                candidate.provider
            ),
        )
        .into());
    };
    let empty = serde_json::Map::new();
    let attributes = candidate.instance.attributes.as_ref().unwrap_or(&empty);
    let terraform_id = attributes
        .get("id")
        .and_then(serde_json::Value::as_str)
        .map(str::to_string);
    let decl = ws.module.resources.get(address).filter(|d| !d.data);
    // What Terraform kept beside the object: a plugin reads it back as Terraform's would.
    use base64::Engine as _;
    let private = candidate
        .instance
        .private
        .as_deref()
        .and_then(|p| base64::engine::general_purpose::STANDARD.decode(p).ok())
        .unwrap_or_default();
    provider.restore_object_meta(
        address,
        &braid_provider::ObjectMeta {
            schema_version: Some(candidate.instance.schema_version),
            private,
        },
    );
    let read = provider.read(ReadRequest {
        type_name: type_name.clone(),
        address: address.to_string(),
        current: convert::current_attributes(schema, attributes),
    });
    let response = bounded(Call::Read, &candidate.provider, address, read).await?;
    let mut diags = Diagnostics::new();
    for d in response.diagnostics {
        diags.push(from_provider(d, decl.map(|d| d.location.clone()), address));
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let Some(live) = response.state else {
        return Ok(ReadOutcome::Missing(MissingObject {
            address: address.to_string(),
            type_name: type_name.clone(),
            terraform_id,
        }));
    };
    let record = ResourceRecord {
        address: address.to_string(),
        provider: candidate.provider.clone(),
        type_name: type_name.clone(),
        id: live.attr("id").and_then(Value::as_str).map(str::to_string),
        attributes: live,
        sensitive_paths: convert::sensitive_paths(schema, &candidate.instance.sensitive_attributes),
        // What braid would record applying the configuration, where it declares the
        // resource; else what Terraform recorded.
        dependencies: match (decl, dependencies.get(address)) {
            (Some(_), Some(deps)) => deps.iter().cloned().collect(),
            _ => candidate.instance.dependencies.clone(),
        },
        source_file: decl.map(|d| d.source_file()),
        meta: providers.object_meta(&candidate.provider, address),
    };
    let summary = ImportedResource {
        address: address.to_string(),
        type_name: type_name.clone(),
        provider: candidate.provider.clone(),
        terraform_provider: candidate.resource.provider_address().0,
        id: record.id.clone(),
        terraform_id,
    };
    Ok(ReadOutcome::Found(Box::new((record, summary))))
}

/// An interrupt before the write stops the import with nothing written.
fn interrupted(cancel: &CancelToken) -> Result<(), Diagnostics> {
    if cancel.is_cancelled() {
        return Err(Diagnostic::error(
            "Import interrupted",
            "The import was interrupted before anything was written; state is as it was.",
        )
        .into());
    }
    Ok(())
}

/// braid keeps no taint mark, and a deposed object is one Terraform has not finished
/// replacing: both need Terraform to settle them first.
fn refuse_unusable_objects(state: &TerraformState) -> Result<(), Diagnostics> {
    let mut tainted = Vec::new();
    let mut deposed = Vec::new();
    for resource in state.resources.iter().filter(|r| r.mode == Mode::Managed) {
        let base = resource
            .resource_address()
            .unwrap_or_else(|| format!("{}.{}", resource.type_name, resource.name));
        for instance in &resource.instances {
            let address = match instance.key() {
                Ok(Some(key)) => format!("{base}{key}"),
                _ => base.clone(),
            };
            if let Some(key) = &instance.deposed {
                deposed.push(format!("{address} (deposed object {key})"));
            } else if instance.status.as_deref() == Some("tainted") {
                tainted.push(address);
            }
        }
    }
    let mut diags = Diagnostics::new();
    if !tainted.is_empty() {
        diags.push(Diagnostic::error(
            "Tainted objects in Terraform state",
            format!(
                "Terraform marked these objects tainted (to be replaced by its next apply): {}. braid keeps no taint mark, so importing them would forget that they must be replaced. Either let Terraform replace them first (terraform apply), or remove the mark (terraform untaint ADDRESS, then terraform state pull again), import, and replace them with braid apply --replace ADDRESS.",
                tainted.join(", ")
            ),
        ));
    }
    if !deposed.is_empty() {
        diags.push(Diagnostic::error(
            "Deposed objects in Terraform state",
            format!(
                "Terraform state holds objects it replaced but has not deleted yet (create_before_destroy): {}. braid cannot adopt them. Run terraform apply to finish deleting them, then terraform state pull again and import that.",
                deposed.join(", ")
            ),
        ));
    }
    diags.into_result(())
}

fn not_served_error(not_served: &[NotServed]) -> Diagnostic {
    Diagnostic::error(
        "Resources braid cannot import",
        format!(
            "The Terraform state holds resources braid does not serve, so nothing was imported:\n{}\nImport the rest with --allow-partial; braid then does not manage these (keep them in Terraform, or leave them unmanaged).",
            not_served_lines(not_served)
        ),
    )
}

/// One line per reason (a Terraform provider and type): `needs provider P for T, which
/// braid does not serve yet: ADDR, ADDR`.
pub fn not_served_lines(not_served: &[NotServed]) -> String {
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for n in not_served {
        groups.entry(&n.reason).or_default().push(&n.address);
    }
    groups
        .into_iter()
        .map(|(reason, addresses)| format!("  - {reason}: {}", addresses.join(", ")))
        .collect::<Vec<_>>()
        .join("\n")
}

fn missing_error(missing: &[MissingObject]) -> Diagnostic {
    Diagnostic::error(
        "Objects no longer exist",
        format!(
            "braid's provider found no live object for these resources of the Terraform state, so nothing was imported: {}. They were deleted since Terraform last refreshed its state (terraform plan -refresh-only shows it), or the provider is configured for another account or region. Import the rest with --allow-partial: the next braid plan then creates them again.",
            missing
                .iter()
                .map(|m| match &m.terraform_id {
                    Some(id) => format!("{} (id {id})", m.address),
                    None => m.address.clone(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

fn check_unique(candidates: &[Candidate<'_>]) -> Result<(), Diagnostics> {
    let mut seen = BTreeSet::new();
    let twice: Vec<&str> = candidates
        .iter()
        .filter(|c| !seen.insert(c.address.as_str()))
        .map(|c| c.address.as_str())
        .collect();
    if twice.is_empty() {
        return Ok(());
    }
    Err(Diagnostic::error(
        "Invalid Terraform state",
        format!(
            "The Terraform state holds more than one object at {}. Pull it again with terraform state pull.",
            twice.join(", ")
        ),
    )
    .into())
}
