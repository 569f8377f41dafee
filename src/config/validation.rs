//! The `validation` blocks of variables, checked once every variable has its value: a
//! condition that is false is an error at the condition, with the block's `error_message`,
//! as in Terraform. Conditions may read any variable (`var.NAME`, Terraform 1.9 and later);
//! locals and resources are not known yet when variables are resolved.

use std::collections::BTreeMap;
use std::path::Path;

use braid_provider::Value;

use super::eval::{Evaluator, Scope, ScopeValue, VariablesOnly};
use super::module::{Validation, VariableDecl};
use crate::diag::{Diagnostic, Diagnostics};

/// Checks the validation rules of every variable against the resolved `values`. A condition
/// that is unknown (a value missing where missing values are allowed) is not checked.
pub(super) fn check_validations(
    declared: &BTreeMap<String, VariableDecl>,
    values: &BTreeMap<String, ScopeValue>,
) -> Diagnostics {
    let scope = VariablesOnly::with_variables(values);
    let mut diags = Diagnostics::new();
    for (name, decl) in declared {
        for rule in &decl.validations {
            if let Err(d) = check_rule(&scope, "", name, rule) {
                diags.push(d);
                // Later rules of the same variable would mostly repeat the problem.
                break;
            }
        }
    }
    diags
}

/// Checks one validation rule of the variable `name` of the module instance `module` (a
/// prefix; empty for the root module) against `scope`.
pub fn check_rule(
    scope: &dyn Scope,
    module: &str,
    name: &str,
    rule: &Validation,
) -> Result<(), Diagnostic> {
    // File functions in a condition read relative to the working directory: a variable's
    // rules are checked before any source is chosen for it.
    let mut evaluator = Evaluator::new(scope, &rule.file, Path::new(".")).in_module(module);
    let condition = evaluator.evaluate(&rule.condition)?;
    match condition.value {
        Value::Bool(true) | Value::Unknown => Ok(()),
        Value::Bool(false) => {
            let message = match evaluator.evaluate(&rule.error_message)? {
                ScopeValue {
                    sensitive: true, ..
                } => format!("The value of \"{name}\" does not meet its validation rule. (The rule's error message is not shown because it uses a sensitive value.)"),
                ScopeValue {
                    value: Value::String(message),
                    ..
                } => message,
                ScopeValue { value, .. } => {
                    return Err(Diagnostic::error(
                        "Invalid validation error message",
                        format!(
                            "The error_message of a validation rule of \"{name}\" must be a string, but it is {}.",
                            value.kind()
                        ),
                    )
                    .at(rule.condition_location.clone()));
                }
            };
            Err(Diagnostic::error(
                "Invalid value for variable",
                format!("{message}\n\nThis was checked by the validation rule of \"{name}\" at this condition."),
            )
            .at(rule.condition_location.clone()))
        }
        other => Err(Diagnostic::error(
            "Invalid validation condition",
            format!(
                "The condition of a validation rule of \"{name}\" must be true or false, but it is {}.",
                other.kind()
            ),
        )
        .at(rule.condition_location.clone())),
    }
}
