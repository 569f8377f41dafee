//! The built-in functions that configuration expressions can call (`jsonencode(...)`,
//! `join(...)`, `file(...)`).
//!
//! Names, arguments and results follow Terraform's built-in functions so that existing
//! configuration reads the same way. Where a string is expected, numbers and bools convert to
//! strings (`1` → `"1"`); where a number is expected, strings convert if they parse.
//!
//! Unknown values ("known after apply") propagate: a call whose result depends on an unknown
//! argument returns [`Value::Unknown`]. Functions that only move values around (`concat`,
//! `merge`, `element`, `length`, ...) keep unknown elements in place instead, so that
//! `length([aws_instance.a.id])` is known at plan time.
//!
//! Terraform functions this crate does not implement, and why:
//! - [`EVALUATOR_FUNCTIONS`] (`try`, `can`, `templatefile`, `templatestring`, `sensitive`,
//!   `nonsensitive`, `issensitive`, `ephemeralasnull`) need the expression evaluator: lazy
//!   arguments, template rendering, or the sensitivity of a value, which a plain function of
//!   values cannot see. braid's evaluator provides them under these names.
//! - `type`: Terraform offers it only in `terraform console`; `terraform plan` refuses it, and
//!   so does braid.
//! - the `core::` namespaced aliases (`core::upper`): need the parser to accept `::` in calls.
//!
//! Impure functions follow Terraform: `uuid()`, `timestamp()` and `bcrypt()` are unknown while
//! planning ([`Phase::Plan`]) and produce values only when applying ([`Phase::Apply`]);
//! `plantimestamp()` is known at plan: it is [`FunctionContext::plan_time`], one instant for
//! the whole plan.
//!
//! Strings are measured in grapheme clusters, as in Terraform (`length`, `substr`, `strrev`),
//! by Unicode 15.1's rules, which keep Indic conjuncts together where Terraform's older
//! segmentation splits them; case mappings are Go's simple ones (`upper("ß")` is `"ß"`,
//! `title("ǆ")` is `"ǅ"`). Unlike Terraform, braid does not
//! normalize string literals to Unicode NFC: that is the parser's business.
//! Regular expressions (`regex`, `regexall`, `replace` with `/pattern/`) use the `regex` crate,
//! whose syntax is RE2's, the syntax Terraform uses; the differences are minor (`regex` has no
//! `\C`, and counts `\d`, `\w`, `\s` as Unicode classes unless `(?-u)` is given, where RE2
//! matches ASCII only). Numbers are Terraform's ([`bignum`]): arbitrary-precision binary
//! floating point, read from decimal text at 512 bits, so `0.1 + 0.2` is `0.3`.
//!
//! `pathexpand()` refuses a path starting with `~`: expanding it would let a configuration
//! from a pull request learn the home directory of whoever runs braid. Other paths are
//! returned unchanged, as in Terraform.
//!
//! Other known differences, each kept honest by the conformance suite in
//! `tests/conformance/functions`: `yamldecode` reads YAML 1.2 (`yes` is a string; Terraform
//! reads YAML 1.1, where it is `true`); `base64gzip` compresses to other, equally valid bytes;
//! `textencodebase64` and `textdecodebase64` know UTF-8, UTF-16LE, UTF-16BE and ISO-8859-1
//! only; `bcrypt` accepts costs up to 16 (Terraform: 31) and checks the cost at plan.
//!
//! `file()`, `filebase64()`, `fileexists()`, `fileset()` and the `file*sha*` hashes read only
//! regular files inside the source ([`FunctionContext::source_root`]), up to a size limit:
//! see [`source_read`], which braid's loader uses for configuration files too.
//!
//! Each category of functions lives in its own file (`format`, `string`, `regex`,
//! `collection`, `set`, `numeric`, `encoding`, `yaml`, `hash`, `filesystem`, `time`, `cidr`,
//! `convert`, `impure`); this file holds the public API, the dispatch table and the argument
//! access and conversion helpers they share.

#![warn(missing_docs)]

use std::path::Path;
use std::sync::OnceLock;

use braid_provider::{NumberError, TfNumber, Value};
use chrono::{DateTime, Utc};

pub use braid_provider::number as bignum;
mod cidr;
mod collection;
mod convert;
mod encoding;
mod filesystem;
mod format;
mod hash;
mod impure;
mod numeric;
mod regex;
mod rsa_decrypt;
mod set;
pub mod source_read;
mod string;
#[cfg(test)]
mod test_support;
mod time;
mod yaml;

/// Where a function call runs: `file()` reads relative to the directory of the file being
/// evaluated, and only inside its source; `uuid()` is unknown while planning.
#[derive(Debug, Clone, Copy)]
pub struct FunctionContext<'a> {
    /// The directory of the file whose expression calls the function.
    pub base_dir: &'a Path,
    /// The directory of the source that file belongs to: the file functions read nothing
    /// outside it (see [`source_read`]).
    pub source_root: &'a Path,
    /// Whether the expression is evaluated for a plan or while applying one.
    pub phase: Phase,
    /// The instant the plan was made, which `plantimestamp()` returns.
    pub plan_time: DateTime<Utc>,
}

/// Which walk evaluates an expression; decides what the impure functions return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Making a plan: `uuid()`, `timestamp()` and `bcrypt()` are unknown, as in Terraform,
    /// so that a plan does not show a change on every run.
    Plan,
    /// Applying: the impure functions produce values.
    Apply,
}

/// The plan time of this process: the first call fixes it, so every expression of one
/// `braid plan` sees the same `plantimestamp()`.
pub fn process_plan_time() -> DateTime<Utc> {
    static PLAN_TIME: OnceLock<DateTime<Utc>> = OnceLock::new();
    *PLAN_TIME.get_or_init(Utc::now)
}

/// Why a function call failed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FunctionError {
    /// No function has this name.
    #[error("there is no function named \"{name}\"")]
    Unknown {
        /// The name called.
        name: String,
        /// The closest known name, if any is close.
        suggestion: Option<String>,
    },
    /// The call has the wrong number of arguments.
    #[error("{name}() takes {expected} argument(s), got {got}")]
    Arity {
        /// The function called.
        name: String,
        /// How many arguments it takes, read like "1", "2 or 3", "at least 1".
        expected: String,
        /// How many it was given.
        got: usize,
    },
    /// An argument has the wrong type or an invalid value.
    #[error("argument {index} of {name}(): {message}")]
    Argument {
        /// The function called.
        name: String,
        /// Which argument, 1-based.
        index: usize,
        /// What is wrong with it.
        message: String,
    },
    /// The arguments were acceptable but the function could not produce a result.
    #[error("{name}(): {message}")]
    Failed {
        /// The function called.
        name: String,
        /// Why it failed.
        message: String,
    },
}

/// Calls the built-in function `name` with already evaluated `args`.
pub fn call(
    ctx: &FunctionContext<'_>,
    name: &str,
    args: Vec<Value>,
) -> Result<Value, FunctionError> {
    let Some(function) = FUNCTIONS.iter().find(|f| f.name == name) else {
        return Err(FunctionError::Unknown {
            name: name.to_string(),
            suggestion: suggest(name),
        });
    };
    if !function.arity.accepts(args.len()) {
        return Err(FunctionError::Arity {
            name: function.name.to_string(),
            expected: function.arity.describe(),
            got: args.len(),
        });
    }
    let unknown = match function.unknowns {
        Unknowns::Deep => args.iter().any(|a| !a.is_wholly_known()),
        Unknowns::Shallow => args.iter().any(Value::is_unknown),
    };
    if unknown {
        return Ok(Value::Unknown);
    }
    (function.body)(&Call {
        ctx,
        name: function.name,
        args,
    })
}

/// Terraform functions that the expression evaluator provides rather than this crate, because
/// they need more than the values of their arguments: `try` and `can` evaluate their
/// arguments lazily, `templatefile` and `templatestring` render templates, and `sensitive`,
/// `nonsensitive`, `issensitive` and `ephemeralasnull` read or set how a value is marked.
pub const EVALUATOR_FUNCTIONS: &[&str] = &[
    "can",
    "ephemeralasnull",
    "issensitive",
    "nonsensitive",
    "sensitive",
    "templatefile",
    "templatestring",
    "try",
];

/// All function names, sorted.
pub fn names() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<&'static str> = FUNCTIONS.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names
    })
}

fn suggest(name: &str) -> Option<String> {
    // A third of the name (at least two edits) catches typos without suggesting
    // unrelated short names.
    let limit = (name.chars().count() / 3).max(2);
    FUNCTIONS
        .iter()
        .map(|f| f.name)
        .chain(EVALUATOR_FUNCTIONS.iter().copied())
        .map(|known| (strsim::levenshtein(name, known), known))
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, best)| best.to_string())
}

// ---------------------------------------------------------------------------------------------
// The function table
// ---------------------------------------------------------------------------------------------

type Body = fn(&Call<'_>) -> Result<Value, FunctionError>;

struct Function {
    name: &'static str,
    arity: Arity,
    unknowns: Unknowns,
    body: Body,
}

#[derive(Clone, Copy)]
enum Arity {
    Exact(usize),
    Between(usize, usize),
    AtLeast(usize),
}

impl Arity {
    fn accepts(self, got: usize) -> bool {
        match self {
            Arity::Exact(n) => got == n,
            Arity::Between(low, high) => (low..=high).contains(&got),
            Arity::AtLeast(n) => got >= n,
        }
    }

    fn describe(self) -> String {
        match self {
            Arity::Exact(n) => n.to_string(),
            Arity::Between(low, high) if high == low + 1 => format!("{low} or {high}"),
            Arity::Between(low, high) => format!("{low} to {high}"),
            Arity::AtLeast(n) => format!("at least {n}"),
        }
    }
}

/// How a function treats unknown arguments before its body runs.
#[derive(Clone, Copy)]
enum Unknowns {
    /// The result is unknown if any part of any argument is unknown.
    Deep,
    /// The result is unknown only if a whole argument is unknown; unknown elements inside
    /// lists and maps are carried into the result or inspected by the body.
    Shallow,
}

const fn f(name: &'static str, arity: Arity, unknowns: Unknowns, body: Body) -> Function {
    Function {
        name,
        arity,
        unknowns,
        body,
    }
}

use Arity::{AtLeast, Between, Exact};
use Unknowns::{Deep, Shallow};

static FUNCTIONS: &[Function] = &[
    f("abs", Exact(1), Deep, numeric::abs),
    f("abspath", Exact(1), Deep, filesystem::abspath),
    f("alltrue", Exact(1), Shallow, collection::alltrue),
    f("anytrue", Exact(1), Shallow, collection::anytrue),
    f("base64decode", Exact(1), Deep, encoding::base64decode),
    f("base64encode", Exact(1), Deep, encoding::base64encode),
    f("base64sha256", Exact(1), Deep, encoding::base64sha256),
    f("basename", Exact(1), Deep, filesystem::basename),
    f("ceil", Exact(1), Deep, numeric::ceil),
    f("chomp", Exact(1), Deep, string::chomp),
    f("chunklist", Exact(2), Shallow, collection::chunklist),
    f("coalesce", AtLeast(1), Shallow, collection::coalesce),
    f(
        "coalescelist",
        AtLeast(1),
        Shallow,
        collection::coalescelist,
    ),
    f("compact", Exact(1), Deep, collection::compact),
    f("concat", AtLeast(1), Shallow, collection::concat),
    f("contains", Exact(2), Deep, collection::contains),
    f("dirname", Exact(1), Deep, filesystem::dirname),
    f("distinct", Exact(1), Deep, collection::distinct),
    f("element", Exact(2), Shallow, collection::element),
    f("endswith", Exact(2), Deep, string::endswith),
    f("file", Exact(1), Deep, filesystem::file),
    f("filebase64", Exact(1), Deep, filesystem::filebase64),
    f("fileexists", Exact(1), Deep, filesystem::fileexists),
    f("flatten", Exact(1), Deep, collection::flatten),
    f("floor", Exact(1), Deep, numeric::floor),
    f("format", AtLeast(1), Deep, format::format),
    f("formatlist", AtLeast(1), Deep, format::formatlist),
    f("indent", Exact(2), Deep, string::indent),
    f("index", Exact(2), Deep, collection::index),
    f("join", AtLeast(2), Deep, string::join),
    f("jsondecode", Exact(1), Deep, encoding::jsondecode),
    f("jsonencode", Exact(1), Deep, encoding::jsonencode),
    f("keys", Exact(1), Shallow, collection::keys),
    f("length", Exact(1), Shallow, collection::length),
    f("lookup", Between(2, 3), Shallow, collection::lookup),
    f("lower", Exact(1), Deep, string::lower),
    f("max", AtLeast(1), Deep, numeric::max),
    f("merge", AtLeast(0), Shallow, collection::merge),
    f("min", AtLeast(1), Deep, numeric::min),
    f("one", Exact(1), Shallow, collection::one),
    f("parseint", Exact(2), Deep, numeric::parseint),
    f("pow", Exact(2), Deep, numeric::pow),
    f("range", Between(1, 3), Deep, collection::range),
    f("replace", Exact(3), Deep, string::replace),
    f("reverse", Exact(1), Shallow, collection::reverse),
    f("sha256", Exact(1), Deep, encoding::sha256),
    f("sha512", Exact(1), Deep, encoding::sha512),
    f("signum", Exact(1), Deep, numeric::signum),
    f("slice", Exact(3), Shallow, collection::slice),
    f("sort", Exact(1), Deep, collection::sort),
    f("split", Exact(2), Deep, string::split),
    f("startswith", Exact(2), Deep, string::startswith),
    f("strcontains", Exact(2), Deep, string::strcontains),
    f("strrev", Exact(1), Deep, string::strrev),
    f("substr", Exact(3), Deep, string::substr),
    f("sum", Exact(1), Deep, numeric::sum),
    f("title", Exact(1), Deep, string::title),
    f("tobool", Exact(1), Deep, convert::tobool),
    f("tolist", Exact(1), Shallow, convert::tolist),
    f("tomap", Exact(1), Shallow, convert::tomap),
    f("tonumber", Exact(1), Deep, convert::tonumber),
    f("toset", Exact(1), Deep, convert::toset),
    f("tostring", Exact(1), Deep, convert::tostring),
    f("trim", Exact(2), Deep, string::trim),
    f("trimprefix", Exact(2), Deep, string::trimprefix),
    f("trimspace", Exact(1), Deep, string::trimspace),
    f("trimsuffix", Exact(2), Deep, string::trimsuffix),
    f("upper", Exact(1), Deep, string::upper),
    f("urlencode", Exact(1), Deep, string::urlencode),
    f("values", Exact(1), Shallow, collection::values),
    f("zipmap", Exact(2), Shallow, collection::zipmap),
    f("base64gzip", Exact(1), Deep, encoding::base64gzip),
    f("base64sha512", Exact(1), Deep, hash::base64sha512),
    f("bcrypt", Between(1, 2), Deep, impure::bcrypt),
    f("cidrhost", Exact(2), Deep, cidr::cidrhost),
    f("cidrnetmask", Exact(1), Deep, cidr::cidrnetmask),
    f("cidrsubnet", Exact(3), Deep, cidr::cidrsubnet),
    f("cidrsubnets", AtLeast(1), Deep, cidr::cidrsubnets),
    f("csvdecode", Exact(1), Deep, encoding::csvdecode),
    f("filebase64sha256", Exact(1), Deep, hash::filebase64sha256),
    f("filebase64sha512", Exact(1), Deep, hash::filebase64sha512),
    f("filemd5", Exact(1), Deep, hash::filemd5),
    f("fileset", Exact(2), Deep, filesystem::fileset),
    f("filesha1", Exact(1), Deep, hash::filesha1),
    f("filesha256", Exact(1), Deep, hash::filesha256),
    f("filesha512", Exact(1), Deep, hash::filesha512),
    f("formatdate", Exact(2), Deep, time::formatdate),
    f("log", Exact(2), Deep, numeric::log),
    f("matchkeys", Exact(3), Deep, set::matchkeys),
    f("md5", Exact(1), Deep, hash::md5),
    f("pathexpand", Exact(1), Deep, filesystem::pathexpand),
    f("plantimestamp", Exact(0), Deep, impure::plantimestamp),
    f("regex", Exact(2), Deep, regex::regex),
    f("regexall", Exact(2), Deep, regex::regexall),
    f("rsadecrypt", Exact(2), Deep, rsa_decrypt::rsadecrypt),
    f("setintersection", AtLeast(1), Deep, set::setintersection),
    f("setproduct", AtLeast(2), Deep, set::setproduct),
    f("setsubtract", Exact(2), Deep, set::setsubtract),
    f("setunion", AtLeast(1), Deep, set::setunion),
    f("sha1", Exact(1), Deep, hash::sha1),
    f(
        "textdecodebase64",
        Exact(2),
        Deep,
        encoding::textdecodebase64,
    ),
    f(
        "textencodebase64",
        Exact(2),
        Deep,
        encoding::textencodebase64,
    ),
    f("timeadd", Exact(2), Deep, time::timeadd),
    f("timecmp", Exact(2), Deep, time::timecmp),
    f("timestamp", Exact(0), Deep, impure::timestamp),
    f("transpose", Exact(1), Deep, set::transpose),
    f("uuid", Exact(0), Deep, impure::uuid),
    f("uuidv5", Exact(2), Deep, hash::uuidv5),
    f("yamldecode", Exact(1), Deep, yaml::yamldecode),
    f("yamlencode", Exact(1), Deep, yaml::yamlencode),
];

// ---------------------------------------------------------------------------------------------
// Argument access and conversion
// ---------------------------------------------------------------------------------------------

/// One call in progress: its arguments and how to report errors about them.
struct Call<'a> {
    ctx: &'a FunctionContext<'a>,
    name: &'static str,
    args: Vec<Value>,
}

impl Call<'_> {
    /// An error about argument `i` (0-based here, 1-based in the message).
    fn arg_error(&self, i: usize, message: impl Into<String>) -> FunctionError {
        FunctionError::Argument {
            name: self.name.to_string(),
            index: i + 1,
            message: message.into(),
        }
    }

    fn failed(&self, message: impl Into<String>) -> FunctionError {
        FunctionError::Failed {
            name: self.name.to_string(),
            message: message.into(),
        }
    }

    fn string(&self, i: usize) -> Result<String, FunctionError> {
        primitive_string(&self.args[i])
            .ok_or_else(|| self.arg_error(i, expected("string", &self.args[i])))
    }

    fn number(&self, i: usize) -> Result<TfNumber, FunctionError> {
        coerce_number(&self.args[i])
            .ok_or_else(|| self.arg_error(i, expected("number", &self.args[i])))
    }

    fn integer(&self, i: usize) -> Result<i64, FunctionError> {
        let n = self.number(i)?;
        n.to_i64()
            .ok_or_else(|| self.arg_error(i, format!("expected a whole number, got {n}")))
    }

    fn list(&self, i: usize) -> Result<&[Value], FunctionError> {
        self.args[i]
            .as_list()
            .ok_or_else(|| self.arg_error(i, expected("list", &self.args[i])))
    }

    fn map(&self, i: usize) -> Result<&braid_provider::ValueMap, FunctionError> {
        self.args[i]
            .as_map()
            .ok_or_else(|| self.arg_error(i, expected("object", &self.args[i])))
    }

    /// Element `j` of list argument `i` as a string.
    fn element_string(&self, i: usize, j: usize, v: &Value) -> Result<String, FunctionError> {
        primitive_string(v)
            .ok_or_else(|| self.arg_error(i, format!("element {j}: {}", expected("string", v))))
    }

    fn element_number(&self, i: usize, j: usize, v: &Value) -> Result<TfNumber, FunctionError> {
        coerce_number(v)
            .ok_or_else(|| self.arg_error(i, format!("element {j}: {}", expected("number", v))))
    }

    /// A numeric result, or the number error as this function's failure.
    fn number_value(&self, n: Result<TfNumber, NumberError>) -> Result<Value, FunctionError> {
        n.map(Value::Number).map_err(|e| self.failed(e.to_string()))
    }
}

/// "expected string, got list", quoting the value when it is a string that failed to convert.
fn expected(what: &str, got: &Value) -> String {
    match got {
        Value::String(s) => format!("expected {what}, got string {s:?}"),
        other => format!("expected {what}, got {}", other.kind()),
    }
}

/// The string form of a string, number or bool, as Terraform converts them.
fn primitive_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A number, or a string that parses as one (decimal, at 512 bits, as Terraform converts).
fn coerce_number(v: &Value) -> Option<TfNumber> {
    match v {
        Value::Number(n) => Some(n.clone()),
        Value::String(s) => TfNumber::parse(s).ok(),
        _ => None,
    }
}

fn coerce_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

/// Structural equality where `1` and `1.0` are the same number.
fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.equals(y),
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| values_equal(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, a)| y.get(k).is_some_and(|b| values_equal(a, b)))
        }
        _ => a == b,
    }
}

/// Equality after Terraform's conversion of one set's elements to the other's type, so that
/// `setintersection(["1", "2"], [1])` is `["1"]`.
fn loosely_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(_), Value::Number(_) | Value::Bool(_))
        | (Value::Number(_) | Value::Bool(_), Value::String(_)) => {
            primitive_string(a) == primitive_string(b)
        }
        _ => values_equal(a, b),
    }
}

/// A set as Terraform orders it: distinct values, strings sorted lexically and numbers
/// numerically; other element types keep their first-seen order.
fn ordered_set(items: &[Value]) -> Vec<Value> {
    let mut set = distinct_values(items);
    if set.iter().all(|v| matches!(v, Value::String(_))) {
        set.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    } else if set.iter().all(|v| matches!(v, Value::Number(_))) {
        set.sort_by(|a, b| match (a, b) {
            (Value::Number(x), Value::Number(y)) => x.cmp_value(y),
            _ => std::cmp::Ordering::Equal,
        });
    }
    set
}

/// The first occurrence of each value, in order.
fn distinct_values(items: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        if !out.iter().any(|seen| values_equal(seen, item)) {
            out.push(item.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests;
