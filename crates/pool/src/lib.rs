//! A `concurrent.futures`-style thread pool whose jobs run inside a copy of the submitter's
//! context.
//!
//! # Items
//!
//! - [`ThreadPool`] ([`ThreadPool::builder`] → [`Builder`]): [`submit`](ThreadPool::submit),
//!   [`try_submit`](ThreadPool::try_submit), [`map`](ThreadPool::map) /
//!   [`map_timeout`](ThreadPool::map_timeout) ([`Map`]), [`shutdown`](ThreadPool::shutdown).
//! - [`Handle<T>`]: [`result`](Handle::result), [`result_timeout`](Handle::result_timeout),
//!   [`wait_timeout`](Handle::wait_timeout), [`cancel`](Handle::cancel),
//!   [`cancelled`](Handle::cancelled), [`running`](Handle::running), [`done`](Handle::done),
//!   [`add_done_callback`](Handle::add_done_callback), and `.await` ([`Future`](std::future::Future)).
//! - Many handles: [`as_completed`] ([`AsCompleted`]), [`wait`] with [`ReturnWhen`].
//! - Errors: [`SubmitError`] (hands the closure back), [`TaskError`], [`BuildError`],
//!   [`CallbackPanicked`].
//!
//! # Example
//!
//! ```
//! use contexture_pool::{as_completed, ThreadPool};
//!
//! let pool = ThreadPool::builder().max_workers(4).build().unwrap();
//! let urls = ["a.example", "b.example", "c.example"];
//! let handles: Vec<_> = urls
//!     .iter()
//!     .map(|&url| pool.submit(move || format!("fetched {url}")).unwrap())
//!     .collect();
//! for handle in as_completed(&handles, None) {
//!     let handle = handle.unwrap();
//!     assert!(handle.done());
//! }
//! let pages: Vec<String> = handles.into_iter().map(|h| h.result().unwrap()).collect();
//! assert_eq!(pages[0], "fetched a.example");
//! ```
//!
//! # How it works
//!
//! Jobs go through an unbounded `crossbeam-channel` (a bound, when set, is a count of free
//! places under the pool lock, so `submit` can wait for room and `shutdown` can wake it).
//! Workers start on demand: `submit` first claims an idle worker (a counter that workers
//! increment when they go back to waiting, Python's `_idle_semaphore`) and starts a new worker
//! only when none is idle and fewer than `max_workers` exist. Once `max_workers` run, nobody
//! counts any more, and an unbounded pool's `submit` queues the job without the pool lock,
//! through a gate that shutdown closes (waiting for the submits under way) before it drains
//! or stops the queue. Shutdown queues one stop message per worker behind the jobs, so those
//! still run unless `cancel_pending` took them out first.
//! Each job carries the submitter's context as a [`Snapshot`](contexture_ctxvar::Snapshot)
//! (one pointer) and runs in a fresh context made from it, dropped with what the job set.
//! A panicking job is caught (`catch_unwind`) and becomes [`TaskError::Panicked`]; the
//! worker goes on. No user code (jobs, callbacks) runs under the pool lock.
//!
//! A job and the state its [`Handle`] watches are one allocation. That state is an atomic
//! phase word (pending, running, ending, done, taken) and the outcome, written once by
//! whoever owns the job (the worker that started it or the thread that cancelled it) and
//! published by the phase word; a lock, allocated on first use, serves only the slow
//! parts: parked waiters (after a brief spin), done callbacks and the async waker. So
//! ending a job nobody waits on takes no lock, and neither does taking its outcome.
//!
//! # Differences from Python
//!
//! - Each job runs in **its own** copy of the submitter's context, taken at `submit`: a set
//!   made inside a job never leaks into the next job on the same worker (in Python it does,
//!   since the worker's context carries over between jobs).
//! - The outcome is taken by value ([`Handle::result`]); a timed wait keeps it for later.
//! - Done callbacks run before waiters are released (a job is "done" once its callbacks ran).
//! - `map` yields `Result`s: one failed item does not end the iteration.
//!
//! # Performance
//!
//! `cargo xtask bench pool` (2 workers each, per job, ours and the anchors in one run; the
//! anchors move by ±50% between runs on a 2-core machine, so read the ratios as ranges):
//!
//! | operation | contexture | anchors | target |
//! |---|---:|---|---|
//! | submit + result, tiny jobs | 183 ns (114 ns without context propagation) | threadpool+channel 107 ns, rayon spawn+channel 107 ns, tokio `spawn_blocking` 550 ns | ≤ 1.0× the best: **not met** (1.7×; 1.06× without context) |
//! | `map` in order, per item | 599 ns (before the atomic task state) | rayon `par_iter` (ceiling) 3.8 ns, threadpool+channel 264 ns | report: 2.3× threadpool |
//! | submit + result vs Python | 540 ns (before the atomic task state) | CPython `ThreadPoolExecutor` 13.5 µs | ≥ 20× faster: met (25×) |
//!
//! Where the time goes (callgrind, ~1,150 instructions per job, down from ~1,500; perf):
//! `malloc`/`free` of the job are a third of the instructions, and on the wall clock the
//! kernel faulting in fresh heap pages for the jobs dominates, so the job's size matters
//! more than its instruction count. Next steps: the closure and the outcome sharing one
//! place in the job, and a smaller captured context (a `Context` is 56 bytes).
//!
//! # Cargo features
//!
//! None.

#![warn(missing_docs)]

mod context;
mod error;
mod gate;
mod loom;
mod map;
mod pool;
mod task;
mod wait;

pub use error::{BuildError, CallbackPanicked, SubmitError, TaskError};
pub use map::Map;
pub use pool::{Builder, ThreadPool};
pub use task::Handle;
pub use wait::{as_completed, wait, AsCompleted, ReturnWhen};

#[cfg(all(test, contexture_loom))]
mod loom_tests;
