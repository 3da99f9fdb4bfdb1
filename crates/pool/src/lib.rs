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
//! - `map` yields `Result`s: one failed item does not end the iteration. A refused `map`
//!   (shut down or broken pool) is a [`MapError`] holding the items not submitted (Python
//!   raises at the call). Dropping the [`Map`] cancels the jobs not started, even before the
//!   first result was asked for (Python's then runs them all); [`Map::into_handles`] lets
//!   them run.
//!
//! # Performance
//!
//! `cargo xtask bench pool` (2 workers each, per job, ours and the anchors in one process).
//! The submit + result contenders run interleaved, batch by batch (100,000 jobs a batch), and
//! the bench also prints, per round of batches, ours ÷ each anchor measured in that round:
//! this machine drifts between regimes minutes apart (the same pool at 90, 160 or 300 ns per
//! job), so those paired medians are the numbers to compare; criterion's means are shown too.
//!
//! | operation | contexture | anchors | target |
//! |---|---:|---|---|
//! | submit + result, tiny jobs (paired medians, 1,400+ rounds) | 151 ns (155 ns without context propagation) | threadpool+channel 161 ns, rayon spawn+channel 267 ns, tokio `spawn_blocking` 610 ns | ≤ 1.0× the best: **met, 0.94×** (0.92–0.94× over three runs) |
//! | the same, criterion means | 177 ns | threadpool+channel 190 ns, rayon 280 ns, tokio 518 ns | 0.93× |
//! | `map` in order, per item | 321 ns | rayon `par_iter` (ceiling) 2.4 ns, threadpool+channel 442 ns | report: 0.73× threadpool, 134× the ceiling |
//! | submit + result vs Python | 151–177 ns | CPython `ThreadPoolExecutor` 13.0 µs | ≥ 20× faster: met (74–86×) |
//!
//! What it took (from 540 ns): an atomic phase word instead of a task mutex (the lock only
//! on the slow path, its state allocated when first needed), the context as a one-pointer
//! [`Snapshot`](contexture_ctxvar::Snapshot), no idle bookkeeping once every worker runs (a
//! cache line every job wrote from every thread), and a submit that skips the pool lock. On
//! this machine the rest is mostly memory: glibc's arena lock and fresh heap pages for the
//! 96-byte jobs that a batch keeps alive until their results are taken.
//!
//! Issue #15's regime, **each pool in a fresh process** (`cargo bench -p contexture-bench
//! --bench pool -- "pool fresh"`: the bench binary re-runs itself once per contender per
//! round, the order rotating and flipping every round; each process builds its pool and
//! runs 3 batches of 100,000 tiny jobs, submit all keeping the handles, then every result
//! summed; the anchors send each result on one shared channel). Measured on 2026-12-03 with
//! the machine's load average at 14–18 (other sessions on the two cores): every process got
//! about a quarter of a core, so wall times are 3–6× the quiet ones and mostly measure how a
//! pool fares when starved; CPU time (`perf stat` task-clock, 6 rounds) is the steadier
//! column:
//!
//! | contender | wall ns/job (10 rounds) | CPU ms / process | minor faults / process | ratio to the best anchor (wall) | target |
//! |---|---:|---:|---:|---|---|
//! | contexture, empty context | 1,337 | 115 (101 later) | 4,541–4,782 | 2.72× | ≤ 1.0×: **missed** (CPU 1.28–1.44× threadpool's) |
//! | contexture, a request id set | 1,496 | 118 | 4,196–4,336 | 2.38× | ≤ 1.1× the empty case: met (1.02× wall, 1.02× CPU) |
//! | contexture, no context propagation | 1,270 | 113 | 3,535–5,231 | 2.23× | — |
//! | threadpool + mpsc | 686 | 80 | 1,592–1,755 | best | anchor |
//! | rayon spawn + crossbeam-channel | 1,381 | 105 | 1,923–2,416 | — | anchor |
//!
//! The same day and load, all pools in one process (`submit_and_wait`, 395 paired rounds):
//! contexture 1,024 ns, without context 856 ns, threadpool 886 ns, rayon 997 ns per job:
//! 1.27× the best anchor (1.11× without context), where the quiet run above gave 0.94×.
//!
//! Why the faults: a batch keeps all its jobs alive until their results are taken (100,000
//! jobs of 96 bytes each, plus the queue's blocks and the caller's 1.6 MB of handles), then
//! frees them all at once; glibc coalesces them into the top of the heap and, past its trim
//! threshold, gives the pages back to the kernel (`strace`: a `brk` shrink of 1,100–3,100
//! pages after every batch), so the next batch faults them in again. threadpool's jobs are
//! freed by its workers as they run, so its heap stays small. With the trim disabled
//! (`MALLOC_TRIM_THRESHOLD_`), ours took 3,119 faults instead of 4,584 for 3 batches, but the
//! same CPU time: the first batch's faults (the footprint) are the part that costs. The
//! outcome cell now boxes the error, which made a job 80 bytes instead of 96 (first-batch
//! faults 3,000–3,180 → 2,610–2,730). Keeping job memory across batches needs the pool to
//! own its jobs' allocations (a job type with its own reference count and a bounded
//! free list instead of `Arc`): not done. Per job (callgrind, 2 batches of 20,000): 1,220
//! instructions against threadpool's 794; glibc `malloc`/`free` take ~300 of them, the
//! context ~120 even when empty (capture 18, enter/leave ~65, dropping the empty map 36).
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
