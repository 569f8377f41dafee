//! Reading attributes out of configuration, plan and state maps, shared by both resource
//! types.

use braid_provider::{Path, ProviderDiagnostic, Value};

/// The attribute `name` of a resource's attribute map; absent attributes read as null.
pub(crate) fn attribute(attributes: &Value, name: &str) -> Value {
    attributes.attr(name).cloned().unwrap_or(Value::Null)
}

/// The planned attributes with every value that was unknown at plan time taken from the
/// configuration, which the engine resolves fully before apply.
pub(crate) fn fill_unknowns(planned: &Value, config: &Value) -> Value {
    let mut merged = planned.as_map().cloned().unwrap_or_default();
    if let Some(config) = config.as_map() {
        for (name, value) in config {
            let planned_is_known = merged.get(name).is_some_and(Value::is_wholly_known);
            if !planned_is_known {
                merged.insert(name.clone(), value.clone());
            }
        }
    }
    Value::Map(merged)
}

/// An error for an attribute whose value has the wrong type.
pub(crate) fn wrong_type(name: &str, expected: &str, actual: &Value) -> ProviderDiagnostic {
    ProviderDiagnostic::error(
        "Incorrect attribute value type",
        format!(
            "The attribute \"{name}\" must be a {expected}, but the given value is {}.",
            actual.kind()
        ),
    )
    .at(Path::key(name))
}

/// An error for a value that is still unknown when apply needs it.
pub(crate) fn unknown_at_apply(value: &Value) -> ProviderDiagnostic {
    let paths: Vec<String> = value
        .unknown_paths()
        .iter()
        .map(ToString::to_string)
        .collect();
    ProviderDiagnostic::error(
        "Value unknown during apply",
        format!(
            "These attributes were still unknown when the change was applied: {}. This is a \
             bug in braid, which must resolve every value before apply; please report it.",
            paths.join(", ")
        ),
    )
}

pub(crate) fn has_errors(diagnostics: &[ProviderDiagnostic]) -> bool {
    diagnostics.iter().any(ProviderDiagnostic::is_error)
}
