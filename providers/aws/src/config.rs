//! The provider configuration (`provider "aws" { ... }`) and the SDK clients built from it.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_http_client::tls;
use braid_provider::{Path, ProviderDiagnostic, Value};

/// Attempts per request, including the first; throttling and 5xx answers are retried with
/// exponential backoff by the SDK's standard retry mode.
const DEFAULT_MAX_ATTEMPTS: u32 = 5;
/// How long one attempt of a request may take (connecting included) unless
/// `request_timeout` says otherwise; a server that never answers fails the attempt.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting may take, at most.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The settings of the provider block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProviderSettings {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint: Option<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    pub session_token: Option<String>,
    pub assume_role: Option<AssumeRole>,
    pub max_attempts: u32,
    pub s3_use_path_style: Option<bool>,
    /// Per-attempt timeout; `None` until parsed (then [`DEFAULT_REQUEST_TIMEOUT`]).
    pub request_timeout: Option<Duration>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssumeRole {
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
}

impl ProviderSettings {
    /// Reads the provider block; every problem is a diagnostic on its attribute.
    pub fn parse(config: &Value) -> Result<ProviderSettings, Vec<ProviderDiagnostic>> {
        let mut diags = Vec::new();
        let mut text = |name: &str, within: &Value, at: Path| -> Option<String> {
            match within.attr(name) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if s.is_empty() => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Unknown) => {
                    diags.push(unknown(&at));
                    None
                }
                Some(other) => {
                    diags.push(wrong_type(&at, "string", other));
                    None
                }
            }
        };
        let region = text("region", config, Path::key("region"));
        let profile = text("profile", config, Path::key("profile"));
        let endpoint = text("endpoint", config, Path::key("endpoint"));
        let access_key = text("access_key", config, Path::key("access_key"));
        let secret_key = text("secret_key", config, Path::key("secret_key"));
        let session_token = text("session_token", config, Path::key("session_token"));
        let assume_role_value = match config.attr("assume_role") {
            // A block arrives as a map; accept a list of one too.
            Some(Value::List(items)) if items.len() == 1 => Some(items[0].clone()),
            Some(Value::Null) | None => None,
            Some(other) => Some(other.clone()),
        };
        let assume_role = match assume_role_value {
            None => None,
            Some(block @ Value::Map(_)) => {
                let at = Path::key("assume_role");
                let role_arn = text("role_arn", &block, at.child_key("role_arn"));
                let session_name = text("session_name", &block, at.child_key("session_name"));
                let external_id = text("external_id", &block, at.child_key("external_id"));
                match role_arn {
                    Some(role_arn) => Some(AssumeRole {
                        role_arn,
                        session_name,
                        external_id,
                    }),
                    None => {
                        diags.push(
                            ProviderDiagnostic::error(
                                "Missing required argument",
                                "The assume_role block needs role_arn, the ARN of the role to \
                                 assume.",
                            )
                            .at(at),
                        );
                        None
                    }
                }
            }
            Some(other) => {
                diags.push(wrong_type(&Path::key("assume_role"), "block", &other));
                None
            }
        };
        let max_attempts = match config.attr("max_retries") {
            None | Some(Value::Null) => DEFAULT_MAX_ATTEMPTS,
            Some(v) => match v.as_i64().and_then(|n| u32::try_from(n).ok()) {
                Some(n) => n.saturating_add(1),
                None => {
                    diags.push(wrong_type(&Path::key("max_retries"), "whole number", v));
                    DEFAULT_MAX_ATTEMPTS
                }
            },
        };
        let s3_use_path_style = match config.attr("s3_use_path_style") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(other) => {
                diags.push(wrong_type(&Path::key("s3_use_path_style"), "bool", other));
                None
            }
        };
        let request_timeout = match config.attr("request_timeout") {
            None | Some(Value::Null) => DEFAULT_REQUEST_TIMEOUT,
            Some(Value::String(text)) => braid_provider::duration_setting("request_timeout", text)
                .unwrap_or_else(|d| {
                    diags.push(d);
                    DEFAULT_REQUEST_TIMEOUT
                }),
            Some(other) => {
                diags.push(wrong_type(&Path::key("request_timeout"), "string", other));
                DEFAULT_REQUEST_TIMEOUT
            }
        };
        if access_key.is_some() != secret_key.is_some() {
            diags.push(ProviderDiagnostic::error(
                "Incomplete static credentials",
                "access_key and secret_key must be set together. Set both, or neither to use \
                 the standard AWS credential chain (environment, profile, web identity, \
                 container and instance metadata).",
            ));
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        Ok(ProviderSettings {
            region,
            profile,
            endpoint,
            access_key,
            secret_key,
            session_token,
            assume_role,
            max_attempts,
            s3_use_path_style,
            request_timeout: Some(request_timeout),
        })
    }

    /// Every attempt of a request may take `request_timeout` (connecting at most 10 s of
    /// it); a server that accepts the connection and never answers fails the attempt, and
    /// the SDK's retries then end the call.
    fn timeouts(&self) -> aws_config::timeout::TimeoutConfig {
        let attempt = self.request_timeout.unwrap_or(DEFAULT_REQUEST_TIMEOUT);
        aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(attempt.min(CONNECT_TIMEOUT))
            .read_timeout(attempt)
            .operation_attempt_timeout(attempt)
            .build()
    }

    /// Loads the SDK configuration: the standard chain for region and credentials, with
    /// the block's settings on top.
    pub async fn load(&self) -> Result<SdkConfig, ProviderDiagnostic> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client())
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(self.max_attempts.max(1))
                    .with_initial_backoff(Duration::from_millis(200))
                    .with_max_backoff(Duration::from_secs(20)),
            )
            .timeout_config(self.timeouts());
        if let Some(region) = &self.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(endpoint) = &self.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        if let (Some(key), Some(secret)) = (&self.access_key, &self.secret_key) {
            loader = loader.credentials_provider(Credentials::new(
                key,
                secret,
                self.session_token.clone(),
                None,
                "braid-provider-config",
            ));
        }
        let base = loader.load().await;
        if base.region().is_none() {
            return Err(ProviderDiagnostic::error(
                "No AWS region",
                "The aws provider needs a region. Set region in the provider block, or \
                 AWS_REGION in the environment, or a region in the AWS profile.",
            )
            .at(Path::key("region")));
        }
        let Some(role) = &self.assume_role else {
            return Ok(base);
        };
        let mut builder = AssumeRoleProvider::builder(role.role_arn.clone())
            .session_name(
                role.session_name
                    .clone()
                    .unwrap_or_else(|| "braid".to_string()),
            )
            .configure(&base);
        if let Some(id) = &role.external_id {
            builder = builder.external_id(id);
        }
        let provider = builder.build().await;
        Ok(base
            .into_builder()
            .credentials_provider(SharedCredentialsProvider::new(provider))
            .build())
    }
}

/// HTTPS (and plain HTTP, for emulators) through rustls with ring.
fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// One client per service, built once at configure.
#[derive(Debug, Clone)]
pub struct Clients {
    pub region: String,
    pub s3: aws_sdk_s3::Client,
    pub iam: aws_sdk_iam::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub sns: aws_sdk_sns::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub secretsmanager: aws_sdk_secretsmanager::Client,
    pub sts: aws_sdk_sts::Client,
}

impl Clients {
    pub fn new(sdk: &SdkConfig, settings: &ProviderSettings) -> Clients {
        // Emulators answer on one host, so buckets cannot be virtual-hosted subdomains.
        let path_style = settings
            .s3_use_path_style
            .unwrap_or(settings.endpoint.is_some());
        let s3 = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(path_style)
            .build();
        Clients {
            region: sdk.region().map(ToString::to_string).unwrap_or_default(),
            s3: aws_sdk_s3::Client::from_conf(s3),
            iam: aws_sdk_iam::Client::new(sdk),
            sqs: aws_sdk_sqs::Client::new(sdk),
            sns: aws_sdk_sns::Client::new(sdk),
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            ecr: aws_sdk_ecr::Client::new(sdk),
            ssm: aws_sdk_ssm::Client::new(sdk),
            secretsmanager: aws_sdk_secretsmanager::Client::new(sdk),
            sts: aws_sdk_sts::Client::new(sdk),
        }
    }
}

fn unknown(at: &Path) -> ProviderDiagnostic {
    ProviderDiagnostic::error(
        "Provider configuration unknown",
        format!(
            "The attribute \"{at}\" depends on a value that is only known after apply, but the \
             provider needs it to plan. Set it from variables, env() or literals."
        ),
    )
    .at(at.clone())
}

fn wrong_type(at: &Path, expected: &str, actual: &Value) -> ProviderDiagnostic {
    ProviderDiagnostic::error(
        "Incorrect attribute value type",
        format!(
            "The attribute \"{at}\" must be a {expected}, but the given value is {}.",
            actual.kind()
        ),
    )
    .at(at.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_block_with_assume_role() {
        let config = Value::map([
            ("region", Value::from("eu-west-1")),
            ("endpoint", Value::from("http://127.0.0.1:5000")),
            ("max_retries", Value::from(2)),
            (
                "assume_role",
                Value::map([("role_arn", Value::from("arn:aws:iam::1:role/deploy"))]),
            ),
        ]);
        let settings = ProviderSettings::parse(&config).expect("valid");
        assert_eq!(settings.region.as_deref(), Some("eu-west-1"));
        assert_eq!(settings.max_attempts, 3);
        assert_eq!(
            settings.assume_role.map(|r| r.role_arn),
            Some("arn:aws:iam::1:role/deploy".to_string())
        );
    }

    #[test]
    fn rejects_unknown_and_half_credentials() {
        let config = Value::map([
            ("region", Value::Unknown),
            ("access_key", Value::from("AKIA")),
        ]);
        let diags = ProviderSettings::parse(&config).expect_err("invalid");
        assert_eq!(diags.len(), 2, "{diags:?}");
        assert_eq!(diags[0].attribute, Some(Path::key("region")));
    }
}
