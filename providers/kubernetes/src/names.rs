//! Kubernetes' rules for object names and namespaces (RFC 1123, as the API server checks
//! them). Names and namespaces are put into API URL paths, so they are checked before any
//! request: `..` or `/` in one would address another object than the manifest says.

/// Which rule a name follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// RFC 1123 DNS subdomain: at most 253 characters, lowercase letters, digits, `-` and
    /// `.`, starting and ending with a letter or digit. Most kinds' names.
    DnsSubdomain,
    /// RFC 1123 DNS label: at most 63 characters, lowercase letters, digits and `-`,
    /// starting and ending with a letter or digit. Namespaces.
    DnsLabel,
    /// Any name that is one URL path segment: not `.` or `..`, no `/` or `%`. RBAC kinds,
    /// whose names are often like `system:aggregate-to-edit`.
    PathSegment,
}

impl NameRule {
    /// The rule in words, for diagnostics.
    pub fn description(self) -> &'static str {
        match self {
            NameRule::DnsSubdomain => {
                "an RFC 1123 DNS subdomain: at most 253 characters, lowercase letters, digits, \"-\" and \".\", starting and ending with a letter or digit"
            }
            NameRule::DnsLabel => {
                "an RFC 1123 DNS label: at most 63 characters, lowercase letters, digits and \"-\", starting and ending with a letter or digit"
            }
            NameRule::PathSegment => "a name without \"/\" or \"%\" that is not \".\" or \"..\"",
        }
    }
}

/// The rule for `metadata.name` of an object of `kind` in API group `group` (`""` or
/// `"core"` for the core group).
pub fn name_rule(group: &str, kind: &str) -> NameRule {
    match (group, kind) {
        ("" | "core", "Namespace") => NameRule::DnsLabel,
        ("rbac.authorization.k8s.io", _) => NameRule::PathSegment,
        _ => NameRule::DnsSubdomain,
    }
}

/// Whether `name` follows `rule`.
pub fn follows(name: &str, rule: NameRule) -> bool {
    let dns = |max: usize, dot_allowed: bool| {
        let bytes = name.as_bytes();
        let edge_ok =
            |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        name.len() <= max
            && edge_ok(bytes.first())
            && edge_ok(bytes.last())
            && bytes.iter().all(|b| {
                b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || *b == b'-'
                    || (dot_allowed && *b == b'.')
            })
            && !(dot_allowed && name.split('.').any(|part| part.is_empty()))
    };
    match rule {
        NameRule::DnsSubdomain => dns(253, true),
        NameRule::DnsLabel => dns(63, false),
        NameRule::PathSegment => {
            !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '%'])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_subdomains() {
        for good in ["web", "web-1", "a.b.c", "0abc"] {
            assert!(follows(good, NameRule::DnsSubdomain), "{good}");
        }
        for bad in [
            "",
            "..",
            "../x",
            "a/b",
            "Web",
            "-a",
            "a-",
            "a..b",
            ".a",
            &"a".repeat(254),
        ] {
            assert!(!follows(bad, NameRule::DnsSubdomain), "{bad}");
        }
    }

    #[test]
    fn dns_labels() {
        assert!(follows("kube-system", NameRule::DnsLabel));
        for bad in ["a.b", "..", "a/b", &"a".repeat(64)] {
            assert!(!follows(bad, NameRule::DnsLabel), "{bad}");
        }
    }

    #[test]
    fn namespaces_are_dns_labels() {
        assert_eq!(name_rule("core", "Namespace"), NameRule::DnsLabel);
        assert_eq!(name_rule("", "Namespace"), NameRule::DnsLabel);
        assert_eq!(name_rule("apps", "Deployment"), NameRule::DnsSubdomain);
    }

    #[test]
    fn rbac_names_are_path_segments() {
        assert_eq!(
            name_rule("rbac.authorization.k8s.io", "ClusterRole"),
            NameRule::PathSegment
        );
        assert!(follows("system:aggregate-to-edit", NameRule::PathSegment));
        for bad in ["..", ".", "a/b", "a%2f", ""] {
            assert!(!follows(bad, NameRule::PathSegment), "{bad}");
        }
    }
}
