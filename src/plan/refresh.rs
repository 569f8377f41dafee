//! Refresh: read every resource in state through its provider to see what is live.

use std::collections::HashMap;

use braid_provider::{ReadRequest, Value};
use braid_state::ResourceRecord;
use futures::stream::{self, StreamExt};

use super::{DriftKind, PlanObserver, ResourceDrift};
use crate::diag::{Diagnostic, Diagnostics, from_provider};
use crate::providers::{Call, Providers, bounded};

pub struct Refreshed {
    /// Live value per address; `None` when the object is gone.
    pub live: HashMap<String, Option<Value>>,
    pub drift: Vec<ResourceDrift>,
    /// What the providers warned of while reading (redacted of the objects' sensitive
    /// values).
    pub warnings: Vec<Diagnostic>,
}

/// Reads all `records` concurrently, at most `parallelism` at once.
pub async fn refresh(
    records: &[ResourceRecord],
    providers: &Providers,
    parallelism: usize,
    observer: &dyn PlanObserver,
) -> Result<Refreshed, Diagnostics> {
    let reads = records.iter().map(|record| async move {
        let Some(provider) = providers.get(&record.provider) else {
            return (
                record,
                Err(Diagnostic::error(
                    "Provider not available",
                    format!(
                        "State holds {} of provider \"{}\", which is not available.",
                        record.address, record.provider
                    ),
                )
                .for_address(&record.address)
                .into()),
            );
        };
        observer.refresh_started(&record.address);
        let started = std::time::Instant::now();
        let call = provider.read(ReadRequest {
            type_name: record.type_name.clone(),
            address: record.address.clone(),
            current: record.attributes.clone(),
        });
        let response = match bounded(Call::Read, &record.provider, &record.address, call).await {
            Ok(response) => response,
            Err(d) => return (record, Err(d.into())),
        };
        tracing::debug!(
            provider = %record.provider,
            address = %record.address,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "provider read"
        );
        let mut found = response.diagnostics;
        super::sensitivity::redact(
            &mut found,
            &[(&record.attributes, record.sensitive_paths.as_slice())],
        );
        let mut diags = Diagnostics::new();
        for d in found {
            diags.push(from_provider(d, None, &record.address));
        }
        if diags.has_errors() {
            return (record, Err(diags));
        }
        (record, Ok((response.state, diags.0)))
    });
    let results: Vec<_> = stream::iter(reads)
        .buffer_unordered(parallelism.max(1))
        .collect()
        .await;
    let mut diags = Diagnostics::new();
    let mut live = HashMap::with_capacity(records.len());
    let mut drift = Vec::new();
    let mut warnings = Vec::new();
    for (record, result) in results {
        match result {
            Ok((state, found)) => {
                warnings.extend(found);
                let drifted = match &state {
                    None => Some(DriftKind::Deleted),
                    Some(value) if *value != record.attributes => Some(DriftKind::Changed),
                    Some(_) => None,
                };
                observer.refreshed(&record.address, drifted);
                match &state {
                    None => drift.push(ResourceDrift {
                        address: record.address.clone(),
                        provider: record.provider.clone(),
                        type_name: record.type_name.clone(),
                        kind: DriftKind::Deleted,
                        before: record.attributes.clone(),
                        after: None,
                        sensitive: record.sensitive_paths.clone(),
                    }),
                    Some(value) if *value != record.attributes => drift.push(ResourceDrift {
                        address: record.address.clone(),
                        provider: record.provider.clone(),
                        type_name: record.type_name.clone(),
                        kind: DriftKind::Changed,
                        before: record.attributes.clone(),
                        after: Some(value.clone()),
                        sensitive: record.sensitive_paths.clone(),
                    }),
                    Some(_) => {}
                }
                live.insert(record.address.clone(), state);
            }
            Err(d) => diags.extend(d),
        }
    }
    drift.sort_by(|a, b| a.address.cmp(&b.address));
    diags.into_result(Refreshed {
        live,
        drift,
        warnings,
    })
}
