//! A concurrent walk over a DAG: a node starts when all its prerequisites succeeded; a
//! failure skips everything that depends on it while independent branches go on.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::sync::Arc;

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A DAG over node indices `0..len`.
#[derive(Debug, Clone, Default)]
pub struct Dag {
    /// `prerequisites[n]`: the nodes that must succeed before `n` starts.
    pub prerequisites: Vec<Vec<usize>>,
}

impl Dag {
    /// A DAG of `len` nodes with no edges yet; add them with [`Dag::add_edge`].
    pub fn new(len: usize) -> Self {
        Dag {
            prerequisites: vec![Vec::new(); len],
        }
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.prerequisites.len()
    }

    /// True when the DAG has no nodes.
    pub fn is_empty(&self) -> bool {
        self.prerequisites.is_empty()
    }

    /// `after` starts only once `before` succeeded.
    pub fn add_edge(&mut self, before: usize, after: usize) {
        if before != after && !self.prerequisites[after].contains(&before) {
            self.prerequisites[after].push(before);
        }
    }

    fn dependents(&self) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); self.len()];
        for (node, prereqs) in self.prerequisites.iter().enumerate() {
            for &p in prereqs {
                out[p].push(node);
            }
        }
        out
    }
}

/// What became of one node in a [`walk`], at the node's index in the returned list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalkOutcome {
    /// `visit` ran and returned true.
    Succeeded,
    /// `visit` ran and returned false; everything that depends on the node is skipped.
    Failed,
    /// Not run because the named prerequisite failed (or was itself skipped).
    Skipped {
        /// The index of the node whose failure caused the skip: the failed node itself, also when
        /// the direct prerequisite was only skipped.
        because_of: usize,
    },
    /// Never reached: part of a cycle. Callers reject cycles before walking.
    NotReached,
}

/// Runs `visit` for every node, at most `parallelism` at once, in dependency order.
/// `visit` returns whether the node succeeded.
pub async fn walk<F, Fut>(dag: &Dag, parallelism: usize, visit: F) -> Vec<WalkOutcome>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = bool>,
{
    walk_ordered(dag, parallelism, &[], visit).await
}

/// Like [`walk`], but among nodes that are ready at the same time those with a lower
/// `priority` start first (Helm's kind order for Kubernetes objects). Missing priorities
/// count as 0.
pub async fn walk_ordered<F, Fut>(
    dag: &Dag,
    parallelism: usize,
    priority: &[usize],
    mut visit: F,
) -> Vec<WalkOutcome>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = bool>,
{
    let slots = Arc::new(Semaphore::new(parallelism.max(1)));
    walk_with_slots(dag, slots, priority, |node, slot| {
        let future = visit(node);
        async move {
            let ok = future.await;
            drop(slot);
            ok
        }
    })
    .await
}

/// Like [`walk_ordered`], with the concurrency counted in `slots` rather than in nodes
/// running: each node starts holding a slot, which `visit` may give back before it is done
/// (an apply gives it back while it waits for its result to be durable, so other changes
/// start meanwhile and results arrive in larger batches). A node still counts for its
/// dependents until `visit` returns.
pub async fn walk_with_slots<F, Fut>(
    dag: &Dag,
    slots: Arc<Semaphore>,
    priority: &[usize],
    mut visit: F,
) -> Vec<WalkOutcome>
where
    F: FnMut(usize, OwnedSemaphorePermit) -> Fut,
    Fut: Future<Output = bool>,
{
    let rank = |n: usize| Reverse((priority.get(n).copied().unwrap_or(0), n));
    let dependents = dag.dependents();
    let mut waiting: Vec<usize> = dag.prerequisites.iter().map(Vec::len).collect();
    let mut outcomes = vec![WalkOutcome::NotReached; dag.len()];
    let mut ready: BinaryHeap<Reverse<(usize, usize)>> = (0..dag.len())
        .filter(|&n| waiting[n] == 0)
        .map(rank)
        .collect();
    let mut start = |node: usize, permit: OwnedSemaphorePermit| {
        let future = visit(node, permit);
        async move { (node, future.await) }
    };
    let mut running = FuturesUnordered::new();
    loop {
        while !ready.is_empty() {
            let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
                break;
            };
            let Some(Reverse((_, node))) = ready.pop() else {
                break;
            };
            running.push(start(node, permit));
        }
        let finished = if ready.is_empty() {
            running.next().await
        } else {
            tokio::select! {
                finished = running.next() => finished,
                permit = Arc::clone(&slots).acquire_owned() => {
                    // A slot came free while every node is still running: start the next.
                    let (Ok(permit), Some(Reverse((_, node)))) = (permit, ready.pop()) else {
                        break;
                    };
                    running.push(start(node, permit));
                    continue;
                }
            }
        };
        let Some((node, ok)) = finished else {
            if ready.is_empty() {
                break;
            }
            continue;
        };
        if ok {
            outcomes[node] = WalkOutcome::Succeeded;
            for &d in &dependents[node] {
                waiting[d] -= 1;
                if waiting[d] == 0 && outcomes[d] == WalkOutcome::NotReached {
                    ready.push(rank(d));
                }
            }
        } else {
            outcomes[node] = WalkOutcome::Failed;
            skip_dependents(node, &dependents, &mut outcomes);
        }
    }
    outcomes
}

fn skip_dependents(failed: usize, dependents: &[Vec<usize>], outcomes: &mut [WalkOutcome]) {
    let mut stack = vec![failed];
    while let Some(node) = stack.pop() {
        for &d in &dependents[node] {
            if outcomes[d] == WalkOutcome::NotReached {
                outcomes[d] = WalkOutcome::Skipped { because_of: failed };
                stack.push(d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    #[tokio::test]
    async fn failure_skips_dependents_only() {
        // 0 -> 1 -> 2, and 3 independent.
        let mut dag = Dag::new(4);
        dag.add_edge(0, 1);
        dag.add_edge(1, 2);
        let order = RefCell::new(Vec::new());
        let outcomes = walk(&dag, 4, |n| {
            order.borrow_mut().push(n);
            async move { n != 0 }
        })
        .await;
        assert_eq!(outcomes[0], WalkOutcome::Failed);
        assert_eq!(outcomes[1], WalkOutcome::Skipped { because_of: 0 });
        assert_eq!(outcomes[2], WalkOutcome::Skipped { because_of: 0 });
        assert_eq!(outcomes[3], WalkOutcome::Succeeded);
        assert!(!order.borrow().contains(&1));
    }

    #[tokio::test]
    async fn lower_priority_starts_first_among_ready_nodes() {
        let dag = Dag::new(3);
        let order = RefCell::new(Vec::new());
        walk_ordered(&dag, 1, &[5, 1, 3], |n| {
            order.borrow_mut().push(n);
            async { true }
        })
        .await;
        assert_eq!(*order.borrow(), vec![1, 2, 0]);
    }

    /// A node that gives its slot back lets the next one start before it is done; one that
    /// keeps it does not, so the slots bound what runs holding one.
    #[tokio::test]
    async fn a_slot_given_back_starts_the_next_node() {
        let dag = Dag::new(3);
        let slots = Arc::new(Semaphore::new(1));
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let release = RefCell::new(Some(release));
        let released = RefCell::new(Some(released));
        let started = RefCell::new(Vec::new());
        let outcomes = walk_with_slots(&dag, slots, &[], |n, permit| {
            started.borrow_mut().push(n);
            let wait = (n == 0).then(|| released.borrow_mut().take()).flatten();
            let done = (n == 1).then(|| release.borrow_mut().take()).flatten();
            async move {
                drop(permit);
                if let Some(wait) = wait {
                    // Node 0 is done only once node 1 ran: only possible if its slot went
                    // back before it finished.
                    wait.await.expect("node 1 runs");
                }
                if let Some(done) = done {
                    let _ = done.send(());
                }
                true
            }
        })
        .await;
        assert!(outcomes.iter().all(|o| *o == WalkOutcome::Succeeded));
        assert_eq!(*started.borrow(), vec![0, 1, 2]);
    }

    #[tokio::test]
    async fn prerequisites_finish_first() {
        let mut dag = Dag::new(3);
        dag.add_edge(2, 0);
        dag.add_edge(1, 0);
        let order = RefCell::new(Vec::new());
        walk(&dag, 1, |n| {
            order.borrow_mut().push(n);
            async { true }
        })
        .await;
        assert_eq!(order.borrow().last(), Some(&0));
    }
}
