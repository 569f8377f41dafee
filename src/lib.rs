//! braid: plan and apply infrastructure (HCL) and Kubernetes manifests as one graph.
//!
//! The engine is split by concept: [`config`] reads configuration, [`source`] reads sources,
//! [`graph`] orders resources, [`plan`] diffs desired against actual, [`apply`] makes the
//! changes, [`view`] renders everything the user sees, and [`cli`] wires commands to them.
//! See docs/architecture.md for a walk through `braid apply`.

pub mod config;
pub mod diag;
pub mod graph;
pub mod plan;
pub mod providers;
pub mod source;
pub mod workspace;

pub mod actor;
pub mod apply;
pub mod cli;
pub mod manifests;
pub mod view;
