//! `pow` as Terraform computes it: Go's `math.Pow` on `float64`s.
//!
//! Go's `Pow` is not the C library's correctly rounded `pow`: it splits the power into an
//! integer part, done by repeated squaring with the binary exponent kept aside (`frexp`), and a
//! fraction done as `exp(fraction × ln x)`. The rounding of each squaring shows in the last
//! bits (`pow(10, 308)` is `1.0000000000000006e308` in Terraform), so braid follows the same
//! steps. The fractional part uses Rust's `exp` and `ln`, which may differ from Go's in the
//! last bit for some arguments.

/// Go's `math.Pow(x, y)`.
pub(super) fn go_pow(x: f64, y: f64) -> f64 {
    if y == 0.0 || x == 1.0 {
        return 1.0;
    }
    if y == 1.0 {
        return x;
    }
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 {
        return match (y < 0.0, is_odd_integer(y)) {
            (true, true) => f64::INFINITY.copysign(x),
            (true, false) => f64::INFINITY,
            (false, true) => x,
            (false, false) => 0.0,
        };
    }
    if y.is_infinite() {
        return if x == -1.0 {
            1.0
        } else if (x.abs() < 1.0) == (y > 0.0) {
            0.0
        } else {
            f64::INFINITY
        };
    }
    if x.is_infinite() {
        if x < 0.0 {
            return go_pow(1.0 / x, -y);
        }
        return if y < 0.0 { 0.0 } else { f64::INFINITY };
    }
    if y == 0.5 {
        return x.sqrt();
    }
    if y == -0.5 {
        return 1.0 / x.sqrt();
    }
    let mut whole = y.abs().trunc();
    let mut fraction = y.abs() - whole;
    if fraction != 0.0 && x < 0.0 {
        return f64::NAN;
    }
    if whole >= 2f64.powi(63) {
        // A huge even power.
        return if x == -1.0 {
            1.0
        } else if (x.abs() < 1.0) == (y > 0.0) {
            0.0
        } else {
            f64::INFINITY
        };
    }
    // The answer is a × 2^a_exponent.
    let mut a = 1.0;
    let mut a_exponent: i64 = 0;
    if fraction != 0.0 {
        if fraction > 0.5 {
            fraction -= 1.0;
            whole += 1.0;
        }
        a = (fraction * x.ln()).exp();
    }
    let (mut x1, mut x_exponent) = frexp(x);
    #[allow(clippy::cast_possible_truncation)]
    let mut i = whole as i64;
    while i != 0 {
        if !(-(1 << 12)..=(1 << 12)).contains(&x_exponent) {
            // Far out of range either way: the final scaling overflows or underflows.
            a_exponent += x_exponent;
            break;
        }
        if i & 1 == 1 {
            a *= x1;
            a_exponent += x_exponent;
        }
        x1 *= x1;
        x_exponent <<= 1;
        if x1 < 0.5 {
            x1 += x1;
            x_exponent -= 1;
        }
        i >>= 1;
    }
    if y < 0.0 {
        a = 1.0 / a;
        a_exponent = -a_exponent;
    }
    super::arithmetic::scale_by_power_of_two(a, a_exponent)
}

fn is_odd_integer(y: f64) -> bool {
    y.trunc() == y && y.abs() < 9.007_199_254_740_992e15 && (y % 2.0).abs() == 1.0
}

/// `x = fraction × 2^exponent` with `0.5 <= |fraction| < 1`, for finite non-zero `x`.
fn frexp(x: f64) -> (f64, i64) {
    let (x, adjust) = if x.abs() < f64::MIN_POSITIVE {
        // Subnormal: scale into the normal range first.
        (x * 2f64.powi(52), -52)
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    let biased = i64::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
    let fraction = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (fraction, biased - 1022 + adjust)
}

/// Go's `math.Log`: fdlibm's `log` (not the C library's), whose last bit differs from glibc's
/// for some arguments (`log(7, 3)` is `1.7712437491614224` in Terraform). The argument is
/// reduced to `2^k × (1 + f)` with `√2/2 ≤ 1 + f < √2`, and `ln(1 + f)` is
/// `f - s(f - R)`-style series in `s = f / (2 + f)` with fdlibm's minimax coefficients.
pub(super) fn go_ln(x: f64) -> f64 {
    // ln 2 split in a high part with trailing zero bits and the rest, and the coefficients
    // Lg1..Lg7 of fdlibm's e_log.c, bit for bit.
    const LN2_HI: u64 = 0x3fe6_2e42_fee0_0000;
    const LN2_LO: u64 = 0x3dea_39ef_3579_3c76;
    const LG: [u64; 7] = [
        0x3fe5_5555_5555_5593,
        0x3fd9_9999_9997_fa04,
        0x3fd2_4924_9422_9359,
        0x3fcc_71c5_1d8e_78af,
        0x3fc7_4664_96cb_03de,
        0x3fc3_9a09_d078_c69f,
        0x3fc2_f112_df3e_5244,
    ];
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    let lg = LG.map(f64::from_bits);
    let (mut f1, mut exponent) = frexp(x);
    if f1 < std::f64::consts::SQRT_2 / 2.0 {
        f1 *= 2.0;
        exponent -= 1;
    }
    let f = f1 - 1.0;
    #[allow(clippy::cast_precision_loss)]
    let k = exponent as f64;
    let s = f / (2.0 + f);
    let s2 = s * s;
    let s4 = s2 * s2;
    let t1 = s2 * (lg[0] + s4 * (lg[2] + s4 * (lg[4] + s4 * lg[6])));
    let t2 = s4 * (lg[1] + s4 * (lg[3] + s4 * lg[5]));
    let r = t1 + t2;
    let half_f_squared = 0.5 * f * f;
    k * f64::from_bits(LN2_HI)
        - ((half_f_squared - (s * (half_f_squared + r) + k * f64::from_bits(LN2_LO))) - f)
}
