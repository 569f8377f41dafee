//! `braid graph`: the dependency graph in Graphviz DOT.

use super::{CommandResult, Context, EXIT_OK};
use crate::workspace::Workspace;

pub fn run(cx: &Context) -> CommandResult {
    let ws = Workspace::load(&cx.global.load_options()?.allowing_missing_variables())?;
    cx.shell.out(&ws.graph.to_dot());
    Ok(EXIT_OK)
}
