//! [`Condition`]: Python's `threading.Condition`, over an [`RLock`] by default or over any
//! [`ConditionLock`] (a [`Lock`], an [`RLock`], or a shared reference to one).

use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use crate::error::{ConditionError, ReleaseError};
use crate::lock::{Lock, TOKEN_HANDOFF};
use crate::loom::{AtomicUsize, Ordering};
use crate::parking::{self, ParkResult, RequeueOp, DEFAULT_PARK_TOKEN, DEFAULT_UNPARK_TOKEN};
use crate::rlock::RLock;

mod sealed {
    use std::time::{Duration, Instant};

    use crate::error::ReleaseError;
    use crate::lock::Lock;

    /// Proof of being inside this crate: every method below takes one, so code outside
    /// cannot call them even through a `ConditionLock` bound.
    #[derive(Clone, Copy, Debug)]
    pub struct Token(pub(super) ());

    /// The operations a [`Condition`](crate::Condition) needs from its lock. Sealed: the
    /// condition's correctness rests on their exact behaviour.
    pub trait Sealed {
        /// What `release_save` keeps to restore the lock after waiting.
        #[doc(hidden)]
        type Saved;
        /// Whether the calling thread may wait or notify (Python's `_is_owned`).
        #[doc(hidden)]
        fn lock_held(&self, _: Token) -> bool;
        /// Releases the lock completely (Python's `_release_save`); called by a holder.
        /// Must not panic: it runs inside the parking layer's `before_sleep`.
        #[doc(hidden)]
        fn lock_release_save(&self, _: Token) -> Self::Saved;
        /// Takes the lock back as it was (Python's `_acquire_restore`).
        #[doc(hidden)]
        fn lock_acquire_restore(&self, saved: Self::Saved, _: Token);
        /// Records the lock as taken back after its raw lock was handed to the waiter.
        #[doc(hidden)]
        fn lock_restore_handed_off(&self, saved: Self::Saved, _: Token);
        /// The raw lock whose queue notified waiters are requeued onto.
        #[doc(hidden)]
        fn lock_raw(&self, _: Token) -> &Lock;
        #[doc(hidden)]
        fn lock_acquire(&self, _: Token);
        #[doc(hidden)]
        fn lock_try_acquire(&self, _: Token) -> bool;
        #[doc(hidden)]
        fn lock_acquire_timeout(&self, timeout: Duration, _: Token) -> bool;
        #[doc(hidden)]
        fn lock_acquire_until(&self, deadline: Instant, _: Token) -> bool;
        #[doc(hidden)]
        fn lock_release(&self, _: Token) -> Result<(), ReleaseError>;
    }
}

/// A lock a [`Condition`] can be built over: [`Lock`], [`RLock`], and `&L` / `Arc<L>` of
/// either, so that the lock can be shared with code that uses it directly. Sealed.
///
/// ```
/// use contexture_sync::{Condition, Lock};
/// use std::sync::Arc;
///
/// let lock = Arc::new(Lock::new());
/// let cond = Condition::with_lock(Arc::clone(&lock));
/// lock.acquire(); // the same lock, taken directly
/// cond.notify_all().unwrap();
/// lock.release().unwrap();
/// ```
pub trait ConditionLock: sealed::Sealed {}

impl sealed::Sealed for Lock {
    type Saved = ();
    /// Python's rule for a plain `Lock`: it cannot know the holder, so "held by anyone"
    /// counts as held.
    fn lock_held(&self, _: Token) -> bool {
        self.locked()
    }
    fn lock_release_save(&self, _: Token) {
        // An error means another thread released it meanwhile (legal for a `Lock`): it is
        // released either way.
        let _ = Lock::release(self);
    }
    fn lock_acquire_restore(&self, (): (), _: Token) {
        Lock::acquire(self);
    }
    fn lock_restore_handed_off(&self, (): (), _: Token) {}
    fn lock_raw(&self, _: Token) -> &Lock {
        self
    }
    fn lock_acquire(&self, _: Token) {
        Lock::acquire(self);
    }
    fn lock_try_acquire(&self, _: Token) -> bool {
        Lock::try_acquire(self)
    }
    fn lock_acquire_timeout(&self, timeout: Duration, _: Token) -> bool {
        Lock::acquire_timeout(self, timeout)
    }
    fn lock_acquire_until(&self, deadline: Instant, _: Token) -> bool {
        Lock::acquire_until(self, deadline)
    }
    fn lock_release(&self, _: Token) -> Result<(), ReleaseError> {
        Lock::release(self)
    }
}
impl ConditionLock for Lock {}

impl sealed::Sealed for RLock {
    type Saved = usize;
    fn lock_held(&self, _: Token) -> bool {
        self.is_owned()
    }
    fn lock_release_save(&self, _: Token) -> usize {
        self.release_all()
    }
    fn lock_acquire_restore(&self, levels: usize, _: Token) {
        self.acquire_levels(levels);
    }
    fn lock_restore_handed_off(&self, levels: usize, _: Token) {
        self.owned_with_levels(levels);
    }
    fn lock_raw(&self, _: Token) -> &Lock {
        self.raw()
    }
    fn lock_acquire(&self, _: Token) {
        RLock::acquire(self);
    }
    fn lock_try_acquire(&self, _: Token) -> bool {
        RLock::try_acquire(self)
    }
    fn lock_acquire_timeout(&self, timeout: Duration, _: Token) -> bool {
        RLock::acquire_timeout(self, timeout)
    }
    fn lock_acquire_until(&self, deadline: Instant, _: Token) -> bool {
        RLock::acquire_until(self, deadline)
    }
    fn lock_release(&self, _: Token) -> Result<(), ReleaseError> {
        RLock::release(self)
    }
}
impl ConditionLock for RLock {}

/// Implements the lock operations for a pointer type by delegating to its target.
macro_rules! delegate {
    ($($ptr:ty),*) => {$(
        impl<L: ConditionLock + ?Sized> sealed::Sealed for $ptr {
            type Saved = L::Saved;
            fn lock_held(&self, _: Token) -> bool {
                (**self).lock_held(Token(()))
            }
            fn lock_release_save(&self, _: Token) -> L::Saved {
                (**self).lock_release_save(Token(()))
            }
            fn lock_acquire_restore(&self, saved: L::Saved, t: Token) {
                (**self).lock_acquire_restore(saved, t)
            }
            fn lock_restore_handed_off(&self, saved: L::Saved, t: Token) {
                (**self).lock_restore_handed_off(saved, t)
            }
            fn lock_raw(&self, t: Token) -> &Lock {
                (**self).lock_raw(t)
            }
            fn lock_acquire(&self, _: Token) {
                sealed::Sealed::lock_acquire(&**self, Token(()))
            }
            fn lock_try_acquire(&self, _: Token) -> bool {
                sealed::Sealed::lock_try_acquire(&**self, Token(()))
            }
            fn lock_acquire_timeout(&self, timeout: Duration, _: Token) -> bool {
                sealed::Sealed::lock_acquire_timeout(&**self, timeout, Token(()))
            }
            fn lock_acquire_until(&self, deadline: Instant, _: Token) -> bool {
                sealed::Sealed::lock_acquire_until(&**self, deadline, Token(()))
            }
            fn lock_release(&self, _: Token) -> Result<(), ReleaseError> {
                sealed::Sealed::lock_release(&**self, Token(()))
            }
        }
        impl<L: ConditionLock + ?Sized> ConditionLock for $ptr {}
    )*};
}
delegate!(&L, std::sync::Arc<L>);
#[cfg(contexture_loom)]
delegate!(crate::loom::Arc<L>);

use sealed::Token;

/// A condition variable with Python's `threading.Condition` semantics, over an [`RLock`]
/// ([`Condition::new`]) or a given lock ([`Condition::with_lock`]).
///
/// - [`wait`](Self::wait) / [`wait_timeout`](Self::wait_timeout) /
///   [`wait_until`](Self::wait_until) release the lock completely (every recursion level of
///   an `RLock`), sleep until notified (or timed out), then take the lock back at the same
///   depth. [`wait_for`](Self::wait_for) loops on a predicate.
/// - Thread-bound: it has no async face (its default lock is an [`RLock`], owned by a
///   thread, and a task may resume on another thread). In async code, signal with an
///   [`Event`](crate::Event) or a [`Queue`](crate::Queue) (`wait_async`, `get_async`).
/// - [`notify(n)`](Self::notify) wakes exactly `min(n, waiting)` threads, oldest first;
///   [`notify_all`](Self::notify_all) wakes every waiter.
/// - A waiter returns only when notified or timed out: no spurious wakeups, and a
///   notification is never lost to a waiter that is timing out at the same moment (it goes
///   to the next waiter instead).
/// - Waiting or notifying without holding the lock is an error
///   ([`ConditionError::NotHeld`]). Over a plain [`Lock`] "held" means "held by any thread",
///   as in Python, which cannot know a `Lock`'s holder either.
///
/// The condition itself also acts as its lock ([`acquire`](Self::acquire),
/// [`lock`](Self::lock), …), as `with cond:` does in Python.
///
/// ```
/// use contexture_sync::Condition;
/// use std::sync::atomic::{AtomicBool, Ordering};
///
/// let cond = Condition::new();
/// let ready = AtomicBool::new(false);
/// std::thread::scope(|s| {
///     s.spawn(|| {
///         let _guard = cond.lock();
///         ready.store(true, Ordering::Relaxed);
///         cond.notify(1).unwrap();
///     });
///     let _guard = cond.lock();
///     let seen = cond.wait_for(|| ready.load(Ordering::Relaxed), None).unwrap();
///     assert!(seen);
/// });
/// ```
pub struct Condition<L: ConditionLock = RLock> {
    lock: L,
    /// Threads that called `wait` and were neither notified nor timed out yet. Incremented
    /// by a waiter while it holds the lock, decremented under the parking queue lock (by the
    /// notifier that wakes it, or by its own timeout), so a notifier holding the lock reads
    /// an upper bound of the queue length and can skip the queue when it reads `0`. Its
    /// address is the parking key of the waiters.
    waiters: AtomicUsize,
}

impl Condition<RLock> {
    /// A condition over a new [`RLock`] of its own (Python: `threading.Condition()`).
    ///
    /// ```
    /// use contexture_sync::Condition;
    ///
    /// static COND: Condition = Condition::new();
    /// let _guard = COND.lock();
    /// let _again = COND.lock(); // an RLock: re-entry is fine
    /// ```
    #[cfg(not(contexture_loom))]
    #[must_use]
    pub const fn new() -> Self {
        Condition::with_lock(RLock::new())
    }

    /// A condition over a new [`RLock`] of its own (not `const` under loom).
    #[cfg(contexture_loom)]
    #[must_use]
    pub fn new() -> Self {
        Condition::with_lock(RLock::new())
    }
}

impl Default for Condition<RLock> {
    fn default() -> Self {
        Condition::new()
    }
}

impl<L: ConditionLock> Condition<L> {
    /// A condition over `lock` (Python: `threading.Condition(lock)`). Pass an
    /// `Arc<Lock>`/`Arc<RLock>` (or a reference) to keep using the lock directly too.
    ///
    /// ```
    /// use contexture_sync::{Condition, Lock};
    ///
    /// let cond = Condition::with_lock(Lock::new());
    /// let guard = cond.lock();
    /// assert!(cond.inner_lock().locked());
    /// drop(guard);
    /// ```
    #[cfg(not(contexture_loom))]
    pub const fn with_lock(lock: L) -> Self {
        Condition {
            lock,
            waiters: AtomicUsize::new(0),
        }
    }

    /// A condition over `lock` (not `const` under loom).
    #[cfg(contexture_loom)]
    pub fn with_lock(lock: L) -> Self {
        Condition {
            lock,
            waiters: AtomicUsize::new(0),
        }
    }

    /// The lock this condition is built over.
    ///
    /// ```
    /// use contexture_sync::Condition;
    ///
    /// let cond = Condition::new();
    /// let _guard = cond.lock();
    /// assert_eq!(cond.inner_lock().recursion_count(), 1);
    /// ```
    pub fn inner_lock(&self) -> &L {
        &self.lock
    }

    /// Consumes the condition, returning its lock.
    ///
    /// ```
    /// use contexture_sync::{Condition, Lock};
    ///
    /// let lock: Lock = Condition::with_lock(Lock::new()).into_inner();
    /// assert!(!lock.locked());
    /// ```
    pub fn into_inner(self) -> L {
        self.lock
    }

    /// Acquires the lock (Python: `cond.acquire()`); see [`Lock::acquire`] /
    /// [`RLock::acquire`].
    ///
    /// ```
    /// use contexture_sync::Condition;
    ///
    /// let cond = Condition::new();
    /// cond.acquire();
    /// cond.notify_all().unwrap();
    /// cond.release().unwrap();
    /// ```
    #[inline]
    pub fn acquire(&self) {
        self.lock.lock_acquire(Token(()));
    }

    /// Acquires the lock if that needs no waiting.
    ///
    /// ```
    /// use contexture_sync::Condition;
    ///
    /// let cond = Condition::new();
    /// assert!(cond.try_acquire());
    /// cond.release().unwrap();
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        self.lock.lock_try_acquire(Token(()))
    }

    /// Acquires the lock unless `timeout` passes first; returns whether it did.
    ///
    /// ```
    /// use contexture_sync::Condition;
    /// use std::time::Duration;
    ///
    /// let cond = Condition::new();
    /// assert!(cond.acquire_timeout(Duration::MAX));
    /// cond.release().unwrap();
    /// ```
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.lock.lock_acquire_timeout(timeout, Token(()))
    }

    /// Acquires the lock unless `deadline` passes first; returns whether it did.
    ///
    /// ```
    /// use contexture_sync::Condition;
    /// use std::time::Instant;
    ///
    /// let cond = Condition::new();
    /// assert!(cond.acquire_until(Instant::now()));
    /// cond.release().unwrap();
    /// ```
    #[inline]
    pub fn acquire_until(&self, deadline: Instant) -> bool {
        self.lock.lock_acquire_until(deadline, Token(()))
    }

    /// Releases the lock (Python: `cond.release()`), with the lock's own rules.
    ///
    /// ```
    /// use contexture_sync::{Condition, ReleaseError};
    ///
    /// let cond = Condition::new();
    /// assert_eq!(cond.release(), Err(ReleaseError::Unlocked));
    /// ```
    #[inline]
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.lock.lock_release(Token(()))
    }

    /// Acquires the lock and returns a guard that releases it when dropped (Python:
    /// `with cond:`).
    ///
    /// ```
    /// use contexture_sync::Condition;
    ///
    /// let cond = Condition::new();
    /// let _guard = cond.lock();
    /// cond.notify(1).unwrap();
    /// ```
    #[inline]
    pub fn lock(&self) -> ConditionGuard<'_, L> {
        self.lock.lock_acquire(Token(()));
        ConditionGuard::new(self)
    }

    /// The guard form of [`try_acquire`](Self::try_acquire).
    ///
    /// ```
    /// use contexture_sync::{Condition, Lock};
    ///
    /// let cond = Condition::with_lock(Lock::new());
    /// let _guard = cond.try_lock().unwrap();
    /// assert!(cond.try_lock().is_none());
    /// ```
    #[inline]
    pub fn try_lock(&self) -> Option<ConditionGuard<'_, L>> {
        self.lock
            .lock_try_acquire(Token(()))
            .then(|| ConditionGuard::new(self))
    }

    /// The guard form of [`acquire_timeout`](Self::acquire_timeout).
    ///
    /// ```
    /// use contexture_sync::Condition;
    /// use std::time::Duration;
    ///
    /// let cond = Condition::new();
    /// assert!(cond.lock_timeout(Duration::from_secs(1)).is_some());
    /// ```
    #[inline]
    pub fn lock_timeout(&self, timeout: Duration) -> Option<ConditionGuard<'_, L>> {
        self.lock
            .lock_acquire_timeout(timeout, Token(()))
            .then(|| ConditionGuard::new(self))
    }

    /// The guard form of [`acquire_until`](Self::acquire_until).
    ///
    /// ```
    /// use contexture_sync::Condition;
    /// use std::time::Instant;
    ///
    /// let cond = Condition::new();
    /// assert!(cond.lock_until(Instant::now()).is_some());
    /// ```
    #[inline]
    pub fn lock_until(&self, deadline: Instant) -> Option<ConditionGuard<'_, L>> {
        self.lock
            .lock_acquire_until(deadline, Token(()))
            .then(|| ConditionGuard::new(self))
    }

    /// Releases the lock, sleeps until notified, then takes the lock back at the depth it
    /// had (Python: `cond.wait()`). The caller must hold the lock.
    ///
    /// ```
    /// use contexture_sync::Condition;
    /// use std::sync::atomic::{AtomicBool, Ordering};
    ///
    /// let cond = Condition::new();
    /// let done = AtomicBool::new(false);
    /// std::thread::scope(|s| {
    ///     let _guard = cond.lock();
    ///     s.spawn(|| {
    ///         let _guard = cond.lock(); // waits until the main thread waits
    ///         done.store(true, Ordering::Relaxed);
    ///         cond.notify(1).unwrap();
    ///     });
    ///     while !done.load(Ordering::Relaxed) {
    ///         cond.wait().unwrap();
    ///     }
    /// });
    /// assert!(Condition::new().wait().is_err()); // not held
    /// ```
    pub fn wait(&self) -> Result<(), ConditionError> {
        self.wait_deadline(None).map(|_| ())
    }

    /// As [`wait`](Self::wait), giving up after `timeout`; returns `false` if it timed out
    /// (Python: `cond.wait(timeout)`). The lock is taken back either way. A zero timeout
    /// releases and re-takes the lock; `Duration::MAX` waits forever.
    ///
    /// ```
    /// use contexture_sync::Condition;
    /// use std::time::Duration;
    ///
    /// let cond = Condition::new();
    /// let _guard = cond.lock();
    /// assert_eq!(cond.wait_timeout(Duration::from_millis(1)), Ok(false));
    /// assert!(cond.inner_lock().is_owned());
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<bool, ConditionError> {
        self.wait_deadline(parking::deadline_after(timeout))
    }

    /// As [`wait`](Self::wait), giving up at `deadline`; returns `false` if it timed out.
    ///
    /// ```
    /// use contexture_sync::Condition;
    /// use std::time::Instant;
    ///
    /// let cond = Condition::new();
    /// let _guard = cond.lock();
    /// assert_eq!(cond.wait_until(Instant::now()), Ok(false));
    /// ```
    pub fn wait_until(&self, deadline: Instant) -> Result<bool, ConditionError> {
        self.wait_deadline(Some(deadline))
    }

    /// Waits until `predicate` returns `true` or `timeout` passes (`None`: no timeout), and
    /// returns the predicate's last value (Python: `cond.wait_for(predicate, timeout)`). The
    /// predicate runs with the lock held: first before any wait, then after each wake-up.
    /// The caller must hold the lock, even when the predicate already holds (Python only
    /// checks when it has to wait).
    ///
    /// ```
    /// use contexture_sync::Condition;
    /// use std::time::Duration;
    ///
    /// let cond = Condition::new();
    /// let _guard = cond.lock();
    /// assert_eq!(cond.wait_for(|| true, None), Ok(true));
    /// assert_eq!(cond.wait_for(|| false, Some(Duration::from_millis(1))), Ok(false));
    /// ```
    pub fn wait_for(
        &self,
        predicate: impl FnMut() -> bool,
        timeout: Option<Duration>,
    ) -> Result<bool, ConditionError> {
        self.wait_for_deadline(predicate, timeout.and_then(parking::deadline_after))
    }

    /// As [`wait_for`](Self::wait_for), giving up at `deadline`.
    ///
    /// ```
    /// use contexture_sync::Condition;
    /// use std::time::Instant;
    ///
    /// let cond = Condition::new();
    /// let _guard = cond.lock();
    /// assert_eq!(cond.wait_for_until(|| false, Instant::now()), Ok(false));
    /// ```
    pub fn wait_for_until(
        &self,
        predicate: impl FnMut() -> bool,
        deadline: Instant,
    ) -> Result<bool, ConditionError> {
        self.wait_for_deadline(predicate, Some(deadline))
    }

    /// Wakes up to `n` waiting threads, oldest first, and returns how many it woke (Python:
    /// `cond.notify(n)`, which returns `None`). The caller must hold the lock. The woken
    /// threads take the lock back after the caller releases it.
    ///
    /// ```
    /// use contexture_sync::Condition;
    ///
    /// let cond = Condition::new();
    /// let _guard = cond.lock();
    /// assert_eq!(cond.notify(1), Ok(0)); // nobody is waiting
    /// ```
    pub fn notify(&self, n: usize) -> Result<usize, ConditionError> {
        if !self.lock.lock_held(Token(())) {
            return Err(ConditionError::NotHeld);
        }
        // Relaxed: waiters increment while holding the lock, which we hold now.
        if n == 0 || self.waiters.load(Ordering::Relaxed) == 0 {
            return Ok(0);
        }
        let raw = self.lock.lock_raw(Token(()));
        let all = n >= self.waiters.load(Ordering::Relaxed);
        let mut woken = 0;
        // One requeue per waiter (or one for all): each moves the oldest waiter(s).
        while woken < n {
            // While the lock is held (it is, by us or, for a plain `Lock`, by someone), a
            // notified waiter could only wake to block on it: move it to the lock's queue
            // instead, to be woken once, by the release that lets it in (the lock's
            // `PARKED` bit is set first so that release takes the slow path). If the lock
            // was released meanwhile, wake the first waiter outright.
            let validate = || match (raw.mark_parked_if_locked(), all) {
                (true, true) => RequeueOp::RequeueAll,
                (true, false) => RequeueOp::RequeueOne,
                (false, true) => RequeueOp::UnparkOneRequeueRest,
                (false, false) => RequeueOp::UnparkOne,
            };
            let callback = |_, result: parking::UnparkResult| {
                if result.requeued_threads != 0 {
                    raw.mark_parked();
                }
                self.waiters.fetch_sub(
                    result.unparked_threads + result.requeued_threads,
                    Ordering::Relaxed,
                );
                DEFAULT_UNPARK_TOKEN
            };
            // SAFETY: both keys are ours (our `waiters` field, our lock's state byte); the
            // callbacks only use atomics on them and cannot panic.
            let result =
                unsafe { parking::unpark_requeue(self.key(), raw.key(), validate, callback) };
            let moved = result.unparked_threads + result.requeued_threads;
            woken += moved;
            if moved == 0 || all {
                break;
            }
        }
        Ok(woken)
    }

    /// Wakes every waiting thread and returns how many it woke (Python: `cond.notify_all()`).
    /// The caller must hold the lock.
    ///
    /// ```
    /// use contexture_sync::{Condition, ConditionError};
    ///
    /// let cond = Condition::new();
    /// assert_eq!(cond.notify_all(), Err(ConditionError::NotHeld));
    /// ```
    pub fn notify_all(&self) -> Result<usize, ConditionError> {
        self.notify(usize::MAX)
    }

    /// The parking key of the waiters: the address of `waiters`, which is ours alone (the
    /// lock parks on its own state, a different address).
    fn key(&self) -> usize {
        &self.waiters as *const AtomicUsize as usize
    }

    /// Waits until notified or `deadline` (`None`: none); `Ok(true)` when notified.
    fn wait_deadline(&self, deadline: Option<Instant>) -> Result<bool, ConditionError> {
        if !self.lock.lock_held(Token(())) {
            return Err(ConditionError::NotHeld);
        }
        // Relaxed: the notifier reads it after taking the lock we release below.
        self.waiters.fetch_add(1, Ordering::Relaxed);
        let mut saved = None;
        let mut requeued = false;
        let key = self.key();
        // We are queued before the lock is released (in `before_sleep`), so a notifier,
        // which needs the lock, always finds us: no lost wakeup.
        let before_sleep = || saved = Some(self.lock.lock_release_save(Token(())));
        let timed_out = |parked_on: usize, _| {
            if parked_on == key {
                self.waiters.fetch_sub(1, Ordering::Relaxed);
            } else {
                // Notified and requeued onto the lock; only the lock wait timed out.
                requeued = true;
            }
        };
        // SAFETY: the key is our own `waiters` field. `validate` and `timed_out` only use
        // atomics and cannot panic; `before_sleep` releases the lock, which may unpark
        // threads (allowed) and never parks or panics.
        let result = unsafe {
            parking::park(
                key,
                || true,
                before_sleep,
                timed_out,
                DEFAULT_PARK_TOKEN,
                deadline,
            )
        };
        let saved = saved.expect("`before_sleep` runs whenever `validate` passes");
        if result == ParkResult::Unparked(TOKEN_HANDOFF) {
            // Requeued, then the lock's release handed the lock straight to us.
            self.lock.lock_restore_handed_off(saved, Token(()));
        } else {
            self.lock.lock_acquire_restore(saved, Token(()));
        }
        Ok(requeued || result.is_unparked())
    }

    fn wait_for_deadline(
        &self,
        mut predicate: impl FnMut() -> bool,
        deadline: Option<Instant>,
    ) -> Result<bool, ConditionError> {
        if !self.lock.lock_held(Token(())) {
            return Err(ConditionError::NotHeld);
        }
        let mut result = predicate();
        while !result {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            self.wait_deadline(deadline)?;
            result = predicate();
        }
        Ok(result)
    }
}

impl<L: ConditionLock + fmt::Debug> fmt::Debug for Condition<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("lock", &self.lock)
            .field("waiters", &self.waiters.load(Ordering::Relaxed))
            .finish()
    }
}

/// Releases a [`Condition`]'s lock when dropped; from [`Condition::lock`] and friends.
///
/// Not `Send`, whatever the lock (an `RLock` level belongs to its thread). Waiting while it
/// is alive is the usual pattern: [`Condition::wait`] gives the lock up and takes it back
/// before the guard is used again.
///
/// ```
/// use contexture_sync::Condition;
///
/// let cond = Condition::new();
/// let guard = cond.lock();
/// assert!(std::ptr::eq(guard.condition(), &cond));
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ConditionGuard<'a, L: ConditionLock = RLock> {
    cond: &'a Condition<L>,
    /// `!Send` and `!Sync`.
    _not_send: PhantomData<*const ()>,
}

impl<'a, L: ConditionLock> ConditionGuard<'a, L> {
    fn new(cond: &'a Condition<L>) -> Self {
        ConditionGuard {
            cond,
            _not_send: PhantomData,
        }
    }

    /// The condition whose lock this guard holds.
    ///
    /// ```
    /// use contexture_sync::Condition;
    ///
    /// let cond = Condition::new();
    /// let guard = cond.lock();
    /// guard.condition().notify_all().unwrap();
    /// ```
    pub fn condition(&self) -> &'a Condition<L> {
        self.cond
    }
}

impl<L: ConditionLock> Drop for ConditionGuard<'_, L> {
    #[inline]
    fn drop(&mut self) {
        // An error means the lock was already released explicitly.
        let _ = self.cond.lock.lock_release(Token(()));
    }
}

impl<L: ConditionLock> fmt::Debug for ConditionGuard<'_, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionGuard").finish_non_exhaustive()
    }
}
