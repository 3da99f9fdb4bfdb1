//! [`RLock`]: Python's `threading.RLock`, a reentrant lock with an owner and a recursion
//! count, and the per-thread ids that name owners.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use crate::error::ReleaseError;
use crate::lock::Lock;
use crate::loom::{next_thread_id, tls, AtomicUsize, Ordering};

tls! {
    /// This thread's owner id, assigned on first use; `0` means "not assigned yet".
    static THREAD_ID: Cell<usize> = Cell::new(0);
}

/// This thread's id: unique for the life of the process, never reused, never `0`.
///
/// Ids come from a global counter rather than from the address of a thread-local, because
/// an address is reused by the next thread once this one exits: a thread that exits while
/// holding an `RLock` would then hand its ownership to a stranger.
#[inline]
pub(crate) fn current_thread_id() -> usize {
    THREAD_ID.with(|id| match id.get() {
        0 => {
            let fresh = next_thread_id();
            id.set(fresh);
            fresh
        }
        known => known,
    })
}

/// A reentrant lock guarding no data, with Python's `threading.RLock` semantics: the owning
/// thread may acquire it again (each acquire needs its release), only the owner may release
/// it, and [`locked`](Self::locked) is visible from every thread.
///
/// Blocking calls come in the crate's three forms, each with a guard form returning an
/// [`RLockGuard`]. An acquire by the owner succeeds at once in every form.
///
/// A thread that exits while holding an `RLock` leaves it locked for good: no other thread
/// can release it ([`ReleaseError::NotOwner`]) and owner ids are never reused, so no later
/// thread can mistake itself for the dead owner. (CPython may reuse thread identifiers, and
/// then a later thread can release a dead thread's `RLock`.)
///
/// Thread-bound: an async task has no stable owner thread (it may resume on another
/// worker), so there is no `acquire_async`; in async code use a [`Lock`](crate::Lock)'s
/// `acquire_async` (not reentrant: structure the code so that one acquisition suffices).
///
/// ```
/// use contexture_sync::{RLock, ReleaseError};
///
/// let rlock = RLock::new();
/// rlock.acquire();
/// rlock.acquire(); // re-entry by the owner succeeds at once
/// assert_eq!(rlock.recursion_count(), 2);
/// std::thread::scope(|s| {
///     s.spawn(|| {
///         assert!(rlock.locked() && !rlock.is_owned());
///         assert_eq!(rlock.release(), Err(ReleaseError::NotOwner));
///     });
/// });
/// rlock.release().unwrap();
/// rlock.release().unwrap();
/// assert_eq!(rlock.release(), Err(ReleaseError::Unlocked));
/// ```
pub struct RLock {
    /// Held while any thread owns the `RLock`; only ever acquired and released here.
    lock: Lock,
    /// The owner's thread id, `0` when unowned. Written only by the owning thread (its id
    /// after acquiring `lock`, `0` before releasing it), so a thread reading its own id here
    /// reads its own latest write: Relaxed suffices for "is it me?" (parking_lot's
    /// `ReentrantMutex` argues the same).
    owner: AtomicUsize,
    /// Recursion depth; read and written only by the owner, ordered by `lock` (see the
    /// `Sync` impl). A plain cell, as parking_lot's `ReentrantMutex` has it: as an atomic,
    /// every nested acquire and release was a load and a store the compiler had to keep,
    /// chained through store forwarding (measured: 1.4× parking_lot on three nested
    /// acquires and releases in a tight loop).
    count: Cell<usize>,
}

// SAFETY: `count`, the only field that is not `Sync`, is read and written only by the
// thread that owns the lock: every access is either right after this thread acquired
// `lock` (and before it stored its id in `owner`), or behind a check that `owner` holds this
// thread's id, which only this thread ever stores, and clears before it releases `lock`
// (so a thread that reads its own id there owns the lock: it reads its own latest write,
// and no other thread writes its id). Consecutive owners are ordered by `lock`'s
// Release/Acquire (or the hand-off of `lock` to a condition waiter, which synchronises
// through the parking queue's lock), so the accesses of different owners never race.
unsafe impl Sync for RLock {}

impl RLock {
    /// A new, unlocked reentrant lock.
    ///
    /// ```
    /// use contexture_sync::RLock;
    ///
    /// static RLOCK: RLock = RLock::new();
    /// assert!(!RLOCK.locked());
    /// ```
    #[cfg(not(contexture_loom))]
    #[must_use]
    pub const fn new() -> Self {
        RLock {
            lock: Lock::new(),
            owner: AtomicUsize::new(0),
            count: Cell::new(0),
        }
    }

    /// A new, unlocked reentrant lock (not `const` under loom).
    #[cfg(contexture_loom)]
    #[must_use]
    pub fn new() -> Self {
        RLock {
            lock: Lock::new(),
            owner: AtomicUsize::new(0),
            count: Cell::new(0),
        }
    }

    /// Blocks until this thread owns the lock, or adds a level if it already does (Python:
    /// `rlock.acquire()`).
    ///
    /// # Panics
    ///
    /// If the recursion count would overflow `usize` (Python: `OverflowError`).
    ///
    /// ```
    /// use contexture_sync::RLock;
    ///
    /// let rlock = RLock::new();
    /// rlock.acquire();
    /// rlock.acquire();
    /// rlock.release().unwrap();
    /// assert!(rlock.is_owned());
    /// rlock.release().unwrap();
    /// assert!(!rlock.locked());
    /// ```
    #[inline]
    pub fn acquire(&self) {
        self.acquire_with(|lock| {
            lock.acquire();
            true
        });
    }

    /// [`acquire`](Self::acquire), returning this thread's id (for the guard).
    #[inline]
    fn acquire_me(&self) -> usize {
        let me = self.acquire_with(|lock| {
            lock.acquire();
            true
        });
        // `take` always succeeds.
        me.unwrap_or_else(current_thread_id)
    }

    /// Acquires (or re-enters) the lock if that needs no waiting (Python:
    /// `rlock.acquire(blocking=False)`).
    ///
    /// ```
    /// use contexture_sync::RLock;
    ///
    /// let rlock = RLock::new();
    /// assert!(rlock.try_acquire());
    /// assert!(rlock.try_acquire()); // the owner re-enters
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(!rlock.try_acquire()));
    /// });
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        self.acquire_with(Lock::try_acquire).is_some()
    }

    /// Blocks until this thread owns the lock or `timeout` has passed; returns whether it
    /// does (Python: `rlock.acquire(timeout=t)`). The owner re-enters at once. A zero timeout
    /// tries once; `Duration::MAX` waits forever.
    ///
    /// ```
    /// use contexture_sync::RLock;
    /// use std::time::Duration;
    ///
    /// let rlock = RLock::new();
    /// assert!(rlock.acquire_timeout(Duration::ZERO));
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(!rlock.acquire_timeout(Duration::from_millis(1))));
    /// });
    /// ```
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.acquire_with(|lock| lock.acquire_timeout(timeout))
            .is_some()
    }

    /// Blocks until this thread owns the lock or `deadline` has passed; returns whether it
    /// does. The owner re-enters at once.
    ///
    /// ```
    /// use contexture_sync::RLock;
    /// use std::time::Instant;
    ///
    /// let rlock = RLock::new();
    /// assert!(rlock.acquire_until(Instant::now()));
    /// ```
    #[inline]
    pub fn acquire_until(&self, deadline: Instant) -> bool {
        self.acquire_with(|lock| lock.acquire_until(deadline))
            .is_some()
    }

    /// Gives up one level of ownership; the last release unlocks (Python:
    /// `rlock.release()`). Only the owner may release: otherwise it is an error and nothing
    /// changes ([`ReleaseError::NotOwner`] if another thread holds it,
    /// [`ReleaseError::Unlocked`] if nobody does).
    ///
    /// ```
    /// use contexture_sync::{RLock, ReleaseError};
    ///
    /// let rlock = RLock::new();
    /// assert_eq!(rlock.release(), Err(ReleaseError::Unlocked));
    /// rlock.acquire();
    /// assert_eq!(rlock.release(), Ok(()));
    /// ```
    #[inline]
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.release_as(current_thread_id())
    }

    /// [`release`](Self::release) by the thread whose id is `me` (the caller's: a guard
    /// keeps the id it acquired with, which saves reading the thread-local again).
    #[inline]
    fn release_as(&self, me: usize) -> Result<(), ReleaseError> {
        if self.owner.load(Ordering::Relaxed) != me {
            return Err(self.not_owned());
        }
        let count = self.count.get() - 1;
        self.count.set(count);
        if count == 0 {
            self.unlock_owned();
        }
        Ok(())
    }

    /// The error of a release by a thread that does not own the lock.
    #[cold]
    fn not_owned(&self) -> ReleaseError {
        if self.lock.locked() {
            ReleaseError::NotOwner
        } else {
            ReleaseError::Unlocked
        }
    }

    /// Whether any thread holds the lock (Python: `rlock.locked()`, 3.14). A snapshot.
    ///
    /// ```
    /// use contexture_sync::RLock;
    ///
    /// let rlock = RLock::new();
    /// let _guard = rlock.lock();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(rlock.locked()));
    /// });
    /// ```
    #[inline]
    pub fn locked(&self) -> bool {
        self.lock.locked()
    }

    /// Whether the calling thread holds the lock (Python: `rlock._is_owned()`).
    ///
    /// ```
    /// use contexture_sync::RLock;
    ///
    /// let rlock = RLock::new();
    /// let _guard = rlock.lock();
    /// assert!(rlock.is_owned());
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(!rlock.is_owned()));
    /// });
    /// ```
    #[inline]
    pub fn is_owned(&self) -> bool {
        self.owner.load(Ordering::Relaxed) == current_thread_id()
    }

    /// How many times the calling thread holds the lock; `0` if it does not own it (Python:
    /// `rlock._recursion_count()`, 3.13).
    ///
    /// ```
    /// use contexture_sync::RLock;
    ///
    /// let rlock = RLock::new();
    /// let _a = rlock.lock();
    /// let _b = rlock.lock();
    /// assert_eq!(rlock.recursion_count(), 2);
    /// ```
    #[inline]
    pub fn recursion_count(&self) -> usize {
        if self.is_owned() {
            self.count.get()
        } else {
            0
        }
    }

    /// Blocks until this thread owns the lock (or re-enters it) and returns a guard that
    /// gives the level back when dropped (Python: `with rlock:`).
    ///
    /// ```
    /// use contexture_sync::RLock;
    ///
    /// let rlock = RLock::new();
    /// let outer = rlock.lock();
    /// let inner = rlock.lock();
    /// drop(inner);
    /// assert!(rlock.is_owned());
    /// drop(outer);
    /// assert!(!rlock.locked());
    /// ```
    #[inline]
    pub fn lock(&self) -> RLockGuard<'_> {
        let me = self.acquire_me();
        RLockGuard::new(self, me)
    }

    /// The guard form of [`try_acquire`](Self::try_acquire).
    ///
    /// ```
    /// use contexture_sync::RLock;
    ///
    /// let rlock = RLock::new();
    /// let _guard = rlock.try_lock().unwrap();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(rlock.try_lock().is_none()));
    /// });
    /// ```
    #[inline]
    pub fn try_lock(&self) -> Option<RLockGuard<'_>> {
        self.acquire_with(Lock::try_acquire)
            .map(|me| RLockGuard::new(self, me))
    }

    /// The guard form of [`acquire_timeout`](Self::acquire_timeout).
    ///
    /// ```
    /// use contexture_sync::RLock;
    /// use std::time::Duration;
    ///
    /// let rlock = RLock::new();
    /// assert!(rlock.lock_timeout(Duration::from_secs(1)).is_some());
    /// ```
    #[inline]
    pub fn lock_timeout(&self, timeout: Duration) -> Option<RLockGuard<'_>> {
        self.acquire_with(|lock| lock.acquire_timeout(timeout))
            .map(|me| RLockGuard::new(self, me))
    }

    /// The guard form of [`acquire_until`](Self::acquire_until).
    ///
    /// ```
    /// use contexture_sync::RLock;
    /// use std::time::Instant;
    ///
    /// let rlock = RLock::new();
    /// assert!(rlock.lock_until(Instant::now()).is_some());
    /// ```
    #[inline]
    pub fn lock_until(&self, deadline: Instant) -> Option<RLockGuard<'_>> {
        self.acquire_with(|lock| lock.acquire_until(deadline))
            .map(|me| RLockGuard::new(self, me))
    }

    /// Re-enters if this thread owns the lock, else takes `lock` through `take`; this
    /// thread's id if it owns the lock now.
    #[inline]
    fn acquire_with(&self, take: impl FnOnce(&Lock) -> bool) -> Option<usize> {
        let me = current_thread_id();
        if self.owner.load(Ordering::Relaxed) == me {
            let count = self
                .count
                .get()
                .checked_add(1)
                .expect("RLock recursion count overflow");
            self.count.set(count);
            return Some(me);
        }
        if !take(&self.lock) {
            return None;
        }
        self.owner.store(me, Ordering::Relaxed);
        self.count.set(1);
        Some(me)
    }

    /// Clears the owner and unlocks; the caller owns the lock.
    #[inline]
    fn unlock_owned(&self) {
        self.owner.store(0, Ordering::Relaxed);
        let released = self.lock.release();
        debug_assert!(released.is_ok(), "an owned RLock's inner lock is held");
    }

    /// Gives up every level at once and returns how many there were (Python:
    /// `_release_save`); the caller owns the lock.
    pub(crate) fn release_all(&self) -> usize {
        let count = self.count.replace(0);
        self.unlock_owned();
        count
    }

    /// Takes the lock back with `count` levels (Python: `_acquire_restore`).
    pub(crate) fn acquire_levels(&self, count: usize) {
        self.lock.acquire();
        self.owned_with_levels(count);
    }

    /// Records this thread as owner with `count` levels, once it holds the inner lock
    /// (after `acquire_levels`, or a hand-off of the inner lock to a condition waiter).
    pub(crate) fn owned_with_levels(&self, count: usize) {
        self.owner.store(current_thread_id(), Ordering::Relaxed);
        self.count.set(count);
    }

    /// The inner lock, onto whose queue a `Condition` requeues notified waiters.
    pub(crate) fn raw(&self) -> &Lock {
        &self.lock
    }
}

impl Default for RLock {
    fn default() -> Self {
        RLock::new()
    }
}

impl fmt::Debug for RLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLock")
            .field("locked", &self.locked())
            .field("owned_by_this_thread", &self.is_owned())
            .finish()
    }
}

/// Gives one level of an [`RLock`] back when dropped; from [`RLock::lock`] and friends.
///
/// Not `Send`: ownership belongs to the thread that acquired, so the guard must be dropped
/// there. A panic while it is alive gives the level back as it drops: no poisoning.
///
/// ```compile_fail
/// use contexture_sync::RLock;
///
/// let rlock = RLock::new();
/// let guard = rlock.lock();
/// std::thread::scope(|s| {
///     s.spawn(move || drop(guard)); // error: `RLockGuard` cannot be sent between threads
/// });
/// ```
#[must_use = "the level is given back as soon as the guard is dropped"]
pub struct RLockGuard<'a> {
    rlock: &'a RLock,
    /// The id of the thread that acquired (and, the guard being `!Send`, drops it).
    me: usize,
    /// `!Send` and `!Sync`: the guard is tied to the owning thread.
    _not_send: PhantomData<*const ()>,
}

impl<'a> RLockGuard<'a> {
    #[inline]
    fn new(rlock: &'a RLock, me: usize) -> Self {
        RLockGuard {
            rlock,
            me,
            _not_send: PhantomData,
        }
    }

    /// The lock this guard holds a level of.
    ///
    /// ```
    /// use contexture_sync::RLock;
    ///
    /// let rlock = RLock::new();
    /// let guard = rlock.lock();
    /// assert!(guard.rlock().is_owned());
    /// ```
    pub fn rlock(&self) -> &'a RLock {
        self.rlock
    }
}

impl Drop for RLockGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // An error means the level was already given back by an explicit `release`.
        let _ = self.rlock.release_as(self.me);
    }
}

impl fmt::Debug for RLockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLockGuard")
            .field("rlock", self.rlock)
            .finish()
    }
}
