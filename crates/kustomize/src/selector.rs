//! Patch targets: which objects a patch applies to, by group, version, kind, name and
//! namespace (regular expressions) and by label and annotation selectors.

use serde_json::Value;

use super::Resource;
use super::regex::Regex;

/// A parsed `target` of a patch.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Target {
    group: Option<Regex>,
    version: Option<Regex>,
    kind: Option<Regex>,
    name: Option<Regex>,
    namespace: Option<Regex>,
    label_selector: Option<LabelSelector>,
    annotation_selector: Option<LabelSelector>,
}

const TARGET_FIELDS: [&str; 7] = [
    "group",
    "version",
    "kind",
    "name",
    "namespace",
    "labelSelector",
    "annotationSelector",
];

impl Target {
    /// Parses a `target` mapping; the error says what is wrong with it.
    pub fn parse(value: &Value) -> Result<Self, String> {
        let Value::Object(object) = value else {
            return Err("`target` must be a mapping with fields such as kind and name".to_string());
        };
        if let Some(key) = object
            .keys()
            .find(|key| !TARGET_FIELDS.contains(&key.as_str()))
        {
            return Err(format!(
                "unknown field `{key}` in `target`; known fields are {}",
                TARGET_FIELDS.join(", ")
            ));
        }
        let text = |key: &str| -> Result<Option<String>, String> {
            match object.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(text)) if text.is_empty() => Ok(None),
                Some(Value::String(text)) => Ok(Some(text.clone())),
                Some(_) => Err(format!("`target.{key}` must be a string")),
            }
        };
        let regex = |key: &str| -> Result<Option<Regex>, String> {
            text(key)?
                .map(|pattern| {
                    Regex::new(&pattern).map_err(|error| format!("`target.{key}`: {error}"))
                })
                .transpose()
        };
        let selector = |key: &str| -> Result<Option<LabelSelector>, String> {
            text(key)?
                .map(|selector| {
                    LabelSelector::parse(&selector)
                        .map_err(|error| format!("`target.{key}`: {error}"))
                })
                .transpose()
        };
        let target = Self {
            group: regex("group")?,
            version: regex("version")?,
            kind: regex("kind")?,
            name: regex("name")?,
            namespace: regex("namespace")?,
            label_selector: selector("labelSelector")?,
            annotation_selector: selector("annotationSelector")?,
        };
        if target == Self::default() {
            return Err(
                "`target` selects every object; give at least a kind, name or selector".to_string(),
            );
        }
        Ok(target)
    }

    /// Whether `object` is selected. Names match the current or any earlier name, as
    /// Kustomize matches the original or current id; no namespace counts as `default`.
    pub fn matches(&self, object: &Resource) -> bool {
        let api_version = object.api_version();
        let version = api_version.rsplit('/').next().unwrap_or(api_version);
        let full = |regex: &Option<Regex>, value: &str| {
            regex
                .as_ref()
                .is_none_or(|regex| regex.is_full_match(value))
        };
        full(&self.group, object.group())
            && full(&self.version, version)
            && full(&self.kind, object.kind())
            && full(&self.namespace, object.namespace().unwrap_or("default"))
            && self.name.as_ref().is_none_or(|regex| {
                regex.is_full_match(object.name())
                    || object
                        .previous_names
                        .iter()
                        .any(|name| regex.is_full_match(name))
            })
            && self
                .label_selector
                .as_ref()
                .is_none_or(|selector| selector.matches(object.doc.pointer("/metadata/labels")))
            && self.annotation_selector.as_ref().is_none_or(|selector| {
                selector.matches(object.doc.pointer("/metadata/annotations"))
            })
    }
}

/// A Kubernetes label selector: `a=b,c!=d,e in (x,y),f notin (z),g,!h`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LabelSelector {
    source: String,
    requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq)]
enum Requirement {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

impl LabelSelector {
    pub fn parse(source: &str) -> Result<Self, String> {
        let mut requirements = Vec::new();
        for term in split_terms(source) {
            let term = term.trim();
            if term.is_empty() {
                continue;
            }
            let requirement = if let Some(key) = term.strip_prefix('!') {
                Requirement::DoesNotExist(key.trim().to_string())
            } else if let Some((key, value)) = term.split_once("!=") {
                Requirement::NotIn(key.trim().to_string(), vec![value.trim().to_string()])
            } else if let Some((key, value)) =
                term.split_once("==").or_else(|| term.split_once('='))
            {
                Requirement::In(key.trim().to_string(), vec![value.trim().to_string()])
            } else if let Some((key, values)) = set_term(term, " notin ") {
                Requirement::NotIn(key, values?)
            } else if let Some((key, values)) = set_term(term, " in ") {
                Requirement::In(key, values?)
            } else if term.contains(char::is_whitespace) || term.contains('(') {
                return Err(format!(
                    "cannot parse `{term}` in label selector `{source}`"
                ));
            } else {
                Requirement::Exists(term.to_string())
            };
            requirements.push(requirement);
        }
        Ok(Self {
            source: source.to_string(),
            requirements,
        })
    }

    pub fn matches(&self, labels: Option<&Value>) -> bool {
        let get = |key: &str| {
            labels
                .and_then(|labels| labels.get(key))
                .and_then(Value::as_str)
        };
        self.requirements
            .iter()
            .all(|requirement| match requirement {
                Requirement::In(key, values) => {
                    get(key).is_some_and(|value| values.iter().any(|v| v == value))
                }
                Requirement::NotIn(key, values) => {
                    get(key).is_none_or(|value| values.iter().all(|v| v != value))
                }
                Requirement::Exists(key) => get(key).is_some(),
                Requirement::DoesNotExist(key) => get(key).is_none(),
            })
    }
}

/// Splits at commas outside parentheses.
fn split_terms(source: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (index, c) in source.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                terms.push(&source[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    terms.push(&source[start..]);
    terms
}

/// `key in (a, b)` → (key, [a, b]).
fn set_term(term: &str, operator: &str) -> Option<(String, Result<Vec<String>, String>)> {
    let (key, rest) = term.split_once(operator)?;
    let rest = rest.trim();
    let values = rest
        .strip_prefix('(')
        .and_then(|rest| rest.strip_suffix(')'))
        .map(|inner| {
            inner
                .split(',')
                .map(|value| value.trim().to_string())
                .collect()
        })
        .ok_or_else(|| format!("expected `({operator}values)` with parentheses in `{term}`"));
    Some((key.trim().to_string(), values))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn label_selectors_match_like_kubernetes() {
        let labels = json!({"app": "web", "tier": "front"});
        let matches = |selector: &str| {
            LabelSelector::parse(selector)
                .expect("valid")
                .matches(Some(&labels))
        };
        assert!(matches("app=web"));
        assert!(matches("app==web,tier"));
        assert!(matches("app in (web, api),tier notin (back)"));
        assert!(matches("!canary,app!=api"));
        assert!(!matches("app=api"));
        assert!(!matches("tier in (back)"));
        assert!(!matches("missing"));
        assert!(LabelSelector::parse("app in web").is_err());
    }

    #[test]
    fn targets_match_kind_name_and_labels() {
        let object = Resource::new(
            "a.yaml".to_string(),
            1,
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web-1", "labels": {"app": "web"}}}),
        );
        let target = |value: Value| Target::parse(&value).expect("valid target");
        assert!(target(json!({"kind": "Deployment", "name": "web-.*"})).matches(&object));
        assert!(
            target(json!({"group": "apps", "version": "v1", "namespace": "default"}))
                .matches(&object)
        );
        assert!(target(json!({"labelSelector": "app=web"})).matches(&object));
        assert!(!target(json!({"kind": "StatefulSet"})).matches(&object));
        assert!(!target(json!({"name": "web"})).matches(&object));
        assert!(Target::parse(&json!({"kind": "Deployment", "nmae": "x"})).is_err());
        assert!(Target::parse(&json!({"name": "web-("})).is_err());
    }
}
