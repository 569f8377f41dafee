//! Errors of AWS calls, and how they become diagnostics that name the resource, the AWS error
//! code and its message.

use std::fmt::Debug;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::error::operation::BuildError;
use braid_provider::{Path, ProviderDiagnostic};

/// Error codes AWS services use for "no such object". A read that gets one reports the object
/// as deleted; a delete that gets one has nothing left to do.
const NOT_FOUND_CODES: &[&str] = &[
    "NotFound",
    "NoSuchBucket",
    "NoSuchBucketPolicy",
    "NoSuchEntity",
    "NoSuchTagSet",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "ResourceNotFoundException",
    "RepositoryNotFoundException",
    "ParameterNotFound",
];

/// A failed step of a resource operation.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// AWS answered with an error.
    #[error("{operation} returned {code}: {message}")]
    Service {
        operation: &'static str,
        code: String,
        message: String,
        status: Option<u16>,
    },
    /// The request did not get an answer (connection refused, timeout, bad credentials
    /// configuration).
    #[error("{operation} could not be sent: {detail}")]
    Transport {
        operation: &'static str,
        detail: String,
    },
    /// An attribute value AWS would reject, caught before calling it.
    #[error("{message}")]
    InvalidAttribute { attribute: String, message: String },
    /// A request could not be put together (a required field was missing).
    #[error("the {operation} request could not be built: {source}")]
    BuildRequest {
        operation: &'static str,
        #[source]
        source: BuildError,
    },
    /// AWS accepted a change but the object could not be read back.
    #[error("{operation} succeeded, but the object could not be read back afterwards")]
    MissingAfterWrite { operation: &'static str },
}

impl AwsError {
    /// Classifies an SDK error of `operation` (e.g. "CreateBucket").
    pub fn from_sdk<E>(operation: &'static str, err: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        match &err {
            SdkError::ServiceError(_) => AwsError::Service {
                operation,
                code: err
                    .code()
                    .map(str::to_string)
                    .or_else(|| {
                        status.map(|s| {
                            if s == 404 {
                                "NotFound".to_string()
                            } else {
                                format!("HTTP {s}")
                            }
                        })
                    })
                    .unwrap_or_else(|| "Unknown".to_string()),
                message: err
                    .message()
                    .map(str::to_string)
                    .unwrap_or_else(|| "no message".to_string()),
                status,
            },
            _ => AwsError::Transport {
                operation,
                detail: DisplayErrorContext(&err).to_string(),
            },
        }
    }

    pub fn invalid(attribute: &str, message: impl Into<String>) -> AwsError {
        AwsError::InvalidAttribute {
            attribute: attribute.to_string(),
            message: message.into(),
        }
    }

    /// True when AWS says the object does not exist.
    pub fn is_not_found(&self) -> bool {
        match self {
            AwsError::Service { code, status, .. } => {
                NOT_FOUND_CODES.contains(&code.as_str()) || *status == Some(404)
            }
            _ => false,
        }
    }

    /// The diagnostic for this error while `step` ("creating", "reading", ...) `address`.
    pub fn diagnostic(&self, step: &str, address: &str) -> ProviderDiagnostic {
        match self {
            AwsError::Service {
                operation,
                code,
                message,
                ..
            } => ProviderDiagnostic::error(
                "AWS request failed",
                format!(
                    "AWS refused {step} {address}: {operation} returned error code {code}: \
                     {message}"
                ),
            ),
            AwsError::Transport { operation, detail } => ProviderDiagnostic::error(
                "AWS request could not be sent",
                format!(
                    "{step} {address} failed because {operation} could not reach AWS: {detail}. \
                     Check the provider's region, endpoint and credentials."
                ),
            ),
            AwsError::InvalidAttribute { attribute, message } => ProviderDiagnostic::error(
                "Invalid attribute value",
                format!("{address}: {message}"),
            )
            .at(Path::key(attribute.clone())),
            AwsError::BuildRequest { operation, source } => ProviderDiagnostic::error(
                "AWS request could not be built",
                format!(
                    "{step} {address} failed: the {operation} request is incomplete: {source}."
                ),
            ),
            AwsError::MissingAfterWrite { operation } => ProviderDiagnostic::error(
                "Object missing after write",
                format!(
                    "{step} {address}: {operation} succeeded, but the object could not be read \
                     back afterwards. Run braid plan again to see its state."
                ),
            ),
        }
    }
}

/// `Result::map_err` for SDK calls: `.map_err(sdk("CreateBucket"))`.
pub fn sdk<E>(operation: &'static str) -> impl FnOnce(SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |err| AwsError::from_sdk(operation, err)
}

/// `Result::map_err` for request builders: `.map_err(build("PutBucketTagging"))`.
pub fn build(operation: &'static str) -> impl FnOnce(BuildError) -> AwsError {
    move |source| AwsError::BuildRequest { operation, source }
}

/// Turns a not-found error into `Ok(None)`.
pub fn found<T>(result: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Turns a not-found error into success, for deletes.
pub fn gone(result: Result<(), AwsError>) -> Result<(), AwsError> {
    match result {
        Err(e) if e.is_not_found() => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_error_diagnostic_names_address_code_and_message() {
        let err = AwsError::Service {
            operation: "CreateBucket",
            code: "BucketAlreadyExists".to_string(),
            message: "The requested bucket name is not available".to_string(),
            status: Some(409),
        };
        let d = err.diagnostic("creating", "aws_s3_bucket.assets");
        assert!(d.is_error());
        assert!(d.detail.contains("aws_s3_bucket.assets"), "{}", d.detail);
        assert!(d.detail.contains("BucketAlreadyExists"), "{}", d.detail);
        assert!(d.detail.contains("not available"), "{}", d.detail);
        assert!(!err.is_not_found());
    }

    #[test]
    fn not_found_by_code_or_status() {
        let by_code = AwsError::Service {
            operation: "GetRole",
            code: "NoSuchEntity".to_string(),
            message: String::new(),
            status: Some(400),
        };
        assert!(by_code.is_not_found());
        let by_status = AwsError::Service {
            operation: "HeadBucket",
            code: "HTTP 404".to_string(),
            message: String::new(),
            status: Some(404),
        };
        assert!(by_status.is_not_found());
        assert!(
            found::<()>(Err(by_status))
                .expect("not found is ok")
                .is_none()
        );
    }
}
