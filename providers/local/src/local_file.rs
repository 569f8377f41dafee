//! The `local_file` resource: a file on the machine running braid, written from `content`
//! (text) or `content_base64` (bytes).
//!
//! State records `filename` as configured, so relative names stay relative and a moved
//! project directory does not make every file look replaced; every file system access
//! resolves it against the provider's base directory first.

use std::error::Error as _;
use std::path::{Path as FsPath, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use braid_provider::{
    ApplyRequest, ApplyResponse, ImportRequest, ImportResponse, Path, PlanRequest, PlanResponse,
    ProviderDiagnostic, ReadRequest, ReadResponse, Value,
};
use sha2::{Digest, Sha256};

use crate::attributes::{attribute, fill_unknowns, has_errors, unknown_at_apply, wrong_type};
use crate::file_io::{self, FileError, ObservedFile};
use crate::permission;

pub(crate) const TYPE_NAME: &str = "local_file";
pub(crate) const DEFAULT_FILE_PERMISSION: &str = "0644";
pub(crate) const DEFAULT_DIRECTORY_PERMISSION: &str = "0755";

/// The attributes a configuration asks for, and — once every one is known and valid — what
/// to write.
struct DesiredFile {
    state: Value,
    write: Option<FileWrite>,
}

struct FileWrite {
    filename: String,
    bytes: Vec<u8>,
    file_mode: u32,
    directory_mode: u32,
}

pub(crate) fn plan(request: &PlanRequest) -> PlanResponse {
    let mut diagnostics = Vec::new();
    let desired = desired_file(&request.config, &mut diagnostics);
    let requires_replace = match &request.prior {
        Some(prior) if filename_changes(prior, &desired.state) => vec![Path::key("filename")],
        _ => Vec::new(),
    };
    PlanResponse {
        planned: desired.state,
        requires_replace,
        existing: None,
        sensitive: Vec::new(),
        diagnostics,
    }
}

pub(crate) fn apply(base_dir: Option<&FsPath>, request: ApplyRequest) -> ApplyResponse {
    match &request.planned {
        None => delete(base_dir, request.prior),
        Some(planned) => {
            let desired = fill_unknowns(planned, &request.config);
            write(base_dir, request.prior, &desired)
        }
    }
}

pub(crate) fn read(base_dir: Option<&FsPath>, request: ReadRequest) -> ReadResponse {
    let current = request.current;
    let Some(filename) = recorded_filename(&current) else {
        return ReadResponse {
            state: Some(current),
            diagnostics: vec![state_without_filename()],
        };
    };
    let path = resolve(base_dir, &filename);
    match file_io::read(&path) {
        // Deleted out of band: the engine plans to create it again.
        Ok(None) => ReadResponse::default(),
        Ok(Some(observed)) => ReadResponse {
            state: Some(observed_state(&filename, observed, Some(&current))),
            diagnostics: Vec::new(),
        },
        Err(error) => ReadResponse {
            state: Some(current),
            diagnostics: vec![io_diagnostic(
                "Cannot read file",
                &error,
                "Check that braid may read the file and that no directory is in its place.",
            )],
        },
    }
}

pub(crate) fn import(base_dir: Option<&FsPath>, request: &ImportRequest) -> ImportResponse {
    let path = resolve(base_dir, &request.id);
    match file_io::read(&path) {
        Ok(Some(observed)) => ImportResponse {
            state: Some(observed_state(&request.id, observed, None)),
            diagnostics: Vec::new(),
        },
        Ok(None) => ImportResponse {
            state: None,
            diagnostics: vec![ProviderDiagnostic::error(
                "Cannot import missing file",
                format!(
                    "No file exists at {}. The import id of a local_file is its filename, \
                     either absolute or relative to the project directory.",
                    path.display()
                ),
            )],
        },
        Err(error) => ImportResponse {
            state: None,
            diagnostics: vec![io_diagnostic(
                "Cannot read file",
                &error,
                "Check that braid may read the file.",
            )],
        },
    }
}

fn write(base_dir: Option<&FsPath>, prior: Option<Value>, desired: &Value) -> ApplyResponse {
    let mut diagnostics = Vec::new();
    let desired = desired_file(desired, &mut diagnostics);
    let file = match desired.write {
        Some(file) if !has_errors(&diagnostics) => file,
        _ => {
            if !has_errors(&diagnostics) {
                diagnostics.push(unknown_at_apply(&desired.state));
            }
            return ApplyResponse {
                new_state: prior,
                diagnostics,
            };
        }
    };
    let path = resolve(base_dir, &file.filename);
    match file_io::write_atomically(&path, &file.bytes, file.file_mode, file.directory_mode) {
        Ok(()) => ApplyResponse {
            new_state: Some(desired.state),
            diagnostics,
        },
        Err(error) => {
            diagnostics.push(io_diagnostic(
                "Cannot write file",
                &error,
                "Check that every parent of the file is a directory braid may write to.",
            ));
            // The write is atomic, so whatever was there before is still there.
            ApplyResponse {
                new_state: prior,
                diagnostics,
            }
        }
    }
}

fn delete(base_dir: Option<&FsPath>, prior: Option<Value>) -> ApplyResponse {
    let Some(prior) = prior else {
        return ApplyResponse::default();
    };
    let Some(filename) = recorded_filename(&prior) else {
        return ApplyResponse {
            new_state: Some(prior),
            diagnostics: vec![state_without_filename()],
        };
    };
    match file_io::remove(&resolve(base_dir, &filename)) {
        Ok(()) => ApplyResponse::default(),
        Err(error) => ApplyResponse {
            new_state: Some(prior),
            diagnostics: vec![io_diagnostic(
                "Cannot delete file",
                &error,
                "Check that braid may write to the directory that holds the file.",
            )],
        },
    }
}

/// Validates a configuration (or a planned state filled in from one) and adds defaults and
/// the computed attributes. Unknown values stay unknown, and so do the digests of unknown
/// content.
fn desired_file(config: &Value, diagnostics: &mut Vec<ProviderDiagnostic>) -> DesiredFile {
    let filename = attribute(config, "filename");
    check_filename(&filename, diagnostics);
    let content = attribute(config, "content");
    let content_base64 = attribute(config, "content_base64");
    let bytes = content_bytes(&content, &content_base64, diagnostics);
    if let Some(bytes) = &bytes {
        check_size(bytes.len(), &content, diagnostics);
    }
    let (file_permission, file_mode) = permission_or_default(
        config,
        "file_permission",
        DEFAULT_FILE_PERMISSION,
        diagnostics,
    );
    let (directory_permission, directory_mode) = permission_or_default(
        config,
        "directory_permission",
        DEFAULT_DIRECTORY_PERMISSION,
        diagnostics,
    );
    let digest = bytes
        .as_deref()
        .map_or(Value::Unknown, |bytes| Value::String(sha256_hex(bytes)));
    let state = Value::map([
        ("filename", filename.clone()),
        ("content", content),
        ("content_base64", content_base64),
        ("file_permission", file_permission),
        ("directory_permission", directory_permission),
        ("id", digest.clone()),
        ("content_sha256", digest),
    ]);
    let write = match (filename, bytes, file_mode, directory_mode) {
        (Value::String(filename), Some(bytes), Some(file_mode), Some(directory_mode)) => {
            Some(FileWrite {
                filename,
                bytes,
                file_mode,
                directory_mode,
            })
        }
        _ => None,
    };
    DesiredFile { state, write }
}

fn check_filename(filename: &Value, diagnostics: &mut Vec<ProviderDiagnostic>) {
    let problem = match filename {
        Value::Unknown => return,
        Value::String(name) if name.is_empty() => "The attribute \"filename\" is empty.",
        Value::String(name) if name.ends_with('/') || name.ends_with(std::path::MAIN_SEPARATOR) => {
            "The attribute \"filename\" ends with a path separator, so it names a directory."
        }
        Value::String(_) => return,
        Value::Null => "The attribute \"filename\" is required.",
        other => {
            diagnostics.push(wrong_type("filename", "string", other));
            return;
        }
    };
    diagnostics.push(
        ProviderDiagnostic::error(
            "Invalid filename",
            format!(
                "{problem} Set it to the path of the file to write, either absolute or \
                 relative to the project directory, e.g. \"out/motd.txt\"."
            ),
        )
        .at(Path::key("filename")),
    );
}

/// Content braid could not read back on the next plan is refused now.
fn check_size(len: usize, content: &Value, diagnostics: &mut Vec<ProviderDiagnostic>) {
    let Ok(limit) = braid_functions::source_read::max_file_size() else {
        return; // Reported when the file is read.
    };
    if len as u64 > limit {
        let attribute = if content.is_null() {
            "content_base64"
        } else {
            "content"
        };
        diagnostics.push(
            ProviderDiagnostic::error(
                "File content too large",
                format!(
                    "The content is {len} bytes, more than the {limit} bytes braid reads back \
                     from one file. Set BRAID_MAX_FILE_SIZE (bytes) to raise the limit."
                ),
            )
            .at(Path::key(attribute)),
        );
    }
}

/// The bytes the file should hold: `None` when they are not known yet or the configuration
/// is invalid (which adds a diagnostic).
fn content_bytes(
    content: &Value,
    content_base64: &Value,
    diagnostics: &mut Vec<ProviderDiagnostic>,
) -> Option<Vec<u8>> {
    match (content, content_base64) {
        (Value::Null, Value::Null) => {
            diagnostics.push(
                ProviderDiagnostic::error(
                    "Missing file content",
                    "A local_file needs its content: set \"content\" to the text the file \
                     should hold, or \"content_base64\" to base64-encoded bytes for a binary \
                     file.",
                )
                .at(Path::key("content")),
            );
            None
        }
        // An unknown value may still turn out null, so a conflict cannot be ruled out or
        // reported yet; apply checks again with every value known.
        (Value::Unknown, _) | (_, Value::Unknown) => None,
        (Value::String(text), Value::Null) => Some(text.as_bytes().to_vec()),
        (Value::Null, Value::String(encoded)) => match BASE64.decode(encoded) {
            Ok(bytes) => Some(bytes),
            Err(error) => {
                diagnostics.push(
                    ProviderDiagnostic::error(
                        "Invalid base64 content",
                        format!(
                            "The attribute \"content_base64\" is not valid base64 ({error}). \
                             Encode the bytes with the standard alphabet and padding, e.g. \
                             with base64encode() or filebase64()."
                        ),
                    )
                    .at(Path::key("content_base64")),
                );
                None
            }
        },
        (other, Value::Null) => {
            diagnostics.push(wrong_type("content", "string", other));
            None
        }
        (Value::Null, other) => {
            diagnostics.push(wrong_type("content_base64", "string", other));
            None
        }
        (_, _) => {
            diagnostics.push(
                ProviderDiagnostic::error(
                    "Conflicting file content",
                    "Both \"content\" and \"content_base64\" are set, but a file has one \
                     content. Keep \"content\" for text or \"content_base64\" for binary data, \
                     and remove the other.",
                )
                .at(Path::key("content_base64")),
            );
            None
        }
    }
}

/// The permission attribute `name` (or `default` when unset), and its mode bits when known
/// and valid.
fn permission_or_default(
    config: &Value,
    name: &str,
    default: &str,
    diagnostics: &mut Vec<ProviderDiagnostic>,
) -> (Value, Option<u32>) {
    let value = match attribute(config, name) {
        Value::Null => Value::string(default),
        other => other,
    };
    let mode = match &value {
        Value::Unknown => None,
        Value::String(text) => match permission::parse(text) {
            Ok(mode) => Some(mode),
            Err(error) => {
                diagnostics.push(
                    ProviderDiagnostic::error(
                        "Invalid permission",
                        format!(
                            "The attribute \"{name}\" is \"{text}\", but {error}. Write the \
                             unix permission bits in octal, e.g. \"{default}\" (or \"0600\" for \
                             a file only its owner may read)."
                        ),
                    )
                    .at(Path::key(name)),
                );
                None
            }
        },
        other => {
            diagnostics.push(wrong_type(name, "string", other));
            None
        }
    };
    (value, mode)
}

/// A file that exists as a state. Text content stays in `content` when the state had it
/// there (or when importing) and the file is still UTF-8; anything else is `content_base64`.
fn observed_state(filename: &str, observed: ObservedFile, prior: Option<&Value>) -> Value {
    let digest = Value::String(sha256_hex(&observed.bytes));
    let prefers_text = prior.is_none_or(|prior| !attribute(prior, "content").is_null());
    let (content, content_base64) = match String::from_utf8(observed.bytes) {
        Ok(text) if prefers_text => (Value::String(text), Value::Null),
        Ok(text) => (Value::Null, Value::String(BASE64.encode(text))),
        Err(not_text) => (
            Value::Null,
            Value::String(BASE64.encode(not_text.into_bytes())),
        ),
    };
    let recorded = |name: &str, default: &str| match prior.map(|prior| attribute(prior, name)) {
        Some(Value::String(text)) => Value::String(text),
        _ => Value::string(default),
    };
    let recorded_file_permission = recorded("file_permission", DEFAULT_FILE_PERMISSION);
    let file_permission = match observed.mode {
        Some(mode) => spelled_like(recorded_file_permission, mode),
        // Without unix modes there is nothing to observe; keep what was asked for.
        None => recorded_file_permission,
    };
    Value::map([
        ("filename", Value::string(filename)),
        ("content", content),
        ("content_base64", content_base64),
        ("file_permission", file_permission),
        // Parent directories may predate the file, so their mode says nothing about drift.
        (
            "directory_permission",
            recorded("directory_permission", DEFAULT_DIRECTORY_PERMISSION),
        ),
        ("id", digest.clone()),
        ("content_sha256", digest),
    ])
}

/// `actual` as a permission string, in the spelling state already has when it means the
/// same bits ("644" stays "644"), so a spelling alone never shows as drift.
fn spelled_like(recorded: Value, actual: u32) -> Value {
    match recorded.as_str().map(permission::parse) {
        Some(Ok(mode)) if mode == actual => recorded,
        _ => Value::String(permission::format(actual)),
    }
}

/// A replacement is needed when the file moves, or may move because its name is unknown.
fn filename_changes(prior: &Value, planned: &Value) -> bool {
    let planned = attribute(planned, "filename");
    planned.is_unknown() || attribute(prior, "filename") != planned
}

fn recorded_filename(state: &Value) -> Option<String> {
    state
        .attr("filename")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn state_without_filename() -> ProviderDiagnostic {
    ProviderDiagnostic::error(
        "Invalid local_file state",
        "The state of this local_file has no \"filename\", so braid cannot tell which file it \
         manages. Remove it from state and import the file by its filename.",
    )
}

fn resolve(base_dir: Option<&FsPath>, filename: &str) -> PathBuf {
    match base_dir {
        Some(base_dir) => base_dir.join(filename),
        None => PathBuf::from(filename),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// An error naming the failed step, its path and the OS error, then how to fix it.
fn io_diagnostic(summary: &str, error: &FileError, hint: &str) -> ProviderDiagnostic {
    let mut detail = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        detail.push_str(": ");
        detail.push_str(&inner.to_string());
        cause = inner.source();
    }
    ProviderDiagnostic::error(summary, format!("braid {detail}. {hint}")).at(Path::key("filename"))
}
