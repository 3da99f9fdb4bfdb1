//! The shared state of one submitted job and its [`Handle`]: phases, result, waiters, done
//! callbacks and the async waker.

use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::{Duration, Instant};

use crossbeam_utils::Backoff;

use crate::error::{CallbackPanicked, TaskError};

/// A done callback: gets the outcome by reference.
type Callback<T> = Box<dyn FnOnce(Result<&T, &TaskError>) + Send>;

/// Where a job is in its life.
enum Phase<T> {
    /// Queued, not started: can still be cancelled.
    Pending,
    /// A worker is running it.
    Running,
    /// Done: its outcome, until a caller takes it.
    Done(Result<T, TaskError>),
    /// Ended; its outcome is lent to the done callbacks running now. Waiters and takers wait
    /// for them, so a job counts as done once its callbacks have run.
    Lent,
    /// Done, and the outcome was taken by [`Handle::result`] or by `.await`.
    Taken,
}

struct State<T> {
    phase: Phase<T>,
    /// Threads blocked in a wait on `done`: only then is it worth a wake-up (a futex call).
    waiters: usize,
    callbacks: Vec<Callback<T>>,
    callback_panics: Vec<String>,
    waker: Option<Waker>,
}

impl<T> State<T> {
    fn ended(&self) -> bool {
        matches!(self.phase, Phase::Done(_) | Phase::Taken)
    }
}

/// Shared between the [`Handle`] and the queued job.
pub(crate) struct Task<T> {
    state: Mutex<State<T>>,
    done: Condvar,
    /// Set once the job has ended (and its callbacks ran): lets a waiter spin briefly
    /// without the lock before it parks.
    ended: AtomicBool,
}

impl<T> Task<T> {
    pub(crate) fn new() -> Task<T> {
        Task {
            state: Mutex::new(State {
                phase: Phase::Pending,
                waiters: 0,
                callbacks: Vec::new(),
                callback_panics: Vec::new(),
                waker: None,
            }),
            done: Condvar::new(),
            ended: AtomicBool::new(false),
        }
    }

    /// The lock never guards user code (callbacks run after it is released), so a poisoned
    /// lock only means a panic elsewhere; its data is consistent.
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves a pending job to running. `false` if it was cancelled (or failed) meanwhile.
    pub(crate) fn start(&self) -> bool {
        let mut state = self.lock();
        if matches!(state.phase, Phase::Pending) {
            state.phase = Phase::Running;
            true
        } else {
            false
        }
    }

    /// Records the outcome of a job that has not ended yet, runs its done callbacks on this
    /// thread, then releases waiters. Returns whether this call ended the job.
    pub(crate) fn finish(&self, outcome: Result<T, TaskError>) -> bool {
        let state = self.lock();
        if matches!(state.phase, Phase::Done(_) | Phase::Lent | Phase::Taken) {
            return false;
        }
        self.end(state, outcome);
        true
    }

    /// Cancels a job that has not started (`true`, also for one already cancelled).
    pub(crate) fn cancel(&self) -> bool {
        self.cancel_with(TaskError::Cancelled)
    }

    /// Ends a job that has not started with `error` (`true` also when it already ended with
    /// that very error).
    pub(crate) fn cancel_with(&self, error: TaskError) -> bool {
        let state = self.lock();
        match &state.phase {
            Phase::Pending => {}
            Phase::Done(Err(e)) => return *e == error,
            _ => return false,
        }
        self.end(state, Err(error));
        true
    }

    /// Ends the job with `outcome`: runs the done callbacks with the outcome lent to them
    /// (lock released), stores it, then wakes every waiter and the waker.
    fn end<'a>(&'a self, mut state: MutexGuard<'a, State<T>>, outcome: Result<T, TaskError>) {
        let mut panics = Vec::new();
        // Callbacks added while earlier ones run (the job is not "done" until they have)
        // join the list: run until it stays empty.
        loop {
            let callbacks = std::mem::take(&mut state.callbacks);
            if callbacks.is_empty() {
                break;
            }
            state.phase = Phase::Lent;
            drop(state);
            for callback in callbacks {
                if let Err(payload) = catch_unwind(AssertUnwindSafe(|| callback(outcome.as_ref())))
                {
                    panics.push(crate::error::panic_message(payload.as_ref()));
                }
            }
            state = self.lock();
        }
        state.phase = Phase::Done(outcome);
        state.callback_panics.extend(panics);
        // Release: a waiter that sees it (Acquire) then locks and finds the outcome.
        self.ended.store(true, Ordering::Release);
        let waker = state.waker.take();
        let waiters = state.waiters > 0;
        drop(state);
        if waiters {
            self.done.notify_all();
        }
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Runs one callback at once for a job that has ended, on the caller's thread.
    fn run_now(&self, callback: Callback<T>) -> Result<(), CallbackPanicked> {
        let mut state = self.lock();
        // Only `&mut Handle` or `Handle` can take the outcome, and the caller holds `&Handle`,
        // so nobody takes it while it is lent.
        let outcome = match std::mem::replace(&mut state.phase, Phase::Lent) {
            Phase::Done(outcome) => Some(outcome),
            other => {
                state.phase = other;
                None
            }
        };
        drop(state);
        let result = match &outcome {
            Some(outcome) => catch_unwind(AssertUnwindSafe(|| callback(outcome.as_ref()))),
            // The outcome was already taken: the callback still learns that the job ended.
            None => catch_unwind(AssertUnwindSafe(|| callback(Err(&TaskError::AlreadyTaken)))),
        };
        if let Some(outcome) = outcome {
            let mut state = self.lock();
            state.phase = Phase::Done(outcome);
            if state.waiters > 0 {
                self.done.notify_all();
            }
        }
        result.map_err(|payload| CallbackPanicked(crate::error::panic_message(payload.as_ref())))
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
    /// The job, which holds the task state (one allocation for both).
    pub(crate) job: Arc<dyn HasTask<T>>,
}

/// Something that holds a job's [`Task`]: the queued job itself.
pub(crate) trait HasTask<T>: Send + Sync {
    fn task(&self) -> &Task<T>;
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
        // Spin a little first: in a busy pool most waits are short, and parking costs a
        // futex round trip on each side.
        let backoff = Backoff::new();
        while !backoff.is_completed() {
            if self.task().ended.load(Ordering::Acquire) {
                break;
            }
            backoff.snooze();
        }
        let mut state = self.task().lock();
        loop {
            if state.ended() {
                return true;
            }
            let now = Instant::now();
            if deadline.is_some_and(|deadline| now >= deadline) {
                return false;
            }
            state.waiters += 1;
            state = match deadline {
                None => self
                    .task()
                    .done
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    self.task()
                        .done
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
            state.waiters -= 1;
        }
    }

    fn take_until(&mut self, deadline: Option<Instant>) -> Result<T, TaskError> {
        if !self.wait_until(deadline) {
            return Err(TaskError::Timeout);
        }
        let mut state = self.task().lock();
        match std::mem::replace(&mut state.phase, Phase::Taken) {
            Phase::Done(outcome) => outcome,
            _ => Err(TaskError::AlreadyTaken),
        }
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
        self.task().cancel()
    }

    /// Whether the job was cancelled.
    ///
    /// ```
    /// use contexture_pool::ThreadPool;
    /// let pool = ThreadPool::new();
    /// let h = pool.submit(|| ()).unwrap();
    /// h.wait();
    /// assert!(!h.cancelled(), "it ran");
    /// ```
    pub fn cancelled(&self) -> bool {
        let state = self.task().lock();
        matches!(state.phase, Phase::Done(Err(TaskError::Cancelled)))
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
        matches!(self.task().lock().phase, Phase::Running)
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
        self.task().lock().ended()
    }

    /// Runs `callback` with the outcome when the job ends: on the worker that ran it, or at
    /// once on this thread if it has already ended (then a panic in `callback` comes back as
    /// `Err`). A panicking callback never propagates: later ones are listed by
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
        {
            let mut state = self.task().lock();
            if !state.ended() {
                state.callbacks.push(Box::new(callback));
                return Ok(());
            }
        }
        self.task().run_now(Box::new(callback))
    }

    /// Messages of done callbacks that panicked while running on a worker.
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
        let state = self.task().lock();
        if !state.ended() {
            return None;
        }
        match &state.phase {
            Phase::Done(outcome) => Some(matches!(outcome, Err(e) if *e != TaskError::Cancelled)),
            _ => Some(false),
        }
    }

    /// Identity, for de-duplicating handles.
    pub(crate) fn id(&self) -> *const () {
        Arc::as_ptr(&self.job).cast::<()>()
    }
}

impl<T> Future for Handle<T> {
    type Output = Result<T, TaskError>;

    /// Resolves with the outcome; the waker is woken from the worker when the job ends.
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let mut state = self.task().lock();
        if !state.ended() {
            state.waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        match std::mem::replace(&mut state.phase, Phase::Taken) {
            Phase::Done(outcome) => Poll::Ready(outcome),
            _ => Poll::Ready(Err(TaskError::AlreadyTaken)),
        }
    }
}

impl<T> fmt::Debug for Handle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.task().lock();
        let phase = match state.phase {
            Phase::Pending => "pending",
            Phase::Running => "running",
            Phase::Done(Err(TaskError::Cancelled)) => "cancelled",
            Phase::Done(Ok(_)) => "finished",
            Phase::Done(Err(_)) => "failed",
            Phase::Lent => "running callbacks",
            Phase::Taken => "taken",
        };
        f.debug_struct("Handle").field("state", &phase).finish()
    }
}
