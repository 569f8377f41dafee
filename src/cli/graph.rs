//! `braid graph`: the dependency graph in Graphviz DOT, or as JSON.

use serde_json::json;

use super::{CommandResult, Context, EXIT_OK};
use crate::graph::Node;
use crate::view::Format;
use crate::workspace::Workspace;

pub fn run(cx: &Context) -> CommandResult {
    let ws = Workspace::load(&cx.global.load_options()?.allowing_missing_variables())?;
    if cx.shell.format() != Format::Json {
        cx.shell.out(&ws.graph.to_dot());
        return Ok(EXIT_OK);
    }
    let (nodes, edges) = ws.graph.nodes_and_edges();
    let kind = |n: &Node| match n {
        Node::Resource(_) => "resource",
        Node::Local(_) => "local",
        Node::Output(_) => "output",
        Node::ModuleInput(_) => "module_input",
        Node::ModuleOutput(_) => "module_output",
    };
    cx.shell.json(&json!({
        "env": ws.env_name,
        "nodes": nodes.iter().map(|n| json!({ "id": n.label(), "kind": kind(n) })).collect::<Vec<_>>(),
        "edges": edges
            .iter()
            .map(|(from, to, at)| json!({ "from": from.label(), "to": to.label(), "at": at.short() }))
            .collect::<Vec<_>>(),
    }));
    Ok(EXIT_OK)
}
