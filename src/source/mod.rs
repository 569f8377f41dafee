//! Sources: where configuration files come from. Plain directories for now; each loaded
//! source records a digest of the files read so a saved plan can tell when they changed.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use braid_state::SourceRevision;
use sha2::{Digest, Sha256};

use crate::config::{Project, SourceConfig};
use crate::diag::{Diagnostic, Diagnostics, SourceText};

/// One configuration file of a source.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path inside the source, with `/` separators.
    pub path: String,
    pub text: Arc<SourceText>,
    /// The directory holding the file (for `file()` and relative paths).
    pub dir: PathBuf,
}

/// A source read from disk.
#[derive(Debug, Clone)]
pub struct LoadedSource {
    pub name: String,
    pub root: PathBuf,
    /// `*.hcl` files at the top of the source (as Terraform reads a module directory).
    pub hcl_files: Vec<SourceFile>,
    pub revision: SourceRevision,
}

/// Reads every source of the project.
pub fn load_sources(project: &Project) -> Result<Vec<LoadedSource>, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut out = Vec::new();
    for source in &project.sources {
        match load_directory(project, source) {
            Ok(s) => out.push(s),
            Err(d) => diags.push(d),
        }
    }
    diags.into_result(out)
}

fn load_directory(project: &Project, source: &SourceConfig) -> Result<LoadedSource, Diagnostic> {
    if source.repo.is_some() {
        return Err(Diagnostic::error(
            "Git sources are not supported yet",
            format!(
                "The source \"{}\" names a git repository; this build of braid reads plain directories only. Point \"path\" at a checkout instead.",
                source.name
            ),
        )
        .at_opt(source.location.clone()));
    }
    let root = project.dir.join(&source.path);
    let root = std::fs::canonicalize(&root).map_err(|e| {
        Diagnostic::error(
            "Source directory not found",
            format!(
                "The source \"{}\" reads {}, which cannot be opened: {e}. Fix \"path\" in braid.hcl (it is relative to the project directory).",
                source.name,
                root.display()
            ),
        )
        .at_opt(source.location.clone())
    })?;
    let mut names: Vec<PathBuf> = std::fs::read_dir(&root)
        .map_err(|e| {
            Diagnostic::error(
                "Cannot read source directory",
                format!("{}: {e}.", root.display()),
            )
            .at_opt(source.location.clone())
        })?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "hcl"))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n != crate::config::PROJECT_FILE)
        })
        .collect();
    names.sort();
    let mut hasher = Sha256::new();
    let mut hcl_files = Vec::new();
    for path in names {
        let bytes = std::fs::read(&path).map_err(|e| {
            Diagnostic::error(
                "Cannot read configuration file",
                format!(
                    "{}: {e}. Check that it exists and is readable.",
                    path.display()
                ),
            )
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let offset = e.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let file = SourceText::new(display_name(&project.dir, &path), lossy);
            Diagnostic::error(
                "Invalid UTF-8",
                format!(
                    "The file is not UTF-8 text: the byte at offset {offset} cannot be decoded. braid reads configuration as UTF-8; save the file in that encoding."
                ),
            )
            .at(file.location(offset..offset + 1))
        })?;
        let rel = path
            .strip_prefix(&root)
            .unwrap_or(&path)
            .to_string_lossy()
            .replace('\\', "/");
        hasher.update(rel.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
        hcl_files.push(SourceFile {
            text: SourceText::new(display_name(&project.dir, &path), text),
            path: rel,
            dir: root.clone(),
        });
    }
    Ok(LoadedSource {
        name: source.name.clone(),
        revision: SourceRevision {
            name: source.name.clone(),
            repo: root.display().to_string(),
            reference: None,
            commit: None,
            digest: format!("sha256:{}", hex::encode(hasher.finalize())),
            dirty: false,
        },
        root,
        hcl_files,
    })
}

/// The name users see for a file: its path relative to the project directory.
fn display_name(project_dir: &FsPath, path: &FsPath) -> String {
    path.strip_prefix(project_dir)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}
