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
