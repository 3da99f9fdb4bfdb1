//! [`Lock`]: Python's `threading.Lock`, a one-byte mutex that any thread may release.

use std::fmt;
#[cfg(feature = "async")]
use std::future::Future;
#[cfg(feature = "async")]
use std::pin::Pin;
use std::task::Waker;
#[cfg(feature = "async")]
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::error::ReleaseError;
use crate::loom::{AtomicU8, ListMutex, Ordering, SpinWait};
use crate::parking::{self, FilterOp, ParkResult, UnparkResult, UnparkToken};
use crate::waitlist::{self, WaitList};

/// Set while the lock is held.
const LOCKED: u8 = 0b001;
/// Set while threads may be parked on the lock (or are about to park).
const PARKED: u8 = 0b010;
/// Set while tasks may be waiting in the lock's async waiter list (or are about to).
const ASYNC: u8 = 0b100;

/// Handed to an unparked waiter: the lock was released to it directly (fair hand-off), so it
/// holds the lock on waking.
pub(crate) const TOKEN_HANDOFF: UnparkToken = UnparkToken(1);
/// Handed to an unparked waiter: the lock was released; try again.
const TOKEN_NORMAL: UnparkToken = UnparkToken(0);

/// A mutual-exclusion lock that guards no data, with Python's `threading.Lock` semantics:
/// it is not reentrant, any thread may release it (not only the one that acquired it), and
/// releasing it while unlocked is an error.
///
/// Blocking calls come in the crate's three forms ([`acquire`](Self::acquire),
/// [`try_acquire`](Self::try_acquire), [`acquire_timeout`](Self::acquire_timeout) /
/// [`acquire_until`](Self::acquire_until)), each with an RAII form that returns a
/// [`LockGuard`] ([`lock`](Self::lock), [`try_lock`](Self::try_lock),
/// [`lock_timeout`](Self::lock_timeout), [`lock_until`](Self::lock_until)).
///
/// One state byte (plus the list of waiting tasks); the uncontended acquire and release are
/// each one compare-and-swap. Waiters
/// spin briefly, then park in `parking_lot_core` on the lock's address; about every 0.5 ms a
/// release hands the lock straight to the longest waiter so no waiter starves.
///
/// ```
/// use contexture_sync::Lock;
/// use std::sync::Arc;
///
/// let lock = Arc::new(Lock::new());
/// lock.acquire();
/// let other = Arc::clone(&lock);
/// // Unlike a std or parking_lot mutex, another thread may release it.
/// std::thread::spawn(move || other.release().unwrap()).join().unwrap();
/// assert!(!lock.locked());
/// {
///     let _guard = lock.lock();
///     assert!(!lock.try_acquire());
/// }
/// assert!(lock.try_acquire());
/// ```
pub struct Lock {
    /// | bit | meaning |
    /// |-----|---------|
    /// | 0 `LOCKED` | the lock is held |
    /// | 1 `PARKED` | threads may be parked on `&self.state` (stale `1`s are harmless: they only send the next release through the slow path) |
    /// | 2 `ASYNC` | tasks may be waiting in `waiters` (likewise) |
    ///
    /// `LOCKED` is set by acquirers (CAS from a state without it) and cleared by releasers;
    /// `PARKED` is set by a thread about to park and cleared only under the parking queue
    /// lock (by the releaser that wakes the last waiter, or by the last waiter timing out).
    /// `ASYNC` is set by a task about to wait, under the `waiters` lock and only while
    /// `LOCKED` is set, and cleared only under that lock.
    state: AtomicU8,
    /// The waiting tasks (`acquire_async`).
    waiters: ListMutex<WaitList>,
}

impl Lock {
    /// A new, unlocked lock.
    ///
    /// ```
    /// use contexture_sync::Lock;
    ///
    /// static LOCK: Lock = Lock::new();
    /// assert!(!LOCK.locked());
    /// ```
    #[cfg(not(contexture_loom))]
    #[must_use]
    pub const fn new() -> Self {
        Lock {
            state: AtomicU8::new(0),
            waiters: ListMutex::new(WaitList::new()),
        }
    }

    /// A new, unlocked lock (not `const` under loom).
    #[cfg(contexture_loom)]
    #[must_use]
    pub fn new() -> Self {
        Lock {
            state: AtomicU8::new(0),
            waiters: ListMutex::new(WaitList::new()),
        }
    }

    /// Blocks until the lock is acquired (Python: `lock.acquire()`).
    ///
    /// The lock is not reentrant: a thread that acquires it twice without a release in
    /// between (from another thread, say) blocks forever.
    ///
    /// ```
    /// use contexture_sync::Lock;
    ///
    /// let lock = Lock::new();
    /// lock.acquire();
    /// assert!(lock.locked());
    /// lock.release().unwrap();
    /// ```
    #[inline]
    pub fn acquire(&self) {
        // Acquire: the critical section must see what the previous holder wrote.
        if self
            .state
            .compare_exchange_weak(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.acquire_slow(None);
        }
    }

    /// Acquires the lock if it is free, without blocking (Python:
    /// `lock.acquire(blocking=False)`).
    ///
    /// ```
    /// use contexture_sync::Lock;
    ///
    /// let lock = Lock::new();
    /// assert!(lock.try_acquire());
    /// assert!(!lock.try_acquire());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & LOCKED != 0 {
                return false;
            }
            // Acquire: as in `acquire`.
            match self.state.compare_exchange_weak(
                state,
                state | LOCKED,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
    }

    /// Blocks until the lock is acquired or `timeout` has passed; returns whether it was
    /// acquired (Python: `lock.acquire(timeout=t)`). A zero timeout tries once; any
    /// `Duration`, including `Duration::MAX`, is accepted (a deadline the clock cannot
    /// represent means "forever").
    ///
    /// ```
    /// use contexture_sync::Lock;
    /// use std::time::Duration;
    ///
    /// let lock = Lock::new();
    /// assert!(lock.acquire_timeout(Duration::MAX));
    /// assert!(!lock.acquire_timeout(Duration::from_millis(1)));
    /// ```
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        if self.try_acquire() {
            return true;
        }
        if timeout.is_zero() {
            return false;
        }
        self.acquire_slow(parking::deadline_after(timeout))
    }

    /// Blocks until the lock is acquired or `deadline` has passed; returns whether it was
    /// acquired. A deadline in the past tries once.
    ///
    /// ```
    /// use contexture_sync::Lock;
    /// use std::time::{Duration, Instant};
    ///
    /// let lock = Lock::new();
    /// assert!(lock.acquire_until(Instant::now()));
    /// assert!(!lock.acquire_until(Instant::now() + Duration::from_millis(1)));
    /// ```
    #[inline]
    pub fn acquire_until(&self, deadline: Instant) -> bool {
        self.try_acquire() || self.acquire_slow(Some(deadline))
    }

    /// Releases the lock, from any thread (Python: `lock.release()`). Releasing an unlocked
    /// lock is an error and changes nothing.
    ///
    /// ```
    /// use contexture_sync::{Lock, ReleaseError};
    ///
    /// let lock = Lock::new();
    /// lock.acquire();
    /// assert_eq!(lock.release(), Ok(()));
    /// assert_eq!(lock.release(), Err(ReleaseError::Unlocked));
    /// ```
    #[inline]
    pub fn release(&self) -> Result<(), ReleaseError> {
        // Release: publishes the critical section to the next acquirer.
        if self
            .state
            .compare_exchange(LOCKED, 0, Ordering::Release, Ordering::Relaxed)
            .is_ok()
        {
            return Ok(());
        }
        self.release_slow()
    }

    /// Whether the lock is held, by any thread (Python: `lock.locked()`). A snapshot: it may
    /// change as soon as it is read.
    ///
    /// ```
    /// use contexture_sync::Lock;
    ///
    /// let lock = Lock::new();
    /// let guard = lock.lock();
    /// assert!(lock.locked());
    /// drop(guard);
    /// assert!(!lock.locked());
    /// ```
    #[inline]
    pub fn locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) & LOCKED != 0
    }

    /// Blocks until the lock is acquired and returns a guard that releases it when dropped
    /// (Python: `with lock:`).
    ///
    /// ```
    /// use contexture_sync::Lock;
    ///
    /// let lock = Lock::new();
    /// {
    ///     let _guard = lock.lock();
    ///     assert!(lock.locked());
    /// }
    /// assert!(!lock.locked());
    /// ```
    #[inline]
    pub fn lock(&self) -> LockGuard<'_> {
        self.acquire();
        LockGuard { lock: self }
    }

    /// Waits, without blocking the thread, until the lock is acquired; resolves to a guard
    /// that releases it when dropped (asyncio: `await lock.acquire()` / `async with lock:`).
    /// The guard is `Send`, so it may be held across `.await` on a multi-thread runtime;
    /// threads blocked in [`acquire`](Self::acquire) and tasks waiting here are woken
    /// oldest first, together.
    ///
    /// Executor-agnostic (plain `Waker`s) and cancel safe: a future dropped before it
    /// resolves does not hold the lock (it takes it in the poll that resolves it), and a
    /// wake-up it had been sent goes to the next waiter. So
    /// `tokio::time::timeout(d, lock.acquire_async())` is the timed form.
    ///
    /// ```
    /// use contexture_sync::Lock;
    ///
    /// let lock = Lock::new();
    /// futures::executor::block_on(async {
    ///     let guard = lock.acquire_async().await;
    ///     assert!(lock.locked());
    ///     drop(guard);
    /// });
    /// assert!(!lock.locked());
    /// ```
    #[cfg(feature = "async")]
    pub fn acquire_async(&self) -> impl Future<Output = LockGuard<'_>> + Send + '_ {
        AcquireAsync {
            lock: self,
            ticket: None,
        }
    }

    /// The guard form of [`try_acquire`](Self::try_acquire).
    ///
    /// ```
    /// use contexture_sync::Lock;
    ///
    /// let lock = Lock::new();
    /// let guard = lock.try_lock().unwrap();
    /// assert!(lock.try_lock().is_none());
    /// drop(guard);
    /// ```
    #[inline]
    pub fn try_lock(&self) -> Option<LockGuard<'_>> {
        self.try_acquire().then(|| LockGuard { lock: self })
    }

    /// The guard form of [`acquire_timeout`](Self::acquire_timeout).
    ///
    /// ```
    /// use contexture_sync::Lock;
    /// use std::time::Duration;
    ///
    /// let lock = Lock::new();
    /// let guard = lock.lock_timeout(Duration::from_secs(1)).unwrap();
    /// assert!(lock.lock_timeout(Duration::ZERO).is_none());
    /// drop(guard);
    /// ```
    #[inline]
    pub fn lock_timeout(&self, timeout: Duration) -> Option<LockGuard<'_>> {
        self.acquire_timeout(timeout)
            .then(|| LockGuard { lock: self })
    }

    /// The guard form of [`acquire_until`](Self::acquire_until).
    ///
    /// ```
    /// use contexture_sync::Lock;
    /// use std::time::Instant;
    ///
    /// let lock = Lock::new();
    /// assert!(lock.lock_until(Instant::now()).is_some());
    /// ```
    #[inline]
    pub fn lock_until(&self, deadline: Instant) -> Option<LockGuard<'_>> {
        self.acquire_until(deadline)
            .then(|| LockGuard { lock: self })
    }

    /// The parking key: the address of the state byte, which only this lock uses.
    /// A `Condition` requeues its notified waiters onto it.
    #[inline]
    pub(crate) fn key(&self) -> usize {
        &self.state as *const AtomicU8 as usize
    }

    /// If the lock is held, sets `PARKED` (so that its release wakes a thread a condition
    /// variable is about to requeue onto it) and returns `true`. Called under both queue
    /// locks of a requeue.
    pub(crate) fn mark_parked_if_locked(&self) -> bool {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & LOCKED == 0 {
                return false;
            }
            // Relaxed: ordered against the releaser by the queue lock it must take.
            match self.state.compare_exchange_weak(
                state,
                state | PARKED,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
    }

    /// Sets `PARKED` after threads were requeued onto an unlocked lock (under the queue lock).
    pub(crate) fn mark_parked(&self) {
        self.state.fetch_or(PARKED, Ordering::Relaxed);
    }

    /// Spins, then parks until acquired or past `deadline` (`None`: no deadline).
    #[cold]
    #[inline(never)]
    pub(crate) fn acquire_slow(&self, deadline: Option<Instant>) -> bool {
        let mut spin = SpinWait::new();
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & LOCKED == 0 {
                // Acquire: as in `acquire`. Barging past parked waiters is allowed (fairness
                // comes from the occasional hand-off in `release_slow`).
                match self.state.compare_exchange_weak(
                    state,
                    state | LOCKED,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return true,
                    Err(now) => state = now,
                }
                continue;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return false;
            }
            if state & PARKED == 0 && spin.spin() {
                state = self.state.load(Ordering::Relaxed);
                continue;
            }
            if state & PARKED == 0 {
                // Relaxed: the parking queue lock orders this against the releaser.
                if let Err(now) = self.state.compare_exchange_weak(
                    state,
                    state | PARKED,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    state = now;
                    continue;
                }
            }
            let key = self.key();
            // Park only if the lock is still held with `PARKED` set; otherwise a release
            // slipped in and we retry.
            let validate = || self.state.load(Ordering::Relaxed) & !ASYNC == LOCKED | PARKED;
            let before_sleep = || {};
            let timed_out = |_, was_last_thread: bool| {
                // The last waiter leaving clears the parked bit so releases stay fast.
                if was_last_thread {
                    self.state.fetch_and(!PARKED, Ordering::Relaxed);
                }
            };
            // SAFETY: `key` is the address of our own state byte; the callbacks only touch
            // `self.state` with atomics, cannot panic and do not call into the parking layer.
            match unsafe {
                parking::park(
                    key,
                    validate,
                    before_sleep,
                    timed_out,
                    // Orders us among the waiting tasks.
                    waitlist::park_token(waitlist::next_ticket()),
                    deadline,
                )
            } {
                // The releaser kept `LOCKED` set and handed the lock to us. The queue lock
                // and the wake-up order its Release store before our return.
                ParkResult::Unparked(TOKEN_HANDOFF) => return true,
                ParkResult::Unparked(_) | ParkResult::Invalid => {}
                ParkResult::TimedOut => return false,
            }
            spin.reset();
            state = self.state.load(Ordering::Relaxed);
        }
    }

    /// A release that found waiters, or a state other than plain `LOCKED`.
    #[cold]
    #[inline(never)]
    fn release_slow(&self) -> Result<(), ReleaseError> {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & LOCKED == 0 {
                return Err(ReleaseError::Unlocked);
            }
            if state & ASYNC != 0 {
                return self.release_mixed();
            }
            if state & PARKED != 0 {
                break;
            }
            // Release: as in `release`.
            match self
                .state
                .compare_exchange_weak(state, 0, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return Ok(()),
                Err(now) => state = now,
            }
        }

        // Any thread may release, so another releaser may have run between our load and
        // the queue lock: the callback re-checks `LOCKED` with a CAS loop. While `PARKED` is
        // set only queue-lock holders and `LOCKED` acquirers (after it is cleared) change
        // the state, but a stale view is still possible, hence the loop.
        let mut result = Ok(());
        // A task registered meanwhile (it may, the lock being held) and no thread was woken
        // to take the lock: a task must be.
        let mut wake_task = false;
        let callback = |unparked: UnparkResult| {
            let mut state = self.state.load(Ordering::Relaxed);
            loop {
                if state & LOCKED == 0 {
                    // Released by someone else meanwhile: an error, the lock is unchanged.
                    // A waiter we may have dequeued wakes with `TOKEN_NORMAL` and retries;
                    // keep the parked bit for those still queued.
                    result = Err(ReleaseError::Unlocked);
                    if unparked.have_more_threads {
                        self.state.fetch_or(PARKED, Ordering::Relaxed);
                    }
                    return TOKEN_NORMAL;
                }
                let handoff = unparked.unparked_threads != 0 && unparked.be_fair;
                let parked = if unparked.have_more_threads {
                    PARKED
                } else {
                    0
                };
                // A task raising `ASYNC` (under its list lock, while `LOCKED` is set) is the
                // one writer besides queue-lock holders, so a compare-and-swap (parking_lot
                // stores here) that keeps the bit.
                let (new, token) = if handoff {
                    (LOCKED | parked | (state & ASYNC), TOKEN_HANDOFF)
                } else {
                    (parked | (state & ASYNC), TOKEN_NORMAL)
                };
                // Release: publishes the critical section to the next acquirer (or to the
                // waiter it is handed to).
                match self.state.compare_exchange_weak(
                    state,
                    new,
                    Ordering::Release,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        wake_task = state & ASYNC != 0 && unparked.unparked_threads == 0;
                        return token;
                    }
                    Err(now) => state = now,
                }
            }
        };
        // SAFETY: the key is our own state byte; the callback only uses atomics on it and
        // cannot panic.
        unsafe { parking::unpark_one(self.key(), callback) };
        if wake_task {
            let mut wakers = Vec::new();
            let mut list = waitlist::lock(&self.waiters);
            if self.state.load(Ordering::Relaxed) & LOCKED == 0 {
                self.wake_one_locked(&mut list, &mut wakers);
            }
            drop(list);
            waitlist::wake_all(wakers);
        }
        result
    }

    /// A release while tasks may wait: under the list lock, clears `LOCKED` (no hand-off:
    /// the woken thread or task retries), then wakes the oldest waiter, thread or task.
    #[cold]
    #[inline(never)]
    fn release_mixed(&self) -> Result<(), ReleaseError> {
        let mut wakers = Vec::new();
        let mut list = waitlist::lock(&self.waiters);
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & LOCKED == 0 {
                return Err(ReleaseError::Unlocked);
            }
            // Release: publishes the critical section to the next acquirer.
            match self.state.compare_exchange_weak(
                state,
                state & !LOCKED,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        self.wake_one_locked(&mut list, &mut wakers);
        drop(list);
        waitlist::wake_all(wakers);
        Ok(())
    }

    /// Wakes the oldest waiter of the unlocked lock: the first parked thread if it took its
    /// ticket before the first waiting task, else that task. Keeps `PARKED` and `ASYNC` true
    /// to what remains. The list lock is held (lock order: list, then parking queue).
    fn wake_one_locked(&self, list: &mut WaitList, wakers: &mut Vec<Waker>) {
        let first_task = list.first_waiting();
        let mut thread_woken = false;
        if self.state.load(Ordering::Relaxed) & PARKED != 0 {
            let mut first = true;
            let filter = |token| {
                if std::mem::take(&mut first) && waitlist::token_ticket(token) < first_task {
                    FilterOp::Unpark
                } else {
                    FilterOp::Stop
                }
            };
            let callback = |unparked: UnparkResult| {
                thread_woken = unparked.unparked_threads != 0;
                if !unparked.have_more_threads {
                    self.state.fetch_and(!PARKED, Ordering::Relaxed);
                }
                TOKEN_NORMAL
            };
            // SAFETY: the key is our own state byte; the filter and callback only use locals
            // and atomics, cannot panic and do not call into the parking layer.
            unsafe { parking::unpark_filter(self.key(), filter, callback) };
        }
        if !thread_woken {
            wakers.extend(list.notify_first());
        }
        if !list.has_waiting() {
            // Relaxed: `ASYNC` is only set under the list lock we hold.
            self.state.fetch_and(!ASYNC, Ordering::Relaxed);
        }
    }

    /// One poll of `acquire_async`: takes the lock, or registers the task and returns
    /// `false`.
    #[cfg(any(feature = "async", contexture_loom))]
    pub(crate) fn poll_acquire(&self, ticket: &mut Option<u64>, waker: &Waker) -> bool {
        loop {
            if self.try_acquire() {
                if ticket.is_some() {
                    // A wake-up we were sent is used: this acquisition.
                    waitlist::lock(&self.waiters).remove(ticket);
                }
                return true;
            }
            let mut list = waitlist::lock(&self.waiters);
            let mut state = self.state.load(Ordering::Relaxed);
            // Raise `ASYNC` only while the lock is held, under the list lock: its release
            // then takes the list lock (after we registered) to wake a waiter.
            let registered = loop {
                if state & LOCKED == 0 {
                    break false;
                }
                // Relaxed: the list lock orders this against the releaser.
                match self.state.compare_exchange_weak(
                    state,
                    state | ASYNC,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => break true,
                    Err(now) => state = now,
                }
            };
            if registered {
                list.register(ticket, waker);
                return false;
            }
        }
    }

    /// A pending `acquire_async` is dropped: leaves the list; a wake-up it had been sent
    /// and not used goes to the next waiter if the lock is still free.
    #[cfg(any(feature = "async", contexture_loom))]
    pub(crate) fn cancel_acquire(&self, ticket: &mut Option<u64>) {
        let mut wakers = Vec::new();
        let mut list = waitlist::lock(&self.waiters);
        if list.remove(ticket) && self.state.load(Ordering::Relaxed) & LOCKED == 0 {
            self.wake_one_locked(&mut list, &mut wakers);
        } else if !list.has_waiting() {
            // Relaxed: as in `wake_one_locked`.
            self.state.fetch_and(!ASYNC, Ordering::Relaxed);
        }
        drop(list);
        waitlist::wake_all(wakers);
    }
}

/// The future of [`Lock::acquire_async`]: unregistered until its first pending poll.
#[cfg(feature = "async")]
struct AcquireAsync<'a> {
    lock: &'a Lock,
    ticket: Option<u64>,
}

#[cfg(feature = "async")]
impl<'a> Future for AcquireAsync<'a> {
    type Output = LockGuard<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LockGuard<'a>> {
        let this = &mut *self;
        if this.lock.poll_acquire(&mut this.ticket, cx.waker()) {
            Poll::Ready(LockGuard { lock: this.lock })
        } else {
            Poll::Pending
        }
    }
}

#[cfg(feature = "async")]
impl Drop for AcquireAsync<'_> {
    fn drop(&mut self) {
        if self.ticket.is_some() {
            self.lock.cancel_acquire(&mut self.ticket);
        }
    }
}

impl Default for Lock {
    fn default() -> Self {
        Lock::new()
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.locked())
            .finish()
    }
}

/// Releases a [`Lock`] when dropped; from [`Lock::lock`] and friends.
///
/// It is `Send`: like the lock itself, it may be released on another thread. If the lock was
/// already released meanwhile (by an explicit [`Lock::release`] elsewhere), dropping the
/// guard releases whatever holds it then, or does nothing if it is unlocked — Python's
/// `with lock:` exit behaves the same, except that it raises in the second case. A panic
/// while the guard is alive releases the lock as the guard drops: no poisoning.
///
/// ```
/// use contexture_sync::Lock;
///
/// let lock = Lock::new();
/// let guard = lock.lock();
/// std::thread::scope(|s| {
///     s.spawn(move || drop(guard));
/// });
/// assert!(!lock.locked());
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    lock: &'a Lock,
}

impl LockGuard<'_> {
    /// The lock this guard holds.
    ///
    /// ```
    /// use contexture_sync::Lock;
    ///
    /// let lock = Lock::new();
    /// let guard = lock.lock();
    /// assert!(std::ptr::eq(guard.lock(), &lock));
    /// ```
    pub fn lock(&self) -> &Lock {
        self.lock
    }
}

impl Drop for LockGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // An error means another thread already released it: nothing left to do.
        let _ = self.lock.release();
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard")
            .field("lock", self.lock)
            .finish()
    }
}
