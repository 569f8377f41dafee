//! The code tonic-prost-build generates from `proto/` (see build.rs), and what lets one
//! piece of braid code speak both protocol versions.
//!
//! Protocols 5 and 6 share every message braid uses field for field (only some calls are
//! renamed, and schema attributes gain nested types in 6), but prost makes separate Rust
//! types of them. Each call is therefore written once, inside [`rpc!`], which expands it
//! for both generated modules; the traits and conversions here are implemented for both by
//! [`for_both_protocols!`].

#![allow(clippy::all, clippy::pedantic, missing_docs, dead_code)]

use tonic::transport::Channel;

use crate::diagnostics::{Diagnostic, PathStep, Severity};

/// Terraform's plugin protocol 5.
pub(crate) mod tfplugin5 {
    tonic::include_proto!("tfplugin5");
}

/// Terraform's plugin protocol 6.
pub(crate) mod tfplugin6 {
    tonic::include_proto!("tfplugin6");

    // The protocol-5 names of the messages protocol 6 renamed, so that a call is written
    // once for both (message names never reach the wire).
    pub(crate) use configure_provider as configure;
    pub(crate) use stop_provider as stop;
    pub(crate) use validate_data_resource_config as validate_data_source_config;
    pub(crate) use validate_resource_config as validate_resource_type_config;
}

/// go-plugin's own services.
pub(crate) mod plugin {
    tonic::include_proto!("plugin");
}

/// The provider service of the protocol version the plugin chose.
#[derive(Debug, Clone)]
pub(crate) enum ProviderClient {
    V5(tfplugin5::provider_client::ProviderClient<Channel>),
    V6(tfplugin6::provider_client::ProviderClient<Channel>),
}

impl ProviderClient {
    pub(crate) fn new(protocol_version: u32, channel: Channel, max_message: usize) -> Self {
        if protocol_version == 6 {
            ProviderClient::V6(
                tfplugin6::provider_client::ProviderClient::new(channel)
                    .max_decoding_message_size(max_message)
                    .max_encoding_message_size(max_message),
            )
        } else {
            ProviderClient::V5(
                tfplugin5::provider_client::ProviderClient::new(channel)
                    .max_decoding_message_size(max_message)
                    .max_encoding_message_size(max_message),
            )
        }
    }
}

/// One call, written once for both protocols:
/// `rpc!(plugin, "CallName", v5_method / v6_method, |pb| request, |response| answer)`.
/// `pb` names the protocol's generated module inside `request` and `answer`; the answer
/// expression may use `?` on [`crate::CallError`].
macro_rules! rpc {
    ($plugin:expr, $call:expr, $v5:ident / $v6:ident, |$pb:ident| $request:expr, |$response:ident| $answer:expr) => {
        match $plugin.client() {
            $crate::proto::ProviderClient::V5(mut client) => {
                #[allow(unused_imports)]
                use $crate::proto::tfplugin5 as $pb;
                let result = client.$v5($request).await;
                let $response = $plugin.answer($call, result).await?;
                $answer
            }
            $crate::proto::ProviderClient::V6(mut client) => {
                #[allow(unused_imports)]
                use $crate::proto::tfplugin6 as $pb;
                let result = client.$v6($request).await;
                let $response = $plugin.answer($call, result).await?;
                $answer
            }
        }
    };
}
pub(crate) use rpc;

/// A protocol's `DynamicValue`: a value's MessagePack on the wire.
pub(crate) trait WireValue: Sized {
    fn from_msgpack(msgpack: Vec<u8>) -> Self;
    fn into_msgpack(self) -> Vec<u8>;
}

/// Implements the protocol-neutral conversions for one generated module.
macro_rules! for_both_protocols {
    ($($pb:ident),*) => {$(
        impl WireValue for $pb::DynamicValue {
            fn from_msgpack(msgpack: Vec<u8>) -> Self {
                $pb::DynamicValue { msgpack, json: Vec::new() }
            }
            fn into_msgpack(self) -> Vec<u8> {
                self.msgpack
            }
        }

        impl From<$pb::Diagnostic> for Diagnostic {
            fn from(diagnostic: $pb::Diagnostic) -> Diagnostic {
                let severity = match diagnostic.severity() {
                    $pb::diagnostic::Severity::Warning => Severity::Warning,
                    // INVALID is treated as the stricter reading.
                    $pb::diagnostic::Severity::Error | $pb::diagnostic::Severity::Invalid => {
                        Severity::Error
                    }
                };
                Diagnostic {
                    severity,
                    summary: diagnostic.summary,
                    detail: diagnostic.detail,
                    attribute_path: diagnostic.attribute.map(Vec::from).unwrap_or_default(),
                }
            }
        }

        impl From<$pb::AttributePath> for Vec<PathStep> {
            fn from(path: $pb::AttributePath) -> Vec<PathStep> {
                use $pb::attribute_path::step::Selector;
                path.steps
                    .into_iter()
                    .filter_map(|step| step.selector)
                    .map(|selector| match selector {
                        Selector::AttributeName(name) => PathStep::Attribute(name),
                        Selector::ElementKeyString(key) => PathStep::Key(key),
                        Selector::ElementKeyInt(index) => PathStep::Index(index),
                    })
                    .collect()
            }
        }

        impl From<$pb::Deferred> for Deferral {
            fn from(deferred: $pb::Deferred) -> Deferral {
                Deferral(format!("{:?}", deferred.reason()))
            }
        }
    )*};
}

for_both_protocols!(tfplugin5, tfplugin6);

/// Why a provider deferred a call, in the protocol's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Deferral(pub(crate) String);
