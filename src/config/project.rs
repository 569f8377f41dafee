//! The project file, `braid.hcl`: sources, environments and provider settings.

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use braid_provider::Value;
use hcl_edit::structure::{Body, Structure};

use super::body::{ConfigBody, NestedBlock};
use super::eval::{Evaluator, VariablesOnly};
use super::module::parse_file;
use crate::diag::{Diagnostic, Diagnostics, Location, SourceText};

/// The name of the project file, read from the project directory; never a resource file even when a
/// source's directory is the project directory.
pub const PROJECT_FILE: &str = "braid.hcl";

/// Where resources and manifests come from.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// The source's name, the block's label (`infra`, `apps`); unique in the project. Resources
    /// record it, `--ref NAME=REF` and diagnostics of git files (`apps:k8s/web.yaml`) use it.
    pub name: String,
    /// A git repository (path or URL); `None` for a plain directory.
    pub repo: Option<String>,
    /// The ref to read (`main`, `v1.4.0`, a commit).
    pub reference: Option<String>,
    /// A sub-directory: of the project directory, or of the repository.
    pub path: String,
    /// Where the `source` block is written; `None` for the implicit source `infra` of a project
    /// without `source` blocks.
    pub location: Option<Location>,
    /// The `helm` block: the source's folder is a Helm chart, rendered per environment.
    pub helm: Option<HelmBlock>,
}

/// A source's `helm { … }` block, kept unevaluated: its expressions may read `env.name`, so
/// they are evaluated once the environment is known (docs/helm.md).
#[derive(Debug, Clone)]
pub struct HelmBlock {
    /// The block's attributes.
    pub body: ConfigBody,
    /// Where the block is written.
    pub location: Location,
}

/// The attributes a `helm` block may set.
pub const HELM_ATTRIBUTES: &[&str] = &[
    "release",
    "namespace",
    "values",
    "set",
    "kube_version",
    "api_versions",
    "repositories",
    "plain_http",
];

/// The `state` block of an environment: which backend holds its state, and how to reach it.
#[derive(Debug, Clone, Default)]
pub struct StateConfig {
    /// `sqlite` (default).
    pub backend: String,
    /// Every other attribute of the `state` block (`path`, `url`...).
    pub settings: BTreeMap<String, Value>,
    /// Where the `state` block is written; `None` when the environment has none.
    pub location: Option<Location>,
    /// The `encryption` block: state is encrypted at rest when it is set.
    pub encryption: Option<EncryptionConfig>,
}

/// The `encryption` block of a `state` block: the keys state's data keys are wrapped for
/// (docs/secrets.md). At least one of `age_recipients` and `kms_key_id` is set.
#[derive(Debug, Clone)]
pub struct EncryptionConfig {
    /// age public keys (`age1…`); any of their identities decrypts.
    pub age_recipients: Vec<String>,
    /// An AWS KMS key (id, ARN or alias).
    pub kms_key_id: Option<String>,
    /// The KMS key's region (else the ARN's, else the AWS configuration's).
    pub kms_region: Option<String>,
    /// A custom KMS endpoint (moto, LocalStack).
    pub kms_endpoint: Option<String>,
    /// Where the block is written.
    pub location: Location,
}

/// An `environment "NAME"` block of braid.hcl: one deployment of the configuration, with its own
/// variables, state, apply rule and provider settings.
#[derive(Debug, Clone)]
pub struct EnvironmentConfig {
    /// The environment's name, chosen with `--env NAME` and read by configuration as `env.name`.
    pub name: String,
    /// The `variables` object: values for the configuration's variables, above `BRAID_VAR_` and
    /// defaults, below `--var`.
    pub variables: BTreeMap<String, Value>,
    /// The `overlay`: which Kustomize overlay to render in this environment. A kustomization
    /// `P/overlays/NAME` is rendered in place of `P` (or `P/base`); `None` renders no overlay.
    pub overlay: Option<String>,
    /// Where this environment's state is kept; SQLite under `.braid/state/` when there is no
    /// `state` block.
    pub state: StateConfig,
    /// Ref patterns that may be applied to this environment; empty means any.
    pub apply_refs: Vec<String>,
    /// Provider settings that override the top-level ones in this environment.
    pub providers: Vec<ProviderConfig>,
    /// `auto_apply`: `braid agent` applies new commits of the sources by itself (false: it
    /// plans them and reports the environment out of sync).
    pub auto_apply: bool,
    /// `interval`: how often `braid agent` looks at the sources; `None` takes the agent's
    /// `--interval`.
    pub interval: Option<std::time::Duration>,
    /// The `drift` block: how `braid agent` treats changes made outside braid.
    pub drift: DriftSettings,
    /// The environment's own `notify` blocks (besides the top-level ones).
    pub notify: Vec<super::notify::NotifyConfig>,
    /// The `window` blocks: when changes may be applied ([`super::window`]).
    pub windows: Vec<super::window::WindowConfig>,
    /// The environment's own `policy` blocks (besides the top-level ones).
    pub policies: Vec<PolicyConfig>,
    /// Where the `environment` block is written, for diagnostics.
    pub location: Option<Location>,
}

/// An environment's `drift { heal = true, interval = "10m" }` block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriftSettings {
    /// Undo changes made outside braid (apply the deployed configuration again); false
    /// reports them.
    pub heal: bool,
    /// How often the agent reads the live objects when the sources have not changed;
    /// `None` is every 10 minutes.
    pub interval: Option<std::time::Duration>,
}

/// A `provider "NAME"` block of braid.hcl, at the top level or inside an environment.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// The provider's name, the block's label (`local`, `kubernetes`, `aws`).
    pub name: String,
    /// The block's attributes and nested blocks as one map (nested blocks as maps by kind), with
    /// `env("NAME")` already evaluated; passed to the provider as its configuration.
    pub config: Value,
    /// Where the `provider` block is written, for diagnostics.
    pub location: Option<Location>,
}

/// The parsed `braid.hcl`.
#[derive(Debug, Clone)]
pub struct Project {
    /// The directory holding `braid.hcl` (absolute).
    pub dir: PathBuf,
    /// The `source` blocks, in the order written; one source `infra` at `.` when there are none.
    pub sources: Vec<SourceConfig>,
    /// The `environment` blocks, in the order written; empty without braid.hcl.
    pub environments: Vec<EnvironmentConfig>,
    /// The top-level `provider` blocks, shared by all environments.
    pub providers: Vec<ProviderConfig>,
    /// The `plugins` block: where Terraform provider plugins are looked for and cached.
    pub plugins: PluginSettings,
    /// The top-level `notify` blocks: where `braid agent` reports, for every environment.
    pub notify: Vec<super::notify::NotifyConfig>,
    /// The `server` block: who may read the status page, API and metrics of `braid agent`
    /// and `braid serve`.
    pub server: ServerAuth,
    /// The top-level `policy` blocks: Rego policies every environment's plans are checked
    /// against.
    pub policies: Vec<PolicyConfig>,
}

/// A `policy { path = "policy" }` block: a directory (or one file) of Rego policies,
/// relative to the project directory and inside it.
#[derive(Debug, Clone)]
pub struct PolicyConfig {
    /// The directory or `.rego` file, absolute.
    pub path: PathBuf,
    /// As written.
    pub written: String,
    /// Where the block is written.
    pub location: Option<Location>,
}

/// braid.hcl's `server { token = ..., username = ..., password = ... }`: when set, the
/// status page, the JSON API and `/metrics` want `Authorization: Bearer TOKEN` or basic
/// auth with that user and password (`/healthz`, `/readyz` and the webhooks, which carry
/// their own signatures, stay open). An empty token, user or password matches nothing.
#[derive(Debug, Clone, Default)]
pub struct ServerAuth {
    /// A bearer token.
    pub token: Option<String>,
    /// A user and password for basic auth.
    pub basic: Option<(String, String)>,
    /// Where the block is written.
    pub location: Option<Location>,
}

impl ServerAuth {
    /// Whether anything is asked of clients.
    pub fn enabled(&self) -> bool {
        self.token.is_some() || self.basic.is_some()
    }
}

/// braid.hcl's `plugins { dirs = [...] cache_dir = "..." }`: plugin directories searched
/// before the Terraform CLI configuration's (Terraform's unpacked mirror layout), and the
/// cache downloads go to. Relative paths are relative to braid.hcl's directory.
#[derive(Debug, Clone, Default)]
pub struct PluginSettings {
    /// `dirs`, made absolute.
    pub dirs: Vec<PathBuf>,
    /// `cache_dir`, made absolute.
    pub cache_dir: Option<PathBuf>,
}

impl Project {
    /// The environment declared with `name`, or `None` when braid.hcl declares none by that name
    /// (as for the `default` environment of a project without environments).
    pub fn environment(&self, name: &str) -> Option<&EnvironmentConfig> {
        self.environments.iter().find(|e| e.name == name)
    }

    /// The provider settings for an environment: top-level ones, overridden attribute by
    /// attribute by the environment's own `provider` blocks.
    pub fn provider_config(&self, env: Option<&EnvironmentConfig>, name: &str) -> Value {
        let mut config = self
            .providers
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.config.clone())
            .unwrap_or_else(|| Value::Map(braid_provider::ValueMap::new()));
        if let Some(over) = env.and_then(|e| e.providers.iter().find(|p| p.name == name))
            && let (Value::Map(base), Value::Map(extra)) = (&mut config, &over.config)
        {
            base.extend(extra.clone());
        }
        config
    }

    /// Where provider `name`'s settings are written: the environment's override block when
    /// it sets `attribute`, else the top-level `provider` block.
    pub fn provider_location(
        &self,
        env: Option<&EnvironmentConfig>,
        name: &str,
        attribute: Option<&str>,
    ) -> Option<Location> {
        let over = env.and_then(|e| e.providers.iter().find(|p| p.name == name));
        if let (Some(over), Some(attribute)) = (over, attribute)
            && over.config.attr(attribute).is_some()
        {
            return over.location.clone();
        }
        self.providers
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.location.clone())
            .or_else(|| over.and_then(|o| o.location.clone()))
    }
}

/// Reads `braid.hcl` from `dir`. A directory without one is a project with a single source
/// `infra` at `.` and no environments, so braid also works on a bare directory of `.hcl` files.
pub fn load_project(dir: &FsPath) -> Result<Project, Diagnostics> {
    let dir = std::fs::canonicalize(dir).map_err(|e| {
        Diagnostic::error(
            "Cannot open project directory",
            format!(
                "{}: {e}. Pass the project directory with -C DIR.",
                dir.display()
            ),
        )
    })?;
    let path = dir.join(PROJECT_FILE);
    let bytes = braid_functions::source_read::max_file_size()
        .and_then(|limit| braid_functions::source_read::read_regular(&path, PROJECT_FILE, limit));
    let text = match bytes {
        Ok(bytes) => String::from_utf8(bytes).map_err(|e| {
            Diagnostic::error(
                "Invalid UTF-8",
                format!(
                    "{PROJECT_FILE} is not UTF-8 text: the byte at offset {} cannot be decoded. Save it as UTF-8.",
                    e.utf8_error().valid_up_to()
                ),
            )
        })?,
        Err(e) if e.is_not_found() => {
            return Ok(Project {
                sources: vec![default_source()],
                dir,
                environments: Vec::new(),
                providers: Vec::new(),
                plugins: PluginSettings::default(),
                notify: Vec::new(),
                server: ServerAuth::default(),
                policies: Vec::new(),
            });
        }
        Err(e) => {
            return Err(Diagnostic::error(
                "Cannot read project file",
                format!("{e}. Make {PROJECT_FILE} a regular, readable file."),
            )
            .into());
        }
    };
    let file = SourceText::new(PROJECT_FILE, text);
    let body = parse_file(&file)?;
    parse_project(dir, body, &file)
}

fn default_source() -> SourceConfig {
    SourceConfig {
        name: "infra".to_string(),
        repo: None,
        reference: None,
        path: ".".to_string(),
        location: None,
        helm: None,
    }
}

fn parse_project(dir: PathBuf, body: Body, file: &Arc<SourceText>) -> Result<Project, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut project = Project {
        dir,
        sources: Vec::new(),
        environments: Vec::new(),
        providers: Vec::new(),
        plugins: PluginSettings::default(),
        notify: Vec::new(),
        server: ServerAuth::default(),
        policies: Vec::new(),
    };
    let mut server_seen = false;
    let mut plugins_seen = false;
    for structure in body {
        let block = match structure {
            Structure::Block(block) => match NestedBlock::from_block(block, file) {
                Ok(b) => b,
                Err(d) => {
                    diags.push(d);
                    continue;
                }
            },
            Structure::Attribute(attr) => {
                diags.push(
                    Diagnostic::error(
                        "Unexpected attribute",
                        format!(
                            "braid.hcl holds only source, environment and provider blocks; \"{}\" cannot be set at the top level.",
                            attr.key.value()
                        ),
                    )
                    .at(file.location(hcl_edit::Span::span(&attr.key).unwrap_or(0..0))),
                );
                continue;
            }
        };
        let result = match block.kind.as_str() {
            "source" => parse_source(&block).map(|s| project.sources.push(s)),
            "environment" => {
                parse_environment(&block, &project.dir).map(|e| project.environments.push(e))
            }
            "provider" => parse_provider(&block).and_then(|p| {
                if let Some(first) = project.providers.iter().find(|q| q.name == p.name) {
                    return Err(Diagnostic::error(
                        "Duplicate provider configuration",
                        format!(
                            "The provider {} is already configured at {}. Give one of them an alias (alias = \"west\") to configure it twice.",
                            p.name,
                            first.location.as_ref().map(|l| l.short()).unwrap_or_default()
                        ),
                    )
                    .at_opt(p.location.clone()));
                }
                project.providers.push(p);
                Ok(())
            }),
            "plugins" if plugins_seen => Err(Diagnostic::error(
                "Duplicate plugins block",
                "braid.hcl may have one plugins block; merge the settings into it.",
            )
            .at(block.location.clone())),
            "plugins" => {
                plugins_seen = true;
                parse_plugins(&block, &project.dir).map(|p| project.plugins = p)
            }
            "notify" => super::notify::parse_notify(&block).map(|n| project.notify.push(n)),
            "policy" => parse_policy(&block, &project.dir).map(|p| project.policies.push(p)),
            "server" if server_seen => Err(Diagnostic::error(
                "Duplicate server block",
                "braid.hcl may have one server block; merge the settings into it.",
            )
            .at(block.location.clone())),
            "server" => {
                server_seen = true;
                parse_server(&block).map(|s| project.server = s)
            }
            other => Err(Diagnostic::error(
                "Unsupported block type",
                format!(
                    "braid.hcl has no \"{other}\" block. It holds source, environment, provider, plugins, notify, policy and server blocks; resources, variables and outputs go in the .hcl files of a source."
                ),
            )
            .at(block.location.clone())),
        };
        if let Err(d) = result {
            diags.push(d);
        }
    }
    check_unique(
        &mut diags,
        project.sources.iter().map(|s| (&s.name, &s.location)),
        "source",
    );
    check_unique(
        &mut diags,
        project.environments.iter().map(|e| (&e.name, &e.location)),
        "environment",
    );
    check_unique(
        &mut diags,
        project.providers.iter().map(|p| (&p.name, &p.location)),
        "provider",
    );
    if project.sources.is_empty() {
        project.sources.push(default_source());
    }
    diags.into_result(project)
}

fn check_unique<'a>(
    diags: &mut Diagnostics,
    items: impl Iterator<Item = (&'a String, &'a Option<Location>)>,
    kind: &str,
) {
    let mut seen: BTreeMap<&str, &Option<Location>> = BTreeMap::new();
    for (name, location) in items {
        if let Some(first) = seen.insert(name, location) {
            let first = first.as_ref().map(Location::short).unwrap_or_default();
            diags.push(
                Diagnostic::error(
                    "Duplicate block",
                    format!("A {kind} named \"{name}\" is already declared at {first}. Names must be unique."),
                )
                .at_opt(location.clone()),
            );
        }
    }
}

/// Evaluates every attribute of a body (and nested blocks, as maps) to one value.
pub(crate) fn body_value(body: &ConfigBody) -> Result<Value, Diagnostic> {
    let scope = VariablesOnly::empty();
    let base = FsPath::new(".");
    let mut evaluator = Evaluator::new(&scope, &body.file, base).with_env_function();
    let mut out = BTreeMap::new();
    for attr in &body.attributes {
        out.insert(attr.name.clone(), evaluator.evaluate(&attr.expr)?.value);
    }
    for block in &body.blocks {
        out.insert(block.kind.clone(), body_value(&block.body)?);
    }
    Ok(Value::Map(out.into()))
}

/// A `helm` block's attributes, evaluated with `env.name` set to `env_name`.
pub fn helm_block_value(block: &HelmBlock, env_name: &str) -> Result<Value, Diagnostic> {
    let scope = VariablesOnly::empty().with_env_name(env_name);
    let base = FsPath::new(".");
    let mut evaluator = Evaluator::new(&scope, &block.body.file, base).with_env_function();
    let mut out = BTreeMap::new();
    for attr in &block.body.attributes {
        out.insert(attr.name.clone(), evaluator.evaluate(&attr.expr)?.value);
    }
    Ok(Value::Map(out.into()))
}

fn string_attr(
    value: &Value,
    name: &str,
    block: &NestedBlock,
) -> Result<Option<String>, Diagnostic> {
    match value.attr(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(Diagnostic::error(
            "Incorrect attribute value type",
            format!("\"{name}\" must be a string, but it is {}.", other.kind()),
        )
        .at_opt(block.body.attribute(name).map(|a| a.value_location.clone()))),
    }
}

fn bool_attr(value: &Value, name: &str, body: &ConfigBody) -> Result<Option<bool>, Diagnostic> {
    match value.attr(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(Diagnostic::error(
            "Incorrect attribute value type",
            format!(
                "\"{name}\" must be true or false, but it is {}.",
                other.kind()
            ),
        )
        .at_opt(body.attribute(name).map(|a| a.value_location.clone()))),
    }
}

/// A duration attribute (`"30s"`, `"5m"`, `"1h"`), more than zero.
fn duration_attr(
    value: &Value,
    name: &str,
    body: &ConfigBody,
) -> Result<Option<std::time::Duration>, Diagnostic> {
    let at = || body.attribute(name).map(|a| a.value_location.clone());
    match value.attr(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => match super::parse_duration(text) {
            Some(d) if !d.is_zero() => Ok(Some(d)),
            _ => Err(Diagnostic::error(
                "Invalid duration",
                format!(
                    "\"{name}\" takes a duration more than zero like \"30s\", \"5m\" or \"1h\", but it is \"{text}\"."
                ),
            )
            .at_opt(at())),
        },
        Some(other) => Err(Diagnostic::error(
            "Incorrect attribute value type",
            format!(
                "\"{name}\" must be a duration string like \"5m\", but it is {}.",
                other.kind()
            ),
        )
        .at_opt(at())),
    }
}

/// What is wrong with `name` as an environment or source name, or `None` when it is fine.
///
/// These names become file names (`.braid/state/<env>.db`) and parts of addresses, so they
/// are plain names: a letter or digit, then letters, digits, `_`, `.` and `-`, and no `..`.
/// Nothing that could climb out of a directory or name another one gets through.
pub fn plain_name_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let problem = match chars.next() {
        None => "is empty".to_string(),
        Some(first) if !first.is_ascii_alphanumeric() => {
            format!("starts with \"{first}\"")
        }
        Some(_) => match chars.find(|c| !(c.is_ascii_alphanumeric() || "_.-".contains(*c))) {
            Some(bad) => format!("contains \"{bad}\""),
            None if name.contains("..") => "contains \"..\"".to_string(),
            None => return None,
        },
    };
    Some(problem)
}

/// The rule [`plain_name_problem`] checks, in words, for diagnostics.
pub const PLAIN_NAME_RULE: &str = "Names start with a letter or digit, followed by letters, digits, \"_\", \".\" or \"-\", without \"..\"";

/// Fails when the block's label is not a plain name (see [`plain_name_problem`]); the
/// diagnostic points at the label.
fn check_label_is_plain_name(block: &NestedBlock, what: &str) -> Result<(), Diagnostic> {
    let name = &block.labels[0];
    match plain_name_problem(name) {
        None => Ok(()),
        Some(problem) => Err(Diagnostic::error(
            format!("Invalid {what} name"),
            format!(
                "The {what} name \"{name}\" {problem}. {PLAIN_NAME_RULE}, because the name is used in file names and addresses."
            ),
        )
        .at(block
            .label_locations
            .first()
            .cloned()
            .unwrap_or_else(|| block.location.clone()))),
    }
}

fn parse_plugins(block: &NestedBlock, dir: &FsPath) -> Result<PluginSettings, Diagnostic> {
    block.expect_labels(&[])?;
    block
        .body
        .check_names("plugins block", &["dirs", "cache_dir"], &[])?;
    let value = body_value(&block.body)?;
    let wrong = |what: String| {
        Diagnostic::error(
            "Incorrect attribute value type",
            format!("\"dirs\" must be a list of directory paths, but {what}."),
        )
        .at_opt(
            block
                .body
                .attribute("dirs")
                .map(|a| a.value_location.clone()),
        )
    };
    let dirs = match value.attr("dirs") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::List(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(dir.join(s)),
                other => Err(wrong(format!("it holds {}", other.kind()))),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(wrong(format!("it is {}", other.kind()))),
    };
    Ok(PluginSettings {
        dirs,
        cache_dir: string_attr(&value, "cache_dir", block)?.map(|c| dir.join(c)),
    })
}

fn parse_server(block: &NestedBlock) -> Result<ServerAuth, Diagnostic> {
    block.expect_labels(&[])?;
    block
        .body
        .check_names("server block", &["token", "username", "password"], &[])?;
    let value = body_value(&block.body)?;
    // Written but empty (an env() of a variable this machine does not set) still asks for
    // a token — one nobody has — rather than opening the server.
    let token = string_attr(&value, "token", block)?
        .or_else(|| block.body.attribute("token").map(|_| String::new()));
    let username = string_attr(&value, "username", block)?.filter(|u| !u.is_empty());
    let password = string_attr(&value, "password", block)?.filter(|p| !p.is_empty());
    let basic = match (username, password) {
        (Some(u), Some(p)) => Some((u, p)),
        (None, None) => None,
        (Some(_), None) if block.body.attribute("password").is_none() => {
            return Err(Diagnostic::error(
                "Missing password",
                "The server block sets a username for basic auth but no password. Add password = env(\"...\").",
            )
            .at(block.location.clone()));
        }
        (None, Some(_)) if block.body.attribute("username").is_none() => {
            return Err(Diagnostic::error(
                "Missing username",
                "The server block sets a password for basic auth but no username.",
            )
            .at(block.location.clone()));
        }
        // Written, but from an environment variable this machine does not set: the server
        // then refuses every request it would have let through with them.
        _ => Some((String::new(), String::new())),
    };
    Ok(ServerAuth {
        token,
        basic,
        location: Some(block.location.clone()),
    })
}

fn parse_source(block: &NestedBlock) -> Result<SourceConfig, Diagnostic> {
    block.expect_labels(&["name"])?;
    check_label_is_plain_name(block, "source")?;
    block
        .body
        .check_names("source block", &["path", "repo", "ref"], &["helm"])?;
    let mut helm = None;
    for nested in &block.body.blocks {
        if helm.is_some() {
            return Err(Diagnostic::error(
                "Duplicate helm block",
                "A source holds one chart, so it has at most one \"helm\" block.",
            )
            .at(nested.location.clone()));
        }
        nested.expect_labels(&[])?;
        nested
            .body
            .check_names("helm block", HELM_ATTRIBUTES, &[])?;
        helm = Some(HelmBlock {
            body: nested.body.clone(),
            location: nested.location.clone(),
        });
    }
    let value = body_value(&ConfigBody {
        blocks: Vec::new(),
        ..block.body.clone()
    })?;
    let repo = string_attr(&value, "repo", block)?;
    let reference = string_attr(&value, "ref", block)?;
    if reference.is_some() && repo.is_none() {
        return Err(Diagnostic::error(
            "Ref without a repository",
            "\"ref\" picks a branch, tag or commit of a git repository, so it needs \"repo\" too. For a directory of this checkout, set only \"path\".",
        )
        .at_opt(block.body.attribute("ref").map(|a| a.name_location.clone())));
    }
    Ok(SourceConfig {
        name: block.labels[0].clone(),
        path: string_attr(&value, "path", block)?.unwrap_or_else(|| ".".to_string()),
        repo,
        reference,
        location: Some(block.location.clone()),
        helm,
    })
}

fn parse_environment(
    block: &NestedBlock,
    project_dir: &std::path::Path,
) -> Result<EnvironmentConfig, Diagnostic> {
    block.expect_labels(&["name"])?;
    check_label_is_plain_name(block, "environment")?;
    block.body.check_names(
        "environment block",
        &["variables", "overlay", "auto_apply", "interval"],
        &[
            "state",
            "apply_rule",
            "provider",
            "drift",
            "notify",
            "window",
        ],
    )?;
    let mut env = EnvironmentConfig {
        name: block.labels[0].clone(),
        variables: BTreeMap::new(),
        overlay: None,
        state: StateConfig {
            backend: "sqlite".to_string(),
            ..StateConfig::default()
        },
        apply_refs: Vec::new(),
        providers: Vec::new(),
        auto_apply: false,
        interval: None,
        drift: DriftSettings::default(),
        notify: Vec::new(),
        windows: Vec::new(),
        policies: Vec::new(),
        location: Some(block.location.clone()),
    };
    let attrs = body_value(&ConfigBody {
        blocks: Vec::new(),
        ..block.body.clone()
    })?;
    match attrs.attr("variables") {
        None | Some(Value::Null) => {}
        Some(Value::Map(vars)) => env.variables = vars.clone().into_inner(),
        Some(other) => {
            return Err(Diagnostic::error(
                "Incorrect attribute value type",
                format!(
                    "\"variables\" must be an object like {{ replicas = 2 }}, but it is {}.",
                    other.kind()
                ),
            )
            .at_opt(
                block
                    .body
                    .attribute("variables")
                    .map(|a| a.value_location.clone()),
            ));
        }
    }
    env.overlay = string_attr(&attrs, "overlay", block)?;
    env.auto_apply = bool_attr(&attrs, "auto_apply", &block.body)?.unwrap_or(false);
    env.interval = duration_attr(&attrs, "interval", &block.body)?;
    let mut drift_blocks = 0;
    for nested in &block.body.blocks {
        match nested.kind.as_str() {
            "notify" => env.notify.push(super::notify::parse_notify(nested)?),
            "window" => env.windows.push(parse_window(nested)?),
            "policy" => env.policies.push(parse_policy(nested, project_dir)?),
            "drift" => {
                drift_blocks += 1;
                if drift_blocks > 1 {
                    return Err(Diagnostic::error(
                        "Duplicate drift block",
                        "An environment has at most one \"drift\" block.",
                    )
                    .at(nested.location.clone()));
                }
                nested.expect_labels(&[])?;
                nested
                    .body
                    .check_names("drift block", &["heal", "interval"], &[])?;
                let value = body_value(&nested.body)?;
                env.drift = DriftSettings {
                    heal: bool_attr(&value, "heal", &nested.body)?.unwrap_or(false),
                    interval: duration_attr(&value, "interval", &nested.body)?,
                };
            }
            "state" => {
                nested.expect_labels(&[])?;
                let value = body_value(&nested.body)?;
                let mut settings = value.as_map().cloned().unwrap_or_default();
                env.state.backend = match settings.remove("backend") {
                    None | Some(Value::Null) => "sqlite".to_string(),
                    Some(Value::String(s)) => s,
                    Some(other) => {
                        return Err(Diagnostic::error(
                            "Incorrect attribute value type",
                            format!(
                                "\"backend\" must be a string such as \"sqlite\", but it is {}.",
                                other.kind()
                            ),
                        )
                        .at(nested.location.clone()));
                    }
                };
                settings.remove("encryption");
                env.state.settings = settings.into_inner();
                env.state.location = Some(nested.location.clone());
                env.state.encryption = parse_encryption(nested)?;
            }
            "apply_rule" => {
                nested.expect_labels(&[])?;
                nested
                    .body
                    .check_names("apply_rule block", &["refs"], &[])?;
                let value = body_value(&nested.body)?;
                let refs = value
                    .attr("refs")
                    .and_then(Value::as_list)
                    .unwrap_or_default();
                for r in refs {
                    match r.as_str() {
                        Some(s) => env.apply_refs.push(s.to_string()),
                        None => {
                            return Err(Diagnostic::error(
                                "Incorrect attribute value type",
                                "\"refs\" must be a list of strings such as [\"refs/heads/main\", \"refs/tags/v*\"].",
                            )
                            .at(nested.location.clone()));
                        }
                    }
                }
            }
            _ => env.providers.push(parse_provider(nested)?),
        }
    }
    Ok(env)
}

/// The `encryption` block of a `state` block, if any.
fn parse_encryption(state: &NestedBlock) -> Result<Option<EncryptionConfig>, Diagnostic> {
    let mut blocks = state.body.blocks.iter().filter(|b| b.kind == "encryption");
    let Some(block) = blocks.next() else {
        return Ok(None);
    };
    if let Some(second) = blocks.next() {
        return Err(Diagnostic::error(
            "Duplicate encryption block",
            "A state block has at most one encryption block; list every age recipient in its age_recipients.",
        )
        .at(second.location.clone()));
    }
    block.expect_labels(&[])?;
    block.body.check_names(
        "encryption block",
        &["age_recipients", "kms_key_id", "kms_region", "kms_endpoint"],
        &[],
    )?;
    let value = body_value(&block.body)?;
    let at = |name: &str| {
        block
            .body
            .attribute(name)
            .map(|a| a.value_location.clone())
            .unwrap_or_else(|| block.location.clone())
    };
    let mut age_recipients = Vec::new();
    match value.attr("age_recipients") {
        None | Some(Value::Null) => {}
        Some(Value::List(items)) => {
            for item in items {
                let Some(text) = item.as_str() else {
                    return Err(Diagnostic::error(
                        "Incorrect attribute value type",
                        "\"age_recipients\" must be a list of age public keys such as [\"age1...\"].",
                    )
                    .at(at("age_recipients")));
                };
                braid_keys::age_keys::parse_recipient(text).map_err(|e| {
                    Diagnostic::error("Invalid age recipient", format!("{e}."))
                        .at(at("age_recipients"))
                })?;
                age_recipients.push(text.trim().to_string());
            }
        }
        Some(other) => {
            return Err(Diagnostic::error(
                "Incorrect attribute value type",
                format!(
                    "\"age_recipients\" must be a list of age public keys such as [\"age1...\"], but it is {}.",
                    other.kind()
                ),
            )
            .at(at("age_recipients")));
        }
    }
    let kms_key_id = string_attr(&value, "kms_key_id", block)?.filter(|k| !k.is_empty());
    if age_recipients.is_empty() && kms_key_id.is_none() {
        return Err(Diagnostic::error(
            "Missing encryption key",
            "An encryption block names the keys state is encrypted for: age_recipients = [\"age1...\"] (age-keygen -y KEYFILE prints one), kms_key_id = \"arn:aws:kms:...\", or both.",
        )
        .at(block.location.clone()));
    }
    Ok(Some(EncryptionConfig {
        age_recipients,
        kms_key_id,
        kms_region: string_attr(&value, "kms_region", block)?,
        kms_endpoint: string_attr(&value, "kms_endpoint", block)?,
        location: block.location.clone(),
    }))
}

/// A `policy { path = "..." }` block: the path must stay inside the project directory (a
/// pull request must not point braid at files elsewhere on the machine).
fn parse_policy(block: &NestedBlock, dir: &std::path::Path) -> Result<PolicyConfig, Diagnostic> {
    block.expect_labels(&[])?;
    block.body.check_names("policy block", &["path"], &[])?;
    let value = body_value(&block.body)?;
    let written = string_attr(&value, "path", block)?.ok_or_else(|| {
        Diagnostic::error(
            "Missing policy path",
            "A policy block names a directory (or a .rego file) of the project, like path = \"policy\".",
        )
        .at(block.location.clone())
    })?;
    let at = block
        .body
        .attribute("path")
        .map(|a| a.value_location.clone())
        .unwrap_or_else(|| block.location.clone());
    let relative = std::path::Path::new(&written);
    if relative.is_absolute()
        || relative
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(Diagnostic::error(
            "Policy path outside the project",
            format!("path = \"{written}\" leaves the project directory; policies are read from inside it, like path = \"policy\"."),
        )
        .at(at));
    }
    Ok(PolicyConfig {
        path: dir.join(relative),
        written,
        location: Some(block.location.clone()),
    })
}

/// A `window` block of an environment.
fn parse_window(block: &NestedBlock) -> Result<super::window::WindowConfig, Diagnostic> {
    block.expect_labels(&[])?;
    block.body.check_names(
        "window block",
        &[
            "kind",
            "schedule",
            "duration",
            "timezone",
            "resources",
            "sources",
            "manual_apply",
        ],
        &[],
    )?;
    let value = body_value(&block.body)?;
    let at = |name: &str| {
        block
            .body
            .attribute(name)
            .map(|a| a.value_location.clone())
            .unwrap_or_else(|| block.location.clone())
    };
    let required = |name: &str, example: &str| -> Result<String, Diagnostic> {
        string_attr(&value, name, block)?.ok_or_else(|| {
            Diagnostic::error(
                "Missing window setting",
                format!("A window block needs {name}, like {name} = {example}."),
            )
            .at(block.location.clone())
        })
    };
    let kind = required("kind", "\"allow\" or \"deny\"")?;
    let schedule = required("schedule", "\"0 9 * * 1-5\"")?;
    let duration = duration_attr(&value, "duration", &block.body)?.ok_or_else(|| {
        Diagnostic::error(
            "Missing window setting",
            "A window block needs duration, like duration = \"6h\".",
        )
        .at(block.location.clone())
    })?;
    let timezone = string_attr(&value, "timezone", block)?;
    let mut window =
        super::window::WindowConfig::new(&kind, &schedule, duration, timezone.as_deref()).map_err(
            |d| {
                let place = if d.summary.contains("kind") {
                    "kind"
                } else if d.summary.contains("schedule") {
                    "schedule"
                } else if d.summary.contains("zone") {
                    "timezone"
                } else {
                    "duration"
                };
                d.at(at(place))
            },
        )?;
    for (name, list) in [
        ("resources", &mut window.resources),
        ("sources", &mut window.sources),
    ] {
        match value.attr(name) {
            None | Some(Value::Null) => {}
            Some(v) => {
                let items = v.as_list().unwrap_or_default();
                if v.as_list().is_none() || items.iter().any(|i| i.as_str().is_none()) {
                    return Err(Diagnostic::error(
                        "Incorrect attribute value type",
                        format!("\"{name}\" must be a list of strings, like [\"k8s/*\"]."),
                    )
                    .at(at(name)));
                }
                list.extend(items.iter().filter_map(|i| i.as_str().map(str::to_string)));
            }
        }
    }
    window.manual_apply = bool_attr(&value, "manual_apply", &block.body)?.unwrap_or(false);
    window.location = Some(block.location.clone());
    Ok(window)
}

/// A `provider "NAME"` block; with `alias = "ALIAS"` it is the configuration `NAME.ALIAS`,
/// which resources select with `provider = NAME.ALIAS`.
fn parse_provider(block: &NestedBlock) -> Result<ProviderConfig, Diagnostic> {
    block.expect_labels(&["name"])?;
    let mut config = body_value(&block.body)?;
    let mut name = block.labels[0].clone();
    if let Value::Map(map) = &mut config
        && let Some(alias) = map.remove("alias")
    {
        let at = block
            .body
            .attribute("alias")
            .map(|a| a.value_location.clone());
        match alias.as_str() {
            Some(alias)
                if alias.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && alias
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
            {
                name = format!("{name}.{alias}");
            }
            _ => {
                return Err(Diagnostic::error(
                    "Invalid provider configuration alias",
                    "alias must be a name like \"west\": a letter or underscore, then letters, digits, underscores and dashes.",
                )
                .at_opt(at));
            }
        }
    }
    Ok(ProviderConfig {
        name,
        config,
        location: Some(block.location.clone()),
    })
}
