//! Terraform's numbers: binary floating point of arbitrary precision, as cty keeps them.
//!
//! A Terraform number is a Go `big.Float`: a sign, a binary mantissa, a binary exponent of 32
//! bits, and a *precision* (the number of mantissa bits) that each value carries. Results are
//! rounded to nearest, ties to even. Which precision a value has depends on where it came from:
//!
//! - number literals, `tonumber("…")` and `jsondecode` parse decimal text at 512 bits
//!   ([`TfNumber::parse`]), which is why `0.1 + 0.2 == 0.3` holds and `1 / 3` prints 157 digits;
//! - integers made by functions (`parseint`, `length`, …) have 64 bits, or as many as the
//!   integer needs ([`TfNumber::from_integer`]); `parseint("1", 10) / parseint("3", 10)` is
//!   `0.33333333333333333334`;
//! - results of functions computed in `float64` (`pow`, `log`) have 53 bits.
//!
//! `+`, `-` and `/` round to the larger precision of their operands; `*` rounds to 512 bits and
//! keeps the larger of the operands' precisions and the bits the product needs. `%` truncates
//! the quotient (`-7 % 3` is `-1`) and returns the left operand when the right one is zero.
//! Numbers also include `-0` and the infinities (`1 / 0` is `+Inf`); operations Go calls NaN
//! (`0 / 0`, `+Inf - +Inf`) fail with a [`NumberError`] whose message is Terraform's.
//!
//! As text ([`Display`](std::fmt::Display), `tostring`, `jsonencode`, console output) a number is
//! the shortest decimal that rounds back to it *at its own precision*, never with an exponent:
//! `1e100` prints as 1 and 100 zeros. Equality is cty's: integers compare exactly, other numbers
//! are equal when their texts are.
//!
//! [`TfNumber`] reproduces all of this: it stores the exact mantissa (a [`dashu_int::UBig`],
//! kept odd), the exponent and the precision, and rounds every result itself the way
//! `big.Float` does, including Go's two-step parsing of decimal exponents beyond 5²⁷ (see
//! [`parse`]). The conformance table in `tests/conformance/numbers`, made by `terraform
//! console`, checks it (`crates/functions/tests/number_conformance.rs` and, through the whole
//! evaluator, the testsuite's `conformance_numbers`).
//!
//! Known differences (see `KNOWN_DIFFERENCES` in `tests/number_conformance.rs`): where
//! Terraform panics (`Inf % x`, `pow` giving NaN) braid returns an error; and `pow` with a
//! fractional exponent uses Rust's `exp`, which can be one unit in the last place away from
//! Go's amd64 `math.Exp` (2 of 46 random cases in the table). Integer powers and `log` follow
//! Go's algorithms step by step and match.
//!
//! Cost: a number is a small struct whose mantissa lives inline up to 128 bits, so integers
//! and short decimals do not allocate. Integer `+ - *` whose operands and result fit in 53 bits
//! take an `i64` fast path; everything else is exact big-integer arithmetic on at most twice the
//! precision (1024 bits) followed by one rounding, a few hundred nanoseconds to microseconds.
//! Text is the expensive part: the shortest decimal needs the exact decimal expansion of the
//! value and of its two rounding neighbours, proportional to the number of digits printed
//! (small integers have a fast path). Decimal exponents far beyond 10³⁰⁸ cost accordingly, as
//! they do in Terraform.

mod arithmetic;
mod float64;
mod parse;
mod text;

use std::cmp::Ordering;

use dashu_int::UBig;
use dashu_int::ops::BitTest;

use arithmetic::{
    compare_magnitude, finite_to_f64, product_at, quotient_at, rounded, shift, sum_at,
};

pub use text::{FloatVerb, IntegerVerb};

/// The precision of parsed numbers: literals, `tonumber`, `jsondecode`.
pub const LITERAL_PRECISION: u32 = 512;
/// The precision Go gives integers made from `int64`/`uint64` (`big.Float.SetInt64`).
pub const INTEGER_PRECISION: u32 = 64;
/// The precision of a `float64` (`big.Float.SetFloat64`).
pub const FLOAT64_PRECISION: u32 = 53;

/// Go's `big.Float` exponent range: the binary exponent of `0.mantissa` is an `int32`.
const MAX_EXPONENT: i64 = i32::MAX as i64;
const MIN_EXPONENT: i64 = i32::MIN as i64;

/// A Terraform number: a value of cty's number type, with the precision it carries.
///
/// Boxed, so that a [`crate::Value`] stays as small as a string (a number is rarer than a
/// string in configurations and state, and costs one allocation).
#[derive(Clone, Debug)]
pub struct TfNumber(Box<Repr>);

#[derive(Clone, Debug)]
struct Repr {
    form: Form,
    /// Mantissa bits, at least 1; results are rounded to it.
    precision: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Form {
    Zero {
        negative: bool,
    },
    /// `mantissa × 2^exponent`; the mantissa is odd and has at most `precision` bits.
    Finite {
        negative: bool,
        mantissa: UBig,
        exponent: i64,
    },
    Infinite {
        negative: bool,
    },
}

/// Terraform's `==` ([`TfNumber::equals`]), which is also what makes two values equal in a
/// plan: whole numbers by value, fractions by their text.
impl PartialEq for TfNumber {
    fn eq(&self, other: &Self) -> bool {
        self.equals(other)
    }
}

/// Why a number operation failed; the messages are Terraform's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    /// The text is not a decimal number as Terraform reads one.
    #[error("a number is required")]
    InvalidNumber,
    /// `+Inf + -Inf`.
    #[error("can't compute sum of opposing infinities")]
    OpposingInfinities,
    /// `+Inf - +Inf`.
    #[error("can't subtract infinity from itself")]
    InfinityMinusInfinity,
    /// `0 * Inf`.
    #[error("can't multiply zero by infinity")]
    ZeroTimesInfinity,
    /// `0 / 0`, `Inf / Inf`.
    #[error("can't divide zero by zero or infinity by infinity")]
    ZeroDividedByZero,
    /// `%` with an infinite operand (Terraform panics on `Inf % x`).
    #[error("can't use modulo with zero and infinity")]
    ModuloInfinity,
    /// A `float64` function (`pow`, `log`) produced NaN (Terraform panics).
    #[error("the result is not a number")]
    NotANumber,
    /// A function that takes a `float64` was given a number beyond its range.
    #[error(
        "value must be between -179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368.000000 and 179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878171540458953514382464234321326889464182768467546703537516986049910576551282076245490090389328944075868508455133942304583236903222948165808559332123348274797826204144723168738177180919299881250404026184124858368.000000 inclusive"
    )]
    OutOfFloat64Range,
    /// A function that takes an integer (`signum`) was given a fraction or a huge number.
    #[error("value must be a whole number, between -9223372036854775808 and 9223372036854775807")]
    NotAnInt64,
    /// `format("%d", …)` and friends need an integer.
    #[error("an integer is required")]
    NotAnInteger,
    /// `format("%d", …)` of an integer of more than about 100,000 digits (Terraform writes
    /// them all).
    #[error("the integer has more than 100000 digits")]
    TooManyDigits,
    /// `jsonencode(1 / 0)`.
    #[error("cannot serialize infinity as JSON")]
    InfinityInJson,
    /// `parseint`'s base outside 2–62.
    #[error("base must be a whole number between 2 and 62 inclusive")]
    BaseOutOfRange,
    /// `parseint` text that is not an integer in the base.
    #[error("cannot parse {text:?} as a base {base} integer")]
    InvalidInteger {
        /// The text given.
        text: String,
        /// The base asked for.
        base: u32,
    },
}

impl TfNumber {
    /// Positive zero at the precision of integers.
    pub fn zero() -> Self {
        Self::with_form(Form::Zero { negative: false }, INTEGER_PRECISION)
    }

    /// An infinity (`1 / 0`, `tonumber("-Inf")`).
    pub fn infinity(negative: bool) -> Self {
        Self::with_form(Form::Infinite { negative }, LITERAL_PRECISION)
    }

    /// The precision (mantissa bits) this number carries.
    pub fn precision(&self) -> u32 {
        self.0.precision
    }

    /// Whether this is `+Inf` or `-Inf`.
    pub fn is_infinite(&self) -> bool {
        matches!(self.0.form, Form::Infinite { .. })
    }

    /// Whether this is `0` or `-0`.
    pub fn is_zero(&self) -> bool {
        matches!(self.0.form, Form::Zero { .. })
    }

    /// Whether the sign bit is set (`-0` included).
    pub fn is_negative(&self) -> bool {
        match self.0.form {
            Form::Zero { negative }
            | Form::Finite { negative, .. }
            | Form::Infinite { negative } => negative,
        }
    }

    /// Whether the number is a whole number (`-0` is; infinities are not).
    pub fn is_integer(&self) -> bool {
        match &self.0.form {
            Form::Zero { .. } => true,
            Form::Finite { exponent, .. } => *exponent >= 0,
            Form::Infinite { .. } => false,
        }
    }

    /// -1, 0 or 1, as Go's `Sign()`: zero for both zeros.
    fn sign(&self) -> i8 {
        match self.0.form {
            Form::Zero { .. } => 0,
            _ if self.is_negative() => -1,
            _ => 1,
        }
    }

    fn with_form(form: Form, precision: u32) -> Self {
        TfNumber(Box::new(Repr { form, precision }))
    }

    // -----------------------------------------------------------------------------------------
    // Construction and conversion
    // -----------------------------------------------------------------------------------------

    /// Parses a number as Terraform reads literals, `tonumber` strings and JSON numbers: decimal,
    /// at 512 bits, `[+-]digits[.digits][(e|p)[+-]digits]` or `[+-](Inf|inf)`.
    pub fn parse(text: &str) -> Result<Self, NumberError> {
        // Most numbers (literals, state) are small integers: read those without the decimal
        // parser. `-0` is not one: it keeps its sign.
        if text.len() <= 18
            && let Ok(i) = text.parse::<i64>()
            && (i != 0 || !text.starts_with('-'))
        {
            return Ok(Self::parsed_i64(i));
        }
        parse::parse_decimal(text, LITERAL_PRECISION)
    }

    /// `parseint(text, base)`: an integer in base 2 to 62 (digits `0-9a-zA-Z`; letters are
    /// case-insensitive up to base 36, above it `a-z` are 10–35 and `A-Z` 36–61), with an
    /// optional sign, at the precision Go gives the integer (at least 64 bits).
    pub fn parse_integer(text: &str, base: u32) -> Result<Self, NumberError> {
        parse::parse_integer(text, base)
    }

    /// An integer as Go's `new(big.Float).SetInt(i)` makes it: precision the larger of 64 and
    /// the integer's bits, so it is exact.
    pub fn from_integer(negative: bool, magnitude: UBig) -> Self {
        let bits = u32::try_from(magnitude.bit_len()).unwrap_or(u32::MAX);
        let precision = bits.max(INTEGER_PRECISION);
        Self::integer_at(negative, magnitude, precision)
    }

    /// An integer rounded to `precision` bits (`big.Float.SetInt` on a float that has one).
    fn integer_at(negative: bool, magnitude: UBig, precision: u32) -> Self {
        if magnitude.is_zero() {
            return Self::with_form(Form::Zero { negative: false }, precision);
        }
        Self::with_form(rounded(negative, magnitude, 0, precision), precision)
    }

    /// An integer as a literal or a JSON number reads: at 512 bits, like [`TfNumber::parse`]
    /// of its text, without parsing text.
    pub fn parsed_i64(value: i64) -> Self {
        Self::integer_at(
            value < 0,
            UBig::from(value.unsigned_abs()),
            LITERAL_PRECISION,
        )
    }

    /// An `i64` at 64 bits, as `cty.NumberIntVal` makes it.
    pub fn from_i64(value: i64) -> Self {
        Self::integer_at(
            value < 0,
            UBig::from(value.unsigned_abs()),
            INTEGER_PRECISION,
        )
    }

    /// A `u64` at 64 bits, as `cty.NumberUIntVal` makes it.
    pub fn from_u64(value: u64) -> Self {
        Self::integer_at(false, UBig::from(value), INTEGER_PRECISION)
    }

    /// An `f64` at 53 bits, as `cty.NumberFloatVal` makes it; `None` for NaN (Go panics).
    pub fn from_f64(value: f64) -> Option<Self> {
        if value.is_nan() {
            return None;
        }
        let negative = value.is_sign_negative();
        if value.is_infinite() {
            return Some(Self::with_form(
                Form::Infinite { negative },
                FLOAT64_PRECISION,
            ));
        }
        if value == 0.0 {
            return Some(Self::with_form(Form::Zero { negative }, FLOAT64_PRECISION));
        }
        let bits = value.to_bits();
        let biased = i64::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
        let fraction = bits & ((1 << 52) - 1);
        let (mantissa, exponent) = if biased == 0 {
            (fraction, -1074)
        } else {
            (fraction | (1 << 52), biased - 1075)
        };
        Some(Self::with_form(
            rounded(negative, UBig::from(mantissa), exponent, FLOAT64_PRECISION),
            FLOAT64_PRECISION,
        ))
    }

    /// The nearest `f64` (ties to even), as Go's `Float64()`: infinities beyond its range,
    /// zero below it. Lossy for anything with more than 53 significant bits.
    pub fn to_f64(&self) -> f64 {
        let (negative, magnitude) = match &self.0.form {
            Form::Zero { negative } => (*negative, 0.0),
            Form::Infinite { negative } => (*negative, f64::INFINITY),
            Form::Finite {
                negative,
                mantissa,
                exponent,
            } => (*negative, finite_to_f64(mantissa, *exponent)),
        };
        if negative { -magnitude } else { magnitude }
    }

    /// The `f64` a function such as `pow` or `log` computes with (cty's `gocty` conversion):
    /// rounded, but an error rather than an infinity for finite numbers beyond `f64`'s range.
    pub fn to_f64_checked(&self) -> Result<f64, NumberError> {
        let value = self.to_f64();
        if value.is_infinite() && !self.is_infinite() {
            return Err(NumberError::OutOfFloat64Range);
        }
        Ok(value)
    }

    /// The number as an `i64` if it is a whole number in range (cty's conversion to `int`).
    pub fn to_i64(&self) -> Option<i64> {
        let (negative, magnitude) = self.small_integer()?;
        let magnitude = u64::try_from(&magnitude).ok()?;
        if negative {
            0i64.checked_sub_unsigned(magnitude)
        } else {
            i64::try_from(magnitude).ok()
        }
    }

    /// The number as a `u64` if it is a whole number in range.
    pub fn to_u64(&self) -> Option<u64> {
        let (negative, magnitude) = self.small_integer()?;
        let magnitude = u64::try_from(&magnitude).ok()?;
        (!negative || magnitude == 0).then_some(magnitude)
    }

    /// The whole number, if this is one: sign and magnitude (`-0` gives a positive zero).
    /// The magnitude has as many bits as the number needs: `1e600000000` takes 250 MB, so
    /// check [`TfNumber::whole_bits`] first where the number comes from a configuration.
    pub fn to_integer(&self) -> Option<(bool, UBig)> {
        self.truncated()
    }

    /// How many bits the integer part of the number needs (0 for zero and fractions below
    /// one, `None` for infinities).
    pub fn whole_bits(&self) -> Option<u64> {
        match &self.0.form {
            Form::Zero { .. } => Some(0),
            Form::Finite {
                mantissa, exponent, ..
            } => Some(u64::try_from(exponent + arithmetic::bit_len(mantissa)).unwrap_or(0)),
            Form::Infinite { .. } => None,
        }
    }

    /// [`TfNumber::truncated`] for numbers of at most 64 bits, without building a big one.
    fn small_integer(&self) -> Option<(bool, UBig)> {
        if self.whole_bits()? > 64 {
            return None;
        }
        self.truncated()
    }

    /// Exact integer value when the number is whole.
    fn truncated(&self) -> Option<(bool, UBig)> {
        match &self.0.form {
            Form::Zero { .. } => Some((false, UBig::ZERO)),
            Form::Finite {
                negative,
                mantissa,
                exponent,
            } if *exponent >= 0 => Some((*negative, mantissa << shift(*exponent))),
            _ => None,
        }
    }

    /// The integer part at `precision` bits, rounding toward zero (Go's `Int()`), and whether
    /// that moved the value. A whole number is its own integer part: it is never widened into
    /// one big integer (`1e600000000` would take 250 MB).
    fn integer_part(&self, precision: u32) -> Option<(Self, bool)> {
        match &self.0.form {
            Form::Zero { .. } => Some((
                Self::with_form(Form::Zero { negative: false }, precision),
                false,
            )),
            Form::Infinite { .. } => None,
            Form::Finite { exponent, .. } if *exponent >= 0 => Some((
                Self::with_form(arithmetic::reround(&self.0.form, precision), precision),
                false,
            )),
            Form::Finite {
                negative,
                mantissa,
                exponent,
            } => {
                // An odd mantissa below the binary point always has a fraction.
                let whole = mantissa >> shift(-exponent);
                Some((Self::integer_at(*negative, whole, precision), true))
            }
        }
    }

    /// A JSON number for this value. Integers that fit `i64`/`u64` are exact; other finite
    /// numbers become the nearest `f64`, which loses everything past 17 significant digits
    /// (use [`TfNumber::to_json_text`] to keep them). `None` for infinities.
    pub fn to_json_number(&self) -> Option<serde_json::Number> {
        if let Some(i) = self.to_i64() {
            return Some(serde_json::Number::from(i));
        }
        if let Some(u) = self.to_u64() {
            return Some(serde_json::Number::from(u));
        }
        serde_json::Number::from_f64(self.to_f64())
    }

    /// A number from a JSON number as braid holds it today. Integers are exact; an `f64` is
    /// read through its shortest decimal text at 512 bits, which is what Terraform makes of
    /// the same JSON text (and not the binary value of the `f64`: `0.1` stays `0.1`).
    pub fn from_json_number(number: &serde_json::Number) -> Self {
        if let Some(i) = number.as_i64() {
            return Self::integer_at(i < 0, UBig::from(i.unsigned_abs()), LITERAL_PRECISION);
        }
        if let Some(u) = number.as_u64() {
            return Self::integer_at(false, UBig::from(u), LITERAL_PRECISION);
        }
        let text = number.to_string();
        Self::parse(&text).unwrap_or_else(|_| Self::zero())
    }

    // -----------------------------------------------------------------------------------------
    // Arithmetic
    // -----------------------------------------------------------------------------------------

    /// `-self`; the precision stays.
    pub fn neg(&self) -> Self {
        let form = match &self.0.form {
            Form::Zero { negative } => Form::Zero {
                negative: !negative,
            },
            Form::Infinite { negative } => Form::Infinite {
                negative: !negative,
            },
            Form::Finite {
                negative,
                mantissa,
                exponent,
            } => Form::Finite {
                negative: !negative,
                mantissa: mantissa.clone(),
                exponent: *exponent,
            },
        };
        Self::with_form(form, self.0.precision)
    }

    /// `abs(self)`: the sign cleared (`abs(-0)` is `0`).
    pub fn abs(&self) -> Self {
        if self.is_negative() {
            self.neg()
        } else {
            self.clone()
        }
    }

    /// `self + other`, rounded to the larger precision.
    pub fn add(&self, other: &Self) -> Result<Self, NumberError> {
        let precision = self.0.precision.max(other.0.precision);
        sum_at(self, other, precision).ok_or(NumberError::OpposingInfinities)
    }

    /// `self - other`, rounded to the larger precision.
    pub fn sub(&self, other: &Self) -> Result<Self, NumberError> {
        let precision = self.0.precision.max(other.0.precision);
        sum_at(self, &other.neg(), precision).ok_or(NumberError::InfinityMinusInfinity)
    }

    /// `self * other` as cty multiplies: the product rounded to 512 bits, with the larger of
    /// the operands' precisions and the bits the product needs.
    pub fn mul(&self, other: &Self) -> Result<Self, NumberError> {
        let product = product_at(self, other, LITERAL_PRECISION)?;
        let needed = match &product.0.form {
            Form::Finite { mantissa, .. } => u32::try_from(mantissa.bit_len()).unwrap_or(u32::MAX),
            _ => 0,
        };
        let precision = self.0.precision.max(other.0.precision).max(needed);
        Ok(Self::with_form(product.0.form, precision))
    }

    /// `self / other`, rounded to the larger precision; `x / 0` is an infinity.
    pub fn div(&self, other: &Self) -> Result<Self, NumberError> {
        quotient_at(self, other, self.0.precision.max(other.0.precision))
    }

    /// `self % other` as cty computes it: `self - other × trunc(self / other)`, each step
    /// rounded to `self`'s precision; `x % 0` is `x`.
    pub fn rem(&self, other: &Self) -> Result<Self, NumberError> {
        if self.is_infinite() || other.is_infinite() {
            return Err(NumberError::ModuloInfinity);
        }
        if other.is_zero() {
            return Ok(self.clone());
        }
        let ratio = self.div(other)?;
        let precision = self.0.precision;
        let (whole, _) = ratio
            .integer_part(precision)
            .ok_or(NumberError::ModuloInfinity)?;
        let product = product_at(other, &whole, precision)?;
        sum_at(self, &product.neg(), precision).ok_or(NumberError::ModuloInfinity)
    }

    /// Orders numbers by value; `-0` equals `0`.
    pub fn cmp_value(&self, other: &Self) -> Ordering {
        let (a, b) = (self.sign(), other.sign());
        if a != b {
            return a.cmp(&b);
        }
        let magnitude = compare_magnitude(&self.0.form, &other.0.form);
        if a < 0 {
            magnitude.reverse()
        } else {
            magnitude
        }
    }

    /// Terraform's `==`: same sign, and either both whole and equal, or both fractional with
    /// the same text. Numbers equal by value but of different precisions can differ:
    /// `parseint("1", 10) / parseint("3", 10) == 1 / 3` is false.
    pub fn equals(&self, other: &Self) -> bool {
        if self.sign() != other.sign() {
            return false;
        }
        // The same number at the same precision: the same text.
        if self.0.precision == other.0.precision && self.0.form == other.0.form {
            return true;
        }
        match (self.is_integer(), other.is_integer()) {
            // Whole numbers are equal by value; their forms are canonical (odd mantissa).
            (true, true) => match (&self.0.form, &other.0.form) {
                (Form::Zero { .. }, Form::Zero { .. }) => true,
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
                ) => ea == eb && ma == mb,
                _ => false,
            },
            (false, false) => {
                // Both infinite with the same sign, or both fractional.
                match (self.is_infinite(), other.is_infinite()) {
                    (true, true) => true,
                    (false, false) => self.to_string() == other.to_string(),
                    _ => false,
                }
            }
            _ => false,
        }
    }

    /// `ceil(self)`: the least whole number not below it, at this precision.
    pub fn ceil(&self) -> Self {
        self.round_to_integer(false)
    }

    /// `floor(self)`: the greatest whole number not above it, at this precision.
    pub fn floor(&self) -> Self {
        self.round_to_integer(true)
    }

    fn round_to_integer(&self, down: bool) -> Self {
        let Some((whole, moved)) = self.integer_part(self.0.precision) else {
            return self.clone();
        };
        // Truncation moved a negative number up and a positive one down.
        if moved && self.is_negative() == down {
            let one = Self::from_i64(if down { -1 } else { 1 });
            return sum_at(&whole, &one, self.0.precision).unwrap_or(whole);
        }
        whole
    }

    /// `signum(self)`: -1, 0 or 1 at 64 bits; only for whole numbers in `i64`'s range.
    pub fn signum(&self) -> Result<Self, NumberError> {
        let value = self.to_i64().ok_or(NumberError::NotAnInt64)?;
        Ok(Self::from_i64(value.signum()))
    }

    /// `pow(self, power)`, computed in `f64` with Go's `math.Pow`, as Terraform does.
    pub fn pow(&self, power: &Self) -> Result<Self, NumberError> {
        let result = float64::go_pow(self.to_f64_checked()?, power.to_f64_checked()?);
        Self::from_f64(result).ok_or(NumberError::NotANumber)
    }

    /// `log(self, base)`, computed in `f64` as Go's `math.Log(self) / math.Log(base)`, as
    /// Terraform does.
    pub fn log(&self, base: &Self) -> Result<Self, NumberError> {
        let result =
            float64::go_ln(self.to_f64_checked()?) / float64::go_ln(base.to_f64_checked()?);
        Self::from_f64(result).ok_or(NumberError::NotANumber)
    }

    /// `max(...)`: the first of the greatest (`max(-0, 0)` is `-0`); `None` when empty.
    pub fn max_of<'a>(numbers: impl IntoIterator<Item = &'a Self>) -> Option<Self> {
        let mut best: Option<&Self> = None;
        for n in numbers {
            if best.is_none_or(|b| n.cmp_value(b) == Ordering::Greater) {
                best = Some(n);
            }
        }
        best.cloned()
    }

    /// `min(...)`: the first of the least; `None` when empty.
    pub fn min_of<'a>(numbers: impl IntoIterator<Item = &'a Self>) -> Option<Self> {
        let mut best: Option<&Self> = None;
        for n in numbers {
            if best.is_none_or(|b| n.cmp_value(b) == Ordering::Less) {
                best = Some(n);
            }
        }
        best.cloned()
    }
}

#[cfg(test)]
mod tests;
