//! Input variable values: defaults, `TF_VAR_name` and `BRAID_VAR_name`, variable definition
//! files (`terraform.tfvars`, `*.auto.tfvars`, `--var-file`), the environment block, `--var`.
//!
//! Precedence follows Terraform, lowest first: the declared default, `TF_VAR_name`, then
//! `BRAID_VAR_name` environment variables, `terraform.tfvars` and `*.auto.tfvars` of the
//! sources (in name order), the environment block of braid.hcl (like a .tfvars file for that
//! environment), `--var-file` files in the order given, and `--var name=value` on the
//! command line.

use std::collections::BTreeMap;

use std::sync::Arc;

use braid_provider::Value;
use hcl_edit::structure::Structure;

use super::eval::{Evaluator, ScopeValue, VariablesOnly};
use super::module::VariableDecl;
use super::validation::check_validations;
use crate::diag::{Diagnostic, Diagnostics, SourceText, closest};

/// Raw variable values from outside the resource files.
#[derive(Debug, Clone, Default)]
pub struct VariableInputs {
    /// From the environment block.
    pub environment: BTreeMap<String, Value>,
    /// `BRAID_VAR_name` values (strings).
    pub process_env: BTreeMap<String, String>,
    /// `TF_VAR_name` values (strings), below `BRAID_VAR_name`.
    pub tf_env: BTreeMap<String, String>,
    /// `terraform.tfvars` and `*.auto.tfvars` of the sources, lowest precedence first; all
    /// below the environment block.
    pub auto_files: Vec<VarFile>,
    /// `--var-file` files in the order given, above the environment block.
    pub var_files: Vec<VarFile>,
    /// `--var name=value` (strings, later wins).
    pub command_line: Vec<(String, String)>,
    /// Treat a variable without any value as unknown rather than an error.
    pub allow_missing: bool,
    /// Values recorded in a saved plan, so applying it uses exactly the values that were
    /// reviewed: they win over every source but `--var` (which must then agree with them).
    pub fixed: BTreeMap<String, Value>,
}

/// The values of one variable definition file (`NAME = VALUE` lines).
#[derive(Debug, Clone)]
pub struct VarFile {
    /// The file's name as diagnostics show it.
    pub name: String,
    /// Its values by variable name.
    pub values: BTreeMap<String, Value>,
}

impl VariableInputs {
    /// Reads `BRAID_VAR_*` and `TF_VAR_*` from the process environment.
    pub fn with_process_env(mut self) -> Self {
        for (key, value) in std::env::vars() {
            if let Some(name) = key.strip_prefix("BRAID_VAR_") {
                self.process_env.insert(name.to_string(), value);
            } else if let Some(name) = key.strip_prefix("TF_VAR_") {
                self.tf_env.insert(name.to_string(), value);
            }
        }
        self
    }
}

/// Reads a variable definition file: `NAME = VALUE` attributes whose values are constants
/// (no references, as in Terraform), nothing else.
pub fn parse_var_file(file: &Arc<SourceText>) -> Result<VarFile, Diagnostics> {
    let body = hcl_edit::parser::parse_body(&file.text).map_err(|e| {
        let at = file.location_at(e.location().line(), e.location().column());
        Diagnostics::from(
            Diagnostic::error(
                "Invalid variable definition file",
                format!("{}. A .tfvars file holds NAME = VALUE lines.", e.message()),
            )
            .at(at),
        )
    })?;
    let mut diags = Diagnostics::new();
    let mut values = BTreeMap::new();
    let scope = VariablesOnly::empty();
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attr) => {
                let name = attr.key.value().to_string();
                let evaluated = Evaluator::new(&scope, file, std::path::Path::new("."))
                    .evaluate(&attr.value);
                match evaluated {
                    Ok(v) => {
                        values.insert(name, v.value);
                    }
                    Err(d) => diags.push(d),
                }
            }
            Structure::Block(block) => diags.push(
                Diagnostic::error(
                    "Unexpected block in variable definition file",
                    format!(
                        "A .tfvars file holds only NAME = VALUE lines, but it has a \"{}\" block. Set each variable as an attribute.",
                        block.ident.value()
                    ),
                )
                .at(file.location(hcl_edit::Span::span(&block.ident).unwrap_or(0..0))),
            ),
        }
    }
    diags.into_result(VarFile {
        name: file.name.clone(),
        values,
    })
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
    for file in inputs.auto_files.iter().chain(&inputs.var_files) {
        for name in file.values.keys() {
            if !declared.contains_key(name) {
                diags.push(Diagnostic::warning(
                    "Value for undeclared variable",
                    format!(
                        "{} sets \"{name}\", but no variable \"{name}\" is declared in the resource files; the value is ignored.{}",
                        file.name,
                        suggestion(name, names())
                    ),
                ));
            }
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
        // A saved plan's value wins over everything but an explicit --var, which the
        // freshness check then compares with the plan's.
        let raw: Option<(Value, &str)> =
            if let Some((_, text)) = inputs.command_line.iter().rev().find(|(n, _)| n == name) {
                match parse_text(decl, text, "--var") {
                    Ok(v) => Some((v, "--var")),
                    Err(d) => {
                        diags.push(d);
                        continue;
                    }
                }
            } else if let Some(v) = inputs.fixed.get(name) {
                Some((v.clone(), "the saved plan"))
            } else if let Some((v, file)) = in_files(&inputs.var_files, name) {
                Some((v.clone(), file))
            } else if let Some(v) = inputs.environment.get(name) {
                Some((v.clone(), "the environment block"))
            } else if let Some((v, file)) = in_files(&inputs.auto_files, name) {
                Some((v.clone(), file))
            } else if let Some((text, origin)) = inputs
                .process_env
                .get(name)
                .map(|t| (t, "BRAID_VAR_"))
                .or_else(|| inputs.tf_env.get(name).map(|t| (t, "TF_VAR_")))
            {
                match parse_text(decl, text, origin) {
                    Ok(v) => Some((v, origin)),
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
                        "The variable \"{name}\" has no default and no value was given. Set it in the environment block of braid.hcl, in terraform.tfvars, with --var {name}=VALUE, or with the environment variable BRAID_VAR_{name} (or TF_VAR_{name})."
                    ),
                )
                .at(decl.location.clone()),
            );
            continue;
        };
        let value = match (value, &decl.default) {
            // `nullable = false`: a null value means the default, as in Terraform.
            (Value::Null, Some(default)) if !decl.nullable && !default.is_null() => default.clone(),
            (Value::Null, _) if !decl.nullable => {
                diags.push(
                    Diagnostic::error(
                        "Invalid value for variable",
                        format!(
                            "The value of \"{name}\" from {origin} is null, but the variable is declared nullable = false and has no default. Give it a value that is not null."
                        ),
                    )
                    .at(decl.location.clone()),
                );
                continue;
            }
            (value, _) => value,
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
    diags.extend(check_validations(declared, &out));
    if diags.has_errors() {
        return Err(diags);
    }
    Ok((out, diags))
}

/// The value of `name` in the last of `files` that sets it, with that file's name.
fn in_files<'a>(files: &'a [VarFile], name: &str) -> Option<(&'a Value, &'a str)> {
    files
        .iter()
        .rev()
        .find_map(|f| f.values.get(name).map(|v| (v, f.name.as_str())))
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
    let scope = VariablesOnly::empty();
    let base = std::path::Path::new(".");
    Evaluator::new(&scope, &file, base)
        .evaluate(&expr)
        .map(|v| v.value)
        .map_err(|d| invalid(d.detail))
}
