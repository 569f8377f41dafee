//! The values templates work on, with Go's semantics: maps are shared references (Sprig's
//! `set` changes the map every holder sees), lists are values, numbers keep Go's two kinds
//! (values read from YAML are `float64`, as Helm reads them through JSON; literals and most
//! functions give integers), and printing follows `fmt`'s `%v`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;

/// How deep values may nest before copying, printing, comparing or encoding stops: a map
/// made to hold itself with `set` (Go's `encoding/json` reports such a cycle at depth 1000;
/// braid stops earlier, far beyond what values nest in charts).
pub const MAX_DEPTH: usize = 200;

/// A map as Go templates see `map[string]interface{}`: keys iterate in sorted order.
pub type Map = BTreeMap<String, Value>;

/// A template value.
#[derive(Clone, Default)]
pub enum Value {
    /// Go's nil (a missing map key, YAML `null`).
    #[default]
    Nil,
    /// `bool`.
    Bool(bool),
    /// Go's integer kinds (`int`, `int64`).
    Int(i64),
    /// `float64`.
    Float(f64),
    /// `string`.
    String(Rc<str>),
    /// `[]interface{}`.
    List(Rc<Vec<Value>>),
    /// `map[string]interface{}`, shared by reference.
    Map(Rc<RefCell<Map>>),
    /// A Go struct or a named type with methods (`.Release`, `.Chart`, `.Files`…).
    Object(Rc<Object>),
}

/// A Go struct value: fields by their Go names (and the JSON names `toYaml` uses), and the
/// methods of its type.
pub struct Object {
    /// The Go type, for `typeOf` and error messages (`*chart.Metadata`).
    pub type_name: &'static str,
    /// Fields in declaration order: Go name, JSON name (empty: left out of JSON), value.
    pub fields: Vec<(&'static str, &'static str, Value)>,
    /// What the type can do beyond its fields.
    pub kind: ObjectKind,
}

/// Types with methods or a special printed form.
pub enum ObjectKind {
    /// A plain struct.
    Plain,
    /// `.Files`: file path → content.
    Files(Rc<BTreeMap<String, Vec<u8>>>),
    /// `.Capabilities.APIVersions` (`Has`).
    ApiVersions(Rc<Vec<String>>),
    /// A struct whose `String()` method (on its pointer) gives this text: an action prints
    /// the text, a function argument sees the struct (`{v1.36.0 v1.36.0 1 36}`).
    Stringer(Rc<str>),
    /// A value braid cannot produce (a generated certificate): using it fails with this
    /// message.
    Unsupported(String),
    /// A pointer whose `String()` gives this text everywhere (`*semver.Version`).
    PointerStringer(Rc<str>),
    /// `time.Time`: Unix seconds and nanoseconds (UTC).
    Time(i64, u32),
}

impl Object {
    /// The field called `name` (Go name).
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|f| f.0 == name).map(|f| &f.2)
    }
}

impl Value {
    /// A string value.
    pub fn str(s: &str) -> Value {
        Value::String(Rc::from(s))
    }

    /// A string value from an owned string.
    pub fn string(s: String) -> Value {
        Value::String(Rc::from(s))
    }

    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(items))
    }

    /// A map value (a new reference).
    pub fn map(map: Map) -> Value {
        Value::Map(Rc::new(RefCell::new(map)))
    }

    /// Go's truth: false, 0, nil and empty strings, lists and maps are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.borrow().is_empty(),
            Value::Object(o) => match &o.kind {
                ObjectKind::Files(files) => !files.is_empty(),
                ObjectKind::ApiVersions(v) => !v.is_empty(),
                _ => true,
            },
        }
    }

    /// The Go type name, as `printf "%T"` and Sprig's `typeOf` give it.
    pub fn type_name(&self) -> String {
        match self {
            Value::Nil => "<nil>".to_string(),
            Value::Bool(_) => "bool".to_string(),
            Value::Int(_) => "int".to_string(),
            Value::Float(_) => "float64".to_string(),
            Value::String(_) => "string".to_string(),
            Value::List(_) => "[]interface {}".to_string(),
            Value::Map(_) => "map[string]interface {}".to_string(),
            Value::Object(o) => o.type_name.to_string(),
        }
    }

    /// The reflect kind, as Sprig's `kindOf` gives it.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Nil => "invalid",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::List(_) => "slice",
            Value::Map(_) => "map",
            Value::Object(o) => match o.kind {
                ObjectKind::Files(_) => "map",
                ObjectKind::ApiVersions(_) => "slice",
                _ => "ptr",
            },
        }
    }

    /// The string inside, when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Whether Sprig's `empty` holds (Go's zero value of the kind).
    pub fn is_empty(&self) -> bool {
        !self.truthy()
    }

    /// A deep copy: maps become new references. A structure nested deeper than
    /// [`MAX_DEPTH`] (a map made to hold itself with `set`) is cut there.
    pub fn deep_copy(&self) -> Value {
        self.deep_copy_at(0)
    }

    fn deep_copy_at(&self, depth: usize) -> Value {
        if depth > MAX_DEPTH {
            return Value::Nil;
        }
        match self {
            Value::List(l) => Value::list(l.iter().map(|v| v.deep_copy_at(depth + 1)).collect()),
            Value::Map(m) => Value::map(
                m.borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.deep_copy_at(depth + 1)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// `fmt.Sprint(v)`: Go's `%v`.
    pub fn to_go_string(&self) -> String {
        let mut out = String::new();
        self.write_go(&mut out);
        out
    }

    /// Writes `%v` of the value (nil as `<nil>`, strings bare).
    pub fn write_go(&self, out: &mut String) {
        self.write_go_at(out, 0);
    }

    fn write_go_at(&self, out: &mut String, depth: usize) {
        if depth > MAX_DEPTH {
            // Go would recurse until its stack limit; braid stops.
            out.push_str("...");
            return;
        }
        match self {
            Value::Nil => out.push_str("<nil>"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => out.push_str(&format_float_g(*f)),
            Value::String(s) => out.push_str(s),
            Value::List(l) => {
                out.push('[');
                for (i, item) in l.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    item.write_go_at(out, depth + 1);
                }
                out.push(']');
            }
            Value::Map(m) => {
                out.push_str("map[");
                for (i, (k, v)) in m.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(k);
                    out.push(':');
                    v.write_go_at(out, depth + 1);
                }
                out.push(']');
            }
            Value::Object(o) => match &o.kind {
                ObjectKind::Stringer(_) => {
                    out.push('{');
                    for (i, (_, _, v)) in o.fields.iter().enumerate() {
                        if i > 0 {
                            out.push(' ');
                        }
                        v.write_go_at(out, depth + 1);
                    }
                    out.push('}');
                }
                ObjectKind::ApiVersions(v) => {
                    out.push('[');
                    out.push_str(&v.join(" "));
                    out.push(']');
                }
                ObjectKind::Files(files) => {
                    out.push_str("map[");
                    for (i, (k, v)) in files.iter().enumerate() {
                        if i > 0 {
                            out.push(' ');
                        }
                        out.push_str(k);
                        out.push_str(":[");
                        let bytes: Vec<String> = v.iter().map(|b| b.to_string()).collect();
                        out.push_str(&bytes.join(" "));
                        out.push(']');
                    }
                    out.push(']');
                }
                ObjectKind::Time(secs, nanos) => {
                    out.push_str(&crate::funcs::time_string(*secs, *nanos))
                }
                ObjectKind::PointerStringer(text) => out.push_str(text),
                ObjectKind::Unsupported(_) | ObjectKind::Plain => {
                    out.push_str("&{");
                    for (i, (_, _, v)) in o.fields.iter().enumerate() {
                        if i > 0 {
                            out.push(' ');
                        }
                        v.write_go_at(out, depth + 1);
                    }
                    out.push('}');
                }
            },
        }
    }

    /// The value as JSON data (`toJson`, `toYaml`, schema validation): objects by their JSON
    /// field names, Go's `omitempty` left to the caller.
    pub fn to_json(&self) -> serde_json::Value {
        self.to_json_checked().unwrap_or(serde_json::Value::Null)
    }

    /// As [`to_json`](Value::to_json), or `None` for a structure nested deeper than
    /// [`MAX_DEPTH`] (Go's `json.Marshal` fails on it: "encountered a cycle").
    pub fn to_json_checked(&self) -> Option<serde_json::Value> {
        self.to_json_at(0)
    }

    fn to_json_at(&self, depth: usize) -> Option<serde_json::Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        Some(match self {
            Value::Nil => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::List(l) => serde_json::Value::Array(
                l.iter()
                    .map(|v| v.to_json_at(depth + 1))
                    .collect::<Option<_>>()?,
            ),
            Value::Map(m) => {
                let mut object = serde_json::Map::new();
                for (k, v) in m.borrow().iter() {
                    object.insert(k.clone(), v.to_json_at(depth + 1)?);
                }
                serde_json::Value::Object(object)
            }
            Value::Object(o) => match &o.kind {
                ObjectKind::ApiVersions(v) => serde_json::Value::Array(
                    v.iter()
                        .map(|s| serde_json::Value::String(s.clone()))
                        .collect(),
                ),
                ObjectKind::Files(files) => {
                    let mut object = serde_json::Map::new();
                    for (k, v) in files.iter() {
                        object.insert(k.clone(), serde_json::Value::String(base64_std(v)));
                    }
                    serde_json::Value::Object(object)
                }
                _ => {
                    let mut object = serde_json::Map::new();
                    for (_, json, v) in &o.fields {
                        if json.is_empty() || v.is_empty() {
                            continue;
                        }
                        object.insert(json.to_string(), v.to_json_at(depth + 1)?);
                    }
                    serde_json::Value::Object(object)
                }
            },
        })
    }

    /// A value from JSON data (numbers as Go's `encoding/json` decodes into `interface{}`:
    /// `float64`).
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
            serde_json::Value::String(s) => Value::str(s),
            serde_json::Value::Array(a) => Value::list(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => Value::map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::String(s) => write!(f, "{s:?}"),
            other => f.write_str(&other.to_go_string()),
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        self.eq_at(other, 0)
    }
}

impl Value {
    fn eq_at(&self, other: &Value, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.eq_at(y, depth + 1))
            }
            (Value::Map(a), Value::Map(b)) => {
                Rc::ptr_eq(a, b) || {
                    let (a, b) = (a.borrow(), b.borrow());
                    a.len() == b.len()
                        && a.iter()
                            .zip(b.iter())
                            .all(|((ka, va), (kb, vb))| ka == kb && va.eq_at(vb, depth + 1))
                }
            }
            (Value::Object(a), Value::Object(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }
}

fn base64_std(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The shortest decimal digits of `f` and its decimal exponent (the value is
/// `0.d1d2d3… × 10^exp`, as Go's `strconv` decimal: `dp`).
fn shortest_digits(f: f64) -> (String, i32) {
    // Rust's `{:e}` prints the shortest round-tripping digits: "1.2345e6".
    let text = format!("{:e}", f.abs());
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exponent: i32 = exponent.parse().unwrap_or(0);
    (digits, exponent + 1)
}

/// `strconv.FormatFloat(f, 'g', -1, 64)` — and so `fmt`'s `%v` of a `float64`: the shortest
/// digits, in exponent form when the decimal exponent is below -4 or at least 6 (`1e+06`,
/// Helm's well-known rendering of a large number read from values).
pub fn format_float_g(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if f == 0.0 {
        return format!("{sign}0");
    }
    let (digits, dp) = shortest_digits(f);
    let exp = dp - 1;
    // With the shortest digits, Go decides on the exponent form at precision 6.
    if !(-4..6).contains(&exp) {
        format!("{sign}{}", exponent_form(&digits, exp))
    } else {
        format!("{sign}{}", fixed_form(&digits, dp))
    }
}

/// `d.ddde±XX` (at least two exponent digits), as Go's `%e` with the shortest digits.
fn exponent_form(digits: &str, exp: i32) -> String {
    let mut out = String::new();
    out.push_str(&digits[..1]);
    if digits.len() > 1 {
        out.push('.');
        out.push_str(&digits[1..]);
    }
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        out.push('0');
    }
    let _ = write!(out, "{e}");
    out
}

/// Plain decimal notation of `0.digits × 10^dp`.
fn fixed_form(digits: &str, dp: i32) -> String {
    if dp <= 0 {
        format!("0.{}{}", "0".repeat(dp.unsigned_abs() as usize), digits)
    } else if dp as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(dp as usize - digits.len()))
    } else {
        format!("{}.{}", &digits[..dp as usize], &digits[dp as usize..])
    }
}

/// Go's `encoding/json` text of a `float64`: plain notation unless the magnitude is below
/// 1e-6 or at least 1e21, then `1e+21` / `1e-7` (exponent without padding).
pub fn format_float_json(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let abs = f.abs();
    let sign = if f < 0.0 { "-" } else { "" };
    let (digits, dp) = shortest_digits(f);
    if !(1e-6..1e21).contains(&abs) {
        let exp = dp - 1;
        let mut out = String::from(sign);
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(
            out,
            "e{}{}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
        out
    } else {
        format!("{sign}{}", fixed_form(&digits, dp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_go_prints_them() {
        let cases = [
            (1.0, "1"),
            (3.0, "3"),
            (100000.0, "100000"),
            (1000000.0, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (1.5, "1.5"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (123456.7, "123456.7"),
            (1e21, "1e+21"),
            (0.1, "0.1"),
        ];
        for (f, want) in cases {
            assert_eq!(format_float_g(f), want, "{f}");
        }
    }

    #[test]
    fn floats_in_json_as_encoding_json() {
        assert_eq!(format_float_json(1000000.0), "1000000");
        assert_eq!(format_float_json(1e21), "1e+21");
        assert_eq!(format_float_json(1e-7), "1e-7");
        assert_eq!(format_float_json(0.5), "0.5");
        assert_eq!(format_float_json(3.0), "3");
    }

    #[test]
    fn a_map_that_holds_itself_does_not_recurse_forever() {
        let m = Value::map(Map::new());
        if let Value::Map(inner) = &m {
            inner.borrow_mut().insert("self".into(), m.clone());
        }
        assert!(m.to_json_checked().is_none());
        assert!(m.to_go_string().contains("..."));
        let copy = m.deep_copy();
        assert!(matches!(copy, Value::Map(_)));
        let other = m.deep_copy();
        assert!(copy != other);
        // Break the cycle so the test does not leak.
        if let Value::Map(inner) = &m {
            inner.borrow_mut().clear();
        }
    }

    #[test]
    fn lists_and_maps_print_as_fmt() {
        let mut m = Map::new();
        m.insert("b".into(), Value::Int(2));
        m.insert("a".into(), Value::list(vec![Value::str("x"), Value::Nil]));
        assert_eq!(Value::map(m).to_go_string(), "map[a:[x <nil>] b:2]");
    }
}
