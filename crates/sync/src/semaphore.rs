//! [`Semaphore`] and [`BoundedSemaphore`]: Python's `threading.Semaphore` and
//! `threading.BoundedSemaphore`, one packed word each, and their RAII [`SemaphorePermit`].

use std::fmt;
use std::time::{Duration, Instant};

use crate::error::SemaphoreReleaseError;
use crate::loom::{AtomicUsize, Ordering, SpinWait};
use crate::parking::{self, FilterOp, ParkResult, DEFAULT_UNPARK_TOKEN};

/// Set while threads may be parked on the semaphore (or are about to park).
const PARKED: usize = 0b1;
/// The count lives above the parked bit.
const ONE: usize = 0b10;

/// The largest count a semaphore can hold (`usize::MAX / 2`).
const MAX_PERMITS: usize = usize::MAX >> 1;

/// The shared engine of both semaphores.
struct RawSemaphore {
    /// | bits | meaning |
    /// |------|---------|
    /// | 0 `PARKED` | threads may be parked on `&self.state` (a stale `1` only sends the next release through the slow path) |
    /// | 1.. | the count (`state >> 1`) |
    ///
    /// The count is changed by compare-and-swap (acquire) and by compare-and-swap with an
    /// overflow/bound check (release). `PARKED` is set by a thread about to park and cleared
    /// only under the parking queue lock (by a release that woke the last waiter, or by the
    /// last waiter timing out).
    state: AtomicUsize,
    /// The bound a release may not exceed: the initial value for a `BoundedSemaphore`,
    /// `MAX_PERMITS` otherwise.
    max: usize,
}

impl RawSemaphore {
    fn new(value: usize, max: usize) -> Self {
        assert!(
            value <= MAX_PERMITS,
            "contexture-sync: a semaphore holds at most usize::MAX / 2 permits"
        );
        RawSemaphore {
            state: AtomicUsize::new(value << 1),
            max,
        }
    }

    fn value(&self) -> usize {
        self.state.load(Ordering::Relaxed) >> 1
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
            // between makes the check fail and we retry.
            // SAFETY: the key is our own state word; the closures only use atomics on it.
            let result = unsafe {
                parking::park_while_only_parked(
                    self.key(),
                    || self.state.load(Ordering::Relaxed) == PARKED,
                    || {
                        self.state.fetch_and(!PARKED, Ordering::Relaxed);
                    },
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
            let value = state >> 1;
            if n > self.max - value {
                return Err(SemaphoreReleaseError::TooMany);
            }
            // Release: publishes what we did before to the thread that takes the permit.
            match self.state.compare_exchange_weak(
                state,
                state + (n << 1),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        if state & PARKED != 0 {
            self.wake(n);
        }
        Ok(())
    }

    /// Wakes up to `n` parked threads, oldest first; clears `PARKED` when none remain.
    #[cold]
    #[inline(never)]
    fn wake(&self, n: usize) {
        let mut left = n;
        let filter = |_| {
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
        // SAFETY: the key is our own state word; `filter` and `callback` only count and use
        // atomics, cannot panic and do not call into the parking layer.
        unsafe { parking::unpark_filter(self.key(), filter, callback) };
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
/// One word: the uncontended acquire and release are each one compare-and-swap. Waiters
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
    raw: RawSemaphore,
}

impl Semaphore {
    /// The most permits a semaphore can hold: `usize::MAX / 2`.
    ///
    /// ```
    /// use contexture_sync::Semaphore;
    ///
    /// assert_eq!(Semaphore::MAX_PERMITS, usize::MAX / 2);
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

#[cold]
#[inline(never)]
fn overflow() -> ! {
    panic!("contexture-sync: semaphore count overflow (more than usize::MAX / 2 permits)")
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
