//! The pool's error types: one per operation family, each handing back what it refused.

use std::any::Any;

use crate::map::Map;
use std::fmt;

/// Why a job has no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskError {
    /// The job panicked; the message of the panic (the worker survived).
    #[error("the job panicked: {0}")]
    Panicked(String),
    /// The job was cancelled before it started.
    #[error("the job was cancelled")]
    Cancelled,
    /// The pool broke (an initialiser failed) before the job could run.
    #[error("the pool is broken: {0}")]
    BrokenPool(String),
    /// A timed wait gave up; the outcome is kept for a later call.
    #[error("timed out waiting for the job")]
    Timeout,
    /// The outcome was already taken by an earlier call.
    #[error("the job's outcome was already taken")]
    AlreadyTaken,
}

/// `submit` refused the job; the closure comes back inside.
#[derive(thiserror::Error)]
pub enum SubmitError<F> {
    /// The pool was shut down.
    #[error("the pool is shut down")]
    ShutDown(F),
    /// The pool is broken (an initialiser failed).
    #[error("the pool is broken: {1}")]
    Broken(F, String),
    /// The bounded queue is full (only from `try_submit`).
    #[error("the pool's queue is full")]
    Full(F),
}

impl<F> SubmitError<F> {
    /// The closure that was not submitted.
    ///
    /// ```
    /// use contexture_pool::ThreadPool;
    /// let pool = ThreadPool::new();
    /// pool.shutdown(true, false);
    /// let job = pool.submit(|| 1).unwrap_err().into_inner();
    /// assert_eq!(job(), 1);
    /// ```
    pub fn into_inner(self) -> F {
        match self {
            SubmitError::ShutDown(f) | SubmitError::Broken(f, _) | SubmitError::Full(f) => f,
        }
    }
}

impl<F> fmt::Debug for SubmitError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubmitError::ShutDown(_) => f.write_str("ShutDown(..)"),
            SubmitError::Broken(_, why) => write!(f, "Broken(.., {why:?})"),
            SubmitError::Full(_) => f.write_str("Full(..)"),
        }
    }
}

/// [`ThreadPool::map`](crate::ThreadPool::map) was refused part-way (or at once): the items
/// not submitted come back, in order (the refused one first, then the rest of the input),
/// with the [`Map`] of those submitted before (dropping it cancels those not started).
pub enum MapError<I, T> {
    /// The pool was shut down.
    ShutDown(Vec<I>, Map<T>),
    /// The pool is broken (the reason).
    Broken(Vec<I>, Map<T>, String),
}

impl<I, T> MapError<I, T> {
    /// The items that were not submitted.
    ///
    /// ```
    /// use contexture_pool::ThreadPool;
    /// let pool = ThreadPool::new();
    /// pool.shutdown(true, false);
    /// let refused = pool.map(|n: u8| n * 2, [1, 2, 3]).unwrap_err();
    /// assert_eq!(refused.into_inner(), [1, 2, 3]);
    /// ```
    pub fn into_inner(self) -> Vec<I> {
        self.into_parts().0
    }

    /// The items that were not submitted, and the results of those that were.
    pub fn into_parts(self) -> (Vec<I>, Map<T>) {
        match self {
            MapError::ShutDown(items, map) | MapError::Broken(items, map, _) => (items, map),
        }
    }
}

impl<I, T> fmt::Debug for MapError<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapError::ShutDown(items, map) => {
                write!(f, "ShutDown({} items, {map:?})", items.len())
            }
            MapError::Broken(items, map, why) => {
                write!(f, "Broken({} items, {map:?}, {why:?})", items.len())
            }
        }
    }
}

impl<I, T> fmt::Display for MapError<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapError::ShutDown(items, _) => write!(
                f,
                "the pool is shut down: {} items not submitted",
                items.len()
            ),
            MapError::Broken(items, _, why) => write!(
                f,
                "the pool is broken: {why}: {} items not submitted",
                items.len()
            ),
        }
    }
}

impl<I, T> std::error::Error for MapError<I, T> {}

/// The pool could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// `max_workers(0)`.
    #[error("max_workers must be at least 1")]
    ZeroWorkers,
    /// `queue_bound(0)`: no job could ever be queued (leave the bound out for an unbounded
    /// queue).
    #[error("queue_bound must be at least 1")]
    ZeroQueueBound,
    /// The thread-name prefix holds a NUL byte, which no thread name may hold.
    #[error("thread_name_prefix must not contain a NUL byte")]
    NulInThreadName,
}

/// A done callback that ran at once (the job had already ended) panicked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a done callback panicked: {0}")]
pub struct CallbackPanicked(pub String);

/// Runs user code `f`; a panic comes back as its message. The payload is dropped here too,
/// under its own guard: a payload whose `Drop` panics as well is leaked rather than let out.
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        let message = panic_message(payload.as_ref());
        if let Err(nested) =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(payload)))
        {
            std::mem::forget(nested);
        }
        message
    })
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}
