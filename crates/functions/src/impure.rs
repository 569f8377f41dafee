//! Functions whose result is not determined by their arguments: `uuid`, `timestamp`,
//! `bcrypt` (a random salt) and `plantimestamp`. As in Terraform, the first three are unknown
//! while planning, so that a plan does not change on every run; `plantimestamp` is the
//! plan's own time, known at plan.

use braid_provider::Value;
use chrono::{SecondsFormat, Utc};

use super::{Call, FunctionError, Phase};

/// The highest bcrypt cost braid computes: each step doubles the time, and cost 31 would take
/// days. Terraform accepts up to 31.
const MAX_BCRYPT_COST: i64 = 16;

pub(super) fn uuid(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(match c.ctx.phase {
        Phase::Plan => Value::Unknown,
        Phase::Apply => Value::String(uuid::Uuid::new_v4().to_string()),
    })
}

pub(super) fn timestamp(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(match c.ctx.phase {
        Phase::Plan => Value::Unknown,
        Phase::Apply => Value::String(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)),
    })
}

pub(super) fn plantimestamp(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::String(
        c.ctx.plan_time.to_rfc3339_opts(SecondsFormat::Secs, true),
    ))
}

/// `bcrypt(text, cost = 10)`: a `$2a$` hash with a random salt.
pub(super) fn bcrypt(c: &Call<'_>) -> Result<Value, FunctionError> {
    let text = c.string(0)?;
    let cost = if c.args.len() > 1 { c.integer(1)? } else { 10 };
    if !(4..=MAX_BCRYPT_COST).contains(&cost) {
        return Err(c.arg_error(
            1,
            format!("the cost must be between 4 and {MAX_BCRYPT_COST}, got {cost}"),
        ));
    }
    if text.len() > 72 {
        return Err(c.arg_error(0, "bcrypt hashes at most 72 bytes of input"));
    }
    if c.ctx.phase == Phase::Plan {
        return Ok(Value::Unknown);
    }
    let cost = u32::try_from(cost).unwrap_or(10);
    let hash = bcrypt::hash_with_result(text.as_bytes(), cost)
        .map_err(|e| c.failed(format!("failed to hash: {e}")))?;
    Ok(Value::String(
        hash.format_for_version(bcrypt::Version::TwoA),
    ))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use braid_provider::Value;

    use super::super::test_support::{err, ok, s};
    use super::super::{FunctionContext, Phase, call};

    #[test]
    fn impure_functions_are_unknown_at_plan() {
        assert_eq!(ok("uuid", vec![]), Value::Unknown);
        assert_eq!(ok("timestamp", vec![]), Value::Unknown);
        assert_eq!(ok("bcrypt", vec![s("x")]), Value::Unknown);
        assert_eq!(ok("plantimestamp", vec![]), s("2026-01-02T03:04:05Z"));
        assert!(
            err("bcrypt", vec![s("x"), super::super::test_support::n(31)])
                .to_string()
                .contains("cost")
        );
    }

    #[test]
    fn impure_functions_produce_values_at_apply() {
        let ctx = FunctionContext {
            base_dir: Path::new("/srv"),
            source_root: Path::new("/srv"),
            phase: Phase::Apply,
            plan_time: chrono::DateTime::UNIX_EPOCH,
        };
        let uuid = call(&ctx, "uuid", vec![]).expect("uuid");
        assert_eq!(uuid.as_str().map(str::len), Some(36));
        let hash = call(
            &ctx,
            "bcrypt",
            vec![s("x"), super::super::test_support::n(4)],
        )
        .expect("bcrypt");
        let hash = hash.as_str().expect("string").to_string();
        assert!(hash.starts_with("$2a$04$"), "{hash}");
        assert!(bcrypt::verify("x", &hash).expect("verify"));
        let now = call(&ctx, "timestamp", vec![]).expect("timestamp");
        assert!(now.as_str().is_some_and(|t| t.ends_with('Z')));
    }
}
