//! Module calls: each `module "NAME"` block reads the module at its `source` (a directory of
//! the source, or a git repository at a ref) and instantiates it once, or once per `count`
//! index or `for_each` key, as Terraform does. An instance's resources, locals and checks go
//! into the flat [`Module`] under the instance's prefix (`module.net.aws_vpc.main`,
//! `module.svc["api"].local.name`), so planning and applying handle them like any other;
//! its variables and outputs are kept on the [`ModuleInstance`], valued lazily through the
//! evaluation scope.

use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path as FsPath, PathBuf};
use std::sync::Arc;

use braid_provider::Value;

use super::EvalScope;
use super::expand::{UnknownRepetition, repetition_keys, unknown_repetition};
use crate::config::eval::ScopeValue;
use crate::config::{
    ExpandedCall, InstanceKey, Module, ModuleCall, ModuleInstance, load_module,
    validation::check_rule,
};
use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{LoadedSource, SourceError, fetch_git_module, read_module_dir};

/// How deep module calls may nest: deeper is almost surely a module calling itself.
const MAX_DEPTH: usize = 32;

/// Where a module's files live: the tree its local `source` paths must stay in, and how its
/// files are named in diagnostics.
#[derive(Debug, Clone)]
struct Tree {
    /// Local module paths may not leave this directory: the source's, or a git module's
    /// extracted repository.
    root: PathBuf,
    /// The braid source the call chain starts in: its resources are counted there, and the
    /// module files read go into its digest.
    source: String,
    /// Files are named `display_prefix` + their path relative to `display_root`.
    display_root: PathBuf,
    display_prefix: String,
}

/// A module as read: its declarations as written, and where it is.
struct LoadedModule {
    config: Arc<Module>,
    dir: PathBuf,
    tree: Tree,
}

/// What a `source` argument names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ModuleSource {
    /// `./dir` or `../dir`, relative to the calling module's directory.
    Local(String),
    /// A git repository, a directory in it (`//dir`) and a ref (`?ref=`).
    Git {
        url: String,
        subdir: String,
        reference: Option<String>,
    },
}

/// Reads module directories and repositories, each once per load.
pub struct ModuleReader<'a> {
    project_dir: &'a FsPath,
    offline: bool,
    parsed: HashMap<PathBuf, Arc<Module>>,
    fetched: HashMap<(String, Option<String>), PathBuf>,
    /// The digests of the module files read, with the source whose call chain read them.
    digests: Vec<(String, String)>,
}

impl<'a> ModuleReader<'a> {
    /// A reader for the project at `project_dir`; `offline` reads git modules from the cache
    /// only (`--offline`).
    pub fn new(project_dir: &'a FsPath, offline: bool) -> Self {
        ModuleReader {
            project_dir,
            offline,
            parsed: HashMap::new(),
            fetched: HashMap::new(),
            digests: Vec::new(),
        }
    }

    /// Folds the digests of the module files read into their sources' digests.
    pub fn record_digests(self, sources: &mut [LoadedSource]) {
        for (source, digest) in self.digests {
            if let Some(s) = sources.iter_mut().find(|s| s.name == source) {
                s.add_module_digest(&digest);
            }
        }
    }

    fn read(&mut self, call: &ModuleCall, tree: &Tree) -> Result<LoadedModule, Diagnostics> {
        let at = || call.source_location.clone();
        let source = parse_source(&call.source)
            .map_err(|detail| Diagnostic::error("Invalid module source", detail).at(at()))?;
        let (dir, tree) = match source {
            ModuleSource::Local(path) => {
                let dir = inside(&tree.root, &call.base_dir, &path).map_err(|detail| {
                    Diagnostic::error("Module source outside its tree", detail).at(at())
                })?;
                (dir, tree.clone())
            }
            ModuleSource::Git {
                url,
                subdir,
                reference,
            } => {
                let key = (url.clone(), reference.clone());
                let root = match self.fetched.get(&key) {
                    Some(root) => root.clone(),
                    None => {
                        let fetched = fetch_git_module(
                            self.project_dir,
                            &url,
                            reference.as_deref(),
                            self.offline,
                        )
                        .map_err(|e| module_source_error(e, call))?;
                        self.fetched.insert(key, fetched.root.clone());
                        fetched.root
                    }
                };
                let display_prefix = format!(
                    "{}{}:",
                    crate::source::redact_url(&url),
                    reference.map(|r| format!("?ref={r}")).unwrap_or_default()
                );
                let git_tree = Tree {
                    root: root.clone(),
                    source: tree.source.clone(),
                    display_root: root.clone(),
                    display_prefix,
                };
                let dir = inside(&root, &root, if subdir.is_empty() { "." } else { &subdir })
                    .map_err(|detail| {
                        Diagnostic::error("Invalid module source", detail).at(at())
                    })?;
                (dir, git_tree)
            }
        };
        if !dir.is_dir() {
            return Err(Diagnostic::error(
                "Module not found",
                format!(
                    "The module directory {} of source \"{}\" does not exist. Check the path (local paths are relative to the file with the module block).",
                    display(&tree, &dir),
                    call.source
                ),
            )
            .at(at())
            .into());
        }
        if let Some(config) = self.parsed.get(&dir) {
            return Ok(LoadedModule {
                config: Arc::clone(config),
                dir,
                tree,
            });
        }
        let shown = |p: &FsPath| display(&tree, p);
        let (files, digest) =
            read_module_dir(&tree.root, &dir, &shown).map_err(|e| module_source_error(e, call))?;
        if files.is_empty() {
            return Err(Diagnostic::error(
                "Module not found",
                format!(
                    "The module directory {} holds no .tf, .tf.json or .hcl files.",
                    display(&tree, &dir)
                ),
            )
            .at(at())
            .into());
        }
        self.digests.push((tree.source.clone(), digest));
        let files: Vec<_> = files
            .iter()
            .map(|f| (Arc::clone(&f.text), f.dir.clone()))
            .collect();
        let config = Arc::new(load_module(&files)?);
        self.parsed.insert(dir.clone(), Arc::clone(&config));
        Ok(LoadedModule { config, dir, tree })
    }
}

fn display(tree: &Tree, path: &FsPath) -> String {
    let rel = path
        .strip_prefix(&tree.display_root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/");
    format!("{}{rel}", tree.display_prefix)
}

/// A failure to read a module's source, worded for the module call (the generic wording
/// speaks of braid.hcl's source blocks), at the call's `source`.
fn module_source_error(error: SourceError, call: &ModuleCall) -> Diagnostics {
    let at = call.source_location.clone();
    let module = format!("module.{}", call.name);
    let worded = match &error {
        SourceError::RefNotFound {
            repo,
            reference,
            suggestions,
        } => Some((
            "Git ref not found",
            format!(
                "The source of {module} asks for ?ref={reference}, which is no branch, tag or commit of {repo}.{} Fix the ref in the module's source.",
                match suggestions.as_slice() {
                    [] => String::new(),
                    names => format!(" Closest names: {}.", names.join(", ")),
                }
            ),
        )),
        SourceError::Fetch { url, cause } => Some((
            "Cannot fetch module repository",
            format!(
                "Fetching {url} for {module} failed: {}. Check the URL and your access to it: braid uses git's credential helpers, ssh setup and url.<base>.insteadOf rules. Pass --offline to use the cached copy.",
                crate::diag::error_chain(cause)
            ),
        )),
        SourceError::NotCached { url } => Some((
            "Module repository not cached",
            format!(
                "--offline reads module repositories from .braid/cache, but {url} ({module}) was never fetched. Run once without --offline."
            ),
        )),
        _ => None,
    };
    if let Some((summary, detail)) = worded {
        return Diagnostic::error(summary, detail).at(at).into();
    }
    let mut d = error.into_diagnostic(&module, None);
    if d.location.is_none() {
        d.location = Some(at);
    }
    d.into()
}

/// `base.join(path)`, which must exist and, symbolic links resolved, stay inside `root`.
fn inside(root: &FsPath, base: &FsPath, path: &str) -> Result<PathBuf, String> {
    let joined = base.join(path);
    let real = std::fs::canonicalize(&joined).map_err(|_| {
        format!(
            "The module directory \"{path}\" does not exist (looked for {}).",
            joined.display()
        )
    })?;
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    if !real.starts_with(&root) {
        return Err(format!(
            "\"{path}\" leads outside the directory braid reads this module's tree from ({}). A module's local source must stay inside its source (or its git repository); move the module there, or publish it in a git repository and use a git:: source.",
            root.display()
        ));
    }
    Ok(real)
}

/// Reads a module `source` string, as Terraform's module installer does for the kinds braid
/// supports; the others get a diagnostic saying what to use instead.
fn parse_source(text: &str) -> Result<ModuleSource, String> {
    if text.starts_with("./") || text.starts_with("../") || text == "." || text == ".." {
        return Ok(ModuleSource::Local(text.to_string()));
    }
    if text.starts_with('/') {
        return Err(format!(
            "\"{text}\" is an absolute path. A local module source starts with ./ or ../ and is relative to the calling file's directory."
        ));
    }
    let (forced, rest) = match text.split_once("::") {
        Some((getter, rest)) if !getter.contains('/') => (Some(getter), rest),
        _ => (None, text),
    };
    match forced {
        Some("git") => {}
        Some(other) => {
            return Err(format!(
                "braid reads modules from local directories and git repositories; \"{other}::\" sources are not supported. Use a git source: source = \"git::https://HOST/ORG/REPO.git//DIR?ref=TAG\"."
            ));
        }
        None => {
            let shorthand = ["github.com/", "bitbucket.org/"]
                .iter()
                .find(|host| rest.starts_with(*host));
            if let Some(host) = shorthand {
                let path = &rest[host.len()..];
                let (repo_part, tail) = split_subdir_and_query(path);
                let repo = repo_part.trim_end_matches(".git");
                return git_source(&format!("https://{host}{repo}.git{tail}"));
            }
            if rest.starts_with("git@") {
                return git_source(rest);
            }
            if rest.starts_with("http://") || rest.starts_with("https://") {
                return Err(format!(
                    "\"{text}\" is an HTTP address: Terraform would download an archive there, which braid does not do. For a git repository, write source = \"git::{text}\"."
                ));
            }
            return Err(format!(
                "\"{text}\" looks like a module registry address, and braid does not read module registries yet. Use the module's git repository at a tag: source = \"git::https://HOST/ORG/REPO.git//DIR?ref=v1.2.0\", or a local path starting with ./"
            ));
        }
    }
    git_source(rest)
}

/// The repository part of `path` and the rest (`//dir?query`), for the host shorthands.
fn split_subdir_and_query(path: &str) -> (&str, &str) {
    let end = [path.find("//"), path.find('?')]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(path.len());
    (&path[..end], &path[end..])
}

fn git_source(spec: &str) -> Result<ModuleSource, String> {
    let (address, query) = match spec.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (spec, None),
    };
    let mut reference = None;
    for pair in query.into_iter().flat_map(|q| q.split('&')) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "ref" if !value.is_empty() => reference = Some(value.to_string()),
            "depth" => {}
            "sshkey" => {
                return Err("The sshkey argument of git sources is not supported: braid uses ssh's own keys and agent, as git does.".to_string());
            }
            _ => {
                return Err(format!(
                    "Unknown argument \"{pair}\" in the git source; braid understands ?ref=TAG_BRANCH_OR_COMMIT."
                ));
            }
        }
    }
    // The directory inside the repository follows `//`, after the scheme's own `//`.
    let search_from = address.find("://").map_or(0, |i| i + 3);
    let (url, subdir) = match address[search_from..].find("//") {
        Some(i) => (
            &address[..search_from + i],
            address[search_from + i + 2..].trim_matches('/'),
        ),
        None => (address, ""),
    };
    if subdir.split('/').any(|part| part == "..") {
        return Err(format!(
            "The directory \"{subdir}\" of the git source leads outside the repository."
        ));
    }
    if url.starts_with("file://") || !crate::source::is_repository_url(url) {
        return Err(format!(
            "\"{url}\" is a repository on this machine. Configuration may not read outside its source, so module repositories are given by network URL (https, ssh, git). To use a local mirror, map the URL to it in git's configuration (url.<base>.insteadOf)."
        ));
    }
    crate::source::check_repository_url(url).map_err(|e| match e {
        SourceError::UnsafeUrl { url, why } => format!(
            "The repository URL \"{url}\" is refused: {why}. Use a plain https://, ssh:// or git:// URL."
        ),
        other => other.to_string(),
    })?;
    Ok(ModuleSource::Git {
        url: url.to_string(),
        subdir: subdir.to_string(),
        reference,
    })
}

/// One module call waiting to be instantiated.
struct Pending {
    parent: String,
    call: Arc<ModuleCall>,
    tree: Tree,
    depth: usize,
    /// The directory relative paths resolve against in the calling module.
    root_dir: PathBuf,
    /// The provider configurations of the calling module: its provider names (`aws`,
    /// `aws.east`) and the configurations of braid.hcl they stand for; a name not listed
    /// is its own.
    providers: BTreeMap<String, String>,
}

/// Instantiates every module call of `module` (the root module as loaded), recursively.
/// `sources` are the sources the root module's files come from: local module paths stay
/// inside them.
pub fn instantiate_modules(
    module: &mut Module,
    variables: &BTreeMap<String, ScopeValue>,
    env_name: &str,
    unknown: UnknownRepetition,
    reader: &mut ModuleReader<'_>,
    sources: &[LoadedSource],
) -> Result<(), Diagnostics> {
    let calls = std::mem::take(&mut module.calls);
    if calls.is_empty() {
        return Ok(());
    }
    let mut diags = Diagnostics::new();
    let mut queue: std::collections::VecDeque<Pending> = std::collections::VecDeque::new();
    for call in calls.into_values() {
        let file = call.file().name.clone();
        let Some(source) = sources
            .iter()
            .find(|s| s.hcl_files.iter().any(|f| f.text.name == file))
        else {
            continue;
        };
        let tree = Tree {
            root: source.root.clone(),
            source: source.name.clone(),
            display_root: source.display_root.clone(),
            display_prefix: source.display_prefix.clone(),
        };
        queue.push_back(Pending {
            parent: String::new(),
            providers: BTreeMap::new(),
            root_dir: call.base_dir.clone(),
            call: Arc::new(call),
            tree,
            depth: 1,
        });
    }
    while let Some(pending) = queue.pop_front() {
        let call = &pending.call;
        let address = format!("{}module.{}", pending.parent, call.name);
        if pending.depth > MAX_DEPTH {
            diags.push(
                Diagnostic::error(
                    "Module calls nest too deeply",
                    format!(
                        "{address} is {MAX_DEPTH} module calls deep. A module probably calls itself, directly or through others; break the loop."
                    ),
                )
                .at(call.location.clone()),
            );
            continue;
        }
        let loaded = match reader.read(call, &pending.tree) {
            Ok(l) => l,
            Err(d) => {
                diags.extend(d);
                continue;
            }
        };
        if let Err(d) = check_arguments(call, &loaded.config) {
            diags.extend(d);
            continue;
        }
        if let Some(provider) = loaded.config.providers.values().next() {
            diags.push(
                Diagnostic::error(
                    "Provider configuration in a module",
                    format!(
                        "The module called as \"{address}\" configures the provider {} itself. braid configures providers in the root module (its provider blocks, or braid.hcl) and passes them to modules: move the block there, and pass an aliased configuration with providers = {{ ... }} on the module call.",
                        provider.name
                    ),
                )
                .at(provider.location.clone()),
            );
        }
        for import in &loaded.config.imports {
            diags.push(
                Diagnostic::error(
                    "Invalid import configuration",
                    format!(
                        "An import block was detected in \"{address}\". Import blocks are only allowed in the root module."
                    ),
                )
                .at(import.location.clone()),
            );
        }
        let keys = match &call.repetition {
            None => Some(vec![None]),
            Some(repetition) => {
                let scope = EvalScope::new(module, variables, env_name);
                match repetition_keys(
                    &scope,
                    &pending.parent,
                    repetition,
                    call.file(),
                    &call.base_dir,
                    &address,
                ) {
                    Ok(Some(keys)) => Some(keys.into_iter().map(Some).collect()),
                    Ok(None) if unknown == UnknownRepetition::Allow => None,
                    Ok(None) => {
                        diags.push(unknown_repetition(Some(repetition), &address));
                        None
                    }
                    Err(d) => {
                        diags.push(d);
                        None
                    }
                }
            }
        };
        module.module_calls.insert(
            address.clone(),
            ExpandedCall {
                call: Arc::clone(call),
                keys: match (&call.repetition, &keys) {
                    (None, _) => Some(Vec::new()),
                    (Some(_), Some(keys)) => {
                        Some(keys.iter().flatten().map(|(k, _)| k.clone()).collect())
                    }
                    (Some(_), None) => None,
                },
            },
        );
        // Modules of the root module's own tree resolve relative paths against the root
        // module's directory, as Terraform does against its working directory; a git
        // module's files can only be read inside its own tree, so its paths resolve there.
        let same_tree = loaded.tree.root == pending.tree.root
            && pending.tree.display_prefix == loaded.tree.display_prefix;
        let (path_module, base_dir) = if same_tree {
            (
                relative(&pending.root_dir, &loaded.dir),
                pending.root_dir.clone(),
            )
        } else {
            (".".to_string(), loaded.dir.clone())
        };
        let variables = Arc::new(loaded.config.variables.clone());
        let outputs = Arc::new(loaded.config.outputs.clone());
        for key in keys.into_iter().flatten() {
            let instance_address = match &key {
                Some((k, _)) => format!("{address}{k}"),
                None => address.clone(),
            };
            let prefix = format!("{instance_address}.");
            let providers = child_providers(call, &pending.providers);
            if let Err(d) = merge_instance(
                module,
                &loaded.config,
                &prefix,
                &pending.tree.source,
                &base_dir,
                &providers,
            ) {
                diags.extend(d);
            }
            module.module_instances.insert(
                instance_address.clone(),
                ModuleInstance {
                    address: instance_address,
                    parent: pending.parent.clone(),
                    call: Arc::clone(call),
                    key,
                    variables: Arc::clone(&variables),
                    outputs: Arc::clone(&outputs),
                    base_dir: base_dir.clone(),
                    path_module: path_module.clone(),
                    path_root: ".".to_string(),
                    dir: loaded.dir.clone(),
                },
            );
            for child in loaded.config.calls.values() {
                queue.push_back(Pending {
                    parent: prefix.clone(),
                    call: Arc::new(child.clone()),
                    tree: loaded.tree.clone(),
                    depth: pending.depth + 1,
                    root_dir: base_dir.clone(),
                    providers: providers.clone(),
                });
            }
        }
        if module.warnings.is_empty() {
            module.warnings.extend(loaded.config.warnings.clone());
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }
    diags.extend(check_module_validations(module, variables, env_name));
    diags.into_result(())
}

/// The relative path from the directory `dir` to `root`: `modules/net` from the root
/// module's directory to a module's, `.` for the same directory.
fn relative(dir: &FsPath, root: &FsPath) -> String {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let dir_parts: Vec<Component<'_>> = dir.components().collect();
    let root_parts: Vec<Component<'_>> = root.components().collect();
    let common = dir_parts
        .iter()
        .zip(&root_parts)
        .take_while(|(a, b)| a == b)
        .count();
    if common <= 1 {
        return ".".to_string();
    }
    let mut parts: Vec<String> = vec!["..".to_string(); dir_parts.len() - common];
    parts.extend(
        root_parts[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// The arguments of a call against the module's variables: an argument no variable takes
/// and a required variable without argument are errors, in Terraform's words.
fn check_arguments(call: &ModuleCall, config: &Module) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::new();
    for attr in &call.arguments.attributes {
        if !config.variables.contains_key(&attr.name) {
            diags.push(
                Diagnostic::error(
                    "Unsupported argument",
                    format!(
                        "An argument named \"{}\" is not expected here: the module at \"{}\" declares no such variable.{}",
                        attr.name,
                        call.source,
                        crate::diag::closest(&attr.name, config.variables.keys().map(String::as_str))
                            .map(|c| format!(" Did you mean \"{c}\"?"))
                            .unwrap_or_default()
                    ),
                )
                .at(attr.name_location.clone()),
            );
        }
    }
    for (name, decl) in &config.variables {
        if decl.default.is_none() && call.arguments.attribute(name).is_none() {
            diags.push(
                Diagnostic::error(
                    "Missing required argument",
                    format!(
                        "The argument \"{name}\" is required, but no definition was found: the module's variable \"{name}\" (declared at {}) has no default.",
                        decl.location.short()
                    ),
                )
                .at(call.location.clone()),
            );
        }
    }
    diags.into_result(())
}

/// The provider configurations a module instance uses: the caller's default (unaliased)
/// ones under their own names, and what the call's `providers` argument passes, resolved
/// through the caller's own.
fn child_providers(
    call: &ModuleCall,
    parent: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let resolve = |name: &str| {
        parent
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_string())
    };
    let mut out: BTreeMap<String, String> = parent
        .iter()
        .filter(|(name, _)| !name.contains('.'))
        .map(|(name, global)| (name.clone(), global.clone()))
        .collect();
    for (name, given) in &call.providers {
        out.insert(name.clone(), resolve(given));
    }
    out
}

/// Copies the declarations of a module into the flat module under `prefix`, relative paths
/// in them resolving against `base_dir`, provider names mapped through `providers`.
fn merge_instance(
    module: &mut Module,
    config: &Module,
    prefix: &str,
    source: &str,
    base_dir: &FsPath,
    providers: &BTreeMap<String, String>,
) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::new();
    for decl in config.resources.values() {
        let mut decl = decl.clone();
        decl.base_dir = base_dir.to_path_buf();
        decl.address = format!("{prefix}{}", decl.address);
        decl.module = prefix.to_string();
        decl.source = source.to_string();
        match providers.get(&decl.provider) {
            Some(global) => decl.provider = global.clone(),
            None if decl.provider.contains('.') => diags.push(
                Diagnostic::error(
                    "Provider configuration not present",
                    format!(
                        "{} uses the provider configuration {}, which the module call does not pass. Pass it in the module block: providers = {{ {} = {} }}.",
                        decl.address, decl.provider, decl.provider, decl.provider
                    ),
                )
                .at(decl.location.clone()),
            ),
            None => {}
        }
        for (text, _, _) in &mut decl.lifecycle.replace_triggered_by {
            *text = format!("{prefix}{text}");
        }
        module.resources.insert(decl.address.clone(), decl);
    }
    for local in config.locals.values() {
        let mut local = local.clone();
        local.module = prefix.to_string();
        local.base_dir = base_dir.to_path_buf();
        module
            .locals
            .insert(format!("{prefix}{}", local.name), local);
    }
    for check in config.checks.values() {
        let mut check = check.clone();
        check.module = prefix.to_string();
        check.base_dir = base_dir.to_path_buf();
        module
            .checks
            .insert(format!("{prefix}{}", check.name), check);
    }
    for moved in &config.moved {
        let mut moved = moved.clone();
        moved.from = format!("{prefix}{}", moved.from);
        moved.to = format!("{prefix}{}", moved.to);
        module.moved.push(moved);
    }
    for removed in &config.removed {
        let mut removed = removed.clone();
        removed.from = format!("{prefix}{}", removed.from);
        module.removed.push(removed);
    }
    diags.into_result(())
}

/// The `validation` rules of module variables, checked where their values are known
/// before planning (from variables and locals); a value known only after apply is not
/// checked.
fn check_module_validations(
    module: &Module,
    variables: &BTreeMap<String, ScopeValue>,
    env_name: &str,
) -> Diagnostics {
    let scope = EvalScope::new(module, variables, env_name);
    let mut diags = Diagnostics::new();
    for instance in module.module_instances.values() {
        let prefix = instance.prefix();
        for (name, decl) in instance.variables.iter() {
            for rule in &decl.validations {
                if let Err(mut d) = check_rule(&scope, &prefix, name, rule) {
                    d.detail =
                        format!("{} (variable \"{name}\" of {})", d.detail, instance.address);
                    diags.push(d);
                    break;
                }
            }
        }
    }
    diags
}

/// The instance key and `each.value` of an instance, for callers building bindings.
pub fn instance_binding(key: &Option<(InstanceKey, Option<Value>)>) -> Option<(&str, Value)> {
    match key {
        Some((k, Some(each))) => Some((
            "each",
            Value::map([("key", k.value()), ("value", each.clone())]),
        )),
        Some((k, None)) => Some(("count", Value::map([("index", k.value())]))),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_sources() {
        assert_eq!(
            parse_source("./modules/net"),
            Ok(ModuleSource::Local("./modules/net".into()))
        );
        assert!(parse_source("/etc").is_err());
    }

    #[test]
    fn git_sources_with_directory_and_ref() {
        assert_eq!(
            parse_source("git::https://git.example.com/org/mods.git//net/vpc?ref=v1.2.0"),
            Ok(ModuleSource::Git {
                url: "https://git.example.com/org/mods.git".into(),
                subdir: "net/vpc".into(),
                reference: Some("v1.2.0".into()),
            })
        );
        assert_eq!(
            parse_source("github.com/org/mods//net?ref=v1"),
            Ok(ModuleSource::Git {
                url: "https://github.com/org/mods.git".into(),
                subdir: "net".into(),
                reference: Some("v1".into()),
            })
        );
        assert_eq!(
            parse_source("git::ssh://git@example.com/org/mods.git"),
            Ok(ModuleSource::Git {
                url: "ssh://git@example.com/org/mods.git".into(),
                subdir: String::new(),
                reference: None,
            })
        );
    }

    #[test]
    fn refused_sources_say_what_to_use() {
        for (source, needle) in [
            ("hashicorp/consul/aws", "registry"),
            ("s3::https://bucket/x.zip", "not supported"),
            ("git::file:///srv/mods.git", "on this machine"),
            ("git::/srv/mods.git", "on this machine"),
            ("https://example.com/mod.zip", "archive"),
            ("git::https://h/r.git//../x", "outside"),
            ("git::ext::sh -c x", "helper"),
        ] {
            let err = parse_source(source).expect_err(source);
            assert!(err.contains(needle), "{source}: {err}");
        }
    }

    #[test]
    fn module_paths_are_relative_to_the_root_module() {
        assert_eq!(
            relative(FsPath::new("/p/src"), FsPath::new("/p/src/modules/net")),
            "modules/net"
        );
        assert_eq!(
            relative(
                FsPath::new("/p/src/modules/a"),
                FsPath::new("/p/src/modules/b")
            ),
            "../b"
        );
        assert_eq!(relative(FsPath::new("/p/src"), FsPath::new("/p/src")), ".");
    }
}
