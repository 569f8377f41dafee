//! Resource files (`*.hcl` in a source): variables, locals, resources and outputs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use braid_provider::{Path, Value};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Body, Structure};

use super::body::{ConfigBody, NestedBlock, expr_location, traversal_text};
use super::project::body_value;
use super::terraform_block::{TerraformSettings, parse_terraform};
use super::types::TypeConstraint;
use crate::diag::{Diagnostic, Diagnostics, Location, SourceText};

/// A `variable "NAME"` block of a resource file: a value the configuration takes from outside,
/// resolved by `config/variables.rs` (default < `BRAID_VAR_` < environment block < `--var`).
#[derive(Debug, Clone)]
pub struct VariableDecl {
    /// The variable's name, the block's label; expressions read it as `var.NAME`.
    pub name: String,
    /// The declared `type`, which every value is converted to; [`TypeConstraint::Any`] when the
    /// block has no `type`.
    pub type_constraint: TypeConstraint,
    /// The `default` value, already converted to the declared type; `None` when the variable is
    /// required.
    pub default: Option<Value>,
    /// True when declared `sensitive = true`: its value is masked in output and stored in plans
    /// only as a digest.
    pub sensitive: bool,
    /// The `description`, for people reading the configuration; braid does not show it.
    pub description: Option<String>,
    /// False when declared `nullable = false`: a null value is replaced by the default, or
    /// refused when there is none.
    pub nullable: bool,
    /// The `validation` blocks, checked in order once every variable has its value.
    pub validations: Vec<Validation>,
    /// Where the `variable` block starts, for diagnostics.
    pub location: Location,
}

/// A `validation` block of a variable: a condition its value must meet, as in Terraform
/// (1.9 and later: the condition may read other variables too).
#[derive(Debug, Clone)]
pub struct Validation {
    /// `condition`: true when the value is acceptable.
    pub condition: Expression,
    /// `error_message`: the message shown when the condition is false, a string expression.
    pub error_message: Expression,
    /// The file the block is written in.
    pub file: Arc<SourceText>,
    /// Where the condition is written: a failed validation is reported there.
    pub condition_location: Location,
}

/// One attribute of a `locals` block: a named expression, evaluated wherever `local.NAME` is
/// referenced.
#[derive(Debug, Clone)]
pub struct LocalDecl {
    /// The local value's name; expressions read it as `local.NAME`.
    pub name: String,
    /// The expression as written, evaluated against the scope of the plan or apply.
    pub expr: Expression,
    /// The file it is written in, for diagnostics about the expression.
    pub file: Arc<SourceText>,
    /// The directory `file()` and `path.module` resolve against: the source's directory (for git
    /// sources its extracted tree).
    pub base_dir: PathBuf,
    /// Where the local's name is written, for diagnostics.
    pub location: Location,
    /// The module instance it belongs to, as a prefix of names (`module.net.`, empty in the
    /// root module): its key in [`Module::locals`] is this prefix and its name.
    pub module: String,
}

/// The `lifecycle` block of a resource; all off by default (and for Kubernetes manifests).
#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    /// `prevent_destroy = true`: any plan that would delete or replace the resource fails.
    pub prevent_destroy: bool,
    /// `create_before_destroy = true`: a replacement creates the new object before deleting the old
    /// one.
    pub create_before_destroy: bool,
    /// Attribute paths whose changes are ignored after create.
    pub ignore_changes: Vec<Path>,
    /// `ignore_changes = all`.
    pub ignore_all_changes: bool,
    /// `precondition` blocks: checked before the resource is planned.
    pub preconditions: Vec<Condition>,
    /// `postcondition` blocks: checked against the planned object (`self`).
    pub postconditions: Vec<Condition>,
    /// `replace_triggered_by`: references to resources (or their attributes) whose planned
    /// change replaces this resource.
    pub replace_triggered_by: Vec<(String, Expression, Location)>,
}

/// A `precondition` or `postcondition` block: a condition and the message shown when it is
/// false.
#[derive(Debug, Clone)]
pub struct Condition {
    /// The condition, a bool expression.
    pub condition: Expression,
    /// The message, a string expression (a template may quote values).
    pub error_message: Expression,
    /// Where the condition is written.
    pub location: Location,
}

/// A resource declared in configuration: a `resource "TYPE" "NAME"` block of a resource file, or
/// one Kubernetes object of a manifest.
#[derive(Debug, Clone)]
pub struct ResourceDecl {
    /// `TYPE.NAME`
    pub address: String,
    /// The resource type (`local_file`); `kubernetes_manifest` for Kubernetes objects.
    pub type_name: String,
    /// The resource name: the second label of the block, or `metadata.name` of a Kubernetes object.
    pub name: String,
    /// The provider that serves it: the type's prefix before the first `_` (`aws_s3_bucket` →
    /// `aws`), `kubernetes` for manifests.
    pub provider: String,
    /// What the resource is made of: HCL attributes and blocks, or a Kubernetes manifest.
    pub body: ResourceBody,
    /// Explicit dependencies, each with where it is written.
    pub depends_on: Vec<(String, Location)>,
    /// The settings of its `lifecycle` block.
    pub lifecycle: Lifecycle,
    /// Where the resource is declared: the `resource` block, or the start of the YAML document.
    pub location: Location,
    /// The directory `file()` and `path.module` resolve against.
    pub base_dir: PathBuf,
    /// The name of the source it comes from (`infra`, `apps`); set when sources are merged.
    pub source: String,
    /// `count` or `for_each`, on the resource as written and on each of its instances; `None`
    /// on resources without either.
    pub repetition: Option<Repetition>,
    /// Which instance of a `count`/`for_each` resource this is; `None` for the resource as
    /// written.
    pub instance: Option<Instance>,
    /// True for a `data "TYPE" "NAME"` block (address `data.TYPE.NAME`): read, never changed,
    /// and not kept in state.
    pub data: bool,
    /// The module instance it is declared in, as a prefix of addresses (`module.net.`,
    /// `module.svc["api"].`; empty in the root module). Its references are resolved there.
    pub module: String,
    /// For a data block nested in a `check` block, the check's name: only the check may read
    /// it, and a failure to read it is one of the check's warnings, not an error.
    pub check: Option<String>,
}

/// The `count` or `for_each` meta-argument of a resource, unevaluated; shared by the
/// resource as written and all its instances.
#[derive(Debug, Clone)]
pub enum Repetition {
    /// `count = N`: instances `[0]` to `[N-1]`, each seeing `count.index`.
    Count(Arc<super::Attribute>),
    /// `for_each = map or set of strings`: an instance per key, each seeing `each.key` and
    /// `each.value`.
    ForEach(Arc<super::Attribute>),
}

impl Repetition {
    /// The attribute as written.
    pub fn attribute(&self) -> &super::Attribute {
        match self {
            Repetition::Count(a) | Repetition::ForEach(a) => a,
        }
    }
}

/// The key of one instance of a repeated resource: an index for `count`, a string for
/// `for_each`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InstanceKey {
    /// `[0]`
    Index(usize),
    /// `["key"]`
    Key(String),
}

impl std::fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InstanceKey::Index(i) => write!(f, "[{i}]"),
            InstanceKey::Key(k) => {
                f.write_str("[\"")?;
                for c in k.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        '\n' => f.write_str("\\n")?,
                        '\r' => f.write_str("\\r")?,
                        '\t' => f.write_str("\\t")?,
                        c => write!(f, "{c}")?,
                    }
                }
                f.write_str("\"]")
            }
        }
    }
}

impl InstanceKey {
    /// The key as a value: `count.index` (a number) or `each.key` (a string).
    pub fn value(&self) -> Value {
        match self {
            InstanceKey::Index(i) => Value::from(*i as i64),
            InstanceKey::Key(k) => Value::from(k.as_str()),
        }
    }
}

/// One instance of a `count`/`for_each` resource.
#[derive(Debug, Clone)]
pub struct Instance {
    /// The address of the resource as written (`aws_s3_bucket.logs`), which expressions use to
    /// read all instances at once.
    pub config_address: String,
    /// Its key; the instance's address is the resource's address followed by it.
    pub key: InstanceKey,
    /// `each.value` for `for_each` (the map value, or the key again for a set).
    pub each_value: Option<Value>,
}

/// The body of a resource.
#[derive(Debug, Clone)]
pub enum ResourceBody {
    /// Attributes and nested blocks of an HCL `resource` block, without meta-arguments.
    Hcl(ConfigBody),
    /// A Kubernetes object from a YAML document.
    Manifest(ManifestBody),
}

/// A manifest as written, with its `${{ }}` references parsed.
#[derive(Debug, Clone)]
pub struct ManifestBody {
    /// The object; strings holding references are replaced at evaluation.
    pub document: Value,
    /// Every string of `document` that contains `${{ }}`, with its path and parsed expressions.
    pub templates: Vec<super::TemplateField>,
    /// The YAML file the object comes from, for diagnostics pointing into it.
    pub file: Arc<SourceText>,
}

impl ResourceDecl {
    /// The HCL body, for resources declared in resource files.
    pub fn hcl(&self) -> Option<&ConfigBody> {
        match &self.body {
            ResourceBody::Hcl(body) => Some(body),
            ResourceBody::Manifest(_) => None,
        }
    }

    /// Where an attribute's value is written, falling back to the resource itself.
    pub fn attribute_location(&self, name: &str) -> Location {
        self.hcl()
            .and_then(|b| b.attribute(name))
            .map_or_else(|| self.location.clone(), |a| a.value_location.clone())
    }

    /// The file the resource is declared in.
    pub fn file(&self) -> &Arc<SourceText> {
        match &self.body {
            ResourceBody::Hcl(body) => &body.file,
            ResourceBody::Manifest(m) => &m.file,
        }
    }

    /// The address of the resource as written: the same as `address` except for instances of a
    /// `count`/`for_each` resource (`aws_x.y` for `aws_x.y["k"]`).
    pub fn config_address(&self) -> &str {
        self.instance
            .as_ref()
            .map_or(self.address.as_str(), |i| i.config_address.as_str())
    }

    /// `main.hcl:12`, as recorded in plans and state.
    pub fn source_file(&self) -> String {
        format!("{}:{}", self.location.file.name, self.location.line)
    }
}

/// An `output "NAME"` block: a value braid reports after plan and apply.
#[derive(Debug, Clone)]
pub struct OutputDecl {
    /// The output's name, the block's label.
    pub name: String,
    /// The `value` expression, evaluated after every resource is planned or applied.
    pub expr: Expression,
    /// The file it is written in, for diagnostics about the expression.
    pub file: Arc<SourceText>,
    /// The directory `file()` and `path.module` resolve against: the source's directory.
    pub base_dir: PathBuf,
    /// True when declared `sensitive = true`; an output computed from a sensitive value must be.
    pub sensitive: bool,
    /// The `description`, for people reading the configuration; braid does not show it.
    pub description: Option<String>,
    /// Where the `output` block starts, for diagnostics.
    pub location: Location,
    /// The module instance it belongs to, as a prefix (empty for the root module's outputs).
    pub module: String,
}

/// A `moved { from = ADDR  to = ADDR }` block: the resource (or instance) state holds at
/// `from` is now declared at `to`, so the plan renames it instead of destroying and creating.
#[derive(Debug, Clone)]
pub struct MovedDecl {
    /// The old address, a resource or one instance of it.
    pub from: String,
    /// The new address, of the same kind as `from`.
    pub to: String,
    /// Where the `moved` block starts.
    pub location: Location,
}

/// A `removed { from = ADDR }` block: the resource left the configuration on purpose; with
/// `lifecycle { destroy = false }` its objects are dropped from state but not destroyed.
#[derive(Debug, Clone)]
pub struct RemovedDecl {
    /// The resource (all its instances) that left the configuration.
    pub from: String,
    /// `lifecycle { destroy }`: true (the default) deletes the objects as any resource that
    /// left the configuration; false only forgets them.
    pub destroy: bool,
    /// Where the `removed` block starts.
    pub location: Location,
}

/// A `check "NAME"` block: assertions reported as warnings after plan and apply; a failed
/// one never stops anything.
#[derive(Debug, Clone)]
pub struct CheckDecl {
    /// The block's label; the check is `check.NAME`.
    pub name: String,
    /// Its nested `data` blocks (scoped to the check), as data sources of the module.
    pub data: Vec<ResourceDecl>,
    /// The `assert` blocks.
    pub asserts: Vec<Condition>,
    /// The file it is written in.
    pub file: Arc<SourceText>,
    /// The directory file functions resolve against.
    pub base_dir: PathBuf,
    /// Where the block starts.
    pub location: Location,
    /// The module instance it belongs to, as a prefix (empty in the root module).
    pub module: String,
}

/// An `import { to = ADDR  id = "..." }` block: adopt an existing object into state at a
/// configured address during the next apply, as `braid state import` does at once.
#[derive(Debug, Clone)]
pub struct ImportDecl {
    /// The address to import into (a resource, or an instance of one).
    pub to: String,
    /// The object's id in its provider's terms; an expression (variables allowed).
    pub id: Expression,
    /// The file it is written in.
    pub file: Arc<SourceText>,
    /// The directory file functions resolve against.
    pub base_dir: PathBuf,
    /// Where the block starts.
    pub location: Location,
}

/// A resource with `count` or `for_each`, as written, and the keys of its instances.
#[derive(Debug, Clone)]
pub struct RepeatedResource {
    /// The resource as written, `repetition` set.
    pub decl: ResourceDecl,
    /// The instances' keys in order (indexes for `count`, sorted keys for `for_each`); `None`
    /// when they could not be determined (only `validate` goes on without them).
    pub keys: Option<Vec<InstanceKey>>,
}

impl RepeatedResource {
    /// True for `for_each`, whose instances expressions read as a map (a list for `count`).
    pub fn is_for_each(&self) -> bool {
        matches!(self.decl.repetition, Some(Repetition::ForEach(_)))
    }
}

impl Module {
    /// The addresses of the instances of the resource written at `config_address`: itself
    /// when it has no `count`/`for_each`, none when it is not declared. In modules, also
    /// every instance across the module's instances (`module.a.aws_x.y`).
    pub fn instances_of(&self, config_address: &str) -> Vec<String> {
        if config_address.starts_with("module.") && is_resource_address(config_address) {
            return self
                .resources
                .keys()
                .filter(|a| {
                    a.as_str() == config_address || resource_groups(a).any(|g| g == config_address)
                })
                .cloned()
                .collect();
        }
        if is_module_address(config_address) {
            return self
                .resources
                .keys()
                .filter(|a| within_module(a, config_address))
                .cloned()
                .collect();
        }
        match self.repeated.get(config_address) {
            Some(r) => r
                .keys
                .iter()
                .flatten()
                .map(|k| format!("{config_address}{k}"))
                .collect(),
            None if self.resources.contains_key(config_address) => {
                vec![config_address.to_string()]
            }
            None => Vec::new(),
        }
    }

    /// Whether `address` names a resource as written (with or without `count`/`for_each`),
    /// or a module call or instance.
    pub fn declares(&self, config_address: &str) -> bool {
        self.repeated.contains_key(config_address)
            || self.module_calls.contains_key(config_address)
            || self.module_instances.contains_key(config_address)
            || self
                .resources
                .get(config_address)
                .is_some_and(|r| r.instance.is_none())
    }

    /// Every resource as written: those without `count`/`for_each` and the repeated ones
    /// (not their instances), for checks that look at configuration once per block.
    pub fn written_resources(&self) -> impl Iterator<Item = &ResourceDecl> {
        self.resources
            .values()
            .filter(|r| r.instance.is_none())
            .chain(self.repeated.values().map(|r| &r.decl))
    }
}

/// A `provider "NAME"` block of a resource file, as Terraform code writes it: the lowest
/// layer of the provider's settings, under braid.hcl's blocks.
#[derive(Debug, Clone)]
pub struct ProviderDecl {
    /// `aws`, or `aws.west` with `alias = "west"`.
    pub name: String,
    /// The settings, without `alias`; evaluated with variables and locals.
    pub body: ConfigBody,
    /// The directory file functions resolve against.
    pub base_dir: PathBuf,
    /// Where the block starts.
    pub location: Location,
}

/// A `module "NAME"` block: a call of the module at `source`, with its input values.
#[derive(Debug, Clone)]
pub struct ModuleCall {
    /// The block's label; the call is `module.NAME` in the calling module.
    pub name: String,
    /// The `source` as written: a local path (`./modules/net`) or a git address
    /// (`git::https://host/org/repo.git//dir?ref=v1.2.0`).
    pub source: String,
    /// Where `source` is written.
    pub source_location: Location,
    /// The input values: every argument that is not a meta-argument, by variable name.
    pub arguments: ConfigBody,
    /// `count` or `for_each`.
    pub repetition: Option<Repetition>,
    /// `depends_on`: everything in the module waits for these.
    pub depends_on: Vec<(String, Location)>,
    /// `providers = { aws = aws.west }`: the provider configuration each name in the module
    /// stands for, as named in the calling module.
    pub providers: BTreeMap<String, String>,
    /// Where `providers` is written.
    pub providers_location: Option<Location>,
    /// The directory the calling file is in: a local `source` is relative to it.
    pub base_dir: PathBuf,
    /// Where the block starts.
    pub location: Location,
}

impl ModuleCall {
    /// The file the call is written in.
    pub fn file(&self) -> &Arc<SourceText> {
        &self.arguments.file
    }
}

/// One instance of a module call, `module.net` or `module.svc["api"]`: the module's variables
/// (valued by the call's arguments) and outputs. Its resources, locals and checks are in the
/// flat [`Module`] under its prefix.
#[derive(Debug, Clone)]
pub struct ModuleInstance {
    /// `module.net`, `module.svc["api"].module.db`.
    pub address: String,
    /// The prefix of the calling module instance (`""` for the root module).
    pub parent: String,
    /// The call, shared by the instances of a `count`/`for_each` call.
    pub call: Arc<ModuleCall>,
    /// The instance key of a `count`/`for_each` call, with `each.value`.
    pub key: Option<(InstanceKey, Option<Value>)>,
    /// The module's variables, valued by the call's arguments; shared by the instances of
    /// a call.
    pub variables: Arc<BTreeMap<String, VariableDecl>>,
    /// The module's outputs, read by the caller as `module.NAME.OUTPUT`; shared by the
    /// instances of a call, evaluated in each instance (its prefix, `base_dir`).
    pub outputs: Arc<BTreeMap<String, OutputDecl>>,
    /// The directory relative paths in the instance resolve against.
    pub base_dir: PathBuf,
    /// `path.module`: the module's directory relative to the root module's (`modules/net`),
    /// which relative paths resolve against, as in Terraform; `.` for a module of a git
    /// repository, whose paths resolve against its own directory.
    pub path_module: String,
    /// `path.root`: `.` (the root module's directory) for a module of the same source; for a
    /// module of a git repository also `.`, its own directory, since files outside the
    /// repository's tree cannot be read from it.
    pub path_root: String,
    /// The directory the module's files are in.
    pub dir: PathBuf,
}

impl ModuleInstance {
    /// The prefix of the names declared in the instance: its address and a dot.
    pub fn prefix(&self) -> String {
        format!("{}.", self.address)
    }
}

/// A module call as expanded: which instances it has.
#[derive(Debug, Clone)]
pub struct ExpandedCall {
    /// The call.
    pub call: Arc<ModuleCall>,
    /// The instances' keys for a `count`/`for_each` call (`None` while unknown, for
    /// `validate`); empty for a call without either, which has one instance.
    pub keys: Option<Vec<InstanceKey>>,
}

impl ExpandedCall {
    /// The addresses of its instances, given the call's address.
    pub fn instances(&self, address: &str) -> Vec<String> {
        match (&self.call.repetition, &self.keys) {
            (None, _) => vec![address.to_string()],
            (Some(_), Some(keys)) => keys.iter().map(|k| format!("{address}{k}")).collect(),
            (Some(_), None) => Vec::new(),
        }
    }
}

/// Splits an instance address into the resource's address and the instance key:
/// `aws_x.y["k"]` → (`aws_x.y`, `Some(Key("k"))`), `aws_x.y` → (`aws_x.y`, `None`).
pub fn split_instance_address(address: &str) -> (&str, Option<InstanceKey>) {
    let Some(body) = address.strip_suffix(']') else {
        return (address, None);
    };
    if address.starts_with("k8s/") {
        return (address, None);
    }
    if let Some(quoted_body) = body.strip_suffix('"') {
        // The opening quote: the last `"` not escaped by a backslash, right after a `[`.
        let bytes = quoted_body.as_bytes();
        let mut i = quoted_body.len();
        while i > 0 {
            i -= 1;
            if bytes[i] != b'"' {
                continue;
            }
            let backslashes = bytes[..i].iter().rev().take_while(|b| **b == b'\\').count();
            if backslashes % 2 == 1 {
                continue;
            }
            if i == 0 || bytes[i - 1] != b'[' {
                return (address, None);
            }
            let Some(key) = unescape_key(&quoted_body[i + 1..]) else {
                return (address, None);
            };
            return (&address[..i - 1], Some(InstanceKey::Key(key)));
        }
        return (address, None);
    }
    let Some(open) = body.rfind('[') else {
        return (address, None);
    };
    match body[open + 1..].parse::<usize>() {
        Ok(i) => (&body[..open], Some(InstanceKey::Index(i))),
        Err(_) => (address, None),
    }
}

/// The text of a quoted instance key, escapes resolved.
fn unescape_key(quoted: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            other => out.push(other),
        }
    }
    Some(out)
}

/// The module instance an address is in and the rest: `module.a["k"].aws_x.y` →
/// (`module.a["k"].`, `aws_x.y`); (``, address) in the root module.
pub fn split_module_prefix(address: &str) -> (&str, &str) {
    let mut rest = address;
    let mut consumed = 0;
    while let Some(after) = rest.strip_prefix("module.") {
        let name_end = after.find(['.', '[']).unwrap_or(after.len());
        let mut end = name_end;
        if after[end..].starts_with('[') {
            match instance_key_end(&after[end..]) {
                Some(len) => end += len,
                None => break,
            }
        }
        if !after[end..].starts_with('.') {
            break;
        }
        let step = "module.".len() + end + 1;
        consumed += step;
        rest = &rest[step..];
    }
    (&address[..consumed], rest)
}

/// The length of the instance key `[...]` at the start of `text`.
fn instance_key_end(text: &str) -> Option<usize> {
    let inner = text.strip_prefix('[')?;
    if let Some(quoted) = inner.strip_prefix('"') {
        let mut escaped = false;
        for (i, c) in quoted.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => return quoted[i + 1..].starts_with(']').then_some(i + 4),
                _ => {}
            }
        }
        return None;
    }
    let close = inner.find(']')?;
    inner[..close].parse::<usize>().ok().map(|_| close + 2)
}

/// The resource as configured, whatever instance: `module.a["k"].aws_x.y[0]` →
/// `module.a.aws_x.y`, as Terraform names a resource in `dependencies`. Dependencies and the
/// barriers of plan and apply use it, so n instances that need m others cost n + m.
pub fn config_resource_address(address: &str) -> std::borrow::Cow<'_, str> {
    let (prefix, rest) = split_module_prefix(address);
    let written = split_instance_address(rest).0;
    if prefix.is_empty() {
        return std::borrow::Cow::Borrowed(written);
    }
    let mut out = String::with_capacity(address.len());
    let mut remaining = prefix;
    while let Some(after) = remaining.strip_prefix("module.") {
        let name_end = after.find(['.', '[']).unwrap_or(after.len());
        out.push_str("module.");
        out.push_str(&after[..name_end]);
        out.push('.');
        let mut end = name_end;
        if after[end..].starts_with('[') {
            end += instance_key_end(&after[end..]).unwrap_or(0);
        }
        remaining = after[end..].strip_prefix('.').unwrap_or("");
    }
    out.push_str(written);
    std::borrow::Cow::Owned(out)
}

/// The names a dependency may give the resource instance at `address`: the resource as
/// written in its module instance (`module.a["k"].aws_x.y`), and, when different, as
/// configured for all instances (`module.a.aws_x.y`).
pub fn resource_groups(address: &str) -> impl Iterator<Item = std::borrow::Cow<'_, str>> {
    let written = split_instance_address(address).0;
    let config = config_resource_address(address);
    let second = (config != written).then_some(config);
    std::iter::once(std::borrow::Cow::Borrowed(written)).chain(second)
}

/// Whether `address` is a resource address, with optional module path and instance key:
/// `aws_x.y`, `data.aws_x.y`, `module.a["k"].aws_x.y[0]`.
pub fn is_resource_address(address: &str) -> bool {
    let (_, rest) = split_module_prefix(address);
    let (written, _) = split_instance_address(rest);
    let parts: Vec<&str> = written.split('.').collect();
    match parts.as_slice() {
        ["data", t, n] | [t, n] => *t != "module" && is_identifier(t) && is_identifier(n),
        _ => false,
    }
}

/// Whether `address` is inside the module `module` (a call, covering all its instances, or
/// one instance): `module.a["k"].x.y` is inside `module.a` and `module.a["k"]`.
pub fn within_module(address: &str, module: &str) -> bool {
    match address.strip_prefix(module) {
        Some(rest) => {
            rest.starts_with('.')
                || (rest.starts_with('[') && !module.ends_with(']') && {
                    let key_len = instance_key_end(rest).unwrap_or(0);
                    key_len > 0 && rest[key_len..].starts_with('.')
                })
        }
        None => false,
    }
}

/// Whether `address` names a module call or one of its instances: `module.a`,
/// `module.a["k"]`, `module.a.module.b[0]`.
pub fn is_module_address(address: &str) -> bool {
    let (prefix, rest) = split_module_prefix(address);
    let Some(after) = rest.strip_prefix("module.") else {
        return false;
    };
    let _ = prefix;
    let (name, key) = split_instance_address(after);
    is_identifier(name) && (key.is_some() || !after.contains(['[', '.']))
}

/// Everything declared in the resource files of all HCL sources: one namespace.
#[derive(Debug, Clone, Default)]
pub struct Module {
    /// Variables by name.
    pub variables: BTreeMap<String, VariableDecl>,
    /// Local values by name.
    pub locals: BTreeMap<String, LocalDecl>,
    /// Resources by address, HCL resources and Kubernetes objects alike. Once expanded (see
    /// `config/expand.rs`), a `count`/`for_each` resource is here as its instances
    /// (`aws_x.y[0]`, `aws_x.y["k"]`) and as written in [`Module::repeated`].
    pub resources: BTreeMap<String, ResourceDecl>,
    /// The `count`/`for_each` resources as written, by address, with their instance keys.
    pub repeated: BTreeMap<String, RepeatedResource>,
    /// Outputs by name.
    pub outputs: BTreeMap<String, OutputDecl>,
    /// `moved` blocks, in the order written (a chain `a → b`, `b → c` is followed).
    pub moved: Vec<MovedDecl>,
    /// `removed` blocks.
    pub removed: Vec<RemovedDecl>,
    /// `check` blocks by name.
    pub checks: BTreeMap<String, CheckDecl>,
    /// `import` blocks.
    pub imports: Vec<ImportDecl>,
    /// `provider` blocks of resource files, by configuration name (`aws`, `aws.west`).
    pub providers: BTreeMap<String, ProviderDecl>,
    /// `module` blocks of the root module, by name, as written; instantiation (see
    /// `eval/modules.rs`) moves them into [`Module::module_calls`].
    pub calls: BTreeMap<String, ModuleCall>,
    /// Every module call as expanded, by its address (`module.net`, `module.a.module.b`).
    pub module_calls: BTreeMap<String, ExpandedCall>,
    /// Every module instance by address (`module.net`, `module.svc["api"]`).
    pub module_instances: BTreeMap<String, ModuleInstance>,
    /// What `terraform {}` blocks say.
    pub terraform: TerraformSettings,
    /// Warnings found while loading (an ignored `backend` block).
    pub warnings: Diagnostics,
    /// Every value that was encrypted in the sources' SOPS files: a Kubernetes object's
    /// string that holds one is sensitive (docs/secrets.md).
    pub sops_secrets: Vec<String>,
}

/// Parses one file, turning a syntax error into a diagnostic at its line and column.
pub(crate) fn parse_file(file: &Arc<SourceText>) -> Result<Body, Diagnostic> {
    hcl_edit::parser::parse_body(&file.text).map_err(|e| {
        let location = e.location();
        Diagnostic::error(
            "Invalid HCL syntax",
            format!(
                "{}. Check the brackets, quotes and `=` signs around this point.",
                e.message()
            ),
        )
        .at(file.location_at(location.line(), location.column()))
    })
}

/// Parses resource files into one module. Every problem found is reported, not just the
/// first. Files are parsed on all cores (they are independent); their declarations join the
/// module in file order, so which of two duplicates is reported is the same on every run.
pub fn load_module(files: &[(Arc<SourceText>, PathBuf)]) -> Result<Module, Diagnostics> {
    // Below about 256 KiB of text, starting threads would cost more than they save.
    let worth_splitting = total_len(files) >= 256 * 1024;
    let parsed = crate::parallel::map(files, worth_splitting, |(file, base_dir)| {
        parse_declarations(file, base_dir)
    });
    let mut module = Module::default();
    let mut diags = Diagnostics::new();
    for declarations in parsed {
        for declaration in declarations {
            if let Err(d) = declaration.and_then(|d| add_declaration(&mut module, d)) {
                diags.push(d);
            }
        }
    }
    diags.into_result(module)
}

fn total_len(files: &[(Arc<SourceText>, PathBuf)]) -> usize {
    files.iter().map(|(file, _)| file.text.len()).sum()
}

/// One top-level block of a resource file, parsed but not yet part of a module.
enum Declaration {
    Variable(VariableDecl),
    Locals(Vec<LocalDecl>),
    Resource(Box<ResourceDecl>),
    Output(OutputDecl),
    /// `terraform {}` settings merge into the module's as they are read.
    Terraform(NestedBlock),
    Moved(MovedDecl),
    Removed(RemovedDecl),
    Check(CheckDecl),
    Import(ImportDecl),
    Call(ModuleCall),
    Provider(ProviderDecl),
}

/// Parses one file (a `.tf.json` file through its HCL form) into its declarations, each or
/// its own problem.
fn parse_declarations(
    file: &Arc<SourceText>,
    base_dir: &std::path::Path,
) -> Vec<Result<Declaration, Diagnostic>> {
    let converted;
    let file = if file.name.ends_with(".tf.json") {
        match super::tf_json::to_hcl(file) {
            Ok(hcl) => {
                converted = hcl;
                &converted
            }
            Err(d) => return vec![Err(d)],
        }
    } else {
        file
    };
    let body = match parse_file(file) {
        Ok(body) => body,
        Err(d) => return vec![Err(d)],
    };
    body.into_iter()
        .map(|structure| parse_declaration(structure, file, base_dir))
        .collect()
}

fn parse_declaration(
    structure: Structure,
    file: &Arc<SourceText>,
    base_dir: &std::path::Path,
) -> Result<Declaration, Diagnostic> {
    let block = match structure {
        Structure::Block(block) => NestedBlock::from_block(block, file)?,
        Structure::Attribute(attr) => {
            return Err(Diagnostic::error(
                "Unexpected attribute",
                format!(
                    "\"{}\" is set outside any block. Resource files hold variable, locals, resource and output blocks; put shared values in a locals block.",
                    attr.key.value()
                ),
            )
            .at(file.location(hcl_edit::Span::span(&attr.key).unwrap_or(0..0))));
        }
    };
    Ok(match block.kind.as_str() {
        "variable" => Declaration::Variable(parse_variable(&block)?),
        "locals" => Declaration::Locals(parse_locals(&block, base_dir)?),
        "resource" | "data" => Declaration::Resource(Box::new(parse_resource(block, base_dir)?)),
        "output" => Declaration::Output(parse_output(&block, base_dir)?),
        "terraform" => Declaration::Terraform(block),
        "moved" => Declaration::Moved(parse_moved(&block)?),
        "removed" => Declaration::Removed(parse_removed(&block)?),
        "check" => Declaration::Check(parse_check(&block, base_dir)?),
        "import" => Declaration::Import(parse_import(&block, base_dir)?),
        "module" => Declaration::Call(parse_module_call(&block, base_dir)?),
        "provider" => Declaration::Provider(parse_provider_block(&block, base_dir)?),
        other => {
            return Err(Diagnostic::error(
                "Unsupported block type",
                format!(
                    "Resource files have no \"{other}\" block.{} They hold variable, locals, resource and output blocks.",
                    crate::diag::closest(other, ["variable", "locals", "resource", "output", "module", "data"])
                        .map(|c| format!(" Did you mean \"{c}\"?"))
                        .unwrap_or_default()
                ),
            )
            .at(block.location.clone()));
        }
    })
}

/// Adds a parsed declaration to the module; a second declaration of the same name is an
/// error at the second.
fn add_declaration(module: &mut Module, declaration: Declaration) -> Result<(), Diagnostic> {
    match declaration {
        Declaration::Variable(v) => {
            insert_unique(&mut module.variables, v.name.clone(), v, "variable", |v| {
                &v.location
            })
        }
        Declaration::Locals(locals) => {
            for local in locals {
                insert_unique(
                    &mut module.locals,
                    local.name.clone(),
                    local,
                    "local value",
                    |l| &l.location,
                )?;
            }
            Ok(())
        }
        Declaration::Resource(r) => insert_unique(
            &mut module.resources,
            r.address.clone(),
            *r,
            "resource",
            |r| &r.location,
        ),
        Declaration::Output(o) => {
            insert_unique(&mut module.outputs, o.name.clone(), o, "output", |o| {
                &o.location
            })
        }
        Declaration::Terraform(block) => {
            parse_terraform(&block, &mut module.terraform, &mut module.warnings)
        }
        Declaration::Moved(m) => {
            module.moved.push(m);
            Ok(())
        }
        Declaration::Removed(r) => {
            module.removed.push(r);
            Ok(())
        }
        Declaration::Check(c) => {
            for decl in &c.data {
                insert_unique(
                    &mut module.resources,
                    decl.address.clone(),
                    decl.clone(),
                    "resource",
                    |r| &r.location,
                )?;
            }
            insert_unique(&mut module.checks, c.name.clone(), c, "check block", |c| {
                &c.location
            })
        }
        Declaration::Import(i) => {
            module.imports.push(i);
            Ok(())
        }
        Declaration::Call(c) => {
            insert_unique(&mut module.calls, c.name.clone(), c, "module call", |c| {
                &c.location
            })
        }
        Declaration::Provider(p) => insert_unique(
            &mut module.providers,
            p.name.clone(),
            p,
            "provider configuration",
            |p| &p.location,
        ),
    }
}

fn insert_unique<T>(
    map: &mut BTreeMap<String, T>,
    key: String,
    item: T,
    kind: &str,
    location: impl Fn(&T) -> &Location,
) -> Result<(), Diagnostic> {
    if let Some(first) = map.get(&key) {
        return Err(Diagnostic::error(
            format!("Duplicate {kind}"),
            format!(
                "{key} is already declared at {}. Each {kind} must have a unique name; rename or remove one of them.",
                location(first).short()
            ),
        )
        .at(location(&item).clone()));
    }
    map.insert(key, item);
    Ok(())
}

fn parse_variable(block: &NestedBlock) -> Result<VariableDecl, Diagnostic> {
    block.expect_labels(&["name"])?;
    block.body.check_names(
        "variable block",
        &[
            "type",
            "default",
            "sensitive",
            "description",
            "nullable",
            "ephemeral",
        ],
        &["validation"],
    )?;
    let type_constraint = match block.body.attribute("type") {
        Some(attr) => TypeConstraint::parse(&attr.expr).map_err(|detail| {
            Diagnostic::error("Invalid type specification", detail).at(attr.value_location.clone())
        })?,
        None => TypeConstraint::Any,
    };
    let literal_body = ConfigBody {
        attributes: block
            .body
            .attributes
            .iter()
            .filter(|a| a.name != "type")
            .cloned()
            .collect(),
        blocks: Vec::new(),
        ..block.body.clone()
    };
    let values = body_value(&literal_body)?;
    if bool_attr(&values, "ephemeral", block)? {
        return Err(Diagnostic::error(
            "Unsupported argument",
            "braid does not support ephemeral variables: it has no ephemeral values, which Terraform keeps out of plans and state. Remove \"ephemeral = true\"; mark the variable sensitive = true to keep its value out of output.",
        )
        .at_opt(block.body.attribute("ephemeral").map(|a| a.name_location.clone())));
    }
    let nullable = match values.attr("nullable") {
        None | Some(Value::Null) => true,
        Some(_) => bool_attr(&values, "nullable", block)?,
    };
    let validations = block
        .body
        .blocks
        .iter()
        .map(parse_validation)
        .collect::<Result<Vec<_>, _>>()?;
    let default = match values.attr("default") {
        Some(v) => Some(type_constraint.convert(v).map_err(|detail| {
            Diagnostic::error("Invalid default value for variable", format!("{detail}.")).at_opt(
                block
                    .body
                    .attribute("default")
                    .map(|a| a.value_location.clone()),
            )
        })?),
        None => None,
    };
    Ok(VariableDecl {
        name: block.labels[0].clone(),
        type_constraint,
        default,
        sensitive: bool_attr(&values, "sensitive", block)?,
        description: values
            .attr("description")
            .and_then(Value::as_str)
            .map(str::to_string),
        nullable,
        validations,
        location: block.location.clone(),
    })
}

fn parse_validation(block: &NestedBlock) -> Result<Validation, Diagnostic> {
    block.expect_labels(&[])?;
    block
        .body
        .check_names("validation block", &["condition", "error_message"], &[])?;
    let required = |name: &str| {
        block.body.attribute(name).ok_or_else(|| {
            Diagnostic::error(
                "Missing required argument",
                format!("A validation block needs a condition and an error_message; this one has no {name}."),
            )
            .at(block.location.clone())
        })
    };
    let condition = required("condition")?;
    let error_message = required("error_message")?;
    Ok(Validation {
        condition: condition.expr.clone(),
        error_message: error_message.expr.clone(),
        file: Arc::clone(&block.body.file),
        condition_location: condition.value_location.clone(),
    })
}

fn bool_attr(values: &Value, name: &str, block: &NestedBlock) -> Result<bool, Diagnostic> {
    match values.attr(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(Diagnostic::error(
            "Incorrect attribute value type",
            format!(
                "\"{name}\" must be true or false, but it is {}.",
                other.kind()
            ),
        )
        .at_opt(block.body.attribute(name).map(|a| a.value_location.clone()))),
    }
}

fn parse_locals(
    block: &NestedBlock,
    base_dir: &std::path::Path,
) -> Result<Vec<LocalDecl>, Diagnostic> {
    block.expect_labels(&[])?;
    if let Some(nested) = block.body.blocks.first() {
        return Err(Diagnostic::error(
            "Unsupported block type",
            "A locals block holds only attributes (name = expression).",
        )
        .at(nested.location.clone()));
    }
    Ok(block
        .body
        .attributes
        .iter()
        .map(|attr| LocalDecl {
            name: attr.name.clone(),
            expr: attr.expr.clone(),
            file: Arc::clone(&block.body.file),
            base_dir: base_dir.to_path_buf(),
            location: attr.name_location.clone(),
            module: String::new(),
        })
        .collect())
}

const MODULE_META: &[&str] = &[
    "source",
    "version",
    "count",
    "for_each",
    "depends_on",
    "providers",
];

fn parse_module_call(
    block: &NestedBlock,
    base_dir: &std::path::Path,
) -> Result<ModuleCall, Diagnostic> {
    block.expect_labels(&["name"])?;
    let name = block.labels[0].clone();
    if !is_identifier(&name) {
        return Err(Diagnostic::error(
            "Invalid module instance name",
            "A module name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes.",
        )
        .at(block.location.clone()));
    }
    if let Some(nested) = block.body.blocks.first() {
        return Err(Diagnostic::error(
            "Unsupported block type",
            format!(
                "Blocks of type \"{}\" are not expected in a module block: it takes the module's input variables as attributes (name = value).",
                nested.kind
            ),
        )
        .at(nested.location.clone()));
    }
    let source_attr = block.body.attribute("source").ok_or_else(|| {
        Diagnostic::error(
            "Missing required argument",
            "The argument \"source\" is required, but no definition was found. Give the module's path (source = \"./modules/net\") or git address.",
        )
        .at(block.location.clone())
    })?;
    let source = match &source_attr.expr {
        Expression::String(s) => s.value().to_string(),
        _ => {
            return Err(Diagnostic::error(
                "Invalid module source",
                "The module source must be a literal string, without references or interpolation: modules are read before anything is evaluated.",
            )
            .at(source_attr.value_location.clone()));
        }
    };
    let mut repetition: Option<Repetition> = None;
    let mut depends_on = Vec::new();
    let mut providers = BTreeMap::new();
    let mut providers_location = None;
    for attr in &block.body.attributes {
        match attr.name.as_str() {
            "count" | "for_each" => repetition = Some(parse_repetition(attr, repetition.as_ref())?),
            "depends_on" => depends_on = parse_depends_on(&attr.expr, &block.body.file)?,
            "version" => {
                return Err(Diagnostic::error(
                    "Invalid module source",
                    "\"version\" selects a release of a module registry source, and braid does not read module registries yet. Use a git source pinned to a tag: source = \"git::https://HOST/ORG/REPO.git//DIR?ref=v1.2.0\".",
                )
                .at(attr.name_location.clone()));
            }
            "providers" => {
                providers = parse_providers_map(attr)?;
                providers_location = Some(attr.value_location.clone());
            }
            _ => {}
        }
    }
    let mut arguments = block.body.clone();
    arguments
        .attributes
        .retain(|a| !MODULE_META.contains(&a.name.as_str()));
    Ok(ModuleCall {
        name,
        source,
        source_location: source_attr.value_location.clone(),
        arguments,
        repetition,
        depends_on,
        providers,
        providers_location,
        base_dir: base_dir.to_path_buf(),
        location: block.location.clone(),
    })
}

/// `providers = { aws = aws.west, aws.east = aws.east }`: the module's provider names
/// (keys) and the caller's configurations they stand for (values).
fn parse_providers_map(attr: &super::Attribute) -> Result<BTreeMap<String, String>, Diagnostic> {
    let invalid = || {
        Diagnostic::error(
            "Invalid providers argument",
            "providers takes a map from the module's provider names to the caller's provider configurations, like { aws = aws.west }, written without quotes.",
        )
        .at(attr.value_location.clone())
    };
    let Expression::Object(object) = &attr.expr else {
        return Err(invalid());
    };
    let mut out = BTreeMap::new();
    for (key, value) in object.iter() {
        let key_text = match key {
            hcl_edit::expr::ObjectKey::Ident(i) => i.value().to_string(),
            hcl_edit::expr::ObjectKey::Expression(e) => traversal_text(e).unwrap_or_default(),
        };
        let value_text = match value.expr() {
            Expression::String(_) => String::new(),
            expr => traversal_text(expr).unwrap_or_default(),
        };
        if !is_provider_name(&key_text) || !is_provider_name(&value_text) {
            return Err(invalid());
        }
        out.insert(key_text, value_text);
    }
    Ok(out)
}

const RESOURCE_META: &[&str] = &["depends_on", "count", "for_each", "provider"];

fn parse_resource(
    block: NestedBlock,
    base_dir: &std::path::Path,
) -> Result<ResourceDecl, Diagnostic> {
    block.expect_labels(&["type", "name"])?;
    let type_name = block.labels[0].clone();
    let name = block.labels[1].clone();
    let data = block.kind == "data";
    if !is_identifier(&type_name) || !is_identifier(&name) {
        return Err(Diagnostic::error(
            "Invalid resource name",
            "Resource types and names must start with a letter or underscore and contain only letters, digits, underscores and dashes.",
        )
        .at(block.location.clone()));
    }
    let NestedBlock {
        mut body, location, ..
    } = block;
    let mut depends_on = Vec::new();
    let mut repetition = None;
    let mut provider = None;
    for attr in &body.attributes {
        match attr.name.as_str() {
            "depends_on" => depends_on = parse_depends_on(&attr.expr, &body.file)?,
            "count" | "for_each" => repetition = Some(parse_repetition(attr, repetition.as_ref())?),
            "provider" => {
                provider = Some(parse_provider_reference(attr)?);
            }
            _ => {}
        }
    }
    body.attributes
        .retain(|a| !RESOURCE_META.contains(&a.name.as_str()));
    let mut lifecycle = Lifecycle::default();
    // A data block's lifecycle holds only conditions: nothing is created or destroyed.
    if data
        && let Some(lc) = body.blocks.iter().find(|b| b.kind == "lifecycle")
        && let Some(attr) = lc.body.attributes.first()
    {
        return Err(Diagnostic::error(
            "Unsupported lifecycle setting",
            format!(
                "A data block's lifecycle holds only precondition and postcondition blocks; \"{}\" applies to resources, which braid creates and destroys.",
                attr.name
            ),
        )
        .at(attr.name_location.clone()));
    }
    let mut lifecycle_blocks = body.blocks.iter().filter(|b| b.kind == "lifecycle");
    if let Some(lc) = lifecycle_blocks.next() {
        lifecycle = parse_lifecycle(lc)?;
    }
    if let Some(second) = lifecycle_blocks.next() {
        return Err(Diagnostic::error(
            "Duplicate lifecycle block",
            "A resource may have one lifecycle block.",
        )
        .at(second.location.clone()));
    }
    body.blocks.retain(|b| b.kind != "lifecycle");
    check_dynamic_blocks(&body.blocks)?;
    Ok(ResourceDecl {
        address: if data {
            format!("data.{type_name}.{name}")
        } else {
            format!("{type_name}.{name}")
        },
        provider: provider.unwrap_or_else(|| super::provider_of(&type_name).to_string()),
        type_name,
        name,
        body: ResourceBody::Hcl(body),
        depends_on,
        lifecycle,
        location,
        base_dir: base_dir.to_path_buf(),
        source: String::new(),
        repetition,
        instance: None,
        data,
        module: String::new(),
        check: None,
    })
}

/// A `provider "NAME"` block of a resource file; `alias` must be a literal name.
fn parse_provider_block(
    block: &NestedBlock,
    base_dir: &std::path::Path,
) -> Result<ProviderDecl, Diagnostic> {
    block.expect_labels(&["name"])?;
    let mut body = block.body.clone();
    let mut name = block.labels[0].clone();
    if let Some(attr) = body.attribute("alias") {
        let alias = match &attr.expr {
            Expression::String(s) if is_identifier(s.value()) => s.value().to_string(),
            _ => {
                return Err(Diagnostic::error(
                    "Invalid provider configuration alias",
                    "alias must be a literal name like \"west\": a letter or underscore, then letters, digits, underscores and dashes.",
                )
                .at(attr.value_location.clone()));
            }
        };
        name = format!("{name}.{alias}");
        body.attributes.retain(|a| a.name != "alias");
    }
    // Terraform's meta-argument of provider blocks; braid checks versions elsewhere.
    body.attributes.retain(|a| a.name != "version");
    Ok(ProviderDecl {
        name,
        body,
        base_dir: base_dir.to_path_buf(),
        location: block.location.clone(),
    })
}

/// `dynamic "KIND" { for_each = ..., iterator = NAME, content { ... } }` blocks, at any depth:
/// one label, a `for_each`, one `content` block, as Terraform requires.
fn check_dynamic_blocks(blocks: &[NestedBlock]) -> Result<(), Diagnostic> {
    for block in blocks {
        if block.kind == "dynamic" {
            if block.labels.len() != 1 {
                return Err(Diagnostic::error(
                    "Missing block label",
                    "A dynamic block has one label, the type of block it makes: dynamic \"ingress\" { ... }.",
                )
                .at(block.location.clone()));
            }
            block.body.check_names(
                "dynamic block",
                &["for_each", "iterator", "labels"],
                &["content"],
            )?;
            if block.body.attribute("for_each").is_none() {
                return Err(Diagnostic::error(
                    "Missing required argument",
                    "The argument \"for_each\" is required, but no definition was found: a dynamic block makes one block per element of for_each.",
                )
                .at(block.location.clone()));
            }
            if let Some(iterator) = block.body.attribute("iterator")
                && !matches!(&iterator.expr, Expression::Variable(_))
            {
                return Err(Diagnostic::error(
                    "Invalid dynamic iterator name",
                    "iterator must be a single name, like rule, written without quotes.",
                )
                .at(iterator.value_location.clone()));
            }
            let contents: Vec<&NestedBlock> = block
                .body
                .blocks
                .iter()
                .filter(|b| b.kind == "content")
                .collect();
            match contents.as_slice() {
                [content] => check_dynamic_blocks(&content.body.blocks)?,
                [] => {
                    return Err(Diagnostic::error(
                        "Missing content block",
                        "A dynamic block must have a nested content block, holding the arguments of each block it makes.",
                    )
                    .at(block.location.clone()));
                }
                [_, second, ..] => {
                    return Err(Diagnostic::error(
                        "Duplicate content block",
                        "A dynamic block may have only one content block.",
                    )
                    .at(second.location.clone()));
                }
            }
        } else {
            check_dynamic_blocks(&block.body.blocks)?;
        }
    }
    Ok(())
}

/// `provider = aws` or `provider = aws.west`, written as a reference.
fn parse_provider_reference(attr: &super::Attribute) -> Result<String, Diagnostic> {
    let text = match &attr.expr {
        Expression::String(_) => None,
        expr => traversal_text(expr),
    };
    text.filter(|t| is_provider_name(t))
    .ok_or_else(|| {
        Diagnostic::error(
            "Invalid provider reference",
            "provider takes a provider configuration written as a reference, like aws or aws.west (without quotes).",
        )
        .at(attr.value_location.clone())
    })
}

/// `count` or `for_each` (`attr`), refused when the other one (`first`) is already set.
fn parse_repetition(
    attr: &super::Attribute,
    first: Option<&Repetition>,
) -> Result<Repetition, Diagnostic> {
    if let Some(first) = first {
        return Err(Diagnostic::error(
            "Invalid combination of \"count\" and \"for_each\"",
            format!(
                "The \"count\" and \"for_each\" meta-arguments are mutually exclusive: {} is already set at {}. Keep one of them.",
                first.attribute().name,
                first.attribute().name_location.short()
            ),
        )
        .at(attr.name_location.clone()));
    }
    Ok(if attr.name == "count" {
        Repetition::Count(Arc::new(attr.clone()))
    } else {
        Repetition::ForEach(Arc::new(attr.clone()))
    })
}

/// `aws` or `aws.west`: a provider configuration's name.
fn is_provider_name(text: &str) -> bool {
    let mut parts = text.split('.');
    let name = parts.next().unwrap_or_default();
    let alias = parts.next();
    parts.next().is_none() && is_identifier(name) && alias.is_none_or(is_identifier)
}

fn is_identifier(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn parse_depends_on(
    expr: &Expression,
    file: &Arc<SourceText>,
) -> Result<Vec<(String, Location)>, Diagnostic> {
    let Expression::Array(items) = expr else {
        return Err(Diagnostic::error(
            "Invalid depends_on",
            "depends_on takes a list of resource addresses, like [local_file.config].",
        )
        .at(expr_location(file, expr)));
    };
    items
        .iter()
        .map(|item| match traversal_text(item) {
            Some(text) => Ok((text, expr_location(file, item))),
            None => Err(Diagnostic::error(
                "Invalid depends_on",
                "Each element of depends_on must name a resource, like local_file.config, without quotes or expressions.",
            )
            .at(expr_location(file, item))),
        })
        .collect()
}

fn parse_lifecycle(block: &NestedBlock) -> Result<Lifecycle, Diagnostic> {
    block.expect_labels(&[])?;
    block.body.check_names(
        "lifecycle block",
        &[
            "prevent_destroy",
            "create_before_destroy",
            "ignore_changes",
            "replace_triggered_by",
        ],
        &["precondition", "postcondition"],
    )?;
    let mut lifecycle = Lifecycle::default();
    for nested in &block.body.blocks {
        nested.expect_labels(&[])?;
        nested.body.check_names(
            &format!("{} block", nested.kind),
            &["condition", "error_message"],
            &[],
        )?;
        let required = |name: &str| {
            nested.body.attribute(name).ok_or_else(|| {
                Diagnostic::error(
                    "Missing required argument",
                    format!("A {} block needs {name}.", nested.kind),
                )
                .at(nested.location.clone())
            })
        };
        let condition = required("condition")?;
        let condition = Condition {
            condition: condition.expr.clone(),
            error_message: required("error_message")?.expr.clone(),
            location: condition.value_location.clone(),
        };
        if nested.kind == "precondition" {
            lifecycle.preconditions.push(condition);
        } else {
            lifecycle.postconditions.push(condition);
        }
    }
    for attr in &block.body.attributes {
        match attr.name.as_str() {
            "replace_triggered_by" => {
                let Expression::Array(items) = &attr.expr else {
                    return Err(Diagnostic::error(
                        "Invalid replace_triggered_by",
                        "replace_triggered_by takes a list of resource references, like [aws_s3_bucket.logs] or [aws_s3_bucket.logs.id].",
                    )
                    .at(attr.value_location.clone()));
                };
                for item in items.iter() {
                    let text = trigger_address(item).ok_or_else(|| {
                        Diagnostic::error(
                            "Invalid replace_triggered_by",
                            "Each element of replace_triggered_by must reference a resource, like aws_s3_bucket.logs, written without quotes.",
                        )
                        .at(expr_location(&block.body.file, item))
                    })?;
                    lifecycle.replace_triggered_by.push((
                        text,
                        item.clone(),
                        expr_location(&block.body.file, item),
                    ));
                }
            }
            "ignore_changes" => match &attr.expr {
                Expression::Variable(v) if v.value().as_str() == "all" => {
                    lifecycle.ignore_all_changes = true
                }
                Expression::Array(items) => {
                    for item in items.iter() {
                        let path = traversal_text(item).and_then(|t| Path::parse(&t)).ok_or_else(|| {
                            Diagnostic::error(
                                "Invalid ignore_changes",
                                "Each element of ignore_changes names an attribute of this resource, like content or tags[\"owner\"].",
                            )
                            .at(expr_location(&block.body.file, item))
                        })?;
                        lifecycle.ignore_changes.push(path);
                    }
                }
                other => {
                    return Err(Diagnostic::error(
                        "Invalid ignore_changes",
                        "ignore_changes takes a list of attribute names, or the keyword all.",
                    )
                    .at(expr_location(&block.body.file, other)));
                }
            },
            name => {
                let flag = match &attr.expr {
                    Expression::Bool(b) => *b.value(),
                    other => {
                        return Err(Diagnostic::error(
                            "Invalid lifecycle setting",
                            format!("{name} must be the literal true or false; lifecycle settings cannot use expressions."),
                        )
                        .at(expr_location(&block.body.file, other)));
                    }
                };
                if name == "prevent_destroy" {
                    lifecycle.prevent_destroy = flag;
                } else {
                    lifecycle.create_before_destroy = flag;
                }
            }
        }
    }
    Ok(lifecycle)
}

fn parse_moved(block: &NestedBlock) -> Result<MovedDecl, Diagnostic> {
    block.expect_labels(&[])?;
    block
        .body
        .check_names("moved block", &["from", "to"], &[])?;
    let address = |name: &str| -> Result<String, Diagnostic> {
        let attr = block.body.attribute(name).ok_or_else(|| {
            Diagnostic::error(
                "Missing required argument",
                format!("A moved block needs both from and to; {name} is missing."),
            )
            .at(block.location.clone())
        })?;
        let text = match &attr.expr {
            Expression::String(_) => None,
            expr => traversal_text(expr),
        };
        let text = text
            .filter(|t| is_resource_address(t) || is_module_address(t))
            .ok_or_else(|| {
                Diagnostic::error(
                    "Invalid address",
                    format!("{name} must be a resource address like aws_s3_bucket.logs, aws_s3_bucket.logs[\"k\"] or module.net.aws_vpc.main, or a module like module.net, written without quotes."),
                )
                .at(attr.value_location.clone())
            })?;
        Ok(text)
    };
    let (from, to) = (address("from")?, address("to")?);
    if is_module_address(&from) != is_module_address(&to) {
        return Err(Diagnostic::error(
            "Invalid \"moved\" addresses",
            format!(
                "Cannot move {from} to {to}: a module moves only to a module, and a resource only to a resource."
            ),
        )
        .at(block.location.clone()));
    }
    if from == to {
        return Err(Diagnostic::error(
            "Invalid moved block",
            "from and to are the same address: a move needs two different addresses.",
        )
        .at(block.location.clone()));
    }
    Ok(MovedDecl {
        from,
        to,
        location: block.location.clone(),
    })
}

fn parse_check(block: &NestedBlock, base_dir: &std::path::Path) -> Result<CheckDecl, Diagnostic> {
    block.expect_labels(&["name"])?;
    block
        .body
        .check_names("check block", &[], &["assert", "data"])?;
    let mut data = Vec::new();
    for nested in block.body.blocks.iter().filter(|b| b.kind == "data") {
        let mut decl = parse_resource(nested.clone(), base_dir)?;
        if decl.repetition.is_some() {
            return Err(Diagnostic::error(
                "Invalid nested data block",
                "A data block nested in a check block cannot use count or for_each.",
            )
            .at(nested.location.clone()));
        }
        decl.check = Some(block.labels[0].clone());
        data.push(decl);
    }
    let mut asserts = Vec::new();
    for assert in block.body.blocks.iter().filter(|b| b.kind == "assert") {
        assert.expect_labels(&[])?;
        assert
            .body
            .check_names("assert block", &["condition", "error_message"], &[])?;
        let required = |name: &str| {
            assert.body.attribute(name).ok_or_else(|| {
                Diagnostic::error(
                    "Missing required argument",
                    format!("An assert block needs {name}."),
                )
                .at(assert.location.clone())
            })
        };
        let condition = required("condition")?;
        asserts.push(Condition {
            condition: condition.expr.clone(),
            error_message: required("error_message")?.expr.clone(),
            location: condition.value_location.clone(),
        });
    }
    if asserts.is_empty() {
        return Err(Diagnostic::error(
            "Zero assert blocks",
            "Check blocks must have at least one assert block.",
        )
        .at(block.location.clone()));
    }
    Ok(CheckDecl {
        name: block.labels[0].clone(),
        data,
        asserts,
        file: Arc::clone(&block.body.file),
        base_dir: base_dir.to_path_buf(),
        location: block.location.clone(),
        module: String::new(),
    })
}

fn parse_import(block: &NestedBlock, base_dir: &std::path::Path) -> Result<ImportDecl, Diagnostic> {
    block.expect_labels(&[])?;
    block.body.check_names("import block", &["to", "id"], &[])?;
    let required = |name: &str| {
        block.body.attribute(name).ok_or_else(|| {
            Diagnostic::error(
                "Missing required argument",
                format!("An import block needs {name}: to = the address to import into, id = the object's id."),
            )
            .at(block.location.clone())
        })
    };
    let to_attr = required("to")?;
    let to = match &to_attr.expr {
        Expression::String(_) => None,
        expr => traversal_text(expr),
    }
    .filter(|t| is_resource_address(t))
    .ok_or_else(|| {
        Diagnostic::error(
            "Invalid address",
            "to must be a resource address like aws_s3_bucket.logs or aws_s3_bucket.logs[\"k\"], written without quotes.",
        )
        .at(to_attr.value_location.clone())
    })?;
    Ok(ImportDecl {
        to,
        id: required("id")?.expr.clone(),
        file: Arc::clone(&block.body.file),
        base_dir: base_dir.to_path_buf(),
        location: block.location.clone(),
    })
}

fn parse_removed(block: &NestedBlock) -> Result<RemovedDecl, Diagnostic> {
    block.expect_labels(&[])?;
    block
        .body
        .check_names("removed block", &["from"], &["lifecycle"])?;
    let attr = block.body.attribute("from").ok_or_else(|| {
        Diagnostic::error(
            "Missing required argument",
            "A removed block needs from = the address of the resource that left the configuration.",
        )
        .at(block.location.clone())
    })?;
    let from = match &attr.expr {
        Expression::String(_) => None,
        expr => traversal_text(expr),
    }
    .filter(|t| {
        (is_resource_address(t) && split_instance_address(t).1.is_none())
            || (is_module_address(t) && !t.ends_with(']'))
    })
    .ok_or_else(|| {
        Diagnostic::error(
            "Invalid address",
            "from must be a resource address like aws_s3_bucket.logs, or a module like module.net, without quotes or instance keys: a removed block covers every instance.",
        )
        .at(attr.value_location.clone())
    })?;
    let mut destroy = true;
    for lifecycle in block.body.blocks.iter().filter(|b| b.kind == "lifecycle") {
        lifecycle
            .body
            .check_names("lifecycle block of a removed block", &["destroy"], &[])?;
        if let Some(attr) = lifecycle.body.attribute("destroy") {
            destroy = match &attr.expr {
                Expression::Bool(b) => *b.value(),
                _ => {
                    return Err(Diagnostic::error(
                        "Invalid lifecycle setting",
                        "destroy must be the literal true or false.",
                    )
                    .at(attr.value_location.clone()));
                }
            };
        }
    }
    Ok(RemovedDecl {
        from,
        destroy,
        location: block.location.clone(),
    })
}

/// The resource (or instance, for a literal key) a `replace_triggered_by` element references:
/// `aws_x.y`, `aws_x.y[0]`, `aws_x.y["k"]`; an attribute after it, or a computed key
/// (`aws_x.y[each.key]`), still names the resource.
fn trigger_address(expr: &Expression) -> Option<String> {
    use hcl_edit::expr::TraversalOperator;
    let Expression::Traversal(traversal) = expr else {
        return None;
    };
    let Expression::Variable(root) = &traversal.expr else {
        return None;
    };
    let mut ops = traversal.operators.iter().map(|op| op.value());
    let Some(TraversalOperator::GetAttr(name)) = ops.next() else {
        return None;
    };
    let mut address = format!("{}.{}", root.value(), name.value());
    match ops.next() {
        Some(TraversalOperator::Index(Expression::Number(n))) => {
            address.push_str(&format!("[{}]", n.value()));
        }
        Some(TraversalOperator::Index(Expression::String(s))) => {
            address.push_str(&InstanceKey::Key(s.value().to_string()).to_string());
        }
        _ => {}
    }
    Some(address)
}

fn parse_output(block: &NestedBlock, base_dir: &std::path::Path) -> Result<OutputDecl, Diagnostic> {
    block.expect_labels(&["name"])?;
    block
        .body
        .check_names("output block", &["value", "sensitive", "description"], &[])?;
    let value = block.body.attribute("value").ok_or_else(|| {
        Diagnostic::error(
            "Missing required attribute",
            "An output block needs a value = expression.",
        )
        .at(block.location.clone())
    })?;
    let literal_body = ConfigBody {
        attributes: block
            .body
            .attributes
            .iter()
            .filter(|a| a.name != "value")
            .cloned()
            .collect(),
        ..block.body.clone()
    };
    let values = body_value(&literal_body)?;
    Ok(OutputDecl {
        name: block.labels[0].clone(),
        expr: value.expr.clone(),
        file: Arc::clone(&block.body.file),
        base_dir: base_dir.to_path_buf(),
        sensitive: bool_attr(&values, "sensitive", block)?,
        description: values
            .attr("description")
            .and_then(Value::as_str)
            .map(str::to_string),
        location: block.location.clone(),
        module: String::new(),
    })
}

#[cfg(test)]
mod address_tests {
    use super::*;

    #[test]
    fn instance_keys_split_off_the_last_bracket_even_inside_modules() {
        assert_eq!(
            split_instance_address("module.a[\"x\"].aws_x.y[\"k\"]"),
            (
                "module.a[\"x\"].aws_x.y",
                Some(InstanceKey::Key("k".into()))
            )
        );
        assert_eq!(
            split_instance_address("module.a[\"x\"].aws_x.y"),
            ("module.a[\"x\"].aws_x.y", None)
        );
        assert_eq!(
            split_instance_address("module.a[0].aws_x.y[3]"),
            ("module.a[0].aws_x.y", Some(InstanceKey::Index(3)))
        );
        // Keys holding brackets, quotes and backslashes.
        for key in ["a[\"b", "x[", "\"", "\\", "a\\\"]", "[\"]"] {
            let address = format!("aws_x.y{}", InstanceKey::Key(key.into()));
            assert_eq!(
                split_instance_address(&address),
                ("aws_x.y", Some(InstanceKey::Key(key.into()))),
                "{address}"
            );
        }
        assert_eq!(split_instance_address("k8s/core/Pod/a/b[0]").1, None);
    }

    #[test]
    fn config_resource_addresses_drop_every_key() {
        assert_eq!(
            config_resource_address("module.a[\"k.x\"].module.b[0].aws_x.y[\"z\"]"),
            "module.a.module.b.aws_x.y"
        );
        assert_eq!(config_resource_address("aws_x.y[3]"), "aws_x.y");
        assert_eq!(
            config_resource_address("module.a.data.aws_x.y"),
            "module.a.data.aws_x.y"
        );
    }

    #[test]
    fn module_prefixes_and_kinds_of_addresses() {
        assert_eq!(
            split_module_prefix("module.a[\"k.x\"].module.b.aws_x.y[0]"),
            ("module.a[\"k.x\"].module.b.", "aws_x.y[0]")
        );
        assert_eq!(split_module_prefix("aws_x.y"), ("", "aws_x.y"));
        assert_eq!(split_module_prefix("module.a"), ("", "module.a"));
        assert!(is_resource_address("module.a[\"k\"].data.aws_x.y"));
        assert!(!is_resource_address("module.a"));
        assert!(is_module_address("module.a"));
        assert!(is_module_address("module.a.module.b[\"k\"]"));
        assert!(!is_module_address("module.a.aws_x.y"));
        assert!(within_module("module.a[\"k\"].aws_x.y", "module.a"));
        assert!(within_module("module.a.aws_x.y", "module.a"));
        assert!(!within_module("module.ab.aws_x.y", "module.a"));
        assert!(!within_module("module.a[\"k\"].aws_x.y", "module.a[\"j\"]"));
    }
}
