//! Helpers shared by the provider tests: a `moto_server` (from `braid-testkit`), a provider
//! configured against it, SDK clients to check what really happened, and the plan/apply
//! steps the engine performs.

#![allow(dead_code)] // Each test binary uses a different part of this module.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_http_client::tls;
use braid_provider::{
    ApplyRequest, ImportRequest, Path, PathStep, PlanRequest, PlanResponse, Provider, ReadRequest,
    Value,
};
use braid_provider_aws::AwsProvider;
use braid_testkit::MotoServer;

pub const REGION: &str = "us-east-1";
pub const ADDRESS: &str = "test.resource";

/// A provider and SDK clients against one moto_server.
pub struct Harness {
    pub provider: AwsProvider,
    pub sdk: SdkConfig,
    pub moto: MotoServer,
}

impl Harness {
    /// A fresh moto_server; the test fails when it cannot start.
    pub async fn start() -> Harness {
        let moto = MotoServer::start();
        let provider = AwsProvider::new();
        let diagnostics = provider
            .configure(Value::map([
                ("region", Value::from(REGION)),
                ("endpoint", Value::from(moto.endpoint())),
                ("access_key", Value::from("testing")),
                ("secret_key", Value::from("testing")),
            ]))
            .await;
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .http_client(
                aws_smithy_http_client::Builder::new()
                    .tls_provider(tls::Provider::Rustls(
                        tls::rustls_provider::CryptoMode::Ring,
                    ))
                    .build_https(),
            )
            .region(Region::new(REGION))
            .endpoint_url(moto.endpoint())
            .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
            .load()
            .await;
        Harness {
            provider,
            sdk,
            moto,
        }
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    pub async fn plan(
        &self,
        type_name: &str,
        prior: Option<&Value>,
        config: &Value,
    ) -> PlanResponse {
        let response = self
            .provider
            .plan(PlanRequest {
                type_name: type_name.to_string(),
                address: ADDRESS.to_string(),
                prior: prior.cloned(),
                config: config.clone(),
                sensitive: Vec::new(),
            })
            .await;
        assert!(
            response.diagnostics.is_empty(),
            "plan: {:?}",
            response.diagnostics
        );
        response
    }

    /// Plans and applies like the engine: the result must match the plan at every known path.
    pub async fn apply(
        &self,
        type_name: &str,
        prior: Option<&Value>,
        config: &Value,
    ) -> (PlanResponse, Value) {
        let planned = self.plan(type_name, prior, config).await;
        let applied = self
            .provider
            .apply(ApplyRequest {
                type_name: type_name.to_string(),
                address: ADDRESS.to_string(),
                prior: prior.cloned(),
                planned: Some(planned.planned.clone()),
                config: config.clone(),
            })
            .await;
        assert!(
            applied.diagnostics.is_empty(),
            "apply: {:?}",
            applied.diagnostics
        );
        let state = applied.new_state.expect("a create or update returns state");
        assert!(state.is_wholly_known(), "state has unknowns: {state:?}");
        let differing = mismatches(&planned.planned, &state);
        assert!(
            differing.is_empty(),
            "result differs from plan at {differing:?}\nplanned: {:?}\nstate: {state:?}",
            planned.planned
        );
        (planned, state)
    }

    /// Replaces like the engine (delete, then create); returns the new state.
    pub async fn replace(
        &self,
        type_name: &str,
        prior: &Value,
        config: &Value,
        expect: &[&str],
    ) -> Value {
        let planned = self.plan(type_name, Some(prior), config).await;
        let paths: Vec<Path> = expect.iter().map(|a| Path::key(*a)).collect();
        assert_eq!(planned.requires_replace, paths);
        self.destroy(type_name, prior).await;
        self.apply(type_name, None, config).await.1
    }

    pub async fn read(&self, type_name: &str, state: &Value) -> Option<Value> {
        let response = self
            .provider
            .read(ReadRequest {
                type_name: type_name.to_string(),
                address: ADDRESS.to_string(),
                current: state.clone(),
            })
            .await;
        assert!(
            response.diagnostics.is_empty(),
            "read: {:?}",
            response.diagnostics
        );
        response.state
    }

    /// Refresh shows nothing changed and the plan is a no-op.
    pub async fn assert_no_op(&self, type_name: &str, state: &Value, config: &Value) {
        let live = self.read(type_name, state).await.expect("object exists");
        assert_eq!(&live, state, "refresh shows drift where there is none");
        let planned = self.plan(type_name, Some(&live), config).await;
        assert!(
            planned.requires_replace.is_empty(),
            "{:?}",
            planned.requires_replace
        );
        assert_eq!(&planned.planned, state, "plan is not a no-op");
    }

    /// An in-place update: no replacement, a different planned value, then applied.
    pub async fn update(&self, type_name: &str, state: &Value, config: &Value) -> Value {
        let live = self.read(type_name, state).await.expect("object exists");
        let (planned, new_state) = self.apply(type_name, Some(&live), config).await;
        assert!(
            planned.requires_replace.is_empty(),
            "{:?}",
            planned.requires_replace
        );
        assert_ne!(&planned.planned, &live, "the plan shows no change");
        assert_eq!(
            attr(&new_state, "id"),
            attr(state, "id"),
            "update changed the id"
        );
        self.assert_no_op(type_name, &new_state, config).await;
        new_state
    }

    /// After an out-of-band change: refresh shows it, the plan reverts it in place.
    pub async fn restore_drift(
        &self,
        type_name: &str,
        state: &Value,
        config: &Value,
        drifted: &str,
    ) -> Value {
        let live = self.read(type_name, state).await.expect("object exists");
        assert_ne!(
            attr(&live, drifted),
            attr(state, drifted),
            "drift of {drifted} not seen"
        );
        let restored = self.update(type_name, &live, config).await;
        assert_eq!(attr(&restored, drifted), attr(state, drifted));
        restored
    }

    /// After an out-of-band delete: refresh says gone, and a create brings it back.
    pub async fn recreate(&self, type_name: &str, state: &Value, config: &Value) -> Value {
        assert_eq!(self.read(type_name, state).await, None, "delete not seen");
        let planned = self.plan(type_name, None, config).await;
        assert_eq!(planned.existing, None);
        self.apply(type_name, None, config).await.1
    }

    pub async fn destroy(&self, type_name: &str, state: &Value) {
        let response = self
            .provider
            .apply(ApplyRequest {
                type_name: type_name.to_string(),
                address: ADDRESS.to_string(),
                prior: Some(state.clone()),
                planned: None,
                config: Value::Null,
            })
            .await;
        assert!(
            response.diagnostics.is_empty(),
            "delete: {:?}",
            response.diagnostics
        );
        assert_eq!(response.new_state, None);
    }

    /// Import by id gives the state (apart from attributes AWS does not keep).
    pub async fn assert_import(&self, type_name: &str, id: &str, state: &Value) {
        let response = self
            .provider
            .import(ImportRequest {
                address: format!("{type_name}.imported"),
                type_name: type_name.to_string(),
                id: id.to_string(),
            })
            .await;
        assert!(
            response.diagnostics.is_empty(),
            "import: {:?}",
            response.diagnostics
        );
        let imported = response.state.expect("imported");
        // Without a prior text to keep, JSON documents come as AWS formats them.
        let json = |v: &Value| match v {
            Value::String(s) if s.starts_with('{') => serde_json::from_str(s).ok(),
            _ => None::<serde_json::Value>,
        };
        for (name, expected) in state.as_map().expect("state is a map") {
            let got = attr(&imported, name);
            match (json(expected), json(got)) {
                (Some(a), Some(b)) => assert_eq!(a, b, "import of {id}: {name}"),
                _ => assert_eq!(got, expected, "import of {id}: {name}"),
            }
        }
    }
}

pub fn attr<'a>(value: &'a Value, name: &str) -> &'a Value {
    value
        .attr(name)
        .unwrap_or_else(|| panic!("attribute {name} missing from {value:?}"))
}

pub fn string(value: &Value, name: &str) -> String {
    attr(value, name)
        .as_str()
        .unwrap_or_else(|| panic!("attribute {name} is not a string in {value:?}"))
        .to_string()
}

/// A config from attribute pairs.
pub fn config<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::map(pairs)
}

/// `config` with one attribute changed.
pub fn with(config: &Value, name: &str, value: Value) -> Value {
    let mut out = config.clone();
    out.set(&Path::key(name), value);
    out
}

pub fn tags<const N: usize>(pairs: [(&str, &str); N]) -> Value {
    Value::map(pairs.map(|(k, v)| (k, Value::from(v))))
}

/// Paths where `actual` differs from a known value of `expected` (the engine's check).
pub fn mismatches(expected: &Value, actual: &Value) -> Vec<Path> {
    let mut out = Vec::new();
    compare(expected, actual, &mut Path::root(), &mut out);
    out
}

fn compare(expected: &Value, actual: &Value, at: &mut Path, out: &mut Vec<Path>) {
    if expected.is_unknown() {
        return;
    }
    match (expected, actual) {
        (Value::Map(e), Value::Map(a)) => {
            for key in e.keys().chain(a.keys().filter(|k| !e.contains_key(k))) {
                at.0.push(PathStep::Key(key.clone()));
                compare(
                    e.get(key).unwrap_or(&Value::Null),
                    a.get(key).unwrap_or(&Value::Null),
                    at,
                    out,
                );
                at.0.pop();
            }
        }
        (e, a) if e == a => {}
        _ => out.push(at.clone()),
    }
}
