//! `braid force-unlock LOCK_ID`

use clap::Args;

use super::{CommandResult, Context, EXIT_ERROR, EXIT_OK};
use crate::diag::Diagnostic;
use crate::workspace::Workspace;

#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    /// The lock id, as printed by the error that reported the lock.
    pub lock_id: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub force: bool,
}

pub async fn run(cx: &Context, args: &ForceUnlockArgs) -> CommandResult {
    let ws = Workspace::load(&cx.global.load_options()?.allowing_missing_variables())?;
    let store = ws.open_state()?;
    let Some(lock) = crate::apply::lock::current_lock(store.as_ref()).await? else {
        return Err(Diagnostic::error(
            "No lock to remove",
            format!(
                "The state of environment \"{}\" is not locked.",
                ws.env_name
            ),
        )
        .into());
    };
    if lock.id != args.lock_id {
        return Err(Diagnostic::error(
            "Lock id does not match",
            format!(
                "The current lock has id {} ({} by {} since {}), not {}. Check the id and try again.",
                lock.id, lock.operation, lock.actor, lock.acquired_at, args.lock_id
            ),
        )
        .into());
    }
    let question = format!(
        "Remove the lock held by {} for {} since {}? Only do this if that operation is no longer running.",
        lock.actor, lock.operation, lock.acquired_at
    );
    if !args.force && !cx.shell.confirm(&question, "--force", None)? {
        cx.shell.result(
            "Lock kept.\n",
            serde_json::json!({ "unlocked": false, "lock_id": lock.id }),
        );
        return Ok(EXIT_ERROR);
    }
    crate::apply::lock::force_unlock(store.as_ref(), &lock.id).await?;
    cx.shell.result(
        &format!(
            "Lock {} removed. The environment \"{}\" is unlocked.\n",
            lock.id, ws.env_name
        ),
        serde_json::json!({ "unlocked": true, "lock_id": lock.id, "env": ws.env_name, "holder": lock }),
    );
    Ok(EXIT_OK)
}
