//! Executing parsed templates with Go `text/template` semantics: dot and variables, field
//! chains on maps and structs (a missing key is nil, as Helm's `missingkey=zero` makes it),
//! method calls (`.Files.Get`), pipelines passing their value as the last argument,
//! short-circuit `and`/`or`, `if`/`with`/`range` (lists, maps in key order, integers) with
//! `break`/`continue`, and `template`/`include`/`tpl` calls into the shared template set.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::parse::{Arg, Branch, Command, Node, Number, Pipe, Tree, parse};
use crate::funcs::{self, FuncError};
use crate::value::{Map, ObjectKind, Value};

/// How deep `include`/`template` calls may nest (Helm stops recursion at 1000).
const MAX_DEPTH: usize = 1000;

/// An execution failure, with Go's location and context (boxed: errors are rare, results
/// common).
#[derive(Debug, Clone, PartialEq)]
pub struct ExecError(Box<ExecErrorDetail>);

/// What an [`ExecError`] holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecErrorDetail {
    /// `file:line:col` of the failing node.
    pub location: String,
    /// The template being executed.
    pub name: String,
    /// The failing node's text (`.Values.a.b`).
    pub context: String,
    /// What failed (`nil pointer evaluating interface {}.b`).
    pub message: String,
    /// The message of a `fail`/`required` call, which Helm shows alone.
    pub user_message: Option<String>,
    /// The error a failed call returned, which Go wraps (`error calling include: %w`).
    pub cause: Option<Box<Cause>>,
}

impl ExecError {
    fn new(location: String, name: String, context: String, message: String) -> ExecError {
        ExecError(Box::new(ExecErrorDetail {
            location,
            name,
            context,
            message,
            user_message: None,
            cause: None,
        }))
    }
}

impl std::ops::Deref for ExecError {
    type Target = ExecErrorDetail;
    fn deref(&self) -> &ExecErrorDetail {
        &self.0
    }
}

impl std::ops::DerefMut for ExecError {
    fn deref_mut(&mut self) -> &mut ExecErrorDetail {
        &mut self.0
    }
}

impl std::fmt::Display for ExecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "template: {}: executing \"{}\" at <{}>: {}",
            self.location, self.name, self.context, self.message
        )
    }
}

/// An error wrapped by an execution error.
#[derive(Debug, Clone, PartialEq)]
pub enum Cause {
    /// A nested execution's error (`include`).
    Exec(ExecError),
    /// Any other error, by its text.
    Text(String),
}

impl ExecError {
    /// The texts of the error and of every error it wraps, outermost first (Go's
    /// `errors.Unwrap` chain as Helm walks it).
    pub fn chain(&self) -> Vec<String> {
        let mut chain = vec![self.to_string()];
        match self.cause.as_deref() {
            Some(Cause::Exec(inner)) => chain.extend(inner.chain()),
            Some(Cause::Text(text)) => chain.push(text.clone()),
            None => {}
        }
        chain
    }
}

/// The set of templates of one render: every file's body and every `define`, by name.
#[derive(Default)]
pub struct TemplateSet {
    trees: RefCell<HashMap<String, Rc<Tree>>>,
    /// Nodes walked so far in this set, against [`MAX_STEPS`].
    steps: std::cell::Cell<u64>,
}

/// How many template nodes one render may walk: charts of thousands of objects walk a few
/// million; a template looping without end (`range 1000000000`) stops here with an error.
const MAX_STEPS: u64 = 50_000_000;

std::thread_local! {
    /// The step budget of renders on this thread ([`MAX_STEPS`] unless lowered).
    static STEP_BUDGET: std::cell::Cell<u64> = const { std::cell::Cell::new(MAX_STEPS) };
}

/// Runs `f` with renders on this thread limited to `steps` template steps (a fuzzer keeps
/// each input quick this way; braid itself uses the default).
pub fn with_step_budget<T>(steps: u64, f: impl FnOnce() -> T) -> T {
    let before = STEP_BUDGET.with(|b| b.replace(steps));
    let result = f();
    STEP_BUDGET.with(|b| b.set(before));
    result
}

/// How much text one template may write (a template doubling a string in a loop stops here).
const MAX_OUTPUT: usize = 256 * 1024 * 1024;

impl TemplateSet {
    /// Parses `source` as the file `name` and adds its trees (later definitions of a name
    /// replace earlier ones, as Go's `Parse` does).
    pub fn add(&self, name: &str, source: &str) -> Result<(), super::parse::ParseError> {
        let parsed = parse(name, source)?;
        let mut trees = self.trees.borrow_mut();
        for tree in parsed.trees {
            trees.insert(tree.name.clone(), Rc::new(tree));
        }
        Ok(())
    }

    /// The tree called `name`.
    pub fn get(&self, name: &str) -> Option<Rc<Tree>> {
        self.trees.borrow().get(name).cloned()
    }

    /// Executes the template `name` with `data` as dot and `$`.
    pub fn execute(&self, name: &str, data: &Value) -> Result<String, ExecError> {
        let Some(tree) = self.get(name) else {
            return Err(ExecError::new(
                name.to_string(),
                name.to_string(),
                String::new(),
                format!("no template {name:?} associated with template \"gotpl\""),
            ));
        };
        let mut state = State {
            set: self,
            tree,
            vars: vec![("$".to_string(), data.clone())],
            depth: 0,
        };
        let mut out = String::new();
        state.walk_list(&mut out, data, &state.tree.root.clone())?;
        Ok(out)
    }
}

/// What a walk ended with: normally, or at `break`/`continue`.
#[derive(PartialEq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

struct State<'s> {
    set: &'s TemplateSet,
    tree: Rc<Tree>,
    vars: Vec<(String, Value)>,
    depth: usize,
}

impl State<'_> {
    fn error(&self, pos: usize, context: &str, message: String) -> ExecError {
        ExecError::new(
            self.tree.location(pos),
            self.tree.name.clone(),
            context.to_string(),
            message,
        )
    }

    fn walk_list(
        &mut self,
        out: &mut String,
        dot: &Value,
        nodes: &[Node],
    ) -> Result<Flow, ExecError> {
        for node in nodes {
            let flow = self.walk(out, dot, node)?;
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, out: &mut String, dot: &Value, node: &Node) -> Result<Flow, ExecError> {
        let steps = self.set.steps.get() + 1;
        self.set.steps.set(steps);
        let budget = STEP_BUDGET.with(std::cell::Cell::get);
        if steps > budget || out.len() > MAX_OUTPUT {
            let pos = match node {
                Node::Action(pipe) => pipe.pos,
                Node::If(b) | Node::With(b) | Node::Range(b) => b.pos,
                Node::Template { pos, .. } | Node::Break(pos) | Node::Continue(pos) => *pos,
                Node::Text(_) => 0,
            };
            let what = if steps > budget {
                format!("the render took more than {budget} steps; a template loops without end")
            } else {
                format!(
                    "the template wrote more than {} MiB",
                    MAX_OUTPUT / 1024 / 1024
                )
            };
            return Err(self.error(pos, "", what));
        }
        match node {
            Node::Text(text) => out.push_str(text),
            Node::Action(pipe) => {
                let value = self.eval_pipe(dot, pipe)?;
                if pipe.decl.is_empty() {
                    print_value(out, &value);
                }
            }
            Node::If(branch) => return self.walk_if_or_with(out, dot, branch, false),
            Node::With(branch) => return self.walk_if_or_with(out, dot, branch, true),
            Node::Range(branch) => return self.walk_range(out, dot, branch),
            Node::Template { pos, name, pipe } => {
                let data = match pipe {
                    Some(pipe) => self.eval_pipe(dot, pipe)?,
                    None => Value::Nil,
                };
                let context = match pipe {
                    Some(pipe) => format!("{{{{template {name:?} {}}}}}", pipe.text),
                    None => format!("{{{{template {name:?}}}}}"),
                };
                let text = self.call_template(*pos, name, &data, &context)?;
                out.push_str(&text);
            }
            Node::Break(_) => return Ok(Flow::Break),
            Node::Continue(_) => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    /// Runs the template `name` with `data`, in a fresh variable scope.
    fn call_template(
        &mut self,
        pos: usize,
        name: &str,
        data: &Value,
        context: &str,
    ) -> Result<String, ExecError> {
        let Some(tree) = self.set.get(name) else {
            return Err(self.error(pos, context, format!("template {name:?} not defined")));
        };
        if self.depth >= MAX_DEPTH {
            return Err(self.error(pos, context, format!("rendering template has a nested reference name: {name}: unable to execute template")));
        }
        let mut inner = State {
            set: self.set,
            tree: tree.clone(),
            vars: vec![("$".to_string(), data.clone())],
            depth: self.depth + 1,
        };
        let mut out = String::new();
        inner.walk_list(&mut out, data, &tree.root)?;
        Ok(out)
    }

    fn walk_if_or_with(
        &mut self,
        out: &mut String,
        dot: &Value,
        branch: &Branch,
        with: bool,
    ) -> Result<Flow, ExecError> {
        let mark = self.vars.len();
        let value = self.eval_pipe(dot, &branch.pipe)?;
        let flow = if value.truthy() {
            let new_dot = if with { value } else { dot.clone() };
            self.walk_list(out, &new_dot, &branch.list)?
        } else if let Some(else_list) = &branch.else_list {
            self.walk_list(out, dot, else_list)?
        } else {
            Flow::Normal
        };
        self.vars.truncate(mark);
        Ok(flow)
    }

    fn walk_range(
        &mut self,
        out: &mut String,
        dot: &Value,
        branch: &Branch,
    ) -> Result<Flow, ExecError> {
        let mark = self.vars.len();
        // The declared variables are set per element, not by the pipeline.
        let mut pipe = branch.pipe.clone();
        let decl = std::mem::take(&mut pipe.decl);
        let value = self.eval_pipe(dot, &pipe)?;
        let items: Vec<(Value, Value)> = match &value {
            Value::List(list) => list
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::Int(i as i64), v.clone()))
                .collect(),
            Value::Map(map) => map
                .borrow()
                .iter()
                .map(|(k, v)| (Value::str(k), v.clone()))
                .collect(),
            Value::Int(n) => {
                if decl.len() > 1 {
                    return Err(self.error(
                        branch.pos,
                        &pipe.text,
                        "can't use two iteration variables with an integer".to_string(),
                    ));
                }
                (0..*n).map(|i| (Value::Int(i), Value::Int(i))).collect()
            }
            Value::Nil => Vec::new(),
            Value::Object(object) => match &object.kind {
                ObjectKind::ApiVersions(v) => v
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (Value::Int(i as i64), Value::str(s)))
                    .collect(),
                ObjectKind::Files(files) => files
                    .iter()
                    .map(|(k, v)| {
                        (
                            Value::str(k),
                            Value::string(String::from_utf8_lossy(v).into_owned()),
                        )
                    })
                    .collect(),
                _ => {
                    return Err(self.error(
                        branch.pos,
                        &pipe.text,
                        format!("range can't iterate over {}", value.to_go_string()),
                    ));
                }
            },
            other => {
                return Err(self.error(
                    branch.pos,
                    &pipe.text,
                    format!("range can't iterate over {}", other.to_go_string()),
                ));
            }
        };
        if items.is_empty() {
            let flow = match &branch.else_list {
                Some(else_list) => self.walk_list(out, dot, else_list)?,
                None => Flow::Normal,
            };
            self.vars.truncate(mark);
            return Ok(flow);
        }
        for (key, element) in items {
            let inner_mark = self.vars.len();
            match decl.len() {
                0 => {}
                1 => self.set_or_declare(&decl[0], element.clone(), pipe.is_assign, branch.pos)?,
                _ => {
                    self.set_or_declare(&decl[0], key, pipe.is_assign, branch.pos)?;
                    self.set_or_declare(&decl[1], element.clone(), pipe.is_assign, branch.pos)?;
                }
            }
            let flow = self.walk_list(out, &element, &branch.list)?;
            self.vars.truncate(inner_mark);
            if flow == Flow::Break {
                break;
            }
        }
        self.vars.truncate(mark);
        Ok(Flow::Normal)
    }

    fn set_or_declare(
        &mut self,
        name: &str,
        value: Value,
        assign: bool,
        pos: usize,
    ) -> Result<(), ExecError> {
        if assign {
            match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                Some(slot) => slot.1 = value,
                None => return Err(self.error(pos, name, format!("undefined variable: {name}"))),
            }
        } else {
            self.vars.push((name.to_string(), value));
        }
        Ok(())
    }

    fn variable(&self, pos: usize, name: &str) -> Result<Value, ExecError> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, value)) => Ok(value.clone()),
            None => Err(self.error(pos, name, format!("undefined variable: {name}"))),
        }
    }

    fn eval_pipe(&mut self, dot: &Value, pipe: &Pipe) -> Result<Value, ExecError> {
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let value = value.unwrap_or_default();
        for name in &pipe.decl {
            self.set_or_declare(name, value.clone(), pipe.is_assign, pipe.pos)?;
        }
        Ok(value)
    }

    fn eval_command(
        &mut self,
        dot: &Value,
        cmd: &Command,
        final_arg: Option<Value>,
    ) -> Result<Value, ExecError> {
        let first = &cmd.args[0];
        match first {
            Arg::Ident { pos, name } => self.eval_function(dot, *pos, name, cmd, final_arg),
            Arg::Field { pos, names } => self.eval_field_chain(
                dot,
                dot.clone(),
                *pos,
                names,
                &cmd.args[1..],
                final_arg,
                &cmd.text,
            ),
            Arg::Variable { pos, name, fields } => {
                let value = self.variable(*pos, name)?;
                self.value_or_chain(dot, value, *pos, fields, cmd, final_arg)
            }
            Arg::Pipe { pipe, fields } => {
                let value = self.eval_pipe(dot, pipe)?;
                self.value_or_chain(dot, value, pipe.pos, fields, cmd, final_arg)
            }
            _ => {
                self.no_args(cmd, &final_arg)?;
                self.eval_arg(dot, first)
            }
        }
    }

    /// A command starting with a variable or a parenthesised pipeline: its value, or the
    /// fields chained on it (the last one possibly a method taking the command's arguments).
    fn value_or_chain(
        &mut self,
        dot: &Value,
        value: Value,
        pos: usize,
        fields: &[String],
        cmd: &Command,
        final_arg: Option<Value>,
    ) -> Result<Value, ExecError> {
        if fields.is_empty() {
            self.no_args(cmd, &final_arg)?;
            return Ok(value);
        }
        self.eval_field_chain(
            dot,
            value,
            pos,
            fields,
            &cmd.args[1..],
            final_arg,
            &cmd.text,
        )
    }

    fn no_args(&self, cmd: &Command, final_arg: &Option<Value>) -> Result<(), ExecError> {
        if cmd.args.len() > 1 || final_arg.is_some() {
            let first = &cmd.args[0];
            let text = arg_text(first);
            return Err(self.error(
                cmd.pos,
                &cmd.text,
                format!("can't give argument to non-function {text}"),
            ));
        }
        Ok(())
    }

    /// The value of an operand used as an argument.
    fn eval_arg(&mut self, dot: &Value, arg: &Arg) -> Result<Value, ExecError> {
        Ok(match arg {
            Arg::Dot(_) => dot.clone(),
            Arg::Nil(_) => Value::Nil,
            Arg::Bool(b) => Value::Bool(*b),
            Arg::Number {
                value: Number::Int(i),
                ..
            } => Value::Int(*i),
            Arg::Number {
                value: Number::Float(f),
                ..
            } => Value::Float(*f),
            Arg::String(s, _) => Value::String(s.clone()),
            Arg::Field { pos, names } => self.eval_field_chain(
                dot,
                dot.clone(),
                *pos,
                names,
                &[],
                None,
                &format!(".{}", names.join(".")),
            )?,
            Arg::Variable { pos, name, fields } => {
                let value = self.variable(*pos, name)?;
                if fields.is_empty() {
                    value
                } else {
                    self.eval_field_chain(
                        dot,
                        value,
                        *pos,
                        fields,
                        &[],
                        None,
                        &format!("{name}.{}", fields.join(".")),
                    )?
                }
            }
            Arg::Pipe { pipe, fields } => {
                let mark = self.vars.len();
                let value = self.eval_pipe(dot, pipe)?;
                self.vars.truncate(mark);
                if fields.is_empty() {
                    value
                } else {
                    self.eval_field_chain(dot, value, pipe.pos, fields, &[], None, &pipe.text)?
                }
            }
            Arg::Ident { pos, name } => {
                // A function used as an argument without parentheses: called with no args.
                let cmd = Command {
                    pos: *pos,
                    args: vec![arg.clone()],
                    text: Rc::from(name.as_str()),
                };
                self.eval_function(dot, *pos, name, &cmd, None)?
            }
        })
    }

    /// `.A.B.C args…`: each name looked up on the previous value; the last may be a method
    /// called with the remaining operands (and the piped value).
    #[allow(clippy::too_many_arguments)]
    fn eval_field_chain(
        &mut self,
        dot: &Value,
        receiver: Value,
        pos: usize,
        names: &[String],
        args: &[Arg],
        final_arg: Option<Value>,
        context: &str,
    ) -> Result<Value, ExecError> {
        // A nil that did not come out of a map (a pipeline's or variable's value) has no
        // type in Go: asking it for a field gives nothing, without an error.
        if matches!(receiver, Value::Nil) {
            return Ok(Value::Nil);
        }
        let mut value = receiver;
        let last = names.len() - 1;
        for (i, name) in names.iter().enumerate() {
            let has_args = i == last && (!args.is_empty() || final_arg.is_some());
            let call_args = if i == last {
                let mut evaluated = Vec::new();
                for arg in args {
                    evaluated.push(self.eval_arg(dot, arg)?);
                }
                if let Some(v) = &final_arg {
                    evaluated.push(v.clone());
                }
                evaluated
            } else {
                Vec::new()
            };
            value = self.eval_field(value, pos, name, has_args, call_args, context)?;
        }
        Ok(value)
    }

    fn eval_field(
        &self,
        receiver: Value,
        pos: usize,
        name: &str,
        has_args: bool,
        args: Vec<Value>,
        context: &str,
    ) -> Result<Value, ExecError> {
        match &receiver {
            Value::Map(map) => {
                if has_args {
                    return Err(self.error(
                        pos,
                        context,
                        format!("{name} is not a method but has arguments"),
                    ));
                }
                Ok(map.borrow().get(name).cloned().unwrap_or(Value::Nil))
            }
            Value::Nil => Err(self.error(
                pos,
                context,
                format!("nil pointer evaluating interface {{}}.{name}"),
            )),
            Value::Object(object) => {
                if let ObjectKind::Unsupported(message) = &object.kind {
                    return Err(self.error(pos, context, message.clone()));
                }
                if name.starts_with(|c: char| c.is_lowercase()) && object.field(name).is_some() {
                    return Err(self.error(
                        pos,
                        context,
                        format!(
                            "{name} is an unexported field of struct type {}",
                            object.type_name
                        ),
                    ));
                }
                if let Some(result) = funcs::method(object, name, &args) {
                    return result.map_err(|e| self.func_error(pos, context, name, e));
                }
                match object.field(name) {
                    Some(value) => {
                        if has_args {
                            return Err(self.error(
                                pos,
                                context,
                                format!("{name} has arguments but cannot be invoked as function"),
                            ));
                        }
                        Ok(value.clone())
                    }
                    None => Err(self.error(
                        pos,
                        context,
                        format!("can't evaluate field {name} in type {}", object.type_name),
                    )),
                }
            }
            other => Err(self.error(
                pos,
                context,
                format!(
                    "can't evaluate field {name} in type {}",
                    go_interface_type(other)
                ),
            )),
        }
    }

    fn func_error(&self, pos: usize, context: &str, name: &str, error: FuncError) -> ExecError {
        match error {
            FuncError::Call(message) => {
                let mut e = self.error(pos, context, format!("error calling {name}: {message}"));
                e.cause = Some(Box::new(Cause::Text(message)));
                e
            }
            FuncError::Plain(message) => self.error(pos, context, message),
            FuncError::User(message) => {
                let mut e = self.error(
                    pos,
                    context,
                    format!("error calling {name}: HELM[{message}]HELM"),
                );
                e.user_message = Some(message);
                e
            }
        }
    }

    fn eval_function(
        &mut self,
        dot: &Value,
        pos: usize,
        name: &str,
        cmd: &Command,
        final_arg: Option<Value>,
    ) -> Result<Value, ExecError> {
        let context: &str = &cmd.text;
        let arg_nodes = &cmd.args[1..];
        // `and`/`or` stop at the first deciding operand (Go 1.18).
        if name == "and" || name == "or" {
            if arg_nodes.is_empty() && final_arg.is_none() {
                return Err(self.error(
                    pos,
                    context,
                    format!("wrong number of args for {name}: want at least 1 got 0"),
                ));
            }
            let mut last = Value::Nil;
            for node in arg_nodes {
                last = self.eval_arg(dot, node)?;
                if last.truthy() == (name == "or") {
                    return Ok(last);
                }
            }
            if let Some(v) = final_arg {
                last = v;
            }
            return Ok(last);
        }
        let mut args = Vec::with_capacity(arg_nodes.len() + 1);
        for node in arg_nodes {
            args.push(self.eval_arg(dot, node)?);
        }
        if let Some(v) = final_arg {
            args.push(v);
        }
        match name {
            "include" => self.include(pos, context, &args),
            "tpl" => self.tpl(pos, context, &args),
            _ => match funcs::call(name, &args) {
                Some(result) => result.map_err(|e| self.func_error(pos, context, name, e)),
                None => Err(self.error(pos, context, format!("function {name:?} not defined"))),
            },
        }
    }

    fn include(&mut self, pos: usize, context: &str, args: &[Value]) -> Result<Value, ExecError> {
        if args.len() != 2 {
            return Err(self.error(
                pos,
                context,
                format!(
                    "wrong number of args for include: want 2 got {}",
                    args.len()
                ),
            ));
        }
        let Some(name) = args[0].as_str() else {
            return Err(self.error(
                pos,
                context,
                format!(
                    "wrong type for value; expected string; got {}",
                    args[0].type_name()
                ),
            ));
        };
        if self.depth >= MAX_DEPTH {
            return Err(self.error(pos, context, format!("error calling include: rendering template has a nested reference name: {name}: unable to execute template")));
        }
        if self.set.get(name).is_none() {
            let inner =
                format!("template: no template {name:?} associated with template \"gotpl\"");
            let mut e = self.error(pos, context, format!("error calling include: {inner}"));
            e.cause = Some(Box::new(Cause::Text(inner)));
            return Err(e);
        }
        let text = self
            .call_template(pos, name, &args[1], context)
            .map_err(|inner| {
                let mut e = self.error(pos, context, format!("error calling include: {inner}"));
                e.user_message = inner.user_message.clone();
                e.cause = Some(Box::new(Cause::Exec(inner)));
                e
            })?;
        Ok(Value::string(text))
    }

    /// `tpl TEXT DATA`: TEXT parsed as a template of its own, able to call every named
    /// template; definitions it makes last only for this call (Helm renders it in a clone).
    fn tpl(&mut self, pos: usize, context: &str, args: &[Value]) -> Result<Value, ExecError> {
        if args.len() != 2 {
            return Err(self.error(
                pos,
                context,
                format!("wrong number of args for tpl: want 2 got {}", args.len()),
            ));
        }
        let Some(text) = args[0].as_str() else {
            return Err(self.error(
                pos,
                context,
                format!(
                    "wrong type for value; expected string; got {}",
                    args[0].type_name()
                ),
            ));
        };
        // Helm parses the text as a template named after its root template.
        let name = "gotpl".to_string();
        let parsed = parse(&name, text).map_err(|e| {
            self.error(
                pos,
                context,
                format!("error calling tpl: cannot parse template {text:?}: {e}"),
            )
        })?;
        let mut trees_iter = parsed.trees.into_iter();
        let root = Rc::new(trees_iter.next().expect("a parsed body"));
        let mut saved = Vec::new();
        {
            let mut trees = self.set.trees.borrow_mut();
            for tree in trees_iter {
                let name = tree.name.clone();
                let old = trees.insert(name.clone(), Rc::new(tree));
                saved.push((name, old));
            }
        }
        let mut inner = State {
            set: self.set,
            tree: root.clone(),
            vars: vec![("$".to_string(), args[1].clone())],
            depth: self.depth + 1,
        };
        let mut out = String::new();
        let result = inner.walk_list(&mut out, &args[1], &root.root);
        {
            let mut trees = self.set.trees.borrow_mut();
            for (name, old) in saved.into_iter().rev() {
                match old {
                    Some(old) => trees.insert(name, old),
                    None => trees.remove(&name),
                };
            }
        }
        if let Err(inner_error) = result {
            let wrapped =
                format!("error during tpl function execution for {text:?}: {inner_error}");
            let mut e = self.error(pos, context, format!("error calling tpl: {wrapped}"));
            e.user_message = inner_error.user_message.clone();
            e.cause = Some(Box::new(Cause::Text(wrapped)));
            return Err(e);
        }
        Ok(Value::string(out.replace("<no value>", "")))
    }
}

fn arg_text(arg: &Arg) -> String {
    match arg {
        Arg::Field { names, .. } => format!(".{}", names.join(".")),
        Arg::Variable { name, fields, .. } => {
            if fields.is_empty() {
                name.clone()
            } else {
                format!("{name}.{}", fields.join("."))
            }
        }
        Arg::Dot(_) => ".".to_string(),
        Arg::Nil(_) => "nil".to_string(),
        Arg::Bool(b) => b.to_string(),
        Arg::Number { text, .. } => text.clone(),
        Arg::String(_, quoted) => quoted.to_string(),
        Arg::Ident { name, .. } => name.clone(),
        Arg::Pipe { pipe, .. } => format!("({})", pipe.text),
    }
}

/// The type Go names when a field is asked of a value held in an `interface{}`.
fn go_interface_type(value: &Value) -> String {
    match value {
        Value::Map(_)
        | Value::List(_)
        | Value::String(_)
        | Value::Bool(_)
        | Value::Int(_)
        | Value::Float(_) => "interface {}".to_string(),
        other => other.type_name(),
    }
}

/// Writes an action's value as Go prints it (nil as `<no value>`, which Helm then removes).
fn print_value(out: &mut String, value: &Value) {
    match value {
        Value::Nil => out.push_str("<no value>"),
        Value::Object(o) if matches!(o.kind, ObjectKind::Stringer(_)) => {
            if let ObjectKind::Stringer(text) = &o.kind {
                out.push_str(text);
            }
        }
        other => other.write_go(out),
    }
}

/// Renders `source` as a one-off template named `name` with `data` (tests, `tpl` users).
pub fn render_str(name: &str, source: &str, data: &Value) -> Result<String, String> {
    let set = TemplateSet::default();
    set.add(name, source).map_err(|e| e.to_string())?;
    set.execute(name, data).map_err(|e| e.to_string())
}

/// A map value from pairs (tests and callers building `.Release`-like data).
pub fn map_of(pairs: Vec<(&str, Value)>) -> Value {
    Value::map(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<Map>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(source: &str, data: Value) -> String {
        render_str("t", source, &data).expect("render")
    }

    fn values() -> Value {
        let yaml = map_of(vec![
            ("name", Value::str("web")),
            ("replicas", Value::Float(3.0)),
            ("big", Value::Float(1000000.0)),
            ("list", Value::list(vec![Value::str("a"), Value::str("b")])),
            (
                "labels",
                map_of(vec![("z", Value::str("1")), ("a", Value::str("2"))]),
            ),
            ("empty", Value::str("")),
        ]);
        map_of(vec![("Values", yaml)])
    }

    #[test]
    fn fields_variables_and_printing() {
        assert_eq!(
            render(
                "{{ .Values.name }}-{{ .Values.replicas }}-{{ .Values.big }}",
                values()
            ),
            "web-3-1e+06"
        );
        assert_eq!(
            render(
                "{{ $x := .Values.name }}{{ $x }}{{ $.Values.name }}",
                values()
            ),
            "webweb"
        );
        assert_eq!(render("[{{ .Values.missing }}]", values()), "[<no value>]");
        assert_eq!(
            render("{{ .Values.list }} {{ .Values.labels }}", values()),
            "[a b] map[a:2 z:1]"
        );
    }

    #[test]
    fn missing_parents_fail_as_go_fails() {
        let err = render_str("c/t.yaml", "x\n  {{ .Values.nope.deeper }}", &values())
            .expect_err("an error");
        assert_eq!(
            err,
            "template: c/t.yaml:2:12: executing \"c/t.yaml\" at <.Values.nope.deeper>: nil pointer evaluating interface {}.deeper"
        );
    }

    #[test]
    fn control_structures() {
        let v = values();
        assert_eq!(
            render(
                "{{ if .Values.empty }}a{{ else if .Values.name }}b{{ else }}c{{ end }}",
                v.clone()
            ),
            "b"
        );
        assert_eq!(
            render(
                "{{ with .Values.name }}{{ . }}{{ else }}none{{ end }}",
                v.clone()
            ),
            "web"
        );
        assert_eq!(
            render(
                "{{ range $i, $v := .Values.list }}{{ $i }}={{ $v }};{{ end }}",
                v.clone()
            ),
            "0=a;1=b;"
        );
        assert_eq!(
            render(
                "{{ range $k, $v := .Values.labels }}{{ $k }}={{ $v }};{{ end }}",
                v.clone()
            ),
            "a=2;z=1;"
        );
        assert_eq!(
            render(
                "{{ range .Values.nothing }}x{{ else }}empty{{ end }}",
                v.clone()
            ),
            "empty"
        );
        assert_eq!(
            render(
                "{{ range 5 }}{{ if eq . 3 }}{{ break }}{{ end }}{{ . }}{{ end }}",
                v.clone()
            ),
            "012"
        );
        assert_eq!(
            render(
                "{{ range .Values.list }}{{ if eq . \"a\" }}{{ continue }}{{ end }}{{ . }}{{ end }}",
                v
            ),
            "b"
        );
    }

    #[test]
    fn variables_assigned_in_a_loop_survive_it() {
        assert_eq!(
            render(
                "{{ $n := 0 }}{{ range .Values.list }}{{ $n = add $n 1 }}{{ end }}{{ $n }}",
                values()
            ),
            "2"
        );
    }

    #[test]
    fn templates_and_pipelines() {
        let src = r#"{{ define "n" }}<{{ . }}>{{ end }}{{ template "n" .Values.name }}{{ include "n" "x" | upper }}{{ .Values.name | printf "%s-%d" | quote }}"#;
        // printf gets the piped value last: printf "%s-%d" "web" → %d missing.
        let out = render(src, values());
        assert!(out.starts_with("<web><X>"), "{out}");
    }

    #[test]
    fn and_or_short_circuit() {
        assert_eq!(
            render("{{ or .Values.empty .Values.name }}", values()),
            "web"
        );
        assert_eq!(
            render("{{ and .Values.empty .Values.nope.deeper }}", values()),
            ""
        );
    }
}
