//! `braid fmt [--check] [--diff] [--recursive] [PATH...]`: rewrites `*.hcl`, `*.tf` and
//! `*.tfvars` files in the canonical layout of `terraform fmt` (`config::format`).

use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::json;

use super::{CommandResult, Context, EXIT_OK, EXIT_UNFORMATTED};
use crate::config::format::format_file;
use crate::diag::{Diagnostic, Diagnostics, SourceText};
use crate::view::Format;

/// The file names `braid fmt` formats when it walks a directory.
const EXTENSIONS: &[&str] = &["hcl", "tf", "tfvars"];

#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Files or directories to format (relative to -C DIR); default: the project
    /// directory. A file named here is formatted whatever its extension.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Change nothing: list the files that are not formatted and exit 3 if there are any.
    #[arg(long)]
    pub check: bool,
    /// Print the changes as a unified diff.
    #[arg(long)]
    pub diff: bool,
    /// Also format the files in subdirectories (hidden ones, such as .braid and .git,
    /// are skipped).
    #[arg(long)]
    pub recursive: bool,
}

pub fn run(cx: &Context, args: &FmtArgs) -> CommandResult {
    let base = &cx.global.dir;
    let roots = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let mut files = Vec::new();
    let mut diags = Diagnostics::new();
    for root in &roots {
        let full = base.join(root);
        if full.is_dir() {
            collect(&full, root, args.recursive, &mut files, &mut diags);
        } else if full.is_file() {
            files.push((full, root.clone()));
        } else {
            diags.push(Diagnostic::error(
                "No such file or directory",
                format!(
                    "{} does not exist. Give braid fmt files or directories of HCL (.hcl, .tf, .tfvars).",
                    root.display()
                ),
            ));
        }
    }
    let mut changed = Vec::new();
    let mut checked = Vec::new();
    for (full, shown) in &files {
        let name = shown.display().to_string();
        let text = match std::fs::read_to_string(full) {
            Ok(text) => text,
            Err(e) => {
                diags.push(Diagnostic::error(
                    "Cannot read file",
                    format!("Reading {name} failed: {e}."),
                ));
                continue;
            }
        };
        let formatted = match format_file(&SourceText::new(name.clone(), text.clone())) {
            Ok(formatted) => formatted,
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        checked.push(name.clone());
        if formatted == text {
            continue;
        }
        if !args.check
            && let Err(e) = std::fs::write(full, &formatted)
        {
            diags.push(Diagnostic::error(
                "Cannot write file",
                format!("Writing the formatted {name} failed: {e}. The file was left as it was."),
            ));
            continue;
        }
        if cx.shell.format() != Format::Json {
            cx.shell.out(&format!("{name}\n"));
            if args.diff {
                cx.shell.out(&unified_diff(&name, &text, &formatted));
            }
        }
        changed.push(name);
    }
    if cx.shell.format() == Format::Json {
        cx.shell.json(&json!({
            "check": args.check,
            "checked": checked,
            "changed": changed,
        }));
    }
    if !diags.is_empty() {
        return Err(diags);
    }
    Ok(if args.check && !changed.is_empty() {
        EXIT_UNFORMATTED
    } else {
        EXIT_OK
    })
}

/// The HCL files of `dir` in name order, and those of its subdirectories when `recursive`.
fn collect(
    dir: &Path,
    shown: &Path,
    recursive: bool,
    files: &mut Vec<(PathBuf, PathBuf)>,
    diags: &mut Diagnostics,
) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            diags.push(Diagnostic::error(
                "Cannot read directory",
                format!("Listing {} failed: {e}.", shown.display()),
            ));
            return;
        }
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let shown_path = if shown == Path::new(".") {
            PathBuf::from(name)
        } else {
            shown.join(name)
        };
        if path.is_dir() {
            if recursive && !name.starts_with('.') {
                collect(&path, &shown_path, recursive, files, diags);
            }
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e))
        {
            files.push((path, shown_path));
        }
    }
}

fn unified_diff(name: &str, before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .header(&format!("{name} (old)"), &format!("{name} (new)"))
        .to_string()
}
