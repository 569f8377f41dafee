//! `braid init`: check the configuration, create the state, configure providers.

use super::{CommandResult, EXIT_OK, GlobalArgs, out, prepare};
use crate::plan::planner::state_error;

pub async fn run(global: &GlobalArgs) -> CommandResult {
    let prepared = prepare(global).await?;
    let meta = prepared.store.meta().await.map_err(state_error)?;
    let providers = prepared.ws.provider_names(std::iter::empty());
    out(&format!(
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
