//! Numbers from text: decimal numbers as Go's `big.ParseFloat(text, 10, 512, ToNearestEven)`
//! reads them (literals, `tonumber`, JSON), and `parseint`'s integers as `big.Int.SetString`.
//!
//! Go reads the decimal digits as one exact integer `M` and applies the exponent in two steps:
//! the power of two exactly, then a power of five `5^k` that it computes itself at the
//! precision plus 64 bits — exactly up to `5^27`, then by repeated squaring with a rounding at
//! every step — and multiplies or divides `M` by it with a single rounding. For exponents up to
//! about 250 the power is exact and the result correctly rounded; beyond, Go's result can be a
//! unit in the last place away from the correctly rounded one, and this module computes the
//! power the same way so that it gets the same number.

use dashu_int::UBig;

use super::arithmetic::{bit_len, finite_quotient, rounded};
use super::{Form, MAX_EXPONENT, MIN_EXPONENT, NumberError, TfNumber};

/// Parses `[+-](Inf|inf)` or `[+-]mantissa[(e|E|p|P)[+-]digits]`, mantissa `digits[.digits]`,
/// `digits.` or `.digits`, rounding to `precision` bits.
pub(super) fn parse_decimal(text: &str, precision: u32) -> Result<TfNumber, NumberError> {
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'+') => (false, &text[1..]),
        Some(b'-') => (true, &text[1..]),
        _ => (false, text),
    };
    if unsigned == "Inf" || unsigned == "inf" {
        return Ok(TfNumber::with_form(Form::Infinite { negative }, precision));
    }
    let mantissa_end = unsigned
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(unsigned.len());
    let (mantissa_text, exponent_text) = unsigned.split_at(mantissa_end);
    let (whole, fraction) = mantissa_text.split_once('.').unwrap_or((mantissa_text, ""));
    if fraction.contains('.') || whole.len() + fraction.len() == 0 {
        return Err(NumberError::InvalidNumber);
    }
    let (decimal_exponent, binary_exponent) = match exponent_text.as_bytes().first() {
        None => (0, 0),
        Some(b'e' | b'E') => (exponent_value(&exponent_text[1..])?, 0),
        Some(b'p' | b'P') => (0, exponent_value(&exponent_text[1..])?),
        Some(_) => return Err(NumberError::InvalidNumber),
    };
    let digits = format!("{whole}{fraction}");
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Ok(TfNumber::with_form(Form::Zero { negative }, precision));
    }
    let mantissa = UBig::from_str_radix(digits, 10).map_err(|_| NumberError::InvalidNumber)?;
    let fraction_digits = i64::try_from(fraction.len()).map_err(|_| NumberError::InvalidNumber)?;
    let power_of_five = decimal_exponent
        .checked_sub(fraction_digits)
        .ok_or(NumberError::InvalidNumber)?;
    let power_of_two = power_of_five
        .checked_add(binary_exponent)
        .ok_or(NumberError::InvalidNumber)?;
    // Go refuses ("exponent overflow") a binary exponent beyond its range before rounding.
    let normalized = power_of_two
        .checked_add(bit_len(&mantissa))
        .ok_or(NumberError::InvalidNumber)?;
    if !(MIN_EXPONENT..=MAX_EXPONENT).contains(&normalized) {
        return Err(NumberError::InvalidNumber);
    }
    let form = if power_of_five == 0 {
        rounded(negative, mantissa, power_of_two, precision)
    } else {
        let divide = power_of_five < 0;
        match go_power_of_five(power_of_five.unsigned_abs(), precision + 64) {
            Some((five, five_exponent)) if divide => finite_quotient(
                negative,
                (&mantissa, power_of_two),
                (&five, five_exponent),
                precision,
            ),
            Some((five, five_exponent)) => rounded(
                negative,
                mantissa * five,
                power_of_two + five_exponent,
                precision,
            ),
            // The power itself overflowed to infinity.
            None if divide => Form::Zero { negative },
            None => Form::Infinite { negative },
        }
    };
    Ok(TfNumber::with_form(form, precision))
}

/// `[+-]digits` of an exponent, which must end the text.
fn exponent_value(text: &str) -> Result<i64, NumberError> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumberError::InvalidNumber);
    }
    text.parse::<i64>().map_err(|_| NumberError::InvalidNumber)
}

/// `5^n` as Go's parser computes it for a float of `precision` bits: exact up to `5^27`,
/// then `5^27` times successive squares of 5 kept at `precision + 64` bits, each product
/// rounded to `precision`. `None` if it overflows the exponent range.
fn go_power_of_five(n: u64, precision: u32) -> Option<(UBig, i64)> {
    const EXACT: u64 = 27;
    if n <= EXACT {
        return Some((UBig::from(5u64).pow(usize::try_from(n).ok()?), 0));
    }
    let mut power = (UBig::from(5u64).pow(27), 0);
    let mut square = (UBig::from(5u64), 0);
    let mut remaining = n - EXACT;
    while remaining > 0 {
        if remaining & 1 == 1 {
            power = rounded_product(&power, &square, precision)?;
        }
        square = rounded_product(&square, &square, precision + 64)?;
        remaining >>= 1;
    }
    Some(power)
}

fn rounded_product(a: &(UBig, i64), b: &(UBig, i64), precision: u32) -> Option<(UBig, i64)> {
    match rounded(false, &a.0 * &b.0, a.1 + b.1, precision) {
        Form::Finite {
            mantissa, exponent, ..
        } => Some((mantissa, exponent)),
        _ => None,
    }
}

/// `parseint(text, base)` as Go's `big.Int.SetString(text, base)` reads it.
pub(super) fn parse_integer(text: &str, base: u32) -> Result<TfNumber, NumberError> {
    if !(2..=62).contains(&base) {
        return Err(NumberError::BaseOutOfRange);
    }
    let invalid = || NumberError::InvalidInteger {
        text: text.to_string(),
        base,
    };
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'+') => (false, &text[1..]),
        Some(b'-') => (true, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() {
        return Err(invalid());
    }
    let mut values = Vec::with_capacity(digits.len());
    for c in digits.bytes() {
        let value = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'z' => c - b'a' + 10,
            b'A'..=b'Z' if base <= 36 => c - b'A' + 10,
            b'A'..=b'Z' => c - b'A' + 36,
            _ => return Err(invalid()),
        };
        if u32::from(value) >= base {
            return Err(invalid());
        }
        values.push(value);
    }
    let mut magnitude = UBig::ZERO;
    let base = UBig::from(base);
    for value in values {
        magnitude = magnitude * &base + UBig::from(value);
    }
    Ok(TfNumber::from_integer(negative, magnitude))
}
