//! Filesystem and path functions: reading files relative to the configuration being evaluated,
//! and Go-style lexical path handling.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use braid_provider::Value;

use super::{Call, FunctionError};
use crate::source_read::{self, SourceReadError};

/// The path argument resolved against the directory of the file being evaluated and
/// confined to its source (see [`crate::source_read`]).
fn resolve(c: &Call<'_>) -> Result<PathBuf, FunctionError> {
    let path = c.string(0)?;
    source_read::resolve_inside(c.ctx.source_root, c.ctx.base_dir, &path)
        .map_err(|e| read_error(c, &e))
}

/// A refused or failed read as the function's error, with how to fix it.
fn read_error(c: &Call<'_>, e: &SourceReadError) -> FunctionError {
    if e.is_escape() {
        c.failed(format!(
            "{e}. Put the file inside the source and use a path relative to the source's \
             directory"
        ))
    } else if e.is_not_found() {
        c.failed(format!(
            "no file exists at \"{}\"; this function works only with files that are part \
             of the configuration, so if the file will be created by a resource, use an \
             attribute of that resource instead",
            c.ctx
                .base_dir
                .join(c.string(0).unwrap_or_default())
                .display()
        ))
    } else {
        c.failed(e.to_string())
    }
}

/// The file's bytes: a regular file inside the source, no larger than the limit.
fn read_file(c: &Call<'_>) -> Result<Vec<u8>, FunctionError> {
    let real = resolve(c)?;
    let limit = source_read::max_file_size().map_err(|e| read_error(c, &e))?;
    let shown = c.string(0)?;
    source_read::read_regular(&real, &shown, limit).map_err(|e| read_error(c, &e))
}

pub(super) fn file(c: &Call<'_>) -> Result<Value, FunctionError> {
    let bytes = read_file(c)?;
    String::from_utf8(bytes).map(Value::String).map_err(|_| {
        c.failed(format!(
            "the contents of \"{}\" are not valid UTF-8; use filebase64 to read binary files",
            c.string(0).unwrap_or_default()
        ))
    })
}

pub(super) fn filebase64(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::String(BASE64.encode(read_file(c)?)))
}

pub(super) fn fileexists(c: &Call<'_>) -> Result<Value, FunctionError> {
    let real = resolve(c)?;
    let shown = c.string(0)?;
    match std::fs::metadata(&real) {
        Ok(meta) if meta.is_file() => Ok(Value::Bool(true)),
        Ok(_) => Err(c.failed(format!("\"{shown}\" is not a regular file"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Value::Bool(false)),
        Err(e) => Err(c.failed(format!("failed to stat \"{shown}\": {e}"))),
    }
}

pub(super) fn abspath(c: &Call<'_>) -> Result<Value, FunctionError> {
    let mut path = c.ctx.base_dir.join(c.string(0)?);
    if path.is_relative() {
        let cwd = std::env::current_dir()
            .map_err(|e| c.failed(format!("cannot determine the current directory: {e}")))?;
        path = cwd.join(path);
    }
    Ok(Value::String(clean_path(&path.to_string_lossy())))
}

pub(super) fn basename(c: &Call<'_>) -> Result<Value, FunctionError> {
    // Go's filepath.Base: trailing slashes do not count, "" is ".", and "/" stays "/".
    let path = c.string(0)?;
    if path.is_empty() {
        return Ok(Value::from("."));
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(Value::from("/"));
    }
    Ok(Value::from(
        trimmed.rsplit_once('/').map_or(trimmed, |(_, base)| base),
    ))
}

pub(super) fn dirname(c: &Call<'_>) -> Result<Value, FunctionError> {
    // Go's filepath.Dir: everything up to the last slash, cleaned.
    let path = c.string(0)?;
    let dir = path.rfind('/').map_or("", |at| &path[..=at]);
    Ok(Value::String(clean_path(dir)))
}

/// Go's path.Clean: removes `.` and empty segments and resolves `..` lexically.
fn clean_path(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(last) if *last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use braid_provider::Value;

    use super::super::test_support::{message, ok, s};
    use super::super::{FunctionContext, call};

    #[test]
    fn file_reads_relative_to_base_dir() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("hello.txt"), "Hello World\n").expect("write");
        std::fs::write(dir.path().join("bin.dat"), [0xff, 0x00, 0xfe]).expect("write");
        let ctx = FunctionContext {
            base_dir: dir.path(),
            source_root: dir.path(),
        };
        let c = |name: &str, path: &str| call(&ctx, name, vec![s(path)]);
        assert_eq!(c("file", "hello.txt"), Ok(s("Hello World\n")));
        let absolute = dir.path().join("hello.txt").to_string_lossy().into_owned();
        let refused = c("file", &absolute).expect_err("absolute path");
        assert!(message(&refused).contains("absolute path"), "{refused}");
        let refused = c("fileexists", "../x").expect_err("outside");
        assert!(
            message(&refused).contains("outside the source"),
            "{refused}"
        );
        assert_eq!(c("filebase64", "bin.dat"), Ok(s("/wD+")));
        assert_eq!(c("fileexists", "hello.txt"), Ok(Value::Bool(true)));
        assert_eq!(c("fileexists", "missing.txt"), Ok(Value::Bool(false)));
        assert!(c("fileexists", ".").is_err());

        let missing = c("file", "missing.txt").expect_err("missing file");
        assert!(message(&missing).contains("missing.txt"), "{missing}");
        assert!(message(&missing).contains("no file exists"), "{missing}");
        let binary = c("file", "bin.dat").expect_err("binary file");
        assert!(message(&binary).contains("filebase64"), "{binary}");
        assert!(message(&binary).contains("bin.dat"), "{binary}");
    }

    #[test]
    fn path_functions() {
        assert_eq!(
            ok("abspath", vec![s("a/../b/./c.txt")]),
            s("/srv/config/b/c.txt")
        );
        assert_eq!(ok("abspath", vec![s("/etc/hosts")]), s("/etc/hosts"));
        assert_eq!(ok("basename", vec![s("foo/bar/baz.txt")]), s("baz.txt"));
        assert_eq!(ok("basename", vec![s("foo/bar/")]), s("bar"));
        assert_eq!(ok("basename", vec![s("/")]), s("/"));
        assert_eq!(ok("basename", vec![s("")]), s("."));
        assert_eq!(ok("dirname", vec![s("foo/bar/baz.txt")]), s("foo/bar"));
        assert_eq!(ok("dirname", vec![s("/foo/")]), s("/foo"));
        assert_eq!(ok("dirname", vec![s("foo")]), s("."));
        assert_eq!(ok("dirname", vec![s("/foo")]), s("/"));
    }
}
