//! Runs Terraform provider plugins — the `terraform-provider-*` executables Terraform and
//! OpenTofu use — and talks to them over Terraform's plugin protocol.
//!
//! braid's provider registry reaches plugins through it (`braid-provider-terraform`).
//!
//! What it does:
//! - starts a plugin with go-plugin's handshake: the magic cookie, the protocol versions
//!   braid offers (`PLUGIN_PROTOCOL_VERSIONS`: 5 and 6, the plugin picks one and every call
//!   below is made in it), and AutoMTLS — a fresh
//!   self-signed client certificate per process in `PLUGIN_CLIENT_CERT`, and a TLS client that
//!   trusts only the certificate the plugin prints in its handshake line ([`handshake`]);
//! - connects with gRPC (tonic) over that mutual TLS, on the plugin's unix socket or TCP port;
//! - keeps the tail of the plugin's stderr, so a plugin that fails to start or dies during a
//!   call is reported with its last words ([`OutputTail`]);
//! - calls GetProviderSchema (summarised as plain data in [`ProviderSchema`], attribute
//!   types as cty type JSON), PrepareProviderConfig, ConfigureProvider and StopProvider, with
//!   configuration objects built from the schema as Terraform builds them
//!   ([`config_object`], MessagePack as cty encodes it);
//! - the resource and data source lifecycle: validate, UpgradeResourceState, ReadResource,
//!   PlanResourceChange, ApplyResourceChange, ImportResourceState, MoveResourceState and
//!   ReadDataSource, with braid's values converted by the schema's cty types ([`cty`]) and
//!   the proposed new state computed as Terraform computes it ([`proposed_new`]);
//! - shuts the plugin down with go-plugin's `GRPCController.Shutdown`, kills it when it does
//!   not exit in time, and always reaps it: dropping a [`ProviderPlugin`] leaves no process.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use braid_tfplugin::{PluginCommand, ProviderPlugin, config_object};
//! let plugin = ProviderPlugin::start(&PluginCommand::new(
//!     "/opt/tf-plugins/registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64/terraform-provider-aws_v5.100.0_x5",
//! )).await?;
//! let schema = plugin.get_provider_schema().await?;
//! let config = config_object(&schema.provider.block, [("region".to_owned(), "us-east-1".into())])?;
//! let diagnostics = plugin.configure_provider(&config).await?;
//! plugin.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! The protocol definitions in `proto/` are braid's own, written from the published wire
//! facts (names and field numbers) and holding only the calls used so far. Protocol 6's
//! nested attribute types are read into [`NestedType`]; each attribute's `cty_type` is then
//! the type they imply, so values convert the same way in both versions.

mod config;
pub mod cty;
mod diagnostics;
pub mod handshake;
mod lifecycle;
mod plugin;
mod process;
mod proposed;
mod proto;
mod schema;
mod tls;

pub use config::{ConfigError, config_object, decode_msgpack, encode_msgpack};
pub use diagnostics::{Diagnostic, PathStep, Severity};
pub use lifecycle::{Imported, ImportedResource, NewState, PlannedChange};
pub use plugin::{
    CallError, PluginCommand, PreparedConfig, ProviderPlugin, REPORTED_TERRAFORM_VERSION,
    SUPPORTED_PROTOCOL_VERSIONS, StartError,
};
pub use process::{MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, OutputTail};
pub use proposed::proposed_new;
pub use prost::DecodeError;
pub use schema::{Attribute, Block, NestedBlock, NestedType, Nesting, ProviderSchema, Schema};
pub use tls::TlsError;
