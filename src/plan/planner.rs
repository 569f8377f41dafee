//! Making a plan: refresh what state holds, evaluate the configuration in dependency order,
//! ask each provider what it would do, and record the differences.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use braid_provider::{Path, PlanRequest, Value};
use braid_state::{ResourceRecord, StateStore};
use chrono::Utc;
use sha2::{Digest, Sha256};

use super::refresh::refresh;
use super::sensitivity;
use super::{
    Action, EvalScope, FORMAT_VERSION, OutputValue, Plan, PlanMode, PlanObserver, PlannedVariable,
    ResourceChange, StateRef,
};
use crate::config::eval::ScopeValue;
use crate::config::{InstanceKey, ResourceDecl, split_instance_address};
use crate::diag::{Diagnostic, Diagnostics, from_provider, state_error};
use crate::graph::{Dag, WalkOutcome, walk};
use crate::providers::{Call, Providers, bounded};
use crate::workspace::Workspace;

/// How to make a plan: what to aim at, whether to read live objects first, and how many provider
/// calls may run at once. Filled from the flags of `plan`, `apply` and `destroy`.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// What the plan aims at: the configuration, destroying everything, or only recording drift.
    pub mode: PlanMode,
    /// Read live objects before diffing (`--refresh=false` turns it off).
    pub refresh: bool,
    /// How many resources are refreshed and planned at once (`--parallelism`, 16 by default).
    pub parallelism: usize,
    /// `--target`: plan only these resources and what they depend on (for a destroy plan:
    /// these and what depends on them). Empty: everything.
    pub targets: Vec<String>,
    /// `--replace`: plan these resources' replacement even if nothing forces it.
    pub replace: Vec<String>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            mode: PlanMode::Normal,
            refresh: true,
            parallelism: 16,
            targets: Vec::new(),
            replace: Vec::new(),
        }
    }
}

/// The addresses a targeted plan covers, or `None` when nothing is targeted: the targets and,
/// transitively, what they depend on — or for a destroy plan, what depends on them. A target
/// that is neither configured nor in state is an error.
fn targeted_addresses(
    ws: &Workspace,
    records: &[ResourceRecord],
    options: &PlanOptions,
) -> Result<Option<BTreeSet<String>>, Diagnostics> {
    check_addresses(ws, records, &options.replace, "--replace")?;
    if options.targets.is_empty() {
        return Ok(None);
    }
    check_addresses(ws, records, &options.targets, "--target")?;
    // Direct dependencies of every resource, from configuration and from state.
    let mut depends: BTreeMap<String, BTreeSet<String>> = ws
        .dependencies()
        .into_iter()
        .map(|(address, deps)| (address, (*deps).clone()))
        .collect();
    for record in records {
        // What state recorded counts for resources the configuration no longer has, and for
        // every resource when destroying (the order of deletes follows state).
        if options.mode == PlanMode::Destroy || !ws.module.resources.contains_key(&record.address) {
            depends
                .entry(record.address.clone())
                .or_default()
                .extend(record.dependencies.iter().cloned());
        }
    }
    // A resource written with count/for_each stands for all its instances.
    let mut covered: BTreeSet<String> = BTreeSet::new();
    for target in &options.targets {
        covered.insert(target.clone());
        covered.extend(ws.module.instances_of(target));
        covered.extend(
            records
                .iter()
                .filter(|r| {
                    crate::config::resource_groups(&r.address).any(|g| g == target.as_str())
                        || crate::config::within_module(&r.address, target)
                })
                .map(|r| r.address.clone()),
        );
    }
    if options.mode == PlanMode::Destroy {
        // Whatever depends on a covered resource goes too.
        loop {
            let more: Vec<String> = depends
                .iter()
                .filter(|(address, deps)| {
                    !covered.contains(*address)
                        && deps.iter().any(|d| {
                            covered.contains(d)
                                || covered.iter().any(|c| {
                                    crate::config::config_resource_address(c) == d.as_str()
                                })
                        })
                })
                .map(|(address, _)| address.clone())
                .collect();
            if more.is_empty() {
                break;
            }
            covered.extend(more);
        }
    } else {
        let mut stack: Vec<String> = covered.iter().cloned().collect();
        while let Some(address) = stack.pop() {
            for dep in depends.get(&address).into_iter().flatten() {
                // A dependency names a resource as written: all its instances come along.
                let instances = ws.module.instances_of(dep);
                let held = records
                    .iter()
                    .filter(|r| {
                        crate::config::resource_groups(&r.address).any(|g| g == dep.as_str())
                    })
                    .map(|r| r.address.clone());
                for needed in std::iter::once(dep.clone()).chain(instances).chain(held) {
                    if covered.insert(needed.clone()) {
                        stack.push(needed);
                    }
                }
            }
        }
    }
    Ok(Some(covered))
}

/// Fails on an address of `flag` that names no configured resource and nothing in state.
fn check_addresses(
    ws: &Workspace,
    records: &[ResourceRecord],
    addresses: &[String],
    flag: &str,
) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::new();
    for address in addresses {
        let known = ws.module.resources.contains_key(address)
            || ws.module.declares(address)
            || records.iter().any(|r| {
                &r.address == address || crate::config::within_module(&r.address, address)
            });
        if !known {
            let candidates = ws
                .module
                .resources
                .keys()
                .map(String::as_str)
                .chain(records.iter().map(|r| r.address.as_str()));
            diags.push(Diagnostic::error(
                "No such resource",
                format!(
                    "{flag} {address} names no resource of the configuration or of state.{} List them with braid state list, or see the plan without {flag}.",
                    crate::diag::closest(address, candidates)
                        .map(|c| format!(" Did you mean {c}?"))
                        .unwrap_or_default()
                ),
            ));
        }
    }
    diags.into_result(())
}

/// Moves state's records to the addresses configuration now gives them, as Terraform does
/// without being asked: `count` added to a resource moves `aws_x.y` to `aws_x.y[0]`, `count`
/// removed moves `aws_x.y[0]` back. Returns the old address of each moved record by its new
/// one; apply renames the records in state before any change.
fn move_records(
    ws: &Workspace,
    records: &mut [ResourceRecord],
) -> Result<BTreeMap<String, String>, Diagnostics> {
    let mut diags = Diagnostics::new();
    for import in &ws.module.imports {
        if !ws.module.resources.contains_key(&import.to) {
            diags.push(
                Diagnostic::error(
                    "Configuration for import target does not exist",
                    format!(
                        "The import block's target {} is not declared. Write its resource block first (with the instance key, for a count or for_each resource).",
                        import.to
                    ),
                )
                .at(import.location.clone()),
            );
        }
    }
    for removed in &ws.module.removed {
        if ws.module.declares(&removed.from) {
            diags.push(
                Diagnostic::error(
                    "Removed resource still exists",
                    format!(
                        "This removed block is for {}, but that resource is still declared. Remove its resource block, or this removed block.",
                        removed.from
                    ),
                )
                .at(removed.location.clone()),
            );
        }
    }
    // Where each record started, by where it is now.
    let mut origin: BTreeMap<String, String> = records
        .iter()
        .map(|r| (r.address.clone(), r.address.clone()))
        .collect();
    for moved in &ws.module.moved {
        let (from_written, from_key) = split_instance_address(&moved.from);
        let still_declared = if crate::config::is_module_address(&moved.from) {
            ws.module.module_instances.contains_key(&moved.from)
        } else {
            ws.module.resources.contains_key(&moved.from) || ws.module.declares(&moved.from)
        };
        if still_declared {
            diags.push(
                Diagnostic::error(
                    "Moved object still exists",
                    format!(
                        "This statement moves {} to {}, but {} is still declared. Remove or rename its block, or remove the moved block.",
                        moved.from, moved.to, moved.from
                    ),
                )
                .at(moved.location.clone()),
            );
            continue;
        }
        let renames: Vec<(String, String)> = origin
            .keys()
            .filter_map(|current| {
                if crate::config::is_module_address(&moved.from) {
                    return module_move(current, &moved.from, &moved.to)
                        .map(|to| (current.clone(), to));
                }
                if *current == moved.from {
                    return Some((current.clone(), moved.to.clone()));
                }
                let (written, key) = split_instance_address(current);
                // A whole resource moves with all its instances, to the same keys.
                let to_whole = split_instance_address(&moved.to).1.is_none();
                match (from_key.is_none() && to_whole, written == from_written, key) {
                    (true, true, Some(key)) => {
                        Some((current.clone(), format!("{}{key}", moved.to)))
                    }
                    _ => None,
                }
            })
            .collect();
        for (current, to) in renames {
            if origin.contains_key(&to) {
                diags.push(
                    Diagnostic::error(
                        "Ambiguous move statements",
                        format!(
                            "This statement moves {current} to {to}, but state already holds a resource at {to}. Remove that one first (braid state rm) or change the moved block."
                        ),
                    )
                    .at(moved.location.clone()),
                );
                continue;
            }
            if let Some(start) = origin.remove(&current) {
                origin.insert(to, start);
            }
        }
    }
    // count added or removed, unless a moved block already placed a record there.
    let implicit: Vec<(String, String)> = ws
        .module
        .resources
        .values()
        .filter(|decl| !origin.contains_key(&decl.address))
        .filter_map(|decl| {
            let from = match &decl.instance {
                Some(instance) if instance.key == InstanceKey::Index(0) => {
                    instance.config_address.clone()
                }
                Some(_) => return None,
                None => format!("{}[0]", decl.address),
            };
            (origin.contains_key(&from) && !ws.module.resources.contains_key(&from))
                .then(|| (from, decl.address.clone()))
        })
        .collect();
    for (from, to) in implicit {
        if let Some(start) = origin.remove(&from) {
            origin.insert(to, start);
        }
    }
    let moves: BTreeMap<&str, &str> = origin
        .iter()
        .filter(|(now, start)| now != start)
        .map(|(now, start)| (start.as_str(), now.as_str()))
        .collect();
    let mut moved_from = BTreeMap::new();
    for record in records.iter_mut() {
        if let Some(to) = moves.get(record.address.as_str()) {
            moved_from.insert(to.to_string(), record.address.clone());
            record.address = to.to_string();
        }
    }
    diags.into_result(moved_from)
}

/// The records `moved` blocks (or `count` changes) put at a new address: their providers get
/// back what they keep beside each (private data, schema version) under the new address.
/// Where the resource declared there is of another type, its provider takes the object over
/// (MoveResourceState, as Terraform asks it) and the record becomes one of that type; a
/// provider that cannot is an error at the `moved` block. Returns the providers' warnings.
async fn move_across_types(
    ws: &Workspace,
    providers: &Providers,
    records: &mut [ResourceRecord],
    moved_from: &BTreeMap<String, String>,
) -> Result<Diagnostics, Diagnostics> {
    let moved: Vec<braid_state::ResourceIndexEntry> = records
        .iter()
        .filter(|r| moved_from.contains_key(&r.address))
        .map(|r| braid_state::ResourceIndexEntry {
            address: r.address.clone(),
            provider: r.provider.clone(),
            meta: r.meta.clone(),
        })
        .collect();
    providers.restore_object_meta(&moved);
    let mut diags = Diagnostics::new();
    for record in records.iter_mut() {
        let Some(from) = moved_from.get(&record.address) else {
            continue;
        };
        let Some(decl) = ws.module.resources.get(&record.address) else {
            continue;
        };
        if decl.type_name == record.type_name || decl.data {
            continue;
        }
        let location = ws
            .module
            .moved
            .iter()
            .find(|m| {
                *from == m.from
                    || from.starts_with(&format!("{}[", m.from))
                    || from.starts_with(&format!("{}.", m.from))
            })
            .map(|m| m.location.clone());
        // A provider that is not configured is reported where the plan needs it.
        if providers.get(&decl.provider).is_none() {
            continue;
        }
        let schema = providers.type_schema(decl);
        match take_over(
            ws,
            providers,
            record,
            &decl.provider,
            &decl.type_name,
            schema,
        )
        .await
        {
            Ok((taken, warnings)) => {
                for d in warnings {
                    diags.push(from_provider(d, location.clone(), &record.address));
                }
                *record = taken;
            }
            Err(found) => {
                for d in found {
                    diags.push(from_provider(d, location.clone(), &record.address));
                }
            }
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(diags)
}

/// `record` (at its new address) as an object of `target_type` served by the provider
/// called `provider_name`, which takes it over (MoveResourceState), with the provider's
/// warnings. The record keeps the sensitive paths it had that the new object still has, and
/// gains the new type's sensitive attributes. Planning calls it, and so does apply, from
/// state (a saved plan holds masked values, and the provider's private data of the move
/// must be in the process that applies).
pub(crate) async fn take_over(
    ws: &Workspace,
    providers: &Providers,
    record: &ResourceRecord,
    provider_name: &str,
    target_type: &str,
    schema: Option<&braid_provider::ResourceSchema>,
) -> Result<
    (ResourceRecord, Vec<braid_provider::ProviderDiagnostic>),
    Vec<braid_provider::ProviderDiagnostic>,
> {
    let refused = |detail: String| {
        vec![braid_provider::ProviderDiagnostic::error(
            "Cannot move resource",
            detail,
        )]
    };
    let Some(provider) = providers.get(provider_name) else {
        return Err(refused(format!(
            "No provider named \"{provider_name}\" is configured to take {} over as a {target_type}.",
            record.address
        )));
    };
    let response = provider
        .move_state(braid_provider::MoveRequest {
            address: record.address.clone(),
            source_provider: crate::providers::source_address(
                &ws.module.terraform,
                &record.provider,
            ),
            source_type: record.type_name.clone(),
            source_state: record.attributes.clone(),
            source_meta: record.meta.clone(),
            target_type: target_type.to_owned(),
        })
        .await;
    if response.diagnostics.iter().any(|d| d.is_error()) {
        return Err(response.diagnostics);
    }
    let Some(state) = response.state else {
        return Err(refused(format!(
            "The {provider_name} provider returned no object for {} as a {target_type}.",
            record.address
        )));
    };
    let mut sensitive_paths: Vec<Path> = record
        .sensitive_paths
        .iter()
        .filter(|path| state.get(path).is_some())
        .cloned()
        .collect();
    for name in schema.iter().flat_map(|s| s.sensitive_attributes()) {
        let path = Path::key(name);
        if !sensitive_paths.contains(&path) {
            sensitive_paths.push(path);
        }
    }
    sensitive_paths.sort();
    let taken = ResourceRecord {
        provider: provider_name.to_owned(),
        type_name: target_type.to_owned(),
        attributes: state,
        sensitive_paths,
        meta: providers.object_meta(provider_name, &record.address),
        ..record.clone()
    };
    Ok((taken, response.diagnostics))
}

/// Where a `moved` block from module `from` to module `to` puts the record at `current`:
/// an instance moves its resources (`module.a` → `module.b`, `module.a` →
/// `module.a["x"]`); a call without key moves every instance to the same key.
fn module_move(current: &str, from: &str, to: &str) -> Option<String> {
    if let Some(rest) = current.strip_prefix(from)
        && rest.starts_with('.')
    {
        return Some(format!("{to}{rest}"));
    }
    let from_whole = split_instance_address(from).1.is_none();
    let to_whole = split_instance_address(to).1.is_none();
    if from_whole && to_whole && crate::config::within_module(current, from) {
        return Some(format!("{to}{}", &current[from.len()..]));
    }
    None
}

/// Why a resource state holds is deleted although nothing asked for it, in Terraform's words.
fn removal_reason(ws: &Workspace, address: &str) -> String {
    // A whole module instance that left the configuration, as Terraform words it.
    let (prefix, _) = crate::config::split_module_prefix(address);
    let mut instance = prefix.trim_end_matches('.');
    let mut gone = None;
    while !instance.is_empty() && !ws.module.module_instances.contains_key(instance) {
        gone = Some(instance);
        instance = crate::config::split_module_prefix(instance)
            .0
            .trim_end_matches('.');
    }
    if let Some(gone) = gone {
        return format!("because {gone} is not in configuration");
    }
    let (written, key) = split_instance_address(address);
    match (ws.module.repeated.get(written), key) {
        (Some(repeated), Some(InstanceKey::Index(i))) if !repeated.is_for_each() => {
            format!("index [{i}] is out of range for count")
        }
        (Some(repeated), Some(key @ InstanceKey::Key(_))) if repeated.is_for_each() => {
            format!(
                "key {} is not in for_each map",
                &key.to_string()[1..key.to_string().len() - 1]
            )
        }
        (Some(_), _) => "the instance key does not match the resource's count or for_each".into(),
        (None, Some(_)) if ws.module.resources.contains_key(written) => {
            "the resource does not use count or for_each any more".into()
        }
        _ => "not in configuration".into(),
    }
}

/// A resource's configuration evaluated and planned by its provider.
#[derive(Debug, Clone)]
pub struct PlannedResource {
    /// The resource's body evaluated against the scope, after `ignore_changes` took the prior
    /// values back; what is sent to the provider as `config`.
    pub config: Value,
    /// What the provider says the object will look like after apply, with `Value::Unknown` where it
    /// cannot know yet.
    pub planned: Value,
    /// Every path of the planned object that holds a sensitive value: from the configuration
    /// (sensitive variables, schema attributes) and from the provider, sorted.
    pub sensitive: Vec<Path>,
    /// Attributes whose change cannot be made in place; any entry makes the change a replace.
    pub requires_replace: Vec<Path>,
    /// The provider found the object live although state does not hold it.
    pub existing: Option<Value>,
}

/// Evaluates `decl` against `scope` and asks its provider to plan it from `prior`.
///
/// `again` is set for the plan made just before applying: the provider may then answer from
/// the plan it made for the same inputs earlier in this run ([`Provider::plan_again`]).
///
/// [`Provider::plan_again`]: braid_provider::Provider::plan_again
pub async fn plan_resource(
    scope: &EvalScope<'_>,
    providers: &Providers,
    decl: &ResourceDecl,
    prior: Option<&Value>,
    again: bool,
) -> Result<PlannedResource, Diagnostics> {
    let provider = provider_for(providers, decl)?;
    scope.check_conditions(decl, None)?;
    let schema = providers.type_schema(decl);
    let (mut config, sensitive) = scope.evaluate_resource(decl, schema)?;
    if let Some(prior) = prior {
        apply_ignore_changes(decl, &mut config, prior);
    }
    let started = std::time::Instant::now();
    let request = PlanRequest {
        type_name: decl.type_name.clone(),
        address: decl.address.clone(),
        prior: prior.cloned(),
        config: config.clone(),
        sensitive: sensitive.clone(),
    };
    let mut response = match again.then(|| provider.plan_again(&request)).flatten() {
        Some(kept) => {
            tracing::debug!(provider = %decl.provider, address = %decl.address, "provider plan kept");
            kept
        }
        None => {
            let call = provider.plan(request);
            let response = bounded(Call::Plan, &decl.provider, &decl.address, call).await?;
            tracing::debug!(
                provider = %decl.provider,
                address = %decl.address,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "provider plan"
            );
            response
        }
    };
    let mut diags = provider_diagnostics(
        decl,
        std::mem::take(&mut response.diagnostics),
        &config,
        &sensitive,
    );
    let mut sensitive = sensitive;
    for path in response.sensitive {
        if !sensitive.contains(&path) {
            sensitive.push(path);
        }
    }
    let secrets = sensitivity::sensitive_strings(&config, &sensitive);
    sensitivity::mark_derived(&response.planned, &secrets, &mut sensitive);
    sensitive.sort();
    if !diags.has_errors()
        && let Err(d) = scope.check_conditions(decl, Some(&response.planned))
    {
        diags.extend(d);
    }
    if diags.has_errors() {
        return Err(diags);
    }
    scope.keep_warnings(diags.0);
    Ok(PlannedResource {
        config,
        planned: response.planned,
        sensitive,
        requires_replace: response.requires_replace,
        existing: response.existing,
    })
}

/// The provider that serves `decl`, or the error that none is configured.
fn provider_for<'p>(
    providers: &'p Providers,
    decl: &ResourceDecl,
) -> Result<&'p std::sync::Arc<dyn braid_provider::Provider>, Diagnostic> {
    providers.get(&decl.provider).ok_or_else(|| {
        Diagnostic::error(
            "Provider not available",
            format!("No provider \"{}\" is configured.", decl.provider),
        )
        .for_address(&decl.address)
    })
}

/// A provider's diagnostics about `decl`, redacted of the sensitive values of `config` and
/// placed at the attribute they name (else at the block).
fn provider_diagnostics(
    decl: &ResourceDecl,
    mut diagnostics: Vec<braid_provider::ProviderDiagnostic>,
    config: &Value,
    sensitive: &[Path],
) -> Diagnostics {
    sensitivity::redact(&mut diagnostics, &[(config, sensitive)]);
    let mut diags = Diagnostics::new();
    for d in diagnostics {
        let location = d
            .attribute
            .as_ref()
            .and_then(|p| p.attribute())
            .map(|name| decl.attribute_location(name))
            .or_else(|| Some(decl.location.clone()));
        diags.push(from_provider(d, location, &decl.address));
    }
    diags
}

fn apply_ignore_changes(decl: &ResourceDecl, config: &mut Value, prior: &Value) {
    let lifecycle = &decl.lifecycle;
    if lifecycle.ignore_all_changes {
        if let Value::Map(map) = config {
            for (key, value) in map.iter_mut() {
                *value = prior.attr(key).cloned().unwrap_or_default();
            }
        }
        return;
    }
    for path in &lifecycle.ignore_changes {
        match prior.get(path) {
            Some(v) => {
                config.set(path, v.clone());
            }
            None => {
                config.remove(path);
            }
        }
    }
}

/// Reads the data source `decl` now if its arguments are known: returns its value, or `None`
/// when they are not (it is read during apply then). The value is what expressions see as
/// `data.TYPE.NAME`.
pub async fn read_data_source(
    scope: &EvalScope<'_>,
    providers: &Providers,
    decl: &ResourceDecl,
    depends_on: &[String],
) -> Result<(Option<Value>, Value, Vec<Path>), Diagnostics> {
    let provider = provider_for(providers, decl)?;
    scope.check_conditions(decl, None)?;
    let schema = providers.type_schema(decl);
    let (config, sensitive) = scope.evaluate_resource(decl, schema)?;
    let waits_for_change = scope.phase.0 == braid_functions::Phase::Plan
        && depends_on.iter().any(|d| scope.has_pending_change(d));
    if waits_for_change || !config.is_wholly_known() {
        // What expressions see until it is read: the arguments, and every attribute the
        // read computes unknown.
        let mut pending = config.clone();
        for (name, attribute) in schema.iter().flat_map(|s| &s.attributes) {
            if attribute.r#use == braid_provider::Use::Computed {
                pending.set(&Path::key(name), Value::Unknown);
            }
        }
        return Ok((None, pending, sensitive));
    }
    let call = provider.read_data(braid_provider::ReadDataRequest {
        type_name: decl.type_name.clone(),
        address: decl.address.clone(),
        config: config.clone(),
    });
    let mut response = bounded(Call::Read, &decl.provider, &decl.address, call).await?;
    let diags = provider_diagnostics(
        decl,
        std::mem::take(&mut response.diagnostics),
        &config,
        &sensitive,
    );
    let mut sensitive = sensitive;
    let secrets = sensitivity::sensitive_strings(&config, &sensitive);
    sensitivity::mark_derived(&response.state, &secrets, &mut sensitive);
    sensitive.sort();
    let mut diags = diags;
    if !diags.has_errors()
        && let Err(d) = scope.check_conditions(decl, Some(&response.state))
    {
        diags.extend(d);
    }
    if diags.has_errors() {
        return Err(diags);
    }
    scope.keep_warnings(diags.0);
    Ok((Some(response.state), config, sensitive))
}

/// A data source in the plan: read now (a no-op holding its value), or to be read during
/// apply.
async fn plan_data(
    scope: &EvalScope<'_>,
    providers: &Providers,
    decl: &ResourceDecl,
    depends_on: Vec<String>,
) -> Result<ResourceChange, Diagnostics> {
    let (value, config, sensitive) = read_data_source(scope, providers, decl, &depends_on).await?;
    let (action, reason, after) = match value {
        Some(value) => (Action::NoOp, None, value),
        None if config.is_wholly_known()
            || depends_on.iter().any(|d| scope.has_pending_change(d)) =>
        {
            (
                Action::Read,
                Some("depends on a resource with changes pending".to_string()),
                config,
            )
        }
        None => (
            Action::Read,
            Some("its arguments depend on values known only after apply".to_string()),
            config,
        ),
    };
    scope.set_resource(&decl.address, after.clone(), sensitive.clone());
    Ok(data_change(
        decl,
        action,
        reason,
        Some(after),
        sensitive,
        depends_on,
    ))
}

/// The plan's entry for a data source.
fn data_change(
    decl: &ResourceDecl,
    action: Action,
    reason: Option<String>,
    after: Option<Value>,
    after_sensitive: Vec<Path>,
    depends_on: Vec<String>,
) -> ResourceChange {
    ResourceChange {
        address: decl.address.clone(),
        source_file: Some(decl.source_file()),
        source: (!decl.source.is_empty()).then(|| decl.source.clone()),
        provider: decl.provider.clone(),
        type_name: decl.type_name.clone(),
        action,
        reason,
        before: None,
        after_unknown: after
            .as_ref()
            .map_or_else(|| vec![Path::root()], Value::unknown_paths),
        after,
        before_sensitive: Vec::new(),
        after_sensitive,
        replace_paths: Vec::new(),
        sensitive_changed: Vec::new(),
        depends_on,
        create_before_destroy: false,
        moved_from: None,
        import_id: None,
    }
}

/// The plan's entry for a data block of a check block that could not be read: nothing to
/// do, its value unknown (the check reports why).
fn scoped_data_failure(decl: &ResourceDecl, depends_on: Vec<String>) -> ResourceChange {
    data_change(
        decl,
        Action::NoOp,
        Some("could not be read; its check block reports why".to_string()),
        None,
        Vec::new(),
        depends_on,
    )
}

/// A planning task panicked while holding a lock: its results cannot be trusted.
const POISONED: &str = "a planning task panicked while recording its result";

/// Makes a plan for the workspace's environment.
pub async fn make_plan(
    ws: &Workspace,
    providers: &Providers,
    store: &dyn StateStore,
    options: &PlanOptions,
    observer: &dyn PlanObserver,
) -> Result<Plan, Diagnostics> {
    let started = std::time::Instant::now();
    let meta = store.meta().await.map_err(state_error)?;
    let mut records = store.resources().await.map_err(state_error)?;
    tracing::info!(
        resources = records.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        rss_mb = crate::diag::resident_mb(),
        "plan: state read"
    );
    let moved_from = move_records(ws, &mut records)?;
    let move_warnings = move_across_types(ws, providers, &mut records, &moved_from).await?;
    let covered = targeted_addresses(ws, &records, options)?;
    let in_scope = |address: &str| covered.as_ref().is_none_or(|c| c.contains(address));
    // A targeted plan reads and plans only what it covers, as Terraform does.
    records.retain(|r| in_scope(&r.address));
    let replace: BTreeSet<&str> = options.replace.iter().map(String::as_str).collect();
    let (live, drift, read_warnings) = if options.refresh {
        let refreshed = refresh(&records, providers, options.parallelism, observer).await?;
        tracing::info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            rss_mb = crate::diag::resident_mb(),
            "plan: refreshed"
        );
        (Some(refreshed.live), refreshed.drift, refreshed.warnings)
    } else {
        (None, Vec::new(), Vec::new())
    };
    let by_address: HashMap<&str, &ResourceRecord> =
        records.iter().map(|r| (r.address.as_str(), r)).collect();
    // The value a resource has now: live when refreshed, else as state recorded it.
    let current = |record: &ResourceRecord| -> Option<Value> {
        match &live {
            Some(live) => live.get(&record.address).cloned().flatten(),
            None => Some(record.attributes.clone()),
        }
    };

    let mut changes = Vec::new();
    let mut kept = Vec::new();
    let mut diags = Diagnostics::new();
    let plan_time = Utc::now();
    let scope = EvalScope::new(&ws.module, &ws.variables, &ws.env_name).planning(plan_time);
    scope.keep_warnings(move_warnings.0);
    scope.keep_warnings(read_warnings);
    match options.mode {
        PlanMode::Destroy => {
            for record in &records {
                if let Some(decl) = ws.module.resources.get(&record.address)
                    && decl.lifecycle.prevent_destroy
                {
                    diags.push(prevent_destroy(decl, "destroy"));
                    continue;
                }
                let mut change = delete_change(record, current(record), "");
                change.source = ws
                    .module
                    .resources
                    .get(&record.address)
                    .map(|d| d.source.clone())
                    .filter(|s| !s.is_empty());
                observer.planned(&change);
                changes.push(change);
            }
        }
        PlanMode::RefreshOnly => {
            for record in &records {
                let value = current(record);
                let change = ResourceChange {
                    action: Action::NoOp,
                    reason: None,
                    after: value.clone(),
                    after_sensitive: record.sensitive_paths.clone(),
                    depends_on: record.dependencies.clone(),
                    ..delete_change(record, value, "")
                };
                observer.planned(&change);
                changes.push(change);
            }
        }
        PlanMode::Normal => {
            let dependencies = ws.dependencies();
            let decls: Vec<&ResourceDecl> = ws
                .module
                .resources
                .values()
                .filter(|d| in_scope(&d.address))
                .collect();
            // One barrier node per resource as written, after all its instances: a
            // dependency on `aws_x.y` waits for it, so n instances needing m cost n + m edges.
            // A dependency names a resource as written in its module instance, or, past a
            // repeated module call, as configured for all instances: a barrier for each.
            let mut barriers: HashMap<std::borrow::Cow<'_, str>, usize> = HashMap::new();
            let mut own_barriers = Vec::with_capacity(decls.len());
            for decl in &decls {
                let mut own = Vec::with_capacity(2);
                for key in crate::config::resource_groups(&decl.address) {
                    let next = decls.len() + barriers.len();
                    own.push(*barriers.entry(key).or_insert(next));
                }
                own_barriers.push(own);
            }
            let mut dag = Dag::new(decls.len() + barriers.len());
            for (i, decl) in decls.iter().enumerate() {
                for &barrier in &own_barriers[i] {
                    dag.add_edge(i, barrier);
                }
                for dep in dependencies
                    .get(&decl.address)
                    .into_iter()
                    .flat_map(|d| d.iter())
                {
                    if let Some(&d) = barriers.get(dep.as_str()) {
                        dag.add_edge(d, i);
                    }
                }
            }
            let planned: Mutex<Vec<Option<ResourceChange>>> = Mutex::new(vec![None; decls.len()]);
            let errors: Mutex<Diagnostics> = Mutex::new(Diagnostics::new());
            let outcomes = walk(&dag, options.parallelism, |i| {
                // Barrier nodes (past the resources) have nothing to do.
                let work = decls.get(i).copied().map(|decl| {
                    let record = by_address.get(decl.address.as_str()).copied();
                    let prior = record.and_then(&current);
                    let deps: Vec<String> = dependencies
                        .get(&decl.address)
                        .map(|d| d.iter().cloned().collect())
                        .unwrap_or_default();
                    let replace = replace.contains(decl.address.as_str());
                    (decl, record, prior, deps, replace)
                });
                let scope = &scope;
                let planned = &planned;
                let errors = &errors;
                async move {
                    let Some((decl, record, prior, deps, replace)) = work else {
                        return true;
                    };
                    let import = ws.module.imports.iter().find(|i| i.to == decl.address);
                    match plan_one(scope, providers, decl, record, prior, deps, replace, import)
                        .await
                    {
                        Ok(change) => {
                            observer.planned(&change);
                            planned.lock().expect(POISONED)[i] = Some(change);
                            true
                        }
                        Err(d) => {
                            errors.lock().expect(POISONED).extend(d);
                            false
                        }
                    }
                }
            })
            .await;
            tracing::info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                rss_mb = crate::diag::resident_mb(),
                "plan: resources planned"
            );
            diags.extend(errors.into_inner().expect(POISONED));
            debug_assert!(
                outcomes
                    .iter()
                    .all(|o| !matches!(o, WalkOutcome::NotReached))
            );
            debug_assert!(changes.is_empty());
            // Collected in place (no second copy of a hundred thousand changes).
            changes = planned
                .into_inner()
                .expect(POISONED)
                .into_iter()
                .flatten()
                .collect();
            for record in &records {
                if !ws.module.resources.contains_key(&record.address) {
                    let value = current(record);
                    if value.as_ref().is_some_and(keeps_on_removal) {
                        kept.push(record.address.clone());
                    } else if let Some(removed) = ws.module.removed.iter().find(|r| {
                        (split_instance_address(&record.address).0 == r.from
                            || crate::config::within_module(&record.address, &r.from))
                            && !r.destroy
                    }) {
                        let change = ResourceChange {
                            action: Action::Forget,
                            reason: Some("destroy = false is set in the configuration".into()),
                            after: value.clone(),
                            source_file: Some(format!(
                                "{}:{}",
                                removed.location.file.name, removed.location.line
                            )),
                            ..delete_change(record, value, "")
                        };
                        observer.planned(&change);
                        changes.push(change);
                    } else if value.is_some() {
                        let reason = removal_reason(ws, &record.address);
                        let change = delete_change(record, value, &reason);
                        observer.planned(&change);
                        changes.push(change);
                    }
                }
            }
        }
    }
    let outputs = if options.mode == PlanMode::Normal {
        evaluate_outputs(ws, &scope, &mut diags)
    } else {
        BTreeMap::new()
    };
    let checks = if options.mode == PlanMode::Normal {
        evaluate_checks(ws, &scope)
    } else {
        Vec::new()
    };
    if diags.has_errors() {
        return Err(diags);
    }
    for change in &mut changes {
        change.moved_from = moved_from.get(&change.address).cloned();
    }
    changes.sort_by(|a, b| a.address.cmp(&b.address));
    kept.sort();
    let salt = uuid::Uuid::new_v4().simple().to_string();
    let charts = chart_changes(ws, store).await?;
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        rss_mb = crate::diag::resident_mb(),
        "plan: made"
    );
    Ok(Plan {
        format_version: FORMAT_VERSION.to_string(),
        braid_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: plan_time,
        env: ws.env_name.clone(),
        mode: options.mode,
        refreshed: options.refresh,
        sources: ws.sources.iter().map(|s| s.revision.clone()).collect(),
        state: StateRef {
            lineage: meta.lineage,
            serial: meta.serial,
        },
        variables: planned_variables(&ws.variables, &salt),
        changes,
        drift,
        outputs,
        kept,
        salt,
        checks,
        charts,
        warnings: {
            let mut warnings: Vec<crate::plan::PlanWarning> = scope
                .take_warnings()
                .iter()
                .map(crate::plan::PlanWarning::from)
                .collect();
            // Reads finish in any order; the plan lists warnings by resource.
            warnings.sort_by(|a, b| a.address.cmp(&b.address));
            warnings
        },
        window: None,
        policy: None,
    })
}

/// Every chart source of the workspace with the values of the last successful apply that
/// rendered it (a later destroy means none).
async fn chart_changes(
    ws: &Workspace,
    store: &dyn StateStore,
) -> Result<Vec<crate::plan::ChartChange>, Diagnostics> {
    let charts: Vec<(&str, &braid_state::HelmRelease)> = ws
        .sources
        .iter()
        .filter_map(|s| {
            s.revision
                .helm
                .as_ref()
                .map(|h| (s.revision.name.as_str(), h))
        })
        .collect();
    if charts.is_empty() {
        return Ok(Vec::new());
    }
    let applies = store.applies(100).await.map_err(state_error)?;
    let last = applies
        .iter()
        .find(|a| a.outcome == braid_state::ApplyOutcome::Succeeded);
    Ok(charts
        .into_iter()
        .map(|(source, helm)| {
            let previous = last
                .filter(|a| a.operation != "destroy")
                .and_then(|a| a.sources.iter().find(|s| s.name == source))
                .and_then(|s| s.helm.as_ref());
            crate::plan::ChartChange {
                source: source.to_string(),
                chart: helm.chart.clone(),
                version: helm.version.clone(),
                previous_version: previous.map(|p| p.version.clone()),
                release: helm.release.clone(),
                namespace: helm.namespace.clone(),
                values: helm.values.clone(),
                previous_values: previous.map(|p| p.values.clone()),
                notes: helm.notes.clone(),
            }
        })
        .collect())
}

/// An object whose manifest was removed but that asks to stay (`braid.dev/prune: "false"`).
fn keeps_on_removal(value: &Value) -> bool {
    value
        .attr("metadata")
        .and_then(|m| m.attr("annotations"))
        .and_then(|a| a.attr(crate::manifests::PRUNE_ANNOTATION))
        .and_then(Value::as_str)
        == Some("false")
}

#[allow(clippy::too_many_arguments)]
async fn plan_one(
    scope: &EvalScope<'_>,
    providers: &Providers,
    decl: &ResourceDecl,
    record: Option<&ResourceRecord>,
    prior: Option<Value>,
    depends_on: Vec<String>,
    replace: bool,
    import: Option<&crate::config::ImportDecl>,
) -> Result<ResourceChange, Diagnostics> {
    if decl.data {
        let planned = plan_data(scope, providers, decl, depends_on.clone()).await;
        return match planned {
            Err(diags) if decl.check.is_some() => {
                scope.record_check_failure(decl, &diags);
                Ok(scoped_data_failure(decl, depends_on))
            }
            other => other,
        };
    }
    // An import block for an address state does not hold yet: the object it names is the
    // starting point, and the change adopts it.
    let mut prior = prior;
    let mut import_id = None;
    if let Some(import) = import.filter(|_| record.is_none()) {
        let id = match scope
            .evaluate_expression(&import.id, &import.file, &import.base_dir)?
            .value
        {
            Value::String(id) => id,
            Value::Unknown => {
                return Err(Diagnostic::error(
                    "Invalid import id argument",
                    "The import id depends on values that cannot be determined until apply. Use variables, locals or literals.",
                )
                .at(import.location.clone())
                .into());
            }
            other => {
                return Err(Diagnostic::error(
                    "Invalid import id argument",
                    format!("The import id must be a string, not a {}.", other.kind()),
                )
                .at(import.location.clone())
                .into());
            }
        };
        prior = Some(import_object(providers, decl, &id).await?);
        import_id = Some(id);
    }
    let planned = plan_resource(scope, providers, decl, prior.as_ref(), false).await?;
    if import_id.is_some() && !planned.requires_replace.is_empty() {
        return Err(Diagnostic::error(
            "Imported object would be replaced",
            format!(
                "The object the import block names differs from the configuration in {}, which cannot change in place. Change the configuration to match the object, or remove the import block.",
                planned.requires_replace.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            ),
        )
        .at(decl.location.clone())
        .for_address(&decl.address)
        .into());
    }
    let (action, reason) = match (&prior, &planned.existing) {
        (Some(_), _) if import_id.is_some() => (Action::Import, Some("import block".to_string())),
        (None, Some(_)) => (
            Action::Import,
            Some("exists but is not in state".to_string()),
        ),
        (None, None) if record.is_some() => {
            (Action::Create, Some("deleted outside braid".to_string()))
        }
        (None, None) => (Action::Create, None),
        (Some(_), _) if !planned.requires_replace.is_empty() => {
            if decl.lifecycle.prevent_destroy {
                return Err(prevent_destroy(decl, "replace").into());
            }
            let names: Vec<String> = planned
                .requires_replace
                .iter()
                .map(ToString::to_string)
                .collect();
            (
                Action::Replace,
                Some(format!("{} forces replacement", names.join(", "))),
            )
        }
        (Some(_), _)
            if let Some((trigger, _, _)) = decl
                .lifecycle
                .replace_triggered_by
                .iter()
                .find(|(target, _, _)| scope.has_pending_change(target)) =>
        {
            if decl.lifecycle.prevent_destroy {
                return Err(prevent_destroy(decl, "replace").into());
            }
            (
                Action::Replace,
                Some(format!("replace_triggered_by {trigger}, which changes")),
            )
        }
        (Some(_), _) if replace => {
            if decl.lifecycle.prevent_destroy {
                return Err(prevent_destroy(decl, "replace").into());
            }
            (
                Action::Replace,
                Some("replacement requested with --replace".to_string()),
            )
        }
        (Some(prior), _) if *prior != planned.planned => (Action::Update, None),
        (Some(_), _) => (Action::NoOp, None),
    };
    let before = match action {
        Action::Import if import_id.is_none() => planned.existing.clone(),
        _ => prior.clone(),
    };
    let mut planned = planned;
    if action == Action::NoOp
        && let Some(prior) = prior
    {
        // Equal to the prior value: keep that one, shared, rather than the provider's copy.
        planned.planned = prior;
    }
    if action.is_change() {
        scope
            .changed
            .write()
            .expect(POISONED)
            .insert(decl.address.clone());
    }
    scope.set_resource(
        &decl.address,
        planned.planned.clone(),
        planned.sensitive.clone(),
    );
    Ok(ResourceChange {
        address: decl.address.clone(),
        source_file: Some(decl.source_file()),
        source: (!decl.source.is_empty()).then(|| decl.source.clone()),
        provider: decl.provider.clone(),
        type_name: decl.type_name.clone(),
        action,
        reason,
        before_sensitive: match record {
            Some(r) => r.sensitive_paths.clone(),
            None => planned.sensitive.clone(),
        },
        before,
        after_unknown: planned.planned.unknown_paths(),
        after: Some(planned.planned),
        after_sensitive: planned.sensitive,
        replace_paths: planned.requires_replace,
        sensitive_changed: Vec::new(),
        depends_on,
        create_before_destroy: decl.lifecycle.create_before_destroy,
        moved_from: None,
        import_id,
    })
}

/// The object with provider id `id` that `decl`'s provider finds, to adopt at `decl`'s
/// address (import blocks).
pub async fn import_object(
    providers: &Providers,
    decl: &ResourceDecl,
    id: &str,
) -> Result<Value, Diagnostics> {
    let provider = provider_for(providers, decl)?;
    let call = provider.import(braid_provider::ImportRequest {
        address: decl.address.clone(),
        type_name: decl.type_name.clone(),
        id: id.to_string(),
    });
    let response = bounded(Call::Read, &decl.provider, &decl.address, call).await?;
    let mut diags = Diagnostics::new();
    for d in response.diagnostics {
        diags.push(from_provider(d, Some(decl.location.clone()), &decl.address));
    }
    if diags.has_errors() {
        return Err(diags);
    }
    response.state.ok_or_else(|| {
        Diagnostic::error(
            "Cannot import non-existent remote object",
            format!(
                "The {} provider found no {} with id \"{id}\" to import into {}. Check the id, or remove the import block.",
                decl.provider, decl.type_name, decl.address
            ),
        )
        .at(decl.location.clone())
        .for_address(&decl.address)
        .into()
    })
}

fn delete_change(record: &ResourceRecord, current: Option<Value>, reason: &str) -> ResourceChange {
    ResourceChange {
        address: record.address.clone(),
        source_file: record.source_file.clone(),
        source: None,
        provider: record.provider.clone(),
        type_name: record.type_name.clone(),
        action: Action::Delete,
        reason: (!reason.is_empty()).then(|| reason.to_string()),
        before: current,
        after: None,
        after_unknown: Vec::new(),
        before_sensitive: record.sensitive_paths.clone(),
        after_sensitive: Vec::new(),
        replace_paths: Vec::new(),
        sensitive_changed: Vec::new(),
        depends_on: record.dependencies.clone(),
        create_before_destroy: false,
        moved_from: None,
        import_id: None,
    }
}

fn prevent_destroy(decl: &ResourceDecl, what: &str) -> Diagnostic {
    Diagnostic::error(
        "Instance cannot be destroyed",
        format!(
            "{} has lifecycle.prevent_destroy set, but the plan would {what} it. To go ahead, remove prevent_destroy from its lifecycle block first; otherwise change the plan so the resource is kept.",
            decl.address
        ),
    )
    .at(decl.location.clone())
    .for_address(&decl.address)
}

/// Every output's value over `scope` (planned values during plan, applied ones after).
pub(crate) fn evaluate_outputs(
    ws: &Workspace,
    scope: &EvalScope<'_>,
    diags: &mut Diagnostics,
) -> BTreeMap<String, OutputValue> {
    let mut outputs = BTreeMap::new();
    for (name, decl) in &ws.module.outputs {
        match scope.evaluate_storable(&decl.expr, &decl.file, &decl.base_dir) {
            Ok(v) => {
                outputs.insert(
                    name.clone(),
                    OutputValue {
                        unknown: !v.value.is_wholly_known(),
                        sensitive: decl.sensitive || v.sensitive,
                        value: v.value,
                    },
                );
                if v.sensitive && !decl.sensitive {
                    diags.push(
                        Diagnostic::error(
                            "Output refers to sensitive values",
                            format!(
                                "The output \"{name}\" uses a sensitive value. Add sensitive = true to the output block to confirm it should be masked."
                            ),
                        )
                        .at(decl.location.clone()),
                    );
                }
            }
            Err(d) => diags.push(d),
        }
    }
    outputs
}

/// Every `check` block's assertions over `scope`: an error evaluating one is a failure
/// with the error's summary, as Terraform reports it (a warning, never a stop).
pub(crate) fn evaluate_checks(ws: &Workspace, scope: &EvalScope<'_>) -> Vec<super::CheckResult> {
    let failures = scope
        .check_failures
        .read()
        .map(|f| f.clone())
        .unwrap_or_default();
    ws.module
        .checks
        .values()
        .map(|check| {
            let mut status = "pass";
            let mut messages = Vec::new();
            let evaluate =
                |expr| scope.evaluate_in(&check.module, expr, &check.file, &check.base_dir);
            for assert in &check.asserts {
                match evaluate(&assert.condition).map(|v| v.value) {
                    Ok(Value::Bool(true)) => {}
                    Ok(Value::Unknown) => {
                        if status == "pass" {
                            status = "unknown";
                        }
                    }
                    Ok(Value::Bool(false)) => {
                        status = "fail";
                        messages.push(crate::eval::condition_message(evaluate(
                            &assert.error_message,
                        )));
                    }
                    Ok(other) => {
                        status = "fail";
                        messages.push(format!(
                            "The condition must be true or false, not a {}.",
                            other.kind()
                        ));
                    }
                    Err(d) => {
                        status = "fail";
                        messages.push(format!("{}: {}", d.summary, d.detail));
                    }
                }
            }
            if let Some(failed) = failures.get(&format!("{}{}", check.module, check.name)) {
                status = "fail";
                messages.extend(failed.iter().cloned());
            }
            super::CheckResult {
                address: format!("{}check.{}", check.module, check.name),
                status: status.to_string(),
                messages,
                declared_at: format!("{}:{}", check.location.file.name, check.location.line),
            }
        })
        .collect()
}

/// Check results as warnings for the terminal.
pub fn check_warnings(checks: &[super::CheckResult]) -> Vec<Diagnostic> {
    checks
        .iter()
        .filter(|c| c.status == "fail")
        .flat_map(|c| {
            c.messages.iter().map(move |m| {
                Diagnostic::warning(
                    "Check block assertion failed",
                    format!("{} (declared at {}): {m}", c.address, c.declared_at),
                )
            })
        })
        .collect()
}

/// Variables as a plan records them: plain values, or a salted digest for sensitive ones.
pub fn planned_variables(
    variables: &BTreeMap<String, ScopeValue>,
    salt: &str,
) -> BTreeMap<String, PlannedVariable> {
    variables
        .iter()
        .map(|(name, v)| {
            let planned = if v.sensitive {
                PlannedVariable {
                    value: None,
                    sensitive: true,
                    digest: Some(variable_digest(&v.value, salt)),
                }
            } else {
                PlannedVariable {
                    value: Some(v.value.clone()),
                    sensitive: false,
                    digest: None,
                }
            };
            (name.clone(), planned)
        })
        .collect()
}

/// The digest a plan records for a sensitive variable: `sha256:` and the hex SHA-256 of
/// `salt` followed by the value's JSON. Apply computes it again from the value supplied then
/// and refuses the plan when the two differ.
pub fn variable_digest(value: &Value, salt: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(salt.as_bytes());
    hasher.update(value.to_json().to_string().as_bytes());
    format!("sha256:{}", hex::encode(hasher.finalize()))
}
