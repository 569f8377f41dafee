//! How a fuzz input becomes a small tree of files: the text before the first `#FILE <path>`
//! line is the file `first`, and each `#FILE <path>` line starts another file. Paths that a
//! real source could not produce (absolute, empty, `.` or `..` components) are dropped, so a
//! crash is always one a user's repository could trigger.

use std::collections::BTreeMap;

const HEADER: &str = "#FILE ";

/// The files of `text`, by relative '/'-separated path.
pub fn split_files(text: &str, first: &str) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    let mut current = Some(first.to_string());
    let mut body = String::new();
    for line in text.split_inclusive('\n') {
        if let Some(path) = line.strip_prefix(HEADER) {
            if let Some(name) = current.take() {
                files.insert(name, std::mem::take(&mut body));
            }
            body.clear();
            current = plausible_path(path.trim_end_matches(['\n', '\r']));
        } else {
            body.push_str(line);
        }
    }
    if let Some(name) = current {
        files.insert(name, body);
    }
    files
}

fn plausible_path(path: &str) -> Option<String> {
    let ok = !path.is_empty()
        && !path.starts_with('/')
        && path
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\0'));
    ok.then(|| path.to_string())
}
