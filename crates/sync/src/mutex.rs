//! The crate's internal data lock: a [`Lock`] and the data it guards, plus the "park while
//! releasing it" step that the monitors (`Barrier`, the queues) are built from.

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::time::Instant;

use crate::lock::Lock;
use crate::parking::{self, ParkResult, ParkToken};

/// A [`Lock`] with the data it guards. Internal: the public primitives never hand out a
/// guard, so no user code ever runs while it is held (item `Drop`s and the barrier's action
/// run after it is released; only a `PriorityQueue`'s `Ord` runs under it).
pub(crate) struct Mutex<T> {
    lock: Lock,
    data: UnsafeCell<T>,
}

// SAFETY: the data is only reached through a `MutexGuard`, which exists only while `lock` is
// held (acquire/release give the happens-before between holders), so one thread at a time
// touches it; `T: Send` lets it be touched from several threads in turn.
unsafe impl<T: Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    pub(crate) fn new(data: T) -> Self {
        Mutex {
            lock: Lock::new(),
            data: UnsafeCell::new(data),
        }
    }

    /// Blocks until the lock is held (spinning briefly first, as [`Lock::acquire`] does).
    #[inline]
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        self.lock.acquire();
        MutexGuard { mutex: self }
    }
}

/// Proof that the lock of a [`Mutex`] is held; releases it when dropped.
pub(crate) struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while this thread holds the lock.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard exists only while this thread holds the lock, and `&mut self`
        // makes this the only reference through it.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // Cannot fail: we hold it, and nobody else releases an internal lock.
        let _ = self.mutex.lock.release();
    }
}

impl<T> MutexGuard<'_, T> {
    /// Parks the current thread on `key` and releases the lock once the thread is queued
    /// (in the parking layer's `before_sleep`), so that a thread which takes the lock next and
    /// then unparks `key` always finds it: no lost wakeup. Does not take the lock back.
    /// `validate` runs first, under the parking queue lock and with the lock still held; if
    /// it returns `false` the lock is released and [`ParkResult::Invalid`] returned.
    ///
    /// # Safety
    ///
    /// As for [`parking::park`]: `key` is the address of a field of the caller's own object;
    /// `validate` and `timed_out` must not panic nor call into the parking layer.
    pub(crate) unsafe fn park(
        self,
        key: usize,
        validate: impl FnOnce() -> bool,
        timed_out: impl FnOnce(usize, bool),
        token: ParkToken,
        deadline: Option<Instant>,
    ) -> ParkResult {
        let mutex = self.mutex;
        // The lock is released by `before_sleep` (or below), not by the guard.
        std::mem::forget(self);
        let before_sleep = || {
            // Cannot fail (we hold it); may unpark a thread waiting for the lock, which
            // `before_sleep` is allowed to do.
            let _ = mutex.lock.release();
        };
        // SAFETY: the caller upholds the contract for `key`, `validate` and `timed_out`;
        // `before_sleep` only releases our lock (an unpark on another key), never parks and
        // cannot panic.
        let result =
            unsafe { parking::park(key, validate, before_sleep, timed_out, token, deadline) };
        if result == ParkResult::Invalid {
            // `before_sleep` did not run.
            let _ = mutex.lock.release();
        }
        result
    }
}
