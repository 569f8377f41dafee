//! Go's `big.Float` arithmetic on exact values: every operation computes the exact result
//! with big integers and rounds it once, to nearest with ties to even, at the precision asked
//! for; zeros keep their sign and infinities follow Go's rules.

use std::cmp::Ordering;

use dashu_int::UBig;
use dashu_int::ops::{BitTest, DivRem};

use super::{Form, MAX_EXPONENT, MIN_EXPONENT, NumberError, TfNumber};

/// A shift amount; exponents in range are far below `usize::MAX`.
pub(super) fn shift(bits: i64) -> usize {
    usize::try_from(bits).unwrap_or(usize::MAX)
}

pub(super) fn bit_len(m: &UBig) -> i64 {
    i64::try_from(m.bit_len()).unwrap_or(i64::MAX)
}

/// Rounds the exact value `±mantissa × 2^exponent` (mantissa non-zero) to `precision` bits,
/// ties to even, and normalizes it; beyond Go's exponent range it overflows to an infinity or
/// underflows to zero.
pub(super) fn rounded(negative: bool, mantissa: UBig, exponent: i64, precision: u32) -> Form {
    let bits = mantissa.bit_len();
    let precision = usize::try_from(precision).unwrap_or(usize::MAX);
    let (mut mantissa, mut exponent) = (mantissa, exponent);
    if bits > precision {
        let dropped = bits - precision;
        let half = mantissa.bit(dropped - 1);
        let below_half = mantissa.trailing_zeros().is_some_and(|z| z < dropped - 1);
        let mut kept = mantissa >> dropped;
        if half && (below_half || kept.bit(0)) {
            kept += UBig::ONE;
        }
        mantissa = kept;
        exponent += i64::try_from(dropped).unwrap_or(i64::MAX);
    }
    if mantissa.is_zero() {
        return Form::Zero { negative };
    }
    let zeros = mantissa.trailing_zeros().unwrap_or(0);
    mantissa >>= zeros;
    exponent += i64::try_from(zeros).unwrap_or(0);
    let top = exponent + bit_len(&mantissa);
    if top > MAX_EXPONENT {
        Form::Infinite { negative }
    } else if top < MIN_EXPONENT {
        Form::Zero { negative }
    } else {
        Form::Finite {
            negative,
            mantissa,
            exponent,
        }
    }
}

/// The value of a whole number below 2^53, for the `i64` fast path.
pub(super) fn small_integer(form: &Form) -> Option<i64> {
    match form {
        Form::Zero { .. } => Some(0),
        Form::Finite {
            negative,
            mantissa,
            exponent,
        } if (0..53).contains(exponent) => {
            let m = u64::try_from(mantissa).ok()?;
            let value = i64::try_from(m.checked_shl(u32::try_from(*exponent).ok()?)?).ok()?;
            (value < 1 << 53).then_some(if *negative { -value } else { value })
        }
        _ => None,
    }
}

/// An exact integer result of the `i64` fast path, when it needs at most 53 bits (every
/// precision in use is at least that, so no rounding is due).
pub(super) fn small_result(value: i64, precision: u32) -> Option<TfNumber> {
    if value.unsigned_abs() >= 1 << 53 || value == 0 {
        return None;
    }
    Some(TfNumber::with_form(
        rounded(value < 0, UBig::from(value.unsigned_abs()), 0, precision),
        precision,
    ))
}

/// `a + b` rounded to `precision`, as Go's `Add` on a float of that precision; `None` for
/// opposing infinities.
pub(super) fn sum_at(a: &TfNumber, b: &TfNumber, precision: u32) -> Option<TfNumber> {
    if let (Some(x), Some(y)) = (small_integer(&a.0.form), small_integer(&b.0.form))
        && let Some(result) = small_result(x + y, precision)
    {
        return Some(result);
    }
    let form = match (&a.0.form, &b.0.form) {
        (Form::Infinite { negative: x }, Form::Infinite { negative: y }) => {
            if x != y {
                return None;
            }
            Form::Infinite { negative: *x }
        }
        (Form::Infinite { negative }, _) | (_, Form::Infinite { negative }) => Form::Infinite {
            negative: *negative,
        },
        (Form::Zero { negative: x }, Form::Zero { negative: y }) => {
            Form::Zero { negative: *x && *y }
        }
        (Form::Zero { .. }, other) | (other, Form::Zero { .. }) => reround(other, precision),
        (
            Form::Finite {
                negative: na,
                mantissa: ma,
                exponent: ea,
            },
            Form::Finite {
                negative: nb,
                mantissa: mb,
                exponent: eb,
            },
        ) => finite_sum((*na, ma, *ea), (*nb, mb, *eb), precision),
    };
    Some(TfNumber::with_form(form, precision))
}

pub(super) fn reround(form: &Form, precision: u32) -> Form {
    match form {
        Form::Finite {
            negative,
            mantissa,
            exponent,
        } => rounded(*negative, mantissa.clone(), *exponent, precision),
        other => other.clone(),
    }
}

type Parts<'a> = (bool, &'a UBig, i64);

pub(super) fn finite_sum(a: Parts<'_>, b: Parts<'_>, precision: u32) -> Form {
    let (high, low) = if a.2 + bit_len(a.1) >= b.2 + bit_len(b.1) {
        (a, b)
    } else {
        (b, a)
    };
    // A summand wholly below a quarter of the result's rounding unit cannot change the
    // rounded sum: skip the shift that would line it up.
    if low.2 + bit_len(low.1) <= high.2 - i64::from(precision) - 3 {
        return rounded(high.0, high.1.clone(), high.2, precision);
    }
    let exponent = high.2.min(low.2);
    let x = high.1 << shift(high.2 - exponent);
    let y = low.1 << shift(low.2 - exponent);
    if high.0 == low.0 {
        return rounded(high.0, x + y, exponent, precision);
    }
    match x.cmp(&y) {
        Ordering::Equal => Form::Zero { negative: false },
        Ordering::Greater => rounded(high.0, x - y, exponent, precision),
        Ordering::Less => rounded(low.0, y - x, exponent, precision),
    }
}

/// `a × b` rounded to `precision`, as Go's `Mul` on a float of that precision.
pub(super) fn product_at(
    a: &TfNumber,
    b: &TfNumber,
    precision: u32,
) -> Result<TfNumber, NumberError> {
    if let (Some(x), Some(y)) = (small_integer(&a.0.form), small_integer(&b.0.form))
        && let Some(result) = x.checked_mul(y).and_then(|p| small_result(p, precision))
    {
        return Ok(result);
    }
    let negative = a.is_negative() != b.is_negative();
    let form = match (&a.0.form, &b.0.form) {
        (Form::Infinite { .. }, Form::Zero { .. }) | (Form::Zero { .. }, Form::Infinite { .. }) => {
            return Err(NumberError::ZeroTimesInfinity);
        }
        (Form::Infinite { .. }, _) | (_, Form::Infinite { .. }) => Form::Infinite { negative },
        (Form::Zero { .. }, _) | (_, Form::Zero { .. }) => Form::Zero { negative },
        (
            Form::Finite {
                mantissa: ma,
                exponent: ea,
                ..
            },
            Form::Finite {
                mantissa: mb,
                exponent: eb,
                ..
            },
        ) => rounded(negative, ma * mb, ea + eb, precision),
    };
    Ok(TfNumber::with_form(form, precision))
}

/// `a / b` rounded to `precision`, as Go's `Quo`.
pub(super) fn quotient_at(
    a: &TfNumber,
    b: &TfNumber,
    precision: u32,
) -> Result<TfNumber, NumberError> {
    let negative = a.is_negative() != b.is_negative();
    let form = match (&a.0.form, &b.0.form) {
        (Form::Zero { .. }, Form::Zero { .. }) | (Form::Infinite { .. }, Form::Infinite { .. }) => {
            return Err(NumberError::ZeroDividedByZero);
        }
        (Form::Infinite { .. }, _) | (_, Form::Zero { .. }) => Form::Infinite { negative },
        (Form::Zero { .. }, _) | (_, Form::Infinite { .. }) => Form::Zero { negative },
        (
            Form::Finite {
                mantissa: ma,
                exponent: ea,
                ..
            },
            Form::Finite {
                mantissa: mb,
                exponent: eb,
                ..
            },
        ) => finite_quotient(negative, (ma, *ea), (mb, *eb), precision),
    };
    Ok(TfNumber::with_form(form, precision))
}

/// The correctly rounded quotient: enough quotient bits for the precision, a rounding bit,
/// and a sticky bit for any remainder.
pub(super) fn finite_quotient(
    negative: bool,
    (ma, ea): (&UBig, i64),
    (mb, eb): (&UBig, i64),
    precision: u32,
) -> Form {
    let wanted = i64::from(precision) + 2;
    let extra = (wanted + bit_len(mb) - bit_len(ma)).max(0);
    let (quotient, remainder) = (ma << shift(extra)).div_rem(mb);
    let mut exponent = ea - eb - extra;
    let quotient = if remainder.is_zero() {
        quotient
    } else {
        exponent -= 1;
        (quotient << 1) | UBig::ONE
    };
    rounded(negative, quotient, exponent, precision)
}

pub(super) fn compare_magnitude(a: &Form, b: &Form) -> Ordering {
    match (a, b) {
        (Form::Zero { .. }, Form::Zero { .. }) | (Form::Infinite { .. }, Form::Infinite { .. }) => {
            Ordering::Equal
        }
        (Form::Zero { .. }, _) | (_, Form::Infinite { .. }) => Ordering::Less,
        (_, Form::Zero { .. }) | (Form::Infinite { .. }, _) => Ordering::Greater,
        (
            Form::Finite {
                mantissa: ma,
                exponent: ea,
                ..
            },
            Form::Finite {
                mantissa: mb,
                exponent: eb,
                ..
            },
        ) => {
            let (ta, tb) = (ea + bit_len(ma), eb + bit_len(mb));
            if ta != tb {
                return ta.cmp(&tb);
            }
            let exponent = (*ea).min(*eb);
            (ma << shift(ea - exponent)).cmp(&(mb << shift(eb - exponent)))
        }
    }
}

/// `mantissa × 2^exponent` as the nearest `f64`, ties to even, subnormals included.
pub(super) fn finite_to_f64(mantissa: &UBig, exponent: i64) -> f64 {
    let top = exponent + bit_len(mantissa);
    if top > 1024 {
        return f64::INFINITY;
    }
    // Bits available: 53 for normal numbers, fewer below 2^-1022.
    let available = (top + 1074).clamp(0, 53);
    if available == 0 {
        // Below the smallest subnormal, 2^-1074: only values above its half round up to it
        // (the half itself, an odd mantissa of one bit, ties to the even zero).
        return if top == -1074 && mantissa.bit_len() > 1 {
            f64::from_bits(1)
        } else {
            0.0
        };
    }
    let form = rounded(
        false,
        mantissa.clone(),
        exponent,
        u32::try_from(available).unwrap_or(53),
    );
    let Form::Finite {
        mantissa, exponent, ..
    } = form
    else {
        return 0.0;
    };
    let Ok(m) = u64::try_from(&mantissa) else {
        return f64::INFINITY;
    };
    if exponent + bit_len(&mantissa) > 1024 {
        return f64::INFINITY;
    }
    // m has at most 53 bits, so it converts exactly; scaling by a power of two is exact
    // while the result is representable, which the checks above ensure.
    #[allow(clippy::cast_precision_loss)]
    let m = m as f64;
    scale_by_power_of_two(m, exponent)
}

pub(super) fn scale_by_power_of_two(mut value: f64, mut exponent: i64) -> f64 {
    // Step in ranges where the factor 2^k is itself a normal f64.
    while exponent > 0 {
        let step = exponent.min(1000);
        value *= f64::from_bits(u64::try_from(1023 + step).unwrap_or(0) << 52);
        exponent -= step;
    }
    while exponent < 0 {
        let step = (-exponent).min(1000);
        value /= f64::from_bits(u64::try_from(1023 + step).unwrap_or(0) << 52);
        exponent += step;
    }
    value
}
