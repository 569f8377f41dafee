//! The code tonic-prost-build generates from `proto/` (see build.rs).

#![allow(clippy::all, clippy::pedantic, missing_docs, dead_code)]

/// Terraform's plugin protocol 5.
pub(crate) mod tfplugin5 {
    tonic::include_proto!("tfplugin5");
}

/// go-plugin's own services.
pub(crate) mod plugin {
    tonic::include_proto!("plugin");
}
