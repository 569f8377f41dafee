//! Sprig v3's functions as Helm registers them (without `env` and `expandenv`, which Helm
//! removes): strings, math, lists, dicts, defaults, encodings, hashes, regular expressions,
//! semantic versions, paths, types, dates and random values.

use std::rc::Rc;

use base64::Engine as _;
use sha2::Digest as _;

use super::{FuncError, FuncResult, arity, arity_at_least, strval, want_bool, want_int, want_str};
use crate::semver;
use crate::value::{Map, Value};

pub(super) fn call(name: &str, args: &[Value]) -> Option<FuncResult> {
    Some(match name {
        // Strings.
        "trim" => str1(name, args, |s| s.trim_matches(is_go_space).to_string()),
        "upper" => str1(name, args, |s| s.to_uppercase()),
        "lower" => str1(name, args, |s| s.to_lowercase()),
        "title" => str1(name, args, title),
        "untitle" => str1(name, args, untitle),
        "nospace" => str1(name, args, |s| {
            s.chars().filter(|c| !c.is_whitespace()).collect()
        }),
        "initials" => str1(name, args, |s| {
            s.split_whitespace()
                .filter_map(|w| w.chars().next())
                .collect()
        }),
        "swapcase" => str1(name, args, |s| {
            s.chars()
                .map(|c| {
                    if c.is_uppercase() {
                        c.to_lowercase().collect::<String>()
                    } else {
                        c.to_uppercase().collect::<String>()
                    }
                })
                .collect()
        }),
        "snakecase" => str1(name, args, |s| delimited_case(s, '_')),
        "kebabcase" => str1(name, args, |s| delimited_case(s, '-')),
        "camelcase" => str1(name, args, camel_case),
        "shuffle" => str1(name, args, |s| {
            let mut chars: Vec<char> = s.chars().collect();
            for i in (1..chars.len()).rev() {
                let j = (random_u64() % (i as u64 + 1)) as usize;
                chars.swap(i, j);
            }
            chars.into_iter().collect()
        }),
        "trimAll" | "trimall" => str2(name, args, |cut, s| {
            s.trim_matches(|c| cut.contains(c)).to_string()
        }),
        "trimPrefix" => str2(name, args, |p, s| {
            s.strip_prefix(p).unwrap_or(s).to_string()
        }),
        "trimSuffix" => str2(name, args, |p, s| {
            s.strip_suffix(p).unwrap_or(s).to_string()
        }),
        "contains" => bool2(name, args, |sub, s| s.contains(sub)),
        "hasPrefix" => bool2(name, args, |p, s| s.starts_with(p)),
        "hasSuffix" => bool2(name, args, |p, s| s.ends_with(p)),
        "trunc" => int_str(name, args, |c, s| {
            let len = s.len() as i64;
            if c < 0 && len + c > 0 {
                byte_slice(s, (len + c) as usize, s.len())
            } else if c >= 0 && len > c {
                byte_slice(s, 0, c as usize)
            } else {
                s.to_string()
            }
        }),
        "abbrev" => int_str(name, args, |w, s| abbreviate(s, w)),
        "repeat" => arity(name, args, 2).and_then(|_| {
            let n = want_int(&args[0])?;
            let s = want_str(&args[1])?;
            if n <= 0 {
                return Ok(Value::str(""));
            }
            if (n as u128) * (s.len() as u128) > MAX_TEXT as u128 {
                return Err(FuncError::Call(format!(
                    "repeat would make more than {} MiB",
                    MAX_TEXT / 1024 / 1024
                )));
            }
            Ok(Value::string(s.repeat(n as usize)))
        }),
        "indent" | "nindent" => arity(name, args, 2).and_then(|_| {
            let n = want_int(&args[0])?;
            let s = want_str(&args[1])?;
            let lines = s.matches('\n').count() as u128 + 1;
            if n.max(0) as u128 * lines + s.len() as u128 > MAX_TEXT as u128 {
                return Err(FuncError::Call(format!(
                    "{name} would make more than {} MiB",
                    MAX_TEXT / 1024 / 1024
                )));
            }
            let text = indent(n, s);
            Ok(Value::string(if name == "nindent" {
                format!("\n{text}")
            } else {
                text
            }))
        }),
        "wrap" => int_str(name, args, |n, s| wrap(s, n, "\n")),
        "wrapWith" => arity(name, args, 3).and_then(|_| {
            let n = want_int(&args[0])?;
            let sep = want_str(&args[1])?;
            let s = want_str(&args[2])?;
            Ok(Value::string(wrap(s, n, sep)))
        }),
        "substr" => arity(name, args, 3).and_then(|_| {
            let start = want_int(&args[0])?;
            let end = want_int(&args[1])?;
            let s = want_str(&args[2])?;
            let len = s.len() as i64;
            Ok(Value::string(if start < 0 {
                byte_slice(s, 0, end.clamp(0, len) as usize)
            } else if end < 0 || end > len {
                byte_slice(s, start.min(len) as usize, s.len())
            } else {
                byte_slice(s, start.min(end) as usize, end as usize)
            }))
        }),
        "abbrevboth" => arity(name, args, 3).and_then(|_| {
            let left = want_int(&args[0])?;
            let right = want_int(&args[1])?;
            let s = want_str(&args[2])?;
            Ok(Value::string(abbreviate_both(s, left, right)))
        }),
        "replace" => arity(name, args, 3).and_then(|_| {
            let old = want_str(&args[0])?;
            let new = want_str(&args[1])?;
            let s = want_str(&args[2])?;
            Ok(Value::string(if old.is_empty() {
                go_replace_empty(s, new)
            } else {
                s.replace(old, new)
            }))
        }),
        "plural" => arity(name, args, 3).and_then(|_| {
            let one = want_str(&args[0])?;
            let many = want_str(&args[1])?;
            let n = want_int(&args[2])?;
            Ok(Value::str(if n == 1 { one } else { many }))
        }),
        "quote" => Ok(Value::string(
            args.iter()
                .filter(|a| !matches!(a, Value::Nil))
                .map(|a| super::fmt::quote(&strval(a)))
                .collect::<Vec<_>>()
                .join(" "),
        )),
        "squote" => Ok(Value::string(
            args.iter()
                .filter(|a| !matches!(a, Value::Nil))
                .map(|a| format!("'{}'", strval(a)))
                .collect::<Vec<_>>()
                .join(" "),
        )),
        "cat" => Ok(Value::string(
            args.iter()
                .filter(|a| !matches!(a, Value::Nil))
                .map(strval)
                .collect::<Vec<_>>()
                .join(" "),
        )),
        "split" => str2_value(name, args, |sep, s| {
            let mut map = Map::new();
            for (i, part) in go_split(s, sep, -1).into_iter().enumerate() {
                map.insert(format!("_{i}"), Value::string(part));
            }
            Value::map(map)
        }),
        "splitList" => str2_value(name, args, |sep, s| {
            Value::list(
                go_split(s, sep, -1)
                    .into_iter()
                    .map(Value::string)
                    .collect(),
            )
        }),
        "splitn" => arity(name, args, 3).and_then(|_| {
            let sep = want_str(&args[0])?;
            let n = want_int(&args[1])?;
            let s = want_str(&args[2])?;
            let mut map = Map::new();
            for (i, part) in go_split(s, sep, n).into_iter().enumerate() {
                map.insert(format!("_{i}"), Value::string(part));
            }
            Ok(Value::map(map))
        }),
        "join" => arity(name, args, 2).and_then(|_| {
            let sep = want_str(&args[0])?;
            Ok(Value::string(strslice(&args[1]).join(sep)))
        }),
        "sortAlpha" => arity(name, args, 1).map(|_| {
            let mut items = match &args[0] {
                Value::List(_) => strslice(&args[0]),
                other => vec![strval(other)],
            };
            items.sort();
            Value::list(items.into_iter().map(Value::string).collect())
        }),
        "toString" => arity(name, args, 1).map(|_| Value::string(strval(&args[0]))),
        "toStrings" => arity(name, args, 1)
            .map(|_| Value::list(strslice(&args[0]).into_iter().map(Value::string).collect())),
        "toDecimal" => arity(name, args, 1)
            .map(|_| Value::Int(i64::from_str_radix(&strval(&args[0]), 8).unwrap_or(0))),
        "atoi" => arity(name, args, 1)
            .and_then(|_| want_str(&args[0]).map(|s| Value::Int(s.parse().unwrap_or(0)))),
        "int" | "int64" => arity(name, args, 1).map(|_| Value::Int(to_int64(&args[0]))),
        "float64" => arity(name, args, 1).map(|_| Value::Float(to_float64(&args[0]))),

        // Regular expressions (Go's RE2 syntax is what the regex crate reads).
        "regexMatch" | "mustRegexMatch" => arity(name, args, 2).and_then(|_| {
            let re = regex(want_str(&args[0])?)?;
            Ok(Value::Bool(re.is_match(want_str(&args[1])?)))
        }),
        "regexFind" | "mustRegexFind" => arity(name, args, 2).and_then(|_| {
            let re = regex(want_str(&args[0])?)?;
            Ok(Value::str(
                re.find(want_str(&args[1])?)
                    .map(|m| m.as_str())
                    .unwrap_or(""),
            ))
        }),
        "regexFindAll" | "mustRegexFindAll" => arity(name, args, 3).and_then(|_| {
            let re = regex(want_str(&args[0])?)?;
            let s = want_str(&args[1])?;
            let n = want_int(&args[2])?;
            let found = re.find_iter(s).map(|m| Value::str(m.as_str()));
            Ok(Value::list(if n < 0 {
                found.collect()
            } else {
                found.take(n as usize).collect()
            }))
        }),
        "regexReplaceAll" | "mustRegexReplaceAll" => arity(name, args, 3).and_then(|_| {
            let re = regex(want_str(&args[0])?)?;
            Ok(Value::string(
                re.replace_all(want_str(&args[1])?, want_str(&args[2])?)
                    .into_owned(),
            ))
        }),
        "regexReplaceAllLiteral" | "mustRegexReplaceAllLiteral" => {
            arity(name, args, 3).and_then(|_| {
                let re = regex(want_str(&args[0])?)?;
                Ok(Value::string(
                    re.replace_all(want_str(&args[1])?, regex::NoExpand(want_str(&args[2])?))
                        .into_owned(),
                ))
            })
        }
        "regexSplit" | "mustRegexSplit" => arity(name, args, 3).and_then(|_| {
            let re = regex(want_str(&args[0])?)?;
            let s = want_str(&args[1])?;
            let n = want_int(&args[2])?;
            let parts: Vec<Value> = if n < 0 {
                re.split(s).map(Value::str).collect()
            } else {
                re.splitn(s, n as usize).map(Value::str).collect()
            };
            Ok(Value::list(parts))
        }),
        "regexQuoteMeta" => str1(name, args, regex::escape),

        // Math (integers as int64, `…f` variants as float64).
        "add" => Ok(Value::Int(
            args.iter().map(to_int64).fold(0i64, i64::wrapping_add),
        )),
        "add1" => arity(name, args, 1).map(|_| Value::Int(to_int64(&args[0]).wrapping_add(1))),
        "sub" => arity(name, args, 2)
            .map(|_| Value::Int(to_int64(&args[0]).wrapping_sub(to_int64(&args[1])))),
        "mul" => arity_at_least(name, args, 1)
            .map(|_| Value::Int(args.iter().map(to_int64).fold(1i64, i64::wrapping_mul))),
        "div" => arity(name, args, 2).and_then(|_| {
            let b = to_int64(&args[1]);
            if b == 0 {
                return Err(FuncError::Call(
                    "runtime error: integer divide by zero".to_string(),
                ));
            }
            Ok(Value::Int(to_int64(&args[0]).wrapping_div(b)))
        }),
        "mod" => arity(name, args, 2).and_then(|_| {
            let b = to_int64(&args[1]);
            if b == 0 {
                return Err(FuncError::Call(
                    "runtime error: integer divide by zero".to_string(),
                ));
            }
            Ok(Value::Int(to_int64(&args[0]).wrapping_rem(b)))
        }),
        "max" | "biggest" => arity_at_least(name, args, 1)
            .map(|_| Value::Int(args.iter().map(to_int64).max().unwrap_or(0))),
        "min" => arity_at_least(name, args, 1)
            .map(|_| Value::Int(args.iter().map(to_int64).min().unwrap_or(0))),
        // Sprig computes these in decimal (shopspring/decimal), then converts to float64.
        "addf" => Ok(Value::Float(decimal_fold(
            0.0,
            args,
            Decimal::add,
            |a, b| a + b,
        ))),
        "add1f" => arity(name, args, 1).map(|_| {
            Value::Float(decimal_fold(
                to_float64(&args[0]),
                &[Value::Float(1.0)],
                Decimal::add,
                |a, b| a + b,
            ))
        }),
        "subf" => arity_at_least(name, args, 1).map(|_| {
            Value::Float(decimal_fold(
                to_float64(&args[0]),
                &args[1..],
                Decimal::sub,
                |a, b| a - b,
            ))
        }),
        "mulf" => arity_at_least(name, args, 1)
            .map(|_| Value::Float(decimal_fold(1.0, args, Decimal::mul, |a, b| a * b))),
        "divf" => arity_at_least(name, args, 1).and_then(|_| {
            if args[1..].iter().any(|a| to_float64(a) == 0.0) {
                return Err(FuncError::Call("decimal division by 0".to_string()));
            }
            Ok(Value::Float(decimal_fold(
                to_float64(&args[0]),
                &args[1..],
                Decimal::div,
                |a, b| a / b,
            )))
        }),
        "maxf" => arity_at_least(name, args, 1)
            .map(|_| Value::Float(args.iter().map(to_float64).fold(f64::MIN, f64::max))),
        "minf" => arity_at_least(name, args, 1)
            .map(|_| Value::Float(args.iter().map(to_float64).fold(f64::MAX, f64::min))),
        "floor" => arity(name, args, 1).map(|_| Value::Float(to_float64(&args[0]).floor())),
        "ceil" => arity(name, args, 1).map(|_| Value::Float(to_float64(&args[0]).ceil())),
        "round" => arity_at_least(name, args, 2).and_then(|_| {
            let p = want_int(&args[1])?;
            let half = args.get(2).map(to_float64).unwrap_or(0.5);
            let f = to_float64(&args[0]);
            let pow = 10f64.powi(p as i32);
            let digit = pow * f;
            let (int, frac) = (digit.trunc(), digit.fract());
            let rounded = if frac >= half { int + 1.0 } else { int };
            Ok(Value::Float(rounded / pow))
        }),
        "until" => arity(name, args, 1).and_then(|_| {
            let n = want_int(&args[0])?;
            let step = if n < 0 { -1 } else { 1 };
            Ok(Value::list(until_step(0, n, step)?))
        }),
        "untilStep" => arity(name, args, 3).and_then(|_| {
            Ok(Value::list(until_step(
                want_int(&args[0])?,
                want_int(&args[1])?,
                want_int(&args[2])?,
            )?))
        }),
        "seq" => seq(args),
        "randInt" => arity(name, args, 2).and_then(|_| {
            let (lo, hi) = (want_int(&args[0])?, want_int(&args[1])?);
            if hi <= lo {
                return Err(FuncError::Call("invalid argument to Intn".to_string()));
            }
            Ok(Value::Int(lo + (random_u64() % (hi - lo) as u64) as i64))
        }),

        // Defaults and flow.
        "default" => arity_at_least(name, args, 1).map(|_| match args.get(1) {
            Some(given) if given.truthy() => given.clone(),
            _ => args[0].clone(),
        }),
        "empty" => arity(name, args, 1).map(|_| Value::Bool(!args[0].truthy())),
        "coalesce" => Ok(args
            .iter()
            .find(|a| a.truthy())
            .cloned()
            .unwrap_or(Value::Nil)),
        "all" => Ok(Value::Bool(args.iter().all(Value::truthy))),
        "any" => Ok(Value::Bool(args.iter().any(Value::truthy))),
        "ternary" => arity(name, args, 3).and_then(|_| {
            Ok(if want_bool(&args[2])? {
                args[0].clone()
            } else {
                args[1].clone()
            })
        }),
        "deepCopy" | "mustDeepCopy" => arity(name, args, 1).map(|_| args[0].deep_copy()),

        // Lists.
        "list" | "tuple" => Ok(Value::list(args.to_vec())),
        "first" | "mustFirst" => list_op(name, args, |l| l.first().cloned().unwrap_or(Value::Nil)),
        "last" | "mustLast" => list_op(name, args, |l| l.last().cloned().unwrap_or(Value::Nil)),
        "rest" | "mustRest" => list_op(name, args, |l| {
            Value::list(l.iter().skip(1).cloned().collect())
        }),
        "initial" | "mustInitial" => list_op(name, args, |l| {
            Value::list(l[..l.len().saturating_sub(1)].to_vec())
        }),
        "reverse" | "mustReverse" => list_op(name, args, |l| {
            Value::list(l.iter().rev().cloned().collect())
        }),
        "uniq" | "mustUniq" => list_op(name, args, |l| {
            let mut out: Vec<Value> = Vec::new();
            for item in l {
                if !out.iter().any(|o| o == item) {
                    out.push(item.clone());
                }
            }
            Value::list(out)
        }),
        "compact" | "mustCompact" => list_op(name, args, |l| {
            Value::list(l.iter().filter(|v| v.truthy()).cloned().collect())
        }),
        "append" | "push" | "mustAppend" | "mustPush" => arity(name, args, 2).and_then(|_| {
            let mut items = list_of(name, &args[0])?;
            items.push(args[1].clone());
            Ok(Value::list(items))
        }),
        "prepend" | "mustPrepend" => arity(name, args, 2).and_then(|_| {
            let mut items = list_of(name, &args[0])?;
            items.insert(0, args[1].clone());
            Ok(Value::list(items))
        }),
        "concat" => (|| {
            let mut items = Vec::new();
            for arg in args {
                items.extend(list_of(name, arg)?);
            }
            Ok(Value::list(items))
        })(),
        "without" | "mustWithout" => arity_at_least(name, args, 1).and_then(|_| {
            let items = list_of(name, &args[0])?;
            Ok(Value::list(
                items
                    .into_iter()
                    .filter(|i| !args[1..].contains(i))
                    .collect(),
            ))
        }),
        "has" | "mustHas" => arity(name, args, 2).and_then(|_| match &args[1] {
            Value::Nil => Ok(Value::Bool(false)),
            haystack => Ok(Value::Bool(list_of(name, haystack)?.contains(&args[0]))),
        }),
        "slice" | "mustSlice" => arity_at_least(name, args, 1).and_then(|_| {
            let items = match &args[0] {
                Value::List(l) => l.to_vec(),
                other => {
                    return Err(FuncError::Call(format!(
                        "list should be type of slice or array but {}",
                        other.kind_name()
                    )));
                }
            };
            let len = items.len();
            let start = args
                .get(1)
                .map(|v| to_int64(v).max(0) as usize)
                .unwrap_or(0);
            let end = args
                .get(2)
                .map(|v| to_int64(v).max(0) as usize)
                .unwrap_or(len);
            if start > end || end > len {
                return Err(FuncError::Call(format!(
                    "runtime error: slice bounds out of range [{start}:{end}]"
                )));
            }
            Ok(Value::list(items[start..end].to_vec()))
        }),
        "chunk" | "mustChunk" => arity(name, args, 2).and_then(|_| {
            let size = want_int(&args[0])?.max(1) as usize;
            let items = list_of(name, &args[1])?;
            Ok(Value::list(
                items
                    .chunks(size)
                    .map(|c| Value::list(c.to_vec()))
                    .collect(),
            ))
        }),

        // Dicts.
        "dict" => {
            let mut map = Map::new();
            for pair in args.chunks(2) {
                let key = strval(&pair[0]);
                map.insert(key, pair.get(1).cloned().unwrap_or_else(|| Value::str("")));
            }
            Ok(Value::map(map))
        }
        "get" => arity(name, args, 2).and_then(|_| {
            let map = want_map(&args[0])?;
            let key = want_str(&args[1])?;
            let found = map.borrow().get(key).cloned();
            Ok(found.unwrap_or_else(|| Value::str("")))
        }),
        "set" => arity(name, args, 3).and_then(|_| {
            let map = want_map(&args[0])?;
            let key = want_str(&args[1])?;
            map.borrow_mut().insert(key.to_string(), args[2].clone());
            Ok(args[0].clone())
        }),
        "unset" => arity(name, args, 2).and_then(|_| {
            let map = want_map(&args[0])?;
            let key = want_str(&args[1])?;
            map.borrow_mut().remove(key);
            Ok(args[0].clone())
        }),
        "hasKey" => arity(name, args, 2).and_then(|_| {
            let map = want_map(&args[0])?;
            let key = want_str(&args[1])?;
            let has = map.borrow().contains_key(key);
            Ok(Value::Bool(has))
        }),
        "pluck" => arity_at_least(name, args, 1).and_then(|_| {
            let key = want_str(&args[0])?;
            let mut out = Vec::new();
            for d in &args[1..] {
                if let Some(v) = want_map(d)?.borrow().get(key) {
                    out.push(v.clone());
                }
            }
            Ok(Value::list(out))
        }),
        "keys" => (|| {
            let mut out = Vec::new();
            for d in args {
                out.extend(want_map(d)?.borrow().keys().map(|k| Value::str(k)));
            }
            Ok(Value::list(out))
        })(),
        "values" => arity(name, args, 1).and_then(|_| {
            Ok(Value::list(
                want_map(&args[0])?.borrow().values().cloned().collect(),
            ))
        }),
        "pick" => arity_at_least(name, args, 1).and_then(|_| {
            let map = want_map(&args[0])?;
            let mut out = Map::new();
            for key in &args[1..] {
                let key = want_str(key)?;
                if let Some(v) = map.borrow().get(key) {
                    out.insert(key.to_string(), v.clone());
                }
            }
            Ok(Value::map(out))
        }),
        "omit" => arity_at_least(name, args, 1).and_then(|_| {
            let map = want_map(&args[0])?;
            let mut omit = Vec::new();
            for key in &args[1..] {
                omit.push(want_str(key)?.to_string());
            }
            let out: Map = map
                .borrow()
                .iter()
                .filter(|(k, _)| !omit.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            Ok(Value::map(out))
        }),
        "dig" => arity_at_least(name, args, 3).and_then(|_| {
            let map = want_map(&args[args.len() - 1])?.clone();
            let default = args[args.len() - 2].clone();
            let mut current = Value::Map(map);
            for key in &args[..args.len() - 2] {
                let key = want_str(key)?;
                let next = match &current {
                    Value::Map(m) => m.borrow().get(key).cloned(),
                    _ => None,
                };
                match next {
                    Some(v) => current = v,
                    None => return Ok(default),
                }
            }
            Ok(current)
        }),
        "merge" | "mustMerge" => arity_at_least(name, args, 1).and_then(|_| {
            let dst = want_map(&args[0])?;
            for src in &args[1..] {
                let src = want_map(src)?;
                let src = src.borrow().clone();
                merge_into(&mut dst.borrow_mut(), &src, false);
            }
            Ok(args[0].clone())
        }),
        "mergeOverwrite" | "mustMergeOverwrite" => arity_at_least(name, args, 1).and_then(|_| {
            let dst = want_map(&args[0])?;
            for src in &args[1..] {
                let src = want_map(src)?;
                let src = src.borrow().clone();
                merge_into(&mut dst.borrow_mut(), &src, true);
            }
            Ok(args[0].clone())
        }),

        // Encodings and hashes.
        "b64enc" => str1(name, args, |s| {
            base64::engine::general_purpose::STANDARD.encode(s)
        }),
        "b64dec" => str1(
            name,
            args,
            |s| match base64::engine::general_purpose::STANDARD.decode(s) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(e) => e.to_string(),
            },
        ),
        "b32enc" => str1(name, args, |s| base32_encode(s.as_bytes())),
        "b32dec" => str1(name, args, |s| {
            base32_decode(s)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_else(|e| e)
        }),
        "sha1sum" => str1(name, args, |s| hex(&sha1::Sha1::digest(s.as_bytes()))),
        "sha256sum" => str1(name, args, |s| hex(&sha2::Sha256::digest(s.as_bytes()))),
        "sha512sum" => str1(name, args, |s| hex(&sha2::Sha512::digest(s.as_bytes()))),
        "adler32sum" => str1(name, args, |s| adler32(s.as_bytes()).to_string()),

        // Semantic versions.
        "semverCompare" => arity(name, args, 2).and_then(|_| {
            let constraint = want_str(&args[0])?;
            let version = want_str(&args[1])?;
            semver::compare(constraint, version)
                .map(Value::Bool)
                .map_err(FuncError::Call)
        }),
        "semver" => arity(name, args, 1)
            .and_then(|_| semver::version_value(want_str(&args[0])?).map_err(FuncError::Call)),

        // Paths (forward slashes, as `path`).
        "base" => str1(name, args, path_base),
        "dir" => str1(name, args, path_dir),
        "clean" => str1(name, args, path_clean),
        "ext" => str1(name, args, |s| {
            let base = s.rsplit('/').next().unwrap_or(s);
            base.rfind('.')
                .map(|i| base[i..].to_string())
                .unwrap_or_default()
        }),
        "isAbs" => arity(name, args, 1)
            .and_then(|_| want_str(&args[0]).map(|s| Value::Bool(s.starts_with('/')))),

        // Types.
        "typeOf" => arity(name, args, 1).map(|_| Value::string(args[0].type_name())),
        "kindOf" => arity(name, args, 1).map(|_| Value::str(args[0].kind_name())),
        "typeIs" => arity(name, args, 2)
            .and_then(|_| Ok(Value::Bool(want_str(&args[0])? == args[1].type_name()))),
        "typeIsLike" => arity(name, args, 2).and_then(|_| {
            let t = want_str(&args[0])?;
            let actual = args[1].type_name();
            Ok(Value::Bool(t == actual || t == format!("*{actual}")))
        }),
        "kindIs" => arity(name, args, 2)
            .and_then(|_| Ok(Value::Bool(want_str(&args[0])? == args[1].kind_name()))),
        "deepEqual" => arity(name, args, 2).map(|_| Value::Bool(args[0] == args[1])),

        // URLs.
        "urlParse" => arity(name, args, 1).and_then(|_| want_str(&args[0]).map(url_parse)),
        "urlJoin" => arity(name, args, 1)
            .and_then(|_| want_map(&args[0]).map(|m| Value::string(url_join(&m.borrow())))),

        // Random values and time: not reproducible, so not part of any comparison.
        "randAlphaNum" => rand_string(
            name,
            args,
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        ),
        "randAlpha" => rand_string(
            name,
            args,
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
        ),
        "randNumeric" => rand_string(name, args, "0123456789"),
        "randAscii" => rand_string(
            name,
            args,
            "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
        ),
        "uuidv4" => arity(name, args, 0).map(|_| {
            let (a, b) = (random_u64(), random_u64());
            Value::string(format!(
                "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                a >> 32,
                (a >> 16) & 0xffff,
                a & 0x0fff,
                0x8000 | (b >> 48) & 0x3fff,
                b & 0xffff_ffff_ffff
            ))
        }),

        // Functions Helm removes, and crypto generators braid does not offer.
        "env" | "expandenv" => return None,
        "genCA"
        | "genCAWithKey"
        | "genSelfSignedCert"
        | "genSelfSignedCertWithKey"
        | "genSignedCert"
        | "genSignedCertWithKey"
        | "buildCustomCert" => Ok(Value::Object(Rc::new(crate::value::Object {
            type_name: "sprig.certificate",
            fields: Vec::new(),
            kind: crate::value::ObjectKind::Unsupported(format!(
                "braid does not implement {name}: it makes a new certificate on every render, so every plan would replace it; create the certificate outside the chart (cert-manager, a Secret) and pass it in values"
            )),
        }))),
        "derivePassword" => arity(name, args, 5).and_then(|_| {
            let counter = to_int64(&args[0]) as u32;
            Ok(Value::string(crate::mpw::derive_password(
                counter,
                want_str(&args[1])?,
                want_str(&args[2])?,
                want_str(&args[3])?,
                want_str(&args[4])?,
            )))
        }),
        "genPrivateKey" | "htpasswd" | "bcrypt" | "encryptAES" | "decryptAES" | "randBytes"
        | "getHostByName" => Err(FuncError::Call(format!(
            "braid does not implement {name}: its result changes on every render (or needs the network), so every plan would differ; make the value outside the chart and pass it in values"
        ))),
        _ => return None,
    })
}

/// A decimal `mantissa × 10^exponent`, as shopspring/decimal computes (exactly, divisions
/// rounded half up to 16 places); `None` once it no longer fits.
#[derive(Clone, Copy)]
struct Decimal {
    mantissa: i128,
    exponent: i32,
}

impl Decimal {
    /// The shortest decimal that reads back as `f` (shopspring's `NewFromFloat`).
    fn from_f64(f: f64) -> Option<Decimal> {
        if !f.is_finite() {
            return None;
        }
        let text = format!("{:e}", f);
        let (mantissa, exponent) = text.split_once('e')?;
        let exponent: i32 = exponent.parse().ok()?;
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits = format!("{int}{frac}");
        Some(Decimal {
            mantissa: digits.parse().ok()?,
            exponent: exponent - frac.len() as i32,
        })
    }

    fn rescale(self, exponent: i32) -> Option<i128> {
        let shift = self.exponent.checked_sub(exponent)?;
        if shift < 0 {
            return None;
        }
        self.mantissa.checked_mul(10i128.checked_pow(shift as u32)?)
    }

    fn add(a: Decimal, b: Decimal) -> Option<Decimal> {
        let exponent = a.exponent.min(b.exponent);
        Some(Decimal {
            mantissa: a.rescale(exponent)?.checked_add(b.rescale(exponent)?)?,
            exponent,
        })
    }

    fn sub(a: Decimal, b: Decimal) -> Option<Decimal> {
        Decimal::add(
            a,
            Decimal {
                mantissa: b.mantissa.checked_neg()?,
                exponent: b.exponent,
            },
        )
    }

    fn mul(a: Decimal, b: Decimal) -> Option<Decimal> {
        Some(Decimal {
            mantissa: a.mantissa.checked_mul(b.mantissa)?,
            exponent: a.exponent.checked_add(b.exponent)?,
        })
    }

    fn div(a: Decimal, b: Decimal) -> Option<Decimal> {
        if b.mantissa == 0 {
            return None;
        }
        // a/b to 17 places, then rounded half up (away from zero) to 16.
        let places = 17;
        let shift = places + a.exponent - b.exponent;
        let (numerator, denominator) = if shift >= 0 {
            (
                a.mantissa.checked_mul(10i128.checked_pow(shift as u32)?)?,
                b.mantissa,
            )
        } else {
            (
                a.mantissa,
                b.mantissa
                    .checked_mul(10i128.checked_pow((-shift) as u32)?)?,
            )
        };
        let q = numerator / denominator;
        let rounded = if q.rem_euclid(10) >= 5 && q >= 0 || (q < 0 && (-q) % 10 >= 5) {
            q / 10 + q.signum()
        } else {
            q / 10
        };
        Some(Decimal {
            mantissa: rounded,
            exponent: -(places - 1),
        })
    }

    fn to_f64(self) -> f64 {
        format!("{}e{}", self.mantissa, self.exponent)
            .parse()
            .unwrap_or(f64::NAN)
    }
}

/// Folds `args` into `start` with a decimal operation (`float` when a value does not fit).
fn decimal_fold(
    start: f64,
    args: &[Value],
    op: fn(Decimal, Decimal) -> Option<Decimal>,
    float: fn(f64, f64) -> f64,
) -> f64 {
    let exact = (|| {
        let mut acc = Decimal::from_f64(start)?;
        for arg in args {
            acc = op(acc, Decimal::from_f64(to_float64(arg))?)?;
        }
        Some(acc.to_f64())
    })();
    exact.unwrap_or_else(|| args.iter().map(to_float64).fold(start, float))
}

fn is_go_space(c: char) -> bool {
    c.is_whitespace()
}

fn str1(name: &str, args: &[Value], f: impl Fn(&str) -> String) -> FuncResult {
    arity(name, args, 1)?;
    Ok(Value::string(f(want_str(&args[0])?)))
}

fn str2(name: &str, args: &[Value], f: impl Fn(&str, &str) -> String) -> FuncResult {
    arity(name, args, 2)?;
    Ok(Value::string(f(want_str(&args[0])?, want_str(&args[1])?)))
}

fn str2_value(name: &str, args: &[Value], f: impl Fn(&str, &str) -> Value) -> FuncResult {
    arity(name, args, 2)?;
    Ok(f(want_str(&args[0])?, want_str(&args[1])?))
}

fn bool2(name: &str, args: &[Value], f: impl Fn(&str, &str) -> bool) -> FuncResult {
    arity(name, args, 2)?;
    Ok(Value::Bool(f(want_str(&args[0])?, want_str(&args[1])?)))
}

fn int_str(name: &str, args: &[Value], f: impl Fn(i64, &str) -> String) -> FuncResult {
    arity(name, args, 2)?;
    Ok(Value::string(f(want_int(&args[0])?, want_str(&args[1])?)))
}

fn list_op(name: &str, args: &[Value], f: impl Fn(&[Value]) -> Value) -> FuncResult {
    arity(name, args, 1)?;
    let items = list_of(name, &args[0])?;
    Ok(f(&items))
}

fn list_of(name: &str, value: &Value) -> Result<Vec<Value>, FuncError> {
    match value {
        Value::List(l) => Ok(l.to_vec()),
        Value::Nil => Err(FuncError::Call(
            "runtime error: invalid memory address or nil pointer dereference".to_string(),
        )),
        other => Err(FuncError::Call(format!(
            "Cannot find {} on type {}",
            name.trim_start_matches("must").to_lowercase(),
            other.kind_name()
        ))),
    }
}

fn want_map(value: &Value) -> Result<&Rc<std::cell::RefCell<Map>>, FuncError> {
    match value {
        Value::Map(m) => Ok(m),
        other => Err(super::wrong_type("map[string]interface {}", other)),
    }
}

/// mergo's `Merge` (`overwrite` false: fills what `dst` lacks or holds empty) and
/// `WithOverride` (`overwrite`: `src` wins), maps merged key by key.
pub(crate) fn merge_into(dst: &mut Map, src: &Map, overwrite: bool) {
    merge_into_at(dst, src, overwrite, 0);
}

fn merge_into_at(dst: &mut Map, src: &Map, overwrite: bool, depth: usize) {
    if depth > crate::value::MAX_DEPTH {
        return;
    }
    for (key, src_value) in src {
        if matches!(src_value, Value::Nil) {
            if overwrite {
                dst.insert(key.clone(), Value::Nil);
            }
            continue;
        }
        match (dst.get(key), src_value) {
            (Some(Value::Map(d)), Value::Map(s)) => {
                if Rc::ptr_eq(d, s) {
                    continue;
                }
                let s = s.borrow().clone();
                merge_into_at(&mut d.borrow_mut(), &s, overwrite, depth + 1);
            }
            (Some(existing), _) if existing.truthy() && !overwrite => {}
            (None, Value::Map(s)) => {
                // mergo copies the map reference.
                dst.insert(key.clone(), Value::Map(s.clone()));
            }
            _ => {
                dst.insert(key.clone(), src_value.clone());
            }
        }
    }
}

/// Sprig's `strslice`: a list's items as strings (nils left out), anything else as one.
fn strslice(value: &Value) -> Vec<String> {
    match value {
        Value::List(items) => items
            .iter()
            .filter(|v| !matches!(v, Value::Nil))
            .map(strval)
            .collect(),
        Value::Nil => Vec::new(),
        other => vec![strval(other)],
    }
}

/// spf13/cast's `ToInt64`: floats truncated, strings parsed (base prefixes, "1.0"), else 0.
pub(crate) fn to_int64(value: &Value) -> i64 {
    match value {
        Value::Int(i) => *i,
        // amd64 turns a float outside int64's range into its smallest value.
        Value::Float(f) => {
            if f.is_nan() || *f >= 9_223_372_036_854_775_808.0 || *f < -9_223_372_036_854_775_808.0
            {
                i64::MIN
            } else {
                *f as i64
            }
        }
        Value::Bool(b) => *b as i64,
        Value::String(s) => {
            let s = s.trim();
            let s = match s.split_once('.') {
                Some((int, frac)) if frac.chars().all(|c| c == '0') => int,
                _ => s,
            };
            if let Some(crate::template::parse::Number::Int(i)) =
                crate::template::parse::parse_number(s)
            {
                i
            } else {
                0
            }
        }
        _ => 0,
    }
}

/// spf13/cast's `ToFloat64`.
pub(crate) fn to_float64(value: &Value) -> f64 {
    match value {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => *b as i64 as f64,
        Value::String(s) => s.trim().parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// The most text one function call may make.
const MAX_TEXT: usize = 64 * 1024 * 1024;

/// The most items `until`, `untilStep` and `seq` make.
const MAX_ITEMS: i128 = 1_000_000;

fn until_step(start: i64, stop: i64, step: i64) -> Result<Vec<Value>, FuncError> {
    let mut out = Vec::new();
    if step == 0 {
        return Ok(out);
    }
    if (stop as i128 - start as i128) / step as i128 > MAX_ITEMS {
        return Err(FuncError::Call(format!(
            "more than {MAX_ITEMS} numbers asked for"
        )));
    }
    let mut i = start;
    if step > 0 {
        while i < stop {
            out.push(Value::Int(i));
            i += step;
        }
    } else {
        while i > stop {
            out.push(Value::Int(i));
            i += step;
        }
    }
    Ok(out)
}

fn seq(args: &[Value]) -> FuncResult {
    let mut params = Vec::new();
    for a in args {
        params.push(want_int(a)?);
    }
    let (start, end, step) = match params.as_slice() {
        [] => return Ok(Value::str("")),
        [end] => (1, *end, if *end >= 1 { 1 } else { -1 }),
        [start, end] => (*start, *end, if end >= start { 1 } else { -1 }),
        [start, step, end] => {
            if (*end > *start && *step <= 0) || (*end < *start && *step >= 0) || *step == 0 {
                return Ok(Value::str(""));
            }
            (*start, *end, *step)
        }
        _ => return Err(FuncError::Call("seq: too many arguments".to_string())),
    };
    if (end as i128 - start as i128) / step as i128 > MAX_ITEMS {
        return Err(FuncError::Call(format!(
            "more than {MAX_ITEMS} numbers asked for"
        )));
    }
    let mut parts = Vec::new();
    let mut i = start;
    if step > 0 {
        while i <= end {
            parts.push(i.to_string());
            i += step;
        }
    } else {
        while i >= end {
            parts.push(i.to_string());
            i += step;
        }
    }
    Ok(Value::string(parts.join(" ")))
}

fn byte_slice(s: &str, start: usize, end: usize) -> String {
    String::from_utf8_lossy(&s.as_bytes()[start.min(s.len())..end.min(s.len())]).into_owned()
}

fn indent(n: i64, s: &str) -> String {
    let pad = " ".repeat(n.max(0) as usize);
    format!("{pad}{}", s.replace('\n', &format!("\n{pad}")))
}

/// Go's `strings.Replace` with an empty `old`: `new` between every character.
fn go_replace_empty(s: &str, new: &str) -> String {
    let mut out = String::from(new);
    for c in s.chars() {
        out.push(c);
        out.push_str(new);
    }
    out
}

/// `strings.SplitN` (`n` < 0: all).
fn go_split(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if sep.is_empty() {
        let chars: Vec<String> = s.chars().map(String::from).collect();
        if n > 0 && chars.len() > n as usize {
            let mut head: Vec<String> = chars[..n as usize - 1].to_vec();
            head.push(chars[n as usize - 1..].concat());
            return head;
        }
        return chars;
    }
    if n < 0 {
        s.split(sep).map(str::to_string).collect()
    } else {
        s.splitn(n as usize, sep).map(str::to_string).collect()
    }
}

/// Go's `strings.Title`: the first letter of every word upper-cased.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = is_title_separator(c);
    }
    out
}

fn is_title_separator(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if c.is_alphanumeric() {
        return false;
    }
    c.is_whitespace()
}

fn untitle(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_space = true;
    for c in s.chars() {
        if prev_space {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
        prev_space = c.is_whitespace();
    }
    out
}

/// huandu/xstrings' `ToSnakeCase`/`ToKebabCase`: words split at case changes and
/// non-alphanumerics, lower-cased, joined by `delimiter`.
fn delimited_case(s: &str, delimiter: char) -> String {
    let words = words_of(s);
    words.join(&delimiter.to_string())
}

fn words_of(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        if c.is_uppercase() && !current.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || (prev.is_uppercase() && next_lower) {
                words.push(std::mem::take(&mut current));
            }
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// huandu/xstrings' `ToCamelCase`: `hello_world` → `HelloWorld`.
fn camel_case(s: &str) -> String {
    let mut out = String::new();
    let mut upper_next = true;
    for c in s.chars() {
        if c == '_' || c == ' ' || c == '-' {
            upper_next = true;
            continue;
        }
        if upper_next {
            out.extend(c.to_uppercase());
            upper_next = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// goutils' `Abbreviate`.
fn abbreviate(s: &str, width: i64) -> String {
    if width < 4 {
        return s.to_string();
    }
    let chars: Vec<char> = s.chars().collect();
    if chars.len() as i64 <= width {
        return s.to_string();
    }
    let keep = (width - 3) as usize;
    format!("{}...", chars[..keep].iter().collect::<String>())
}

fn abbreviate_both(s: &str, offset: i64, width: i64) -> String {
    let chars: Vec<char> = s.chars().collect();
    let len = chars.len() as i64;
    if width < 4 || len <= width {
        return s.to_string();
    }
    let mut offset = offset.clamp(0, len);
    if len - offset < width - 3 {
        offset = len - (width - 3);
    }
    if offset <= 4 {
        return abbreviate(s, width);
    }
    if width < 7 {
        return s.to_string();
    }
    if offset + width - 3 < len {
        let rest: String = chars[offset as usize..].iter().collect();
        return format!("...{}", abbreviate(&rest, width - 3));
    }
    let tail: String = chars[(len - (width - 3)) as usize..].iter().collect();
    format!("...{tail}")
}

/// goutils' `Wrap` (word wrap at `width`, long words kept whole).
fn wrap(s: &str, width: i64, newline: &str) -> String {
    let width = width.max(1) as usize;
    let mut out = Vec::new();
    for line in s.split('\n') {
        let mut current = String::new();
        for word in line.split(' ').filter(|w| !w.is_empty()) {
            if current.is_empty() {
                current.push_str(word);
            } else if current.len() + 1 + word.len() <= width {
                current.push(' ');
                current.push_str(word);
            } else {
                out.push(std::mem::take(&mut current));
                current.push_str(word);
            }
        }
        out.push(current);
    }
    out.join(newline)
}

fn regex(pattern: &str) -> Result<regex::Regex, FuncError> {
    regex::Regex::new(&go_regex(pattern))
        .map_err(|e| FuncError::Call(format!("error parsing regexp: {e}")))
}

/// Go's RE2 syntax where the regex crate reads it differently: in a class, a `-` next to a
/// class escape (`[\w-.]`) is a literal `-` in Go.
pub(crate) fn go_regex(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len());
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            out.push(c);
            out.push(chars[i + 1]);
            let escape_class = matches!(chars[i + 1], 'w' | 'W' | 'd' | 'D' | 's' | 'S');
            i += 2;
            if in_class
                && escape_class
                && chars.get(i) == Some(&'-')
                && chars.get(i + 1) != Some(&']')
            {
                out.push_str("\\-");
                i += 1;
            }
            continue;
        }
        if in_class {
            if c == ']' {
                in_class = false;
            } else if c == '-'
                && i + 1 < chars.len()
                && chars[i + 1] == '\\'
                && matches!(chars.get(i + 2), Some('w' | 'W' | 'd' | 'D' | 's' | 'S'))
            {
                out.push_str("\\-");
                i += 1;
                continue;
            }
        } else if c == '[' {
            in_class = true;
            out.push(c);
            i += 1;
            // A `]` right after `[` or `[^` is literal.
            if chars.get(i) == Some(&'^') {
                out.push('^');
                i += 1;
            }
            if chars.get(i) == Some(&']') {
                out.push_str("\\]");
                i += 1;
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for byte in data {
        a = (a + *byte as u32) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let bits = u64::from_be_bytes([0, 0, 0, buf[0], buf[1], buf[2], buf[3], buf[4]]);
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..8 {
            if i < chars {
                out.push(BASE32[((bits >> (35 - i * 5)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base32_decode(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut bits = 0u64;
    let mut count = 0;
    for (i, c) in s.trim_end_matches('=').bytes().enumerate() {
        let Some(v) = BASE32.iter().position(|b| *b == c) else {
            return Err(format!("illegal base32 data at input byte {i}"));
        };
        bits = (bits << 5) | v as u64;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Ok(out)
}

fn path_base(s: &str) -> String {
    if s.is_empty() {
        return ".".to_string();
    }
    let trimmed = s.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_string();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_string()
}

fn path_dir(s: &str) -> String {
    let dir = match s.rfind('/') {
        Some(i) => &s[..i + 1],
        None => "",
    };
    path_clean(dir)
}

/// Go's `path.Clean`.
fn path_clean(s: &str) -> String {
    if s.is_empty() {
        return ".".to_string();
    }
    let rooted = s.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in s.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

fn url_parse(s: &str) -> Value {
    let mut map = Map::new();
    let (scheme, rest) = match s.split_once("://") {
        Some((scheme, rest)) => (scheme.to_string(), rest),
        None => (String::new(), s),
    };
    let (rest, fragment) = rest
        .split_once('#')
        .map(|(a, b)| (a, b.to_string()))
        .unwrap_or((rest, String::new()));
    let (rest, query) = rest
        .split_once('?')
        .map(|(a, b)| (a, b.to_string()))
        .unwrap_or((rest, String::new()));
    let (authority, path) = if scheme.is_empty() {
        ("", rest.to_string())
    } else {
        match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].to_string()),
            None => (rest, String::new()),
        }
    };
    let (userinfo, host) = authority
        .rsplit_once('@')
        .map(|(u, h)| (u.to_string(), h.to_string()))
        .unwrap_or((String::new(), authority.to_string()));
    map.insert("scheme".into(), Value::string(scheme));
    map.insert("host".into(), Value::string(host.clone()));
    map.insert(
        "hostname".into(),
        Value::string(host.split(':').next().unwrap_or("").to_string()),
    );
    map.insert("path".into(), Value::string(path));
    map.insert("query".into(), Value::string(query));
    map.insert("opaque".into(), Value::str(""));
    map.insert("fragment".into(), Value::string(fragment));
    map.insert("userinfo".into(), Value::string(userinfo));
    Value::map(map)
}

fn url_join(parts: &Map) -> String {
    let get = |k: &str| parts.get(k).map(strval).unwrap_or_default();
    let mut out = String::new();
    let scheme = get("scheme");
    if !scheme.is_empty() {
        out.push_str(&scheme);
        out.push_str("://");
    }
    let userinfo = get("userinfo");
    if !userinfo.is_empty() {
        out.push_str(&userinfo);
        out.push('@');
    }
    out.push_str(&get("host"));
    out.push_str(&get("path"));
    let query = get("query");
    if !query.is_empty() {
        out.push('?');
        out.push_str(&query);
    }
    let fragment = get("fragment");
    if !fragment.is_empty() {
        out.push('#');
        out.push_str(&fragment);
    }
    out
}

fn random_u64() -> u64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    hasher.finish()
}

fn rand_string(name: &str, args: &[Value], alphabet: &str) -> FuncResult {
    arity(name, args, 1)?;
    let n = want_int(&args[0])?.max(0) as usize;
    let chars: Vec<char> = alphabet.chars().collect();
    Ok(Value::string(
        (0..n)
            .map(|_| chars[(random_u64() % chars.len() as u64) as usize])
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call_ok(name: &str, args: &[Value]) -> Value {
        match call(name, args) {
            Some(Ok(v)) => v,
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn strings() {
        let s = Value::str;
        assert_eq!(
            call_ok("trunc", &[Value::Int(5), s("abcdefgh")]),
            s("abcde")
        );
        assert_eq!(call_ok("trunc", &[Value::Int(-3), s("abcdefgh")]), s("fgh"));
        assert_eq!(call_ok("trimSuffix", &[s("-"), s("name-")]), s("name"));
        assert_eq!(
            call_ok("indent", &[Value::Int(2), s("a\nb")]),
            s("  a\n  b")
        );
        assert_eq!(call_ok("nindent", &[Value::Int(2), s("a")]), s("\n  a"));
        assert_eq!(call_ok("title", &[s("hello world-x")]), s("Hello World-X"));
        assert_eq!(call_ok("snakecase", &[s("FirstName")]), s("first_name"));
        assert_eq!(call_ok("kebabcase", &[s("HTTPServer")]), s("http-server"));
        assert_eq!(call_ok("camelcase", &[s("http_server")]), s("HttpServer"));
        assert_eq!(call_ok("quote", &[Value::Float(1000000.0)]), s("\"1e+06\""));
        assert_eq!(call_ok("squote", &[s("a")]), s("'a'"));
        assert_eq!(
            call_ok("replace", &[s("."), s("-"), s("a.b.c")]),
            s("a-b-c")
        );
        assert_eq!(
            call_ok("substr", &[Value::Int(1), Value::Int(3), s("abcd")]),
            s("bc")
        );
        assert_eq!(call_ok("b64enc", &[s("hi")]), s("aGk="));
        assert_eq!(
            call_ok("sha256sum", &[s("")]),
            s("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        assert_eq!(call_ok("adler32sum", &[s("hello")]), s("103547413"));
        assert_eq!(call_ok("b32enc", &[s("hello")]), s("NBSWY3DP"));
        assert_eq!(
            call_ok(
                "regexReplaceAll",
                &[s("a(x*)b"), s("-ab-axxb-"), s("${1}W")]
            ),
            s("-W-xxW-")
        );
    }

    #[test]
    fn go_regular_expressions() {
        assert_eq!(go_regex(r"^[\w-\.]+$"), r"^[\w\-\.]+$");
        assert!(
            regex(r"^[\w-\.]+$")
                .expect("a regex")
                .is_match("my-master.x")
        );
        assert_eq!(go_regex("[]a]"), r"[\]a]");
    }

    #[test]
    fn wrong_types_fail_as_go() {
        let Some(Err(FuncError::Plain(message))) = call("upper", &[Value::Float(1.0)]) else {
            panic!("an error")
        };
        assert_eq!(
            message,
            "wrong type for value; expected string; got float64"
        );
    }

    #[test]
    fn float_math_in_decimal() {
        assert_eq!(
            call_ok("addf", &[Value::Float(0.1), Value::Float(0.2)]),
            Value::Float(0.3)
        );
        assert_eq!(
            call_ok("divf", &[Value::Int(1), Value::Int(3)]),
            Value::Float(0.3333333333333333)
        );
        // Operands whose decimal exponents differ (Helm v4: 2.5, 1305.6, 0.0125).
        assert_eq!(
            call_ok("divf", &[Value::Int(10), Value::Int(4)]),
            Value::Float(2.5)
        );
        assert_eq!(
            call_ok("divf", &[Value::Int(13056), Value::Int(10)]),
            Value::Float(1305.6)
        );
        assert_eq!(
            call_ok("divf", &[Value::Float(12.5), Value::Int(1000)]),
            Value::Float(0.0125)
        );
        assert_eq!(
            call_ok("mulf", &[Value::Float(1.1), Value::Float(3.0)]),
            Value::Float(3.3)
        );
        assert_eq!(
            call_ok("subf", &[Value::Float(1.0), Value::Float(0.9)]),
            Value::Float(0.1)
        );
    }

    #[test]
    fn math_and_lists() {
        assert_eq!(
            call_ok("add", &[Value::Int(1), Value::Float(2.9), Value::str("3")]),
            Value::Int(6)
        );
        assert_eq!(call_ok("until", &[Value::Int(3)]).to_go_string(), "[0 1 2]");
        assert_eq!(call_ok("seq", &[Value::Int(3)]), Value::str("1 2 3"));
        assert_eq!(
            call_ok("round", &[Value::Float(2.345), Value::Int(2)]),
            Value::Float(2.35)
        );
        let l = Value::list(vec![Value::str("b"), Value::str("a"), Value::str("b")]);
        assert_eq!(
            call_ok("uniq", std::slice::from_ref(&l)).to_go_string(),
            "[b a]"
        );
        assert_eq!(
            call_ok("sortAlpha", std::slice::from_ref(&l)).to_go_string(),
            "[a b b]"
        );
        assert_eq!(call_ok("has", &[Value::str("a"), l]), Value::Bool(true));
    }

    #[test]
    fn dicts_merge_as_mergo() {
        let dst = crate::yaml::parse_values("a: 1\nb: {x: 1}\ne: ''\n").expect("yaml");
        let src = crate::yaml::parse_values("a: 2\nb: {z: 2}\nc: 3\ne: z\n").expect("yaml");
        let merged = call_ok("merge", &[dst.deep_copy(), src.clone()]);
        assert_eq!(merged.to_go_string(), "map[a:1 b:map[x:1 z:2] c:3 e:z]");
        let over = call_ok("mergeOverwrite", &[dst, src]);
        assert_eq!(over.to_go_string(), "map[a:2 b:map[x:1 z:2] c:3 e:z]");
    }
}
