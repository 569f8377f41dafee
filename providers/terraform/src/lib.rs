//! Terraform provider plugins as braid providers.
//!
//! [`PluginProvider`] runs one provider executable (`terraform-provider-aws`, …) through
//! [`braid_tfplugin`] and answers braid's [`Provider`] calls with the plugin protocol's:
//! `configure` is PrepareProviderConfig (ValidateProviderConfig in protocol 6) +
//! ConfigureProvider, `read` is ReadResource, `plan` is ValidateResourceConfig then
//! PlanResourceChange with Terraform's proposed new state, `apply` is ApplyResourceChange,
//! `import` is ImportResourceState followed by ReadResource, and `read_data` is
//! ValidateDataResourceConfig and ReadDataSource. Values are converted with the schema's cty
//! types; protocol 6's nested attribute types are values of the type they imply (an object,
//! or a list, set or map of objects), checked for their required attributes as Terraform
//! checks them.
//!
//! **Shapes.** braid evaluates a nested block (`statement { ... }`) into a list of objects
//! under the block's name, whatever its nesting mode; the plugin wants a single block as an
//! object (or null), a group block as an object (of nulls when absent), list and set blocks
//! as lists and map blocks as maps. The adapter converts in both directions, so state holds
//! braid's shape and a configuration plans equal to its state.
//!
//! **Private data and schema versions.** Providers return opaque private data with each
//! object (timeouts, schema versions) and expect it back with the next call on that object.
//! The adapter keeps the latest per address — from plan to apply, and from apply to the next
//! read — and offers it, with the resource type's schema version, as the object's
//! [`ObjectMeta`] for braid to keep in state; the next run gives it back before any call.
//! When state was written under an older schema version of the type, the first read sends
//! it through UpgradeResourceState first, as Terraform does.

#![warn(missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use async_trait::async_trait;
use braid_provider::{
    ApplyRequest, ApplyResponse, AttributeSchema, AttributeType, ImportRequest, ImportResponse,
    MoveRequest, MoveResponse, ObjectMeta, Path, PathStep, PlanRequest, PlanResponse, Provider,
    ProviderDiagnostic, ProviderSchema, ReadDataRequest, ReadDataResponse, ReadRequest,
    ReadResponse, ResourceSchema, Severity, Use, Value,
};
use braid_tfplugin::cty::{self, CtyType};
use braid_tfplugin::{
    Block, CallError, Diagnostic, Nesting, PluginCommand, ProviderPlugin, StartError, proposed_new,
};

/// A Terraform provider plugin serving braid's calls.
pub struct PluginProvider {
    name: String,
    plugin: ProviderPlugin,
    /// The plugin's own schema (blocks, cty types, nesting modes), and the same as braid's
    /// engine checks configuration against it; shared by every process of the executable.
    schemas: Arc<Schemas>,
    /// The private data of the object at each resource address, with the schema version of
    /// the attributes braid holds for it (what state keeps).
    objects: Mutex<BTreeMap<String, ObjectMeta>>,
    /// Private data of planned changes not applied yet, per address (see [`Pending`]).
    pending: Mutex<BTreeMap<String, Pending>>,
    /// Resource types whose plans said `legacy_type_system` (Terraform's legacy SDK).
    legacy_types: Mutex<BTreeSet<String>>,
    /// The last plan made for each address in this process, with what it was asked, so
    /// that the plan just before applying can be answered without PlanResourceChange when
    /// nothing it was asked has changed (see [`Provider::plan_again`]).
    plans: Mutex<BTreeMap<String, KeptPlan>>,
    /// The provider configurations this executable found valid in earlier runs.
    validated: Option<ValidatedConfigs>,
}

/// The provider configurations an executable validated without a diagnostic, kept across
/// runs in a file beside its schema (`<schema file>.validated`, named after the package's
/// hash like the schema, so another build never reads it): ValidateProviderConfig checks a
/// configuration against the executable's own rules and calls no API, so its answer for
/// the same configuration is the same, and a run that configures the provider exactly as
/// an earlier one did skips it. (terraform-provider-aws spends over 2 s of CPU in it.) The
/// file holds a random salt and a salted SHA-256 digest of each configuration, never the
/// configuration: provider blocks hold credentials.
#[derive(Debug)]
struct ValidatedConfigs {
    file: PathBuf,
}

impl ValidatedConfigs {
    /// The first line of the file.
    const HEADER: &str = "braid validated provider configurations 1";
    /// How many digests the file keeps, newest last.
    const KEEP: usize = 32;

    /// The salt and the digests in the file, when it is one.
    fn read(&self) -> Option<(String, Vec<String>)> {
        let text = std::fs::read_to_string(&self.file).ok()?;
        let mut lines = text.lines();
        if lines.next()? != Self::HEADER {
            return None;
        }
        let salt = lines.next()?.to_owned();
        Some((salt, lines.map(str::to_owned).collect()))
    }

    fn digest(salt: &str, protocol_version: u32, config: &[u8]) -> String {
        use sha2::Digest as _;
        let mut hash = sha2::Sha256::new();
        hash.update(salt.as_bytes());
        hash.update(protocol_version.to_be_bytes());
        hash.update(config);
        hex::encode(hash.finalize())
    }

    /// Whether `config` (msgpack, as the plugin gets it) was found valid before.
    fn contains(&self, protocol_version: u32, config: &[u8]) -> bool {
        self.read().is_some_and(|(salt, digests)| {
            let digest = Self::digest(&salt, protocol_version, config);
            digests.contains(&digest)
        })
    }

    /// Records `config` as valid ([`write_cache_file`]); a record that cannot be written
    /// only costs the next run a ValidateProviderConfig.
    fn record(&self, protocol_version: u32, config: &[u8]) {
        let (salt, mut digests) = self.read().unwrap_or_else(|| {
            let salt = format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            );
            (salt, Vec::new())
        });
        let digest = Self::digest(&salt, protocol_version, config);
        digests.retain(|d| *d != digest);
        digests.push(digest);
        let skip = digests.len().saturating_sub(Self::KEEP);
        let mut text = format!("{}\n{salt}\n", Self::HEADER);
        for d in &digests[skip..] {
            text.push_str(d);
            text.push('\n');
        }
        if let Err(e) = write_cache_file(&self.file, text.as_bytes()) {
            tracing::debug!(file = %self.file.display(), error = %e, "validated provider configuration not kept");
        }
    }
}

/// A plan made for an address: the request's prior state and configuration, the answer
/// (without diagnostics, shown when it was made) and its planned private data.
#[derive(Debug)]
struct KeptPlan {
    prior: Option<Value>,
    config: Value,
    response: PlanResponse,
    planned_private: Vec<u8>,
}

/// What a plan left for the apply of an address: the planned private data of its create or
/// update (sent with ApplyResourceChange, as Terraform sends it), and — when the plan creates
/// an object where one exists, a replacement — the existing object's private data, which its
/// delete gets whichever order the two run in.
#[derive(Debug, Default)]
struct Pending {
    planned: Option<Vec<u8>>,
    replaced: Option<Vec<u8>>,
}

/// Why a plugin could not serve as a provider.
#[derive(Debug)]
pub enum PluginError {
    /// The executable did not start or did not complete its handshake.
    Start(StartError),
    /// GetProviderSchema failed.
    Call(CallError),
    /// The provider answered GetProviderSchema with errors.
    Schema(Vec<Diagnostic>),
}

impl std::fmt::Display for PluginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PluginError::Start(e) => write!(f, "{e}"),
            PluginError::Call(e) => write!(f, "{e}"),
            PluginError::Schema(diagnostics) => write!(
                f,
                "the provider could not give its schema: {}",
                diagnostics
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        }
    }
}

impl std::error::Error for PluginError {}

/// A provider executable's schema, in the plugin's terms and in braid's.
struct Schemas {
    plugin: braid_tfplugin::ProviderSchema,
    braid: ProviderSchema,
}

/// Which executable a schema came from: its path and what the file system says of it
/// (size, modification time, device and inode), so a replaced binary is never matched. The
/// change time is left out: a new hard link to the file (a plugin cache, a filesystem
/// mirror) changes it without changing the program.
type ExecutableKey = (PathBuf, u64, Option<std::time::SystemTime>, u64, u64);

/// Schemas read in this process, by executable: further processes of the same executable
/// (the aliases `aws.west`, `aws.east`) skip GetProviderSchema when the provider allows it
/// (`get_provider_schema_optional`), as Terraform does.
static SCHEMAS: LazyLock<Mutex<BTreeMap<ExecutableKey, Arc<Schemas>>>> =
    LazyLock::new(|| Mutex::new(BTreeMap::new()));

fn executable_key(program: &FsPath) -> Option<ExecutableKey> {
    use std::os::unix::fs::MetadataExt as _;
    let path = std::fs::canonicalize(program).ok()?;
    let meta = std::fs::metadata(&path).ok()?;
    Some((
        path,
        meta.len(),
        meta.modified().ok(),
        meta.dev(),
        meta.ino(),
    ))
}

/// The first line of a schema file: what it is and the protocol version of the answer
/// that follows (protobuf, as the plugin sent it).
fn schema_file_header(protocol_version: u32) -> String {
    format!("braid provider schema 1, protocol {protocol_version}\n")
}

/// The schema kept in `file` when it holds an answer of `protocol_version` that decodes
/// without errors.
fn read_schema_file(
    file: &FsPath,
    protocol_version: u32,
) -> Option<braid_tfplugin::ProviderSchema> {
    let bytes = std::fs::read(file).ok()?;
    let wire = bytes.strip_prefix(schema_file_header(protocol_version).as_bytes())?;
    match braid_tfplugin::ProviderSchema::from_wire(protocol_version, wire) {
        Ok(schema) if !Diagnostic::any_error(&schema.diagnostics) => Some(schema),
        Ok(_) => None,
        Err(e) => {
            tracing::debug!(file = %file.display(), error = %e, "provider schema file ignored");
            None
        }
    }
}

/// Writes a schema answer to `file`; a cache that cannot be written only costs the next run
/// a GetProviderSchema.
fn write_schema_file(file: &FsPath, protocol_version: u32, wire: &[u8]) {
    let mut bytes = schema_file_header(protocol_version).into_bytes();
    bytes.extend_from_slice(wire);
    if let Err(e) = write_cache_file(file, &bytes) {
        tracing::debug!(file = %file.display(), error = %e, "provider schema not cached");
    }
}

/// Writes one of the files braid keeps beside a package in its user cache whole or not at
/// all (a temporary file renamed into place), readable by its owner only.
fn write_cache_file(file: &FsPath, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let dir = file
        .parent()
        .ok_or_else(|| std::io::Error::other("no parent directory"))?;
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(
        ".{}.{}.tmp",
        file.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)?;
    out.write_all(bytes)?;
    drop(out);
    std::fs::rename(&temporary, file).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

/// The plugin protocol version the executable at `program` speaks with braid: it is
/// started, its handshake read, and it is shut down again (no schema is read).
pub async fn negotiated_protocol(program: &FsPath) -> Result<u32, StartError> {
    let plugin = ProviderPlugin::start(&PluginCommand::new(program)).await?;
    let version = plugin.protocol_version();
    let _ = plugin.shutdown().await;
    Ok(version)
}

impl PluginProvider {
    /// Starts the plugin at `program` and reads its schema; `name` is the provider's local
    /// name in configuration (`aws`).
    pub async fn start(name: &str, program: &FsPath) -> Result<PluginProvider, PluginError> {
        PluginProvider::start_cached(name, program, None).await
    }

    /// [`PluginProvider::start`], keeping the schema across runs in `schema_file` (which the
    /// caller names after the package's hash, so another build never reads it): when the
    /// provider allows skipping GetProviderSchema (`get_provider_schema_optional`, as
    /// Terraform checks), a schema read from the file is used instead of calling it, and a
    /// schema the plugin sends is written there. A file that cannot be read, is of another
    /// protocol version or does not decode is ignored (and replaced).
    pub async fn start_cached(
        name: &str,
        program: &FsPath,
        schema_file: Option<&FsPath>,
    ) -> Result<PluginProvider, PluginError> {
        let plugin = ProviderPlugin::start(&PluginCommand::new(program))
            .await
            .map_err(PluginError::Start)?;
        let key = executable_key(program);
        let cached = key
            .as_ref()
            .and_then(|k| {
                SCHEMAS
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(k)
                    .cloned()
            })
            .or_else(|| {
                let schema = read_schema_file(schema_file?, plugin.protocol_version())?;
                Some(Arc::new(Schemas {
                    braid: braid_schema(&schema),
                    plugin: schema,
                }))
            });
        let schemas = match cached {
            Some(schemas) if schemas.plugin.schema_optional => schemas,
            _ => {
                let (plugin_schema, wire) = plugin
                    .get_provider_schema_wire()
                    .await
                    .map_err(PluginError::Call)?;
                if Diagnostic::any_error(&plugin_schema.diagnostics) {
                    return Err(PluginError::Schema(plugin_schema.diagnostics));
                }
                if let Some(file) = schema_file
                    && plugin_schema.schema_optional
                {
                    write_schema_file(file, plugin.protocol_version(), &wire);
                }
                Arc::new(Schemas {
                    braid: braid_schema(&plugin_schema),
                    plugin: plugin_schema,
                })
            }
        };
        if let Some(key) = key {
            SCHEMAS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(key)
                .or_insert_with(|| Arc::clone(&schemas));
        }
        Ok(PluginProvider {
            name: name.to_owned(),
            plugin,
            schemas,
            objects: Mutex::new(BTreeMap::new()),
            pending: Mutex::new(BTreeMap::new()),
            legacy_types: Mutex::new(BTreeSet::new()),
            plans: Mutex::new(BTreeMap::new()),
            validated: schema_file.map(|file| ValidatedConfigs {
                file: file.with_extension("validated"),
            }),
        })
    }

    /// Whether `other` uses the schema this provider read (another process of the same
    /// executable that skipped GetProviderSchema).
    pub fn shares_schema_with(&self, other: &PluginProvider) -> bool {
        Arc::ptr_eq(&self.schemas, &other.schemas)
    }

    /// The plugin process (its pid, protocol version and output).
    pub fn plugin(&self) -> &ProviderPlugin {
        &self.plugin
    }

    /// Asks the plugin to exit, then kills it if it does not.
    pub async fn shutdown(self) -> std::io::Result<std::process::ExitStatus> {
        self.plugin.shutdown().await
    }

    fn resource_block(&self, type_name: &str) -> Result<&Block, Vec<ProviderDiagnostic>> {
        self.schemas
            .plugin
            .resources
            .get(type_name)
            .map(|s| &s.block)
            .ok_or_else(|| unknown_type(&self.name, "resource type", type_name))
    }

    /// Keeps what the plugin returned with the object at `address` of `type_name`: its
    /// private data, and that its attributes now follow the type's current schema.
    fn remember_private(&self, address: &str, type_name: &str, private: Vec<u8>) {
        let version = self
            .schemas
            .plugin
            .resources
            .get(type_name)
            .and_then(|s| u64::try_from(s.version).ok());
        let mut map = self.objects.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(
            address.to_owned(),
            ObjectMeta {
                schema_version: version,
                private,
            },
        );
    }

    /// Keeps the planned private data of a create or update at `address`; a create where an
    /// object exists (a replacement) also sets the existing object's private data aside for
    /// its delete.
    fn remember_planned(&self, address: &str, create: bool, planned: Vec<u8>) {
        // The object there now, if any (a read that found it gone forgot it).
        let existing = if create {
            self.objects
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(address)
                .map(|meta| meta.private.clone())
        } else {
            None
        };
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let entry = pending.entry(address.to_owned()).or_default();
        entry.planned = Some(planned);
        if existing.is_some() {
            entry.replaced = existing;
        }
    }

    /// The private data ApplyResourceChange gets at `address`: for a delete, the existing
    /// object's (set aside when its replacement was planned); for a create or update, what
    /// its plan returned (the object's own when no plan left any).
    /// Also says whether it was set aside for a replacement's delete (whose answer then must
    /// not replace the new object's private data).
    fn private_for_apply(&self, address: &str, delete: bool) -> (Vec<u8>, bool) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let taken = pending.get_mut(address).and_then(|entry| {
            if delete {
                entry.replaced.take()
            } else {
                entry.planned.take()
            }
        });
        if pending
            .get(address)
            .is_some_and(|e| e.planned.is_none() && e.replaced.is_none())
        {
            pending.remove(address);
        }
        drop(pending);
        let replaced = delete && taken.is_some();
        (taken.unwrap_or_else(|| self.private_of(address)), replaced)
    }

    fn private_of(&self, address: &str) -> Vec<u8> {
        self.objects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(address)
            .map(|m| m.private.clone())
            .unwrap_or_default()
    }

    /// How the schema version the state of `address` was written with compares with the
    /// type's current one: `Ok(None)` when current (or not known), `Ok(Some(older))` when
    /// it must be upgraded, an error when a newer provider wrote it.
    fn stored_version(
        &self,
        address: &str,
        type_name: &str,
    ) -> Result<Option<i64>, Vec<ProviderDiagnostic>> {
        let Some(current) = self
            .schemas
            .plugin
            .resources
            .get(type_name)
            .map(|s| s.version)
        else {
            return Ok(None);
        };
        let stored = self
            .objects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(address)
            .and_then(|m| m.schema_version)
            .and_then(|v| i64::try_from(v).ok());
        match stored {
            Some(stored) if stored > current => Err(vec![ProviderDiagnostic::error(
                "State written by a newer provider",
                format!(
                    "The state of this {type_name} follows version {stored} of its schema, but the {} provider plugin in use knows only up to version {current}: a newer version of the provider wrote it. Use that version (or a later one) of the provider.",
                    self.name
                ),
            )]),
            Some(stored) if stored < current => Ok(Some(stored)),
            _ => Ok(None),
        }
    }

    /// Brings `current` (braid's shape) from schema `version` to the type's current one
    /// through UpgradeResourceState, returning the upgraded value on the wire.
    async fn upgrade(
        &self,
        type_name: &str,
        block: &Block,
        version: i64,
        current: &Value,
    ) -> Result<rmpv::Value, Vec<ProviderDiagnostic>> {
        let json = serde_json::to_vec(&to_plugin_shape(block, current)).map_err(|e| {
            vec![ProviderDiagnostic::error(
                "Cannot upgrade state",
                format!("The state of this {type_name} cannot be written as JSON: {e}."),
            )]
        })?;
        let upgraded = self
            .plugin
            .upgrade_resource_state(type_name, version, json)
            .await
            .map_err(|e| call_failed(&e))?;
        let found = diagnostics(upgraded.diagnostics);
        if has_error(&found) {
            return Err(found);
        }
        Ok(upgraded.state)
    }
}

fn unknown_type(provider: &str, what: &str, type_name: &str) -> Vec<ProviderDiagnostic> {
    vec![ProviderDiagnostic::error(
        format!("Unknown {what}"),
        format!("The {provider} provider plugin has no {what} \"{type_name}\"."),
    )]
}

/// braid's schema of a plugin: every resource type and data source with its attributes,
/// and each nested block type as a list attribute (how braid evaluates blocks).
fn braid_schema(schema: &braid_tfplugin::ProviderSchema) -> ProviderSchema {
    let resources = |types: &BTreeMap<String, braid_tfplugin::Schema>| {
        types
            .iter()
            .map(|(name, s)| (name.clone(), braid_block_schema(&s.block)))
            .collect()
    };
    ProviderSchema {
        config: braid_block_schema(&schema.provider.block),
        resources: resources(&schema.resources),
        data_sources: resources(&schema.data_sources),
    }
}

fn braid_block_schema(block: &Block) -> ResourceSchema {
    let mut out = ResourceSchema::new("");
    for (name, attribute) in &block.attributes {
        let ty = match CtyType::from_json_text(&attribute.cty_type) {
            Ok(CtyType::String) => AttributeType::String,
            Ok(CtyType::Number) => AttributeType::Number,
            Ok(CtyType::Bool) => AttributeType::Bool,
            Ok(CtyType::List(_) | CtyType::Set(_) | CtyType::Tuple(_)) => AttributeType::List,
            Ok(CtyType::Map(_) | CtyType::Object { .. }) => AttributeType::Map,
            Ok(CtyType::Dynamic) | Err(_) => AttributeType::Any,
        };
        let r#use = match (attribute.required, attribute.optional, attribute.computed) {
            (true, _, _) => Use::Required,
            (_, true, true) => Use::OptionalComputed,
            (_, false, true) => Use::Computed,
            _ => Use::Optional,
        };
        let mut schema = AttributeSchema::new(ty, r#use, "");
        // braid masks whole attributes: one holding a sensitive nested attribute is masked
        // whole (Terraform masks only the nested value).
        schema.sensitive = attribute.sensitive || holds_sensitive(attribute);
        out.attributes.insert(name.clone(), schema);
    }
    for (name, nested) in &block.blocks {
        let mut schema = AttributeSchema::new(AttributeType::List, Use::Optional, "a nested block");
        schema.sensitive = block_holds_sensitive(&nested.block);
        out.attributes.insert(name.clone(), schema);
    }
    out
}

/// Whether a nested block holds a sensitive attribute, at any depth (braid then masks the
/// whole block).
fn block_holds_sensitive(block: &Block) -> bool {
    block
        .attributes
        .values()
        .any(|a| a.sensitive || holds_sensitive(a))
        || block
            .blocks
            .values()
            .any(|b| block_holds_sensitive(&b.block))
}

/// Whether a nested attribute type holds a sensitive attribute, at any depth.
fn holds_sensitive(attribute: &braid_tfplugin::Attribute) -> bool {
    attribute.nested.as_ref().is_some_and(|nested| {
        nested
            .attributes
            .values()
            .any(|a| a.sensitive || holds_sensitive(a))
    })
}

/// A value in braid's shape (every nested block a list of objects) in the plugin's shape.
fn to_plugin_shape(block: &Block, value: &Value) -> Value {
    let Value::Map(entries) = value else {
        return value.clone();
    };
    let mut out = entries.clone();
    for (name, nested) in &block.blocks {
        let braid = entries.get(name).unwrap_or(&Value::Null);
        // One block written where braid's settings make an object of it (a provider block's
        // `endpoints { ... }`) counts as a list of one.
        let items = || -> Vec<Value> {
            let list = match braid {
                Value::Map(_) => std::slice::from_ref(braid),
                other => other.as_list().unwrap_or_default(),
            };
            list.iter()
                .map(|item| to_plugin_shape(&nested.block, item))
                .collect()
        };
        let shaped = match (nested.nesting, braid) {
            (_, Value::Unknown) => Value::Unknown,
            (Nesting::Single, _) => items().into_iter().next().unwrap_or(Value::Null),
            // An absent group block is an object of nulls (and of empty nested blocks).
            (Nesting::Group, _) => items().into_iter().next().unwrap_or_else(|| {
                to_plugin_shape(&nested.block, &Value::Map(braid_provider::ValueMap::new()))
            }),
            (Nesting::List | Nesting::Set, _) => Value::List(items()),
            // A map block keeps braid's map of label to object.
            (Nesting::Map, Value::Map(labelled)) => Value::Map(
                labelled
                    .iter()
                    .map(|(k, v)| (k.clone(), to_plugin_shape(&nested.block, v)))
                    .collect(),
            ),
            (Nesting::Map, _) => Value::Map(braid_provider::ValueMap::new()),
        };
        out.insert(name.clone(), shaped);
    }
    Value::Map(out)
}

/// A value in the plugin's shape in braid's (the inverse of [`to_plugin_shape`]).
fn from_plugin_shape(block: &Block, value: &Value) -> Value {
    let Value::Map(entries) = value else {
        return value.clone();
    };
    let mut out = entries.clone();
    for (name, nested) in &block.blocks {
        let plugin = entries.get(name).unwrap_or(&Value::Null);
        let shaped = match (nested.nesting, plugin) {
            (_, Value::Unknown) => Value::Unknown,
            (Nesting::Single | Nesting::Group, Value::Null) => Value::List(Vec::new()),
            (Nesting::Single | Nesting::Group, object) => {
                Value::List(vec![from_plugin_shape(&nested.block, object)])
            }
            (Nesting::List | Nesting::Set, Value::List(items)) => Value::List(
                items
                    .iter()
                    .map(|item| from_plugin_shape(&nested.block, item))
                    .collect(),
            ),
            (Nesting::Map, Value::Map(labelled)) => Value::Map(
                labelled
                    .iter()
                    .map(|(k, v)| (k.clone(), from_plugin_shape(&nested.block, v)))
                    .collect(),
            ),
            (_, other) => other.clone(),
        };
        out.insert(name.clone(), shaped);
    }
    Value::Map(out)
}

/// Terraform's checks of required attributes below the top level (braid's engine checks the
/// top level against the schema): inside nested attribute types ("attribute "host" is
/// required") and inside nested blocks ("Missing required argument"). `value` is in the
/// plugin's shape; unknown values pass.
fn missing_required(block: &Block, value: &Value) -> Vec<ProviderDiagnostic> {
    let mut found = Vec::new();
    check_block(block, value, &mut Vec::new(), false, &mut found);
    found
}

fn check_block(
    block: &Block,
    value: &Value,
    path: &mut Vec<PathStep>,
    check_own: bool,
    found: &mut Vec<ProviderDiagnostic>,
) {
    let Some(entries) = value.as_map() else {
        return;
    };
    for (name, attribute) in &block.attributes {
        let attribute_value = entries.get(name).unwrap_or(&Value::Null);
        if check_own && attribute.required && attribute_value.is_null() {
            found.push(
                ProviderDiagnostic::error(
                    "Missing required argument",
                    format!("The argument \"{name}\" is required, but no definition was found."),
                )
                .at(Path(path.clone())),
            );
        }
        if let Some(nested) = &attribute.nested {
            path.push(PathStep::Key(name.clone()));
            for_each_object(
                nested.nesting,
                attribute_value,
                path,
                &mut |object, path| {
                    check_nested(name, &nested.attributes, object, path, found);
                },
            );
            path.pop();
        }
    }
    for (name, nested) in &block.blocks {
        path.push(PathStep::Key(name.clone()));
        let instances = entries.get(name).unwrap_or(&Value::Null);
        for_each_object(nested.nesting, instances, path, &mut |object, path| {
            check_block(&nested.block, object, path, true, found);
        });
        path.pop();
    }
}

/// One object of a nested attribute type.
fn check_nested(
    attribute_name: &str,
    attributes: &BTreeMap<String, braid_tfplugin::Attribute>,
    object: &Value,
    path: &mut Vec<PathStep>,
    found: &mut Vec<ProviderDiagnostic>,
) {
    let Some(entries) = object.as_map() else {
        return;
    };
    for (name, attribute) in attributes {
        let value = entries.get(name).unwrap_or(&Value::Null);
        if attribute.required && value.is_null() {
            found.push(
                ProviderDiagnostic::error(
                    "Incorrect attribute value type",
                    format!(
                        "Inappropriate value for attribute \"{attribute_name}\": attribute \"{name}\" is required."
                    ),
                )
                .at(Path(path.clone())),
            );
        }
        if let Some(nested) = &attribute.nested {
            path.push(PathStep::Key(name.clone()));
            for_each_object(nested.nesting, value, path, &mut |object, path| {
                check_nested(name, &nested.attributes, object, path, found);
            });
            path.pop();
        }
    }
}

/// Calls `f` on each object of a collection collected as `nesting` says, with its path.
fn for_each_object(
    nesting: Nesting,
    value: &Value,
    path: &mut Vec<PathStep>,
    f: &mut dyn FnMut(&Value, &mut Vec<PathStep>),
) {
    match (nesting, value) {
        (Nesting::Single | Nesting::Group, object @ Value::Map(_)) => f(object, path),
        (Nesting::List | Nesting::Set, Value::List(items)) => {
            for (i, item) in items.iter().enumerate() {
                path.push(PathStep::Index(i));
                f(item, path);
                path.pop();
            }
        }
        (Nesting::Map, Value::Map(items)) => {
            for (key, item) in items {
                path.push(PathStep::Key(key.clone()));
                f(item, path);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The block's object type, or why the provider's schema cannot give one.
fn object_type(block: &Block) -> Result<CtyType, Vec<ProviderDiagnostic>> {
    block.object_type().map_err(|e| {
        vec![ProviderDiagnostic::error(
            "Invalid provider schema",
            format!("The provider's schema has a type braid cannot read: {e}."),
        )]
    })
}

/// braid value → MessagePack of the block's object type.
fn encode(block: &Block, value: &Value) -> Result<rmpv::Value, Vec<ProviderDiagnostic>> {
    let ty = object_type(block)?;
    cty::encode(&to_plugin_shape(block, value), &ty).map_err(|e| {
        let mut d =
            ProviderDiagnostic::error("Invalid value for the provider", format!("{}.", e.message));
        if !e.path.is_root() {
            d = d.at(e.path.clone());
        }
        vec![d]
    })
}

/// MessagePack of the block's object type → braid value (nil → `None`).
fn decode(block: &Block, value: &rmpv::Value) -> Result<Option<Value>, Vec<ProviderDiagnostic>> {
    if value.is_nil() {
        return Ok(None);
    }
    let ty = object_type(block)?;
    let decoded = cty::decode(value, &ty).map_err(|e| {
        vec![ProviderDiagnostic::error(
            "Invalid value from the provider",
            format!("The provider answered with a value braid cannot read: {e}."),
        )]
    })?;
    Ok(Some(from_plugin_shape(block, &decoded)))
}

/// The provider's diagnostics as braid's, with their attribute paths.
fn diagnostics(found: Vec<Diagnostic>) -> Vec<ProviderDiagnostic> {
    found
        .into_iter()
        .map(|d| ProviderDiagnostic {
            severity: match d.severity {
                braid_tfplugin::Severity::Error => Severity::Error,
                braid_tfplugin::Severity::Warning => Severity::Warning,
            },
            summary: d.summary,
            detail: d.detail,
            attribute: (!d.attribute_path.is_empty()).then(|| path(&d.attribute_path)),
        })
        .collect()
}

fn path(steps: &[braid_tfplugin::PathStep]) -> Path {
    Path(
        steps
            .iter()
            .map(|step| match step {
                braid_tfplugin::PathStep::Attribute(name) | braid_tfplugin::PathStep::Key(name) => {
                    PathStep::Key(name.clone())
                }
                braid_tfplugin::PathStep::Index(i) => {
                    PathStep::Index(usize::try_from(*i).unwrap_or_default())
                }
            })
            .collect(),
    )
}

/// A failed call (the process died, the connection broke) as an error diagnostic.
fn call_failed(error: &CallError) -> Vec<ProviderDiagnostic> {
    vec![ProviderDiagnostic::error(
        "Provider plugin call failed",
        format!("{error}."),
    )]
}

fn has_error(diagnostics: &[ProviderDiagnostic]) -> bool {
    diagnostics.iter().any(|d| d.severity == Severity::Error)
}

#[async_trait]
impl Provider for PluginProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn schema(&self) -> ProviderSchema {
        self.schemas.braid.clone()
    }

    /// StopProvider, as Terraform sends it on interrupt: SDK-based providers cancel the
    /// contexts of their calls in flight.
    async fn stop(&self) {
        if let Err(e) = self.plugin.stop_provider().await {
            tracing::warn!(provider = %self.name, error = %e, "StopProvider failed");
        }
    }

    fn object_meta(&self, address: &str) -> Option<ObjectMeta> {
        self.objects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(address)
            .cloned()
    }

    fn restore_object_meta(&self, address: &str, meta: &ObjectMeta) {
        self.objects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(address.to_owned(), meta.clone());
    }

    fn legacy_type_system(&self, type_name: &str) -> bool {
        self.legacy_types
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(type_name)
    }

    async fn configure(&self, config: Value) -> Vec<ProviderDiagnostic> {
        let block = &self.schemas.plugin.provider.block;
        let config = if config.is_null() {
            Value::Map(braid_provider::ValueMap::new())
        } else {
            config
        };
        let wire = match encode(block, &config) {
            Ok(wire) => wire,
            Err(d) => return d,
        };
        // ValidateProviderConfig, unless this executable found this very configuration valid
        // in an earlier run (see [`ValidatedConfigs`]).
        let protocol_version = self.plugin.protocol_version();
        let mut bytes = Vec::new();
        let remembered = config.is_wholly_known()
            && rmpv::encode::write_value(&mut bytes, &wire).is_ok()
            && self
                .validated
                .as_ref()
                .is_some_and(|v| v.contains(protocol_version, &bytes));
        let mut found = Vec::new();
        if !remembered {
            let prepared = match self.plugin.prepare_provider_config(&wire).await {
                Ok(prepared) => prepared,
                Err(e) => return call_failed(&e),
            };
            found = diagnostics(prepared.diagnostics);
            if has_error(&found) {
                return found;
            }
            if found.is_empty()
                && !bytes.is_empty()
                && let Some(validated) = &self.validated
            {
                validated.record(protocol_version, &bytes);
            }
        }
        // Configured with the configuration itself, as Terraform (since 0.15) configures:
        // the configuration protocol 5's PrepareProviderConfig answers is unused.
        match self.plugin.configure_provider(&wire).await {
            Ok(d) => found.extend(diagnostics(d)),
            Err(e) => found.extend(call_failed(&e)),
        }
        found
    }

    async fn read(&self, request: ReadRequest) -> ReadResponse {
        let block = match self.resource_block(&request.type_name) {
            Ok(block) => block,
            Err(diagnostics) => {
                return ReadResponse {
                    state: None,
                    diagnostics,
                };
            }
        };
        let encoded = match self.stored_version(&request.address, &request.type_name) {
            Ok(Some(version)) => {
                self.upgrade(&request.type_name, block, version, &request.current)
                    .await
            }
            Ok(None) => encode(block, &request.current),
            Err(diagnostics) => Err(diagnostics),
        };
        let current = match encoded {
            Ok(wire) => wire,
            Err(diagnostics) => {
                return ReadResponse {
                    state: None,
                    diagnostics,
                };
            }
        };
        let private = self.private_of(&request.address);
        let read = match self
            .plugin
            .read_resource(&request.type_name, &current, &private)
            .await
        {
            Ok(read) => read,
            Err(e) => {
                return ReadResponse {
                    state: None,
                    diagnostics: call_failed(&e),
                };
            }
        };
        let found = diagnostics(read.diagnostics);
        if has_error(&found) {
            return ReadResponse {
                state: None,
                diagnostics: found,
            };
        }
        if read.state.is_nil() {
            // Gone: nothing of it is left to keep.
            self.objects
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&request.address);
        } else {
            self.remember_private(&request.address, &request.type_name, read.private);
        }
        match decode(block, &read.state) {
            Ok(state) => ReadResponse {
                state,
                diagnostics: found,
            },
            Err(diagnostics) => ReadResponse {
                state: None,
                diagnostics,
            },
        }
    }

    async fn plan(&self, request: PlanRequest) -> PlanResponse {
        self.plans
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&request.address);
        let failed = |diagnostics| PlanResponse {
            planned: Value::Unknown,
            diagnostics,
            ..PlanResponse::default()
        };
        let block = match self.resource_block(&request.type_name) {
            Ok(block) => block,
            Err(d) => return failed(d),
        };
        if request.prior.is_some() {
            match self.stored_version(&request.address, &request.type_name) {
                Ok(None) => {}
                Ok(Some(version)) => {
                    return failed(vec![ProviderDiagnostic::error(
                        "State needs an upgrade",
                        format!(
                            "The state of this {} follows version {version} of its schema, older than the provider's; the provider upgrades it when it reads the object. Plan with refresh (without --refresh=false) once.",
                            request.type_name
                        ),
                    )]);
                }
                Err(diagnostics) => return failed(diagnostics),
            }
        }
        let prior_braid = request.prior.clone().unwrap_or(Value::Null);
        // Proposed from plugin-shaped values, as Terraform computes it.
        let prior_shaped = to_plugin_shape(block, &prior_braid);
        let config_shaped = to_plugin_shape(block, &request.config);
        let missing = missing_required(block, &config_shaped);
        if !missing.is_empty() {
            return failed(missing);
        }
        let proposed = proposed_new(block, &prior_shaped, &config_shaped);
        let encoded = (|| {
            Ok::<_, Vec<ProviderDiagnostic>>((
                encode(block, &prior_braid)?,
                encode(block, &from_plugin_shape(block, &proposed))?,
                encode(block, &request.config)?,
            ))
        })();
        let (prior, proposed, config) = match encoded {
            Ok(values) => values,
            Err(d) => return failed(d),
        };
        let prior_private = if request.prior.is_some() {
            self.private_of(&request.address)
        } else {
            Vec::new()
        };
        // ValidateResourceConfig first, as Terraform calls it: the provider's own checks of
        // values, which PlanResourceChange does not repeat; a configuration it refuses is
        // never planned.
        let mut found = if request.config.is_null() {
            Vec::new()
        } else {
            match self
                .plugin
                .validate_resource_config(&request.type_name, &config)
                .await
            {
                Ok(validated) => diagnostics(validated),
                Err(e) => return failed(call_failed(&e)),
            }
        };
        if has_error(&found) {
            return failed(found);
        }
        let plan = match self
            .plugin
            .plan_resource_change(
                &request.type_name,
                &prior,
                &proposed,
                &config,
                &prior_private,
            )
            .await
        {
            Ok(plan) => plan,
            Err(e) => return failed(call_failed(&e)),
        };
        found.extend(diagnostics(plan.diagnostics));
        if has_error(&found) {
            return failed(found);
        }
        let planned = match decode(block, &plan.planned_state) {
            Ok(planned) => planned.unwrap_or(Value::Null),
            Err(d) => return failed(d),
        };
        self.remember_planned(
            &request.address,
            request.prior.is_none(),
            plan.planned_private.clone(),
        );
        if plan.legacy_type_system {
            self.legacy_types
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(request.type_name.clone());
        }
        let response = PlanResponse {
            planned,
            requires_replace: plan.requires_replace.iter().map(|p| path(p)).collect(),
            existing: None,
            sensitive: Vec::new(),
            diagnostics: Vec::new(),
        };
        self.plans.lock().unwrap_or_else(|e| e.into_inner()).insert(
            request.address,
            KeptPlan {
                prior: request.prior,
                config: request.config,
                response: response.clone(),
                planned_private: plan.planned_private,
            },
        );
        PlanResponse {
            diagnostics: found,
            ..response
        }
    }

    /// Answers from the last plan of the address when it was asked exactly this: the same
    /// prior state and the same configuration, every value of which was known then. Terraform
    /// calls PlanResourceChange again before ApplyResourceChange and requires that final plan
    /// to agree with the first wherever the first was known; with identical, known inputs
    /// there is nothing the second call could learn, so braid sends the first plan (and its
    /// planned private data) to ApplyResourceChange.
    fn plan_again(&self, request: &PlanRequest) -> Option<PlanResponse> {
        let kept = self
            .plans
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&request.address)?;
        if kept.prior != request.prior
            || kept.config != request.config
            || !kept.config.is_wholly_known()
        {
            return None;
        }
        self.remember_planned(
            &request.address,
            request.prior.is_none(),
            kept.planned_private,
        );
        Some(kept.response)
    }

    async fn apply(&self, request: ApplyRequest) -> ApplyResponse {
        let block = match self.resource_block(&request.type_name) {
            Ok(block) => block,
            Err(diagnostics) => {
                return ApplyResponse {
                    new_state: request.prior,
                    diagnostics,
                };
            }
        };
        let nil = || Ok(rmpv::Value::Nil);
        let encoded = (|| {
            Ok::<_, Vec<ProviderDiagnostic>>((
                request
                    .prior
                    .as_ref()
                    .map_or_else(nil, |v| encode(block, v))?,
                request
                    .planned
                    .as_ref()
                    .map_or_else(nil, |v| encode(block, v))?,
                if request.config.is_null() {
                    rmpv::Value::Nil
                } else {
                    encode(block, &request.config)?
                },
            ))
        })();
        let (prior, planned, config) = match encoded {
            Ok(values) => values,
            Err(diagnostics) => {
                return ApplyResponse {
                    new_state: request.prior,
                    diagnostics,
                };
            }
        };
        let (private, replaced) =
            self.private_for_apply(&request.address, request.planned.is_none());
        let applied = match self
            .plugin
            .apply_resource_change(&request.type_name, &prior, &planned, &config, &private)
            .await
        {
            Ok(applied) => applied,
            Err(e) => {
                return ApplyResponse {
                    new_state: request.prior,
                    diagnostics: call_failed(&e),
                };
            }
        };
        let found = diagnostics(applied.diagnostics);
        // The delete of a replaced object (after its replacement was created, with
        // create_before_destroy) must not overwrite what the new object keeps.
        if !replaced {
            self.remember_private(&request.address, &request.type_name, applied.private);
        }
        match decode(block, &applied.state) {
            // On failure the provider returns what exists now (possibly a partial create).
            Ok(new_state) => ApplyResponse {
                new_state,
                diagnostics: found,
            },
            Err(mut d) => {
                d.extend(found);
                ApplyResponse {
                    new_state: request.prior,
                    diagnostics: d,
                }
            }
        }
    }

    async fn import(&self, request: ImportRequest) -> ImportResponse {
        let block = match self.resource_block(&request.type_name) {
            Ok(block) => block,
            Err(diagnostics) => {
                return ImportResponse {
                    state: None,
                    diagnostics,
                };
            }
        };
        let imported = match self
            .plugin
            .import_resource_state(&request.type_name, &request.id)
            .await
        {
            Ok(imported) => imported,
            Err(e) => {
                return ImportResponse {
                    state: None,
                    diagnostics: call_failed(&e),
                };
            }
        };
        let mut found = diagnostics(imported.diagnostics);
        if has_error(&found) {
            return ImportResponse {
                state: None,
                diagnostics: found,
            };
        }
        let Some(object) = imported
            .resources
            .into_iter()
            .find(|r| r.type_name == request.type_name)
        else {
            return ImportResponse {
                state: None,
                diagnostics: found,
            };
        };
        // The import answer is often only an id: read the object, as Terraform does.
        let read = match self
            .plugin
            .read_resource(&request.type_name, &object.state, &object.private)
            .await
        {
            Ok(read) => read,
            Err(e) => {
                found.extend(call_failed(&e));
                return ImportResponse {
                    state: None,
                    diagnostics: found,
                };
            }
        };
        found.extend(diagnostics(read.diagnostics));
        if has_error(&found) {
            return ImportResponse {
                state: None,
                diagnostics: found,
            };
        }
        match decode(block, &read.state) {
            Ok(state) => {
                // The private data of the read goes with the object into state, as
                // Terraform keeps it, for the object's next call.
                if state.is_some() {
                    self.remember_private(&request.address, &request.type_name, read.private);
                }
                ImportResponse {
                    state,
                    diagnostics: found,
                }
            }
            Err(d) => ImportResponse {
                state: None,
                diagnostics: d,
            },
        }
    }

    /// MoveResourceState, when the plugin offers it; the source state goes as Terraform
    /// stores it (the plugin's shape when this plugin serves the source type too, braid's
    /// otherwise).
    async fn move_state(&self, request: MoveRequest) -> MoveResponse {
        let failed = |diagnostics| MoveResponse {
            state: None,
            diagnostics,
        };
        if !self.schemas.plugin.move_resource_state {
            return failed(vec![ProviderDiagnostic::error(
                "Unsupported `moved` across resource types",
                format!(
                    "The provider \"{}\" does not support moved operations across resource types and providers.",
                    self.name
                ),
            )]);
        }
        let block = match self.resource_block(&request.target_type) {
            Ok(block) => block,
            Err(d) => return failed(d),
        };
        let source_state = match self.schemas.plugin.resources.get(&request.source_type) {
            Some(source) => to_plugin_shape(&source.block, &request.source_state),
            None => request.source_state.clone(),
        };
        let json = match serde_json::to_vec(&source_state) {
            Ok(json) => json,
            Err(e) => {
                return failed(vec![ProviderDiagnostic::error(
                    "Cannot move the object",
                    format!("Its state cannot be written as JSON: {e}."),
                )]);
            }
        };
        let meta = request.source_meta.unwrap_or_default();
        let version = meta
            .schema_version
            .and_then(|v| i64::try_from(v).ok())
            .unwrap_or_default();
        let moved = match self
            .plugin
            .move_resource_state(
                &request.source_provider,
                &request.source_type,
                version,
                json,
                &request.target_type,
                &meta.private,
            )
            .await
        {
            Ok(moved) => moved,
            Err(e) => return failed(call_failed(&e)),
        };
        let found = diagnostics(moved.diagnostics);
        if has_error(&found) {
            return failed(found);
        }
        self.remember_private(&request.address, &request.target_type, moved.private);
        match decode(block, &moved.state) {
            Ok(state) => MoveResponse {
                state,
                diagnostics: found,
            },
            Err(d) => failed(d),
        }
    }

    async fn read_data(&self, request: ReadDataRequest) -> ReadDataResponse {
        let failed = |diagnostics| ReadDataResponse {
            state: Value::Null,
            diagnostics,
        };
        let Some(block) = self
            .schemas
            .plugin
            .data_sources
            .get(&request.type_name)
            .map(|s| &s.block)
        else {
            return failed(unknown_type(&self.name, "data source", &request.type_name));
        };
        let missing = missing_required(block, &to_plugin_shape(block, &request.config));
        if !missing.is_empty() {
            return failed(missing);
        }
        let config = match encode(block, &request.config) {
            Ok(wire) => wire,
            Err(d) => return failed(d),
        };
        // ValidateDataResourceConfig first, as Terraform calls it.
        let mut found = match self
            .plugin
            .validate_data_source_config(&request.type_name, &config)
            .await
        {
            Ok(validated) => diagnostics(validated),
            Err(e) => return failed(call_failed(&e)),
        };
        if has_error(&found) {
            return failed(found);
        }
        let read = match self
            .plugin
            .read_data_source(&request.type_name, &config)
            .await
        {
            Ok(read) => read,
            Err(e) => return failed(call_failed(&e)),
        };
        found.extend(diagnostics(read.diagnostics));
        if has_error(&found) {
            return failed(found);
        }
        match decode(block, &read.state) {
            Ok(state) => ReadDataResponse {
                state: state.unwrap_or(Value::Null),
                diagnostics: found,
            },
            Err(d) => failed(d),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use braid_tfplugin::{Attribute, NestedBlock};

    fn block() -> Block {
        let mut inner = Block::default();
        inner.attributes.insert(
            "port".into(),
            Attribute {
                cty_type: r#""number""#.into(),
                optional: true,
                ..Attribute::default()
            },
        );
        let mut block = Block::default();
        block.attributes.insert(
            "name".into(),
            Attribute {
                cty_type: r#""string""#.into(),
                required: true,
                ..Attribute::default()
            },
        );
        for (name, nesting) in [
            ("one", Nesting::Single),
            ("group", Nesting::Group),
            ("many", Nesting::List),
        ] {
            block.blocks.insert(
                name.into(),
                NestedBlock {
                    nesting,
                    block: inner.clone(),
                    ..NestedBlock::default()
                },
            );
        }
        block
    }

    #[test]
    fn blocks_convert_between_braids_lists_and_nesting_modes() {
        let port = |p: i64| Value::map([("port", Value::from_i64(p))]);
        let braid = Value::map([
            ("name", Value::from("x")),
            ("one", Value::List(vec![port(1)])),
            ("many", Value::List(vec![port(2), port(3)])),
        ]);
        let plugin = to_plugin_shape(&block(), &braid);
        assert_eq!(plugin.attr("one"), Some(&port(1)));
        assert_eq!(
            plugin.attr("group"),
            Some(&Value::Map(braid_provider::ValueMap::new()))
        );
        assert_eq!(
            to_plugin_shape(&block(), &Value::Map(braid_provider::ValueMap::new())).attr("many"),
            Some(&Value::List(Vec::new()))
        );
        assert_eq!(plugin.attr("many"), braid.attr("many"));
        let single = Value::map([("one", port(4)), ("many", port(5))]);
        let shaped = to_plugin_shape(&block(), &single);
        assert_eq!(shaped.attr("one"), Some(&port(4)));
        assert_eq!(shaped.attr("many"), Some(&Value::List(vec![port(5)])));
        let back = from_plugin_shape(&block(), &plugin);
        assert_eq!(back.attr("one"), braid.attr("one"));
        assert_eq!(back.attr("many"), braid.attr("many"));
        assert_eq!(
            from_plugin_shape(&block(), &Value::map([("one", Value::Null)])).attr("one"),
            Some(&Value::List(Vec::new()))
        );
    }

    #[test]
    fn schemas_list_blocks_as_list_attributes() {
        let schema = braid_block_schema(&block());
        assert_eq!(schema.attributes["name"].r#use, Use::Required);
        assert_eq!(schema.attributes["name"].r#type, AttributeType::String);
        assert_eq!(schema.attributes["many"].r#type, AttributeType::List);
    }

    #[test]
    fn required_attributes_below_the_top_level_are_checked() {
        use braid_tfplugin::NestedType;
        let mut element = BTreeMap::new();
        element.insert(
            "host".to_owned(),
            Attribute {
                cty_type: r#""string""#.into(),
                required: true,
                ..Attribute::default()
            },
        );
        let mut block = block();
        block.attributes.insert(
            "endpoints".into(),
            Attribute {
                optional: true,
                nested: Some(Box::new(NestedType {
                    nesting: Nesting::List,
                    attributes: element,
                })),
                ..Attribute::default()
            },
        );
        block
            .blocks
            .get_mut("many")
            .expect("a list block")
            .block
            .attributes
            .insert(
                "name".into(),
                Attribute {
                    cty_type: r#""string""#.into(),
                    required: true,
                    ..Attribute::default()
                },
            );
        let config = Value::map([
            (
                "endpoints",
                Value::List(vec![
                    Value::map([("host", Value::from("a"))]),
                    Value::map([("host", Value::Null)]),
                    Value::map([("host", Value::Unknown)]),
                ]),
            ),
            (
                "many",
                Value::List(vec![Value::map([("port", Value::from(1))])]),
            ),
        ]);
        let found = missing_required(&block, &to_plugin_shape(&block, &config));
        let messages: Vec<String> = found
            .iter()
            .map(|d| format!("{} at {:?}: {}", d.summary, d.attribute, d.detail))
            .collect();
        assert_eq!(found.len(), 2, "{messages:#?}");
        assert!(
            messages[0].contains("attribute \"host\" is required")
                && messages[0].contains("endpoints")
                && messages[0].contains('1'),
            "{messages:#?}"
        );
        assert!(
            messages[1].starts_with("Missing required argument")
                && messages[1].contains("\"name\""),
            "{messages:#?}"
        );
    }

    #[test]
    fn sensitive_nested_attributes_and_blocks_mask_their_whole_attribute() {
        let mut block = block();
        block
            .blocks
            .get_mut("one")
            .expect("a single block")
            .block
            .attributes
            .insert(
                "token".into(),
                Attribute {
                    cty_type: r#""string""#.into(),
                    optional: true,
                    sensitive: true,
                    ..Attribute::default()
                },
            );
        let schema = braid_block_schema(&block);
        assert!(schema.attributes["one"].sensitive);
        assert!(!schema.attributes["many"].sensitive);
    }

    #[test]
    fn provider_paths_become_braid_paths() {
        let steps = [
            braid_tfplugin::PathStep::Attribute("rule".into()),
            braid_tfplugin::PathStep::Index(1),
            braid_tfplugin::PathStep::Key("k".into()),
        ];
        assert_eq!(path(&steps).to_string(), "rule[1].k");
    }

    /// A place for another "executable" of terraform-provider-braidtest: a new link to the
    /// binary, so this process's memory of schemas (by path) does not answer for it.
    fn braidtest_copy(dir: &FsPath, name: &str) -> PathBuf {
        let path = dir.join(name);
        let binary = braid_testkit::braidtest_provider();
        if std::fs::hard_link(&binary, &path).is_err() {
            std::fs::copy(&binary, &path).expect("copy terraform-provider-braidtest");
        }
        path
    }

    /// The schema file: written after GetProviderSchema; read instead of calling it (a type
    /// only the file names shows it was); ignored and replaced when of another protocol
    /// version or when it does not decode.
    #[tokio::test]
    async fn schemas_are_kept_across_runs_in_the_schema_file() {
        let dir = braid_testkit::tempdir();
        let file = dir.path().join("cache").join("h1-braidtest.pb");
        let started = |name: &'static str| {
            let program = braidtest_copy(dir.path(), name);
            let file = file.clone();
            async move {
                let provider = PluginProvider::start_cached("braidtest", &program, Some(&file))
                    .await
                    .expect("the plugin starts");
                let types: Vec<String> = provider.schema().resources.keys().cloned().collect();
                provider.shutdown().await.expect("shut down");
                types
            }
        };
        let header = schema_file_header(6);

        let types = started("first").await;
        assert!(types.contains(&"braidtest_service".to_owned()), "{types:?}");
        let written = std::fs::read(&file).expect("the schema file is written");
        assert!(written.starts_with(header.as_bytes()));

        // One more entry of `resource_schemas` (field 2 of GetProviderSchema.Response, a map
        // entry: key 1, value 2 an empty Schema), appended as protobuf allows.
        let name = b"braidtest_cached_only";
        let mut entry = vec![0x0a, name.len() as u8];
        entry.extend_from_slice(name);
        entry.extend_from_slice(&[0x12, 0x00]);
        let mut planted = written.clone();
        planted.extend_from_slice(&[0x12, entry.len() as u8]);
        planted.extend_from_slice(&entry);
        std::fs::write(&file, &planted).expect("plant");
        let types = started("second").await;
        assert!(
            types.contains(&"braidtest_cached_only".to_owned()),
            "the schema came from the file: {types:?}"
        );

        let mut other_protocol = schema_file_header(5).into_bytes();
        other_protocol.extend_from_slice(&planted[header.len()..]);
        std::fs::write(&file, &other_protocol).expect("write");
        let types = started("third").await;
        assert!(
            !types.contains(&"braidtest_cached_only".to_owned()),
            "{types:?}"
        );
        let replaced = std::fs::read(&file).expect("read");
        assert!(replaced.starts_with(header.as_bytes()), "replaced");
        assert!(!replaced.windows(name.len()).any(|w| w == name), "replaced");

        let mut garbage = header.clone().into_bytes();
        garbage.extend_from_slice(&[0xff, 0xff, 0xff]);
        std::fs::write(&file, &garbage).expect("write");
        let types = started("fourth").await;
        assert!(types.contains(&"braidtest_service".to_owned()), "{types:?}");
        let replaced = std::fs::read(&file).expect("read");
        assert_eq!(
            replaced.len(),
            written.len(),
            "replaced by the plugin's schema"
        );
    }
}
