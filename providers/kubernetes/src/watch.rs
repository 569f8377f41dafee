//! Waiting on one object through a watch (list + watch by name, resumed after errors), with
//! a deadline: used for readiness and for deletions to finish.

use std::pin::pin;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::watcher::watch_object;
use serde_json::Value as Json;

/// What a look at the object says.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Done; carries the object as last seen (`Null` when it is gone).
    Done(Json),
    /// Not yet, with a progress message.
    Wait(String),
    /// It will not get there: fail now with this message.
    Fail(String),
}

/// How waiting ended without success.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitEnd {
    Failed(String),
    /// The deadline passed; carries the last progress message.
    TimedOut(Option<String>),
}

/// Watches `name` through `api` until `judge` says done or fail, or `timeout` passes.
/// `on_progress` hears every new progress message. Watch errors (dropped connections,
/// expired resource versions) are retried with a growing pause.
pub async fn wait_for(
    api: Api<DynamicObject>,
    name: &str,
    timeout: Duration,
    mut judge: impl FnMut(Option<&Json>) -> Verdict,
    mut on_progress: impl FnMut(&str),
) -> Result<Json, WaitEnd> {
    let mut last: Option<String> = None;
    let watching = async {
        let mut events = pin!(watch_object(api, name));
        let mut pause = Duration::from_millis(100);
        while let Some(event) = events.next().await {
            let object = match event {
                Ok(object) => object,
                Err(_) => {
                    // The watcher resumes (or re-lists) on the next poll.
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(5));
                    continue;
                }
            };
            pause = Duration::from_millis(100);
            let json = object.and_then(|o| serde_json::to_value(o).ok());
            match judge(json.as_ref()) {
                Verdict::Done(object) => return Ok(object),
                Verdict::Fail(message) => return Err(WaitEnd::Failed(message)),
                Verdict::Wait(message) => {
                    if last.as_deref() != Some(message.as_str()) {
                        on_progress(&message);
                        last = Some(message);
                    }
                }
            }
        }
        Err(WaitEnd::TimedOut(last.clone()))
    };
    match tokio::time::timeout(timeout, watching).await {
        Ok(result) => result,
        Err(_) => Err(WaitEnd::TimedOut(last)),
    }
}

pub use braid_provider::parse_duration;
