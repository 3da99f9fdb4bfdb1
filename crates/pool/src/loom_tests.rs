//! Loom models of one job's task protocol (`crate::task`): the phase word's single owner,
//! the outcome published by `DONE`, waiters parking on the slow path, done callbacks added
//! while the job ends, and the async waker; the gate of the lock-free submit path; and the
//! idle-worker count's take-back before user code; and job memory (`crate::slot`): the
//! job's reference count and its cache, released on several threads. Run by `cargo xtask test-all`:
//! `RUSTFLAGS="--cfg contexture_loom" LOOM_MAX_PREEMPTIONS=2 cargo test -p contexture-pool --release --lib loom`.
//! Run time on the 2-core machine: 0.5 s for all eleven models together (after the build).
//! Mutation check (reverted): an ender that publishes `DONE` with its compare-and-swap even
//! when `SLOW` is set (so it skips the slow lock) was reported by loom as a deadlock (a
//! parked waiter, a pending callback or a waker never served) in three of the five models.

use std::sync::Arc;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

use crate::context::{Captured, Kept};
use crate::pool::{new_job, Runnable};
use crate::slot::{CacheOwner, JobRef};
use crate::task::Handle;
use crate::TaskError;

/// A job that counts its runs and returns 7, with its handle. Its slot comes from a cache
/// whose owner (the pool) is gone at once: the last reference frees the cache.
fn counted_job(runs: &Arc<AtomicUsize>) -> (JobRef<dyn Runnable>, Handle<u8>) {
    let runs = runs.clone();
    let cache = CacheOwner::new();
    let (handle, job) = new_job(
        &cache,
        move || {
            runs.fetch_add(1, Ordering::Relaxed);
            7
        },
        Captured::capture(false),
    );
    (job, handle)
}

/// Runs the job as a worker does (no idle count), waking the waker it hands back.
fn run(job: &JobRef<dyn Runnable>) {
    if let Some(waker) = job.run(&|| {}, false, &mut Kept::new(), &mut || false) {
        waker.wake();
    }
}

/// A worker starting the job races a cancel: exactly one wins; a cancelled job never runs,
/// and the outcome says which happened.
#[test]
fn start_races_cancel() {
    loom::model(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let (job, handle) = counted_job(&runs);
        let worker = thread::spawn(move || run(&job));
        let cancelled = handle.cancel();
        worker.join().unwrap();
        assert_eq!(runs.load(Ordering::Relaxed), usize::from(!cancelled));
        assert_eq!(handle.cancelled(), cancelled);
        let expected = if cancelled {
            Err(TaskError::Cancelled)
        } else {
            Ok(7)
        };
        assert_eq!(handle.result(), expected);
    });
}

/// The waiter takes the slow path (loom's backoff never spins) while the worker ends the
/// job: it is woken, and finds the outcome.
#[test]
fn waiter_parks_while_the_job_ends() {
    loom::model(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let (job, handle) = counted_job(&runs);
        let worker = thread::spawn(move || run(&job));
        assert_eq!(handle.result(), Ok(7));
        worker.join().unwrap();
        assert_eq!(runs.load(Ordering::Relaxed), 1);
    });
}

/// A done callback added while the job ends runs exactly once, before the job counts as
/// done (on the worker, or at once on this thread when it had already ended).
#[test]
fn callback_added_while_the_job_ends() {
    loom::model(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let (job, handle) = counted_job(&runs);
        let worker = thread::spawn(move || run(&job));
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        handle
            .add_done_callback(move |outcome| {
                assert_eq!(outcome, Ok(&7));
                c.fetch_add(1, Ordering::Relaxed);
            })
            .unwrap();
        handle.wait();
        assert_eq!(calls.load(Ordering::Relaxed), 1, "done means callbacks ran");
        worker.join().unwrap();
        assert_eq!(handle.result(), Ok(7));
    });
}

/// A worker, a cancel and a shutdown failing the job race: the job ends exactly once (one
/// outcome, run at most once) and a waiter sees it.
#[test]
fn run_cancel_and_fail_end_the_job_once() {
    loom::model(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let (job, handle) = counted_job(&runs);
        let failer = job.clone();
        let worker = thread::spawn(move || run(&job));
        let shutdown = thread::spawn(move || failer.fail(TaskError::BrokenPool("x".into())));
        let cancelled = handle.cancel();
        let failed = shutdown.join().unwrap();
        worker.join().unwrap();
        let ran = runs.load(Ordering::Relaxed);
        assert_eq!(ran + usize::from(cancelled) + usize::from(failed), 1);
        let outcome = handle.result();
        match (ran, cancelled) {
            (1, _) => assert_eq!(outcome, Ok(7)),
            (_, true) => assert_eq!(outcome, Err(TaskError::Cancelled)),
            _ => assert_eq!(outcome, Err(TaskError::BrokenPool("x".into()))),
        }
    });
}

/// `.await` on a handle while the worker ends the job: the waker is registered or the
/// outcome seen, never neither.
#[test]
fn awaiting_while_the_job_ends() {
    loom::model(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let (job, handle) = counted_job(&runs);
        let worker = thread::spawn(move || run(&job));
        assert_eq!(loom::future::block_on(handle), Ok(7));
        worker.join().unwrap();
    });
}

/// Two submits on the fast path race the gate's closing (shutdown): each is either refused
/// or seen by the closer, with what it did before dropping its pass (a write to a plain
/// cell, which loom checks for a data race) visible.
///
/// Mutation check (reverted): with `Relaxed` instead of Release in `Pass::drop`, loom
/// reports the closer's read of the cell as a data race.
#[test]
fn gate_closing_sees_every_accepted_submit() {
    use crate::gate::Gate;
    use crate::loom::UnsafeCell;

    struct Queue(UnsafeCell<usize>);
    // SAFETY: the model checks exactly this: writes happen before a closer reads them.
    unsafe impl Sync for Queue {}

    loom::model(|| {
        let gate = Arc::new(Gate::new());
        let queued: Arc<[Queue; 2]> =
            Arc::new([Queue(UnsafeCell::new(0)), Queue(UnsafeCell::new(0))]);
        let submits: Vec<_> = (0..2)
            .map(|i| {
                let (gate, queued) = (gate.clone(), queued.clone());
                thread::spawn(move || {
                    let Some(_pass) = gate.enter() else {
                        return false;
                    };
                    // SAFETY: only this thread writes cell `i`, before dropping its pass.
                    queued[i].0.with_mut(|n| unsafe { *n += 1 });
                    true
                })
            })
            .collect();
        gate.close();
        // SAFETY: after `close`, every pass is dropped and nobody writes any more.
        let seen: Vec<usize> = queued.iter().map(|q| q.0.with(|n| unsafe { *n })).collect();
        for (i, submit) in submits.into_iter().enumerate() {
            let accepted = submit.join().unwrap();
            assert_eq!(seen[i], usize::from(accepted), "closer saw submit {i}?");
        }
        assert!(gate.enter().is_none(), "closed for good");
    });
}

/// Two threads add late callbacks to an ended job at the same time: one lends the outcome
/// and runs both (or each runs its own, one after the other); each callback runs exactly
/// once. Mutation check (reverted): a lender that stops without draining the callbacks
/// added meanwhile is caught (one callback never runs).
#[test]
fn late_callbacks_from_two_threads_run_once_each() {
    loom::model(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let (job, handle) = counted_job(&runs);
        run(&job); // ended before anyone adds a callback
        let handle = Arc::new(handle);
        let calls = Arc::new(AtomicUsize::new(0));
        let adders: Vec<_> = (0..2)
            .map(|_| {
                let (handle, calls) = (handle.clone(), calls.clone());
                thread::spawn(move || {
                    handle
                        .add_done_callback(move |outcome| {
                            assert_eq!(outcome, Ok(&7));
                            calls.fetch_add(1, Ordering::Relaxed);
                        })
                        .unwrap();
                })
            })
            .collect();
        for adder in adders {
            adder.join().unwrap();
        }
        assert_eq!(calls.load(Ordering::Relaxed), 2);
    });
}

/// A callback registered while the job is pending, then a cancel racing a worker: the
/// callback runs exactly once, with the outcome that won, before the job counts as done.
#[test]
fn callback_registered_while_pending_then_cancel_races_the_worker() {
    loom::model(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let (job, handle) = counted_job(&runs);
        let seen = Arc::new(AtomicUsize::new(0));
        let s = seen.clone();
        handle
            .add_done_callback(move |outcome| {
                // 1: ran, 2: cancelled.
                let code = if outcome.is_ok() { 1 } else { 2 };
                assert_eq!(s.swap(code, Ordering::Relaxed), 0, "a callback runs once");
            })
            .unwrap();
        let worker = thread::spawn(move || run(&job));
        let cancelled = handle.cancel();
        handle.wait();
        let code = seen.load(Ordering::Relaxed);
        assert_eq!(
            code,
            if cancelled { 2 } else { 1 },
            "done means the callback ran"
        );
        worker.join().unwrap();
    });
}

/// Issue #11, item 8a: two workers have each ended a job and counted themselves idle, and
/// each then runs user code (its waker, an outcome's `Drop`) that submits a job and waits
/// for it. A submit claims an idle token or starts a worker; a worker takes a token back
/// before such user code ([`Idle::take_back`](crate::idle::Idle)), or, when none is left,
/// starts a spare worker. Both workers are blocked in their user code until the jobs they
/// submitted are done, so some other worker must have been started: otherwise each job
/// waits for a worker that waits for it.
///
/// Mutation check (reverted): without the take-back (the user code runs on a worker still
/// counted idle), loom reports the interleaving where each submit claims the other
/// worker's token and nobody starts a worker.
#[test]
fn a_worker_running_user_code_after_counting_itself_idle_is_never_claimed() {
    use crate::idle::Idle;

    fn submit(idle: &Idle, started: &AtomicUsize) {
        if !idle.claim() {
            started.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A worker's end of a job, then the protocol around its user code (which submits).
    fn worker(idle: &Idle, started: &AtomicUsize) {
        idle.add();
        if idle.take_back() {
            submit(idle, started);
            idle.add();
        } else {
            started.fetch_add(1, Ordering::Relaxed); // the spare worker
            submit(idle, started);
        }
    }

    loom::model(|| {
        let idle = Arc::new(Idle::new());
        let started = Arc::new(AtomicUsize::new(0)); // workers other than these two
        let other = {
            let (idle, started) = (idle.clone(), started.clone());
            thread::spawn(move || worker(&idle, &started))
        };
        worker(&idle, &started);
        other.join().unwrap();
        assert!(
            started.load(Ordering::Relaxed) >= 1,
            "each submitted job waits for a worker that waits for it"
        );
    });
}

/// Job memory (`crate::slot`): the handle and the queue drop their references to a job on
/// two threads while the pool (the cache's owner) goes on a third. The job is dropped once,
/// after both are done with it (loom checks the outcome cell's accesses against the drop,
/// so a reference count without Acquire on the last decrement is caught), and the cache
/// is freed by whichever of the three comes last.
///
/// Mutation check (reverted): `Release` instead of `AcqRel` for the count's decrement makes
/// loom report the drop of the outcome racing the worker's write of it.
#[test]
fn job_references_and_the_cache_owner_go_on_three_threads() {
    loom::model(|| {
        let cache = CacheOwner::new();
        let (handle, job) = new_job(&cache, || 7u8, Captured::capture(false));
        let worker = thread::spawn(move || {
            run(&job);
            drop(job);
        });
        let owner = thread::spawn(move || drop(cache));
        assert_eq!(handle.result(), Ok(7));
        worker.join().unwrap();
        owner.join().unwrap();
    });
}

/// Two jobs of one cache, each released on its own thread while a third submits again:
/// a slot given back is taken again or stays on the free list, never handed out twice.
#[test]
fn slots_given_back_and_taken_again_concurrently() {
    loom::model(|| {
        let cache = Arc::new(CacheOwner::new());
        let (h1, j1) = new_job(&cache, || 1u8, Captured::capture(false));
        let (h2, j2) = new_job(&cache, || 2u8, Captured::capture(false));
        drop((j1, j2)); // never run: dropping the handles cancels nothing, drops the closures
        let a = thread::spawn(move || drop(h1));
        let b = thread::spawn(move || drop(h2));
        let c = {
            let cache = cache.clone();
            thread::spawn(move || {
                let (h, j) = new_job(&cache, || 3u8, Captured::capture(false));
                run(&j);
                h.result()
            })
        };
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(c.join().unwrap(), Ok(3));
    });
}
