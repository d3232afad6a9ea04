//! Runs independent tasks on at most a given number of rayon workers.
//!
//! The MSM's work is a short list of coarse tasks (window × input chunk), ordered by the
//! caller from most to least expensive. Workers pull the next task index from a shared
//! counter, which is greedy longest-first scheduling, and never more than `threads` of them
//! run at once, whatever the size of the rayon pool.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// `(0..count).map(f)` computed by at most `threads` workers; results in task order.
pub(crate) fn map_tasks<R, F>(count: usize, threads: usize, f: F) -> Vec<R>
where
    R: Send,
    F: Fn(usize) -> R + Sync,
{
    let workers = threads.min(count);
    if workers <= 1 {
        return (0..count).map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(count));
    rayon::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|_| {
                let mut local = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    local.push((i, f(i)));
                }
                // A poisoned lock only means another worker panicked; keep its data.
                done.lock().unwrap_or_else(|e| e.into_inner()).extend(local);
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_task_order() {
        for threads in [1, 2, 4] {
            let v = map_tasks(37, threads, |i| i * i);
            assert_eq!(v, (0..37).map(|i| i * i).collect::<Vec<_>>());
        }
        assert!(map_tasks(0, 2, |i| i).is_empty());
    }
}
