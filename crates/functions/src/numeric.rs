//! Numeric functions: `abs`, `ceil`, `floor`, `signum`, `pow`, `min`, `max`, `sum` and
//! `parseint`.

use braid_provider::{TfNumber, Value};

use super::{Call, FunctionError, expected};

pub(super) fn abs(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::Number(c.number(0)?.abs()))
}

pub(super) fn ceil(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::Number(c.number(0)?.ceil()))
}

pub(super) fn floor(c: &Call<'_>) -> Result<Value, FunctionError> {
    Ok(Value::Number(c.number(0)?.floor()))
}

pub(super) fn signum(c: &Call<'_>) -> Result<Value, FunctionError> {
    c.number_value(c.number(0)?.signum())
}

pub(super) fn pow(c: &Call<'_>) -> Result<Value, FunctionError> {
    c.number_value(c.number(0)?.pow(&c.number(1)?))
}

/// `log(number, base)`, computed as Go's `math.Log(number) / math.Log(base)` is.
pub(super) fn log(c: &Call<'_>) -> Result<Value, FunctionError> {
    c.number_value(c.number(0)?.log(&c.number(1)?))
}

fn numbers(c: &Call<'_>) -> Result<Vec<TfNumber>, FunctionError> {
    (0..c.args.len()).map(|i| c.number(i)).collect()
}

pub(super) fn min(c: &Call<'_>) -> Result<Value, FunctionError> {
    TfNumber::min_of(&numbers(c)?)
        .map(Value::Number)
        .ok_or_else(|| c.failed("must have at least one argument"))
}

pub(super) fn max(c: &Call<'_>) -> Result<Value, FunctionError> {
    TfNumber::max_of(&numbers(c)?)
        .map(Value::Number)
        .ok_or_else(|| c.failed("must have at least one argument"))
}

/// The elements added left to right, each sum rounded as `+` rounds it.
pub(super) fn sum(c: &Call<'_>) -> Result<Value, FunctionError> {
    let items = c.list(0)?;
    let Some((first, rest)) = items.split_first() else {
        return Err(c.failed("cannot sum an empty list"));
    };
    let mut total = c.element_number(0, 0, first)?;
    for (j, item) in rest.iter().enumerate() {
        let n = c.element_number(0, j + 1, item)?;
        total = total.add(&n).map_err(|e| c.failed(e.to_string()))?;
    }
    Ok(Value::Number(total))
}

pub(super) fn parseint(c: &Call<'_>) -> Result<Value, FunctionError> {
    let Value::String(text) = &c.args[0] else {
        return Err(c.arg_error(0, expected("string", &c.args[0])));
    };
    let base = c.integer(1)?;
    let base = u32::try_from(base)
        .ok()
        .filter(|b| (2..=62).contains(b))
        .ok_or_else(|| {
            c.arg_error(
                1,
                format!("base must be a whole number between 2 and 62 inclusive, got {base}"),
            )
        })?;
    // Go's big.Int digits: case-insensitive letters up to base 36, then a-z are 10-35 and
    // A-Z are 36-61; any size.
    c.number_value(TfNumber::parse_integer(text, base))
}

#[cfg(test)]
mod tests {
    use super::super::FunctionError;
    use super::super::test_support::{err, fl, list, message, n, ok, s};

    #[test]
    fn numeric_functions() {
        assert_eq!(ok("abs", vec![n(-12)]), n(12));
        assert_eq!(ok("abs", vec![fl(-12.4)]), fl(12.4));
        assert_eq!(ok("ceil", vec![fl(5.1)]), n(6));
        assert_eq!(ok("floor", vec![fl(4.9)]), n(4));
        assert_eq!(ok("floor", vec![s("-4.5")]), n(-5));
        assert_eq!(ok("signum", vec![n(-13)]), n(-1));
        assert_eq!(ok("signum", vec![n(0)]), n(0));
        assert_eq!(ok("signum", vec![n(344)]), n(1));
        assert_eq!(ok("pow", vec![n(3), n(2)]), n(9));
        assert_eq!(ok("pow", vec![n(4), fl(0.5)]), n(2));
        // Beyond float64, as in Terraform: +Inf (refused later if it reaches a stored value).
        let huge = ok("pow", vec![n(10), n(400)]);
        assert!(
            huge.as_number()
                .is_some_and(braid_provider::TfNumber::is_infinite)
        );
        assert_eq!(
            message(&err("pow", vec![n(-8), fl(0.5)])),
            "pow(): the result is not a number"
        );
        assert_eq!(ok("min", vec![n(12), n(54), n(3)]), n(3));
        assert_eq!(ok("max", vec![n(12), s("54"), n(3)]), n(54));
        assert_eq!(
            ok("sum", vec![list(vec![n(10), fl(2.5), s("3")])]),
            fl(15.5)
        );
        assert!(message(&err("sum", vec![list(vec![])])).contains("empty list"));
    }

    #[test]
    fn parseint_bases() {
        assert_eq!(ok("parseint", vec![s("100"), n(10)]), n(100));
        assert_eq!(ok("parseint", vec![s("FF"), n(16)]), n(255));
        assert_eq!(ok("parseint", vec![s("-10"), n(16)]), n(-16));
        assert_eq!(ok("parseint", vec![s("1011111011101111"), n(2)]), n(48879));
        assert_eq!(ok("parseint", vec![s("aA"), n(62)]), n(10 * 62 + 36));
        assert_eq!(ok("parseint", vec![s("zz"), n(36)]), n(35 * 36 + 35));
        assert_eq!(
            message(&err("parseint", vec![s("12"), n(2)])),
            "parseint(): cannot parse \"12\" as a base 2 integer"
        );
        assert!(matches!(
            err("parseint", vec![s("1"), n(63)]),
            FunctionError::Argument { index: 2, .. }
        ));
        assert!(matches!(
            err("parseint", vec![n(1), n(10)]),
            FunctionError::Argument { index: 1, .. }
        ));
    }
}
