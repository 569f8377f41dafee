//! `braid console`: expressions evaluated against an environment as its state holds it —
//! the configuration's variables and locals, and every resource's recorded attributes.

use braid_state::ResourceRecord;

use crate::config::eval::ScopeValue;
use crate::diag::{Diagnostic, SourceText};
use crate::plan::EvalScope;
use crate::workspace::Workspace;

/// The name console input has in diagnostics, as in Terraform.
pub const CONSOLE_INPUT: &str = "<console-input>";

/// A scope over a workspace and the resources of its state, ready to evaluate expressions.
pub struct Console<'a> {
    ws: &'a Workspace,
    scope: EvalScope<'a>,
}

impl<'a> Console<'a> {
    /// A console over `ws`, with the values of `records` (the environment's state) as the
    /// values of the resources they record.
    pub fn new(ws: &'a Workspace, records: Vec<ResourceRecord>) -> Console<'a> {
        let scope = EvalScope::new(&ws.module, &ws.variables, &ws.env_name);
        for record in records {
            scope.set_resource(&record.address, record.attributes, record.sensitive_paths);
        }
        Console { ws, scope }
    }

    /// Parses `line` as one expression and evaluates it. Syntax and evaluation errors are
    /// diagnostics pointing into the line.
    pub fn evaluate(&self, line: &str) -> Result<ScopeValue, Diagnostic> {
        let file = SourceText::new(CONSOLE_INPUT, line);
        let expr = hcl_edit::parser::parse_expr(line).map_err(|e| {
            let location = e.location();
            Diagnostic::error(
                "Invalid expression",
                format!(
                    "{}. The console takes one expression per line, as on the right of an `=` in a resource file.",
                    e.message()
                ),
            )
            .at(file.location_at(location.line(), location.column()))
        })?;
        self.scope
            .evaluate_expression(&expr, &file, &self.ws.project.dir)
    }
}
