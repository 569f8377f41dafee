//! Expanding `count` and `for_each`: a resource written once becomes one resource instance per
//! index or key (`aws_x.y[0]`, `aws_x.y["k"]`), as Terraform does at plan time.
//!
//! The arguments are evaluated once the variables are known, before planning, in dependency
//! order: a `for_each` over another repeated resource (`for_each = aws_x.y`) sees its keys
//! with unknown values, so chaining works; an argument that needs a value only known after
//! apply is an error, as in Terraform.

use std::collections::{BTreeMap, BTreeSet};

use braid_provider::Value;
use hcl_edit::expr::Expression;

use super::EvalScope;
use crate::config::eval::ScopeValue;
use crate::config::{Instance, InstanceKey, Module, RepeatedResource, Repetition, ResourceDecl};
use crate::diag::{Diagnostic, Diagnostics};

/// What to do with a `count`/`for_each` whose value is not known yet (a variable not given to
/// `validate`): fail as `plan` does, or go on without instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownRepetition {
    /// The argument must be known: error.
    Fail,
    /// Leave the resource without instances; its body is still checked as written.
    Allow,
}

/// Replaces every `count`/`for_each` resource of `module.resources` by its instances and
/// records it as written in `module.repeated`. `dependencies` are the resources each
/// resource needs, as written (the graph's), which decide the order of evaluation.
pub fn expand_instances(
    module: &mut Module,
    dependencies: &crate::config::Dependencies,
    variables: &BTreeMap<String, ScopeValue>,
    env_name: &str,
    unknown: UnknownRepetition,
) -> Result<(), Diagnostics> {
    let written: Vec<String> = module
        .resources
        .iter()
        .filter(|(_, r)| r.repetition.is_some())
        .map(|(a, _)| a.clone())
        .collect();
    if written.is_empty() {
        return Ok(());
    }
    for address in &written {
        if let Some(decl) = module.resources.remove(address) {
            module
                .repeated
                .insert(address.clone(), RepeatedResource { decl, keys: None });
        }
    }
    let mut diags = Diagnostics::new();
    for address in dependency_order(&written, dependencies) {
        let keys = {
            let scope = EvalScope::new(module, variables, env_name);
            instance_keys(&scope, &module.repeated[&address].decl)
        };
        let repeated = module
            .repeated
            .get_mut(&address)
            .expect("moved to repeated above");
        match keys {
            Ok(Some(instances)) => {
                repeated.keys = Some(instances.iter().map(|(k, _)| k.clone()).collect());
                let decl = repeated.decl.clone();
                for (key, each_value) in instances {
                    let instance = instance_of(&decl, key, each_value);
                    module.resources.insert(instance.address.clone(), instance);
                }
            }
            Ok(None) if unknown == UnknownRepetition::Allow => {}
            Ok(None) => diags.push(unknown_argument(&repeated.decl)),
            Err(d) => diags.push(d),
        }
    }
    diags.into_result(())
}

/// `written` ordered so that a resource comes after every repeated resource it depends on.
fn dependency_order(written: &[String], dependencies: &crate::config::Dependencies) -> Vec<String> {
    let set: BTreeSet<&str> = written.iter().map(String::as_str).collect();
    // A dependency names a resource in a repeated module once for all its instances
    // (`module.a.aws_x.y`): it stands for each of them.
    let mut by_config: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for address in dependencies.keys() {
        let config = crate::config::config_resource_address(address);
        if config != address.as_str() {
            by_config
                .entry(config.into_owned())
                .or_default()
                .push(address.as_str());
        }
    }
    let mut out = Vec::new();
    let mut done = BTreeSet::new();
    struct Walk<'a> {
        set: BTreeSet<&'a str>,
        dependencies: &'a crate::config::Dependencies,
        by_config: BTreeMap<String, Vec<&'a str>>,
    }
    fn visit<'a>(
        address: &'a str,
        walk: &Walk<'a>,
        done: &mut BTreeSet<&'a str>,
        out: &mut Vec<String>,
    ) {
        if !done.insert(address) {
            return;
        }
        for dep in walk
            .dependencies
            .get(address)
            .into_iter()
            .flat_map(|d| d.iter())
        {
            // Through resources without repetition too: their values are unknown here, but
            // a chain like for_each → plain resource → for_each must keep its order.
            match walk.by_config.get(dep.as_str()) {
                Some(instances) => {
                    for instance in instances {
                        visit(instance, walk, done, out);
                    }
                }
                None => visit(dep, walk, done, out),
            }
        }
        if walk.set.contains(address) {
            out.push(address.to_string());
        }
    }
    let walk = Walk {
        set,
        dependencies,
        by_config,
    };
    for address in written {
        visit(address, &walk, &mut done, &mut out);
    }
    out
}

/// The instance of `decl` at `key`.
fn instance_of(decl: &ResourceDecl, key: InstanceKey, each_value: Option<Value>) -> ResourceDecl {
    let mut instance = decl.clone();
    instance.address = format!("{}{key}", decl.address);
    instance.instance = Some(Instance {
        config_address: decl.address.clone(),
        key,
        each_value,
    });
    instance
}

/// The keys (and `each.value`s) of the instances of `decl`, or `None` when the argument is not
/// known yet.
#[allow(clippy::type_complexity)]
fn instance_keys(
    scope: &EvalScope<'_>,
    decl: &ResourceDecl,
) -> Result<Option<Vec<(InstanceKey, Option<Value>)>>, Diagnostic> {
    let Some(repetition) = &decl.repetition else {
        return Ok(Some(Vec::new()));
    };
    repetition_keys(
        scope,
        &decl.module,
        repetition,
        decl.file(),
        &decl.base_dir,
        &decl.address,
    )
}

/// The keys (and `each.value`s) `count` or `for_each` of a resource or module call at
/// `address` gives, evaluated in the module instance `module`; `None` when not known yet.
#[allow(clippy::type_complexity)]
pub(crate) fn repetition_keys(
    scope: &EvalScope<'_>,
    module: &str,
    repetition: &Repetition,
    file: &std::sync::Arc<crate::diag::SourceText>,
    base_dir: &std::path::Path,
    address: &str,
) -> Result<Option<Vec<(InstanceKey, Option<Value>)>>, Diagnostic> {
    let attr = repetition.attribute();
    let value = scope.evaluate_in(module, &attr.expr, file, base_dir)?;
    let fail = |summary: &str, detail: String| {
        Diagnostic::error(summary, detail)
            .at(attr.value_location.clone())
            .for_address(address)
    };
    match repetition {
        Repetition::Count(_) => {
            const SUMMARY: &str = "Invalid count argument";
            let n = match &value.value {
                Value::Unknown => return Ok(None),
                Value::Null => {
                    return Err(fail(
                        SUMMARY,
                        "The given \"count\" argument value is null. An integer is required."
                            .into(),
                    ));
                }
                Value::Number(_) => value.value.as_f64().unwrap_or(f64::NAN),
                Value::String(s) => s.trim().parse::<f64>().map_err(|_| {
                    fail(
                        SUMMARY,
                        format!(
                            "The given \"count\" argument value is unsuitable: a number is required, and the string {s:?} is not one."
                        ),
                    )
                })?,
                other => {
                    return Err(fail(
                        SUMMARY,
                        format!(
                            "The given \"count\" argument value is unsuitable: a number is required, not a {}.",
                            other.kind()
                        ),
                    ));
                }
            };
            if n.fract() != 0.0 || !n.is_finite() {
                return Err(fail(
                    SUMMARY,
                    "The given \"count\" argument value is unsuitable: value must be a whole number.".into(),
                ));
            }
            if n < 0.0 {
                return Err(fail(
                    SUMMARY,
                    "The given \"count\" argument value is unsuitable: must be greater than or equal to zero.".into(),
                ));
            }
            Ok(Some(
                (0..n as usize)
                    .map(|i| (InstanceKey::Index(i), None))
                    .collect(),
            ))
        }
        Repetition::ForEach(_) => {
            const SUMMARY: &str = "Invalid for_each argument";
            if value.sensitive {
                return Err(fail(
                    SUMMARY,
                    "Sensitive values, or values derived from sensitive values, cannot be used as for_each arguments. If used, the sensitive value could be exposed as a resource instance key.".into(),
                ));
            }
            match value.value {
                Value::Unknown => Ok(None),
                Value::Null => Err(fail(
                    SUMMARY,
                    "The given \"for_each\" argument value is null. A map, or set of strings is allowed.".into(),
                )),
                // Keys are known even where values are not (each.value is then unknown).
                Value::Map(map) => Ok(Some(
                    map.into_iter()
                        .map(|(k, v)| (InstanceKey::Key(k), Some(v)))
                        .collect(),
                )),
                Value::List(items) => {
                    if is_tuple_syntax(&attr.expr) {
                        return Err(fail(
                            SUMMARY,
                            "The given \"for_each\" argument value is unsuitable: the \"for_each\" argument must be a map, or set of strings, and you have provided a value of type tuple. Convert it with toset(...) or build a map.".into(),
                        ));
                    }
                    let mut keys = BTreeSet::new();
                    for item in items {
                        match item {
                            Value::String(s) => {
                                keys.insert(s);
                            }
                            Value::Unknown => return Ok(None),
                            Value::Null => {
                                return Err(fail(
                                    SUMMARY,
                                    "The given \"for_each\" argument value is unsuitable: \"for_each\" sets must not contain null values.".into(),
                                ));
                            }
                            other => {
                                return Err(fail(
                                    SUMMARY,
                                    format!(
                                        "The given \"for_each\" argument value is unsuitable: \"for_each\" supports maps and sets of strings, but you have provided a set containing type {}.",
                                        other.kind()
                                    ),
                                ));
                            }
                        }
                    }
                    Ok(Some(
                        keys.into_iter()
                            .map(|k| {
                                let value = Value::from(k.as_str());
                                (InstanceKey::Key(k), Some(value))
                            })
                            .collect(),
                    ))
                }
                other => Err(fail(
                    SUMMARY,
                    format!(
                        "The given \"for_each\" argument value is unsuitable: the \"for_each\" argument must be a map, or set of strings, and you have provided a value of type {}.",
                        other.kind()
                    ),
                )),
            }
        }
    }
}

/// A list written as a tuple (`["a", "b"]`, `[for ...]`): Terraform refuses it as a
/// `for_each`, which takes a set (`toset([...])`) or a map.
fn is_tuple_syntax(expr: &Expression) -> bool {
    match expr {
        Expression::Array(_) => true,
        Expression::ForExpr(f) => f.key_expr.is_none(),
        Expression::Parenthesis(p) => is_tuple_syntax(p.inner()),
        _ => false,
    }
}

fn unknown_argument(decl: &ResourceDecl) -> Diagnostic {
    unknown_repetition(decl.repetition.as_ref(), &decl.address)
}

/// The error for a `count`/`for_each` (of a resource or module call at `address`) whose
/// value is only known after apply.
pub(crate) fn unknown_repetition(repetition: Option<&Repetition>, address: &str) -> Diagnostic {
    let (summary, name, what) = match repetition {
        Some(Repetition::Count(_)) => ("Invalid count argument", "count", "how many instances"),
        _ => (
            "Invalid for_each argument",
            "for_each",
            "the full set of keys",
        ),
    };
    let location = repetition.map(|r| r.attribute().value_location.clone());
    Diagnostic::error(
        summary,
        format!(
            "The \"{name}\" value depends on values that cannot be determined until apply, so braid cannot predict {what} will be created. Use values known from variables and locals, or first apply only the resources it depends on with --target."
        ),
    )
    .at_opt(location)
    .for_address(address)
}
