//! CPU-bound work spread over the machine's cores: loading a large configuration parses
//! its files, and reads the references of its resources, side by side.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `f` applied to every item, on as many threads as there are cores when `worth_splitting`
/// (the caller knows whether the work outweighs starting threads); the results come back
/// in the items' order. Threads take the next item as they finish one, so uneven items
/// still keep every core busy.
pub fn map<T, R, F>(items: &[T], worth_splitting: bool, f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(items.len());
    if threads <= 1 || !worth_splitting {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else {
                            return out;
                        };
                        out.push((i, f(item)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| match worker.join() {
                Ok(out) => out,
                // A panic in `f` is a bug: let it surface as it would have on one thread.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_items_order_on_many_threads() {
        let items: Vec<usize> = (0..1000).collect();
        let squares = map(&items, true, |&i| i * i);
        assert_eq!(squares, items.iter().map(|i| i * i).collect::<Vec<_>>());
    }

    #[test]
    fn work_not_worth_splitting_stays_on_the_calling_thread() {
        let caller = std::thread::current().id();
        let threads = map(&[1, 2, 3], false, |_| std::thread::current().id());
        assert!(threads.iter().all(|&t| t == caller));
    }
}
