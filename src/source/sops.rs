//! SOPS files in sources, decrypted in memory when the source is read (docs/secrets.md).
//!
//! Every YAML, JSON and dotenv file of a source that holds SOPS metadata is decrypted with
//! the keys of the process's environment (age identities as SOPS finds them, gpg, AWS KMS
//! credentials). What reads the source afterwards — manifests and kustomizations, Helm
//! values files, Kustomize generators' inputs, `sops_decrypt()` — sees the plain text; the
//! encrypted files stay as they are on disk and in the source's digest. The encrypted values
//! are collected so that every view masks them.

use std::path::Path;

use braid_sops::{Format, SopsError};

use super::{LoadedSource, SourceFile};
use crate::diag::{Diagnostic, Diagnostics, SourceText};

/// Files of these kinds are looked at; others cannot be SOPS files braid reads.
fn format_of(path: &str) -> Option<Format> {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        Some(Format::Yaml)
    } else if lower.ends_with(".json") {
        Some(Format::Json)
    } else if lower.ends_with(".env") {
        Some(Format::Dotenv)
    } else {
        None
    }
}

/// Decrypts the SOPS files of every source; a file that cannot be decrypted is an error
/// naming it and the keys tried.
pub fn decrypt_sources(sources: &mut [LoadedSource]) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::new();
    for source in sources.iter_mut() {
        if let Err(d) = decrypt_source(source) {
            diags.extend(d);
        }
    }
    diags.into_result(())
}

fn decrypt_source(source: &mut LoadedSource) -> Result<(), Diagnostics> {
    let mut diags = Diagnostics::new();
    // YAML files are in memory already; JSON and dotenv files are read from the source.
    let mut candidates: Vec<(String, Option<usize>, String)> = Vec::new();
    for (index, file) in source.yaml_files.iter().enumerate() {
        if braid_sops::looks_encrypted(&file.text.text) {
            candidates.push((file.path.clone(), Some(index), file.text.text.clone()));
        }
    }
    for rel in other_files(&source.root) {
        if let Some(text) = super::read_text(&source.root, &rel, u64::MAX)
            && braid_sops::looks_encrypted(&text)
        {
            candidates.push((rel, None, text));
        }
    }
    for (path, index, text) in candidates {
        let Some(format) = format_of(&path) else {
            continue;
        };
        if !braid_sops::is_encrypted(&text, format) {
            continue;
        }
        let shown = source.display_name(&source.root.join(&path));
        match braid_sops::decrypt_blocking(&text, format) {
            Ok(decrypted) => {
                if let Some(index) = index {
                    let file = &mut source.yaml_files[index];
                    file.text = SourceText::new(file.text.name.clone(), decrypted.text.clone());
                }
                source
                    .secrets
                    .extend(decrypted.secrets.into_iter().filter(|s| !s.is_empty()));
                source.decrypted.insert(path, decrypted.text);
            }
            Err(e) => diags.push(sops_diagnostic(
                &shown,
                &e,
                index.map(|i| &source.yaml_files[i]),
            )),
        }
    }
    source.secrets.sort();
    source.secrets.dedup();
    diags.into_result(())
}

/// The diagnostic of a SOPS file that could not be decrypted.
pub fn sops_diagnostic(shown: &str, error: &SopsError, file: Option<&SourceFile>) -> Diagnostic {
    let advice = match error {
        SopsError::NoKey(_) => {
            " Give braid one of the file's keys: an age identity in SOPS_AGE_KEY_FILE or SOPS_AGE_KEY, the PGP secret key in gpg's keyring (GNUPGHOME), or AWS credentials allowed to use its KMS key."
        }
        SopsError::Tampered(_) => {
            " Check the file's history, and encrypt it again from a trusted copy."
        }
        _ => "",
    };
    let diagnostic = Diagnostic::error(
        "Cannot decrypt SOPS file",
        format!("{shown}: {error}.{advice}"),
    );
    match file {
        Some(file) => diagnostic.at(file.text.location_at(1, 1)),
        None => diagnostic,
    }
}

/// JSON and dotenv files under `root` (not `.git` or `.braid`), as paths inside it.
fn other_files(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), String::new())];
    while let Some((dir, rel_dir)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if matches!(name.as_str(), ".git" | ".braid" | "node_modules") {
                continue;
            }
            let rel = if rel_dir.is_empty() {
                name.clone()
            } else {
                format!("{rel_dir}/{name}")
            };
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push((entry.path(), rel));
            } else if matches!(format_of(&rel), Some(Format::Json | Format::Dotenv)) {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}
