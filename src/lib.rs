//! braid: plan and apply infrastructure (HCL) and Kubernetes manifests as one graph.
//!
//! The engine is split by concept: [`config`] reads configuration, [`source`] reads sources,
//! [`manifests`] reads Kubernetes YAML, [`graph`] orders resources, [`eval`] evaluates
//! expressions and expands `count`/`for_each`, [`plan`] diffs desired
//! against actual, [`apply`] makes the changes, [`ops`] puts them together as operations
//! over a [`ProviderRegistry`](providers::ProviderRegistry) the caller fills, [`view`]
//! renders everything the user sees, and [`cli`] parses commands and calls [`ops`].
//! See docs/architecture.md for a walk through `braid apply`.

#![warn(missing_docs)]

pub mod config;
pub mod diag;
pub mod eval;
pub mod graph;
pub mod parallel;
pub mod plan;
pub mod private_files;
pub mod providers;
pub mod source;
pub mod state_guard;
pub mod workspace;

pub mod actor;
pub mod agent;
pub mod apply;
pub mod cli;
pub mod manifests;
pub mod ops;
pub mod view;
