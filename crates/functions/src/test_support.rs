//! Helpers shared by the unit tests of every function category: calling a function by name
//! and building argument values tersely.

use std::path::Path;

use braid_provider::Value;

use super::{FunctionContext, FunctionError, Phase, call};

/// The plan time every unit test sees.
pub(super) fn plan_time() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
        .map(|t| t.to_utc())
        .unwrap_or_default()
}

pub(super) fn run(name: &str, args: Vec<Value>) -> Result<Value, FunctionError> {
    let ctx = FunctionContext {
        base_dir: Path::new("/srv/config"),
        source_root: Path::new("/srv/config"),
        phase: Phase::Plan,
        plan_time: plan_time(),
    };
    call(&ctx, name, args)
}

pub(super) fn ok(name: &str, args: Vec<Value>) -> Value {
    match run(name, args) {
        Ok(v) => v,
        Err(e) => panic!("{name}() failed: {e}"),
    }
}

pub(super) fn err(name: &str, args: Vec<Value>) -> FunctionError {
    match run(name, args) {
        Ok(v) => panic!("{name}() unexpectedly returned {v:?}"),
        Err(e) => e,
    }
}

pub(super) fn s(text: &str) -> Value {
    Value::from(text)
}

pub(super) fn n(i: i64) -> Value {
    Value::from_i64(i)
}

pub(super) fn fl(f: f64) -> Value {
    Value::from_f64(f)
}

pub(super) fn strs(items: &[&str]) -> Value {
    Value::List(items.iter().map(|t| s(t)).collect())
}

pub(super) fn nums(items: &[i64]) -> Value {
    Value::List(items.iter().map(|i| n(*i)).collect())
}

pub(super) fn list(items: Vec<Value>) -> Value {
    Value::List(items)
}

pub(super) fn map(entries: &[(&str, Value)]) -> Value {
    Value::map(entries.iter().cloned())
}

pub(super) fn message(e: &FunctionError) -> String {
    e.to_string()
}
