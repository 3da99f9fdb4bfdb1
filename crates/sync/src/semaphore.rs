//! [`Semaphore`] and [`BoundedSemaphore`]: Python's `threading.Semaphore` and
//! `threading.BoundedSemaphore`, one packed word each, and their RAII [`SemaphorePermit`].

use std::fmt;
#[cfg(feature = "async")]
use std::future::Future;
#[cfg(feature = "async")]
use std::pin::Pin;
use std::task::Waker;
#[cfg(feature = "async")]
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::error::SemaphoreReleaseError;
use crate::loom::{AtomicUsize, ListMutex, Ordering, SpinWait};
use crate::parking::{self, FilterOp, ParkResult, DEFAULT_UNPARK_TOKEN};
use crate::waitlist::{self, WaitList};

/// Set while threads may be parked on the semaphore (or are about to park).
const PARKED: usize = 0b01;
/// Set while tasks may be waiting in the async waiter list (or are about to).
const ASYNC: usize = 0b10;
/// The count lives above the two flag bits.
const ONE: usize = 0b100;

/// The largest count a semaphore can hold (`usize::MAX / 4`).
const MAX_PERMITS: usize = usize::MAX >> 2;

/// The shared engine of both semaphores.
pub(crate) struct RawSemaphore {
    /// | bits | meaning |
    /// |------|---------|
    /// | 0 `PARKED` | threads may be parked on `&self.state` (a stale `1` only sends the next release through the slow path) |
    /// | 1 `ASYNC` | tasks may be waiting in `waiters` (likewise) |
    /// | 2.. | the count (`state >> 2`) |
    ///
    /// The count is changed by compare-and-swap (acquire) and by compare-and-swap with an
    /// overflow/bound check (release). `PARKED` is set by a thread about to park and cleared
    /// only under the parking queue lock (by a release that woke the last waiter, or by the
    /// last waiter timing out). `ASYNC` is set by a task about to wait, under the `waiters`
    /// lock and only while the count is zero, and cleared only under that lock.
    state: AtomicUsize,
    /// The bound a release may not exceed: the initial value for a `BoundedSemaphore`,
    /// `MAX_PERMITS` otherwise.
    max: usize,
    /// The waiting tasks (`acquire_async`).
    waiters: ListMutex<WaitList>,
}

impl RawSemaphore {
    fn new(value: usize, max: usize) -> Self {
        assert!(
            value <= MAX_PERMITS,
            "contexture-sync: a semaphore holds at most usize::MAX / 4 permits"
        );
        RawSemaphore {
            state: AtomicUsize::new(value << 2),
            max,
            waiters: ListMutex::new(WaitList::new()),
        }
    }

    fn value(&self) -> usize {
        self.state.load(Ordering::Relaxed) >> 2
    }

    #[inline]
    fn try_acquire(&self) -> bool {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state < ONE {
                return false;
            }
            // Acquire: what the releaser did before `release` happens before our return.
            match self.state.compare_exchange_weak(
                state,
                state - ONE,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
    }

    /// Spins, then parks until a permit is taken or `deadline` passes (`None`: never).
    #[cold]
    #[inline(never)]
    fn acquire_slow(&self, deadline: Option<Instant>) -> bool {
        let mut spin = SpinWait::new();
        loop {
            if self.try_acquire() {
                return true;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return false;
            }
            if spin.spin() {
                continue;
            }
            let state = self.state.load(Ordering::Relaxed);
            if state >= ONE {
                continue;
            }
            if state & PARKED == 0
                && self
                    .state
                    // Relaxed: the parking queue lock orders this against the releaser.
                    .compare_exchange_weak(
                        state,
                        state | PARKED,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    )
                    .is_err()
            {
                continue;
            }
            // Park only while there is still no permit and `PARKED` is set: a release in
            // between makes the check fail and we retry. The ticket orders us among the
            // waiting tasks.
            // SAFETY: the key is our own state word; the closures only use atomics on it.
            let result = unsafe {
                parking::park_while_only_parked(
                    self.key(),
                    || self.state.load(Ordering::Relaxed) & !ASYNC == PARKED,
                    || {
                        self.state.fetch_and(!PARKED, Ordering::Relaxed);
                    },
                    waitlist::park_token(waitlist::next_ticket()),
                    deadline,
                )
            };
            if result == ParkResult::TimedOut {
                // Never chosen by a release (it would have returned `Unparked`), so no wake-up
                // was spent on us; one last try, as Python's loop re-checks the count.
                return self.try_acquire();
            }
            // Unparked: a release made a permit; try again first (before any deadline check,
            // so a permit meant for us is never left behind while others sleep).
            spin.reset();
        }
    }

    /// Adds `n` permits unless that exceeds `max`; wakes up to `n` parked threads.
    #[inline]
    fn release(&self, n: usize) -> Result<(), SemaphoreReleaseError> {
        if n == 0 {
            return Ok(());
        }
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            let value = state >> 2;
            if n > self.max - value {
                return Err(SemaphoreReleaseError::TooMany);
            }
            // Release: publishes what we did before to the thread that takes the permit.
            match self.state.compare_exchange_weak(
                state,
                state + (n << 2),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        if state & (PARKED | ASYNC) != 0 {
            self.wake(n, state);
        }
        Ok(())
    }

    /// Wakes up to `n` waiters, threads and tasks merged oldest first (by ticket); clears
    /// `PARKED` when no thread remains parked, `ASYNC` when no task remains waiting.
    /// `seen` is a state read after the count was raised (a flag clear there was clear
    /// when the permits became visible, so nobody of that kind can be waiting for them).
    #[cold]
    #[inline(never)]
    fn wake(&self, n: usize, seen: usize) {
        let mut wakers = Vec::new();
        let mut list = waitlist::lock(&self.waiters);
        self.wake_locked(&mut list, n, seen, &mut wakers);
        drop(list);
        waitlist::wake_all(wakers);
    }

    /// [`wake`](Self::wake) with the list lock held (lock order: list, then parking queue).
    fn wake_locked(&self, list: &mut WaitList, n: usize, seen: usize, wakers: &mut Vec<Waker>) {
        let mut left = n;
        if seen & PARKED != 0 {
            let filter = |token| {
                // Tasks that arrived before this thread go first.
                while left != 0 && list.first_waiting() < waitlist::token_ticket(token) {
                    wakers.extend(list.notify_first());
                    left -= 1;
                }
                if left == 0 {
                    FilterOp::Stop
                } else {
                    left -= 1;
                    FilterOp::Unpark
                }
            };
            let callback = |result: parking::UnparkResult| {
                if !result.have_more_threads {
                    self.state.fetch_and(!PARKED, Ordering::Relaxed);
                }
                DEFAULT_UNPARK_TOKEN
            };
            // SAFETY: the key is our own state word; `filter` and `callback` only count, use
            // atomics and the list we hold (never locked under the parking queue lock
            // elsewhere), cannot panic and do not call into the parking layer.
            unsafe { parking::unpark_filter(self.key(), filter, callback) };
        }
        while left != 0 && list.has_waiting() {
            wakers.extend(list.notify_first());
            left -= 1;
        }
        if !list.has_waiting() {
            // Relaxed: `ASYNC` is only set under the list lock we hold.
            self.state.fetch_and(!ASYNC, Ordering::Relaxed);
        }
    }

    /// One poll of `acquire_async`: takes a permit, or registers the task (`ticket`) and
    /// returns `false`.
    #[cfg(any(feature = "async", contexture_loom))]
    pub(crate) fn poll_acquire(&self, ticket: &mut Option<u64>, waker: &Waker) -> bool {
        loop {
            if self.try_acquire() {
                if ticket.is_some() {
                    // A wake-up we were sent is used: this permit.
                    waitlist::lock(&self.waiters).remove(ticket);
                }
                return true;
            }
            let mut list = waitlist::lock(&self.waiters);
            let mut state = self.state.load(Ordering::Relaxed);
            // Raise `ASYNC` only while there is no permit, under the list lock: a release
            // either saw it (and takes the list lock to wake us, after we registered) or
            // made the permit we then see here.
            let registered = loop {
                if state >= ONE {
                    break false;
                }
                // Relaxed: the list lock orders this against the releaser's wake-up.
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
    /// and not used goes to the next waiter, if a permit is there for it.
    #[cfg(any(feature = "async", contexture_loom))]
    pub(crate) fn cancel(&self, ticket: &mut Option<u64>) {
        let mut wakers = Vec::new();
        let mut list = waitlist::lock(&self.waiters);
        if list.remove(ticket) {
            let state = self.state.load(Ordering::Relaxed);
            if state >= ONE {
                self.wake_locked(&mut list, 1, state, &mut wakers);
            }
        }
        drop(list);
        waitlist::wake_all(wakers);
    }

    fn key(&self) -> usize {
        &self.state as *const AtomicUsize as usize
    }
}

/// Implements the acquire family shared by both semaphore types.
macro_rules! acquire_methods {
    ($ty:ident, $new:literal) => {
        /// Blocks until a permit is available and takes it (Python: `sem.acquire()`).
        ///
        /// ```
        #[doc = concat!("use contexture_sync::", stringify!($ty), ";")]
        ///
        #[doc = concat!("let sem = ", $new, ";")]
        /// sem.acquire();
        /// assert_eq!(sem.value(), 0);
        /// ```
        #[inline]
        pub fn acquire(&self) {
            if !self.raw.try_acquire() {
                self.raw.acquire_slow(None);
            }
        }

        /// Takes a permit if one is available, without blocking (Python:
        /// `sem.acquire(blocking=False)`).
        ///
        /// ```
        #[doc = concat!("use contexture_sync::", stringify!($ty), ";")]
        ///
        #[doc = concat!("let sem = ", $new, ";")]
        /// assert!(sem.try_acquire());
        /// assert!(!sem.try_acquire());
        /// ```
        #[inline]
        pub fn try_acquire(&self) -> bool {
            self.raw.try_acquire()
        }

        /// Blocks until a permit is taken or `timeout` has passed; returns whether it was
        /// taken (Python: `sem.acquire(timeout=t)`). A zero timeout tries once; any
        /// `Duration`, `Duration::MAX` included, is accepted.
        ///
        /// ```
        #[doc = concat!("use contexture_sync::", stringify!($ty), ";")]
        /// use std::time::Duration;
        ///
        #[doc = concat!("let sem = ", $new, ";")]
        /// assert!(sem.acquire_timeout(Duration::MAX));
        /// assert!(!sem.acquire_timeout(Duration::from_millis(1)));
        /// ```
        #[inline]
        pub fn acquire_timeout(&self, timeout: Duration) -> bool {
            if self.raw.try_acquire() {
                return true;
            }
            if timeout.is_zero() {
                return false;
            }
            self.raw.acquire_slow(parking::deadline_after(timeout))
        }

        /// Blocks until a permit is taken or `deadline` has passed; returns whether it was
        /// taken. A deadline in the past tries once.
        ///
        /// ```
        #[doc = concat!("use contexture_sync::", stringify!($ty), ";")]
        /// use std::time::Instant;
        ///
        #[doc = concat!("let sem = ", $new, ";")]
        /// assert!(sem.acquire_until(Instant::now()));
        /// assert!(!sem.acquire_until(Instant::now()));
        /// ```
        #[inline]
        pub fn acquire_until(&self, deadline: Instant) -> bool {
            self.raw.try_acquire() || self.raw.acquire_slow(Some(deadline))
        }

        /// Blocks until a permit is taken and returns a guard that gives it back when
        /// dropped (Python: `with sem:`).
        ///
        /// ```
        #[doc = concat!("use contexture_sync::", stringify!($ty), ";")]
        ///
        #[doc = concat!("let sem = ", $new, ";")]
        /// {
        ///     let _permit = sem.permit();
        ///     assert_eq!(sem.value(), 0);
        /// }
        /// assert_eq!(sem.value(), 1);
        /// ```
        #[inline]
        pub fn permit(&self) -> SemaphorePermit<'_> {
            self.acquire();
            SemaphorePermit { raw: &self.raw }
        }

        /// The guard form of [`try_acquire`](Self::try_acquire).
        ///
        /// ```
        #[doc = concat!("use contexture_sync::", stringify!($ty), ";")]
        ///
        #[doc = concat!("let sem = ", $new, ";")]
        /// let permit = sem.try_permit().unwrap();
        /// assert!(sem.try_permit().is_none());
        /// drop(permit);
        /// ```
        #[inline]
        pub fn try_permit(&self) -> Option<SemaphorePermit<'_>> {
            self.try_acquire()
                .then(|| SemaphorePermit { raw: &self.raw })
        }

        /// The guard form of [`acquire_timeout`](Self::acquire_timeout).
        ///
        /// ```
        #[doc = concat!("use contexture_sync::", stringify!($ty), ";")]
        /// use std::time::Duration;
        ///
        #[doc = concat!("let sem = ", $new, ";")]
        /// let _permit = sem.permit_timeout(Duration::from_secs(1)).unwrap();
        /// assert!(sem.permit_timeout(Duration::ZERO).is_none());
        /// ```
        #[inline]
        pub fn permit_timeout(&self, timeout: Duration) -> Option<SemaphorePermit<'_>> {
            self.acquire_timeout(timeout)
                .then(|| SemaphorePermit { raw: &self.raw })
        }

        /// The guard form of [`acquire_until`](Self::acquire_until).
        ///
        /// ```
        #[doc = concat!("use contexture_sync::", stringify!($ty), ";")]
        /// use std::time::Instant;
        ///
        #[doc = concat!("let sem = ", $new, ";")]
        /// assert!(sem.permit_until(Instant::now()).is_some());
        /// ```
        #[inline]
        pub fn permit_until(&self, deadline: Instant) -> Option<SemaphorePermit<'_>> {
            self.acquire_until(deadline)
                .then(|| SemaphorePermit { raw: &self.raw })
        }

        /// Waits, without blocking the thread, until a permit is taken; resolves to a
        /// guard that gives it back when dropped (asyncio: `await sem.acquire()` /
        /// `async with sem:`). Threads blocked in [`acquire`](Self::acquire) and tasks
        /// waiting here are woken oldest first, together.
        ///
        /// Executor-agnostic (plain `Waker`s) and cancel safe: a future dropped before it
        /// resolves holds no permit (it takes the permit in the poll that resolves it), and
        /// a wake-up it had been sent goes to the next waiter. So
        /// `tokio::time::timeout(d, sem.acquire_async())` is the timed form.
        ///
        /// ```
        #[doc = concat!("use contexture_sync::", stringify!($ty), ";")]
        ///
        #[doc = concat!("let sem = ", $new, ";")]
        /// futures::executor::block_on(async {
        ///     let permit = sem.acquire_async().await;
        ///     assert_eq!(sem.value(), 0);
        ///     drop(permit);
        /// });
        /// assert_eq!(sem.value(), 1);
        /// ```
        #[cfg(feature = "async")]
        pub fn acquire_async(&self) -> impl Future<Output = SemaphorePermit<'_>> + Send + '_ {
            AcquireAsync {
                raw: &self.raw,
                ticket: None,
            }
        }

        /// The current count: a snapshot that may change as soon as it is read (Python's
        /// private `sem._value`).
        ///
        /// ```
        #[doc = concat!("use contexture_sync::", stringify!($ty), ";")]
        ///
        #[doc = concat!("let sem = ", $new, ";")]
        /// assert_eq!(sem.value(), 1);
        /// ```
        #[inline]
        pub fn value(&self) -> usize {
            self.raw.value()
        }
    };
}

/// A counting semaphore with Python's `threading.Semaphore` semantics: [`acquire`] takes
/// one of `value` permits, blocking while there are none; [`release(n)`](Self::release)
/// gives `n` back and wakes up to `n` waiters. Any thread may release, and releases may
/// raise the count above its initial value (see [`BoundedSemaphore`] to forbid that).
///
/// Blocking calls come in the crate's three forms, each with a guard form returning a
/// [`SemaphorePermit`] that releases one permit when dropped.
///
/// One state word (plus the list of waiting tasks): the uncontended acquire and release are
/// each one compare-and-swap. Waiters
/// spin briefly, then park in `parking_lot_core` on the semaphore's address, oldest first.
/// Woken waiters retry (a thread that was not waiting may take the permit first, as in
/// Python).
///
/// [`acquire`]: Self::acquire
///
/// ```
/// use contexture_sync::Semaphore;
///
/// let pool = Semaphore::new(2); // two connections
/// std::thread::scope(|s| {
///     for _ in 0..5 {
///         s.spawn(|| {
///             let _connection = pool.permit(); // at most two threads in here
///             assert!(pool.value() <= 1);
///         });
///     }
/// });
/// assert_eq!(pool.value(), 2);
/// ```
pub struct Semaphore {
    pub(crate) raw: RawSemaphore,
}

impl Semaphore {
    /// The most permits a semaphore can hold: `usize::MAX / 4`.
    ///
    /// ```
    /// use contexture_sync::Semaphore;
    ///
    /// assert_eq!(Semaphore::MAX_PERMITS, usize::MAX / 4);
    /// ```
    pub const MAX_PERMITS: usize = MAX_PERMITS;

    /// A semaphore with `value` permits (Python: `threading.Semaphore(value)`).
    ///
    /// # Panics
    ///
    /// If `value` exceeds [`MAX_PERMITS`](Self::MAX_PERMITS).
    ///
    /// ```
    /// use contexture_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(3);
    /// assert_eq!(sem.value(), 3);
    /// ```
    #[must_use]
    pub fn new(value: usize) -> Self {
        Semaphore {
            raw: RawSemaphore::new(value, MAX_PERMITS),
        }
    }

    acquire_methods!(Semaphore, "Semaphore::new(1)");

    /// Adds `n` permits and wakes up to `n` waiting threads (Python: `sem.release(n)`).
    /// Any thread may release; `release(0)` does nothing (Python raises `ValueError`).
    ///
    /// # Panics
    ///
    /// If the count would exceed [`MAX_PERMITS`](Self::MAX_PERMITS) (the count is then
    /// unchanged).
    ///
    /// ```
    /// use contexture_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(0);
    /// sem.release(2);
    /// assert!(sem.try_acquire() && sem.try_acquire() && !sem.try_acquire());
    /// ```
    #[inline]
    pub fn release(&self, n: usize) {
        if self.raw.release(n).is_err() {
            overflow();
        }
    }
}

/// The future of `acquire_async`: unregistered until its first pending poll.
#[cfg(feature = "async")]
struct AcquireAsync<'a> {
    raw: &'a RawSemaphore,
    ticket: Option<u64>,
}

#[cfg(feature = "async")]
impl<'a> Future for AcquireAsync<'a> {
    type Output = SemaphorePermit<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphorePermit<'a>> {
        let this = &mut *self;
        if this.raw.poll_acquire(&mut this.ticket, cx.waker()) {
            Poll::Ready(SemaphorePermit { raw: this.raw })
        } else {
            Poll::Pending
        }
    }
}

#[cfg(feature = "async")]
impl Drop for AcquireAsync<'_> {
    fn drop(&mut self) {
        if self.ticket.is_some() {
            self.raw.cancel(&mut self.ticket);
        }
    }
}

#[cold]
#[inline(never)]
fn overflow() -> ! {
    panic!("contexture-sync: semaphore count overflow (more than usize::MAX / 4 permits)")
}

impl Default for Semaphore {
    /// One permit, as Python's `threading.Semaphore()`.
    fn default() -> Self {
        Semaphore::new(1)
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("value", &self.value())
            .finish()
    }
}

/// A semaphore whose count may never exceed its initial value, with Python's
/// `threading.BoundedSemaphore` semantics: a [`release`](Self::release) that would go above
/// it is an error ([`SemaphoreReleaseError::TooMany`]) and changes nothing. Otherwise the
/// same as [`Semaphore`].
///
/// ```
/// use contexture_sync::{BoundedSemaphore, SemaphoreReleaseError};
///
/// let sem = BoundedSemaphore::new(2);
/// sem.acquire();
/// assert_eq!(sem.release(2), Err(SemaphoreReleaseError::TooMany)); // 1 + 2 > 2
/// assert_eq!(sem.value(), 1); // unchanged
/// assert_eq!(sem.release(1), Ok(()));
/// ```
pub struct BoundedSemaphore {
    raw: RawSemaphore,
}

impl BoundedSemaphore {
    /// A bounded semaphore with `value` permits, which is also its bound (Python:
    /// `threading.BoundedSemaphore(value)`).
    ///
    /// # Panics
    ///
    /// If `value` exceeds [`Semaphore::MAX_PERMITS`].
    ///
    /// ```
    /// use contexture_sync::BoundedSemaphore;
    ///
    /// let sem = BoundedSemaphore::new(3);
    /// assert_eq!(sem.initial_value(), 3);
    /// ```
    #[must_use]
    pub fn new(value: usize) -> Self {
        BoundedSemaphore {
            raw: RawSemaphore::new(value, value),
        }
    }

    /// The bound: the value the semaphore was created with.
    ///
    /// ```
    /// use contexture_sync::BoundedSemaphore;
    ///
    /// assert_eq!(BoundedSemaphore::new(5).initial_value(), 5);
    /// ```
    pub fn initial_value(&self) -> usize {
        self.raw.max
    }

    acquire_methods!(BoundedSemaphore, "BoundedSemaphore::new(1)");

    /// Adds `n` permits and wakes up to `n` waiting threads, unless the count would exceed
    /// the initial value: then it is an error and nothing changes (Python: `ValueError`).
    /// `release(0)` does nothing.
    ///
    /// ```
    /// use contexture_sync::{BoundedSemaphore, SemaphoreReleaseError};
    ///
    /// let sem = BoundedSemaphore::new(1);
    /// assert_eq!(sem.release(1), Err(SemaphoreReleaseError::TooMany));
    /// sem.acquire();
    /// assert_eq!(sem.release(1), Ok(()));
    /// ```
    #[inline]
    pub fn release(&self, n: usize) -> Result<(), SemaphoreReleaseError> {
        self.raw.release(n)
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("value", &self.value())
            .field("initial_value", &self.raw.max)
            .finish()
    }
}

/// One permit of a [`Semaphore`] or [`BoundedSemaphore`], released when dropped; from
/// [`Semaphore::permit`] and friends. It is `Send`: like the semaphore, any thread may
/// release it. A panic while it is alive releases it as it unwinds.
///
/// ```
/// use contexture_sync::Semaphore;
///
/// let sem = Semaphore::new(1);
/// let permit = sem.permit();
/// std::thread::scope(|s| {
///     s.spawn(move || drop(permit)); // released on another thread
/// });
/// assert_eq!(sem.value(), 1);
/// ```
#[must_use = "the permit is released as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    raw: &'a RawSemaphore,
}

impl SemaphorePermit<'_> {
    /// Keeps the permit taken for good: the count is not given back.
    ///
    /// ```
    /// use contexture_sync::Semaphore;
    ///
    /// let sem = Semaphore::new(1);
    /// sem.permit().forget();
    /// assert_eq!(sem.value(), 0);
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for SemaphorePermit<'_> {
    #[inline]
    fn drop(&mut self) {
        // Cannot exceed a bound: this permit was taken from the count. (If other releases
        // filled a bounded semaphore meanwhile, the extra release is refused and dropped.)
        let _ = self.raw.release(1);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").finish_non_exhaustive()
    }
}

#[cfg(all(test, feature = "async", not(contexture_loom)))]
mod tests {
    use std::future::Future;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    use super::Semaphore;
    use crate::parking::{self, FilterOp, DEFAULT_UNPARK_TOKEN};

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// How many threads are parked on the semaphore now (looked at without waking any).
    fn parked(sem: &Semaphore) -> usize {
        let mut n = 0;
        // SAFETY: the semaphore's own key; the filter only counts, the callback does nothing.
        unsafe {
            parking::unpark_filter(
                sem.raw.key(),
                |_| {
                    n += 1;
                    FilterOp::Skip
                },
                |_| DEFAULT_UNPARK_TOKEN,
            )
        };
        n
    }

    fn poll<F: Future>(f: std::pin::Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(waker))
    }

    fn wait_until_parked(sem: &Semaphore, n: usize) {
        while parked(sem) != n {
            std::thread::yield_now();
        }
    }

    /// Threads and tasks are woken oldest first, together: a thread that parked before the
    /// task is woken by the first release, the task by the second; and the other way round.
    #[test]
    fn threads_and_tasks_are_woken_in_arrival_order() {
        for thread_first in [true, false] {
            let sem = Semaphore::new(0);
            let count = Arc::new(Count(AtomicUsize::new(0)));
            let waker = Waker::from(count.clone());
            let mut task = Box::pin(sem.acquire_async());
            std::thread::scope(|s| {
                if !thread_first {
                    assert!(poll(task.as_mut(), &waker).is_pending());
                }
                let thread = s.spawn(|| sem.acquire());
                wait_until_parked(&sem, 1);
                if thread_first {
                    assert!(poll(task.as_mut(), &waker).is_pending());
                }
                sem.release(1);
                if thread_first {
                    thread.join().unwrap();
                    assert_eq!(count.0.load(Ordering::SeqCst), 0, "the older thread first");
                    sem.release(1);
                    assert_eq!(count.0.load(Ordering::SeqCst), 1);
                    let Poll::Ready(permit) = poll(task.as_mut(), &waker) else {
                        panic!("the woken task takes the permit")
                    };
                    permit.forget();
                } else {
                    assert_eq!(count.0.load(Ordering::SeqCst), 1, "the older task first");
                    assert_eq!(parked(&sem), 1, "the thread still waits");
                    let Poll::Ready(permit) = poll(task.as_mut(), &waker) else {
                        panic!("the woken task takes the permit")
                    };
                    permit.forget();
                    sem.release(1);
                    thread.join().unwrap();
                }
            });
            assert_eq!(sem.value(), 0);
        }
    }
}
