//! Attribute paths: `spec.template.spec.containers[0].image`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One step into a value: a map key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PathStep {
    /// The entry of a map with this key.
    Key(String),
    /// The element of a list at this zero-based position.
    Index(usize),
}

/// A path from the root of a resource's attributes to one value inside it. The steps are
/// public so that callers can build and take apart paths freely; the empty path is the root.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Path(pub Vec<PathStep>);

impl Path {
    /// The empty path: the whole value.
    pub fn root() -> Self {
        Path(Vec::new())
    }

    /// A path of one key, e.g. `Path::key("content")`.
    pub fn key(name: impl Into<String>) -> Self {
        Path(vec![PathStep::Key(name.into())])
    }

    /// This path extended by a map key.
    pub fn child_key(&self, name: impl Into<String>) -> Self {
        let mut steps = self.0.clone();
        steps.push(PathStep::Key(name.into()));
        Path(steps)
    }

    /// This path extended by a list index.
    pub fn child_index(&self, index: usize) -> Self {
        let mut steps = self.0.clone();
        steps.push(PathStep::Index(index));
        Path(steps)
    }

    /// True for the empty path, which names the whole value.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// True when `self` equals `other` or lies inside it.
    pub fn starts_with(&self, other: &Path) -> bool {
        self.0.starts_with(&other.0)
    }

    /// The first step, as a key, if any: the top-level attribute this path is in.
    pub fn attribute(&self) -> Option<&str> {
        match self.0.first() {
            Some(PathStep::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// Parses the dotted form produced by `Display`: `a.b[0]["x.y"]`. Returns `None` for
    /// an unclosed bracket or an index that is not a number.
    pub fn parse(text: &str) -> Option<Path> {
        let mut steps = Vec::new();
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'.' => i += 1,
                b'[' => {
                    let end = i + text[i..].find(']')?;
                    let inner = &text[i + 1..end];
                    if let Some(quoted) = inner.strip_prefix('"') {
                        // A quoted key may itself contain `]`; find the closing `"]`.
                        let close = i + 1 + text[i + 1..].find("\"]")?;
                        let _ = quoted;
                        steps.push(PathStep::Key(text[i + 2..close].replace("\\\"", "\"")));
                        i = close + 2;
                    } else {
                        steps.push(PathStep::Index(inner.parse().ok()?));
                        i = end + 1;
                    }
                }
                _ => {
                    let rest = &text[i..];
                    let len = rest.find(['.', '[']).unwrap_or(rest.len());
                    steps.push(PathStep::Key(rest[..len].to_string()));
                    i += len;
                }
            }
        }
        Some(Path(steps))
    }
}

fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !key.starts_with(|c: char| c.is_ascii_digit())
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Key(k) if is_plain_key(k) => {
                    if n > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                PathStep::Key(k) => write!(f, "[\"{}\"]", k.replace('"', "\\\""))?,
                PathStep::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_parse_round_trip() {
        let path = Path::key("metadata")
            .child_key("annotations")
            .child_key("braid.dev/depends-on")
            .child_key("x")
            .child_index(3);
        let text = path.to_string();
        assert_eq!(text, "metadata.annotations[\"braid.dev/depends-on\"].x[3]");
        assert_eq!(Path::parse(&text), Some(path));
    }

    #[test]
    fn starts_with_is_prefix() {
        let a = Path::key("spec").child_key("replicas");
        assert!(a.starts_with(&Path::key("spec")));
        assert!(!Path::key("spec").starts_with(&a));
    }
}
