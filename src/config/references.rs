//! Static references of expressions (`var.x`, `local.y`, `TYPE.NAME`), found without
//! evaluating anything. They become edges of the graph.

use std::sync::Arc;

use hcl_edit::Span;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::template::{Directive, Element, Template};

use crate::diag::{Location, SourceText};

/// What a reference names: a variable, a local value or a resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// `var.NAME`; holds the variable's name.
    Variable(String),
    /// `local.NAME`; holds the local value's name.
    Local(String),
    /// `TYPE.NAME`
    Resource(String),
    /// `count.index` or `each.key`/`each.value`: holds `count` or `each`, which only a
    /// resource with that meta-argument may use.
    Repetition(String),
    /// `module.NAME`, with the output read (`module.NAME.OUTPUT`, `module.NAME[K].OUTPUT`)
    /// when the reference names one.
    Module {
        /// The call's name.
        call: String,
        /// The output read; `None` for the whole module object.
        output: Option<String>,
    },
}

/// One reference found in an expression, with where it is written, so the graph can report an
/// unknown name or a cycle at its place.
#[derive(Debug, Clone)]
pub struct Reference {
    /// What is referenced.
    pub target: Target,
    /// The span of the whole traversal (`local_file.motd.filename`), for diagnostics.
    pub location: Location,
}

/// Every reference in `expr`, in source order.
pub fn references(expr: &Expression, file: &Arc<SourceText>) -> Vec<Reference> {
    references_bound(expr, file, &[])
}

/// Every reference in `expr` but those to the names `bound` around it (the iterators of
/// enclosing `dynamic` blocks).
pub fn references_bound(
    expr: &Expression,
    file: &Arc<SourceText>,
    bound: &[String],
) -> Vec<Reference> {
    let mut walker = Walker {
        file,
        bound: bound.to_vec(),
        out: Vec::new(),
    };
    walker.expr(expr);
    walker.out
}

struct Walker<'a> {
    file: &'a Arc<SourceText>,
    /// Names bound by enclosing for-expressions.
    bound: Vec<String>,
    out: Vec<Reference>,
}

impl Walker<'_> {
    fn push(&mut self, target: Target, at: &Expression) {
        self.out.push(Reference {
            target,
            location: self.file.location(at.span().unwrap_or(0..0)),
        });
    }

    fn expr(&mut self, expr: &Expression) {
        match expr {
            Expression::Null(_)
            | Expression::Bool(_)
            | Expression::Number(_)
            | Expression::String(_) => {}
            Expression::Array(items) => items.iter().for_each(|e| self.expr(e)),
            Expression::Object(object) => {
                for (key, value) in object.iter() {
                    if let ObjectKey::Expression(k) = key {
                        self.expr(k);
                    }
                    self.expr(value.expr());
                }
            }
            Expression::StringTemplate(t) => self.template(t),
            Expression::HeredocTemplate(h) => self.template(&h.template),
            Expression::Parenthesis(p) => self.expr(p.inner()),
            Expression::Variable(_) => {}
            Expression::Conditional(c) => {
                self.expr(&c.cond_expr);
                self.expr(&c.true_expr);
                self.expr(&c.false_expr);
            }
            Expression::FuncCall(call) => call.args.iter().for_each(|e| self.expr(e)),
            Expression::Traversal(traversal) => {
                if let Expression::Variable(root) = &traversal.expr {
                    let root = root.value().as_str();
                    let first = traversal.operators.first().map(|op| op.value());
                    if !self.bound.iter().any(|b| b == root)
                        && let Some(TraversalOperator::GetAttr(name)) = first
                    {
                        let name = name.value().to_string();
                        match root {
                            "var" => self.push(Target::Variable(name), expr),
                            "local" => self.push(Target::Local(name), expr),
                            "env" | "path" | "terraform" | "self" => {}
                            "count" | "each" => {
                                self.push(Target::Repetition(root.to_string()), expr)
                            }
                            "module" => {
                                let mut rest = traversal
                                    .operators
                                    .iter()
                                    .skip(1)
                                    .map(|op| op.value())
                                    .peekable();
                                if let Some(TraversalOperator::Index(_)) = rest.peek() {
                                    rest.next();
                                }
                                let output = match rest.next() {
                                    Some(TraversalOperator::GetAttr(o)) => {
                                        Some(o.value().to_string())
                                    }
                                    _ => None,
                                };
                                self.push(Target::Module { call: name, output }, expr)
                            }
                            "data" => {
                                if let Some(TraversalOperator::GetAttr(data_name)) =
                                    traversal.operators.get(1).map(|op| op.value())
                                {
                                    self.push(
                                        Target::Resource(format!(
                                            "data.{name}.{}",
                                            data_name.value()
                                        )),
                                        expr,
                                    )
                                }
                            }
                            type_name => {
                                self.push(Target::Resource(format!("{type_name}.{name}")), expr)
                            }
                        }
                    }
                } else {
                    self.expr(&traversal.expr);
                }
                for op in &traversal.operators {
                    if let TraversalOperator::Index(index) = op.value() {
                        self.expr(index);
                    }
                }
            }
            Expression::UnaryOp(op) => self.expr(&op.expr),
            Expression::BinaryOp(op) => {
                self.expr(&op.lhs_expr);
                self.expr(&op.rhs_expr);
            }
            Expression::ForExpr(for_expr) => {
                self.expr(&for_expr.intro.collection_expr);
                let before = self.bound.len();
                if let Some(k) = &for_expr.intro.key_var {
                    self.bound.push(k.value().to_string());
                }
                self.bound
                    .push(for_expr.intro.value_var.value().to_string());
                if let Some(k) = &for_expr.key_expr {
                    self.expr(k);
                }
                self.expr(&for_expr.value_expr);
                if let Some(c) = &for_expr.cond {
                    self.expr(&c.expr);
                }
                self.bound.truncate(before);
            }
        }
    }

    fn template(&mut self, template: &Template) {
        for element in template.iter() {
            match element {
                Element::Literal(_) => {}
                Element::Interpolation(i) => self.expr(&i.expr),
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(i) => {
                        self.expr(&i.if_expr.cond_expr);
                        self.template(&i.if_expr.template);
                        if let Some(e) = &i.else_expr {
                            self.template(&e.template);
                        }
                    }
                    Directive::For(f) => {
                        let head = &f.for_expr;
                        self.expr(&head.collection_expr);
                        let before = self.bound.len();
                        if let Some(k) = &head.key_var {
                            self.bound.push(k.value().to_string());
                        }
                        self.bound.push(head.value_var.value().to_string());
                        self.template(&head.template);
                        self.bound.truncate(before);
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_references_and_skips_bound_names() {
        let text = r#"x = "${var.a}-${local_file.b.id}" != [for v in local.c : v.name if var.d]"#;
        let file = SourceText::new("t.hcl", text);
        let body = hcl_edit::parser::parse_body(text).expect("valid test HCL");
        let attr = body.get_attribute("x").expect("x is set");
        let targets: Vec<Target> = references(&attr.value, &file)
            .into_iter()
            .map(|r| r.target)
            .collect();
        assert_eq!(
            targets,
            vec![
                Target::Variable("a".into()),
                Target::Resource("local_file.b".into()),
                Target::Local("c".into()),
                Target::Variable("d".into()),
            ]
        );
    }
}
