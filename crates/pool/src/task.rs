//! The shared state of one submitted job and its [`Handle`]: an atomic phase word, the
//! outcome cell it guards, and a lock for the slow parts (waiters, done callbacks, the async
//! waker).
//!
//! # The phase word
//!
//! A job goes `PENDING` → (`RUNNING` | `CANCELLING`) → [`ENDING`] → `DONE` → [`TAKEN`].
//! Leaving `PENDING` is a compare-and-swap, so exactly one party owns the job from then on:
//! the worker that starts it or the thread that cancels (or fails) it; that party alone
//! writes the outcome, then publishes it with a Release store of `DONE` that readers pair
//! with an Acquire load. Without anybody on the slow path (the common case: nobody parked,
//! no callback, no waker) ending a job is one compare-and-swap, and taking its outcome one
//! Acquire load and one store: no lock at all.
//!
//! Anybody who needs the ender to act (a waiter about to park, a done callback, a waker)
//! takes the slow lock and sets `SLOW` with a read-modify-write that also tells it whether
//! the job has already ended. An ender that finds `SLOW` takes the lock too, so it sees
//! every registration made before; a registration made after the job ended sees `DONE`
//! and does not register.
//!
//! # Who may touch the outcome
//!
//! Only the owner writes it (before `DONE`); while done callbacks run (`ENDING`) it is lent
//! to them on the ender's thread. After `DONE` it is read only through `&mut Handle` or
//! `Handle` (taking it) or lent to a callback added late (`Slow::lent`, at most one thread at
//! a time, which only `&Handle` can ask for, so never while it is being taken). The queries
//! (`done`, `cancelled`, `running`, `Debug`) read only the phase word, which also holds the
//! kind of the outcome.

use std::fmt;
use std::future::Future;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::ptr;
use std::sync::PoisonError;
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::{Duration, Instant};

use crate::context::{Captured, Kept};
use crate::error::{catch, CallbackPanicked, TaskError};
use crate::loom::{
    AtomicPtr, AtomicUsize, Backoff, Condvar, Mutex, MutexGuard, Ordering, UnsafeCell,
};
use crate::slot::{Counted, JobRef};

/// A done callback: gets the outcome by reference.
type Callback<T> = Box<dyn FnOnce(Result<&T, &TaskError>) + Send>;

// The phase word (`Task::state`):
//
// | bits | name  | meaning                                                              |
// |------|-------|----------------------------------------------------------------------|
// | 0–2  | phase | `PENDING`, `RUNNING`, `CANCELLING`, `ENDING`, `DONE`, `TAKEN`         |
// | 3–4  | kind  | once the outcome is decided: `OK`, `CANCELLED` or `FAILED`           |
// | 5    | SLOW  | someone registered under the slow lock: the ender must take it too   |

/// Queued, not started: the closure is still in the job; can be cancelled.
const PENDING: usize = 0;
/// A worker owns the job and runs it.
const RUNNING: usize = 1;
/// A canceller (or a failing shutdown) owns the job; it never runs.
const CANCELLING: usize = 2;
/// The outcome is written and lent to the done callbacks running now; not done yet.
const ENDING: usize = 3;
/// Done: the outcome is there to take.
const DONE: usize = 4;
/// Done, and the outcome was taken.
const TAKEN: usize = 5;
const PHASE: usize = 0b111;

const OK: usize = 0;
const CANCELLED: usize = 1 << 3;
const FAILED: usize = 2 << 3;
const KIND: usize = 0b11 << 3;

const SLOW: usize = 1 << 5;

/// Whether the job has ended (its callbacks ran): what `done()` reports.
fn ended(state: usize) -> bool {
    matches!(state & PHASE, DONE | TAKEN)
}

/// The kind bits of an outcome.
fn kind_of<T>(outcome: &Result<T, TaskError>) -> usize {
    match outcome {
        Ok(_) => OK,
        Err(TaskError::Cancelled) => CANCELLED,
        Err(_) => FAILED,
    }
}

/// What only the slow path needs, under [`SlowCell::lock`].
struct Slow<T> {
    /// Threads blocked on [`SlowCell::done`]: only then is it worth a wake-up (a futex call).
    waiters: usize,
    /// Each with the key that [`Task::remove_callback`] takes.
    callbacks: Vec<(usize, Callback<T>)>,
    /// The key of the next callback registered.
    next_key: usize,
    callback_panics: Vec<String>,
    waker: Option<Waker>,
    /// A thread is lending the (done) outcome to a late callback: another late callback
    /// joins its list instead of lending the outcome to a second thread at the same time.
    lent: bool,
}

/// The slow path's lock, condition variable and state, allocated by the first thread that
/// takes the slow path ([`Task::cell`]), so that a job nobody waits for stays small: its
/// allocation is the pool's main per-job memory cost (measured: the jobs' fresh heap pages
/// were a fifth of a tiny job's time).
struct SlowCell<T> {
    lock: Mutex<Slow<T>>,
    /// Signalled when the job becomes done and somebody waits.
    done: Condvar,
}

/// The slow lock, held.
type SlowGuard<'a, T> = MutexGuard<'a, Slow<T>>;

/// A job's outcome as stored: the error boxed, so that the cell is as small as `T` allows
/// (16 bytes instead of 32 for a `u64`). A batch keeps every job alive until its result is
/// taken, and the jobs' heap pages were most of the pool's page faults (measured: 96-byte
/// jobs took 3,000 faults for a batch of 100,000 in a fresh process, 80-byte ones 2,600).
/// Errors are rare, so their extra allocation is not felt.
type Outcome<T> = Result<T, Box<TaskError>>;

/// The outcome lent to a done callback.
fn lend<T>(outcome: &Outcome<T>) -> Result<&T, &TaskError> {
    outcome.as_ref().map_err(|e| &**e)
}

/// Shared between the [`Handle`] and the queued job.
pub(crate) struct Task<T> {
    /// The phase word (see the table above).
    state: AtomicUsize,
    /// Written once by the owner before `ENDING`/`DONE` is published; initialised exactly
    /// while the phase is `ENDING` or `DONE`. The error is boxed (see [`Outcome`]).
    outcome: UnsafeCell<MaybeUninit<Outcome<T>>>,
    /// Null until [`Task::cell`] allocates it; freed with the task.
    slow: AtomicPtr<SlowCell<T>>,
}

// SAFETY: `outcome` is the only field that is not `Sync`. It is written only by the one
// owner of the job (the phase word's compare-and-swap out of `PENDING` picks it) before the
// Release store that publishes `ENDING`/`DONE`; afterwards it is read on one thread at a
// time (the ender while callbacks run, then `&mut Handle`/`Handle`, or the one lender that
// `Slow::lent` admits, which only `&Handle` reaches, so never together with a taker). It
// only ever moves between threads, hence `T: Send` and no `T: Sync`.
unsafe impl<T: Send> Sync for Task<T> {}

/// Who got the job out of `PENDING` in [`Task::claim`].
pub(crate) enum Claim {
    /// The caller owns the job now: it takes the closure and calls [`Task::finish`].
    Won,
    /// Somebody else owns it; `true` when it already was cancelled with the same error.
    Lost(bool),
}

impl<T> Task<T> {
    pub(crate) fn new() -> Task<T> {
        Task {
            state: AtomicUsize::new(PENDING),
            outcome: UnsafeCell::new(MaybeUninit::uninit()),
            slow: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// The slow cell, allocated by the first caller.
    fn cell(&self) -> &SlowCell<T> {
        // Acquire: pairs with the Release of the installing compare-exchange, so the cell's
        // contents are initialised for us.
        let mut cell = self.slow.load(Ordering::Acquire);
        if cell.is_null() {
            let new = Box::into_raw(Box::new(SlowCell {
                lock: Mutex::new(Slow {
                    waiters: 0,
                    callbacks: Vec::new(),
                    next_key: 0,
                    callback_panics: Vec::new(),
                    waker: None,
                    lent: false,
                }),
                done: Condvar::new(),
            }));
            cell = match self.slow.compare_exchange(
                ptr::null_mut(),
                new,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => new,
                Err(installed) => {
                    // SAFETY: `new` came from `Box::into_raw` just now and was never shared.
                    drop(unsafe { Box::from_raw(new) });
                    installed
                }
            };
        }
        // SAFETY: a non-null `slow` points to a cell from `Box::into_raw`, installed once
        // and freed only by `Task::drop` (`&mut self`), so it lives as long as `&self`.
        unsafe { &*cell }
    }

    /// The lock never guards user code (callbacks run after it is released), so a poisoned
    /// lock only means a panic elsewhere; its data is consistent.
    fn lock(&self) -> SlowGuard<'_, T> {
        self.cell()
            .lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the slow lock and sets `SLOW`; returns the lock and the phase word as it was.
    fn lock_slow(&self) -> (SlowGuard<'_, T>, usize) {
        let slow = self.lock();
        // AcqRel: Acquire pairs with the ender's Release of `DONE` (we may read the
        // outcome); Release is not needed for the flag itself (the ender takes the lock),
        // but a read-modify-write orders us against the ender's compare-and-swap.
        let state = self.state.fetch_or(SLOW, Ordering::AcqRel);
        (slow, state)
    }

    /// Whether someone registered on this job (a done callback, a waker, a blocked waiter),
    /// so far: its ending then runs their code or releases them.
    #[inline]
    pub(crate) fn registered(&self) -> bool {
        self.state.load(Ordering::Relaxed) & SLOW != 0
    }

    /// Moves a pending job to running; `true` if this call did (the caller owns the job).
    pub(crate) fn start(&self) -> bool {
        self.leave_pending(RUNNING).is_ok()
    }

    /// Moves a pending job to `CANCELLING` with the kind of `error`.
    pub(crate) fn claim(&self, error: &TaskError) -> Claim {
        let kind = match error {
            TaskError::Cancelled => CANCELLED,
            _ => FAILED,
        };
        match self.leave_pending(CANCELLING | kind) {
            Ok(()) => Claim::Won,
            Err(state) => Claim::Lost(kind == CANCELLED && state & KIND == CANCELLED),
        }
    }

    /// Replaces `PENDING` by `to`, keeping `SLOW`; the phase word as found if it was not
    /// pending.
    fn leave_pending(&self, to: usize) -> Result<(), usize> {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & PHASE != PENDING {
                return Err(state);
            }
            // Relaxed: the closure was written before the job was shared (the channel or the
            // reference count publish it); the compare-and-swap only picks a single owner.
            match self.state.compare_exchange_weak(
                state,
                (state & SLOW) | to,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(now) => state = now,
            }
        }
    }

    /// Records the outcome of a job the caller owns (it won [`start`](Task::start) or
    /// [`claim`](Task::claim)), runs its done callbacks on this thread, calls `finishing`,
    /// then releases waiters. Returns the async waker to wake: the caller wakes it (user
    /// code), with [`wake`](Task::wake) or, on a worker, once it no longer counts as idle.
    ///
    /// `finishing` (the worker counting itself idle) comes after the callbacks, so that a
    /// callback that submits to the pool and waits for that job does not take this worker's
    /// idle token while this worker is still busy with it (it would wait for ever, though
    /// `max_workers` allows another worker); and before the waiters, so that a caller who
    /// submits right after `result()` finds this worker idle.
    #[must_use]
    pub(crate) fn finish(
        &self,
        outcome: Result<T, TaskError>,
        finishing: &dyn Fn(),
    ) -> Option<Waker> {
        let kind = kind_of(&outcome);
        let outcome: Outcome<T> = outcome.map_err(Box::new);
        // SAFETY: the caller owns the job (phase `RUNNING` or `CANCELLING`, set by its own
        // compare-and-swap): nobody else reads or writes the cell until `ENDING`/`DONE` is
        // published below, and it is uninitialised, so nothing is overwritten.
        self.outcome
            .with_mut(|cell| unsafe { (*cell).write(outcome) });
        let mut state = self.state.load(Ordering::Relaxed);
        if state & SLOW != 0 {
            return self.end_slow(kind, finishing);
        }
        // No callback so far. (One registered from now on makes the exchange below fail and
        // is run by `end_slow`, with this worker already counted idle: a window of a few
        // instructions, where the old rule applies.)
        finishing();
        while state & SLOW == 0 {
            // Release: publishes the outcome to whoever sees `DONE` (Acquire).
            match self.state.compare_exchange_weak(
                state,
                DONE | kind,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return None,
                Err(now) => state = now,
            }
        }
        self.end_slow(kind, &|| {})
    }

    /// Wakes the waker that [`finish`](Task::finish) returned; a panic in it (the
    /// executor's code) is caught and listed with the callback panics.
    pub(crate) fn wake(&self, waker: Option<Waker>) {
        if let Some(waker) = waker {
            if let Err(message) = catch(move || waker.wake()) {
                self.lock()
                    .callback_panics
                    .push(format!("the waker panicked: {message}"));
            }
        }
    }

    /// The ending with somebody registered: runs the callbacks (the outcome lent to them,
    /// the lock released; ones added meanwhile join), then publishes `DONE`, wakes every
    /// waiter and returns the waker for the caller to wake.
    #[cold]
    fn end_slow(&self, kind: usize, finishing: &dyn Fn()) -> Option<Waker> {
        let mut slow = self.lock();
        // Release: registrants that see `ENDING` know the outcome is decided (they do not
        // read it, but `DONE` below is stored the same way).
        self.state.store(SLOW | ENDING | kind, Ordering::Release);
        let mut panics = Vec::new();
        loop {
            let callbacks = std::mem::take(&mut slow.callbacks);
            if callbacks.is_empty() {
                break;
            }
            drop(slow);
            // SAFETY: phase `ENDING`: the outcome is initialised and only this thread (the
            // owner) reads it until `DONE` is published; nobody writes it.
            let outcome = self
                .outcome
                .with(|cell| unsafe { (*cell).assume_init_ref() });
            for (_, callback) in callbacks {
                if let Err(message) = catch(|| callback(lend(outcome))) {
                    panics.push(message);
                }
            }
            slow = self.lock();
        }
        slow.callback_panics.extend(panics);
        finishing(); // (no user code: the worker's idle count)
                     // Release: a waiter that sees `DONE` (Acquire) finds the outcome. Under the lock, and
                     // nobody else writes the word in `ENDING`, so a plain store keeps `SLOW`.
        self.state.store(SLOW | DONE | kind, Ordering::Release);
        let waker = slow.waker.take();
        let waiters = slow.waiters > 0;
        drop(slow);
        if waiters {
            self.cell().done.notify_all();
        }
        waker
    }

    /// Waits until the job has ended or the deadline passes; `true` if it ended.
    fn wait_until(&self, deadline: Option<Instant>) -> bool {
        // Spin a little first: in a busy pool most waits are short, and parking costs a
        // futex round trip on each side.
        let backoff = Backoff::new();
        loop {
            // Acquire: pairs with the Release of `DONE`, for a caller that then reads.
            if ended(self.state.load(Ordering::Acquire)) {
                return true;
            }
            if backoff.is_completed() {
                break;
            }
            backoff.snooze();
        }
        let (mut slow, mut state) = self.lock_slow();
        loop {
            if ended(state) {
                return true;
            }
            let now = Instant::now();
            if deadline.is_some_and(|deadline| now >= deadline) {
                return false;
            }
            slow.waiters += 1;
            let done = &self.cell().done;
            slow = match deadline {
                None => done.wait(slow).unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    done.wait_timeout(slow, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
            slow.waiters -= 1;
            // Acquire: as above. `SLOW` stays set from `lock_slow`.
            state = self.state.load(Ordering::Acquire);
        }
    }

    /// Takes the outcome of an ended job (the phase word as last loaded, with Acquire).
    ///
    /// # Safety
    ///
    /// The caller has exclusive use of the handle (`&mut Handle` or `Handle`): no other
    /// thread takes or lends the outcome meanwhile.
    unsafe fn take(&self, state: usize) -> Result<T, TaskError> {
        if state & PHASE != DONE {
            return Err(TaskError::AlreadyTaken);
        }
        // SAFETY: phase `DONE` (seen with Acquire): the outcome is initialised and written
        // no more; the caller guarantees nobody else reads it, and marking it `TAKEN` below
        // keeps anybody from reading it again.
        let outcome = self
            .outcome
            .with(|cell| unsafe { (*cell).assume_init_read() });
        // Relaxed, and a plain store: after `DONE` nobody else writes the word (the ender is
        // gone, and registrants need `&Handle`, which the caller's exclusive use rules out).
        // Whoever drops the task later synchronises with us through the job's reference count.
        self.state
            .store((state & !PHASE) | TAKEN, Ordering::Relaxed);
        outcome.map_err(|e| *e)
    }

    /// Adds a done callback: run by the ender if the job has not ended; else at once on the
    /// caller's thread (or, when another thread is lending the outcome to a late callback
    /// right now, after that one, on that thread). `Some(key)` when it was registered, for
    /// [`remove_callback`](Task::remove_callback); `None` when it ran at once.
    fn add_callback(&self, callback: Callback<T>) -> Result<Option<usize>, CallbackPanicked> {
        let (mut slow, state) = self.lock_slow();
        let register = |slow: &mut Slow<T>, callback| {
            let key = slow.next_key;
            slow.next_key = key.wrapping_add(1);
            slow.callbacks.push((key, callback));
            Ok(Some(key))
        };
        if !ended(state) {
            // Pending, running or ending: the ender runs it (`end_slow` takes the lock, since
            // `SLOW` is set, and runs callbacks until none is left).
            return register(&mut slow, callback);
        }
        if state & PHASE == TAKEN {
            drop(slow);
            // The outcome was taken: the callback still learns that the job ended.
            return catch(|| callback(Err(&TaskError::AlreadyTaken)))
                .map(|()| None)
                .map_err(CallbackPanicked);
        }
        if slow.lent {
            return register(&mut slow, callback);
        }
        slow.lent = true;
        drop(slow);
        // SAFETY: phase `DONE` (seen with Acquire in `lock_slow`; the caller saw the job
        // ended and it is not `TAKEN`): the outcome is initialised and nobody writes it.
        // `lent` admits only this thread to read it, and a taker needs `&mut Handle`, which
        // cannot coexist with the caller's `&Handle`.
        let outcome = self
            .outcome
            .with(|cell| unsafe { (*cell).assume_init_ref() });
        let result = catch(|| callback(lend(outcome)))
            .map(|()| None)
            .map_err(CallbackPanicked);
        // Late callbacks that other threads added meanwhile.
        loop {
            let mut slow = self.lock();
            let callbacks = std::mem::take(&mut slow.callbacks);
            if callbacks.is_empty() {
                slow.lent = false;
                break;
            }
            drop(slow);
            let mut panics = Vec::new();
            for (_, callback) in callbacks {
                if let Err(message) = catch(|| callback(lend(outcome))) {
                    panics.push(message);
                }
            }
            self.lock().callback_panics.extend(panics);
        }
        result
    }

    /// Unregisters the callback that [`add_callback`](Task::add_callback) registered under
    /// `key`, unless it already ran or is running: dropped here, it never runs.
    fn remove_callback(&self, key: usize) {
        let removed = {
            let mut slow = self.lock();
            let at = slow.callbacks.iter().position(|(k, _)| *k == key);
            at.map(|at| slow.callbacks.remove(at)) // (`remove`: the others keep their order)
        };
        // Outside the lock: dropping a callback drops what it captured (user code).
        drop(removed);
    }

    /// Callbacks registered and not run yet.
    #[cfg(test)]
    pub(crate) fn registered_callbacks(&self) -> usize {
        self.lock().callbacks.len()
    }

    /// The phase word, for the queries.
    fn state(&self) -> usize {
        self.state.load(Ordering::Acquire)
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        // Relaxed: `&mut self`; whoever dropped the other references synchronised with us
        // through the job's reference count (`JobRef`).
        let cell = self.slow.load(Ordering::Relaxed);
        if !cell.is_null() {
            // SAFETY: installed from `Box::into_raw` by `cell`, freed only here, and
            // `&mut self` excludes every other access.
            drop(unsafe { Box::from_raw(cell) });
        }
        // Relaxed: whoever drops the last reference synchronised with every other user
        // through the job's reference count (`JobRef`).
        if matches!(self.state.load(Ordering::Relaxed) & PHASE, ENDING | DONE) {
            let outcome = &self.outcome;
            // SAFETY: in these phases the outcome is initialised, and `&mut self` excludes
            // every other access.
            let drop_outcome = || outcome.with_mut(|cell| unsafe { (*cell).assume_init_drop() });
            if std::mem::needs_drop::<T>() {
                // The outcome's `Drop` is user code: on a worker that counts itself idle
                // (nobody took the outcome, and the worker held the last reference), it
                // must not run where a submit may rely on that worker.
                crate::pool::outside_the_idle_count(drop_outcome);
            } else {
                drop_outcome();
            }
        }
    }
}

/// A queued job: its closure with the captured context (until a worker or a canceller
/// takes them), and the task its [`Handle`] watches. One allocation for both.
pub(crate) struct Job<F, T> {
    task: Task<T>,
    /// Initialised exactly while the task is `PENDING`: whoever moves it out of `PENDING`
    /// moves the closure out at once.
    closure: UnsafeCell<MaybeUninit<(F, Captured)>>,
}

// SAFETY: `closure` is the only field that is not `Sync`: it is accessed only by the one
// thread that moves the task out of `PENDING` (a compare-and-swap picks it) and then moved
// out, so it only moves between threads (`F: Send`; `Captured` is `Send`).
unsafe impl<F: Send, T: Send> Sync for Job<F, T> {}

impl<F, T> Job<F, T> {
    pub(crate) fn new(f: F, context: Captured) -> Job<F, T> {
        Job {
            task: Task::new(),
            closure: UnsafeCell::new(MaybeUninit::new((f, context))),
        }
    }

    /// Moves the closure out.
    ///
    /// # Safety
    ///
    /// The caller has just moved the task out of `PENDING` (so it alone may, once).
    unsafe fn take_closure(&self) -> (F, Captured) {
        // SAFETY: initialised while `PENDING`, which the caller just ended; nobody else
        // touches it from now on.
        self.closure
            .with(|cell| unsafe { (*cell).assume_init_read() })
    }

    /// Ends a job that has not started with `error`, dropping its closure: `true` if this
    /// call did, or if it was already cancelled and `error` is a cancellation.
    pub(crate) fn cancel_with(&self, error: TaskError) -> bool {
        match self.task.claim(&error) {
            Claim::Won => {
                // SAFETY: we just moved the task out of `PENDING`.
                let closure = unsafe { self.take_closure() };
                let waker = self.task.finish(Err(error), &|| {});
                self.task.wake(waker);
                // After the waiters are released: dropping the closure (its captures, its
                // context's values) is user code. A panic there is reported on the handle,
                // never let out: a shutdown failing many jobs must fail every one of them.
                if let Err(message) = catch(move || drop(closure)) {
                    self.task
                        .lock()
                        .callback_panics
                        .push(format!("dropping the cancelled job panicked: {message}"));
                }
                true
            }
            Claim::Lost(already) => already,
        }
    }
}

impl<F, T> Job<F, T>
where
    F: FnOnce() -> T,
{
    /// Runs the job unless it was cancelled, in its captured context when `propagate`; calls
    /// `finishing` once its done callbacks have run and before its waiters are released
    /// (see [`Task::finish`]); returns the waker for the caller to wake.
    #[must_use]
    pub(crate) fn run(
        &self,
        finishing: &dyn Fn(),
        propagate: bool,
        kept: &mut Kept,
        more: &mut dyn FnMut() -> bool,
    ) -> Option<Waker> {
        if !self.task.start() {
            return None; // cancelled while queued
        }
        // SAFETY: `start` just moved the task out of `PENDING`.
        let (f, context) = unsafe { self.take_closure() };
        let outcome = catch(|| context.run(propagate, kept, more, f)).map_err(TaskError::Panicked);
        if !kept.is_empty() && self.task.registered() {
            // Someone waits for this job or registered a callback, which runs on this worker
            // as the job ends: what the worker keeps of the values goes first, as the job's
            // own context would have, so that they find the last references gone (a lease
            // returned on drop). (One registered from now on: the window `finish` has too.)
            kept.release();
        }
        self.task.finish(outcome, finishing)
    }
}

impl<F, T> Drop for Job<F, T> {
    fn drop(&mut self) {
        // Relaxed: see `Task::drop`.
        if self.task.state.load(Ordering::Relaxed) & PHASE == PENDING {
            // SAFETY: still pending, so the closure is there; `&mut self` is exclusive.
            self.closure
                .with_mut(|cell| unsafe { (*cell).assume_init_drop() });
        }
    }
}

/// What a [`Handle`] sees of its job: the task, and cancelling (which drops the closure).
pub(crate) trait HasTask<T>: Send + Sync {
    fn task(&self) -> &Task<T>;
    fn cancel_with(&self, error: TaskError) -> bool;
}

impl<F: Send, T: Send> HasTask<T> for Counted<Job<F, T>> {
    fn task(&self) -> &Task<T> {
        &self.job().task
    }

    fn cancel_with(&self, error: TaskError) -> bool {
        self.job().cancel_with(error)
    }
}

/// The handle of a submitted job (Python's `concurrent.futures.Future`).
///
/// Wait for the outcome with [`result`](Handle::result) (blocking),
/// [`result_timeout`](Handle::result_timeout) (keeps the outcome when it times out) or
/// `.await` (it implements [`Future`], so async code can wait without blocking a runtime
/// thread). Dropping a handle does not cancel its job.
///
/// ```
/// use contexture_pool::ThreadPool;
/// let pool = ThreadPool::new();
/// let handle = pool.submit(|| 6 * 7).unwrap();
/// assert_eq!(handle.result(), Ok(42));
/// ```
pub struct Handle<T> {
    /// The job, which holds the task state (one allocation for both, from the pool's
    /// slot cache).
    pub(crate) job: JobRef<dyn HasTask<T>>,
}

impl<T> Handle<T> {
    fn task(&self) -> &Task<T> {
        self.job.task()
    }

    /// Blocks until the job has ended and returns its outcome.
    ///
    /// ```
    /// use contexture_pool::{TaskError, ThreadPool};
    /// let pool = ThreadPool::new();
    /// let h = pool.submit(|| -> u8 { panic!("bad input") }).unwrap();
    /// assert_eq!(h.result(), Err(TaskError::Panicked("bad input".into())));
    /// ```
    pub fn result(mut self) -> Result<T, TaskError> {
        self.take_until(None)
    }

    /// Waits at most `timeout` for the outcome. On [`TaskError::Timeout`] the outcome is not
    /// lost: call again later. Once an outcome was returned, later calls give
    /// [`TaskError::AlreadyTaken`].
    ///
    /// ```
    /// use contexture_pool::{TaskError, ThreadPool};
    /// use std::time::Duration;
    /// let pool = ThreadPool::new();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let mut h = pool.submit(move || rx.recv().map(|_| "done")).unwrap();
    /// assert_eq!(h.result_timeout(Duration::from_millis(10)), Err(TaskError::Timeout));
    /// tx.send(()).unwrap();
    /// assert_eq!(h.result_timeout(Duration::from_secs(60)), Ok(Ok("done")));
    /// ```
    pub fn result_timeout(&mut self, timeout: Duration) -> Result<T, TaskError> {
        self.take_until(Instant::now().checked_add(timeout))
    }

    /// Blocks until the job has ended (without taking its outcome); with a timeout, returns
    /// whether it ended in time.
    ///
    /// ```
    /// use contexture_pool::ThreadPool;
    /// use std::time::Duration;
    /// let pool = ThreadPool::new();
    /// let h = pool.submit(|| ()).unwrap();
    /// assert!(h.wait_timeout(Duration::from_secs(60)));
    /// assert!(h.done());
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.wait_until(Instant::now().checked_add(timeout))
    }

    /// Blocks until the job has ended, without taking its outcome.
    ///
    /// ```
    /// use contexture_pool::ThreadPool;
    /// let pool = ThreadPool::new();
    /// let h = pool.submit(|| 1).unwrap();
    /// h.wait();
    /// assert!(h.done());
    /// assert_eq!(h.result(), Ok(1), "waiting did not take the outcome");
    /// ```
    pub fn wait(&self) {
        self.wait_until(None);
    }

    pub(crate) fn wait_until(&self, deadline: Option<Instant>) -> bool {
        self.task().wait_until(deadline)
    }

    fn take_until(&mut self, deadline: Option<Instant>) -> Result<T, TaskError> {
        if !self.wait_until(deadline) {
            return Err(TaskError::Timeout);
        }
        let task = self.task();
        // SAFETY: `&mut self`: nobody else uses this handle meanwhile.
        unsafe { task.take(task.state()) }
    }

    /// Cancels the job if it has not started: then it never runs, its outcome is
    /// [`TaskError::Cancelled`] and its done callbacks run at once. `false` if it is running
    /// or has ended (`true` again for a job already cancelled).
    ///
    /// ```
    /// use contexture_pool::{TaskError, ThreadPool};
    /// let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let busy = pool.submit(move || rx.recv().unwrap()).unwrap();
    /// let queued = pool.submit(|| "never runs").unwrap();
    /// assert!(queued.cancel());
    /// assert!(queued.cancelled());
    /// tx.send(()).unwrap();
    /// assert_eq!(busy.result(), Ok(()));
    /// assert_eq!(queued.result(), Err(TaskError::Cancelled));
    /// ```
    pub fn cancel(&self) -> bool {
        self.job.cancel_with(TaskError::Cancelled)
    }

    /// Whether the job was cancelled: true as soon as a [`cancel`](Handle::cancel) has
    /// succeeded, on any thread (as in Python), while [`done`](Handle::done) turns true once
    /// its done callbacks have run.
    ///
    /// ```
    /// use contexture_pool::ThreadPool;
    /// let pool = ThreadPool::new();
    /// let h = pool.submit(|| ()).unwrap();
    /// h.wait();
    /// assert!(!h.cancelled(), "it ran");
    /// ```
    pub fn cancelled(&self) -> bool {
        // The kind is written with the compare-and-swap that decides the cancel.
        self.task().state() & KIND == CANCELLED
    }

    /// Whether a worker is running the job now.
    ///
    /// ```
    /// use contexture_pool::ThreadPool;
    /// let pool = ThreadPool::new();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let h = pool.submit(move || rx.recv().unwrap()).unwrap();
    /// while !h.running() {
    ///     std::thread::yield_now();
    /// }
    /// tx.send(()).unwrap();
    /// h.wait();
    /// assert!(!h.running());
    /// ```
    pub fn running(&self) -> bool {
        self.task().state() & PHASE == RUNNING
    }

    /// Whether the job has ended (finished, failed or cancelled).
    ///
    /// ```
    /// use contexture_pool::ThreadPool;
    /// let pool = ThreadPool::new();
    /// let h = pool.submit(|| ()).unwrap();
    /// h.wait();
    /// assert!(h.done());
    /// ```
    pub fn done(&self) -> bool {
        ended(self.task().state())
    }

    /// Runs `callback` with the outcome when the job ends: on the worker that ran it (or the
    /// thread that cancelled it), or at once on this thread if it has already ended (then a
    /// panic in `callback` comes back as `Err`; if another thread is running a late callback
    /// of this job at that moment, `callback` runs right after it, on that thread). A
    /// panicking callback never propagates: later ones are listed by
    /// [`callback_panics`](Handle::callback_panics).
    ///
    /// ```
    /// use contexture_pool::ThreadPool;
    /// use std::sync::mpsc;
    /// let pool = ThreadPool::new();
    /// let h = pool.submit(|| 2 + 2).unwrap();
    /// let (tx, rx) = mpsc::channel();
    /// h.add_done_callback(move |outcome| tx.send(outcome.copied().map_err(Clone::clone)).unwrap())
    ///     .unwrap();
    /// assert_eq!(rx.recv().unwrap(), Ok(4));
    /// ```
    pub fn add_done_callback(
        &self,
        callback: impl FnOnce(Result<&T, &TaskError>) + Send + 'static,
    ) -> Result<(), CallbackPanicked> {
        self.task().add_callback(Box::new(callback)).map(drop)
    }

    /// [`add_done_callback`](Handle::add_done_callback) that can be taken back: `Some(key)`
    /// for [`remove_done_callback`](Handle::remove_done_callback) when it was registered,
    /// `None` when it ran at once.
    pub(crate) fn add_done_callback_keyed(
        &self,
        callback: impl FnOnce(Result<&T, &TaskError>) + Send + 'static,
    ) -> Result<Option<usize>, CallbackPanicked> {
        self.task().add_callback(Box::new(callback))
    }

    /// Unregisters a callback added with `add_done_callback_keyed`, unless it ran already.
    pub(crate) fn remove_done_callback(&self, key: usize) {
        self.task().remove_callback(key);
    }

    /// The task, for the crate's unit tests.
    #[cfg(test)]
    pub(crate) fn task_for_tests(&self) -> &Task<T> {
        self.task()
    }

    /// Messages of done callbacks that panicked while not running at once on the thread that
    /// added them (on a worker, for instance), and of a cancelled job's closure whose `Drop`
    /// panicked.
    ///
    /// ```
    /// use contexture_pool::ThreadPool;
    /// let pool = ThreadPool::builder().max_workers(1).build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let h = pool.submit(move || rx.recv().unwrap()).unwrap();
    /// h.add_done_callback(|_| panic!("callback bug")).unwrap();
    /// tx.send(()).unwrap();
    /// h.wait();
    /// assert_eq!(h.callback_panics(), ["callback bug"]);
    /// ```
    pub fn callback_panics(&self) -> Vec<String> {
        self.task().lock().callback_panics.clone()
    }

    /// Whether the outcome is an error (not a timeout of the caller); `None` while not ended.
    pub(crate) fn failed(&self) -> Option<bool> {
        let state = self.task().state();
        ended(state).then_some(state & KIND == FAILED)
    }

    /// Identity, for de-duplicating handles.
    pub(crate) fn id(&self) -> *const () {
        self.job.addr()
    }
}

impl<T> Future for Handle<T> {
    type Output = Result<T, TaskError>;

    /// Resolves with the outcome; the waker is woken from the worker when the job ends.
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let task = self.task();
        let mut state = task.state();
        if !ended(state) {
            // Cloning and dropping wakers runs the executor's code: outside the lock.
            let waker = cx.waker().clone();
            let (mut slow, now) = task.lock_slow();
            if !ended(now) {
                let old = slow.waker.replace(waker);
                drop(slow);
                drop(old);
                return Poll::Pending;
            }
            drop(slow);
            drop(waker);
            state = now;
        }
        // SAFETY: `Pin<&mut Self>` (`Handle` is `Unpin`): nobody else uses this handle.
        Poll::Ready(unsafe { task.take(state) })
    }
}

impl<T> fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.task().state();
        let phase = match (state & PHASE, state & KIND) {
            (PENDING, _) => "pending",
            (RUNNING, _) => "running",
            (CANCELLING | ENDING, _) => "running callbacks",
            (DONE, CANCELLED) => "cancelled",
            (DONE, FAILED) => "failed",
            (DONE, _) => "finished",
            _ => "taken",
        };
        f.debug_struct("Handle").field("state", &phase).finish()
    }
}

#[cfg(all(test, not(contexture_loom)))]
mod tests {
    use super::{Job, Task};
    use crate::context::Captured;

    /// A batch keeps every job alive until its result is taken, so the job's size is the
    /// pool's memory (and page faults) per job: the outcome cell boxes the error.
    #[test]
    fn a_job_returning_a_word_fits_in_48_bytes() {
        assert_eq!(std::mem::size_of::<Task<u64>>(), 32);
        let n = 7u64;
        let job: Job<_, u64> = Job::new(move || n, Captured::capture(true));
        assert_eq!(std::mem::size_of_val(&job), 48);
    }
}
