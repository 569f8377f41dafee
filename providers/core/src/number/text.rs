//! Numbers as text, as Go's `big.Float.Text` and `fmt` write them: the shortest decimal that
//! reads back to the same number at its precision (`Display`, `tostring`, `jsonencode`,
//! console output), and `format()`'s `%d %b %o %x %X %e %E %f %g %G %v`.

use std::fmt;

use dashu_int::UBig;
use dashu_int::ops::BitTest;

use super::arithmetic::shift;
use super::{Form, NumberError, TfNumber};

/// `format()`'s verbs for numbers as decimal fractions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatVerb {
    /// `%e` (`upper`: `%E`): `d.dddddde±dd`, 6 digits after the point unless given.
    Exponent {
        /// Whether to write `E`.
        upper: bool,
    },
    /// `%f`: `ddd.dddddd`, 6 digits after the point unless given.
    Fixed,
    /// `%g` (`upper`: `%G`): the shortest text, exponent form when the exponent is below -4 or
    /// at least the precision (6 when none is given). `%v` is `%g`.
    General {
        /// Whether to write `E`.
        upper: bool,
    },
}

/// `format()`'s verbs for whole numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntegerVerb {
    /// `%d`
    Decimal,
    /// `%b`
    Binary,
    /// `%o`
    Octal,
    /// `%x`
    HexLower,
    /// `%X`
    HexUpper,
}

impl fmt::Display for TfNumber {
    /// Terraform's text for a number: the shortest decimal that reads back to it at its
    /// precision, without exponent (`+Inf`, `-Inf` and `-0` included).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text('f', None))
    }
}

impl TfNumber {
    /// The text `jsonencode` writes; infinities have none.
    pub fn to_json_text(&self) -> Result<String, NumberError> {
        if self.is_infinite() {
            return Err(NumberError::InfinityInJson);
        }
        Ok(self.to_string())
    }

    /// `format()` with a float verb and an optional precision (`%.3f` is `Some(3)`); width and
    /// flags are the caller's.
    pub fn format_float(&self, verb: FloatVerb, precision: Option<usize>) -> String {
        let (letter, precision) = match verb {
            FloatVerb::Exponent { upper } => (if upper { 'E' } else { 'e' }, precision.or(Some(6))),
            FloatVerb::Fixed => ('f', precision.or(Some(6))),
            FloatVerb::General { upper } => (if upper { 'G' } else { 'g' }, precision),
        };
        self.text(letter, precision)
    }

    /// `format()` with an integer verb; the number must be whole.
    pub fn format_integer(&self, verb: IntegerVerb) -> Result<String, NumberError> {
        if !self.is_integer() {
            return Err(NumberError::NotAnInteger);
        }
        if self
            .whole_bits()
            .is_some_and(|bits| bits > TEXT_LIMIT_BITS.unsigned_abs())
        {
            return Err(NumberError::TooManyDigits);
        }
        let (negative, magnitude) = self.to_integer().ok_or(NumberError::NotAnInteger)?;
        let digits = match verb {
            IntegerVerb::Decimal => magnitude.to_string(),
            IntegerVerb::Binary => magnitude.in_radix(2).to_string(),
            IntegerVerb::Octal => magnitude.in_radix(8).to_string(),
            IntegerVerb::HexLower => magnitude.in_radix(16).to_string(),
            IntegerVerb::HexUpper => magnitude.in_radix(16).to_string().to_ascii_uppercase(),
        };
        Ok(if negative {
            format!("-{digits}")
        } else {
            digits
        })
    }

    /// Go's `Text(letter, precision)`, `None` for the shortest (-1).
    fn text(&self, letter: char, precision: Option<usize>) -> String {
        self.text_with(letter, precision, true)
    }

    /// [`TfNumber::text`], with the shortcuts for small integers and short fractions or (for
    /// tests) without them.
    fn text_with(&self, letter: char, precision: Option<usize>, shortcuts: bool) -> String {
        let mut out = String::new();
        if self.is_negative() {
            out.push('-');
        }
        let mut digits = match &self.0.form {
            Form::Infinite { negative } => {
                if !negative {
                    out.push('+');
                }
                out.push_str("Inf");
                return out;
            }
            Form::Zero { .. } => Decimal::default(),
            Form::Finite {
                mantissa, exponent, ..
            } => {
                if beyond_text_limit(mantissa, *exponent) {
                    out.push_str(&approximate_text(mantissa, *exponent));
                    return out;
                }
                if shortcuts
                    && letter == 'f'
                    && precision.is_none()
                    && let Some(text) = small_integer_text(mantissa, *exponent, self.0.precision)
                        .or_else(|| short_fraction_text(mantissa, *exponent, self.0.precision))
                {
                    out.push_str(&text);
                    return out;
                }
                Decimal::exact(mantissa, *exponent)
            }
        };
        let shortest = precision.is_none();
        let precision = match precision {
            None => {
                if let Form::Finite {
                    mantissa, exponent, ..
                } = &self.0.form
                {
                    digits.round_shortest(mantissa, *exponent, self.0.precision);
                }
                let count = signed(digits.digits.len());
                match letter {
                    'e' | 'E' => count - 1,
                    'f' => (count - digits.exponent).max(0),
                    _ => count,
                }
            }
            Some(precision) => {
                let precision = signed(precision);
                match letter {
                    'e' | 'E' => digits.round(1 + precision),
                    'f' => digits.round(digits.exponent + precision),
                    _ => digits.round(precision.max(1)),
                }
                if matches!(letter, 'g' | 'G') {
                    precision.max(1)
                } else {
                    precision
                }
            }
        };
        match letter {
            'e' | 'E' => digits.write_exponent(&mut out, letter, precision),
            'f' => digits.write_fixed(&mut out, precision),
            _ => {
                let count = signed(digits.digits.len());
                let mut exponent_limit = precision;
                if exponent_limit > count && count >= digits.exponent {
                    exponent_limit = count;
                }
                if shortest {
                    exponent_limit = 6;
                }
                let exponent = digits.exponent - 1;
                let e = if letter == 'g' { 'e' } else { 'E' };
                if exponent < -4 || exponent >= exponent_limit {
                    digits.write_exponent(&mut out, e, precision.min(count) - 1);
                } else {
                    let precision = if precision > digits.exponent {
                        count
                    } else {
                        precision
                    };
                    digits.write_fixed(&mut out, (precision - digits.exponent).max(0));
                }
            }
        }
        out
    }
}

/// The exact decimal expansion of a fraction with few binary places (`0.5`, `1234.25`),
/// when that is the shortest text at `precision`: a fraction `m / 2^n` has exactly `n`
/// decimal places, any other decimal with fewer places is at least `10^-n` away, and when
/// that is more than half a unit in the last place (`2^(top - precision - 1)`) no shorter text
/// reads back to the number. Values and configurations are full of such numbers; the general
/// algorithm needs the decimal expansions of both rounding neighbours, a hundred times the
/// work.
fn short_fraction_text(mantissa: &UBig, exponent: i64, precision: u32) -> Option<String> {
    if !(-27..0).contains(&exponent) || mantissa.bit_len() > 64 {
        return None;
    }
    let places = -exponent;
    let top = exponent + signed(mantissa.bit_len());
    // 10^-n > 2^(top - precision - 1)  ⟸  4n ≤ precision - top (as 10 > 2^3.33).
    if 4 * places > i64::from(precision) - top {
        return None;
    }
    let scaled = u128::from(u64::try_from(mantissa).ok()?) * 5u128.pow(u32::try_from(places).ok()?);
    let digits = scaled.to_string();
    let places = usize::try_from(places).ok()?;
    let digits = format!("{digits:0>width$}", width = places + 1);
    let (whole, fraction) = digits.split_at(digits.len() - places);
    Some(format!("{whole}.{fraction}"))
}

/// How far from 1, in bits, a number may be and still be written out digit by digit: about
/// 100,000 decimal digits. Terraform writes `1e600000000` in full (600 million digits, which
/// takes it minutes); braid writes numbers beyond this limit in exponent form with 7
/// significant digits, so that no configuration can make it hang.
pub const TEXT_LIMIT_BITS: i64 = 340_000;

fn beyond_text_limit(mantissa: &UBig, exponent: i64) -> bool {
    exponent + signed(mantissa.bit_len()) > TEXT_LIMIT_BITS || exponent < -TEXT_LIMIT_BITS
}

/// `d.dddddde±D` from the top 64 bits of the mantissa, through `f64` logarithms: the
/// decimal exponent is exact, the leading digits good to about 7 places.
fn approximate_text(mantissa: &UBig, exponent: i64) -> String {
    let bits = mantissa.bit_len();
    let (top, exponent) = if bits > 64 {
        (mantissa >> (bits - 64), exponent + signed(bits - 64))
    } else {
        (mantissa.clone(), exponent)
    };
    let top = u64::try_from(&top).unwrap_or(u64::MAX);
    #[allow(clippy::cast_precision_loss)]
    let log10 = (top as f64).log10() + exponent as f64 * std::f64::consts::LOG10_2;
    let mut decimal_exponent = log10.floor();
    let mut lead = format!("{:.6}", 10f64.powf(log10 - decimal_exponent));
    if lead.starts_with("10") {
        lead = "1.000000".to_string();
        decimal_exponent += 1.0;
    }
    let lead = lead.trim_end_matches('0').trim_end_matches('.');
    let sign = if decimal_exponent < 0.0 { '-' } else { '+' };
    format!("{lead}e{sign}{}", decimal_exponent.abs())
}

fn signed(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The digits of a whole number that needs fewer bits than its precision: no other decimal
/// lies within half a unit of its last place, so the shortest text is the integer itself.
fn small_integer_text(mantissa: &UBig, exponent: i64, precision: u32) -> Option<String> {
    if exponent < 0 {
        return None;
    }
    let bits = signed(mantissa.bit_len()) + exponent;
    if bits >= i64::from(precision) || bits > 64 {
        return None;
    }
    let value = u64::try_from(&(mantissa << shift(exponent))).ok()?;
    Some(value.to_string())
}

/// A decimal `0.digits × 10^exponent`, digits without trailing zeros (none for zero).
#[derive(Debug, Default)]
struct Decimal {
    digits: Vec<u8>,
    exponent: i64,
}

impl Decimal {
    /// The exact decimal value of `mantissa × 2^exponent`.
    fn exact(mantissa: &UBig, exponent: i64) -> Self {
        let (integer, point_shift) = if exponent >= 0 {
            (mantissa << shift(exponent), 0)
        } else {
            // m / 2^k = m × 5^k / 10^k
            let k = shift(-exponent);
            (mantissa * UBig::from(5u8).pow(k), signed(k))
        };
        let mut digits = integer.to_string().into_bytes();
        let exponent = signed(digits.len()) - point_shift;
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
        let exponent = if digits.is_empty() { 0 } else { exponent };
        Decimal { digits, exponent }
    }

    fn at(&self, i: i64) -> u8 {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.digits.get(i).copied())
            .unwrap_or(b'0')
    }

    /// Shortens the exact digits of `mantissa × 2^exponent` to the fewest that still round to
    /// it at `precision` bits, as Go's `roundShortest` does: it walks the digits of the value
    /// and of the two midpoints to its neighbours (taken half a unit of `precision` away, and
    /// compared digit by digit at the same index) until the value can be cut.
    fn round_shortest(&mut self, mantissa: &UBig, exponent: i64, precision: u32) {
        if self.digits.is_empty() {
            return;
        }
        // The mantissa with precision + 1 bits: its last bit is half a unit in the last place.
        let widen = i64::from(precision) + 1 - signed(mantissa.bit_len());
        let scaled = mantissa << shift(widen);
        let half_unit_exponent = exponent - widen;
        let lower = Decimal::exact(&(&scaled - UBig::ONE), half_unit_exponent);
        let upper = Decimal::exact(&(&scaled + UBig::ONE), half_unit_exponent);
        // Ties round to even: the midpoints themselves read back to this value only if its
        // last bit (the one above the half unit) is 0.
        let inclusive = !scaled.bit(1);
        for i in 0..self.digits.len() {
            let index = signed(i);
            let digit = self.digits[i];
            let low = lower.at(index);
            let high = upper.at(index);
            let can_cut_down = low != digit || (inclusive && i + 1 == lower.digits.len());
            let can_cut_up =
                digit != high && (inclusive || digit + 1 < high || i + 1 < upper.digits.len());
            match (can_cut_down, can_cut_up) {
                (true, true) => return self.round(index + 1),
                (true, false) => return self.round_down(index + 1),
                (false, true) => return self.round_up(index + 1),
                (false, false) => {}
            }
        }
    }

    /// Keeps `n` digits, rounding half to even on the exact digits.
    fn round(&mut self, n: i64) {
        let Some(n) = self.index(n) else { return };
        let digit = self.digits[n];
        let up = if digit == b'5' && n + 1 == self.digits.len() {
            n > 0 && (self.digits[n - 1] - b'0') % 2 == 1
        } else {
            digit >= b'5'
        };
        if up {
            self.round_up(signed(n));
        } else {
            self.round_down(signed(n));
        }
    }

    /// `n` as an index of a digit that rounding would drop, if it is one.
    fn index(&self, n: i64) -> Option<usize> {
        usize::try_from(n).ok().filter(|&n| n < self.digits.len())
    }

    fn round_up(&mut self, n: i64) {
        let Some(mut n) = self.index(n) else { return };
        while n > 0 && self.digits[n - 1] == b'9' {
            n -= 1;
        }
        if n == 0 {
            self.digits = vec![b'1'];
            self.exponent += 1;
            return;
        }
        self.digits[n - 1] += 1;
        self.digits.truncate(n);
    }

    fn round_down(&mut self, n: i64) {
        let Some(n) = self.index(n) else { return };
        self.digits.truncate(n);
        while self.digits.last() == Some(&b'0') {
            self.digits.pop();
        }
        if self.digits.is_empty() {
            self.exponent = 0;
        }
    }

    /// `d.ddde±dd` with `precision` digits after the point.
    fn write_exponent(&self, out: &mut String, letter: char, precision: i64) {
        out.push(char::from(self.at(0)));
        if precision > 0 {
            out.push('.');
            for i in 1..=precision {
                out.push(char::from(self.at(i)));
            }
        }
        out.push(letter);
        let exponent = if self.digits.is_empty() {
            0
        } else {
            self.exponent - 1
        };
        out.push(if exponent < 0 { '-' } else { '+' });
        let magnitude = exponent.unsigned_abs();
        if magnitude < 10 {
            out.push('0');
        }
        out.push_str(&magnitude.to_string());
    }

    /// `ddd.ddd` with `precision` digits after the point.
    fn write_fixed(&self, out: &mut String, precision: i64) {
        if self.exponent > 0 {
            for i in 0..self.exponent {
                out.push(char::from(self.at(i)));
            }
        } else {
            out.push('0');
        }
        if precision > 0 {
            out.push('.');
            for i in 0..precision {
                out.push(char::from(self.at(self.exponent + i)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::number::{FLOAT64_PRECISION, INTEGER_PRECISION, LITERAL_PRECISION};

    /// The shortcuts give the general algorithm's text, on every precision and on the edges
    /// of where they apply.
    #[test]
    fn shortcuts_agree_with_the_general_algorithm() {
        let mut checked = 0;
        for precision in [
            1,
            8,
            24,
            FLOAT64_PRECISION,
            INTEGER_PRECISION,
            100,
            LITERAL_PRECISION,
        ] {
            for mantissa in [
                1u64,
                3,
                5,
                7,
                99,
                12345,
                999_999_999,
                (1 << 53) - 1,
                u64::MAX,
            ] {
                for exponent in -30..6 {
                    for negative in [false, true] {
                        let n = TfNumber::with_form(
                            super::super::arithmetic::rounded(
                                negative,
                                UBig::from(mantissa),
                                exponent,
                                precision,
                            ),
                            precision,
                        );
                        assert_eq!(
                            n.text_with('f', None, true),
                            n.text_with('f', None, false),
                            "{mantissa} × 2^{exponent} at {precision} bits"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 4000);
    }
}
