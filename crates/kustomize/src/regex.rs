//! A small regular-expression matcher for patch targets, whose `name`, `kind`, `namespace`,
//! `group` and `version` are regular expressions matched against the whole value in Kustomize.
//! Supports literals, `.`, classes (`[a-z]`, `[^-]`, `\d`, `\w`, `\s`), groups, `|`, and the
//! quantifiers `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`. Matching follows every alternative at
//! once (sets of positions), so it cannot blow up on backtracking.

use std::collections::BTreeSet;

/// A compiled pattern that must match the whole input.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Regex {
    pattern: String,
    root: Alternation,
}

type Alternation = Vec<Vec<Piece>>;

#[derive(Debug, Clone, PartialEq)]
struct Piece {
    atom: Atom,
    min: usize,
    max: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
enum Atom {
    Char(char),
    Any,
    Class {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
    Group(Alternation),
    /// `^` or `$`: the match is anchored anyway, so they only match at the ends.
    Start,
    End,
}

impl Regex {
    pub fn new(pattern: &str) -> Result<Self, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut position = 0;
        let root = parse_alternation(&chars, &mut position)?;
        if position != chars.len() {
            return Err(format!("unmatched `)` in regular expression `{pattern}`"));
        }
        Ok(Self {
            pattern: pattern.to_string(),
            root,
        })
    }

    /// Whether the pattern matches all of `text`.
    pub fn is_full_match(&self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        match_alternation(&self.root, &chars, 0).contains(&chars.len())
    }
}

fn parse_alternation(chars: &[char], position: &mut usize) -> Result<Alternation, String> {
    let mut alternatives = vec![Vec::new()];
    while let Some(&c) = chars.get(*position) {
        match c {
            ')' => break,
            '|' => {
                *position += 1;
                alternatives.push(Vec::new());
            }
            _ => {
                let atom = parse_atom(chars, position)?;
                let (min, max) = parse_quantifier(chars, position)?;
                if let Some(sequence) = alternatives.last_mut() {
                    sequence.push(Piece { atom, min, max });
                }
            }
        }
    }
    Ok(alternatives)
}

fn parse_atom(chars: &[char], position: &mut usize) -> Result<Atom, String> {
    let c = chars[*position];
    *position += 1;
    Ok(match c {
        '.' => Atom::Any,
        '^' => Atom::Start,
        '$' => Atom::End,
        '(' => {
            if chars.get(*position) == Some(&'?') {
                if chars.get(*position + 1) != Some(&':') {
                    return Err(
                        "only `(?:` groups are supported in patch target patterns".to_string()
                    );
                }
                *position += 2;
            }
            let group = parse_alternation(chars, position)?;
            if chars.get(*position) != Some(&')') {
                return Err("unclosed `(` in regular expression".to_string());
            }
            *position += 1;
            Atom::Group(group)
        }
        '[' => parse_class(chars, position)?,
        '\\' => {
            let escaped = *chars
                .get(*position)
                .ok_or("trailing `\\` in regular expression")?;
            *position += 1;
            escape_atom(escaped)
        }
        '*' | '+' | '?' | '{' => {
            return Err(format!("`{c}` has nothing to repeat in regular expression"));
        }
        c => Atom::Char(c),
    })
}

fn escape_atom(c: char) -> Atom {
    let class = |ranges: Vec<(char, char)>, negated| Atom::Class { ranges, negated };
    match c {
        'd' => class(vec![('0', '9')], false),
        'D' => class(vec![('0', '9')], true),
        'w' => class(word_ranges(), false),
        'W' => class(word_ranges(), true),
        's' => class(space_ranges(), false),
        'S' => class(space_ranges(), true),
        c => Atom::Char(c),
    }
}

fn word_ranges() -> Vec<(char, char)> {
    vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')]
}

fn space_ranges() -> Vec<(char, char)> {
    vec![(' ', ' '), ('\t', '\r')]
}

fn parse_class(chars: &[char], position: &mut usize) -> Result<Atom, String> {
    let negated = chars.get(*position) == Some(&'^');
    if negated {
        *position += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let c = *chars
            .get(*position)
            .ok_or("unclosed `[` in regular expression")?;
        *position += 1;
        if c == ']' && !first {
            break;
        }
        first = false;
        let low = if c == '\\' {
            let escaped = *chars
                .get(*position)
                .ok_or("trailing `\\` in regular expression")?;
            *position += 1;
            match escape_atom(escaped) {
                Atom::Class {
                    ranges: escaped_ranges,
                    negated: false,
                } => {
                    ranges.extend(escaped_ranges);
                    continue;
                }
                _ => escaped,
            }
        } else {
            c
        };
        if chars.get(*position) == Some(&'-') && chars.get(*position + 1).is_some_and(|&c| c != ']')
        {
            let high = chars[*position + 1];
            *position += 2;
            ranges.push((low, high));
        } else {
            ranges.push((low, low));
        }
    }
    Ok(Atom::Class { ranges, negated })
}

fn parse_quantifier(
    chars: &[char],
    position: &mut usize,
) -> Result<(usize, Option<usize>), String> {
    let quantifier = match chars.get(*position) {
        Some('*') => (0, None),
        Some('+') => (1, None),
        Some('?') => (0, Some(1)),
        Some('{') => {
            let close = chars[*position..]
                .iter()
                .position(|&c| c == '}')
                .ok_or("unclosed `{` in regular expression")?;
            let inside: String = chars[*position + 1..*position + close].iter().collect();
            let number = |text: &str| {
                text.trim()
                    .parse::<usize>()
                    .map_err(|_| format!("invalid repetition `{{{inside}}}` in regular expression"))
            };
            let bounds = match inside.split_once(',') {
                None => {
                    let n = number(&inside)?;
                    (n, Some(n))
                }
                Some((low, "")) => (number(low)?, None),
                Some((low, high)) => (number(low)?, Some(number(high)?)),
            };
            *position += close;
            bounds
        }
        _ => return Ok((1, Some(1))),
    };
    *position += 1;
    // A lazy marker changes nothing for a whole-string match.
    if chars.get(*position) == Some(&'?') {
        *position += 1;
    }
    Ok(quantifier)
}

fn match_alternation(alternation: &Alternation, text: &[char], start: usize) -> BTreeSet<usize> {
    let mut ends = BTreeSet::new();
    for sequence in alternation {
        let mut positions = BTreeSet::from([start]);
        for piece in sequence {
            positions = match_piece(piece, text, &positions);
            if positions.is_empty() {
                break;
            }
        }
        ends.extend(positions);
    }
    ends
}

fn match_piece(piece: &Piece, text: &[char], starts: &BTreeSet<usize>) -> BTreeSet<usize> {
    let mut result = BTreeSet::new();
    let mut current = starts.clone();
    let mut seen = BTreeSet::new();
    let mut count = 0;
    loop {
        if count >= piece.min {
            result.extend(current.iter().copied());
        }
        if piece.max.is_some_and(|max| count >= max) || current.is_empty() {
            break;
        }
        let mut next = BTreeSet::new();
        for &position in &current {
            next.extend(match_atom(&piece.atom, text, position));
        }
        // Stop once repetitions reach no new positions (e.g. `(a*)*`).
        if count >= piece.min {
            next.retain(|position| !seen.contains(position));
            seen.extend(next.iter().copied());
        }
        current = next;
        count += 1;
    }
    result
}

fn match_atom(atom: &Atom, text: &[char], position: usize) -> BTreeSet<usize> {
    let single = |matches: bool| {
        if matches {
            BTreeSet::from([position + 1])
        } else {
            BTreeSet::new()
        }
    };
    match atom {
        Atom::Start => {
            if position == 0 {
                BTreeSet::from([position])
            } else {
                BTreeSet::new()
            }
        }
        Atom::End => {
            if position == text.len() {
                BTreeSet::from([position])
            } else {
                BTreeSet::new()
            }
        }
        Atom::Group(group) => match_alternation(group, text, position),
        _ => match text.get(position) {
            None => BTreeSet::new(),
            Some(&c) => single(match atom {
                Atom::Char(expected) => c == *expected,
                Atom::Any => c != '\n',
                Atom::Class { ranges, negated } => {
                    ranges.iter().any(|&(low, high)| low <= c && c <= high) != *negated
                }
                Atom::Group(_) | Atom::Start | Atom::End => false,
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        Regex::new(pattern)
            .expect("valid pattern")
            .is_full_match(text)
    }

    #[test]
    fn matches_whole_strings() {
        assert!(matches("web", "web"));
        assert!(!matches("web", "web-2"));
        assert!(matches("web.*", "web-2"));
        assert!(matches("^(web|api)-[0-9]+$", "api-12"));
        assert!(!matches("(web|api)-[0-9]+", "db-12"));
        assert!(matches("a(?:bc)?d", "ad"));
        assert!(matches("a(?:bc)?d", "abcd"));
        assert!(matches("x\\d{2,3}", "x123"));
        assert!(!matches("x\\d{2,3}", "x1"));
        assert!(matches("[^-]+-db", "shop-db"));
        assert!(matches("(a*)*b", "aaab"));
        assert!(matches("Deployment|StatefulSet", "StatefulSet"));
    }

    #[test]
    fn rejects_malformed_patterns() {
        assert!(Regex::new("(web").is_err());
        assert!(Regex::new("web)").is_err());
        assert!(Regex::new("*web").is_err());
        assert!(Regex::new("[web").is_err());
    }
}
