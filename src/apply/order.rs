//! The order of an apply, built from the plan: creates and updates after what they need,
//! deletes in reverse, and each provider's rank as the tiebreak among ready changes.

use std::collections::HashMap;

use braid_state::ResourceRecord;

use crate::config::resource_groups;
use crate::graph::Dag;
use crate::plan::{Action, ResourceChange};
use crate::providers::Providers;

/// The dependency graph of `changes` (indices into it), followed by two barrier nodes per
/// resource as written: one after its creates and updates, one after what needed it was
/// deleted; and a last barrier between every create, update and replacement and every
/// delete: deletes (prune) start only once everything else of the apply has succeeded. Dependencies name resources as written (`aws_x.y` for all its instances), so
/// n instances that need m others cost n + m edges through the barriers, not n × m.
/// `records` are the resources in state, whose recorded dependencies order deletes.
pub fn apply_dag(changes: &[ResourceChange], records: &HashMap<String, ResourceRecord>) -> Dag {
    let n = changes.len();
    // A change belongs to its resource as written in its module instance and, inside a
    // module, to the resource as configured for all instances (`module.a.aws_x.y`):
    // dependencies name one or the other.
    let mut groups: HashMap<String, usize> = HashMap::new();
    let mut own_groups: Vec<Vec<usize>> = Vec::with_capacity(n);
    for change in changes {
        let mut own = Vec::with_capacity(2);
        for key in resource_groups(&change.address) {
            let next = groups.len();
            own.push(*groups.entry(key.into_owned()).or_insert(next));
        }
        own_groups.push(own);
    }
    // A dependency recorded by an older braid may name an instance: its resource counts.
    let group = |address: &str| {
        groups
            .get(address)
            .or_else(|| groups.get(crate::config::split_instance_address(address).0))
            .copied()
    };
    let created = |g: usize| n + 2 * g;
    let unneeded = |g: usize| n + 2 * g + 1;
    let all_converged = n + 2 * groups.len();
    let mut dag = Dag::new(all_converged + 1);
    for (i, change) in changes.iter().enumerate() {
        let own = &own_groups[i];
        if change.action == Action::Delete {
            dag.add_edge(all_converged, i);
        } else {
            dag.add_edge(i, all_converged);
        }
        if change.action == Action::Delete {
            // Whatever needed this resource is deleted first.
            for &g in own {
                dag.add_edge(unneeded(g), i);
            }
            for dep in &change.depends_on {
                if let Some(d) = group(dep) {
                    dag.add_edge(i, unneeded(d));
                }
            }
        } else {
            for &g in own {
                dag.add_edge(i, created(g));
            }
            for dep in &change.depends_on {
                if let Some(d) = group(dep) {
                    dag.add_edge(created(d), i);
                }
            }
            // A resource that used to need a deleted one stops needing it first.
            if let Some(record) = records.get(&change.address) {
                for dep in &record.dependencies {
                    if let Some(d) = group(dep) {
                        dag.add_edge(i, unneeded(d));
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
