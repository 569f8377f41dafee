//! The order of an apply, built from the plan: creates and updates after what they need,
//! deletes in reverse, and each provider's rank as the tiebreak among ready changes.

use std::collections::HashMap;

use braid_state::ResourceRecord;

use crate::graph::Dag;
use crate::plan::{Action, ResourceChange};
use crate::providers::Providers;

/// The dependency graph of `changes` (indices into it). `records` are the resources in
/// state, whose recorded dependencies order deletes.
pub fn apply_dag(changes: &[ResourceChange], records: &HashMap<String, ResourceRecord>) -> Dag {
    let index: HashMap<&str, usize> = changes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.address.as_str(), i))
        .collect();
    let is_delete = |i: usize| changes[i].action == Action::Delete;
    let mut dag = Dag::new(changes.len());
    for (i, change) in changes.iter().enumerate() {
        if change.action == Action::Delete {
            // Whatever needed this resource is deleted first.
            for dep in &change.depends_on {
                if let Some(&d) = index.get(dep.as_str())
                    && is_delete(d)
                {
                    dag.add_edge(i, d);
                }
            }
        } else {
            for dep in &change.depends_on {
                if let Some(&d) = index.get(dep.as_str())
                    && !is_delete(d)
                {
                    dag.add_edge(d, i);
                }
            }
            // A resource that used to need a deleted one stops needing it first.
            if let Some(record) = records.get(&change.address) {
                for dep in &record.dependencies {
                    if let Some(&d) = index.get(dep.as_str())
                        && is_delete(d)
                    {
                        dag.add_edge(i, d);
                    }
                }
            }
        }
    }
    dag
}

/// Deletes of ranked changes come after every create, in reverse rank order.
const DELETE_BASE: usize = usize::MAX / 2;

/// The tiebreak among changes that are ready together (lower first): each provider's
/// [`apply_rank`](braid_provider::Provider::apply_rank), reversed for deletes. Unranked
/// changes (rank 0, such as cloud resources) start first.
pub fn priorities(changes: &[ResourceChange], providers: &Providers) -> Vec<usize> {
    changes
        .iter()
        .map(|c| {
            let state = c.after.as_ref().or(c.before.as_ref());
            let rank = state.map_or(0, |s| providers.apply_rank(&c.provider, &c.type_name, s));
            match (rank, c.action) {
                (0, _) => 0,
                (rank, Action::Delete) => DELETE_BASE - rank as usize,
                (rank, _) => rank as usize,
            }
        })
        .collect()
}
