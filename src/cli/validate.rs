//! `braid validate`: check the configuration without state or live objects.

use super::{CommandResult, EXIT_OK, GlobalArgs, out, print_diagnostics};
use crate::diag::Diagnostics;
use crate::plan::EvalScope;
use crate::view::Format;
use crate::workspace::Workspace;

pub fn run(global: &GlobalArgs) -> CommandResult {
    let ws = Workspace::load(&global.load_options()?.allowing_missing_variables())?;
    print_diagnostics(global, &ws.warnings);
    let providers = ws.providers(std::iter::empty())?;
    // Evaluate every expression with resources unknown: catches unknown functions, bad
    // arguments and type errors without planning.
    let scope = EvalScope::new(&ws.module, &ws.variables, &ws.env_name);
    let mut diags = Diagnostics::new();
    for decl in ws.module.resources.values() {
        let schema = providers
            .schema(&decl.provider)
            .and_then(|s| s.resources.get(&decl.type_name));
        if let Err(d) = scope.evaluate_resource(decl, schema) {
            diags.extend(d);
        }
    }
    for decl in ws.module.outputs.values() {
        if let Err(d) = scope.evaluate_expression(&decl.expr, &decl.file, &decl.base_dir) {
            diags.push(d);
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    match global.format {
        Format::Json => out("{\"valid\": true, \"diagnostics\": []}\n"),
        _ => out(&format!(
            "Success! The configuration is valid: {} resource(s), {} variable(s), {} output(s).\n",
            ws.module.resources.len(),
            ws.module.variables.len(),
            ws.module.outputs.len()
        )),
    }
    Ok(EXIT_OK)
}
