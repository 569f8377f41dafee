//! Input variable values: defaults, the environment block, `BRAID_VAR_name`, `--var`.
//!
//! Precedence follows Terraform, lowest first: the declared default, `BRAID_VAR_name`
//! environment variables, the environment block of braid.hcl (like a .tfvars file), and
//! `--var name=value` on the command line.

use std::collections::BTreeMap;

use std::sync::Arc;

use braid_provider::Value;

use super::eval::{Evaluator, NameKind, ResourceValue, Scope, ScopeValue};
use super::module::VariableDecl;
use crate::diag::{Diagnostic, Diagnostics, SourceText, closest};

/// Raw variable values from outside the resource files.
#[derive(Debug, Clone, Default)]
pub struct VariableInputs {
    /// From the environment block.
    pub environment: BTreeMap<String, Value>,
    /// `BRAID_VAR_name` values (strings).
    pub process_env: BTreeMap<String, String>,
    /// `--var name=value` (strings, later wins).
    pub command_line: Vec<(String, String)>,
    /// Treat a variable without any value as unknown rather than an error.
    pub allow_missing: bool,
    /// Values that win over every other source: those recorded in a saved plan, so applying
    /// it uses exactly the values that were reviewed.
    pub fixed: BTreeMap<String, Value>,
}

impl VariableInputs {
    /// Reads `BRAID_VAR_*` from the process environment.
    pub fn with_process_env(mut self) -> Self {
        for (key, value) in std::env::vars() {
            if let Some(name) = key.strip_prefix("BRAID_VAR_") {
                self.process_env.insert(name.to_string(), value);
            }
        }
        self
    }
}

/// A scope with nothing in it, for parsing `--var` values as HCL.
struct EmptyScope;

impl Scope for EmptyScope {
    fn variable(&self, _: &str) -> Option<ScopeValue> {
        None
    }
    fn local(&self, _: &str) -> Option<Result<ScopeValue, Diagnostic>> {
        None
    }
    fn resource(&self, _: &str) -> Option<Arc<ResourceValue>> {
        None
    }
    fn env_name(&self) -> &str {
        ""
    }
    fn declared(&self, _: NameKind) -> Vec<String> {
        Vec::new()
    }
}

/// Resolves every declared variable to a value of its type; returns warnings beside them.
pub fn resolve_variables(
    declared: &BTreeMap<String, VariableDecl>,
    inputs: &VariableInputs,
) -> Result<(BTreeMap<String, ScopeValue>, Diagnostics), Diagnostics> {
    let mut diags = Diagnostics::new();
    let names = || declared.keys().map(String::as_str);
    for (name, _) in &inputs.command_line {
        if !declared.contains_key(name) {
            diags.push(Diagnostic::error(
                "Value for undeclared variable",
                format!(
                    "--var sets \"{name}\", but no variable \"{name}\" is declared.{}",
                    suggestion(name, names())
                ),
            ));
        }
    }
    for name in inputs.environment.keys() {
        if !declared.contains_key(name) {
            diags.push(Diagnostic::warning(
                "Value for undeclared variable",
                format!(
                    "The environment block sets \"{name}\", but no variable \"{name}\" is declared in the resource files; the value is ignored.{}",
                    suggestion(name, names())
                ),
            ));
        }
    }
    let mut out = BTreeMap::new();
    for (name, decl) in declared {
        let raw: Option<(Value, &str)> =
            if let Some((_, text)) = inputs.command_line.iter().rev().find(|(n, _)| n == name) {
                match parse_text(decl, text, "--var") {
                    Ok(v) => Some((v, "--var")),
                    Err(d) => {
                        diags.push(d);
                        continue;
                    }
                }
            } else if let Some(v) = inputs.environment.get(name) {
                Some((v.clone(), "the environment block"))
            } else if let Some(text) = inputs.process_env.get(name) {
                match parse_text(decl, text, "BRAID_VAR_") {
                    Ok(v) => Some((v, "BRAID_VAR_")),
                    Err(d) => {
                        diags.push(d);
                        continue;
                    }
                }
            } else {
                decl.default.clone().map(|v| (v, "the default"))
            };
        let Some((value, origin)) = raw else {
            if inputs.allow_missing {
                out.insert(
                    name.clone(),
                    ScopeValue {
                        value: Value::Unknown,
                        sensitive: decl.sensitive,
                    },
                );
                continue;
            }
            diags.push(
                Diagnostic::error(
                    "No value for required variable",
                    format!(
                        "The variable \"{name}\" has no default and no value was given. Set it in the environment block of braid.hcl, with --var {name}=VALUE, or with the environment variable BRAID_VAR_{name}."
                    ),
                )
                .at(decl.location.clone()),
            );
            continue;
        };
        match decl.type_constraint.convert(&value) {
            Ok(value) => {
                out.insert(
                    name.clone(),
                    ScopeValue {
                        value,
                        sensitive: decl.sensitive,
                    },
                );
            }
            Err(why) => {
                // The reason quotes the value; a sensitive one must never be shown.
                let why = if decl.sensitive {
                    format!(
                        "{} is required (the value is not shown because the variable is sensitive)",
                        decl.type_constraint.describe()
                    )
                } else {
                    why
                };
                diags.push(
                    Diagnostic::error(
                        "Invalid value for variable",
                        format!(
                            "The value of \"{name}\" from {origin} does not fit its type: {why}."
                        ),
                    )
                    .at(decl.location.clone()),
                );
            }
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok((out, diags))
}

fn suggestion<'a>(name: &str, names: impl Iterator<Item = &'a str>) -> String {
    closest(name, names)
        .map(|c| format!(" Did you mean \"{c}\"?"))
        .unwrap_or_default()
}

/// A string from the command line or environment: taken as is for string variables, parsed
/// as an HCL expression for other types (as Terraform does).
fn parse_text(decl: &VariableDecl, text: &str, origin: &str) -> Result<Value, Diagnostic> {
    // Primitive values are taken as text and converted by the type ("3" → 3), so a bad one
    // says "a number is required" rather than failing as an expression.
    if decl.type_constraint.is_primitive() {
        return Ok(Value::String(text.to_string()));
    }
    let invalid = |detail: String| {
        Diagnostic::error(
            "Invalid value for variable",
            format!(
                "The value given for \"{}\" with {origin} is not valid: {detail}",
                decl.name
            ),
        )
        .at(decl.location.clone())
    };
    let expr =
        hcl_edit::parser::parse_expr(text).map_err(|e| invalid(format!("{}.", e.message())))?;
    let file = SourceText::new(format!("{origin}{}", decl.name), text);
    let scope = EmptyScope;
    let base = std::path::Path::new(".");
    Evaluator::new(&scope, &file, base)
        .evaluate(&expr)
        .map(|v| v.value)
        .map_err(|d| invalid(d.detail))
}
