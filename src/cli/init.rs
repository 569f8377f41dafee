//! `braid init`: check the configuration, create the state, configure providers.

use super::{CommandResult, Context, EXIT_OK};
use crate::diag::state_error;

pub async fn run(cx: &Context) -> CommandResult {
    let prepared = cx.prepare().await?;
    let meta = prepared.store.meta().await.map_err(state_error)?;
    let providers = prepared.ws.provider_names(std::iter::empty());
    if cx.shell.format() == crate::view::Format::Json {
        cx.shell.json(&serde_json::json!({
            "project_dir": prepared.ws.project.dir,
            "env": prepared.ws.env_name,
            "state": {
                "location": prepared.store.location(),
                "lineage": meta.lineage,
                "serial": meta.serial,
            },
            "sources": prepared.ws.sources.iter().map(|s| &s.revision).collect::<Vec<_>>(),
            "providers": providers,
        }));
        return Ok(EXIT_OK);
    }
    cx.shell.out(&format!(
        "braid is ready in {}\n  environment: {}\n  state:       {} (lineage {}, serial {})\n  sources:     {}\n  providers:   {}\n",
        prepared.ws.project.dir.display(),
        prepared.ws.env_name,
        prepared.store.location(),
        meta.lineage,
        meta.serial,
        prepared
            .ws
            .sources
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        if providers.is_empty() {
            "none".to_string()
        } else {
            providers.into_iter().collect::<Vec<_>>().join(", ")
        },
    ));
    Ok(EXIT_OK)
}
