//! `braid validate`: check the configuration without state or live objects.

use super::{CommandResult, Context, EXIT_OK};
use crate::diag::Diagnostics;
use crate::plan::EvalScope;
use crate::view::Format;
use crate::workspace::Workspace;

/// Validates for the environment given, or for every declared one.
pub async fn run(cx: &Context) -> CommandResult {
    let options = cx.global.load_options()?.allowing_missing_variables();
    let environments: Vec<Option<String>> = match &options.env {
        Some(env) => vec![Some(env.clone())],
        None => {
            let project = crate::config::load_project(&options.dir)?;
            if project.environments.is_empty() {
                vec![None]
            } else {
                project
                    .environments
                    .iter()
                    .map(|e| Some(e.name.clone()))
                    .collect()
            }
        }
    };
    let mut checked = Vec::new();
    let mut totals = (0, 0, 0);
    for env in environments {
        let ws = Workspace::load(&crate::workspace::LoadOptions {
            env,
            ..options.clone()
        })?;
        cx.shell.diagnostics(&ws.warnings);
        check(cx, &ws).await?;
        checked.push(ws.env_name.clone());
        totals = (
            ws.module.written_resources().count(),
            ws.module.variables.len(),
            ws.module.outputs.len(),
        );
    }
    match cx.shell.format() {
        Format::Json => cx.shell.json(&serde_json::json!({
            "valid": true,
            "environments": checked,
            "resources": totals.0,
            "variables": totals.1,
            "outputs": totals.2,
        })),
        _ => cx.shell.out(&format!(
            "Success! The configuration is valid for environment(s) {}: {} resource(s), {} variable(s), {} output(s).\n",
            checked.join(", "),
            totals.0,
            totals.1,
            totals.2
        )),
    }
    Ok(EXIT_OK)
}

async fn check(cx: &Context, ws: &Workspace) -> Result<(), Diagnostics> {
    let providers = ws
        .providers_with_plugins(&cx.registry, std::iter::empty())
        .await?;
    // Evaluate every expression with resources unknown: catches unknown functions, bad
    // arguments and type errors without planning.
    let scope = EvalScope::new(&ws.module, &ws.variables, &ws.env_name);
    let mut diags = Diagnostics::new();
    for decl in ws.module.written_resources() {
        let schema = providers.type_schema(decl);
        if let Err(d) = scope.evaluate_resource(decl, schema) {
            diags.extend(d);
        }
    }
    for decl in ws.module.outputs.values() {
        if let Err(d) = scope.evaluate_expression(&decl.expr, &decl.file, &decl.base_dir) {
            diags.push(d);
        }
    }
    diags.into_result(())
}
