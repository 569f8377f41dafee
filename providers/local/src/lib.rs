//! braid's built-in `local` provider.
//!
//! It offers two resource types that need nothing but the machine braid runs on:
//!
//! - `local_file`: a file written from `content` (text) or `content_base64` (bytes), with its
//!   permission bits. Out-of-band edits and deletions show up as drift on the next plan.
//! - `local_value`: a value that lives only in state (Terraform's `terraform_data`), used to
//!   carry a value through apply or to force replacement of dependents via
//!   `triggers_replace`.
//!
//! Relative filenames resolve against the `base_dir` given to [`Provider::configure`]
//! (the engine passes the project directory).
//!
//! [`Provider::configure`]: braid_provider::Provider::configure

#![warn(missing_docs)]
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod attributes;
mod data_file;
mod file_io;
mod local_file;
mod local_value;
mod permission;
mod provider;
mod schema;

pub use provider::LocalProvider;
