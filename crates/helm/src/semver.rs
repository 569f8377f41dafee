//! Semantic versions and constraints as Masterminds/semver v3 reads them (`semverCompare`,
//! `semver`, Chart.yaml `kubeVersion` and dependency versions): a `v` prefix and missing minor
//! or patch accepted, `||` between alternatives, `,` or space between conditions, operators
//! `= != > < >= <= ~ ~> ^`, wildcards `x X *`, hyphen ranges, and pre-release versions
//! matching only constraints that name a pre-release.

use std::cmp::Ordering;

use crate::value::Value;

/// A parsed version.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    /// Major.
    pub major: u64,
    /// Minor.
    pub minor: u64,
    /// Patch.
    pub patch: u64,
    /// Pre-release (after `-`), empty when none.
    pub pre: String,
    /// Build metadata (after `+`).
    pub metadata: String,
    /// The text it was read from.
    pub original: String,
}

impl Version {
    /// Parses a version loosely (Masterminds' `NewVersion`).
    pub fn parse(text: &str) -> Result<Version, String> {
        let original = text.to_string();
        let body = text.strip_prefix('v').unwrap_or(text);
        let (body, metadata) = match body.split_once('+') {
            Some((b, m)) => (b, m.to_string()),
            None => (body, String::new()),
        };
        let (core, pre) = match body.split_once('-') {
            Some((c, p)) => (c, p.to_string()),
            None => (body, String::new()),
        };
        let mut parts = core.split('.');
        let number = |p: Option<&str>, required: bool| -> Result<u64, String> {
            match p {
                None if !required => Ok(0),
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p
                    .parse()
                    .map_err(|_| "Invalid Semantic Version".to_string()),
                _ => Err("Invalid Semantic Version".to_string()),
            }
        };
        let major = number(parts.next(), true)?;
        let minor = number(parts.next(), false)?;
        let patch = number(parts.next(), false)?;
        if parts.next().is_some() {
            return Err("Invalid Semantic Version".to_string());
        }
        let valid_ident = |s: &str| {
            s.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        };
        if (!pre.is_empty() && !valid_ident(&pre))
            || (!metadata.is_empty() && !valid_ident(&metadata))
        {
            return Err("Invalid Semantic Version".to_string());
        }
        Ok(Version {
            major,
            minor,
            patch,
            pre,
            metadata,
            original,
        })
    }

    fn compare(&self, other: &Version) -> Ordering {
        self.major
            .cmp(&other.major)
            .then(self.minor.cmp(&other.minor))
            .then(self.patch.cmp(&other.patch))
            .then_with(|| compare_pre(&self.pre, &other.pre))
    }
}

fn compare_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let (ap, bp): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for (x, y) in ap.iter().zip(bp.iter()) {
        let ordering = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(i), Ok(j)) => i.cmp(&j),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            _ => x.cmp(y),
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    ap.len().cmp(&bp.len())
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
}

#[derive(Debug, Clone)]
struct Condition {
    op: Op,
    version: Version,
    /// The constraint named a pre-release.
    pre: bool,
}

/// Parses a constraint: alternatives (`||`) of condition lists.
fn parse_constraint(text: &str) -> Result<Vec<Vec<Condition>>, String> {
    let mut alternatives = Vec::new();
    for alternative in text.split("||") {
        let mut conditions = Vec::new();
        let normalized = normalize_spaces(alternative);
        let tokens: Vec<&str> = normalized
            .split([',', ' '])
            .filter(|t| !t.is_empty())
            .collect();
        let mut i = 0;
        while i < tokens.len() {
            // Hyphen range: `1.2 - 1.4.5`.
            if i + 2 < tokens.len() && tokens[i + 1] == "-" {
                let low = parse_partial(tokens[i])?;
                let high = parse_partial(tokens[i + 2])?;
                conditions.push(cond(Op::Ge, low.fill()));
                conditions.push(if high.wild_minor || high.wild_patch {
                    cond(Op::Lt, high.next_up())
                } else {
                    cond(Op::Le, high.fill())
                });
                i += 3;
                continue;
            }
            conditions.extend(parse_condition(tokens[i])?);
            i += 1;
        }
        if conditions.is_empty() {
            return Err(format!("improper constraint: {text}"));
        }
        alternatives.push(conditions);
    }
    Ok(alternatives)
}

/// Joins an operator and its version (`>= 1.2` → `>=1.2`).
fn normalize_spaces(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.trim().chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if matches!(c, '=' | '>' | '<' | '~' | '^' | '!') {
            while chars.peek() == Some(&' ') {
                chars.next();
            }
        }
    }
    out
}

fn cond(op: Op, version: Version) -> Condition {
    Condition {
        op,
        pre: !version.pre.is_empty(),
        version,
    }
}

/// A version in a constraint, which may leave parts out or wildcard them.
struct Partial {
    major: u64,
    minor: u64,
    patch: u64,
    wild_major: bool,
    wild_minor: bool,
    wild_patch: bool,
    pre: String,
}

impl Partial {
    fn fill(&self) -> Version {
        Version {
            major: self.major,
            minor: self.minor,
            patch: self.patch,
            pre: self.pre.clone(),
            metadata: String::new(),
            original: String::new(),
        }
    }

    /// The first version above every version the wildcard covers.
    fn next_up(&self) -> Version {
        let mut v = self.fill();
        v.pre.clear();
        if self.wild_minor {
            v.major += 1;
            v.minor = 0;
        } else {
            v.minor += 1;
        }
        v.patch = 0;
        v
    }
}

fn parse_partial(text: &str) -> Result<Partial, String> {
    let body = text.strip_prefix('v').unwrap_or(text);
    let (body, _) = body.split_once('+').unwrap_or((body, ""));
    let (core, pre) = match body.split_once('-') {
        Some((c, p)) => (c, p.to_string()),
        None => (body, String::new()),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return Err(format!("improper constraint: {text}"));
    }
    let wild = |p: Option<&&str>| p.is_none_or(|p| matches!(*p, "x" | "X" | "*"));
    let number = |p: Option<&&str>| -> Result<u64, String> {
        match p {
            Some(p) if !matches!(*p, "x" | "X" | "*") => p
                .parse()
                .map_err(|_| format!("improper constraint: {text}")),
            _ => Ok(0),
        }
    };
    let wild_major = matches!(parts[0], "x" | "X" | "*");
    Ok(Partial {
        major: number(parts.first())?,
        minor: number(parts.get(1))?,
        patch: number(parts.get(2))?,
        wild_major,
        wild_minor: wild_major || wild(parts.get(1)),
        wild_patch: wild_major || wild(parts.get(1)) || wild(parts.get(2)),
        pre,
    })
}

fn parse_condition(token: &str) -> Result<Vec<Condition>, String> {
    let ops = [">=", "=>", "<=", "=<", "!=", "~>", ">", "<", "=", "~", "^"];
    let (op, rest) = ops
        .iter()
        .find_map(|o| token.strip_prefix(o).map(|r| (*o, r)))
        .unwrap_or(("", token));
    let p = parse_partial(rest)?;
    let base = p.fill();
    let pre = !p.pre.is_empty();
    let c = |op: Op, version: Version| Condition { op, version, pre };
    let any = |p: &Partial| p.wild_major;
    Ok(match op {
        "" | "=" => {
            if any(&p) {
                vec![c(Op::Ge, Version::parse("0.0.0").unwrap_or(base.clone()))]
            } else if p.wild_minor || p.wild_patch {
                vec![c(Op::Ge, base.clone()), c(Op::Lt, p.next_up())]
            } else {
                vec![c(Op::Eq, base)]
            }
        }
        "!=" => {
            if p.wild_minor || p.wild_patch {
                // Outside the wildcard's range.
                return Ok(vec![c(Op::Ne, base)]);
            }
            vec![c(Op::Ne, base)]
        }
        ">" => {
            if any(&p) {
                vec![c(Op::Lt, Version::parse("0.0.0").unwrap_or(base))]
            } else if p.wild_minor || p.wild_patch {
                vec![c(Op::Ge, p.next_up())]
            } else {
                vec![c(Op::Gt, base)]
            }
        }
        ">=" | "=>" => vec![c(Op::Ge, base)],
        "<" => vec![c(Op::Lt, base)],
        "<=" | "=<" => {
            if p.wild_minor || p.wild_patch {
                vec![c(Op::Lt, p.next_up())]
            } else {
                vec![c(Op::Le, base)]
            }
        }
        "~" | "~>" => {
            // ~1.2.3 → <1.3.0; ~1 → <2.0.0.
            let mut upper = base.clone();
            upper.pre.clear();
            if p.wild_minor {
                upper.major += 1;
                upper.minor = 0;
            } else {
                upper.minor += 1;
            }
            upper.patch = 0;
            vec![c(Op::Ge, base), c(Op::Lt, upper)]
        }
        "^" => {
            let mut upper = base.clone();
            upper.pre.clear();
            if base.major > 0 || p.wild_minor {
                upper.major += 1;
                upper.minor = 0;
                upper.patch = 0;
            } else if base.minor > 0 || p.wild_patch {
                upper.minor += 1;
                upper.patch = 0;
            } else {
                upper.patch += 1;
            }
            vec![c(Op::Ge, base), c(Op::Lt, upper)]
        }
        _ => return Err(format!("improper constraint: {token}")),
    })
}

fn check(condition: &Condition, version: &Version) -> bool {
    if !version.pre.is_empty() && !condition.pre {
        return false;
    }
    let ordering = version.compare(&condition.version);
    match condition.op {
        Op::Eq => ordering == Ordering::Equal,
        Op::Ne => ordering != Ordering::Equal,
        Op::Gt => ordering == Ordering::Greater,
        Op::Lt => ordering == Ordering::Less,
        Op::Ge => ordering != Ordering::Less,
        Op::Le => ordering != Ordering::Greater,
    }
}

/// Whether `version` meets `constraint` (`semverCompare`).
pub fn compare(constraint: &str, version: &str) -> Result<bool, String> {
    let alternatives = parse_constraint(constraint)?;
    let version = Version::parse(version).map_err(|_| "Invalid Semantic Version".to_string())?;
    Ok(matches(&alternatives, &version))
}

fn matches(alternatives: &[Vec<Condition>], version: &Version) -> bool {
    alternatives
        .iter()
        .any(|conditions| conditions.iter().all(|c| check(c, version)))
}

/// Whether `version` meets `constraint`, for callers outside templates.
pub fn satisfies(constraint: &str, version: &str) -> Result<bool, String> {
    compare(constraint, version)
}

/// The newest of `versions` meeting `constraint`.
pub fn newest_matching<'a>(
    constraint: &str,
    versions: impl Iterator<Item = &'a str>,
) -> Result<Option<&'a str>, String> {
    let alternatives = parse_constraint(constraint)?;
    let mut best: Option<(Version, &str)> = None;
    for text in versions {
        let Ok(v) = Version::parse(text) else {
            continue;
        };
        if !matches(&alternatives, &v) {
            continue;
        }
        if best
            .as_ref()
            .is_none_or(|(b, _)| v.compare(b) == Ordering::Greater)
        {
            best = Some((v, text));
        }
    }
    Ok(best.map(|(_, t)| t))
}

/// `semver "1.2.3"`: a `*semver.Version` (`.Major`, `.Minor`, `.Patch`, `.Prerelease`,
/// `.Metadata`, `.Original`; printed as `1.2.3`).
pub fn version_value(text: &str) -> Result<Value, String> {
    let v = Version::parse(text)?;
    let mut display = format!("{}.{}.{}", v.major, v.minor, v.patch);
    if !v.pre.is_empty() {
        display.push_str(&format!("-{}", v.pre));
    }
    if !v.metadata.is_empty() {
        display.push_str(&format!("+{}", v.metadata));
    }
    Ok(Value::Object(std::rc::Rc::new(crate::value::Object {
        type_name: "*semver.Version",
        fields: vec![
            ("Major", "", Value::Int(v.major as i64)),
            ("Minor", "", Value::Int(v.minor as i64)),
            ("Patch", "", Value::Int(v.patch as i64)),
            ("Prerelease", "", Value::string(v.pre)),
            ("Metadata", "", Value::string(v.metadata)),
            ("Original", "", Value::string(v.original)),
        ],
        kind: crate::value::ObjectKind::PointerStringer(std::rc::Rc::from(display.as_str())),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_as_masterminds() {
        let cases = [
            (">=1.19-0", "v1.20.0", true),
            (">=1.19-0", "v1.18.3", false),
            (">=1.19-0", "v1.21.0-gke.100", true),
            (">=1.19", "v1.21.0-gke.100", false),
            ("<1.22", "1.21.9", true),
            ("~1.2.3", "1.2.9", true),
            ("~1.2.3", "1.3.0", false),
            ("^1.2", "1.9.0", true),
            ("^1.2", "2.0.0", false),
            ("^0.2.3", "0.2.9", true),
            ("^0.2.3", "0.3.0", false),
            ("1.2.x", "1.2.7", true),
            ("1.2.x", "1.3.0", false),
            ("*", "3.0.0", true),
            (">= 1.2, < 3.0.0 || >= 4.2.3", "4.3.0", true),
            (">= 1.2, < 3.0.0 || >= 4.2.3", "3.5.0", false),
            ("1.1 - 2", "2.0.0", true),
            (">1.2.x", "1.2.9", false),
            ("<=1.2.x", "1.2.9", true),
            ("!=1.2.3", "1.2.4", true),
        ];
        for (constraint, version, want) in cases {
            assert_eq!(
                compare(constraint, version),
                Ok(want),
                "{constraint} {version}"
            );
        }
        assert!(compare(">=a", "1.0.0").is_err());
        assert!(compare(">=1.0", "x1").is_err());
    }

    #[test]
    fn newest_matching_version() {
        let versions = ["1.0.0", "1.2.0", "2.0.0", "1.3.0-rc1"];
        assert_eq!(
            newest_matching("^1.0", versions.iter().copied()),
            Ok(Some("1.2.0"))
        );
    }
}
