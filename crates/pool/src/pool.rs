//! `ThreadPool` and its builder: on-demand workers, the job queue (optionally bounded),
//! submission, the initializer that can break the pool, and shutdown.

use std::cell::Cell;
use std::fmt;
use std::sync::{MutexGuard, PoisonError};
use std::task::Waker;
use std::thread::{self, JoinHandle, ThreadId};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use crossbeam_utils::CachePadded;

use crate::context::{Captured, Kept};
use crate::error::{catch, BuildError, SubmitError, TaskError};
use crate::gate::Gate;
use crate::idle::Idle;
use crate::loom::pool::{AtomicBool, AtomicUsize, Condvar, Mutex, Ordering};
use crate::loom::Arc;
use crate::slot::{self, CacheOwner, Counted, JobRef};
use crate::task::{Handle, HasTask, Job};

/// Numbers pools for their default thread-name prefix.
static POOLS: AtomicUsize = AtomicUsize::new(0);

type Initializer = Arc<dyn Fn() -> Result<(), String> + Send + Sync>;

/// A queued job, type-erased.
pub(crate) trait Runnable: Send + Sync {
    /// Runs the job unless it was cancelled; calls `finishing` after the job's closure
    /// returned and before its waiters are released. Returns the waker to wake.
    /// `kept` and `more`: see [`Kept`].
    fn run(
        &self,
        finishing: &dyn Fn(),
        propagate: bool,
        kept: &mut Kept,
        more: &mut dyn FnMut() -> bool,
    ) -> Option<Waker>;
    /// Wakes what `run` returned (a panic in it is reported on the handle).
    fn wake(&self, waker: Option<Waker>);
    /// Ends a job that has not started with `error` (shutdown, broken pool); `true` if this
    /// call did.
    fn fail(&self, error: TaskError) -> bool;
}

impl<F, T> Runnable for Counted<Job<F, T>>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    fn run(
        &self,
        finishing: &dyn Fn(),
        propagate: bool,
        kept: &mut Kept,
        more: &mut dyn FnMut() -> bool,
    ) -> Option<Waker> {
        self.job().run(finishing, propagate, kept, more)
    }

    fn wake(&self, waker: Option<Waker>) {
        self.task().wake(waker);
    }

    fn fail(&self, error: TaskError) -> bool {
        self.job().cancel_with(error)
    }
}

/// Makes the job of `f` in a slot of `cache`: its handle, and its reference for the queue.
pub(crate) fn new_job<F, T>(
    cache: &CacheOwner,
    f: F,
    context: Captured,
) -> (Handle<T>, JobRef<dyn Runnable>)
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let job = slot::alloc(Job::new(f, context), cache);
    // SAFETY: `alloc` made two references to `job`, one for each `JobRef`; both pointers
    // are unsizing coercions of it (same address), to traits that `Counted<Job<F, T>>`
    // implements.
    unsafe {
        (
            Handle {
                job: JobRef::from_raw(job),
            },
            JobRef::from_raw(job),
        )
    }
}

/// Settings chosen with [`Builder`].
struct Config {
    max_workers: usize,
    prefix: String,
    initializer: Option<Initializer>,
    propagate_context: bool,
    stack_size: Option<usize>,
    queue_bound: Option<usize>,
}

struct PoolState {
    /// Join handles of the workers that nobody has started to join.
    workers: Vec<JoinHandle<()>>,
    /// Workers that a `shutdown(wait = true)` caller is joining right now.
    joining: Vec<ThreadId>,
    /// The pool's own workers that are inside `shutdown(wait = true)` (called from a job):
    /// another such worker does not wait for them (each would wait for the other).
    waiting_workers: Vec<ThreadId>,
    /// Workers started so far; never decreases, whoever holds or joins their handles (the
    /// count of stops to send, and the next worker's number).
    started: usize,
    /// One stop per started worker has been queued (by the shutdown or the break that came
    /// first). No worker starts afterwards: both refuse submits first.
    stopping: bool,
    shutdown: bool,
    broken: Option<String>,
    /// Free places in a bounded queue.
    room: usize,
}

/// What the queue carries: a job, or `None`, which tells one worker to stop once the jobs
/// queued before it are done (one is sent per worker at shutdown).
type Message = Option<JobRef<dyn Runnable>>;

struct Shared {
    jobs_tx: Sender<Message>,
    jobs_rx: Receiver<Message>,
    state: Mutex<PoolState>,
    /// Signalled when room frees up in a bounded queue, and at shutdown.
    room_freed: Condvar,
    /// Signalled when a `shutdown(wait = true)` caller has joined a worker, or stops waiting.
    joined: Condvar,
    /// Idle workers that nobody has claimed yet (Python's `_idle_semaphore`). Kept only
    /// until `max_workers` run (see `all_started`).
    idle: Idle,
    /// Set once `max_workers` workers run: from then on no submit starts a worker, so
    /// nobody needs `idle` and the workers stop counting. (Counted for every job, `idle`
    /// was a cache line written by the submitter and every worker per job: measured ~25% of
    /// a tiny job's time.)
    all_started: AtomicBool,
    /// Lets submits on the fast path (see `submit_inner`) queue jobs without the pool lock;
    /// closed under the pool lock when the pool shuts down or breaks. On a cache line of its
    /// own: every submit writes it twice, and the workers read the fields around it.
    gate: CachePadded<Gate>,
    /// Where jobs' memory comes from and goes back to (bounded; freed with the pool).
    cache: CacheOwner,
    config: Config,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // No user code runs under this lock.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Claims an idle worker for a new job, if there is one.
    fn claim_idle(&self) -> bool {
        self.idle.claim()
    }

    /// Returns one place to a bounded queue.
    fn free_room(&self) {
        if self.config.queue_bound.is_some() {
            self.lock().room += 1;
            self.room_freed.notify_one();
        }
    }
}

/// Configures a [`ThreadPool`].
///
/// ```
/// use contexture_pool::ThreadPool;
/// let pool = ThreadPool::builder()
///     .max_workers(2)
///     .thread_name_prefix("fetch")
///     .queue_bound(100)
///     .build()
///     .unwrap();
/// let name = pool.submit(|| std::thread::current().name().map(str::to_owned)).unwrap();
/// assert_eq!(name.result().unwrap().as_deref(), Some("fetch_0"));
/// ```
pub struct Builder {
    max_workers: Option<usize>,
    prefix: Option<String>,
    initializer: Option<Initializer>,
    propagate_context: bool,
    stack_size: Option<usize>,
    queue_bound: Option<usize>,
}

impl Builder {
    /// The most workers the pool starts (default `min(32, cpus + 4)`, Python's default).
    ///
    /// ```
    /// use contexture_pool::{BuildError, ThreadPool};
    /// assert_eq!(ThreadPool::builder().max_workers(3).build().unwrap().max_workers(), 3);
    /// assert_eq!(ThreadPool::builder().max_workers(0).build().err(), Some(BuildError::ZeroWorkers));
    /// ```
    pub fn max_workers(mut self, n: usize) -> Builder {
        self.max_workers = Some(n);
        self
    }

    /// Workers are named `{prefix}_{n}` (default `contexture-pool-{pool number}`). A NUL
    /// byte in it is [`BuildError::NulInThreadName`].
    ///
    /// ```
    /// use contexture_pool::{BuildError, ThreadPool};
    /// let pool = ThreadPool::builder().thread_name_prefix("io").build().unwrap();
    /// let name = pool.submit(|| std::thread::current().name().map(str::to_owned)).unwrap();
    /// assert_eq!(name.result().unwrap().as_deref(), Some("io_0"));
    /// let nul = ThreadPool::builder().thread_name_prefix("a\0b").build();
    /// assert_eq!(nul.err(), Some(BuildError::NulInThreadName));
    /// ```
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> Builder {
        self.prefix = Some(prefix.into());
        self
    }

    /// Runs once at the start of each worker. If it returns `Err` or panics, the pool breaks:
    /// pending jobs fail with [`TaskError::BrokenPool`] and later submits are refused.
    ///
    /// ```
    /// use contexture_pool::{SubmitError, TaskError, ThreadPool};
    /// let pool = ThreadPool::builder()
    ///     .initializer(|| Err("no database".to_string()))
    ///     .build()
    ///     .unwrap();
    /// let h = pool.submit(|| 1).unwrap();
    /// assert_eq!(h.result(), Err(TaskError::BrokenPool("no database".into())));
    /// assert!(matches!(pool.submit(|| 2), Err(SubmitError::Broken(..))));
    /// ```
    pub fn initializer(
        mut self,
        init: impl Fn() -> Result<(), String> + Send + Sync + 'static,
    ) -> Builder {
        self.initializer = Some(Arc::new(init));
        self
    }

    /// Whether each job runs in a copy of the submitter's context (default `true`).
    ///
    /// ```
    /// use contexture_ctxvar::ContextVar;
    /// use contexture_pool::ThreadPool;
    /// static USER: ContextVar<&str> = ContextVar::new("user");
    /// let _user = USER.set_scoped("alice");
    /// let carried = ThreadPool::new();
    /// assert_eq!(carried.submit(|| USER.get()).unwrap().result(), Ok(Some("alice")));
    /// let plain = ThreadPool::builder().propagate_context(false).build().unwrap();
    /// assert_eq!(plain.submit(|| USER.get()).unwrap().result(), Ok(None));
    /// ```
    pub fn propagate_context(mut self, on: bool) -> Builder {
        self.propagate_context = on;
        self
    }

    /// Stack size of each worker, in bytes (default: std's).
    ///
    /// ```
    /// use contexture_pool::ThreadPool;
    /// let pool = ThreadPool::builder().stack_size(4 << 20).build().unwrap();
    /// assert_eq!(pool.submit(|| [0u8; 1 << 20].len()).unwrap().result(), Ok(1 << 20));
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Builder {
        self.stack_size = Some(bytes);
        self
    }

    /// Bounds the queue of jobs not yet started: `submit` then waits for room and
    /// `try_submit` hands the closure back when full (backpressure). Default: unbounded.
    /// `0` is [`BuildError::ZeroQueueBound`] (no job could ever be queued; Python's
    /// `queue.Queue` reads 0 as "unbounded", which here is leaving the bound out).
    ///
    /// ```
    /// use contexture_pool::{BuildError, ThreadPool};
    /// let pool = ThreadPool::builder().queue_bound(8).build().unwrap();
    /// assert_eq!(pool.submit(|| 1).unwrap().result(), Ok(1));
    /// let zero = ThreadPool::builder().queue_bound(0).build();
    /// assert_eq!(zero.err(), Some(BuildError::ZeroQueueBound));
    /// ```
    pub fn queue_bound(mut self, jobs: usize) -> Builder {
        self.queue_bound = Some(jobs);
        self
    }

    /// Builds the pool. No worker starts before the first job. Errors: `max_workers(0)`,
    /// `queue_bound(0)`, a NUL byte in the thread-name prefix ([`BuildError`]).
    ///
    /// ```
    /// use contexture_pool::ThreadPool;
    /// let pool = ThreadPool::builder().build().unwrap();
    /// assert_eq!(pool.workers(), 0, "no worker before the first job");
    /// ```
    pub fn build(self) -> Result<ThreadPool, BuildError> {
        if self.queue_bound == Some(0) {
            return Err(BuildError::ZeroQueueBound);
        }
        if self.prefix.as_ref().is_some_and(|p| p.contains('\0')) {
            // Checked here: std would panic at the first spawn, inside `submit`.
            return Err(BuildError::NulInThreadName);
        }
        match self.max_workers.unwrap_or_else(default_max_workers) {
            0 => Err(BuildError::ZeroWorkers),
            max_workers => Ok(self.build_with(max_workers)),
        }
    }

    fn build_with(self, max_workers: usize) -> ThreadPool {
        let prefix = self.prefix.unwrap_or_else(|| {
            format!("contexture-pool-{}", POOLS.fetch_add(1, Ordering::Relaxed))
        });
        let (jobs_tx, jobs_rx) = crossbeam_channel::unbounded();
        ThreadPool {
            shared: Arc::new(Shared {
                jobs_tx,
                jobs_rx,
                state: Mutex::new(PoolState {
                    workers: Vec::new(),
                    joining: Vec::new(),
                    waiting_workers: Vec::new(),
                    started: 0,
                    stopping: false,
                    shutdown: false,
                    broken: None,
                    room: self.queue_bound.unwrap_or(usize::MAX),
                }),
                room_freed: Condvar::new(),
                joined: Condvar::new(),
                idle: Idle::new(),
                all_started: AtomicBool::new(false),
                gate: CachePadded::new(Gate::new()),
                cache: CacheOwner::new(),
                config: Config {
                    max_workers,
                    prefix,
                    initializer: self.initializer,
                    propagate_context: self.propagate_context,
                    stack_size: self.stack_size,
                    queue_bound: self.queue_bound,
                },
            }),
        }
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("max_workers", &self.max_workers)
            .field("thread_name_prefix", &self.prefix)
            .field("initializer", &self.initializer.is_some())
            .field("propagate_context", &self.propagate_context)
            .field("stack_size", &self.stack_size)
            .field("queue_bound", &self.queue_bound)
            .finish()
    }
}

/// Python's default: `min(32, cpus + 4)`.
fn default_max_workers() -> usize {
    let cpus = thread::available_parallelism().map_or(1, |n| n.get());
    (cpus + 4).min(32)
}

/// A pool of worker threads that runs submitted closures and hands back a [`Handle`] for
/// each (Python's `concurrent.futures.ThreadPoolExecutor`).
///
/// Workers start on demand, up to `max_workers`; an idle worker is reused before a new one
/// starts. Each job runs inside a copy of the submitter's context, taken at `submit`.
/// Dropping the pool is `shutdown(true, false)`: queued jobs still run, then the workers are
/// joined (their thread-locals, including `contexture::local` values, are dropped by then).
///
/// ```
/// use contexture_pool::ThreadPool;
/// let pool = ThreadPool::new();
/// let handles: Vec<_> = (1..=3).map(|n| pool.submit(move || n * n).unwrap()).collect();
/// let squares: Vec<i32> = handles.into_iter().map(|h| h.result().unwrap()).collect();
/// assert_eq!(squares, [1, 4, 9]);
/// ```
pub struct ThreadPool {
    shared: Arc<Shared>,
}

impl Default for ThreadPool {
    fn default() -> ThreadPool {
        ThreadPool::new()
    }
}

impl ThreadPool {
    /// A pool with the default settings.
    ///
    /// ```
    /// use contexture_pool::ThreadPool;
    /// let pool = ThreadPool::new();
    /// assert_eq!(pool.submit(|| "hi").unwrap().result(), Ok("hi"));
    /// ```
    pub fn new() -> ThreadPool {
        ThreadPool::builder().build_with(default_max_workers())
    }

    /// Starts configuring a pool.
    ///
    /// ```
    /// use contexture_pool::ThreadPool;
    /// let pool = ThreadPool::builder().max_workers(2).build().unwrap();
    /// assert_eq!(pool.max_workers(), 2);
    /// ```
    pub fn builder() -> Builder {
        Builder {
            max_workers: None,
            prefix: None,
            initializer: None,
            propagate_context: true,
            stack_size: None,
            queue_bound: None,
        }
    }

    /// The most workers this pool starts.
    ///
    /// ```
    /// use contexture_pool::ThreadPool;
    /// let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    /// assert_eq!(ThreadPool::new().max_workers(), (cpus + 4).min(32));
    /// ```
    pub fn max_workers(&self) -> usize {
        self.shared.config.max_workers
    }

    /// Workers started so far (and not yet joined).
    ///
    /// ```
    /// use contexture_pool::ThreadPool;
    /// let pool = ThreadPool::builder().max_workers(4).build().unwrap();
    /// for n in 0..3 {
    ///     pool.submit(move || n).unwrap().result().unwrap();
    /// }
    /// assert_eq!(pool.workers(), 1, "an idle worker is reused before a new one starts");
    /// ```
    pub fn workers(&self) -> usize {
        let state = self.shared.lock();
        state.workers.len() + state.joining.len()
    }

    /// Queues `f`; waits for room when the queue is bounded and full. Refused, with `f` handed
    /// back, after shutdown or when the pool is broken.
    ///
    /// ```
    /// use contexture_pool::{SubmitError, ThreadPool};
    /// let pool = ThreadPool::new();
    /// assert_eq!(pool.submit(|| 2 + 2).unwrap().result(), Ok(4));
    /// pool.shutdown(true, false);
    /// match pool.submit(|| 5) {
    ///     Err(SubmitError::ShutDown(job)) => assert_eq!(job(), 5), // handed back
    ///     _ => unreachable!(),
    /// }
    /// ```
    pub fn submit<F, T>(&self, f: F) -> Result<Handle<T>, SubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.submit_inner(f, |f| f, true)
    }

    /// Like [`submit`](ThreadPool::submit), but hands `f` back in [`SubmitError::Full`] instead
    /// of waiting when a bounded queue is full.
    ///
    /// ```
    /// use contexture_pool::{SubmitError, ThreadPool};
    /// let pool = ThreadPool::builder().max_workers(1).queue_bound(1).build().unwrap();
    /// let (tx, rx) = std::sync::mpsc::channel::<()>();
    /// let busy = pool.submit(move || rx.recv().unwrap()).unwrap();
    /// while !busy.running() { std::thread::yield_now(); }
    /// let queued = pool.try_submit(|| ()).unwrap();
    /// assert!(matches!(pool.try_submit(|| ()), Err(SubmitError::Full(_))));
    /// tx.send(()).unwrap();
    /// assert!(busy.result().is_ok() && queued.result().is_ok());
    /// ```
    pub fn try_submit<F, T>(&self, f: F) -> Result<Handle<T>, SubmitError<F>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.submit_inner(f, |f| f, false)
    }

    /// Submits the job that `make` builds from `payload`, built only once the pool has
    /// accepted it: a refusal hands `payload` back (the closure for `submit`, the item for
    /// `map`).
    #[inline]
    pub(crate) fn submit_inner<P, F, T>(
        &self,
        payload: P,
        make: impl FnOnce(P) -> F,
        wait_for_room: bool,
    ) -> Result<Handle<T>, SubmitError<P>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let f = payload;
        let shared = &self.shared;
        // The fast path: every worker runs and the queue is unbounded, so a submit only has
        // to queue the job, which the gate lets it do without the pool lock (measured: the
        // lock's two atomic operations were a fifth of an uncontended submit, and contended
        // with the workers a third of a submit).
        if shared.all_started.load(Ordering::Relaxed) && shared.config.queue_bound.is_none() {
            if let Some(_pass) = shared.gate.enter() {
                let (handle, job) = new_job(
                    &shared.cache,
                    make(f),
                    Captured::capture(shared.config.propagate_context),
                );
                let _ = shared.jobs_tx.send(Some(job));
                return Ok(handle);
            }
            // Closed: shut down or broken; the locked path below says which.
        }
        let mut state = shared.lock();
        loop {
            if state.shutdown {
                return Err(SubmitError::ShutDown(f));
            }
            if let Some(why) = &state.broken {
                return Err(SubmitError::Broken(f, why.clone()));
            }
            if state.room > 0 {
                break;
            }
            if !wait_for_room {
                return Err(SubmitError::Full(f));
            }
            state = shared
                .room_freed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        // An idle worker's token is claimed before the job is sent: claimed after, it could
        // be taken first by that very worker, which claims whatever token is left once it has
        // received a job (Miri found this: a second worker started for one job at a time).
        let claimed = state.started >= shared.config.max_workers || shared.claim_idle();
        // The worker starts before the job exists: if the OS refuses the first one, the pool
        // breaks and the closure comes back inside the error.
        if !claimed {
            if let Err((why, failed)) = spawn_worker(shared, &mut state) {
                drop(state);
                shared.room_freed.notify_all();
                fail_all(failed);
                return Err(SubmitError::Broken(f, why));
            }
        }
        let (handle, job) = new_job(
            &shared.cache,
            make(f),
            Captured::capture(shared.config.propagate_context),
        );
        if shared.config.queue_bound.is_some() {
            state.room -= 1;
        }
        // Sent under the lock, so that shutdown sees every job queued before it. The channel
        // is unbounded (the bound is `room`), so this never blocks.
        let _ = shared.jobs_tx.send(Some(job));
        Ok(handle)
    }

    /// Refuses new work; with `cancel_pending`, cancels every queued job; with `wait`, joins
    /// every worker before returning (queued jobs that were not cancelled run first), also
    /// when another call (or the pool's drop) is joining them at the same time.
    /// Calling it again is harmless; calling it from a job does not join that job's worker
    /// (nor the workers of other jobs that are waiting in `shutdown` too).
    ///
    /// ```
    /// use contexture_pool::{SubmitError, ThreadPool};
    /// let pool = ThreadPool::new();
    /// let h = pool.submit(|| "ran").unwrap();
    /// pool.shutdown(true, false);
    /// assert_eq!(h.result(), Ok("ran"));
    /// assert!(matches!(pool.submit(|| "late"), Err(SubmitError::ShutDown(_))));
    /// ```
    pub fn shutdown(&self, wait: bool, cancel_pending: bool) {
        let shared = &self.shared;
        let cancelled = {
            let mut state = shared.lock();
            shared.gate.close();
            let cancelled = if cancel_pending {
                drain(shared, || TaskError::Cancelled)
            } else {
                Vec::new()
            };
            state.shutdown = true;
            send_stops(shared, &mut state);
            cancelled
        };
        shared.room_freed.notify_all();
        // Outside the lock: cancelling runs the jobs' done callbacks.
        fail_all(cancelled);
        if wait {
            join_workers(shared);
        }
    }
}

/// Joins every worker of a pool that is stopping (except the caller, if it is one), sharing
/// the work with any other caller doing the same: returns once each of those workers has
/// been joined, by this call or another.
fn join_workers(shared: &Shared) {
    let me = thread::current().id();
    let mut state = shared.lock();
    let is_worker =
        state.workers.iter().any(|w| w.thread().id() == me) || state.joining.contains(&me);
    if is_worker {
        state.waiting_workers.push(me);
        // A worker that skipped this one while it was not waiting must look again.
        shared.joined.notify_all();
    }
    loop {
        // Who this call waits for: everybody but itself, and for a worker, not the other
        // workers waiting here (each would wait for the other).
        let waits_for = |state: &PoolState, id: ThreadId| {
            id != me && !(is_worker && state.waiting_workers.contains(&id))
        };
        if let Some(at) = state
            .workers
            .iter()
            .position(|w| waits_for(&state, w.thread().id()))
        {
            let worker = state.workers.swap_remove(at);
            let id = worker.thread().id();
            state.joining.push(id);
            drop(state);
            // A worker never panics: jobs, callbacks, the initializer and whatever user code
            // runs around a job on it are caught.
            let _ = worker.join();
            state = shared.lock();
            state.joining.retain(|&j| j != id);
            shared.joined.notify_all();
        } else if state.joining.iter().any(|&id| waits_for(&state, id)) {
            state = shared
                .joined
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        } else {
            break;
        }
    }
    if is_worker {
        state.waiting_workers.retain(|&id| id != me);
        // Other waiting workers skipped this one; a caller that is not a worker never did.
        shared.joined.notify_all();
    }
}

/// Starts a worker. If the OS refuses and no worker was ever started, the pool breaks:
/// the reason comes back with the queued jobs, to be failed once the lock is released.
#[allow(clippy::type_complexity)]
fn spawn_worker(
    shared: &Arc<Shared>,
    state: &mut PoolState,
) -> Result<(), (String, Vec<(JobRef<dyn Runnable>, TaskError)>)> {
    let index = state.started;
    let mut builder = thread::Builder::new().name(format!("{}_{index}", shared.config.prefix));
    if let Some(bytes) = shared.config.stack_size {
        builder = builder.stack_size(bytes);
    }
    let for_worker = shared.clone();
    match builder.spawn(move || worker(&for_worker)) {
        Ok(handle) => {
            state.workers.push(handle);
            state.started += 1;
            if state.started >= shared.config.max_workers {
                // Relaxed: a hint that only saves work; a worker that still counts
                // meanwhile only updates a number nobody reads any more.
                shared.all_started.store(true, Ordering::Relaxed);
            }
            Ok(())
        }
        // The OS refused a thread: the job is queued for the existing workers; with none
        // at all, the pool cannot run anything, so it breaks.
        Err(e) if state.started == 0 => {
            let why = format!("could not start a worker: {e}");
            let failed = break_locked(shared, state, why.clone());
            Err((why, failed))
        }
        Err(_) => Ok(()),
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        self.shutdown(true, false);
    }
}

impl fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("ThreadPool")
            .field("max_workers", &self.shared.config.max_workers)
            .field("workers", &(state.workers.len() + state.joining.len()))
            .field("queued", &self.shared.jobs_rx.len())
            .field("shutdown", &state.shutdown)
            .field("broken", &state.broken)
            .finish()
    }
}

/// Marks the pool broken and takes every queued job out, each with the error to fail it
/// with once the caller has released the lock (failing runs done callbacks: user code).
#[must_use]
fn break_locked(
    shared: &Shared,
    state: &mut PoolState,
    why: String,
) -> Vec<(JobRef<dyn Runnable>, TaskError)> {
    state.broken = Some(why.clone());
    shared.gate.close();
    let failed = drain(shared, || TaskError::BrokenPool(why.clone()));
    // Stop the other workers too.
    send_stops(shared, state);
    failed
}

/// Takes every queued job out, each with the error to fail it with. The stops it finds
/// (queued by an earlier shutdown or break) go back in: each is some worker's only way out.
#[must_use]
fn drain(shared: &Shared, error: impl Fn() -> TaskError) -> Vec<(JobRef<dyn Runnable>, TaskError)> {
    let mut failed = Vec::new();
    let mut stops = 0;
    while let Ok(message) = shared.jobs_rx.try_recv() {
        match message {
            Some(job) => failed.push((job, error())),
            None => stops += 1,
        }
    }
    for _ in 0..stops {
        let _ = shared.jobs_tx.send(None);
    }
    failed
}

/// Queues one stop per worker ever started, behind the jobs still queued (so they still
/// run), once: by the first shutdown or break. Counted by `started`, not by the join
/// handles, which a waiting shutdown may hold.
fn send_stops(shared: &Shared, state: &mut PoolState) {
    if !state.stopping {
        state.stopping = true;
        for _ in 0..state.started {
            let _ = shared.jobs_tx.send(None);
        }
    }
}

/// Ends jobs that never started with their error. Call without the pool lock held.
fn fail_all(jobs: Vec<(JobRef<dyn Runnable>, TaskError)>) {
    for (job, error) in jobs {
        let _ = job.fail(error);
    }
}

/// The loop of one worker thread.
fn worker(shared: &Arc<Shared>) {
    if let Some(init) = &shared.config.initializer {
        let outcome = catch(|| init()).unwrap_or_else(Err);
        if let Err(why) = outcome {
            let failed = {
                let mut state = shared.lock();
                break_locked(shared, &mut state, why)
            };
            shared.room_freed.notify_all();
            fail_all(failed);
            return;
        }
    }
    // Set when the worker must not count itself idle at the top of the loop: it already did
    // (just before releasing a job's waiters, so that a caller who submits again right after
    // `result()` finds it idle instead of starting a new worker), or it is new. A new worker
    // was started for a job queued for it; counted idle, it could be claimed by the next
    // submit while it takes that job, and the next job would wait with no worker although
    // `max_workers` allows one (Miri found this: two jobs meeting at a barrier deadlocked).
    let counted_idle = std::cell::Cell::new(true);
    let counting = || !shared.all_started.load(Ordering::Relaxed);
    let become_idle = || {
        if counting() {
            shared.idle.add();
            counted_idle.set(true);
        }
    };
    // The captured values of the last jobs, dropped together, and the next message when a
    // job's end looked whether more are queued (see `Kept`).
    let mut kept = Kept::new();
    let mut next: Option<Message> = None;
    loop {
        // Whether this worker counts as idle from here until it takes a job.
        let idle_now = counted_idle.replace(false) || {
            let counting = counting();
            if counting {
                shared.idle.add();
            }
            counting
        };
        // The pool holds a sender as long as it exists, so the channel only ends with a
        // stop. (`kept`, if it still holds anything then, is released by its drop.)
        let message = match next.take().map_or_else(|| shared.jobs_rx.try_recv(), Ok) {
            Ok(message) => message,
            Err(TryRecvError::Disconnected) => return,
            Err(TryRecvError::Empty) => {
                if !kept.is_empty() {
                    // No job holds these values any more: dropped before waiting. Possibly
                    // the last references, so user code (a value's `Drop`), run as such
                    // when this worker counts as idle.
                    if idle_now {
                        after_idle(shared, || kept.release());
                    } else {
                        kept.release();
                    }
                }
                match shared.jobs_rx.recv() {
                    Ok(message) => message,
                    Err(_) => return,
                }
            }
        };
        let Some(job) = message else {
            return;
        };
        // This worker is busy now, whether or not a submitter claimed its token.
        if counting() {
            let _ = shared.claim_idle();
        }
        shared.free_room();
        // Whether more is queued: the next message is taken now, for this worker.
        let mut more = || {
            if next.is_none() {
                next = shared.jobs_rx.try_recv().ok();
            }
            next.is_some()
        };
        let propagate = shared.config.propagate_context;
        // The job's own panics become its outcome; this guards what runs around it on this
        // thread. The panic hook has reported it; the worker goes on serving.
        let waker = catch(|| job.run(&become_idle, propagate, &mut kept, &mut more))
            .ok()
            .flatten();
        if counted_idle.get() {
            // This worker counts as idle, yet may still run user code: the waker (the
            // executor's `wake`) and, when the handle is gone and the outcome was not taken,
            // the outcome's `Drop` (which `Task`'s drop hands to `outside_the_idle_count`).
            if waker.is_some() {
                after_idle(shared, || job.wake(waker));
            }
            IDLE_WORKER.with(|idle| idle.set(Some(shared.clone())));
            let _ = catch(move || drop(job));
            IDLE_WORKER.with(|idle| idle.set(None));
        } else {
            let _ = catch(move || {
                if waker.is_some() {
                    job.wake(waker); // (a virtual call: not for every job)
                }
                drop(job);
            });
        }
    }
}

thread_local! {
    /// On a worker that counts itself idle while it drops its reference to the job it
    /// ended: its pool (else `None`).
    static IDLE_WORKER: Cell<Option<Arc<Shared>>> = const { Cell::new(None) };
}

/// Runs `user_code` (an outcome's `Drop`) where it is dropped: on a worker that counts itself
/// idle, through [`after_idle`] (a panic is then caught there); elsewhere as is.
pub(crate) fn outside_the_idle_count(user_code: impl FnOnce()) {
    // `try_with`: an outcome may be dropped by another thread-local's destructor.
    match IDLE_WORKER.try_with(Cell::take).ok().flatten() {
        None => user_code(),
        Some(shared) => {
            after_idle(&shared, user_code);
            IDLE_WORKER.with(|idle| idle.set(Some(shared)));
        }
    }
}

/// Runs `user_code` on a worker that has counted itself idle, without letting a submit rely
/// on that: user code that submits to the pool and waits for that job would otherwise wait
/// for ever when the submit claimed this very worker instead of starting one.
#[cold]
fn after_idle(shared: &Arc<Shared>, user_code: impl FnOnce()) {
    if shared.idle.take_back() {
        // No submit counts on this worker meanwhile.
        let _ = catch(user_code);
        shared.idle.add();
        return;
    }
    // Every idle token is claimed: some queued job counts on this worker, and `user_code`
    // may wait for it. Start the worker that the submit would have started.
    {
        let mut state = shared.lock();
        if !state.stopping && state.started < shared.config.max_workers {
            // With one worker started at least (this one), a refusal does not break the pool.
            let _ = spawn_worker(shared, &mut state);
        }
    }
    let _ = catch(user_code);
}
