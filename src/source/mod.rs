//! Sources: where configuration files come from.
//!
//! A source is a plain directory (`plain.rs`), or a git repository read at a ref straight
//! from its object database (`git.rs`), fetched into `.braid/cache/repos` first when it is
//! a URL (`remote.rs`). Either way the result is a [`LoadedSource`]: the files read, and a
//! [`SourceRevision`] (commit, tag, digest, dirty flag) that plans record and saved plans pin.
//! See docs/sources.md.

mod error;
mod git;
mod plain;
mod remote;
pub mod sops;
mod tree_cache;

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use braid_state::SourceRevision;
use sha2::{Digest, Sha256};

use crate::config::Project;
use crate::diag::{Diagnostic, Diagnostics, SourceText, closest};

pub use error::SourceError;
pub use git::{GitModuleTree, fetch_git_module};
pub use remote::{
    check_safe as check_repository_url, is_url as is_repository_url, redact as redact_url,
};

/// One configuration file of a source.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path inside the source, with `/` separators.
    pub path: String,
    /// The file's name and UTF-8 text, shared with every diagnostic and expression span that points
    /// into it.
    pub text: Arc<SourceText>,
    /// The directory holding the file (for `file()` and relative paths). For git sources a
    /// read-only extraction of the source's tree under `.braid/cache/trees/`.
    pub dir: PathBuf,
}

/// A source read from disk or from a repository.
#[derive(Debug, Clone)]
pub struct LoadedSource {
    /// The source's name in braid.hcl (`infra`, `apps`), which resources and plans refer to it by.
    pub name: String,
    /// The source's directory; for git sources its extracted tree in the cache.
    pub root: PathBuf,
    /// `*.hcl` and `*.tf` files at the top of the source (as Terraform reads a module
    /// directory).
    pub hcl_files: Vec<SourceFile>,
    /// `terraform.tfvars` and `*.auto.tfvars` at the top of the source, in name order: read
    /// as variable values, as Terraform reads them.
    pub tfvars_files: Vec<SourceFile>,
    /// `*.yaml` / `*.yml` files anywhere under the source: Kubernetes manifests and
    /// kustomizations.
    pub yaml_files: Vec<SourceFile>,
    /// How files of the source are named in diagnostics: `display_prefix` and the path
    /// relative to `display_root` (the project directory for plain sources, `SOURCE:PATH/`
    /// and the tree for git sources).
    pub display_root: PathBuf,
    /// See `display_root`.
    pub display_prefix: String,
    /// The SOPS files of the source, decrypted in memory (docs/secrets.md), by path inside
    /// the source; their text in `yaml_files` is the decrypted one too.
    pub decrypted: BTreeMap<String, String>,
    /// Every value that was encrypted in them: sensitive wherever it shows.
    pub secrets: Vec<String>,
    /// Where the files came from: repository, ref, commit, tag and a digest of the files read.
    /// Plans record it, saved plans pin git sources to its commit, and an environment's
    /// `apply_rule` is checked against it.
    pub revision: SourceRevision,
}

impl LoadedSource {
    /// The name diagnostics show for the file at `path` inside the source.
    pub fn display_name(&self, path: &FsPath) -> String {
        let rel = path
            .strip_prefix(&self.display_root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        format!("{}{rel}", self.display_prefix)
    }

    /// Folds the digest of files read for the source's modules into its digest, so a saved
    /// plan notices a changed module as it notices a changed top-level file.
    pub fn add_module_digest(&mut self, digest: &str) {
        let mut hasher = Sha256::new();
        hasher.update(self.revision.digest.as_bytes());
        hasher.update([0]);
        hasher.update(digest.as_bytes());
        self.revision.digest = format!("sha256:{}", hex::encode(hasher.finalize()));
    }
}

/// The resource files at the top of a module directory `dir`, which must stay inside
/// `tree_root` (the source's directory, or a git module's tree), named with `display`;
/// with a digest over them.
pub fn read_module_dir(
    tree_root: &FsPath,
    dir: &FsPath,
    display: &dyn Fn(&FsPath) -> String,
) -> Result<(Vec<SourceFile>, String), SourceError> {
    let raw = plain::read_module_files(tree_root, dir, display)?;
    decode_files(raw, dir)
}

/// The decoded files of a source, by what they hold.
struct SplitFiles {
    hcl: Vec<SourceFile>,
    tfvars: Vec<SourceFile>,
    yaml: Vec<SourceFile>,
}

/// Splits decoded files into resource files, variable files and manifests.
fn split_files(files: Vec<SourceFile>) -> SplitFiles {
    let mut split = SplitFiles {
        hcl: Vec::new(),
        tfvars: Vec::new(),
        yaml: Vec::new(),
    };
    for file in files {
        if HCL_FILES.matches(&file.path) {
            split.hcl.push(file);
        } else if TFVARS_FILES.matches(&file.path) {
            split.tfvars.push(file);
        } else {
            split.yaml.push(file);
        }
    }
    // terraform.tfvars first, then *.auto.tfvars in name order: later ones win.
    split
        .tfvars
        .sort_by_key(|f| (f.path != "terraform.tfvars", f.path.clone()));
    split
}

/// Whether the file at `rel` is read selected by any of the selections (resource files,
/// variable files, manifests).
pub fn is_configuration(rel: &str) -> bool {
    HCL_FILES.matches(rel) || TFVARS_FILES.matches(rel) || YAML_FILES.matches(rel)
}

/// A commit a saved plan recorded for a git source: applying reads exactly it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The full SHA of the commit to read.
    pub commit: String,
    /// The ref the plan asked for, recorded again as it was.
    pub reference: Option<String>,
    /// The tag name, when the ref the plan asked for was a tag.
    pub tag: Option<String>,
    /// The full name of the ref the commit was read from (`refs/heads/main`), recorded again so the
    /// apply rule sees what the plan saw; `None` when the plan read a bare commit SHA.
    pub full_ref: Option<String>,
}

/// How to read sources, from the command line.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// `--ref NAME=REF`: a ref per source name that overrides braid.hcl.
    pub refs: BTreeMap<String, String>,
    /// Commits pinned by a saved plan, per source name.
    pub pins: BTreeMap<String, Pin>,
    /// `--offline`: never fetch; remote repositories come from the cache.
    pub offline: bool,
}

/// Which files of a source to read: by extension, at the top only or in every directory.
#[derive(Debug, Clone, Copy)]
pub struct FileSelection {
    /// The file name extensions to read, without the dot (`hcl`, or `yaml` and `yml`).
    pub extensions: &'static [&'static str],
    /// Whether to read files in every subdirectory (manifests) or only at the top of the source
    /// (resource files).
    pub recursive: bool,
    /// Which file names (with an extension above) to read; all when `None`.
    pub names: Option<fn(&str) -> bool>,
}

/// Resource files: `*.hcl`, `*.tf` and `*.tf.json` at the top of the source, except
/// braid.hcl.
pub const HCL_FILES: FileSelection = FileSelection {
    extensions: &["hcl", "tf", "json"],
    recursive: false,
    names: Some(|name| !name.ends_with(".json") || name.ends_with(".tf.json")),
};

/// Variable files read without being named: `terraform.tfvars` and `*.auto.tfvars` at the
/// top of the source.
pub const TFVARS_FILES: FileSelection = FileSelection {
    extensions: &["tfvars"],
    recursive: false,
    names: Some(|name| name == "terraform.tfvars" || name.ends_with(".auto.tfvars")),
};

/// Kubernetes manifests: `*.yaml` / `*.yml` anywhere under the source.
pub const YAML_FILES: FileSelection = FileSelection {
    extensions: &["yaml", "yml"],
    recursive: true,
    names: None,
};

impl FileSelection {
    /// Whether the file at `rel` (path inside the source, `/`-separated) is selected.
    pub fn matches(&self, rel: &str) -> bool {
        if !self.recursive && rel.contains('/') {
            return false;
        }
        if rel == crate::config::PROJECT_FILE {
            return false;
        }
        // Hidden files and directories (.github, .gitlab-ci.yml, .braid) are never
        // configuration.
        if rel.split('/').any(|part| part.starts_with('.')) {
            return false;
        }
        let name = rel.rsplit('/').next().unwrap_or(rel);
        name.rsplit_once('.')
            .is_some_and(|(stem, ext)| !stem.is_empty() && self.extensions.contains(&ext))
            && self.names.is_none_or(|wanted| wanted(name))
    }
}

/// A file's bytes as read, before decoding: `rel` is its path inside the source.
#[derive(Debug)]
struct RawFile {
    rel: String,
    /// The name diagnostics show (see docs/sources.md).
    display: String,
    bytes: Vec<u8>,
}

/// Reads every source of the project as braid.hcl configures it.
pub fn load_sources(project: &Project) -> Result<Vec<LoadedSource>, Diagnostics> {
    load_sources_with(project, &SourceOptions::default())
}

/// Reads every source of the project, with refs overridden, commits pinned, or offline.
pub fn load_sources_with(
    project: &Project,
    options: &SourceOptions,
) -> Result<Vec<LoadedSource>, Diagnostics> {
    check_options(project, options)?;
    let mut diags = Diagnostics::new();
    let mut out = Vec::new();
    for source in &project.sources {
        let loaded = if source.repo.is_some() {
            git::load(project, source, options)
        } else if options.pins.contains_key(&source.name) {
            // A rollback of a plain directory: its files at the pinned commit, read from the
            // git work tree it belongs to.
            plain::worktree_source(project, source)
                .and_then(|as_git| git::load(project, &as_git, options))
        } else {
            plain::load(project, source)
        };
        match loaded {
            Ok(s) => out.push(s),
            Err(e) => diags.push(e.into_diagnostic(&source.name, source.location.clone())),
        }
    }
    diags.into_result(out)
}

/// The file `rel` of the source at `root` as text, read as the source's other files are:
/// inside it after symbolic links, a regular file of at most `BRAID_MAX_FILE_SIZE` bytes and
/// `max`. `None` when it cannot be read so.
pub fn read_text(root: &FsPath, rel: &str, max: u64) -> Option<String> {
    use braid_functions::source_read;
    let limit = source_read::max_file_size().ok()?.min(max);
    let real = source_read::resolve_inside(root, root, rel).ok()?;
    if !source_read::is_readable_regular(&real, limit) {
        return None;
    }
    String::from_utf8(source_read::read_regular(&real, rel, limit).ok()?).ok()
}

/// `--ref` must name a git source of the project.
fn check_options(project: &Project, options: &SourceOptions) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::new();
    for name in options.refs.keys() {
        match project.sources.iter().find(|s| &s.name == name) {
            Some(s) if s.repo.is_some() => {}
            Some(s) => diags.push(
                Diagnostic::error(
                    "Ref given for a plain directory",
                    format!(
                        "--ref {name}=... picks a git ref, but the source \"{name}\" is a plain directory (it has no \"repo\"). Drop the flag, or give the source a \"repo\" in braid.hcl."
                    ),
                )
                .at_opt(s.location.clone()),
            ),
            None => diags.push(Diagnostic::error(
                "Unknown source",
                format!(
                    "--ref names the source \"{name}\", which braid.hcl does not declare.{} Declared: {}.",
                    closest(name, project.sources.iter().map(|s| s.name.as_str()))
                        .map(|c| format!(" Did you mean \"{c}\"?"))
                        .unwrap_or_default(),
                    project
                        .sources
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
    diags.into_result(())
}

/// Decodes the selected files and computes the source digest over them: SHA-256 of each
/// file's path and text, in path order — the same for plain and git sources.
fn decode_files(
    files: Vec<RawFile>,
    dir: &FsPath,
) -> Result<(Vec<SourceFile>, String), SourceError> {
    let mut files = files;
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    let mut hasher = Sha256::new();
    let mut out = Vec::new();
    for file in files {
        let text = String::from_utf8(file.bytes).map_err(|e| SourceError::NotUtf8 {
            offset: e.utf8_error().valid_up_to(),
            lossy: String::from_utf8_lossy(e.as_bytes()).into_owned(),
            display: file.display.clone(),
        })?;
        hasher.update(file.rel.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
        out.push(SourceFile {
            text: SourceText::new(file.display, text),
            path: file.rel,
            dir: dir.to_path_buf(),
        });
    }
    Ok((out, format!("sha256:{}", hex::encode(hasher.finalize()))))
}

/// `dir/rel`, for `dir` empty or `.` just `rel`.
fn join_rel(dir: &str, rel: &str) -> String {
    match dir.trim_matches('/') {
        "" | "." => rel.to_string(),
        dir => format!("{dir}/{rel}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hcl_selection_is_top_level_without_project_file() {
        assert!(HCL_FILES.matches("main.hcl"));
        assert!(HCL_FILES.matches("main.tf"));
        assert!(!HCL_FILES.matches("modules/x.tf"));
        assert!(TFVARS_FILES.matches("terraform.tfvars"));
        assert!(TFVARS_FILES.matches("dev.auto.tfvars"));
        assert!(!TFVARS_FILES.matches("prod.tfvars"));
        assert!(!TFVARS_FILES.matches("env/terraform.tfvars"));
        assert!(!HCL_FILES.matches("braid.hcl"));
        assert!(!HCL_FILES.matches("modules/x.hcl"));
        assert!(!HCL_FILES.matches("notes.txt"));
        assert!(!HCL_FILES.matches(".hcl"));
    }

    #[test]
    fn yaml_selection_is_recursive() {
        assert!(YAML_FILES.matches("k8s/base/web.yaml"));
        assert!(YAML_FILES.matches("svc.yml"));
        assert!(!YAML_FILES.matches(".github/workflows/ci.yml"));
        assert!(!YAML_FILES.matches(".gitlab-ci.yml"));
        assert!(!YAML_FILES.matches("k8s/main.hcl"));
    }

    #[test]
    fn join_rel_handles_the_root() {
        assert_eq!(join_rel(".", "a.hcl"), "a.hcl");
        assert_eq!(join_rel("", "a.hcl"), "a.hcl");
        assert_eq!(join_rel("k8s/", "a.hcl"), "k8s/a.hcl");
    }
}
