//! `ThreadPool::map`: results in input order, with an optional overall timeout; jobs not
//! yet started are cancelled when the iterator times out or is dropped; items the pool
//! refused come back in the error.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{MapError, SubmitError, TaskError};
use crate::pool::ThreadPool;
use crate::task::Handle;

/// The results of [`ThreadPool::map`], in input order.
///
/// Every job was submitted by `map` already; iterating only collects the results.
/// **Dropping a `Map` cancels the jobs that have not started** (those running finish, and
/// their results are dropped): iterate it to the end for every result, or call
/// [`into_handles`](Map::into_handles) to let every job run without waiting here.
/// (Python's `executor.map` runs every job when its iterator is dropped before the first
/// result is asked for, and cancels the rest when dropped later; here it is always the
/// latter.)
#[must_use = "dropping a Map cancels the jobs that have not started: iterate it, or call into_handles"]
pub struct Map<T> {
    pending: VecDeque<Handle<T>>,
    deadline: Option<Instant>,
}

impl ThreadPool {
    /// Submits `f(item)` for every item now and yields the results in input order as they
    /// are consumed (Python's `Executor.map`). If the pool refuses an item (it is shut down
    /// or broken), the items not submitted come back in [`MapError`], with the [`Map`] of
    /// those that were.
    ///
    /// The returned [`Map`] cancels the jobs that have not started when it is dropped.
    ///
    /// ```
    /// use contexture_pool::ThreadPool;
    /// let pool = ThreadPool::new();
    /// let lengths: Vec<usize> = pool
    ///     .map(|s: &str| s.len(), ["a", "bb", "ccc"])
    ///     .unwrap()
    ///     .map(Result::unwrap)
    ///     .collect();
    /// assert_eq!(lengths, [1, 2, 3]);
    /// ```
    pub fn map<I, T, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = I>,
    ) -> Result<Map<T>, MapError<I, T>>
    where
        F: Fn(I) -> T + Send + Sync + 'static,
        I: Send + 'static,
        T: Send + 'static,
    {
        self.map_inner(f, items, None)
    }

    /// Like [`map`](ThreadPool::map), with an overall `timeout` counted from this call: once it
    /// passes, the next result is `Err(TaskError::Timeout)`, every job not yet started is
    /// cancelled, and the iterator ends.
    ///
    /// ```
    /// use contexture_pool::{TaskError, ThreadPool};
    /// use std::time::Duration;
    /// let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let rx = std::sync::Mutex::new(rx);
    /// let mut results = pool
    ///     .map_timeout(
    ///         move |n: u32| { if n == 0 { rx.lock().unwrap().recv().unwrap(); } n },
    ///         0..3,
    ///         Duration::from_millis(20),
    ///     )
    ///     .unwrap();
    /// assert_eq!(results.next(), Some(Err(TaskError::Timeout)));
    /// assert_eq!(results.next(), None);
    /// let _ = tx.send(()); // (fails if job 0 had not started: then it was cancelled)
    /// ```
    pub fn map_timeout<I, T, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = I>,
        timeout: Duration,
    ) -> Result<Map<T>, MapError<I, T>>
    where
        F: Fn(I) -> T + Send + Sync + 'static,
        I: Send + 'static,
        T: Send + 'static,
    {
        self.map_inner(f, items, Instant::now().checked_add(timeout))
    }

    fn map_inner<I, T, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = I>,
        deadline: Option<Instant>,
    ) -> Result<Map<T>, MapError<I, T>>
    where
        F: Fn(I) -> T + Send + Sync + 'static,
        I: Send + 'static,
        T: Send + 'static,
    {
        let f = Arc::new(f);
        let mut items = items.into_iter();
        let mut submitted = Map {
            pending: VecDeque::with_capacity(items.size_hint().0),
            deadline,
        };
        for item in items.by_ref() {
            let f = f.clone();
            // The job is made from the item only once the pool accepts it, so that a
            // refusal hands the item itself back.
            match self.submit_inner(item, move |item| move || f(item), true) {
                Ok(handle) => submitted.pending.push_back(handle),
                Err(refused) => {
                    let (first, why) = match refused {
                        SubmitError::Broken(item, why) => (item, Some(why)),
                        SubmitError::ShutDown(item) | SubmitError::Full(item) => (item, None),
                    };
                    let mut left = vec![first];
                    left.extend(items);
                    return Err(match why {
                        Some(why) => MapError::Broken(left, submitted, why),
                        None => MapError::ShutDown(left, submitted),
                    });
                }
            }
        }
        Ok(submitted)
    }
}

impl<T> Iterator for Map<T> {
    type Item = Result<T, TaskError>;

    fn next(&mut self) -> Option<Result<T, TaskError>> {
        let mut handle = self.pending.pop_front()?;
        let outcome = match self.deadline {
            None => handle.result_timeout(Duration::MAX),
            Some(deadline) => {
                handle.result_timeout(deadline.saturating_duration_since(Instant::now()))
            }
        };
        if matches!(outcome, Err(TaskError::Timeout)) {
            handle.cancel();
            self.cancel_rest();
        }
        Some(outcome)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.pending.len(), Some(self.pending.len()))
    }
}

impl<T> Map<T> {
    /// The handles of the jobs whose results were not yielded yet, in input order: they run
    /// to the end even if the handles are dropped (unlike dropping the `Map`).
    ///
    /// ```
    /// use contexture_pool::ThreadPool;
    /// let pool = ThreadPool::new();
    /// let handles = pool.map(|n: u8| n + 1, [1, 2]).unwrap().into_handles();
    /// let out: Vec<u8> = handles.into_iter().map(|h| h.result().unwrap()).collect();
    /// assert_eq!(out, [2, 3]);
    /// ```
    pub fn into_handles(mut self) -> Vec<Handle<T>> {
        std::mem::take(&mut self.pending).into()
    }

    fn cancel_rest(&mut self) {
        for handle in self.pending.drain(..) {
            handle.cancel();
        }
    }
}

impl<T> Drop for Map<T> {
    fn drop(&mut self) {
        self.cancel_rest();
    }
}

impl<T> fmt::Debug for Map<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map")
            .field("left", &self.pending.len())
            .finish_non_exhaustive()
    }
}
