//! Strings that embed HCL expressions (`${{ EXPR }}` in manifests): the parsed form the
//! configuration keeps with each resource, evaluated like resource attributes. Parsing them
//! out of YAML is the manifests loader's job.

use braid_provider::Path;
use hcl_edit::expr::Expression;

use crate::diag::Location;

/// One piece of a templated string.
#[derive(Debug, Clone)]
pub enum TemplatePart {
    /// Text taken as it is.
    Literal(String),
    /// An expression, with where it is in its file.
    Expr {
        /// The parsed expression.
        expr: Expression,
        /// Where it is written.
        location: Location,
    },
}

/// A string value of a manifest that contains `${{ }}`.
#[derive(Debug, Clone)]
pub struct TemplateField {
    /// Where the string is in the document.
    pub path: Path,
    /// Its literal text and expressions, in order.
    pub parts: Vec<TemplatePart>,
}

impl TemplateField {
    /// The expressions, in order.
    pub fn expressions(&self) -> impl Iterator<Item = &Expression> {
        self.parts.iter().filter_map(|p| match p {
            TemplatePart::Expr { expr, .. } => Some(expr),
            TemplatePart::Literal(_) => None,
        })
    }
}
