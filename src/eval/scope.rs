//! The evaluation scope of resource configuration during plan and apply: variables,
//! lazily evaluated local values, and the current value of every resource.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use braid_functions::Phase;
use braid_provider::{AttributeType, Path, ResourceSchema, Value};
use chrono::{DateTime, Utc};

use crate::config::eval::{CallShape, Evaluator, NameKind, ResourceValue, Scope, ScopeValue};
use crate::config::{
    ConfigBody, InstanceKey, ManifestBody, Module, ModuleInstance, Repetition, ResourceBody,
    ResourceDecl, VariableDecl,
};
use crate::diag::{Diagnostic, Diagnostics};
use crate::manifests::TemplatePart;

/// A task panicked while it held the resource values: the scope cannot be trusted.
const POISONED: &str = "a planning task panicked while recording a resource value";

/// What resource bodies, outputs and locals are evaluated against during plan and apply: the
/// module, the variables, the environment's name, and the value of every resource known so far.
/// Shared by the concurrent tasks of a walk; each task records its resource with
/// [`EvalScope::set_resource`] before its dependents start.
pub struct EvalScope<'a> {
    /// The configuration: variables, locals (evaluated where they are referenced, each time),
    /// resources and outputs.
    pub module: &'a Module,
    /// The variables' resolved values, by name.
    pub variables: &'a BTreeMap<String, ScopeValue>,
    /// The environment's name, which configuration reads as `env.name`.
    pub env_name: &'a str,
    /// Planned values during plan; applied (or prior) values during apply.
    pub resources: RwLock<HashMap<String, Arc<ResourceValue>>>,
    /// Planning or applying, and the plan's instant (see [`Scope::phase`]).
    pub phase: (Phase, DateTime<Utc>),
    /// Resources planned with a change: a data source that depends on one is read during
    /// apply, after the change, as Terraform does.
    pub changed: RwLock<std::collections::HashSet<String>>,
    /// Why data blocks nested in check blocks could not be read, by check (its module
    /// prefix and name): reported as the check's warnings.
    pub check_failures: RwLock<BTreeMap<String, Vec<String>>>,
    /// What providers warned of while planning or applying (a deprecated argument, …),
    /// each once, in the order given: shown with the plan and the apply's result.
    pub warnings: std::sync::Mutex<Vec<Diagnostic>>,
}

impl<'a> EvalScope<'a> {
    /// A scope with no resource values yet.
    pub fn new(
        module: &'a Module,
        variables: &'a BTreeMap<String, ScopeValue>,
        env_name: &'a str,
    ) -> Self {
        EvalScope {
            module,
            variables,
            env_name,
            resources: RwLock::new(HashMap::new()),
            phase: (Phase::Plan, braid_functions::process_plan_time()),
            changed: RwLock::new(std::collections::HashSet::new()),
            check_failures: RwLock::new(BTreeMap::new()),
            warnings: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Keeps the warnings among `diagnostics` (see [`EvalScope::warnings`]); one already
    /// kept (same resource, summary and detail) is not kept twice.
    pub fn keep_warnings(&self, diagnostics: impl IntoIterator<Item = Diagnostic>) {
        let mut kept = self.warnings.lock().expect(POISONED);
        for d in diagnostics {
            if d.is_error()
                || kept.iter().any(|k| {
                    k.address == d.address && k.summary == d.summary && k.detail == d.detail
                })
            {
                continue;
            }
            kept.push(d);
        }
    }

    /// The warnings kept so far, taken out of the scope.
    pub fn take_warnings(&self) -> Vec<Diagnostic> {
        std::mem::take(&mut *self.warnings.lock().expect(POISONED))
    }

    /// Records that the data block `decl`, nested in a check block, could not be read: its
    /// value becomes unknown and the check reports `diagnostics` as warnings.
    pub fn record_check_failure(&self, decl: &ResourceDecl, diagnostics: &Diagnostics) {
        let Some(check) = &decl.check else {
            return;
        };
        self.set_resource(&decl.address, Value::Unknown, Vec::new());
        let mut failures = self.check_failures.write().expect(POISONED);
        let messages = failures
            .entry(format!("{}{check}", decl.module))
            .or_default();
        for d in &diagnostics.0 {
            messages.push(format!("{}: {}: {}", decl.address, d.summary, d.detail));
        }
    }

    /// The same scope evaluating for an apply of a plan made at `plan_time`: `uuid()` and
    /// `timestamp()` get values, `plantimestamp()` is the plan's.
    pub fn applying(mut self, plan_time: DateTime<Utc>) -> Self {
        self.phase = (Phase::Apply, plan_time);
        self
    }

    /// The same scope planning at `plan_time`.
    pub fn planning(mut self, plan_time: DateTime<Utc>) -> Self {
        self.phase = (Phase::Plan, plan_time);
        self
    }

    /// Records the value of the resource at `address` (planned during plan, applied during apply)
    /// with its sensitive paths, so expressions that reference it evaluate to it.
    pub fn set_resource(&self, address: &str, value: Value, sensitive_paths: Vec<Path>) {
        self.resources.write().expect(POISONED).insert(
            address.to_string(),
            Arc::new(ResourceValue {
                value,
                sensitive_paths,
            }),
        );
    }

    /// Evaluates a resource's body to its configuration value and sensitive paths.
    pub fn evaluate_resource(
        &self,
        decl: &ResourceDecl,
        schema: Option<&ResourceSchema>,
    ) -> Result<(Value, Vec<Path>), Diagnostics> {
        let mut sensitive = Vec::new();
        let value = match &decl.body {
            ResourceBody::Hcl(body) => {
                self.evaluate_body(body, decl, schema, &Path::root(), &[], &mut sensitive)?
            }
            ResourceBody::Manifest(manifest) => {
                self.evaluate_manifest(manifest, decl, &mut sensitive)?
            }
        };
        if let Some(schema) = schema {
            for name in schema.sensitive_attributes() {
                let path = Path::key(name);
                if !sensitive.contains(&path) {
                    sensitive.push(path);
                }
            }
        }
        sensitive.sort();
        Ok((value, sensitive))
    }

    #[allow(clippy::too_many_arguments)]
    fn evaluate_body(
        &self,
        body: &ConfigBody,
        decl: &ResourceDecl,
        schema: Option<&ResourceSchema>,
        at: &Path,
        bindings: &[(String, Value)],
        sensitive: &mut Vec<Path>,
    ) -> Result<Value, Diagnostics> {
        let mut diags = Diagnostics::new();
        let mut out = BTreeMap::new();
        let mut evaluator = instance_evaluator(self, &body.file, decl);
        for (name, value) in bindings {
            evaluator = evaluator.with_binding(name, value.clone());
        }
        for attr in &body.attributes {
            match evaluator.evaluate_storable(&attr.expr) {
                Ok(v) => {
                    if v.sensitive {
                        sensitive.push(at.child_key(&attr.name));
                    }
                    out.insert(attr.name.clone(), v.value);
                }
                Err(d) => diags.push(d.for_address(&decl.address)),
            }
        }
        // Blocks of a kind, in the order written; `None` when a dynamic block's for_each is
        // not known yet (the whole list is then unknown).
        let mut grouped: BTreeMap<&str, Option<Vec<Value>>> = BTreeMap::new();
        for block in &body.blocks {
            let kind = block.effective_kind();
            if block.kind != "dynamic" {
                let entry = grouped.entry(kind).or_insert_with(|| Some(Vec::new()));
                let index = entry.as_ref().map_or(0, Vec::len);
                let path = at.child_key(kind).child_index(index);
                match self.evaluate_body(&block.body, decl, None, &path, bindings, sensitive) {
                    Ok(v) => {
                        if let Some(list) = entry {
                            list.push(v);
                        }
                    }
                    Err(d) => diags.extend(d),
                }
                continue;
            }
            let elements = match self.dynamic_elements(&mut evaluator, block, decl) {
                Ok(elements) => elements,
                Err(d) => {
                    diags.push(d);
                    continue;
                }
            };
            let entry = grouped.entry(kind).or_insert_with(|| Some(Vec::new()));
            let Some(elements) = elements else {
                *entry = None;
                continue;
            };
            let Some(content) = block.body.blocks.iter().find(|b| b.kind == "content") else {
                continue;
            };
            let iterator = block.dynamic_iterator().to_string();
            for (key, value) in elements {
                let Some(list) = entry.as_mut() else {
                    break;
                };
                let path = at.child_key(kind).child_index(list.len());
                let mut inner = bindings.to_vec();
                inner.push((
                    iterator.clone(),
                    Value::map([("key", key), ("value", value)]),
                ));
                match self.evaluate_body(&content.body, decl, None, &path, &inner, sensitive) {
                    Ok(v) => list.push(v),
                    Err(d) => diags.extend(d),
                }
            }
        }
        for (kind, values) in grouped {
            let Some(mut values) = values else {
                out.insert(kind.to_string(), Value::Unknown);
                continue;
            };
            let single = at.is_root()
                && schema
                    .and_then(|s| s.attributes.get(kind))
                    .is_some_and(|a| a.r#type == AttributeType::Map);
            let value = if single && values.len() == 1 {
                values.pop().unwrap_or_default()
            } else {
                Value::List(values)
            };
            out.insert(kind.to_string(), value);
        }
        diags.into_result(Value::Map(out.into()))
    }

    /// The elements a `dynamic` block makes blocks of: its `for_each` as (key, value) pairs
    /// (index and element for a list); `None` while unknown.
    #[allow(clippy::type_complexity)]
    fn dynamic_elements(
        &self,
        evaluator: &mut Evaluator<'_>,
        block: &crate::config::NestedBlock,
        decl: &ResourceDecl,
    ) -> Result<Option<Vec<(Value, Value)>>, Diagnostic> {
        let fail = |detail: &str, at: &crate::diag::Location| {
            Diagnostic::error("Invalid dynamic for_each value", detail.to_string())
                .at(at.clone())
                .for_address(&decl.address)
        };
        let Some(for_each) = block.body.attribute("for_each") else {
            return Err(Diagnostic::error(
                "Missing required argument",
                "The argument \"for_each\" is required, but no definition was found: a dynamic block makes one block per element of for_each.",
            )
            .at(block.location.clone())
            .for_address(&decl.address));
        };
        let value = evaluator
            .evaluate(&for_each.expr)
            .map_err(|d| d.for_address(&decl.address))?;
        if value.sensitive {
            return Err(fail(
                "Cannot use sensitive values in for_each of a dynamic block: they would be exposed as block keys.",
                &for_each.value_location,
            ));
        }
        match value.value {
            Value::Unknown => Ok(None),
            Value::Null => Err(fail(
                "Cannot use a null value in for_each.",
                &for_each.value_location,
            )),
            Value::Map(map) => Ok(Some(
                map.into_iter().map(|(k, v)| (Value::from(k), v)).collect(),
            )),
            Value::List(items) => Ok(Some(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (Value::from(i as i64), v))
                    .collect(),
            )),
            other => Err(fail(
                &format!(
                    "Cannot use a {} value in for_each. An iterable collection is required.",
                    other.kind()
                ),
                &for_each.value_location,
            )),
        }
    }

    /// The manifest with every `${{ }}` replaced by its value: a string that is one
    /// reference takes the value's type; otherwise the parts are joined into a string.
    fn evaluate_manifest(
        &self,
        manifest: &ManifestBody,
        decl: &ResourceDecl,
        sensitive: &mut Vec<Path>,
    ) -> Result<Value, Diagnostics> {
        let mut document = manifest.document.clone();
        let mut diags = Diagnostics::new();
        let mut evaluator = instance_evaluator(self, &manifest.file, decl);
        for field in &manifest.templates {
            let mut text = String::new();
            let mut known = true;
            let mut single = None;
            let mut secret = false;
            for part in &field.parts {
                match part {
                    TemplatePart::Literal(l) => text.push_str(l),
                    TemplatePart::Expr { expr, location } => match evaluator.evaluate(expr) {
                        Ok(v) => {
                            secret |= v.sensitive;
                            if field.parts.len() == 1 {
                                single = Some(v.value);
                                continue;
                            }
                            match v.value {
                                Value::Unknown => known = false,
                                Value::String(s) => text.push_str(&s),
                                Value::Number(n) => text.push_str(&n.to_string()),
                                Value::Bool(b) => text.push_str(&b.to_string()),
                                other => diags.push(
                                    Diagnostic::error(
                                        "Invalid template interpolation value",
                                        format!(
                                            "A {} cannot be part of a string. Make the whole string the reference to insert it as is, or use jsonencode().",
                                            other.kind()
                                        ),
                                    )
                                    .at(location.clone())
                                    .for_address(&decl.address),
                                ),
                            }
                        }
                        Err(d) => diags.push(d.for_address(&decl.address)),
                    },
                }
            }
            let value = match single {
                Some(v) => v,
                None if known => Value::String(text),
                None => Value::Unknown,
            };
            if secret {
                sensitive.push(field.path.clone());
            }
            document.set(&field.path, value);
        }
        // Values of SOPS files, wherever they ended up in the object (a Secret's data, an
        // env var, a Helm value rendered into a template).
        if !self.module.sops_secrets.is_empty() {
            let secrets: Vec<&str> = self
                .module
                .sops_secrets
                .iter()
                .map(String::as_str)
                .collect();
            crate::eval::secrets::mark_derived(&document, &secrets, sensitive);
        }
        diags.into_result(document)
    }

    /// Whether the resource at `address` (an instance, or a resource as written: any of its
    /// instances) was planned with a change.
    pub fn has_pending_change(&self, address: &str) -> bool {
        let changed = self.changed.read().expect(POISONED);
        changed.contains(address)
            || changed
                .iter()
                .any(|c| crate::config::resource_groups(c).any(|g| g == address))
    }

    /// Checks `decl`'s `precondition`s (`planned` is `None`) or its `postcondition`s with
    /// `self` the planned object. A false condition is an error with its `error_message`; an
    /// unknown one is checked again when the resource is applied.
    pub fn check_conditions(
        &self,
        decl: &ResourceDecl,
        planned: Option<&Value>,
    ) -> Result<(), Diagnostics> {
        let (conditions, summary) = match planned {
            None => (
                &decl.lifecycle.preconditions,
                "Resource precondition failed",
            ),
            Some(_) => (
                &decl.lifecycle.postconditions,
                "Resource postcondition failed",
            ),
        };
        let mut diags = Diagnostics::new();
        for condition in conditions {
            let mut evaluator = instance_evaluator(self, decl.file(), decl);
            if let Some(planned) = planned {
                evaluator = evaluator.with_binding("self", planned.clone());
            }
            let result = match evaluator.evaluate(&condition.condition) {
                Ok(v) => v.value,
                Err(d) => {
                    diags.push(d.for_address(&decl.address));
                    continue;
                }
            };
            match result {
                Value::Bool(true) | Value::Unknown => {}
                Value::Bool(false) => {
                    let message = condition_message(evaluator.evaluate(&condition.error_message));
                    diags.push(
                        Diagnostic::error(summary, message)
                            .at(condition.location.clone())
                            .for_address(&decl.address),
                    );
                }
                other => diags.push(
                    Diagnostic::error(
                        "Invalid condition result",
                        format!("A condition must be true or false, not a {}.", other.kind()),
                    )
                    .at(condition.location.clone())
                    .for_address(&decl.address),
                ),
            }
        }
        diags.into_result(())
    }

    /// What expressions see as a `count`/`for_each` resource: a list of its instances' values
    /// (`count`) or a map by key (`for_each`), each instance's sensitive paths under its index
    /// or key; unknown while the keys are.
    fn instances_value(
        &self,
        address: &str,
        repeated: &crate::config::RepeatedResource,
    ) -> ResourceValue {
        let Some(keys) = &repeated.keys else {
            return ResourceValue {
                value: Value::Unknown,
                sensitive_paths: Vec::new(),
            };
        };
        let values = self.resources.read().expect(POISONED);
        let mut list = Vec::with_capacity(keys.len());
        let mut map = BTreeMap::new();
        let mut sensitive_paths = Vec::new();
        for key in keys {
            let instance = values.get(&format!("{address}{key}"));
            let value = instance.map_or(Value::Unknown, |v| v.value.clone());
            let prefix = match key {
                InstanceKey::Index(i) => Path::root().child_index(*i),
                InstanceKey::Key(k) => Path::key(k),
            };
            for path in instance.iter().flat_map(|v| &v.sensitive_paths) {
                let mut steps = prefix.0.clone();
                steps.extend(path.0.iter().cloned());
                sensitive_paths.push(Path(steps));
            }
            match key {
                InstanceKey::Index(_) => list.push(value),
                InstanceKey::Key(k) => {
                    map.insert(k.clone(), value);
                }
            }
        }
        ResourceValue {
            value: if repeated.is_for_each() {
                Value::Map(map.into())
            } else {
                Value::List(list)
            },
            sensitive_paths,
        }
    }

    /// Evaluates the settings of a root module's `provider` block: attributes, and nested
    /// blocks as objects (a list of them when a kind repeats). A value known only after
    /// apply is an error: providers are configured before planning.
    pub fn evaluate_settings(
        &self,
        body: &ConfigBody,
        base_dir: &std::path::Path,
    ) -> Result<Value, Diagnostics> {
        let mut diags = Diagnostics::new();
        let mut out = BTreeMap::new();
        let mut evaluator = Evaluator::new(self, &body.file, base_dir);
        for attr in &body.attributes {
            match evaluator.evaluate_storable(&attr.expr) {
                Ok(v) if !v.value.is_wholly_known() => diags.push(
                    Diagnostic::error(
                        "Invalid provider configuration",
                        format!(
                            "The value of \"{}\" depends on values known only after apply, but providers are configured before planning. Use variables, locals and constants.",
                            attr.name
                        ),
                    )
                    .at(attr.value_location.clone()),
                ),
                Ok(v) => {
                    out.insert(attr.name.clone(), v.value);
                }
                Err(d) => diags.push(d),
            }
        }
        let mut grouped: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
        for block in &body.blocks {
            match self.evaluate_settings(&block.body, base_dir) {
                Ok(v) => grouped.entry(block.kind.as_str()).or_default().push(v),
                Err(d) => diags.extend(d),
            }
        }
        for (kind, mut values) in grouped {
            let value = if values.len() == 1 {
                values.pop().unwrap_or_default()
            } else {
                Value::List(values)
            };
            out.insert(kind.to_string(), value);
        }
        diags.into_result(Value::Map(out.into()))
    }

    /// Evaluates an output or other free expression of the root module.
    pub fn evaluate_expression(
        &self,
        expr: &hcl_edit::expr::Expression,
        file: &std::sync::Arc<crate::diag::SourceText>,
        base_dir: &std::path::Path,
    ) -> Result<ScopeValue, Diagnostic> {
        self.evaluate_in("", expr, file, base_dir)
    }

    /// [`EvalScope::evaluate_expression`] for a value that is stored (an output): infinite
    /// numbers are refused ([`Evaluator::evaluate_storable`]).
    pub fn evaluate_storable(
        &self,
        expr: &hcl_edit::expr::Expression,
        file: &std::sync::Arc<crate::diag::SourceText>,
        base_dir: &std::path::Path,
    ) -> Result<ScopeValue, Diagnostic> {
        Evaluator::new(self, file, base_dir).evaluate_storable(expr)
    }

    /// Evaluates an expression written in the module instance with prefix `module`.
    pub fn evaluate_in(
        &self,
        module: &str,
        expr: &hcl_edit::expr::Expression,
        file: &std::sync::Arc<crate::diag::SourceText>,
        base_dir: &std::path::Path,
    ) -> Result<ScopeValue, Diagnostic> {
        Evaluator::new(self, file, base_dir)
            .in_module(module)
            .evaluate(expr)
    }

    /// The value of variable `decl` of a module instance: the call's argument evaluated in
    /// the calling module (with the instance's `count.index` or `each`), else the default,
    /// converted to the variable's type.
    pub fn module_input(
        &self,
        instance: &ModuleInstance,
        decl: &VariableDecl,
    ) -> Result<ScopeValue, Diagnostic> {
        let call = &instance.call;
        let argument = call.arguments.attribute(&decl.name);
        let mut value = match argument {
            Some(attr) => {
                let mut evaluator =
                    Evaluator::new(self, call.file(), &call.base_dir).in_module(&instance.parent);
                if let Some((name, value)) = super::modules::instance_binding(&instance.key) {
                    evaluator = evaluator.with_binding(name, value);
                }
                evaluator.evaluate(&attr.expr)?
            }
            None => ScopeValue {
                value: decl.default.clone().unwrap_or(Value::Null),
                sensitive: false,
            },
        };
        let at = || argument.map_or_else(|| call.location.clone(), |a| a.value_location.clone());
        if value.value.is_null() && !decl.nullable {
            match &decl.default {
                Some(default) if !default.is_null() => value.value = default.clone(),
                _ => {
                    return Err(Diagnostic::error(
                        "Invalid value for input variable",
                        format!(
                            "The given value is null, but the variable \"{}\" of {} is declared nullable = false and has no default. Give it a value that is not null.",
                            decl.name, instance.address
                        ),
                    )
                    .at(at()));
                }
            }
        }
        let converted = decl.type_constraint.convert(&value.value).map_err(|why| {
            let why = if decl.sensitive || value.sensitive {
                format!(
                    "{} is required (the value is not shown because it is sensitive)",
                    decl.type_constraint.describe()
                )
            } else {
                why
            };
            Diagnostic::error(
                "Invalid value for input variable",
                format!(
                    "The given value is not suitable for the variable \"{}\" of {} declared at {}: {why}.",
                    decl.name,
                    instance.address,
                    decl.location.short()
                ),
            )
            .at(at())
        })?;
        Ok(ScopeValue {
            value: converted,
            sensitive: value.sensitive || decl.sensitive,
        })
    }

    /// The value of output `name` of the module instance at `instance`.
    fn output_value(
        &self,
        instance: &ModuleInstance,
        name: &str,
    ) -> Option<Result<ScopeValue, Diagnostic>> {
        let decl = instance.outputs.get(name)?;
        let prefix = instance.prefix();
        Some(
            Evaluator::new(self, &decl.file, &instance.base_dir)
                .in_module(&prefix)
                .evaluate(&decl.expr)
                .map(|mut v| {
                    v.sensitive |= decl.sensitive;
                    v
                }),
        )
    }

    /// Every output of `instance` as an object.
    fn outputs_object(&self, instance: &ModuleInstance) -> Result<ScopeValue, Diagnostic> {
        let mut out = BTreeMap::new();
        let mut sensitive = false;
        for name in instance.outputs.keys() {
            if let Some(result) = self.output_value(instance, name) {
                let v = result?;
                sensitive |= v.sensitive;
                out.insert(name.clone(), v.value);
            }
        }
        Ok(ScopeValue {
            value: Value::Map(out.into()),
            sensitive,
        })
    }
}

/// An evaluator for the body of `decl`, seeing `count.index` or `each.key`/`each.value` of
/// the instance (unknown for a `count`/`for_each` resource checked as written).
fn instance_evaluator<'a>(
    scope: &'a EvalScope<'_>,
    file: &'a Arc<crate::diag::SourceText>,
    decl: &'a ResourceDecl,
) -> Evaluator<'a> {
    let evaluator = Evaluator::new(scope, file, &decl.base_dir).in_module(&decl.module);
    match (&decl.instance, &decl.repetition) {
        (Some(instance), repetition) => match &instance.each_value {
            Some(value) => {
                // Known when expanded from variables and locals; else read again now that
                // the resources it came from have values (`for_each = aws_x.y`).
                let value = match repetition {
                    Some(Repetition::ForEach(attr)) if !value.is_wholly_known() => {
                        current_each_value(scope, decl, &attr.expr, &instance.key)
                            .unwrap_or_else(|| value.clone())
                    }
                    _ => value.clone(),
                };
                evaluator.with_binding(
                    "each",
                    Value::map([("key", instance.key.value()), ("value", value)]),
                )
            }
            None => evaluator.with_binding("count", Value::map([("index", instance.key.value())])),
        },
        (None, Some(Repetition::Count(_))) => {
            evaluator.with_binding("count", Value::map([("index", Value::Unknown)]))
        }
        (None, Some(Repetition::ForEach(_))) => evaluator.with_binding(
            "each",
            Value::map([("key", Value::Unknown), ("value", Value::Unknown)]),
        ),
        (None, None) => evaluator,
    }
}

/// The text shown when a condition is false: its evaluated `error_message`, never a
/// sensitive one, or a plain statement when the message cannot be evaluated.
pub fn condition_message(message: Result<ScopeValue, Diagnostic>) -> String {
    match message {
        Ok(m) if m.sensitive => "(the error message uses a sensitive value)".to_string(),
        Ok(ScopeValue {
            value: Value::String(text),
            ..
        }) => text,
        _ => "The condition is false.".to_string(),
    }
}

/// `each.value` of the instance at `key`, from the `for_each` expression evaluated now.
fn current_each_value(
    scope: &EvalScope<'_>,
    decl: &ResourceDecl,
    for_each: &hcl_edit::expr::Expression,
    key: &InstanceKey,
) -> Option<Value> {
    let InstanceKey::Key(key) = key else {
        return None;
    };
    let value = Evaluator::new(scope, decl.file(), &decl.base_dir)
        .in_module(&decl.module)
        .evaluate(for_each)
        .ok()?
        .value;
    match value {
        Value::Map(mut map) => map.remove(key),
        Value::List(_) => Some(Value::from(key.as_str())),
        _ => None,
    }
}

impl Scope for EvalScope<'_> {
    fn variable(&self, module: &str, name: &str) -> Option<Result<ScopeValue, Diagnostic>> {
        if module.is_empty() {
            return self.variables.get(name).cloned().map(Ok);
        }
        let instance = self
            .module
            .module_instances
            .get(module.strip_suffix('.').unwrap_or(module))?;
        let decl = instance.variables.get(name)?;
        Some(self.module_input(instance, decl))
    }

    fn local(&self, name: &str) -> Option<Result<ScopeValue, Diagnostic>> {
        let decl = self.module.locals.get(name)?;
        Some(
            Evaluator::new(self, &decl.file, &decl.base_dir)
                .in_module(&decl.module)
                .evaluate(&decl.expr),
        )
    }

    fn module_call(&self, address: &str) -> Option<CallShape> {
        let call = self.module.module_calls.get(address)?;
        Some(match &call.call.repetition {
            None => CallShape::Single,
            Some(Repetition::Count(_)) => CallShape::Count,
            Some(Repetition::ForEach(_)) => CallShape::ForEach,
        })
    }

    fn module_output(&self, instance: &str, name: &str) -> Option<Result<ScopeValue, Diagnostic>> {
        let instance = self.module.module_instances.get(instance)?;
        self.output_value(instance, name)
    }

    fn has_module_instance(&self, instance: &str) -> bool {
        self.module.module_instances.contains_key(instance)
    }

    fn module_object(&self, instance: &str) -> Option<Result<ScopeValue, Diagnostic>> {
        let instance = self.module.module_instances.get(instance)?;
        Some(self.outputs_object(instance))
    }

    fn module_instances_value(&self, address: &str) -> Result<ScopeValue, Diagnostic> {
        let Some(call) = self.module.module_calls.get(address) else {
            return Ok(ScopeValue {
                value: Value::Unknown,
                sensitive: false,
            });
        };
        let Some(keys) = &call.keys else {
            return Ok(ScopeValue {
                value: Value::Unknown,
                sensitive: false,
            });
        };
        let mut list = Vec::new();
        let mut map = BTreeMap::new();
        let mut sensitive = false;
        for key in keys {
            let value = match self.module.module_instances.get(&format!("{address}{key}")) {
                Some(instance) => {
                    let v = self.outputs_object(instance)?;
                    sensitive |= v.sensitive;
                    v.value
                }
                None => Value::Unknown,
            };
            match key {
                InstanceKey::Index(_) => list.push(value),
                InstanceKey::Key(k) => {
                    map.insert(k.clone(), value);
                }
            }
        }
        let value = match &call.call.repetition {
            Some(Repetition::ForEach(_)) => Value::Map(map.into()),
            _ => Value::List(list),
        };
        Ok(ScopeValue { value, sensitive })
    }

    fn module_paths(&self, module: &str) -> (String, String) {
        self.module
            .module_instances
            .get(module.strip_suffix('.').unwrap_or(module))
            .map_or_else(
                || (".".to_string(), ".".to_string()),
                |i| (i.path_module.clone(), i.path_root.clone()),
            )
    }

    fn resource(&self, address: &str) -> Option<Arc<ResourceValue>> {
        if let Some(repeated) = self.module.repeated.get(address) {
            return Some(Arc::new(self.instances_value(address, repeated)));
        }
        if let Some(v) = self.resources.read().expect(POISONED).get(address).cloned() {
            return Some(v);
        }
        // Declared but not evaluated yet (its plan failed): unknown, not undeclared.
        self.module.resources.contains_key(address).then(|| {
            Arc::new(ResourceValue {
                value: Value::Unknown,
                sensitive_paths: Vec::new(),
            })
        })
    }

    fn is_repeated(&self, address: &str) -> bool {
        self.module.repeated.contains_key(address)
    }

    fn resource_instance(&self, address: &str, key: &Value) -> Option<Arc<ResourceValue>> {
        let repeated = self.module.repeated.get(address)?;
        let key = match (key, repeated.is_for_each()) {
            (Value::String(k), true) => InstanceKey::Key(k.clone()),
            (Value::Number(_), false) => {
                let f = key.as_f64()?;
                (f >= 0.0 && f.fract() == 0.0).then_some(InstanceKey::Index(f as usize))?
            }
            _ => return None,
        };
        if !repeated.keys.as_ref()?.contains(&key) {
            return None;
        }
        let instance = format!("{address}{key}");
        Some(
            self.resources
                .read()
                .expect(POISONED)
                .get(&instance)
                .cloned()
                .unwrap_or_else(|| {
                    Arc::new(ResourceValue {
                        value: Value::Unknown,
                        sensitive_paths: Vec::new(),
                    })
                }),
        )
    }

    fn env_name(&self) -> &str {
        self.env_name
    }

    fn phase(&self) -> (Phase, DateTime<Utc>) {
        self.phase
    }

    fn declared(&self, kind: NameKind, module: &str) -> Vec<String> {
        let own = |name: &String| -> Option<String> {
            let rest = name.strip_prefix(module)?;
            (!rest.starts_with("module.")).then(|| rest.to_string())
        };
        match kind {
            NameKind::Variable if module.is_empty() => {
                self.module.variables.keys().cloned().collect()
            }
            NameKind::Variable => self
                .module
                .module_instances
                .get(module.strip_suffix('.').unwrap_or(module))
                .map(|i| i.variables.keys().cloned().collect())
                .unwrap_or_default(),
            NameKind::Local => self
                .module
                .locals
                .iter()
                .filter(|(_, l)| l.module == module)
                .map(|(_, l)| l.name.clone())
                .collect(),
            NameKind::Resource => self
                .module
                .written_resources()
                .filter(|r| r.module == module)
                .filter_map(|r| own(&r.address))
                .collect(),
            NameKind::Module => self
                .module
                .module_calls
                .keys()
                .filter_map(|a| {
                    let rest = a.strip_prefix(module)?.strip_prefix("module.")?;
                    (!rest.contains('.')).then(|| rest.to_string())
                })
                .collect(),
        }
    }
}
