//! Group commit of resource results: results that arrive while a state write is in progress
//! are written together in the next transaction. Each result is still committed as soon as
//! the previous write is durable, and the change that produced it waits until it is, so
//! nothing depends on a result state does not hold yet.

use std::sync::Arc;

use braid_state::{ResourceWrite, StateStore};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::diag::{Diagnostic, cannot_write_state, error_chain};

/// At most this many results go into one transaction.
const MAX_BATCH: usize = 1024;

type Reply = oneshot::Sender<Result<(), String>>;

pub struct StateWriter {
    queue: mpsc::UnboundedSender<(ResourceWrite, Reply)>,
    task: JoinHandle<()>,
}

impl StateWriter {
    /// Starts the writer; `serial` is the state's serial now.
    pub fn start(store: Arc<dyn StateStore>, serial: u64) -> StateWriter {
        let (queue, mut incoming) = mpsc::unbounded_channel::<(ResourceWrite, Reply)>();
        let task = tokio::spawn(async move {
            let mut serial = serial;
            while let Some(first) = incoming.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match incoming.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let (writes, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
                let count = writes.len();
                let started = std::time::Instant::now();
                let result = match store.commit_resources(serial, writes).await {
                    Ok(next) => {
                        tracing::debug!(
                            results = count,
                            serial = next,
                            elapsed_ms = started.elapsed().as_millis() as u64,
                            "state commit"
                        );
                        serial = next;
                        Ok(())
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "state commit failed");
                        Err(format!("{e}: {}", error_chain(&e)))
                    }
                };
                for reply in replies {
                    let _ = reply.send(result.clone());
                }
            }
        });
        StateWriter { queue, task }
    }

    /// Commits one result and waits until it is durable.
    pub async fn commit(&self, write: ResourceWrite) -> Result<(), Diagnostic> {
        let (reply, done) = oneshot::channel();
        let failed = |why: String| cannot_write_state(&why);
        self.queue
            .send((write, reply))
            .map_err(|_| failed("the state writer stopped".to_string()))?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(why)) => Err(failed(why)),
            Err(_) => Err(failed("the state writer stopped".to_string())),
        }
    }

    /// Waits until every queued result is written.
    pub async fn close(self) {
        drop(self.queue);
        let _ = self.task.await;
    }
}
