//! [`Barrier`]: Python's `threading.Barrier`, reusable over many rounds, with an action,
//! a default timeout, `abort` and `reset`; and its [`BarrierBuilder`].

use std::fmt;
#[cfg(feature = "async")]
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
#[cfg(feature = "async")]
use std::pin::Pin;
use std::sync::Arc;
use std::task::Waker;
#[cfg(feature = "async")]
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::error::{BrokenBarrier, ZeroParties};
use crate::loom::{AtomicU8, Ordering, SpinWait};
use crate::mutex::{Mutex, MutexGuard};
use crate::parking::{self, FilterOp, ParkResult, DEFAULT_PARK_TOKEN, DEFAULT_UNPARK_TOKEN};

/// A waiter's outcome cell: not decided yet, the waiter is spinning.
const PENDING: u8 = 0;
/// Not decided yet, the waiter is parked (or about to park) on the round key.
const PARKED: u8 = 1;
/// Decided: the round completed; the waiter returns its index.
const RELEASED: u8 = 2;
/// Decided: the barrier broke (timeout, abort, reset, panicking action).
const BROKEN: u8 = 3;

/// The address of a waiter's outcome cell, which lives on that waiter's stack.
struct CellPtr(*const AtomicU8);

// SAFETY: the pointer is only dereferenced under the barrier's lock while its waiter is
// still inside `wait` (see `State::waiting`); it carries no thread affinity.
unsafe impl Send for CellPtr {}

/// A waiter of the current round.
enum Waiter {
    /// A thread in `wait`: its outcome cell, on its stack.
    Thread(CellPtr),
    /// A task in `wait_async`: its outcome cell (shared with its future, which also keeps
    /// its index) and the waker to call once it is decided.
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    Task { cell: Arc<AtomicU8>, waker: Waker },
}

struct State {
    /// The waiters of the current round, in arrival order. A thread does not leave `wait`
    /// before its cell is decided, and a cell is decided (one atomic swap, the decider's last
    /// access to a thread's cell) only while in this list and only under the lock, after
    /// which it is removed. A task's future that is dropped undecided removes its entry
    /// (under the lock) and gives its index back in `free`.
    waiting: Vec<Waiter>,
    /// Indices of this round given back by withdrawn tasks; the next arrivals take them
    /// first, so the indices of a round stay distinct.
    free: Vec<usize>,
    /// Tasks waiting for a running action to finish before they join.
    entering_tasks: Vec<Waker>,
    /// Broken by a timeout, `abort` or a panicking action, until `reset`.
    broken: bool,
    /// The last thread of a round is running the action (without the lock); arrivals wait
    /// for it to finish, as Python's arrivals wait while a round drains.
    action_running: bool,
    /// Threads parked on the enter key until the action finishes.
    entering: usize,
    /// Bumped by every break and reset: tells the thread running the action whether its
    /// round was broken or reset meanwhile.
    epoch: usize,
}

/// The number of cores this process may use (read once; 1 if unknown).
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// A reusable barrier for a fixed number of parties, with Python's `threading.Barrier`
/// semantics: each [`wait`](Self::wait) blocks until `parties` threads have called it, then
/// all of them return, each with a distinct index in `0..parties` (the last to arrive gets
/// `parties - 1`). The barrier then starts the next round by itself.
///
/// - An optional action ([`BarrierBuilder::action`]) is run by exactly one thread of each
///   round (the last to arrive), after everyone arrived and before anyone is released. It
///   runs without any lock held.
/// - A timeout (the call's, or the default one, [`BarrierBuilder::timeout`]), an
///   [`abort`](Self::abort) or a panicking action *breaks* the barrier: every waiter of the
///   round, and every later caller, gets [`BrokenBarrier`] until [`reset`](Self::reset). The
///   thread whose action panicked gets the panic payload inside its error.
///
/// Waiters spin briefly on a cell of their own (only while fewer threads wait than there
/// are cores), then park in `parking_lot_core`; the last arrival decides every waiter's cell
/// and wakes the parked ones in one call.
///
/// ```
/// use contexture_sync::Barrier;
///
/// let barrier = Barrier::new(3).unwrap();
/// let mut indices: Vec<usize> = std::thread::scope(|s| {
///     let handles: Vec<_> = (0..3).map(|_| s.spawn(|| barrier.wait().unwrap())).collect();
///     handles.into_iter().map(|h| h.join().unwrap()).collect()
/// });
/// indices.sort();
/// assert_eq!(indices, [0, 1, 2]);
/// ```
pub struct Barrier {
    /// Its address is the parking key of the round's waiters.
    parties: usize,
    /// Its address is the parking key of threads arriving while an action runs.
    timeout: Option<Duration>,
    action: Option<Box<dyn Fn() + Send + Sync + 'static>>,
    state: Mutex<State>,
}

impl Barrier {
    /// A barrier for `parties` threads, without action or default timeout (Python:
    /// `threading.Barrier(parties)`); zero parties is an error.
    ///
    /// ```
    /// use contexture_sync::Barrier;
    ///
    /// let barrier = Barrier::new(1).unwrap();
    /// assert_eq!(barrier.wait().ok(), Some(0)); // one party: never blocks
    /// assert!(Barrier::new(0).is_err());
    /// ```
    pub fn new(parties: usize) -> Result<Barrier, ZeroParties> {
        Barrier::builder(parties).build()
    }

    /// A builder for a barrier with an action and/or a default timeout (Python:
    /// `threading.Barrier(parties, action, timeout)`).
    ///
    /// ```
    /// use contexture_sync::Barrier;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    ///
    /// let rounds = Arc::new(AtomicUsize::new(0));
    /// let r = Arc::clone(&rounds);
    /// let barrier = Barrier::builder(1)
    ///     .action(move || { r.fetch_add(1, Ordering::Relaxed); })
    ///     .timeout(Duration::from_secs(10))
    ///     .build()
    ///     .unwrap();
    /// barrier.wait().unwrap();
    /// assert_eq!(rounds.load(Ordering::Relaxed), 1);
    /// ```
    pub fn builder(parties: usize) -> BarrierBuilder {
        BarrierBuilder {
            parties,
            action: None,
            timeout: None,
        }
    }

    /// Waits until all parties have arrived, with the default timeout if one was set
    /// (Python: `barrier.wait()`); returns this thread's index in `0..parties`.
    ///
    /// ```
    /// use contexture_sync::Barrier;
    ///
    /// let barrier = Barrier::new(2).unwrap();
    /// std::thread::scope(|s| {
    ///     let other = s.spawn(|| barrier.wait().unwrap());
    ///     let mine = barrier.wait().unwrap();
    ///     assert_eq!(mine + other.join().unwrap(), 1); // 0 and 1
    /// });
    /// ```
    pub fn wait(&self) -> Result<usize, BrokenBarrier> {
        self.wait_deadline(self.timeout.and_then(parking::deadline_after))
    }

    /// As [`wait`](Self::wait) with `timeout` instead of the default; if it passes before
    /// the round completes the barrier breaks, for every waiter (Python:
    /// `barrier.wait(timeout)`). Any `Duration`, `Duration::MAX` included, is accepted.
    ///
    /// ```
    /// use contexture_sync::Barrier;
    /// use std::time::Duration;
    ///
    /// let barrier = Barrier::new(2).unwrap();
    /// assert!(barrier.wait_timeout(Duration::from_millis(1)).is_err());
    /// assert!(barrier.is_broken());
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<usize, BrokenBarrier> {
        self.wait_deadline(parking::deadline_after(timeout))
    }

    /// As [`wait_timeout`](Self::wait_timeout), giving up at `deadline`.
    ///
    /// ```
    /// use contexture_sync::Barrier;
    /// use std::time::Instant;
    ///
    /// let barrier = Barrier::new(1).unwrap();
    /// assert_eq!(barrier.wait_until(Instant::now()).ok(), Some(0));
    /// ```
    pub fn wait_until(&self, deadline: Instant) -> Result<usize, BrokenBarrier> {
        self.wait_deadline(Some(deadline))
    }

    /// Breaks the barrier: the threads waiting now and every later `wait` get
    /// [`BrokenBarrier`] until [`reset`](Self::reset) (Python: `barrier.abort()`).
    ///
    /// ```
    /// use contexture_sync::Barrier;
    ///
    /// let barrier = Barrier::new(2).unwrap();
    /// std::thread::scope(|s| {
    ///     let waiter = s.spawn(|| barrier.wait());
    ///     while barrier.n_waiting() == 0 {
    ///         std::thread::yield_now();
    ///     }
    ///     barrier.abort();
    ///     assert!(waiter.join().unwrap().is_err());
    /// });
    /// assert!(barrier.wait().is_err());
    /// ```
    pub fn abort(&self) {
        let mut st = self.state.lock();
        let wakers = self.break_locked(&mut st);
        drop(st);
        wake(wakers);
    }

    /// Makes a broken barrier usable again; the threads waiting now get [`BrokenBarrier`]
    /// (Python: `barrier.reset()`). A round whose action is running when `reset` is called
    /// fails too.
    ///
    /// ```
    /// use contexture_sync::Barrier;
    ///
    /// let barrier = Barrier::new(1).unwrap();
    /// barrier.abort();
    /// assert!(barrier.wait().is_err());
    /// barrier.reset();
    /// assert_eq!(barrier.wait().ok(), Some(0));
    /// ```
    pub fn reset(&self) {
        let mut st = self.state.lock();
        let wakers = self.decide(&mut st, BROKEN);
        st.broken = false;
        st.epoch = st.epoch.wrapping_add(1);
        drop(st);
        wake(wakers);
    }

    /// The number of threads needed to pass the barrier (Python: `barrier.parties`).
    ///
    /// ```
    /// use contexture_sync::Barrier;
    ///
    /// assert_eq!(Barrier::new(4).unwrap().parties(), 4);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// The number of threads waiting in the current round (Python: `barrier.n_waiting`).
    /// A snapshot.
    ///
    /// ```
    /// use contexture_sync::Barrier;
    ///
    /// assert_eq!(Barrier::new(2).unwrap().n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        self.state.lock().waiting.len()
    }

    /// Whether the barrier is broken (Python: `barrier.broken`). A snapshot.
    ///
    /// ```
    /// use contexture_sync::Barrier;
    ///
    /// let barrier = Barrier::new(2).unwrap();
    /// barrier.abort();
    /// assert!(barrier.is_broken());
    /// ```
    pub fn is_broken(&self) -> bool {
        self.state.lock().broken
    }

    /// The default timeout of [`wait`](Self::wait), if any.
    ///
    /// ```
    /// use contexture_sync::Barrier;
    /// use std::time::Duration;
    ///
    /// let barrier = Barrier::builder(2).timeout(Duration::from_secs(1)).build().unwrap();
    /// assert_eq!(barrier.timeout(), Some(Duration::from_secs(1)));
    /// ```
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    fn round_key(&self) -> usize {
        &self.parties as *const usize as usize
    }

    fn enter_key(&self) -> usize {
        &self.timeout as *const Option<Duration> as usize
    }

    fn wait_deadline(&self, deadline: Option<Instant>) -> Result<usize, BrokenBarrier> {
        let cell = AtomicU8::new(PENDING);
        let mut st = self.state.lock();
        while st.action_running {
            st.entering += 1;
            // SAFETY: the key is the address of our own `timeout` field, used only for
            // this; the callbacks do nothing.
            unsafe {
                st.park(
                    self.enter_key(),
                    || true,
                    |_, _| {},
                    DEFAULT_PARK_TOKEN,
                    None,
                )
            };
            st = self.state.lock();
        }
        if st.broken {
            return Err(BrokenBarrier { panic: None });
        }
        let index = st.free.pop().unwrap_or(st.waiting.len());
        if st.waiting.len() + 1 == self.parties {
            return self.complete_round(st, index);
        }
        st.waiting.push(Waiter::Thread(CellPtr(&cell)));
        drop(st);

        // Spin on our own cell first: on a multi-core machine the round often completes
        // within a few microseconds, and a park/unpark costs more than that. But only while
        // the waiters leave a core free for the threads still to arrive: once as many
        // threads wait as there are cores, spinning only keeps the late ones off the CPU
        // (measured with 4 threads on 2 cores: a round took 3.3 ms spinning, against 20 µs
        // for std's barrier, which parks at once).
        let mut spin = SpinWait::new();
        let may_spin = index + 1 < cores();
        loop {
            // Acquire: the action and everything before the decision happen before our
            // return.
            let outcome = cell.load(Ordering::Acquire);
            if outcome != PENDING {
                return outcome_to_result(outcome, index);
            }
            if !may_spin || !spin.spin() {
                break;
            }
        }
        // Relaxed: the parking queue lock orders this against the decider's unpark.
        if let Err(outcome) =
            cell.compare_exchange(PENDING, PARKED, Ordering::Relaxed, Ordering::Acquire)
        {
            return outcome_to_result(outcome, index);
        }
        loop {
            let validate = || cell.load(Ordering::Relaxed) == PARKED;
            // SAFETY: the key is the address of our own `parties` field, used only for
            // this; `validate` reads an atomic, the others do nothing.
            let result = unsafe {
                parking::park(
                    self.round_key(),
                    validate,
                    || {},
                    |_, _| {},
                    DEFAULT_PARK_TOKEN,
                    deadline,
                )
            };
            if result == ParkResult::TimedOut {
                let mut st = self.state.lock();
                if cell.load(Ordering::Relaxed) == PARKED {
                    // Still undecided, so still in `waiting`: our timeout breaks the round
                    // (and decides our own cell too).
                    let wakers = self.break_locked(&mut st);
                    drop(st);
                    wake(wakers);
                }
            }
            let outcome = cell.load(Ordering::Acquire);
            if outcome != PARKED {
                return outcome_to_result(outcome, index);
            }
        }
    }

    /// The last arrival: runs the action without the lock, then releases the round unless
    /// it was broken or reset meanwhile, or the action panicked.
    fn complete_round<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        index: usize,
    ) -> Result<usize, BrokenBarrier> {
        if let Some(action) = &self.action {
            st.action_running = true;
            let epoch = st.epoch;
            drop(st);
            let ran = catch_unwind(AssertUnwindSafe(action));
            st = self.state.lock();
            st.action_running = false;
            if st.entering != 0 {
                st.entering = 0;
                self.unpark_all(self.enter_key());
            }
            let entering = std::mem::take(&mut st.entering_tasks);
            if st.epoch != epoch {
                // Aborted or reset during the action: the waiters already got their error.
                drop(st);
                wake(entering);
                return Err(BrokenBarrier { panic: ran.err() });
            }
            if let Err(payload) = ran {
                let wakers = self.break_locked(&mut st);
                drop(st);
                wake(entering);
                wake(wakers);
                return Err(BrokenBarrier {
                    panic: Some(payload),
                });
            }
            let wakers = self.decide(&mut st, RELEASED);
            drop(st);
            wake(entering);
            wake(wakers);
            return Ok(index);
        }
        let wakers = self.decide(&mut st, RELEASED);
        drop(st);
        wake(wakers);
        Ok(index)
    }

    #[must_use = "the tasks' wakers are called once the lock is released"]
    fn break_locked(&self, st: &mut State) -> Vec<Waker> {
        st.broken = true;
        st.epoch = st.epoch.wrapping_add(1);
        self.decide(st, BROKEN)
    }

    /// Decides every waiter of the round and wakes the parked threads; returns the tasks'
    /// wakers, to call once the lock is released. Under the lock, so that only this round's
    /// waiters can be parked on the round key when we unpark it (a waiter of the next round
    /// must take the lock to join).
    #[must_use = "the tasks' wakers are called once the lock is released"]
    fn decide(&self, st: &mut State, outcome: u8) -> Vec<Waker> {
        let mut parked = false;
        let mut wakers = Vec::new();
        st.free.clear();
        for waiter in st.waiting.drain(..) {
            match waiter {
                Waiter::Thread(CellPtr(cell)) => {
                    // SAFETY: the cell's waiter is still inside `wait` (its cell is
                    // undecided) and stays there until it sees this swap, which is our last
                    // access to the cell. Release: publishes the round (and the action's
                    // effects) to the waiter.
                    let old = unsafe { &*cell }.swap(outcome, Ordering::Release);
                    parked |= old == PARKED;
                }
                Waiter::Task { cell, waker } => {
                    // Release: as for a thread.
                    cell.store(outcome, Ordering::Release);
                    wakers.push(waker);
                }
            }
        }
        if parked {
            self.unpark_all(self.round_key());
        }
        wakers
    }

    /// Waits, without blocking the thread, until all parties have arrived (asyncio:
    /// `await barrier.wait()`); resolves to this waiter's index in `0..parties`, or
    /// [`BrokenBarrier`] as [`wait`](Self::wait). Threads and tasks may meet at one barrier.
    /// If this task is the last to arrive, it runs the action inside this poll.
    ///
    /// The default timeout ([`BarrierBuilder::timeout`]) does not apply (asyncio's barrier
    /// has none): wrap the future in your runtime's timeout. **Cancelling** (dropping the
    /// future before it resolves) follows asyncio's rule for a cancelled waiter: the task
    /// *withdraws* from the round, which then needs one more arrival, and the barrier is
    /// not broken; its index goes to the next arrival, so a round's indices stay distinct.
    /// (A thread's timeout breaks the barrier instead, as in `threading`; a cancel is the
    /// task's own choice to leave, not a failure of the round, and `select!` or a timeout
    /// racing a barrier must not break it for everyone else.)
    ///
    /// ```
    /// use contexture_sync::Barrier;
    ///
    /// let barrier = Barrier::new(2).unwrap();
    /// std::thread::scope(|s| {
    ///     let thread = s.spawn(|| barrier.wait().unwrap());
    ///     let task = futures::executor::block_on(barrier.wait_async()).unwrap();
    ///     assert_eq!(task + thread.join().unwrap(), 1); // 0 and 1
    /// });
    /// ```
    #[cfg(feature = "async")]
    pub fn wait_async(&self) -> impl Future<Output = Result<usize, BrokenBarrier>> + Send + '_ {
        WaitAsync {
            barrier: self,
            waiting: None,
        }
    }

    /// One poll of `wait_async`; `waiting` holds the task's cell and index once it joined.
    #[cfg(feature = "async")]
    fn poll_wait(
        &self,
        waiting: &mut Option<(Arc<AtomicU8>, usize)>,
        waker: &Waker,
    ) -> Poll<Result<usize, BrokenBarrier>> {
        if let Some((cell, index)) = waiting {
            // Acquire: the action and everything before the decision happen before our
            // return.
            let outcome = cell.load(Ordering::Acquire);
            if outcome != PENDING {
                let index = *index;
                *waiting = None;
                return Poll::Ready(outcome_to_result(outcome, index));
            }
            let mut st = self.state.lock();
            let outcome = cell.load(Ordering::Acquire);
            if outcome != PENDING {
                drop(st);
                let index = *index;
                *waiting = None;
                return Poll::Ready(outcome_to_result(outcome, index));
            }
            // Undecided, so still in the list: refresh the waker.
            for entry in &mut st.waiting {
                if let Waiter::Task { cell: c, waker: w } = entry {
                    if Arc::ptr_eq(c, cell) {
                        if !w.will_wake(waker) {
                            *w = waker.clone();
                        }
                        break;
                    }
                }
            }
            return Poll::Pending;
        }
        let mut st = self.state.lock();
        if st.action_running {
            // Arrivals wait for the round to drain (Python's rule), as threads do.
            st.entering_tasks.push(waker.clone());
            return Poll::Pending;
        }
        if st.broken {
            return Poll::Ready(Err(BrokenBarrier { panic: None }));
        }
        let index = st.free.pop().unwrap_or(st.waiting.len());
        if st.waiting.len() + 1 == self.parties {
            return Poll::Ready(self.complete_round(st, index));
        }
        let cell = Arc::new(AtomicU8::new(PENDING));
        st.waiting.push(Waiter::Task {
            cell: Arc::clone(&cell),
            waker: waker.clone(),
        });
        *waiting = Some((cell, index));
        Poll::Pending
    }

    /// A `wait_async` dropped before it resolved: withdraws from the round if still in it.
    #[cfg(feature = "async")]
    fn withdraw(&self, cell: &Arc<AtomicU8>, index: usize) {
        let mut st = self.state.lock();
        if cell.load(Ordering::Relaxed) != PENDING {
            return; // decided: the round is over, nothing to withdraw from
        }
        let at = st.waiting.iter().position(
            |entry| matches!(entry, Waiter::Task { cell: c, .. } if Arc::ptr_eq(c, cell)),
        );
        if let Some(at) = at {
            st.waiting.remove(at);
            st.free.push(index);
        }
    }

    fn unpark_all(&self, key: usize) {
        // SAFETY: both keys are addresses of our own fields, used only for this; the filter
        // and callback do nothing.
        unsafe { parking::unpark_filter(key, |_| FilterOp::Unpark, |_| DEFAULT_UNPARK_TOKEN) };
    }
}

/// The future of [`Barrier::wait_async`].
#[cfg(feature = "async")]
struct WaitAsync<'a> {
    barrier: &'a Barrier,
    waiting: Option<(Arc<AtomicU8>, usize)>,
}

#[cfg(feature = "async")]
impl Future for WaitAsync<'_> {
    type Output = Result<usize, BrokenBarrier>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.barrier.poll_wait(&mut this.waiting, cx.waker())
    }
}

#[cfg(feature = "async")]
impl Drop for WaitAsync<'_> {
    fn drop(&mut self) {
        if let Some((cell, index)) = &self.waiting {
            self.barrier.withdraw(cell, *index);
        }
    }
}

/// Calls the wakers a decision collected, once the lock is released (a panicking waker
/// does not keep the others from being woken).
fn wake(wakers: Vec<Waker>) {
    if !wakers.is_empty() {
        crate::waitlist::wake_all(wakers);
    }
}

fn outcome_to_result(outcome: u8, index: usize) -> Result<usize, BrokenBarrier> {
    if outcome == RELEASED {
        Ok(index)
    } else {
        Err(BrokenBarrier { panic: None })
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock();
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &st.waiting.len())
            .field("broken", &st.broken)
            .field("has_action", &self.action.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Builds a [`Barrier`] with an action and/or a default timeout; from [`Barrier::builder`].
///
/// ```
/// use contexture_sync::Barrier;
/// use std::time::Duration;
///
/// let barrier = Barrier::builder(2)
///     .action(|| println!("phase done"))
///     .timeout(Duration::from_secs(5))
///     .build()
///     .unwrap();
/// assert_eq!(barrier.parties(), 2);
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct BarrierBuilder {
    parties: usize,
    action: Option<Box<dyn Fn() + Send + Sync + 'static>>,
    timeout: Option<Duration>,
}

impl BarrierBuilder {
    /// The action run by the last thread of each round, after all arrived and before any
    /// is released, without any lock held. If it panics the barrier breaks; the thread
    /// that ran it gets the payload in its [`BrokenBarrier`].
    ///
    /// ```
    /// use contexture_sync::Barrier;
    ///
    /// let barrier = Barrier::builder(1).action(|| ()).build().unwrap();
    /// assert_eq!(barrier.wait().ok(), Some(0));
    /// ```
    pub fn action(mut self, action: impl Fn() + Send + Sync + 'static) -> Self {
        self.action = Some(Box::new(action));
        self
    }

    /// The timeout [`Barrier::wait`] uses (Python's `timeout` argument of `Barrier`).
    ///
    /// ```
    /// use contexture_sync::Barrier;
    /// use std::time::Duration;
    ///
    /// let barrier = Barrier::builder(2).timeout(Duration::from_millis(1)).build().unwrap();
    /// assert!(barrier.wait().is_err()); // nobody else came: broken
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The barrier; an error if `parties` is zero.
    ///
    /// ```
    /// use contexture_sync::{Barrier, ZeroParties};
    ///
    /// assert_eq!(Barrier::builder(0).build().unwrap_err(), ZeroParties);
    /// ```
    pub fn build(self) -> Result<Barrier, ZeroParties> {
        if self.parties == 0 {
            return Err(ZeroParties);
        }
        Ok(Barrier {
            parties: self.parties,
            timeout: self.timeout,
            action: self.action,
            state: Mutex::new(State {
                waiting: Vec::with_capacity((self.parties - 1).min(64)),
                free: Vec::new(),
                entering_tasks: Vec::new(),
                broken: false,
                action_running: false,
                entering: 0,
                epoch: 0,
            }),
        })
    }
}

impl fmt::Debug for BarrierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierBuilder")
            .field("parties", &self.parties)
            .field("has_action", &self.action.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}
