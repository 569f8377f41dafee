//! API errors and the `Status` objects the real API server answers them with.
//!
//! Every failed request leaves the emulator as a `kind: Status` body with the same `reason`,
//! `code`, `message` and `details` shape the real server uses, so clients (kube-rs, kubectl,
//! braid) take the same error paths they would against a cluster.

use serde_json::{Value, json};

/// Names the object an error is about, the way `details` in a Status does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Subject {
    /// API group ("" for core).
    pub group: String,
    /// For NotFound/AlreadyExists/Conflict the resource plural, for Invalid the Kind —
    /// matching what the real server puts into `details.kind`.
    pub kind: String,
    /// Object name (may be empty for collection-level errors).
    pub name: String,
}

impl Subject {
    /// `deployments.apps` / `configmaps`: the qualified resource used in messages.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }
}

/// One entry of `details.causes`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cause {
    /// e.g. `FieldValueInvalid`, `FieldValueForbidden`, `FieldManagerConflict`.
    pub reason: String,
    /// Human-readable message for this cause.
    pub message: String,
    /// Field path such as `spec.selector` or `.spec.replicas`.
    pub field: String,
}

/// An error that becomes a Status response.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ApiError {
    /// 404 for a missing object, namespace, resource type or path.
    #[error("{message}")]
    NotFound {
        /// The object the request was about.
        subject: Subject,
        /// Full message text.
        message: String,
    },
    /// 409 on create of an existing name.
    #[error("{} \"{}\" already exists", subject.qualified(), subject.name)]
    AlreadyExists {
        /// The object that exists already.
        subject: Subject,
    },
    /// 409 for stale resourceVersions and server-side apply ownership conflicts.
    #[error("{message}")]
    Conflict {
        /// The object the conflict is on.
        subject: Subject,
        /// Full message text.
        message: String,
        /// Per-field causes (SSA conflicts list one per field).
        causes: Vec<Cause>,
    },
    /// 422 for validation failures, including immutable fields.
    #[error("{} \"{}\" is invalid: {}", subject.qualified(), subject.name, causes_text(.causes))]
    Invalid {
        /// Kind-based subject (`Deployment.apps "web"`).
        subject: Subject,
        /// The field errors.
        causes: Vec<Cause>,
    },
    /// 400 for malformed requests.
    #[error("{0}")]
    BadRequest(String),
    /// 403, used for writes into a terminating namespace.
    #[error("{message}")]
    Forbidden {
        /// The object the request was about.
        subject: Subject,
        /// Full message text.
        message: String,
    },
    /// 405 for verbs a resource does not support.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 410 when a watch asks for a resourceVersion older than the kept history.
    #[error("{0}")]
    Gone(String),
    /// 415 for patch content types the resource does not accept.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 429, injected by fault injection.
    #[error("{0}")]
    TooManyRequests(String),
    /// 500, injected by fault injection or for internal failures.
    #[error("{0}")]
    Internal(String),
    /// Any other status code chosen by a scripted fault.
    #[error("{message}")]
    Custom {
        /// HTTP status code.
        code: u16,
        /// Full message text.
        message: String,
    },
}

fn causes_text(causes: &[Cause]) -> String {
    let parts: Vec<String> = causes
        .iter()
        .map(|c| format!("{}: {}", c.field, c.message))
        .collect();
    if parts.len() == 1 {
        parts.join("")
    } else {
        format!("[{}]", parts.join(", "))
    }
}

impl ApiError {
    /// NotFound for a named object: `deployments.apps "web" not found`.
    pub fn not_found(group: &str, plural: &str, name: &str) -> Self {
        let subject = Subject {
            group: group.to_string(),
            kind: plural.to_string(),
            name: name.to_string(),
        };
        let message = format!("{} \"{}\" not found", subject.qualified(), name);
        ApiError::NotFound { subject, message }
    }

    /// NotFound for a request path no resource serves.
    pub fn path_not_found() -> Self {
        ApiError::NotFound {
            subject: Subject::default(),
            message: "the server could not find the requested resource".to_string(),
        }
    }

    /// 409 for an update carrying a stale resourceVersion.
    pub fn stale(group: &str, plural: &str, name: &str) -> Self {
        let subject = Subject {
            group: group.to_string(),
            kind: plural.to_string(),
            name: name.to_string(),
        };
        let message = format!(
            "Operation cannot be fulfilled on {} \"{}\": the object has been modified; please apply your changes to the latest version and try again",
            subject.qualified(),
            name
        );
        ApiError::Conflict {
            subject,
            message,
            causes: Vec::new(),
        }
    }

    /// 422 with a single field cause.
    pub fn invalid(group: &str, kind: &str, name: &str, cause: Cause) -> Self {
        ApiError::Invalid {
            subject: Subject {
                group: group.to_string(),
                kind: kind.to_string(),
                name: name.to_string(),
            },
            causes: vec![cause],
        }
    }

    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            ApiError::NotFound { .. } => 404,
            ApiError::AlreadyExists { .. } | ApiError::Conflict { .. } => 409,
            ApiError::Invalid { .. } => 422,
            ApiError::BadRequest(_) => 400,
            ApiError::Forbidden { .. } => 403,
            ApiError::MethodNotAllowed(_) => 405,
            ApiError::Gone(_) => 410,
            ApiError::UnsupportedMediaType(_) => 415,
            ApiError::TooManyRequests(_) => 429,
            ApiError::Internal(_) => 500,
            ApiError::Custom { code, .. } => *code,
        }
    }

    /// The Status `reason` field.
    pub fn reason(&self) -> &'static str {
        match self {
            ApiError::NotFound { .. } => "NotFound",
            ApiError::AlreadyExists { .. } => "AlreadyExists",
            ApiError::Conflict { .. } => "Conflict",
            ApiError::Invalid { .. } => "Invalid",
            ApiError::BadRequest(_) => "BadRequest",
            ApiError::Forbidden { .. } => "Forbidden",
            ApiError::MethodNotAllowed(_) => "MethodNotAllowed",
            ApiError::Gone(_) => "Expired",
            ApiError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            ApiError::TooManyRequests(_) => "TooManyRequests",
            ApiError::Internal(_) => "InternalError",
            ApiError::Custom { code, .. } => match code {
                500 => "InternalError",
                503 => "ServiceUnavailable",
                504 => "Timeout",
                429 => "TooManyRequests",
                _ => "Unknown",
            },
        }
    }

    /// The full `kind: Status` object.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.to_string(),
            "reason": self.reason(),
        });
        let details = match self {
            ApiError::NotFound { subject, .. }
            | ApiError::AlreadyExists { subject }
            | ApiError::Forbidden { subject, .. } => Some(details(subject, &[])),
            ApiError::Conflict {
                subject, causes, ..
            }
            | ApiError::Invalid { subject, causes } => Some(details(subject, causes)),
            ApiError::TooManyRequests(_) => Some(json!({"retryAfterSeconds": 1})),
            _ => None,
        };
        if let (Some(details), Some(map)) = (details, status.as_object_mut()) {
            map.insert("details".to_string(), details);
        }
        if let Some(map) = status.as_object_mut() {
            map.insert("code".to_string(), json!(self.code()));
        }
        status
    }
}

fn details(subject: &Subject, causes: &[Cause]) -> Value {
    let mut details = serde_json::Map::new();
    if !subject.name.is_empty() {
        details.insert("name".into(), json!(subject.name));
    }
    if !subject.group.is_empty() {
        details.insert("group".into(), json!(subject.group));
    }
    if !subject.kind.is_empty() {
        details.insert("kind".into(), json!(subject.kind));
    }
    if !causes.is_empty() {
        let causes: Vec<Value> = causes
            .iter()
            .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
            .collect();
        details.insert("causes".into(), Value::Array(causes));
    }
    Value::Object(details)
}

/// The `Status` a successful immediate delete answers with.
pub fn delete_success(group: &str, plural: &str, name: &str, uid: &str) -> Value {
    let mut details = json!({"name": name, "kind": plural, "uid": uid});
    if !group.is_empty()
        && let Some(map) = details.as_object_mut()
    {
        map.insert("group".into(), json!(group));
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_matches_real_server_shape() {
        let status = ApiError::not_found("apps", "deployments", "web").to_status();
        assert_eq!(status["message"], "deployments.apps \"web\" not found");
        assert_eq!(status["code"], 404);
        assert_eq!(status["details"]["group"], "apps");
        assert_eq!(status["details"]["kind"], "deployments");
    }

    #[test]
    fn invalid_lists_field_in_message() {
        let err = ApiError::invalid(
            "apps",
            "Deployment",
            "web",
            Cause {
                reason: "FieldValueInvalid".into(),
                message: "field is immutable".into(),
                field: "spec.selector".into(),
            },
        );
        assert_eq!(
            err.to_string(),
            "Deployment.apps \"web\" is invalid: spec.selector: field is immutable"
        );
    }
}
