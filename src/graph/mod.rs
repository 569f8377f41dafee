//! The dependency graph of a configuration, on petgraph.
//!
//! Nodes are resources, local values and outputs; an edge A → B means "B needs A". Edges
//! come from references in expressions and from `depends_on`. Local values and outputs are
//! only waypoints: [`ConfigGraph::resource_dependencies`] collapses them so the plan holds
//! resource-to-resource edges.

mod walk;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use petgraph::Direction;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::config::references::{Target, references, references_bound};
use crate::config::{Module, NestedBlock, ResourceDecl};
use crate::diag::{Diagnostic, Diagnostics, Location, closest};
use crate::manifests::{ObjectRef, implicit_edges, parse_address};

pub use walk::{Dag, WalkOutcome, walk, walk_ordered, walk_with_slots};

pub use crate::config::Dependencies;

/// A node of the configuration graph: something declared that others can depend on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    /// `TYPE.NAME` or a Kubernetes address.
    Resource(String),
    /// A local value, by name.
    Local(String),
    /// An output of the root module, by name; nothing depends on outputs, they only depend.
    Output(String),
    /// A variable of a module instance, valued by the call's argument: `module.net.var.cidr`.
    ModuleInput(String),
    /// An output of a module instance, read by its caller: `module.net.output.vpc_id`.
    ModuleOutput(String),
}

impl Node {
    /// How the node is named in the DOT graph and in cycle messages: the address for resources,
    /// `local.NAME` and `output.NAME` for the others.
    pub fn label(&self) -> String {
        match self {
            Node::Resource(a) | Node::ModuleInput(a) | Node::ModuleOutput(a) => a.clone(),
            Node::Local(n) => match n.rsplit_once('.') {
                Some((module, name)) => format!("{module}.local.{name}"),
                None => format!("local.{n}"),
            },
            Node::Output(n) => format!("output.{n}"),
        }
    }
}

/// Why an edge exists: the place the reference or `depends_on` entry is written.
#[derive(Debug, Clone)]
pub struct Edge {
    /// Where the reference or `depends_on` entry is written; for the implicit order of Kubernetes
    /// objects (a Namespace before what lives in it), where the dependent object is declared.
    pub location: Location,
}

/// The dependency graph of a loaded configuration, built by [`ConfigGraph::build`], which also
/// reports unknown references (with a suggestion) and cycles (with the place of each edge).
pub struct ConfigGraph {
    graph: DiGraph<Node, Edge>,
    index: HashMap<Node, NodeIndex>,
    declared_at: HashMap<Node, Location>,
    /// The output nodes of `count`/`for_each` module calls as a whole: dependencies through
    /// them name resources as configured (`module.a.aws_x.y`), for all instances.
    call_outputs: std::collections::HashSet<NodeIndex>,
}

impl ConfigGraph {
    /// Builds the graph, checking that every reference points at something declared.
    pub fn build(module: &Module) -> Result<ConfigGraph, Diagnostics> {
        let mut g = ConfigGraph {
            graph: DiGraph::new(),
            index: HashMap::new(),
            declared_at: HashMap::new(),
            call_outputs: std::collections::HashSet::new(),
        };
        for (address, r) in &module.resources {
            g.add_node(Node::Resource(address.clone()), r.location.clone());
        }
        for (name, l) in &module.locals {
            g.add_node(Node::Local(name.clone()), l.location.clone());
        }
        for (name, o) in &module.outputs {
            g.add_node(Node::Output(name.clone()), o.location.clone());
        }
        for (address, instance) in &module.module_instances {
            for (name, v) in instance.variables.iter() {
                let at = instance
                    .call
                    .arguments
                    .attribute(name)
                    .map_or_else(|| v.location.clone(), |a| a.name_location.clone());
                g.add_node(Node::ModuleInput(format!("{address}.var.{name}")), at);
            }
            for (name, o) in instance.outputs.iter() {
                g.add_node(
                    Node::ModuleOutput(format!("{address}.output.{name}")),
                    o.location.clone(),
                );
            }
        }
        // A `count`/`for_each` call's outputs as one node each, after the instances': what
        // reads `module.NAME[KEY].OUTPUT` waits there, so n readers of m instances cost
        // n + m edges.
        for (address, expanded) in &module.module_calls {
            if expanded.call.repetition.is_none() {
                continue;
            }
            for instance in expanded.instances(address) {
                let Some(found) = module.module_instances.get(&instance) else {
                    continue;
                };
                for (name, o) in found.outputs.iter() {
                    let whole = Node::ModuleOutput(format!("{address}.output.{name}"));
                    if !g.index.contains_key(&whole) {
                        g.add_node(whole.clone(), o.location.clone());
                        g.call_outputs.insert(g.index[&whole]);
                    }
                    let part = Node::ModuleOutput(format!("{instance}.output.{name}"));
                    if let (Some(&a), Some(&b)) = (g.index.get(&part), g.index.get(&whole)) {
                        g.graph.add_edge(
                            a,
                            b,
                            Edge {
                                location: o.location.clone(),
                            },
                        );
                    }
                }
            }
        }
        let mut diags = Diagnostics::new();
        // Finding the references reads every expression: on all cores for a large
        // configuration; the edges are added in address order.
        let resources: Vec<(&String, &ResourceDecl)> = module.resources.iter().collect();
        let found = crate::parallel::map(&resources, resources.len() >= 10_000, |(_, r)| {
            resource_expressions(r)
                .into_iter()
                .flat_map(|(expr, bound)| references_bound(expr, r.file(), &bound))
                .collect::<Vec<_>>()
        });
        for ((address, r), references) in resources.into_iter().zip(found) {
            let node = Node::Resource(address.clone());
            let at = Site::new(module, &r.module);
            for reference in references {
                g.add_reference(&at, &node, reference.target, reference.location, &mut diags);
            }
            for (target, location) in &r.depends_on {
                g.add_depends_on(&at, &node, target, location, &mut diags);
            }
        }
        for (name, l) in &module.locals {
            let at = Site::new(module, &l.module);
            for reference in references(&l.expr, &l.file) {
                g.add_reference(
                    &at,
                    &Node::Local(name.clone()),
                    reference.target,
                    reference.location,
                    &mut diags,
                );
            }
        }
        let root = Site::new(module, "");
        for (name, o) in &module.outputs {
            for reference in references(&o.expr, &o.file) {
                g.add_reference(
                    &root,
                    &Node::Output(name.clone()),
                    reference.target,
                    reference.location,
                    &mut diags,
                );
            }
        }
        for (address, instance) in &module.module_instances {
            let caller = Site::new(module, &instance.parent);
            for attr in &instance.call.arguments.attributes {
                if !instance.variables.contains_key(&attr.name) {
                    continue;
                }
                let from = Node::ModuleInput(format!("{address}.var.{}", attr.name));
                for reference in references(&attr.expr, instance.call.file()) {
                    g.add_reference(
                        &caller,
                        &from,
                        reference.target,
                        reference.location,
                        &mut diags,
                    );
                }
            }
            let inside = instance.prefix();
            let own = Site::new(module, &inside);
            for (name, o) in instance.outputs.iter() {
                let from = Node::ModuleOutput(format!("{address}.output.{name}"));
                for reference in references(&o.expr, &o.file) {
                    g.add_reference(
                        &own,
                        &from,
                        reference.target,
                        reference.location,
                        &mut diags,
                    );
                }
            }
            // depends_on of a module call: everything in the module waits.
            if !instance.call.depends_on.is_empty() {
                let inner: Vec<&String> = module
                    .resources
                    .iter()
                    .filter(|(_, r)| r.module.starts_with(&inside))
                    .map(|(a, _)| a)
                    .collect();
                for (target, location) in &instance.call.depends_on {
                    for resource in &inner {
                        g.add_depends_on(
                            &caller,
                            &Node::Resource((*resource).clone()),
                            target,
                            location,
                            &mut diags,
                        );
                    }
                }
            }
        }
        // Checks are not nodes (nothing depends on them and they wait for everything), but
        // what they reference must exist.
        for check in module.checks.values() {
            let at = Site::new(module, &check.module);
            for assert in &check.asserts {
                for expr in [&assert.condition, &assert.error_message] {
                    for reference in references(expr, &check.file) {
                        let from = Node::Output(format!("{}check.{}", check.module, check.name));
                        g.add_reference(
                            &at,
                            &from,
                            reference.target,
                            reference.location,
                            &mut diags,
                        );
                    }
                }
            }
        }
        g.add_kubernetes_ordering(module);
        if let Some(cycle) = g.cycle_diagnostic() {
            diags.push(cycle);
        }
        // One report per undeclared name and place, though several instances of a module
        // repeat it.
        let mut seen = BTreeSet::new();
        diags.0.retain(|d| {
            seen.insert(format!(
                "{}|{}|{:?}",
                d.summary,
                d.detail,
                d.location.as_ref().map(|l| l.short())
            ))
        });
        diags.into_result(g)
    }

    fn add_node(&mut self, node: Node, location: Location) {
        let index = self.graph.add_node(node.clone());
        self.index.insert(node.clone(), index);
        self.declared_at.insert(node, location);
    }

    /// A `depends_on` entry: as a reference, except that a module (`module.net`) means
    /// every resource in it, not only what its outputs read, as in Terraform.
    fn add_depends_on(
        &mut self,
        site: &Site<'_>,
        from: &Node,
        target: &str,
        location: &Location,
        diags: &mut Diagnostics,
    ) {
        let parsed = depends_on_target(target);
        if let Target::Module { call, .. } = &parsed {
            let address = format!("{}module.{call}", site.prefix);
            if site.module.module_calls.contains_key(&address) {
                let Some(&b) = self.index.get(from) else {
                    return;
                };
                let inside: Vec<NodeIndex> = site
                    .module
                    .resources
                    .keys()
                    .filter(|a| crate::config::within_module(a, &address))
                    .filter_map(|a| self.index.get(&Node::Resource(a.clone())).copied())
                    .collect();
                for a in inside {
                    if !self.graph.edges_connecting(a, b).any(|_| true) {
                        self.graph.add_edge(
                            a,
                            b,
                            Edge {
                                location: location.clone(),
                            },
                        );
                    }
                }
                return;
            }
        }
        self.add_reference(site, from, parsed, location.clone(), diags);
    }

    fn add_reference(
        &mut self,
        site: &Site<'_>,
        from: &Node,
        target: Target,
        location: Location,
        diags: &mut Diagnostics,
    ) {
        let module = site.module;
        let prefix = site.prefix;
        let needed: Vec<Node> = match target {
            Target::Variable(name) => {
                if prefix.is_empty() {
                    if !module.variables.contains_key(&name) {
                        diags.push(undeclared(
                            "Reference to undeclared input variable",
                            "var.",
                            &name,
                            module.variables.keys(),
                            location,
                        ));
                    }
                    return;
                }
                let instance_address = prefix.trim_end_matches('.');
                let Some(instance) = module.module_instances.get(instance_address) else {
                    return;
                };
                if !instance.variables.contains_key(&name) {
                    diags.push(undeclared(
                        "Reference to undeclared input variable",
                        "var.",
                        &name,
                        instance.variables.keys(),
                        location,
                    ));
                    return;
                }
                vec![Node::ModuleInput(format!("{instance_address}.var.{name}"))]
            }
            Target::Local(name) => {
                let key = format!("{prefix}{name}");
                if !module.locals.contains_key(&key) {
                    let declared: Vec<String> = module
                        .locals
                        .values()
                        .filter(|l| l.module == prefix)
                        .map(|l| l.name.clone())
                        .collect();
                    diags.push(undeclared(
                        "Reference to undeclared local value",
                        "local.",
                        &name,
                        declared.iter(),
                        location,
                    ));
                    return;
                }
                vec![Node::Local(key)]
            }
            Target::Repetition(name) => {
                let repetition = match from {
                    Node::Resource(address) => module
                        .resources
                        .get(address)
                        .and_then(|r| r.repetition.as_ref()),
                    Node::ModuleInput(key) => key
                        .rsplit_once(".var.")
                        .and_then(|(instance, _)| module.module_instances.get(instance))
                        .and_then(|i| i.call.repetition.as_ref()),
                    _ => None,
                };
                let allowed = matches!(
                    (repetition, name.as_str()),
                    (Some(crate::config::Repetition::Count(_)), "count")
                        | (Some(crate::config::Repetition::ForEach(_)), "each")
                );
                if !allowed {
                    let (summary, detail) = if name == "count" {
                        (
                            "Reference to \"count\" in non-counted context",
                            "The \"count\" object can only be used in module, resource and data blocks, and only when the \"count\" argument is set.",
                        )
                    } else {
                        (
                            "Reference to \"each\" in context without for_each",
                            "The \"each\" object can only be used in module, resource and data blocks, and only when the \"for_each\" argument is set.",
                        )
                    };
                    diags.push(Diagnostic::error(summary, detail).at(location));
                }
                return;
            }
            Target::Resource(address) => {
                let full = format!("{prefix}{address}");
                if let Some(check) = module.resources.get(&full).and_then(|r| r.check.as_ref()) {
                    let own_check = Node::Output(format!("{prefix}check.{check}"));
                    if *from != own_check && *from != Node::Resource(full.clone()) {
                        diags.push(
                            Diagnostic::error(
                                "Reference to scoped resource",
                                format!(
                                    "The referenced data resource {address} is not available from this context: it is declared in check.{check}, and only that check's assertions may read it. Declare it outside the check block to use it elsewhere."
                                ),
                            )
                            .at(location),
                        );
                        return;
                    }
                }
                if !module.resources.contains_key(&full) {
                    let declared: Vec<String> = module
                        .resources
                        .values()
                        .filter(|r| r.module == prefix && r.instance.is_none())
                        .filter_map(|r| r.address.strip_prefix(prefix).map(str::to_string))
                        .collect();
                    diags.push(undeclared(
                        "Reference to undeclared resource",
                        "",
                        &address,
                        declared.iter(),
                        location,
                    ));
                    return;
                }
                vec![Node::Resource(full)]
            }
            Target::Module { call, output } => {
                let address = format!("{prefix}module.{call}");
                let Some(expanded) = module.module_calls.get(&address) else {
                    let declared: Vec<String> = module
                        .module_calls
                        .keys()
                        .filter_map(|a| {
                            let rest = a.strip_prefix(prefix)?.strip_prefix("module.")?;
                            (!rest.contains('.')).then(|| rest.to_string())
                        })
                        .collect();
                    diags.push(undeclared(
                        "Reference to undeclared module",
                        "module.",
                        &call,
                        declared.iter(),
                        location,
                    ));
                    return;
                };
                let mut needed = Vec::new();
                let repeated = expanded.call.repetition.is_some();
                // The instances of a repeated call share their outputs' nodes: one instance
                // tells which outputs there are, so n readers cost n, not n × instances.
                let instances = match (&expanded.call.repetition, &expanded.keys) {
                    (Some(_), Some(keys)) => keys
                        .first()
                        .map(|k| format!("{address}{k}"))
                        .into_iter()
                        .collect(),
                    _ => expanded.instances(&address),
                };
                for instance_address in instances {
                    let Some(instance) = module.module_instances.get(&instance_address) else {
                        continue;
                    };
                    match &output {
                        Some(o) if !instance.outputs.contains_key(o) => {
                            diags.push(
                                Diagnostic::error(
                                    "Unsupported attribute",
                                    format!(
                                        "This object does not have an attribute named \"{o}\": the module at {} declares no output \"{o}\".{}",
                                        instance.call.source,
                                        closest(o, instance.outputs.keys().map(String::as_str))
                                            .map(|c| format!(" Did you mean \"{c}\"?"))
                                            .unwrap_or_default()
                                    ),
                                )
                                .at(location.clone()),
                            );
                            return;
                        }
                        // All instances of a repeated call share their outputs' nodes.
                        Some(o) if repeated => {
                            needed = vec![Node::ModuleOutput(format!("{address}.output.{o}"))];
                            break;
                        }
                        Some(o) => needed
                            .push(Node::ModuleOutput(format!("{instance_address}.output.{o}"))),
                        None if repeated => {
                            needed = instance
                                .outputs
                                .keys()
                                .map(|o| Node::ModuleOutput(format!("{address}.output.{o}")))
                                .collect();
                            break;
                        }
                        None => {
                            needed.extend(instance.outputs.keys().map(|o| {
                                Node::ModuleOutput(format!("{instance_address}.output.{o}"))
                            }))
                        }
                    }
                }
                needed
            }
        };
        let Some(&b) = self.index.get(from) else {
            return;
        };
        for node in needed {
            let Some(&a) = self.index.get(&node) else {
                continue;
            };
            if !self.graph.edges_connecting(a, b).any(|_| true) {
                self.graph.add_edge(
                    a,
                    b,
                    Edge {
                        location: location.clone(),
                    },
                );
            }
        }
    }

    /// Kubernetes ordering rules (a namespace before its objects, a CRD before its custom
    /// resources, what a pod template uses before the workload, roles before bindings).
    fn add_kubernetes_ordering(&mut self, module: &Module) {
        let manifests: Vec<(&ResourceDecl, &crate::config::ManifestBody)> = module
            .resources
            .values()
            .filter_map(|r| match &r.body {
                crate::config::ResourceBody::Manifest(m) => Some((r, m)),
                crate::config::ResourceBody::Hcl(_) => None,
            })
            .collect();
        let objects: Vec<ObjectRef<'_>> = manifests
            .iter()
            .filter_map(|(r, m)| {
                let (group, kind, namespace, name) = parse_address(&r.address)?;
                Some(ObjectRef {
                    address: &r.address,
                    group,
                    kind,
                    namespace,
                    name,
                    document: &m.document,
                })
            })
            .collect();
        for edge in implicit_edges(&objects) {
            let (Some(&a), Some(&b)) = (
                self.index.get(&Node::Resource(edge.before.clone())),
                self.index.get(&Node::Resource(edge.after.clone())),
            ) else {
                continue;
            };
            let Some(after) = module.resources.get(&edge.after) else {
                continue;
            };
            if self.graph.edges_connecting(a, b).next().is_none() {
                self.graph.add_edge(
                    a,
                    b,
                    Edge {
                        location: after.location.clone(),
                    },
                );
            }
        }
    }

    /// One diagnostic per cycle, listing every node of it with where each edge is written.
    fn cycle_diagnostic(&self) -> Option<Diagnostic> {
        let mut lines = Vec::new();
        let mut first_location = None;
        for scc in tarjan_scc(&self.graph) {
            let self_loop = scc.len() == 1 && self.graph.contains_edge(scc[0], scc[0]);
            if scc.len() < 2 && !self_loop {
                continue;
            }
            let cycle = self.find_cycle(&scc);
            let mut text = String::new();
            for pair in cycle.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                let edge = self
                    .graph
                    .edges_connecting(a, b)
                    .next()
                    .map(|e| e.weight().location.clone());
                if first_location.is_none() {
                    first_location = edge.clone();
                }
                text.push_str(&format!(
                    "\n  {} needs {} (referenced at {})",
                    self.graph[b].label(),
                    self.graph[a].label(),
                    edge.map(|l| l.short()).unwrap_or_default()
                ));
            }
            lines.push(text);
        }
        if lines.is_empty() {
            return None;
        }
        Some(
            Diagnostic::error(
                "Dependency cycle",
                format!(
                    "These resources depend on each other in a circle, so none of them can be applied first:{}\nBreak the cycle by removing one of these references or depends_on entries.",
                    lines.join("\n")
                ),
            )
            .at_opt(first_location),
        )
    }

    /// A closed path through the strongly connected component, first node repeated last.
    fn find_cycle(&self, scc: &[NodeIndex]) -> Vec<NodeIndex> {
        let members: BTreeSet<NodeIndex> = scc.iter().copied().collect();
        let start = *members.iter().next().unwrap_or(&scc[0]);
        // Depth-first search inside the component back to `start`.
        let mut path = vec![start];
        let mut visited = BTreeSet::from([start]);
        while let Some(&current) = path.last() {
            let next = self
                .graph
                .edges_directed(current, Direction::Outgoing)
                .map(|e| e.target())
                .filter(|t| members.contains(t))
                .find(|t| *t == start || !visited.contains(t));
            match next {
                Some(t) if t == start => {
                    path.push(start);
                    return path;
                }
                Some(t) => {
                    visited.insert(t);
                    path.push(t);
                }
                None => {
                    path.pop();
                }
            }
        }
        vec![start, start]
    }

    /// For every resource, the resources it needs directly or through local values, module
    /// inputs and outputs, each named as configured (`module.a.aws_x.y` for every instance):
    /// computed once per node in dependency order, so shared waypoints cost once.
    pub fn resource_dependencies(&self) -> Dependencies {
        let Ok(order) = petgraph::algo::toposort(&self.graph, None) else {
            // A cycle is reported when the graph is built; nothing to order here.
            return BTreeMap::new();
        };
        let mut needs: HashMap<NodeIndex, std::sync::Arc<BTreeSet<String>>> = HashMap::new();
        let empty = std::sync::Arc::new(BTreeSet::new());
        for index in order {
            let incoming: Vec<NodeIndex> = self
                .graph
                .neighbors_directed(index, Direction::Incoming)
                .collect();
            let set = match incoming.as_slice() {
                [] => std::sync::Arc::clone(&empty),
                [only]
                    if !matches!(self.graph[*only], Node::Resource(_))
                        && !self.call_outputs.contains(&index) =>
                {
                    std::sync::Arc::clone(needs.get(only).unwrap_or(&empty))
                }
                _ => {
                    let mut set = BTreeSet::new();
                    for n in incoming {
                        match &self.graph[n] {
                            Node::Resource(a) => {
                                set.insert(a.clone());
                            }
                            _ => {
                                if let Some(more) = needs.get(&n) {
                                    set.extend(more.iter().cloned());
                                }
                            }
                        }
                    }
                    if self.call_outputs.contains(&index) {
                        // Past a repeated call's outputs: every instance, as configured.
                        set = set
                            .iter()
                            .map(|a| crate::config::config_resource_address(a).into_owned())
                            .collect();
                    }
                    std::sync::Arc::new(set)
                }
            };
            needs.insert(index, set);
        }
        self.index
            .iter()
            .filter_map(|(node, index)| match node {
                Node::Resource(address) => Some((
                    address.clone(),
                    needs
                        .get(index)
                        .map_or_else(|| std::sync::Arc::clone(&empty), std::sync::Arc::clone),
                )),
                _ => None,
            })
            .collect()
    }

    /// Resources an output needs, directly or through locals.
    pub fn output_dependencies(&self, name: &str) -> BTreeSet<String> {
        let Some(&index) = self.index.get(&Node::Output(name.to_string())) else {
            return BTreeSet::new();
        };
        let mut deps = BTreeSet::new();
        let mut stack: Vec<NodeIndex> = self
            .graph
            .neighbors_directed(index, Direction::Incoming)
            .collect();
        while let Some(n) = stack.pop() {
            match &self.graph[n] {
                Node::Resource(a) => {
                    deps.insert(a.clone());
                }
                _ => stack.extend(self.graph.neighbors_directed(n, Direction::Incoming)),
            }
        }
        deps
    }

    /// Every node (sorted) and edge (from a dependency to what needs it, with where the
    /// reference is written), for `braid graph --format json`.
    pub fn nodes_and_edges(&self) -> (Vec<&Node>, Vec<(&Node, &Node, &Location)>) {
        let mut nodes: Vec<&Node> = self.index.keys().collect();
        nodes.sort();
        let mut edges: Vec<(&Node, &Node, &Location)> = self
            .graph
            .edge_references()
            .map(|e| {
                (
                    &self.graph[e.source()],
                    &self.graph[e.target()],
                    &e.weight().location,
                )
            })
            .collect();
        edges.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        (nodes, edges)
    }

    /// The graph in Graphviz DOT, edges pointing from a dependency to what needs it.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph braid {\n  rankdir = \"LR\";\n  node [shape = box];\n");
        let mut nodes: Vec<&Node> = self.index.keys().collect();
        nodes.sort();
        for node in nodes {
            let shape = match node {
                Node::Resource(_) => "",
                _ => " [shape = note]",
            };
            out.push_str(&format!("  \"{}\"{shape};\n", dot_escape(&node.label())));
        }
        let mut edges: Vec<(String, String)> = self
            .graph
            .edge_references()
            .map(|e| {
                (
                    self.graph[e.source()].label(),
                    self.graph[e.target()].label(),
                )
            })
            .collect();
        edges.sort();
        for (a, b) in edges {
            out.push_str(&format!(
                "  \"{}\" -> \"{}\";\n",
                dot_escape(&a),
                dot_escape(&b)
            ));
        }
        out.push_str("}\n");
        out
    }
}

/// Where references are resolved: the flat module and the prefix of the module instance
/// they are written in.
struct Site<'m> {
    module: &'m Module,
    prefix: &'m str,
}

impl<'m> Site<'m> {
    fn new(module: &'m Module, prefix: &'m str) -> Self {
        Site { module, prefix }
    }
}

/// What a `depends_on` entry names: a resource, a local value or a module call.
fn depends_on_target(text: &str) -> Target {
    if let Some(name) = text.strip_prefix("local.") {
        return Target::Local(name.to_string());
    }
    if let Some(rest) = text.strip_prefix("module.") {
        let call = rest.split(['.', '[']).next().unwrap_or(rest);
        return Target::Module {
            call: call.to_string(),
            output: None,
        };
    }
    // A resource (`aws_x.y`, `data.aws_x.y`), an instance key or attribute after it ignored.
    let written = crate::config::split_instance_address(text).0;
    let parts: Vec<&str> = written.split('.').collect();
    let address = match parts.as_slice() {
        ["data", t, n, ..] => format!("data.{t}.{n}"),
        [t, n, ..] => format!("{t}.{n}"),
        _ => written.to_string(),
    };
    Target::Resource(address)
}

/// A DOT quoted-string body: quotes and backslashes of instance keys escaped.
fn dot_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

fn undeclared<'a>(
    summary: &str,
    prefix: &str,
    name: &str,
    declared: impl Iterator<Item = &'a String>,
    location: Location,
) -> Diagnostic {
    let hint = closest(name, declared.map(String::as_str))
        .map(|c| format!(" Did you mean {prefix}{c}?"))
        .unwrap_or_default();
    Diagnostic::error(summary, format!("{prefix}{name} is not declared.{hint}")).at(location)
}

/// Every expression of a resource body, nested blocks included, each with the names bound
/// around it (the iterators of enclosing `dynamic` blocks).
pub fn resource_expressions(r: &ResourceDecl) -> Vec<(&hcl_edit::expr::Expression, Vec<String>)> {
    fn collect<'a>(
        attrs: &'a [crate::config::Attribute],
        blocks: &'a [NestedBlock],
        bound: &[String],
        out: &mut Vec<(&'a hcl_edit::expr::Expression, Vec<String>)>,
    ) {
        out.extend(attrs.iter().map(|a| (&a.expr, bound.to_vec())));
        for b in blocks {
            if b.kind == "dynamic" {
                let mut inner = bound.to_vec();
                inner.push(b.dynamic_iterator().to_string());
                out.extend(b.body.attributes.iter().map(|a| (&a.expr, bound.to_vec())));
                for content in b.body.blocks.iter().filter(|c| c.kind == "content") {
                    collect(&content.body.attributes, &content.body.blocks, &inner, out);
                }
            } else {
                collect(&b.body.attributes, &b.body.blocks, bound, out);
            }
        }
    }
    let mut out = Vec::new();
    if let Some(repetition) = &r.repetition {
        out.push((&repetition.attribute().expr, Vec::new()));
    }
    let lifecycle = &r.lifecycle;
    for condition in lifecycle
        .preconditions
        .iter()
        .chain(&lifecycle.postconditions)
    {
        out.push((&condition.condition, Vec::new()));
        out.push((&condition.error_message, Vec::new()));
    }
    out.extend(
        lifecycle
            .replace_triggered_by
            .iter()
            .map(|(_, expr, _)| (expr, Vec::new())),
    );
    match &r.body {
        crate::config::ResourceBody::Hcl(body) => {
            collect(&body.attributes, &body.blocks, &[], &mut out)
        }
        crate::config::ResourceBody::Manifest(m) => {
            out.extend(
                m.templates
                    .iter()
                    .flat_map(|t| t.expressions())
                    .map(|e| (e, Vec::new())),
            );
        }
    }
    out
}
