//! Templates: `"...${x}..."` strings, heredocs and the templates of `templatefile()` and
//! `templatestring()`, with `%{ if }` / `%{ for }` directives and `~` strip markers, rendered
//! as HCL renders them.
//!
//! HCL applies strip markers and the indentation removal of `<<-` heredocs to the *tokens*
//! of a template, in order across directives: a quoted string's literal between two
//! interpolations is one token, but heredocs and template files have one token per line. So
//! `~}` in a heredoc removes whitespace only up to the end of its line, and `<<-` removes
//! the indentation common to the lines that start with a literal once the strip markers
//! have been applied. hcl-edit keeps the markers but removes `<<-` indentation while
//! parsing, before them and outside directives only, so an indented heredoc is parsed
//! again here as written.

use hcl_edit::Span;
use hcl_edit::expr::Expression;
use hcl_edit::template::{Directive, Element, ForTemplateExpr, HeredocTemplate, Strip, Template};

use super::{EvalResult, Evaluator};
use crate::diag::Diagnostic;
use braid_provider::Value;

/// How a template was written, which decides what its literal tokens are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TemplateKind {
    /// A quoted string: each literal between interpolations and directives is one token.
    Quoted,
    /// A heredoc or a template file: one token per line.
    Lines,
    /// An indented heredoc (`<<-`): one token per line, then the common indentation removed.
    IndentedLines,
}

/// A template flattened into HCL's token order: directives become their opening, `else` and
/// closing tags, with the body tokens in between.
enum Token<'t> {
    Literal(String),
    Interpolation(&'t Expression, Strip),
    If(&'t Expression, Strip),
    Else(Strip),
    EndIf(Strip),
    For(&'t ForTemplateExpr, Strip),
    EndFor(Strip),
}

impl Token<'_> {
    fn strip(&self) -> Strip {
        match self {
            Token::Literal(_) => Strip::None,
            Token::Interpolation(_, strip)
            | Token::If(_, strip)
            | Token::Else(strip)
            | Token::EndIf(strip)
            | Token::For(_, strip)
            | Token::EndFor(strip) => *strip,
        }
    }
}

fn flatten<'t>(template: &'t Template, kind: TemplateKind, out: &mut Vec<Token<'t>>) {
    for element in template.iter() {
        match element {
            Element::Literal(text) => {
                let text = super::nfc(text.value());
                if kind == TemplateKind::Quoted {
                    out.push(Token::Literal(text));
                } else {
                    out.extend(
                        text.split_inclusive('\n')
                            .map(|line| Token::Literal(line.to_string())),
                    );
                }
            }
            Element::Interpolation(interp) => {
                out.push(Token::Interpolation(&interp.expr, interp.strip));
            }
            Element::Directive(directive) => match directive.as_ref() {
                Directive::If(if_dir) => {
                    out.push(Token::If(&if_dir.if_expr.cond_expr, if_dir.if_expr.strip));
                    flatten(&if_dir.if_expr.template, kind, out);
                    if let Some(else_expr) = &if_dir.else_expr {
                        out.push(Token::Else(else_expr.strip));
                        flatten(&else_expr.template, kind, out);
                    }
                    out.push(Token::EndIf(if_dir.endif_expr.strip));
                }
                Directive::For(for_dir) => {
                    out.push(Token::For(&for_dir.for_expr, for_dir.for_expr.strip));
                    flatten(&for_dir.for_expr.template, kind, out);
                    out.push(Token::EndFor(for_dir.endfor_expr.strip));
                }
            },
        }
    }
}

/// `~` after a tag trims the whitespace at the start of the next token, `~` before one the
/// whitespace at the end of the previous token, when those are literals.
fn apply_strip_markers(tokens: &mut [Token<'_>]) {
    for i in 0..tokens.len() {
        let strip = tokens[i].strip();
        if strip.strip_start()
            && let Some(Token::Literal(text)) = i.checked_sub(1).and_then(|p| tokens.get_mut(p))
        {
            text.truncate(text.trim_end().len());
        }
        if strip.strip_end()
            && let Some(Token::Literal(text)) = tokens.get_mut(i + 1)
        {
            *text = text.trim_start().to_string();
        }
    }
}

/// Removes the indentation of `<<-` heredocs as HCL does: the fewest leading whitespace
/// characters of the tokens that start a line (a line starting with an interpolation or a
/// directive has none; blank lines do not count) are removed from each of those tokens.
fn remove_common_indent(tokens: &mut [Token<'_>]) {
    let mut line_starts = Vec::new();
    let mut fewest = usize::MAX;
    let mut at_line_start = true;
    for (i, token) in tokens.iter().enumerate() {
        if at_line_start {
            at_line_start = false;
            match token {
                Token::Literal(text) => {
                    let rest = text.trim_start();
                    if !(rest.is_empty() && text.ends_with('\n')) {
                        fewest = fewest.min(text.chars().count() - rest.chars().count());
                    }
                    line_starts.push(i);
                }
                _ => fewest = 0,
            }
        }
        if let Token::Literal(text) = token
            && text.ends_with('\n')
        {
            at_line_start = true;
        }
    }
    for i in line_starts {
        if let Token::Literal(text) = &mut tokens[i]
            && text.chars().count() >= fewest
        {
            *text = text.chars().skip(fewest).collect();
        }
    }
}

/// The index of the `else` (if any) and of the closing tag of the directive opened at
/// `open`.
fn closing_tags(tokens: &[Token<'_>], open: usize) -> (Option<usize>, usize) {
    let mut depth = 0usize;
    let mut else_at = None;
    for (i, token) in tokens.iter().enumerate().skip(open + 1) {
        match token {
            Token::If(..) | Token::For(..) => depth += 1,
            Token::Else(_) if depth == 0 => else_at = Some(i),
            Token::EndIf(_) | Token::EndFor(_) if depth == 0 => return (else_at, i),
            Token::EndIf(_) | Token::EndFor(_) => depth -= 1,
            _ => {}
        }
    }
    // The parser pairs every directive with its closing tag.
    (else_at, tokens.len())
}

impl Evaluator<'_> {
    /// A heredoc: an indented one (`<<-`) is parsed again from the file as written, so that
    /// its indentation is removed after the strip markers are applied, as in HCL.
    pub(super) fn eval_heredoc(
        &mut self,
        heredoc: &HeredocTemplate,
        whole: &Expression,
    ) -> EvalResult {
        // hcl-edit's `indent()` is `None` for a `<<-` heredoc it removed nothing from, so
        // the text says which kind this is.
        let Some((raw, offset)) = self.heredoc_as_written(whole) else {
            return self.eval_template(&heredoc.template, TemplateKind::Lines);
        };
        let saved = std::mem::replace(&mut self.span_offset, offset);
        let result = self.eval_template(&raw.template, TemplateKind::IndentedLines);
        self.span_offset = saved;
        result
    }

    /// The `<<-` heredoc at `whole`, parsed again as a plain `<<` heredoc, and the offset of
    /// its text in the file; `None` for a plain heredoc.
    fn heredoc_as_written(&self, whole: &Expression) -> Option<(HeredocTemplate, usize)> {
        let span = whole.span()?;
        let start = span.start + self.span_offset;
        let text = self.file.text.get(start..span.end + self.span_offset)?;

        let rest = text.strip_prefix("<<-")?;
        match hcl_edit::parser::parse_expr(&format!("<<{rest}")).ok()? {
            // Positions after the dropped `-` are one byte further in the file.
            Expression::HeredocTemplate(raw) => Some((*raw, start + 1)),
            _ => None,
        }
    }

    /// Renders a template; `"${x}"` alone keeps x's type, as in Terraform.
    pub(super) fn eval_template(&mut self, template: &Template, kind: TemplateKind) -> EvalResult {
        if let Some(Element::Interpolation(interp)) = template.as_single_element() {
            return self.eval(&interp.expr);
        }
        let mut tokens = Vec::new();
        flatten(template, kind, &mut tokens);
        apply_strip_markers(&mut tokens);
        if kind == TemplateKind::IndentedLines {
            remove_common_indent(&mut tokens);
        }
        let mut out = String::new();
        if self.render(&tokens, &mut out)? {
            Ok(Value::String(out))
        } else {
            Ok(Value::Unknown)
        }
    }

    /// Appends the rendered tokens to `out`; returns false when part of them is unknown.
    fn render(&mut self, tokens: &[Token<'_>], out: &mut String) -> Result<bool, Diagnostic> {
        let mut known = true;
        let mut i = 0;
        while i < tokens.len() {
            match &tokens[i] {
                Token::Literal(text) => out.push_str(text),
                Token::Interpolation(expr, _) => {
                    let value = self.eval(expr)?;
                    if value.is_unknown() {
                        known = false;
                    } else {
                        out.push_str(&self.to_template_string(expr, value)?);
                    }
                }
                Token::If(cond, _) => {
                    let (else_at, end) = closing_tags(tokens, i);
                    let then_body = &tokens[i + 1..else_at.unwrap_or(end)];
                    let else_body = else_at.map_or(&[][..], |e| &tokens[e + 1..end]);
                    match self.eval(cond)? {
                        Value::Bool(true) => known &= self.render(then_body, out)?,
                        Value::Bool(false) => known &= self.render(else_body, out)?,
                        Value::Unknown => known = false,
                        other => {
                            return Err(self.error(
                                *cond,
                                "Invalid condition",
                                format!(
                                    "A template %{{if}} condition must be a bool, not {}.",
                                    other.kind()
                                ),
                            ));
                        }
                    }
                    i = end;
                }
                Token::For(head, _) => {
                    let (_, end) = closing_tags(tokens, i);
                    let body = &tokens[i + 1..end];
                    let collection = self.eval(&head.collection_expr)?;
                    match self.iterate(collection, &head.collection_expr)? {
                        None => known = false,
                        Some(pairs) => {
                            for (key, value) in pairs {
                                let pushed = self.bind(
                                    head.key_var.as_ref().map(|k| k.value().as_str()),
                                    head.value_var.value().as_str(),
                                    key,
                                    value,
                                );
                                let result = self.render(body, out);
                                self.bindings.truncate(self.bindings.len() - pushed);
                                known &= result?;
                            }
                        }
                    }
                    i = end;
                }
                Token::Else(_) | Token::EndIf(_) | Token::EndFor(_) => {}
            }
            i += 1;
        }
        Ok(known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens_text(text: &str, kind: TemplateKind) -> String {
        let template = hcl_edit::parser::parse_template(text).expect("valid template");
        let mut tokens = Vec::new();
        flatten(&template, kind, &mut tokens);
        apply_strip_markers(&mut tokens);
        if kind == TemplateKind::IndentedLines {
            remove_common_indent(&mut tokens);
        }
        tokens
            .iter()
            .map(|t| match t {
                Token::Literal(text) => text.clone(),
                _ => "|".to_string(),
            })
            .collect()
    }

    #[test]
    fn strip_markers_stop_at_line_ends_in_line_templates() {
        let text = "a\n%{ if x ~}\n  b\n%{~ endif }\nc";
        assert_eq!(tokens_text(text, TemplateKind::Lines), "a\n|  b|\nc");
    }

    #[test]
    fn indentation_is_removed_after_strip_markers() {
        let text = "    %{ for x in y ~}\n      v${x}\n    %{ endfor ~}\n    end\n";
        // The lines after `~}` no longer start a line, so only the tags' indentation goes.
        assert_eq!(
            tokens_text(text, TemplateKind::IndentedLines),
            "|      v|\n|    end\n"
        );
    }
}
