//! `ThreadPool::map`: results in input order, with an optional overall timeout; jobs not
//! yet started are cancelled when the iterator times out or is dropped.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::TaskError;
use crate::pool::ThreadPool;
use crate::task::Handle;

/// The results of [`ThreadPool::map`], in input order.
pub struct Map<T> {
    pending: VecDeque<Result<Handle<T>, TaskError>>,
    deadline: Option<Instant>,
}

impl ThreadPool {
    /// Submits `f(item)` for every item now and yields the results in input order as they
    /// are consumed (Python's `Executor.map`). An item the pool refused (shut down or broken)
    /// yields [`TaskError::ShutDown`] / [`TaskError::BrokenPool`] in its place.
    ///
    /// ```
    /// use contexture_pool::ThreadPool;
    /// let pool = ThreadPool::new();
    /// let lengths: Vec<usize> = pool
    ///     .map(|s: &str| s.len(), ["a", "bb", "ccc"])
    ///     .map(Result::unwrap)
    ///     .collect();
    /// assert_eq!(lengths, [1, 2, 3]);
    /// ```
    pub fn map<I, T, F>(&self, f: F, items: impl IntoIterator<Item = I>) -> Map<T>
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
    /// let mut results = pool.map_timeout(
    ///     move |n: u32| { if n == 0 { rx.lock().unwrap().recv().unwrap(); } n },
    ///     0..3,
    ///     Duration::from_millis(20),
    /// );
    /// assert_eq!(results.next(), Some(Err(TaskError::Timeout)));
    /// assert_eq!(results.next(), None);
    /// tx.send(()).unwrap();
    /// ```
    pub fn map_timeout<I, T, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = I>,
        timeout: Duration,
    ) -> Map<T>
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
    ) -> Map<T>
    where
        F: Fn(I) -> T + Send + Sync + 'static,
        I: Send + 'static,
        T: Send + 'static,
    {
        let f = Arc::new(f);
        let pending = items
            .into_iter()
            .map(|item| {
                let f = f.clone();
                self.submit(move || f(item)).map_err(|e| match e {
                    crate::SubmitError::Broken(_, why) => TaskError::BrokenPool(why),
                    _ => TaskError::ShutDown,
                })
            })
            .collect();
        Map { pending, deadline }
    }
}

impl<T> Iterator for Map<T> {
    type Item = Result<T, TaskError>;

    fn next(&mut self) -> Option<Result<T, TaskError>> {
        let mut next = self.pending.pop_front()?;
        let outcome = match &mut next {
            Err(refused) => Err(refused.clone()),
            Ok(handle) => match self.deadline {
                None => handle.result_timeout(Duration::MAX),
                Some(deadline) => {
                    handle.result_timeout(deadline.saturating_duration_since(Instant::now()))
                }
            },
        };
        if matches!(outcome, Err(TaskError::Timeout)) {
            if let Ok(handle) = &next {
                handle.cancel();
            }
            self.cancel_rest();
        }
        Some(outcome)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.pending.len(), Some(self.pending.len()))
    }
}

impl<T> Map<T> {
    fn cancel_rest(&mut self) {
        for handle in self.pending.drain(..).flatten() {
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
