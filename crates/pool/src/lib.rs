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
//! `cargo xtask bench pool` (2 workers each, per job, ours and the anchors in one process).
//! The submit + result contenders run interleaved, batch by batch (100,000 jobs a batch), and
//! the bench also prints, per round of batches, ours ÷ each anchor measured in that round:
//! this machine drifts between regimes minutes apart (the same pool at 90, 160 or 300 ns per
//! job), so those paired medians are the numbers to compare; criterion's means are shown too.
//!
//! | operation | contexture | anchors | target |
//! |---|---:|---|---|
//! | submit + result, tiny jobs (paired medians, 428 rounds; 2026-12-03 16:09, load 17–19) | 439 ns (392 ns without context propagation) | threadpool+channel 475 ns, rayon spawn+channel 725 ns, tokio `spawn_blocking` 1,694 ns | ≤ 1.0× the best: **met, 1.00×** the best anchor of each round, 0.93× threadpool (a run at 16:01: 1.02×, 0.97×) |
//! | the same, criterion means (same run) | 516 ns | threadpool+channel 453 ns, rayon 1,078 ns, tokio 2,174 ns | 1.14×: criterion's means come from minutes apart on a machine at load 18; the paired row is the one to trust |
//! | `map` in order, per item (an earlier, quiet run) | 321 ns | rayon `par_iter` (ceiling) 2.4 ns, threadpool+channel 442 ns | report: 0.73× threadpool, 134× the ceiling |
//! | submit + result vs Python (an earlier, quiet run) | 151–177 ns | CPython `ThreadPoolExecutor` 13.0 µs | ≥ 20× faster: met (74–86×) |
//!
//! What it took (from 540 ns): an atomic phase word instead of a task mutex (the lock only
//! on the slow path, its state allocated when first needed), the context as a one-pointer
//! [`Snapshot`](contexture_ctxvar::Snapshot), no idle bookkeeping once every worker runs (a
//! cache line every job wrote from every thread), a submit that skips the pool lock, and
//! job memory of the pool's own: each job lives in a slot of a per-pool cache (size classes
//! of 64, 128 and 256 bytes carved from chunks, a free list under a mutex, at most 8 MiB a
//! pool, all freed when the pool and its last handle are gone) behind its own reference
//! count instead of an `Arc` from the global allocator.
//!
//! Issue #15's regime, **each pool in a fresh process** (`cargo bench -p contexture-bench
//! --bench pool -- "pool fresh"`: the bench binary re-runs itself once per contender per
//! round, the order rotating and flipping every round; each process builds its pool and
//! runs 3 batches of 100,000 tiny jobs, submit all keeping the handles, then every result
//! summed; the anchors send each result on one shared channel; ns per job is the median of
//! a process's batches, the ratio the median over rounds of ours ÷ the best anchor of the
//! same round). Measured 2026-12-03 16:12 with the machine's load average at 19–24 (other
//! sessions on the two cores), 40 rounds:
//!
//! | contender | wall ns/job | 1st batch | user CPU ms / process | minor faults / process | ratio to the best anchor (wall) | target |
//! |---|---:|---:|---:|---:|---|---|
//! | contexture, empty context | 673 | 802 | 60 | 2,816 | 0.93× (14 of 40 rounds > 1) | ≤ 1.0×: **met** in this run (three of the five runs below) |
//! | contexture, a request id set | 793 | 902 | 60 | 2,799 | 1.07× (25 of 40 rounds > 1) | ≤ 1.1× the empty case: **missed, 1.16×** |
//! | contexture, no context propagation | 706 | 761 | 60 | 2,812 | 0.97× | — |
//! | threadpool + mpsc | 775 | 766 | 70 | 1,715 | best | anchor |
//! | rayon spawn + crossbeam-channel | 991 | 1,053 | 90 | 1,879 | — | anchor |
//!
//! The ratio moves with the machine's load: five runs in 16:00–16:13 gave 0.86×, 1.63×
//! (while a Miri run took part of a core), 0.92×, 1.01× and the 0.93× above for the empty
//! context, and 1.05–1.19× for a request id set over the empty one. Per job under callgrind
//! (2 batches of 20,000 more, so start-up cancels out): 952 instructions, 964 with a request
//! id set, 826 without context (before the slot cache: 1,241); over a whole process of 4
//! batches, 960 against threadpool's 778. The request id's extra time is not instructions (+12) but one cache
//! line: the captured context's reference count, incremented by the submitter and
//! decremented by whichever worker ends the job; that count lives in
//! `contexture-ctxvar`'s `Snapshot`, which a job consumes when it runs.
//!
//! Why a cache, and why chunks: a batch keeps all its jobs alive until their results are
//! taken, then frees them all at once. From glibc (each job its own `Arc`), the freed jobs
//! were coalesced and trimmed back to the kernel (`strace`: a `brk` shrink of 1,100–3,100
//! pages after every batch), so the next batch faulted them in again, and `malloc`, `free`
//! and `malloc_consolidate` were ~360 of a job's 1,241 instructions. With slots recycled
//! through the cache, later batches reuse the same memory (faults per process 4,800 →
//! 2,800, most of them now the first batch's footprint: 6.4 MB of 64-byte jobs and the
//! caller's 1.6 MB of handles), and carving slots from chunks spares the first batch one
//! `malloc` of fresh memory per job (~200 instructions each on a fresh heap): with one
//! `malloc` per slot, the fresh-process ratio was 0.92×, 1.18× and 1.28× in three runs.
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
