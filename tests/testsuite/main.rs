//! braid's end-to-end tests, in one test binary (as cargo's own testsuite is): each module
//! runs the real `braid` binary on projects in temporary directories, against the servers
//! of `braid-testkit` where it needs them — moto_server for AWS, PostgreSQL, kubesim, git
//! repositories made by `git`. Fixtures live in `tests/fixtures`, insta snapshots in
//! `tests/snapshots` (named `testsuite__MODULE__NAME`).
//!
//! Run with `cargo test -p braid --test testsuite`; one module with
//! `cargo test -p braid --test testsuite cli_plan::`.

mod common;

mod agent;
mod apply_rule;
mod aws;
mod cli_apply;
mod cli_commands;
mod cli_errors;
mod cli_history;
mod cli_output_fmt_console;
mod cli_partial_apply;
mod cli_plan;
mod conformance_functions;
mod conformance_numbers;
mod data_sources;
mod distribution;
mod engine;
mod git_sources;
mod helm;
mod import_terraform;
mod kubernetes;
mod kustomize_remote;
mod layering;
mod meta_arguments;
mod modules;
mod plugin_install;
mod policy;
mod pr_comment;
mod private_files;
mod promote;
mod release_windows;
mod rollback;
mod signals;
mod sops;
mod source_confinement;
mod state_backends;
mod state_encryption;
mod state_loss;
mod targeting;
mod terraform_files;
mod terraform_plugins;
mod terraform_protocol6;
mod terraform_side_by_side;
mod timeouts;
mod variable_rules;
mod workflow;
