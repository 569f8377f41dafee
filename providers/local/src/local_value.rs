//! The `local_value` resource: a value that lives only in state, like Terraform's
//! `terraform_data`.
//!
//! `output` follows `input` through apply (so dependents see a value that is "known after
//! apply" when the input is), and a change to `triggers_replace` replaces the resource, which
//! in turn replaces anything whose lifecycle depends on it.

use braid_provider::{
    ApplyRequest, ApplyResponse, ImportResponse, Path, PathStep, PlanRequest, PlanResponse,
    ProviderDiagnostic, ReadRequest, ReadResponse, Value,
};

use crate::attributes::{attribute, fill_unknowns, unknown_at_apply};

pub(crate) const TYPE_NAME: &str = "local_value";

pub(crate) fn plan(request: &PlanRequest) -> PlanResponse {
    let input = attribute(&request.config, "input");
    let triggers_replace = attribute(&request.config, "triggers_replace");
    let (id, requires_replace) = match &request.prior {
        None => (Value::Unknown, Vec::new()),
        Some(prior) => {
            // Parts of the triggers that are unknown may turn out different, so they count as
            // a change.
            if !triggers_replace.is_wholly_known()
                || attribute(prior, "triggers_replace") != triggers_replace
            {
                (Value::Unknown, vec![Path::key("triggers_replace")])
            } else {
                (attribute(prior, "id"), Vec::new())
            }
        }
    };
    PlanResponse {
        planned: state(id, input, triggers_replace),
        requires_replace,
        existing: None,
        sensitive: output_sensitive(&request.sensitive),
        diagnostics: Vec::new(),
    }
}

/// `output` is a copy of `input`, so whatever part of `input` is sensitive is sensitive in
/// `output` too.
fn output_sensitive(config_sensitive: &[Path]) -> Vec<Path> {
    let input = Path::key("input");
    config_sensitive
        .iter()
        .filter(|path| path.starts_with(&input))
        .map(|path| {
            let mut steps = path.0.clone();
            steps[0] = PathStep::Key("output".to_string());
            Path(steps)
        })
        .collect()
}

pub(crate) fn apply(request: &ApplyRequest) -> ApplyResponse {
    let Some(planned) = &request.planned else {
        // Nothing exists outside state, so forgetting it is the whole delete.
        return ApplyResponse::default();
    };
    let desired = fill_unknowns(planned, &request.config);
    let input = attribute(&desired, "input");
    let triggers_replace = attribute(&desired, "triggers_replace");
    let id = match attribute(planned, "id") {
        Value::String(id) => Value::String(id),
        _ => Value::String(uuid::Uuid::new_v4().to_string()),
    };
    let new_state = state(id, input, triggers_replace);
    if !new_state.is_wholly_known() {
        return ApplyResponse {
            new_state: request.prior.clone(),
            diagnostics: vec![unknown_at_apply(&new_state)],
        };
    }
    ApplyResponse {
        new_state: Some(new_state),
        diagnostics: Vec::new(),
    }
}

pub(crate) fn read(request: ReadRequest) -> ReadResponse {
    // State is the only place a local_value exists, so it cannot drift.
    ReadResponse {
        state: Some(request.current),
        diagnostics: Vec::new(),
    }
}

pub(crate) fn import() -> ImportResponse {
    ImportResponse {
        state: None,
        diagnostics: vec![ProviderDiagnostic::error(
            "local_value cannot be imported",
            "A local_value exists only in braid's state, so there is nothing to import. Add the \
             resource to the configuration and apply it instead.",
        )],
    }
}

fn state(id: Value, input: Value, triggers_replace: Value) -> Value {
    Value::map([
        ("id", id),
        ("output", input.clone()),
        ("input", input),
        ("triggers_replace", triggers_replace),
    ])
}
