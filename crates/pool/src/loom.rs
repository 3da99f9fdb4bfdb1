//! The one place that chooses between std and loom for every concurrency primitive this
//! crate uses; no other file imports `std::sync` atomics or locks directly.
//!
//! Loom models the protocol of one job's [`Task`](crate::task::Task): its phase word, the
//! outcome cell that word guards, and the slow-path lock and condition variable; and the
//! [`Gate`](crate::gate::Gate) of the lock-free submit path; and the [`Idle`](crate::idle::Idle)
//! count of idle workers; and the job memory of [`slot`](crate::slot): a job's reference
//! count and its cache's lock. The rest of the pool
//! itself (counters, its lock, the crossbeam channel, worker threads) always uses std, from
//! [`pool`]: it is not part of a model (the stress tests in `tests/shutdown.rs` cover it),
//! and its pool counter must be usable in a `static`. [`Arc`] is std's too (the pool's
//! shared state; jobs are counted by `slot::JobRef`, with the atomics chosen here).

pub(crate) use std::sync::Arc;

#[cfg(not(contexture_loom))]
pub(crate) use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
#[cfg(not(contexture_loom))]
pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};
#[cfg(not(contexture_loom))]
pub(crate) use std::thread::yield_now;

#[cfg(contexture_loom)]
pub(crate) use loom::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
#[cfg(contexture_loom)]
pub(crate) use loom::sync::{Condvar, Mutex, MutexGuard};
#[cfg(contexture_loom)]
pub(crate) use loom::thread::yield_now;

/// What the pool uses outside the modelled task protocol: always std.
pub(crate) mod pool {
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    pub(crate) use std::sync::{Condvar, Mutex};
}

/// `UnsafeCell` with loom's closure API, so that loom can check every access to it.
#[cfg(not(contexture_loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(contexture_loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Gives the raw pointer to the contents, for reading; the caller guarantees that
    /// nobody writes meanwhile.
    #[inline]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Gives the raw pointer to the contents; the caller guarantees exclusive access.
    #[inline]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

#[cfg(contexture_loom)]
pub(crate) use loom::cell::UnsafeCell;

/// Spin-then-give-up backoff before a waiter takes the slow path: crossbeam's in
/// production; under loom a backoff that never spins, so that models explore the parking
/// protocol instead of busy loops.
#[cfg(not(contexture_loom))]
pub(crate) use crossbeam_utils::Backoff;

/// Loom stand-in for `crossbeam_utils::Backoff`: completed at once.
#[cfg(contexture_loom)]
#[derive(Debug, Default)]
pub(crate) struct Backoff;

#[cfg(contexture_loom)]
impl Backoff {
    pub(crate) fn new() -> Self {
        Backoff
    }
    pub(crate) fn is_completed(&self) -> bool {
        true
    }
    pub(crate) fn snooze(&self) {}
}
