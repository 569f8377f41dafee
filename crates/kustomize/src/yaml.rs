//! Multi-document YAML splitting and parsing into `serde_json::Value` with line numbers.
//! Used for kustomize resources and patches and for plain (non-kustomize) manifests.

use serde_json::{Map, Number, Value};
use serde_yaml_ng::Value as Yaml;

use super::{KustomizeError, RenderedDocument};

/// One document of a multi-document file: its text and the 1-based line it starts at.
pub(crate) struct RawDocument<'a> {
    pub line: usize,
    pub text: &'a str,
}

/// Splits `text` at lines starting with `---`; the start line of a document is its first
/// line holding something other than blanks and comments (documents without any are dropped).
pub(crate) fn split_documents(text: &str) -> Vec<RawDocument<'_>> {
    let mut documents = Vec::new();
    let mut start_offset = 0;
    let mut offset = 0;
    let mut first_content_line: Option<usize> = None;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_end();
        let is_separator = trimmed == "---"
            || trimmed.starts_with("--- ")
            || trimmed.starts_with("---\t")
            || trimmed == "...";
        if is_separator {
            push_document(
                &mut documents,
                &text[start_offset..offset],
                first_content_line,
            );
            // Content after `--- ` on the same line belongs to the next document.
            let rest = trimmed.strip_prefix("---").unwrap_or("").trim();
            if rest.is_empty() || rest.starts_with('#') || trimmed == "..." {
                start_offset = offset + line.len();
                first_content_line = None;
            } else {
                start_offset = offset + (line.len() - line.trim_start_matches('-').len());
                first_content_line = Some(index + 1);
            }
        } else if first_content_line.is_none() {
            let content = line.trim();
            if !content.is_empty() && !content.starts_with('#') {
                first_content_line = Some(index + 1);
            }
        }
        offset += line.len();
    }
    push_document(&mut documents, &text[start_offset..], first_content_line);
    documents
}

fn push_document<'a>(documents: &mut Vec<RawDocument<'a>>, text: &'a str, line: Option<usize>) {
    if let Some(line) = line {
        documents.push(RawDocument { line, text });
    }
}

/// Parses one YAML document (already split) into JSON, resolving `<<` merge keys.
/// `line` is where the document starts in `file`, so error lines point into the file.
pub(crate) fn parse_yaml(file: &str, line: usize, text: &str) -> Result<Value, KustomizeError> {
    let mut yaml: Yaml = serde_yaml_ng::from_str(text).map_err(|error| {
        // The error's line counts from the document text, which may start with blank lines.
        let leading = text
            .lines()
            .take_while(|l| l.trim().is_empty() || l.trim().starts_with('#'));
        let skipped = leading.count();
        KustomizeError::InvalidYaml {
            file: file.to_string(),
            line: error
                .location()
                .map(|location| line + location.line().saturating_sub(1 + skipped)),
            message: error.to_string(),
        }
    })?;
    yaml.apply_merge()
        .map_err(|error| KustomizeError::InvalidYaml {
            file: file.to_string(),
            line: Some(line),
            message: error.to_string(),
        })?;
    yaml_to_json(yaml).map_err(|message| KustomizeError::InvalidYaml {
        file: file.to_string(),
        line: Some(line),
        message,
    })
}

fn yaml_to_json(yaml: Yaml) -> Result<Value, String> {
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(value) => Value::Bool(value),
        Yaml::Number(number) => {
            if let Some(value) = number.as_i64() {
                Value::Number(value.into())
            } else if let Some(value) = number.as_u64() {
                Value::Number(value.into())
            } else {
                let value = number.as_f64().unwrap_or(f64::NAN);
                Value::Number(
                    Number::from_f64(value)
                        .ok_or_else(|| format!("the number {number} cannot be represented"))?,
                )
            }
        }
        Yaml::String(value) => Value::String(value),
        Yaml::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Mapping(mapping) => {
            let mut object = Map::new();
            for (key, value) in mapping {
                let key = match key {
                    Yaml::String(key) => key,
                    Yaml::Bool(key) => key.to_string(),
                    Yaml::Number(key) => key.to_string(),
                    Yaml::Null => "null".to_string(),
                    _ => return Err("mapping keys must be strings".to_string()),
                };
                object.insert(key, yaml_to_json(value)?);
            }
            Value::Object(object)
        }
        Yaml::Tagged(tagged) => yaml_to_json(tagged.value)?,
    })
}

/// Splits a multi-document YAML file into documents with their 1-based start lines; empty
/// documents are skipped and `kind: List` (any kind ending in `List` with `items`) is expanded
/// into its items, which keep the List's line.
pub fn parse_documents(file: &str, text: &str) -> Result<Vec<RenderedDocument>, KustomizeError> {
    let mut documents = Vec::new();
    for raw in split_documents(text) {
        let value = parse_yaml(file, raw.line, raw.text)?;
        match value {
            Value::Null => continue,
            Value::Object(ref object) => {
                let is_list = object
                    .get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|kind| kind.ends_with("List"));
                match object.get("items") {
                    Some(Value::Array(items)) if is_list => {
                        for item in items {
                            if !item.is_object() {
                                return Err(not_an_object(file, raw.line, "an item of a List"));
                            }
                            documents.push(RenderedDocument {
                                origin: file.to_string(),
                                line: raw.line,
                                document: item.clone(),
                            });
                        }
                    }
                    _ => documents.push(RenderedDocument {
                        origin: file.to_string(),
                        line: raw.line,
                        document: value,
                    }),
                }
            }
            _ => return Err(not_an_object(file, raw.line, "a document")),
        }
    }
    Ok(documents)
}

fn not_an_object(file: &str, line: usize, what: &str) -> KustomizeError {
    KustomizeError::InvalidYaml {
        file: file.to_string(),
        line: Some(line),
        message: format!(
            "{what} must be a Kubernetes object (a mapping with apiVersion, kind and metadata)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn doc(line: usize, document: Value) -> RenderedDocument {
        RenderedDocument {
            origin: "app.yaml".to_string(),
            line,
            document,
        }
    }

    #[test]
    fn splits_documents_with_start_lines_and_skips_empty_ones() {
        let text = "# leading comment\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n---\n# only a comment\n---\n\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n--- # trailing comment\nkind: Namespace\napiVersion: v1\nmetadata: {name: c}\n";
        let documents = parse_documents("app.yaml", text).expect("valid yaml");
        assert_eq!(
            documents,
            vec![
                doc(
                    2,
                    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}})
                ),
                doc(
                    11,
                    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "b"}})
                ),
                doc(
                    16,
                    json!({"kind": "Namespace", "apiVersion": "v1", "metadata": {"name": "c"}})
                ),
            ]
        );
        // Key order is kept as written.
        let keys: Vec<_> = documents[2]
            .document
            .as_object()
            .map(|object| object.keys().cloned().collect())
            .unwrap_or_default();
        assert_eq!(keys, ["kind", "apiVersion", "metadata"]);
    }

    #[test]
    fn expands_lists_keeping_the_list_line() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first}\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Service\n  metadata: {name: b}\n";
        let documents = parse_documents("app.yaml", text).expect("valid yaml");
        assert_eq!(
            documents,
            vec![
                doc(
                    1,
                    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "first"}})
                ),
                doc(
                    5,
                    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}})
                ),
                doc(
                    5,
                    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b"}})
                ),
            ]
        );
    }

    #[test]
    fn resolves_merge_keys() {
        let text = "base: &base {a: 1}\nkind: X\nderived:\n  <<: *base\n  b: 2\n";
        let documents = parse_documents("app.yaml", text).expect("valid yaml");
        assert_eq!(
            documents,
            vec![doc(
                1,
                json!({"base": {"a": 1}, "kind": "X", "derived": {"a": 1, "b": 2}})
            )]
        );
    }

    #[test]
    fn reports_invalid_yaml_with_the_file_line() {
        let text = "kind: A\n---\n\nkind: B\nmetadata:\n  name: [unclosed\n";
        let error = parse_documents("app.yaml", text).expect_err("invalid yaml");
        let KustomizeError::InvalidYaml { file, line, .. } = &error else {
            panic!("unexpected error {error:?}");
        };
        assert_eq!(file, "app.yaml");
        assert!(matches!(line, Some(6) | Some(7)), "line {line:?}");
    }

    #[test]
    fn rejects_a_scalar_document() {
        let error = parse_documents("app.yaml", "just a string\n").expect_err("not an object");
        assert_eq!(
            error,
            KustomizeError::InvalidYaml {
                file: "app.yaml".to_string(),
                line: Some(1),
                message: "a document must be a Kubernetes object (a mapping with apiVersion, kind and metadata)".to_string(),
            }
        );
    }
}
