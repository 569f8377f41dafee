//! `braid graph`: the dependency graph in Graphviz DOT.

use super::{CommandResult, EXIT_OK, GlobalArgs, out};
use crate::workspace::Workspace;

pub fn run(global: &GlobalArgs) -> CommandResult {
    let ws = Workspace::load(&global.load_options()?.allowing_missing_variables())?;
    out(&ws.graph.to_dot());
    Ok(EXIT_OK)
}
