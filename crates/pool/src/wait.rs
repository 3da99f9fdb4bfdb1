//! Waiting on many handles: `as_completed` and `wait` (Python's `concurrent.futures`
//! functions of the same names).

use std::collections::HashSet;
use std::fmt;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::error::TaskError;
use crate::task::Handle;

/// Yields each handle once, as its job ends; see [`as_completed`].
pub struct AsCompleted<'a, T> {
    handles: Vec<&'a Handle<T>>,
    /// The key of the done callback registered on each handle, until it is yielded: taken
    /// back when the iterator is dropped, so that polling (`wait` with a zero timeout, say)
    /// does not pile callbacks on a long job.
    keys: Vec<Option<usize>>,
    ended: Receiver<usize>,
    deadline: Option<Instant>,
    left: usize,
    timed_out: bool,
}

/// Yields the given handles as their jobs end (finished, failed or cancelled), each once even
/// if it appears several times. With a `timeout` (counted from this call) the iterator
/// yields `Err(TaskError::Timeout)` once when it runs out, then ends.
///
/// ```
/// use contexture_pool::{as_completed, ThreadPool};
/// let pool = ThreadPool::new();
/// let handles: Vec<_> = (0..4).map(|n| pool.submit(move || n).unwrap()).collect();
/// let mut seen: Vec<i32> = as_completed(&handles, None)
///     .map(|h| h.unwrap().wait_timeout(std::time::Duration::ZERO) as i32)
///     .collect();
/// assert_eq!(seen.len(), 4);
/// ```
pub fn as_completed<'a, T: 'a>(
    handles: impl IntoIterator<Item = &'a Handle<T>>,
    timeout: Option<Duration>,
) -> AsCompleted<'a, T> {
    let mut seen = HashSet::new();
    let handles: Vec<&'a Handle<T>> = handles
        .into_iter()
        .filter(|h| seen.insert(h.id()))
        .collect();
    let (tx, ended) = crossbeam_channel::unbounded();
    let keys = handles
        .iter()
        .enumerate()
        .map(|(index, handle)| {
            let tx = tx.clone();
            // Runs at once for a job that has already ended. The send fails only when this
            // iterator is gone, which is fine. The callback cannot panic.
            handle
                .add_done_callback_keyed(move |_| {
                    let _ = tx.send(index);
                })
                .ok()
                .flatten()
        })
        .collect();
    AsCompleted {
        left: handles.len(),
        keys,
        handles,
        ended,
        deadline: timeout.and_then(|t| Instant::now().checked_add(t)),
        timed_out: false,
    }
}

impl<'a, T> Iterator for AsCompleted<'a, T> {
    type Item = Result<&'a Handle<T>, TaskError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 || self.timed_out {
            return None;
        }
        let index = match self.deadline {
            None => self.ended.recv().ok()?,
            Some(deadline) => {
                match self
                    .ended
                    .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                {
                    Ok(index) => index,
                    Err(RecvTimeoutError::Timeout) => {
                        self.timed_out = true;
                        return Some(Err(TaskError::Timeout));
                    }
                    Err(RecvTimeoutError::Disconnected) => return None,
                }
            }
        };
        self.left -= 1;
        self.keys[index] = None; // it ran
        let handle = self.handles[index];
        // The signal comes from a done callback; the job counts as done once all of its
        // callbacks have run, which this brief wait covers.
        handle.wait();
        Some(Ok(handle))
    }
}

impl<T> Drop for AsCompleted<'_, T> {
    fn drop(&mut self) {
        for (handle, key) in self.handles.iter().zip(&mut self.keys) {
            if let Some(key) = key.take() {
                handle.remove_done_callback(key);
            }
        }
    }
}

impl<T> fmt::Debug for AsCompleted<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("left", &self.left)
            .field("timed_out", &self.timed_out)
            .finish()
    }
}

/// When [`wait`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnWhen {
    /// As soon as any job ends.
    FirstCompleted,
    /// As soon as any job fails (panics or finds the pool broken; a cancellation is not a
    /// failure), or when all have ended.
    FirstException,
    /// When every job has ended.
    AllCompleted,
}

/// Waits until `when` holds or `timeout` passes; returns `(done, not_done)`.
///
/// ```
/// use contexture_pool::{wait, ReturnWhen, ThreadPool};
/// let pool = ThreadPool::new();
/// let handles: Vec<_> = (0..3).map(|n| pool.submit(move || n).unwrap()).collect();
/// let (done, not_done) = wait(&handles, ReturnWhen::AllCompleted, None);
/// assert_eq!((done.len(), not_done.len()), (3, 0));
/// ```
pub fn wait<'a, T: 'a>(
    handles: impl IntoIterator<Item = &'a Handle<T>>,
    when: ReturnWhen,
    timeout: Option<Duration>,
) -> (Vec<&'a Handle<T>>, Vec<&'a Handle<T>>) {
    let mut completed = as_completed(handles, timeout);
    let all: Vec<&'a Handle<T>> = completed.handles.clone();
    for next in completed.by_ref() {
        let Ok(handle) = next else { break };
        let stop = match when {
            ReturnWhen::FirstCompleted => true,
            ReturnWhen::FirstException => handle.failed() == Some(true),
            ReturnWhen::AllCompleted => false,
        };
        if stop {
            break;
        }
    }
    all.into_iter().partition(|h| h.done())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ThreadPool;

    #[test]
    fn polling_a_long_job_leaves_no_callback_behind() {
        let pool = ThreadPool::builder().max_workers(1).build().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let long = pool.submit(move || rx.recv().unwrap()).unwrap();
        for _ in 0..100 {
            let (done, _) = wait([&long], ReturnWhen::AllCompleted, Some(Duration::ZERO));
            assert!(done.is_empty());
            let mut completed = as_completed([&long], Some(Duration::ZERO));
            assert_eq!(
                completed.next().map(|r| r.err()),
                Some(Some(TaskError::Timeout))
            );
        }
        assert_eq!(long.task_for_tests().registered_callbacks(), 0);
        tx.send(()).unwrap();
        assert_eq!(long.result(), Ok(()));
    }

    #[test]
    fn a_callback_of_a_yielded_handle_is_not_taken_back_twice() {
        let pool = ThreadPool::builder().max_workers(1).build().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let first = pool.submit(|| ()).unwrap();
        let long = pool.submit(move || rx.recv().unwrap()).unwrap();
        let mine = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let m = mine.clone();
        long.add_done_callback(move |_| {
            m.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        })
        .unwrap();
        let (done, not_done) = wait([&first, &long], ReturnWhen::FirstCompleted, None);
        assert_eq!((done.len(), not_done.len()), (1, 1));
        assert_eq!(
            long.task_for_tests().registered_callbacks(),
            1,
            "the user's stays"
        );
        tx.send(()).unwrap();
        long.wait();
        assert_eq!(mine.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
