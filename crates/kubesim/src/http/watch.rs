//! Watch streams: newline-delimited `{"type": ..., "object": ...}` events for a collection,
//! starting from a resourceVersion (replayed from the kept history) or with synthetic ADDED
//! events for current objects, with selectors, bookmarks and `timeoutSeconds`.
//!
//! A resourceVersion older than the kept history gets what the real server sends after
//! compaction: a 200 stream holding one `ERROR` event whose Status has code 410 (Expired).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::Response;
use hyper::body::Frame;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use super::Resp;
use super::resources::present;
use super::route::{RequestInfo, Target};
use crate::catalogue::ResourceType;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::server::Shared;
use crate::status::ApiError;
use crate::store::{EventType, StoreEvent};

/// What a watch delivers.
struct Filter {
    rt: ResourceType,
    namespace: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Filter {
    fn matches(&self, object: &Value) -> bool {
        self.namespace
            .as_deref()
            .is_none_or(|ns| object["metadata"]["namespace"].as_str() == Some(ns))
            && self.labels.matches(object)
            && self.fields.matches(object)
    }

    /// The wire event for a store event, if this watch should see it. An object that stops
    /// (starts) matching the selectors is reported as DELETED (ADDED), like the real server.
    fn translate(&self, event: &StoreEvent) -> Option<Value> {
        if event.key != self.rt.key() {
            return None;
        }
        let now = self.matches(&event.object);
        let event_type = match event.event_type {
            EventType::Modified => {
                let before = event.previous.as_ref().is_some_and(|p| self.matches(p));
                match (before, now) {
                    (true, true) => "MODIFIED",
                    (false, true) => "ADDED",
                    (true, false) => "DELETED",
                    (false, false) => return None,
                }
            }
            other if now => other.as_str(),
            _ => return None,
        };
        Some(json!({"type": event_type, "object": present(&self.rt, &event.object)}))
    }
}

fn line(value: &Value) -> Bytes {
    let mut bytes = serde_json::to_vec(value).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

fn expired(rv: &str, oldest: u64) -> Value {
    let message = format!("too old resource version: {rv} ({oldest})");
    json!({"type": "ERROR", "object": {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": "Expired", "code": 410}})
}

fn bookmark(rt: &ResourceType, rv: u64, initial_end: bool) -> Value {
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    json!({"type": "BOOKMARK", "object": {
        "kind": rt.kind, "apiVersion": rt.api_version(), "metadata": metadata}})
}

/// Starts a watch and returns its streaming response.
pub fn serve(shared: Arc<Shared>, target: Target, info: &RequestInfo) -> Result<Resp, ApiError> {
    let q = &info.query;
    let mut fields = FieldSelector::parse(q.get("fieldSelector").map_or("", String::as_str))?;
    if let Some(name) = &target.name {
        // GET .../watch/.../NAME watches a single object.
        fields = FieldSelector::parse(&format!("metadata.name={name}"))?;
    }
    let filter = Filter {
        labels: LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str))?,
        fields,
        namespace: target.namespace.clone(),
        rt: target.rt.clone(),
    };
    let bookmarks = matches!(
        q.get("allowWatchBookmarks").map(String::as_str),
        Some("true" | "1")
    );
    let send_initial = matches!(
        q.get("sendInitialEvents").map(String::as_str),
        Some("true" | "1")
    );
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs);
    let requested_rv = q.get("resourceVersion").cloned().unwrap_or_default();

    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let (initial, receiver, start_rv) = {
        let store = shared.store();
        let receiver = store.subscribe();
        let current = store.current_rv();
        let mut initial = Vec::new();
        if requested_rv.is_empty() || requested_rv == "0" || send_initial {
            for object in store.list(&filter.rt.key(), filter.namespace.as_deref()) {
                if filter.matches(object) {
                    initial.push(line(
                        &json!({"type": "ADDED", "object": present(&filter.rt, object)}),
                    ));
                }
            }
            if send_initial && bookmarks {
                initial.push(line(&bookmark(&filter.rt, current, true)));
            }
            (initial, Some(receiver), current)
        } else {
            let rv: u64 = requested_rv.parse().map_err(|_| {
                ApiError::BadRequest(format!("invalid resource version: {requested_rv}"))
            })?;
            match store.events_since(&filter.rt.key(), rv) {
                Some(events) => {
                    initial.extend(
                        events
                            .iter()
                            .filter_map(|e| filter.translate(e))
                            .map(|v| line(&v)),
                    );
                    (initial, Some(receiver), current.max(rv))
                }
                None => {
                    initial.push(line(&expired(&requested_rv, current)));
                    (initial, None, current)
                }
            }
        }
    };
    let interval = shared.bookmark_interval;
    tokio::spawn(pump(
        shared, filter, tx, initial, receiver, start_rv, bookmarks, timeout, interval,
    ));

    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|bytes| (Ok::<_, Infallible>(Frame::data(bytes)), rx))
    });
    let mut resp = Response::new(StreamBody::new(stream).boxed());
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(resp)
}

/// Feeds one watch until the client leaves, the timeout passes, or the server stops.
#[allow(clippy::too_many_arguments)]
async fn pump(
    shared: Arc<Shared>,
    filter: Filter,
    tx: mpsc::Sender<Bytes>,
    initial: Vec<Bytes>,
    receiver: Option<broadcast::Receiver<Arc<StoreEvent>>>,
    mut last_rv: u64,
    bookmarks: bool,
    timeout: Option<Duration>,
    interval: Duration,
) {
    for bytes in initial {
        if tx.send(bytes).await.is_err() {
            return;
        }
    }
    let Some(mut receiver) = receiver else {
        return;
    };
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let mut ticker = tokio::time::interval(interval);
    ticker.tick().await;
    let mut shutdown = shared.shutdown.clone();
    loop {
        let until_deadline = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            received = receiver.recv() => match received {
                Ok(event) => {
                    last_rv = last_rv.max(event.rv);
                    if let Some(v) = filter.translate(&event)
                        && tx.send(line(&v)).await.is_err()
                    {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Too slow to keep up: make the client re-list, as after compaction.
                    let _ = tx.send(line(&expired(&last_rv.to_string(), last_rv))).await;
                    return;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = ticker.tick(), if bookmarks => {
                // Drain under the store lock so the bookmark's version covers every event
                // already committed.
                let (pending, current) = {
                    let store = shared.store();
                    let mut pending = Vec::new();
                    while let Ok(event) = receiver.try_recv() {
                        pending.push(event);
                    }
                    (pending, store.current_rv())
                };
                for event in pending {
                    if let Some(v) = filter.translate(&event)
                        && tx.send(line(&v)).await.is_err()
                    {
                        return;
                    }
                }
                last_rv = last_rv.max(current);
                if tx.send(line(&bookmark(&filter.rt, last_rv, false))).await.is_err() {
                    return;
                }
            }
            _ = until_deadline => return,
            _ = tx.closed() => return,
            _ = shutdown.changed() => return,
        }
    }
}
