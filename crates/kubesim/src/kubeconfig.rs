//! Writing the kubeconfig file clients use to reach the emulator.

use std::path::Path;

use serde_json::json;

/// Errors writing the kubeconfig.
#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    /// Serialising to YAML failed.
    #[error("rendering kubeconfig as YAML")]
    Render(#[source] serde_yaml_ng::Error),
    /// Writing the file failed.
    #[error("writing kubeconfig {path}")]
    Write {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// The kubeconfig YAML for a server at `url`.
pub fn render(url: &str, name: &str, token: &str) -> Result<String, KubeconfigError> {
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": url}}],
        "users": [{"name": name, "user": {"token": token}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": "default"}}],
        "current-context": name,
        "preferences": {},
    });
    serde_yaml_ng::to_string(&doc).map_err(KubeconfigError::Render)
}

/// Writes the kubeconfig to `path`, creating parent directories.
pub fn write(path: &Path, url: &str, name: &str, token: &str) -> Result<(), KubeconfigError> {
    let text = render(url, name, token)?;
    let err = |source| KubeconfigError::Write {
        path: path.display().to_string(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    std::fs::write(path, text).map_err(err)
}
