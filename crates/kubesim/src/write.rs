//! The write pipeline shared by create, replace, patch and apply: server-set metadata,
//! status-subresource rules, defaulting, validation, immutable fields, generation,
//! managedFields, no-op detection, dry-run, and committing with a new resourceVersion.
//!
//! HTTP handlers turn a request into "old object + desired object" and call in here, so
//! every verb gets the same semantics.

use std::sync::{Arc, Mutex};

use chrono::Utc;
use serde_json::{Map, Value, json};

use crate::catalogue::ResourceType;
use crate::defaults::apply_defaults;
use crate::fieldset::{Shape, changed_set};
use crate::managed_fields::{
    self, ManagedEntry, Scope, prune_absent, record_update, strip_unowned,
};
use crate::openapi::{FieldValidation, UnknownFields, prune};
use crate::status::{ApiError, Subject};
use crate::store::{EventType, Store};
use crate::validation::{check_immutable, validate};

/// Who writes what, and how.
#[derive(Debug, Clone)]
pub struct WriteContext {
    /// The resource type addressed by the request.
    pub rt: ResourceType,
    /// Namespace from the path ("" for cluster-scoped).
    pub namespace: String,
    /// Field manager.
    pub manager: String,
    /// `Some("status")` for writes through the status subresource.
    pub subresource: Option<String>,
    /// `dryRun=All`: compute and return the result, store nothing.
    pub dry_run: bool,
    /// How unknown fields are reported (`fieldValidation`).
    pub field_validation: FieldValidation,
    /// Warnings for the response's `Warning` headers.
    pub warnings: Warnings,
    /// Fields the request body gave twice (reported with the unknown ones).
    pub duplicates: Vec<String>,
}

/// Warnings a request collects while it is served, sent back as `Warning` headers.
#[derive(Debug, Clone, Default)]
pub struct Warnings(Arc<Mutex<Vec<String>>>);

impl Warnings {
    /// Adds one.
    pub fn push(&self, warning: String) {
        if let Ok(mut list) = self.0.lock() {
            list.push(warning);
        }
    }

    /// Everything collected so far.
    pub fn take(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }
}

impl WriteContext {
    /// A context for the emulator's own writes (controllers, seeding): unknown fields are
    /// dropped silently.
    pub fn internal(
        rt: &ResourceType,
        namespace: &str,
        manager: &str,
        subresource: Option<&str>,
    ) -> Self {
        WriteContext {
            rt: rt.clone(),
            namespace: namespace.to_string(),
            manager: manager.to_string(),
            subresource: subresource.map(str::to_string),
            dry_run: false,
            field_validation: FieldValidation::Ignore,
            warnings: Warnings::default(),
            duplicates: Vec::new(),
        }
    }

    /// Reports what field validation found as `fieldValidation` asks: nothing for Ignore,
    /// warnings for Warn, a 400 for Strict (`what` prefixes its message).
    pub fn report_fields(
        &self,
        found: &UnknownFields,
        what: impl FnOnce() -> String,
    ) -> Result<(), ApiError> {
        if found.is_empty() {
            return Ok(());
        }
        match self.field_validation {
            FieldValidation::Ignore => Ok(()),
            FieldValidation::Warn => {
                for message in found.messages() {
                    self.warnings.push(message);
                }
                Ok(())
            }
            FieldValidation::Strict => Err(ApiError::BadRequest(format!(
                "{}: {}",
                what(),
                found.messages().join(", ")
            ))),
        }
    }

    /// Drops the fields of `object` its schema does not declare and reports them with the
    /// body's duplicate fields.
    fn check_fields(&self, store: &Store, object: &mut Value) -> Result<(), ApiError> {
        let crds = store.crds();
        let unknown = prune(&self.rt, &crds, object);
        let kind = &self.rt.kind;
        let version = &self.rt.version;
        self.report_fields(
            &UnknownFields {
                unknown,
                duplicate: self.duplicates.clone(),
            },
            || format!("{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding error"),
        )
    }

    /// How lists of this kind merge.
    pub fn shape(&self) -> Shape<'_> {
        Shape {
            kind: &self.rt.kind,
            builtin: self.rt.builtin,
        }
    }

    /// Which fields this write may own.
    pub fn scope(&self) -> Scope {
        match (self.subresource.as_deref(), self.rt.has_status) {
            (Some("status"), _) => Scope::StatusOnly,
            (_, true) => Scope::MainOnly,
            (_, false) => Scope::Whole,
        }
    }
}

/// How managedFields are updated by a write.
#[derive(Debug, Clone)]
pub enum Managed {
    /// A non-apply write: the manager owns what it changed.
    Update,
    /// Server-side apply already computed the entries.
    Apply(Vec<ManagedEntry>),
}

/// RFC 3339 timestamp with second precision, as the real server writes.
pub fn now() -> String {
    Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn metadata(object: &mut Value) -> Option<&mut Map<String, Value>> {
    let root = object.as_object_mut()?;
    let meta = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    meta.as_object_mut()
}

fn namespace_subject(ns: &str) -> Subject {
    Subject {
        group: String::new(),
        kind: "namespaces".into(),
        name: ns.to_string(),
    }
}

/// Checks the object's namespace exists and is not terminating.
pub fn check_namespace(store: &Store, ctx: &WriteContext, name: &str) -> Result<(), ApiError> {
    if !ctx.rt.namespaced {
        return Ok(());
    }
    let key = crate::catalogue::ResourceKey {
        group: String::new(),
        plural: "namespaces".into(),
    };
    match store.get(&key, "", &ctx.namespace) {
        None => Err(ApiError::NotFound {
            subject: namespace_subject(&ctx.namespace),
            message: format!("namespaces \"{}\" not found", ctx.namespace),
        }),
        Some(ns) if ns["metadata"]["deletionTimestamp"].is_string() => Err(ApiError::Forbidden {
            subject: Subject {
                group: ctx.rt.group.clone(),
                kind: ctx.rt.plural.clone(),
                name: name.to_string(),
            },
            message: format!(
                "{} \"{}\" is forbidden: unable to create new content in namespace {} because it is being terminated",
                subject_of(ctx, name).qualified(),
                name,
                ctx.namespace
            ),
        }),
        Some(_) => Ok(()),
    }
}

fn subject_of(ctx: &WriteContext, name: &str) -> Subject {
    Subject {
        group: ctx.rt.group.clone(),
        kind: ctx.rt.plural.clone(),
        name: name.to_string(),
    }
}

/// Checks `apiVersion`/`kind` in a body against the addressed resource and fills them in.
pub fn check_type(ctx: &WriteContext, body: &mut Value) -> Result<(), ApiError> {
    let api_version = ctx.rt.api_version();
    let Some(root) = body.as_object_mut() else {
        return Err(ApiError::BadRequest(
            "the body of the request must be a JSON or YAML object".into(),
        ));
    };
    if let Some(kind) = root.get("kind").and_then(Value::as_str)
        && kind != ctx.rt.kind
    {
        return Err(ApiError::BadRequest(format!(
            "the kind in the body ({kind}) does not match the resource ({})",
            ctx.rt.kind
        )));
    }
    if let Some(av) = root.get("apiVersion").and_then(Value::as_str)
        && av != api_version
    {
        return Err(ApiError::BadRequest(format!(
            "the API version in the data ({av}) does not match the expected API version ({api_version})"
        )));
    }
    root.insert("apiVersion".into(), json!(api_version));
    root.insert("kind".into(), json!(ctx.rt.kind));
    Ok(())
}

/// Puts `apiVersion` and `kind` first, like the real server's JSON.
fn reorder(object: Value) -> Value {
    let Value::Object(mut map) = object else {
        return object;
    };
    let mut out = Map::new();
    for key in ["apiVersion", "kind", "metadata"] {
        if let Some(v) = map.remove(key) {
            out.insert(key.to_string(), v);
        }
    }
    out.extend(map);
    Value::Object(out)
}

fn generate_name(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let suffix: String = bytes
        .iter()
        .take(5)
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    format!("{prefix}{suffix}")
}

/// Creates an object. `managed` is `Apply` when server-side apply creates it.
pub fn create(
    store: &mut Store,
    ctx: &WriteContext,
    mut object: Value,
    managed: Managed,
) -> Result<Value, ApiError> {
    check_type(ctx, &mut object)?;
    ctx.check_fields(store, &mut object)?;
    let Some(meta) = metadata(&mut object) else {
        return Err(ApiError::BadRequest("object has no metadata".into()));
    };
    if ctx.rt.namespaced {
        if let Some(ns) = meta.get("namespace").and_then(Value::as_str)
            && !ns.is_empty()
            && ns != ctx.namespace
        {
            return Err(ApiError::BadRequest(
                "the namespace of the provided object does not match the namespace sent on the request".into(),
            ));
        }
        meta.insert("namespace".into(), json!(ctx.namespace));
    } else {
        meta.remove("namespace");
    }
    let mut name = meta
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if name.is_empty() {
        match meta.get("generateName").and_then(Value::as_str) {
            Some(prefix) if !prefix.is_empty() => name = generate_name(prefix),
            _ => {
                return Err(ApiError::invalid(
                    &ctx.rt.group,
                    &ctx.rt.kind,
                    "",
                    crate::status::Cause {
                        reason: "FieldValueRequired".into(),
                        message: "name or generateName is required".into(),
                        field: "metadata.name".into(),
                    },
                ));
            }
        }
        meta.insert("name".into(), json!(name));
    }
    let now = now();
    meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
    meta.insert("creationTimestamp".into(), json!(now));
    for server_field in [
        "resourceVersion",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
        "selfLink",
    ] {
        meta.remove(server_field);
    }
    // managedFields are computed by the server, whatever the client sent.
    meta.remove("managedFields");
    if ctx.rt.has_generation {
        meta.insert("generation".into(), json!(1));
    }
    check_namespace(store, ctx, &name)?;
    if store.get(&ctx.rt.key(), &ctx.namespace, &name).is_some() {
        return Err(ApiError::AlreadyExists {
            subject: subject_of(ctx, &name),
        });
    }
    if ctx.rt.has_status
        && let Some(root) = object.as_object_mut()
    {
        // Status is written through /status only; create starts from an empty status.
        root.remove("status");
    }
    apply_defaults(&ctx.rt, &mut object, None, store);
    validate(&ctx.rt, &object)?;
    check_crd(ctx, &object)?;

    let entries = match managed {
        Managed::Apply(mut entries) => {
            for e in entries.iter_mut() {
                prune_absent(&mut e.fields, &object);
            }
            entries
        }
        Managed::Update => {
            let mut changed = changed_set(ctx.shape(), &json!({}), &object);
            strip_unowned(&mut changed, ctx.scope());
            let mut entries = Vec::new();
            record_update(
                &mut entries,
                &changed,
                &object,
                &ctx.manager,
                &ctx.rt.api_version(),
                ctx.subresource.as_deref(),
                &now,
            );
            entries
        }
    };
    managed_fields::write(&mut object, &entries);
    let mut object = reorder(object);
    if ctx.dry_run {
        return Ok(object);
    }
    let rv = store.bump_rv();
    if let Some(meta) = metadata(&mut object) {
        meta.insert("resourceVersion".into(), json!(rv.to_string()));
    }
    if ctx.rt.kind == "CustomResourceDefinition" && ctx.rt.builtin {
        store
            .catalogue
            .add_crd(&object)
            .map_err(|e| crd_invalid(ctx, &name, e))?;
    }
    store.put(
        &ctx.rt.key(),
        &ctx.namespace,
        &name,
        object.clone(),
        EventType::Added,
        &ctx.manager,
    );
    Ok(object)
}

fn crd_invalid(ctx: &WriteContext, name: &str, message: String) -> ApiError {
    let (field, message) = message
        .split_once(": ")
        .map(|(f, m)| (f.to_string(), m.to_string()))
        .unwrap_or((String::new(), message));
    ApiError::invalid(
        &ctx.rt.group,
        &ctx.rt.kind,
        name,
        crate::status::Cause {
            reason: "FieldValueInvalid".into(),
            message,
            field,
        },
    )
}

fn check_crd(ctx: &WriteContext, object: &Value) -> Result<(), ApiError> {
    if ctx.rt.kind == "CustomResourceDefinition" && ctx.rt.builtin {
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        crate::catalogue::crd_types(object).map_err(|e| crd_invalid(ctx, name, e))?;
    }
    Ok(())
}

/// The parts of an object that count as "spec" for generation: everything but metadata
/// and status.
fn spec_part(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Some(m) = copy.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
    }
    copy
}

/// The object with managedFields timestamps blanked, for no-op detection.
fn without_times(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Some(entries) = copy
        .get_mut("metadata")
        .and_then(|m| m.get_mut("managedFields"))
        .and_then(Value::as_array_mut)
    {
        for e in entries.iter_mut().filter_map(Value::as_object_mut) {
            e.remove("time");
        }
    }
    copy
}

/// Replaces `old` with `new` (a full desired object from PUT, a patch result or apply).
pub fn update(
    store: &mut Store,
    ctx: &WriteContext,
    old: &Value,
    mut new: Value,
    managed: Managed,
) -> Result<Value, ApiError> {
    check_type(ctx, &mut new)?;
    ctx.check_fields(store, &mut new)?;
    let name = old["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let old_rv = old["metadata"]["resourceVersion"].clone();
    if let Some(rv) = new["metadata"]["resourceVersion"].as_str()
        && !rv.is_empty()
        && Some(rv) != old_rv.as_str()
    {
        return Err(ApiError::stale(&ctx.rt.group, &ctx.rt.plural, &name));
    }
    if ctx.subresource.as_deref() == Some("status") {
        // Status writes change only status (and the managedFields recorded below).
        let status = new.get("status").cloned();
        new = old.clone();
        if let Some(root) = new.as_object_mut() {
            match status {
                Some(s) => root.insert("status".into(), s),
                None => root.remove("status"),
            };
        }
    } else if ctx.rt.has_status
        && let Some(root) = new.as_object_mut()
    {
        match old.get("status") {
            Some(s) => root.insert("status".into(), s.clone()),
            None => root.remove("status"),
        };
    }
    let Some(meta) = metadata(&mut new) else {
        return Err(ApiError::BadRequest("object has no metadata".into()));
    };
    for field in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
        "resourceVersion",
    ] {
        match old["metadata"].get(field) {
            Some(v) => meta.insert(field.into(), v.clone()),
            None => meta.remove(field),
        };
    }
    apply_defaults(&ctx.rt, &mut new, Some(old), store);
    check_immutable(&ctx.rt, old, &new)?;
    validate(&ctx.rt, &new)?;
    check_crd(ctx, &new)?;
    if ctx.rt.has_generation && spec_part(old) != spec_part(&new) {
        let generation = old["metadata"]["generation"].as_i64().unwrap_or(0) + 1;
        if let Some(meta) = metadata(&mut new) {
            meta.insert("generation".into(), json!(generation));
        }
    }
    let now = now();
    let mut entries = match managed {
        Managed::Apply(entries) => entries,
        Managed::Update => {
            let mut entries = managed_fields::read(old);
            let mut changed = changed_set(ctx.shape(), old, &new);
            strip_unowned(&mut changed, ctx.scope());
            record_update(
                &mut entries,
                &changed,
                &new,
                &ctx.manager,
                &ctx.rt.api_version(),
                ctx.subresource.as_deref(),
                &now,
            );
            entries
        }
    };
    for e in entries.iter_mut() {
        prune_absent(&mut e.fields, &new);
    }
    entries.retain(|e| !e.fields.is_empty());
    managed_fields::write(&mut new, &entries);
    let mut new = reorder(new);
    if without_times(&new) == without_times(old) {
        // Nothing changed: the real server skips the write and keeps the resourceVersion.
        return Ok(old.clone());
    }
    if ctx.dry_run {
        return Ok(new);
    }
    let finished = new["metadata"]["deletionTimestamp"].is_string()
        && crate::delete::fully_finalized(&ctx.rt, &new);
    let rv = store.bump_rv();
    if let Some(meta) = metadata(&mut new) {
        meta.insert("resourceVersion".into(), json!(rv.to_string()));
    }
    if finished {
        // Last finalizer removed from an object being deleted: it goes away now.
        crate::delete::remove_object(
            store,
            &ctx.rt,
            &ctx.namespace,
            &name,
            new.clone(),
            &ctx.manager,
        );
        return Ok(new);
    }
    if ctx.rt.kind == "CustomResourceDefinition" && ctx.rt.builtin {
        store
            .catalogue
            .add_crd(&new)
            .map_err(|e| crd_invalid(ctx, &name, e))?;
    }
    store.put(
        &ctx.rt.key(),
        &ctx.namespace,
        &name,
        new.clone(),
        EventType::Modified,
        &ctx.manager,
    );
    Ok(new)
}
