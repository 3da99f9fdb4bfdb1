//! [`Event`]: Python's `threading.Event` (and asyncio's, with the `async` feature), a flag
//! threads and tasks can wait for, in one state byte.

use std::fmt;
#[cfg(feature = "async")]
use std::future::Future;
#[cfg(feature = "async")]
use std::pin::Pin;
#[cfg(feature = "async")]
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::loom::{AtomicU8, ListMutex, Ordering, SpinWait};
use crate::parking::{self, FilterOp, ParkResult, UnparkToken};
use crate::waitlist::{self, WaitList};

/// Set while the flag is set.
const SET: u8 = 0b001;
/// Set while threads may be parked on the event (or are about to park).
const PARKED: u8 = 0b010;
/// Set while tasks may be waiting in the event's async waiter list (or are about to).
const ASYNC: u8 = 0b100;

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
/// One state byte (plus the list of waiting tasks). `is_set` and a `wait` on a set event are one load; a waiter spins briefly,
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
    /// | 2 `ASYNC` | tasks may be waiting in `waiters` (likewise); set under the `waiters` lock while `SET` is clear, cleared under it |
    ///
    /// `SET` is lowered by `clear` (an atomic `and`) and raised by `set`: by a
    /// compare-and-swap while `PARKED` is clear, otherwise under the parking queue lock, in
    /// the same step that wakes every parked waiter and clears `PARKED` (so a wake-up never
    /// outlives its `set`). `PARKED` is set by a thread about to park and cleared only under
    /// the parking queue lock (by `set` waking everyone, or by the last waiter timing out).
    state: AtomicU8,
    /// The waiting tasks (`wait_async`).
    waiters: ListMutex<WaitList>,
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
            waiters: ListMutex::new(WaitList::new()),
        }
    }

    /// A new event, not set (not `const` under loom).
    #[cfg(contexture_loom)]
    #[must_use]
    pub fn new() -> Self {
        Event {
            state: AtomicU8::new(0),
            waiters: ListMutex::new(WaitList::new()),
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
                    || self.state.load(Ordering::Relaxed) & !ASYNC == PARKED,
                    || {
                        self.state.fetch_and(!PARKED, Ordering::Relaxed);
                    },
                    parking::DEFAULT_PARK_TOKEN,
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
            if state & (PARKED | ASYNC) != 0 {
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
        // Tasks register under the list lock while `SET` is clear: holding it, we raise the
        // flag and notify every registered task in one step, as for the threads below.
        let mut list = waitlist::lock(&self.waiters);
        let raise = || {
            // Raise the flag and take `PARKED` and `ASYNC` back (every waiter is being
            // woken). Other writers meanwhile: `clear` (lowers `SET`), and a thread's CAS
            // that raises `PARKED` (needs it clear), hence a loop. Release: as in `set`; the
            // woken threads are also ordered by the queue lock, the tasks by the list lock.
            let mut state = self.state.load(Ordering::Relaxed);
            while let Err(now) = self.state.compare_exchange_weak(
                state,
                (state | SET) & !(PARKED | ASYNC),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                state = now;
            }
        };
        let callback = |_| {
            // Under the queue lock, so no thread parks between the flag and its wake-up (a
            // thread validates under that lock), even when we saw no `PARKED`.
            raise();
            TOKEN_SET
        };
        // SAFETY: the key is our own state byte; the filter and callback only use atomics,
        // cannot panic and do not call into the parking layer.
        unsafe { parking::unpark_filter(self.key(), |_| FilterOp::Unpark, callback) };
        let mut wakers = Vec::new();
        list.notify_all(&mut wakers);
        drop(list);
        waitlist::wake_all(wakers);
    }

    /// One poll of `wait_async`: ready once a `set` notified the task or the flag is up;
    /// otherwise registers the task.
    #[cfg(any(feature = "async", contexture_loom))]
    pub(crate) fn poll_wait(&self, ticket: &mut Option<u64>, waker: &std::task::Waker) -> bool {
        if ticket.is_none() && self.is_set() {
            return true;
        }
        let mut list = waitlist::lock(&self.waiters);
        if list.is_notified(*ticket) {
            // Woken by `set`: done even if cleared since (Python's rule).
            list.remove(ticket);
            return true;
        }
        // Acquire: as in `is_set`.
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state & SET != 0 {
                list.remove(ticket);
                return true;
            }
            // Relaxed: the list lock orders this against `set`.
            match self.state.compare_exchange_weak(
                state,
                state | ASYNC,
                Ordering::Relaxed,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        list.register(ticket, waker);
        false
    }

    /// Waits, without blocking the thread, until the flag is set (asyncio:
    /// `await event.wait()`). As with [`wait`](Self::wait), a task notified by `set()`
    /// completes even if `clear()` ran before it was polled again; one `set()` wakes the
    /// blocked threads and the waiting tasks together.
    ///
    /// Executor-agnostic and cancel safe: dropping the future only takes it off the list.
    /// `tokio::time::timeout(d, event.wait_async())` is the timed form.
    ///
    /// ```
    /// use contexture_sync::Event;
    ///
    /// let event = Event::new();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| event.set());
    ///     futures::executor::block_on(event.wait_async());
    /// });
    /// assert!(event.is_set());
    /// ```
    #[cfg(feature = "async")]
    pub fn wait_async(&self) -> impl Future<Output = ()> + Send + '_ {
        WaitAsync {
            event: self,
            ticket: None,
        }
    }

    pub(crate) fn key(&self) -> usize {
        &self.state as *const AtomicU8 as usize
    }
}

/// The future of [`Event::wait_async`].
#[cfg(feature = "async")]
struct WaitAsync<'a> {
    event: &'a Event,
    ticket: Option<u64>,
}

#[cfg(feature = "async")]
impl Future for WaitAsync<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.event.poll_wait(&mut this.ticket, cx.waker()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(feature = "async")]
impl Drop for WaitAsync<'_> {
    fn drop(&mut self) {
        if self.ticket.is_some() {
            let mut list = waitlist::lock(&self.event.waiters);
            list.remove(&mut self.ticket);
            if !list.has_waiting() {
                // Relaxed: `ASYNC` is only set under the list lock we hold.
                self.event.state.fetch_and(!ASYNC, Ordering::Relaxed);
            }
        }
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
