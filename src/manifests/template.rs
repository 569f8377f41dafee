//! `${{ EXPR }}` references inside manifest strings: parsed as HCL expressions at their
//! place in the YAML file, evaluated like resource attributes. `$${{` is a literal `${{`.

use std::sync::Arc;

use braid_provider::{Path, PathStep, Value};
use hcl_edit::expr::Expression;

use crate::config::{TemplateField, TemplatePart};
use crate::diag::{Diagnostic, Location, SourceText};

/// Finds every templated string in `document`, parsing each expression so that its spans
/// point into `file` (searched from `from`, the document's start offset).
pub fn find_templates(
    document: &mut Value,
    file: &Arc<SourceText>,
    from: usize,
) -> Result<Vec<TemplateField>, Diagnostic> {
    let mut out = Vec::new();
    let mut cursor = from;
    walk(document, &mut Path::root(), file, &mut cursor, &mut out)?;
    Ok(out)
}

fn walk(
    value: &mut Value,
    at: &mut Path,
    file: &Arc<SourceText>,
    cursor: &mut usize,
    out: &mut Vec<TemplateField>,
) -> Result<(), Diagnostic> {
    match value {
        Value::String(s) if s.contains("${{") => {
            let (parts, literal) = parse_string(s, file, cursor)?;
            match parts {
                Some(parts) => out.push(TemplateField {
                    path: at.clone(),
                    parts,
                }),
                // Only escapes: the string is a plain literal.
                None => *s = literal,
            }
        }
        Value::List(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                at.0.push(PathStep::Index(i));
                walk(item, at, file, cursor, out)?;
                at.0.pop();
            }
        }
        Value::Map(map) => {
            for (k, item) in map.iter_mut() {
                at.0.push(PathStep::Key(k.clone()));
                walk(item, at, file, cursor, out)?;
                at.0.pop();
            }
        }
        _ => {}
    }
    Ok(())
}

/// Splits a string into literals and expressions. Returns `None` for the parts when the
/// string only had escapes (`$${{`), with the unescaped text.
fn parse_string(
    s: &str,
    file: &Arc<SourceText>,
    cursor: &mut usize,
) -> Result<(Option<Vec<TemplatePart>>, String), Diagnostic> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = s;
    let mut any_expr = false;
    while let Some(start) = rest.find("${{") {
        if start > 0 && rest[..start].ends_with('$') {
            literal.push_str(&rest[..start - 1]);
            literal.push_str("${{");
            rest = &rest[start + 3..];
            continue;
        }
        literal.push_str(&rest[..start]);
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else {
            return Err(Diagnostic::error(
                "Unterminated reference",
                "A ${{ in a manifest string has no closing }}. Close it, or write $${{ for a literal ${{.",
            )
            .at(locate(file, cursor, rest)));
        };
        let inner = &after[..end];
        if !literal.is_empty() {
            parts.push(TemplatePart::Literal(std::mem::take(&mut literal)));
        }
        let location = locate(file, cursor, inner);
        let expr = parse_at(inner, file, location.span.start).map_err(|detail| {
            Diagnostic::error("Invalid expression in manifest", detail).at(location.clone())
        })?;
        parts.push(TemplatePart::Expr { expr, location });
        any_expr = true;
        rest = &after[end + 2..];
    }
    literal.push_str(rest);
    if !any_expr {
        return Ok((None, literal));
    }
    if !literal.is_empty() {
        parts.push(TemplatePart::Literal(literal));
    }
    Ok((Some(parts), String::new()))
}

/// The location of `needle` in the file at or after the cursor (advancing it), or the
/// cursor itself when the text is not found verbatim (e.g. a folded YAML string).
fn locate(file: &Arc<SourceText>, cursor: &mut usize, needle: &str) -> Location {
    let start = (*cursor).min(file.text.len());
    match file.text[start..].find(needle) {
        Some(i) => {
            let at = start + i;
            *cursor = at + needle.len();
            file.location(at..at + needle.len())
        }
        None => file.location(start..start),
    }
}

/// Parses an expression so its spans are offsets into the whole file: it is parsed as the
/// value of an attribute `x=` placed so the expression starts at its byte offset in the file,
/// with spaces before (an expression alone may not start with blanks).
fn parse_at(expr: &str, file: &Arc<SourceText>, offset: usize) -> Result<Expression, String> {
    let offset = offset.min(file.text.len());
    // Text a transformation produced (a kustomize image name, say) is not in the file: its
    // expression is placed at the start, and errors point at the document.
    let padding = offset.saturating_sub(2);
    let padded = format!("{}x={expr}\n", " ".repeat(padding));
    let body = hcl_edit::parser::parse_body(&padded).map_err(|e| format!("{}.", e.message()))?;
    body.get_attribute("x")
        .map(|attr| attr.value.clone())
        .ok_or_else(|| "the reference is not a single expression".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcl_edit::Span;

    #[test]
    fn finds_and_places_expressions() {
        let text = "metadata:\n  name: web\ndata:\n  bucket: \"${{ aws_s3_bucket.assets.bucket }}\"\n  url: \"https://${{ var.domain }}/x\"\n  lit: \"$${{ not }}\"\n";
        let file = SourceText::new("app.yaml", text);
        let json: serde_json::Value = serde_yaml_ng::from_str(text).expect("valid yaml");
        let mut doc = Value::from_json(&json);
        let templates = find_templates(&mut doc, &file, 0).expect("templates parse");
        assert_eq!(templates.len(), 2);
        let first = &templates[0];
        assert_eq!(first.path.to_string(), "data.bucket");
        let TemplatePart::Expr { expr, location } = &first.parts[0] else {
            panic!("an expression")
        };
        assert_eq!(location.line, 4);
        let span = expr.span().expect("parsed with spans");
        assert_eq!(&text[span], "aws_s3_bucket.assets.bucket");
        assert_eq!(templates[1].parts.len(), 3);
        assert_eq!(
            doc.get(&Path::key("data").child_key("lit")),
            Some(&Value::from("${{ not }}"))
        );
    }

    #[test]
    fn unterminated_reference_is_an_error() {
        let text = "a: \"${{ var.x\"\n";
        let file = SourceText::new("app.yaml", text);
        let mut doc = Value::map([("a", Value::from("${{ var.x"))]);
        let err = find_templates(&mut doc, &file, 0).expect_err("unterminated");
        assert_eq!(err.summary, "Unterminated reference");
    }
}
