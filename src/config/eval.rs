//! Evaluation of HCL expressions to [`Value`]s, with unknowns and sensitivity.
//!
//! Expressions are kept as parsed by hcl-edit (with byte spans), so every evaluation error
//! points at the exact sub-expression. An unknown operand makes the result unknown; touching
//! a sensitive variable or attribute marks the whole result sensitive.

use std::collections::BTreeMap;
use std::path::Path as FsPath;
use std::sync::Arc;

use braid_functions::{FunctionContext, FunctionError, Phase};
use braid_provider::{NumberError, Path, TfNumber, Value};
use hcl_edit::Span;
use hcl_edit::expr::{
    BinaryOperator, Expression, ForExpr, ObjectKey, TraversalOperator, UnaryOperator,
};

use crate::diag::{Diagnostic, Location, SourceText, closest};

mod calls;
mod template;
mod unify;
mod variables_only;

pub use variables_only::VariablesOnly;

/// A value a scope hands out, with whether it is sensitive.
#[derive(Debug, Clone, PartialEq)]
pub struct ScopeValue {
    /// The value; [`Value::Unknown`] (or containing it) when only known after apply.
    pub value: Value,
    /// True when a sensitive variable, local or resource attribute went into the value, so it must
    /// be masked wherever it is shown.
    pub sensitive: bool,
}

/// A resource's current value (planned, applied or from state) and its sensitive paths.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceValue {
    /// The resource's attributes; unknown where not known yet (planned values during plan).
    pub value: Value,
    /// Paths of `value` that hold sensitive values; an expression that reads one of them, a
    /// part of one, or an object containing one is sensitive.
    pub sensitive_paths: Vec<Path>,
}

/// What names an expression can see.
///
/// Names of a child module instance are looked up with its prefix: `local.x` in
/// `module.net` is the local `module.net.x`, `aws_x.y` the resource `module.net.aws_x.y`.
pub trait Scope {
    /// `var.NAME` in the module instance `module` (a prefix like `module.net.`, empty for the
    /// root module); `None` when no such variable is declared there.
    fn variable(&self, module: &str, name: &str) -> Option<Result<ScopeValue, Diagnostic>>;
    /// `local.NAME`, its name prefixed with its module's; `None` when undeclared.
    fn local(&self, name: &str) -> Option<Result<ScopeValue, Diagnostic>>;
    /// `TYPE.NAME`, prefixed with its module's; `None` when undeclared. Shared, so a lookup
    /// copies nothing.
    fn resource(&self, address: &str) -> Option<Arc<ResourceValue>>;
    /// The environment name (`env.name`).
    fn env_name(&self) -> &str;
    /// True when `address` is a resource with `count` or `for_each`.
    fn is_repeated(&self, _address: &str) -> bool {
        false
    }
    /// The instance at `key` of the `count`/`for_each` resource `address`, when the scope can
    /// find it directly; `None` sends the lookup through [`Scope::resource`].
    fn resource_instance(&self, _address: &str, _key: &Value) -> Option<Arc<ResourceValue>> {
        None
    }
    /// The module call at `address` (`module.net`, prefixed with the caller's module):
    /// `None` when undeclared, else whether it has `count` (list), `for_each` (map) or
    /// neither (one object).
    fn module_call(&self, _address: &str) -> Option<CallShape> {
        None
    }
    /// Output `name` of the module instance at `instance`; `None` when the module declares
    /// no such output (or there is no such instance).
    fn module_output(
        &self,
        _instance: &str,
        _name: &str,
    ) -> Option<Result<ScopeValue, Diagnostic>> {
        None
    }
    /// Whether the module instance at `instance` exists.
    fn has_module_instance(&self, _instance: &str) -> bool {
        false
    }
    /// Every output of the module instance at `instance`, as an object; `None` when there
    /// is no such instance.
    fn module_object(&self, _instance: &str) -> Option<Result<ScopeValue, Diagnostic>> {
        None
    }
    /// Every instance of the module call at `address` (a list for `count`, a map for
    /// `for_each`), each an object of outputs.
    fn module_instances_value(&self, _address: &str) -> Result<ScopeValue, Diagnostic> {
        Ok(ScopeValue {
            value: Value::Unknown,
            sensitive: false,
        })
    }
    /// `path.module` and `path.root` in the module instance `module`, as the relative paths
    /// file functions resolve (`.` for both in the root module).
    fn module_paths(&self, _module: &str) -> (String, String) {
        (".".to_string(), ".".to_string())
    }
    /// Every declared name of a kind in the module instance `module`, without the prefix,
    /// for "did you mean" suggestions.
    fn declared(&self, kind: NameKind, module: &str) -> Vec<String>;
    /// Whether expressions are evaluated to plan or to apply (what `uuid()` and
    /// `timestamp()` return), and the plan's instant (`plantimestamp()`). Planning with this
    /// process's plan time unless the scope says otherwise.
    fn phase(&self) -> (Phase, chrono::DateTime<chrono::Utc>) {
        (Phase::Plan, braid_functions::process_plan_time())
    }
}

/// How a module call's instances are read: `module.NAME` is one object of outputs, a list of
/// them (`count`) or a map (`for_each`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallShape {
    /// No `count` or `for_each`.
    Single,
    /// `count`: `module.NAME[0]`.
    Count,
    /// `for_each`: `module.NAME["key"]`.
    ForEach,
}

/// The kinds of names an expression can reference, for [`Scope::declared`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// Variables, `var.NAME`.
    Variable,
    /// Local values, `local.NAME`.
    Local,
    /// Resources, by address `TYPE.NAME`.
    Resource,
    /// Module calls, `module.NAME`.
    Module,
}

/// The detail of an error in an expression that read a sensitive value.
const SENSITIVE_DETAIL: &str = "This expression uses a sensitive value, so the details of the error are not shown: they could quote the value. Check the types and contents of the sensitive inputs this expression reads (variables marked sensitive, sensitive resource attributes) and the functions and operators applied to them.";

/// Evaluates expressions of one file against a scope.
pub struct Evaluator<'a> {
    scope: &'a dyn Scope,
    /// The module instance the expressions are written in, as a prefix of names
    /// (`module.net.`); empty in the root module.
    module: &'a str,
    file: &'a Arc<SourceText>,
    base_dir: &'a FsPath,
    bindings: Vec<(String, Value)>,
    sensitive: bool,
    env_function: bool,
    /// Added to every span: expressions parsed again from a part of the file (an indented
    /// heredoc, see `template.rs`) have spans relative to that part.
    span_offset: usize,
    /// True while rendering a template of `templatefile()` or `templatestring()`, which
    /// cannot call them again.
    in_template: bool,
}

type EvalResult = Result<Value, Diagnostic>;

impl<'a> Evaluator<'a> {
    /// An evaluator for expressions of `file`, reading names from `scope` and resolving the
    /// relative paths of `file()` and the other file functions against `base_dir`.
    /// `env("NAME")` is refused unless [`Evaluator::with_env_function`] is called.
    pub fn new(scope: &'a dyn Scope, file: &'a Arc<SourceText>, base_dir: &'a FsPath) -> Self {
        Evaluator {
            scope,
            module: "",
            file,
            base_dir,
            bindings: Vec::new(),
            sensitive: false,
            env_function: false,
            span_offset: 0,
            in_template: false,
        }
    }

    /// Allows `env("NAME")`, which reads the process environment. Only the project file may
    /// use it: resource files take outside values through variables, so plans stay
    /// reproducible.
    pub fn with_env_function(mut self) -> Self {
        self.env_function = true;
        self
    }

    /// Reads names in the module instance with prefix `module` (`module.net.`; empty for the
    /// root module): `var.x`, `local.x`, `aws_x.y` and `module.m` are its own.
    pub fn in_module(mut self, module: &'a str) -> Self {
        self.module = module;
        self
    }

    /// Makes `name` (`count`, `each`) refer to `value` in every expression this evaluator
    /// evaluates: the per-instance objects of a `count`/`for_each` resource.
    pub fn with_binding(mut self, name: &str, value: Value) -> Self {
        self.bindings.push((name.to_string(), value));
        self
    }

    /// Evaluates one expression; the flag says whether anything sensitive went into it.
    ///
    /// An error of an expression that read a sensitive value says what went wrong but not
    /// its details, which could quote the value or a part of it (`tonumber`, `+`,
    /// `base64decode` and most functions name the argument they could not use).
    pub fn evaluate(&mut self, expr: &Expression) -> Result<ScopeValue, Diagnostic> {
        self.sensitive = false;
        let value = self.eval(expr).map_err(|mut d| {
            if self.sensitive {
                d.detail = SENSITIVE_DETAIL.to_string();
            }
            d
        })?;
        Ok(ScopeValue {
            value,
            sensitive: self.sensitive,
        })
    }

    /// [`Evaluator::evaluate`] for a value that will be stored (a resource argument, an
    /// output): an infinite number (`1 / 0`) is refused here, since state, plans and providers
    /// hold JSON numbers, which are finite. Terraform fails later, when it writes its state.
    pub fn evaluate_storable(&mut self, expr: &Expression) -> Result<ScopeValue, Diagnostic> {
        let value = self.evaluate(expr)?;
        if let Some((path, number)) = value.value.infinite_number() {
            let at = if path.0.is_empty() {
                String::new()
            } else {
                format!(" at {path}")
            };
            return Err(self.error(
                expr,
                "Infinite number",
                format!(
                    "The value is {number}{at} (a division by zero?). State, plans and providers hold JSON numbers, which are finite: make the expression give a finite number, or null."
                ),
            ));
        }
        Ok(value)
    }

    fn location(&self, expr: &impl Span) -> Location {
        let span = expr.span().unwrap_or(0..0);
        self.file
            .location(span.start + self.span_offset..span.end + self.span_offset)
    }

    fn error(&self, at: &impl Span, summary: &str, detail: impl Into<String>) -> Diagnostic {
        Diagnostic::error(summary, detail).at(self.location(at))
    }

    fn eval(&mut self, expr: &Expression) -> EvalResult {
        match expr {
            Expression::Null(_) => Ok(Value::Null),
            Expression::Bool(b) => Ok(Value::Bool(*b.value())),
            Expression::Number(n) => Ok(number_literal(n)),
            // Terraform's parser normalizes string literals to Unicode NFC.
            Expression::String(s) => Ok(Value::String(nfc(s.value()))),
            Expression::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items.iter() {
                    out.push(self.eval(item)?);
                }
                Ok(Value::List(out))
            }
            Expression::Object(object) => {
                let mut out = BTreeMap::new();
                for (key, value) in object.iter() {
                    let key_text = match key {
                        ObjectKey::Ident(ident) => ident.value().to_string(),
                        // A bare `null` key is the name "null", as `true` is "true".
                        ObjectKey::Expression(Expression::Null(_)) => "null".to_string(),
                        ObjectKey::Expression(key_expr) => match self.eval(key_expr)? {
                            Value::Unknown => return Ok(Value::Unknown),
                            other => self.to_template_string(key_expr, other)?,
                        },
                    };
                    let item = self.eval(value.expr())?;
                    out.insert(key_text, item);
                }
                Ok(Value::Map(out.into()))
            }
            Expression::StringTemplate(template) => {
                self.eval_template(template, template::TemplateKind::Quoted)
            }
            Expression::HeredocTemplate(heredoc) => self.eval_heredoc(heredoc, expr),
            Expression::Parenthesis(inner) => self.eval(inner.inner()),
            Expression::Variable(ident) => self.eval_root(ident.value().as_str(), expr),
            Expression::Conditional(cond) => {
                let test = self.eval(&cond.cond_expr)?;
                match test {
                    Value::Unknown => {
                        // Both results are still checked for errors, and for a common type.
                        let when_true = self.eval(&cond.true_expr)?;
                        let when_false = self.eval(&cond.false_expr)?;
                        unify::conditional_result(when_true, Some(&when_false), true)
                            .map_err(|why| self.inconsistent_conditional(expr, &why))?;
                        Ok(Value::Unknown)
                    }
                    Value::Bool(choice) => {
                        let (chosen, other) = if choice {
                            (&cond.true_expr, &cond.false_expr)
                        } else {
                            (&cond.false_expr, &cond.true_expr)
                        };
                        let value = self.eval(chosen)?;
                        // The other result only lends its type; what it reads does not make
                        // the result sensitive, and its errors are not reported.
                        let before = self.sensitive;
                        let other = self.eval(other).ok();
                        self.sensitive = before;
                        unify::conditional_result(value, other.as_ref(), choice)
                            .map_err(|why| self.inconsistent_conditional(expr, &why))
                    }
                    other => Err(self.error(
                        &cond.cond_expr,
                        "Invalid condition",
                        format!(
                            "The condition of a conditional expression must be a bool, but this one is {}.",
                            other.kind()
                        ),
                    )),
                }
            }
            Expression::FuncCall(call) => {
                if let Some(result) = self.eval_evaluator_function(call, expr) {
                    return result;
                }
                let name = call.name.name.value().as_str();
                let mut args = Vec::with_capacity(call.args.len());
                for arg in call.args.iter() {
                    args.push(self.eval(arg)?);
                }
                if call.args.expand_final() {
                    match args.pop() {
                        Some(Value::List(rest)) => args.extend(rest),
                        Some(Value::Unknown) => return Ok(Value::Unknown),
                        _ => {
                            return Err(self.error(
                                expr,
                                "Invalid expanding argument",
                                "The argument before \"...\" must be a list.",
                            ));
                        }
                    }
                }
                if name == "env" && self.env_function {
                    return match args.as_slice() {
                        [Value::String(var)] => {
                            Ok(std::env::var(var).map_or(Value::Null, Value::String))
                        }
                        _ => Err(self.error(
                            expr,
                            "Invalid function argument",
                            "env() takes one string: the name of an environment variable.",
                        )),
                    };
                }
                if name == "sops_decrypt" {
                    return self.sops_decrypt(args, expr);
                }
                self.call_function(name, args)
                    .map_err(|e| self.function_error(expr, e))
            }
            Expression::Traversal(traversal) => {
                let mut operators = traversal.operators.iter().map(|op| op.value()).peekable();
                let base = match &traversal.expr {
                    Expression::Variable(root) => {
                        let root = root.value().as_str();
                        self.eval_reference(root, &mut operators, expr)?
                    }
                    other => self.eval(other)?,
                };
                let rest: Vec<&TraversalOperator> = operators.collect();
                self.traverse(base, &rest, expr)
            }
            Expression::UnaryOp(op) => {
                let value = self.eval(&op.expr)?;
                match (op.operator.value(), value) {
                    (_, Value::Unknown) => Ok(Value::Unknown),
                    (UnaryOperator::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
                    (UnaryOperator::Neg, v) => {
                        let n = self.number(&op.expr, &v)?;
                        Ok(Value::Number(n.neg()))
                    }
                    (UnaryOperator::Not, other) => Err(self.error(
                        &op.expr,
                        "Invalid operand",
                        format!("The ! operator needs a bool, but this is {}.", other.kind()),
                    )),
                }
            }
            Expression::BinaryOp(op) => {
                let lhs = self.eval(&op.lhs_expr)?;
                let rhs = self.eval(&op.rhs_expr)?;
                self.binary(*op.operator.value(), lhs, rhs, &op.lhs_expr, &op.rhs_expr)
            }
            Expression::ForExpr(for_expr) => self.eval_for(for_expr),
        }
    }

    fn inconsistent_conditional(&self, at: &Expression, why: &str) -> Diagnostic {
        self.error(
            at,
            "Inconsistent conditional result types",
            format!("The true and false results of a conditional must have consistent types, but {why}. Convert one of them (tostring(), tolist(), ...) so both have the same type."),
        )
    }

    /// Calls a function of `braid_functions` with evaluated arguments.
    fn call_function(&self, name: &str, args: Vec<Value>) -> Result<Value, FunctionError> {
        // Files are evaluated relative to the root of their source
        // (`SourceFile::dir`), which is also what file functions are confined to.
        // While planning, impure functions such as `uuid()` are unknown; applying
        // gives them values. `plantimestamp()` is the plan's instant in both.
        let (phase, plan_time) = self.scope.phase();
        let ctx = FunctionContext {
            base_dir: self.base_dir,
            source_root: self.base_dir,
            phase,
            plan_time,
        };
        braid_functions::call(&ctx, name, args)
    }

    /// `sops_decrypt(path)`: the file (read as `file()` reads it, inside the source)
    /// decrypted with SOPS, as a sensitive string (docs/secrets.md). Its format comes from
    /// its name: `.json`, `.env`, else YAML.
    fn sops_decrypt(&mut self, args: Vec<Value>, at: &Expression) -> EvalResult {
        let path = match args.as_slice() {
            [Value::Unknown] => return Ok(Value::Unknown),
            [Value::String(path)] => path.clone(),
            _ => {
                return Err(self.error(
                    at,
                    "Invalid function argument",
                    "sops_decrypt() takes one string: the path of a SOPS-encrypted file of the source.",
                ));
            }
        };
        let text = match self.call_function("file", vec![Value::String(path.clone())]) {
            Ok(Value::String(text)) => text,
            Ok(_) => return Ok(Value::Unknown),
            Err(error) => {
                let error = match error {
                    FunctionError::Argument { index, message, .. } => FunctionError::Argument {
                        name: "sops_decrypt".to_string(),
                        index,
                        message,
                    },
                    FunctionError::Failed { message, .. } => FunctionError::Failed {
                        name: "sops_decrypt".to_string(),
                        message,
                    },
                    other => other,
                };
                return Err(self.function_error(at, error));
            }
        };
        let format = braid_sops::Format::from_path(std::path::Path::new(&path));
        self.sensitive = true;
        braid_sops::decrypt_blocking(&text, format)
            .map(|decrypted| Value::String(decrypted.text))
            .map_err(|e| {
                self.error(
                    at,
                    "Cannot decrypt SOPS file",
                    format!(
                        "sops_decrypt(\"{path}\"): {e}. Give braid one of the file's keys: an age identity in SOPS_AGE_KEY_FILE or SOPS_AGE_KEY, the PGP secret key in gpg's keyring (GNUPGHOME), or AWS credentials allowed to use its KMS key."
                    ),
                )
            })
    }

    fn function_error(&self, at: &Expression, error: FunctionError) -> Diagnostic {
        let (summary, detail) = crate::diag::function_error(&error);
        self.error(at, summary, detail)
    }

    /// A bare name: a for-expression binding, or a root that needs an attribute after it.
    fn eval_root(&mut self, name: &str, at: &Expression) -> EvalResult {
        if let Some((_, value)) = self.bindings.iter().rev().find(|(n, _)| n == name) {
            return Ok(value.clone());
        }
        match name {
            "env" => Ok(Value::map([("name", Value::from(self.scope.env_name()))])),
            "var" | "local" => Ok(self.namespace_object(name)),
            _ => Err(self.error(
                at,
                "Invalid reference",
                format!(
                    "\"{name}\" is not something an expression can refer to. References look like var.NAME, local.NAME, env.name or TYPE.NAME.ATTRIBUTE for a resource."
                ),
            )),
        }
    }

    /// `var` or `local` used as a whole object (rare; e.g. `keys(var)` is not valid HCL but
    /// `var` alone in a for-expression collection might be attempted).
    fn namespace_object(&self, name: &str) -> Value {
        let kind = if name == "var" {
            NameKind::Variable
        } else {
            NameKind::Local
        };
        let mut out = BTreeMap::new();
        for declared in self.scope.declared(kind, self.module) {
            let value = match kind {
                NameKind::Variable => self
                    .scope
                    .variable(self.module, &declared)
                    .and_then(Result::ok)
                    .map(|v| v.value),
                _ => self
                    .scope
                    .local(&format!("{}{declared}", self.module))
                    .and_then(Result::ok)
                    .map(|v| v.value),
            };
            out.insert(declared, value.unwrap_or(Value::Unknown));
        }
        Value::Map(out.into())
    }

    /// Resolves `var.x`, `local.x`, `env.name` or `TYPE.NAME`, consuming the operators that
    /// belong to the reference itself.
    fn eval_reference<'o, I>(
        &mut self,
        root: &str,
        operators: &mut std::iter::Peekable<I>,
        at: &Expression,
    ) -> EvalResult
    where
        I: Iterator<Item = &'o TraversalOperator>,
    {
        if self.bindings.iter().any(|(n, _)| n == root) || root == "env" {
            return self.eval_root(root, at);
        }
        let Some(TraversalOperator::GetAttr(name)) = operators.peek().copied() else {
            return self.eval_root(root, at);
        };
        let name = name.value().as_str();
        operators.next();
        match root {
            "path" => match name {
                // Relative paths resolve against the root module's directory, as Terraform
                // resolves them against its working directory (see `eval/modules.rs`).
                "module" => Ok(Value::from(self.scope.module_paths(self.module).0)),
                "root" => Ok(Value::from(self.scope.module_paths(self.module).1)),
                "cwd" => Ok(Value::from(self.base_dir.display().to_string())),
                _ => Err(self.error(
                    at,
                    "Invalid \"path\" attribute",
                    format!("The \"path\" object has no attribute \"{name}\": use path.module, path.root or path.cwd."),
                )),
            },
            "terraform" => match name {
                // braid's environments play the part of Terraform's workspaces.
                "workspace" => Ok(Value::from(self.scope.env_name())),
                _ => Err(self.error(
                    at,
                    "Invalid \"terraform\" attribute",
                    format!("The \"terraform\" object has no attribute \"{name}\": only terraform.workspace (the environment's name) can be read."),
                )),
            },
            "var" => match self.scope.variable(self.module, name) {
                Some(result) => {
                    let v = result?;
                    self.sensitive |= v.sensitive;
                    Ok(v.value)
                }
                None => Err(self.undeclared(at, NameKind::Variable, name)),
            },
            "local" => match self.scope.local(&self.prefixed(name)) {
                Some(result) => {
                    let v = result?;
                    self.sensitive |= v.sensitive;
                    Ok(v.value)
                }
                None => Err(self.undeclared(at, NameKind::Local, name)),
            },
            "module" => self.eval_module_reference(name, operators, at),
            // Bound by count/for_each where they are set (see `with_binding`).
            "count" => Err(self.error(
                at,
                "Reference to \"count\" in non-counted context",
                "The \"count\" object can only be used in module, resource and data blocks, and only when the \"count\" argument is set.",
            )),
            "each" => Err(self.error(
                at,
                "Reference to \"each\" in context without for_each",
                "The \"each\" object can only be used in module, resource and data blocks, and only when the \"for_each\" argument is set.",
            )),
            type_name => {
                let address = match (type_name, operators.peek().copied()) {
                    ("data", Some(TraversalOperator::GetAttr(data_name))) => {
                        let address = format!("{}data.{name}.{}", self.module, data_name.value());
                        operators.next();
                        address
                    }
                    _ => format!("{}{type_name}.{name}", self.module),
                };
                // One instance of a count/for_each resource, looked up directly: building
                // the whole collection for every `aws_x.y[each.key]` would make a
                // configuration of n instances cost n² to evaluate.
                let mut instance = None;
                if let Some(TraversalOperator::Index(index)) = operators.peek().copied()
                    && self.scope.is_repeated(&address)
                {
                    let key = self.eval(index)?;
                    if let Some(found) = self.scope.resource_instance(&address, &key) {
                        operators.next();
                        instance = Some(found);
                    }
                }
                let resource = match instance {
                    Some(found) => found,
                    None => match self.scope.resource(&address) {
                        Some(resource) => resource,
                        None => return Err(self.undeclared(at, NameKind::Resource, &address)),
                    },
                };
                // The attribute path actually used decides sensitivity: `x.id` is not
                // sensitive just because `x.password` is. Only the value reached is copied.
                let mut used = Path::root();
                let mut current: &Value = &resource.value;
                while let Some(TraversalOperator::GetAttr(attr)) = operators.peek().copied() {
                    let attr = attr.value().as_str();
                    match current {
                        Value::Unknown => {
                            used = used.child_key(attr);
                            operators.next();
                        }
                        Value::Map(map) => {
                            let Some(next) = map.get(attr) else {
                                return Err(self.error(
                                    at,
                                    "Unsupported attribute",
                                    format!(
                                        "{address} has no attribute \"{attr}\".{}",
                                        closest(attr, map.keys().map(String::as_str))
                                            .map(|c| format!(" Did you mean \"{c}\"?"))
                                            .unwrap_or_default()
                                    ),
                                ));
                            };
                            used = used.child_key(attr);
                            operators.next();
                            current = next;
                        }
                        _ => break,
                    }
                }
                let value = current.clone();
                if resource
                    .sensitive_paths
                    .iter()
                    .any(|p| used.starts_with(p) || p.starts_with(&used))
                {
                    self.sensitive = true;
                }
                Ok(value)
            }
        }
    }

    /// `name` with the module prefix of this evaluator.
    fn prefixed<'n>(&self, name: &'n str) -> std::borrow::Cow<'n, str> {
        if self.module.is_empty() {
            std::borrow::Cow::Borrowed(name)
        } else {
            std::borrow::Cow::Owned(format!("{}{name}", self.module))
        }
    }

    /// ` in module.net` for names of a child module, nothing in the root module.
    fn module_phrase(&self) -> String {
        match self.module.strip_suffix('.') {
            Some(instance) => format!(" in {instance}"),
            None => String::new(),
        }
    }

    /// `module.NAME`, `module.NAME.OUTPUT`, `module.NAME[KEY].OUTPUT`: one output is
    /// evaluated on its own, so reading `module.net.vpc_id` does not evaluate every output.
    fn eval_module_reference<'o, I>(
        &mut self,
        name: &str,
        operators: &mut std::iter::Peekable<I>,
        at: &Expression,
    ) -> EvalResult
    where
        I: Iterator<Item = &'o TraversalOperator>,
    {
        let call = format!("{}module.{name}", self.module);
        let Some(shape) = self.scope.module_call(&call) else {
            return Err(self.undeclared(at, NameKind::Module, name));
        };
        let instance = match shape {
            CallShape::Single => Some(call.clone()),
            CallShape::Count | CallShape::ForEach => match operators.peek().copied() {
                Some(TraversalOperator::Index(index)) => {
                    let key = self.eval(index)?;
                    let key = match (&key, shape) {
                        (Value::Unknown, _) => return Ok(Value::Unknown),
                        (Value::String(k), CallShape::ForEach) => {
                            crate::config::InstanceKey::Key(k.clone())
                        }
                        (Value::Number(n), CallShape::Count) => {
                            match n.to_u64().and_then(|i| usize::try_from(i).ok()) {
                                Some(i) => crate::config::InstanceKey::Index(i),
                                _ => return Err(self.error(
                                    at,
                                    "Invalid index",
                                    "A module instance index must be a whole number, zero or more.",
                                )),
                            }
                        }
                        _ => {
                            return Err(self.error(
                                at,
                                "Invalid index",
                                if shape == CallShape::Count {
                                    "This module call uses count: its instances are indexed by number, like module.NAME[0]."
                                } else {
                                    "This module call uses for_each: its instances are indexed by key string, like module.NAME[\"key\"]."
                                },
                            ));
                        }
                    };
                    let address = format!("{call}{key}");
                    if !self.scope.has_module_instance(&address) {
                        return Err(self.error(
                            at,
                            "Invalid index",
                            format!(
                                "The module call {} has no instance {key}.",
                                call.strip_prefix(self.module).unwrap_or(&call)
                            ),
                        ));
                    }
                    operators.next();
                    Some(address)
                }
                _ => None,
            },
        };
        let Some(instance) = instance else {
            let v = self.scope.module_instances_value(&call)?;
            self.sensitive |= v.sensitive;
            return Ok(v.value);
        };
        let result = match operators.peek().copied() {
            Some(TraversalOperator::GetAttr(output)) => {
                let output = output.value().as_str();
                match self.scope.module_output(&instance, output) {
                    Some(result) => {
                        operators.next();
                        result
                    }
                    None => {
                        return Err(self.error(
                            at,
                            "Unsupported attribute",
                            format!(
                                "This object does not have an attribute named \"{output}\": the module {} declares no output \"{output}\".",
                                instance.strip_prefix(self.module).unwrap_or(&instance)
                            ),
                        ));
                    }
                }
            }
            _ => match self.scope.module_object(&instance) {
                Some(result) => result,
                None => return Ok(Value::Unknown),
            },
        };
        let v = result?;
        self.sensitive |= v.sensitive;
        Ok(v.value)
    }

    fn undeclared(&self, at: &Expression, kind: NameKind, name: &str) -> Diagnostic {
        let name = name.strip_prefix(self.module).unwrap_or(name);
        let declared = self.scope.declared(kind, self.module);
        let suggestion = closest(name, declared.iter().map(String::as_str))
            .map(|c| match kind {
                NameKind::Variable => format!(" Did you mean var.{c}?"),
                NameKind::Local => format!(" Did you mean local.{c}?"),
                NameKind::Resource => format!(" Did you mean {c}?"),
                NameKind::Module => format!(" Did you mean module.{c}?"),
            })
            .unwrap_or_default();
        let (summary, what) = match kind {
            NameKind::Variable => (
                "Reference to undeclared input variable",
                format!("No variable \"{name}\" is declared."),
            ),
            NameKind::Local => (
                "Reference to undeclared local value",
                format!("No local value \"{name}\" is declared in a locals block."),
            ),
            NameKind::Resource => (
                "Reference to undeclared resource",
                format!("No resource {name} is declared{}.", self.module_phrase()),
            ),
            NameKind::Module => (
                "Reference to undeclared module",
                format!(
                    "No module call named \"{name}\" is declared{}.",
                    self.module_phrase()
                ),
            ),
        };
        self.error(at, summary, format!("{what}{suggestion}"))
    }

    fn traverse(
        &mut self,
        mut value: Value,
        ops: &[&TraversalOperator],
        at: &Expression,
    ) -> EvalResult {
        for (i, op) in ops.iter().enumerate() {
            if value.is_unknown() {
                return Ok(Value::Unknown);
            }
            value = match op {
                TraversalOperator::GetAttr(attr) => {
                    let attr = attr.value().as_str();
                    match value {
                        Value::Map(mut map) => map.remove(attr).ok_or_else(|| {
                            self.error(
                                at,
                                "Unsupported attribute",
                                format!("This object has no attribute \"{attr}\"."),
                            )
                        })?,
                        other => {
                            return Err(self.error(
                                at,
                                "Unsupported attribute",
                                format!(
                                    "Cannot read attribute \"{attr}\" of a {} value.",
                                    other.kind()
                                ),
                            ));
                        }
                    }
                }
                TraversalOperator::Index(index_expr) => {
                    let index = self.eval(index_expr)?;
                    self.index(value, index, index_expr)?
                }
                TraversalOperator::LegacyIndex(n) => {
                    let index = Value::from_i64(i64::try_from(*n.value()).unwrap_or(i64::MAX));
                    self.index(value, index, at)?
                }
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    let rest = &ops[i + 1..];
                    // A full splat `[*]` applies everything after it to each element; the
                    // legacy `.*` only the attribute accesses right after it, and what
                    // follows to the list they make (`x.*.a[0]` is the first `a`).
                    let per_element = match op {
                        TraversalOperator::AttrSplat(_) => rest
                            .iter()
                            .take_while(|op| {
                                matches!(
                                    op,
                                    TraversalOperator::GetAttr(_)
                                        | TraversalOperator::LegacyIndex(_)
                                )
                            })
                            .count(),
                        _ => rest.len(),
                    };
                    let items = match value {
                        Value::List(items) => items,
                        Value::Null => Vec::new(),
                        single => vec![single],
                    };
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(self.traverse(item, &rest[..per_element], at)?);
                    }
                    return self.traverse(Value::List(out), &rest[per_element..], at);
                }
            };
        }
        Ok(value)
    }

    fn index(&self, value: Value, index: Value, at: &impl Span) -> EvalResult {
        match (value, index) {
            (_, Value::Unknown) | (Value::Unknown, _) => Ok(Value::Unknown),
            (Value::List(items), index) => {
                let len = items.len();
                let i = index
                    .as_i64()
                    .or_else(|| index.as_str().and_then(|s| s.parse().ok()));
                match i {
                    Some(i) if i >= 0 && usize::try_from(i).is_ok_and(|i| i < len) => Ok(items
                        .into_iter()
                        .nth(usize::try_from(i).unwrap_or(0))
                        .unwrap_or_default()),
                    Some(i) => Err(self.error(
                        at,
                        "Invalid index",
                        format!("Index {i} is out of range for a list of {len} element(s)."),
                    )),
                    None => {
                        Err(self.error(at, "Invalid index", "A list index must be a whole number."))
                    }
                }
            }
            (Value::Map(mut map), Value::String(key)) => map.remove(&key).ok_or_else(|| {
                self.error(
                    at,
                    "Invalid index",
                    format!("The map has no element \"{key}\"."),
                )
            }),
            (Value::Map(mut map), key @ (Value::Number(_) | Value::Bool(_))) => {
                let key = key.to_json().to_string();
                map.remove(&key).ok_or_else(|| {
                    self.error(
                        at,
                        "Invalid index",
                        format!("The map has no element \"{key}\"."),
                    )
                })
            }
            (value, _) => Err(self.error(
                at,
                "Invalid index",
                format!("A {} value cannot be indexed.", value.kind()),
            )),
        }
    }

    fn bind(&mut self, key_var: Option<&str>, value_var: &str, key: Value, value: Value) -> usize {
        let mut pushed = 1;
        if let Some(k) = key_var {
            self.bindings.push((k.to_string(), key));
            pushed += 1;
        }
        self.bindings.push((value_var.to_string(), value));
        pushed
    }

    /// Pairs of (key or index, element) of a collection; `None` when it is unknown.
    fn iterate(
        &self,
        collection: Value,
        at: &Expression,
    ) -> Result<Option<Vec<(Value, Value)>>, Diagnostic> {
        match collection {
            Value::Unknown => Ok(None),
            Value::List(items) => Ok(Some(
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (Value::from_i64(i64::try_from(i).unwrap_or(i64::MAX)), v))
                    .collect(),
            )),
            Value::Map(map) => Ok(Some(
                map.into_iter()
                    .map(|(k, v)| (Value::String(k), v))
                    .collect(),
            )),
            Value::Null => Ok(Some(Vec::new())),
            other => Err(self.error(
                at,
                "Iteration over non-iterable value",
                format!(
                    "A for expression needs a list or an object, but this is {}.",
                    other.kind()
                ),
            )),
        }
    }

    fn eval_for(&mut self, for_expr: &ForExpr) -> EvalResult {
        let intro = &for_expr.intro;
        let collection = self.eval(&intro.collection_expr)?;
        let Some(pairs) = self.iterate(collection, &intro.collection_expr)? else {
            return Ok(Value::Unknown);
        };
        let key_var = intro.key_var.as_ref().map(|k| k.value().as_str());
        let value_var = intro.value_var.value().as_str();
        let mut list = Vec::new();
        let mut map: BTreeMap<String, Value> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut unknown = false;
        for (key, value) in pairs {
            let pushed = self.bind(key_var, value_var, key, value);
            let result = self.for_element(for_expr);
            self.bindings.truncate(self.bindings.len() - pushed);
            let Some((key, value)) = result? else {
                continue;
            };
            match (&for_expr.key_expr, key) {
                (None, _) => list.push(value),
                (Some(_), Value::Unknown) => unknown = true,
                (Some(key_expr), key) => {
                    let key = self.to_template_string(key_expr, key)?;
                    if for_expr.grouping {
                        groups.entry(key).or_default().push(value);
                    } else {
                        match map.entry(key) {
                            std::collections::btree_map::Entry::Occupied(taken) => {
                                return Err(self.error(
                                    key_expr,
                                    "Duplicate object key",
                                    format!("Two elements produce the key \"{}\". Add \"...\" after the value expression to group them into lists.", taken.key()),
                                ));
                            }
                            std::collections::btree_map::Entry::Vacant(slot) => {
                                slot.insert(value);
                            }
                        }
                    }
                }
            }
        }
        if unknown {
            return Ok(Value::Unknown);
        }
        Ok(match for_expr.key_expr {
            None => Value::List(list),
            Some(_) if for_expr.grouping => Value::Map(
                groups
                    .into_iter()
                    .map(|(k, v)| (k, Value::List(v)))
                    .collect(),
            ),
            Some(_) => Value::Map(map.into()),
        })
    }

    /// One element of a for-expression: `None` when its `if` clause filters it out.
    fn for_element(&mut self, for_expr: &ForExpr) -> Result<Option<(Value, Value)>, Diagnostic> {
        if let Some(cond) = &for_expr.cond {
            match self.eval(&cond.expr)? {
                Value::Bool(true) | Value::Unknown => {}
                Value::Bool(false) => return Ok(None),
                other => {
                    return Err(self.error(
                        &cond.expr,
                        "Invalid condition",
                        format!(
                            "The if clause of a for expression must be a bool, not {}.",
                            other.kind()
                        ),
                    ));
                }
            }
        }
        let key = match &for_expr.key_expr {
            Some(k) => self.eval(k)?,
            None => Value::Null,
        };
        let value = self.eval(&for_expr.value_expr)?;
        Ok(Some((key, value)))
    }

    fn to_template_string(&self, at: &Expression, value: Value) -> Result<String, Diagnostic> {
        match value {
            Value::String(s) => Ok(s),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Null => Err(self.error(
                at,
                "Invalid template interpolation value",
                "The value is null, which cannot be turned into a string. Use coalesce() to give a default.",
            )),
            other => Err(self.error(
                at,
                "Invalid template interpolation value",
                format!("A {} cannot be turned into a string. Use jsonencode() or join() to render it.", other.kind()),
            )),
        }
    }

    fn number(&self, at: &Expression, value: &Value) -> Result<TfNumber, Diagnostic> {
        match value {
            Value::Number(n) => Ok(n.clone()),
            // A string converts as `tonumber` converts it: decimal text, nothing around it.
            Value::String(s) => TfNumber::parse(s).map_err(|_| {
                self.error(at, "Invalid operand", format!("\"{s}\" is not a number."))
            }),
            other => Err(self.error(
                at,
                "Invalid operand",
                format!(
                    "An arithmetic operator needs a number, but this is {}.",
                    other.kind()
                ),
            )),
        }
    }

    fn binary(
        &self,
        op: BinaryOperator,
        lhs: Value,
        rhs: Value,
        lhs_expr: &Expression,
        rhs_expr: &Expression,
    ) -> EvalResult {
        if lhs.is_unknown() || rhs.is_unknown() {
            return Ok(Value::Unknown);
        }
        match op {
            BinaryOperator::Eq => Ok(Value::Bool(values_equal(&lhs, &rhs))),
            BinaryOperator::NotEq => Ok(Value::Bool(!values_equal(&lhs, &rhs))),
            BinaryOperator::And | BinaryOperator::Or => {
                let (Some(a), Some(b)) = (lhs.as_bool(), rhs.as_bool()) else {
                    let culprit = if lhs.as_bool().is_none() {
                        lhs_expr
                    } else {
                        rhs_expr
                    };
                    return Err(self.error(
                        culprit,
                        "Invalid operand",
                        "The && and || operators need bool operands.",
                    ));
                };
                Ok(Value::Bool(if op == BinaryOperator::And {
                    a && b
                } else {
                    a || b
                }))
            }
            BinaryOperator::Plus
            | BinaryOperator::Minus
            | BinaryOperator::Mul
            | BinaryOperator::Div
            | BinaryOperator::Mod
            | BinaryOperator::Less
            | BinaryOperator::LessEq
            | BinaryOperator::Greater
            | BinaryOperator::GreaterEq => {
                let a = self.number(lhs_expr, &lhs)?;
                let b = self.number(rhs_expr, &rhs)?;
                let result = match op {
                    BinaryOperator::Plus => a.add(&b),
                    BinaryOperator::Minus => a.sub(&b),
                    BinaryOperator::Mul => a.mul(&b),
                    // `1 / 0` is `+Inf`, as in Terraform; `%` by zero gives the dividend.
                    BinaryOperator::Div => a.div(&b),
                    BinaryOperator::Mod => a.rem(&b),
                    BinaryOperator::Less => return Ok(Value::Bool(a.cmp_value(&b).is_lt())),
                    BinaryOperator::LessEq => return Ok(Value::Bool(a.cmp_value(&b).is_le())),
                    BinaryOperator::Greater => return Ok(Value::Bool(a.cmp_value(&b).is_gt())),
                    _ => return Ok(Value::Bool(a.cmp_value(&b).is_ge())),
                };
                result.map(Value::Number).map_err(|e| {
                    let at = if matches!(e, NumberError::ModuloInfinity) {
                        lhs_expr
                    } else {
                        rhs_expr
                    };
                    self.error(
                        at,
                        "Operation failed",
                        format!("Error during operation: {e}."),
                    )
                })
            }
        }
    }
}

/// Numbers compare by value (`1 == 1.0`); everything else structurally.
fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.equals(y),
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| values_equal(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && values_equal(va, vb))
        }
        _ => a == b,
    }
}

/// `text` in Unicode Normalization Form C, as Terraform's parser gives string literals.
pub(crate) fn nfc(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    if unicode_normalization::is_nfc_quick(text.chars()) == unicode_normalization::IsNormalized::Yes
    {
        text.to_string()
    } else {
        text.nfc().collect()
    }
}

/// A number literal as Terraform reads it: its decimal text at 512 bits, so `0.1` is exactly
/// the `0.1` that `tonumber("0.1")` gives and a 30-digit integer keeps its digits.
fn number_literal(n: &hcl_edit::Formatted<hcl_edit::Number>) -> Value {
    if let Some(repr) = n.as_repr() {
        let text: &str = repr;
        // `- 5` is one literal to hcl-edit; the number's text has no space.
        let parsed = if text.contains(char::is_whitespace) {
            TfNumber::parse(
                &text
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect::<String>(),
            )
        } else {
            TfNumber::parse(text)
        };
        if let Ok(parsed) = parsed {
            return Value::Number(parsed);
        }
    }
    // A literal built in code (no source text): its `u64`, `i64` or shortest `f64` text.
    let value = n.value();
    let parsed = if let Some(i) = value.as_i64() {
        Some(TfNumber::parsed_i64(i))
    } else if let Some(u) = value.as_u64() {
        TfNumber::parse(&u.to_string()).ok()
    } else {
        value
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map(|f| TfNumber::from_json_number(&f))
    };
    parsed.map_or(Value::Null, Value::Number)
}
