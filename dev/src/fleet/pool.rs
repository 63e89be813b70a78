//! Working through a fleet on a fixed number of threads: each takes the next database in
//! the fleet's order and, once it is done, hands the result to the caller's `done` (one
//! thread at a time) before it takes another. Memory holds the threads' current databases
//! and nothing per database finished, so it does not grow with the fleet.
//!
//! No database is started once `done` says to halt (a failure policy, a failed canary) or a
//! signal asks the run to stop (`support::scratch::stopping`); the ones running finish. With
//! one thread, nothing after the result that halted starts at all.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::support::scratch;

/// What the caller wants after a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Start the next database.
    Go,
    /// Start no more; let the running ones finish.
    Halt,
}

/// Runs `work` on `items` on `jobs` threads, handing each result with its item's index to
/// `done`, which runs on one thread at a time. How many items were started: those after
/// them were not.
pub fn each<T, R>(
    items: &[T],
    jobs: usize,
    work: impl Fn(&T) -> R + Sync,
    done: impl FnMut(usize, R) -> Flow + Send,
) -> usize
where
    T: Sync,
{
    let next = AtomicUsize::new(0);
    let halt = AtomicBool::new(false);
    let done = Mutex::new(done);
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            scope.spawn(|| loop {
                if halt.load(Ordering::SeqCst) || scratch::stopping() {
                    break;
                }
                let at = next.fetch_add(1, Ordering::SeqCst);
                let Some(item) = items.get(at) else { break };
                let result = work(item);
                let mut done = done.lock().unwrap_or_else(PoisonError::into_inner);
                if (*done)(at, result) == Flow::Halt {
                    halt.store(true, Ordering::SeqCst);
                }
            });
        }
    });
    next.load(Ordering::SeqCst).min(items.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_runs_once_and_its_result_comes_back() {
        let items: Vec<u32> = (0..500).collect();
        let mut seen = vec![0; items.len()];
        let started = each(
            &items,
            4,
            |n| n * 2,
            |at, doubled| {
                assert_eq!(doubled, items[at] * 2);
                seen[at] += 1;
                Flow::Go
            },
        );
        assert_eq!(started, items.len());
        assert!(seen.iter().all(|&n| n == 1));
    }

    #[test]
    fn a_halt_starts_nothing_more_and_says_how_many_started() {
        let items: Vec<u32> = (0..1000).collect();
        for jobs in [1, 2] {
            let mut finished = 0;
            let started = each(
                &items,
                jobs,
                |n| *n,
                |_, _| {
                    finished += 1;
                    if finished == 10 {
                        Flow::Halt
                    } else {
                        Flow::Go
                    }
                },
            );
            // Another thread may have been running one more when the halt came.
            assert!((10..10 + jobs).contains(&started), "{jobs}: {started}");
            assert_eq!(finished, started);
        }
    }
}
