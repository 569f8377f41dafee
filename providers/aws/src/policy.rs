//! JSON documents (IAM and resource policies, SQS redrive policies, SNS filter policies)
//! compared by meaning rather than by text.
//!
//! Two documents are equivalent when they are equal after [`canonical`]: object keys in any
//! order, any whitespace, a one-element list the same as its element (`"Statement": {...}` and
//! `"Statement": [{...}]`), lists of strings in any order (`Action`, `Resource`), `"*"` the
//! same as `{"AWS": "*"}` as a principal, and integers written as strings the same as numbers
//! (`"maxReceiveCount": "5"`).

use serde_json::{Map, Value as Json};

/// Parses a document, undoing the URL encoding IAM applies to documents it returns.
pub fn parse(text: &str) -> Result<Json, serde_json::Error> {
    serde_json::from_str(&decode(text))
}

/// IAM returns policy documents URL-encoded (`%7B%22Version...`); other services return them
/// as they are.
pub fn decode(text: &str) -> String {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return text.to_string();
    }
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .replace('+', " ")
}

/// True when both texts are JSON documents with the same meaning.
pub fn equivalent(a: &str, b: &str) -> bool {
    match (parse(a), parse(b)) {
        (Ok(a), Ok(b)) => canonical(&a) == canonical(&b),
        _ => a == b,
    }
}

/// The canonical form of a document (see the module documentation).
pub fn canonical(value: &Json) -> Json {
    match value {
        Json::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for key in keys {
                let item = &map[key];
                let canonical_item = if key == "Principal" && item.as_str() == Some("*") {
                    let mut aws = Map::new();
                    aws.insert("AWS".to_string(), Json::String("*".to_string()));
                    Json::Object(aws)
                } else {
                    canonical(item)
                };
                out.insert(key.clone(), canonical_item);
            }
            Json::Object(out)
        }
        Json::Array(items) => {
            let mut items: Vec<Json> = items.iter().map(canonical).collect();
            if items.len() == 1 {
                return items.remove(0);
            }
            if items.iter().all(|i| i.is_string() || i.is_number()) {
                items.sort_by_key(ToString::to_string);
                items.dedup();
            }
            Json::Array(items)
        }
        Json::String(s) if is_integer_text(s) => s
            .parse::<i64>()
            .map_or_else(|_| value.clone(), |n| Json::Number(n.into())),
        other => other.clone(),
    }
}

fn is_integer_text(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty()
        && digits.len() < 16
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !(digits.len() > 1 && digits.starts_with('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

    #[test]
    fn key_order_whitespace_and_single_statement_are_equivalent() {
        let b = r#"{
          "Statement": {
            "Action": ["sts:AssumeRole"],
            "Principal": {"Service": ["ec2.amazonaws.com"]},
            "Effect": "Allow"
          },
          "Version": "2012-10-17"
        }"#;
        assert!(equivalent(A, b));
    }

    #[test]
    fn url_encoded_documents_from_iam_are_decoded() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ec2.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
        assert!(equivalent(A, encoded));
    }

    #[test]
    fn real_changes_are_not_equivalent() {
        let other = A.replace("ec2", "lambda");
        assert!(!equivalent(A, &other));
        assert!(!equivalent(
            r#"{"Action":["s3:GetObject","s3:PutObject"]}"#,
            r#"{"Action":["s3:GetObject"]}"#
        ));
    }

    #[test]
    fn action_order_star_principal_and_numeric_strings() {
        assert!(equivalent(
            r#"{"Action":["b","a"],"Principal":"*"}"#,
            r#"{"Action":["a","b"],"Principal":{"AWS":"*"}}"#
        ));
        assert!(equivalent(
            r#"{"maxReceiveCount":"5","deadLetterTargetArn":"arn"}"#,
            r#"{"deadLetterTargetArn":"arn","maxReceiveCount":5}"#
        ));
    }
}
