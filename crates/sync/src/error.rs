//! The error types, one per operation family.

use thiserror::Error;

/// Why [`Lock::release`](crate::Lock::release) or [`RLock::release`](crate::RLock::release)
/// refused; the lock is unchanged. Python raises `RuntimeError` in both cases.
///
/// ```
/// use contexture_sync::{Lock, ReleaseError};
///
/// let lock = Lock::new();
/// assert_eq!(lock.release(), Err(ReleaseError::Unlocked));
/// assert_eq!(ReleaseError::Unlocked.to_string(), "release of an unlocked lock");
/// ```
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq, Hash)]
pub enum ReleaseError {
    /// The lock was not held (Python: "release unlocked lock").
    #[error("release of an unlocked lock")]
    Unlocked,
    /// An `RLock` is held by another thread (Python: "cannot release un-acquired lock").
    #[error("release of a reentrant lock held by another thread")]
    NotOwner,
}

/// Why a [`Condition`](crate::Condition) operation refused; nothing changed. Python raises
/// `RuntimeError("cannot wait on un-acquired lock")` / `"cannot notify on un-acquired lock"`.
///
/// ```
/// use contexture_sync::{Condition, ConditionError};
///
/// let cond = Condition::new();
/// assert_eq!(cond.notify(1), Err(ConditionError::NotHeld));
/// assert_eq!(ConditionError::NotHeld.to_string(), "the condition's lock is not held by this thread");
/// ```
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq, Hash)]
pub enum ConditionError {
    /// The calling thread does not hold the condition's lock (for a plain
    /// [`Lock`](crate::Lock): the lock is not held at all, as in Python).
    #[error("the condition's lock is not held by this thread")]
    NotHeld,
}

/// Why [`BoundedSemaphore::release`](crate::BoundedSemaphore::release) refused: the release
/// would have raised the count above the initial value. The count is unchanged. Python
/// raises `ValueError("Semaphore released too many times")`.
///
/// ```
/// use contexture_sync::{BoundedSemaphore, SemaphoreReleaseError};
///
/// let sem = BoundedSemaphore::new(1);
/// assert_eq!(sem.release(1), Err(SemaphoreReleaseError::TooMany));
/// assert_eq!(SemaphoreReleaseError::TooMany.to_string(), "semaphore released too many times");
/// ```
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq, Hash)]
pub enum SemaphoreReleaseError {
    /// The count would have exceeded the bounded semaphore's initial value.
    #[error("semaphore released too many times")]
    TooMany,
}

/// [`Barrier::new`](crate::Barrier::new) or [`BarrierBuilder::build`](crate::BarrierBuilder::build)
/// was given zero parties (Python: `ValueError`).
///
/// ```
/// use contexture_sync::{Barrier, ZeroParties};
///
/// assert_eq!(Barrier::new(0).unwrap_err(), ZeroParties);
/// assert_eq!(ZeroParties.to_string(), "a barrier needs at least one party");
/// ```
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq, Hash)]
#[error("a barrier needs at least one party")]
pub struct ZeroParties;

/// A [`Barrier`](crate::Barrier) wait failed because the barrier is (or became) broken: by
/// a timeout, by [`abort`](crate::Barrier::abort), by [`reset`](crate::Barrier::reset)
/// during the round, or by a panicking action (Python: `BrokenBarrierError`).
///
/// The thread whose action panicked gets the panic payload back in its error
/// ([`into_panic`](Self::into_panic), for `std::panic::resume_unwind`); every other waiter
/// gets a plain `BrokenBarrier`. It is `Send + Sync` (so it fits `anyhow` and friends):
/// the payload is only reachable by value or through `&mut`.
///
/// ```
/// use contexture_sync::Barrier;
///
/// let barrier = Barrier::builder(1).action(|| panic!("boom")).build().unwrap();
/// # let hook = std::panic::take_hook();
/// # std::panic::set_hook(Box::new(|_| {}));
/// let err = barrier.wait().unwrap_err();
/// # std::panic::set_hook(hook);
/// assert!(err.action_panicked());
/// assert_eq!(err.to_string(), "the barrier's action panicked");
/// assert_eq!(err.into_panic().unwrap().downcast_ref::<&str>(), Some(&"boom"));
/// assert!(barrier.is_broken());
/// ```
pub struct BrokenBarrier {
    pub(crate) panic: Option<Box<dyn std::any::Any + Send + 'static>>,
}

// SAFETY: the payload (`Send`, maybe not `Sync`) is never reachable through `&BrokenBarrier`:
// only `into_panic` (by value) and `take_panic` (`&mut`) hand it out, so sharing a
// `&BrokenBarrier` between threads shares nothing of it.
unsafe impl Sync for BrokenBarrier {}

impl BrokenBarrier {
    /// Whether this thread ran the action and it panicked (the payload is inside).
    ///
    /// ```
    /// use contexture_sync::Barrier;
    ///
    /// let barrier = Barrier::new(2).unwrap();
    /// barrier.abort();
    /// assert!(!barrier.wait().unwrap_err().action_panicked());
    /// ```
    pub fn action_panicked(&self) -> bool {
        self.panic.is_some()
    }

    /// Takes the action's panic payload out (for `std::panic::resume_unwind`); `None` for
    /// every failure other than this thread's panicking action.
    ///
    /// ```
    /// use contexture_sync::Barrier;
    ///
    /// let barrier = Barrier::new(1).unwrap();
    /// barrier.abort();
    /// assert!(barrier.wait().unwrap_err().into_panic().is_none());
    /// ```
    pub fn into_panic(self) -> Option<Box<dyn std::any::Any + Send + 'static>> {
        self.panic
    }

    /// Takes the action's panic payload out, leaving `None`.
    ///
    /// ```
    /// use contexture_sync::Barrier;
    ///
    /// let barrier = Barrier::builder(1).action(|| std::panic::panic_any(7)).build().unwrap();
    /// # std::panic::set_hook(Box::new(|_| {}));
    /// let mut err = barrier.wait().unwrap_err();
    /// assert_eq!(err.take_panic().unwrap().downcast_ref::<i32>(), Some(&7));
    /// assert!(!err.action_panicked());
    /// ```
    pub fn take_panic(&mut self) -> Option<Box<dyn std::any::Any + Send + 'static>> {
        self.panic.take()
    }
}

impl std::fmt::Debug for BrokenBarrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokenBarrier")
            .field("action_panicked", &self.panic.is_some())
            .finish()
    }
}

impl std::fmt::Display for BrokenBarrier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.panic.is_some() {
            "the barrier's action panicked"
        } else {
            "the barrier is broken"
        })
    }
}

impl std::error::Error for BrokenBarrier {}

/// Why a queue `put` refused; the item is handed back ([`into_inner`](Self::into_inner)).
/// Python raises `queue.Full` / `queue.ShutDown` and keeps nothing.
///
/// `Debug` does not need `T: Debug` (it prints the variant only).
///
/// ```
/// use contexture_sync::{PutError, Queue};
///
/// let q = Queue::new(1);
/// q.put("a").unwrap();
/// let err = q.try_put("b").unwrap_err();
/// assert!(matches!(err, PutError::Full("b")));
/// assert_eq!(err.to_string(), "the queue is full");
/// assert_eq!(format!("{err:?}"), "Full(..)");
/// assert_eq!(err.into_inner(), "b");
/// ```
pub enum PutError<T> {
    /// The queue was full and the call did not (or could no longer) wait.
    Full(T),
    /// The queue is shut down ([`Queue::shutdown`](crate::Queue::shutdown)); this wins over
    /// `Full`.
    ShutDown(T),
}

impl<T> PutError<T> {
    /// The item that was not put.
    ///
    /// ```
    /// use contexture_sync::PutError;
    ///
    /// assert_eq!(PutError::ShutDown(7).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full(item) | PutError::ShutDown(item) => item,
        }
    }

    /// Whether the queue was full.
    ///
    /// ```
    /// use contexture_sync::PutError;
    ///
    /// assert!(PutError::Full(()).is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, PutError::Full(_))
    }

    /// Whether the queue was shut down.
    ///
    /// ```
    /// use contexture_sync::PutError;
    ///
    /// assert!(PutError::ShutDown(()).is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        matches!(self, PutError::ShutDown(_))
    }
}

impl<T> std::fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PutError::Full(_) => "Full(..)",
            PutError::ShutDown(_) => "ShutDown(..)",
        })
    }
}

impl<T> std::fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PutError::Full(_) => "the queue is full",
            PutError::ShutDown(_) => "the queue is shut down",
        })
    }
}

impl<T> std::error::Error for PutError<T> {}

impl<T: PartialEq> PartialEq for PutError<T> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (PutError::Full(a), PutError::Full(b)) => a == b,
            (PutError::ShutDown(a), PutError::ShutDown(b)) => a == b,
            _ => false,
        }
    }
}

impl<T: Eq> Eq for PutError<T> {}

/// Why a queue `get` returned no item (Python: `queue.Empty` / `queue.ShutDown`).
///
/// ```
/// use contexture_sync::{GetError, Queue};
///
/// let q: Queue<u8> = Queue::new(0);
/// assert_eq!(q.try_get(), Err(GetError::Empty));
/// q.shutdown(false);
/// assert_eq!(q.try_get(), Err(GetError::ShutDown));
/// assert_eq!(GetError::ShutDown.to_string(), "the queue is shut down and empty");
/// ```
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq, Hash)]
pub enum GetError {
    /// The queue was empty and the call did not (or could no longer) wait.
    #[error("the queue is empty")]
    Empty,
    /// The queue is shut down and has no items left.
    #[error("the queue is shut down and empty")]
    ShutDown,
}

/// [`task_done`](crate::Queue::task_done) was called more times than items were put (Python:
/// `ValueError("task_done() called too many times")`). Nothing changed.
///
/// ```
/// use contexture_sync::{Queue, TaskDoneError};
///
/// let q: Queue<u8> = Queue::new(0);
/// assert_eq!(q.task_done(), Err(TaskDoneError));
/// assert_eq!(TaskDoneError.to_string(), "task_done called more times than items were put");
/// ```
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq, Hash)]
#[error("task_done called more times than items were put")]
pub struct TaskDoneError;
