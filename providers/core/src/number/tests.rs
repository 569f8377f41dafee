use super::*;

fn n(text: &str) -> TfNumber {
    TfNumber::parse(text).expect("test literals parse")
}

#[test]
fn literals_are_512_bits_and_print_shortest() {
    assert_eq!(n("0.1").precision(), LITERAL_PRECISION);
    assert_eq!(n("0.1").add(&n("0.2")).expect("finite").to_string(), "0.3");
    assert_eq!(n("-0").to_string(), "-0");
    assert_eq!(n("1e3").to_string(), "1000");
}

#[test]
fn integers_from_functions_are_64_bits() {
    let third = TfNumber::from_i64(1)
        .div(&TfNumber::from_i64(3))
        .expect("finite");
    assert_eq!(third.to_string(), "0.33333333333333333334");
    assert!(!third.equals(&n("1").div(&n("3")).expect("finite")));
}

#[test]
fn f64_round_trips() {
    for value in [0.1, -2.5, 1e300, 5e-324, 2.2250738585072014e-308, f64::MAX] {
        let number = TfNumber::from_f64(value).expect("not NaN");
        assert_eq!(number.to_f64(), value);
    }
    assert_eq!(n("0.1").to_f64(), 0.1);
    assert_eq!(n("1e400").to_f64(), f64::INFINITY);
    assert_eq!(n("1e-400").to_f64(), 0.0);
    assert!(n("1e400").to_f64_checked().is_err());
}

#[test]
fn integer_conversions() {
    assert_eq!(n("9223372036854775807").to_i64(), Some(i64::MAX));
    assert_eq!(n("-9223372036854775808").to_i64(), Some(i64::MIN));
    assert_eq!(n("9223372036854775808").to_i64(), None);
    assert_eq!(n("18446744073709551615").to_u64(), Some(u64::MAX));
    assert_eq!(n("1.5").to_i64(), None);
    assert_eq!(n("-0").to_u64(), Some(0));
}

#[test]
fn json_numbers() {
    let big = n("100000000000000000000000");
    assert_eq!(
        big.to_json_number().map(|j| j.to_string()).as_deref(),
        Some("1e+23")
    );
    assert_eq!(
        n("-12").to_json_number(),
        Some(serde_json::Number::from(-12))
    );
    let tenth = serde_json::Number::from_f64(0.1).expect("finite");
    assert!(TfNumber::from_json_number(&tenth).equals(&n("0.1")));
    assert!(TfNumber::infinity(false).to_json_number().is_none());
    assert_eq!(
        TfNumber::infinity(true).to_json_text(),
        Err(NumberError::InfinityInJson)
    );
}

#[test]
fn errors_do_not_panic() {
    assert_eq!(n("0").div(&n("0")), Err(NumberError::ZeroDividedByZero));
    let inf = TfNumber::infinity(false);
    assert_eq!(inf.sub(&inf), Err(NumberError::InfinityMinusInfinity));
    assert_eq!(inf.add(&inf.neg()), Err(NumberError::OpposingInfinities));
    assert_eq!(inf.mul(&n("0")), Err(NumberError::ZeroTimesInfinity));
    assert_eq!(inf.rem(&n("2")), Err(NumberError::ModuloInfinity));
    assert_eq!(n("-8").pow(&n("0.5")), Err(NumberError::NotANumber));
    assert!(TfNumber::parse("1e99999999999999999999").is_err());
    assert!(TfNumber::parse_integer("", 10).is_err());
}

/// Numbers far from 1 stay cheap: nothing widens them into a big integer or writes out
/// hundreds of millions of digits.
#[test]
fn giant_numbers_stay_cheap() {
    let started = std::time::Instant::now();
    // (Go's parser, which braid's follows, makes `1e600000000` +Inf on the way; a product
    // gets there.)
    let giant = n("1e100000000").mul(&n("1e100000000")).expect("a product");
    assert_eq!(giant.to_string(), "1e+200000000");
    assert_eq!(n("-2.5e-5000000").to_string(), "-2.5e-5000000");
    assert_eq!(n("1.2345678e400000").to_string(), "1.234568e+400000");
    assert!(giant.equals(&giant.clone()));
    assert!(!giant.equals(&n("1e100000000")));
    assert_eq!(giant.to_i64(), None);
    assert_eq!(giant.to_u64(), None);
    assert!(giant.floor().equals(&giant));
    assert!(giant.ceil().equals(&giant));
    assert!(giant.rem(&n("3")).is_ok());
    assert_eq!(
        giant.format_integer(IntegerVerb::Decimal),
        Err(NumberError::TooManyDigits)
    );
    assert!(
        giant
            .format_float(FloatVerb::Fixed, Some(2))
            .starts_with("1e+")
    );
    // Just inside the limit numbers are still written in full.
    assert_eq!(n("1e100000").to_string().len(), 100_001);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "giant numbers took {:?}",
        started.elapsed()
    );
}

#[test]
fn floor_ceil_and_rem_of_small_numbers() {
    assert_eq!(n("-2.5").floor().to_string(), "-3");
    assert_eq!(n("-2.5").ceil().to_string(), "-2");
    assert_eq!(n("2.5").ceil().to_string(), "3");
    assert_eq!(n("2.5").floor().to_string(), "2");
    assert_eq!(n("7").floor().to_string(), "7");
    assert_eq!(
        n("-7").rem(&n("3")).map(|r| r.to_string()),
        Ok("-1".to_string())
    );
    assert_eq!(
        n("7.5").rem(&n("2")).map(|r| r.to_string()),
        Ok("1.5".to_string())
    );
}
