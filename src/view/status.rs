//! `braid status`: every environment's sync status, deployed and current commits, last
//! apply, pending changes and the resources that are not healthy, as a table; or one JSON
//! document (the agent's `/api/environments` shape: every resource's health, the history
//! with diffs).

use crate::agent::{EnvironmentStatus, SourceCommit, SyncState};

use super::Style;

/// The JSON document: `{"environments": [...]}`, each as `/api/environments/NAME` serves it.
pub fn to_json(environments: &[EnvironmentStatus]) -> String {
    serde_json::to_string_pretty(&serde_json::json!({ "environments": environments }))
        .unwrap_or_default()
}

fn commits(sources: &[SourceCommit]) -> String {
    if sources.is_empty() {
        return "-".to_string();
    }
    sources
        .iter()
        .map(|s| format!("{}@{}", s.name, s.short()))
        .collect::<Vec<_>>()
        .join(",")
}

/// One row per environment, then the pending changes of those not in sync.
pub fn render_human(environments: &[EnvironmentStatus], style: Style) -> String {
    let header = [
        "ENVIRONMENT",
        "STATUS",
        "DEPLOYED",
        "SOURCES NOW",
        "LAST APPLY",
        "PENDING",
    ];
    let rows: Vec<[String; 6]> = environments
        .iter()
        .map(|e| {
            [
                e.name.clone(),
                e.sync.as_str().replace('_', " "),
                commits(&e.deployed),
                commits(&e.sources),
                e.last_apply.as_ref().map_or("never".to_string(), |a| {
                    format!(
                        "{} by {} {} ({})",
                        a.operation,
                        a.actor,
                        a.started_at.format("%Y-%m-%d %H:%M"),
                        a.outcome
                    )
                }),
                e.pending.len().to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    // Cells are padded before they are coloured: escape codes take no room on screen.
    let padded = |cells: &[String]| -> Vec<String> {
        cells
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                if i + 1 == cells.len() {
                    cell.clone()
                } else {
                    format!("{cell:<width$}  ", width = widths[i])
                }
            })
            .collect()
    };
    let mut out = String::new();
    let head = padded(&header.map(String::from));
    out.push_str(&style.bold(head.concat().trim_end()));
    out.push('\n');
    for (row, e) in rows.iter().zip(environments) {
        let mut cells = padded(row);
        cells[1] = match e.sync {
            SyncState::Synced => style.green(&cells[1]),
            SyncState::Failed => style.red(&cells[1]),
            SyncState::OutOfSync | SyncState::Drifted | SyncState::Applying => {
                style.yellow(&cells[1])
            }
            SyncState::Unknown => cells[1].clone(),
        };
        out.push_str(cells.concat().trim_end());
        out.push('\n');
    }
    for e in environments.iter().filter(|e| !e.pending.is_empty()) {
        out.push_str(&format!(
            "\n{} ({}):\n",
            style.bold(&e.name),
            match e.sync {
                SyncState::Drifted => "changed outside braid",
                _ => "changes not applied yet",
            }
        ));
        for p in &e.pending {
            out.push_str(&format!("  {} {}\n", p.action, p.address));
        }
    }
    for e in environments {
        if let Some(w) = e
            .window
            .as_ref()
            .filter(|w| !w.allowed && !e.pending.is_empty())
        {
            out.push_str(&format!(
                "\n{}: release window closed ({}){}\n",
                style.bold(&e.name),
                w.reason,
                w.next_open
                    .map(|t| format!("; opens {}", t.format("%Y-%m-%d %H:%M UTC")))
                    .unwrap_or_default()
            ));
        }
    }
    for e in environments {
        let unwell: Vec<_> = e
            .resources
            .iter()
            .filter(|r| r.health != braid_provider::HealthStatus::Healthy)
            .collect();
        if unwell.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{} (not healthy):\n", style.bold(&e.name)));
        for r in unwell {
            let health = r.health.as_str();
            let health = match r.health {
                braid_provider::HealthStatus::Progressing
                | braid_provider::HealthStatus::Unknown => style.yellow(health),
                _ => style.red(health),
            };
            out.push_str(&format!(
                "  {} {health}{}\n",
                r.address,
                r.message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ));
        }
    }
    out
}
