//! `kubesim`: a Kubernetes API server emulator for braid's tests.
//!
//! Serves discovery, CRUD with the real server's semantics (resourceVersions, generation,
//! finalizers, garbage collection, defaulting, immutable fields, Status errors), all patch
//! types including server-side apply with managedFields, watches, simulated controllers
//! and fault injection, over plain HTTP on 127.0.0.1.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kubesim::ServerError> {
//! let server = kubesim::Server::start(kubesim::Config::default()).await?;
//! println!("{} {}", server.url(), server.kubeconfig_path().display());
//! # Ok(()) }
//! ```
//!
//! Module map: `server` (listener, handle), `http` (routing and verb handlers), `write`
//! and `delete` (the write pipeline), `apply` / `managed_fields` / `fieldset` / `schema`
//! (server-side apply), `strategic` (strategic merge patch), `defaults`, `validation`,
//! `store` (objects, resourceVersions, events), `catalogue` and `discovery` (served kinds), `openapi` (OpenAPI v2/v3
//! documents, field validation),
//! `selectors`, `controllers` (simulated status), `faults` (fault injection, request log),
//! `status` (Status errors), `kubeconfig`.

#![warn(missing_docs)]

pub mod apply;
pub mod catalogue;
mod config;
pub mod controllers;
pub mod defaults;
pub mod delete;
pub mod discovery;
pub mod faults;
pub mod fieldset;
mod http;
pub mod kubeconfig;
pub mod managed_fields;
pub mod openapi;
pub mod schema;
pub mod selectors;
mod server;
pub mod status;
pub mod store;
pub mod strategic;
pub mod validation;
pub mod write;

pub use config::Config;
pub use controllers::{FAIL_ANNOTATION, READY_AFTER_ANNOTATION};
pub use faults::{FailureMode, FaultInjector, Faults, RequestRecord, ScriptedFailure};
pub use server::{Server, ServerError};
