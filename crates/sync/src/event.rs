//! [`Event`]: Python's `threading.Event`, a flag threads can wait for, in one byte.

use std::fmt;
use std::time::{Duration, Instant};

use crate::loom::{AtomicU8, Ordering, SpinWait};
use crate::parking::{self, FilterOp, ParkResult, UnparkToken};

/// Set while the flag is set.
const SET: u8 = 0b01;
/// Set while threads may be parked on the event (or are about to park).
const PARKED: u8 = 0b10;

/// Handed to the waiters a `set()` wakes: they return `true` whatever the flag is by the
/// time they run.
const TOKEN_SET: UnparkToken = UnparkToken(1);

/// A flag that threads can wait for, with Python's `threading.Event` semantics:
/// [`set`](Self::set) raises it and wakes every waiter, [`clear`](Self::clear) lowers it,
/// [`wait`](Self::wait) blocks until it is raised.
///
/// A waiter woken by `set()` returns `true` even if `clear()` ran before it was scheduled
/// again (as in Python): the wake-up itself carries the news.
///
/// One byte. `is_set` and a `wait` on a set event are one load; a waiter spins briefly,
/// then parks in `parking_lot_core` on the event's address; `set` wakes every parked
/// waiter at once and costs one atomic operation when nobody waits.
///
/// ```
/// use contexture_sync::Event;
///
/// let ready = Event::new();
/// std::thread::scope(|s| {
///     s.spawn(|| ready.set());
///     ready.wait();
/// });
/// assert!(ready.is_set());
/// ```
pub struct Event {
    /// | bit | meaning |
    /// |-----|---------|
    /// | 0 `SET` | the flag |
    /// | 1 `PARKED` | threads may be parked on `&self.state` (a stale `1` only sends the next `set` through the slow path) |
    ///
    /// `SET` is lowered by `clear` (an atomic `and`) and raised by `set`: by a
    /// compare-and-swap while `PARKED` is clear, otherwise under the parking queue lock, in
    /// the same step that wakes every parked waiter and clears `PARKED` (so a wake-up never
    /// outlives its `set`). `PARKED` is set by a thread about to park and cleared only under
    /// the parking queue lock (by `set` waking everyone, or by the last waiter timing out).
    state: AtomicU8,
}

impl Event {
    /// A new event, not set.
    ///
    /// ```
    /// use contexture_sync::Event;
    ///
    /// static STOP: Event = Event::new();
    /// assert!(!STOP.is_set());
    /// ```
    #[cfg(not(contexture_loom))]
    #[must_use]
    pub const fn new() -> Self {
        Event {
            state: AtomicU8::new(0),
        }
    }

    /// A new event, not set (not `const` under loom).
    #[cfg(contexture_loom)]
    #[must_use]
    pub fn new() -> Self {
        Event {
            state: AtomicU8::new(0),
        }
    }

    /// Whether the flag is set (Python: `event.is_set()`). Acquire: what the setter did
    /// before `set` is visible once this returns `true`.
    ///
    /// ```
    /// use contexture_sync::Event;
    ///
    /// let event = Event::new();
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    #[inline]
    pub fn is_set(&self) -> bool {
        self.state.load(Ordering::Acquire) & SET != 0
    }

    /// Sets the flag and wakes every waiting thread (Python: `event.set()`).
    ///
    /// ```
    /// use contexture_sync::Event;
    ///
    /// let event = Event::new();
    /// event.set();
    /// event.set(); // idempotent
    /// assert!(event.wait_timeout(std::time::Duration::ZERO));
    /// ```
    #[inline]
    pub fn set(&self) {
        // While nobody may be parked, raising the flag is the whole `set`. Release: publishes
        // what we did before `set` to the threads that see the flag.
        if self
            .state
            .compare_exchange(0, SET, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            self.set_slow();
        }
    }

    /// Clears the flag (Python: `event.clear()`). Threads already woken by a `set` still
    /// return `true`.
    ///
    /// ```
    /// use contexture_sync::Event;
    ///
    /// let event = Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    #[inline]
    pub fn clear(&self) {
        // Relaxed: clearing publishes nothing.
        self.state.fetch_and(!SET, Ordering::Relaxed);
    }

    /// Blocks until the flag is set (Python: `event.wait()`, which then returns `True`).
    ///
    /// ```
    /// use contexture_sync::Event;
    ///
    /// let event = Event::new();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| event.set());
    ///     event.wait();
    /// });
    /// ```
    #[inline]
    pub fn wait(&self) {
        if !self.is_set() {
            self.wait_slow(None);
        }
    }

    /// Blocks until the flag is set or `timeout` has passed; returns `true` if it was set
    /// (or a `set` woke this thread), `false` if it timed out with the flag clear (Python:
    /// `event.wait(timeout)`). A zero timeout only looks; any `Duration`, `Duration::MAX`
    /// included, is accepted.
    ///
    /// ```
    /// use contexture_sync::Event;
    /// use std::time::Duration;
    ///
    /// let event = Event::new();
    /// assert!(!event.wait_timeout(Duration::from_millis(1)));
    /// event.set();
    /// assert!(event.wait_timeout(Duration::MAX));
    /// ```
    #[inline]
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        if self.is_set() {
            return true;
        }
        if timeout.is_zero() {
            return false;
        }
        self.wait_slow(parking::deadline_after(timeout))
    }

    /// Blocks until the flag is set or `deadline` has passed; as
    /// [`wait_timeout`](Self::wait_timeout).
    ///
    /// ```
    /// use contexture_sync::Event;
    /// use std::time::Instant;
    ///
    /// let event = Event::new();
    /// assert!(!event.wait_until(Instant::now()));
    /// ```
    #[inline]
    pub fn wait_until(&self, deadline: Instant) -> bool {
        self.is_set() || self.wait_slow(Some(deadline))
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn wait_slow(&self, deadline: Option<Instant>) -> bool {
        let mut spin = SpinWait::new();
        loop {
            // Acquire: as in `is_set`.
            let state = self.state.load(Ordering::Acquire);
            if state & SET != 0 {
                return true;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return false;
            }
            if state & PARKED == 0 {
                if spin.spin() {
                    continue;
                }
                // Relaxed: the parking queue lock orders this against `set`.
                if self
                    .state
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
            }
            // Park only while the flag is clear and `PARKED` set; a `set` in between makes
            // the check fail and we look again.
            // SAFETY: the key is our own state byte; the closures only use atomics on it.
            match unsafe {
                parking::park_while_only_parked(
                    self.key(),
                    || self.state.load(Ordering::Relaxed) == PARKED,
                    || {
                        self.state.fetch_and(!PARKED, Ordering::Relaxed);
                    },
                    deadline,
                )
            } {
                // Woken by `set`: true even if cleared since. The queue lock orders the
                // setter's writes before our return.
                ParkResult::Unparked(_) => return true,
                // Not chosen by a `set`: report the flag as it is now.
                ParkResult::TimedOut => return self.is_set(),
                ParkResult::Invalid => {}
            }
        }
    }

    /// A `set` that found the flag already set or `PARKED`: raises the flag, and if threads
    /// may be parked, raises it *under the parking queue lock*, in the same step that wakes
    /// every parked waiter and clears `PARKED`. A thread about to park validates under that
    /// lock too, so it either sees `SET` (and returns) or is in the queue this `set` empties:
    /// the waiters a `set` wakes are exactly those that were waiting when the flag went up.
    ///
    /// Raising the flag first and waking in a second step (the old protocol) let a wake-up
    /// outlive its `set`: a waiter that saw the flag in its validation returned, `clear`ed,
    /// parked again and was woken by that stale wake-up, a `wait` without a `set` (hardening
    /// issue #11; the model `loom_event_no_wait_without_set`).
    #[cold]
    #[inline(never)]
    fn set_slow(&self) {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & PARKED != 0 {
                break;
            }
            // Nobody parked: raise the flag, outside the queue lock. Release: as in `set` (a
            // read-modify-write even when already set, so that a waiter that then sees the
            // flag also sees what we did before this `set`, as with Python's `set`).
            match self.state.compare_exchange_weak(
                state,
                state | SET,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(now) => state = now,
            }
        }
        let callback = |_| {
            // Under the queue lock: raise the flag and take `PARKED` back (every thread
            // parked on the key is being unparked). Other writers meanwhile: `clear` (lowers
            // `SET`), and a waiter's CAS that raises `PARKED` (needs it clear), hence a loop.
            // Release: as in `set`; the woken threads are also ordered by the queue lock.
            let mut state = self.state.load(Ordering::Relaxed);
            while let Err(now) = self.state.compare_exchange_weak(
                state,
                (state | SET) & !PARKED,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                state = now;
            }
            TOKEN_SET
        };
        // SAFETY: the key is our own state byte; the filter and callback only use atomics,
        // cannot panic and do not call into the parking layer.
        unsafe { parking::unpark_filter(self.key(), |_| FilterOp::Unpark, callback) };
    }

    pub(crate) fn key(&self) -> usize {
        &self.state as *const AtomicU8 as usize
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish()
    }
}
