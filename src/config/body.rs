//! A block body kept as expressions: attributes and nested blocks, each with its place.

use std::sync::Arc;

use hcl_edit::Span;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body, Structure};

use crate::diag::{Diagnostic, Location, SourceText, closest};

/// One `name = expression` of a block, kept unevaluated with its place in the file.
#[derive(Debug, Clone)]
pub struct Attribute {
    /// The attribute's name (`filename`).
    pub name: String,
    /// The value expression as parsed by hcl-edit, with its byte spans; evaluated during plan and
    /// apply, or read statically for references.
    pub expr: Expression,
    /// Where the attribute's name is.
    pub name_location: Location,
    /// Where its value expression is.
    pub value_location: Location,
}

/// A block inside a body (`lifecycle { ... }`, `provider "local" { ... }`), or a top-level block of
/// a file, with its labels and its own body.
#[derive(Debug, Clone)]
pub struct NestedBlock {
    /// The block's type, the identifier before the labels (`resource`, `lifecycle`).
    pub kind: String,
    /// The block's labels in order, without quotes (`["local_file", "motd"]` for `resource
    /// "local_file" "motd"`).
    pub labels: Vec<String>,
    /// What is inside the braces.
    pub body: ConfigBody,
    /// Where the block's type identifier is, for diagnostics about the whole block.
    pub location: Location,
    /// Where each label is (quotes included), in the order of `labels`.
    pub label_locations: Vec<Location>,
}

impl NestedBlock {
    /// The kind of block this block makes: its own, or for `dynamic "ingress"` the label.
    pub fn effective_kind(&self) -> &str {
        match (self.kind.as_str(), self.labels.first()) {
            ("dynamic", Some(label)) => label,
            (kind, _) => kind,
        }
    }

    /// The name a `dynamic` block's content reads its element by: `iterator`, else the
    /// block's label.
    pub fn dynamic_iterator(&self) -> &str {
        self.body
            .attribute("iterator")
            .and_then(|a| match &a.expr {
                Expression::Variable(v) => Some(v.value().as_str()),
                _ => None,
            })
            .unwrap_or_else(|| self.effective_kind())
    }
}

/// The attributes and nested blocks of one block, in file order.
#[derive(Debug, Clone)]
pub struct ConfigBody {
    /// The file the body is written in; every location in it points into this file.
    pub file: Arc<SourceText>,
    /// The attributes, in file order; names are unique (a duplicate is an error when parsing).
    pub attributes: Vec<Attribute>,
    /// The nested blocks, in file order; a kind may repeat.
    pub blocks: Vec<NestedBlock>,
}

impl ConfigBody {
    /// Splits a parsed body into attributes and blocks; a duplicate attribute is an error.
    pub fn from_body(body: Body, file: &Arc<SourceText>) -> Result<ConfigBody, Diagnostic> {
        let mut attributes: Vec<Attribute> = Vec::new();
        let mut blocks = Vec::new();
        for structure in body {
            match structure {
                Structure::Attribute(attr) => {
                    let name = attr.key.value().to_string();
                    let name_location = file.location(attr.key.span().unwrap_or(0..0));
                    if let Some(first) = attributes.iter().find(|a| a.name == name) {
                        return Err(Diagnostic::error(
                            "Duplicate attribute",
                            format!(
                                "The attribute \"{name}\" is already set at {}. Each attribute may be set once per block.",
                                first.name_location.short()
                            ),
                        )
                        .at(name_location));
                    }
                    attributes.push(Attribute {
                        name,
                        value_location: file.location(attr.value.span().unwrap_or(0..0)),
                        expr: attr.value,
                        name_location,
                    });
                }
                Structure::Block(block) => blocks.push(NestedBlock::from_block(block, file)?),
            }
        }
        // Bodies live as long as the configuration: a large one holds a hundred thousand.
        attributes.shrink_to_fit();
        blocks.shrink_to_fit();
        Ok(ConfigBody {
            file: Arc::clone(file),
            attributes,
            blocks,
        })
    }

    /// The attribute called `name`, or `None` when the body does not set it.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Fails on the first attribute or block not in `allowed`.
    pub fn check_names(
        &self,
        what: &str,
        attributes: &[&str],
        blocks: &[&str],
    ) -> Result<(), Diagnostic> {
        for attr in &self.attributes {
            if !attributes.contains(&attr.name.as_str()) {
                return Err(unexpected(
                    "attribute",
                    what,
                    &attr.name,
                    attributes,
                    attr.name_location.clone(),
                ));
            }
        }
        for block in &self.blocks {
            if !blocks.contains(&block.kind.as_str()) {
                return Err(unexpected(
                    "block",
                    what,
                    &block.kind,
                    blocks,
                    block.location.clone(),
                ));
            }
        }
        Ok(())
    }
}

fn unexpected(kind: &str, what: &str, name: &str, allowed: &[&str], at: Location) -> Diagnostic {
    let hint = match closest(name, allowed.iter().copied()) {
        Some(c) => format!(" Did you mean \"{c}\"?"),
        None if allowed.is_empty() => format!(" A {what} takes no {kind}s."),
        None => format!(" Allowed here: {}.", allowed.join(", ")),
    };
    let summary = if kind == "attribute" {
        "Unsupported attribute"
    } else {
        "Unsupported block type"
    };
    Diagnostic::error(
        summary,
        format!("A {what} has no {kind} named \"{name}\".{hint}"),
    )
    .at(at)
}

impl NestedBlock {
    /// Converts a parsed block, with its body, to a [`NestedBlock`]; fails on a duplicate attribute
    /// anywhere inside it.
    pub fn from_block(block: Block, file: &Arc<SourceText>) -> Result<NestedBlock, Diagnostic> {
        Ok(NestedBlock {
            kind: block.ident.value().to_string(),
            label_locations: block
                .labels
                .iter()
                .map(|l| file.location(l.span().unwrap_or(0..0)))
                .collect(),
            labels: block
                .labels
                .iter()
                .map(|l| l.as_str().to_string())
                .collect(),
            location: file.location(block.ident.span().unwrap_or(0..0)),
            body: ConfigBody::from_body(block.body, file)?,
        })
    }

    /// Fails unless the block has one label per entry of `names`; the error shows the shape
    /// expected, such as `resource "type" "name" { ... }`.
    pub fn expect_labels(&self, names: &[&str]) -> Result<(), Diagnostic> {
        if self.labels.len() == names.len() {
            return Ok(());
        }
        let shape = std::iter::once(self.kind.clone())
            .chain(names.iter().map(|n| format!("\"{n}\"")))
            .collect::<Vec<_>>()
            .join(" ");
        Err(Diagnostic::error(
            "Wrong number of block labels",
            format!(
                "A {} block takes {} label(s), but this one has {}. Write it as: {shape} {{ ... }}",
                self.kind,
                names.len(),
                self.labels.len()
            ),
        )
        .at(self.location.clone()))
    }
}

/// A bare identifier or traversal as text (`local_file.a`), for `depends_on` and
/// `ignore_changes` lists which name things rather than evaluate them.
pub fn traversal_text(expr: &Expression) -> Option<String> {
    match expr {
        Expression::Variable(v) => Some(v.value().to_string()),
        Expression::Traversal(t) => {
            let mut out = traversal_text(&t.expr)?;
            for op in &t.operators {
                match op.value() {
                    hcl_edit::expr::TraversalOperator::GetAttr(a) => {
                        out.push('.');
                        out.push_str(a.value());
                    }
                    hcl_edit::expr::TraversalOperator::Index(Expression::Number(n)) => {
                        out.push_str(&format!("[{}]", n.value()));
                    }
                    hcl_edit::expr::TraversalOperator::Index(Expression::String(s)) => {
                        out.push_str(&format!("[\"{}\"]", s.value()));
                    }
                    _ => return None,
                }
            }
            Some(out)
        }
        Expression::String(s) => Some(s.value().clone()),
        _ => None,
    }
}

/// The span of an expression as a location, for errors about the whole value.
pub fn expr_location(file: &Arc<SourceText>, expr: &Expression) -> Location {
    file.location(expr.span().unwrap_or(0..0))
}
