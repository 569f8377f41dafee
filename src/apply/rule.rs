//! `apply_rule { refs = [...] }`: which git refs may be applied to an environment (prod only
//! from tags `v*`, staging only from main).

use braid_state::SourceRevision;

use crate::config::EnvironmentConfig;
use crate::diag::{Diagnostic, Diagnostics};

/// Refuses sources that were not all read from a ref the environment allows. Checked before
/// planning (nothing is refreshed or shown for a refused apply) and again for saved plans.
pub fn check_apply_rule(
    env: Option<&EnvironmentConfig>,
    sources: &[SourceRevision],
) -> Result<(), Diagnostics> {
    let Some(env) = env.filter(|e| !e.apply_refs.is_empty()) else {
        return Ok(());
    };
    let offending: Vec<String> = sources
        .iter()
        .filter(|s| !s.full_ref.as_deref().is_some_and(|r| env.apply_refs.iter().any(|p| glob_match(p, r))))
        .map(|s| match &s.full_ref {
            Some(r) => format!("{} was read from {r}", s.name),
            None => format!(
                "{} was read from no ref (a commit, or a directory outside git; set BRAID_REF in CI)",
                s.name
            ),
        })
        .collect();
    if offending.is_empty() {
        return Ok(());
    }
    Err(Diagnostic::error(
        "Ref not allowed for this environment",
        format!(
            "Environment \"{}\" may only be applied from {}, but {}. Apply from one of those refs (pass --ref SOURCE=REF for git sources), or change apply_rule in braid.hcl.",
            env.name,
            env.apply_refs.join(", "),
            offending.join("; ")
        ),
    )
    .at_opt(env.location.clone())
    .into())
}

/// Matches `*` (any run of characters, `/` included) and literal text.
fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else {
        return pattern == text;
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs_match_ref_patterns() {
        assert!(glob_match("refs/tags/v*", "refs/tags/v1.4.0"));
        assert!(!glob_match("refs/tags/v*", "refs/heads/v1"));
        assert!(glob_match("refs/heads/main", "refs/heads/main"));
        assert!(!glob_match("refs/heads/main", "refs/heads/main2"));
        assert!(glob_match(
            "refs/heads/release/*",
            "refs/heads/release/2026-11"
        ));
        assert!(glob_match("*", "anything"));
        assert!(!glob_match("refs/*/v1*x", "refs/tags/v1"));
    }
}
