//! The functions the evaluator provides itself ([`braid_functions::EVALUATOR_FUNCTIONS`]),
//! because they need more than the values of their arguments: `try` and `can` evaluate
//! their arguments lazily, turning errors into fallbacks; `templatefile` and
//! `templatestring` render templates; `sensitive`, `nonsensitive` and `issensitive` set or
//! read whether a value is sensitive; `ephemeralasnull` has nothing to do, braid having no
//! ephemeral values.

use braid_functions::{EVALUATOR_FUNCTIONS, FunctionError};
use braid_provider::Value;
use hcl_edit::expr::{Expression, FuncCall};

use super::template::TemplateKind;
use super::{EvalResult, Evaluator, VariablesOnly};
use crate::diag::SourceText;

impl Evaluator<'_> {
    /// Evaluates a call of a function of [`EVALUATOR_FUNCTIONS`]; `None` for other
    /// functions.
    pub(super) fn eval_evaluator_function(
        &mut self,
        call: &FuncCall,
        at: &Expression,
    ) -> Option<EvalResult> {
        let name = call.name.name.value().as_str();
        let name = *EVALUATOR_FUNCTIONS.iter().find(|n| **n == name)?;
        let args: Vec<&Expression> = call.args.iter().collect();
        if call.args.expand_final() {
            return Some(Err(self.error(
                at,
                "Invalid expanding argument",
                format!(
                    "The arguments of {name}() cannot be expanded with \"...\"; write each one."
                ),
            )));
        }
        let arity = match name {
            "try" => (1, usize::MAX),
            "templatefile" | "templatestring" => (2, 2),
            _ => (1, 1),
        };
        if args.len() < arity.0 || args.len() > arity.1 {
            let expected = match arity {
                (1, usize::MAX) => "at least 1".to_string(),
                (n, _) => n.to_string(),
            };
            let error = FunctionError::Arity {
                name: name.to_string(),
                expected,
                got: args.len(),
            };
            return Some(Err(self.function_error(at, error)));
        }
        Some(match name {
            "try" => self.eval_try(&args, at),
            "can" => Ok(self.eval_can(args[0])),
            "sensitive" => self.eval(args[0]).inspect(|_| self.sensitive = true),
            "nonsensitive" => {
                // Terraform 1.11 accepts a value that is not sensitive and returns it as is.
                let before = self.sensitive;
                let value = self.eval(args[0]);
                self.sensitive = before;
                value
            }
            "issensitive" => {
                let before = std::mem::replace(&mut self.sensitive, false);
                let value = self.eval(args[0]);
                let sensitive = std::mem::replace(&mut self.sensitive, before);
                value.map(|_| Value::Bool(sensitive))
            }
            // braid has no ephemeral values, so every value stays as it is.
            "ephemeralasnull" => self.eval(args[0]),
            "templatestring" => self.eval_templatestring(args[0], args[1], at),
            _ => self.eval_templatefile(args[0], args[1], at),
        })
    }

    /// `try(a, b, ...)`: the first argument that evaluates without an error.
    fn eval_try(&mut self, args: &[&Expression], at: &Expression) -> EvalResult {
        let mut last_error = None;
        for arg in args {
            let before = self.sensitive;
            match self.eval(arg) {
                Ok(value) => return Ok(value),
                Err(error) => {
                    // An argument that failed gives nothing to the result, so what it read
                    // does not make the result sensitive; its error is not shown if it did.
                    let read_sensitive = std::mem::replace(&mut self.sensitive, before);
                    last_error = Some((error, read_sensitive));
                }
            }
        }
        let cause = match last_error {
            Some((error, false)) => {
                format!(" The last one failed: {} {}", error.summary, error.detail)
            }
            _ => String::new(),
        };
        Err(self.error(
            at,
            "Invalid function argument",
            format!("No expression given to try() produced a result.{cause}"),
        ))
    }

    /// `can(x)`: whether `x` evaluates without an error; unknown while `x` is not known.
    fn eval_can(&mut self, arg: &Expression) -> Value {
        let before = self.sensitive;
        let result = self.eval(arg);
        self.sensitive = before;
        match result {
            Ok(value) if value.is_wholly_known() => Value::Bool(true),
            Ok(_) => Value::Unknown,
            Err(_) => Value::Bool(false),
        }
    }

    /// `templatestring(ref, vars)`: the template must be a reference to a string from
    /// elsewhere (a literal template is rendered by writing it as an expression), as in
    /// Terraform.
    fn eval_templatestring(
        &mut self,
        template: &Expression,
        vars: &Expression,
        at: &Expression,
    ) -> EvalResult {
        if !matches!(template, Expression::Traversal(_) | Expression::Variable(_)) {
            return Err(self.error(
                template,
                "Invalid function argument",
                "The template given to templatestring() must be a reference to a string from elsewhere, like local.template or var.template. To render a template written here, write it as a string expression instead.",
            ));
        }
        let text = match self.eval(template)? {
            Value::String(text) => text,
            Value::Unknown => return Ok(Value::Unknown),
            other => {
                return Err(self.error(
                    template,
                    "Invalid function argument",
                    format!(
                        "templatestring() needs a string template, but this is {}.",
                        other.kind()
                    ),
                ));
            }
        };
        self.render_template_text("templatestring", "the template string", &text, vars, at)
    }

    /// `templatefile(path, vars)`: the file is read as `file()` reads it, inside the source.
    fn eval_templatefile(
        &mut self,
        path: &Expression,
        vars: &Expression,
        at: &Expression,
    ) -> EvalResult {
        let path_value = self.eval(path)?;
        if path_value.is_unknown() {
            return Ok(Value::Unknown);
        }
        let shown = path_value.as_str().unwrap_or_default().to_string();
        let text = match self.call_function("file", vec![path_value]) {
            Ok(Value::String(text)) => text,
            Ok(_) => return Ok(Value::Unknown),
            Err(error) => {
                let error = match error {
                    FunctionError::Argument { index, message, .. } => FunctionError::Argument {
                        name: "templatefile".to_string(),
                        index,
                        message,
                    },
                    FunctionError::Failed { message, .. } => FunctionError::Failed {
                        name: "templatefile".to_string(),
                        message,
                    },
                    other => other,
                };
                return Err(self.function_error(at, error));
            }
        };
        self.render_template_text("templatefile", &shown, &text, vars, at)
    }

    /// Renders `text` as a template whose only names are the attributes of `vars`.
    fn render_template_text(
        &mut self,
        function: &str,
        origin: &str,
        text: &str,
        vars: &Expression,
        at: &Expression,
    ) -> EvalResult {
        if self.in_template {
            return Err(self.error(
                at,
                "Invalid function argument",
                format!("{function}() cannot be called from inside a template that templatefile() or templatestring() renders."),
            ));
        }
        let bindings = match self.eval(vars)? {
            Value::Map(vars) => vars,
            Value::Null => Default::default(),
            Value::Unknown => return Ok(Value::Unknown),
            other => {
                return Err(self.error(
                    vars,
                    "Invalid function argument",
                    format!("The variables of {function}() must be an object, like {{ name = \"x\" }}, but this is {}.", other.kind()),
                ));
            }
        };
        if let Some(bad) = bindings.keys().find(|k| !is_identifier(k)) {
            return Err(self.error(
                vars,
                "Invalid function argument",
                format!("\"{bad}\" cannot be a template variable: names start with a letter or underscore and hold letters, digits, underscores and dashes."),
            ));
        }
        let template = hcl_edit::parser::parse_template(text).map_err(|e| {
            self.error(
                at,
                "Invalid template",
                format!(
                    "{origin}, line {}, column {}: {}.",
                    e.location().line(),
                    e.location().column(),
                    e.message()
                ),
            )
        })?;
        let file = SourceText::new(origin, text);
        let scope = VariablesOnly::empty().at_phase(self.scope.phase());
        let mut inner = Evaluator::new(&scope, &file, self.base_dir);
        inner.in_template = true;
        inner.bindings = bindings.into_iter().collect();
        let result = inner.eval_template(&template, TemplateKind::Lines);
        self.sensitive |= inner.sensitive;
        result
    }
}

fn is_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}
