//! Numeric functions: `abs`, `ceil`, `floor`, `signum`, `pow`, `min`, `max`, `sum` and
//! `parseint`.

use braid_provider::Value;
use serde_json::Number;

use super::{Call, FunctionError, expected};

pub(super) fn abs(c: &Call<'_>) -> Result<Value, FunctionError> {
    c.number_value(c.number(0)?.abs())
}

pub(super) fn ceil(c: &Call<'_>) -> Result<Value, FunctionError> {
    c.number_value(c.number(0)?.ceil())
}

pub(super) fn floor(c: &Call<'_>) -> Result<Value, FunctionError> {
    c.number_value(c.number(0)?.floor())
}

pub(super) fn signum(c: &Call<'_>) -> Result<Value, FunctionError> {
    let n = c.number(0)?;
    // f64::signum(0.0) is 1; Terraform's signum(0) is 0.
    c.number_value(if n == 0.0 { 0.0 } else { n.signum() })
}

pub(super) fn pow(c: &Call<'_>) -> Result<Value, FunctionError> {
    c.number_value(c.number(0)?.powf(c.number(1)?))
}

/// `log(number, base)`, computed as Go's `math.Log(number) / math.Log(base)` is.
pub(super) fn log(c: &Call<'_>) -> Result<Value, FunctionError> {
    c.number_value(c.number(0)?.ln() / c.number(1)?.ln())
}

pub(super) fn min(c: &Call<'_>) -> Result<Value, FunctionError> {
    let numbers = (0..c.args.len())
        .map(|i| c.number(i))
        .collect::<Result<Vec<_>, _>>()?;
    c.number_value(numbers.into_iter().fold(f64::INFINITY, f64::min))
}

pub(super) fn max(c: &Call<'_>) -> Result<Value, FunctionError> {
    let numbers = (0..c.args.len())
        .map(|i| c.number(i))
        .collect::<Result<Vec<_>, _>>()?;
    c.number_value(numbers.into_iter().fold(f64::NEG_INFINITY, f64::max))
}

pub(super) fn sum(c: &Call<'_>) -> Result<Value, FunctionError> {
    let items = c.list(0)?;
    if items.is_empty() {
        return Err(c.failed("cannot sum an empty list"));
    }
    let mut total = 0.0;
    for (j, item) in items.iter().enumerate() {
        total += c.element_number(0, j, item)?;
    }
    c.number_value(total)
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
    let cannot = || c.failed(format!("cannot parse {text:?} as a base {base} integer"));
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty() {
        return Err(cannot());
    }
    let mut n: i128 = 0;
    for ch in digits.chars() {
        // Go's big.Int digits: case-insensitive letters up to base 36, then a-z are 10-35
        // and A-Z are 36-61.
        let digit = match ch {
            '0'..='9' => u32::from(ch) - u32::from('0'),
            'a'..='z' => u32::from(ch) - u32::from('a') + 10,
            'A'..='Z' if base <= 36 => u32::from(ch) - u32::from('A') + 10,
            'A'..='Z' => u32::from(ch) - u32::from('A') + 36,
            _ => return Err(cannot()),
        };
        if digit >= base {
            return Err(cannot());
        }
        n = n
            .checked_mul(i128::from(base))
            .and_then(|n| n.checked_add(i128::from(digit)))
            .ok_or_else(|| c.failed(format!("{text:?} is too large to represent")))?;
    }
    let n = if negative { -n } else { n };
    if let Ok(i) = i64::try_from(n) {
        Ok(Value::from_i64(i))
    } else if let Ok(u) = u64::try_from(n) {
        Ok(Value::Number(Number::from(u)))
    } else {
        Err(c.failed(format!("{text:?} is too large to represent")))
    }
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
        assert!(message(&err("pow", vec![n(10), n(400)])).contains("finite"));
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
