//! Tests of the public API and the dispatch table: names, arity, argument errors, unknown
//! values, coverage of Terraform's function list, and robustness against odd arguments.

use braid_provider::Value;

use super::test_support::{err, list, map, message, n, nums, ok, run, s, strs};
use super::{FUNCTIONS, FunctionError, names};

#[test]
fn names_are_sorted_unique_and_all_callable() {
    let all = names();
    assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");
    assert_eq!(all.len(), FUNCTIONS.len());
    for name in all {
        let result = run(name, Vec::new());
        assert!(
            !matches!(result, Err(FunctionError::Unknown { .. })),
            "{name} is listed but not callable"
        );
    }
}

/// `terraform metadata functions -json`, checked in by scripts/conformance-functions.sh.
const TERRAFORM_FUNCTIONS: &str =
    include_str!("../../../tests/conformance/functions/functions-metadata.json");

#[test]
fn every_terraform_function_is_provided_or_listed() {
    let metadata: serde_json::Value =
        serde_json::from_str(TERRAFORM_FUNCTIONS).expect("functions-metadata.json");
    let terraform: Vec<&str> = metadata["function_signatures"]
        .as_object()
        .expect("function_signatures")
        .keys()
        .map(String::as_str)
        // `core::upper` is `upper` under its namespace, which the parser does not accept.
        .filter(|name| !name.starts_with("core::"))
        .collect();
    assert!(terraform.len() > 100, "{terraform:?}");
    let missing: Vec<&&str> = terraform
        .iter()
        .filter(|name| !names().contains(name))
        .filter(|name| !super::EVALUATOR_FUNCTIONS.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "Terraform functions braid lacks: {missing:?}"
    );
    // The evaluator's functions are Terraform's and not also in the table.
    for name in super::EVALUATOR_FUNCTIONS {
        assert!(!names().contains(name), "{name} is in both lists");
        assert!(
            terraform.contains(name),
            "{name} is not a Terraform function"
        );
    }
    assert!(
        super::EVALUATOR_FUNCTIONS.windows(2).all(|w| w[0] < w[1]),
        "EVALUATOR_FUNCTIONS is sorted"
    );
    let extra: Vec<&&str> = names().iter().filter(|n| !terraform.contains(n)).collect();
    assert!(extra.is_empty(), "not Terraform functions: {extra:?}");
}

/// Every function, with every combination of up to three odd arguments, returns a value
/// or an error: none panics.
#[test]
fn no_function_panics_on_odd_arguments() {
    let odd = vec![
        Value::Null,
        s(""),
        s("/(/"),
        s("10.0.0.0/8"),
        s("2017-11-22T00:00:00Z"),
        s("e\u{301}🇩🇪"),
        n(-1),
        n(40),
        super::test_support::fl(1e300),
        list(vec![]),
        list(vec![Value::Null, s("a")]),
        map(&[("a", list(vec![n(1)]))]),
    ];
    for name in names() {
        run(name, vec![]).ok();
        for a in &odd {
            run(name, vec![a.clone()]).ok();
            for b in &odd {
                run(name, vec![a.clone(), b.clone()]).ok();
                for c in &odd {
                    run(name, vec![a.clone(), b.clone(), c.clone()]).ok();
                }
            }
        }
    }
}

#[test]
fn unknown_function_suggests_closest_name() {
    assert_eq!(
        err("jsonencod", vec![s("x")]),
        FunctionError::Unknown {
            name: "jsonencod".to_string(),
            suggestion: Some("jsonencode".to_string()),
        }
    );
    assert_eq!(
        message(&err("jsonencod", vec![])),
        "there is no function named \"jsonencod\""
    );
    match err("frobnicate_everything", vec![]) {
        FunctionError::Unknown { suggestion, .. } => assert_eq!(suggestion, None),
        other => panic!("{other:?}"),
    }
}

#[test]
fn arity_errors_describe_expected_counts() {
    assert_eq!(
        err("upper", vec![]),
        FunctionError::Arity {
            name: "upper".to_string(),
            expected: "1".to_string(),
            got: 0,
        }
    );
    assert_eq!(
        message(&err("lookup", vec![s("a")])),
        "lookup() takes 2 or 3 argument(s), got 1"
    );
    assert_eq!(
        message(&err("range", vec![n(1), n(2), n(3), n(4)])),
        "range() takes 1 to 3 argument(s), got 4"
    );
    assert_eq!(
        message(&err("concat", vec![])),
        "concat() takes at least 1 argument(s), got 0"
    );
}

#[test]
fn type_errors_name_argument_and_kinds() {
    assert_eq!(
        err("upper", vec![strs(&["a"])]),
        FunctionError::Argument {
            name: "upper".to_string(),
            index: 1,
            message: "expected string, got list".to_string(),
        }
    );
    assert_eq!(
        message(&err("abs", vec![s("abc")])),
        "argument 1 of abs(): expected number, got string \"abc\""
    );
    assert_eq!(
        message(&err("join", vec![s(","), list(vec![s("a"), Value::Null])])),
        "argument 2 of join(): element 1: expected string, got null"
    );
    assert_eq!(
        message(&err("keys", vec![strs(&["a"])])),
        "argument 1 of keys(): expected object, got list"
    );
    assert!(matches!(
        err("lower", vec![Value::Null]),
        FunctionError::Argument { index: 1, .. }
    ));
}

#[test]
fn unknown_arguments_propagate() {
    assert_eq!(ok("upper", vec![Value::Unknown]), Value::Unknown);
    assert_eq!(
        ok("join", vec![s(","), list(vec![s("a"), Value::Unknown])]),
        Value::Unknown
    );
    assert_eq!(
        ok("jsonencode", vec![map(&[("a", Value::Unknown)])]),
        Value::Unknown
    );
    assert_eq!(ok("format", vec![s("%s"), Value::Unknown]), Value::Unknown);
    assert_eq!(ok("length", vec![Value::Unknown]), Value::Unknown);
    // Known structure with unknown elements: the length is still known.
    assert_eq!(ok("length", vec![list(vec![Value::Unknown, n(1)])]), n(2));
    assert_eq!(
        ok("concat", vec![list(vec![Value::Unknown]), nums(&[1])]),
        list(vec![Value::Unknown, n(1)])
    );
    assert_eq!(
        ok(
            "lookup",
            vec![map(&[("a", n(1)), ("b", Value::Unknown)]), s("a")]
        ),
        n(1)
    );
    assert_eq!(ok("merge", vec![map(&[]), Value::Unknown]), Value::Unknown);
    // The functions added after Terraform 1.11's list propagate unknowns the same way.
    for (name, args) in [
        ("regex", vec![s("a"), Value::Unknown]),
        ("regexall", vec![Value::Unknown, s("a")]),
        ("replace", vec![s("a"), s("/a/"), Value::Unknown]),
        ("yamlencode", vec![list(vec![Value::Unknown])]),
        ("yamldecode", vec![Value::Unknown]),
        ("csvdecode", vec![Value::Unknown]),
        ("cidrsubnets", vec![s("10.0.0.0/8"), Value::Unknown]),
        ("setunion", vec![strs(&["a"]), list(vec![Value::Unknown])]),
        ("setproduct", vec![strs(&["a"]), Value::Unknown]),
        ("transpose", vec![map(&[("a", Value::Unknown)])]),
        (
            "matchkeys",
            vec![strs(&["a"]), strs(&["b"]), Value::Unknown],
        ),
        ("formatdate", vec![s("YYYY"), Value::Unknown]),
        ("timeadd", vec![Value::Unknown, s("1h")]),
        ("md5", vec![Value::Unknown]),
        ("uuidv5", vec![s("dns"), Value::Unknown]),
        ("textencodebase64", vec![Value::Unknown, s("UTF-8")]),
        ("bcrypt", vec![Value::Unknown]),
        ("log", vec![Value::Unknown, n(10)]),
    ] {
        assert_eq!(ok(name, args), Value::Unknown, "{name}");
    }
    // Unknown checks come after arity checks.
    assert!(matches!(
        err("upper", vec![Value::Unknown, Value::Unknown]),
        FunctionError::Arity { .. }
    ));
}
