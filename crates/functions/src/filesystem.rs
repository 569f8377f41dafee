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
pub(super) fn resolve(c: &Call<'_>) -> Result<PathBuf, FunctionError> {
    let path = c.string(0)?;
    source_read::resolve_inside(c.ctx.source_root, c.ctx.base_dir, &path)
        .map_err(|e| read_error(c, &e))
}

/// A refused or failed read as the function's error, with how to fix it.
pub(super) fn read_error(c: &Call<'_>, e: &SourceReadError) -> FunctionError {
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
pub(super) fn read_file(c: &Call<'_>) -> Result<Vec<u8>, FunctionError> {
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

/// `pathexpand(path)`: braid refuses `~`, which would make a configuration from a pull
/// request depend on (and reveal) the home directory of whoever runs braid; any other path
/// comes back unchanged, as in Terraform.
pub(super) fn pathexpand(c: &Call<'_>) -> Result<Value, FunctionError> {
    let path = c.string(0)?;
    if path == "~" || path.starts_with("~/") {
        return Err(c.arg_error(
            0,
            format!(
                "braid does not expand \"~\" in {path:?}: a configuration must not depend on \
                 the home directory of whoever runs braid; use a path relative to the source"
            ),
        ));
    }
    Ok(Value::String(path))
}

/// The most directory entries `fileset` looks at, so that a huge tree cannot stall a plan.
const MAX_FILESET_ENTRIES: usize = 100_000;

/// `fileset(path, pattern)`: the regular files under `path` (inside the source) whose path
/// relative to it matches the glob `pattern` (`*`, `**`, `?`, `[a-z]`, `{a,b}`), sorted.
pub(super) fn fileset(c: &Call<'_>) -> Result<Value, FunctionError> {
    let pattern = c.string(1)?;
    let root = resolve(c)?;
    let patterns = glob::expand_braces(&pattern)
        .and_then(|all| {
            all.iter()
                .map(|p| glob::to_regex(p))
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| c.arg_error(1, format!("invalid pattern {pattern:?}")))?;
    let real_source = std::fs::canonicalize(c.ctx.source_root)
        .unwrap_or_else(|_| c.ctx.source_root.to_path_buf());
    let mut found = Vec::new();
    let mut seen = 0usize;
    let mut stack = vec![(root.clone(), String::new())];
    while let Some((dir, prefix)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > MAX_FILESET_ENTRIES {
                return Err(c.failed(format!(
                    "more than {MAX_FILESET_ENTRIES} files and directories under {:?}",
                    c.string(0).unwrap_or_default()
                )));
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push((entry.path(), relative.clone()));
                continue;
            }
            // A symbolic link counts only when it leads to a regular file inside the source;
            // linked directories are not walked.
            let is_file = if kind.is_symlink() {
                std::fs::canonicalize(entry.path())
                    .is_ok_and(|real| real.starts_with(&real_source) && real.is_file())
            } else {
                kind.is_file()
            };
            if is_file && patterns.iter().any(|p| p.is_match(&relative)) {
                found.push(relative);
            }
        }
    }
    found.sort();
    Ok(Value::List(found.into_iter().map(Value::String).collect()))
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

/// The glob patterns of `fileset`, as the doublestar library Terraform uses reads them.
mod glob {
    /// The most alternatives `{a,b}` groups may expand to.
    const MAX_ALTERNATIVES: usize = 1024;

    /// `a{b,c}d` as `["abd", "acd"]`; `None` for unbalanced braces or too many alternatives.
    pub(super) fn expand_braces(pattern: &str) -> Option<Vec<String>> {
        let chars: Vec<char> = pattern.chars().collect();
        let Some(open) = chars.iter().position(|ch| *ch == '{') else {
            return (!pattern.contains('}')).then(|| vec![pattern.to_string()]);
        };
        let mut depth = 0usize;
        let mut close = None;
        let mut splits = Vec::new();
        for (i, ch) in chars.iter().enumerate().skip(open) {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(i);
                        break;
                    }
                }
                ',' if depth == 1 => splits.push(i),
                _ => {}
            }
        }
        let close = close?;
        let head: String = chars[..open].iter().collect();
        let tail: String = chars[close + 1..].iter().collect();
        let mut bounds = vec![open];
        bounds.extend(splits);
        bounds.push(close);
        let mut out = Vec::new();
        for pair in bounds.windows(2) {
            let alternative: String = chars[pair[0] + 1..pair[1]].iter().collect();
            for expanded in expand_braces(&format!("{head}{alternative}{tail}"))? {
                out.push(expanded);
                if out.len() > MAX_ALTERNATIVES {
                    return None;
                }
            }
        }
        Some(out)
    }

    /// The glob as an anchored regular expression over paths relative to the walked
    /// directory: `**` spans directories, `*` and `?` stay within one, `[...]` is a class
    /// (`[^...]` or `[!...]` negated), `\\` escapes. A regular expression matches in linear
    /// time, where a backtracking glob matcher can take exponential time on `*a*a*a*b`.
    pub(super) fn to_regex(pattern: &str) -> Option<regex::Regex> {
        let pattern = pattern.trim_start_matches("./");
        let chars: Vec<char> = pattern.chars().collect();
        let mut re = String::from("^");
        let mut i = 0;
        while let Some(&ch) = chars.get(i) {
            match ch {
                '*' if chars.get(i + 1) == Some(&'*') => {
                    let at_segment_start = i == 0 || chars.get(i - 1) == Some(&'/');
                    if at_segment_start && chars.get(i + 2) == Some(&'/') {
                        re.push_str("(?:[^/]*/)*");
                        i += 3;
                    } else if at_segment_start && i + 2 == chars.len() {
                        re.push_str(".*");
                        i += 2;
                    } else {
                        re.push_str("[^/]*");
                        i += 2;
                    }
                }
                '*' => {
                    re.push_str("[^/]*");
                    i += 1;
                }
                '?' => {
                    re.push_str("[^/]");
                    i += 1;
                }
                '[' => {
                    let end = chars
                        .iter()
                        .skip(i + 2)
                        .position(|c| *c == ']')
                        .map(|p| p + i + 2)?;
                    let mut class: String = chars.get(i + 1..end)?.iter().collect();
                    if let Some(rest) = class.strip_prefix('!') {
                        class = format!("^{rest}");
                    }
                    let escaped: String = class
                        .chars()
                        .map(|c| match c {
                            '[' | ']' | '\\' | '&' | '~' => format!("\\{c}"),
                            other => other.to_string(),
                        })
                        .collect();
                    re.push('[');
                    re.push_str(&escaped);
                    re.push(']');
                    i = end + 1;
                }
                '\\' => {
                    let next = chars.get(i + 1)?;
                    re.push_str(&regex::escape(&next.to_string()));
                    i += 2;
                }
                other => {
                    re.push_str(&regex::escape(&other.to_string()));
                    i += 1;
                }
            }
        }
        re.push('$');
        regex::RegexBuilder::new(&re)
            .size_limit(1 << 20)
            .build()
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use braid_provider::Value;

    use super::super::test_support::{message, ok, plan_time, s, strs};
    use super::super::{FunctionContext, Phase, call};

    #[test]
    fn file_reads_relative_to_base_dir() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("hello.txt"), "Hello World\n").expect("write");
        std::fs::write(dir.path().join("bin.dat"), [0xff, 0x00, 0xfe]).expect("write");
        let ctx = FunctionContext {
            base_dir: dir.path(),
            source_root: dir.path(),
            phase: Phase::Plan,
            plan_time: plan_time(),
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
    fn fileset_and_hashes_stay_inside_the_source() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).expect("mkdir");
        for f in ["x.txt", "a/y.txt", "a/b/z.txt", "a/b/w.md"] {
            std::fs::write(root.join(f), "hello world").expect("write");
        }
        let ctx = FunctionContext {
            base_dir: root,
            source_root: root,
            phase: Phase::Plan,
            plan_time: plan_time(),
        };
        let c = |name: &str, args: Vec<Value>| call(&ctx, name, args);
        assert_eq!(
            c("fileset", vec![s("."), s("**/*.txt")]),
            Ok(strs(&["a/b/z.txt", "a/y.txt", "x.txt"]))
        );
        assert_eq!(c("fileset", vec![s("a"), s("*")]), Ok(strs(&["y.txt"])));
        assert_eq!(
            c("fileset", vec![s("a"), s("b/{z,w}.*")]),
            Ok(strs(&["b/w.md", "b/z.txt"]))
        );
        assert_eq!(
            c("fileset", vec![s("."), s("[wx].*")]),
            Ok(strs(&["x.txt"]))
        );
        assert!(c("fileset", vec![s(".."), s("*")]).is_err());
        assert!(c("fileset", vec![s("."), s("[")]).is_err());
        assert_eq!(
            c("fileset", vec![s("a"), s("**")]),
            Ok(strs(&["b/w.md", "b/z.txt", "y.txt"]))
        );
        assert_eq!(
            c("fileset", vec![s("."), s("a/**/z.txt")]),
            Ok(strs(&["a/b/z.txt"]))
        );
        assert_eq!(
            c("fileset", vec![s("."), s("[!a-w]*")]),
            Ok(strs(&["x.txt"]))
        );
        let slow = format!("{}b", "*a".repeat(30));
        assert_eq!(c("fileset", vec![s("."), s(&slow)]), Ok(strs(&[])));
        assert_eq!(
            c("filemd5", vec![s("x.txt")]),
            Ok(s("5eb63bbbe01eeed093cb22bb8f5acdc3"))
        );
        assert_eq!(
            c("filesha1", vec![s("a/y.txt")]),
            Ok(s("2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"))
        );
        assert!(c("filesha256", vec![s("../x")]).is_err());
    }

    #[test]
    fn pathexpand_refuses_home() {
        assert_eq!(ok("pathexpand", vec![s("/etc/x")]), s("/etc/x"));
        assert_eq!(ok("pathexpand", vec![s("a/~b")]), s("a/~b"));
        assert!(
            message(&super::super::test_support::err(
                "pathexpand",
                vec![s("~/.ssh")]
            ))
            .contains("home")
        );
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
