//! [`VariablesOnly`]: the scope of expressions that see no locals or resources.

use std::collections::BTreeMap;
use std::sync::Arc;

use braid_functions::Phase;
use chrono::{DateTime, Utc};

use super::{NameKind, ResourceValue, Scope, ScopeValue};
use crate::diag::Diagnostic;

/// A scope with at most variables: what `braid.hcl`, variable files and `--var` values see
/// (no names at all), the templates of `templatefile()` and `templatestring()` (no names; the
/// evaluator binds their variables) and validation conditions (the variables).
pub struct VariablesOnly<'a> {
    variables: Option<&'a BTreeMap<String, ScopeValue>>,
    phase: Option<(Phase, DateTime<Utc>)>,
    env_name: &'a str,
}

impl VariablesOnly<'static> {
    /// No names at all, planning.
    pub fn empty() -> Self {
        VariablesOnly {
            variables: None,
            phase: None,
            env_name: "",
        }
    }
}

impl<'a> VariablesOnly<'a> {
    /// `var.NAME` reads `variables`.
    pub fn with_variables(variables: &'a BTreeMap<String, ScopeValue>) -> Self {
        VariablesOnly {
            variables: Some(variables),
            phase: None,
            env_name: "",
        }
    }

    /// `env.name` reads `name`.
    pub fn with_env_name(mut self, name: &'a str) -> Self {
        self.env_name = name;
        self
    }

    /// Evaluating for `phase` (planning or applying) with the plan's instant.
    pub fn at_phase(mut self, phase: (Phase, DateTime<Utc>)) -> Self {
        self.phase = Some(phase);
        self
    }
}

impl Scope for VariablesOnly<'_> {
    fn variable(&self, module: &str, name: &str) -> Option<Result<ScopeValue, Diagnostic>> {
        if !module.is_empty() {
            return None;
        }
        self.variables?.get(name).cloned().map(Ok)
    }
    fn local(&self, _: &str) -> Option<Result<ScopeValue, Diagnostic>> {
        None
    }
    fn resource(&self, _: &str) -> Option<Arc<ResourceValue>> {
        None
    }
    fn env_name(&self) -> &str {
        self.env_name
    }
    fn declared(&self, kind: NameKind, module: &str) -> Vec<String> {
        match (kind, self.variables) {
            (NameKind::Variable, Some(variables)) if module.is_empty() => {
                variables.keys().cloned().collect()
            }
            _ => Vec::new(),
        }
    }
    fn phase(&self) -> (Phase, DateTime<Utc>) {
        self.phase
            .unwrap_or_else(|| (Phase::Plan, braid_functions::process_plan_time()))
    }
}
