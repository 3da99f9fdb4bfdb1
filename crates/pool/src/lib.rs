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
//! - Errors: [`SubmitError`] (hands the closure back), [`MapError`] (hands the items back),
//!   [`TaskError`], [`BuildError`], [`CallbackPanicked`].
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
//! only when none is idle and fewer than `max_workers` exist (user code a worker still runs
//! after counting itself idle — a waker, an outcome's `Drop` — runs with that worker's token
//! taken back, so a submit it makes starts a worker instead of waiting for it). Once
//! `max_workers` run, nobody counts any more, and an unbounded pool's `submit` queues the
//! job without the pool lock, through a gate that shutdown closes (waiting for the submits
//! under way) before it drains or stops the queue. The first shutdown (or break) queues one
//! stop message per worker ever started behind the jobs, so those still run unless
//! `cancel_pending` took them out first; a later drain of the queue puts back the stops it
//! took. Every `shutdown(wait = true)` (and the drop) returns only once every worker is
//! joined, sharing the joins with any other caller doing the same.
//! Each job carries the submitter's context as a [`Snapshot`](contexture_ctxvar::Snapshot)
//! (one pointer) and runs in a fresh context made from it, dropped with what the job set;
//! the worker drops its references to the values of a run of jobs with the same ones
//! together, at the latest when a job ends with nothing queued behind it or somebody
//! waits for it or registered a callback on it (before its waiters are woken), or before a
//! job with other values runs.
//! A panicking job is caught (`catch_unwind`) and becomes [`TaskError::Panicked`]; the
//! worker goes on. No user code (jobs, callbacks) runs under the pool lock.
//!
//! A job and the state its [`Handle`] watches are one allocation: a slot of the pool's job
//! cache (size classes of 64, 128 and 256 bytes carved from chunks, recycled through a free
//! list; at most 8 MiB a pool, freed once the pool and its last handle are gone; bigger
//! jobs use the global allocator), counted by the handle and the queue. That state is an atomic
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
//! - `map` yields `Result`s: one failed item does not end the iteration. A refused `map`
//!   (shut down or broken pool) is a [`MapError`] holding the items not submitted (Python
//!   raises at the call). Dropping the [`Map`] cancels the jobs not started, even before the
//!   first result was asked for (Python's then runs them all); [`Map::into_handles`] lets
//!   them run.
//!
//! # Performance
//!
//! The targets, and the row of the table below that answers each (2 workers, tiny jobs,
//! per job):
//!
//! - Submit 100,000 jobs keeping the handles, then take every result: ≤ 1.0× the best of
//!   threadpool + a channel and rayon's `spawn` + a channel, all pools in one process
//!   ("submit+result per job (2 workers)", paired) and each pool in a fresh process
//!   ("fresh process submit+result per job", paired: the bench re-runs itself per
//!   contender, so no pool inherits another's heap).
//! - With a request id set (the normal case): ≤ 1.1× the same pool with an empty context
//!   (the "(request id set)" rows against the plain ones): on its bound in the fresh-process
//!   rows of this report (1.11×; 2.5× before the change described below).
//! - ≥ 20× faster than CPython's `ThreadPoolExecutor` (the CPython column).
//! - `map` is reported against rayon's `par_iter` as a ceiling (no handles, no context).
//!
#![doc = include_str!("../benchmarks.md")]
//!
//! What it took (from 540 ns a job): an atomic phase word instead of a task mutex (the lock
//! only on the slow path, its state allocated when first needed), the context as a
//! one-pointer [`Snapshot`](contexture_ctxvar::Snapshot), no idle bookkeeping once every
//! worker runs (a cache line every job wrote from every thread), a submit that skips the
//! pool lock, and job memory of the pool's own: each job lives in a slot of a per-pool
//! cache (size classes of 64, 128 and 256 bytes carved from chunks, a free list under a
//! mutex, at most 8 MiB a pool, all freed when the pool and its last handle are gone)
//! behind its own reference count instead of an `Arc` from the global allocator.
//!
//! Why a cache, and why chunks (analysis of 2026-12-03: `strace`, page-fault counts and
//! callgrind): a batch keeps all its jobs alive until their results are taken, then frees
//! them all at once. From glibc, the freed jobs were coalesced and trimmed back to the
//! kernel after every batch, so the next one faulted the same pages in again, and
//! `malloc`, `free` and `malloc_consolidate` were ~360 of a job's 1,241 instructions
//! (952 with the cache). Recycled slots let later batches reuse the same memory, and
//! carving them from chunks spares a fresh process one `malloc` of fresh heap per job.
//!
//! A request id costs few instructions (+12 a job) but touched one cache line from both
//! sides: the captured context's reference count, incremented by the submitter and, until
//! 2026-12-03, decremented by the worker at each job's end, on the same line as the stamp
//! the worker reads to enter the values. With jobs this cheap, that line moving between the
//! cores per job made a job with a request id 2.5× an empty-context one in a fresh process.
//! Now a job hands its reference back when it set nothing
//! ([`Snapshot::run_keeping`](contexture_ctxvar::Snapshot::run_keeping)), the worker keeps
//! the references of a run of jobs with the same values while more jobs are queued and
//! drops them together (at the end of a job with nothing queued behind it, or that somebody
//! waits for or registered a callback on, before its waiters are woken; before a job with
//! other values; at 64; before it waits for work), and a map version's contents start on
//! the cache line after its counts. Measured, in fresh processes: 2.5× → 1.11× the
//! empty-context job (the report's paired rows).
//!
//! # Cargo features
//!
//! None.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

mod context;
mod error;
mod gate;
mod idle;
mod loom;
mod map;
mod pool;
mod slot;
mod task;
mod wait;

pub use error::{BuildError, CallbackPanicked, MapError, SubmitError, TaskError};
pub use map::Map;
pub use pool::{Builder, ThreadPool};
pub use task::Handle;
pub use wait::{as_completed, wait, AsCompleted, ReturnWhen};

#[cfg(all(test, contexture_loom))]
mod loom_tests;
