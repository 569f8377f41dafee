//! `braid sops encrypt | decrypt | edit FILE`: SOPS files made and read as the `sops` tool
//! does (docs/secrets.md), with the keys of `.sops.yaml` creation rules or of flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use braid_sops::{EncryptOptions, Format, KeySources, SopsError};
use clap::{Args, Subcommand};

use super::{CommandResult, Context, EXIT_OK};
use crate::diag::{Diagnostic, Diagnostics};

#[derive(Debug, Subcommand)]
pub enum SopsCommand {
    /// Encrypt a YAML, JSON or dotenv file for the keys of the first `.sops.yaml` creation
    /// rule whose path_regex matches it (or of --age/--pgp/--kms), printing it or, with
    /// --in-place, rewriting the file.
    Encrypt(EncryptArgs),
    /// Print a SOPS file decrypted (or rewrite it decrypted with --in-place).
    Decrypt {
        file: PathBuf,
        /// Rewrite the file instead of printing it.
        #[arg(short = 'i', long)]
        in_place: bool,
    },
    /// Open a SOPS file decrypted in $SOPS_EDITOR or $EDITOR, and encrypt it again with the
    /// same keys when it was changed.
    Edit { file: PathBuf },
}

#[derive(Debug, Args)]
pub struct EncryptArgs {
    pub file: PathBuf,
    /// age recipients (comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    pub age: Vec<String>,
    /// PGP key fingerprints, encrypted to with gpg.
    #[arg(long, value_delimiter = ',')]
    pub pgp: Vec<String>,
    /// AWS KMS key ARNs.
    #[arg(long, value_delimiter = ',')]
    pub kms: Vec<String>,
    /// Encrypt only the values under keys matching this regular expression.
    #[arg(long)]
    pub encrypted_regex: Option<String>,
    /// Leave the values under keys ending with this in plain text (default _unencrypted).
    #[arg(long)]
    pub unencrypted_suffix: Option<String>,
    /// Encrypt only the values under keys ending with this.
    #[arg(long)]
    pub encrypted_suffix: Option<String>,
    /// Leave the values under keys matching this in plain text.
    #[arg(long)]
    pub unencrypted_regex: Option<String>,
    /// Let the MAC cover the encrypted values only.
    #[arg(long)]
    pub mac_only_encrypted: bool,
    /// Rewrite the file instead of printing it.
    #[arg(short = 'i', long)]
    pub in_place: bool,
}

pub async fn run(cx: &Context, command: SopsCommand) -> CommandResult {
    let keys = KeySources::from_environment().map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Cannot read age identities",
            format!("{e}."),
        ))
    })?;
    match command {
        SopsCommand::Encrypt(args) => encrypt(cx, &args, &keys).await,
        SopsCommand::Decrypt { file, in_place } => {
            let (text, format) = read(&file)?;
            let decrypted = braid_sops::decrypt(&text, format, &keys)
                .await
                .map_err(|e| failed(&file, &e))?;
            if in_place {
                write(&file, &decrypted.text)?;
            } else {
                cx.shell.out(&decrypted.text);
            }
            Ok(EXIT_OK)
        }
        SopsCommand::Edit { file } => edit(cx, &file, &keys).await,
    }
}

fn read(file: &Path) -> Result<(String, Format), Diagnostics> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Cannot read file",
            format!("{}: {e}.", file.display()),
        ))
    })?;
    Ok((text, Format::from_path(file)))
}

fn write(file: &Path, text: &str) -> Result<(), Diagnostics> {
    crate::private_files::write(file, text.as_bytes()).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Cannot write file",
            format!("{}: {e}.", file.display()),
        ))
    })
}

fn failed(file: &Path, error: &SopsError) -> Diagnostics {
    crate::source::sops::sops_diagnostic(&file.display().to_string(), error, None).into()
}

/// `lastmodified` of a file written now (`BRAID_NOW` when set, like every braid clock).
fn now() -> Result<String, Diagnostics> {
    Ok(crate::config::window::clock()?.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

async fn encrypt(cx: &Context, args: &EncryptArgs, keys: &KeySources) -> CommandResult {
    let (text, format) = read(&args.file)?;
    let mut options = EncryptOptions {
        age: args.age.clone(),
        pgp: args.pgp.clone(),
        kms: args
            .kms
            .iter()
            .map(|k| (k.clone(), BTreeMap::new()))
            .collect(),
        unencrypted_suffix: args.unencrypted_suffix.clone(),
        encrypted_suffix: args.encrypted_suffix.clone(),
        encrypted_regex: args.encrypted_regex.clone(),
        unencrypted_regex: args.unencrypted_regex.clone(),
        mac_only_encrypted: args.mac_only_encrypted,
    };
    if options.age.is_empty() && options.pgp.is_empty() && options.kms.is_empty() {
        let rule = creation_rule(&args.file)?;
        options = EncryptOptions {
            unencrypted_suffix: options.unencrypted_suffix.or(rule.unencrypted_suffix),
            encrypted_suffix: options.encrypted_suffix.or(rule.encrypted_suffix),
            encrypted_regex: options.encrypted_regex.or(rule.encrypted_regex),
            unencrypted_regex: options.unencrypted_regex.or(rule.unencrypted_regex),
            mac_only_encrypted: options.mac_only_encrypted || rule.mac_only_encrypted,
            ..rule
        };
    }
    let sealed = braid_sops::encrypt(&text, format, &options, keys, &now()?)
        .await
        .map_err(|e| {
            Diagnostics::from(Diagnostic::error(
                "Cannot encrypt file",
                format!("{}: {e}.", args.file.display()),
            ))
        })?;
    if args.in_place {
        write(&args.file, &sealed)?;
    } else {
        cx.shell.out(&sealed);
    }
    Ok(EXIT_OK)
}

async fn edit(cx: &Context, file: &Path, keys: &KeySources) -> CommandResult {
    let (original, format) = read(file)?;
    let decrypted = braid_sops::decrypt(&original, format, keys)
        .await
        .map_err(|e| failed(file, &e))?;
    // The plain text goes to a directory only this user can read, removed afterwards.
    let dir = tempfile::Builder::new()
        .prefix("braid-sops-")
        .tempdir()
        .map_err(|e| {
            Diagnostics::from(Diagnostic::error(
                "Cannot edit file",
                format!("cannot create a temporary directory: {e}."),
            ))
        })?;
    let name = file
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_os_string());
    let temp = dir.path().join(name);
    crate::private_files::write(&temp, decrypted.text.as_bytes()).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Cannot edit file",
            format!("{}: {e}.", temp.display()),
        ))
    })?;
    let editor = std::env::var("SOPS_EDITOR")
        .or_else(|_| std::env::var("EDITOR"))
        .ok()
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "vi".to_string());
    // The editor may take arguments ("code --wait"), as sops allows.
    let mut words = editor.split_whitespace();
    let program = words.next().unwrap_or("vi");
    let status = std::process::Command::new(program)
        .args(words)
        .arg(&temp)
        .status()
        .map_err(|e| {
            Diagnostics::from(Diagnostic::error(
                "Cannot start the editor",
                format!("{editor}: {e}. Set SOPS_EDITOR or EDITOR to your editor."),
            ))
        })?;
    if !status.success() {
        return Err(Diagnostic::error(
            "Editor failed",
            format!(
                "{editor} exited with {status}; {} was not changed.",
                file.display()
            ),
        )
        .into());
    }
    let edited = std::fs::read_to_string(&temp).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Cannot edit file",
            format!("{}: {e}.", temp.display()),
        ))
    })?;
    if edited == decrypted.text {
        cx.shell.err("File unchanged, not writing it again.\n");
        return Ok(EXIT_OK);
    }
    let sealed = braid_sops::reencrypt(&original, &edited, format, keys, &now()?)
        .await
        .map_err(|e| failed(file, &e))?;
    write(file, &sealed)?;
    Ok(EXIT_OK)
}

/// The first creation rule of the nearest `.sops.yaml` (from the file's directory up) whose
/// `path_regex` matches the file's path relative to it, as sops picks it.
fn creation_rule(file: &Path) -> Result<EncryptOptions, Diagnostics> {
    let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    let mut dir = absolute.parent();
    while let Some(current) = dir {
        let config = current.join(".sops.yaml");
        if config.is_file() {
            return rule_from(&config, current, &absolute);
        }
        dir = current.parent();
    }
    Err(Diagnostic::error(
        "No keys to encrypt for",
        format!(
            "No .sops.yaml was found above {} and no key was given. Give --age RECIPIENT, --pgp FINGERPRINT or --kms ARN, or write a .sops.yaml with creation_rules.",
            file.display()
        ),
    )
    .into())
}

fn rule_from(config: &Path, dir: &Path, file: &Path) -> Result<EncryptOptions, Diagnostics> {
    let fail = |why: String| {
        Diagnostics::from(Diagnostic::error(
            "Invalid .sops.yaml",
            format!("{}: {why}.", config.display()),
        ))
    };
    let text = std::fs::read_to_string(config).map_err(|e| fail(e.to_string()))?;
    let parsed: serde_json::Value =
        serde_yaml_ng::from_str(&text).map_err(|e| fail(e.to_string()))?;
    let relative = file
        .strip_prefix(dir)
        .unwrap_or(file)
        .to_string_lossy()
        .into_owned();
    let rules = parsed
        .get("creation_rules")
        .and_then(|r| r.as_array())
        .ok_or_else(|| fail("it has no creation_rules".to_string()))?;
    for rule in rules {
        if let Some(regex) = rule.get("path_regex").and_then(|r| r.as_str()) {
            let regex =
                regex::Regex::new(regex).map_err(|e| fail(format!("path_regex {regex:?}: {e}")))?;
            if !regex.is_match(&relative) {
                continue;
            }
        }
        if rule
            .get("key_groups")
            .and_then(|g| g.as_array())
            .is_some_and(|g| g.len() > 1)
        {
            return Err(fail(
                "the matching rule has several key_groups (Shamir); braid does not write those yet"
                    .to_string(),
            ));
        }
        // Keys are in the rule itself, or in its one key group.
        let keys = rule
            .get("key_groups")
            .and_then(|g| g.get(0))
            .unwrap_or(rule);
        let list = |name: &str| -> Vec<String> {
            match keys.get(name) {
                Some(serde_json::Value::String(s)) => s
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
                Some(serde_json::Value::Array(items)) => items
                    .iter()
                    .filter_map(|i| {
                        i.as_str()
                            .map(str::to_string)
                            .or_else(|| i.get("arn").and_then(|a| a.as_str()).map(str::to_string))
                    })
                    .collect(),
                _ => Vec::new(),
            }
        };
        let text = |name: &str| rule.get(name).and_then(|v| v.as_str()).map(str::to_string);
        return Ok(EncryptOptions {
            age: list("age"),
            pgp: list("pgp"),
            kms: list("kms")
                .into_iter()
                .map(|k| (k, BTreeMap::new()))
                .collect(),
            unencrypted_suffix: text("unencrypted_suffix"),
            encrypted_suffix: text("encrypted_suffix"),
            encrypted_regex: text("encrypted_regex"),
            unencrypted_regex: text("unencrypted_regex"),
            mac_only_encrypted: rule
                .get("mac_only_encrypted")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
        });
    }
    Err(fail(format!("no creation rule matches {relative}")))
}
